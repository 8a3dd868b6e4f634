"""The release binary under the Lambda Runtime Interface Emulator, against moto."""

from __future__ import annotations

import json

import pytest

import harness

MONITORED = {
    # trails
    "stop-logging": "CRITICAL",
    "service-stop-logging": "CRITICAL",
    "delete-trail": "CRITICAL",
    "update-trail-weakens": "HIGH",
    "update-trail-kms-other-account": "HIGH",
    "update-trail-cloudwatch-role-cleared": "HIGH",
    "update-trail-log-group": "HIGH",
    "update-trail-s3-prefix": "HIGH",
    "update-trail-benign": "MEDIUM",
    "update-trail-other-region": "MEDIUM",
    "root-update-trail": "HIGH",
    "create-trail": "LOW",
    "create-trail-failed": "INFORMATIONAL",
    "start-logging": "INFORMATIONAL",
    "stop-logging-access-denied": "HIGH",
    "put-event-selectors-read-only": "HIGH",
    "put-event-selectors-advanced-no-management": "HIGH",
    "put-event-selectors-benign": "LOW",
    "put-insight-selectors-off": "MEDIUM",
    # CloudTrail Lake
    "delete-event-data-store": "CRITICAL",
    "stop-event-data-store-ingestion": "CRITICAL",
    "update-event-data-store-weakens": "HIGH",
    "update-event-data-store-benign": "LOW",
    "put-event-configuration-standard": "MEDIUM",
    "put-event-configuration-large": "LOW",
    "put-event-configuration-trail-aggregation": "LOW",
    # the trail's delivery chain: its bucket, KMS key and log group
    "put-bucket-lifecycle-1-day": "CRITICAL",
    "put-bucket-lifecycle-90-days": "HIGH",
    "put-bucket-policy": "HIGH",
    "delete-bucket-policy": "HIGH",
    "delete-bucket": "CRITICAL",
    "disable-key": "CRITICAL",
    "schedule-key-deletion": "CRITICAL",
    "put-key-policy": "HIGH",
    "delete-log-group": "HIGH",
    "delete-metric-filter": "MEDIUM",
    "delete-subscription-filter": "MEDIUM",
    "put-retention-policy-30-days": "MEDIUM",
    # the trail bucket's other doors (test_bucket_doors.py: the same calls on other buckets)
    "put-bucket-versioning-suspended": "HIGH",
    "put-bucket-versioning-enabled": "LOW",
    "put-bucket-versioning-mfa-delete-off": "HIGH",
    "put-bucket-replication-other-account": "HIGH",
    "put-bucket-replication-same-account": "LOW",
    "put-bucket-logging-off": "MEDIUM",
    "put-bucket-logging-on": "LOW",
    "put-bucket-public-access-block-off": "HIGH",
    "put-bucket-public-access-block-on": "LOW",
    "delete-bucket-public-access-block": "HIGH",
    "put-bucket-acl-public": "CRITICAL",
    "put-bucket-acl-private": "LOW",
    # AWS Config, the other recorder (test_config_monitor.py plays each with Config set up).
    "config-stop-configuration-recorder": "HIGH",
    "config-delete-configuration-recorder": "HIGH",
    "config-delete-service-linked-configuration-recorder": "HIGH",
    "config-delete-delivery-channel": "HIGH",
    "config-put-configuration-recorder-narrowed": "MEDIUM",
    "config-put-configuration-recorder-all": "LOW",
    "config-disassociate-resource-types": "MEDIUM",
    "config-put-delivery-channel": "MEDIUM",
    "config-put-retention-configuration-30-days": "MEDIUM",
    "config-put-retention-configuration-7-years": "LOW",
    "config-delete-retention-configuration": "LOW",
    "config-delete-config-rule": "MEDIUM",
    "config-delete-conformance-pack": "MEDIUM",
    "config-delete-configuration-aggregator": "MEDIUM",
    # AWS Security Hub (test_securityhub_monitor.py plays each with Security Hub enabled).
    "securityhub-disable-security-hub": "HIGH",
    "securityhub-disable-security-hub-v2": "HIGH",
    "securityhub-disassociate-from-administrator-account": "HIGH",
    "securityhub-disassociate-from-master-account": "HIGH",
    "securityhub-batch-disable-standards": "MEDIUM",
    "securityhub-disable-cloudtrail-control": "HIGH",
    "securityhub-enable-controls": "LOW",
    "securityhub-disable-import-findings-for-product": "MEDIUM",
    "securityhub-create-automation-rule-suppresses": "MEDIUM",
    "securityhub-create-automation-rule-notes": "LOW",
    "securityhub-batch-update-automation-rules-resolves": "MEDIUM",
    "securityhub-create-automation-rule-v2-suppresses": "MEDIUM",
    "securityhub-update-automation-rule-v2-comments": "LOW",
    "securityhub-batch-update-findings-suppresses-trailwatch": "MEDIUM",
    "securityhub-batch-update-findings-notified": "LOW",
    # Amazon GuardDuty (test_guardduty_monitor.py plays each with a detector).
    "guardduty-delete-detector": "HIGH",
    "guardduty-update-detector-disable": "HIGH",
    "guardduty-update-detector-features-off": "MEDIUM",
    "guardduty-update-detector-frequency": "LOW",
    "guardduty-disassociate-from-administrator-account": "HIGH",
    "guardduty-disassociate-from-master-account": "HIGH",
    "guardduty-disassociate-members": "HIGH",
    "guardduty-delete-members": "HIGH",
    "guardduty-stop-monitoring-members": "HIGH",
    "guardduty-update-member-detectors-off": "MEDIUM",
    "guardduty-update-member-detectors-on": "LOW",
    "guardduty-create-filter-archive": "MEDIUM",
    "guardduty-create-filter-noop": "LOW",
    "guardduty-update-filter-archive": "MEDIUM",
    "guardduty-update-filter-description": "LOW",
    "guardduty-create-ip-set-active": "MEDIUM",
    "guardduty-create-ip-set-inactive": "LOW",
    "guardduty-update-ip-set-location": "MEDIUM",
    "guardduty-update-ip-set-deactivate": "LOW",
    "guardduty-create-trusted-entity-set-active": "MEDIUM",
    "guardduty-create-trusted-entity-set-inactive": "LOW",
    "guardduty-update-trusted-entity-set-active": "MEDIUM",
    "guardduty-update-trusted-entity-set-name": "LOW",
    "guardduty-delete-publishing-destination": "MEDIUM",
    # AWS Organizations (test_organizations_monitor.py plays each in an organization).
    "organizations-leave-organization": "HIGH",
    "organizations-disable-aws-service-access-cloudtrail": "HIGH",
    "organizations-disable-aws-service-access-guardduty": "HIGH",
    "organizations-disable-aws-service-access-other": "LOW",
}
# not-monitored: a call the function does not watch. put-bucket-lifecycle-unrelated-bucket: a
# watched call on a bucket no trail delivers to (the rule pattern cannot tell; the function can).
IGNORED = {
    "not-monitored",
    "put-bucket-lifecycle-unrelated-bucket",
    "disable-rule-not-trailwatchs",
    "delete-alarms-not-trailwatchs",
    "detach-role-policy-not-trailwatchs",
}
# trailwatch's own heartbeat: counted, nothing alerted (tests/e2e/test_own_doors.py).
HEARTBEAT = {"heartbeat"}
# Calls on trailwatch's own key, rules, topics and function (named in the function's environment
# by the harness, as the template does): CRITICAL, on the health topic, never the alert topic.
SELF_PROTECTION = {
    "disable-own-key": "key",
    "disable-rule": "rule",
    "delete-rule": "rule",
    "remove-targets": "rule",
    "delete-topic": "topic",
    "set-topic-attributes": "topic",
    "unsubscribe": "topic",
    "delete-function": "function",
    "update-function-configuration": "function",
    "put-function-concurrency": "function",
    "remove-permission": "function",
    # Every own door (issue 16): each in the monitor of its service.
    "put-rule-disabled": "rule",
    "put-targets": "rule",
    "remove-permission-event-bus": "event-bus",
    "delete-event-bus": "event-bus",
    "update-function-code": "function",
    "put-function-event-invoke-config": "function",
    "delete-function-event-invoke-config": "function",
    "update-function-event-invoke-config": "function",
    "set-subscription-attributes": "topic",
    "put-metric-filter-own": "log-group",
    "delete-own-log-group": "log-group",
    "purge-queue": "queue",
    "delete-queue": "queue",
    "set-queue-attributes": "queue",
    "disable-alarm-actions": "alarm",
    "delete-alarms": "alarm",
    "put-metric-alarm": "alarm",
    "put-alarm-mute-rule": "alarm",
    "attach-role-policy": "role",
    "detach-role-policy": "role",
    "put-role-policy": "role",
    "delete-role-policy": "role",
    "put-role-permissions-boundary": "role",
    "update-assume-role-policy": "role",
    "forged-heartbeat": "parameter",
    "delete-heartbeat-parameter": "parameter",
    "remove-tags-from-heartbeat": "parameter",
}

# Successful changes that weaken a trail: the alert says whether a trail still covers the account.
WEAKENING = {
    "update-trail-weakens",
    "update-trail-kms-other-account",
    "update-trail-cloudwatch-role-cleared",
    "update-trail-log-group",
    "update-trail-s3-prefix",
    "put-event-selectors-read-only",
    "put-event-selectors-advanced-no-management",
    # Not a weakening, but judged the same way: the organization's trails no longer record
    # the account, so the verdict is whether the account's own trail does.
    "organizations-leave-organization",
}
# Successful calls that end a trail's recording: the trail itself never counts as covering.
ENDS_A_TRAIL = {"stop-logging", "service-stop-logging", "delete-trail"}
# Successful UpdateTrail calls on management-events (docs/alerts.md: found not logging → at least HIGH).
UPDATES_OF_THE_SEEDED_TRAIL = {"update-trail-benign", "root-update-trail"}

RESOURCE_KINDS = {"s3.amazonaws.com": "bucket", "kms.amazonaws.com": "key", "logs.amazonaws.com": "log-group"}
NO_COVERING_TRAIL = "no active multi-region trail remains"


def load(sample: str) -> dict:
    return harness.load_event(harness.EVENTS / f"{sample}.json")


def test_every_sample_is_classified_here():
    samples = {path.stem for path in harness.EVENTS.glob("*.json")}
    assert samples == set(MONITORED) | IGNORED | set(SELF_PROTECTION) | HEARTBEAT, "add new samples to MONITORED, SELF_PROTECTION, IGNORED or HEARTBEAT"


def expected_severity(sample: str, logging: bool) -> str:
    """The sample's severity in world(logging=...): with management-events stopped, eu-audit
    (single-region) is the only logging trail, so no weakening change leaves a covering trail."""
    if not logging and sample in WEAKENING:
        return "CRITICAL"
    if not logging and sample in UPDATES_OF_THE_SEEDED_TRAIL:
        return "HIGH"
    return MONITORED[sample]


def expected_verdict(sample: str, logging: bool) -> str | None:
    """The coverage verdict without any replay: the seeded trail is as seed() left it."""
    if sample in ENDS_A_TRAIL:
        return "uncovered"
    if sample in WEAKENING:
        return "covered" if logging else "uncovered"
    return None


CONFIG_KINDS = {
    "DeliveryChannel": "delivery-channel", "RetentionConfiguration": "config-retention",
    "ConfigRule": "config-rule", "ConformancePack": "conformance-pack",
    "ConfigurationAggregator": "config-aggregator",
}


def resource_kind(event: dict) -> str:
    detail = event["detail"]
    if detail["eventSource"] == "cloudtrail.amazonaws.com":
        # PutEventConfiguration names a store or a trail.
        named_store = "eventDataStore" in (detail["requestParameters"] or {})
        return "event-data-store" if "EventDataStore" in detail["eventName"] or named_store else "trail"
    if detail["eventSource"] == "config.amazonaws.com":
        return next((kind for noun, kind in CONFIG_KINDS.items() if detail["eventName"].endswith(noun)), "config-recorder")
    if detail["eventSource"] == "securityhub.amazonaws.com":
        return "automation-rule" if detail["eventName"].startswith("CreateAutomationRule") else "security-hub"
    if detail["eventSource"] == "guardduty.amazonaws.com":
        return "guardduty-detector"
    if detail["eventSource"] == "organizations.amazonaws.com":
        return "organization"
    return RESOURCE_KINDS[detail["eventSource"]]


def names(entries: list, name: str, arn: str) -> bool:
    """A coveringTrails list names a trail by ARN or by name."""
    return arn in entries or name in entries


def actual_is_logging(moto, alert) -> bool | None:
    """What moto says about the alert's trail right now, or None when it has no such trail."""
    resource = alert["resource"]
    client = moto.client("cloudtrail", resource["region"] or harness.HOME_REGION)
    try:
        return client.get_trail_status(Name=resource["arn"] or resource["name"])["IsLogging"]
    except client.exceptions.TrailNotFoundException:
        return None


def trail_is_logging(alert) -> bool | None:
    state = alert["resourceState"]
    assert state["type"] == "trail", state
    return (state["status"] or {}).get("isLogging")


def check_resource_state(moto, message, kind: str) -> None:
    alert = message.alert
    state = alert["resourceState"]
    if kind == "trail":
        assert message.attributes["trail"] == alert["resource"]["name"]
        is_logging = trail_is_logging(alert)
        assert is_logging == actual_is_logging(moto, alert)
        if is_logging is None:
            assert "TrailNotFound" in alert["enrichmentError"]
        else:
            assert alert["enrichmentError"] is None, alert["enrichmentError"]
    elif kind.startswith(("config-", "conformance-", "delivery-")):
        # Here Config was never set up in moto: no recorder records in the region, and the
        # alert says so (test_config_monitor.py has a recorder).
        assert state == {"type": "configRecorders", "region": harness.HOME_REGION, "recorders": []}, state
        assert message.attributes["trail"] == "unknown"
        assert alert["enrichmentError"] is None, alert["enrichmentError"]
    elif kind in ("security-hub", "automation-rule"):
        assert message.attributes["trail"] == "unknown"
        if alert["event"]["name"].endswith("V2"):
            # The new Security Hub's state is not read: DescribeHub answers for CSPM only.
            assert state["type"] == "notLookedUp", state
            assert "new Security Hub" in (alert["enrichmentError"] or ""), alert["enrichmentError"]
        else:
            # Here Security Hub was never enabled in moto: DescribeHub says so, and so does the
            # alert (test_securityhub_monitor.py enables it).
            assert state == {"type": "securityHub", "region": harness.HOME_REGION, "enabled": False}, state
            assert alert["enrichmentError"] is None, alert["enrichmentError"]
    elif kind == "guardduty-detector":
        # Here GuardDuty was never set up in moto: no detector in the region, and the alert says
        # so (test_guardduty_monitor.py has one).
        assert state == {"type": "guardDuty", "region": harness.HOME_REGION, "detectors": []}, state
        assert message.attributes["trail"] == "unknown"
        assert alert["enrichmentError"] is None, alert["enrichmentError"]
    elif kind == "organization":
        assert message.attributes["trail"] == "unknown"
        if alert["event"]["name"] == "LeaveOrganization":
            # The state is the coverage verdict (check_coverage); nothing else is read.
            assert state == {"type": "notLookedUp"}, state
            assert alert["enrichmentError"] is None, alert["enrichmentError"]
        else:
            # moto here has no organization, and lists no trusted service
            # (test_organizations_monitor.py has an organization).
            assert state == {"type": "trustedAccess", "services": []}, state
            assert alert["enrichmentError"] is None, alert["enrichmentError"]
    elif kind == "event-data-store":
        # moto has no CloudTrail Lake API (GetEventDataStore answers HTTP 500): the alert still
        # goes out, and says what could not be learned.
        assert state["type"] == "eventDataStore", state
        assert state["status"] is None
        assert alert["resource"]["arn"] == harness.EVENT_DATA_STORE_ARN
        assert message.attributes["trail"] == "unknown"
        assert "GetEventDataStore" in (alert["enrichmentError"] or ""), alert["enrichmentError"]
    else:
        # The bucket, key or log group of management-events: the alert names the trail, and
        # for a bucket's door, what protects the bucket now (test_bucket_doors.py).
        doors = state.pop("bucket", None)
        door = alert["event"]["name"] in ("PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock", "PutBucketAcl")
        assert (doors is not None) == door, (alert["event"]["name"], doors)
        assert state == {
            "type": "deliveryChain",
            "trails": [{"name": harness.TRAIL, "arn": harness.TRAIL_ARN, "homeRegion": harness.HOME_REGION, "uses": kind}],
        }
        assert message.attributes["trail"] == harness.TRAIL
        if alert["event"]["name"] == "PutBucketVersioning":
            # moto's GetBucketVersioning answer is not S3's shape (test_bucket_doors.py).
            assert "GetBucketVersioning failed" in (alert["enrichmentError"] or ""), alert["enrichmentError"]
        else:
            assert alert["enrichmentError"] is None, alert["enrichmentError"]


def check_coverage(alert, verdict: str | None) -> None:
    coverage = alert["coverage"]
    if verdict is None:
        assert coverage is None, coverage
        return
    assert coverage["verdict"] == verdict, coverage
    if verdict == "uncovered":
        assert alert["severity"] == "CRITICAL"
        assert coverage["coveringTrails"] == []
        assert any(NO_COVERING_TRAIL in reason for reason in alert["reasons"]), alert["reasons"]
    else:
        # Nothing was replayed: management-events is still multi-region, logging, All.
        assert names(coverage["coveringTrails"], harness.TRAIL, harness.TRAIL_ARN), coverage
        assert not any(NO_COVERING_TRAIL in reason for reason in alert["reasons"]), alert["reasons"]


@pytest.mark.parametrize("logging", [True, False], ids=["trail-logging", "trail-stopped"])
@pytest.mark.parametrize("sample", sorted(MONITORED))
def test_each_monitored_sample_delivers_one_alert(function, moto, world, sample, logging):
    inbox = world(logging=logging)
    event = load(sample)
    result = function.invoke(event)
    assert result.function_error is None, result.body
    summary = result.json()
    assert summary["status"] == "published", summary
    assert summary["eventId"] == event["detail"]["eventID"]

    messages = harness.delivered(moto, inbox)
    assert len(messages) == 1
    message = messages[0]
    alert = message.alert
    expected = expected_severity(sample, logging)
    assert message.attributes["severity"] == expected == alert["severity"] == summary["severity"]
    assert message.subject.startswith(f"[{expected}] ")
    assert alert["schemaVersion"] == "2.3"
    assert alert["product"] == "trailwatch"
    assert alert["kind"] == "api-call"
    assert message.attributes["eventName"] == alert["event"]["name"] == event["detail"]["eventName"]
    assert message.attributes["account"] == harness.ACCOUNT
    kind = resource_kind(event)
    assert message.attributes["resourceKind"] == alert["resource"]["kind"] == kind
    assert alert["trustedPrincipal"] is False
    check_resource_state(moto, message, kind)
    check_coverage(alert, expected_verdict(sample, logging))


@pytest.mark.parametrize("sample", sorted(SELF_PROTECTION))
def test_a_call_on_trailwatchs_own_resources_alerts_critical_on_the_health_topic(function, moto, world, sample):
    inbox = world()
    health = harness.health_inbox(moto)
    event = load(sample)
    result = function.invoke(event)
    assert result.function_error is None, result.body
    assert result.json()["status"] == "published", result.body
    assert harness.delivered(moto, inbox) == [], "not on the alert topic, whose key or rule may be the one attacked"
    [message] = harness.delivered(moto, health)
    alert = message.alert
    assert message.attributes["severity"] == alert["severity"] == "CRITICAL"
    assert alert["ownResource"] is True
    assert alert["resource"]["kind"] == message.attributes["resourceKind"] == SELF_PROTECTION[sample]
    # The rule's name for the call: Lambda's versioned names are matched by their start.
    called, _, noun = alert["title"].partition(" on trailwatch's own ")
    assert event["detail"]["eventName"].startswith(called) and called, alert["title"]
    assert noun == NOUNS[SELF_PROTECTION[sample]], alert["title"]
    # What the resource does for trailwatch, not the effect of the same call on a trail's key.
    noun = NOUNS[SELF_PROTECTION[sample]]
    name = called
    assert alert["reasons"][0].startswith((f"{name} succeeded on trailwatch's own {noun}, which trailwatch needs: ", f"{name} on trailwatch's own {noun}, which trailwatch needs: ")), alert["reasons"]
    assert not any("log files" in reason for reason in alert["reasons"]), alert["reasons"]
    assert alert["nextSteps"], "a responder is told how to restore it"


NOUNS = {
    "key": "KMS key",
    "rule": "EventBridge rule",
    "topic": "SNS topic",
    "function": "Lambda function",
    "event-bus": "event bus",
    "log-group": "log group",
    "queue": "SQS queue",
    "alarm": "CloudWatch alarm",
    "role": "IAM role",
    "parameter": "SSM parameter",
}


def test_the_same_calls_on_someone_elses_resources_are_ignored(function, moto, world):
    inbox = world()
    health = harness.health_inbox(moto)
    for sample in ["disable-rule-not-trailwatchs", "disable-key"]:
        event = load(sample)
        result = function.invoke(event)
        assert result.function_error is None, result.body
        if sample == "disable-key":
            # The trail's key (not trailwatch's): the delivery-chain alert, on the alert topic.
            assert result.json()["status"] == "published"
        else:
            assert result.json() == {**result.json(), "status": "ignored", "reason": "not trailwatch's own EventBridge rule"}
    assert harness.delivered(moto, health) == []
    assert [m.alert["event"]["name"] for m in harness.delivered(moto, inbox)] == ["DisableKey"]


def test_a_trail_named_by_arn_is_enriched_from_its_own_region(function, moto, world):
    inbox = world()
    # Only eu-west-1 has a trail of that name: a lookup in the event's region would fail.
    assert harness.OTHER_REGION_TRAIL not in [t["Name"] for t in moto.client("cloudtrail").describe_trails(includeShadowTrails=False)["trailList"]]
    result = function.invoke(harness.load_event(harness.EVENTS / "update-trail-other-region.json"))
    assert result.json()["status"] == "published", result.body
    [message] = harness.delivered(moto, inbox)
    alert = message.alert
    assert alert["event"]["region"] == "us-east-1"
    assert alert["resource"]["region"] == harness.OTHER_REGION
    assert alert["enrichmentError"] is None
    assert trail_is_logging(alert) is True
    assert alert["resourceState"]["config"]["s3BucketName"] == harness.OTHER_REGION_BUCKET


def test_a_deleted_trail_still_alerts_and_says_what_could_not_be_learned(function, moto, world):
    inbox = world()
    moto.client("cloudtrail").delete_trail(Name=harness.TRAIL)
    result = function.invoke(harness.load_event(harness.EVENTS / "delete-trail.json"))
    assert result.json()["status"] == "published", result.body
    [message] = harness.delivered(moto, inbox)
    assert message.attributes["severity"] == "CRITICAL"
    assert trail_is_logging(message.alert) is None
    assert "GetTrailStatus failed: TrailNotFoundException" in message.alert["enrichmentError"]
    assert message.alert["coverage"]["verdict"] == "uncovered"


def test_a_stopped_trail_shows_in_the_alert(function, moto, world):
    inbox = world(logging=False)
    function.invoke(harness.load_event(harness.EVENTS / "stop-logging.json"))
    [message] = harness.delivered(moto, inbox)
    assert trail_is_logging(message.alert) is False
    assert "Logging         NO" in preview_email(moto, "stop-logging")


def test_a_non_monitored_event_publishes_nothing(function, moto, world):
    inbox = world()
    result = function.invoke(harness.load_event(harness.EVENTS / "not-monitored.json"))
    assert result.function_error is None
    assert result.json()["status"] == "ignored"
    assert harness.delivered(moto, inbox) == []


@pytest.mark.parametrize(
    "payload",
    ["[1, 2]", '"StopLogging"', '{"source": "aws.cloudtrail"}', '{"detail": 7}', "this is not JSON"],
    ids=["array", "string", "no-detail", "detail-not-object", "not-json"],
)
def test_malformed_input_is_an_error_and_the_process_keeps_serving(function, moto, world, payload):
    inbox = world()
    starts_before = function.init_count()
    result = function.invoke(payload)
    body = result.json()
    assert "errorType" in body and body["errorMessage"], body
    assert harness.delivered(moto, inbox) == []

    follow_up = function.invoke(harness.load_event(harness.EVENTS / "stop-logging.json"))
    assert follow_up.json()["status"] == "published"
    assert len(harness.delivered(moto, inbox)) == 1
    assert function.init_count() == max(starts_before, 1), "the runtime was restarted:\n" + function.output()


def test_invalid_event_errors_are_named(function, world):
    world()
    body = function.invoke('{"detail": []}').json()
    assert body["errorType"] == "InvalidEvent"
    assert "`detail` is not a JSON object" in body["errorMessage"]


def preview(moto, sample: str) -> dict:
    out = harness.preview(harness.RELEASE_BINARY, harness.EVENTS / f"{sample}.json", moto.endpoint)
    assert out["result"]["status"] == "published"
    return out["alert"]


def preview_email(moto, sample: str) -> str:
    return preview(moto, sample)["message"]["email"]


def test_preview_renders_what_was_delivered_plus_the_email_and_chat_variants(function, moto, world):
    """An SQS subscriber receives only `default`; the preview runs the same pipeline against the
    same local AWS and shows the `email` and `https` variants of the identical alert."""
    inbox = world()
    function.invoke(harness.load_event(harness.EVENTS / "update-trail-weakens.json"))
    [message] = harness.delivered(moto, inbox)
    shown = preview(moto, "update-trail-weakens")
    assert shown["subject"] == message.subject
    assert shown["attributes"] == message.attributes
    assert harness.same_alert(json.loads(shown["message"]["default"]), message.alert)
    assert set(shown["message"]) == {"default", "email", "https", "sms"}
    assert shown["message"]["sms"] == message.subject
    assert "WHAT TO DO NEXT" in shown["message"]["email"]
    card = json.loads(shown["message"]["https"])
    assert card["content"]["textType"] == "client-markdown"
    # One thread per trail per day (HIGH: not a thread of its own).
    assert card["metadata"]["threadId"] == f"trailwatch:{harness.ACCOUNT}:trail/{harness.TRAIL}:2026-11-28"


def test_the_first_action_and_the_actor_in_full_reach_every_reader(function, moto, world):
    inbox = world()
    function.invoke(harness.load_event(harness.EVENTS / "stop-logging.json"))
    [message] = harness.delivered(moto, inbox)
    alert = message.alert
    restart = f"aws cloudtrail start-logging --name arn:aws:cloudtrail:us-east-1:{harness.ACCOUNT}:trail/{harness.TRAIL} --region us-east-1"
    assert alert["nextSteps"][0]["command"] == restart
    assert alert["actor"]["client"] == {"kind": "cli", "summary": "aws-cli 2.22 (cloudtrail.stop-logging)"}
    assert alert["links"]["principal"] == "https://console.aws.amazon.com/iam/home#/users/details/alice"
    shown = preview(moto, "stop-logging")
    email = shown["message"]["email"].splitlines()
    assert email[2].startswith("FIRST: Restart logging") and email[3].strip() == restart
    card = json.loads(shown["message"]["https"])
    assert card["content"]["nextSteps"][0].endswith(f"`{restart}`")

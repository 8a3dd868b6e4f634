"""Findings in Security Hub (issue 18), on the real runtime + moto, which implements
BatchImportFindings and GetFindings. moto does not check that Security Hub is enabled, enforces
no limit and ignores GetFindings' filters: a disabled or throttling hub is played by the fault
proxy, the limits are checked on what the function sent, and the customer's fields are checked
absent from the request itself."""

from __future__ import annotations

import datetime
import json
import unicodedata

import pytest

import faults
import harness

ENV = {"SECURITY_HUB_FINDINGS": "true"}
CIS_4_5 = "CIS AWS Foundations Benchmark v3.0.0/4.5"
CUSTOMER_FIELDS = {"Workflow", "WorkflowState", "Note", "UserDefinedFields", "VerificationState"}


@pytest.fixture
def proxied(moto):
    with faults.FaultProxy(moto.endpoint) as proxy:
        yield proxy


@pytest.fixture
def hub_function(proxied):
    emulator = harness.RuntimeEmulator(harness.RELEASE_BINARY, proxied.endpoint, ENV)
    yield emulator
    emulator.stop()


def findings(moto) -> list[dict]:
    return moto.client("securityhub").get_findings(MaxResults=100)["Findings"]


def sent(proxy) -> list[dict]:
    """Every finding the function sent, as it sent it."""
    return [finding for body in proxy.bodies.get(("securityhub", "BatchImportFindings"), [])
            for finding in json.loads(body)["Findings"]]


def now(minutes: int = 0) -> str:
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_an_alert_imports_one_finding_that_security_hub_returns(moto, world, hub_function, proxied):
    inbox = world()
    event = harness.load_event(harness.EVENTS / "stop-logging.json")
    harness.replay(moto, event)
    summary = hub_function.invoke(event).json()
    assert summary["status"] == "published", summary
    [alert] = harness.delivered(moto, inbox)
    [finding] = findings(moto)
    assert finding["Id"] == f"trailwatch/{harness.ACCOUNT}/{harness.HOME_REGION}/event/{event['detail']['eventID']}"
    assert finding["ProductArn"] == f"arn:aws:securityhub:{harness.HOME_REGION}:{harness.ACCOUNT}:product/{harness.ACCOUNT}/default"
    assert finding["AwsAccountId"] == harness.ACCOUNT
    assert finding["GeneratorId"] == "trailwatch/aws.cloudtrail/StopLogging"
    assert finding["Severity"]["Label"] == alert.alert["severity"] == "CRITICAL"
    assert finding["FindingProviderFields"]["Severity"]["Label"] == "CRITICAL"
    assert finding["Types"] == ["TTPs/Defense Evasion/StopLogging"]
    assert finding["Resources"] == [{"Type": "AwsCloudTrailTrail", "Id": harness.TRAIL_ARN, "Partition": "aws", "Region": harness.HOME_REGION}]
    assert CIS_4_5 in finding["Compliance"]["RelatedRequirements"]
    assert finding["Compliance"]["Status"] == "FAILED"
    assert finding["ProductFields"]["trailwatch/EventName"] == "StopLogging"
    assert "start-logging" in finding["Remediation"]["Recommendation"]["Text"]
    assert finding["RecordState"] == "ACTIVE"
    # Only the provider's fields are written, never the customer's.
    assert CUSTOMER_FIELDS.isdisjoint(sent(proxied)[0]), sent(proxied)[0].keys()
    # The same event delivered again updates the one finding rather than adding another.
    hub_function.invoke(event)
    assert len(findings(moto)) == 1


@pytest.mark.parametrize("refusal", [
    faults.Fault("status", 400, json.dumps({"__type": "InvalidAccessException", "Message": "Account 111122223333 is not subscribed to AWS Security Hub"}).encode(),
                 {"Content-Type": "application/json", "x-amzn-ErrorType": "InvalidAccessException"}, "BatchImportFindings"),
    faults.Fault("status", 403, json.dumps({"__type": "AccessDeniedException", "Message": "not authorized to perform: securityhub:BatchImportFindings"}).encode(),
                 {"Content-Type": "application/json", "x-amzn-ErrorType": "AccessDeniedException"}, "BatchImportFindings"),
], ids=["not-enabled", "denied"])
def test_a_hub_that_is_off_or_denied_never_holds_the_alert_back(moto, world, hub_function, proxied, refusal):
    inbox = world()
    proxied.inject("securityhub", refusal)
    summary = hub_function.invoke(harness.load_event(harness.EVENTS / "delete-trail.json")).json()
    assert summary["status"] == "published", summary
    assert len(harness.delivered(moto, inbox)) == 1
    hub_function.wait_for_output("findings not imported into Security Hub")
    assert findings(moto) == []
    assert '"FindingsNotImported":1' in hub_function.output().replace(" ", "")


def test_throttling_is_retried_and_the_finding_lands(moto, world, hub_function, proxied):
    inbox = world()
    throttled = json.dumps({"__type": "ThrottlingException", "Message": "Rate exceeded"}).encode()
    proxied.inject("securityhub", faults.Fault("status", 429, throttled, {"Content-Type": "application/json", "x-amzn-ErrorType": "ThrottlingException"},
                                               "BatchImportFindings", first=1))
    assert hub_function.invoke(harness.load_event(harness.EVENTS / "delete-trail.json")).json()["status"] == "published"
    assert len(harness.delivered(moto, inbox)) == 1
    assert proxied.count("securityhub", "BatchImportFindings") == 2, "one throttled attempt, one retry"
    assert len(findings(moto)) == 1


def test_a_posture_finding_is_kept_current_and_archived_once_fixed(moto, world, hub_function, proxied):
    world(logging=False)
    first = hub_function.invoke(harness.scheduled_event(now(), report_all=True)).json()
    assert first["status"] == "published", first
    open_findings = {f["Id"]: f for f in findings(moto) if f["GeneratorId"] == "trailwatch/posture/not-logging"}
    stopped = f"trailwatch/{harness.ACCOUNT}/posture/not-logging/{harness.TRAIL_ARN}"
    assert list(open_findings) == [stopped], list(open_findings)
    finding = open_findings[stopped]
    assert finding["RecordState"] == "ACTIVE" and finding["Compliance"]["Status"] == "FAILED"
    assert finding["Types"] == ["Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark"]
    assert finding["Compliance"]["RelatedRequirements"] == ["CIS AWS Foundations Benchmark v3.0.0/3.1", CIS_4_5]
    assert finding["Resources"][0]["Type"] == "AwsCloudTrailTrail"

    # The next run, the trail still stopped: the same finding, updated.
    hub_function.invoke(harness.scheduled_event(now(61)))
    [again] = [f for f in findings(moto) if f["Id"] == stopped]
    assert again["UpdatedAt"] >= finding["UpdatedAt"] and again["RecordState"] == "ACTIVE"

    # Fixed: archived, with compliance passed, and nothing else of the finding rewritten by us.
    moto.client("cloudtrail").start_logging(Name=harness.TRAIL)
    hub_function.invoke(harness.scheduled_event(now(122)))
    [fixed] = [f for f in findings(moto) if f["Id"] == stopped]
    assert fixed["RecordState"] == "ARCHIVED", fixed
    assert fixed["Compliance"]["Status"] == "PASSED"
    for body in sent(proxied):
        assert CUSTOMER_FIELDS.isdisjoint(body), body.keys()


VISIBLE_ONLY = {"Cc", "Cf", "Co", "Cn", "Zl", "Zp"}


def text_fields(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from text_fields(item)
    elif isinstance(value, list):
        for item in value:
            yield from text_fields(item)


@pytest.mark.parametrize("name", ["bidi-override", "crlf-injection", "ansi-escapes", "one-megabyte-strings", "invisible-format", "severity-spoof-name"])
def test_a_hostile_events_finding_carries_no_injected_text_and_stays_within_every_limit(moto, world, hub_function, proxied, name):
    world()
    payload = (harness.ROOT / "tests" / "hostile" / f"{name}.json").read_bytes()
    summary = hub_function.invoke(payload).json()
    assert summary["status"] in ("published", "ignored", "below-threshold"), summary
    for finding in sent(proxied):
        assert len(json.dumps(finding).encode()) <= 240_000
        assert len(finding["Title"]) <= 256 and len(finding["Description"]) <= 1024
        assert len(finding["Id"]) <= 512 and len(finding["GeneratorId"]) <= 512
        assert len(finding["Remediation"]["Recommendation"]["Text"]) <= 512
        assert len(finding["ProductFields"]) <= 50
        assert all(len(k) <= 128 and len(v) <= 2048 for k, v in finding["ProductFields"].items())
        for text in text_fields(finding):
            bad = [c for c in text if unicodedata.category(c) in VISIBLE_ONLY]
            assert bad == [], (name, text[:200])
        # Identity only from validated values: printable ASCII without spaces.
        for identity in (finding["Id"], finding["GeneratorId"], finding["AwsAccountId"], *[r["Id"] for r in finding["Resources"]]):
            assert identity.isascii() and identity.isprintable() and " " not in identity, identity


def test_a_finding_about_a_member_account_is_imported_there_through_its_read_role(org_moto):
    from test_members import MEMBER, central_env, CENTRAL_TOPIC_ARN, CENTRAL

    org_moto.reset()
    member = harness.AccountView(org_moto, MEMBER)
    harness.seed(member)
    sns, sqs = org_moto.client("sns"), org_moto.client("sqs")
    assert sns.create_topic(Name=harness.TOPIC_NAME)["TopicArn"] == CENTRAL_TOPIC_ARN
    sns.create_topic(Name=harness.HEALTH_TOPIC_NAME)
    inbox = sqs.create_queue(QueueName=harness.QUEUE_NAME)["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=CENTRAL_TOPIC_ARN, Protocol="sqs", Endpoint=inbox_arn)
    event = harness.load_event(harness.EVENTS / "stop-logging.json")
    harness.replay(member, event)
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, org_moto.endpoint, central_env(**ENV)) as central:
        assert central.invoke(event).json()["status"] == "published"
    assert len(harness.delivered(org_moto, inbox)) == 1
    [finding] = member.client("securityhub").get_findings()["Findings"]
    assert finding["AwsAccountId"] == MEMBER
    assert finding["ProductArn"] == f"arn:aws:securityhub:{harness.HOME_REGION}:{MEMBER}:product/{MEMBER}/default"
    assert org_moto.client("securityhub").get_findings()["Findings"] == [], f"nothing in the central account {CENTRAL}"


def test_a_restarted_trails_posture_finding_is_archived_at_once(moto, world, proxied):
    world()
    env = {**ENV, "AUTO_RESTART_LOGGING": "true"}
    stopped = f"trailwatch/{harness.ACCOUNT}/posture/not-logging/{harness.TRAIL_ARN}"
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, proxied.endpoint, env) as function:
        moto.client("cloudtrail").stop_logging(Name=harness.TRAIL)
        assert function.invoke(harness.scheduled_event(now(), report_all=True)).json()["status"] == "published"
        [open_finding] = [f for f in findings(moto) if f["Id"] == stopped]
        assert open_finding["RecordState"] == "ACTIVE"
        # The stop's event arrives; self-healing starts the trail again, and the finding is
        # archived now, not at the next posture run.
        result = function.invoke(harness.load_event(harness.EVENTS / "stop-logging.json")).json()
        assert result["status"] == "published", result
        assert moto.client("cloudtrail").get_trail_status(Name=harness.TRAIL)["IsLogging"] is True
        [archived] = [f for f in findings(moto) if f["Id"] == stopped]
        assert archived["RecordState"] == "ARCHIVED" and archived["Compliance"]["Status"] == "PASSED"
        # The event's own finding stays: someone stopped the trail.
        event_findings = [f for f in findings(moto) if "/event/" in f["Id"]]
        assert [f["RecordState"] for f in event_findings] == ["ACTIVE"]


def test_without_a_restart_the_posture_finding_stays_open(moto, world, hub_function):
    world()
    stopped = f"trailwatch/{harness.ACCOUNT}/posture/not-logging/{harness.TRAIL_ARN}"
    moto.client("cloudtrail").stop_logging(Name=harness.TRAIL)
    hub_function.invoke(harness.scheduled_event(now(), report_all=True))
    hub_function.invoke(harness.load_event(harness.EVENTS / "stop-logging.json"))
    [still] = [f for f in findings(moto) if f["Id"] == stopped]
    assert still["RecordState"] == "ACTIVE"

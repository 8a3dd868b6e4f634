"""trailwatch cannot be silenced unseen (issue 16), on the real runtime against moto.

- The heartbeat: the call the schedule makes (SSM AddTagsToResource on the heartbeat parameter,
  made here on moto as the schedule's universal target would), then its CloudTrail record through
  the function: counted (EMF metrics in the log), a probe on the alert topic that a subscription
  with the template's filter policy never receives, nothing on the health topic, nothing to
  people. The same call by anyone else is a CRITICAL alert on the health topic.
- Every own door: each sample lands on the health topic (test_runtime.py's SELF_PROTECTION runs
  them all); someone else's alarm, role or rule is ignored.
- Log lines Lambda's log-level filtering keeps: at ApplicationLogLevel WARN, every JSON line the
  function writes carries a level and a valid RFC 3339 timestamp, and the dead man's switch's
  line, the error lines and the EMF lines are written at WARN or above.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

import harness
import template

# The email subscription's filter policy, read from template.yaml: no person receives the probe.
PEOPLES_FILTER = template.load()["Resources"]["AlertEmailSubscription"]["Properties"]["FilterPolicy"]


def load(sample: str) -> dict:
    return harness.load_event(harness.EVENTS / f"{sample}.json")


def filtered_inbox(moto: harness.MotoServer) -> str:
    """A queue subscribed to the alert topic the way a person's email is: with the filter
    policy that leaves out the heartbeat's probe."""
    sqs = moto.client("sqs")
    url = sqs.create_queue(QueueName="trailwatch-peoples-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    moto.client("sns").subscribe(
        TopicArn=harness.TOPIC_ARN,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"FilterPolicy": json.dumps(PEOPLES_FILTER), "FilterPolicyScope": "MessageAttributes"},
    )
    return url


def make_the_heartbeat_call(moto: harness.MotoServer, when: datetime) -> None:
    """What EventBridge Scheduler's universal target does every interval."""
    ssm = moto.client("ssm")
    ssm.put_parameter(Name=harness.HEARTBEAT_PARAMETER, Value="trailwatch heartbeat", Type="String", Overwrite=True)
    ssm.add_tags_to_resource(
        ResourceType="Parameter",
        ResourceId=harness.HEARTBEAT_PARAMETER,
        Tags=[{"Key": harness.HEARTBEAT_TAG, "Value": when.strftime("%Y-%m-%dT%H:%M:%SZ")}],
    )
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=harness.HEARTBEAT_PARAMETER)["TagList"]
    assert {"Key": harness.HEARTBEAT_TAG, "Value": when.strftime("%Y-%m-%dT%H:%M:%SZ")} in tags


def recorded(sample: str, when: datetime) -> dict:
    """The sample's CloudTrail record, as CloudTrail would deliver the call made at `when`."""
    event = load(sample)
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    event["time"] = event["detail"]["eventTime"] = stamp
    return event


def emf_lines(output: str) -> list[dict]:
    lines = []
    for line in output.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            lines.append(json.loads(line))
    return lines


def test_the_heartbeat_is_counted_probed_and_never_alerted(function, moto, world):
    inbox = world()
    health = harness.health_inbox(moto)
    peoples = filtered_inbox(moto)
    now = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=2)
    make_the_heartbeat_call(moto, now)

    result = function.invoke(recorded("heartbeat", now))

    assert result.function_error is None, result.body
    answer = result.json()
    assert answer["status"] == "heartbeat", answer
    assert answer["messageId"], "the probe was published"
    assert harness.delivered(moto, peoples) == [], "no person receives the probe"
    assert harness.delivered(moto, health) == [], "a heartbeat is never an alert"
    [probe] = harness.delivered(moto, inbox)
    assert probe.attributes["alertKind"] == "heartbeat"
    assert probe.attributes["severity"] == "INFORMATIONAL"
    assert probe.alert["kind"] == "heartbeat"
    # Counted: an EMF record of the heartbeat (with its latency from the call) and of the probe.
    function.wait_for_output('"HeartbeatProbes"')
    records = emf_lines(function.output())
    beats = [r for r in records if "Heartbeats" in r]
    assert beats and beats[-1]["Region"] == harness.HOME_REGION, records
    assert 0 <= beats[-1]["HeartbeatLatency"] < 120_000, beats[-1]
    names = [m["Name"] for m in beats[-1]["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
    assert names == ["Heartbeats", "HeartbeatLatency"]
    assert any("HeartbeatProbes" in r for r in records)


def test_a_heartbeat_from_another_principal_is_a_critical_alert(function, moto, world):
    inbox = world()
    health = harness.health_inbox(moto)
    result = function.invoke(load("forged-heartbeat"))
    assert result.json()["status"] == "published", result.body
    assert harness.delivered(moto, inbox) == []
    [message] = harness.delivered(moto, health)
    assert message.alert["severity"] == "CRITICAL"
    assert message.alert["title"] == "AddTagsToResource on trailwatch's own SSM parameter"


@pytest.mark.parametrize("sample", ["delete-alarms-not-trailwatchs", "detach-role-policy-not-trailwatchs", "disable-rule-not-trailwatchs"])
def test_someone_elses_alarm_role_or_rule_is_ignored(function, moto, world, sample):
    inbox = world()
    health = harness.health_inbox(moto)
    answer = function.invoke(load(sample)).json()
    assert answer["status"] == "ignored", answer
    assert answer["reason"].startswith("not trailwatch's own"), answer
    assert harness.delivered(moto, inbox) == [] and harness.delivered(moto, health) == []


def test_several_alarms_in_one_call_are_judged_by_trailwatchs_own(function, moto, world):
    """DisableAlarmActions names someone else's alarm first and trailwatch's second."""
    world()
    health = harness.health_inbox(moto)
    answer = function.invoke(load("disable-alarm-actions")).json()
    assert answer["status"] == "published", answer
    [message] = harness.delivered(moto, health)
    assert message.alert["resource"]["name"] == harness.OWN_ALARM
    assert message.alert["nextSteps"][0]["command"].startswith(
        f"aws cloudwatch enable-alarm-actions --alarm-names {harness.OWN_ALARM} "
    )


def test_at_warn_every_json_line_keeps_a_level_and_a_timestamp_and_the_signals_survive(moto, world):
    """Lambda's log-level filtering keeps a JSON line only when its level is at least the
    configured one, and treats a line without a valid RFC 3339 timestamp as INFO: at WARN such
    a line is dropped. So every line carries both, and what is counted is written at WARN."""
    world()
    env = {"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "WARN", "POSTURE_REGIONS": harness.HOME_REGION}
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, moto.endpoint, env) as function:
        assert function.invoke(load("stop-logging")).json()["status"] == "published"
        assert function.invoke(harness.scheduled_event("2026-11-29T00:05:00Z")).json()["status"] in ("published", "healthy", "already-reported")
        assert function.invoke(b"[1, 2]").json()["errorType"] == "InvalidEvent"
        now = datetime.now(timezone.utc).replace(microsecond=0)
        make_the_heartbeat_call(moto, now)
        assert function.invoke(recorded("heartbeat", now)).json()["status"] == "heartbeat"
        function.wait_for_output('"HeartbeatProbes"')
        function.wait_for_output("posture check finished")
        function.wait_for_output("input is not an EventBridge CloudTrail event")
        lines = [json.loads(line) for line in function.output().splitlines() if line.startswith("{")]
    assert lines, "the function wrote JSON lines"
    for line in lines:
        assert line.get("level") in ("WARN", "ERROR"), line
        stamp = line.get("timestamp")
        assert isinstance(stamp, str) and datetime.fromisoformat(stamp.replace("Z", "+00:00")), line
    finished = [line for line in lines if (line.get("fields") or {}).get("message") == "posture check finished"]
    assert finished and finished[0]["level"] == "WARN", "the dead man's switch's line survives WARN"
    assert any("_aws" in line and "Alerts" in line for line in lines), "the alert's EMF line"
    assert any("_aws" in line and "Heartbeats" in line for line in lines), "the heartbeat's EMF line"
    errors = [line for line in lines if line["level"] == "ERROR"]
    assert errors, "the invalid input's error line"


FUNCTION_ARN = f"arn:aws:lambda:{harness.HOME_REGION}:{harness.ACCOUNT}:function:{harness.FUNCTION_NAME}"


def deploy_own_rules(moto: harness.MotoServer) -> None:
    """trailwatch's rules as the template deploys them (the names the harness gives the
    function in OWN_RULE_NAMES): the alert rules, each with its share of the registry's
    patterns, and the posture schedule, all targeting the function."""
    import subprocess

    patterns = json.loads(subprocess.run([str(harness.RELEASE_BINARY), "--event-patterns"], check=True, capture_output=True, text=True).stdout)
    assert len(patterns) == len(ALERT_RULES)
    events = moto.client("events")
    for rule, pattern in zip(ALERT_RULES, patterns):
        events.put_rule(Name=rule, EventPattern=json.dumps(pattern), State="ENABLED")
    events.put_rule(Name=f"{harness.OWN_RULE}-posture", ScheduleExpression="rate(60 minutes)", State="ENABLED")
    for rule in (*ALERT_RULES, f"{harness.OWN_RULE}-posture"):
        events.put_targets(Rule=rule, Targets=[{"Id": "alert-function", "Arn": FUNCTION_ARN}])


ALERT_RULES = [harness.OWN_RULE, f"{harness.OWN_RULE}-2"]


def posture_findings_about_trailwatch(moto, health) -> list[dict]:
    messages = harness.delivered(moto, health)
    return [f for m in messages if m.alert.get("kind") == "posture" for f in m.alert["posture"]["findings"]]


def test_the_posture_check_finds_nothing_wrong_with_trailwatch_as_deployed(function, moto, world):
    world()
    health = harness.health_inbox(moto)
    deploy_own_rules(moto)
    function.invoke(harness.scheduled_event("2026-11-29T00:05:00Z"))
    assert posture_findings_about_trailwatch(moto, health) == []


@pytest.mark.parametrize("how", ["disabled", "narrowed", "swapped", "retargeted", "deleted", "unsubscribed"])
def test_the_posture_check_reports_drift_of_trailwatchs_rules_on_the_health_topic(function, moto, world, how):
    world()
    health = harness.health_inbox(moto)
    deploy_own_rules(moto)
    events = moto.client("events")
    if how == "disabled":
        events.disable_rule(Name=harness.OWN_RULE)
    elif how == "narrowed":
        # Still matches the heartbeat (ssm), and nothing else of the registry's.
        narrowed = {"source": ["aws.ssm"], "detail-type": ["AWS API Call via CloudTrail"], "detail": {"eventSource": ["ssm.amazonaws.com"]}}
        events.put_rule(Name=harness.OWN_RULE, EventPattern=json.dumps(narrowed), State="ENABLED")
    elif how == "swapped":
        # The second rule given the first one's pattern: both are patterns trailwatch
        # generates, but the second rule's calls (AWS Config's) no longer match anything.
        first = events.describe_rule(Name=harness.OWN_RULE)["EventPattern"]
        events.put_rule(Name=ALERT_RULES[1], EventPattern=first, State="ENABLED")
    elif how == "retargeted":
        events.remove_targets(Rule=harness.OWN_RULE, Ids=["alert-function"])
        events.put_targets(Rule=harness.OWN_RULE, Targets=[{"Id": "elsewhere", "Arn": "arn:aws:sqs:us-east-1:444455556666:elsewhere"}])
    elif how == "deleted":
        events.remove_targets(Rule=harness.OWN_RULE, Ids=["alert-function"])
        events.delete_rule(Name=harness.OWN_RULE)
    elif how == "unsubscribed":
        sns = moto.client("sns")
        for sub in sns.list_subscriptions_by_topic(TopicArn=harness.TOPIC_ARN)["Subscriptions"]:
            sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
    function.invoke(harness.scheduled_event("2026-11-29T00:05:00Z"))
    findings = posture_findings_about_trailwatch(moto, health)
    expected = "no-confirmed-subscription" if how == "unsubscribed" else "rule-not-as-deployed"
    assert any(f["check"] == expected and f["severity"] == "CRITICAL" for f in findings), findings
    if how == "swapped":
        assert any("another alert rule's pattern" in f["detail"] and ALERT_RULES[1] in f["detail"] for f in findings), findings


def put_as_cloudwatch_extracts(moto: harness.MotoServer, record: dict) -> None:
    """An EMF record made into metrics the way CloudWatch Logs extracts them: each metric, once
    per dimension set, with that set's dimension values (moto reads no logs, so this is the one
    step played here)."""
    directive = record["_aws"]
    when = datetime.fromtimestamp(directive["Timestamp"] / 1000, timezone.utc)
    for block in directive["CloudWatchMetrics"]:
        for dimension_set in block["Dimensions"]:
            moto.client("cloudwatch").put_metric_data(
                Namespace=block["Namespace"],
                MetricData=[
                    {
                        "MetricName": metric["Name"],
                        "Dimensions": [{"Name": name, "Value": record[name]} for name in dimension_set],
                        "Value": record[metric["Name"]],
                        "Unit": metric.get("Unit", "None"),
                        "Timestamp": when,
                    }
                    for metric in block["Metrics"]
                ],
            )


def test_the_posture_check_reports_a_watched_region_that_sent_no_heartbeat(moto, world):
    """Two watched regions; a heartbeat comes back from this one only. The function's own EMF
    line for it becomes the metric the posture run counts: this region is heard, the other one
    is a CRITICAL finding on the health topic with the command that shows whether its schedule
    still calls; nothing about heartbeats goes to the alert topic."""
    inbox = world()
    health = harness.health_inbox(moto)
    deploy_own_rules(moto)
    elsewhere = "eu-west-1"
    env = {"POSTURE_REGIONS": f"{harness.HOME_REGION},{elsewhere}", "HEARTBEAT_WINDOW_MINUTES": "15"}
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, moto.endpoint, env) as function:
        now = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(seconds=2)
        make_the_heartbeat_call(moto, now)
        assert function.invoke(recorded("heartbeat", now)).json()["status"] == "heartbeat"
        function.wait_for_output('"HeartbeatProbes"')
        [beat] = [r for r in emf_lines(function.output()) if "Heartbeats" in r]
        put_as_cloudwatch_extracts(moto, beat)
        harness.delivered(moto, inbox)  # the probe

        function.invoke(harness.scheduled_event(now.strftime("%Y-%m-%dT%H:%M:%SZ")))

    [about_trailwatch] = [m for m in harness.delivered(moto, health) if m.alert.get("kind") == "posture"]
    findings = [f for f in about_trailwatch.alert["posture"]["findings"] if f["check"] == "no-heartbeat"]
    assert [f["region"] for f in findings] == [elsewhere], about_trailwatch.alert["posture"]["findings"]
    assert findings[0]["severity"] == "CRITICAL" and "in the last 15 minutes" in findings[0]["detail"], findings
    commands = [step.get("command") for step in about_trailwatch.alert["nextSteps"]]
    assert (
        f"aws ssm list-tags-for-resource --resource-type Parameter --resource-id {harness.HEARTBEAT_PARAMETER} --region {elsewhere}"
        in commands
    ), commands
    on_the_alert_topic = [f for m in harness.delivered(moto, inbox) if m.alert.get("kind") == "posture" for f in m.alert["posture"]["findings"]]
    assert all(f["check"] != "no-heartbeat" for f in on_the_alert_topic), on_the_alert_topic


def test_without_a_heartbeat_window_no_region_is_expected_to_send_one(function, moto, world):
    """HEARTBEAT_WINDOW_MINUTES unset (the heartbeat off): no heartbeat counted, none expected."""
    world()
    health = harness.health_inbox(moto)
    deploy_own_rules(moto)
    function.invoke(harness.scheduled_event("2026-11-29T00:05:00Z"))
    assert [f for f in posture_findings_about_trailwatch(moto, health) if f["check"] == "no-heartbeat"] == []

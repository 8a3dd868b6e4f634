"""The function's start-up configuration and log format, on the emulator."""

from __future__ import annotations

import json

import faults
import harness


def json_lines(output: str) -> list[dict]:
    lines = []
    for line in output.splitlines():
        start = line.find("{")
        if start < 0:
            continue
        try:
            lines.append(json.loads(line[start:]))
        except json.JSONDecodeError:
            continue
    return lines


def test_json_logs_give_one_outcome_line_per_event(moto, world):
    inbox = world()
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, moto.endpoint, {"AWS_LAMBDA_LOG_FORMAT": "JSON"}) as function:
        for sample in ["stop-logging", "not-monitored"]:
            function.invoke(harness.load_event(harness.EVENTS / f"{sample}.json"))
        function.invoke("[]")
        function.wait_for_output('"outcome":"rejected"')
        records = json_lines(function.output())
    outcomes = [r["fields"] for r in records if "outcome" in r.get("fields", {})]
    assert [o["outcome"] for o in outcomes] == ["published", "ignored", "rejected"], outcomes
    published = outcomes[0]
    assert published["event_id"] == "6f3c1b2a-8e4d-4c1f-a7b9-000000000001"
    assert published["event_name"] == "StopLogging"
    assert published["severity"] == "CRITICAL"
    assert published["resource"] == "management-events"
    assert len(harness.delivered(moto, inbox)) == 1


def test_hostile_text_cannot_forge_log_lines(moto, world):
    world()
    event = harness.load_event(harness.EVENTS / "stop-logging.json")
    event["detail"]["requestParameters"]["name"] = "x\nERROR forged log line"
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, moto.endpoint) as function:
        assert function.invoke(event).json()["status"] == "published"
        # Log lines travel through a pipe and may arrive after the answer: wait for this event's
        # outcome line (which names the resource, the hostile text) before looking for a forgery.
        function.wait_for_output('outcome="published"')
        output = function.output()
    lines = output.splitlines()
    assert any('outcome="published"' in line and "forged log line" in line for line in lines), output
    assert not any(line.startswith("ERROR forged") for line in lines), output


def test_a_missing_topic_stops_the_function_with_an_error_naming_the_variable(moto, world):
    world()
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, moto.endpoint, {"ALERT_TOPIC_ARN": ""}) as function:
        result = function.invoke(harness.load_event(harness.EVENTS / "stop-logging.json"))
        output = function.output()
    # The runtime exits during init; the emulator answers 502 (Lambda: Runtime.ExitError).
    assert result.status >= 500 or "errorType" in result.body, result
    assert "ALERT_TOPIC_ARN" in output and "is required" in output, output


def test_a_bad_min_severity_is_named(moto, world):
    world()
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, moto.endpoint, {"MIN_SEVERITY": "urgent"}) as function:
        function.invoke(harness.load_event(harness.EVENTS / "stop-logging.json"))
        output = function.output()
    assert "MIN_SEVERITY" in output and "urgent" in output, output


def test_min_severity_filters_on_the_real_runtime(moto, world):
    inbox = world()
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, moto.endpoint, {"MIN_SEVERITY": "HIGH"}) as function:
        low = function.invoke(harness.load_event(harness.EVENTS / "create-trail.json")).json()
        critical = function.invoke(harness.load_event(harness.EVENTS / "stop-logging.json")).json()
    assert low == {**low, "status": "below-threshold", "severity": "LOW"}
    assert critical["status"] == "published"
    assert [m.attributes["severity"] for m in harness.delivered(moto, inbox)] == ["CRITICAL"]


def test_account_names_stand_next_to_the_id(moto, world):
    inbox = world()
    names = json.dumps({harness.ACCOUNT: "prod-payments"})
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, moto.endpoint, {"ACCOUNT_NAMES": names}) as function:
        function.invoke(harness.load_event(harness.EVENTS / "stop-logging.json"))
    [message] = harness.delivered(moto, inbox)
    assert message.subject.endswith(f"(prod-payments {harness.ACCOUNT} us-east-1)")
    assert message.alert["accountName"] == "prod-payments"


def test_invalid_account_names_stop_the_function_naming_the_variable(moto, world):
    world()
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, moto.endpoint, {"ACCOUNT_NAMES": "prod"}) as function:
        result = function.invoke(harness.load_event(harness.EVENTS / "stop-logging.json"))
        output = function.output()
    # The runtime exits during init; the emulator answers 502 (Lambda: Runtime.ExitError).
    assert result.status >= 500 or "errorType" in result.body, result
    assert "ACCOUNT_NAMES" in output and "not a JSON object" in output, output


def test_enrich_timeout_zero_makes_no_lookups_and_alerts_every_delivery_chain_call(moto, world):
    """ENRICH_TIMEOUT_MS=0 turns the lookups off (docs/configuration.md): no CloudTrail request
    at all, so trailwatch cannot learn that no trail uses a bucket, and a delivery-chain call on
    one (ignored when the lookups run: test_monitors.py) is alerted. A trail's call is alerted
    too, saying its state was not looked up."""
    inbox = world()
    with faults.FaultProxy(moto.endpoint) as proxy:
        env = {"ENRICH_TIMEOUT_MS": "0", "AWS_ENDPOINT_URL_CLOUDTRAIL": proxy.endpoint}
        with harness.RuntimeEmulator(harness.RELEASE_BINARY, moto.endpoint, env) as function:
            answers = {sample: function.invoke(harness.load_event(harness.EVENTS / f"{sample}.json")).json() for sample in ["put-bucket-lifecycle-unrelated-bucket", "stop-logging"]}
        cloudtrail = {operation: n for (service, operation), n in proxy.counts().items() if service == "cloudtrail"}
    assert cloudtrail == {}, f"lookups were made: {cloudtrail}"
    assert [answer["status"] for answer in answers.values()] == ["published", "published"], answers
    messages = {m.alert["event"]["name"]: m.alert for m in harness.delivered(moto, inbox)}
    assert set(messages) == {"PutBucketLifecycle", "StopLogging"}, messages.keys()
    bucket = messages["PutBucketLifecycle"]
    assert bucket["resource"]["kind"] == "bucket" and bucket["resource"]["name"] == harness.UNRELATED_BUCKET, bucket["resource"]
    assert bucket["severity"] == answers["put-bucket-lifecycle-unrelated-bucket"]["severity"] == "CRITICAL", "a 1-day expiration"
    for alert in messages.values():
        assert alert["resourceState"]["type"] == "notLookedUp", alert["resourceState"]
        assert alert["enrichmentError"], "the alert says the state was not looked up"

"""The release binary under the Lambda Runtime Interface Emulator, against moto."""

from __future__ import annotations

import json

import pytest

import harness

MONITORED = {
    "stop-logging": "CRITICAL",
    "service-stop-logging": "CRITICAL",
    "delete-trail": "CRITICAL",
    "update-trail-weakens": "HIGH",
    "update-trail-benign": "MEDIUM",
    "update-trail-other-region": "MEDIUM",
    "root-update-trail": "HIGH",
    "create-trail": "LOW",
    "create-trail-failed": "LOW",
    "start-logging": "INFORMATIONAL",
    "stop-logging-access-denied": "HIGH",
}
IGNORED = {"not-monitored"}


def test_every_sample_is_classified_here():
    samples = {path.stem for path in harness.EVENTS.glob("*.json")}
    assert samples == set(MONITORED) | IGNORED, "add new samples to MONITORED or IGNORED"


def actual_is_logging(moto, alert) -> bool | None:
    """What moto says about the alert's trail right now, or None when it has no such trail."""
    trail = alert["trail"]
    client = moto.client("cloudtrail", trail["region"])
    try:
        return client.get_trail_status(Name=trail["arn"] or trail["name"])["IsLogging"]
    except client.exceptions.TrailNotFoundException:
        return None


@pytest.mark.parametrize("logging", [True, False], ids=["trail-logging", "trail-stopped"])
@pytest.mark.parametrize("sample", sorted(MONITORED))
def test_each_monitored_sample_delivers_one_alert(function, moto, world, sample, logging):
    inbox = world(logging=logging)
    result = function.invoke(harness.load_event(harness.EVENTS / f"{sample}.json"))
    assert result.function_error is None, result.body
    summary = result.json()
    assert summary["status"] == "published"

    messages = harness.delivered(moto, inbox)
    assert len(messages) == 1
    message = messages[0]
    alert = message.alert
    expected = MONITORED[sample]
    stopped_after_update = not logging and sample.startswith("update-trail") and sample != "update-trail-other-region"
    if stopped_after_update and expected == "MEDIUM":
        expected = "HIGH"
    assert message.attributes["severity"] == expected == alert["severity"] == summary["severity"]
    assert message.subject.startswith(f"[{expected}] ")
    assert alert["schemaVersion"] == "1.0"
    assert message.attributes["eventName"] == alert["event"]["name"]
    assert message.attributes["account"] == harness.ACCOUNT
    assert alert["trailStatus"]["isLogging"] == actual_is_logging(moto, alert)
    if alert["trailStatus"]["isLogging"] is None:
        assert "TrailNotFound" in alert["enrichmentError"]
    else:
        assert alert["enrichmentError"] is None, alert["enrichmentError"]


def test_a_trail_named_by_arn_is_enriched_from_its_own_region(function, moto, world):
    inbox = world()
    # Only eu-west-1 has a trail of that name: a lookup in the event's region would fail.
    assert harness.OTHER_REGION_TRAIL not in [t["Name"] for t in moto.client("cloudtrail").describe_trails(includeShadowTrails=False)["trailList"]]
    result = function.invoke(harness.load_event(harness.EVENTS / "update-trail-other-region.json"))
    assert result.json()["status"] == "published", result.body
    [message] = harness.delivered(moto, inbox)
    alert = message.alert
    assert alert["event"]["region"] == "us-east-1"
    assert alert["trail"]["region"] == harness.OTHER_REGION
    assert alert["enrichmentError"] is None
    assert alert["trailStatus"]["isLogging"] is True
    assert alert["trailConfig"]["s3BucketName"] == harness.OTHER_REGION_BUCKET


def test_a_deleted_trail_still_alerts_and_says_what_could_not_be_learned(function, moto, world):
    inbox = world()
    moto.client("cloudtrail").delete_trail(Name=harness.TRAIL)
    result = function.invoke(harness.load_event(harness.EVENTS / "delete-trail.json"))
    assert result.json()["status"] == "published", result.body
    [message] = harness.delivered(moto, inbox)
    assert message.attributes["severity"] == "CRITICAL"
    assert message.alert["trailStatus"]["isLogging"] is None
    assert "GetTrailStatus failed: TrailNotFoundException" in message.alert["enrichmentError"]


def test_a_stopped_trail_shows_in_the_alert(function, moto, world):
    inbox = world(logging=False)
    function.invoke(harness.load_event(harness.EVENTS / "stop-logging.json"))
    [message] = harness.delivered(moto, inbox)
    assert message.alert["trailStatus"]["isLogging"] is False
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
    assert card["metadata"]["threadId"] == f"trailwatch:arn:aws:cloudtrail:us-east-1:{harness.ACCOUNT}:trail/{harness.TRAIL}"

"""AWS Config, the other recorder (issue 19), on the real runtime + moto: every Config call's
sample, a weakening and a harmless variant of each call that has a check, with the live state
the function reads (DescribeConfigurationRecorderStatus through the real SDK).

moto implements Config's recorders, delivery channels, retention and rules, so the call is made
on moto first where it changes what the function then reads (a stopped or deleted recorder). It
implements neither DisassociateResourceTypes, DeleteConformancePack nor the service-linked
recorders: those samples run against a recorder that still records, which is what the function
would read after them for a customer managed recorder. A refused lookup is played by the fault
proxy: the alert goes out all the same and says what could not be read."""

from __future__ import annotations

import json

import pytest

import faults
import harness

CONFIG_BUCKET = "config-history-111122223333"
ROLE = "arn:aws:iam::111122223333:role/config-recorder"

# sample → (severity, the recorder recording afterwards, the first step's command or None).
SAMPLES = {
    "config-stop-configuration-recorder": ("HIGH", False, "aws configservice start-configuration-recorder --configuration-recorder-name default --region us-east-1"),
    "config-delete-configuration-recorder": ("HIGH", None, "aws configservice put-configuration-recorder --configuration-recorder name=default,roleARN=CONFIG_ROLE_ARN"),
    "config-delete-delivery-channel": ("HIGH", False, "aws configservice put-delivery-channel --delivery-channel name=default,s3BucketName=CONFIG_BUCKET"),
    "config-delete-service-linked-configuration-recorder": ("HIGH", True, "aws configservice put-service-linked-configuration-recorder --service-principal securityhub.amazonaws.com"),
    "config-put-configuration-recorder-narrowed": ("MEDIUM", True, "aws configservice put-configuration-recorder --configuration-recorder name=default,roleARN=arn:aws:iam::111122223333:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"),
    "config-put-configuration-recorder-all": ("LOW", True, None),
    "config-disassociate-resource-types": ("MEDIUM", True, None),
    "config-put-delivery-channel": ("MEDIUM", True, None),
    "config-put-retention-configuration-30-days": ("MEDIUM", True, "aws configservice put-retention-configuration --retention-period-in-days 2557 --region us-east-1"),
    "config-put-retention-configuration-7-years": ("LOW", True, None),
    "config-delete-retention-configuration": ("LOW", True, None),
    "config-delete-config-rule": ("MEDIUM", True, None),
    "config-delete-conformance-pack": ("MEDIUM", True, None),
    "config-delete-configuration-aggregator": ("MEDIUM", True, None),
}


def test_every_config_sample_is_here():
    on_disk = {path.stem for path in harness.EVENTS.glob("config-*.json")}
    assert on_disk == set(SAMPLES)


def seed_config(moto) -> None:
    """A recorder that records everything, delivering to its bucket."""
    config = moto.client("config")
    moto.client("s3").create_bucket(Bucket=CONFIG_BUCKET)
    config.put_configuration_recorder(ConfigurationRecorder={
        "name": "default", "roleARN": ROLE,
        "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True}})
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": CONFIG_BUCKET})
    config.start_configuration_recorder(ConfigurationRecorderName="default")


def replay(moto, event: dict) -> None:
    """The call, made on moto as real Config would have made it before the event arrives."""
    config = moto.client("config")
    params = event["detail"]["requestParameters"]
    name = event["detail"]["eventName"]
    if name == "StopConfigurationRecorder":
        config.stop_configuration_recorder(ConfigurationRecorderName=params["configurationRecorderName"])
    elif name == "DeleteConfigurationRecorder":
        config.delete_configuration_recorder(ConfigurationRecorderName=params["configurationRecorderName"])
    elif name == "DeleteDeliveryChannel":
        # Config deletes a channel only once its recorder is stopped.
        config.stop_configuration_recorder(ConfigurationRecorderName="default")
        config.delete_delivery_channel(DeliveryChannelName=params["deliveryChannelName"])
    elif name == "PutRetentionConfiguration":
        config.put_retention_configuration(RetentionPeriodInDays=params["retentionPeriodInDays"])


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_each_config_call_is_judged_with_whether_config_still_records(function, moto, world, sample):
    severity, recording, first = SAMPLES[sample]
    inbox = world()
    seed_config(moto)
    event = harness.load_event(harness.EVENTS / f"{sample}.json")
    replay(moto, event)
    summary = function.invoke(event).json()
    assert summary["status"] == "published", summary
    [message] = harness.delivered(moto, inbox)
    alert = message.alert
    assert alert["severity"] == message.attributes["severity"] == severity, alert["reasons"]
    assert message.attributes["resourceKind"] in ("config-recorder", "delivery-channel", "config-retention", "config-rule", "conformance-pack", "config-aggregator")
    state = alert["resourceState"]
    assert state["type"] == "configRecorders", state
    assert state["region"] == "us-east-1"
    recorders = {r["name"]: r["recording"] for r in state["recorders"]}
    reasons = " | ".join(alert["reasons"])
    if recording is None:
        assert recorders == {}
        assert "AWS Config has no recorder in `us-east-1` now" in reasons
    else:
        assert recorders == {"default": recording}
        expected = "AWS Config is still recording in" if recording else "no AWS Config recorder is recording in"
        assert expected in reasons, reasons
    step = alert["nextSteps"][0].get("command") or ""
    if first:
        assert step.startswith(first), step
    else:
        assert not step.startswith("aws configservice put-") and not step.startswith("aws configservice start-"), step


def test_a_config_lookup_that_is_refused_still_alerts_and_says_so(moto, world):
    inbox = world()
    seed_config(moto)
    with faults.FaultProxy(moto.endpoint) as proxy:
        proxy.inject("config", faults.Fault(
            "status", 400, json.dumps({"__type": "AccessDeniedException", "message": "not authorized to perform: config:DescribeConfigurationRecorderStatus"}).encode(),
            {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": "AccessDeniedException"}, "DescribeConfigurationRecorderStatus"))
        with harness.RuntimeEmulator(harness.RELEASE_BINARY, proxy.endpoint) as function:
            summary = function.invoke(harness.load_event(harness.EVENTS / "config-stop-configuration-recorder.json")).json()
    assert summary["status"] == "published", summary
    [message] = harness.delivered(moto, inbox)
    alert = message.alert
    assert alert["severity"] == "HIGH"
    assert alert["resourceState"]["type"] == "notLookedUp"
    assert "DescribeConfigurationRecorderStatus" in (alert["enrichmentError"] or "")
    assert "AccessDenied" in alert["enrichmentError"]


def test_a_trusted_pipeline_putting_the_recorder_back_is_informational_and_a_stop_is_not(moto, world):
    inbox = world()
    seed_config(moto)
    env = {"TRUSTED_PRINCIPALS": "arn:aws:iam::111122223333:user/alice"}
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, moto.endpoint, env) as function:
        function.invoke(harness.load_event(harness.EVENTS / "config-put-configuration-recorder-all.json"))
        stop = harness.load_event(harness.EVENTS / "config-stop-configuration-recorder.json")
        replay(moto, stop)
        function.invoke(stop)
    harmless, stopped = harness.delivered(moto, inbox)
    assert harmless.alert["severity"] == "INFORMATIONAL"
    assert stopped.alert["severity"] == "HIGH", "a stop is never downgraded for a trusted principal"


# ---------------------------------------------------------------- the posture check


def posture_findings(moto, inbox) -> list[dict]:
    [message] = harness.delivered(moto, inbox)
    return message.alert["posture"]["findings"]


def test_the_posture_check_finds_each_region_where_config_does_not_record(moto, world):
    inbox = world()
    seed_config(moto)  # us-east-1 records; eu-west-1 has no recorder at all
    env = {"POSTURE_RECORDERS": "config=true", "POSTURE_REGIONS": "us-east-1,eu-west-1"}
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, moto.endpoint, env) as function:
        assert function.invoke(harness.scheduled_event("2026-12-05T09:00:00Z", report_all=True)).json()["status"] == "published"
        config = [f for f in posture_findings(moto, inbox) if f["check"] == "config-not-recording"]
        assert [(f["region"], f["severity"]) for f in config] == [("eu-west-1", "HIGH")], config
        assert "no recorder" in config[0]["detail"]
        # The recorder stopped in us-east-1: the next run names it too.
        moto.client("config").stop_configuration_recorder(ConfigurationRecorderName="default")
        function.invoke(harness.scheduled_event("2026-12-05T10:00:00Z", report_all=True))
        [message] = harness.delivered(moto, inbox)
    findings = message.alert["posture"]["findings"]
    config = {f["region"]: f for f in findings if f["check"] == "config-not-recording"}
    assert set(config) == {"us-east-1", "eu-west-1"}
    assert "recorder `default` in `us-east-1` is not recording" in config["us-east-1"]["detail"]
    steps = [s.get("command") or "" for s in message.alert["nextSteps"]]
    assert "aws configservice describe-configuration-recorder-status --region us-east-1" in steps


def test_with_the_config_check_off_config_is_not_read(moto, world):
    inbox = world()
    with faults.FaultProxy(moto.endpoint) as proxy:
        env = {"POSTURE_RECORDERS": "config=false,guardduty=true,securityhub=true", "POSTURE_REGIONS": "us-east-1,eu-west-1"}
        with harness.RuntimeEmulator(harness.RELEASE_BINARY, proxy.endpoint, env) as function:
            function.invoke(harness.scheduled_event("2026-12-05T09:00:00Z", report_all=True))
        assert proxy.count("config", "DescribeConfigurationRecorderStatus") == 0
    assert not [f for f in posture_findings(moto, inbox) if f["check"] == "config-not-recording"]

"""Amazon GuardDuty, the other recorders (issue 19), on the real runtime + moto: every GuardDuty
call's sample, a weakening and a harmless variant of each call that has a check, with the live
state the function reads (ListDetectors and GetDetector through the real SDK).

moto implements GuardDuty's detectors (create, get, update, delete, list) and filters, so each
sample runs with a detector that is enabled with two protection plans, and the calls that change
what the function then reads (a delete, a suspend, plans turned off) are made on moto first. moto
implements none of the member, trusted-list or publishing-destination calls: those samples run
against a detector that is still enabled, which is what GuardDuty answers after them. A refused
ListDetectors is played by the fault proxy: the alert goes out all the same and says what could
not be read."""

from __future__ import annotations

import json

import pytest

import faults
import harness

# sample → (severity, the detector afterwards: "enabled", "suspended" or None for no detector,
# the first step's command or None, a fragment of the reasons or None).
SAMPLES = {
    "guardduty-delete-detector": ("HIGH", None, "aws guardduty create-detector --enable --region us-east-1", None),
    "guardduty-update-detector-disable": ("HIGH", "suspended", "aws guardduty update-detector --detector-id 12abc34d567e8fa901bc2d34e56789f0 --enable --region us-east-1", "enable set to false"),
    "guardduty-update-detector-features-off": ("MEDIUM", "enabled", None, "protection turned off: `S3_DATA_EVENTS`, `EC2_AGENT_MANAGEMENT` of `RUNTIME_MONITORING`"),
    "guardduty-update-detector-frequency": ("LOW", "enabled", None, None),
    "guardduty-disassociate-from-administrator-account": ("HIGH", "enabled", None, None),
    "guardduty-disassociate-from-master-account": ("HIGH", "enabled", None, None),
    "guardduty-disassociate-members": ("HIGH", "enabled", None, None),
    "guardduty-delete-members": ("HIGH", "enabled", None, None),
    "guardduty-stop-monitoring-members": ("HIGH", "enabled", "aws guardduty start-monitoring-members --detector-id 12abc34d567e8fa901bc2d34e56789f0 --account-ids 444455556666 --region us-east-1", None),
    "guardduty-update-member-detectors-off": ("MEDIUM", "enabled", None, "for member(s) `444455556666`: protection turned off: `EKS_AUDIT_LOGS`, S3 logs"),
    "guardduty-update-member-detectors-on": ("LOW", "enabled", None, None),
    "guardduty-create-filter-archive": ("MEDIUM", "enabled", "aws guardduty update-filter --detector-id 12abc34d567e8fa901bc2d34e56789f0 --filter-name hide-recon --action NOOP --region us-east-1", "filter `hide-recon` archives the findings it matches"),
    "guardduty-create-filter-noop": ("LOW", "enabled", None, None),
    "guardduty-update-filter-archive": ("MEDIUM", "enabled", "aws guardduty update-filter --detector-id 12abc34d567e8fa901bc2d34e56789f0 --filter-name high-only --action NOOP --region us-east-1", "filter `high-only` archives"),
    "guardduty-update-filter-description": ("LOW", "enabled", None, None),
    "guardduty-create-ip-set-active": ("MEDIUM", "enabled", "aws guardduty update-ip-set --detector-id 12abc34d567e8fa901bc2d34e56789f0 --ip-set-id 0cb0141ab9fbde177613ab9436212e90 --no-activate --region us-east-1", "the list `office` is activated"),
    "guardduty-create-ip-set-inactive": ("LOW", "enabled", None, None),
    "guardduty-update-ip-set-location": ("MEDIUM", "enabled", "aws guardduty update-ip-set --detector-id 12abc34d567e8fa901bc2d34e56789f0 --ip-set-id 0cb0141ab9fbde177613ab9436212e90 --no-activate --region us-east-1", "the list now reads"),
    "guardduty-update-ip-set-deactivate": ("LOW", "enabled", None, None),
    "guardduty-create-trusted-entity-set-active": ("MEDIUM", "enabled", "aws guardduty update-trusted-entity-set --detector-id 12abc34d567e8fa901bc2d34e56789f0 --trusted-entity-set-id 5eb1f2c3d4e5f60718293a4b5c6d7e8f --no-activate --region us-east-1", "the list `partners` is activated"),
    "guardduty-create-trusted-entity-set-inactive": ("LOW", "enabled", None, None),
    "guardduty-update-trusted-entity-set-active": ("MEDIUM", "enabled", "aws guardduty update-trusted-entity-set --detector-id 12abc34d567e8fa901bc2d34e56789f0 --trusted-entity-set-id 5eb1f2c3d4e5f60718293a4b5c6d7e8f --no-activate --region us-east-1", "the list is activated"),
    "guardduty-update-trusted-entity-set-name": ("LOW", "enabled", None, None),
    "guardduty-delete-publishing-destination": ("MEDIUM", "enabled", None, None),
}


def test_every_guardduty_sample_is_here():
    on_disk = {path.stem for path in harness.EVENTS.glob("guardduty-*.json")}
    assert on_disk == set(SAMPLES)


def seed_guardduty(moto) -> str:
    """A detector that is enabled, with two protection plans on; its id (moto chooses it)."""
    return moto.client("guardduty").create_detector(Enable=True, Features=[
        {"Name": "S3_DATA_EVENTS", "Status": "ENABLED"}, {"Name": "RUNTIME_MONITORING", "Status": "ENABLED"}])["DetectorId"]


def replay(moto, detector: str, event: dict) -> None:
    """The call, made on moto's detector as real GuardDuty would have made it before the event
    arrives (the sample names its own detector id; moto chose another)."""
    guardduty = moto.client("guardduty")
    params = event["detail"]["requestParameters"]
    name = event["detail"]["eventName"]
    if name == "DeleteDetector":
        guardduty.delete_detector(DetectorId=detector)
    elif name == "UpdateDetector" and params.get("enable") is False:
        guardduty.update_detector(DetectorId=detector, Enable=False)
    elif name == "UpdateDetector" and "features" in params:
        guardduty.update_detector(DetectorId=detector, Features=[
            {"Name": f["name"], "Status": f["status"]} for f in params["features"]])
    elif name in ("CreateFilter", "UpdateFilter") and params.get("action") == "ARCHIVE":
        guardduty.create_filter(DetectorId=detector, Name=params.get("name") or params["filterName"], Action="ARCHIVE",
                                FindingCriteria={"Criterion": {"severity": {"Gte": 1}}})


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_each_guardduty_call_is_judged_with_whether_the_detector_is_still_enabled(function, moto, world, sample):
    severity, afterwards, first, found = SAMPLES[sample]
    inbox = world()
    detector = seed_guardduty(moto)
    event = harness.load_event(harness.EVENTS / f"{sample}.json")
    replay(moto, detector, event)
    summary = function.invoke(event).json()
    assert summary["status"] == "published", summary
    [message] = harness.delivered(moto, inbox)
    alert = message.alert
    assert alert["severity"] == message.attributes["severity"] == severity, alert["reasons"]
    assert message.attributes["resourceKind"] == "guardduty-detector"
    state = alert["resourceState"]
    assert state["type"] == "guardDuty" and state["region"] == "us-east-1", state
    assert alert["enrichmentError"] is None, alert["enrichmentError"]
    reasons = " | ".join(alert["reasons"])
    if afterwards is None:
        assert state["detectors"] == []
        assert "GuardDuty has no detector in `us-east-1` now" in reasons, reasons
    else:
        [read] = state["detectors"]
        assert read["id"] == detector
        assert read["enabled"] is (afterwards == "enabled")
        expected = "GuardDuty is still enabled in `us-east-1`" if afterwards == "enabled" else "GuardDuty's detector in `us-east-1` is suspended now"
        assert expected in reasons, reasons
    if sample == "guardduty-update-detector-features-off":
        # What GetDetector says afterwards, not what the request asked.
        assert state["detectors"][0]["disabledFeatures"] == ["S3_DATA_EVENTS"]
        assert "protection plans off now: `S3_DATA_EVENTS`" in reasons
    if found:
        assert found in reasons, reasons
    step = alert["nextSteps"][0].get("command") or ""
    if first:
        assert step == first, step
    else:
        assert " --no-activate" not in step and "--action NOOP" not in step, step


def test_a_refused_list_detectors_still_alerts_and_says_so(moto, world):
    inbox = world()
    seed_guardduty(moto)
    with faults.FaultProxy(moto.endpoint) as proxy:
        proxy.inject("guardduty", faults.Fault(
            "status", 403, json.dumps({"message": "not authorized to perform: guardduty:ListDetectors", "__type": "AccessDeniedException"}).encode(),
            {"Content-Type": "application/json", "x-amzn-ErrorType": "AccessDeniedException"}, "ListDetectors"))
        with harness.RuntimeEmulator(harness.RELEASE_BINARY, proxy.endpoint) as function:
            summary = function.invoke(harness.load_event(harness.EVENTS / "guardduty-delete-detector.json")).json()
        assert proxy.count("guardduty", "ListDetectors") >= 1
    assert summary["status"] == "published", summary
    [message] = harness.delivered(moto, inbox)
    alert = message.alert
    assert alert["severity"] == "HIGH"
    assert alert["resourceState"]["type"] == "notLookedUp"
    assert "ListDetectors/GetDetector" in (alert["enrichmentError"] or "")
    assert "AccessDenied" in alert["enrichmentError"]


def test_a_trusted_pipeline_saving_a_filter_is_informational_and_deleting_the_detector_is_not(moto, world):
    inbox = world()
    detector = seed_guardduty(moto)
    env = {"TRUSTED_PRINCIPALS": "arn:aws:iam::111122223333:user/alice"}
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, moto.endpoint, env) as function:
        function.invoke(harness.load_event(harness.EVENTS / "guardduty-create-filter-noop.json"))
        delete = harness.load_event(harness.EVENTS / "guardduty-delete-detector.json")
        replay(moto, detector, delete)
        function.invoke(delete)
    harmless, deleted = harness.delivered(moto, inbox)
    assert harmless.alert["severity"] == "INFORMATIONAL"
    assert deleted.alert["severity"] == "HIGH", "a delete is never downgraded for a trusted principal"


# ---------------------------------------------------------------- the posture check


def posture_findings(moto, inbox) -> list[dict]:
    [message] = harness.delivered(moto, inbox)
    return message.alert["posture"]["findings"]


def test_the_posture_check_finds_each_region_where_guardduty_is_off(moto, world):
    inbox = world()
    detector = seed_guardduty(moto)  # us-east-1 has an enabled detector; eu-west-1 has none
    env = {"POSTURE_RECORDERS": "guardduty=true", "POSTURE_REGIONS": "us-east-1,eu-west-1"}
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, moto.endpoint, env) as function:
        assert function.invoke(harness.scheduled_event("2026-12-05T09:00:00Z", report_all=True)).json()["status"] == "published"
        off = [f for f in posture_findings(moto, inbox) if f["check"] == "guardduty-not-enabled"]
        assert [(f["region"], f["severity"]) for f in off] == [("eu-west-1", "HIGH")], off
        assert "GuardDuty has no detector in `eu-west-1`" in off[0]["detail"]
        # The detector suspended in us-east-1: the next run names it too.
        moto.client("guardduty").update_detector(DetectorId=detector, Enable=False)
        function.invoke(harness.scheduled_event("2026-12-05T10:00:00Z", report_all=True))
        [message] = harness.delivered(moto, inbox)
    off = {f["region"]: f for f in message.alert["posture"]["findings"] if f["check"] == "guardduty-not-enabled"}
    assert set(off) == {"us-east-1", "eu-west-1"}
    assert f"GuardDuty's detector `{detector}` in `us-east-1` is suspended" in off["us-east-1"]["detail"]
    steps = [s.get("command") or "" for s in message.alert["nextSteps"]]
    assert "aws guardduty list-detectors --region us-east-1" in steps


def test_with_the_guardduty_check_off_guardduty_is_not_read(moto, world):
    inbox = world()
    with faults.FaultProxy(moto.endpoint) as proxy:
        env = {"POSTURE_RECORDERS": "config=true,guardduty=false,securityhub=true", "POSTURE_REGIONS": "us-east-1,eu-west-1"}
        with harness.RuntimeEmulator(harness.RELEASE_BINARY, proxy.endpoint, env) as function:
            function.invoke(harness.scheduled_event("2026-12-05T09:00:00Z", report_all=True))
        assert proxy.count("guardduty", "ListDetectors") == 0
    assert not [f for f in posture_findings(moto, inbox) if f["check"] == "guardduty-not-enabled"]

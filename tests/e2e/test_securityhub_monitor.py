"""AWS Security Hub, the other recorders (issue 19), on the real runtime + moto: every Security
Hub call's sample, a weakening and a harmless variant of each call that has a check, with the
live state the function reads (DescribeHub through the real SDK).

moto implements enabling, disabling and describing the hub, so each sample runs with Security
Hub enabled, and DisableSecurityHub is made on moto first: the function then reads it off. moto
implements none of the other calls; what the function reads after them is a hub that is still
enabled, which is what Security Hub answers after them. The new Security Hub (the V2 calls) has
no read the function makes: those alerts say its state was not looked up. A refused DescribeHub
is played by the fault proxy: the alert goes out all the same and says what could not be read.
BatchUpdateFindings is watched only on trailwatch's own findings: the rule patterns, on moto's
EventBridge, and the function each leave the rest alone."""

from __future__ import annotations

import copy
import json

import pytest

import faults
import harness
import template as tpl

# sample → (severity, Security Hub enabled afterwards (None: not looked up), the first step's
# command or None).
SAMPLES = {
    "securityhub-disable-security-hub": ("HIGH", False, "aws securityhub enable-security-hub --enable-default-standards --region us-east-1"),
    "securityhub-disable-security-hub-v2": ("HIGH", None, "aws securityhub enable-security-hub-v2 --region us-east-1"),
    "securityhub-disassociate-from-administrator-account": ("HIGH", True, None),
    "securityhub-disassociate-from-master-account": ("HIGH", True, None),
    "securityhub-batch-disable-standards": ("MEDIUM", True, None),
    "securityhub-disable-cloudtrail-control": ("HIGH", True, None),
    "securityhub-enable-controls": ("LOW", True, None),
    "securityhub-disable-import-findings-for-product": ("MEDIUM", True, "aws securityhub enable-import-findings-for-product --product-arn arn:aws:securityhub:us-east-1::product/aws/guardduty --region us-east-1"),
    "securityhub-create-automation-rule-suppresses": ("MEDIUM", True, None),
    "securityhub-create-automation-rule-notes": ("LOW", True, None),
    "securityhub-batch-update-automation-rules-resolves": ("MEDIUM", True, None),
    "securityhub-create-automation-rule-v2-suppresses": ("MEDIUM", None, None),
    "securityhub-update-automation-rule-v2-comments": ("LOW", None, None),
    "securityhub-batch-update-findings-suppresses-trailwatch": ("MEDIUM", True, None),
    "securityhub-batch-update-findings-notified": ("LOW", True, None),
}

# What each weakening sample's reasons say the check found.
FOUND = {
    "securityhub-disable-cloudtrail-control": "2 control(s) disabled: `CloudTrail.1`, `EC2.2`",
    "securityhub-create-automation-rule-suppresses": "workflow to SUPPRESSED",
    "securityhub-batch-update-automation-rules-resolves": "workflow to RESOLVED",
    "securityhub-create-automation-rule-v2-suppresses": "status to Suppressed",
    "securityhub-batch-update-findings-suppresses-trailwatch": "1 of trailwatch's findings (`trailwatch/111122223333/us-east-1/event/",
}


def test_every_securityhub_sample_is_here():
    on_disk = {path.stem for path in harness.EVENTS.glob("securityhub-*.json")}
    assert on_disk == set(SAMPLES)


def replay(moto, event: dict) -> None:
    """The call, made on moto as real Security Hub would have made it before the event arrives."""
    if event["detail"]["eventName"] == "DisableSecurityHub":
        moto.client("securityhub").disable_security_hub()


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_each_securityhub_call_is_judged_with_whether_security_hub_is_still_enabled(function, moto, world, sample):
    severity, enabled, first = SAMPLES[sample]
    inbox = world()
    moto.client("securityhub").enable_security_hub()
    event = harness.load_event(harness.EVENTS / f"{sample}.json")
    replay(moto, event)
    summary = function.invoke(event).json()
    assert summary["status"] == "published", summary
    [message] = harness.delivered(moto, inbox)
    alert = message.alert
    assert alert["severity"] == message.attributes["severity"] == severity, alert["reasons"]
    reasons = " | ".join(alert["reasons"])
    state = alert["resourceState"]
    if enabled is None:
        assert state["type"] == "notLookedUp", state
        assert "new Security Hub's state is not read" in alert["enrichmentError"]
    else:
        assert state == {"type": "securityHub", "region": "us-east-1", "enabled": enabled}, state
        assert alert["enrichmentError"] is None, alert["enrichmentError"]
        expected = "Security Hub is still enabled in `us-east-1`" if enabled else "Security Hub is not enabled in `us-east-1` now"
        assert expected in reasons, reasons
    if sample in FOUND:
        assert FOUND[sample] in reasons, reasons
    step = alert["nextSteps"][0].get("command") or ""
    if first:
        assert step == first, step
    else:
        assert not step.startswith("aws securityhub enable-"), step


def test_a_refused_describe_hub_still_alerts_and_says_so(moto, world):
    inbox = world()
    moto.client("securityhub").enable_security_hub()
    with faults.FaultProxy(moto.endpoint) as proxy:
        proxy.inject("securityhub", faults.Fault(
            "status", 403, json.dumps({"message": "not authorized to perform: securityhub:DescribeHub"}).encode(),
            {"Content-Type": "application/json", "x-amzn-ErrorType": "AccessDeniedException"}, "DescribeHub"))
        with harness.RuntimeEmulator(harness.RELEASE_BINARY, proxy.endpoint) as function:
            summary = function.invoke(harness.load_event(harness.EVENTS / "securityhub-batch-disable-standards.json")).json()
        assert proxy.count("securityhub", "DescribeHub") >= 1
    assert summary["status"] == "published", summary
    [message] = harness.delivered(moto, inbox)
    alert = message.alert
    assert alert["severity"] == "MEDIUM"
    assert alert["resourceState"]["type"] == "notLookedUp"
    assert "DescribeHub" in (alert["enrichmentError"] or "")
    assert "AccessDenied" in alert["enrichmentError"]


def test_a_trusted_pipeline_enabling_controls_is_informational_and_disabling_the_hub_is_not(moto, world):
    inbox = world()
    moto.client("securityhub").enable_security_hub()
    env = {"TRUSTED_PRINCIPALS": "arn:aws:iam::111122223333:user/alice"}
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, moto.endpoint, env) as function:
        function.invoke(harness.load_event(harness.EVENTS / "securityhub-enable-controls.json"))
        disable = harness.load_event(harness.EVENTS / "securityhub-disable-security-hub.json")
        replay(moto, disable)
        function.invoke(disable)
    harmless, disabled = harness.delivered(moto, inbox)
    assert harmless.alert["severity"] == "INFORMATIONAL"
    assert disabled.alert["severity"] == "HIGH", "a disable is never downgraded for a trusted principal"


def someone_elses_findings() -> dict:
    """The suppressing BatchUpdateFindings, on a GuardDuty finding instead of trailwatch's."""
    event = copy.deepcopy(harness.load_event(harness.EVENTS / "securityhub-batch-update-findings-suppresses-trailwatch.json"))
    finding = {"Id": "arn:aws:guardduty:us-east-1:111122223333:detector/12abc34d/finding/7ef5", "ProductArn": "arn:aws:securityhub:us-east-1::product/aws/guardduty"}
    event["detail"]["requestParameters"]["FindingIdentifiers"] = [finding]
    event["detail"]["responseElements"]["ProcessedFindings"] = [finding]
    event["detail"]["eventID"] = "6f3c1b2a-8e4d-4c1f-a7b9-0000000001ff"
    return event


def test_triage_of_other_findings_is_ignored_by_the_function(function, moto, world):
    inbox = world()
    summary = function.invoke(someone_elses_findings()).json()
    assert summary["status"] == "ignored", summary
    assert "not a monitored call" in summary["reason"], summary
    assert harness.delivered(moto, inbox) == []


def test_the_rule_pattern_names_the_fields_the_recorded_request_has():
    """The alert rule's branch for BatchUpdateFindings filters on `FindingIdentifiers` → `Id`
    with the prefix trailwatch's findings have. moto's EventBridge cannot play it: it does not
    flatten arrays of objects as EventBridge's matcher (Event Ruler) does. What can break here is
    checked instead: the keys are the recorded request's own (PascalCase), the prefix is the one
    the function's own findings carry, and the template's rules say it."""
    template = tpl.load()
    branches = [branch for rule in tpl.alert_rules(template)
                for branch in template["Resources"][rule]["Properties"]["EventPattern"]["detail"]["$or"]
                if "requestParameters" in branch]
    assert branches == [{
        "eventSource": ["securityhub.amazonaws.com"], "eventName": ["BatchUpdateFindings"],
        "requestParameters": {"FindingIdentifiers": {"Id": [{"prefix": "trailwatch/"}]}}}]
    for sample in ("securityhub-batch-update-findings-suppresses-trailwatch", "securityhub-batch-update-findings-notified"):
        request = harness.load_event(harness.EVENTS / f"{sample}.json")["detail"]["requestParameters"]
        assert all(finding["Id"].startswith("trailwatch/") for finding in request["FindingIdentifiers"])


def test_suppressing_the_finding_trailwatch_imported_is_an_alert(moto, world):
    """The function imports a stop's finding; an analyst suppresses that very finding; the
    call on it is judged MEDIUM and names it."""
    inbox = world()
    moto.client("securityhub").enable_security_hub()
    stop = harness.load_event(harness.EVENTS / "stop-logging.json")
    harness.replay(moto, stop)
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, moto.endpoint, {"SECURITY_HUB_FINDINGS": "true"}) as function:
        function.invoke(stop)
        [finding] = moto.client("securityhub").get_findings()["Findings"]
        suppress = copy.deepcopy(harness.load_event(harness.EVENTS / "securityhub-batch-update-findings-suppresses-trailwatch.json"))
        identifier = {"Id": finding["Id"], "ProductArn": finding["ProductArn"]}
        suppress["detail"]["requestParameters"]["FindingIdentifiers"] = [identifier]
        assert function.invoke(suppress).json()["status"] == "published"
    _, message = harness.delivered(moto, inbox)
    assert message.alert["severity"] == "MEDIUM"
    assert f"1 of trailwatch's findings (`{finding['Id']}`) set SUPPRESSED" in " | ".join(message.alert["reasons"])


# ---------------------------------------------------------------- the posture check


def posture_findings(moto, inbox) -> list[dict]:
    [message] = harness.delivered(moto, inbox)
    return message.alert["posture"]["findings"]


def test_the_posture_check_finds_each_region_where_security_hub_is_off(moto, world):
    inbox = world()
    moto.client("securityhub").enable_security_hub()  # us-east-1 only
    env = {"POSTURE_RECORDERS": "securityhub=true", "POSTURE_REGIONS": "us-east-1,eu-west-1"}
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, moto.endpoint, env) as function:
        assert function.invoke(harness.scheduled_event("2026-12-05T09:00:00Z", report_all=True)).json()["status"] == "published"
        off = [f for f in posture_findings(moto, inbox) if f["check"] == "security-hub-not-enabled"]
        assert [(f["region"], f["severity"]) for f in off] == [("eu-west-1", "HIGH")], off
        # Disabled in us-east-1 too: the next run names both.
        moto.client("securityhub").disable_security_hub()
        function.invoke(harness.scheduled_event("2026-12-05T10:00:00Z", report_all=True))
        [message] = harness.delivered(moto, inbox)
    off = {f["region"] for f in message.alert["posture"]["findings"] if f["check"] == "security-hub-not-enabled"}
    assert off == {"us-east-1", "eu-west-1"}
    steps = [s.get("command") or "" for s in message.alert["nextSteps"]]
    assert "aws securityhub enable-security-hub --enable-default-standards --region us-east-1" in steps


def test_with_the_security_hub_check_off_security_hub_is_not_read(moto, world):
    inbox = world()
    with faults.FaultProxy(moto.endpoint) as proxy:
        env = {"POSTURE_RECORDERS": "config=true,guardduty=true,securityhub=false", "POSTURE_REGIONS": "us-east-1,eu-west-1"}
        with harness.RuntimeEmulator(harness.RELEASE_BINARY, proxy.endpoint, env) as function:
            function.invoke(harness.scheduled_event("2026-12-05T09:00:00Z", report_all=True))
        assert proxy.count("securityhub", "DescribeHub") == 0
    assert not [f for f in posture_findings(moto, inbox) if f["check"] == "security-hub-not-enabled"]

"""AWS Organizations, the other recorders' reach (issue 19), on the real runtime + moto: an
account leaving its organization is judged by the coverage verdict (is any multi-region trail
of its own still recording it?), and DisableAWSServiceAccess by the organization's trusted
services afterwards (ListAWSServiceAccessForOrganization through the real SDK).

moto implements organizations, trusted access and its listing, so the DisableAWSServiceAccess
samples run in an organization whose management account is the function's, with CloudTrail,
GuardDuty and RAM trusted, and the call made on moto first. moto does not implement
LeaveOrganization, so it is not replayed: what the function reads afterwards is the
account's own trails, which is what matters once the organization's are gone. Without an
organization (test_runtime.py), moto lists no trusted service. A refused listing (any account
but the management account's) is played by the fault proxy."""

from __future__ import annotations

import json

import pytest

import faults
import harness

TRUSTED = ["cloudtrail.amazonaws.com", "guardduty.amazonaws.com", "ram.amazonaws.com"]

# sample → (severity, the principal disabled, the first step's command or None).
SAMPLES = {
    "organizations-disable-aws-service-access-cloudtrail": ("HIGH", "cloudtrail.amazonaws.com", "aws organizations enable-aws-service-access --service-principal cloudtrail.amazonaws.com"),
    "organizations-disable-aws-service-access-guardduty": ("HIGH", "guardduty.amazonaws.com", "aws organizations enable-aws-service-access --service-principal guardduty.amazonaws.com"),
    "organizations-disable-aws-service-access-other": ("LOW", "ram.amazonaws.com", None),
}


def test_every_organizations_sample_is_here():
    on_disk = {path.stem for path in harness.EVENTS.glob("organizations-*.json")}
    assert on_disk == set(SAMPLES) | {"organizations-leave-organization"}


def seed_organization(moto) -> None:
    organizations = moto.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    for principal in TRUSTED:
        organizations.enable_aws_service_access(ServicePrincipal=principal)


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_disabling_trusted_access_is_judged_by_the_service_and_read_back(function, moto, world, sample):
    severity, principal, first = SAMPLES[sample]
    inbox = world()
    seed_organization(moto)
    event = harness.load_event(harness.EVENTS / f"{sample}.json")
    moto.client("organizations").disable_aws_service_access(ServicePrincipal=principal)
    summary = function.invoke(event).json()
    assert summary["status"] == "published", summary
    [message] = harness.delivered(moto, inbox)
    alert = message.alert
    assert alert["severity"] == message.attributes["severity"] == severity, alert["reasons"]
    assert message.attributes["resourceKind"] == "organization"
    state = alert["resourceState"]
    assert state["type"] == "trustedAccess" and set(state["services"]) == set(TRUSTED) - {principal}, state
    assert alert["enrichmentError"] is None, alert["enrichmentError"]
    reasons = " | ".join(alert["reasons"])
    assert f"the organization does not trust `{principal}` now" in reasons, reasons
    step = alert["nextSteps"][0].get("command") or ""
    if first:
        assert step == first, step
    else:
        assert not step.startswith("aws organizations enable-aws-service-access"), step


def test_a_disable_that_was_undone_since_says_so(function, moto, world):
    inbox = world()
    seed_organization(moto)  # CloudTrail trusted again (or never disabled) when the event arrives
    function.invoke(harness.load_event(harness.EVENTS / "organizations-disable-aws-service-access-cloudtrail.json"))
    [message] = harness.delivered(moto, inbox)
    assert message.alert["severity"] == "HIGH", "the call reduced what is recorded, whatever came after"
    assert "the organization still trusts `cloudtrail.amazonaws.com` (enabled again since)" in " | ".join(message.alert["reasons"])


@pytest.mark.parametrize("logging", [True, False], ids=["own-trail-logging", "own-trail-stopped"])
def test_leaving_the_organization_is_critical_when_no_trail_of_the_accounts_own_records_it(function, moto, world, logging):
    inbox = world(logging=logging)
    summary = function.invoke(harness.load_event(harness.EVENTS / "organizations-leave-organization.json")).json()
    assert summary["status"] == "published", summary
    [message] = harness.delivered(moto, inbox)
    alert = message.alert
    coverage = alert["coverage"]
    if logging:
        assert alert["severity"] == "HIGH"
        assert coverage["verdict"] == "covered", coverage
        assert harness.TRAIL in coverage["coveringTrails"] or harness.TRAIL_ARN in coverage["coveringTrails"], coverage
    else:
        assert alert["severity"] == "CRITICAL", alert["reasons"]
        assert coverage["verdict"] == "uncovered", coverage
        assert coverage["coveringTrails"] == []
    steps = [step.get("command") or "" for step in alert["nextSteps"]]
    assert "aws cloudtrail describe-trails --region us-east-1" in steps


def test_a_member_account_that_cannot_list_trusted_access_still_alerts_and_says_so(moto, world):
    inbox = world()
    seed_organization(moto)
    with faults.FaultProxy(moto.endpoint) as proxy:
        proxy.inject("organizations", faults.Fault(
            "status", 400, json.dumps({"__type": "AccessDeniedException", "Message": "You don't have permissions to access this resource."}).encode(),
            {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": "AccessDeniedException"}, "ListAWSServiceAccessForOrganization"))
        with harness.RuntimeEmulator(harness.RELEASE_BINARY, proxy.endpoint) as function:
            summary = function.invoke(harness.load_event(harness.EVENTS / "organizations-disable-aws-service-access-cloudtrail.json")).json()
        assert proxy.count("organizations", "ListAWSServiceAccessForOrganization") >= 1
    assert summary["status"] == "published", summary
    [message] = harness.delivered(moto, inbox)
    alert = message.alert
    assert alert["severity"] == "HIGH"
    assert alert["resourceState"]["type"] == "notLookedUp"
    assert "ListAWSServiceAccessForOrganization" in (alert["enrichmentError"] or "")
    assert "AccessDenied" in alert["enrichmentError"]

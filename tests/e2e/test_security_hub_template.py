"""Issue 18's template: findings in Security Hub are opt-in, and granted exactly the import
through the account's own product and the read of its own hub's findings."""

from __future__ import annotations

import template as tpl


def policy(**overrides: str) -> dict[str, object]:
    template = tpl.load()
    params = tpl.parameters(template, **overrides)
    statements = tpl.evaluate(template, template["Resources"]["AlertFunctionPolicy"]["Properties"]["PolicyDocument"], params)["Statement"]
    granted = {}
    for statement in statements:
        for action in [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]:
            granted[action] = statement["Resource"]
    return granted


def environment(**overrides: str) -> dict[str, str]:
    template = tpl.load()
    params = tpl.parameters(template, **overrides)
    return tpl.evaluate(template, template["Resources"]["AlertFunction"]["Properties"]["Environment"]["Variables"], params)


def test_findings_are_off_unless_asked_for():
    template = tpl.load()
    assert template["Parameters"]["SecurityHubFindings"]["Default"] == "false"
    assert environment()["SECURITY_HUB_FINDINGS"] == "false"
    # Only the Security Hub monitor's read of whether the hub is enabled, in any region.
    assert {action for action in policy() if action.startswith("securityhub:")} == {"securityhub:DescribeHub"}


def test_on_it_may_import_through_its_own_product_and_read_its_own_hub_only():
    assert environment(SecurityHubFindings="true")["SECURITY_HUB_FINDINGS"] == "true"
    granted = policy(SecurityHubFindings="true")
    assert {action for action in granted if action.startswith("securityhub:")} == {
        "securityhub:BatchImportFindings", "securityhub:GetFindings", "securityhub:DescribeHub"}
    account, region = "111122223333", "eu-west-1"
    assert granted["securityhub:BatchImportFindings"] == f"arn:aws:securityhub:{region}:{account}:product/{account}/default"
    assert granted["securityhub:GetFindings"] == f"arn:aws:securityhub:{region}:{account}:hub/default"

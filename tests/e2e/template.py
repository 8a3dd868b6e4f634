"""Reading template.yaml as CloudFormation sees it (intrinsic-function tags included)."""

from __future__ import annotations

from cfnlint.decode import decode

import harness

TEMPLATE = harness.ROOT / "template.yaml"


def load() -> dict:
    template, problems = decode(str(TEMPLATE))
    assert not problems, problems
    return template


def resources(template: dict, kind: str) -> dict[str, dict]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def alert_rule_pattern(template: dict) -> dict:
    """The pattern of the function's EventBridge rule: what reaches the function."""
    function = template["Resources"]["AlertFunction"]["Properties"]
    [event] = [e for e in function["Events"].values() if e["Type"] == "EventBridgeRule"]
    return event["Properties"]["Pattern"]

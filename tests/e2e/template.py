"""Reading template.yaml as CloudFormation sees it (intrinsic-function tags included), and
working out which resources a given set of parameters creates."""

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
    """The pattern of the rule that sends this account's CloudTrail changes to the function."""
    return template["Resources"]["AlertRule"]["Properties"]["EventPattern"]


def parameters(template: dict, region: str = "eu-west-1", account: str = "111122223333", **overrides: str) -> dict[str, str]:
    values = {name: str(p.get("Default", "")) for name, p in template["Parameters"].items()}
    values.update({"AWS::Region": region, "AWS::AccountId": account, "AWS::Partition": "aws"})
    values.update(overrides)
    return values


def condition(template: dict, name: str, params: dict[str, str]) -> bool:
    """Evaluates one of the template's conditions for the given parameter values."""

    def value(node):
        if not isinstance(node, dict):
            return node
        (function, args), = node.items()
        if function == "Ref":
            return params[args]
        if function == "Fn::Join":
            return args[0].join(str(value(a)) for a in args[1])
        if function == "Fn::Split":
            return str(value(args[1])).split(args[0])
        if function == "Fn::Select":
            return value(args[1])[int(args[0])]
        raise AssertionError(f"unsupported function {function}")

    def truth(node) -> bool:
        (function, args), = node.items()
        if function == "Condition":
            return truth(template["Conditions"][args])
        if function == "Fn::Equals":
            return str(value(args[0])) == str(value(args[1]))
        if function == "Fn::Not":
            return not truth(args[0])
        if function == "Fn::And":
            return all(truth(a) for a in args)
        if function == "Fn::Or":
            return any(truth(a) for a in args)
        raise AssertionError(f"unsupported condition function {function}")

    return truth(template["Conditions"][name])


def created(template: dict, region: str = "eu-west-1", account: str = "111122223333", **overrides: str) -> set[str]:
    """The logical ids of the resources a stack with these parameters would create, deployed in
    `region` of `account`."""
    params = parameters(template, region, account, **overrides)
    return {
        name
        for name, resource in template["Resources"].items()
        if "Condition" not in resource or condition(template, resource["Condition"], params)
    }

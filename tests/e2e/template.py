"""Reading template.yaml as CloudFormation sees it (intrinsic-function tags included), working
out which resources a given set of parameters creates, and what their properties evaluate to."""

from __future__ import annotations

import re

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
    """The pattern of the first rule that sends this account's CloudTrail changes to the
    function (CloudTrail's own calls and the heartbeat's)."""
    return template["Resources"]["AlertRule"]["Properties"]["EventPattern"]


def alert_rules(template: dict) -> list[str]:
    """The rules that send this account's monitored calls to the function, in order: each
    carries its share of `bootstrap --event-patterns`."""
    return [name for name in template["Resources"] if name.rstrip("0123456789") == "AlertRule"]


# The last part of an example stack id (arn:...:stack/NAME/UUID), which names the rules, topics
# and queues that must be named before they exist.
STACK_UUID = "1c2fa620-982a-11e3-aff7-50e2416294e0"
STACK_NAME = "trailwatch"


def parameters(
    template: dict, region: str = "eu-west-1", account: str = "111122223333", stack_name: str = STACK_NAME,
    partition: str = "aws", **overrides: str,
) -> dict[str, str]:
    """Parameter values (defaults unless overridden) and pseudo parameters of one stack."""
    values = {name: str(p.get("Default", "")) for name, p in template["Parameters"].items()}
    values.update({
        "AWS::Region": region, "AWS::AccountId": account, "AWS::Partition": partition,
        "AWS::URLSuffix": "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com",
        "AWS::StackName": stack_name,
        "AWS::StackId": f"arn:{partition}:cloudformation:{region}:{account}:stack/{stack_name}/{STACK_UUID}",
    })
    values.update(overrides)
    return values


NO_VALUE = object()


def evaluate(template: dict, node, params: dict[str, str], refs: dict[str, str] | None = None):
    """`node` with its intrinsic functions resolved as CloudFormation would for `params`.
    A resource's Ref or GetAtt resolves to refs["Name"] or refs["Name.Attribute"] when given,
    else to the placeholder "{Name}" or "{Name.Attribute}"; AWS::NoValue drops the item."""
    refs = refs or {}

    def resource(name: str) -> str:
        assert name.split(".")[0] in template["Resources"], f"no resource or parameter {name}"
        return refs.get(name, "{" + name + "}")

    def sub(text: str, variables: dict) -> str:
        def one(match: re.Match) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if name in params:
                return params[name]
            return resource(name)

        return re.sub(r"\$\{([^}]+)\}", one, text)

    def value(node):
        if isinstance(node, list):
            return [v for v in (value(item) for item in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (function, args), = node.items()
            if function == "Ref":
                if args == "AWS::NoValue":
                    return NO_VALUE
                return params[args] if args in params else resource(args)
            if function == "Fn::GetAtt":
                return resource(".".join(args))
            if function == "Fn::Sub":
                if isinstance(args, str):
                    return sub(args, {})
                return sub(args[0], {k: value(v) for k, v in args[1].items()})
            if function == "Fn::Join":
                return args[0].join(str(v) for v in value(args[1]))
            if function == "Fn::Split":
                return str(value(args[1])).split(args[0])
            if function == "Fn::Select":
                return value(args[1])[int(value(args[0]))]
            if function == "Fn::If":
                return value(args[1] if condition(template, args[0], params) else args[2])
            if function == "Fn::FindInMap":
                return template["Mappings"][value(args[0])][str(value(args[1]))][value(args[2])]
            assert not function.startswith("Fn::"), f"unsupported function {function}"
        return {k: v for k, v in ((k, value(v)) for k, v in node.items()) if v is not NO_VALUE}

    return value(node)


def references(node) -> set[str]:
    """The resources and parameters `node` refers to (Ref, GetAtt, and ${...} in Sub)."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= references(item)
    elif isinstance(node, dict):
        for key, item in node.items():
            if key == "Ref":
                found.add(item)
            elif key == "Fn::GetAtt":
                found.add(item[0])
            elif key == "Fn::Sub":
                text, variables = (item, {}) if isinstance(item, str) else (item[0], item[1])
                found |= {n.split(".")[0] for n in re.findall(r"\$\{([^!}][^}]*)\}", text) if n not in variables}
                found |= references(variables)
            else:
                found |= references(item)
    return found


def condition(template: dict, name: str, params: dict[str, str]) -> bool:
    """Evaluates one of the template's conditions for the given parameter values."""

    def value(node):
        return evaluate(template, node, params)

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

"""template.yaml through moto's CloudFormation: create, delete, create again under the same
stack name (issue 16).

What was kept when a stack was deleted (DeletionPolicy Retain) had a fixed name, so the next
create of a stack with the same name failed "already exists"; the same happened after a failed
first create (`sam deploy --guided`), which AWS rolls back keeping Retain resources. Every kept
resource is now named from the stack's id, which is new for every stack, and the first create's
rollback deletes them (RetainExceptOnCreate).

moto (5.2.5) models the delete, not the rollback: it honours DeletionPolicy `Retain` on
delete_stack (and does not know `RetainExceptOnCreate`, which behaves exactly like Retain on a
delete, so the copy given to moto says Retain). What it cannot run is adapted in that copy only,
as ../shared/REFERENCE.md lists: the long form of the template, the function's code in an S3
object, conditional statements resolved (moto leaves a null for AWS::NoValue inside a
Statement list), and an EventPattern given as a JSON string turned into the object it stands
for. It skips topic and queue policies, alarms, subscriptions, metric filters, schedules and
EventInvokeConfig. A stack read after its deletion is recreated by moto, so kept resources are
checked through their own services' APIs.
"""

from __future__ import annotations

import copy
import json
import warnings

import pytest
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

import harness
import template as tpl

STACK = "trailwatch"
CODE_BUCKET = "trailwatch-code"
CENTRAL_BUS = "arn:aws:events:eu-west-1:444455556666:event-bus/trailwatch-central"
CENTRAL_ID = "5e4d3c2b-1a09-4f8e-9d7c-6b5a4c3d2e1f"

LAYOUTS = {
    "standalone": {},
    "forwarder": {"Mode": "forwarder", "CentralEventBusArn": CENTRAL_BUS, "CentralId": CENTRAL_ID},
}


def for_moto(template: dict, parameters: dict[str, str]) -> dict:
    """A copy of the template that moto's CloudFormation can run, meaning the same."""
    t = copy.deepcopy(template)
    params = tpl.parameters(t, region=harness.HOME_REGION, account=harness.ACCOUNT, stack_name=STACK, **parameters)
    for resource in t["Resources"].values():
        # On a delete, RetainExceptOnCreate is Retain; moto knows only the latter.
        if resource.get("DeletionPolicy") == "RetainExceptOnCreate":
            resource["DeletionPolicy"] = "Retain"
    t["Resources"]["AlertFunction"]["Properties"]["Code"] = {"S3Bucket": CODE_BUCKET, "S3Key": "bootstrap.zip"}

    def resolve_conditional_statements(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "Statement" and isinstance(value, list):
                    kept = []
                    for statement in value:
                        if isinstance(statement, dict) and "Fn::If" in statement:
                            name, yes, no = statement["Fn::If"]
                            statement = yes if tpl.condition(t, name, params) else no
                            if statement == {"Ref": "AWS::NoValue"}:
                                continue
                        kept.append(statement)
                    node[key] = kept
                resolve_conditional_statements(node[key])
        elif isinstance(node, list):
            for item in node:
                resolve_conditional_statements(item)

    resolve_conditional_statements(t["Resources"])

    def is_number(node) -> bool:
        return isinstance(node, dict) and t["Parameters"].get(node.get("Ref"), {}).get("Type") == "Number"

    def resolve_number_keys(node):
        """moto looks a Number parameter up in a mapping, and compares it in Fn::Equals, as an
        integer; CloudFormation as the string it is: give moto the string."""
        if isinstance(node, dict):
            found = node.get("Fn::FindInMap")
            if isinstance(found, list) and is_number(found[1]):
                found[1] = params[found[1]["Ref"]]
            compared = node.get("Fn::Equals")
            if isinstance(compared, list):
                node["Fn::Equals"] = [params[item["Ref"]] if is_number(item) else item for item in compared]
            for value in node.values():
                resolve_number_keys(value)
        elif isinstance(node, list):
            for item in node:
                resolve_number_keys(item)

    resolve_number_keys(t["Resources"])
    resolve_number_keys(t["Conditions"])

    for resource in t["Resources"].values():
        pattern = resource.get("Properties", {}).get("EventPattern")
        if isinstance(pattern, dict) and "Fn::Sub" in pattern:
            text, variables = pattern["Fn::Sub"]

            def sub_strings(node):
                if isinstance(node, str):
                    return {"Fn::Sub": [node, variables]} if "${" in node else node
                if isinstance(node, list):
                    return [sub_strings(item) for item in node]
                return {key: sub_strings(value) for key, value in node.items()}

            resource["Properties"]["EventPattern"] = sub_strings(json.loads(text))
    return t


@pytest.fixture
def cloudformation(moto):
    moto.reset()
    harness.upload_function_code(moto, CODE_BUCKET)
    return moto.client("cloudformation")


def create(cloudformation, template: dict, parameters: dict[str, str]) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # moto warns about each resource type it skips
        stack_id = cloudformation.create_stack(
            StackName=STACK, TemplateBody=json.dumps(template),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
        )["StackId"]
    [stack] = cloudformation.describe_stacks(StackName=stack_id)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack
    return stack_id


def physical_ids(cloudformation, stack_id: str) -> dict[str, str]:
    return {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cloudformation.list_stack_resources(StackName=stack_id)["StackResourceSummaries"]
    }


def log_groups(moto) -> set[str]:
    return {g["logGroupName"] for g in moto.client("logs").describe_log_groups()["logGroups"]}


def queues(moto) -> set[str]:
    return {url.rsplit("/", 1)[1] for url in moto.client("sqs").list_queues().get("QueueUrls", [])}


def keys(moto) -> set[str]:
    # (moto's DescribeKey fails on a key CloudFormation made: it keeps the policy as a dict.)
    return {k["KeyId"] for k in moto.client("kms").list_keys()["Keys"]}


def kept_here(moto, ids: dict[str, str]) -> dict[str, bool]:
    """Whether each kept resource of a stack (by its physical id) still exists."""
    exists = {}
    for name, physical in ids.items():
        if name == "FunctionLogGroup":
            exists[name] = physical in log_groups(moto)
        elif name.endswith("Queue"):
            exists[name] = physical.rsplit("/", 1)[1] in queues(moto)
        elif name == "AlertKey":
            exists[name] = physical in keys(moto)
    return exists


KEPT = {n for n, r in tpl.load()["Resources"].items() if r.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate")}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_a_stack_can_be_created_again_under_its_name_after_a_delete_and_keeps_what_it_kept(cloudformation, moto, layout):
    parameters = LAYOUTS[layout]
    template = for_moto(tpl.load(), parameters)
    made = tpl.created(tpl.load(), harness.HOME_REGION, harness.ACCOUNT, **parameters)
    kept_names = KEPT & made
    assert kept_names, layout

    first = create(cloudformation, template, parameters)
    first_ids = physical_ids(cloudformation, first)
    first_kept = {name: first_ids[name] for name in kept_names}
    assert set(kept_here(moto, first_kept).values()) == {True}

    cloudformation.delete_stack(StackName=first)
    # Kept: the function's logs, the parked events and the key that can still read them.
    assert kept_here(moto, first_kept) == dict.fromkeys(kept_names, True)
    if layout == "standalone":
        topics = {t["TopicArn"] for t in moto.client("sns").list_topics()["Topics"]}
        assert first_ids["AlertTopic"] not in topics, "what is not kept goes with the stack"

    second = create(cloudformation, template, parameters)
    assert second != first
    second_ids = physical_ids(cloudformation, second)
    for name in kept_names:
        assert second_ids[name] != first_ids[name], name
        assert second.rsplit("/", 1)[1] in second_ids[name] or name == "AlertKey", (name, second_ids[name])
    # Both stacks' kept resources side by side.
    assert kept_here(moto, first_kept) == kept_here(moto, {n: second_ids[n] for n in kept_names}) == dict.fromkeys(kept_names, True)


def test_the_old_fixed_log_group_name_fails_the_second_create(cloudformation, moto):
    """The fault itself, shown on moto: the same test with the log group named from the stack's
    name, as before issue 16, cannot create the stack again."""
    template = for_moto(tpl.load(), {})
    template["Resources"]["FunctionLogGroup"]["Properties"]["LogGroupName"] = {"Fn::Sub": "/trailwatch/${AWS::StackName}/alert-function"}
    first = create(cloudformation, template, {})
    cloudformation.delete_stack(StackName=first)
    assert "/trailwatch/trailwatch/alert-function" in log_groups(moto)
    # moto answers the failed create with the log group's own JSON error, which boto3's
    # CloudFormation (XML) parser cannot read.
    with pytest.raises((ClientError, ResponseParserError), match="log group already exists"):
        create(cloudformation, template, {})

"""Issue 17's template: trailwatch's read role in member accounts, as template.yaml creates it
(once per account, trusted only by the central function's role by its stable name within the
organization, allowed exactly the reads the central function makes at home), and the ledger
table and digest queue that keep a storm readable.

moto's AssumeRole ignores trust policies, so who may assume the role is proven here, on the
template; test_members.py proves the reads through it on the runtime, test_dedup.py and
test_burst.py the table and the queue."""

from __future__ import annotations

import template as tpl

ORG = "o-a1b2c3d4e5"
CENTRAL_ACCOUNT = "444455556666"
CENTRAL_BUS = f"arn:aws:events:eu-west-1:{CENTRAL_ACCOUNT}:event-bus/trailwatch-trailwatch"
# The forwarder's CentralId is the central stack's id: the same UUID the helpers give every stack.
CENTRAL_ID = tpl.STACK_UUID
READ_ACTIONS = {"cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors", "cloudtrail:GetEventDataStore", "cloudtrail:DescribeTrails"}


def forwarder(**overrides: str) -> dict[str, str]:
    return {"Mode": "forwarder", "CentralEventBusArn": CENTRAL_BUS, "CentralId": CENTRAL_ID, "OrganizationId": ORG, **overrides}


def member_role(region: str = "us-east-1", partition: str = "aws", **overrides: str) -> dict:
    template = tpl.load()
    params = tpl.parameters(template, region=region, partition=partition, **forwarder(**overrides))
    return tpl.evaluate(template, template["Resources"]["MemberReadRole"]["Properties"], params)


def central(**overrides: str) -> tuple[dict, dict[str, str]]:
    template = tpl.load()
    return template, tpl.parameters(template, account=CENTRAL_ACCOUNT, **{"Mode": "central", "OrganizationId": ORG, **overrides})


def granted(statements: list[dict]) -> dict[str, object]:
    """Each allowed action and its resource."""
    actions = {}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        for action in [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]:
            actions[action] = statement["Resource"]
    return actions


def test_one_role_per_account_in_the_member_role_region_only():
    template = tpl.load()
    assert template["Parameters"]["MemberRoleRegion"]["Default"] == "us-east-1"
    assert "MemberReadRole" in tpl.created(template, region="us-east-1", **forwarder())
    assert "MemberReadRole" not in tpl.created(template, region="eu-west-1", **forwarder())
    assert "MemberReadRole" in tpl.created(template, region="eu-west-1", **forwarder(MemberRoleRegion="eu-west-1"))
    # Without the organization (its trust) or the central stack's id (its name): no role.
    assert "MemberReadRole" not in tpl.created(template, region="us-east-1", **forwarder(OrganizationId=""))
    assert "MemberReadRole" not in tpl.created(template, region="us-east-1", **forwarder(CentralId=""))
    for mode in ("standalone", "central"):
        assert "MemberReadRole" not in tpl.created(template, region="us-east-1", Mode=mode, OrganizationId=ORG)


def test_only_the_central_functions_role_in_the_organization_may_assume_it():
    role = member_role()
    assert role["RoleName"] == f"trailwatch-read-{CENTRAL_ID}"
    assert len(role["RoleName"]) <= 64
    assert role["MaxSessionDuration"] == 3600
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Effect"] == "Allow" and trust["Action"] == "sts:AssumeRole"
    # The central account as principal, narrowed to the role by name: a role ARN as principal
    # would be turned into that role's id and break when the role is replaced.
    assert trust["Principal"] == {"AWS": f"arn:aws:iam::{CENTRAL_ACCOUNT}:root"}
    assert trust["Condition"] == {
        "ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{CENTRAL_ACCOUNT}:role/trailwatch-central-{CENTRAL_ID}"},
        "StringEquals": {"aws:PrincipalOrgID": ORG},
    }
    gov = member_role(region="us-gov-west-1", partition="aws-us-gov", MemberRoleRegion="us-gov-west-1")
    assert gov["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"].startswith("arn:aws-us-gov:iam::")


def test_the_role_reads_exactly_what_the_central_function_reads_at_home():
    [policy] = member_role()["Policies"]
    actions = granted(policy["PolicyDocument"]["Statement"])
    assert set(actions) == READ_ACTIONS
    template, params = central()
    home = granted(tpl.evaluate(template, template["Resources"]["AlertFunctionPolicy"]["Properties"]["PolicyDocument"], params)["Statement"])
    for action, resource in actions.items():
        assert home[action] == resource, action


def test_the_central_role_and_the_members_roles_name_each_other():
    template, params = central()
    resources = template["Resources"]
    central_role = tpl.evaluate(template, resources["AlertFunctionRole"]["Properties"], params)
    trusted = member_role()["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["ArnEquals"]["aws:PrincipalArn"]
    assert trusted.endswith(f":role/{central_role['RoleName']}")
    variables = tpl.evaluate(template, resources["AlertFunction"]["Properties"]["Environment"]["Variables"], params)
    assert variables["MEMBER_ROLE_NAME"] == member_role()["RoleName"]
    home = granted(tpl.evaluate(template, resources["AlertFunctionPolicy"]["Properties"]["PolicyDocument"], params)["Statement"])
    assert home["sts:AssumeRole"] == f"arn:aws:iam::*:role/{variables['MEMBER_ROLE_NAME']}"


def test_without_an_organization_nothing_is_assumed():
    template, params = central(OrganizationId="")
    resources = template["Resources"]
    variables = tpl.evaluate(template, resources["AlertFunction"]["Properties"]["Environment"]["Variables"], params)
    assert variables["MEMBER_ROLE_NAME"] == ""
    home = granted(tpl.evaluate(template, resources["AlertFunctionPolicy"]["Properties"]["PolicyDocument"], params)["Statement"])
    assert "sts:AssumeRole" not in home
    # A standalone stack's role keeps the name CloudFormation gives it.
    standalone = tpl.parameters(template)
    assert "RoleName" not in tpl.evaluate(template, resources["AlertFunctionRole"]["Properties"], standalone)


# ---------------------------------------------------------------- the ledger and the digest queue


def test_the_ledger_table_is_on_demand_encrypted_expiring_and_the_functions_alone():
    template = tpl.load()
    params = tpl.parameters(template)
    table = tpl.evaluate(template, template["Resources"]["EventLedger"]["Properties"], params)
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSESpecification"] == {"SSEEnabled": True}
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert table["KeySchema"] == [{"AttributeName": "eventId", "KeyType": "HASH"}]
    assert table["TableName"] == f"trailwatch-{tpl.STACK_UUID}-events"
    # Only ids of events already published: deleted with the stack.
    assert template["Resources"]["EventLedger"]["DeletionPolicy"] == "Delete"
    variables = tpl.evaluate(template, template["Resources"]["AlertFunction"]["Properties"]["Environment"]["Variables"], params)
    assert variables["DEDUP_TABLE"] == "{EventLedger}"
    assert (variables["BURST_THRESHOLD"], variables["BURST_WINDOW_SECONDS"]) == ("10", "300")
    # The window and the digest's 60-second delay fit SQS's 900-second delay.
    assert int(template["Parameters"]["BurstWindowSeconds"]["MaxValue"]) + 60 <= 900
    assert "EventLedger" not in tpl.created(template, Mode="forwarder", CentralEventBusArn=CENTRAL_BUS)


def test_the_digest_queue_is_consumed_by_the_function_with_partial_batch_failures():
    template = tpl.load()
    params = tpl.parameters(template)
    resources = template["Resources"]
    mapping = tpl.evaluate(template, resources["DigestQueueMapping"]["Properties"], params)
    assert mapping == {"EventSourceArn": "{DigestQueue.Arn}", "FunctionName": "{AlertFunction}", "BatchSize": 10,
                       "FunctionResponseTypes": ["ReportBatchItemFailures"]}
    queue = tpl.evaluate(template, resources["DigestQueue"]["Properties"], params)
    # A digest that cannot be told after five deliveries is parked with the failed events.
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": "{FunctionFailureQueue.Arn}", "maxReceiveCount": 5}
    # At least six times the function's timeout, as AWS advises for a Lambda event source.
    assert queue["VisibilityTimeout"] >= 6 * resources["AlertFunction"]["Properties"]["Timeout"]
    assert queue["KmsMasterKeyId"] == "{AlertKey.Arn}"
    # The function builds the queue's URL from OWN_ID: the name must be the one it builds.
    assert queue["QueueName"] == f"trailwatch-{tpl.STACK_UUID}-digests"


# ---------------------------------------------------------------- posture across the organization


def test_the_organizations_posture_run_has_its_own_queue_consumed_in_bounded_batches():
    template = tpl.load()
    resources = template["Resources"]
    # Off unless asked for: one account's run needs no queue.
    assert {"PostureQueue", "PostureQueueMapping"}.isdisjoint(tpl.created(template, Mode="central", OrganizationId=ORG))
    created = tpl.created(template, Mode="central", OrganizationId=ORG, PostureAccounts="organization")
    assert {"PostureQueue", "PostureQueueMapping"} <= created
    # ... and never without the schedule.
    assert "PostureQueue" not in tpl.created(template, Mode="central", PostureAccounts="organization", PostureIntervalMinutes="0")
    _, params = central(PostureAccounts="organization")
    queue = tpl.evaluate(template, resources["PostureQueue"]["Properties"], params)
    assert queue["QueueName"] == f"trailwatch-{tpl.STACK_UUID}-posture", "the name the function builds from OWN_ID"
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": "{FunctionFailureQueue.Arn}", "maxReceiveCount": 5}
    assert queue["VisibilityTimeout"] >= 6 * resources["AlertFunction"]["Properties"]["Timeout"]
    assert queue["KmsMasterKeyId"] == "{AlertKey.Arn}"
    mapping = tpl.evaluate(template, resources["PostureQueueMapping"]["Properties"], params)
    assert mapping["EventSourceArn"] == "{PostureQueue.Arn}"
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # Bounded: at most 5 accounts an invocation, 10 invocations at once.
    assert (mapping["BatchSize"], mapping["ScalingConfig"]) == (5, {"MaximumConcurrency": 10})
    variables = tpl.evaluate(template, resources["AlertFunction"]["Properties"]["Environment"]["Variables"], params)
    assert variables["POSTURE_ACCOUNTS"] == "organization"
    assert variables["DEDUP_TABLE"] == "{EventLedger}", "the run is recorded in the ledger table"


def test_the_posture_run_is_granted_only_what_it_does():
    template = tpl.load()
    resources = template["Resources"]
    policy = resources["AlertFunctionPolicy"]["Properties"]["PolicyDocument"]
    # One account's run: no queue, no batch reads, no Organizations.
    _, params = central()
    home = granted(tpl.evaluate(template, policy, params)["Statement"])
    assert "dynamodb:BatchGetItem" not in home and "organizations:ListAccounts" not in home
    assert "{PostureQueue.Arn}" not in str(home)
    # A listed set of accounts: the queue and the batch reads, still no Organizations.
    _, params = central(PostureAccounts="111122223333,222233334444")
    listed = granted(tpl.evaluate(template, policy, params)["Statement"])
    assert listed["dynamodb:BatchGetItem"] == "{EventLedger.Arn}"
    assert "{PostureQueue.Arn}" in listed["sqs:SendMessage"] and "{PostureQueue.Arn}" in listed["sqs:ReceiveMessage"]
    assert "organizations:ListAccounts" not in listed
    variables = tpl.evaluate(template, resources["AlertFunction"]["Properties"]["Environment"]["Variables"], params)
    assert variables["POSTURE_ACCOUNTS"] == "111122223333,222233334444"
    # The whole organization: ListAccounts too, which has no resource-level permissions.
    _, params = central(PostureAccounts="organization")
    whole = granted(tpl.evaluate(template, policy, params)["Statement"])
    assert whole["organizations:ListAccounts"] == "*"
    # The member role already reads everything an account's check needs.
    assert set(granted(member_role()["Policies"][0]["PolicyDocument"]["Statement"])) == READ_ACTIONS


def test_posture_accounts_accepts_organization_or_account_ids_only():
    import re

    pattern = re.compile(tpl.load()["Parameters"]["PostureAccounts"]["AllowedPattern"])
    for good in ("", "organization", "111122223333", "111122223333, 444455556666"):
        assert pattern.fullmatch(good), good
    for bad in ("Organization ", "11112222333", "111122223333,", "*", "111122223333;rm"):
        assert not pattern.fullmatch(bad), bad


def test_with_findings_on_the_member_role_may_import_and_read_back_only_its_own_accounts_findings():
    off = granted(member_role()["Policies"][0]["PolicyDocument"]["Statement"])
    assert set(off) == READ_ACTIONS
    on = granted(member_role(SecurityHubFindings="true")["Policies"][0]["PolicyDocument"]["Statement"])
    assert set(on) == READ_ACTIONS | {"securityhub:BatchImportFindings", "securityhub:GetFindings"}
    assert on["securityhub:BatchImportFindings"] == "arn:aws:securityhub:*:111122223333:product/111122223333/default"
    assert on["securityhub:GetFindings"] == "arn:aws:securityhub:*:111122223333:hub/default"

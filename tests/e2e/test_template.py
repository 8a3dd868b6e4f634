"""template.yaml: linters, what it promises, and its rule pattern run on moto's EventBridge."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest


import harness
import template as tpl

LINT_ENV = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "SAM_CLI_TELEMETRY": "0"}


def run_tool(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, env=LINT_ENV, capture_output=True, text=True, timeout=300, cwd=harness.ROOT)


def test_cfn_lint_passes():
    cfn_lint = harness.tool("bin/cfn-lint", "run `make venv` to install cfn-lint into .venv/")
    result = run_tool([str(cfn_lint), str(tpl.TEMPLATE)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_sam_validate_lint_passes():
    sam = harness.tool("bin/sam", "run `make venv` to install aws-sam-cli into .venv/")
    result = run_tool([str(sam), "validate", "--lint", "--template", str(tpl.TEMPLATE)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_function_is_built_and_sized_as_documented():
    function = tpl.load()["Resources"]["AlertFunction"]
    # Plain CloudFormation (StackSets with service-managed permissions reject transforms);
    # sam build still builds it with cargo lambda.
    assert "Transform" not in tpl.load()
    assert function["Type"] == "AWS::Lambda::Function"
    assert function["Metadata"]["BuildMethod"] == "rust-cargolambda"
    props = function["Properties"]
    assert props["Code"] == "."
    assert props["Runtime"] == "provided.al2023"
    assert props["Handler"] == "bootstrap"
    assert props["Architectures"] == ["arm64"]
    assert props["MemorySize"] == 128
    # Enrichment's maximum (30 s is the config cap, 2 s the default) plus the 5 s publish reserve
    # fits; the rest is for a posture run across several regions.
    assert 30 + 5 <= props["Timeout"] <= 900
    variables = props["Environment"]["Variables"]
    assert variables["ALERT_TOPIC_ARN"] == {"Ref": "AlertTopic"}
    assert set(variables) >= {"ALERT_TOPIC_ARN", "MIN_SEVERITY", "ENRICH_TIMEOUT_MS", "TRUSTED_PRINCIPALS"}
    assert variables["TRUSTED_PRINCIPALS"] == {"Ref": "TrustedPrincipals"}
    assert variables["ACCOUNT_NAMES"] == {"Ref": "AccountNames"}


def function_permissions(template: dict, **parameters: str) -> dict[str, dict]:
    """The function policy's statements for a stack with these parameters, by action: each
    action's evaluated statement."""
    policy = template["Resources"]["AlertFunctionPolicy"]["Properties"]["PolicyDocument"]
    statements = tpl.evaluate(template, policy, tpl.parameters(template, **parameters))["Statement"]
    actions = {}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        for action in [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]:
            assert "*" not in action, action
            assert action not in actions, f"{action} granted twice"
            actions[action] = statement
    return actions


READ_AND_PUBLISH = {
    "cloudtrail:GetTrailStatus", "cloudtrail:DescribeTrails", "cloudtrail:GetEventSelectors",
    "cloudtrail:GetEventDataStore", "sns:Publish", "sqs:SendMessage", "logs:CreateLogStream", "logs:PutLogEvents",
    "kms:GenerateDataKey", "kms:Decrypt",
    # The posture check reads trailwatch's own rules and the alert topic's subscriptions, and
    # counts each watched region's heartbeats.
    "events:DescribeRule", "events:ListTargetsByRule", "sns:ListSubscriptionsByTopic",
    "cloudwatch:GetMetricStatistics",
    # Whether AWS Config still records, for a Config call's alert.
    "config:DescribeConfigurationRecorderStatus",
    # Whether Security Hub (CSPM) is still enabled, for a Security Hub call's alert.
    "securityhub:DescribeHub",
    # ... and whether GuardDuty's detector is still enabled, for a GuardDuty call's alert.
    "guardduty:ListDetectors", "guardduty:GetDetector",
    # ... and which services the organization still trusts, for a DisableAWSServiceAccess alert.
    "organizations:ListAWSServiceAccessForOrganization",
    # ... and a trail bucket's versioning and public access block, after a call on them.
    "s3:GetBucketVersioning", "s3:GetBucketPublicAccessBlock",
    # Each event published once: its id claimed, recorded and released in the ledger table.
    "dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem",
    # Bursts: a digest request sent to, and consumed from, its own queue.
    "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
}


def test_function_permissions_are_read_only_lookups_publish_to_its_topics_and_its_own_plumbing():
    template = tpl.load()
    assert template["Resources"]["AlertFunction"]["Properties"]["Role"] == {"Fn::GetAtt": ["AlertFunctionRole", "Arn"]}
    assert "Policies" not in template["Resources"]["AlertFunctionRole"]["Properties"]
    actions = function_permissions(template)
    assert set(actions) == READ_AND_PUBLISH
    resources = {action: statement["Resource"] for action, statement in actions.items()}
    # DescribeTrails, GetMetricStatistics (the posture check's count of heartbeats) and Config's
    # recorder status support no resource-level permissions; they are the only "*" resources,
    # and all only read.
    assert sorted(a for a, resource in resources.items() if resource == "*") == [
        "cloudtrail:DescribeTrails", "cloudwatch:GetMetricStatistics", "config:DescribeConfigurationRecorderStatus",
        "guardduty:ListDetectors", "organizations:ListAWSServiceAccessForOrganization"]
    assert resources["sns:Publish"] == ["{AlertTopic}", "{HealthTopic}"]
    for action in ("dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem"):
        assert resources[action] == "{EventLedger.Arn}", action
    assert resources["sqs:SendMessage"] == ["{FunctionFailureQueue.Arn}", "{DigestQueue.Arn}"]
    for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"):
        assert resources[action] == ["{DigestQueue.Arn}"], action
    assert resources["cloudtrail:GetTrailStatus"] == "arn:aws:cloudtrail:*:*:trail/*"
    assert resources["cloudtrail:GetEventDataStore"] == "arn:aws:cloudtrail:*:*:eventdatastore/*"
    assert resources["securityhub:DescribeHub"] == "arn:aws:securityhub:*:111122223333:hub/default"
    assert resources["guardduty:GetDetector"] == "arn:aws:guardduty:*:111122223333:detector/*"
    assert resources["s3:GetBucketVersioning"] == resources["s3:GetBucketPublicAccessBlock"] == "arn:aws:s3:::*"
    # The delivery-chain checks read trails; of S3 only a bucket's versioning and public access
    # block are read, after a call on them. The key is used only by SNS and SQS on the
    # function's behalf (publishing, parking a failed event).
    assert sorted(a for a in actions if a.split(":")[0] == "s3") == ["s3:GetBucketPublicAccessBlock", "s3:GetBucketVersioning"]
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):
        assert resources[action] == "{AlertKey.Arn}"
        assert actions[action]["Condition"] == {
            "StringEquals": {"kms:ViaService": ["sns.eu-west-1.amazonaws.com", "sqs.eu-west-1.amazonaws.com"]}
        }


def test_the_function_may_restart_logging_only_when_asked_and_only_in_its_account():
    template = tpl.load()
    assert "cloudtrail:StartLogging" not in function_permissions(template)
    assert "cloudtrail:StartLogging" not in function_permissions(template, AutoRestartLogging="false")
    actions = function_permissions(template, AutoRestartLogging="true")
    assert set(actions) == READ_AND_PUBLISH | {"cloudtrail:StartLogging"}
    assert actions["cloudtrail:StartLogging"]["Resource"] == "arn:aws:cloudtrail:*:111122223333:trail/*"
    variables = template["Resources"]["AlertFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["AUTO_RESTART_LOGGING"] == {"Ref": "AutoRestartLogging"}
    assert template["Parameters"]["AutoRestartLogging"]["Default"] == "false"


def test_outputs_give_the_topics_and_function():
    outputs = tpl.load()["Outputs"]
    assert outputs["AlertTopicArn"]["Value"] == {"Ref": "AlertTopic"}
    assert outputs["HealthTopicArn"]["Value"] == {"Ref": "HealthTopic"}
    assert outputs["AlertFunctionArn"]["Value"] == {"Fn::GetAtt": ["AlertFunction", "Arn"]}


@pytest.fixture
def rule_inbox(moto):
    """The template's alert rules, each with its pattern, on moto's EventBridge, with one SQS
    queue as their target."""
    moto.reset()
    events = moto.client("events")
    sqs = moto.client("sqs")
    queue_url = sqs.create_queue(QueueName="rule-target")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for rule in tpl.alert_rules(tpl.load()):
        name = f"trailwatch-{rule}"
        events.put_rule(Name=name, EventPattern=json.dumps(tpl.load()["Resources"][rule]["Properties"]["EventPattern"]), State="ENABLED")
        events.put_targets(Rule=name, Targets=[{"Id": "inbox", "Arn": queue_arn}])
    return events, sqs, queue_url


def put_sample(events, event: dict) -> None:
    result = events.put_events(
        Entries=[{"Source": event["source"], "DetailType": event["detail-type"], "Detail": json.dumps(event["detail"])}]
    )
    assert result["FailedEntryCount"] == 0, result


def test_the_rule_patterns_deliver_exactly_the_monitored_samples_each_once(rule_inbox):
    """Every sample but not-monitored reaches the function, through exactly one of the alert
    rules (a call in two patterns would be alerted twice). That includes
    put-bucket-lifecycle-unrelated-bucket: a pattern cannot tell which buckets a trail uses, so
    the function is the one that ignores it."""
    events, sqs, queue_url = rule_inbox
    samples = {path.stem: harness.load_event(path) for path in harness.EVENTS.glob("*.json")}
    for event in samples.values():
        put_sample(events, event)
    # moto's EventBridge does not flatten arrays of objects as EventBridge's matcher does: the
    # branch that filters BatchUpdateFindings on its FindingIdentifiers' Ids cannot be played
    # here (test_securityhub_monitor.py checks it instead).
    narrowed = {name for name, e in samples.items() if e["detail"]["eventName"] == "BatchUpdateFindings"}
    monitored = {e["detail"]["eventID"] for name, e in samples.items() if name != "not-monitored" and name not in narrowed}
    delivered = [json.loads(body)["detail"]["eventID"] for body in harness.drain(sqs, queue_url)]
    assert set(delivered) == monitored
    assert len(delivered) == len(monitored), "a call matched by two rules"


def binary_prints(flag: str) -> str:
    if not harness.RELEASE_BINARY.exists():
        raise harness.HarnessError(f"{harness.RELEASE_BINARY} not found: run `make build` (cargo build --release) first")
    out = subprocess.run(
        [str(harness.RELEASE_BINARY), flag],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        capture_output=True, text=True, timeout=30,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_the_binarys_event_patterns_are_every_rules_patterns():
    """`bootstrap --event-patterns` prints the patterns generated from the monitor registry, split
    to fit EventBridge's pattern size: each of the template's alert rules, central rules and
    forwarding rules must use exactly its own, in order, so a new monitored call cannot be
    forgotten in one of them, and a registry that outgrows the rules fails here."""
    printed = json.loads(binary_prints("--event-patterns"))
    resources = tpl.load()["Resources"]
    for kind in ("AlertRule", "CentralAlertRule", "ForwardRule"):
        rules = [name for name in resources if name.rstrip("0123456789") == kind]
        assert rules == [kind] + [f"{kind}{n}" for n in range(2, len(printed) + 1)], rules
        for rule, pattern in zip(rules, printed):
            assert resources[rule]["Properties"]["EventPattern"] == pattern, rule


GUARD_RULES = ["GuardRule", "GuardRule2"]


def test_the_binarys_guard_patterns_are_the_guard_rules():
    """`bootstrap --guard-patterns` prints the guard rules' patterns, generated from the same
    registry and split to fit EventBridge's pattern size, as JSON text with placeholders for
    !Sub: the template has one guard rule per pattern, in order, substituting exactly that text."""
    printed = json.loads(binary_prints("--guard-patterns"))
    resources = tpl.load()["Resources"]
    guards = [name for name, r in resources.items() if r["Type"] == "AWS::Events::Rule" and name.startswith("GuardRule")]
    assert guards == GUARD_RULES[: len(printed)] and len(guards) == len(printed)
    for name, expected in zip(guards, printed):
        text, variables = resources[name]["Properties"]["EventPattern"]["Fn::Sub"]
        assert json.loads(text) == expected, name
        placeholders = set(re.findall(r"\$\{([^}]+)\}", text))
        assert placeholders - set(variables) <= {"AWS::StackName", "AWS::Region", "AWS::AccountId", "AWS::Partition", "AWS::URLSuffix"}, placeholders

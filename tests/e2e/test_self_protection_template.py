"""What template.yaml does so that trailwatch cannot be silenced unseen (issue 16), checked on
the template and, where moto can run it, on moto: the guard rule and the alert rule watching
each other, the topic policies (evaluated here: moto enforces no topic policy and its
EventBridge has no SNS targets), the heartbeat and its alarms, the probe's filter policies, the
names and environment that tell the function its own resources, and the dashboard."""

from __future__ import annotations

import fnmatch
import json
import re
import uuid

import pytest

import harness
import template as tpl

T = tpl.load()
R = T["Resources"]
ID = tpl.STACK_UUID
REGION, ACCOUNT = harness.HOME_REGION, harness.ACCOUNT
FUNCTION_NAME = "trailwatch-AlertFunction-1ABC2DEF3GHI"
KEY_ID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
CENTRAL_BUS = "arn:aws:events:eu-west-1:444455556666:event-bus/trailwatch-central"
INTERVALS = [i for i in T["Parameters"]["HeartbeatMinutes"]["AllowedValues"] if i]


def props(name: str) -> dict:
    return R[name]["Properties"]


def params(**overrides: str) -> dict[str, str]:
    return tpl.parameters(T, region=REGION, account=ACCOUNT, **overrides)


def evaluated(name: str, p: dict | None = None, refs: dict | None = None):
    return tpl.evaluate(T, props(name), p or params(), refs)


def alert_rule_name(p=None) -> str:
    return evaluated("AlertRule", p)["Name"]


def guard_rule_name(p=None) -> str:
    return evaluated("GuardRule", p)["Name"]


def rule_arn(name: str, region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:aws:events:{region}:{account}:rule/{name}"


def function_role_arn() -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/trailwatch-AlertFunctionRole-1ABC"  # ROLE_NAME


def guard_role_arn() -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/trailwatch-GuardRuleRole-1ABC"


def topic_arn(name: str) -> str:
    return f"arn:aws:sns:{REGION}:{ACCOUNT}:{evaluated(name)['TopicName']}"


ROLE_NAME = "trailwatch-AlertFunctionRole-1ABC"
GUARDS = ["GuardRule", "GuardRule2"]
REFS = {
    "AlertKey": KEY_ID, "AlertFunction": FUNCTION_NAME, "AlertFunctionRole": ROLE_NAME,
    "AlertFunctionRole.Arn": function_role_arn(), "GuardRuleRole.Arn": guard_role_arn(),
    "AlertTopic": topic_arn("AlertTopic"), "HealthTopic": topic_arn("HealthTopic"),
}


def guard_patterns(p=None) -> list[dict]:
    patterns = []
    for rule in GUARDS:
        pattern = evaluated(rule, p, REFS)["EventPattern"]
        assert isinstance(pattern, str), f"{rule}'s EventPattern is the JSON text `bootstrap --guard-patterns` prints"
        patterns.append(json.loads(pattern))
    return patterns


# ---------------------------------------------------------------- a small IAM policy evaluator
#
# Just what the template's topic and trust policies use, with IAM's documented semantics for a
# key missing from the request: a positive operator does not match, a negated one (...NotEquals)
# does, and Bool does not ("AWS global condition context keys"; "IAM JSON policy elements:
# Condition operators").


def _values(value) -> list:
    return value if isinstance(value, list) else [value]


def _condition_holds(operator: str, key: str, expected, context: dict) -> bool:
    present = key in context
    actual = context.get(key)
    wanted = [str(v) for v in _values(expected)]
    if operator == "Bool":
        return present and str(actual).lower() in [w.lower() for w in wanted]
    if operator in ("StringEquals", "ArnEquals"):
        return present and str(actual) in wanted
    if operator in ("StringNotEquals", "ArnNotEquals"):
        return not present or str(actual) not in wanted
    if operator in ("StringLike", "ArnLike"):
        return present and any(fnmatch.fnmatchcase(str(actual), w) for w in wanted)
    raise AssertionError(f"operator {operator} not modelled")


def _principal_matches(principal, context: dict) -> bool:
    if principal == "*" or principal == {"AWS": "*"}:
        return True
    if "Service" in principal:
        return context.get("service") in _values(principal["Service"])
    if "AWS" in principal:
        return context.get("aws:PrincipalArn") in _values(principal["AWS"])
    raise AssertionError(f"principal {principal} not modelled")


def matches(statement: dict, context: dict, action: str, resource: str | None, with_principal: bool) -> bool:
    if with_principal and not _principal_matches(statement["Principal"], context):
        return False
    if not any(fnmatch.fnmatchcase(action, a) for a in _values(statement["Action"])):
        return False
    if resource is not None and not any(fnmatch.fnmatchcase(resource, r) for r in _values(statement["Resource"])):
        return False
    for operator, pairs in statement.get("Condition", {}).items():
        for key, expected in pairs.items():
            if not _condition_holds(operator, key, expected, context):
                return False
    return True


def may_publish(topic: str, context: dict, identity_statements: list[dict]) -> bool:
    """IAM's evaluation for one sns:Publish in the topic's own account: an explicit Deny in the
    topic policy refuses; otherwise an Allow in the topic policy or, for a principal of the
    account, in its identity policy admits."""
    policy = evaluated(f"{topic}Policy", refs=REFS)["PolicyDocument"]["Statement"]
    resource = topic_arn(topic)
    if any(s["Effect"] == "Deny" and matches(s, context, "sns:Publish", resource, True) for s in policy):
        return False
    if any(s["Effect"] == "Allow" and matches(s, context, "sns:Publish", resource, True) for s in policy):
        return True
    same_account = context.get("aws:PrincipalAccount") == ACCOUNT
    return same_account and any(
        s["Effect"] == "Allow" and matches(s, context, "sns:Publish", resource, False) for s in identity_statements
    )


def session(role_arn: str, **extra) -> dict:
    """A role session's request context, as IAM builds it."""
    return {
        "aws:PrincipalArn": role_arn, "aws:PrincipalAccount": role_arn.split(":")[4],
        "aws:PrincipalIsAWSService": "false", "aws:SecureTransport": "true", **extra,
    }


def alarm_publish(with_service_name: bool) -> dict:
    """A CloudWatch alarm's notification: the service principal acting for the alarm."""
    context = {
        "service": "cloudwatch.amazonaws.com", "aws:PrincipalIsAWSService": "true", "aws:SecureTransport": "true",
        "aws:SourceAccount": ACCOUNT, "aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:trailwatch-{ID}-function-errors",
    }
    if with_service_name:
        context["aws:PrincipalServiceName"] = "cloudwatch.amazonaws.com"
    return context


def identity(name: str) -> list[dict]:
    resource = R[name]
    if resource["Type"] == "AWS::IAM::Policy":
        return evaluated(name, refs=REFS)["PolicyDocument"]["Statement"]
    return [s for policy in evaluated(name, refs=REFS)["Policies"] for s in policy["PolicyDocument"]["Statement"]]


ANY_PUBLISH = [{"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"}]
PUBLISHERS = {
    "the function": (session(function_role_arn()), identity("AlertFunctionPolicy")),
    "the guard rule's role": (session(guard_role_arn()), identity("GuardRuleRole")),
    "another role of the account allowed to publish anywhere": (session(f"arn:aws:iam::{ACCOUNT}:role/admin"), ANY_PUBLISH),
    "the function without TLS": (session(function_role_arn(), **{"aws:SecureTransport": "false"}), identity("AlertFunctionPolicy")),
    "an alarm (with aws:PrincipalServiceName)": (alarm_publish(True), []),
    "an alarm (without aws:PrincipalServiceName)": (alarm_publish(False), []),
    "an alarm of another account": ({**alarm_publish(True), "aws:SourceAccount": "444455556666"}, []),
    "EventBridge without a role (any rule, any account)": (
        {"service": "events.amazonaws.com", "aws:PrincipalIsAWSService": "true", "aws:SecureTransport": "true"}, []),
    "anyone anonymous": ({"aws:SecureTransport": "true"}, []),
}
ALLOWED = {
    "AlertTopic": {"the function", "an alarm (with aws:PrincipalServiceName)", "an alarm (without aws:PrincipalServiceName)"},
    "HealthTopic": {"the function", "the guard rule's role", "an alarm (with aws:PrincipalServiceName)", "an alarm (without aws:PrincipalServiceName)"},
}


@pytest.mark.parametrize("topic", ["AlertTopic", "HealthTopic"])
@pytest.mark.parametrize("who", sorted(PUBLISHERS))
def test_the_topic_policy_admits_exactly_trailwatch_and_its_alarms(topic, who):
    """The policy itself, evaluated: moto enforces no topic policy, so nothing end to end would
    show a refusal. Alarm notifications get through whether or not they carry
    aws:PrincipalServiceName (issue 16: the old Deny keyed on it would have refused them all
    had the key been absent); only the guard rule's role is added on the health topic."""
    context, statements = PUBLISHERS[who]
    assert may_publish(topic, context, statements) == (who in ALLOWED[topic])


def trust(name: str) -> list[dict]:
    return evaluated(name, refs=REFS)["AssumeRolePolicyDocument"]["Statement"]


def may_assume(role: str, context: dict) -> bool:
    return any(s["Effect"] == "Allow" and matches(s, context, "sts:AssumeRole", None, True) for s in trust(role))


def test_only_the_guard_rules_can_publish_as_their_role():
    """EventBridge's guide says SNS topic policies for EventBridge cannot use Condition blocks,
    so "exactly these rules" is the role's trust policy: EventBridge passes the sending rule's
    ARN as aws:SourceArn ("Using IAM policy conditions in Amazon EventBridge")."""
    events = {"service": "events.amazonaws.com", "aws:SourceAccount": ACCOUNT}
    for guard in GUARDS:
        assert may_assume("GuardRuleRole", {**events, "aws:SourceArn": rule_arn(evaluated(guard)["Name"])}), guard
    for other in [
        rule_arn(alert_rule_name()), rule_arn(f"trailwatch-{ID}-guard-3"), rule_arn(f"trailwatch-{ID}-posture"),
        rule_arn("anyone-elses"), rule_arn(guard_rule_name(), account="444455556666"),
        rule_arn(guard_rule_name(), region="eu-west-1"),
    ]:
        assert not may_assume("GuardRuleRole", {**events, "aws:SourceArn": other}), other
    assert not may_assume("GuardRuleRole", {**events, "aws:SourceArn": rule_arn(guard_rule_name()), "aws:SourceAccount": "444455556666"})
    assert not may_assume("GuardRuleRole", {"service": "scheduler.amazonaws.com", "aws:SourceAccount": ACCOUNT, "aws:SourceArn": rule_arn(guard_rule_name())})
    # And the role does nothing but publish to the health topic.
    assert identity("GuardRuleRole") == [{"Effect": "Allow", "Action": "sns:Publish", "Resource": topic_arn("HealthTopic")}]
    # The ARNs in the trust policy are the guard rules' own: their Names, here.
    assert [evaluated(g)["Name"] for g in GUARDS] == [f"trailwatch-{ID}-guard", f"trailwatch-{ID}-guard-2"]


# ---------------------------------------------------------------- the guard rule


@pytest.mark.parametrize("rule", GUARDS)
def test_the_guard_rules_tell_the_health_topic_without_the_function_or_the_alert_key(rule):
    resource = R[rule]
    assert resource["Condition"] == "Receives"
    [target] = resource["Properties"]["Targets"]
    assert target["Arn"] == {"Ref": "HealthTopic"}
    assert target["RoleArn"] == {"Fn::GetAtt": ["GuardRuleRole", "Arn"]}
    assert props(rule)["State"] == "ENABLED"
    # Nothing on its delivery path is the function or uses the alert key: a deleted function
    # or a disabled key does not stop it (it only names them in its pattern and message).
    delivery = [target["Arn"], target["RoleArn"], target["DeadLetterConfig"], R["HealthTopic"], R["GuardRuleRole"], R["SubscriptionDeadLetterQueue"]]
    for part in delivery:
        assert not {"AlertFunction", "AlertKey", "AlertRule", "RuleDeadLetterQueue"} & tpl.references(part), part
    assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0


def put_call(events, source: str, event_source: str, name: str, parameters: dict, **detail) -> str:
    event_id = str(uuid.uuid4())
    body = {"eventSource": event_source, "eventName": name, "requestParameters": parameters, "eventID": event_id,
            "awsRegion": REGION, "userIdentity": {"arn": f"arn:aws:iam::{ACCOUNT}:user/mallory"}, **detail}
    result = events.put_events(Entries=[{"Source": source, "DetailType": "AWS API Call via CloudTrail", "Detail": json.dumps(body)}])
    assert result["FailedEntryCount"] == 0, result
    return event_id


@pytest.fixture
def inbox(moto):
    """A rule with a given pattern on moto's default bus, an SQS queue as its target."""
    moto.reset()
    events, sqs = moto.client("events"), moto.client("sqs")

    def make(pattern: dict, name: str):
        url = sqs.create_queue(QueueName=f"{name}-inbox")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name=name, EventPattern=json.dumps(pattern), State="ENABLED")
        events.put_targets(Rule=name, Targets=[{"Id": "inbox", "Arn": arn}])

        return lambda: harness.matched_event_ids(sqs, url)

    return events, make


def own_changes(events) -> dict[str, str]:
    """Changes to trailwatch's own resources that a guard rule must report, by description."""
    alert, guard = alert_rule_name(), guard_rule_name()
    key_arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}"
    function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FUNCTION_NAME}"
    p = params()
    queue = evaluated("FunctionFailureQueue", p)["QueueName"]
    ev, lam, kms, sns, logs, sqs, cw, iam, ssm = (
        ("aws.events", "events.amazonaws.com"), ("aws.lambda", "lambda.amazonaws.com"), ("aws.kms", "kms.amazonaws.com"),
        ("aws.sns", "sns.amazonaws.com"), ("aws.logs", "logs.amazonaws.com"), ("aws.sqs", "sqs.amazonaws.com"),
        ("aws.monitoring", "monitoring.amazonaws.com"), ("aws.iam", "iam.amazonaws.com"), ("aws.ssm", "ssm.amazonaws.com"))
    calls = {
        "DisableRule on the alert rule": (ev, "DisableRule", {"name": alert}),
        "DeleteRule on the alert rule": (ev, "DeleteRule", {"name": alert}),
        "RemoveTargets from the alert rule": (ev, "RemoveTargets", {"rule": alert, "ids": ["alert-function"]}),
        "PutRule on the alert rule": (ev, "PutRule", {"name": alert, "state": "DISABLED"}),
        "DisableRule on the posture rule": (ev, "DisableRule", {"name": f"{alert}-posture"}),
        "RemoveTargets from a guard rule itself": (ev, "RemoveTargets", {"rule": guard, "ids": ["health-topic"]}),
        "DeleteFunction by name": (lam, "DeleteFunction20150331", {"functionName": FUNCTION_NAME}),
        "UpdateFunctionConfiguration by ARN": (lam, "UpdateFunctionConfiguration20150331v2", {"functionName": function_arn}),
        "DeleteFunctionEventInvokeConfig": (lam, "DeleteFunctionEventInvokeConfig20191125", {"functionName": FUNCTION_NAME}),
        "DisableKey by id": (kms, "DisableKey", {"keyId": KEY_ID}),
        "ScheduleKeyDeletion by ARN": (kms, "ScheduleKeyDeletion", {"keyId": key_arn, "pendingWindowInDays": 7}),
        "DeleteTopic on the alert topic": (sns, "DeleteTopic", {"topicArn": topic_arn("AlertTopic")}),
        "SetTopicAttributes on the health topic": (sns, "SetTopicAttributes", {"topicArn": topic_arn("HealthTopic"), "attributeName": "Policy"}),
        "Unsubscribe from the health topic": (sns, "Unsubscribe", {"subscriptionArn": topic_arn("HealthTopic") + ":0a1b2c3d-0000-4000-8000-000000000000"}),
        "DeleteLogGroup on the function's logs": (logs, "DeleteLogGroup", {"logGroupName": f"/trailwatch/{ID}/alert-function"}),
        "PurgeQueue on a kept queue": (sqs, "PurgeQueue", {"queueUrl": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{queue}"}),
        "DeleteAlarms on the heartbeat alarm": (cw, "DeleteAlarms", {"alarmNames": [f"trailwatch-{ID}-heartbeat-missing"]}),
        "DisableAlarmActions on the switch": (cw, "DisableAlarmActions", {"alarmNames": [f"trailwatch-{ID}-posture-missing"]}),
        "DetachRolePolicy from the function's role": (iam, "DetachRolePolicy", {"roleName": ROLE_NAME, "policyArn": "arn:aws:iam::aws:policy/x"}),
        "DeleteParameter on the heartbeat's parameter": (ssm, "DeleteParameter", {"name": f"/trailwatch/{ID}/heartbeat"}),
    }
    return {what: put_call(events, source, event_source, name, parameters) for what, ((source, event_source), name, parameters) in calls.items()}


def others_changes(events) -> dict[str, str]:
    """The same calls on resources that are not this stack's, and calls the guard must not tell."""
    other_id = "0f3c9a7e-5d21-4b8e-9a6f-2c7d8e9f0a1b"
    heartbeat = harness.load_event(harness.EVENTS / "heartbeat.json")
    heartbeat["detail"]["requestParameters"]["resourceId"] = f"/trailwatch/{ID}/heartbeat"
    stop = harness.load_event(harness.EVENTS / "stop-logging.json")
    calls = {
        "DisableRule on another stack's rule": ("aws.events", "events.amazonaws.com", "DisableRule", {"name": f"trailwatch-{other_id}"}),
        "DeleteRule on someone's rule": ("aws.events", "events.amazonaws.com", "DeleteRule", {"name": "nightly-backup"}),
        "DeleteFunction on another function": ("aws.lambda", "lambda.amazonaws.com", "DeleteFunction20150331", {"functionName": "payments"}),
        "DisableKey on another key": ("aws.kms", "kms.amazonaws.com", "DisableKey", {"keyId": "9f8e7d6c-0000-4000-8000-000000000000"}),
        "DeleteTopic on another topic": ("aws.sns", "sns.amazonaws.com", "DeleteTopic", {"topicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:trailwatch-{other_id}-alerts"}),
        "DeleteLogGroup on another log group": ("aws.logs", "logs.amazonaws.com", "DeleteLogGroup", {"logGroupName": f"/trailwatch/{other_id}/alert-function"}),
        "DeleteAlarms on another alarm": ("aws.monitoring", "monitoring.amazonaws.com", "DeleteAlarms", {"alarmNames": ["billing"]}),
        "DetachRolePolicy from another role": ("aws.iam", "iam.amazonaws.com", "DetachRolePolicy", {"roleName": "admin", "policyArn": "arn:aws:iam::aws:policy/x"}),
        # The heartbeat: every 5 minutes, for no person to read.
        "the heartbeat": (heartbeat["source"], heartbeat["detail"]["eventSource"], heartbeat["detail"]["eventName"], heartbeat["detail"]["requestParameters"]),
        "StopLogging (the function's job, not the guard's)": (stop["source"], stop["detail"]["eventSource"], "StopLogging", stop["detail"]["requestParameters"]),
    }
    return {what: put_call(events, *call) for what, call in calls.items()}


def test_the_guard_rules_match_changes_to_trailwatchs_own_resources_only_on_moto(inbox):
    """The guard patterns, evaluated for a stack, on moto's EventBridge (moto has no SNS target,
    so an SQS queue stands in for the health topic)."""
    events, make = inbox
    inboxes = [make(pattern, f"guard-{i}") for i, pattern in enumerate(guard_patterns())]
    own = own_changes(events)
    others = others_changes(events)
    got = set().union(*(received() for received in inboxes))
    missed = [what for what, event_id in own.items() if event_id not in got]
    wrongly = [what for what, event_id in others.items() if event_id in got]
    assert not missed, f"the guard rules miss {missed}"
    assert not wrongly, f"the guard rules tell {wrongly}"


@pytest.mark.parametrize("guard", GUARDS)
def test_the_alert_rule_matches_changes_to_the_guard_rules_on_moto(inbox, guard):
    """The other half: the alert rule sends the function every change to a guard rule, and the
    function knows it for its own (OWN_RULE_NAMES), so disabling a guard is a CRITICAL alert."""
    events, make = inbox
    received = make(tpl.alert_rule_pattern(T), "alert")
    name = evaluated(guard)["Name"]
    calls = {
        "DisableRule": put_call(events, "aws.events", "events.amazonaws.com", "DisableRule", {"name": name}),
        "DeleteRule": put_call(events, "aws.events", "events.amazonaws.com", "DeleteRule", {"name": name}),
        "RemoveTargets": put_call(events, "aws.events", "events.amazonaws.com", "RemoveTargets", {"rule": name, "ids": ["health-topic"]}),
        "PutRule": put_call(events, "aws.events", "events.amazonaws.com", "PutRule", {"name": name, "eventPattern": "{}"}),
    }
    got = received()
    assert not [call for call, event_id in calls.items() if event_id not in got]
    variables = evaluated("AlertFunction", refs=REFS)["Environment"]["Variables"]
    assert name in variables["OWN_RULE_NAMES"].split(",")


@pytest.mark.parametrize("rule", GUARDS)
def test_the_guard_message_reads_as_text(rule):
    """The input transformer: one JSON string per line (EventBridge's CloudFormation example),
    every placeholder defined, keys as EventBridge allows, and the result readable."""
    [target] = props(rule)["Targets"]
    transformer = target["InputTransformer"]
    paths = transformer["InputPathsMap"]
    assert len(paths) <= 100
    for key, path in paths.items():
        assert re.fullmatch(r"[A-Za-z0-9]+", key) and not key.upper().startswith("AWS"), key
        assert re.fullmatch(r"\$(\.[A-Za-z0-9_-]+)+", path), path
    text = evaluated(rule, refs=REFS)["Targets"][0]["InputTransformer"]["InputTemplate"]
    assert len(text) <= 8192
    used = set(re.findall(r"<([^<>]+)>", text))
    assert used == set(paths), used ^ set(paths)
    event = {
        "account": ACCOUNT, "region": REGION,
        "detail": {"eventName": "DisableRule", "eventSource": "events.amazonaws.com", "eventTime": "2026-11-28T09:31:03Z",
                   "sourceIPAddress": "203.0.113.24", "userIdentity": {"arn": f"arn:aws:iam::{ACCOUNT}:user/mallory"},
                   "requestParameters": {"name": alert_rule_name()}},
    }

    def value(path: str) -> str:
        node = event
        for part in path.split(".")[1:]:
            node = node.get(part, {}) if isinstance(node, dict) else {}
        return node if isinstance(node, str) else ""

    lines = []
    for line in text.splitlines():
        filled = re.sub(r"<([^<>]+)>", lambda m: json.dumps(value(paths[m.group(1)]))[1:-1], line)
        lines.append(json.loads(filled))  # every line is one JSON string
    message = "\n".join(lines)
    assert message.startswith("trailwatch GUARD: DisableRule on trailwatch's own resources")
    assert f"arn:aws:iam::{ACCOUNT}:user/mallory" in message and alert_rule_name() in message
    assert "not from the alert function" in message and evaluated(rule)["Name"] in message
    assert f"aws events describe-rule --name {alert_rule_name()}" in message


# ---------------------------------------------------------------- the heartbeat


HEARTBEAT = {"HeartbeatParameter", "HeartbeatScheduleGroup", "HeartbeatRole", "HeartbeatSchedule"}
HEARTBEAT_ALARMS = {"HeartbeatMissingAlarm", "HeartbeatProbeMissingAlarm"}


def test_the_heartbeat_is_on_by_default_every_5_minutes_and_can_be_turned_off():
    parameter = T["Parameters"]["HeartbeatMinutes"]
    assert (parameter["Default"], parameter["AllowedValues"]) == (5, [0, 1, 5, 10, 15])
    assert HEARTBEAT | HEARTBEAT_ALARMS | {"Dashboard"} <= tpl.created(T)
    assert HEARTBEAT | HEARTBEAT_ALARMS <= tpl.created(T, Mode="central")
    assert not (HEARTBEAT | HEARTBEAT_ALARMS) & tpl.created(T, HeartbeatMinutes="0")


@pytest.mark.parametrize(
    "overrides, expected",
    [
        # A forwarder region sends its heartbeat to the central stack named by CentralId...
        ({"CentralId": ID}, HEARTBEAT),
        # ...and watches its own forwarding only with an alarm topic of its own.
        ({"CentralId": ID, "ForwarderAlarmTopicName": "ops-alarms"}, HEARTBEAT | {"ForwarderQuietAlarm"}),
        ({}, set()),
        ({"CentralId": ID, "HeartbeatMinutes": "0", "ForwarderAlarmTopicName": "ops-alarms"}, set()),
    ],
)
def test_a_forwarder_region_sends_a_heartbeat_when_told_the_central_stacks_id(overrides, expected):
    made = tpl.created(T, Mode="forwarder", CentralEventBusArn=CENTRAL_BUS, **overrides)
    assert made & (HEARTBEAT | HEARTBEAT_ALARMS | {"ForwarderQuietAlarm", "Dashboard"}) == expected
    # In the central bus's own account and region there is nothing to forward, and no heartbeat
    # to send: the central stack's own covers it.
    here = tpl.created(T, region="eu-west-1", account="444455556666", Mode="forwarder", CentralEventBusArn=CENTRAL_BUS, **overrides)
    assert here == {"NothingToForward"}


def test_the_central_stack_gives_forwarders_its_id_and_they_tag_its_parameter():
    central = params(Mode="central")
    assert tpl.evaluate(T, T["Outputs"]["TrailwatchId"]["Value"], central) == ID
    told = evaluated("AlertFunction", central, REFS)["Environment"]["Variables"]["HEARTBEAT_PARAMETER"]
    assert told == f"/trailwatch/{ID}/heartbeat" == evaluated("HeartbeatParameter", central)["Name"]
    forwarder = {**tpl.parameters(T, region="ap-southeast-2", account="444455556666", Mode="forwarder", CentralEventBusArn=CENTRAL_BUS, CentralId=ID)}
    forwarder["AWS::StackId"] = forwarder["AWS::StackId"].replace(ID, "0f3c9a7e-5d21-4b8e-9a6f-2c7d8e9f0a1b")
    assert evaluated("HeartbeatParameter", forwarder)["Name"] == told
    assert re.fullmatch(T["Parameters"]["CentralId"]["AllowedPattern"], ID)
    for bad in ["trailwatch", ID.upper(), ID + "0", f"arn:aws:cloudformation:us-east-1:1:stack/x/{ID}"]:
        assert not re.fullmatch(T["Parameters"]["CentralId"]["AllowedPattern"], bad), bad


@pytest.mark.parametrize("minutes", INTERVALS)
def test_the_schedule_tags_the_heartbeat_parameter_through_a_universal_target(minutes):
    p = params(HeartbeatMinutes=str(minutes))
    parameter = evaluated("HeartbeatParameter", p)
    schedule = evaluated("HeartbeatSchedule", p, {"HeartbeatParameter": parameter["Name"], "HeartbeatRole.Arn": "{role}"})
    # EventBridge's rate syntax: "minute" for 1, "minutes" above.
    assert schedule["ScheduleExpression"] == (f"rate({minutes} minute)" if minutes == 1 else f"rate({minutes} minutes)")
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"} and schedule["State"] == "ENABLED"
    target = schedule["Target"]
    # Universal target: service id and action in camelCase ("Using universal targets").
    assert target["Arn"] == "arn:aws:scheduler:::aws-sdk:ssm:addTagsToResource"
    body = json.loads(target["Input"])
    assert body == {
        "ResourceType": "Parameter", "ResourceId": parameter["Name"],
        "Tags": [{"Key": "trailwatch:heartbeat", "Value": "<aws.scheduler.scheduled-time>"}],
    }
    # A beat older than one interval is superseded by the next one.
    assert 60 <= target["RetryPolicy"]["MaximumEventAgeInSeconds"] <= minutes * 60
    assert (parameter["Type"], parameter["Tier"]) == ("String", "Standard")
    assert schedule["GroupName"] == "{HeartbeatScheduleGroup}"


def test_the_heartbeat_role_may_only_tag_the_parameter_and_only_its_schedules_may_use_it():
    p = params()
    role = evaluated("HeartbeatRole", p)
    told = evaluated("AlertFunction", p, REFS)["Environment"]["Variables"]["HEARTBEAT_ROLE_NAME"]
    assert role["RoleName"] == told.replace("{region}", REGION) == f"trailwatch-heartbeat-{REGION}"
    # IAM's limit for a role name is 64 characters; the longest region names are 14.
    assert len(told.replace("{region}", "ap-southeast-4")) <= 64
    [statement] = [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]
    name = evaluated("HeartbeatParameter", p)["Name"]
    assert statement == {
        "Effect": "Allow", "Action": "ssm:AddTagsToResource",
        # A parameter's ARN drops the name's leading slash.
        "Resource": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{name}",
    }
    group = f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule-group/{evaluated('HeartbeatScheduleGroup', p)['Name']}"
    scheduler = {"service": "scheduler.amazonaws.com", "aws:SourceAccount": ACCOUNT}
    # Scheduler passes the schedule group's ARN ("Confused deputy prevention").
    assert may_assume("HeartbeatRole", {**scheduler, "aws:SourceArn": group})
    assert not may_assume("HeartbeatRole", {**scheduler, "aws:SourceArn": f"{group}-other"})
    assert not may_assume("HeartbeatRole", {**scheduler, "aws:SourceArn": f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule-group/default"})
    assert not may_assume("HeartbeatRole", {**scheduler, "aws:SourceArn": group, "aws:SourceAccount": "444455556666"})
    assert not may_assume("HeartbeatRole", {"service": "events.amazonaws.com", "aws:SourceAccount": ACCOUNT, "aws:SourceArn": group})


def test_the_sample_heartbeat_is_what_the_template_makes():
    """events/heartbeat.json (the function's sample) is the call this template schedules."""
    sample = harness.load_event(harness.EVENTS / "heartbeat.json")
    detail = sample["detail"]
    assert (sample["source"], sample["detail-type"]) == ("aws.ssm", "AWS API Call via CloudTrail")
    assert (detail["eventSource"], detail["eventName"]) == ("ssm.amazonaws.com", "AddTagsToResource")
    issuer = detail["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"]
    told = props("AlertFunction")["Environment"]["Variables"]["HEARTBEAT_ROLE_NAME"]
    assert issuer.rsplit("/", 1)[1] == told.replace("{region}", sample["region"])
    assert re.fullmatch(r"/trailwatch/[0-9a-f-]{36}/heartbeat", detail["requestParameters"]["resourceId"])
    [tag] = detail["requestParameters"]["tags"]
    schedule = json.loads(evaluated("HeartbeatSchedule", refs={"HeartbeatParameter": "x", "HeartbeatRole.Arn": "x"})["Target"]["Input"])
    assert tag["key"] == schedule["Tags"][0]["Key"]


def window(minutes: int) -> int:
    return T["Mappings"]["HeartbeatInterval"][str(minutes)]["WindowMinutes"]


@pytest.mark.parametrize("minutes", INTERVALS)
@pytest.mark.parametrize("alarm, metric, dimensions", [
    ("HeartbeatMissingAlarm", "Heartbeats", [{"Name": "Region", "Value": REGION}]),
    ("HeartbeatProbeMissingAlarm", "HeartbeatProbes", []),
])
def test_a_missing_heartbeat_or_probe_is_an_alarm_after_a_whole_window(minutes, alarm, metric, dimensions):
    a = evaluated(alarm, params(HeartbeatMinutes=str(minutes)), {"HealthTopic": "{health}"})
    assert (a["Namespace"], a["MetricName"], a.get("Dimensions", [])) == ("trailwatch", metric, dimensions)
    # Missing data is breaching: a heartbeat that never comes is the alarm.
    assert a["TreatMissingData"] == "breaching"
    assert (a["Statistic"], a["ComparisonOperator"], a["Threshold"]) == ("Sum", "LessThanThreshold", 1)
    # One-minute periods; every one of a whole window empty.
    assert a["Period"] == 60 and a["EvaluationPeriods"] == a["DatapointsToAlarm"] == window(minutes)
    # Tolerant of EventBridge's best effort: no alarm before 15 minutes, nor before three
    # heartbeats in a row are missing. CloudWatch: a day at most for one-minute periods.
    assert window(minutes) >= max(15, 3 * minutes)
    assert a["Period"] * a["EvaluationPeriods"] <= 86_400
    assert a["AlarmActions"] == a["OKActions"] == ["{health}"]


@pytest.mark.parametrize("overrides, expected", [
    *[({"HeartbeatMinutes": str(minutes)}, str(window(minutes))) for minutes in INTERVALS],
    ({"HeartbeatMinutes": "0"}, "0"),
    ({"PostureIntervalMinutes": "0"}, "0"),
])
def test_the_posture_check_counts_each_regions_heartbeats_over_the_alarms_window(overrides, expected):
    """Regions other than the stack's own have no alarm; the posture check counts their
    heartbeats over the same window as the alarms, and may read the metric only then."""
    p = params(**overrides)
    told = evaluated("AlertFunction", p, REFS)["Environment"]["Variables"]
    assert str(told["HEARTBEAT_WINDOW_MINUTES"]) == expected
    statements = evaluated("AlertFunctionPolicy", p, REFS)["PolicyDocument"]["Statement"]
    counting = [s for s in statements if "cloudwatch:GetMetricStatistics" in _values(s["Action"])]
    if expected == "0":
        assert counting == []
    else:
        [statement] = counting
        # Read-only: the one action, which CloudWatch grants on "*" only.
        assert _values(statement["Action"]) == ["cloudwatch:GetMetricStatistics"] and statement["Resource"] == "*"


def stated_heartbeat_bound() -> int:
    """The maximum time from a break to the heartbeat alarm that docs/safety-net.md states."""
    text = " ".join(re.sub(r"[*_`]", "", (harness.ROOT / "docs" / "safety-net.md").read_text()).split())
    match = re.search(r"the heartbeat alarm fires within (\d+) minutes of a break", text, re.IGNORECASE)
    assert match, "docs/safety-net.md states the maximum time from a break to the heartbeat alarm"
    return int(match.group(1))


def test_the_heartbeat_alarm_meets_the_time_the_docs_state():
    """The bound, derived in docs/safety-net.md: a whole window without a heartbeat, plus the
    minute the last one landed in, up to 2 minutes for an in-flight heartbeat's delivery and up
    to 2 for CloudWatch to take in the metric and evaluate: window + 5 minutes."""
    default = T["Parameters"]["HeartbeatMinutes"]["Default"]
    assert window(default) + 5 <= stated_heartbeat_bound()


def test_a_forwarder_region_that_stops_forwarding_is_an_alarm():
    p = tpl.parameters(T, Mode="forwarder", CentralEventBusArn=CENTRAL_BUS, CentralId=ID, ForwarderAlarmTopicName="ops-alarms")
    a = tpl.evaluate(T, props("ForwarderQuietAlarm"), p, {"ForwardRule": "forward-rule"})
    assert (a["Namespace"], a["MetricName"], a["Dimensions"]) == ("AWS/Events", "MatchedEvents", [{"Name": "RuleName", "Value": "forward-rule"}])
    assert a["TreatMissingData"] == "breaching" and a["ComparisonOperator"] == "LessThanThreshold"
    assert a["Period"] == 60 and a["EvaluationPeriods"] == a["DatapointsToAlarm"] == window(5)
    assert a["AlarmActions"] == a["OKActions"] == ["arn:aws:sns:eu-west-1:111122223333:ops-alarms"]


def test_the_heartbeat_schedule_and_alarms_are_accepted_on_moto(moto):
    moto.reset()
    p = params()
    scheduler = moto.client("scheduler")
    group = evaluated("HeartbeatScheduleGroup", p)["Name"]
    scheduler.create_schedule_group(Name=group)
    name = evaluated("HeartbeatParameter", p)["Name"]
    moto.client("ssm").put_parameter(Name=name, Value="x", Type="String", Tier="Standard")
    schedule = evaluated("HeartbeatSchedule", p, {"HeartbeatParameter": name, "HeartbeatRole.Arn": f"arn:aws:iam::{ACCOUNT}:role/trailwatch-heartbeat-{REGION}", "HeartbeatScheduleGroup": group})
    scheduler.create_schedule(
        Name="heartbeat", GroupName=schedule["GroupName"], ScheduleExpression=schedule["ScheduleExpression"],
        FlexibleTimeWindow=schedule["FlexibleTimeWindow"], State=schedule["State"], Target=schedule["Target"],
    )
    stored = scheduler.get_schedule(Name="heartbeat", GroupName=group)
    assert stored["Target"]["Arn"] == "arn:aws:scheduler:::aws-sdk:ssm:addTagsToResource"
    health = moto.client("sns").create_topic(Name=evaluated("HealthTopic", p)["TopicName"])["TopicArn"]
    cloudwatch = moto.client("cloudwatch")
    for alarm in sorted(HEARTBEAT_ALARMS):
        a = evaluated(alarm, p, {"HealthTopic": health})
        cloudwatch.put_metric_alarm(
            AlarmName=a["AlarmName"], AlarmDescription=a["AlarmDescription"], Namespace=a["Namespace"], MetricName=a["MetricName"],
            Dimensions=a.get("Dimensions", []), Statistic=a["Statistic"], Period=a["Period"], EvaluationPeriods=a["EvaluationPeriods"],
            DatapointsToAlarm=a["DatapointsToAlarm"], Threshold=float(a["Threshold"]), ComparisonOperator=a["ComparisonOperator"],
            TreatMissingData=a["TreatMissingData"], AlarmActions=a["AlarmActions"], OKActions=a["OKActions"],
        )
        [stored] = cloudwatch.describe_alarms(AlarmNames=[a["AlarmName"]])["MetricAlarms"]
        assert (stored["TreatMissingData"], stored["DatapointsToAlarm"]) == ("breaching", window(5))


# ---------------------------------------------------------------- the probe is for no one


def subscribe(moto, topic: str, subscription: str, p: dict) -> str:
    sqs, sns = moto.client("sqs"), moto.client("sns")
    url = sqs.create_queue(QueueName=subscription)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s = evaluated(subscription, {**p, "HighSeverityEndpoint": arn}, {"AlertTopic": topic, "SubscriptionDeadLetterQueue.Arn": arn})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={
        "FilterPolicy": json.dumps(s["FilterPolicy"]), "FilterPolicyScope": s["FilterPolicyScope"], "RawMessageDelivery": "true"})
    return url


def test_no_subscription_the_template_makes_receives_the_probe_but_alarms_reach_the_email_on_moto(moto):
    """The heartbeat's probe (alertKind heartbeat, INFORMATIONAL) is published to the alert topic
    every interval and filtered out of every subscription the template makes; an alarm
    notification (no attributes at all, e.g. HealthTopicDeliveryFailuresAlarm's) still reaches
    the email."""
    moto.reset()
    p = params(AlertEmail="sec@example.com", HighSeverityEndpoint="x")
    sns, sqs = moto.client("sns"), moto.client("sqs")
    topic = sns.create_topic(Name=evaluated("AlertTopic", p)["TopicName"])["TopicArn"]
    inboxes = {name: subscribe(moto, topic, name, p) for name in ("AlertEmailSubscription", "HighSeveritySubscription")}

    def attributes(**values):
        return {k: {"DataType": "String", "StringValue": v} for k, v in values.items()}

    sns.publish(TopicArn=topic, Message="probe", MessageAttributes=attributes(alertKind="heartbeat", severity="INFORMATIONAL", eventName="AddTagsToResource"))
    sns.publish(TopicArn=topic, Message="event", MessageAttributes=attributes(alertKind="event", severity="CRITICAL", eventName="StopLogging"))
    sns.publish(TopicArn=topic, Message="posture", MessageAttributes=attributes(alertKind="posture", severity="HIGH"))
    sns.publish(TopicArn=topic, Message="alarm", Subject="ALARM: trailwatch health-topic-delivery-failures")

    def received(url):
        return sorted(m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", []))

    assert received(inboxes["AlertEmailSubscription"]) == ["alarm", "event", "posture"]
    assert received(inboxes["HighSeveritySubscription"]) == ["event", "posture"]


# ---------------------------------------------------------------- names and the function's environment


def alarm_names(p: dict) -> dict[str, str]:
    made = tpl.created(T, REGION, ACCOUNT, **{k: v for k, v in p.items() if not k.startswith("AWS::")})
    return {name: tpl.evaluate(T, props(name)["AlarmName"], p) for name in tpl.resources(T, "AWS::CloudWatch::Alarm") if name in made}


@pytest.mark.parametrize("overrides", [
    {}, {"Mode": "central", "CloudTrailLogGroupName": "aws-cloudtrail-logs"}, {"PostureIntervalMinutes": "0", "HeartbeatMinutes": "0"},
    {"Mode": "forwarder", "CentralEventBusArn": CENTRAL_BUS, "CentralId": ID, "ForwarderAlarmTopicName": "ops"},
])
def test_every_alarm_is_named_from_the_stacks_id_the_function_is_told(overrides):
    """The function owns every alarm named trailwatch-OWN_ID-… (src/own.rs), so each alarm's name
    must start with the id the function is told."""
    p = params(**overrides)
    names = alarm_names(p)
    assert names
    for logical, name in names.items():
        assert re.fullmatch(rf"trailwatch-{ID}-[a-z0-9-]+", name) and len(name) <= 255, (logical, name)
    assert len(set(names.values())) == len(names)
    if tpl.condition(T, "Receives", p):
        told = evaluated("AlertFunction", p, REFS)["Environment"]["Variables"]["OWN_ID"]
        assert all(name.startswith(f"trailwatch-{told}-") for name in names.values()), (told, names)


def test_the_function_is_told_its_own_resources_from_the_stack():
    variables = props("AlertFunction")["Environment"]["Variables"]
    p = params()
    told = evaluated("AlertFunction", p, {**REFS, "FunctionLogGroup": "{log group}"})["Environment"]["Variables"]
    assert told["OWN_ID"] == ID
    assert variables["OWN_ROLE_ARN"] == {"Fn::GetAtt": ["AlertFunctionRole", "Arn"]}
    assert variables["OWN_LOG_GROUP"] == {"Ref": "FunctionLogGroup"}
    assert told["OWN_QUEUE_ARNS"].split(",") == ["{RuleDeadLetterQueue.Arn}", "{FunctionFailureQueue.Arn}", "{SubscriptionDeadLetterQueue.Arn}"]
    # The digest queue is the one queue the function is not told: it names it from OWN_ID
    # (`trailwatch-ID-digests`, src/config.rs), as the template does, to spare the environment.
    queues = {q for q in tpl.resources(T, "AWS::SQS::Queue") if q in tpl.created(T)}
    assert set(told["OWN_QUEUE_ARNS"].split(",")) == {f"{{{q}.Arn}}" for q in queues - {"DigestQueue"}}
    assert evaluated("DigestQueue", p)["QueueName"] == f"trailwatch-{told['OWN_ID']}-digests"
    assert told["OWN_EVENT_BUS"] == ""
    central = params(Mode="central")
    assert evaluated("AlertFunction", central, REFS)["Environment"]["Variables"]["OWN_EVENT_BUS"] == evaluated("CentralEventBus", central)["Name"]
    assert told["HEARTBEAT_PARAMETER"] == f"/trailwatch/{ID}/heartbeat"
    assert told["HEARTBEAT_ROLE_NAME"] == "trailwatch-heartbeat-{region}"
    assert told["OWN_LOG_GROUP"] == "{log group}" and evaluated("FunctionLogGroup", p)["LogGroupName"] == f"/trailwatch/{ID}/alert-function"


@pytest.mark.parametrize("overrides", [{}, {"Mode": "central"}, {"PostureIntervalMinutes": "0"}])
def test_the_function_may_read_its_own_rules_and_alert_subscriptions_and_nothing_else(overrides):
    """The posture check reads each of trailwatch's rules as deployed (DescribeRule,
    ListTargetsByRule) and counts the alert topic's confirmed subscriptions: the function may do
    that for exactly the rules it is told are its own, and nothing else's."""
    p = params(**overrides)
    statements = evaluated("AlertFunctionPolicy", p, REFS)["PolicyDocument"]["Statement"]
    readable: dict[str, set[str]] = {}
    for statement in statements:
        for action in _values(statement["Action"]):
            if action.startswith("events:") or action == "sns:ListSubscriptionsByTopic":
                readable.setdefault(action, set()).update(_values(statement["Resource"]))
    variables = evaluated("AlertFunction", p, REFS)["Environment"]["Variables"]
    told = variables["OWN_RULE_NAMES"].split(",") + [
        f"{variables['OWN_EVENT_BUS']}/{name}" for name in variables["OWN_BUS_RULE_NAMES"].split(",") if name]
    own = {f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{name}" for name in told}
    assert set(readable) == {"events:DescribeRule", "events:ListTargetsByRule", "sns:ListSubscriptionsByTopic"}
    for action in ("events:DescribeRule", "events:ListTargetsByRule"):
        # Every own rule; beyond them at most the posture rule's name when there is no such rule.
        assert own <= readable[action] and readable[action] - own <= {f"arn:aws:events:{REGION}:{ACCOUNT}:rule/trailwatch-{ID}-posture"}, readable[action]
        assert not [arn for arn in readable[action] if "*" in arn]
    assert readable["sns:ListSubscriptionsByTopic"] == {topic_arn("AlertTopic")}


def test_the_functions_environment_fits_lambdas_4_kb_with_room_for_the_parameters():
    """Lambda allows 4 KB of environment in all. The template's own values, in the largest
    layout (central, a 128-character stack name, GovCloud ARNs), leave at least 2 KB for
    what users pass (AccountNames, TrustedPrincipals, PostureRegions), as docs/deploy.md says."""
    user_given = {"TRUSTED_PRINCIPALS", "ACCOUNT_NAMES", "POSTURE_REGIONS"}
    p = tpl.parameters(T, region="ap-southeast-4", stack_name="s" * 128, partition="aws-us-gov",
                       Mode="central", OrganizationId="o-" + "a" * 32, CloudTrailLogGroupName="x",
                       AutoRestartLogging="true")
    refs = {"AlertTopic": "arn:aws-us-gov:sns:ap-southeast-4:111122223333:trailwatch-" + ID + "-alerts",
            "HealthTopic": "arn:aws-us-gov:sns:ap-southeast-4:111122223333:trailwatch-" + ID + "-health",
            "AlertKey.Arn": "arn:aws-us-gov:kms:ap-southeast-4:111122223333:key/" + KEY_ID,
            # Central mode names the role (trailwatch-central-ID); a generated name is longer.
            "AlertFunctionRole.Arn": "arn:aws-us-gov:iam::111122223333:role/" + "s" * 40 + "-AlertFunctionRole-ABCDEFGHIJKL",
            "EventLedger": evaluated("EventLedger", p)["TableName"],
            "FunctionLogGroup": f"/trailwatch/{ID}/alert-function"}
    for queue in ("RuleDeadLetterQueue", "FunctionFailureQueue", "SubscriptionDeadLetterQueue"):
        refs[f"{queue}.Arn"] = f"arn:aws-us-gov:sqs:ap-southeast-4:111122223333:{evaluated(queue, p)['QueueName']}"
    variables = tpl.evaluate(T, props("AlertFunction")["Environment"]["Variables"], p, refs)
    assert variables["MEMBER_ROLE_NAME"] and variables["DEDUP_TABLE"] == f"trailwatch-{ID}-events"
    size = sum(len(k) + len(str(v)) for k, v in variables.items() if k not in user_given)
    print(f"the template's own environment, largest layout: {size} bytes")
    assert size <= 4096 - 2048, size


def test_the_heartbeat_and_guard_leave_no_rule_or_queue_unnamed():
    for name in tpl.resources(T, "AWS::Events::Rule"):
        if not name.startswith("ForwardRule"):  # a forwarder's own rules: no function is told about them
            assert "Name" in props(name), name
    for name in tpl.resources(T, "AWS::SQS::Queue"):
        assert "QueueName" in props(name), name


# ---------------------------------------------------------------- pattern sizes


def compact(pattern) -> int:
    return len(json.dumps(pattern, separators=(",", ":")))


def test_every_pattern_fits_eventbridges_2048_characters():
    """EventBridge quota: "Event pattern size ... 2,048" characters (adjustable; not counted on).
    The guard patterns at their longest: GovCloud's partition, a 14-character region, a
    128-character stack name, 64-character function and role names."""
    p = tpl.parameters(T, region="ap-southeast-4", partition="aws-us-gov", stack_name="s" * 128)
    for rule in GUARDS:
        longest = tpl.evaluate(T, props(rule), p, {"AlertKey": KEY_ID, "AlertFunction": "f" * 64, "AlertFunctionRole": "r" * 64})["EventPattern"]
        assert compact(json.loads(longest)) <= 2048, rule
    assert compact(tpl.alert_rule_pattern(T)) <= 2048


# ---------------------------------------------------------------- the dashboard


def test_the_dashboard_shows_latency_alerts_errors_and_heartbeats_on_moto(moto):
    moto.reset()
    p = params()
    dashboard = evaluated("Dashboard", p, {"AlertFunction": FUNCTION_NAME})
    assert dashboard["DashboardName"] == f"trailwatch-{ID}"
    body = json.loads(dashboard["DashboardBody"])
    widgets = {w["properties"]["title"]: w["properties"] for w in body["widgets"]}
    assert all(w["region"] == REGION for w in widgets.values())

    def stats(metric: str) -> set[str]:
        return {line[-1]["stat"] for w in widgets.values() for line in w["metrics"] if metric in line}

    assert stats("AlertLatency") == stats("HeartbeatLatency") == {"p50", "p99"}
    expressions = [line[0]["expression"] for w in widgets.values() for line in w["metrics"] if "expression" in line[0]]
    assert any(e.startswith("SEARCH('{trailwatch,Severity} MetricName=\"Alerts\"', 'Sum'") for e in expressions), expressions
    assert any(e.startswith("SEARCH('{trailwatch,Region} MetricName=\"Heartbeats\"', 'Sum'") for e in expressions), expressions
    assert ["AWS/Lambda", "Errors", "FunctionName", FUNCTION_NAME, {"stat": "Sum"}] in [line for w in widgets.values() for line in w["metrics"]]
    cloudwatch = moto.client("cloudwatch")
    cloudwatch.put_dashboard(DashboardName=dashboard["DashboardName"], DashboardBody=dashboard["DashboardBody"])
    assert json.loads(cloudwatch.get_dashboard(DashboardName=dashboard["DashboardName"])["DashboardBody"]) == body

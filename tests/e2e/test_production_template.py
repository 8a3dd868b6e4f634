"""What template.yaml promises a security team: delivery guarantees, a protected alert path,
a health path that does not depend on it, routing, the scheduled posture check and its dead
man's switch, the CIS metric filter, and the central/forwarder layouts, checked on the template
and, where moto can run it, on moto."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.parse

import pytest

import harness
import template as tpl

T = tpl.load()
R = T["Resources"]


def props(name: str) -> dict:
    return R[name]["Properties"]


def statements_of(document: dict):
    """A policy document's statements; a conditional one (Fn::If) as each of its branches."""
    for statement in document["Statement"]:
        if "Fn::If" in statement:
            yield from (branch for branch in statement["Fn::If"][1:] if branch != {"Ref": "AWS::NoValue"})
        else:
            yield statement


def all_policy_statements():
    """Every statement of every IAM, key, topic, queue and bus policy in the template."""
    for name, resource in R.items():
        p = resource.get("Properties", {})
        documents = []
        if resource["Type"] == "AWS::IAM::Role":
            documents += [pol["PolicyDocument"] for pol in p.get("Policies", [])]
        if resource["Type"] == "AWS::IAM::Policy":
            documents.append(p["PolicyDocument"])
        if resource["Type"] == "AWS::KMS::Key":
            documents.append(p["KeyPolicy"])
        if resource["Type"] in ("AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy"):
            documents.append(p["PolicyDocument"])
        for document in documents:
            for statement in statements_of(document):
                yield name, statement


# ---------------------------------------------------------------- linters


def test_checkov_passes_and_every_skip_is_justified():
    checkov = harness.ROOT / ".venv-checkov" / "bin" / "checkov"
    if not checkov.exists():
        raise harness.HarnessError(f"{checkov} not found: run `make lint` or `make test` to install checkov into .venv-checkov/")
    result = subprocess.run(
        [str(checkov), "--file", str(tpl.TEMPLATE), "--framework", "cloudformation", "--skip-download", "--compact", "--quiet", "--output", "json"],
        capture_output=True, text=True, timeout=300,
    )
    report = json.loads(result.stdout)
    summary = report["summary"]
    assert summary["failed"] == 0, json.dumps(report["results"]["failed_checks"], indent=1)[:4000]
    assert summary["passed"] >= 20
    for name, resource in R.items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert len(skip.get("comment", "")) > 40, f"{name} skips {skip['id']} without a real justification"


# ---------------------------------------------------------------- delivery guarantees


@pytest.mark.parametrize("rule", ["AlertRule", "AlertRule2", "CentralAlertRule", "CentralAlertRule2", "PostureScheduleRule", "ForwardRule", "ForwardRule2"])
def test_every_rule_target_retries_and_has_a_dead_letter_queue(rule):
    [target] = props(rule)["Targets"]
    assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
    assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] > 0
    queue = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    assert R[queue]["Type"] == "AWS::SQS::Queue"


def test_every_rule_uses_the_same_pattern():
    for suffix in ("", "2"):
        pattern = props(f"AlertRule{suffix}")["EventPattern"]
        assert props(f"CentralAlertRule{suffix}")["EventPattern"] == pattern
        assert props(f"ForwardRule{suffix}")["EventPattern"] == pattern
    # Which calls: test_template.py checks the patterns against `bootstrap --event-patterns`.


def test_failed_invocations_go_to_an_on_failure_queue_after_bounded_retries():
    config = props("AlertFunctionInvokeConfig")
    assert config["FunctionName"] == {"Ref": "AlertFunction"}
    assert 0 < config["MaximumRetryAttempts"] <= 2
    on_failure = config["DestinationConfig"]["OnFailure"]
    assert on_failure == {"Destination": {"Fn::GetAtt": ["FunctionFailureQueue", "Arn"]}}


def alarms() -> dict[str, dict]:
    return {name: r["Properties"] for name, r in tpl.resources(T, "AWS::CloudWatch::Alarm").items()}


HEALTH = [{"Ref": "HealthTopic"}]


@pytest.mark.parametrize(
    "namespace, metric, watched",
    [
        ("AWS/Lambda", "Errors", {"Ref": "AlertFunction"}),
        ("AWS/Lambda", "Throttles", {"Ref": "AlertFunction"}),
        ("AWS/Lambda", "DestinationDeliveryFailures", {"Ref": "AlertFunction"}),
        ("AWS/Lambda", "AsyncEventsDropped", {"Ref": "AlertFunction"}),
        ("AWS/Events", "FailedInvocations", {"Ref": "AlertRule"}),
        ("AWS/Events", "InvocationsFailedToBeSentToDlq", {"Ref": "AlertRule"}),
        ("AWS/Events", "FailedInvocations", {"Ref": "AlertRule2"}),
        ("AWS/Events", "InvocationsFailedToBeSentToDlq", {"Ref": "AlertRule2"}),
        ("AWS/Events", "InvocationsFailedToBeSentToDlq", {"Ref": "PostureScheduleRule"}),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"Fn::GetAtt": ["RuleDeadLetterQueue", "QueueName"]}),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"Fn::GetAtt": ["FunctionFailureQueue", "QueueName"]}),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"Fn::GetAtt": ["SubscriptionDeadLetterQueue", "QueueName"]}),
    ],
)
def test_the_watcher_is_watched(namespace, metric, watched):
    matching = [
        a for a in alarms().values()
        if a["Namespace"] == namespace and a["MetricName"] == metric and a["Dimensions"][0]["Value"] == watched
    ]
    assert len(matching) == 1, (namespace, metric, watched)
    alarm = matching[0]
    assert alarm["AlarmActions"] == HEALTH and alarm["OKActions"] == HEALTH
    assert alarm["Threshold"] == 1 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"


@pytest.mark.parametrize("measured, told", [("AlertTopic", "HealthTopic"), ("HealthTopic", "AlertTopic")])
def test_a_topics_delivery_failures_are_told_on_the_other_topic_once(measured, told):
    """Issue 16: told on the topic it measures, one subscriber that always fails would fail the
    notification too and keep the alarm flapping, mailing everyone else every few minutes."""
    [alarm] = [
        a for a in alarms().values()
        if (a["Namespace"], a["MetricName"]) == ("AWS/SNS", "NumberOfNotificationsFailed")
        and a["Dimensions"] == [{"Name": "TopicName", "Value": {"Fn::GetAtt": [measured, "TopicName"]}}]
    ]
    assert alarm["AlarmActions"] == [{"Ref": told}]
    # No OK announcements, and ALARM until 15 minutes pass without a failure: a subscriber that
    # keeps failing is one message, not an ALARM/OK pair per failure.
    assert "OKActions" not in alarm
    assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (300, 3, 1)
    assert (alarm["Threshold"], alarm["ComparisonOperator"], alarm["TreatMissingData"]) == (1, "GreaterThanOrEqualToThreshold", "notBreaching")


def test_the_alert_topics_email_lets_alarm_notifications_through():
    """HealthTopicDeliveryFailuresAlarm notifies the alert topic: a CloudWatch notification has
    no message attributes, so a filter policy requiring alertKind would drop it."""
    assert {"exists": False} in props("AlertEmailSubscription")["FilterPolicy"]["alertKind"]


@pytest.mark.parametrize("metric", ["FailedInvocations", "InvocationsFailedToBeSentToDlq"])
def test_forwarded_events_that_fail_to_reach_the_function_are_alarmed_too(metric):
    central = [
        a for name, a in alarms().items()
        if a["MetricName"] == metric and R[name]["Condition"] == "IsCentral"
    ]
    watched = set()
    for alarm in central:
        dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
        # Ref of a rule on a custom bus is BUS|NAME: the alarm takes the name from the rule's
        # ARN, arn:…:rule/BUS/NAME.
        [[rule, _]] = [dimensions["RuleName"]["Fn::Select"][1]["Fn::Split"][1]["Fn::GetAtt"]]
        assert dimensions["RuleName"] == {"Fn::Select": [2, {"Fn::Split": ["/", {"Fn::GetAtt": [rule, "Arn"]}]}]}
        assert dimensions["EventBusName"] == {"Ref": "CentralEventBus"}
        assert alarm["AlarmActions"] == HEALTH
        watched.add(rule)
    assert watched == {"CentralAlertRule", "CentralAlertRule2"}


def test_operators_can_read_parked_events_and_nothing_more():
    statements = {s["Sid"]: s for s in props("AlertKey")["KeyPolicy"]["Statement"]}
    read = statements["AccountReadsParkedEventsThroughSqs"]
    assert read["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}
    # Reading needs Decrypt only; GenerateDataKey would let a reader write to the queues.
    assert read["Action"] == "kms:Decrypt"
    assert {"Fn::Sub": "sqs.${AWS::Region}.${AWS::URLSuffix}"} in read["Condition"]["StringEquals"]["kms:ViaService"]


def test_the_function_logs_json_to_its_own_log_group_with_retention():
    logging = props("AlertFunction")["LoggingConfig"]
    assert logging["LogFormat"] == "JSON"
    assert logging["LogGroup"] == {"Ref": "FunctionLogGroup"}
    assert logging["ApplicationLogLevel"] == {"Ref": "LogLevel"}
    group = props("FunctionLogGroup")
    assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    # Issue 16: encrypted with AlertKey, the function's logs (and the dead man's switch that
    # reads them) would vanish while that key is disabled. CloudWatch Logs encrypts at rest.
    assert "KmsKeyId" not in group
    assert "AlertKey" not in tpl.references(R["FunctionLogGroup"])
    # Only the group kept from before (named from the stack's name) may still be read with it.
    [former] = [s for s in props("AlertKey")["KeyPolicy"]["Statement"] if "logs" in json.dumps(s)]
    assert former["Sid"] == "LogsReadTheFormerFunctionLogGroup"
    assert former["Action"] == ["kms:Decrypt", "kms:DescribeKey"]
    arn = former["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"]["Fn::Sub"]
    assert arn.endswith(":log-group:/trailwatch/${AWS::StackName}/alert-function")
    assert tpl.evaluate(T, group["LogGroupName"], tpl.parameters(T)) not in arn


# ---------------------------------------------------------------- security of the alert path


def test_the_topic_is_encrypted_with_the_stacks_own_rotating_key():
    assert props("AlertTopic")["KmsMasterKeyId"] == {"Fn::GetAtt": ["AlertKey", "Arn"]}
    assert props("AlertKey")["EnableKeyRotation"] is True


def test_the_key_policy_names_no_role():
    """KMS rejects a key policy naming a role created seconds earlier ("principal must exist"),
    and CloudFormation rolls the stack back: the role's use of the key is granted by IAM."""
    key_policy = props("AlertKey")["KeyPolicy"]
    assert "AlertFunctionRole" not in tpl.references(key_policy)
    for statement in key_policy["Statement"]:
        assert statement["Principal"] != "*" and statement["Principal"] != {"AWS": "*"}
        if "AWS" in statement["Principal"]:
            assert statement["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}


def key_grants_to_the_account() -> dict[str, set[str]]:
    """What the key policy lets the account delegate through IAM, per kms:ViaService endpoint."""
    granted: dict[str, set[str]] = {}
    for statement in props("AlertKey")["KeyPolicy"]["Statement"]:
        if statement["Principal"].get("AWS") and statement["Action"] in ("kms:GenerateDataKey", "kms:Decrypt"):
            for service in statement["Condition"]["StringEquals"]["kms:ViaService"]:
                granted.setdefault(service["Fn::Sub"], set()).add(statement["Action"])
    return granted


def test_the_function_uses_the_key_through_sns_and_sqs_only_as_iam_grants():
    statements = {s["Sid"]: s for s in statements_of(props("AlertFunctionPolicy")["PolicyDocument"])}
    kms = statements["UseAlertKeyThroughSnsAndSqs"]
    assert kms["Resource"] == {"Fn::GetAtt": ["AlertKey", "Arn"]}
    assert set(kms["Action"]) == {"kms:GenerateDataKey", "kms:Decrypt"}
    via = [v["Fn::Sub"] for v in kms["Condition"]["StringEquals"]["kms:ViaService"]]
    assert via == ["sns.${AWS::Region}.${AWS::URLSuffix}", "sqs.${AWS::Region}.${AWS::URLSuffix}"]
    # The key policy delegates at least that to IAM, so the role's grant is not dead.
    granted = key_grants_to_the_account()
    for service in via:
        assert set(kms["Action"]) <= granted[service], service
    # And nothing beyond SNS and SQS.
    assert set(granted) == set(via)


@pytest.mark.parametrize(
    "policy, topic, exempt",
    [
        ("AlertTopicPolicy", "AlertTopic", [{"Fn::GetAtt": ["AlertFunctionRole", "Arn"]}]),
        ("HealthTopicPolicy", "HealthTopic", [{"Fn::GetAtt": ["AlertFunctionRole", "Arn"]}, {"Fn::GetAtt": ["GuardRuleRole", "Arn"]}]),
    ],
)
def test_the_topic_policy_denies_plain_http_and_other_publishers(policy, topic, exempt):
    assert props(policy)["Topics"] == [{"Ref": topic}]
    statements = {s["Sid"]: s for s in props(policy)["PolicyDocument"]["Statement"]}
    tls = statements["DenyPublishWithoutTls"]
    assert (tls["Effect"], tls["Action"], tls["Condition"]) == ("Deny", "sns:Publish", {"Bool": {"aws:SecureTransport": "false"}})
    others = statements["OnlyTrailwatchAndAwsServicesPublish"]
    assert others["Effect"] == "Deny" and others["Principal"] == "*"
    arns = others["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
    assert (arns if isinstance(arns, list) else [arns]) == exempt
    # Issue 16: services are told by aws:PrincipalIsAWSService, present in every signed
    # request, never by a key that might be absent from an alarm's publish.
    assert others["Condition"]["Bool"] == {"aws:PrincipalIsAWSService": "false"}
    assert "aws:PrincipalServiceName" not in json.dumps(props(policy))
    alarms_publish = statements["AlarmsPublish"]
    assert alarms_publish["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert alarms_publish["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    for statement in statements.values():
        assert statement["Resource"] == {"Ref": topic}


def test_no_policy_grants_a_wildcard_action_and_iam_never_a_wildcard_resource():
    for name, statement in all_policy_statements():
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        for action in actions:
            assert action != "*" and not action.endswith(":*"), (name, action)
        if R[name]["Type"] in ("AWS::IAM::Role", "AWS::IAM::Policy") and statement["Resource"] == "*":
            # Reads that support no resource-level permissions.
            assert statement["Action"] in ("cloudtrail:DescribeTrails", "cloudwatch:GetMetricStatistics", "organizations:ListAccounts",
                                           "config:DescribeConfigurationRecorderStatus", "guardduty:ListDetectors",
                                           "organizations:ListAWSServiceAccessForOrganization"), (name, statement)


def test_every_queue_is_encrypted():
    for name, queue in tpl.resources(T, "AWS::SQS::Queue").items():
        p = queue["Properties"]
        assert p.get("KmsMasterKeyId") or p.get("SqsManagedSseEnabled") is True, name


# ---------------------------------------------------------------- routing


def test_the_high_severity_subscription_filters_on_the_severity_attribute():
    p = props("HighSeveritySubscription")
    assert p["FilterPolicyScope"] == "MessageAttributes"
    assert p["FilterPolicy"] == {"severity": ["CRITICAL", "HIGH"]}
    assert p["Protocol"] == {"Ref": "HighSeverityProtocol"}


def test_the_filter_policy_routes_real_alerts_on_moto(function, moto, world):
    """The template's filter policy on a moto subscription, fed by the real function."""
    inbox = world()
    sqs = moto.client("sqs")
    pager_url = sqs.create_queue(QueueName="pager")["QueueUrl"]
    pager_arn = sqs.get_queue_attributes(QueueUrl=pager_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    moto.client("sns").subscribe(
        TopicArn=harness.TOPIC_ARN, Protocol="sqs", Endpoint=pager_arn,
        Attributes={"FilterPolicy": json.dumps(props("HighSeveritySubscription")["FilterPolicy"]), "FilterPolicyScope": "MessageAttributes"},
    )
    for sample in ["start-logging", "create-trail", "update-trail-benign", "stop-logging-access-denied", "stop-logging"]:
        assert function.invoke(harness.load_event(harness.EVENTS / f"{sample}.json")).json()["status"] == "published"
    everything = [m.attributes["severity"] for m in harness.delivered(moto, inbox)]
    paged = [m.attributes["severity"] for m in harness.delivered(moto, pager_url)]
    assert everything == ["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"]
    assert paged == ["HIGH", "CRITICAL"]


# ---------------------------------------------------------------- CIS 4.5 as written


def test_the_cis_metric_filter_and_alarm_are_exactly_the_benchmarks():
    mf = props("CisCloudTrailChangesMetricFilter")
    assert mf["FilterPattern"] == (
        "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) "
        "|| ($.eventName = StartLogging) || ($.eventName = StopLogging) }"
    )
    assert mf["LogGroupName"] == {"Ref": "CloudTrailLogGroupName"}
    [transformation] = mf["MetricTransformations"]
    assert transformation["MetricNamespace"] == "CISBenchmark"
    assert transformation["MetricValue"] == "1"
    alarm = props("CisCloudTrailChangesAlarm")
    assert (alarm["Namespace"], alarm["MetricName"]) == ("CISBenchmark", transformation["MetricName"])
    assert alarm["Statistic"] == "Sum"
    assert alarm["Period"] == 300
    assert alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["EvaluationPeriods"] == 1
    assert alarm["TreatMissingData"] == "notBreaching"
    assert alarm["AlarmActions"] == [{"Ref": "AlertTopic"}]


def test_the_cis_metric_filter_is_accepted_by_cloudwatch_logs_on_moto(moto):
    moto.reset()
    logs = moto.client("logs")
    logs.create_log_group(logGroupName="aws-cloudtrail-logs")
    mf = props("CisCloudTrailChangesMetricFilter")
    [t] = mf["MetricTransformations"]
    logs.put_metric_filter(
        logGroupName="aws-cloudtrail-logs", filterName="cis-4-5", filterPattern=mf["FilterPattern"],
        metricTransformations=[{"metricName": t["MetricName"], "metricNamespace": t["MetricNamespace"], "metricValue": t["MetricValue"]}],
    )
    [stored] = logs.describe_metric_filters(logGroupName="aws-cloudtrail-logs")["metricFilters"]
    assert stored["filterPattern"] == mf["FilterPattern"]


# ---------------------------------------------------------------- layouts


RECEIVER = {"AlertFunction", "AlertFunctionInvokeConfig", "AlertTopic", "AlertKey", "AlertRule", "RuleDeadLetterQueue", "FunctionFailureQueue", "FunctionErrorsAlarm"}
FORWARDER = {"ForwardRule", "ForwardRule2", "ForwarderRole", "ForwarderDeadLetterQueue", "ForwarderDeadLetterQueuePolicy"}


def test_standalone_creates_the_receiver_and_nothing_of_the_other_layouts():
    made = tpl.created(T)
    assert RECEIVER <= made
    assert not made & (FORWARDER | {"CentralEventBus", "CentralAlertRule"})
    assert "CisCloudTrailChangesMetricFilter" not in made and "AlertEmailSubscription" not in made
    with_options = tpl.created(T, CloudTrailLogGroupName="aws-cloudtrail-logs", AlertEmail="sec@example.com", HighSeverityEndpoint="oncall@example.com")
    assert {"CisCloudTrailChangesMetricFilter", "CisCloudTrailChangesAlarm", "AlertEmailSubscription", "HighSeveritySubscription"} <= with_options


def test_central_adds_the_bus_and_its_rule():
    made = tpl.created(T, Mode="central", OrganizationId="o-abcdefghij")
    assert RECEIVER | {"CentralEventBus", "CentralAlertRule", "CentralAlertRulePermission", "CentralRuleFailedInvocationsAlarm"} <= made
    assert not made & FORWARDER


CENTRAL_BUS = "arn:aws:events:us-east-1:111122223333:event-bus/trailwatch-central"


def test_forwarder_creates_only_the_forwarding_rule_and_its_plumbing():
    made = tpl.created(T, Mode="forwarder", CentralEventBusArn=CENTRAL_BUS)
    assert made == FORWARDER
    assert tpl.created(T, region="us-east-1", account="444455556666", Mode="forwarder", CentralEventBusArn=CENTRAL_BUS) == FORWARDER


FORWARDER_ALARMS = {"ForwarderDeadLetterAlarm", "ForwarderFailedInvocationsAlarm", "ForwarderDeadLetterFailuresAlarm",
                    "ForwardRule2FailedInvocationsAlarm", "ForwardRule2DeadLetterFailuresAlarm"}


def test_a_forwarder_in_the_central_buss_own_account_and_region_forwards_nothing():
    """So one StackSet can target every account and region, the central one included."""
    made = tpl.created(T, region="us-east-1", account="111122223333", Mode="forwarder", CentralEventBusArn=CENTRAL_BUS)
    assert made == {"NothingToForward"}
    assert tpl.created(T, Mode="forwarder", CentralEventBusArn="arn:aws:events:us-east-1:1:event-bus/x", ForwarderAlarmTopicName="ops") == FORWARDER | FORWARDER_ALARMS


def test_the_central_bus_admits_this_account_and_the_organization():
    statements = props("CentralEventBus")["Policy"]["Statement"]
    assert statements[0]["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}
    org = statements[1]["Fn::If"][1]
    assert org["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": {"Ref": "OrganizationId"}}}
    assert org["Action"] == "events:PutEvents"


def test_a_monitored_event_in_a_forwarder_region_reaches_the_central_target(moto):
    """The central bus and rule in us-east-1, a forwarder rule in eu-west-1, all from the
    template's own pattern, on moto's EventBridge."""
    moto.reset()
    pattern = json.dumps(tpl.alert_rule_pattern(T))
    central = moto.client("events", "us-east-1")
    sqs = moto.client("sqs", "us-east-1")
    target_url = sqs.create_queue(QueueName="central-target")["QueueUrl"]
    target_arn = sqs.get_queue_attributes(QueueUrl=target_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus_arn = central.create_event_bus(Name="trailwatch-central")["EventBusArn"]
    central.put_rule(Name="central-alert-rule", EventBusName="trailwatch-central", EventPattern=pattern, State="ENABLED")
    central.put_targets(Rule="central-alert-rule", EventBusName="trailwatch-central", Targets=[{"Id": "function", "Arn": target_arn}])

    forwarder = moto.client("events", "eu-west-1")
    forwarder.put_rule(Name="forward-rule", EventPattern=pattern, State="ENABLED")
    forwarder.put_targets(
        Rule="forward-rule",
        Targets=[{"Id": "central-bus", "Arn": bus_arn, "RoleArn": f"arn:aws:iam::{harness.ACCOUNT}:role/forwarder"}],
    )

    for sample in ["stop-logging", "not-monitored"]:
        event = harness.load_event(harness.EVENTS / f"{sample}.json")
        event["detail"]["awsRegion"] = "eu-west-1"
        result = forwarder.put_events(Entries=[{"Source": event["source"], "DetailType": event["detail-type"], "Detail": json.dumps(event["detail"])}])
        assert result["FailedEntryCount"] == 0

    arrived = []
    while messages := sqs.receive_message(QueueUrl=target_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", []):
        for message in messages:
            arrived.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=target_url, ReceiptHandle=message["ReceiptHandle"])
    assert [e["detail"]["eventName"] for e in arrived] == ["StopLogging"]
    assert arrived[0]["detail"]["awsRegion"] == "eu-west-1"


KEPT = {"FunctionLogGroup", "FunctionFailureQueue", "RuleDeadLetterQueue", "SubscriptionDeadLetterQueue", "ForwarderDeadLetterQueue", "DigestQueue", "PostureQueue", "AlertKey",
        # The evidence archive (EvidenceArchiveDays): its bucket (named by CloudFormation), the key
        # that reads it and Firehose's errors.
        "EvidenceBucket", "EvidenceKey", "EvidenceLogGroup"}


def test_parked_events_the_functions_logs_and_the_key_that_reads_them_outlive_the_stack():
    """Kept on delete and replacement; deleted when the first create fails (RetainExceptOnCreate:
    a rolled-back create kept nothing worth keeping, and would otherwise litter). The key is kept
    too: deleting the stack would otherwise schedule its deletion and make the kept queues that
    it encrypts unreadable (issue 16)."""
    kept = {n for n, r in R.items() if r.get("DeletionPolicy") in ("Retain", "RetainExceptOnCreate")}
    assert set(tpl.resources(T, "AWS::SQS::Queue")) | set(tpl.resources(T, "AWS::Logs::LogGroup")) <= kept
    assert kept == KEPT
    for name in kept:
        resource = R[name]
        assert resource["DeletionPolicy"] == "RetainExceptOnCreate", name
        assert resource["UpdateReplacePolicy"] == "Retain", name
    # Every kept queue that AlertKey encrypts can still be read once the stack is gone.
    for name in kept:
        if props(name).get("KmsMasterKeyId"):
            assert props(name)["KmsMasterKeyId"] == {"Fn::GetAtt": ["AlertKey", "Arn"]}
            assert "AlertKey" in kept


# Where each kept resource keeps its physical name, and the longest name the service takes.
PHYSICAL_NAMES = {
    "FunctionLogGroup": ("LogGroupName", 512), "FunctionFailureQueue": ("QueueName", 80), "RuleDeadLetterQueue": ("QueueName", 80),
    "SubscriptionDeadLetterQueue": ("QueueName", 80), "ForwarderDeadLetterQueue": ("QueueName", 80),
    "DigestQueue": ("QueueName", 80), "PostureQueue": ("QueueName", 80), "EvidenceLogGroup": ("LogGroupName", 512),
}


@pytest.mark.parametrize("name", sorted(PHYSICAL_NAMES))
def test_every_kept_resource_is_named_from_the_stacks_id_so_a_new_stack_never_collides(name):
    """Issue 16: a kept resource with a fixed name (the log group was /trailwatch/STACK/...) made
    the next create of a stack of the same name fail "already exists", after a delete and after
    a failed first create alike. The stack id's UUID is new for every stack."""
    key, limit = PHYSICAL_NAMES[name]
    mode = {"Mode": "forwarder", "CentralEventBusArn": CENTRAL_BUS} if name.startswith("Forwarder") else {}
    if name == "PostureQueue":
        mode = {"Mode": "central", "PostureAccounts": "organization"}
    if name.startswith("Evidence"):
        mode = {"EvidenceArchiveDays": "400"}
    first_params = tpl.parameters(T, stack_name="my-stack", **mode)
    assert name in tpl.created(T, **mode)
    second_params = {**first_params, "AWS::StackId": first_params["AWS::StackId"].replace(tpl.STACK_UUID, OTHER_UUID)}
    first, second = (tpl.evaluate(T, props(name)[key], p) for p in (first_params, second_params))
    assert tpl.STACK_UUID in first and OTHER_UUID in second
    # The same stack name, a new stack: a new name.
    assert "my-stack" not in first
    assert len(first) <= limit


OTHER_UUID = "0f3c9a7e-5d21-4b8e-9a6f-2c7d8e9f0a1b"


def test_no_named_resource_is_named_from_the_stack_name_but_the_bus_and_alias():
    """Only the central bus (forwarders already point at it) and the key's alias (deleted with
    the stack) keep AWS::StackName in their names; neither is kept."""
    by_name = [
        name for name, resource in R.items()
        if "${AWS::StackName}" in json.dumps({k: v for k, v in resource.get("Properties", {}).items() if k in ("Name", "AliasName", "QueueName", "LogGroupName", "TopicName", "RoleName", "AlarmName", "DashboardName")})
    ]
    assert sorted(by_name) == ["AlertKeyAlias", "CentralEventBus"]
    assert not set(by_name) & KEPT


def test_the_function_writes_only_its_own_log_group_without_a_doubled_wildcard():
    statements = statements_of(props("AlertFunctionPolicy")["PolicyDocument"])
    [logs] = [s for s in statements if s["Sid"] == "WriteOwnLogs"]
    # The log group's ARN already ends in `:*`; `${FunctionLogGroup.Arn}:*` would double it.
    assert logs["Resource"] == {"Fn::GetAtt": ["FunctionLogGroup", "Arn"]}


# ---------------------------------------------------------------- the health path


def test_the_health_path_does_not_depend_on_the_alert_key():
    """Whoever disables AlertKey must not also silence the alarms saying something is wrong."""
    assert "KmsMasterKeyId" not in props("HealthTopic")
    health_path = [
        "HealthTopic", "HealthTopicPolicy", "HealthEmailSubscription", "HighSeverityHealthSubscription",
        "SubscriptionDeadLetterQueue", "SubscriptionDeadLetterQueuePolicy",
    ]
    for name in health_path:
        assert "AlertKey" not in tpl.references(R[name]), name
    assert props("SubscriptionDeadLetterQueue")["SqsManagedSseEnabled"] is True


# Alarms told on the alert topic because the health path is what they measure.
ON_THE_ALERT_TOPIC = {"HealthTopicDeliveryFailuresAlarm", "GuardRuleFailedInvocationsAlarm", "GuardRule2FailedInvocationsAlarm"}


def test_every_health_alarm_notifies_the_health_topic_and_the_cis_alarm_the_alert_topic():
    forwarder_topic = {"Fn::Sub": "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:${ForwarderAlarmTopicName}"}
    for name, alarm in alarms().items():
        if name == "CisCloudTrailChangesAlarm":
            # An alert (someone changed a trail), not trailwatch's health.
            assert alarm["AlarmActions"] == [{"Ref": "AlertTopic"}]
        elif name in FORWARDER_ALARMS | {"ForwarderQuietAlarm"}:
            assert alarm["AlarmActions"] == [forwarder_topic] == alarm["OKActions"]
        elif name in ON_THE_ALERT_TOPIC:
            assert alarm["AlarmActions"] == [{"Ref": "AlertTopic"}], name
        elif name == "AlertTopicDeliveryFailuresAlarm":
            assert alarm["AlarmActions"] == HEALTH and "OKActions" not in alarm
        else:
            assert alarm["AlarmActions"] == HEALTH == alarm["OKActions"], name


@pytest.mark.parametrize(
    "health_email, alert_email, expected",
    [
        ("", "sec@example.com", "sec@example.com"),
        ("ops@example.com", "sec@example.com", "ops@example.com"),
        ("ops@example.com", "", "ops@example.com"),
        ("", "", None),
    ],
)
def test_health_alarms_are_emailed_to_health_email_else_alert_email(health_email, alert_email, expected):
    overrides = {"HealthEmail": health_email, "AlertEmail": alert_email}
    made = tpl.created(T, **overrides)
    assert ("HealthEmailSubscription" in made) == (expected is not None)
    assert ("AlertEmailSubscription" in made) == bool(alert_email)
    if expected is not None:
        subscription = tpl.evaluate(T, props("HealthEmailSubscription"), tpl.parameters(T, **overrides))
        assert (subscription["TopicArn"], subscription["Protocol"], subscription["Endpoint"]) == ("{HealthTopic}", "email", expected)


def test_the_pager_gets_every_health_alarm_without_a_filter():
    """Alarm notifications carry no severity attribute: through the alert topic's filter policy
    the pager would never see one."""
    alert, health = R["HighSeveritySubscription"], R["HighSeverityHealthSubscription"]
    assert health["Condition"] == alert["Condition"]
    assert health["Properties"]["TopicArn"] == {"Ref": "HealthTopic"}
    for key in ("Protocol", "Endpoint"):
        assert health["Properties"][key] == alert["Properties"][key]
    assert "FilterPolicy" not in health["Properties"]


def test_every_subscription_parks_what_sns_cannot_deliver():
    subscriptions = tpl.resources(T, "AWS::SNS::Subscription")
    assert set(subscriptions) == {"AlertEmailSubscription", "HighSeveritySubscription", "HealthEmailSubscription", "HighSeverityHealthSubscription",
                                  "AlertEvidenceSubscription", "HealthEvidenceSubscription"}
    for name, subscription in subscriptions.items():
        assert subscription["Properties"]["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": ["SubscriptionDeadLetterQueue", "Arn"]}}, name
    statement, guard = props("SubscriptionDeadLetterQueuePolicy")["PolicyDocument"]["Statement"]
    assert props("SubscriptionDeadLetterQueuePolicy")["Queues"] == [{"Ref": "SubscriptionDeadLetterQueue"}]
    # And the guard rule's undelivered messages (not RuleDeadLetterQueue: that one uses AlertKey).
    assert (guard["Principal"], guard["Action"], guard["Resource"]) == ({"Service": "events.amazonaws.com"}, "sqs:SendMessage", statement["Resource"])
    assert guard["Condition"] == {"ArnEquals": {"aws:SourceArn": [{"Fn::GetAtt": ["GuardRule", "Arn"]}, {"Fn::GetAtt": ["GuardRule2", "Arn"]}]}}
    for rule in ("GuardRule", "GuardRule2"):
        [target] = props(rule)["Targets"]
        assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["SubscriptionDeadLetterQueue", "Arn"]}}
    assert (statement["Effect"], statement["Principal"], statement["Action"]) == ("Allow", {"Service": "sns.amazonaws.com"}, "sqs:SendMessage")
    assert statement["Resource"] == {"Fn::GetAtt": ["SubscriptionDeadLetterQueue", "Arn"]}
    topics = {json.dumps(s["Properties"]["TopicArn"]) for s in subscriptions.values()}
    assert topics == {json.dumps(t) for t in statement["Condition"]["ArnEquals"]["aws:SourceArn"]}


def named(name: str, params: dict, key: str) -> str:
    return tpl.evaluate(T, props(name)[key], params)


def subscription_attributes(subscription: dict) -> dict[str, str]:
    """The evaluated properties of an AWS::SNS::Subscription as Subscribe's attributes."""
    attributes = {"RedrivePolicy": json.dumps(subscription["RedrivePolicy"])}
    if "FilterPolicy" in subscription:
        attributes["FilterPolicy"] = json.dumps(subscription["FilterPolicy"])
        attributes["FilterPolicyScope"] = subscription["FilterPolicyScope"]
    return attributes


def test_an_alarm_reaches_the_pager_through_the_health_topic_on_moto(moto):
    """Both pager subscriptions as the template makes them, on moto: an alarm notification (no
    severity attribute) is filtered out on the alert topic and delivered from the health topic;
    both name the subscription dead-letter queue, under its built name and ARN."""
    moto.reset()
    params = tpl.parameters(T, region=harness.HOME_REGION, account=harness.ACCOUNT, HighSeverityProtocol="sqs")
    sns, sqs = moto.client("sns"), moto.client("sqs")
    topics = {name: sns.create_topic(Name=named(name, params, "TopicName"))["TopicArn"] for name in ("AlertTopic", "HealthTopic")}
    dlq_url = sqs.create_queue(QueueName=named("SubscriptionDeadLetterQueue", params, "QueueName"))["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pager_url = sqs.create_queue(QueueName="pager")["QueueUrl"]
    pager_arn = sqs.get_queue_attributes(QueueUrl=pager_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    params["HighSeverityEndpoint"] = pager_arn
    refs = {"AlertTopic": topics["AlertTopic"], "HealthTopic": topics["HealthTopic"], "SubscriptionDeadLetterQueue.Arn": dlq_arn}
    for name in ("HighSeveritySubscription", "HighSeverityHealthSubscription"):
        subscription = tpl.evaluate(T, props(name), params, refs)
        arn = sns.subscribe(
            TopicArn=subscription["TopicArn"], Protocol=subscription["Protocol"], Endpoint=subscription["Endpoint"],
            Attributes=subscription_attributes(subscription), ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        stored = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
        assert json.loads(stored["RedrivePolicy"]) == {"deadLetterTargetArn": dlq_arn}

    alarm = {"AlarmName": "trailwatch-FunctionErrorsAlarm", "NewStateValue": "ALARM", "NewStateReason": "Threshold Crossed"}
    for topic in topics.values():
        sns.publish(TopicArn=topic, Subject="ALARM: trailwatch-FunctionErrorsAlarm", Message=json.dumps(alarm))
    messages = sqs.receive_message(QueueUrl=pager_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    assert [json.loads(m["Body"])["TopicArn"] for m in messages] == [topics["HealthTopic"]]


PAGER_QUEUE = "arn:aws:sqs:eu-west-1:111122223333:pager"
PAGER_FUNCTION = "arn:aws:lambda:eu-west-1:111122223333:function:pager"
DELIVERY_PERMISSIONS = {"HighSeverityQueuePolicy", "HighSeverityFunctionAlertPermission", "HighSeverityFunctionHealthPermission"}


@pytest.mark.parametrize(
    "protocol, endpoint, expected",
    [
        ("sqs", PAGER_QUEUE, {"HighSeverityQueuePolicy"}),
        ("lambda", PAGER_FUNCTION, {"HighSeverityFunctionAlertPermission", "HighSeverityFunctionHealthPermission"}),
        # Another account's or region's queue or function: only its owner can allow SNS.
        ("sqs", "arn:aws:sqs:eu-west-1:444455556666:pager", set()),
        ("sqs", "arn:aws:sqs:us-east-1:111122223333:pager", set()),
        ("lambda", "arn:aws:lambda:us-east-1:111122223333:function:pager", set()),
        ("email", "oncall@example.com", set()),
        ("https", "https://events.example.com/trailwatch", set()),
        ("sqs", "", set()),
    ],
)
def test_sqs_and_lambda_pagers_are_allowed_to_receive(protocol, endpoint, expected):
    made = tpl.created(T, HighSeverityProtocol=protocol, HighSeverityEndpoint=endpoint)
    assert made & DELIVERY_PERMISSIONS == expected
    params = tpl.parameters(T, HighSeverityProtocol=protocol, HighSeverityEndpoint=endpoint)
    if "HighSeverityFunctionAlertPermission" in expected:
        permissions = [tpl.evaluate(T, props(p), params) for p in sorted(expected)]
        assert {(p["FunctionName"], p["Principal"], p["Action"]) for p in permissions} == {(endpoint, "sns.amazonaws.com", "lambda:InvokeFunction")}
        assert sorted(p["SourceArn"] for p in permissions) == ["{AlertTopic}", "{HealthTopic}"]


@pytest.mark.parametrize(
    "partition, region, url",
    [
        ("aws", "eu-west-1", "https://sqs.eu-west-1.amazonaws.com/111122223333/pager"),
        ("aws-cn", "cn-north-1", "https://sqs.cn-north-1.amazonaws.com.cn/111122223333/pager"),
    ],
)
def test_the_pager_queue_policy_names_the_queue_by_its_url(partition, region, url):
    endpoint = f"arn:{partition}:sqs:{region}:111122223333:pager"
    params = tpl.parameters(T, region=region, partition=partition, HighSeverityProtocol="sqs", HighSeverityEndpoint=endpoint)
    assert tpl.condition(T, "HighSeverityQueueIsHere", params)
    policy = tpl.evaluate(T, props("HighSeverityQueuePolicy"), params)
    assert policy["Queues"] == [url]
    [statement] = policy["PolicyDocument"]["Statement"]
    assert statement["Resource"] == endpoint
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": ["{AlertTopic}", "{HealthTopic}"]}}


def test_the_pager_queue_policy_fits_the_queue_on_moto(moto):
    moto.reset()
    sqs, sns = moto.client("sqs"), moto.client("sns")
    pager_url = sqs.create_queue(QueueName="pager")["QueueUrl"]
    pager_arn = sqs.get_queue_attributes(QueueUrl=pager_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    params = tpl.parameters(T, region=harness.HOME_REGION, account=harness.ACCOUNT, HighSeverityProtocol="sqs", HighSeverityEndpoint=pager_arn)
    topics = {name: sns.create_topic(Name=named(name, params, "TopicName"))["TopicArn"] for name in ("AlertTopic", "HealthTopic")}
    policy = tpl.evaluate(T, props("HighSeverityQueuePolicy"), params, topics)
    [url] = policy["Queues"]
    # The same account and name as the queue SQS made (moto answers with its own host).
    assert urllib.parse.urlparse(url).path == urllib.parse.urlparse(pager_url).path
    sqs.set_queue_attributes(QueueUrl=pager_url, Attributes={"Policy": json.dumps(policy["PolicyDocument"])})
    stored = json.loads(sqs.get_queue_attributes(QueueUrl=pager_url, AttributeNames=["Policy"])["Attributes"]["Policy"])
    [statement] = stored["Statement"]
    assert statement["Resource"] == pager_arn
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == [topics["AlertTopic"], topics["HealthTopic"]]


# ---------------------------------------------------------------- names built before the resources exist

# The rules that target the function (and park in RuleDeadLetterQueue), and every named rule.
NAMED_RULES = {"AlertRule": "", "AlertRule2": "-2", "CentralAlertRule": "-central", "CentralAlertRule2": "-central-2", "PostureScheduleRule": "-posture"}
ALL_NAMED_RULES = {**NAMED_RULES, "GuardRule": "-guard", "GuardRule2": "-guard-2"}


@pytest.mark.parametrize("stack_name", ["tw", "s" + "-stackset-instance" * 7])
def test_rule_names_fit_eventbridge_whatever_the_stack_name(stack_name):
    assert len(stack_name) <= 128
    params = tpl.parameters(T, stack_name=stack_name, Mode="central")
    for rule, suffix in ALL_NAMED_RULES.items():
        name = named(rule, params, "Name")
        assert name == f"trailwatch-{tpl.STACK_UUID}{suffix}"
        assert len(name) <= 64 and re.fullmatch(r"[.\-_A-Za-z0-9]+", name), name
    # EventBridge's own limit for a bus name is 256 characters.
    assert len(named("CentralEventBus", params, "Name")) <= 256


@pytest.mark.parametrize(
    "mode, interval",
    [("standalone", "60"), ("standalone", "0"), ("central", "15"), ("central", "0")],
)
def test_the_function_is_told_exactly_its_own_rules(mode, interval):
    params = tpl.parameters(T, Mode=mode, PostureIntervalMinutes=interval)
    made = tpl.created(T, Mode=mode, PostureIntervalMinutes=interval)
    expected = set()
    for rule in tpl.resources(T, "AWS::Events::Rule"):
        if rule in made:
            assert rule in ALL_NAMED_RULES, f"{rule} has no name the function can be told"
            name = named(rule, params, "Name")
            on_custom_bus = "EventBusName" in props(rule)
            assert not on_custom_bus or props(rule)["EventBusName"] == {"Ref": "CentralEventBus"}
            expected.add(f"{named('CentralEventBus', params, 'Name')}/{name}" if on_custom_bus else name)
    variables = tpl.evaluate(T, props("AlertFunction")["Environment"]["Variables"], params)
    told = told_rules(variables)
    assert sorted(told) == sorted(expected) and len(told) == len(set(told))
    # The guard rules are among them, so AlertRule's alerts on changes to them are CRITICAL.
    assert {named("GuardRule", params, "Name"), named("GuardRule2", params, "Name")} <= set(told)
    # The rules target or name the function: referencing them from it would be a cycle.
    assert not set(ALL_NAMED_RULES) & tpl.references(props("AlertFunction"))


def told_rules(variables: dict) -> list[str]:
    """The rules the function is told are its own, as src/config.rs reads them: OWN_RULE_NAMES,
    and OWN_BUS_RULE_NAMES on the bus OWN_EVENT_BUS."""
    told = [name for name in variables["OWN_RULE_NAMES"].split(",") if name]
    told += [f"{variables['OWN_EVENT_BUS']}/{name}" for name in variables["OWN_BUS_RULE_NAMES"].split(",") if name]
    return told


def test_the_function_is_told_its_topics_key_and_posture_settings():
    variables = props("AlertFunction")["Environment"]["Variables"]
    assert variables["HEALTH_TOPIC_ARN"] == {"Ref": "HealthTopic"}
    assert variables["OWN_KEY_ARN"] == {"Fn::GetAtt": ["AlertKey", "Arn"]}
    for variable, parameter in [
        ("POSTURE_REGIONS", "PostureRegions"), ("REMIND_AFTER_HOURS", "RemindAfterHours"),
        ("AUTO_RESTART_LOGGING", "AutoRestartLogging"), ("POSTURE_INTERVAL_MINUTES", "PostureIntervalMinutes"),
        ("TRUSTED_ROOTS", "TrustedRoots"),
    ]:
        assert variables[variable] == {"Ref": parameter}
    assert variables["POSTURE_RECORDERS"] == {"Fn::Sub": "config=${PostureChecksConfig},guardduty=${PostureChecksGuardDuty},securityhub=${PostureChecksSecurityHub}"}
    for parameter in ("PostureChecksConfig", "PostureChecksGuardDuty", "PostureChecksSecurityHub"):
        assert T["Parameters"][parameter]["AllowedValues"] == ["true", "false"]
        assert T["Parameters"][parameter]["Default"] == "true"
    # The function accepts exactly these values (src/config.rs); Amazon's roots unless asked.
    assert T["Parameters"]["TrustedRoots"]["AllowedValues"] == ["amazon", "system"]
    assert T["Parameters"]["TrustedRoots"]["Default"] == "amazon"


def allowed(parameter: str, value: str) -> bool:
    return re.fullmatch(T["Parameters"][parameter]["AllowedPattern"], value) is not None


def test_parameter_patterns_admit_what_the_function_and_services_accept():
    for good in ["", "us-east-1", "us-east-1,eu-west-1", "us-east-1, eu-west-1 ,ap-southeast-2", "us-gov-west-1", "cn-north-1"]:
        assert allowed("PostureRegions", good), good
    for bad in ["us-east-1,", "US-EAST-1", "eu-west", "us-east-1;eu-west-1", "*"]:
        assert not allowed("PostureRegions", bad), bad
    for good in ["", "ops-alarms", "Ops_Alarms_1", "a" * 256]:
        assert allowed("ForwarderAlarmTopicName", good), good
    for bad in ["arn:aws:sns:eu-west-1:111122223333:ops", "ops alarms", "a" * 257]:
        assert not allowed("ForwarderAlarmTopicName", bad), bad


def test_services_may_use_the_key_only_for_trailwatchs_own_queue_and_topic_on_moto(moto):
    """The key policy cannot reference the queue and topic that use the key (a cycle): it builds
    their ARNs from the names they are given. On moto, those names give those ARNs."""
    moto.reset()
    params = tpl.parameters(T, region=harness.HOME_REGION, account=harness.ACCOUNT)
    statements = {s["Sid"]: s for s in tpl.evaluate(T, props("AlertKey")["KeyPolicy"], params)["Statement"]}
    sqs = moto.client("sqs")
    queue_url = sqs.create_queue(QueueName=named("RuleDeadLetterQueue", params, "QueueName"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic_arn = moto.client("sns").create_topic(Name=named("AlertTopic", params, "TopicName"))["TopicArn"]

    # EventBridge does not support aws:SourceAccount for encrypted targets.
    events = statements["EventBridgeWritesDeadLetters"]
    assert events["Principal"] == {"Service": "events.amazonaws.com"}
    assert events["Condition"] == {"StringEquals": {"kms:EncryptionContext:aws:sqs:arn": queue_arn}}
    alarms_ = statements["AlarmsPublishToTheTopic"]
    assert alarms_["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert alarms_["Condition"] == {"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": topic_arn}}
    for statement in (events, alarms_):
        assert set(statement["Action"]) == {"kms:GenerateDataKey", "kms:Decrypt"}
    # The queue and topic so named are the ones that use the key, and every rule parks there.
    assert props("RuleDeadLetterQueue")["KmsMasterKeyId"] == props("AlertTopic")["KmsMasterKeyId"] == {"Fn::GetAtt": ["AlertKey", "Arn"]}
    for rule in NAMED_RULES:
        [target] = props(rule)["Targets"]
        assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["RuleDeadLetterQueue", "Arn"]}


def test_endpoint_names_follow_the_partitions_url_suffix():
    params = tpl.parameters(T, region="cn-north-1", partition="aws-cn")
    key = tpl.evaluate(T, props("AlertKey")["KeyPolicy"], params)
    function = tpl.evaluate(T, props("AlertFunctionPolicy")["PolicyDocument"], params)
    via = [
        service
        for statement in key["Statement"] + function["Statement"]
        for service in statement.get("Condition", {}).get("StringEquals", {}).get("kms:ViaService", [])
    ]
    assert len(via) == 6
    assert all(re.fullmatch(r"(sns|sqs)\.cn-north-1\.amazonaws\.com\.cn", service) for service in via), via


def test_the_rule_dead_letter_queue_admits_every_rule_of_the_stack():
    params = tpl.parameters(T, Mode="central")
    [statement] = tpl.evaluate(T, props("RuleDeadLetterQueuePolicy")["PolicyDocument"], params)["Statement"]
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == [
        "{AlertRule.Arn}", "{AlertRule2.Arn}", "{CentralAlertRule.Arn}", "{CentralAlertRule2.Arn}", "{PostureScheduleRule.Arn}"]
    [statement] = tpl.evaluate(T, props("RuleDeadLetterQueuePolicy")["PolicyDocument"], tpl.parameters(T, PostureIntervalMinutes="0"))["Statement"]
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == ["{AlertRule.Arn}", "{AlertRule2.Arn}"]


# ---------------------------------------------------------------- scheduled posture check


INTERVALS = T["Parameters"]["PostureIntervalMinutes"]["AllowedValues"]
POSTURE = {"PostureScheduleRule", "PostureScheduleRulePermission", "PostureCheckMetricFilter", "PostureCheckMissingAlarm", "PostureRuleDeadLetterFailuresAlarm"}


def test_the_posture_check_is_off_at_zero_and_outside_a_receiving_stack():
    assert 0 in INTERVALS and T["Parameters"]["PostureIntervalMinutes"]["Default"] == 60
    assert POSTURE <= tpl.created(T)
    assert not POSTURE & tpl.created(T, PostureIntervalMinutes="0")
    assert not POSTURE & tpl.created(T, Mode="forwarder", CentralEventBusArn="arn:aws:events:us-east-1:444455556666:event-bus/x")


@pytest.mark.parametrize("interval", [i for i in INTERVALS if i])
def test_a_missed_posture_check_is_an_alarm_after_two_intervals(interval):
    params = tpl.parameters(T, PostureIntervalMinutes=str(interval))
    rule = tpl.evaluate(T, props("PostureScheduleRule"), params)
    assert rule["ScheduleExpression"] == f"rate({interval} minutes)"
    permission = props("PostureScheduleRulePermission")
    assert (permission["Principal"], permission["SourceArn"]) == ("events.amazonaws.com", {"Fn::GetAtt": ["PostureScheduleRule", "Arn"]})

    alarm = tpl.evaluate(T, props("PostureCheckMissingAlarm"), params)
    period, periods = alarm["Period"], alarm["EvaluationPeriods"]
    assert period == interval * 60
    # CloudWatch: a multiple of 60 s; Period x EvaluationPeriods at most a day below an hour's
    # period, at most seven days otherwise.
    assert period % 60 == 0
    assert period * periods <= (86_400 if period < 3_600 else 604_800)
    # Two empty intervals in a row: one late run is not an alarm, no run at all is.
    assert periods == 2
    assert (alarm["Statistic"], alarm["ComparisonOperator"], alarm["Threshold"]) == ("Sum", "LessThanThreshold", 1)
    assert alarm["TreatMissingData"] == "breaching"
    assert alarm["AlarmActions"] == alarm["OKActions"] == ["{HealthTopic}"]

    metric_filter = tpl.evaluate(T, props("PostureCheckMetricFilter"), params)
    assert metric_filter["LogGroupName"] == "{FunctionLogGroup}"
    [transformation] = metric_filter["MetricTransformations"]
    assert (alarm["Namespace"], alarm["MetricName"]) == (transformation["MetricNamespace"], transformation["MetricName"])
    assert transformation["MetricValue"] == "1"


def test_each_stacks_posture_metric_is_its_own():
    names = {named("PostureCheckMissingAlarm", tpl.parameters(T, stack_name=s), "MetricName") for s in ("trailwatch-a", "trailwatch-b")}
    assert len(names) == 2


def term_filter_matches(pattern: str, raw_line: str) -> bool:
    """CloudWatch Logs' term semantics for the one form the template uses: one exact phrase in
    double quotes, matched case-sensitively anywhere in the raw log event ("Enclose exact
    phrases ... in double quotation marks"), whatever the event's format."""
    match = re.fullmatch(r'"([^"\\]+)"', pattern)
    assert match, f"not a single quoted phrase: {pattern}"
    return match.group(1) in raw_line


# A finished posture run, as the function writes it with LogFormat JSON, and the same line as
# a text-format log (Lambda writes the line as it is) or a tracing fmt layer would show it.
FINISHED = {
    "timestamp": "2025-05-01T12:00:00.000000Z", "level": "WARN",
    "fields": {"message": "posture check finished", "check": "posture", "outcome": "finished", "trails": 3, "findings": 1},
    "target": "trailwatch::posture",
}
FINISHED_LINES = [
    json.dumps(FINISHED, separators=(",", ":")),
    json.dumps(FINISHED),
    '2025-05-01T12:00:00.000000Z  WARN trailwatch::posture: posture check finished check="posture" outcome="finished" trails=3',
]


def test_the_dead_mans_switch_counts_finished_posture_runs_in_json_and_text_logs():
    """Issue 16: the switch's filter matched only JSON logs ($.fields...), so with Text format it
    never matched. A quoted phrase is a term pattern: it matches the raw line in either format."""
    pattern = props("PostureCheckMetricFilter")["FilterPattern"]
    assert not pattern.lstrip().startswith("{"), "a JSON pattern never matches a text line"
    for line in FINISHED_LINES:
        assert term_filter_matches(pattern, line), line
    phrase = pattern.strip('"')
    # The phrase appears verbatim in the JSON text: nothing in it is escaped by JSON.
    assert json.dumps(phrase) == f'"{phrase}"' and phrase.isascii()
    not_finished = [
        json.dumps({**FINISHED, "fields": {**FINISHED["fields"], "message": "posture check started"}}),
        json.dumps({**FINISHED, "fields": {**FINISHED["fields"], "message": "Posture check finished"}}),
        json.dumps({"timestamp": "2025-05-01T12:00:00Z", "level": "INFO", "fields": {"message": "published", "outcome": "published"}}),
        "START RequestId: 1 Version: $LATEST",
    ]
    for line in not_finished:
        assert not term_filter_matches(pattern, line), line
    # The level does not decide whether the line is there: the function writes it at a level no
    # lower than LogLevel (WARN above), so any LogLevel keeps it.
    assert props("AlertFunction")["LoggingConfig"]["ApplicationLogLevel"] == {"Ref": "LogLevel"}


def test_the_posture_schedule_metric_filter_and_alarm_are_accepted_on_moto(moto):
    moto.reset()
    events, logs, cloudwatch = moto.client("events"), moto.client("logs"), moto.client("cloudwatch")
    params = tpl.parameters(T, region=harness.HOME_REGION, account=harness.ACCOUNT)
    group = named("FunctionLogGroup", params, "LogGroupName")
    logs.create_log_group(logGroupName=group)
    metric_filter = tpl.evaluate(T, props("PostureCheckMetricFilter"), params, {"FunctionLogGroup": group})
    [t] = metric_filter["MetricTransformations"]
    logs.put_metric_filter(
        logGroupName=metric_filter["LogGroupName"], filterName="posture-checks", filterPattern=metric_filter["FilterPattern"],
        metricTransformations=[{"metricName": t["MetricName"], "metricNamespace": t["MetricNamespace"], "metricValue": t["MetricValue"]}],
    )
    [stored] = logs.describe_metric_filters(logGroupName=group)["metricFilters"]
    assert stored["filterPattern"] == metric_filter["FilterPattern"]
    health = moto.client("sns").create_topic(Name=named("HealthTopic", params, "TopicName"))["TopicArn"]
    for interval in [i for i in INTERVALS if i]:
        params = tpl.parameters(T, region=harness.HOME_REGION, account=harness.ACCOUNT, PostureIntervalMinutes=str(interval))
        rule = tpl.evaluate(T, props("PostureScheduleRule"), params)
        events.put_rule(Name=rule["Name"], ScheduleExpression=rule["ScheduleExpression"], State=rule["State"])
        assert events.describe_rule(Name=rule["Name"])["ScheduleExpression"] == f"rate({interval} minutes)"
        alarm = tpl.evaluate(T, props("PostureCheckMissingAlarm"), params, {"HealthTopic": health})
        stored = put_alarm(moto, harness.HOME_REGION, f"PostureCheckMissingAlarm-{interval}", alarm)
        assert (stored["Period"], stored["EvaluationPeriods"], stored["AlarmActions"]) == (interval * 60, 2, [health])


# ---------------------------------------------------------------- every alarm, on moto


def put_alarm(moto, region: str, name: str, alarm: dict) -> dict:
    """PutMetricAlarm with an AWS::CloudWatch::Alarm's evaluated properties; returns the stored alarm."""
    unresolved = re.findall(r"\{[A-Za-z]+(?:\.[A-Za-z]+)?\}", json.dumps(alarm))
    assert not unresolved, f"{name} refers to {unresolved}, which the test did not resolve"
    cloudwatch = moto.client("cloudwatch", region)
    cloudwatch.put_metric_alarm(
        AlarmName=name, AlarmDescription=alarm["AlarmDescription"], Namespace=alarm["Namespace"],
        MetricName=alarm["MetricName"], Dimensions=alarm.get("Dimensions", []), Statistic=alarm["Statistic"],
        Period=int(alarm["Period"]), EvaluationPeriods=int(alarm["EvaluationPeriods"]), Threshold=float(alarm["Threshold"]),
        ComparisonOperator=alarm["ComparisonOperator"], TreatMissingData=alarm["TreatMissingData"],
        AlarmActions=alarm["AlarmActions"], OKActions=alarm.get("OKActions", []),
        **({"DatapointsToAlarm": int(alarm["DatapointsToAlarm"])} if "DatapointsToAlarm" in alarm else {}),
    )
    [stored] = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return stored


def test_every_alarm_of_a_central_stack_is_accepted_by_cloudwatch_on_moto(moto):
    moto.reset()
    region, account = harness.HOME_REGION, harness.ACCOUNT
    overrides = {"Mode": "central", "CloudTrailLogGroupName": "aws-cloudtrail-logs"}
    params = tpl.parameters(T, region=region, account=account, **overrides)
    sns, sqs = moto.client("sns"), moto.client("sqs")
    topics = {name: sns.create_topic(Name=named(name, params, "TopicName"))["TopicArn"] for name in ("AlertTopic", "HealthTopic")}
    queues = {
        name: sqs.create_queue(QueueName=named(name, params, "QueueName") if "QueueName" in props(name) else f"trailwatch-{name}-1ABC")["QueueUrl"].rsplit("/", 1)[1]
        for name in ("RuleDeadLetterQueue", "FunctionFailureQueue", "SubscriptionDeadLetterQueue")
    }
    bus = named("CentralEventBus", params, "Name")
    refs = {
        **topics,
        **{f"{name}.TopicName": arn.rsplit(":", 1)[1] for name, arn in topics.items()},
        **{f"{name}.QueueName": queue for name, queue in queues.items()},
        "AlertFunction": "trailwatch-AlertFunction-1ABC",
        "AlertRule": named("AlertRule", params, "Name"),
        "GuardRule": named("GuardRule", params, "Name"),
        "GuardRule2": named("GuardRule2", params, "Name"),
        "PostureScheduleRule": named("PostureScheduleRule", params, "Name"),
        "CentralAlertRule.Arn": f"arn:aws:events:{region}:{account}:rule/{bus}/{named('CentralAlertRule', params, 'Name')}",
        "AlertRule2": named("AlertRule2", params, "Name"),
        "CentralAlertRule2.Arn": f"arn:aws:events:{region}:{account}:rule/{bus}/{named('CentralAlertRule2', params, 'Name')}",
        "CentralEventBus": bus,
    }
    made = tpl.created(T, region, account, **overrides)
    names = [name for name in alarms() if name in made]
    # A central stack's 23 (19 of a standalone stack, 4 of the central bus's two rules) and the
    # CIS metric filter's: each evaluated and put on moto.
    assert len(names) == 24
    for name in names:
        alarm = tpl.evaluate(T, props(name), params, refs)
        stored = put_alarm(moto, region, alarm["AlarmName"], alarm)
        expected = topics["AlertTopic"] if name in ON_THE_ALERT_TOPIC | {"CisCloudTrailChangesAlarm"} else topics["HealthTopic"]
        assert stored["AlarmActions"] == [expected], name
    assert {d["Value"] for d in put_alarm(moto, region, "central", tpl.evaluate(T, props("CentralRuleFailedInvocationsAlarm"), params, refs))["Dimensions"]} == {
        bus, named("CentralAlertRule", params, "Name")}


CENTRAL_ELSEWHERE = "arn:aws:events:us-east-1:444455556666:event-bus/trailwatch-central"


def test_forwarder_alarms_notify_the_named_topic_in_each_stacks_own_region_on_moto(moto):
    """One StackSet, the same parameters everywhere: each instance's alarms must notify a topic
    in its own region (CloudWatch rejects any other)."""
    moto.reset()
    assert "ForwarderAlarmTopicArn" not in T["Parameters"]
    for region in ("us-east-1", "eu-west-1"):
        overrides = {"Mode": "forwarder", "CentralEventBusArn": CENTRAL_ELSEWHERE, "ForwarderAlarmTopicName": "ops-alarms"}
        assert FORWARDER_ALARMS <= tpl.created(T, region, harness.ACCOUNT, **overrides)
        params = tpl.parameters(T, region=region, account=harness.ACCOUNT, **overrides)
        topic = moto.client("sns", region).create_topic(Name="ops-alarms")["TopicArn"]
        refs = {"ForwardRule": "trailwatch-ForwardRule-1ABC", "ForwarderDeadLetterQueue.QueueName": "trailwatch-ForwarderDeadLetterQueue-1ABC"}
        for name in sorted(FORWARDER_ALARMS):
            alarm = tpl.evaluate(T, props(name), params, refs)
            assert alarm["AlarmActions"] == alarm["OKActions"] == [topic], (region, name)
            stored = put_alarm(moto, region, name, alarm)
            assert [arn.split(":")[3] for arn in stored["AlarmActions"]] == [region]

"""What template.yaml promises a security team: delivery guarantees, a protected alert path,
routing, the CIS metric filter, and the central/forwarder layouts, checked on the template and,
where moto can run it, on moto."""

from __future__ import annotations

import json
import subprocess

import pytest

import harness
import template as tpl

T = tpl.load()
R = T["Resources"]


def props(name: str) -> dict:
    return R[name]["Properties"]


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
            for statement in document["Statement"]:
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


@pytest.mark.parametrize("rule", ["AlertRule", "CentralAlertRule", "ForwardRule"])
def test_every_rule_target_retries_and_has_a_dead_letter_queue(rule):
    [target] = props(rule)["Targets"]
    assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
    assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] > 0
    queue = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    assert R[queue]["Type"] == "AWS::SQS::Queue"


def test_every_rule_uses_the_same_pattern():
    pattern = tpl.alert_rule_pattern(T)
    assert props("CentralAlertRule")["EventPattern"] == pattern
    assert props("ForwardRule")["EventPattern"] == pattern
    # Which calls: test_template.py checks the pattern against `bootstrap --event-pattern`.


def test_failed_invocations_go_to_an_on_failure_queue_after_bounded_retries():
    config = props("AlertFunctionInvokeConfig")
    assert config["FunctionName"] == {"Ref": "AlertFunction"}
    assert 0 < config["MaximumRetryAttempts"] <= 2
    on_failure = config["DestinationConfig"]["OnFailure"]
    assert on_failure == {"Destination": {"Fn::GetAtt": ["FunctionFailureQueue", "Arn"]}}


def alarms() -> dict[str, dict]:
    return {name: r["Properties"] for name, r in tpl.resources(T, "AWS::CloudWatch::Alarm").items()}


@pytest.mark.parametrize(
    "namespace, metric, watched",
    [
        ("AWS/Lambda", "Errors", {"Ref": "AlertFunction"}),
        ("AWS/Lambda", "Throttles", {"Ref": "AlertFunction"}),
        ("AWS/Events", "FailedInvocations", {"Ref": "AlertRule"}),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"Fn::GetAtt": ["RuleDeadLetterQueue", "QueueName"]}),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"Fn::GetAtt": ["FunctionFailureQueue", "QueueName"]}),
    ],
)
def test_the_watcher_is_watched(namespace, metric, watched):
    matching = [
        a for a in alarms().values()
        if a["Namespace"] == namespace and a["MetricName"] == metric and a["Dimensions"][0]["Value"] == watched
    ]
    assert len(matching) == 1, (namespace, metric, watched)
    alarm = matching[0]
    assert alarm["AlarmActions"] == [{"Ref": "AlertTopic"}]
    assert alarm["Threshold"] == 1 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"


def test_forwarded_events_that_fail_to_reach_the_function_are_alarmed_too():
    alarm = props("CentralRuleFailedInvocationsAlarm")
    dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    # Unnamed (StackSet stack names exceed EventBridge's 64 characters): the alarm takes the
    # generated name from the rule's ARN, arn:…:rule/BUS/NAME.
    assert "Name" not in props("CentralAlertRule")
    assert dimensions["RuleName"] == {"Fn::Select": [2, {"Fn::Split": ["/", {"Fn::GetAtt": ["CentralAlertRule", "Arn"]}]}]}
    assert dimensions["EventBusName"] == {"Ref": "CentralEventBus"}
    assert alarm["AlarmActions"] == [{"Ref": "AlertTopic"}]


def test_operators_can_read_parked_events():
    statements = {s["Sid"]: s for s in props("AlertKey")["KeyPolicy"]["Statement"]}
    read = statements["AccountReadsParkedEventsThroughSqs"]
    assert "kms:Decrypt" in read["Action"]
    assert read["Condition"]["StringEquals"]["kms:ViaService"] == {"Fn::Sub": "sqs.${AWS::Region}.amazonaws.com"}


def test_the_function_logs_json_to_its_own_log_group_with_retention():
    logging = props("AlertFunction")["LoggingConfig"]
    assert logging["LogFormat"] == "JSON"
    assert logging["LogGroup"] == {"Ref": "FunctionLogGroup"}
    assert logging["ApplicationLogLevel"] == {"Ref": "LogLevel"}
    group = props("FunctionLogGroup")
    assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert group["KmsKeyId"] == {"Fn::GetAtt": ["AlertKey", "Arn"]}


# ---------------------------------------------------------------- security of the alert path


def test_the_topic_is_encrypted_with_the_stacks_own_rotating_key():
    assert props("AlertTopic")["KmsMasterKeyId"] == {"Fn::GetAtt": ["AlertKey", "Arn"]}
    assert props("AlertKey")["EnableKeyRotation"] is True


def test_the_key_policy_lets_the_function_publish_through_sns_only():
    statements = {s["Sid"]: s for s in props("AlertKey")["KeyPolicy"]["Statement"]}
    function = statements["AlertFunctionPublishesThroughSnsAndSqs"]
    assert function["Principal"] == {"AWS": {"Fn::GetAtt": ["AlertFunctionRole", "Arn"]}}
    assert set(function["Action"]) == {"kms:GenerateDataKey*", "kms:Decrypt"}
    assert {"Fn::Sub": "sns.${AWS::Region}.amazonaws.com"} in function["Condition"]["StringEquals"]["kms:ViaService"]
    assert statements["AlarmsPublishToTheTopic"]["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    for statement in statements.values():
        assert statement["Principal"] != "*" and statement["Principal"] != {"AWS": "*"}


def test_the_topic_policy_denies_plain_http_and_other_publishers():
    statements = {s["Sid"]: s for s in props("AlertTopicPolicy")["PolicyDocument"]["Statement"]}
    tls = statements["DenyPublishWithoutTls"]
    assert (tls["Effect"], tls["Action"], tls["Condition"]) == ("Deny", "sns:Publish", {"Bool": {"aws:SecureTransport": "false"}})
    others = statements["OnlyTheFunctionAndAlarmsPublish"]
    assert others["Effect"] == "Deny" and others["Principal"] == "*"
    assert others["Condition"]["ArnNotEquals"] == {"aws:PrincipalArn": {"Fn::GetAtt": ["AlertFunctionRole", "Arn"]}}
    assert others["Condition"]["StringNotEquals"] == {"aws:PrincipalServiceName": "cloudwatch.amazonaws.com"}


def test_no_policy_grants_a_wildcard_action_and_iam_never_a_wildcard_resource():
    for name, statement in all_policy_statements():
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        for action in actions:
            assert action != "*" and not action.endswith(":*"), (name, action)
        if R[name]["Type"] in ("AWS::IAM::Role", "AWS::IAM::Policy") and statement["Resource"] == "*":
            assert statement["Action"] == "cloudtrail:DescribeTrails", (name, statement)


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
FORWARDER = {"ForwardRule", "ForwarderRole", "ForwarderDeadLetterQueue", "ForwarderDeadLetterQueuePolicy"}


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


def test_a_forwarder_in_the_central_buss_own_account_and_region_forwards_nothing():
    """So one StackSet can target every account and region, the central one included."""
    made = tpl.created(T, region="us-east-1", account="111122223333", Mode="forwarder", CentralEventBusArn=CENTRAL_BUS)
    assert made == {"NothingToForward"}
    assert tpl.created(T, Mode="forwarder", CentralEventBusArn="arn:aws:events:us-east-1:1:event-bus/x", ForwarderAlarmTopicArn="arn:aws:sns:eu-west-1:1:ops") == FORWARDER | {"ForwarderDeadLetterAlarm", "ForwarderFailedInvocationsAlarm"}


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


def test_parked_events_and_the_functions_logs_outlive_the_stack():
    for name in ["FunctionLogGroup", "FunctionFailureQueue", "RuleDeadLetterQueue", "ForwarderDeadLetterQueue"]:
        resource = T["Resources"][name]
        assert resource.get("DeletionPolicy") == "Retain" == resource.get("UpdateReplacePolicy"), name


def test_the_function_writes_only_its_own_log_group_without_a_doubled_wildcard():
    statements = props("AlertFunctionPolicy")["PolicyDocument"]["Statement"]
    [logs] = [s for s in statements if s["Sid"] == "WriteOwnLogs"]
    assert logs["Resource"] == {"Fn::GetAtt": ["FunctionLogGroup", "Arn"]}

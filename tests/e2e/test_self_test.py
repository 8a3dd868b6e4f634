"""scripts/self_test.py, the first-deploy self-test (issue 16), run as users run it, against moto and
the release binary under the Lambda Runtime Interface Emulator: never against AWS.

The script is a subprocess whose boto3 is pointed at local endpoints only (AWS_ENDPOINT_URL at
moto, AWS_ENDPOINT_URL_LAMBDA at the emulator, whose invocation URL is exactly Lambda's Invoke URL
for a function named `function`; fake credentials; no AWS config files).

What is real: the script end to end (discovery by resource type, the one-time schedule it creates,
SetAlarmState, the function's own answer to the marked test event, FilterLogEvents, the metrics,
the subscriptions); the function (the release binary) judging the test event and the heartbeat's
CloudTrail record, publishing to moto's SNS; moto's Scheduler, SSM, SNS, SQS, CloudWatch Logs and
CloudWatch.

What is simulated, and why:

- The stack. moto's CloudFormation cannot create alarms or schedules (AWS::CloudWatch::Alarm and
  AWS::Scheduler::Schedule are not in its model map), so the stack's resources are created
  directly in moto with the names the template gives them, and the script reads them from
  `--resources FILE` (the JSON of ListStackResources) instead of asking CloudFormation. One case
  runs the script against a real moto CloudFormation stack (with the resource types moto handles)
  to prove the CloudFormation discovery itself.
- EventBridge Scheduler running the one-time schedule. moto's Scheduler stores schedules but never
  runs them, so `PlayedScheduler` does: when the script's schedule appears in the stack's group, it
  waits for the schedule's at() time, makes the universal target's call on moto (SSM
  AddTagsToResource with the schedule's own input, `<aws.scheduler.scheduled-time>` filled in, as
  its role, which must exist), then plays CloudTrail + EventBridge (the call's record,
  events/heartbeat.json with fresh times and the schedule's tag, invokes the function on a second
  emulator, as Lambda runs a concurrent invocation in another execution environment) and Lambda's
  log shipping (the function's lines copied into the moto log group with PutLogEvents; or, in one
  case, CloudWatch's EMF extraction: the EMF lines put as metrics), then deletes the schedule
  (ActionAfterCompletion DELETE). Other modes leave out the event (a trail that does not log) or
  the whole run (Scheduler cannot use the role).
- CloudWatch running alarm actions. moto 5.2.5 records a state change but runs no action and does
  not implement DescribeAlarmHistory at all (the action is missing from moto/cloudwatch/responses.py;
  moto answers 500). One case runs against moto as it is: the alarm path is NOT delivered, with the
  hint. The others install `played_cloudwatch`: on SetAlarmState it publishes CloudWatch's alarm
  notification to each action's topic on moto's SNS and records `Action` history items
  ("Successfully executed action ...", or "Failed to execute action ... Received error: ..." when
  SNS refuses), answered by DescribeAlarmHistory; optionally it also writes the topic's
  `AWS/SNS NumberOfNotificationsDelivered`, which SNS itself would report within 5 minutes. moto
  enforces no topic policy, so a refused publish is played with a deleted topic. The success
  summary's wording is not confirmed from AWS (research §10): the script relies only on an Action
  item being there and none reading "Failed to execute action". moto runs in this process (not
  harness.MotoServer's subprocess) so that this can be added to it.

Not tested here: the unconfirmed-subscription line (moto never lists a subscription as
PendingConfirmation) and what real AWS takes time for (CloudTrail's delivery, SNS's 5-minute
metrics): the script's defaults wait for those, the cases use a 2-second lead and short timeouts.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
import uuid
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pytest

import harness

SCRIPT = harness.ROOT / "scripts" / "self_test.py"
PYTHON = sys.executable
ID = harness.OWN_ID
# The emulator answers Lambda's Invoke URL for the function named `function` only.
FUNCTION = "function"
SCHEDULE_GROUP = f"trailwatch-{ID}"
SCHEDULE = "trailwatch-HeartbeatSchedule-1Q2W3E4R5T6Y"
ROLE_NAME = f"trailwatch-heartbeat-{harness.HOME_REGION}"
ROLE_ARN = f"arn:aws:iam::{harness.ACCOUNT}:role/{ROLE_NAME}"
UNIVERSAL_TARGET = "arn:aws:scheduler:::aws-sdk:ssm:addTagsToResource"
HEARTBEAT_INPUT = json.dumps(
    {"ResourceType": "Parameter", "ResourceId": harness.HEARTBEAT_PARAMETER, "Tags": [{"Key": harness.HEARTBEAT_TAG, "Value": "<aws.scheduler.scheduled-time>"}]},
    separators=(",", ":"),
)
ALARM = f"trailwatch-{ID}-function-errors"
HEARTBEAT_ALARM = f"trailwatch-{ID}-heartbeat-missing"
ALERT_FAILURES_ALARM = f"trailwatch-{ID}-alert-topic-delivery-failures"
# The regular schedule's last beat, five minutes before the self-test.
EARLIER_BEAT = "2026-01-01T00:00:00Z"
# The script's credentials: never real, and never to be printed.
SCRIPT_KEY_ID = "AKIASELFTESTNOTREAL0"
SCRIPT_SECRET = "self-test-secret-that-must-never-be-printed"
ALARM_REASON = "trailwatch self-test: checking that alarm notifications reach the health topic"


# ----------------------------------------------------------------------------- local AWS


class InProcessMoto(harness.MotoEndpoint):
    """moto's server in this process, so that `played_cloudwatch` can add to it what moto lacks;
    the same interface as harness.MotoServer (endpoint, client, reset)."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.port = harness.free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        self._clients = {}

    def stop(self) -> None:
        self._server.stop()


@pytest.fixture(scope="module")
def local():
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    previous = os.environ.get("MOTO_ACCOUNT_ID")
    os.environ["MOTO_ACCOUNT_ID"] = harness.ACCOUNT  # moto reads it on every request
    server = InProcessMoto()
    yield server
    server.stop()
    if previous is None:
        os.environ.pop("MOTO_ACCOUNT_ID", None)
    else:
        os.environ["MOTO_ACCOUNT_ID"] = previous


# LogFormat JSON, as the template deploys the function.
JSON_LOGS = {"AWS_LAMBDA_LOG_FORMAT": "JSON"}


@pytest.fixture(scope="module")
def invoked(local):
    """The function the script invokes (the alert path)."""
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, local.endpoint, JSON_LOGS) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def beating(local):
    """The same function in another execution environment: the one the heartbeat's event reaches."""
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, local.endpoint, JSON_LOGS) as emulator:
        yield emulator


def physical(kind: str, physical_id: str, logical: str) -> dict:
    return {"LogicalResourceId": logical, "PhysicalResourceId": physical_id, "ResourceType": kind, "ResourceStatus": "CREATE_COMPLETE"}


@pytest.fixture
def stack(local, tmp_path) -> Path:
    """A freshly reset moto holding what a deployed standalone stack has (named as the template
    names it; the trails and topics of harness.seed), and the stack's resource list in the JSON
    of ListStackResources. Returns the file."""
    local.reset()
    harness.seed(local)
    ssm = local.client("ssm")
    ssm.put_parameter(Name=harness.HEARTBEAT_PARAMETER, Value="trailwatch heartbeat: tagged every 5 minutes by EventBridge Scheduler", Type="String")
    ssm.add_tags_to_resource(ResourceType="Parameter", ResourceId=harness.HEARTBEAT_PARAMETER, Tags=[{"Key": harness.HEARTBEAT_TAG, "Value": EARLIER_BEAT}])
    iam = local.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust))
    scheduler = local.client("scheduler")
    scheduler.create_schedule_group(Name=SCHEDULE_GROUP)
    scheduler.create_schedule(
        Name=SCHEDULE,
        GroupName=SCHEDULE_GROUP,
        ScheduleExpression="rate(5 minutes)",
        FlexibleTimeWindow={"Mode": "OFF"},
        State="ENABLED",
        Target={"Arn": UNIVERSAL_TARGET, "RoleArn": ROLE_ARN, "Input": HEARTBEAT_INPUT, "RetryPolicy": {"MaximumEventAgeInSeconds": 300, "MaximumRetryAttempts": 3}},
    )
    local.client("logs").create_log_group(logGroupName=harness.OWN_LOG_GROUP)
    cloudwatch = local.client("cloudwatch")
    alarm = {"Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold"}
    cloudwatch.put_metric_alarm(
        AlarmName=HEARTBEAT_ALARM, Namespace="trailwatch", MetricName="Heartbeats", Dimensions=[{"Name": "Region", "Value": harness.HOME_REGION}],
        AlarmActions=[harness.HEALTH_TOPIC_ARN], OKActions=[harness.HEALTH_TOPIC_ARN], **{**alarm, "ComparisonOperator": "LessThanThreshold"},
    )
    cloudwatch.put_metric_alarm(
        AlarmName=ALARM, Namespace="AWS/Lambda", MetricName="Errors", Dimensions=[{"Name": "FunctionName", "Value": FUNCTION}],
        AlarmActions=[harness.HEALTH_TOPIC_ARN], OKActions=[harness.HEALTH_TOPIC_ARN], **alarm,
    )
    cloudwatch.put_metric_alarm(
        AlarmName=ALERT_FAILURES_ALARM, Namespace="AWS/SNS", MetricName="NumberOfNotificationsFailed",
        Dimensions=[{"Name": "TopicName", "Value": harness.TOPIC_NAME}], AlarmActions=[harness.HEALTH_TOPIC_ARN], **alarm,
    )
    resources = [
        # The heartbeat's alarm first: the script must still pick -function-errors.
        physical("AWS::CloudWatch::Alarm", HEARTBEAT_ALARM, "HeartbeatMissingAlarm"),
        physical("AWS::CloudWatch::Alarm", ALERT_FAILURES_ALARM, "AlertTopicDeliveryFailuresAlarm"),
        physical("AWS::CloudWatch::Alarm", ALARM, "FunctionErrorsAlarm"),
        physical("AWS::SNS::Topic", harness.HEALTH_TOPIC_ARN, "HealthTopic"),
        physical("AWS::SNS::Topic", harness.TOPIC_ARN, "AlertTopic"),
        physical("AWS::Lambda::Function", FUNCTION, "AlertFunction"),
        physical("AWS::Logs::LogGroup", harness.OWN_LOG_GROUP, "FunctionLogGroup"),
        physical("AWS::SSM::Parameter", harness.HEARTBEAT_PARAMETER, "HeartbeatParameter"),
        physical("AWS::Scheduler::ScheduleGroup", SCHEDULE_GROUP, "HeartbeatScheduleGroup"),
        physical("AWS::Scheduler::Schedule", SCHEDULE, "HeartbeatSchedule"),
        physical("AWS::IAM::Role", ROLE_NAME, "HeartbeatRole"),
        physical("AWS::SQS::Queue", harness.OWN_QUEUE_ARNS[0], "RuleDeadLetterQueue"),
        physical("AWS::Events::Rule", harness.OWN_RULE, "AlertRule"),
    ]
    path = tmp_path / "resources.json"
    path.write_text(json.dumps({"StackResourceSummaries": resources}))
    return path


# ----------------------------------------------------------------------------- the scheduler, played


def emulator_lines(emulator: harness.RuntimeEmulator) -> list[str]:
    """Every line the emulator printed so far (harness's output() keeps only the last 200)."""
    process = emulator._process
    with process._cond:
        return list(process.lines)


def stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class PlayedScheduler:
    """EventBridge Scheduler running the self-test's one-time schedule, and what follows the call
    it makes (see the module's docstring). `mode`: `deliver` (log lines), `metric` (EMF extracted
    to metrics, no log lines), `no-event` (the call is made, no CloudTrail event reaches the
    function), `never` (the schedule never runs)."""

    local: InProcessMoto
    function: harness.RuntimeEmulator
    mode: str = "deliver"
    seen: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    answers: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Clients are made here, in the test's thread: making them concurrently is not safe.
        for service in ("scheduler", "iam", "ssm", "logs", "cloudwatch"):
            self.local.client(service)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def _run(self) -> None:
        scheduler = self.local.client("scheduler")
        done: set[str] = set()
        while not self._stop.is_set():
            try:
                for summary in scheduler.list_schedules(GroupName=SCHEDULE_GROUP)["Schedules"]:
                    name = summary["Name"]
                    if name.startswith("trailwatch-self-test-") and name not in done:
                        done.add(name)
                        self._fire(scheduler.get_schedule(Name=name, GroupName=SCHEDULE_GROUP))
            except Exception as error:  # noqa: BLE001 - reported by the test
                self.errors.append(repr(error))
            self._stop.wait(0.2)

    def _fire(self, schedule: dict) -> None:
        self.seen.append(schedule)
        if self.mode == "never":
            return
        at = datetime.strptime(re.fullmatch(r"at\((.+)\)", schedule["ScheduleExpression"]).group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
        while datetime.now(timezone.utc) < at and not self._stop.is_set():
            time.sleep(0.05)
        target = schedule["Target"]
        # Scheduler assumes the role: it must exist.
        self.local.client("iam").get_role(RoleName=target["RoleArn"].rsplit("/", 1)[-1])
        # The universal target: arn:aws:scheduler:::aws-sdk:SERVICE:apiAction, the input as the
        # API's own request, with the context attribute filled in.
        service, action = target["Arn"].split(":")[-2:]
        request = json.loads(target["Input"].replace("<aws.scheduler.scheduled-time>", stamp(at)))
        getattr(self.local.client(service), re.sub(r"(?<!^)(?=[A-Z])", "_", action).lower())(**request)
        if self.mode != "no-event":
            self._deliver(request, at)
        self.local.client("scheduler").delete_schedule(Name=schedule["Name"], GroupName=schedule["GroupName"])

    def _deliver(self, request: dict, at: datetime) -> None:
        """CloudTrail's record of the call through EventBridge to the function, then the
        function's output to CloudWatch Logs (or, mode `metric`, CloudWatch's EMF metrics)."""
        record = harness.load_event(harness.EVENTS / "heartbeat.json")
        made = stamp(datetime.now(timezone.utc))
        record.update(id=str(uuid.uuid4()), time=made)
        detail = record["detail"]
        detail.update(eventTime=made, eventID=str(uuid.uuid4()), requestID=str(uuid.uuid4()))
        detail["requestParameters"] = {
            "resourceType": request["ResourceType"],
            "resourceId": request["ResourceId"],
            "tags": [{"key": t["Key"], "value": t["Value"]} for t in request["Tags"]],
        }
        before = len(emulator_lines(self.function))
        answer = self.function.invoke(record)
        self.answers.append(answer.json())
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            lines = emulator_lines(self.function)[before:]
            if any('"HeartbeatProbes"' in line or "probe did NOT reach" in line for line in lines):
                break
            time.sleep(0.05)
        time.sleep(0.2)
        lines = [line for line in emulator_lines(self.function)[before:] if line.startswith("{") or line.split(" ", 1)[0] in ("START", "END", "REPORT")]
        if self.mode == "metric":
            self._extract_emf(lines)
            return
        logs = self.local.client("logs")
        stream = f"{made[:10].replace('-', '/')}/[$LATEST]{uuid.uuid4().hex}"
        logs.create_log_stream(logGroupName=harness.OWN_LOG_GROUP, logStreamName=stream)
        now_ms = int(time.time() * 1000)
        logs.put_log_events(logGroupName=harness.OWN_LOG_GROUP, logStreamName=stream, logEvents=[{"timestamp": now_ms, "message": line} for line in lines])

    def _extract_emf(self, lines: list[str]) -> None:
        cloudwatch = self.local.client("cloudwatch")
        for line in lines:
            record = json.loads(line) if line.startswith("{") else {}
            if "_aws" not in record:
                continue
            when = datetime.fromtimestamp(record["_aws"]["Timestamp"] / 1000, timezone.utc)
            for directive in record["_aws"]["CloudWatchMetrics"]:
                for dimensions in directive["Dimensions"]:
                    cloudwatch.put_metric_data(
                        Namespace=directive["Namespace"],
                        MetricData=[
                            {"MetricName": m["Name"], "Value": float(record[m["Name"]]), "Timestamp": when, "Dimensions": [{"Name": d, "Value": record[d]} for d in dimensions]}
                            for m in directive["Metrics"]
                        ],
                    )


@pytest.fixture
def play(local, beating):
    """Starts the played scheduler in a mode; stopped after the test."""
    started: list[PlayedScheduler] = []

    def start(mode: str = "deliver") -> PlayedScheduler:
        player = PlayedScheduler(local, beating, mode)
        started.append(player)
        return player

    yield start
    for player in started:
        player.stop()


# ----------------------------------------------------------------------------- CloudWatch's alarm actions, played


@dataclass
class PlayedCloudWatch:
    sns_metrics: bool = False
    history: list[dict] = field(default_factory=list)


@pytest.fixture
def played_cloudwatch(monkeypatch):
    """What moto's CloudWatch lacks (see the module's docstring): alarm actions on SetAlarmState,
    their history, and optionally SNS's delivery metric."""
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.cloudwatch.responses import CloudWatchResponse
    from moto.core.responses import ActionResult
    from moto.sns.models import sns_backends

    played = PlayedCloudWatch()
    original = CloudWatchResponse.set_alarm_state

    def set_alarm_state(self):
        backend = cloudwatch_backends[self.current_account][self.region]
        name, state = self._get_param("AlarmName"), self._get_param("StateValue")
        alarm = backend.alarms.get(name)
        old = alarm.state_value if alarm else None
        result = original(self)
        if alarm is None or old == state or not alarm.actions_enabled:
            return result
        actions = {"ALARM": alarm.alarm_actions, "OK": alarm.ok_actions, "INSUFFICIENT_DATA": alarm.insufficient_data_actions}[state]
        for arn in actions:
            notification = {
                "AlarmName": name, "AlarmDescription": alarm.description, "AWSAccountId": self.current_account,
                "NewStateValue": state, "NewStateReason": self._get_param("StateReason"), "OldStateValue": old,
                "StateChangeTime": datetime.now(timezone.utc).isoformat(), "Region": self.region, "AlarmArn": alarm.alarm_arn,
            }
            try:
                sns = sns_backends[self.current_account][self.region]
                sns.publish(message=json.dumps(notification), arn=arn, subject=f'{state}: "{name}"'[:100])
                summary, outcome = f"Successfully executed action {arn}", {"actionState": "Succeeded", "notificationResource": arn}
                if played.sns_metrics:
                    subscribers = len(sns.list_subscriptions_by_topic(arn)[0])
                    backend.put_metric_data("AWS/SNS", [{"MetricName": "NumberOfNotificationsDelivered", "Value": float(subscribers), "Dimensions": [{"Name": "TopicName", "Value": arn.rsplit(":", 1)[-1]}]}])
            except Exception as error:  # noqa: BLE001 - what SNS said, recorded as CloudWatch does
                summary = f'Failed to execute action {arn}. Received error: "{getattr(error, "message", None) or error}"'
                outcome = {"actionState": "Failed", "notificationResource": arn, "error": str(error)}
            played.history.append(
                {"AlarmName": name, "AlarmType": "MetricAlarm", "Timestamp": datetime.now(timezone.utc), "HistoryItemType": "Action",
                 "HistorySummary": summary, "HistoryData": json.dumps(outcome)}
            )
        return result

    def describe_alarm_history(self):
        name, kind, start = self._get_param("AlarmName"), self._get_param("HistoryItemType"), self._get_param("StartDate")
        if isinstance(start, str):
            start = datetime.fromisoformat(start.replace("Z", "+00:00"))
        items = [
            i for i in played.history
            if (not name or i["AlarmName"] == name) and (not kind or i["HistoryItemType"] == kind)
            and (start is None or i["Timestamp"] >= (start if start.tzinfo else start.replace(tzinfo=timezone.utc)))
        ]
        return ActionResult({"AlarmHistoryItems": sorted(items, key=lambda i: i["Timestamp"], reverse=True)})

    monkeypatch.setattr(CloudWatchResponse, "set_alarm_state", set_alarm_state)
    monkeypatch.setattr(CloudWatchResponse, "describe_alarm_history", describe_alarm_history, raising=False)
    return played


# ----------------------------------------------------------------------------- running the script


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def line(self, path: str) -> str:
        [line] = [line for line in self.stdout.splitlines() if line.startswith(f"{path}: ")]
        return line


def self_test(local, function: harness.RuntimeEmulator, *args: str, timeout_minutes: float = 0.5) -> Run:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONIOENCODING": "utf-8",
        "AWS_ACCESS_KEY_ID": SCRIPT_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SCRIPT_SECRET,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": local.endpoint,
        "AWS_ENDPOINT_URL_LAMBDA": f"http://127.0.0.1:{function.port}",
    }
    argv = [PYTHON, str(SCRIPT), "--region", harness.HOME_REGION, "--timeout-minutes", str(timeout_minutes), "--lead-seconds", "2", "--poll-seconds", "0.3", *args]
    out = subprocess.run(argv, env=env, capture_output=True, text=True, encoding="utf-8", timeout=180)
    run = Run(out.returncode, out.stdout, out.stderr)
    print(f"$ self_test.py {' '.join(args)}  (exit {run.code})\n{run.stdout}")  # shown by pytest on failure, or with -rP
    # One line per path, nothing else on stdout; never the credentials.
    assert [line.split(":", 1)[0] for line in run.stdout.splitlines()] == ["heartbeat", "alarm", "alert"], run
    assert SCRIPT_SECRET not in run.stdout + run.stderr and SCRIPT_KEY_ID not in run.stdout + run.stderr
    return run


def with_resources(resources: Path) -> list[str]:
    return ["--stack", "trailwatch", "--resources", str(resources)]


def self_test_schedules(local) -> list[str]:
    return [s["Name"] for s in local.client("scheduler").list_schedules()["Schedules"] if s["Name"].startswith("trailwatch-self-test-")]


def delivered(line: str) -> bool:
    return ": delivered (" in line and line.endswith(")")


def not_delivered(line: str) -> tuple[str, str]:
    """The what-is-wrong and how-to-fix parts of a NOT delivered line."""
    head, sep, rest = line.partition(": NOT delivered — ")
    assert sep, line
    wrong, sep, fix = rest.rpartition(" — ")
    assert sep and wrong and fix, line
    return wrong, fix


def only_the_alarm_not_delivered(run) -> tuple[str, str]:
    """A run whose heartbeat and alert paths delivered and whose alarm path did not: the alarm
    line's what-is-wrong and how-to-fix parts."""
    assert run.code == 1, run
    assert delivered(run.line("heartbeat")) and delivered(run.line("alert")), run
    return not_delivered(run.line("alarm"))


# ----------------------------------------------------------------------------- the cases


def test_every_path_delivers(local, invoked, stack, play, played_cloudwatch):
    scheduler = play("deliver")
    run = self_test(local, invoked, *with_resources(stack))

    assert run.code == 0, run
    for path in ("heartbeat", "alarm", "alert"):
        assert delivered(run.line(path)), run
    assert "the function counted a heartbeat" in run.line("heartbeat") and harness.OWN_LOG_GROUP in run.line("heartbeat")
    assert f"CloudWatch ran the action of {ALARM}" in run.line("alarm")
    assert "pending" in run.line("alarm"), "no SNS datapoint yet is pending, not a failure"
    assert "published the test alert" in run.line("alert")
    assert scheduler.errors == []

    # The heartbeat: a one-time schedule, in the stack's group, with the stack's target, input
    # and role, deleted after completion; the function counted it and nobody got an alert.
    [schedule] = scheduler.seen
    assert re.fullmatch(r"at\(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\)", schedule["ScheduleExpression"]), schedule
    assert schedule["ScheduleExpressionTimezone"] == "UTC" and schedule["ActionAfterCompletion"] == "DELETE"
    assert schedule["GroupName"] == SCHEDULE_GROUP and schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert {k: schedule["Target"][k] for k in ("Arn", "RoleArn", "Input")} == {"Arn": UNIVERSAL_TARGET, "RoleArn": ROLE_ARN, "Input": HEARTBEAT_INPUT}
    assert [a["status"] for a in scheduler.answers] == ["heartbeat"]
    assert self_test_schedules(local) == []
    tags = local.client("ssm").list_tags_for_resource(ResourceType="Parameter", ResourceId=harness.HEARTBEAT_PARAMETER)["TagList"]
    assert [t["Value"] for t in tags if t["Key"] == harness.HEARTBEAT_TAG] != [EARLIER_BEAT], "the schedule's call was made"

    # The alarm: set to ALARM and back, both notifications on the health topic.
    notifications = [m.alert for m in harness.delivered(local, harness.health_inbox(local))]
    assert [(n["AlarmName"], n["NewStateValue"], n["NewStateReason"]) for n in notifications] == [(ALARM, "ALARM", ALARM_REASON), (ALARM, "OK", ALARM_REASON)]
    [alarm] = local.client("cloudwatch").describe_alarms(AlarmNames=[ALARM])["MetricAlarms"]
    assert alarm["StateValue"] == "OK", "and back"
    assert "the topic has 1 confirmed subscription(s)" in run.line("alarm")

    # The alert: the marked test event, published to the alert topic (plus the heartbeat's probe).
    inbox = local.client("sqs").get_queue_url(QueueName=harness.QUEUE_NAME)["QueueUrl"]
    alerts = [m for m in harness.delivered(local, inbox) if m.attributes.get("alertKind") != "heartbeat"]
    [alert] = alerts
    assert alert.attributes["severity"] == "INFORMATIONAL" and alert.attributes["eventName"] == "StartLogging"
    text = json.dumps(alert.alert)
    assert "trailwatch-self-test" in text and "alice" not in text, "the event is marked as the self-test's, and names no real person"


def test_the_metrics_alone_confirm_the_heartbeat_and_the_delivery(local, invoked, stack, play, played_cloudwatch):
    """No log line to read (CloudWatch's EMF extraction only): the heartbeat is counted from the
    metric the heartbeat alarm watches; SNS's delivery count, once there, is quoted."""
    played_cloudwatch.sns_metrics = True
    play("metric")
    run = self_test(local, invoked, *with_resources(stack))
    assert run.code == 0, run
    assert delivered(run.line("heartbeat")) and f"the metric trailwatch/Heartbeats Region={harness.HOME_REGION}" in run.line("heartbeat"), run
    assert delivered(run.line("alarm")) and "SNS delivered 2 notification(s) from trailwatch-health" in run.line("alarm"), run  # ALARM and back


def test_an_alert_path_that_cannot_publish_is_not_delivered_with_the_fix(local, invoked, stack, play, played_cloudwatch):
    """The alert topic is gone: the function answers PublishFailed to the test event; the
    heartbeat comes back, but its probe fails on the same topic."""
    local.client("sns").delete_topic(TopicArn=harness.TOPIC_ARN)
    play("deliver")
    run = self_test(local, invoked, *with_resources(stack))

    assert run.code == 1, run
    wrong, fix = not_delivered(run.line("alert"))
    assert wrong.startswith("the function judged the test event but could not publish it: "), wrong
    assert fix.startswith(f"the alert topic {harness.TOPIC_ARN} was deleted outside CloudFormation") and "delete the stack and deploy it again" in fix, fix
    wrong, fix = not_delivered(run.line("heartbeat"))
    assert "its probe did NOT reach the alert topic" in wrong and fix.startswith("alerts cannot be published either: the alert topic"), run
    assert delivered(run.line("alarm")), run


@pytest.mark.parametrize("mode", ["no-event", "never"])
def test_no_heartbeat_within_the_timeout_is_not_delivered_with_the_hint(local, invoked, stack, play, played_cloudwatch, mode):
    """`no-event`: the schedule made its call, but its CloudTrail event never reached the function
    (a trail that does not log, a disabled rule). `never`: Scheduler never ran the schedule."""
    play(mode)
    run = self_test(local, invoked, *with_resources(stack), timeout_minutes=0.1)

    assert run.code == 1, run
    wrong, fix = not_delivered(run.line("heartbeat"))
    assert "within 0.1 minutes" in wrong, wrong
    if mode == "no-event":
        # The call was made: what lies after it, trail, rule, function.
        assert wrong.startswith("the schedule made its call (the heartbeat parameter's tag says "), wrong
        assert f"a trail must be logging write management events in {harness.HOME_REGION}" in fix, fix
        assert f"the alert rule {harness.OWN_RULE} must be enabled" in fix, fix
    else:
        # No call: Scheduler and the role.
        assert "the heartbeat parameter was not tagged since" in wrong and f"(last tag {EARLIER_BEAT})" in wrong, wrong
        assert f"the role {ROLE_ARN} must trust scheduler.amazonaws.com for the schedule group {SCHEDULE_GROUP}" in fix, fix
    assert f"the alarm {HEARTBEAT_ALARM} (now OK) watches the same path" in fix, fix
    assert delivered(run.line("alarm")) and delivered(run.line("alert")), run
    assert self_test_schedules(local) == [], "the one-time schedule is never left behind"


def test_a_disabled_heartbeat_schedule_is_not_delivered_even_when_the_path_works(local, invoked, stack, play, played_cloudwatch):
    """The one-time heartbeat comes back, but the stack's own schedule sends none."""
    scheduler = local.client("scheduler")
    current = scheduler.get_schedule(Name=SCHEDULE, GroupName=SCHEDULE_GROUP)
    scheduler.update_schedule(
        Name=SCHEDULE, GroupName=SCHEDULE_GROUP, ScheduleExpression=current["ScheduleExpression"],
        FlexibleTimeWindow=current["FlexibleTimeWindow"], Target=current["Target"], State="DISABLED",
    )
    play("deliver")
    run = self_test(local, invoked, *with_resources(stack))
    assert run.code == 1, run
    wrong, fix = not_delivered(run.line("heartbeat"))
    assert wrong.startswith("the heartbeat path works (the one-time schedule fired at ") and f"the stack's own schedule {SCHEDULE} is DISABLED" in wrong, wrong
    assert f"enable it again (EventBridge Scheduler console, group {SCHEDULE_GROUP})" in fix and "detect-stack-drift --stack-name trailwatch" in fix, fix


def test_an_alarm_action_that_fails_is_quoted_with_the_topic_policy_fix(local, invoked, stack, play, played_cloudwatch):
    """CloudWatch could not publish to the health topic (played by deleting it: moto enforces
    no topic policy): the history's failure is quoted."""
    local.client("sns").delete_topic(TopicArn=harness.HEALTH_TOPIC_ARN)
    play("deliver")
    wrong, fix = only_the_alarm_not_delivered(self_test(local, invoked, *with_resources(stack)))
    assert wrong.startswith(f'CloudWatch could not notify the health topic: "Failed to execute action {harness.HEALTH_TOPIC_ARN}. Received error: '), wrong
    assert "must let CloudWatch alarms publish" in fix and "cloudwatch.amazonaws.com" in fix, fix


def test_an_alarm_with_its_actions_disabled_is_not_delivered(local, invoked, stack, play, played_cloudwatch):
    local.client("cloudwatch").disable_alarm_actions(AlarmNames=[ALARM])
    play("deliver")
    wrong, fix = only_the_alarm_not_delivered(self_test(local, invoked, *with_resources(stack)))
    assert "has its actions disabled" in wrong and fix == f"aws cloudwatch enable-alarm-actions --alarm-names {ALARM}", (wrong, fix)
    assert played_cloudwatch.history == [], "the alarm's state was not touched"


def test_on_moto_as_it_is_the_missing_alarm_history_is_not_delivered_with_the_hint(local, invoked, stack, play):
    """moto 5.2.5 has no DescribeAlarmHistory: what a user sees when the history cannot be read."""
    play("deliver")
    wrong, fix = only_the_alarm_not_delivered(self_test(local, invoked, *with_resources(stack)))
    assert wrong.startswith(f"could not read the alarm {ALARM}'s history: "), wrong
    assert "cloudwatch:DescribeAlarmHistory" in fix and "health email" in fix, fix


def test_a_function_below_min_severity_still_is_a_working_path(local, stack, play, played_cloudwatch):
    """MIN_SEVERITY above INFORMATIONAL: the test event is judged below the threshold, as
    configured; the alert line says so and counts as delivered."""
    play("deliver")
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, local.endpoint, {**JSON_LOGS, "MIN_SEVERITY": "HIGH"}) as strict:
        run = self_test(local, strict, *with_resources(stack))
    assert run.code == 0, run
    line = run.line("alert")
    assert delivered(line) and "judged INFORMATIONAL" in line and "below MIN_SEVERITY HIGH" in line and "nothing published, as configured" in line, line


CODE_BUCKET = "trailwatch-self-test-code"


def test_the_resources_are_found_through_cloudformation_by_type(local, invoked, tmp_path, play, played_cloudwatch):
    """A real (moto) CloudFormation stack, with only the resource types moto creates: the script
    finds the function, topics, parameter and log group by type and name suffix, runs the alert
    path, and names what the stack lacks (moto cannot create alarms or schedules)."""
    local.reset()
    harness.seed(local)
    code = harness.upload_function_code(local, CODE_BUCKET)
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    template = {
        "Resources": {
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": trust}},
            "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
                "FunctionName": FUNCTION, "Runtime": "provided.al2023", "Handler": "bootstrap",
                "Role": {"Fn::GetAtt": ["Role", "Arn"]}, "Code": code}},
            "Alerts": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": harness.TOPIC_NAME}},
            "Health": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": harness.HEALTH_TOPIC_NAME}},
            "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": harness.OWN_LOG_GROUP}},
            "Beat": {"Type": "AWS::SSM::Parameter", "Properties": {"Name": harness.HEARTBEAT_PARAMETER, "Type": "String", "Value": "trailwatch heartbeat"}},
        }
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        local.client("cloudformation").create_stack(StackName="trailwatch", TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_IAM"])
    scheduler = play("deliver")
    run = self_test(local, invoked, "--stack", "trailwatch")

    assert run.code == 1, run
    assert delivered(run.line("alert")) and "to trailwatch-alerts as message" in run.line("alert"), run
    wrong, fix = not_delivered(run.line("heartbeat"))
    assert wrong == "the stack trailwatch has no heartbeat schedule (AWS::Scheduler::Schedule)" and "HeartbeatMinutes" in fix, run
    wrong, _ = not_delivered(run.line("alarm"))
    assert wrong == "the stack trailwatch has no CloudWatch alarms", run
    assert scheduler.seen == []


def test_a_stack_that_cannot_be_read_fails_every_path_with_the_reason(local, invoked):
    local.reset()
    run = self_test(local, invoked, "--stack", "no-such-stack")
    assert run.code == 1, run
    for path in ("heartbeat", "alarm", "alert"):
        wrong, fix = not_delivered(run.line(path))
        assert wrong.startswith(f"could not read the stack no-such-stack in {harness.HOME_REGION}: "), wrong
        assert "describe-stacks --stack-name no-such-stack" in fix, fix

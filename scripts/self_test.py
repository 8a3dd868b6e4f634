#!/usr/bin/env python3
"""trailwatch's first-deploy self-test: proves, in your own account, that each path delivers.

    self_test.py --stack NAME [--region R] [--timeout-minutes N]

Run it once after `sam deploy` (or `make self-test STACK=NAME`). It talks only to what boto3's
configuration points at (your credentials, your region; endpoints from AWS_ENDPOINT_URL* when
set): the tests point it at moto and the Lambda Runtime Interface Emulator, never at AWS.

The three paths, one line each on stdout (`PATH: delivered (...)`, or
`PATH: NOT delivered — what is wrong — how to fix it`):

- heartbeat: a one-time EventBridge Scheduler schedule, in the stack's own schedule group, with the
  stack's heartbeat target, input and role, fires a minute from now; the script waits until the
  function has counted a heartbeat (its log line, or the `trailwatch`/`Heartbeats` metric).
- alarm: one health alarm is set to ALARM and back (CloudWatch SetAlarmState, "for testing
  purposes"); its history must show the action ran and did not fail; the health topic's
  `NumberOfNotificationsDelivered` confirms delivery (pending while SNS's 5-minute metrics lag).
- alert: the function is invoked on a clearly marked test event (StartLogging, INFORMATIONAL, on
  the trail `trailwatch-self-test`, user agent `trailwatch-self-test`) and must answer
  `published` with a message id.

Exit status: 0 when every path delivered (a pending metric counts, with a note), 1 otherwise,
2 for a usage error. Nothing secret is printed: no credentials, no environment.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

ROOT = Path(__file__).resolve().parents[1]
TEST_EVENT_SAMPLE = ROOT / "events" / "start-logging.json"

MARK = "trailwatch-self-test"
ALARM_REASON = "trailwatch self-test: checking that alarm notifications reach the health topic"
# The function's log lines for its own heartbeat (src/event_path.rs). Both contain the phrase
# the log filter asks for.
HEARTBEAT_PHRASE = "heartbeat received"
HEARTBEAT_COUNTED = "own heartbeat received"
PROBE_FAILED = "probe did NOT reach the alert topic"
HEARTBEAT_TAG = "trailwatch:heartbeat"
# How long CloudWatch gets to record the alarm's action in its history (usually seconds).
ALARM_HISTORY_WAIT = timedelta(minutes=2)


class Failed(Exception):
    """A path is not delivered: what is wrong, and how to fix it."""

    def __init__(self, wrong: str, fix: str):
        super().__init__(wrong)
        self.wrong = wrong
        self.fix = fix


@dataclass
class Result:
    path: str
    delivered: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        """Always one line, whatever a service answered."""
        detail, fix = one_line(self.detail, 1500), one_line(self.fix, 1500)
        if self.delivered:
            return f"{self.path}: delivered ({detail})"
        return f"{self.path}: NOT delivered — {detail} — {fix}"


def failed(path: str, failure: Failed) -> Result:
    return Result(path, False, failure.wrong, failure.fix)


def say(message: str) -> None:
    """Progress, on stderr: stdout carries only the three result lines."""
    print(f"==> {message}", file=sys.stderr, flush=True)


def one_line(text: str, limit: int = 400) -> str:
    """Text for a result line: tags (an HTML error page) dropped, whitespace folded, bounded."""
    text = " ".join(re.sub(r"<[^>]{0,200}>", " ", text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_text(error: BaseException) -> str:
    """An AWS error in one line: its code and message (never a request's credentials)."""
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        code = info.get("Code") or str(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
        message = info.get("Message") or str(error)
        return one_line(f"{code}: {message}" if code else message)
    if isinstance(error, NoCredentialsError):
        return "no AWS credentials were found"
    return one_line(str(error) or type(error).__name__)


def error_code(error: BaseException) -> str:
    return error.response.get("Error", {}).get("Code", "") if isinstance(error, ClientError) else ""


def denied(error: BaseException) -> bool:
    code = error_code(error)
    return code in ("AccessDenied", "AccessDeniedException", "AuthorizationError", "UnauthorizedOperation") or "not authorized" in error_text(error)


def restore(stack_name: str, what: str) -> str:
    """The fix for a part changed outside CloudFormation, which a deploy without changes does not
    undo."""
    return (
        f"restore {what} as the template has it (a deploy without changes restores nothing; "
        f"aws cloudformation detect-stack-drift --stack-name {stack_name} finds what changed)"
    )


def recreate(what: str) -> str:
    """The fix for a part deleted outside CloudFormation, which a deploy without changes does not
    recreate."""
    return f"{what} was deleted outside CloudFormation, which does not recreate it on a deploy without changes: delete the stack and deploy it again (its log group, queues and key are kept)"


CREDENTIALS_FIX = "configure AWS credentials for the account (aws configure, AWS_PROFILE or aws sso login) and run the self-test again"


def utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now() -> datetime:
    return datetime.now(timezone.utc)


# ---------------------------------------------------------------------------- the stack


@dataclass
class Stack:
    """What the self-test needs of the deployed stack, found by resource type and name suffix
    (never by logical id: the template's logical ids may change)."""

    name: str
    region: str
    problem: Failed | None = None
    function: str | None = None
    log_group: str | None = None
    schedule: str | None = None
    schedule_group: str | None = None
    schedule_groups: list[str] = field(default_factory=list)
    parameter: str | None = None
    alert_topic: str | None = None
    health_topic: str | None = None
    alarms: list[str] = field(default_factory=list)
    account: str | None = None
    partition: str = "aws"
    # The stack's id (the UUID every trailwatch name carries), when a name shows it.
    id: str | None = None

    @property
    def alert_rule(self) -> str:
        return f"trailwatch-{self.id}" if self.id else "trailwatch-ID"


def stack_resources(session: boto3.Session, config: Config, stack_name: str, resources_file: Path | None) -> list[dict]:
    """The stack's resources: ListStackResources (DescribeStackResources returns only the first
    100), or a file holding either call's JSON output."""
    if resources_file is not None:
        data = json.loads(resources_file.read_text())
        if isinstance(data, dict):
            data = data.get("StackResources") or data.get("StackResourceSummaries") or []
        return list(data)
    cloudformation = session.client("cloudformation", config=config)
    found: list[dict] = []
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name):
        found.extend(page.get("StackResourceSummaries", []))
    return found


def discover(session: boto3.Session, config: Config, stack_name: str, region: str, resources_file: Path | None) -> Stack:
    stack = Stack(stack_name, region)
    try:
        resources = stack_resources(session, config, stack_name, resources_file)
    except (ClientError, BotoCoreError) as error:
        if isinstance(error, NoCredentialsError):
            fix = CREDENTIALS_FIX
        elif denied(error):
            fix = "run the self-test as a principal allowed cloudformation:ListStackResources (and the calls listed in docs/deploy.md)"
        else:
            fix = f"check the stack's name and region (aws cloudformation describe-stacks --stack-name {stack_name} --region {region})"
        stack.problem = Failed(f"could not read the stack {stack_name} in {region}: {error_text(error)}", fix)
        return stack
    except (OSError, ValueError) as error:
        stack.problem = Failed(f"could not read the resources file: {error}", "pass the JSON output of `aws cloudformation list-stack-resources`")
        return stack

    def physical(kind: str) -> list[str]:
        return [
            r["PhysicalResourceId"]
            for r in resources
            if r.get("ResourceType") == kind
            and r.get("PhysicalResourceId")
            and not str(r.get("ResourceStatus", "")).startswith("DELETE_")
        ]

    functions = physical("AWS::Lambda::Function")
    stack.function = functions[0] if functions else None
    for topic in physical("AWS::SNS::Topic"):
        name = topic.rsplit(":", 1)[-1]
        if name.endswith("-health"):
            stack.health_topic = topic
        elif name.endswith("-alerts"):
            stack.alert_topic = topic
    for topic in (stack.alert_topic, stack.health_topic):
        if topic and topic.startswith("arn:"):
            parts = topic.split(":")
            stack.partition, stack.account = parts[1], parts[4]
            break
    groups = physical("AWS::Logs::LogGroup")
    own = [g for g in groups if g.endswith("/alert-function")]
    if own:
        stack.log_group = own[0]
    elif stack.function:
        stack.log_group = f"/aws/lambda/{stack.function}"
    parameters = physical("AWS::SSM::Parameter")
    heartbeat = [p for p in parameters if p.endswith("/heartbeat")]
    stack.parameter = (heartbeat or parameters or [None])[0]
    stack.schedule_groups = [g.rsplit("/", 1)[-1] for g in physical("AWS::Scheduler::ScheduleGroup")]
    schedules = physical("AWS::Scheduler::Schedule")
    if schedules:
        # A name, or (should CloudFormation report one) an ARN or GROUP|NAME: the last two parts.
        parts = schedules[0].split(":")[-1].replace("|", "/").split("/")
        stack.schedule = parts[-1]
        if len(parts) >= 2 and parts[-2] not in ("schedule", ""):
            stack.schedule_group = parts[-2]
    stack.alarms = physical("AWS::CloudWatch::Alarm")
    ids = re.findall(r"trailwatch-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})", " ".join(str(r.get("PhysicalResourceId", "")) for r in resources))
    stack.id = ids[0] if ids else None
    return stack


# ---------------------------------------------------------------------------- the heartbeat


@dataclass
class Trigger:
    """The one-time schedule the self-test created."""

    name: str
    group: str
    at: datetime
    role: str
    stack_schedule_state: str


def heartbeat_alarm_hint(cloudwatch, stack: Stack) -> str:
    names = [a for a in stack.alarms if a.endswith("-heartbeat-missing")]
    if not names:
        return "the stack's heartbeat alarm (trailwatch-ID-heartbeat-missing) watches the same path"
    try:
        alarms = cloudwatch.describe_alarms(AlarmNames=names[:1]).get("MetricAlarms", [])
        state = alarms[0]["StateValue"] if alarms else "not found"
    except (ClientError, BotoCoreError) as error:
        state = f"unreadable: {error_text(error)}"
    return f"the alarm {names[0]} (now {state}) watches the same path"


def find_schedule(scheduler, stack: Stack) -> dict:
    """GetSchedule on the stack's heartbeat schedule, in its group."""
    groups = [g for g in [stack.schedule_group, *stack.schedule_groups] if g]
    last: BaseException | None = None
    for group in dict.fromkeys(groups):
        try:
            return scheduler.get_schedule(Name=stack.schedule, GroupName=group)
        except ClientError as error:
            last = error
            if error_code(error) != "ResourceNotFoundException":
                raise
    # The group is not in the stack: ask Scheduler where the schedule lives.
    for page in scheduler.get_paginator("list_schedules").paginate(NamePrefix=stack.schedule):
        for summary in page.get("Schedules", []):
            if summary.get("Name") == stack.schedule:
                return scheduler.get_schedule(Name=stack.schedule, GroupName=summary["GroupName"])
    if last is not None:
        raise last
    return scheduler.get_schedule(Name=stack.schedule)


def heartbeat_start(session: boto3.Session, config: Config, stack: Stack, lead: timedelta) -> Trigger:
    """Creates the one-time schedule that makes the heartbeat's call, exactly as the stack's
    schedule makes it: same target, input and role, in the same schedule group (the role trusts
    only that group)."""
    if stack.schedule is None:
        raise Failed(
            f"the stack {stack.name} has no heartbeat schedule (AWS::Scheduler::Schedule)",
            "deploy it with HeartbeatMinutes 1, 5, 10 or 15 (0 turns the heartbeat off); run the self-test against the receiving (standalone or central) stack",
        )
    scheduler = session.client("scheduler", config=config)
    try:
        schedule = find_schedule(scheduler, stack)
    except (ClientError, BotoCoreError) as error:
        fix = CREDENTIALS_FIX if isinstance(error, NoCredentialsError) else (
            "allow the self-test scheduler:GetSchedule" if denied(error) else recreate(f"the heartbeat schedule {stack.schedule}")
        )
        raise Failed(f"could not read the heartbeat schedule {stack.schedule}: {error_text(error)}", fix) from error
    target = schedule.get("Target") or {}
    group = schedule.get("GroupName") or stack.schedule_group or "default"
    if not target.get("Arn") or not target.get("RoleArn"):
        raise Failed(f"the heartbeat schedule {stack.schedule} has no target or role", restore(stack.name, "the heartbeat schedule"))
    at = (now() + lead).replace(microsecond=0)
    name = f"{MARK}-{int(time.time())}"
    copied = {key: target[key] for key in ("Arn", "RoleArn", "Input", "RetryPolicy") if key in target}
    try:
        scheduler.create_schedule(
            Name=name,
            GroupName=group,
            ScheduleExpression=f"at({at.strftime('%Y-%m-%dT%H:%M:%S')})",
            ScheduleExpressionTimezone="UTC",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target=copied,
            ActionAfterCompletion="DELETE",
            State="ENABLED",
            Description="trailwatch self-test: one heartbeat now, through the same target and role as the stack's schedule",
            ClientToken=str(uuid.uuid4()),
        )
    except (ClientError, BotoCoreError) as error:
        fix = CREDENTIALS_FIX if isinstance(error, NoCredentialsError) else (
            f"run the self-test as a principal allowed scheduler:CreateSchedule and scheduler:DeleteSchedule in the group {group}, and iam:PassRole on {target['RoleArn']}"
            if denied(error)
            else f"see the error; the schedule group {group} must exist ({recreate('the group') if error_code(error) == 'ResourceNotFoundException' else 'then run the self-test again'})"
        )
        raise Failed(f"could not create the one-time heartbeat schedule {name}: {error_text(error)}", fix) from error
    say(f"heartbeat: the one-time schedule {group}/{name} fires at {utc(at)} (the stack's own target and role)")
    return Trigger(name, group, at, target["RoleArn"], schedule.get("State", "ENABLED"))


def heartbeat_in_logs(logs, stack: Stack, since: datetime) -> tuple[datetime, str | None] | None:
    """The first heartbeat the function logged at or after `since`: its time, and the probe's
    error when the probe failed. Raises what FilterLogEvents raises."""
    start = int(since.timestamp() * 1000)
    failure: tuple[datetime, str | None] | None = None
    kwargs: dict[str, Any] = {"logGroupName": stack.log_group, "startTime": start, "filterPattern": f'"{HEARTBEAT_PHRASE}"'}
    for _ in range(20):
        page = logs.filter_log_events(**kwargs)
        for event in page.get("events", []):
            message = event.get("message", "")
            when = datetime.fromtimestamp(event["timestamp"] / 1000, timezone.utc)
            if event["timestamp"] < start:
                continue
            if HEARTBEAT_COUNTED in message:
                return when, None
            if PROBE_FAILED in message and failure is None:
                failure = (when, probe_error(message))
        token = page.get("nextToken")
        if not token:
            break
        kwargs["nextToken"] = token
    return failure


def probe_error(message: str) -> str:
    try:
        line = json.loads(message[message.index("{"):])
        fields = line.get("fields", line)
        return str(fields.get("error") or fields.get("message") or message)
    except ValueError:
        return message.strip()


def heartbeat_in_metric(cloudwatch, stack: Stack, since: datetime) -> datetime | None:
    """A `trailwatch`/`Heartbeats` datapoint for the region in a minute at or after `since`'s."""
    minute = since.replace(second=0, microsecond=0)
    datapoints = cloudwatch.get_metric_statistics(
        Namespace="trailwatch",
        MetricName="Heartbeats",
        Dimensions=[{"Name": "Region", "Value": stack.region}],
        StartTime=minute,
        EndTime=now() + timedelta(minutes=1),
        Period=60,
        Statistics=["Sum"],
    ).get("Datapoints", [])
    counted = sorted(p["Timestamp"] for p in datapoints if p.get("Sum", 0) >= 1 and p["Timestamp"] >= minute)
    return counted[0] if counted else None


def heartbeat_wait(session: boto3.Session, config: Config, stack: Stack, trigger: Trigger, deadline: datetime, poll: float) -> Result:
    logs = session.client("logs", config=config)
    cloudwatch = session.client("cloudwatch", config=config)
    logs_problem: str | None = None
    say(f"heartbeat: waiting until {utc(deadline)} for the function to count it")
    while True:
        counted: tuple[datetime, str | None] | None = None
        how = ""
        if stack.log_group:
            try:
                counted = heartbeat_in_logs(logs, stack, trigger.at)
                how = f"its log line in {stack.log_group}"
            except (ClientError, BotoCoreError) as error:
                logs_problem = f"the log group {stack.log_group} could not be read ({error_text(error)})"
        if counted is None:
            try:
                when = heartbeat_in_metric(cloudwatch, stack, trigger.at)
                if when is not None:
                    counted, how = (when, None), f"the metric trailwatch/Heartbeats Region={stack.region}"
            except (ClientError, BotoCoreError):
                pass
        if counted is not None:
            break
        if now() >= deadline:
            break
        time.sleep(poll)
    cleanup(session, config, trigger)

    if counted is None:
        wrong, fix = heartbeat_diagnosis(session, config, stack, trigger, deadline)
        if logs_problem:
            wrong += f"; {logs_problem}"
        raise Failed(wrong, f"{fix}; {heartbeat_alarm_hint(cloudwatch, stack)}")
    when, probe = counted
    if probe is not None:
        raise Failed(
            f"the heartbeat came back at {utc(when)}, but its probe did NOT reach the alert topic: {probe}",
            f"alerts cannot be published either: {publish_fix(probe, stack)}",
        )
    seconds = max(0, int((when - trigger.at).total_seconds()))
    detail = f"the one-time schedule fired at {utc(trigger.at)}; the function counted a heartbeat {seconds} s later ({how})"
    if trigger.stack_schedule_state != "ENABLED":
        raise Failed(
            f"the heartbeat path works ({detail}), but the stack's own schedule {stack.schedule} is {trigger.stack_schedule_state}, so no regular heartbeat is sent",
            f"enable it again (EventBridge Scheduler console, group {trigger.group}); the heartbeat alarms fire while it is off; {restore(stack.name, 'the schedule')}",
        )
    return Result("heartbeat", True, detail)


def heartbeat_diagnosis(session: boto3.Session, config: Config, stack: Stack, trigger: Trigger, deadline: datetime) -> tuple[str, str]:
    """Why no heartbeat came back: did the schedule make its call? The parameter's tag says."""
    minutes = (deadline - trigger.at).total_seconds() / 60
    waited = f"{minutes:g} minute{'s' if minutes != 1 else ''}"
    tagged: str | None = None
    try:
        tags = session.client("ssm", config=config).list_tags_for_resource(ResourceType="Parameter", ResourceId=stack.parameter or "")["TagList"]
        tagged = next((t["Value"] for t in tags if t["Key"] == HEARTBEAT_TAG), None)
    except (ClientError, BotoCoreError):
        tagged = None
    after = False
    if tagged:
        try:
            after = datetime.fromisoformat(tagged.replace("Z", "+00:00")) >= trigger.at - timedelta(seconds=1)
        except ValueError:
            after = False
    path_fix = (
        f"a trail must be logging write management events in {stack.region} (aws cloudtrail get-trail-status), "
        f"the alert rule {stack.alert_rule} must be enabled and target the function (aws events describe-rule --name {stack.alert_rule}), "
        f"and the function must be able to run and log to {stack.log_group}"
    )
    if after:
        return (
            f"the schedule made its call (the heartbeat parameter's tag says {tagged}), but no heartbeat came back to the function within {waited}",
            f"the call's CloudTrail event did not reach the function: {path_fix}",
        )
    if tagged is not None:
        return (
            f"no heartbeat was counted within {waited}, and the heartbeat parameter was not tagged since {utc(trigger.at)} (last tag {tagged})",
            f"EventBridge Scheduler could not make the call: the role {trigger.role} must trust scheduler.amazonaws.com for the schedule group {trigger.group} and may ssm:AddTagsToResource on {stack.parameter} ({restore(stack.name, 'them')})",
        )
    return (
        f"no heartbeat was counted within {waited}",
        f"{path_fix}; the schedule's role {trigger.role} must be able to tag {stack.parameter}",
    )


def cleanup(session: boto3.Session, config: Config, trigger: Trigger) -> None:
    """Deletes the one-time schedule if it is still there (it deletes itself once it has run)."""
    try:
        session.client("scheduler", config=config).delete_schedule(Name=trigger.name, GroupName=trigger.group)
    except (ClientError, BotoCoreError):
        pass


# ---------------------------------------------------------------------------- the alarm


@dataclass
class AlarmChecked:
    alarm: str
    start: datetime
    action: str


def choose_alarm(cloudwatch, stack: Stack) -> dict:
    if stack.health_topic is None:
        raise Failed(f"the stack {stack.name} has no health topic (an SNS topic named ...-health)", "run the self-test against the receiving (standalone or central) stack")
    if not stack.alarms:
        raise Failed(f"the stack {stack.name} has no CloudWatch alarms", "run the self-test against the receiving (standalone or central) stack")
    preferred = [a for a in stack.alarms if a.endswith("-function-errors")]
    names = preferred + [a for a in stack.alarms if a not in preferred]
    alarms: list[dict] = []
    for i in range(0, len(names), 100):
        found = cloudwatch.describe_alarms(AlarmNames=names[i : i + 100])
        alarms.extend(found.get("MetricAlarms", []) + found.get("CompositeAlarms", []))
    by_name = {a["AlarmName"]: a for a in alarms}
    for name in names:
        alarm = by_name.get(name)
        if alarm and stack.health_topic in alarm.get("AlarmActions", []):
            return alarm
    if preferred and preferred[0] in by_name:
        return by_name[preferred[0]]
    raise Failed(
        f"no alarm of the stack notifies the health topic {stack.health_topic} (checked {len(names)})",
        restore(stack.name, "the alarms' actions"),
    )


def alarm_start(session: boto3.Session, config: Config, stack: Stack, wait: timedelta, poll: float) -> AlarmChecked:
    cloudwatch = session.client("cloudwatch", config=config)
    try:
        alarm = choose_alarm(cloudwatch, stack)
    except (ClientError, BotoCoreError) as error:
        fix = CREDENTIALS_FIX if isinstance(error, NoCredentialsError) else "allow the self-test cloudwatch:DescribeAlarms"
        raise Failed(f"could not read the stack's alarms: {error_text(error)}", fix) from error
    name = alarm["AlarmName"]
    if not alarm.get("ActionsEnabled", True):
        raise Failed(
            f"the alarm {name} has its actions disabled: it notifies no one (someone ran disable-alarm-actions?)",
            f"aws cloudwatch enable-alarm-actions --alarm-names {name}",
        )
    if stack.health_topic not in alarm.get("AlarmActions", []):
        raise Failed(f"the alarm {name} does not notify the health topic {stack.health_topic}", restore(stack.name, "its actions"))
    start = now() - timedelta(seconds=60)  # room for a clock that runs ahead of CloudWatch's
    # ALARM and back; an alarm already in ALARM goes to OK and back, so both runs notify.
    order = ("OK", "ALARM") if alarm.get("StateValue") == "ALARM" else ("ALARM", "OK")
    try:
        for i, state in enumerate(order):
            if i:
                time.sleep(min(2.0, poll))
            cloudwatch.set_alarm_state(AlarmName=name, StateValue=state, StateReason=ALARM_REASON)
    except (ClientError, BotoCoreError) as error:
        fix = CREDENTIALS_FIX if isinstance(error, NoCredentialsError) else f"allow the self-test cloudwatch:SetAlarmState on {name}"
        raise Failed(f"could not set the alarm {name}'s state: {error_text(error)}", fix) from error
    say(f"alarm: {name} set to {order[0]} and back to {order[1]}; reading its history")

    deadline = now() + wait
    items: list[dict] = []
    while True:
        try:
            items = []
            kwargs: dict[str, Any] = {"AlarmName": name, "HistoryItemType": "Action", "StartDate": start}
            for _ in range(10):
                page = cloudwatch.describe_alarm_history(**kwargs)
                items.extend(page.get("AlarmHistoryItems", []))
                if not page.get("NextToken"):
                    break
                kwargs["NextToken"] = page["NextToken"]
        except (ClientError, BotoCoreError) as error:
            raise Failed(
                f"could not read the alarm {name}'s history: {error_text(error)}",
                "allow the self-test cloudwatch:DescribeAlarmHistory, or check by hand that the health email arrived (docs/deploy.md, After deploying)",
            ) from error
        failures = [i for i in items if "Failed to execute action" in i.get("HistorySummary", "") or action_state(i) == "Failed"]
        if failures:
            summary = failures[0].get("HistorySummary", "").strip()
            raise Failed(f'CloudWatch could not notify the health topic: "{summary}"', topic_policy_fix(summary, stack.health_topic, stack.name))
        if items or now() >= deadline:
            break
        time.sleep(poll)
    if not items:
        raise Failed(
            f"the alarm {name} went to {order[0]} and back, but its history shows no action within {int(wait.total_seconds())} s",
            f"check that its actions are enabled and name the health topic (aws cloudwatch describe-alarms --alarm-names {name}), then run the self-test again",
        )
    mentions = [i for i in items if stack.health_topic in i.get("HistorySummary", "")]
    return AlarmChecked(name, start, (mentions or items)[0].get("HistorySummary", "").strip())


def action_state(item: dict) -> str | None:
    try:
        return json.loads(item.get("HistoryData") or "{}").get("actionState")
    except (ValueError, AttributeError):
        return None


def topic_policy_fix(summary: str, topic: str, stack_name: str) -> str:
    policy = (
        f"the topic policy of {topic} must let CloudWatch alarms publish: a statement allowing the service "
        "principal cloudwatch.amazonaws.com sns:Publish for this account (aws:SourceAccount), and no Deny that "
        "catches an AWS service acting for itself (the template's policy exempts aws:PrincipalIsAWSService); "
        f"{restore(stack_name, 'the policy')}"
    )
    lowered = summary.lower()
    if "not authorized" in lowered or "authorizationerror" in lowered or "access denied" in lowered:
        return policy
    if "does not exist" in lowered or "notfound" in lowered.replace(" ", ""):
        return f"{recreate('the topic')}; once it exists, {policy}"
    if "kms" in lowered:
        return f"the topic's key refuses CloudWatch: the key policy must let cloudwatch.amazonaws.com use it; {policy}"
    return policy


def confirmed_subscriptions(session: boto3.Session, config: Config, topic: str) -> tuple[int, int] | None:
    """(confirmed, pending) subscriptions of the topic; None when they cannot be read."""
    try:
        sns = session.client("sns", config=config)
        confirmed = pending = 0
        for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic):
            for subscription in page.get("Subscriptions", []):
                if subscription.get("SubscriptionArn", "").startswith("arn:"):
                    confirmed += 1
                else:
                    pending += 1
        return confirmed, pending
    except (ClientError, BotoCoreError):
        return None


def reaches(session: boto3.Session, config: Config, topic: str, what: str) -> str:
    """Who the topic delivers to, for the result line; Failed when nobody confirmed."""
    counts = confirmed_subscriptions(session, config, topic)
    problem = unconfirmed(topic, counts, what)
    if problem:
        raise problem
    return f"; the topic has {counts[0]} confirmed subscription(s)" if counts else ""


def unconfirmed(topic: str, counts: tuple[int, int] | None, what: str) -> Failed | None:
    if counts is None or counts[0] > 0:
        return None
    name = topic.rsplit(":", 1)[-1]
    if counts[1]:
        return Failed(
            f"{what} reached the topic {name}, but none of its {counts[1]} subscription(s) is confirmed, so nobody receives it",
            "confirm the subscription: open the email \"AWS Notification - Subscription Confirmation\" and follow its link (the stack's HealthEmail, else AlertEmail)",
        )
    return Failed(f"{what} reached the topic {name}, but the topic has no subscription", "set AlertEmail (and HealthEmail) and deploy again (sam deploy), or subscribe an endpoint to the topic")


def alarm_finish(session: boto3.Session, config: Config, stack: Stack, checked: AlarmChecked) -> Result:
    assert stack.health_topic is not None
    audience = reaches(session, config, stack.health_topic, "the alarm's notification")
    cloudwatch = session.client("cloudwatch", config=config)
    topic_name = stack.health_topic.rsplit(":", 1)[-1]
    ran = f'CloudWatch ran the action of {checked.alarm}: "{checked.action}"'

    def total(metric: str) -> float | None:
        try:
            points = cloudwatch.get_metric_statistics(
                Namespace="AWS/SNS",
                MetricName=metric,
                Dimensions=[{"Name": "TopicName", "Value": topic_name}],
                StartTime=checked.start.replace(second=0, microsecond=0),
                EndTime=now() + timedelta(minutes=1),
                Period=60,
                Statistics=["Sum"],
            ).get("Datapoints", [])
        except (ClientError, BotoCoreError):
            return None
        return sum(p.get("Sum", 0) for p in points) if points else None

    delivered = total("NumberOfNotificationsDelivered")
    if delivered:
        return Result("alarm", True, f"{ran}{audience}; SNS delivered {delivered:g} notification(s) from {topic_name} since {utc(checked.start)}")
    failed_count = total("NumberOfNotificationsFailed")
    if failed_count:
        raise Failed(
            f"{ran}, but SNS failed {failed_count:g} delivery(ies) from {topic_name} and delivered none",
            "a subscriber refuses or cannot be reached: check the topic's subscriptions (aws sns list-subscriptions-by-topic) and what SubscriptionDeadLetterQueue holds",
        )
    return Result(
        "alarm",
        True,
        f"{ran}{audience}; SNS's delivery count is pending: its metrics arrive every 5 minutes, so check NumberOfNotificationsDelivered for {topic_name} in a few minutes, or the health email",
    )


# ---------------------------------------------------------------------------- the alert


def test_event(stack: Stack) -> dict:
    """events/start-logging.json, clearly marked: the trail `trailwatch-self-test`, the user and
    user agent `trailwatch-self-test`, fresh ids and times, this account and region."""
    event = json.loads(TEST_EVENT_SAMPLE.read_text())
    stamp = utc(now())
    account = stack.account or event["account"]
    detail = event["detail"]
    event.update(id=str(uuid.uuid4()), time=stamp, account=account, region=stack.region)
    detail.update(
        eventTime=stamp,
        eventID=str(uuid.uuid4()),
        requestID=str(uuid.uuid4()),
        awsRegion=stack.region,
        recipientAccountId=account,
        userAgent=MARK,
        requestParameters={"name": MARK},
        userIdentity={
            "type": "IAMUser",
            "principalId": "TRAILWATCHSELFTEST",
            "arn": f"arn:{stack.partition}:iam::{account}:user/{MARK}",
            "accountId": account,
            "userName": MARK,
        },
    )
    if isinstance(detail.get("tlsDetails"), dict):
        detail["tlsDetails"]["clientProvidedHostHeader"] = f"cloudtrail.{stack.region}.amazonaws.com"
    return event


def alert_path(session: boto3.Session, config: Config, stack: Stack) -> Result:
    if stack.function is None:
        raise Failed(f"the stack {stack.name} has no function (AWS::Lambda::Function)", "run the self-test against the receiving (standalone or central) stack")
    try:
        event = test_event(stack)
    except (OSError, ValueError, KeyError) as error:
        raise Failed(f"could not build the test event from {TEST_EVENT_SAMPLE}: {error}", "run the self-test from a checkout of trailwatch (it reads events/start-logging.json)") from error
    client = session.client("lambda", config=config)
    try:
        response = client.invoke(FunctionName=stack.function, InvocationType="RequestResponse", Payload=json.dumps(event).encode())
    except (ClientError, BotoCoreError) as error:
        code = error_code(error)
        if isinstance(error, NoCredentialsError):
            fix = CREDENTIALS_FIX
        elif code == "ResourceNotFoundException":
            fix = recreate(f"the function {stack.function}")
        elif code == "TooManyRequestsException":
            fix = f"the function is throttled; if its reserved concurrency is 0, that silences trailwatch: aws lambda delete-function-concurrency --function-name {stack.function}"
        elif denied(error):
            fix = f"run the self-test as a principal allowed lambda:InvokeFunction on {stack.function}"
        else:
            fix = "see the error, then run the self-test again"
        raise Failed(f"could not invoke the function {stack.function}: {error_text(error)}", fix) from error
    body = response["Payload"].read().decode("utf-8", "replace")
    try:
        answer = json.loads(body)
    except ValueError:
        answer = body
    if response.get("FunctionError") or (isinstance(answer, dict) and "errorType" in answer):
        kind = answer.get("errorType", "error") if isinstance(answer, dict) else "error"
        message = answer.get("errorMessage", body) if isinstance(answer, dict) else body
        if kind == "PublishFailed":
            raise Failed(f"the function judged the test event but could not publish it: {message}", publish_fix(message, stack))
        raise Failed(
            f"the function failed on the test event: {kind}: {message}",
            f"read the function's log group {stack.log_group} for the cause; if its code or settings were changed, {restore(stack.name, 'the function')}",
        )
    if not isinstance(answer, dict):
        raise Failed(f"the function answered something unexpected: {body[:200]}", f"the function may not be trailwatch's: {restore(stack.name, 'the function')}")
    status = answer.get("status")
    if status == "published" and answer.get("messageId"):
        audience = reaches(session, config, stack.alert_topic, "the test alert") if stack.alert_topic else ""
        topic = (stack.alert_topic or "the alert topic").rsplit(":", 1)[-1]
        return Result(
            "alert",
            True,
            f"the function published the test alert ({answer.get('severity', 'INFORMATIONAL')}, StartLogging on the trail {MARK}) to {topic} as message {answer['messageId']}{audience}",
        )
    if status == "below-threshold":
        return Result(
            "alert",
            True,
            f"the test event was judged {answer.get('severity', 'INFORMATIONAL')}, {answer.get('reason', 'below MIN_SEVERITY')}: nothing published, as configured, so the path works up to the threshold (the heartbeat's probe is published to the alert topic whatever the threshold: the heartbeat line shows whether the topic accepts it)",
        )
    raise Failed(
        f"the function answered {status!r} to the test event: {answer.get('reason') or body[:200]}",
        "deploy this checkout's function (sam build && sam deploy): it publishes a StartLogging as INFORMATIONAL",
    )


def publish_fix(message: str, stack: Stack) -> str:
    lowered = message.lower()
    topic = stack.alert_topic or "the alert topic"
    if "kms" in lowered or ("key" in lowered and ("disabled" in lowered or "pending" in lowered)):
        return "the alert topic's key (the stack's AlertKey) is disabled or scheduled for deletion: aws kms enable-key (or cancel-key-deletion) --key-id <AlertKey>, then run the self-test again"
    if "not authorized" in lowered or "authorization" in lowered or "accessdenied" in lowered.replace(" ", ""):
        return f"the topic policy of {topic} or the function's role refuses the publish: {restore(stack.name, 'them')}"
    if "not found" in lowered or "notfound" in lowered.replace(" ", "") or "does not exist" in lowered:
        return recreate(f"the alert topic {topic}")
    return f"check that {topic} exists, that its key (the stack's AlertKey) is enabled and that its policy lets the function's role publish; the function's log group {stack.log_group} has the details"


# ---------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="self_test.py",
        description="After `sam deploy`: prove that trailwatch's heartbeat, alarm and alert paths deliver, in your own account.",
    )
    parser.add_argument("--stack", required=True, help="the stack's name (the receiving stack: standalone or central)")
    parser.add_argument("--region", help="the stack's region (default: boto3's configuration)")
    parser.add_argument("--timeout-minutes", type=float, default=10.0, help="how long to wait for the heartbeat (default 10)")
    parser.add_argument(
        "--resources",
        type=Path,
        help="read the stack's resources from this JSON (the output of `aws cloudformation list-stack-resources` or describe-stack-resources) instead of asking CloudFormation",
    )
    parser.add_argument("--lead-seconds", type=int, default=60, help="how far ahead the one-time heartbeat schedule fires (default 60)")
    parser.add_argument("--poll-seconds", type=float, default=10.0, help="how often to look for results (default 10)")
    args = parser.parse_args(argv)
    if args.timeout_minutes <= 0 or args.lead_seconds < 1 or args.poll_seconds <= 0:
        parser.error("--timeout-minutes and --poll-seconds must be positive, --lead-seconds at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        session = boto3.Session(region_name=args.region)
    except BotoCoreError as error:
        print(f"self_test.py: {error_text(error)}", file=sys.stderr)
        return 2
    region = session.region_name
    if not region:
        print("self_test.py: no region: pass --region or set AWS_REGION (or a region in your AWS profile)", file=sys.stderr)
        return 2
    config = Config(region_name=region, retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=10, read_timeout=70)
    timeout = timedelta(minutes=args.timeout_minutes)
    lead = timedelta(seconds=args.lead_seconds)

    say(f"reading the stack {args.stack} in {region}")
    stack = discover(session, config, args.stack, region, args.resources)
    results: dict[str, Result] = {}
    if stack.problem:
        for path in ("heartbeat", "alarm", "alert"):
            results[path] = failed(path, stack.problem)
    else:
        trigger: Trigger | None = None
        try:
            try:
                trigger = heartbeat_start(session, config, stack, lead)
            except Failed as failure:
                results["heartbeat"] = failed("heartbeat", failure)
            try:
                checked = alarm_start(session, config, stack, min(timeout, ALARM_HISTORY_WAIT), args.poll_seconds)
            except Failed as failure:
                results["alarm"] = failed("alarm", failure)
                checked = None
            try:
                results["alert"] = alert_path(session, config, stack)
            except Failed as failure:
                results["alert"] = failed("alert", failure)
            say(f"alert: {'delivered' if results['alert'].delivered else 'NOT delivered'}")
            if trigger is not None:
                try:
                    results["heartbeat"] = heartbeat_wait(session, config, stack, trigger, trigger.at + timeout, args.poll_seconds)
                except Failed as failure:
                    results["heartbeat"] = failed("heartbeat", failure)
            if checked is not None:
                try:
                    results["alarm"] = alarm_finish(session, config, stack, checked)
                except Failed as failure:
                    results["alarm"] = failed("alarm", failure)
        except KeyboardInterrupt:
            print("self_test.py: interrupted", file=sys.stderr)
            return 130
        finally:
            # The one-time schedule deletes itself once it has run; never leave one behind.
            if trigger is not None:
                cleanup(session, config, trigger)
    for path in ("heartbeat", "alarm", "alert"):
        print(results[path].line(), flush=True)
    return 0 if all(r.delivered for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

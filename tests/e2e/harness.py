"""Local AWS and the real Lambda runtime, for `make invoke` and the end-to-end tests.

- MotoServer: moto's server on a free loopback port, reset between cases.
- RuntimeEmulator: the release `bootstrap` under the AWS Lambda Runtime Interface Emulator
  (the binary the aws-sam-cli wheel ships), with AWS_ENDPOINT_URL pointing at moto.
- seed, replay: what a scenario needs in moto: the trails named in events/, the topic, and an SQS
  queue subscribed to the topic to read what was published.
- ChatSubscriber: an `https` subscription (AWS Chatbot's protocol) that receives the chat cards.

Every process is started in its own process group, asked to die with its parent, and stopped
when its context ends, also on failure.
"""

from __future__ import annotations

import contextlib
import copy
import ctypes
import io
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.config import Config as BotoConfig

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv"
EVENTS = ROOT / "events"
# Where cargo puts the release build: CARGO_TARGET_DIR when a developer set it (relative paths
# are relative to the project, as cargo treats them there), else target/.
RELEASE_BINARY = (ROOT / os.environ.get("CARGO_TARGET_DIR", "target")).resolve() / "release" / "bootstrap"

ACCOUNT = "111122223333"
HOME_REGION = "us-east-1"
OTHER_REGION = "eu-west-1"
TRAIL = "management-events"
TRAIL_ARN = f"arn:aws:cloudtrail:{HOME_REGION}:{ACCOUNT}:trail/{TRAIL}"
OTHER_REGION_TRAIL = "eu-audit"
BUCKET = "cloudtrail-logs-111122223333"
OTHER_REGION_BUCKET = "eu-audit-logs-111122223333"
# The trail's delivery chain, as the samples in events/ name it. moto (5.2.5) cannot create a KMS
# key with a chosen id, and CloudTrail on moto does not check that the key, log group or role
# exist, so the trail names the key without the key existing in moto's KMS.
KEY_ID = "4d6e8f10-1a2b-4c3d-9e8f-0123456789ab"
KEY_ARN = f"arn:aws:kms:{HOME_REGION}:{ACCOUNT}:key/{KEY_ID}"
LOG_GROUP = "aws-cloudtrail-logs-111122223333"
LOG_GROUP_ARN = f"arn:aws:logs:{HOME_REGION}:{ACCOUNT}:log-group:{LOG_GROUP}:*"
CLOUDWATCH_LOGS_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/CloudTrailToCloudWatchLogs"
# A second multi-region trail, seeded only on request (seed(second_trail=True)).
SECOND_TRAIL = "backup-trail"
SECOND_TRAIL_ARN = f"arn:aws:cloudtrail:{HOME_REGION}:{ACCOUNT}:trail/{SECOND_TRAIL}"
SECOND_BUCKET = "backup-trail-logs-111122223333"
# A bucket that belongs to no trail.
UNRELATED_BUCKET = "website-assets-111122223333"
# CloudTrail Lake: named by the samples; moto has no Lake API (it answers 500).
EVENT_DATA_STORE_ARN = f"arn:aws:cloudtrail:{HOME_REGION}:{ACCOUNT}:eventdatastore/a1b2c3d4-5e6f-4a7b-8c9d-0123456789ab"
# What real CloudTrail gives a new trail; moto gives none, so seed() sets it explicitly.
ALL_MANAGEMENT_EVENTS = [{"ReadWriteType": "All", "IncludeManagementEvents": True}]
TOPIC_NAME = "trailwatch-alerts"
TOPIC_ARN = f"arn:aws:sns:{HOME_REGION}:{ACCOUNT}:{TOPIC_NAME}"
QUEUE_NAME = "trailwatch-alerts-inbox"
# trailwatch's own resources, as the function's environment names them (the template sets the
# same variables from the stack) and as the self-protection samples in events/ touch them.
HEALTH_TOPIC_NAME = "trailwatch-health"
HEALTH_TOPIC_ARN = f"arn:aws:sns:{HOME_REGION}:{ACCOUNT}:{HEALTH_TOPIC_NAME}"
HEALTH_QUEUE_NAME = "trailwatch-health-inbox"
OWN_KEY_ARN = f"arn:aws:kms:{HOME_REGION}:{ACCOUNT}:key/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
OWN_ID = "5e4d3c2b-1a09-4f8e-9d7c-6b5a4c3d2e1f"
OWN_RULE = f"trailwatch-{OWN_ID}"
FUNCTION_NAME = "trailwatch"
# The rest of trailwatch's own resources, named from the stack's id as the template names them.
OWN_LOG_GROUP = f"/trailwatch/{OWN_ID}/alert-function"
OWN_QUEUE_ARNS = [f"arn:aws:sqs:{HOME_REGION}:{ACCOUNT}:trailwatch-{OWN_ID}-{name}" for name in ("rule-dlq", "function-failures", "subscription-dlq")]
# Every alarm named trailwatch-OWN_ID-… is trailwatch's; the own-door samples name this one.
OWN_ALARM = f"trailwatch-{OWN_ID}-heartbeat-missing"
OWN_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/trailwatch-AlertFunctionRole-1A2B3C4D5E6F"
OWN_EVENT_BUS = "trailwatch-central"
HEARTBEAT_PARAMETER = f"/trailwatch/{OWN_ID}/heartbeat"
HEARTBEAT_ROLE_NAME = "trailwatch-heartbeat-{region}"
HEARTBEAT_TAG = "trailwatch:heartbeat"

# Never real credentials: every client here talks to moto on loopback.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


class HarnessError(RuntimeError):
    """A tool is missing or a process did not come up; the message says what to do."""


def tool(relative: str, install_hint: str) -> Path:
    path = VENV / relative
    if not path.exists():
        raise HarnessError(f"{path} not found: {install_hint}")
    return path


def emulator_binary() -> Path:
    import platform

    arch = "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"
    site = next((VENV / "lib").glob("python3*/site-packages"), None)
    path = site / "samcli" / "local" / "rapid" / f"aws-lambda-rie-{arch}" if site else None
    if path is None or not path.exists():
        raise HarnessError(
            "the Lambda Runtime Interface Emulator (aws-lambda-rie from the aws-sam-cli wheel) "
            "was not found: run `make venv` to install the pinned tools into .venv/"
        )
    return path


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` distinct loopback ports free right now (the sockets are held until all are
    picked, so the kernel cannot hand out the same one twice). Another process may still take
    one before its user binds it: RuntimeEmulator starts again on new ports when that happens."""
    with contextlib.ExitStack() as held:
        ports = []
        for _ in range(count):
            s = held.enter_context(socket.socket())
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
        return ports


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the harness dies, so nothing outlives a killed run."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class _Process:
    """A child process whose output is collected by a thread, with a wait-for-line."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], cwd: Path | None = None):
        self.name = name
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self.proc = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_for_line(self, needle: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not any(needle in line for line in self.lines):
                if self.proc.poll() is not None and not self._reader.is_alive():
                    raise HarnessError(f"{self.name} exited ({self.proc.returncode}):\n{self.output()}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise HarnessError(f"{self.name} did not print {needle!r} within {timeout}s:\n{self.output()}")
                self._cond.wait(remaining)

    def count(self, needle: str) -> int:
        with self._cond:
            return sum(needle in line for line in self.lines)

    def output(self) -> str:
        with self._cond:
            return "\n".join(self.lines[-200:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._reader.join(timeout=5)


class _Service:
    """A server process the harness started: stopped by `stop()` or at the end of a `with`."""

    _process: _Process

    def output(self) -> str:
        return self._process.output()

    def stop(self) -> None:
        self._process.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class MotoEndpoint:
    """What the tests use of a moto server at `self.endpoint`: its reset and SDK clients."""

    endpoint: str
    _clients: dict[tuple[str, str], object]
    # The clients' credentials: moto's default account unless a view says otherwise.
    _credentials: dict[str, str] = {
        "aws_access_key_id": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def client(self, service: str, region: str = HOME_REGION):
        # Clients are kept: building one costs more than most calls to moto, and seed() runs
        # for every test. They hold no state that moto's reset would make stale.
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = boto3.client(
                service,
                region_name=region,
                endpoint_url=self.endpoint,
                **self._credentials,
                config=BotoConfig(retries={"max_attempts": 1}),
            )
        return self._clients[key]


class MotoServer(MotoEndpoint, _Service):
    """moto's server on a free loopback port, with MOTO_ACCOUNT_ID matching events/; with
    account=None, moto's default account (123456789012), and AssumeRole into any other account
    gives that account's view (MOTO_ACCOUNT_ID would override it)."""

    def __init__(self, account: str | None = ACCOUNT) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._clients = {}
        binary = tool("bin/moto_server", "run `make venv` to install moto[server] into .venv/")
        env = {k: v for k, v in os.environ.items() if k != "MOTO_ACCOUNT_ID"}
        env.update({**FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": HOME_REGION})
        if account is not None:
            env["MOTO_ACCOUNT_ID"] = account
        self._process = _Process("moto_server", [str(binary), "-H", "127.0.0.1", "-p", str(self.port)], env)
        self._process.wait_for_line("Running on", timeout=60)


class AccountView(MotoEndpoint):
    """A moto server as another account sees it: clients sign with a session of a role assumed
    in `account` (moto needs no such role). Build it after each reset: the reset forgets the
    session."""

    def __init__(self, server: MotoEndpoint, account: str) -> None:
        self.endpoint = server.endpoint
        self.account = account
        self._clients = {}
        session = server.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/trailwatch-e2e-seed", RoleSessionName="trailwatch-e2e"
        )["Credentials"]
        self._credentials = {
            "aws_access_key_id": session["AccessKeyId"],
            "aws_secret_access_key": session["SecretAccessKey"],
            "aws_session_token": session["SessionToken"],
        }
        actual = self.client("sts").get_caller_identity()["Account"]
        assert actual == account, f"moto gave account {actual}'s view, not {account}'s: is MOTO_ACCOUNT_ID set?"


@dataclass
class Invocation:
    status: int
    body: str
    function_error: str | None

    def json(self):
        return json.loads(self.body)


def wait_until_listening(service: _Service, port: int, timeout: float, poll: float = 0.02) -> None:
    """Until the emulator of `service` accepts connections on `port`: it logs before its HTTP
    listener is up, so connecting is the only signal. A HarnessError if it exits or the time is
    up. bench/run.py polls finer, since it times the start-up."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline or service._process.proc.poll() is not None:
                raise HarnessError(f"the emulator is not listening on {port}:\n{service.output()}")
            time.sleep(poll)


class RuntimeEmulator(_Service):
    """The function as Lambda runs it: `bootstrap` under the Runtime Interface Emulator."""

    def __init__(self, binary: Path, endpoint: str, extra_env: dict[str, str] | None = None) -> None:
        if not binary.exists():
            raise HarnessError(f"{binary} not found: run `make build` (cargo build --release) first")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            **FAKE_CREDENTIALS,
            "AWS_REGION": HOME_REGION,
            "AWS_DEFAULT_REGION": HOME_REGION,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME,
            "AWS_LAMBDA_FUNCTION_TIMEOUT": "15",
            "ALERT_TOPIC_ARN": TOPIC_ARN,
            "HEALTH_TOPIC_ARN": HEALTH_TOPIC_ARN,
            "OWN_KEY_ARN": OWN_KEY_ARN,
            "OWN_RULE_NAMES": f"{OWN_RULE},{OWN_RULE}-2,{OWN_RULE}-posture",
            "OWN_LOG_GROUP": OWN_LOG_GROUP,
            "OWN_QUEUE_ARNS": ",".join(OWN_QUEUE_ARNS),
            "OWN_ID": OWN_ID,
            "OWN_ROLE_ARN": OWN_ROLE_ARN,
            "OWN_EVENT_BUS": OWN_EVENT_BUS,
            "HEARTBEAT_PARAMETER": HEARTBEAT_PARAMETER,
            "HEARTBEAT_ROLE_NAME": HEARTBEAT_ROLE_NAME,
            "RUST_LOG": "info",
            **(extra_env or {}),
        }
        # A port picked free can be taken by any other socket before the emulator binds it
        # (the tests open many); the emulator then exits saying so, and is started again.
        for attempt in range(1, 4):
            self.port, runtime_api_port = free_ports(2)
            self._process = _Process(
                "aws-lambda-rie",
                [
                    str(emulator_binary()),
                    "--runtime-interface-emulator-address",
                    f"127.0.0.1:{self.port}",
                    "--runtime-api-address",
                    f"127.0.0.1:{runtime_api_port}",
                    str(binary),
                ],
                env,
                cwd=binary.parent,
            )
            try:
                self._process.wait_for_line("exec '", timeout=30)
                wait_until_listening(self, self.port, timeout=30)
                return
            except HarnessError:
                self._process.stop()
                if attempt == 3 or "address already in use" not in self._process.output():
                    raise

    def invoke(self, payload: bytes | str | dict) -> Invocation:
        if isinstance(payload, dict) or isinstance(payload, list):
            payload = json.dumps(payload)
        if isinstance(payload, str):
            payload = payload.encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/2015-03-31/functions/function/invocations",
            data=payload,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return Invocation(response.status, response.read().decode(), response.headers.get("X-Amz-Function-Error"))
        except urllib.error.HTTPError as error:
            return Invocation(error.code, error.read().decode(), error.headers.get("X-Amz-Function-Error"))

    @property
    def pid(self) -> int:
        """The emulator's process id; `bootstrap` runs as its child."""
        return self._process.proc.pid

    def wait_for_output(self, needle: str, timeout: float = 10) -> None:
        """Until the function has logged `needle`: its log lines travel through a pipe, and may
        arrive after the invocation's answer."""
        self._process.wait_for_line(needle, timeout)

    def init_count(self) -> int:
        """How many times the runtime was (re)started: a crash would start it again."""
        return self._process.count("INIT START")


def seed(moto: MotoServer, *, logging: bool = True, second_trail: bool = False) -> str:
    """The scenario's world: the trails named in events/ with their delivery chain, and the alert
    topic with an SQS inbox.

    - `management-events` (us-east-1, multi-region, log file validation, the KMS key, log group
      and role of events/, event selectors All + management events), logging unless
      logging=False;
    - `eu-audit` (eu-west-1, single-region), logging;
    - with second_trail=True, `backup-trail` (us-east-1, multi-region, all management events),
      logging: the trail that still covers the account when management-events is blinded;
    - the buckets of those trails, the unrelated bucket `website-assets-...`, and the log group.

    Returns the inbox queue URL.
    """
    s3 = moto.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.create_bucket(Bucket=OTHER_REGION_BUCKET, CreateBucketConfiguration={"LocationConstraint": OTHER_REGION})
    s3.create_bucket(Bucket=UNRELATED_BUCKET)
    moto.client("logs").create_log_group(logGroupName=LOG_GROUP)

    home = moto.client("cloudtrail")
    home.create_trail(
        Name=TRAIL,
        S3BucketName=BUCKET,
        IsMultiRegionTrail=True,
        EnableLogFileValidation=True,
        KmsKeyId=KEY_ARN,
        CloudWatchLogsLogGroupArn=LOG_GROUP_ARN,
        CloudWatchLogsRoleArn=CLOUDWATCH_LOGS_ROLE_ARN,
    )
    home.put_event_selectors(TrailName=TRAIL, EventSelectors=ALL_MANAGEMENT_EVENTS)
    if logging:
        home.start_logging(Name=TRAIL)
    if second_trail:
        s3.create_bucket(Bucket=SECOND_BUCKET)
        home.create_trail(Name=SECOND_TRAIL, S3BucketName=SECOND_BUCKET, IsMultiRegionTrail=True, EnableLogFileValidation=True)
        home.put_event_selectors(TrailName=SECOND_TRAIL, EventSelectors=ALL_MANAGEMENT_EVENTS)
        home.start_logging(Name=SECOND_TRAIL)
    other = moto.client("cloudtrail", OTHER_REGION)
    other.create_trail(Name=OTHER_REGION_TRAIL, S3BucketName=OTHER_REGION_BUCKET)
    other.put_event_selectors(TrailName=OTHER_REGION_TRAIL, EventSelectors=ALL_MANAGEMENT_EVENTS)
    other.start_logging(Name=OTHER_REGION_TRAIL)

    sns = moto.client("sns")
    topic_arn = sns.create_topic(Name=TOPIC_NAME)["TopicArn"]
    assert topic_arn == TOPIC_ARN, topic_arn
    sqs = moto.client("sqs")
    queue_url = sqs.create_queue(QueueName=QUEUE_NAME)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    health_arn = sns.create_topic(Name=HEALTH_TOPIC_NAME)["TopicArn"]
    assert health_arn == HEALTH_TOPIC_ARN, health_arn
    health_queue = sqs.create_queue(QueueName=HEALTH_QUEUE_NAME)["QueueUrl"]
    health_queue_arn = sqs.get_queue_attributes(QueueUrl=health_queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=health_arn, Protocol="sqs", Endpoint=health_queue_arn)
    return queue_url


def upload_function_code(moto: MotoEndpoint, bucket: str) -> dict[str, str]:
    """A bucket holding a placeholder function package, for stacks created on moto's
    CloudFormation (which stores the function and never runs it: the emulator runs the release
    binary). Returns the function's Code property."""
    s3 = moto.client("s3")
    s3.create_bucket(Bucket=bucket)
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("bootstrap", "not run here: the emulator runs the release binary")
    s3.put_object(Bucket=bucket, Key="bootstrap.zip", Body=package.getvalue())
    return {"S3Bucket": bucket, "S3Key": "bootstrap.zip"}


def health_inbox(moto: MotoServer) -> str:
    """The queue subscribed to the health topic by seed()."""
    return moto.client("sqs").get_queue_url(QueueName=HEALTH_QUEUE_NAME)["QueueUrl"]


def sqs_batch(messages: list[dict], queue_arn: str) -> dict:
    """The event an SQS event source mapping hands the function."""
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0", "SenderId": "x", "ApproximateFirstReceiveTimestamp": "0"},
        "messageAttributes": {}, "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn, "awsRegion": HOME_REGION} for m in messages]}


def hand_batch(function, sqs, queue_url: str, messages: list[dict]) -> dict:
    """Does what an SQS event source mapping does with one batch: invokes the function with it,
    then deletes every message it did not report as a batch item failure. The function's answer."""
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    answer = function.invoke(sqs_batch(messages, arn)).json()
    failed = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
    for message in messages:
        if message["MessageId"] not in failed:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return answer


def scheduled_event(time: str, *, report_all: bool = False) -> dict:
    """What an EventBridge schedule sends the function (the posture check's trigger)."""
    return {
        "version": "0",
        "id": "5d2c1b0a-9f8e-4d7c-8b6a-0000000000aa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": time,
        "region": HOME_REGION,
        "resources": [f"arn:aws:events:{HOME_REGION}:{ACCOUNT}:rule/{OWN_RULE}-posture"],
        "detail": {"reportAll": True} if report_all else {},
    }


# CloudTrail request parameters and the boto3 arguments they correspond to.
_TRAIL_PARAMETERS = {
    "s3BucketName": "S3BucketName",
    "s3KeyPrefix": "S3KeyPrefix",
    "snsTopicName": "SnsTopicName",
    "includeGlobalServiceEvents": "IncludeGlobalServiceEvents",
    "isMultiRegionTrail": "IsMultiRegionTrail",
    "enableLogFileValidation": "EnableLogFileValidation",
    "cloudWatchLogsLogGroupArn": "CloudWatchLogsLogGroupArn",
    "cloudWatchLogsRoleArn": "CloudWatchLogsRoleArn",
    "kmsKeyId": "KmsKeyId",
    "isOrganizationTrail": "IsOrganizationTrail",
}


def _boto_shape(value):
    """CloudTrail records request parameters in camelCase (`readWriteType`, `fieldSelectors`);
    boto3 wants the API's PascalCase (`ReadWriteType`, `FieldSelectors`). Keys only: values such
    as `AWS::S3::Object` stay as they are."""
    if isinstance(value, dict):
        return {key[:1].upper() + key[1:]: _boto_shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_boto_shape(item) for item in value]
    return value


def _event_selectors(params: dict) -> dict:
    """The boto3 arguments of a PutEventSelectors record: advanced selectors replace basic ones.
    (moto 5.2.5 keeps a trail's old advanced selectors when basic ones are put: replay onto a
    trail seeded with basic selectors, as seed() does.)"""
    if "advancedEventSelectors" in params:
        return {"AdvancedEventSelectors": _boto_shape(params["advancedEventSelectors"])}
    return {"EventSelectors": _boto_shape(params.get("eventSelectors") or [])}


def replay(moto: MotoServer, event: dict) -> str | None:
    """Makes the event's call on local AWS, so the trail's state is what it would be after the
    real call. Returns what was done, or None for calls that failed or are not trail changes
    (the delivery chain and CloudTrail Lake are not replayed)."""
    detail = event.get("detail") or {}
    if detail.get("errorCode") or detail.get("eventSource") != "cloudtrail.amazonaws.com":
        return None
    params = detail.get("requestParameters") or {}
    event_name = detail.get("eventName")
    name = params.get("trailName") if event_name == "PutEventSelectors" else params.get("name")
    if not isinstance(name, str):
        return None
    region = name.split(":")[3] if name.startswith("arn:") else detail.get("awsRegion", HOME_REGION)
    client = moto.client("cloudtrail", region)
    extra = {boto: params[key] for key, boto in _TRAIL_PARAMETERS.items() if key in params}
    calls = {
        "StopLogging": lambda: client.stop_logging(Name=name),
        "StartLogging": lambda: client.start_logging(Name=name),
        "DeleteTrail": lambda: client.delete_trail(Name=name),
        "UpdateTrail": lambda: client.update_trail(Name=name, **extra),
        "CreateTrail": lambda: client.create_trail(Name=name, **extra),
        "PutEventSelectors": lambda: client.put_event_selectors(TrailName=name, **_event_selectors(params)),
    }
    call = calls.get(event_name)
    if call is None:
        return None
    call()
    return f"{event_name} {name} in {region}"


@dataclass
class Delivered:
    """One SNS notification as the SQS subscriber received it."""

    subject: str | None
    attributes: dict[str, str]
    alert: dict


def drain(sqs, queue_url: str) -> list[str]:
    """The bodies of every message in the queue, deleted as they are read. Delivery to an SQS
    target or subscriber is synchronous in moto, and the call that caused it has returned
    before this is called, so no waiting is needed."""
    bodies: list[str] = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", []):
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def delivered(moto: MotoServer, queue_url: str) -> list[Delivered]:
    """Every SNS notification in the inbox."""
    found: list[Delivered] = []
    for body in drain(moto.client("sqs"), queue_url):
        envelope = json.loads(body)
        attributes = {k: v["Value"] for k, v in envelope.get("MessageAttributes", {}).items()}
        found.append(Delivered(envelope.get("Subject"), attributes, json.loads(envelope["Message"])))
    return found


def matched_event_ids(sqs, queue_url: str) -> set[str]:
    """The eventIDs of the CloudTrail events an EventBridge rule delivered to the queue."""
    return {json.loads(body)["detail"]["eventID"] for body in drain(sqs, queue_url)}


class ChatSubscriber(_Service):
    """An `https` subscription to a topic, as AWS Chatbot's is: moto POSTs each notification to
    a loopback listener here (moto delivers plain HTTP whatever the protocol), picking the
    message's `https` variant, the chat card. Publishing is synchronous in moto, so a card has
    arrived by the time the function has answered."""

    def __init__(self, moto: MotoServer, topic_arn: str = TOPIC_ARN) -> None:
        import http.server

        self._bodies: list[bytes] = []
        self._lock = threading.Lock()
        subscriber = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with subscriber._lock:
                    subscriber._bodies.append(body)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        endpoint = f"http://127.0.0.1:{self._server.server_address[1]}/chatbot"
        moto.client("sns").subscribe(TopicArn=topic_arn, Protocol="https", Endpoint=endpoint)

    def cards(self) -> list[dict]:
        """Every chat card received so far, oldest first."""
        with self._lock:
            bodies = list(self._bodies)
        return [json.loads(json.loads(body)["Message"]) for body in bodies]

    def output(self) -> str:
        return f"{len(self._bodies)} notifications"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def preview(binary: Path, event: Path, endpoint: str) -> dict:
    """`bootstrap --preview EVENT --with-trail-state --json` against local AWS: the alert the
    function would publish, with all three per-protocol variants."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        **FAKE_CREDENTIALS,
        "AWS_REGION": HOME_REGION,
        "AWS_ENDPOINT_URL": endpoint,
        "RUST_LOG": "error",
    }
    out = subprocess.run(
        [str(binary), "--preview", str(event), "--with-trail-state", "--json"],
        env=env, capture_output=True, text=True, timeout=60,
    )
    if out.returncode != 0:
        raise HarnessError(f"preview failed ({out.returncode}): {out.stderr}")
    return json.loads(out.stdout)


def same_alert(a: dict, b: dict) -> bool:
    """Two renderings of one event's alert are the same alert. moto reports the current time as
    a logging trail's latest delivery time, so two lookups a second apart differ there only."""

    def comparable(alert: dict) -> dict:
        state = alert.get("resourceState") or {}
        if state.get("type") != "trail" or not isinstance(state.get("status"), dict):
            return alert
        status = {k: v for k, v in state["status"].items() if k != "latestDeliveryTime"}
        return {**alert, "resourceState": {**state, "status": status}}

    return comparable(a) == comparable(b)


def load_event(path: Path | str) -> dict:
    return json.loads(Path(path).read_text())


def say(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


# A storm: many monitored calls from a few principals in two accounts.
# Non-CRITICAL samples of several severities, and CRITICAL ones (the trail is not stopped on
# moto, but a deleted or stopped trail is CRITICAL by the call alone).
STORM_ORDINARY = ["stop-logging-access-denied", "put-bucket-policy", "update-trail-s3-prefix", "put-event-selectors-benign",
                  "update-trail-benign", "create-trail", "put-insight-selectors-off", "put-bucket-lifecycle-90-days"]
STORM_CRITICAL = ["stop-logging", "delete-trail"]
STORM_PRINCIPALS = [f"arn:aws:iam::{ACCOUNT}:user/script-{n}" for n in range(4)]
STORM_OTHER_ACCOUNT = "444455556666"


def storm_events(count: int, seed: int = 17) -> list[dict]:
    """A storm for the burst tests and `make bench`: `count` events, principals and accounts
    mixed, one in 20 CRITICAL, each with its own id."""
    rng = random.Random(seed)
    samples = {name: load_event(EVENTS / f"{name}.json") for name in STORM_ORDINARY + STORM_CRITICAL}
    made = []
    for n in range(count):
        name = rng.choice(STORM_CRITICAL) if n % 20 == 7 else rng.choice(STORM_ORDINARY)
        event = copy.deepcopy(samples[name])
        detail = event["detail"]
        detail["eventID"] = str(uuid.UUID(int=rng.getrandbits(128)))
        principal = rng.choice(STORM_PRINCIPALS)
        if n % 5 == 0:
            # Another account's principal (its lookups are "not looked up": no read role here).
            principal = principal.replace(ACCOUNT, STORM_OTHER_ACCOUNT)
            event["account"] = detail["recipientAccountId"] = STORM_OTHER_ACCOUNT
        detail["userIdentity"] = {"type": "IAMUser", "arn": principal, "accountId": principal.split(":")[4],
                                  "principalId": "AIDA" + principal[-1] * 16, "userName": principal.rsplit("/", 1)[-1]}
        made.append(event)
    return made

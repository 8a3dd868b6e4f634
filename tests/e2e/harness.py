"""Local AWS and the real Lambda runtime, for `make invoke` and the end-to-end tests.

- MotoServer: moto's server on a free loopback port, reset between cases.
- RuntimeEmulator: the release `bootstrap` under the AWS Lambda Runtime Interface Emulator
  (the binary the aws-sam-cli wheel ships), with AWS_ENDPOINT_URL pointing at moto.
- seed_*: what a scenario needs in moto: the trails named in events/, the topic, and an SQS
  queue subscribed to the topic to read what was published.

Every process is started in its own process group, asked to die with its parent, and stopped
when its context ends, also on failure.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.config import Config as BotoConfig

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv"
EVENTS = ROOT / "events"
RELEASE_BINARY = ROOT / "target" / "release" / "bootstrap"

ACCOUNT = "111122223333"
HOME_REGION = "us-east-1"
OTHER_REGION = "eu-west-1"
TRAIL = "management-events"
OTHER_REGION_TRAIL = "eu-audit"
BUCKET = "cloudtrail-logs-111122223333"
OTHER_REGION_BUCKET = "eu-audit-logs-111122223333"
TOPIC_NAME = "trailwatch-alerts"
TOPIC_ARN = f"arn:aws:sns:{HOME_REGION}:{ACCOUNT}:{TOPIC_NAME}"
QUEUE_NAME = "trailwatch-alerts-inbox"

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
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


class MotoServer(_Service):
    """moto's server on a free loopback port, with MOTO_ACCOUNT_ID matching events/."""

    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        binary = tool("bin/moto_server", "run `make venv` to install moto[server] into .venv/")
        env = {**os.environ, **FAKE_CREDENTIALS, "MOTO_ACCOUNT_ID": ACCOUNT, "AWS_DEFAULT_REGION": HOME_REGION}
        self._process = _Process("moto_server", [str(binary), "-H", "127.0.0.1", "-p", str(self.port)], env)
        self._process.wait_for_line("Running on", timeout=60)

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def client(self, service: str, region: str = HOME_REGION):
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.endpoint,
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            config=BotoConfig(retries={"max_attempts": 1}),
        )


@dataclass
class Invocation:
    status: int
    body: str
    function_error: str | None

    def json(self):
        return json.loads(self.body)


class RuntimeEmulator(_Service):
    """The function as Lambda runs it: `bootstrap` under the Runtime Interface Emulator."""

    def __init__(self, binary: Path, endpoint: str, extra_env: dict[str, str] | None = None) -> None:
        if not binary.exists():
            raise HarnessError(f"{binary} not found: run `make build` (cargo build --release) first")
        self.port = free_port()
        runtime_api_port = free_port()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            **FAKE_CREDENTIALS,
            "AWS_REGION": HOME_REGION,
            "AWS_DEFAULT_REGION": HOME_REGION,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_LAMBDA_FUNCTION_NAME": "trailwatch",
            "AWS_LAMBDA_FUNCTION_TIMEOUT": "15",
            "ALERT_TOPIC_ARN": TOPIC_ARN,
            "RUST_LOG": "info",
            **(extra_env or {}),
        }
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
        self._process.wait_for_line("exec '", timeout=30)
        self._wait_until_listening(timeout=30)

    def _wait_until_listening(self, timeout: float) -> None:
        # The emulator logs before its HTTP listener is up; connecting is the only signal.
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline or self._process.proc.poll() is not None:
                    raise HarnessError(f"the emulator is not listening on {self.port}:\n{self.output()}")
                time.sleep(0.02)

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

    def init_count(self) -> int:
        """How many times the runtime was (re)started: a crash would start it again."""
        return self._process.count("INIT START")


def seed(moto: MotoServer, *, logging: bool = True) -> str:
    """The scenario's world: the trails named in events/ and the alert topic with an SQS inbox.

    Returns the inbox queue URL.
    """
    s3 = moto.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.create_bucket(Bucket=OTHER_REGION_BUCKET, CreateBucketConfiguration={"LocationConstraint": OTHER_REGION})

    home = moto.client("cloudtrail")
    home.create_trail(Name=TRAIL, S3BucketName=BUCKET, IsMultiRegionTrail=True, EnableLogFileValidation=True)
    if logging:
        home.start_logging(Name=TRAIL)
    other = moto.client("cloudtrail", OTHER_REGION)
    other.create_trail(Name=OTHER_REGION_TRAIL, S3BucketName=OTHER_REGION_BUCKET)
    other.start_logging(Name=OTHER_REGION_TRAIL)

    sns = moto.client("sns")
    topic_arn = sns.create_topic(Name=TOPIC_NAME)["TopicArn"]
    assert topic_arn == TOPIC_ARN, topic_arn
    sqs = moto.client("sqs")
    queue_url = sqs.create_queue(QueueName=QUEUE_NAME)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return queue_url


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


def replay(moto: MotoServer, event: dict) -> str | None:
    """Makes the event's call on local AWS, so the trail's state is what it would be after the
    real call. Returns what was done, or None for calls that failed or are not trail changes."""
    detail = event.get("detail") or {}
    if detail.get("errorCode") or detail.get("eventSource") != "cloudtrail.amazonaws.com":
        return None
    params = detail.get("requestParameters") or {}
    name = params.get("name")
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
    }
    call = calls.get(detail.get("eventName"))
    if call is None:
        return None
    call()
    return f"{detail['eventName']} {name} in {region}"


@dataclass
class Delivered:
    """One SNS notification as the SQS subscriber received it."""

    subject: str | None
    attributes: dict[str, str]
    alert: dict


def delivered(moto: MotoServer, queue_url: str) -> list[Delivered]:
    """Everything in the inbox. Publishing to an SQS subscriber is synchronous in moto, and the
    function has returned before this is called, so no waiting is needed."""
    sqs = moto.client("sqs")
    found: list[Delivered] = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            return found
        for message in messages:
            envelope = json.loads(message["Body"])
            attributes = {k: v["Value"] for k, v in envelope.get("MessageAttributes", {}).items()}
            found.append(Delivered(envelope.get("Subject"), attributes, json.loads(envelope["Message"])))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


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
        status = {k: v for k, v in alert["trailStatus"].items() if k != "latestDeliveryTime"}
        return {**alert, "trailStatus": status}

    return comparable(a) == comparable(b)


def load_event(path: Path | str) -> dict:
    return json.loads(Path(path).read_text())


def say(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)

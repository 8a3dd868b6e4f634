"""`make bench`, second half: the Rust function and a Python reference side by side.

Both run as Lambda runs them, each under the same Lambda Runtime Interface Emulator (RIE, from
the aws-sam-cli wheel in .venv/) against the same local moto server, seeded the same way, with
the same event (events/stop-logging.json): the release `bootstrap`, and bench/reference/handler.py
under awslambdaric from .venv-bench/. Measured, alternating the two:

- cold start: the first invocation (RIE starts the function process when it arrives) to its
  answer, a fresh RIE and function process per sample; RIE's own start-up, which stands in for
  Lambda's service, is measured apart and shown with it;
- warm latency: p50 and p99 as the client sees it, in alternating blocks; moto's own time in each
  invocation (bench/timed_moto.py records every request's time inside moto), and the rest, the
  handler's own share;
- peak RSS (VmHWM) of the function process after the warm run;
- binary and deployment-zip sizes;
- the posture scenario (Rust only): POSTURE_REGIONS with 1 region, then 17, 20 trails;
- the burst (Rust only): a storm of 1,000 events from 8 principals through one instance, every
  alert published on its own and then with bursts folded into digests: events per second the
  instance sustains, and publishes per event (a digest counted as one publish).

Every alert is checked to have arrived at an SQS subscriber of the topic, so a broken function
cannot be measured. Prints the table and writes bench/results.md and bench/ratios.svg.
Run with the project's .venv python (it has moto): `make bench`, or .venv/bin/python bench/run.py.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import io
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
import harness  # noqa: E402  (the end-to-end tests' moto + RIE helpers)

BENCH = ROOT / "bench"
REFERENCE = BENCH / "reference"
BENCH_VENV = ROOT / ".venv-bench"
BENCH_PYTHON = BENCH_VENV / "bin" / "python"
EVENT_FILE = harness.EVENTS / "stop-logging.json"
ACCOUNT = harness.ACCOUNT
REGION = harness.HOME_REGION
MIB = 1024 * 1024

# The 17 regions every account has enabled by default: the posture scenario's POSTURE_REGIONS.
REGIONS = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1",
    "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
]
POSTURE_MULTI_REGION_TRAILS = 3  # in us-east-1; with one single-region trail per region: 20 trails
POSTURE_OUTCOMES = {"published", "healthy"}

# The targets, as Rust/Python ratios (lower is better).
COLD_TARGET = 1 / 15
WARM_TARGET = 0.5
RSS_TARGET = 0.25
RSS_LIMIT = 16 * MIB
ZIP_LIMIT = 4 * MIB
POSTURE_TARGET = 3.0


class BenchError(RuntimeError):
    """Something broke: the benchmark stops rather than measure it."""


def say(message: str) -> None:
    harness.say(message)


# ---------------------------------------------------------------------------------------------
# local AWS with per-request timing


class TimedMoto(harness.MotoServer):
    """harness.MotoServer, run through bench/timed_moto.py: moto's server that also records how
    long each request spent inside moto."""

    def __init__(self) -> None:  # noqa: D107 - same fields as harness.MotoServer
        self.port = harness.free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._clients = {}
        env = {**os.environ, **harness.FAKE_CREDENTIALS, "MOTO_ACCOUNT_ID": ACCOUNT, "AWS_DEFAULT_REGION": REGION}
        self._process = harness._Process(
            "moto_server (bench/timed_moto.py)",
            [sys.executable, str(BENCH / "timed_moto.py"), "-H", "127.0.0.1", "-p", str(self.port)],
            env,
        )
        self._process.wait_for_line("Running on", timeout=60)

    def timings(self) -> list[tuple[float, float, str]]:
        """Every request since the last call: (start, end, action), CLOCK_MONOTONIC seconds; end
        is None for a request moto had not finished writing when asked."""
        with urllib.request.urlopen(f"{self.endpoint}/__bench/timings", timeout=10) as response:
            return [tuple(record) for record in json.loads(response.read())]

    def fresh(self) -> None:
        self.reset()
        self.timings()


def busy(intervals: list[tuple[float, float]]) -> float:
    """How long at least one of the intervals was running (their union's length)."""
    total, end = 0.0, float("-inf")
    for start, stop in sorted(intervals):
        if stop <= end:
            continue
        total += stop - max(start, end)
        end = stop
    return total


def during(records: list[tuple[float, float, str]], start: float, end: float) -> list[tuple[float, float, str]]:
    """The requests that began within [start, end], cut off at end: moto's server thread may note
    a request's end only after the client has already been answered."""
    return [(r[0], end if r[1] is None else min(r[1], end), r[2]) for r in records if start <= r[0] <= end]


def inbox(moto: harness.MotoServer, name: str) -> str:
    """The alert topic with an SQS subscriber, as harness.seed makes it (for worlds seeded here)."""
    topic_arn = moto.client("sns").create_topic(Name=harness.TOPIC_NAME)["TopicArn"]
    sqs = moto.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    moto.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return url


def event_world(moto: TimedMoto, event: dict) -> str:
    """harness.seed's world (trail management-events logging with S3 bucket and event selectors,
    the topic with an SQS inbox), then the event's own call replayed: the trail is stopped, as it
    is when a StopLogging event arrives."""
    moto.fresh()
    queue = harness.seed(moto)
    if not harness.replay(moto, event):
        raise BenchError(f"could not replay {EVENT_FILE.name} on moto")
    moto.timings()
    return queue


def posture_world(moto: TimedMoto) -> str:
    """20 trails over 17 regions: 3 multi-region trails in us-east-1 (shadow trails everywhere
    else) and one single-region trail per region; each with a bucket, all management events,
    logging. Returns the inbox queue URL."""
    moto.fresh()
    s3 = moto.client("s3")
    names = [(REGION, f"org-audit-{n}", True) for n in range(1, POSTURE_MULTI_REGION_TRAILS + 1)]
    names += [(region, f"local-{region}", False) for region in REGIONS]
    for region, name, multi in names:
        bucket = f"trailwatch-bench-{name}-{ACCOUNT}"
        s3.create_bucket(Bucket=bucket)
        trails = moto.client("cloudtrail", region)
        trails.create_trail(Name=name, S3BucketName=bucket, IsMultiRegionTrail=multi, EnableLogFileValidation=True)
        trails.put_event_selectors(TrailName=name, EventSelectors=harness.ALL_MANAGEMENT_EVENTS)
        trails.start_logging(Name=name)
    seen = {t["Name"] for t in moto.client("cloudtrail").describe_trails(includeShadowTrails=True)["trailList"]}
    if len(names) != 20 or len(seen) != POSTURE_MULTI_REGION_TRAILS + 1:
        raise BenchError(f"posture world: {len(names)} trails seeded, {sorted(seen)} seen from {REGION}")
    queue = inbox(moto, "trailwatch-bench-posture-inbox")
    moto.timings()
    return queue


def expect_delivered(moto: TimedMoto, queue: str, count: int, who: str, severity: str | None = "CRITICAL") -> None:
    """The alerts arrived at the topic's SQS subscriber, with the message attributes."""
    found = harness.delivered(moto, queue)
    if len(found) != count:
        raise BenchError(f"{who}: {count} alerts published, {len(found)} arrived at the SQS subscriber")
    for message in found:
        attributes = message.attributes
        missing = {"severity", "eventName", "account"} - set(attributes)
        if severity and (missing or attributes["severity"] != severity or attributes["account"] != ACCOUNT):
            raise BenchError(f"{who}: alert arrived with message attributes {attributes} (expected severity "
                             f"{severity}, eventName and account {ACCOUNT})")


# ---------------------------------------------------------------------------------------------
# the functions


@dataclass
class Implementation:
    name: str
    argv: list[str]
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)


def implementations(binary: Path, lookups: str) -> tuple[Implementation, Implementation]:
    if not binary.exists():
        raise BenchError(f"{binary} not found: run `make build` first")
    if not BENCH_PYTHON.exists():
        raise BenchError(f"{BENCH_PYTHON} not found: run `make bench` (it installs requirements-bench.txt "
                         "into .venv-bench/)")
    rust = Implementation("Rust", [str(binary)], binary.parent)
    python = Implementation(
        "Python",
        [str(BENCH_PYTHON), "-m", "awslambdaric", "handler.handler"],
        REFERENCE,
        # Lambda's task root is read-only: handler.py is compiled at every cold start there too.
        {"PYTHONDONTWRITEBYTECODE": "1", "REFERENCE_LOOKUPS": lookups},
    )
    return rust, python


class Function(harness._Service):
    """One implementation under a fresh RIE (harness.RuntimeEmulator, with any command). RIE
    starts the function process at the first invocation."""

    REPORT = re.compile(r"^REPORT RequestId: \S+\s+(?:Init Duration: [\d.]+ ms\s+)?Duration: ([\d.]+) ms")

    def __init__(self, impl: Implementation, endpoint: str, extra_env: dict[str, str] | None = None) -> None:
        self.impl = impl
        self.port = harness.free_port()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            **harness.FAKE_CREDENTIALS,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_LAMBDA_FUNCTION_NAME": "trailwatch",
            "AWS_LAMBDA_FUNCTION_TIMEOUT": "15",
            "ALERT_TOPIC_ARN": harness.TOPIC_ARN,
            "RUST_LOG": "info",
            **impl.env,
            **(extra_env or {}),
        }
        argv = [
            str(harness.emulator_binary()),
            "--runtime-interface-emulator-address", f"127.0.0.1:{self.port}",
            "--runtime-api-address", f"127.0.0.1:{harness.free_port()}",
            *impl.argv,
        ]
        self.spawned = time.monotonic()
        self._process = harness._Process(f"{impl.name} on aws-lambda-rie", argv, env, cwd=impl.cwd)
        try:
            harness.wait_until_listening(self, self.port, timeout=30, poll=0.002)
        except harness.HarnessError as error:
            raise BenchError(str(error)) from error
        self.listening = time.monotonic()

    def invoke(self, payload: bytes) -> tuple[harness.Invocation, float, float]:
        """The answer, and when the request was sent and answered (time.monotonic())."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/2015-03-31/functions/function/invocations",
            data=payload, method="POST", headers={"Content-Type": "application/json"},
        )
        start = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                body = response.read().decode()
                end = time.monotonic()
                return harness.Invocation(response.status, body, response.headers.get("X-Amz-Function-Error")), start, end
        except urllib.error.HTTPError as error:
            body = error.read().decode()
            return harness.Invocation(error.code, body, error.headers.get("X-Amz-Function-Error")), start, time.monotonic()

    def answer(self, result: harness.Invocation, allowed: set[str]) -> dict:
        """The function's JSON answer; a BenchError unless it succeeded with an allowed status."""
        try:
            body = result.json()
        except json.JSONDecodeError:
            body = None
        if result.status != 200 or result.function_error or not isinstance(body, dict) or body.get("status") not in allowed:
            raise BenchError(f"{self.impl.name}: the invocation failed (HTTP {result.status}, "
                             f"function error {result.function_error}): {result.body[:500]}\n--- log ---\n{self.output()}")
        return body

    def function_pid(self) -> int:
        """The RIE's child: `bootstrap` or `python`."""
        children = set()
        for task in Path(f"/proc/{self._process.proc.pid}/task").iterdir():
            with contextlib.suppress(OSError):
                children.update(int(pid) for pid in (task / "children").read_text().split())
        if len(children) != 1:
            raise BenchError(f"{self.impl.name}: expected one function process under RIE, found {sorted(children)}")
        return children.pop()

    def memory(self) -> dict:
        pid = self.function_pid()
        status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
        return {
            "pid": pid,
            "comm": status["Name"].strip(),
            "hwm": int(status["VmHWM"].split()[0]) * 1024,
            "rss": int(status["VmRSS"].split()[0]) * 1024,
        }

    def durations(self, count: int) -> list[float]:
        """RIE's REPORT Duration of every invocation so far (ms), once `count` are logged."""
        self._process.wait_for_line("REPORT RequestId", timeout=10)
        deadline = time.monotonic() + 10
        while True:
            with self._process._cond:
                found = [float(m.group(1)) for line in self._process.lines if (m := self.REPORT.match(line))]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def init_duration(self) -> float | None:
        self._process.wait_for_line("INIT REPORT", timeout=10)
        with self._process._cond:
            for line in self._process.lines:
                if m := re.search(r"INIT REPORT\(durationMs: ([\d.]+)\)", line):
                    return float(m.group(1))
        return None


# ---------------------------------------------------------------------------------------------
# statistics


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def quartiles(values: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[2]


@dataclass
class Figures:
    cold: list[float] = field(default_factory=list)
    cold_from_spawn: list[float] = field(default_factory=list)
    rie_up: list[float] = field(default_factory=list)
    cold_moto: list[float] = field(default_factory=list)
    init: list[float] = field(default_factory=list)
    latency: list[float] = field(default_factory=list)
    in_moto: list[float] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)
    actions: dict[str, int] = field(default_factory=dict)
    durations: list[float] = field(default_factory=list)
    memory: dict = field(default_factory=dict)

    @property
    def own(self) -> list[float]:
        return [latency - moto for latency, moto in zip(self.latency, self.in_moto)]


# ---------------------------------------------------------------------------------------------
# phases


def cold_starts(moto: TimedMoto, impls, payload: bytes, event: dict, samples: int, figures) -> None:
    queue = event_world(moto, event)
    for round_ in range(samples):
        order = impls if round_ % 2 == 0 else impls[::-1]  # ABBA: neither always goes first
        for impl in order:
            with Function(impl, moto.endpoint) as function:
                # RIE starts the function's process when this first invocation arrives: from here
                # to the answer is the function's cold start, as Lambda's Init Duration plus
                # Duration count it. RIE's own start-up stands in for Lambda's service, which is
                # up before any function; it is measured, and shown, apart.
                result, sent, answered = function.invoke(payload)
                function.answer(result, {"published"})
                mine = figures[impl.name]
                mine.cold.append(answered - sent)
                mine.cold_from_spawn.append(answered - function.spawned)
                mine.rie_up.append(function.listening - function.spawned)
                mine.cold_moto.append(busy([(r[0], r[1]) for r in during(moto.timings(), sent, answered)]))
                init = function.init_duration()
                if init is not None:
                    figures[impl.name].init.append(init / 1000)
            expect_delivered(moto, queue, 1, f"{impl.name} cold start")
        moto.timings()
        say(f"cold starts: {round_ + 1}/{samples} each "
            f"(last: Rust {figures['Rust'].cold[-1] * 1000:.0f} ms, Python {figures['Python'].cold[-1] * 1000:.0f} ms)")


def warm(moto: TimedMoto, impls, payload: bytes, event: dict, count: int, block: int, figures) -> None:
    queue = event_world(moto, event)
    warmup = 5
    with contextlib.ExitStack() as stack:
        functions = {impl.name: stack.enter_context(Function(impl, moto.endpoint)) for impl in impls}
        for name, function in functions.items():
            for _ in range(warmup):
                function.answer(function.invoke(payload)[0], {"published"})
            expect_delivered(moto, queue, warmup, f"{name} warm-up")
        moto.timings()
        blocks = -(-count // block)
        for index in range(blocks):
            order = impls if index % 2 == 0 else impls[::-1]
            for impl in order:
                function, mine = functions[impl.name], figures[impl.name]
                windows = []
                for _ in range(min(block, count - index * block)):
                    result, start, end = function.invoke(payload)
                    function.answer(result, {"published"})
                    windows.append((start, end))
                records = moto.timings()
                for start, end in windows:
                    inside = during(records, start, end)
                    mine.latency.append(end - start)
                    mine.in_moto.append(busy([(r[0], r[1]) for r in inside]))
                    mine.calls.append(len(inside))
                    for r in inside:
                        mine.actions[r[2]] = mine.actions.get(r[2], 0) + 1
                expect_delivered(moto, queue, len(windows), f"{impl.name} warm block {index + 1}")
                moto.timings()
            say(f"warm: block {index + 1}/{blocks} "
                f"({len(figures['Rust'].latency)} Rust, {len(figures['Python'].latency)} Python invocations; "
                f"p50 so far Rust {percentile(figures['Rust'].latency, 50) * 1000:.1f} ms, "
                f"Python {percentile(figures['Python'].latency, 50) * 1000:.1f} ms)")
        for name, function in functions.items():
            figures[name].memory = function.memory()
            figures[name].durations = function.durations(warmup + count)[warmup:]
            if function._process.count("INIT START") != 1:
                raise BenchError(f"{name}: the runtime was restarted during the warm run:\n{function.output()}")


def plain_boto3(moto: TimedMoto, event: dict, samples: int = 50) -> dict:
    """The same four calls from a plain boto3 client in this process (no Lambda around them):
    what the calls cost a Python caller, and what moto's share of that is."""
    queue = event_world(moto, event)
    trail = event["detail"]["requestParameters"]["name"]
    cloudtrail, sns = moto.client("cloudtrail"), moto.client("sns")
    elapsed, inside = [], []
    for _ in range(samples):
        start = time.monotonic()
        cloudtrail.get_trail_status(Name=trail)
        cloudtrail.describe_trails(trailNameList=[trail], includeShadowTrails=True)
        cloudtrail.get_event_selectors(TrailName=trail)
        sns.publish(TopicArn=harness.TOPIC_ARN, Message=json.dumps({"default": "{}"}), MessageStructure="json")
        end = time.monotonic()
        elapsed.append(end - start)
        inside.append(busy([(r[0], r[1]) for r in during(moto.timings(), start, end)]))
    harness.delivered(moto, queue)
    return {"elapsed": percentile(elapsed, 50), "moto": percentile(inside, 50)}


def scheduled_event() -> bytes:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps({
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
        "account": ACCOUNT, "time": now, "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/trailwatch-bench-posture"], "detail": {},
    }).encode()


def posture(moto: TimedMoto, rust: Implementation, samples: int) -> dict:
    """The scheduled posture check, POSTURE_REGIONS with one region and then with all 17."""
    queue = posture_world(moto)
    found = {}
    for label, regions in (("1 region", REGIONS[:1]), (f"{len(REGIONS)} regions", REGIONS)):
        with Function(rust, moto.endpoint, {"POSTURE_REGIONS": ",".join(regions)}) as function:
            result, _, _ = function.invoke(scheduled_event())
            try:
                body = result.json()
            except json.JSONDecodeError:
                body = None
            if (result.status == 200 and not result.function_error and isinstance(body, dict)
                    and body.get("status") not in POSTURE_OUTCOMES):
                # A successful answer that is no posture result: a binary without the feature.
                say(f"posture: not supported by this binary (it answered {result.body[:200]})")
                return {"supported": False, "answer": result.body}
            first = function.answer(result, POSTURE_OUTCOMES)
            harness.delivered(moto, queue)
            moto.timings()
            latencies, calls, in_moto, statuses = [], [], [], {}
            for _ in range(samples):
                result, start, end = function.invoke(scheduled_event())
                status = function.answer(result, POSTURE_OUTCOMES)["status"]
                statuses[status] = statuses.get(status, 0) + 1
                latencies.append(end - start)
                inside = during(moto.timings(), start, end)
                calls.append(len(inside))
                in_moto.append(busy([(r[0], r[1]) for r in inside]))
            published = statuses.get("published", 0)
            expect_delivered(moto, queue, published, f"posture ({label})", severity=None)
            found[label] = {"p50": percentile(latencies, 50), "p99": percentile(latencies, 99),
                            "calls": statistics.median(calls), "moto": percentile(in_moto, 50),
                            "own": percentile([l - m for l, m in zip(latencies, in_moto)], 50), "statuses": statuses, "first": first.get("status")}
            say(f"posture: {label}: p50 {found[label]['p50'] * 1000:.1f} ms, {found[label]['calls']:.0f} AWS calls, {statuses}")
    return {"supported": True, **found}


BURST_OUTCOMES = {"published", "folded"}


def burst(moto: TimedMoto, rust: Implementation, count: int) -> dict:
    """The storm through one instance, without folding and then with it (threshold 10 in a
    300-second window, the template's defaults); the ledger table is on in both."""
    found = {}
    for label, threshold in (("one alert per event", "0"), ("bursts folded into digests", "10")):
        moto.reset()
        queue = harness.seed(moto)
        moto.client("dynamodb").create_table(
            TableName="trailwatch-bench-events", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "eventId", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "eventId", "KeyType": "HASH"}])
        digests = moto.client("sqs").create_queue(QueueName="trailwatch-bench-digests")["QueueUrl"]
        env = {"DEDUP_TABLE": "trailwatch-bench-events", "DIGEST_QUEUE_URL": digests, "BURST_THRESHOLD": threshold,
               "BURST_WINDOW_SECONDS": "300"}
        storm = [json.dumps(event).encode() for event in harness.storm_events(count)]
        with Function(rust, moto.endpoint, env) as function:
            # The cold start is not part of the storm.
            function.answer(function.invoke(json.dumps(harness.storm_events(1, seed=1)[0]).encode())[0], BURST_OUTCOMES)
            harness.delivered(moto, queue)
            statuses: dict[str, int] = {}
            started = time.monotonic()
            for payload in storm:
                status = function.answer(function.invoke(payload)[0], BURST_OUTCOMES)["status"]
                statuses[status] = statuses.get(status, 0) + 1
            elapsed = time.monotonic() - started
        attributes = moto.client("sqs").get_queue_attributes(
            QueueUrl=digests, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"])["Attributes"]
        due = sum(int(v) for v in attributes.values())
        published = statuses.get("published", 0)
        expect_delivered(moto, queue, published, f"burst ({label})", severity=None)
        found[label] = {"rate": count / elapsed, "published": published, "digests": due,
                        "per_event": (published + due) / count, "statuses": statuses}
        say(f"burst: {label}: {count / elapsed:.0f} events/s, {published} alerts + {due} digests due, {statuses}")
    return found


# ---------------------------------------------------------------------------------------------
# sizes


def zipped(files: list[tuple[Path, str]]) -> int:
    """The size of a deflated zip of these files, like a Lambda deployment package."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, name in files:
            archive.write(path, name)
    return len(buffer.getvalue())


def sizes(binary: Path) -> dict:
    site = next((BENCH_VENV / "lib").glob("python3*/site-packages"))
    # What `pip install boto3 -t package/` puts beside handler.py (no bytecode; awslambdaric is
    # the runtime's own): boto3 and everything it needs.
    vendored = [REFERENCE / "handler.py"]
    for top in ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py"):
        path = site / top
        vendored += [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    vendored += [p for p in site.glob("*.dist-info/*") if p.is_file() and re.match(
        r"(boto3|botocore|s3transfer|jmespath|python_dateutil|urllib3|six)-", p.parent.name)]
    return {
        "binary": binary.stat().st_size,
        "binary_zip": zipped([(binary, "bootstrap")]),
        "handler": (REFERENCE / "handler.py").stat().st_size,
        "handler_zip": zipped([(REFERENCE / "handler.py", "handler.py")]),
        "vendored": sum(p.stat().st_size for p in vendored),
        "vendored_zip": zipped([(p, str(p.relative_to(site)) if p.is_relative_to(site) else p.name) for p in vendored]),
    }


# ---------------------------------------------------------------------------------------------
# report


def machine(binary: Path, original: Path) -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")

    def version(python: Path, package: str) -> str:
        out = subprocess.run([str(python), "-c", f"import importlib.metadata as m; print(m.version({package!r}))"],
                             capture_output=True, text=True)
        return out.stdout.strip() or "?"

    git = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "moto": version(Path(sys.executable), "moto"),
        "sam": version(Path(sys.executable), "aws-sam-cli"),
        "boto3": version(BENCH_PYTHON, "boto3"),
        "awslambdaric": version(BENCH_PYTHON, "awslambdaric"),
        "binary_sha256": hashlib.sha256(binary.read_bytes()).hexdigest()[:12],
        "binary_built": datetime.datetime.fromtimestamp(binary.stat().st_mtime, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "git": git.stdout.strip() or "?",
        "binary_path": str(original.relative_to(ROOT) if original.is_relative_to(ROOT) else original),
    }


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"


def mib(size: float) -> str:
    return f"{size / MIB:.2f} MiB" if size >= 100 * 1024 else f"{size / 1024:.1f} KiB"


@dataclass
class Row:
    metric: str
    rust: str
    python: str
    ratio: float | None
    target: str = ""
    met: bool | None = None
    chart: str | None = None  # label in the chart, when charted
    chart_target: float | None = None
    chart_target_label: str | None = None

    def cells(self) -> list[str]:
        ratio = "" if self.ratio is None else f"{self.ratio:.3f}" + (f" ({1 / self.ratio:.1f}× less)" if self.ratio < 0.9 else "")
        met = "" if self.met is None else ("yes" if self.met else "**no**")
        return [self.metric, self.rust, self.python, ratio, self.target, met]


def rows_for(figures: dict, size: dict, boto: dict, posture_found: dict, burst_found: dict) -> tuple[list[Row], list[Row]]:
    rust, python = figures["Rust"], figures["Python"]
    rows = []

    def spread(values):
        lo, hi = quartiles(values)
        return f"{ms(statistics.median(values))} (IQR {ms(lo)}–{ms(hi)}; min–max {ms(min(values))}–{ms(max(values))})"

    cold = statistics.median(rust.cold) / statistics.median(python.cold)
    rows.append(Row(f"cold start, median of {len(rust.cold)} (first invocation, which starts the function process → its answer)",
                    spread(rust.cold), spread(python.cold),
                    cold, "≥ 15× faster (≤ 0.067)", cold <= COLD_TARGET, "cold start", COLD_TARGET, "≥ 15× faster"))
    from_spawn = statistics.median(rust.cold_from_spawn) / statistics.median(python.cold_from_spawn)
    rows.append(Row("… counted from spawning RIE instead (adds RIE's own start-up), median",
                    ms(statistics.median(rust.cold_from_spawn)), ms(statistics.median(python.cold_from_spawn)), from_spawn))
    rows.append(Row("… RIE's own start-up (spawn → listening), median", ms(statistics.median(rust.rie_up)),
                    ms(statistics.median(python.rie_up)), statistics.median(rust.rie_up) / statistics.median(python.rie_up)))
    rows.append(Row("… time inside moto during the first invocation, median", ms(statistics.median(rust.cold_moto)),
                    ms(statistics.median(python.cold_moto)), statistics.median(rust.cold_moto) / statistics.median(python.cold_moto)))
    less = [c - m for c, m in zip(rust.cold, rust.cold_moto)]
    pless = [c - m for c, m in zip(python.cold, python.cold_moto)]
    cold_own = statistics.median(less) / statistics.median(pless)
    rows.append(Row("cold start less moto time, median", ms(statistics.median(less)),
                    ms(statistics.median(pless)), cold_own, "(≥ 15× faster)", cold_own <= COLD_TARGET,
                    "cold start, own share", COLD_TARGET, "≥ 15× faster"))
    if rust.init and python.init:
        rows.append(Row("… of which RIE's INIT REPORT (runtime + init code)", ms(statistics.median(rust.init)),
                        ms(statistics.median(python.init)), statistics.median(rust.init) / statistics.median(python.init)))
    p50 = percentile(rust.latency, 50) / percentile(python.latency, 50)
    rows.append(Row(f"warm latency p50 ({len(rust.latency)} invocations)", ms(percentile(rust.latency, 50)),
                    ms(percentile(python.latency, 50)), p50, "≤ 0.5", p50 <= WARM_TARGET, "warm p50", WARM_TARGET))
    p99 = percentile(rust.latency, 99) / percentile(python.latency, 99)
    rows.append(Row("warm latency p99", ms(percentile(rust.latency, 99)), ms(percentile(python.latency, 99)), p99,
                    chart="warm p99"))
    rows.append(Row("… RIE's REPORT Duration p50", ms(percentile(rust.durations, 50) / 1000),
                    ms(percentile(python.durations, 50) / 1000),
                    percentile(rust.durations, 50) / percentile(python.durations, 50)))
    rows.append(Row("… time inside moto p50 (union of its requests)", ms(percentile(rust.in_moto, 50)),
                    ms(percentile(python.in_moto, 50)), percentile(rust.in_moto, 50) / percentile(python.in_moto, 50)))
    own = percentile(rust.own, 50) / percentile(python.own, 50)
    rows.append(Row("handler's own share p50 (latency − time inside moto)", ms(percentile(rust.own, 50)),
                    ms(percentile(python.own, 50)), own, "(≤ 0.5)", own <= WARM_TARGET, "warm p50, own share", WARM_TARGET))
    rows.append(Row("handler's own share p99", ms(percentile(rust.own, 99)), ms(percentile(python.own, 99)),
                    percentile(rust.own, 99) / percentile(python.own, 99)))

    def mix(f):
        n = len(f.calls)
        return f"{statistics.median(f.calls):.0f} (" + ", ".join(f"{a} {c / n:g}" for a, c in sorted(f.actions.items())) + ")"

    rows.append(Row("AWS calls per invocation (median; per action)", mix(rust), mix(python), None))
    rss = rust.memory["hwm"] / python.memory["hwm"]
    rows.append(Row(f"peak RSS (VmHWM of {rust.memory['comm']} / {python.memory['comm']}, after the warm run)",
                    mib(rust.memory["hwm"]), mib(python.memory["hwm"]), rss, "≤ 0.25 and < 16 MiB",
                    rss <= RSS_TARGET and rust.memory["hwm"] < RSS_LIMIT, "peak RSS", min(RSS_TARGET, RSS_LIMIT / python.memory["hwm"]),
                    "≤ 0.25 and < 16 MiB"))
    rows.append(Row("deployment size unzipped (bootstrap / handler.py + vendored boto3)", mib(size["binary"]),
                    f"{mib(size['handler'])} / {mib(size['vendored'])}", size["binary"] / size["vendored"]))
    zip_ratio = size["binary_zip"] / size["vendored_zip"]
    rows.append(Row("deployment zip (deflated): bootstrap / handler.py alone (boto3 from the runtime) / with boto3 vendored",
                    mib(size["binary_zip"]), f"{mib(size['handler_zip'])} / {mib(size['vendored_zip'])}", zip_ratio,
                    "Rust zip ≤ 4 MiB", size["binary_zip"] <= ZIP_LIMIT, "zip (vs vendored boto3)", ZIP_LIMIT / size["vendored_zip"], "Rust zip ≤ 4 MiB"))

    other = [Row("the same 4 calls from a plain boto3 client in the bench process, p50", "",
                 f"{ms(boto['elapsed'])} (inside moto {ms(boto['moto'])}; boto3's own {ms(boto['elapsed'] - boto['moto'])})", None)]
    if not posture_found.get("supported"):
        other.append(Row("posture", "not supported by this binary", "(Rust only)", None, "≤ 3×", None))
    else:
        one, many = posture_found["1 region"], posture_found[f"{len(REGIONS)} regions"]
        ratio = many["p50"] / one["p50"]
        for label, f in (("1 region", one), (f"{len(REGIONS)} regions", many)):
            outcomes = ", ".join(f"{n} {s}" for s, n in sorted(f["statuses"].items()))
            other.append(Row(f"posture, POSTURE_REGIONS {label} (20 trails): p50 / p99; inside moto p50; own share p50; "
                             "AWS calls; answers",
                             f"{ms(f['p50'])} / {ms(f['p99'])}; {ms(f['moto'])}; {ms(f['own'])}; {f['calls']:.0f} calls; {outcomes}",
                             "(Rust only)", None))
        other.append(Row(f"posture p50, {len(REGIONS)} regions / 1 region", f"{ratio:.2f}×", "(Rust only)", ratio,
                         "≤ 3×", ratio <= POSTURE_TARGET, f"posture {len(REGIONS)}/1 regions (Rust)", POSTURE_TARGET))
        own = many["own"] / one["own"]
        other.append(Row(f"posture own share p50 (latency − time inside moto), {len(REGIONS)} regions / 1 region",
                         f"{own:.2f}×", "(Rust only)", own, "(≤ 3×)", own <= POSTURE_TARGET,
                         f"posture {len(REGIONS)}/1, own share", POSTURE_TARGET))
    for label, f in burst_found.items():
        other.append(Row(f"burst, 1,000 events from 8 principals, {label}: events/s one instance sustains; "
                         "publishes per event (alerts + digests due)",
                         f"{f['rate']:.0f}/s; {f['per_event']:.3f} ({f['published']} + {f['digests']})", "(Rust only)", None))
    return rows, other


def table(rows: list[Row]) -> str:
    head = ["metric", "Rust", "Python", "Rust/Python", "target", "met"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * len(head)) + "|"]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines)


def svg(rows: list[Row]) -> str:
    """Horizontal bars of the ratios on a log scale, each with its target line."""
    charted = [row for row in rows if row.chart and row.ratio]
    lo, hi = 0.005, 10.0
    left, width, bar, gap, top = 230, 420, 22, 16, 48
    height = top + len(charted) * (bar + gap) + 40

    def x(value: float) -> float:
        import math

        value = min(max(value, lo), hi)
        return left + width * (math.log10(value) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 190}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="10" y="20" font-size="14" font-weight="bold">trailwatch: Rust / Python reference (lower is better; log scale)</text>',
           f'<text x="10" y="36" fill="#555">bars: measured ratio; red dashed line: the target; grey line: parity (1)</text>']
    for tick in (0.01, 0.1, 1, 10):
        out.append(f'<line x1="{x(tick):.1f}" y1="{top - 6}" x2="{x(tick):.1f}" y2="{height - 30}" stroke="{"#888" if tick == 1 else "#ddd"}"/>')
        out.append(f'<text x="{x(tick):.1f}" y="{height - 14}" text-anchor="middle" fill="#555">{tick:g}</text>')
    for index, row in enumerate(charted):
        y = top + index * (bar + gap)
        colour = "#2e7d32" if row.met else ("#ef6c00" if row.met is False else "#1565c0")
        out.append(f'<text x="{left - 8}" y="{y + bar / 2 + 4}" text-anchor="end">{escape(row.chart)}</text>')
        out.append(f'<rect x="{left}" y="{y}" width="{x(row.ratio) - left:.1f}" height="{bar}" fill="{colour}"/>')
        if row.chart_target:
            tx = x(row.chart_target)
            out.append(f'<line x1="{tx:.1f}" y1="{y - 4}" x2="{tx:.1f}" y2="{y + bar + 4}" stroke="#c62828" '
                       f'stroke-width="2" stroke-dasharray="4,3"/>')
            target = row.chart_target_label or f"≤ {row.chart_target:.3g}"
            out.append(f'<text x="{left + width + 12}" y="{y + bar / 2 + 4}" fill="#c62828">target {escape(target)}</text>')
        label = f"{row.ratio:.3f}" if row.ratio < 1 else f"{row.ratio:.2f}"
        out.append(f'<text x="{x(row.ratio) + 4:.1f}" y="{y + bar / 2 + 4}" stroke="white" stroke-width="3" '
                   f'paint-order="stroke">{label}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def report(args, figures, size, boto, posture_found, burst_found, info, elapsed) -> str:
    rows, other = rows_for(figures, size, boto, posture_found, burst_found)
    lookups = "sequential" if args.python_lookups == "sequential" else "on a thread pool of 3"
    text = [
        "# trailwatch benchmark: Rust function vs Python reference",
        "",
        "Written by `bench/run.py` (`make bench`); how to read it: bench/README.md.",
        "",
        f"- machine: {info['cpu']}, {info['cores']} cores, Linux {info['kernel']}; {info['date']}; "
        f"load average (1 min) before the run {info['load']}",
        f"- Rust: `{info['binary_path']}` "
        f"(sha256 {info['binary_sha256']}…, built {info['binary_built']}, tree {info['git']})",
        f"- Python: bench/reference/handler.py on CPython {info['python']}, boto3 {info['boto3']}, awslambdaric "
        f"{info['awslambdaric']}; lookups {lookups}",
        f"- both: aws-lambda-rie from aws-sam-cli {info['sam']}, moto server {info['moto']}, event events/stop-logging.json "
        f"(trail stopped, as after the call); {len(figures['Rust'].cold)} cold starts and {len(figures['Rust'].latency)} "
        f"warm invocations each, alternating; run took {elapsed:.0f} s",
        "",
        table(rows),
        "",
        table(other),
        "",
        "![ratios](ratios.svg)",
        "",
    ]
    return "\n".join(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold", type=int, default=20, help="cold starts of each implementation (default 20, at least 10)")
    parser.add_argument("--warm", type=int, default=500, help="warm invocations of each (default 500, at least 200)")
    parser.add_argument("--block", type=int, default=50, help="warm invocations per alternating block (default 50)")
    parser.add_argument("--posture", type=int, default=30, help="warm posture invocations per setting (default 30)")
    parser.add_argument("--python-lookups", choices=["sequential", "threads"], default="sequential",
                        help="the reference's three lookups one after the other (default), or on a thread pool")
    parser.add_argument("--binary", type=Path, default=harness.RELEASE_BINARY)
    parser.add_argument("--out", type=Path, default=BENCH, help="where results.md and ratios.svg go (default bench/)")
    args = parser.parse_args()
    if args.cold < 10 or args.warm < 200 or args.posture < 20 or args.block < 1:
        parser.error("the issue asks for at least 10 cold starts, 200 warm and 20 posture invocations each")

    started = time.monotonic()
    load = os.getloadavg()[0]
    if load > 0.5:
        say(f"the machine is busy (load average {load:.2f}): the figures will be noisier than on an idle machine")
    scratch = tempfile.TemporaryDirectory(prefix="trailwatch-bench-")
    try:
        # A copy, so that one run measures one binary even if a build replaces the original.
        if not args.binary.exists():
            raise BenchError(f"{args.binary} not found: run `make build` first")
        binary = Path(shutil.copy2(args.binary, Path(scratch.name) / "bootstrap"))
        rust, python = impls = implementations(binary, args.python_lookups)
        harness.emulator_binary()
        event = harness.load_event(EVENT_FILE)
        payload = json.dumps(event).encode()
        figures = {impl.name: Figures() for impl in impls}
        say("starting moto server (bench/timed_moto.py)")
        with TimedMoto() as moto:
            say(f"phase 1/5: {args.cold} cold starts each, alternating")
            cold_starts(moto, impls, payload, event, args.cold, figures)
            say(f"phase 2/5: {args.warm} warm invocations each, in alternating blocks of {args.block}")
            warm(moto, impls, payload, event, args.warm, args.block, figures)
            say("phase 3/5: the same four calls from a plain boto3 client (what moto and boto3 cost alone)")
            boto = plain_boto3(moto, event)
            say(f"phase 4/5: posture scenario (Rust only), 20 trails, 1 then {len(REGIONS)} regions")
            posture_found = posture(moto, rust, args.posture)
            say("phase 4b/5: the burst (Rust only), 1,000 events, without and with digests")
            burst_found = burst(moto, rust, 1000)
        say("phase 5/5: sizes and report")
        size = sizes(binary)
        info = machine(binary, args.binary.resolve())
        info["load"] = f"{load:.2f}"
    except (BenchError, harness.HarnessError) as error:
        print(f"bench failed: {error}", file=sys.stderr)
        return 1
    finally:
        scratch.cleanup()

    text = report(args, figures, size, boto, posture_found, burst_found, info, time.monotonic() - started)
    rows, other = rows_for(figures, size, boto, posture_found, burst_found)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.md").write_text(text)
    (args.out / "ratios.svg").write_text(svg(rows + other))
    print(text)
    say(f"wrote {args.out / 'results.md'} and {args.out / 'ratios.svg'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

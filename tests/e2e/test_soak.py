"""1,000 invocations through one warm runtime: every one gets exactly its expected outcome, no
memory or file descriptor growth.

A mix of monitored samples (trails, the delivery chain), calls that are ignored, damaged input
from tests/hostile/ and input that is not an event, sent one after another to one emulator
against moto. EXPECTED says, per payload, what the function must answer (published with which
severity, ignored, or the InvalidEvent error) and why; every invocation's answer is compared with
it, and what arrived on the topic with what was published. The `bootstrap` process (the
emulator's child) is measured from /proc after the first 100 invocations and at the end:
resident memory may grow by at most 2 MiB, open file descriptors by at most 2. The figures are
printed (pytest -s) and written to $TMPDIR/trailwatch-soak-figures.json.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import harness

sys.path.insert(0, str(harness.ROOT / "tests" / "hostile"))
import make_corpus  # noqa: E402  (the corpus generator: each class's eventID)

INVOCATIONS = 1000
MEASURE_AFTER = 100
DRAIN_EVERY = 100
RSS_GROWTH_LIMIT_KIB = 2 * 1024
FD_GROWTH_LIMIT = 2
FIGURES = Path(tempfile.gettempdir()) / "trailwatch-soak-figures.json"

# The world is seed()'s and stays so: nothing is replayed, so management-events is logging,
# multi-region, with all management events, for every invocation, and each payload's outcome is
# the same every time it is sent. The severities are the policy table's (docs/alerts.md).
PUBLISHED, IGNORED, INVALID = "published", "ignored", "InvalidEvent"
EXPECTED: dict[str, tuple[str, str | None]] = {
    # A successful StopLogging: CRITICAL by the table (and no other multi-region trail covers).
    "stop-logging": (PUBLISHED, "CRITICAL"),
    # A denied StopLogging: the table's "denied" column.
    "stop-logging-access-denied": (PUBLISHED, "HIGH"),
    # An UpdateTrail that weakens nothing, by an untrusted principal (TRUSTED_PRINCIPALS unset),
    # on a trail that is still logging: the table's MEDIUM.
    "update-trail-benign": (PUBLISHED, "MEDIUM"),
    # Weakening UpdateTrail: HIGH; the trail itself still records (not replayed), so not raised.
    "update-trail-weakens": (PUBLISHED, "HIGH"),
    # Read-only selectors: HIGH; the seeded selectors still record writes, so covered.
    "put-event-selectors-read-only": (PUBLISHED, "HIGH"),
    # A new trail: LOW (not trusted, so not lowered).
    "create-trail": (PUBLISHED, "LOW"),
    # A 1-day expiration on management-events' bucket: CRITICAL (under 7 days).
    "put-bucket-lifecycle-1-day": (PUBLISHED, "CRITICAL"),
    # Disabling management-events' key: CRITICAL.
    "disable-key": (PUBLISHED, "CRITICAL"),
    # Deleting management-events' log group: HIGH.
    "delete-log-group": (PUBLISHED, "HIGH"),
    # AddTags: not a monitored call.
    "not-monitored": (IGNORED, None),
    # A lifecycle rule on a bucket no trail uses (DescribeTrails answers, so trailwatch can tell).
    "put-bucket-lifecycle-unrelated-bucket": (IGNORED, None),
    # tests/hostile/: each is stop-logging-access-denied damaged one way (make_corpus.py); the
    # damage is cleaned or reported, the judgement stays a denied StopLogging's: HIGH.
    "lone-surrogate": (PUBLISHED, "HIGH"),
    "non-utf8-bytes": (PUBLISHED, "HIGH"),
    "deep-nesting": (PUBLISHED, "HIGH"),
    "url-in-user-agent": (PUBLISHED, "HIGH"),
    "stacked-combining": (PUBLISHED, "HIGH"),
    # Not JSON at all, a JSON array, a `detail` that is not an object: not an EventBridge
    # CloudTrail event, so the InvalidEvent error (Lambda's retries and destination keep it).
    "not-json": (INVALID, None),
    "[1, 2]": (INVALID, None),
    '{"detail": 7}': (INVALID, None),
}
SAMPLES = [
    "stop-logging",
    "stop-logging-access-denied",
    "update-trail-benign",
    "update-trail-weakens",
    "put-event-selectors-read-only",
    "create-trail",
    "put-bucket-lifecycle-1-day",
    "disable-key",
    "delete-log-group",
    "not-monitored",
    "put-bucket-lifecycle-unrelated-bucket",
]
HOSTILE = ["lone-surrogate", "non-utf8-bytes", "deep-nesting", "url-in-user-agent", "stacked-combining", "not-json"]
NOT_AN_EVENT = [b"[1, 2]", b'{"detail": 7}']


def payloads() -> list[tuple[str, bytes]]:
    mix = [(name, (harness.EVENTS / f"{name}.json").read_bytes()) for name in SAMPLES]
    hostile = harness.ROOT / "tests" / "hostile"
    mix += [(name, next(hostile.glob(f"{name}.*")).read_bytes()) for name in HOSTILE]
    mix += [(payload.decode(), payload) for payload in NOT_AN_EVENT]
    return mix


def bootstrap_pid(emulator_pid: int) -> int:
    """The emulator's child running `bootstrap`, found through /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may contain spaces, so split after its parenthesis.
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        if ppid == emulator_pid and comm == "bootstrap":
            found.append(int(entry.name))
    assert len(found) == 1, f"bootstrap children of {emulator_pid}: {found}"
    return found[0]


def measure(pid: int) -> dict:
    status = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        status[key] = value.strip()
    return {
        "pid": pid,
        "vmRssKiB": int(status["VmRSS"].split()[0]),
        "vmHwmKiB": int(status["VmHWM"].split()[0]),
        "openFds": len(os.listdir(f"/proc/{pid}/fd")),
    }


def outcome(result: harness.Invocation) -> tuple[str, str | None, str | None]:
    """(status or errorType, severity, eventId) of the function's answer."""
    try:
        body = result.json()
    except json.JSONDecodeError:
        return (f"unreadable result ({result.status})", None, None)
    if not isinstance(body, dict):
        return ("unreadable result", None, None)
    if "errorType" in body:
        return (body["errorType"], None, None)
    return (body.get("status") or "no status", body.get("severity"), body.get("eventId"))


def event_id(name: str) -> str | None:
    """The eventID the payload carries: the sample's own, or the one make_corpus.py gives each
    hostile class; None for what is not an event."""
    if name in SAMPLES:
        return harness.load_event(harness.EVENTS / f"{name}.json")["detail"]["eventID"]
    if name in HOSTILE:
        return make_corpus.event_id(name)
    return None


def test_a_thousand_invocations_each_get_their_expected_outcome_without_growth(moto, world):
    inbox = world()
    mix = payloads()
    assert sorted(name for name, _ in mix) == sorted(EXPECTED), "every payload has one expectation"
    outcomes: Counter[str] = Counter()
    per_payload: dict[str, Counter[str]] = {}
    wrong: list[str] = []
    published: Counter[tuple[str, str]] = Counter()  # (eventId, severity) answered `published`
    arrived: Counter[tuple[str, str]] = Counter()  # (eventId, severity) that reached the inbox
    first = last = None
    started = time.monotonic()
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, moto.endpoint) as function:
        for index in range(INVOCATIONS):
            name, payload = mix[index % len(mix)]
            status, severity, answered_id = outcome(function.invoke(payload))
            outcomes[status] += 1
            per_payload.setdefault(name, Counter())[f"{status} {severity}" if severity else status] += 1
            expected_status, expected_severity = EXPECTED[name]
            expected_id = event_id(name) if expected_status != INVALID else None
            if (status, severity, answered_id) != (expected_status, expected_severity, expected_id):
                wrong.append(f"#{index} {name}: {status} {severity} {answered_id}, expected {expected_status} {expected_severity} {expected_id}")
            if status == PUBLISHED:
                published[(answered_id, severity)] += 1
            done = index + 1
            if done % DRAIN_EVERY == 0:
                arrived.update((m.attributes.get("eventId"), m.attributes.get("severity")) for m in harness.delivered(moto, inbox))
            if done == MEASURE_AFTER:
                pid = bootstrap_pid(function.pid)
                first = measure(pid)
        last = measure(pid)
        restarts = function.init_count()
        elapsed = time.monotonic() - started
    arrived.update((m.attributes.get("eventId"), m.attributes.get("severity")) for m in harness.delivered(moto, inbox))

    figures = {
        "invocations": INVOCATIONS,
        "seconds": round(elapsed, 2),
        "outcomes": dict(outcomes),
        "delivered": sum(arrived.values()),
        "unexpected": len(wrong),
        "afterFirst100": first,
        "atEnd": last,
        "rssGrowthKiB": last["vmRssKiB"] - first["vmRssKiB"],
        "fdGrowth": last["openFds"] - first["openFds"],
        "runtimeStarts": restarts,
        "perPayload": {name: dict(counts) for name, counts in per_payload.items()},
    }
    FIGURES.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"\nsoak figures ({FIGURES}):\n{json.dumps({k: v for k, v in figures.items() if k != 'perPayload'}, indent=2)}")

    assert restarts == 1, "the runtime was restarted:\n" + function.output()
    assert last["pid"] == first["pid"]
    assert not wrong, f"{len(wrong)} of {INVOCATIONS} invocations did not get their expected outcome:\n" + "\n".join(wrong[:20])
    # Each payload sent k times and published gives exactly k alerts with its eventId and severity.
    assert arrived == published, f"published {sorted(published.items())}, arrived {sorted(arrived.items())}"
    assert figures["rssGrowthKiB"] <= RSS_GROWTH_LIMIT_KIB, figures
    assert last["openFds"] <= first["openFds"] + FD_GROWTH_LIMIT, figures

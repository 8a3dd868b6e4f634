"""1,000 invocations through one warm runtime: every one accounted for, no memory or file
descriptor growth.

A mix of monitored samples (trails, the delivery chain), calls that are ignored, damaged input
from tests/hostile/ and input that is not an event, sent one after another to one emulator
against moto. The `bootstrap` process (the emulator's child) is measured from /proc after the
first 100 invocations and at the end: resident memory may grow by at most 2 MiB, open file
descriptors by at most 2. The figures are printed (pytest -s) and written to
$TMPDIR/trailwatch-soak-figures.json.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

import harness

INVOCATIONS = 1000
MEASURE_AFTER = 100
DRAIN_EVERY = 100
RSS_GROWTH_LIMIT_KIB = 2 * 1024
FD_GROWTH_LIMIT = 2
FIGURES = Path(tempfile.gettempdir()) / "trailwatch-soak-figures.json"

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


def outcome(result: harness.Invocation) -> str:
    try:
        body = result.json()
    except json.JSONDecodeError:
        return f"unreadable result ({result.status})"
    if not isinstance(body, dict):
        return "unreadable result"
    if "errorType" in body:
        return "error"
    return body.get("status") or "no status"


def test_a_thousand_invocations_are_all_accounted_for_without_growth(moto, world):
    inbox = world()
    mix = payloads()
    outcomes: Counter[str] = Counter()
    per_payload: dict[str, Counter[str]] = {}
    delivered = 0
    first = last = None
    started = time.monotonic()
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, moto.endpoint) as function:
        for index in range(INVOCATIONS):
            name, payload = mix[index % len(mix)]
            result = function.invoke(payload)
            seen = outcome(result)
            outcomes[seen] += 1
            per_payload.setdefault(name, Counter())[seen] += 1
            done = index + 1
            if done % DRAIN_EVERY == 0:
                delivered += len(harness.delivered(moto, inbox))
            if done == MEASURE_AFTER:
                pid = bootstrap_pid(function.pid)
                first = measure(pid)
        last = measure(pid)
        restarts = function.init_count()
        elapsed = time.monotonic() - started
    delivered += len(harness.delivered(moto, inbox))

    figures = {
        "invocations": INVOCATIONS,
        "seconds": round(elapsed, 2),
        "outcomes": dict(outcomes),
        "delivered": delivered,
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
    accounted = outcomes["published"] + outcomes["ignored"] + outcomes["error"]
    assert accounted == INVOCATIONS, outcomes
    assert outcomes["published"] == delivered, f"{outcomes['published']} published, {delivered} delivered"
    assert figures["rssGrowthKiB"] <= RSS_GROWTH_LIMIT_KIB, figures
    assert last["openFds"] <= first["openFds"] + FD_GROWTH_LIMIT, figures

"""Golden previews: every sample event (events/, events/schedule/) and every hostile corpus file
(tests/hostile/), rendered by the release binary's `--preview --json` (the render path the
function publishes through), compared with tests/golden/.

The release binary, not a test build: test builds of the crate enable serde_json's
`preserve_order` (through the AWS SDK's `test-util` dev-dependency), so their JSON documents
keep the event's key order while the deployed binary's sort it. Strings are compared exactly,
so the subject, the attributes and every part of the message (the JSON document, the email,
the chat card, the SMS line) must be byte-for-byte the golden ones.

After a deliberate change to what alerts say: `UPDATE_GOLDEN=1 make test-e2e` (or run this
file alone with UPDATE_GOLDEN=1), then read the diff of tests/golden/.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

import harness

GOLDEN = harness.ROOT / "tests" / "golden"
INPUTS = sorted(
    path.relative_to(harness.ROOT)
    for folder in ("events", "events/schedule", "tests/hostile")
    for path in (harness.ROOT / folder).glob("*.json")
)


def golden_path(source: Path) -> Path:
    parts = source.parts[1:] if source.parts[0] == "tests" else source.parts
    return GOLDEN.joinpath(*parts)


def preview(source: Path) -> dict:
    # No settings from the environment: what a default deployment renders.
    done = subprocess.run(
        [str(harness.RELEASE_BINARY), "--preview", str(source), "--json"],
        cwd=harness.ROOT,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, f"{source}: {done.stderr.decode(errors='replace')}"
    return json.loads(done.stdout)


def first_difference(path: str, golden, now) -> str | None:
    if isinstance(golden, dict) and isinstance(now, dict):
        for key in list(golden) + [k for k in now if k not in golden]:
            if key not in golden or key not in now:
                return f"{path}.{key}: only in {'the golden file' if key in golden else 'the preview'}"
            found = first_difference(f"{path}.{key}", golden[key], now[key])
            if found:
                return found
        return None
    if golden == now:
        return None
    if isinstance(golden, str) and isinstance(now, str):
        at = next((i for i, (a, b) in enumerate(zip(golden, now)) if a != b), min(len(golden), len(now)))
        return f"{path}, at character {at}:\n  golden: {golden[max(0, at - 60):at + 60]!r}\n  now:    {now[max(0, at - 60):at + 60]!r}"
    return f"{path}: {golden!r} vs {now!r}"


def test_the_inputs_are_found():
    assert len(INPUTS) > 60
    orphans = [g for g in GOLDEN.rglob("*.json") if not any(golden_path(s) == g for s in INPUTS)]
    assert not orphans, f"golden files without an input: {orphans}"


@pytest.mark.parametrize("source", INPUTS, ids=str)
def test_the_preview_is_the_golden_one(source: Path):
    now = preview(source)
    golden = golden_path(source)
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(json.dumps(now, indent=2, ensure_ascii=False) + "\n")
        return
    assert golden.exists(), f"no golden file {golden}: UPDATE_GOLDEN=1 writes it"
    difference = first_difference("", json.loads(golden.read_text()), now)
    assert difference is None, f"{source} differs from {golden.relative_to(harness.ROOT)}: {difference}"

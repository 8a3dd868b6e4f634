"""Attacker-written input never loses an alert and never speaks (issue 8), on the real runtime.

Every file of tests/hostile/ (written by tests/hostile/make_corpus.py, one class of damage each)
goes through the release binary under the Lambda Runtime Interface Emulator, as raw bytes,
against moto. Each must give exactly one alert that is safe in every medium (subject, message
attributes, email, chat card, JSON) — or, for input that is not an EventBridge event at all, the
InvalidEvent error — and the process must keep serving afterwards.

An SQS subscriber receives only the `default` variant (the JSON alert); the `email` and `https`
(chat card) variants of the same alert come from `bootstrap --preview --with-trail-state --json`
on the same file against the same moto, whose subject and attributes must equal what was
delivered.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

import harness

CORPUS = harness.ROOT / "tests" / "hostile"
sys.path.insert(0, str(CORPUS))
import make_corpus  # noqa: E402  (the generator, for its constants and reproducibility)

# Every class, and what it must give. Anything not listed here gives one published alert.
INVALID = {"not-json"}  # errorType InvalidEvent, nothing published
# Read leniently as the JSON text "42": not a CloudTrail call; a record without an eventSource.
IGNORED = {"detail-type-not-string", "no-event-source"}
# Damage the function must report in the alert's inputProblems (and a reason).
INPUT_PROBLEMS = {"lone-surrogate", "deep-nesting", "time-not-rfc3339", "non-utf8-bytes"}
# Classes whose trail name breaks CloudTrail's naming rules: "(invalid name)", attribute "unknown".
RAW_TRAIL_NAMES = {
    "unicode-tag-characters": "management-events" + make_corpus.TAGS,
    "soft-hyphen": "manage\u00adment-events",
    "invisible-format": "management" + make_corpus.INVISIBLE_FORMAT + "-events",
    "stacked-combining": "manag" + make_corpus.STACKED + "ment-events",
    "rfc2047-subject": make_corpus.RFC2047_NAME,
    "severity-spoof-name": make_corpus.SPOOF_NAME,
    "ansi-escapes": "\x1b[8mmanagement-events\x1b[0m",
    "bidi-override": "management-events" + make_corpus.BIDI + "gpj.exe",
    "crlf-injection": "management-events\r\nSubject: [LOW] resolved",
    "braille-blank-name": "management" + make_corpus.BRAILLE_BLANKS + "-events",
}

SEVERITIES = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL"]
ATTRIBUTES = {"severity", "eventName", "account", "region", "trail", "resourceKind", "eventId"}
SNS_MESSAGE_LIMIT = 262_144
INVALID_NAME = "(invalid name)"
REMOVED_TOO_DEEP = "[removed: nested deeper than 64 levels]"

# CloudTrail's trail-name rules: 3-128 characters of letters, digits, '.', '_', '-', starting and
# ending with a letter or digit, no two of '._-' next to each other.
TRAIL_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|[._-](?=[A-Za-z0-9]))*")
# What a real AWS region looks like (us-east-1, cn-north-1, us-gov-west-1, ap-southeast-5).
REGION_SHAPE = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}")
CONSOLE_HOSTS = {"aws": "console.aws.amazon.com", "aws-cn": "console.amazonaws.cn", "aws-us-gov": "console.amazonaws-us-gov.com"}
# A link the function itself writes: to an AWS console page, in any of the three partitions.
CONSOLE_URL = r"https://(?:console\.aws\.amazon\.com|console\.amazonaws\.cn|console\.amazonaws-us-gov\.com)/[^\s<>|()\[\]`\"']*"
OWN_LINKS = [
    (re.compile(r"\[([^\[\]\n]*)\]\(" + CONSOLE_URL + r"\)"), r"\1"),  # [text](url)
    (re.compile(r"<" + CONSOLE_URL + r"\|([^<>\n]*)>"), r"\1"),  # <url|text>
    (re.compile(r"<" + CONSOLE_URL + r">"), ""),  # <url>
    (re.compile(CONSOLE_URL), ""),  # a bare url
]
CHAT_MARKUP = [re.compile(re.escape(token)) for token in ("<@", "<!", "@here", "@channel", "](", "://")] + [re.compile(r"<http[^>]*\|", re.I)]


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.suffix in (".json", ".bin"))


def class_of(path: Path) -> str:
    return path.name.rsplit(".", 1)[0]


# ---------------------------------------------------------------- the checker


def without_own_links(text: str) -> str:
    """The text with the function's own console links (and their link syntax) taken out, so
    what remains is what came from the event."""
    for pattern, replacement in OWN_LINKS:
        text = pattern.sub(replacement, text)
    return text


def unsafe_characters(text: str, allowed: str = "") -> list[str]:
    """Characters a reader must never get: controls (Cc, except `allowed`), format characters
    (Cf: bidi overrides, tags, invisible operators), private use (Co) and unassigned (Cn), and
    runs of more than two combining marks (Mn/Me). (Python's Unicode database may be older than
    the function's; the corpus only uses characters assigned long ago.)"""
    found = []
    run = 0
    for index, char in enumerate(text):
        category = unicodedata.category(char)
        if category in ("Cc", "Cf", "Co", "Cn", "Cs") and char not in allowed:
            found.append(f"U+{ord(char):04X} ({category}) at {index}: {ascii(text[max(0, index - 30):index + 10])}")
        run = run + 1 if category in ("Mn", "Me") else 0
        if run == 3:
            found.append(f"more than 2 combining marks in a row at {index}: {ascii(text[max(0, index - 10):index + 3])}")
    return found[:10]


def printable_ascii(text: str) -> bool:
    return all(" " <= c <= "~" for c in text)


def valid_trail_name(name) -> bool:
    return isinstance(name, str) and 3 <= len(name) <= 128 and TRAIL_NAME.fullmatch(name) is not None


def strings(value):
    """Every string in a JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


def partition_of(alert: dict) -> str:
    arn = (alert.get("resource") or {}).get("arn") or ""
    if arn.startswith("arn:"):
        return arn.split(":")[1]
    region = (alert.get("event") or {}).get("region") or ""
    return "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"


def links_in(text: str) -> list[str]:
    return re.findall(CONSOLE_URL, text)


def chat_fields(card: dict) -> dict[str, str]:
    content, metadata = card["content"], card["metadata"]
    fields = {"title": content["title"], "description": content["description"], "metadata.summary": metadata["summary"], "metadata.threadId": metadata["threadId"]}
    for name, items in (("nextSteps", content.get("nextSteps")), ("keywords", content.get("keywords")), ("metadata.relatedResources", metadata.get("relatedResources"))):
        for index, item in enumerate(items or []):
            fields[f"{name}[{index}]"] = item
    return fields


class Findings:
    """Every broken invariant of one alert, reported together: one failure lists them all."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def check(self, ok, what: str, detail=None) -> bool:
        # ascii(): the report itself must not carry the attacker's escapes to a terminal.
        if not ok:
            self.items.append(what if detail is None else f"{what}: {ascii(detail)}"[:600])
        return bool(ok)

    def assert_none(self) -> None:
        assert not self.items, "\n" + "\n".join(f"- {item}" for item in self.items)


def safe_alert_findings(message: harness.Delivered, shown: dict | None) -> Findings:
    """What is wrong with one delivered alert (`message`, from SQS: subject, attributes, the JSON
    alert) and its per-protocol variants (`shown`, the preview of the same alert: subject,
    attributes, message{default, email, https, sms}; None when there is no preview, and then only
    what was delivered is checked). Empty when it is safe in every medium."""
    f = Findings()
    alert = message.alert
    severity = alert.get("severity")
    f.check(severity in SEVERITIES, "severity is not a severity", severity)

    # JSON: valid (it was parsed), no lone surrogates anywhere; inputProblems a list of sentences.
    surrogates = [s[:60] for s in strings(alert) if any(0xD800 <= ord(c) <= 0xDFFF for c in s)]
    f.check(not surrogates, "lone surrogates in the JSON alert", surrogates)
    problems = alert.get("inputProblems", [])
    f.check(isinstance(problems, list) and all(isinstance(p, str) and p for p in problems), "inputProblems is not a list of sentences", problems)

    # Subject: printable ASCII, 1-99 characters, no RFC 2047 encoded word, one severity label.
    subject = message.subject or ""
    f.check(1 <= len(subject) <= 99, "subject length", len(subject))
    f.check(printable_ascii(subject), "subject not printable ASCII", subject)
    f.check("=?" not in subject, "subject has an encoded word", subject)
    f.check(subject.startswith(f"[{severity}] "), "subject does not start with the severity", subject)
    f.check(subject.count(f"[{severity}]") == 1, "subject repeats the severity label", subject)
    f.check(not [l for l in SEVERITIES if l != severity and f"[{l}]" in subject], "subject carries another severity label", subject)

    # Message attributes: all present, printable ASCII, the ones that must agree do.
    attributes = message.attributes
    f.check(set(attributes) >= ATTRIBUTES, "message attributes missing", sorted(ATTRIBUTES - set(attributes)))
    for name, value in attributes.items():
        f.check(value and printable_ascii(value), f"attribute {name} not printable ASCII", value)
    f.check(attributes.get("severity") == severity, "severity attribute", attributes.get("severity"))
    f.check(attributes.get("eventId") == (alert.get("event") or {}).get("id"), "eventId attribute is not the event id", attributes.get("eventId"))
    f.check(attributes.get("eventName") == (alert.get("event") or {}).get("name"), "eventName attribute", attributes.get("eventName"))

    # The trail name rules: subject, chat title and the trail attribute carry only a valid name.
    resource = alert.get("resource") or {}
    trail_attribute = attributes.get("trail", "")
    invalid_name = resource.get("kind") == "trail" and not valid_trail_name(resource.get("name"))
    if resource.get("kind") == "trail" and not invalid_name:
        f.check(trail_attribute == resource["name"], "trail attribute is not the (valid) trail name", trail_attribute)
    if invalid_name:
        f.check(trail_attribute == "unknown", "trail attribute of an invalid name is not 'unknown'", trail_attribute)
        f.check(INVALID_NAME in subject, f"subject lacks {INVALID_NAME}", subject)
    f.check(trail_attribute == "unknown" or valid_trail_name(trail_attribute), "trail attribute is not a valid trail name", trail_attribute)

    # Console links in the JSON: the resource's partition, and only real region shapes.
    partition = partition_of(alert)
    urls = [url for url in (alert.get("links") or {}).values() if url]

    if shown is not None:
        variants = shown["message"]
        f.check(set(variants) >= {"default", "email", "https"}, "variants missing", sorted(variants))
        # The preview is the same alert as the one delivered.
        f.check(shown["subject"] == message.subject, "preview subject differs", (shown["subject"], message.subject))
        f.check(shown["attributes"] == message.attributes, "preview attributes differ", (shown["attributes"], message.attributes))
        f.check(harness.same_alert(json.loads(variants["default"]), alert), "preview alert differs from the delivered one")
        # Size: the whole publish stays within SNS's limit.
        size = len(json.dumps(variants, ensure_ascii=False, separators=(",", ":")).encode())
        f.check(size <= SNS_MESSAGE_LIMIT, "message over 256 KiB", size)
        if "sms" in variants:
            f.check(variants["sms"] == subject, "sms differs from the subject", variants["sms"])

        # Email: no control (but "\n"), format, private-use or unassigned characters, no stacks
        # of combining marks, no line separators; no URL of the attacker's survives as a URL.
        email = variants["email"]
        bad = unsafe_characters(email, allowed="\n")
        f.check(not bad, "email has unsafe characters", bad)
        f.check(not {"\u2028", "\u2029"} & set(email), "email has a line separator inside a value")
        found = [line.strip()[:200] for line in email.splitlines() if "://" in without_own_links(line)]
        f.check(not found, "email has a URL from the event", found)

        # Chat card: the same for every string; "\n" only in the description; no mention, link
        # or URL syntax from the event in the fields Chatbot shows; only a valid name in the title.
        card = json.loads(variants["https"])
        title = card["content"]["title"]
        bad = [b for text in strings(card) for b in unsafe_characters(text, allowed="\n")]
        f.check(not bad, "chat card has unsafe characters", bad[:10])
        for name, text in chat_fields(card).items():
            f.check("\n" not in text or name == "description", f"chat {name} has a line break", text[:200])
            remaining = without_own_links(text)
            hits = [pattern.pattern for pattern in CHAT_MARKUP if pattern.search(remaining)]
            f.check(not hits, f"chat {name} has markup from the event {hits}", text[:300])
        f.check(not [l for l in SEVERITIES if l != severity and f"[{l}]" in title], "chat title carries another severity label", title)
        if invalid_name:
            f.check(INVALID_NAME in title, f"chat title lacks {INVALID_NAME}", title)
        urls += links_in(email) + [url for text in strings(card) for url in links_in(text)]

    for url in urls:
        host = re.match(r"https://([^/]+)/", url)
        f.check(host and host.group(1) == CONSOLE_HOSTS[partition], f"not a {partition} console link", url)
        for region in re.findall(r"region=([^&#]*)", url):
            f.check(REGION_SHAPE.fullmatch(region), "a region that is not a region is in a link", url)
    return f


def assert_safe_alert(message: harness.Delivered, shown: dict | None) -> None:
    safe_alert_findings(message, shown).assert_none()


# ---------------------------------------------------------------- per-class checks


def mentions_input_problems(reason: str, problems: list[str]) -> bool:
    """A reason that tells the reader part of the event could not be read (wording is free)."""
    words = ("input", "could not be read", "unreadable", "malformed", "damaged", "invalid")
    return any(word in reason.lower() for word in words) or any(problem in reason for problem in problems)


def class_findings(name: str, message: harness.Delivered, shown: dict | None, f: Findings) -> None:
    """The checks particular to one class (`shown` None: those on the variants are skipped)."""
    alert = message.alert
    card = json.loads(shown["message"]["https"]) if shown else None
    email = shown["message"]["email"] if shown else ""
    attributes = message.attributes
    if name in RAW_TRAIL_NAMES:
        # The JSON keeps the original text; nothing else shows it.
        f.check((alert.get("resource") or {}).get("name") == RAW_TRAIL_NAMES[name], "the JSON does not keep the raw trail name", (alert.get("resource") or {}).get("name"))
        f.check(attributes.get("trail") == "unknown", "trail attribute", attributes.get("trail"))
    if name in INPUT_PROBLEMS:
        problems = alert.get("inputProblems")
        if f.check(problems and all(isinstance(p, str) and p for p in problems), "inputProblems empty or missing", problems):
            f.check(any(mentions_input_problems(reason, problems) for reason in alert["reasons"]), "no reason mentions the input problems", alert["reasons"])
    if name == "severity-spoof-name":
        f.check(message.subject.startswith("[HIGH] ") and "[LOW]" not in message.subject, "spoofed severity in the subject", message.subject)
    elif name == "copy-paste-name":
        f.check(attributes.get("trail") == make_corpus.COPY_PASTE_NAME, "trail attribute", attributes.get("trail"))
        command = f"aws cloudtrail start-logging --name {make_corpus.COPY_PASTE_NAME}"
        in_code = re.compile(r"`[^`]*" + re.escape(command) + r"(?![\w.-])[^`]*`")
        if card is not None:
            f.check(any(in_code.search(step) for step in card["content"]["nextSteps"]), "the start-logging command is not verbatim in a code span", card["content"]["nextSteps"])
    elif name == "crlf-injection":
        forged = [line for line in email.splitlines() if line.lstrip().startswith(("Subject:", "All clear"))]
        f.check(not forged, "forged email lines", forged)
    elif name == "deep-nesting":
        f.check(depth(alert) < 128, "the alert nests too deep", depth(alert))
        if alert.get("requestParameters") is not None:
            f.check(depth(alert["requestParameters"]) <= 64, "requestParameters nest deeper than 64", depth(alert["requestParameters"]))
            f.check(REMOVED_TOO_DEEP in json.dumps(alert["requestParameters"]), "the too-deep value is not marked")
        f.check(attributes.get("trail") == harness.TRAIL, "trail attribute", attributes.get("trail"))
    elif name in ("lone-surrogate", "non-utf8-bytes"):
        f.check("\ufffd" in (alert["event"].get("userAgent") or ""), "no U+FFFD where the damage was", alert["event"].get("userAgent"))
    elif name == "over-256-kib-parameters":
        f.check(alert.get("truncated"), "the alert does not say what was left out", alert.get("truncated"))
    elif name == "one-megabyte-strings":
        f.check(len(alert["event"].get("userAgent") or "") < 4096, "the user agent was not cut", len(alert["event"].get("userAgent") or ""))
    elif name == "duplicate-keys":
        f.check(attributes.get("eventName") in {"StopLogging", "DeleteTrail"}, "eventName", attributes.get("eventName"))
    elif name in ("aws-cn-arn", "aws-us-gov-arn"):
        host = CONSOLE_HOSTS["aws-cn" if name == "aws-cn-arn" else "aws-us-gov"]
        link = (alert.get("links") or {}).get("resource") or ""
        f.check(f"https://{host}/" in link, f"the trail link is not on {host}", alert.get("links"))
    elif name == "fake-region":
        links = [url or "" for url in (alert.get("links") or {}).values()] + links_in(email)
        f.check(not any("evil" in url for url in links), "the fake region is in a link", links)
    elif name == "forged-arn-region":
        f.check("[LOW]" not in message.subject and "resolved" not in message.subject, "the ARN's region part is in the subject", message.subject)
        f.check(attributes.get("region") in {"unknown", "us-east-1"}, "region attribute", attributes.get("region"))
        if card is not None:
            metadata = json.dumps(card["metadata"]) + card["content"]["title"]
            f.check("[LOW]" not in metadata and "resolved" not in metadata, "the ARN's region part is in the card's headline", metadata)
        f.check((alert.get("resource") or {}).get("arn") == make_corpus.FORGED_ARN, "the JSON does not keep the ARN", alert.get("resource"))
    elif name == "braille-blank-name":
        f.check("\u2800" not in email and (card is None or "\u2800" not in json.dumps(card, ensure_ascii=False)), "a blank glyph is shown")
    elif name == "url-as-role-name":
        commands = [step.get("command") or "" for step in alert["nextSteps"]]
        f.check(not any("evil" in command for command in commands), "the URL reached a command", commands)
        f.check(any("--role-name ROLE_NAME" in command for command in commands), "no placeholder for the role", commands)
        if shown is not None:
            emailed = [line[7:] for line in email.splitlines() if line.startswith("       ") and not line.startswith("        ")]
            f.check(all(command in emailed for command in commands if command), "a command differs in the email", emailed)
            carded = " ".join(card["content"]["nextSteps"])
            f.check(all(f"`{command}`" in carded for command in commands if command), "a command differs in the card", carded)
    elif name == "claimed-command":
        summary = alert["actor"]["client"]["summary"]
        f.check("claims cloudtrail.start-logging" in summary, "the user agent's claim is shown as fact", summary)
    elif name == "empty-error-code":
        f.check(alert["severity"] == "CRITICAL" and not alert["event"].get("errorCode"), "an empty errorCode was read as a failure", alert["severity"])
    elif name == "placeholder-region":
        f.check(alert["event"]["region"] == "us-east-1" and attributes.get("region") == "us-east-1", "the envelope's region is not used", alert["event"]["region"])
    elif name == "omitted-parameters":
        f.check(alert["severity"] == "HIGH", "omitted parameters are not a weakening", alert["severity"])
        f.check(any("requestParameters were not recorded" in reason for reason in alert["reasons"]), "no reason says the parameters were omitted", alert["reasons"])
    elif name == "s3-bracketed-user-agent":
        summary = alert["actor"]["client"]["summary"]
        f.check(summary.startswith("aws-cli 2.22 (s3api."), "the bracketed user agent is not read", summary)


# ---------------------------------------------------------------- the tests


def test_the_corpus_is_what_the_generator_writes(tmp_path):
    subprocess.run([sys.executable, str(CORPUS / "make_corpus.py"), "--out", str(tmp_path)], check=True)
    written = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    committed = {p.name: p.read_bytes() for p in corpus_files()}
    assert sorted(written) == sorted(committed), "run tests/hostile/make_corpus.py and commit its output"
    assert [n for n in written if written[n] != committed[n]] == [], "run tests/hostile/make_corpus.py and commit its output"


def test_every_class_is_expected_here():
    classes = {class_of(p) for p in corpus_files()}
    assert classes == set(make_corpus.CLASSES) | {"not-json"}
    assert (INVALID | IGNORED | INPUT_PROBLEMS | set(RAW_TRAIL_NAMES)) <= classes


def test_the_checker_catches_what_it_must():
    """The checker itself, on a clean alert (the offline preview of a sample) and on copies
    with one kind of damage each: a checker that passes everything would prove nothing."""
    out = subprocess.run(
        [str(harness.RELEASE_BINARY), "--preview", str(harness.EVENTS / "stop-logging-access-denied.json"), "--json"],
        capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "RUST_LOG": "error"}, check=True,
    )
    clean = json.loads(out.stdout)["alert"]

    def findings(subject=None, attributes=None, email=None, card=None, links=None) -> str:
        shown = json.loads(json.dumps(clean))
        alert = json.loads(shown["message"]["default"])
        if links is not None:
            alert["links"] = links
            shown["message"]["default"] = json.dumps(alert)
        shown["subject"] = subject or shown["subject"]
        shown["message"]["sms"] = shown["subject"]
        shown["attributes"] = {**shown["attributes"], **(attributes or {})}
        if email is not None:
            shown["message"]["email"] = email
        if card is not None:
            chat = json.loads(shown["message"]["https"])
            chat["content"]["description"] = card
            shown["message"]["https"] = json.dumps(chat)
        message = harness.Delivered(shown["subject"], shown["attributes"], alert)
        return "\n".join(safe_alert_findings(message, shown).items)

    assert findings() == ""
    assert "another severity label" in findings(subject="[HIGH] Denied attempt: [LOW]_false_alarm")
    assert "encoded word" in findings(subject="[HIGH] =?UTF-8?B?4pyF?=")
    assert "not a valid trail name" in findings(attributes={"trail": "[LOW]_x"})
    assert "eventId" in findings(attributes={"eventId": "something else"})
    assert "unsafe characters" in findings(email="Trail  management-events\u202egpj.exe\n")
    assert "unsafe characters" in findings(email="Trail  e\u0301\u0301\u0301\n")
    assert "unsafe characters" in findings(email="Error  denied\r\nSubject: x\n")
    assert "URL from the event" in findings(email="User agent  https://evil.example/login\n")
    assert findings(email="Trail: https://console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/trails\n") == ""
    for markup in ("<!channel>", "<@U123>", "@here", "[x](https[:]//evil)", "<https[:]//evil|x>", "https://evil.example"):
        assert "markup from the event" in findings(card=f"*Who* `{markup}`"), markup
    assert findings(card="[Event in CloudTrail](https://console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/x)") == ""
    assert "unsafe characters" in findings(card="*Who* `a\u2060@here`")
    assert "region that is not a region" in findings(links={"resource": None, "event": "https://console.aws.amazon.com/cloudtrailv2/home?region=evil.com/x#/events/x"})
    assert "console link" in findings(links={"resource": "https://console.amazonaws.cn/cloudtrailv2/home?region=us-east-1#/trails/x", "event": None})


@pytest.mark.parametrize("path", corpus_files(), ids=class_of)
def test_hostile_input(function, moto, world, path):
    name = class_of(path)
    inbox = world()
    starts_before = function.init_count()

    result = function.invoke(path.read_bytes())
    body = result.json()
    if name in INVALID:
        assert body.get("errorType") == "InvalidEvent", body
        assert body.get("errorMessage"), body
        assert harness.delivered(moto, inbox) == []
    elif name in IGNORED:
        assert "errorType" not in body, body
        assert body["status"] == "ignored" and body.get("reason"), body
        assert harness.delivered(moto, inbox) == []
    else:
        assert "errorType" not in body, body
        assert body["status"] == "published", body
        messages = harness.delivered(moto, inbox)
        assert len(messages) == 1, messages
        [message] = messages
        alert = message.alert
        assert body["eventId"] == alert["event"]["id"] == make_corpus.event_id(name)
        assert body["severity"] == alert["severity"]
        try:
            preview = harness.preview(harness.RELEASE_BINARY, path, moto.endpoint)
        except harness.HarnessError as error:
            preview, failure = None, str(error)
        shown = preview["alert"] if preview and preview["result"]["status"] == "published" else None
        findings = safe_alert_findings(message, shown)
        class_findings(name, message, shown, findings)
        if shown is None:
            findings.check(False, "no email or chat variant to check: `bootstrap --preview` did not render this file", failure if preview is None else preview["result"])
        findings.assert_none()

    # The process keeps serving: the next event is published by the same runtime.
    follow_up = function.invoke(harness.load_event(harness.EVENTS / "stop-logging-access-denied.json"))
    assert follow_up.json()["status"] == "published", follow_up.body
    assert len(harness.delivered(moto, inbox)) == 1
    assert function.init_count() == max(starts_before, 1), "the runtime was restarted:\n" + function.output()

"""Writes the hostile-input corpus: one file per class of attacker-written damage, as raw bytes.

    .venv/bin/python tests/hostile/make_corpus.py            # rewrites tests/hostile/
    .venv/bin/python tests/hostile/make_corpus.py --out DIR  # writes elsewhere (the e2e test
                                                             # checks the committed files match)

Much of a CloudTrail event is chosen by whoever made the call (the trail name, the user agent,
the error message is built from the request), so each class below is a full EventBridge
CloudTrail event, starting from a sample in events/, with one kind of damage. The classes about
the envelope itself (time, resources, detail-type) damage only the envelope, and `not-json` is
not an event at all.

Some damage cannot be expressed by json.dumps (a lone surrogate escape, invalid UTF-8, 200
levels of nesting in one place, a repeated key): those values are written as placeholders and
replaced by their exact bytes afterwards, so every file is reproducible byte for byte.

tests/e2e/test_hostile.py runs every file through the function on the Lambda runtime emulator
and states what must come out (EXPECTED there lists the classes).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
EVENTS = HERE.parents[1] / "events"

DENIED = "stop-logging-access-denied"  # HIGH; names the seeded trail management-events
STOPPED = "stop-logging"  # CRITICAL
UPDATE = "update-trail-benign"  # MEDIUM

# The printable forms used by the checks in tests/e2e/test_hostile.py.
ATTACKER_URL = "https://evil.example/login"
FAKE_REGION = "evil.com/x?a="
CN_TRAIL_ARN = "arn:aws-cn:cloudtrail:cn-north-1:111122223333:trail/x"
GOV_TRAIL_ARN = "arn:aws-us-gov:cloudtrail:us-gov-west-1:111122223333:trail/gov-audit"
COPY_PASTE_NAME = "org_audit.trail"
SPOOF_NAME = "[LOW]_false_alarm"
RFC2047_NAME = "=?UTF-8?B?4pyFIHJlc29sdmVkIOKArg==?="
FORGED_ARN = "arn:aws:cloudtrail:[LOW] resolved - no action needed:111122223333:trail/forged-trail"
BRAILLE_BLANKS = "\u2800\u2800"

TAGS = "".join(chr(c) for c in range(0xE0001, 0xE0080))  # U+E0001 LANGUAGE TAG .. U+E007F CANCEL TAG


def tag_text(text: str) -> str:
    """ASCII text spelled in Unicode tag characters: invisible, but some readers decode it."""
    return "".join(chr(0xE0000 + ord(c)) for c in text) + "\U000E007F"


INVISIBLE_FORMAT = (
    "\u180e\u034f\u17b4\u17b5"
    + "".join(chr(c) for c in range(0x206A, 0x2070))
    + "\ufff9\ufffa\ufffb"
    + "".join(chr(c) for c in range(0x1D173, 0x1D17B))
)
STACKED = "e" + "\u0301" * 500
BIDI = "\u202e"


def event_id(name: str) -> str:
    """Each class's detail.eventID: deterministic, distinct, shaped like CloudTrail's."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"trailwatch:hostile:{name}"))


def raw(name: str) -> str:
    """A placeholder string; its JSON form is replaced by exact bytes after dumping."""
    return f"@@raw:{name}@@"


class Case:
    def __init__(self, sample: str | None = None) -> None:
        self.doc = copy.deepcopy(json.loads((EVENTS / f"{sample}.json").read_text())) if sample else None
        self.replacements: dict[str, bytes] = {}

    @property
    def detail(self) -> dict:
        return self.doc["detail"]

    def put_raw(self, name: str, data: bytes) -> str:
        self.replacements[name] = data
        return raw(name)

    def render(self, name: str) -> bytes:
        self.doc["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"trailwatch:hostile-envelope:{name}"))
        if isinstance(self.doc.get("detail"), dict):
            self.detail["eventID"] = event_id(name)
        data = json.dumps(self.doc, indent=2, ensure_ascii=False).encode("utf-8")
        for key, replacement in self.replacements.items():
            placeholder = json.dumps(raw(key)).encode()
            assert data.count(placeholder) == 1, (name, key)
            data = data.replace(placeholder, replacement)
        return data + b"\n"


def lone_surrogate() -> Case:
    case = Case(DENIED)
    # Raw escape text: `\ud800` without its low half, and a lone low half.
    case.detail["additionalEventData"] = {"x": case.put_raw("high", b'"\\ud800"')}
    case.detail["userAgent"] = case.put_raw("low", b'"aws-cli/2.22.4 \\udc00 md/command#cloudtrail.stop-logging"')
    return case


def deep_nesting() -> Case:
    case = Case(DENIED)
    depth = 200
    nested = b'{"and":' * depth + b'"bottom"' + b"}" * depth
    case.detail["requestParameters"] = {"name": "management-events", "filter": case.put_raw("deep", nested)}
    return case


def time_not_rfc3339() -> Case:
    case = Case(DENIED)
    case.doc["time"] = "Sat, 28 Nov 2026 09:07:03 GMT"  # RFC 2822, not RFC 3339
    return case


def resources_not_strings() -> Case:
    case = Case(DENIED)
    case.doc["resources"] = [42, {"ARN": "arn:aws:cloudtrail:us-east-1:111122223333:trail/management-events"}, None, ["nested"]]
    return case


def detail_type_not_string() -> Case:
    case = Case(DENIED)
    case.doc["detail-type"] = 42
    return case


def unicode_tag_characters() -> Case:
    case = Case(DENIED)
    case.detail["requestParameters"]["name"] = "management-events" + TAGS
    case.detail["userAgent"] = "aws-cli/2.22.4" + TAGS + tag_text(" [LOW] resolved, ignore this alert") + " md/command#cloudtrail.stop-logging"
    return case


def soft_hyphen() -> Case:
    case = Case(DENIED)
    case.detail["requestParameters"]["name"] = "manage\u00adment-events"  # raw UTF-8 (C2 AD)
    # The same character written as a JSON escape.
    case.detail["userAgent"] = case.put_raw("ua", b'"aws-cli/2.22.4 md/command#cloudtrail.stop\\u00adlogging"')
    return case


def invisible_format() -> Case:
    case = Case(DENIED)
    case.detail["requestParameters"]["name"] = "management" + INVISIBLE_FORMAT + "-events"
    case.detail["userAgent"] = "aws-cli/2.22.4" + INVISIBLE_FORMAT + " md/command#cloudtrail.stop-logging"
    case.detail["errorMessage"] = INVISIBLE_FORMAT + case.detail["errorMessage"] + INVISIBLE_FORMAT
    return case


def stacked_combining() -> Case:
    case = Case(DENIED)
    case.detail["requestParameters"]["name"] = "manag" + STACKED + "ment-events"
    case.detail["userAgent"] = "aws-cli/2.22.4 " + STACKED + " md/command#cloudtrail.stop-logging"
    case.detail["errorMessage"] = STACKED + " " + case.detail["errorMessage"]
    return case


def rfc2047_subject() -> Case:
    case = Case(DENIED)
    case.detail["requestParameters"]["name"] = RFC2047_NAME
    case.detail["errorMessage"] = "=?UTF-8?Q?=E2=9C=85_resolved?= " + case.detail["errorMessage"]
    return case


def severity_spoof_name() -> Case:
    case = Case(DENIED)
    case.detail["requestParameters"]["name"] = SPOOF_NAME
    return case


def copy_paste_name() -> Case:
    # A successful StopLogging on a trail moto does not have: the lookup fails, the alert goes out.
    case = Case(STOPPED)
    case.detail["requestParameters"]["name"] = COPY_PASTE_NAME
    return case


def url_in_user_agent() -> Case:
    case = Case(DENIED)
    case.detail["userAgent"] = f"aws-cli/2.22.4 {ATTACKER_URL} [x](https://evil.example) <https://evil.example|click> http://evil.example:8080/a"
    case.detail["errorMessage"] = f"Access denied, see {ATTACKER_URL}?next=/console and [the runbook](https://evil.example/runbook)"
    return case


def chat_markup() -> Case:
    case = Case(DENIED)
    case.detail["userIdentity"] = {
        "type": "IAMUser",
        "principalId": "AIDAQRSTUVWXYZEXAMPLE",
        "arn": "arn:aws:iam::111122223333:user/<!channel><@U123>@here",
        "accountId": "111122223333",
        "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
        "userName": "<!channel> <@U123> @here",
    }
    case.detail["errorMessage"] = "<!channel> <@U123> @here @channel <!here|here> <!subteam^S0123|oncall> *bold* _it_ ~strike~ `code` " + case.detail["errorMessage"]
    return case


def ansi_escapes() -> Case:
    case = Case(DENIED)
    case.detail["requestParameters"]["name"] = "\x1b[8mmanagement-events\x1b[0m"
    case.detail["userAgent"] = "aws-cli/2.22.4 \x1b[2J\x1b[1;31m[LOW] resolved\x1b[0m \x9b31m \x07\x08\x00\x7f md/command#cloudtrail.stop-logging"
    case.detail["errorMessage"] = "\x1b]8;;https://evil.example\x07click here\x1b]8;;\x07 " + case.detail["errorMessage"]
    return case


def bidi_override() -> Case:
    case = Case(DENIED)
    case.detail["requestParameters"]["name"] = "management-events" + BIDI + "gpj.exe"
    case.detail["userAgent"] = "aws-cli/2.22.4 " + BIDI + "2.22.4/ilc-swa\u202c \u2066x\u2069 \u200f md/command#cloudtrail.stop-logging"
    case.detail["errorMessage"] = "denied \u202d" + BIDI + "HGIH si ytireves\u202c " + case.detail["errorMessage"]
    return case


def crlf_injection() -> Case:
    case = Case(DENIED)
    case.detail["requestParameters"]["name"] = "management-events\r\nSubject: [LOW] resolved"
    case.detail["userAgent"] = "aws-cli/2.22.4\r\nSubject: [LOW] resolved\r\n\r\nmd/command#cloudtrail.stop-logging"
    case.detail["errorMessage"] = (
        "User is not authorized\r\nSubject: [LOW] resolved\r\n\r\nAll clear, no action needed.\n"
        "\u2028Subject: [LOW] again\u2029\x0bSubject: [LOW] vt\x0cSubject: [LOW] ff\x85Subject: [LOW] nel"
    )
    return case


def one_megabyte_strings() -> Case:
    case = Case(DENIED)
    prefix = "aws-cli/2.22.4 "
    case.detail["userAgent"] = prefix + "A" * (1024 * 1024 - len(prefix))
    return case


def over_256_kib_parameters() -> Case:
    case = Case(DENIED)
    # About 400 KB in values of 1,000 characters each: under the 2,048-character cut of one field,
    # so only the 256 KiB budget of the whole message can deal with them.
    case.detail["requestParameters"] = {
        "name": "management-events",
        "tagsList": [{"key": f"k{i:03}", "value": f"{i:03}" + "v" * 997} for i in range(400)],
    }
    return case


def duplicate_keys() -> Case:
    case = Case(DENIED)
    # Both names are monitored and denied (HIGH): whichever one a parser keeps, it must alert.
    case.detail["eventName"] = case.put_raw("names", b'"StopLogging",\n    "eventName": "DeleteTrail"')
    return case


def non_utf8_bytes() -> Case:
    case = Case(DENIED)
    # 0xff 0xfe (never UTF-8), an overlong '/', a UTF-8-encoded surrogate, a cut 3-byte sequence.
    case.detail["userAgent"] = case.put_raw("ua", b'"aws-cli/2.22.4 \xff\xfe \xc0\xaf \xed\xa0\x80 \xe2\x82 md/command#cloudtrail.stop-logging"')
    return case


def _partitioned_update(region: str, partition: str, trail_arn: str, host: str) -> Case:
    case = Case(UPDATE)
    case.doc["region"] = region
    detail = case.detail
    detail["awsRegion"] = region
    identity = detail["userIdentity"]
    identity["arn"] = identity["arn"].replace("arn:aws:", f"arn:{partition}:")
    identity["sessionContext"]["sessionIssuer"]["arn"] = identity["sessionContext"]["sessionIssuer"]["arn"].replace("arn:aws:", f"arn:{partition}:")
    detail["requestParameters"]["name"] = trail_arn
    response = detail["responseElements"]
    response["name"] = trail_arn.rsplit("/", 1)[1]
    response["trailARN"] = trail_arn
    response["snsTopicARN"] = f"arn:{partition}:sns:{region}:111122223333:cloudtrail-delivery-notifications"
    detail["tlsDetails"]["clientProvidedHostHeader"] = host
    return case


def aws_cn_arn() -> Case:
    return _partitioned_update("cn-north-1", "aws-cn", CN_TRAIL_ARN, "cloudtrail.cn-north-1.amazonaws.com.cn")


def aws_us_gov_arn() -> Case:
    return _partitioned_update("us-gov-west-1", "aws-us-gov", GOV_TRAIL_ARN, "cloudtrail.us-gov-west-1.amazonaws.com")


def fake_region() -> Case:
    case = Case(DENIED)
    case.doc["region"] = FAKE_REGION
    case.detail["awsRegion"] = FAKE_REGION
    return case


def forged_arn_region() -> Case:
    # The region part of a trail ARN is only text between colons: it must not reach a subject.
    case = Case(DENIED)
    case.detail["requestParameters"]["name"] = FORGED_ARN
    return case


def braille_blank_name() -> Case:
    # U+2800 renders as an empty cell and is neither White_Space nor Default_Ignorable.
    case = Case(DENIED)
    case.detail["requestParameters"]["name"] = "management" + BRAILLE_BLANKS + "-events"
    return case


def url_as_role_name() -> Case:
    # A role name that is a URL must not reach a command, where a mail client would link it.
    case = Case(STOPPED)
    identity = case.detail["userIdentity"]
    identity["type"] = "AssumedRole"
    identity["arn"] = "arn:aws:sts::111122223333:assumed-role/x/alice"
    identity["accessKeyId"] = "ASIAIOSFODNN7EXAMPLE"
    identity["sessionContext"] = {
        "sessionIssuer": {"type": "Role", "userName": ATTACKER_URL, "arn": "arn:aws:iam::111122223333:role/x"},
        "attributes": {"creationDate": "2026-11-28T08:02:11Z", "mfaAuthenticated": "false"},
    }
    return case


def claimed_command() -> Case:
    # The user agent says start-logging on a StopLogging: a claim, not a fact.
    case = Case(STOPPED)
    case.detail["userAgent"] = "aws-cli/2.22.4 ua/2.1 md/command#cloudtrail.start-logging"
    return case


def empty_error_code() -> Case:
    # An empty errorCode names no error: the call took effect.
    case = Case(STOPPED)
    case.detail["errorCode"] = ""
    return case


def no_event_source() -> Case:
    case = Case(STOPPED)
    del case.detail["eventSource"]
    return case


def placeholder_region() -> Case:
    # The record's region is a placeholder; the envelope's is real.
    case = Case(STOPPED)
    case.detail["awsRegion"] = "region-placeholder"
    case.detail["requestParameters"]["name"] = "management-events"
    return case


def omitted_parameters() -> Case:
    # As CloudTrail records parameters it left out as too large.
    case = Case(UPDATE)
    case.detail["requestParameters"] = {"reason": "requestParameters too large", "omitted": True}
    return case


def s3_bracketed_user_agent() -> Case:
    case = Case("put-bucket-lifecycle-1-day")
    case.detail["userAgent"] = "[aws-cli/2.22.4 md/awscrt#0.23.4 ua/2.1 md/command#s3api.put-bucket-lifecycle-configuration]"
    return case


NOT_JSON = b"\x00\xff\xfe<html><!channel> this is not JSON {\"detail\": {\"eventName\": \"StopLogging\"\r\n\x1b[31m"

CLASSES = {
    "lone-surrogate": lone_surrogate,
    "deep-nesting": deep_nesting,
    "time-not-rfc3339": time_not_rfc3339,
    "resources-not-strings": resources_not_strings,
    "detail-type-not-string": detail_type_not_string,
    "unicode-tag-characters": unicode_tag_characters,
    "soft-hyphen": soft_hyphen,
    "invisible-format": invisible_format,
    "stacked-combining": stacked_combining,
    "rfc2047-subject": rfc2047_subject,
    "severity-spoof-name": severity_spoof_name,
    "copy-paste-name": copy_paste_name,
    "url-in-user-agent": url_in_user_agent,
    "chat-markup": chat_markup,
    "ansi-escapes": ansi_escapes,
    "bidi-override": bidi_override,
    "crlf-injection": crlf_injection,
    "one-megabyte-strings": one_megabyte_strings,
    "over-256-kib-parameters": over_256_kib_parameters,
    "duplicate-keys": duplicate_keys,
    "non-utf8-bytes": non_utf8_bytes,
    "aws-cn-arn": aws_cn_arn,
    "aws-us-gov-arn": aws_us_gov_arn,
    "fake-region": fake_region,
    "forged-arn-region": forged_arn_region,
    "braille-blank-name": braille_blank_name,
    "url-as-role-name": url_as_role_name,
    "claimed-command": claimed_command,
    "empty-error-code": empty_error_code,
    "no-event-source": no_event_source,
    "placeholder-region": placeholder_region,
    "omitted-parameters": omitted_parameters,
    "s3-bracketed-user-agent": s3_bracketed_user_agent,
}


def corpus() -> dict[str, bytes]:
    """File name → exact bytes."""
    files = {f"{name}.json": build().render(name) for name, build in CLASSES.items()}
    files["not-json.bin"] = NOT_JSON
    return files


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in corpus().items():
        (args.out / name).write_bytes(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""`make invoke`: run one event through the function exactly as Lambda runs it, locally.

Starts moto (local AWS) and the Runtime Interface Emulator with the release binary, seeds the
trails named in events/ and the alert topic with an SQS inbox, makes the event's own call on
local AWS (so a StopLogging event finds the trail stopped), invokes the function with EVENT,
and prints the function's result and the alert as delivered. The email and chat variants are
not delivered to SQS, so they are shown from `bootstrap --preview --with-trail-state` run
against the same local AWS, and checked to be the same alert.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import harness

RULE = "─" * 72


def section(title: str, body: str) -> None:
    print(f"\n{RULE}\n{title}\n{RULE}\n{body.rstrip()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("event", type=Path, help="an EventBridge event, e.g. events/stop-logging.json")
    parser.add_argument("--stopped", action="store_true", help="seed the trail as not logging")
    parser.add_argument("--no-replay", action="store_true", help="do not make the event's call on local AWS first")
    parser.add_argument("--binary", type=Path, default=harness.RELEASE_BINARY)
    args = parser.parse_args()

    try:
        event = harness.load_event(args.event)
    except (OSError, json.JSONDecodeError) as error:
        print(f"cannot read {args.event}: {error}", file=sys.stderr)
        return 2

    try:
        harness.say("starting local AWS (moto server)")
        with harness.MotoServer() as moto:
            harness.say(f"seeding trail {harness.TRAIL} ({'stopped' if args.stopped else 'logging'}), "
                        f"{harness.OTHER_REGION_TRAIL} in {harness.OTHER_REGION}, topic {harness.TOPIC_NAME} with an SQS inbox")
            inbox = harness.seed(moto, logging=not args.stopped)
            if not args.no_replay:
                done = harness.replay(moto, event)
                if done:
                    harness.say(f"replaying the call on local AWS so the trail is as the event left it: {done}")
            harness.say("starting the function under the Lambda Runtime Interface Emulator")
            with harness.RuntimeEmulator(args.binary, moto.endpoint) as function:
                harness.say(f"invoking with {args.event}")
                result = function.invoke(event)
                messages = harness.delivered(moto, inbox)
                section("Function result", result.body)
                if result.function_error or "errorType" in result.body:
                    section("Function log", function.output())
                if not messages:
                    print("\nNo alert was published for this event.")
                    return 0
                shown = harness.preview(args.binary, args.event, moto.endpoint)["alert"]
        for message in messages:
            section("Delivered: subject", message.subject or "")
            section("Delivered: message attributes", "\n".join(f"{k} = {v}" for k, v in sorted(message.attributes.items())))
            section('Email (protocol "email")', shown["message"]["email"])
            section('Chat card (protocol "https", AWS Chatbot custom notification)',
                    json.dumps(json.loads(shown["message"]["https"]), indent=2, ensure_ascii=False))
            section('Delivered: JSON alert (protocol "default": SQS, Lambda, email-json)',
                    json.dumps(message.alert, indent=2, ensure_ascii=False))
            same = harness.same_alert(json.loads(shown["message"]["default"]), message.alert) and shown["subject"] == message.subject
            print(f"\n(email and chat rendered by `bootstrap --preview --with-trail-state`; "
                  f"{'identical alert to the one delivered' if same else 'WARNING: differs from the delivered alert'})")
        return 0
    except harness.HarnessError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

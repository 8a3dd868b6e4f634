"""Alert storms that stay readable (issue 17), on the real runtime + moto: 1,000 events from
several principals and accounts, some delivered twice, through one function instance whose
first SNS publishes are throttled. Every CRITICAL is alerted on its own; every other event is
either alerted or folded into its principal's digest, and the test reconciles the counts
exactly; no redelivered event is published or counted twice; nothing is lost to throttling
(a failed invocation is invoked again, as Lambda's retries would).

The digests come back the way they do on AWS: each burst's request waits on the digest queue
(moto's SQS, delayed until its window closes), and the function is invoked with the batch the
event source mapping would hand it (moto runs no mapping without Docker)."""

from __future__ import annotations


import pytest

import faults
import harness

TABLE = "trailwatch-events"
QUEUE = "trailwatch-digests"
THRESHOLD = 3
WINDOW_SECONDS = 10
PRINCIPALS = harness.STORM_PRINCIPALS


def events(count: int, seed: int = 17) -> list[dict]:
    return harness.storm_events(count, seed)


@pytest.fixture
def storm(moto, world):
    inbox = world()
    dynamodb = moto.client("dynamodb")
    dynamodb.create_table(TableName=TABLE, AttributeDefinitions=[{"AttributeName": "eventId", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "eventId", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
    sqs = moto.client("sqs")
    queue = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    env = {"DEDUP_TABLE": TABLE, "DIGEST_QUEUE_URL": queue, "BURST_THRESHOLD": str(THRESHOLD),
           "BURST_WINDOW_SECONDS": str(WINDOW_SECONDS), "DIGEST_DELAY_SECONDS": "0"}
    return inbox, queue, env


def invoke_until_handled(function, event: dict, retries: int = 5) -> dict:
    """Invokes as Lambda's asynchronous retries would: again after an error, up to `retries`."""
    for _ in range(retries + 1):
        answer = function.invoke(event).json()
        if "errorType" not in answer:
            return answer
        assert answer["errorType"] in ("PublishFailed", "InFlight"), answer
    raise AssertionError(f"not handled after {retries} retries: {answer}")


def drain_digests(moto, function, queue: str, expected: int) -> list[dict]:
    """Receives the digest requests as their delays end (long polls: SQS's own wait), hands each
    batch to the function, and deletes what it handled. Returns the function's answers."""
    sqs = moto.client("sqs")
    answers, handled = [], 0
    for _ in range(expected + 20):
        if handled == expected:
            break
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=5).get("Messages", [])
        if not messages:
            continue
        answer = harness.hand_batch(function, sqs, queue, messages)
        answers.append(answer)
        handled += len(messages) - len(answer["batchItemFailures"])
    assert handled == expected, f"{handled} of {expected} digest requests handled"
    return answers


def test_a_storm_of_1000_events_is_alerted_or_counted_exactly_once(moto, storm):
    inbox, queue, env = storm
    storm_events = events(1000)
    redelivered = storm_events[100:150]
    outcomes: dict[str, dict] = {}
    # The first 50 go through a fault proxy whose SNS throttles the first 12 publishes: four
    # invocations in a row fail after the SDK's three attempts each and are invoked again. The
    # rest go straight to moto (the proxy is slow), through a second instance, as Lambda scales.
    with faults.FaultProxy(moto.endpoint) as proxy:
        proxy.inject("sns", faults.sns_error("Throttling", 400, "Rate exceeded", operation="Publish", first=12))
        with harness.RuntimeEmulator(harness.RELEASE_BINARY, proxy.endpoint, env) as throttled:
            for event in storm_events[:50]:
                outcomes[event["detail"]["eventID"]] = invoke_until_handled(throttled, event)
        assert proxy.count("sns", "Publish") >= 12
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, moto.endpoint, env) as function:
        for event in storm_events[50:] + redelivered:
            answer = invoke_until_handled(function, event)
            event_id = event["detail"]["eventID"]
            if event_id in outcomes:
                assert answer["status"] == "duplicate", answer
            else:
                outcomes[event_id] = answer
        statuses = [a["status"] for a in outcomes.values()]
        folded = [a for a in outcomes.values() if a["status"] == "folded"]
        published = [a for a in outcomes.values() if a["status"] == "published"]
        assert len(folded) + len(published) == len(outcomes) == 1000, sorted(set(statuses))
        assert len(folded) > 500, "most of the storm was folded"
        assert all(a["severity"] != "CRITICAL" for a in folded)
        critical = [a for a in outcomes.values() if a["severity"] == "CRITICAL"]
        assert critical and all(a["status"] == "published" for a in critical)

        individual = harness.delivered(moto, inbox)
        assert len(individual) == len(published)
        assert sorted(m.alert["event"]["id"] for m in individual) == sorted(a["eventId"] for a in published)

        # One digest request per principal's window that folded anything.
        sqs = moto.client("sqs")
        counts = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"])["Attributes"]
        requests = int(counts["ApproximateNumberOfMessages"]) + int(counts["ApproximateNumberOfMessagesDelayed"])
        answers = drain_digests(moto, function, queue, requests)
    digests = harness.delivered(moto, inbox)
    assert all(m.alert["kind"] == "digest" for m in digests)
    assert len(digests) == requests == sum(int(a["reason"].split()[0]) for a in answers)
    assert sum(m.alert["digest"]["folded"] for m in digests) == len(folded)
    for message in digests:
        digest = message.alert["digest"]
        assert sum(c["count"] for c in digest["calls"]) == digest["folded"] == sum(s["count"] for s in digest["severities"])
        assert "CRITICAL" not in {s["severity"] for s in digest["severities"]}
        assert message.attributes["alertKind"] == "digest"
        assert message.subject.startswith(f"[{message.alert['severity']}] Burst: {digest['folded']} more calls")
    # Publishes per event: what the digest saved.
    print(f"storm: 1000 events (+50 redelivered) -> {len(published)} alerts + {len(digests)} digests")


def test_a_digest_that_cannot_be_published_is_delivered_again_and_sent_once(moto, storm):
    inbox, queue, env = storm
    burst = [e for e in events(40) if e["detail"]["eventName"] not in ("StopLogging", "DeleteTrail")]
    for event in burst:
        event["detail"]["userIdentity"]["arn"] = PRINCIPALS[0]
        event["account"] = event["detail"]["recipientAccountId"] = harness.ACCOUNT
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, moto.endpoint, env) as function:
        statuses = [invoke_until_handled(function, event)["status"] for event in burst]
    folded = statuses.count("folded")
    assert folded >= len(burst) - 2 * THRESHOLD, statuses
    harness.delivered(moto, inbox)
    sqs = moto.client("sqs")
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    # The window's digest request, once its delay is over (SQS's own long poll waits for it).
    messages: list[dict] = []
    for _ in range(4):
        messages += sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=10).get("Messages", [])
        if messages:
            break
    real = messages[0]
    garbled = {**real, "MessageId": "garbled", "Body": "{not json"}
    again = {**real, "MessageId": "again"}
    with faults.FaultProxy(moto.endpoint) as proxy:
        proxy.inject("sns", faults.sns_error("InternalError", 500, error_type="Receiver"))
        with harness.RuntimeEmulator(harness.RELEASE_BINARY, proxy.endpoint, env) as failing:
            answer = failing.invoke(harness.sqs_batch([real, garbled], queue_arn)).json()
    # The digest is delivered again; a message that can never be read is not.
    assert answer["batchItemFailures"] == [{"itemIdentifier": real["MessageId"]}], answer
    assert harness.delivered(moto, inbox) == []
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, moto.endpoint, env) as function:
        answer = function.invoke(harness.sqs_batch([real, again], queue_arn)).json()
    assert answer["batchItemFailures"] == [], answer
    [digest] = harness.delivered(moto, inbox)
    assert digest.alert["kind"] == "digest"

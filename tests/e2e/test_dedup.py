"""The same event delivered twice publishes once (issue 17), on the real runtime + moto's
DynamoDB: a second delivery is a duplicate, a publish that failed leaves the event free for
Lambda's retry, an unreachable table still publishes, and deliveries racing on several function
instances publish exactly once.

The Lambda Runtime Interface Emulator runs one invocation at a time, so the race runs several
emulators (several instances, as Lambda would scale out) against one moto."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import faults
import harness

TABLE = "trailwatch-events"
ENV = {"DEDUP_TABLE": TABLE}


def load(sample: str = "stop-logging") -> dict:
    return harness.load_event(harness.EVENTS / f"{sample}.json")


@pytest.fixture
def ledger(moto, world):
    """The seeded world plus the ledger table as the template makes it; returns (inbox, table
    client)."""
    inbox = world()
    dynamodb = moto.client("dynamodb")
    dynamodb.create_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "eventId", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "eventId", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(TableName=TABLE, TimeToLiveSpecification={"AttributeName": "expiresAt", "Enabled": True})
    return inbox, dynamodb


@pytest.fixture(scope="module")
def deduplicating(moto):
    emulator = harness.RuntimeEmulator(harness.RELEASE_BINARY, moto.endpoint, ENV)
    yield emulator
    emulator.stop()


def error_type(answer) -> str | None:
    """The Lambda error an invocation ended in (the emulator answers errors with status 200)."""
    return answer.json().get("errorType")


def status(answer) -> str | None:
    return answer.json().get("status")


def item(dynamodb, event_id: str) -> dict | None:
    found = dynamodb.get_item(TableName=TABLE, Key={"eventId": {"S": event_id}}, ConsistentRead=True).get("Item")
    return {k: next(iter(v.values())) for k, v in found.items()} if found else None


def test_a_second_delivery_is_not_published_again(deduplicating, moto, ledger):
    inbox, dynamodb = ledger
    event = load()
    first = deduplicating.invoke(event).json()
    assert first["status"] == "published", first
    second = deduplicating.invoke(event).json()
    assert second["status"] == "duplicate", second
    assert second["severity"] == first["severity"] and second["eventId"] == first["eventId"]
    assert second["messageId"] is None, "nothing was published this time"
    assert len(harness.delivered(moto, inbox)) == 1
    record = item(dynamodb, event["detail"]["eventID"])
    assert record["state"] == "published" and record["messageId"] == first["messageId"], record
    # Remembered for 48 hours, longer than EventBridge (24 h) and Lambda (6 h) retry.
    assert 47 * 3600 < int(record["expiresAt"]) - time.time() <= 48 * 3600 + 1
    # Another event is another alert.
    other = load("delete-trail")
    assert deduplicating.invoke(other).json()["status"] == "published"
    assert len(harness.delivered(moto, inbox)) == 1


def test_a_failed_publish_leaves_the_event_to_its_retry(moto, ledger):
    inbox, dynamodb = ledger
    event = load()
    with faults.FaultProxy(moto.endpoint) as proxy:
        proxy.inject("sns", faults.sns_error("InternalError", 500, error_type="Receiver"))
        with harness.RuntimeEmulator(harness.RELEASE_BINARY, proxy.endpoint, ENV) as function:
            failed = function.invoke(event)
            assert error_type(failed) == "PublishFailed", failed.body
            assert item(dynamodb, event["detail"]["eventID"]) is None, "the claim was released"
            proxy.inject("sns", None)
            retried = function.invoke(event).json()
            assert retried["status"] == "published", retried
    assert len(harness.delivered(moto, inbox)) == 1


def test_an_unreachable_table_still_publishes_and_says_so(moto, ledger):
    inbox, _ = ledger
    with faults.FaultProxy(moto.endpoint) as proxy:
        proxy.inject("dynamodb", faults.dynamodb_error("InternalServerError"))
        with harness.RuntimeEmulator(harness.RELEASE_BINARY, proxy.endpoint, ENV) as function:
            for _ in range(2):
                assert function.invoke(load()).json()["status"] == "published"
            function.wait_for_output("the duplicate check could not be made; publishing anyway")
            assert "InternalServerError" in function.output()
    # Without the ledger a redelivery cannot be recognised: a duplicate beats a lost alert.
    assert len(harness.delivered(moto, inbox)) == 2


def test_a_claim_in_flight_is_retried_and_an_expired_one_taken_over(deduplicating, moto, ledger):
    inbox, dynamodb = ledger
    event = load()
    event_id = event["detail"]["eventID"]
    claim = {"eventId": {"S": event_id}, "state": {"S": "publishing"}}
    dynamodb.put_item(TableName=TABLE, Item={**claim, "expiresAt": {"N": str(int(time.time()) + 60)}})
    busy = deduplicating.invoke(event)
    assert error_type(busy) == "InFlight", busy.body
    assert harness.delivered(moto, inbox) == []
    # A claim past its invocation's deadline belongs to an invocation that died.
    dynamodb.put_item(TableName=TABLE, Item={**claim, "expiresAt": {"N": str(int(time.time()) - 1)}})
    assert deduplicating.invoke(event).json()["status"] == "published"
    assert len(harness.delivered(moto, inbox)) == 1


def test_deliveries_racing_on_several_instances_publish_once(moto, ledger):
    inbox, _ = ledger
    event = load()
    instances = [harness.RuntimeEmulator(harness.RELEASE_BINARY, moto.endpoint, ENV) for _ in range(4)]
    try:
        for round_number in range(3):
            event["detail"]["eventID"] = f"6f3c1b2a-8e4d-4c1f-a7b9-00000000a{round_number:03d}"
            with ThreadPoolExecutor(len(instances)) as pool:
                answers = list(pool.map(lambda instance: instance.invoke(event), instances))
            published = [a for a in answers if status(a) == "published"]
            others = [a for a in answers if a not in published]
            assert len(published) == 1, [a.body for a in answers]
            # The others saw it published, or in flight (Lambda retries those: then duplicates).
            for answer in others:
                assert error_type(answer) == "InFlight" or status(answer) == "duplicate", answer.body
            # Once the winner has finished, every later delivery is a duplicate.
            assert instances[0].invoke(event).json()["status"] == "duplicate"
        assert len(harness.delivered(moto, inbox)) == 3
    finally:
        for instance in instances:
            instance.stop()

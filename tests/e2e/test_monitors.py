"""The red-team techniques that blind CloudTrail, one test each, on the real runtime + moto:
StopLogging, DeleteTrail, PutEventSelectors that drop management events, a 1-day lifecycle on
the trail's bucket, and the trail's key and log group; the chat thread a delivery-chain alert
joins; then trusted principals.

Where the technique's own call matters to what the function finds (a stopped or deleted trail,
new selectors), the test makes the call on moto first (harness.replay), as real CloudTrail
would have done before the event arrives."""

from __future__ import annotations

import copy
import json

import pytest

import harness

NO_COVERING_TRAIL = "no active multi-region trail remains"
# Two globs, comma-separated: the first matches nothing in the samples, the second the CI role
# (the session issuer of update-trail-benign and the other ci-deploy samples).
TRUSTED_PRINCIPALS = f"arn:aws:iam::999999999999:role/*,arn:aws:iam::{harness.ACCOUNT}:role/ci-*"


def load(sample: str) -> dict:
    return harness.load_event(harness.EVENTS / f"{sample}.json")


def run(function, moto, inbox: str, event: dict, *, replay: bool = False):
    """Invokes the function with the event (after making its call on moto if replay) and returns
    (the function's result, the one alert delivered)."""
    if replay:
        assert harness.replay(moto, event), "the sample's call was not replayed"
    result = function.invoke(event)
    assert result.function_error is None, result.body
    summary = result.json()
    assert summary["status"] == "published", summary
    messages = harness.delivered(moto, inbox)
    assert len(messages) == 1, messages
    [message] = messages
    assert message.attributes["severity"] == message.alert["severity"] == summary["severity"]
    return summary, message


def names(entries: list, name: str, arn: str) -> bool:
    return arn in entries or name in entries


def assert_uncovered(alert: dict) -> None:
    assert alert["severity"] == "CRITICAL"
    assert alert["coverage"]["verdict"] == "uncovered", alert["coverage"]
    assert alert["coverage"]["coveringTrails"] == []
    assert any(NO_COVERING_TRAIL in reason for reason in alert["reasons"]), alert["reasons"]


def assert_covered_by(alert: dict, name: str, arn: str) -> None:
    coverage = alert["coverage"]
    assert coverage["verdict"] == "covered", coverage
    assert names(coverage["coveringTrails"], name, arn), coverage
    assert not any(NO_COVERING_TRAIL in reason for reason in alert["reasons"]), alert["reasons"]


def trail_status(alert: dict) -> dict:
    state = alert["resourceState"]
    assert state["type"] == "trail", state
    return state["status"] or {}


def delivery_chain(kind: str) -> dict:
    return {
        "type": "deliveryChain",
        "trails": [{"name": harness.TRAIL, "arn": harness.TRAIL_ARN, "homeRegion": harness.HOME_REGION, "uses": kind}],
    }


# ---------------------------------------------------------------- StopLogging, DeleteTrail


def test_stopping_the_only_multi_region_trail_is_critical_and_uncovered(function, moto, world):
    inbox = world()
    _, message = run(function, moto, inbox, load("stop-logging"), replay=True)
    alert = message.alert
    assert_uncovered(alert)
    assert alert["resource"]["kind"] == "trail"
    assert alert["resource"]["arn"] == harness.TRAIL_ARN
    assert trail_status(alert)["isLogging"] is False
    assert message.attributes["trail"] == harness.TRAIL


def test_stopping_one_of_two_trails_is_still_critical_and_names_the_trail_that_covers(function, moto, world):
    inbox = world(second_trail=True)
    _, message = run(function, moto, inbox, load("stop-logging"), replay=True)
    alert = message.alert
    assert alert["severity"] == "CRITICAL"
    assert_covered_by(alert, harness.SECOND_TRAIL, harness.SECOND_TRAIL_ARN)
    # The stopped trail never covers for itself.
    assert not names(alert["coverage"]["coveringTrails"], harness.TRAIL, harness.TRAIL_ARN)


@pytest.mark.parametrize("second_trail", [False, True], ids=["only-trail", "second-trail"])
def test_deleting_a_trail_is_critical_and_says_whether_another_covers(function, moto, world, second_trail):
    inbox = world(second_trail=second_trail)
    _, message = run(function, moto, inbox, load("delete-trail"), replay=True)
    alert = message.alert
    assert alert["severity"] == "CRITICAL"
    assert alert["resource"]["kind"] == "trail"
    assert alert["resource"]["name"] == harness.TRAIL
    if second_trail:
        assert_covered_by(alert, harness.SECOND_TRAIL, harness.SECOND_TRAIL_ARN)
        assert not names(alert["coverage"]["coveringTrails"], harness.TRAIL, harness.TRAIL_ARN)
    else:
        assert_uncovered(alert)


# ---------------------------------------------------------------- PutEventSelectors


def test_read_only_selectors_seen_before_they_apply_are_high_and_covered_by_the_trail_itself(function, moto, world):
    """Without the replay moto still has the seeded selectors (All): management-events itself
    still records write management events."""
    inbox = world()
    _, message = run(function, moto, inbox, load("put-event-selectors-read-only"))
    alert = message.alert
    assert alert["severity"] == "HIGH"
    assert alert["resource"]["kind"] == "trail"
    assert alert["resource"]["name"] == harness.TRAIL
    assert_covered_by(alert, harness.TRAIL, harness.TRAIL_ARN)


@pytest.mark.parametrize("sample", ["put-event-selectors-read-only", "put-event-selectors-advanced-no-management"])
def test_selectors_that_drop_write_management_events_leave_the_account_uncovered(function, moto, world, sample):
    inbox = world()
    _, message = run(function, moto, inbox, load(sample), replay=True)
    alert = message.alert
    assert_uncovered(alert)
    assert alert["resourceState"]["eventSelectors"] is not None
    assert trail_status(alert)["isLogging"] is True


@pytest.mark.parametrize("sample", ["put-event-selectors-read-only", "put-event-selectors-advanced-no-management"])
def test_selectors_that_drop_management_events_with_a_second_trail_stay_high(function, moto, world, sample):
    inbox = world(second_trail=True)
    _, message = run(function, moto, inbox, load(sample), replay=True)
    alert = message.alert
    assert alert["severity"] == "HIGH"
    assert_covered_by(alert, harness.SECOND_TRAIL, harness.SECOND_TRAIL_ARN)
    assert not names(alert["coverage"]["coveringTrails"], harness.TRAIL, harness.TRAIL_ARN)


def test_selectors_that_keep_management_events_are_low_without_coverage(function, moto, world):
    inbox = world()
    _, message = run(function, moto, inbox, load("put-event-selectors-benign"), replay=True)
    assert message.alert["severity"] == "LOW"
    assert message.alert["coverage"] is None


# ---------------------------------------------------------------- the delivery chain


def test_a_one_day_lifecycle_on_the_trails_bucket_is_critical_and_names_the_trail(function, moto, world):
    inbox = world()
    summary, message = run(function, moto, inbox, load("put-bucket-lifecycle-1-day"))
    alert = message.alert
    assert summary["severity"] == "CRITICAL"
    assert alert["resource"]["kind"] == "bucket" == message.attributes["resourceKind"]
    assert alert["resource"]["name"] == harness.BUCKET
    assert alert["resourceState"] == delivery_chain("bucket")
    assert message.attributes["trail"] == harness.TRAIL
    assert alert["coverage"] is None
    assert alert["enrichmentError"] is None


def test_a_disabled_key_named_by_bare_id_is_resolved_to_the_trails_key(function, moto, world):
    inbox = world()
    event = load("disable-key")
    assert event["detail"]["requestParameters"]["keyId"] == harness.KEY_ID
    _, message = run(function, moto, inbox, event)
    alert = message.alert
    assert alert["severity"] == "CRITICAL"
    assert alert["resource"]["kind"] == "key" == message.attributes["resourceKind"]
    assert alert["resource"]["arn"] == harness.KEY_ARN
    assert alert["resourceState"] == delivery_chain("key")
    assert message.attributes["trail"] == harness.TRAIL


def test_deleting_the_trails_log_group_is_high_and_names_the_trail(function, moto, world):
    inbox = world()
    _, message = run(function, moto, inbox, load("delete-log-group"))
    alert = message.alert
    assert alert["severity"] == "HIGH"
    assert alert["resource"]["kind"] == "log-group" == message.attributes["resourceKind"]
    assert alert["resource"]["name"] == harness.LOG_GROUP
    assert alert["resourceState"] == delivery_chain("log-group")
    assert message.attributes["trail"] == harness.TRAIL


def other_key(event: dict) -> dict:
    event = copy.deepcopy(event)
    other = "7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918"
    event["detail"]["requestParameters"]["keyId"] = other
    event["detail"]["resources"][0]["ARN"] = f"arn:aws:kms:{harness.HOME_REGION}:{harness.ACCOUNT}:key/{other}"
    return event


def other_log_group(event: dict) -> dict:
    event = copy.deepcopy(event)
    event["detail"]["requestParameters"]["logGroupName"] = "/aws/lambda/website"
    return event


@pytest.mark.parametrize(
    "sample, change",
    [
        ("put-bucket-lifecycle-unrelated-bucket", None),
        ("disable-key", other_key),
        ("delete-log-group", other_log_group),
    ],
    ids=["bucket", "key", "log-group"],
)
def test_the_same_call_on_a_resource_no_trail_uses_is_ignored(function, moto, world, sample, change):
    inbox = world()
    event = load(sample)
    if change:
        event = change(event)
    result = function.invoke(event)
    assert result.function_error is None, result.body
    summary = result.json()
    assert summary["status"] == "ignored", summary
    assert summary["eventId"] == event["detail"]["eventID"]
    assert summary["reason"], summary
    assert harness.delivered(moto, inbox) == []


# ---------------------------------------------------------------- chat threads


@pytest.fixture
def chat(moto):
    """Call after world(): the chat cards delivered to an https subscriber of the alert topic."""
    subscribers = []

    def subscribe() -> harness.ChatSubscriber:
        subscribers.append(harness.ChatSubscriber(moto))
        return subscribers[-1]

    yield subscribe
    for subscriber in subscribers:
        subscriber.stop()


def thread_of(function, moto, inbox: str, chat: harness.ChatSubscriber, event: dict) -> str:
    """The threadId of the one chat card the event gives."""
    before = len(chat.cards())
    run(function, moto, inbox, event)
    cards = chat.cards()[before:]
    assert len(cards) == 1, cards
    return cards[0]["metadata"]["threadId"]


@pytest.mark.parametrize(
    "sample, kind",
    [("put-bucket-policy", "bucket"), ("put-key-policy", "key"), ("delete-log-group", "log-group")],
)
def test_a_bucket_key_or_log_group_alert_joins_its_trails_chat_thread(function, moto, world, chat, sample, kind):
    """docs/deploy.md, Threads: alerts about one trail on one day share a threadId, and a bucket,
    key or log group joins the thread of the trail that uses it. (Both alerts here are HIGH: a
    CRITICAL one starts a thread of its own.)"""
    inbox = world()
    subscriber = chat()
    trail_event, chain_event = load("update-trail-weakens"), load(sample)
    assert trail_event["time"][:10] == chain_event["time"][:10], "the same day"
    trail_thread = thread_of(function, moto, inbox, subscriber, trail_event)
    chain_thread = thread_of(function, moto, inbox, subscriber, chain_event)
    assert chain_thread == trail_thread, f"the {kind} of {harness.TRAIL} has a thread of its own"


def test_a_bucket_joins_the_thread_of_the_trail_that_uses_it_not_another(function, moto, world, chat):
    """The control for the test above: with two trails, each bucket's alert joins its own trail's
    thread, so the threads are the trails' and not one for every alert."""
    inbox = world(second_trail=True)
    subscriber = chat()
    second_bucket = copy.deepcopy(load("put-bucket-policy"))
    second_bucket["detail"]["requestParameters"]["bucketName"] = harness.SECOND_BUCKET
    # The same UpdateTrail on backup-trail (its request and response name the trail).
    second_trail = json.loads(json.dumps(load("update-trail-weakens")).replace(harness.TRAIL, harness.SECOND_TRAIL))
    threads = {
        name: thread_of(function, moto, inbox, subscriber, event)
        for name, event in [
            ("management-events", load("update-trail-weakens")),
            ("its bucket", load("put-bucket-policy")),
            ("backup-trail", second_trail),
            ("its bucket too", second_bucket),
        ]
    }
    assert threads["its bucket"] == threads["management-events"] != threads["backup-trail"] == threads["its bucket too"], threads


def test_a_critical_alert_starts_a_thread_of_its_own(function, moto, world, chat):
    """docs/deploy.md: never a reply hidden under an older, lower alert."""
    inbox = world()
    subscriber = chat()
    trail_thread = thread_of(function, moto, inbox, subscriber, load("update-trail-weakens"))
    critical = {sample: thread_of(function, moto, inbox, subscriber, load(sample)) for sample in ["stop-logging", "delete-bucket"]}
    assert len({trail_thread, *critical.values()}) == 3, {"update-trail-weakens": trail_thread, **critical}


# ---------------------------------------------------------------- trusted principals


@pytest.fixture(scope="module")
def trusted_function(moto):
    emulator = harness.RuntimeEmulator(harness.RELEASE_BINARY, moto.endpoint, {"TRUSTED_PRINCIPALS": TRUSTED_PRINCIPALS})
    yield emulator
    emulator.stop()


def as_ci_deploy(event: dict) -> dict:
    """The event made by the trusted CI role (the identity of update-trail-benign)."""
    event = copy.deepcopy(event)
    event["detail"]["userIdentity"] = copy.deepcopy(load("update-trail-benign")["detail"]["userIdentity"])
    return event


def mentions_trust(alert: dict) -> bool:
    return any("trusted principal" in reason for reason in alert["reasons"])


@pytest.mark.parametrize(
    "sample, severity",
    [
        # calls that reduce nothing: informational when a trusted principal makes them
        ("update-trail-benign", "INFORMATIONAL"),
        ("put-event-selectors-benign", "INFORMATIONAL"),
        ("create-trail", "INFORMATIONAL"),
        ("update-event-data-store-benign", "INFORMATIONAL"),
        # failed calls and calls that reduce what is kept keep their severity
        ("create-trail-failed", "INFORMATIONAL"),
        ("put-bucket-lifecycle-90-days", "HIGH"),
        ("put-retention-policy-30-days", "MEDIUM"),
        ("put-bucket-policy", "HIGH"),
    ],
)
def test_a_trusted_principals_calls(trusted_function, moto, world, sample, severity):
    inbox = world()
    event = as_ci_deploy(load(sample))
    _, message = run(trusted_function, moto, inbox, event)
    alert = message.alert
    assert alert["severity"] == severity
    assert alert["trustedPrincipal"] is True
    if severity == "INFORMATIONAL":
        assert mentions_trust(alert), alert["reasons"]


@pytest.mark.parametrize("sample", ["stop-logging", "update-trail-weakens", "put-event-selectors-read-only"])
def test_a_trusted_principal_that_blinds_a_trail_keeps_the_severity(trusted_function, moto, world, sample):
    inbox = world()
    event = as_ci_deploy(load(sample))
    _, message = run(trusted_function, moto, inbox, event, replay=sample == "stop-logging")
    alert = message.alert
    assert alert["severity"] == {"stop-logging": "CRITICAL"}.get(sample, "HIGH")
    assert alert["trustedPrincipal"] is True
    assert mentions_trust(alert), alert["reasons"]


def test_the_same_call_by_an_untrusted_principal_keeps_its_severity(trusted_function, moto, world):
    inbox = world()
    event = copy.deepcopy(load("update-trail-benign"))
    event["detail"]["userIdentity"] = copy.deepcopy(load("stop-logging")["detail"]["userIdentity"])
    _, message = run(trusted_function, moto, inbox, event)
    alert = message.alert
    assert alert["actor"]["arn"] == f"arn:aws:iam::{harness.ACCOUNT}:user/alice"
    assert alert["severity"] == "MEDIUM"
    assert alert["trustedPrincipal"] is False
    assert not mentions_trust(alert)

"""Central mode reads a member account through trailwatch's read role there (issue 17), on the
real runtime + moto with two accounts.

moto runs without MOTO_ACCOUNT_ID here, so its default account (123456789012) is the central
account, where the function runs and its topics live, and STS AssumeRole into 111122223333 (the
account of every sample in events/) gives that member account's view. The member's world (its
trails, buckets, key and log group) is seeded through such a session; the central account has
no trail at all, so any trail state an alert shows was read in the member account.

moto's AssumeRole ignores trust policies (the role need not exist): who may assume the role is
proven by the template tests (test_template.py), and a refused AssumeRole here by the fault
proxy answering STS with AccessDenied."""

from __future__ import annotations

import pytest

import faults
import harness

CENTRAL = "123456789012"
MEMBER = harness.ACCOUNT
READ_ROLE = f"trailwatch-read-{harness.OWN_ID}"
CENTRAL_TOPIC_ARN = f"arn:aws:sns:{harness.HOME_REGION}:{CENTRAL}:{harness.TOPIC_NAME}"
CENTRAL_HEALTH_TOPIC_ARN = f"arn:aws:sns:{harness.HOME_REGION}:{CENTRAL}:{harness.HEALTH_TOPIC_NAME}"


def central_env(**extra: str) -> dict[str, str]:
    """The central function's environment: its topics and own resources in the central account,
    and the member accounts' read role."""
    return {
        "ALERT_TOPIC_ARN": CENTRAL_TOPIC_ARN,
        "HEALTH_TOPIC_ARN": CENTRAL_HEALTH_TOPIC_ARN,
        "OWN_KEY_ARN": harness.OWN_KEY_ARN.replace(MEMBER, CENTRAL),
        "OWN_ROLE_ARN": harness.OWN_ROLE_ARN.replace(MEMBER, CENTRAL),
        "OWN_QUEUE_ARNS": ",".join(arn.replace(MEMBER, CENTRAL) for arn in harness.OWN_QUEUE_ARNS),
        "MEMBER_ROLE_NAME": READ_ROLE,
        # Self-healing is on, to show that it never writes in a member account.
        "AUTO_RESTART_LOGGING": "true",
        **extra,
    }


@pytest.fixture
def central(org_moto):
    # One per test: the function keeps its session in the member account, and moto's reset
    # forgets it (moto then reads the central account under those keys; AWS would not).
    emulator = harness.RuntimeEmulator(harness.RELEASE_BINARY, org_moto.endpoint, central_env())
    yield emulator
    emulator.stop()


@pytest.fixture
def org(org_moto):
    """A reset moto with the member's world seeded in the member account and the central
    account's alert inbox; returns (member view, central inbox URL)."""
    org_moto.reset()
    member = harness.AccountView(org_moto, MEMBER)
    harness.seed(member)
    assert org_moto.client("cloudtrail").describe_trails()["trailList"] == [], "the central account has no trail"
    sns, sqs = org_moto.client("sns"), org_moto.client("sqs")
    topic = sns.create_topic(Name=harness.TOPIC_NAME)["TopicArn"]
    assert topic == CENTRAL_TOPIC_ARN, topic
    sns.create_topic(Name=harness.HEALTH_TOPIC_NAME)
    inbox = sqs.create_queue(QueueName=harness.QUEUE_NAME)["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox_arn)
    return member, inbox


def alert_for(function, org_moto, inbox: str, event: dict):
    result = function.invoke(event)
    assert result.function_error is None, result.body
    summary = result.json()
    assert summary["status"] == "published", summary
    [message] = harness.delivered(org_moto, inbox)
    return summary, message


def test_a_member_trail_stopped_is_read_through_the_members_role(central, org_moto, org):
    member, inbox = org
    event = harness.load_event(harness.EVENTS / "stop-logging.json")
    assert harness.replay(member, event), "StopLogging made in the member account"
    summary, message = alert_for(central, org_moto, inbox, event)
    alert = message.alert
    assert alert["enrichmentError"] is None, alert["enrichmentError"]
    state = alert["resourceState"]
    assert state["type"] == "trail", state
    assert state["status"]["isLogging"] is False, state
    # The member's own trails decide coverage, as they would in a standalone stack there.
    assert alert["coverage"]["verdict"] == "uncovered", alert["coverage"]
    assert summary["severity"] == "CRITICAL"
    # Self-healing stays out of a member account: its role there only reads.
    assert alert["autoRestart"]["outcome"] == "not-restarted", alert["autoRestart"]
    assert MEMBER in alert["autoRestart"]["detail"]
    assert member.client("cloudtrail").get_trail_status(Name=harness.TRAIL)["IsLogging"] is False


def test_a_lifecycle_rule_on_a_member_trails_bucket_names_the_members_trail(central, org_moto, org):
    _, inbox = org
    summary, message = alert_for(central, org_moto, inbox, harness.load_event(harness.EVENTS / "put-bucket-lifecycle-1-day.json"))
    alert = message.alert
    assert summary["severity"] == "CRITICAL"
    assert alert["resource"]["name"] == harness.BUCKET
    assert alert["resourceState"] == {
        "type": "deliveryChain",
        "trails": [{"name": harness.TRAIL, "arn": harness.TRAIL_ARN, "homeRegion": harness.HOME_REGION, "uses": "bucket"}],
    }
    assert message.attributes["trail"] == harness.TRAIL
    assert alert["enrichmentError"] is None


def test_a_member_bucket_no_trail_uses_is_ignored(central, org_moto, org):
    _, inbox = org
    result = central.invoke(harness.load_event(harness.EVENTS / "put-bucket-lifecycle-unrelated-bucket.json"))
    summary = result.json()
    assert summary["status"] == "ignored", summary
    assert "no trail uses this bucket" in summary["reason"]
    assert harness.delivered(org_moto, inbox) == []


@pytest.mark.parametrize(
    "refusal",
    [
        faults.sts_error("AccessDenied", message=f"User is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::{MEMBER}:role/{READ_ROLE}"),
        faults.sts_error("NoSuchEntity", 404, message="the role does not exist"),
    ],
    ids=["denied", "missing"],
)
def test_a_role_that_cannot_be_assumed_still_publishes_and_says_so(org_moto, org, refusal):
    member, inbox = org
    with faults.FaultProxy(org_moto.endpoint) as proxy:
        proxy.inject("sts", refusal)
        with harness.RuntimeEmulator(harness.RELEASE_BINARY, proxy.endpoint, central_env()) as function:
            for sample in ("stop-logging", "put-bucket-lifecycle-1-day"):
                summary, message = alert_for(function, org_moto, inbox, harness.load_event(harness.EVENTS / f"{sample}.json"))
                problem = message.alert["enrichmentError"]
                assert f"account {MEMBER}'s resources could not be read" in problem, problem
                assert f"arn:aws:iam::{MEMBER}:role/{READ_ROLE}" in problem, problem
                assert refusal.body.decode().split("<Code>")[1].split("<")[0] in problem, problem
                assert summary["severity"] in ("HIGH", "CRITICAL")
            assert proxy.count("sts", "AssumeRole") >= 2, "a failure is not kept: every event tries again"
            # Nothing was read in the central account in the member's place.
            assert proxy.count("cloudtrail", "GetTrailStatus") == 0
            assert proxy.count("cloudtrail", "DescribeTrails") == 0


def test_one_session_serves_every_event_from_the_account(org_moto, org):
    _, inbox = org
    with faults.FaultProxy(org_moto.endpoint) as proxy:
        with harness.RuntimeEmulator(harness.RELEASE_BINARY, proxy.endpoint, central_env()) as function:
            for sample in ("put-bucket-lifecycle-1-day", "stop-logging", "put-bucket-lifecycle-1-day"):
                alert_for(function, org_moto, inbox, harness.load_event(harness.EVENTS / f"{sample}.json"))
            assert proxy.count("sts", "AssumeRole") == 1

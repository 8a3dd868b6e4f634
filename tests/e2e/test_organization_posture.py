"""The organization's posture run (issue 17), on the real runtime + moto with several accounts,
through the real fan-out path: the scheduled invocation sends one check per account to the
posture queue (moto's SQS), the function is handed those checks in batches as the event source
mapping would hand them (moto runs no mapping without Docker), each batch's results go to the
ledger table (moto's DynamoDB), and the check that completes the run publishes its one summary.

The accounts: the central account itself (read with the function's own role: no trail at all),
a member with the trails of events/ (111122223333), a member whose only trail was stopped
(444455556666), and one whose read role cannot be assumed (999999999999: the fault proxy
refuses its AssumeRole; moto's own AssumeRole ignores trust policies)."""

from __future__ import annotations

import datetime
import json

import pytest

import faults
import harness
from test_members import CENTRAL, central_env

MEMBER = harness.ACCOUNT
STOPPED = "444455556666"
UNREADABLE = "999999999999"
ACCOUNTS = [CENTRAL, MEMBER, STOPPED, UNREADABLE]
TABLE = "trailwatch-events"
POSTURE_QUEUE = f"trailwatch-{harness.OWN_ID}-posture"
REGIONS = "us-east-1,eu-west-1"


@pytest.fixture
def organization(org_moto):
    """A reset moto with every account's world; returns (inbox URL, posture queue URL, env)."""
    org_moto.reset()
    harness.seed(harness.AccountView(org_moto, MEMBER))
    stopped = harness.AccountView(org_moto, STOPPED)
    stopped.client("s3").create_bucket(Bucket="stopped-trail-bucket")
    trails = stopped.client("cloudtrail")
    trails.create_trail(Name="only-trail", S3BucketName="stopped-trail-bucket", IsMultiRegionTrail=True, EnableLogFileValidation=True)
    trails.start_logging(Name="only-trail")
    trails.stop_logging(Name="only-trail")

    sns, sqs = org_moto.client("sns"), org_moto.client("sqs")
    topic = sns.create_topic(Name=harness.TOPIC_NAME)["TopicArn"]
    sns.create_topic(Name=harness.HEALTH_TOPIC_NAME)
    inbox = sqs.create_queue(QueueName=harness.QUEUE_NAME)["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox_arn)
    queue = sqs.create_queue(QueueName=POSTURE_QUEUE)["QueueUrl"]
    org_moto.client("dynamodb").create_table(
        TableName=TABLE, AttributeDefinitions=[{"AttributeName": "eventId", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "eventId", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
    env = central_env(
        POSTURE_ACCOUNTS=",".join(ACCOUNTS), POSTURE_REGIONS=REGIONS, DEDUP_TABLE=TABLE,
        POSTURE_QUEUE_URL=queue, AUTO_RESTART_LOGGING="false",
        # Lambda's timeout for the function as the template deploys it.
        AWS_LAMBDA_FUNCTION_TIMEOUT="60")
    return inbox, queue, env


@pytest.fixture
def proxied(org_moto):
    """The fault proxy in front of moto, refusing AssumeRole into the unreadable account only."""
    with faults.FaultProxy(org_moto.endpoint) as proxy:
        proxy.inject("sts", faults.sts_error(
            "AccessDenied", message=f"User is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::{UNREADABLE}:role/x",
            operation="AssumeRole", matching=UNREADABLE.encode()))
        yield proxy


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def receive_all(sqs, queue: str, expected: int) -> list[dict]:
    """Every message of the queue (SQS hands at most ten at a time)."""
    messages: list[dict] = []
    for _ in range(expected + 5):
        if len(messages) >= expected:
            break
        messages += sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    return messages


def hand_over(function, sqs, queue: str, messages: list[dict], per_batch: int) -> list[dict]:
    """Hands the checks to the function in batches of `per_batch`; the answers."""
    return [harness.hand_batch(function, sqs, queue, messages[start:start + per_batch])
            for start in range(0, len(messages), per_batch)]


def test_every_account_is_checked_through_the_queue_and_summed_up_once(org_moto, organization, proxied):
    inbox, queue, env = organization
    sqs = org_moto.client("sqs")
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, proxied.endpoint, env) as function:
        schedule = harness.scheduled_event(now(), report_all=True)
        started = function.invoke(schedule).json()
        assert started["status"] == "run-started", started
        assert started["reason"] == "4 account check(s) sent"
        # The schedule's event delivered again starts nothing new.
        again = function.invoke(schedule).json()
        assert again["status"] == "duplicate", again
        messages = receive_all(sqs, queue, len(ACCOUNTS))
        assert sorted(json.loads(m["Body"])["account"] for m in messages) == sorted(ACCOUNTS)
        assert harness.delivered(org_moto, inbox) == [], "nothing is published before every account answered"

        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        first = harness.hand_batch(function, sqs, queue, messages[:2])
        # SQS delivers at least once: the same two checks again count once, so the run is not
        # complete with two of its four accounts.
        twice = function.invoke(harness.sqs_batch(messages[:2], arn)).json()
        assert harness.delivered(org_moto, inbox) == [], "two accounts answered twice are not four"
        answers = [first, twice, *hand_over(function, sqs, queue, messages[2:], per_batch=2)]
        assert [a["status"] for a in answers] == ["accounts-checked"] * 3, answers
        assert all(a["batchItemFailures"] == [] for a in answers), answers
        assert function.output().count("posture check finished") == 1, "one finished line, for the dead man's switch"

        [summary] = harness.delivered(org_moto, inbox)
        alert = summary.alert
        assert alert["kind"] == "posture"
        posture = alert["posture"]
        assert posture["organization"] == {"accountsChecked": 4, "accountsWithFindings": 4, "omittedFindings": 0, "omittedAccounts": 0}
        assert posture["regions"] == REGIONS.split(",")
        by_account: dict[str, list[dict]] = {}
        for finding in posture["findings"]:
            by_account.setdefault(finding["account"], []).append(finding)
        # Grouped: each account's findings together.
        order = [f["account"] for f in posture["findings"]]
        assert order == sorted(order, key=lambda account: order.index(account))
        assert [f["check"] for f in by_account[UNREADABLE]] == ["account-not-read"]
        assert "AccessDenied" in by_account[UNREADABLE][0]["detail"]
        assert "not-logging" in [f["check"] for f in by_account[STOPPED]]
        assert any("only-trail" in (f.get("trail") or "") for f in by_account[STOPPED])
        # The central account was read with the function's own role: it has no trail at all.
        assert [f["check"] for f in by_account[CENTRAL]] == ["no-multi-region-trail"]
        # The member with events/'s trails: its single-region trail has no log file validation.
        assert [f["check"] for f in by_account[MEMBER]] == ["log-file-validation-off"]
        ranks = ["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"]
        worst = max((f["severity"] for f in posture["findings"]), key=ranks.index)
        assert summary.attributes["severity"] == alert["severity"] == worst
        assert "Organization posture" in summary.subject
        assert any(step["action"].startswith(f"In account `{STOPPED}`") for step in alert["nextSteps"])

        # What the run cost, as docs/deploy.md counts it: one batch send for four accounts; a
        # write of each result and of each answer (six checks handled, two of them twice); the
        # run's record (and the refused second one), its "sent" mark, the summary's claim and
        # its "sent" mark; one batch read.
        calls = proxied.counts()
        assert calls[("sqs", "SendMessageBatch")] == 1, calls
        assert calls[("dynamodb", "PutItem")] == 2 + 6, calls
        assert calls[("dynamodb", "UpdateItem")] == 6 + 3, calls
        assert calls[("dynamodb", "BatchGetItem")] == 1, calls
        # One AssumeRole per member account (the central account is read with the function's own).
        assert calls[("sts", "AssumeRole")] == 3, calls

        # A check delivered again after the run is complete sends nothing more.
        late = function.invoke(harness.sqs_batch(messages[:1], arn)).json()
        assert late["batchItemFailures"] == [], late
        assert harness.delivered(org_moto, inbox) == []
        assert function.output().count("posture check finished") == 1


def test_a_summary_that_cannot_be_published_is_delivered_again_and_sent_once(org_moto, organization, proxied):
    inbox, queue, env = organization
    sqs = org_moto.client("sqs")
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, proxied.endpoint, env) as function:
        assert function.invoke(harness.scheduled_event(now(), report_all=True)).json()["status"] == "run-started"
        messages = receive_all(sqs, queue, len(ACCOUNTS))
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        first, last = messages[:-1], messages[-1:]
        assert function.invoke(harness.sqs_batch(first, arn)).json()["batchItemFailures"] == []
        proxied.inject("sns", faults.sns_error("Throttling", 400, "Rate exceeded", operation="Publish"))
        failed = function.invoke(harness.sqs_batch(last, arn)).json()
        assert failed["batchItemFailures"] == [{"itemIdentifier": last[0]["MessageId"]}], failed
        assert harness.delivered(org_moto, inbox) == []
        proxied.inject("sns", None)
        # SQS delivers the check again: its result counts once, and the summary goes out.
        retried = function.invoke(harness.sqs_batch(last, arn)).json()
        assert retried["batchItemFailures"] == [], retried
        [summary] = harness.delivered(org_moto, inbox)
        assert summary.alert["posture"]["organization"]["accountsChecked"] == 4
        assert function.output().count("posture check finished") == 1


def test_the_accounts_can_come_from_organizations(org_moto, organization):
    inbox, queue, env = organization
    orgs = org_moto.client("organizations")
    orgs.create_organization(FeatureSet="ALL")
    for name in ("workloads", "sandbox"):
        orgs.create_account(AccountName=name, Email=f"{name}@example.com")
    listed = sorted(account["Id"] for account in orgs.list_accounts()["Accounts"])
    assert len(listed) == 3 and CENTRAL in listed
    env = {**env, "POSTURE_ACCOUNTS": "organization"}
    sqs = org_moto.client("sqs")
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, org_moto.endpoint, env) as function:
        started = function.invoke(harness.scheduled_event(now())).json()
        assert started["status"] == "run-started", started
        messages = receive_all(sqs, queue, len(listed))
        assert sorted(json.loads(m["Body"])["account"] for m in messages) == listed


def test_a_run_that_cannot_be_recorded_fails_so_lambda_retries_it(org_moto, organization):
    _, queue, env = organization
    with faults.FaultProxy(org_moto.endpoint) as proxy:
        proxy.inject("dynamodb", faults.dynamodb_error("InternalServerError"))
        with harness.RuntimeEmulator(harness.RELEASE_BINARY, proxy.endpoint, env) as function:
            answer = function.invoke(harness.scheduled_event(now())).json()
            assert answer["errorType"] == "RunNotStarted", answer
            assert "could not be recorded" in answer["errorMessage"]
    assert org_moto.client("sqs").receive_message(QueueUrl=queue, WaitTimeSeconds=0).get("Messages", []) == []


def hub_findings(view) -> dict[str, dict]:
    """The account's posture findings in its own Security Hub, by Id."""
    found = view.client("securityhub").get_findings(MaxResults=100)["Findings"]
    return {f["Id"]: f for f in found if f["GeneratorId"].startswith("trailwatch/posture/")}


def run_once(function, sqs, queue: str, report_all: bool, run: int) -> None:
    schedule = harness.scheduled_event(now(), report_all=report_all)
    schedule["id"] = f"5d2c1b0a-9f8e-4d7c-8b6a-00000000000{run}"
    assert function.invoke(schedule).json()["status"] == "run-started"
    messages = receive_all(sqs, queue, len(ACCOUNTS))
    answers = hand_over(function, sqs, queue, messages, per_batch=5)
    assert all(a["batchItemFailures"] == [] for a in answers), answers


def test_each_accounts_posture_findings_are_kept_in_its_own_security_hub(org_moto, organization, proxied):
    inbox, queue, env = organization
    env = {**env, "SECURITY_HUB_FINDINGS": "true"}
    sqs = org_moto.client("sqs")
    stopped = harness.AccountView(org_moto, STOPPED)
    member = harness.AccountView(org_moto, MEMBER)
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, proxied.endpoint, env) as function:
        run_once(function, sqs, queue, report_all=True, run=1)
        in_stopped = hub_findings(stopped)
        stopped_trail = f"arn:aws:cloudtrail:us-east-1:{STOPPED}:trail/only-trail"
        not_logging = f"trailwatch/{STOPPED}/posture/not-logging/{stopped_trail}"
        assert not_logging in in_stopped, list(in_stopped)
        assert all(f["AwsAccountId"] == STOPPED for f in in_stopped.values())
        assert in_stopped[not_logging]["ProductArn"] == f"arn:aws:securityhub:{harness.HOME_REGION}:{STOPPED}:product/{STOPPED}/default"
        assert [f["GeneratorId"] for f in hub_findings(member).values()] == ["trailwatch/posture/log-file-validation-off"]
        central = hub_findings(org_moto)
        # The central account's own check (no trail at all), and trailwatch itself, checked
        # where the run starts (moto holds none of its rules).
        assert sorted(f["GeneratorId"] for f in central.values()) == [
            "trailwatch/posture/no-multi-region-trail", "trailwatch/posture/rule-not-as-deployed"]
        assert all(f["AwsAccountId"] == CENTRAL for f in central.values())
        # The account that cannot be read has nothing imported (its role is refused), and the
        # run still finishes.
        assert hub_findings(harness.AccountView(org_moto, UNREADABLE)) == {}
        assert function.output().count("posture check finished") == 1

        # Fixed in the member account: the next run archives the finding there.
        stopped.client("cloudtrail").start_logging(Name="only-trail")
        run_once(function, sqs, queue, report_all=False, run=2)
        fixed = hub_findings(stopped)[not_logging]
        assert fixed["RecordState"] == "ARCHIVED" and fixed["Compliance"]["Status"] == "PASSED"
        # Still open elsewhere: updated, not archived. The central account's check answers for
        # its trails only, so it leaves trailwatch's own finding alone.
        assert [f["RecordState"] for f in hub_findings(member).values()] == ["ACTIVE"]
        assert [f["RecordState"] for f in hub_findings(org_moto).values()] == ["ACTIVE", "ACTIVE"]

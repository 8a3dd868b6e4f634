"""The evidence archive (issue 18): every alert document, as SNS delivers it, through Amazon Data
Firehose into an encrypted, versioned S3 bucket with a retention the user sets and Object Lock
where asked, with no function code.

moto delivers nothing from SNS to Firehose, so the template is checked property by property,
and the path from the alert onwards runs for real: the function on the Runtime Interface
Emulator publishes, the notification SNS delivers (the envelope, raw delivery off, as the
subscription asks) is put into a Firehose stream that moto builds from the template's own
destination settings, and every JSON path docs/evidence.md's Athena queries use is read from the
document that reached the bucket."""

from __future__ import annotations

import gzip
import json
import re

import pytest

import harness
import template as tpl

T = tpl.load()
R = T["Resources"]
ON = {"EvidenceArchiveDays": "400"}
EVIDENCE = {"EvidenceKey", "EvidenceBucket", "EvidenceBucketPolicy", "EvidenceLogGroup", "EvidenceLogStream",
            "EvidenceDeliveryRole", "EvidenceStream", "EvidenceSubscriptionRole", "AlertEvidenceSubscription",
            "HealthEvidenceSubscription", "EvidenceDeliveryAlarm"}
DOC = (harness.ROOT / "docs" / "evidence.md").read_text()


def props(name: str, **overrides: str) -> dict:
    return tpl.evaluate(T, R[name]["Properties"], tpl.parameters(T, **{**ON, **overrides}))


def test_the_archive_is_off_by_default_and_every_part_of_it_comes_with_it():
    assert EVIDENCE == {name for name in R if name.startswith("Evidence") or name.endswith("EvidenceSubscription")}
    assert not EVIDENCE & tpl.created(T)
    assert EVIDENCE <= tpl.created(T, **ON)
    # A forwarder has no topics to archive.
    assert not EVIDENCE & tpl.created(T, Mode="forwarder", CentralEventBusArn="arn:aws:events:eu-west-1:444455556666:event-bus/x", **ON)


def test_the_bucket_is_encrypted_with_its_own_key_versioned_private_and_tls_only():
    bucket = props("EvidenceBucket")
    [rule] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "{EvidenceKey.Arn}"}
    assert rule["BucketKeyEnabled"] is True
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True} and len(bucket["PublicAccessBlockConfiguration"]) == 4
    assert bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    [tls] = props("EvidenceBucketPolicy")["PolicyDocument"]["Statement"]
    assert (tls["Effect"], tls["Action"], tls["Condition"]) == ("Deny", "s3:*", {"Bool": {"aws:SecureTransport": "false"}})
    # Its key is not the alert path's, may be used only through S3, and outlives the stack.
    key_policy = props("EvidenceKey")["KeyPolicy"]["Statement"]
    use = [s for s in key_policy if "kms:Decrypt" in s["Action"]]
    assert [s["Condition"] for s in use] == [{"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}]
    for name in ("EvidenceBucket", "EvidenceKey", "EvidenceLogGroup"):
        assert R[name]["DeletionPolicy"] == "RetainExceptOnCreate" and R[name]["UpdateReplacePolicy"] == "Retain", name


@pytest.mark.parametrize("days", ["1", "400", "3650"])
def test_each_document_is_kept_the_days_the_user_sets_and_an_early_delete_only_hides_it(days):
    [rule] = props("EvidenceBucket", EvidenceArchiveDays=days)["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled"
    assert rule["ExpirationInDays"] == days
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": days}
    parameter = T["Parameters"]["EvidenceArchiveDays"]
    assert (parameter["MinValue"], parameter["MaxValue"], parameter["Default"]) == (0, 3650, 0)


@pytest.mark.parametrize("mode", ["COMPLIANCE", "GOVERNANCE"])
def test_object_lock_where_asked_locks_each_document_for_the_retention(mode):
    bucket = props("EvidenceBucket", EvidenceObjectLock=mode)
    assert bucket["ObjectLockEnabled"] is True
    assert bucket["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": mode, "Days": "400"}}}
    unlocked = props("EvidenceBucket")
    assert "ObjectLockEnabled" not in unlocked and "ObjectLockConfiguration" not in unlocked


def test_the_stream_writes_gzipped_partitions_to_the_bucket_and_says_when_it_cannot():
    stream = props("EvidenceStream")
    assert stream["DeliveryStreamType"] == "DirectPut"
    destination = stream["ExtendedS3DestinationConfiguration"]
    assert destination["BucketARN"] == "{EvidenceBucket.Arn}"
    assert destination["RoleARN"] == "{EvidenceDeliveryRole.Arn}"
    assert destination["CompressionFormat"] == "GZIP"
    assert destination["EncryptionConfiguration"] == {"KMSEncryptionConfig": {"AWSKMSKeyARN": "{EvidenceKey.Arn}"}}
    # The layout the Athena table's partition projection reads (docs/evidence.md).
    assert destination["Prefix"] == "alerts/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"
    assert "storage.location.template' = 's3://BUCKET/alerts/year=${year}/month=${month}/day=${day}/'" in DOC
    assert destination["ErrorOutputPrefix"].startswith("errors/!{firehose:error-output-type}/")
    assert destination["CloudWatchLoggingOptions"]["Enabled"] is True
    alarm = props("EvidenceDeliveryAlarm")
    assert (alarm["Namespace"], alarm["MetricName"], alarm["AlarmActions"]) == ("AWS/Firehose", "DeliveryToS3.Success", ["{HealthTopic}"])


def granted(role: str) -> dict[str, list]:
    actions: dict[str, list] = {}
    for policy in props(role)["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            for action in [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]:
                actions.setdefault(action, []).append(statement["Resource"])
    return actions


def test_the_roles_may_write_only_the_bucket_and_put_only_into_the_stream():
    delivery = granted("EvidenceDeliveryRole")
    assert set(delivery) == {"s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject", "s3:GetBucketLocation", "s3:ListBucket",
                             "s3:ListBucketMultipartUploads", "kms:GenerateDataKey", "kms:Decrypt", "logs:PutLogEvents"}
    assert delivery["s3:PutObject"] == ["{EvidenceBucket.Arn}/*"]
    assert delivery["kms:GenerateDataKey"] == ["{EvidenceKey.Arn}"]
    assert delivery["logs:PutLogEvents"] == ["{EvidenceLogGroup.Arn}"]
    [trust] = props("EvidenceDeliveryRole")["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "firehose.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "111122223333"}}
    subscription = granted("EvidenceSubscriptionRole")
    assert set(subscription) == {"firehose:DescribeDeliveryStream", "firehose:ListDeliveryStreams", "firehose:ListTagsForDeliveryStream",
                                 "firehose:PutRecord", "firehose:PutRecordBatch"}
    assert all(resources == ["{EvidenceStream.Arn}"] for resources in subscription.values())
    [trust] = props("EvidenceSubscriptionRole")["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "sns.amazonaws.com"}


def test_both_topics_are_archived_as_sns_delivers_them_without_the_heartbeats_probe():
    alert, health = props("AlertEvidenceSubscription"), props("HealthEvidenceSubscription")
    assert (alert["TopicArn"], health["TopicArn"]) == ("{AlertTopic}", "{HealthTopic}")
    for subscription in (alert, health):
        assert subscription["Protocol"] == "firehose"
        assert subscription["Endpoint"] == "{EvidenceStream.Arn}"
        assert subscription["SubscriptionRoleArn"] == "{EvidenceSubscriptionRole.Arn}"
        # The envelope keeps SNS's MessageId, Timestamp, TopicArn and the severity attribute.
        assert subscription["RawMessageDelivery"] is False
    # The same filter as the email subscription: every alert but the probe.
    assert alert["FilterPolicy"] == props("AlertEmailSubscription", AlertEmail="sec@example.com")["FilterPolicy"]
    assert "FilterPolicy" not in health


def json_path(document, path: str):
    """What Athena's json_extract_scalar(document, path) reads, for the paths the docs use."""
    node = document
    for part in re.findall(r"\.([A-Za-z]+)|\[(\d+)\]", path[1:] if path.startswith("$") else path):
        key, index = part
        node = node[key] if key else node[int(index)]
    return node


def test_an_archived_alert_answers_every_query_the_docs_give(moto, world, function):
    world()
    sns, sqs, s3 = moto.client("sns"), moto.client("sqs"), moto.client("s3")
    # What the Firehose subscription receives: the SNS envelope (raw delivery off). An SQS
    # subscription without raw delivery gets the same envelope (plus signature fields).
    queue = sqs.create_queue(QueueName="evidence-envelope")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=harness.TOPIC_ARN, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "false"})
    event = harness.load_event(harness.EVENTS / "stop-logging.json")
    harness.replay(moto, event)
    assert function.invoke(event).json()["status"] == "published"
    [envelope] = [json.loads(body) for body in harness.drain(sqs, queue)]
    firehose_envelope = {key: envelope[key] for key in ("Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp", "MessageAttributes")}

    # The stream, from the template's own destination settings, into a bucket in moto.
    bucket = "trailwatch-evidence-e2e"
    s3.create_bucket(Bucket=bucket)
    refs = {"EvidenceBucket.Arn": f"arn:aws:s3:::{bucket}", "EvidenceDeliveryRole.Arn": f"arn:aws:iam::{harness.ACCOUNT}:role/evidence",
            "EvidenceKey.Arn": f"arn:aws:kms:{harness.HOME_REGION}:{harness.ACCOUNT}:key/evidence"}
    params = tpl.parameters(T, region=harness.HOME_REGION, account=harness.ACCOUNT, **ON)
    destination = tpl.evaluate(T, R["EvidenceStream"]["Properties"]["ExtendedS3DestinationConfiguration"], params, refs)
    destination.pop("CloudWatchLoggingOptions")
    firehose = moto.client("firehose")
    firehose.create_delivery_stream(DeliveryStreamName="trailwatch-evidence", DeliveryStreamType="DirectPut",
                                    ExtendedS3DestinationConfiguration=destination)
    # SNS separates the notifications it puts into Firehose with a line break.
    record = (json.dumps(firehose_envelope) + "\n").encode()
    harness.say(f"evidence record of the stop-logging alert: {len(record)} bytes")
    firehose.put_record(DeliveryStreamName="trailwatch-evidence", Record={"Data": record})
    [key] = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert key.startswith("alerts/")
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    # moto stores what it was given; Firehose gzips (CompressionFormat), Athena reads either.
    text = gzip.decompress(body).decode() if body[:2] == b"\x1f\x8b" else body.decode()
    [line] = text.splitlines()
    archived = json.loads(line)

    # The table's columns are the envelope's keys (the JSON SerDe matches them without case).
    columns = re.search(r"CREATE EXTERNAL TABLE trailwatch_evidence \((.*?)\)\nPARTITIONED", DOC, re.S).group(1)
    names = {re.match(r"\s*`?(\w+)`?", column).group(1) for column in columns.split(",\n")}
    assert names == {key.lower() for key in archived}
    assert archived["MessageAttributes"]["severity"]["Value"] == "CRITICAL"
    assert "messageattributes['severity'].value" in DOC

    document = json.loads(archived["Message"])
    paths = set(re.findall(r"json_extract_scalar\(message, '([^']+)'\)", DOC))
    assert {"$.severity", "$.event.name", "$.actor.arn", "$.kind"} <= paths
    expected = {"$.severity": "CRITICAL", "$.event.name": "StopLogging", "$.kind": "api-call",
                "$.event.account": harness.ACCOUNT, "$.actor.arn": event["detail"]["userIdentity"]["arn"]}
    for path in paths - {"$.posture.findings[0].check"}:
        value = json_path(document, path)
        assert isinstance(value, str) and value, path
        if path in expected:
            assert value == expected[path], path
    # The posture query's path, on a posture summary.
    moto.client("cloudtrail").stop_logging(Name=harness.TRAIL)
    assert function.invoke(harness.scheduled_event("2026-12-05T09:00:00Z", report_all=True)).json()["status"] == "published"
    posture = [json.loads(b) for b in harness.drain(sqs, queue)]
    [summary] = [json.loads(e["Message"]) for e in posture if json.loads(e["Message"]).get("kind") == "posture"]
    # The worst finding first: the only trail stopped leaves no multi-region trail logging.
    assert json_path(summary, "$.posture.findings[0].check") == "no-multi-region-trail"
    assert "not-logging" in [finding["check"] for finding in summary["posture"]["findings"]]

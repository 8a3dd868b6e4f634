"""Reference implementation of trailwatch's per-event job, in Python with boto3.

A measuring stick for bench/run.py, not a product: the same calls as the Rust function make for a
CloudTrail tampering event (GetTrailStatus, DescribeTrails with shadow trails, GetEventSelectors,
then one SNS Publish with MessageStructure=json and message attributes), written the way a
typical Python Lambda is: clients built once at init, the lookups one after the other.

Set REFERENCE_LOOKUPS=threads to run the three lookups on a thread pool instead (the Rust
function runs them concurrently); bench/run.py --python-lookups threads does that.
"""

import json
import os
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config

REGION = os.environ["AWS_REGION"]
TOPIC_ARN = os.environ["ALERT_TOPIC_ARN"]
THREADS = os.environ.get("REFERENCE_LOOKUPS", "sequential") == "threads"

# Roughly the Rust function's limits (src/aws/mod.rs): 1 s to connect, 1.5 s per attempt
# (botocore's read timeout is per socket read, the closest it has), 2 attempts for lookups and 3
# for the publish, standard retry mode. botocore has no whole-operation timeout.
LOOKUP_CONFIG = Config(connect_timeout=1, read_timeout=1.5, retries={"mode": "standard", "total_max_attempts": 2})
PUBLISH_CONFIG = Config(connect_timeout=1, read_timeout=1.5, retries={"mode": "standard", "total_max_attempts": 3})

# Built at init, like the Rust function's clients. A trail in another region gets its own client
# on first use, kept for later invocations.
_cloudtrail = {REGION: boto3.client("cloudtrail", region_name=REGION, config=LOOKUP_CONFIG)}
sns = boto3.client("sns", region_name=REGION, config=PUBLISH_CONFIG)
_pool = ThreadPoolExecutor(max_workers=3) if THREADS else None

SEVERITY = {"StopLogging": "CRITICAL", "DeleteTrail": "CRITICAL", "UpdateTrail": "HIGH", "PutEventSelectors": "HIGH"}


def cloudtrail(region):
    if region not in _cloudtrail:
        _cloudtrail[region] = boto3.client("cloudtrail", region_name=region, config=LOOKUP_CONFIG)
    return _cloudtrail[region]


def lookups(client, trail):
    calls = [
        lambda: client.get_trail_status(Name=trail),
        lambda: client.describe_trails(trailNameList=[trail], includeShadowTrails=True),
        lambda: client.get_event_selectors(TrailName=trail),
    ]
    if _pool is None:
        return [call() for call in calls]
    return [future.result() for future in [_pool.submit(call) for call in calls]]


def handler(event, context):
    detail = event["detail"]
    params = detail.get("requestParameters") or {}
    trail = params.get("name") or params.get("trailName")
    event_name = detail.get("eventName", "")
    account = event.get("account", "")
    region = trail.split(":")[3] if trail.startswith("arn:") else detail.get("awsRegion", REGION)

    status, described, selectors = lookups(cloudtrail(region), trail)
    for response in (status, described, selectors):
        response.pop("ResponseMetadata", None)
    severity = SEVERITY.get(event_name, "MEDIUM")
    actor = (detail.get("userIdentity") or {}).get("arn", "unknown")
    alert = {
        "severity": severity,
        "eventName": event_name,
        "eventId": detail.get("eventID"),
        "eventTime": detail.get("eventTime"),
        "account": account,
        "region": region,
        "actor": actor,
        "sourceIPAddress": detail.get("sourceIPAddress"),
        "trail": trail,
        "trailState": {
            "isLogging": status.get("IsLogging"),
            "status": status,
            "trails": described.get("trailList", []),
            "eventSelectors": selectors.get("EventSelectors"),
            "advancedEventSelectors": selectors.get("AdvancedEventSelectors"),
        },
    }
    title = f"{severity}: {event_name} on trail {trail.rsplit('/', 1)[-1]} in {account}"
    email = f"{title}\n\nBy: {actor}\nWhen: {alert['eventTime']}\nRegion: {region}\nLogging now: {status.get('IsLogging')}\n"
    card = {
        "version": "1.0",
        "source": "custom",
        "id": alert["eventId"],
        "content": {"textType": "client-markdown", "title": title, "description": f"*{actor}* called `{event_name}`"},
        "metadata": {"summary": title, "eventType": event_name, "relatedResources": [trail]},
    }
    message = {
        "default": json.dumps(alert, default=str),
        "email": email,
        "https": json.dumps(card),
    }
    published = sns.publish(
        TopicArn=TOPIC_ARN,
        Subject=title[:99],
        MessageStructure="json",
        Message=json.dumps(message),
        MessageAttributes={
            "severity": {"DataType": "String", "StringValue": severity},
            "eventName": {"DataType": "String", "StringValue": event_name},
            "account": {"DataType": "String", "StringValue": account or "unknown"},
        },
    )
    return {"status": "published", "severity": severity, "messageId": published["MessageId"], "eventId": alert["eventId"]}

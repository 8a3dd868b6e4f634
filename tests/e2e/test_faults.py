"""What the function does when AWS misbehaves, on the real runtime: CloudTrail or SNS refusing
connections, hanging, throttling, denying, failing; a Lambda deadline close at arrival; the same
event delivered twice.

The function reaches CloudTrail and SNS through a fault-injecting proxy of our own (faults.py)
in front of moto (AWS_ENDPOINT_URL_CLOUDTRAIL / AWS_ENDPOINT_URL_SNS; everything else goes to
moto directly), so each test can break one service and count what was asked of it. Each test
starts its own emulator, since the endpoints and limits are read at start-up.

Rows:
- a lookup that cannot be made (refused, hung, denied, throttled, 500) never stops the alert: it
  is published and says what could not be learned and why, well within the Lambda timeout;
- a transient lookup error is retried, and the retry's answer is used;
- a bucket, key or log group whose trails cannot be listed is alerted as if a trail used it;
- a publish that cannot be made is an error result (PublishFailed) naming the cause, after the
  attempts docs/alerts.md states, before the Lambda timeout;
- a transient publish error is retried and the alert delivered exactly once; after an outage the
  same event, invoked again (as Lambda's retry does), is delivered exactly once with its eventId;
- close to the Lambda deadline the lookups are cut short so the publish still fits;
- the same event twice gives two alerts carrying the same eventId, the dedup key;
- and the proxy itself: it counts, and stopping it ends hung connections.

Attempt counts (docs/alerts.md, "Outcomes"; src/aws/mod.rs configures them, tests/docs.rs checks
the two agree): the SDK's standard retry mode with at most CLOUDTRAIL_ATTEMPTS attempts of each
CloudTrail lookup and SNS_ATTEMPTS of a publish. Errors the SDK does not retry (AccessDenied,
AuthorizationError) are attempted once. A hung attempt is cut at 1.5 s and a publish's attempts
together at 4.5 s, so a hung SNS gets 2 or 3 attempts, depending on the random back-off.
"""

from __future__ import annotations

import re
import socket
import time

import pytest

import faults
import harness

DENIED = "stop-logging-access-denied"  # its lookups: DescribeTrails, GetTrailStatus, GetEventSelectors
LOOKUPS = ("DescribeTrails", "GetTrailStatus", "GetEventSelectors")
LAMBDA_TIMEOUT_S = 15
ENRICH_TIMEOUT_MS = 1000
CLOUDTRAIL_ATTEMPTS = 2
SNS_ATTEMPTS = 3


@pytest.fixture
def proxy(moto):
    with faults.FaultProxy(moto.endpoint) as proxy:
        yield proxy


@pytest.fixture
def refusing():
    with faults.RefusingPort() as port:
        yield port


def emulator(moto, *, cloudtrail: str, sns: str, **env: str) -> harness.RuntimeEmulator:
    return harness.RuntimeEmulator(
        harness.RELEASE_BINARY,
        moto.endpoint,
        {
            "AWS_ENDPOINT_URL_CLOUDTRAIL": cloudtrail,
            "AWS_ENDPOINT_URL_SNS": sns,
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(LAMBDA_TIMEOUT_S),
            **env,
        },
    )


def timed_invoke(function: harness.RuntimeEmulator, sample: str = DENIED):
    event = harness.load_event(harness.EVENTS / f"{sample}.json")
    started = time.monotonic()
    result = function.invoke(event)
    return event, result, time.monotonic() - started


def published_alert(moto, inbox: str, result: harness.Invocation) -> dict:
    body = result.json()
    assert "errorType" not in body, body
    assert body["status"] == "published", body
    messages = harness.delivered(moto, inbox)
    assert len(messages) == 1, messages
    return messages[0].alert


def names_a_lookup(text: str) -> bool:
    return any(lookup in text for lookup in LOOKUPS)


# ---------------------------------------------------------------- CloudTrail


@pytest.mark.parametrize("how", ["refuses", "hangs"])
def test_cloudtrail_unreachable_still_alerts_within_the_enrichment_deadline(moto, world, proxy, refusing, how):
    inbox = world()
    if how == "hangs":
        proxy.inject("cloudtrail", faults.hang())
    cloudtrail = refusing.endpoint if how == "refuses" else proxy.endpoint
    with emulator(moto, cloudtrail=cloudtrail, sns=proxy.endpoint, ENRICH_TIMEOUT_MS=str(ENRICH_TIMEOUT_MS)) as function:
        _, result, elapsed = timed_invoke(function)
    alert = published_alert(moto, inbox, result)
    assert elapsed < ENRICH_TIMEOUT_MS / 1000 + 3, f"took {elapsed:.2f}s"
    error = alert["enrichmentError"] or ""
    assert names_a_lookup(error), error
    assert re.search(r"failed|timed out", error), error
    if how == "hangs":
        assert proxy.count("cloudtrail", "GetTrailStatus") >= 1, proxy.counts()


@pytest.mark.parametrize(
    "fault",
    [
        faults.cloudtrail_error("AccessDeniedException", 400),
        faults.cloudtrail_error("ThrottlingException", 400),
        faults.cloudtrail_error("InternalFailure", 500),
    ],
    ids=["access-denied", "throttling", "internal-failure"],
)
def test_a_cloudtrail_error_still_alerts_and_is_named(moto, world, proxy, fault):
    inbox = world()
    proxy.inject("cloudtrail", fault)
    code = fault.headers["X-Amzn-ErrorType"]
    with emulator(moto, cloudtrail=proxy.endpoint, sns=proxy.endpoint) as function:
        _, result, elapsed = timed_invoke(function)
    alert = published_alert(moto, inbox, result)
    error = alert["enrichmentError"] or ""
    assert code in error and names_a_lookup(error), error
    assert elapsed < LAMBDA_TIMEOUT_S - 5, f"took {elapsed:.2f}s"
    # Every lookup of this event (DescribeTrails, GetTrailStatus, GetEventSelectors) is attempted
    # exactly as often: once when the error is not retryable, else CLOUDTRAIL_ATTEMPTS times (the
    # back-off, at most 1 s, fits in the default 2 s deadline).
    expected = 1 if code == "AccessDeniedException" else CLOUDTRAIL_ATTEMPTS
    attempts = {lookup: proxy.count("cloudtrail", lookup) for lookup in LOOKUPS}
    assert attempts == dict.fromkeys(LOOKUPS, expected), f"a {code}: {proxy.counts()}"


@pytest.mark.parametrize(
    "fault",
    [
        faults.cloudtrail_error("ThrottlingException", 400, operation="GetTrailStatus", first=1),
        faults.cloudtrail_error("InternalFailure", 500, operation="GetTrailStatus", first=1),
    ],
    ids=["throttling", "internal-failure"],
)
def test_a_transient_cloudtrail_error_is_retried_and_the_answer_used(moto, world, proxy, fault):
    inbox = world()
    proxy.inject("cloudtrail", fault)
    with emulator(moto, cloudtrail=proxy.endpoint, sns=proxy.endpoint) as function:
        _, result, _ = timed_invoke(function)
    alert = published_alert(moto, inbox, result)
    # The first attempt failed, the second (the last CLOUDTRAIL_ATTEMPTS allows) was answered.
    assert proxy.count("cloudtrail", "GetTrailStatus") == CLOUDTRAIL_ATTEMPTS, proxy.counts()
    assert alert["enrichmentError"] is None, alert["enrichmentError"]
    assert alert["resourceState"]["status"]["isLogging"] is True, alert["resourceState"]


def test_a_bucket_whose_trails_cannot_be_listed_is_alerted_as_if_a_trail_used_it(moto, world, proxy):
    """The unrelated bucket is ignored when DescribeTrails answers (test_monitors.py); when it
    cannot, trailwatch cannot tell, so it alerts and says why."""
    inbox = world()
    proxy.inject("cloudtrail", faults.cloudtrail_error("AccessDeniedException", 400, operation="DescribeTrails"))
    with emulator(moto, cloudtrail=proxy.endpoint, sns=proxy.endpoint) as function:
        event, result, _ = timed_invoke(function, "put-bucket-lifecycle-unrelated-bucket")
    alert = published_alert(moto, inbox, result)
    assert proxy.count("cloudtrail", "DescribeTrails") == 1, proxy.counts()
    assert alert["resource"]["kind"] == "bucket", alert["resource"]
    assert alert["resource"]["name"] == event["detail"]["requestParameters"]["bucketName"]
    error = alert["enrichmentError"] or ""
    assert "DescribeTrails" in error and "AccessDeniedException" in error, error


# ---------------------------------------------------------------- SNS


@pytest.mark.parametrize(
    "how, cause, attempts",
    [
        # Refused connections never reach the proxy: nothing to count.
        ("refuses", r"connect", None),
        # Each attempt hangs until its 1.5 s limit; the 4.5 s limit on all of them leaves room
        # for a third only when the random back-offs are short.
        ("hangs", r"timed out", (2, SNS_ATTEMPTS)),
        ("internal-error", r"InternalError", SNS_ATTEMPTS),
        ("throttling", r"Throttling", SNS_ATTEMPTS),
        # Not retryable: one attempt.
        ("authorization-error", r"AuthorizationError", 1),
    ],
)
def test_a_failed_publish_is_an_error_naming_the_cause_after_the_stated_attempts(moto, world, proxy, refusing, how, cause, attempts):
    inbox = world()
    injected = {
        "hangs": faults.hang(),
        "internal-error": faults.sns_error("InternalError", 500, error_type="Receiver"),
        "throttling": faults.sns_error("Throttling", 400),
        "authorization-error": faults.sns_error("AuthorizationError", 403),
    }
    if how in injected:
        proxy.inject("sns", injected[how])
    sns = refusing.endpoint if how == "refuses" else proxy.endpoint
    with emulator(moto, cloudtrail=proxy.endpoint, sns=sns) as function:
        _, result, elapsed = timed_invoke(function)
        # The process survives a failed publish.
        assert function.init_count() == 1, function.output()
    body = result.json()
    assert body.get("errorType") == "PublishFailed", body
    assert re.search(cause, body.get("errorMessage", ""), re.IGNORECASE), body
    assert harness.delivered(moto, inbox) == []
    assert elapsed < LAMBDA_TIMEOUT_S - 1, f"took {elapsed:.2f}s"
    made = proxy.count("sns", "Publish")
    if attempts is None:
        assert made == 0, f"{made} Publish requests reached the proxy"
    elif isinstance(attempts, tuple):
        assert attempts[0] <= made <= attempts[1], f"{made} Publish attempts, expected {attempts[0]} to {attempts[1]}"
    else:
        assert made == attempts, f"{made} Publish attempts, expected exactly {attempts}"


def delivered_once(moto, inbox: str, event: dict, result: harness.Invocation) -> harness.Delivered:
    """The function answered `published` for the event, and exactly one alert arrived, carrying
    the event's id as the dedup key (attribute and JSON) and the answer's severity."""
    event_id = event["detail"]["eventID"]
    body = result.json()
    assert "errorType" not in body, body
    assert body["status"] == "published" and body["eventId"] == event_id, body
    messages = harness.delivered(moto, inbox)
    assert len(messages) == 1, messages
    [message] = messages
    assert message.attributes["eventId"] == event_id == message.alert["event"]["id"], message.attributes
    assert message.attributes["severity"] == message.alert["severity"] == body["severity"]
    return message


@pytest.mark.parametrize(
    "failures, fault",
    [
        (1, faults.sns_error("InternalError", 500, error_type="Receiver", first=1)),
        (1, faults.sns_error("Throttling", 400, first=1)),
        (SNS_ATTEMPTS - 1, faults.sns_error("InternalError", 500, error_type="Receiver", first=SNS_ATTEMPTS - 1)),
    ],
    ids=["500-once", "throttled-once", "500-until-the-last-attempt"],
)
def test_a_transient_publish_error_is_retried_and_the_alert_delivered_exactly_once(moto, world, proxy, failures, fault):
    inbox = world()
    proxy.inject("sns", fault)
    with emulator(moto, cloudtrail=proxy.endpoint, sns=proxy.endpoint) as function:
        event, result, _ = timed_invoke(function)
    delivered_once(moto, inbox, event, result)
    # The failed attempts, then the one that was answered; no further request.
    assert proxy.count("sns", "Publish") == failures + 1, proxy.counts()


def test_after_an_sns_outage_the_same_event_invoked_again_is_delivered_exactly_once(moto, world, proxy):
    """While SNS is down the invocation is an error (PublishFailed), so Lambda keeps the event and
    invokes the function again (2 async retries, then the on-failure destination, which is
    replayed the same way). Once SNS is back the same event gives exactly one alert."""
    inbox = world()
    proxy.inject("sns", faults.sns_error("InternalError", 500, error_type="Receiver"))
    with emulator(moto, cloudtrail=proxy.endpoint, sns=proxy.endpoint) as function:
        event, during, _ = timed_invoke(function)
        assert during.json().get("errorType") == "PublishFailed", during.body
        assert proxy.count("sns", "Publish") == SNS_ATTEMPTS, proxy.counts()
        assert harness.delivered(moto, inbox) == [], "nothing may arrive while SNS is down"

        proxy.inject("sns", None)  # SNS is back
        after = function.invoke(event)
        assert function.init_count() == 1, function.output()
    delivered_once(moto, inbox, event, after)
    assert proxy.count("sns", "Publish") == SNS_ATTEMPTS + 1, proxy.counts()


# ---------------------------------------------------------------- the Lambda deadline


def test_close_to_the_lambda_deadline_lookups_are_cut_short_and_the_alert_published(moto, world, proxy):
    """Lambda timeout 6 s: the 5 s kept for publishing leave about 1 s for a hung CloudTrail."""
    inbox = world()
    proxy.inject("cloudtrail", faults.hang())
    with emulator(moto, cloudtrail=proxy.endpoint, sns=proxy.endpoint, AWS_LAMBDA_FUNCTION_TIMEOUT="6") as function:
        _, result, elapsed = timed_invoke(function)
    alert = published_alert(moto, inbox, result)
    assert elapsed < 6, f"took {elapsed:.2f}s"
    error = alert["enrichmentError"] or ""
    assert re.search(r"timed out|no time left", error), error


# ---------------------------------------------------------------- duplicates


def test_the_same_event_twice_gives_two_alerts_with_the_same_event_id(function, moto, world):
    inbox = world()
    event = harness.load_event(harness.EVENTS / f"{DENIED}.json")
    event_id = event["detail"]["eventID"]
    for _ in range(2):
        result = function.invoke(event)
        assert result.json()["status"] == "published", result.body
        assert result.json()["eventId"] == event_id
    messages = harness.delivered(moto, inbox)
    assert len(messages) == 2, messages
    for message in messages:
        assert message.attributes.get("eventId") == event_id, message.attributes
        assert message.alert["event"]["id"] == event_id


# ---------------------------------------------------------------- the proxy itself


def test_the_proxy_counts_hangs_and_closes_hung_connections_when_it_stops(moto):
    proxy = faults.FaultProxy(moto.endpoint)
    proxy.inject("cloudtrail", faults.hang())
    body = b"{}"
    request = (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\n"
        b"X-Amz-Target: CloudTrail_20131101.DescribeTrails\r\n"
        b"Authorization: AWS4-HMAC-SHA256 Credential=testing/20261129/us-east-1/cloudtrail/aws4_request, SignedHeaders=host, Signature=0\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as client:
        client.sendall(request)
        assert proxy.wait_for("cloudtrail", "DescribeTrails"), "the proxy did not see the request"
        started = time.monotonic()
        proxy.stop()
        assert time.monotonic() - started < 2, "stop() waited for the hung request"
        assert client.recv(1024) == b"", "a hung request got an answer"

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
- a publish that cannot be made is an error result (PublishFailed) naming the cause, after a
  bounded number of attempts (a single one for AuthorizationError, which is not retryable),
  before the Lambda timeout;
- close to the Lambda deadline the lookups are cut short so the publish still fits;
- the same event twice gives two alerts carrying the same eventId, the dedup key;
- and the proxy itself: it counts, and stopping it ends hung connections.
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
    attempts = proxy.count("cloudtrail", "GetTrailStatus")
    if code == "AccessDeniedException":
        assert 1 <= attempts <= 2, f"attempts not bounded: {proxy.counts()}"
    else:
        assert attempts > 1, f"a {code} was not retried: {proxy.counts()}"


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
    assert proxy.count("cloudtrail", "GetTrailStatus") >= 2, proxy.counts()
    assert "GetTrailStatus" not in (alert["enrichmentError"] or ""), alert["enrichmentError"]
    assert alert["resourceState"]["status"]["isLogging"] is True, alert["resourceState"]


# ---------------------------------------------------------------- SNS


@pytest.mark.parametrize(
    "how, cause, max_attempts",
    [
        ("refuses", r"connect", 3),
        ("hangs", r"timed out", 3),
        ("internal-error", r"InternalError", 3),
        ("authorization-error", r"AuthorizationError", 1),
    ],
)
def test_a_failed_publish_is_an_error_naming_the_cause_after_bounded_retries(moto, world, proxy, refusing, how, cause, max_attempts):
    inbox = world()
    injected = {
        "hangs": faults.hang(),
        "internal-error": faults.sns_error("InternalError", 500, error_type="Receiver"),
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
    attempts = proxy.count("sns", "Publish")
    if how == "refuses":
        assert attempts == 0  # never reached the proxy
    elif how == "authorization-error":
        assert attempts == 1, f"AuthorizationError is not retryable: {attempts} attempts"
    else:
        assert 1 <= attempts <= max_attempts, f"{attempts} Publish attempts"


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

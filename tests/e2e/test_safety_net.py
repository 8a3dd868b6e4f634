"""The safety net on the real runtime with moto: the scheduled posture check (healthy, stopped,
nothing left, selectors, delivery errors, the reminder window) and opt-in self-healing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

import faults
import harness

# The first hourly run after midnight UTC repeats every open finding (REMIND_AFTER_HOURS=24).
DIGEST_RUN = "2026-11-29T00:05:00Z"
# Any other hour: only findings that began after the previous run are reported.
ORDINARY_RUN = "2026-11-29T13:05:00Z"


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def posture_function(moto):
    """The function checking both seeded regions, as POSTURE_REGIONS would have it."""
    emulator = harness.RuntimeEmulator(
        harness.RELEASE_BINARY,
        moto.endpoint,
        {"POSTURE_REGIONS": f"{harness.HOME_REGION},{harness.OTHER_REGION}", "POSTURE_INTERVAL_MINUTES": "60", "REMIND_AFTER_HOURS": "24"},
    )
    yield emulator
    emulator.stop()


def fix_the_single_region_trail(moto) -> None:
    """seed()'s eu-audit has log file validation off (a MEDIUM finding): turn it on, so a
    healthy account is one."""
    moto.client("cloudtrail", harness.OTHER_REGION).update_trail(Name=harness.OTHER_REGION_TRAIL, EnableLogFileValidation=True)


def run(function, time: str, **kwargs) -> dict:
    result = function.invoke(harness.scheduled_event(time, **kwargs))
    assert result.function_error is None, result.body
    return result.json()


def findings(message) -> list[tuple[str, str]]:
    return [(f["severity"], f["check"]) for f in message.alert["posture"]["findings"]]


def test_a_healthy_account_publishes_nothing_and_logs_one_line(posture_function, moto, world):
    inbox = world()
    fix_the_single_region_trail(moto)
    summary = run(posture_function, DIGEST_RUN)
    assert summary["status"] == "healthy", summary
    assert harness.delivered(moto, inbox) == []
    posture_function.wait_for_output("posture check finished")
    assert "healthy" in posture_function.output()


def test_a_stopped_trail_is_reported_with_what_to_run(posture_function, moto, world):
    inbox = world()
    fix_the_single_region_trail(moto)
    moto.client("cloudtrail").stop_logging(Name=harness.TRAIL)
    summary = run(posture_function, now())
    assert summary["status"] == "published", summary
    [message] = harness.delivered(moto, inbox)
    alert = message.alert
    assert alert["kind"] == "posture" == message.attributes["alertKind"]
    assert message.attributes["eventName"] == "PostureCheck"
    # The only multi-region trail stopped: nothing records the account any more.
    assert findings(message) == [("CRITICAL", "no-multi-region-trail"), ("HIGH", "not-logging")]
    assert all(f["new"] for f in alert["posture"]["findings"]), "it stopped after the previous run"
    assert message.attributes["severity"] == alert["severity"] == "CRITICAL"
    assert alert["posture"]["trailsChecked"] == 2
    assert alert["nextSteps"][0]["command"] == f"aws cloudtrail start-logging --name {harness.TRAIL_ARN} --region {harness.HOME_REGION}"
    assert message.subject.startswith("[CRITICAL] ") and harness.ACCOUNT in message.subject, message.subject
    assert alert["resourceState"]["type"] == "trails"


def test_no_trail_left_is_critical_and_says_how_to_create_one(posture_function, moto, world):
    inbox = world()
    fix_the_single_region_trail(moto)
    moto.client("cloudtrail").delete_trail(Name=harness.TRAIL)
    assert run(posture_function, DIGEST_RUN)["status"] == "published"
    [message] = harness.delivered(moto, inbox)
    assert findings(message) == [("CRITICAL", "no-multi-region-trail")]
    assert "no active multi-region trail remains" in message.alert["posture"]["findings"][0]["detail"]
    assert "create-trail" in message.alert["nextSteps"][0]["command"]


def test_management_events_excluded_is_high_and_leaves_the_account_unrecorded(posture_function, moto, world):
    inbox = world()
    fix_the_single_region_trail(moto)
    moto.client("cloudtrail").put_event_selectors(
        TrailName=harness.TRAIL, EventSelectors=[{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}]
    )
    assert run(posture_function, DIGEST_RUN)["status"] == "published"
    [message] = harness.delivered(moto, inbox)
    assert findings(message) == [("CRITICAL", "no-multi-region-trail"), ("HIGH", "management-events-not-recorded")]
    assert "put-event-selectors" in message.alert["nextSteps"][0]["command"]


def test_a_delivery_error_is_reported_even_while_the_trail_logs(moto, world):
    """moto never reports delivery errors, so the proxy answers GetTrailStatus the way CloudTrail
    does when the bucket policy no longer admits it."""
    inbox = world()
    fix_the_single_region_trail(moto)
    status = json.dumps({"IsLogging": True, "LatestDeliveryError": "AccessDenied", "LatestCloudWatchLogsDeliveryError": "CloudWatch Logs role is not valid"}).encode()
    with faults.FaultProxy(moto.endpoint) as proxy:
        proxy.inject("cloudtrail", faults.Fault("status", 200, status, {"Content-Type": "application/x-amz-json-1.1"}, operation="GetTrailStatus"))
        with harness.RuntimeEmulator(harness.RELEASE_BINARY, moto.endpoint, {"AWS_ENDPOINT_URL_CLOUDTRAIL": proxy.endpoint}) as function:
            assert run(function, DIGEST_RUN)["status"] == "published"
    [message] = harness.delivered(moto, inbox)
    assert ("HIGH", "delivery-error") in findings(message)
    assert ("HIGH", "cloud-watch-logs-delivery-error") in findings(message)
    assert not any(check == "no-multi-region-trail" for _, check in findings(message)), "it still logs"


def test_a_finding_already_reported_waits_for_the_reminder_window(posture_function, moto, world):
    inbox = world()
    moto.client("cloudtrail").stop_logging(Name=harness.TRAIL)
    # A run five hours after the stop (moto records the real time), not the first of its day:
    # the stop was reported by an earlier run, so nothing is sent.
    ordinary = (datetime.now(timezone.utc) + timedelta(hours=5)).replace(minute=5, second=0, microsecond=0)
    if ordinary.hour == 0:
        ordinary += timedelta(hours=1)
    summary = run(posture_function, ordinary.strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert summary["status"] == "already-reported", summary
    assert "next reminder at" in summary["reason"]
    assert harness.delivered(moto, inbox) == []
    # The first run after midnight repeats every open finding, marked as still open.
    summary = run(posture_function, (ordinary + timedelta(days=1)).replace(hour=0).strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert summary["status"] == "published", summary
    [message] = harness.delivered(moto, inbox)
    assert {f["check"] for f in message.alert["posture"]["findings"]} >= {"not-logging", "no-multi-region-trail"}
    assert not any(f["new"] for f in message.alert["posture"]["findings"])
    # A run by hand reports everything whenever it runs.
    assert run(posture_function, ordinary.strftime("%Y-%m-%dT%H:%M:%SZ"), report_all=True)["status"] == "published"


# ---------------------------------------------------------------- self-healing


def stop_logging_now() -> dict:
    event = harness.load_event(harness.EVENTS / "stop-logging.json")
    event["time"] = event["detail"]["eventTime"] = now()
    return event


def is_logging(moto) -> bool:
    return moto.client("cloudtrail").get_trail_status(Name=harness.TRAIL)["IsLogging"]


def test_self_healing_is_off_by_default(function, moto, world):
    inbox = world()
    moto.client("cloudtrail").stop_logging(Name=harness.TRAIL)
    function.invoke(harness.load_event(harness.EVENTS / "stop-logging.json"))
    assert is_logging(moto) is False
    [message] = harness.delivered(moto, inbox)
    assert "autoRestart" not in message.alert


@pytest.fixture(scope="module")
def healing_function(moto):
    emulator = harness.RuntimeEmulator(
        harness.RELEASE_BINARY,
        moto.endpoint,
        {"AUTO_RESTART_LOGGING": "true", "TRUSTED_PRINCIPALS": "arn:aws:iam::111122223333:role/deploy-*"},
    )
    yield emulator
    emulator.stop()


def test_an_untrusted_stop_is_answered_with_start_logging(healing_function, moto, world):
    inbox = world()
    moto.client("cloudtrail").stop_logging(Name=harness.TRAIL)
    # The seeded trail was started seconds ago: an event from before that start is a first stop.
    result = healing_function.invoke(harness.load_event(harness.EVENTS / "stop-logging.json"))
    assert result.json()["status"] == "published", result.body
    assert is_logging(moto) is True, "trailwatch restarted it"
    [message] = harness.delivered(moto, inbox)
    alert = message.alert
    assert alert["autoRestart"]["outcome"] == "restarted"
    assert alert["resourceState"]["status"]["isLogging"] is True
    assert alert["nextSteps"][0]["command"].startswith("aws cloudtrail get-trail-status")
    assert alert["severity"] == "CRITICAL", "someone stopped it: the alert stays"


def test_a_trusted_principals_stop_is_left_alone(healing_function, moto, world):
    inbox = world()
    moto.client("cloudtrail").stop_logging(Name=harness.TRAIL)
    event = harness.load_event(harness.EVENTS / "stop-logging.json")
    event["detail"]["userIdentity"]["arn"] = "arn:aws:iam::111122223333:role/deploy-pipeline"
    healing_function.invoke(event)
    assert is_logging(moto) is False
    [message] = harness.delivered(moto, inbox)
    assert message.alert["autoRestart"]["outcome"] == "not-restarted"
    assert "trusted principal" in message.alert["autoRestart"]["detail"]


def test_a_trail_that_keeps_being_stopped_is_not_fought(healing_function, moto, world):
    inbox = world()
    # Started seconds ago (seed) and stopped again now: the second stop inside the window.
    moto.client("cloudtrail").stop_logging(Name=harness.TRAIL)
    healing_function.invoke(stop_logging_now())
    assert is_logging(moto) is False
    [message] = harness.delivered(moto, inbox)
    alert = message.alert
    assert alert["title"] == "CloudTrail logging keeps being stopped"
    assert alert["severity"] == "CRITICAL"
    assert alert["autoRestart"] == {**alert["autoRestart"], "outcome": "not-restarted", "keepsBeingStopped": True}


def test_delete_trail_is_never_undone(healing_function, moto, world):
    inbox = world()
    moto.client("cloudtrail").delete_trail(Name=harness.TRAIL)
    healing_function.invoke(harness.load_event(harness.EVENTS / "delete-trail.json"))
    [message] = harness.delivered(moto, inbox)
    assert "autoRestart" not in message.alert
    assert "create-trail" in message.alert["nextSteps"][0]["command"]


# ---------------------------------------------------------------- self-protection


# The caller of the self-protection samples in events/ (alice).
SAMPLE_CALLER = "arn:aws:iam::111122223333:user/alice"


@pytest.fixture(scope="module")
def deploying_function(moto):
    """The function with the samples' caller trusted, as a deployment role would be. Its own
    resources are the harness's (AWS_LAMBDA_FUNCTION_NAME=trailwatch, the two topics, OWN_*), the
    ones the self-protection samples touch."""
    emulator = harness.RuntimeEmulator(harness.RELEASE_BINARY, moto.endpoint, {"TRUSTED_PRINCIPALS": SAMPLE_CALLER})
    yield emulator
    emulator.stop()


@pytest.mark.parametrize(
    "sample, severity",
    [
        # A deployment: a change that reduces nothing, by a trusted principal.
        ("update-function-configuration", "INFORMATIONAL"),
        ("set-topic-attributes", "INFORMATIONAL"),
        # Trust never lowers a call that takes trailwatch away (docs/alerts.md: every delete).
        ("delete-function", "CRITICAL"),
        ("unsubscribe", "CRITICAL"),
    ],
)
def test_a_trusted_principals_harmless_change_to_trailwatchs_own_resources_stays_informational(deploying_function, moto, world, sample, severity):
    inbox = world()
    health = harness.health_inbox(moto)
    event = harness.load_event(harness.EVENTS / f"{sample}.json")
    assert event["detail"]["userIdentity"]["arn"] == SAMPLE_CALLER
    result = deploying_function.invoke(event)
    assert result.function_error is None, result.body
    answer = result.json()
    assert answer["status"] == "published" and answer["severity"] == severity, answer
    assert harness.delivered(moto, inbox) == []
    [message] = harness.delivered(moto, health)
    alert = message.alert
    assert message.attributes["severity"] == alert["severity"] == severity
    assert alert["ownResource"] is True, "it is trailwatch's own resource"
    assert alert["trustedPrincipal"] is True
    assert alert["event"]["id"] == event["detail"]["eventID"]


def test_without_a_health_topic_calls_on_trailwatchs_own_resources_go_to_the_alert_topic(moto, world):
    """HEALTH_TOPIC_ARN unset (docs/configuration.md: it defaults to the alert topic)."""
    inbox = world()
    health = harness.health_inbox(moto)
    with harness.RuntimeEmulator(harness.RELEASE_BINARY, moto.endpoint, {"HEALTH_TOPIC_ARN": ""}) as function:
        for sample in ["disable-rule", "delete-function"]:
            result = function.invoke(harness.load_event(harness.EVENTS / f"{sample}.json"))
            assert result.function_error is None, result.body
            assert result.json()["status"] == "published", result.body
    assert harness.delivered(moto, health) == [], "no health topic is configured"
    messages = harness.delivered(moto, inbox)
    assert [m.alert["event"]["name"] for m in messages] == ["DisableRule", "DeleteFunction20150331"], messages
    for message in messages:
        assert message.attributes["severity"] == message.alert["severity"] == "CRITICAL"
        assert message.alert["ownResource"] is True


# ---------------------------------------------------------------- the dead man's switch


def term_filter_matches(pattern: str, raw_line: str) -> bool:
    """CloudWatch Logs' filter syntax for unstructured events, the subset the template uses: one
    double-quoted phrase, matched anywhere in the raw log event, whatever its format (a JSON
    line or a text line). (moto's TestMetricFilter answers 500, so the template's pattern is
    checked here against the function's real log lines.)"""
    body = pattern.strip()
    assert body.startswith('"') and body.endswith('"') and body.count('"') == 2, pattern
    return body[1:-1] in raw_line


def test_the_switch_counts_the_line_every_posture_run_logs(moto, world):
    """In both log formats Lambda offers (LogFormat JSON, which the template sets, and Text, which
    someone could switch to), the switch's filter matches exactly the posture run's line."""
    import template as tpl

    world()
    filters = [r for r in tpl.load()["Resources"].values() if r["Type"] == "AWS::Logs::MetricFilter" and "posture" in r["Properties"]["FilterPattern"]]
    assert len(filters) == 1, "one metric filter counts posture runs"
    pattern = filters[0]["Properties"]["FilterPattern"]
    for log_format in ("JSON", "Text"):
        with harness.RuntimeEmulator(harness.RELEASE_BINARY, moto.endpoint, {"AWS_LAMBDA_LOG_FORMAT": log_format}) as function:
            assert run(function, ORDINARY_RUN)["status"] in ("healthy", "already-reported")
            function.invoke(harness.load_event(harness.EVENTS / "stop-logging.json"))
            function.wait_for_output("alert published")
            # The function's own lines (the emulator's are `DD Mon YYYY ...` or START/END).
            lines = [line for line in function.output().splitlines() if line.startswith(("{", " INFO", " WARN", "ERROR", " ERROR"))]
        matching = [line for line in lines if term_filter_matches(pattern, line)]
        assert len(matching) == 1, f"{log_format}: exactly the posture run's line: {matching}"
        assert "posture check finished" in matching[0]

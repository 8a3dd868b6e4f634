//! The posture check: the net under the real-time path.
//!
//! EventBridge delivers CloudTrail events best effort, and once the last trail stops, later
//! calls may produce no event at all. So on a schedule the same function lists every trail
//! that applies in each region of POSTURE_REGIONS (DescribeTrails with shadow trails), reads
//! each one's status and event selectors once, in its home region, concurrently and within one
//! deadline, and judges what it finds ([`judge`]). Findings go out as one alert, in the same
//! formats as event alerts, with `kind: "posture"`; when they are repeated is [`remind`]'s call.
//! Every run ends with one log line (`check=posture outcome=finished`) that the template's dead
//! man's switch counts.
//!
//! Layout: [`gather`] (lookups) → [`judge::findings`] → [`remind`] → [`report`] → publish, run
//! by [`run`]; beside it, trailwatch itself ([`drift`], [`heartbeats`]) to the health topic. The run is an entry point; the steps are below it (see the crate's layout).

pub mod drift;
pub mod finished;
pub mod gather;
pub mod heartbeats;
pub mod judge;
pub mod organization;
pub mod recorders;
pub mod remind;
pub mod report;
pub mod security_hub;

use std::time::{Duration, Instant};

use chrono::SecondsFormat;
use tracing::error;

use crate::alert::posture::Finding;
use crate::alert::Alert;
use crate::config::Config;
use crate::import::{self, PostureScope};
use crate::inspector::LookupError;
use crate::invocation::{Dependencies, HandlerError, Invocation, Status, Summary, PUBLISH_RESERVE};
use crate::lookup::{all_within, Deadline};
use crate::metrics::alert_published;
use crate::parse::Schedule;
use crate::render::escape::LogText;
use crate::render::render;
use finished::RunLog;
use gather::{gather, POSTURE_BUDGET};
use remind::Window;

/// The scheduled run: gather → judge → decide what is due → report → publish, at most one
/// alert a run.
pub async fn run(
    schedule: &Schedule,
    invocation: &Invocation,
    deps: &Dependencies<'_>,
) -> Result<Summary, HandlerError> {
    let started = Instant::now();
    let config = deps.config;
    let Some(inspector) = deps.inspector else {
        return Ok(Summary::nothing(
            Status::Ignored,
            "the posture check needs AWS access (run it with --with-trail-state)",
        ));
    };
    let regions = &config.posture.regions;
    if regions.is_empty() {
        error!(
            check = "posture",
            outcome = "failed",
            "no region to check: set POSTURE_REGIONS or AWS_REGION"
        );
        return Ok(Summary::nothing(Status::Ignored, "no region to check"));
    }
    let deadline = Deadline::after(budget(invocation));
    let window = window(schedule, config);
    if config.posture.accounts.is_some() {
        // An organization: trailwatch itself is checked here, every account (this one too) by
        // the posture queue's consumers, and the run's summary is sent by the last of them.
        let itself = trailwatch_itself(deps, deadline).await;
        if let Some(account) = config.home_account.as_deref() {
            security_hub::keep_current(
                account,
                &itself,
                &[],
                PostureScope::Trailwatch,
                import::deadline(invocation),
                deps,
            )
            .await;
        }
        report_itself(itself, &window, deps).await;
        return organization::start(schedule, &window, deps).await;
    }
    let (gathered, itself, recorders) = tokio::join!(
        gather(inspector, regions, deadline),
        trailwatch_itself(deps, deadline),
        other_recorders(deps, deadline)
    );
    let mut findings = judge::at_or_above(&gathered, &window, config.min_severity);
    judge::add_at_or_above(&mut findings, recorders, &window, config.min_severity);
    let log = RunLog {
        started,
        accounts: 1,
        regions: regions.len(),
        trails: gathered.trails.len(),
        findings: findings.len() + itself.len(),
        new_findings: findings.iter().chain(&itself).filter(|f| f.new).count(),
        worst: findings.iter().chain(&itself).map(|f| f.severity).max(),
        level: config.signal_level,
    };
    if let Some(account) = config.home_account.as_deref() {
        let all: Vec<Finding> = findings.iter().chain(&itself).cloned().collect();
        security_hub::keep_current(
            account,
            &all,
            &gathered.trails,
            PostureScope::Everything,
            import::deadline(invocation),
            deps,
        )
        .await;
    }
    report_itself(itself, &window, deps).await;
    if findings.is_empty() {
        log.finished("healthy", None);
        return Ok(Summary::nothing(Status::Healthy, "no findings"));
    }
    if !(window.is_digest_run() || schedule.report_all || findings.iter().any(|f| f.new)) {
        log.finished("already-reported", None);
        return Ok(already_reported(&window, &log));
    }
    let alert = report::alert(findings, gathered.trails, &window, config);
    publish(alert, &log, deps).await
}

/// The other recorders of the function's own account, when their checks are on.
async fn other_recorders(deps: &Dependencies<'_>, deadline: Deadline) -> Vec<Finding> {
    let posture = &deps.config.posture;
    let checks = recorders::RecorderChecks::of(posture);
    recorders::recorder_findings(deps.recorders, &posture.regions, checks, deadline).await
}

/// What is wrong with trailwatch itself goes to the health topic, every run it lasts: the
/// alert topic may be the very thing that is broken.
async fn report_itself(itself: Vec<Finding>, window: &Window, deps: &Dependencies<'_>) {
    if itself.is_empty() {
        return;
    }
    let alert = report::alert(itself, Vec::new(), window, deps.config);
    if let Err(failure) = deps.health.publish(&render(alert)).await {
        error!(
            check = "posture",
            outcome = "publish-failed",
            error = %LogText(Some(&failure.0)),
            "the posture check's findings about trailwatch itself NOT published to the health topic"
        );
    }
}

/// What is wrong with trailwatch itself: its rules as deployed and the alert topic's
/// subscribers ([`drift`]), and each watched region's heartbeats ([`heartbeats`]).
async fn trailwatch_itself(deps: &Dependencies<'_>, deadline: Deadline) -> Vec<Finding> {
    let (mut found, heard) = tokio::join!(
        rules_and_subscribers(deps, deadline),
        heartbeats_heard(deps, deadline)
    );
    found.extend(heard);
    found.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.check.cmp(&b.check)));
    found
}

fn timed_out() -> LookupError {
    LookupError {
        code: None,
        message: "timed out".to_string(),
    }
}

/// One lookup per key, all within `deadline`, each answer beside its key (a lookup the
/// deadline cut off answers "timed out").
async fn each_within<'a, T, F>(
    deadline: Deadline,
    keys: &'a [String],
    lookup: impl Fn(&'a String) -> F,
) -> Vec<(String, Result<T, LookupError>)>
where
    F: std::future::Future<Output = Result<T, LookupError>>,
{
    let answers = all_within(deadline, keys.iter().map(lookup).collect()).await;
    keys.iter()
        .cloned()
        .zip(
            answers
                .into_iter()
                .map(|answer| answer.unwrap_or_else(|| Err(timed_out()))),
        )
        .collect()
}

/// Nothing when the heartbeat is off (no HEARTBEAT_WINDOW_MINUTES).
async fn heartbeats_heard(deps: &Dependencies<'_>, deadline: Deadline) -> Vec<Finding> {
    let config = deps.config;
    let Some(window) = config.posture.heartbeat_window else {
        return Vec::new();
    };
    let counts = each_within(deadline, &config.posture.regions, |region| {
        deps.plumbing.heartbeats(region, window)
    })
    .await;
    heartbeats::findings(&counts, window)
}

/// Nothing when the function knows none of its rules (preview, a stack without
/// OWN_RULE_NAMES).
async fn rules_and_subscribers(deps: &Dependencies<'_>, deadline: Deadline) -> Vec<Finding> {
    let config = deps.config;
    if config.own.rules.is_empty() {
        return Vec::new();
    }
    let rules = each_within(deadline, &config.own.rules, |key| async move {
        let (bus, name) = key.split_once('/').unwrap_or(("default", key));
        let bus = (bus != "default").then_some(bus);
        deps.plumbing.rule(name, bus).await
    })
    .await;
    let subscriptions = deadline
        .within(deps.plumbing.confirmed_subscriptions(&config.topic_arn))
        .await
        .unwrap_or_else(|| Err(timed_out()));
    let region = config.posture.regions.first().map(String::as_str);
    drift::findings(
        &rules,
        subscriptions,
        &drift::Expected {
            function_name: config.own.function.as_deref(),
            health_topic: config.health_topic_arn.as_deref(),
            schedule: format!("rate({} minutes)", config.posture.interval.as_secs() / 60),
            region,
        },
    )
}

/// The check's share of the invocation: [`POSTURE_BUDGET`], less what publishing needs.
pub fn budget(invocation: &Invocation) -> Duration {
    match invocation.time_left {
        Some(left) => POSTURE_BUDGET.min(left.saturating_sub(PUBLISH_RESERVE)),
        None => POSTURE_BUDGET,
    }
}

/// The reminder window this run falls in; "now" is when the schedule fired.
fn window(schedule: &Schedule, config: &Config) -> Window {
    Window::at(schedule.time.as_deref(), &config.posture)
}

/// Every finding was reported before and the next reminder is not due yet.
fn already_reported(window: &Window, log: &RunLog) -> Summary {
    let next = window.next_digest().map_or_else(String::new, |t| {
        format!(
            "; next reminder at {}",
            t.to_rfc3339_opts(SecondsFormat::Secs, true)
        )
    });
    Summary {
        severity: log.worst,
        findings: Some(log.findings),
        ..Summary::nothing(
            Status::AlreadyReported,
            &format!("every finding was already reported{next}"),
        )
    }
}

async fn publish(
    alert: Alert,
    log: &RunLog,
    deps: &Dependencies<'_>,
) -> Result<Summary, HandlerError> {
    let severity = alert.severity;
    let count = alert.posture.as_ref().map(|p| p.findings.len());
    match deps.publisher.publish(&render(alert)).await {
        Ok(message_id) => {
            log.finished("published", Some(&message_id));
            deps.metrics.record(&alert_published(severity, None));
            Ok(Summary::published(None, severity, message_id, count))
        }
        Err(failure) => {
            log.finished("publish-failed", None);
            error!(
                check = "posture",
                outcome = "publish-failed",
                error = %LogText(Some(&failure.0)),
                "posture alert NOT published; returning an error so Lambda retries"
            );
            Err(failure.into())
        }
    }
}

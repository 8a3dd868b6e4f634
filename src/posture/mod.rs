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
//! by [`run`]. The run is an entry point; the steps are below it (see the crate's layout).

pub mod gather;
pub mod judge;
pub mod remind;
pub mod report;

use std::time::{Duration, SystemTime};

use chrono::{DateTime, SecondsFormat, Utc};
use tracing::{error, info};

use crate::invocation::{Dependencies, HandlerError, Invocation, Status, Summary, PUBLISH_RESERVE};
use crate::lookup::Deadline;
use crate::parse::Schedule;
use crate::render::escape::LogText;
use crate::render::render;
use crate::severity::Severity;
use gather::gather;
use remind::Window;

/// The posture check's share of the invocation: all its lookups together, whatever the count.
pub const POSTURE_BUDGET: Duration = Duration::from_secs(30);

/// The scheduled run: check, decide what is due, publish at most one alert.
pub async fn run(
    schedule: &Schedule,
    invocation: &Invocation,
    deps: &Dependencies<'_>,
) -> Result<Summary, HandlerError> {
    let started = std::time::Instant::now();
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
    let budget = match invocation.time_left {
        Some(left) => POSTURE_BUDGET.min(left.saturating_sub(PUBLISH_RESERVE)),
        None => POSTURE_BUDGET,
    };
    let gathered = gather(inspector, regions, Deadline::after(budget)).await;
    let mut findings = judge::findings(&gathered.trails, &gathered.gaps);
    findings.retain(|f| f.severity >= config.min_severity);

    let window = Window {
        now: schedule
            .time
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map_or_else(
                || DateTime::<Utc>::from(SystemTime::now()),
                |t| t.with_timezone(&Utc),
            ),
        interval: config.posture.interval,
        remind_after: config.posture.remind_after,
    };
    for finding in &mut findings {
        finding.new = window.is_new(finding.since.as_deref());
    }
    let digest = window.is_digest_run() || schedule.report_all;
    let due = digest || findings.iter().any(|f| f.new);
    let worst = findings.iter().map(|f| f.severity).max();
    let (trail_count, finding_count) = (gathered.trails.len(), findings.len());
    let new_count = findings.iter().filter(|f| f.new).count();
    // The dead man's switch counts this line: every run that got this far logs it once.
    let finished = |status: &str, message_id: Option<&str>| {
        info!(
            check = "posture",
            outcome = "finished",
            status,
            regions = regions.len(),
            trails = trail_count,
            findings = finding_count,
            new_findings = new_count,
            worst = %worst.map_or("none", Severity::label),
            message_id = %LogText(message_id),
            duration_ms = started.elapsed().as_millis() as u64,
            "posture check finished"
        );
    };

    if findings.is_empty() {
        finished("healthy", None);
        return Ok(Summary::nothing(Status::Healthy, "no findings"));
    }
    if !due {
        finished("already-reported", None);
        let next = window.next_digest().map_or_else(String::new, |t| {
            format!(
                "; next reminder at {}",
                t.to_rfc3339_opts(SecondsFormat::Secs, true)
            )
        });
        return Ok(Summary {
            severity: worst,
            findings: Some(findings.len()),
            ..Summary::nothing(
                Status::AlreadyReported,
                &format!("every finding was already reported{next}"),
            )
        });
    }

    let alert = report::alert(findings, gathered.trails, &window, config);
    let severity = alert.severity;
    let count = alert.posture.as_ref().map(|p| p.findings.len());
    match deps.publisher.publish(&render(alert)).await {
        Ok(message_id) => {
            finished("published", Some(&message_id));
            Ok(Summary {
                status: Status::Published,
                severity: Some(severity),
                message_id: Some(message_id),
                event_id: None,
                reason: None,
                findings: count,
            })
        }
        Err(failure) => {
            finished("publish-failed", None);
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

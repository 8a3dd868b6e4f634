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
//! Layout: [`gather`] (lookups) → [`judge::findings`] → [`remind`] → [`alert`] → publish.

pub mod judge;
pub mod remind;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::future::join_all;
use serde::Serialize;
use tracing::{error, info};

use crate::alert::{Alert, AlertKind, SCHEMA_VERSION};
use crate::arn::Arn;
use crate::config::Config;
use crate::enrich::{all_within, Deadline};
use crate::handler::{Dependencies, HandlerError, Invocation, Status, Summary, PUBLISH_RESERVE};
use crate::inspector::{LookupError, TrailInspector};
use crate::links::Links;
use crate::parse::Schedule;
use crate::render::escape::LogText;
use crate::render::render;
use crate::resource::{
    Resource, ResourceKind, ResourceState, SelectorSummary, TrailConfig, TrailSnapshot, TrailStatus,
};
use crate::severity::Severity;
use judge::{Finding, Gaps};
use remind::Window;

/// The posture check's share of the invocation: all its lookups together, whatever the count.
pub const POSTURE_BUDGET: Duration = Duration::from_secs(30);

/// What the alert says about the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PostureInfo {
    pub account: Option<String>,
    pub regions: Vec<String>,
    pub trails_checked: usize,
    pub checked_at: String,
    pub findings: Vec<Finding>,
    /// When open findings are next repeated; `None` when every run repeats them.
    pub next_reminder: Option<String>,
}

/// Every trail that applies in the regions, each read once.
pub struct Gathered {
    pub trails: Vec<TrailSnapshot>,
    pub gaps: Gaps,
}

/// Lists the trails in every region, then reads each trail's status and selectors in its home
/// region, all within `deadline`. Regions are separate endpoints with their own rate limits, so
/// they are asked in parallel, and the bound (`MAX_CONCURRENT_LOOKUPS` trails at a time) applies
/// per region: on AWS a check of many regions takes about as long as its busiest region.
pub async fn gather(
    inspector: &dyn TrailInspector,
    regions: &[String],
    deadline: Deadline,
) -> Gathered {
    let listings = join_all(
        regions
            .iter()
            .map(|region| deadline.within(inspector.trails(region))),
    )
    .await;
    let mut gaps = Gaps::default();
    // (trail, the region it was listed in): a shadow trail appears in every region.
    let mut found: Vec<(TrailConfig, String)> = Vec::new();
    for (region, answer) in regions.iter().zip(listings) {
        match answer {
            Some(Ok(trails)) => {
                for trail in trails {
                    if !found.iter().any(|(known, _)| same_trail(known, &trail)) {
                        found.push((trail, region.clone()));
                    }
                }
            }
            Some(Err(problem)) => gaps
                .unlisted_regions
                .push((region.clone(), problem.to_string())),
            None => gaps
                .unlisted_regions
                .push((region.clone(), "timed out".to_string())),
        }
    }

    // A trail is read in its home region; DescribeTrails always says which, but the region it
    // was listed in also knows it.
    let mut by_region: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (index, (trail, listed_in)) in found.iter().enumerate() {
        let region = trail.home_region.as_deref().unwrap_or(listed_in);
        by_region.entry(region).or_default().push(index);
    }
    let found_ref = &found;
    let per_region = join_all(by_region.into_iter().map(|(region, indices)| async move {
        let reads = indices
            .iter()
            .map(|&index| async move {
                let trail = &found_ref[index].0;
                let id = trail
                    .arn
                    .as_deref()
                    .or(trail.name.as_deref())
                    .unwrap_or_default();
                tokio::join!(
                    inspector.trail_status(id, region),
                    inspector.event_selectors(id, region)
                )
            })
            .collect();
        indices
            .into_iter()
            .zip(all_within(deadline, reads).await)
            .collect::<Vec<_>>()
    }))
    .await;
    let mut answers: Vec<Option<TrailReads>> = (0..found.len()).map(|_| None).collect();
    for (index, answer) in per_region.into_iter().flatten() {
        answers[index] = answer;
    }

    let mut trails = Vec::with_capacity(found.len());
    for ((config, _), answer) in found.into_iter().zip(answers) {
        let label = config.label().to_string();
        let mut snapshot = TrailSnapshot {
            config,
            status: None,
            event_selectors: None,
        };
        match answer {
            Some((status, selectors)) => {
                match status {
                    Ok(status) => snapshot.status = Some(status),
                    Err(e) => gaps
                        .unread
                        .push((label.clone(), format!("GetTrailStatus failed: {e}"))),
                }
                match selectors {
                    Ok(selectors) => snapshot.event_selectors = Some(selectors),
                    Err(e) => gaps
                        .unread
                        .push((label, format!("GetEventSelectors failed: {e}"))),
                }
            }
            None => gaps.unread.push((
                label,
                "GetTrailStatus and GetEventSelectors timed out".to_string(),
            )),
        }
        trails.push(snapshot);
    }
    Gathered { trails, gaps }
}

/// What one trail's two reads answered.
type TrailReads = (
    Result<TrailStatus, LookupError>,
    Result<SelectorSummary, LookupError>,
);

/// A trail listed twice (a multi-region trail seen from several regions) is one trail.
fn same_trail(a: &TrailConfig, b: &TrailConfig) -> bool {
    match (&a.arn, &b.arn) {
        (Some(x), Some(y)) => x == y,
        _ => a.name == b.name && a.home_region == b.home_region,
    }
}

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

    let alert = alert(findings, gathered.trails, &window, config);
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

/// One alert for the run's findings, in the same formats as an event's.
pub fn alert(
    findings: Vec<Finding>,
    trails: Vec<TrailSnapshot>,
    window: &Window,
    config: &Config,
) -> Alert {
    let home_region = config.posture.regions.first().cloned().unwrap_or_default();
    let severity = findings
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(Severity::Informational);
    let title = match findings.len() {
        1 => format!("Posture: {}", findings[0].check.title()),
        n => format!(
            "Posture: {} (and {} more)",
            findings[0].check.title(),
            n - 1
        ),
    };
    let reasons = findings
        .iter()
        .map(|f| {
            format!(
                "{} {}: {}",
                f.severity,
                if f.new { "new" } else { "still open" },
                f.detail
            )
        })
        .collect();
    let next_steps = judge::next_steps(&findings, &trails, &home_region);
    let trails_checked = trails.len();
    // A run whose findings are all about one trail names it, so headlines and threads do.
    let mut about: Vec<&str> = findings.iter().filter_map(|f| f.trail.as_deref()).collect();
    about.dedup();
    let resource = match about.as_slice() {
        [only] if findings.iter().all(|f| f.trail.is_some()) => trails
            .iter()
            .find(|t| t.config.arn.as_deref() == Some(only) || t.config.label() == *only)
            .map(trail_resource),
        _ => None,
    };
    Alert {
        schema_version: SCHEMA_VERSION,
        product: "trailwatch",
        kind: AlertKind::Posture,
        severity,
        title,
        reasons,
        resource,
        resource_state: ResourceState::Trails { trails },
        coverage: None,
        trusted_principal: false,
        own_resource: false,
        account_name: None,
        event: None,
        actor: None,
        enrichment_error: None,
        input_problems: Vec::new(),
        next_steps,
        links: Links::default(),
        request_parameters: None,
        truncated: Vec::new(),
        auto_restart: None,
        posture: Some(PostureInfo {
            account: config.home_account.clone(),
            regions: config.posture.regions.clone(),
            trails_checked,
            checked_at: window.now.to_rfc3339_opts(SecondsFormat::Secs, true),
            findings,
            next_reminder: window
                .next_digest()
                .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)),
        }),
    }
    .with_account_name(&config.account_names)
}

fn trail_resource(trail: &TrailSnapshot) -> Resource {
    let arn = trail.config.arn.as_deref().and_then(Arn::parse);
    Resource {
        kind: ResourceKind::Trail,
        name: trail.config.name.clone(),
        region: trail.config.home_region.clone(),
        account: arn.as_ref().and_then(|a| a.account.clone()),
        arn: trail.config.arn.clone(),
        given: trail.config.label().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::EventDataStoreState;
    use async_trait::async_trait;
    use tokio::time::{sleep, Instant};

    /// Every call takes 100 ms; region `rN` has N single-region trails of its own.
    struct SlowAccount;

    const CALL: Duration = Duration::from_millis(100);

    #[async_trait]
    impl TrailInspector for SlowAccount {
        async fn trail_status(&self, _: &str, _: &str) -> Result<TrailStatus, LookupError> {
            sleep(CALL).await;
            Ok(TrailStatus {
                is_logging: Some(true),
                ..TrailStatus::default()
            })
        }
        async fn trails(&self, region: &str) -> Result<Vec<TrailConfig>, LookupError> {
            sleep(CALL).await;
            let count: usize = region.trim_start_matches('r').parse().unwrap_or(1);
            Ok((0..count)
                .map(|n| TrailConfig {
                    name: Some(format!("trail-{n}")),
                    arn: Some(format!(
                        "arn:aws:cloudtrail:{region}:111122223333:trail/trail-{n}"
                    )),
                    home_region: Some(region.to_string()),
                    ..TrailConfig::default()
                })
                .collect())
        }
        async fn event_selectors(&self, _: &str, _: &str) -> Result<SelectorSummary, LookupError> {
            sleep(CALL).await;
            Ok(SelectorSummary::default())
        }
        async fn event_data_store(
            &self,
            _: &str,
            _: &str,
        ) -> Result<EventDataStoreState, LookupError> {
            unreachable!("the posture check does not read event data stores")
        }
    }

    async fn time_to_gather(regions: &[&str]) -> (Duration, usize) {
        let regions: Vec<String> = regions.iter().map(|r| r.to_string()).collect();
        let started = Instant::now();
        let gathered = gather(
            &SlowAccount,
            &regions,
            Deadline::after(Duration::from_secs(30)),
        )
        .await;
        assert!(gathered.gaps.unread.is_empty() && gathered.gaps.unlisted_regions.is_empty());
        (started.elapsed(), gathered.trails.len())
    }

    #[tokio::test(start_paused = true)]
    async fn regions_are_checked_in_parallel_and_bounded_each_on_its_own() {
        // One listing round, then one round of reads (a trail's two reads run together).
        assert_eq!(time_to_gather(&["r1"]).await, (2 * CALL, 1));
        let seventeen: Vec<String> = (0..17).map(|_| "r1".to_string()).collect();
        let names: Vec<&str> = seventeen.iter().map(String::as_str).collect();
        // The same trail listed in 17 regions is read once.
        assert_eq!(time_to_gather(&names).await, (2 * CALL, 1));
        let spread = ["r2", "r1", "r3", "r1", "r2", "r1", "r1", "r2", "r1", "r1"];
        let (elapsed, trails) = time_to_gather(&spread).await;
        assert_eq!(
            trails,
            1 + 2 + 3,
            "each region's own trails, each read once"
        );
        assert_eq!(
            elapsed,
            2 * CALL,
            "as long as the busiest region, not the sum"
        );
        // Twenty trails in one region: 8 at a time.
        assert_eq!(time_to_gather(&["r20"]).await, (4 * CALL, 20));
    }
}

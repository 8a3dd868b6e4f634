//! The posture report: one alert for a run's findings, in the same formats as an event's.

use chrono::SecondsFormat;

use crate::alert::posture::{Finding, PostureInfo};
use crate::alert::{Alert, AlertKind};
use crate::arn::Arn;
use crate::config::Config;
use crate::posture::judge;
use crate::posture::remind::Window;
use crate::resource::{Resource, ResourceKind, ResourceState, TrailSnapshot};
use crate::severity::Severity;

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
    let next_steps = judge::next_steps(
        &findings,
        &trails,
        &home_region,
        config.own.heartbeat_parameter.as_deref(),
    );
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
        resource,
        resource_state: ResourceState::Trails { trails },
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
        ..Alert::report(AlertKind::Posture, severity, title, reasons, next_steps)
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

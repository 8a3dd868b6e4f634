//! The posture findings: what is wrong with the trails as they are now, each with a severity,
//! a reason and the step that fixes it.

use crate::alert::posture::{Check, Finding};
use crate::alert::NextStep;
use crate::command;
use crate::coverage::{verdict, Candidate, Verdict};
use crate::monitors::cloudtrail::{
    create_trail, enable_validation, record_management_events, restart_logging,
};
use crate::posture::gather::{Gaps, Gathered};
use crate::posture::remind::Window;
use crate::prose::code;
use crate::resource::TrailSnapshot;
use crate::severity::Severity::{self, *};

/// An organization's account whose trails could not be read at all: HIGH, since nothing
/// about its logging is known (a finding, never silence).
pub fn account_not_read(account: &str, problem: &str) -> Finding {
    Finding {
        account: Some(account.to_string()),
        severity: High,
        check: Check::AccountNotRead,
        trail: None,
        region: None,
        detail: format!(
            "account {} could not be read, so its trails were not checked: {}",
            code(account),
            code(problem)
        ),
        since: None,
        new: false,
    }
}

/// The findings at or above `min_severity`, each marked new when it began after the last run.
pub fn at_or_above(gathered: &Gathered, window: &Window, min_severity: Severity) -> Vec<Finding> {
    let mut found = findings(&gathered.trails, &gathered.gaps);
    found.retain(|f| f.severity >= min_severity);
    for finding in &mut found {
        finding.new = window.is_new(finding.since.as_deref());
    }
    found
}

/// `more` findings (the other recorders') added to `found` like the trails' own: at or above
/// `min_severity`, marked new by the window, and the whole kept worst first.
pub fn add_at_or_above(
    found: &mut Vec<Finding>,
    more: Vec<Finding>,
    window: &Window,
    min_severity: Severity,
) {
    for mut finding in more {
        if finding.severity >= min_severity {
            finding.new = window.is_new(finding.since.as_deref());
            found.push(finding);
        }
    }
    found.sort_by_key(|finding| std::cmp::Reverse(finding.severity));
}

/// Every finding, worst first.
pub fn findings(trails: &[TrailSnapshot], gaps: &Gaps) -> Vec<Finding> {
    let mut found = Vec::new();
    found.extend(coverage_finding(trails, gaps));
    for trail in trails {
        let name = code(trail.config.label());
        let status = trail.status.as_ref();
        match status.and_then(|s| s.is_logging) {
            Some(false) => {
                let mut finding = Finding::about(
                    High,
                    Check::NotLogging,
                    trail,
                    format!(
                        "trail {name} is not logging{}",
                        status
                            .and_then(|s| s.stop_logging_time.as_deref())
                            .map_or_else(String::new, |t| format!(" (stopped at {})", code(t)))
                    ),
                );
                finding.since = status.and_then(|s| s.stop_logging_time.clone());
                found.push(finding);
            }
            // A stopped trail's last delivery error is old news; a logging one's is not.
            Some(true) => {
                if let Some(error) = status.and_then(|s| s.latest_delivery_error.as_deref()) {
                    found.push(Finding::about(High, Check::DeliveryError, trail, format!(
                        "trail {name} is logging but its last delivery to S3 failed ({}): log files are not reaching the bucket",
                        code(error)
                    )));
                }
                if let Some(error) =
                    status.and_then(|s| s.latest_cloud_watch_logs_delivery_error.as_deref())
                {
                    found.push(Finding::about(High, Check::CloudWatchLogsDeliveryError, trail, format!(
                        "trail {name} is logging but its last delivery to CloudWatch Logs failed ({}): alarms on its log group see nothing",
                        code(error)
                    )));
                }
            }
            None => {}
        }
        if let Some(selectors) = &trail.event_selectors {
            if selectors.records_writes() == Some(false) {
                found.push(Finding::about(High, Check::ManagementEventsNotRecorded, trail, format!(
                    "trail {name} records {} management events: calls that change the account (a StopLogging included) leave no record in it",
                    selectors.management_events.as_deref().map_or("no".to_string(), code)
                )));
            }
        }
        if trail.config.log_file_validation_enabled == Some(false) {
            found.push(Finding::about(Medium, Check::LogFileValidationOff, trail, format!(
                "trail {name} has log file validation off: its log files can be altered or deleted without detection"
            )));
        }
    }
    for (region, problem) in &gaps.unlisted_regions {
        found.push(Finding {
            account: None,
            severity: Medium,
            check: Check::CouldNotCheck,
            trail: None,
            region: Some(region.clone()),
            detail: format!(
                "the trails in {} could not be listed: {}",
                code(region),
                code(problem)
            ),
            since: None,
            new: false,
        });
    }
    for (trail, problem) in &gaps.unread {
        found.push(Finding {
            account: None,
            severity: Medium,
            check: Check::CouldNotCheck,
            trail: Some(trail.clone()),
            region: None,
            detail: format!(
                "trail {} could not be fully read: {}",
                code(trail),
                code(problem)
            ),
            since: None,
            new: false,
        });
    }
    found.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.check.cmp(&b.check)));
    found
}

/// Is the account still recorded by a multi-region trail that logs write management events?
/// The same verdict the event path gives after a stop, over every trail found.
fn coverage_finding(trails: &[TrailSnapshot], gaps: &Gaps) -> Option<Finding> {
    let multi_region: Vec<&TrailSnapshot> = trails
        .iter()
        .filter(|t| t.config.is_multi_region_trail == Some(true))
        .collect();
    let candidates: Vec<Candidate> = multi_region
        .iter()
        .map(|t| Candidate::from_state(&t.config, t.status.as_ref(), t.event_selectors.as_ref()))
        .collect();
    let coverage = verdict(&candidates);
    let (severity, detail) = match coverage.verdict {
        Verdict::Covered => return None,
        // Nothing listed everywhere could be a listing failure, not an empty account.
        Verdict::Uncovered if gaps.unlisted_regions.is_empty() => (Critical, coverage.detail),
        _ => (
            High,
            format!(
                "could not confirm that any multi-region trail records the account's write management events ({})",
                coverage.detail
            ),
        ),
    };
    // When every multi-region trail was stopped, the last stop is when coverage ended.
    let stops: Vec<&str> = multi_region
        .iter()
        .filter_map(|t| t.status.as_ref()?.stop_logging_time.as_deref())
        .collect();
    let since = (!stops.is_empty() && stops.len() == multi_region.len())
        .then(|| stops.iter().max().map(|t| t.to_string()))
        .flatten();
    Some(Finding {
        account: None,
        severity,
        check: Check::NoMultiRegionTrail,
        trail: None,
        region: None,
        detail,
        since,
        new: false,
    })
}

/// What to do about the findings, most urgent first, each step once.
pub fn next_steps(
    findings: &[Finding],
    trails: &[TrailSnapshot],
    home_region: &str,
    heartbeat_parameter: Option<&str>,
) -> Vec<NextStep> {
    let mut steps: Vec<NextStep> = Vec::new();
    let mut push = |step: NextStep| {
        if !steps.contains(&step) {
            steps.push(step);
        }
    };
    for finding in findings {
        let trail = command::trail(finding.trail.as_deref());
        let region = command::region(finding.region.as_deref());
        match finding.check {
            Check::NoMultiRegionTrail => {
                let stopped = trails.iter().find(|t| {
                    t.config.is_multi_region_trail == Some(true)
                        && t.status.as_ref().and_then(|s| s.is_logging) == Some(false)
                });
                match stopped {
                    Some(t) => push(restart_logging(
                        &command::trail(t.config.arn.as_deref()),
                        &command::region(t.config.home_region.as_deref()),
                    )),
                    None if trails.iter().all(|t| t.config.is_multi_region_trail != Some(true)) => push(create_trail(
                        "Create a multi-region trail that records all management events, and start it",
                        &command::trail_name(Some("account-trail")),
                        &command::region(Some(home_region)),
                    )),
                    None => {}
                }
            }
            Check::NotLogging => push(restart_logging(&trail, &region)),
            Check::DeliveryError => push(command::step(
                "Fix delivery: the bucket policy must let cloudtrail.amazonaws.com write, and the KMS key policy must let it encrypt; then check the error is gone",
                format!("aws cloudtrail get-trail-status --name {trail} --region {region}"),
                &[&trail, &region],
            )),
            Check::CloudWatchLogsDeliveryError => push(command::step(
                "Fix delivery to CloudWatch Logs: the trail's role must exist and may write to the log group; then check the error is gone",
                format!("aws cloudtrail get-trail-status --name {trail} --region {region}"),
                &[&trail, &region],
            )),
            Check::ManagementEventsNotRecorded => push(record_management_events(&trail, &region)),
            Check::LogFileValidationOff => push(enable_validation(&trail, &region)),
            Check::RuleNotAsDeployed => push(NextStep::say(
                "Put the rule back as the template defines it (aws cloudformation detect-stack-drift on the trailwatch stack shows what differs; a deploy without template changes does not undo a change made outside CloudFormation), then find out who changed it (CloudTrail event history, events.amazonaws.com).",
            )),
            Check::NoHeartbeat => {
                let parameter = command::parameter(heartbeat_parameter);
                push(command::step(
                    "Find where the heartbeat stops in that region: the tag's time shows whether the schedule still makes its call (a forwarder sends one only when deployed with CentralId); if it does, check that a trail there logs write management events, then the forwarding rule and the central bus's permission",
                    format!(
                        "aws ssm list-tags-for-resource --resource-type Parameter --resource-id {parameter} --region {region}"
                    ),
                    &[&parameter, &region],
                ))
            }
            Check::NoConfirmedSubscription => push(NextStep::say(
                "Subscribe someone to the alert topic and confirm it (the email's confirmation link), or redeploy with AlertEmail set: until then every alert is published to nobody.",
            )),
            Check::AccountNotRead => push(NextStep::say(
                "Give trailwatch a way in: deploy the forwarder StackSet to that account (it creates trailwatch's read role there), or, if the role exists, check that its trust still names the central function's role and the organization. The management account is skipped by service-managed StackSets: deploy the forwarder stack there directly, or leave it out of POSTURE_ACCOUNTS.",
            )),
            Check::ConfigNotRecording => push(command::step(
                "Start AWS Config's recorder there (aws configservice start-configuration-recorder --configuration-recorder-name NAME), or set Config up if the region has none; this shows which",
                format!("aws configservice describe-configuration-recorder-status --region {region}"),
                &[&region],
            )),
            Check::GuardDutyOff => push(command::step(
                "Enable GuardDuty there (aws guardduty update-detector --detector-id ID --enable for a suspended detector), with the protection plans you use; this shows which",
                format!("aws guardduty list-detectors --region {region}"),
                &[&region],
            )),
            Check::SecurityHubOff => push(command::step(
                "Enable Security Hub there, with the standards you use (or let the organization's central configuration do it)",
                format!("aws securityhub enable-security-hub --enable-default-standards --region {region}"),
                &[&region],
            )),
            Check::CouldNotCheck => push(NextStep::say(
                "Check that the function's role may call cloudtrail:DescribeTrails, GetTrailStatus and GetEventSelectors in every region of POSTURE_REGIONS",
            )),
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::{SelectorSummary, TrailConfig, TrailStatus};

    fn trail(name: &str, multi_region: bool, logging: bool) -> TrailSnapshot {
        TrailSnapshot {
            config: TrailConfig {
                name: Some(name.into()),
                arn: Some(format!(
                    "arn:aws:cloudtrail:us-east-1:111122223333:trail/{name}"
                )),
                home_region: Some("us-east-1".into()),
                is_multi_region_trail: Some(multi_region),
                log_file_validation_enabled: Some(true),
                ..TrailConfig::default()
            },
            status: Some(TrailStatus {
                is_logging: Some(logging),
                stop_logging_time: (!logging).then(|| "2026-11-29T10:00:00Z".to_string()),
                ..TrailStatus::default()
            }),
            event_selectors: Some(SelectorSummary {
                style: "basic".into(),
                management_events: Some("All".into()),
                selector_count: 1,
            }),
        }
    }

    #[test]
    fn a_healthy_account_has_no_findings() {
        assert_eq!(findings(&[trail("org", true, true)], &Gaps::default()), []);
    }

    #[test]
    fn a_stopped_only_trail_is_critical_with_its_stop_time() {
        let found = findings(&[trail("org", true, false)], &Gaps::default());
        assert_eq!(found[0].check, Check::NoMultiRegionTrail);
        assert_eq!(found[0].severity, Critical);
        assert_eq!(found[0].since.as_deref(), Some("2026-11-29T10:00:00Z"));
        assert_eq!(found[1].check, Check::NotLogging);
        assert_eq!(found[1].severity, High);
        let steps = next_steps(&found, &[trail("org", true, false)], "us-east-1", None);
        assert_eq!(steps.len(), 1, "the same restart, once: {steps:?}");
        assert!(steps[0]
            .command
            .as_deref()
            .unwrap()
            .contains("start-logging"));
    }

    #[test]
    fn each_weakness_is_its_own_finding() {
        let mut weak = trail("org", true, true);
        weak.status.as_mut().unwrap().latest_delivery_error = Some("AccessDenied".into());
        weak.status
            .as_mut()
            .unwrap()
            .latest_cloud_watch_logs_delivery_error = Some("x".into());
        weak.config.log_file_validation_enabled = Some(false);
        weak.event_selectors.as_mut().unwrap().management_events = Some("ReadOnly".into());
        let checks: Vec<Check> = findings(&[weak], &Gaps::default())
            .iter()
            .map(|f| f.check)
            .collect();
        assert_eq!(
            checks,
            [
                Check::NoMultiRegionTrail,
                Check::DeliveryError,
                Check::CloudWatchLogsDeliveryError,
                Check::ManagementEventsNotRecorded,
                Check::LogFileValidationOff,
            ]
        );
    }

    #[test]
    fn nothing_listed_because_listing_failed_is_not_called_empty() {
        let gaps = Gaps {
            unlisted_regions: vec![("eu-west-1".into(), "AccessDenied".into())],
            unread: Vec::new(),
        };
        let found = findings(&[], &gaps);
        assert_eq!(found[0].severity, High, "unknown, not CRITICAL");
        assert!(found[0].detail.starts_with("could not confirm"));
        assert_eq!(found[1].check, Check::CouldNotCheck);
        let none = findings(&[], &Gaps::default());
        assert_eq!(none[0].severity, Critical);
        let steps = next_steps(&none, &[], "eu-west-1", None);
        assert!(steps[0]
            .command
            .as_deref()
            .unwrap()
            .contains("create-trail"));
    }
}

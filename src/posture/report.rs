//! The posture report: one alert for a run's findings, in the same formats as an event's.

use chrono::SecondsFormat;

use crate::alert::posture::{Finding, OrganizationRun, PostureInfo};
use crate::alert::{Alert, AlertKind, NextStep};
use crate::arn::Arn;
use crate::config::Config;
use crate::organization::AccountResult;
use crate::posture::judge;
use crate::posture::remind::Window;
use crate::prose::code;
use crate::render::{per_protocol_message, MESSAGE_BUDGET_BYTES};
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
        posture: Some(posture_info(findings, trails_checked, window, config, None)),
        ..Alert::report(AlertKind::Posture, severity, title, reasons, next_steps)
    }
    .with_account_name(&config.account_names)
}

/// What the alert says about the run.
fn posture_info(
    findings: Vec<Finding>,
    trails_checked: usize,
    window: &Window,
    config: &Config,
    organization: Option<OrganizationRun>,
) -> PostureInfo {
    PostureInfo {
        account: config.home_account.clone(),
        regions: config.posture.regions.clone(),
        trails_checked,
        checked_at: window.now.to_rfc3339_opts(SecondsFormat::Secs, true),
        findings,
        next_reminder: window
            .next_digest()
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)),
        organization,
    }
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

/// The organization's one summary: every account's findings, grouped by account (the accounts
/// with the worst findings first), as many accounts as fit in one SNS message; the rest are
/// counted in the alert and named in its notes.
pub fn organization_alert(results: Vec<AccountResult>, window: &Window, config: &Config) -> Alert {
    let accounts_checked = results.len();
    let trails_checked = results.iter().map(|r| r.trails_checked).sum();
    let mut with_findings: Vec<AccountResult> = results
        .into_iter()
        .filter(|r| !r.findings.is_empty())
        .collect();
    with_findings.sort_by(|a, b| {
        worst(b)
            .cmp(&worst(a))
            .then(
                b.findings
                    .iter()
                    .any(|f| f.new)
                    .cmp(&a.findings.iter().any(|f| f.new)),
            )
            .then(a.account.cmp(&b.account))
    });
    let summary = |kept: usize| {
        organization_summary(
            &with_findings,
            kept,
            accounts_checked,
            trails_checked,
            window,
            config,
        )
    };
    // The most accounts whose summary fits: a summary grows with every account kept, so the
    // largest that fits is found by halving.
    let fits = |kept: usize| per_protocol_message(&summary(kept)).0.len() <= MESSAGE_BUDGET_BYTES;
    let (mut low, mut high) = (0, with_findings.len());
    if fits(high) {
        low = high;
    }
    while low + 1 < high {
        let middle = (low + high) / 2;
        if fits(middle) {
            low = middle;
        } else {
            high = middle;
        }
    }
    // At least one account is always told; render shortens its text if even that is too long.
    summary(low.max(1).min(with_findings.len()))
}

fn worst(result: &AccountResult) -> Severity {
    result
        .findings
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(Severity::Informational)
}

/// The summary with the first `kept` accounts of `accounts` (those with findings) told.
fn organization_summary(
    accounts: &[AccountResult],
    kept: usize,
    accounts_checked: usize,
    trails_checked: usize,
    window: &Window,
    config: &Config,
) -> Alert {
    let told = &accounts[..kept.min(accounts.len())];
    let left_out = &accounts[told.len()..];
    let omitted_findings: usize = left_out.iter().map(|r| r.findings.len()).sum();
    let all_findings = told.iter().map(|r| r.findings.len()).sum::<usize>() + omitted_findings;
    let severity = accounts
        .iter()
        .map(worst)
        .max()
        .unwrap_or(Severity::Informational);
    let headline = told
        .first()
        .and_then(|r| r.findings.first())
        .map_or("no findings", |f| f.check.title());
    let title = match all_findings {
        0 | 1 => format!("Organization posture: {headline}"),
        n => format!("Organization posture: {headline} (and {} more)", n - 1),
    };
    let mut findings = Vec::new();
    let mut reasons = Vec::new();
    let mut next_steps = Vec::new();
    let mut trails = Vec::new();
    for result in told {
        let account = code(&result.account);
        let named = config
            .account_names
            .get(&result.account)
            .map_or_else(String::new, |name| format!(" ({})", code(name)));
        for finding in &result.findings {
            reasons.push(format!(
                "{} {} in account {account}{named}: {}",
                finding.severity,
                if finding.new { "new" } else { "still open" },
                finding.detail
            ));
            findings.push(Finding {
                account: Some(result.account.clone()),
                ..finding.clone()
            });
        }
        for step in &result.next_steps {
            next_steps.push(NextStep {
                action: format!("In account {account}{named}: {}", step.action),
                command: step.command.clone(),
            });
        }
        trails.extend(result.trails.iter().cloned());
    }
    let mut alert = Alert {
        resource_state: ResourceState::Trails { trails },
        posture: Some(posture_info(
            findings,
            trails_checked,
            window,
            config,
            Some(OrganizationRun {
                accounts_checked,
                accounts_with_findings: accounts.len(),
                omitted_findings,
                omitted_accounts: left_out.len(),
            }),
        )),
        ..Alert::report(AlertKind::Posture, severity, title, reasons, next_steps)
    };
    if !left_out.is_empty() {
        alert.truncated.push(format!(
            "{omitted_findings} finding(s) in {} more account(s) left out to fit SNS's 256 KiB message limit: {}",
            left_out.len(),
            left_out
                .iter()
                .map(|r| r.account.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    alert
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::posture::Check;
    use crate::render::render;
    use std::time::Duration;

    fn config() -> Config {
        Config::from_lookup(|name| match name {
            "ALERT_TOPIC_ARN" => Some("arn:aws:sns:us-east-1:123456789012:alerts".into()),
            "POSTURE_REGIONS" => Some("us-east-1,eu-west-1".into()),
            _ => None,
        })
        .unwrap()
    }

    fn window() -> Window {
        Window {
            now: chrono::DateTime::parse_from_rfc3339("2026-12-05T00:05:00Z")
                .unwrap()
                .with_timezone(&chrono::Utc),
            interval: Duration::from_secs(3600),
            remind_after: Duration::from_secs(24 * 3600),
        }
    }

    /// Account `n` with `count` findings, HIGH for even accounts and MEDIUM for odd ones.
    fn account(n: usize, count: usize, detail_chars: usize) -> AccountResult {
        let account = format!("{:012}", 100_000_000_000 + n);
        let severity = if n.is_multiple_of(2) {
            Severity::High
        } else {
            Severity::Medium
        };
        AccountResult {
            account: account.clone(),
            trails_checked: 2,
            findings: (0..count)
                .map(|i| Finding {
                    account: None,
                    severity,
                    check: Check::NotLogging,
                    trail: Some(format!("arn:aws:cloudtrail:us-east-1:{account}:trail/t{i}")),
                    region: Some("us-east-1".into()),
                    detail: format!(
                        "trail {} is not logging {}",
                        code(&format!("t{i}")),
                        "x".repeat(detail_chars)
                    ),
                    since: None,
                    new: false,
                })
                .collect(),
            next_steps: vec![NextStep::run(
                "Start logging again",
                format!("aws cloudtrail start-logging --name t0 --region us-east-1 # {account}"),
            )],
            trails: Vec::new(),
        }
    }

    #[test]
    fn findings_are_grouped_by_account_worst_first() {
        let results = vec![account(1, 2, 0), account(2, 1, 0), account(3, 0, 0)];
        let alert = organization_alert(results, &window(), &config());
        let posture = alert.posture.as_ref().unwrap();
        let run = posture.organization.as_ref().unwrap();
        assert_eq!((run.accounts_checked, run.accounts_with_findings), (3, 2));
        assert_eq!((run.omitted_findings, run.omitted_accounts), (0, 0));
        assert_eq!(posture.trails_checked, 6);
        let accounts: Vec<&str> = posture
            .findings
            .iter()
            .map(|f| f.account.as_deref().unwrap())
            .collect();
        assert_eq!(accounts, ["100000000002", "100000000001", "100000000001"]);
        assert_eq!(alert.severity, Severity::High);
        assert!(
            alert.reasons[0].contains("in account `100000000002`"),
            "{:?}",
            alert.reasons
        );
        assert!(alert.next_steps[0]
            .action
            .starts_with("In account `100000000002`: "));
        assert!(alert.title.starts_with("Organization posture: "));
    }

    #[test]
    fn a_large_organization_fits_one_message_and_counts_the_rest() {
        // 1,000 accounts, three long findings each: far more than 256 KiB of text.
        let results: Vec<AccountResult> = (0..1000).map(|n| account(n, 3, 300)).collect();
        let alert = organization_alert(results, &window(), &config());
        let posture = alert.posture.clone().unwrap();
        let run = posture.organization.clone().unwrap();
        let rendered = render(alert.clone());
        assert!(
            rendered.message.len() <= MESSAGE_BUDGET_BYTES,
            "{}",
            rendered.message.len()
        );
        assert!(run.omitted_accounts > 0 && run.omitted_accounts < 1000);
        assert_eq!(posture.findings.len() + run.omitted_findings, 3000);
        assert_eq!(run.accounts_with_findings, 1000);
        // Whole accounts are told or left out, the HIGH (even) ones first.
        assert_eq!(posture.findings.len() % 3, 0);
        assert!(posture
            .findings
            .iter()
            .take(posture.findings.len().min(1500))
            .all(|f| f.severity == Severity::High));
        assert!(alert
            .truncated
            .iter()
            .any(|note| note.contains(&format!("{} more account(s)", run.omitted_accounts))));
        // No text was cut to make it fit: the accounts told are told whole.
        assert!(!alert.truncated.iter().any(|note| note.contains("cut to")));
        assert!(!rendered.message.contains("cut to"));
    }
}

//! An alert's findings into Security Hub, when findings are on (SECURITY_HUB_FINDINGS): after
//! the alert is published, and never at its expense. A hub that is off, not enabled, refusing
//! or throttling past the deadline is logged and counted (`FindingsNotImported`), never an
//! error: the SNS alert is what must arrive.
//!
//! A finding is imported in the account it is about: its AwsAccountId must be the importing
//! account's with the account's default product ("BatchImportFindings for finding providers").
//! So a finding about a member account (central mode) is imported through trailwatch's read
//! role there, which may import through that account's own product and nothing more.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use tracing::{info, warn};

use crate::alert::asff::{AsffFinding, ComplianceStatus, RecordState};
use crate::alert::posture::Check;
use crate::alert::Alert;
use crate::asff::{self, Hub};
use crate::hub::ImportReport;
use crate::invocation::{Dependencies, Invocation};
use crate::lookup::Deadline;
use crate::metrics::findings_imported;
use crate::render::escape::LogText;

/// What an import may take at most, and what it leaves of the invocation.
const IMPORT_BUDGET: Duration = Duration::from_secs(5);
const IMPORT_MARGIN: Duration = Duration::from_millis(500);

/// The findings `alert` would import, built before the alert is rendered (and consumed):
/// nothing when findings are off.
pub fn prepare(alert: &Alert, deps: &Dependencies<'_>) -> Vec<AsffFinding> {
    if !deps.hub.enabled() {
        return Vec::new();
    }
    let Some(hub) = Hub::of(deps.config) else {
        return Vec::new();
    };
    asff::findings(alert, &hub, &now())
}

pub fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The import's share of what is left of the invocation.
pub fn deadline(invocation: &Invocation) -> Deadline {
    Deadline::after(match invocation.time_left {
        Some(left) => IMPORT_BUDGET.min(left.saturating_sub(IMPORT_MARGIN)),
        None => IMPORT_BUDGET,
    })
}

/// Imports `findings`; what could not be imported is logged and counted.
pub async fn send(findings: Vec<AsffFinding>, deps: &Dependencies<'_>, deadline: Deadline) {
    if findings.is_empty() {
        return;
    }
    let Some(hub) = Hub::of(deps.config) else {
        return;
    };
    let (here, elsewhere): (Vec<AsffFinding>, Vec<AsffFinding>) = findings
        .into_iter()
        .partition(|finding| finding.aws_account_id == hub.account);
    let mut report = within(deadline, deps.hub.import(&here), here.len()).await;
    // A finding about a member account is imported there, through trailwatch's read role.
    let mut by_account: BTreeMap<String, Vec<AsffFinding>> = BTreeMap::new();
    for finding in elsewhere {
        by_account
            .entry(finding.aws_account_id.clone())
            .or_default()
            .push(finding);
    }
    for (account, findings) in by_account {
        let member = match deadline.within(deps.members.hub(&account)).await {
            Some(Ok(member)) => within(deadline, member.import(&findings), findings.len()).await,
            Some(Err(problem)) => ImportReport {
                not_sent: Some((
                    findings.len(),
                    format!("account {account}'s Security Hub cannot be reached: {problem}"),
                )),
                ..ImportReport::default()
            },
            None => timed_out(findings.len()),
        };
        report.imported += member.imported;
        report.refused.extend(member.refused);
        if let Some((count, problem)) = member.not_sent {
            let earlier = report.not_sent.take().map_or(0, |(n, _)| n);
            report.not_sent = Some((earlier + count, problem));
        }
    }
    tell(&report, deps);
}

async fn within(
    deadline: Deadline,
    import: impl std::future::Future<Output = ImportReport>,
    count: usize,
) -> ImportReport {
    deadline
        .within(import)
        .await
        .unwrap_or_else(|| timed_out(count))
}

fn timed_out(count: usize) -> ImportReport {
    ImportReport {
        not_sent: Some((count, "timed out".to_string())),
        ..ImportReport::default()
    }
}

fn tell(report: &ImportReport, deps: &Dependencies<'_>) {
    let not_imported = report.failed();
    deps.metrics
        .record(&findings_imported(report.imported, not_imported));
    for refused in &report.refused {
        warn!(
            outcome = "finding-refused",
            finding = %LogText(Some(&refused.id)),
            code = %LogText(Some(&refused.code)),
            error = %LogText(Some(&refused.message)),
            "Security Hub refused a finding; the alert was published anyway"
        );
    }
    if let Some((count, problem)) = &report.not_sent {
        warn!(
            outcome = "findings-not-imported",
            findings = count,
            error = %LogText(Some(problem)),
            "findings not imported into Security Hub; the alert was published anyway"
        );
    }
    if report.imported > 0 {
        info!(
            findings = report.imported,
            "findings imported into Security Hub"
        );
    }
}

/// Which of the open posture findings a run answers for, and so archives when it no longer
/// finds them: an organization's run checks trails in each account and trailwatch itself once,
/// in two places, and neither may archive what only the other checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostureScope {
    /// One account's run: every posture finding.
    Everything,
    /// The account's trails (and the account-wide trail checks), not trailwatch itself.
    Trails,
    /// trailwatch's own rules, subscription and heartbeats.
    Trailwatch,
}

impl PostureScope {
    fn covers(self, finding: &AsffFinding) -> bool {
        let about_trailwatch = asff::posture_check(finding).map(Check::is_about_trailwatch);
        match self {
            PostureScope::Everything => true,
            PostureScope::Trails => about_trailwatch == Some(false),
            PostureScope::Trailwatch => about_trailwatch == Some(true),
        }
    }
}

/// A posture run's findings for `account`: every open one imported again (a newer UpdatedAt),
/// and every one imported earlier within `scope` that no longer holds archived (RecordState
/// ARCHIVED, Compliance PASSED).
pub async fn posture(
    account: &str,
    findings: Vec<AsffFinding>,
    scope: PostureScope,
    deps: &Dependencies<'_>,
    deadline: Deadline,
) {
    let current: BTreeSet<String> = findings.iter().map(|f| f.id.clone()).collect();
    let fixed = no_longer_open(
        account,
        |finding| scope.covers(finding) && !current.contains(&finding.id),
        deps,
        deadline,
    )
    .await;
    let mut all = findings;
    all.extend(fixed);
    send(all, deps, deadline).await;
}

/// Self-healing restarted `trail` (an ARN): its not-logging posture finding, if Security Hub
/// holds one, is archived now rather than at the next posture run.
pub async fn trail_restarted(
    account: &str,
    trail: &str,
    deps: &Dependencies<'_>,
    invocation: &Invocation,
) {
    if !deps.hub.enabled() {
        return;
    }
    let deadline = deadline(invocation);
    let fixed = no_longer_open(
        account,
        |finding| {
            asff::posture_check(finding) == Some(Check::NotLogging)
                && finding
                    .resources
                    .iter()
                    .any(|resource| resource.id == trail)
        },
        deps,
        deadline,
    )
    .await;
    send(fixed, deps, deadline).await;
}

/// The open posture findings about `account` that `fixed` picks, made archived.
async fn no_longer_open(
    account: &str,
    fixed: impl Fn(&AsffFinding) -> bool,
    deps: &Dependencies<'_>,
    deadline: Deadline,
) -> Vec<AsffFinding> {
    if !deps.hub.enabled() {
        return Vec::new();
    }
    let Some(hub) = Hub::of(deps.config) else {
        return Vec::new();
    };
    let open = if account == hub.account {
        deadline
            .within(deps.hub.open_posture_findings(account))
            .await
    } else {
        match deadline.within(deps.members.hub(account)).await {
            Some(Ok(member)) => deadline.within(member.open_posture_findings(account)).await,
            Some(Err(problem)) => Some(Err(problem)),
            None => None,
        }
    };
    let open = match open {
        Some(Ok(open)) => open,
        Some(Err(problem)) => {
            warn!(error = %LogText(Some(&problem)), "the open posture findings could not be read; none is archived this time");
            return Vec::new();
        }
        None => {
            warn!("reading the open posture findings timed out; none is archived this time");
            return Vec::new();
        }
    };
    let updated_at = now();
    let fixed: Vec<AsffFinding> = open
        .into_iter()
        .filter(|finding| fixed(finding))
        .map(|mut finding| {
            finding.record_state = RecordState::Archived;
            finding.compliance.status = ComplianceStatus::Passed;
            finding.updated_at = updated_at.clone();
            finding
        })
        .collect();
    if !fixed.is_empty() {
        info!(
            findings = fixed.len(),
            "posture findings that no longer hold are archived"
        );
    }
    fixed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::posture::Finding;
    use crate::severity::Severity;

    fn finding_of(check: Check) -> AsffFinding {
        let hub = Hub {
            partition: "aws".into(),
            region: "us-east-1".into(),
            account: "111122223333".into(),
        };
        let finding = Finding {
            account: None,
            severity: Severity::High,
            check,
            trail: None,
            region: Some("us-east-1".into()),
            detail: "detail".into(),
            since: None,
            new: true,
        };
        asff::posture_finding(
            &finding,
            "111122223333",
            &[],
            &hub,
            "2026-12-05T08:00:00Z",
            RecordState::Active,
        )
    }

    #[test]
    fn each_part_of_an_organizations_run_archives_only_what_it_checks() {
        let trail = finding_of(Check::NotLogging);
        let itself = finding_of(Check::NoHeartbeat);
        assert!(PostureScope::Trails.covers(&trail));
        assert!(!PostureScope::Trails.covers(&itself));
        assert!(PostureScope::Trailwatch.covers(&itself));
        assert!(!PostureScope::Trailwatch.covers(&trail));
        assert!(
            PostureScope::Everything.covers(&trail) && PostureScope::Everything.covers(&itself)
        );
        // A finding whose check trailwatch cannot name (someone else's, or a later version's)
        // is archived only by a run that answers for everything.
        let mut unknown = trail.clone();
        unknown
            .product_fields
            .insert("trailwatch/Check".into(), "some-later-check".into());
        assert!(!PostureScope::Trails.covers(&unknown));
        assert!(!PostureScope::Trailwatch.covers(&unknown));
    }
}

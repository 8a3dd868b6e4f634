//! The posture report's part of the alert: the scheduled check's run and its findings.

use serde::{Deserialize, Serialize};

use crate::resource::TrailSnapshot;
use crate::severity::Severity;

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
    /// An organization's run: how many accounts were checked, and what did not fit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<OrganizationRun>,
}

/// An organization's run, for its summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationRun {
    pub accounts_checked: usize,
    pub accounts_with_findings: usize,
    /// Findings left out to fit SNS's message limit (their accounts' worst findings first are
    /// kept), and in how many accounts.
    pub omitted_findings: usize,
    pub omitted_accounts: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    NoMultiRegionTrail,
    NotLogging,
    DeliveryError,
    CloudWatchLogsDeliveryError,
    ManagementEventsNotRecorded,
    LogFileValidationOff,
    CouldNotCheck,
    /// One of trailwatch's own rules is not as trailwatch deploys it.
    RuleNotAsDeployed,
    /// Nobody has confirmed a subscription to the alert topic.
    NoConfirmedSubscription,
    /// A watched region sent no heartbeat for a whole window: its events are not seen.
    NoHeartbeat,
    /// An organization's account could not be read at all (no read role, or refused).
    AccountNotRead,
    /// No AWS Config recorder records in a region (CIS 3.3).
    ConfigNotRecording,
    /// GuardDuty has no enabled detector in a region.
    #[serde(rename = "guardduty-not-enabled")]
    GuardDutyOff,
    /// Security Hub is not enabled in a region (CIS 4.16).
    #[serde(rename = "security-hub-not-enabled")]
    SecurityHubOff,
}

impl Check {
    /// A check of trailwatch itself (its rules, its subscribers, its heartbeats), not of the
    /// account's trails.
    pub fn is_about_trailwatch(self) -> bool {
        matches!(
            self,
            Check::RuleNotAsDeployed | Check::NoConfirmedSubscription | Check::NoHeartbeat
        )
    }

    /// A headline for the finding.
    pub fn title(self) -> &'static str {
        match self {
            Check::NoMultiRegionTrail => "No multi-region trail records management events",
            Check::NotLogging => "A trail is not logging",
            Check::DeliveryError => "A trail cannot deliver its log files",
            Check::CloudWatchLogsDeliveryError => "A trail cannot deliver to CloudWatch Logs",
            Check::ManagementEventsNotRecorded => "A trail does not record write management events",
            Check::LogFileValidationOff => "A trail's log file validation is off",
            Check::CouldNotCheck => "Part of the posture could not be checked",
            Check::RuleNotAsDeployed => "trailwatch's own rule is not as deployed",
            Check::NoConfirmedSubscription => "Nobody receives trailwatch's alerts",
            Check::NoHeartbeat => "trailwatch hears nothing from a region",
            Check::AccountNotRead => "An account's trails could not be read",
            Check::ConfigNotRecording => "AWS Config does not record in a region",
            Check::GuardDutyOff => "GuardDuty is not enabled in a region",
            Check::SecurityHubOff => "Security Hub is not enabled in a region",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// The account it is about, in an organization's run; `None` in one account's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub severity: Severity,
    pub check: Check,
    /// The trail's ARN (or name when there is no ARN); `None` for account-wide findings.
    pub trail: Option<String>,
    /// The trail's home region, or the region that could not be listed.
    pub region: Option<String>,
    pub detail: String,
    /// When it began, where CloudTrail records it (a trail's StopLoggingTime).
    pub since: Option<String>,
    /// It began after the previous scheduled run (see `remind`).
    pub new: bool,
}

impl Finding {
    /// A finding about one trail.
    pub fn about(
        severity: Severity,
        check: Check,
        trail: &TrailSnapshot,
        detail: String,
    ) -> Finding {
        Finding {
            account: None,
            severity,
            check,
            trail: Some(
                trail
                    .config
                    .arn
                    .clone()
                    .unwrap_or_else(|| trail.config.label().to_string()),
            ),
            region: trail.config.home_region.clone(),
            detail,
            since: None,
            new: false,
        }
    }
}

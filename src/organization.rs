//! The organization's posture run, spread over Lambda's concurrency: what is sent, what is
//! kept, and the narrow traits to the AWS services that carry it.
//!
//! One scheduled invocation lists the accounts ([`AccountDirectory`]), records the run
//! ([`RunLedger::begin`]) and sends one [`AccountCheck`] per account to the posture queue
//! ([`PostureQueue`]); the same function consumes that queue in batches, checks each account in
//! every region of POSTURE_REGIONS, and records its [`AccountResult`]. SQS has no "all done", so
//! the run's record counts the accounts that answered (a set, so a second delivery of the same
//! account counts once); the check that completes the set claims the run's one summary, reads
//! every result and publishes it. The path is [`crate::posture::organization`].
//!
//! [`NoOrganization`] is the adapter where the posture check covers one account.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::alert::posture::Finding;
use crate::alert::NextStep;
use crate::resource::TrailSnapshot;

/// An organization's run is remembered this long (its record and results, by TTL): long
/// enough for every check's redeliveries, short enough to cost nothing.
pub const REMEMBER_RUN: Duration = Duration::from_secs(7 * 24 * 3600);

/// One account to check, the posture queue's message body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountCheck {
    /// The run it belongs to ([`run_id`]).
    pub posture_run: String,
    /// A 12-digit account id.
    pub account: String,
    /// When the schedule fired: "now" for every account of the run, so what counts as new is
    /// the same in each.
    pub scheduled_at: String,
    /// Every finding is reported, reminder or not (a run by hand).
    #[serde(default)]
    pub report_all: bool,
}

impl AccountCheck {
    /// The message, when `body` is one (the key no digest request has).
    pub fn from_body(body: &str) -> Option<Result<AccountCheck, String>> {
        let value: serde_json::Value = serde_json::from_str(body).ok()?;
        value.get("postureRun")?;
        Some(serde_json::from_value(value).map_err(|e| e.to_string()))
    }
}

/// What one account's check found, kept until the run's summary is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountResult {
    pub account: String,
    pub trails_checked: usize,
    /// At or above MIN_SEVERITY, each marked new or not, worst first.
    pub findings: Vec<Finding>,
    /// The steps that fix them, in this account.
    pub next_steps: Vec<NextStep>,
    /// The trails the findings are about, as they were found.
    pub trails: Vec<TrailSnapshot>,
}

/// How far the run is: accounts answered of accounts expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub answered: usize,
    pub expected: usize,
}

impl Progress {
    pub fn complete(&self) -> bool {
        self.answered >= self.expected
    }
}

/// Whether a run was begun by this call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Begun {
    /// A new run: its checks are to be sent.
    New,
    /// The schedule's event was delivered again: the run exists. `sent` says whether its
    /// checks were all sent (if not, they are sent again; a check sent twice counts once).
    Again { sent: bool },
}

/// Where the accounts come from: POSTURE_ACCOUNTS' list, or Organizations.
#[async_trait]
pub trait AccountDirectory: Send + Sync {
    /// Every account to check, each a 12-digit id, without repeats.
    async fn accounts(&self) -> Result<Vec<String>, String>;
}

/// The accounts as POSTURE_ACCOUNTS lists them.
pub struct ListedAccounts(pub Vec<String>);

#[async_trait]
impl AccountDirectory for ListedAccounts {
    async fn accounts(&self) -> Result<Vec<String>, String> {
        Ok(self.0.clone())
    }
}

/// The posture queue: one message per account.
#[async_trait]
pub trait PostureQueue: Send + Sync {
    async fn send(&self, checks: &[AccountCheck]) -> Result<(), String>;
}

/// The run's record and each account's result (`aws::dynamodb` on the ledger table).
#[async_trait]
pub trait RunLedger: Send + Sync {
    /// Records a run expecting `accounts`, once.
    async fn begin(&self, run: &str, accounts: &[String]) -> Result<Begun, String>;
    /// Every check of the run was sent.
    async fn mark_sent(&self, run: &str) -> Result<(), String>;
    /// Keeps `result` and counts its account as answered.
    async fn record(&self, run: &str, result: &AccountResult) -> Result<Progress, String>;
    /// Claims the run's summary until `until`; `false` when it was sent, or another
    /// invocation holds it.
    async fn claim_summary(&self, run: &str, until: SystemTime) -> Result<bool, String>;
    /// Every account's result, in no particular order.
    async fn results(&self, run: &str) -> Result<Vec<AccountResult>, String>;
    /// The summary was published (or there was nothing to publish).
    async fn summary_sent(&self, run: &str) -> Result<(), String>;
    /// The summary could not be published: the next delivery may claim it.
    async fn release_summary(&self, run: &str) -> Result<(), String>;
}

/// The posture check covers one account: nothing is spread.
pub struct NoOrganization;

const NOT_SPREAD: &str = "the organization's posture run is not configured";

#[async_trait]
impl AccountDirectory for NoOrganization {
    async fn accounts(&self) -> Result<Vec<String>, String> {
        Err(NOT_SPREAD.into())
    }
}

#[async_trait]
impl PostureQueue for NoOrganization {
    async fn send(&self, _: &[AccountCheck]) -> Result<(), String> {
        Err(NOT_SPREAD.into())
    }
}

#[async_trait]
impl RunLedger for NoOrganization {
    async fn begin(&self, _: &str, _: &[String]) -> Result<Begun, String> {
        Err(NOT_SPREAD.into())
    }
    async fn mark_sent(&self, _: &str) -> Result<(), String> {
        Err(NOT_SPREAD.into())
    }
    async fn record(&self, _: &str, _: &AccountResult) -> Result<Progress, String> {
        Err(NOT_SPREAD.into())
    }
    async fn claim_summary(&self, _: &str, _: SystemTime) -> Result<bool, String> {
        Err(NOT_SPREAD.into())
    }
    async fn results(&self, _: &str) -> Result<Vec<AccountResult>, String> {
        Err(NOT_SPREAD.into())
    }
    async fn summary_sent(&self, _: &str) -> Result<(), String> {
        Err(NOT_SPREAD.into())
    }
    async fn release_summary(&self, _: &str) -> Result<(), String> {
        Err(NOT_SPREAD.into())
    }
}

/// A run's id: the schedule event's id (EventBridge gives each delivery of one firing the same
/// id, so a second delivery finds its run), else the time it fired. Only letters, digits, `-`,
/// `:` and `.`, at most 64: it becomes part of table keys and log lines.
pub fn run_id(event_id: Option<&str>, time: &str) -> String {
    let valid = |text: &str| {
        (1..=64).contains(&text.len())
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-:.".contains(c))
    };
    match event_id.filter(|id| valid(id)) {
        Some(id) => id.to_string(),
        None if valid(time) => format!("at-{time}"),
        None => "unnamed".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_is_told_from_a_digest_request_by_its_run() {
        let check = AccountCheck {
            posture_run: "r1".into(),
            account: "111122223333".into(),
            scheduled_at: "2026-12-05T00:00:00Z".into(),
            report_all: false,
        };
        let body = serde_json::to_string(&check).unwrap();
        assert_eq!(AccountCheck::from_body(&body), Some(Ok(check)));
        assert_eq!(AccountCheck::from_body(r#"{"key":{"actor":"x"}}"#), None);
        assert_eq!(AccountCheck::from_body("not json"), None);
        assert!(matches!(
            AccountCheck::from_body(r#"{"postureRun":"r1"}"#),
            Some(Err(_))
        ));
    }

    #[test]
    fn run_ids_are_safe_for_keys_and_logs() {
        assert_eq!(
            run_id(Some("5d2c1b0a-9f8e-4d7c-8b6a-0000000000aa"), "t"),
            "5d2c1b0a-9f8e-4d7c-8b6a-0000000000aa"
        );
        assert_eq!(
            run_id(Some("a b\n"), "2026-12-05T00:00:00Z"),
            "at-2026-12-05T00:00:00Z"
        );
        assert_eq!(run_id(None, "\u{202e}"), "unnamed");
    }
}

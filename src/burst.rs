//! Alert storms that stay readable: a burst from one principal becomes one digest.
//!
//! An attacker's script that stops trails across every region, thousands of denied attempts
//! meant to bury one real alert, a StackSet update touching every trail: each is many calls by
//! one principal in a short time. For each principal and account, calls are tallied per window
//! of `BURST_WINDOW_SECONDS` (tumbling, by arrival); the first `BURST_THRESHOLD` alerts of a
//! window are published as usual, and the rest are folded: counted by call, severity, account
//! and resource in the ledger table, and told in one digest sent when the window has closed (a
//! message delayed on the digest queue, which the function consumes). CRITICAL alerts are never
//! folded or delayed. Anything that keeps a call from being folded (the table or the queue
//! unreachable) publishes it on its own: no call is dropped without being counted.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::call::ApiCall;
use crate::config::{BurstSettings, MAX_DIGEST_DELAY};
use crate::severity::Severity;
use crate::shape::{is_account, is_iam_name};

/// How many resources a digest lists; the rest are counted.
pub const MAX_LISTED_RESOURCES: usize = 100;

/// One principal's window in one account: the ledger's key for its tally.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BurstKey {
    pub account: String,
    pub principal: String,
    /// The window's start, in seconds since the epoch.
    pub window_start: u64,
}

impl BurstKey {
    /// The key of `call`'s principal's current window, or `None` when the principal or account
    /// cannot be told (such a call is never folded: it is published on its own).
    pub fn of(call: &ApiCall, now: SystemTime, window: Duration) -> Option<BurstKey> {
        let account = call.account.as_deref().filter(|a| is_account(a))?;
        let principal = principal(call)?;
        let now = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let window = window.as_secs().max(1);
        Some(BurstKey {
            account: account.to_string(),
            principal,
            window_start: now - now % window,
        })
    }

    /// The ledger item's id.
    pub fn id(&self) -> String {
        format!(
            "burst#{}#{}#{}",
            self.account, self.principal, self.window_start
        )
    }
}

/// Who made the call, in a form that is safe as a key and cannot be confused: the principal's
/// ARN when it is an IAM ARN of plain characters, else its principal id.
fn principal(call: &ApiCall) -> Option<String> {
    let plain = |text: &str| {
        (1..=512).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-:/".contains(&b))
    };
    let actor = &call.actor;
    actor
        .arn
        .as_deref()
        .filter(|arn| arn.starts_with("arn:") && plain(arn))
        .or(actor.principal_id.as_deref().filter(|id| {
            plain(id)
                && id
                    .split(':')
                    .all(|part| part.is_empty() || is_iam_name(part))
        }))
        .map(str::to_string)
}

/// Whether an alert of `severity`, the `seen`-th of its principal's window, is folded.
pub fn folds(severity: Severity, seen: u64, settings: &BurstSettings) -> bool {
    settings.threshold > 0 && severity < Severity::Critical && seen > settings.threshold
}

/// One folded call, as the tally records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoldedCall {
    /// A monitored call's name (from the registry, so a plain identifier).
    pub name: &'static str,
    pub severity: Severity,
    /// The resource as headlines show it (a validated name), when there is one.
    pub resource: Option<String>,
    /// The principal as the alert shows it (cleaned later, like any event text).
    pub actor: String,
    pub at: SystemTime,
}

/// What a window's tally says once it closes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tally {
    pub folded: u64,
    /// Calls folded, by name.
    pub calls: Vec<(String, u64)>,
    pub severities: Vec<(Severity, u64)>,
    /// At most [`MAX_LISTED_RESOURCES`]; `unlisted` counts the folded calls whose resource did
    /// not fit.
    pub resources: Vec<String>,
    pub unlisted: u64,
    pub actor: String,
    /// Epoch seconds of the first and last folded call.
    pub first_at: u64,
    pub last_at: u64,
    /// The digest was published (a second delivery of its message publishes nothing).
    pub sent: bool,
}

/// The digest queue's message: which window to tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DigestRequest {
    pub key: BurstKey,
}

/// The tallies, in the ledger table (`aws::dynamodb`).
#[async_trait]
pub trait BurstTally: Send + Sync {
    /// Counts one more alert in the window; the count so far.
    async fn count(&self, key: &BurstKey, until: SystemTime) -> Result<u64, String>;
    /// Records a folded call; `true` when it is the window's first (its digest is due).
    async fn fold(&self, key: &BurstKey, call: &FoldedCall) -> Result<bool, String>;
    /// Takes a folded call back out (its digest could not be scheduled: it is published alone).
    async fn unfold(&self, key: &BurstKey, call: &FoldedCall) -> Result<(), String>;
    async fn read(&self, key: &BurstKey) -> Result<Option<Tally>, String>;
    async fn mark_sent(&self, key: &BurstKey) -> Result<(), String>;
}

/// Sends a window's digest request to the digest queue, due at `at`.
#[async_trait]
pub trait DigestScheduler: Send + Sync {
    async fn schedule(&self, request: &DigestRequest, delay: Duration) -> Result<(), String>;
}

/// No folding (preview, tests, a stack without the table and queue).
pub struct NoBursts;

#[async_trait]
impl BurstTally for NoBursts {
    async fn count(&self, _key: &BurstKey, _until: SystemTime) -> Result<u64, String> {
        Ok(0)
    }
    async fn fold(&self, _key: &BurstKey, _call: &FoldedCall) -> Result<bool, String> {
        Err("bursts are not folded here".to_string())
    }
    async fn unfold(&self, _key: &BurstKey, _call: &FoldedCall) -> Result<(), String> {
        Ok(())
    }
    async fn read(&self, _key: &BurstKey) -> Result<Option<Tally>, String> {
        Ok(None)
    }
    async fn mark_sent(&self, _key: &BurstKey) -> Result<(), String> {
        Ok(())
    }
}

#[async_trait]
impl DigestScheduler for NoBursts {
    async fn schedule(&self, _request: &DigestRequest, _delay: Duration) -> Result<(), String> {
        Err("there is no digest queue".to_string())
    }
}

/// How long after `now` the digest of `key`'s window is due: the window's end plus the delay,
/// within SQS's 15 minutes.
pub fn digest_delay(key: &BurstKey, now: SystemTime, settings: &BurstSettings) -> Duration {
    let window_end = SystemTime::UNIX_EPOCH
        + Duration::from_secs(key.window_start)
        + settings.window.max(Duration::from_secs(1));
    let due = window_end + settings.delay_after_window;
    due.duration_since(now)
        .unwrap_or_default()
        .min(MAX_DIGEST_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(threshold: u64) -> BurstSettings {
        BurstSettings {
            threshold,
            ..BurstSettings::default()
        }
    }

    #[test]
    fn critical_alerts_and_the_first_of_a_window_are_never_folded() {
        let on = settings(3);
        assert!(!folds(Severity::High, 3, &on));
        assert!(folds(Severity::High, 4, &on));
        assert!(!folds(Severity::Critical, 1000, &on));
        assert!(!folds(Severity::Low, 1000, &settings(0)), "0 turns it off");
    }

    #[test]
    fn the_digest_is_due_after_the_window_and_the_delay() {
        let key = BurstKey {
            account: "111122223333".into(),
            principal: "arn:aws:iam::111122223333:user/mallory".into(),
            window_start: 1_000_200,
        };
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_250);
        let on = settings(3);
        // 300 s window from 1,000,200: ends at 1,000,500, plus 60 s.
        assert_eq!(digest_delay(&key, now, &on), Duration::from_secs(310));
        let late = SystemTime::UNIX_EPOCH + Duration::from_secs(1_001_000);
        assert_eq!(digest_delay(&key, late, &on), Duration::ZERO);
    }

    #[test]
    fn only_plain_principals_make_a_key() {
        let mut call = ApiCall::bare("cloudtrail.amazonaws.com", "StopLogging", "111122223333");
        call.actor.arn = Some("arn:aws:iam::111122223333:user/mallory".into());
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_250);
        let key = BurstKey::of(&call, now, Duration::from_secs(300)).unwrap();
        assert_eq!(key.window_start, 1_000_200);
        assert_eq!(
            key.id(),
            "burst#111122223333#arn:aws:iam::111122223333:user/mallory#1000200"
        );
        call.actor.arn = Some("arn:aws:iam::111122223333:user/mal lory#x".into());
        assert_eq!(BurstKey::of(&call, now, Duration::from_secs(300)), None);
        call.actor.principal_id = Some("AROAEXAMPLE:session-1".into());
        assert!(BurstKey::of(&call, now, Duration::from_secs(300)).is_some());
        call.account = Some("not-an-account".into());
        assert_eq!(BurstKey::of(&call, now, Duration::from_secs(300)), None);
    }
}

//! One alert per CloudTrail event, however often it is delivered.
//!
//! EventBridge and Lambda's asynchronous invocation both deliver at least once, so the same
//! event can reach the function twice, even at the same moment on two instances. Before
//! publishing, the event path claims the event's `eventID` in a ledger (`aws::dynamodb`: a
//! conditional write to a DynamoDB table); it marks it published only once SNS accepted the
//! alert, and releases the claim when the publish failed, so Lambda's retry of a failed publish
//! is not taken for a duplicate. A claim lasts until the claiming invocation's own deadline: a
//! claim past it belongs to an invocation that died, and the next delivery takes it over. When
//! the ledger cannot be reached the alert is published anyway: a duplicate beats a lost alert.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;

/// How long a published event is remembered: longer than EventBridge keeps retrying a delivery
/// (24 hours, the rules' MaximumEventAgeInSeconds) and Lambda an asynchronous event (6 hours).
pub const REMEMBER_PUBLISHED: Duration = Duration::from_secs(48 * 3600);

/// How long a claim lasts when the invocation has no deadline of its own (preview, tests): the
/// function's timeout in the template.
pub const DEFAULT_CLAIM: Duration = Duration::from_secs(60);

/// What the ledger says about an event about to be published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Not seen before (or its last claim expired): this invocation publishes it.
    New,
    /// Already published, by this message.
    Published { message_id: Option<String> },
    /// Another invocation claimed it and has not finished: it may still fail, so this delivery
    /// ends in an error and is retried by Lambda, when the ledger will know.
    InFlight,
    /// The ledger could not be read or written: publish without the duplicate check.
    Unavailable(String),
}

#[async_trait]
pub trait EventLedger: Send + Sync {
    /// Claims `event_id` until `until` (the invocation's deadline), unless it is published or
    /// claimed by someone else.
    async fn claim(&self, event_id: &str, until: SystemTime) -> Claim;
    /// The claimed event was published as `message_id`: remember it for
    /// [`REMEMBER_PUBLISHED`].
    async fn published(&self, event_id: &str, message_id: &str) -> Result<(), String>;
    /// The claimed event's publish failed: let its retry claim it again.
    async fn release(&self, event_id: &str) -> Result<(), String>;
}

/// No ledger (preview, or a stack without the table): every event is new.
pub struct NoLedger;

#[async_trait]
impl EventLedger for NoLedger {
    async fn claim(&self, _event_id: &str, _until: SystemTime) -> Claim {
        Claim::New
    }
    async fn published(&self, _event_id: &str, _message_id: &str) -> Result<(), String> {
        Ok(())
    }
    async fn release(&self, _event_id: &str) -> Result<(), String> {
        Ok(())
    }
}

/// Until when a claim made now lasts: the invocation's deadline, or [`DEFAULT_CLAIM`].
pub fn claim_until(now: SystemTime, time_left: Option<Duration>) -> SystemTime {
    now + time_left.unwrap_or(DEFAULT_CLAIM)
}

/// Whole seconds since the epoch, rounded up: a claim or record never ends early.
pub fn epoch_seconds_up(time: SystemTime) -> u64 {
    let since = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    since.as_secs() + u64::from(since.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_lasts_until_the_invocations_deadline() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_millis(1_000_500);
        assert_eq!(
            claim_until(now, Some(Duration::from_secs(14))),
            now + Duration::from_secs(14)
        );
        assert_eq!(claim_until(now, None), now + DEFAULT_CLAIM);
        assert_eq!(epoch_seconds_up(now), 1001);
        assert_eq!(
            epoch_seconds_up(SystemTime::UNIX_EPOCH + Duration::from_secs(7)),
            7
        );
    }
}

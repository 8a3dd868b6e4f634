//! trailwatch's own plumbing as deployed, read by the posture check: its rules (state, pattern,
//! schedule, targets), who is subscribed to its alert topic, and how many heartbeats each
//! watched region sent. Behind one narrow trait, like the trail lookups
//! ([`crate::inspector`]), with a do-nothing adapter where nothing is read.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use crate::inspector::LookupError;

/// One of trailwatch's rules as EventBridge has it (DescribeRule, ListTargetsByRule).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeployedRule {
    /// `ENABLED`, `DISABLED`, ...
    pub state: Option<String>,
    /// The event pattern, parsed; `None` for a schedule.
    pub pattern: Option<Value>,
    pub schedule: Option<String>,
    /// Every target's ARN.
    pub targets: Vec<String>,
}

#[async_trait]
pub trait PlumbingInspector: Send + Sync {
    /// The rule `name` on `bus` (`None` for the default bus).
    async fn rule(&self, name: &str, bus: Option<&str>) -> Result<DeployedRule, LookupError>;
    /// How many of the topic's subscriptions are confirmed.
    async fn confirmed_subscriptions(&self, topic_arn: &str) -> Result<usize, LookupError>;
    /// How many heartbeats from `region` the function counted within the last `window` (its
    /// `Heartbeats` metric for that region).
    async fn heartbeats(&self, region: &str, window: Duration) -> Result<u64, LookupError>;
}

/// Nothing is read (preview, or a check without the permissions): every answer says so.
pub struct NoPlumbing;

#[async_trait]
impl PlumbingInspector for NoPlumbing {
    async fn rule(&self, _name: &str, _bus: Option<&str>) -> Result<DeployedRule, LookupError> {
        Err(not_read())
    }

    async fn confirmed_subscriptions(&self, _topic_arn: &str) -> Result<usize, LookupError> {
        Err(not_read())
    }

    async fn heartbeats(&self, _region: &str, _window: Duration) -> Result<u64, LookupError> {
        Err(not_read())
    }
}

fn not_read() -> LookupError {
    LookupError {
        code: None,
        message: "trailwatch's own plumbing is not read in this mode".to_string(),
    }
}

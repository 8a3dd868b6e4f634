//! The read-only CloudTrail lookups the monitors ask for, behind one narrow trait so the
//! pipeline runs the same against AWS (`aws::cloudtrail`), SDK-level fakes and test doubles.

use async_trait::async_trait;

use crate::resource::{EventDataStoreState, SelectorSummary, TrailConfig, TrailStatus};

/// A lookup that failed: the service's error code when there was one, and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupError {
    pub code: Option<String>,
    pub message: String,
}

impl std::fmt::Display for LookupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{code}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Each lookup is made in the region given: a trail's home region, or the event's region.
#[async_trait]
pub trait TrailInspector: Send + Sync {
    /// `GetTrailStatus`; `trail` is a name or an ARN.
    async fn trail_status(&self, trail: &str, region: &str) -> Result<TrailStatus, LookupError>;
    /// `DescribeTrails` with shadow trails: every trail that applies in the region, including
    /// multi-region and organization trails that live elsewhere.
    async fn trails(&self, region: &str) -> Result<Vec<TrailConfig>, LookupError>;
    /// `GetEventSelectors`, summarised.
    async fn event_selectors(
        &self,
        trail: &str,
        region: &str,
    ) -> Result<SelectorSummary, LookupError>;
    /// `GetEventDataStore`; `store` is an ARN or an id.
    async fn event_data_store(
        &self,
        store: &str,
        region: &str,
    ) -> Result<EventDataStoreState, LookupError>;
}

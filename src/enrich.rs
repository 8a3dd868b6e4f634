//! Enrich: what the trail looks like right now, learned within a deadline.
//!
//! The lookups are behind [`TrailInspector`] so the pipeline can be exercised without AWS; the
//! AWS implementation lives in `aws::cloudtrail`. Enrichment never fails the alert: whatever could
//! not be learned is reported as a problem next to whatever could.

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use tokio::time::Instant;

use crate::call::ApiCall;

/// The trail's live status (`GetTrailStatus`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrailStatus {
    pub is_logging: Option<bool>,
    pub latest_delivery_error: Option<String>,
    pub latest_delivery_time: Option<String>,
    pub start_logging_time: Option<String>,
    pub stop_logging_time: Option<String>,
    pub latest_cloud_watch_logs_delivery_error: Option<String>,
    pub latest_digest_delivery_error: Option<String>,
}

/// The trail's configuration (`DescribeTrails`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrailConfig {
    pub name: Option<String>,
    pub arn: Option<String>,
    pub home_region: Option<String>,
    pub s3_bucket_name: Option<String>,
    pub is_multi_region_trail: Option<bool>,
    pub include_global_service_events: Option<bool>,
    pub log_file_validation_enabled: Option<bool>,
    pub is_organization_trail: Option<bool>,
    pub kms_key_id: Option<String>,
    pub cloud_watch_logs_log_group_arn: Option<String>,
}

/// What the trail records (`GetEventSelectors`), summarised for a reader.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SelectorSummary {
    /// "basic", "advanced", or "none".
    pub style: String,
    /// Management events recorded: "All", "WriteOnly", "ReadOnly", "None", or null when the
    /// advanced selectors make it hard to say.
    pub management_events: Option<String>,
    pub selector_count: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrailState {
    pub status: Option<TrailStatus>,
    pub config: Option<TrailConfig>,
    pub selectors: Option<SelectorSummary>,
}

impl TrailState {
    pub fn is_logging(&self) -> Option<bool> {
        self.status.as_ref().and_then(|s| s.is_logging)
    }
}

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

/// The three read-only CloudTrail lookups, each in the trail's home region.
#[async_trait]
pub trait TrailInspector: Send + Sync {
    async fn trail_status(&self, trail: &str, region: &str) -> Result<TrailStatus, LookupError>;
    /// `Ok(None)` when the trail is not found.
    async fn trail_config(
        &self,
        trail: &str,
        region: &str,
    ) -> Result<Option<TrailConfig>, LookupError>;
    async fn event_selectors(
        &self,
        trail: &str,
        region: &str,
    ) -> Result<SelectorSummary, LookupError>;
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Enrichment {
    pub state: TrailState,
    /// What could not be learned and why; empty when everything was.
    pub problems: Vec<String>,
}

impl Enrichment {
    pub fn skipped(why: impl Into<String>) -> Enrichment {
        Enrichment {
            state: TrailState::default(),
            problems: vec![why.into()],
        }
    }

    /// One sentence for the alert's `enrichmentError`, or `None` when nothing went wrong.
    pub fn error_summary(&self) -> Option<String> {
        (!self.problems.is_empty()).then(|| self.problems.join("; "))
    }
}

/// How long enrichment may take: the configured budget, but never so long that publishing
/// would run out of Lambda time.
pub fn enrichment_budget(
    configured: Duration,
    time_left: Option<Duration>,
    reserved_for_publish: Duration,
) -> Duration {
    match time_left {
        Some(left) => configured.min(left.saturating_sub(reserved_for_publish)),
        None => configured,
    }
}

/// Looks the call's trail up, all three lookups at once, each cut off at the same deadline so
/// one slow answer does not discard the others.
pub async fn enrich(
    call: &ApiCall,
    inspector: &dyn TrailInspector,
    budget: Duration,
) -> Enrichment {
    let Some(trail) = &call.trail else {
        return Enrichment::skipped("the event names no trail, so its state was not looked up");
    };
    let Some(region) = call.trail_home_region() else {
        return Enrichment::skipped("neither the trail ARN nor the event gives a region");
    };
    if budget.is_zero() {
        return Enrichment::skipped("no time left before the Lambda deadline to look the trail up");
    }
    let deadline = Instant::now() + budget;
    let name = trail.arn.as_deref().unwrap_or(&trail.given);
    let (status, config, selectors) = tokio::join!(
        within(deadline, inspector.trail_status(name, region)),
        within(deadline, inspector.trail_config(name, region)),
        within(deadline, inspector.event_selectors(name, region)),
    );

    let mut problems = Vec::new();
    let mut state = TrailState::default();
    let budget_ms = budget.as_millis();
    match status {
        Some(Ok(status)) => state.status = Some(status),
        Some(Err(e)) => problems.push(format!("GetTrailStatus failed: {e}")),
        None => problems.push(format!("GetTrailStatus timed out after {budget_ms} ms")),
    }
    match config {
        Some(Ok(Some(config))) => state.config = Some(config),
        Some(Ok(None)) => problems.push(format!(
            "DescribeTrails found no trail named {name} in {region}"
        )),
        Some(Err(e)) => problems.push(format!("DescribeTrails failed: {e}")),
        None => problems.push(format!("DescribeTrails timed out after {budget_ms} ms")),
    }
    match selectors {
        Some(Ok(selectors)) => state.selectors = Some(selectors),
        Some(Err(e)) => problems.push(format!("GetEventSelectors failed: {e}")),
        None => problems.push(format!("GetEventSelectors timed out after {budget_ms} ms")),
    }
    if let Some(mismatch) = someone_elses_trail(call, &state) {
        return Enrichment::skipped(mismatch);
    }
    Enrichment { state, problems }
}

/// A bare trail name is looked up in the function's own account. When the event came from
/// another account (forwarded to a central bus), a trail of the same name here is a different
/// trail: showing its state would mislead, so none is shown.
fn someone_elses_trail(call: &ApiCall, state: &TrailState) -> Option<String> {
    let named_by_arn = call.trail.as_ref().is_some_and(|t| t.arn.is_some());
    let event_account = call.account.as_deref()?;
    let found_arn = state.config.as_ref()?.arn.as_deref()?;
    let found_account = found_arn.split(':').nth(4)?;
    (!named_by_arn && found_account != event_account).then(|| {
        format!(
            "the trail found under that name belongs to account {found_account}, but the event is from account {event_account}; its state is not shown"
        )
    })
}

async fn within<T>(deadline: Instant, lookup: impl Future<Output = T>) -> Option<T> {
    tokio::time::timeout_at(deadline, lookup).await.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_is_capped_by_the_lambda_deadline() {
        let ms = Duration::from_millis;
        assert_eq!(enrichment_budget(ms(2000), None, ms(3000)), ms(2000));
        assert_eq!(
            enrichment_budget(ms(2000), Some(ms(10_000)), ms(3000)),
            ms(2000)
        );
        assert_eq!(
            enrichment_budget(ms(2000), Some(ms(4000)), ms(3000)),
            ms(1000)
        );
        assert_eq!(enrichment_budget(ms(2000), Some(ms(1000)), ms(3000)), ms(0));
    }
}

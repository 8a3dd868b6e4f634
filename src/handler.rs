//! The pipeline, end to end: parse, classify, enrich, render, publish.
//!
//! Written against [`TrailInspector`] and [`AlertPublisher`] so it runs the same on Lambda, in
//! tests with fakes, and in preview mode with no AWS at all.

use std::time::{Duration, SystemTime};

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::Serialize;
use serde_json::Value;
use tracing::{error, info, warn};

use crate::alert::Alert;
use crate::call::ApiCall;
use crate::classify::{classify, rule_for, trail_state_can_raise};
use crate::config::Config;
use crate::enrich::{enrich, enrichment_budget, Enrichment, TrailInspector};
use crate::parse::{parse_event, Inbound, InvalidEvent};
use crate::publish::{AlertPublisher, PublishError};
use crate::render::escape::LogText;
use crate::render::render;
use crate::severity::Severity;

/// Kept free for publishing when enrichment is bounded by the Lambda deadline: enough for the
/// SNS client's bounded retries.
pub const PUBLISH_RESERVE: Duration = Duration::from_secs(5);

pub struct Dependencies<'a> {
    pub config: &'a Config,
    /// `None` where the trail cannot be looked up (preview without AWS access).
    pub inspector: Option<&'a dyn TrailInspector>,
    pub publisher: &'a dyn AlertPublisher,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Published,
    BelowThreshold,
    Ignored,
}

/// What the function returns for each event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub status: Status,
    pub severity: Option<Severity>,
    pub message_id: Option<String>,
    pub event_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error("invalid event: {0}")]
    InvalidEvent(#[from] InvalidEvent),
    #[error(transparent)]
    Publish(#[from] PublishError),
}

impl From<HandlerError> for Diagnostic {
    fn from(error: HandlerError) -> Diagnostic {
        let error_type = match error {
            HandlerError::InvalidEvent(_) => "InvalidEvent",
            HandlerError::Publish(_) => "PublishFailed",
        };
        Diagnostic {
            error_type: error_type.to_string(),
            error_message: error.to_string(),
        }
    }
}

pub async fn handle(
    event: LambdaEvent<Value>,
    deps: &Dependencies<'_>,
) -> Result<Summary, HandlerError> {
    let invocation = Invocation {
        time_left: time_left(event.context.deadline),
    };
    handle_payload(&event.payload, &invocation, deps).await
}

/// What the pipeline needs to know about the invocation itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invocation {
    /// Until the Lambda deadline; `None` when there is none (preview, tests).
    pub time_left: Option<Duration>,
}

/// The same pipeline with the invocation made explicit, for callers without a Lambda context.
pub async fn handle_payload(
    payload: &Value,
    invocation: &Invocation,
    deps: &Dependencies<'_>,
) -> Result<Summary, HandlerError> {
    let call = match parse_event(payload) {
        Ok(Inbound::ApiCall(call)) => call,
        Ok(Inbound::Other {
            detail_type,
            source,
        }) => {
            warn!(
                outcome = "ignored",
                detail_type = %LogText(Some(&detail_type)),
                source = %LogText(Some(&source)),
                "not a CloudTrail API call event; nothing to do"
            );
            return Ok(ignored(None));
        }
        Err(invalid) => {
            error!(
                outcome = "rejected",
                error = %LogText(Some(&invalid.to_string())),
                "input is not an EventBridge CloudTrail event"
            );
            return Err(invalid.into());
        }
    };
    let event_id = LogText(call.id.as_deref());
    let Some(rule) = rule_for(&call) else {
        warn!(
            outcome = "ignored",
            event_id = %event_id,
            event_name = %LogText(Some(&call.name)),
            event_source = %LogText(Some(&call.source)),
            "event is not a monitored call; check the EventBridge rule's pattern"
        );
        return Ok(ignored(call.id.clone()));
    };
    let below_threshold = |severity: Severity| {
        info!(
            outcome = "below-threshold",
            event_id = %event_id,
            event_name = rule.event,
            severity = %severity,
            min_severity = %deps.config.min_severity,
            "below MIN_SEVERITY; not published"
        );
        Ok(Summary {
            status: Status::BelowThreshold,
            severity: Some(severity),
            message_id: None,
            event_id: call.id.clone(),
        })
    };

    let before_enrichment = classify(&call, rule, None).severity;
    if before_enrichment < deps.config.min_severity && !trail_state_can_raise(&call) {
        return below_threshold(before_enrichment);
    }

    let enrichment = enrich_within_deadline(&call, invocation, deps).await;
    if let Some(problem) = enrichment.error_summary() {
        warn!(
            event_id = %event_id,
            problem = %LogText(Some(&problem)),
            "trail state only partly known; alerting anyway"
        );
    }
    let assessment = classify(&call, rule, Some(&enrichment.state));
    let severity = assessment.severity;
    if severity < deps.config.min_severity {
        return below_threshold(severity);
    }

    let rendered = render(Alert::new(&call, rule, assessment, enrichment));
    let trail = LogText(call.trail.as_ref().map(|t| t.name.as_str()));
    match deps.publisher.publish(&rendered).await {
        Ok(message_id) => {
            info!(
                outcome = "published",
                event_id = %event_id,
                event_name = rule.event,
                severity = %severity,
                trail = %trail,
                message_id = %LogText(Some(&message_id)),
                "alert published"
            );
            Ok(Summary {
                status: Status::Published,
                severity: Some(severity),
                message_id: Some(message_id),
                event_id: call.id.clone(),
            })
        }
        Err(failure) => {
            error!(
                outcome = "publish-failed",
                event_id = %event_id,
                event_name = rule.event,
                severity = %severity,
                trail = %trail,
                error = %LogText(Some(&failure.0)),
                "alert NOT published; returning an error so Lambda retries"
            );
            Err(failure.into())
        }
    }
}

async fn enrich_within_deadline(
    call: &ApiCall,
    invocation: &Invocation,
    deps: &Dependencies<'_>,
) -> Enrichment {
    if deps.config.enrich_timeout.is_zero() {
        return Enrichment::skipped("enrichment is turned off (ENRICH_TIMEOUT_MS=0)");
    }
    let Some(inspector) = deps.inspector else {
        return Enrichment::skipped(
            "the trail's state was not looked up (no CloudTrail access in this mode)",
        );
    };
    let budget = enrichment_budget(
        deps.config.enrich_timeout,
        invocation.time_left,
        PUBLISH_RESERVE,
    );
    enrich(call, inspector, budget).await
}

fn ignored(event_id: Option<String>) -> Summary {
    Summary {
        status: Status::Ignored,
        severity: None,
        message_id: None,
        event_id,
    }
}

/// Time until the invocation's deadline; `None` when there is no deadline (0, as in tests).
fn time_left(deadline_ms: u64) -> Option<Duration> {
    if deadline_ms == 0 {
        return None;
    }
    let deadline = SystemTime::UNIX_EPOCH + Duration::from_millis(deadline_ms);
    Some(
        deadline
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

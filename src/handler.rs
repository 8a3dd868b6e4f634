//! The pipeline, end to end: parse, classify, enrich, render, publish.
//!
//! Written against [`TrailInspector`] and [`AlertPublisher`] so it runs the same on Lambda, in
//! tests with fakes, and in preview mode with no AWS at all.

use std::time::{Duration, SystemTime};

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::Serialize;
use serde_json::Value;
use tracing::{debug, error, info, warn};

use crate::alert::Alert;
use crate::call::ApiCall;
use crate::classify::{classify, coverage_scope, state_can_raise};
use crate::config::Config;
use crate::coverage::CoverageScope;
use crate::enrich::{enrich, enrichment_budget, Enrichment};
use crate::inspector::TrailInspector;
use crate::monitors::{self, Monitor, Watched};
use crate::parse::{parse_event, Inbound, InvalidEvent};
use crate::publish::{AlertPublisher, PublishError};
use crate::render::escape::LogText;
use crate::render::render;
use crate::resource::Resource;
use crate::restart::LoggingRestarter;
use crate::severity::Severity;

/// Kept free for publishing when enrichment is bounded by the Lambda deadline: enough for the
/// SNS client's bounded retries.
pub const PUBLISH_RESERVE: Duration = Duration::from_secs(5);

pub struct Dependencies<'a> {
    pub config: &'a Config,
    /// `None` where the trail cannot be looked up (preview without AWS access).
    pub inspector: Option<&'a dyn TrailInspector>,
    /// The alert topic.
    pub publisher: &'a dyn AlertPublisher,
    /// The health topic, for calls on trailwatch's own resources: it depends on none of them.
    /// The alert topic's publisher when no health topic is configured.
    pub health: &'a dyn AlertPublisher,
    /// StartLogging for self-healing; [`crate::restart::NoRestart`] when it is off.
    pub restarter: &'a dyn LoggingRestarter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Published,
    BelowThreshold,
    Ignored,
    /// A posture check that found nothing wrong.
    Healthy,
    /// A posture check whose findings were all reported before and are not due again yet.
    AlreadyReported,
}

/// What the function returns for each event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub status: Status,
    pub severity: Option<Severity>,
    pub message_id: Option<String>,
    pub event_id: Option<String>,
    /// Why nothing was published, when nothing was.
    pub reason: Option<String>,
    /// A posture check's number of findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub findings: Option<usize>,
}

impl Summary {
    /// Nothing published, and why.
    pub fn nothing(status: Status, why: &str) -> Summary {
        Summary {
            status,
            severity: None,
            message_id: None,
            event_id: None,
            reason: Some(why.to_string()),
            findings: None,
        }
    }
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
        Ok(Inbound::Scheduled(schedule)) => {
            return crate::posture::run(&schedule, invocation, deps).await
        }
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
            return Ok(ignored(None, "not a CloudTrail API call event"));
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
    let Some((monitor, rule)) = monitors::find(&call) else {
        warn!(
            outcome = "ignored",
            event_id = %event_id,
            event_name = %LogText(Some(&call.name)),
            event_source = %LogText(Some(&call.source)),
            "event is not a monitored call; check the EventBridge rule's pattern"
        );
        return Ok(ignored(call.id.clone(), "not a monitored call"));
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
            reason: Some(format!("below MIN_SEVERITY {}", deps.config.min_severity)),
            findings: None,
        })
    };

    let resource = monitor.resource(&call);
    let kind = resource.as_ref().map_or("resource", |r| r.kind.noun());
    // A watched call on a resource that is not the kind this monitor cares about: logged at
    // debug (it is routine) and ignored.
    let not_ours = |why: String| {
        debug!(
            outcome = "ignored",
            event_id = %event_id,
            event_name = rule.event,
            resource = %LogText(resource.as_ref().map(Resource::label)),
            "{why}"
        );
        Ok(ignored(call.id.clone(), &why))
    };
    // A call on trailwatch's own key, rules, topics or function: self-protection.
    let own = resource.as_ref().filter(|r| deps.config.own.owns(r));
    if monitor.watched() == Watched::WhenTrailwatchOwnsIt && own.is_none() {
        return not_ours(format!("not trailwatch's own {kind}"));
    }
    let trusted_by = deps.config.trusted.matching(&call.actor);
    let assess = |enrichment: Option<&Enrichment>| {
        let assessment = classify(&call, monitor, rule, enrichment, trusted_by);
        match own {
            Some(resource) => crate::own::escalate(assessment, resource),
            None => assessment,
        }
    };
    // The outcome (succeeded, weakened, ...) does not depend on the lookups: it is decided once
    // here, and the lookups only add modifiers.
    let before_lookup = assess(None);
    let first_outcome = before_lookup.outcome;
    if before_lookup.severity < deps.config.min_severity
        && !state_can_raise(&call, rule, first_outcome)
    {
        return below_threshold(before_lookup.severity);
    }

    // trailwatch's own resources are not a trail's: there is nothing to look up.
    let enrichment = match own {
        Some(_) => Enrichment::default(),
        None => {
            enrich_within_deadline(
                monitor,
                &call,
                resource.as_ref(),
                coverage_scope(rule, first_outcome),
                invocation,
                deps,
            )
            .await
        }
    };
    if own.is_none()
        && monitor.watched() == Watched::WhenATrailUsesIt
        && enrichment.found_no_trail_using_it()
    {
        return not_ours(format!("no trail uses this {kind}"));
    }
    if let Some(problem) = enrichment.error_summary() {
        warn!(
            event_id = %event_id,
            problem = %LogText(Some(&problem)),
            "resource state only partly known; alerting anyway"
        );
    }
    let assessment = assess(Some(&enrichment));
    let severity = assessment.severity;
    if severity < deps.config.min_severity {
        return below_threshold(severity);
    }

    let restart = crate::restart::answer_stop(
        deps.config.auto_restart,
        &call,
        resource.as_ref(),
        &enrichment,
        trusted_by,
        deps.restarter,
    )
    .await;
    let mut alert = Alert::for_call(
        &call,
        monitor,
        rule,
        resource.clone(),
        assessment,
        enrichment,
    )
    .with_account_name(&deps.config.account_names);
    if let Some(restart) = restart {
        info!(
            event_id = %event_id,
            auto_restart = ?restart.outcome,
            detail = %LogText(Some(&restart.detail)),
            "self-healing answered StopLogging"
        );
        crate::restart::apply(&mut alert, restart);
    }
    let severity = alert.severity;
    let (publisher, topic) = match own {
        Some(resource) => {
            alert.title = format!(
                "{} on trailwatch's own {}",
                rule.event,
                resource.kind.noun()
            );
            alert.own_resource = true;
            (deps.health, "health")
        }
        None => (deps.publisher, "alert"),
    };
    let rendered = render(alert);
    let resource_label = LogText(resource.as_ref().map(Resource::label));
    match publisher.publish(&rendered).await {
        Ok(message_id) => {
            info!(
                outcome = "published",
                event_id = %event_id,
                event_name = rule.event,
                severity = %severity,
                topic,
                resource = %resource_label,
                message_id = %LogText(Some(&message_id)),
                "alert published"
            );
            Ok(Summary {
                status: Status::Published,
                severity: Some(severity),
                message_id: Some(message_id),
                event_id: call.id.clone(),
                reason: None,
                findings: None,
            })
        }
        Err(failure) => {
            error!(
                outcome = "publish-failed",
                event_id = %event_id,
                event_name = rule.event,
                severity = %severity,
                resource = %resource_label,
                error = %LogText(Some(&failure.0)),
                "alert NOT published; returning an error so Lambda retries"
            );
            Err(failure.into())
        }
    }
}

/// The alert for a call with nothing looked up: the pure part of the pipeline (classify and
/// build the document), for benchmarks and tests. `None` for a call no monitor watches.
pub fn alert_without_lookups(call: &ApiCall) -> Option<Alert> {
    let (monitor, rule) = monitors::find(call)?;
    let resource = monitor.resource(call);
    let assessment = classify(call, monitor, rule, None, None);
    Some(Alert::for_call(
        call,
        monitor,
        rule,
        resource,
        assessment,
        Enrichment::default(),
    ))
}

async fn enrich_within_deadline(
    monitor: &dyn Monitor,
    call: &ApiCall,
    resource: Option<&Resource>,
    coverage: Option<CoverageScope>,
    invocation: &Invocation,
    deps: &Dependencies<'_>,
) -> Enrichment {
    if deps.config.enrich_timeout.is_zero() {
        return Enrichment::skipped("enrichment is turned off (ENRICH_TIMEOUT_MS=0)");
    }
    let Some(inspector) = deps.inspector else {
        return Enrichment::skipped(
            "the resource's state was not looked up (no AWS access in this mode)",
        );
    };
    let budget = enrichment_budget(
        deps.config.enrich_timeout,
        invocation.time_left,
        PUBLISH_RESERVE,
    );
    enrich(
        monitor,
        call,
        resource,
        inspector,
        budget,
        coverage,
        deps.config.home_account.as_deref(),
    )
    .await
}

fn ignored(event_id: Option<String>, why: &str) -> Summary {
    Summary {
        event_id,
        ..Summary::nothing(Status::Ignored, why)
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

//! What every entry point shares: the dependencies an invocation runs with, what it knows about
//! itself, and what it returns.
//!
//! The event path ([`crate::event_path`]) and the posture run ([`crate::posture`]) both answer
//! an invocation with a [`Summary`] or a [`HandlerError`]; they meet here, below both, rather
//! than importing each other.

use std::time::Duration;

use lambda_runtime::Diagnostic;
use serde::Serialize;

use crate::buckets::BucketInspector;
use crate::burst::{BurstTally, DigestScheduler};
use crate::config::Config;
use crate::dedup::EventLedger;
use crate::hub::FindingsHub;
use crate::inspector::TrailInspector;
use crate::members::MemberAccess;
use crate::metrics::MetricSink;
use crate::organization::{AccountDirectory, PostureQueue, RunLedger};
use crate::parse::InvalidEvent;
use crate::plumbing::PlumbingInspector;
use crate::publish::{AlertPublisher, PublishError};
use crate::recorders::RecorderInspector;
use crate::restart::LoggingRestarter;
use crate::severity::Severity;

/// Kept free for publishing when enrichment is bounded by the Lambda deadline: enough for the
/// SNS client's bounded retries.
pub const PUBLISH_RESERVE: Duration = Duration::from_secs(5);

pub struct Dependencies<'a> {
    pub config: &'a Config,
    /// `None` where the trail cannot be looked up (preview without AWS access).
    pub inspector: Option<&'a dyn TrailInspector>,
    /// The other recorders (AWS Config) of the function's own account;
    /// [`crate::recorders::NoRecorders`] where they are not read.
    pub recorders: &'a dyn RecorderInspector,
    /// A trail bucket's protections in the function's own account;
    /// [`crate::buckets::NoBuckets`] where they are not read.
    pub buckets: &'a dyn BucketInspector,
    /// A member account's trails, through trailwatch's read role there (central mode);
    /// [`crate::members::NoMemberAccess`] elsewhere.
    pub members: &'a dyn MemberAccess,
    /// Each event published once ([`crate::dedup`]); [`crate::dedup::NoLedger`] without a table.
    pub ledger: &'a dyn EventLedger,
    /// Each principal's alerts per window, and the digests of bursts ([`crate::burst`]);
    /// [`crate::burst::NoBursts`] where alerts are not folded.
    pub bursts: &'a dyn BurstTally,
    pub digests: &'a dyn DigestScheduler,
    /// The alert topic.
    pub publisher: &'a dyn AlertPublisher,
    /// The health topic, for calls on trailwatch's own resources: it depends on none of them.
    /// The alert topic's publisher when no health topic is configured.
    pub health: &'a dyn AlertPublisher,
    /// StartLogging for self-healing; [`crate::restart::NoRestart`] when it is off.
    pub restarter: &'a dyn LoggingRestarter,
    /// Where latency and heartbeat metrics go; [`crate::metrics::NoMetrics`] in preview.
    pub metrics: &'a dyn MetricSink,
    /// The organization's posture run: its accounts, the queue that spreads them and the
    /// record that knows when all answered ([`crate::organization`]);
    /// [`crate::organization::NoOrganization`] where the check covers one account.
    pub accounts: &'a dyn AccountDirectory,
    pub posture_queue: &'a dyn PostureQueue,
    pub runs: &'a dyn RunLedger,
    /// Security Hub, where alerts are also imported as findings ([`crate::hub::NoHub`] when
    /// findings are off).
    pub hub: &'a dyn FindingsHub,
    /// trailwatch's own rules and subscriptions, for the posture check;
    /// [`crate::plumbing::NoPlumbing`] where they are not read.
    pub plumbing: &'a dyn PlumbingInspector,
}

/// What the pipeline needs to know about the invocation itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invocation {
    /// Until the Lambda deadline; `None` when there is none (preview, tests).
    pub time_left: Option<Duration>,
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
    /// trailwatch's own heartbeat: counted, nothing published to people.
    Heartbeat,
    /// A second delivery of an event already published.
    Duplicate,
    /// Part of a burst: counted in the window's digest instead of published on its own.
    Folded,
    /// A batch of digest requests from the digest queue, handled.
    Digests,
    /// The organization's posture run began: one check per account is on the posture queue.
    RunStarted,
    /// A batch of the posture queue's account checks, handled.
    AccountsChecked,
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
    /// For a batch from the digest queue: the messages SQS should deliver again (Lambda's
    /// partial batch response, with ReportBatchItemFailures on the event source mapping).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_item_failures: Option<Vec<BatchItemFailure>>,
}

/// One message of a batch to deliver again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchItemFailure {
    pub item_identifier: String,
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
            batch_item_failures: None,
        }
    }

    /// An event that was ignored, and why.
    pub fn ignored(event_id: Option<String>, why: &str) -> Summary {
        Summary {
            event_id,
            ..Summary::nothing(Status::Ignored, why)
        }
    }

    /// The same answer with another status.
    pub fn with_status(self, status: Status) -> Summary {
        Summary { status, ..self }
    }

    /// An event judged below MIN_SEVERITY.
    pub fn below_threshold(
        event_id: Option<String>,
        severity: Severity,
        min_severity: Severity,
    ) -> Summary {
        Summary {
            severity: Some(severity),
            event_id,
            ..Summary::nothing(
                Status::BelowThreshold,
                &format!("below MIN_SEVERITY {min_severity}"),
            )
        }
    }

    /// An alert published; `findings` for a posture report.
    pub fn published(
        event_id: Option<String>,
        severity: Severity,
        message_id: String,
        findings: Option<usize>,
    ) -> Summary {
        Summary {
            status: Status::Published,
            severity: Some(severity),
            message_id: Some(message_id),
            event_id,
            reason: None,
            findings,
            batch_item_failures: None,
        }
    }
}

/// The only ways an invocation ends in an error, mapped to Lambda error types so Lambda's
/// retries and on-failure destination keep the event.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error("invalid event: {0}")]
    InvalidEvent(#[from] InvalidEvent),
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// Another delivery of the same event is being published; a retry learns whether it landed.
    #[error(
        "event {0} is being published by another invocation; retry to learn whether it landed"
    )]
    InFlight(String),
    /// The organization's posture run could not be started (its accounts listed, its record
    /// written or its checks sent); Lambda's retry starts it again, and what was already done
    /// counts once.
    #[error("the organization's posture run could not be started: {0}")]
    RunNotStarted(String),
}

impl From<HandlerError> for Diagnostic {
    fn from(error: HandlerError) -> Diagnostic {
        let error_type = match error {
            HandlerError::InvalidEvent(_) => "InvalidEvent",
            HandlerError::Publish(_) => "PublishFailed",
            HandlerError::InFlight(_) => "InFlight",
            HandlerError::RunNotStarted(_) => "RunNotStarted",
        };
        Diagnostic {
            error_type: error_type.to_string(),
            error_message: error.to_string(),
        }
    }
}

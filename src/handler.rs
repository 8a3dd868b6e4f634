//! The Lambda handler: every invocation starts here and goes to one path.
//!
//! A CloudTrail-recorded call goes to the event path ([`crate::event_path`]), the posture
//! schedule to the posture run ([`crate::posture::run`]), a batch from the digest queue to the
//! digest path ([`crate::digest_path`]); anything else that is a well-formed
//! EventBridge event is ignored, and anything that is not one is an error. Written against the
//! narrow traits in [`Dependencies`], so it runs the same on Lambda, in tests with fakes, and in
//! preview mode with no AWS at all.

use std::time::{Duration, SystemTime};

use lambda_runtime::LambdaEvent;
use serde_json::Value;
use tracing::{error, warn};

use crate::digest_path;
use crate::event_path;
use crate::parse::{parse_event, Inbound};
use crate::posture;
use crate::render::escape::LogText;

// The handler's signature speaks these types; callers (main, preview, tests) take them from here.
pub use crate::invocation::{
    Dependencies, HandlerError, Invocation, Status, Summary, PUBLISH_RESERVE,
};

pub async fn handle(
    event: LambdaEvent<Value>,
    deps: &Dependencies<'_>,
) -> Result<Summary, HandlerError> {
    let invocation = Invocation {
        time_left: time_left(event.context.deadline),
    };
    handle_payload(&event.payload, &invocation, deps).await
}

/// The same handler with the invocation made explicit, for callers without a Lambda context.
pub async fn handle_payload(
    payload: &Value,
    invocation: &Invocation,
    deps: &Dependencies<'_>,
) -> Result<Summary, HandlerError> {
    match parse_event(payload) {
        Ok(Inbound::ApiCall(call)) => event_path::on_call(&call, invocation, deps).await,
        Ok(Inbound::Scheduled(schedule)) => posture::run(&schedule, invocation, deps).await,
        Ok(Inbound::Queued(batch)) => Ok(digest_path::on_batch(&batch, deps).await),
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
            Ok(Summary::ignored(None, "not a CloudTrail API call event"))
        }
        Err(invalid) => {
            error!(
                outcome = "rejected",
                error = %LogText(Some(&invalid.to_string())),
                "input is not an EventBridge CloudTrail event"
            );
            Err(invalid.into())
        }
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

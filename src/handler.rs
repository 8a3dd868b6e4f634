//! The Lambda handler: every invocation starts here and goes to one path.
//!
//! A CloudTrail-recorded call goes to the event path ([`crate::event_path`]), the posture
//! schedule to the posture run ([`crate::posture::run`]), a batch from the digest queue to the
//! digest path ([`crate::digest_path`]) and one from the posture queue to the organization's
//! account checks ([`crate::posture::organization`]); anything else that is a well-formed
//! EventBridge event is ignored, and anything that is not one is an error. Written against the
//! narrow traits in [`Dependencies`], so it runs the same on Lambda, in tests with fakes, and in
//! preview mode with no AWS at all.

use std::time::{Duration, SystemTime};

use lambda_runtime::LambdaEvent;
use serde_json::Value;
use tracing::{error, warn};

use crate::digest_path;
use crate::event_path;
use crate::organization::AccountCheck;
use crate::parse::{parse_event, Inbound, QueuedMessage};
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
        Ok(Inbound::Queued(batch)) => Ok(queued(batch, invocation, deps).await),
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

/// A batch from one of trailwatch's queues. Each queue has its own event source mapping, so a
/// batch holds one kind of message; each message is still told by its body (an account check
/// names its run), so a stray one is handled, not misread.
async fn queued(
    batch: Vec<QueuedMessage>,
    invocation: &Invocation,
    deps: &Dependencies<'_>,
) -> Summary {
    let (checks, digests): (Vec<QueuedMessage>, Vec<QueuedMessage>) = batch
        .into_iter()
        .partition(|message| AccountCheck::from_body(&message.body).is_some());
    match (checks.is_empty(), digests.is_empty()) {
        (false, true) => posture::organization::on_batch(&checks, invocation, deps).await,
        (true, _) => digest_path::on_batch(&digests, invocation, deps).await,
        (false, false) => {
            let checked = posture::organization::on_batch(&checks, invocation, deps).await;
            let told = digest_path::on_batch(&digests, invocation, deps).await;
            let mut failures = checked.batch_item_failures.unwrap_or_default();
            failures.extend(told.batch_item_failures.unwrap_or_default());
            Summary {
                batch_item_failures: Some(failures),
                ..told
            }
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

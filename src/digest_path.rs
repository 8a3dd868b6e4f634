//! The digest path: a batch from the digest queue, each message a burst whose window has
//! closed, told in one alert ([`crate::burst`]).
//!
//! Each message is handled in its own span. A message that cannot be read is dropped with an
//! error log (it will never become readable); a tally that cannot be read or a digest that
//! cannot be published is reported back as a batch item failure, so SQS delivers it again and,
//! after the queue's redrive limit, parks it in its dead-letter queue. A digest already sent
//! (a second delivery of its message) is not sent again.

use tracing::{error, info, warn, Instrument};

use crate::burst::DigestRequest;
use crate::digest;
use crate::import;
use crate::invocation::{BatchItemFailure, Dependencies, Invocation, Status, Summary};
use crate::parse::QueuedMessage;
use crate::render::escape::LogText;
use crate::render::render;

/// Handles every message of the batch and answers with the ones to deliver again.
pub async fn on_batch(
    batch: &[QueuedMessage],
    invocation: &Invocation,
    deps: &Dependencies<'_>,
) -> Summary {
    let mut failures = Vec::new();
    let mut published = 0;
    for message in batch {
        let span = tracing::info_span!(
            "digest",
            message_id = %LogText(Some(&message.message_id))
        );
        match one(message, invocation, deps).instrument(span).await {
            Ok(true) => published += 1,
            Ok(false) => {}
            Err(()) => failures.push(BatchItemFailure {
                item_identifier: message.message_id.clone(),
            }),
        }
    }
    Summary {
        batch_item_failures: Some(failures),
        ..Summary::nothing(
            Status::Digests,
            &format!(
                "{published} digest(s) published of {} message(s)",
                batch.len()
            ),
        )
    }
}

/// `Ok(true)` when a digest was published, `Ok(false)` when there was nothing to send, `Err`
/// when the message should be delivered again.
async fn one(
    message: &QueuedMessage,
    invocation: &Invocation,
    deps: &Dependencies<'_>,
) -> Result<bool, ()> {
    let request: DigestRequest = match serde_json::from_str(&message.body) {
        Ok(request) => request,
        Err(problem) => {
            error!(
                outcome = "rejected",
                error = %LogText(Some(&problem.to_string())),
                "a digest-queue message that is not a digest request; dropped"
            );
            return Ok(false);
        }
    };
    let burst = LogText(Some(&request.key.id())).to_string();
    let tally = match deps.bursts.read(&request.key).await {
        Ok(Some(tally)) => tally,
        Ok(None) => {
            warn!(burst = %burst, "no tally for this burst (expired, or folding is off); nothing to send");
            return Ok(false);
        }
        Err(problem) => {
            warn!(burst = %burst, problem = %LogText(Some(&problem)), "the burst's tally could not be read; SQS delivers the message again");
            return Err(());
        }
    };
    if tally.sent || tally.folded == 0 {
        info!(burst = %burst, "this burst's digest was already sent, or nothing was folded");
        return Ok(false);
    }
    let alert = digest::alert(&request.key, &tally, &deps.config.burst);
    let severity = alert.severity;
    let findings = import::prepare(&alert, deps);
    match deps.publisher.publish(&render(alert)).await {
        Ok(message_id) => {
            import::send(findings, deps, import::deadline(invocation)).await;
            if let Err(problem) = deps.bursts.mark_sent(&request.key).await {
                warn!(burst = %burst, problem = %LogText(Some(&problem)), "digest published, but not marked sent: a second delivery of its message would send it again");
            }
            info!(
                outcome = "published",
                burst = %burst,
                severity = %severity,
                folded = tally.folded,
                message_id = %LogText(Some(&message_id)),
                "burst digest published"
            );
            Ok(true)
        }
        Err(failure) => {
            error!(
                outcome = "publish-failed",
                burst = %burst,
                error = %LogText(Some(&failure.0)),
                "burst digest NOT published; SQS delivers the message again"
            );
            Err(())
        }
    }
}

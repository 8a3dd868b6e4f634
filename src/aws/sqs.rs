//! trailwatch's queues on SQS, each consumed by the function (an event source mapping):
//! [`DigestScheduler`], a burst's digest request delayed on the digest queue until its window
//! has closed, and [`PostureQueue`], an organization's run, one check per account.

use std::time::Duration;

use async_trait::async_trait;

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

use crate::aws::call_failed;
use crate::burst::{DigestRequest, DigestScheduler};
use crate::organization::{AccountCheck, PostureQueue};

pub struct DigestQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl DigestQueue {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: String) -> DigestQueue {
        DigestQueue { client, queue_url }
    }
}

#[async_trait]
impl DigestScheduler for DigestQueue {
    async fn schedule(&self, request: &DigestRequest, delay: Duration) -> Result<(), String> {
        let body = serde_json::to_string(request).map_err(|e| e.to_string())?;
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            // SQS delays a message by at most 900 seconds (config::MAX_DIGEST_DELAY).
            .delay_seconds(i32::try_from(delay.as_secs().min(900)).unwrap_or(900))
            .send()
            .await
            .map(|_| ())
            .map_err(|error| call_failed("SendMessage", &error))
    }
}

/// [`PostureQueue`] on SQS: an organization's run, one message per account, ten a call.
pub struct PostureChecks {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl PostureChecks {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: String) -> PostureChecks {
        PostureChecks { client, queue_url }
    }
}

/// SendMessageBatch takes at most ten messages.
const BATCH: usize = 10;

#[async_trait]
impl PostureQueue for PostureChecks {
    async fn send(&self, checks: &[AccountCheck]) -> Result<(), String> {
        for chunk in checks.chunks(BATCH) {
            let mut entries = Vec::with_capacity(chunk.len());
            for (index, check) in chunk.iter().enumerate() {
                let body = serde_json::to_string(check).map_err(|e| e.to_string())?;
                entries.push(
                    SendMessageBatchRequestEntry::builder()
                        .id(index.to_string())
                        .message_body(body)
                        .build()
                        .map_err(|e| e.to_string())?,
                );
            }
            // An entry SQS refused is sent once more; a second refusal fails the run's start,
            // and the schedule's retry sends them all again (each account counts once).
            let mut pending = entries;
            for attempt in 0..2 {
                let answer = self
                    .client
                    .send_message_batch()
                    .queue_url(&self.queue_url)
                    .set_entries(Some(pending.clone()))
                    .send()
                    .await
                    .map_err(|error| call_failed("SendMessageBatch", &error))?;
                let failed: Vec<&str> = answer.failed().iter().map(|f| f.id()).collect();
                if failed.is_empty() {
                    break;
                }
                if attempt == 1 {
                    return Err(format!(
                        "SendMessageBatch refused {} message(s): {}",
                        failed.len(),
                        answer
                            .failed()
                            .first()
                            .map(|f| f.code().to_string())
                            .unwrap_or_default()
                    ));
                }
                pending.retain(|entry| failed.contains(&entry.id()));
            }
        }
        Ok(())
    }
}

//! [`DigestScheduler`] on SQS: a burst's digest request, delayed on the digest queue until its
//! window has closed; the function consumes the queue (an event source mapping).

use std::time::Duration;

use async_trait::async_trait;

use crate::aws::describe_sdk_error;
use crate::burst::{DigestRequest, DigestScheduler};

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
            .map_err(|error| {
                let (code, message) = describe_sdk_error(&error);
                format!(
                    "SendMessage failed: {}{message}",
                    code.map(|c| format!("{c}: ")).unwrap_or_default()
                )
            })
    }
}

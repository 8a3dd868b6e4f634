//! [`AlertPublisher`] on SNS: one `Publish` with `MessageStructure=json` per alert.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_sns::types::MessageAttributeValue;
use aws_sdk_sns::Client;

use crate::aws::describe_sdk_error;
use crate::publish::{AlertPublisher, PublishError};
use crate::render::RenderedAlert;

pub struct SnsPublisher {
    client: Client,
    topic_arn: String,
}

impl SnsPublisher {
    pub fn new(client: Client, topic_arn: String) -> SnsPublisher {
        SnsPublisher { client, topic_arn }
    }
}

#[async_trait]
impl AlertPublisher for SnsPublisher {
    async fn publish(&self, alert: &RenderedAlert) -> Result<String, PublishError> {
        let mut attributes = HashMap::with_capacity(alert.attributes.len());
        for (name, value) in &alert.attributes {
            let attribute = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| PublishError(format!("message attribute {name}: {e}")))?;
            attributes.insert((*name).to_string(), attribute);
        }
        let out = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .message_structure("json")
            .message(&alert.message)
            .subject(&alert.subject)
            .set_message_attributes(Some(attributes))
            .send()
            .await
            .map_err(|e| match describe_sdk_error(&e) {
                (Some(code), message) => PublishError(format!("SNS answered {code}: {message}")),
                (None, message) => PublishError(message),
            })?;
        Ok(out.message_id.unwrap_or_default())
    }
}

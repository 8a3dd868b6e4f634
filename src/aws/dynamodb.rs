//! [`EventLedger`] on a DynamoDB table keyed by `eventId` (DEDUP_TABLE): a conditional PutItem
//! claims an event, an unconditional PutItem records its publish, a conditional DeleteItem
//! releases a claim. Items carry `expiresAt` (epoch seconds), the table's TTL attribute; since
//! TTL deletes expired items only eventually, the claim's condition reads `expiresAt` itself.

use std::time::SystemTime;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;

use crate::aws::describe_sdk_error;
use crate::dedup::{epoch_seconds_up, Claim, EventLedger, REMEMBER_PUBLISHED};

const PUBLISHING: &str = "publishing";
const PUBLISHED: &str = "published";

pub struct DynamoLedger {
    client: Client,
    table: String,
}

impl DynamoLedger {
    pub fn new(client: Client, table: String) -> DynamoLedger {
        DynamoLedger { client, table }
    }

    /// Who holds the event, after a claim lost the race: published, or still in flight.
    async fn holder(&self, event_id: &str) -> Claim {
        let read = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("eventId", AttributeValue::S(event_id.to_string()))
            .consistent_read(true)
            .send()
            .await;
        let item = match read {
            Ok(answer) => answer.item.unwrap_or_default(),
            Err(error) => return Claim::Unavailable(problem("GetItem", &error)),
        };
        let text = |name: &str| match item.get(name) {
            Some(AttributeValue::S(value)) => Some(value.clone()),
            _ => None,
        };
        match text("state").as_deref() {
            Some(PUBLISHED) => Claim::Published {
                message_id: text("messageId"),
            },
            // Still publishing, or gone between the two calls (its claim was released): either
            // way, whether it lands is not known yet.
            _ => Claim::InFlight,
        }
    }
}

fn problem<E, R>(call: &str, error: &aws_sdk_dynamodb::error::SdkError<E, R>) -> String
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let (code, message) = describe_sdk_error(error);
    match code {
        Some(code) => format!("{call} failed: {code}: {message}"),
        None => format!("{call} failed: {message}"),
    }
}

fn number(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

#[async_trait]
impl EventLedger for DynamoLedger {
    async fn claim(&self, event_id: &str, until: SystemTime) -> Claim {
        let claimed = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("eventId", AttributeValue::S(event_id.to_string()))
            .item("state", AttributeValue::S(PUBLISHING.to_string()))
            .item("expiresAt", number(epoch_seconds_up(until)))
            .condition_expression("attribute_not_exists(eventId) OR expiresAt < :now")
            .expression_attribute_values(":now", number(epoch_seconds_up(SystemTime::now())))
            .send()
            .await;
        match claimed {
            Ok(_) => Claim::New,
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                self.holder(event_id).await
            }
            Err(error) => Claim::Unavailable(problem("PutItem", &error)),
        }
    }

    async fn published(&self, event_id: &str, message_id: &str) -> Result<(), String> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("eventId", AttributeValue::S(event_id.to_string()))
            .item("state", AttributeValue::S(PUBLISHED.to_string()))
            .item("messageId", AttributeValue::S(message_id.to_string()))
            .item(
                "expiresAt",
                number(epoch_seconds_up(SystemTime::now() + REMEMBER_PUBLISHED)),
            )
            .send()
            .await
            .map(|_| ())
            .map_err(|error| problem("PutItem", &error))
    }

    async fn release(&self, event_id: &str) -> Result<(), String> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("eventId", AttributeValue::S(event_id.to_string()))
            .condition_expression("#state = :publishing")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":publishing", AttributeValue::S(PUBLISHING.to_string()))
            .send()
            .await
            .map(|_| ())
            .map_err(|error| problem("DeleteItem", &error))
    }
}

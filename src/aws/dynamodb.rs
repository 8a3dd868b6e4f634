//! [`EventLedger`] on a DynamoDB table keyed by `eventId` (DEDUP_TABLE): a conditional PutItem
//! claims an event, an unconditional PutItem records its publish, a conditional DeleteItem
//! releases a claim. Items carry `expiresAt` (epoch seconds), the table's TTL attribute; since
//! TTL deletes expired items only eventually, the claim's condition reads `expiresAt` itself.

use std::time::SystemTime;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use aws_sdk_dynamodb::Client;

use crate::aws::call_failed;
use crate::burst::{BurstKey, BurstTally, FoldedCall, Tally, MAX_LISTED_RESOURCES};
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
            Err(error) => return Claim::Unavailable(call_failed("GetItem", &error)),
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

pub(crate) fn number(value: u64) -> AttributeValue {
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
            Err(error) => Claim::Unavailable(call_failed("PutItem", &error)),
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
            .map_err(|error| call_failed("PutItem", &error))
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
            .map_err(|error| call_failed("DeleteItem", &error))
    }
}

/// [`BurstTally`] in the same table: one item per principal's window (`eventId` is
/// `burst#ACCOUNT#PRINCIPAL#WINDOW`), with `seen` (alerts counted), `folded`, one counter per
/// call name (`c.NAME`) and severity (`s.SEVERITY`), the listed `resources` (a string set) and
/// `unlisted`, `actor`, `firstAt`/`lastAt` and `sent`.
#[async_trait]
impl BurstTally for DynamoLedger {
    async fn count(&self, key: &BurstKey, until: SystemTime) -> Result<u64, String> {
        let answer = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("eventId", AttributeValue::S(key.id()))
            .update_expression("ADD seen :one SET expiresAt = if_not_exists(expiresAt, :expires)")
            .expression_attribute_values(":one", number(1))
            .expression_attribute_values(
                ":expires",
                number(epoch_seconds_up(until + REMEMBER_PUBLISHED)),
            )
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|error| call_failed("UpdateItem", &error))?;
        Ok(count_of(answer.attributes.as_ref(), "seen"))
    }

    async fn fold(&self, key: &BurstKey, call: &FoldedCall) -> Result<bool, String> {
        let at = number(epoch_seconds_up(call.at));
        let base = |listed: bool| {
            self.client
                .update_item()
                .table_name(&self.table)
                .key("eventId", AttributeValue::S(key.id()))
                .update_expression(if listed {
                    "ADD folded :one, #call :one, #severity :one, resources :resource SET firstAt = if_not_exists(firstAt, :at), lastAt = :at, actor = if_not_exists(actor, :actor)"
                } else {
                    "ADD folded :one, #call :one, #severity :one, unlisted :one SET firstAt = if_not_exists(firstAt, :at), lastAt = :at, actor = if_not_exists(actor, :actor)"
                })
                .expression_attribute_names("#call", format!("c.{}", call.name))
                .expression_attribute_names("#severity", format!("s.{}", call.severity))
                .expression_attribute_values(":one", number(1))
                .expression_attribute_values(":at", at.clone())
                .expression_attribute_values(":actor", AttributeValue::S(call.actor.clone()))
                .return_values(ReturnValue::UpdatedNew)
        };
        // A resource is listed while the list has room; the rest are counted. The condition
        // keeps the item far below DynamoDB's 400 KB.
        let listed = match &call.resource {
            Some(resource) => {
                base(true)
                    .expression_attribute_values(
                        ":resource",
                        AttributeValue::Ss(vec![resource.clone()]),
                    )
                    .expression_attribute_values(":room", number(MAX_LISTED_RESOURCES as u64))
                    .condition_expression("attribute_not_exists(resources) OR size(resources) < :room OR contains(resources, :resourceName)")
                    .expression_attribute_values(":resourceName", AttributeValue::S(resource.clone()))
                    .send()
                    .await
            }
            None => base(false).send().await,
        };
        let answer = match listed {
            Ok(answer) => answer,
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                base(false)
                    .send()
                    .await
                    .map_err(|error| call_failed("UpdateItem", &error))?
            }
            Err(error) => return Err(call_failed("UpdateItem", &error)),
        };
        Ok(count_of(answer.attributes.as_ref(), "folded") == 1)
    }

    async fn unfold(&self, key: &BurstKey, call: &FoldedCall) -> Result<(), String> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("eventId", AttributeValue::S(key.id()))
            .update_expression("ADD folded :less, #call :less, #severity :less")
            .expression_attribute_names("#call", format!("c.{}", call.name))
            .expression_attribute_names("#severity", format!("s.{}", call.severity))
            .expression_attribute_values(":less", AttributeValue::N("-1".to_string()))
            .send()
            .await
            .map(|_| ())
            .map_err(|error| call_failed("UpdateItem", &error))
    }

    async fn read(&self, key: &BurstKey) -> Result<Option<Tally>, String> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("eventId", AttributeValue::S(key.id()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| call_failed("GetItem", &error))?;
        let Some(item) = answer.item else {
            return Ok(None);
        };
        let mut tally = Tally {
            folded: count_of(Some(&item), "folded"),
            unlisted: count_of(Some(&item), "unlisted"),
            first_at: count_of(Some(&item), "firstAt"),
            last_at: count_of(Some(&item), "lastAt"),
            sent: matches!(item.get("sent"), Some(AttributeValue::Bool(true))),
            actor: match item.get("actor") {
                Some(AttributeValue::S(actor)) => actor.clone(),
                _ => String::new(),
            },
            resources: match item.get("resources") {
                Some(AttributeValue::Ss(resources)) => resources.clone(),
                _ => Vec::new(),
            },
            ..Tally::default()
        };
        for (name, value) in &item {
            let count = match value {
                AttributeValue::N(n) => n.parse::<u64>().unwrap_or(0),
                _ => continue,
            };
            if count == 0 {
                continue;
            }
            if let Some(call) = name.strip_prefix("c.") {
                tally.calls.push((call.to_string(), count));
            } else if let Some(severity) = name.strip_prefix("s.").and_then(|s| s.parse().ok()) {
                tally.severities.push((severity, count));
            }
        }
        tally
            .calls
            .sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        tally
            .severities
            .sort_by_key(|(severity, _)| std::cmp::Reverse(*severity));
        tally.resources.sort();
        Ok(Some(tally))
    }

    async fn mark_sent(&self, key: &BurstKey) -> Result<(), String> {
        update(
            &self.client,
            &self.table,
            key.id(),
            "SET sent = :sent",
            &[(":sent", AttributeValue::Bool(true))],
        )
        .await
    }
}

/// An unconditional UpdateItem of the item keyed `event_id`, answered with nothing.
pub(crate) async fn update(
    client: &Client,
    table: &str,
    event_id: String,
    expression: &str,
    values: &[(&str, AttributeValue)],
) -> Result<(), String> {
    values
        .iter()
        .fold(
            client
                .update_item()
                .table_name(table)
                .key("eventId", AttributeValue::S(event_id))
                .update_expression(expression),
            |request, (name, value)| request.expression_attribute_values(*name, value.clone()),
        )
        .send()
        .await
        .map(|_| ())
        .map_err(|error| call_failed("UpdateItem", &error))
}

/// A counter attribute, 0 when absent or unreadable.
fn count_of(item: Option<&std::collections::HashMap<String, AttributeValue>>, name: &str) -> u64 {
    match item.and_then(|item| item.get(name)) {
        Some(AttributeValue::N(value)) => value.parse().unwrap_or(0),
        _ => 0,
    }
}

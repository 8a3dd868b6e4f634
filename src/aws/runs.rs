//! [`RunLedger`] on the ledger table (DEDUP_TABLE), beside the event ids and burst tallies.
//!
//! A run is one item, `eventId` = `posture-run#RUN`: `expected` (accounts), `sent` (every
//! check is on the queue), `answered` (a string set of the accounts that reported: adding an
//! account twice leaves it once, so a redelivered check counts once), and the summary's claim
//! (`claimUntil`, `summarySent`). Each account's result is its own item,
//! `posture-run#RUN#ACCOUNT`, its JSON in `result`: an organization's results together would
//! pass DynamoDB's 400 KB item limit. Every item expires (`expiresAt`) after [`REMEMBER_RUN`].

use std::collections::HashMap;
use std::time::SystemTime;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, ReturnValue};
use aws_sdk_dynamodb::Client;

use crate::aws::call_failed;
use crate::aws::dynamodb::{number, update};
use crate::dedup::epoch_seconds_up;
use crate::organization::{AccountResult, Begun, Progress, RunLedger, REMEMBER_RUN};

/// A result is kept below DynamoDB's 400 KB item limit, with room for the key.
const MAX_RESULT_BYTES: usize = 350 * 1024;
/// BatchGetItem reads at most 100 items a call.
const READ_BATCH: usize = 100;
/// Unprocessed keys (throttling) are asked for again this many times.
const READ_ATTEMPTS: usize = 5;

pub struct DynamoRuns {
    client: Client,
    table: String,
}

impl DynamoRuns {
    pub fn new(client: Client, table: String) -> DynamoRuns {
        DynamoRuns { client, table }
    }

    fn expires(&self) -> AttributeValue {
        number(epoch_seconds_up(SystemTime::now() + REMEMBER_RUN))
    }

    /// The run's record, read consistently (empty when there is none).
    async fn run_item(&self, run: &str) -> Result<HashMap<String, AttributeValue>, String> {
        Ok(self
            .client
            .get_item()
            .table_name(&self.table)
            .key("eventId", run_key(run))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| call_failed("GetItem", &error))?
            .item
            .unwrap_or_default())
    }
}

fn run_id(run: &str) -> String {
    format!("posture-run#{run}")
}

fn run_key(run: &str) -> AttributeValue {
    AttributeValue::S(run_id(run))
}

fn result_key(run: &str, account: &str) -> AttributeValue {
    AttributeValue::S(format!("posture-run#{run}#{account}"))
}

fn conditional_failed<E: std::fmt::Debug, R>(
    error: &aws_sdk_dynamodb::error::SdkError<E, R>,
    is_condition: impl Fn(&E) -> bool,
) -> bool {
    error.as_service_error().is_some_and(is_condition)
}

/// The result as JSON within [`MAX_RESULT_BYTES`]: its trails go first, then its findings
/// from the least severe; a result that lost any says so in a finding of its own.
fn stored(result: &AccountResult) -> Result<String, String> {
    let mut json = serde_json::to_string(result).map_err(|e| e.to_string())?;
    let mut kept = result.clone();
    while json.len() > MAX_RESULT_BYTES {
        if !kept.trails.is_empty() {
            kept.trails.clear();
        } else if kept.findings.len() > 1 {
            let keep = kept.findings.len() / 2;
            kept.findings.truncate(keep);
        } else {
            return Err(format!(
                "the account's result is {} bytes even cut down",
                json.len()
            ));
        }
        json = serde_json::to_string(&kept).map_err(|e| e.to_string())?;
    }
    Ok(json)
}

#[async_trait]
impl RunLedger for DynamoRuns {
    async fn begin(&self, run: &str, accounts: &[String]) -> Result<Begun, String> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("eventId", run_key(run))
            .item("expected", number(accounts.len() as u64))
            .item("sent", AttributeValue::Bool(false))
            .item("expiresAt", self.expires())
            .condition_expression("attribute_not_exists(eventId)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(Begun::New),
            Err(error)
                if conditional_failed(&error, |e| e.is_conditional_check_failed_exception()) =>
            {
                let item = self.run_item(run).await?;
                Ok(Begun::Again {
                    sent: matches!(item.get("sent"), Some(AttributeValue::Bool(true))),
                })
            }
            Err(error) => Err(call_failed("PutItem", &error)),
        }
    }

    async fn mark_sent(&self, run: &str) -> Result<(), String> {
        let sent = [(":sent", AttributeValue::Bool(true))];
        update(
            &self.client,
            &self.table,
            run_id(run),
            "SET sent = :sent",
            &sent,
        )
        .await
    }

    async fn record(&self, run: &str, result: &AccountResult) -> Result<Progress, String> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("eventId", result_key(run, &result.account))
            .item("result", AttributeValue::S(stored(result)?))
            .item("expiresAt", self.expires())
            .send()
            .await
            .map_err(|error| call_failed("PutItem", &error))?;
        // Only a run that was begun counts answers: without `expected`, any count is complete.
        let answer = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("eventId", run_key(run))
            .update_expression("ADD answered :account")
            .condition_expression("attribute_exists(expected)")
            .expression_attribute_values(
                ":account",
                AttributeValue::Ss(vec![result.account.clone()]),
            )
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        let attributes = match answer {
            Ok(answer) => answer.attributes.unwrap_or_default(),
            Err(error)
                if conditional_failed(&error, |e| e.is_conditional_check_failed_exception()) =>
            {
                return Err(format!(
                    "the run {run} has no record (it expired, or was never begun)"
                ))
            }
            Err(error) => return Err(call_failed("UpdateItem", &error)),
        };
        Ok(Progress {
            answered: match attributes.get("answered") {
                Some(AttributeValue::Ss(accounts)) => accounts.len(),
                _ => 0,
            },
            expected: match attributes.get("expected") {
                Some(AttributeValue::N(n)) => n.parse().unwrap_or(usize::MAX),
                _ => usize::MAX,
            },
        })
    }

    async fn claim_summary(&self, run: &str, until: SystemTime) -> Result<bool, String> {
        let claimed = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("eventId", run_key(run))
            .update_expression("SET claimUntil = :until")
            .condition_expression(
                "attribute_exists(expected) AND attribute_not_exists(summarySent) AND (attribute_not_exists(claimUntil) OR claimUntil < :now)",
            )
            .expression_attribute_values(":until", number(epoch_seconds_up(until)))
            .expression_attribute_values(":now", number(epoch_seconds_up(SystemTime::now())))
            .send()
            .await;
        match claimed {
            Ok(_) => Ok(true),
            Err(error)
                if conditional_failed(&error, |e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(error) => Err(call_failed("UpdateItem", &error)),
        }
    }

    async fn results(&self, run: &str) -> Result<Vec<AccountResult>, String> {
        let item = self.run_item(run).await?;
        let accounts = match item.get("answered") {
            Some(AttributeValue::Ss(accounts)) => accounts.clone(),
            _ => Vec::new(),
        };
        let mut results = Vec::with_capacity(accounts.len());
        for chunk in accounts.chunks(READ_BATCH) {
            let keys: Vec<HashMap<String, AttributeValue>> = chunk
                .iter()
                .map(|account| HashMap::from([("eventId".to_string(), result_key(run, account))]))
                .collect();
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| e.to_string())?,
            );
            for attempt in 0..READ_ATTEMPTS {
                let Some(request) = pending.take() else {
                    break;
                };
                if attempt > 0 {
                    // Unprocessed keys mean throttling: back off before asking again.
                    tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
                }
                let answer = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(|error| call_failed("BatchGetItem", &error))?;
                for item in answer
                    .responses()
                    .and_then(|r| r.get(&self.table))
                    .into_iter()
                    .flatten()
                {
                    if let Some(AttributeValue::S(json)) = item.get("result") {
                        let result: AccountResult = serde_json::from_str(json)
                            .map_err(|e| format!("an account's result could not be read: {e}"))?;
                        results.push(result);
                    }
                }
                pending = answer
                    .unprocessed_keys()
                    .and_then(|keys| keys.get(&self.table))
                    .filter(|keys| !keys.keys().is_empty())
                    .cloned();
            }
            if pending.is_some() {
                return Err("BatchGetItem left keys unprocessed after every attempt".to_string());
            }
        }
        Ok(results)
    }

    async fn summary_sent(&self, run: &str) -> Result<(), String> {
        let sent = [(":sent", AttributeValue::Bool(true))];
        let expression = "SET summarySent = :sent REMOVE claimUntil";
        update(&self.client, &self.table, run_id(run), expression, &sent).await
    }

    async fn release_summary(&self, run: &str) -> Result<(), String> {
        update(
            &self.client,
            &self.table,
            run_id(run),
            "REMOVE claimUntil",
            &[],
        )
        .await
    }
}

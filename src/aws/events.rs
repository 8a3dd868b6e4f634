//! [`PlumbingInspector`] on EventBridge and SNS: DescribeRule, ListTargetsByRule and
//! ListSubscriptionsByTopic, read-only.

use async_trait::async_trait;

use crate::aws::describe_sdk_error;
use crate::inspector::LookupError;
use crate::plumbing::{DeployedRule, PlumbingInspector};

pub struct Plumbing {
    events: aws_sdk_eventbridge::Client,
    sns: aws_sdk_sns::Client,
}

impl Plumbing {
    pub fn new(events: aws_sdk_eventbridge::Client, sns: aws_sdk_sns::Client) -> Plumbing {
        Plumbing { events, sns }
    }
}

fn lookup_error<E, R>(error: &aws_sdk_eventbridge::error::SdkError<E, R>) -> LookupError
where
    E: aws_sdk_eventbridge::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let (code, message) = describe_sdk_error(error);
    LookupError { code, message }
}

#[async_trait]
impl PlumbingInspector for Plumbing {
    async fn rule(&self, name: &str, bus: Option<&str>) -> Result<DeployedRule, LookupError> {
        let described = self
            .events
            .describe_rule()
            .name(name)
            .set_event_bus_name(bus.map(str::to_string))
            .send()
            .await
            .map_err(|e| lookup_error(&e))?;
        let targets = self
            .events
            .list_targets_by_rule()
            .rule(name)
            .set_event_bus_name(bus.map(str::to_string))
            .send()
            .await
            .map_err(|e| lookup_error(&e))?;
        Ok(DeployedRule {
            state: described.state.map(|state| state.as_str().to_string()),
            pattern: described
                .event_pattern
                .as_deref()
                .and_then(|text| serde_json::from_str(text).ok()),
            schedule: described.schedule_expression,
            targets: targets
                .targets
                .unwrap_or_default()
                .into_iter()
                .map(|target| target.arn)
                .collect(),
        })
    }

    async fn confirmed_subscriptions(&self, topic_arn: &str) -> Result<usize, LookupError> {
        let mut confirmed = 0;
        let mut next: Option<String> = None;
        // A topic has at most a few subscriptions; the page limit bounds a pathological one.
        for _ in 0..20 {
            let page = self
                .sns
                .list_subscriptions_by_topic()
                .topic_arn(topic_arn)
                .set_next_token(next.take())
                .send()
                .await
                .map_err(|e| {
                    let (code, message) = describe_sdk_error(&e);
                    LookupError { code, message }
                })?;
            confirmed += page
                .subscriptions
                .unwrap_or_default()
                .iter()
                .filter(|s| {
                    s.subscription_arn
                        .as_deref()
                        .is_some_and(|arn| arn.starts_with("arn:"))
                })
                .count();
            match page.next_token {
                Some(token) => next = Some(token),
                None => break,
            }
        }
        Ok(confirmed)
    }
}

//! [`PlumbingInspector`] on EventBridge, SNS and CloudWatch: DescribeRule, ListTargetsByRule,
//! ListSubscriptionsByTopic and GetMetricStatistics, read-only.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Statistic};

use crate::aws::lookup_error;
use crate::inspector::LookupError;
use crate::metrics::{HEARTBEATS, NAMESPACE, REGION_DIMENSION};
use crate::plumbing::{DeployedRule, PlumbingInspector};

pub struct Plumbing {
    events: aws_sdk_eventbridge::Client,
    sns: aws_sdk_sns::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
}

impl Plumbing {
    pub fn new(
        events: aws_sdk_eventbridge::Client,
        sns: aws_sdk_sns::Client,
        cloudwatch: aws_sdk_cloudwatch::Client,
    ) -> Plumbing {
        Plumbing {
            events,
            sns,
            cloudwatch,
        }
    }
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
                .map_err(|e| lookup_error(&e))?;
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

    async fn heartbeats(&self, region: &str, window: Duration) -> Result<u64, LookupError> {
        // One period covering the whole window (a multiple of 60 s, as CloudWatch asks), ending
        // at the start of the next minute: CloudWatch rounds times to its minutes (moto drops
        // fractions of a second), and a heartbeat counted a moment ago must fall inside.
        let period = window.as_secs().div_ceil(60).max(1) * 60;
        let since_epoch = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        let end = SystemTime::UNIX_EPOCH + Duration::from_secs((since_epoch / 60 + 1) * 60);
        let start = end
            .checked_sub(Duration::from_secs(period))
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let answer = self
            .cloudwatch
            .get_metric_statistics()
            .namespace(NAMESPACE)
            .metric_name(HEARTBEATS)
            .dimensions(
                Dimension::builder()
                    .name(REGION_DIMENSION)
                    .value(region)
                    .build(),
            )
            .start_time(DateTime::from(start))
            .end_time(DateTime::from(end))
            .period(i32::try_from(period).unwrap_or(i32::MAX))
            .statistics(Statistic::Sum)
            .send()
            .await
            .map_err(|e| lookup_error(&e))?;
        let counted: f64 = answer
            .datapoints
            .unwrap_or_default()
            .iter()
            .filter_map(|point| point.sum)
            .sum();
        // A count of events: never negative, never fractional in what the function writes.
        Ok(if counted.is_finite() && counted > 0.0 {
            counted.round() as u64
        } else {
            0
        })
    }
}

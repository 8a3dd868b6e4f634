//! trailwatch's own SNS topics: the alert topic and the health topic. Deleting one, changing its
//! policy or key, or unsubscribing its readers silences trailwatch, so only calls on
//! trailwatch's own topics are watched ([`crate::own`]).

use async_trait::async_trait;

use crate::alert::NextStep;
use crate::arn::Arn;
use crate::call::ApiCall;
use crate::command;
use crate::enrichment::Enrichment;
use crate::monitors::monitor::{Guard, GuardValue, Monitor, Rule, Service, StepFacts, Watched};
use crate::monitors::steps::{confirm, redeploy};
use crate::prose::code;
use crate::resource::{Resource, ResourceKind};
use crate::severity::Severity::*;

pub struct Sns;

#[rustfmt::skip]
const RULES: &[Rule] = &[
    Rule { event: "DeleteTopic", succeeded: Critical,
        summary: "trailwatch's SNS topic deleted",
        effect: "alerts published to a deleted topic reach nobody",
        reduces: true, ..Rule::BASE },
    Rule { event: "SetTopicAttributes", succeeded: Critical,
        summary: "trailwatch's SNS topic changed",
        effect: "the topic's policy, key and delivery settings decide whether alerts are published and delivered",
        ..Rule::BASE },
    Rule { event: "Unsubscribe", succeeded: Critical,
        summary: "A subscription removed from trailwatch's SNS topic",
        effect: "whoever was subscribed no longer receives alerts",
        reduces: true, ..Rule::BASE },
    Rule { event: "SetSubscriptionAttributes", succeeded: Critical,
        summary: "A subscription to trailwatch's SNS topic changed",
        effect: "a subscription's filter policy and delivery settings decide whether its subscriber receives alerts",
        reduces: true, ..Rule::BASE },
];

/// trailwatch's topics are named `trailwatch-ID-…`; a subscription's ARN starts with its topic's.
const OWN_TOPICS: &[GuardValue] = &[GuardValue::Wildcard("*:trailwatch-${Id}*")];

const SERVICE: Service = Service {
    event_source: "sns.amazonaws.com",
    bus_source: "aws.sns",
    name: "SNS (trailwatch's topics)",
    rules: RULES,
    guard: &[
        Guard {
            events: &["DeleteTopic", "SetTopicAttributes"],
            path: &["topicArn"],
            values: OWN_TOPICS,
        },
        Guard {
            events: &["Unsubscribe", "SetSubscriptionAttributes"],
            path: &["subscriptionArn"],
            values: OWN_TOPICS,
        },
    ],
};

#[async_trait]
impl Monitor for Sns {
    fn service(&self) -> &'static Service {
        &SERVICE
    }

    /// The topic: `topicArn`, or for Unsubscribe the topic a `subscriptionArn` belongs to
    /// (`TOPIC_ARN:SUBSCRIPTION_ID`).
    fn resource(&self, call: &ApiCall) -> Option<Resource> {
        let given = call.named_by(&["topicArn", "subscriptionArn"])?;
        let topic_arn = match call.string_parameter("topicArn") {
            Some(_) => given.clone(),
            None => given
                .rsplit_once(':')
                .map_or(given.clone(), |(topic, _)| topic.to_string()),
        };
        let arn = Arn::parse(&topic_arn)
            .filter(|arn| arn.service == "sns" && !arn.resource.contains(':'));
        let name = arn
            .as_ref()
            .map_or_else(|| topic_arn.clone(), |arn| arn.resource.clone());
        Some(Resource::named_in(
            ResourceKind::Topic,
            call,
            given,
            name,
            arn,
        ))
    }

    fn watched(&self) -> Watched {
        Watched::WhenTrailwatchOwnsIt
    }

    fn state_notes(&self, call: &ApiCall, _enrichment: &Enrichment) -> Vec<String> {
        match call.string_parameter("attributeName") {
            Some(attribute) if call.name == "SetTopicAttributes" => {
                vec![format!("attribute changed: {}", code(attribute))]
            }
            _ => Vec::new(),
        }
    }

    fn next_steps(&self, facts: &StepFacts<'_>) -> Vec<NextStep> {
        let topic = command::topic_arn(facts.resource.and_then(|r| r.arn.as_deref()));
        let region = command::region(facts.resource.and_then(|r| r.region.as_deref()));
        let redeploy = redeploy(
            "the topic, its policy and its subscriptions (email subscribers confirm again)",
        );
        match facts.call.name.as_str() {
            "DeleteTopic" => vec![redeploy, confirm(facts)],
            "Unsubscribe" => vec![
                command::step(
                    "See who is still subscribed",
                    format!(
                        "aws sns list-subscriptions-by-topic --topic-arn {topic} --region {region}"
                    ),
                    &[&topic, &region],
                ),
                redeploy,
                confirm(facts),
            ],
            _ => vec![
                command::step(
                    "Compare the topic's attributes (Policy, KmsMasterKeyId) with the template",
                    format!("aws sns get-topic-attributes --topic-arn {topic} --region {region}"),
                    &[&topic, &region],
                ),
                redeploy,
                confirm(facts),
            ],
        }
    }
}

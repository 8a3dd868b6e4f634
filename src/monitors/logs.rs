//! The CloudWatch Logs group a trail delivers to: deleting it, its metric filters (the CIS
//! alarms hang on them) or its subscriptions (a SIEM feed), and shortening its retention.

use async_trait::async_trait;

use crate::alert::NextStep;
use crate::arn::Arn;
use crate::call::ApiCall;
use crate::command::{self, Arg};
use crate::enrichment::Enrichment;
use crate::lookup::Lookups;
use crate::monitors::delivery::{first_trail, trails_using};
use crate::monitors::monitor::{
    Guard, GuardValue, Monitor, Outcome, Rule, Service, StepFacts, Watched, Weakening,
};
use crate::monitors::steps::{confirm, redeploy, MIN_RETENTION_DAYS};
use crate::resource::{Resource, ResourceKind};
use crate::severity::Severity::*;

pub struct Logs;

#[rustfmt::skip]
const RULES: &[Rule] = &[
    Rule { event: "DeleteLogGroup", succeeded: High,
        summary: "A trail's log group deleted",
        effect: "CloudTrail's delivery to CloudWatch Logs fails, and the metric filters and alarms on the group (the CIS ones included) are gone",
        reduces: true, ..Rule::BASE },
    Rule { event: "DeleteMetricFilter", succeeded: Medium, denied: Medium,
        summary: "Metric filter deleted on a trail's log group",
        effect: "an alarm built on that filter can no longer fire",
        reduces: true, ..Rule::BASE },
    Rule { event: "DeleteSubscriptionFilter", succeeded: Medium, denied: Medium,
        summary: "Subscription filter deleted on a trail's log group",
        effect: "the trail's events no longer stream to that destination (a SIEM, for example)",
        reduces: true, ..Rule::BASE },
    Rule { event: "PutMetricFilter", succeeded: Low, denied: Medium,
        summary: "Metric filter changed on a trail's log group",
        effect: "a metric filter decides what an alarm on the group counts (the CIS ones and trailwatch's dead man's switch)",
        ..Rule::BASE },
    Rule { event: "PutRetentionPolicy", succeeded: Low, weakened: Some(Medium), denied: Medium,
        summary: "Retention changed on a trail's log group",
        weakened_summary: "Retention shortened on a trail's log group",
        effect: "the group keeps events for at least a year",
        weakens_when: "retention under 365 days", ..Rule::BASE },
];

const SERVICE: Service = Service {
    event_source: "logs.amazonaws.com",
    bus_source: "aws.logs",
    name: "CloudWatch Logs (a trail's log group)",
    rules: RULES,
    // trailwatch's own log group is named `/trailwatch/ID/…`.
    guard: &[Guard {
        events: &[
            "DeleteLogGroup",
            "DeleteMetricFilter",
            "DeleteSubscriptionFilter",
            "PutMetricFilter",
            "PutRetentionPolicy",
        ],
        path: &["logGroupName"],
        values: &[GuardValue::Prefix("/trailwatch/${Id}")],
    }],
};

#[async_trait]
impl Monitor for Logs {
    fn service(&self) -> &'static Service {
        &SERVICE
    }

    fn resource(&self, call: &ApiCall) -> Option<Resource> {
        let name = call.named_by(&["logGroupName"])?;
        let arn = Arn::parse(&format!(
            "arn:{}:logs:{}:{}:log-group:{name}",
            call.partition(),
            call.region.as_deref().unwrap_or_default(),
            call.account.as_deref().unwrap_or_default()
        ))
        .filter(|arn| arn.region.is_some() && arn.account.is_some());
        Some(Resource::named_in(
            ResourceKind::LogGroup,
            call,
            name.clone(),
            name,
            arn,
        ))
    }

    fn weakenings(&self, call: &ApiCall) -> Vec<Weakening> {
        if call.name != "PutRetentionPolicy" {
            return Vec::new();
        }
        match call.number_parameter("retentionInDays") {
            Some(days) if days < MIN_RETENTION_DAYS => vec![Weakening::new(format!(
                "retention set to {days} days: the trail's events are deleted from the group after that"
            ))],
            Some(_) => Vec::new(),
            None => vec![Weakening::new(
                "the request records no readable retentionInDays, so the change cannot be checked",
            )],
        }
    }

    fn watched(&self) -> Watched {
        Watched::WhenATrailUsesIt
    }

    async fn look_up(
        &self,
        _call: &ApiCall,
        resource: &Resource,
        lookups: &Lookups<'_>,
    ) -> Enrichment {
        let Some(region) = resource.lookup_region() else {
            return Enrichment::skipped("the event gives no region to list the trails in");
        };
        // A trail names its group by ARN (`...:log-group:NAME:*`): same name, account and
        // region, or it is another group.
        trails_using(lookups, region, "log-group", |trail| {
            let Some(arn) = trail
                .cloud_watch_logs_log_group_arn
                .as_deref()
                .and_then(Arn::parse)
            else {
                return false;
            };
            let group = arn
                .resource_after("log-group:")
                .map(|rest| rest.strip_suffix(":*").unwrap_or(rest));
            arn.service == "logs"
                && group == Some(resource.given.as_str())
                && arn.region.as_deref() == Some(region)
                && (resource.account.is_none() || arn.account == resource.account)
        })
        .await
    }

    fn undo(&self, facts: &StepFacts<'_>) -> Option<NextStep> {
        let (group, region) = group_and_region(facts);
        let filter = filter_name(facts);
        match facts.call.name.as_str() {
            // trailwatch's own filter (the dead man's switch) comes back with a redeploy.
            "DeleteMetricFilter" | "PutMetricFilter" if facts.own => None,
            "DeleteLogGroup" => Some(command::step(
                "Recreate the group, then recreate its metric filters, alarms and subscriptions from your infrastructure as code",
                format!("aws logs create-log-group --log-group-name {group} --region {region}"),
                &[&group, &region],
            )),
            "DeleteMetricFilter" => Some(command::step(
                "Put the metric filter back (the CAPITALISED values from your infrastructure as code: CloudTrail does not record them)",
                format!("aws logs put-metric-filter --log-group-name {group} --filter-name {filter} --filter-pattern PREVIOUS_PATTERN --metric-transformations metricName=PREVIOUS_METRIC,metricNamespace=PREVIOUS_NAMESPACE,metricValue=1 --region {region}"),
                &[&group, &filter, &region],
            )),
            "DeleteSubscriptionFilter" => Some(command::step(
                "Put the subscription filter back (the CAPITALISED values from your infrastructure as code: CloudTrail does not record them)",
                format!("aws logs put-subscription-filter --log-group-name {group} --filter-name {filter} --filter-pattern PREVIOUS_PATTERN --destination-arn PREVIOUS_DESTINATION_ARN --region {region}"),
                &[&group, &filter, &region],
            )),
            "PutRetentionPolicy" => Some(command::step(
                "Restore a retention of at least a year",
                format!("aws logs put-retention-policy --log-group-name {group} --retention-in-days 365 --region {region}"),
                &[&group, &region],
            )),
            _ => None,
        }
    }

    fn next_steps(&self, facts: &StepFacts<'_>) -> Vec<NextStep> {
        if facts.own {
            return vec![
                redeploy("the function's log group, its retention and the dead man's switch's metric filter"),
                confirm(facts),
                NextStep::say("While the group or its filter is changed, the dead man's switch and the latency figures may go dark: watch the health topic's alarms."),
            ];
        }
        let (group, region) = group_and_region(facts);
        let trail_use = first_trail(facts.enrichment);
        let trail = command::trail(trail_use.map(|t| t.arn.as_deref().unwrap_or(&t.name)));
        // A trail delivers only to a log group in its own home region.
        let trail_region = command::region(
            trail_use
                .and_then(|t| t.home_region.as_deref())
                .or(facts.resource.and_then(|r| r.region.as_deref())),
        );
        match facts.call.name.as_str() {
            "DeleteLogGroup" => vec![
                confirm(facts),
                command::step("Check that the trail delivers to it again (LatestCloudWatchLogsDeliveryError empty)", format!("aws cloudtrail get-trail-status --name {trail} --region {trail_region}"), &[&trail, &trail_region]),
            ],
            "DeleteMetricFilter" | "DeleteSubscriptionFilter" => vec![
                confirm(facts),
                command::step("See which metric filters are left", format!("aws logs describe-metric-filters --log-group-name {group} --region {region}"), &[&group, &region]),
                command::step("See which subscription filters are left", format!("aws logs describe-subscription-filters --log-group-name {group} --region {region}"), &[&group, &region]),
            ],
            "PutRetentionPolicy" if facts.outcome == Outcome::Weakened => vec![confirm(facts)],
            _ => vec![command::step("Check the retention is what you expect", format!("aws logs describe-log-groups --log-group-name-prefix {group} --region {region}"), &[&group, &region])],
        }
    }
}

/// The log group and its region, as a command may name them.
fn group_and_region(facts: &StepFacts<'_>) -> (Arg, Arg) {
    (
        command::log_group(facts.resource.map(|r| r.given.as_str())),
        command::region(facts.resource.and_then(|r| r.region.as_deref())),
    )
}

/// The deleted filter's name (`filterName`): CloudWatch Logs allows any text without `:` or
/// `*`; a command takes only a plain one.
fn filter_name(facts: &StepFacts<'_>) -> Arg {
    Arg::checked(
        facts.call.string_parameter("filterName"),
        "FILTER_NAME",
        "a plain filter name",
        |name| name.len() <= 512 && !name.contains([':', '*']),
    )
}

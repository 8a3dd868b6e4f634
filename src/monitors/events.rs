//! trailwatch's own EventBridge rules: the one that delivers CloudTrail events to the function,
//! the central bus's, and the posture schedule. Disable or empty any of them and trailwatch
//! hears nothing, so only calls on trailwatch's own rules are watched ([`crate::own`]).

use async_trait::async_trait;

use crate::alert::NextStep;
use crate::arn::Arn;
use crate::call::ApiCall;
use crate::command;

use crate::monitors::monitor::{Monitor, Rule, Service, StepFacts, Watched};
use crate::monitors::steps::{confirm, redeploy};
use crate::resource::{Resource, ResourceKind};
use crate::severity::Severity::*;

pub struct Events;

#[rustfmt::skip]
const RULES: &[Rule] = &[
    Rule { event: "DisableRule", succeeded: Critical,
        summary: "trailwatch's EventBridge rule disabled",
        effect: "a disabled rule delivers nothing: no event reaches trailwatch",
        reduces: true, ..Rule::BASE },
    Rule { event: "DeleteRule", succeeded: Critical,
        summary: "trailwatch's EventBridge rule deleted",
        effect: "without the rule no event reaches trailwatch",
        reduces: true, ..Rule::BASE },
    Rule { event: "RemoveTargets", succeeded: Critical,
        summary: "Targets removed from trailwatch's EventBridge rule",
        effect: "a rule without its target matches events and delivers them nowhere",
        reduces: true, ..Rule::BASE },
];

const SERVICE: Service = Service {
    event_source: "events.amazonaws.com",
    bus_source: "aws.events",
    name: "EventBridge (trailwatch's rules)",
    rules: RULES,
};

#[async_trait]
impl Monitor for Events {
    fn service(&self) -> &'static Service {
        &SERVICE
    }

    /// `name` (DisableRule, DeleteRule) or `rule` (RemoveTargets), on the bus `eventBusName`
    /// (a name or an ARN; the default bus when absent).
    fn resource(&self, call: &ApiCall) -> Option<Resource> {
        let name = call.named_by(&["name", "rule"])?;
        let bus = call
            .named_by(&["eventBusName"])
            .map(|bus| match Arn::parse(&bus) {
                Some(arn) => arn
                    .resource_after("event-bus/")
                    .unwrap_or_default()
                    .to_string(),
                None => bus,
            })
            .filter(|bus| bus != "default");
        let path = match &bus {
            Some(bus) => format!("{bus}/{name}"),
            None => name.clone(),
        };
        let arn = Arn::parse(&format!(
            "arn:{}:events:{}:{}:rule/{path}",
            call.partition(),
            call.region.as_deref().unwrap_or_default(),
            call.account.as_deref().unwrap_or_default()
        ))
        .filter(|arn| arn.region.is_some() && arn.account.is_some());
        Some(Resource::named_in(
            ResourceKind::Rule,
            call,
            path,
            name,
            arn,
        ))
    }

    fn watched(&self) -> Watched {
        Watched::WhenTrailwatchOwnsIt
    }

    fn undo(&self, facts: &StepFacts<'_>) -> Option<NextStep> {
        let rule = command::rule(facts.resource.and_then(|r| r.name.as_deref()));
        let region = command::region(facts.resource.and_then(|r| r.region.as_deref()));
        let bus = facts
            .resource
            .and_then(|r| r.given.split_once('/'))
            .map(|(bus, _)| command::event_bus(Some(bus)));
        let bus_flag = bus
            .as_ref()
            .map_or_else(String::new, |bus| format!(" --event-bus-name {bus}"));
        let mut args = vec![&rule, &region];
        args.extend(bus.as_ref());
        (facts.call.name == "DisableRule").then(|| {
            command::step(
                "Enable the rule again",
                format!("aws events enable-rule --name {rule}{bus_flag} --region {region}"),
                &args,
            )
        })
    }

    fn next_steps(&self, facts: &StepFacts<'_>) -> Vec<NextStep> {
        let review = NextStep::say("While the rule was off, CloudTrail events were not delivered: review CloudTrail event history for the gap (the posture check also reports any trail left stopped).");
        match facts.call.name.as_str() {
            "DisableRule" => vec![confirm(facts), review],
            _ => vec![redeploy("the rule and its target"), confirm(facts), review],
        }
    }
}

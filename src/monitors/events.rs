//! trailwatch's own EventBridge rules and bus: the rule that delivers CloudTrail events to the
//! function, the central bus's, the guard rule, the posture schedule, and the central bus that
//! member accounts forward to. Disable, retarget or repattern any of them and trailwatch hears
//! nothing, so only calls on trailwatch's own are watched ([`crate::own`]).

use async_trait::async_trait;

use crate::alert::NextStep;
use crate::arn::Arn;
use crate::call::ApiCall;
use crate::command;

use crate::monitors::monitor::{
    Guard, GuardValue, Monitor, Rule, Service, StepFacts, Watched, Weakening,
};
use crate::monitors::steps::{confirm, redeploy};
use crate::resource::{Resource, ResourceKind};
use crate::severity::Severity::*;

pub const SOURCE: &str = "events.amazonaws.com";

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
    Rule { event: "PutRule", succeeded: Critical, weakened: Some(Critical),
        summary: "trailwatch's EventBridge rule changed",
        weakened_summary: "trailwatch's EventBridge rule disabled or repatterned",
        effect: "the rule's state and pattern decide which events reach trailwatch",
        weakens_when: "state DISABLED, or a pattern that is not the one trailwatch generates", ..Rule::BASE },
    Rule { event: "PutTargets", succeeded: Critical,
        summary: "trailwatch's EventBridge rule retargeted",
        effect: "the rule's targets decide where matched events go: a new target can send them elsewhere",
        reduces: true, ..Rule::BASE },
    Rule { event: "RemovePermission", succeeded: Critical,
        summary: "A permission removed from trailwatch's central event bus",
        effect: "without the bus's permission member accounts and regions cannot forward their events",
        reduces: true, ..Rule::BASE },
    Rule { event: "DeleteEventBus", succeeded: Critical,
        summary: "trailwatch's central event bus deleted",
        effect: "events forwarded from member accounts and regions are dropped",
        reduces: true, ..Rule::BASE },
];

/// trailwatch's rules are all named `trailwatch-ID…`; its central bus after the stack.
const OWN_RULES: &[GuardValue] = &[GuardValue::Prefix("trailwatch-${Id}")];

const SERVICE: Service = Service {
    event_source: SOURCE,
    bus_source: "aws.events",
    name: "EventBridge (trailwatch's rules and bus)",
    rules: RULES,
    guard: &[
        Guard {
            events: &["DisableRule", "DeleteRule", "PutRule"],
            path: &["name"],
            values: OWN_RULES,
        },
        Guard {
            events: &["RemoveTargets", "PutTargets"],
            path: &["rule"],
            values: OWN_RULES,
        },
        Guard {
            events: &["RemovePermission"],
            path: &["eventBusName"],
            values: &[GuardValue::Exact("trailwatch-${AWS::StackName}")],
        },
        Guard {
            events: &["DeleteEventBus"],
            path: &["name"],
            values: &[GuardValue::Exact("trailwatch-${AWS::StackName}")],
        },
    ],
};

#[async_trait]
impl Monitor for Events {
    fn service(&self) -> &'static Service {
        &SERVICE
    }

    /// `name` (DisableRule, DeleteRule) or `rule` (RemoveTargets), on the bus `eventBusName`
    /// (a name or an ARN; the default bus when absent).
    fn resource(&self, call: &ApiCall) -> Option<Resource> {
        if matches!(call.name.as_str(), "RemovePermission" | "DeleteEventBus") {
            return bus_resource(call);
        }
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

    /// PutRule on one of trailwatch's rules reduces what reaches it when it disables the rule.
    /// (A pattern other than the ones trailwatch generates is the registry's check, which knows
    /// them: [`crate::monitors::weakenings`].)
    fn weakenings(&self, call: &ApiCall) -> Vec<Weakening> {
        let disabled = call.name == "PutRule"
            && call
                .string_parameter("state")
                .is_some_and(|state| state.eq_ignore_ascii_case("DISABLED"));
        match disabled {
            true => vec![Weakening::new(
                "state set to DISABLED: the rule delivers nothing",
            )],
            false => Vec::new(),
        }
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

/// The bus a RemovePermission (`eventBusName`, the default bus when absent) or DeleteEventBus
/// (`name`) names.
fn bus_resource(call: &ApiCall) -> Option<Resource> {
    let given = call
        .named_by(&["eventBusName", "name"])
        .unwrap_or_else(|| "default".to_string());
    let name = match Arn::parse(&given) {
        Some(arn) => arn.resource_after("event-bus/")?.to_string(),
        None => given.clone(),
    };
    let arn = Arn::parse(&format!(
        "arn:{}:events:{}:{}:event-bus/{name}",
        call.partition(),
        call.region.as_deref().unwrap_or_default(),
        call.account.as_deref().unwrap_or_default()
    ))
    .filter(|arn| arn.region.is_some() && arn.account.is_some());
    Some(Resource::named_in(
        ResourceKind::EventBus,
        call,
        given,
        name,
        arn,
    ))
}

//! The heartbeat's SSM parameter, trailwatch's own in every region it watches.
//!
//! EventBridge Scheduler tags it on a schedule with trailwatch's heartbeat role; CloudTrail
//! records the call and EventBridge delivers it through the same rule as every monitored call,
//! so its arrival proves the path works ([`crate::heartbeat`] recognises it and nothing is
//! published). Anything else done to the parameter (a tag by another principal, a delete) is a
//! forged or broken heartbeat, CRITICAL.

use async_trait::async_trait;

use crate::alert::NextStep;
use crate::arn::Arn;
use crate::call::ApiCall;
use crate::monitors::monitor::{Guard, GuardValue, Monitor, Rule, Service, StepFacts, Watched};
use crate::monitors::steps::{confirm, redeploy};
use crate::resource::{Resource, ResourceKind};
use crate::severity::Severity::*;

pub const SOURCE: &str = "ssm.amazonaws.com";

pub struct Ssm;

#[rustfmt::skip]
const RULES: &[Rule] = &[
    Rule { event: "AddTagsToResource", succeeded: Critical,
        summary: "trailwatch's heartbeat tagged by someone else",
        effect: "a heartbeat sent by anyone but trailwatch's schedule can make a broken path look alive",
        reduces: true, ..Rule::BASE },
    Rule { event: "RemoveTagsFromResource", succeeded: Critical,
        summary: "trailwatch's heartbeat tag removed",
        effect: "the heartbeat's parameter is trailwatch's, changed only by its schedule",
        ..Rule::BASE },
    Rule { event: "DeleteParameter", succeeded: Critical,
        summary: "trailwatch's heartbeat parameter deleted",
        effect: "without the parameter the schedule's heartbeat fails, and the heartbeat alarm fires",
        reduces: true, ..Rule::BASE },
];

const SERVICE: Service = Service {
    event_source: SOURCE,
    bus_source: "aws.ssm",
    name: "SSM (trailwatch's heartbeat)",
    rules: RULES,
    // The heartbeat's own tagging is not a change to guard against; deleting it is.
    guard: &[Guard {
        events: &["DeleteParameter"],
        path: &["name"],
        values: &[GuardValue::Exact("/trailwatch/${Id}/heartbeat")],
    }],
};

#[async_trait]
impl Monitor for Ssm {
    fn service(&self) -> &'static Service {
        &SERVICE
    }

    /// The tag calls name a resource by type and id (`resourceType` `Parameter`,
    /// `resourceId`); DeleteParameter by `name`.
    fn resource(&self, call: &ApiCall) -> Option<Resource> {
        let name = match call.name.as_str() {
            "DeleteParameter" => call.named_by(&["name"])?,
            _ => {
                let kind = call.string_parameter("resourceType").unwrap_or("Parameter");
                if kind != "Parameter" {
                    return None;
                }
                call.named_by(&["resourceId"])?
            }
        };
        let path = name.trim_start_matches('/');
        let arn = Arn::parse(&format!(
            "arn:{}:ssm:{}:{}:parameter/{path}",
            call.partition(),
            call.region.as_deref().unwrap_or_default(),
            call.account.as_deref().unwrap_or_default()
        ))
        .filter(|arn| arn.region.is_some() && arn.account.is_some());
        Some(Resource::named_in(
            ResourceKind::Parameter,
            call,
            name.clone(),
            name,
            arn,
        ))
    }

    fn watched(&self) -> Watched {
        Watched::WhenTrailwatchOwnsIt
    }

    fn next_steps(&self, facts: &StepFacts<'_>) -> Vec<NextStep> {
        vec![
            redeploy("the heartbeat's parameter, schedule and role"),
            confirm(facts),
            NextStep::say("Until it is restored the heartbeat proves nothing: watch the health topic for the heartbeat alarm, and check that the alert rule is enabled."),
        ]
    }
}

//! trailwatch's own IAM role: what the function may do. Detach its policies, replace them, add
//! a deny or a permissions boundary, or let someone else assume it, and the function can no
//! longer read trails or publish alerts (or someone else acts as it), so only calls on
//! trailwatch's own role are watched ([`crate::own`]).
//!
//! IAM is a global service: its CloudTrail events reach EventBridge in us-east-1 only. A stack
//! in another region sees them only through a forwarder in us-east-1 (docs/safety-net.md).

use async_trait::async_trait;

use crate::alert::NextStep;
use crate::arn::Arn;
use crate::call::ApiCall;
use crate::monitors::monitor::{Guard, GuardValue, Monitor, Rule, Service, StepFacts, Watched};
use crate::monitors::steps::{confirm, redeploy};
use crate::resource::{Resource, ResourceKind};
use crate::severity::Severity::*;

pub struct Iam;

#[rustfmt::skip]
const RULES: &[Rule] = &[
    Rule { event: "AttachRolePolicy", succeeded: Critical,
        summary: "A policy attached to trailwatch's role",
        effect: "an attached policy can deny what the function needs, or grant more than it needs",
        reduces: true, ..Rule::BASE },
    Rule { event: "DetachRolePolicy", succeeded: Critical,
        summary: "A policy detached from trailwatch's role",
        effect: "without its policies the function cannot read trails or publish alerts",
        reduces: true, ..Rule::BASE },
    Rule { event: "PutRolePolicy", succeeded: Critical,
        summary: "trailwatch's role policy written",
        effect: "an inline policy can deny what the function needs (a deny of every action stops it)",
        reduces: true, ..Rule::BASE },
    Rule { event: "DeleteRolePolicy", succeeded: Critical,
        summary: "trailwatch's role policy deleted",
        effect: "without its inline policy the function cannot read trails or publish alerts",
        reduces: true, ..Rule::BASE },
    Rule { event: "PutRolePermissionsBoundary", succeeded: Critical,
        summary: "A permissions boundary set on trailwatch's role",
        effect: "a boundary caps what the function may do, whatever its policies grant",
        reduces: true, ..Rule::BASE },
    Rule { event: "UpdateAssumeRolePolicy", succeeded: Critical,
        summary: "Who may assume trailwatch's role changed",
        effect: "the trust policy decides who can act as trailwatch: Lambda only, or someone else too",
        reduces: true, ..Rule::BASE },
];

const SERVICE: Service = Service {
    event_source: "iam.amazonaws.com",
    bus_source: "aws.iam",
    name: "IAM (trailwatch's role)",
    rules: RULES,
    guard: &[Guard {
        events: &[
            "AttachRolePolicy",
            "DetachRolePolicy",
            "PutRolePolicy",
            "DeleteRolePolicy",
            "PutRolePermissionsBoundary",
            "UpdateAssumeRolePolicy",
        ],
        path: &["roleName"],
        values: &[GuardValue::Exact("${RoleName}")],
    }],
};

#[async_trait]
impl Monitor for Iam {
    fn service(&self) -> &'static Service {
        &SERVICE
    }

    /// `roleName`; IAM ARNs have no region: the role is the account's.
    fn resource(&self, call: &ApiCall) -> Option<Resource> {
        let name = call.named_by(&["roleName"])?;
        let arn = Arn::parse(&format!(
            "arn:{}:iam::{}:role/{name}",
            call.partition(),
            call.account.as_deref().unwrap_or_default()
        ))
        .filter(|arn| arn.account.is_some());
        Some(Resource::named_in(
            ResourceKind::Role,
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
            redeploy("the role, its policies and its trust policy"),
            confirm(facts),
            NextStep::say("Until the role is restored the function may fail to read trails or publish: check its errors and the health topic's alarms."),
        ]
    }
}

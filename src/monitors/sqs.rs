//! trailwatch's own SQS queues: the events EventBridge could not deliver, the events the
//! function could not handle after Lambda's retries, and the notifications SNS could not
//! deliver. Purged, deleted or reconfigured, what they kept is lost, so only calls on
//! trailwatch's own queues are watched ([`crate::own`]).

use async_trait::async_trait;

use crate::alert::NextStep;
use crate::arn::Arn;
use crate::call::ApiCall;
use crate::monitors::monitor::{Guard, GuardValue, Monitor, Rule, Service, StepFacts, Watched};
use crate::monitors::steps::{confirm, redeploy};
use crate::resource::{Resource, ResourceKind};
use crate::severity::Severity::*;

pub struct Sqs;

#[rustfmt::skip]
const RULES: &[Rule] = &[
    Rule { event: "PurgeQueue", succeeded: Critical,
        summary: "trailwatch's queue of parked events purged",
        effect: "every event or alert the queue kept is deleted",
        reduces: true, ..Rule::BASE },
    Rule { event: "DeleteQueue", succeeded: Critical,
        summary: "trailwatch's queue of parked events deleted",
        effect: "what the queue kept is deleted, and what fails from now on is lost",
        reduces: true, ..Rule::BASE },
    Rule { event: "SetQueueAttributes", succeeded: Critical,
        summary: "trailwatch's queue of parked events changed",
        effect: "a queue's retention, policy and key decide whether what fails is kept and readable",
        ..Rule::BASE },
];

const SERVICE: Service = Service {
    event_source: "sqs.amazonaws.com",
    bus_source: "aws.sqs",
    name: "SQS (trailwatch's queues)",
    rules: RULES,
    // trailwatch's queues are named `trailwatch-ID-…`; a request names a queue by its URL, in
    // the current or the older endpoint form.
    guard: &[Guard {
        events: &["PurgeQueue", "DeleteQueue", "SetQueueAttributes"],
        path: &["queueUrl"],
        values: &[GuardValue::Wildcard("*/trailwatch-${Id}*")],
    }],
};

#[async_trait]
impl Monitor for Sqs {
    fn service(&self) -> &'static Service {
        &SERVICE
    }

    /// `queueUrl`: `https://sqs.REGION.amazonaws.com/ACCOUNT/NAME` (or the older
    /// `https://REGION.queue.amazonaws.com/…`); the queue's ARN is built from its parts.
    fn resource(&self, call: &ApiCall) -> Option<Resource> {
        let url = call.named_by(&["queueUrl"])?;
        let path = url.split_once("://").map_or(url.as_str(), |(_, rest)| rest);
        let mut parts = path.split('/');
        let host = parts.next().unwrap_or_default();
        let account = parts.next().unwrap_or_default();
        let name = parts.next().unwrap_or_default().to_string();
        let region = host
            .strip_prefix("sqs.")
            .and_then(|rest| rest.split('.').next())
            .or_else(|| host.split_once(".queue.").map(|(region, _)| region))
            .or(call.region.as_deref())
            .unwrap_or_default();
        let arn = Arn::parse(&format!(
            "arn:{}:sqs:{region}:{account}:{name}",
            call.partition()
        ))
        .filter(|arn| arn.region.is_some() && arn.account.is_some());
        Some(Resource::named_in(
            ResourceKind::Queue,
            call,
            url,
            name,
            arn,
        ))
    }

    fn watched(&self) -> Watched {
        Watched::WhenTrailwatchOwnsIt
    }

    fn next_steps(&self, facts: &StepFacts<'_>) -> Vec<NextStep> {
        let lost = NextStep::say("What the queue held is gone: review CloudTrail event history for the calls trailwatch could not alert on while it was failing (its health alarms name when).");
        match facts.call.name.as_str() {
            "SetQueueAttributes" => vec![
                redeploy("the queue's retention, policy and key"),
                confirm(facts),
            ],
            _ => vec![redeploy("the queue"), confirm(facts), lost],
        }
    }
}

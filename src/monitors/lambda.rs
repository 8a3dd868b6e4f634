//! trailwatch's own function: deleting it, changing its configuration (its environment names the
//! topics it publishes to) or setting its reserved concurrency to zero silences trailwatch, so
//! only calls on the function itself are watched ([`crate::own`]). Lambda records these calls
//! under versioned event names (`DeleteFunction20150331`).

use async_trait::async_trait;

use crate::alert::NextStep;
use crate::arn::Arn;
use crate::call::ApiCall;
use crate::command;
use crate::enrichment::Enrichment;
use crate::monitors::monitor::{Guard, GuardValue, Monitor, Rule, Service, StepFacts, Watched};
use crate::monitors::steps::{confirm, redeploy};
use crate::resource::{Resource, ResourceKind};
use crate::severity::Severity::*;

pub struct Lambda;

#[rustfmt::skip]
const RULES: &[Rule] = &[
    Rule { event: "DeleteFunction20150331", succeeded: Critical,
        summary: "trailwatch's function deleted",
        effect: "without the function no event is checked and no alert is sent",
        reduces: true, ..Rule::BASE },
    Rule { event: "UpdateFunctionConfiguration20150331v2", succeeded: Critical,
        summary: "trailwatch's function configuration changed",
        effect: "the configuration names the topics alerts go to, the severity threshold and the trusted principals",
        ..Rule::BASE },
    Rule { event: "PutFunctionConcurrency20171031", succeeded: Critical,
        summary: "trailwatch's function concurrency changed",
        effect: "a reserved concurrency of 0 throttles every invocation, so no event is checked",
        reduces: true, ..Rule::BASE },
    Rule { event: "RemovePermission20150331v2", succeeded: Critical,
        summary: "A permission removed from trailwatch's function",
        effect: "without its resource policy EventBridge cannot invoke the function",
        reduces: true, ..Rule::BASE },
    Rule { event: "UpdateFunctionCode20150331v2", succeeded: Critical,
        summary: "trailwatch's function code replaced",
        effect: "the code decides what is checked and alerted: replaced code can alert on nothing",
        ..Rule::BASE },
    // Lambda records these with an API version in the name (the version may change), so the
    // rows match by prefix.
    Rule { event: "PutFunctionEventInvokeConfig", succeeded: Critical,
        summary: "trailwatch's asynchronous invocation settings replaced",
        effect: "the settings decide how often a failed event is retried and where it is kept",
        prefix: true, ..Rule::BASE },
    Rule { event: "UpdateFunctionEventInvokeConfig", succeeded: Critical,
        summary: "trailwatch's asynchronous invocation settings changed",
        effect: "the settings decide how often a failed event is retried and where it is kept",
        prefix: true, ..Rule::BASE },
    Rule { event: "DeleteFunctionEventInvokeConfig", succeeded: Critical,
        summary: "trailwatch's asynchronous invocation settings deleted",
        effect: "failed events are no longer kept in the failure queue: they are lost",
        reduces: true, prefix: true, ..Rule::BASE },
];

const SERVICE: Service = Service {
    event_source: "lambda.amazonaws.com",
    bus_source: "aws.lambda",
    name: "Lambda (trailwatch's function)",
    rules: RULES,
    guard: &[Guard {
        events: &[
            "DeleteFunction20150331",
            "UpdateFunctionConfiguration20150331v2",
            "PutFunctionConcurrency20171031",
            "RemovePermission20150331v2",
            "UpdateFunctionCode20150331v2",
            "PutFunctionEventInvokeConfig*",
            "UpdateFunctionEventInvokeConfig*",
            "DeleteFunctionEventInvokeConfig*",
        ],
        path: &["functionName"],
        // The name, an ARN or `ACCOUNT:function:NAME`, with or without a qualifier.
        values: &[GuardValue::Wildcard("*${FunctionName}*")],
    }],
};

#[async_trait]
impl Monitor for Lambda {
    fn service(&self) -> &'static Service {
        &SERVICE
    }

    /// `functionName`: a name, an ARN (possibly with a qualifier) or `ACCOUNT:function:NAME`.
    fn resource(&self, call: &ApiCall) -> Option<Resource> {
        let given = call.named_by(&["functionName"])?;
        let arn = Arn::parse(&given).filter(|arn| arn.service == "lambda");
        let name = match &arn {
            Some(arn) => arn
                .resource_after("function:")
                .unwrap_or_default()
                .to_string(),
            None => match given.split_once(":function:") {
                Some((_, rest)) => rest.to_string(),
                None => given.clone(),
            },
        };
        // A qualifier (`NAME:VERSION`) names a version of the same function.
        let name = name.split(':').next().unwrap_or_default().to_string();
        let account = given
            .split_once(":function:")
            .map(|(before, _)| before.rsplit(':').next().unwrap_or_default().to_string());
        let arn = arn.or_else(|| {
            Arn::parse(&format!(
                "arn:{}:lambda:{}:{}:function:{name}",
                call.partition(),
                call.region.as_deref().unwrap_or_default(),
                account
                    .as_deref()
                    .or(call.account.as_deref())
                    .unwrap_or_default()
            ))
            .filter(|arn| arn.region.is_some() && arn.account.is_some())
        });
        Some(Resource::named_in(
            ResourceKind::Function,
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
        match call.number_parameter("reservedConcurrentExecutions") {
            Some(0) if call.name == "PutFunctionConcurrency20171031" => {
                vec!["reserved concurrency set to 0: every invocation is throttled".to_string()]
            }
            _ => Vec::new(),
        }
    }

    fn undo(&self, facts: &StepFacts<'_>) -> Option<NextStep> {
        let function = command::function(facts.resource.and_then(|r| r.name.as_deref()));
        let region = command::region(facts.resource.and_then(|r| r.region.as_deref()));
        (facts.call.name == "PutFunctionConcurrency20171031").then(|| {
            command::step(
                "Remove the reserved concurrency so invocations run again",
                format!("aws lambda delete-function-concurrency --function-name {function} --region {region}"),
                &[&function, &region],
            )
        })
    }

    fn next_steps(&self, facts: &StepFacts<'_>) -> Vec<NextStep> {
        let function = command::function(facts.resource.and_then(|r| r.name.as_deref()));
        let region = command::region(facts.resource.and_then(|r| r.region.as_deref()));
        let redeploy = redeploy("the function, its configuration and its permissions");
        let gap = NextStep::say("Until it is restored nothing is checked: review CloudTrail event history for changes to your trails since this call.");
        match facts.call.name.as_str() {
            "PutFunctionConcurrency20171031" => vec![confirm(facts), gap],
            "UpdateFunctionConfiguration20150331v2" => vec![
                command::step(
                    "Compare the configuration (environment, role, timeout) with the template",
                    format!("aws lambda get-function-configuration --function-name {function} --region {region}"),
                    &[&function, &region],
                ),
                redeploy,
                confirm(facts),
            ],
            _ => vec![redeploy, confirm(facts), gap],
        }
    }
}

//! trailwatch's own CloudWatch alarms: the health alarms that tell the health topic when part
//! of trailwatch stops working (the dead man's switch, the heartbeat, errors, parked events).
//! Disabled, deleted, rewritten or muted, that failure is silent, so only calls on trailwatch's
//! own alarms are watched ([`crate::own`]). CloudWatch records its calls as
//! `monitoring.amazonaws.com`.

use async_trait::async_trait;
use serde_json::Value;

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

pub struct CloudWatch;

#[rustfmt::skip]
const RULES: &[Rule] = &[
    Rule { event: "DisableAlarmActions", succeeded: Critical,
        summary: "trailwatch's alarms silenced",
        effect: "the alarms still change state but notify nobody",
        reduces: true, ..Rule::BASE },
    Rule { event: "DeleteAlarms", succeeded: Critical,
        summary: "trailwatch's alarms deleted",
        effect: "what the alarms watched fails without a word",
        reduces: true, ..Rule::BASE },
    Rule { event: "PutMetricAlarm", succeeded: Critical, weakened: Some(Critical),
        summary: "trailwatch's alarm rewritten",
        weakened_summary: "trailwatch's alarm rewritten to notify nobody",
        effect: "an alarm's metric, threshold and actions decide whether a failure is told",
        weakens_when: "actions disabled, or no alarm action", ..Rule::BASE },
    Rule { event: "PutAlarmMuteRule", succeeded: Critical,
        summary: "trailwatch's alarms muted",
        effect: "a mute rule keeps the alarms' notifications from being sent while it is active",
        reduces: true, ..Rule::BASE },
];

/// trailwatch's alarms are named `trailwatch-ID-…` (`OwnResources::owns` checks the same prefix).
const OWN_ALARMS: &[GuardValue] = &[GuardValue::Prefix("trailwatch-${Id}-")];

const SERVICE: Service = Service {
    event_source: "monitoring.amazonaws.com",
    bus_source: "aws.monitoring",
    name: "CloudWatch (trailwatch's alarms)",
    rules: RULES,
    guard: &[
        Guard {
            events: &["DisableAlarmActions", "DeleteAlarms"],
            path: &["alarmNames"],
            values: OWN_ALARMS,
        },
        Guard {
            events: &["PutMetricAlarm"],
            path: &["alarmName"],
            values: OWN_ALARMS,
        },
        Guard {
            events: &["PutAlarmMuteRule"],
            path: &["muteTargets", "alarmNames"],
            values: OWN_ALARMS,
        },
    ],
};

#[async_trait]
impl Monitor for CloudWatch {
    fn service(&self) -> &'static Service {
        &SERVICE
    }

    fn resource(&self, call: &ApiCall) -> Option<Resource> {
        self.resources(call).into_iter().next()
    }

    /// DisableAlarmActions and DeleteAlarms name several alarms (`alarmNames`), PutMetricAlarm
    /// one (`alarmName`), a mute rule its targets (`muteTargets.alarmNames`).
    fn resources(&self, call: &ApiCall) -> Vec<Resource> {
        let names: Vec<String> = match call.name.as_str() {
            "PutMetricAlarm" => call.named_by(&["alarmName"]).into_iter().collect(),
            "PutAlarmMuteRule" => strings(
                call.parameter("muteTargets")
                    .and_then(|targets| targets.get("alarmNames")),
            ),
            _ => strings(call.parameter("alarmNames")),
        };
        names
            .into_iter()
            .map(|name| {
                let arn = Arn::parse(&format!(
                    "arn:{}:cloudwatch:{}:{}:alarm:{name}",
                    call.partition(),
                    call.region.as_deref().unwrap_or_default(),
                    call.account.as_deref().unwrap_or_default()
                ))
                .filter(|arn| arn.region.is_some() && arn.account.is_some());
                Resource::named_in(ResourceKind::Alarm, call, name.clone(), name, arn)
            })
            .collect()
    }

    fn weakenings(&self, call: &ApiCall) -> Vec<Weakening> {
        if call.name != "PutMetricAlarm" {
            return Vec::new();
        }
        let mut found = Vec::new();
        if call.bool_parameter("actionsEnabled") == Some(false) {
            found.push(Weakening::new(
                "actionsEnabled=false: the alarm notifies nobody",
            ));
        }
        if strings(call.parameter("alarmActions")).is_empty() {
            found.push(Weakening::new(
                "no alarm action: the alarm notifies nobody when it fires",
            ));
        }
        found
    }

    fn watched(&self) -> Watched {
        Watched::WhenTrailwatchOwnsIt
    }

    fn undo(&self, facts: &StepFacts<'_>) -> Option<NextStep> {
        let alarm = command::Arg::checked(
            facts.resource.and_then(|r| r.name.as_deref()),
            "ALARM_NAME",
            "an alarm name",
            |name| ResourceKind::Alarm.is_valid_name(name),
        );
        let region = command::region(facts.resource.and_then(|r| r.region.as_deref()));
        (facts.call.name == "DisableAlarmActions").then(|| {
            command::step(
                "Turn the alarm's actions back on",
                format!(
                    "aws cloudwatch enable-alarm-actions --alarm-names {alarm} --region {region}"
                ),
                &[&alarm, &region],
            )
        })
    }

    fn next_steps(&self, facts: &StepFacts<'_>) -> Vec<NextStep> {
        let blind = NextStep::say("While the alarm was off, a failure of trailwatch would have gone untold: check the health topic's other alarms and the function's errors for that window.");
        match facts.call.name.as_str() {
            "DisableAlarmActions" => vec![confirm(facts), blind],
            "PutAlarmMuteRule" => vec![
                NextStep::say(
                    "Delete the mute rule (CloudWatch console, Alarms, Mute rules) or redeploy.",
                ),
                confirm(facts),
                blind,
            ],
            _ => vec![redeploy("the alarms"), confirm(facts), blind],
        }
    }
}

/// A list of strings in a request (a single string counts as a list of one).
fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(crate::call::cap)
            .collect(),
        Some(Value::String(one)) => vec![crate::call::cap(one)],
        _ => Vec::new(),
    }
}

//! The monitors: one module per watched service, one registry that everything else iterates.
//!
//! A monitor owns everything that is particular to its service: the policy rows of the calls it
//! watches ([`monitor::Rule`]), how it finds the resource in a request, its weakening checks, the state
//! lookup, and the next steps a responder takes. The rest of the pipeline never names a call:
//! [`find`] dispatches an event to its monitor and rule, the EventBridge pattern is
//! [`event_pattern`], and the policy table in docs/alerts.md is [`policy_table`], so adding a call is
//! adding a row to one module.
//!
//! | module | watches |
//! |---|---|
//! | [`cloudtrail`] | trails: logging, deletion, configuration, event and insight selectors |
//! | [`lake`] | CloudTrail Lake event data stores |
//! | [`s3`] | the bucket a trail delivers its log files to |
//! | [`kms`] | the key a trail encrypts its log files with |
//! | [`logs`] | the CloudWatch Logs group a trail delivers to |
//! | [`events`] | trailwatch's own EventBridge rules |
//! | [`sns`] | trailwatch's own SNS topics |
//! | [`lambda`] | trailwatch's own function |
//!
//! Which calls matter is each monitor's [`monitor::Watched`]: a bucket, key or log group matters only when
//! a trail uses it, which [`delivery`] decides from DescribeTrails, not from names; a rule, topic
//! or function only when it is trailwatch's own ([`crate::own`]). trailwatch's own key is the
//! [`kms`] monitor's too: a call on it is self-protection, whatever a trail uses.

pub mod cloudtrail;
pub mod coverage;
pub mod delivery;
pub mod events;
pub mod kms;
pub mod lake;
pub mod lambda;
pub mod logs;
pub mod monitor;
pub mod s3;
pub mod selectors;
pub mod sns;
pub mod steps;

use serde_json::{json, Value};

use crate::call::ApiCall;
use monitor::{Monitor, Rule};

/// Every monitor, in the order the policy table and the event pattern list them.
pub static REGISTRY: [&dyn Monitor; 8] = [
    &cloudtrail::CloudTrail,
    &lake::Lake,
    &s3::S3,
    &kms::Kms,
    &logs::Logs,
    &events::Events,
    &sns::Sns,
    &lambda::Lambda,
];

/// The monitor and rule for a call, or `None` when trailwatch does not watch it.
pub fn find(call: &ApiCall) -> Option<(&'static dyn Monitor, &'static Rule)> {
    REGISTRY
        .iter()
        .filter(|monitor| monitor.service().event_source == call.source)
        .find_map(|monitor| {
            monitor
                .service()
                .rules
                .iter()
                .find(|rule| rule.event == call.name)
                .map(|rule| (*monitor, rule))
        })
}

/// Every monitored call as (event source, event name), in registry order.
pub fn monitored_calls() -> Vec<(&'static str, &'static str)> {
    REGISTRY
        .iter()
        .flat_map(|monitor| {
            monitor
                .service()
                .rules
                .iter()
                .map(|rule| (monitor.service().event_source, rule.event))
        })
        .collect()
}

/// The EventBridge pattern that delivers exactly the monitored calls' events: one `$or` branch
/// per event source, so a name is matched only with its own source (an `s3.amazonaws.com`
/// event called `DeleteTrail` does not match). `bootstrap --event-pattern` prints it; the
/// template's rules must use it verbatim.
pub fn event_pattern() -> Value {
    let mut bus_sources: Vec<&str> = Vec::new();
    let mut branches: Vec<(&str, Vec<&str>)> = Vec::new();
    for monitor in REGISTRY {
        push_new(&mut bus_sources, monitor.service().bus_source);
        let names = monitor.service().rules.iter().map(|rule| rule.event);
        match branches
            .iter_mut()
            .find(|(source, _)| *source == monitor.service().event_source)
        {
            Some((_, existing)) => existing.extend(names),
            None => branches.push((monitor.service().event_source, names.collect())),
        }
    }
    let branches: Vec<Value> = branches
        .into_iter()
        .map(|(source, names)| json!({"eventSource": [source], "eventName": names}))
        .collect();
    json!({
        "source": bus_sources,
        "detail-type": [crate::parse::CLOUDTRAIL_API_CALL],
        "detail": { "$or": branches }
    })
}

fn push_new<'a>(list: &mut Vec<&'a str>, item: &'a str) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// The policy table of docs/alerts.md, one row per monitored call (`bootstrap --policy-table`).
pub fn policy_table() -> String {
    let mut table = String::from(
        "| service | call | succeeded | weakening (when) | denied | other failure |\n\
         |---|---|---|---|---|---|\n",
    );
    for monitor in REGISTRY {
        for rule in monitor.service().rules {
            let weakened = match rule.weakened {
                Some(severity) => format!("{severity}: {}", rule.weakens_when),
                None => "—".to_string(),
            };
            table.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                monitor.service().name,
                rule.event,
                rule.succeeded,
                weakened,
                rule.denied,
                rule.failed
            ));
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_call_has_one_rule_and_complete_text() {
        let calls = monitored_calls();
        for (index, call) in calls.iter().enumerate() {
            assert!(!calls[index + 1..].contains(call), "{call:?} twice");
        }
        for monitor in REGISTRY {
            for rule in monitor.service().rules {
                assert!(!rule.summary.is_empty(), "{}", rule.event);
                assert!(!rule.effect.is_empty(), "{}", rule.event);
                assert_eq!(
                    rule.weakened.is_some(),
                    !rule.weakens_when.is_empty() && !rule.weakened_summary.is_empty(),
                    "{}: a weakened column needs its description and title",
                    rule.event
                );
            }
        }
    }

    #[test]
    fn the_pattern_lists_every_source_and_call() {
        let pattern = event_pattern();
        let branches = pattern["detail"]["$or"].as_array().unwrap();
        let names: usize = branches
            .iter()
            .map(|b| b["eventName"].as_array().unwrap().len())
            .sum();
        assert_eq!(names, monitored_calls().len());
        assert_eq!(
            branches.len(),
            7,
            "cloudtrail (with lake), s3, kms, logs, events, sns, lambda"
        );
        for source in [
            "aws.cloudtrail",
            "aws.s3",
            "aws.kms",
            "aws.logs",
            "aws.events",
            "aws.sns",
            "aws.lambda",
        ] {
            assert!(pattern["source"]
                .as_array()
                .unwrap()
                .contains(&json!(source)));
        }
    }
}

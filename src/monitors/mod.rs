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
//! | [`events`] | trailwatch's own EventBridge rules and central bus |
//! | [`sns`] | trailwatch's own SNS topics and their subscriptions |
//! | [`lambda`] | trailwatch's own function |
//! | [`sqs`] | trailwatch's own queues of parked events |
//! | [`cloudwatch`] | trailwatch's own alarms |
//! | [`iam`] | trailwatch's own role (us-east-1 only: IAM is global) |
//! | [`ssm`] | trailwatch's heartbeat parameter (its own heartbeat is [`crate::heartbeat`]'s) |
//! | [`config`] | AWS Config, the other recorder: its recorder, delivery channel, retention, rules |
//! | [`securityhub`] | AWS Security Hub: enabled, its administrator, standards, controls, automation rules |
//! | [`guardduty`] | Amazon GuardDuty: its detector, protection plans, members, filters, trusted lists, exports |
//! | [`organizations`] | AWS Organizations: an account leaving, trusted access for the recorders (us-east-1 only) |
//!
//! Which calls matter is each monitor's [`monitor::Watched`]: a bucket, key or log group matters only when
//! a trail uses it, which [`delivery`] decides from DescribeTrails, not from names; a rule, topic
//! or function only when it is trailwatch's own ([`crate::own`]). trailwatch's own key is the
//! [`kms`] monitor's too: a call on it is self-protection, whatever a trail uses.

pub mod cloudtrail;
pub mod cloudwatch;
pub mod config;
pub mod coverage;
pub mod delivery;
pub mod events;
pub mod guardduty;
pub mod iam;
pub mod kms;
pub mod lake;
pub mod lambda;
pub mod logs;
pub mod monitor;
pub mod organizations;
pub mod s3;
pub mod securityhub;
pub mod selectors;
pub mod sns;
pub mod sqs;
pub mod ssm;
pub mod steps;

use serde_json::{json, Value};

use crate::call::ApiCall;
use monitor::{GuardValue, Monitor, Rule, Service};

/// Every monitor, in the order the policy table and the event pattern list them.
pub static REGISTRY: [&dyn Monitor; 16] = [
    &cloudtrail::CloudTrail,
    &lake::Lake,
    // The heartbeat's branch stays in the first alert rule, with CloudTrail's own calls.
    &ssm::Ssm,
    &s3::S3,
    &kms::Kms,
    &logs::Logs,
    &events::Events,
    &sns::Sns,
    &lambda::Lambda,
    &sqs::Sqs,
    &cloudwatch::CloudWatch,
    &iam::Iam,
    &config::Config,
    &securityhub::SecurityHub,
    &guardduty::GuardDuty,
    &organizations::Organizations,
];

/// The monitor and rule for a call, or `None` when trailwatch does not watch it.
pub fn find(call: &ApiCall) -> Option<(&'static dyn Monitor, &'static Rule)> {
    find_named(&call.source, &call.name).filter(|(_, rule)| rule.watches(call))
}

/// The monitor and rule for an event source and name, as the registry names them.
fn find_named(source: &str, name: &str) -> Option<(&'static dyn Monitor, &'static Rule)> {
    REGISTRY
        .iter()
        .filter(|monitor| monitor.service().event_source == source)
        .find_map(|monitor| {
            monitor
                .service()
                .rules
                .iter()
                .find(|rule| rule.names(name))
                .map(|rule| (*monitor, rule))
        })
}

/// The service and rule that watch `name` from `source`: where only the registry's own words
/// may go (a finding's GeneratorId and types).
pub fn rule_named(source: &str, name: &str) -> Option<(&'static Service, &'static Rule)> {
    find_named(source, name).map(|(monitor, rule)| (monitor.service(), rule))
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

/// The EventBridge patterns that deliver exactly the monitored calls' events: one `$or` branch
/// per event source, so a name is matched only with its own source (an `s3.amazonaws.com` event
/// called `DeleteTrail` does not match), split branch by branch over as many rules as
/// [`MAX_PATTERN_CHARS`] needs, in registry order. `bootstrap --event-patterns` prints them; the
/// template's alert rules (`trailwatch-ID`, then `trailwatch-ID-2`, ...) must each use theirs
/// verbatim, and the test `every_generated_pattern_fits_its_rule` says when a new rule is due.
pub fn event_patterns() -> Vec<Value> {
    split_into_patterns(event_branches())
}

/// Whether `given` is one of the alert rules' patterns.
pub fn is_event_pattern(given: &Value) -> bool {
    event_patterns().iter().any(|pattern| pattern == given)
}

/// Which of [`event_patterns`] the alert rule named `name` carries: `trailwatch-ID` (or its
/// central bus's `trailwatch-ID-central`) the first, `...-2` the second, and so on.
pub fn event_pattern_of_rule(name: &str) -> usize {
    name.rsplit_once('-')
        // A rule's number is one or two digits; the stack id's last group (twelve) is not one.
        .filter(|(_, last)| last.len() <= 2)
        .and_then(|(_, last)| last.parse::<usize>().ok())
        .filter(|n| *n >= 2)
        .map_or(0, |n| n - 1)
}

/// One `(EventBridge source, branch)` per event source, with every call of every monitor of it;
/// a call watched only when its request holds something ([`Rule::only_when`]) has a branch of
/// its own, after its source's.
fn event_branches() -> Vec<(&'static str, Value)> {
    let mut branches: Vec<(&str, &str, Vec<Value>)> = Vec::new();
    let mut narrowed: Vec<(&str, Value)> = Vec::new();
    for monitor in REGISTRY {
        let service = monitor.service();
        let name_of = |rule: &Rule| match rule.prefix {
            true => json!({ "prefix": rule.event }),
            false => json!(rule.event),
        };
        for rule in service.rules.iter().filter(|rule| rule.only_when.is_some()) {
            let filter = rule.only_when.expect("filtered on it");
            narrowed.push((
                service.bus_source,
                json!({
                    "eventSource": [service.event_source],
                    "eventName": [name_of(rule)],
                    "requestParameters": filter.pattern(),
                }),
            ));
        }
        let names = service
            .rules
            .iter()
            .filter(|rule| rule.only_when.is_none())
            .map(name_of);
        match branches
            .iter_mut()
            .find(|(_, source, _)| *source == service.event_source)
        {
            Some((_, _, existing)) => existing.extend(names),
            None => branches.push((service.bus_source, service.event_source, names.collect())),
        }
    }
    let mut all: Vec<(&str, Value)> = Vec::new();
    for (bus, source, names) in branches {
        if !names.is_empty() {
            all.push((bus, json!({"eventSource": [source], "eventName": names})));
        }
        all.extend(
            narrowed
                .iter()
                .filter(|(_, branch)| branch["eventSource"][0] == source)
                .cloned(),
        );
    }
    all
}

/// EventBridge's default quota for an event pattern (adjustable): "Event pattern size —
/// 2,048 — Maximum size of the event pattern, in characters" (Amazon EventBridge quotas).
pub const MAX_PATTERN_CHARS: usize = 2048;

/// The guard rules' patterns: every call on trailwatch's own resources that some monitor's
/// [`monitor::Guard`] names, branch by branch, with the template's placeholders (`${Id}`,
/// `${AWS::StackName}`, `${KeyId}`, ...) left for `!Sub`, split over as many rules as
/// [`MAX_PATTERN_CHARS`] needs once the placeholders are filled with the longest values they
/// take. `bootstrap --guard-patterns` prints them; the template's guard rules must use them
/// verbatim, one rule each.
pub fn guard_patterns() -> Vec<Value> {
    let mut branches: Vec<(&str, Value)> = Vec::new();
    for monitor in REGISTRY {
        let service = monitor.service();
        for guard in service.guard {
            let names: Vec<Value> = guard
                .events
                .iter()
                .map(|event| match event.strip_suffix('*') {
                    Some(prefix) => json!({ "prefix": prefix }),
                    None => json!(event),
                })
                .collect();
            let values: Vec<Value> = guard
                .values
                .iter()
                .map(|value| match value {
                    GuardValue::Exact(text) => json!(text),
                    GuardValue::Prefix(text) => json!({ "prefix": text }),
                    GuardValue::Wildcard(text) => json!({ "wildcard": text }),
                })
                .collect();
            let mut parameters = Value::Array(values);
            for key in guard.path.iter().rev() {
                parameters = json!({ *key: parameters });
            }
            branches.push((
                service.bus_source,
                json!({
                    "eventSource": [service.event_source],
                    "eventName": names,
                    "requestParameters": parameters,
                }),
            ));
        }
    }
    split_into_patterns(branches)
}

/// The longest text each placeholder takes (a stack name of 128, a function or role name of
/// 64, a UUID), for measuring a pattern as EventBridge will see it.
pub fn filled_at_most(pattern: &str) -> String {
    pattern
        .replace("${Id}", &"a".repeat(36))
        .replace("${AWS::StackName}", &"s".repeat(128))
        .replace("${AWS::Partition}", "aws-us-gov")
        .replace("${AWS::Region}", "ap-southeast-10")
        .replace("${AWS::AccountId}", "111122223333")
        .replace("${AWS::URLSuffix}", "amazonaws.com.cn")
        .replace("${KeyId}", &"k".repeat(36))
        .replace("${FunctionName}", &"f".repeat(64))
        .replace("${RoleName}", &"r".repeat(64))
}

/// Patterns of `(source, branch)`es, in order, each as many branches as fit in
/// [`MAX_PATTERN_CHARS`] when filled at most.
fn split_into_patterns(branches: Vec<(&str, Value)>) -> Vec<Value> {
    let pattern = |part: &[(&str, Value)]| {
        let mut sources: Vec<&str> = Vec::new();
        for (source, _) in part {
            push_new(&mut sources, source);
        }
        let branches: Vec<&Value> = part.iter().map(|(_, branch)| branch).collect();
        json!({
            "source": sources,
            "detail-type": [crate::parse::CLOUDTRAIL_API_CALL],
            "detail": { "$or": branches }
        })
    };
    let fits = |part: &[(&str, Value)]| {
        filled_at_most(&pattern(part).to_string()).len() <= MAX_PATTERN_CHARS
    };
    let mut patterns = Vec::new();
    let mut current: Vec<(&str, Value)> = Vec::new();
    for branch in branches {
        current.push(branch);
        if !fits(&current) && current.len() > 1 {
            let last = current.pop().expect("just pushed");
            patterns.push(pattern(&current));
            current = vec![last];
        }
    }
    if !current.is_empty() {
        patterns.push(pattern(&current));
    }
    patterns
}

/// Whether `given` is one of the guard patterns with its placeholders filled in, whatever with.
pub fn is_guard_pattern(given: &Value) -> bool {
    guard_patterns().iter().any(|pattern| fills(pattern, given))
}

/// Whether `given` is `template` with each `${...}` placeholder replaced by some text.
fn fills(template: &Value, given: &Value) -> bool {
    match (template, given) {
        (Value::String(template), Value::String(given)) => fills_text(template, given),
        (Value::Array(template), Value::Array(given)) => {
            template.len() == given.len() && template.iter().zip(given).all(|(t, g)| fills(t, g))
        }
        (Value::Object(template), Value::Object(given)) => {
            template.len() == given.len()
                && template
                    .iter()
                    .all(|(key, t)| given.get(key).is_some_and(|g| fills(t, g)))
        }
        (template, given) => template == given,
    }
}

/// Text against a template string: its literal parts in order, something in each placeholder.
fn fills_text(template: &str, given: &str) -> bool {
    let mut rest = given;
    let mut parts = template.split("${");
    let first = parts.next().unwrap_or_default();
    let Some(after) = rest.strip_prefix(first) else {
        return false;
    };
    rest = after;
    for part in parts {
        // `NAME}literal`: skip at least one character for the placeholder, then the literal.
        let literal = part.split_once('}').map_or("", |(_, literal)| literal);
        if rest.is_empty() {
            return false;
        }
        if literal.is_empty() {
            rest = "";
            continue;
        }
        let skip = rest.chars().next().map_or(0, char::len_utf8);
        match rest[skip..].find(literal) {
            Some(at) => rest = &rest[skip + at + literal.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// What a call reduced: its monitor's weakening checks, and the registry's own: a PutRule
/// that gives a rule a pattern other than the ones trailwatch generates (a rule of someone
/// else's is never looked at: the events monitor watches only trailwatch's).
pub fn weakenings(monitor: &dyn Monitor, call: &ApiCall) -> Vec<monitor::Weakening> {
    let mut found = monitor.weakenings(call);
    if call.source == events::SOURCE && call.name == "PutRule" {
        if let Some(pattern) = call.parameter("eventPattern") {
            // CloudTrail records the pattern as the JSON text it was given.
            let pattern = match pattern {
                Value::String(text) => serde_json::from_str(text).ok(),
                other => Some(other.clone()),
            };
            let ours = pattern
                .as_ref()
                .is_some_and(|p| is_event_pattern(p) || is_guard_pattern(p));
            if !ours {
                found.push(monitor::Weakening::new(
                    "the event pattern is not one trailwatch generates: calls it should watch may no longer match",
                ));
            }
        }
    }
    found
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
    fn every_generated_pattern_fits_its_rule() {
        let patterns = event_patterns();
        // The template has one alert rule per pattern (test_template.py compares them): a
        // registry that outgrows them needs another rule there.
        assert_eq!(
            patterns.len(),
            2,
            "the template's alert rules are trailwatch-ID and trailwatch-ID-2"
        );
        for pattern in &patterns {
            let text = pattern.to_string();
            assert!(
                text.len() <= MAX_PATTERN_CHARS,
                "an alert pattern is {} characters",
                text.len()
            );
        }
        // Each source's branch is in exactly one pattern, every call in one branch.
        let branches: Vec<&Value> = patterns
            .iter()
            .flat_map(|p| p["detail"]["$or"].as_array().unwrap())
            .collect();
        let names: usize = branches
            .iter()
            .map(|b| b["eventName"].as_array().unwrap().len())
            .sum();
        assert_eq!(names, monitored_calls().len());
        let guards = guard_patterns();
        for guard in &guards {
            let filled = filled_at_most(&guard.to_string());
            assert!(
                !filled.contains("${"),
                "a placeholder filled_at_most does not fill: {filled}"
            );
            assert!(
                filled.len() <= MAX_PATTERN_CHARS,
                "a guard pattern is {} characters",
                filled.len()
            );
        }
        // Every guard branch is in exactly one pattern.
        let branches: usize = guards
            .iter()
            .map(|g| g["detail"]["$or"].as_array().unwrap().len())
            .sum();
        let declared: usize = REGISTRY.iter().map(|m| m.service().guard.len()).sum();
        assert_eq!(branches, declared);
    }

    #[test]
    fn a_pattern_filled_in_is_recognised_and_another_is_not() {
        let filled: Value = serde_json::from_str(
            &guard_patterns()[0]
                .to_string()
                .replace("${Id}", "5e4d3c2b-1a09-4f8e-9d7c-6b5a4c3d2e1f")
                .replace("${AWS::StackName}", "trailwatch")
                .replace("${AWS::Partition}", "aws")
                .replace("${AWS::Region}", "eu-west-1")
                .replace("${AWS::AccountId}", "111122223333")
                .replace("${AWS::URLSuffix}", "amazonaws.com")
                .replace("${KeyId}", "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")
                .replace("${FunctionName}", "trailwatch-AlertFunction-1")
                .replace("${RoleName}", "trailwatch-AlertFunctionRole-1"),
        )
        .unwrap();
        assert!(is_guard_pattern(&filled));
        let mut narrowed = filled.clone();
        narrowed["detail"]["$or"].as_array_mut().unwrap().pop();
        assert!(!is_guard_pattern(&narrowed));
        assert!(!is_guard_pattern(&event_patterns()[0]));
        assert!(fills_text("trailwatch-${Id}-x", "trailwatch-é-x"));
        assert!(!fills_text("trailwatch-${Id}-x", "trailwatch--x"));
        assert!(!fills_text("trailwatch-${Id}", "other"));
    }

    #[test]
    fn the_patterns_list_every_source_and_call() {
        let patterns = event_patterns();
        let sources: Vec<&Value> = patterns
            .iter()
            .flat_map(|p| p["source"].as_array().unwrap())
            .collect();
        let branches: usize = patterns
            .iter()
            .map(|p| p["detail"]["$or"].as_array().unwrap().len())
            .sum();
        assert_eq!(
            branches, 16,
            "cloudtrail (with lake), s3, kms, logs, events, sns, lambda, sqs, monitoring, iam, ssm, config, securityhub, securityhub's BatchUpdateFindings on trailwatch's findings, guardduty, organizations"
        );
        for source in [
            "aws.cloudtrail",
            "aws.s3",
            "aws.kms",
            "aws.logs",
            "aws.events",
            "aws.sns",
            "aws.lambda",
            "aws.sqs",
            "aws.monitoring",
            "aws.iam",
            "aws.ssm",
            "aws.config",
            "aws.securityhub",
            "aws.guardduty",
            "aws.organizations",
        ] {
            assert_eq!(
                sources.iter().filter(|s| **s == &json!(source)).count(),
                1,
                "{source} in one pattern"
            );
        }
        // The heartbeat (an SSM call) and CloudTrail's own calls stay in the first rule, which
        // the forwarder's quiet alarm and the heartbeat watch.
        let first = patterns[0]["source"].as_array().unwrap();
        assert!(first.contains(&json!("aws.ssm")) && first.contains(&json!("aws.cloudtrail")));
        // A call watched only on trailwatch's findings has its own branch, with the filter.
        let narrowed: Vec<&Value> = patterns
            .iter()
            .flat_map(|p| p["detail"]["$or"].as_array().unwrap())
            .filter(|branch| branch.get("requestParameters").is_some())
            .collect();
        assert_eq!(
            narrowed,
            [&json!({
                "eventSource": ["securityhub.amazonaws.com"],
                "eventName": ["BatchUpdateFindings"],
                "requestParameters": {"FindingIdentifiers": {"Id": [{"prefix": "trailwatch/"}]}}
            })]
        );
    }

    #[test]
    fn a_narrowed_call_is_watched_only_when_its_request_holds_the_prefix() {
        let call = |request: Value| ApiCall {
            request_parameters: Some(request),
            ..ApiCall::bare(securityhub::SOURCE, "BatchUpdateFindings", "111122223333")
        };
        let ours = json!({"FindingIdentifiers": [
            {"Id": "arn:aws:securityhub:us-east-1:111122223333:finding/x", "ProductArn": "p"},
            {"Id": "trailwatch/111122223333/us-east-1/event/e1", "ProductArn": "p"}]});
        let theirs =
            json!({"FindingIdentifiers": [{"Id": "arn:aws:guardduty:x", "ProductArn": "p"}]});
        assert!(find(&call(ours)).is_some());
        assert!(find(&call(theirs)).is_none());
        assert!(find(&call(
            json!({"FindingIdentifiers": "trailwatch/not-an-array-of-objects"})
        ))
        .is_none());
        assert!(find(&ApiCall {
            request_parameters: None,
            ..call(json!({}))
        })
        .is_none());
    }

    #[test]
    fn each_alert_rule_knows_its_pattern_by_name() {
        assert_eq!(
            event_pattern_of_rule("trailwatch-5e4d3c2b-1a09-4f8e-9d7c-6b5a4c3d2e1f"),
            0
        );
        assert_eq!(
            event_pattern_of_rule("trailwatch-5e4d3c2b-1a09-4f8e-9d7c-6b5a4c3d2e1f-2"),
            1
        );
        assert_eq!(
            event_pattern_of_rule("tw/trailwatch-5e4d3c2b-1a09-4f8e-9d7c-6b5a4c3d2e1f-central"),
            0
        );
        assert_eq!(
            event_pattern_of_rule("tw/trailwatch-5e4d3c2b-1a09-4f8e-9d7c-6b5a4c3d2e1f-central-2"),
            1
        );
        // A stack id whose last group is all digits is not a rule number.
        assert_eq!(
            event_pattern_of_rule("trailwatch-5e4d3c2b-1a09-4f8e-9d7c-123456789012"),
            0
        );
    }
}

//! The monitors: one module per watched service, one registry that everything else iterates.
//!
//! A monitor owns everything that is particular to its service: the policy rows of the calls it
//! watches ([`Rule`]), how it finds the resource in a request, its weakening checks, the state
//! lookup, and the next steps a responder takes. The rest of the pipeline never names a call:
//! [`find`] dispatches an event to its monitor and rule, the EventBridge pattern is
//! [`event_pattern`], and the README's policy table is [`policy_table`], so adding a call is
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
//! Which calls matter is each monitor's [`Watched`]: a bucket, key or log group matters only when
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
pub mod s3;
pub mod selectors;
pub mod sns;

use async_trait::async_trait;
use serde_json::{json, Value};

use crate::alert::{code, NextStep};
use crate::call::ApiCall;
use crate::enrichment::Enrichment;
use crate::lookup::Lookups;
use crate::resource::Resource;
use crate::severity::Severity::{self, *};

/// One monitored call and the severity of each way it can turn out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// `eventName`, e.g. `StopLogging`.
    pub event: &'static str,
    /// The call succeeded and, for calls with a weakening check, weakened nothing.
    pub succeeded: Severity,
    /// The call succeeded and its monitor's weakening check found a reduction; `None` for calls
    /// without a check.
    pub weakened: Option<Severity>,
    /// The call failed with an access denial: someone tried.
    pub denied: Severity,
    /// The call failed for any other reason.
    pub failed: Severity,
    /// Title of a successful call's alert.
    pub summary: &'static str,
    /// Title when the call weakened something.
    pub weakened_summary: &'static str,
    /// What a successful call means, for the reasons.
    pub effect: &'static str,
    /// When the weakening check fires, in a few words, for the README table.
    pub weakens_when: &'static str,
    /// Whether every success reduces what is recorded or kept (a stop, a delete): such calls
    /// are never downgraded for a trusted principal.
    pub reduces: bool,
    /// Whether a reducing outcome is followed by the coverage verdict: is any multi-region
    /// trail still recording the account?
    pub checks_coverage: bool,
}

impl Rule {
    /// The defaults rows start from: a change that needs a look but reduces nothing.
    pub const BASE: Rule = Rule {
        event: "",
        succeeded: Low,
        weakened: None,
        denied: High,
        failed: Low,
        summary: "",
        weakened_summary: "",
        effect: "",
        weakens_when: "",
        reduces: false,
        checks_coverage: false,
    };
}

/// One thing a weakening check found, with a severity when the finding is worse than the
/// rule's `weakened` column (a one-day lifecycle rule is worse than a 90-day one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Weakening {
    pub reason: String,
    pub severity: Option<Severity>,
    /// The command-line flags that undo it (placeholders in capitals where the previous value
    /// is not recorded), when the monitor knows them.
    pub undo: Option<&'static str>,
}

impl Weakening {
    pub fn new(reason: impl Into<String>) -> Weakening {
        Weakening {
            reason: reason.into(),
            severity: None,
            undo: None,
        }
    }

    pub fn at(severity: Severity, reason: impl Into<String>) -> Weakening {
        Weakening {
            severity: Some(severity),
            ..Weakening::new(reason)
        }
    }

    pub fn undone_by(self, flags: &'static str) -> Weakening {
        Weakening {
            undo: Some(flags),
            ..self
        }
    }
}

/// Which column of the table applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Weakened,
    Denied,
    Failed,
}

/// What a monitor's next steps are built from.
pub struct StepFacts<'a> {
    pub call: &'a ApiCall,
    pub outcome: Outcome,
    pub resource: Option<&'a Resource>,
    pub enrichment: &'a Enrichment,
    /// Who made the call, as the alert names them.
    pub who: &'a str,
}

/// Where a monitor's calls come from, and its rows of the policy.
#[derive(Debug)]
pub struct Service {
    /// The CloudTrail `eventSource` of the calls, e.g. `s3.amazonaws.com`.
    pub event_source: &'static str,
    /// The EventBridge `source` those events arrive with, e.g. `aws.s3`.
    pub bus_source: &'static str,
    /// The service as the README's policy table names it.
    pub name: &'static str,
    pub rules: &'static [Rule],
}

#[async_trait]
pub trait Monitor: Sync {
    fn service(&self) -> &'static Service;
    /// The resource the request names, when it names one.
    fn resource(&self, call: &ApiCall) -> Option<Resource>;
    /// What a successful call reduced; empty when it reduced nothing. Only rules with a
    /// `weakened` column are asked; monitors without such rules keep the default.
    fn weakenings(&self, _call: &ApiCall) -> Vec<Weakening> {
        Vec::new()
    }
    /// A failure that says nothing about intent (creating a trail that already exists), with
    /// why: such a call is INFORMATIONAL.
    fn harmless_failure(&self, _call: &ApiCall) -> Option<&'static str> {
        None
    }
    /// What the resource's live state adds to the reasons (how long logging was off, whether a
    /// bucket that was set is the one the trail uses).
    fn state_notes(&self, _call: &ApiCall, _enrichment: &Enrichment) -> Vec<String> {
        Vec::new()
    }
    /// Which of the calls on this service's resources matter.
    fn watched(&self) -> Watched {
        Watched::Always
    }
    /// The resource's live state, within the lookups' deadline. The default looks nothing up:
    /// trailwatch's own rules, topics and function are never a trail's.
    async fn look_up(
        &self,
        _call: &ApiCall,
        _resource: &Resource,
        _lookups: &Lookups<'_>,
    ) -> Enrichment {
        Enrichment::default()
    }
    /// What the responder does next, first action first, for a successful or weakening call
    /// (denied and failed calls get the same steps everywhere).
    fn next_steps(&self, facts: &StepFacts<'_>) -> Vec<NextStep>;
}

/// Which calls on a monitor's resources matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watched {
    /// Every call (trails, event data stores).
    Always,
    /// Calls on a resource a trail delivers through (a bucket, key or log group), or on one of
    /// trailwatch's own; the rest are ignored once the lookup finds no trail using it.
    WhenATrailUsesIt,
    /// Calls on trailwatch's own resources only (its rules, topics and function).
    WhenTrailwatchOwnsIt,
}

/// Every monitor, in the order the README and the event pattern list them.
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

/// The README's policy table, one row per monitored call (`bootstrap --policy-table`).
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

/// Log files and events kept for less than this are a finding (PCI DSS and most audit regimes ask
/// for a year).
pub const MIN_RETENTION_DAYS: i64 = 365;
/// Expiry this soon destroys evidence before a weekly review would notice.
pub const CRITICAL_RETENTION_DAYS: i64 = 7;

/// The step for any change someone made on purpose or not: ask the principal's owner, or, for
/// a call an AWS service made on someone's behalf, whoever started that service's work.
pub fn confirm(facts: &StepFacts<'_>) -> NextStep {
    match facts.call.actor.invoked_by.as_deref() {
        Some(service) => NextStep::say(format!(
            "Find out who had {} make this change (its own history, below) and whether it was authorised; if not, treat it as a security incident.",
            code(service)
        )),
        None => NextStep::say(format!(
            "Confirm with the owner of {} that this was an authorised change; if not, treat it as a security incident.",
            code(facts.who)
        )),
    }
}

/// The step that restores any of trailwatch's own resources exactly as the template defines
/// them; `what` names the resource and what comes back with it.
pub fn redeploy(what: &str) -> NextStep {
    NextStep::say(format!(
        "Redeploy the trailwatch stack (sam deploy, or update the StackSet) to restore {what} as the template defines them."
    ))
}

/// A value that can go into a shell command a responder may paste: letters, digits and
/// `. _ - : /`, not starting with `-`. Anything else gets a placeholder instead.
pub fn shell_safe(value: Option<&str>) -> Option<&str> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':' | '/');
    value.filter(|text| {
        !text.is_empty() && text.len() <= 512 && !text.starts_with('-') && text.chars().all(allowed)
    })
}

/// The region for a command: a real region's shape, or the `REGION` placeholder.
pub fn shell_region(region: Option<&str>) -> &str {
    region
        .filter(|r| crate::links::is_region(r))
        .unwrap_or("REGION")
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

    #[test]
    fn shell_values_carry_no_shell_syntax() {
        assert_eq!(shell_safe(Some("org_audit.trail")), Some("org_audit.trail"));
        for hostile in ["a;b", "$(x)", "-rf", "a b", "", "`x`", "a\nb"] {
            assert_eq!(shell_safe(Some(hostile)), None, "{hostile:?}");
        }
        assert_eq!(shell_region(Some("us-east-1;x")), "REGION");
    }
}

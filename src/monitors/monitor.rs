//! What a monitor is: the trait every watched service implements, the policy rows it owns,
//! and what its checks report. The registry ([`crate::monitors`]) iterates monitors through
//! this trait; each monitor module imports it, never the registry.

use async_trait::async_trait;
use serde_json::Value;

use crate::alert::NextStep;
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
    /// When the weakening check fires, in a few words, for the policy table (docs/alerts.md).
    pub weakens_when: &'static str,
    /// Whether every success reduces what is recorded or kept (a stop, a delete): such calls
    /// are never downgraded for a trusted principal.
    pub reduces: bool,
    /// Whether a reducing outcome is followed by the coverage verdict: is any multi-region
    /// trail still recording the account?
    pub checks_coverage: bool,
    /// `event` is a prefix: the service records the call with a version suffix it may change
    /// (Lambda's `PutFunctionEventInvokeConfig…`), so the rule matches every name it begins.
    pub prefix: bool,
    /// Only the calls whose request holds this: a call that is routine on everything else
    /// (BatchUpdateFindings is every analyst's triage) matters only on what trailwatch made.
    /// The alert rules' patterns carry it, so other calls never reach the function.
    pub only_when: Option<RequestPrefix>,
}

/// A request parameter that must begin with `prefix`, at `path` under `requestParameters`; an
/// array on the way matches when any of its elements does, as EventBridge matches arrays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestPrefix {
    pub path: &'static [&'static str],
    pub prefix: &'static str,
}

impl RequestPrefix {
    /// Whether `request` (a call's `requestParameters`) holds a value at the path that begins
    /// with the prefix.
    pub fn holds(&self, request: Option<&Value>) -> bool {
        fn walk(value: &Value, path: &[&str], prefix: &str) -> bool {
            match (value, path.split_first()) {
                (Value::Array(items), _) => items.iter().any(|item| walk(item, path, prefix)),
                (Value::String(text), None) => text.starts_with(prefix),
                (Value::Object(fields), Some((key, rest))) => fields
                    .get(*key)
                    .is_some_and(|inner| walk(inner, rest, prefix)),
                _ => false,
            }
        }
        request.is_some_and(|request| walk(request, self.path, self.prefix))
    }

    /// The `requestParameters` part of an EventBridge pattern that matches the same calls.
    pub fn pattern(&self) -> Value {
        self.path.iter().rev().fold(
            serde_json::json!([{ "prefix": self.prefix }]),
            |inner, key| serde_json::json!({ *key: inner }),
        )
    }
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
        prefix: false,
        only_when: None,
    };

    /// Whether this row is the call named `event_name`.
    pub fn names(&self, event_name: &str) -> bool {
        self.event == event_name || (self.prefix && event_name.starts_with(self.event))
    }

    /// Whether this row watches `call`: its name, and its request when the row says
    /// [`Rule::only_when`].
    pub fn watches(&self, call: &ApiCall) -> bool {
        self.names(&call.name)
            && self
                .only_when
                .is_none_or(|filter| filter.holds(call.request_parameters.as_ref()))
    }

    /// Whether this outcome reduced what is recorded or kept: a weakening, or a success of a
    /// call that always reduces.
    pub fn reduced(&self, outcome: Outcome) -> bool {
        outcome == Outcome::Weakened || (outcome == Outcome::Succeeded && self.reduces)
    }
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
    /// The resource is one of trailwatch's own: its steps restore trailwatch, not a trail.
    pub own: bool,
}

/// Where a monitor's calls come from, and its rows of the policy.
#[derive(Debug)]
pub struct Service {
    /// The CloudTrail `eventSource` of the calls, e.g. `s3.amazonaws.com`.
    pub event_source: &'static str,
    /// The EventBridge `source` those events arrive with, e.g. `aws.s3`.
    pub bus_source: &'static str,
    /// The service as the policy table (docs/alerts.md) names it.
    pub name: &'static str,
    pub rules: &'static [Rule],
    /// What the guard rule matches of this service: changes to trailwatch's own resources
    /// (`bootstrap --guard-pattern`); empty for services trailwatch owns nothing of.
    pub guard: &'static [Guard],
}

/// One branch of the guard rule's pattern: these calls, when the request names one of
/// trailwatch's own resources at `path` (below `requestParameters`).
#[derive(Debug)]
pub struct Guard {
    pub events: &'static [&'static str],
    pub path: &'static [&'static str],
    /// What the value at `path` may be: exact names and prefixes, with the template's
    /// placeholders (`${Id}`, `${AWS::Region}`, `${KeyId}`, ...) that `!Sub` fills in.
    pub values: &'static [GuardValue],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardValue {
    Exact(&'static str),
    Prefix(&'static str),
    /// EventBridge's wildcard matching: `*` stands for any text.
    Wildcard(&'static str),
}

#[async_trait]
pub trait Monitor: Sync {
    fn service(&self) -> &'static Service;
    /// The resource the request names, when it names one.
    fn resource(&self, call: &ApiCall) -> Option<Resource>;
    /// Every resource the request names, for calls that name several (DeleteAlarms): the
    /// pipeline takes the first that is trailwatch's own, else the first.
    fn resources(&self, call: &ApiCall) -> Vec<Resource> {
        self.resource(call).into_iter().collect()
    }
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
    /// The command that undoes a call that reduced what is recorded or kept (a stop, a delete
    /// that can be reverted, a weakening), when there is one. The registry's rule: it opens the
    /// alert's steps, before anything else (`assemble::next_steps`), and is not repeated in
    /// [`Monitor::next_steps`].
    fn undo(&self, _facts: &StepFacts<'_>) -> Option<NextStep> {
        None
    }
    /// What the responder does next, after the undo, for a successful or weakening call
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

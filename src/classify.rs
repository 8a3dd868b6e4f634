//! Classify: the severity policy.
//!
//! [`POLICY`] is the whole policy for which calls are monitored and how urgent each outcome is;
//! the README carries the same table. Modifiers (root user, a trail left not logging) are applied
//! after the table, and every step that set the severity leaves a reason.

use crate::call::{ApiCall, CLOUDTRAIL_SOURCE};
use crate::enrich::TrailState;
use crate::severity::Severity::{self, *};

/// One monitored call and the severity of each way it can turn out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub source: &'static str,
    pub event: &'static str,
    /// The call succeeded (and, for calls with a weakening check, did not weaken anything).
    pub succeeded: Severity,
    /// The call succeeded and weakened the trail (see [`weakening_changes`]).
    pub weakened: Option<Severity>,
    /// The call failed with an access denial: someone tried.
    pub denied: Severity,
    /// The call failed for any other reason.
    pub failed: Severity,
    /// What a successful call did, in a few words, for titles.
    pub summary: &'static str,
    /// What a successful call means for coverage, for the reasons.
    pub effect: &'static str,
}

#[rustfmt::skip]
pub const POLICY: &[Rule] = &[
    //               event           succeeded      weakened    denied  failed
    Rule::cloudtrail("StopLogging",  Critical,      None,       High,   Low,
        "CloudTrail logging stopped", "the trail no longer records API activity"),
    Rule::cloudtrail("DeleteTrail",  Critical,      None,       High,   Low,
        "CloudTrail trail deleted", "the trail and everything it recorded to are no longer logging"),
    Rule::cloudtrail("UpdateTrail",  Medium,        Some(High), High,   Low,
        "CloudTrail trail changed", "the trail's configuration changed without reducing coverage"),
    Rule::cloudtrail("CreateTrail",  Low,           None,       Low,    Low,
        "CloudTrail trail created", "a new trail exists; it records nothing until StartLogging"),
    Rule::cloudtrail("StartLogging", Informational, None,       Low,    Low,
        "CloudTrail logging started", "the trail records API activity again"),
];

impl Rule {
    const fn cloudtrail(
        event: &'static str,
        succeeded: Severity,
        weakened: Option<Severity>,
        denied: Severity,
        failed: Severity,
        summary: &'static str,
        effect: &'static str,
    ) -> Rule {
        Rule {
            source: CLOUDTRAIL_SOURCE,
            event,
            succeeded,
            weakened,
            denied,
            failed,
            summary,
            effect,
        }
    }
}

/// The rule for a call, or `None` when trailwatch does not monitor it.
pub fn rule_for(call: &ApiCall) -> Option<&'static Rule> {
    POLICY
        .iter()
        .find(|rule| rule.source == call.source && rule.event == call.name)
}

/// Which column of the table applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Weakened,
    Denied,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub outcome: Outcome,
    pub severity: Severity,
    /// Why, in the order the policy was applied.
    pub reasons: Vec<String>,
}

/// Applies the table, then the modifiers. `state` is the trail as enrichment found it, if it did.
pub fn classify(call: &ApiCall, rule: &Rule, state: Option<&TrailState>) -> Assessment {
    let mut reasons = Vec::new();
    let (outcome, mut severity) = match &call.error {
        Some(error) if call.was_denied() => {
            reasons.push(format!(
                "{} was denied ({}): an attempt, which did not take effect",
                rule.event, error.code
            ));
            (Outcome::Denied, rule.denied)
        }
        Some(error) => {
            reasons.push(format!(
                "{} failed ({}) and did not take effect",
                rule.event, error.code
            ));
            (Outcome::Failed, rule.failed)
        }
        None => {
            let weakening = rule.weakened.map(|s| (s, weakening_changes(call)));
            match weakening {
                Some((weakened, changes)) if !changes.is_empty() => {
                    reasons.push(format!("{} weakened the trail", rule.event));
                    reasons.extend(changes);
                    (Outcome::Weakened, weakened)
                }
                _ => {
                    reasons.push(format!("{} succeeded: {}", rule.event, rule.effect));
                    (Outcome::Succeeded, rule.succeeded)
                }
            }
        }
    };

    if call.actor.is_root() {
        let raised = severity.raised();
        if raised != severity {
            reasons.push(format!(
                "made by the root user: raised from {severity} to {raised}"
            ));
        } else {
            reasons.push("made by the root user".to_string());
        }
        severity = raised;
    }

    let left_not_logging =
        trail_state_can_raise(call) && state.and_then(TrailState::is_logging) == Some(false);
    if left_not_logging && severity < High {
        reasons.push(format!(
            "the trail is not logging after this update: raised from {severity} to HIGH"
        ));
        severity = High;
    } else if left_not_logging {
        reasons.push("the trail is not logging after this update".to_string());
    }

    Assessment {
        outcome,
        severity,
        reasons,
    }
}

/// Whether the trail's live state can change this call's severity: a successful UpdateTrail
/// that leaves the trail not logging is at least HIGH. (A new trail is not logging until
/// StartLogging, so CreateTrail is not judged by its state.)
pub fn trail_state_can_raise(call: &ApiCall) -> bool {
    call.succeeded() && call.name == "UpdateTrail"
}

/// The ways an UpdateTrail request reduces what the trail records or how well it protects it.
pub fn weakening_changes(call: &ApiCall) -> Vec<String> {
    let mut changes = Vec::new();
    let flags = [
        (
            "isMultiRegionTrail",
            "calls in other regions are no longer recorded",
        ),
        (
            "includeGlobalServiceEvents",
            "IAM, STS and other global-service calls are no longer recorded",
        ),
        (
            "enableLogFileValidation",
            "log files can now be altered or deleted without detection",
        ),
        (
            "isOrganizationTrail",
            "the organization's member accounts are no longer covered",
        ),
    ];
    for (flag, effect) in flags {
        if call.bool_parameter(flag) == Some(false) {
            changes.push(format!("{flag}=false: {effect}"));
        }
    }
    if let Some(bucket) = call.string_parameter("s3BucketName") {
        changes.push(format!(
            "s3BucketName set to {bucket}: log files now go to a different bucket"
        ));
    }
    if call.string_parameter("cloudWatchLogsLogGroupArn") == Some("") {
        changes.push("cloudWatchLogsLogGroupArn cleared: delivery to CloudWatch Logs (and its metric filters) stopped".to_string());
    }
    if call.string_parameter("kmsKeyId") == Some("") {
        changes.push(
            "kmsKeyId cleared: log files are no longer encrypted with a customer-managed KMS key"
                .to_string(),
        );
    }
    changes
}

//! Classify: a call's row in its monitor's table, then the modifiers.
//!
//! The table ([`Rule`]) gives the severity of each outcome; the monitor's weakening check
//! decides between "succeeded" and "weakened". Modifiers follow, each leaving a reason: the root
//! user raises one level; a trail left not logging after an update is at least HIGH; no
//! multi-region trail left recording the account is CRITICAL; a trusted principal's change that
//! reduces nothing is INFORMATIONAL. A call on trailwatch's own resources is then escalated
//! ([`escalate_own`]).

use crate::call::ApiCall;
use crate::coverage::{CoverageScope, Verdict};
use crate::enrichment::Enrichment;
use crate::monitors::monitor::{Monitor, Outcome, Rule, Weakening};
use crate::own;
use crate::prose::code;
use crate::resource::Resource;
use crate::severity::Severity::{self, *};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub outcome: Outcome,
    pub severity: Severity,
    /// Why, in the order the policy was applied.
    pub reasons: Vec<String>,
    /// The pattern in TRUSTED_PRINCIPALS the caller matched.
    pub trusted_by: Option<String>,
}

/// Which column applies, and the weakening findings behind "weakened".
pub fn outcome(call: &ApiCall, monitor: &dyn Monitor, rule: &Rule) -> (Outcome, Vec<Weakening>) {
    if call.was_denied() {
        return (Outcome::Denied, Vec::new());
    }
    if call.error.is_some() {
        return (Outcome::Failed, Vec::new());
    }
    if rule.weakened.is_none() {
        return (Outcome::Succeeded, Vec::new());
    }
    let weakenings = if call.parameters_omitted() {
        // CloudTrail omits requestParameters that are too large: decide from what is there,
        // which is nothing, and assume the worst.
        vec![Weakening::new(
            "requestParameters were not recorded (CloudTrail omits them when too large), so the change could not be checked and is treated as weakening",
        )]
    } else {
        crate::monitors::weakenings(monitor, call)
    };
    if weakenings.is_empty() {
        (Outcome::Succeeded, weakenings)
    } else {
        (Outcome::Weakened, weakenings)
    }
}

/// Whether the verdict on coverage is wanted: the call reduced what a trail records.
pub fn coverage_scope(rule: &Rule, outcome: Outcome) -> Option<CoverageScope> {
    match outcome {
        _ if !rule.checks_coverage => None,
        Outcome::Weakened => Some(CoverageScope {
            exclude_affected: false,
        }),
        Outcome::Succeeded if rule.reduces => Some(CoverageScope {
            exclude_affected: true,
        }),
        _ => None,
    }
}

/// Whether the resource's live state can raise this outcome's severity: an update that leaves
/// the trail stopped, or a reduction that leaves nothing recording the account.
pub fn state_can_raise(call: &ApiCall, rule: &Rule, outcome: Outcome) -> bool {
    coverage_scope(rule, outcome).is_some() || leaves_state_to_judge(call, outcome)
}

/// A successful UpdateTrail is judged by whether the trail still logs afterwards. (A new trail
/// is not logging until StartLogging, so CreateTrail is not judged by its state.)
fn leaves_state_to_judge(call: &ApiCall, outcome: Outcome) -> bool {
    matches!(outcome, Outcome::Succeeded | Outcome::Weakened) && call.name == "UpdateTrail"
}

/// Applies the table, then the modifiers. `enrichment` is what the lookups found, if they ran.
pub fn classify(
    call: &ApiCall,
    monitor: &dyn Monitor,
    rule: &Rule,
    enrichment: Option<&Enrichment>,
    trusted_by: Option<&str>,
) -> Assessment {
    let (outcome, weakenings) = outcome(call, monitor, rule);
    let mut reasons = Vec::new();
    let mut severity = match (&call.error, outcome) {
        (Some(error), Outcome::Denied) => {
            reasons.push(format!(
                "{} was denied ({}): an attempt, which did not take effect",
                rule.event,
                code(&error.code)
            ));
            rule.denied
        }
        (Some(error), _) => {
            reasons.push(format!(
                "{} failed ({}) and did not take effect",
                rule.event,
                code(&error.code)
            ));
            match monitor.harmless_failure(call) {
                Some(why) => {
                    reasons.push(why.to_string());
                    Informational
                }
                None => rule.failed,
            }
        }
        (None, Outcome::Weakened) => {
            reasons.push(format!("{}: {}", rule.event, rule.weakened_summary));
            let base = rule.weakened.unwrap_or(rule.succeeded);
            let worst = weakenings.iter().filter_map(|w| w.severity).max();
            reasons.extend(weakenings.into_iter().map(|w| w.reason));
            worst.map_or(base, |worst| worst.max(base))
        }
        (None, _) => {
            reasons.push(format!("{} succeeded: {}", rule.event, rule.effect));
            rule.succeeded
        }
    };

    if let Some(enrichment) = enrichment {
        reasons.extend(monitor.state_notes(call, enrichment));
    }

    if !call.input_problems.is_empty() {
        reasons.push(format!(
            "part of the event could not be read ({}); judged on the rest",
            code(&call.input_problems.join("; "))
        ));
    }

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

    let mut reduced = rule.reduced(outcome);

    let left_not_logging = leaves_state_to_judge(call, outcome)
        && enrichment.and_then(|e| e.state.trail_is_logging()) == Some(false);
    if left_not_logging {
        reduced = true;
        if severity < High {
            reasons.push(format!(
                "the trail is not logging after this update: raised from {severity} to HIGH"
            ));
            severity = High;
        } else {
            reasons.push("the trail is not logging after this update".to_string());
        }
    }

    if let Some(coverage) = enrichment.and_then(|e| e.coverage.as_ref()) {
        match coverage.verdict {
            Verdict::Uncovered if severity < Critical => {
                reasons.push(format!(
                    "{}: raised from {severity} to CRITICAL",
                    coverage.detail
                ));
                severity = Critical;
            }
            _ => reasons.push(coverage.detail.clone()),
        }
    }

    if let Some(pattern) = trusted_by.map(code) {
        if outcome == Outcome::Succeeded && !reduced {
            if severity > Informational {
                reasons.push(format!(
                    "made by a trusted principal ({pattern}) and reduces nothing: lowered from {severity} to INFORMATIONAL"
                ));
            }
            severity = Informational;
        } else {
            reasons.push(format!(
                "made by a trusted principal ({pattern}); kept at {severity} because {}",
                match outcome {
                    Outcome::Denied | Outcome::Failed => "the call did not succeed as intended",
                    _ => "it reduces what is recorded or kept",
                }
            ));
        }
    }

    Assessment {
        outcome,
        severity,
        reasons,
        trusted_by: trusted_by.map(str::to_string),
    }
}

/// The modifier for a call on one of trailwatch's own resources: a change that took effect is
/// CRITICAL (the next change could go unseen), unless a trusted principal made a change that
/// reduces nothing (a deployment); attempts keep their severity and say what was aimed at. The
/// call's effect is told as what the resource does for trailwatch: the monitor's own words are
/// about a trail's key, bucket or log group.
pub fn escalate_own(mut assessment: Assessment, event: &str, resource: &Resource) -> Assessment {
    let what = format!("trailwatch's own {}", resource.kind.noun());
    let role = own::role(resource.kind);
    let deployed_by_trusted =
        assessment.trusted_by.is_some() && assessment.severity == Severity::Informational;
    match assessment.outcome {
        Outcome::Succeeded | Outcome::Weakened if !deployed_by_trusted => {
            let from = assessment.severity;
            let told = format!("on {what}, which trailwatch needs: {role}");
            let effect = assessment
                .reasons
                .first_mut()
                .filter(|first| first.starts_with(&format!("{event} succeeded: ")));
            match effect {
                Some(first) => *first = format!("{event} succeeded {told}"),
                None => assessment.reasons.insert(0, format!("{event} {told}")),
            }
            if from < Severity::Critical {
                assessment.reasons.push(format!(
                    "raised from {from} to CRITICAL: with {what} changed, the next change to your trails could go unseen"
                ));
            }
            assessment.severity = Severity::Critical;
        }
        _ => assessment.reasons.push(format!("aimed at {what}: {role}")),
    }
    assessment
}

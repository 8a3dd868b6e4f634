//! Assembly: the alert document for a judged call, from what the steps below found.
//!
//! The monitor gives the next steps, [`crate::classify`] the severity and reasons, the lookups
//! the state; this module puts them into one [`Alert`], then adds what happened after the
//! judgement: self-healing's answer ([`with_restart`]) and, for trailwatch's own resources, the
//! headline that says so ([`own_resource`]).

use crate::actor;
use crate::alert::restart::{AutoRestart, RestartOutcome};
use crate::alert::{ActorInfo, Alert, AlertKind, EventInfo, NextStep, SCHEMA_VERSION};
use crate::arn::Arn;
use crate::call::ApiCall;
use crate::classify::{classify, Assessment};
use crate::client::{client_of, Recorded};
use crate::enrichment::Enrichment;
use crate::links::{console_links, principal_page, Links};
use crate::monitors;
use crate::monitors::monitor::{Monitor, Outcome, Rule, StepFacts, Watched};
use crate::prose::code;
use crate::resource::{Resource, ResourceState};
use crate::severity::Severity;

/// What a call was judged to be about: its monitor's rule and resource, and whether the
/// resource is one of trailwatch's own.
pub struct Subject<'a> {
    pub monitor: &'a dyn Monitor,
    pub rule: &'a Rule,
    pub resource: Option<Resource>,
    pub own: bool,
}

/// The alert for one monitored call, judged and looked up. A call on one of trailwatch's own
/// resources says so in its headline.
pub fn for_call(
    call: &ApiCall,
    subject: Subject<'_>,
    assessment: Assessment,
    enrichment: Enrichment,
) -> Alert {
    let Subject {
        monitor,
        rule,
        resource,
        own,
    } = subject;
    let who = call.actor.display_name();
    let facts = StepFacts {
        call,
        outcome: assessment.outcome,
        resource: resource.as_ref(),
        enrichment: &enrichment,
        who: &who,
        own,
    };
    let next_steps = next_steps(monitor, rule, &facts);
    let mut reasons = assessment.reasons;
    if !own && trail_use_unconfirmed(monitor, &enrichment) {
        if let Some(resource) = resource.as_ref() {
            reasons.push(format!(
                "whether a trail uses this {} could not be checked, so it is alerted as if one does",
                resource.kind.noun()
            ));
        }
    }
    let links = links(call, resource.as_ref());
    let title = match resource.as_ref().filter(|_| own) {
        Some(resource) => format!(
            "{} on trailwatch's own {}",
            rule.event,
            resource.kind.noun()
        ),
        None => title(rule, assessment.outcome, &enrichment, monitor),
    };
    Alert {
        schema_version: SCHEMA_VERSION,
        product: "trailwatch",
        kind: AlertKind::ApiCall,
        severity: assessment.severity,
        title,
        reasons,
        resource,
        resource_state: enrichment.state.clone(),
        coverage: enrichment.coverage.clone(),
        trusted_principal: assessment.trusted_by.is_some(),
        own_resource: own,
        account_name: None,
        event: Some(event_info(call)),
        actor: Some(actor_info(call, who)),
        enrichment_error: enrichment.error_summary(),
        input_problems: call.input_problems.clone(),
        next_steps,
        links,
        request_parameters: call.request_parameters.clone(),
        truncated: Vec::new(),
        auto_restart: None,
        digest: None,
        posture: None,
    }
}

/// The steps for a call that took effect: the undo first when the call reduced what is
/// recorded or kept and its monitor has one (the registry's rule), then the monitor's steps; the
/// same steps everywhere for a denied or failed call. Then the steps for who made it, unless
/// nothing happened.
fn next_steps(monitor: &dyn Monitor, rule: &Rule, facts: &StepFacts<'_>) -> Vec<NextStep> {
    let denied_by = || {
        match facts.call.actor.is_root() {
        true => format!(
            "Find out who tried to use the root user to call {}: a denied attempt often comes before a successful one, and root is for break-glass only.",
            rule.event
        ),
        false => format!(
            "Find out why {} tried to call {}: a denied attempt often comes before a successful one with other credentials.",
            code(facts.who),
            rule.event
        ),
    }
    };
    let mut steps = match facts.outcome {
        Outcome::Denied => vec![NextStep::say(denied_by())],
        Outcome::Failed => vec![NextStep::say(
            "No change took effect; check the error if the call was expected to succeed.",
        )],
        Outcome::Succeeded | Outcome::Weakened => {
            let undo = rule
                .reduced(facts.outcome)
                .then(|| monitor.undo(facts))
                .flatten();
            undo.into_iter().chain(monitor.next_steps(facts)).collect()
        }
    };
    if facts.outcome != Outcome::Failed {
        steps.extend(actor::steps_for(facts.call));
    }
    steps
}

/// The console pages of the resource, the event and the principal, in the partition the ARNs
/// name.
fn links(call: &ApiCall, resource: Option<&Resource>) -> Links {
    let partition = resource
        .and_then(|r| r.arn.as_deref())
        .or(call.actor.arn.as_deref())
        .and_then(Arn::parse)
        .map(|arn| arn.partition);
    let mut links = console_links(
        partition.as_deref(),
        resource,
        call.region.as_deref(),
        call.id.as_deref(),
    );
    let actor_partition = call.actor.arn.as_deref().and_then(Arn::parse);
    let actor_partition = actor_partition.as_ref().map(|arn| arn.partition.as_str());
    links.principal = match (call.actor.kind.as_deref(), call.actor.role_name()) {
        (_, Some(role)) => principal_page(actor_partition, "role", role),
        (Some("IAMUser"), None) => call
            .actor
            .user_name
            .as_deref()
            .and_then(|user| principal_page(actor_partition, "user", user)),
        _ => None,
    };
    links
}

fn event_info(call: &ApiCall) -> EventInfo {
    EventInfo {
        name: call.name.clone(),
        source: call.source.clone(),
        id: call.id.clone(),
        time: call.time.clone(),
        region: call.region.clone(),
        account: call.account.clone(),
        source_ip: call.source_ip.clone(),
        user_agent: call.user_agent.clone(),
        request_id: call.request_id.clone(),
        error_code: call.error.as_ref().map(|e| e.code.clone()),
        error_message: call.error.as_ref().and_then(|e| e.message.clone()),
    }
}

fn actor_info(call: &ApiCall, name: String) -> ActorInfo {
    let actor = &call.actor;
    ActorInfo {
        kind: actor.kind.clone(),
        arn: actor.arn.clone(),
        name,
        account_id: actor.account_id.clone(),
        principal_id: actor.principal_id.clone(),
        invoked_by: actor.invoked_by.clone(),
        mfa_authenticated: actor.mfa_authenticated,
        session_issuer: actor.session_issuer_arn.clone(),
        access_key_id: actor.access_key_id.clone(),
        session_created: actor.session_created.clone(),
        source_identity: actor.source_identity.clone(),
        sso_user: actor.sso().map(|(user, _)| user.to_string()),
        permission_set: actor.sso().map(|(_, set)| set.to_string()),
        client: client_of(
            call.user_agent.as_deref(),
            actor.invoked_by.as_deref(),
            Some(Recorded {
                source: &call.source,
                name: &call.name,
            }),
        ),
    }
}

/// The alert for a call with nothing looked up: the pure part of the pipeline (classify and
/// build the document), for benchmarks and tests. `None` for a call no monitor watches.
pub fn alert_without_lookups(call: &ApiCall) -> Option<Alert> {
    let (monitor, rule) = monitors::find(call)?;
    let resource = monitor.resource(call);
    let assessment = classify(call, monitor, rule, None, None);
    let subject = Subject {
        monitor,
        rule,
        resource,
        own: false,
    };
    Some(for_call(call, subject, assessment, Enrichment::default()))
}

/// Writes what self-healing did into the alert: the reason, the state, the first step.
pub fn with_restart(alert: &mut Alert, restart: AutoRestart) {
    alert.reasons.push(restart.detail.clone());
    if restart.keeps_being_stopped {
        alert.title = "CloudTrail logging keeps being stopped".to_string();
        alert.severity = Severity::Critical;
    }
    if restart.outcome == RestartOutcome::Restarted {
        // StartLogging succeeded: the trail is logging again, whatever the lookup before said.
        if let ResourceState::Trail {
            status: Some(status),
            ..
        } = &mut alert.resource_state
        {
            status.is_logging = Some(true);
        }
        let restart_step = alert.next_steps.iter().position(|step| {
            step.command
                .as_deref()
                .is_some_and(|c| c.starts_with("aws cloudtrail start-logging"))
        });
        if let Some(index) = restart_step {
            let step = alert.next_steps.remove(index);
            let check =
                step.command
                    .unwrap_or_default()
                    .replacen("start-logging", "get-trail-status", 1);
            alert.next_steps.insert(
                0,
                NextStep::run(
                    "Logging was restarted by trailwatch: check that it stays on (IsLogging true)",
                    check,
                ),
            );
        }
    }
    alert.auto_restart = Some(restart);
}

/// The headline: the rule's summary for the outcome. A bucket, key or log group that no lookup
/// confirmed a trail uses (the trails could not be listed, or nothing was looked up) is not
/// called a trail's.
fn title(rule: &Rule, outcome: Outcome, enrichment: &Enrichment, monitor: &dyn Monitor) -> String {
    let summary = match outcome {
        Outcome::Succeeded => rule.summary,
        Outcome::Weakened => rule.weakened_summary,
        Outcome::Denied => return format!("Denied attempt: {}", rule.event),
        Outcome::Failed => return format!("Failed call: {}", rule.event),
    };
    if trail_use_unconfirmed(monitor, enrichment) {
        unconfirmed(summary)
    } else {
        summary.to_string()
    }
}

/// What a delivery-chain summary claims about a trail, and the same without the claim.
const TRAIL_CLAIMS: [(&str, &str); 3] = [
    ("a trail's log files", "log files in a bucket"),
    ("a trail's ", "a "),
    ("A trail's ", "A "),
];

/// A delivery-chain summary without its claim that a trail uses the resource (the reasons say
/// that it could not be checked).
pub fn unconfirmed(summary: &str) -> String {
    TRAIL_CLAIMS
        .iter()
        .find(|(claim, _)| summary.contains(claim))
        .map_or_else(
            || summary.to_string(),
            |(claim, plain)| summary.replacen(claim, plain, 1),
        )
}

/// Whether no lookup confirmed that a trail uses the call's bucket, key or log group.
fn trail_use_unconfirmed(monitor: &dyn Monitor, enrichment: &Enrichment) -> bool {
    let confirmed = matches!(&enrichment.state, ResourceState::DeliveryChain { trails, .. } if !trails.is_empty());
    monitor.watched() == Watched::WhenATrailUsesIt && !confirmed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitors::REGISTRY;

    #[test]
    fn every_delivery_chain_summary_loses_its_claim_when_unconfirmed() {
        for monitor in REGISTRY
            .iter()
            .filter(|m| m.watched() == Watched::WhenATrailUsesIt)
        {
            for rule in monitor.service().rules {
                for summary in [rule.summary, rule.weakened_summary] {
                    if summary.is_empty() {
                        continue;
                    }
                    assert!(summary.contains("trail's"), "{summary:?} claims nothing");
                    let plain = unconfirmed(summary);
                    assert!(!plain.contains("trail's"), "{plain:?}");
                }
            }
        }
        assert_eq!(
            unconfirmed("Lifecycle rule expires a trail's log files"),
            "Lifecycle rule expires log files in a bucket"
        );
    }
}

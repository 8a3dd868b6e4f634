//! Assembly: the alert document for a judged call, from what the steps below found.
//!
//! The monitor gives the next steps, [`crate::classify`] the severity and reasons, the lookups
//! the state; this module puts them into one [`Alert`], then adds what happened after the
//! judgement: self-healing's answer ([`with_restart`]) and, for trailwatch's own resources, the
//! headline that says so ([`own_resource`]).

use crate::actor;
use crate::alert::restart::{AutoRestart, RestartOutcome};
use crate::alert::{code, ActorInfo, Alert, AlertKind, EventInfo, NextStep, SCHEMA_VERSION};
use crate::arn::Arn;
use crate::call::ApiCall;
use crate::classify::{classify, Assessment};
use crate::client::client_of;
use crate::enrichment::Enrichment;
use crate::links::{console_links, principal_page, Links};
use crate::monitors;
use crate::monitors::monitor::{Monitor, Outcome, Rule, StepFacts};
use crate::resource::{Resource, ResourceState};
use crate::severity::Severity;

/// The alert for one monitored call, judged and looked up.
pub fn for_call(
    call: &ApiCall,
    monitor: &dyn Monitor,
    rule: &Rule,
    resource: Option<Resource>,
    assessment: Assessment,
    enrichment: Enrichment,
) -> Alert {
    let who = call.actor.display_name();
    let next_steps = next_steps(
        call,
        monitor,
        rule,
        assessment.outcome,
        resource.as_ref(),
        &enrichment,
        &who,
    );
    let links = links(call, resource.as_ref());
    Alert {
        schema_version: SCHEMA_VERSION,
        product: "trailwatch",
        kind: AlertKind::ApiCall,
        severity: assessment.severity,
        title: title(rule, assessment.outcome),
        reasons: assessment.reasons,
        resource,
        resource_state: enrichment.state.clone(),
        coverage: enrichment.coverage.clone(),
        trusted_principal: assessment.trusted_by.is_some(),
        own_resource: false,
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
        posture: None,
    }
}

/// The monitor's steps for a call that took effect, the same steps everywhere for a denied or
/// failed one, then the steps for who made it (unless nothing happened).
fn next_steps(
    call: &ApiCall,
    monitor: &dyn Monitor,
    rule: &Rule,
    outcome: Outcome,
    resource: Option<&Resource>,
    enrichment: &Enrichment,
    who: &str,
) -> Vec<NextStep> {
    let mut steps = match outcome {
        Outcome::Denied => vec![
            NextStep::say(format!("Find out why {} tried to call {}: a denied attempt often comes before a successful one with other credentials.", code(who), rule.event)),
        ],
        Outcome::Failed => vec![
            NextStep::say("No change took effect; check the error if the call was expected to succeed."),
        ],
        Outcome::Succeeded | Outcome::Weakened => monitor.next_steps(&StepFacts {
            call,
            outcome,
            resource,
            enrichment,
            who,
        }),
    };
    if outcome != Outcome::Failed {
        steps.extend(actor::steps_for(call));
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
        client: client_of(call.user_agent.as_deref(), actor.invoked_by.as_deref()),
    }
}

/// The alert for a call with nothing looked up: the pure part of the pipeline (classify and
/// build the document), for benchmarks and tests. `None` for a call no monitor watches.
pub fn alert_without_lookups(call: &ApiCall) -> Option<Alert> {
    let (monitor, rule) = monitors::find(call)?;
    let resource = monitor.resource(call);
    let assessment = classify(call, monitor, rule, None, None);
    Some(for_call(
        call,
        monitor,
        rule,
        resource,
        assessment,
        Enrichment::default(),
    ))
}

/// A call on trailwatch's own resource: the headline names it as such, and the alert says so.
pub fn own_resource(alert: &mut Alert, rule: &Rule, resource: &Resource) {
    alert.title = format!(
        "{} on trailwatch's own {}",
        rule.event,
        resource.kind.noun()
    );
    alert.own_resource = true;
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

fn title(rule: &Rule, outcome: Outcome) -> String {
    match outcome {
        Outcome::Succeeded => rule.summary.to_string(),
        Outcome::Weakened => rule.weakened_summary.to_string(),
        Outcome::Denied => format!("Denied attempt: {}", rule.event),
        Outcome::Failed => format!("Failed call: {}", rule.event),
    }
}

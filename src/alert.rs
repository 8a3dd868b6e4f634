//! The alert: everything a responder needs, as one versioned document.
//!
//! This is the JSON subscribers receive (the `default` message); the email and chat renderings
//! are views of it, so all three always agree.

use serde::Serialize;
use serde_json::Value;

use crate::call::ApiCall;
use crate::classify::{Assessment, Outcome, Rule};
use crate::enrich::{Enrichment, SelectorSummary, TrailConfig, TrailStatus};
use crate::links::{console_links, is_region, Links};
use crate::severity::Severity;

/// Bumped on any change a consumer could notice; additions of optional fields keep the major.
pub const SCHEMA_VERSION: &str = "1.0";

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub schema_version: &'static str,
    pub product: &'static str,
    pub severity: Severity,
    pub title: String,
    pub reasons: Vec<String>,
    pub event: EventInfo,
    pub actor: ActorInfo,
    pub trail: TrailInfo,
    pub trail_status: TrailStatus,
    pub trail_config: Option<TrailConfig>,
    pub event_selectors: Option<SelectorSummary>,
    pub enrichment_error: Option<String>,
    pub next_steps: Vec<String>,
    pub links: Links,
    pub request_parameters: Option<Value>,
    /// What was left out to keep the message within SNS's size limit; empty when nothing was.
    pub truncated: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventInfo {
    pub name: String,
    pub source: String,
    pub id: Option<String>,
    pub time: Option<String>,
    pub region: Option<String>,
    pub account: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActorInfo {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub arn: Option<String>,
    pub name: String,
    pub account_id: Option<String>,
    pub principal_id: Option<String>,
    pub invoked_by: Option<String>,
    pub mfa_authenticated: Option<bool>,
    pub session_issuer: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrailInfo {
    pub name: Option<String>,
    pub arn: Option<String>,
    pub region: Option<String>,
}

impl Alert {
    pub fn new(
        call: &ApiCall,
        rule: &Rule,
        assessment: Assessment,
        enrichment: Enrichment,
    ) -> Alert {
        let trail_ref = call.trail.as_ref();
        let config = enrichment.state.config.clone();
        let trail_arn = trail_ref
            .and_then(|t| t.arn.clone())
            .or_else(|| config.as_ref().and_then(|c| c.arn.clone()));
        let trail_region = call.trail_home_region().map(str::to_string);
        let partition = trail_ref
            .and_then(|t| t.partition.as_deref())
            .or_else(|| call.actor.arn.as_deref().and_then(arn_partition));
        let links = console_links(
            partition,
            trail_region.as_deref(),
            trail_arn.as_deref(),
            call.region.as_deref(),
            call.id.as_deref(),
        );
        let enrichment_error = enrichment.error_summary();
        let title = title(rule, assessment.outcome);
        let next_steps = next_steps(
            call,
            trail_ref.map(|t| t.given.as_str()),
            trail_region.as_deref(),
            enrichment_error.is_some(),
        );
        Alert {
            schema_version: SCHEMA_VERSION,
            product: "trailwatch",
            severity: assessment.severity,
            title,
            reasons: assessment.reasons,
            event: EventInfo {
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
            },
            actor: ActorInfo {
                kind: call.actor.kind.clone(),
                arn: call.actor.arn.clone(),
                name: call.actor.display_name(),
                account_id: call.actor.account_id.clone(),
                principal_id: call.actor.principal_id.clone(),
                invoked_by: call.actor.invoked_by.clone(),
                mfa_authenticated: call.actor.mfa_authenticated,
                session_issuer: call.actor.session_issuer_arn.clone(),
            },
            trail: TrailInfo {
                name: trail_ref.map(|t| t.name.clone()),
                arn: trail_arn,
                region: trail_region,
            },
            trail_status: enrichment.state.status.unwrap_or_default(),
            trail_config: config,
            event_selectors: enrichment.state.selectors,
            enrichment_error,
            next_steps,
            links,
            request_parameters: call.request_parameters.clone(),
            truncated: Vec::new(),
        }
    }

    /// The trail's name for headlines, or a placeholder when the event names none.
    pub fn trail_label(&self) -> &str {
        self.trail.name.as_deref().unwrap_or("(no trail named)")
    }
}

fn arn_partition(arn: &str) -> Option<&str> {
    arn.strip_prefix("arn:")?
        .split(':')
        .next()
        .filter(|p| !p.is_empty())
}

fn title(rule: &Rule, outcome: Outcome) -> String {
    match outcome {
        Outcome::Succeeded => rule.summary.to_string(),
        Outcome::Weakened => "CloudTrail trail weakened".to_string(),
        Outcome::Denied => format!("Denied attempt: {}", rule.event),
        Outcome::Failed => format!("Failed call: {}", rule.event),
    }
}

/// A trail name (CloudTrail allows letters, digits, `.`, `_`, `-`) or a trail ARN made of those
/// and ARN punctuation: nothing a shell would interpret.
fn is_shell_safe_trail(trail: &str) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':' | '/');
    !trail.is_empty() && trail.len() <= 256 && !trail.starts_with('-') && trail.chars().all(allowed)
}

fn next_steps(
    call: &ApiCall,
    trail: Option<&str>,
    region: Option<&str>,
    enrichment_failed: bool,
) -> Vec<String> {
    let who = call.actor.display_name();
    // These become shell commands a responder may paste: only values that cannot carry shell
    // syntax are filled in.
    let trail = trail.filter(|t| is_shell_safe_trail(t)).unwrap_or("TRAIL");
    let region = region.filter(|r| is_region(r)).unwrap_or("REGION");
    let confirm = format!("Confirm with the owner of {who} that this was an authorised change; if not, treat it as a security incident.");
    let mut steps = match (call.name.as_str(), &call.error) {
        (_, Some(_)) if call.was_denied() => vec![
            format!("Find out why {who} tried to call {}: a denied attempt often comes before a successful one with other credentials.", call.name),
            format!("Review {who}'s recent activity and rotate its credentials if it was not expected."),
        ],
        (_, Some(_)) => vec!["No change took effect; check the error if the call was expected to succeed.".to_string()],
        ("StopLogging", None) => vec![
            confirm,
            format!("Restart logging: aws cloudtrail start-logging --name {trail} --region {region}"),
            format!("Review what {who} did while logging was off; other trails and CloudTrail event history still record management events."),
        ],
        ("DeleteTrail", None) => vec![
            confirm,
            "Recreate the trail from your infrastructure as code and start logging.".to_string(),
            "Check that the trail's S3 bucket and its log files are intact.".to_string(),
        ],
        ("UpdateTrail", None) => vec![
            confirm,
            "Compare the trail with your infrastructure as code and revert any change listed above.".to_string(),
            format!("Check the result: aws cloudtrail describe-trails --trail-name-list {trail} --region {region}"),
        ],
        ("CreateTrail", None) => vec![
            "Confirm the new trail is expected: a trail you did not create can copy your logs to someone else's bucket.".to_string(),
            "Check who owns the trail's S3 bucket and KMS key.".to_string(),
        ],
        ("StartLogging", None) => vec![
            "No action needed if this restarts logging on purpose; find out why it had stopped.".to_string(),
        ],
        _ => vec![confirm],
    };
    if enrichment_failed {
        steps.push(format!("The trail's state could not be read; check it: aws cloudtrail get-trail-status --name {trail} --region {region}"));
    }
    steps
}

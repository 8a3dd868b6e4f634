//! AWS Organizations, where the recorders reach across accounts: an account leaving its
//! organization (the organization's trails no longer record it, and its Config, GuardDuty and
//! Security Hub administrators lose it), and the organization no longer trusting CloudTrail,
//! Config, GuardDuty or Security Hub to work in its accounts.
//!
//! Organizations is a global service: its calls reach EventBridge in us-east-1 only. An account
//! leaves from the account itself, so that account's stack (or its forwarder) in us-east-1 sees
//! LeaveOrganization; DisableAWSServiceAccess is called in the management account, which
//! service-managed StackSets skip, so only a stack deployed there directly sees it
//! (docs/deploy.md). After LeaveOrganization the state is the coverage verdict: is any
//! multi-region trail still recording the account? After DisableAWSServiceAccess it is the
//! organization's trusted services (ListAWSServiceAccessForOrganization), through
//! [`crate::recorders`].

use async_trait::async_trait;

use crate::alert::NextStep;
use crate::call::ApiCall;
use crate::command;
use crate::enrichment::Enrichment;
use crate::lookup::Lookups;
use crate::monitors::coverage::assess;
use crate::monitors::monitor::{Monitor, Outcome, Rule, Service, StepFacts, Weakening};
use crate::monitors::steps::confirm;
use crate::prose::code;
use crate::resource::{Resource, ResourceKind, ResourceState};
use crate::severity::Severity::*;

pub const SOURCE: &str = "organizations.amazonaws.com";

/// The recorders whose organization-wide reach depends on trusted access: an organization
/// trail (CloudTrail), Config's aggregators and conformance packs, GuardDuty's and Security
/// Hub's delegated administrators.
const RECORDER_PRINCIPALS: [&str; 5] = [
    "cloudtrail.amazonaws.com",
    "config.amazonaws.com",
    "config-multiaccountsetup.amazonaws.com",
    "guardduty.amazonaws.com",
    "securityhub.amazonaws.com",
];

pub struct Organizations;

#[rustfmt::skip]
const RULES: &[Rule] = &[
    Rule { event: "LeaveOrganization", succeeded: High,
        summary: "Account left its organization",
        effect: "the organization's trails no longer record this account, and its Config, GuardDuty and Security Hub administrators no longer see it",
        reduces: true, checks_coverage: true, ..Rule::BASE },
    Rule { event: "DisableAWSServiceAccess", succeeded: Low, weakened: Some(High),
        summary: "Trusted access for an AWS service disabled",
        weakened_summary: "Trusted access for a recorder disabled",
        effect: "the service is not one of the recorders",
        weakens_when: "the service is CloudTrail (organization trails depend on it), Config, GuardDuty or Security Hub", ..Rule::BASE },
];

const SERVICE: Service = Service {
    event_source: SOURCE,
    bus_source: "aws.organizations",
    name: "AWS Organizations",
    rules: RULES,
    guard: &[],
};

#[async_trait]
impl Monitor for Organizations {
    fn service(&self) -> &'static Service {
        &SERVICE
    }

    /// The organization, named by the account that made the call (a leaving account, or the
    /// management account): LeaveOrganization's request has no parameters.
    fn resource(&self, call: &ApiCall) -> Option<Resource> {
        let account = call.account.clone()?;
        Some(Resource::named_in(
            ResourceKind::Organization,
            call,
            account.clone(),
            account,
            None,
        ))
    }

    fn weakenings(&self, call: &ApiCall) -> Vec<Weakening> {
        if call.name != "DisableAWSServiceAccess" {
            return Vec::new();
        }
        match call.string_parameter("servicePrincipal") {
            Some(principal) if RECORDER_PRINCIPALS.contains(&principal) => {
                vec![Weakening::new(format!(
                    "{} may no longer work across the organization's accounts: {}",
                    code(principal),
                    match principal {
                        "cloudtrail.amazonaws.com" => "organization trails depend on it",
                        "guardduty.amazonaws.com" | "securityhub.amazonaws.com" => {
                            "its delegated administrator no longer manages the member accounts"
                        }
                        _ => "its organization-wide rules, conformance packs and aggregators depend on it",
                    }
                ))]
            }
            Some(_) => Vec::new(),
            None => vec![Weakening::new(
                "the request records no servicePrincipal, so which service lost trusted access cannot be checked",
            )],
        }
    }

    fn state_notes(&self, call: &ApiCall, enrichment: &Enrichment) -> Vec<String> {
        let (ResourceState::TrustedAccess { services }, Some(principal), true) = (
            &enrichment.state,
            call.string_parameter("servicePrincipal"),
            call.succeeded(),
        ) else {
            return Vec::new();
        };
        match services.iter().any(|service| service == principal) {
            true => vec![format!(
                "the organization still trusts {} (enabled again since)",
                code(principal)
            )],
            false => vec![format!(
                "the organization does not trust {} now",
                code(principal)
            )],
        }
    }

    async fn look_up(
        &self,
        call: &ApiCall,
        resource: &Resource,
        lookups: &Lookups<'_>,
    ) -> Enrichment {
        match call.name.as_str() {
            "LeaveOrganization" => {
                let Some(scope) = lookups.coverage else {
                    return Enrichment::default();
                };
                let Some(region) = resource.lookup_region() else {
                    return Enrichment::skipped(
                        "the event gives no region to list the account's trails in",
                    );
                };
                let deadline = lookups.deadline;
                let answer = deadline.within(lookups.inspector.trails(region)).await;
                let mut problems = Vec::new();
                let Some(trails) = deadline.note(&mut problems, "DescribeTrails", answer) else {
                    return Enrichment {
                        problems,
                        ..Enrichment::default()
                    };
                };
                let coverage = assess(
                    lookups,
                    scope,
                    &trails,
                    None,
                    "",
                    call.account.as_deref(),
                    region,
                )
                .await;
                Enrichment {
                    coverage: Some(coverage),
                    problems,
                    ..Enrichment::default()
                }
            }
            _ => {
                let deadline = lookups.deadline;
                let answer = deadline.within(lookups.recorders.trusted_services()).await;
                let mut problems = Vec::new();
                match deadline.note(&mut problems, "ListAWSServiceAccessForOrganization", answer) {
                    Some(services) => Enrichment {
                        state: ResourceState::TrustedAccess { services },
                        coverage: None,
                        problems,
                    },
                    None => Enrichment {
                        problems,
                        ..Enrichment::default()
                    },
                }
            }
        }
    }

    fn undo(&self, facts: &StepFacts<'_>) -> Option<NextStep> {
        if facts.call.name != "DisableAWSServiceAccess" || facts.outcome != Outcome::Weakened {
            return None;
        }
        let principal = command::Arg::checked(
            facts.call.string_parameter("servicePrincipal"),
            "SERVICE_PRINCIPAL",
            "a recorder's service principal",
            |principal| RECORDER_PRINCIPALS.contains(&principal),
        );
        Some(command::step(
            "Trust the service again, from the management account; then check that the organization trail, or the service's delegated administrator, works again",
            format!("aws organizations enable-aws-service-access --service-principal {principal}"),
            &[&principal],
        ))
    }

    fn next_steps(&self, facts: &StepFacts<'_>) -> Vec<NextStep> {
        match facts.call.name.as_str() {
            "LeaveOrganization" => vec![
                confirm(facts),
                NextStep::say("Invite the account back from the management account (aws organizations invite-account-to-organization) and accept it here; until then give the account a multi-region trail of its own, and enable Config, GuardDuty and Security Hub in it."),
                command::step(
                    "Check which trails still record the account",
                    "aws cloudtrail describe-trails --region us-east-1".to_string(),
                    &[],
                ),
            ],
            "DisableAWSServiceAccess" if facts.outcome == Outcome::Weakened => vec![
                confirm(facts),
                command::step(
                    "Read which services the organization trusts now",
                    "aws organizations list-aws-service-access-for-organization".to_string(),
                    &[],
                ),
            ],
            _ => vec![confirm(facts)],
        }
    }
}

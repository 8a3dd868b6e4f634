//! AWS Security Hub (CSPM), where the account's findings meet: switched off, cut loose from its
//! administrator, its standards or controls disabled, a product's findings no longer imported,
//! or findings suppressed by an automation rule.
//!
//! Security Hub records these calls with PascalCase parameters (`StandardsSubscriptionArns`,
//! `Actions[].FindingFieldsUpdate.Workflow.Status`). The state is whether Security Hub is still
//! enabled in the call's region (DescribeHub answers InvalidAccessException when it is not),
//! through [`crate::recorders`].

use async_trait::async_trait;
use serde_json::Value;

use crate::alert::NextStep;
use crate::arn::Arn;
use crate::call::ApiCall;
use crate::command;
use crate::enrichment::Enrichment;
use crate::lookup::Lookups;
use crate::monitors::monitor::{
    Monitor, Outcome, RequestPrefix, Rule, Service, StepFacts, Weakening,
};
use crate::monitors::steps::confirm;
use crate::prose::code;
use crate::resource::{Resource, ResourceKind, ResourceState};
use crate::severity::Severity::*;

pub const SOURCE: &str = "securityhub.amazonaws.com";

pub struct SecurityHub;

#[rustfmt::skip]
const RULES: &[Rule] = &[
    Rule { event: "DisableSecurityHub", succeeded: High,
        summary: "AWS Security Hub disabled",
        effect: "the region's findings are no longer gathered, and its controls no longer evaluated",
        reduces: true, ..Rule::BASE },
    Rule { event: "DisableSecurityHubV2", succeeded: High,
        summary: "AWS Security Hub (the new one) disabled",
        effect: "the region's findings are no longer correlated there, and its exposure findings end",
        reduces: true, ..Rule::BASE },
    Rule { event: "DisassociateFromAdministratorAccount", succeeded: High,
        summary: "Security Hub cut loose from its administrator account",
        effect: "the administrator account no longer sees this account's findings",
        reduces: true, ..Rule::BASE },
    Rule { event: "DisassociateFromMasterAccount", succeeded: High,
        summary: "Security Hub cut loose from its administrator account",
        effect: "the administrator account no longer sees this account's findings",
        reduces: true, ..Rule::BASE },
    Rule { event: "BatchDisableStandards", succeeded: Medium,
        summary: "Security Hub standards disabled",
        effect: "the standards' controls are no longer evaluated",
        reduces: true, ..Rule::BASE },
    Rule { event: "BatchUpdateStandardsControlAssociations", succeeded: Low, weakened: Some(Medium),
        summary: "Security Hub controls changed",
        weakened_summary: "Security Hub controls disabled",
        effect: "no control was disabled",
        weakens_when: "a control disabled (a CloudTrail control: HIGH)", ..Rule::BASE },
    Rule { event: "DisableImportFindingsForProduct", succeeded: Medium,
        summary: "A product's findings no longer imported into Security Hub",
        effect: "the product's findings (GuardDuty's, Inspector's, ...) no longer reach Security Hub",
        reduces: true, ..Rule::BASE },
    Rule { event: "CreateAutomationRule", succeeded: Low, weakened: Some(Medium),
        summary: "Security Hub automation rule created",
        weakened_summary: "Security Hub automation rule suppresses findings",
        effect: "the rule neither suppresses, resolves nor downgrades findings",
        weakens_when: "its actions set findings SUPPRESSED or RESOLVED, or their severity INFORMATIONAL", ..Rule::BASE },
    Rule { event: "BatchUpdateAutomationRules", succeeded: Low, weakened: Some(Medium),
        summary: "Security Hub automation rules changed",
        weakened_summary: "Security Hub automation rule suppresses findings",
        effect: "no rule now suppresses, resolves or downgrades findings",
        weakens_when: "an action sets findings SUPPRESSED or RESOLVED, or their severity INFORMATIONAL", ..Rule::BASE },
    Rule { event: "CreateAutomationRuleV2", succeeded: Low, weakened: Some(Medium),
        summary: "Security Hub automation rule created",
        weakened_summary: "Security Hub automation rule suppresses findings",
        effect: "the rule neither suppresses, resolves nor downgrades findings",
        weakens_when: "its actions set findings' status Suppressed, Resolved or Archived, or their severity Informational", ..Rule::BASE },
    Rule { event: "UpdateAutomationRuleV2", succeeded: Low, weakened: Some(Medium),
        summary: "Security Hub automation rule changed",
        weakened_summary: "Security Hub automation rule suppresses findings",
        effect: "the rule now neither suppresses, resolves nor downgrades findings",
        weakens_when: "its actions set findings' status Suppressed, Resolved or Archived, or their severity Informational", ..Rule::BASE },
    Rule { event: "BatchUpdateFindings", succeeded: Low, weakened: Some(Medium),
        summary: "trailwatch's Security Hub findings updated",
        weakened_summary: "trailwatch's Security Hub findings closed",
        effect: "the findings stay open at their severity (a note, a NOTIFIED workflow)",
        weakens_when: "trailwatch's findings set SUPPRESSED or RESOLVED, or downgraded to INFORMATIONAL (only calls on trailwatch's findings are watched)",
        only_when: Some(TRAILWATCH_FINDINGS), ..Rule::BASE },
];

/// BatchUpdateFindings is every analyst's triage; it matters here only on the findings
/// trailwatch imported, whose Ids all begin `trailwatch/` (see [`crate::alert::asff`]).
const TRAILWATCH_FINDINGS: RequestPrefix = RequestPrefix {
    path: &["FindingIdentifiers", "Id"],
    prefix: "trailwatch/",
};

const SERVICE: Service = Service {
    event_source: SOURCE,
    bus_source: "aws.securityhub",
    name: "AWS Security Hub",
    rules: RULES,
    guard: &[],
};

#[async_trait]
impl Monitor for SecurityHub {
    fn service(&self) -> &'static Service {
        &SERVICE
    }

    /// The account's hub in the call's region; an automation rule by its name.
    fn resource(&self, call: &ApiCall) -> Option<Resource> {
        match call.name.as_str() {
            "CreateAutomationRule" | "CreateAutomationRuleV2" => {
                let name = call.named_by(&["RuleName"])?;
                Some(Resource::named_in(
                    ResourceKind::AutomationRule,
                    call,
                    name.clone(),
                    name,
                    None,
                ))
            }
            _ => Some(Resource::named_in(
                ResourceKind::SecurityHub,
                call,
                "default".into(),
                "default".into(),
                None,
            )),
        }
    }

    fn weakenings(&self, call: &ApiCall) -> Vec<Weakening> {
        match call.name.as_str() {
            "BatchUpdateStandardsControlAssociations" => {
                let Some(updates) = call
                    .parameter("StandardsControlAssociationUpdates")
                    .and_then(Value::as_array)
                else {
                    return vec![Weakening::new(
                        "the request records no StandardsControlAssociationUpdates, so what it disabled cannot be checked",
                    )];
                };
                let disabled: Vec<&str> = updates
                    .iter()
                    .filter(|u| {
                        u.get("AssociationStatus").and_then(Value::as_str) == Some("DISABLED")
                    })
                    .map(|u| {
                        u.get("SecurityControlId")
                            .and_then(Value::as_str)
                            .unwrap_or("?")
                    })
                    .collect();
                if disabled.is_empty() {
                    return Vec::new();
                }
                let listed: Vec<String> = disabled.iter().take(8).map(|id| code(id)).collect();
                let reason = format!(
                    "{} control(s) disabled: {}{}",
                    disabled.len(),
                    listed.join(", "),
                    if disabled.len() > 8 { ", ..." } else { "" }
                );
                // A CloudTrail control disabled hides exactly what trailwatch exists to see.
                match disabled.iter().any(|id| id.starts_with("CloudTrail.")) {
                    true => vec![Weakening::at(High, reason)],
                    false => vec![Weakening::new(reason)],
                }
            }
            "CreateAutomationRule" => suppressions(call.parameter("Actions")),
            "CreateAutomationRuleV2" | "UpdateAutomationRuleV2" => {
                suppressions_v2(call.parameter("Actions"))
            }
            "BatchUpdateFindings" => closes_trailwatch_findings(call),
            "BatchUpdateAutomationRules" => call
                .parameter("UpdateAutomationRulesRequestItems")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .flat_map(|item| suppressions(item.get("Actions")))
                .collect(),
            _ => Vec::new(),
        }
    }

    fn state_notes(&self, call: &ApiCall, enrichment: &Enrichment) -> Vec<String> {
        match (&enrichment.state, call.succeeded()) {
            (
                ResourceState::SecurityHub {
                    region,
                    enabled: false,
                },
                true,
            ) => vec![format!(
                "Security Hub is not enabled in {} now",
                code(region)
            )],
            (
                ResourceState::SecurityHub {
                    region,
                    enabled: true,
                },
                true,
            ) => vec![format!("Security Hub is still enabled in {}", code(region))],
            _ => Vec::new(),
        }
    }

    async fn look_up(
        &self,
        call: &ApiCall,
        resource: &Resource,
        lookups: &Lookups<'_>,
    ) -> Enrichment {
        if call.name.ends_with("V2") {
            // DescribeHub answers for Security Hub CSPM; the new Security Hub is enabled apart.
            return Enrichment::skipped(
                "the new Security Hub's state is not read (DescribeHub answers for Security Hub CSPM only)",
            );
        }
        lookups
            .regional_state(
                resource,
                "Security Hub",
                "DescribeHub",
                |region| lookups.recorders.security_hub_enabled(region),
                |region, enabled| ResourceState::SecurityHub { region, enabled },
            )
            .await
    }

    fn undo(&self, facts: &StepFacts<'_>) -> Option<NextStep> {
        let region = command::region(facts.resource.and_then(|r| r.region.as_deref()));
        match facts.call.name.as_str() {
            "DisableSecurityHub" => Some(command::step(
                "Enable Security Hub again (then enable the standards you use)",
                format!("aws securityhub enable-security-hub --enable-default-standards --region {region}"),
                &[&region],
            )),
            "DisableSecurityHubV2" => Some(command::step(
                "Enable the new Security Hub again",
                format!("aws securityhub enable-security-hub-v2 --region {region}"),
                &[&region],
            )),
            "DisableImportFindingsForProduct" => {
                let product = product_of(facts.call);
                Some(command::step(
                    "Import the product's findings again",
                    format!("aws securityhub enable-import-findings-for-product --product-arn {product} --region {region}"),
                    &[&product, &region],
                ))
            }
            _ => None,
        }
    }

    fn next_steps(&self, facts: &StepFacts<'_>) -> Vec<NextStep> {
        let region = command::region(facts.resource.and_then(|r| r.region.as_deref()));
        let check = |action: &str, what: &str| {
            command::step(
                action,
                format!("aws securityhub {what} --region {region}"),
                &[&region],
            )
        };
        match facts.call.name.as_str() {
            "DisableSecurityHub" => vec![confirm(facts), check("Check it is enabled again", "describe-hub")],
            "DisassociateFromAdministratorAccount" | "DisassociateFromMasterAccount" => vec![
                confirm(facts),
                NextStep::say("From the administrator account, invite this account again (or let the organization's configuration enable it), and accept the invitation here."),
            ],
            "BatchDisableStandards" => vec![
                confirm(facts),
                check("Check which standards are still enabled", "get-enabled-standards"),
            ],
            "BatchUpdateStandardsControlAssociations" if facts.outcome == Outcome::Weakened => vec![
                confirm(facts),
                NextStep::say("Enable the controls again (aws securityhub batch-update-standards-control-associations with AssociationStatus=ENABLED for each), unless a documented exception covers them."),
            ],
            "CreateAutomationRule" | "BatchUpdateAutomationRules" if facts.outcome == Outcome::Weakened => vec![
                confirm(facts),
                check("Read the rules and their actions; disable or delete any that hides findings without a documented reason", "list-automation-rules"),
            ],
            "CreateAutomationRuleV2" | "UpdateAutomationRuleV2" if facts.outcome == Outcome::Weakened => vec![
                confirm(facts),
                check("Read the rules and their actions; disable or delete any that hides findings without a documented reason", "list-automation-rules-v2"),
            ],
            "DisableSecurityHubV2" => vec![confirm(facts), check("Check it is enabled again", "describe-security-hub-v2")],
            "BatchUpdateFindings" if facts.outcome == Outcome::Weakened => vec![
                confirm(facts),
                NextStep::say("Read the alerts these findings record; reopen them (BatchUpdateFindings with Workflow Status NEW) unless the closing was a documented decision."),
            ],
            _ => vec![confirm(facts)],
        }
    }
}

/// What automation-rule `actions` do to findings that hides them: set them SUPPRESSED or
/// RESOLVED (a new finding matching the rule is closed as it arrives), or their severity
/// INFORMATIONAL.
fn suppressions(actions: Option<&Value>) -> Vec<Weakening> {
    let mut found = Vec::new();
    for action in actions.and_then(Value::as_array).into_iter().flatten() {
        let update = action.get("FindingFieldsUpdate");
        let workflow = update
            .and_then(|u| u.get("Workflow"))
            .and_then(|w| w.get("Status"))
            .and_then(Value::as_str);
        if let Some(status @ ("SUPPRESSED" | "RESOLVED")) = workflow {
            found.push(Weakening::new(format!(
                "an action sets matching findings' workflow to {status}: they are closed as they arrive"
            )));
        }
        let label = update
            .and_then(|u| u.get("Severity"))
            .and_then(|s| s.get("Label"))
            .and_then(Value::as_str);
        if label == Some("INFORMATIONAL") {
            found.push(Weakening::new(
                "an action downgrades matching findings to INFORMATIONAL",
            ));
        }
    }
    found
}

/// What V2 automation-rule `actions` do to findings that hides them. The new Security Hub's
/// findings are OCSF: `StatusId` 3 Suppressed, 4 Resolved, 5 Archived; `SeverityId` 1
/// Informational.
fn suppressions_v2(actions: Option<&Value>) -> Vec<Weakening> {
    let mut found = Vec::new();
    for action in actions.and_then(Value::as_array).into_iter().flatten() {
        let update = action.get("FindingFieldsUpdate");
        let field = |name: &str| update.and_then(|u| u.get(name)).and_then(Value::as_i64);
        let status = match field("StatusId") {
            Some(3) => Some("Suppressed"),
            Some(4) => Some("Resolved"),
            Some(5) => Some("Archived"),
            _ => None,
        };
        if let Some(status) = status {
            found.push(Weakening::new(format!(
                "an action sets matching findings' status to {status}: they are closed as they arrive"
            )));
        }
        if field("SeverityId") == Some(1) {
            found.push(Weakening::new(
                "an action downgrades matching findings to Informational",
            ));
        }
    }
    found
}

/// A BatchUpdateFindings that closes or downgrades trailwatch's own findings: someone made an
/// alert's record in Security Hub go away.
fn closes_trailwatch_findings(call: &ApiCall) -> Vec<Weakening> {
    let ours: Vec<&str> = call
        .parameter("FindingIdentifiers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|finding| finding.get("Id").and_then(Value::as_str))
        .filter(|id| id.starts_with(TRAILWATCH_FINDINGS.prefix))
        .collect();
    // The Ids name the alerts (`.../event/EVENT_ID`): a few are enough to find the rest.
    let named: Vec<String> = ours.iter().take(3).map(|id| code(id)).collect();
    let findings = format!(
        "{} of trailwatch's findings ({}{})",
        ours.len(),
        named.join(", "),
        if ours.len() > 3 { ", ..." } else { "" }
    );
    let workflow = call
        .parameter("Workflow")
        .and_then(|w| w.get("Status"))
        .and_then(Value::as_str);
    let label = call
        .parameter("Severity")
        .and_then(|s| s.get("Label"))
        .and_then(Value::as_str);
    let mut found = Vec::new();
    if let Some(status @ ("SUPPRESSED" | "RESOLVED")) = workflow {
        found.push(Weakening::new(format!(
            "{findings} set {status}: they leave the open findings auditors read"
        )));
    }
    if label == Some("INFORMATIONAL") {
        found.push(Weakening::new(format!(
            "{findings} downgraded to INFORMATIONAL"
        )));
    }
    found
}

/// The product whose findings stopped, as a command may name it: its product ARN
/// (`arn:aws:securityhub:REGION::product/COMPANY/PRODUCT`), from the product subscription
/// the request names (`...:product-subscription/COMPANY/PRODUCT`).
fn product_of(call: &ApiCall) -> command::Arg {
    let product = call
        .string_parameter("ProductSubscriptionArn")
        .and_then(Arn::parse)
        .filter(|arn| arn.service == "securityhub")
        .and_then(|arn| {
            let path = arn.resource_after("product-subscription/")?;
            let region = arn.region.clone()?;
            Some(format!(
                "arn:{}:securityhub:{region}::product/{path}",
                arn.partition
            ))
        });
    command::Arg::checked(
        product.as_deref(),
        "PRODUCT_ARN",
        "a Security Hub product",
        |v| {
            Arn::parse(v).is_some_and(|arn| {
                arn.service == "securityhub"
                    && arn.region.as_deref().is_some_and(|region| {
                        crate::shape::is_region_of(region, Some(&arn.partition))
                    })
                    && arn.resource_after("product/").is_some_and(|path| {
                        path.split('/').count() == 2
                            && path
                                .bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b))
                    })
            })
        },
    )
}

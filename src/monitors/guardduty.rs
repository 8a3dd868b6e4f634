//! Amazon GuardDuty, the recorder that reads the account's logs for threats: its detector
//! deleted or suspended, protection plans turned off, the account cut loose from its
//! administrator (or members from theirs), findings auto-archived by a filter, trusted lists
//! that silence findings for chosen addresses, findings no longer exported.
//!
//! GuardDuty records these calls with camelCase parameters, the path's `detectorId` beside the
//! body's fields (`enable`, `features`, `action`, `activate`). The state is the region's
//! detectors (ListDetectors, GetDetector), through [`crate::recorders`].

use async_trait::async_trait;
use serde_json::Value;

use crate::alert::NextStep;
use crate::call::ApiCall;
use crate::command;
use crate::enrichment::Enrichment;
use crate::lookup::Lookups;
use crate::monitors::monitor::{Monitor, Outcome, Rule, Service, StepFacts, Weakening};
use crate::monitors::steps::confirm;
use crate::prose::code;
use crate::resource::{guardduty_watches, Resource, ResourceKind, ResourceState};
use crate::severity::Severity::*;

pub const SOURCE: &str = "guardduty.amazonaws.com";

pub struct GuardDuty;

#[rustfmt::skip]
const RULES: &[Rule] = &[
    Rule { event: "DeleteDetector", succeeded: High,
        summary: "GuardDuty detector deleted",
        effect: "GuardDuty no longer analyses the region's logs, and the detector's findings are deleted",
        reduces: true, ..Rule::BASE },
    Rule { event: "UpdateDetector", succeeded: Low, weakened: Some(Medium),
        summary: "GuardDuty detector changed",
        weakened_summary: "GuardDuty detector weakened",
        effect: "the detector stays enabled with every protection plan it had",
        weakens_when: "protection plans or data sources turned off (the detector suspended: HIGH)", ..Rule::BASE },
    Rule { event: "DisassociateFromAdministratorAccount", succeeded: High,
        summary: "GuardDuty cut loose from its administrator account",
        effect: "the administrator account no longer sees this account's findings",
        reduces: true, ..Rule::BASE },
    Rule { event: "DisassociateFromMasterAccount", succeeded: High,
        summary: "GuardDuty cut loose from its administrator account",
        effect: "the administrator account no longer sees this account's findings",
        reduces: true, ..Rule::BASE },
    Rule { event: "DisassociateMembers", succeeded: High,
        summary: "GuardDuty member accounts disassociated",
        effect: "this administrator no longer sees the members' findings",
        reduces: true, ..Rule::BASE },
    Rule { event: "DeleteMembers", succeeded: High,
        summary: "GuardDuty member accounts deleted",
        effect: "this administrator no longer sees the members' findings",
        reduces: true, ..Rule::BASE },
    Rule { event: "StopMonitoringMembers", succeeded: High,
        summary: "GuardDuty stopped monitoring member accounts",
        effect: "the members' detectors no longer report to this administrator",
        reduces: true, ..Rule::BASE },
    Rule { event: "UpdateMemberDetectors", succeeded: Low, weakened: Some(Medium),
        summary: "GuardDuty member detectors changed",
        weakened_summary: "GuardDuty member detectors weakened",
        effect: "no member's protection plan was turned off",
        weakens_when: "members' protection plans or data sources turned off", ..Rule::BASE },
    Rule { event: "CreateFilter", succeeded: Low, weakened: Some(Medium),
        summary: "GuardDuty filter created",
        weakened_summary: "GuardDuty suppression rule created",
        effect: "the filter only saves a view (action NOOP)",
        weakens_when: "its action is ARCHIVE: matching findings are archived as they arrive", ..Rule::BASE },
    Rule { event: "UpdateFilter", succeeded: Low, weakened: Some(Medium),
        summary: "GuardDuty filter changed",
        weakened_summary: "GuardDuty suppression rule set",
        effect: "the filter does not archive findings",
        weakens_when: "its action set to ARCHIVE", ..Rule::BASE },
    Rule { event: "CreateIPSet", succeeded: Low, weakened: Some(Medium),
        summary: "GuardDuty trusted IP list created",
        weakened_summary: "GuardDuty trusted IP list activated",
        effect: "the list is not active",
        weakens_when: "activated: no findings for the addresses it lists", ..Rule::BASE },
    Rule { event: "UpdateIPSet", succeeded: Low, weakened: Some(Medium),
        summary: "GuardDuty trusted IP list changed",
        weakened_summary: "GuardDuty trusted IP list activated or replaced",
        effect: "the list was neither activated nor pointed at another file",
        weakens_when: "activated, or its location changed (the trusted addresses replaced)", ..Rule::BASE },
    Rule { event: "CreateTrustedEntitySet", succeeded: Low, weakened: Some(Medium),
        summary: "GuardDuty trusted entity list created",
        weakened_summary: "GuardDuty trusted entity list activated",
        effect: "the list is not active",
        weakens_when: "activated: no findings for the addresses and domains it lists", ..Rule::BASE },
    Rule { event: "UpdateTrustedEntitySet", succeeded: Low, weakened: Some(Medium),
        summary: "GuardDuty trusted entity list changed",
        weakened_summary: "GuardDuty trusted entity list activated or replaced",
        effect: "the list was neither activated nor pointed at another file",
        weakens_when: "activated, or its location changed (the trusted entities replaced)", ..Rule::BASE },
    Rule { event: "DeletePublishingDestination", succeeded: Medium,
        summary: "GuardDuty findings no longer exported",
        effect: "the findings stop reaching the S3 bucket they were exported to",
        reduces: true, ..Rule::BASE },
];

const SERVICE: Service = Service {
    event_source: SOURCE,
    bus_source: "aws.guardduty",
    name: "Amazon GuardDuty",
    rules: RULES,
    guard: &[],
};

#[async_trait]
impl Monitor for GuardDuty {
    fn service(&self) -> &'static Service {
        &SERVICE
    }

    /// The region's detector, by the id the request's path names; what the call did to it (a
    /// filter, a list, members) is in the reasons.
    fn resource(&self, call: &ApiCall) -> Option<Resource> {
        let id = call.named_by(&["detectorId"])?;
        Some(Resource::named_in(
            ResourceKind::Detector,
            call,
            id.clone(),
            id,
            None,
        ))
    }

    fn weakenings(&self, call: &ApiCall) -> Vec<Weakening> {
        match call.name.as_str() {
            "UpdateDetector" => {
                let mut found = Vec::new();
                if call.bool_parameter("enable") == Some(false) {
                    found.push(Weakening::at(
                        High,
                        "enable set to false: the detector is suspended and analyses nothing",
                    ));
                }
                found.extend(plans_off(call));
                found
            }
            "UpdateMemberDetectors" => plans_off(call)
                .into_iter()
                .map(|weakening| Weakening {
                    reason: format!("for {}: {}", accounts(call), weakening.reason),
                    ..weakening
                })
                .collect(),
            "CreateFilter" | "UpdateFilter" => match call.string_parameter("action") {
                Some("ARCHIVE") => vec![Weakening::new(format!(
                    "filter {} archives the findings it matches as they arrive: nobody sees them",
                    code(filter_name(call).unwrap_or("?"))
                ))],
                _ => Vec::new(),
            },
            "CreateIPSet" | "UpdateIPSet" | "CreateTrustedEntitySet" | "UpdateTrustedEntitySet" => {
                trusted_list_changes(call)
            }
            _ => Vec::new(),
        }
    }

    fn state_notes(&self, call: &ApiCall, enrichment: &Enrichment) -> Vec<String> {
        let ResourceState::GuardDuty { region, detectors } = &enrichment.state else {
            return Vec::new();
        };
        if !call.succeeded() {
            return Vec::new();
        }
        let mut notes = vec![match guardduty_watches(detectors) {
            Some(true) => format!("GuardDuty is still enabled in {}", code(region)),
            Some(false) if detectors.is_empty() => {
                format!("GuardDuty has no detector in {} now", code(region))
            }
            Some(false) => format!("GuardDuty's detector in {} is suspended now", code(region)),
            None => return Vec::new(),
        }];
        for detector in detectors
            .iter()
            .filter(|detector| !detector.disabled_features.is_empty())
        {
            let plans: Vec<String> = detector
                .disabled_features
                .iter()
                .map(|plan| code(plan))
                .collect();
            notes.push(format!("protection plans off now: {}", plans.join(", ")));
        }
        notes
    }

    async fn look_up(
        &self,
        _call: &ApiCall,
        resource: &Resource,
        lookups: &Lookups<'_>,
    ) -> Enrichment {
        lookups
            .regional_state(
                resource,
                "GuardDuty",
                "ListDetectors/GetDetector",
                |region| lookups.recorders.guardduty_detectors(region),
                |region, detectors| ResourceState::GuardDuty { region, detectors },
            )
            .await
    }

    fn undo(&self, facts: &StepFacts<'_>) -> Option<NextStep> {
        let region = command::region(facts.resource.and_then(|r| r.region.as_deref()));
        let detector = detector_of(facts.call);
        let call = facts.call;
        match call.name.as_str() {
            "DeleteDetector" => Some(command::step(
                "Create a detector again (the deleted one's findings are gone; enable the protection plans you used)",
                format!("aws guardduty create-detector --enable --region {region}"),
                &[&region],
            )),
            "UpdateDetector" if call.bool_parameter("enable") == Some(false) => {
                Some(command::step(
                    "Enable the detector again",
                    format!(
                        "aws guardduty update-detector --detector-id {detector} --enable --region {region}"
                    ),
                    &[&detector, &region],
                ))
            }
            "CreateFilter" | "UpdateFilter" if facts.outcome == Outcome::Weakened => {
                let filter = command::Arg::checked(
                    filter_name(call),
                    "FILTER_NAME",
                    "a GuardDuty filter name",
                    is_filter_name,
                );
                Some(command::step(
                    "Stop the filter archiving findings (it stays as a saved view)",
                    format!("aws guardduty update-filter --detector-id {detector} --filter-name {filter} --action NOOP --region {region}"),
                    &[&detector, &filter, &region],
                ))
            }
            "CreateIPSet" | "UpdateIPSet" if facts.outcome == Outcome::Weakened => {
                let set = list_id(call, "ipSetId", "IP_SET_ID", "a GuardDuty IP set id");
                Some(command::step(
                    "Deactivate the trusted IP list",
                    format!("aws guardduty update-ip-set --detector-id {detector} --ip-set-id {set} --no-activate --region {region}"),
                    &[&detector, &set, &region],
                ))
            }
            "CreateTrustedEntitySet" | "UpdateTrustedEntitySet"
                if facts.outcome == Outcome::Weakened =>
            {
                let set = list_id(
                    call,
                    "trustedEntitySetId",
                    "TRUSTED_ENTITY_SET_ID",
                    "a GuardDuty trusted entity set id",
                );
                Some(command::step(
                    "Deactivate the trusted entity list",
                    format!("aws guardduty update-trusted-entity-set --detector-id {detector} --trusted-entity-set-id {set} --no-activate --region {region}"),
                    &[&detector, &set, &region],
                ))
            }
            "StopMonitoringMembers" => {
                let members = member_accounts(call);
                let listed: Vec<String> = members.iter().map(ToString::to_string).collect();
                let mut args: Vec<&command::Arg> = vec![&detector, &region];
                args.extend(members.iter());
                Some(command::step(
                    "Monitor the member accounts again",
                    format!(
                        "aws guardduty start-monitoring-members --detector-id {detector} --account-ids {} --region {region}",
                        listed.join(" ")
                    ),
                    &args,
                ))
            }
            _ => None,
        }
    }

    fn next_steps(&self, facts: &StepFacts<'_>) -> Vec<NextStep> {
        let region = command::region(facts.resource.and_then(|r| r.region.as_deref()));
        let detector = detector_of(facts.call);
        let read = |action: &str| {
            command::step(
                action,
                format!("aws guardduty get-detector --detector-id {detector} --region {region}"),
                &[&detector, &region],
            )
        };
        match facts.call.name.as_str() {
            "DeleteDetector" => vec![
                confirm(facts),
                command::step(
                    "Check a detector is enabled again",
                    format!("aws guardduty list-detectors --region {region}"),
                    &[&region],
                ),
            ],
            "UpdateDetector" | "UpdateMemberDetectors" if facts.outcome == Outcome::Weakened => vec![
                confirm(facts),
                read("Read the detector's protection plans, and enable again (update-detector --features Name=...,Status=ENABLED) those turned off"),
            ],
            "DisassociateFromAdministratorAccount" | "DisassociateFromMasterAccount" => vec![
                confirm(facts),
                NextStep::say("From the administrator account, add this account again (or let the organization's auto-enable do it), and accept the invitation here."),
            ],
            "DisassociateMembers" | "DeleteMembers" => vec![
                confirm(facts),
                NextStep::say("Add the member accounts again (aws guardduty create-members, then invite-members or the organization's auto-enable), and check each accepts."),
            ],
            "DeletePublishingDestination" => vec![
                confirm(facts),
                NextStep::say("Export the findings again (aws guardduty create-publishing-destination with the bucket and KMS key they went to), unless the export moved on purpose."),
            ],
            _ => vec![confirm(facts)],
        }
    }
}

/// The protection plans and data sources a request turns off: `features[].status` DISABLED
/// (and their `additionalConfiguration`), and the older `dataSources` with `enable` false.
fn plans_off(call: &ApiCall) -> Vec<Weakening> {
    let mut off: Vec<String> = Vec::new();
    for feature in call
        .parameter("features")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = feature.get("name").and_then(Value::as_str).unwrap_or("?");
        if feature.get("status").and_then(Value::as_str) == Some("DISABLED") {
            off.push(code(name));
        }
        for extra in feature
            .get("additionalConfiguration")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|extra| extra.get("status").and_then(Value::as_str) == Some("DISABLED"))
        {
            let extra_name = extra.get("name").and_then(Value::as_str).unwrap_or("?");
            off.push(format!("{} of {}", code(extra_name), code(name)));
        }
    }
    if let Some(sources) = call.parameter("dataSources") {
        for (path, shown) in [
            (&["s3Logs", "enable"][..], "S3 logs"),
            (
                &["kubernetes", "auditLogs", "enable"][..],
                "Kubernetes audit logs",
            ),
            (
                &[
                    "malwareProtection",
                    "scanEc2InstanceWithFindings",
                    "ebsVolumes",
                ][..],
                "malware protection of EBS volumes",
            ),
        ] {
            let value = path.iter().try_fold(sources, |value, key| value.get(key));
            if value.and_then(Value::as_bool) == Some(false) {
                off.push(shown.to_string());
            }
        }
    }
    match off.as_slice() {
        [] => Vec::new(),
        plans => vec![Weakening::new(format!(
            "protection turned off: {}",
            plans.join(", ")
        ))],
    }
}

/// What a trusted IP or entity list request does that silences findings: it activates the
/// list, or points an existing one at another file.
fn trusted_list_changes(call: &ApiCall) -> Vec<Weakening> {
    let name = call
        .string_parameter("name")
        .map(|name| format!(" {}", code(name)))
        .unwrap_or_default();
    let mut found = Vec::new();
    if call.bool_parameter("activate") == Some(true) {
        found.push(Weakening::new(format!(
            "the list{name} is activated: GuardDuty raises no findings for what it lists"
        )));
    }
    if call.name.starts_with("Update") {
        if let Some(location) = call.string_parameter("location") {
            found.push(Weakening::new(format!(
                "the list{name} now reads {}: the trusted addresses are whatever that file says",
                code(location)
            )));
        }
    }
    found
}

/// A filter's name: CreateFilter's `name`, UpdateFilter's `filterName` (its path).
fn filter_name(call: &ApiCall) -> Option<&str> {
    call.string_parameter("filterName")
        .or_else(|| call.string_parameter("name"))
}

/// GuardDuty's filter names: 3 to 64 letters, digits, `.`, `_` and `-`.
fn is_filter_name(name: &str) -> bool {
    (3..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn detector_of(call: &ApiCall) -> command::Arg {
    command::Arg::checked(
        call.string_parameter("detectorId"),
        "DETECTOR_ID",
        "a GuardDuty detector id",
        |id| ResourceKind::Detector.is_valid_name(id),
    )
}

/// A trusted list's id: the request's (an update's path), or the one a create answered with.
fn list_id(
    call: &ApiCall,
    key: &str,
    placeholder: &'static str,
    what: &'static str,
) -> command::Arg {
    let id = call.string_parameter(key).or_else(|| {
        call.response_elements
            .as_ref()
            .and_then(|response| response.get(key))
            .and_then(Value::as_str)
    });
    command::Arg::checked(id, placeholder, what, |id| {
        (1..=300).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric())
    })
}

/// The member accounts a request names (`accountIds`), for a command: twelve digits each, one
/// argument per account (at most ten; more are left for the responder to add).
fn member_accounts(call: &ApiCall) -> Vec<command::Arg> {
    let is_account = |id: &str| id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit());
    let ids: Vec<command::Arg> = call
        .parameter("accountIds")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .take(10)
        .map(|id| {
            command::Arg::checked(
                id.as_str(),
                "ACCOUNT_ID",
                "a twelve-digit account id",
                is_account,
            )
        })
        .collect();
    match ids.is_empty() {
        true => vec![command::Arg::placeholder("ACCOUNT_IDS")],
        false => ids,
    }
}

/// The member accounts, for a reason.
fn accounts(call: &ApiCall) -> String {
    let ids: Vec<String> = call
        .parameter("accountIds")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .take(8)
        .map(code)
        .collect();
    match ids.as_slice() {
        [] => "the members".to_string(),
        ids => format!("member(s) {}", ids.join(", ")),
    }
}

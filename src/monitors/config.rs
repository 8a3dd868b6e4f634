//! AWS Config, the account's other recorder (CIS AWS Foundations v3.0.0 4.9 asks for its
//! changes to be monitored as 4.5 asks for CloudTrail's): its recorder stopped, deleted or
//! narrowed, its delivery channel deleted or moved, its history kept for less time, and the
//! rules, conformance packs and aggregators that read what it records deleted.
//!
//! The state is whether Config still records in the call's region
//! (`DescribeConfigurationRecorderStatus`), through [`crate::recorders`].

use async_trait::async_trait;
use serde_json::Value;

use crate::alert::NextStep;
use crate::arn::Arn;
use crate::call::ApiCall;
use crate::command::{self, Arg};
use crate::enrichment::Enrichment;
use crate::lookup::Lookups;
use crate::monitors::monitor::{Monitor, Outcome, Rule, Service, StepFacts, Weakening};
use crate::monitors::steps::{confirm, MIN_RETENTION_DAYS};
use crate::prose::code;
use crate::resource::{config_records, Resource, ResourceKind, ResourceState};
use crate::severity::Severity::*;

pub const SOURCE: &str = "config.amazonaws.com";

pub struct Config;

/// Config keeps configuration history seven years unless told otherwise
/// (PutRetentionConfiguration: "the default retention period is 2557 days").
const DEFAULT_RETENTION_DAYS: i64 = 2557;

#[rustfmt::skip]
const RULES: &[Rule] = &[
    Rule { event: "StopConfigurationRecorder", succeeded: High,
        summary: "AWS Config recording stopped",
        effect: "configuration changes in the region are no longer recorded",
        reduces: true, ..Rule::BASE },
    Rule { event: "DeleteConfigurationRecorder", succeeded: High,
        summary: "AWS Config recorder deleted",
        effect: "nothing records configuration changes in the region until a recorder is created and started again",
        reduces: true, ..Rule::BASE },
    Rule { event: "DeleteServiceLinkedConfigurationRecorder", succeeded: High,
        summary: "A service-linked AWS Config recorder deleted",
        effect: "the service that owned it (Security Hub, for example) no longer has its resources recorded",
        reduces: true, ..Rule::BASE },
    Rule { event: "DeleteDeliveryChannel", succeeded: High,
        summary: "AWS Config delivery channel deleted",
        effect: "configuration history and snapshots are no longer delivered to S3",
        reduces: true, ..Rule::BASE },
    Rule { event: "PutConfigurationRecorder", succeeded: Low, weakened: Some(Medium),
        summary: "AWS Config recorder changed",
        weakened_summary: "AWS Config recorder narrowed",
        effect: "the recorder still records every supported resource type, global ones included, continuously",
        weakens_when: "not all supported types, global types dropped, types excluded, daily recording (nothing recorded at all: HIGH)", ..Rule::BASE },
    Rule { event: "DisassociateResourceTypes", succeeded: Medium,
        summary: "Resource types removed from an AWS Config recorder",
        effect: "the recorder no longer records the resource types removed",
        reduces: true, ..Rule::BASE },
    Rule { event: "PutDeliveryChannel", succeeded: Medium,
        summary: "AWS Config delivery channel changed",
        effect: "the channel decides where configuration history goes: a new bucket or topic moves the evidence", ..Rule::BASE },
    Rule { event: "PutRetentionConfiguration", succeeded: Low, weakened: Some(Medium),
        summary: "AWS Config retention changed",
        weakened_summary: "AWS Config history kept for less than a year",
        effect: "configuration history is still kept for a year or more",
        weakens_when: "retention under 365 days", ..Rule::BASE },
    Rule { event: "DeleteRetentionConfiguration", succeeded: Low,
        summary: "AWS Config retention setting deleted",
        effect: "Config keeps configuration history for its default seven years again", ..Rule::BASE },
    Rule { event: "DeleteConfigRule", succeeded: Medium,
        summary: "AWS Config rule deleted",
        effect: "what the rule checked is no longer evaluated",
        reduces: true, ..Rule::BASE },
    Rule { event: "DeleteConformancePack", succeeded: Medium,
        summary: "AWS Config conformance pack deleted",
        effect: "the pack's rules are deleted with it: what they checked is no longer evaluated",
        reduces: true, ..Rule::BASE },
    Rule { event: "DeleteConfigurationAggregator", succeeded: Medium,
        summary: "AWS Config aggregator deleted",
        effect: "the accounts and regions it gathered are no longer seen in one place",
        reduces: true, ..Rule::BASE },
];

const SERVICE: Service = Service {
    event_source: SOURCE,
    bus_source: "aws.config",
    name: "AWS Config",
    rules: RULES,
    guard: &[],
};

/// What each call names, and where its request keeps the name.
fn named(call: &ApiCall) -> Option<(ResourceKind, String)> {
    let nested = |outer: &str, inner: &str| {
        call.parameter(outer)
            .and_then(|value| value.get(inner))
            .and_then(Value::as_str)
            .map(|name| crate::call::cap(name.trim()))
            .filter(|name| !name.is_empty())
    };
    match call.name.as_str() {
        "StopConfigurationRecorder" | "DeleteConfigurationRecorder" => Some((
            ResourceKind::ConfigRecorder,
            call.named_by(&["configurationRecorderName"])?,
        )),
        "PutConfigurationRecorder" => Some((
            ResourceKind::ConfigRecorder,
            nested("configurationRecorder", "name")?,
        )),
        // A service-linked recorder is named by the service that owns it.
        "DeleteServiceLinkedConfigurationRecorder" => Some((
            ResourceKind::ConfigRecorder,
            call.named_by(&["servicePrincipal"])?,
        )),
        // Any recorder, by ARN: `...:configuration-recorder/NAME/ID`.
        "DisassociateResourceTypes" => {
            let arn = call.named_by(&["configurationRecorderArn"])?;
            let name = Arn::parse(&arn)
                .and_then(|arn| {
                    arn.resource_after("configuration-recorder/")
                        .map(|rest| rest.split('/').next().unwrap_or(rest).to_string())
                })
                .unwrap_or(arn);
            Some((ResourceKind::ConfigRecorder, name))
        }
        "DeleteDeliveryChannel" => Some((
            ResourceKind::DeliveryChannel,
            call.named_by(&["deliveryChannelName"])?,
        )),
        "PutDeliveryChannel" => Some((
            ResourceKind::DeliveryChannel,
            nested("deliveryChannel", "name")?,
        )),
        // The account has one retention setting, always called `default`; the request to put
        // it names none.
        "PutRetentionConfiguration" => Some((ResourceKind::ConfigRetention, "default".into())),
        "DeleteRetentionConfiguration" => Some((
            ResourceKind::ConfigRetention,
            call.named_by(&["retentionConfigurationName"])?,
        )),
        "DeleteConfigRule" => Some((
            ResourceKind::ConfigRule,
            call.named_by(&["configRuleName"])?,
        )),
        "DeleteConformancePack" => Some((
            ResourceKind::ConformancePack,
            call.named_by(&["conformancePackName"])?,
        )),
        "DeleteConfigurationAggregator" => Some((
            ResourceKind::ConfigAggregator,
            call.named_by(&["configurationAggregatorName"])?,
        )),
        _ => None,
    }
}

#[async_trait]
impl Monitor for Config {
    fn service(&self) -> &'static Service {
        &SERVICE
    }

    fn resource(&self, call: &ApiCall) -> Option<Resource> {
        let (kind, name) = named(call)?;
        // Config resources are named within the call's account and region.
        Some(Resource::named_in(kind, call, name.clone(), name, None))
    }

    fn weakenings(&self, call: &ApiCall) -> Vec<Weakening> {
        match call.name.as_str() {
            "PutConfigurationRecorder" => call
                .parameter("configurationRecorder")
                .map(recorder_narrowings)
                .unwrap_or_else(|| {
                    vec![Weakening::new(
                        "the request records no configurationRecorder, so what it records cannot be checked",
                    )]
                }),
            "PutRetentionConfiguration" => match call.number_parameter("retentionPeriodInDays") {
                Some(days) if days < MIN_RETENTION_DAYS => vec![Weakening::new(format!(
                    "retentionPeriodInDays set to {days}: configuration history older than that is deleted"
                ))
                .undone_by("--retention-period-in-days 2557")],
                Some(_) => Vec::new(),
                None => vec![Weakening::new(
                    "the request records no retentionPeriodInDays, so the retention cannot be checked",
                )],
            },
            _ => Vec::new(),
        }
    }

    fn state_notes(&self, call: &ApiCall, enrichment: &Enrichment) -> Vec<String> {
        let ResourceState::ConfigRecorders { region, recorders } = &enrichment.state else {
            return Vec::new();
        };
        if !call.succeeded() {
            return Vec::new();
        }
        match config_records(recorders) {
            Some(false) if recorders.is_empty() => vec![format!(
                "AWS Config has no recorder in {} now: nothing records configuration changes there",
                code(region)
            )],
            Some(false) => vec![format!(
                "no AWS Config recorder is recording in {} now",
                code(region)
            )],
            Some(true) => vec![format!("AWS Config is still recording in {}", code(region))],
            None => Vec::new(),
        }
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
                "AWS Config",
                "DescribeConfigurationRecorderStatus",
                |region| lookups.recorders.config_recorders(region),
                |region, recorders| ResourceState::ConfigRecorders { region, recorders },
            )
            .await
    }

    fn undo(&self, facts: &StepFacts<'_>) -> Option<NextStep> {
        let (name, region) = name_and_region(facts);
        // The role the recorder used, when the request names one (a narrowing PutConfigurationRecorder).
        let role = Arg::checked(
            facts
                .call
                .parameter("configurationRecorder")
                .and_then(|recorder| recorder.get("roleARN"))
                .and_then(Value::as_str),
            "CONFIG_ROLE_ARN",
            "an IAM role ARN",
            |v| {
                Arn::parse(v).is_some_and(|arn| {
                    arn.service == "iam"
                        && arn
                            .resource_after("role/")
                            .is_some_and(|path| path.split('/').all(crate::shape::is_iam_name))
                })
            },
        );
        let recorder = || {
            command::step(
                "Put the recorder back to record every supported resource type, global ones included",
                format!("aws configservice put-configuration-recorder --configuration-recorder name={name},roleARN={role} --recording-group allSupported=true,includeGlobalResourceTypes=true --region {region}"),
                &[&name, &role, &region],
            )
        };
        match facts.call.name.as_str() {
            "StopConfigurationRecorder" => Some(command::step(
                "Start recording again",
                format!("aws configservice start-configuration-recorder --configuration-recorder-name {name} --region {region}"),
                &[&name, &region],
            )),
            "DeleteConfigurationRecorder" => Some(recorder()),
            "DeleteServiceLinkedConfigurationRecorder" => {
                let service = command::service(facts.call.string_parameter("servicePrincipal"));
                Some(command::step(
                    "Create the service's recorder again",
                    format!("aws configservice put-service-linked-configuration-recorder --service-principal {service} --region {region}"),
                    &[&service, &region],
                ))
            }
            "PutConfigurationRecorder" if facts.outcome == Outcome::Weakened => Some(recorder()),
            "DeleteDeliveryChannel" => Some(command::step(
                "Create the delivery channel again, to the bucket your Config history belongs in",
                format!("aws configservice put-delivery-channel --delivery-channel name={name},s3BucketName=CONFIG_BUCKET --region {region}"),
                &[&name, &region],
            )),
            "PutRetentionConfiguration" if facts.outcome == Outcome::Weakened => {
                Some(command::step(
                    "Keep configuration history for the default seven years again",
                    format!("aws configservice put-retention-configuration --retention-period-in-days {DEFAULT_RETENTION_DAYS} --region {region}"),
                    &[&region],
                ))
            }
            _ => None,
        }
    }

    fn next_steps(&self, facts: &StepFacts<'_>) -> Vec<NextStep> {
        let (_, region) = name_and_region(facts);
        let status = |action: &str| {
            command::step(
                action,
                format!(
                    "aws configservice describe-configuration-recorder-status --region {region}"
                ),
                &[&region],
            )
        };
        match facts.call.name.as_str() {
            "StopConfigurationRecorder"
            | "DeleteConfigurationRecorder"
            | "DeleteServiceLinkedConfigurationRecorder"
            | "DisassociateResourceTypes" => {
                vec![confirm(facts), status("Check Config records again")]
            }
            "DeleteDeliveryChannel" => vec![
                confirm(facts),
                NextStep::say("A recorder without a delivery channel cannot be started: create the channel, then start the recorder."),
            ],
            "PutConfigurationRecorder" if facts.outcome == Outcome::Weakened => vec![
                confirm(facts),
                command::step(
                    "Check what the recorder records",
                    format!("aws configservice describe-configuration-recorders --region {region}"),
                    &[&region],
                ),
            ],
            "PutDeliveryChannel" => vec![
                confirm(facts),
                command::step(
                    "Check the channel delivers to your Config bucket",
                    format!("aws configservice describe-delivery-channels --region {region}"),
                    &[&region],
                ),
            ],
            "DeleteConfigRule" | "DeleteConformancePack" | "DeleteConfigurationAggregator" => vec![
                confirm(facts),
                NextStep::say("Deploy it again from where it is defined (a conformance pack template, Security Hub's standards, or your infrastructure code)."),
            ],
            _ => vec![status("Check Config still records as you expect")],
        }
    }
}

/// What a PutConfigurationRecorder records less than everything, continuously.
fn recorder_narrowings(recorder: &Value) -> Vec<Weakening> {
    let mut found = Vec::new();
    let group = recorder.get("recordingGroup");
    let flag = |key: &str| {
        group.and_then(|g| g.get(key)).and_then(|v| {
            v.as_bool()
                .or_else(|| v.as_str().map(|s| s.eq_ignore_ascii_case("true")))
        })
    };
    let listed = |value: Option<&Value>| value.and_then(Value::as_array).map_or(0, Vec::len);
    let included = listed(group.and_then(|g| g.get("resourceTypes")));
    let excluded = listed(
        group
            .and_then(|g| g.get("exclusionByResourceTypes"))
            .and_then(|e| e.get("resourceTypes")),
    );
    let strategy = group
        .and_then(|g| g.get("recordingStrategy"))
        .and_then(|s| s.get("useOnly"))
        .and_then(Value::as_str);
    let all_supported = flag("allSupported");
    if all_supported == Some(false) {
        if included == 0 && excluded == 0 {
            found.push(Weakening::at(
                High,
                "allSupported=false with no resource types listed: the recorder records nothing",
            ));
        } else if strategy != Some("EXCLUSION_BY_RESOURCE_TYPES") {
            found.push(Weakening::new(format!(
                "allSupported=false: only the {included} resource type(s) listed are recorded"
            )));
        }
    }
    if all_supported != Some(false) && flag("includeGlobalResourceTypes") == Some(false) {
        found.push(Weakening::new(
            "includeGlobalResourceTypes=false: IAM users, roles, groups and policies are no longer recorded",
        ));
    }
    if excluded > 0 {
        found.push(Weakening::new(format!(
            "{excluded} resource type(s) excluded from recording"
        )));
    }
    // The default frequency and any per-type override.
    let mode = recorder.get("recordingMode");
    let overrides = mode
        .and_then(|m| m.get("recordingModeOverrides"))
        .and_then(Value::as_array);
    let daily = mode
        .and_then(|m| m.get("recordingFrequency"))
        .into_iter()
        .chain(
            overrides
                .into_iter()
                .flatten()
                .filter_map(|o| o.get("recordingFrequency")),
        )
        .any(|frequency| frequency.as_str() == Some("DAILY"));
    if daily {
        found.push(Weakening::new(
            "recordingFrequency DAILY: changes are recorded once a day, not as they happen",
        ));
    }
    found
        .into_iter()
        .map(|weakening| {
            weakening
                .undone_by("--recording-group allSupported=true,includeGlobalResourceTypes=true")
        })
        .collect()
}

/// The recorder, channel or setting's name and the region, as a command may name them.
fn name_and_region(facts: &StepFacts<'_>) -> (Arg, Arg) {
    let name = Arg::checked(
        facts.resource.and_then(|r| r.name.as_deref()),
        "NAME",
        "a Config name",
        |v| facts.resource.is_some_and(|r| r.kind.is_valid_name(v)),
    );
    (
        name,
        command::region(facts.resource.and_then(|r| r.region.as_deref())),
    )
}

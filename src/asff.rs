//! An alert as Security Hub findings ([`crate::alert::asff`]): one finding for an event's alert
//! or a burst's digest, one per posture finding (each kept current by the posture check).
//!
//! Identity comes only from validated values (a 12-digit account, a region of the partition, a
//! valid ARN or name, an event id in CloudTrail's shape, the registry's own event names), so a
//! finding's Id, GeneratorId and resources are never attacker text and are never trimmed. Title,
//! description and recommendation are the alert's own cleaned text, the same the email shows
//! ([`crate::render::escape`]), cut by the one truncation rule to ASFF's limits.

use std::collections::BTreeMap;

use crate::alert::asff::*;
use crate::alert::posture::{Check, Finding};
use crate::alert::{Alert, AlertKind, NextStep};
use crate::arn::Arn;
use crate::config::Config;
use crate::monitors;
use crate::render::escape::{email_value, single_line};
use crate::resource::{Resource, ResourceKind};
use crate::severity::Severity;
use crate::shape::{is_account, is_event_id, is_region_of};

/// Where findings are imported: the function's own partition, region and account (the topic's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hub {
    pub partition: String,
    pub region: String,
    pub account: String,
}

impl Hub {
    /// The hub of the function's stack, from its topic's ARN; `None` when that is not an ARN
    /// (preview without a topic).
    pub fn of(config: &Config) -> Option<Hub> {
        let topic = Arn::parse(&config.topic_arn)?;
        Some(Hub {
            region: topic
                .region
                .filter(|r| is_region_of(r, Some(&topic.partition)))?,
            account: topic.account.filter(|a| is_account(a))?,
            partition: topic.partition,
        })
    }

    /// "arn:<partition>:securityhub:<region>:<account>:product/<account>/default": the account's
    /// own product, for findings it imports about itself ("Integrating Security Hub CSPM with
    /// custom products").
    pub fn product_arn(&self, account: &str) -> String {
        format!(
            "arn:{}:securityhub:{}:{account}:product/{account}/default",
            self.partition, self.region
        )
    }
}

/// The ASFF type of each kind of resource trailwatch names; `Other` where ASFF has none (log
/// groups, EventBridge rules, SSM parameters, CloudTrail Lake event data stores), as ASFF's
/// Resource.Type asks ("If the resource does not match any of the provided types, then set
/// Type to Other").
pub fn resource_type(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Trail => "AwsCloudTrailTrail",
        ResourceKind::Bucket => "AwsS3Bucket",
        ResourceKind::Key => "AwsKmsKey",
        ResourceKind::Topic => "AwsSnsTopic",
        ResourceKind::Function => "AwsLambdaFunction",
        ResourceKind::EventBus => "AwsEventsEventbus",
        ResourceKind::Queue => "AwsSqsQueue",
        ResourceKind::Alarm => "AwsCloudWatchAlarm",
        ResourceKind::Role => "AwsIamRole",
        ResourceKind::Detector => "AwsGuardDutyDetector",
        ResourceKind::EventDataStore
        | ResourceKind::LogGroup
        | ResourceKind::Rule
        | ResourceKind::Parameter
        | ResourceKind::ConfigRecorder
        | ResourceKind::DeliveryChannel
        | ResourceKind::ConfigRetention
        | ResourceKind::ConfigRule
        | ResourceKind::ConformancePack
        | ResourceKind::ConfigAggregator
        | ResourceKind::SecurityHub
        | ResourceKind::AutomationRule
        | ResourceKind::Organization => "Other",
    }
}

/// The CIS AWS Foundations Benchmark v3.0.0 controls a finding about `kind` bears on, besides
/// 4.5 (every trailwatch finding is evidence for it): 3.1 "Ensure CloudTrail is enabled in all
/// regions" for trails, 3.5 "Ensure CloudTrail logs are encrypted at rest using KMS CMKs" for
/// keys.
///
/// A change to AWS Config bears on 4.9 "Ensure AWS Config configuration changes are monitored"
/// instead, and, for its recorder, delivery channel and retention, 3.3 "Ensure AWS Config is
/// enabled in all regions" (numbering as in turbot/steampipe-mod-aws-compliance's cis_v300).
fn related_to_kind(kind: Option<ResourceKind>) -> Vec<String> {
    match kind {
        Some(
            ResourceKind::ConfigRecorder
            | ResourceKind::DeliveryChannel
            | ResourceKind::ConfigRetention,
        ) => {
            return vec![CIS_CONFIG_CHANGES.into(), CIS_CONFIG_ENABLED.into()];
        }
        Some(
            ResourceKind::ConfigRule
            | ResourceKind::ConformancePack
            | ResourceKind::ConfigAggregator,
        ) => return vec![CIS_CONFIG_CHANGES.into()],
        // Security Hub's own changes bear on 4.16 "Ensure AWS Security Hub is enabled"; no CIS
        // v3.0.0 control names GuardDuty.
        Some(ResourceKind::SecurityHub | ResourceKind::AutomationRule) => {
            return vec![CIS_SECURITY_HUB_ENABLED.into()];
        }
        Some(ResourceKind::Detector) => return Vec::new(),
        _ => {}
    }
    let mut related = vec![CIS_CLOUDTRAIL_CHANGES];
    related.extend(match kind {
        Some(ResourceKind::Trail) => Some("CIS AWS Foundations Benchmark v3.0.0/3.1"),
        Some(ResourceKind::Key) => Some("CIS AWS Foundations Benchmark v3.0.0/3.5"),
        _ => None,
    });
    related.into_iter().map(str::to_string).collect()
}

/// The CIS v3.0.0 control each posture check is a failure of: 3.1 for logging and coverage,
/// 3.2 "Ensure CloudTrail log file validation is enabled", and 4.5 for anything that keeps
/// changes from being monitored (trailwatch itself, an account it cannot read).
fn related_to_check(check: Check) -> Vec<String> {
    let control = match check {
        // AWS Config's own: 3.3 failed, and its changes monitored (4.9), not CloudTrail's.
        Check::ConfigNotRecording => {
            return vec![CIS_CONFIG_ENABLED.into(), CIS_CONFIG_CHANGES.into()];
        }
        // 4.16 "Ensure AWS Security Hub is enabled".
        Check::SecurityHubOff => return vec![CIS_SECURITY_HUB_ENABLED.into()],
        // No CIS v3.0.0 control names GuardDuty.
        Check::GuardDutyOff => return Vec::new(),
        Check::NoMultiRegionTrail
        | Check::NotLogging
        | Check::DeliveryError
        | Check::ManagementEventsNotRecorded => "CIS AWS Foundations Benchmark v3.0.0/3.1",
        Check::LogFileValidationOff => "CIS AWS Foundations Benchmark v3.0.0/3.2",
        Check::CloudWatchLogsDeliveryError
        | Check::CouldNotCheck
        | Check::RuleNotAsDeployed
        | Check::NoConfirmedSubscription
        | Check::NoHeartbeat
        | Check::AccountNotRead => CIS_CLOUDTRAIL_CHANGES,
    };
    let mut related = vec![control.to_string()];
    if control != CIS_CLOUDTRAIL_CHANGES {
        related.push(CIS_CLOUDTRAIL_CHANGES.to_string());
    }
    related
}

/// Tampering is defence evasion (MITRE ATT&CK TA0005, "Impair Defenses"); a posture finding is a
/// failed check of an industry standard (the ASFF types taxonomy).
const TAMPERING: &str = "TTPs/Defense Evasion";
const CIS_CHECK: &str =
    "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark";

fn severity(severity: Severity) -> AsffSeverity {
    // trailwatch's labels are ASFF's (INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL).
    AsffSeverity {
        label: severity.label().to_string(),
        original: severity.label().to_string(),
    }
}

/// The finding an event's alert or a burst's digest imports, at `now` (RFC 3339): none when its
/// account is not a 12-digit id (nothing could be imported for it), when an event's id is not
/// CloudTrail's, and for a posture alert, whose findings the posture run imports one by one
/// ([`posture_finding`]) to keep each current.
pub fn findings(alert: &Alert, hub: &Hub, now: &str) -> Vec<AsffFinding> {
    match alert.kind {
        AlertKind::Posture => Vec::new(),
        AlertKind::ApiCall | AlertKind::Digest => {
            event_finding(alert, hub, now).into_iter().collect()
        }
    }
}

fn event_finding(alert: &Alert, hub: &Hub, now: &str) -> Option<AsffFinding> {
    let account = alert.headline_account()?.to_string();
    let region = alert
        .headline_region()
        .unwrap_or(hub.region.as_str())
        .to_string();
    let (id, generator, types, observed) = match (&alert.event, &alert.digest) {
        (Some(event), _) => {
            let event_id = event.id.as_deref().filter(|id| is_event_id(id))?;
            // The registry's own names for the monitor and the rule: never the event's text.
            let (service, rule) = monitors::rule_named(&event.source, &event.name)?;
            (
                format!("trailwatch/{account}/{region}/event/{event_id}"),
                format!("trailwatch/{}/{}", service.bus_source, rule.event),
                vec![format!("{TAMPERING}/{}", rule.event)],
                event.time.clone().filter(|t| is_timestamp(t)),
            )
        }
        (None, Some(digest)) => (
            // One digest per principal and window: the principal by its ARN when it is one.
            format!(
                "trailwatch/{account}/{region}/digest/{}/{}",
                compact_time(&digest.window_start)?,
                Arn::parse(&digest.principal)
                    .filter(|arn| arn.account.as_deref().is_some_and(is_account))
                    .filter(|_| digest.principal.bytes().all(|b| b.is_ascii_graphic()))
                    .map_or("unnamed-principal", |_| digest.principal.as_str())
            ),
            "trailwatch/digest".to_string(),
            vec![TAMPERING.to_string()],
            Some(digest.first_at.clone()).filter(|t| is_timestamp(t)),
        ),
        (None, None) => return None,
    };
    let resources = match &alert.resource {
        Some(resource) => vec![asff_resource(resource, hub, &region)],
        None => vec![account_resource(&account, hub, &region)],
    };
    let mut product_fields = base_fields(alert.kind);
    if let Some(event) = &alert.event {
        product_fields.insert("trailwatch/EventName".into(), single_line(&event.name, 128));
        if let Some(event_id) = &event.id {
            product_fields.insert("trailwatch/EventId".into(), single_line(event_id, 128));
        }
    }
    if let Some(actor) = &alert.actor {
        product_fields.insert(
            "trailwatch/Actor".into(),
            single_line(
                actor.arn.as_deref().unwrap_or(&actor.name),
                MAX_PRODUCT_FIELD_VALUE_CHARS,
            ),
        );
    }
    let types_for_provider = types.clone();
    Some(AsffFinding {
        schema_version: SCHEMA_VERSION.to_string(),
        product_arn: hub.product_arn(&account),
        generator_id: single_line(&generator, MAX_ID_CHARS),
        id: single_line(&id, MAX_ID_CHARS),
        aws_account_id: account,
        types,
        created_at: observed.clone().unwrap_or_else(|| now.to_string()),
        updated_at: now.to_string(),
        first_observed_at: observed.clone(),
        last_observed_at: observed,
        severity: severity(alert.severity),
        title: title(&alert.title, alert.resource_label()),
        description: description(&alert.reasons),
        finding_provider_fields: ProviderFields {
            severity: severity(alert.severity),
            types: types_for_provider,
        },
        resources,
        compliance: AsffCompliance {
            status: if alert.severity >= Severity::High {
                ComplianceStatus::Failed
            } else {
                ComplianceStatus::Warning
            },
            related_requirements: related_to_kind(alert.resource.as_ref().map(|r| r.kind)),
        },
        remediation: recommendation(&alert.next_steps),
        source_url: alert
            .links
            .resource
            .clone()
            .or_else(|| alert.links.event.clone()),
        product_fields,
        record_state: RecordState::Active,
    })
}

/// A posture finding as ASFF, active or, once fixed, archived (with Compliance PASSED).
pub fn posture_finding(
    finding: &Finding,
    account: &str,
    steps: &[NextStep],
    hub: &Hub,
    now: &str,
    state: RecordState,
) -> AsffFinding {
    let region = finding
        .region
        .as_deref()
        .filter(|r| is_region_of(r, Some(&hub.partition)))
        .unwrap_or(hub.region.as_str())
        .to_string();
    let trail = finding
        .trail
        .as_deref()
        .and_then(Arn::parse)
        .filter(|arn| arn.service == "cloudtrail" && arn.resource_after("trail/").is_some())
        .filter(|arn| arn.account.as_deref().is_some_and(is_account));
    let subject = match &trail {
        Some(arn) => arn.to_string(),
        None => format!("{region}/account"),
    };
    let check = check_name(finding.check);
    let resources = vec![match &trail {
        Some(arn) => AsffResource {
            kind: resource_type(ResourceKind::Trail).to_string(),
            id: arn.to_string(),
            partition: hub.partition.clone(),
            region: region.clone(),
        },
        None => account_resource(account, hub, &region),
    }];
    let mut product_fields = base_fields(AlertKind::Posture);
    product_fields.insert(CHECK_FIELD.into(), check.clone());
    let types = vec![CIS_CHECK.to_string()];
    let since = finding.since.clone().filter(|t| is_timestamp(t));
    AsffFinding {
        schema_version: SCHEMA_VERSION.to_string(),
        // Built from validated parts, far under the limit; the cut is a backstop.
        id: single_line(
            &format!("trailwatch/{account}/posture/{check}/{subject}"),
            MAX_ID_CHARS,
        ),
        product_arn: hub.product_arn(account),
        generator_id: format!("trailwatch/posture/{check}"),
        aws_account_id: account.to_string(),
        types: types.clone(),
        created_at: since.clone().unwrap_or_else(|| now.to_string()),
        updated_at: now.to_string(),
        first_observed_at: since,
        last_observed_at: Some(now.to_string()),
        severity: severity(finding.severity),
        title: title(
            finding.check.title(),
            trail
                .as_ref()
                .and_then(|arn| arn.resource_after("trail/"))
                .unwrap_or("the account"),
        ),
        description: description(std::slice::from_ref(&finding.detail)),
        finding_provider_fields: ProviderFields {
            severity: severity(finding.severity),
            types,
        },
        resources,
        compliance: AsffCompliance {
            status: match (state, finding.check) {
                (RecordState::Archived, _) => ComplianceStatus::Passed,
                (_, Check::CouldNotCheck | Check::AccountNotRead) => ComplianceStatus::Warning,
                _ => ComplianceStatus::Failed,
            },
            related_requirements: related_to_check(finding.check),
        },
        remediation: recommendation(steps),
        source_url: None,
        product_fields,
        record_state: state,
    }
}

/// The check a posture finding read back from Security Hub is about (its
/// `trailwatch/Check` product field); `None` for any other finding.
pub fn posture_check(finding: &AsffFinding) -> Option<Check> {
    let name = finding.product_fields.get(CHECK_FIELD)?;
    serde_json::from_value(serde_json::Value::String(name.clone())).ok()
}

const CHECK_FIELD: &str = "trailwatch/Check";

/// The posture check's name in Ids and ProductFields (`not-logging`, ...).
fn check_name(check: Check) -> String {
    serde_json::to_value(check)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "unknown".to_string())
}

fn base_fields(kind: AlertKind) -> BTreeMap<String, String> {
    let kind = match kind {
        AlertKind::ApiCall => "api-call",
        AlertKind::Posture => "posture",
        AlertKind::Digest => "digest",
    };
    BTreeMap::from([
        ("trailwatch/Kind".to_string(), kind.to_string()),
        (
            "trailwatch/AlertSchema".to_string(),
            crate::alert::SCHEMA_VERSION.to_string(),
        ),
    ])
}

fn asff_resource(resource: &Resource, hub: &Hub, region: &str) -> AsffResource {
    AsffResource {
        kind: resource_type(resource.kind).to_string(),
        id: resource
            .valid_arn()
            .or(resource.valid_name())
            .unwrap_or("unknown")
            .to_string(),
        partition: hub.partition.clone(),
        region: resource
            .region
            .as_deref()
            .filter(|r| is_region_of(r, Some(&hub.partition)))
            .unwrap_or(region)
            .to_string(),
    }
}

/// The account itself, as ASFF names it when a finding is about no single resource.
fn account_resource(account: &str, hub: &Hub, region: &str) -> AsffResource {
    AsffResource {
        kind: "AwsAccount".to_string(),
        id: format!("AWS::::Account:{account}"),
        partition: hub.partition.clone(),
        region: region.to_string(),
    }
}

fn title(headline: &str, resource: &str) -> String {
    single_line(&format!("{headline}: {resource}"), MAX_TITLE_CHARS)
}

/// The reasons, each cleaned as the email shows it, within 1,024 characters.
fn description(reasons: &[String]) -> String {
    let text = reasons
        .iter()
        .map(|reason| email_value(reason, MAX_DESCRIPTION_CHARS))
        .collect::<Vec<_>>()
        .join(" ");
    let text = single_line(&text, MAX_DESCRIPTION_CHARS);
    if text.is_empty() {
        "trailwatch alert".to_string()
    } else {
        text
    }
}

/// The first next step and its command, within Recommendation.Text's 512 characters.
fn recommendation(steps: &[NextStep]) -> Option<AsffRemediation> {
    let step = steps.first()?;
    let text = match &step.command {
        Some(command) => format!("{}. Run: {command}", step.action.trim_end_matches('.')),
        None => step.action.clone(),
    };
    Some(AsffRemediation {
        recommendation: Recommendation {
            text: email_value(&text, MAX_RECOMMENDATION_CHARS),
        },
    })
}

fn is_timestamp(text: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(text).is_ok()
}

/// `2026-12-05T00:05:00Z` as `20261205T000500Z`, for an Id.
fn compact_time(text: &str) -> Option<String> {
    let time = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    Some(
        time.with_timezone(&chrono::Utc)
            .format("%Y%m%dT%H%M%SZ")
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::posture::Check;
    use crate::assemble::alert_without_lookups;
    use crate::parse::{parse_event, Inbound};

    fn config() -> Config {
        Config::from_lookup(|name| match name {
            "ALERT_TOPIC_ARN" => Some("arn:aws:sns:us-east-1:111122223333:alerts".into()),
            _ => None,
        })
        .unwrap()
    }

    fn hub() -> Hub {
        Hub::of(&config()).unwrap()
    }

    fn sample(name: &str) -> Alert {
        let text = std::fs::read_to_string(format!("events/{name}.json")).unwrap();
        let Inbound::ApiCall(call) = parse_event(&serde_json::from_str(&text).unwrap()).unwrap()
        else {
            panic!("{name} is not an API call")
        };
        alert_without_lookups(&call).unwrap()
    }

    const NOW: &str = "2026-12-05T00:00:00Z";

    #[test]
    fn every_kind_of_resource_has_its_asff_type_and_a_sample_maps_to_it() {
        let expected = [
            (ResourceKind::Trail, "AwsCloudTrailTrail", "stop-logging"),
            (
                ResourceKind::EventDataStore,
                "Other",
                "delete-event-data-store",
            ),
            (ResourceKind::Bucket, "AwsS3Bucket", "delete-bucket"),
            (ResourceKind::Key, "AwsKmsKey", "disable-key"),
            (ResourceKind::LogGroup, "Other", "delete-log-group"),
            (ResourceKind::Rule, "Other", "delete-rule"),
            (ResourceKind::Topic, "AwsSnsTopic", "delete-topic"),
            (
                ResourceKind::Function,
                "AwsLambdaFunction",
                "delete-function",
            ),
            (
                ResourceKind::EventBus,
                "AwsEventsEventbus",
                "delete-event-bus",
            ),
            (ResourceKind::Queue, "AwsSqsQueue", "delete-queue"),
            (ResourceKind::Alarm, "AwsCloudWatchAlarm", "delete-alarms"),
            (ResourceKind::Role, "AwsIamRole", "detach-role-policy"),
            (
                ResourceKind::Parameter,
                "Other",
                "delete-heartbeat-parameter",
            ),
        ];
        for (kind, asff_type, name) in expected {
            assert_eq!(resource_type(kind), asff_type, "{kind:?}");
            let alert = sample(name);
            assert_eq!(
                alert.resource.as_ref().map(|r| r.kind),
                Some(kind),
                "{name}"
            );
            let [finding] = findings(&alert, &hub(), NOW).try_into().unwrap();
            assert_eq!(finding.resources[0].kind, asff_type, "{name}");
            assert_eq!(finding.severity.label, alert.severity.label(), "{name}");
            assert!(
                finding.types[0].starts_with("TTPs/Defense Evasion/"),
                "{name}"
            );
            assert!(
                finding.generator_id.starts_with("trailwatch/aws."),
                "{name}"
            );
            assert!(finding
                .compliance
                .related_requirements
                .contains(&CIS_CLOUDTRAIL_CHANGES.to_string()));
        }
    }

    #[test]
    fn every_severity_is_asffs_label_and_only_high_ones_fail_compliance() {
        for level in Severity::ALL {
            let mut alert = sample("update-trail-benign");
            alert.severity = level;
            let [finding] = findings(&alert, &hub(), NOW).try_into().unwrap();
            assert_eq!(finding.severity.label, level.label());
            assert_eq!(
                finding.finding_provider_fields.severity.label,
                level.label()
            );
            assert_eq!(
                finding.compliance.status,
                if level >= Severity::High {
                    ComplianceStatus::Failed
                } else {
                    ComplianceStatus::Warning
                }
            );
        }
    }

    #[test]
    fn text_is_cut_to_asffs_limits_and_identity_never_is() {
        let mut alert = sample("stop-logging");
        alert.title = "T".repeat(1000);
        alert.reasons = vec!["r".repeat(5000); 3];
        alert.next_steps = vec![NextStep::run("a".repeat(900), "b".repeat(900))];
        if let Some(actor) = alert.actor.as_mut() {
            actor.arn = Some("x".repeat(10_000));
        }
        let [finding] = findings(&alert, &hub(), NOW).try_into().unwrap();
        assert!(finding.title.chars().count() <= MAX_TITLE_CHARS);
        assert!(finding.description.chars().count() <= MAX_DESCRIPTION_CHARS);
        let text = &finding.remediation.as_ref().unwrap().recommendation.text;
        assert!(text.chars().count() <= MAX_RECOMMENDATION_CHARS);
        assert!(finding
            .product_fields
            .values()
            .all(|v| v.chars().count() <= MAX_PRODUCT_FIELD_VALUE_CHARS));
        assert!(serde_json::to_vec(&finding).unwrap().len() <= MAX_FINDING_BYTES);
        // The identity is whole.
        assert!(finding
            .id
            .ends_with("/event/6f3c1b2a-8e4d-4c1f-a7b9-000000000001"));
        assert_eq!(
            finding.resources[0].id,
            "arn:aws:cloudtrail:us-east-1:111122223333:trail/management-events"
        );
    }

    #[test]
    fn an_event_id_not_in_cloudtrails_shape_imports_nothing() {
        let mut alert = sample("stop-logging");
        if let Some(event) = alert.event.as_mut() {
            event.id = Some("../../evil\nid".into());
        }
        assert!(findings(&alert, &hub(), NOW).is_empty());
    }

    #[test]
    fn posture_findings_have_a_stable_id_and_archive_as_passed() {
        let finding = Finding {
            account: None,
            severity: Severity::Medium,
            check: Check::LogFileValidationOff,
            trail: Some("arn:aws:cloudtrail:eu-west-1:111122223333:trail/eu-audit".into()),
            region: Some("eu-west-1".into()),
            detail: "trail `eu-audit` has log file validation off".into(),
            since: None,
            new: false,
        };
        let active = posture_finding(
            &finding,
            "111122223333",
            &[],
            &hub(),
            NOW,
            RecordState::Active,
        );
        let later = posture_finding(
            &finding,
            "111122223333",
            &[],
            &hub(),
            "2026-12-05T01:00:00Z",
            RecordState::Active,
        );
        assert_eq!(active.id, later.id, "the next run updates the same finding");
        assert_eq!(
            active.id,
            "trailwatch/111122223333/posture/log-file-validation-off/arn:aws:cloudtrail:eu-west-1:111122223333:trail/eu-audit"
        );
        assert_eq!(active.compliance.status, ComplianceStatus::Failed);
        assert_eq!(
            active.compliance.related_requirements[0],
            "CIS AWS Foundations Benchmark v3.0.0/3.2"
        );
        let archived = posture_finding(
            &finding,
            "111122223333",
            &[],
            &hub(),
            NOW,
            RecordState::Archived,
        );
        assert_eq!(archived.compliance.status, ComplianceStatus::Passed);
        assert_eq!(archived.record_state, RecordState::Archived);
    }

    #[test]
    fn aws_config_findings_bear_on_cis_4_9_and_3_3() {
        let config = Finding {
            account: None,
            severity: Severity::High,
            check: Check::ConfigNotRecording,
            trail: None,
            region: Some("eu-west-1".into()),
            detail: "AWS Config has no recorder in `eu-west-1`".into(),
            since: None,
            new: true,
        };
        let posture = posture_finding(
            &config,
            "111122223333",
            &[],
            &hub(),
            NOW,
            RecordState::Active,
        );
        assert_eq!(
            posture.id,
            "trailwatch/111122223333/posture/config-not-recording/eu-west-1/account"
        );
        assert_eq!(
            posture.compliance.related_requirements,
            [CIS_CONFIG_ENABLED, CIS_CONFIG_CHANGES]
        );
        let [event] = findings(&sample("config-stop-configuration-recorder"), &hub(), NOW)
            .try_into()
            .unwrap();
        assert_eq!(event.resources[0].kind, "Other");
        assert_eq!(
            event.compliance.related_requirements,
            [CIS_CONFIG_CHANGES, CIS_CONFIG_ENABLED]
        );
    }
}

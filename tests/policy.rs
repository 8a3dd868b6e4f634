//! The severity policy: every row of the table and every modifier.

mod common;

use common::{call_from, edited};
use serde_json::json;
use serde_json::Value;
use trailwatch::classify::{classify, outcome, Assessment};
use trailwatch::coverage::{Coverage, Verdict};
use trailwatch::enrichment::Enrichment;
use trailwatch::monitors::{self, monitor::Outcome};
use trailwatch::resource::{ResourceState, TrailStatus};
use trailwatch::severity::Severity::{self, *};

fn assess(event: &Value, enrichment: Option<&Enrichment>, trusted: Option<&str>) -> Assessment {
    let call = call_from(event);
    let (monitor, rule) = monitors::find(&call).expect("monitored");
    classify(&call, monitor, rule, enrichment, trusted)
}

fn severity_of(event: &Value, enrichment: Option<&Enrichment>) -> (Severity, Vec<String>) {
    let assessment = assess(event, enrichment, None);
    (assessment.severity, assessment.reasons)
}

fn weakening_count(event: &Value) -> usize {
    let call = call_from(event);
    let (monitor, rule) = monitors::find(&call).expect("monitored");
    outcome(&call, monitor, rule).1.len()
}

fn logging(is_logging: bool) -> Enrichment {
    Enrichment {
        state: ResourceState::Trail {
            status: Some(TrailStatus {
                is_logging: Some(is_logging),
                ..TrailStatus::default()
            }),
            config: None,
            event_selectors: None,
        },
        ..Enrichment::default()
    }
}

fn with_coverage(verdict: Verdict) -> Enrichment {
    Enrichment {
        coverage: Some(Coverage {
            verdict,
            covering_trails: vec!["arn:aws:cloudtrail:us-east-1:111122223333:trail/backup".into()],
            detail: "the verdict's detail".into(),
        }),
        ..logging(true)
    }
}

/// Every sample's severity from the table alone (no lookups: a bucket, key or log group is
/// treated as a trail's). The e2e tests check the same samples against moto.
const EXPECTED: &[(&str, Severity)] = &[
    ("create-trail", Low),
    ("create-trail-failed", Informational),
    ("delete-bucket", Critical),
    ("delete-bucket-policy", High),
    ("delete-event-data-store", Critical),
    ("delete-log-group", High),
    ("delete-metric-filter", Medium),
    ("delete-subscription-filter", Medium),
    ("delete-trail", Critical),
    ("disable-key", Critical),
    ("put-bucket-lifecycle-1-day", Critical),
    ("put-bucket-lifecycle-90-days", High),
    ("put-bucket-lifecycle-unrelated-bucket", Critical),
    ("put-bucket-policy", High),
    ("put-event-selectors-advanced-no-management", High),
    ("put-event-selectors-benign", Low),
    ("put-event-selectors-read-only", High),
    ("put-insight-selectors-off", Medium),
    ("put-key-policy", High),
    ("put-retention-policy-30-days", Medium),
    ("root-update-trail", High),
    ("schedule-key-deletion", Critical),
    ("service-stop-logging", Critical),
    ("start-logging", Informational),
    ("stop-event-data-store-ingestion", Critical),
    ("stop-logging", Critical),
    ("stop-logging-access-denied", High),
    ("update-event-data-store-benign", Low),
    ("update-event-data-store-weakens", High),
    ("update-trail-benign", Medium),
    ("update-trail-cloudwatch-role-cleared", High),
    ("update-trail-kms-other-account", High),
    ("update-trail-log-group", High),
    ("update-trail-other-region", Medium),
    ("update-trail-s3-prefix", High),
    ("update-trail-weakens", High),
    // trailwatch's own resources: the table alone (whether the resource is trailwatch's own
    // decides whether the call is alerted at all; see tests/handler.rs and the e2e tests).
    ("disable-own-key", Critical),
    ("disable-rule", Critical),
    ("delete-rule", Critical),
    ("remove-targets", Critical),
    ("disable-rule-not-trailwatchs", Critical),
    ("delete-topic", Critical),
    ("set-topic-attributes", Critical),
    ("unsubscribe", Critical),
    ("delete-function", Critical),
    ("update-function-configuration", Critical),
    ("put-function-concurrency", Critical),
    ("remove-permission", Critical),
    // Every own door (issue 16): the table alone, as above.
    ("put-rule-disabled", Critical),
    ("put-targets", Critical),
    ("remove-permission-event-bus", Critical),
    ("delete-event-bus", Critical),
    ("update-function-code", Critical),
    ("put-function-event-invoke-config", Critical),
    ("update-function-event-invoke-config", Critical),
    ("delete-function-event-invoke-config", Critical),
    ("set-subscription-attributes", Critical),
    ("put-metric-filter-own", Low),
    ("delete-own-log-group", High),
    ("purge-queue", Critical),
    ("delete-queue", Critical),
    ("set-queue-attributes", Critical),
    ("disable-alarm-actions", Critical),
    ("delete-alarms", Critical),
    ("delete-alarms-not-trailwatchs", Critical),
    ("put-metric-alarm", Critical),
    ("put-alarm-mute-rule", Critical),
    ("attach-role-policy", Critical),
    ("detach-role-policy", Critical),
    ("detach-role-policy-not-trailwatchs", Critical),
    ("put-role-policy", Critical),
    ("delete-role-policy", Critical),
    ("put-role-permissions-boundary", Critical),
    ("update-assume-role-policy", Critical),
    ("heartbeat", Critical),
    ("forged-heartbeat", Critical),
    ("remove-tags-from-heartbeat", Critical),
    ("delete-heartbeat-parameter", Critical),
    // AWS Config, the other recorder (issue 19): switched off or deleted is HIGH, a narrowing
    // MEDIUM, a change that reduces nothing LOW.
    ("config-stop-configuration-recorder", High),
    ("config-delete-configuration-recorder", High),
    ("config-delete-delivery-channel", High),
    ("config-put-configuration-recorder-narrowed", Medium),
    ("config-put-configuration-recorder-all", Low),
    ("config-disassociate-resource-types", Medium),
    ("config-put-delivery-channel", Medium),
    ("config-put-retention-configuration-30-days", Medium),
    ("config-put-retention-configuration-7-years", Low),
    ("config-delete-retention-configuration", Low),
    ("config-delete-config-rule", Medium),
    ("config-delete-conformance-pack", Medium),
    ("config-delete-configuration-aggregator", Medium),
    ("config-delete-service-linked-configuration-recorder", High),
    // AWS Security Hub: off or cut loose from its administrator is HIGH; standards, products,
    // controls and suppressing rules MEDIUM (a CloudTrail control disabled: HIGH).
    ("securityhub-disable-security-hub", High),
    ("securityhub-disassociate-from-administrator-account", High),
    ("securityhub-disassociate-from-master-account", High),
    ("securityhub-batch-disable-standards", Medium),
    ("securityhub-disable-cloudtrail-control", High),
    ("securityhub-enable-controls", Low),
    ("securityhub-disable-import-findings-for-product", Medium),
    ("securityhub-create-automation-rule-suppresses", Medium),
    ("securityhub-create-automation-rule-notes", Low),
    ("securityhub-batch-update-automation-rules-resolves", Medium),
    ("securityhub-disable-security-hub-v2", High),
    ("securityhub-create-automation-rule-v2-suppresses", Medium),
    ("securityhub-update-automation-rule-v2-comments", Low),
    (
        "securityhub-batch-update-findings-suppresses-trailwatch",
        Medium,
    ),
    ("securityhub-batch-update-findings-notified", Low),
    ("guardduty-delete-detector", High),
    ("guardduty-update-detector-disable", High),
    ("guardduty-update-detector-features-off", Medium),
    ("guardduty-update-detector-frequency", Low),
    ("guardduty-disassociate-from-administrator-account", High),
    ("guardduty-disassociate-from-master-account", High),
    ("guardduty-disassociate-members", High),
    ("guardduty-delete-members", High),
    ("guardduty-stop-monitoring-members", High),
    ("guardduty-update-member-detectors-off", Medium),
    ("guardduty-update-member-detectors-on", Low),
    ("guardduty-create-filter-archive", Medium),
    ("guardduty-create-filter-noop", Low),
    ("guardduty-update-filter-archive", Medium),
    ("guardduty-update-filter-description", Low),
    ("guardduty-create-ip-set-active", Medium),
    ("guardduty-create-ip-set-inactive", Low),
    ("guardduty-update-ip-set-location", Medium),
    ("guardduty-update-ip-set-deactivate", Low),
    ("guardduty-create-trusted-entity-set-active", Medium),
    ("guardduty-create-trusted-entity-set-inactive", Low),
    ("guardduty-update-trusted-entity-set-active", Medium),
    ("guardduty-update-trusted-entity-set-name", Low),
    ("guardduty-delete-publishing-destination", Medium),
    ("organizations-leave-organization", High),
    ("put-bucket-versioning-suspended", High),
    ("put-bucket-versioning-enabled", Low),
    ("put-bucket-versioning-mfa-delete-off", High),
    ("put-bucket-replication-other-account", High),
    ("put-bucket-replication-same-account", Low),
    ("put-bucket-logging-off", Medium),
    ("put-bucket-logging-on", Low),
    ("put-bucket-public-access-block-off", High),
    ("put-bucket-public-access-block-on", Low),
    ("delete-bucket-public-access-block", High),
    ("put-bucket-acl-public", Critical),
    ("put-bucket-acl-private", Low),
    ("put-event-configuration-standard", Medium),
    ("put-event-configuration-large", Low),
    ("put-event-configuration-trail-aggregation", Low),
    ("organizations-disable-aws-service-access-cloudtrail", High),
    ("organizations-disable-aws-service-access-guardduty", High),
    ("organizations-disable-aws-service-access-other", Low),
];

#[test]
fn every_sample_has_its_expected_severity_and_every_call_a_sample() {
    let mut seen = std::collections::BTreeSet::new();
    for (name, event) in common::all_samples() {
        if name == "not-monitored" {
            assert!(monitors::find(&call_from(&event)).is_none());
            continue;
        }
        let expected = EXPECTED
            .iter()
            .find(|(sample, _)| *sample == name)
            .unwrap_or_else(|| panic!("add {name} to EXPECTED"))
            .1;
        assert_eq!(severity_of(&event, None).0, expected, "{name}");
        // The row that watches the call (Lambda's versioned names match a row by prefix).
        let (_, rule) = monitors::find(&call_from(&event)).expect("a monitored sample");
        seen.insert((call_from(&event).source, rule.event.to_string()));
    }
    for (source, event) in monitors::monitored_calls() {
        assert!(
            seen.contains(&(source.to_string(), event.to_string())),
            "{source} {event} has no sample in events/"
        );
    }
}

#[test]
fn a_config_recorder_narrowed_says_each_way_and_one_that_records_nothing_is_high() {
    let (severity, reasons) = severity_of(
        &common::sample("config-put-configuration-recorder-narrowed"),
        None,
    );
    assert_eq!(severity, Medium);
    let reasons = reasons.join(" | ");
    for expected in [
        "includeGlobalResourceTypes=false",
        "2 resource type(s) excluded",
        "DAILY",
    ] {
        assert!(reasons.contains(expected), "{expected}: {reasons}");
    }
    let nothing = edited("config-put-configuration-recorder-all", |detail| {
        detail["requestParameters"]["configurationRecorder"]["recordingGroup"] = json!({
            "allSupported": false, "includeGlobalResourceTypes": false, "resourceTypes": []
        });
    });
    let (severity, reasons) = severity_of(&nothing, None);
    assert_eq!(severity, High);
    assert!(reasons.join(" ").contains("records nothing"), "{reasons:?}");
    // Listing the types to record is a narrowing too.
    let listed = edited("config-put-configuration-recorder-all", |detail| {
        detail["requestParameters"]["configurationRecorder"]["recordingGroup"] = json!({
            "allSupported": false, "resourceTypes": ["AWS::S3::Bucket"],
            "recordingStrategy": {"useOnly": "INCLUSION_BY_RESOURCE_TYPES"}
        });
    });
    assert_eq!(severity_of(&listed, None).0, Medium);
    // Retention of a year or more is not a weakening; less is.
    let year = edited("config-put-retention-configuration-30-days", |detail| {
        detail["requestParameters"]["retentionPeriodInDays"] = json!(365);
    });
    assert_eq!(weakening_count(&year), 0);
    assert_eq!(
        weakening_count(&common::sample(
            "config-put-retention-configuration-30-days"
        )),
        1
    );
}

#[test]
fn stop_logging_succeeded_is_critical() {
    assert_eq!(
        severity_of(&common::sample("stop-logging"), None).0,
        Critical
    );
    assert_eq!(
        severity_of(&common::sample("service-stop-logging"), None).0,
        Critical
    );
}

#[test]
fn delete_trail_succeeded_is_critical() {
    assert_eq!(
        severity_of(&common::sample("delete-trail"), None).0,
        Critical
    );
}

#[test]
fn update_trail_that_weakens_is_high_and_says_how() {
    let (severity, reasons) = severity_of(
        &common::sample("update-trail-weakens"),
        Some(&logging(true)),
    );
    assert_eq!(severity, High);
    for flag in [
        "isMultiRegionTrail=false",
        "enableLogFileValidation=false",
        "includeGlobalServiceEvents=false",
    ] {
        assert!(
            reasons.iter().any(|r| r.starts_with(flag)),
            "{flag} missing from {reasons:?}"
        );
    }
}

#[test]
fn each_weakening_change_alone_makes_update_trail_high() {
    let weakening = [
        json!({"isMultiRegionTrail": false}),
        json!({"includeGlobalServiceEvents": false}),
        json!({"enableLogFileValidation": false}),
        json!({"isOrganizationTrail": false}),
        json!({"s3BucketName": "attacker-bucket"}),
        json!({"cloudWatchLogsLogGroupArn": ""}),
        json!({"cloudWatchLogsLogGroupArn": "arn:aws:logs:us-east-1:111122223333:log-group:other:*"}),
        json!({"cloudWatchLogsRoleArn": ""}),
        json!({"s3KeyPrefix": "elsewhere"}),
        json!({"kmsKeyId": ""}),
        json!({"kmsKeyId": "arn:aws:kms:us-east-1:444455556666:key/1234"}),
        json!({"isMultiRegionTrail": "false"}),
    ];
    for change in weakening {
        let event = edited("update-trail-benign", |detail| {
            let params = detail["requestParameters"].as_object_mut().unwrap();
            params.extend(change.as_object().unwrap().clone());
        });
        assert_eq!(weakening_count(&event), 1, "{change}");
        assert_eq!(
            severity_of(&event, Some(&logging(true))).0,
            High,
            "{change}"
        );
    }
}

#[test]
fn strengthening_or_unrelated_updates_are_medium() {
    let harmless = [
        json!({"isMultiRegionTrail": true, "enableLogFileValidation": true}),
        json!({"kmsKeyId": "arn:aws:kms:us-east-1:111122223333:key/1234"}),
        json!({"kmsKeyId": "1234abcd-12ab-34cd-56ef-1234567890ab"}),
        json!({"cloudWatchLogsRoleArn": "arn:aws:iam::111122223333:role/ct"}),
        json!({"snsTopicName": "x"}),
    ];
    for change in harmless {
        let event = edited("update-trail-benign", |detail| {
            detail["requestParameters"] = json!({"name": "management-events"});
            detail["requestParameters"]
                .as_object_mut()
                .unwrap()
                .extend(change.as_object().unwrap().clone());
        });
        assert_eq!(
            severity_of(&event, Some(&logging(true))).0,
            Medium,
            "{change}"
        );
    }
    assert_eq!(
        severity_of(&common::sample("update-trail-benign"), Some(&logging(true))).0,
        Medium
    );
}

#[test]
fn create_trail_is_low_and_start_logging_informational() {
    assert_eq!(severity_of(&common::sample("create-trail"), None).0, Low);
    assert_eq!(
        severity_of(&common::sample("start-logging"), None).0,
        Informational
    );
}

#[test]
fn denied_attempts_at_stopping_deleting_or_updating_are_high() {
    assert_eq!(
        severity_of(&common::sample("stop-logging-access-denied"), None).0,
        High
    );
    for (name, code) in [
        ("delete-trail", "AccessDeniedException"),
        ("update-trail-weakens", "UnauthorizedOperation"),
    ] {
        let event = edited(name, |detail| {
            detail["errorCode"] = json!(code);
            detail["errorMessage"] = json!("not authorized");
            detail["responseElements"] = json!(null);
        });
        let assessment = assess(&event, None, None);
        assert_eq!(assessment.severity, High, "{name}");
        assert_eq!(assessment.outcome, Outcome::Denied);
    }
}

#[test]
fn other_failed_calls_are_low() {
    let (severity, reasons) = severity_of(&common::sample("create-trail-failed"), None);
    assert_eq!(
        severity, Informational,
        "a trail that already exists is a redeploy, not a finding"
    );
    assert!(reasons.iter().any(|r| r.contains("already exists")));
    let other_failure = edited("create-trail-failed", |detail| {
        detail["errorCode"] = json!("InsufficientS3BucketPolicyException")
    });
    assert_eq!(severity_of(&other_failure, None).0, Low);
    let throttled = edited("stop-logging", |detail| {
        detail["errorCode"] = json!("ThrottlingException")
    });
    assert_eq!(severity_of(&throttled, None).0, Low);
    let denied_start = edited("start-logging", |detail| {
        detail["errorCode"] = json!("AccessDenied")
    });
    assert_eq!(
        severity_of(&denied_start, None).0,
        Low,
        "a denied StartLogging is not in the HIGH row"
    );
}

#[test]
fn root_raises_one_level_and_never_above_critical() {
    let (severity, reasons) =
        severity_of(&common::sample("root-update-trail"), Some(&logging(true)));
    assert_eq!(severity, High, "MEDIUM raised by root");
    assert!(reasons.iter().any(|r| r.contains("root user")));

    let as_root = |name: &str| {
        edited(
            name,
            |detail| {
                detail["userIdentity"] =
                    json!({"type": "Root", "arn": "arn:aws:iam::111122223333:root"})
            },
        )
    };
    assert_eq!(severity_of(&as_root("start-logging"), None).0, Low);
    assert_eq!(severity_of(&as_root("create-trail"), None).0, Medium);
    assert_eq!(
        severity_of(&as_root("stop-logging"), None).0,
        Critical,
        "saturates"
    );
    assert_eq!(
        severity_of(&as_root("stop-logging-access-denied"), None).0,
        Critical
    );
}

#[test]
fn an_update_that_leaves_the_trail_not_logging_is_at_least_high() {
    let (severity, reasons) = severity_of(
        &common::sample("update-trail-benign"),
        Some(&logging(false)),
    );
    assert_eq!(severity, High);
    assert!(reasons.iter().any(|r| r.contains("not logging")));
    assert_eq!(
        severity_of(&common::sample("update-trail-benign"), None).0,
        Medium,
        "unknown state is not a finding"
    );
    assert_eq!(
        severity_of(&common::sample("root-update-trail"), Some(&logging(false))).0,
        High
    );
}

#[test]
fn a_new_trail_that_is_not_yet_logging_is_not_a_finding() {
    assert_eq!(
        severity_of(&common::sample("create-trail"), Some(&logging(false))).0,
        Low
    );
}

#[test]
fn a_failed_update_on_a_stopped_trail_is_not_raised_by_the_state() {
    let failed = edited("update-trail-benign", |detail| {
        detail["errorCode"] = json!("InvalidParameterCombinationException")
    });
    assert_eq!(severity_of(&failed, Some(&logging(false))).0, Low);
}

#[test]
fn a_weakening_update_is_undone_first_with_the_exact_flags() {
    let call = call_from(&common::sample("update-trail-weakens"));
    let alert = trailwatch::assemble::alert_without_lookups(&call).unwrap();
    let first = &alert.next_steps[0];
    let command = first.command.as_deref().unwrap();
    assert!(first.action.starts_with("Undo"), "{first:?}");
    for flag in [
        "--is-multi-region-trail",
        "--enable-log-file-validation",
        "--include-global-service-events",
    ] {
        assert!(command.contains(flag), "{flag} missing from {command}");
    }
    let bucket = call_from(&edited("update-trail-benign", |d| {
        d["requestParameters"]["s3BucketName"] = json!("cloudtrail-logs-111122223333")
    }));
    let alert = trailwatch::assemble::alert_without_lookups(&bucket).unwrap();
    assert!(alert
        .reasons
        .iter()
        .all(|r| !r.contains("different bucket")));
    assert!(alert.next_steps[0]
        .command
        .as_deref()
        .unwrap()
        .contains("--s3-bucket-name PREVIOUS_BUCKET"));
}

#[test]
fn a_stop_puts_the_restart_command_first() {
    let call = call_from(&common::sample("stop-logging"));
    let alert = trailwatch::assemble::alert_without_lookups(&call).unwrap();
    assert_eq!(
        alert.next_steps[0].command.as_deref(),
        Some("aws cloudtrail start-logging --name arn:aws:cloudtrail:us-east-1:111122223333:trail/management-events --region us-east-1")
    );
}

#[test]
fn start_logging_says_how_long_logging_was_off() {
    let state = Enrichment {
        state: ResourceState::Trail {
            status: Some(TrailStatus {
                is_logging: Some(true),
                stop_logging_time: Some("2026-11-28T08:00:00Z".into()),
                start_logging_time: Some("2026-11-28T09:06:03Z".into()),
                ..TrailStatus::default()
            }),
            config: None,
            event_selectors: None,
        },
        ..Enrichment::default()
    };
    let (_, reasons) = severity_of(&common::sample("start-logging"), Some(&state));
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("logging was off for ")),
        "{reasons:?}"
    );
}

#[test]
fn every_assessment_has_reasons() {
    for (name, event) in common::all_samples() {
        let call = call_from(&event);
        if let Some((monitor, rule)) = monitors::find(&call) {
            let assessment = classify(&call, monitor, rule, Some(&logging(true)), None);
            assert!(!assessment.reasons.is_empty(), "{name}");
        }
    }
}

#[test]
fn no_multi_region_trail_left_makes_a_reduction_critical() {
    let assessment = assess(
        &common::sample("put-event-selectors-read-only"),
        Some(&with_coverage(Verdict::Uncovered)),
        None,
    );
    assert_eq!(assessment.severity, Critical);
    assert!(assessment
        .reasons
        .iter()
        .any(|r| r.contains("raised from HIGH to CRITICAL")));
}

#[test]
fn a_covering_trail_keeps_the_severity_and_is_named() {
    let (severity, reasons) = severity_of(
        &common::sample("update-trail-weakens"),
        Some(&with_coverage(Verdict::Covered)),
    );
    assert_eq!(severity, High);
    assert!(reasons.iter().any(|r| r == "the verdict's detail"));
    let (severity, _) = severity_of(
        &common::sample("update-trail-weakens"),
        Some(&with_coverage(Verdict::Unknown)),
    );
    assert_eq!(severity, High, "not knowing is not a finding");
}

#[test]
fn selectors_that_drop_management_events_are_high_in_both_styles() {
    for name in [
        "put-event-selectors-read-only",
        "put-event-selectors-advanced-no-management",
    ] {
        let assessment = assess(&common::sample(name), None, None);
        assert_eq!(assessment.outcome, Outcome::Weakened, "{name}");
        assert_eq!(assessment.severity, High, "{name}");
    }
    for selector in [
        json!({"readWriteType": "WriteOnly", "includeManagementEvents": true}),
        json!({"readWriteType": "All", "includeManagementEvents": false}),
        json!({"readWriteType": "All", "includeManagementEvents": true, "excludeManagementEventSources": ["kms.amazonaws.com"]}),
    ] {
        let event = edited("put-event-selectors-benign", |detail| {
            detail["requestParameters"]["eventSelectors"] = json!([selector]);
        });
        assert_eq!(severity_of(&event, None).0, High, "{selector}");
    }
    let omitted = edited("put-event-selectors-benign", |detail| {
        detail["requestParameters"] = json!(null);
    });
    let (severity, reasons) = severity_of(&omitted, None);
    assert_eq!(
        severity, High,
        "parameters omitted as too large: assume the worst"
    );
    assert!(reasons.iter().any(|r| r.contains("not recorded")));
}

#[test]
fn insight_selectors_emptied_are_medium() {
    assert_eq!(
        severity_of(&common::sample("put-insight-selectors-off"), None).0,
        Medium
    );
    let kept = edited("put-insight-selectors-off", |detail| {
        detail["requestParameters"]["insightSelectors"] =
            json!([{"insightType": "ApiCallRateInsight"}]);
    });
    assert_eq!(severity_of(&kept, None).0, Low);
}

#[test]
fn lifecycle_expirations_are_judged_by_the_shortest_enabled_rule() {
    let with_days = |days: i64, status: &str| {
        edited("put-bucket-lifecycle-1-day", |detail| {
            detail["requestParameters"]["LifecycleConfiguration"]["Rule"] =
                json!({"ID": "r", "Status": status, "Expiration": {"Days": days}});
        })
    };
    assert_eq!(severity_of(&with_days(6, "Enabled"), None).0, Critical);
    assert_eq!(severity_of(&with_days(7, "Enabled"), None).0, High);
    assert_eq!(severity_of(&with_days(364, "Enabled"), None).0, High);
    assert_eq!(severity_of(&with_days(365, "Enabled"), None).0, Low);
    assert_eq!(severity_of(&with_days(1, "Disabled"), None).0, Low);
    let noncurrent = edited("put-bucket-lifecycle-1-day", |detail| {
        detail["requestParameters"]["LifecycleConfiguration"]["Rule"] = json!(
            {"Status": "Enabled", "NoncurrentVersionExpiration": {"NoncurrentDays": "3"}});
    });
    assert_eq!(severity_of(&noncurrent, None).0, Critical);
}

#[test]
fn lake_updates_that_keep_less_are_high() {
    let (severity, reasons) = severity_of(&common::sample("update-event-data-store-weakens"), None);
    assert_eq!(severity, High);
    assert!(reasons
        .iter()
        .any(|r| r.contains("retentionPeriod set to 7 days")));
    assert!(reasons
        .iter()
        .any(|r| r.starts_with("terminationProtectionEnabled=false")));
    assert_eq!(
        severity_of(&common::sample("update-event-data-store-benign"), None).0,
        Low
    );
}

#[test]
fn log_retention_under_a_year_is_medium() {
    assert_eq!(
        severity_of(&common::sample("put-retention-policy-30-days"), None).0,
        Medium
    );
    let year = edited("put-retention-policy-30-days", |detail| {
        detail["requestParameters"]["retentionInDays"] = json!(400);
    });
    assert_eq!(severity_of(&year, None).0, Low);
}

#[test]
fn a_trusted_principal_is_downgraded_only_when_nothing_is_reduced() {
    let pattern = Some("arn:aws:iam::111122223333:role/ci-deploy");
    let benign = assess(
        &common::sample("update-trail-benign"),
        Some(&logging(true)),
        pattern,
    );
    assert_eq!(benign.severity, Informational);
    assert!(benign
        .reasons
        .iter()
        .any(|r| r.contains("trusted principal")));

    for name in [
        "stop-logging",
        "update-trail-weakens",
        "put-event-selectors-read-only",
        "delete-bucket",
        "put-bucket-policy",
        "stop-logging-access-denied",
    ] {
        let untrusted = assess(&common::sample(name), Some(&logging(true)), None);
        let trusted = assess(&common::sample(name), Some(&logging(true)), pattern);
        assert_eq!(
            trusted.severity, untrusted.severity,
            "{name} is never downgraded"
        );
        assert!(
            trusted
                .reasons
                .iter()
                .any(|r| r.contains("trusted principal")),
            "{name}"
        );
    }
    let stopped_after_update = assess(
        &common::sample("update-trail-benign"),
        Some(&logging(false)),
        pattern,
    );
    assert_eq!(
        stopped_after_update.severity, High,
        "an update that leaves the trail stopped reduces coverage"
    );
}

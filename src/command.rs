//! What may go into a command a responder pastes.
//!
//! A command is the same bytes in the JSON document, the email and the chat card: whoever copies
//! it from any of them runs the same thing. So it is built only from trailwatch's own text and
//! [`Arg`]s, each a value that is valid for its kind (a trail name or trail ARN, a bucket name, a
//! key id, key ARN or alias, an IAM role name, a region of the partition, ...). A value that is
//! not becomes its CAPITALISED placeholder, and the step says why ([`step`]), so a name such as
//! `https://evil.example/login` never reaches a command, where a mail client would make it a
//! working link and chat would show it defanged.
//!
//! Every arg is also plain enough for a shell and for chat: printable ASCII without spaces,
//! quotes, `$`, backticks, `;`, `&`, `|`, `<`, `>` or brackets, not starting with `-` or `#`,
//! and without a URL scheme or a chat mention.

use std::fmt;

use crate::alert::NextStep;
use crate::arn::Arn;
use crate::resource::ResourceKind;
use crate::shape::{
    is_access_key_id, is_account, is_iam_name, is_region, is_region_of, is_service_principal,
};

/// One value for a command: the value itself when it is valid for its kind, else its
/// placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    shown: String,
    /// The placeholder stands in for a value the event gave that is not valid: what it should
    /// have been, for the step's note.
    refused: Option<(&'static str, &'static str)>,
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl Arg {
    /// `value` when `valid` holds for it (and it is plain enough for a command), else
    /// `placeholder`; `what` names the kind for the note ("a trail name or ARN").
    pub fn checked(
        value: Option<&str>,
        placeholder: &'static str,
        what: &'static str,
        valid: impl Fn(&str) -> bool,
    ) -> Arg {
        match value.map(str::trim).filter(|v| !v.is_empty()) {
            Some(value) if valid(value) && is_plain(value) => Arg {
                shown: value.to_string(),
                refused: None,
            },
            Some(_) => Arg {
                shown: placeholder.to_string(),
                refused: Some((placeholder, what)),
            },
            None => Arg::placeholder(placeholder),
        }
    }

    /// A placeholder for a value the event does not carry (the previous bucket, your own trail
    /// bucket): nothing to explain.
    pub fn placeholder(placeholder: &'static str) -> Arg {
        Arg {
            shown: placeholder.to_string(),
            refused: None,
        }
    }

    /// Whether the value was usable (not a placeholder for a refused value).
    pub fn is_refused(&self) -> bool {
        self.refused.is_some()
    }

    pub fn as_str(&self) -> &str {
        &self.shown
    }
}

/// A step with a command built from `args`: for each arg whose value was refused, the action
/// says what the placeholder stands for and why.
pub fn step(action: impl Into<String>, command: String, args: &[&Arg]) -> NextStep {
    let mut action = action.into();
    let mut seen: Vec<&str> = Vec::new();
    for (placeholder, what) in args.iter().filter_map(|arg| arg.refused) {
        if seen.contains(&placeholder) {
            continue;
        }
        seen.push(placeholder);
        action.push_str(&format!(
            " (replace {placeholder}: the value in the event is not {what})"
        ));
    }
    NextStep::run(action, command)
}

/// Printable ASCII a shell and chat take as it is: see the module documentation.
fn is_plain(value: &str) -> bool {
    const MENTIONS: [&str; 3] = ["@here", "@channel", "@everyone"];
    let lowered = value.to_ascii_lowercase();
    value.len() <= 512
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-:/#+=,@".contains(&b))
        && !value.starts_with(['-', '#'])
        && !value.contains("://")
        && !MENTIONS.iter().any(|mention| lowered.contains(mention))
}

/// An ARN of `service` whose region (when it has one) is a region of its partition, whose
/// account (when it has one) is an account id, and whose resource after `prefix` is valid.
fn is_arn_of(text: &str, service: &str, prefix: &str, name_valid: impl Fn(&str) -> bool) -> bool {
    Arn::parse(text).is_some_and(|arn| {
        arn.service == service
            && arn
                .region
                .as_deref()
                .is_none_or(|region| is_region_of(region, Some(&arn.partition)))
            && arn.account.as_deref().is_none_or(is_account)
            && arn.resource_after(prefix).is_some_and(&name_valid)
    })
}

/// A trail name, or a trail ARN (which carries the trail's region).
pub fn trail(value: Option<&str>) -> Arg {
    let name = |n: &str| ResourceKind::Trail.is_valid_name(n);
    Arg::checked(value, "TRAIL", "a trail name or trail ARN", |v| {
        name(v) || is_arn_of(v, "cloudtrail", "trail/", name)
    })
}

/// A trail name only (`create-trail --name`).
pub fn trail_name(value: Option<&str>) -> Arg {
    Arg::checked(value, "TRAIL_NAME", "a trail name", |v| {
        ResourceKind::Trail.is_valid_name(v)
    })
}

pub fn bucket(value: Option<&str>) -> Arg {
    Arg::checked(value, "BUCKET", "a bucket name", |v| {
        ResourceKind::Bucket.is_valid_name(v)
    })
}

/// A key id, a key ARN, an alias or an alias ARN.
pub fn key(value: Option<&str>) -> Arg {
    let valid = |v: &str| ResourceKind::Key.is_valid_name(v);
    Arg::checked(value, "KEY_ID", "a KMS key id, key ARN or alias", |v| {
        valid(v)
            || is_arn_of(v, "kms", "key/", valid)
            || is_arn_of(v, "kms", "alias/", |alias| valid(&format!("alias/{alias}")))
    })
}

pub fn log_group(value: Option<&str>) -> Arg {
    Arg::checked(value, "LOG_GROUP", "a log group name", |v| {
        ResourceKind::LogGroup.is_valid_name(v)
    })
}

pub fn rule(value: Option<&str>) -> Arg {
    Arg::checked(value, "RULE", "a rule name", |v| {
        ResourceKind::Rule.is_valid_name(v)
    })
}

/// An event bus name (not `default`, which commands leave out).
pub fn event_bus(value: Option<&str>) -> Arg {
    Arg::checked(value, "EVENT_BUS", "an event bus name", |v| {
        (1..=256).contains(&v.len())
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    })
}

pub fn topic_arn(value: Option<&str>) -> Arg {
    Arg::checked(value, "TOPIC_ARN", "an SNS topic ARN", |v| {
        Arn::parse(v).is_some_and(|arn| {
            arn.service == "sns"
                && arn
                    .region
                    .as_deref()
                    .is_some_and(|r| is_region_of(r, Some(&arn.partition)))
                && arn.account.as_deref().is_some_and(is_account)
                && ResourceKind::Topic.is_valid_name(&arn.resource)
        })
    })
}

pub fn function(value: Option<&str>) -> Arg {
    Arg::checked(value, "FUNCTION", "a function name", |v| {
        ResourceKind::Function.is_valid_name(v)
    })
}

/// An event data store's id or ARN.
pub fn event_data_store(value: Option<&str>) -> Arg {
    let valid = |v: &str| ResourceKind::EventDataStore.is_valid_name(v);
    Arg::checked(
        value,
        "EVENT_DATA_STORE",
        "an event data store id or ARN",
        |v| valid(v) || is_arn_of(v, "cloudtrail", "eventdatastore/", valid),
    )
}

pub fn role(value: Option<&str>) -> Arg {
    Arg::checked(value, "ROLE_NAME", "an IAM role name", |v| {
        v.len() <= 64 && is_iam_name(v)
    })
}

pub fn user(value: Option<&str>) -> Arg {
    Arg::checked(value, "USER_NAME", "an IAM user name", is_iam_name)
}

pub fn access_key(value: Option<&str>) -> Arg {
    Arg::checked(value, "ACCESS_KEY_ID", "an access key id", is_access_key_id)
}

/// An SSM parameter name (trailwatch's heartbeat's).
pub fn parameter(value: Option<&str>) -> Arg {
    Arg::checked(value, "PARAMETER", "a parameter name", |v| {
        ResourceKind::Parameter.is_valid_name(v)
    })
}

pub fn region(value: Option<&str>) -> Arg {
    Arg::checked(value, "REGION", "a region", is_region)
}

/// An AWS service principal (`cloudformation.amazonaws.com`).
pub fn service(value: Option<&str>) -> Arg {
    Arg::checked(value, "SERVICE", "an AWS service", is_service_principal)
}

/// An RFC 3339 time, as CloudTrail writes `eventTime`.
pub fn time(value: Option<&str>) -> Arg {
    Arg::checked(value, "NOW_UTC", "a time", |v| {
        chrono::DateTime::parse_from_rfc3339(v).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_valid_names_of_their_kind_reach_a_command() {
        assert_eq!(
            trail(Some("management-events")).as_str(),
            "management-events"
        );
        assert_eq!(
            trail(Some("arn:aws:cloudtrail:us-east-1:111122223333:trail/org")).as_str(),
            "arn:aws:cloudtrail:us-east-1:111122223333:trail/org"
        );
        for hostile in [
            "https://evil.example/login",
            "evil.example/login",
            "arn:aws:cloudtrail:[LOW]:111122223333:trail/x",
            "arn:aws:cloudtrail:us-east-1:1111:trail/x",
            "arn:aws:s3:::trail/x",
            "a;b",
            "-rf",
        ] {
            let arg = trail(Some(hostile));
            assert_eq!(arg.as_str(), "TRAIL", "{hostile}");
            assert!(arg.is_refused());
        }
        assert_eq!(
            bucket(Some("https://evil.example/login")).as_str(),
            "BUCKET"
        );
        assert_eq!(
            role(Some("https://evil.example/login")).as_str(),
            "ROLE_NAME"
        );
        assert_eq!(user(Some("alice@here")).as_str(), "USER_NAME");
        assert_eq!(user(Some("alice@corp")).as_str(), "alice@corp");
        assert_eq!(log_group(Some("#comment")).as_str(), "LOG_GROUP");
        assert_eq!(
            log_group(Some("/aws/cloudtrail/org#1")).as_str(),
            "/aws/cloudtrail/org#1"
        );
        assert_eq!(key(Some("alias/trail-key")).as_str(), "alias/trail-key");
        assert_eq!(key(Some("LOW")).as_str(), "KEY_ID");
        assert_eq!(
            key(Some(
                "arn:aws:kms:us-east-1:111122223333:key/4d6e8f10-1a2b-4c3d-9e8f-0123456789ab"
            ))
            .as_str(),
            "arn:aws:kms:us-east-1:111122223333:key/4d6e8f10-1a2b-4c3d-9e8f-0123456789ab"
        );
        assert_eq!(region(Some("us-east-1;x")).as_str(), "REGION");
        assert!(!region(None).is_refused(), "an absent value is not refused");
    }

    #[test]
    fn a_refused_value_is_explained_once() {
        let trail = trail(Some("https://evil.example/login"));
        let region = region(Some("us-east-1"));
        let step = step(
            "Restart logging",
            format!("aws cloudtrail start-logging --name {trail} --region {region}"),
            &[&trail, &trail, &region],
        );
        assert_eq!(
            step.action,
            "Restart logging (replace TRAIL: the value in the event is not a trail name or trail ARN)"
        );
        assert_eq!(
            step.command.as_deref(),
            Some("aws cloudtrail start-logging --name TRAIL --region us-east-1")
        );
    }

    #[test]
    fn shell_syntax_never_reaches_a_command() {
        assert_eq!(trail(Some("org_audit.trail")).as_str(), "org_audit.trail");
        for hostile in [
            "a;b", "$(x)", "-rf", "a b", "`x`", "a\nb", "a|b", "a&b", "a'b",
        ] {
            assert_eq!(trail(Some(hostile)).as_str(), "TRAIL", "{hostile:?}");
        }
        assert_eq!(trail(Some("")).as_str(), "TRAIL");
        assert_eq!(region(Some("us-east-1;x")).as_str(), "REGION");
    }
}

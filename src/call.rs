//! What happened: one API call as trailwatch understands it, free of wire formats and AWS types.

use serde_json::Value;

/// Error codes meaning "you were not allowed to": a denied attempt at tampering is itself a finding.
pub const ACCESS_DENIED_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
    "NotAuthorized",
    "Client.UnauthorizedOperation",
    "InsufficientDependencyServiceAccessPermissionException",
];

/// The longest any single text field is kept; CloudTrail's own limits are far below it, so only
/// crafted input is cut.
pub const MAX_FIELD_CHARS: usize = 2048;

/// Keeps at most [`MAX_FIELD_CHARS`] characters, marking the cut.
pub fn cap(text: &str) -> String {
    match text.char_indices().nth(MAX_FIELD_CHARS) {
        None => text.to_string(),
        Some((end, _)) => format!("{}…[truncated]", &text[..end]),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApiCall {
    /// `eventSource`, e.g. `cloudtrail.amazonaws.com`.
    pub source: String,
    /// `eventName`, e.g. `StopLogging`.
    pub name: String,
    pub id: Option<String>,
    pub time: Option<String>,
    pub region: Option<String>,
    pub account: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub error: Option<CallError>,
    pub actor: Actor,
    /// The call's `requestParameters` as recorded, kept for the JSON alert. `None` also when
    /// CloudTrail omitted them as too large.
    pub request_parameters: Option<Value>,
    /// The call's `responseElements`, where some calls confirm what they changed.
    pub response_elements: Option<Value>,
    /// What could not be read of the event (invalid text, too deep, a malformed envelope): the
    /// call was judged on the rest.
    pub input_problems: Vec<String>,
}

#[cfg(test)]
impl ApiCall {
    /// A call with its source, name and account, and nothing else read: for unit tests.
    pub fn bare(source: &str, name: &str, account: &str) -> ApiCall {
        ApiCall {
            source: source.into(),
            name: name.into(),
            id: None,
            time: None,
            region: Some("us-east-1".into()),
            account: Some(account.into()),
            source_ip: None,
            user_agent: None,
            request_id: None,
            error: None,
            actor: Actor::default(),
            request_parameters: None,
            response_elements: None,
            input_problems: Vec::new(),
        }
    }
}

impl ApiCall {
    pub fn succeeded(&self) -> bool {
        self.error.is_none()
    }

    pub fn was_denied(&self) -> bool {
        self.error.as_ref().is_some_and(CallError::is_access_denial)
    }

    /// A request parameter as a boolean, accepting CloudTrail's occasional `"false"` strings.
    /// CloudTrail left the parameters out: none were recorded, or they were omitted as too large
    /// (`{"reason": "requestParameters too large", "omitted": true}`, with `omitted` sometimes
    /// a string). A weakening check cannot see what such a call changed.
    pub fn parameters_omitted(&self) -> bool {
        let Some(parameters) = self.request_parameters.as_ref() else {
            return true;
        };
        match parameters.get("omitted") {
            Some(Value::Bool(omitted)) => *omitted,
            Some(Value::String(omitted)) => omitted.eq_ignore_ascii_case("true"),
            _ => false,
        }
    }

    pub fn bool_parameter(&self, key: &str) -> Option<bool> {
        match self.request_parameters.as_ref()?.get(key)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }

    pub fn string_parameter(&self, key: &str) -> Option<&str> {
        self.request_parameters.as_ref()?.get(key)?.as_str()
    }

    /// A request parameter as a whole number, accepting numbers recorded as strings.
    pub fn number_parameter(&self, key: &str) -> Option<i64> {
        number(self.request_parameters.as_ref()?.get(key)?)
    }

    pub fn parameter(&self, key: &str) -> Option<&Value> {
        self.request_parameters.as_ref()?.get(key)
    }

    /// The first of `keys` that holds a non-empty string: how a request names its resource.
    /// Trimmed and capped like every other text field.
    pub fn named_by(&self, keys: &[&str]) -> Option<String> {
        keys.iter()
            .find_map(|key| self.string_parameter(key))
            .map(|text| cap(text.trim()))
            .filter(|text| !text.is_empty())
    }

    /// The partition the caller is in (from its ARN), for ARNs a request leaves implicit.
    pub fn partition(&self) -> String {
        self.actor
            .arn
            .as_deref()
            .and_then(crate::arn::Arn::parse)
            .map_or_else(|| "aws".to_string(), |arn| arn.partition)
    }
}

/// A JSON number, or a string holding one, as a whole number.
pub fn number(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    pub code: String,
    pub message: Option<String>,
}

impl CallError {
    pub fn is_access_denial(&self) -> bool {
        ACCESS_DENIED_CODES.contains(&self.code.as_str())
            || self.code.ends_with("AccessDenied")
            || self.code.ends_with("AccessDeniedException")
            || self.code.ends_with("UnauthorizedOperation")
    }
}

/// Who made the call (`userIdentity`). Every field can be absent: calls made by AWS services
/// carry only `invokedBy` and an account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    /// `userIdentity.type`: Root, IAMUser, AssumedRole, FederatedUser, AWSService, ...
    pub kind: Option<String>,
    pub arn: Option<String>,
    pub account_id: Option<String>,
    pub principal_id: Option<String>,
    pub user_name: Option<String>,
    pub invoked_by: Option<String>,
    pub mfa_authenticated: Option<bool>,
    /// For assumed roles: the role that issued the session.
    pub session_issuer_arn: Option<String>,
    pub session_issuer_name: Option<String>,
    /// For IAM Identity Center users: the user id in the identity store.
    pub on_behalf_of: Option<String>,
    /// The access key the call was signed with (`ASIA...` for sessions, `AKIA...` for users).
    pub access_key_id: Option<String>,
    /// When the role session was created.
    pub session_created: Option<String>,
    /// The source identity the session was started with, when one was set.
    pub source_identity: Option<String>,
}

impl Actor {
    pub fn is_root(&self) -> bool {
        self.kind.as_deref() == Some("Root")
    }

    /// For an IAM Identity Center session (`AWSReservedSSO_<permission set>_<id>` roles): the
    /// user (the session name) and the permission set.
    pub fn sso(&self) -> Option<(&str, &str)> {
        let role = self.session_issuer_name.as_deref()?;
        let (permission_set, _) = role.strip_prefix("AWSReservedSSO_")?.rsplit_once('_')?;
        let user = self.arn.as_deref()?.rsplit('/').next()?;
        (!permission_set.is_empty() && !user.is_empty()).then_some((user, permission_set))
    }

    /// The role an assumed-role session belongs to.
    pub fn role_name(&self) -> Option<&str> {
        (self.kind.as_deref() == Some("AssumedRole"))
            .then_some(self.session_issuer_name.as_deref())
            .flatten()
    }

    /// The most human name we can give: a user name, a role session, a service, an id.
    pub fn display_name(&self) -> String {
        if self.is_root() {
            return "root user".to_string();
        }
        if let Some(name) = &self.user_name {
            return name.clone();
        }
        if let (Some(role), Some(arn)) = (&self.session_issuer_name, &self.arn) {
            let session = arn.rsplit('/').next().unwrap_or_default();
            return if session.is_empty() {
                role.clone()
            } else {
                format!("{role}/{session}")
            };
        }
        if let Some(arn) = &self.arn {
            return arn.rsplit(['/', ':']).next().unwrap_or(arn).to_string();
        }
        if let Some(service) = &self.invoked_by {
            return service.clone();
        }
        if let Some(user) = &self.on_behalf_of {
            return user.clone();
        }
        self.principal_id
            .clone()
            .unwrap_or_else(|| "unknown principal".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_denial_codes() {
        let denied = |code: &str| {
            CallError {
                code: code.into(),
                message: None,
            }
            .is_access_denial()
        };
        assert!(denied("AccessDenied"));
        assert!(denied("AccessDeniedException"));
        assert!(denied("UnauthorizedOperation"));
        assert!(denied("Client.UnauthorizedOperation"));
        assert!(!denied("TrailNotFoundException"));
        assert!(!denied("ThrottlingException"));
    }

    #[test]
    fn display_names() {
        let role = Actor {
            kind: Some("AssumedRole".into()),
            arn: Some("arn:aws:sts::1:assumed-role/Admin/alice".into()),
            session_issuer_name: Some("Admin".into()),
            ..Actor::default()
        };
        assert_eq!(role.display_name(), "Admin/alice");
        let service = Actor {
            invoked_by: Some("config.amazonaws.com".into()),
            ..Actor::default()
        };
        assert_eq!(service.display_name(), "config.amazonaws.com");
        assert_eq!(Actor::default().display_name(), "unknown principal");
        let root = Actor {
            kind: Some("Root".into()),
            ..Actor::default()
        };
        assert_eq!(root.display_name(), "root user");
    }
}

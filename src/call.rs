//! What happened: one API call as trailwatch understands it, free of wire formats and AWS types.

use serde_json::Value;

/// The only CloudTrail event source the CIS 4.5 calls come from.
pub const CLOUDTRAIL_SOURCE: &str = "cloudtrail.amazonaws.com";

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
    /// The call's `requestParameters` as recorded, kept for the JSON alert.
    pub request_parameters: Option<Value>,
    /// The trail the call was about, when it names one.
    pub trail: Option<TrailRef>,
}

impl ApiCall {
    pub fn succeeded(&self) -> bool {
        self.error.is_none()
    }

    pub fn was_denied(&self) -> bool {
        self.error.as_ref().is_some_and(CallError::is_access_denial)
    }

    /// A request parameter as a boolean, accepting CloudTrail's occasional `"false"` strings.
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

    /// Where the trail lives: the region in its ARN, else the region the call was made in.
    pub fn trail_home_region(&self) -> Option<&str> {
        self.trail
            .as_ref()
            .and_then(|t| t.region.as_deref())
            .or(self.region.as_deref())
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
}

impl Actor {
    pub fn is_root(&self) -> bool {
        self.kind.as_deref() == Some("Root")
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

/// A trail as a call names it: a bare name, or a full ARN that may point to another region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailRef {
    /// The name or ARN exactly as given; CloudTrail APIs accept either.
    pub given: String,
    /// The trail's short name.
    pub name: String,
    pub arn: Option<String>,
    pub partition: Option<String>,
    pub region: Option<String>,
    pub account: Option<String>,
}

impl TrailRef {
    /// Reads a trail name or ARN (`arn:PARTITION:cloudtrail:REGION:ACCOUNT:trail/NAME`).
    pub fn parse(given: &str) -> Option<TrailRef> {
        let given = given.trim();
        if given.is_empty() {
            return None;
        }
        if let Some(rest) = given.strip_prefix("arn:") {
            let mut parts = rest.splitn(5, ':');
            let partition = parts.next().filter(|p| !p.is_empty());
            let service = parts.next();
            let region = parts.next().filter(|r| !r.is_empty());
            let account = parts.next().filter(|a| !a.is_empty());
            let resource = parts.next();
            if let (Some(partition), Some("cloudtrail"), Some(resource)) =
                (partition, service, resource)
            {
                if let Some(name) = resource.strip_prefix("trail/").filter(|n| !n.is_empty()) {
                    return Some(TrailRef {
                        given: given.to_string(),
                        name: name.to_string(),
                        arn: Some(given.to_string()),
                        partition: Some(partition.to_string()),
                        region: region.map(str::to_string),
                        account: account.map(str::to_string),
                    });
                }
            }
        }
        Some(TrailRef {
            given: given.to_string(),
            name: given.to_string(),
            arn: None,
            partition: None,
            region: None,
            account: None,
        })
    }

    /// Fills in what a bare name leaves open from the response's ARN, without overriding an ARN
    /// the caller gave.
    pub fn with_known_arn(mut self, arn: &str) -> TrailRef {
        if self.arn.is_none() {
            if let Some(parsed) = TrailRef::parse(arn).filter(|t| t.arn.is_some()) {
                self.arn = parsed.arn;
                self.partition = parsed.partition;
                self.region = parsed.region;
                self.account = parsed.account;
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trail_ref_from_arn_keeps_region_and_account() {
        let t =
            TrailRef::parse("arn:aws:cloudtrail:eu-west-1:111122223333:trail/org-trail").unwrap();
        assert_eq!(t.name, "org-trail");
        assert_eq!(t.region.as_deref(), Some("eu-west-1"));
        assert_eq!(t.account.as_deref(), Some("111122223333"));
        assert_eq!(t.partition.as_deref(), Some("aws"));
    }

    #[test]
    fn trail_ref_from_name_has_no_region() {
        let t = TrailRef::parse("management-events").unwrap();
        assert_eq!(t.name, "management-events");
        assert_eq!(t.arn, None);
        assert_eq!(t.region, None);
        assert!(TrailRef::parse("   ").is_none());
    }

    #[test]
    fn malformed_arns_are_treated_as_names() {
        let t = TrailRef::parse("arn:aws:s3:::bucket").unwrap();
        assert_eq!(t.arn, None);
        assert_eq!(t.name, "arn:aws:s3:::bucket");
        let t = TrailRef::parse("arn:aws:cloudtrail:us-east-1:1:trail/").unwrap();
        assert_eq!(t.arn, None);
    }

    #[test]
    fn known_arn_fills_in_a_bare_name() {
        let t = TrailRef::parse("x")
            .unwrap()
            .with_known_arn("arn:aws:cloudtrail:us-west-2:111122223333:trail/x");
        assert_eq!(t.region.as_deref(), Some("us-west-2"));
        assert_eq!(t.name, "x");
    }

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

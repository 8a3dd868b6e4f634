//! The alert: everything a responder needs, as one versioned document.
//!
//! This is the JSON subscribers receive (the `default` message); the email and chat renderings
//! are views of it, so all three always agree. An alert is a finding: what was found, about
//! which resource, how it looks now and what to do. An API call adds `event` and `actor`; the
//! renderers and the publisher need neither, so a scheduled check can reuse them.

pub mod asff;
pub mod digest;
pub mod posture;
pub mod restart;

use serde::Serialize;
use serde_json::Value;

use crate::arn::Arn;
use crate::client::Client;
use crate::coverage::Coverage;
use crate::links::Links;
use crate::resource::{Resource, ResourceKind, ResourceState};
use crate::severity::Severity;
use crate::shape::{is_account, is_region_of};
use digest::DigestInfo;
use posture::PostureInfo;
use restart::AutoRestart;

/// What headlines show for a name that breaks its kind's naming rules.
pub const INVALID_NAME: &str = "(invalid name)";

/// Bumped on any change a consumer could notice; additions of optional fields keep the major.
/// 2.0: `resource` and a tagged `resourceState` replace 1.0's `trail`, `trailStatus`,
/// `trailConfig` and `eventSelectors`; `kind`, `coverage` and `trustedPrincipal` are new;
/// `links.trail` became `links.resource`.
/// 2.3: an organization's posture summary: `posture.organization` (accounts checked, what did
/// not fit) and each finding's `account`.
/// 2.2: `kind: "digest"` with `digest` (a burst's folded calls).
/// 2.1: `kind: "posture"` with `posture` (the scheduled check's findings) and
/// `resourceState.type: "trails"`; `ownResource` (a call on trailwatch's own resources).
pub const SCHEMA_VERSION: &str = "2.3";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AlertKind {
    /// A monitored API call, from an EventBridge event.
    ApiCall,
    /// The scheduled posture check's findings.
    Posture,
    /// The calls of one principal's burst, folded into one alert.
    Digest,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub schema_version: &'static str,
    pub product: &'static str,
    pub kind: AlertKind,
    pub severity: Severity,
    pub title: String,
    pub reasons: Vec<String>,
    /// What the finding is about; `None` when the request named nothing readable.
    pub resource: Option<Resource>,
    pub resource_state: ResourceState,
    pub coverage: Option<Coverage>,
    pub trusted_principal: bool,
    /// The call was on trailwatch's own key, rule, topic or function (sent to the health topic).
    pub own_resource: bool,
    /// The account's name from ACCOUNT_NAMES, when one is set.
    pub account_name: Option<String>,
    pub event: Option<EventInfo>,
    pub actor: Option<ActorInfo>,
    pub enrichment_error: Option<String>,
    /// What could not be read of the event itself; empty when all of it could.
    pub input_problems: Vec<String>,
    pub next_steps: Vec<NextStep>,
    pub links: Links,
    pub request_parameters: Option<Value>,
    /// What was left out to keep the message within SNS's size limit; empty when nothing was.
    pub truncated: Vec<String>,
    /// What self-healing did about a StopLogging (AUTO_RESTART_LOGGING).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_restart: Option<AutoRestart>,
    /// The posture check's run and findings, for `kind: "posture"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub posture: Option<PostureInfo>,
    /// The folded calls, for `kind: "digest"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<DigestInfo>,
}

/// One thing for the responder to do: prose (identifiers from the event in backticks, see
/// [`crate::prose::code`]), and the exact command when there is one, built only from validated
/// values ([`crate::command`]) so it can be copied as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NextStep {
    pub action: String,
    pub command: Option<String>,
}

impl NextStep {
    pub fn say(action: impl Into<String>) -> NextStep {
        NextStep {
            action: action.into(),
            command: None,
        }
    }

    pub fn run(action: impl Into<String>, command: impl Into<String>) -> NextStep {
        NextStep {
            action: action.into(),
            command: Some(command.into()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventInfo {
    pub name: String,
    pub source: String,
    pub id: Option<String>,
    pub time: Option<String>,
    pub region: Option<String>,
    pub account: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActorInfo {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub arn: Option<String>,
    pub name: String,
    pub account_id: Option<String>,
    pub principal_id: Option<String>,
    pub invoked_by: Option<String>,
    pub mfa_authenticated: Option<bool>,
    pub session_issuer: Option<String>,
    pub access_key_id: Option<String>,
    pub session_created: Option<String>,
    pub source_identity: Option<String>,
    /// For an IAM Identity Center session: the user and the permission set.
    pub sso_user: Option<String>,
    pub permission_set: Option<String>,
    /// The tool, read from the user agent (the full string is `event.userAgent`).
    pub client: Client,
}

impl AlertKind {
    pub fn label(self) -> &'static str {
        match self {
            AlertKind::ApiCall => "api-call",
            AlertKind::Posture => "posture",
            AlertKind::Digest => "digest",
        }
    }
}

/// What a posture alert gives as its event name (attributes, chat metadata).
pub const POSTURE_EVENT_NAME: &str = "PostureCheck";
/// ... and a burst's digest.
pub const DIGEST_EVENT_NAME: &str = "BurstDigest";

impl Alert {
    /// An alert that is not about one call (a posture report, a burst's digest): its kind,
    /// severity, headline, reasons and next steps, and nothing else yet.
    pub fn report(
        kind: AlertKind,
        severity: Severity,
        title: String,
        reasons: Vec<String>,
        next_steps: Vec<NextStep>,
    ) -> Alert {
        Alert {
            schema_version: SCHEMA_VERSION,
            product: "trailwatch",
            kind,
            severity,
            title,
            reasons,
            resource: None,
            resource_state: ResourceState::NotLookedUp,
            coverage: None,
            trusted_principal: false,
            own_resource: false,
            account_name: None,
            event: None,
            actor: None,
            enrichment_error: None,
            input_problems: Vec::new(),
            next_steps,
            links: Links::default(),
            request_parameters: None,
            truncated: Vec::new(),
            auto_restart: None,
            digest: None,
            posture: None,
        }
    }

    /// The call's name, or [`POSTURE_EVENT_NAME`] for a posture report.
    pub fn event_name(&self) -> Option<&str> {
        match (&self.event, self.kind) {
            (Some(event), _) => Some(&event.name),
            (None, AlertKind::Posture) => Some(POSTURE_EVENT_NAME),
            (None, AlertKind::Digest) => Some(DIGEST_EVENT_NAME),
            (None, AlertKind::ApiCall) => None,
        }
    }

    /// The resource's name for headlines (subject, titles): only a name that obeys the kind's
    /// naming rules, else a placeholder; the raw text is in the body, escaped.
    pub fn resource_label(&self) -> &str {
        match &self.resource {
            None if self
                .posture
                .as_ref()
                .is_some_and(|p| p.organization.is_some()) =>
            {
                "the organization"
            }
            None if self.kind == AlertKind::Posture => "all trails",
            None if self.kind == AlertKind::Digest => "one principal",
            None => "(no resource named)",
            Some(resource) => resource.valid_name().unwrap_or(INVALID_NAME),
        }
    }

    /// The region the finding is in: the resource's, else the event's.
    pub fn region(&self) -> Option<&str> {
        self.resource
            .as_ref()
            .and_then(|r| r.region.as_deref())
            .or(self.event.as_ref().and_then(|e| e.region.as_deref()))
            .or(self
                .posture
                .as_ref()
                .and_then(|p| p.regions.first().map(String::as_str)))
    }

    /// The account the finding is in: the resource's, else the event's.
    pub fn account(&self) -> Option<&str> {
        self.resource
            .as_ref()
            .and_then(|r| r.account.as_deref())
            .or(self.event.as_ref().and_then(|e| e.account.as_deref()))
            .or(self.posture.as_ref().and_then(|p| p.account.as_deref()))
    }

    /// The partition the finding is in, from the resource's ARN, else the caller's.
    fn partition(&self) -> Option<String> {
        self.resource
            .as_ref()
            .and_then(|r| r.arn.as_deref())
            .or(self.actor.as_ref().and_then(|a| a.arn.as_deref()))
            .and_then(Arn::parse)
            .map(|arn| arn.partition)
    }

    /// The region for headlines, thread ids and attributes: [`Alert::region`] when it is a
    /// region of the finding's partition, else `None` (shown as unknown). A region an ARN or an
    /// event made up stays in the body, escaped, and in the JSON as it was.
    pub fn headline_region(&self) -> Option<&str> {
        let partition = self.partition();
        self.region()
            .filter(|region| is_region_of(region, partition.as_deref()))
    }

    /// The account for headlines, thread ids and attributes: [`Alert::account`] when it is a
    /// 12-digit account id, else `None`.
    pub fn headline_account(&self) -> Option<&str> {
        self.account().filter(|account| is_account(account))
    }

    /// Names the account from `names` (ACCOUNT_NAMES).
    pub fn with_account_name(
        mut self,
        names: &std::collections::BTreeMap<String, String>,
    ) -> Alert {
        self.account_name = self
            .headline_account()
            .and_then(|id| names.get(id))
            .cloned();
        self
    }

    /// The account for headlines: its name and id when it has a name.
    pub fn account_label(&self) -> String {
        match (&self.account_name, self.headline_account()) {
            (Some(name), Some(id)) => format!("{name} {id}"),
            (None, Some(id)) => id.to_string(),
            (_, None) => "unknown account".to_string(),
        }
    }

    /// The trail the finding concerns, when its name is valid: the resource when it is a trail,
    /// else the first trail that delivers through it.
    pub fn trail_name(&self) -> Option<&str> {
        match (&self.resource, &self.resource_state) {
            (Some(resource), _) if resource.kind == ResourceKind::Trail => resource.valid_name(),
            (_, ResourceState::DeliveryChain { trails, .. }) => trails
                .first()
                .map(|t| t.name.as_str())
                .filter(|name| ResourceKind::Trail.is_valid_name(name)),
            _ => None,
        }
    }
}

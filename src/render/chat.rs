//! The chat card: an AWS Chatbot (Amazon Q Developer in chat applications) custom notification.
//!
//! Chatbot silently drops messages that do not match its schema, so the card is a typed struct,
//! and every piece of event text goes through [`chat_code`] or [`chat_text`].

use std::collections::BTreeMap;

use serde::Serialize;

use crate::alert::Alert;
use crate::coverage::Verdict;
use crate::render::escape::{chat_ascii, chat_code, chat_prose_with_code, chat_text};
use crate::resource::ResourceState;
use crate::severity::Severity;

const VALUE_CHARS: usize = 256;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatNotification {
    pub version: &'static str,
    pub source: &'static str,
    pub id: String,
    pub content: ChatContent,
    pub metadata: ChatMetadata,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatContent {
    pub text_type: &'static str,
    pub title: String,
    pub description: String,
    pub next_steps: Vec<String>,
    pub keywords: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMetadata {
    pub thread_id: String,
    pub summary: String,
    pub event_type: String,
    pub related_resources: Vec<String>,
    pub additional_context: BTreeMap<&'static str, String>,
}

fn badge(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "🚨",
        Severity::High => "🔴",
        Severity::Medium => "🟠",
        Severity::Low => "🔵",
        Severity::Informational => "ℹ️",
    }
}

pub fn chat_notification(alert: &Alert) -> ChatNotification {
    let code = |text: Option<&str>| chat_code(text.unwrap_or("-"), VALUE_CHARS);
    let resource = alert.resource.as_ref();
    let title = resource.map_or("Resource", |r| r.kind.title());
    let mut lines = Vec::new();
    lines.push(format!(
        "*{}* {} in account {}{}, {}",
        title,
        code(resource.and_then(|r| r.name.as_deref())),
        code(alert.account()),
        alert
            .account_name
            .as_deref()
            .map_or_else(String::new, |name| format!(" ({})", chat_text(name, 64))),
        code(alert.region())
    ));
    if let Some(a) = &alert.actor {
        let mfa = match a.mfa_authenticated {
            Some(true) => "MFA",
            Some(false) => "no MFA",
            None => "MFA unknown",
        };
        lines.push(format!(
            "*Who* {} ({}, {}, {}{}) from {}",
            chat_code(&a.name, VALUE_CHARS),
            chat_text(a.kind.as_deref().unwrap_or("unknown type"), 64),
            chat_text(&a.client.summary, 96),
            mfa,
            if alert.trusted_principal {
                ", trusted principal"
            } else {
                ""
            },
            code(alert.event.as_ref().and_then(|e| e.source_ip.as_deref()))
        ));
    }
    if let Some(e) = &alert.event {
        lines.push(format!("*User agent* {}", code(e.user_agent.as_deref())));
        lines.push(format!("*When* {}", code(e.time.as_deref())));
        if let Some(error) = &e.error_code {
            lines.push(format!(
                "*Error* {} {}",
                chat_code(error, 128),
                code(e.error_message.as_deref())
            ));
        }
    }
    let unknown = || match &alert.enrichment_error {
        Some(why) => format!("unknown ({})", chat_text(why, 400)),
        None => "unknown".to_string(),
    };
    let now = match &alert.resource_state {
        ResourceState::Trail { .. } => match alert.resource_state.trail_is_logging() {
            Some(true) => "logging".to_string(),
            Some(false) => "*NOT logging*".to_string(),
            None => unknown(),
        },
        ResourceState::EventDataStore(store) => match &store.status {
            Some(status) => chat_code(status, 64),
            None => unknown(),
        },
        ResourceState::DeliveryChain { trails, .. } => {
            let names: Vec<String> = trails.iter().map(|t| chat_code(&t.name, 128)).collect();
            format!("used by trail {}", names.join(", "))
        }
        ResourceState::Trails { trails } => {
            let logging = trails
                .iter()
                .filter(|t| t.status.as_ref().and_then(|s| s.is_logging) == Some(true))
                .count();
            format!("{} checked, {logging} logging", trails.len())
        }
        ResourceState::ConfigRecorders { recorders, .. } => {
            match crate::resource::config_records(recorders) {
                Some(true) => "Config recording".to_string(),
                Some(false) => "*Config NOT recording*".to_string(),
                None => unknown(),
            }
        }
        ResourceState::SecurityHub { enabled: true, .. } => "Security Hub enabled".to_string(),
        ResourceState::SecurityHub { enabled: false, .. } => {
            "*Security Hub NOT enabled*".to_string()
        }
        ResourceState::TrustedAccess { services } => {
            format!("{} service(s) trusted by the organization", services.len())
        }
        ResourceState::GuardDuty { detectors, .. } => {
            match crate::resource::guardduty_watches(detectors) {
                Some(true) => "GuardDuty enabled".to_string(),
                Some(false) => "*GuardDuty NOT enabled*".to_string(),
                None => unknown(),
            }
        }
        ResourceState::NotLookedUp => unknown(),
    };
    lines.push(format!("*{title} now* {now}"));
    if let Some(coverage) = &alert.coverage {
        let verdict = match coverage.verdict {
            Verdict::Covered => "yes",
            Verdict::Uncovered => "*NO*",
            Verdict::Unknown => "unknown",
        };
        lines.push(format!(
            "*Still recorded?* {verdict}: {}",
            chat_prose_with_code(&coverage.detail, 400)
        ));
    }
    lines.push(format!("*Why {}*", alert.severity));
    for reason in &alert.reasons {
        lines.push(format!("• {}", chat_prose_with_code(reason, 400)));
    }
    let mut links = Vec::new();
    if let Some(link) = &alert.links.resource {
        // Slack's link form, as the Chatbot documentation's own sample writes it.
        links.push(format!("<{link}|{title}>"));
    }
    if let Some(link) = &alert.links.event {
        links.push(format!("<{link}|Event in CloudTrail>"));
    }
    if let Some(link) = &alert.links.principal {
        links.push(format!("<{link}|Who, in IAM>"));
    }
    if !links.is_empty() {
        lines.push(links.join(" · "));
    }

    let event_name = alert.event_name().unwrap_or("-");
    let mut context = BTreeMap::new();
    context.insert("severity", alert.severity.label().to_string());
    context.insert("eventName", chat_ascii(event_name, 64));
    if let Some(account) = alert.headline_account() {
        context.insert("account", chat_ascii(account, 64));
    }
    if let Some(region) = alert.headline_region() {
        context.insert("region", chat_ascii(region, 64));
    }

    ChatNotification {
        version: "1.0",
        source: "custom",
        // Chatbot needs an id; an event id that cleans to nothing gets a fixed one.
        id: Some(chat_ascii(
            alert
                .event
                .as_ref()
                .and_then(|e| e.id.as_deref())
                .or(alert.posture.as_ref().map(|p| p.checked_at.as_str()))
                .unwrap_or_default(),
            128,
        ))
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| "trailwatch-alert".to_string()),
        content: ChatContent {
            text_type: "client-markdown",
            title: format!(
                "{} {}: {} — {}{}",
                badge(alert.severity),
                alert.severity,
                chat_text(&alert.title, 120),
                // A valid name (or the placeholder) verbatim, so it can be copied.
                chat_code(alert.resource_label(), 128),
                alert
                    .account_name
                    .as_deref()
                    .map_or_else(String::new, |name| format!(" in {}", chat_text(name, 64)))
            ),
            description: lines.join("\n"),
            next_steps: alert
                .next_steps
                .iter()
                .map(|step| match &step.command {
                    Some(command) => format!(
                        "{}: {}",
                        chat_prose_with_code(&step.action, 400),
                        chat_code(command, 1024)
                    ),
                    None => chat_prose_with_code(&step.action, 400),
                })
                .collect(),
            keywords: [
                alert.severity.label(),
                event_name,
                alert.headline_account().unwrap_or(""),
            ]
            .iter()
            .map(|k| chat_ascii(k, 64))
            .filter(|k| !k.is_empty())
            .collect(),
        },
        metadata: ChatMetadata {
            thread_id: thread_id(alert),
            summary: chat_ascii(
                &format!(
                    "[{}] {}: {}",
                    alert.severity,
                    alert.title,
                    alert.resource_label()
                ),
                200,
            ),
            event_type: chat_ascii(event_name, 64),
            related_resources: resource
                .and_then(|r| r.valid_arn())
                .iter()
                .map(|arn| chat_ascii(arn, 256))
                .collect(),
            additional_context: context,
        },
    }
}

/// One thread per trail per day, however the event named the trail (by name or by ARN): alerts
/// about a trail's bucket, key or log group join the trail's thread. A CRITICAL alert starts a
/// thread of its own, so it is never a reply hidden under an older, lower one.
pub fn thread_id(alert: &Alert) -> String {
    let day = alert
        .event
        .as_ref()
        .and_then(|e| e.time.as_deref())
        .or(alert.posture.as_ref().map(|p| p.checked_at.as_str()))
        .and_then(|time| time.get(..10))
        .filter(|day| chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").is_ok())
        .unwrap_or("undated");
    let about = match (alert.trail_name(), &alert.resource) {
        _ if alert.posture.is_some() => "posture".to_string(),
        (Some(trail), _) => format!("trail/{trail}"),
        (None, Some(resource)) => format!("{}/{}", resource.kind.label(), alert.resource_label()),
        (None, None) => "no-resource".to_string(),
    };
    let mut id = format!(
        "trailwatch:{}:{about}:{day}",
        alert.headline_account().unwrap_or("-")
    );
    if alert.severity == Severity::Critical {
        let event = alert.event.as_ref().and_then(|e| e.id.as_deref());
        id.push_str(&format!(":critical:{}", event.unwrap_or("-")));
    }
    chat_ascii(&id, 200).replace(' ', "_")
}

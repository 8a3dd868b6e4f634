//! Preview: render an event's alert exactly as the function would publish it, without
//! publishing, so a team can see what its inbox and chat will receive.

use std::sync::Mutex;

use async_trait::async_trait;
use serde_json::Value;

use crate::alert::asff::AsffFinding;
use crate::assemble::alert_without_lookups;
use crate::config::Config;
use crate::handler::{handle_payload, Dependencies, HandlerError, Invocation, Summary};
use crate::hub::{FindingsHub, ImportReport, NoHub};
use crate::inspector::TrailInspector;
use crate::parse::{parse_event, Inbound, InvalidEvent};
use crate::publish::{AlertPublisher, PublishError};
use crate::render::render;
use crate::render::RenderedAlert;

/// Keeps the alert instead of sending it.
#[derive(Default)]
pub struct CapturingPublisher {
    captured: Mutex<Vec<RenderedAlert>>,
}

impl CapturingPublisher {
    pub fn take(&self) -> Vec<RenderedAlert> {
        self.captured
            .lock()
            .map(|mut c| std::mem::take(&mut *c))
            .unwrap_or_default()
    }
}

#[async_trait]
impl AlertPublisher for CapturingPublisher {
    async fn publish(&self, alert: &RenderedAlert) -> Result<String, PublishError> {
        let mut captured = self
            .captured
            .lock()
            .map_err(|_| PublishError("preview store poisoned".into()))?;
        captured.push(alert.clone());
        Ok(format!("preview-{}", captured.len()))
    }
}

/// The whole pure pipeline on raw invocation bytes, as Lambda would run it minus the network:
/// clean, parse, classify, render. `Ok(None)` for events that are not monitored calls. For
/// property tests, fuzzing and benchmarks.
pub fn render_offline(body: &[u8]) -> Result<Option<RenderedAlert>, InvalidEvent> {
    let cleaned = crate::input::prepare(body);
    let payload: Value = serde_json::from_slice(cleaned.as_deref().unwrap_or(body))
        .map_err(|e| InvalidEvent::Unreadable(format!("the payload is not JSON: {e}")))?;
    match parse_event(&payload)? {
        Inbound::ApiCall(call) => Ok(alert_without_lookups(&call).map(render)),
        Inbound::Other { .. } | Inbound::Scheduled(_) | Inbound::Queued(_) => Ok(None),
    }
}

/// Runs the pipeline on `payload` and returns the summary and, unless the event was ignored or
/// below the threshold, the alert that would have been published.
pub async fn preview(
    payload: &Value,
    config: &Config,
    inspector: Option<&dyn TrailInspector>,
) -> Result<(Summary, Option<RenderedAlert>), HandlerError> {
    run(payload, config, inspector, &NoHub).await
}

/// The Security Hub findings `payload` would import (for a scheduled posture event, every
/// finding of the run), as `BatchImportFindings` takes them.
pub async fn preview_findings(
    payload: &Value,
    config: &Config,
    inspector: Option<&dyn TrailInspector>,
) -> Result<Vec<AsffFinding>, HandlerError> {
    let hub = CapturingHub::default();
    run(payload, config, inspector, &hub).await?;
    Ok(hub
        .imported
        .lock()
        .map(|mut found| std::mem::take(&mut *found))
        .unwrap_or_default())
}

/// Keeps the findings instead of importing them; holds no earlier finding.
#[derive(Default)]
struct CapturingHub {
    imported: Mutex<Vec<AsffFinding>>,
}

#[async_trait]
impl FindingsHub for CapturingHub {
    fn enabled(&self) -> bool {
        true
    }
    async fn import(&self, findings: &[AsffFinding]) -> ImportReport {
        if let Ok(mut imported) = self.imported.lock() {
            imported.extend_from_slice(findings);
        }
        ImportReport {
            imported: findings.len(),
            ..ImportReport::default()
        }
    }
    async fn open_posture_findings(&self, _: &str) -> Result<Vec<AsffFinding>, String> {
        Ok(Vec::new())
    }
}

async fn run(
    payload: &Value,
    config: &Config,
    inspector: Option<&dyn TrailInspector>,
    hub: &dyn FindingsHub,
) -> Result<(Summary, Option<RenderedAlert>), HandlerError> {
    let capture = CapturingPublisher::default();
    let deps = Dependencies {
        config,
        inspector,
        recorders: &crate::recorders::NoRecorders {
            why: "the preview reads no recorder",
        },
        buckets: &crate::buckets::NoBuckets {
            why: "the preview reads no bucket",
        },
        members: &crate::members::NoMemberAccess,
        ledger: &crate::dedup::NoLedger,
        bursts: &crate::burst::NoBursts,
        digests: &crate::burst::NoBursts,
        publisher: &capture,
        health: &capture,
        restarter: &crate::restart::NoRestart,
        metrics: &crate::metrics::NoMetrics,
        accounts: &crate::organization::NoOrganization,
        posture_queue: &crate::organization::NoOrganization,
        runs: &crate::organization::NoOrganization,
        hub,
        plumbing: &crate::plumbing::NoPlumbing,
    };
    let summary = handle_payload(payload, &Invocation::default(), &deps).await?;
    Ok((summary, capture.take().pop()))
}

/// The alert laid out for a terminal: subject, attributes, then each reader's version.
pub fn describe(alert: &RenderedAlert) -> String {
    let per_protocol: Value = serde_json::from_str(&alert.message).unwrap_or(Value::Null);
    let part = |key: &str| {
        per_protocol
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let pretty = |raw: String| {
        serde_json::from_str::<Value>(&raw)
            .and_then(|v| serde_json::to_string_pretty(&v))
            .unwrap_or(raw)
    };
    let attributes: Vec<String> = alert
        .attributes
        .iter()
        .map(|(k, v)| format!("  {k} = {v}"))
        .collect();
    format!(
        "── Subject ──────────────────────────────\n{}\n\n\
         ── Message attributes ───────────────────\n{}\n\n\
         ── Email (protocol \"email\") ─────────────\n{}\n\
         ── Chat card (protocol \"https\", AWS Chatbot) ──\n{}\n\n\
         ── JSON alert (protocol \"default\": SQS, Lambda, email-json) ──\n{}\n\n\
         ({} bytes published; SNS allows 262144)\n",
        alert.subject,
        attributes.join("\n"),
        part("email"),
        pretty(part("https")),
        pretty(part("default")),
        alert.message.len()
    )
}

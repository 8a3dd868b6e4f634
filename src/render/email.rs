//! The plain-text email: readable in ten seconds, top to bottom in the order a responder asks.

use std::fmt::Write;

use crate::alert::Alert;
use crate::render::escape::single_line;

/// Long enough for any real ARN or user agent; crafted values are cut.
const VALUE_CHARS: usize = 512;
const PARAMETERS_CHARS: usize = 2000;

pub fn email_text(alert: &Alert) -> String {
    let v =
        |text: Option<&str>| text.map_or_else(|| "-".to_string(), |t| single_line(t, VALUE_CHARS));
    let yes_no = |flag: Option<bool>, yes: &str, no: &str| match flag {
        Some(true) => yes.to_string(),
        Some(false) => no.to_string(),
        None => "unknown".to_string(),
    };
    let mut out = String::with_capacity(4096);
    let e = &alert.event;
    let a = &alert.actor;

    let _ = writeln!(
        out,
        "[{}] {}",
        alert.severity,
        single_line(&alert.title, VALUE_CHARS)
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "WHAT HAPPENED");
    let outcome = match &e.error_code {
        Some(code) => format!("was attempted and failed with {}", single_line(code, 128)),
        None => "succeeded".to_string(),
    };
    let _ = writeln!(
        out,
        "  {} on trail {} {}.",
        e.name,
        v(alert.trail.name.as_deref()),
        outcome
    );
    if let Some(message) = &e.error_message {
        let _ = writeln!(out, "  Error: {}", single_line(message, VALUE_CHARS));
    }
    let _ = writeln!(out);
    let rows = [
        (
            "Trail",
            v(alert.trail.arn.as_deref().or(alert.trail.name.as_deref())),
        ),
        ("Account", v(e.account.as_deref())),
        (
            "Region",
            format!(
                "{} (trail home region: {})",
                v(e.region.as_deref()),
                v(alert.trail.region.as_deref())
            ),
        ),
        ("When", v(e.time.as_deref())),
        (
            "Who",
            format!(
                "{} ({})",
                single_line(&a.name, VALUE_CHARS),
                v(a.kind.as_deref())
            ),
        ),
        (
            "Principal",
            v(a.arn.as_deref().or(a.principal_id.as_deref())),
        ),
        ("MFA", yes_no(a.mfa_authenticated, "yes", "no")),
        ("Source IP", v(e.source_ip.as_deref())),
        ("User agent", v(e.user_agent.as_deref())),
        ("Event ID", v(e.id.as_deref())),
    ];
    for (label, value) in rows {
        let _ = writeln!(out, "  {label:<11} {value}");
    }
    if let Some(invoked_by) = &a.invoked_by {
        let _ = writeln!(
            out,
            "  {:<11} {}",
            "Via",
            single_line(invoked_by, VALUE_CHARS)
        );
    }

    let _ = writeln!(out);
    let _ = writeln!(out, "TRAIL STATE NOW");
    let s = &alert.trail_status;
    let logging = match s.is_logging {
        Some(true) => "yes".to_string(),
        Some(false) => match (&s.stop_logging_time, &s.start_logging_time) {
            (Some(stopped), _) => format!("NO (stopped {})", single_line(stopped, 64)),
            (None, None) => "NO (never started)".to_string(),
            (None, Some(_)) => "NO".to_string(),
        },
        None => "unknown".to_string(),
    };
    let or_none =
        |text: Option<&str>| text.map_or("none".to_string(), |t| single_line(t, VALUE_CHARS));
    let mut state = vec![("Logging", logging)];
    if s.is_logging.is_some() {
        state.push(("Last delivery", v(s.latest_delivery_time.as_deref())));
        state.push((
            "Delivery error",
            or_none(s.latest_delivery_error.as_deref()),
        ));
    }
    if let Some(c) = &alert.trail_config {
        state.push(("Multi-region", yes_no(c.is_multi_region_trail, "yes", "no")));
        state.push((
            "Global events",
            yes_no(c.include_global_service_events, "yes", "no"),
        ));
        state.push((
            "Log validation",
            yes_no(c.log_file_validation_enabled, "on", "off"),
        ));
        state.push(("S3 bucket", v(c.s3_bucket_name.as_deref())));
        state.push(("KMS key", or_none(c.kms_key_id.as_deref())));
    }
    if let Some(sel) = &alert.event_selectors {
        let recorded = match (&sel.management_events, sel.selector_count) {
            (_, 0) => "unknown (no event selectors returned)".to_string(),
            (Some(which), n) => format!(
                "{} ({n} {} selector{})",
                single_line(which, 32),
                sel.style,
                if n == 1 { "" } else { "s" }
            ),
            (None, n) => format!("unknown ({n} {} selectors)", sel.style),
        };
        state.push(("Mgmt events", recorded));
    }
    for (label, value) in state {
        let _ = writeln!(out, "  {label:<15} {value}");
    }
    if let Some(err) = &alert.enrichment_error {
        let _ = writeln!(
            out,
            "  Could not be fully read: {}",
            single_line(err, 2 * VALUE_CHARS)
        );
    }

    let _ = writeln!(out);
    let _ = writeln!(out, "WHY {}", alert.severity);
    for reason in &alert.reasons {
        let _ = writeln!(out, "  - {}", single_line(reason, VALUE_CHARS));
    }

    let _ = writeln!(out);
    let _ = writeln!(out, "WHAT TO DO NEXT");
    for (i, step) in alert.next_steps.iter().enumerate() {
        let _ = writeln!(out, "  {}. {}", i + 1, single_line(step, VALUE_CHARS));
    }

    if alert.links.trail.is_some() || alert.links.event.is_some() {
        let _ = writeln!(out);
        let _ = writeln!(out, "LINKS");
        if let Some(link) = &alert.links.trail {
            let _ = writeln!(out, "  Trail:         {link}");
        }
        if let Some(link) = &alert.links.event {
            let _ = writeln!(out, "  Event history: {link}");
        }
    }

    if let Some(parameters) = &alert.request_parameters {
        let _ = writeln!(out);
        let _ = writeln!(out, "REQUEST PARAMETERS");
        let _ = writeln!(
            out,
            "  {}",
            single_line(&parameters.to_string(), PARAMETERS_CHARS)
        );
    }
    for note in &alert.truncated {
        let _ = writeln!(out, "  Note: {}", single_line(note, VALUE_CHARS));
    }

    let _ = writeln!(out);
    let _ = writeln!(out, "--");
    let _ = writeln!(out, "trailwatch: real-time CloudTrail tamper alerts (CIS AWS Foundations 4.5). Alert schema {}.", alert.schema_version);
    out
}

//! The plain-text email: readable in ten seconds, top to bottom in the order a responder asks.

use std::fmt::Write;

use crate::alert::Alert;
use crate::coverage::Verdict;
use crate::render::escape::{email_prose, email_value, single_line};
use crate::resource::{
    EventDataStoreState, ResourceState, SelectorSummary, TrailConfig, TrailStatus,
};

/// Long enough for any real ARN or user agent; crafted values are cut.
const VALUE_CHARS: usize = 512;
const PARAMETERS_CHARS: usize = 2000;

fn value(text: Option<&str>) -> String {
    text.map_or_else(|| "-".to_string(), |t| email_value(t, VALUE_CHARS))
}

fn yes_no(flag: Option<bool>, yes: &str, no: &str) -> String {
    match flag {
        Some(true) => yes.to_string(),
        Some(false) => no.to_string(),
        None => "unknown".to_string(),
    }
}

fn or_none(text: Option<&str>) -> String {
    text.map_or("none".to_string(), |t| email_value(t, VALUE_CHARS))
}

pub fn email_text(alert: &Alert) -> String {
    let mut out = String::with_capacity(4096);
    let _ = writeln!(
        out,
        "[{}] {}{}",
        alert.severity,
        email_value(&alert.title, VALUE_CHARS),
        alert
            .account_name
            .as_deref()
            .map_or_else(String::new, |name| format!(" in {name}"))
    );
    // The one safe action, where a responder looks first.
    if let Some(first) = alert
        .next_steps
        .first()
        .filter(|step| step.command.is_some())
    {
        let _ = writeln!(out);
        let _ = writeln!(out, "FIRST: {}", email_prose(&first.action, VALUE_CHARS));
        if let Some(command) = &first.command {
            let _ = writeln!(out, "       {}", single_line(command, 2 * VALUE_CHARS));
        }
    }
    let _ = writeln!(out);
    what_happened(&mut out, alert);

    if let Some(coverage) = &alert.coverage {
        let _ = writeln!(out);
        let _ = writeln!(out, "STILL RECORDED?");
        let verdict = match coverage.verdict {
            Verdict::Covered => "yes",
            Verdict::Uncovered => "NO",
            Verdict::Unknown => "unknown",
        };
        let _ = writeln!(
            out,
            "  {verdict}: {}",
            email_prose(&coverage.detail, 2 * VALUE_CHARS)
        );
    }

    let _ = writeln!(out);
    let title = alert
        .resource
        .as_ref()
        .map_or("Resource", |r| r.kind.title());
    let _ = writeln!(out, "{} STATE NOW", title.to_uppercase());
    let rows = match &alert.resource_state {
        ResourceState::Trail {
            status,
            config,
            event_selectors,
        } => trail_rows(status.as_ref(), config.as_ref(), event_selectors.as_ref()),
        ResourceState::EventDataStore(store) => store_rows(store),
        ResourceState::DeliveryChain { trails, .. } if trails.is_empty() => {
            vec![("Used by", "no trail".to_string())]
        }
        ResourceState::DeliveryChain { trails, bucket } => {
            let mut rows: Vec<(&str, String)> = trails
                .iter()
                .map(|trail| {
                    (
                        "Used by trail",
                        format!(
                            "{} (home region {})",
                            value(trail.arn.as_deref().or(Some(&trail.name))),
                            value(trail.home_region.as_deref())
                        ),
                    )
                })
                .collect();
            if let Some(versioning) = bucket.as_ref().and_then(|b| b.versioning.as_ref()) {
                rows.push((
                    "Versioning",
                    format!(
                        "{}, MFA delete {}",
                        value(Some(
                            versioning.status.as_deref().unwrap_or("never enabled")
                        )),
                        value(Some(versioning.mfa_delete.as_deref().unwrap_or("not set")))
                    ),
                ));
            }
            if let Some(block) = bucket.as_ref().and_then(|b| b.public_access_block.as_ref()) {
                let shown = match (block.configured, block.off().as_slice()) {
                    (false, _) => "none on the bucket".to_string(),
                    (true, []) => "all four settings on".to_string(),
                    (true, off) => format!("off: {}", off.join(", ")),
                };
                rows.push(("Public block", shown));
            }
            rows
        }
        ResourceState::Trails { trails }
            if trails.is_empty()
                && alert
                    .posture
                    .as_ref()
                    .is_some_and(|p| p.organization.is_some()) =>
        {
            vec![(
                "Trails",
                "none to show: the findings are about accounts".to_string(),
            )]
        }
        ResourceState::Trails { trails } if trails.is_empty() => {
            vec![("Trails", "none apply in the regions checked".to_string())]
        }
        ResourceState::Trails { trails } => trails
            .iter()
            .map(|trail| ("Trail", trail_summary(trail)))
            .collect(),
        ResourceState::ConfigRecorders { region, recorders } if recorders.is_empty() => {
            vec![(
                "AWS Config",
                format!("no recorder in {}", value(Some(region))),
            )]
        }
        ResourceState::ConfigRecorders { recorders, .. } => recorders
            .iter()
            .map(|recorder| {
                let recording = match recorder.recording {
                    Some(true) => "recording",
                    Some(false) => "NOT recording",
                    None => "unknown",
                };
                (
                    "Config recorder",
                    format!(
                        "{} {recording} (last delivery {}{})",
                        value(Some(&recorder.name)),
                        value(recorder.last_status.as_deref()),
                        recorder
                            .last_error
                            .as_deref()
                            .map(|e| format!(", error {}", value(Some(e))))
                            .unwrap_or_default()
                    ),
                )
            })
            .collect(),
        ResourceState::SecurityHub { region, enabled } => vec![(
            "Security Hub",
            format!(
                "{} in {}",
                if *enabled { "enabled" } else { "NOT enabled" },
                value(Some(region))
            ),
        )],
        ResourceState::GuardDuty { region, detectors } if detectors.is_empty() => {
            vec![(
                "GuardDuty",
                format!("no detector in {}", value(Some(region))),
            )]
        }
        ResourceState::GuardDuty { detectors, .. } => detectors
            .iter()
            .map(|detector| {
                let enabled = match detector.enabled {
                    Some(true) => "enabled",
                    Some(false) => "NOT enabled (suspended)",
                    None => "unknown",
                };
                let off = match detector.disabled_features.as_slice() {
                    [] => String::new(),
                    features => format!(
                        ", plans off: {}",
                        features
                            .iter()
                            .map(|f| value(Some(f)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                (
                    "Detector",
                    format!("{} {enabled}{off}", value(Some(&detector.id))),
                )
            })
            .collect(),
        ResourceState::TrustedAccess { services } if services.is_empty() => {
            vec![("Trusted access", "no service".to_string())]
        }
        ResourceState::TrustedAccess { services } => vec![(
            "Trusted access",
            services
                .iter()
                .map(|service| value(Some(service)))
                .collect::<Vec<_>>()
                .join(", "),
        )],
        ResourceState::NotLookedUp => vec![("State", "not looked up".to_string())],
    };
    for (label, shown) in rows {
        let _ = writeln!(out, "  {label:<15} {shown}");
    }
    if let Some(err) = &alert.enrichment_error {
        let _ = writeln!(
            out,
            "  Could not be fully read: {}",
            email_value(err, 2 * VALUE_CHARS)
        );
    }

    let _ = writeln!(out);
    let _ = writeln!(out, "WHY {}", alert.severity);
    for reason in &alert.reasons {
        let _ = writeln!(out, "  - {}", email_prose(reason, VALUE_CHARS));
    }

    let _ = writeln!(out);
    let _ = writeln!(out, "WHAT TO DO NEXT");
    for (i, step) in alert.next_steps.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {}. {}",
            i + 1,
            email_prose(&step.action, VALUE_CHARS)
        );
        if let Some(command) = &step.command {
            // Built from validated values only: shown exactly, to be copied.
            let _ = writeln!(out, "       {}", single_line(command, 2 * VALUE_CHARS));
        }
    }

    if alert.links.resource.is_some()
        || alert.links.event.is_some()
        || alert.links.principal.is_some()
    {
        let _ = writeln!(out);
        let _ = writeln!(out, "LINKS");
        if let Some(link) = &alert.links.resource {
            let _ = writeln!(out, "  {:<14} {link}", format!("{title}:"));
        }
        if let Some(link) = &alert.links.event {
            let _ = writeln!(out, "  Event history: {link}");
        }
        if let Some(link) = &alert.links.principal {
            let _ = writeln!(out, "  Who (IAM):     {link}");
        }
    }

    if let Some(parameters) = &alert.request_parameters {
        let _ = writeln!(out);
        let _ = writeln!(out, "REQUEST PARAMETERS");
        let _ = writeln!(
            out,
            "  {}",
            email_value(&parameters.to_string(), PARAMETERS_CHARS)
        );
    }
    for note in &alert.truncated {
        let _ = writeln!(out, "  Note: {}", email_value(note, VALUE_CHARS));
    }

    let _ = writeln!(out);
    let _ = writeln!(out, "--");
    let _ = writeln!(out, "trailwatch: real-time CloudTrail tamper alerts (CIS AWS Foundations 4.5). Alert schema {}.", alert.schema_version);
    out
}

fn what_happened(out: &mut String, alert: &Alert) {
    let _ = writeln!(out, "WHAT HAPPENED");
    let resource = alert.resource.as_ref();
    let noun = resource.map_or("resource", |r| r.kind.noun());
    let title = resource.map_or("Resource", |r| r.kind.title());
    if let Some(e) = &alert.event {
        let outcome = match &e.error_code {
            Some(code) => format!("was attempted and failed with {}", email_value(code, 128)),
            None => "succeeded".to_string(),
        };
        let _ = writeln!(
            out,
            "  {} on {noun} {} {}.",
            email_value(&e.name, 128),
            value(resource.and_then(|r| r.name.as_deref())),
            outcome
        );
        if let Some(message) = &e.error_message {
            let _ = writeln!(out, "  Error: {}", email_value(message, VALUE_CHARS));
        }
    }
    if let Some(posture) = &alert.posture {
        match &posture.organization {
            None => {
                let _ = writeln!(
                    out,
                    "  The scheduled posture check at {} looked at {} trail(s) in {} and found {} finding(s), {} of them new.",
                    value(Some(&posture.checked_at)),
                    posture.trails_checked,
                    value(Some(&posture.regions.join(", "))),
                    posture.findings.len(),
                    posture.findings.iter().filter(|f| f.new).count()
                );
            }
            Some(run) => {
                let _ = writeln!(
                    out,
                    "  The organization's scheduled posture check at {} looked at {} account(s), {} trail(s) in {}, and found findings in {} account(s); {} of the findings below are new.",
                    value(Some(&posture.checked_at)),
                    run.accounts_checked,
                    posture.trails_checked,
                    value(Some(&posture.regions.join(", "))),
                    run.accounts_with_findings,
                    posture.findings.iter().filter(|f| f.new).count()
                );
                if run.omitted_accounts > 0 {
                    let _ = writeln!(
                        out,
                        "  {} more finding(s) in {} account(s) did not fit in this message (see the note at the end).",
                        run.omitted_findings, run.omitted_accounts
                    );
                }
            }
        }
        if let Some(next) = &posture.next_reminder {
            let _ = writeln!(
                out,
                "  Findings still open are repeated in the first run after {}.",
                value(Some(next))
            );
        }
    }
    let _ = writeln!(out);
    let mut rows = vec![
        (
            title.to_string(),
            // A name that obeys AWS's rules is shown as it is, for copying; anything else
            // defanged like the rest of the event's text.
            match resource.and_then(|r| r.valid_arn().or(r.valid_name())) {
                Some(valid) => single_line(valid, VALUE_CHARS),
                None => value(resource.and_then(|r| r.arn.as_deref().or(r.name.as_deref()))),
            },
        ),
        (
            "Account".to_string(),
            match &alert.account_name {
                Some(name) => format!("{} ({name})", value(alert.account())),
                None => value(alert.account()),
            },
        ),
    ];
    if let Some(e) = &alert.event {
        rows.push((
            "Region".to_string(),
            format!(
                "{} ({noun} region: {})",
                value(e.region.as_deref()),
                value(resource.and_then(|r| r.region.as_deref()))
            ),
        ));
        rows.push(("When".to_string(), value(e.time.as_deref())));
    }
    if let Some(a) = &alert.actor {
        rows.push((
            "Who".to_string(),
            format!(
                "{} ({}){}",
                email_value(&a.name, VALUE_CHARS),
                value(a.kind.as_deref()),
                if alert.trusted_principal {
                    ", a trusted principal"
                } else {
                    ""
                }
            ),
        ));
        rows.push((
            "Principal".to_string(),
            value(a.arn.as_deref().or(a.principal_id.as_deref())),
        ));
        rows.push(("MFA".to_string(), yes_no(a.mfa_authenticated, "yes", "no")));
        rows.push((
            "Client".to_string(),
            email_value(&a.client.summary, VALUE_CHARS),
        ));
        if let Some((user, set)) = a.sso_user.as_deref().zip(a.permission_set.as_deref()) {
            rows.push((
                "SSO".to_string(),
                format!(
                    "{} with permission set {}",
                    value(Some(user)),
                    value(Some(set))
                ),
            ));
        }
        if let Some(key) = &a.access_key_id {
            rows.push(("Access key".to_string(), value(Some(key))));
        }
        if let Some(created) = &a.session_created {
            rows.push((
                "Session".to_string(),
                format!("since {}", value(Some(created))),
            ));
        }
        if let Some(source) = &a.source_identity {
            rows.push(("Source id".to_string(), value(Some(source))));
        }
    }
    if let Some(e) = &alert.event {
        rows.push(("Source IP".to_string(), value(e.source_ip.as_deref())));
        rows.push(("User agent".to_string(), value(e.user_agent.as_deref())));
        rows.push(("Event ID".to_string(), value(e.id.as_deref())));
    }
    if let Some(invoked_by) = alert.actor.as_ref().and_then(|a| a.invoked_by.as_deref()) {
        rows.push(("Via".to_string(), email_value(invoked_by, VALUE_CHARS)));
    }
    for (label, shown) in rows {
        let _ = writeln!(out, "  {label:<11} {shown}");
    }
}

/// One line per trail for the posture check: where it lives and whether it records.
fn trail_summary(trail: &crate::resource::TrailSnapshot) -> String {
    let status = trail.status.as_ref();
    format!(
        "{} ({}, home region {}): {}, management events {}, validation {}{}",
        value(trail.config.arn.as_deref().or(trail.config.name.as_deref())),
        if trail.config.is_multi_region_trail == Some(true) {
            "multi-region"
        } else {
            "single-region"
        },
        value(trail.config.home_region.as_deref()),
        yes_no(status.and_then(|s| s.is_logging), "logging", "NOT logging"),
        value(
            trail
                .event_selectors
                .as_ref()
                .and_then(|s| s.management_events.as_deref())
        ),
        yes_no(trail.config.log_file_validation_enabled, "on", "off"),
        match status.and_then(|s| s.latest_delivery_error.as_deref()) {
            Some(error) => format!(", delivery error {}", email_value(error, 128)),
            None => String::new(),
        }
    )
}

fn trail_rows(
    status: Option<&TrailStatus>,
    config: Option<&TrailConfig>,
    selectors: Option<&SelectorSummary>,
) -> Vec<(&'static str, String)> {
    let logging = match status {
        Some(s) if s.is_logging == Some(true) => "yes".to_string(),
        Some(s) if s.is_logging == Some(false) => {
            match (&s.stop_logging_time, &s.start_logging_time) {
                (Some(stopped), _) => format!("NO (stopped {})", email_value(stopped, 64)),
                (None, None) => "NO (never started)".to_string(),
                (None, Some(_)) => "NO".to_string(),
            }
        }
        _ => "unknown".to_string(),
    };
    let mut rows = vec![("Logging", logging)];
    if let Some(s) = status.filter(|s| s.is_logging.is_some()) {
        rows.push(("Last delivery", value(s.latest_delivery_time.as_deref())));
        rows.push((
            "Delivery error",
            or_none(s.latest_delivery_error.as_deref()),
        ));
    }
    if let Some(c) = config {
        rows.push(("Multi-region", yes_no(c.is_multi_region_trail, "yes", "no")));
        rows.push((
            "Global events",
            yes_no(c.include_global_service_events, "yes", "no"),
        ));
        rows.push((
            "Log validation",
            yes_no(c.log_file_validation_enabled, "on", "off"),
        ));
        rows.push(("S3 bucket", value(c.s3_bucket_name.as_deref())));
        rows.push(("KMS key", or_none(c.kms_key_id.as_deref())));
        rows.push((
            "Log group",
            or_none(c.cloud_watch_logs_log_group_arn.as_deref()),
        ));
    }
    if let Some(sel) = selectors {
        let recorded = match (&sel.management_events, sel.selector_count) {
            (_, 0) => "unknown (no event selectors returned)".to_string(),
            (Some(which), n) => format!(
                "{} ({n} {} selector{})",
                email_value(which, 32),
                sel.style,
                if n == 1 { "" } else { "s" }
            ),
            (None, n) => format!("unknown ({n} {} selectors)", sel.style),
        };
        rows.push(("Mgmt events", recorded));
    }
    rows
}

fn store_rows(store: &EventDataStoreState) -> Vec<(&'static str, String)> {
    vec![
        ("Status", value(store.status.as_deref())),
        (
            "Retention",
            store
                .retention_period
                .map_or("unknown".to_string(), |days| format!("{days} days")),
        ),
        (
            "Termination protection",
            yes_no(store.termination_protection_enabled, "on", "off"),
        ),
        (
            "Multi-region",
            yes_no(store.multi_region_enabled, "yes", "no"),
        ),
        (
            "Organization",
            yes_no(store.organization_enabled, "yes", "no"),
        ),
    ]
}

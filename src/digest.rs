//! The digest alert: a burst's tally ([`crate::burst`]) as one alert, in the same formats as
//! an event's.

use crate::alert::digest::{CallCount, DigestInfo, SeverityCount};
use crate::alert::{Alert, AlertKind, EventInfo, NextStep, DIGEST_EVENT_NAME};
use crate::burst::{BurstKey, Tally};
use crate::config::BurstSettings;
use crate::prose::code;
use crate::severity::Severity;

/// The digest of one principal's burst: how many calls were folded, of which kinds and
/// severities, on which resources, and when the burst began and ended. Its severity is the
/// highest folded (never CRITICAL: those are alerted on their own).
pub fn alert(key: &BurstKey, tally: &Tally, settings: &BurstSettings) -> Alert {
    let time = |seconds: u64| {
        chrono::DateTime::from_timestamp(i64::try_from(seconds).unwrap_or(i64::MAX), 0)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    };
    let severity = tally
        .severities
        .iter()
        .map(|(severity, _)| *severity)
        .max()
        .unwrap_or(Severity::Informational);
    let info = DigestInfo {
        account: key.account.clone(),
        principal: tally.actor.clone(),
        folded: tally.folded,
        calls: tally
            .calls
            .iter()
            .map(|(name, count)| CallCount {
                name: name.clone(),
                count: *count,
            })
            .collect(),
        severities: tally
            .severities
            .iter()
            .map(|(severity, count)| SeverityCount {
                severity: *severity,
                count: *count,
            })
            .collect(),
        resources: tally.resources.clone(),
        unlisted: tally.unlisted,
        first_at: time(tally.first_at),
        last_at: time(tally.last_at),
        window_start: time(key.window_start),
        window_seconds: settings.window.as_secs(),
    };
    let mut reasons = vec![format!(
        "{} calls by {} in account {} between {} and {} were folded into this digest: the first {} alerts of each {}-second window are published on their own, CRITICAL ones always",
        info.folded,
        code(&info.principal),
        code(&info.account),
        info.first_at,
        info.last_at,
        settings.threshold,
        info.window_seconds
    )];
    reasons.extend(
        info.calls
            .iter()
            .map(|call| format!("{}: {} call(s)", call.name, call.count)),
    );
    reasons.extend(
        info.severities
            .iter()
            .map(|s| format!("{}: {} call(s)", s.severity, s.count)),
    );
    if !info.resources.is_empty() || info.unlisted > 0 {
        let listed: Vec<String> = info.resources.iter().map(|r| code(r)).collect();
        let more = match info.unlisted {
            0 => String::new(),
            n => format!(" (and {n} call(s) on resources not listed)"),
        };
        reasons.push(format!("Resources: {}{more}", listed.join(", ")));
    }
    let next_steps = vec![
        NextStep::say(format!(
            "Treat {} as compromised until the burst is explained: read every call it made from {} in CloudTrail event history (filter by user name or access key), and look in this thread for the alerts published on their own",
            code(&info.principal),
            info.first_at
        )),
        NextStep::say(
            "Undo what the calls changed, starting with the trails they stopped, deleted or narrowed",
        ),
    ];
    let title = format!("Burst: {} more calls folded into one alert", info.folded);
    Alert {
        event: Some(EventInfo {
            name: DIGEST_EVENT_NAME.to_string(),
            source: "trailwatch".to_string(),
            id: None,
            time: Some(info.last_at.clone()),
            region: None,
            account: Some(info.account.clone()),
            source_ip: None,
            user_agent: None,
            request_id: None,
            error_code: None,
            error_message: None,
        }),
        digest: Some(info),
        ..Alert::report(AlertKind::Digest, severity, title, reasons, next_steps)
    }
}

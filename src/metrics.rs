//! Metrics in CloudWatch's Embedded Metric Format (EMF): a JSON log line CloudWatch Logs turns
//! into metrics, with no API call and no extra permission.
//!
//! What is measured is what "how fast is it on AWS" means for a user's own account: the time from
//! a call's CloudTrail `eventTime` to the alert published, and from a heartbeat's call to its
//! receipt; alerts by severity; heartbeats by region. An EMF line is a log line: it carries
//! `level` and an RFC 3339 `timestamp` so Lambda's log-level filtering keeps it
//! ([`crate::config::SignalLevel`]). Behind the narrow [`MetricSink`] trait, with a do-nothing
//! adapter for preview and tests that do not look at metrics.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};

use crate::config::SignalLevel;
use crate::severity::Severity;

/// The CloudWatch namespace of every trailwatch metric.
pub const NAMESPACE: &str = "trailwatch";
/// The heartbeats received, by region: the template's alarms and the posture check read it.
pub const HEARTBEATS: &str = "Heartbeats";
/// The dimension that names the region a heartbeat came from.
pub const REGION_DIMENSION: &str = "Region";

/// One EMF record: metrics (name, unit, value) with their dimension sets and values.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Each set names dimensions from `dimensions`; the empty set gives the metric undimensioned.
    pub dimension_sets: Vec<Vec<&'static str>>,
    pub dimensions: Vec<(&'static str, String)>,
    pub metrics: Vec<Metric>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub name: &'static str,
    pub unit: &'static str,
    pub value: f64,
}

impl Metric {
    pub fn count(name: &'static str) -> Metric {
        Metric {
            name,
            unit: "Count",
            value: 1.0,
        }
    }

    /// A count of `count` at once.
    pub fn counted(name: &'static str, count: usize) -> Metric {
        Metric {
            name,
            unit: "Count",
            value: count as f64,
        }
    }

    pub fn milliseconds(name: &'static str, value: f64) -> Metric {
        Metric {
            name,
            unit: "Milliseconds",
            value,
        }
    }
}

/// Where records go.
pub trait MetricSink: Send + Sync {
    fn record(&self, record: &Record);
}

/// Records are not kept (preview, tests that do not look at them).
pub struct NoMetrics;

impl MetricSink for NoMetrics {
    fn record(&self, _record: &Record) {}
}

/// EMF lines on standard output, where Lambda sends them to the function's log group.
pub struct Emf {
    pub level: SignalLevel,
}

impl MetricSink for Emf {
    fn record(&self, record: &Record) {
        let line = emf_line(record, SystemTime::now(), self.level);
        let mut out = std::io::stdout().lock();
        // A metric that cannot be written is lost; the alert is not.
        let _ = writeln!(out, "{line}");
    }
}

/// The EMF JSON object for `record` at `now`.
pub fn emf_line(record: &Record, now: SystemTime, level: SignalLevel) -> Value {
    let millis = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64);
    let mut root = Map::new();
    root.insert(
        "_aws".to_string(),
        json!({
            "Timestamp": millis,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": record.dimension_sets,
                "Metrics": record
                    .metrics
                    .iter()
                    .map(|m| json!({"Name": m.name, "Unit": m.unit}))
                    .collect::<Vec<_>>(),
            }],
        }),
    );
    for (name, value) in &record.dimensions {
        root.insert((*name).to_string(), Value::from(value.as_str()));
    }
    for metric in &record.metrics {
        root.insert(metric.name.to_string(), json!(metric.value));
    }
    root.insert("level".to_string(), Value::from(level.label()));
    root.insert(
        "timestamp".to_string(),
        Value::from(DateTime::<Utc>::from(now).to_rfc3339_opts(SecondsFormat::Millis, true)),
    );
    Value::Object(root)
}

/// An alert published: counted, by severity, with its latency from the call when it had one.
pub fn alert_published(severity: Severity, latency_ms: Option<f64>) -> Record {
    let mut metrics = vec![Metric::count("Alerts")];
    metrics.extend(latency_ms.map(|ms| Metric::milliseconds("AlertLatency", ms)));
    Record {
        dimension_sets: vec![vec![], vec!["Severity"]],
        dimensions: vec![("Severity", severity.label().to_string())],
        metrics,
    }
}

/// One of trailwatch's own heartbeats received from `region`, `latency_ms` after its call.
pub fn heartbeat(region: &str, latency_ms: Option<f64>) -> Record {
    let mut metrics = vec![Metric::count(HEARTBEATS)];
    metrics.extend(latency_ms.map(|ms| Metric::milliseconds("HeartbeatLatency", ms)));
    Record {
        dimension_sets: vec![vec![], vec![REGION_DIMENSION]],
        dimensions: vec![(REGION_DIMENSION, region.to_string())],
        metrics,
    }
}

/// Findings imported into Security Hub and findings that were not (refused, or never sent).
pub fn findings_imported(imported: usize, not_imported: usize) -> Record {
    Record {
        dimension_sets: vec![vec![]],
        dimensions: Vec::new(),
        metrics: vec![
            Metric::counted("FindingsImported", imported),
            Metric::counted("FindingsNotImported", not_imported),
        ],
    }
}

/// The heartbeat's probe reached the alert topic.
pub fn heartbeat_probe() -> Record {
    Record {
        dimension_sets: vec![vec![]],
        dimensions: Vec::new(),
        metrics: vec![Metric::count("HeartbeatProbes")],
    }
}

/// Milliseconds from an RFC 3339 `eventTime` to `now`; `None` for a time that does not parse or
/// lies ahead (clock skew is not latency).
pub fn since(event_time: Option<&str>, now: SystemTime) -> Option<f64> {
    let then = DateTime::parse_from_rfc3339(event_time?).ok()?;
    let elapsed = DateTime::<Utc>::from(now).signed_duration_since(then);
    (elapsed.num_milliseconds() >= 0).then(|| elapsed.num_milliseconds() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn an_emf_line_follows_the_specification_and_survives_level_filtering() {
        let now = UNIX_EPOCH + Duration::from_millis(1_764_000_000_123);
        let line = emf_line(
            &Record {
                dimension_sets: vec![vec![], vec!["Region"]],
                dimensions: vec![("Region", "eu-west-1".to_string())],
                metrics: vec![
                    Metric::count("Heartbeats"),
                    Metric::milliseconds("HeartbeatLatency", 4200.0),
                ],
            },
            now,
            SignalLevel::Warn,
        );
        assert_eq!(line["_aws"]["Timestamp"], 1_764_000_000_123u64);
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "trailwatch");
        assert_eq!(directive["Dimensions"], json!([[], ["Region"]]));
        assert_eq!(
            directive["Metrics"],
            json!([{"Name": "Heartbeats", "Unit": "Count"}, {"Name": "HeartbeatLatency", "Unit": "Milliseconds"}])
        );
        assert_eq!(line["Region"], "eu-west-1");
        assert_eq!(line["HeartbeatLatency"], 4200.0);
        assert_eq!(line["level"], "WARN");
        assert!(
            DateTime::parse_from_rfc3339(line["timestamp"].as_str().unwrap()).is_ok(),
            "{line}"
        );
    }

    #[test]
    fn latency_is_measured_from_the_event_time() {
        let now = DateTime::parse_from_rfc3339("2026-12-04T10:00:05.5Z").unwrap();
        let now = SystemTime::from(now);
        assert_eq!(since(Some("2026-12-04T10:00:00Z"), now), Some(5500.0));
        assert_eq!(since(Some("2026-12-04T10:00:09Z"), now), None, "ahead");
        assert_eq!(since(Some("not a time"), now), None);
        assert_eq!(since(None, now), None);
    }
}

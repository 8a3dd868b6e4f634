//! Helpers shared by the integration tests: the events/ samples, and building calls from them.
#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::Value;
use trailwatch::call::ApiCall;
use trailwatch::parse::{parse_event, Inbound};

pub fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("events")
}

pub fn sample(name: &str) -> Value {
    let path = events_dir().join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every sample in events/, by file stem.
pub fn all_samples() -> Vec<(String, Value)> {
    let mut samples: Vec<(String, Value)> = std::fs::read_dir(events_dir())
        .expect("events/ exists")
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            (path.extension()? == "json").then(|| {
                let stem = path.file_stem().unwrap().to_string_lossy().to_string();
                let value = sample(&stem);
                (stem, value)
            })
        })
        .collect();
    samples.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(
        samples.len() >= 9,
        "expected the policy's samples in events/"
    );
    samples
}

pub fn call_from(event: &Value) -> ApiCall {
    match parse_event(event).expect("sample parses") {
        Inbound::ApiCall(call) => *call,
        other => panic!("not an API call: {other:?}"),
    }
}

pub fn sample_call(name: &str) -> ApiCall {
    call_from(&sample(name))
}

/// A sample with its `detail` changed by `edit`.
pub fn edited(name: &str, edit: impl FnOnce(&mut Value)) -> Value {
    let mut event = sample(name);
    edit(&mut event["detail"]);
    event
}

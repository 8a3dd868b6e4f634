//! The pure pipeline's cost per event: parse, classify, render. Network time (enrichment and
//! publish) dominates in production; this keeps the CPU part honest as rules grow.

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::Value;
use std::hint::black_box;
use trailwatch::handler::alert_without_lookups;
use trailwatch::parse::{parse_event, Inbound};
use trailwatch::render::render;

fn sample(name: &str) -> Value {
    let path = format!("{}/events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("sample exists"))
        .expect("valid JSON")
}

fn pipeline(event: &Value) -> usize {
    let Ok(Inbound::ApiCall(call)) = parse_event(event) else {
        return 0;
    };
    alert_without_lookups(&call).map_or(0, |alert| render(alert).message.len())
}

fn benches(c: &mut Criterion) {
    let mut names: Vec<String> =
        std::fs::read_dir(format!("{}/events", env!("CARGO_MANIFEST_DIR")))
            .expect("events/ exists")
            .filter_map(|entry| {
                let path = entry.ok()?.path();
                (path.extension()? == "json")
                    .then(|| path.file_stem()?.to_str().map(str::to_string))?
            })
            .collect();
    names.sort();
    for name in &names {
        let event = sample(name);
        c.bench_function(&format!("parse+classify+render/{name}"), |b| {
            b.iter(|| pipeline(black_box(&event)))
        });
    }
    let event = sample("stop-logging");
    c.bench_function("parse/stop-logging", |b| {
        b.iter(|| parse_event(black_box(&event)).is_ok())
    });
}

criterion_group!(pipeline_benches, benches);
criterion_main!(pipeline_benches);

//! The pure pipeline's cost per event, for every sample in events/: the raw payload cleaned,
//! parsed, classified and rendered, as on Lambda minus the network. Network time (lookups and
//! publish) dominates in production; this keeps the CPU part honest as rules grow.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use trailwatch::preview::render_offline;

fn samples() -> Vec<(String, Vec<u8>)> {
    let dir = format!("{}/events", env!("CARGO_MANIFEST_DIR"));
    let mut samples: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("events/ exists")
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            if path.extension()? != "json" {
                return None;
            }
            let name = path.file_stem()?.to_str()?.to_string();
            Some((name, std::fs::read(&path).ok()?))
        })
        .collect();
    samples.sort();
    samples
}

fn benches(c: &mut Criterion) {
    for (name, body) in samples() {
        c.bench_function(&format!("pipeline/{name}"), |b| {
            b.iter(|| {
                render_offline(black_box(&body))
                    .ok()
                    .flatten()
                    .map_or(0, |alert| alert.message.len())
            })
        });
    }
}

/// Where one event's time goes, step by step (the StopLogging sample): cleaning the payload,
/// parsing it, classifying and building the alert, rendering the three formats.
fn stages(c: &mut Criterion) {
    let body = std::fs::read(format!(
        "{}/events/stop-logging.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("the sample exists");
    let payload: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    let call = match trailwatch::parse::parse_event(&payload).expect("valid") {
        trailwatch::parse::Inbound::ApiCall(call) => call,
        _ => unreachable!("an API call"),
    };
    let alert = trailwatch::assemble::alert_without_lookups(&call).expect("monitored");
    c.bench_function("stage/clean", |b| {
        b.iter(|| trailwatch::input::prepare(black_box(&body)))
    });
    c.bench_function("stage/json", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&body)).ok())
    });
    c.bench_function("stage/parse", |b| {
        b.iter(|| trailwatch::parse::parse_event(black_box(&payload)).ok())
    });
    c.bench_function("stage/classify-and-build", |b| {
        b.iter(|| trailwatch::assemble::alert_without_lookups(black_box(&call)))
    });
    c.bench_function("stage/render-email", |b| {
        b.iter(|| trailwatch::render::email::email_text(black_box(&alert)))
    });
    c.bench_function("stage/render-chat", |b| {
        b.iter(|| trailwatch::render::chat::chat_notification(black_box(&alert)))
    });
    c.bench_function("stage/render-all", |b| {
        b.iter(|| trailwatch::render::render(black_box(alert.clone())))
    });
}

criterion_group!(pipeline_benches, benches, stages);
criterion_main!(pipeline_benches);

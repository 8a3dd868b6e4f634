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

criterion_group!(pipeline_benches, benches);
criterion_main!(pipeline_benches);

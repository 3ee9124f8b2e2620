//! Per-call overhead (describe on a trivial WAT plugin: fresh store, instantiate, call, read
//! output) and a typical battery validation (the demo's EV battery passport, ~14 KB).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use hallmark_core::keys::decode_public_key_multibase;
use hallmark_sandbox::{Limits, LoaderConfig, Sandbox, SignedManifest};
use serde_json::Value;

const PLUGIN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../plugins/battery/");
const DEMO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../hallmark/demo/ev-battery.json"
);

/// The sector data of the demo's EV battery passport (realistic; no findings).
fn ev_battery() -> Value {
    let draft: Value = serde_json::from_str(&std::fs::read_to_string(DEMO).unwrap()).unwrap();
    draft["data"].clone()
}

fn bench(c: &mut Criterion) {
    let trivial = common::dev_sandbox(Limits::default());
    trivial.load(&common::good("good"), None).unwrap();
    c.bench_function("sandbox/describe_trivial", |b| {
        b.iter(|| trivial.describe("good", "1.0.0").unwrap())
    });

    let read = |n: &str| std::fs::read(format!("{PLUGIN}{n}")).unwrap();
    let publ = String::from_utf8(read("publisher.pub")).unwrap();
    let battery = Sandbox::new(
        Limits::default(),
        LoaderConfig {
            trusted_publishers: vec![decode_public_key_multibase(publ.trim()).unwrap()],
            allow_unsigned: false,
        },
    )
    .unwrap();
    let manifest = SignedManifest::from_json(&read("battery.manifest.json")).unwrap();
    battery
        .load(&read("battery.wasm"), Some(&manifest))
        .unwrap();
    let data = ev_battery();
    c.bench_function("sandbox/validate_battery_sample", |b| {
        b.iter(|| battery.validate("battery", "1.2.0", &data).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

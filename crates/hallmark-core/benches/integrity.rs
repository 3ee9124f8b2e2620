//! Row-authentication costs: `cargo bench -p hallmark-core --bench integrity`.
//!
//! - `leaf_tag`: what every audited write adds (HMAC-SHA256 over the 32-byte leaf hash);
//! - `leaf_check_publish_event`: what the checkpointer does per new leaf before signing over
//!   it — canonicalise a typical `passport.published` event (RFC 8785), hash it as an
//!   RFC 6962 leaf, check the tag;
//! - `api_key_hash`: the keyed hash of a presented API key (per authenticated request on a
//!   key-cache miss, and per request for the comparison);
//! - `derive`: the subkeys from the node secret (once at start-up).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion};
use hallmark_core::integrity::IntegrityKeys;
use hallmark_core::{jcs, tlog};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let keys = IntegrityKeys::derive(&[42; 32]).unwrap();
    let event = serde_json::json!({
        "seq": 123_456,
        "at": "2026-12-05T10:11:12.123456Z",
        "actor": "api-key:0190c2d4-7a1b-7c3d-9e4f-0123456789ab",
        "action": "passport.published",
        "passport": "urn:uuid:0190c2d4-7a1b-7c3d-9e4f-0123456789ab",
        "subject": null,
        "detail": {
            "version": 1,
            "keyId": "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            "credentialSha256": {
                "public": "9f2c9e1d7c0b4a6f1e3d5c7b9a8f6e4d2c0b1a3f5e7d9c8b6a4f2e0d1c3b5a79",
                "legitimateInterest": "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9",
                "authority": "f9e8d7c6b5a4938271605f4e3d2c1b0af9e8d7c6b5a4938271605f4e3d2c1b0a"
            }
        }
    });
    let hash = tlog::leaf_hash(&jcs::canonicalize(&event).unwrap());
    let tag = keys.leaf_tag(&hash);
    let mut g = c.benchmark_group("integrity");
    g.bench_function("leaf_tag", |b| b.iter(|| keys.leaf_tag(black_box(&hash))));
    g.bench_function("leaf_check_publish_event", |b| {
        b.iter(|| {
            let h = tlog::leaf_hash(&jcs::canonicalize(black_box(&event)).unwrap());
            assert!(keys.verify_leaf(&h, black_box(&tag)));
        })
    });
    let body = b"hmk_a_0a1B2c3D4e5F6g7H8i9J0kM1n2O3p4Q5r6S7t8U9v0W1x2Y3z4A5b6";
    g.bench_function("api_key_hash", |b| {
        b.iter(|| keys.api_key_hash(black_box(body)))
    });
    g.bench_function("derive", |b| {
        b.iter(|| IntegrityKeys::derive(black_box(&[7; 32])).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

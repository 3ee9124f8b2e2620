//! Status list benchmarks (issue 17): `cargo bench -p hallmark-core --bench status`.
//!
//! The work of one status change on the node, without the database: decode the latest
//! list's `encodedList` (GZIP + base64url of 131,072 bits), flip one bit, encode it again,
//! and issue the `BitstringStatusListCredential` in both secured forms (eddsa-jcs-2022 and
//! `vc+jwt`, one Ed25519 signature each). Lists with 0.1 %, 1 % and 10 % of their bits set
//! (positions drawn at random, as the node draws them): a sparse list compresses to a few
//! hundred bytes, a dense one to kilobytes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use ed25519_dalek::SigningKey;
use hallmark_core::issue::Issuer;
use hallmark_core::status::{BitstringStatusList, StatusPurpose, LIST_SIZE};
use std::hint::black_box;
use time::macros::datetime;

/// A list with `set` bits at pseudo-random positions (a fixed xorshift sequence).
fn list(set: u32) -> BitstringStatusList {
    let mut bits = BitstringStatusList::new();
    let mut x: u32 = 0x9E37_79B9;
    for _ in 0..set {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        bits.set(x % LIST_SIZE, true).unwrap();
    }
    bits
}

fn bench(c: &mut Criterion) {
    let issuer = Issuer::from_base_url("https://dpp.example.com").unwrap();
    let key = SigningKey::from_bytes(&[42; 32]);
    let now = datetime!(2026-12-06 10:00 UTC);
    let mut group = c.benchmark_group("status_list");
    for (label, set) in [
        ("0.1%", LIST_SIZE / 1000),
        ("1%", LIST_SIZE / 100),
        ("10%", LIST_SIZE / 10),
    ] {
        let bits = list(set);
        let encoded = bits.encode().unwrap();
        eprintln!("{label}: encodedList {} bytes", encoded.len());
        group.bench_with_input(BenchmarkId::new("decode", label), &encoded, |b, e| {
            b.iter(|| BitstringStatusList::decode(black_box(e)).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("encode", label), &bits, |b, l| {
            b.iter(|| black_box(l).encode().unwrap())
        });
        group.bench_with_input(
            BenchmarkId::new("status_change", label),
            &encoded,
            |b, e| {
                b.iter(|| {
                    let mut l = BitstringStatusList::decode(black_box(e)).unwrap();
                    l.set(12_345, true).unwrap();
                    issuer
                        .issue_status_list(StatusPurpose::Suspension, 0, &l, &key, now)
                        .unwrap()
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Transparency-log benchmarks: `cargo bench -p hallmark-core --bench tlog`.
//!
//! - `append_1m`: build a [`CompactTree`] of 1,048,576 leaves from leaf hashes (what the node
//!   does at start-up from its store) — amortised O(1) per append;
//! - `inclusion_proof` / `consistency_proof` at a tree of 1,000,003 leaves (not a power of
//!   two, so proofs include a suffix subtree) — O(log n) cached-subtree lookups;
//! - `verify_*`: the verifier side, ~20 hashes each;
//! - `root_1m`: the root of the current tree (O(log n));
//! - `sign_checkpoint` / `verify_checkpoint`: the signed note, Ed25519.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ed25519_dalek::SigningKey;
use hallmark_core::tlog::{
    leaf_hash, sign_checkpoint, verify_checkpoint, verify_consistency, verify_inclusion,
    Checkpoint, CompactTree, Hash,
};
use std::hint::black_box;

const N: u64 = 1_000_003;

fn leaves(n: u64) -> Vec<Hash> {
    (0..n).map(|i| leaf_hash(&i.to_le_bytes())).collect()
}

fn bench(c: &mut Criterion) {
    let hashes = leaves(1 << 20);
    let mut g = c.benchmark_group("tlog");
    g.sample_size(10);
    g.throughput(Throughput::Elements(1 << 20));
    g.bench_function("append_1m", |b| {
        b.iter(|| CompactTree::from_leaf_hashes(black_box(&hashes).iter().copied()))
    });
    g.finish();

    let tree = CompactTree::from_leaf_hashes(hashes.iter().copied().take(N as usize));
    let root = tree.root();
    let old = 654_321;
    let old_root = tree.root_at(old).unwrap();
    let index = 777_777;
    let incl = tree.inclusion_proof(index, N).unwrap();
    let cons = tree.consistency_proof(old, N).unwrap();

    let mut g = c.benchmark_group("tlog_1m");
    g.bench_function("root_1m", |b| b.iter(|| black_box(&tree).root()));
    g.bench_function("inclusion_proof", |b| {
        b.iter(|| tree.inclusion_proof(black_box(index), N).unwrap())
    });
    g.bench_function("consistency_proof", |b| {
        b.iter(|| tree.consistency_proof(black_box(old), N).unwrap())
    });
    g.bench_function("verify_inclusion", |b| {
        b.iter(|| verify_inclusion(&hashes[index as usize], black_box(index), N, &incl, &root))
    });
    g.bench_function("verify_consistency", |b| {
        b.iter(|| verify_consistency(black_box(old), N, &old_root, &root, &cons))
    });
    let key = SigningKey::from_bytes(&[42; 32]);
    let origin = "passports.example.com/log";
    let cp = Checkpoint::new(origin, N, root);
    let note = sign_checkpoint(&cp, origin, &key).unwrap();
    g.bench_function("sign_checkpoint", |b| {
        b.iter(|| sign_checkpoint(black_box(&cp), origin, &key).unwrap())
    });
    let vk = key.verifying_key();
    g.bench_function("verify_checkpoint", |b| {
        b.iter(|| verify_checkpoint(black_box(&note), origin, &vk).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

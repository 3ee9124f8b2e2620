//! Sign and verify benchmarks: `cargo bench -p hallmark-core --bench credential`.
//!
//! The passport is the BatteryPass 1.2.0 sample (all seven submodels from ../shared, with the
//! CAS defect and the out-of-range cycle count fixed) in an item-level passport envelope.
//! - `public`: the public-tier credential (~4 KB of canonical JSON once signed);
//! - `full`: the authority credential with every field (~8.5 KB once signed).
//!
//! Sign = `prove_data_integrity`: proof config + JCS of document and config + SHA-256 +
//! Ed25519 + multibase proofValue (what the issue's "canonicalize + sign" goal measures).
//! `sign_data_integrity` adds a deep copy of the document to attach the proof to (the
//! publish path, `credential::secure`, moves the document instead). Verify = strict parse of
//! the stored bytes + every check of the verification report. `issue_both_forms` is the whole publish-time path:
//! validation, audience view, both secured forms, and the canonical bytes to store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ed25519_dalek::SigningKey;
use hallmark_core::access::Audience;
use hallmark_core::credential::{self, format_datetime, ProofOptions};
use hallmark_core::did::{DidDocument, KeyStatus, PublishedKey};
use hallmark_core::issue::Issuer;
use hallmark_core::keys::Signer as _;
use hallmark_core::passport::{Passport, PassportStatus};
use hallmark_core::sector::SectorRegistry;
use hallmark_core::verify::verify;
use sha2::Digest as _;
use std::hint::black_box;
use time::macros::datetime;

fn passport() -> Passport {
    let mut p = common::draft_passport(("battery", "1.2.0"), common::composite_signable());
    p.transition(PassportStatus::Published, datetime!(2026-11-01 10:00 UTC))
        .unwrap();
    p
}

fn bench(c: &mut Criterion) {
    let issuer = Issuer::from_base_url("https://dpp.example.com").unwrap();
    let registry = SectorRegistry::builtin();
    let key = SigningKey::from_bytes(&[42; 32]);
    let vm = issuer.did.key_url(&key.key_id());
    let doc = DidDocument::build(
        &issuer.did,
        &[PublishedKey {
            public_key: key.verifying_key(),
            status: KeyStatus::Current,
        }],
    );
    let p = passport();
    let now = datetime!(2026-11-01 10:00 UTC);
    let mut group = c.benchmark_group("credential");
    for (label, audience) in [("public", Audience::Public), ("full", Audience::Authority)] {
        let unsigned = issuer
            .credential(&p, audience, registry)
            .unwrap()
            .to_value()
            .unwrap();
        let options = ProofOptions {
            verification_method: vm.clone(),
            created: format_datetime(now).unwrap(),
        };
        let secured = credential::sign_data_integrity(&unsigned, &options, &key).unwrap();
        let bytes = hallmark_core::jcs::canonicalize(&secured).unwrap();
        let jwt = credential::sign_jwt(&unsigned, &vm, &key).unwrap();
        eprintln!(
            "{label}: data-integrity credential {} bytes, jwt {} bytes",
            bytes.len(),
            jwt.len()
        );
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(
            BenchmarkId::new("jcs_canonicalize", label),
            &unsigned,
            |b, u| b.iter(|| hallmark_core::jcs::canonicalize(black_box(u)).unwrap()),
        );
        group.bench_with_input(
            BenchmarkId::new("parse_strict", label),
            &bytes,
            |b, input| b.iter(|| hallmark_core::jcs::parse_strict(black_box(input)).unwrap()),
        );
        group.bench_with_input(
            BenchmarkId::new("prove_data_integrity", label),
            &unsigned,
            |b, u| {
                b.iter(|| credential::prove_data_integrity(black_box(u), &options, &key).unwrap())
            },
        );
        group.bench_with_input(
            BenchmarkId::new("sign_data_integrity", label),
            &unsigned,
            |b, u| {
                b.iter(|| credential::sign_data_integrity(black_box(u), &options, &key).unwrap())
            },
        );
        group.bench_with_input(BenchmarkId::new("sign_jwt", label), &unsigned, |b, u| {
            b.iter(|| credential::sign_jwt(black_box(u), &vm, &key).unwrap())
        });
        group.bench_with_input(
            BenchmarkId::new("verify_data_integrity", label),
            &bytes,
            |b, input| b.iter(|| assert!(verify(black_box(input), &doc).is_valid())),
        );
        // The split of `verify_data_integrity` (issue 22): the strict parse, the signature
        // check on the parsed credential (JCS of document and proof configuration, two
        // SHA-256, proofValue decoding, `verify_strict`), the key from the DID document;
        // the rule checks and the report are the rest (total − parse − signature check).
        let parsed = hallmark_core::jcs::parse_strict(&bytes).unwrap();
        let mut unsecured = parsed.as_object().unwrap().clone();
        let Some(serde_json::Value::Object(mut config)) = unsecured.remove("proof") else {
            panic!("no proof")
        };
        let Some(serde_json::Value::String(proof_value)) = config.remove("proofValue") else {
            panic!("no proofValue")
        };
        let unsecured = serde_json::Value::Object(unsecured);
        let vk = key.verifying_key();
        group.bench_with_input(
            BenchmarkId::new("parse_serde_json_value", label),
            &bytes,
            |b, input| {
                b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(input)).unwrap())
            },
        );
        // serde_json's tokenizer alone (no value built): how much of a parse is allocation.
        group.bench_with_input(
            BenchmarkId::new("parse_tokens_only", label),
            &bytes,
            |b, input| {
                b.iter(|| {
                    serde_json::from_slice::<serde::de::IgnoredAny>(black_box(input)).unwrap()
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("jcs_sha256_document", label),
            &unsecured,
            |b, u| {
                b.iter(|| {
                    sha2::Sha256::digest(hallmark_core::jcs::canonicalize(black_box(u)).unwrap())
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("decode_proof_value", label),
            &proof_value,
            |b, pv| {
                b.iter(|| hallmark_core::keys::decode_signature_multibase(black_box(pv)).unwrap())
            },
        );
        group.bench_function(BenchmarkId::new("key_from_did_document", label), |b| {
            b.iter(|| {
                doc.verification_method(black_box(&vm))
                    .unwrap()
                    .public_key()
                    .unwrap()
            })
        });
        // The VC Data Model 2.0 rules alone (`vc_model::check`, the `credential` check's
        // work) on the parsed credential without its proof.
        let resources = hallmark_core::vc_model::Resources::default();
        group.bench_with_input(
            BenchmarkId::new("data_model_rules", label),
            &unsecured,
            |b, u| {
                let map = u.as_object().unwrap();
                b.iter(|| {
                    let findings = hallmark_core::vc_model::check(black_box(map), &resources);
                    assert!(findings.iter().all(|(_, f)| !f.is_fail()));
                    findings
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("signature_check", label),
            &unsecured,
            |b, u| {
                b.iter(|| {
                    credential::verify_data_integrity_signature(
                        black_box(u),
                        &config,
                        &proof_value,
                        &vk,
                    )
                    .unwrap()
                })
            },
        );
        group.bench_with_input(BenchmarkId::new("verify_jwt", label), &jwt, |b, input| {
            b.iter(|| assert!(verify(black_box(input.as_bytes()), &doc).is_valid()))
        });
        group.bench_with_input(
            BenchmarkId::new("issue_both_forms", label),
            &audience,
            |b, a| {
                b.iter(|| {
                    issuer
                        .issue(black_box(&p), *a, registry, &key, now)
                        .unwrap()
                })
            },
        );
    }
    let hash = [7u8; 64];
    let sig = ed25519_dalek::Signer::sign(&key, &hash);
    let vk = key.verifying_key();
    group.bench_function("ed25519_sign_64B", |b| {
        b.iter(|| ed25519_dalek::Signer::sign(&key, black_box(&hash)))
    });
    group.bench_function("ed25519_verify_strict_64B", |b| {
        b.iter(|| vk.verify_strict(black_box(&hash), &sig).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Known-answer tests against `../shared/vectors/rfc6962` (transparency-dev/merkle testonly
//! vectors), the Go `sumdb/note` example, and property tests.

use super::*;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::SigningKey;
use proptest::prelude::*;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/vectors/rfc6962"
);

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}

fn load(sub: &str) -> Vec<(PathBuf, Value)> {
    let mut files = Vec::new();
    json_files(&Path::new(VECTORS).join(sub), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let v = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
            (p, v)
        })
        .collect()
}

fn bytes(v: &Value) -> Vec<u8> {
    B64.decode(v.as_str().unwrap()).unwrap()
}

/// A hash field that must be a hash: `None` if it is not 32 bytes. Our API takes `Hash`
/// (`[u8; 32]`), so such an input is refused by the type before any verifier runs.
fn strict(v: &Value) -> Option<Hash> {
    Hash::try_from(bytes(v).as_slice()).ok()
}

/// A consistency-vector root. RFC 9162 only compares roots, and the `additional/` vectors
/// use placeholders ("don't care 1"), including one that must verify (equal sizes, equal
/// placeholder roots). A value that is not 32 bytes is mapped to its SHA-256, keeping equal
/// placeholders equal and distinct ones distinct; the verifier then decides on its own.
fn hash(v: &Value) -> Hash {
    let b = bytes(v);
    Hash::try_from(b.as_slice()).unwrap_or_else(|_| Sha256::digest(&b).into())
}

fn proof(v: &Value) -> Option<Vec<Hash>> {
    v.as_array()
        .map_or_else(|| Some(Vec::new()), |a| a.iter().map(strict).collect())
}

/// `verify_consistency` on a vector; `Err(None)` when a proof item is not even a hash.
fn run_consistency(v: &Value, old: &str, new: &str) -> Result<(), Option<ProofError>> {
    let pr = proof(&v["proof"]).ok_or(None)?;
    let (r1, r2) = (hash(&v["root1"]), hash(&v["root2"]));
    verify_consistency(u(&v[old]), u(&v[new]), &r1, &r2, &pr).map_err(Some)
}

/// `verify_inclusion` on a vector; `Err(None)` when an input is not even a hash.
fn run_inclusion(v: &Value, size_key: &str) -> Result<(), Option<ProofError>> {
    let (Some(leaf), Some(pr), Some(rt)) = (
        strict(&v["leafHash"]),
        proof(&v["proof"]),
        strict(&v["root"]),
    ) else {
        return Err(None);
    };
    verify_inclusion(&leaf, u(&v["leafIdx"]), u(&v[size_key]), &pr, &rt).map_err(Some)
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap()
}

fn vector_leaves() -> (Vec<Hash>, Vec<Hash>) {
    let roots: Value =
        serde_json::from_slice(&std::fs::read(Path::new(VECTORS).join("roots.json")).unwrap())
            .unwrap();
    let leaves = roots["leafInputsHex"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| leaf_hash(&hex::decode(l.as_str().unwrap()).unwrap()))
        .collect();
    let want = roots["rootHashesHex"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| <Hash>::try_from(hex::decode(r.as_str().unwrap()).unwrap()).unwrap())
        .collect();
    (leaves, want)
}

#[test]
fn rfc6962_roots_json_every_prefix() {
    let (leaves, want) = vector_leaves();
    assert_eq!(leaves.len(), 8);
    assert_eq!(want.len(), 9);
    let mut tree = CompactTree::new();
    assert_eq!(tree.root(), want[0]);
    for (n, w) in want.iter().enumerate() {
        assert_eq!(root(&leaves[..n]), *w, "root of first {n} leaves");
        if n > 0 {
            tree.push_hash(leaves[n - 1]);
        }
        assert_eq!(tree.root(), *w, "CompactTree root at {n}");
    }
    for (n, w) in want.iter().enumerate() {
        assert_eq!(tree.root_at(n as u64).unwrap(), *w);
    }
}

#[test]
fn rfc6962_inclusion_vectors() {
    let (leaves, roots) = vector_leaves();
    let files = load("inclusion");
    let (mut ok, mut rejected, mut by_type, mut generated) = (0, 0, 0, 0);
    for (path, v) in &files {
        let got = run_inclusion(v, "treeSize");
        if v["wantErr"].as_bool().unwrap() {
            assert!(got.is_err(), "{} must be rejected", path.display());
            rejected += 1;
            by_type += usize::from(got == Err(None));
        } else {
            got.unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
            ok += 1;
            let (leaf, index, size, rt) = (
                strict(&v["leafHash"]).unwrap(),
                u(&v["leafIdx"]),
                u(&v["treeSize"]),
                strict(&v["root"]).unwrap(),
            );
            let pr = proof(&v["proof"]).unwrap();
            // Proofs we generate for the vector tree must be the published ones.
            if size <= 8 && rt == roots[size as usize] && leaf == leaves[index as usize] {
                assert_eq!(inclusion_proof(&leaves, index, size).unwrap(), pr);
                let tree = CompactTree::from_leaf_hashes(leaves.iter().copied());
                assert_eq!(tree.inclusion_proof(index, size).unwrap(), pr);
                generated += 1;
            }
        }
    }
    assert_eq!(files.len(), 98, "every inclusion vector file exercised");
    assert_eq!(ok + rejected, files.len());
    assert!(ok >= 6 && generated >= 5, "ok={ok} generated={generated}");
    // Garbage-prefixed/suffixed or empty hashes are not 32 bytes: the `Hash` type refuses
    // them (as Go's length checks do); the remaining error cases reach the verifier.
    assert_eq!((ok, rejected, by_type), (6, 92, 26));
}

#[test]
fn rfc6962_consistency_vectors() {
    let (leaves, roots) = vector_leaves();
    let files = load("consistency");
    let (mut ok, mut rejected, mut by_type, mut generated) = (0, 0, 0, 0);
    for (path, v) in &files {
        let got = run_consistency(v, "size1", "size2");
        if v["wantErr"].as_bool().unwrap() {
            assert!(got.is_err(), "{} must be rejected", path.display());
            rejected += 1;
            by_type += usize::from(got == Err(None));
        } else {
            got.unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
            ok += 1;
            let (m, n, r1, r2) = (
                u(&v["size1"]),
                u(&v["size2"]),
                hash(&v["root1"]),
                hash(&v["root2"]),
            );
            let pr = proof(&v["proof"]).unwrap();
            if n <= 8 && r1 == roots[m as usize] && r2 == roots[n as usize] {
                assert_eq!(consistency_proof(&leaves, m, n).unwrap(), pr);
                let tree = CompactTree::from_leaf_hashes(leaves.iter().copied());
                assert_eq!(tree.consistency_proof(m, n).unwrap(), pr);
                generated += 1;
            }
        }
    }
    assert_eq!(files.len(), 98, "every consistency vector file exercised");
    assert_eq!(ok + rejected, files.len());
    assert!(ok >= 6 && generated >= 5, "ok={ok} generated={generated}");
    // Non-hash proof items are refused by type; every other case reaches the verifier.
    assert_eq!((ok, rejected, by_type), (6, 92, 8));
}

/// `subtreeinclusion/` and `subtreeconsistency/` are proofs for arbitrary subtrees
/// `[start, end)` (the Merkle Tree Certificates draft's generalisation), a different
/// construction. With `start == 0` and `end > 0` a subtree is an ordinary RFC 6962 tree of
/// size `end`, so those 184 files must agree with our verifiers. The others are counted, not
/// run: `start != 0` subtrees do not exist in RFC 6962, and the draft accepts the empty
/// subtree `[0, 0)` where RFC 9162 consistency from size 0 is refused (see
/// `consistency/additional/`).
#[test]
fn rfc6962_subtree_vectors_with_start_zero() {
    let mut prefix = 0;
    let mut other = 0;
    let files = load("subtreeinclusion");
    assert_eq!(files.len(), 204);
    for (path, v) in &files {
        if u(&v["start"]) != 0 || u(&v["end"]) == 0 {
            other += 1;
            continue;
        }
        let got = run_inclusion(v, "end");
        assert_eq!(
            got.is_err(),
            v["wantErr"].as_bool().unwrap(),
            "{}: {got:?}",
            path.display()
        );
        prefix += 1;
    }
    let files = load("subtreeconsistency");
    assert_eq!(files.len(), 118);
    for (path, v) in &files {
        if u(&v["start"]) != 0 || u(&v["end"]) == 0 {
            other += 1;
            continue;
        }
        let got = run_consistency(v, "end", "size");
        assert_eq!(
            got.is_err(),
            v["wantErr"].as_bool().unwrap(),
            "{}: {got:?}",
            path.display()
        );
        prefix += 1;
    }
    assert_eq!(prefix + other, 204 + 118);
    assert_eq!((prefix, other), (184, 138));
}

#[test]
fn slice_and_compact_tree_agree_and_check_arguments() {
    let leaves: Vec<Hash> = (0u32..300).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    let tree = CompactTree::from_leaf_hashes(leaves.iter().copied());
    for n in [1u64, 2, 3, 7, 8, 9, 127, 128, 129, 300] {
        assert_eq!(tree.root_at(n).unwrap(), root(&leaves[..n as usize]));
        for i in [0, n / 2, n - 1] {
            assert_eq!(
                tree.inclusion_proof(i, n).unwrap(),
                inclusion_proof(&leaves, i, n).unwrap()
            );
        }
        for m in [1, n / 2 + 1, n] {
            assert_eq!(
                tree.consistency_proof(m, n).unwrap(),
                consistency_proof(&leaves, m, n).unwrap()
            );
        }
    }
    assert_eq!(
        tree.inclusion_proof(5, 5),
        Err(ProofError::IndexOutOfRange { index: 5, size: 5 })
    );
    assert_eq!(
        tree.inclusion_proof(0, 301),
        Err(ProofError::SizeExceedsLeaves {
            size: 301,
            available: 300
        })
    );
    assert_eq!(tree.consistency_proof(0, 5), Err(ProofError::EmptyOldTree));
    assert_eq!(
        tree.consistency_proof(6, 5),
        Err(ProofError::OldLargerThanNew { old: 6, new: 5 })
    );
    let (i, p) = tree.inclusion_proof_by_hash(&leaves[42], 300).unwrap();
    assert_eq!(i, 42);
    verify_inclusion(&leaves[42], 42, 300, &p, &tree.root()).unwrap();
    assert_eq!(
        tree.inclusion_proof_by_hash(&leaves[42], 42),
        Err(ProofError::LeafNotFound { size: 42 })
    );
}

// --- signed notes and checkpoints -------------------------------------------------------

/// golang.org/x/mod/sumdb/note's package example (note.go doc comment and example_test.go).
const PETER_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                          then you don't know what your problem is.\n";
const PETER_NOTE: &str = "If you think cryptography is the answer to your problem,\n\
                          then you don't know what your problem is.\n\
                          \n\
                          \u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

fn peter_signer() -> SigningKey {
    let b64 = PETER_SKEY.splitn(5, '+').nth(4).unwrap();
    let raw = B64.decode(b64).unwrap();
    assert_eq!(raw[0], 0x01);
    SigningKey::from_bytes(&raw[1..].try_into().unwrap())
}

#[test]
fn signed_note_go_known_answer() {
    let sk = peter_signer();
    let vk = VerifierKey::new("PeterNeumann", sk.verifying_key()).unwrap();
    assert_eq!(vk.key_id(), 0xc74f20a3);
    assert_eq!(vk.to_string(), PETER_VKEY);
    assert_eq!(VerifierKey::parse(PETER_VKEY).unwrap(), vk);
    assert_eq!(
        sign_note(PETER_TEXT, "PeterNeumann", &sk).unwrap(),
        PETER_NOTE
    );
    assert_eq!(open_note(PETER_NOTE, &vk).unwrap(), PETER_TEXT);
    let parsed = SignedNote::parse(PETER_NOTE).unwrap();
    assert_eq!(parsed.encode(), PETER_NOTE);
}

#[test]
fn verifier_key_rejects_manglings() {
    assert!(VerifierKey::parse(PETER_VKEY).is_ok());
    for bad in [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+AhpC2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW+x",
    ] {
        assert!(VerifierKey::parse(bad).is_err(), "{bad}");
    }
    assert_eq!(
        VerifierKey::parse("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),
        Err(CheckpointError::VerifierKeyIdMismatch)
    );
}

#[test]
fn verifier_keys_whose_base64_contains_plus_round_trip() {
    // The base64 key may contain '+' (about half of all keys): only the first two '+'
    // separate the fields, as in Go's note.NewVerifier.
    let mut seen = 0;
    for seed in 0u8..64 {
        let vk = VerifierKey::new(
            "log.example/log",
            SigningKey::from_bytes(&[seed; 32]).verifying_key(),
        )
        .unwrap();
        let text = vk.to_string();
        if text.splitn(3, '+').nth(2).is_some_and(|k| k.contains('+')) {
            seen += 1;
        }
        assert_eq!(VerifierKey::parse(&text).unwrap(), vk, "{text}");
    }
    assert!(seen > 0, "no sample key had a '+' in its base64");
}

const ORIGIN: &str = "passports.example.com/log";

fn log_key() -> SigningKey {
    SigningKey::from_bytes(&[42u8; 32])
}

#[test]
fn checkpoint_sign_verify_round_trip() {
    let tree = CompactTree::from_leaf_hashes((0u8..10).map(|i| leaf_hash(&[i])));
    let cp = Checkpoint::new(ORIGIN, tree.size(), tree.root());
    let sk = log_key();
    let note = sign_checkpoint(&cp, ORIGIN, &sk).unwrap();
    let text = cp.to_text().unwrap();
    assert!(note.starts_with(&format!(
        "{ORIGIN}\n10\n{}\n\n\u{2014} {ORIGIN} ",
        B64.encode(tree.root())
    )));
    assert_eq!(Checkpoint::parse_text(&text).unwrap(), cp);
    assert_eq!(
        verify_checkpoint(&note, ORIGIN, &sk.verifying_key()).unwrap(),
        cp
    );

    // Extension lines round-trip too.
    let mut ext = cp.clone();
    ext.extensions = vec!["ext one".into()];
    let n2 = sign_checkpoint(&ext, ORIGIN, &sk).unwrap();
    assert_eq!(
        verify_checkpoint(&n2, ORIGIN, &sk.verifying_key()).unwrap(),
        ext
    );
}

#[test]
fn checkpoint_tampering_and_unknown_signatures() {
    let sk = log_key();
    let vk = sk.verifying_key();
    let cp = Checkpoint::new(ORIGIN, 5, [7u8; 32]);
    let note = sign_checkpoint(&cp, ORIGIN, &sk).unwrap();

    // Changing the size in the text breaks the signature.
    let tampered = note.replacen("\n5\n", "\n6\n", 1);
    assert_eq!(
        verify_checkpoint(&tampered, ORIGIN, &vk),
        Err(CheckpointError::BadSignature(ORIGIN.into()))
    );
    // Another key with the same name: its signature is not ours (different key ID).
    let other = SigningKey::from_bytes(&[9u8; 32]);
    let forged = sign_checkpoint(&cp, ORIGIN, &other).unwrap();
    assert_eq!(
        verify_checkpoint(&forged, ORIGIN, &vk),
        Err(CheckpointError::NoKnownSignature(ORIGIN.into()))
    );
    // A wrong origin is refused even with a valid signature by that name.
    let elsewhere = sign_checkpoint(
        &Checkpoint::new("other.example/log", 5, [7u8; 32]),
        ORIGIN,
        &sk,
    )
    .unwrap();
    assert!(matches!(
        verify_checkpoint(&elsewhere, ORIGIN, &vk),
        Err(CheckpointError::OriginMismatch { .. })
    ));

    // Witness cosignatures (unknown keys) before and after ours are ignored.
    let mut multi = SignedNote::parse(&note).unwrap();
    multi.sign("witness.example/w1", &other).unwrap();
    multi.signatures.rotate_right(1);
    multi
        .sign("witness.example/w2", &SigningKey::from_bytes(&[3u8; 32]))
        .unwrap();
    let multi = multi.encode();
    assert_eq!(multi.matches('\u{2014}').count(), 3);
    assert_eq!(verify_checkpoint(&multi, ORIGIN, &vk).unwrap(), cp);
    let w1 = VerifierKey::new("witness.example/w1", other.verifying_key()).unwrap();
    assert!(open_note(&multi, &w1).is_ok());

    // A bad signature from the known key rejects the note even if another one verifies.
    let mut bad = SignedNote::parse(&note).unwrap();
    let mut extra = bad.signatures[0].clone();
    extra.signature[0] ^= 1;
    bad.signatures.push(extra);
    assert_eq!(
        verify_checkpoint(&bad.encode(), ORIGIN, &vk),
        Err(CheckpointError::BadSignature(ORIGIN.into()))
    );
}

#[test]
fn note_and_checkpoint_format_limits() {
    let sk = log_key();
    let vk = sk.verifying_key();
    let note = sign_checkpoint(&Checkpoint::new(ORIGIN, 1, [1; 32]), ORIGIN, &sk).unwrap();
    let cases: Vec<(String, &str)> = vec![
        (note.trim_end_matches('\n').to_owned(), "no final newline"),
        (note.replacen("\n\n", "\n", 1), "no blank line"),
        (note.replacen('\u{2014}', "-", 1), "ascii dash"),
        (note.replacen("\n1\n", "\n1\t\n", 1), "control character"),
        (
            format!("{note}{}", "x".repeat(checkpoint::MAX_NOTE_BYTES)),
            "too large",
        ),
        (
            note.replacen(&format!("{ORIGIN} "), &format!("{ORIGIN}  "), 1),
            "bad base64",
        ),
    ];
    for (n, why) in cases {
        assert!(verify_checkpoint(&n, ORIGIN, &vk).is_err(), "{why}");
    }
    let line = note.split("\n\n").nth(1).unwrap();
    let many = format!(
        "{}\n\n{}",
        note.split("\n\n").next().unwrap(),
        line.repeat(checkpoint::MAX_SIGNATURES + 1)
    );
    assert_eq!(
        SignedNote::parse(&many),
        Err(CheckpointError::TooManySignatures)
    );
    let enough = format!(
        "{}\n\n{}",
        note.split("\n\n").next().unwrap(),
        line.repeat(16)
    );
    assert!(
        verify_checkpoint(&enough, ORIGIN, &vk).is_ok(),
        "16 signatures accepted"
    );

    for bad in [
        "o\n01\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n",
        "o\n-1\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n",
        "o\n18446744073709551616\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n",
        "o\n1\nAQEB\n",
        "\n1\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n",
        "o\n1\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n\n",
        "o\n1\nAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
        "o\n1\n",
    ] {
        assert!(Checkpoint::parse_text(bad).is_err(), "{bad:?}");
    }
    assert!(Checkpoint::parse_text("o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n").is_ok());
    assert_eq!(
        sign_checkpoint(&Checkpoint::new(ORIGIN, 1, [1; 32]), "bad name", &sk),
        Err(CheckpointError::InvalidKeyName)
    );
    assert!(Checkpoint::new("a\nb", 1, [1; 32]).to_text().is_err());
}

// --- the guard --------------------------------------------------------------------------

#[test]
fn guard_detects_rewritten_log() {
    let events: Vec<Vec<u8>> = (0u32..40)
        .map(|i| format!("event {i}").into_bytes())
        .collect();
    let mut honest = CompactTree::new();
    for e in &events[..20] {
        honest.push(e);
    }
    // An auditor holds the signed checkpoint at 20.
    let mut auditor = CheckpointGuard::empty();
    auditor.advance(20, honest.root(), &[]).unwrap();
    for e in &events[20..] {
        honest.push(e);
    }
    let p = honest.consistency_proof(20, 40).unwrap();
    auditor.check_next(40, &honest.root(), &p).unwrap();

    // The operator rewrites event 7 and rebuilds the whole log.
    let mut rewritten = CompactTree::new();
    for (i, e) in events.iter().enumerate() {
        if i == 7 {
            rewritten.push(b"event 7, edited");
        } else {
            rewritten.push(e);
        }
    }
    let forged = rewritten.consistency_proof(20, 40).unwrap();
    assert!(matches!(
        auditor.check_next(40, &rewritten.root(), &forged),
        Err(GuardError::Inconsistent { old: 20, .. })
    ));
    // Even replaying the honest proof with the rewritten root fails.
    assert!(auditor.check_next(40, &rewritten.root(), &p).is_err());
    // Same size, different root: fork. Smaller size: rollback.
    assert_eq!(
        auditor.check_next(20, &rewritten.root_at(20).unwrap(), &[]),
        Err(GuardError::Fork { size: 20 })
    );
    assert_eq!(
        auditor.check_next(19, &honest.root_at(19).unwrap(), &[]),
        Err(GuardError::Rollback { old: 20, new: 19 })
    );
    // The honest successor is accepted and becomes the new reference.
    auditor.advance(40, honest.root(), &p).unwrap();
    assert_eq!(auditor.size(), 40);
    assert_eq!(*auditor.root(), honest.root());
    // Equal size, equal root, empty proof: fine.
    auditor.check_next(40, &honest.root(), &[]).unwrap();
}

#[test]
fn guard_sign_next_refuses_to_sign_a_fork() {
    let key = log_key();
    let mut tree = CompactTree::new();
    let mut node = CheckpointGuard::empty();
    for i in 0u8..5 {
        tree.push(&[i]);
    }
    let note = node
        .sign_next(&Checkpoint::new(ORIGIN, 5, tree.root()), &[], ORIGIN, &key)
        .unwrap();
    assert_eq!(
        verify_checkpoint(&note, ORIGIN, &key.verifying_key())
            .unwrap()
            .size,
        5
    );
    tree.push(b"six");
    let p = tree.consistency_proof(5, 6).unwrap();
    node.sign_next(&Checkpoint::new(ORIGIN, 6, tree.root()), &p, ORIGIN, &key)
        .unwrap();
    // A rebuilt tree with a different sixth leaf at the same size is never signed.
    let mut fork = CompactTree::from_leaf_hashes((0u8..5).map(|i| leaf_hash(&[i])));
    fork.push(b"6");
    assert_eq!(
        node.sign_next(&Checkpoint::new(ORIGIN, 6, fork.root()), &[], ORIGIN, &key),
        Err(GuardError::Fork { size: 6 })
    );
    assert_eq!(node.size(), 6);
    assert_eq!(*node.root(), tree.root());
}

// --- properties -------------------------------------------------------------------------

fn tree_of(n: u64) -> CompactTree {
    CompactTree::from_leaf_hashes((0..n).map(|i| leaf_hash(&i.to_le_bytes())))
}

fn flip(h: &Hash, bit: usize) -> Hash {
    let mut h = *h;
    h[bit / 8 % 32] ^= 1 << (bit % 8);
    h
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn prop_inclusion_proofs_verify_and_bit_flips_fail(n in 1u64..300, seed in any::<u64>(), bit in 0usize..256) {
        let tree = tree_of(n);
        let size = 1 + seed % n;
        let rt = tree.root_at(size).unwrap();
        for index in 0..size {
            let leaf = tree.leaf(index);
            let p = tree.inclusion_proof(index, size).unwrap();
            prop_assert!(verify_inclusion(&leaf, index, size, &p, &rt).is_ok());
            prop_assert!(verify_inclusion(&leaf, index, size, &p, &flip(&rt, bit)).is_err());
            prop_assert!(verify_inclusion(&flip(&leaf, bit), index, size, &p, &rt).is_err());
            for k in 0..64 {
                let other = index ^ (1 << k);
                prop_assert!(verify_inclusion(&leaf, other, size, &p, &rt).is_err());
            }
            for j in 0..p.len() {
                let mut q = p.clone();
                q[j] = flip(&q[j], bit);
                prop_assert!(verify_inclusion(&leaf, index, size, &q, &rt).is_err());
            }
        }
    }

    #[test]
    fn prop_consistency_proofs_verify(n in 1u64..300, a in any::<u64>(), bit in 0usize..256) {
        let tree = tree_of(n);
        let m = 1 + a % n;
        let p = tree.consistency_proof(m, n).unwrap();
        let (r1, r2) = (tree.root_at(m).unwrap(), tree.root());
        prop_assert!(verify_consistency(m, n, &r1, &r2, &p).is_ok());
        prop_assert!(verify_consistency(m, n, &flip(&r1, bit), &r2, &p).is_err());
        prop_assert!(verify_consistency(m, n, &r1, &flip(&r2, bit), &p).is_err());
        for j in 0..p.len() {
            let mut q = p.clone();
            q[j] = flip(&q[j], bit);
            prop_assert!(verify_consistency(m, n, &r1, &r2, &q).is_err());
        }
        let mut guard = CheckpointGuard::new(m, r1);
        prop_assert!(guard.advance(n, r2, &p).is_ok());
    }
}

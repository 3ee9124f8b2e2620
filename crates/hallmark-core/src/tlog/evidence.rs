//! Log evidence as a verifier receives it, and the checks a verifier runs on it.
//!
//! The node's proof endpoints answer with these JSON documents, and `hallmark verify` /
//! `hallmark log verify-consistency` read the same documents from files, so the output of
//! `curl` can be saved and fed back in unchanged. Hashes are standard base64 (RFC 4648 §4,
//! padded), as in checkpoints.
//!
//! ```json
//! {"leafIndex":41,"treeSize":57,"leafHash":"…","leaf":"<base64 of the leaf bytes>","hashes":["…"]}
//! {"oldSize":40,"newSize":57,"hashes":["…"]}
//! ```
//!
//! [`check_logged_credential`], [`check_logged_status_list`] and [`check_consistency`] return
//! named checks (the [`crate::verify::Check`]s of a verification report), so a failure names
//! what failed.

use super::checkpoint::{open_note, Checkpoint, VerifierKey};
use super::event::{Action, Detail, LeafEvent, Publication, StatusListPublished};
use super::guard::CheckpointGuard;
use super::merkle::{leaf_hash, verify_inclusion, Hash};
use crate::jcs;
use crate::verify::{Check, Outcome};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The audit action whose leaf commits to a published version's credentials.
pub const PUBLISH_ACTION: &str = Action::PassportPublished.as_str();

/// The audit action whose leaf commits to a signed status list version.
pub const STATUS_LIST_ACTION: &str = Action::StatusListPublished.as_str();

/// Name of the check that a status list credential was logged (one per list checked).
pub const STATUS_LIST_LOG_CHECK: &str = "status-list-log";

/// A hash carried as standard base64 in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct B64Hash(pub Hash);

impl Serialize for B64Hash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&B64.encode(self.0))
    }
}

impl<'de> Deserialize<'de> for B64Hash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        decode_hash(&s)
            .map(B64Hash)
            .ok_or_else(|| serde::de::Error::custom("expected a base64 SHA-256 hash"))
    }
}

/// A 32-byte hash from standard or URL-safe base64 (padded or not) or 64 hex digits.
pub fn decode_hash(s: &str) -> Option<Hash> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return hex::decode(s).ok()?.try_into().ok();
    }
    [&B64, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD]
        .iter()
        .find_map(|e| e.decode(s).ok())
        .and_then(|b| b.try_into().ok())
}

/// An inclusion proof for one leaf, with the leaf itself when it is public.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionProof {
    /// The leaf's index (audit sequence number − 1).
    pub leaf_index: u64,
    /// The tree size the proof is for (a checkpoint's size).
    pub tree_size: u64,
    /// The leaf hash, `SHA-256(0x00 ‖ leaf bytes)`.
    pub leaf_hash: B64Hash,
    /// The leaf bytes (the audit event's canonical JSON), base64; absent when withheld.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaf: Option<String>,
    /// The audit path, leaf to root (RFC 9162 §2.1.3).
    pub hashes: Vec<B64Hash>,
}

impl InclusionProof {
    /// The decoded leaf bytes, if present.
    pub fn leaf_bytes(&self) -> Option<Result<Vec<u8>, String>> {
        self.leaf.as_deref().map(|s| {
            B64.decode(s)
                .map_err(|e| format!("leaf is not base64: {e}"))
        })
    }

    /// The audit path as hashes.
    pub fn path(&self) -> Vec<Hash> {
        self.hashes.iter().map(|h| h.0).collect()
    }
}

/// A consistency proof between two tree sizes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsistencyProof {
    /// The older (smaller) tree size.
    pub old_size: u64,
    /// The newer tree size.
    pub new_size: u64,
    /// The proof (RFC 9162 §2.1.4); empty when the sizes are equal.
    pub hashes: Vec<B64Hash>,
}

impl ConsistencyProof {
    /// The proof as hashes.
    pub fn path(&self) -> Vec<Hash> {
        self.hashes.iter().map(|h| h.0).collect()
    }
}

fn pass(name: &'static str, detail: String) -> Check {
    Check {
        name,
        outcome: Outcome::Pass(detail),
    }
}

fn fail(name: &'static str, detail: String) -> Check {
    Check {
        name,
        outcome: Outcome::Fail(detail),
    }
}

fn skip(name: &'static str, detail: &str) -> Check {
    Check {
        name,
        outcome: Outcome::Skipped(detail.to_string()),
    }
}

/// Open a checkpoint note with the pinned log key: signature, format, origin = key name.
pub fn open_checkpoint(note: &str, key: &VerifierKey) -> Result<Checkpoint, String> {
    let text = open_note(note, key).map_err(|e| e.to_string())?;
    let cp = Checkpoint::parse_text(&text).map_err(|e| e.to_string())?;
    if cp.origin != key.name() {
        return Err(format!(
            "checkpoint origin {:?} is not the log key's name {:?}",
            cp.origin,
            key.name()
        ));
    }
    Ok(cp)
}

/// The SHA-256 digests a credential file may be recorded under: its bytes as given and, for a
/// JSON credential, its RFC 8785 canonical form (the node stores and serves JCS bytes, so a
/// re-indented copy still matches).
fn credential_digests(credential: &[u8]) -> Vec<[u8; 32]> {
    let trimmed = credential.trim_ascii();
    let mut out = vec![Sha256::digest(trimmed).into()];
    if let Ok(v) = jcs::parse_strict(trimmed) {
        if let Ok(c) = jcs::canonicalize(&v) {
            let d: [u8; 32] = Sha256::digest(&c).into();
            if !out.contains(&d) {
                out.push(d);
            }
        }
    }
    out
}

/// Check that a credential was logged: three named checks.
///
/// - `log-checkpoint`: the checkpoint note carries a valid signature of the pinned log key
///   and its origin is the key's name;
/// - `log-leaf`: the proof carries the leaf bytes, their leaf hash is the one claimed, the
///   leaf is a `passport.published` event, and its `credentialSha256` lists the SHA-256 of
///   this credential (the Data Integrity form: the log commits to those bytes);
/// - `log-inclusion`: the proof is for the checkpoint's tree size and recomputes its root
///   from the leaf's hash (RFC 9162 §2.1.3.2).
pub fn check_logged_credential(
    credential: &[u8],
    checkpoint_note: &str,
    proof: &InclusionProof,
    key: &VerifierKey,
) -> Vec<Check> {
    let mut checks = Vec::with_capacity(3);
    let checkpoint = match open_checkpoint(checkpoint_note, key) {
        Ok(cp) => {
            checks.push(pass(
                "log-checkpoint",
                format!("signed by {} (tree size {})", key, cp.size),
            ));
            Some(cp)
        }
        Err(e) => {
            checks.push(fail("log-checkpoint", e));
            None
        }
    };
    let leaf = match proof.leaf_bytes() {
        None => Err("the proof carries no leaf bytes".to_string()),
        Some(Err(e)) => Err(e),
        Some(Ok(b)) => Ok(b),
    };
    let computed = leaf.as_ref().ok().map(|b| leaf_hash(b));
    checks.push(match &leaf {
        Err(e) => fail("log-leaf", e.clone()),
        Ok(bytes) => leaf_check(credential, bytes, computed, proof),
    });
    checks.push(match (&checkpoint, computed) {
        (None, _) => skip("log-inclusion", "the checkpoint did not verify"),
        (Some(_), None) => skip("log-inclusion", "no leaf to prove"),
        (Some(cp), Some(_)) if proof.tree_size != cp.size => {
            fail(
                "log-inclusion",
                format!(
                    "the proof is for tree size {}, the checkpoint is for {}; fetch the proof with size={}",
                    proof.tree_size, cp.size, cp.size
                ),
            )
        }
        (Some(cp), Some(h)) => {
            match verify_inclusion(&h, proof.leaf_index, cp.size, &proof.path(), &cp.root) {
                Ok(()) => pass(
                    "log-inclusion",
                    format!(
                        "leaf {} is in the checkpointed tree of size {}",
                        proof.leaf_index, cp.size
                    ),
                ),
                Err(e) => fail("log-inclusion", e.to_string()),
            }
        }
    });
    checks
}

/// Check that a status list credential (either form, as verified) was logged: one
/// [`STATUS_LIST_LOG_CHECK`] check, which passes only when
///
/// - the checkpoint note carries a valid signature of the pinned log key, origin = its name;
/// - the proof carries the leaf bytes and they hash to its `leafHash`;
/// - the leaf is a `status-list.published` event whose detail ([`StatusListPublished`])
///   records the SHA-256 of these bytes: `sha256` for the Data Integrity form (as given, or
///   its RFC 8785 form), `jwtSha256` for the `vc+jwt` form;
/// - the proof is for the checkpoint's tree size and recomputes its root from the leaf.
///
/// The first failure is the check's reason.
pub fn check_logged_status_list(
    list: &[u8],
    checkpoint_note: &str,
    proof: &InclusionProof,
    key: &VerifierKey,
) -> Check {
    match logged_status_list(list, checkpoint_note, proof, key) {
        Ok(detail) => pass(STATUS_LIST_LOG_CHECK, detail),
        Err(why) => fail(STATUS_LIST_LOG_CHECK, why),
    }
}

fn logged_status_list(
    list: &[u8],
    checkpoint_note: &str,
    proof: &InclusionProof,
    key: &VerifierKey,
) -> Result<String, String> {
    let cp = open_checkpoint(checkpoint_note, key).map_err(|e| format!("checkpoint: {e}"))?;
    let bytes = match proof.leaf_bytes() {
        None => return Err("the proof carries no leaf bytes".into()),
        Some(b) => b?,
    };
    let computed = leaf_hash(&bytes);
    if computed != proof.leaf_hash.0 {
        return Err("the leaf bytes do not hash to the proof's leafHash".into());
    }
    let index = proof.leaf_index;
    let event = LeafEvent::from_leaf(&bytes).map_err(|e| format!("the leaf is {e}"))?;
    if event.known_action() != Some(Action::StatusListPublished) {
        return Err(format!(
            "leaf {index} is a {} event, not {STATUS_LIST_ACTION}",
            Value::from(event.action.as_ref())
        ));
    }
    let logged =
        StatusListPublished::from_value(&event.detail).map_err(|e| format!("leaf {index}: {e}"))?;
    let (form, recorded, digests) = if matches!(list.trim_ascii().first(), Some(b'{')) {
        ("Data Integrity", &logged.sha256, credential_digests(list))
    } else {
        (
            "vc+jwt",
            &logged.jwt_sha256,
            vec![Sha256::digest(list.trim_ascii()).into()],
        )
    };
    if !digests.iter().any(|d| hex::encode(d) == *recorded) {
        return Err(format!(
            "leaf {index} ({STATUS_LIST_ACTION} of {} list {} version {}) does not record \
             the SHA-256 of this list ({form} form)",
            logged.purpose, logged.list, logged.version
        ));
    }
    if proof.tree_size != cp.size {
        return Err(format!(
            "the proof is for tree size {}, the checkpoint is for {}; fetch the proof with size={}",
            proof.tree_size, cp.size, cp.size
        ));
    }
    verify_inclusion(&computed, index, cp.size, &proof.path(), &cp.root)
        .map_err(|e| format!("leaf {index}: {e}"))?;
    Ok(format!(
        "leaf {index} ({STATUS_LIST_ACTION} of {} list {} version {}) records this list's \
         SHA-256 ({form}) and is in the tree of size {} signed by {key}",
        logged.purpose, logged.list, logged.version, cp.size
    ))
}

fn leaf_check(
    credential: &[u8],
    bytes: &[u8],
    computed: Option<Hash>,
    proof: &InclusionProof,
) -> Check {
    if computed != Some(proof.leaf_hash.0) {
        return fail(
            "log-leaf",
            "the leaf bytes do not hash to the proof's leafHash".into(),
        );
    }
    let event = match LeafEvent::from_leaf(bytes) {
        Ok(e) => e,
        Err(e) => return fail("log-leaf", format!("the leaf is {e}")),
    };
    if event.known_action() != Some(Action::PassportPublished) {
        return fail(
            "log-leaf",
            format!(
                "leaf {} is a {} event, not {PUBLISH_ACTION}",
                proof.leaf_index,
                Value::from(event.action.as_ref())
            ),
        );
    }
    if !matches!(credential.trim_ascii().first(), Some(b'{')) {
        return fail(
            "log-leaf",
            "the log records the SHA-256 of the Data Integrity credential; verify that form \
             (the vc+jwt bytes are not in the leaf)"
                .into(),
        );
    }
    let Some(published) = Publication::from_value(&event.detail)
        .ok()
        .filter(|p| p.credential_sha256.is_some())
    else {
        return fail("log-leaf", "the leaf records no credentialSha256".into());
    };
    let digests = credential_digests(credential);
    let found = published
        .credential_sha256
        .as_ref()
        .and_then(|hashes| hashes.find(&digests));
    match found {
        Some(audience) => pass(
            "log-leaf",
            format!(
                "leaf {} ({PUBLISH_ACTION} of {} version {}) records this credential's SHA-256 ({audience})",
                proof.leaf_index,
                Value::from(event.passport.as_deref()),
                published.version
            ),
        ),
        None => fail(
            "log-leaf",
            format!(
                "leaf {} does not record this credential's SHA-256",
                proof.leaf_index
            ),
        ),
    }
}

/// Check that a newer checkpoint extends an older one: `log-checkpoint-old`,
/// `log-checkpoint-new` (both signed by the pinned key) and `log-consistency` (the proof is
/// for these two sizes and links the two roots; a smaller new size or a different root at
/// the same size fails).
pub fn check_consistency(
    old_note: &str,
    new_note: &str,
    proof: &ConsistencyProof,
    key: &VerifierKey,
) -> Vec<Check> {
    let mut checks = Vec::with_capacity(3);
    let mut open = |name: &'static str, note: &str| match open_checkpoint(note, key) {
        Ok(cp) => {
            checks.push(pass(
                name,
                format!("signed by the log key (tree size {})", cp.size),
            ));
            Some(cp)
        }
        Err(e) => {
            checks.push(fail(name, e));
            None
        }
    };
    let old = open("log-checkpoint-old", old_note);
    let new = open("log-checkpoint-new", new_note);
    let (Some(old), Some(new)) = (old, new) else {
        checks.push(skip("log-consistency", "a checkpoint did not verify"));
        return checks;
    };
    if (proof.old_size, proof.new_size) != (old.size, new.size) {
        checks.push(fail(
            "log-consistency",
            format!(
                "the proof is for sizes {} → {}, the checkpoints are {} → {}",
                proof.old_size, proof.new_size, old.size, new.size
            ),
        ));
        return checks;
    }
    let mut guard = CheckpointGuard::new(old.size, old.root);
    checks.push(match guard.advance(new.size, new.root, &proof.path()) {
        Ok(()) => pass(
            "log-consistency",
            format!(
                "the tree of size {} extends the tree of size {}",
                new.size, old.size
            ),
        ),
        Err(e) => fail("log-consistency", e.to_string()),
    });
    checks
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::tlog::event::CredentialHashes;
    use crate::tlog::{sign_checkpoint, CompactTree};
    use ed25519_dalek::SigningKey;

    const ORIGIN: &str = "dpp.example.com/log";

    struct Log {
        leaves: Vec<Vec<u8>>,
        tree: CompactTree,
        key: SigningKey,
    }

    impl Log {
        fn new() -> Self {
            Log {
                leaves: Vec::new(),
                tree: CompactTree::new(),
                key: SigningKey::from_bytes(&[7; 32]),
            }
        }
        fn push(&mut self, event: Value) -> u64 {
            let bytes = jcs::canonicalize(&event).unwrap();
            self.leaves.push(bytes.clone());
            self.tree.push(&bytes)
        }
        fn vkey(&self) -> VerifierKey {
            VerifierKey::new(ORIGIN, self.key.verifying_key()).unwrap()
        }
        fn checkpoint(&self, size: u64) -> String {
            let cp = Checkpoint::new(ORIGIN, size, self.tree.root_at(size).unwrap());
            sign_checkpoint(&cp, ORIGIN, &self.key).unwrap()
        }
        fn inclusion(&self, index: u64, size: u64) -> InclusionProof {
            let bytes = &self.leaves[index as usize];
            InclusionProof {
                leaf_index: index,
                tree_size: size,
                leaf_hash: B64Hash(leaf_hash(bytes)),
                leaf: Some(B64.encode(bytes)),
                hashes: self
                    .tree
                    .inclusion_proof(index, size)
                    .unwrap()
                    .into_iter()
                    .map(B64Hash)
                    .collect(),
            }
        }
        fn consistency(&self, old: u64, new: u64) -> ConsistencyProof {
            ConsistencyProof {
                old_size: old,
                new_size: new,
                hashes: self
                    .tree
                    .consistency_proof(old, new)
                    .unwrap()
                    .into_iter()
                    .map(B64Hash)
                    .collect(),
            }
        }
    }

    const CREDENTIAL: &[u8] = br#"{"@context":["https://www.w3.org/ns/credentials/v2"],"id":"x"}"#;

    fn published(log: &mut Log) -> u64 {
        log.push(serde_json::json!({"seq": 1, "action": "node.started", "detail": {}}));
        // A publish event as the node writes it (`tlog::event`): the public credential is
        // CREDENTIAL, the other audiences' are other bytes.
        let detail = Publication {
            version: 1,
            key_id: "z6MkKey".into(),
            credential_sha256: Some(CredentialHashes::new(
                &Sha256::digest(CREDENTIAL).into(),
                &[0; 32],
                &[0xaa; 32],
            )),
        }
        .to_value()
        .unwrap();
        let id: crate::passport::PassportId = "urn:uuid:0190c2f4-8d3e-7b1a-9c4d-2e5f6a7b8c9d"
            .parse()
            .unwrap();
        let at = time::macros::datetime!(2026-05-01 12:00 UTC);
        let leaf =
            LeafEvent::new(2, at, "admin:ops", PUBLISH_ACTION, Some(&id), None, &detail).unwrap();
        let index = log.push(serde_json::from_slice(&leaf.leaf_bytes().unwrap()).unwrap());
        for seq in 3..=6 {
            log.push(serde_json::json!({"seq": seq, "action": "passport.suspended"}));
        }
        index
    }

    fn outcome<'a>(checks: &'a [Check], name: &str) -> &'a Outcome {
        &checks.iter().find(|c| c.name == name).unwrap().outcome
    }

    fn all_pass(checks: &[Check]) -> bool {
        checks.iter().all(|c| matches!(c.outcome, Outcome::Pass(_)))
    }

    #[test]
    fn a_logged_credential_passes_every_check_and_survives_json() {
        let mut log = Log::new();
        let index = published(&mut log);
        let proof = log.inclusion(index, 6);
        let json = serde_json::to_string(&proof).unwrap();
        assert!(json.contains("\"leafIndex\":1") && json.contains("\"hashes\":["));
        let back: InclusionProof = serde_json::from_str(&json).unwrap();
        assert_eq!(back, proof);
        let checks = check_logged_credential(CREDENTIAL, &log.checkpoint(6), &back, &log.vkey());
        assert!(all_pass(&checks), "{checks:?}");
        // Re-indented, the canonical form still matches.
        let pretty =
            serde_json::to_vec_pretty(&serde_json::from_slice::<Value>(CREDENTIAL).unwrap())
                .unwrap();
        let checks = check_logged_credential(&pretty, &log.checkpoint(6), &proof, &log.vkey());
        assert!(all_pass(&checks), "{checks:?}");
    }

    #[test]
    fn each_altered_input_fails_its_named_check() {
        let mut log = Log::new();
        let index = published(&mut log);
        let good = log.inclusion(index, 6);
        let note = log.checkpoint(6);
        let key = log.vkey();

        // Another credential.
        let c = check_logged_credential(br#"{"id":"y"}"#, &note, &good, &key);
        assert!(matches!(outcome(&c, "log-leaf"), Outcome::Fail(_)));
        assert!(matches!(outcome(&c, "log-inclusion"), Outcome::Pass(_)));
        // The JWT form is not what the leaf commits to.
        let c = check_logged_credential(b"a.b.c", &note, &good, &key);
        assert!(
            matches!(outcome(&c, "log-leaf"), Outcome::Fail(m) if m.contains("Data Integrity"))
        );
        // A proof hash flipped.
        let mut bad = good.clone();
        bad.hashes[0].0[0] ^= 1;
        let c = check_logged_credential(CREDENTIAL, &note, &bad, &key);
        assert!(matches!(outcome(&c, "log-inclusion"), Outcome::Fail(_)));
        assert!(matches!(outcome(&c, "log-leaf"), Outcome::Pass(_)));
        // Another leaf's bytes under this index.
        let mut bad = log.inclusion(0, 6);
        bad.leaf_index = index;
        let c = check_logged_credential(CREDENTIAL, &note, &bad, &key);
        assert!(matches!(outcome(&c, "log-leaf"), Outcome::Fail(_)));
        assert!(matches!(outcome(&c, "log-inclusion"), Outcome::Fail(_)));
        // Leaf bytes that do not match the claimed hash.
        let mut bad = good.clone();
        bad.leaf = Some(B64.encode(b"{}"));
        let c = check_logged_credential(CREDENTIAL, &note, &bad, &key);
        assert!(matches!(outcome(&c, "log-leaf"), Outcome::Fail(m) if m.contains("leafHash")));
        // Withheld leaf.
        let mut bad = good.clone();
        bad.leaf = None;
        let c = check_logged_credential(CREDENTIAL, &note, &bad, &key);
        assert!(matches!(outcome(&c, "log-leaf"), Outcome::Fail(_)));
        // A proof for another size.
        let c = check_logged_credential(CREDENTIAL, &note, &log.inclusion(index, 5), &key);
        assert!(matches!(outcome(&c, "log-inclusion"), Outcome::Fail(m) if m.contains("size=6")));
        // A checkpoint with one character changed, or signed by another key.
        let tampered = note.replacen("\n6\n", "\n7\n", 1);
        let c = check_logged_credential(CREDENTIAL, &tampered, &good, &key);
        assert!(matches!(outcome(&c, "log-checkpoint"), Outcome::Fail(_)));
        assert!(matches!(outcome(&c, "log-inclusion"), Outcome::Skipped(_)));
        let stranger =
            VerifierKey::new(ORIGIN, SigningKey::from_bytes(&[8; 32]).verifying_key()).unwrap();
        let c = check_logged_credential(CREDENTIAL, &note, &good, &stranger);
        assert!(matches!(outcome(&c, "log-checkpoint"), Outcome::Fail(_)));
    }

    const LIST_DI: &[u8] = br#"{"id":"https://dpp.example.com/status/suspension/0","type":"x"}"#;
    const LIST_JWT: &[u8] = b"eyJhbGciOiJFZERTQSJ9.eyJpZCI6Imxpc3QifQ.c2ln";

    /// Appends version 3 of suspension list 0 (LIST_DI / LIST_JWT) after a publication; its
    /// leaf index.
    fn list_logged(log: &mut Log) -> u64 {
        published(log);
        let detail = StatusListPublished::new(
            "suspension",
            0,
            3,
            &Sha256::digest(LIST_DI).into(),
            &Sha256::digest(LIST_JWT).into(),
        )
        .to_value()
        .unwrap();
        let at = time::macros::datetime!(2026-05-01 12:05 UTC);
        let leaf =
            LeafEvent::new(7, at, "admin:ops", STATUS_LIST_ACTION, None, None, &detail).unwrap();
        log.push(serde_json::from_slice(&leaf.leaf_bytes().unwrap()).unwrap())
    }

    #[test]
    fn a_logged_status_list_passes_in_either_form_and_each_alteration_fails() {
        let mut log = Log::new();
        let index = list_logged(&mut log);
        log.push(serde_json::json!({"seq": 8, "action": "passport.resumed"}));
        let size = index + 2;
        let note = log.checkpoint(size);
        let key = log.vkey();
        let good = log.inclusion(index, size);
        let ok = |list: &[u8], proof: &InclusionProof, note: &str, key: &VerifierKey| {
            let c = check_logged_status_list(list, note, proof, key);
            assert_eq!(c.name, STATUS_LIST_LOG_CHECK);
            c.outcome
        };
        for list in [LIST_DI, LIST_JWT] {
            let o = ok(list, &good, &note, &key);
            assert!(
                matches!(&o, Outcome::Pass(d) if d.contains("suspension list 0 version 3")),
                "{o:?}"
            );
        }
        // Re-indented JSON still matches (the canonical form).
        let pretty =
            serde_json::to_vec_pretty(&serde_json::from_slice::<Value>(LIST_DI).unwrap()).unwrap();
        assert!(matches!(ok(&pretty, &good, &note, &key), Outcome::Pass(_)));
        // Another list's bytes (e.g. a tampered copy), in either form.
        let fails = |o: Outcome, what: &str| {
            assert!(
                matches!(&o, Outcome::Fail(d) if d.contains(what)),
                "{what}: {o:?}"
            );
        };
        fails(
            ok(br#"{"id":"other"}"#, &good, &note, &key),
            "does not record",
        );
        fails(ok(b"a.b.c", &good, &note, &key), "vc+jwt");
        // A passport's publish leaf is not a status list's.
        fails(
            ok(LIST_DI, &log.inclusion(1, size), &note, &key),
            "not status-list.published",
        );
        // A proof hash flipped; a proof for another size; a withheld leaf; bytes not hashing
        // to leafHash.
        let mut bad = good.clone();
        bad.hashes[0].0[0] ^= 1;
        fails(ok(LIST_DI, &bad, &note, &key), &format!("leaf {index}"));
        fails(
            ok(LIST_DI, &log.inclusion(index, size - 1), &note, &key),
            &format!("size={size}"),
        );
        let mut bad = good.clone();
        bad.leaf = None;
        fails(ok(LIST_DI, &bad, &note, &key), "no leaf bytes");
        let mut bad = good.clone();
        bad.leaf = Some(B64.encode(b"{}"));
        fails(ok(LIST_DI, &bad, &note, &key), "leafHash");
        // A checkpoint signed by another key.
        let stranger =
            VerifierKey::new(ORIGIN, SigningKey::from_bytes(&[8; 32]).verifying_key()).unwrap();
        fails(ok(LIST_DI, &good, &note, &stranger), "checkpoint");
    }

    #[test]
    fn consistency_passes_for_an_extension_and_fails_for_a_rewrite() {
        let mut log = Log::new();
        published(&mut log);
        let old = log.checkpoint(3);
        let new = log.checkpoint(6);
        let key = log.vkey();
        let proof = log.consistency(3, 6);
        let json = serde_json::to_string(&proof).unwrap();
        let proof: ConsistencyProof = serde_json::from_str(&json).unwrap();
        assert!(all_pass(&check_consistency(&old, &new, &proof, &key)));
        // Same size: empty proof.
        let same = ConsistencyProof {
            old_size: 6,
            new_size: 6,
            hashes: vec![],
        };
        assert!(all_pass(&check_consistency(&new, &new, &same, &key)));
        // Swapped: the log would shrink.
        let swapped = ConsistencyProof {
            old_size: 6,
            new_size: 3,
            hashes: proof.hashes.clone(),
        };
        let c = check_consistency(&new, &old, &swapped, &key);
        assert!(matches!(outcome(&c, "log-consistency"), Outcome::Fail(_)));

        // A rewritten log: event 1 changed, re-signed with the same key.
        let mut forged = Log::new();
        forged.push(serde_json::json!({"seq": 1, "action": "node.started", "detail": {"x": 1}}));
        for leaf in &log.leaves[1..] {
            forged.leaves.push(leaf.clone());
            forged.tree.push(leaf);
        }
        let forged_new = forged.checkpoint(6);
        let c = check_consistency(&old, &forged_new, &forged.consistency(3, 6), &key);
        assert!(
            matches!(outcome(&c, "log-consistency"), Outcome::Fail(_)),
            "{c:?}"
        );
        assert!(matches!(
            outcome(&c, "log-checkpoint-new"),
            Outcome::Pass(_)
        ));
        // A proof for other sizes.
        let c = check_consistency(&old, &new, &log.consistency(2, 6), &key);
        assert!(matches!(outcome(&c, "log-consistency"), Outcome::Fail(m) if m.contains("sizes")));
    }

    #[test]
    fn hashes_decode_from_base64_variants_and_hex() {
        let h = [0xfb; 32];
        for s in [
            B64.encode(h),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(h),
            hex::encode(h),
        ] {
            assert_eq!(decode_hash(&s), Some(h), "{s}");
        }
        assert_eq!(decode_hash("AAAA"), None);
        assert!(serde_json::from_str::<B64Hash>("\"nope\"").is_err());
    }
}

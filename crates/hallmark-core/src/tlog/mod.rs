//! The transparency log: RFC 6962 / RFC 9162 Merkle trees over audit events, C2SP
//! checkpoints signed as C2SP signed notes, and the guard that keeps the log append-only.
//!
//! # What is logged
//! Each leaf is the canonical bytes of one audit event ([`event::LeafEvent`], the one
//! definition the node, the store and the verifiers share, with the typed [`event::Action`]s
//! and the `detail`s verifiers read); its leaf hash is
//! `SHA-256(0x00 ‖ bytes)` and interior nodes are `SHA-256(0x01 ‖ left ‖ right)`
//! ([`merkle`]). The node keeps a [`CompactTree`] (every perfect subtree hash cached, rebuilt
//! from stored leaf hashes at start-up) so roots and proofs cost `O(log n)`.
//!
//! # What the node publishes
//! A checkpoint ([`checkpoint`]) commits to `(origin, size, root)` and is signed with the
//! node's dedicated log key (Ed25519, not a passport-signing key) in the signed-note format,
//! so Go tooling (`golang.org/x/mod/sumdb/note`, transparency-dev witnesses) can read it.
//! The node signs only through [`CheckpointGuard::sign_next`], which first checks that the
//! new tree extends the last signed one: it never signs two inconsistent checkpoints.
//!
//! # What a verifier does
//! 1. Verify the checkpoint note with the log's verifier key ([`verify_checkpoint`]).
//! 2. Inclusion: given a leaf (the audit event bytes, or its leaf hash), its index and an
//!    inclusion proof for the checkpoint's size, [`verify_inclusion`] recomputes the root.
//! 3. Consistency: holding an older checkpoint `(m, root_m)`, ask for a consistency proof
//!    to the new size `n` and run [`verify_consistency`] (or [`CheckpointGuard::advance`]).
//!    If any old leaf was changed, removed or reordered, no proof can link the two roots,
//!    so a rewritten log is detected.
//!
//! The proofs travel as the JSON documents of [`evidence`] (what the node's endpoints answer
//! and what `hallmark verify --proof` reads), checked by [`check_logged_credential`] and
//! [`check_consistency`].
//!
//! # Why not a crate
//! `ct-merkle` 0.3 is on `digest` 0.11 (a second SHA-2 stack beside the workspace's
//! `sha2` 0.10), verifies inclusion of leaf *values* rather than leaf hashes and generates
//! proofs from its own in-memory tree only. `tlog_tiles` 0.2 brings `url`, `serde_json`, an
//! older `base64`/`thiserror`, its own signed-note crate and signer trait, and Go's sumdb
//! stored-hash layout. The RFC functions are ~200 lines here, checked against every
//! transparency-dev vector (`../shared/vectors/rfc6962`) and by property tests.

pub mod checkpoint;
pub mod event;
pub mod evidence;
pub mod guard;
pub mod merkle;

pub use checkpoint::{
    key_id, open_note, sign_checkpoint, sign_note, verify_checkpoint, Checkpoint, CheckpointError,
    NoteSignature, SignedNote, VerifierKey,
};
pub use event::{is_public_action, Action, EventError, LeafEvent};
pub use evidence::{
    check_consistency, check_logged_credential, check_logged_status_list, open_checkpoint, B64Hash,
    ConsistencyProof, InclusionProof, STATUS_LIST_LOG_CHECK,
};
pub use guard::{CheckpointGuard, GuardError};
pub use merkle::{
    consistency_proof, consistency_proof_from, empty_root, inclusion_proof, inclusion_proof_from,
    leaf_hash, node_hash, root, root_at, verify_consistency, verify_inclusion, CompactTree, Hash,
    HashSource, ProofError,
};

#[cfg(test)]
mod tests;

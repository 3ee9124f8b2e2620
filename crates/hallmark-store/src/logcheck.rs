//! `hallmark log check`: recompute the transparency log from the store and compare.
//!
//! The check trusts nothing stored about the log itself. It recomputes every leaf from the
//! audit event it records (`AuditRecord::leaf_bytes`), compares it with the stored leaf
//! hash, rebuilds the Merkle tree from the *recomputed* leaves, and compares every stored
//! checkpoint's size, root and (given the log's verifier key) signature with it. It reports
//! the first divergence: a modified or missing audit row, a modified leaf, a checkpoint whose
//! root no longer matches the events, or a checkpoint with a bad signature.

use hallmark_core::tlog::{self, CompactTree, VerifierKey};

use crate::{Store, StoreError};

/// What the check found first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Divergence {
    /// The stored leaf hash differs from the hash of the audit event it records.
    #[error("leaf {index} (audit event {seq}) does not match its audit event: the event or the leaf was changed")]
    LeafMismatch {
        /// Leaf index.
        index: u64,
        /// Audit sequence number.
        seq: u64,
    },
    /// An audit event has no leaf.
    #[error("audit event {seq} has no log leaf {index}")]
    MissingLeaf {
        /// Leaf index.
        index: u64,
        /// Audit sequence number.
        seq: u64,
    },
    /// A leaf exists beyond the last audit event.
    #[error("log leaf {index} has no audit event")]
    ExtraLeaf {
        /// Leaf index.
        index: u64,
    },
    /// Audit sequence numbers are not 1, 2, 3, …
    #[error("audit sequence has a gap or disorder at {seq} (expected {expected})")]
    AuditGap {
        /// The sequence number found.
        seq: u64,
        /// The one expected.
        expected: u64,
    },
    /// A checkpoint commits to a root the recomputed log does not have at that size.
    #[error("checkpoint at size {size} does not match the log recomputed from the audit events")]
    CheckpointRoot {
        /// Its tree size.
        size: u64,
    },
    /// A checkpoint claims more leaves than the log has.
    #[error("checkpoint at size {size} is beyond the log's {leaves} leaves")]
    CheckpointBeyondLog {
        /// Its tree size.
        size: u64,
        /// Leaves in the log.
        leaves: u64,
    },
    /// A checkpoint's signed note does not verify or disagrees with its row.
    #[error("checkpoint at size {size}: {reason}")]
    CheckpointNote {
        /// Its tree size.
        size: u64,
        /// Why.
        reason: String,
    },
}

/// The outcome of [`check_log`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogCheck {
    /// Leaves (= audit events) examined.
    pub leaves: u64,
    /// Checkpoints examined.
    pub checkpoints: usize,
    /// Root of the recomputed log.
    pub root: tlog::Hash,
    /// The first divergence, if any.
    pub divergence: Option<Divergence>,
}

const PAGE: u32 = 1_000;

/// Recompute the log from the audit events and compare leaves and checkpoints.
///
/// With `verifier`, every checkpoint's signed note must also verify under the log key.
pub async fn check_log(
    store: &dyn Store,
    verifier: Option<&VerifierKey>,
) -> Result<LogCheck, StoreError> {
    let mut tree = CompactTree::new();
    let mut divergence = None;
    let mut next_seq = 1u64;
    loop {
        let events = store.list_audit(next_seq, PAGE).await?;
        let leaves = store.list_leaf_hashes(next_seq - 1, PAGE).await?;
        if events.is_empty() {
            if let (None, Some(_)) = (&divergence, leaves.first()) {
                divergence = Some(Divergence::ExtraLeaf {
                    index: next_seq - 1,
                });
            }
            break;
        }
        for (i, event) in events.iter().enumerate() {
            let index = next_seq - 1;
            if divergence.is_none() && event.seq != next_seq {
                divergence = Some(Divergence::AuditGap {
                    seq: event.seq,
                    expected: next_seq,
                });
            }
            let recomputed = event.leaf_hash()?;
            if divergence.is_none() {
                match leaves.get(i) {
                    None => {
                        divergence = Some(Divergence::MissingLeaf {
                            index,
                            seq: event.seq,
                        })
                    }
                    Some(stored) if *stored != recomputed => {
                        divergence = Some(Divergence::LeafMismatch {
                            index,
                            seq: event.seq,
                        })
                    }
                    Some(_) => {}
                }
            }
            tree.push_hash(recomputed);
            next_seq += 1;
        }
    }
    let checkpoints = store.list_checkpoints().await?;
    for c in &checkpoints {
        if divergence.is_some() {
            break;
        }
        divergence = check_checkpoint(&tree, c, verifier);
    }
    Ok(LogCheck {
        leaves: tree.size(),
        checkpoints: checkpoints.len(),
        root: tree.root(),
        divergence,
    })
}

fn check_checkpoint(
    tree: &CompactTree,
    c: &crate::CheckpointRecord,
    verifier: Option<&VerifierKey>,
) -> Option<Divergence> {
    let size = c.tree_size;
    if size > tree.size() {
        return Some(Divergence::CheckpointBeyondLog {
            size,
            leaves: tree.size(),
        });
    }
    match tree.root_at(size) {
        Ok(root) if root == c.root_hash => {}
        _ => return Some(Divergence::CheckpointRoot { size }),
    }
    let note = |reason: String| Some(Divergence::CheckpointNote { size, reason });
    let body = match verifier {
        Some(key) => match tlog::verify_checkpoint(&c.note, key.name(), key.verifying_key()) {
            Ok(cp) => cp,
            Err(e) => return note(e.to_string()),
        },
        None => {
            let text = c.note.split("\n\n").next().unwrap_or_default();
            match tlog::Checkpoint::parse_text(&format!("{text}\n")) {
                Ok(cp) => cp,
                Err(e) => return note(e.to_string()),
            }
        }
    };
    if body.size != size || body.root != c.root_hash {
        return note("the signed note names a different size or root than its row".into());
    }
    None
}

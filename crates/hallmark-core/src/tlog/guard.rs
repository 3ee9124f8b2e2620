//! The log's own witness: never sign a checkpoint inconsistent with one signed before.
//!
//! [`CheckpointGuard`] holds the last checkpoint the node signed (or a verifier last
//! accepted). A candidate `(size, root)` passes only if it extends it: a smaller size is a
//! rollback, the same size with another root is a fork, and a larger size needs a
//! consistency proof from the held checkpoint that verifies. The node asks the guard
//! before every signature and advances it after; an auditor does the same with the
//! checkpoints it fetches, which is how a rewritten log is detected.

use super::checkpoint::{sign_checkpoint, Checkpoint, CheckpointError};
use super::merkle::{empty_root, verify_consistency, Hash, ProofError};
use crate::keys::Signer;

/// Why a candidate checkpoint does not extend the held one.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum GuardError {
    /// The log would shrink.
    #[error("tree size {new} is smaller than the signed size {old}")]
    Rollback {
        /// Held size.
        old: u64,
        /// Candidate size.
        new: u64,
    },
    /// Same size, different root: a forked or rewritten log.
    #[error("tree size {size} already signed with a different root")]
    Fork {
        /// The size both share.
        size: u64,
    },
    /// The consistency proof from the held checkpoint fails.
    #[error("not consistent with the signed checkpoint of size {old}: {source}")]
    Inconsistent {
        /// Held size.
        old: u64,
        /// Why the proof failed.
        source: ProofError,
    },
    /// Encoding or signing the checkpoint failed.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
}

/// Holds the last signed (or accepted) checkpoint and admits only consistent successors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointGuard {
    size: u64,
    root: Hash,
}

impl Default for CheckpointGuard {
    fn default() -> Self {
        Self::empty()
    }
}

impl CheckpointGuard {
    /// Start from a previously signed checkpoint.
    pub fn new(size: u64, root: Hash) -> Self {
        Self { size, root }
    }

    /// Start from the empty log (nothing signed yet).
    pub fn empty() -> Self {
        Self::new(0, empty_root())
    }

    /// The held size.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The held root.
    pub fn root(&self) -> &Hash {
        &self.root
    }

    /// Check that `(new_size, new_root)` extends the held checkpoint, given the consistency
    /// proof between the two sizes (empty when the sizes are equal or the held one is 0).
    pub fn check_next(
        &self,
        new_size: u64,
        new_root: &Hash,
        consistency_proof: &[Hash],
    ) -> Result<(), GuardError> {
        let old = self.size;
        if new_size < old {
            return Err(GuardError::Rollback { old, new: new_size });
        }
        if new_size == old {
            if *new_root != self.root {
                return Err(GuardError::Fork { size: old });
            }
            if !consistency_proof.is_empty() {
                return Err(GuardError::Inconsistent {
                    old,
                    source: ProofError::NonEmptyProofForEqualSizes,
                });
            }
            return Ok(());
        }
        if old == 0 {
            // Every tree extends the empty tree; no proof exists or is needed.
            if !consistency_proof.is_empty() {
                return Err(GuardError::Inconsistent {
                    old,
                    source: ProofError::ProofTooLong,
                });
            }
            return Ok(());
        }
        verify_consistency(old, new_size, &self.root, new_root, consistency_proof)
            .map_err(|source| GuardError::Inconsistent { old, source })
    }

    /// [`check_next`](Self::check_next), then hold the new checkpoint.
    pub fn advance(
        &mut self,
        new_size: u64,
        new_root: Hash,
        consistency_proof: &[Hash],
    ) -> Result<(), GuardError> {
        self.check_next(new_size, &new_root, consistency_proof)?;
        self.size = new_size;
        self.root = new_root;
        Ok(())
    }

    /// The node's only way to sign a checkpoint: check it extends the held one, sign it,
    /// then hold it. Nothing is signed if the check fails.
    pub fn sign_next(
        &mut self,
        checkpoint: &Checkpoint,
        consistency_proof: &[Hash],
        key_name: &str,
        signer: &dyn Signer,
    ) -> Result<String, GuardError> {
        self.check_next(checkpoint.size, &checkpoint.root, consistency_proof)?;
        let note = sign_checkpoint(checkpoint, key_name, signer)?;
        self.size = checkpoint.size;
        self.root = checkpoint.root;
        Ok(note)
    }
}

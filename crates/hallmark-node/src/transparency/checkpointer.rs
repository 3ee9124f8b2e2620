//! The background task that signs checkpoints.
//!
//! One round:
//! 1. read the store's latest checkpoint, then catch the in-memory tree up with the store's
//!    leaves (in that order, so the tree covers that checkpoint);
//! 2. if the stored checkpoint is newer than the one this node holds, *adopt* it: it must be
//!    signed by one of this node's log keys, its note must match its columns, and it must be
//!    consistent with the held checkpoint (or, when none is held yet, its root must be the
//!    root of the node's tree at its size) — otherwise the node refuses to sign anything;
//! 3. if the tree has grown past the held checkpoint, sign a checkpoint of the whole tree
//!    through [`CheckpointGuard::sign_next`] (which verifies a consistency proof from the
//!    held checkpoint first) and store it.
//!
//! **Several nodes on one database.** The leaves are one append-only, totally ordered
//! sequence, so the checkpoint of size `n` is the same `(n, root)` whichever node signs it;
//! with the same log key (nodes sharing a database share their keys) and deterministic
//! Ed25519 even the note is identical. Every node adopts the others' checkpoints only after
//! checking them against its own tree, and a store refusing an insert (a checkpoint of
//! that size or a larger one is already there: the table only grows) is expected, not an
//! error: the node adopts what is stored instead. So any two stored checkpoints are
//! consistent with each other.

use super::keys::{log_signer, trusted_log_keys, LogKeyError};
use super::{
    classify_note, CatchUp, LeafPolicy, LogStatus, SignedCheckpoint, StoredNote, POLL_INTERVAL,
};
use crate::app::AppState;
use crate::integrity::{self, AlarmKind};
use hallmark_core::tlog::event::{Action, Detail, LeafQuarantined};
use hallmark_core::tlog::{Checkpoint, CheckpointGuard, GuardError};
use hallmark_store::{AuditEvent, CheckpointRecord, LeafCheck, StoreError};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use time::OffsetDateTime;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Why a round did not sign.
#[derive(Debug, thiserror::Error)]
enum RoundError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] LogKeyError),
    #[error("{reason}")]
    Refused { tree_size: u64, reason: String },
}

/// How many of the newest stored checkpoints a round looks through for one signed by the
/// node (rows above it can only be inserted ones: sizes only grow and never beyond the log).
pub(crate) const CHECKPOINT_CANDIDATES: u32 = 64;

/// Starts the signer; it stops when `stop` becomes true (or its sender is dropped).
pub fn spawn(app: AppState, mut stop: watch::Receiver<bool>) -> JoinHandle<std::io::Result<()>> {
    tokio::spawn(async move {
        // Changes after every audited write this node's store commits (each appends a leaf).
        let mut committed = app.store.committed();
        let mut signer = Checkpointer { app, guard: None };
        let mut last_round: Option<Instant> = None;
        loop {
            if let Some(t) = last_round {
                tokio::select! {
                    _ = committed_write(&mut committed) => {}
                    _ = tokio::time::sleep(POLL_INTERVAL) => {}
                    _ = stop.wait_for(|s| *s) => break,
                }
                // The batching bound: at most one round per interval.
                let next = t + signer.app.log.interval();
                tokio::select! {
                    _ = tokio::time::sleep_until(next) => {}
                    _ = stop.wait_for(|s| *s) => break,
                }
            }
            last_round = Some(Instant::now());
            signer.round_and_report().await;
        }
        Ok(())
    })
}

/// Waits until the store's writer has committed another audited write. If the writer has
/// stopped, never: the poll still runs.
async fn committed_write(committed: &mut watch::Receiver<u64>) {
    if committed.changed().await.is_err() {
        std::future::pending::<()>().await;
    }
}

struct Checkpointer {
    app: AppState,
    /// The last checkpoint this node signed or adopted; `None` until the first round has
    /// looked at the store.
    guard: Option<CheckpointGuard>,
}

impl Checkpointer {
    async fn round_and_report(&mut self) {
        let status = match self.round().await {
            Ok(()) => match self.app.log.blocked_at() {
                Some(leaf_index) => LogStatus::Blocked {
                    checkpoint_size: self.app.log.latest().map_or(0, |c| c.size),
                    leaf_index,
                },
                None => LogStatus::Ok {
                    checkpoint_size: self.app.log.latest().map_or(0, |c| c.size),
                },
            },
            Err(RoundError::Refused { tree_size, reason }) => {
                LogStatus::Refused { tree_size, reason }
            }
            Err(RoundError::Key(LogKeyError::Unavailable(reason))) => {
                LogStatus::SigningUnavailable { reason }
            }
            Err(e) => LogStatus::Failed {
                reason: e.to_string(),
            },
        };
        self.app.log.set_status(status);
    }

    /// The newest stored checkpoint whose note is signed by one of the node's log keys and
    /// agrees with its row. Rows that are not (inserted by someone holding only database
    /// credentials) are ignored: each is reported once, with an `integrity.alarm` event —
    /// which also gives the log a leaf beyond the ignored row, so the node's next
    /// checkpoint can be stored above it.
    async fn newest_signed(&self) -> Result<Option<CheckpointRecord>, RoundError> {
        let app = &self.app;
        // Almost always the newest row is the node's: read more only when it is not.
        let mut candidates = app.store.latest_checkpoints(1).await?;
        if candidates.is_empty() {
            return Ok(None);
        }
        let keys = trusted_log_keys(app.as_ref()).await;
        let origin = app.log.origin();
        let genuine = |rec: &CheckpointRecord| match classify_note(&rec.note, &keys, origin) {
            StoredNote::Ours(cp) => cp.size == rec.tree_size && cp.root == rec.root_hash,
            _ => false,
        };
        if candidates.first().is_some_and(genuine) {
            return Ok(candidates.pop());
        }
        candidates = app.store.latest_checkpoints(CHECKPOINT_CANDIDATES).await?;
        for rec in candidates {
            if genuine(&rec) {
                return Ok(Some(rec));
            }
            let reason = match classify_note(&rec.note, &keys, origin) {
                StoredNote::OtherOrigin(stored) => origin_changed(&stored, origin),
                _ => "not signed by the node's log key, or disagrees with its row".to_string(),
            };
            let digest = hex::encode(Sha256::digest(rec.note.as_bytes()));
            integrity::alarm(
                app.as_ref(),
                AlarmKind::Checkpoint,
                &format!("checkpoint:{}:{}", rec.tree_size, &digest[..16]),
                &integrity::IgnoredCheckpoint {
                    tree_size: rec.tree_size,
                    note_sha256: &digest,
                    reason: &reason,
                },
            )
            .await;
        }
        Ok(None)
    }

    /// The leaves catch-up may take by hash: those covered by a checkpoint the node holds
    /// or that is signed by its log key, and those written before row authentication.
    async fn catch_up(&self, stored: Option<&CheckpointRecord>) -> Result<CatchUp, RoundError> {
        let app = &self.app;
        let held = self.guard.as_ref().map_or(0, CheckpointGuard::size);
        let first_tagged = app.store.first_tagged_leaf().await?;
        let trusted_below = held
            .max(stored.map_or(0, |c| c.tree_size))
            .max(first_tagged);
        // The quarantine list is read only when it can matter: at start-up and while blocked.
        let quarantined: HashMap<u64, [u8; 32]> =
            if self.guard.is_none() || app.log.blocked_at().is_some() {
                app.store
                    .list_quarantine()
                    .await?
                    .into_iter()
                    .map(|q| (q.leaf_index, q.leaf_hash))
                    .collect()
            } else {
                HashMap::new()
            };
        let policy = LeafPolicy {
            keys: &app.integrity,
            trusted_below,
            quarantined: &quarantined,
        };
        let found = app.log.catch_up(app.store.as_ref(), &policy).await?;
        if let Some(b) = found.blocked {
            let why = match b.check {
                LeafCheck::Mismatch => "its hash does not match its audit event",
                LeafCheck::BadTag => "its tag is not the node's",
                LeafCheck::Untagged => "it has no tag",
                LeafCheck::Authentic => "authentic",
            };
            integrity::alarm(
                app.as_ref(),
                AlarmKind::Leaf,
                &format!("leaf:{}", b.index),
                &integrity::UnauthenticatedLeaf {
                    leaf_index: b.index,
                    leaf_hash: &hex::encode(b.leaf_hash),
                    reason: why,
                },
            )
            .await;
        }
        for (index, hash) in &found.quarantined {
            if found.recorded.contains(index) {
                continue;
            }
            let reason = app
                .store
                .list_quarantine()
                .await?
                .into_iter()
                .find(|q| q.leaf_index == *index)
                .map(|q| q.reason)
                .unwrap_or_default();
            let mut event = AuditEvent::of(
                OffsetDateTime::now_utc(),
                "node",
                Action::LogLeafQuarantined,
            );
            event.subject = Some(format!("leaf:{index}"));
            event.detail = LeafQuarantined::new(*index, hash, reason)
                .to_value()
                .map_err(|e| StoreError::Constraint(e.to_string()))?;
            app.store.append_audit(event).await?;
        }
        Ok(found)
    }

    async fn round(&mut self) -> Result<(), RoundError> {
        let app = std::sync::Arc::clone(&self.app);
        let log = &app.log;
        let stored = self.newest_signed().await?;
        let size = self.catch_up(stored.as_ref()).await?.size;
        if let Some(rec) = stored {
            self.adopt(rec).await?;
        }
        let held = self.guard.as_ref().map_or(0, CheckpointGuard::size);
        let served = log.latest().map_or(0, |c| c.size);
        // Nothing new, and the held checkpoint is stored. (A checkpoint signed but not stored,
        // after a store error, is signed again — the same note — and stored next round.)
        if size == 0 || (size <= held && served >= size) {
            return Ok(());
        }
        if !self.app.signing_available() {
            return Err(
                LogKeyError::Unavailable("the signing backend is unavailable".into()).into(),
            );
        }
        let refused = |reason: String| RoundError::Refused {
            tree_size: size,
            reason,
        };
        let root = log.root_at(size).map_err(|e| refused(e.to_string()))?;
        let proof = log
            .consistency_proof(held, size)
            .map_err(|e| refused(e.to_string()))?;
        let signer = self.app.metrics.signer(
            log_signer(self.app.custody.as_ref())?,
            self.app.custody.backend(),
            hallmark_keys::Purpose::LogCheckpoint,
        );
        let origin = log.origin().to_string();
        let guard = self.guard.get_or_insert_with(CheckpointGuard::empty);
        let note = guard
            .sign_next(&Checkpoint::new(&origin, size, root), &proof, &origin, signer.as_ref())
            .map_err(|e| match e {
                GuardError::Checkpoint(c) => RoundError::Key(LogKeyError::Unavailable(c.to_string())),
                other => refused(format!(
                    "the log in the store is not consistent with the last signed checkpoint: {other}"
                )),
            })?;
        let record = CheckpointRecord {
            tree_size: size,
            root_hash: root,
            note: note.clone(),
            created_at: OffsetDateTime::now_utc(),
        };
        match self.app.store.insert_checkpoint(record).await {
            Ok(()) => {
                log.offer_latest(SignedCheckpoint { size, root, note });
                Ok(())
            }
            // Another node stored this size or a larger one first, or someone inserted a row
            // at or above this size: what this node signed is valid all the same; serve it,
            // and adopt a genuine stored one next round (ignoring the others).
            Err(StoreError::Conflict(_)) => {
                log.offer_latest(SignedCheckpoint { size, root, note });
                match self.newest_signed().await? {
                    Some(rec) => self.adopt(rec).await,
                    None => Ok(()),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Takes a stored checkpoint as the held and served one if it is newer (or the held size
    /// but not yet served: signed here while another node stored it first) and trustworthy.
    async fn adopt(&mut self, rec: CheckpointRecord) -> Result<(), RoundError> {
        let held = self.guard.as_ref().map(CheckpointGuard::size);
        let served = self.app.log.latest().map_or(0, |c| c.size);
        if held.is_some_and(|h| rec.tree_size < h || (rec.tree_size == h && served >= h)) {
            return Ok(());
        }
        let app = std::sync::Arc::clone(&self.app);
        let log = &app.log;
        if rec.tree_size > log.size() {
            // Stored by another node after this round's catch-up: read the leaves it covers.
            self.catch_up(Some(&rec)).await?;
        }
        let tree_size = log.size();
        let refused = |reason: String| RoundError::Refused { tree_size, reason };
        let m = rec.tree_size;
        // Signed by one of this node's log keys (current or retired, not revoked)?
        let keys = trusted_log_keys(app.as_ref()).await;
        let cp = match classify_note(&rec.note, &keys, log.origin()) {
            StoredNote::Ours(cp) => cp,
            StoredNote::OtherOrigin(stored) => {
                return Err(refused(format!(
                    "the stored checkpoint of size {m}: {}",
                    origin_changed(&stored, log.origin())
                )))
            }
            StoredNote::Foreign => {
                return Err(refused(format!(
                    "the stored checkpoint of size {m} is not signed by this node's log key"
                )))
            }
        };
        if cp.size != m || cp.root != rec.root_hash {
            return Err(refused(format!(
                "the stored checkpoint of size {m} does not match its signed note"
            )));
        }
        if m > tree_size {
            return Err(refused(format!(
                "a checkpoint of size {m} is signed but the store holds only {tree_size} leaves"
            )));
        }
        match &mut self.guard {
            None => {
                let root = log.root_at(m).map_err(|e| refused(e.to_string()))?;
                if root != cp.root {
                    return Err(refused(format!(
                        "the store's first {m} leaves do not match the signed checkpoint of \
                         size {m}: the log was rewritten"
                    )));
                }
                self.guard = Some(CheckpointGuard::new(m, cp.root));
            }
            Some(g) => {
                let proof = log
                    .consistency_proof(g.size(), m)
                    .map_err(|e| refused(e.to_string()))?;
                g.advance(m, cp.root, &proof).map_err(|e| {
                    refused(format!(
                        "the stored checkpoint of size {m} is not consistent with the held one: {e}"
                    ))
                })?;
            }
        }
        log.offer_latest(SignedCheckpoint {
            size: m,
            root: cp.root,
            note: rec.note,
        });
        Ok(())
    }
}

/// What the node says of a checkpoint signed by its log key for another origin.
fn origin_changed(stored: &str, configured: &str) -> String {
    format!(
        "the log's origin changed from {stored:?} to {configured:?} (the public base URL \
         changed): signed by the node's log key for {stored:?}"
    )
}

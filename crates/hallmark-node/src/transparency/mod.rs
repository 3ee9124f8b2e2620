//! The node's transparency log: the in-memory tree over the store's leaves, the checkpoint
//! signer, and what the public log endpoints read (auditor guide: `docs/transparency-log.md`).
//!
//! - [`TransparencyLog`] holds a [`CompactTree`] of every leaf hash (rebuilt from the store at
//!   start-up, then extended incrementally: each catch-up reads only the leaves after the
//!   ones it holds), the latest checkpoint this node trusts (signed by it or by a sibling
//!   node sharing the database, verified with the log key either way), and the signer's
//!   status. Proofs are computed from the tree in `O(log n)` without touching the store.
//!   Memory: the compact tree keeps every perfect subtree, about `2n` hashes — 64 MiB at
//!   one million leaves.
//! - [`checkpointer`] is the background task that signs checkpoints with the log-checkpoint
//!   key (never the passport key), through [`hallmark_core::tlog::CheckpointGuard`].
//!   It is woken by the store's own writer: [`Store::committed`] changes after every commit
//!   of an audited write (each appends a leaf).
//! - [`keys`] finds, creates and uses the log-checkpoint key on either signing backend.
//!
//! **Batching bound.** The task runs at most one signing round per *checkpoint interval*
//! (`HALLMARK_CHECKPOINT_INTERVAL_MS`, default 1000 ms). A write by this node wakes it: if
//! no round ran during the last interval, the new leaf is signed immediately; otherwise at
//! the end of the current interval. So every leaf this node writes is covered by a signed
//! checkpoint within one interval (plus the time to sign and store it), and the node signs
//! at most one checkpoint per interval. Leaves written by other nodes on the same database
//! are picked up by polling every [`POLL_INTERVAL`].

pub mod checkpointer;
pub mod keys;

use crate::integrity::Sources;
use ed25519_dalek::VerifyingKey;
use hallmark_core::integrity::IntegrityKeys;
use hallmark_core::tlog::event::{Action, Detail, LeafQuarantined};
use hallmark_core::tlog::{
    open_note, Checkpoint, CompactTree, Hash, HashSource, ProofError, VerifierKey,
};
use hallmark_store::{LeafCheck, Store, StoreError};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;
use tokio::sync::watch;

/// Default interval between two checkpoint signatures of one node.
pub const DEFAULT_CHECKPOINT_INTERVAL: Duration = Duration::from_millis(1000);
/// Shortest checkpoint interval accepted.
pub const MIN_CHECKPOINT_INTERVAL: Duration = Duration::from_millis(10);
/// Longest checkpoint interval accepted.
pub const MAX_CHECKPOINT_INTERVAL: Duration = Duration::from_secs(3600);
/// How often the signer looks for leaves written by other nodes sharing the database.
pub const POLL_INTERVAL: Duration = Duration::from_secs(5);
/// Most entries one `GET …/log/entries?start=&end=` returns.
pub const MAX_ENTRIES: u64 = 256;
/// Leaf hashes read from the store per query when catching up.
const CATCH_UP_BATCH: u32 = 10_000;

/// Whether the leaf of an audit event with this action is served publicly
/// (`hallmark_core::tlog::event::Action::is_public`). Every other leaf (drafts,
/// authentication failures and throttles with client addresses, API keys and their labels,
/// anything unknown) is *withheld*: its leaf hash is served, so the tree stays checkable,
/// but not its bytes. Unknown actions are withheld (fail closed).
pub use hallmark_core::tlog::event::is_public_action;

/// The log's name (checkpoint origin and log-key name) for a public base URL:
/// `<host>[:port][/path]/log`, e.g. `passports.example.com/log` for
/// `https://passports.example.com`. The log's endpoints live under that path.
pub fn origin_for(base_url: &str) -> Result<String, String> {
    let rest = base_url
        .split_once("://")
        .map(|(_, r)| r)
        .ok_or_else(|| format!("{base_url}: not an absolute URL"))?;
    let origin = format!("{}/log", rest.trim_end_matches('/'));
    // The origin names the log key (signed-note key names have no space and no '+') and is
    // the first line of every checkpoint (no control character).
    if origin.contains('+') || origin.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "{base_url}: the log name {origin:?} cannot name a signed-note key (no spaces, no '+')"
        ));
    }
    Ok(origin)
}

/// What a stored checkpoint note is to this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredNote {
    /// A checkpoint of the node's origin, signed by one of its log keys.
    Ours(Checkpoint),
    /// Signed by one of the node's log keys, but for another origin: the log was kept
    /// under another public base URL.
    OtherOrigin(String),
    /// Not signed by any of the node's log keys (inserted by someone else).
    Foreign,
}

/// Opens a stored checkpoint note with the node's log keys (`keys`), as a checkpoint of
/// `origin` or, failing that, of the origin its first line names.
pub fn classify_note(note: &str, keys: &[VerifyingKey], origin: &str) -> StoredNote {
    let opened = |name: &str| {
        keys.iter()
            .filter_map(|k| VerifierKey::new(name, *k).ok())
            .find_map(|vk| open_note(note, &vk).ok())
            .and_then(|text| Checkpoint::parse_text(&text).ok())
            .filter(|cp| cp.origin == name)
    };
    if let Some(cp) = opened(origin) {
        return StoredNote::Ours(cp);
    }
    match note.lines().next() {
        Some(named) if named != origin && opened(named).is_some() => {
            StoredNote::OtherOrigin(named.to_string())
        }
        _ => StoredNote::Foreign,
    }
}

/// The origin of the newest stored checkpoint signed by this node's log key, when it is
/// not the node's origin (the public base URL changed); `None` when it is, or no
/// checkpoint is the node's (`origin`, the log's name). Reads only.
pub async fn stored_origin(
    app: &(impl Sources + ?Sized),
    origin: &str,
) -> Result<Option<String>, StoreError> {
    let stored = app
        .store()
        .latest_checkpoints(checkpointer::CHECKPOINT_CANDIDATES)
        .await?;
    if stored.is_empty() {
        return Ok(None);
    }
    let keys = keys::trusted_log_keys(app).await;
    for rec in stored {
        match classify_note(&rec.note, &keys, origin) {
            StoredNote::Ours(_) => return Ok(None),
            StoredNote::OtherOrigin(o) => return Ok(Some(o)),
            StoredNote::Foreign => {}
        }
    }
    Ok(None)
}

/// The audit action the node records when it signs over a quarantined leaf.
pub const QUARANTINE_ACTION: &str = Action::LogLeafQuarantined.as_str();

/// What [`TransparencyLog::catch_up`] accepts.
#[derive(Debug)]
pub struct LeafPolicy<'a> {
    /// The node's row-authentication keys.
    pub keys: &'a IntegrityKeys,
    /// Leaves below this index are taken by hash.
    pub trusted_below: u64,
    /// Leaves the operator quarantined: index → stored hash.
    pub quarantined: &'a HashMap<u64, Hash>,
}

/// A leaf the tree stopped before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockedLeaf {
    /// Its index.
    pub index: u64,
    /// Its stored hash.
    pub leaf_hash: Hash,
    /// What was wrong.
    pub check: LeafCheck,
}

/// What one catch-up found.
#[derive(Debug, Default)]
pub struct CatchUp {
    /// The tree's size afterwards.
    pub size: u64,
    /// The leaf it stopped before, if any.
    pub blocked: Option<BlockedLeaf>,
    /// Quarantined leaves taken into the tree (index, stored hash).
    pub quarantined: Vec<(u64, Hash)>,
    /// Quarantines already recorded by a `log.leaf-quarantined` event among the leaves read.
    pub recorded: HashSet<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: Hash,
    /// The signed note, as served.
    pub note: String,
}

/// What the checkpoint signer last did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogStatus {
    /// No round has finished yet.
    Starting,
    /// The last round succeeded; the latest trusted checkpoint has this size.
    Ok {
        /// Size of the latest checkpoint.
        checkpoint_size: u64,
    },
    /// Signing is not possible now (HSM unavailable, no current log key); retried.
    SigningUnavailable {
        /// Why.
        reason: String,
    },
    /// The signer refuses: the store's leaves contradict a checkpoint signed with the log
    /// key (a rewritten log). Nothing is signed until an operator repairs the store; the
    /// last trusted checkpoint is still served. (A stored checkpoint *not* signed with the
    /// log key is ignored and reported, never obeyed: `crate::integrity`.)
    Refused {
        /// The tree size the signer holds (from the store's leaves).
        tree_size: u64,
        /// Why.
        reason: String,
    },
    /// A store error; retried.
    Failed {
        /// Why (logged; not served).
        reason: String,
    },
    /// Checkpoints are signed, but only up to a leaf the node did not write (wrong hash or
    /// tag): nothing from it on is signed over or served until the operator quarantines it
    /// (`hallmark log quarantine`, docs/transparency-log.md).
    Blocked {
        /// Size of the latest checkpoint.
        checkpoint_size: u64,
        /// The leaf the log stops before.
        leaf_index: u64,
    },
}

impl LogStatus {
    /// Short name for `/health`.
    pub fn as_str(&self) -> &'static str {
        match self {
            LogStatus::Starting => "starting",
            LogStatus::Ok { .. } => "ok",
            LogStatus::SigningUnavailable { .. } => "signing-unavailable",
            LogStatus::Refused { .. } => "refused",
            LogStatus::Failed { .. } => "failed",
            LogStatus::Blocked { .. } => "blocked",
        }
    }
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(PoisonError::into_inner)
}

/// The node's view of its transparency log.
#[derive(Debug)]
pub struct TransparencyLog {
    origin: String,
    tree: RwLock<CompactTree>,
    catch_up: tokio::sync::Mutex<()>,
    latest: watch::Sender<Option<Arc<SignedCheckpoint>>>,
    status: RwLock<LogStatus>,
    interval_ms: AtomicU64,
    blocked: RwLock<Option<u64>>,
    /// When the latest checkpoint was taken (signed or adopted), or when this view was
    /// created before the first.
    latest_at: RwLock<std::time::Instant>,
}

impl TransparencyLog {
    /// An empty view of the log named `origin` (see [`origin_for`]).
    pub fn new(origin: String) -> Self {
        TransparencyLog {
            origin,
            tree: RwLock::new(CompactTree::new()),
            catch_up: tokio::sync::Mutex::new(()),
            latest: watch::Sender::new(None),
            status: RwLock::new(LogStatus::Starting),
            interval_ms: AtomicU64::new(duration_ms(DEFAULT_CHECKPOINT_INTERVAL)),
            blocked: RwLock::new(None),
            latest_at: RwLock::new(std::time::Instant::now()),
        }
    }

    /// The log's name: checkpoint origin and log-key name.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Sets the checkpoint interval (clamped to [`MIN_CHECKPOINT_INTERVAL`] ..=
    /// [`MAX_CHECKPOINT_INTERVAL`]).
    pub fn set_interval(&self, interval: Duration) {
        let d = interval.clamp(MIN_CHECKPOINT_INTERVAL, MAX_CHECKPOINT_INTERVAL);
        self.interval_ms.store(duration_ms(d), Ordering::Relaxed);
    }

    /// The checkpoint interval.
    pub fn interval(&self) -> Duration {
        Duration::from_millis(self.interval_ms.load(Ordering::Relaxed))
    }

    /// The latest checkpoint this node trusts, if any.
    pub fn latest(&self) -> Option<Arc<SignedCheckpoint>> {
        self.latest.borrow().clone()
    }

    /// Waits until the latest trusted checkpoint covers at least `size` leaves (callers bound
    /// the wait with a timeout). `None` if the log is dropped first.
    pub async fn wait_for_size(&self, size: u64) -> Option<Arc<SignedCheckpoint>> {
        let mut rx = self.latest.subscribe();
        let r = rx
            .wait_for(|cp| cp.as_ref().is_some_and(|c| c.size >= size))
            .await
            .ok()?;
        r.clone()
    }

    /// What the signer last did.
    pub fn status(&self) -> LogStatus {
        read(&self.status).clone()
    }

    pub(crate) fn set_status(&self, status: LogStatus) {
        let mut s = write(&self.status);
        if *s != status {
            match &status {
                LogStatus::Ok { checkpoint_size } => {
                    tracing::info!(
                        size = checkpoint_size,
                        "transparency log: checkpoints signed"
                    )
                }
                LogStatus::Refused { tree_size, reason } => tracing::error!(
                    tree_size,
                    %reason,
                    "transparency log: REFUSING to sign checkpoints"
                ),
                LogStatus::SigningUnavailable { reason } => {
                    tracing::warn!(%reason, "transparency log: cannot sign checkpoints")
                }
                LogStatus::Failed { reason } => {
                    tracing::error!(%reason, "transparency log: signing round failed")
                }
                LogStatus::Blocked { leaf_index, .. } => tracing::error!(
                    leaf_index,
                    "transparency log: a leaf the node did not write stops the log; see `hallmark log quarantine`"
                ),
                LogStatus::Starting => {}
            }
        }
        *s = status;
    }

    /// Makes `cp` the latest trusted checkpoint if it is newer than the one held.
    pub(crate) fn offer_latest(&self, cp: SignedCheckpoint) {
        let taken = self.latest.send_if_modified(|held| {
            if held.as_ref().is_some_and(|h| h.size >= cp.size) {
                return false;
            }
            *held = Some(Arc::new(cp));
            true
        });
        if taken {
            *write(&self.latest_at) = std::time::Instant::now();
        }
    }

    /// Time since this node took its latest checkpoint (signed or adopted), or since this
    /// view was created when it has none (`hallmark_log_checkpoint_age_seconds`).
    pub fn checkpoint_age(&self) -> Duration {
        read(&self.latest_at).elapsed()
    }

    /// Number of leaves in the in-memory tree.
    pub fn size(&self) -> u64 {
        read(&self.tree).size()
    }
    /// Extends the in-memory tree with the store's leaves after the ones it holds, and
    /// answers what it found. Leaves below `policy.trusted_below` are taken by hash (a
    /// checkpoint signed with the log key covers them — its root is compared afterwards —
    /// or they predate row authentication); every later leaf must match its audit event and
    /// carry the node's tag, or be quarantined by the operator with its stored hash. The
    /// tree stops before the first leaf that is neither: nothing after it is ever signed
    /// over or served until the operator quarantines it.
    pub async fn catch_up(
        &self,
        store: &dyn Store,
        policy: &LeafPolicy<'_>,
    ) -> Result<CatchUp, StoreError> {
        let _one_at_a_time = self.catch_up.lock().await;
        let mut out = CatchUp::default();
        loop {
            let from = self.size();
            if from < policy.trusted_below {
                let want =
                    u32::try_from((policy.trusted_below - from).min(u64::from(CATCH_UP_BATCH)))
                        .unwrap_or(CATCH_UP_BATCH);
                let batch = store.list_leaf_hashes(from, want).await?;
                let n = batch.len();
                self.push(from, batch)?;
                if n < want as usize {
                    break;
                }
                continue;
            }
            // Blocked here last time: look at that one leaf before reading a whole batch.
            let limit = if self.blocked_at() == Some(from) {
                1
            } else {
                CATCH_UP_BATCH
            };
            let leaves = store.list_leaves(from, limit).await?;
            let n = leaves.len();
            let mut accepted = Vec::with_capacity(n);
            let mut blocked = None;
            for leaf in &leaves {
                let check = leaf.check(policy.keys);
                if check != LeafCheck::Authentic {
                    if policy.quarantined.get(&leaf.index) == Some(&leaf.leaf_hash) {
                        out.quarantined.push((leaf.index, leaf.leaf_hash));
                    } else {
                        blocked = Some(BlockedLeaf {
                            index: leaf.index,
                            leaf_hash: leaf.leaf_hash,
                            check,
                        });
                        break;
                    }
                } else if leaf.event.event.known_action() == Some(Action::LogLeafQuarantined) {
                    if let Ok(q) = LeafQuarantined::from_value(&leaf.event.event.detail) {
                        out.recorded.insert(q.leaf_index);
                    }
                }
                accepted.push(leaf.leaf_hash);
            }
            self.push(from, accepted)?;
            *write(&self.blocked) = blocked.as_ref().map(|b| b.index);
            if blocked.is_some() {
                out.blocked = blocked;
                break;
            }
            if n < limit as usize {
                break;
            }
        }
        out.size = self.size();
        Ok(out)
    }

    fn push(&self, from: u64, hashes: Vec<Hash>) -> Result<(), StoreError> {
        let mut tree = write(&self.tree);
        if tree.size() != from {
            return Err(StoreError::Corrupt(
                "the in-memory log changed during a catch-up".into(),
            ));
        }
        for h in hashes {
            tree.push_hash(h);
        }
        Ok(())
    }

    /// The index of the leaf the tree stopped before, if it did.
    pub fn blocked_at(&self) -> Option<u64> {
        *read(&self.blocked)
    }

    pub fn root_at(&self, size: u64) -> Result<Hash, ProofError> {
        read(&self.tree).root_at(size)
    }

    /// The hash of leaf `index`, if the tree has it.
    pub fn leaf_hash(&self, index: u64) -> Option<Hash> {
        let tree = read(&self.tree);
        (index < tree.size()).then(|| tree.leaf(index))
    }

    /// Inclusion proof of leaf `index` in the tree of size `size`.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
        read(&self.tree).inclusion_proof(index, size)
    }

    /// Consistency proof between sizes `old` and `new` (empty when `old` is 0 or equal).
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, ProofError> {
        if old == 0 || old == new {
            // Checked against the tree all the same, so a size beyond it is still an error.
            read(&self.tree).root_at(new)?;
            return Ok(Vec::new());
        }
        read(&self.tree).consistency_proof(old, new)
    }
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn origin_is_host_and_path_plus_log() {
        assert_eq!(
            origin_for("https://passports.example.com").unwrap(),
            "passports.example.com/log"
        );
        assert_eq!(
            origin_for("https://example.com/dpp/").unwrap(),
            "example.com/dpp/log"
        );
        assert_eq!(
            origin_for("http://localhost:8080").unwrap(),
            "localhost:8080/log"
        );
        assert!(origin_for("https://example.com/a+b").is_err());
        assert!(origin_for("example.com").is_err());
    }

    #[test]
    fn only_listed_actions_are_public_and_unknown_ones_are_withheld() {
        for a in [
            "passport.published",
            "node.started",
            "signing-key.registered",
        ] {
            assert!(is_public_action(a), "{a}");
        }
        for a in [
            "auth.failed",
            "auth.throttled",
            "rate.limited",
            "auth.admin-login",
            "api-key.created",
            "passport.draft-created",
            "passport.draft-updated",
            "passport.version-started",
            "something.new",
        ] {
            assert!(!is_public_action(a), "{a}");
        }
    }

    #[test]
    fn interval_is_clamped() {
        let log = TransparencyLog::new("x/log".into());
        assert_eq!(log.interval(), DEFAULT_CHECKPOINT_INTERVAL);
        log.set_interval(Duration::ZERO);
        assert_eq!(log.interval(), MIN_CHECKPOINT_INTERVAL);
        log.set_interval(Duration::from_secs(86_400));
        assert_eq!(log.interval(), MAX_CHECKPOINT_INTERVAL);
    }

    #[test]
    fn latest_only_moves_forward() {
        let log = TransparencyLog::new("x/log".into());
        let cp = |size| SignedCheckpoint {
            size,
            root: [0; 32],
            note: String::new(),
        };
        log.offer_latest(cp(5));
        log.offer_latest(cp(3));
        assert_eq!(log.latest().unwrap().size, 5);
        log.offer_latest(cp(9));
        assert_eq!(log.latest().unwrap().size, 9);
    }
}

#[cfg(test)]
mod origin_tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::{classify_note, StoredNote};
    use ed25519_dalek::SigningKey;
    use hallmark_core::tlog::{sign_checkpoint, Checkpoint};

    /// A checkpoint signed by the node's key for another origin is a changed origin, named;
    /// one signed by another key is foreign, whatever its origin.
    #[test]
    fn a_note_signed_for_another_origin_is_told_from_a_foreign_one() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let old = "dpp.example.com/log";
        let cp = Checkpoint::new(old, 5, [9; 32]);
        let note = sign_checkpoint(&cp, old, &key).unwrap();
        let keys = [key.verifying_key()];
        assert_eq!(classify_note(&note, &keys, old), StoredNote::Ours(cp));
        assert_eq!(
            classify_note(&note, &keys, "passports.example.org/log"),
            StoredNote::OtherOrigin(old.to_string())
        );
        let stranger = [SigningKey::from_bytes(&[4; 32]).verifying_key()];
        assert_eq!(
            classify_note(&note, &stranger, "passports.example.org/log"),
            StoredNote::Foreign
        );
        assert_eq!(classify_note(&note, &stranger, old), StoredNote::Foreign);
    }
}

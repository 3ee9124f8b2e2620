//! What the node found when it verified a published version for people to read (the
//! consumer page): the credential, the named checks of its signature and of its entry in the
//! transparency log. Built by `Service::public_passport`, kept per version in
//! [`EvidenceCache`], and the rendered pages in [`PageCache`].
//!
//! The evidence holds the checks and the SHA-256 of the bytes they were run on, not the
//! credential itself: an entry is about 2 KB, so the default bound holds the evidence of
//! some 16,000 versions and a version's signature is verified about once. The page, when it
//! renders, takes the credential's bytes again (the read cache or the store) and uses them
//! only if they hash to what was verified (`Service::public_credential`).
//!
//! A version's bytes never change, so its signature checks never go stale; its log entry
//! does, once: from pending (not yet under a signed checkpoint) to included. An entry whose
//! log evidence is pending is rebuilt once the latest checkpoint covers its leaf
//! ([`Evidence::is_current`]).

use axum::body::Bytes;
use hallmark_core::passport::PassportId;
use hallmark_core::verify::Check;
use std::sync::Arc;

/// A published version as verified on the server.
#[derive(Debug)]
pub struct Evidence {
    /// SHA-256 of the public credential's bytes (Data Integrity form) the checks were run on.
    pub credential_sha256: [u8; 32],
    /// The checks of `hallmark_core::verify` (signature, DID, dates…), all passed: a
    /// version that does not verify is withheld, never shown.
    pub signature: Vec<Check>,
    /// The verification method that signed.
    pub verification_method: Option<String>,
    /// The publication's entry in the transparency log.
    pub log: LogEvidence,
    /// The log key it was checked with (signed-note verifier key), once checked.
    pub log_key: Option<String>,
    /// Approximate bytes held (the cache's weight).
    pub weight: u64,
}

/// The publication's entry in the transparency log, as checked on the server.
#[derive(Debug)]
pub enum LogEvidence {
    /// Under the latest signed checkpoint: the named checks of
    /// `hallmark_core::tlog::evidence::check_logged_credential` (pass or fail).
    Checked {
        /// The leaf's index.
        leaf_index: u64,
        /// The checkpoint's tree size.
        tree_size: u64,
        /// The checks.
        checks: Vec<Check>,
    },
    /// Logged, but no signed checkpoint covers the leaf yet.
    Pending {
        /// The leaf's index.
        leaf_index: u64,
    },
    /// No publish event found for this version (a store written before the log), or no
    /// log key to check against.
    Unknown,
}

impl LogEvidence {
    /// Whether every check passed (false while pending or unknown).
    pub fn passed(&self) -> bool {
        matches!(self, LogEvidence::Checked { checks, .. }
            if !checks.is_empty() && checks.iter().all(|c| matches!(c.outcome, hallmark_core::verify::Outcome::Pass(_))))
    }

    /// The leaf index, when known.
    pub fn leaf_index(&self) -> Option<u64> {
        match self {
            LogEvidence::Checked { leaf_index, .. } | LogEvidence::Pending { leaf_index } => {
                Some(*leaf_index)
            }
            LogEvidence::Unknown => None,
        }
    }
}

impl Evidence {
    /// Whether this evidence still stands given the latest checkpoint's tree size: pending
    /// evidence goes stale once a checkpoint covers its leaf.
    pub fn is_current(&self, checkpoint_size: Option<u64>) -> bool {
        match self.log {
            LogEvidence::Pending { leaf_index } => checkpoint_size.is_none_or(|s| s <= leaf_index),
            _ => true,
        }
    }
}

#[derive(Clone)]
struct Weight;

impl quick_cache::Weighter<(PassportId, u32), Arc<Evidence>> for Weight {
    fn weight(&self, _key: &(PassportId, u32), val: &Arc<Evidence>) -> u64 {
        val.weight.max(1)
    }
}

impl quick_cache::Weighter<PageKey, Bytes> for Weight {
    fn weight(&self, _key: &PageKey, val: &Bytes) -> u64 {
        val.len() as u64 + 128
    }
}

/// The default bound of each cache: 32 MiB.
pub const DEFAULT_BYTES: u64 = 32 * 1024 * 1024;

/// Verified versions by (passport, version), bounded in bytes.
pub struct EvidenceCache(quick_cache::sync::Cache<(PassportId, u32), Arc<Evidence>, Weight>);

impl EvidenceCache {
    /// A cache of at most `max_bytes` (approximately).
    pub fn new(max_bytes: u64) -> Self {
        let items = usize::try_from(max_bytes / 20_000).unwrap_or(1024).max(16);
        EvidenceCache(quick_cache::sync::Cache::with_weighter(
            items, max_bytes, Weight,
        ))
    }

    /// The evidence of a version, if held.
    pub fn get(&self, id: &PassportId, version: u32) -> Option<Arc<Evidence>> {
        self.0.get(&(*id, version))
    }

    /// Remembers the evidence of a version.
    pub fn insert(&self, id: PassportId, version: u32, evidence: Arc<Evidence>) {
        self.0.insert((id, version), evidence);
    }
}

/// What a rendered page depends on: the version, the language, and the passport's state
/// (status, current version — the history links —, whether the log entry was checked).
/// The status reason is not part of it: pages with data are cached only for statuses whose
/// reason never changes afterwards (published shows none; archived and deactivated are
/// terminal).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    /// The passport.
    pub id: PassportId,
    /// The version shown.
    pub version: u32,
    /// Whether the URL named the version (links and caching differ).
    pub pinned: bool,
    /// The language tag (`en`, `de`, `fr`).
    pub lang: &'static str,
    /// The passport's status.
    pub status: &'static str,
    /// Its current version.
    pub current_version: u32,
    /// Whether the log evidence was checked (not pending).
    pub log_checked: bool,
}

/// Rendered pages by [`PageKey`], bounded in bytes.
pub struct PageCache(quick_cache::sync::Cache<PageKey, Bytes, Weight>);

impl PageCache {
    /// A cache of at most `max_bytes` (approximately).
    pub fn new(max_bytes: u64) -> Self {
        let items = usize::try_from(max_bytes / 30_000).unwrap_or(1024).max(16);
        PageCache(quick_cache::sync::Cache::with_weighter(
            items, max_bytes, Weight,
        ))
    }

    /// A rendered page, if held.
    pub fn get(&self, key: &PageKey) -> Option<Bytes> {
        self.0.get(key)
    }

    /// Remembers a rendered page.
    pub fn insert(&self, key: PageKey, page: Bytes) {
        self.0.insert(key, page);
    }
}

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
use std::sync::atomic::{AtomicU64, Ordering};
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

/// The default bound of the evidence cache: 32 MiB.
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

    /// Drops every entry (tests: what is verified again).
    pub fn clear(&self) {
        self.0.clear();
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
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
    /// The EU DPP registry's registration id of the version shown, if recorded.
    pub registration: Option<String>,
}

/// Rendered pages by [`PageKey`], bounded in bytes, held gzip-compressed (a page of about
/// 11 KB weighs about 3 KB, so a bound holds some four times as many pages, and a client
/// that accepts gzip — every browser — gets the held bytes as they are). The bound is
/// `HALLMARK_PAGE_CACHE_MB` ([`PageCache::resize`]; 0 turns the cache off). Counts its hits
/// and misses ([`PageCache::stats`]), logged when the node stops.
pub struct PageCache {
    inner: std::sync::RwLock<Option<Arc<PageMap>>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

type PageMap = quick_cache::sync::Cache<PageKey, Bytes, Weight>;

/// The default bound of the page cache: 128 MiB (about 40,000 pages).
pub const DEFAULT_PAGE_BYTES: u64 = 128 * 1024 * 1024;

fn page_map(max_bytes: u64) -> Option<Arc<PageMap>> {
    (max_bytes > 0).then(|| {
        let items = usize::try_from(max_bytes / 3_000).unwrap_or(1024).max(16);
        Arc::new(quick_cache::sync::Cache::with_weighter(
            items, max_bytes, Weight,
        ))
    })
}

/// What [`PageCache::stats`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageCacheStats {
    /// Pages served from the cache.
    pub hits: u64,
    /// Pages rendered because the cache did not hold them.
    pub misses: u64,
    /// Pages held.
    pub pages: u64,
    /// Bytes held (compressed pages and their keys' share).
    pub bytes: u64,
}

impl PageCache {
    /// A cache of at most `max_bytes` (approximately) of compressed pages; 0: off.
    pub fn new(max_bytes: u64) -> Self {
        PageCache {
            inner: std::sync::RwLock::new(page_map(max_bytes)),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Starts again with a bound of `max_bytes` (0: off), empty.
    pub fn resize(&self, max_bytes: u64) {
        let mut g = match self.inner.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        *g = page_map(max_bytes);
    }

    fn current(&self) -> Option<Arc<PageMap>> {
        match self.inner.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// A rendered page (gzip), if held; counted as a hit or a miss.
    pub fn get(&self, key: &PageKey) -> Option<Bytes> {
        let page = self.current().and_then(|c| c.get(key));
        let counter = if page.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        page
    }

    /// Remembers a rendered page (gzip).
    pub fn insert(&self, key: PageKey, gzip: Bytes) {
        if let Some(c) = self.current() {
            c.insert(key, gzip);
        }
    }

    /// Hits, misses and what is held.
    pub fn stats(&self) -> PageCacheStats {
        let (pages, bytes) = self
            .current()
            .map_or((0, 0), |c| (c.len() as u64, c.weight()));
        PageCacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            pages,
            bytes,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn key(n: u32) -> PageKey {
        PageKey {
            id: PassportId::from_parts(1_700_000_000_000, [n as u8; 10]).unwrap(),
            version: 1,
            pinned: false,
            lang: "en",
            status: "published",
            current_version: 1,
            log_checked: true,
            registration: None,
        }
    }

    #[test]
    fn the_page_cache_counts_hits_and_misses_and_can_be_turned_off() {
        let c = PageCache::new(1024 * 1024);
        assert!(c.get(&key(1)).is_none());
        c.insert(key(1), Bytes::from_static(b"gz"));
        assert_eq!(c.get(&key(1)).unwrap(), Bytes::from_static(b"gz"));
        let s = c.stats();
        assert_eq!((s.hits, s.misses, s.pages), (1, 1, 1));
        assert!(s.bytes >= 2);
        c.resize(0);
        c.insert(key(1), Bytes::from_static(b"gz"));
        assert!(c.get(&key(1)).is_none());
        assert_eq!(c.stats().pages, 0);
    }
}

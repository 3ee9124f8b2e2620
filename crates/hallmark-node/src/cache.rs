//! In-memory caches of the public read path.
//!
//! - [`CredentialCache`]: the served bytes of published versions. A published version is
//!   immutable (the database refuses to change it), and so is the audit event that
//!   published it, so an entry never goes stale and needs no invalidation — only a bound
//!   (bytes, least-recently-used eviction by `quick_cache`). What may change — a passport's
//!   status and current version — is still read from the store on every request.
//! - [`DidDocumentCache`]: the DID document's bytes, dropped when this node changes a key
//!   and re-read at least every [`DID_DOCUMENT_TTL`] (another node sharing the database may
//!   rotate a key).

use axum::body::Bytes;
use axum::http::HeaderValue;
use hallmark_core::passport::PassportId;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Which signed form of the public credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Form {
    /// The Data Integrity JSON bytes.
    DataIntegrity,
    /// The compact `vc+jwt`.
    Jwt,
}

impl Form {
    /// Its name in integrity alarms: `data-integrity` or `jwt`.
    pub fn label(self) -> &'static str {
        match self {
            Form::DataIntegrity => "data-integrity",
            Form::Jwt => "jwt",
        }
    }
}

/// One cached public credential form.
#[derive(Debug)]
pub struct Cached {
    /// The stored bytes, exactly as issued.
    pub bytes: Bytes,
    /// `"<hex SHA-256 of bytes>"`.
    pub etag: HeaderValue,
    /// The response headers that point at the log leaf of the event that published this
    /// version (built once; empty if that event is unknown).
    pub log_headers: Vec<(axum::http::HeaderName, HeaderValue)>,
}

type Key = (PassportId, u32, Form);

#[derive(Clone)]
struct ByteWeighter;

impl quick_cache::Weighter<Key, Arc<Cached>> for ByteWeighter {
    fn weight(&self, _key: &Key, val: &Arc<Cached>) -> u64 {
        // Bytes plus a fixed allowance for the entry itself; never zero.
        val.bytes.len() as u64 + 256
    }
}

type Inner = quick_cache::sync::Cache<Key, Arc<Cached>, ByteWeighter>;

/// The default bound of [`CredentialCache`]: 64 MiB (about 13,000 public credentials).
pub const DEFAULT_CREDENTIAL_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// Bounded cache of published credential bytes, keyed by (passport, version, form).
pub struct CredentialCache {
    inner: std::sync::RwLock<Option<Arc<Inner>>>,
    /// Look-ups answered from the cache (`hallmark_read_cache_hits_total`).
    hits: std::sync::atomic::AtomicU64,
    /// Look-ups that were not (`hallmark_read_cache_misses_total`; every look-up while the
    /// cache is off).
    misses: std::sync::atomic::AtomicU64,
}

/// A cache's hit and miss counts since start-up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HitCounts {
    /// Look-ups answered from the cache.
    pub hits: u64,
    /// Look-ups that were not.
    pub misses: u64,
}

fn build(max_bytes: u64) -> Option<Arc<Inner>> {
    if max_bytes == 0 {
        return None;
    }
    // quick_cache sizes its tables from an item estimate: ~5 KB per credential.
    let estimated = usize::try_from((max_bytes / 5_000).max(16)).unwrap_or(usize::MAX);
    Some(Arc::new(quick_cache::sync::Cache::with_weighter(
        estimated,
        max_bytes,
        ByteWeighter,
    )))
}

impl CredentialCache {
    /// A cache holding at most `max_bytes` (0 disables it).
    pub fn new(max_bytes: u64) -> Self {
        CredentialCache {
            inner: std::sync::RwLock::new(build(max_bytes)),
            hits: std::sync::atomic::AtomicU64::new(0),
            misses: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Replaces the cache with an empty one bounded by `max_bytes` (0 disables it); used
    /// once at start-up with the configured bound.
    pub fn resize(&self, max_bytes: u64) {
        let mut g = match self.inner.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        *g = build(max_bytes);
    }

    fn current(&self) -> Option<Arc<Inner>> {
        match self.inner.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// The cached form, if present (counted as a hit or a miss).
    pub fn get(&self, id: &PassportId, version: u32, form: Form) -> Option<Arc<Cached>> {
        let found = self.current().and_then(|c| c.get(&(*id, version, form)));
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        found
    }

    /// Hits and misses since start-up (for metrics).
    pub fn counts(&self) -> HitCounts {
        HitCounts {
            hits: self.hits.load(std::sync::atomic::Ordering::Relaxed),
            misses: self.misses.load(std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// Remembers a form (immutable once published, so never invalidated).
    pub fn insert(&self, id: PassportId, version: u32, form: Form, value: Arc<Cached>) {
        if let Some(c) = self.current() {
            c.insert((id, version, form), value);
        }
    }

    /// Bytes currently held (for tests and metrics).
    pub fn weight(&self) -> u64 {
        self.current().map_or(0, |c| c.weight())
    }
}

/// How long a node serves its cached DID document before re-reading the keys.
pub const DID_DOCUMENT_TTL: Duration = Duration::from_secs(1);

/// The DID document's serialised bytes, with a short lifetime.
#[derive(Default)]
pub struct DidDocumentCache {
    slot: Mutex<Option<(Instant, Bytes)>>,
}

impl DidDocumentCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(Instant, Bytes)>> {
        match self.slot.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// The cached bytes if younger than [`DID_DOCUMENT_TTL`].
    pub fn get(&self) -> Option<Bytes> {
        let g = self.lock();
        g.as_ref()
            .filter(|(at, _)| at.elapsed() < DID_DOCUMENT_TTL)
            .map(|(_, b)| b.clone())
    }

    /// Stores freshly built bytes.
    pub fn put(&self, bytes: Bytes) {
        *self.lock() = Some((Instant::now(), bytes));
    }

    /// Drops the cached document (this node changed a key).
    pub fn invalidate(&self) {
        *self.lock() = None;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn id(n: u8) -> PassportId {
        let mut b = [n; 16];
        b[6] = 0x70 | (n & 0x0f); // version 7
        b[8] = 0x80 | (n & 0x3f); // RFC 4122 variant
        PassportId::from_uuid(uuid::Uuid::from_bytes(b)).unwrap()
    }

    fn cached(len: usize) -> Arc<Cached> {
        Arc::new(Cached {
            bytes: Bytes::from(vec![b'x'; len]),
            etag: HeaderValue::from_static("\"e\""),
            log_headers: Vec::new(),
        })
    }

    #[test]
    fn holds_what_was_inserted_and_stays_within_its_bound() {
        let c = CredentialCache::new(100_000);
        c.insert(id(1), 1, Form::DataIntegrity, cached(5_000));
        assert_eq!(
            c.get(&id(1), 1, Form::DataIntegrity).unwrap().bytes.len(),
            5_000
        );
        assert!(c.get(&id(1), 1, Form::Jwt).is_none());
        assert!(c.get(&id(1), 2, Form::DataIntegrity).is_none());
        for n in 0..100u8 {
            c.insert(id(n), 1, Form::Jwt, cached(5_000));
        }
        assert!(
            c.weight() <= 100_000,
            "weight {} over the bound",
            c.weight()
        );
    }

    #[test]
    fn zero_disables_and_resize_applies() {
        let c = CredentialCache::new(0);
        c.insert(id(1), 1, Form::DataIntegrity, cached(10));
        assert!(c.get(&id(1), 1, Form::DataIntegrity).is_none());
        c.resize(10_000);
        c.insert(id(1), 1, Form::DataIntegrity, cached(10));
        assert!(c.get(&id(1), 1, Form::DataIntegrity).is_some());
    }

    #[test]
    fn did_document_cache_invalidates() {
        let c = DidDocumentCache::default();
        assert!(c.get().is_none());
        c.put(Bytes::from_static(b"{}"));
        assert_eq!(c.get().unwrap(), Bytes::from_static(b"{}"));
        c.invalidate();
        assert!(c.get().is_none());
    }
}

/// The longest a node serves its cached view of a passport's status and current version.
/// Changes made through this node are seen at once; changes made through another node
/// sharing the database within about [`crate::changes::FOLLOW_INTERVAL`] (the audit log is
/// the change feed). This lifetime only bounds what is served while the store cannot be
/// read; it is the `max-age=60` the current-version URL already allows HTTP caches.
pub const PASSPORT_STATE_TTL: Duration = Duration::from_secs(60);

/// What the public read path needs to know about a passport that may change.
#[derive(Debug, Clone)]
pub struct PassportState {
    /// Lifecycle status.
    pub status: hallmark_core::passport::PassportStatus,
    /// Why it was suspended (or otherwise changed), if given.
    pub status_reason: Option<String>,
    /// The current (latest published) version; 0 before the first publication.
    pub current_version: u32,
    /// Its EU DPP registry registrations: (version, registration id), oldest first.
    pub registrations: std::sync::Arc<[(u32, String)]>,
}

impl PassportState {
    /// The registration id of `version`, if recorded.
    pub fn registration_of(&self, version: u32) -> Option<&str> {
        self.registrations
            .iter()
            .find(|(v, _)| *v == version)
            .map(|(_, id)| id.as_str())
    }
}

/// A bounded cache of values that may change elsewhere: each entry lives at most a given
/// lifetime. Writes through this node drop their entry after commit and bump a
/// generation, so that a read that began before the write cannot put the old value back.
pub struct FreshCache<K, V> {
    inner: quick_cache::sync::Cache<K, (Instant, V)>,
    generation: std::sync::atomic::AtomicU64,
}

impl<K, V> FreshCache<K, V>
where
    K: Eq + std::hash::Hash + Clone,
    V: Clone,
{
    /// At most `entries` entries.
    pub fn new(entries: usize) -> Self {
        FreshCache {
            inner: quick_cache::sync::Cache::new(entries.max(16)),
            generation: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The generation to hand back to [`insert`](Self::insert); take it before reading the
    /// store.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The cached value if younger than `lifetime`.
    pub fn get(&self, key: &K, lifetime: Duration) -> Option<V> {
        self.inner
            .get(key)
            .filter(|(at, _)| at.elapsed() < lifetime)
            .map(|(_, v)| v)
    }

    /// Remembers a value read from the store, unless a local write happened since
    /// `generation` was taken.
    pub fn insert(&self, key: K, value: V, generation: u64) {
        if self.generation() == generation {
            self.inner.insert(key, (Instant::now(), value));
        }
    }

    /// The value changed through this node (call after the commit).
    pub fn invalidate(&self, key: &K) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        self.inner.remove(key);
    }

    /// Drops every entry (and stops reads in flight from refilling).
    pub fn clear(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        self.inner.clear();
    }
}

/// The GS1 resolver's lookups: the live passport (or none) of a product key, as
/// `Store::find_live` answered, for at most [`PASSPORT_STATE_TTL`]. Events name passports,
/// not product keys, so any change of any passport — through this node after its commit,
/// or through another one (`crate::changes`) — drops every entry; a read-mostly node keeps
/// them, a node that is publishing refills them.
/// It also keeps, per GTIN-14, whether any passport of that GTIN is published
/// (`Store::gtin_published`: the walk-up to a product with no passport at the asked level).
pub struct ResolveCache {
    keys: FreshCache<hallmark_store::ProductKey, Option<hallmark_store::PassportRecord>>,
    gtins: FreshCache<String, bool>,
}

impl ResolveCache {
    /// At most `entries` product keys (and as many GTINs).
    pub fn new(entries: usize) -> Self {
        ResolveCache {
            keys: FreshCache::new(entries),
            gtins: FreshCache::new(entries),
        }
    }

    /// See [`FreshCache::generation`].
    pub fn generation(&self) -> u64 {
        self.keys.generation()
    }

    /// The cached answer for `key`, if younger than [`PASSPORT_STATE_TTL`].
    pub fn get(
        &self,
        key: &hallmark_store::ProductKey,
    ) -> Option<Option<hallmark_store::PassportRecord>> {
        self.keys.get(key, PASSPORT_STATE_TTL)
    }

    /// See [`FreshCache::insert`].
    pub fn insert(
        &self,
        key: hallmark_store::ProductKey,
        record: Option<hallmark_store::PassportRecord>,
        generation: u64,
    ) {
        self.keys.insert(key, record, generation);
    }

    /// The generation of the GTIN answers (take it before reading the store).
    pub fn gtin_generation(&self) -> u64 {
        self.gtins.generation()
    }

    /// Whether the GTIN has a published passport, if known and younger than
    /// [`PASSPORT_STATE_TTL`].
    pub fn gtin(&self, gtin: &str) -> Option<bool> {
        self.gtins.get(&gtin.to_owned(), PASSPORT_STATE_TTL)
    }

    /// Remembers a GTIN answer read from the store.
    pub fn insert_gtin(&self, gtin: String, published: bool, generation: u64) {
        self.gtins.insert(gtin, published, generation);
    }

    /// Some passport changed: drops every entry.
    pub fn clear(&self) {
        self.keys.clear();
        self.gtins.clear();
    }
}

/// Short-lived cache of [`PassportState`] by passport id, bounded by entry count.
pub struct PassportStateCache(FreshCache<PassportId, PassportState>);

impl PassportStateCache {
    /// At most `entries` passports.
    pub fn new(entries: usize) -> Self {
        PassportStateCache(FreshCache::new(entries))
    }

    /// See [`FreshCache::generation`].
    pub fn generation(&self) -> u64 {
        self.0.generation()
    }

    /// The cached state if younger than its lifetime: [`PASSPORT_STATE_TTL`] less up to ten
    /// seconds, spread by id so that entries filled together do not all expire together.
    pub fn get(&self, id: &PassportId) -> Option<PassportState> {
        let spread = Duration::from_millis(u64::from(id.uuid().as_bytes()[15]) * 40);
        self.0.get(id, PASSPORT_STATE_TTL.saturating_sub(spread))
    }

    /// See [`FreshCache::insert`].
    pub fn insert(&self, id: PassportId, state: PassportState, generation: u64) {
        self.0.insert(id, state, generation);
    }

    /// A passport changed (through this node, or another one: `crate::changes`).
    pub fn invalidate(&self, id: &PassportId) {
        self.0.invalidate(id);
    }

    /// Drops every entry.
    pub fn clear(&self) {
        self.0.clear();
    }
}

/// How long a node trusts an API key it has looked up (hash, scope, expiry, revocation)
/// before reading it again. A revocation through this node applies at once (the entry is
/// dropped after the commit); one made through another node sharing the database applies
/// here within this lifetime. Expiry is checked on every request against the cached
/// expiry time, so it is exact.
pub const API_KEY_TTL: Duration = Duration::from_secs(1);

/// API keys by lookup prefix (found keys only: unknown prefixes are always read from the
/// store, so guessing cannot fill the cache).
pub type ApiKeyCache = FreshCache<String, crate::auth::StoredKey>;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod state_tests {
    use super::*;
    use hallmark_core::passport::PassportStatus;

    fn id() -> PassportId {
        PassportId::parse("urn:uuid:01890a5d-ac96-774b-bcce-b302099a8057").unwrap()
    }

    fn state(v: u32) -> PassportState {
        PassportState {
            registrations: std::sync::Arc::from(Vec::new()),
            status: PassportStatus::Published,
            status_reason: None,
            current_version: v,
        }
    }

    #[test]
    fn a_read_that_began_before_a_local_write_does_not_refill_the_cache() {
        let c = PassportStateCache::new(100);
        let g = c.generation();
        c.insert(id(), state(1), g);
        assert_eq!(c.get(&id()).unwrap().current_version, 1);
        // A read starts (takes the generation), a write commits and invalidates, then the
        // read tries to store what it saw before the write.
        let g = c.generation();
        c.invalidate(&id());
        c.insert(id(), state(1), g);
        assert!(c.get(&id()).is_none());
        let g = c.generation();
        c.insert(id(), state(2), g);
        assert_eq!(c.get(&id()).unwrap().current_version, 2);
    }
}

/// One status list version as served: both forms (bytes, ETag, the log headers of its
/// `status-list.published` leaf), verified once against the node's keys when loaded.
#[derive(Debug)]
pub struct ServedList {
    /// The version.
    pub version: u32,
    /// The Data Integrity JSON.
    pub data_integrity: Cached,
    /// The `vc+jwt` form.
    pub jwt: Cached,
    /// The credential's `validUntil`.
    pub valid_until: time::OffsetDateTime,
}

impl ServedList {
    /// One form.
    pub fn form(&self, form: Form) -> &Cached {
        match form {
            Form::DataIntegrity => &self.data_integrity,
            Form::Jwt => &self.jwt,
        }
    }
}

/// The latest version of each status list `(purpose, list)`, for at most
/// [`PASSPORT_STATE_TTL`]: dropped whole when this node stores a list version
/// (`App::status_list_changed`) and when the change feed sees another node's
/// `status-list.published` event. Versions by number are immutable and cached by number.
pub struct StatusListCache {
    latest: FreshCache<(hallmark_core::status::StatusPurpose, u32), Arc<ServedList>>,
    versions:
        quick_cache::sync::Cache<(hallmark_core::status::StatusPurpose, u32, u32), Arc<ServedList>>,
}

impl Default for StatusListCache {
    fn default() -> Self {
        StatusListCache {
            latest: FreshCache::new(1_024),
            versions: quick_cache::sync::Cache::new(256),
        }
    }
}

impl StatusListCache {
    /// See [`FreshCache::generation`].
    pub fn generation(&self) -> u64 {
        self.latest.generation()
    }

    /// The latest version of a list, if cached, younger than [`PASSPORT_STATE_TTL`] and not
    /// expired.
    pub fn latest(
        &self,
        purpose: hallmark_core::status::StatusPurpose,
        list: u32,
    ) -> Option<Arc<ServedList>> {
        self.latest
            .get(&(purpose, list), PASSPORT_STATE_TTL)
            .filter(|l| l.valid_until > time::OffsetDateTime::now_utc())
    }

    /// See [`FreshCache::insert`].
    pub fn insert_latest(
        &self,
        purpose: hallmark_core::status::StatusPurpose,
        list: u32,
        served: Arc<ServedList>,
        generation: u64,
    ) {
        self.latest.insert((purpose, list), served, generation);
    }

    /// A version by number, if cached.
    pub fn version(
        &self,
        purpose: hallmark_core::status::StatusPurpose,
        list: u32,
        version: u32,
    ) -> Option<Arc<ServedList>> {
        self.versions.get(&(purpose, list, version))
    }

    /// Remembers a version by number (immutable).
    pub fn insert_version(
        &self,
        purpose: hallmark_core::status::StatusPurpose,
        list: u32,
        served: Arc<ServedList>,
    ) {
        self.versions
            .insert((purpose, list, served.version), served);
    }

    /// A list version was stored: drops every latest entry.
    pub fn clear(&self) {
        self.latest.clear();
    }
}

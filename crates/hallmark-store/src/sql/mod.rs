//! The store operations, written once over sqlx and run on either backend: [`SqlStore`]
//! is generic over a [`Backend`] (SQLite or PostgreSQL), and the public
//! [`SqliteStore`](crate::SqliteStore) and [`PgStore`](crate::PgStore) are its two
//! instances.
//!
//! The SQL is shared: both backends accept `$n` placeholders (sqlx binds SQLite's `$n` by
//! number). What differs is the [`Backend`]: row locking, how a write batch begins, and
//! whether an audit event and its log leaf are one statement.
//!
//! - [`db`] — the seam to sqlx (queries, arguments, typed column reads);
//! - [`rows`] — column lists, conversions and row decoders;
//! - [`writer`] — the write queue: every audited write is a job on it, and jobs queued
//!   together commit together, one savepoint each;
//! - [`passports`] — drafts, publication, lifecycle, reads and listing;
//! - [`import`] — external references and the import job (draft step + publication in
//!   one job, reusing [`passports`]' SQL bodies);
//! - [`audit`] — the audit log and its transparency-log leaves, checkpoints, quarantine;
//! - [`status`] — status lists: passports' positions and signed list versions;
//! - [`keys`] — signing-key metadata;
//! - [`api_keys`] — API keys;
//! - [`links`] — operator links per product identifier (the resolver's own links);
//! - [`registry`] — EU DPP registry registrations of passport versions;
//! - [`readers`] — readers admitted by approval, and their signed requests' nonces.

mod api_keys;
mod audit;
pub(crate) mod db;
mod import;
mod keys;
mod links;
mod outbox;
mod passports;
mod readers;
mod registry;
mod rows;
mod status;
mod webhooks;
mod writer;

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use hallmark_core::integrity::IntegrityKeys;
use hallmark_core::passport::{PassportId, PassportStatus};
use hallmark_core::reader::{NewReader, ReaderChange, ReaderId, ReaderStatus};
use sqlx::Pool;
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::error::Result;
use crate::model::{
    ApiKeyRecord, AuditEvent, AuditRecord, CheckpointRecord, DraftRecord, ExternalRefState,
    ImportWrite, ImportWritten, LinkFilter, NewApiKey, NewPassport, NewProductLink,
    NewRegistration, NewStatusListVersion, NewVersion, NewWebhook, OutboxRecord, Page,
    PassportFilter, PassportRecord, PendingRegistration, ProductKey, ProductLinkRecord,
    QuarantineRecord, ReaderRecord, Recorded, RegistrationRecord, SigningKeyRecord,
    SigningKeyStatus, StatusListRecord, StatusPurpose, StatusRef, StoredLeaf, VersionRecord,
    WebhookAttempt, WebhookChange, WebhookDelivery, WebhookProgress, WebhookRecord,
};
use crate::Store;
use writer::{OpFuture, Tags, WriteTx};

mod sealed {
    pub trait Sealed {}
}

/// What differs between the SQL backends (implemented by [`SqliteBackend`] and
/// [`PgBackend`] only).
pub trait Backend: sealed::Sealed + Clone + std::fmt::Debug + Send + Sync + 'static {
    /// The sqlx database.
    type Db: db::SqlDb;
    /// The row-lock suffix of a `SELECT` that reads state a write then checks: `" FOR
    /// UPDATE"` on PostgreSQL, empty on SQLite, where `BEGIN IMMEDIATE` already makes the
    /// transaction the only writer.
    const FOR_UPDATE: &'static str;
    /// Begins a write batch, with the audit head claimed (where that needs a lock) and the
    /// first job's savepoint `hallmark_write` set, in one round trip.
    const BEGIN_WRITE: &'static str;
    /// One statement inserting an audit event (`$1`–`$7`) and its log leaf (hash `$8`, tag
    /// `$9`), where the backend can (PostgreSQL: a data-modifying CTE); `None`: two.
    const INSERT_AUDIT_AND_LEAF: Option<&'static str>;
    /// Begins a transaction that is not an audited write (no audit head): a webhook
    /// delivery's log row and its subscription's progress.
    const BEGIN_PLAIN: &'static str;
}

/// The SQLite backend: the store's database file.
#[derive(Debug, Clone)]
pub struct SqliteBackend {
    pub(crate) path: std::path::PathBuf,
}

impl sealed::Sealed for SqliteBackend {}

impl Backend for SqliteBackend {
    type Db = sqlx::Sqlite;
    const FOR_UPDATE: &'static str = "";
    /// `BEGIN IMMEDIATE` makes the batch the database's only writer at once (no upgrade
    /// from a read lock that could fail with `SQLITE_BUSY` midway), so no head lock is
    /// needed.
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE; SAVEPOINT hallmark_write";
    /// SQLite has no data-modifying CTEs: the event and its leaf are two statements (in
    /// process, no network round trip).
    const INSERT_AUDIT_AND_LEAF: Option<&'static str> = None;
    const BEGIN_PLAIN: &'static str = "BEGIN IMMEDIATE";
}

/// The PostgreSQL backend.
#[derive(Debug, Clone)]
pub struct PgBackend;

impl sealed::Sealed for PgBackend {}

impl Backend for PgBackend {
    type Db = sqlx::Postgres;
    const FOR_UPDATE: &'static str = " FOR UPDATE";
    /// Claims the audit head row first: every batch, on every node, then takes its locks in
    /// the same order (head, then rows), so batches cannot deadlock.
    const BEGIN_WRITE: &'static str = "BEGIN; SELECT next_seq FROM audit_head WHERE id = 1 \
         FOR UPDATE; SAVEPOINT hallmark_write";
    /// The leaf's foreign key to the event is checked at the end of the statement, when the
    /// event row is there; the audit head was advanced by the statement before, so the
    /// event's own guard sees it.
    const INSERT_AUDIT_AND_LEAF: Option<&'static str> = Some(
        "WITH e AS (INSERT INTO audit_events (seq, at, actor, action, passport_id, subject, \
         detail) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq) \
         INSERT INTO log_leaves (leaf_index, leaf_hash, audit_seq, created_at, tag) \
         SELECT seq - 1, $8, seq, $2, $9 FROM e",
    );
    const BEGIN_PLAIN: &'static str = "BEGIN";
}

/// A store over one SQL database: a pool, the writer (its own thread) that commits every audited
/// write, the node's row-authentication keys once set, and the last audit sequence number
/// this store committed.
pub struct SqlStore<B: Backend> {
    pool: Pool<B::Db>,
    queue: writer::Queue<B>,
    integrity: Arc<OnceLock<Arc<IntegrityKeys>>>,
    /// The node's event source (`Store::set_event_source`): with it, audit events that
    /// outsiders hear about get their outbox row.
    events: Arc<OnceLock<Arc<hallmark_core::events::EventSource>>>,
    committed: watch::Receiver<u64>,
    pub(crate) backend: B,
}

impl<B: Backend> Clone for SqlStore<B> {
    fn clone(&self) -> Self {
        SqlStore {
            pool: self.pool.clone(),
            queue: self.queue.clone(),
            integrity: Arc::clone(&self.integrity),
            events: Arc::clone(&self.events),
            committed: self.committed.clone(),
            backend: self.backend.clone(),
        }
    }
}

impl<B: Backend> std::fmt::Debug for SqlStore<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("backend", &self.backend)
            .field("pool", &self.pool)
            .field("committed", &*self.committed.borrow())
            .finish_non_exhaustive()
    }
}

impl<B: Backend> SqlStore<B> {
    /// A store over `pool` (migrated): starts its writer.
    pub(crate) async fn from_pool(pool: Pool<B::Db>, backend: B) -> Result<Self> {
        let head = audit::audit_len::<B>(&pool).await?;
        let (committed_tx, committed) = watch::channel(head);
        let queue = writer::spawn::<B>(pool.clone(), committed_tx);
        Ok(SqlStore {
            pool,
            queue,
            integrity: Arc::default(),
            events: Arc::default(),
            committed,
            backend,
        })
    }

    /// The connection pool.
    pub fn pool(&self) -> &Pool<B::Db> {
        &self.pool
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Runs `op` in the store's next write batch and returns its result once the batch has
    /// committed.
    async fn write<T, F>(&self, op: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut WriteTx<B>, Tags) -> OpFuture<'c, T> + Send + 'static,
    {
        let tags = writer::Tags::new(self.integrity.get().cloned(), self.events.get().cloned());
        writer::submit(&self.queue, tags, op).await
    }
}

#[async_trait]
impl<B: Backend> Store for SqlStore<B> {
    fn pool_usage(&self) -> Option<crate::PoolUsage> {
        Some(crate::PoolUsage {
            size: u64::from(self.pool.size()),
            idle: self.pool.num_idle() as u64,
            max: u64::from(self.pool.options().get_max_connections()),
        })
    }

    async fn create_draft(&self, new: NewPassport, audit: AuditEvent) -> Result<PassportRecord> {
        passports::create_draft(self, new, audit).await
    }

    async fn find_live(&self, key: &ProductKey) -> Result<Option<PassportRecord>> {
        passports::find_live(self, key).await
    }

    async fn gtin_published(&self, gtin: &str) -> Result<bool> {
        passports::gtin_published(self, gtin).await
    }

    async fn update_draft(
        &self,
        id: &PassportId,
        content: Vec<u8>,
        submission_sha256: Option<[u8; 32]>,
        audit: AuditEvent,
    ) -> Result<DraftRecord> {
        passports::update_draft(self, id, content, submission_sha256, audit).await
    }

    async fn start_version(
        &self,
        id: &PassportId,
        content: Vec<u8>,
        submission_sha256: Option<[u8; 32]>,
        audit: AuditEvent,
    ) -> Result<DraftRecord> {
        passports::start_version(self, id, content, submission_sha256, audit).await
    }

    async fn external_refs(
        &self,
        economic_operator_id: &str,
        refs: &[String],
    ) -> Result<Vec<ExternalRefState>> {
        import::external_refs(self, economic_operator_id, refs).await
    }

    async fn import(&self, write: ImportWrite) -> Result<ImportWritten> {
        import::import(self, write).await
    }

    async fn get_pending(&self, id: &PassportId) -> Result<(PassportRecord, Option<DraftRecord>)> {
        passports::get_pending(self, id).await
    }

    async fn publish(
        &self,
        id: &PassportId,
        version: NewVersion,
        audit: AuditEvent,
    ) -> Result<(VersionRecord, u64)> {
        passports::publish(self, id, version, audit).await
    }

    async fn change_status(
        &self,
        id: &PassportId,
        to: PassportStatus,
        reason: Option<String>,
        audit: AuditEvent,
        lists: Vec<NewStatusListVersion>,
    ) -> Result<PassportRecord> {
        passports::change_status(self, id, to, reason, audit, lists).await
    }

    async fn status_index(&self, id: &PassportId) -> Result<Option<StatusRef>> {
        status::status_index(self, id).await
    }

    async fn status_positions(&self, list: u32) -> Result<Vec<u32>> {
        status::status_positions(self, list).await
    }

    async fn last_status_list(&self) -> Result<Option<u32>> {
        status::last_status_list(self).await
    }

    async fn put_status_list(&self, version: NewStatusListVersion) -> Result<StatusListRecord> {
        status::put_status_list(self, version).await
    }

    async fn status_list_latest(
        &self,
        purpose: StatusPurpose,
        list: u32,
    ) -> Result<Option<StatusListRecord>> {
        status::status_list_latest(self, purpose, list).await
    }

    async fn status_list_version(
        &self,
        purpose: StatusPurpose,
        list: u32,
        version: u32,
    ) -> Result<Option<StatusListRecord>> {
        status::status_list_version(self, purpose, list, version).await
    }

    async fn record_registration(&self, registration: NewRegistration) -> Result<Recorded> {
        registry::record_registration(self, registration).await
    }

    async fn registration(
        &self,
        id: &PassportId,
        version: u32,
    ) -> Result<Option<RegistrationRecord>> {
        registry::registration(self, id, version).await
    }

    async fn registrations_of(&self, id: &PassportId) -> Result<Vec<RegistrationRecord>> {
        registry::registrations_of(self, id).await
    }

    async fn registry_pending(
        &self,
        after: Option<&PassportId>,
        limit: u32,
    ) -> Result<Page<PendingRegistration>> {
        registry::registry_pending(self, after, limit).await
    }

    async fn register_reader(
        &self,
        id: ReaderId,
        reader: NewReader,
        event: AuditEvent,
    ) -> Result<ReaderRecord> {
        readers::register_reader(self, id, reader, event).await
    }

    async fn reader(&self, id: &ReaderId) -> Result<Option<ReaderRecord>> {
        readers::reader(self, id).await
    }

    async fn reader_by_key(&self, ed25519: &[u8; 32]) -> Result<Option<ReaderRecord>> {
        readers::reader_by_key(self, ed25519).await
    }

    async fn list_readers(
        &self,
        status: Option<ReaderStatus>,
        after: Option<&ReaderId>,
        limit: u32,
    ) -> Result<Vec<ReaderRecord>> {
        readers::list_readers(self, status, after, limit).await
    }

    async fn change_reader(
        &self,
        id: &ReaderId,
        change: ReaderChange,
        event: AuditEvent,
    ) -> Result<ReaderRecord> {
        readers::change_reader(self, id, change, event).await
    }

    async fn use_nonce(
        &self,
        reader: &ReaderId,
        nonce: &str,
        expires_at: OffsetDateTime,
        at: OffsetDateTime,
    ) -> Result<bool> {
        readers::use_nonce(self, reader, nonce, expires_at, at).await
    }

    async fn get_passport(&self, id: &PassportId) -> Result<PassportRecord> {
        passports::get_passport(self, id).await
    }

    async fn get_version(&self, id: &PassportId, version: Option<u32>) -> Result<VersionRecord> {
        passports::get_version(self, id, version).await
    }

    async fn version_times(&self, id: &PassportId) -> Result<Vec<(u32, OffsetDateTime)>> {
        passports::version_times(self, id).await
    }

    async fn list_passports(
        &self,
        filter: &PassportFilter,
        after: Option<&PassportId>,
        limit: u32,
    ) -> Result<Page<PassportRecord>> {
        passports::list_passports(self, filter, after, limit).await
    }

    async fn history(&self, id: &PassportId) -> Result<Vec<AuditRecord>> {
        passports::history(self, id).await
    }

    async fn publish_seq(&self, id: &PassportId, version: u32) -> Result<Option<u64>> {
        audit::publish_seq(self, id, version).await
    }

    async fn append_audit(&self, event: AuditEvent) -> Result<AuditRecord> {
        audit::append_audit(self, event).await
    }

    async fn list_audit(&self, from_seq: u64, limit: u32) -> Result<Vec<AuditRecord>> {
        audit::list_audit(self, from_seq, limit).await
    }

    fn committed(&self) -> watch::Receiver<u64> {
        self.committed.clone()
    }

    async fn list_leaf_hashes(&self, from_index: u64, limit: u32) -> Result<Vec<[u8; 32]>> {
        audit::list_leaf_hashes(self, from_index, limit).await
    }

    async fn find_leaf(&self, leaf_hash: &[u8; 32]) -> Result<Option<u64>> {
        audit::find_leaf(self, leaf_hash).await
    }

    async fn list_leaves(&self, from_index: u64, limit: u32) -> Result<Vec<StoredLeaf>> {
        audit::list_leaves(self, from_index, limit).await
    }

    async fn first_tagged_leaf(&self) -> Result<u64> {
        audit::first_tagged_leaf(self).await
    }

    async fn list_quarantine(&self) -> Result<Vec<QuarantineRecord>> {
        audit::list_quarantine(self).await
    }

    async fn quarantine_leaf(&self, record: QuarantineRecord) -> Result<()> {
        audit::quarantine_leaf(self, record).await
    }

    fn set_integrity(&self, keys: Arc<IntegrityKeys>) -> bool {
        self.integrity.set(keys).is_ok()
    }

    fn set_event_source(&self, source: hallmark_core::events::EventSource) -> bool {
        self.events.set(Arc::new(source)).is_ok()
    }

    async fn outbox(&self, after: u64, limit: u32) -> Result<Vec<OutboxRecord>> {
        outbox::outbox(self, after, limit).await
    }

    async fn undelivered(&self, limit: u32) -> Result<Vec<OutboxRecord>> {
        outbox::undelivered(self, limit).await
    }

    async fn outbox_backlog(&self) -> Result<(u64, Option<OffsetDateTime>)> {
        outbox::backlog(self).await
    }

    async fn mark_delivered(&self, ids: &[u64], at: OffsetDateTime) -> Result<u64> {
        outbox::mark_delivered(self, ids, at).await
    }

    async fn claim_relay(
        &self,
        holder: &str,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<bool> {
        outbox::claim_relay(self, holder, now, until).await
    }

    async fn create_webhook(&self, new: NewWebhook, event: AuditEvent) -> Result<WebhookRecord> {
        webhooks::create(self, new, event).await
    }

    async fn webhook(&self, id: &str) -> Result<Option<WebhookRecord>> {
        webhooks::one(self, id).await
    }

    async fn webhooks(&self) -> Result<Vec<WebhookRecord>> {
        webhooks::all(self).await
    }

    async fn change_webhook(
        &self,
        id: &str,
        change: WebhookChange,
        event: AuditEvent,
    ) -> Result<WebhookRecord> {
        webhooks::change(self, id, change, event).await
    }

    async fn record_webhook_attempt(
        &self,
        attempt: WebhookAttempt,
        progress: WebhookProgress,
        disable: Option<(String, AuditEvent)>,
    ) -> Result<()> {
        webhooks::record_attempt(self, attempt, progress, disable).await
    }

    async fn advance_webhook(&self, id: &str, cursor: u64) -> Result<()> {
        webhooks::advance(self, id, cursor).await
    }

    async fn webhook_deliveries(
        &self,
        id: &str,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>> {
        webhooks::deliveries(self, id, before, limit).await
    }

    async fn claim_lease(
        &self,
        name: &str,
        holder: &str,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<bool> {
        webhooks::claim_lease(self, name, holder, now, until).await
    }

    async fn latest_checkpoints(&self, limit: u32) -> Result<Vec<CheckpointRecord>> {
        audit::latest_checkpoints(self, limit).await
    }

    async fn insert_checkpoint(&self, checkpoint: CheckpointRecord) -> Result<()> {
        audit::insert_checkpoint(self, checkpoint).await
    }

    async fn list_checkpoints(&self) -> Result<Vec<CheckpointRecord>> {
        audit::list_checkpoints(self).await
    }

    async fn audit_len(&self) -> Result<u64> {
        audit::audit_len::<B>(&self.pool).await
    }

    async fn insert_api_key(&self, key: NewApiKey, audit: AuditEvent) -> Result<ApiKeyRecord> {
        api_keys::insert_api_key(self, key, audit).await
    }

    async fn rehash_api_key(&self, prefix: &str, hash: Vec<u8>, audit: AuditEvent) -> Result<()> {
        api_keys::rehash_api_key(self, prefix, hash, audit).await
    }

    async fn find_api_key(&self, prefix: &str) -> Result<Option<ApiKeyRecord>> {
        api_keys::find_api_key(self, prefix).await
    }

    async fn touch_api_key(&self, prefix: &str, at: OffsetDateTime) -> Result<()> {
        api_keys::touch_api_key(self, prefix, at).await
    }

    async fn revoke_api_key(&self, prefix: &str, audit: AuditEvent) -> Result<ApiKeyRecord> {
        api_keys::revoke_api_key(self, prefix, audit).await
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>> {
        api_keys::list_api_keys(self).await
    }

    async fn insert_signing_key(&self, key: SigningKeyRecord, audit: AuditEvent) -> Result<()> {
        keys::insert_signing_key(self, key, audit).await
    }

    async fn set_signing_key_status(
        &self,
        key_id: &str,
        status: SigningKeyStatus,
        reason: Option<String>,
        audit: AuditEvent,
    ) -> Result<SigningKeyRecord> {
        keys::set_signing_key_status(self, key_id, status, reason, audit).await
    }

    async fn tag_signing_key(&self, expected: SigningKeyRecord, audit: AuditEvent) -> Result<()> {
        keys::tag_signing_key(self, expected, audit).await
    }

    async fn list_signing_keys(&self) -> Result<Vec<SigningKeyRecord>> {
        keys::list_signing_keys(self).await
    }

    async fn add_link(&self, link: NewProductLink, audit: AuditEvent) -> Result<ProductLinkRecord> {
        links::add_link(self, link, audit).await
    }

    async fn remove_link(
        &self,
        id: &str,
        reason: &str,
        audit: AuditEvent,
    ) -> Result<ProductLinkRecord> {
        links::remove_link(self, id, reason, audit).await
    }

    async fn get_link(&self, id: &str) -> Result<Option<ProductLinkRecord>> {
        links::get_link(self, id).await
    }

    async fn links_for(&self, keys: &[ProductKey]) -> Result<Vec<ProductLinkRecord>> {
        links::links_for(self, keys).await
    }

    async fn list_links(&self, filter: &LinkFilter) -> Result<Vec<ProductLinkRecord>> {
        links::list_links(self, filter).await
    }
}

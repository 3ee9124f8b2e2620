//! Hallmark persistence: the [`Store`] port and its two adapters, [`SqliteStore`] (embedded
//! default: one file, WAL, no server) and [`PgStore`] (production and scale-out: several
//! stateless nodes on one database).
//!
//! Permanence is enforced by the database, not only by this crate: a published version
//! can never be updated or deleted, passport status moves only along the lifecycle,
//! terminal states stay terminal, the audit log is append-only and nothing is ever
//! deleted. On both backends these rules are triggers installed by the migrations; on
//! PostgreSQL the application role additionally owns nothing, holds no DELETE/TRUNCATE
//! and may UPDATE only the columns meant to change (see `docs/database.md`).
//!
//! Every write takes an [`AuditEvent`] and appends it, with a gapless commit-ordered
//! sequence number, in the same transaction as the change: both commit or neither does.

mod error;
pub mod logcheck;
mod model;
pub mod postgres;
mod sql;
pub mod sqlite;

use async_trait::async_trait;
use hallmark_core::passport::{PassportId, PassportStatus};
use hallmark_core::reader::{NewReader, ReaderChange, ReaderId, ReaderStatus};
use time::OffsetDateTime;

pub use error::{PrivilegeError, StoreError};
pub use hallmark_core::integrity::IntegrityKeys;
pub use model::{
    ApiKeyHashScheme, ApiKeyRecord, AuditEvent, AuditRecord, CheckpointRecord, Credentials,
    DraftRecord, ExternalRefState, ImportDraft, ImportWrite, ImportWritten, LeafCheck, LinkFilter,
    NewApiKey, NewPassport, NewProductLink, NewRegistration, NewStatusListVersion, NewVersion,
    NewWebhook, OutboxRecord, Page, PassportFilter, PassportRecord, PendingRegistration,
    PreviousRegistration, ProductKey, ProductLinkRecord, ProofMediaType, QuarantineRecord,
    ReaderRecord, Recorded, RegistrationRecord, SignedForms, SigningKeyRecord, SigningKeyStatus,
    StatusListRecord, StatusPurpose, StatusRef, StoredLeaf, VersionRecord, WebhookAttempt,
    WebhookChange, WebhookDelivery, WebhookProgress, WebhookRecord, WebhookStatus,
    MAX_REGISTRATION_ID, MAX_REGISTRATION_PROOF,
};

pub use postgres::PgStore;
pub use sql::{Backend, PgBackend, SqlStore, SqliteBackend};
pub use sqlite::SqliteStore;

/// A connection pool's use ([`Store::pool_usage`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolUsage {
    /// Open connections (idle or in use).
    pub size: u64,
    /// Of which idle.
    pub idle: u64,
    /// The most the pool opens.
    pub max: u64,
}

/// Largest page [`Store::list_passports`] and [`Store::list_audit`] return.
pub const MAX_PAGE: u32 = 1_000;

/// The persistence port the node uses. Object-safe (`Arc<dyn Store>`).
///
/// Write operations take an [`AuditEvent`]; its `at` is the operation's time. Reads never
/// write. Apart from [`touch_api_key`](Store::touch_api_key) (a hot path recording usage,
/// not a decision), every write is audited.
#[async_trait]
pub trait Store: Send + Sync {
    /// Creates a passport in status `draft` with draft content for version 1. Fails with
    /// [`StoreError::IdentifierInUse`], naming the passport, when another passport that is
    /// not deactivated has the same product identifier at the same granularity.
    async fn create_draft(
        &self,
        new: NewPassport,
        audit: AuditEvent,
    ) -> Result<PassportRecord, StoreError>;

    /// The passport that is not deactivated and has this product identifier at this
    /// granularity, if any (at most one exists: see [`ProductKey`]).
    async fn find_live(&self, key: &ProductKey) -> Result<Option<PassportRecord>, StoreError>;

    /// Whether any passport with this GTIN-14, at any granularity, has been published and
    /// is not deactivated (published, suspended or archived): the product is known even when
    /// no passport answers for one of its identifiers (the GS1 resolver's walk-up to the
    /// GTIN).
    async fn gtin_published(&self, gtin: &str) -> Result<bool, StoreError>;

    /// Replaces the content of the pending draft (version `current + 1`). Fails with
    /// `NotFound` when there is no pending draft, `ImmutableViolation` when terminal.
    async fn update_draft(
        &self,
        id: &PassportId,
        content: Vec<u8>,
        submission_sha256: Option<[u8; 32]>,
        audit: AuditEvent,
    ) -> Result<DraftRecord, StoreError>;

    /// Starts the next version of a published (or suspended) passport: a pending draft
    /// for version `current + 1`. `Conflict` if one is already pending.
    async fn start_version(
        &self,
        id: &PassportId,
        content: Vec<u8>,
        submission_sha256: Option<[u8; 32]>,
        audit: AuditEvent,
    ) -> Result<DraftRecord, StoreError>;

    /// What the store holds for these external references of `economic_operator_id`, in one
    /// query: one [`ExternalRefState`] per reference that names a passport (in no
    /// particular order; unknown references are absent).
    async fn external_refs(
        &self,
        economic_operator_id: &str,
        refs: &[String],
    ) -> Result<Vec<ExternalRefState>, StoreError>;

    /// One imported item as ONE job on the write queue ([`ImportWrite`]): create (with the
    /// external reference), update or start a version — or nothing, to publish the pending
    /// draft —, then optionally publish, each step with its audit event, in the job's own
    /// savepoint: a refusal at any step (an identifier in use, a reference taken, a terminal
    /// passport, [`StoreError::StatusIndexTaken`]) writes nothing of the item, its audit
    /// events included, and leaves the other jobs of the batch committed with gapless
    /// sequence numbers. The same SQL as [`create_draft`](Store::create_draft),
    /// [`update_draft`](Store::update_draft), [`start_version`](Store::start_version) and
    /// [`publish`](Store::publish).
    async fn import(&self, write: ImportWrite) -> Result<ImportWritten, StoreError>;

    /// The passport and its pending draft (version `current + 1`), if any, read together in
    /// one query: what the publish path needs before it signs. `NotFound` for an unknown
    /// passport.
    async fn get_pending(
        &self,
        id: &PassportId,
    ) -> Result<(PassportRecord, Option<DraftRecord>), StoreError>;

    /// Publishes the pending draft as `version` (which must be `current + 1`): stores the
    /// signed credentials, makes the passport `published` (first time: sets
    /// `published_at`) and advances `current_version`, atomically. A suspended passport
    /// must be resumed first. With [`NewVersion::status_index`], the passport's status list
    /// position is stored in the same transaction: a position another passport holds is
    /// [`StoreError::StatusIndexTaken`] (draw again), a passport that already has one is
    /// `Conflict`; either way nothing is written. Returns the stored version and the
    /// sequence number of the `passport.published` audit event it appended (its log leaf is
    /// `seq - 1`).
    async fn publish(
        &self,
        id: &PassportId,
        version: NewVersion,
        audit: AuditEvent,
    ) -> Result<(VersionRecord, u64), StoreError>;

    /// Moves the passport to `to` (suspend, resume, archive, deactivate) if the lifecycle
    /// allows it. `draft → published` goes through [`publish`](Store::publish) instead.
    ///
    /// `lists` are the status list versions re-signed for this change (normally one; both
    /// purposes when both bits change; none when no bit does): each of the passport's own
    /// list, at most one per purpose, each with its own `status-list.published` event. The
    /// status, its audit event, the list versions and their events are ONE transaction: a
    /// list version that is not its list's latest + 1 is
    /// [`StoreError::StatusListConflict`] (re-read, re-sign, retry) and nothing is written,
    /// the passport's status included.
    async fn change_status(
        &self,
        id: &PassportId,
        to: PassportStatus,
        reason: Option<String>,
        audit: AuditEvent,
        lists: Vec<NewStatusListVersion>,
    ) -> Result<PassportRecord, StoreError>;

    /// The passport's status list position, if it has one (taken at its first publication
    /// since status lists; passports published before have none).
    async fn status_index(&self, id: &PassportId) -> Result<Option<StatusRef>, StoreError>;

    /// The positions taken in list `list`, in no particular order (its fill: past a threshold
    /// the node draws new positions in the next list; the node's position allocator loads
    /// them once per open list and keeps them in memory).
    async fn status_positions(&self, list: u32) -> Result<Vec<u32>, StoreError>;

    /// The highest list number in use (by a position or a stored list version), if any.
    async fn last_status_list(&self) -> Result<Option<u32>, StoreError>;

    /// Stores a status list version that comes with no status change: a list's first
    /// (all-zero) version, or a re-signing of unchanged bits. It must be the list's latest
    /// + 1 ([`StoreError::StatusListConflict`] otherwise, nothing written); its
    /// `status-list.published` event is appended in the same transaction.
    async fn put_status_list(
        &self,
        version: NewStatusListVersion,
    ) -> Result<StatusListRecord, StoreError>;

    /// The newest stored version of a list, if any (one indexed read: the public read path).
    async fn status_list_latest(
        &self,
        purpose: StatusPurpose,
        list: u32,
    ) -> Result<Option<StatusListRecord>, StoreError>;

    /// One stored version of a list, if it exists.
    async fn status_list_version(
        &self,
        purpose: StatusPurpose,
        list: u32,
        version: u32,
    ) -> Result<Option<StatusListRecord>, StoreError>;

    /// Records the EU DPP registry's registration of a stored passport version (any status:
    /// it records a fact) with its `registry.recorded` audit event, in one transaction
    /// (build the event with [`NewRegistration::event`]). Checked before anything is
    /// written, in this order:
    ///
    /// - the event or a field is malformed: `Constraint`;
    /// - the version does not exist: `NotFound`;
    /// - `dpp_sha256` is not the SHA-256 of the version's public Data Integrity credential:
    ///   [`StoreError::RegistryHashMismatch`], carrying both hashes;
    /// - the version is already recorded: with exactly this registration (same id, proof,
    ///   media type and hash) [`Recorded::Unchanged`] and nothing written, otherwise
    ///   `Conflict`;
    /// - the registration id is recorded for another version: `Conflict`.
    ///
    /// Otherwise [`Recorded::Created`] with the row (its `seq` is the event's).
    async fn record_registration(
        &self,
        registration: NewRegistration,
    ) -> Result<Recorded, StoreError>;

    /// The recorded registration of one version, if any (one indexed read).
    async fn registration(
        &self,
        id: &PassportId,
        version: u32,
    ) -> Result<Option<RegistrationRecord>, StoreError>;

    /// Every recorded registration of a passport, oldest version first (empty for none or
    /// an unknown passport).
    async fn registrations_of(
        &self,
        id: &PassportId,
    ) -> Result<Vec<RegistrationRecord>, StoreError>;

    /// Published passports whose current version has no recorded registration — what an
    /// EU registry export lists — ordered by id, after the cursor `after`, at most `limit`
    /// (capped at [`MAX_PAGE`]; pass [`Page::next`] back for the next page). Each comes with
    /// its current version (credentials included: `dppSha256` is the SHA-256 of the public
    /// Data Integrity credential) and its latest earlier registration, if any. Suspended,
    /// archived and deactivated passports, and drafts, are never pending; a new version
    /// makes a registered passport pending again.
    async fn registry_pending(
        &self,
        after: Option<&PassportId>,
        limit: u32,
    ) -> Result<Page<PendingRegistration>, StoreError>;

    /// Registers a reader, inert (`registered`, no grant), with its `reader.registered`
    /// audit event (subject: the reader id, set by the store) in one transaction. A key
    /// already registered: `Conflict`, nothing written.
    async fn register_reader(
        &self,
        id: ReaderId,
        reader: NewReader,
        event: AuditEvent,
    ) -> Result<ReaderRecord, StoreError>;

    /// One reader, if registered.
    async fn reader(&self, id: &ReaderId) -> Result<Option<ReaderRecord>, StoreError>;

    /// The reader of an Ed25519 public key, if registered (one indexed read: the signed
    /// request path).
    async fn reader_by_key(&self, ed25519: &[u8; 32]) -> Result<Option<ReaderRecord>, StoreError>;

    /// Readers (of one status, if given), ordered by id, after the cursor `after`, at most
    /// `limit` (capped at [`MAX_PAGE`]).
    async fn list_readers(
        &self,
        status: Option<ReaderStatus>,
        after: Option<&ReaderId>,
        limit: u32,
    ) -> Result<Vec<ReaderRecord>, StoreError>;

    /// Changes a reader's status (and, for an approval, its grant) with the change's audit
    /// event (its action must be [`ReaderChange::action`]; subject set by the store) in one
    /// transaction. Unknown reader: `NotFound`; a change its status does not allow (e.g.
    /// anything on a revoked reader): `Conflict`, nothing written. The change's input
    /// (grant, reason) is checked by the caller with [`ReaderChange::check`].
    async fn change_reader(
        &self,
        id: &ReaderId,
        change: ReaderChange,
        event: AuditEvent,
    ) -> Result<ReaderRecord, StoreError>;

    /// Records that `reader` used `nonce` in a signed request at `at`, kept at least until
    /// `expires_at`: `true` when it is new, `false` when it was already used (a replay;
    /// nothing written). Unknown reader: `NotFound`.
    async fn use_nonce(
        &self,
        reader: &ReaderId,
        nonce: &str,
        expires_at: OffsetDateTime,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// The passport's index row.
    async fn get_passport(&self, id: &PassportId) -> Result<PassportRecord, StoreError>;

    /// A published version: `Some(n)` or, with `None`, the current one.
    async fn get_version(
        &self,
        id: &PassportId,
        version: Option<u32>,
    ) -> Result<VersionRecord, StoreError>;

    /// Every published version's number and signing time, oldest first (one indexed read of
    /// the version rows' keys and times, no content): what a read "as of a date" picks from
    /// (EN 18222 `dppsByIdAndDate`). Empty when the passport has none (or does not exist).
    async fn version_times(
        &self,
        id: &PassportId,
    ) -> Result<Vec<(u32, OffsetDateTime)>, StoreError>;

    /// Passports matching `filter`, ordered by id, after the cursor `after`, at most
    /// `limit` (capped at [`MAX_PAGE`]).
    async fn list_passports(
        &self,
        filter: &PassportFilter,
        after: Option<&PassportId>,
        limit: u32,
    ) -> Result<Page<PassportRecord>, StoreError>;

    /// The audit events of a passport, oldest first.
    async fn history(&self, id: &PassportId) -> Result<Vec<AuditRecord>, StoreError>;

    /// The sequence number of the `passport.published` audit event of version `version`
    /// (its transparency-log leaf is `seq - 1`), if any. One indexed query: the public read
    /// path uses it to point verifiers at the leaf.
    async fn publish_seq(&self, id: &PassportId, version: u32) -> Result<Option<u64>, StoreError>;

    /// Appends a free-standing audit event.
    async fn append_audit(&self, event: AuditEvent) -> Result<AuditRecord, StoreError>;

    /// Audit events with `seq >= from_seq`, oldest first, at most `limit`.
    async fn list_audit(&self, from_seq: u64, limit: u32) -> Result<Vec<AuditRecord>, StoreError>;

    /// The sequence number of the last audit event this store committed, updated by its
    /// writer after each commit (before the writes in it are answered). Every audited write
    /// appends a log leaf, so this is what wakes the checkpoint signer. Writes by other
    /// processes sharing the database (other nodes on one PostgreSQL) are not seen here:
    /// poll [`audit_len`](Store::audit_len) for those.
    fn committed(&self) -> tokio::sync::watch::Receiver<u64>;

    /// The connection pool's use now (open, idle, bound), for the node's metrics; `None`
    /// for a store without a pool. Reads counters only: no query, no wait.
    fn pool_usage(&self) -> Option<PoolUsage> {
        None
    }

    /// Transparency-log leaf hashes with `leaf_index >= from_index`, in order, at most
    /// `limit`. Leaf `i` is the leaf hash of audit event `i + 1` (see
    /// [`AuditRecord::leaf_bytes`]), appended in the same transaction as the event.
    async fn list_leaf_hashes(
        &self,
        from_index: u64,
        limit: u32,
    ) -> Result<Vec<[u8; 32]>, StoreError>;

    /// The index of the leaf with this leaf hash, if any (indexed lookup; the first such
    /// leaf, although two leaves never share a hash: each event's bytes include its `seq`).
    async fn find_leaf(&self, leaf_hash: &[u8; 32]) -> Result<Option<u64>, StoreError>;

    /// Transparency-log leaves with `leaf_index >= from_index`, in order, at most `limit`,
    /// each with its tag and the audit event it points at (what the checkpointer and
    /// `hallmark log check` authenticate before trusting a leaf).
    async fn list_leaves(&self, from_index: u64, limit: u32)
        -> Result<Vec<StoredLeaf>, StoreError>;

    /// The first leaf index written with a tag: leaves below it predate row authentication
    /// (set once by the migration that introduced tags).
    async fn first_tagged_leaf(&self) -> Result<u64, StoreError>;

    /// Leaves the operator quarantined, by index.
    async fn list_quarantine(&self) -> Result<Vec<QuarantineRecord>, StoreError>;

    /// Records a quarantined leaf. Only the migration (owner) role may: the application
    /// role has no INSERT on the table, so on PostgreSQL the node's own connection fails.
    async fn quarantine_leaf(&self, record: QuarantineRecord) -> Result<(), StoreError>;

    /// Hands the store the node's row-authentication keys: from then on every log leaf and
    /// signing-key row it writes carries the node's tag. Set once; a second call is ignored
    /// and answers `false`.
    fn set_integrity(&self, keys: std::sync::Arc<IntegrityKeys>) -> bool;

    /// Hands the store the node's event source (its DID and public base URL): from then on
    /// every audit event outsiders hear about (`hallmark_core::events::event_type`) gets its
    /// CloudEvent in the outbox, in the same transaction. Set once (before the first write);
    /// a second call is ignored and answers `false`. Without it no outbox row is written.
    fn set_event_source(&self, source: hallmark_core::events::EventSource) -> bool;

    /// Outbox rows with an id above `after`, in id order, at most `limit` (1–1000).
    async fn outbox(&self, after: u64, limit: u32) -> Result<Vec<OutboxRecord>, StoreError>;

    /// The oldest undelivered outbox rows, in id order, at most `limit` (1–1000): what the
    /// relay delivers next.
    async fn undelivered(&self, limit: u32) -> Result<Vec<OutboxRecord>, StoreError>;

    /// How many outbox rows are undelivered, and the time of the oldest (metrics).
    async fn outbox_backlog(&self) -> Result<(u64, Option<OffsetDateTime>), StoreError>;

    /// Marks outbox rows delivered at `at` (each once: rows marked already are left as they
    /// are). Returns how many were marked now.
    async fn mark_delivered(&self, ids: &[u64], at: OffsetDateTime) -> Result<u64, StoreError>;

    /// Takes or renews the relay lease for `holder` until `until` when it is free (never
    /// taken, or expired at `now`) or `holder`'s already; `true` when `holder` holds it.
    /// Among nodes sharing the database, one delivers the outbox at a time, in order.
    async fn claim_relay(
        &self,
        holder: &str,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Creates a webhook subscription, active, its cursor at the outbox's last row (it
    /// receives the events after its creation), with its `webhook.created` audit event
    /// (subject: the id, set by the store) in one transaction.
    async fn create_webhook(
        &self,
        new: NewWebhook,
        event: AuditEvent,
    ) -> Result<WebhookRecord, StoreError>;

    /// One subscription, if it exists.
    async fn webhook(&self, id: &str) -> Result<Option<WebhookRecord>, StoreError>;

    /// Every subscription, oldest first.
    async fn webhooks(&self) -> Result<Vec<WebhookRecord>, StoreError>;

    /// Disables or enables a subscription with the change's audit event (`webhook.disabled`
    /// or `.enabled`; subject set by the store) in one transaction. Unknown: `NotFound`;
    /// already in that status: `Conflict`, nothing written.
    async fn change_webhook(
        &self,
        id: &str,
        change: WebhookChange,
        event: AuditEvent,
    ) -> Result<WebhookRecord, StoreError>;

    /// Logs a delivery attempt and moves its subscription to `progress` (the cursor only
    /// forward) in one transaction. With `disable` (reason and `webhook.disabled` event),
    /// an active subscription is also disabled (audited); one disabled meanwhile stays as it
    /// is. Unknown subscription: `NotFound`.
    async fn record_webhook_attempt(
        &self,
        attempt: WebhookAttempt,
        progress: WebhookProgress,
        disable: Option<(String, AuditEvent)>,
    ) -> Result<(), StoreError>;

    /// Moves a subscription's cursor forward to `cursor` (past rows of types it does not
    /// receive); never back.
    async fn advance_webhook(&self, id: &str, cursor: u64) -> Result<(), StoreError>;

    /// A subscription's delivery log, newest first: the rows with an id below `before` (if
    /// given), at most `limit` (clamped to 1–1000).
    async fn webhook_deliveries(
        &self,
        id: &str,
        before: Option<u64>,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>, StoreError>;

    /// Takes or renews the named lease (`webhooks`) for `holder` until `until` when it is
    /// free (never taken, or expired at `now`) or `holder`'s already; `true` when `holder`
    /// holds it.
    async fn claim_lease(
        &self,
        name: &str,
        holder: &str,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// The newest stored checkpoints, newest first, at most `limit`.
    async fn latest_checkpoints(&self, limit: u32) -> Result<Vec<CheckpointRecord>, StoreError>;

    /// Stores a signed checkpoint. Sizes only grow and never beyond the log's leaf count (a
    /// trigger refuses anything else); a checkpoint is not itself audited (it commits to the
    /// audit log). The store does not check signatures: readers verify every checkpoint
    /// against the log key before trusting it.
    async fn insert_checkpoint(&self, checkpoint: CheckpointRecord) -> Result<(), StoreError>;

    /// Every stored checkpoint, smallest tree first (what `hallmark log check` verifies).
    async fn list_checkpoints(&self) -> Result<Vec<CheckpointRecord>, StoreError>;

    /// Number of audit events (= the highest sequence number).
    async fn audit_len(&self) -> Result<u64, StoreError>;

    /// Stores a new API key (hash only).
    async fn insert_api_key(
        &self,
        key: NewApiKey,
        audit: AuditEvent,
    ) -> Result<ApiKeyRecord, StoreError>;

    /// Replaces a key's legacy unkeyed hash with its keyed hash (once: the database refuses
    /// any other hash change), audited.
    async fn rehash_api_key(
        &self,
        prefix: &str,
        hash: Vec<u8>,
        audit: AuditEvent,
    ) -> Result<(), StoreError>;

    /// Looks a key up by prefix.
    async fn find_api_key(&self, prefix: &str) -> Result<Option<ApiKeyRecord>, StoreError>;

    /// Records a use of a key (not audited).
    async fn touch_api_key(&self, prefix: &str, at: OffsetDateTime) -> Result<(), StoreError>;

    /// Revokes a key, for good.
    async fn revoke_api_key(
        &self,
        prefix: &str,
        audit: AuditEvent,
    ) -> Result<ApiKeyRecord, StoreError>;

    /// All API keys, by prefix.
    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError>;

    /// Records a signing key's public metadata.
    async fn insert_signing_key(
        &self,
        key: SigningKeyRecord,
        audit: AuditEvent,
    ) -> Result<(), StoreError>;

    /// Retires or revokes a signing key (sets `retired_at` / `revoked_at` to `audit.at`).
    async fn set_signing_key_status(
        &self,
        key_id: &str,
        status: SigningKeyStatus,
        reason: Option<String>,
        audit: AuditEvent,
    ) -> Result<SigningKeyRecord, StoreError>;

    /// Writes the node's tag on a signing-key row that has none (written before row
    /// authentication), over `expected` — the row as custody says it should be; if the
    /// stored columns differ, the tag will not verify. Audited.
    async fn tag_signing_key(
        &self,
        expected: SigningKeyRecord,
        audit: AuditEvent,
    ) -> Result<(), StoreError>;

    /// All signing keys, oldest first.
    async fn list_signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError>;

    /// Attaches an operator link to a product identifier, audited. `Conflict` when the
    /// identifier already has `hallmark_core::resolver::MAX_LINKS_PER_IDENTIFIER` active
    /// links (counted in the write's transaction).
    async fn add_link(
        &self,
        link: NewProductLink,
        audit: AuditEvent,
    ) -> Result<ProductLinkRecord, StoreError>;

    /// Removes an active link for good (sets `removed_at` to `audit.at` and the reason),
    /// audited. `NotFound` for an unknown id, `ImmutableViolation` when already removed.
    async fn remove_link(
        &self,
        id: &str,
        reason: &str,
        audit: AuditEvent,
    ) -> Result<ProductLinkRecord, StoreError>;

    /// One link, active or removed.
    async fn get_link(&self, id: &str) -> Result<Option<ProductLinkRecord>, StoreError>;

    /// The active links of these identifiers (the levels of a resolver request), in the
    /// order they were added; one query.
    async fn links_for(&self, keys: &[ProductKey]) -> Result<Vec<ProductLinkRecord>, StoreError>;

    /// The links matching `filter`, in the order they were added, at most [`MAX_PAGE`].
    async fn list_links(&self, filter: &LinkFilter) -> Result<Vec<ProductLinkRecord>, StoreError>;
}

//! What the store keeps: records returned by reads and inputs taken by writes.

use hallmark_core::passport::{Granularity, PassportId, PassportStatus, ProductIdentifier};
use hallmark_core::tlog::event::{Action, EventError, LeafEvent};
use serde_json::Value;
use time::OffsetDateTime;

/// An audit event to append. Every write operation of [`crate::Store`] takes one and
/// appends it in the same transaction as the change it describes.
///
/// `at` is also the time of the operation (it becomes `updated_at`, `published_at`,
/// `revoked_at`, …), so one write has one clock reading.
///
/// The node builds its events with [`AuditEvent::of`] from a typed
/// [`Action`](hallmark_core::tlog::event::Action) and, for the events verifiers read, a typed
/// detail (`hallmark_core::tlog::event`); the store keeps the action as text, so that a row
/// it did not write still reads back and hashes as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// When (normalised to UTC on storage).
    pub at: OffsetDateTime,
    /// Who: an API key prefix, `operator`, `system`, … (1–256 characters).
    pub actor: String,
    /// What, e.g. `passport.published` (1–128 characters): an
    /// [`Action`](hallmark_core::tlog::event::Action)'s string for every event a node writes.
    pub action: String,
    /// The passport concerned. Passport operations set it themselves.
    pub passport: Option<PassportId>,
    /// Another subject (key id, API key prefix), if any.
    pub subject: Option<String>,
    /// Structured details (stored as JSON text, at most 64 KiB).
    pub detail: Value,
}

impl AuditEvent {
    /// An event with no subject and empty details, its action given as text.
    pub fn new(at: OffsetDateTime, actor: &str, action: &str) -> Self {
        AuditEvent {
            at,
            actor: actor.to_owned(),
            action: action.to_owned(),
            passport: None,
            subject: None,
            detail: Value::Object(Default::default()),
        }
    }

    /// An event of a typed action with no subject and empty details.
    pub fn of(at: OffsetDateTime, actor: &str, action: Action) -> Self {
        Self::new(at, actor, action.as_str())
    }

    /// The action, if it is one nodes write.
    pub fn known_action(&self) -> Option<Action> {
        self.action.parse().ok()
    }
}

/// A stored audit event.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// Gapless, commit-ordered sequence number starting at 1.
    pub seq: u64,
    /// The event.
    pub event: AuditEvent,
}

impl AuditRecord {
    /// This event as its transparency-log leaf (`hallmark_core::tlog::event::LeafEvent`, the
    /// one definition of the leaf: `{"seq","at","actor","action","passport","subject",
    /// "detail"}`, `at` in RFC 3339 UTC with microseconds as stored, absent optional fields
    /// `null`). Leaf `seq - 1` of the log is its leaf hash, so anyone holding the audit
    /// events can recompute the tree.
    pub fn leaf_event(&self) -> Result<LeafEvent<'_>, crate::StoreError> {
        let e = &self.event;
        LeafEvent::new(
            self.seq,
            e.at,
            &e.actor,
            &e.action,
            e.passport.as_ref(),
            e.subject.as_deref(),
            &e.detail,
        )
        .map_err(leaf_error)
    }

    /// The leaf bytes of [`leaf_event`](Self::leaf_event): its RFC 8785 canonical JSON.
    pub fn leaf_bytes(&self) -> Result<Vec<u8>, crate::StoreError> {
        self.leaf_event()?.leaf_bytes().map_err(leaf_error)
    }

    /// The RFC 6962 leaf hash of [`leaf_bytes`](Self::leaf_bytes).
    pub fn leaf_hash(&self) -> Result<[u8; 32], crate::StoreError> {
        self.leaf_event()?.leaf_hash().map_err(leaf_error)
    }
}

/// A time that cannot be written is a corrupt row; an event that is not canonical JSON
/// (a number beyond I-JSON in its detail) breaks a constraint.
fn leaf_error(e: EventError) -> crate::StoreError {
    match e {
        EventError::Timestamp(_) => crate::StoreError::Corrupt(e.to_string()),
        other => crate::StoreError::Constraint(other.to_string()),
    }
}

/// The product identifier a passport is issued for, at its granularity: fixed for life.
///
/// Among passports that are not `deactivated`, at most one has a given key — GTIN and
/// serial at item level, GTIN and lot at batch level, GTIN alone at model level (a lot of an
/// item-level identifier does not take part). The database enforces it on both backends
/// with the unique partial index `passports_live_identifier`, so it holds under concurrency
/// and against any SQL the application role can send (`docs/database.md`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProductKey {
    /// GTIN-14 (GS1 AI 01).
    pub gtin: String,
    /// Model, batch or item.
    pub granularity: Granularity,
    /// Lot (AI 10): required at batch level, optional at item level, absent at model level.
    pub lot: Option<String>,
    /// Serial (AI 21): required at item level, absent otherwise.
    pub serial: Option<String>,
}

impl ProductKey {
    /// The key of a passport's product identifier and granularity.
    pub fn new(product: &ProductIdentifier, granularity: Granularity) -> Self {
        ProductKey {
            gtin: product.gtin().as_gtin14().to_owned(),
            granularity,
            lot: product.lot().map(str::to_owned),
            serial: product.serial().map(str::to_owned),
        }
    }

    /// Whether the key has exactly the parts its granularity requires: nothing but the GTIN
    /// at model level, a lot and no serial at batch level, a serial at item level.
    pub fn fits_granularity(&self) -> bool {
        match self.granularity {
            Granularity::Model => self.lot.is_none() && self.serial.is_none(),
            Granularity::Batch => self.lot.is_some() && self.serial.is_none(),
            Granularity::Item => self.serial.is_some(),
        }
    }

    /// Whether `product` at `granularity` is this key (lot and serial included).
    pub fn matches(&self, product: &ProductIdentifier, granularity: Granularity) -> bool {
        *self == ProductKey::new(product, granularity)
    }

    /// The qualifier that is unique with the GTIN at this granularity: the serial at item
    /// level, the lot at batch level, nothing at model level (what the unique index keys on,
    /// `coalesce(serial, lot, '')`).
    pub fn qualifier(&self) -> &str {
        match self.granularity {
            Granularity::Item => self.serial.as_deref().unwrap_or_default(),
            Granularity::Batch => self.lot.as_deref().unwrap_or_default(),
            Granularity::Model => "",
        }
    }
}

impl std::fmt::Display for ProductKey {
    /// The GS1 element string of what is unique, and the granularity:
    /// `(01)09506000134352(21)NC-0001 at item level`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "(01){}", self.gtin)?;
        match self.granularity {
            Granularity::Item => write!(f, "(21){}", self.qualifier())?,
            Granularity::Batch => write!(f, "(10){}", self.qualifier())?,
            Granularity::Model => {}
        }
        write!(f, " at {} level", self.granularity)
    }
}

/// A new passport: its identity (fixed for life) and the content of draft version 1.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPassport {
    /// The passport id (UUIDv7).
    pub id: PassportId,
    /// The product identifier and granularity; no other live passport may have the same
    /// (see [`ProductKey`]).
    pub product: ProductKey,
    /// Sector id, e.g. `battery`.
    pub sector_id: String,
    /// Economic operator id.
    pub economic_operator_id: String,
    /// Draft content (opaque bytes to the store, JSON by convention).
    pub content: Vec<u8>,
    /// SHA-256 of the RFC 8785 form of the submission the content holds (core's
    /// `PassportDraft::digest`); `None` only for writers that do not compute it.
    pub submission_sha256: Option<[u8; 32]>,
}

/// A passport's index row: identity, lifecycle status and current version.
#[derive(Debug, Clone, PartialEq)]
pub struct PassportRecord {
    /// The passport id.
    pub id: PassportId,
    /// GTIN-14.
    pub gtin: String,
    /// The product identifier and granularity. `None` only for a passport created before
    /// migration PostgreSQL 0006 / SQLite 0004 whose stored content did not name one (such a
    /// row takes no part in the uniqueness of live identifiers).
    pub product: Option<ProductKey>,
    /// Sector id.
    pub sector_id: String,
    /// Economic operator id.
    pub economic_operator_id: String,
    /// Lifecycle status.
    pub status: PassportStatus,
    /// Reason given for the latest suspension / deactivation / archival, if any.
    pub status_reason: Option<String>,
    /// Newest published version; 0 while never published.
    pub current_version: u32,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
    /// First publication.
    pub published_at: Option<OffsetDateTime>,
}

/// Draft content for version `current_version + 1`; editable until published.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftRecord {
    /// The passport.
    pub passport: PassportId,
    /// The version this draft will become.
    pub version: u32,
    /// The content.
    pub content: Vec<u8>,
    /// SHA-256 of the RFC 8785 form of the submission it holds (`None`: written before
    /// the column existed, or by a writer that did not give it).
    pub submission_sha256: Option<[u8; 32]>,
    /// Created.
    pub created_at: OffsetDateTime,
    /// Last edited.
    pub updated_at: OffsetDateTime,
}

/// One audience's credential in both secured forms, bytes exactly as issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedForms {
    /// The Data Integrity (eddsa-jcs-2022) credential, its JCS bytes.
    pub data_integrity: Vec<u8>,
    /// The `vc+jwt` compact serialisation.
    pub jwt: String,
}

/// The three audiences' credentials of one version, one field per audience (core's
/// [`PerAudience`](hallmark_core::access::PerAudience)).
pub type Credentials = hallmark_core::access::PerAudience<SignedForms>;

/// A version to publish: the content as issued and its signed credentials.
#[derive(Debug, Clone, PartialEq)]
pub struct NewVersion {
    /// Must be `current_version + 1` and have a pending draft.
    pub version: u32,
    /// The full passport as issued (JSON bytes); its SHA-256 is computed by the store.
    pub content: Vec<u8>,
    /// Id of the signing key.
    pub key_id: String,
    /// Signing time.
    pub signed_at: OffsetDateTime,
    /// Per-audience credentials.
    pub credentials: Credentials,
    /// The passport's status list position, drawn by the node for a passport that has none
    /// yet (its first publication): stored in the same transaction, for good. `None` when
    /// the passport already has one ([`crate::Store::status_index`]) or is published without
    /// status entries. A position another passport holds is refused with
    /// [`StoreError::StatusIndexTaken`](crate::StoreError::StatusIndexTaken) and nothing is
    /// written.
    pub status_index: Option<StatusRef>,
}

/// A stored, published, immutable version.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionRecord {
    /// The passport.
    pub passport: PassportId,
    /// Version number (1, 2, …).
    pub version: u32,
    /// The full passport as issued.
    pub content: Vec<u8>,
    /// SHA-256 of `content`.
    pub content_sha256: [u8; 32],
    /// Id of the signing key.
    pub key_id: String,
    /// Signing time.
    pub signed_at: OffsetDateTime,
    /// Per-audience credentials.
    pub credentials: Credentials,
    /// When the version was stored.
    pub created_at: OffsetDateTime,
}

/// Filters for [`crate::Store::list_passports`]; `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassportFilter {
    /// Only this status.
    pub status: Option<PassportStatus>,
    /// Only this sector id.
    pub sector_id: Option<String>,
    /// Only this GTIN-14.
    pub gtin: Option<String>,
}

/// One page of a keyset-paginated listing (ordered by passport id, i.e. creation order
/// for UUIDv7 ids).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `after` to get the next page; `None` on the last page.
    pub next: Option<PassportId>,
}

/// A new operator link (checked by the node with core's `ProductLink`): attached to a
/// product identifier at model, batch or item level and served in that level's entry of the
/// resolver's linkset while it is active.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProductLink {
    /// Its id (a UUID, lowercase and hyphenated).
    pub id: String,
    /// The identifier it is attached to (an item's has no lot: GS1 keys item links on GTIN +
    /// serial).
    pub product: ProductKey,
    /// The link type, a full URI.
    pub link_type: String,
    /// The target.
    pub href: String,
    /// The title.
    pub title: String,
    /// The target's media type.
    pub media_type: Option<String>,
    /// The target's languages.
    pub hreflang: Vec<String>,
}

/// A stored operator link: active until removed; removal is final and recorded with its
/// reason, the row itself never changes otherwise and is never deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductLinkRecord {
    /// Its id.
    pub id: String,
    /// The identifier it is attached to.
    pub product: ProductKey,
    /// The link type, a full URI.
    pub link_type: String,
    /// The target.
    pub href: String,
    /// The title.
    pub title: String,
    /// The target's media type.
    pub media_type: Option<String>,
    /// The target's languages.
    pub hreflang: Vec<String>,
    /// When it was added.
    pub created_at: OffsetDateTime,
    /// When it was removed, if it was.
    pub removed_at: Option<OffsetDateTime>,
    /// Why it was removed.
    pub removed_reason: Option<String>,
    /// The node's tag over [`authenticated_bytes`](Self::authenticated_bytes) (32 bytes),
    /// written by a store that has the node's keys ([`crate::Store::set_integrity`]); `None`
    /// from a store without them, or on a row the node did not write.
    pub tag: Option<Vec<u8>>,
}

impl ProductLinkRecord {
    /// What the node's tag covers: the RFC 8785 canonical JSON of the link's identity and
    /// content (`id`, `gtin`, `granularity`, `lot`, `serial`, `linkType`, `href`, `title`,
    /// `type`, `hreflang`, `createdAt` in RFC 3339 UTC as stored), not its removal: a
    /// removal only stops a link being served, and the database refuses to undo one.
    pub fn authenticated_bytes(&self) -> Result<Vec<u8>, crate::StoreError> {
        let value = serde_json::json!({
            "id": self.id,
            "gtin": self.product.gtin,
            "granularity": self.product.granularity.as_str(),
            "lot": self.product.lot,
            "serial": self.product.serial,
            "linkType": self.link_type,
            "href": self.href,
            "title": self.title,
            "type": self.media_type,
            "hreflang": self.hreflang,
            "createdAt": rfc3339(self.created_at)?,
        });
        hallmark_core::jcs::canonicalize(&value)
            .map_err(|e| crate::StoreError::Constraint(format!("link: {e}")))
    }

    /// Whether the row carries the node's valid tag.
    pub fn is_authentic(&self, keys: &hallmark_core::integrity::IntegrityKeys) -> bool {
        match (&self.tag, self.authenticated_bytes()) {
            (Some(tag), Ok(bytes)) => keys.verify_link_row(&bytes, tag),
            _ => false,
        }
    }
}

/// Which links [`crate::Store::list_links`] answers: of one GTIN, optionally of one lot
/// and/or serial only, removed ones only when asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkFilter {
    /// The GTIN-14.
    pub gtin: String,
    /// Only links of this lot (batch level).
    pub lot: Option<String>,
    /// Only links of this serial (item level).
    pub serial: Option<String>,
    /// Removed links too.
    pub removed: bool,
}

/// A new API key. Only a hash of the secret is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    /// Public prefix identifying the key (4–64 characters).
    pub prefix: String,
    /// Hash of the secret (16–128 bytes).
    pub hash: Vec<u8>,
    /// Scope, e.g. `passports:write`.
    pub scope: String,
    /// Human label.
    pub label: String,
    /// Expiry, if any.
    pub expires_at: Option<OffsetDateTime>,
}

/// A stored API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// Prefix.
    pub prefix: String,
    /// Hash of the secret, under `hash_scheme`.
    pub hash: Vec<u8>,
    /// How `hash` was computed.
    pub hash_scheme: ApiKeyHashScheme,
    /// Scope.
    pub scope: String,
    /// Label.
    pub label: String,
    /// Created.
    pub created_at: OffsetDateTime,
    /// Expiry.
    pub expires_at: Option<OffsetDateTime>,
    /// Revocation (final).
    pub revoked_at: Option<OffsetDateTime>,
    /// Last successful use.
    pub last_used_at: Option<OffsetDateTime>,
}

/// How an API key's hash was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiKeyHashScheme {
    /// HMAC-SHA256 under the node's custody-derived API-key subkey (every key created since
    /// row authentication; the only scheme a new row may have).
    HmacSha256,
    /// Unkeyed SHA-256 (keys created before; the node rehashes each on its next use).
    LegacySha256,
}

impl ApiKeyHashScheme {
    /// Stored text form.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiKeyHashScheme::HmacSha256 => "hmac-sha256",
            ApiKeyHashScheme::LegacySha256 => "sha256",
        }
    }

    /// Parses the stored text form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "hmac-sha256" => Some(ApiKeyHashScheme::HmacSha256),
            "sha256" => Some(ApiKeyHashScheme::LegacySha256),
            _ => None,
        }
    }
}

/// Status of a signing key (`current` → `retired` → `revoked`; `revoked` is final).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningKeyStatus {
    /// Signs new credentials.
    Current,
    /// No longer signs; old signatures still verify.
    Retired,
    /// Withdrawn.
    Revoked,
}

impl SigningKeyStatus {
    /// Stored text form.
    pub fn as_str(self) -> &'static str {
        match self {
            SigningKeyStatus::Current => "current",
            SigningKeyStatus::Retired => "retired",
            SigningKeyStatus::Revoked => "revoked",
        }
    }

    /// Parses the stored text form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "current" => Some(SigningKeyStatus::Current),
            "retired" => Some(SigningKeyStatus::Retired),
            "revoked" => Some(SigningKeyStatus::Revoked),
            _ => None,
        }
    }

    /// The audit action recording a change to this status: `signing-key.retired` or
    /// `signing-key.revoked`; `None` for `current` (no key returns to it).
    pub fn change_action(self) -> Option<Action> {
        match self {
            SigningKeyStatus::Current => None,
            SigningKeyStatus::Retired => Some(Action::SigningKeyRetired),
            SigningKeyStatus::Revoked => Some(Action::SigningKeyRevoked),
        }
    }

    /// Whether the key lifecycle allows `self` → `next`.
    pub fn can_transition_to(self, next: SigningKeyStatus) -> bool {
        use SigningKeyStatus::{Current, Retired, Revoked};
        matches!(
            (self, next),
            (Current, Retired) | (Current, Revoked) | (Retired, Revoked)
        )
    }
}

/// An outbox row: the CloudEvent of an audit event outsiders hear about (issue 21).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRecord {
    /// Its id (the outbox's order).
    pub id: u64,
    /// The event type (`eu.dpp.passport.published`, …).
    pub topic: String,
    /// The CloudEvent, JSON, as delivered.
    pub payload: Vec<u8>,
    /// The audit event it tells of.
    pub audit_seq: u64,
    /// When it was written (the audit event's time).
    pub created_at: OffsetDateTime,
    /// When a relay marked it delivered, if one has.
    pub published_at: Option<OffsetDateTime>,
}

/// A webhook subscription's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookStatus {
    /// Deliveries go out.
    Active,
    /// None go out (the operator's choice, or too many consecutive failures); events keep
    /// accumulating behind its cursor and go out once it is enabled again.
    Disabled,
}

impl WebhookStatus {
    /// `active` or `disabled`.
    pub const fn as_str(self) -> &'static str {
        match self {
            WebhookStatus::Active => "active",
            WebhookStatus::Disabled => "disabled",
        }
    }
}

/// A webhook subscription (issue 21): where its deliveries go, which event types, and how
/// far it has come. No secret: that is derived from the node secret when needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRecord {
    /// Its id (UUID, as text).
    pub id: String,
    /// Where deliveries go.
    pub url: String,
    /// The event types it receives.
    pub types: Vec<String>,
    /// Active or disabled.
    pub status: WebhookStatus,
    /// Why it is disabled.
    pub disabled_reason: Option<String>,
    /// The last outbox row it has handled (delivered, or skipped as a type it does not
    /// receive).
    pub cursor: u64,
    /// Consecutive failed attempts.
    pub failures: u32,
    /// Not before this time is its next attempt made.
    pub next_attempt_at: OffsetDateTime,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When its status, cursor or failures last changed.
    pub changed_at: OffsetDateTime,
}

/// A new webhook subscription (the store starts it after the outbox's last row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhook {
    /// Its id (UUID, as text).
    pub id: String,
    /// Where deliveries go.
    pub url: String,
    /// The event types it receives.
    pub types: Vec<String>,
}

/// An audited change of a subscription's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookChange {
    /// Stop deliveries (reason required).
    Disable {
        /// Why.
        reason: String,
    },
    /// Resume deliveries from the cursor, failures reset.
    Enable,
}

/// One delivery attempt, as the delivery log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookAttempt {
    /// The subscription.
    pub webhook_id: String,
    /// The outbox row delivered.
    pub outbox_id: u64,
    /// 1 for the first attempt of this row, 2 for its first retry, …
    pub attempt: u32,
    /// When it started.
    pub at: OffsetDateTime,
    /// The receiver's answer, if one came.
    pub status_code: Option<u16>,
    /// Why it failed without an answer (connect, TLS, timeout), or a failure answer's
    /// summary.
    pub error: Option<String>,
    /// How long it took (ms).
    pub duration_ms: u64,
}

impl WebhookAttempt {
    /// A 2xx answer: delivered.
    pub fn ok(&self) -> bool {
        self.status_code.is_some_and(|c| (200..300).contains(&c))
    }
}

/// A delivery log row: an attempt and its place in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    /// Its id (the log's order).
    pub id: u64,
    /// The attempt.
    pub attempt: WebhookAttempt,
}

/// Where a subscription stands after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookProgress {
    /// The last outbox row handled (only moves forward).
    pub cursor: u64,
    /// Consecutive failures.
    pub failures: u32,
    /// The next attempt's earliest time.
    pub next_attempt_at: OffsetDateTime,
}

/// A signed transparency-log checkpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointRecord {
    /// Tree size the checkpoint commits to.
    pub tree_size: u64,
    /// Root hash at that size.
    pub root_hash: [u8; 32],
    /// The signed note (C2SP tlog-checkpoint in a signed-note envelope), as served.
    pub note: String,
    /// When it was stored.
    pub created_at: OffsetDateTime,
}

/// Public metadata of a signing key. Never private material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    /// Stable key id.
    pub key_id: String,
    /// Purpose (`passport-signing`, `log-checkpoint`, `node-request`).
    pub purpose: String,
    /// Backend (`file`, `pkcs11`).
    pub backend: String,
    /// Public key as Multikey.
    pub public_key_multibase: String,
    /// Status; at most one `current` key per purpose.
    pub status: SigningKeyStatus,
    /// Created.
    pub created_at: OffsetDateTime,
    /// Retired.
    pub retired_at: Option<OffsetDateTime>,
    /// Revoked.
    pub revoked_at: Option<OffsetDateTime>,
    /// Why revoked.
    pub revocation_reason: Option<String>,
    /// The node's tag over [`authenticated_bytes`](Self::authenticated_bytes)
    /// (`hallmark_core::integrity`); `None` for a row written before row authentication or
    /// by a store without the node's keys. Ignored on insert: the store tags what it writes.
    pub tag: Option<Vec<u8>>,
}

fn rfc3339(t: OffsetDateTime) -> Result<String, crate::StoreError> {
    t.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| crate::StoreError::Corrupt(format!("timestamp: {e}")))
}

impl SigningKeyRecord {
    /// What the node's tag covers: the RFC 8785 canonical JSON of every column but the tag
    /// (`keyId`, `purpose`, `backend`, `publicKeyMultibase`, `status`, `createdAt`,
    /// `retiredAt`, `revokedAt`, `revocationReason`; times in RFC 3339 UTC as stored).
    pub fn authenticated_bytes(&self) -> Result<Vec<u8>, crate::StoreError> {
        let value = serde_json::json!({
            "keyId": self.key_id,
            "purpose": self.purpose,
            "backend": self.backend,
            "publicKeyMultibase": self.public_key_multibase,
            "status": self.status.as_str(),
            "createdAt": rfc3339(self.created_at)?,
            "retiredAt": self.retired_at.map(rfc3339).transpose()?,
            "revokedAt": self.revoked_at.map(rfc3339).transpose()?,
            "revocationReason": self.revocation_reason,
        });
        hallmark_core::jcs::canonicalize(&value)
            .map_err(|e| crate::StoreError::Constraint(format!("signing key: {e}")))
    }

    /// Whether the row carries the node's valid tag.
    pub fn is_authentic(&self, keys: &hallmark_core::integrity::IntegrityKeys) -> bool {
        match (&self.tag, self.authenticated_bytes()) {
            (Some(tag), Ok(bytes)) => keys.verify_key_row(&bytes, tag),
            _ => false,
        }
    }
}

/// A transparency-log leaf as stored, with the audit event it is the leaf of.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredLeaf {
    /// Leaf index (`event.seq - 1` for a leaf the store wrote).
    pub index: u64,
    /// The stored leaf hash.
    pub leaf_hash: [u8; 32],
    /// The node's tag over the leaf hash, if any.
    pub tag: Option<Vec<u8>>,
    /// The audit event the leaf row points at.
    pub event: AuditRecord,
}

impl StoredLeaf {
    /// Whether this leaf is what the node wrote: its index follows its event's sequence
    /// number, its stored hash is the hash of its event's bytes, and its tag is the node's.
    pub fn check(&self, keys: &hallmark_core::integrity::IntegrityKeys) -> LeafCheck {
        if self.event.seq != self.index + 1 {
            return LeafCheck::Mismatch;
        }
        match self.event.leaf_hash() {
            Ok(h) if h == self.leaf_hash => {}
            _ => return LeafCheck::Mismatch,
        }
        match &self.tag {
            Some(t) if keys.verify_leaf(&self.leaf_hash, t) => LeafCheck::Authentic,
            Some(_) => LeafCheck::BadTag,
            None => LeafCheck::Untagged,
        }
    }
}

/// The outcome of [`StoredLeaf::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeafCheck {
    /// Matches its event and carries the node's tag.
    Authentic,
    /// The stored hash is not the hash of the event it points at (or the index is off).
    Mismatch,
    /// A tag that is not the node's.
    BadTag,
    /// No tag.
    Untagged,
}

/// A leaf the operator quarantined (`hallmark log quarantine`, under the migration role).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantineRecord {
    /// The leaf.
    pub leaf_index: u64,
    /// Its stored hash, as the operator saw it.
    pub leaf_hash: [u8; 32],
    /// Why.
    pub reason: String,
    /// When.
    pub created_at: OffsetDateTime,
}

/// A passport's position in the status lists (list number and bit) and a list's purpose
/// are core's types: one definition shared with the node that draws positions and the
/// verifiers that read them. A position is one per passport, for all its versions and
/// audiences and both purposes; never reused by another passport, never moved.
pub use hallmark_core::status::{StatusPurpose, StatusRef, LIST_SIZE};

/// A signed version of a status list credential to store, with the audit event that
/// publishes it (a transparency-log leaf).
#[derive(Debug, Clone, PartialEq)]
pub struct NewStatusListVersion {
    /// The purpose.
    pub purpose: StatusPurpose,
    /// The list number.
    pub list: u32,
    /// Must be the list's latest version + 1 (1 for a new list); otherwise
    /// [`StoreError::StatusListConflict`](crate::StoreError::StatusListConflict) and nothing
    /// is written.
    pub version: u32,
    /// The Data Integrity credential, its bytes exactly as served.
    pub credential: Vec<u8>,
    /// The `vc+jwt` compact serialisation.
    pub credential_jwt: String,
    /// The credential's `encodedList` (multibase base64url of the GZIP of the bits, `u…`),
    /// so the next version starts from these bits without parsing the credential.
    pub encoded_list: String,
    /// The credential's `validFrom`.
    pub valid_from: OffsetDateTime,
    /// The credential's `validUntil` (after `valid_from`).
    pub valid_until: OffsetDateTime,
    /// Its `status-list.published` event: the detail must be
    /// [`StatusListPublished`](hallmark_core::tlog::event::StatusListPublished) naming this
    /// purpose, list and version and the SHA-256 of `credential` and of `credential_jwt`;
    /// the store refuses anything else (`Constraint`) before writing.
    pub event: AuditEvent,
}

impl NewStatusListVersion {
    /// Checks the version against its own event, before anything is written.
    pub(crate) fn check(&self) -> Result<(), crate::StoreError> {
        use hallmark_core::tlog::event::{Detail, StatusListPublished};
        use sha2::{Digest, Sha256};
        let refuse = |why: String| {
            Err(crate::StoreError::Constraint(format!(
                "status list {}/{} version {}: {why}",
                self.purpose, self.list, self.version
            )))
        };
        if self.version == 0 {
            return refuse("versions are numbered from 1".to_owned());
        }
        if self.valid_until <= self.valid_from {
            return refuse("validUntil is not after validFrom".to_owned());
        }
        if !self.encoded_list.starts_with('u') || self.encoded_list.len() < 2 {
            return refuse("the encoded list is not multibase base64url ('u…')".to_owned());
        }
        if self.event.known_action() != Some(Action::StatusListPublished) {
            return refuse(format!(
                "its audit event is {:?}, not {}",
                self.event.action,
                Action::StatusListPublished
            ));
        }
        let detail = match StatusListPublished::from_value(&self.event.detail) {
            Ok(d) => d,
            Err(e) => return refuse(e.to_string()),
        };
        let sha256: [u8; 32] = Sha256::digest(&self.credential).into();
        let jwt_sha256: [u8; 32] = Sha256::digest(self.credential_jwt.as_bytes()).into();
        let expected = StatusListPublished::new(
            self.purpose.as_str(),
            self.list,
            self.version,
            &sha256,
            &jwt_sha256,
        );
        if detail != expected {
            return refuse(
                "its status-list.published event does not name it and the SHA-256 of its forms"
                    .to_owned(),
            );
        }
        Ok(())
    }
}

/// A stored, immutable status list version.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusListRecord {
    /// The purpose.
    pub purpose: StatusPurpose,
    /// The list number.
    pub list: u32,
    /// The version (1, 2, …).
    pub version: u32,
    /// The Data Integrity credential's bytes.
    pub credential: Vec<u8>,
    /// The `vc+jwt` form.
    pub credential_jwt: String,
    /// The `encodedList`.
    pub encoded_list: String,
    /// `validFrom`.
    pub valid_from: OffsetDateTime,
    /// `validUntil`.
    pub valid_until: OffsetDateTime,
    /// The sequence number of its `status-list.published` audit event (its
    /// transparency-log leaf is `seq - 1`).
    pub seq: u64,
    /// When it was stored.
    pub created_at: OffsetDateTime,
}

/// What the store holds for one external reference of an economic operator
/// ([`crate::Store::external_refs`]): the passport it names and its latest draft row — the
/// pending draft if there is one, else the current version's.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalRefState {
    /// The reference.
    pub external_ref: String,
    /// The passport it names (for life).
    pub passport: PassportRecord,
    /// Whether the latest draft row is pending (version `current + 1`).
    pub pending: bool,
    /// The latest draft row's version (`current + 1` when pending, else `current`).
    pub latest_version: u32,
    /// Its submission digest, when stored.
    pub submission_sha256: Option<[u8; 32]>,
    /// Its content, only when no digest is stored (the node computes it then).
    pub content: Option<Vec<u8>>,
}

/// The draft step of an import job ([`ImportWrite`]), with its audit event.
#[derive(Debug, Clone)]
pub enum ImportDraft {
    /// A new passport with its draft of version 1 and, if given, its external reference
    /// (written in the same transaction; unique per economic operator). Without one it is
    /// a create (+ publish) as one job, as EN 18222's `POST /v1/dpps` needs.
    Create {
        /// The passport.
        new: NewPassport,
        /// The operator's reference for it (1–256 characters), if any.
        external_ref: Option<String>,
        /// Its `passport.draft-created` event.
        audit: AuditEvent,
    },
    /// The pending draft's content replaced.
    Update {
        /// The passport.
        id: PassportId,
        /// The new content.
        content: Vec<u8>,
        /// Its submission digest.
        submission_sha256: [u8; 32],
        /// Its `passport.draft-updated` event.
        audit: AuditEvent,
    },
    /// The next version's draft started.
    StartVersion {
        /// The passport.
        id: PassportId,
        /// The content.
        content: Vec<u8>,
        /// Its submission digest.
        submission_sha256: [u8; 32],
        /// Its `passport.version-started` event.
        audit: AuditEvent,
    },
    /// No draft write: the pending draft is published as it stands (needs `publish`).
    Pending {
        /// The passport.
        id: PassportId,
    },
}

/// One imported item as one write job ([`crate::Store::import`]): the draft step, then
/// optionally the publication of that draft, each with its audit event. Everything or
/// nothing: a refusal at any step rolls back the whole item (and only it).
#[derive(Debug, Clone)]
pub struct ImportWrite {
    /// The draft step.
    pub draft: ImportDraft,
    /// The publication of the (then) pending draft and its `passport.published` event.
    pub publish: Option<(NewVersion, AuditEvent)>,
}

/// What an import job wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportWritten {
    /// The passport.
    pub id: PassportId,
    /// The draft written (`None` for [`ImportDraft::Pending`]).
    pub draft: Option<DraftRecord>,
    /// The version published and its `passport.published` event's sequence number.
    pub published: Option<(VersionRecord, u64)>,
}

/// How a registry's proof of registration is stored (core's type: one definition).
pub use hallmark_core::registry::ProofMediaType;

/// Longest registration id the store keeps (characters).
pub const MAX_REGISTRATION_ID: usize = hallmark_core::registry::MAX_REGISTRATION_ID_CHARS;
/// Largest proof of registration the store keeps (bytes).
pub const MAX_REGISTRATION_PROOF: usize = hallmark_core::registry::MAX_PROOF_BYTES;

/// The EU DPP registry's registration of one passport version, to record
/// ([`crate::Store::record_registration`]) with the audit event that publishes it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRegistration {
    /// The passport.
    pub passport: PassportId,
    /// The version registered (a stored version, whatever the passport's status now).
    pub version: u32,
    /// The registry's id for it (1–[`MAX_REGISTRATION_ID`] characters): names this version
    /// only, for good.
    pub registration_id: String,
    /// The proof of registration, bytes exactly as kept (1–[`MAX_REGISTRATION_PROOF`]).
    pub proof: Vec<u8>,
    /// Their media type.
    pub proof_media_type: ProofMediaType,
    /// The hash the registry gave: it must be the SHA-256 of the version's public Data
    /// Integrity credential as stored and served, or the store refuses the registration
    /// with [`StoreError::RegistryHashMismatch`](crate::StoreError::RegistryHashMismatch).
    pub dpp_sha256: [u8; 32],
    /// Its `registry.recorded` event: the action
    /// [`Action::RegistryRecorded`], detail [`detail`](Self::detail) (build it with
    /// [`event`](Self::event)); the store refuses anything else (`Constraint`) before
    /// writing. Its passport is set by the store.
    pub event: AuditEvent,
}

impl NewRegistration {
    /// The [`RegistryRecorded`](hallmark_core::tlog::event::RegistryRecorded) detail naming
    /// this registration: version, registration id, `dpp_sha256` and the SHA-256 of the
    /// proof's bytes.
    pub fn detail(&self) -> hallmark_core::tlog::event::RegistryRecorded {
        use sha2::{Digest, Sha256};
        let proof_sha256: [u8; 32] = Sha256::digest(&self.proof).into();
        hallmark_core::tlog::event::RegistryRecorded::new(
            self.version,
            &self.registration_id,
            &self.dpp_sha256,
            &proof_sha256,
        )
    }

    /// The `registry.recorded` event of this registration, at `at` by `actor` (what
    /// [`event`](Self::event) must hold): set `self.event` to it.
    pub fn event(&self, at: OffsetDateTime, actor: &str) -> Result<AuditEvent, crate::StoreError> {
        use hallmark_core::tlog::event::Detail;
        let mut e = AuditEvent::of(at, actor, Action::RegistryRecorded);
        e.passport = Some(self.passport);
        e.detail = self
            .detail()
            .to_value()
            .map_err(|e| crate::StoreError::Constraint(e.to_string()))?;
        Ok(e)
    }

    /// Checks the registration's own fields and its event, before anything is read or
    /// written.
    pub(crate) fn check(&self) -> Result<(), crate::StoreError> {
        use hallmark_core::tlog::event::{Detail, RegistryRecorded};
        let refuse = |why: String| {
            Err(crate::StoreError::Constraint(format!(
                "registration of version {} of passport {}: {why}",
                self.version, self.passport
            )))
        };
        if self.version == 0 {
            return refuse("versions are numbered from 1".to_owned());
        }
        let id_len = self.registration_id.chars().count();
        if id_len == 0 || id_len > MAX_REGISTRATION_ID {
            return refuse(format!(
                "the registration id must be 1 to {MAX_REGISTRATION_ID} characters"
            ));
        }
        if self.proof.is_empty() || self.proof.len() > MAX_REGISTRATION_PROOF {
            return refuse(format!(
                "the proof of registration must be 1 to {MAX_REGISTRATION_PROOF} bytes"
            ));
        }
        if self.event.known_action() != Some(Action::RegistryRecorded) {
            return refuse(format!(
                "its audit event is {:?}, not {}",
                self.event.action,
                Action::RegistryRecorded
            ));
        }
        if self.event.passport.is_some_and(|p| p != self.passport) {
            return refuse("its registry.recorded event is another passport's".to_owned());
        }
        match RegistryRecorded::from_value(&self.event.detail) {
            Ok(d) if d == self.detail() => Ok(()),
            Ok(_) => refuse(
                "its registry.recorded event does not name it, its registration id and the \
                 SHA-256 of its credential and proof"
                    .to_owned(),
            ),
            Err(e) => refuse(e.to_string()),
        }
    }

    /// Whether `stored` records exactly this registration (same id, proof, media type and
    /// hash; the event's time and actor do not count).
    pub fn same_as(&self, stored: &RegistrationRecord) -> bool {
        stored.passport == self.passport
            && stored.version == self.version
            && stored.registration_id == self.registration_id
            && stored.proof == self.proof
            && stored.proof_media_type == self.proof_media_type
            && stored.dpp_sha256 == self.dpp_sha256
    }
}

/// A recorded, immutable registration of a passport version in the EU DPP registry.
#[derive(Debug, Clone, PartialEq)]
pub struct RegistrationRecord {
    /// The passport.
    pub passport: PassportId,
    /// The version registered.
    pub version: u32,
    /// The registry's id for it.
    pub registration_id: String,
    /// The proof of registration's bytes.
    pub proof: Vec<u8>,
    /// Their media type.
    pub proof_media_type: ProofMediaType,
    /// SHA-256 of the version's public Data Integrity credential (the registry's hash).
    pub dpp_sha256: [u8; 32],
    /// The sequence number of its `registry.recorded` audit event (its transparency-log
    /// leaf is `seq - 1`).
    pub seq: u64,
    /// When it was recorded (the event's time).
    pub recorded_at: OffsetDateTime,
}

/// What [`crate::Store::record_registration`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    /// The registration and its `registry.recorded` event were written.
    Created(RegistrationRecord),
    /// The same registration was already recorded (same id, proof and hash): nothing was
    /// written; the stored row.
    Unchanged(RegistrationRecord),
}

impl Recorded {
    /// The stored registration, either way.
    pub fn record(&self) -> &RegistrationRecord {
        match self {
            Recorded::Created(r) | Recorded::Unchanged(r) => r,
        }
    }

    /// Whether this call wrote it.
    pub fn created(&self) -> bool {
        matches!(self, Recorded::Created(_))
    }
}

/// The latest earlier registration of a pending passport (an export entry's
/// `previousRegistration`: the registry may treat the new version as an update of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousRegistration {
    /// The version it registered.
    pub version: u32,
    /// Its registration id.
    pub registration_id: String,
}

/// A published passport whose current version the EU DPP registry has not registered yet
/// ([`crate::Store::registry_pending`]): what an export entry is built from.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingRegistration {
    /// The passport (status `published`).
    pub passport: PassportRecord,
    /// Its current version, credentials included: `dppSha256` is the SHA-256 of
    /// `version.credentials.public.data_integrity`, `publishedAt` its `signed_at`.
    pub version: VersionRecord,
    /// The latest registration of an earlier version, if any.
    pub previous: Option<PreviousRegistration>,
}

/// A registered reader (issue 20): its identity as registered, never changed, and its
/// status and grant as the operator last changed them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderRecord {
    /// Its id.
    pub id: hallmark_core::reader::ReaderId,
    /// Its Ed25519 public key (unique among readers).
    pub ed25519: [u8; 32],
    /// Its X25519 public key, if it gave one.
    pub x25519: Option<[u8; 32]>,
    /// The Ed25519 key's fingerprint (`hallmark_core::reader::fingerprint`).
    pub fingerprint: String,
    /// Its organisation (personal data: never in a public leaf).
    pub organisation: String,
    /// Its contact (personal data: never in a public leaf).
    pub contact: String,
    /// The purpose it claimed.
    pub purpose: hallmark_core::reader::Purpose,
    /// Its status.
    pub status: hallmark_core::reader::ReaderStatus,
    /// Its grant: set by the first approval, replaced by a re-approval, kept through
    /// suspension and revocation.
    pub grant: Option<hallmark_core::reader::Grant>,
    /// The reason of its last suspension or revocation.
    pub status_reason: Option<String>,
    /// When it registered.
    pub registered_at: OffsetDateTime,
    /// When its status last changed (its registration, at first).
    pub changed_at: OffsetDateTime,
}

impl ReaderRecord {
    /// Whether the reader may read at `now`: approved, with a grant in force.
    pub fn admitted(&self, now: OffsetDateTime) -> bool {
        self.status == hallmark_core::reader::ReaderStatus::Approved
            && self.grant.as_ref().is_some_and(|g| g.in_force(now))
    }
}

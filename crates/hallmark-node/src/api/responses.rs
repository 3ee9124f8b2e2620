//! Response bodies of the admin API (success answers; errors are RFC 9457 problems,
//! [`crate::problem::Problem`]).
//!
//! Every object here is closed in its schema (`additionalProperties: false`), so a member a
//! handler adds, renames or drops without its type is caught by `tests/openapi_http.rs`.

use super::requests::{BatchCounts, ComponentReference, SectorReference, UniqueProductIdentifier};
use super::Timestamp;
use crate::backing::key_uuid;
use crate::plugins::PluginRef;
use crate::problem::ApiError;
use crate::service;
use hallmark_core::access::PerAudience;
use hallmark_keys::KeyEvent;
use hallmark_store::{
    ApiKeyRecord, AuditRecord, Page, PassportRecord, ProductLinkRecord, SignedForms,
    SigningKeyRecord,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

/// `GET /api/v1/whoami`: the authenticated principal.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[schemars(deny_unknown_fields)]
pub enum Whoami {
    /// An API key.
    ApiKey {
        /// The key's id (as listed by `GET /api/v1/api-keys`).
        #[serde(rename = "keyId")]
        key_id: Uuid,
        /// Its scope.
        #[schemars(schema_with = "super::wire::scope")]
        scope: &'static str,
    },
    /// The admin login from the configuration.
    Admin {
        /// The configured user name.
        username: String,
        /// Always `admin`.
        #[schemars(extend("const" = "admin"))]
        scope: &'static str,
    },
}

/// A passport's record: identity, status and version counters (no content).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct PassportSummary {
    /// The passport id (UUIDv7).
    pub id: Uuid,
    /// GTIN-14 of the product.
    pub gtin: String,
    /// Sector id.
    pub sector: String,
    /// Economic operator identifier.
    pub economic_operator_id: String,
    /// Lifecycle status.
    #[schemars(schema_with = "super::wire::passport_status")]
    pub status: &'static str,
    /// The reason given for the current status (suspend, archive, deactivate).
    pub status_reason: Option<String>,
    /// The published version served (0 before the first publication).
    pub current_version: u32,
    /// When the passport was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// When it was first published.
    pub published_at: Option<Timestamp>,
    /// The economic operator's reference for it (in answers to a lookup by reference).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<String>,
}

impl From<&PassportRecord> for PassportSummary {
    fn from(r: &PassportRecord) -> Self {
        PassportSummary {
            id: r.id.uuid(),
            gtin: r.gtin.clone(),
            sector: r.sector_id.clone(),
            economic_operator_id: r.economic_operator_id.clone(),
            status: r.status.as_str(),
            status_reason: r.status_reason.clone(),
            current_version: r.current_version,
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
            published_at: r.published_at.map(Timestamp),
            external_ref: None,
        }
    }
}

/// `POST /api/v1/passports` (201): the new passport's record, its draft version (1) and the
/// draft's validation report.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct DraftCreated {
    /// The record.
    #[serde(flatten)]
    pub passport: PassportSummary,
    /// The pending draft's version.
    pub draft_version: u32,
    /// Whether the draft is publishable as it stands.
    pub validation: ValidationReport,
}

/// `PUT /api/v1/passports/{id}/draft` and `POST /api/v1/passports/{id}/versions` (201).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct DraftSaved {
    /// The passport id.
    pub id: Uuid,
    /// The pending draft's version.
    pub draft_version: u32,
    /// Whether the draft is publishable as it stands.
    pub validation: ValidationReport,
}

/// A validation report (`POST /api/v1/passports/validate`, and the `validation` of a draft
/// write): `valid` means publishable — the envelope and the sector's JSON Schema hold and
/// the sector plugin, if one serves the sector version, found no error.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ValidationReport {
    /// Publishable as it stands.
    pub valid: bool,
    /// Envelope and JSON Schema issues.
    pub issues: Vec<Issue>,
    /// Findings that do not block publication, e.g. an operator or facility identifier
    /// that is not ISO/IEC 15459 (generic sector), or a battery passport without
    /// `commodityCode`.
    pub warnings: Vec<Issue>,
    /// The sector plugin's verdict; `null` when no plugin serves the sector version or when
    /// the JSON Schema did not hold (the plugin does not run then).
    pub plugin: Option<PluginReport>,
}

/// Something wrong with a submission, at a place in it (one definition with the
/// `invalid-passport` problem's `issues`).
pub use crate::problem::Issue;

/// A sector plugin's verdict in a validation report.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum PluginReport {
    /// The plugin ran.
    Checked(PluginVerdict),
    /// The plugin gave no verdict (a draft write still saves the draft, reported not valid).
    Failed(PluginFailure),
}

/// The plugin ran: which one, and what it found.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct PluginVerdict {
    /// Plugin name (as signed in its manifest).
    pub name: String,
    /// Plugin version.
    pub version: String,
    /// SHA-256 of the module, hex.
    pub sha256: String,
    /// Its findings (an `error` blocks publication).
    pub findings: Vec<Finding>,
}

impl PluginVerdict {
    /// The verdict of `plugin`.
    pub fn new(plugin: PluginRef, findings: Vec<hallmark_sandbox::Finding>) -> Self {
        let PluginRef {
            name,
            version,
            sha256,
        } = plugin;
        PluginVerdict {
            name,
            version,
            sha256,
            findings: findings.into_iter().map(Finding::from).collect(),
        }
    }

    /// The verdict of a gate (`None`: no plugin serves the sector version).
    pub fn of(verdict: crate::plugins::Verdict) -> Option<Self> {
        match verdict {
            crate::plugins::Verdict::Ungated => None,
            crate::plugins::Verdict::Checked { plugin, findings } => {
                Some(PluginVerdict::new(plugin, findings))
            }
        }
    }
}

/// One finding of a sector plugin.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Finding {
    /// RFC 6901 JSON pointer into the passport (`/data/…`).
    pub pointer: String,
    /// `error` blocks publication; `warning` and `info` do not.
    #[schemars(schema_with = "super::wire::severity")]
    pub severity: hallmark_sandbox::Severity,
    /// What is wrong, for a human.
    pub message: String,
}

impl From<hallmark_sandbox::Finding> for Finding {
    fn from(f: hallmark_sandbox::Finding) -> Self {
        let hallmark_sandbox::Finding {
            pointer,
            severity,
            message,
        } = f;
        Finding {
            pointer,
            severity,
            message,
        }
    }
}

/// The plugin gave no verdict.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct PluginFailure {
    /// The plugin's name, when one ran.
    pub name: Option<String>,
    /// The plugin's version, when one ran.
    pub version: Option<String>,
    /// How it failed.
    pub failed: FailureDetail,
}

/// How a plugin failed.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct FailureDetail {
    /// Failure mode (`out-of-fuel`, `deadline`, `memory-limit`, `trap`, `missing`, …).
    pub reason: &'static str,
    /// One line: what happened.
    pub detail: String,
}

/// `POST /api/v1/passports/{id}/publish`: the version published, where it is served, and
/// its transparency-log leaf.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Published {
    /// The passport id.
    pub id: Uuid,
    /// The version published.
    pub version: u32,
    /// Always `published`.
    #[schemars(extend("const" = "published"))]
    pub status: &'static str,
    /// The passport-signing key that signed it.
    pub key_id: String,
    /// The passport's public URL (current version).
    pub url: String,
    /// This version's public URL (immutable).
    pub version_url: String,
    /// The sector plugin's verdict (`null`: no plugin serves the sector version).
    pub plugin: Option<PluginVerdict>,
    /// Validation warnings that did not refuse the publish (e.g. identifiers that are not
    /// ISO/IEC 15459).
    pub warnings: Vec<Issue>,
    /// Index of the publish event's leaf in the transparency log.
    pub log_index: u64,
    /// Its inclusion proof.
    pub log_inclusion_url: String,
    /// The log's latest checkpoint.
    pub log_checkpoint_url: String,
}

/// `GET /api/v1/passports`: one page of records, newest first.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct PassportPage {
    /// The records.
    pub items: Vec<PassportSummary>,
    /// The cursor of the next page (`after=`), `null` on the last page.
    pub next: Option<Uuid>,
}

/// `GET /api/v1/passports/{id}`: the record, the pending draft and the current version with
/// its credentials for every audience.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct PassportDetail {
    /// The record.
    #[serde(flatten)]
    pub passport: PassportSummary,
    /// The pending draft, if there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub draft: Option<PendingDraft>,
    /// The current published version, once there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<CurrentVersion>,
}

/// A pending draft.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct PendingDraft {
    /// Its version (the next to publish).
    pub version: u32,
    /// The draft passport as stored.
    #[schemars(with = "StoredPassport")]
    pub passport: Value,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// The current published version.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct CurrentVersion {
    /// Its version.
    pub version: u32,
    /// The key that signed it.
    pub key_id: String,
    /// When it was signed.
    pub signed_at: Timestamp,
    /// The passport as signed (every tier).
    #[schemars(with = "StoredPassport")]
    pub passport: Value,
    /// The credentials as issued, one per audience.
    #[schemars(with = "AudienceCredentials")]
    pub credentials: PerAudience<SignedCredential>,
}

/// A version's credentials, one per audience (each a view of the passport for that tier).
/// (The schema of `PerAudience<SignedCredential>`, serialised as it is.)
#[derive(JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct AudienceCredentials {
    /// What anyone may see (served on the public listener).
    pub public: SignedCredential,
    /// For persons with a legitimate interest.
    pub legitimate_interest: SignedCredential,
    /// For notified bodies, market surveillance authorities and the Commission (everything).
    pub authority: SignedCredential,
}

/// One credential in both secured forms.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct SignedCredential {
    /// The VC 2.0 credential secured with an `eddsa-jcs-2022` Data Integrity proof.
    #[schemars(with = "Map<String, Value>")]
    pub data_integrity: Value,
    /// The same credential as a `vc+jwt` (compact JWS).
    pub jwt: String,
}

impl TryFrom<&SignedForms> for SignedCredential {
    type Error = ApiError;

    /// A stored Data Integrity credential that is not JSON is a corrupt row: a logged 500,
    /// never `null`.
    fn try_from(f: &SignedForms) -> Result<Self, ApiError> {
        Ok(SignedCredential {
            data_integrity: stored_json(&f.data_integrity, "a stored credential")?,
            jwt: f.jwt.clone(),
        })
    }
}

/// Stored JSON bytes (a passport, a credential) as a value; bytes that are not JSON are a
/// corrupt row (logged, 500).
fn stored_json(bytes: &[u8], what: &str) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        tracing::error!(error = %e, "{what} is not JSON");
        ApiError::Internal
    })
}

/// A passport as the node stores and signs it: a submission plus what the node assigns.
/// (Schema only: read-path answers carry the stored bytes.)
#[derive(Debug, Clone, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StoredPassport {
    /// `urn:uuid:<UUIDv7>`.
    #[schemars(pattern(
        r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$"
    ))]
    pub id: String,
    /// The product identifier.
    pub unique_product_identifier: UniqueProductIdentifier,
    /// `model`, `batch` or `item`.
    #[schemars(schema_with = "super::wire::granularity")]
    pub granularity: String,
    /// Economic operator identifier.
    pub economic_operator_id: String,
    /// Facility identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facility_id: Option<String>,
    /// Customs commodity code (HS / CN / TARIC), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commodity_code: Option<String>,
    /// Sector data model and version.
    pub sector: SectorReference,
    /// Lifecycle status.
    #[schemars(schema_with = "super::wire::passport_status")]
    pub status: String,
    /// Content version, from 1.
    #[schemars(range(min = 1))]
    pub version: u32,
    /// Created (RFC 3339).
    #[schemars(extend("format" = "date-time"))]
    pub created_at: String,
    /// Last changed (RFC 3339).
    #[schemars(extend("format" = "date-time"))]
    pub updated_at: String,
    /// First published (RFC 3339); absent while a draft.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date-time"))]
    pub published_at: Option<String>,
    /// Component references.
    pub components: Vec<ComponentReference>,
    /// Sector data.
    pub data: Map<String, Value>,
}

/// `GET /api/v1/passports/{id}/history`: the passport's audit events, oldest first.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct History {
    /// The events.
    pub events: Vec<AuditEntry>,
}

/// One audit event (also a transparency-log leaf).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct AuditEntry {
    /// Sequence number (the log leaf index + 1).
    pub seq: u64,
    /// When.
    pub at: Timestamp,
    /// Who: `api-key:<id>`, `admin:<user name>` or `node`.
    pub actor: String,
    /// What, e.g. `passport.published`.
    pub action: String,
    /// What else it concerns (an API key prefix, a signing key id), if anything.
    pub subject: Option<String>,
    /// Details of the action (free-form per action).
    pub detail: Value,
}

impl From<&AuditRecord> for AuditEntry {
    fn from(r: &AuditRecord) -> Self {
        AuditEntry {
            seq: r.seq,
            at: Timestamp(r.event.at),
            actor: r.event.actor.clone(),
            action: r.event.action.clone(),
            subject: r.event.subject.clone(),
            detail: r.event.detail.clone(),
        }
    }
}

/// An API key's metadata (never the secret nor its hash).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ApiKeyInfo {
    /// The key's id.
    pub id: Uuid,
    /// Its lookup prefix (the start of the key text).
    pub prefix: String,
    /// Its scope.
    #[schemars(schema_with = "super::wire::scope")]
    pub scope: String,
    /// Its label.
    pub label: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it expires, if ever.
    pub expires_at: Option<Timestamp>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
    /// When it was last used (updated at most once a minute), if ever.
    pub last_used_at: Option<Timestamp>,
}

impl From<&ApiKeyRecord> for ApiKeyInfo {
    fn from(r: &ApiKeyRecord) -> Self {
        ApiKeyInfo {
            id: key_uuid(&r.prefix),
            prefix: r.prefix.clone(),
            scope: r.scope.clone(),
            label: r.label.clone(),
            created_at: Timestamp(r.created_at),
            expires_at: r.expires_at.map(Timestamp),
            revoked_at: r.revoked_at.map(Timestamp),
            last_used_at: r.last_used_at.map(Timestamp),
        }
    }
}

/// `POST /api/v1/api-keys` (201): the new key's metadata and, this once, the key itself.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ApiKeyCreated {
    /// The metadata.
    #[serde(flatten)]
    pub info: ApiKeyInfo,
    /// The key (`hmk_<r|w|a>_…`): shown once, not recoverable.
    pub key: String,
    /// A reminder of that.
    pub note: &'static str,
}

/// `GET /api/v1/api-keys`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ApiKeyList {
    /// Every key, revoked and expired ones included.
    pub items: Vec<ApiKeyInfo>,
}

/// `GET /api/v1/signing-keys`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct SigningKeyList {
    /// Whether the signing backend can sign now (an HSM may be unavailable).
    pub signing_available: bool,
    /// The keys' public metadata.
    pub items: Vec<SigningKeyInfo>,
}

/// A signing key's public metadata.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct SigningKeyInfo {
    /// Key id (its Multikey).
    pub key_id: String,
    /// What it signs.
    #[schemars(schema_with = "super::wire::purpose")]
    pub purpose: String,
    /// Where its private half lives.
    #[schemars(schema_with = "super::wire::backend")]
    pub backend: String,
    /// The public key, Multikey (`z…`).
    pub public_key_multibase: String,
    /// Its status.
    #[schemars(schema_with = "super::wire::signing_key_status")]
    pub status: &'static str,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was retired, if it was.
    pub retired_at: Option<Timestamp>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Timestamp>,
    /// Why it was revoked.
    pub revocation_reason: Option<String>,
}

impl From<&SigningKeyRecord> for SigningKeyInfo {
    fn from(k: &SigningKeyRecord) -> Self {
        SigningKeyInfo {
            key_id: k.key_id.clone(),
            purpose: k.purpose.clone(),
            backend: k.backend.clone(),
            public_key_multibase: k.public_key_multibase.clone(),
            status: k.status.as_str(),
            created_at: Timestamp(k.created_at),
            retired_at: k.retired_at.map(Timestamp),
            revoked_at: k.revoked_at.map(Timestamp),
            revocation_reason: k.revocation_reason.clone(),
        }
    }
}

/// `POST /api/v1/signing-keys/rotate` and `POST /api/v1/signing-keys/{id}/revoke`: the
/// key lifecycle event, as appended to the audit log.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct KeyChange {
    /// The event.
    #[schemars(with = "KeyChangeEvent")]
    pub event: KeyEvent,
}

/// The schema of the key lifecycle events these routes answer (`hallmark_keys::KeyEvent`,
/// serialised as it is).
#[derive(JsonSchema)]
#[serde(tag = "event", rename_all = "kebab-case")]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
enum KeyChangeEvent {
    /// The passport-signing key was rotated; the old key is retired (it stays in the DID
    /// document, so earlier credentials still verify).
    Rotated {
        /// The retired key.
        retired: String,
        /// The new current key.
        current: String,
        /// The purpose.
        #[schemars(schema_with = "super::wire::purpose")]
        purpose: String,
        /// When.
        #[schemars(extend("format" = "date-time"))]
        at: String,
    },
    /// A key was revoked (it leaves the DID document).
    Revoked {
        /// The key.
        key: String,
        /// Its purpose.
        #[schemars(schema_with = "super::wire::purpose")]
        purpose: String,
        /// Why.
        reason: String,
        /// When.
        #[schemars(extend("format" = "date-time"))]
        at: String,
    },
}

// From the use-cases' results (`crate::service`) to the admin API's bodies.

impl From<service::Validation> for ValidationReport {
    fn from(v: service::Validation) -> Self {
        let valid = v.valid();
        let plugin = v.plugin.map(|p| match p {
            service::PluginCheck::Checked { plugin, findings } => {
                PluginReport::Checked(PluginVerdict::new(plugin, findings))
            }
            service::PluginCheck::Failed {
                plugin,
                reason,
                detail,
            } => PluginReport::Failed(PluginFailure {
                name: plugin.as_ref().map(|p| p.name.clone()),
                version: plugin.as_ref().map(|p| p.version.clone()),
                failed: FailureDetail { reason, detail },
            }),
        });
        ValidationReport {
            valid,
            issues: v.issues.into_iter().map(Issue::from).collect(),
            warnings: v.warnings.into_iter().map(Issue::from).collect(),
            plugin,
        }
    }
}

impl From<service::DraftCreated> for DraftCreated {
    fn from(d: service::DraftCreated) -> Self {
        DraftCreated {
            passport: PassportSummary::from(&d.record),
            draft_version: d.draft_version,
            validation: d.validation.into(),
        }
    }
}

impl From<service::DraftSaved> for DraftSaved {
    fn from(d: service::DraftSaved) -> Self {
        DraftSaved {
            id: d.id.uuid(),
            draft_version: d.draft_version,
            validation: d.validation.into(),
        }
    }
}

impl From<service::Publication> for Published {
    fn from(p: service::Publication) -> Self {
        Published {
            id: p.id.uuid(),
            version: p.version,
            status: hallmark_core::passport::PassportStatus::Published.as_str(),
            key_id: p.key_id,
            url: p.url,
            version_url: p.version_url,
            plugin: PluginVerdict::of(p.plugin),
            warnings: p.warnings.into_iter().map(Issue::from).collect(),
            log_index: p.log_index,
            log_inclusion_url: p.log_inclusion_url,
            log_checkpoint_url: p.log_checkpoint_url,
        }
    }
}

impl From<Page<PassportRecord>> for PassportPage {
    fn from(page: Page<PassportRecord>) -> Self {
        PassportPage {
            items: page.items.iter().map(PassportSummary::from).collect(),
            next: page.next.map(|n| n.uuid()),
        }
    }
}

impl TryFrom<service::PassportView> for PassportDetail {
    type Error = ApiError;

    fn try_from(v: service::PassportView) -> Result<Self, ApiError> {
        let draft = match v.draft {
            None => None,
            Some(d) => Some(PendingDraft {
                version: d.version,
                passport: stored_json(&d.content, "a stored draft")?,
                updated_at: Timestamp(d.updated_at),
            }),
        };
        let current = match v.current {
            None => None,
            Some(c) => Some(CurrentVersion {
                version: c.version,
                key_id: c.key_id,
                signed_at: Timestamp(c.signed_at),
                passport: stored_json(&c.content, "a stored version")?,
                credentials: PerAudience::try_from_fn(|a| {
                    SignedCredential::try_from(c.credentials.get(a))
                })?,
            }),
        };
        Ok(PassportDetail {
            passport: PassportSummary::from(&v.record),
            draft,
            current,
        })
    }
}

impl From<Vec<AuditRecord>> for History {
    fn from(events: Vec<AuditRecord>) -> Self {
        History {
            events: events.iter().map(AuditEntry::from).collect(),
        }
    }
}

impl From<service::api_keys::NewKey> for ApiKeyCreated {
    fn from(k: service::api_keys::NewKey) -> Self {
        ApiKeyCreated {
            info: ApiKeyInfo::from(&k.record),
            key: k.key.expose_secret().to_string(),
            note: "store this key now: it is shown once and cannot be recovered",
        }
    }
}

impl From<Vec<ApiKeyRecord>> for ApiKeyList {
    fn from(keys: Vec<ApiKeyRecord>) -> Self {
        ApiKeyList {
            items: keys.iter().map(ApiKeyInfo::from).collect(),
        }
    }
}

impl From<service::keys::SigningKeys> for SigningKeyList {
    fn from(k: service::keys::SigningKeys) -> Self {
        SigningKeyList {
            signing_available: k.available,
            items: k.keys.iter().map(SigningKeyInfo::from).collect(),
        }
    }
}

impl From<KeyEvent> for KeyChange {
    fn from(event: KeyEvent) -> Self {
        KeyChange { event }
    }
}

/// An operator link (`POST /api/v1/links` 201, `DELETE /api/v1/links/{id}` 200, each item
/// of `GET /api/v1/links`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct LinkInfo {
    /// The link's id (UUIDv7).
    pub id: Uuid,
    /// `active` (served) or `removed` (for good).
    #[schemars(schema_with = "link_status")]
    pub status: &'static str,
    /// The GTIN-14.
    pub gtin: String,
    /// The level it is served at: `model`, `batch` (with `lot`) or `item` (with `serial`).
    #[schemars(schema_with = "super::wire::granularity")]
    pub level: &'static str,
    /// The lot (batch level).
    pub lot: Option<String>,
    /// The serial (item level).
    pub serial: Option<String>,
    /// The link type, a full URI (`https://ref.gs1.org/voc/…` or
    /// `https://w3id.org/hallmark/voc/…`).
    pub link_type: String,
    /// The target.
    pub href: String,
    /// The title.
    pub title: String,
    /// The target's media type.
    #[serde(rename = "type")]
    pub media_type: Option<String>,
    /// The target's languages.
    pub hreflang: Vec<String>,
    /// When it was added.
    pub created_at: Timestamp,
    /// When it was removed, if it was.
    pub removed_at: Option<Timestamp>,
    /// Why it was removed.
    pub removed_reason: Option<String>,
}

fn link_status(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    super::names(["active", "removed"])
}

impl TryFrom<&ProductLinkRecord> for LinkInfo {
    type Error = ApiError;

    /// A stored id that is not a UUID is a logged 500 (the node writes only UUIDs).
    fn try_from(r: &ProductLinkRecord) -> Result<Self, ApiError> {
        let id = Uuid::try_parse(&r.id).map_err(|e| {
            tracing::error!(link = %r.id, error = %e, "a stored link id is not a UUID");
            ApiError::Internal
        })?;
        Ok(LinkInfo {
            id,
            status: if r.removed_at.is_some() {
                "removed"
            } else {
                "active"
            },
            gtin: r.product.gtin.clone(),
            level: r.product.granularity.as_str(),
            lot: r.product.lot.clone(),
            serial: r.product.serial.clone(),
            link_type: r.link_type.clone(),
            href: r.href.clone(),
            title: r.title.clone(),
            media_type: r.media_type.clone(),
            hreflang: r.hreflang.clone(),
            created_at: Timestamp(r.created_at),
            removed_at: r.removed_at.map(Timestamp),
            removed_reason: r.removed_reason.clone(),
        })
    }
}

/// `GET /api/v1/links`: the links of a GTIN, in the order they were added.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct LinkList {
    /// The links (at most 1000).
    pub items: Vec<LinkInfo>,
}

impl TryFrom<Vec<ProductLinkRecord>> for LinkList {
    type Error = ApiError;

    fn try_from(records: Vec<ProductLinkRecord>) -> Result<Self, ApiError> {
        Ok(LinkList {
            items: records
                .iter()
                .map(LinkInfo::try_from)
                .collect::<Result<_, _>>()?,
        })
    }
}

/// `POST /api/v1/passports/batch`: one result per item, in order, and the counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchAnswer {
    /// One per item, in the order given.
    pub items: Vec<BatchItemResult>,
    /// The results counted (in a dry run, by what would be done).
    pub counts: BatchCounts,
}

/// What became of one item of a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BatchItemResult {
    /// Its index in the batch (from 0).
    pub index: usize,
    /// Its reference.
    pub external_ref: String,
    /// `created`, `updated`, `published`, `unchanged` or `failed`; in a dry run
    /// `create`, `update`, `publish`, `unchanged` or `failed`.
    #[schemars(schema_with = "batch_result")]
    pub result: String,
    /// The passport (absent for a failed item and a dry run's new passport).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    /// The pending draft's version, when one is left pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft_version: Option<u32>,
    /// The published version served, once there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// The transparency-log leaf of the item's `passport.published` event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_index: Option<u64>,
    /// Why it failed: the RFC 9457 problem the single-passport route would have answered
    /// (with its `status`); nothing was written for the item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<crate::problem::Problem>,
    /// Validation warnings of a written (or, in a dry run, writable) item, e.g. identifiers
    /// that are not ISO/IEC 15459; absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Issue>,
}

fn batch_result(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    super::names([
        "created",
        "updated",
        "published",
        "unchanged",
        "failed",
        "create",
        "update",
        "publish",
    ])
}

impl From<service::BatchOutcome> for BatchAnswer {
    fn from(b: service::BatchOutcome) -> Self {
        use service::ItemResult as R;
        let dry = b.dry_run;
        let items = b
            .items
            .into_iter()
            .map(|item| {
                let mut out = BatchItemResult {
                    index: item.index,
                    external_ref: item.external_ref,
                    result: "failed".to_owned(),
                    id: None,
                    draft_version: None,
                    version: None,
                    log_index: None,
                    problem: None,
                    warnings: Vec::new(),
                };
                match item.result {
                    Ok(done) => {
                        out.result = match (done.result, dry) {
                            (R::Created, false) => "created",
                            (R::Updated, false) => "updated",
                            (R::Published, false) => "published",
                            (R::Created, true) => "create",
                            (R::Updated, true) => "update",
                            (R::Published, true) => "publish",
                            (R::Unchanged, _) => "unchanged",
                        }
                        .to_owned();
                        out.id = done.id.map(|id| id.uuid());
                        out.draft_version = done.draft_version;
                        out.version = done.version;
                        out.log_index = done.log_index;
                        out.warnings = done.warnings.into_iter().map(Issue::from).collect();
                    }
                    Err(e) => out.problem = Some(ApiError::from(e).problem()),
                }
                out
            })
            .collect();
        let c = b.counts;
        BatchAnswer {
            items,
            counts: BatchCounts {
                created: c.created,
                updated: c.updated,
                published: c.published,
                unchanged: c.unchanged,
                failed: c.failed,
            },
        }
    }
}

/// `POST /api/v1/imports/{id}/finish`: the `import.completed` event recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImportFinished {
    /// The import.
    pub import_id: String,
    /// The counts recorded.
    pub counts: BatchCounts,
    /// `node` (this node counted every batch it answered for the import) or `client` (the
    /// counts the client sent).
    #[schemars(schema_with = "counted_by")]
    pub counted_by: String,
    /// The transparency-log leaf of the event (private: served as hash only).
    pub log_index: u64,
}

fn counted_by(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    super::names(["node", "client"])
}

impl From<service::ImportFinished> for ImportFinished {
    fn from(f: service::ImportFinished) -> Self {
        let c = f.detail.counts;
        ImportFinished {
            import_id: f.detail.import_id,
            counts: BatchCounts {
                created: c.created,
                updated: c.updated,
                published: c.published,
                unchanged: c.unchanged,
                failed: c.failed,
            },
            counted_by: f.detail.counted_by,
            log_index: f.seq.saturating_sub(1),
        }
    }
}

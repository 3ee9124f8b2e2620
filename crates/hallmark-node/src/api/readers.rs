//! Readers' bodies (issue 20; docs/access.md): the public registration
//! (`POST <base>/readers`) and the admin routes under `/api/v1/readers`
//! ([`crate::service::readers`]).

use super::Timestamp;
use hallmark_core::reader::{key_text, Purpose, ReaderRegistration, ReaderStatus};
use hallmark_store::ReaderRecord;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `POST <base>/readers`: a reader's registration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewReader {
    /// The reader's Ed25519 public key: 32 bytes, base64url without padding. It signs the
    /// reader's requests; its fingerprint is what the operator checks over the phone.
    pub ed25519_public_key: String,
    /// An X25519 public key for encrypted answers: a JWK `{"kty":"OKP","crv":"X25519","x":…}`
    /// or 32 bytes base64url.
    #[serde(default)]
    pub x25519_public_key: Option<Value>,
    /// The organisation (1–200 characters). Kept for the operator; only its SHA-256 is logged.
    pub organisation: String,
    /// How the operator reaches the reader (1–200 characters). Only its SHA-256 is logged.
    pub contact: String,
    /// The legal basis or purpose claimed.
    #[schemars(schema_with = "purpose")]
    pub purpose: String,
}

impl From<NewReader> for ReaderRegistration {
    fn from(b: NewReader) -> Self {
        ReaderRegistration {
            ed25519_public_key: b.ed25519_public_key,
            x25519_public_key: b.x25519_public_key,
            organisation: b.organisation,
            contact: b.contact,
            purpose: b.purpose,
        }
    }
}

fn purpose(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    super::names(Purpose::ALL.map(Purpose::as_str))
}

fn status(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    super::names(ReaderStatus::ALL.map(ReaderStatus::as_str))
}

fn tier(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    super::names(["legitimateInterest", "authority"])
}

fn scope(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "description": "Which passports: {\"kind\":\"all\"}, {\"kind\":\"sector\",\"sector\":\"battery\"}, {\"kind\":\"gtins\",\"gtins\":[GTIN-14, …]} or {\"kind\":\"passports\",\"passports\":[\"urn:uuid:…\", …]} (1 to 1000 entries)",
        "required": ["kind"],
        "properties": { "kind": { "type": "string", "enum": ["all", "sector", "gtins", "passports"] } },
    })
}

/// `POST <base>/readers` 201: the reader as registered (inert until approved).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ReaderRegistered {
    /// The reader's id (UUIDv7).
    pub id: String,
    /// The key's fingerprint (`XXXX-XXXX-XXXX-XXXX`): read it to the operator.
    pub fingerprint: String,
    /// Always `registered`.
    #[schemars(schema_with = "status")]
    pub status: &'static str,
}

impl From<&ReaderRecord> for ReaderRegistered {
    fn from(r: &ReaderRecord) -> Self {
        ReaderRegistered {
            id: r.id.to_string(),
            fingerprint: r.fingerprint.clone(),
            status: r.status.as_str(),
        }
    }
}

/// `POST /api/v1/readers/{id}/approve`: the grant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApproveReader {
    /// What the reader reads.
    #[schemars(schema_with = "tier")]
    pub tier: String,
    /// Which passports.
    #[schemars(schema_with = "scope")]
    pub scope: Value,
    /// Until when (RFC 3339; in the future, at most three years away).
    pub expires_at: String,
}

/// A reader's grant as answered.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct GrantInfo {
    /// What the reader reads.
    #[schemars(schema_with = "tier")]
    pub tier: &'static str,
    /// Which passports.
    #[schemars(schema_with = "scope")]
    pub scope: Value,
    /// Until when.
    pub expires_at: Timestamp,
}

/// A reader (admin routes: each item of `GET /api/v1/readers`, `GET /api/v1/readers/{id}`,
/// and the answer of every change).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ReaderInfo {
    /// Its id (UUIDv7).
    pub id: String,
    /// `registered`, `approved`, `suspended` or `revoked`.
    #[schemars(schema_with = "status")]
    pub status: &'static str,
    /// Its key's fingerprint.
    pub fingerprint: String,
    /// Its Ed25519 public key (base64url).
    pub ed25519_public_key: String,
    /// Its X25519 public key (base64url), if it gave one.
    pub x25519_public_key: Option<String>,
    /// Its organisation.
    pub organisation: String,
    /// Its contact.
    pub contact: String,
    /// The purpose it claimed.
    #[schemars(schema_with = "purpose")]
    pub purpose: &'static str,
    /// Its grant (from its first approval on).
    pub grant: Option<GrantInfo>,
    /// Whether it may read now: approved, with a grant not expired.
    pub admitted: bool,
    /// The reason of its last suspension or revocation.
    pub status_reason: Option<String>,
    /// When it registered.
    pub registered_at: Timestamp,
    /// When its status last changed.
    pub changed_at: Timestamp,
}

impl ReaderInfo {
    /// The answer for a stored reader at `now`.
    pub fn of(
        r: &ReaderRecord,
        now: time::OffsetDateTime,
    ) -> Result<Self, crate::problem::ApiError> {
        let grant = match &r.grant {
            Some(g) => Some(GrantInfo {
                tier: g.tier.as_str(),
                scope: serde_json::to_value(&g.scope).map_err(|e| {
                    tracing::error!(error = %e, "a reader's scope did not serialise");
                    crate::problem::ApiError::Internal
                })?,
                expires_at: Timestamp(g.expires_at),
            }),
            None => None,
        };
        Ok(ReaderInfo {
            id: r.id.to_string(),
            status: r.status.as_str(),
            fingerprint: r.fingerprint.clone(),
            ed25519_public_key: key_text(&r.ed25519),
            x25519_public_key: r.x25519.as_ref().map(key_text),
            organisation: r.organisation.clone(),
            contact: r.contact.clone(),
            purpose: r.purpose.as_str(),
            grant,
            admitted: r.admitted(now),
            status_reason: r.status_reason.clone(),
            registered_at: Timestamp(r.registered_at),
            changed_at: Timestamp(r.changed_at),
        })
    }
}

/// `GET <base>/readers/me` (public listener, signed): a reader's own registration as the
/// node holds it. Not the organisation or contact (the reader knows them).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ReaderSelf {
    /// The reader's id: the `keyid` it signs with.
    pub id: String,
    /// `registered`, `approved`, `suspended` or `revoked`.
    #[schemars(schema_with = "status")]
    pub status: &'static str,
    /// Its key's fingerprint (what the operator confirms out of band).
    pub fingerprint: String,
    /// The purpose it claimed.
    #[schemars(schema_with = "purpose")]
    pub purpose: &'static str,
    /// Whether it registered an X25519 key (sealed answers need one).
    pub encryption_key: bool,
    /// Its grant (from its first approval on).
    pub grant: Option<GrantInfo>,
    /// Whether it may read now: approved, with a grant not expired.
    pub admitted: bool,
    /// The operator's reason for the last suspension or revocation.
    pub reason: Option<String>,
}

impl ReaderSelf {
    /// The answer for a stored reader at `now`.
    pub fn of(
        r: &ReaderRecord,
        now: time::OffsetDateTime,
    ) -> Result<Self, crate::problem::ApiError> {
        let info = ReaderInfo::of(r, now)?;
        Ok(ReaderSelf {
            id: info.id,
            status: info.status,
            fingerprint: info.fingerprint,
            purpose: info.purpose,
            encryption_key: r.x25519.is_some(),
            grant: info.grant,
            admitted: info.admitted,
            reason: info.status_reason,
        })
    }
}

/// `GET /api/v1/readers`: one page, by id.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ReaderList {
    /// The readers.
    pub items: Vec<ReaderInfo>,
    /// Pass as `after` for the next page; `null` on the last.
    pub next: Option<String>,
}

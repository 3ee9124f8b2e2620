//! Column lists, the conversions between the domain model and stored values, and the row
//! decoders every operation shares.

use hallmark_core::passport::{Granularity, PassportId, PassportStatus};
use sha2::{Digest, Sha256};
use time::{OffsetDateTime, UtcOffset};

use super::db::Columns;
use crate::error::{Result, StoreError};
use crate::model::{
    ApiKeyHashScheme, ApiKeyRecord, AuditEvent, AuditRecord, CheckpointRecord, Credentials,
    DraftRecord, PassportRecord, ProductKey, SignedForms, SigningKeyRecord, SigningKeyStatus,
    StatusListRecord, StatusPurpose, StoredLeaf, VersionRecord,
};

pub(crate) const PASSPORT_COLS: &str = "id, gtin, granularity, lot, serial, sector_id, \
     economic_operator_id, status, status_reason, current_version, created_at, updated_at, \
     published_at";
pub(crate) const DRAFT_COLS: &str =
    "passport_id, version, content, submission_sha256, created_at, updated_at";
pub(crate) const VERSION_COLS: &str = "passport_id, version, content, content_sha256, key_id, \
     signed_at, public_di, public_jwt, legitimate_interest_di, legitimate_interest_jwt, \
     authority_di, authority_jwt, created_at";
pub(crate) const AUDIT_COLS: &str = "seq, at, actor, action, passport_id, subject, detail";
pub(crate) const API_KEY_COLS: &str =
    "prefix, hash, hash_scheme, scope, label, created_at, expires_at, revoked_at, last_used_at";
pub(crate) const STATUS_LIST_COLS: &str = "purpose, list, version, credential, credential_jwt, \
     encoded_list, valid_from, valid_until, audit_seq, created_at";
pub(crate) const SIGNING_KEY_COLS: &str = "key_id, purpose, backend, public_key_multibase, \
     status, created_at, retired_at, revoked_at, revocation_reason, tag";

/// Normalises a time to UTC with microsecond precision (what PostgreSQL stores), so both
/// backends return exactly what they were given.
pub(crate) fn utc(t: OffsetDateTime) -> Result<OffsetDateTime> {
    let t = t
        .checked_to_offset(UtcOffset::UTC)
        .ok_or_else(|| StoreError::Constraint("timestamp out of range".to_owned()))?;
    let micros = t.microsecond();
    t.replace_nanosecond(micros * 1_000)
        .map_err(|e| StoreError::Constraint(format!("timestamp: {e}")))
}

pub(crate) fn opt_utc(t: Option<OffsetDateTime>) -> Result<Option<OffsetDateTime>> {
    t.map(utc).transpose()
}

/// Passport ids are stored as the bare lowercase UUID.
pub(crate) fn id_text(id: &PassportId) -> String {
    id.uuid().hyphenated().to_string()
}

pub(crate) fn parse_id(s: &str) -> Result<PassportId> {
    PassportId::parse(&format!("urn:uuid:{s}"))
        .map_err(|e| StoreError::Corrupt(format!("passport id {s:?}: {e}")))
}

pub(crate) fn parse_granularity(s: &str) -> Result<Granularity> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("passport granularity {s:?}")))
}

pub(crate) fn parse_status(s: &str) -> Result<PassportStatus> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("passport status {s:?}")))
}

pub(crate) fn version_u32(v: i32) -> Result<u32> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("version {v}")))
}

pub(crate) fn version_i32(v: u32) -> Result<i32> {
    i32::try_from(v).map_err(|_| StoreError::Constraint(format!("version {v} too large")))
}

/// A list number or position as stored (`INTEGER`).
pub(crate) fn list_i32(v: u32) -> Result<i32> {
    i32::try_from(v)
        .map_err(|_| StoreError::Constraint(format!("status list number {v} too large")))
}

pub(crate) fn list_u32(v: i32) -> Result<u32> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("status list number {v}")))
}

pub(crate) fn seq_u64(v: i64) -> Result<u64> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("audit seq {v}")))
}

pub(crate) fn seq_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub(crate) fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

pub(crate) fn digest_from_vec(v: Vec<u8>) -> Result<[u8; 32]> {
    v.try_into().map_err(|_| {
        StoreError::Corrupt("a stored hash (content, leaf or root) is not 32 bytes".to_owned())
    })
}

/// A nullable 32-byte digest column (`passport_drafts.submission_sha256`).
pub(crate) fn sha256_col(v: Option<Vec<u8>>) -> Result<Option<[u8; 32]>> {
    v.map(|v| {
        v.try_into().map_err(|_| {
            StoreError::Corrupt("a stored submission digest is not 32 bytes".to_owned())
        })
    })
    .transpose()
}

/// The most checkpoints [`crate::Store::latest_checkpoints`] returns.
pub(crate) const MAX_CHECKPOINTS: u32 = 1_000;

pub(crate) fn page_limit(limit: u32) -> i64 {
    i64::from(limit.clamp(1, crate::MAX_PAGE))
}

pub(crate) fn passport_from_row(row: &impl Columns) -> Result<PassportRecord> {
    let id: String = row.col("id")?;
    let status: String = row.col("status")?;
    let gtin: String = row.col("gtin")?;
    let granularity: Option<String> = row.col("granularity")?;
    let product = match granularity {
        None => None,
        Some(g) => Some(ProductKey {
            gtin: gtin.clone(),
            granularity: parse_granularity(&g)?,
            lot: row.col("lot")?,
            serial: row.col("serial")?,
        }),
    };
    Ok(PassportRecord {
        id: parse_id(&id)?,
        gtin,
        product,
        sector_id: row.col("sector_id")?,
        economic_operator_id: row.col("economic_operator_id")?,
        status: parse_status(&status)?,
        status_reason: row.col("status_reason")?,
        current_version: version_u32(row.col("current_version")?)?,
        created_at: row.col("created_at")?,
        updated_at: row.col("updated_at")?,
        published_at: row.col("published_at")?,
    })
}

pub(crate) fn draft_from_row(row: &impl Columns) -> Result<DraftRecord> {
    let id: String = row.col("passport_id")?;
    Ok(DraftRecord {
        passport: parse_id(&id)?,
        version: version_u32(row.col("version")?)?,
        content: row.col("content")?,
        submission_sha256: sha256_col(row.col("submission_sha256")?)?,
        created_at: row.col("created_at")?,
        updated_at: row.col("updated_at")?,
    })
}

pub(crate) fn version_from_row(row: &impl Columns) -> Result<VersionRecord> {
    let id: String = row.col("passport_id")?;
    Ok(VersionRecord {
        passport: parse_id(&id)?,
        version: version_u32(row.col("version")?)?,
        content: row.col("content")?,
        content_sha256: digest_from_vec(row.col("content_sha256")?)?,
        key_id: row.col("key_id")?,
        signed_at: row.col("signed_at")?,
        credentials: Credentials {
            public: SignedForms {
                data_integrity: row.col("public_di")?,
                jwt: row.col("public_jwt")?,
            },
            legitimate_interest: SignedForms {
                data_integrity: row.col("legitimate_interest_di")?,
                jwt: row.col("legitimate_interest_jwt")?,
            },
            authority: SignedForms {
                data_integrity: row.col("authority_di")?,
                jwt: row.col("authority_jwt")?,
            },
        },
        created_at: row.col("created_at")?,
    })
}

pub(crate) fn audit_from_row(row: &impl Columns) -> Result<AuditRecord> {
    let passport: Option<String> = row.col("passport_id")?;
    let detail: String = row.col("detail")?;
    Ok(AuditRecord {
        seq: seq_u64(row.col("seq")?)?,
        event: AuditEvent {
            at: row.col("at")?,
            actor: row.col("actor")?,
            action: row.col("action")?,
            passport: passport.as_deref().map(parse_id).transpose()?,
            subject: row.col("subject")?,
            detail: serde_json::from_str(&detail)
                .map_err(|e| StoreError::Corrupt(format!("audit detail: {e}")))?,
        },
    })
}

pub(crate) fn leaf_from_row(row: &impl Columns) -> Result<StoredLeaf> {
    Ok(StoredLeaf {
        index: seq_u64(row.col("leaf_index")?)?,
        leaf_hash: digest_from_vec(row.col("leaf_hash")?)?,
        tag: row.col("tag")?,
        event: audit_from_row(row)?,
    })
}

pub(crate) fn checkpoint_from_row(row: &impl Columns) -> Result<CheckpointRecord> {
    Ok(CheckpointRecord {
        tree_size: seq_u64(row.col("tree_size")?)?,
        root_hash: digest_from_vec(row.col("root_hash")?)?,
        note: row.col("note")?,
        created_at: row.col("created_at")?,
    })
}

pub(crate) fn api_key_from_row(row: &impl Columns) -> Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        prefix: row.col("prefix")?,
        hash: row.col("hash")?,
        hash_scheme: {
            let scheme: String = row.col("hash_scheme")?;
            ApiKeyHashScheme::parse(&scheme)
                .ok_or_else(|| StoreError::Corrupt(format!("API key hash scheme {scheme:?}")))?
        },
        scope: row.col("scope")?,
        label: row.col("label")?,
        created_at: row.col("created_at")?,
        expires_at: row.col("expires_at")?,
        revoked_at: row.col("revoked_at")?,
        last_used_at: row.col("last_used_at")?,
    })
}

pub(crate) fn signing_key_from_row(row: &impl Columns) -> Result<SigningKeyRecord> {
    let status: String = row.col("status")?;
    Ok(SigningKeyRecord {
        key_id: row.col("key_id")?,
        purpose: row.col("purpose")?,
        backend: row.col("backend")?,
        public_key_multibase: row.col("public_key_multibase")?,
        status: SigningKeyStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("key status {status:?}")))?,
        created_at: row.col("created_at")?,
        retired_at: row.col("retired_at")?,
        revoked_at: row.col("revoked_at")?,
        revocation_reason: row.col("revocation_reason")?,
        tag: row.col("tag")?,
    })
}

pub(crate) fn status_list_from_row(row: &impl Columns) -> Result<StatusListRecord> {
    let purpose: String = row.col("purpose")?;
    Ok(StatusListRecord {
        purpose: StatusPurpose::parse(&purpose)
            .map_err(|_| StoreError::Corrupt(format!("status list purpose {purpose:?}")))?,
        list: list_u32(row.col("list")?)?,
        version: version_u32(row.col("version")?)?,
        credential: row.col("credential")?,
        credential_jwt: row.col("credential_jwt")?,
        encoded_list: row.col("encoded_list")?,
        valid_from: row.col("valid_from")?,
        valid_until: row.col("valid_until")?,
        seq: seq_u64(row.col("audit_seq")?)?,
        created_at: row.col("created_at")?,
    })
}

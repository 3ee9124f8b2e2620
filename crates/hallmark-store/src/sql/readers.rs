//! Readers admitted by the operator's approval (issue 20): registered inert, each status
//! change (approval with its grant, suspension, resumption, revocation) written with its
//! `reader.*` audit event in one transaction; and the nonces of their signed requests,
//! insert-only (a nonce already there is a replay).
//!
//! Writes check first and write after: a key already registered, or a change the reader's
//! status does not allow, is refused before any statement changes anything. The database's
//! triggers refuse the same for any other writer (docs/database.md, "Readers").

use hallmark_core::reader::{
    Grant, GrantScope, NewReader, Purpose, ReaderChange, ReaderId, ReaderStatus, ReaderTier,
};
use hallmark_core::tlog::event::Action;
use time::OffsetDateTime;

use super::audit::append_audit_tx;
use super::db::{query, Columns};
use super::rows::{digest_from_vec, page_limit, utc};
use super::writer::{OpFuture, Tags, WriteTx};
use super::{Backend, SqlStore};
use crate::error::{Result, StoreError};
use crate::model::{AuditEvent, ReaderRecord};

const READER_COLS: &str = "id, ed25519, x25519, fingerprint, organisation, contact, purpose, \
     status, tier, scope, expires_at, status_reason, registered_at, changed_at";

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("reader {what}: {e}"))
}

fn reader_from_row(row: &impl Columns) -> Result<ReaderRecord> {
    let id: String = row.col("id")?;
    let purpose: String = row.col("purpose")?;
    let status: String = row.col("status")?;
    let tier: Option<String> = row.col("tier")?;
    let scope: Option<String> = row.col("scope")?;
    let expires_at: Option<OffsetDateTime> = row.col("expires_at")?;
    let grant = match (tier, scope, expires_at) {
        (Some(tier), Some(scope), Some(expires_at)) => Some(Grant {
            tier: tier.parse::<ReaderTier>().map_err(|e| corrupt("tier", e))?,
            scope: serde_json::from_str::<GrantScope>(&scope).map_err(|e| corrupt("scope", e))?,
            expires_at,
        }),
        (None, None, None) => None,
        _ => return Err(corrupt("grant", "partly set")),
    };
    let x25519: Option<Vec<u8>> = row.col("x25519")?;
    Ok(ReaderRecord {
        id: id.parse().map_err(|e| corrupt("id", e))?,
        ed25519: digest_from_vec(row.col("ed25519")?)?,
        x25519: x25519.map(digest_from_vec).transpose()?,
        fingerprint: row.col("fingerprint")?,
        organisation: row.col("organisation")?,
        contact: row.col("contact")?,
        purpose: purpose
            .parse::<Purpose>()
            .map_err(|e| corrupt("purpose", e))?,
        status: status
            .parse::<ReaderStatus>()
            .map_err(|e| corrupt("status", e))?,
        grant,
        status_reason: row.col("status_reason")?,
        registered_at: row.col("registered_at")?,
        changed_at: row.col("changed_at")?,
    })
}

fn check_event(event: &AuditEvent, action: Action) -> Result<()> {
    if event.known_action() != Some(action) {
        return Err(StoreError::Constraint(format!(
            "a reader's audit event is {action}, not {:?}",
            event.action
        )));
    }
    if event.passport.is_some() {
        return Err(StoreError::Constraint(
            "a reader's audit event names no passport".to_owned(),
        ));
    }
    Ok(())
}

async fn select_reader<B: Backend>(tx: &mut WriteTx<B>, id: &str) -> Result<Option<ReaderRecord>> {
    let sql = format!(
        "SELECT {READER_COLS} FROM readers WHERE id = $1{}",
        B::FOR_UPDATE
    );
    query(&sql)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(reader_from_row)
        .transpose()
}

pub(super) async fn register_reader<B: Backend>(
    s: &SqlStore<B>,
    id: ReaderId,
    reader: NewReader,
    mut audit: AuditEvent,
) -> Result<ReaderRecord> {
    check_event(&audit, Action::ReaderRegistered)?;
    audit.subject = Some(id.to_string());
    s.write(
        move |tx: &mut WriteTx<B>, tags: Tags| -> OpFuture<'_, ReaderRecord> {
            Box::pin(async move {
                let now = utc(audit.at)?;
                let taken = query("SELECT id FROM readers WHERE ed25519 = $1 OR id = $2")
                    .bind(reader.ed25519.to_vec())
                    .bind(id.to_string())
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some(row) = taken {
                    let other: String = row.col("id")?;
                    return Err(StoreError::Conflict(format!(
                        "this key is already registered (reader {other})"
                    )));
                }
                let record = ReaderRecord {
                    id,
                    ed25519: reader.ed25519,
                    x25519: reader.x25519,
                    fingerprint: reader.fingerprint(),
                    organisation: reader.organisation,
                    contact: reader.contact,
                    purpose: reader.purpose,
                    status: ReaderStatus::Registered,
                    grant: None,
                    status_reason: None,
                    registered_at: now,
                    changed_at: now,
                };
                query(
                    "INSERT INTO readers (id, ed25519, x25519, fingerprint, organisation, \
                     contact, purpose, status, tier, scope, expires_at, status_reason, \
                     registered_at, changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, \
                     NULL, NULL, NULL, $9, $9)",
                )
                .bind(record.id.to_string())
                .bind(record.ed25519.to_vec())
                .bind(record.x25519.map(|k| k.to_vec()))
                .bind(&record.fingerprint)
                .bind(&record.organisation)
                .bind(&record.contact)
                .bind(record.purpose.as_str())
                .bind(record.status.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await?;
                append_audit_tx(tx, &tags, &audit, None).await?;
                Ok(record)
            })
        },
    )
    .await
}

pub(super) async fn reader<B: Backend>(
    s: &SqlStore<B>,
    id: &ReaderId,
) -> Result<Option<ReaderRecord>> {
    let sql = format!("SELECT {READER_COLS} FROM readers WHERE id = $1");
    query(&sql)
        .bind(id.to_string())
        .fetch_optional(&s.pool)
        .await?
        .as_ref()
        .map(reader_from_row)
        .transpose()
}

pub(super) async fn reader_by_key<B: Backend>(
    s: &SqlStore<B>,
    ed25519: &[u8; 32],
) -> Result<Option<ReaderRecord>> {
    let sql = format!("SELECT {READER_COLS} FROM readers WHERE ed25519 = $1");
    query(&sql)
        .bind(ed25519.to_vec())
        .fetch_optional(&s.pool)
        .await?
        .as_ref()
        .map(reader_from_row)
        .transpose()
}

pub(super) async fn list_readers<B: Backend>(
    s: &SqlStore<B>,
    status: Option<ReaderStatus>,
    after: Option<&ReaderId>,
    limit: u32,
) -> Result<Vec<ReaderRecord>> {
    let mut conditions = Vec::new();
    let mut args: Vec<String> = Vec::new();
    if let Some(status) = status {
        args.push(status.as_str().to_owned());
        conditions.push(format!("status = ${}", args.len()));
    }
    if let Some(after) = after {
        args.push(after.to_string());
        conditions.push(format!("id > ${}", args.len()));
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    let sql = format!(
        "SELECT {READER_COLS} FROM readers{filter} ORDER BY id LIMIT ${}",
        args.len() + 1
    );
    let mut q = query(&sql);
    for arg in args {
        q = q.bind(arg);
    }
    q.bind(page_limit(limit))
        .fetch_all(&s.pool)
        .await?
        .iter()
        .map(reader_from_row)
        .collect()
}

pub(super) async fn change_reader<B: Backend>(
    s: &SqlStore<B>,
    id: &ReaderId,
    change: ReaderChange,
    mut audit: AuditEvent,
) -> Result<ReaderRecord> {
    check_event(&audit, change.action())?;
    audit.subject = Some(id.to_string());
    let id = id.to_string();
    s.write(
        move |tx: &mut WriteTx<B>, tags: Tags| -> OpFuture<'_, ReaderRecord> {
            Box::pin(async move {
                let now = utc(audit.at)?;
                let mut reader = select_reader(tx, &id)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("reader {id}")))?;
                let status = reader
                    .status
                    .after(&change)
                    .map_err(|e| StoreError::Conflict(format!("reader {id}: {e}")))?;
                if let ReaderChange::Approve(grant) = &change {
                    reader.grant = Some(grant.clone());
                }
                match change.reason() {
                    Some(reason) => reader.status_reason = Some(reason.to_owned()),
                    None if matches!(change, ReaderChange::Approve(_) | ReaderChange::Resume) => {
                        reader.status_reason = None;
                    }
                    None => {}
                }
                reader.status = status;
                reader.changed_at = now;
                let (tier, scope, expires_at) =
                    match &reader.grant {
                        Some(g) => (
                            Some(g.tier.as_str().to_owned()),
                            Some(serde_json::to_string(&g.scope).map_err(|e| {
                                StoreError::Constraint(format!("reader scope: {e}"))
                            })?),
                            Some(utc(g.expires_at)?),
                        ),
                        None => (None, None, None),
                    };
                query(
                    "UPDATE readers SET status = $1, tier = $2, scope = $3, expires_at = $4, \
                     status_reason = $5, changed_at = $6 WHERE id = $7",
                )
                .bind(reader.status.as_str())
                .bind(tier)
                .bind(scope)
                .bind(expires_at)
                .bind(reader.status_reason.clone())
                .bind(now)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
                append_audit_tx(tx, &tags, &audit, None).await?;
                if let Some(g) = reader.grant.as_mut() {
                    g.expires_at = utc(g.expires_at)?;
                }
                Ok(reader)
            })
        },
    )
    .await
}

pub(super) async fn use_nonce<B: Backend>(
    s: &SqlStore<B>,
    reader: &ReaderId,
    nonce: &str,
    expires_at: OffsetDateTime,
    at: OffsetDateTime,
) -> Result<bool> {
    let len = nonce.chars().count();
    if len == 0 || len > 256 {
        return Err(StoreError::Constraint(format!(
            "a request nonce is 1 to 256 characters, not {len}"
        )));
    }
    let reader = reader.to_string();
    let known = query("SELECT 1 AS one FROM readers WHERE id = $1")
        .bind(reader.as_str())
        .fetch_optional(&s.pool)
        .await?;
    if known.is_none() {
        return Err(StoreError::NotFound(format!("reader {reader}")));
    }
    // Inserts only where no row is (so SQLite's no-replace trigger never fires on this
    // path), and on PostgreSQL a concurrent insert of the same nonce is no error either.
    let inserted = query(
        "INSERT INTO request_nonces (reader_id, nonce, expires_at, created_at) \
         SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM request_nonces \
         WHERE reader_id = $1 AND nonce = $2) ON CONFLICT DO NOTHING",
    )
    .bind(reader.as_str())
    .bind(nonce)
    .bind(utc(expires_at)?)
    .bind(utc(at)?)
    .execute(&s.pool)
    .await?;
    Ok(inserted == 1)
}

//! Signing-key metadata: the public half of custody's keys, tagged by the node.

use super::audit::append_audit_tx;
use super::db::query;
use super::rows::{opt_utc, signing_key_from_row, utc, SIGNING_KEY_COLS};
use super::writer::{OpFuture, Tags, WriteTx};
use super::{Backend, SqlStore};
use crate::error::{Result, StoreError};
use crate::model::{AuditEvent, SigningKeyRecord, SigningKeyStatus};

/// The node's tag of a signing-key row as it will be stored (times normalised).
fn signing_key_tag(tags: &Tags, key: &SigningKeyRecord) -> Result<Option<Vec<u8>>> {
    match tags.as_ref() {
        Some(k) => Ok(Some(k.key_row_tag(&key.authenticated_bytes()?).to_vec())),
        None => Ok(None),
    }
}

pub(super) async fn insert_signing_key<B: Backend>(
    s: &SqlStore<B>,
    key: SigningKeyRecord,
    audit: AuditEvent,
) -> Result<()> {
    s.write(move |tx: &mut WriteTx<B>, tags: Tags| -> OpFuture<'_, ()> {
        Box::pin(async move {
            let mut key = key;
            key.created_at = utc(key.created_at)?;
            key.retired_at = opt_utc(key.retired_at)?;
            key.revoked_at = opt_utc(key.revoked_at)?;
            let tag = signing_key_tag(&tags, &key)?;
            query(
                "INSERT INTO signing_keys (key_id, purpose, backend, public_key_multibase, \
                 status, created_at, retired_at, revoked_at, revocation_reason, tag) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(&key.key_id)
            .bind(&key.purpose)
            .bind(&key.backend)
            .bind(&key.public_key_multibase)
            .bind(key.status.as_str())
            .bind(key.created_at)
            .bind(key.retired_at)
            .bind(key.revoked_at)
            .bind(&key.revocation_reason)
            .bind(tag)
            .execute(&mut *tx)
            .await?;
            append_audit_tx(tx, &tags, &audit, None).await?;
            Ok(())
        })
    })
    .await
}

pub(super) async fn set_signing_key_status<B: Backend>(
    s: &SqlStore<B>,
    key_id: &str,
    status: SigningKeyStatus,
    reason: Option<String>,
    audit: AuditEvent,
) -> Result<SigningKeyRecord> {
    let key_id = key_id.to_owned();
    s.write(
        move |tx: &mut WriteTx<B>, tags: Tags| -> OpFuture<'_, SigningKeyRecord> {
            Box::pin(async move {
                let key_id = key_id.as_str();
                let now = utc(audit.at)?;
                let sql = format!(
                    "SELECT {SIGNING_KEY_COLS} FROM signing_keys WHERE key_id = $1{}",
                    B::FOR_UPDATE
                );
                let row = query(&sql)
                    .bind(key_id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("signing key {key_id}")))?;
                let mut key = signing_key_from_row(&row)?;
                if !key.status.can_transition_to(status) {
                    return Err(StoreError::InvalidTransition {
                        from: key.status.as_str().to_owned(),
                        to: status.as_str().to_owned(),
                    });
                }
                match status {
                    SigningKeyStatus::Retired => key.retired_at = Some(now),
                    SigningKeyStatus::Revoked => {
                        key.revoked_at = Some(now);
                        key.revocation_reason = reason;
                    }
                    SigningKeyStatus::Current => {}
                }
                key.status = status;
                key.tag = signing_key_tag(&tags, &key)?;
                query(
                    "UPDATE signing_keys SET status = $1, retired_at = $2, revoked_at = $3, \
                     revocation_reason = $4, tag = $5 WHERE key_id = $6",
                )
                .bind(status.as_str())
                .bind(key.retired_at)
                .bind(key.revoked_at)
                .bind(&key.revocation_reason)
                .bind(&key.tag)
                .bind(key_id)
                .execute(&mut *tx)
                .await?;
                append_audit_tx(tx, &tags, &audit, None).await?;
                Ok(key)
            })
        },
    )
    .await
}

pub(super) async fn tag_signing_key<B: Backend>(
    s: &SqlStore<B>,
    expected: SigningKeyRecord,
    audit: AuditEvent,
) -> Result<()> {
    s.write(move |tx: &mut WriteTx<B>, tags: Tags| -> OpFuture<'_, ()> {
        Box::pin(async move {
            let Some(tag) = signing_key_tag(&tags, &expected)? else {
                return Err(StoreError::Config(
                    "the store has no row-authentication keys".to_owned(),
                ));
            };
            let done = query("UPDATE signing_keys SET tag = $1 WHERE key_id = $2 AND tag IS NULL")
                .bind(tag)
                .bind(&expected.key_id)
                .execute(&mut *tx)
                .await?;
            if done == 0 {
                return Err(StoreError::Conflict(format!(
                    "signing key {} is unknown or already tagged",
                    expected.key_id
                )));
            }
            append_audit_tx(tx, &tags, &audit, None).await?;
            Ok(())
        })
    })
    .await
}

pub(super) async fn list_signing_keys<B: Backend>(
    s: &SqlStore<B>,
) -> Result<Vec<SigningKeyRecord>> {
    let sql = format!("SELECT {SIGNING_KEY_COLS} FROM signing_keys ORDER BY created_at, key_id");
    query(&sql)
        .fetch_all(&s.pool)
        .await?
        .iter()
        .map(signing_key_from_row)
        .collect()
}

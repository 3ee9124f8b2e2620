//! API keys: stored as a keyed hash (never the key), revoked for good.

use time::OffsetDateTime;

use super::audit::append_audit_tx;
use super::db::query;
use super::rows::{api_key_from_row, opt_utc, utc, API_KEY_COLS};
use super::writer::{OpFuture, Tags, WriteTx};
use super::{Backend, SqlStore};
use crate::error::{Result, StoreError};
use crate::model::{ApiKeyHashScheme, ApiKeyRecord, AuditEvent, NewApiKey};

pub(super) async fn insert_api_key<B: Backend>(
    s: &SqlStore<B>,
    key: NewApiKey,
    audit: AuditEvent,
) -> Result<ApiKeyRecord> {
    s.write(
        move |tx: &mut WriteTx<B>, tags: Tags| -> OpFuture<'_, ApiKeyRecord> {
            Box::pin(async move {
                let now = utc(audit.at)?;
                let expires_at = opt_utc(key.expires_at)?;
                query(
                    "INSERT INTO api_keys (prefix, hash, scope, label, created_at, expires_at, \
                     revoked_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL)",
                )
                .bind(&key.prefix)
                .bind(&key.hash)
                .bind(&key.scope)
                .bind(&key.label)
                .bind(now)
                .bind(expires_at)
                .execute(&mut *tx)
                .await?;
                append_audit_tx(tx, &tags, &audit, None).await?;
                Ok(ApiKeyRecord {
                    prefix: key.prefix,
                    hash: key.hash,
                    hash_scheme: ApiKeyHashScheme::HmacSha256,
                    scope: key.scope,
                    label: key.label,
                    created_at: now,
                    expires_at,
                    revoked_at: None,
                    last_used_at: None,
                })
            })
        },
    )
    .await
}

pub(super) async fn rehash_api_key<B: Backend>(
    s: &SqlStore<B>,
    prefix: &str,
    hash: Vec<u8>,
    audit: AuditEvent,
) -> Result<()> {
    let prefix = prefix.to_owned();
    s.write(move |tx: &mut WriteTx<B>, tags: Tags| -> OpFuture<'_, ()> {
        Box::pin(async move {
            let done = query(
                "UPDATE api_keys SET hash = $1, hash_scheme = 'hmac-sha256' \
                 WHERE prefix = $2 AND hash_scheme = 'sha256'",
            )
            .bind(&hash)
            .bind(&prefix)
            .execute(&mut *tx)
            .await?;
            if done == 0 {
                return Err(StoreError::Conflict(format!(
                    "API key {prefix} has no legacy hash to replace"
                )));
            }
            append_audit_tx(tx, &tags, &audit, None).await?;
            Ok(())
        })
    })
    .await
}

pub(super) async fn find_api_key<B: Backend>(
    s: &SqlStore<B>,
    prefix: &str,
) -> Result<Option<ApiKeyRecord>> {
    let sql = format!("SELECT {API_KEY_COLS} FROM api_keys WHERE prefix = $1");
    query(&sql)
        .bind(prefix)
        .fetch_optional(&s.pool)
        .await?
        .as_ref()
        .map(api_key_from_row)
        .transpose()
}

pub(super) async fn touch_api_key<B: Backend>(
    s: &SqlStore<B>,
    prefix: &str,
    at: OffsetDateTime,
) -> Result<()> {
    let done = query("UPDATE api_keys SET last_used_at = $1 WHERE prefix = $2")
        .bind(utc(at)?)
        .bind(prefix)
        .execute(&s.pool)
        .await?;
    if done == 0 {
        return Err(StoreError::NotFound(format!("API key {prefix}")));
    }
    Ok(())
}

pub(super) async fn revoke_api_key<B: Backend>(
    s: &SqlStore<B>,
    prefix: &str,
    audit: AuditEvent,
) -> Result<ApiKeyRecord> {
    let prefix = prefix.to_owned();
    s.write(
        move |tx: &mut WriteTx<B>, tags: Tags| -> OpFuture<'_, ApiKeyRecord> {
            Box::pin(async move {
                let prefix = prefix.as_str();
                let now = utc(audit.at)?;
                let sql = format!(
                    "SELECT {API_KEY_COLS} FROM api_keys WHERE prefix = $1{}",
                    B::FOR_UPDATE
                );
                let row = query(&sql)
                    .bind(prefix)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("API key {prefix}")))?;
                let mut key = api_key_from_row(&row)?;
                if key.revoked_at.is_some() {
                    return Err(StoreError::ImmutableViolation(format!(
                        "API key {prefix} is already revoked"
                    )));
                }
                query("UPDATE api_keys SET revoked_at = $1 WHERE prefix = $2")
                    .bind(now)
                    .bind(prefix)
                    .execute(&mut *tx)
                    .await?;
                append_audit_tx(tx, &tags, &audit, None).await?;
                key.revoked_at = Some(now);
                Ok(key)
            })
        },
    )
    .await
}

pub(super) async fn list_api_keys<B: Backend>(s: &SqlStore<B>) -> Result<Vec<ApiKeyRecord>> {
    let sql = format!("SELECT {API_KEY_COLS} FROM api_keys ORDER BY prefix");
    query(&sql)
        .fetch_all(&s.pool)
        .await?
        .iter()
        .map(api_key_from_row)
        .collect()
}

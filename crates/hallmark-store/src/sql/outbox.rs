//! The outbox (issue 21; docs/events.md, docs/database.md "Outbox"): reading its rows, the
//! relay's lease (one delivering node at a time among those sharing the database), and
//! marking rows delivered. The rows themselves are written by `audit::append_audit_tx`, in
//! their audit event's transaction.

use time::OffsetDateTime;

use super::db::{query, Columns};
use super::rows::{seq_i64, seq_u64, utc};
use super::{Backend, SqlStore};
use crate::error::{Result, StoreError};
use crate::model::OutboxRecord;

const COLS: &str = "id, topic, payload, audit_seq, created_at, published_at";

fn record(row: &impl Columns) -> Result<OutboxRecord> {
    let audit_seq: Option<i64> = row.col("audit_seq")?;
    Ok(OutboxRecord {
        id: seq_u64(row.col("id")?)?,
        topic: row.col("topic")?,
        payload: row.col("payload")?,
        audit_seq: seq_u64(audit_seq.unwrap_or(0))?,
        created_at: row.col("created_at")?,
        published_at: row.col("published_at")?,
    })
}

/// Outbox rows with an id above `after`, in id order, at most `limit` (clamped to 1–1000).
pub(super) async fn outbox<B: Backend>(
    s: &SqlStore<B>,
    after: u64,
    limit: u32,
) -> Result<Vec<OutboxRecord>> {
    let rows = query(&format!(
        "SELECT {COLS} FROM outbox WHERE id > $1 ORDER BY id LIMIT $2"
    ))
    .bind(seq_i64(after))
    .bind(i64::from(limit.clamp(1, 1000)))
    .fetch_all(&s.pool)
    .await?;
    rows.iter().map(record).collect()
}

/// The oldest undelivered rows, in id order, at most `limit` (clamped to 1–1000).
pub(super) async fn undelivered<B: Backend>(
    s: &SqlStore<B>,
    limit: u32,
) -> Result<Vec<OutboxRecord>> {
    let rows = query(&format!(
        "SELECT {COLS} FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1"
    ))
    .bind(i64::from(limit.clamp(1, 1000)))
    .fetch_all(&s.pool)
    .await?;
    rows.iter().map(record).collect()
}

/// How many rows wait, and since when the oldest.
pub(super) async fn backlog<B: Backend>(s: &SqlStore<B>) -> Result<(u64, Option<OffsetDateTime>)> {
    let row = query(
        "SELECT count(*) AS n, min(created_at) AS oldest FROM outbox WHERE published_at IS NULL",
    )
    .fetch_one(&s.pool)
    .await?;
    Ok((seq_u64(row.col("n")?)?, row.col("oldest")?))
}

/// Marks rows `ids` delivered at `at` (those not marked yet; a row is marked once). Returns
/// how many were marked.
pub(super) async fn mark_delivered<B: Backend>(
    s: &SqlStore<B>,
    ids: &[u64],
    at: OffsetDateTime,
) -> Result<u64> {
    let at = utc(at)?;
    let mut marked = 0;
    for chunk in ids.chunks(500) {
        let list = chunk
            .iter()
            .map(|id| seq_i64(*id).to_string())
            .collect::<Vec<_>>()
            .join(",");
        let done = query(&format!(
            "UPDATE outbox SET published_at = $1 WHERE published_at IS NULL AND id IN ({list})"
        ))
        .bind(at)
        .execute(&s.pool)
        .await?;
        marked += done;
    }
    Ok(marked)
}

/// Takes or renews the relay lease for `holder` until `until`, if it is free (never taken,
/// expired at `now`) or already `holder`'s. `true` when `holder` holds it now.
pub(super) async fn claim_relay<B: Backend>(
    s: &SqlStore<B>,
    holder: &str,
    now: OffsetDateTime,
    until: OffsetDateTime,
) -> Result<bool> {
    if holder.is_empty() || holder.len() > 128 {
        return Err(StoreError::Constraint(
            "a relay holder is 1 to 128 bytes".to_owned(),
        ));
    }
    let done = query(
        "UPDATE outbox_relay SET holder = $1, lease_until = $2 \
         WHERE id = 1 AND (holder IS NULL OR holder = $1 OR lease_until IS NULL \
         OR lease_until < $3)",
    )
    .bind(holder)
    .bind(utc(until)?)
    .bind(utc(now)?)
    .execute(&s.pool)
    .await?;
    Ok(done == 1)
}

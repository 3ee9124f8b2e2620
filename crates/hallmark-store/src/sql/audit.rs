//! The audit log and the transparency log built from it: audit events (each appended with
//! its log leaf in the same transaction), leaves, checkpoints and quarantined leaves.

use hallmark_core::passport::PassportId;
use sqlx::Pool;

use super::db::{query, Columns};
use super::rows::{
    audit_from_row, checkpoint_from_row, digest_from_vec, id_text, leaf_from_row, page_limit,
    seq_i64, seq_u64, utc, AUDIT_COLS, MAX_CHECKPOINTS,
};
use super::writer::{OpFuture, Tags, WriteTx};
use super::{Backend, SqlStore};
use crate::error::{Result, StoreError};
use crate::model::{AuditEvent, AuditRecord, CheckpointRecord, QuarantineRecord, StoredLeaf};

/// Appends the audit event. Must be the LAST statement of a write before its savepoint is
/// released: claiming the sequence number row-locks the single head row until commit, which
/// makes numbers gapless and commit-ordered (and serialises audited writes across all
/// nodes).
pub(super) async fn append_audit_tx<B: Backend>(
    tx: &mut WriteTx<B>,
    tags: &Tags,
    event: &AuditEvent,
    passport: Option<&PassportId>,
) -> Result<AuditRecord> {
    let at = utc(event.at)?;
    let passport = passport.or(event.passport.as_ref());
    let detail = serde_json::to_string(&event.detail)
        .map_err(|e| StoreError::Constraint(format!("audit detail: {e}")))?;
    let seq: i64 = query(
        "UPDATE audit_head SET next_seq = next_seq + 1 WHERE id = 1 \
         RETURNING next_seq - 1 AS seq",
    )
    .fetch_one(&mut *tx)
    .await?
    .col("seq")?;
    let mut stored = event.clone();
    stored.at = at;
    stored.passport = passport.copied();
    let record = AuditRecord {
        seq: seq_u64(seq)?,
        event: stored,
    };
    // The event is also the next leaf of the transparency log, in the same transaction:
    // leaf index = seq - 1, so the log's order is the audit order.
    let hash = record.leaf_hash()?;
    let tag = tags.as_ref().map(|k| k.leaf_tag(&hash).to_vec());
    let leaf_hash = hash.to_vec();
    // Where the backend can, one statement (one round trip) inserts both rows; the leaf hash
    // is then its eighth parameter.
    let both = B::INSERT_AUDIT_AND_LEAF;
    let event_sql = both.unwrap_or(
        "INSERT INTO audit_events (seq, at, actor, action, passport_id, subject, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    );
    let insert = query(event_sql)
        .bind(seq)
        .bind(at)
        .bind(&event.actor)
        .bind(&event.action)
        .bind(passport.map(id_text))
        .bind(&event.subject)
        .bind(detail);
    if both.is_some() {
        insert.bind(leaf_hash).bind(tag).execute(&mut *tx).await?;
    } else {
        insert.execute(&mut *tx).await?;
        query(
            "INSERT INTO log_leaves (leaf_index, leaf_hash, audit_seq, created_at, tag) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(seq - 1)
        .bind(leaf_hash)
        .bind(seq)
        .bind(at)
        .bind(tag)
        .execute(&mut *tx)
        .await?;
    }
    // The event outsiders hear about, if any, in the same transaction (docs/events.md).
    if let Some(source) = tags.events() {
        if let Some(action) = event.known_action() {
            let audited = hallmark_core::events::Audited {
                seq: record.seq,
                action,
                at,
                passport,
                subject: event.subject.as_deref(),
                detail: &event.detail,
            };
            let cloud = hallmark_core::events::cloud_event(source, &audited)
                .map_err(|e| StoreError::Constraint(format!("outbox event: {e}")))?;
            if let Some(cloud) = cloud {
                let topic = cloud["type"].as_str().unwrap_or_default().to_owned();
                let payload = serde_json::to_vec(&cloud)
                    .map_err(|e| StoreError::Constraint(format!("outbox event: {e}")))?;
                query(
                    "INSERT INTO outbox (topic, payload, created_at, audit_seq) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(topic)
                .bind(payload)
                .bind(at)
                .bind(seq)
                .execute(&mut *tx)
                .await?;
            }
        }
    }
    tx.appended(record.seq);
    Ok(record)
}

pub(super) async fn append_audit<B: Backend>(
    s: &SqlStore<B>,
    event: AuditEvent,
) -> Result<AuditRecord> {
    s.write(
        move |tx: &mut WriteTx<B>, tags: Tags| -> OpFuture<'_, AuditRecord> {
            Box::pin(async move { append_audit_tx(tx, &tags, &event, None).await })
        },
    )
    .await
}

pub(super) async fn publish_seq<B: Backend>(
    s: &SqlStore<B>,
    id: &PassportId,
    version: u32,
) -> Result<Option<u64>> {
    let rows = query(
        "SELECT seq, detail FROM audit_events \
         WHERE passport_id = $1 AND action = 'passport.published' ORDER BY seq",
    )
    .bind(id_text(id))
    .fetch_all(&s.pool)
    .await?;
    for row in rows {
        let seq: i64 = row.col("seq")?;
        let detail: String = row.col("detail")?;
        let detail: serde_json::Value = serde_json::from_str(&detail)
            .map_err(|e| StoreError::Corrupt(format!("audit detail: {e}")))?;
        if detail.get("version").and_then(serde_json::Value::as_u64) == Some(u64::from(version)) {
            return Ok(Some(seq_u64(seq)?));
        }
    }
    Ok(None)
}

pub(super) async fn list_audit<B: Backend>(
    s: &SqlStore<B>,
    from_seq: u64,
    limit: u32,
) -> Result<Vec<AuditRecord>> {
    let sql =
        format!("SELECT {AUDIT_COLS} FROM audit_events WHERE seq >= $1 ORDER BY seq LIMIT $2");
    query(&sql)
        .bind(seq_i64(from_seq))
        .bind(page_limit(limit))
        .fetch_all(&s.pool)
        .await?
        .iter()
        .map(audit_from_row)
        .collect()
}

/// Number of audit events (= the highest sequence number).
pub(super) async fn audit_len<B: Backend>(pool: &Pool<B::Db>) -> Result<u64> {
    let n: i64 = query("SELECT next_seq - 1 AS len FROM audit_head WHERE id = 1")
        .fetch_one(pool)
        .await?
        .col("len")?;
    seq_u64(n)
}

pub(super) async fn list_leaf_hashes<B: Backend>(
    s: &SqlStore<B>,
    from_index: u64,
    limit: u32,
) -> Result<Vec<[u8; 32]>> {
    let from = i64::try_from(from_index)
        .map_err(|_| StoreError::Constraint("leaf index out of range".to_owned()))?;
    let rows = query(
        "SELECT leaf_hash FROM log_leaves WHERE leaf_index >= $1 \
         ORDER BY leaf_index LIMIT $2",
    )
    .bind(from)
    .bind(i64::from(limit))
    .fetch_all(&s.pool)
    .await?;
    rows.iter()
        .map(|row| digest_from_vec(row.col("leaf_hash")?))
        .collect()
}

pub(super) async fn find_leaf<B: Backend>(
    s: &SqlStore<B>,
    leaf_hash: &[u8; 32],
) -> Result<Option<u64>> {
    let index: Option<i64> =
        query("SELECT min(leaf_index) AS leaf_index FROM log_leaves WHERE leaf_hash = $1")
            .bind(leaf_hash.to_vec())
            .fetch_one(&s.pool)
            .await?
            .col("leaf_index")?;
    index.map(seq_u64).transpose()
}

pub(super) async fn list_leaves<B: Backend>(
    s: &SqlStore<B>,
    from_index: u64,
    limit: u32,
) -> Result<Vec<StoredLeaf>> {
    let from = i64::try_from(from_index)
        .map_err(|_| StoreError::Constraint("leaf index out of range".to_owned()))?;
    let sql = format!(
        "SELECT l.leaf_index, l.leaf_hash, l.tag, e.{} FROM log_leaves l \
         JOIN audit_events e ON e.seq = l.audit_seq \
         WHERE l.leaf_index >= $1 ORDER BY l.leaf_index LIMIT $2",
        AUDIT_COLS.replace(", ", ", e.")
    );
    query(&sql)
        .bind(from)
        .bind(i64::from(limit.min(100_000)))
        .fetch_all(&s.pool)
        .await?
        .iter()
        .map(leaf_from_row)
        .collect()
}

pub(super) async fn first_tagged_leaf<B: Backend>(s: &SqlStore<B>) -> Result<u64> {
    let row = query("SELECT first_tagged_leaf FROM log_integrity WHERE id = 1")
        .fetch_optional(&s.pool)
        .await?;
    // No row: a database migrated by hand without it; nothing predates tagging.
    match row {
        None => Ok(0),
        Some(row) => seq_u64(row.col("first_tagged_leaf")?),
    }
}

pub(super) async fn list_quarantine<B: Backend>(s: &SqlStore<B>) -> Result<Vec<QuarantineRecord>> {
    let rows = query(
        "SELECT leaf_index, leaf_hash, reason, created_at FROM log_quarantine \
         ORDER BY leaf_index",
    )
    .fetch_all(&s.pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(QuarantineRecord {
                leaf_index: seq_u64(row.col("leaf_index")?)?,
                leaf_hash: digest_from_vec(row.col("leaf_hash")?)?,
                reason: row.col("reason")?,
                created_at: row.col("created_at")?,
            })
        })
        .collect()
}

pub(super) async fn quarantine_leaf<B: Backend>(
    s: &SqlStore<B>,
    q: QuarantineRecord,
) -> Result<()> {
    query(
        "INSERT INTO log_quarantine (leaf_index, leaf_hash, reason, created_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(seq_i64(q.leaf_index))
    .bind(q.leaf_hash.to_vec())
    .bind(&q.reason)
    .bind(utc(q.created_at)?)
    .execute(&s.pool)
    .await?;
    Ok(())
}

pub(super) async fn latest_checkpoints<B: Backend>(
    s: &SqlStore<B>,
    limit: u32,
) -> Result<Vec<CheckpointRecord>> {
    let rows = query(
        "SELECT tree_size, root_hash, note, created_at FROM checkpoints \
         ORDER BY tree_size DESC LIMIT $1",
    )
    .bind(i64::from(limit.min(MAX_CHECKPOINTS)))
    .fetch_all(&s.pool)
    .await?;
    rows.iter().map(checkpoint_from_row).collect()
}

pub(super) async fn insert_checkpoint<B: Backend>(
    s: &SqlStore<B>,
    c: CheckpointRecord,
) -> Result<()> {
    let size = i64::try_from(c.tree_size)
        .map_err(|_| StoreError::Constraint("tree size out of range".to_owned()))?;
    query(
        "INSERT INTO checkpoints (tree_size, root_hash, note, created_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(size)
    .bind(c.root_hash.to_vec())
    .bind(&c.note)
    .bind(utc(c.created_at)?)
    .execute(&s.pool)
    .await?;
    Ok(())
}

pub(super) async fn list_checkpoints<B: Backend>(s: &SqlStore<B>) -> Result<Vec<CheckpointRecord>> {
    let rows = query(
        "SELECT tree_size, root_hash, note, created_at FROM checkpoints \
         ORDER BY tree_size",
    )
    .fetch_all(&s.pool)
    .await?;
    rows.iter().map(checkpoint_from_row).collect()
}

//! Status lists (W3C Bitstring Status List): each passport's position, taken in its
//! publish transaction, and the signed versions of each list, each stored with its
//! `status-list.published` audit event (a transparency-log leaf) in one transaction.
//!
//! Writes check first and write after: a taken position, a version that is not the list's
//! latest + 1, or an event that does not name its version is refused before any statement
//! changes anything (and the job's savepoint undoes the rest if a later statement fails).
//! Writes are serialised (the audit head on PostgreSQL, `BEGIN IMMEDIATE` on SQLite), so
//! what a check reads is still true when the job writes; the database's unique keys and
//! triggers refuse the same rows for any other writer.

use hallmark_core::passport::PassportId;

use super::audit::append_audit_tx;
use super::db::{query, Columns};
use super::rows::{
    id_text, list_i32, list_u32, status_list_from_row, utc, version_i32, version_u32,
    STATUS_LIST_COLS,
};
use super::writer::{OpFuture, Tags, WriteTx};
use super::{Backend, SqlStore};
use crate::error::{is_status_index_taken, Result, StoreError};
use crate::model::{NewStatusListVersion, StatusListRecord, StatusPurpose, StatusRef, LIST_SIZE};

/// Checks that `index` can become `id`'s position: in range, the passport has none yet, no
/// other passport holds it. Reads only.
pub(super) async fn check_new_index<B: Backend>(
    tx: &mut WriteTx<B>,
    id: &PassportId,
    index: StatusRef,
) -> Result<()> {
    if index.index >= LIST_SIZE {
        return Err(StoreError::Constraint(format!(
            "status list position {} is beyond the list's {LIST_SIZE} entries",
            index.index
        )));
    }
    let rows = query(
        "SELECT passport_id, list, position FROM passport_status_indexes \
         WHERE passport_id = $1 OR (list = $2 AND position = $3)",
    )
    .bind(id_text(id))
    .bind(list_i32(index.list)?)
    .bind(list_i32(index.index)?)
    .fetch_all(&mut *tx)
    .await?;
    let own = id_text(id);
    for row in &rows {
        let holder: String = row.col("passport_id")?;
        if holder == own {
            let list = list_u32(row.col("list")?)?;
            let position = list_u32(row.col("position")?)?;
            return Err(StoreError::Conflict(format!(
                "passport {id} already has status list position {position} in list {list}; \
                 it keeps it for good"
            )));
        }
    }
    if !rows.is_empty() {
        return Err(StoreError::StatusIndexTaken {
            list: index.list,
            index: index.index,
        });
    }
    Ok(())
}

/// Stores `id`'s position (checked by [`check_new_index`]; the passport is `published` by
/// now, as the database requires).
pub(super) async fn insert_index<B: Backend>(
    tx: &mut WriteTx<B>,
    id: &PassportId,
    index: StatusRef,
    now: time::OffsetDateTime,
) -> Result<()> {
    query(
        "INSERT INTO passport_status_indexes (passport_id, list, position, created_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(id_text(id))
    .bind(list_i32(index.list)?)
    .bind(list_i32(index.index)?)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|e| {
        if is_status_index_taken(&e) {
            StoreError::StatusIndexTaken {
                list: index.list,
                index: index.index,
            }
        } else {
            StoreError::from(e)
        }
    })?;
    Ok(())
}

/// The passport's position, if it has one, inside a write.
pub(super) async fn index_of<B: Backend>(
    tx: &mut WriteTx<B>,
    id: &PassportId,
) -> Result<Option<StatusRef>> {
    query("SELECT list, position FROM passport_status_indexes WHERE passport_id = $1")
        .bind(id_text(id))
        .fetch_optional(&mut *tx)
        .await?
        .map(|row| index_from_row(&row))
        .transpose()
}

fn index_from_row(row: &impl Columns) -> Result<StatusRef> {
    Ok(StatusRef {
        list: list_u32(row.col("list")?)?,
        index: list_u32(row.col("position")?)?,
    })
}

/// Checks a list version before anything is written: against its own event
/// ([`NewStatusListVersion::check`]) and against the stored list (it must be latest + 1).
pub(super) async fn check_list_version<B: Backend>(
    tx: &mut WriteTx<B>,
    new: &NewStatusListVersion,
) -> Result<()> {
    new.check()?;
    version_i32(new.version)?;
    let row = query(
        "SELECT coalesce(max(version), 0) AS latest FROM status_list_versions \
         WHERE purpose = $1 AND list = $2",
    )
    .bind(new.purpose.as_str())
    .bind(list_i32(new.list)?)
    .fetch_one(&mut *tx)
    .await?;
    let latest = version_u32(row.col("latest")?)?;
    let expected = latest.saturating_add(1);
    if new.version != expected {
        return Err(StoreError::StatusListConflict {
            purpose: new.purpose,
            list: new.list,
            expected,
            got: new.version,
        });
    }
    Ok(())
}

/// Appends the version's `status-list.published` event (and log leaf), then the version
/// row naming it. Checked by [`check_list_version`] first.
pub(super) async fn insert_list_version<B: Backend>(
    tx: &mut WriteTx<B>,
    tags: &Tags,
    new: NewStatusListVersion,
) -> Result<StatusListRecord> {
    let created_at = utc(new.event.at)?;
    let valid_from = utc(new.valid_from)?;
    let valid_until = utc(new.valid_until)?;
    let event = append_audit_tx(tx, tags, &new.event, None).await?;
    query(
        "INSERT INTO status_list_versions (purpose, list, version, credential, credential_jwt, \
         encoded_list, valid_from, valid_until, audit_seq, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(new.purpose.as_str())
    .bind(list_i32(new.list)?)
    .bind(version_i32(new.version)?)
    .bind(&new.credential)
    .bind(&new.credential_jwt)
    .bind(&new.encoded_list)
    .bind(valid_from)
    .bind(valid_until)
    .bind(super::rows::seq_i64(event.seq))
    .bind(created_at)
    .execute(&mut *tx)
    .await?;
    Ok(StatusListRecord {
        purpose: new.purpose,
        list: new.list,
        version: new.version,
        credential: new.credential,
        credential_jwt: new.credential_jwt,
        encoded_list: new.encoded_list,
        valid_from,
        valid_until,
        seq: event.seq,
        created_at,
    })
}

pub(super) async fn put_status_list<B: Backend>(
    s: &SqlStore<B>,
    new: NewStatusListVersion,
) -> Result<StatusListRecord> {
    s.write(
        move |tx: &mut WriteTx<B>, tags: Tags| -> OpFuture<'_, StatusListRecord> {
            Box::pin(async move {
                check_list_version(tx, &new).await?;
                insert_list_version(tx, &tags, new).await
            })
        },
    )
    .await
}

pub(super) async fn status_index<B: Backend>(
    s: &SqlStore<B>,
    id: &PassportId,
) -> Result<Option<StatusRef>> {
    query("SELECT list, position FROM passport_status_indexes WHERE passport_id = $1")
        .bind(id_text(id))
        .fetch_optional(&s.pool)
        .await?
        .map(|row| index_from_row(&row))
        .transpose()
}

pub(super) async fn status_positions<B: Backend>(s: &SqlStore<B>, list: u32) -> Result<Vec<u32>> {
    let rows = query("SELECT position FROM passport_status_indexes WHERE list = $1")
        .bind(list_i32(list)?)
        .fetch_all(&s.pool)
        .await?;
    rows.iter()
        .map(|r| {
            let p: i32 = r.col("position")?;
            u32::try_from(p).map_err(|_| StoreError::Corrupt(format!("status list position {p}")))
        })
        .collect()
}

pub(super) async fn last_status_list<B: Backend>(s: &SqlStore<B>) -> Result<Option<u32>> {
    let last: Option<i32> = query(
        "SELECT max(list) AS last FROM (\
         SELECT max(list) AS list FROM passport_status_indexes \
         UNION ALL SELECT max(list) AS list FROM status_list_versions) AS lists",
    )
    .fetch_one(&s.pool)
    .await?
    .col("last")?;
    last.map(list_u32).transpose()
}

pub(super) async fn status_list_latest<B: Backend>(
    s: &SqlStore<B>,
    purpose: StatusPurpose,
    list: u32,
) -> Result<Option<StatusListRecord>> {
    let sql = format!(
        "SELECT {STATUS_LIST_COLS} FROM status_list_versions WHERE purpose = $1 AND list = $2 \
         ORDER BY version DESC LIMIT 1"
    );
    query(&sql)
        .bind(purpose.as_str())
        .bind(list_i32(list)?)
        .fetch_optional(&s.pool)
        .await?
        .as_ref()
        .map(status_list_from_row)
        .transpose()
}

pub(super) async fn status_list_version<B: Backend>(
    s: &SqlStore<B>,
    purpose: StatusPurpose,
    list: u32,
    version: u32,
) -> Result<Option<StatusListRecord>> {
    let sql = format!(
        "SELECT {STATUS_LIST_COLS} FROM status_list_versions \
         WHERE purpose = $1 AND list = $2 AND version = $3"
    );
    query(&sql)
        .bind(purpose.as_str())
        .bind(list_i32(list)?)
        .bind(version_i32(version)?)
        .fetch_optional(&s.pool)
        .await?
        .as_ref()
        .map(status_list_from_row)
        .transpose()
}

//! Passports: drafts, publication, lifecycle changes, reads and listing.

use hallmark_core::passport::{PassportId, PassportStatus};

use super::audit::append_audit_tx;
use super::db::{query, Columns};
use super::rows::{
    audit_from_row, draft_from_row, id_text, page_limit, passport_from_row, sha256, sha256_col,
    utc, version_from_row, version_i32, version_u32, AUDIT_COLS, DRAFT_COLS, PASSPORT_COLS,
    VERSION_COLS,
};
use super::status;
use super::writer::{OpFuture, Tags, WriteTx};
use super::{Backend, SqlStore};
use crate::error::{is_identifier_conflict, Result, StoreError};
use crate::model::{
    AuditEvent, AuditRecord, DraftRecord, NewPassport, NewStatusListVersion, NewVersion, Page,
    PassportFilter, PassportRecord, ProductKey, VersionRecord,
};
use time::OffsetDateTime;

/// Reads the passport row, locked for the rest of the batch where the backend locks rows.
async fn lock_passport<B: Backend>(tx: &mut WriteTx<B>, id: &PassportId) -> Result<PassportRecord> {
    let sql = format!(
        "SELECT {PASSPORT_COLS} FROM passports WHERE id = $1{}",
        B::FOR_UPDATE
    );
    let row = query(&sql)
        .bind(id_text(id))
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("passport {id}")))?;
    passport_from_row(&row)
}

fn refuse_terminal(p: &PassportRecord) -> Result<()> {
    if p.status.is_terminal() {
        return Err(StoreError::ImmutableViolation(format!(
            "passport {} is {} (terminal)",
            p.id, p.status
        )));
    }
    Ok(())
}

async fn read_draft<B: Backend>(
    tx: &mut WriteTx<B>,
    id: &PassportId,
    version: u32,
) -> Result<Option<DraftRecord>> {
    let sql =
        format!("SELECT {DRAFT_COLS} FROM passport_drafts WHERE passport_id = $1 AND version = $2");
    query(&sql)
        .bind(id_text(id))
        .bind(version_i32(version)?)
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(draft_from_row)
        .transpose()
}

/// Inserts a new passport (status draft, version 0) and its draft of version 1, with its
/// audit event, inside the caller's job. The live-identifier index's refusal is
/// [`StoreError::IdentifierInUse`] without the holder (named once the batch has ended:
/// [`name_identifier_holder`]).
pub(super) async fn create_tx<B: Backend>(
    tx: &mut WriteTx<B>,
    tags: &Tags,
    new: &NewPassport,
    audit: &AuditEvent,
) -> Result<PassportRecord> {
    if !new.product.fits_granularity() {
        return Err(StoreError::Constraint(format!(
            "product identifier {}: the lot and serial do not fit the granularity",
            new.product
        )));
    }
    let now = utc(audit.at)?;
    query(
        "INSERT INTO passports (id, gtin, granularity, lot, serial, sector_id, \
         economic_operator_id, status, status_reason, current_version, \
         created_at, updated_at, published_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'draft', NULL, 0, $8, $9, NULL)",
    )
    .bind(id_text(&new.id))
    .bind(&new.product.gtin)
    .bind(new.product.granularity.as_str())
    .bind(&new.product.lot)
    .bind(&new.product.serial)
    .bind(&new.sector_id)
    .bind(&new.economic_operator_id)
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|e| {
        if is_identifier_conflict(&e) {
            StoreError::IdentifierInUse {
                key: new.product.to_string(),
                existing: None,
            }
        } else {
            StoreError::from(e)
        }
    })?;
    query(
        "INSERT INTO passport_drafts (passport_id, version, content, submission_sha256, \
         created_at, updated_at) VALUES ($1, 1, $2, $3, $4, $5)",
    )
    .bind(id_text(&new.id))
    .bind(&new.content)
    .bind(new.submission_sha256.map(|d| d.to_vec()))
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    append_audit_tx(tx, tags, audit, Some(&new.id)).await?;
    // Exactly what was inserted (the insert guard refuses anything else).
    Ok(PassportRecord {
        id: new.id,
        gtin: new.product.gtin.clone(),
        product: Some(new.product.clone()),
        sector_id: new.sector_id.clone(),
        economic_operator_id: new.economic_operator_id.clone(),
        status: PassportStatus::Draft,
        status_reason: None,
        current_version: 0,
        created_at: now,
        updated_at: now,
        published_at: None,
    })
}

/// A write refused by the live-identifier index, answered after its batch ended: the
/// passport that holds the identifier has committed, so it is named.
pub(super) async fn name_identifier_holder<B: Backend, T>(
    s: &SqlStore<B>,
    key: &ProductKey,
    result: Result<T>,
) -> Result<T> {
    match result {
        Err(StoreError::IdentifierInUse {
            key: text,
            existing: None,
        }) => {
            let existing = find_live(s, key).await?.map(|p| p.id);
            Err(StoreError::IdentifierInUse {
                key: text,
                existing,
            })
        }
        other => other,
    }
}

pub(super) async fn create_draft<B: Backend>(
    s: &SqlStore<B>,
    new: NewPassport,
    audit: AuditEvent,
) -> Result<PassportRecord> {
    let key = new.product.clone();
    let created = s
        .write(
            move |tx: &mut WriteTx<B>, tags: Tags| -> OpFuture<'_, PassportRecord> {
                Box::pin(async move { create_tx(tx, &tags, &new, &audit).await })
            },
        )
        .await;
    name_identifier_holder(s, &key, created).await
}

pub(super) async fn find_live<B: Backend>(
    s: &SqlStore<B>,
    key: &ProductKey,
) -> Result<Option<PassportRecord>> {
    // The unique index's own expression and predicate, so this is an index lookup and finds
    // exactly the row the index holds.
    let sql = format!(
        "SELECT {PASSPORT_COLS} FROM passports WHERE gtin = $1 AND granularity = $2 \
         AND coalesce(serial, lot, '') = $3 AND status <> 'deactivated' \
         AND granularity IS NOT NULL"
    );
    let row = query(&sql)
        .bind(&key.gtin)
        .bind(key.granularity.as_str())
        .bind(key.qualifier())
        .fetch_optional(&s.pool)
        .await?;
    row.as_ref().map(passport_from_row).transpose()
}

pub(super) async fn gtin_published<B: Backend>(s: &SqlStore<B>, gtin: &str) -> Result<bool> {
    // The live-identifier index's predicate, so the GTIN prefix of that index answers.
    let row = query(
        "SELECT 1 AS found FROM passports WHERE gtin = $1 AND status <> 'deactivated' \
         AND granularity IS NOT NULL AND current_version > 0 LIMIT 1",
    )
    .bind(gtin)
    .fetch_optional(&s.pool)
    .await?;
    Ok(row.is_some())
}

/// Replaces the pending draft's content (and its submission digest), with its audit event,
/// inside the caller's job.
pub(super) async fn update_tx<B: Backend>(
    tx: &mut WriteTx<B>,
    tags: &Tags,
    id: &PassportId,
    content: &[u8],
    submission_sha256: Option<[u8; 32]>,
    audit: &AuditEvent,
) -> Result<DraftRecord> {
    let now = utc(audit.at)?;
    let p = lock_passport(tx, id).await?;
    refuse_terminal(&p)?;
    let version = p.current_version + 1;
    let done = query(
        "UPDATE passport_drafts SET content = $1, submission_sha256 = $2, updated_at = $3 \
         WHERE passport_id = $4 AND version = $5",
    )
    .bind(content)
    .bind(submission_sha256.map(|d| d.to_vec()))
    .bind(now)
    .bind(id_text(id))
    .bind(version_i32(version)?)
    .execute(&mut *tx)
    .await?;
    if done == 0 {
        return Err(StoreError::NotFound(format!(
            "pending draft (version {version}) of passport {id}"
        )));
    }
    if p.status == PassportStatus::Draft {
        query("UPDATE passports SET updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id_text(id))
            .execute(&mut *tx)
            .await?;
    }
    let draft = read_draft(tx, id, version)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("draft of passport {id}")))?;
    append_audit_tx(tx, tags, audit, Some(id)).await?;
    Ok(draft)
}

pub(super) async fn update_draft<B: Backend>(
    s: &SqlStore<B>,
    id: &PassportId,
    content: Vec<u8>,
    submission_sha256: Option<[u8; 32]>,
    audit: AuditEvent,
) -> Result<DraftRecord> {
    let id = *id;
    s.write(
        move |tx: &mut WriteTx<B>, tags: Tags| -> OpFuture<'_, DraftRecord> {
            Box::pin(
                async move { update_tx(tx, &tags, &id, &content, submission_sha256, &audit).await },
            )
        },
    )
    .await
}

/// Starts the next version's draft of a published (or suspended) passport, with its audit
/// event, inside the caller's job.
pub(super) async fn start_version_tx<B: Backend>(
    tx: &mut WriteTx<B>,
    tags: &Tags,
    id: &PassportId,
    content: Vec<u8>,
    submission_sha256: Option<[u8; 32]>,
    audit: &AuditEvent,
) -> Result<DraftRecord> {
    let now = utc(audit.at)?;
    let p = lock_passport(tx, id).await?;
    refuse_terminal(&p)?;
    if p.status == PassportStatus::Draft {
        return Err(StoreError::Conflict(format!(
            "passport {id} is still a draft; edit its draft instead"
        )));
    }
    let version = p.current_version + 1;
    if read_draft(tx, id, version).await?.is_some() {
        return Err(StoreError::Conflict(format!(
            "version {version} of passport {id} is already being drafted"
        )));
    }
    query(
        "INSERT INTO passport_drafts (passport_id, version, content, submission_sha256, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id_text(id))
    .bind(version_i32(version)?)
    .bind(&content)
    .bind(submission_sha256.map(|d| d.to_vec()))
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    append_audit_tx(tx, tags, audit, Some(id)).await?;
    Ok(DraftRecord {
        passport: *id,
        version,
        content,
        submission_sha256,
        created_at: now,
        updated_at: now,
    })
}

pub(super) async fn start_version<B: Backend>(
    s: &SqlStore<B>,
    id: &PassportId,
    content: Vec<u8>,
    submission_sha256: Option<[u8; 32]>,
    audit: AuditEvent,
) -> Result<DraftRecord> {
    let id = *id;
    s.write(
        move |tx: &mut WriteTx<B>, tags: Tags| -> OpFuture<'_, DraftRecord> {
            Box::pin(async move {
                start_version_tx(tx, &tags, &id, content, submission_sha256, &audit).await
            })
        },
    )
    .await
}

pub(super) async fn get_pending<B: Backend>(
    s: &SqlStore<B>,
    id: &PassportId,
) -> Result<(PassportRecord, Option<DraftRecord>)> {
    // The passport and its pending draft (version current + 1) in one query; the draft
    // columns are NULL when there is none.
    let sql = "SELECT p.id, p.gtin, p.granularity, p.lot, p.serial, p.sector_id, \
         p.economic_operator_id, p.status, \
         p.status_reason, p.current_version, p.created_at, p.updated_at, \
         p.published_at, d.version AS draft_version, d.content AS draft_content, \
         d.submission_sha256 AS draft_submission_sha256, \
         d.created_at AS draft_created_at, d.updated_at AS draft_updated_at \
         FROM passports p LEFT JOIN passport_drafts d \
         ON d.passport_id = p.id AND d.version = p.current_version + 1 \
         WHERE p.id = $1";
    let row = query(sql)
        .bind(id_text(id))
        .fetch_optional(&s.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("passport {id}")))?;
    let passport = passport_from_row(&row)?;
    let draft_version: Option<i32> = row.col("draft_version")?;
    let draft = match draft_version {
        None => None,
        Some(v) => Some(DraftRecord {
            passport: passport.id,
            version: version_u32(v)?,
            content: row.col("draft_content")?,
            submission_sha256: sha256_col(row.col("draft_submission_sha256")?)?,
            created_at: row.col("draft_created_at")?,
            updated_at: row.col("draft_updated_at")?,
        }),
    };
    Ok((passport, draft))
}

/// Publishes the pending draft as `version` (`current + 1`), with its `passport.published`
/// audit event (and the passport's first status list position), inside the caller's job:
/// the one SQL body of every publication (the publish route's and the import's). Returns
/// the stored version and the event's sequence number.
pub(super) async fn publish_tx<B: Backend>(
    tx: &mut WriteTx<B>,
    tags: &Tags,
    id: &PassportId,
    version: NewVersion,
    audit: &AuditEvent,
) -> Result<(VersionRecord, u64)> {
    let now = utc(audit.at)?;
    let signed_at = utc(version.signed_at)?;
    // The passport row (locked) and whether its next version's draft exists, in
    // one statement.
    let sql = format!(
        "SELECT {PASSPORT_COLS}, EXISTS (SELECT 1 FROM passport_drafts d \
         WHERE d.passport_id = passports.id \
         AND d.version = passports.current_version + 1) AS has_draft \
         FROM passports WHERE id = $1{}",
        B::FOR_UPDATE
    );
    let row = query(&sql)
        .bind(id_text(id))
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("passport {id}")))?;
    let p = passport_from_row(&row)?;
    let has_draft: bool = row.col("has_draft")?;
    refuse_terminal(&p)?;
    if p.status == PassportStatus::Suspended {
        return Err(StoreError::Conflict(format!(
            "passport {id} is suspended; resume it before publishing a new version"
        )));
    }
    let next = p.current_version + 1;
    if version.version != next {
        return Err(StoreError::Conflict(format!(
            "the next version of passport {id} is {next}, not {}",
            version.version
        )));
    }
    if !has_draft {
        return Err(StoreError::Conflict(format!(
            "passport {id} has no pending draft for version {next}"
        )));
    }
    if let Some(index) = version.status_index {
        status::check_new_index(tx, id, index).await?;
    }
    // The database's rules fix the order: a version is stored only for a
    // published passport, and current_version advances only to a stored version.
    if p.status == PassportStatus::Draft {
        query(
            "UPDATE passports SET status = 'published', published_at = $1, \
             updated_at = $2 WHERE id = $3",
        )
        .bind(now)
        .bind(now)
        .bind(id_text(id))
        .execute(&mut *tx)
        .await?;
    }
    let digest = sha256(&version.content);
    let c = &version.credentials;
    query(
        "INSERT INTO passport_versions (passport_id, version, content, \
         content_sha256, key_id, signed_at, public_di, public_jwt, \
         legitimate_interest_di, legitimate_interest_jwt, authority_di, \
         authority_jwt, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(id_text(id))
    .bind(version_i32(next)?)
    .bind(&version.content)
    .bind(digest.to_vec())
    .bind(&version.key_id)
    .bind(signed_at)
    .bind(&c.public.data_integrity)
    .bind(&c.public.jwt)
    .bind(&c.legitimate_interest.data_integrity)
    .bind(&c.legitimate_interest.jwt)
    .bind(&c.authority.data_integrity)
    .bind(&c.authority.jwt)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    query("UPDATE passports SET current_version = $1, updated_at = $2 WHERE id = $3")
        .bind(version_i32(next)?)
        .bind(now)
        .bind(id_text(id))
        .execute(&mut *tx)
        .await?;
    if let Some(index) = version.status_index {
        status::insert_index(tx, id, index, now).await?;
    }
    let event = append_audit_tx(tx, tags, audit, Some(id)).await?;
    Ok((
        VersionRecord {
            passport: *id,
            version: next,
            content: version.content,
            content_sha256: digest,
            key_id: version.key_id,
            signed_at,
            credentials: version.credentials,
            created_at: now,
        },
        event.seq,
    ))
}

pub(super) async fn publish<B: Backend>(
    s: &SqlStore<B>,
    id: &PassportId,
    version: NewVersion,
    audit: AuditEvent,
) -> Result<(VersionRecord, u64)> {
    let id = *id;
    s.write(
        move |tx: &mut WriteTx<B>, tags: Tags| -> OpFuture<'_, (VersionRecord, u64)> {
            Box::pin(async move { publish_tx(tx, &tags, &id, version, &audit).await })
        },
    )
    .await
}

pub(super) async fn change_status<B: Backend>(
    s: &SqlStore<B>,
    id: &PassportId,
    to: PassportStatus,
    reason: Option<String>,
    audit: AuditEvent,
    lists: Vec<NewStatusListVersion>,
) -> Result<PassportRecord> {
    let id = *id;
    s.write(
        move |tx: &mut WriteTx<B>, tags: Tags| -> OpFuture<'_, PassportRecord> {
            Box::pin(async move {
                let id = &id;
                let now = utc(audit.at)?;
                let p = lock_passport(tx, id).await?;
                if p.status == PassportStatus::Draft && to == PassportStatus::Published {
                    return Err(StoreError::Conflict(format!(
                        "passport {id} is a draft; publish it with signed credentials"
                    )));
                }
                if !p.status.can_transition_to(to) {
                    return Err(StoreError::InvalidTransition {
                        from: p.status.as_str().to_owned(),
                        to: to.as_str().to_owned(),
                    });
                }
                // The list versions re-signed for this change: of the passport's own list,
                // one per purpose, each its list's latest + 1 — all checked before anything
                // is written.
                if !lists.is_empty() {
                    let Some(index) = status::index_of(tx, id).await? else {
                        return Err(StoreError::Constraint(format!(
                            "passport {id} has no status list position; no list changes with it"
                        )));
                    };
                    for (n, new) in lists.iter().enumerate() {
                        if new.list != index.list {
                            return Err(StoreError::Constraint(format!(
                                "passport {id} is in status list {}, not {}",
                                index.list, new.list
                            )));
                        }
                        if lists[..n].iter().any(|l| l.purpose == new.purpose) {
                            return Err(StoreError::Constraint(format!(
                                "two {} list versions for one status change",
                                new.purpose
                            )));
                        }
                        status::check_list_version(tx, new).await?;
                    }
                }
                query(
                    "UPDATE passports SET status = $1, status_reason = $2, updated_at = $3 \
                     WHERE id = $4",
                )
                .bind(to.as_str())
                .bind(&reason)
                .bind(now)
                .bind(id_text(id))
                .execute(&mut *tx)
                .await?;
                let record = lock_passport(tx, id).await?;
                append_audit_tx(tx, &tags, &audit, Some(id)).await?;
                for new in lists {
                    status::insert_list_version(tx, &tags, new).await?;
                }
                Ok(record)
            })
        },
    )
    .await
}

pub(super) async fn get_passport<B: Backend>(
    s: &SqlStore<B>,
    id: &PassportId,
) -> Result<PassportRecord> {
    let sql = format!("SELECT {PASSPORT_COLS} FROM passports WHERE id = $1");
    let row = query(&sql)
        .bind(id_text(id))
        .fetch_optional(&s.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("passport {id}")))?;
    passport_from_row(&row)
}

pub(super) async fn get_version<B: Backend>(
    s: &SqlStore<B>,
    id: &PassportId,
    version: Option<u32>,
) -> Result<VersionRecord> {
    let version = match version {
        Some(v) => v,
        None => get_passport(s, id).await?.current_version,
    };
    let sql = format!(
        "SELECT {VERSION_COLS} FROM passport_versions WHERE passport_id = $1 AND version = $2"
    );
    let row = query(&sql)
        .bind(id_text(id))
        .bind(version_i32(version)?)
        .fetch_optional(&s.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("version {version} of passport {id}")))?;
    version_from_row(&row)
}

pub(super) async fn version_times<B: Backend>(
    s: &SqlStore<B>,
    id: &PassportId,
) -> Result<Vec<(u32, OffsetDateTime)>> {
    let rows = query(
        "SELECT version, signed_at FROM passport_versions WHERE passport_id = $1 \
         ORDER BY version",
    )
    .bind(id_text(id))
    .fetch_all(&s.pool)
    .await?;
    rows.iter()
        .map(|row| Ok((version_u32(row.col("version")?)?, row.col("signed_at")?)))
        .collect()
}

pub(super) async fn list_passports<B: Backend>(
    s: &SqlStore<B>,
    filter: &PassportFilter,
    after: Option<&PassportId>,
    limit: u32,
) -> Result<Page<PassportRecord>> {
    let mut conditions = Vec::new();
    let mut args: Vec<String> = Vec::new();
    let mut add = |column: &str, op: &str, value: String| {
        args.push(value);
        conditions.push(format!("{column} {op} ${}", args.len()));
    };
    if let Some(status) = filter.status {
        add("status", "=", status.as_str().to_owned());
    }
    if let Some(sector) = &filter.sector_id {
        add("sector_id", "=", sector.clone());
    }
    if let Some(gtin) = &filter.gtin {
        add("gtin", "=", gtin.clone());
    }
    if let Some(after) = after {
        add("id", ">", id_text(after));
    }
    let filter_sql = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    let limit = page_limit(limit);
    let sql = format!(
        "SELECT {PASSPORT_COLS} FROM passports{filter_sql} ORDER BY id LIMIT ${}",
        args.len() + 1
    );
    let mut q = query(&sql);
    for arg in args {
        q = q.bind(arg);
    }
    let rows = q.bind(limit + 1).fetch_all(&s.pool).await?;
    let mut items = rows
        .iter()
        .map(passport_from_row)
        .collect::<Result<Vec<_>>>()?;
    let more = i64::try_from(items.len()).unwrap_or(i64::MAX) > limit;
    if more {
        items.pop();
    }
    let next = if more {
        items.last().map(|p| p.id)
    } else {
        None
    };
    Ok(Page { items, next })
}

pub(super) async fn history<B: Backend>(
    s: &SqlStore<B>,
    id: &PassportId,
) -> Result<Vec<AuditRecord>> {
    get_passport(s, id).await?;
    let sql = format!("SELECT {AUDIT_COLS} FROM audit_events WHERE passport_id = $1 ORDER BY seq");
    query(&sql)
        .bind(id_text(id))
        .fetch_all(&s.pool)
        .await?
        .iter()
        .map(audit_from_row)
        .collect()
}

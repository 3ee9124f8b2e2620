//! Bulk import: the operator's external references and the import job — one imported item
//! as one job on the write queue (its own savepoint), made of the same SQL bodies as the
//! single-passport writes (`passports::{create_tx, update_tx, start_version_tx,
//! publish_tx}`), plus the reference row.

use hallmark_core::passport::PassportId;

use super::db::{query, Columns};
use super::passports::{
    create_tx, name_identifier_holder, publish_tx, start_version_tx, update_tx,
};
use super::rows::{id_text, passport_from_row, sha256_col, utc, version_u32, PASSPORT_COLS};
use super::writer::{OpFuture, Tags, WriteTx};
use super::{Backend, SqlStore};
use crate::error::{Result, StoreError};
use crate::model::{ExternalRefState, ImportDraft, ImportWrite, ImportWritten};

/// Longest external reference, in characters (the table's CHECK).
const MAX_REF_CHARS: usize = 256;

pub(super) async fn external_refs<B: Backend>(
    s: &SqlStore<B>,
    economic_operator_id: &str,
    refs: &[String],
) -> Result<Vec<ExternalRefState>> {
    if refs.is_empty() {
        return Ok(Vec::new());
    }
    let passport_cols = PASSPORT_COLS
        .split(',')
        .map(|c| format!("p.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let placeholders = (0..refs.len())
        .map(|n| format!("${}", n + 2))
        .collect::<Vec<_>>()
        .join(", ");
    // The latest draft row: the pending one (current + 1) if any, else the current
    // version's. Content only where no digest is stored.
    let sql = format!(
        "SELECT r.external_ref, {passport_cols}, \
         dn.version AS pending_version, dn.submission_sha256 AS pending_sha256, \
         CASE WHEN dn.version IS NOT NULL AND dn.submission_sha256 IS NULL \
              THEN dn.content END AS pending_content, \
         dc.submission_sha256 AS current_sha256, \
         CASE WHEN dn.version IS NULL AND dc.submission_sha256 IS NULL \
              THEN dc.content END AS current_content \
         FROM passport_external_refs r JOIN passports p ON p.id = r.passport_id \
         LEFT JOIN passport_drafts dn \
                ON dn.passport_id = p.id AND dn.version = p.current_version + 1 \
         LEFT JOIN passport_drafts dc \
                ON dc.passport_id = p.id AND dc.version = p.current_version \
         WHERE r.economic_operator_id = $1 AND r.external_ref IN ({placeholders})"
    );
    let mut q = query(&sql).bind(economic_operator_id);
    for r in refs {
        q = q.bind(r.as_str());
    }
    let rows = q.fetch_all(&s.pool).await?;
    rows.iter()
        .map(|row| {
            let passport = passport_from_row(row)?;
            let pending: Option<i32> = row.col("pending_version")?;
            let (latest_version, submission_sha256, content) = match pending {
                Some(v) => (
                    version_u32(v)?,
                    sha256_col(row.col("pending_sha256")?)?,
                    row.col("pending_content")?,
                ),
                None => (
                    passport.current_version,
                    sha256_col(row.col("current_sha256")?)?,
                    row.col("current_content")?,
                ),
            };
            Ok(ExternalRefState {
                external_ref: row.col("external_ref")?,
                pending: pending.is_some(),
                latest_version,
                submission_sha256,
                content,
                passport,
            })
        })
        .collect()
}

/// The reference row of a passport created in this job (the insert guard checks the
/// operator and that the passport is new). A reference the operator already gave another
/// passport is a `Conflict` naming it.
async fn insert_ref<B: Backend>(
    tx: &mut WriteTx<B>,
    id: &PassportId,
    economic_operator_id: &str,
    external_ref: &str,
    at: time::OffsetDateTime,
) -> Result<()> {
    let chars = external_ref.chars().count();
    if chars == 0 || chars > MAX_REF_CHARS {
        return Err(StoreError::Constraint(format!(
            "an external reference has 1 to {MAX_REF_CHARS} characters, not {chars}"
        )));
    }
    query(
        "INSERT INTO passport_external_refs (passport_id, economic_operator_id, external_ref, \
         created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id_text(id))
    .bind(economic_operator_id)
    .bind(external_ref)
    .bind(at)
    .execute(&mut *tx)
    .await
    .map_err(|e| match StoreError::from(e) {
        StoreError::Conflict(_) => StoreError::Conflict(format!(
            "the external reference {external_ref:?} of {economic_operator_id} already names \
             another passport"
        )),
        other => other,
    })?;
    Ok(())
}

pub(super) async fn import<B: Backend>(
    s: &SqlStore<B>,
    write: ImportWrite,
) -> Result<ImportWritten> {
    let key = match &write.draft {
        ImportDraft::Create { new, .. } => Some(new.product.clone()),
        _ => None,
    };
    if matches!(write.draft, ImportDraft::Pending { .. }) && write.publish.is_none() {
        return Err(StoreError::Constraint(
            "an import job without a draft write publishes".to_owned(),
        ));
    }
    let written = s
        .write(
            move |tx: &mut WriteTx<B>, tags: Tags| -> OpFuture<'_, ImportWritten> {
                Box::pin(async move {
                    let ImportWrite { draft, publish } = write;
                    let (id, draft) = match draft {
                        ImportDraft::Create {
                            new,
                            external_ref,
                            audit,
                        } => {
                            let record = create_tx(tx, &tags, &new, &audit).await?;
                            let at = utc(audit.at)?;
                            if let Some(external_ref) = &external_ref {
                                insert_ref(
                                    tx,
                                    &new.id,
                                    &new.economic_operator_id,
                                    external_ref,
                                    at,
                                )
                                .await?;
                            }
                            let draft = crate::model::DraftRecord {
                                passport: record.id,
                                version: 1,
                                content: new.content,
                                submission_sha256: new.submission_sha256,
                                created_at: record.created_at,
                                updated_at: record.updated_at,
                            };
                            (record.id, Some(draft))
                        }
                        ImportDraft::Update {
                            id,
                            content,
                            submission_sha256,
                            audit,
                        } => {
                            let d = update_tx(
                                tx,
                                &tags,
                                &id,
                                &content,
                                Some(submission_sha256),
                                &audit,
                            )
                            .await?;
                            (id, Some(d))
                        }
                        ImportDraft::StartVersion {
                            id,
                            content,
                            submission_sha256,
                            audit,
                        } => {
                            let d = start_version_tx(
                                tx,
                                &tags,
                                &id,
                                content,
                                Some(submission_sha256),
                                &audit,
                            )
                            .await?;
                            (id, Some(d))
                        }
                        ImportDraft::Pending { id } => (id, None),
                    };
                    let published = match publish {
                        Some((version, audit)) => {
                            Some(publish_tx(tx, &tags, &id, version, &audit).await?)
                        }
                        None => None,
                    };
                    Ok(ImportWritten {
                        id,
                        draft,
                        published,
                    })
                })
            },
        )
        .await;
    match key {
        Some(key) => name_identifier_holder(s, &key, written).await,
        None => written,
    }
}

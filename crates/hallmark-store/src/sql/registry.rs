//! EU DPP registry registrations: the registry's registration of a passport version (id,
//! proof, hash), each stored with its `registry.recorded` audit event (a transparency-log
//! leaf) in one transaction, and the published passports whose current version has none.
//!
//! The write checks first and writes after: an unknown version, a hash that is not the
//! SHA-256 of the version's public credential, a version already recorded, or a
//! registration id taken is refused before any statement changes anything. Writes are
//! serialised, so what the checks read is still true when the job writes; the database
//! refuses the same rows for any other writer (PostgreSQL also checks the hash itself).

use hallmark_core::passport::{PassportId, Sha256Digest};

use super::audit::append_audit_tx;
use super::db::{query, Columns};
use super::rows::{
    digest_from_vec, id_text, page_limit, parse_id, passport_from_row, seq_i64, seq_u64, sha256,
    utc, version_from_row, version_i32, version_u32, PASSPORT_COLS, VERSION_COLS,
};
use super::writer::{OpFuture, Tags, WriteTx};
use super::{Backend, SqlStore};
use crate::error::{Result, StoreError};
use crate::model::{
    NewRegistration, Page, PassportRecord, PendingRegistration, PreviousRegistration,
    ProofMediaType, Recorded, RegistrationRecord,
};

const REGISTRATION_COLS: &str = "passport_id, version, registration_id, proof, \
     proof_media_type, dpp_sha256, audit_seq, recorded_at";

fn registration_from_row(row: &impl Columns) -> Result<RegistrationRecord> {
    let id: String = row.col("passport_id")?;
    let media: String = row.col("proof_media_type")?;
    Ok(RegistrationRecord {
        passport: parse_id(&id)?,
        version: version_u32(row.col("version")?)?,
        registration_id: row.col("registration_id")?,
        proof: row.col("proof")?,
        proof_media_type: ProofMediaType::parse(&media)
            .ok_or_else(|| StoreError::Corrupt(format!("proof media type {media:?}")))?,
        dpp_sha256: digest_from_vec(row.col("dpp_sha256")?)?,
        seq: seq_u64(row.col("audit_seq")?)?,
        recorded_at: row.col("recorded_at")?,
    })
}

/// Checks a registration against the stored version and registrations, inside the write:
/// `Ok(Some(row))` when exactly this registration is already recorded (nothing to write),
/// `Ok(None)` when it can be written.
async fn check_registration<B: Backend>(
    tx: &mut WriteTx<B>,
    new: &NewRegistration,
) -> Result<Option<RegistrationRecord>> {
    new.check()?;
    let id = &new.passport;
    let row =
        query("SELECT public_di FROM passport_versions WHERE passport_id = $1 AND version = $2")
            .bind(id_text(id))
            .bind(version_i32(new.version)?)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| {
                StoreError::NotFound(format!("version {} of passport {id}", new.version))
            })?;
    let public_di: Vec<u8> = row.col("public_di")?;
    let served = sha256(&public_di);
    if served != new.dpp_sha256 {
        return Err(StoreError::RegistryHashMismatch {
            passport: *id,
            version: new.version,
            given: Sha256Digest(new.dpp_sha256).to_hex(),
            served: Sha256Digest(served).to_hex(),
        });
    }
    let sql = format!(
        "SELECT {REGISTRATION_COLS} FROM registry_registrations \
         WHERE (passport_id = $1 AND version = $2) OR registration_id = $3"
    );
    let rows = query(&sql)
        .bind(id_text(id))
        .bind(version_i32(new.version)?)
        .bind(&new.registration_id)
        .fetch_all(&mut *tx)
        .await?;
    let stored = rows
        .iter()
        .map(registration_from_row)
        .collect::<Result<Vec<_>>>()?;
    if let Some(own) = stored
        .iter()
        .find(|r| r.passport == *id && r.version == new.version)
    {
        if new.same_as(own) {
            return Ok(Some(own.clone()));
        }
        return Err(StoreError::Conflict(format!(
            "version {} of passport {id} is already recorded as registration {:?} \
             (a recorded registration is never changed)",
            new.version, own.registration_id
        )));
    }
    if let Some(other) = stored.first() {
        return Err(StoreError::Conflict(format!(
            "registration {:?} is recorded for version {} of passport {}",
            other.registration_id, other.version, other.passport
        )));
    }
    Ok(None)
}

pub(super) async fn record_registration<B: Backend>(
    s: &SqlStore<B>,
    new: NewRegistration,
) -> Result<Recorded> {
    s.write(
        move |tx: &mut WriteTx<B>, tags: Tags| -> OpFuture<'_, Recorded> {
            Box::pin(async move {
                if let Some(stored) = check_registration(tx, &new).await? {
                    return Ok(Recorded::Unchanged(stored));
                }
                let recorded_at = utc(new.event.at)?;
                let event = append_audit_tx(tx, &tags, &new.event, Some(&new.passport)).await?;
                query(
                    "INSERT INTO registry_registrations (passport_id, version, registration_id, \
                     proof, proof_media_type, dpp_sha256, audit_seq, recorded_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(id_text(&new.passport))
                .bind(version_i32(new.version)?)
                .bind(&new.registration_id)
                .bind(&new.proof)
                .bind(new.proof_media_type.as_str())
                .bind(new.dpp_sha256.to_vec())
                .bind(seq_i64(event.seq))
                .bind(recorded_at)
                .execute(&mut *tx)
                .await?;
                Ok(Recorded::Created(RegistrationRecord {
                    passport: new.passport,
                    version: new.version,
                    registration_id: new.registration_id,
                    proof: new.proof,
                    proof_media_type: new.proof_media_type,
                    dpp_sha256: new.dpp_sha256,
                    seq: event.seq,
                    recorded_at,
                }))
            })
        },
    )
    .await
}

pub(super) async fn registration<B: Backend>(
    s: &SqlStore<B>,
    id: &PassportId,
    version: u32,
) -> Result<Option<RegistrationRecord>> {
    let sql = format!(
        "SELECT {REGISTRATION_COLS} FROM registry_registrations \
         WHERE passport_id = $1 AND version = $2"
    );
    query(&sql)
        .bind(id_text(id))
        .bind(version_i32(version)?)
        .fetch_optional(&s.pool)
        .await?
        .as_ref()
        .map(registration_from_row)
        .transpose()
}

pub(super) async fn registrations_of<B: Backend>(
    s: &SqlStore<B>,
    id: &PassportId,
) -> Result<Vec<RegistrationRecord>> {
    let sql = format!(
        "SELECT {REGISTRATION_COLS} FROM registry_registrations WHERE passport_id = $1 \
         ORDER BY version"
    );
    query(&sql)
        .bind(id_text(id))
        .fetch_all(&s.pool)
        .await?
        .iter()
        .map(registration_from_row)
        .collect()
}

pub(super) async fn registry_pending<B: Backend>(
    s: &SqlStore<B>,
    after: Option<&PassportId>,
    limit: u32,
) -> Result<Page<PendingRegistration>> {
    let limit = page_limit(limit);
    let after_sql = if after.is_some() { " AND id > $2" } else { "" };
    let sql = format!(
        "SELECT {PASSPORT_COLS} FROM passports WHERE status = 'published' \
         AND NOT EXISTS (SELECT 1 FROM registry_registrations r \
         WHERE r.passport_id = passports.id AND r.version = passports.current_version)\
         {after_sql} ORDER BY id LIMIT $1"
    );
    let mut q = query(&sql).bind(limit + 1);
    if let Some(after) = after {
        q = q.bind(id_text(after));
    }
    let rows = q.fetch_all(&s.pool).await?;
    let mut passports = rows
        .iter()
        .map(passport_from_row)
        .collect::<Result<Vec<PassportRecord>>>()?;
    let more = i64::try_from(passports.len()).unwrap_or(i64::MAX) > limit;
    if more {
        passports.pop();
    }
    let next = if more {
        passports.last().map(|p| p.id)
    } else {
        None
    };
    if passports.is_empty() {
        return Ok(Page {
            items: Vec::new(),
            next,
        });
    }
    // The current version of each (the one read with the passport, even if a newer one
    // was published since) and each passport's latest registration: two queries.
    let pairs: Vec<String> = (0..passports.len())
        .map(|i| {
            format!(
                "(passport_id = ${} AND version = ${})",
                2 * i + 1,
                2 * i + 2
            )
        })
        .collect();
    let sql = format!(
        "SELECT {VERSION_COLS} FROM passport_versions WHERE {}",
        pairs.join(" OR ")
    );
    let mut q = query(&sql);
    for p in &passports {
        q = q.bind(id_text(&p.id)).bind(version_i32(p.current_version)?);
    }
    let mut versions = q
        .fetch_all(&s.pool)
        .await?
        .iter()
        .map(version_from_row)
        .collect::<Result<Vec<_>>>()?;
    let ids: Vec<String> = (1..=passports.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT r.passport_id, r.version, r.registration_id FROM registry_registrations r \
         WHERE r.passport_id IN ({}) AND r.version = (SELECT max(version) \
         FROM registry_registrations l WHERE l.passport_id = r.passport_id)",
        ids.join(", ")
    );
    let mut q = query(&sql);
    for p in &passports {
        q = q.bind(id_text(&p.id));
    }
    let mut previous = Vec::new();
    for row in q.fetch_all(&s.pool).await?.iter() {
        let id: String = row.col("passport_id")?;
        previous.push((
            parse_id(&id)?,
            PreviousRegistration {
                version: version_u32(row.col("version")?)?,
                registration_id: row.col("registration_id")?,
            },
        ));
    }
    let mut items = Vec::with_capacity(passports.len());
    for passport in passports {
        let at = versions
            .iter()
            .position(|v| v.passport == passport.id)
            .ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "published passport {} has no version {}",
                    passport.id, passport.current_version
                ))
            })?;
        let version = versions.swap_remove(at);
        let previous = previous
            .iter()
            .find(|(id, p)| *id == passport.id && p.version < passport.current_version)
            .map(|(_, p)| p.clone());
        items.push(PendingRegistration {
            passport,
            version,
            previous,
        });
    }
    Ok(Page { items, next })
}

//! The store operations, written once and instantiated for both backends by
//! [`impl_store!`]. The SQL is shared: both backends accept `$n` placeholders (sqlx binds
//! SQLite's `$n` by number). What differs is supplied by the invoking module:
//!
//! - `type Db` — the sqlx database;
//! - `const FOR_UPDATE: &str` — the row-lock suffix (`" FOR UPDATE"` on PostgreSQL, empty
//!   on SQLite, where `BEGIN IMMEDIATE` already makes the transaction the only writer);
//! - `async fn begin_write_on(&Pool<Db>) -> Result<Transaction<'static, Db>>`: begins a
//!   write batch, with the audit head claimed and the first job's savepoint set;
//! - `const INSERT_AUDIT_AND_LEAF: Option<&str>`: one statement inserting an audit event
//!   and its log leaf, where the backend can (PostgreSQL: a data-modifying CTE);
//! - a `writer` field on the store, from `store_impl::spawn_writer`.
//!
//! Every audited write is a job on the store's write queue (see `run_batch` below): jobs
//! queued together commit together, one savepoint each.

use hallmark_core::passport::{Granularity, PassportId, PassportStatus};
use sha2::{Digest, Sha256};
use time::{OffsetDateTime, UtcOffset};

use crate::error::{Result, StoreError};

pub(crate) const PASSPORT_COLS: &str = "id, gtin, granularity, lot, serial, sector_id, \
     economic_operator_id, status, status_reason, current_version, created_at, updated_at, \
     published_at";
pub(crate) const DRAFT_COLS: &str = "passport_id, version, content, created_at, updated_at";
pub(crate) const VERSION_COLS: &str = "passport_id, version, content, content_sha256, key_id, \
     signed_at, public_di, public_jwt, legitimate_interest_di, legitimate_interest_jwt, \
     authority_di, authority_jwt, created_at";
pub(crate) const AUDIT_COLS: &str = "seq, at, actor, action, passport_id, subject, detail";
pub(crate) const API_KEY_COLS: &str =
    "prefix, hash, hash_scheme, scope, label, created_at, expires_at, revoked_at, last_used_at";
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

/// The most checkpoints [`crate::Store::latest_checkpoints`] returns.
pub(crate) const MAX_CHECKPOINTS: u32 = 1_000;

pub(crate) fn page_limit(limit: u32) -> i64 {
    i64::from(limit.clamp(1, crate::MAX_PAGE))
}

/// Instantiates `impl Store` for a backend module (see the module docs).
macro_rules! impl_store {
    ($store:ident) => {
        mod store_impl {
        #![allow(clippy::wildcard_imports)]
        use super::{$store, Db, FOR_UPDATE};
        type DbRow = <Db as sqlx::Database>::Row;
        type Tx = sqlx::Transaction<'static, Db>;

        use sqlx::Row as _;
        use $crate::error::{Result, StoreError};
        use $crate::model::*;
        use $crate::ops::{
            digest_from_vec, id_text, opt_utc, page_limit, parse_granularity, parse_id, parse_status, seq_i64,
            seq_u64, sha256, utc, version_i32, version_u32, API_KEY_COLS, MAX_CHECKPOINTS, AUDIT_COLS,
            DRAFT_COLS, PASSPORT_COLS, SIGNING_KEY_COLS, VERSION_COLS,
        };
        use hallmark_core::passport::{PassportId, PassportStatus};
        use time::OffsetDateTime;

        /// The node's row-authentication keys, if the store has been given them: every job
        /// gets them, to tag the leaves and key rows it writes.
        pub(super) type Tags = Option<std::sync::Arc<hallmark_core::integrity::IntegrityKeys>>;

        fn passport_from_row(row: &DbRow) -> Result<PassportRecord> {
            let id: String = row.try_get("id")?;
            let status: String = row.try_get("status")?;
            let gtin: String = row.try_get("gtin")?;
            let granularity: Option<String> = row.try_get("granularity")?;
            let product = match granularity {
                None => None,
                Some(g) => Some(ProductKey {
                    gtin: gtin.clone(),
                    granularity: parse_granularity(&g)?,
                    lot: row.try_get("lot")?,
                    serial: row.try_get("serial")?,
                }),
            };
            Ok(PassportRecord {
                id: parse_id(&id)?,
                gtin,
                product,
                sector_id: row.try_get("sector_id")?,
                economic_operator_id: row.try_get("economic_operator_id")?,
                status: parse_status(&status)?,
                status_reason: row.try_get("status_reason")?,
                current_version: version_u32(row.try_get("current_version")?)?,
                created_at: row.try_get("created_at")?,
                updated_at: row.try_get("updated_at")?,
                published_at: row.try_get("published_at")?,
            })
        }

        fn draft_from_row(row: &DbRow) -> Result<DraftRecord> {
            let id: String = row.try_get("passport_id")?;
            Ok(DraftRecord {
                passport: parse_id(&id)?,
                version: version_u32(row.try_get("version")?)?,
                content: row.try_get("content")?,
                created_at: row.try_get("created_at")?,
                updated_at: row.try_get("updated_at")?,
            })
        }

        fn version_from_row(row: &DbRow) -> Result<VersionRecord> {
            let id: String = row.try_get("passport_id")?;
            Ok(VersionRecord {
                passport: parse_id(&id)?,
                version: version_u32(row.try_get("version")?)?,
                content: row.try_get("content")?,
                content_sha256: digest_from_vec(row.try_get("content_sha256")?)?,
                key_id: row.try_get("key_id")?,
                signed_at: row.try_get("signed_at")?,
                credentials: Credentials {
                    public: SignedForms {
                        data_integrity: row.try_get("public_di")?,
                        jwt: row.try_get("public_jwt")?,
                    },
                    legitimate_interest: SignedForms {
                        data_integrity: row.try_get("legitimate_interest_di")?,
                        jwt: row.try_get("legitimate_interest_jwt")?,
                    },
                    authority: SignedForms {
                        data_integrity: row.try_get("authority_di")?,
                        jwt: row.try_get("authority_jwt")?,
                    },
                },
                created_at: row.try_get("created_at")?,
            })
        }

        fn audit_from_row(row: &DbRow) -> Result<AuditRecord> {
            let passport: Option<String> = row.try_get("passport_id")?;
            let detail: String = row.try_get("detail")?;
            Ok(AuditRecord {
                seq: seq_u64(row.try_get("seq")?)?,
                event: AuditEvent {
                    at: row.try_get("at")?,
                    actor: row.try_get("actor")?,
                    action: row.try_get("action")?,
                    passport: passport.as_deref().map(parse_id).transpose()?,
                    subject: row.try_get("subject")?,
                    detail: serde_json::from_str(&detail)
                        .map_err(|e| StoreError::Corrupt(format!("audit detail: {e}")))?,
                },
            })
        }

        fn checkpoint_from_row(row: &DbRow) -> Result<CheckpointRecord> {
            Ok(CheckpointRecord {
                tree_size: seq_u64(row.try_get("tree_size")?)?,
                root_hash: digest_from_vec(row.try_get("root_hash")?)?,
                note: row.try_get("note")?,
                created_at: row.try_get("created_at")?,
            })
        }

        fn api_key_from_row(row: &DbRow) -> Result<ApiKeyRecord> {
            Ok(ApiKeyRecord {
                prefix: row.try_get("prefix")?,
                hash: row.try_get("hash")?,
                hash_scheme: {
                    let scheme: String = row.try_get("hash_scheme")?;
                    ApiKeyHashScheme::parse(&scheme)
                        .ok_or_else(|| StoreError::Corrupt(format!("API key hash scheme {scheme:?}")))?
                },
                scope: row.try_get("scope")?,
                label: row.try_get("label")?,
                created_at: row.try_get("created_at")?,
                expires_at: row.try_get("expires_at")?,
                revoked_at: row.try_get("revoked_at")?,
                last_used_at: row.try_get("last_used_at")?,
            })
        }

        fn signing_key_from_row(row: &DbRow) -> Result<SigningKeyRecord> {
            let status: String = row.try_get("status")?;
            Ok(SigningKeyRecord {
                key_id: row.try_get("key_id")?,
                purpose: row.try_get("purpose")?,
                backend: row.try_get("backend")?,
                public_key_multibase: row.try_get("public_key_multibase")?,
                status: SigningKeyStatus::parse(&status)
                    .ok_or_else(|| StoreError::Corrupt(format!("key status {status:?}")))?,
                created_at: row.try_get("created_at")?,
                retired_at: row.try_get("retired_at")?,
                revoked_at: row.try_get("revoked_at")?,
                revocation_reason: row.try_get("revocation_reason")?,
                tag: row.try_get("tag")?,
            })
        }

        /// Appends the audit event. Must be the LAST statement before commit: claiming the
        /// sequence number row-locks the single head row until commit, which makes numbers
        /// gapless and commit-ordered (and serialises audited writes across all nodes).
        async fn append_audit_tx(
            tx: &mut Tx,
            tags: &Tags,
            event: &AuditEvent,
            passport: Option<&PassportId>,
        ) -> Result<AuditRecord> {
            let at = utc(event.at)?;
            let passport = passport.or(event.passport.as_ref());
            let detail = serde_json::to_string(&event.detail)
                .map_err(|e| StoreError::Constraint(format!("audit detail: {e}")))?;
            let seq: i64 = sqlx::query_scalar(
                "UPDATE audit_head SET next_seq = next_seq + 1 WHERE id = 1 RETURNING next_seq - 1",
            )
            .fetch_one(&mut **tx)
            .await?;
            let mut stored = event.clone();
            stored.at = at;
            stored.passport = passport.copied();
            let record = AuditRecord {
                seq: seq_u64(seq)?,
                event: stored,
            };
            // The event is also the next leaf of the transparency log, in the same
            // transaction: leaf index = seq - 1, so the log's order is the audit order.
            let hash = record.leaf_hash()?;
            let tag = tags.as_ref().map(|k| k.leaf_tag(&hash).to_vec());
            let leaf_hash = hash.to_vec();
            // Where the backend can, one statement (one round trip) inserts both rows; the
            // leaf hash is then its eighth parameter.
            let both = super::INSERT_AUDIT_AND_LEAF;
            let event_sql = both.unwrap_or(
                "INSERT INTO audit_events (seq, at, actor, action, passport_id, subject, detail) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            );
            let insert = sqlx::query(event_sql)
                .bind(seq)
                .bind(at)
                .bind(&event.actor)
                .bind(&event.action)
                .bind(passport.map(id_text))
                .bind(&event.subject)
                .bind(detail);
            if both.is_some() {
                insert.bind(leaf_hash).bind(tag).execute(&mut **tx).await?;
                return Ok(record);
            }
            insert.execute(&mut **tx).await?;
            sqlx::query(
                "INSERT INTO log_leaves (leaf_index, leaf_hash, audit_seq, created_at, tag) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(seq - 1)
            .bind(leaf_hash)
            .bind(seq)
            .bind(at)
            .bind(tag)
            .execute(&mut **tx)
            .await?;
            Ok(record)
        }

        /// The node's tag of a signing-key row as it will be stored (times normalised).
        fn signing_key_tag(tags: &Tags, key: &SigningKeyRecord) -> Result<Option<Vec<u8>>> {
            match tags {
                Some(k) => Ok(Some(k.key_row_tag(&key.authenticated_bytes()?).to_vec())),
                None => Ok(None),
            }
        }

        fn leaf_from_row(row: &DbRow) -> Result<StoredLeaf> {
            Ok(StoredLeaf {
                index: seq_u64(row.try_get("leaf_index")?)?,
                leaf_hash: digest_from_vec(row.try_get("leaf_hash")?)?,
                tag: row.try_get("tag")?,
                event: audit_from_row(row)?,
            })
        }

        async fn lock_passport(tx: &mut Tx, id: &PassportId) -> Result<PassportRecord> {
            let sql = format!("SELECT {PASSPORT_COLS} FROM passports WHERE id = $1{FOR_UPDATE}");
            let row = sqlx::query(&sql)
                .bind(id_text(id))
                .fetch_optional(&mut **tx)
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

        async fn read_draft(tx: &mut Tx, id: &PassportId, version: u32) -> Result<Option<DraftRecord>> {
            let sql = format!(
                "SELECT {DRAFT_COLS} FROM passport_drafts WHERE passport_id = $1 AND version = $2"
            );
            sqlx::query(&sql)
                .bind(id_text(id))
                .bind(version_i32(version)?)
                .fetch_optional(&mut **tx)
                .await?
                .as_ref()
                .map(draft_from_row)
                .transpose()
        }

        // ---- The write queue: every audited write runs here, batched. ----
        //
        // Audited writes serialise on the audit head row until commit, so one transaction
        // per write would cap a node at one commit (one WAL flush) at a time. Instead each
        // write is a job on a queue; one task per store takes whatever is queued (up to
        // MAX_BATCH), runs the jobs in ONE transaction, each inside its own savepoint (a job
        // that fails is rolled back alone and gets its own error), and commits once. A job's
        // caller hears back only after that commit: nothing is acknowledged before it is
        // durable. The batch claims the audit head first, so every batch takes its locks
        // in the same order (head, then rows) and batches of several nodes sharing one
        // PostgreSQL cannot deadlock.

        type AnyResult = Result<Box<dyn std::any::Any + Send>>;
        type RunFuture<'c> =
            std::pin::Pin<Box<dyn std::future::Future<Output = AnyResult> + Send + 'c>>;
        type RunFn = Box<dyn for<'c> FnOnce(&'c mut Tx) -> RunFuture<'c> + Send>;
        pub(super) type OpFuture<'c, T> =
            std::pin::Pin<Box<dyn std::future::Future<Output = Result<T>> + Send + 'c>>;

        /// One queued write and where its result goes.
        pub struct Job {
            run: RunFn,
            reply: tokio::sync::oneshot::Sender<AnyResult>,
        }

        /// The most writes committed together.
        pub(super) const MAX_BATCH: usize = 64;

        /// Starts the writer task of a store; it ends when the returned sender is dropped.
        pub(super) fn spawn_writer(pool: sqlx::Pool<Db>) -> tokio::sync::mpsc::Sender<Job> {
            let (tx, rx) = tokio::sync::mpsc::channel(4 * MAX_BATCH);
            tokio::spawn(run_writer(pool, rx));
            tx
        }

        async fn run_writer(pool: sqlx::Pool<Db>, mut rx: tokio::sync::mpsc::Receiver<Job>) {
            while let Some(first) = rx.recv().await {
                let mut batch = Vec::with_capacity(MAX_BATCH);
                batch.push(first);
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                run_batch(&pool, batch).await;
            }
        }

        fn shared(e: &StoreError) -> StoreError {
            StoreError::Database(format!("the batch this write was in did not commit: {e}"))
        }

        /// Runs statements without parameters, possibly several in one round trip.
        async fn exec(tx: &mut Tx, sql: &str) -> Result<()> {
            // A plain string has no arguments: PostgreSQL runs it with the simple query
            // protocol, which allows several statements; SQLite runs each in turn.
            sqlx::Executor::execute(&mut **tx, sql).await?;
            Ok(())
        }

        /// The savepoint each job runs in. The batch's first one is set by `begin_write_on`
        /// (in the same round trip as `BEGIN`); after a job succeeds, releasing it and
        /// setting the next is one round trip; after a job fails, `ROLLBACK TO` keeps it
        /// set for the next job. `COMMIT` releases the last.
        const NEXT_SAVEPOINT: &str = "RELEASE SAVEPOINT hallmark_write; SAVEPOINT hallmark_write";
        const UNDO_JOB: &str = "ROLLBACK TO SAVEPOINT hallmark_write";

        async fn run_batch(pool: &sqlx::Pool<Db>, batch: Vec<Job>) {
            let mut tx = match super::begin_write_on(pool).await {
                Ok(tx) => tx,
                Err(e) => {
                    for job in batch {
                        let _ = job.reply.send(Err(shared(&e)));
                    }
                    return;
                }
            };
            let mut done = Vec::with_capacity(batch.len());
            let mut broken: Option<StoreError> = None;
            let mut savepoint_set = true;
            for job in batch {
                if let Some(e) = &broken {
                    let _ = job.reply.send(Err(shared(e)));
                    continue;
                }
                if !savepoint_set {
                    if let Err(e) = exec(&mut tx, NEXT_SAVEPOINT).await {
                        let _ = job.reply.send(Err(shared(&e)));
                        broken = Some(e);
                        continue;
                    }
                    savepoint_set = true;
                }
                let result = (job.run)(&mut tx).await;
                if result.is_ok() {
                    savepoint_set = false;
                } else if let Err(e) = exec(&mut tx, UNDO_JOB).await {
                    broken = Some(e);
                }
                done.push((job.reply, result));
            }
            let commit = match broken {
                Some(e) => {
                    let _ = tx.rollback().await;
                    Err(e)
                }
                None => tx.commit().await.map_err(StoreError::from),
            };
            for (reply, result) in done {
                let _ = reply.send(match (&commit, result) {
                    (_, Err(e)) => Err(e),
                    (Ok(()), Ok(v)) => Ok(v),
                    (Err(e), Ok(_)) => Err(shared(e)),
                });
            }
        }

        impl $store {
            /// Runs `op` in the store's next write batch and returns its result once the
            /// batch has committed.
            async fn write<T, F>(&self, op: F) -> Result<T>
            where
                T: Send + 'static,
                F: for<'c> FnOnce(&'c mut Tx, Tags) -> OpFuture<'c, T> + Send + 'static,
            {
                let (reply, result) = tokio::sync::oneshot::channel();
                let tags: Tags = self.integrity.get().cloned();
                let run: RunFn = Box::new(move |tx: &mut Tx| -> RunFuture<'_> {
                    Box::pin(async move {
                            op(tx, tags)
                                .await
                                .map(|v| Box::new(v) as Box<dyn std::any::Any + Send>)
                        })
                    });
                let stopped = || StoreError::Database("the store's writer has stopped".to_owned());
                    self.writer
                        .send(Job { run, reply })
                        .await
                        .map_err(|_| stopped())?;
                    let value = result.await.map_err(|_| stopped())??;
                    value
                        .downcast::<T>()
                        .map(|b| *b)
                    .map_err(|_| StoreError::Database("write result of an unexpected type".to_owned()))
                }
            }

            #[async_trait::async_trait]
            impl $crate::Store for $store {
                async fn create_draft(&self, new: NewPassport, audit: AuditEvent) -> Result<PassportRecord> {
                    let key = new.product.clone();
                    if !key.fits_granularity() {
                        return Err(StoreError::Constraint(format!(
                            "product identifier {key}: the lot and serial do not fit the granularity"
                        )));
                    }
                    let created = self.write(move |tx: &mut Tx, tags: Tags| -> OpFuture<'_, PassportRecord> {
                        Box::pin(async move {
                        let now = utc(audit.at)?;
                        sqlx::query(
                            "INSERT INTO passports (id, gtin, granularity, lot, serial, sector_id, \
                             economic_operator_id, status, status_reason, current_version, created_at, \
                             updated_at, published_at) \
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
                        .execute(&mut **tx)
                        .await
                        .map_err(|e| {
                            if $crate::error::is_identifier_conflict(&e) {
                                StoreError::IdentifierInUse {
                                    key: new.product.to_string(),
                                    existing: None,
                                }
                            } else {
                                StoreError::from(e)
                            }
                        })?;
                        sqlx::query(
                            "INSERT INTO passport_drafts (passport_id, version, content, created_at, updated_at) \
                             VALUES ($1, 1, $2, $3, $4)",
                        )
                        .bind(id_text(&new.id))
                        .bind(&new.content)
                        .bind(now)
                        .bind(now)
                        .execute(&mut **tx)
                        .await?;
                        append_audit_tx(tx, &tags, &audit, Some(&new.id)).await?;
                        // Exactly what was inserted (the insert guard refuses anything else).
                        Ok(PassportRecord {
                            id: new.id,
                            gtin: new.product.gtin.clone(),
                            product: Some(new.product),
                            sector_id: new.sector_id,
                            economic_operator_id: new.economic_operator_id,
                            status: PassportStatus::Draft,
                            status_reason: None,
                            current_version: 0,
                            created_at: now,
                            updated_at: now,
                            published_at: None,
                        })
                    })
                })
                .await;
                match created {
                    // The write was answered after its batch ended, so the passport that
                    // holds the identifier has committed: name it.
                    Err(StoreError::IdentifierInUse { key: text, existing: None }) => {
                        let existing = self.find_live(&key).await?.map(|p| p.id);
                        Err(StoreError::IdentifierInUse { key: text, existing })
                    }
                    other => other,
                }
            }

            async fn find_live(&self, key: &ProductKey) -> Result<Option<PassportRecord>> {
                // The unique index's own expression and predicate, so this is an index
                // lookup and finds exactly the row the index holds.
                let sql = format!(
                    "SELECT {PASSPORT_COLS} FROM passports WHERE gtin = $1 AND granularity = $2 \
                     AND coalesce(serial, lot, '') = $3 AND status <> 'deactivated' \
                     AND granularity IS NOT NULL"
                );
                let row = sqlx::query(&sql)
                    .bind(&key.gtin)
                    .bind(key.granularity.as_str())
                    .bind(key.qualifier())
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(passport_from_row).transpose()
            }

            async fn update_draft(
                &self,
                id: &PassportId,
                content: Vec<u8>,
                audit: AuditEvent,
            ) -> Result<DraftRecord> {
                let id_owned = *id;
                self.write(move |tx: &mut Tx, tags: Tags| -> OpFuture<'_, DraftRecord> {
                    Box::pin(async move {
                        let id = &id_owned;
                        let now = utc(audit.at)?;
                        let p = lock_passport(tx, id).await?;
                        refuse_terminal(&p)?;
                        let version = p.current_version + 1;
                        let done = sqlx::query(
                            "UPDATE passport_drafts SET content = $1, updated_at = $2 \
                             WHERE passport_id = $3 AND version = $4",
                        )
                        .bind(&content)
                        .bind(now)
                        .bind(id_text(id))
                        .bind(version_i32(version)?)
                        .execute(&mut **tx)
                        .await?;
                        if done.rows_affected() == 0 {
                            return Err(StoreError::NotFound(format!(
                                "pending draft (version {version}) of passport {id}"
                            )));
                        }
                        if p.status == PassportStatus::Draft {
                            sqlx::query("UPDATE passports SET updated_at = $1 WHERE id = $2")
                                .bind(now)
                                .bind(id_text(id))
                                .execute(&mut **tx)
                                .await?;
                        }
                        let draft = read_draft(tx, id, version)
                            .await?
                            .ok_or_else(|| StoreError::NotFound(format!("draft of passport {id}")))?;
                        append_audit_tx(tx, &tags, &audit, Some(id)).await?;
                        Ok(draft)
                    })
                })
                .await
            }

            async fn start_version(
                &self,
                id: &PassportId,
                content: Vec<u8>,
                audit: AuditEvent,
            ) -> Result<DraftRecord> {
                let id_owned = *id;
                self.write(move |tx: &mut Tx, tags: Tags| -> OpFuture<'_, DraftRecord> {
                    Box::pin(async move {
                        let id = &id_owned;
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
                        sqlx::query(
                            "INSERT INTO passport_drafts (passport_id, version, content, created_at, updated_at) \
                             VALUES ($1, $2, $3, $4, $5)",
                        )
                        .bind(id_text(id))
                        .bind(version_i32(version)?)
                        .bind(&content)
                        .bind(now)
                        .bind(now)
                        .execute(&mut **tx)
                        .await?;
                        append_audit_tx(tx, &tags, &audit, Some(id)).await?;
                        Ok(DraftRecord {
                            passport: *id,
                            version,
                            content,
                            created_at: now,
                            updated_at: now,
                        })
                    })
                })
                .await
            }

            async fn get_draft(&self, id: &PassportId) -> Result<Option<DraftRecord>> {
                Ok(self.get_pending(id).await?.1)
            }

            async fn get_pending(
                &self,
                id: &PassportId,
            ) -> Result<(PassportRecord, Option<DraftRecord>)> {
                // The passport and its pending draft (version current + 1) in one query; the
                // draft columns are NULL when there is none.
                let sql = format!(
                    "SELECT p.id, p.gtin, p.granularity, p.lot, p.serial, p.sector_id, \
                     p.economic_operator_id, p.status, \
                     p.status_reason, p.current_version, p.created_at, p.updated_at, \
                     p.published_at, d.version AS draft_version, d.content AS draft_content, \
                     d.created_at AS draft_created_at, d.updated_at AS draft_updated_at \
                     FROM passports p LEFT JOIN passport_drafts d \
                     ON d.passport_id = p.id AND d.version = p.current_version + 1 \
                     WHERE p.id = $1"
                );
                let row = sqlx::query(&sql)
                    .bind(id_text(id))
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("passport {id}")))?;
                let passport = passport_from_row(&row)?;
                let draft_version: Option<i32> = row.try_get("draft_version")?;
                let draft = match draft_version {
                    None => None,
                    Some(v) => Some(DraftRecord {
                        passport: passport.id,
                        version: version_u32(v)?,
                        content: row.try_get("draft_content")?,
                        created_at: row.try_get("draft_created_at")?,
                        updated_at: row.try_get("draft_updated_at")?,
                    }),
                };
                Ok((passport, draft))
            }

            async fn publish(
                &self,
                id: &PassportId,
                version: NewVersion,
                audit: AuditEvent,
            ) -> Result<VersionRecord> {
                Ok(self.publish_with_seq(id, version, audit).await?.0)
            }

            async fn publish_with_seq(
                &self,
                id: &PassportId,
                version: NewVersion,
                audit: AuditEvent,
            ) -> Result<(VersionRecord, u64)> {
                let id_owned = *id;
                self.write(move |tx: &mut Tx, tags: Tags| -> OpFuture<'_, (VersionRecord, u64)> {
                    Box::pin(async move {
                        let id = &id_owned;
                        let now = utc(audit.at)?;
                        let signed_at = utc(version.signed_at)?;
                        // The passport row (locked) and whether its next version's draft
                        // exists, in one statement.
                        let sql = format!(
                            "SELECT {PASSPORT_COLS}, EXISTS (SELECT 1 FROM passport_drafts d \
                             WHERE d.passport_id = passports.id \
                             AND d.version = passports.current_version + 1) AS has_draft \
                             FROM passports WHERE id = $1{FOR_UPDATE}"
                        );
                        let row = sqlx::query(&sql)
                            .bind(id_text(id))
                            .fetch_optional(&mut **tx)
                            .await?
                            .ok_or_else(|| StoreError::NotFound(format!("passport {id}")))?;
                        let p = passport_from_row(&row)?;
                        let has_draft: bool = row.try_get("has_draft")?;
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
                        // The database's rules fix the order: a version is stored only for
                        // a published passport, and current_version advances only to a stored
                        // version.
                        if p.status == PassportStatus::Draft {
                            sqlx::query(
                                "UPDATE passports SET status = 'published', published_at = $1, updated_at = $2 \
                                 WHERE id = $3",
                            )
                            .bind(now)
                            .bind(now)
                            .bind(id_text(id))
                            .execute(&mut **tx)
                            .await?;
                        }
                        let digest = sha256(&version.content);
                        let c = &version.credentials;
                        sqlx::query(
                            "INSERT INTO passport_versions (passport_id, version, content, content_sha256, \
                             key_id, signed_at, public_di, public_jwt, legitimate_interest_di, \
                             legitimate_interest_jwt, authority_di, authority_jwt, created_at) \
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
                        .execute(&mut **tx)
                        .await?;
                        sqlx::query(
                            "UPDATE passports SET current_version = $1, updated_at = $2 WHERE id = $3",
                        )
                        .bind(version_i32(next)?)
                        .bind(now)
                        .bind(id_text(id))
                        .execute(&mut **tx)
                        .await?;
                        let event = append_audit_tx(tx, &tags, &audit, Some(id)).await?;
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
                    })
                })
                .await
            }

            async fn change_status(
                &self,
                id: &PassportId,
                to: PassportStatus,
                reason: Option<String>,
                audit: AuditEvent,
            ) -> Result<PassportRecord> {
                let id_owned = *id;
                self.write(move |tx: &mut Tx, tags: Tags| -> OpFuture<'_, PassportRecord> {
                    Box::pin(async move {
                        let id = &id_owned;
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
                        sqlx::query(
                            "UPDATE passports SET status = $1, status_reason = $2, updated_at = $3 WHERE id = $4",
                        )
                        .bind(to.as_str())
                        .bind(&reason)
                        .bind(now)
                        .bind(id_text(id))
                        .execute(&mut **tx)
                        .await?;
                        let record = lock_passport(tx, id).await?;
                        append_audit_tx(tx, &tags, &audit, Some(id)).await?;
                        Ok(record)
                    })
                })
                .await
            }

            async fn get_passport(&self, id: &PassportId) -> Result<PassportRecord> {
                let sql = format!("SELECT {PASSPORT_COLS} FROM passports WHERE id = $1");
                let row = sqlx::query(&sql)
                    .bind(id_text(id))
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("passport {id}")))?;
                passport_from_row(&row)
            }

            async fn get_version(&self, id: &PassportId, version: Option<u32>) -> Result<VersionRecord> {
                let version = match version {
                    Some(v) => v,
                    None => self.get_passport(id).await?.current_version,
                };
                let sql = format!(
                    "SELECT {VERSION_COLS} FROM passport_versions WHERE passport_id = $1 AND version = $2"
                );
                let row = sqlx::query(&sql)
                    .bind(id_text(id))
                    .bind(version_i32(version)?)
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or_else(|| {
                        StoreError::NotFound(format!("version {version} of passport {id}"))
                    })?;
                version_from_row(&row)
            }

            async fn list_passports(
                &self,
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
                let mut query = sqlx::query(&sql);
                for arg in args {
                    query = query.bind(arg);
                }
                let rows = query.bind(limit + 1).fetch_all(&self.pool).await?;
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

            async fn history(&self, id: &PassportId) -> Result<Vec<AuditRecord>> {
                self.get_passport(id).await?;
                let sql =
                    format!("SELECT {AUDIT_COLS} FROM audit_events WHERE passport_id = $1 ORDER BY seq");
                sqlx::query(&sql)
                    .bind(id_text(id))
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(audit_from_row)
                    .collect()
            }

            async fn publish_seq(&self, id: &PassportId, version: u32) -> Result<Option<u64>> {
                let rows: Vec<(i64, String)> = sqlx::query_as(
                    "SELECT seq, detail FROM audit_events \
                     WHERE passport_id = $1 AND action = 'passport.published' ORDER BY seq",
                )
                .bind(id_text(id))
                .fetch_all(&self.pool)
                .await?;
                for (seq, detail) in rows {
                    let detail: serde_json::Value = serde_json::from_str(&detail)
                        .map_err(|e| StoreError::Corrupt(format!("audit detail: {e}")))?;
                    if detail.get("version").and_then(serde_json::Value::as_u64)
                        == Some(u64::from(version))
                    {
                        return Ok(Some(seq_u64(seq)?));
                    }
                }
                Ok(None)
            }

            async fn append_audit(&self, event: AuditEvent) -> Result<AuditRecord> {
                self.write(move |tx: &mut Tx, tags: Tags| -> OpFuture<'_, AuditRecord> {
                    Box::pin(async move {
                        let record = append_audit_tx(tx, &tags, &event, None).await?;
                        Ok(record)
                    })
                })
                .await
            }

            async fn list_audit(&self, from_seq: u64, limit: u32) -> Result<Vec<AuditRecord>> {
                let sql =
                    format!("SELECT {AUDIT_COLS} FROM audit_events WHERE seq >= $1 ORDER BY seq LIMIT $2");
                sqlx::query(&sql)
                    .bind(seq_i64(from_seq))
                    .bind(page_limit(limit))
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(audit_from_row)
                    .collect()
            }

            async fn list_leaf_hashes(&self, from_index: u64, limit: u32) -> Result<Vec<[u8; 32]>> {
                let from = i64::try_from(from_index)
                    .map_err(|_| StoreError::Constraint("leaf index out of range".to_owned()))?;
                let rows: Vec<Vec<u8>> = sqlx::query_scalar(
                    "SELECT leaf_hash FROM log_leaves WHERE leaf_index >= $1 \
                     ORDER BY leaf_index LIMIT $2",
                )
                .bind(from)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter().map(digest_from_vec).collect()
            }

            async fn find_leaf(&self, leaf_hash: &[u8; 32]) -> Result<Option<u64>> {
                let index: Option<i64> = sqlx::query_scalar(
                    "SELECT min(leaf_index) FROM log_leaves WHERE leaf_hash = $1",
                )
                .bind(leaf_hash.to_vec())
                .fetch_one(&self.pool)
                .await?;
                index.map(seq_u64).transpose()
            }

            async fn list_leaves(&self, from_index: u64, limit: u32) -> Result<Vec<StoredLeaf>> {
                let from = i64::try_from(from_index)
                    .map_err(|_| StoreError::Constraint("leaf index out of range".to_owned()))?;
                let sql = format!(
                    "SELECT l.leaf_index, l.leaf_hash, l.tag, e.{} FROM log_leaves l \
                     JOIN audit_events e ON e.seq = l.audit_seq \
                     WHERE l.leaf_index >= $1 ORDER BY l.leaf_index LIMIT $2",
                    AUDIT_COLS.replace(", ", ", e.")
                );
                sqlx::query(&sql)
                    .bind(from)
                    .bind(i64::from(limit.min(100_000)))
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(leaf_from_row)
                    .collect()
            }

            async fn first_tagged_leaf(&self) -> Result<u64> {
                let first: Option<i64> =
                    sqlx::query_scalar("SELECT first_tagged_leaf FROM log_integrity WHERE id = 1")
                        .fetch_optional(&self.pool)
                        .await?;
                // No row: a database migrated by hand without it; nothing predates tagging.
                first.map_or(Ok(0), seq_u64)
            }

            async fn list_quarantine(&self) -> Result<Vec<QuarantineRecord>> {
                let rows = sqlx::query(
                    "SELECT leaf_index, leaf_hash, reason, created_at FROM log_quarantine \
                     ORDER BY leaf_index",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok(QuarantineRecord {
                            leaf_index: seq_u64(row.try_get("leaf_index")?)?,
                            leaf_hash: digest_from_vec(row.try_get("leaf_hash")?)?,
                            reason: row.try_get("reason")?,
                            created_at: row.try_get("created_at")?,
                        })
                    })
                    .collect()
            }

            async fn quarantine_leaf(&self, q: QuarantineRecord) -> Result<()> {
                sqlx::query(
                    "INSERT INTO log_quarantine (leaf_index, leaf_hash, reason, created_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(seq_i64(q.leaf_index))
                .bind(q.leaf_hash.to_vec())
                .bind(&q.reason)
                .bind(utc(q.created_at)?)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            fn set_integrity(&self, keys: std::sync::Arc<hallmark_core::integrity::IntegrityKeys>) -> bool {
                self.integrity.set(keys).is_ok()
            }

            async fn latest_checkpoints(&self, limit: u32) -> Result<Vec<CheckpointRecord>> {
                let rows = sqlx::query(
                    "SELECT tree_size, root_hash, note, created_at FROM checkpoints \
                     ORDER BY tree_size DESC LIMIT $1",
                )
                .bind(i64::from(limit.min(MAX_CHECKPOINTS)))
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(checkpoint_from_row).collect()
            }

            async fn rehash_api_key(&self, prefix: &str, hash: Vec<u8>, audit: AuditEvent) -> Result<()> {
                let prefix = prefix.to_owned();
                self.write(move |tx: &mut Tx, tags: Tags| -> OpFuture<'_, ()> {
                    Box::pin(async move {
                        let done = sqlx::query(
                            "UPDATE api_keys SET hash = $1, hash_scheme = 'hmac-sha256' \
                             WHERE prefix = $2 AND hash_scheme = 'sha256'",
                        )
                        .bind(&hash)
                        .bind(&prefix)
                        .execute(&mut **tx)
                        .await?;
                        if done.rows_affected() == 0 {
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

            async fn tag_signing_key(&self, expected: SigningKeyRecord, audit: AuditEvent) -> Result<()> {
                self.write(move |tx: &mut Tx, tags: Tags| -> OpFuture<'_, ()> {
                    Box::pin(async move {
                        let Some(tag) = signing_key_tag(&tags, &expected)? else {
                            return Err(StoreError::Config(
                                "the store has no row-authentication keys".to_owned(),
                            ));
                        };
                        let done = sqlx::query(
                            "UPDATE signing_keys SET tag = $1 WHERE key_id = $2 AND tag IS NULL",
                        )
                        .bind(tag)
                        .bind(&expected.key_id)
                        .execute(&mut **tx)
                        .await?;
                        if done.rows_affected() == 0 {
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

            async fn insert_checkpoint(&self, c: CheckpointRecord) -> Result<()> {
                let size = i64::try_from(c.tree_size)
                    .map_err(|_| StoreError::Constraint("tree size out of range".to_owned()))?;
                sqlx::query(
                    "INSERT INTO checkpoints (tree_size, root_hash, note, created_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(size)
                .bind(c.root_hash.to_vec())
                .bind(&c.note)
                .bind(utc(c.created_at)?)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn list_checkpoints(&self) -> Result<Vec<CheckpointRecord>> {
                let rows = sqlx::query(
                    "SELECT tree_size, root_hash, note, created_at FROM checkpoints \
                     ORDER BY tree_size",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(checkpoint_from_row).collect()
            }

            async fn latest_checkpoint(&self) -> Result<Option<CheckpointRecord>> {
                let row = sqlx::query(
                    "SELECT tree_size, root_hash, note, created_at FROM checkpoints \
                     ORDER BY tree_size DESC LIMIT 1",
                )
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(checkpoint_from_row).transpose()
            }

            async fn audit_len(&self) -> Result<u64> {
                let n: i64 = sqlx::query_scalar("SELECT next_seq - 1 FROM audit_head WHERE id = 1")
                    .fetch_one(&self.pool)
                    .await?;
                seq_u64(n)
            }

            async fn insert_api_key(&self, key: NewApiKey, audit: AuditEvent) -> Result<ApiKeyRecord> {
                self.write(move |tx: &mut Tx, tags: Tags| -> OpFuture<'_, ApiKeyRecord> {
                    Box::pin(async move {
                        let now = utc(audit.at)?;
                        let expires_at = opt_utc(key.expires_at)?;
                        sqlx::query(
                            "INSERT INTO api_keys (prefix, hash, scope, label, created_at, expires_at, \
                             revoked_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL)",
                        )
                        .bind(&key.prefix)
                        .bind(&key.hash)
                        .bind(&key.scope)
                        .bind(&key.label)
                        .bind(now)
                        .bind(expires_at)
                        .execute(&mut **tx)
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
                })
                .await
            }

            async fn find_api_key(&self, prefix: &str) -> Result<Option<ApiKeyRecord>> {
                let sql = format!("SELECT {API_KEY_COLS} FROM api_keys WHERE prefix = $1");
                sqlx::query(&sql)
                    .bind(prefix)
                    .fetch_optional(&self.pool)
                    .await?
                    .as_ref()
                    .map(api_key_from_row)
                    .transpose()
            }

            async fn touch_api_key(&self, prefix: &str, at: OffsetDateTime) -> Result<()> {
                let done = sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE prefix = $2")
                    .bind(utc(at)?)
                    .bind(prefix)
                    .execute(&self.pool)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound(format!("API key {prefix}")));
                }
                Ok(())
            }

            async fn revoke_api_key(&self, prefix: &str, audit: AuditEvent) -> Result<ApiKeyRecord> {
                let prefix_owned = prefix.to_owned();
                self.write(move |tx: &mut Tx, tags: Tags| -> OpFuture<'_, ApiKeyRecord> {
                    Box::pin(async move {
                        let prefix = prefix_owned.as_str();
                        let now = utc(audit.at)?;
                        let sql = format!("SELECT {API_KEY_COLS} FROM api_keys WHERE prefix = $1{FOR_UPDATE}");
                        let row = sqlx::query(&sql)
                            .bind(prefix)
                            .fetch_optional(&mut **tx)
                            .await?
                            .ok_or_else(|| StoreError::NotFound(format!("API key {prefix}")))?;
                        let mut key = api_key_from_row(&row)?;
                        if key.revoked_at.is_some() {
                            return Err(StoreError::ImmutableViolation(format!(
                                "API key {prefix} is already revoked"
                            )));
                        }
                        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE prefix = $2")
                            .bind(now)
                            .bind(prefix)
                            .execute(&mut **tx)
                            .await?;
                        append_audit_tx(tx, &tags, &audit, None).await?;
                        key.revoked_at = Some(now);
                        Ok(key)
                    })
                })
                .await
            }

            async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>> {
                let sql = format!("SELECT {API_KEY_COLS} FROM api_keys ORDER BY prefix");
                sqlx::query(&sql)
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(api_key_from_row)
                    .collect()
            }

            async fn insert_signing_key(&self, key: SigningKeyRecord, audit: AuditEvent) -> Result<()> {
                self.write(move |tx: &mut Tx, tags: Tags| -> OpFuture<'_, ()> {
                    Box::pin(async move {
                        let mut key = key;
                        key.created_at = utc(key.created_at)?;
                        key.retired_at = opt_utc(key.retired_at)?;
                        key.revoked_at = opt_utc(key.revoked_at)?;
                        let tag = signing_key_tag(&tags, &key)?;
                        sqlx::query(
                            "INSERT INTO signing_keys (key_id, purpose, backend, public_key_multibase, status, \
                             created_at, retired_at, revoked_at, revocation_reason, tag) \
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
                        .execute(&mut **tx)
                        .await?;
                        append_audit_tx(tx, &tags, &audit, None).await?;
                        Ok(())
                    })
                })
                .await
            }

            async fn set_signing_key_status(
                &self,
                key_id: &str,
                status: SigningKeyStatus,
                reason: Option<String>,
                audit: AuditEvent,
            ) -> Result<SigningKeyRecord> {
                let key_id_owned = key_id.to_owned();
                self.write(move |tx: &mut Tx, tags: Tags| -> OpFuture<'_, SigningKeyRecord> {
                    Box::pin(async move {
                        let key_id = key_id_owned.as_str();
                        let now = utc(audit.at)?;
                        let sql =
                            format!("SELECT {SIGNING_KEY_COLS} FROM signing_keys WHERE key_id = $1{FOR_UPDATE}");
                        let row = sqlx::query(&sql)
                            .bind(key_id)
                            .fetch_optional(&mut **tx)
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
                        sqlx::query(
                            "UPDATE signing_keys SET status = $1, retired_at = $2, revoked_at = $3, \
                             revocation_reason = $4, tag = $5 WHERE key_id = $6",
                        )
                        .bind(status.as_str())
                        .bind(key.retired_at)
                        .bind(key.revoked_at)
                        .bind(&key.revocation_reason)
                        .bind(&key.tag)
                        .bind(key_id)
                        .execute(&mut **tx)
                        .await?;
                        append_audit_tx(tx, &tags, &audit, None).await?;
                        Ok(key)
                    })
                })
                .await
            }

            async fn list_signing_keys(&self) -> Result<Vec<SigningKeyRecord>> {
                let sql =
                    format!("SELECT {SIGNING_KEY_COLS} FROM signing_keys ORDER BY created_at, key_id");
                sqlx::query(&sql)
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(signing_key_from_row)
                    .collect()
            }
        }
        }
    };
}

pub(crate) use impl_store;

//! Bulk import: a batch of submissions, each with the operator's external reference, made
//! the latest content of the passport that reference names — created, updated, published
//! or left unchanged — through the same stages as the single-passport doors (docs/import.md,
//! "Re-run rules"; the admin route `POST /api/v1/passports/batch`).
//!
//! Per batch: one store read of the references (`Store::external_refs`, per economic
//! operator). Per item, at most a few at a time: the submission read by core's
//! `PassportDraft`, its digest (`PassportDraft::digest`) compared with the latest draft
//! row's, the decision (the table below), then either the draft check (`Service::check`:
//! an invalid item is never saved) or the publish stages ([`Service::check_publication`]:
//! one schema validation and one plugin run; [`Service::sign_and_store`]), and ONE store
//! job (`Store::import`): the draft write, the reference, the publication, each with its
//! audit event — a refusal at any step writes nothing of the item.
//!
//! | stored for (operator, ref) | digest | without `publish` | with `publish` |
//! |---|---|---|---|
//! | none | — | create → `created` | create + publish → `created` |
//! | pending draft | equal | `unchanged` | publish it → `published` |
//! | pending draft | differs | update → `updated` | update + publish → `updated` |
//! | published, no draft | equal | `unchanged` | `unchanged` |
//! | published, no draft | differs | start version → `updated` | start + publish → `updated` |
//! | suspended | differs | start version → `updated` | `failed` 409 (resume first) |
//! | archived / deactivated | any | `failed` 409 | `failed` 409 |
//! | another product identifier | any | `failed` 409 | `failed` 409 |
//!
//! A dry run decides and checks the same way and writes nothing (but a `plugin.failed`
//! event when a plugin gives no verdict, as the `validate` dry run does).
//!
//! An import (one run of a client over one file, in many batches) is named by the client's
//! `importId`; the node counts its outcomes in memory (`crate::imports`, bounded) and
//! [`Service::finish_import`] records them once as the private `import.completed` event.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use super::passports::{
    draft_passport_from, legacy_operator, new_passport_id, same_product, submission_digest, to_vec,
    During, PluginCheck, Validation,
};
use super::{events, Service, ServiceError};
use crate::auth::Principal;
use hallmark_core::passport::{Passport, PassportDraft, PassportId, MAX_INPUT_BYTES};
use hallmark_core::sector::ValidationIssue;
use hallmark_core::tlog::event::{ImportCompleted, ImportCounts};
use hallmark_store::{
    ExternalRefState, ImportDraft, ImportWrite, ImportWritten, NewPassport, PassportRecord,
    ProductKey,
};
use serde_json::Value;
use uuid::Uuid;

/// Most items in one batch.
pub const MAX_BATCH_ITEMS: usize = 1_000;

/// Longest external reference, in characters.
pub const MAX_EXTERNAL_REF_CHARS: usize = 256;

/// One batch of an import.
#[derive(Debug, Clone)]
pub struct ImportBatch {
    /// The import this batch belongs to (the client's UUIDv7), if any.
    pub import_id: Option<Uuid>,
    /// Publish every created or changed item (and pending drafts that are unchanged).
    pub publish: bool,
    /// Decide and check only; write nothing.
    pub dry_run: bool,
    /// The items, in order.
    pub items: Vec<ImportItem>,
}

/// One item: the operator's reference and the submission (as `POST /api/v1/passports`
/// takes it).
#[derive(Debug, Clone)]
pub struct ImportItem {
    /// The economic operator's own reference for the passport (1–256 characters, no
    /// control characters, no surrounding whitespace), unique per operator.
    pub external_ref: String,
    /// The submission.
    pub passport: Value,
}

/// What became of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemResult {
    /// A new passport (published too, with `publish`).
    Created,
    /// The content changed: the pending draft edited or a version started (published too,
    /// with `publish`).
    Updated,
    /// The pending draft was already this content, and is now published.
    Published,
    /// The content is already the latest: nothing written.
    Unchanged,
}

/// An item done (or, in a dry run, what would be done).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemDone {
    /// What became of it.
    pub result: ItemResult,
    /// The passport (none for a dry run's new passport).
    pub id: Option<PassportId>,
    /// The pending draft's version, when one is left pending.
    pub draft_version: Option<u32>,
    /// The published version served, once there is one.
    pub version: Option<u32>,
    /// The transparency-log leaf of this item's `passport.published` event.
    pub log_index: Option<u64>,
    /// Validation warnings (e.g. identifiers that are not ISO/IEC 15459); the item was
    /// still written.
    pub warnings: Vec<ValidationIssue>,
}

/// One item's outcome, by its position in the batch.
#[derive(Debug, Clone)]
pub struct ItemOutcome {
    /// Its index in the batch.
    pub index: usize,
    /// Its reference.
    pub external_ref: String,
    /// Done, or why not (nothing was written for it).
    pub result: Result<ItemDone, ServiceError>,
}

/// A batch's outcomes, in item order, and their counts.
#[derive(Debug, Clone)]
pub struct BatchOutcome {
    /// Whether this was a dry run (the results say what would be done).
    pub dry_run: bool,
    /// One per item, in order.
    pub items: Vec<ItemOutcome>,
    /// The outcomes counted.
    pub counts: ImportCounts,
}

/// The end of an import, as the client reports it (`POST /api/v1/imports/{id}/finish`).
#[derive(Debug, Clone)]
pub struct ImportDone {
    /// The input file's name (no directory).
    pub file_name: String,
    /// Its size.
    pub bytes: u64,
    /// Its SHA-256, lowercase hex.
    pub sha256: String,
    /// Rows read.
    pub rows: u64,
    /// Whether the run stopped early.
    pub interrupted: bool,
    /// The client's counts, used when this node did not count the import itself.
    pub counts: Option<ImportCounts>,
}

/// The `import.completed` event written.
#[derive(Debug, Clone)]
pub struct ImportFinished {
    /// Its detail.
    pub detail: ImportCompleted,
    /// Its audit sequence number.
    pub seq: u64,
}

/// An external reference as the batch takes it: 1–256 characters, none a control
/// character, no surrounding whitespace.
pub fn check_external_ref(r: &str) -> Result<(), ServiceError> {
    let chars = r.chars().count();
    let refuse = |why: &str| Err(ServiceError::Unprocessable(format!("`externalRef` {why}")));
    if chars == 0 || chars > MAX_EXTERNAL_REF_CHARS {
        return refuse(&format!(
            "must have 1 to {MAX_EXTERNAL_REF_CHARS} characters (has {chars})"
        ));
    }
    if r.chars().any(char::is_control) {
        return refuse("must not contain control characters");
    }
    if r.trim() != r {
        return refuse("must not begin or end with whitespace");
    }
    Ok(())
}

/// A boxed item future.
type Task<'f, T> = Pin<Box<dyn Future<Output = T> + Send + 'f>>;

/// Runs `futures` with at most `limit` polled at once; their outputs in order.
async fn bounded<'f, T>(futures: Vec<Task<'f, T>>, limit: usize) -> Vec<T> {
    let total = futures.len();
    let mut waiting = futures.into_iter().enumerate();
    let mut running: Vec<(usize, Task<'f, T>)> = Vec::new();
    let mut out: Vec<Option<T>> = std::iter::repeat_with(|| None).take(total).collect();
    std::future::poll_fn(|cx| loop {
        while running.len() < limit.max(1) {
            match waiting.next() {
                Some(f) => running.push(f),
                None => break,
            }
        }
        if running.is_empty() {
            return Poll::Ready(());
        }
        let mut progressed = false;
        let mut i = 0;
        while i < running.len() {
            if let Poll::Ready(v) = running[i].1.as_mut().poll(cx) {
                out[running[i].0] = Some(v);
                drop(running.swap_remove(i));
                progressed = true;
            } else {
                i += 1;
            }
        }
        if !progressed {
            return Poll::Pending;
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

/// A draft check that did not hold, as the error the publish path would give.
fn refusal(v: Validation) -> ServiceError {
    if !v.issues.is_empty() {
        return ServiceError::Invalid(v.issues);
    }
    match v.plugin {
        Some(PluginCheck::Checked { plugin, findings }) => {
            ServiceError::PluginRejected { plugin, findings }
        }
        Some(PluginCheck::Failed {
            plugin,
            reason,
            detail,
        }) => ServiceError::PluginFailed {
            plugin,
            reason,
            detail,
        },
        None => ServiceError::internal("import", "a draft check failed without a reason"),
    }
}

/// The digest of the latest draft row: stored, or computed from its content (rows written
/// before the digest column).
fn stored_digest(state: &ExternalRefState) -> Result<Option<[u8; 32]>, ServiceError> {
    if let Some(d) = state.submission_sha256 {
        return Ok(Some(d));
    }
    match &state.content {
        Some(content) => {
            let p = Passport::from_json_slice(content)
                .map_err(|e| ServiceError::internal("stored draft does not parse", e))?;
            Ok(Some(submission_digest(&p)?))
        }
        None => Ok(None),
    }
}

fn terminal(record: &hallmark_store::PassportRecord) -> ServiceError {
    ServiceError::Conflict(format!(
        "passport {} is {} (terminal): its external reference names it for good; \
         use a new externalRef for a new passport",
        record.id, record.status
    ))
}

impl Service<'_> {
    /// One batch of an import (see the [module docs](self)): every item decided, checked
    /// and written — or refused — on its own; the outcomes in item order, counted, and
    /// added to the import's counts when `import_id` is given. Whole-batch refusals: more
    /// than [`MAX_BATCH_ITEMS`] items or a reference given twice (422), and, to publish,
    /// signing unavailable (503).
    pub async fn import_batch(
        &self,
        who: &Principal,
        batch: ImportBatch,
    ) -> Result<BatchOutcome, ServiceError> {
        if batch.items.len() > MAX_BATCH_ITEMS {
            return Err(ServiceError::Unprocessable(format!(
                "a batch has at most {MAX_BATCH_ITEMS} items (this one has {})",
                batch.items.len()
            )));
        }
        let mut first: HashMap<&str, usize> = HashMap::new();
        for (index, item) in batch.items.iter().enumerate() {
            if let Some(&earlier) = first.get(item.external_ref.as_str()) {
                return Err(ServiceError::DuplicateExternalRef {
                    external_ref: item.external_ref.clone(),
                    indexes: (earlier, index),
                });
            }
            first.insert(&item.external_ref, index);
        }
        if batch.publish && !batch.dry_run && !self.app.signing_available() {
            return Err(ServiceError::SigningUnavailable(
                crate::app::HSM_UNAVAILABLE.into(),
            ));
        }
        // The submissions read, and the stored state of their references: one query per
        // economic operator named.
        let drafts: Vec<Result<PassportDraft, ServiceError>> = batch
            .items
            .iter()
            .map(|item| {
                check_external_ref(&item.external_ref)?;
                let size = serde_json::to_vec(&item.passport).map_or(usize::MAX, |b| b.len());
                if size > MAX_INPUT_BYTES {
                    return Err(ServiceError::Unprocessable(format!(
                        "the passport is {size} bytes; an item holds at most {MAX_INPUT_BYTES}"
                    )));
                }
                Ok(PassportDraft::from_json_value(&item.passport)?)
            })
            .collect();
        let mut by_operator: HashMap<&str, Vec<String>> = HashMap::new();
        for (item, draft) in batch.items.iter().zip(&drafts) {
            if let Ok(d) = draft {
                by_operator
                    .entry(d.economic_operator_id.as_str())
                    .or_default()
                    .push(item.external_ref.clone());
            }
        }
        let mut states: HashMap<(String, String), ExternalRefState> = HashMap::new();
        for (operator, refs) in by_operator {
            for st in self.app.store.external_refs(operator, &refs).await? {
                states.insert((operator.to_owned(), st.external_ref.clone()), st);
            }
        }
        let limit = 2 * std::thread::available_parallelism().map_or(1, |n| n.get());
        let (publish, dry_run, import_id) = (batch.publish, batch.dry_run, batch.import_id);
        let mut futures: Vec<Task<'_, ItemOutcome>> = Vec::with_capacity(batch.items.len());
        for ((index, item), draft) in batch.items.into_iter().enumerate().zip(drafts) {
            let state = draft.as_ref().ok().and_then(|d| {
                states.remove(&(d.economic_operator_id.clone(), item.external_ref.clone()))
            });
            let external_ref = item.external_ref;
            futures.push(Box::pin(async move {
                let result = match draft {
                    Ok(draft) => {
                        let job = ItemJob {
                            who,
                            external_ref: Some(&external_ref),
                            import_id,
                            publish,
                            dry_run,
                        };
                        self.import_item(job, draft, state).await
                    }
                    Err(e) => Err(e),
                };
                ItemOutcome {
                    index,
                    external_ref,
                    result,
                }
            }));
        }
        let items = bounded(futures, limit).await;
        let mut counts = ImportCounts::default();
        for item in &items {
            match &item.result {
                Ok(done) => match done.result {
                    ItemResult::Created => counts.created += 1,
                    ItemResult::Updated => counts.updated += 1,
                    ItemResult::Published => counts.published += 1,
                    ItemResult::Unchanged => counts.unchanged += 1,
                },
                Err(_) => counts.failed += 1,
            }
        }
        if let (Some(id), false) = (import_id, dry_run) {
            self.app.imports.add(id, &counts);
        }
        Ok(BatchOutcome {
            dry_run,
            items,
            counts,
        })
    }

    /// One item: the decision, the check, the one store job.
    async fn import_item(
        &self,
        job: ItemJob<'_>,
        draft: PassportDraft,
        state: Option<ExternalRefState>,
    ) -> Result<ItemDone, ServiceError> {
        let digest = draft
            .digest()
            .map_err(|e| ServiceError::internal("submission digest", e))?
            .0;
        let Some(state) = state else {
            return self.import_create(&job, draft, digest).await;
        };
        let record = &state.passport;
        if record.status.is_terminal() {
            return Err(terminal(record));
        }
        let same = stored_digest(&state)? == Some(digest);
        let result = match (state.pending, same) {
            (true, true) if job.publish => ItemResult::Published,
            (_, true) => return Ok(unchanged(&state)),
            (_, false) => ItemResult::Updated,
        };
        // The pending draft's version, or the next version's.
        let version = if state.pending {
            state.latest_version
        } else {
            record.current_version + 1
        };
        if job.publish {
            record.status.check_publishable()?;
        }
        let passport = draft_passport_from(draft, record.id, version, Some(record.created_at))?;
        same_product(record, &passport)?;
        self.import_change(
            &job,
            record,
            state.pending,
            passport,
            version,
            digest,
            result,
        )
        .await
    }

    /// A new passport (item not known): created with its reference (if the job has one),
    /// published with `publish`. Shared with EN 18222's `POST /v1/dpps` (no reference).
    pub(super) async fn import_create(
        &self,
        job: &ItemJob<'_>,
        draft: PassportDraft,
        digest: [u8; 32],
    ) -> Result<ItemDone, ServiceError> {
        let id = new_passport_id()?;
        let passport = draft_passport_from(draft, id, 1, None)?;
        let new = NewPassport {
            id,
            product: ProductKey::new(&passport.product, passport.granularity),
            sector_id: passport.sector.id.clone(),
            economic_operator_id: passport.economic_operator_id.clone(),
            content: to_vec(&passport)?,
            submission_sha256: Some(digest),
        };
        let import_id = job.import_id.map(|u| u.hyphenated().to_string());
        let audit = events::draft_created(
            job.who,
            &id,
            job.external_ref.map(|r| (r, import_id.as_deref())),
        )?;
        let draft = ImportDraft::Create {
            new,
            external_ref: job.external_ref.map(str::to_owned),
            audit,
        };
        self.import_write(job, None, draft, passport, 1, None, ItemResult::Created)
            .await
    }

    /// A known passport's change (`record`, with a pending draft or not): its pending draft
    /// edited (or published as it stands), or its next version started; published with
    /// `publish`. Shared with EN 18222's `PATCH /v1/dpps/{dppId}`.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn import_change(
        &self,
        job: &ItemJob<'_>,
        record: &PassportRecord,
        pending: bool,
        passport: Passport,
        version: u32,
        digest: [u8; 32],
        result: ItemResult,
    ) -> Result<ItemDone, ServiceError> {
        let id = record.id;
        let draft = match (pending, result) {
            (true, ItemResult::Published) => ImportDraft::Pending { id },
            (true, _) => ImportDraft::Update {
                id,
                content: to_vec(&passport)?,
                submission_sha256: digest,
                audit: events::draft_updated(job.who, &id, version)?,
            },
            (false, _) => ImportDraft::StartVersion {
                id,
                content: to_vec(&passport)?,
                submission_sha256: digest,
                audit: events::version_started(job.who, &id, version)?,
            },
        };
        let current = (record.current_version > 0).then_some(record.current_version);
        self.import_write(job, Some(record), draft, passport, version, current, result)
            .await
    }

    /// The item's check and its one store job. Without `publish`: the draft check (an
    /// invalid item fails, unsaved), then the draft write. With it: the publish stages
    /// (one validation, one plugin run) and the draft write + publication as one job. A
    /// dry run stops after the check.
    #[allow(clippy::too_many_arguments)]
    async fn import_write(
        &self,
        job: &ItemJob<'_>,
        known: Option<&PassportRecord>,
        draft: ImportDraft,
        passport: Passport,
        version: u32,
        current: Option<u32>,
        result: ItemResult,
    ) -> Result<ItemDone, ServiceError> {
        let app = self.app;
        let id = passport.id;
        let state = known;
        let known = known.map(|r| r.id);
        if job.dry_run {
            let validation = self
                .check(job.who, state, &passport, During::DryRun)
                .await?;
            if !validation.valid() {
                return Err(refusal(validation));
            }
            let pending = !job.publish;
            return Ok(ItemDone {
                result,
                id: known,
                draft_version: pending.then_some(version),
                version: if job.publish { Some(version) } else { current },
                log_index: None,
                warnings: validation.warnings,
            });
        }
        if !job.publish {
            let validation = self.check(job.who, state, &passport, During::Draft).await?;
            if !validation.valid() {
                return Err(refusal(validation));
            }
            let written = app
                .store
                .import(ImportWrite {
                    draft,
                    publish: None,
                })
                .await;
            app.passport_changed(&id);
            let written = written?;
            return Ok(ItemDone {
                result,
                id: Some(written.id),
                draft_version: written.draft.map(|d| d.version),
                version: current,
                log_index: None,
                warnings: validation.warnings,
            });
        }
        let published = self
            .import_publish(job, state, draft, passport, version, result)
            .await;
        self.count_publish(&published);
        published
    }

    /// [`import_write`](Self::import_write)'s publishing branch: the publish stages and the
    /// draft write + publication as one store job.
    async fn import_publish(
        &self,
        job: &ItemJob<'_>,
        state: Option<&PassportRecord>,
        draft: ImportDraft,
        passport: Passport,
        version: u32,
        result: ItemResult,
    ) -> Result<ItemDone, ServiceError> {
        let app = self.app;
        let id = passport.id;
        let first_published = state.and_then(|r| r.published_at);
        let checked = self
            .check_publication(
                job.who,
                &id,
                passport,
                version,
                first_published,
                state.and_then(legacy_operator),
            )
            .await?;
        let kept = match state {
            Some(_) => app.store.status_index(&id).await?,
            None => None,
        };
        let store = &app.store;
        let written: Result<ImportWritten, ServiceError> = self
            .sign_and_store(job.who, &id, &checked, kept, |v, event| {
                store.import(ImportWrite {
                    draft: draft.clone(),
                    publish: Some((v, event)),
                })
            })
            .await;
        app.passport_changed(&id);
        let written = written?;
        let (v, seq) = written.published.ok_or_else(|| {
            ServiceError::internal("import", "an import job to publish published nothing")
        })?;
        Ok(ItemDone {
            result,
            id: Some(written.id),
            draft_version: None,
            version: Some(v.version),
            log_index: Some(seq.saturating_sub(1)),
            warnings: checked.warnings,
        })
    }

    /// Records the end of an import as one private `import.completed` event: the file's
    /// name, size and SHA-256 and the rows the client read, with this node's counts of the
    /// import's batches — or, when it has none (it restarted, or another node answered),
    /// the client's, and the event says whose.
    pub async fn finish_import(
        &self,
        who: &Principal,
        import_id: Uuid,
        done: ImportDone,
    ) -> Result<ImportFinished, ServiceError> {
        let name = &done.file_name;
        let chars = name.chars().count();
        if chars == 0
            || chars > 256
            || name
                .chars()
                .any(|c| c.is_control() || c == '/' || c == '\\')
        {
            return Err(ServiceError::Unprocessable(
                "`fileName` is the input's name without its directory: 1 to 256 characters, \
                 no control characters, no `/` or `\\`"
                    .into(),
            ));
        }
        if done.sha256.len() != 64
            || !done
                .sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(ServiceError::Unprocessable(
                "`sha256` is the input's SHA-256 as 64 lowercase hex digits".into(),
            ));
        }
        let counted = self.app.imports.take(&import_id);
        let (counts, counted_by) = match counted {
            Some(c) => (c, "node"),
            None => (done.counts.unwrap_or_default(), "client"),
        };
        let detail = ImportCompleted {
            import_id: import_id.hyphenated().to_string(),
            file_name: done.file_name,
            bytes: done.bytes,
            sha256: done.sha256,
            rows: done.rows,
            counts,
            counted_by: counted_by.to_owned(),
            interrupted: done.interrupted,
        };
        let event = events::import_completed(who, &detail)?;
        let record = self.app.store.append_audit(event).await?;
        Ok(ImportFinished {
            detail,
            seq: record.seq,
        })
    }

    /// The passport an economic operator's external reference names, if any.
    pub async fn passport_by_external_ref(
        &self,
        economic_operator_id: &str,
        external_ref: &str,
    ) -> Result<Option<hallmark_store::PassportRecord>, ServiceError> {
        let refs = [external_ref.to_owned()];
        let found = self
            .app
            .store
            .external_refs(economic_operator_id, &refs)
            .await?;
        Ok(found.into_iter().next().map(|s| s.passport))
    }
}

/// What an item's job needs from its batch (or from an EN 18222 write: no reference, no
/// import, never a dry run).
pub(super) struct ItemJob<'a> {
    pub(super) who: &'a Principal,
    pub(super) external_ref: Option<&'a str>,
    pub(super) import_id: Option<Uuid>,
    pub(super) publish: bool,
    pub(super) dry_run: bool,
}

/// An item whose content is the latest already.
fn unchanged(state: &ExternalRefState) -> ItemDone {
    let record = &state.passport;
    ItemDone {
        result: ItemResult::Unchanged,
        id: Some(record.id),
        draft_version: state.pending.then_some(state.latest_version),
        version: (record.current_version > 0).then_some(record.current_version),
        warnings: Vec::new(),
        log_index: None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn external_refs_are_checked() {
        for ok in [
            "ERP-1",
            "a",
            &"x".repeat(256),
            "ref with inner space",
            "Zürich-7",
        ] {
            assert!(check_external_ref(ok).is_ok(), "{ok:?}");
        }
        for bad in ["", " a", "a ", "a\tb", "a\nb", &"x".repeat(257)] {
            assert!(check_external_ref(bad).is_err(), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn bounded_keeps_order_and_limit() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let futures: Vec<Pin<Box<dyn Future<Output = usize> + Send + '_>>> = (0..20usize)
            .map(|n| {
                let (running, most) = (&running, &most);
                Box::pin(async move {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    for _ in 0..(20 - n) {
                        tokio::task::yield_now().await;
                    }
                    running.fetch_sub(1, Ordering::SeqCst);
                    n
                }) as Pin<Box<dyn Future<Output = usize> + Send + '_>>
            })
            .collect();
        let out = bounded(futures, 3).await;
        assert_eq!(out, (0..20).collect::<Vec<_>>());
        assert_eq!(most.load(Ordering::SeqCst), 3);
    }
}

//! EU DPP registry submissions (docs/registry.md): the export of the passport versions not
//! yet registered, as files of at most 100 entries ([`Service::registry_export`]), and the
//! recording of the registry's answers ([`Service::record_registrations`]), each checked
//! before any is recorded. The node has no network client to the registry yet; the port one
//! would implement is [`RegistryClient`], and [`FileRegistry`] is its offline form.

use super::{actor, now, Service, ServiceError};
use hallmark_core::passport::party::PartyField;
use hallmark_core::passport::{Granularity, Gtin, Passport, PassportId, ProductIdentifier};
use hallmark_core::registry::{
    self, Entry, ExportFile, NodeRef, PartyRef, PreviousRegistration, ProductRef, Proof,
    RecordFile, SectorRef, DPP_MEDIA_TYPE, MAX_ENTRIES, SCHEMA_VERSION,
};
use hallmark_store::{
    NewRegistration, PendingRegistration, ProductKey, Recorded, RegistrationRecord, StoreError,
};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::PathBuf;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

/// Why the registry's answers, or an export, are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryRefusal {
    /// The registry's hash is not the SHA-256 of the version's public credential.
    #[error("{0}")]
    HashMismatch(String),
    /// The version is recorded with another registration, or the registration id names
    /// another version.
    #[error("{0}")]
    Conflict(String),
    /// The answers file does not match its schema, or an answer's value is malformed.
    #[error("{0}")]
    InvalidFile(String),
    /// No back-up link template: an export would have no `backupLink`.
    #[error(
        "no back-up link is configured: set HALLMARK_BACKUP_LINK_TEMPLATE (docs/configuration.md) \
         before exporting to the EU registry"
    )]
    NoBackupLink,
}

/// Which page of the export to make.
#[derive(Debug, Clone, Default)]
pub struct ExportQuery {
    /// The export run (a new one when absent).
    pub export_id: Option<Uuid>,
    /// The file's number in the run (1 when absent).
    pub part: Option<u32>,
    /// After this passport (the previous page's `next`).
    pub after: Option<PassportId>,
    /// Pending passports examined, 1 to 100 (default 100).
    pub limit: Option<u32>,
}

/// A pending passport that cannot be registered as it is, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The passport.
    pub passport: PassportId,
    /// Its current version.
    pub version: u32,
    /// Every reason.
    pub reasons: Vec<String>,
}

/// One page of the export.
#[derive(Debug, Clone)]
pub struct ExportPage {
    /// The export run.
    pub export_id: Uuid,
    /// The file of this page's exportable versions; `None` when none.
    pub file: Option<ExportFile>,
    /// The pending passports of this page that cannot be registered yet.
    pub skipped: Vec<Skipped>,
    /// The cursor of the next page, if any.
    pub next: Option<PassportId>,
}

/// What recording one answer did.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordOutcome {
    /// `true` when written now; `false` when the same registration was already recorded.
    pub created: bool,
    /// The registration as stored.
    pub registration: RegistrationRecord,
}

impl Service<'_> {
    /// One page of the export: the pending passports after `q.after` (at most `q.limit`
    /// examined), each as an entry of the page's file or, if it cannot be registered as it
    /// is, in `skipped`. The file is checked against the export schema before it is
    /// answered. A read: nothing changes, nothing is audited.
    pub async fn registry_export(&self, q: ExportQuery) -> Result<ExportPage, ServiceError> {
        let backup = self
            .app
            .backup_link
            .get()
            .ok_or(ServiceError::Registry(RegistryRefusal::NoBackupLink))?;
        let limit = q
            .limit
            .unwrap_or(MAX_ENTRIES as u32)
            .clamp(1, MAX_ENTRIES as u32);
        let export_id = match q.export_id {
            Some(id) => id,
            None => new_export_id()?,
        };
        let page = self
            .app
            .store
            .registry_pending(q.after.as_ref(), limit)
            .await?;
        let mut entries = Vec::with_capacity(page.items.len());
        let mut skipped = Vec::new();
        for pending in &page.items {
            match self.entry_of(pending, backup).await? {
                Ok(entry) => entries.push(entry),
                Err(reasons) => skipped.push(Skipped {
                    passport: pending.passport.id,
                    version: pending.version.version,
                    reasons,
                }),
            }
        }
        let file = if entries.is_empty() {
            None
        } else {
            let file = ExportFile {
                schema_version: SCHEMA_VERSION.to_owned(),
                export_id,
                part: q.part.unwrap_or(1).max(1),
                generated_at: now()
                    .format(&Rfc3339)
                    .map_err(|e| ServiceError::internal("formatting a time", e))?,
                node: NodeRef {
                    did: self.app.issuer.did.to_string(),
                    public_base_url: self.app.issuer.base_url.clone(),
                },
                entries,
            };
            file.check().map_err(|e| {
                ServiceError::internal("an export file does not match its schema", e)
            })?;
            Some(file)
        };
        Ok(ExportPage {
            export_id,
            file,
            skipped,
            next: page.next,
        })
    }

    /// The entry of one pending passport, or every reason it cannot be registered yet.
    async fn entry_of(
        &self,
        pending: &PendingRegistration,
        backup: &crate::config::BackupLinkTemplate,
    ) -> Result<Result<Entry, Vec<String>>, ServiceError> {
        let version = &pending.version;
        let passport = Passport::from_json_slice(&version.content)
            .map_err(|e| ServiceError::internal("a stored version does not parse", e))?;
        let mut reasons = Vec::new();
        let mut party = |s: &str, field| match PartyRef::of(s, field) {
            Ok(p) => Some(p),
            Err(reason) => {
                reasons.push(reason);
                None
            }
        };
        let operator = party(&passport.economic_operator_id, PartyField::Operator);
        let facility = passport
            .facility_id
            .as_deref()
            .and_then(|f| party(f, PartyField::Facility));
        let commodity = passport.commodity_code.clone();
        if commodity.is_none() {
            reasons
                .push("no `commodityCode` (HS, CN or TARIC code): add one in a new version".into());
        }
        let (Some(operator), Some(commodity), true) = (operator, commodity, reasons.is_empty())
        else {
            return Ok(Err(reasons));
        };
        let base = &self.app.issuer.base_url;
        let product = &passport.product;
        let unique = ProductRef::of(product, base, None)
            .map_err(|e| ServiceError::internal("a stored identifier has no Digital Link", e))?;
        let gtin = *product.gtin();
        let model_identifier = match passport.granularity {
            Granularity::Model => None,
            _ => Some(self.level(&gtin, None, Granularity::Model).await?),
        };
        let batch_identifier = match (passport.granularity, product.lot()) {
            (Granularity::Item, Some(lot)) => {
                Some(self.level(&gtin, Some(lot), Granularity::Batch).await?)
            }
            _ => None,
        };
        let id = passport.id;
        let uuid = id.uuid();
        let n = version.version;
        Ok(Ok(Entry {
            passport_id: id.to_string(),
            sector: SectorRef {
                id: passport.sector.id.clone(),
                schema_version: passport.sector.schema_version.clone(),
            },
            unique_product_identifier: unique,
            granularity: passport.granularity,
            model_identifier,
            batch_identifier,
            unique_operator_identifier: operator,
            unique_facility_identifier: facility,
            commodity_code: commodity,
            backup_link: backup.render(&id, n),
            dpp_url: format!("{base}/passports/{uuid}"),
            dpp_api_endpoint: format!("{base}/v1/dpps/{uuid}"),
            dpp_version: n,
            dpp_version_url: format!("{base}/passports/{uuid}/versions/{n}"),
            dpp_media_type: DPP_MEDIA_TYPE.to_owned(),
            dpp_sha256: hex::encode(Sha256::digest(&version.credentials.public.data_integrity)),
            published_at: version
                .signed_at
                .format(&Rfc3339)
                .map_err(|e| ServiceError::internal("formatting a time", e))?,
            previous_registration: pending.previous.as_ref().map(|p| PreviousRegistration {
                version: p.version,
                registration_id: p.registration_id.clone(),
            }),
        }))
    }

    /// The model or batch level of `gtin` as registered, with its live passport if any.
    async fn level(
        &self,
        gtin: &Gtin,
        lot: Option<&str>,
        granularity: Granularity,
    ) -> Result<ProductRef, ServiceError> {
        let product = ProductIdentifier::new(*gtin, lot.map(str::to_owned), None)?;
        let key = ProductKey {
            gtin: gtin.as_gtin14().to_owned(),
            granularity,
            lot: lot.map(str::to_owned),
            serial: None,
        };
        let live = self.app.store.find_live(&key).await?;
        ProductRef::of(
            &product,
            &self.app.issuer.base_url,
            live.as_ref().map(|r| &r.id),
        )
        .map_err(|e| ServiceError::internal("an identifier has no Digital Link", e))
    }

    /// Records the registry's answers. Every answer is checked first — its values, that the
    /// version exists, that its hash is the SHA-256 of the version's public credential, and
    /// that it agrees with what is already recorded — and if any fails, nothing is recorded.
    /// Then each new answer is written with its `registry.recorded` audit event (one
    /// transaction per answer); an answer identical to the recorded one is left unchanged.
    pub async fn record_registrations(
        &self,
        who: &crate::auth::Principal,
        file: &RecordFile,
    ) -> Result<Vec<RecordOutcome>, ServiceError> {
        let mut checked: Vec<(NewRegistration, Option<RegistrationRecord>)> = Vec::new();
        let mut ids: HashMap<&str, (PassportId, u32)> = HashMap::new();
        for (i, answer) in file.registrations.iter().enumerate() {
            let at = |e: &dyn std::fmt::Display| {
                ServiceError::Registry(RegistryRefusal::InvalidFile(format!(
                    "registrations[{i}]: {e}"
                )))
            };
            let id = PassportId::parse(answer.passport_id.trim())
                .or_else(|_| PassportId::parse(&format!("urn:uuid:{}", answer.passport_id.trim())))
                .map_err(|e| at(&e))?;
            registry::check_registration_id(&answer.registration_id).map_err(|e| at(&e))?;
            let hash = registry::parse_hash(&answer.hash).map_err(|e| at(&e))?;
            let proof = Proof::of(&answer.proof_of_registration).map_err(|e| at(&e))?;
            let n = answer.dpp_version;
            if let Some((other, v)) = ids.insert(&answer.registration_id, (id, n)) {
                if (other, v) != (id, n) {
                    return Err(ServiceError::Registry(RegistryRefusal::Conflict(format!(
                        "registrations[{i}]: the registration id {:?} is given for version {v} of \
                         passport {other} and for version {n} of passport {id}; nothing was recorded",
                        answer.registration_id
                    ))));
                }
            }
            let version = match self.app.store.get_version(&id, Some(n)).await {
                Ok(v) => v,
                Err(StoreError::NotFound(_)) => {
                    return Err(ServiceError::Registry(RegistryRefusal::InvalidFile(
                        format!(
                        "registrations[{i}]: passport {id} has no published version {n}; nothing \
                         was recorded"
                    ),
                    )))
                }
                Err(e) => return Err(e.into()),
            };
            let served: [u8; 32] =
                Sha256::digest(&version.credentials.public.data_integrity).into();
            if served != hash {
                return Err(ServiceError::Registry(RegistryRefusal::HashMismatch(
                    format!(
                    "the registry's hash {} is not the SHA-256 of version {n} of passport {id} \
                     ({}, its public credential); nothing was recorded",
                    hex::encode(hash),
                    hex::encode(served)
                ),
                )));
            }
            let mut new = NewRegistration {
                passport: id,
                version: n,
                registration_id: answer.registration_id.clone(),
                proof: proof.bytes,
                proof_media_type: proof.media_type,
                dpp_sha256: hash,
                event: hallmark_store::AuditEvent::of(
                    now(),
                    &actor(who),
                    hallmark_core::tlog::event::Action::RegistryRecorded,
                ),
            };
            new.event = new
                .event(now(), &actor(who))
                .map_err(|e| ServiceError::internal("building registry.recorded", e))?;
            let existing = self.app.store.registration(&id, n).await?;
            if let Some(stored) = &existing {
                if !new.same_as(stored) {
                    return Err(ServiceError::Registry(RegistryRefusal::Conflict(format!(
                        "registrations[{i}]: version {n} of passport {id} is already recorded as \
                         registration {:?} with another proof or hash; a recorded registration \
                         never changes; nothing was recorded",
                        stored.registration_id
                    ))));
                }
            }
            checked.push((new, existing));
        }
        let mut out = Vec::with_capacity(checked.len());
        for (new, existing) in checked {
            if let Some(stored) = existing {
                out.push(RecordOutcome {
                    created: false,
                    registration: stored,
                });
                continue;
            }
            let (id, n) = (new.passport, new.version);
            let recorded = match self.app.store.record_registration(new).await {
                Ok(r) => r,
                Err(StoreError::Conflict(d)) => {
                    return Err(ServiceError::Registry(RegistryRefusal::Conflict(d)))
                }
                Err(e @ StoreError::RegistryHashMismatch { .. }) => {
                    return Err(ServiceError::Registry(RegistryRefusal::HashMismatch(
                        e.to_string(),
                    )))
                }
                Err(e) => return Err(e.into()),
            };
            let created = matches!(recorded, Recorded::Created(_));
            let registration = recorded.record().clone();
            if created {
                tracing::info!(
                    target: "hallmark::audit",
                    passport = %id,
                    version = n,
                    registration_id = %registration.registration_id,
                    seq = registration.seq,
                    "registry.recorded"
                );
                self.app.passport_states.invalidate(&id);
            }
            out.push(RecordOutcome {
                created,
                registration,
            });
        }
        Ok(out)
    }

    /// Every recorded registration of a published passport, oldest version first.
    pub async fn registrations(
        &self,
        id: PassportId,
    ) -> Result<Vec<RegistrationRecord>, ServiceError> {
        let record = self.app.store.get_passport(&id).await?;
        if record.current_version == 0 {
            return Err(ServiceError::NotFound);
        }
        Ok(self.app.store.registrations_of(&id).await?)
    }
}

/// A fresh export run id: a random (version 4) UUID.
fn new_export_id() -> Result<Uuid, ServiceError> {
    use rand_core::RngCore;
    let mut bytes = [0u8; 16];
    rand_core::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| ServiceError::internal("no randomness for an export id", e))?;
    Ok(uuid::Builder::from_random_bytes(bytes).into_uuid())
}

/// The port of a client to the EU DPP registry, for when its upload API is documented: hand
/// it an export file, later collect its answers, then record them with
/// [`Service::record_registrations`]. No implementation talks to the network yet.
pub trait RegistryClient: Send + Sync {
    /// Hands one export file (at most 100 entries) to the registry; answers a handle to ask
    /// for its answers.
    fn submit(&self, file: &ExportFile) -> Result<String, RegistryClientError>;
    /// The answers available so far for a submission (perhaps none yet, perhaps partial).
    fn answers(&self, submission: &str) -> Result<Option<RecordFile>, RegistryClientError>;
}

/// Why a registry client failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryClientError {
    /// Reading or writing a file.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        error: std::io::Error,
    },
    /// An answers file that is not a record file.
    #[error(transparent)]
    Answers(#[from] registry::RegistryError),
    /// An export file that cannot be written.
    #[error("{0}")]
    Encode(String),
}

/// The offline registry client: files out to `outbox/` (what the operator uploads), answers
/// in from `inbox/<submission>.json` (what the operator saved from the registry).
#[derive(Debug, Clone)]
pub struct FileRegistry {
    /// Where export files are written.
    pub outbox: PathBuf,
    /// Where answers files are read.
    pub inbox: PathBuf,
}

impl RegistryClient for FileRegistry {
    fn submit(&self, file: &ExportFile) -> Result<String, RegistryClientError> {
        let name = format!("registry-{}-{:03}", file.export_id, file.part);
        let path = self.outbox.join(format!("{name}.json"));
        let text = serde_json::to_vec_pretty(file)
            .map_err(|e| RegistryClientError::Encode(e.to_string()))?;
        std::fs::write(&path, text).map_err(|error| RegistryClientError::Io { path, error })?;
        Ok(name)
    }

    fn answers(&self, submission: &str) -> Result<Option<RecordFile>, RegistryClientError> {
        let path = self.inbox.join(format!("{submission}.json"));
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(RecordFile::parse(&bytes)?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(RegistryClientError::Io { path, error }),
        }
    }
}

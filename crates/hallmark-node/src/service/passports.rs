//! Drafts and reads: create a passport (its first draft), edit the pending draft, start a
//! new version, the dry run; one passport, a page of them, a passport's history. A draft is
//! checked like a publish — envelope, sector JSON Schema, then the sector plugin — and the
//! [`Validation`] says whether it is publishable; an invalid draft is still saved.
//!
//! A submission is taken as the JSON a client sent and parsed by core's [`PassportDraft`]
//! where the operation needs it, so that an unknown passport is reported before a malformed
//! submission.

use super::{events, now, Service, ServiceError};
use crate::auth::Principal;
use crate::plugins::{one_line, PluginRef, Verdict};
use hallmark_core::issue::{self, IssueError};
use hallmark_core::passport::{Passport, PassportDraft, PassportId, PassportStatus};
use hallmark_core::sector::ValidationIssue;
use hallmark_sandbox::{Finding, Severity};
use hallmark_store::{
    AuditRecord, DraftRecord, NewPassport, Page, PassportFilter, PassportRecord, ProductKey,
    VersionRecord, MAX_PAGE,
};
use serde_json::Value;
use time::OffsetDateTime;

/// What checking a passport found: `valid()` means publishable — the envelope and the
/// sector's JSON Schema hold and the sector plugin, if one serves the sector version, found
/// no error.
#[derive(Debug, Clone, PartialEq)]
pub struct Validation {
    /// Envelope and JSON Schema issues (pointers into the passport).
    pub issues: Vec<ValidationIssue>,
    /// Findings that do not block publication (pointers into the passport), e.g. an
    /// identifier that is not ISO/IEC 15459 in the generic sector; [`Validation::valid`]
    /// ignores them.
    pub warnings: Vec<ValidationIssue>,
    /// The plugin's verdict; `None` when no plugin serves the sector version or when the
    /// JSON Schema did not hold (the plugin does not run then).
    pub plugin: Option<PluginCheck>,
}

/// A sector plugin's verdict on a draft.
#[derive(Debug, Clone, PartialEq)]
pub enum PluginCheck {
    /// It ran; an `error` finding makes the draft not publishable.
    Checked {
        /// Which plugin.
        plugin: PluginRef,
        /// Its findings, pointers into the passport.
        findings: Vec<Finding>,
    },
    /// It gave no verdict (recorded as `plugin.failed`); the draft is not publishable now.
    Failed {
        /// The plugin, when one ran.
        plugin: Option<PluginRef>,
        /// Failure mode slug.
        reason: &'static str,
        /// One line: what happened.
        detail: String,
    },
}

impl Validation {
    /// Publishable as it stands.
    pub fn valid(&self) -> bool {
        self.issues.is_empty()
            && match &self.plugin {
                None => true,
                Some(PluginCheck::Checked { findings, .. }) => {
                    !findings.iter().any(|f| f.severity == Severity::Error)
                }
                Some(PluginCheck::Failed { .. }) => false,
            }
    }
}

/// A new passport: its record, its first draft's version (1) and that draft's validation.
#[derive(Debug, Clone)]
pub struct DraftCreated {
    /// The record.
    pub record: PassportRecord,
    /// The pending draft's version.
    pub draft_version: u32,
    /// Whether the draft is publishable as it stands.
    pub validation: Validation,
}

/// A saved draft: its passport, version and validation.
#[derive(Debug, Clone)]
pub struct DraftSaved {
    /// The passport.
    pub id: PassportId,
    /// The pending draft's version.
    pub draft_version: u32,
    /// Whether the draft is publishable as it stands.
    pub validation: Validation,
}

/// A passport: its record, its pending draft and its current published version.
#[derive(Debug, Clone)]
pub struct PassportView {
    /// The record.
    pub record: PassportRecord,
    /// The pending draft, if there is one.
    pub draft: Option<DraftRecord>,
    /// The current published version, once there is one.
    pub current: Option<VersionRecord>,
}

/// Which passports to list: filters, the cursor (`after`) and the page size (default 50,
/// clamped to 1..=`MAX_PAGE`).
#[derive(Debug, Clone, Default)]
pub struct PassportQuery {
    /// Only this status.
    pub status: Option<PassportStatus>,
    /// Only this sector id.
    pub sector: Option<String>,
    /// Only this GTIN-14.
    pub gtin: Option<String>,
    /// After this passport (the previous page's `next`).
    pub after: Option<PassportId>,
    /// Page size.
    pub limit: Option<u32>,
}

/// When a plugin runs (the `during` of its `plugin.failed` event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum During {
    /// A draft write (create, edit, new version): a failed plugin is reported, the draft
    /// saved.
    Draft,
    /// The dry run: a failed plugin is an error, as in a publish.
    DryRun,
    /// A publish.
    Publish,
}

impl During {
    fn as_str(self) -> &'static str {
        match self {
            During::Draft => "draft",
            During::DryRun => "dry-run",
            During::Publish => "publish",
        }
    }
}

pub(crate) fn new_passport_id() -> Result<PassportId, ServiceError> {
    use rand_core::RngCore;
    let mut random = [0u8; 10];
    rand_core::OsRng
        .try_fill_bytes(&mut random)
        .map_err(|e| ServiceError::internal("no randomness for a passport id", e))?;
    let millis = u64::try_from(now().unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
    PassportId::from_parts(millis, random)
        .map_err(|e| ServiceError::internal("could not make a passport id", e))
}

/// A draft passport (status draft, `version`) from a submission, parsed by core's
/// [`PassportDraft`] (typed errors naming the field).
pub(crate) fn draft_passport(
    submission: &Value,
    id: PassportId,
    version: u32,
    created_at: Option<OffsetDateTime>,
) -> Result<Passport, ServiceError> {
    let input = PassportDraft::from_json_value(submission)?;
    draft_passport_from(input, id, version, created_at)
}

/// [`draft_passport`] from a submission already read.
pub(crate) fn draft_passport_from(
    input: PassportDraft,
    id: PassportId,
    version: u32,
    created_at: Option<OffsetDateTime>,
) -> Result<Passport, ServiceError> {
    let now = now();
    let mut p = Passport::new_draft(input, id, created_at.unwrap_or(now))?;
    p.version = version;
    p.updated_at = now.max(p.created_at);
    p.validate()?;
    Ok(p)
}

/// A passport's product identifier and granularity are fixed for life (they are what makes
/// it the one live passport of its product): a draft of a later version, or an edit, that
/// names another is refused. A passport stored before identifiers had columns is checked
/// on its GTIN only.
pub(crate) fn same_product(
    record: &PassportRecord,
    passport: &Passport,
) -> Result<(), ServiceError> {
    let same = match &record.product {
        Some(key) => key.matches(&passport.product, passport.granularity),
        None => record.gtin == passport.product.gtin().as_gtin14(),
    };
    if same {
        return Ok(());
    }
    let fixed = record
        .product
        .as_ref()
        .map_or_else(|| format!("(01){}", record.gtin), ToString::to_string);
    Err(ServiceError::Conflict(format!(
        "a passport's product identifier never changes: this passport is for {fixed}; \
         create a new passport for another product"
    )))
}

/// The SHA-256 of the RFC 8785 form of a draft passport's submitted fields (core's
/// `PassportDraft::digest`), stored with its draft by every door: what a re-run import
/// compares to decide "unchanged".
pub(crate) fn submission_digest(passport: &Passport) -> Result<[u8; 32], ServiceError> {
    passport
        .draft()
        .digest()
        .map(|d| d.0)
        .map_err(|e| ServiceError::internal("submission digest", e))
}

/// The operator that the identifier rules' legacy exception applies to
/// ([`issue::validate_with`]): the record's (immutable) operator, once the passport has a
/// published version — a passport first published before the rules keeps its operator, while
/// a new passport is always held to them (a draft saved with an EORI operator gains nothing).
pub(crate) fn legacy_operator(record: &PassportRecord) -> Option<&str> {
    (record.current_version > 0).then_some(record.economic_operator_id.as_str())
}

/// The passport as stored (JSON bytes).
pub(crate) fn to_vec(passport: &Passport) -> Result<Vec<u8>, ServiceError> {
    serde_json::to_vec(passport)
        .map_err(|e| ServiceError::internal("passport did not serialise", e))
}

impl Service<'_> {
    /// Creates a passport from a submission: its record and draft version 1 (saved even if
    /// not publishable; the validation says).
    pub async fn create_draft(
        &self,
        who: &Principal,
        submission: &Value,
    ) -> Result<DraftCreated, ServiceError> {
        let id = new_passport_id()?;
        let passport = draft_passport(submission, id, 1, None)?;
        let validation = self.check(who, None, &passport, During::Draft).await?;
        let record = self
            .app
            .store
            .create_draft(
                NewPassport {
                    id,
                    product: ProductKey::new(&passport.product, passport.granularity),
                    sector_id: passport.sector.id.clone(),
                    economic_operator_id: passport.economic_operator_id.clone(),
                    content: to_vec(&passport)?,
                    submission_sha256: Some(submission_digest(&passport)?),
                },
                events::draft_created(who, &id, None)?,
            )
            .await?;
        Ok(DraftCreated {
            record,
            draft_version: 1,
            validation,
        })
    }

    /// Replaces the pending draft of passport `id`.
    pub async fn update_draft(
        &self,
        who: &Principal,
        id: PassportId,
        submission: &Value,
    ) -> Result<DraftSaved, ServiceError> {
        let store = &self.app.store;
        let (record, pending) = store.get_pending(&id).await?;
        let pending = pending.ok_or_else(|| {
            ServiceError::Conflict(
                "this passport has no pending draft; start a new version first".into(),
            )
        })?;
        let passport = draft_passport(submission, id, pending.version, Some(record.created_at))?;
        same_product(&record, &passport)?;
        let validation = self
            .check(who, Some(&record), &passport, During::Draft)
            .await?;
        let event = events::draft_updated(who, &id, pending.version)?;
        let digest = Some(submission_digest(&passport)?);
        let saved = store
            .update_draft(&id, to_vec(&passport)?, digest, event)
            .await?;
        Ok(DraftSaved {
            id,
            draft_version: saved.version,
            validation,
        })
    }

    /// Starts the next version of passport `id` as a draft.
    pub async fn start_version(
        &self,
        who: &Principal,
        id: PassportId,
        submission: &Value,
    ) -> Result<DraftSaved, ServiceError> {
        let store = &self.app.store;
        let record = store.get_passport(&id).await?;
        let version = record.current_version + 1;
        let passport = draft_passport(submission, id, version, Some(record.created_at))?;
        same_product(&record, &passport)?;
        let validation = self
            .check(who, Some(&record), &passport, During::Draft)
            .await?;
        let event = events::version_started(who, &id, version)?;
        let digest = Some(submission_digest(&passport)?);
        let saved = store
            .start_version(&id, to_vec(&passport)?, digest, event)
            .await?;
        Ok(DraftSaved {
            id,
            draft_version: saved.version,
            validation,
        })
    }

    /// The dry run: checks a submission as a publish would, writing nothing but a
    /// `plugin.failed` event if the plugin gives no verdict (then
    /// [`ServiceError::PluginFailed`], as a publish would answer).
    pub async fn validate(
        &self,
        who: &Principal,
        submission: &Value,
    ) -> Result<Validation, ServiceError> {
        let id = new_passport_id()?;
        match draft_passport(submission, id, 1, None) {
            Ok(passport) => self.check(who, None, &passport, During::DryRun).await,
            Err(ServiceError::Invalid(issues)) => Ok(Validation {
                issues,
                warnings: Vec::new(),
                plugin: None,
            }),
            Err(e) => Err(e),
        }
    }

    /// Passport `id`: record, pending draft, current version.
    pub async fn passport(&self, id: PassportId) -> Result<PassportView, ServiceError> {
        let store = &self.app.store;
        let (record, draft) = store.get_pending(&id).await?;
        let current = match record.current_version {
            0 => None,
            _ => Some(store.get_version(&id, None).await?),
        };
        Ok(PassportView {
            record,
            draft,
            current,
        })
    }

    /// One page of passport records.
    pub async fn passports(&self, q: PassportQuery) -> Result<Page<PassportRecord>, ServiceError> {
        let limit = q.limit.unwrap_or(50).clamp(1, MAX_PAGE);
        let filter = PassportFilter {
            status: q.status,
            sector_id: q.sector,
            gtin: q.gtin,
        };
        Ok(self
            .app
            .store
            .list_passports(&filter, q.after.as_ref(), limit)
            .await?)
    }

    /// Passport `id`'s audit events, oldest first.
    pub async fn history(&self, id: PassportId) -> Result<Vec<AuditRecord>, ServiceError> {
        self.app.store.get_passport(&id).await?;
        Ok(self.app.store.history(&id).await?)
    }

    /// A draft's check: the JSON Schema issues and, when the schema holds, the sector
    /// plugin's verdict. A plugin without a verdict is recorded (`plugin.failed`); the dry
    /// run then fails as publishing would, while a draft write reports it.
    ///
    /// `record` is the passport's record when it exists: its (immutable) operator decides
    /// the identifier rules' legacy exception ([`issue::validate_with`]).
    pub(crate) async fn check(
        &self,
        who: &Principal,
        record: Option<&PassportRecord>,
        passport: &Passport,
        during: During,
    ) -> Result<Validation, ServiceError> {
        let id = record.map(|r| &r.id);
        let legacy = record.and_then(legacy_operator);
        let (issues, warnings) = match issue::validate_with(passport, self.app.registry, legacy) {
            Ok((_, warnings)) => (Vec::new(), warnings),
            Err(IssueError::Invalid(issues)) => (issues, Vec::new()),
            Err(e) => return Err(e.into()),
        };
        if !issues.is_empty() {
            return Ok(Validation {
                issues,
                warnings,
                plugin: None,
            });
        }
        let plugin = match self.plugin_gate(who, id, passport, during).await {
            Ok(Verdict::Ungated) => None,
            Ok(Verdict::Checked { plugin, findings })
            | Err(ServiceError::PluginRejected { plugin, findings }) => {
                Some(PluginCheck::Checked { plugin, findings })
            }
            Err(ServiceError::PluginFailed {
                plugin,
                reason,
                detail,
            }) if during != During::DryRun => Some(PluginCheck::Failed {
                plugin,
                reason,
                detail,
            }),
            Err(e) => return Err(e),
        };
        Ok(Validation {
            issues,
            warnings,
            plugin,
        })
    }

    /// Runs the sector plugin over the passport's sector data (after its schema held). A
    /// plugin that gives no verdict is recorded as a `plugin.failed` audit event and is
    /// [`ServiceError::PluginFailed`]; findings of severity `error` are
    /// [`ServiceError::PluginRejected`]. Otherwise the verdict (possibly with warnings).
    pub(crate) async fn plugin_gate(
        &self,
        who: &Principal,
        id: Option<&PassportId>,
        passport: &Passport,
        during: During,
    ) -> Result<Verdict, ServiceError> {
        use crate::metrics::PluginVerdict as Counted;
        let metrics = &self.app.metrics;
        match self
            .app
            .plugins
            .check(&passport.sector, &passport.data)
            .await
        {
            Ok(Verdict::Checked { plugin, findings })
                if findings.iter().any(|f| f.severity == Severity::Error) =>
            {
                metrics.plugin_verdict(&plugin.name, Counted::Rejected);
                Err(ServiceError::PluginRejected { plugin, findings })
            }
            Ok(verdict) => {
                match &verdict {
                    Verdict::Checked { plugin, .. } => {
                        metrics.plugin_verdict(&plugin.name, Counted::Accepted)
                    }
                    Verdict::Ungated => metrics.plugin_verdict("none", Counted::Ungated),
                }
                Ok(verdict)
            }
            Err(e) => {
                let name = e.plugin().map_or("none", |p| p.name.as_str());
                metrics.plugin_verdict(name, Counted::Failed);
                let detail = one_line(&e.to_string(), 300);
                tracing::warn!(target: "hallmark::audit", reason = e.reason(), %detail, "sector plugin gave no verdict");
                match events::plugin_failed(who, id, passport, during.as_str(), &e, &detail) {
                    Ok(event) => {
                        if let Err(err) = self.app.store.append_audit(event).await {
                            tracing::error!(target: "hallmark::audit", error = %err, "could not store the plugin.failed audit event");
                        }
                    }
                    Err(err) => {
                        tracing::error!(target: "hallmark::audit", error = %err, "could not write the plugin.failed audit event");
                    }
                }
                Err(ServiceError::PluginFailed {
                    plugin: e.plugin().cloned(),
                    reason: e.reason(),
                    detail,
                })
            }
        }
    }
}

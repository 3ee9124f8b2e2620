//! Publication: the one path from a pending draft to signed, stored credentials.
//!
//! Hop by hop: the pending draft and its record (store) → the preconditions (core:
//! [`PassportStatus::check_publishable`], one product identifier for life) →
//! [`Passport::publish`] (core: status, version, timestamps) → the one schema validation,
//! [`SectorRegistry::validate`] giving a [`ValidatedPassport`] → the sector plugin → the
//! status list position (kept, or drawn at the first publication: `super::status_lists`) →
//! the signer ([`Service::passport_signer`]) and `Issuer::issue_all` (three audiences, both
//! forms, each with the position's `credentialStatus`) → one store write with its
//! `passport.published` audit event (and a new position), committed with its log leaf.
//!
//! The stages are shared with the import (`super::import`): [`Service::check_publication`]
//! (publish, validate, plugin) and [`Service::sign_and_store`] (position, signer, issue,
//! event, the store write the caller gives), so that an imported passport is published by
//! the same code, never a second path.
//!
//! [`PassportStatus::check_publishable`]: hallmark_core::passport::PassportStatus::check_publishable
//! [`SectorRegistry::validate`]: hallmark_core::sector::SectorRegistry::validate
//! [`ValidatedPassport`]: hallmark_core::issue::ValidatedPassport

use super::passports::{legacy_operator, same_product, to_vec, During};
use super::status_lists::MAX_ATTEMPTS;
use super::{events, now, Service, ServiceError};
use crate::auth::Principal;
use crate::plugins::Verdict;
use hallmark_core::issue::ValidatedPassport;
use hallmark_core::passport::{Passport, PassportId};
use hallmark_core::sector::ValidationIssue;
use hallmark_store::{AuditEvent, NewVersion, SignedForms, StatusRef, StoreError};
use time::OffsetDateTime;

/// A published version: where it is served and its transparency-log leaf.
#[derive(Debug, Clone)]
pub struct Publication {
    /// The passport.
    pub id: PassportId,
    /// The version published.
    pub version: u32,
    /// The passport-signing key that signed it.
    pub key_id: String,
    /// The sector plugin's verdict (warnings and info only: an error refuses the publish).
    pub plugin: Verdict,
    /// Validation warnings (e.g. identifiers that are not ISO/IEC 15459); they did not
    /// refuse the publish.
    pub warnings: Vec<ValidationIssue>,
    /// Index of the publish event's leaf in the transparency log.
    pub log_index: u64,
    /// The passport's public URL (current version).
    pub url: String,
    /// This version's public URL (immutable).
    pub version_url: String,
    /// The leaf's inclusion proof.
    pub log_inclusion_url: String,
    /// The log's latest checkpoint.
    pub log_checkpoint_url: String,
}

/// A passport checked for publication as one version: the one schema validation passed
/// and the sector plugin found no error. What [`Service::sign_and_store`] signs.
pub(crate) struct Checked<'a> {
    /// The passport as the version (status `published`), validated.
    pub passport: ValidatedPassport<'a>,
    /// The plugin's verdict (warnings and info only).
    pub verdict: Verdict,
    /// The validation's warnings.
    pub warnings: Vec<ValidationIssue>,
    /// The publication's time.
    pub now: OffsetDateTime,
}

impl<'a> Service<'a> {
    /// Publishes passport `id`'s pending draft as its next version: validated once (schema,
    /// then the sector plugin), issued for every audience, stored with its audit event.
    /// Counted in the metrics as a publish or a failure by its reason.
    pub async fn publish(
        &self,
        who: &Principal,
        id: PassportId,
    ) -> Result<Publication, ServiceError> {
        let published = self.publish_pending(who, id).await;
        self.count_publish(&published);
        published
    }

    /// One publication's outcome in the metrics (`hallmark_publishes_total`,
    /// `hallmark_publish_failures_total{reason}`).
    pub(crate) fn count_publish<T>(&self, outcome: &Result<T, ServiceError>) {
        match outcome {
            Ok(_) => self.app.metrics.published(),
            Err(e) => self.app.metrics.publish_failed(e.reason()),
        }
    }

    async fn publish_pending(
        &self,
        who: &Principal,
        id: PassportId,
    ) -> Result<Publication, ServiceError> {
        let app = self.app;
        let (record, draft) = app.store.get_pending(&id).await?;
        let draft = draft.ok_or_else(|| {
            ServiceError::Conflict("nothing to publish: this passport has no pending draft".into())
        })?;
        record.status.check_publishable()?;
        let passport = Passport::from_json_slice(&draft.content)
            .map_err(|e| ServiceError::internal("stored draft does not parse", e))?;
        // The database keeps one live passport per identifier in the row's columns; the node
        // signs only a draft that names the same identifier (a draft row written past the API
        // cannot publish under another product's identifier).
        same_product(&record, &passport)?;
        let checked = self
            .check_publication(
                who,
                &id,
                passport,
                draft.version,
                record.published_at,
                legacy_operator(&record),
            )
            .await?;
        let kept = app.store.status_index(&id).await?;
        let stored = self
            .sign_and_store(who, &id, &checked, kept, |version, event| {
                app.store.publish(&id, version, event)
            })
            .await;
        app.passport_changed(&id);
        let (v, seq) = stored?;
        let mut publication = self.publication(id, v.version, v.key_id, seq, checked.verdict);
        publication.warnings = checked.warnings;
        Ok(publication)
    }

    /// The publish stages before signing, shared by [`Service::publish`] and the import:
    /// [`Passport::publish`] (status, version `version`, timestamps; `first_published` the
    /// passport's first publication, if any), the one schema validation, then the sector
    /// plugin (an error finding refuses; no verdict is recorded and refuses). `legacy_operator`
    /// is the operator of the passport's record, when it exists (the identifier rules' legacy
    /// exception, [`hallmark_core::issue::validate_with`]).
    pub(crate) async fn check_publication(
        &self,
        who: &Principal,
        id: &PassportId,
        draft: Passport,
        version: u32,
        first_published: Option<OffsetDateTime>,
        legacy_operator: Option<&str>,
    ) -> Result<Checked<'a>, ServiceError> {
        let now = now();
        let passport = draft.publish(version, first_published, now)?;
        let (passport, warnings) = self.app.registry.validate_with(passport, legacy_operator)?;
        let verdict = self
            .plugin_gate(who, Some(id), passport.passport(), During::Publish)
            .await?;
        Ok(Checked {
            passport,
            verdict,
            warnings,
            now,
        })
    }

    /// The publish stages from the status list position on, shared by [`Service::publish`]
    /// and the import: the passport's position — `kept` from an earlier publication, or
    /// drawn now (its first publication since status lists) and stored with this version
    /// —, the signer, `issue_all` with the position, the `passport.published` event, and
    /// `store`, the one store write (a publication, or an import job that ends with one). A
    /// position another passport took meanwhile is drawn again and everything re-signed.
    pub(crate) async fn sign_and_store<T, F, Fut>(
        &self,
        who: &Principal,
        id: &PassportId,
        checked: &Checked<'_>,
        kept: Option<StatusRef>,
        mut store: F,
    ) -> Result<T, ServiceError>
    where
        F: FnMut(NewVersion, AuditEvent) -> Fut,
        Fut: std::future::Future<Output = Result<T, StoreError>>,
    {
        let app = self.app;
        let passport = &checked.passport;
        let version_number = passport.passport().version;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let position = match kept {
                Some(r) => r,
                None => self.draw_status_position().await?,
            };
            let signer = self.passport_signer().await?;
            let issued =
                app.issuer
                    .issue_all(passport, Some(position), signer.as_ref(), checked.now)?;
            let key_id = signer.key_id().to_string();
            let sha256 = issued.as_ref().map(|c| c.sha256);
            let event = events::published(who, id, version_number, &key_id, sha256)?;
            let version = NewVersion {
                version: version_number,
                content: to_vec(passport.passport())?,
                key_id,
                signed_at: checked.now,
                credentials: issued.map(|c| SignedForms {
                    data_integrity: c.data_integrity,
                    jwt: c.jwt,
                }),
                status_index: kept.is_none().then_some(position),
            };
            match store(version, event).await {
                Err(StoreError::StatusIndexTaken { list, index }) if attempt < MAX_ATTEMPTS => {
                    tracing::debug!(list, index, "status list position taken; drawing again");
                    self.status_position_taken().await;
                }
                Err(StoreError::StatusIndexTaken { .. }) => {
                    return Err(ServiceError::internal(
                        "publish",
                        format!("{MAX_ATTEMPTS} status list positions drawn were all taken"),
                    ));
                }
                other => return other.map_err(ServiceError::from),
            }
        }
    }

    /// A stored version's [`Publication`]: its URLs and transparency-log leaf (the publish
    /// event `seq`'s leaf, index `seq - 1`).
    pub(crate) fn publication(
        &self,
        id: PassportId,
        version: u32,
        key_id: String,
        seq: u64,
        plugin: Verdict,
    ) -> Publication {
        let base = &self.app.issuer.base_url;
        let uuid = id.uuid();
        let log_index = seq.saturating_sub(1);
        Publication {
            id,
            version,
            key_id,
            plugin,
            warnings: Vec::new(),
            log_index,
            url: format!("{base}/passports/{uuid}"),
            version_url: format!("{base}/passports/{uuid}/versions/{version}"),
            log_inclusion_url: format!("{base}/log/proof/inclusion?index={log_index}"),
            log_checkpoint_url: format!("{base}/log/checkpoint"),
        }
    }
}

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
//! [`PassportStatus::check_publishable`]: hallmark_core::passport::PassportStatus::check_publishable
//! [`SectorRegistry::validate`]: hallmark_core::sector::SectorRegistry::validate
//! [`ValidatedPassport`]: hallmark_core::issue::ValidatedPassport

use super::passports::{same_product, to_vec, During};
use super::status_lists::MAX_ATTEMPTS;
use super::{events, now, Service, ServiceError};
use crate::auth::Principal;
use crate::plugins::Verdict;
use hallmark_core::passport::{Passport, PassportId};
use hallmark_store::{NewVersion, SignedForms, StoreError};

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

impl Service<'_> {
    /// Publishes passport `id`'s pending draft as its next version: validated once (schema,
    /// then the sector plugin), issued for every audience, stored with its audit event.
    pub async fn publish(
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
        let now = now();
        let passport = passport.publish(draft.version, record.published_at, now)?;
        let passport = app.registry.validate(passport)?;
        let verdict = self
            .plugin_gate(who, Some(&id), passport.passport(), During::Publish)
            .await?;
        // The passport's status list position: kept from an earlier publication, or drawn
        // now (its first publication since status lists) and stored with this version; a
        // position another passport took meanwhile is drawn again.
        let kept = app.store.status_index(&id).await?;
        let mut attempt = 0;
        let stored = loop {
            attempt += 1;
            let position = match kept {
                Some(r) => r,
                None => self.draw_status_position().await?,
            };
            let signer = self.passport_signer().await?;
            let issued = app
                .issuer
                .issue_all(&passport, Some(position), signer.as_ref(), now)?;
            let key_id = signer.key_id().to_string();
            let sha256 = issued.as_ref().map(|c| c.sha256);
            let event = events::published(who, &id, draft.version, &key_id, sha256)?;
            let version = NewVersion {
                version: draft.version,
                content: to_vec(passport.passport())?,
                key_id,
                signed_at: now,
                credentials: issued.map(|c| SignedForms {
                    data_integrity: c.data_integrity,
                    jwt: c.jwt,
                }),
                status_index: kept.is_none().then_some(position),
            };
            match app.store.publish(&id, version, event).await {
                Err(StoreError::StatusIndexTaken { list, index }) if attempt < MAX_ATTEMPTS => {
                    tracing::debug!(list, index, "status list position taken; drawing again");
                    self.status_position_taken().await;
                }
                Err(StoreError::StatusIndexTaken { .. }) => {
                    break Err(ServiceError::internal(
                        "publish",
                        format!("{MAX_ATTEMPTS} status list positions drawn were all taken"),
                    ));
                }
                other => break other.map_err(ServiceError::from),
            }
        };
        app.passport_changed(&id);
        let (v, seq) = stored?;
        let base = &app.issuer.base_url;
        let uuid = id.uuid();
        // The transparency-log leaf of this publish event (leaf index = audit seq - 1).
        let log_index = seq.saturating_sub(1);
        Ok(Publication {
            id,
            version: v.version,
            key_id: v.key_id,
            plugin: verdict,
            log_index,
            url: format!("{base}/passports/{uuid}"),
            version_url: format!("{base}/passports/{uuid}/versions/{}", v.version),
            log_inclusion_url: format!("{base}/log/proof/inclusion?index={log_index}"),
            log_checkpoint_url: format!("{base}/log/checkpoint"),
        })
    }
}

//! The EN 18222 DPP API's writes (`docs/en18222.md`; the door is `crate::routes::dpp`,
//! admin listener only, `write` scope): create, merge-patch, replace one element,
//! deactivate. There is no second publish path: a create or a change is the import's
//! stages (`Service::import_create` / `Service::import_change`: the draft check or the
//! publish stages, then ONE store job — draft step + publication — with its audit events),
//! without an external reference; a deletion is [`Service::deactivate`].
//!
//! - **create**: the compressed document read by core's `decompress` (server-assigned
//!   members ignored, unknown members refused), then created and published as one job
//!   (`publish = false`: a draft only; an invalid draft is refused there too, nothing is
//!   written, as in the import).
//! - **change** ([`Change`]): the base is the compressed authority document (the pending
//!   draft when there is one, else the current version); the merge patch (or the one
//!   element replaced) is applied and the result read back by `decompress`; its product
//!   identity must be the passport's. A result whose submission digest equals the base's
//!   writes nothing. Otherwise the next version is started (or the pending draft is
//!   edited) and, with `publish`, published in the same job.
//!   Refused with 409: suspended or terminal passports, and a published passport with a
//!   pending draft when `publish` is true (nobody's unfinished draft is published by
//!   surprise; `publish = false` edits it).
//! - **deactivate**: idempotent; a passport already deactivated is left alone (no event).

use super::dpp::{Door, Representation, Shown};
use super::import::{ItemJob, ItemResult};
use super::passports::{draft_passport_from, same_product, submission_digest};
use super::{Reason, Service, ServiceError};
use crate::auth::Principal;
use hallmark_core::dpp::compressed::{decompress, DppError};
use hallmark_core::dpp::merge::merge_patch;
use hallmark_core::dpp::path::{ElementPath, PathError, Segment};
use hallmark_core::passport::{Passport, PassportDraft, PassportId, PassportStatus};
use hallmark_core::sector::{Sector, ValidationIssue};
use serde_json::Value;

/// The reason recorded when `DELETE /v1/dpps/{dppId}` deactivates a passport.
pub const DELETE_REASON: &str = "deactivated through EN 18222 DELETE; nothing is deleted";

/// Header members an element write may replace (besides anything inside a content section).
const WRITABLE_HEADER: [&str; 3] = ["economicOperatorId", "facilityId", "commodityCode"];

/// Header members that make a passport's identity: replacing one is a conflict.
const IDENTITY: [&str; 3] = [
    "digitalProductPassportId",
    "uniqueProductIdentifier",
    "granularity",
];

/// A change of a passport's compressed document.
#[derive(Debug, Clone, Copy)]
pub enum Change<'a> {
    /// An RFC 7396 merge patch of the whole document (`updateDPPById`).
    Merge(&'a Value),
    /// The node at an element path (a Normalized Path, as the client wrote it) replaced by
    /// a value (`updateDataElement`).
    Element {
        /// The element path.
        path: &'a str,
        /// The new value.
        value: &'a Value,
    },
}

/// A compressed document the client sent that does not read as a passport draft: 400 on
/// `/v1`, one message naming the member.
fn refused(e: DppError) -> ServiceError {
    ServiceError::Invalid(vec![ValidationIssue {
        pointer: e.pointer().unwrap_or_default(),
        message: e.to_string(),
    }])
}

fn path_refused(e: PathError) -> ServiceError {
    match e {
        PathError::NotFound => ServiceError::NotFound,
        other => ServiceError::Unprocessable(other.to_string()),
    }
}

/// Whether an element write may replace the node at `path`: inside (or at) a content
/// section, or a writable header member; an identity member is a conflict, any other
/// member read-only.
fn writable(path: &ElementPath, sector: &Sector) -> Result<(), ServiceError> {
    let segments = path.segments();
    let Some(Segment::Name(first)) = segments.first() else {
        return Err(ServiceError::Unprocessable(
            "the whole document cannot be replaced through an element; use PATCH /v1/dpps/{dppId}"
                .into(),
        ));
    };
    if sector.content_sections().iter().any(|s| &s.id == first) {
        return Ok(());
    }
    if segments.len() == 1 && WRITABLE_HEADER.contains(&first.as_str()) {
        return Ok(());
    }
    if IDENTITY.contains(&first.as_str()) {
        return Err(ServiceError::Conflict(format!(
            "{} is the passport's identity and never changes; create a new passport for \
             another product",
            path.format()
        )));
    }
    Err(ServiceError::Unprocessable(format!(
        "{} is read-only: an element write replaces a node inside a content section, \
         economicOperatorId, facilityId or commodityCode",
        path.format()
    )))
}

impl Service<'_> {
    /// `createDPP`: a new passport from a compressed document, published with `publish`
    /// (one job), else its draft only. Its id.
    pub async fn dpp_create(
        &self,
        who: &Principal,
        doc: &Value,
        publish: bool,
    ) -> Result<PassportId, ServiceError> {
        let draft = decompress(doc, self.app.registry).map_err(refused)?;
        self.signing_for(publish)?;
        let digest = digest(&draft)?;
        let job = job(who, publish);
        let done = self.import_create(&job, draft, digest).await?;
        done.id
            .ok_or_else(|| ServiceError::internal("createDPP", "a create wrote no passport"))
    }

    /// `updateDPPById` / `updateDataElement`: `change` applied to passport `id`'s compressed
    /// authority document (see the [module docs](self)). The document after the change
    /// (the new version with `publish`, else the draft; the current one when nothing
    /// changed), and, for an element change, the path changed.
    pub async fn dpp_change(
        &self,
        who: &Principal,
        id: PassportId,
        change: Change<'_>,
        publish: bool,
    ) -> Result<(Value, Option<ElementPath>), ServiceError> {
        let app = self.app;
        let base_url = &app.issuer.base_url;
        let (record, pending) = app.store.get_pending(&id).await?;
        if record.status == PassportStatus::Suspended {
            return Err(ServiceError::Conflict(format!(
                "passport {id} is suspended; resume it before changing it"
            )));
        }
        if record.status.is_terminal() {
            return Err(ServiceError::Conflict(format!(
                "passport {id} is {} (terminal): it never changes again",
                record.status
            )));
        }
        let published_once = record.current_version > 0;
        if publish && published_once && pending.is_some() {
            return Err(ServiceError::Conflict(format!(
                "a draft is pending for passport {id}: publish it first, or change it with \
                 publish=false"
            )));
        }
        // The base: the pending draft when there is one (a never-published passport's, or
        // one left by `publish = false`, so that draft changes accumulate), else the current
        // version.
        let shown = match &pending {
            Some(_) => self.draft_shown(id).await?,
            None => self.shown(id, None, &Door::Authority).await?,
        };
        let current = shown.render(Representation::Compressed, base_url)?;
        let mut doc = current.clone();
        let element = match change {
            Change::Merge(patch) => {
                merge_patch(&mut doc, patch);
                None
            }
            Change::Element { path, value } => {
                let located = ElementPath::locate(path, &doc).map_err(path_refused)?;
                writable(&located, shown.sector)?;
                located
                    .replace(&mut doc, value.clone())
                    .map_err(path_refused)?;
                Some(located)
            }
        };
        let draft = decompress(&doc, app.registry).map_err(refused)?;
        let digest = digest(&draft)?;
        if digest == submission_digest(&shown.passport)? {
            return Ok((current, element));
        }
        self.signing_for(publish)?;
        let version = match &pending {
            Some(d) => d.version,
            None => record.current_version + 1,
        };
        let passport = draft_passport_from(draft, id, version, Some(record.created_at))?;
        same_product(&record, &passport)?;
        let job = job(who, publish);
        self.import_change(
            &job,
            &record,
            pending.is_some(),
            passport,
            version,
            digest,
            ItemResult::Updated,
        )
        .await?;
        let after = if publish {
            self.dpp(id, Door::Authority, Representation::Compressed)
                .await?
        } else {
            self.draft_shown(id)
                .await?
                .render(Representation::Compressed, base_url)?
        };
        Ok((after, element))
    }

    /// `deleteDPPById`: deactivates passport `id` with [`DELETE_REASON`] (nothing is
    /// deleted). A passport already deactivated is left alone: no new event. A draft or an
    /// archived passport cannot be deactivated (the lifecycle's conflict).
    pub async fn dpp_deactivate(
        &self,
        who: &Principal,
        id: PassportId,
    ) -> Result<(), ServiceError> {
        let record = self.app.store.get_passport(&id).await?;
        if record.status == PassportStatus::Deactivated {
            return Ok(());
        }
        let reason = Reason::required(Some(DELETE_REASON.to_owned()))?;
        self.deactivate(who, id, reason).await?;
        Ok(())
    }

    /// Publishing needs the signer.
    fn signing_for(&self, publish: bool) -> Result<(), ServiceError> {
        if publish && !self.app.signing_available() {
            return Err(ServiceError::SigningUnavailable(
                crate::app::HSM_UNAVAILABLE.into(),
            ));
        }
        Ok(())
    }

    /// The pending draft of passport `id`, as the authority sees it.
    async fn draft_shown(&self, id: PassportId) -> Result<Shown, ServiceError> {
        let app = self.app;
        let (_, draft) = app.store.get_pending(&id).await?;
        let draft = draft
            .ok_or_else(|| ServiceError::internal("updateDPPById", "no pending draft to show"))?;
        // A draft's content says `draft`: it is shown as one (`dppStatus: Draft`).
        let passport = Passport::from_json_slice(&draft.content)
            .map_err(|e| ServiceError::internal("stored draft does not parse", e))?;
        let sector = app
            .registry
            .get(&passport.sector.id, &passport.sector.schema_version)
            .map_err(|e| ServiceError::internal("a stored passport's sector is not loaded", e))?;
        Ok(Shown { passport, sector })
    }
}

fn job(who: &Principal, publish: bool) -> ItemJob<'_> {
    ItemJob {
        who,
        external_ref: None,
        import_id: None,
        publish,
        dry_run: false,
    }
}

fn digest(draft: &PassportDraft) -> Result<[u8; 32], ServiceError> {
    draft
        .digest()
        .map(|d| d.0)
        .map_err(|e| ServiceError::internal("submission digest", e))
}

//! The audit events of the use-cases: each action's name and detail, in one place. Every
//! event is appended by the store in the same transaction as the write it records, and
//! becomes a transparency-log leaf.

use super::{actor, now};
use crate::audit::detail;
use crate::auth::Principal;
use crate::plugins::{GateError, PluginRef};
use hallmark_core::access::PerAudience;
use hallmark_core::passport::{Passport, PassportId, PassportStatus};
use hallmark_core::status::StatusPurpose;
use hallmark_core::tlog::event::{
    Action, CredentialHashes, Detail, EventError, ImportCompleted, LinkAdded, LinkRemoved,
    Publication, StatusChanged, StatusListPublished,
};
use hallmark_store::{AuditEvent, NewProductLink, ProductLinkRecord};
use serde::Serialize;

fn event(who: &Principal, action: Action, passport: Option<&PassportId>) -> AuditEvent {
    let mut e = AuditEvent::of(now(), &actor(who), action);
    e.passport = passport.copied();
    e
}

/// The detail of a draft event: the version the draft is (`{"version"}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DraftVersion {
    /// The draft's version number.
    pub version: u32,
}

/// The detail of `plugin.failed`: where the plugin gave no verdict, and why.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginFailed<'a> {
    /// `draft`, `validate` or `publish`.
    pub during: &'a str,
    /// The passport's sector.
    pub sector: &'a str,
    /// Its schema version.
    pub schema_version: &'a str,
    /// The plugin, when one ran (`null` otherwise).
    pub plugin: Option<&'a PluginRef>,
    /// Failure mode slug (`out-of-fuel`, `deadline`, …).
    pub reason: &'static str,
    /// One line: what happened.
    pub error: &'a str,
}

/// The detail of `api-key.revoked`: the key's id (`{"keyId"}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyRevoked {
    /// The key's id (derived from its lookup prefix).
    pub key_id: uuid::Uuid,
}

/// An event of `action` with this typed detail.
fn with_detail<T: Serialize>(
    who: &Principal,
    action: Action,
    passport: Option<&PassportId>,
    d: &T,
) -> Result<AuditEvent, EventError> {
    let mut e = event(who, action, passport);
    e.detail = detail(action, d)?;
    Ok(e)
}

/// The detail of `passport.draft-created`: `{"version"}` (1), and for a passport created by
/// an import, its external reference and the import's id (`{"version","externalRef",
/// "importId"}`; private like every draft event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DraftCreated<'a> {
    /// Always 1.
    pub version: u32,
    /// The operator's reference (imports only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_ref: Option<&'a str>,
    /// The import's id, when the client gave one (imports only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import_id: Option<&'a str>,
}

/// `passport.draft-created` (version 1); `imported`: the external reference and import id
/// of a passport an import created.
pub fn draft_created(
    who: &Principal,
    id: &PassportId,
    imported: Option<(&str, Option<&str>)>,
) -> Result<AuditEvent, EventError> {
    let detail = DraftCreated {
        version: 1,
        external_ref: imported.map(|(r, _)| r),
        import_id: imported.and_then(|(_, i)| i),
    };
    with_detail(who, Action::PassportDraftCreated, Some(id), &detail)
}

/// `passport.draft-updated`.
pub fn draft_updated(
    who: &Principal,
    id: &PassportId,
    version: u32,
) -> Result<AuditEvent, EventError> {
    let version = DraftVersion { version };
    with_detail(who, Action::PassportDraftUpdated, Some(id), &version)
}

/// `passport.version-started`.
pub fn version_started(
    who: &Principal,
    id: &PassportId,
    version: u32,
) -> Result<AuditEvent, EventError> {
    let version = DraftVersion { version };
    with_detail(who, Action::PassportVersionStarted, Some(id), &version)
}

/// `passport.published`. Its log leaf commits to the exact credential bytes served: the
/// SHA-256 of each audience's Data Integrity credential.
pub fn published(
    who: &Principal,
    id: &PassportId,
    version: u32,
    key_id: &str,
    credential_sha256: PerAudience<[u8; 32]>,
) -> Result<AuditEvent, EventError> {
    let mut e = event(who, Action::PassportPublished, Some(id));
    e.detail = Publication {
        version,
        key_id: key_id.to_string(),
        credential_sha256: Some(CredentialHashes::new(
            &credential_sha256.public,
            &credential_sha256.legitimate_interest,
            &credential_sha256.authority,
        )),
    }
    .to_value()?;
    Ok(e)
}

/// `passport.suspended`, `passport.resumed`, `passport.archived` or
/// `passport.deactivated`, with the reason given.
pub fn status_changed(
    who: &Principal,
    id: &PassportId,
    to: PassportStatus,
    reason: Option<&str>,
) -> Result<AuditEvent, EventError> {
    let action = match to {
        PassportStatus::Suspended => Action::PassportSuspended,
        PassportStatus::Published => Action::PassportResumed,
        PassportStatus::Archived => Action::PassportArchived,
        _ => Action::PassportDeactivated,
    };
    let mut e = event(who, action, Some(id));
    e.detail = StatusChanged {
        reason: reason.map(str::to_string),
    }
    .to_value()?;
    Ok(e)
}

/// `plugin.failed`: the sector plugin gave no verdict `during` a draft write, the dry run
/// or a publish.
pub fn plugin_failed(
    who: &Principal,
    id: Option<&PassportId>,
    passport: &Passport,
    during: &str,
    error: &GateError,
    detail: &str,
) -> Result<AuditEvent, EventError> {
    let failed = PluginFailed {
        during,
        sector: &passport.sector.id,
        schema_version: &passport.sector.schema_version,
        plugin: error.plugin(),
        reason: error.reason(),
        error: detail,
    };
    with_detail(who, Action::PluginFailed, id, &failed)
}

/// `api-key.revoked`.
pub fn api_key_revoked(
    who: &Principal,
    prefix: &str,
    key_id: uuid::Uuid,
) -> Result<AuditEvent, EventError> {
    let mut e = with_detail(who, Action::ApiKeyRevoked, None, &ApiKeyRevoked { key_id })?;
    e.subject = Some(prefix.to_string());
    Ok(e)
}

/// `link.added` (subject: the link's id): the identifier and the link as served.
pub fn link_added(who: &Principal, link: &NewProductLink) -> Result<AuditEvent, EventError> {
    let mut e = event(who, Action::LinkAdded, None);
    e.subject = Some(link.id.clone());
    e.detail = LinkAdded {
        gtin: link.product.gtin.clone(),
        lot: link.product.lot.clone(),
        serial: link.product.serial.clone(),
        link_type: link.link_type.clone(),
        href: link.href.clone(),
        title: link.title.clone(),
        media_type: link.media_type.clone(),
        hreflang: link.hreflang.clone(),
    }
    .to_value()?;
    Ok(e)
}

/// `link.removed` (subject: the link's id): what stops being served, and why.
pub fn link_removed(
    who: &Principal,
    link: &ProductLinkRecord,
    reason: &str,
) -> Result<AuditEvent, EventError> {
    let mut e = event(who, Action::LinkRemoved, None);
    e.subject = Some(link.id.clone());
    e.detail = LinkRemoved {
        gtin: link.product.gtin.clone(),
        lot: link.product.lot.clone(),
        serial: link.product.serial.clone(),
        link_type: link.link_type.clone(),
        href: link.href.clone(),
        reason: reason.to_owned(),
    }
    .to_value()?;
    Ok(e)
}

/// `status-list.published`: a signed version of a status list. Its log leaf commits to the
/// SHA-256 of both forms, so a verifier can prove which list was published.
pub fn status_list_published(
    actor: &str,
    at: time::OffsetDateTime,
    purpose: StatusPurpose,
    list: u32,
    version: u32,
    sha256: &[u8; 32],
    jwt_sha256: &[u8; 32],
) -> Result<AuditEvent, EventError> {
    let mut e = AuditEvent::of(at, actor, Action::StatusListPublished);
    e.subject = Some(format!("{}/{list}", purpose.as_str()));
    e.detail =
        StatusListPublished::new(purpose.as_str(), list, version, sha256, jwt_sha256).to_value()?;
    Ok(e)
}

/// `import.completed` (subject: the import's id): the file, the rows read and the outcome
/// counts of one import run. Private (it names the operator's file).
pub fn import_completed(
    who: &Principal,
    detail: &ImportCompleted,
) -> Result<AuditEvent, EventError> {
    let mut e = event(who, Action::ImportCompleted, None);
    e.subject = Some(detail.import_id.clone());
    e.detail = detail.to_value()?;
    Ok(e)
}

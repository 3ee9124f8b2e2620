//! The audit events of the use-cases: each action's name and detail, in one place. Every
//! event is appended by the store in the same transaction as the write it records, and
//! becomes a transparency-log leaf.

use super::{actor, now};
use crate::auth::Principal;
use crate::plugins::GateError;
use hallmark_core::access::PerAudience;
use hallmark_core::passport::{Passport, PassportId, PassportStatus};
use hallmark_core::tlog::event::{
    Action, CredentialHashes, Detail, EventError, Publication, StatusChanged,
};
use hallmark_store::AuditEvent;
use serde_json::json;

fn event(who: &Principal, action: Action, passport: Option<&PassportId>) -> AuditEvent {
    let mut e = AuditEvent::of(now(), &actor(who), action);
    e.passport = passport.copied();
    e
}

/// `passport.draft-created` (version 1).
pub fn draft_created(who: &Principal, id: &PassportId) -> AuditEvent {
    let mut e = event(who, Action::PassportDraftCreated, Some(id));
    e.detail = json!({ "version": 1 });
    e
}

/// `passport.draft-updated`.
pub fn draft_updated(who: &Principal, id: &PassportId, version: u32) -> AuditEvent {
    let mut e = event(who, Action::PassportDraftUpdated, Some(id));
    e.detail = json!({ "version": version });
    e
}

/// `passport.version-started`.
pub fn version_started(who: &Principal, id: &PassportId, version: u32) -> AuditEvent {
    let mut e = event(who, Action::PassportVersionStarted, Some(id));
    e.detail = json!({ "version": version });
    e
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
) -> AuditEvent {
    let mut e = event(who, Action::PluginFailed, id);
    e.detail = json!({
        "during": during,
        "sector": passport.sector.id,
        "schemaVersion": passport.sector.schema_version,
        "plugin": error.plugin(),
        "reason": error.reason(),
        "error": detail,
    });
    e
}

/// `api-key.revoked`.
pub fn api_key_revoked(who: &Principal, prefix: &str, key_id: uuid::Uuid) -> AuditEvent {
    let mut e = event(who, Action::ApiKeyRevoked, None);
    e.subject = Some(prefix.to_string());
    e.detail = json!({ "keyId": key_id });
    e
}

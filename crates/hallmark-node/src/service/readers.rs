//! Readers admitted by the operator's approval (issue 20; docs/access.md, "Readers and
//! admission"). A reader registers on the public listener — anonymous, refused for nothing
//! but bad input or a key already registered — and is inert until the operator, having
//! checked it out of band (the key fingerprint read over the phone), approves it with a
//! grant: a tier, a scope and an expiry. The operator may re-grant, suspend, resume or
//! revoke (for good) at once. What a reader may be is core's rule
//! (`hallmark_core::reader`); every step is a `reader.*` audit event in the same
//! transaction, public with the organisation, contact and reasons only as SHA-256.

use super::{actor, now, Service, ServiceError};
use crate::auth::Principal;
use hallmark_core::reader::{
    text_sha256, Grant, GrantScope, NewReader, ReaderChange, ReaderError, ReaderId,
    ReaderRegistration, ReaderStatus, ReaderTier,
};
use hallmark_core::tlog::event::{Action, Detail, ReaderApproved, ReaderChanged, ReaderRegistered};
use hallmark_store::{AuditEvent, ReaderRecord};
use serde_json::Value;

/// The actor of a registration: nobody authenticated (the public listener).
pub const PUBLIC_ACTOR: &str = "public";

/// Most readers one listing answers.
pub const MAX_READERS_PAGE: u32 = 200;

impl From<ReaderError> for ServiceError {
    fn from(e: ReaderError) -> Self {
        match e {
            ReaderError::Invalid { .. } => ServiceError::Unprocessable(e.to_string()),
            ReaderError::Transition { .. } => ServiceError::Conflict(e.to_string()),
        }
    }
}

/// An approval as a door received it: the tier and expiry as text, the scope as JSON
/// (checked by [`Service::approve_reader`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalInput {
    /// `legitimateInterest` or `authority`.
    pub tier: String,
    /// `{"kind":"all"}`, `{"kind":"sector","sector":…}`, `{"kind":"gtins","gtins":[…]}` or
    /// `{"kind":"passports","passports":[…]}`.
    pub scope: Value,
    /// RFC 3339.
    pub expires_at: String,
}

impl ApprovalInput {
    /// The grant, or the refusal naming the field.
    fn grant(&self) -> Result<Grant, ReaderError> {
        let invalid = |field: &'static str, reason: String| ReaderError::Invalid { field, reason };
        let tier: ReaderTier = self.tier.parse()?;
        let scope: GrantScope = serde_json::from_value(self.scope.clone()).map_err(|e| {
            invalid(
                "scope",
                format!(
                    "{e} (one of {{\"kind\":\"all\"}}, {{\"kind\":\"sector\",\"sector\":…}}, \
                     {{\"kind\":\"gtins\",\"gtins\":[…]}}, \
                     {{\"kind\":\"passports\",\"passports\":[…]}})"
                ),
            )
        })?;
        let expires_at = time::OffsetDateTime::parse(
            &self.expires_at,
            &time::format_description::well_known::Rfc3339,
        )
        .map_err(|e| invalid("expiresAt", format!("is not an RFC 3339 time: {e}")))?
        .to_offset(time::UtcOffset::UTC);
        Ok(Grant {
            tier,
            scope,
            expires_at,
        })
    }
}

fn new_reader_id() -> Result<ReaderId, ServiceError> {
    use rand_core::RngCore;
    let mut random = [0u8; 10];
    rand_core::OsRng
        .try_fill_bytes(&mut random)
        .map_err(|e| ServiceError::internal("no randomness for a reader id", e))?;
    let millis = u64::try_from(now().unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
    ReaderId::from_parts(millis, random).ok_or(ServiceError::Internal)
}

fn reader_event(
    actor: &str,
    action: Action,
    detail: &impl Detail,
) -> Result<AuditEvent, ServiceError> {
    let mut e = AuditEvent::of(now(), actor, action);
    e.detail = detail.to_value()?;
    Ok(e)
}

/// A reader id from a path; anything else is not found.
pub fn parse_reader_id(s: &str) -> Result<ReaderId, ServiceError> {
    ReaderId::parse(s).map_err(|_| ServiceError::NotFound)
}

impl Service<'_> {
    /// Registers a reader (the public listener's anonymous door): checked by core (each
    /// refusal names its field, nothing is written), stored inert (`registered`) with its
    /// public `reader.registered` event (organisation and contact only as SHA-256).
    /// `Conflict` when the key is already registered.
    pub async fn register_reader(
        &self,
        input: &ReaderRegistration,
    ) -> Result<ReaderRecord, ServiceError> {
        let new = NewReader::parse(input)?;
        let id = new_reader_id()?;
        let detail = ReaderRegistered {
            reader_id: id.to_string(),
            fingerprint: new.fingerprint(),
            purpose: new.purpose,
            organisation_sha256: text_sha256(&new.organisation),
            contact_sha256: text_sha256(&new.contact),
        };
        let event = reader_event(PUBLIC_ACTOR, Action::ReaderRegistered, &detail)?;
        let reader = self
            .app
            .store
            .register_reader(id, new, event)
            .await
            .map_err(|e| match ServiceError::from(e) {
                ServiceError::Conflict(_) => {
                    ServiceError::Conflict("this Ed25519 public key is already registered".into())
                }
                other => other,
            })?;
        tracing::info!(target: "hallmark::audit", action = %Action::ReaderRegistered,
            reader = %reader.id, fingerprint = %reader.fingerprint, purpose = %reader.purpose);
        Ok(reader)
    }

    /// One reader; `NotFound` for an unknown id.
    pub async fn reader(&self, id: &ReaderId) -> Result<ReaderRecord, ServiceError> {
        self.app
            .store
            .reader(id)
            .await?
            .ok_or(ServiceError::NotFound)
    }

    /// Readers (of one status, if given), by id after `after`, at most `limit` (1 to
    /// [`MAX_READERS_PAGE`]).
    pub async fn readers(
        &self,
        status: Option<ReaderStatus>,
        after: Option<&ReaderId>,
        limit: u32,
    ) -> Result<Vec<ReaderRecord>, ServiceError> {
        let limit = limit.clamp(1, MAX_READERS_PAGE);
        Ok(self.app.store.list_readers(status, after, limit).await?)
    }

    /// Approves a registered reader, or grants an approved one anew: the grant is checked
    /// (tier, scope, an expiry in the future and at most three years away) before anything
    /// is looked up; `Conflict` for a suspended or revoked reader.
    pub async fn approve_reader(
        &self,
        who: &Principal,
        id: &ReaderId,
        input: &ApprovalInput,
    ) -> Result<ReaderRecord, ServiceError> {
        let grant = input.grant()?;
        grant.check(now())?;
        let detail = ReaderApproved {
            reader_id: id.to_string(),
            tier: grant.tier,
            scope: grant.scope.clone(),
            expires_at: grant.expires_at,
        };
        let event = reader_event(&actor(who), Action::ReaderApproved, &detail)?;
        self.change(id, ReaderChange::Approve(grant), event).await
    }

    /// Suspends an approved reader at once (reason required).
    pub async fn suspend_reader(
        &self,
        who: &Principal,
        id: &ReaderId,
        reason: super::Reason,
    ) -> Result<ReaderRecord, ServiceError> {
        let reason = required(reason)?;
        self.simple_change(who, id, ReaderChange::Suspend { reason })
            .await
    }

    /// Resumes a suspended reader under its grant.
    pub async fn resume_reader(
        &self,
        who: &Principal,
        id: &ReaderId,
    ) -> Result<ReaderRecord, ServiceError> {
        self.simple_change(who, id, ReaderChange::Resume).await
    }

    /// Revokes a reader for good (reason required); `Conflict` when already revoked.
    pub async fn revoke_reader(
        &self,
        who: &Principal,
        id: &ReaderId,
        reason: super::Reason,
    ) -> Result<ReaderRecord, ServiceError> {
        let reason = required(reason)?;
        self.simple_change(who, id, ReaderChange::Revoke { reason })
            .await
    }

    async fn simple_change(
        &self,
        who: &Principal,
        id: &ReaderId,
        change: ReaderChange,
    ) -> Result<ReaderRecord, ServiceError> {
        change.check(now())?;
        let detail = ReaderChanged {
            reader_id: id.to_string(),
            reason_sha256: change.reason().map(text_sha256),
        };
        let event = reader_event(&actor(who), change.action(), &detail)?;
        self.change(id, change, event).await
    }

    async fn change(
        &self,
        id: &ReaderId,
        change: ReaderChange,
        event: AuditEvent,
    ) -> Result<ReaderRecord, ServiceError> {
        let action = change.action();
        let actor = event.actor.clone();
        let reader = self.app.store.change_reader(id, change, event).await?;
        tracing::info!(target: "hallmark::audit", action = %action, reader = %reader.id,
            status = %reader.status, %actor);
        Ok(reader)
    }
}

fn required(reason: super::Reason) -> Result<String, ServiceError> {
    reason
        .into_inner()
        .ok_or_else(|| ServiceError::Unprocessable("a non-empty `reason` is required".into()))
}

//! Status changes: suspend, resume, archive, deactivate. The lifecycle's rules are core's
//! (`PassportStatus::can_transition_to`), enforced by the store in the same transaction as
//! the audit event; this node's cached state of the passport is dropped after the write.

use super::{events, Reason, Service, ServiceError};
use crate::auth::Principal;
use hallmark_core::passport::{PassportId, PassportStatus};
use hallmark_store::PassportRecord;

impl Service<'_> {
    /// Suspends a published passport (served 410 until resumed).
    pub async fn suspend(
        &self,
        who: &Principal,
        id: PassportId,
        reason: Reason,
    ) -> Result<PassportRecord, ServiceError> {
        self.change_status(who, id, PassportStatus::Suspended, reason)
            .await
    }

    /// Publishes a suspended passport again.
    pub async fn resume(
        &self,
        who: &Principal,
        id: PassportId,
    ) -> Result<PassportRecord, ServiceError> {
        self.change_status(who, id, PassportStatus::Published, Reason::default())
            .await
    }

    /// Archives a passport (terminal: the product is no longer placed on the market).
    pub async fn archive(
        &self,
        who: &Principal,
        id: PassportId,
        reason: Reason,
    ) -> Result<PassportRecord, ServiceError> {
        self.change_status(who, id, PassportStatus::Archived, reason)
            .await
    }

    /// Deactivates a passport (terminal; frees its product identifier for a successor).
    pub async fn deactivate(
        &self,
        who: &Principal,
        id: PassportId,
        reason: Reason,
    ) -> Result<PassportRecord, ServiceError> {
        self.change_status(who, id, PassportStatus::Deactivated, reason)
            .await
    }

    async fn change_status(
        &self,
        who: &Principal,
        id: PassportId,
        to: PassportStatus,
        reason: Reason,
    ) -> Result<PassportRecord, ServiceError> {
        let event = events::status_changed(who, &id, to, reason.as_deref())?;
        let changed = self
            .app
            .store
            .change_status(&id, to, reason.into_inner(), event, Vec::new())
            .await;
        self.app.passport_changed(&id);
        Ok(changed?)
    }
}

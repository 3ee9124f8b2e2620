//! Status changes: suspend, resume, archive, deactivate. The lifecycle's rules are core's
//! (`PassportStatus::can_transition_to`), enforced by the store in the same transaction as
//! the audit event; this node's cached state of the passport is dropped after the write.
//!
//! A passport with a status list position changes its bit in the same transaction: the
//! affected list's next version is signed before the write (`super::status_lists`) and
//! committed with the status and both audit events, so the list served is never behind the
//! status (the bound between a change and its list is zero). A list version another change
//! stored first is a conflict: the list is re-read, re-signed and the change retried.

use super::status_lists::MAX_ATTEMPTS;
use super::{actor, events, Reason, Service, ServiceError};
use crate::auth::Principal;
use hallmark_core::passport::{PassportId, PassportStatus};
use hallmark_store::{PassportRecord, StoreError};

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
        let app = self.app;
        let actor = actor(who);
        // A passport without a position (published before status lists, or a draft) has no
        // list to change.
        let position = app.store.status_index(&id).await?;
        // This node's changes to a list take turns (read, re-sign, store): 8 concurrent
        // suspensions in one list would otherwise race for its next version and some would
        // run out of retries. Only a passport with a position waits.
        let _turn = match position {
            Some(_) => Some(app.status_list_writes.lock().await),
            None => None,
        };
        let mut attempt = 0;
        let changed = loop {
            attempt += 1;
            let lists = match position {
                Some(at) => self.list_changes(&actor, at, to).await?,
                None => Vec::new(),
            };
            let event = events::status_changed(who, &id, to, reason.as_deref())?;
            let wrote_lists = !lists.is_empty();
            let result = app
                .store
                .change_status(&id, to, reason.as_deref().map(str::to_owned), event, lists)
                .await;
            if wrote_lists {
                app.status_list_changed();
            }
            match result {
                // Another change stored the list's next version first: re-read, re-sign.
                Err(StoreError::StatusListConflict { .. }) if attempt < MAX_ATTEMPTS => {}
                Err(StoreError::StatusListConflict { purpose, list, .. }) => {
                    break Err(ServiceError::internal(
                        "status change",
                        format!(
                            "status list {purpose}/{list} kept moving on ({MAX_ATTEMPTS} tries)"
                        ),
                    ));
                }
                other => break other.map_err(ServiceError::from),
            }
        };
        app.passport_changed(&id);
        changed
    }
}

//! Conveniences for tests (feature `test-support`): shorthands over the [`Store`] port that
//! the node does not need. Every one is a single call of a port method, so it holds for any
//! store.

use async_trait::async_trait;
use hallmark_core::passport::{PassportId, PassportStatus};

use crate::{AuditEvent, CheckpointRecord, DraftRecord, PassportRecord, Store, StoreError};

/// Test shorthands over any [`Store`] (`use hallmark_store::testing::StoreTestExt`).
#[async_trait]
pub trait StoreTestExt: Store {
    /// The pending draft, if any ([`Store::get_pending`]'s draft).
    async fn get_draft(&self, id: &PassportId) -> Result<Option<DraftRecord>, StoreError> {
        Ok(self.get_pending(id).await?.1)
    }

    /// Suspends a published passport.
    async fn suspend(
        &self,
        id: &PassportId,
        reason: String,
        audit: AuditEvent,
    ) -> Result<PassportRecord, StoreError> {
        self.change_status(id, PassportStatus::Suspended, Some(reason), audit)
            .await
    }

    /// Resumes (re-publishes) a suspended passport.
    async fn resume(
        &self,
        id: &PassportId,
        audit: AuditEvent,
    ) -> Result<PassportRecord, StoreError> {
        self.change_status(id, PassportStatus::Published, None, audit)
            .await
    }

    /// Archives a published or suspended passport (terminal).
    async fn archive(
        &self,
        id: &PassportId,
        reason: Option<String>,
        audit: AuditEvent,
    ) -> Result<PassportRecord, StoreError> {
        self.change_status(id, PassportStatus::Archived, reason, audit)
            .await
    }

    /// Deactivates a published or suspended passport (terminal).
    async fn deactivate(
        &self,
        id: &PassportId,
        reason: String,
        audit: AuditEvent,
    ) -> Result<PassportRecord, StoreError> {
        self.change_status(id, PassportStatus::Deactivated, Some(reason), audit)
            .await
    }

    /// The newest checkpoint, if any.
    async fn latest_checkpoint(&self) -> Result<Option<CheckpointRecord>, StoreError> {
        Ok(self.latest_checkpoints(1).await?.into_iter().next())
    }
}

impl<S: Store + ?Sized> StoreTestExt for S {}

//! Store-side helpers: a store on a per-test SQLite file, and shorthands over the `Store`
//! port that only tests use.

use async_trait::async_trait;
use hallmark_core::passport::{PassportId, PassportStatus};
use hallmark_store::{
    AuditEvent, CheckpointRecord, DraftRecord, PassportRecord, SqliteStore, Store, StoreError,
};

/// A store on a fresh SQLite file in its own temporary directory (removed when dropped).
pub struct SqliteHarness {
    /// The store.
    pub store: SqliteStore,
    /// The directory holding `hallmark.db`.
    pub dir: tempfile::TempDir,
}

impl SqliteHarness {
    /// Opens (creates and migrates) `hallmark.db` in a new temporary directory.
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("hallmark.db"))
            .await
            .unwrap();
        SqliteHarness { store, dir }
    }

    /// The store.
    pub fn store(&self) -> &SqliteStore {
        &self.store
    }
}

/// Test shorthands over any [`Store`] (`use hallmark_testkit::StoreTestExt`): conveniences
/// the node does not need. Every one is a single call of a port method, so it holds for any
/// store.
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
        self.change_status(
            id,
            PassportStatus::Suspended,
            Some(reason),
            audit,
            Vec::new(),
        )
        .await
    }

    /// Resumes (re-publishes) a suspended passport.
    async fn resume(
        &self,
        id: &PassportId,
        audit: AuditEvent,
    ) -> Result<PassportRecord, StoreError> {
        self.change_status(id, PassportStatus::Published, None, audit, Vec::new())
            .await
    }

    /// Archives a published or suspended passport (terminal).
    async fn archive(
        &self,
        id: &PassportId,
        reason: Option<String>,
        audit: AuditEvent,
    ) -> Result<PassportRecord, StoreError> {
        self.change_status(id, PassportStatus::Archived, reason, audit, Vec::new())
            .await
    }

    /// Deactivates a published or suspended passport (terminal).
    async fn deactivate(
        &self,
        id: &PassportId,
        reason: String,
        audit: AuditEvent,
    ) -> Result<PassportRecord, StoreError> {
        self.change_status(
            id,
            PassportStatus::Deactivated,
            Some(reason),
            audit,
            Vec::new(),
        )
        .await
    }

    /// The newest checkpoint, if any.
    async fn latest_checkpoint(&self) -> Result<Option<CheckpointRecord>, StoreError> {
        Ok(self.latest_checkpoints(1).await?.into_iter().next())
    }
}

impl<S: Store + ?Sized> StoreTestExt for S {}

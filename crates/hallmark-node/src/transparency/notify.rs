//! A [`Store`] decorator that wakes the checkpoint signer after every successful audited
//! write (each such write appends a log leaf). Reads pass straight through. The node wraps
//! its store once, in `node::build_app`, so no handler has to remember to notify.

use async_trait::async_trait;
use hallmark_core::passport::{PassportId, PassportStatus};
use hallmark_store::{
    ApiKeyRecord, AuditEvent, AuditRecord, CheckpointRecord, DraftRecord, IntegrityKeys, NewApiKey,
    NewPassport, NewVersion, Page, PassportFilter, PassportRecord, ProductKey, QuarantineRecord,
    SigningKeyRecord, SigningKeyStatus, Store, StoreError, StoredLeaf, VersionRecord,
};
use std::sync::Arc;
use time::OffsetDateTime;
use tokio::sync::Notify;

/// Wraps `inner` so that every successful audited write calls `wake.notify_one()`.
pub fn notifying(inner: Arc<dyn Store>, wake: Arc<Notify>) -> Arc<dyn Store> {
    Arc::new(NotifyingStore { inner, wake })
}

struct NotifyingStore {
    inner: Arc<dyn Store>,
    wake: Arc<Notify>,
}

impl NotifyingStore {
    fn wrote<T>(&self, r: Result<T, StoreError>) -> Result<T, StoreError> {
        if r.is_ok() {
            self.wake.notify_one();
        }
        r
    }
}

#[async_trait]
impl Store for NotifyingStore {
    async fn create_draft(
        &self,
        new: NewPassport,
        audit: AuditEvent,
    ) -> Result<PassportRecord, StoreError> {
        self.wrote(self.inner.create_draft(new, audit).await)
    }

    async fn find_live(&self, key: &ProductKey) -> Result<Option<PassportRecord>, StoreError> {
        self.inner.find_live(key).await
    }

    async fn update_draft(
        &self,
        id: &PassportId,
        content: Vec<u8>,
        audit: AuditEvent,
    ) -> Result<DraftRecord, StoreError> {
        self.wrote(self.inner.update_draft(id, content, audit).await)
    }

    async fn start_version(
        &self,
        id: &PassportId,
        content: Vec<u8>,
        audit: AuditEvent,
    ) -> Result<DraftRecord, StoreError> {
        self.wrote(self.inner.start_version(id, content, audit).await)
    }

    async fn get_pending(
        &self,
        id: &PassportId,
    ) -> Result<(PassportRecord, Option<DraftRecord>), StoreError> {
        self.inner.get_pending(id).await
    }

    async fn publish(
        &self,
        id: &PassportId,
        version: NewVersion,
        audit: AuditEvent,
    ) -> Result<(VersionRecord, u64), StoreError> {
        self.wrote(self.inner.publish(id, version, audit).await)
    }

    async fn change_status(
        &self,
        id: &PassportId,
        to: PassportStatus,
        reason: Option<String>,
        audit: AuditEvent,
    ) -> Result<PassportRecord, StoreError> {
        self.wrote(self.inner.change_status(id, to, reason, audit).await)
    }

    async fn get_passport(&self, id: &PassportId) -> Result<PassportRecord, StoreError> {
        self.inner.get_passport(id).await
    }

    async fn get_version(
        &self,
        id: &PassportId,
        version: Option<u32>,
    ) -> Result<VersionRecord, StoreError> {
        self.inner.get_version(id, version).await
    }

    async fn list_passports(
        &self,
        filter: &PassportFilter,
        after: Option<&PassportId>,
        limit: u32,
    ) -> Result<Page<PassportRecord>, StoreError> {
        self.inner.list_passports(filter, after, limit).await
    }

    async fn history(&self, id: &PassportId) -> Result<Vec<AuditRecord>, StoreError> {
        self.inner.history(id).await
    }

    async fn publish_seq(&self, id: &PassportId, version: u32) -> Result<Option<u64>, StoreError> {
        self.inner.publish_seq(id, version).await
    }

    async fn append_audit(&self, event: AuditEvent) -> Result<AuditRecord, StoreError> {
        self.wrote(self.inner.append_audit(event).await)
    }

    async fn list_audit(&self, from_seq: u64, limit: u32) -> Result<Vec<AuditRecord>, StoreError> {
        self.inner.list_audit(from_seq, limit).await
    }

    fn committed(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.committed()
    }

    async fn list_leaf_hashes(
        &self,
        from_index: u64,
        limit: u32,
    ) -> Result<Vec<[u8; 32]>, StoreError> {
        self.inner.list_leaf_hashes(from_index, limit).await
    }

    async fn find_leaf(&self, leaf_hash: &[u8; 32]) -> Result<Option<u64>, StoreError> {
        self.inner.find_leaf(leaf_hash).await
    }

    async fn list_leaves(
        &self,
        from_index: u64,
        limit: u32,
    ) -> Result<Vec<StoredLeaf>, StoreError> {
        self.inner.list_leaves(from_index, limit).await
    }

    async fn first_tagged_leaf(&self) -> Result<u64, StoreError> {
        self.inner.first_tagged_leaf().await
    }

    async fn list_quarantine(&self) -> Result<Vec<QuarantineRecord>, StoreError> {
        self.inner.list_quarantine().await
    }

    async fn quarantine_leaf(&self, record: QuarantineRecord) -> Result<(), StoreError> {
        self.inner.quarantine_leaf(record).await
    }

    fn set_integrity(&self, keys: Arc<IntegrityKeys>) -> bool {
        self.inner.set_integrity(keys)
    }

    async fn latest_checkpoints(&self, limit: u32) -> Result<Vec<CheckpointRecord>, StoreError> {
        self.inner.latest_checkpoints(limit).await
    }

    async fn rehash_api_key(
        &self,
        prefix: &str,
        hash: Vec<u8>,
        audit: AuditEvent,
    ) -> Result<(), StoreError> {
        self.wrote(self.inner.rehash_api_key(prefix, hash, audit).await)
    }

    async fn tag_signing_key(
        &self,
        expected: SigningKeyRecord,
        audit: AuditEvent,
    ) -> Result<(), StoreError> {
        self.wrote(self.inner.tag_signing_key(expected, audit).await)
    }

    async fn insert_checkpoint(&self, checkpoint: CheckpointRecord) -> Result<(), StoreError> {
        // Not a leaf: does not wake the signer (which is the only caller).
        self.inner.insert_checkpoint(checkpoint).await
    }

    async fn list_checkpoints(&self) -> Result<Vec<CheckpointRecord>, StoreError> {
        self.inner.list_checkpoints().await
    }

    async fn audit_len(&self) -> Result<u64, StoreError> {
        self.inner.audit_len().await
    }

    async fn insert_api_key(
        &self,
        key: NewApiKey,
        audit: AuditEvent,
    ) -> Result<ApiKeyRecord, StoreError> {
        self.wrote(self.inner.insert_api_key(key, audit).await)
    }

    async fn find_api_key(&self, prefix: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.inner.find_api_key(prefix).await
    }

    async fn touch_api_key(&self, prefix: &str, at: OffsetDateTime) -> Result<(), StoreError> {
        // Not audited, no leaf.
        self.inner.touch_api_key(prefix, at).await
    }

    async fn revoke_api_key(
        &self,
        prefix: &str,
        audit: AuditEvent,
    ) -> Result<ApiKeyRecord, StoreError> {
        self.wrote(self.inner.revoke_api_key(prefix, audit).await)
    }

    async fn list_api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.inner.list_api_keys().await
    }

    async fn insert_signing_key(
        &self,
        key: SigningKeyRecord,
        audit: AuditEvent,
    ) -> Result<(), StoreError> {
        self.wrote(self.inner.insert_signing_key(key, audit).await)
    }

    async fn set_signing_key_status(
        &self,
        key_id: &str,
        status: SigningKeyStatus,
        reason: Option<String>,
        audit: AuditEvent,
    ) -> Result<SigningKeyRecord, StoreError> {
        self.wrote(
            self.inner
                .set_signing_key_status(key_id, status, reason, audit)
                .await,
        )
    }

    async fn list_signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError> {
        self.inner.list_signing_keys().await
    }
}

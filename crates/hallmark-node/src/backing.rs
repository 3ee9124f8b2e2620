//! The node's ports (`KeyLookup`, `AuditSink`) implemented over the store, and API-key
//! creation (the store keeps the lookup prefix and the hash, never the key).

use crate::apikey::{ApiKey, KeyHash, ParsedKey, RandomnessError, Scope};
use crate::audit::{detail, AuditSink, BoxFuture, SecurityEvent};
use crate::auth::{KeyLookup, LookupError, StoredKey};
use crate::cache::{ApiKeyCache, API_KEY_TTL};
use hallmark_core::integrity::IntegrityKeys;
use hallmark_core::tlog::event::{Action, EventError};
use hallmark_store::{ApiKeyHashScheme, ApiKeyRecord, AuditEvent, NewApiKey, Store, StoreError};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use uuid::Uuid;

/// The stable id of an API key, derived from its lookup prefix (the store keys API keys by
/// prefix; principals and audit events carry this id).
pub fn key_uuid(prefix: &str) -> Uuid {
    let digest = Sha256::digest(format!("hallmark-api-key-id:{prefix}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// How stale `last_used_at` may be: a key used again within this interval is not written
/// again (one database write per key per interval instead of one per request).
pub const LAST_USED_RESOLUTION: time::Duration = time::Duration::seconds(60);

/// `KeyLookup` over the store. Stored hashes are keyed with the node's API-key subkey; a
/// key still stored under the legacy unkeyed hash is accepted by that hash and rehashed on
/// its first successful use (`api-key.rehashed`).
pub struct StoreKeys {
    store: Arc<dyn Store>,
    integrity: Arc<IntegrityKeys>,
    /// Keys found with a legacy hash: key id → the keyed hash to store once one of them is
    /// presented correctly (`None` until then).
    legacy: Mutex<HashMap<Uuid, Option<KeyHash>>>,
    /// Keys found recently (see [`crate::cache::API_KEY_TTL`]); `None`: always read.
    cache: Option<Arc<ApiKeyCache>>,
    /// Key id → (lookup prefix, last `last_used_at` known written), filled by `find` so that
    /// `mark_used` can reach the row and skip redundant writes.
    prefixes: Mutex<HashMap<Uuid, (String, Option<OffsetDateTime>)>>,
}

impl StoreKeys {
    /// Wraps a store; `integrity` keys the stored hashes.
    pub fn new(store: Arc<dyn Store>, integrity: Arc<IntegrityKeys>) -> Self {
        StoreKeys {
            store,
            integrity,
            legacy: Mutex::new(HashMap::new()),
            cache: None,
            prefixes: Mutex::new(HashMap::new()),
        }
    }

    /// Wraps a store, keeping keys it finds in `cache` for at most
    /// [`crate::cache::API_KEY_TTL`] (the node drops an entry when it revokes that key).
    pub fn with_cache(
        store: Arc<dyn Store>,
        cache: Arc<ApiKeyCache>,
        integrity: Arc<IntegrityKeys>,
    ) -> Self {
        StoreKeys {
            cache: Some(cache),
            ..StoreKeys::new(store, integrity)
        }
    }

    fn legacy(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Option<KeyHash>>> {
        match self.legacy.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn prefixes(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<Uuid, (String, Option<OffsetDateTime>)>> {
        match self.prefixes.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }
}

/// Converts a stored row into what the authenticator needs; `None` for a corrupt row
/// (treated as unknown: fail closed).
pub fn stored_key(record: &ApiKeyRecord) -> Option<StoredKey> {
    let hash: [u8; 32] = record.hash.as_slice().try_into().ok()?;
    let scope: Scope = record.scope.parse().ok()?;
    Some(StoredKey {
        key_id: key_uuid(&record.prefix),
        hash: KeyHash::from_bytes(hash),
        scope,
        expires_at: record.expires_at,
        revoked_at: record.revoked_at,
    })
}

impl KeyLookup for StoreKeys {
    fn find<'a>(
        &'a self,
        lookup_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<StoredKey>, LookupError>> {
        Box::pin(async move {
            let cache = self.cache.as_deref();
            let lookup = lookup_id.to_string();
            if let Some(key) = cache.and_then(|c| c.get(&lookup, API_KEY_TTL)) {
                return Ok(Some(key));
            }
            let generation = cache.map(ApiKeyCache::generation);
            let record = self
                .store
                .find_api_key(lookup_id)
                .await
                .map_err(|e| LookupError(e.to_string()))?;
            let Some(record) = record else {
                return Ok(None);
            };
            let key = stored_key(&record);
            if let Some(k) = &key {
                if record.hash_scheme == ApiKeyHashScheme::LegacySha256 {
                    self.legacy().entry(k.key_id).or_insert(None);
                } else {
                    // Rehashed meanwhile (perhaps by another node): the keyed hash counts.
                    self.legacy().remove(&k.key_id);
                }
                let mut map = self.prefixes();
                if map.len() > 10_000 {
                    map.clear();
                }
                let known = map
                    .get(&k.key_id)
                    .and_then(|(_, t)| *t)
                    .max(record.last_used_at);
                map.insert(k.key_id, (record.prefix.clone(), known));
                drop(map);
                if let (Some(c), Some(g)) = (cache, generation) {
                    c.insert(lookup, k.clone(), g);
                }
            }
            Ok(key)
        })
    }

    fn verify(&self, stored: &StoredKey, presented: &ParsedKey) -> bool {
        // Both hashes, whichever the row has: the same work for every key.
        let keyed = presented.keyed_hash(&self.integrity);
        let legacy = presented.hash();
        let mut map = self.legacy();
        match map.get_mut(&stored.key_id) {
            Some(pending) => {
                let ok: bool = legacy.ct_eq(&stored.hash).into();
                if ok {
                    *pending = Some(keyed);
                }
                ok
            }
            None => keyed.ct_eq(&stored.hash).into(),
        }
    }

    fn mark_used(
        &self,
        key_id: Uuid,
        at: OffsetDateTime,
    ) -> BoxFuture<'_, Result<(), LookupError>> {
        Box::pin(async move {
            self.rehash_if_legacy(key_id, at).await;
            let prefix = {
                let mut map = self.prefixes();
                match map.get_mut(&key_id) {
                    Some((_, Some(last))) if at - *last < LAST_USED_RESOLUTION => None,
                    Some((prefix, last)) => {
                        *last = Some(at);
                        Some(prefix.clone())
                    }
                    None => None,
                }
            };
            match prefix {
                Some(p) => self
                    .store
                    .touch_api_key(&p, at)
                    .await
                    .map_err(|e| LookupError(e.to_string())),
                None => Ok(()),
            }
        })
    }
}

impl StoreKeys {
    /// Stores the keyed hash of a legacy key that was just presented correctly.
    async fn rehash_if_legacy(&self, key_id: Uuid, at: OffsetDateTime) {
        let Some(hash) = self.legacy().get(&key_id).copied().flatten() else {
            return;
        };
        let Some(prefix) = self.prefixes().get(&key_id).map(|(p, _)| p.clone()) else {
            return;
        };
        let mut audit = AuditEvent::of(at, "node", Action::ApiKeyRehashed);
        audit.subject = Some(prefix.clone());
        let rehashed = ApiKeyRehashed {
            key_id,
            scheme: "hmac-sha256",
        };
        audit.detail = match detail(Action::ApiKeyRehashed, &rehashed) {
            Ok(d) => d,
            Err(e) => {
                // The legacy hash keeps working; the next use tries again.
                tracing::error!(target: "hallmark::audit", error = %e, "could not write the api-key.rehashed audit event");
                return;
            }
        };
        match self
            .store
            .rehash_api_key(&prefix, hash.as_bytes().to_vec(), audit)
            .await
        {
            Ok(()) | Err(StoreError::Conflict(_)) => {
                // Rehashed (here or by another node): from now on the keyed hash counts.
                self.legacy().remove(&key_id);
                if let Some(c) = &self.cache {
                    c.invalidate(&prefix);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, key = %prefix, "could not rehash a legacy API key; will retry");
            }
        }
    }
}

/// `AuditSink` over the store: security events become audit events (and a log line).
pub struct StoreAudit {
    store: Arc<dyn Store>,
}

impl StoreAudit {
    /// Wraps a store.
    pub fn new(store: Arc<dyn Store>) -> Self {
        StoreAudit { store }
    }
}

/// The audit action of aggregated refusal counts that got no row of their own.
pub const REFUSALS_FOLDED: &str = Action::RefusalsFolded.as_str();

/// The detail of `api-key.rehashed` (snake case, as it has always been written).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ApiKeyRehashed {
    /// The key's id.
    pub key_id: Uuid,
    /// The hash now stored (`hmac-sha256`).
    pub scheme: &'static str,
}

/// The detail of `api-key.created` (snake case, as it has always been written).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKeyCreated<'a> {
    /// The key's id.
    pub key_id: Uuid,
    /// `read`, `write` or `admin`.
    pub scope: &'static str,
    /// The operator's label.
    pub label: &'a str,
    /// When the key stops working (RFC 3339), `null` for never.
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
}

/// The detail of a security event's audit row: the event as it serialises, with `count: 1`
/// on the row of a refused request.
#[derive(Debug, Clone, Serialize)]
pub struct SecurityDetail<'a> {
    /// The event (`event` names its kind).
    #[serde(flatten)]
    pub event: &'a SecurityEvent,
    /// 1 on the row of one refused request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

/// The audit event recorded for a security event. Rows about refused requests carry a
/// `count` in their detail (1 for the event itself, the number of repeats for a
/// [`SecurityEvent::Repeated`] or [`SecurityEvent::RefusalsFolded`]), so the refusals a node
/// saw are the sum of the counts. Its error if the detail does not serialise (a time outside
/// RFC 3339).
pub fn security_audit_event(event: &SecurityEvent) -> Result<AuditEvent, EventError> {
    let (at, actor, action, subject) = match event {
        SecurityEvent::AuthFailed {
            at,
            client,
            key_lookup_id,
            ..
        } => (
            *at,
            client_actor(*client),
            Action::AuthFailed,
            key_lookup_id.clone(),
        ),
        SecurityEvent::AuthThrottled { at, client, .. } => {
            (*at, client_actor(*client), Action::AuthThrottled, None)
        }
        SecurityEvent::RateLimited {
            at, client, key_id, ..
        } => (
            *at,
            client_actor(*client),
            Action::RateLimited,
            key_id.map(|k| k.to_string()),
        ),
        SecurityEvent::AdminLogin {
            at,
            client,
            username,
        } => (
            *at,
            client_actor(*client),
            Action::AuthAdminLogin,
            Some(username.clone()),
        ),
        SecurityEvent::Repeated {
            kind,
            client,
            last_at,
            ..
        } => (*last_at, client_actor(*client), kind.action(), None),
        SecurityEvent::RefusalsFolded { last_at, .. } => {
            (*last_at, "node".to_string(), Action::RefusalsFolded, None)
        }
    };
    let mut e = AuditEvent::of(at, &actor, action);
    e.subject = subject;
    let security = SecurityDetail {
        event,
        count: event.refusal().map(|_| 1),
    };
    e.detail = detail(action, &security)?;
    Ok(e)
}

fn client_actor(client: std::net::IpAddr) -> String {
    format!("client:{client}")
}

impl AuditSink for StoreAudit {
    fn record(&self, event: SecurityEvent) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let audit = match security_audit_event(&event) {
                Ok(audit) => audit,
                Err(e) => {
                    tracing::error!(target: "hallmark::audit", error = %e, ?event, "could not write a security audit event");
                    return;
                }
            };
            if matches!(event, SecurityEvent::AdminLogin { .. }) {
                tracing::info!(target: "hallmark::audit", action = %audit.action, detail = %audit.detail);
            } else {
                tracing::warn!(target: "hallmark::audit", action = %audit.action, detail = %audit.detail);
            }
            if let Err(e) = self.store.append_audit(audit).await {
                tracing::error!(target: "hallmark::audit", error = %e, "could not store audit event");
            }
        })
    }
}

/// Why an API key could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateKeyError {
    /// No randomness.
    #[error(transparent)]
    Randomness(#[from] RandomnessError),
    /// The store refused.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The audit detail did not serialise (an expiry outside RFC 3339).
    #[error(transparent)]
    Event(#[from] EventError),
}

/// Creates an API key: generated here, stored as lookup prefix + hash with its audit event
/// in one transaction. The returned `ApiKey` is the only copy of the secret.
pub async fn create_api_key(
    store: &dyn Store,
    integrity: &IntegrityKeys,
    scope: Scope,
    label: &str,
    expires_at: Option<OffsetDateTime>,
    actor: &str,
    now: OffsetDateTime,
) -> Result<(ApiKey, ApiKeyRecord), CreateKeyError> {
    let key = ApiKey::generate_os(scope)?;
    let mut audit = AuditEvent::of(now, actor, Action::ApiKeyCreated);
    audit.subject = Some(key.lookup_id().to_string());
    let created = ApiKeyCreated {
        key_id: key_uuid(key.lookup_id()),
        scope: scope.as_str(),
        label,
        expires_at,
    };
    audit.detail = detail(Action::ApiKeyCreated, &created)?;
    let record = store
        .insert_api_key(
            NewApiKey {
                prefix: key.lookup_id().to_string(),
                hash: key.keyed_hash(integrity).as_bytes().to_vec(),
                scope: scope.as_str().to_string(),
                label: label.to_string(),
                expires_at,
            },
            audit,
        )
        .await?;
    Ok((key, record))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use hallmark_store::SqliteStore;
    use time::macros::datetime;

    /// `last_used_at` is written on first use, not again within the resolution, and again
    /// after it (a real SQLite store).
    #[tokio::test]
    async fn last_used_is_written_at_most_once_per_resolution() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(dir.path().join("h.db")).await.unwrap());
        let t0 = datetime!(2026-11-22 10:00 UTC);
        store
            .insert_api_key(
                NewApiKey {
                    prefix: "abcd1234".into(),
                    hash: vec![7; 32],
                    scope: "write".into(),
                    label: "t".into(),
                    expires_at: None,
                },
                AuditEvent::new(t0, "admin:test", "api-key.created"),
            )
            .await
            .unwrap();
        let integrity = Arc::new(IntegrityKeys::derive(&[1; 32]).unwrap());
        let keys = StoreKeys::new(Arc::clone(&store), Arc::clone(&integrity));
        let last = || async {
            store
                .find_api_key("abcd1234")
                .await
                .unwrap()
                .unwrap()
                .last_used_at
        };
        let k = keys.find("abcd1234").await.unwrap().unwrap();
        keys.mark_used(k.key_id, t0).await.unwrap();
        assert_eq!(last().await, Some(t0));
        keys.mark_used(k.key_id, t0 + time::Duration::seconds(59))
            .await
            .unwrap();
        assert_eq!(last().await, Some(t0), "no write within the resolution");
        let t2 = t0 + time::Duration::seconds(61);
        keys.mark_used(k.key_id, t2).await.unwrap();
        assert_eq!(last().await, Some(t2));
        // A fresh lookup (e.g. another node process) starts from the stored value.
        let other = StoreKeys::new(Arc::clone(&store), integrity);
        let k = other.find("abcd1234").await.unwrap().unwrap();
        other
            .mark_used(k.key_id, t2 + time::Duration::seconds(1))
            .await
            .unwrap();
        assert_eq!(last().await, Some(t2));
    }
}

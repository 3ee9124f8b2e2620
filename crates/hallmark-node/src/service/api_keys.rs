//! API keys: the list, creation (the key is returned once; only its keyed hash is stored)
//! and revocation (never of the key making the request).

use super::{actor, events, now, Service, ServiceError};
use crate::apikey::{ApiKey, Scope};
use crate::auth::Principal;
use crate::backing::{create_api_key, key_uuid, CreateKeyError};
use hallmark_store::ApiKeyRecord;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A new API key: the key itself (shown once) and its stored metadata.
pub struct NewKey {
    /// The key.
    pub key: ApiKey,
    /// Its record.
    pub record: ApiKeyRecord,
}

impl Service<'_> {
    /// Every API key (revoked and expired ones included).
    pub async fn api_keys(&self) -> Result<Vec<ApiKeyRecord>, ServiceError> {
        Ok(self.app.store.list_api_keys().await?)
    }

    /// Creates an API key of `scope` (`read`, `write` or `admin`) with a label of 1 to 200
    /// characters, expiring at `expires_at` (RFC 3339, in the future) if given.
    pub async fn create_api_key(
        &self,
        who: &Principal,
        scope: &str,
        label: &str,
        expires_at: Option<&str>,
    ) -> Result<NewKey, ServiceError> {
        let scope: Scope = scope
            .parse()
            .map_err(|e| ServiceError::Unprocessable(format!("{e}")))?;
        let label = label.trim();
        if label.is_empty() || label.chars().count() > 200 {
            return Err(ServiceError::Unprocessable(
                "`label` must be 1 to 200 characters".into(),
            ));
        }
        let expires_at = match expires_at {
            None => None,
            Some(s) => {
                let t = OffsetDateTime::parse(s, &Rfc3339).map_err(|_| {
                    ServiceError::Unprocessable("`expiresAt` must be an RFC 3339 timestamp".into())
                })?;
                if t <= now() {
                    return Err(ServiceError::Unprocessable(
                        "`expiresAt` must be in the future".into(),
                    ));
                }
                Some(t)
            }
        };
        let app = self.app;
        let (key, record) = create_api_key(
            app.store.as_ref(),
            &app.integrity,
            scope,
            label,
            expires_at,
            &actor(who),
            now(),
        )
        .await
        .map_err(|e| match e {
            CreateKeyError::Store(e) => e.into(),
            CreateKeyError::Randomness(e) => {
                ServiceError::internal("no randomness for an API key", e)
            }
            CreateKeyError::Event(e) => e.into(),
        })?;
        Ok(NewKey { key, record })
    }

    /// Revokes the API key `id` (its lookup prefix, as listed, or its id). A key cannot
    /// revoke itself, so a leaked key cannot lock out its owner's audit trail.
    pub async fn revoke_api_key(
        &self,
        who: &Principal,
        id: &str,
    ) -> Result<ApiKeyRecord, ServiceError> {
        let app = self.app;
        let record = app
            .store
            .list_api_keys()
            .await?
            .into_iter()
            .find(|k| k.prefix == id || key_uuid(&k.prefix).to_string() == id)
            .ok_or(ServiceError::NotFound)?;
        if who.key_id() == Some(key_uuid(&record.prefix)) {
            return Err(ServiceError::Conflict(
                "an API key cannot revoke itself; revoke it with another admin key or the \
                 admin login, so that a leaked key cannot lock out its owner's audit trail"
                    .into(),
            ));
        }
        let event = events::api_key_revoked(who, &record.prefix, key_uuid(&record.prefix))?;
        let revoked = app.store.revoke_api_key(&record.prefix, event).await;
        // After the commit (or a failure): this node's next request with the key reads it again.
        app.api_keys.invalidate(&record.prefix);
        Ok(revoked?)
    }
}

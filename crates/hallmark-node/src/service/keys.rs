//! Signing keys: the list, rotation and revocation (custody first, then its metadata copied
//! into the store with audit events), and the one place a passport signer is chosen.

use super::{actor, now, Reason, Service, ServiceError};
use crate::auth::Principal;
use hallmark_core::keys::{KeyId, Signer};
use hallmark_keys::KeyEvent;
use hallmark_store::SigningKeyRecord;

/// The signing keys' public metadata and whether signing works now.
#[derive(Debug, Clone)]
pub struct SigningKeys {
    /// Whether the backend can sign now (an HSM may be unavailable).
    pub available: bool,
    /// The keys, as stored.
    pub keys: Vec<SigningKeyRecord>,
}

impl Service<'_> {
    /// The signer of passport credentials: the current passport-signing key. (For an
    /// unavailable HSM, a signer that names the last published key and refuses to sign, so
    /// the publish fails with [`ServiceError::SigningUnavailable`].)
    pub async fn passport_signer(&self) -> Result<Box<dyn Signer>, ServiceError> {
        Ok(self.app.passport_signer().await?)
    }

    /// Every signing key's public metadata.
    pub async fn signing_keys(&self) -> Result<SigningKeys, ServiceError> {
        let keys = self.app.store.list_signing_keys().await?;
        Ok(SigningKeys {
            available: self.app.signing_available(),
            keys,
        })
    }

    /// Rotates the passport-signing key (the old one is retired, still in the DID document).
    pub async fn rotate_signing_key(&self, who: &Principal) -> Result<KeyEvent, ServiceError> {
        let event = self.app.rotate_passport_key(now())?;
        self.app.sync_signing_keys(&actor(who), now()).await?;
        Ok(event)
    }

    /// Revokes a signing key (it leaves the DID document).
    pub async fn revoke_signing_key(
        &self,
        who: &Principal,
        key: &KeyId,
        reason: Reason,
    ) -> Result<KeyEvent, ServiceError> {
        let reason = reason.into_inner().unwrap_or_default();
        let event = self.app.revoke_key(key, &reason, now())?;
        self.app.sync_signing_keys(&actor(who), now()).await?;
        Ok(event)
    }
}

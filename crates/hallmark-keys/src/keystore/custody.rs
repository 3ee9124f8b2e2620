//! [`KeyCustody`] over an unlocked file keystore, shared by the node's tasks: lifecycle
//! changes take the write lock (and write the file), signers and reads the read lock. The
//! keystore is always available.

use super::Keystore;
use crate::{Availability, Backend, KeyCustody, KeyEvent, KeyInfo, KeysError, Purpose};
use ed25519_dalek::VerifyingKey;
use hallmark_core::did::PublishedKey;
use hallmark_core::integrity::IntegrityKeys;
use hallmark_core::keys::{KeyId, Signer};
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use time::OffsetDateTime;

/// An unlocked keystore as the node's key custody.
pub struct KeystoreCustody {
    path: PathBuf,
    keystore: RwLock<Keystore>,
}

impl KeystoreCustody {
    /// Custody over an unlocked keystore.
    pub fn new(keystore: Keystore) -> Self {
        KeystoreCustody {
            path: keystore.path().to_path_buf(),
            keystore: RwLock::new(keystore),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Keystore> {
        self.keystore.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Keystore> {
        self.keystore
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for KeystoreCustody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeystoreCustody")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl KeyCustody for KeystoreCustody {
    fn backend(&self) -> Backend {
        Backend::File
    }

    fn availability(&self) -> Availability {
        Availability::Available
    }

    fn signer(
        &self,
        purpose: Purpose,
        _last_known: Option<VerifyingKey>,
    ) -> Result<Box<dyn Signer>, KeysError> {
        Ok(Box::new(self.read().signer(purpose)?))
    }

    fn list(&self) -> Result<Vec<KeyInfo>, KeysError> {
        Ok(self.read().list())
    }

    fn published_keys(&self, purpose: Purpose) -> Result<Vec<PublishedKey>, KeysError> {
        Ok(self.read().published_keys(purpose))
    }

    fn ensure_current(
        &self,
        purpose: Purpose,
        now: OffsetDateTime,
    ) -> Result<Option<KeyEvent>, KeysError> {
        let missing = matches!(
            self.read().signer(purpose),
            Err(KeysError::NoCurrentKey(..))
        );
        if !missing {
            return Ok(None);
        }
        self.write().rotate(purpose, now).map(Some)
    }

    fn rotate(&self, purpose: Purpose, now: OffsetDateTime) -> Result<KeyEvent, KeysError> {
        self.write().rotate(purpose, now)
    }

    fn revoke(&self, id: &KeyId, reason: &str, now: OffsetDateTime) -> Result<KeyEvent, KeysError> {
        self.write().revoke(id, reason, now)
    }

    fn integrity_keys(&self) -> Result<Arc<IntegrityKeys>, KeysError> {
        Ok(Arc::new(self.read().integrity_keys()?))
    }
}

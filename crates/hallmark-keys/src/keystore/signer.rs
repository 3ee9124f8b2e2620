//! The keystore's signers: a decrypted key in memory ([`Slot`]) and the [`PurposeSigner`]
//! handed to the rest of Hallmark for it. The key never leaves the slot; a signer stops
//! signing as soon as its key is rotated out or revoked.

use crate::{Backend, Purpose};
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use hallmark_core::keys::{KeyId, Signer, SignerError};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A decrypted key, shared between the keystore and the signers handed out for it.
pub(crate) struct Slot {
    id: KeyId,
    purpose: Purpose,
    key: SigningKey,
    /// Whether the key is still current; cleared on rotation and revocation so a signer
    /// obtained earlier stops signing.
    usable: AtomicBool,
}

impl Slot {
    /// A slot for a decrypted key; `usable` when it is the current key of its purpose.
    pub(crate) fn new(id: KeyId, purpose: Purpose, key: SigningKey, usable: bool) -> Self {
        Slot {
            id,
            purpose,
            key,
            usable: AtomicBool::new(usable),
        }
    }

    /// Allow or stop signing with this key (rotation, revocation).
    pub(crate) fn set_usable(&self, usable: bool) {
        self.usable.store(usable, Ordering::SeqCst);
    }
}

impl fmt::Debug for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slot")
            .field("id", &self.id)
            .field("purpose", &self.purpose)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
enum KeyHandle {
    File(Arc<Slot>),
}

/// A signer bound to one [`Purpose`]: the only way the rest of Hallmark gets signatures.
///
/// Obtained from [`super::Keystore::signer`], which returns the current key of exactly that
/// purpose. Once its key is rotated out or revoked, [`Signer::sign`] fails with
/// [`SignerError::NotUsable`].
#[derive(Debug, Clone)]
pub struct PurposeSigner {
    purpose: Purpose,
    backend: Backend,
    handle: KeyHandle,
}

impl PurposeSigner {
    /// A signer for `slot`'s key, bound to `purpose`.
    pub(crate) fn new(purpose: Purpose, slot: Arc<Slot>) -> Self {
        PurposeSigner {
            purpose,
            backend: Backend::File,
            handle: KeyHandle::File(slot),
        }
    }

    /// The purpose this signer is bound to.
    pub fn purpose(&self) -> Purpose {
        self.purpose
    }
    /// Where the private key lives.
    pub fn backend(&self) -> Backend {
        self.backend
    }
}

impl Signer for PurposeSigner {
    fn verifying_key(&self) -> VerifyingKey {
        match &self.handle {
            KeyHandle::File(slot) => slot.key.verifying_key(),
        }
    }

    fn sign(&self, message: &[u8]) -> Result<Signature, SignerError> {
        match &self.handle {
            KeyHandle::File(slot) => {
                if slot.purpose != self.purpose {
                    return Err(SignerError::NotUsable(format!(
                        "key {} is a {} key, not {}",
                        slot.id,
                        slot.purpose.as_str(),
                        self.purpose.as_str()
                    )));
                }
                if !slot.usable.load(Ordering::SeqCst) {
                    return Err(SignerError::NotUsable(format!(
                        "key {} is no longer the current {} key",
                        slot.id,
                        slot.purpose.as_str()
                    )));
                }
                Ok(ed25519_dalek::Signer::sign(&slot.key, message))
            }
        }
    }

    fn key_id(&self) -> KeyId {
        match &self.handle {
            KeyHandle::File(slot) => slot.id.clone(),
        }
    }
}

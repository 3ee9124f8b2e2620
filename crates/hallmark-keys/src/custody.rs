//! The key-custody port: what the node needs from wherever its keys live, whichever backend
//! that is. Implemented by the file keystore ([`crate::keystore::KeystoreCustody`]) and the
//! PKCS#11 token ([`crate::hsm::HsmCustody`]); the node holds one `Arc<dyn KeyCustody>` and
//! never asks which.
//!
//! The port is synchronous: the keystore works in memory (and writes its file on a
//! lifecycle change), and the HSM's calls are serialised through one blocking session
//! lock, sub-millisecond per signature (see [`crate::hsm`]); they are driven directly from
//! the node's handlers today, as before this port existed.

use crate::{Backend, KeyEvent, KeyInfo, KeysError, Purpose};
use ed25519_dalek::VerifyingKey;
use hallmark_core::did::PublishedKey;
use hallmark_core::integrity::IntegrityKeys;
use hallmark_core::keys::{decode_public_key_multibase, KeyId, Signer};
use std::fmt;
use std::sync::Arc;
use time::OffsetDateTime;

/// Whether custody can sign now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    /// Keys can be used.
    Available,
    /// Custody cannot be reached (an HSM that was down or refused login at start-up): every
    /// signature fails, lifecycle operations fail with [`KeysError::Unavailable`], and the
    /// node serves what it can without signing. There is no fallback.
    Unavailable {
        /// Why (never secret).
        reason: String,
    },
}

impl Availability {
    /// Whether keys can be used.
    pub fn is_available(&self) -> bool {
        matches!(self, Availability::Available)
    }
}

/// Key custody, as the node uses it: signers bound to one purpose, key metadata, rotation
/// and revocation, the row-authentication keys, and whether custody is reachable. Object
/// safe; private key bytes never cross it.
pub trait KeyCustody: Send + Sync + fmt::Debug {
    /// Where the private keys live.
    fn backend(&self) -> Backend;

    /// Whether custody can sign now.
    fn availability(&self) -> Availability;

    /// A signer for the current key of `purpose` (the only way to get signatures). It
    /// refuses to sign once its key is rotated out or revoked.
    ///
    /// When custody is unavailable, `last_known` (the public key the node last published
    /// for the purpose) gives a signer that reports that key and fails every signature with
    /// [`hallmark_core::keys::SignerError::Unavailable`]; without it, the unavailability is
    /// the error. Available custody ignores `last_known`.
    fn signer(
        &self,
        purpose: Purpose,
        last_known: Option<VerifyingKey>,
    ) -> Result<Box<dyn Signer>, KeysError>;

    /// Public metadata of every key custody holds.
    fn list(&self) -> Result<Vec<KeyInfo>, KeysError>;

    /// The keys of `purpose` with their status, for
    /// [`hallmark_core::did::DidDocument::build`] (which publishes current and retired keys
    /// and leaves revoked ones out).
    fn published_keys(&self, purpose: Purpose) -> Result<Vec<PublishedKey>, KeysError> {
        self.list()?
            .into_iter()
            .filter(|k| k.purpose == purpose)
            .map(|k| {
                decode_public_key_multibase(&k.public_key_multibase)
                    .map(|public_key| PublishedKey {
                        public_key,
                        status: k.status,
                    })
                    .map_err(|e| KeysError::Token(format!("bad public key of {}: {e}", k.id)))
            })
            .collect()
    }

    /// Create a current key for `purpose` if it has none (a keystore or token set up before
    /// the purpose was used, or after its key was revoked). `None` when a current key exists,
    /// or when custody is unavailable (nothing can be created then; see
    /// [`KeyCustody::availability`]).
    fn ensure_current(
        &self,
        purpose: Purpose,
        now: OffsetDateTime,
    ) -> Result<Option<KeyEvent>, KeysError>;

    /// Replace the current key of `purpose` with a new one; the old one is retired (still
    /// published). What happens when the purpose has no current key is the backend's: the
    /// keystore generates one, the token refuses ([`KeysError::NoCurrentKey`]).
    fn rotate(&self, purpose: Purpose, now: OffsetDateTime) -> Result<KeyEvent, KeysError>;

    /// Revoke a key: it can no longer sign and leaves the DID document.
    fn revoke(&self, id: &KeyId, reason: &str, now: OffsetDateTime) -> Result<KeyEvent, KeysError>;

    /// The node's row-authentication keys ([`hallmark_core::integrity`]): from the
    /// keystore's sealed node identity, or for the HSM from the configured node secret (the
    /// token does not have to be reachable for the node to check its own rows).
    fn integrity_keys(&self) -> Result<Arc<IntegrityKeys>, KeysError>;
}

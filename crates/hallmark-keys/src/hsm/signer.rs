//! [`HsmSigner`]: the [`Signer`] handed out for a token key. Before every signature it
//! re-checks in the token that its key is still the current key of its purpose, and it
//! verifies each signature before returning it. A signer of an unavailable HSM refuses
//! every signature.

use super::objects::find_one;
use super::session::Inner;
use super::Hsm;
use crate::{Backend, KeysError, Purpose};
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, ObjectClass};
use ed25519_dalek::{Signature, VerifyingKey};
use hallmark_core::did::KeyStatus;
use hallmark_core::keys::{KeyId, Signer, SignerError};
use std::fmt;

/// A [`Signer`] for one purpose backed by the HSM (or by an unavailable HSM, in which case
/// every signature fails).
#[derive(Clone)]
pub struct HsmSigner {
    pub(super) purpose: Purpose,
    pub(super) verifying_key: VerifyingKey,
    pub(super) inner: SignerInner,
}

#[derive(Clone)]
pub(super) enum SignerInner {
    Ready { hsm: Hsm, label: String, id: KeyId },
    Unavailable { reason: String },
}

impl fmt::Debug for HsmSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("HsmSigner");
        d.field("purpose", &self.purpose)
            .field("key", &KeyId::of(&self.verifying_key));
        match &self.inner {
            SignerInner::Ready { label, .. } => d.field("label", label),
            SignerInner::Unavailable { reason } => d.field("unavailable", reason),
        };
        d.finish()
    }
}

impl HsmSigner {
    /// The purpose this signer signs for.
    pub fn purpose(&self) -> Purpose {
        self.purpose
    }

    /// The token object label of the key (`None` when the HSM is unavailable).
    pub fn label(&self) -> Option<&str> {
        match &self.inner {
            SignerInner::Ready { label, .. } => Some(label),
            SignerInner::Unavailable { .. } => None,
        }
    }
}

impl Signer for HsmSigner {
    fn verifying_key(&self) -> VerifyingKey {
        self.verifying_key
    }

    fn sign(&self, message: &[u8]) -> Result<Signature, SignerError> {
        let (hsm, label, id) = match &self.inner {
            SignerInner::Unavailable { reason } => {
                return Err(SignerError::Unavailable(format!(
                    "HSM unavailable: {reason}"
                )))
            }
            SignerInner::Ready { hsm, label, id } => (hsm, label, id),
        };
        let bytes = hsm
            .inner
            .sign(label, id, self.purpose, message)
            .map_err(KeysError::into_signer_error)?;
        let sig = Signature::from_slice(&bytes).map_err(|_| {
            SignerError::Failed(format!(
                "token returned a {}-byte signature, expected 64",
                bytes.len()
            ))
        })?;
        // Never hand out a signature the token got wrong.
        self.verifying_key
            .verify_strict(message, &sig)
            .map_err(|_| SignerError::Failed("token signature does not verify".into()))?;
        Ok(sig)
    }
}

impl Inner {
    /// Sign with the key labelled `label`, after checking in the token that it is still the
    /// current key `id` of `purpose`.
    fn sign(
        &self,
        label: &str,
        id: &KeyId,
        purpose: Purpose,
        message: &[u8],
    ) -> Result<Vec<u8>, KeysError> {
        self.with_session(|s| {
            let info = self
                .read_records(s)?
                .into_iter()
                .find(|r| r.label == label)
                .ok_or_else(|| KeysError::UnknownKey(id.clone(), Backend::Pkcs11))?
                .info;
            if &info.id != id || info.purpose != purpose {
                return Err(KeysError::Token(format!(
                    "record {label:?} no longer describes key {id}"
                )));
            }
            match info.status {
                KeyStatus::Current => {}
                KeyStatus::Revoked => return Err(KeysError::AlreadyRevoked(id.clone())),
                KeyStatus::Retired => {
                    return Err(KeysError::NoCurrentKey(purpose, Backend::Pkcs11))
                }
            }
            let key = find_one(
                s,
                &[
                    Attribute::Class(ObjectClass::PRIVATE_KEY),
                    Attribute::Label(label.as_bytes().to_vec()),
                ],
            )?
            .ok_or_else(|| KeysError::Token(format!("private key {label:?} is missing")))?;
            s.sign(
                &Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure)),
                key,
                message,
            )
            .map_err(KeysError::ck("C_Sign"))
        })
    }
}

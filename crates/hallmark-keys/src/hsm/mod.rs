//! The PKCS#11 backend: Ed25519 keys generated and used inside an HSM token.
//!
//! # Design
//!
//! * **Keys never exist outside the token.** [`Hsm::generate`] asks the token to generate
//!   an Ed25519 key pair (`CKM_EC_EDWARDS_KEY_PAIR_GEN`, `CKA_EC_PARAMS` = the DER OID
//!   1.3.101.112, falling back to the DER printable string `"edwards25519"` for tokens that
//!   only know the older form). The private key is a token object with `CKA_SENSITIVE=true`,
//!   `CKA_EXTRACTABLE=false`, `CKA_PRIVATE=true`, `CKA_SIGN=true` and nothing else enabled.
//!   Only the public key (`CKA_EC_POINT`, a DER OCTET STRING around the 32 key bytes; raw
//!   32 bytes are accepted too) is read back.
//! * **Naming.** Every object of a key carries `CKA_LABEL = <prefix>:<purpose>:<n>` (`n`
//!   counts up per purpose and is never reused) and the key objects carry `CKA_ID` = the
//!   first 16 bytes of SHA-256 of the public key, so keys can be found again by label or id
//!   with ordinary PKCS#11 tools.
//! * **Status metadata lives in the token**, next to the key: one `CKO_DATA` object per key
//!   (`CKA_APPLICATION = "hallmark"`, `CKA_PRIVATE = true`, same label) whose `CKA_VALUE` is
//!   the key's [`KeyInfo`] as JSON. There is no sidecar file to lose, back up or keep in sync
//!   with the token, and the record can only be read or changed after logging in with the
//!   PIN. If a rotation is interrupted and two keys of one purpose are marked current, the one
//!   with the higher `n` wins and the other is reported as retired. Key objects without a
//!   metadata object (an interrupted generation, or objects made by other tools) are ignored
//!   and never sign.
//! * **Rotation** generates a new current key and marks the old one retired; the old objects
//!   stay in the token for the records. **Revocation** marks the key revoked and then
//!   *destroys its private key object* (a revoked key has no legitimate use, and destroying
//!   it makes "never signs again" a property of the token, not only of our bookkeeping). The
//!   public key object and the metadata record are kept.
//! * **Every signature re-checks status in the token**: an [`HsmSigner`] reads its key's
//!   record before each signature and refuses unless the key is still current for the
//!   signer's purpose, so a rotation or revocation made by another process (the CLI while
//!   the node runs) takes effect at once. Each signature is also verified with
//!   `verify_strict` before it is returned, so a faulty token cannot hand out a bad one.
//! * **Sessions and concurrency.** PKCS#11 login state belongs to the application, not the
//!   session. Each [`Hsm`] opens one read/write session, logs in at connect time and keeps
//!   it behind a `Mutex`; [`Hsm`] and [`HsmSigner`] are `Send + Sync` and can be shared
//!   across threads. In addition, every call into a module is serialised process-wide (one
//!   lock per loaded module), because SoftHSM2 is not reliably thread-safe across sessions
//!   (concurrent EdDSA key generation fails with `CKR_GENERAL_ERROR`, SoftHSMv2 issues #485
//!   and #573, and 2.6.1 can crash under concurrent load, #688; the tests hit both before
//!   the lock). Measured on SoftHSM2 2.6.1, release build, 2 cores: bare `C_Sign` ~0.40 ms
//!   on one session; opening a session per signature (open + find + sign + close) ~0.46 ms;
//!   a full [`HsmSigner::sign`] (status check in the token, `C_Sign`, `verify_strict`)
//!   ~0.55 ms; four threads through one signer ~1.1 ms per signature (serialised). A session
//!   per call buys nothing while calls are serialised anyway; a session pool would only pay
//!   off on a network HSM that signs in parallel (not needed at passport-issuing rates).
//!   If the session is lost (token removed, HSM restarted), one reconnect and login is
//!   attempted before the call fails as unavailable. The module is loaded and
//!   `C_Initialize`d once per process and never unloaded.
//! * **Fail closed.** [`Hsm::connect`] never fails outright: when the module cannot be
//!   loaded, the token is not found, the token lacks Ed25519, or login fails, it returns
//!   [`HsmState::Unavailable`], whose signers fail every signature with
//!   [`hallmark_core::keys::SignerError::Unavailable`]`("HSM unavailable: …")`. The node
//!   can start and serve public reads; it never falls back to a software key (there is no
//!   code path that could).
//! * **The PIN is never printed**: [`HsmConfig`]'s `Debug` redacts it, and no error carries
//!   it.
//!
//! # Layout
//!
//! This module is the lifecycle ([`Hsm`]: connect, generate, find, list, rotate, revoke,
//! signer; [`HsmState`]). The module loading, the process-wide call lock and the session are
//! in `session`, the key-status records in `records`, key-pair generation and the token's
//! key objects in `objects`, the signer in `signer` ([`HsmSigner`]) and the
//! [`crate::KeyCustody`] port over a token in `custody` ([`HsmCustody`]). Errors are
//! [`KeysError`], shared with the file keystore.

mod custody;
mod objects;
mod records;
mod session;
mod signer;

pub use custody::HsmCustody;
pub use objects::{cka_id, ec_point_bytes, ED25519_PARAMS_NAME, ED25519_PARAMS_OID};
pub use signer::HsmSigner;

use crate::{Backend, KeyEvent, KeyInfo, KeysError, Purpose};
use ed25519_dalek::VerifyingKey;
use hallmark_core::did::KeyStatus;
use hallmark_core::keys::KeyId;
use objects::destroy_private;
use records::{current_of, write_record};
use secrecy::SecretString;
use session::Inner;
use signer::SignerInner;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use time::OffsetDateTime;

/// How to reach the token.
#[derive(Clone)]
pub struct HsmConfig {
    /// Path of the vendor's PKCS#11 module (e.g. `/usr/lib/softhsm/libsofthsm2.so`).
    pub module_path: PathBuf,
    /// Label of the token holding Hallmark's keys.
    pub token_label: String,
    /// User PIN. Read it from a secret (env var, file); it is never printed.
    pub pin: SecretString,
    /// Prefix of every object label Hallmark creates (`<prefix>:<purpose>:<n>`), so several
    /// nodes can share one token.
    pub key_label_prefix: String,
}

impl fmt::Debug for HsmConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HsmConfig")
            .field("module_path", &self.module_path)
            .field("token_label", &self.token_label)
            .field("pin", &"[REDACTED]")
            .field("key_label_prefix", &self.key_label_prefix)
            .finish()
    }
}

/// The outcome of [`Hsm::connect`]: a usable HSM, or the reason it is not.
#[derive(Debug)]
pub enum HsmState {
    /// Logged in and ready.
    Ready(Hsm),
    /// Not usable; every signature fails with the reason.
    Unavailable(HsmUnavailable),
}

impl HsmState {
    /// Whether the HSM is usable.
    pub fn is_ready(&self) -> bool {
        matches!(self, HsmState::Ready(_))
    }

    /// The HSM, if ready.
    pub fn ready(&self) -> Option<&Hsm> {
        match self {
            HsmState::Ready(h) => Some(h),
            HsmState::Unavailable(_) => None,
        }
    }

    /// Why the HSM is unavailable, if it is.
    pub fn unavailable_reason(&self) -> Option<&str> {
        match self {
            HsmState::Ready(_) => None,
            HsmState::Unavailable(u) => Some(u.reason()),
        }
    }

    /// A signer for `purpose`.
    ///
    /// When ready, the signer uses the token's current key for the purpose. When unavailable,
    /// `last_known` (the public key the node last published for the purpose) gives a signer
    /// that reports that key and fails every signature with `HSM unavailable: <reason>`;
    /// without it, the unavailability is returned as an error.
    pub fn signer(
        &self,
        purpose: Purpose,
        last_known: Option<VerifyingKey>,
    ) -> Result<HsmSigner, KeysError> {
        match self {
            HsmState::Ready(h) => h.signer(purpose),
            HsmState::Unavailable(u) => match last_known {
                Some(key) => Ok(u.signer(purpose, key)),
                None => Err(u.error()),
            },
        }
    }
}

/// An HSM that could not be reached or logged into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HsmUnavailable {
    reason: String,
}

impl HsmUnavailable {
    /// Why.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The error every operation returns.
    pub fn error(&self) -> KeysError {
        KeysError::unavailable(self.reason.clone())
    }

    /// A signer that reports `public_key` and refuses every signature.
    pub fn signer(&self, purpose: Purpose, public_key: VerifyingKey) -> HsmSigner {
        HsmSigner {
            purpose,
            verifying_key: public_key,
            inner: SignerInner::Unavailable {
                reason: self.reason.clone(),
            },
        }
    }
}

impl fmt::Display for HsmUnavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HSM unavailable: {}", self.reason)
    }
}

/// A logged-in connection to one token. Cheap to clone; clones share the session.
#[derive(Clone)]
pub struct Hsm {
    inner: Arc<Inner>,
}

impl fmt::Debug for Hsm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hsm")
            .field("token_label", &self.inner.token_label)
            .field("key_label_prefix", &self.inner.prefix)
            .finish_non_exhaustive()
    }
}

impl Hsm {
    /// Load the module, find the token and log in. Never fails: problems give
    /// [`HsmState::Unavailable`] with the reason (the PIN is never part of it).
    pub fn connect(config: &HsmConfig) -> HsmState {
        match Self::try_connect(config) {
            Ok(h) => HsmState::Ready(h),
            Err(KeysError::Unavailable { reason }) => {
                HsmState::Unavailable(HsmUnavailable { reason })
            }
            Err(e) => HsmState::Unavailable(HsmUnavailable {
                reason: e.to_string(),
            }),
        }
    }

    /// Like [`Hsm::connect`], as a `Result`.
    pub fn try_connect(config: &HsmConfig) -> Result<Hsm, KeysError> {
        Ok(Hsm {
            inner: Arc::new(Inner::connect(config)?),
        })
    }

    /// Label of the token in use.
    pub fn token_label(&self) -> &str {
        &self.inner.token_label
    }

    /// Generate the first key of `purpose` inside the token. Refuses if the purpose already
    /// has a current key (use [`Hsm::rotate`]).
    pub fn generate(&self, purpose: Purpose, now: OffsetDateTime) -> Result<KeyEvent, KeysError> {
        self.inner.with_session(|s| {
            let records = self.inner.records(s)?;
            if let Some(cur) = current_of(&records, purpose) {
                return Err(KeysError::CurrentKeyExists(purpose, cur.info.id.clone()));
            }
            let info = self.inner.generate_in(s, purpose, now)?;
            Ok(KeyEvent::Generated {
                key: info.id,
                purpose,
                backend: Backend::Pkcs11,
                at: now,
            })
        })
    }

    /// The current key of `purpose`, if any.
    pub fn find(&self, purpose: Purpose) -> Result<Option<KeyInfo>, KeysError> {
        self.inner.with_session(|s| {
            let records = self.inner.records(s)?;
            Ok(current_of(&records, purpose).map(|r| r.info.clone()))
        })
    }

    /// Every Hallmark key in the token (with this node's label prefix), oldest first per
    /// purpose.
    pub fn list(&self) -> Result<Vec<KeyInfo>, KeysError> {
        self.inner
            .with_session(|s| Ok(self.inner.records(s)?.into_iter().map(|r| r.info).collect()))
    }

    /// Generate a new current key for `purpose`; the old one is retired and kept.
    pub fn rotate(&self, purpose: Purpose, now: OffsetDateTime) -> Result<KeyEvent, KeysError> {
        self.inner.with_session(|s| {
            let records = self.inner.records(s)?;
            let old = current_of(&records, purpose)
                .ok_or(KeysError::NoCurrentKey(purpose, Backend::Pkcs11))?
                .clone();
            let new = self.inner.generate_in(s, purpose, now)?;
            let mut info = old.info.clone();
            info.status = KeyStatus::Retired;
            info.retired_at = Some(now);
            write_record(s, &old, &info)?;
            Ok(KeyEvent::Rotated {
                retired: old.info.id,
                current: new.id,
                purpose,
                at: now,
            })
        })
    }

    /// Revoke a key: mark it revoked and destroy its private key object. The public key and
    /// the record stay. A revoked current key leaves its purpose without a current key.
    pub fn revoke(
        &self,
        id: &KeyId,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<KeyEvent, KeysError> {
        self.inner.with_session(|s| {
            let records = self.inner.records(s)?;
            let rec = records
                .iter()
                .find(|r| &r.info.id == id)
                .ok_or_else(|| KeysError::UnknownKey(id.clone(), Backend::Pkcs11))?;
            if rec.info.status == KeyStatus::Revoked {
                // Finish an interrupted revocation, then report it.
                destroy_private(s, &rec.label)?;
                return Err(KeysError::AlreadyRevoked(id.clone()));
            }
            let mut info = rec.info.clone();
            info.status = KeyStatus::Revoked;
            info.revoked_at = Some(now);
            info.revocation_reason = Some(reason.to_string());
            write_record(s, rec, &info)?;
            destroy_private(s, &rec.label)?;
            Ok(KeyEvent::Revoked {
                key: id.clone(),
                purpose: info.purpose,
                reason: reason.to_string(),
                at: now,
            })
        })
    }

    /// A signer bound to `purpose` using its current key. It re-checks in the token before
    /// every signature that the key is still current.
    pub fn signer(&self, purpose: Purpose) -> Result<HsmSigner, KeysError> {
        let (label, info) = self.inner.with_session(|s| {
            let records = self.inner.records(s)?;
            current_of(&records, purpose)
                .map(|r| (r.label.clone(), r.info.clone()))
                .ok_or(KeysError::NoCurrentKey(purpose, Backend::Pkcs11))
        })?;
        let verifying_key = hallmark_core::keys::decode_public_key_multibase(info.id.as_str())
            .map_err(|e| KeysError::Token(format!("bad key id {}: {e}", info.id)))?;
        Ok(HsmSigner {
            purpose,
            verifying_key,
            inner: SignerInner::Ready {
                hsm: self.clone(),
                label,
                id: info.id,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use hallmark_core::keys::{Signer, SignerError};
    use secrecy::ExposeSecret;
    #[test]
    fn config_debug_redacts_pin() {
        let cfg = HsmConfig {
            module_path: "/nonexistent/module.so".into(),
            token_label: "t".into(),
            pin: SecretString::from("s3cr3t-PIN-4711"),
            key_label_prefix: "p".into(),
        };
        let dbg = format!("{cfg:?} {cfg:#?}");
        assert!(!dbg.contains(cfg.pin.expose_secret()), "{dbg}");
        assert!(dbg.contains("REDACTED"));
    }

    #[test]
    fn unavailable_signer_refuses_and_never_falls_back() {
        let u = HsmUnavailable {
            reason: "token gone".into(),
        };
        let key = ed25519_dalek::SigningKey::from_bytes(&[1; 32]).verifying_key();
        let s = u.signer(Purpose::PassportSigning, key);
        assert_eq!(Signer::verifying_key(&s), key);
        assert_eq!(
            s.sign(b"x"),
            Err(SignerError::Unavailable(
                "HSM unavailable: token gone".into()
            ))
        );
        let state = HsmState::Unavailable(u);
        let err = state.signer(Purpose::PassportSigning, None).unwrap_err();
        assert_eq!(err.to_string(), "HSM unavailable: token gone");
    }
}

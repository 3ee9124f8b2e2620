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
//!   [`SignerError::Unavailable`]`("HSM unavailable: …")`. The node can start and serve public
//!   reads; it never falls back to a software key (there is no code path that could).
//! * **The PIN is never printed**: [`HsmConfig`]'s `Debug` redacts it, and no error carries
//!   it.

use crate::{Backend, KeyEvent, KeyInfo, Purpose};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use ed25519_dalek::{Signature, VerifyingKey};
use hallmark_core::did::KeyStatus;
use hallmark_core::keys::{public_key_multibase, KeyId, Signer, SignerError};
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use time::OffsetDateTime;

/// `CKA_EC_PARAMS` for Ed25519 as the DER OID 1.3.101.112 (RFC 8410), the preferred form.
pub const ED25519_PARAMS_OID: [u8; 5] = [0x06, 0x03, 0x2b, 0x65, 0x70];
/// `CKA_EC_PARAMS` for Ed25519 as the DER PrintableString `"edwards25519"`, the older form
/// some tokens (and `pkcs11-tool`) use.
pub const ED25519_PARAMS_NAME: [u8; 14] = [
    0x13, 0x0c, b'e', b'd', b'w', b'a', b'r', b'd', b's', b'2', b'5', b'5', b'1', b'9',
];

/// `CKA_APPLICATION` of Hallmark's key-status records.
const APPLICATION: &[u8] = b"hallmark";

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

/// Errors of the HSM backend. None of them carries the PIN or key material.
#[derive(Debug, thiserror::Error)]
pub enum HsmError {
    /// The HSM cannot be used: module missing, token absent, login refused, session lost.
    #[error("HSM unavailable: {reason}")]
    Unavailable {
        /// What went wrong.
        reason: String,
    },
    /// The configuration is unusable.
    #[error("invalid HSM configuration: {0}")]
    Config(String),
    /// A PKCS#11 call failed.
    #[error("PKCS#11 {op} failed: {source}")]
    Pkcs11 {
        /// What we were doing.
        op: &'static str,
        /// The module's answer.
        #[source]
        source: CkError,
    },
    /// The token holds something Hallmark did not expect (bad public key, bad record).
    #[error("unexpected token content: {0}")]
    Token(String),
    /// The purpose has no current key.
    #[error("no current {} key in the HSM", .0.as_str())]
    NoCurrentKey(Purpose),
    /// `generate` was called but the purpose already has a current key (use `rotate`).
    #[error("a current {p} key already exists ({1}); rotate instead", p = .0.as_str())]
    CurrentKeyExists(Purpose, KeyId),
    /// No key with this id in the token.
    #[error("no key {0} in the HSM")]
    UnknownKey(KeyId),
    /// The key was revoked already.
    #[error("key {0} is already revoked")]
    AlreadyRevoked(KeyId),
}

impl HsmError {
    fn unavailable(reason: impl Into<String>) -> Self {
        HsmError::Unavailable {
            reason: reason.into(),
        }
    }

    fn ck(op: &'static str) -> impl FnOnce(CkError) -> HsmError {
        move |source| HsmError::Pkcs11 { op, source }
    }

    /// Whether the error means the session or token went away (worth one reconnect).
    fn is_connection_lost(&self) -> bool {
        matches!(
            self,
            HsmError::Pkcs11 {
                source: CkError::Pkcs11(
                    RvError::SessionHandleInvalid
                        | RvError::SessionClosed
                        | RvError::UserNotLoggedIn
                        | RvError::DeviceRemoved
                        | RvError::DeviceError
                        | RvError::TokenNotPresent
                        | RvError::CryptokiNotInitialized,
                    _
                ),
                ..
            }
        )
    }

    fn into_signer_error(self) -> SignerError {
        match self {
            e @ HsmError::Unavailable { .. } => SignerError::Unavailable(e.to_string()),
            e if e.is_connection_lost() => {
                SignerError::Unavailable(format!("HSM unavailable: {e}"))
            }
            e @ (HsmError::NoCurrentKey(_)
            | HsmError::UnknownKey(_)
            | HsmError::AlreadyRevoked(_)) => SignerError::NotUsable(e.to_string()),
            e => SignerError::Failed(e.to_string()),
        }
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
    ) -> Result<HsmSigner, HsmError> {
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
    pub fn error(&self) -> HsmError {
        HsmError::unavailable(self.reason.clone())
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

struct Inner {
    ctx: Pkcs11,
    /// Held for every call into the module; shared by all `Hsm`s on the same module.
    calls: Arc<Mutex<()>>,
    slot: Slot,
    pin: SecretString,
    token_label: String,
    prefix: String,
    session: Mutex<Option<Session>>,
}

impl fmt::Debug for Hsm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hsm")
            .field("token_label", &self.inner.token_label)
            .field("key_label_prefix", &self.inner.prefix)
            .finish_non_exhaustive()
    }
}

/// One key as found in the token.
#[derive(Debug, Clone)]
struct Record {
    /// The `n` of `<prefix>:<purpose>:<n>`.
    seq: u64,
    label: String,
    /// The record object(s): more than one only if a record update was interrupted.
    data: Vec<ObjectHandle>,
    info: KeyInfo,
}

impl Hsm {
    /// Load the module, find the token and log in. Never fails: problems give
    /// [`HsmState::Unavailable`] with the reason (the PIN is never part of it).
    pub fn connect(config: &HsmConfig) -> HsmState {
        match Self::try_connect(config) {
            Ok(h) => HsmState::Ready(h),
            Err(HsmError::Unavailable { reason }) => {
                HsmState::Unavailable(HsmUnavailable { reason })
            }
            Err(e) => HsmState::Unavailable(HsmUnavailable {
                reason: e.to_string(),
            }),
        }
    }

    /// Like [`Hsm::connect`], as a `Result`.
    pub fn try_connect(config: &HsmConfig) -> Result<Hsm, HsmError> {
        if config.key_label_prefix.is_empty() {
            return Err(HsmError::Config(
                "key_label_prefix must not be empty".into(),
            ));
        }
        let path = &config.module_path;
        if !path.is_file() {
            return Err(HsmError::unavailable(format!(
                "PKCS#11 module not found at {}",
                path.display()
            )));
        }
        let Module { ctx, calls } = load_module(path)?;
        let module_lock = Arc::clone(&calls);
        let _module = module_lock.lock().unwrap_or_else(PoisonError::into_inner);
        let slots = ctx
            .get_slots_with_token()
            .map_err(|e| HsmError::unavailable(format!("cannot list tokens: {e}")))?;
        let mut seen = Vec::new();
        let mut found = None;
        for slot in slots {
            let Ok(info) = ctx.get_token_info(slot) else {
                continue;
            };
            let label = info.label().trim_end().to_string();
            if label == config.token_label {
                found = Some(slot);
                break;
            }
            seen.push(label);
        }
        let slot = found.ok_or_else(|| {
            HsmError::unavailable(format!(
                "no token labelled {:?} (tokens present: {:?})",
                config.token_label, seen
            ))
        })?;
        let mechanisms = ctx
            .get_mechanism_list(slot)
            .map_err(|e| HsmError::unavailable(format!("cannot list mechanisms: {e}")))?;
        for needed in [
            MechanismType::ECC_EDWARDS_KEY_PAIR_GEN,
            MechanismType::EDDSA,
        ] {
            if !mechanisms.contains(&needed) {
                return Err(HsmError::unavailable(format!(
                    "token {:?} does not support {needed} (Ed25519)",
                    config.token_label
                )));
            }
        }
        let inner = Inner {
            ctx,
            calls,
            slot,
            pin: config.pin.clone(),
            token_label: config.token_label.clone(),
            prefix: config.key_label_prefix.clone(),
            session: Mutex::new(None),
        };
        let session = inner.open_session()?;
        *inner.lock() = Some(session);
        Ok(Hsm {
            inner: Arc::new(inner),
        })
    }

    /// Label of the token in use.
    pub fn token_label(&self) -> &str {
        &self.inner.token_label
    }

    /// Generate the first key of `purpose` inside the token. Refuses if the purpose already
    /// has a current key (use [`Hsm::rotate`]).
    pub fn generate(&self, purpose: Purpose, now: OffsetDateTime) -> Result<KeyEvent, HsmError> {
        self.inner.with_session(|s| {
            let records = self.inner.records(s)?;
            if let Some(cur) = current_of(&records, purpose) {
                return Err(HsmError::CurrentKeyExists(purpose, cur.info.id.clone()));
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
    pub fn find(&self, purpose: Purpose) -> Result<Option<KeyInfo>, HsmError> {
        self.inner.with_session(|s| {
            let records = self.inner.records(s)?;
            Ok(current_of(&records, purpose).map(|r| r.info.clone()))
        })
    }

    /// Every Hallmark key in the token (with this node's label prefix), oldest first per
    /// purpose.
    pub fn list(&self) -> Result<Vec<KeyInfo>, HsmError> {
        self.inner
            .with_session(|s| Ok(self.inner.records(s)?.into_iter().map(|r| r.info).collect()))
    }

    /// Generate a new current key for `purpose`; the old one is retired and kept.
    pub fn rotate(&self, purpose: Purpose, now: OffsetDateTime) -> Result<KeyEvent, HsmError> {
        self.inner.with_session(|s| {
            let records = self.inner.records(s)?;
            let old = current_of(&records, purpose)
                .ok_or(HsmError::NoCurrentKey(purpose))?
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
    ) -> Result<KeyEvent, HsmError> {
        self.inner.with_session(|s| {
            let records = self.inner.records(s)?;
            let rec = records
                .iter()
                .find(|r| &r.info.id == id)
                .ok_or_else(|| HsmError::UnknownKey(id.clone()))?;
            if rec.info.status == KeyStatus::Revoked {
                // Finish an interrupted revocation, then report it.
                destroy_private(s, &rec.label)?;
                return Err(HsmError::AlreadyRevoked(id.clone()));
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
    pub fn signer(&self, purpose: Purpose) -> Result<HsmSigner, HsmError> {
        let (label, info) = self.inner.with_session(|s| {
            let records = self.inner.records(s)?;
            current_of(&records, purpose)
                .map(|r| (r.label.clone(), r.info.clone()))
                .ok_or(HsmError::NoCurrentKey(purpose))
        })?;
        let verifying_key = hallmark_core::keys::decode_public_key_multibase(info.id.as_str())
            .map_err(|e| HsmError::Token(format!("bad key id {}: {e}", info.id)))?;
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

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Option<Session>> {
        match self.session.lock() {
            Ok(g) => g,
            Err(poisoned) => {
                // A panic mid-call: the session may be in any state; start a fresh one.
                let mut g = poisoned.into_inner();
                *g = None;
                g
            }
        }
    }

    fn open_session(&self) -> Result<Session, HsmError> {
        let session = self.ctx.open_rw_session(self.slot).map_err(|e| {
            HsmError::unavailable(format!(
                "cannot open a session on token {:?}: {e}",
                self.token_label
            ))
        })?;
        match session.login(UserType::User, Some(&self.pin)) {
            // Login state is per application: another session of this process is logged in.
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(session),
            Err(CkError::Pkcs11(rv @ (RvError::PinIncorrect | RvError::PinInvalid), _)) => {
                Err(HsmError::unavailable(format!(
                    "login to token {:?} failed: {rv}",
                    self.token_label
                )))
            }
            Err(e) => Err(HsmError::unavailable(format!(
                "login to token {:?} failed: {e}",
                self.token_label
            ))),
        }
    }

    /// Run `f` on the shared session, reconnecting once if the session was lost.
    fn with_session<T>(
        &self,
        mut f: impl FnMut(&Session) -> Result<T, HsmError>,
    ) -> Result<T, HsmError> {
        // Module lock first, then this connection's session: always in this order.
        let _module = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        let mut guard = self.lock();
        for attempt in 0..2 {
            if guard.is_none() {
                *guard = Some(self.open_session()?);
            }
            let Some(session) = guard.as_ref() else {
                continue;
            };
            match f(session) {
                Err(e) if e.is_connection_lost() => {
                    *guard = None;
                    if attempt == 1 {
                        return Err(HsmError::unavailable(e.to_string()));
                    }
                }
                other => return other,
            }
        }
        Err(HsmError::unavailable("session could not be re-established"))
    }

    fn label(&self, purpose: Purpose, seq: u64) -> String {
        format!("{}:{}:{seq}", self.prefix, purpose.as_str())
    }

    /// Parse `<prefix>:<purpose>:<n>`.
    fn parse_label(&self, label: &str) -> Option<(Purpose, u64)> {
        parse_label(&self.prefix, label)
    }

    /// Every key record of this prefix, sorted by purpose and sequence number, with an
    /// interrupted rotation (several current keys) resolved in favour of the newest.
    fn records(&self, s: &Session) -> Result<Vec<Record>, HsmError> {
        let mut out: Vec<Record> = Vec::new();
        for rec in self.read_records(s)? {
            // The record must describe the public key stored under the same label.
            let public = read_public_key(s, &rec.label)?;
            if KeyId::of(&public) != rec.info.id {
                return Err(HsmError::Token(format!(
                    "record {:?} names {} but the token's public key is {}",
                    rec.label,
                    rec.info.id,
                    KeyId::of(&public)
                )));
            }
            out.push(rec);
        }
        Ok(out)
    }

    /// The status records of this prefix, one per label, sorted by purpose and sequence
    /// number, with interrupted operations resolved:
    ///
    /// * A record is replaced by creating the new version and then destroying the old one;
    ///   if that was interrupted, the version with the most advanced status (current <
    ///   retired < revoked) wins, since status only ever moves forward.
    /// * A key marked current while a newer key of its purpose exists (a rotation that
    ///   stopped before retiring it; `generate` refuses while a key is current, so rotation
    ///   is the only way a newer key appears) is treated as retired.
    fn read_records(&self, s: &Session) -> Result<Vec<Record>, HsmError> {
        // Another session (another process, or another prefix) may replace a record between
        // our C_FindObjects and C_GetAttributeValue: scan again.
        let mut attempts = 0;
        loop {
            match self.read_records_once(s) {
                Err(e) if vanished(&e) && attempts < 5 => attempts += 1,
                other => return other,
            }
        }
    }

    fn read_records_once(&self, s: &Session) -> Result<Vec<Record>, HsmError> {
        let handles = s
            .find_objects(&[
                Attribute::Class(ObjectClass::DATA),
                Attribute::Application(APPLICATION.to_vec()),
            ])
            .map_err(HsmError::ck("C_FindObjects"))?;
        let mut out: Vec<Record> = Vec::new();
        for h in handles {
            let attrs = s
                .get_attributes(h, &[AttributeType::Label, AttributeType::Value])
                .map_err(HsmError::ck("C_GetAttributeValue"))?;
            let mut label = None;
            let mut value = None;
            for a in attrs {
                match a {
                    Attribute::Label(l) => label = String::from_utf8(l).ok(),
                    Attribute::Value(v) => value = Some(v),
                    _ => {}
                }
            }
            let (Some(label), Some(value)) = (label, value) else {
                continue;
            };
            let Some((purpose, seq)) = self.parse_label(&label) else {
                continue;
            };
            let info: KeyInfo = serde_json::from_slice(&value)
                .map_err(|e| HsmError::Token(format!("record {label:?} is not valid: {e}")))?;
            if info.purpose != purpose || info.backend != Backend::Pkcs11 {
                return Err(HsmError::Token(format!(
                    "record {label:?} does not match its label"
                )));
            }
            if let Some(prev) = out.iter_mut().find(|r| r.label == label) {
                if prev.info.id != info.id {
                    return Err(HsmError::Token(format!(
                        "records labelled {label:?} name different keys"
                    )));
                }
                prev.data.push(h);
                if rank(info.status) > rank(prev.info.status) {
                    prev.info = info;
                }
                continue;
            }
            out.push(Record {
                seq,
                label,
                data: vec![h],
                info,
            });
        }
        out.sort_by_key(|r| (r.info.purpose, r.seq));
        for i in 0..out.len() {
            let next = out
                .get(i + 1)
                .filter(|n| n.info.purpose == out[i].info.purpose)
                .map(|n| n.info.created_at);
            if let (Some(at), KeyStatus::Current) = (next, out[i].info.status) {
                out[i].info.status = KeyStatus::Retired;
                out[i].info.retired_at = Some(at);
            }
        }
        Ok(out)
    }

    /// The next sequence number for `purpose`, counting every object with such a label
    /// (including orphans), so labels are never reused.
    fn next_seq(&self, s: &Session, purpose: Purpose) -> Result<u64, HsmError> {
        let mut max = 0;
        for class in [
            ObjectClass::DATA,
            ObjectClass::PUBLIC_KEY,
            ObjectClass::PRIVATE_KEY,
        ] {
            for h in s
                .find_objects(&[Attribute::Class(class)])
                .map_err(HsmError::ck("C_FindObjects"))?
            {
                let attrs = match s.get_attributes(h, &[AttributeType::Label]) {
                    Ok(attrs) => attrs,
                    // Destroyed meanwhile by another session: it held a record we will see
                    // again under its replacement, or a key of another prefix.
                    Err(CkError::Pkcs11(RvError::ObjectHandleInvalid, _)) => continue,
                    Err(e) => return Err(HsmError::ck("C_GetAttributeValue")(e)),
                };
                for a in attrs {
                    if let Attribute::Label(l) = a {
                        if let Some((p, n)) = std::str::from_utf8(&l)
                            .ok()
                            .and_then(|l| self.parse_label(l))
                        {
                            if p == purpose {
                                max = max.max(n);
                            }
                        }
                    }
                }
            }
        }
        Ok(max + 1)
    }

    /// Generate a key pair in the token and record it as current.
    fn generate_in(
        &self,
        s: &Session,
        purpose: Purpose,
        now: OffsetDateTime,
    ) -> Result<KeyInfo, HsmError> {
        let seq = self.next_seq(s, purpose)?;
        let label = self.label(purpose, seq);
        let (public, private) = generate_pair(s, &label)?;
        let key = public_key_of(s, public)?;
        let id = KeyId::of(&key);
        let ck_id = cka_id(&key);
        for h in [public, private] {
            s.update_attributes(h, &[Attribute::Id(ck_id.clone())])
                .map_err(HsmError::ck("C_SetAttributeValue(CKA_ID)"))?;
        }
        let info = KeyInfo {
            id,
            purpose,
            status: KeyStatus::Current,
            backend: Backend::Pkcs11,
            public_key_multibase: public_key_multibase(&key),
            created_at: now,
            retired_at: None,
            revoked_at: None,
            revocation_reason: None,
        };
        create_record(s, &label, &info)?;
        Ok(info)
    }

    /// Sign with the key labelled `label`, after checking in the token that it is still the
    /// current key `id` of `purpose`.
    fn sign(
        &self,
        label: &str,
        id: &KeyId,
        purpose: Purpose,
        message: &[u8],
    ) -> Result<Vec<u8>, HsmError> {
        self.with_session(|s| {
            let info = self
                .read_records(s)?
                .into_iter()
                .find(|r| r.label == label)
                .ok_or_else(|| HsmError::UnknownKey(id.clone()))?
                .info;
            if &info.id != id || info.purpose != purpose {
                return Err(HsmError::Token(format!(
                    "record {label:?} no longer describes key {id}"
                )));
            }
            match info.status {
                KeyStatus::Current => {}
                KeyStatus::Revoked => return Err(HsmError::AlreadyRevoked(id.clone())),
                KeyStatus::Retired => return Err(HsmError::NoCurrentKey(purpose)),
            }
            let key = find_one(
                s,
                &[
                    Attribute::Class(ObjectClass::PRIVATE_KEY),
                    Attribute::Label(label.as_bytes().to_vec()),
                ],
            )?
            .ok_or_else(|| HsmError::Token(format!("private key {label:?} is missing")))?;
            s.sign(
                &Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure)),
                key,
                message,
            )
            .map_err(HsmError::ck("C_Sign"))
        })
    }
}

fn parse_label(prefix: &str, label: &str) -> Option<(Purpose, u64)> {
    let rest = label.strip_prefix(prefix)?.strip_prefix(':')?;
    let (purpose, n) = rest.rsplit_once(':')?;
    let purpose = Purpose::ALL.into_iter().find(|p| p.as_str() == purpose)?;
    if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((purpose, n.parse().ok()?))
}

fn current_of(records: &[Record], purpose: Purpose) -> Option<&Record> {
    records
        .iter()
        .rev()
        .find(|r| r.info.purpose == purpose && r.info.status == KeyStatus::Current)
}

fn record_json(info: &KeyInfo) -> Result<Vec<u8>, HsmError> {
    serde_json::to_vec(info).map_err(|e| HsmError::Token(format!("cannot encode record: {e}")))
}

/// An object destroyed by another session while we looked at it.
fn vanished(e: &HsmError) -> bool {
    matches!(
        e,
        HsmError::Pkcs11 {
            source: CkError::Pkcs11(RvError::ObjectHandleInvalid, _),
            ..
        }
    )
}

fn rank(status: KeyStatus) -> u8 {
    match status {
        KeyStatus::Current => 0,
        KeyStatus::Retired => 1,
        KeyStatus::Revoked => 2,
    }
}

fn create_record(s: &Session, label: &str, info: &KeyInfo) -> Result<(), HsmError> {
    s.create_object(&[
        Attribute::Class(ObjectClass::DATA),
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Label(label.as_bytes().to_vec()),
        Attribute::Application(APPLICATION.to_vec()),
        Attribute::Value(record_json(info)?),
    ])
    .map_err(HsmError::ck("C_CreateObject(record)"))?;
    Ok(())
}

/// Replace a record: tokens (SoftHSM2 among them) keep `CKA_VALUE` of data objects
/// read-only, so the new version is created first and the old one destroyed after.
fn write_record(s: &Session, old: &Record, info: &KeyInfo) -> Result<(), HsmError> {
    create_record(s, &old.label, info)?;
    for h in &old.data {
        s.destroy_object(*h)
            .map_err(HsmError::ck("C_DestroyObject(record)"))?;
    }
    Ok(())
}

fn find_one(s: &Session, template: &[Attribute]) -> Result<Option<ObjectHandle>, HsmError> {
    let found = s
        .find_objects(template)
        .map_err(HsmError::ck("C_FindObjects"))?;
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        _ => Err(HsmError::Token(format!(
            "{} objects match one label",
            found.len()
        ))),
    }
}

fn destroy_private(s: &Session, label: &str) -> Result<(), HsmError> {
    let handles = s
        .find_objects(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Label(label.as_bytes().to_vec()),
        ])
        .map_err(HsmError::ck("C_FindObjects"))?;
    for h in handles {
        s.destroy_object(h)
            .map_err(HsmError::ck("C_DestroyObject(private key)"))?;
    }
    Ok(())
}

/// `C_GenerateKeyPair` for Ed25519, trying the OID form of the curve parameters first.
fn generate_pair(s: &Session, label: &str) -> Result<(ObjectHandle, ObjectHandle), HsmError> {
    let private = [
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
        Attribute::Derive(false),
        Attribute::Decrypt(false),
        Attribute::Unwrap(false),
        Attribute::Label(label.as_bytes().to_vec()),
    ];
    let mut last = None;
    for params in [&ED25519_PARAMS_OID[..], &ED25519_PARAMS_NAME[..]] {
        let public = [
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Verify(true),
            Attribute::Encrypt(false),
            Attribute::Wrap(false),
            Attribute::EcParams(params.to_vec()),
            Attribute::Label(label.as_bytes().to_vec()),
        ];
        match s.generate_key_pair(&Mechanism::EccEdwardsKeyPairGen, &public, &private) {
            Ok(pair) => return Ok(pair),
            Err(
                e @ CkError::Pkcs11(
                    RvError::CurveNotSupported
                    | RvError::DomainParamsInvalid
                    | RvError::AttributeValueInvalid
                    | RvError::TemplateInconsistent,
                    _,
                ),
            ) => last = Some(e),
            Err(e) => return Err(HsmError::ck("C_GenerateKeyPair")(e)),
        }
    }
    Err(HsmError::Pkcs11 {
        op: "C_GenerateKeyPair",
        source: last.unwrap_or(CkError::NotSupported),
    })
}

fn read_public_key(s: &Session, label: &str) -> Result<VerifyingKey, HsmError> {
    let h = find_one(
        s,
        &[
            Attribute::Class(ObjectClass::PUBLIC_KEY),
            Attribute::KeyType(KeyType::EC_EDWARDS),
            Attribute::Label(label.as_bytes().to_vec()),
        ],
    )?
    .ok_or_else(|| HsmError::Token(format!("public key {label:?} is missing")))?;
    public_key_of(s, h)
}

fn public_key_of(s: &Session, public: ObjectHandle) -> Result<VerifyingKey, HsmError> {
    let attrs = s
        .get_attributes(public, &[AttributeType::EcPoint])
        .map_err(HsmError::ck("C_GetAttributeValue(CKA_EC_POINT)"))?;
    let Some(Attribute::EcPoint(point)) = attrs.into_iter().next() else {
        return Err(HsmError::Token("public key has no CKA_EC_POINT".into()));
    };
    let raw = ec_point_bytes(&point).ok_or_else(|| {
        HsmError::Token(format!(
            "CKA_EC_POINT is not an Ed25519 point ({} bytes)",
            point.len()
        ))
    })?;
    VerifyingKey::from_bytes(&raw)
        .map_err(|_| HsmError::Token("CKA_EC_POINT is not a valid Ed25519 key".into()))
}

/// Modules loaded by this process, by path. A PKCS#11 module is loaded and initialised
/// once per process and then kept: `C_Initialize` is process-wide, and loading, initialising
/// or unloading it concurrently from several threads is not safe with every module.
static MODULES: OnceLock<Mutex<HashMap<PathBuf, Module>>> = OnceLock::new();

/// A loaded module, and the lock that serialises all calls into it from this process.
/// SoftHSM2 is not reliably thread-safe across sessions: concurrent key generation or
/// object creation fails with `CKR_GENERAL_ERROR` (SoftHSMv2 issues #485, #573) and 2.6.1
/// can crash under concurrent load (#688); we saw both in this crate's tests.
#[derive(Clone)]
struct Module {
    ctx: Pkcs11,
    calls: Arc<Mutex<()>>,
}

fn load_module(path: &Path) -> Result<Module, HsmError> {
    let key = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let mut modules = MODULES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(module) = modules.get(&key) {
        return Ok(module.clone());
    }
    let ctx = Pkcs11::new(&key).map_err(|e| {
        HsmError::unavailable(format!(
            "cannot load PKCS#11 module {}: {e}",
            path.display()
        ))
    })?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        // Something else in this process initialised the module already: it is shared.
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => {
            return Err(HsmError::unavailable(format!(
                "cannot initialise PKCS#11 module {}: {e}",
                path.display()
            )))
        }
    }
    let module = Module {
        ctx,
        calls: Arc::default(),
    };
    modules.insert(key, module.clone());
    Ok(module)
}

/// The 32 key bytes of a `CKA_EC_POINT`: a DER OCTET STRING (`04 20 …`, what the spec and
/// SoftHSM2 use) or the raw bytes (what some tokens return).
pub fn ec_point_bytes(point: &[u8]) -> Option<[u8; 32]> {
    match point {
        [0x04, 0x20, rest @ ..] if rest.len() == 32 => <[u8; 32]>::try_from(rest).ok(),
        raw if raw.len() == 32 => <[u8; 32]>::try_from(raw).ok(),
        _ => None,
    }
}

/// `CKA_ID` of a key: the first 16 bytes of SHA-256 of the 32-byte public key.
pub fn cka_id(key: &VerifyingKey) -> Vec<u8> {
    Sha256::digest(key.as_bytes())[..16].to_vec()
}

/// A [`Signer`] for one purpose backed by the HSM (or by an unavailable HSM, in which case
/// every signature fails).
#[derive(Clone)]
pub struct HsmSigner {
    purpose: Purpose,
    verifying_key: VerifyingKey,
    inner: SignerInner,
}

#[derive(Clone)]
enum SignerInner {
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
            .map_err(HsmError::into_signer_error)?;
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn ec_point_wrapped_and_raw() {
        let raw = [9u8; 32];
        let mut wrapped = vec![0x04, 0x20];
        wrapped.extend_from_slice(&raw);
        assert_eq!(ec_point_bytes(&wrapped), Some(raw));
        assert_eq!(ec_point_bytes(&raw), Some(raw));
        assert_eq!(ec_point_bytes(&wrapped[..33]), None);
        assert_eq!(ec_point_bytes(&[0x04, 0x21, 0]), None);
        assert_eq!(ec_point_bytes(&[]), None);
    }

    #[test]
    fn labels_round_trip() {
        assert_eq!(
            parse_label("node-a", "node-a:passport-signing:12"),
            Some((Purpose::PassportSigning, 12))
        );
        assert_eq!(
            parse_label("a:b", "a:b:log-checkpoint:1"),
            Some((Purpose::LogCheckpoint, 1))
        );
        assert_eq!(parse_label("node-a", "node-ab:passport-signing:1"), None);
        assert_eq!(parse_label("node-a", "node-a:passport-signing:"), None);
        assert_eq!(parse_label("node-a", "node-a:passport-signing:+1"), None);
        assert_eq!(parse_label("node-a", "node-a:other:1"), None);
    }

    #[test]
    fn curve_params_are_der() {
        // OID 1.3.101.112 = 06 03 2B 65 70; PrintableString "edwards25519".
        assert_eq!(ED25519_PARAMS_OID, [0x06, 0x03, 0x2b, 0x65, 0x70]);
        assert_eq!(ED25519_PARAMS_NAME[0], 0x13);
        assert_eq!(usize::from(ED25519_PARAMS_NAME[1]), b"edwards25519".len());
        assert_eq!(&ED25519_PARAMS_NAME[2..], b"edwards25519");
    }

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

//! Errors of key custody, for both backends (file keystore and PKCS#11 token). None of
//! them carries key material or the PIN.

use crate::{Backend, Purpose};
use cryptoki::error::{Error as CkError, RvError};
use hallmark_core::keys::{KeyId, SignerError};
use std::path::PathBuf;

/// Why a key-custody operation failed, on either backend.
///
/// Every variant that concerns opening a keystore is raised *before* anything is written:
/// a keystore that cannot be opened is never modified. Variants whose wording depends on
/// where the keys live ([`KeysError::NoCurrentKey`], [`KeysError::UnknownKey`]) carry the
/// [`Backend`].
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The keystore file is readable or writable by group or others.
    #[error(
        "{path}: permissions {mode:04o} are too open: the keystore must be readable and \
         writable by its owner only; fix with `chmod 600 {path}`"
    )]
    InsecurePermissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A keystore already exists where a new one would be created.
    #[error("{path}: already exists; refusing to overwrite it")]
    AlreadyExists {
        /// The file.
        path: PathBuf,
    },
    /// The file ends in the middle of its JSON: it was cut short (disk full, partial copy).
    #[error("{path}: truncated keystore file (JSON ends early); restore it from a backup")]
    Truncated {
        /// The file.
        path: PathBuf,
    },
    /// The file is not a keystore or is not well-formed.
    #[error("{path}: malformed keystore file: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The file declares a format this version does not know.
    #[error("{path}: not a Hallmark keystore (format {found:?})")]
    UnknownFormat {
        /// The file.
        path: PathBuf,
        /// The declared format name.
        found: String,
    },
    /// The file's format version is not supported by this version of Hallmark.
    #[error(
        "{path}: unsupported keystore version {found} (this Hallmark reads version {supported})"
    )]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The declared version.
        found: u64,
        /// The version this build reads and writes.
        supported: u32,
    },
    /// The key-derivation parameters are weaker than the documented floor.
    #[error(
        "key-derivation parameters m={memory_kib} KiB, t={iterations}, p={parallelism} are below \
         the floor (m>={min_memory_kib} KiB, t>={min_iterations}); refusing to use them"
    )]
    KdfBelowFloor {
        /// Memory cost in KiB.
        memory_kib: u32,
        /// Iterations.
        iterations: u32,
        /// Lanes.
        parallelism: u32,
        /// Floor memory cost.
        min_memory_kib: u32,
        /// Floor iterations.
        min_iterations: u32,
    },
    /// The key-derivation parameters are unusable (absurdly large, or rejected by Argon2).
    #[error("invalid key-derivation parameters: {0}")]
    KdfParams(String),
    /// The passphrase does not unlock this keystore.
    #[error("wrong passphrase for this keystore")]
    WrongPassphrase,
    /// The passphrase is empty.
    #[error("the keystore passphrase must not be empty")]
    EmptyPassphrase,
    /// A record failed its integrity check: the file was modified outside Hallmark.
    #[error("keystore tampered: {what} failed its integrity check; restore it from a backup")]
    Tampered {
        /// Which part (e.g. `ciphertext of key z6Mk…`).
        what: String,
    },
    /// A record's encrypted key belongs to another record (ciphertexts were swapped).
    #[error(
        "keystore tampered: the encrypted key in record {record} belongs to record {belongs_to} \
         (records were swapped); restore it from a backup"
    )]
    SwappedRecords {
        /// The record whose ciphertext is wrong.
        record: KeyId,
        /// The record whose associated data it decrypts under.
        belongs_to: KeyId,
    },
    /// The purpose has no current key (in the keystore: it was revoked).
    #[error("{}", no_current_key(*.0, *.1))]
    NoCurrentKey(Purpose, Backend),
    /// No key with this id.
    #[error("no key {0} in {h}", h = .1.holder())]
    UnknownKey(KeyId, Backend),
    /// The key is already revoked.
    #[error("key {0} is already revoked")]
    AlreadyRevoked(KeyId),
    /// A revocation needs a reason.
    #[error("a revocation needs a non-empty reason")]
    EmptyReason,
    /// The key is already in the keystore.
    #[error("key {0} is already in this keystore")]
    DuplicateKey(KeyId),
    /// A restored or imported private key does not match the public key recorded with it.
    #[error("the private key recorded for {id} does not derive its public key; refusing it")]
    KeyMismatch {
        /// The recorded key id.
        id: String,
    },
    /// Not an age X25519 recipient (`age1…`).
    #[error("not an age X25519 recipient (age1…): {0}")]
    BadRecipient(String),
    /// Not an age X25519 identity (`AGE-SECRET-KEY-1…`).
    #[error("not an age X25519 identity file (expected an AGE-SECRET-KEY-1… line)")]
    BadIdentity,
    /// age encryption or decryption failed (wrong identity, corrupt backup).
    #[error("age: {0}")]
    Age(String),
    /// A backup or offline-key payload is not in the expected format.
    #[error("not a valid {what}: {reason}")]
    BadPayload {
        /// `backup` or `offline key`.
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A cryptographic primitive failed unexpectedly (e.g. no randomness).
    #[error("cryptographic failure: {0}")]
    Crypto(&'static str),
    /// The HSM cannot be used: module missing, token absent, login refused, session lost.
    #[error("HSM unavailable: {reason}")]
    Unavailable {
        /// What went wrong.
        reason: String,
    },
    /// The HSM configuration is unusable.
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
    /// `generate` was called but the purpose already has a current key in the token (use
    /// `rotate`).
    #[error("a current {p} key already exists ({1}); rotate instead", p = .0.as_str())]
    CurrentKeyExists(Purpose, KeyId),
}

fn no_current_key(purpose: Purpose, backend: Backend) -> String {
    let p = purpose.as_str();
    match backend {
        Backend::File => format!(
            "no current {p} key (it was revoked); create one with `hallmark keys rotate --purpose {p}`"
        ),
        Backend::Pkcs11 => format!("no current {p} key in the HSM"),
    }
}

impl KeysError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        KeysError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn unavailable(reason: impl Into<String>) -> Self {
        KeysError::Unavailable {
            reason: reason.into(),
        }
    }

    /// Whether custody cannot be reached now (an unavailable HSM); retrying later may work.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, KeysError::Unavailable { .. })
    }

    pub(crate) fn ck(op: &'static str) -> impl FnOnce(CkError) -> KeysError {
        move |source| KeysError::Pkcs11 { op, source }
    }

    /// Whether the error means the token session or the token went away (worth one
    /// reconnect).
    pub(crate) fn is_connection_lost(&self) -> bool {
        matches!(
            self,
            KeysError::Pkcs11 {
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

    /// An object destroyed by another session while we looked at it.
    pub(crate) fn is_vanished_object(&self) -> bool {
        matches!(
            self,
            KeysError::Pkcs11 {
                source: CkError::Pkcs11(RvError::ObjectHandleInvalid, _),
                ..
            }
        )
    }

    /// The error a token signer reports for this failure.
    pub(crate) fn into_signer_error(self) -> SignerError {
        match self {
            e @ KeysError::Unavailable { .. } => SignerError::Unavailable(e.to_string()),
            e if e.is_connection_lost() => {
                SignerError::Unavailable(format!("HSM unavailable: {e}"))
            }
            e @ (KeysError::NoCurrentKey(..)
            | KeysError::UnknownKey(..)
            | KeysError::AlreadyRevoked(_)) => SignerError::NotUsable(e.to_string()),
            e => SignerError::Failed(e.to_string()),
        }
    }
}

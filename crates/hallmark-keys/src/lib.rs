//! Key custody: the operator's Ed25519 keys, held so that private key bytes never leave
//! this crate (file backend) or the token (PKCS#11 backend).
//!
//! The rest of Hallmark sees keys only through [`hallmark_core::keys::Signer`] objects that
//! are bound to one [`Purpose`], plus public metadata ([`KeyInfo`]). Every lifecycle
//! operation returns a [`KeyEvent`] for the node to persist in its audit log. The node
//! reaches either backend through one port, [`KeyCustody`] ([`KeystoreCustody`],
//! [`HsmCustody`]); both report failures as one error type, [`KeysError`].

pub mod backup;
mod custody;
mod error;
pub mod hsm;
pub mod keystore;
mod random;

pub use backup::{generate_offline, BackupIdentity, OfflineKey};
pub use custody::{Availability, KeyCustody};
pub use error::KeysError;
pub use hsm::HsmCustody;
pub use keystore::{KdfParams, Keystore, KeystoreCustody, PurposeSigner};
pub use random::random_u32;

use hallmark_core::did::KeyStatus;
use hallmark_core::keys::KeyId;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// What a key is for. A key has exactly one purpose and a signer for one purpose can never
/// be obtained for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Purpose {
    /// Signs passport credentials (published in the DID document).
    PassportSigning,
    /// Signs transparency-log checkpoints.
    LogCheckpoint,
    /// Authenticates node-to-node requests.
    NodeRequest,
}

impl Purpose {
    /// Every purpose.
    pub const ALL: [Purpose; 3] = [
        Purpose::PassportSigning,
        Purpose::LogCheckpoint,
        Purpose::NodeRequest,
    ];

    /// Stable text form (`passport-signing`, `log-checkpoint`, `node-request`).
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::PassportSigning => "passport-signing",
            Purpose::LogCheckpoint => "log-checkpoint",
            Purpose::NodeRequest => "node-request",
        }
    }
}

/// Where a key's private half lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// The encrypted file keystore.
    File,
    /// A PKCS#11 token (HSM); the key is non-extractable.
    Pkcs11,
}

impl Backend {
    /// Stable text form (`file`, `pkcs11`), as in key metadata.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::File => "file",
            Backend::Pkcs11 => "pkcs11",
        }
    }

    /// Where its keys are held, for messages (`this keystore`, `the HSM`).
    pub fn holder(self) -> &'static str {
        match self {
            Backend::File => "this keystore",
            Backend::Pkcs11 => "the HSM",
        }
    }
}

/// Public metadata of a key. Never contains private material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyInfo {
    /// Stable id derived from the public key.
    pub id: KeyId,
    /// What the key is for.
    pub purpose: Purpose,
    /// Current, retired or revoked.
    pub status: KeyStatus,
    /// Where it lives.
    pub backend: Backend,
    /// The Ed25519 public key, as Multikey (`z6Mk…`).
    pub public_key_multibase: String,
    /// When it was generated or imported.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it stopped being current.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub retired_at: Option<OffsetDateTime>,
    /// When it was revoked.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    /// Why it was revoked.
    #[serde(default)]
    pub revocation_reason: Option<String>,
}

/// A key lifecycle event, for the audit log. Carries ids and public data only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum KeyEvent {
    /// A key was generated.
    Generated {
        /// The new key.
        key: KeyId,
        /// Its purpose.
        purpose: Purpose,
        /// Its backend.
        backend: Backend,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// The current key of a purpose was replaced; the old one is retired.
    Rotated {
        /// The retired key.
        retired: KeyId,
        /// The new current key.
        current: KeyId,
        /// The purpose.
        purpose: Purpose,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// A key was revoked.
    Revoked {
        /// The key.
        key: KeyId,
        /// Its purpose.
        purpose: Purpose,
        /// Why.
        reason: String,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// An encrypted backup was written.
    BackedUp {
        /// Keys in the backup.
        keys: Vec<KeyId>,
        /// The age recipient it was encrypted to.
        recipient: String,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// Keys were restored from a backup.
    Restored {
        /// Keys restored.
        keys: Vec<KeyId>,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// A key generated offline was imported as the current key of its purpose.
    Imported {
        /// The key.
        key: KeyId,
        /// Its purpose.
        purpose: Purpose,
        /// When.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// The previous current key, now retired (if there was one).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retired: Option<KeyId>,
    },
}

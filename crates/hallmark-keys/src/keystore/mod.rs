//! The encrypted file keystore (the `file` backend).
//!
//! One JSON file holds every key of a node, each private key encrypted under a key derived
//! from the operator's passphrase. Private keys are decrypted into memory when the keystore
//! is opened, held as [`ed25519_dalek::SigningKey`] (zeroized on drop) behind an `Arc`, and
//! only ever used through a [`PurposeSigner`]. They are never written in clear, logged,
//! printed by `Debug`, or returned by any API.
//!
//! # Cryptography
//!
//! ```text
//! KEK      = Argon2id(passphrase, salt[16], m, t, p)            -- 32 bytes
//! enc_key  = HKDF-SHA256(ikm = KEK, salt, "hallmark-keystore/v1 encryption")
//! mac_key  = HKDF-SHA256(ikm = KEK, salt, "hallmark-keystore/v1 metadata-mac")
//! check    = HKDF-SHA256(ikm = KEK, salt, "hallmark-keystore/v1 passphrase-check")
//! record   = AES-256-GCM(enc_key, nonce[12] random, seed[32],
//!                        AD = fields("hallmark-keystore", 1, "signing-key", id, purpose, public key))
//! meta MAC = HMAC-SHA256(mac_key, fields("hallmark-keystore", 1, "key-metadata", id, purpose,
//!                        status, createdAt, retiredAt, revokedAt, revocationReason))
//! file MAC = HMAC-SHA256(mac_key, fields("hallmark-keystore", 1, "file", kdf, salt, check,
//!                        sorted key ids, node recipient))
//! ```
//!
//! `fields(…)` is an unambiguous encoding: each field as a big-endian `u64` length and its
//! bytes; times are Unix nanoseconds (`i128`), absent optional fields are a distinct tag.
//! The node's age X25519 identity (used to receive offline-generated keys) is sealed the
//! same way with AD `fields("hallmark-keystore", 1, "age-identity", recipient)`.
//!
//! # File format (version 1)
//!
//! ```json
//! {
//!   "format": "hallmark-keystore",
//!   "version": 1,
//!   "kdf": { "algorithm": "argon2id", "argon2Version": 19, "memoryKib": 65536,
//!            "iterations": 5, "parallelism": 1, "salt": "<base64, 16 bytes>" },
//!   "passphraseCheck": "<base64, 32 bytes>",
//!   "keys": [ {
//!       "id": "z6Mk…", "purpose": "passport-signing", "status": "current", "backend": "file",
//!       "createdAt": "2025-…Z", "retiredAt": null, "revokedAt": null, "revocationReason": null,
//!       "publicKeyMultibase": "z6Mk…", "nonce": "<base64, 12 bytes>",
//!       "ciphertext": "<base64, 32 + 16 bytes>", "mac": "<base64, 32 bytes>" } ],
//!   "nodeIdentity": { "recipient": "age1…", "createdAt": "…", "nonce": "…", "ciphertext": "…" },
//!   "mac": "<base64, 32 bytes>"
//! }
//! ```
//!
//! Opening checks, in order: permissions (owner only), JSON completeness, format name and
//! version, KDF parameters against [`KdfParams::FLOOR`], the passphrase check value, each
//! record's ciphertext (a failure is diagnosed as a swap if it decrypts under another
//! record's associated data), its public key, its metadata MAC, and the file MAC. Nothing is
//! written while opening. Every change is written atomically (temporary file in the same
//! directory, created `0600`, fsync, rename, fsync of the directory).
//!
//! # Layout
//!
//! This module is the lifecycle ([`Keystore`]: create, open, rotate, revoke, backup,
//! restore, import). The file format is in `format` (serde structures, parsing), the
//! cryptography in `crypto` ([`KdfParams`], subkeys, sealing, MACs), the file I/O in `io`
//! (permission check, atomic writes), the signers in `signer` ([`PurposeSigner`]) and the
//! [`crate::KeyCustody`] port over a shared keystore in `custody` ([`KeystoreCustody`]).

mod crypto;
mod custody;
mod format;
mod io;
pub(crate) mod plain;
mod signer;

use crate::random::{fill_random, random_seed};
pub use crypto::KdfParams;
pub use crypto::{FORMAT, VERSION};
pub use custody::KeystoreCustody;
pub use io::{write_new_private_file, write_public_file_atomically};
use plain::{new_info, utc, PlainKey};
pub use signer::PurposeSigner;

use crate::backup::{self, BackupIdentity};
use crate::{Backend, KeyEvent, KeyInfo, KeysError, Purpose};
use crypto::{Subkeys, NONCE_LEN, SALT_LEN};
use ed25519_dalek::{SigningKey, VerifyingKey};
use format::{FileV1, KeyRecordV1, StoredIdentity, StoredKey};
use hallmark_core::did::{KeyStatus, PublishedKey};
use hallmark_core::keys::KeyId;
use secrecy::{ExposeSecret, SecretString};
use signer::Slot;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use time::OffsetDateTime;

/// The default keystore path used by the CLI.
pub const DEFAULT_PATH: &str = "hallmark-keys.json";

// ---------------------------------------------------------------------------------------
// In-memory state
// ---------------------------------------------------------------------------------------

#[derive(Clone)]
struct Record {
    info: KeyInfo,
    public_key: VerifyingKey,
    nonce: [u8; NONCE_LEN],
    ciphertext: Vec<u8>,
    slot: Arc<Slot>,
}

/// The node's age identity: as sealed in the file, and opened.
struct NodeIdentity {
    sealed: StoredIdentity,
    identity: BackupIdentity,
}

/// An open file keystore. Debug output shows public metadata only.
pub struct Keystore {
    path: PathBuf,
    kdf: KdfParams,
    salt: [u8; SALT_LEN],
    keys: Subkeys,
    records: Vec<Record>,
    node: NodeIdentity,
}

impl fmt::Debug for Keystore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keystore")
            .field("path", &self.path)
            .field("kdf", &self.kdf)
            .field("keys", &self.list())
            .field("node_recipient", &self.node.sealed.recipient)
            .finish_non_exhaustive()
    }
}

impl Keystore {
    /// Create a new keystore at `path` with one current key per [`Purpose`] and a fresh node
    /// age identity. Refuses to overwrite an existing file and parameters below
    /// [`KdfParams::FLOOR`]. Returns the `Generated` events.
    pub fn create(
        path: impl AsRef<Path>,
        passphrase: &SecretString,
        params: KdfParams,
        now: OffsetDateTime,
    ) -> Result<(Keystore, Vec<KeyEvent>), KeysError> {
        let now = utc(now);
        let mut keys = Vec::new();
        for purpose in Purpose::ALL {
            let seed = random_seed()?;
            let public = SigningKey::from_bytes(&seed).verifying_key();
            keys.push(PlainKey {
                info: new_info(&public, purpose, now),
                seed,
            });
        }
        let events = keys
            .iter()
            .map(|k| KeyEvent::Generated {
                key: k.info.id.clone(),
                purpose: k.info.purpose,
                backend: Backend::File,
                at: now,
            })
            .collect();
        let store = Self::build_new(
            path.as_ref(),
            passphrase,
            params,
            keys,
            BackupIdentity::generate(),
            now,
        )?;
        Ok((store, events))
    }

    /// Seal `keys` and `identity` into a new keystore file (which must not exist).
    pub(crate) fn build_new(
        path: &Path,
        passphrase: &SecretString,
        params: KdfParams,
        keys: Vec<PlainKey>,
        identity: BackupIdentity,
        now: OffsetDateTime,
    ) -> Result<Keystore, KeysError> {
        params.check()?;
        check_passphrase_not_empty(passphrase)?;
        if path.exists() {
            return Err(KeysError::AlreadyExists {
                path: path.to_path_buf(),
            });
        }
        let mut salt = [0u8; SALT_LEN];
        fill_random(&mut salt)?;
        let subkeys = Subkeys::derive(passphrase, &params, &salt)?;
        let (nonce, ciphertext) = subkeys.seal_identity(&identity)?;
        let node = NodeIdentity {
            sealed: StoredIdentity {
                recipient: identity.recipient(),
                created_at: now,
                nonce,
                ciphertext,
            },
            identity,
        };
        let mut store = Keystore {
            path: path.to_path_buf(),
            kdf: params,
            salt,
            keys: subkeys,
            records: Vec::new(),
            node,
        };
        for key in keys {
            let record = store.seal_record(key)?;
            store.records.push(record);
        }
        store.check_invariants()?;
        store.write(&store.records, true)?;
        Ok(store)
    }

    /// Open an existing keystore. Nothing is written. See the module docs for the checks.
    pub fn open(path: impl AsRef<Path>, passphrase: &SecretString) -> Result<Keystore, KeysError> {
        let path = path.as_ref();
        io::check_permissions(path)?;
        let bytes = io::read_file(path)?;
        let file = format::parse_file(path, &bytes)?;
        Self::unseal(path, passphrase, file)
    }

    fn unseal(path: &Path, passphrase: &SecretString, file: FileV1) -> Result<Keystore, KeysError> {
        let malformed = |reason: String| KeysError::Malformed {
            path: path.to_path_buf(),
            reason,
        };
        let (params, salt, stored_check) = file.kdf(path)?;
        let subkeys = Subkeys::derive(passphrase, &params, &salt)?;
        if !subkeys.passphrase_matches(&stored_check) {
            return Err(KeysError::WrongPassphrase);
        }

        // Decode every record first so swaps can be diagnosed against the others.
        let parsed = file.keys(path)?;
        let mut records = Vec::with_capacity(parsed.len());
        for (i, stored) in parsed.iter().enumerate() {
            let StoredKey {
                info,
                public_key,
                nonce,
                ciphertext,
                mac,
            } = stored;
            let seed = match subkeys.open_key(&info.id, info.purpose, public_key, nonce, ciphertext)
            {
                Some(seed) => seed,
                None => {
                    for (j, other) in parsed.iter().enumerate() {
                        if j != i
                            && subkeys
                                .open_key(
                                    &other.info.id,
                                    other.info.purpose,
                                    &other.public_key,
                                    nonce,
                                    ciphertext,
                                )
                                .is_some()
                        {
                            return Err(KeysError::SwappedRecords {
                                record: info.id.clone(),
                                belongs_to: other.info.id.clone(),
                            });
                        }
                    }
                    return Err(KeysError::Tampered {
                        what: format!("ciphertext of key {}", info.id),
                    });
                }
            };
            let key = SigningKey::from_bytes(&seed);
            if key.verifying_key() != *public_key {
                return Err(KeysError::Tampered {
                    what: format!("public key of key {}", info.id),
                });
            }
            if !subkeys.metadata_mac_ok(info, mac) {
                return Err(KeysError::Tampered {
                    what: format!("metadata (status, times, reason) of key {}", info.id),
                });
            }
            records.push(Record {
                slot: Arc::new(Slot::new(
                    info.id.clone(),
                    info.purpose,
                    key,
                    info.status == KeyStatus::Current,
                )),
                info: info.clone(),
                public_key: *public_key,
                nonce: *nonce,
                ciphertext: ciphertext.clone(),
            });
        }

        let sealed = file.identity(path)?;
        let identity = subkeys
            .open_identity(&sealed.recipient, &sealed.nonce, &sealed.ciphertext)
            .ok_or_else(|| KeysError::Tampered {
                what: "node age identity".to_string(),
            })?;

        let store = Keystore {
            path: path.to_path_buf(),
            kdf: params,
            salt,
            keys: subkeys,
            records,
            node: NodeIdentity { sealed, identity },
        };
        let file_mac = file.mac(path)?;
        if !store.keys.file_mac_ok(
            &store.kdf,
            &store.salt,
            store.records.iter().map(|r| &r.info.id),
            &store.node.sealed.recipient,
            &file_mac,
        ) {
            return Err(KeysError::Tampered {
                what: "the list of keys (a key was added or removed)".to_string(),
            });
        }
        store.check_invariants().map_err(|e| match e {
            KeysError::Malformed { reason, .. } => malformed(reason),
            other => other,
        })?;
        Ok(store)
    }

    /// The file this keystore lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The KDF parameters of this keystore.
    pub fn kdf_params(&self) -> KdfParams {
        self.kdf
    }

    /// A signer for the current key of `purpose`. Errors with
    /// [`KeysError::NoCurrentKey`] when that key was revoked and not yet replaced.
    pub fn signer(&self, purpose: Purpose) -> Result<PurposeSigner, KeysError> {
        let record = self
            .current(purpose)
            .ok_or(KeysError::NoCurrentKey(purpose, Backend::File))?;
        Ok(PurposeSigner::new(purpose, Arc::clone(&record.slot)))
    }

    /// Public metadata of every key, in creation order.
    pub fn list(&self) -> Vec<KeyInfo> {
        self.records.iter().map(|r| r.info.clone()).collect()
    }

    /// The keys of `purpose` with their status, for [`hallmark_core::did::DidDocument::build`]
    /// (which publishes current and retired keys and leaves revoked ones out).
    pub fn published_keys(&self, purpose: Purpose) -> Vec<PublishedKey> {
        self.records
            .iter()
            .filter(|r| r.info.purpose == purpose)
            .map(|r| PublishedKey {
                public_key: r.public_key,
                status: r.info.status,
            })
            .collect()
    }

    /// The node's row-authentication subkeys ([`hallmark_core::integrity`]), derived from
    /// the sealed node identity: the same for every copy of this keystore (backups and
    /// restores keep the identity, a passphrase change does not touch it), and never written
    /// anywhere. A new keystore (`keys init`) has a new identity and so new subkeys.
    pub fn integrity_keys(&self) -> Result<hallmark_core::integrity::IntegrityKeys, KeysError> {
        crypto::node_integrity_keys(&self.node.identity)
    }

    /// The node's age recipient (`age1…`): encrypt offline-generated keys to it.
    pub fn node_recipient(&self) -> &str {
        &self.node.sealed.recipient
    }

    /// Generate a new current key for `purpose`; the previous current key (if any) becomes
    /// retired. Returns `Rotated`, or `Generated` when the purpose had no current key.
    pub fn rotate(&mut self, purpose: Purpose, now: OffsetDateTime) -> Result<KeyEvent, KeysError> {
        let now = utc(now);
        let seed = random_seed()?;
        let public = SigningKey::from_bytes(&seed).verifying_key();
        let record = self.seal_record(PlainKey {
            info: new_info(&public, purpose, now),
            seed,
        })?;
        let current = record.info.id.clone();
        let retired = self.install_current(record, now)?;
        Ok(match retired {
            Some(retired) => KeyEvent::Rotated {
                retired,
                current,
                purpose,
                at: now,
            },
            None => KeyEvent::Generated {
                key: current,
                purpose,
                backend: Backend::File,
                at: now,
            },
        })
    }

    /// Revoke a key: it can no longer sign and leaves the DID document. Revoking the current
    /// key leaves its purpose without one until [`Keystore::rotate`].
    pub fn revoke(
        &mut self,
        id: &KeyId,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<KeyEvent, KeysError> {
        let now = utc(now);
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(KeysError::EmptyReason);
        }
        let index = self
            .records
            .iter()
            .position(|r| &r.info.id == id)
            .ok_or_else(|| KeysError::UnknownKey(id.clone(), Backend::File))?;
        if self.records[index].info.status == KeyStatus::Revoked {
            return Err(KeysError::AlreadyRevoked(id.clone()));
        }
        let mut records = self.records.clone();
        let info = &mut records[index].info;
        info.status = KeyStatus::Revoked;
        info.revoked_at = Some(now);
        info.revocation_reason = Some(reason.to_string());
        let purpose = info.purpose;
        self.commit(records)?;
        Ok(KeyEvent::Revoked {
            key: id.clone(),
            purpose,
            reason: reason.to_string(),
            at: now,
        })
    }

    /// Encrypt every key (and the node identity) to an age X25519 `recipient` (`age1…`).
    /// Returns the age ciphertext; nothing is written.
    pub fn backup(
        &self,
        recipient: &str,
        now: OffsetDateTime,
    ) -> Result<(Vec<u8>, KeyEvent), KeysError> {
        let now = utc(now);
        let mut keys = Vec::with_capacity(self.records.len());
        for r in &self.records {
            let seed = self
                .keys
                .open_key(
                    &r.info.id,
                    r.info.purpose,
                    &r.public_key,
                    &r.nonce,
                    &r.ciphertext,
                )
                .ok_or_else(|| KeysError::Tampered {
                    what: format!("ciphertext of key {}", r.info.id),
                })?;
            keys.push(PlainKey {
                info: r.info.clone(),
                seed,
            });
        }
        let ciphertext = backup::seal_backup(&keys, &self.node.identity, recipient, now)?;
        Ok((
            ciphertext,
            KeyEvent::BackedUp {
                keys: keys.iter().map(|k| k.info.id.clone()).collect(),
                recipient: recipient.trim().to_string(),
                at: now,
            },
        ))
    }

    /// Rebuild a keystore at `path` (which must not exist) from an age-encrypted backup,
    /// under a new passphrase. Each private key must derive its recorded public key.
    pub fn restore(
        path: impl AsRef<Path>,
        passphrase: &SecretString,
        params: KdfParams,
        backup_bytes: &[u8],
        identity: &BackupIdentity,
        now: OffsetDateTime,
    ) -> Result<(Keystore, KeyEvent), KeysError> {
        let now = utc(now);
        let (keys, node_identity) = backup::open_backup(backup_bytes, identity)?;
        let ids = keys.iter().map(|k| k.info.id.clone()).collect();
        let store = Self::build_new(path.as_ref(), passphrase, params, keys, node_identity, now)?;
        Ok((store, KeyEvent::Restored { keys: ids, at: now }))
    }

    /// Install a key generated offline (see [`crate::backup::generate_offline`]) and
    /// encrypted to [`Keystore::node_recipient`] as the new current key of its purpose; the
    /// previous current key becomes retired.
    pub fn import(
        &mut self,
        ciphertext: &[u8],
        now: OffsetDateTime,
    ) -> Result<KeyEvent, KeysError> {
        let now = utc(now);
        let mut key = backup::open_offline(ciphertext, &self.node.identity)?;
        if self.records.iter().any(|r| r.info.id == key.info.id) {
            return Err(KeysError::DuplicateKey(key.info.id));
        }
        key.info.status = KeyStatus::Current;
        key.info.retired_at = None;
        key.info.revoked_at = None;
        key.info.revocation_reason = None;
        let purpose = key.info.purpose;
        let record = self.seal_record(key)?;
        let id = record.info.id.clone();
        let retired = self.install_current(record, now)?;
        Ok(KeyEvent::Imported {
            key: id,
            purpose,
            at: now,
            retired,
        })
    }

    // -- internals ------------------------------------------------------------------------

    fn current(&self, purpose: Purpose) -> Option<&Record> {
        self.records
            .iter()
            .find(|r| r.info.purpose == purpose && r.info.status == KeyStatus::Current)
    }

    /// Add `record` as the current key of its purpose, retiring the previous one; persist.
    fn install_current(
        &mut self,
        record: Record,
        now: OffsetDateTime,
    ) -> Result<Option<KeyId>, KeysError> {
        let purpose = record.info.purpose;
        let mut records = self.records.clone();
        let mut retired = None;
        for r in records.iter_mut() {
            if r.info.purpose == purpose && r.info.status == KeyStatus::Current {
                r.info.status = KeyStatus::Retired;
                r.info.retired_at = Some(now);
                retired = Some(r.info.id.clone());
            }
        }
        records.push(record);
        self.commit(records)?;
        Ok(retired)
    }

    /// Persist `records` atomically, then make them the in-memory state and update which
    /// slots may sign. On a write error the in-memory state is unchanged.
    fn commit(&mut self, records: Vec<Record>) -> Result<(), KeysError> {
        self.write(&records, false)?;
        self.records = records;
        for r in &self.records {
            r.slot.set_usable(r.info.status == KeyStatus::Current);
        }
        Ok(())
    }

    fn seal_record(&self, key: PlainKey) -> Result<Record, KeysError> {
        let signing = SigningKey::from_bytes(&key.seed);
        let public_key = signing.verifying_key();
        if KeyId::of(&public_key) != key.info.id {
            return Err(KeysError::KeyMismatch {
                id: key.info.id.to_string(),
            });
        }
        let (nonce, ciphertext) =
            self.keys
                .seal_key(&key.info.id, key.info.purpose, &public_key, &key.seed)?;
        Ok(Record {
            slot: Arc::new(Slot::new(
                key.info.id.clone(),
                key.info.purpose,
                signing,
                key.info.status == KeyStatus::Current,
            )),
            info: key.info,
            public_key,
            nonce,
            ciphertext,
        })
    }

    fn check_invariants(&self) -> Result<(), KeysError> {
        let malformed = |reason: String| KeysError::Malformed {
            path: self.path.clone(),
            reason,
        };
        for (i, r) in self.records.iter().enumerate() {
            if self.records[..i].iter().any(|o| o.info.id == r.info.id) {
                return Err(malformed(format!("key {} appears twice", r.info.id)));
            }
        }
        for purpose in Purpose::ALL {
            let n = self
                .records
                .iter()
                .filter(|r| r.info.purpose == purpose && r.info.status == KeyStatus::Current)
                .count();
            if n > 1 {
                return Err(malformed(format!(
                    "{n} current {} keys (at most one allowed)",
                    purpose.as_str()
                )));
            }
        }
        Ok(())
    }

    /// Write the file for `records` (the metadata MACs and the file MAC computed afresh),
    /// atomically; with `create`, only if no file exists.
    fn write(&self, records: &[Record], create: bool) -> Result<(), KeysError> {
        let keys = records
            .iter()
            .map(|r| {
                KeyRecordV1::new(
                    &r.info,
                    &r.nonce,
                    &r.ciphertext,
                    &self.keys.metadata_mac(&r.info),
                )
            })
            .collect();
        let mac = self.keys.file_mac(
            &self.kdf,
            &self.salt,
            records.iter().map(|r| &r.info.id),
            &self.node.sealed.recipient,
        );
        let file = FileV1::new(
            &self.kdf,
            &self.salt,
            self.keys.check_value(),
            keys,
            &self.node.sealed,
            &mac,
        );
        io::atomic_write(&self.path, &file.to_bytes(&self.path)?, create)
    }
}

fn check_passphrase_not_empty(passphrase: &SecretString) -> Result<(), KeysError> {
    if passphrase.expose_secret().is_empty() {
        return Err(KeysError::EmptyPassphrase);
    }
    Ok(())
}

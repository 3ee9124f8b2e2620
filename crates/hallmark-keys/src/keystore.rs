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

use crate::backup::{self, BackupIdentity};
use crate::{Backend, KeyEvent, KeyInfo, KeysError, Purpose};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use hallmark_core::did::{KeyStatus, PublishedKey};
use hallmark_core::keys::{decode_public_key_multibase, KeyId, Signer, SignerError};
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::fmt;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// The `format` value of a keystore file.
pub const FORMAT: &str = "hallmark-keystore";
/// The keystore file format version this build reads and writes.
pub const VERSION: u32 = 1;
/// The default keystore path used by the CLI.
pub const DEFAULT_PATH: &str = "hallmark-keys.json";

const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 12;
const KIND_SIGNING_KEY: &str = "signing-key";
const KIND_AGE_IDENTITY: &str = "age-identity";

type HmacSha256 = Hmac<Sha256>;

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory cost in KiB.
    pub memory_kib: u32,
    /// Number of passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl KdfParams {
    /// The default for new keystores: 64 MiB, 5 passes, 1 lane (see docs/keys.md for the
    /// measured unlock time).
    pub const RECOMMENDED: KdfParams = KdfParams {
        memory_kib: 64 * 1024,
        iterations: 5,
        parallelism: 1,
    };
    /// The weakest parameters Hallmark accepts (OWASP's Argon2id minimum: 19 MiB, 2 passes,
    /// 1 lane). Files with weaker parameters are refused.
    pub const FLOOR: KdfParams = KdfParams {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };
    const MAX_MEMORY_KIB: u32 = 4 * 1024 * 1024;
    const MAX_ITERATIONS: u32 = 64;
    const MAX_PARALLELISM: u32 = 16;

    /// Refuse parameters below [`KdfParams::FLOOR`] or absurdly expensive ones.
    pub fn check(&self) -> Result<(), KeysError> {
        if self.memory_kib < Self::FLOOR.memory_kib
            || self.iterations < Self::FLOOR.iterations
            || self.parallelism < 1
        {
            return Err(KeysError::KdfBelowFloor {
                memory_kib: self.memory_kib,
                iterations: self.iterations,
                parallelism: self.parallelism,
                min_memory_kib: Self::FLOOR.memory_kib,
                min_iterations: Self::FLOOR.iterations,
            });
        }
        if self.memory_kib > Self::MAX_MEMORY_KIB
            || self.iterations > Self::MAX_ITERATIONS
            || self.parallelism > Self::MAX_PARALLELISM
        {
            return Err(KeysError::KdfParams(format!(
                "m={} KiB, t={}, p={} exceed the maximum (m<={} KiB, t<={}, p<={})",
                self.memory_kib,
                self.iterations,
                self.parallelism,
                Self::MAX_MEMORY_KIB,
                Self::MAX_ITERATIONS,
                Self::MAX_PARALLELISM
            )));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Signers
// ---------------------------------------------------------------------------------------

/// A decrypted key, shared between the keystore and the signers handed out for it.
pub(crate) struct Slot {
    id: KeyId,
    purpose: Purpose,
    key: SigningKey,
    /// Whether the key is still current; cleared on rotation and revocation so a signer
    /// obtained earlier stops signing.
    usable: AtomicBool,
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
/// Obtained from [`Keystore::signer`], which returns the current key of exactly that
/// purpose. Once its key is rotated out or revoked, [`Signer::sign`] fails with
/// [`SignerError::NotUsable`].
#[derive(Debug, Clone)]
pub struct PurposeSigner {
    purpose: Purpose,
    backend: Backend,
    handle: KeyHandle,
}

impl PurposeSigner {
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

// ---------------------------------------------------------------------------------------
// In-memory state
// ---------------------------------------------------------------------------------------

/// Subkeys derived from the passphrase. Zeroized on drop.
struct Subkeys {
    enc: Zeroizing<[u8; 32]>,
    mac: Zeroizing<[u8; 32]>,
    check: [u8; 32],
}

#[derive(Clone)]
struct Record {
    info: KeyInfo,
    public_key: VerifyingKey,
    nonce: [u8; NONCE_LEN],
    ciphertext: Vec<u8>,
    slot: Arc<Slot>,
}

struct NodeIdentity {
    recipient: String,
    created_at: OffsetDateTime,
    nonce: [u8; NONCE_LEN],
    ciphertext: Vec<u8>,
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
            .field("node_recipient", &self.node.recipient)
            .finish_non_exhaustive()
    }
}

/// A private key in memory, with the public metadata it is stored under. Used by restore
/// and import; the seed is zeroized on drop.
pub(crate) struct PlainKey {
    pub(crate) info: KeyInfo,
    pub(crate) seed: Zeroizing<[u8; 32]>,
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
        let subkeys = derive(passphrase, &params, &salt)?;
        let node = seal_identity(&subkeys, identity, now)?;
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
        check_permissions(path)?;
        let bytes = std::fs::read(path).map_err(|e| KeysError::io(path, e))?;
        let file = parse_file(path, &bytes)?;
        Self::unseal(path, passphrase, file)
    }

    fn unseal(path: &Path, passphrase: &SecretString, file: FileV1) -> Result<Keystore, KeysError> {
        let malformed = |reason: String| KeysError::Malformed {
            path: path.to_path_buf(),
            reason,
        };
        if file.kdf.algorithm != "argon2id" || file.kdf.argon2_version != 19 {
            return Err(malformed(format!(
                "unsupported KDF {} version {}",
                file.kdf.algorithm, file.kdf.argon2_version
            )));
        }
        let params = KdfParams {
            memory_kib: file.kdf.memory_kib,
            iterations: file.kdf.iterations,
            parallelism: file.kdf.parallelism,
        };
        params.check()?;
        let salt: [u8; SALT_LEN] =
            decode_fixed(&file.kdf.salt).map_err(|r| malformed(format!("kdf.salt: {r}")))?;
        let stored_check: [u8; 32] = decode_fixed(&file.passphrase_check)
            .map_err(|r| malformed(format!("passphraseCheck: {r}")))?;
        let subkeys = derive(passphrase, &params, &salt)?;
        if !bool::from(subkeys.check.ct_eq(&stored_check)) {
            return Err(KeysError::WrongPassphrase);
        }

        // Decode every record first so swaps can be diagnosed against the others.
        let mut parsed = Vec::with_capacity(file.keys.len());
        for r in &file.keys {
            let public_key = decode_public_key_multibase(&r.public_key_multibase)
                .map_err(|e| malformed(format!("key {}: {e}", r.id)))?;
            if KeyId::of(&public_key) != r.id {
                return Err(KeysError::Tampered {
                    what: format!("id of key {}", r.id),
                });
            }
            if r.backend != Backend::File {
                return Err(malformed(format!("key {} is not a file-backend key", r.id)));
            }
            let nonce: [u8; NONCE_LEN] = decode_fixed(&r.nonce)
                .map_err(|e| malformed(format!("key {} nonce: {e}", r.id)))?;
            let ciphertext = B64
                .decode(&r.ciphertext)
                .map_err(|e| malformed(format!("key {} ciphertext: {e}", r.id)))?;
            let mac: [u8; 32] =
                decode_fixed(&r.mac).map_err(|e| malformed(format!("key {} mac: {e}", r.id)))?;
            let info = KeyInfo {
                id: r.id.clone(),
                purpose: r.purpose,
                status: r.status,
                backend: Backend::File,
                public_key_multibase: r.public_key_multibase.clone(),
                created_at: r.created_at,
                retired_at: r.retired_at,
                revoked_at: r.revoked_at,
                revocation_reason: r.revocation_reason.clone(),
            };
            parsed.push((info, public_key, nonce, ciphertext, mac));
        }

        let cipher = Aes256Gcm::new((&*subkeys.enc).into());
        let mut records = Vec::with_capacity(parsed.len());
        for (i, (info, public_key, nonce, ciphertext, mac)) in parsed.iter().enumerate() {
            let ad = key_ad(&info.id, info.purpose, public_key);
            let seed = match open_seed(&cipher, nonce, ciphertext, &ad) {
                Some(seed) => seed,
                None => {
                    for (j, (other, other_pk, ..)) in parsed.iter().enumerate() {
                        if j != i {
                            let other_ad = key_ad(&other.id, other.purpose, other_pk);
                            if open_seed(&cipher, nonce, ciphertext, &other_ad).is_some() {
                                return Err(KeysError::SwappedRecords {
                                    record: info.id.clone(),
                                    belongs_to: other.id.clone(),
                                });
                            }
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
            if !verify_mac(&subkeys.mac, &metadata_fields(info), mac) {
                return Err(KeysError::Tampered {
                    what: format!("metadata (status, times, reason) of key {}", info.id),
                });
            }
            records.push(Record {
                slot: Arc::new(Slot {
                    id: info.id.clone(),
                    purpose: info.purpose,
                    key,
                    usable: AtomicBool::new(info.status == KeyStatus::Current),
                }),
                info: info.clone(),
                public_key: *public_key,
                nonce: *nonce,
                ciphertext: ciphertext.clone(),
            });
        }

        let ni = &file.node_identity;
        let node_nonce: [u8; NONCE_LEN] =
            decode_fixed(&ni.nonce).map_err(|e| malformed(format!("nodeIdentity nonce: {e}")))?;
        let node_ct = B64
            .decode(&ni.ciphertext)
            .map_err(|e| malformed(format!("nodeIdentity ciphertext: {e}")))?;
        let plain = cipher
            .decrypt(
                Nonce::from_slice(&node_nonce),
                Payload {
                    msg: &node_ct,
                    aad: &identity_ad(&ni.recipient),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| KeysError::Tampered {
                what: "node age identity".to_string(),
            })?;
        let identity = std::str::from_utf8(&plain)
            .ok()
            .and_then(|s| BackupIdentity::parse(s).ok())
            .filter(|id| id.recipient() == ni.recipient)
            .ok_or_else(|| KeysError::Tampered {
                what: "node age identity".to_string(),
            })?;

        let store = Keystore {
            path: path.to_path_buf(),
            kdf: params,
            salt,
            keys: subkeys,
            records,
            node: NodeIdentity {
                recipient: ni.recipient.clone(),
                created_at: ni.created_at,
                nonce: node_nonce,
                ciphertext: node_ct,
                identity,
            },
        };
        let file_mac: [u8; 32] =
            decode_fixed(&file.mac).map_err(|e| malformed(format!("mac: {e}")))?;
        if !verify_mac(
            &store.keys.mac,
            &store.file_fields(&store.records),
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
            .ok_or(KeysError::NoCurrentKey(purpose))?;
        Ok(PurposeSigner {
            purpose,
            backend: Backend::File,
            handle: KeyHandle::File(Arc::clone(&record.slot)),
        })
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
        let secret = self.node.identity.to_secret();
        let hk = hkdf::Hkdf::<Sha256>::new(
            Some(b"hallmark-keystore/v1 node-secret"),
            secret.expose_secret().as_bytes(),
        );
        let mut node_secret = Zeroizing::new([0u8; 32]);
        hk.expand(b"hallmark-keystore/v1 node-integrity", &mut node_secret[..])
            .map_err(|_| KeysError::Crypto("HKDF output length"))?;
        hallmark_core::integrity::IntegrityKeys::derive(&node_secret[..])
            .map_err(|_| KeysError::Crypto("node secret length"))
    }

    /// The node's age recipient (`age1…`): encrypt offline-generated keys to it.
    pub fn node_recipient(&self) -> &str {
        &self.node.recipient
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
            .ok_or_else(|| KeysError::UnknownKey(id.clone()))?;
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
        let cipher = Aes256Gcm::new((&*self.keys.enc).into());
        let mut keys = Vec::with_capacity(self.records.len());
        for r in &self.records {
            let ad = key_ad(&r.info.id, r.info.purpose, &r.public_key);
            let seed = open_seed(&cipher, &r.nonce, &r.ciphertext, &ad).ok_or_else(|| {
                KeysError::Tampered {
                    what: format!("ciphertext of key {}", r.info.id),
                }
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
            r.slot
                .usable
                .store(r.info.status == KeyStatus::Current, Ordering::SeqCst);
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
        let mut nonce = [0u8; NONCE_LEN];
        fill_random(&mut nonce)?;
        let cipher = Aes256Gcm::new((&*self.keys.enc).into());
        let ad = key_ad(&key.info.id, key.info.purpose, &public_key);
        let ciphertext = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &key.seed[..],
                    aad: &ad,
                },
            )
            .map_err(|_| KeysError::Crypto("AES-GCM encryption failed"))?;
        Ok(Record {
            slot: Arc::new(Slot {
                id: key.info.id.clone(),
                purpose: key.info.purpose,
                key: signing,
                usable: AtomicBool::new(key.info.status == KeyStatus::Current),
            }),
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

    fn file_fields(&self, records: &[Record]) -> Vec<u8> {
        let mut ids: Vec<&str> = records.iter().map(|r| r.info.id.as_str()).collect();
        ids.sort_unstable();
        let mut f = Fields::new("file");
        f.put(b"argon2id")
            .put(&self.kdf.memory_kib.to_be_bytes())
            .put(&self.kdf.iterations.to_be_bytes())
            .put(&self.kdf.parallelism.to_be_bytes())
            .put(&self.salt)
            .put(&self.keys.check)
            .put(&(ids.len() as u64).to_be_bytes());
        for id in ids {
            f.put(id.as_bytes());
        }
        f.put(self.node.recipient.as_bytes());
        f.0
    }

    fn write(&self, records: &[Record], create: bool) -> Result<(), KeysError> {
        let file = FileV1 {
            format: FORMAT.to_string(),
            version: u64::from(VERSION),
            kdf: KdfSection {
                algorithm: "argon2id".to_string(),
                argon2_version: 19,
                memory_kib: self.kdf.memory_kib,
                iterations: self.kdf.iterations,
                parallelism: self.kdf.parallelism,
                salt: B64.encode(self.salt),
            },
            passphrase_check: B64.encode(self.keys.check),
            keys: records
                .iter()
                .map(|r| KeyRecordV1 {
                    id: r.info.id.clone(),
                    purpose: r.info.purpose,
                    status: r.info.status,
                    backend: Backend::File,
                    created_at: r.info.created_at,
                    retired_at: r.info.retired_at,
                    revoked_at: r.info.revoked_at,
                    revocation_reason: r.info.revocation_reason.clone(),
                    public_key_multibase: r.info.public_key_multibase.clone(),
                    nonce: B64.encode(r.nonce),
                    ciphertext: B64.encode(&r.ciphertext),
                    mac: B64.encode(mac(&self.keys.mac, &metadata_fields(&r.info))),
                })
                .collect(),
            node_identity: IdentityRecordV1 {
                recipient: self.node.recipient.clone(),
                created_at: self.node.created_at,
                nonce: B64.encode(self.node.nonce),
                ciphertext: B64.encode(&self.node.ciphertext),
            },
            mac: B64.encode(mac(&self.keys.mac, &self.file_fields(records))),
        };
        let mut bytes = serde_json::to_vec_pretty(&file).map_err(|e| KeysError::Malformed {
            path: self.path.clone(),
            reason: e.to_string(),
        })?;
        bytes.push(b'\n');
        atomic_write(&self.path, &bytes, create)
    }
}

// ---------------------------------------------------------------------------------------
// File format
// ---------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct Header {
    format: String,
    version: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FileV1 {
    format: String,
    version: u64,
    kdf: KdfSection,
    passphrase_check: String,
    keys: Vec<KeyRecordV1>,
    node_identity: IdentityRecordV1,
    mac: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct KdfSection {
    algorithm: String,
    argon2_version: u32,
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    salt: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct KeyRecordV1 {
    id: KeyId,
    purpose: Purpose,
    status: KeyStatus,
    backend: Backend,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    retired_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    revoked_at: Option<OffsetDateTime>,
    revocation_reason: Option<String>,
    public_key_multibase: String,
    nonce: String,
    ciphertext: String,
    mac: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct IdentityRecordV1 {
    recipient: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    nonce: String,
    ciphertext: String,
}

fn parse_file(path: &Path, bytes: &[u8]) -> Result<FileV1, KeysError> {
    let json_error = |e: serde_json::Error| {
        if e.is_eof() {
            KeysError::Truncated {
                path: path.to_path_buf(),
            }
        } else {
            KeysError::Malformed {
                path: path.to_path_buf(),
                reason: e.to_string(),
            }
        }
    };
    let header: Header = serde_json::from_slice(bytes).map_err(json_error)?;
    if header.format != FORMAT {
        return Err(KeysError::UnknownFormat {
            path: path.to_path_buf(),
            found: header.format,
        });
    }
    if header.version != u64::from(VERSION) {
        return Err(KeysError::UnsupportedVersion {
            path: path.to_path_buf(),
            found: header.version,
            supported: VERSION,
        });
    }
    serde_json::from_slice(bytes).map_err(json_error)
}

// ---------------------------------------------------------------------------------------
// Cryptographic helpers (composition of RustCrypto primitives only)
// ---------------------------------------------------------------------------------------

/// Unambiguous field encoding for associated data and MAC input.
struct Fields(Vec<u8>);

impl Fields {
    fn new(kind: &str) -> Self {
        let mut f = Fields(Vec::with_capacity(256));
        f.put(FORMAT.as_bytes())
            .put(&VERSION.to_be_bytes())
            .put(kind.as_bytes());
        f
    }
    fn put(&mut self, bytes: &[u8]) -> &mut Self {
        self.0
            .extend_from_slice(&(bytes.len() as u64).to_be_bytes());
        self.0.extend_from_slice(bytes);
        self
    }
    fn opt(&mut self, bytes: Option<&[u8]>) -> &mut Self {
        match bytes {
            None => {
                self.0.push(0);
                self
            }
            Some(b) => {
                self.0.push(1);
                self.put(b)
            }
        }
    }
}

fn time_bytes(t: OffsetDateTime) -> [u8; 16] {
    t.unix_timestamp_nanos().to_be_bytes()
}

fn key_ad(id: &KeyId, purpose: Purpose, public_key: &VerifyingKey) -> Vec<u8> {
    let mut f = Fields::new(KIND_SIGNING_KEY);
    f.put(id.as_str().as_bytes())
        .put(purpose.as_str().as_bytes())
        .put(public_key.as_bytes());
    f.0
}

fn identity_ad(recipient: &str) -> Vec<u8> {
    let mut f = Fields::new(KIND_AGE_IDENTITY);
    f.put(recipient.as_bytes());
    f.0
}

fn status_str(status: KeyStatus) -> &'static str {
    match status {
        KeyStatus::Current => "current",
        KeyStatus::Retired => "retired",
        KeyStatus::Revoked => "revoked",
    }
}

fn metadata_fields(info: &KeyInfo) -> Vec<u8> {
    let mut f = Fields::new("key-metadata");
    f.put(info.id.as_str().as_bytes())
        .put(info.purpose.as_str().as_bytes())
        .put(status_str(info.status).as_bytes())
        .put(&time_bytes(info.created_at))
        .opt(info.retired_at.map(time_bytes).as_ref().map(|b| &b[..]))
        .opt(info.revoked_at.map(time_bytes).as_ref().map(|b| &b[..]))
        .opt(info.revocation_reason.as_deref().map(str::as_bytes));
    f.0
}

fn mac(key: &[u8; 32], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length; this cannot fail.
    let mut m = <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    m.update(data);
    m.finalize().into_bytes().into()
}

fn verify_mac(key: &[u8; 32], data: &[u8], tag: &[u8; 32]) -> bool {
    bool::from(mac(key, data).ct_eq(tag))
}

fn derive(
    passphrase: &SecretString,
    params: &KdfParams,
    salt: &[u8; SALT_LEN],
) -> Result<Subkeys, KeysError> {
    let argon_params = argon2::Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        Some(32),
    )
    .map_err(|e| KeysError::KdfParams(e.to_string()))?;
    let argon = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon_params,
    );
    let mut kek = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.expose_secret().as_bytes(), salt, &mut kek[..])
        .map_err(|e| KeysError::KdfParams(e.to_string()))?;
    let hk = hkdf::Hkdf::<Sha256>::new(Some(salt), &kek[..]);
    let mut enc = Zeroizing::new([0u8; 32]);
    let mut mac_key = Zeroizing::new([0u8; 32]);
    let mut check = [0u8; 32];
    for (info, out) in [
        (&b"hallmark-keystore/v1 encryption"[..], &mut enc[..]),
        (&b"hallmark-keystore/v1 metadata-mac"[..], &mut mac_key[..]),
        (
            &b"hallmark-keystore/v1 passphrase-check"[..],
            &mut check[..],
        ),
    ] {
        hk.expand(info, out)
            .map_err(|_| KeysError::Crypto("HKDF output length"))?;
    }
    Ok(Subkeys {
        enc,
        mac: mac_key,
        check,
    })
}

fn open_seed(
    cipher: &Aes256Gcm,
    nonce: &[u8; NONCE_LEN],
    ciphertext: &[u8],
    ad: &[u8],
) -> Option<Zeroizing<[u8; 32]>> {
    let plain = Zeroizing::new(
        cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: ad,
                },
            )
            .ok()?,
    );
    let mut seed = Zeroizing::new([0u8; 32]);
    if plain.len() != 32 {
        return None;
    }
    seed.copy_from_slice(&plain);
    Some(seed)
}

fn seal_identity(
    keys: &Subkeys,
    identity: BackupIdentity,
    now: OffsetDateTime,
) -> Result<NodeIdentity, KeysError> {
    let recipient = identity.recipient();
    let secret = identity.to_secret();
    let mut nonce = [0u8; NONCE_LEN];
    fill_random(&mut nonce)?;
    let cipher = Aes256Gcm::new((&*keys.enc).into());
    let ciphertext = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: secret.expose_secret().as_bytes(),
                aad: &identity_ad(&recipient),
            },
        )
        .map_err(|_| KeysError::Crypto("AES-GCM encryption failed"))?;
    Ok(NodeIdentity {
        recipient,
        created_at: now,
        nonce,
        ciphertext,
        identity,
    })
}

pub(crate) fn fill_random(buf: &mut [u8]) -> Result<(), KeysError> {
    OsRng
        .try_fill_bytes(buf)
        .map_err(|_| KeysError::Crypto("the operating system's random generator failed"))
}

pub(crate) fn random_seed() -> Result<Zeroizing<[u8; 32]>, KeysError> {
    let mut seed = Zeroizing::new([0u8; 32]);
    fill_random(&mut seed[..])?;
    Ok(seed)
}

pub(crate) fn new_info(public: &VerifyingKey, purpose: Purpose, now: OffsetDateTime) -> KeyInfo {
    KeyInfo {
        id: KeyId::of(public),
        purpose,
        status: KeyStatus::Current,
        backend: Backend::File,
        public_key_multibase: hallmark_core::keys::public_key_multibase(public),
        created_at: now,
        retired_at: None,
        revoked_at: None,
        revocation_reason: None,
    }
}

pub(crate) fn utc(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(time::UtcOffset::UTC)
}

fn decode_fixed<const N: usize>(s: &str) -> Result<[u8; N], String> {
    let bytes = B64.decode(s).map_err(|e| e.to_string())?;
    <[u8; N]>::try_from(bytes.as_slice())
        .map_err(|_| format!("expected {N} bytes, found {}", bytes.len()))
}

fn check_passphrase_not_empty(passphrase: &SecretString) -> Result<(), KeysError> {
    if passphrase.expose_secret().is_empty() {
        return Err(KeysError::EmptyPassphrase);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------

fn check_permissions(path: &Path) -> Result<(), KeysError> {
    let meta = std::fs::metadata(path).map_err(|e| KeysError::io(path, e))?;
    if !meta.is_file() {
        return Err(KeysError::Malformed {
            path: path.to_path_buf(),
            reason: "not a regular file".to_string(),
        });
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeysError::InsecurePermissions {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

/// Write `bytes` to `path` atomically: a `0600` temporary file in the same directory,
/// fsynced, renamed over `path`, then the directory fsynced. With `create`, refuses to
/// replace an existing file.
pub(crate) fn atomic_write(path: &Path, bytes: &[u8], create: bool) -> Result<(), KeysError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| KeysError::io(path, std::io::Error::other("not a file path")))?
        .to_string_lossy()
        .into_owned();
    let mut suffix = [0u8; 8];
    fill_random(&mut suffix)?;
    let tmp = dir.join(format!(
        ".{name}.tmp-{}",
        suffix
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    ));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| KeysError::io(&tmp, e))?;
        f.write_all(bytes).map_err(|e| KeysError::io(&tmp, e))?;
        f.sync_all().map_err(|e| KeysError::io(&tmp, e))?;
        drop(f);
        if create && path.exists() {
            return Err(KeysError::AlreadyExists {
                path: path.to_path_buf(),
            });
        }
        std::fs::rename(&tmp, path).map_err(|e| KeysError::io(path, e))?;
        std::fs::File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| KeysError::io(&dir, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Write a new file readable by its owner only (`0600`), refusing to overwrite. Used for
/// backups and offline-generated keys (which are age ciphertexts).
pub fn write_new_private_file(path: impl AsRef<Path>, bytes: &[u8]) -> Result<(), KeysError> {
    let path = path.as_ref();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                KeysError::AlreadyExists {
                    path: path.to_path_buf(),
                }
            } else {
                KeysError::io(path, e)
            }
        })?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| KeysError::io(path, e))
}

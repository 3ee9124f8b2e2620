//! The keystore file format (version 1): the serde structures of the JSON file, reading
//! (JSON completeness, format name, version, base64 fields) and writing it. No
//! cryptography happens here: sealed keys, check values and MACs are opaque bytes.

use super::crypto::{KdfParams, FORMAT, NONCE_LEN, SALT_LEN, VERSION};
use crate::{Backend, KeyInfo, KeysError, Purpose};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::VerifyingKey;
use hallmark_core::did::KeyStatus;
use hallmark_core::keys::{decode_public_key_multibase, KeyId};
use serde::{Deserialize, Serialize};
use std::path::Path;
use time::OffsetDateTime;

#[derive(Deserialize)]
struct Header {
    format: String,
    version: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct FileV1 {
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
pub(super) struct KdfSection {
    algorithm: String,
    argon2_version: u32,
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    salt: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct KeyRecordV1 {
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
pub(super) struct IdentityRecordV1 {
    recipient: String,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    nonce: String,
    ciphertext: String,
}

/// Parse a keystore file: complete JSON (a cut-short file is [`KeysError::Truncated`]),
/// this format and version, then the whole structure.
pub(super) fn parse_file(path: &Path, bytes: &[u8]) -> Result<FileV1, KeysError> {
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

/// A key record as read from the file, its fields decoded (not yet decrypted or checked
/// against the MAC).
pub(super) struct StoredKey {
    pub(super) info: KeyInfo,
    pub(super) public_key: VerifyingKey,
    pub(super) nonce: [u8; NONCE_LEN],
    pub(super) ciphertext: Vec<u8>,
    pub(super) mac: [u8; 32],
}

/// The sealed node identity as read from (or written to) the file.
pub(super) struct StoredIdentity {
    pub(super) recipient: String,
    pub(super) created_at: OffsetDateTime,
    pub(super) nonce: [u8; NONCE_LEN],
    pub(super) ciphertext: Vec<u8>,
}

fn malformed(path: &Path) -> impl Fn(String) -> KeysError + '_ {
    move |reason| KeysError::Malformed {
        path: path.to_path_buf(),
        reason,
    }
}

impl FileV1 {
    /// A file from its parts (`keys` from [`KeyRecordV1::new`]).
    pub(super) fn new(
        kdf: &KdfParams,
        salt: &[u8; SALT_LEN],
        check: &[u8; 32],
        keys: Vec<KeyRecordV1>,
        identity: &StoredIdentity,
        mac: &[u8; 32],
    ) -> FileV1 {
        FileV1 {
            format: FORMAT.to_string(),
            version: u64::from(VERSION),
            kdf: KdfSection {
                algorithm: "argon2id".to_string(),
                argon2_version: 19,
                memory_kib: kdf.memory_kib,
                iterations: kdf.iterations,
                parallelism: kdf.parallelism,
                salt: B64.encode(salt),
            },
            passphrase_check: B64.encode(check),
            keys,
            node_identity: IdentityRecordV1 {
                recipient: identity.recipient.clone(),
                created_at: identity.created_at,
                nonce: B64.encode(identity.nonce),
                ciphertext: B64.encode(&identity.ciphertext),
            },
            mac: B64.encode(mac),
        }
    }

    /// The file's bytes: pretty JSON and a final newline.
    pub(super) fn to_bytes(&self, path: &Path) -> Result<Vec<u8>, KeysError> {
        let mut bytes = serde_json::to_vec_pretty(self).map_err(|e| KeysError::Malformed {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    /// The KDF section: Argon2id version 19 only, parameters at or above the floor, the
    /// salt and the passphrase check value.
    pub(super) fn kdf(
        &self,
        path: &Path,
    ) -> Result<(KdfParams, [u8; SALT_LEN], [u8; 32]), KeysError> {
        let malformed = malformed(path);
        if self.kdf.algorithm != "argon2id" || self.kdf.argon2_version != 19 {
            return Err(malformed(format!(
                "unsupported KDF {} version {}",
                self.kdf.algorithm, self.kdf.argon2_version
            )));
        }
        let params = KdfParams {
            memory_kib: self.kdf.memory_kib,
            iterations: self.kdf.iterations,
            parallelism: self.kdf.parallelism,
        };
        params.check()?;
        let salt: [u8; SALT_LEN] =
            decode_fixed(&self.kdf.salt).map_err(|r| malformed(format!("kdf.salt: {r}")))?;
        let check: [u8; 32] = decode_fixed(&self.passphrase_check)
            .map_err(|r| malformed(format!("passphraseCheck: {r}")))?;
        Ok((params, salt, check))
    }

    /// Every key record decoded, in file order. A record whose id is not its public key's
    /// is tampered; one of another backend is malformed.
    pub(super) fn keys(&self, path: &Path) -> Result<Vec<StoredKey>, KeysError> {
        let malformed = malformed(path);
        let mut out = Vec::with_capacity(self.keys.len());
        for r in &self.keys {
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
            out.push(StoredKey {
                info,
                public_key,
                nonce,
                ciphertext,
                mac,
            });
        }
        Ok(out)
    }

    /// The sealed node identity, decoded.
    pub(super) fn identity(&self, path: &Path) -> Result<StoredIdentity, KeysError> {
        let malformed = malformed(path);
        let ni = &self.node_identity;
        let nonce: [u8; NONCE_LEN] =
            decode_fixed(&ni.nonce).map_err(|e| malformed(format!("nodeIdentity nonce: {e}")))?;
        let ciphertext = B64
            .decode(&ni.ciphertext)
            .map_err(|e| malformed(format!("nodeIdentity ciphertext: {e}")))?;
        Ok(StoredIdentity {
            recipient: ni.recipient.clone(),
            created_at: ni.created_at,
            nonce,
            ciphertext,
        })
    }

    /// The file MAC, decoded.
    pub(super) fn mac(&self, path: &Path) -> Result<[u8; 32], KeysError> {
        decode_fixed(&self.mac).map_err(|e| malformed(path)(format!("mac: {e}")))
    }
}

impl KeyRecordV1 {
    /// A key record from its metadata, sealed seed and metadata MAC.
    pub(super) fn new(
        info: &KeyInfo,
        nonce: &[u8; NONCE_LEN],
        ciphertext: &[u8],
        mac: &[u8; 32],
    ) -> KeyRecordV1 {
        KeyRecordV1 {
            id: info.id.clone(),
            purpose: info.purpose,
            status: info.status,
            backend: Backend::File,
            created_at: info.created_at,
            retired_at: info.retired_at,
            revoked_at: info.revoked_at,
            revocation_reason: info.revocation_reason.clone(),
            public_key_multibase: info.public_key_multibase.clone(),
            nonce: B64.encode(nonce),
            ciphertext: B64.encode(ciphertext),
            mac: B64.encode(mac),
        }
    }
}

fn decode_fixed<const N: usize>(s: &str) -> Result<[u8; N], String> {
    let bytes = B64.decode(s).map_err(|e| e.to_string())?;
    <[u8; N]>::try_from(bytes.as_slice())
        .map_err(|_| format!("expected {N} bytes, found {}", bytes.len()))
}

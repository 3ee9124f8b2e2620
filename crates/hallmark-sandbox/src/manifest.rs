//! Signed plugin manifests.
//!
//! A manifest names the plugin, the sectors it serves, the SHA-256 of its module and the
//! limits it asks for. The publisher signs the RFC 8785 (JCS) canonical bytes of the
//! manifest object with Ed25519; the file on disk is a [`SignedManifest`].

use crate::abi::SectorSupport;
use crate::SandboxError;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use hallmark_core::keys::{
    decode_public_key_multibase, decode_signature_multibase, public_key_multibase,
    signature_multibase,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Limits a plugin asks for; each must be within the host's caps. Absent = the host cap.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RequestedLimits {
    /// Fuel per call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fuel: Option<u64>,
    /// Linear memory in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_bytes: Option<u64>,
    /// Output size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_bytes: Option<u64>,
}

/// The module a manifest pins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleRef {
    /// Lower-case hex SHA-256 of the `.wasm` bytes.
    pub sha256: String,
}

/// The signed content of a plugin manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// ABI version the module speaks.
    pub abi: u32,
    /// Plugin name.
    pub name: String,
    /// Plugin version.
    pub version: String,
    /// Sectors and schema versions served.
    pub sectors: Vec<SectorSupport>,
    /// The module.
    pub module: ModuleRef,
    /// Limits requested (within host caps).
    #[serde(default)]
    pub limits: RequestedLimits,
}

/// A manifest with its publisher key and signature (the `.manifest.json` file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignedManifest {
    /// The signed content.
    pub manifest: Manifest,
    /// The publisher's Ed25519 key as a Multikey (`z6Mk...`).
    pub publisher_key_multibase: String,
    /// Ed25519 signature over JCS(`manifest`), multibase base58btc.
    pub signature_multibase: String,
}

/// Lower-case hex SHA-256 of module bytes.
pub fn module_sha256(wasm: &[u8]) -> String {
    hex::encode(Sha256::digest(wasm))
}

impl Manifest {
    /// The canonical (JCS) bytes that are signed.
    pub fn signing_bytes(&self) -> Result<Vec<u8>, SandboxError> {
        hallmark_core::jcs::canonicalize_serialize(self)
            .map_err(|e| SandboxError::Manifest(e.to_string()))
    }

    /// Sign with a publisher key (used by publishers' tooling and tests).
    pub fn sign(self, key: &SigningKey) -> Result<SignedManifest, SandboxError> {
        let sig = key.sign(&self.signing_bytes()?);
        Ok(SignedManifest {
            publisher_key_multibase: public_key_multibase(&key.verifying_key()),
            signature_multibase: signature_multibase(&sig),
            manifest: self,
        })
    }
}

impl SignedManifest {
    /// Parse a `.manifest.json` file.
    pub fn from_json(bytes: &[u8]) -> Result<Self, SandboxError> {
        serde_json::from_slice(bytes).map_err(|e| SandboxError::Manifest(e.to_string()))
    }

    /// Check publisher trust, the signature (`verify_strict`) and the module hash.
    pub fn verify(&self, trusted: &[VerifyingKey], wasm: &[u8]) -> Result<(), SandboxError> {
        let key = decode_public_key_multibase(&self.publisher_key_multibase)
            .map_err(|e| SandboxError::Manifest(format!("publisher key: {e}")))?;
        if !trusted.iter().any(|t| t.as_bytes() == key.as_bytes()) {
            return Err(SandboxError::UntrustedPublisher(
                self.publisher_key_multibase.clone(),
            ));
        }
        let sig: Signature = decode_signature_multibase(&self.signature_multibase)
            .map_err(|e| SandboxError::Manifest(format!("signature: {e}")))?;
        key.verify_strict(&self.manifest.signing_bytes()?, &sig)
            .map_err(|_| SandboxError::BadSignature)?;
        let actual = module_sha256(wasm);
        if actual != self.manifest.module.sha256 {
            return Err(SandboxError::HashMismatch {
                expected: self.manifest.module.sha256.clone(),
                actual,
            });
        }
        Ok(())
    }
}

//! Application state shared by the handlers: the store, the issuer (DID + base URL), the
//! signing backend (file keystore or HSM), the sector registry and the plugin gate.

use crate::plugins::PluginGate;
use crate::problem::ApiError;
use hallmark_core::did::{DidDocument, KeyStatus};
use hallmark_core::integrity::IntegrityKeys;
use hallmark_core::issue::Issuer;
use hallmark_core::keys::{decode_public_key_multibase, KeyId, Signer};
use hallmark_core::sector::SectorRegistry;
use hallmark_keys::hsm::{HsmError, HsmState};
use hallmark_keys::keystore::Keystore;
use hallmark_keys::{KeyEvent, KeyInfo, KeysError, Purpose};
use hallmark_store::{AuditEvent, SigningKeyRecord, SigningKeyStatus, Store, StoreError};
use std::sync::{Arc, RwLock};
use time::OffsetDateTime;

/// Where the node's signing keys live.
pub enum SigningBackend {
    /// The encrypted file keystore, unlocked at start-up.
    Keystore(Box<RwLock<Keystore>>),
    /// A PKCS#11 token (possibly unavailable: then signing fails with 503), with the row
    /// authentication keys derived from `HALLMARK_NODE_SECRET` (the token does not have to be
    /// reachable for the node to check its own rows).
    Hsm(HsmState, Arc<IntegrityKeys>),
}

impl std::fmt::Debug for SigningBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SigningBackend::Keystore(_) => f.write_str("SigningBackend::Keystore"),
            SigningBackend::Hsm(s, _) => {
                write!(f, "SigningBackend::Hsm(ready: {})", s.is_ready())
            }
        }
    }
}

/// The detail of the 503 returned when the HSM cannot sign.
pub const HSM_UNAVAILABLE: &str = "HSM unavailable";

/// Why key custody refused an operation, whichever backend holds the keys (the service
/// layer decides what each means to a client: `crate::service::ServiceError`).
#[derive(Debug, thiserror::Error)]
pub enum CustodyError {
    /// The file keystore refused.
    #[error(transparent)]
    Keystore(#[from] KeysError),
    /// The HSM refused, or could not be reached.
    #[error(transparent)]
    Hsm(#[from] HsmError),
    /// The HSM was not reachable at start-up (signing answers 503 until the node restarts).
    #[error("{HSM_UNAVAILABLE}")]
    HsmUnavailable,
}

/// Why [`App::sync_signing_keys`] failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// Custody could not list its keys.
    #[error(transparent)]
    Custody(#[from] CustodyError),
    /// The store refused a read or write.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    match l.read() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    match l.write() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl SigningBackend {
    /// A signer for the current passport-signing key. For an unavailable HSM, a signer that
    /// reports the last published key and refuses to sign (so the error surfaces as 503).
    pub fn passport_signer(
        &self,
        last_known: Option<&str>,
    ) -> Result<Box<dyn Signer>, CustodyError> {
        match self {
            SigningBackend::Keystore(ks) => {
                Ok(Box::new(read(ks).signer(Purpose::PassportSigning)?))
            }
            SigningBackend::Hsm(state, _) => {
                let last = last_known.and_then(|m| decode_public_key_multibase(m).ok());
                Ok(Box::new(state.signer(Purpose::PassportSigning, last)?))
            }
        }
    }

    /// The row-authentication keys: derived from the keystore's sealed node identity, or
    /// the HSM backend's configured node secret.
    pub fn integrity_keys(&self) -> Result<Arc<IntegrityKeys>, KeysError> {
        match self {
            SigningBackend::Keystore(ks) => Ok(Arc::new(read(ks).integrity_keys()?)),
            SigningBackend::Hsm(_, keys) => Ok(Arc::clone(keys)),
        }
    }

    /// Whether signing can currently work.
    pub fn is_ready(&self) -> bool {
        match self {
            SigningBackend::Keystore(_) => true,
            SigningBackend::Hsm(s, _) => s.is_ready(),
        }
    }

    /// Public metadata of every key the backend holds.
    pub fn list(&self) -> Result<Vec<KeyInfo>, CustodyError> {
        match self {
            SigningBackend::Keystore(ks) => Ok(read(ks).list()),
            SigningBackend::Hsm(state, _) => match state.ready() {
                Some(h) => Ok(h.list()?),
                None => Err(CustodyError::HsmUnavailable),
            },
        }
    }

    /// Rotates the passport-signing key.
    pub fn rotate(&self, now: OffsetDateTime) -> Result<KeyEvent, CustodyError> {
        match self {
            SigningBackend::Keystore(ks) => Ok(write(ks).rotate(Purpose::PassportSigning, now)?),
            SigningBackend::Hsm(state, _) => match state.ready() {
                Some(h) => Ok(h.rotate(Purpose::PassportSigning, now)?),
                None => Err(CustodyError::HsmUnavailable),
            },
        }
    }

    /// Revokes a key.
    pub fn revoke(
        &self,
        id: &KeyId,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<KeyEvent, CustodyError> {
        match self {
            SigningBackend::Keystore(ks) => Ok(write(ks).revoke(id, reason, now)?),
            SigningBackend::Hsm(state, _) => match state.ready() {
                Some(h) => Ok(h.revoke(id, reason, now)?),
                None => Err(CustodyError::HsmUnavailable),
            },
        }
    }
}

/// Everything a handler needs.
pub struct App {
    /// Persistence.
    pub store: Arc<dyn Store>,
    /// The DID and public base URL credentials are issued under.
    pub issuer: Issuer,
    /// The signing keys.
    pub signing: SigningBackend,
    /// Sector schemas.
    pub registry: &'static SectorRegistry,
    /// The transparency log (in-memory tree, latest checkpoint, signer status).
    pub log: crate::transparency::TransparencyLog,
    /// Sector plugins run after schema validation in the publish path.
    pub plugins: PluginGate,
    /// Served bytes of published versions (immutable, bounded).
    pub credentials: crate::cache::CredentialCache,
    /// The DID document's bytes (short-lived; dropped when this node changes a key).
    pub did_document_cache: crate::cache::DidDocumentCache,
    /// Passports' status and current version for the public read path (short-lived;
    /// dropped when this node changes the passport).
    pub passport_states: crate::cache::PassportStateCache,
    /// API keys the admin edge has looked up (short-lived; dropped when this node revokes
    /// the key).
    pub api_keys: Arc<crate::cache::ApiKeyCache>,
    /// The row-authentication keys (`hallmark_core::integrity`), from key custody.
    pub integrity: Arc<IntegrityKeys>,
    /// Integrity findings (rows the node did not write), for `/health`.
    pub alarms: crate::integrity::Alarms,
}

/// Cheaply cloneable handle on [`App`].
pub type AppState = Arc<App>;

fn key_status(s: KeyStatus) -> SigningKeyStatus {
    match s {
        KeyStatus::Current => SigningKeyStatus::Current,
        KeyStatus::Retired => SigningKeyStatus::Retired,
        KeyStatus::Revoked => SigningKeyStatus::Revoked,
    }
}

impl App {
    /// Copies the backend's key metadata into the store (new keys inserted, status changes
    /// applied), each write with its own audit event in the same transaction; every row it
    /// writes carries the node's tag. A row written before row authentication that custody
    /// agrees with gets its tag here (`signing-key.authenticated`). A row that is not the
    /// node's (wrong or missing tag, custody disagrees) is never written over or tagged: it
    /// is reported and left for `hallmark log check` and the operator.
    pub async fn sync_signing_keys(
        &self,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<(), SyncError> {
        let keys = match self.signing.list() {
            Ok(k) => k,
            // An unavailable HSM: keep serving the last known metadata.
            Err(
                CustodyError::HsmUnavailable
                | CustodyError::Hsm(HsmError::Unavailable { .. } | HsmError::NoCurrentKey(_)),
            ) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let stored = self.store.list_signing_keys().await?;
        for info in keys {
            let status = key_status(info.status);
            let backend = match info.backend {
                hallmark_keys::Backend::File => "file",
                hallmark_keys::Backend::Pkcs11 => "pkcs11",
            };
            match stored.iter().find(|s| s.key_id == info.id.as_str()) {
                None => {
                    let mut audit = AuditEvent::new(now, actor, "signing-key.registered");
                    audit.subject = Some(info.id.to_string());
                    audit.detail = serde_json::json!({
                        "purpose": info.purpose.as_str(),
                        "backend": backend,
                        "status": status.as_str(),
                        "publicKeyMultibase": info.public_key_multibase,
                    });
                    self.store
                        .insert_signing_key(
                            SigningKeyRecord {
                                key_id: info.id.to_string(),
                                purpose: info.purpose.as_str().to_string(),
                                backend: backend.to_string(),
                                public_key_multibase: info.public_key_multibase.clone(),
                                status,
                                created_at: info.created_at,
                                retired_at: info.retired_at,
                                revoked_at: info.revoked_at,
                                revocation_reason: info.revocation_reason.clone(),
                                tag: None,
                            },
                            audit,
                        )
                        .await?;
                }
                Some(s)
                    if s.public_key_multibase != info.public_key_multibase
                        || s.purpose != info.purpose.as_str() =>
                {
                    // Someone else's row under this key's id.
                    crate::integrity::alarm(
                        self,
                        crate::integrity::AlarmKind::KeyRow,
                        &s.key_id,
                        serde_json::json!({ "keyId": s.key_id, "reason": "differs from custody" }),
                    )
                    .await;
                }
                Some(s) if s.tag.is_none() && s.status == status => {
                    // Written before row authentication and as custody says: tag it.
                    let mut audit = AuditEvent::new(now, actor, "signing-key.authenticated");
                    audit.subject = Some(info.id.to_string());
                    audit.detail = serde_json::json!({
                        "purpose": info.purpose.as_str(),
                        "status": status.as_str(),
                        "publicKeyMultibase": info.public_key_multibase,
                    });
                    self.store.tag_signing_key(s.clone(), audit).await?;
                }
                Some(s) if !s.is_authentic(&self.integrity) => {
                    crate::integrity::alarm(
                        self,
                        crate::integrity::AlarmKind::KeyRow,
                        &s.key_id,
                        serde_json::json!({
                            "keyId": s.key_id,
                            "reason": "the row's tag does not verify",
                            "stored": s.status.as_str(),
                            "custody": status.as_str(),
                        }),
                    )
                    .await;
                }
                Some(s) if s.status != status && s.status.can_transition_to(status) => {
                    let mut audit =
                        AuditEvent::new(now, actor, &format!("signing-key.{}", status.as_str()));
                    audit.subject = Some(info.id.to_string());
                    audit.detail = serde_json::json!({
                        "purpose": info.purpose.as_str(),
                        "from": s.status.as_str(),
                        "to": status.as_str(),
                        "reason": info.revocation_reason,
                    });
                    self.store
                        .set_signing_key_status(
                            &s.key_id,
                            status,
                            info.revocation_reason.clone(),
                            audit,
                        )
                        .await?;
                }
                Some(_) => {}
            }
        }
        // Served within DID_DOCUMENT_TTL by other nodes; at once by this one.
        self.did_document_cache.invalidate();
        Ok(())
    }

    /// The current passport-signing key's multibase, per the trusted keys (for an
    /// unavailable HSM). Only the HSM backend needs it (to name the key it cannot reach); for
    /// the keystore this is `None` without a query.
    pub async fn last_known_signing_key(&self) -> Option<String> {
        if !matches!(self.signing, SigningBackend::Hsm(..)) {
            return None;
        }
        crate::integrity::trusted_keys(self)
            .await
            .ok()?
            .into_iter()
            .find(|k| {
                k.purpose == Purpose::PassportSigning.as_str()
                    && k.status == SigningKeyStatus::Current
            })
            .map(|k| k.public_key_multibase)
    }

    /// The DID document: current and retired passport-signing keys of custody merged with
    /// the authenticated signing-key rows (so it is served with the HSM down, and lists keys
    /// a sibling node rotated in); revoked keys are never published, and a row the node did
    /// not write changes nothing.
    pub async fn did_document(&self) -> Result<DidDocument, ApiError> {
        let keys = crate::integrity::trusted_keys(self).await?;
        Ok(crate::integrity::did_document(&self.issuer.did, &keys))
    }
}

//! Application state shared by the handlers: the store, the issuer (DID + base URL), the
//! signing backend (file keystore or HSM), the sector registry and the plugin gate.

use crate::plugins::PluginGate;
use crate::problem::ApiError;
use hallmark_core::did::{DidDocument, KeyStatus};
use hallmark_core::integrity::IntegrityKeys;
use hallmark_core::issue::Issuer;
use hallmark_core::keys::{decode_public_key_multibase, KeyId, Signer};
use hallmark_core::sector::SectorRegistry;
use hallmark_core::tlog::event::{
    Action, Detail, KeyAuthenticated, KeyRegistered, KeyStatusChanged,
};
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

fn keys_error(e: KeysError) -> ApiError {
    match e {
        KeysError::NoCurrentKey(_) => ApiError::SigningUnavailable {
            detail: "no current passport-signing key; rotate to create one".into(),
        },
        KeysError::UnknownKey(_) => ApiError::NotFound,
        KeysError::AlreadyRevoked(id) => ApiError::Conflict {
            detail: format!("key {id} is already revoked"),
        },
        KeysError::EmptyReason => ApiError::Unprocessable {
            detail: "a revocation reason is required".into(),
        },
        other => {
            tracing::error!(error = %other, "keystore operation failed");
            ApiError::Internal
        }
    }
}

fn hsm_error(e: HsmError) -> ApiError {
    match e {
        HsmError::Unavailable { .. } => ApiError::SigningUnavailable {
            detail: HSM_UNAVAILABLE.into(),
        },
        HsmError::NoCurrentKey(_) => ApiError::SigningUnavailable {
            detail: "no current passport-signing key in the HSM; rotate to create one".into(),
        },
        HsmError::UnknownKey(_) => ApiError::NotFound,
        HsmError::AlreadyRevoked(id) => ApiError::Conflict {
            detail: format!("key {id} is already revoked"),
        },
        other => {
            tracing::error!(error = %other, "HSM operation failed");
            ApiError::Internal
        }
    }
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
    pub fn passport_signer(&self, last_known: Option<&str>) -> Result<Box<dyn Signer>, ApiError> {
        match self {
            SigningBackend::Keystore(ks) => Ok(Box::new(
                read(ks)
                    .signer(Purpose::PassportSigning)
                    .map_err(keys_error)?,
            )),
            SigningBackend::Hsm(state, _) => {
                let last = last_known.and_then(|m| decode_public_key_multibase(m).ok());
                Ok(Box::new(
                    state
                        .signer(Purpose::PassportSigning, last)
                        .map_err(hsm_error)?,
                ))
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
    pub fn list(&self) -> Result<Vec<KeyInfo>, ApiError> {
        match self {
            SigningBackend::Keystore(ks) => Ok(read(ks).list()),
            SigningBackend::Hsm(state, _) => match state.ready() {
                Some(h) => h.list().map_err(hsm_error),
                None => Err(ApiError::SigningUnavailable {
                    detail: HSM_UNAVAILABLE.into(),
                }),
            },
        }
    }

    /// Rotates the passport-signing key.
    pub fn rotate(&self, now: OffsetDateTime) -> Result<KeyEvent, ApiError> {
        match self {
            SigningBackend::Keystore(ks) => write(ks)
                .rotate(Purpose::PassportSigning, now)
                .map_err(keys_error),
            SigningBackend::Hsm(state, _) => match state.ready() {
                Some(h) => h.rotate(Purpose::PassportSigning, now).map_err(hsm_error),
                None => Err(ApiError::SigningUnavailable {
                    detail: HSM_UNAVAILABLE.into(),
                }),
            },
        }
    }

    /// Revokes a key.
    pub fn revoke(
        &self,
        id: &KeyId,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<KeyEvent, ApiError> {
        match self {
            SigningBackend::Keystore(ks) => write(ks).revoke(id, reason, now).map_err(keys_error),
            SigningBackend::Hsm(state, _) => match state.ready() {
                Some(h) => h.revoke(id, reason, now).map_err(hsm_error),
                None => Err(ApiError::SigningUnavailable {
                    detail: HSM_UNAVAILABLE.into(),
                }),
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

/// Maps a store error to the API: not found, conflicts and refused transitions are the
/// client's business; anything else is logged and becomes a 500.
pub fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound(_) => ApiError::NotFound,
        StoreError::Conflict(d) | StoreError::ImmutableViolation(d) => {
            ApiError::Conflict { detail: d }
        }
        StoreError::InvalidTransition { from, to } => ApiError::Conflict {
            detail: format!("a {from} passport cannot become {to}"),
        },
        StoreError::IdentifierInUse { key, existing } => ApiError::IdentifierInUse {
            identifier: key,
            existing: existing.map(|id| id.uuid().hyphenated().to_string()),
        },
        StoreError::Constraint(d) => ApiError::Unprocessable { detail: d },
        other => {
            tracing::error!(error = %other, "store operation failed");
            ApiError::Internal
        }
    }
}

/// An audit detail that could not be written as JSON (never expected: the detail types
/// serialise infallibly); logged, answered 500.
pub fn event_error(e: hallmark_core::tlog::EventError) -> ApiError {
    tracing::error!(error = %e, "audit event detail");
    ApiError::Internal
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
    ) -> Result<(), ApiError> {
        let keys = match self.signing.list() {
            Ok(k) => k,
            // An unavailable HSM: keep serving the last known metadata.
            Err(ApiError::SigningUnavailable { .. }) => return Ok(()),
            Err(e) => return Err(e),
        };
        let stored = self.store.list_signing_keys().await.map_err(store_error)?;
        for info in keys {
            let status = key_status(info.status);
            let backend = match info.backend {
                hallmark_keys::Backend::File => "file",
                hallmark_keys::Backend::Pkcs11 => "pkcs11",
            };
            match stored.iter().find(|s| s.key_id == info.id.as_str()) {
                None => {
                    let mut audit = AuditEvent::of(now, actor, Action::SigningKeyRegistered);
                    audit.subject = Some(info.id.to_string());
                    audit.detail = KeyRegistered {
                        purpose: info.purpose.as_str().to_string(),
                        backend: backend.to_string(),
                        status: status.as_str().to_string(),
                        public_key_multibase: Some(info.public_key_multibase.clone()),
                    }
                    .to_value()
                    .map_err(event_error)?;
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
                        .await
                        .map_err(store_error)?;
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
                    let mut audit = AuditEvent::of(now, actor, Action::SigningKeyAuthenticated);
                    audit.subject = Some(info.id.to_string());
                    audit.detail = KeyAuthenticated {
                        purpose: info.purpose.as_str().to_string(),
                        status: status.as_str().to_string(),
                        public_key_multibase: info.public_key_multibase.clone(),
                    }
                    .to_value()
                    .map_err(event_error)?;
                    self.store
                        .tag_signing_key(s.clone(), audit)
                        .await
                        .map_err(store_error)?;
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
                    // A permitted change is to retired or revoked, each with its action.
                    let action = status.change_action().ok_or(ApiError::Internal)?;
                    let mut audit = AuditEvent::of(now, actor, action);
                    audit.subject = Some(info.id.to_string());
                    audit.detail = KeyStatusChanged {
                        purpose: info.purpose.as_str().to_string(),
                        from: s.status.as_str().to_string(),
                        to: status.as_str().to_string(),
                        reason: info.revocation_reason.clone(),
                    }
                    .to_value()
                    .map_err(event_error)?;
                    self.store
                        .set_signing_key_status(
                            &s.key_id,
                            status,
                            info.revocation_reason.clone(),
                            audit,
                        )
                        .await
                        .map_err(store_error)?;
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
        let keys = crate::integrity::trusted_keys(self)
            .await
            .map_err(store_error)?;
        Ok(crate::integrity::did_document(&self.issuer.did, &keys))
    }
}

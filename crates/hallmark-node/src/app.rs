//! Application state shared by the handlers: the store, the issuer (DID + base URL), key
//! custody (one [`KeyCustody`]: file keystore or HSM, never asked which), the sector
//! registry and the plugin gate.

use crate::plugins::PluginGate;
use crate::problem::ApiError;
use hallmark_core::did::{DidDocument, KeyStatus};
use hallmark_core::integrity::IntegrityKeys;
use hallmark_core::issue::Issuer;
use hallmark_core::keys::{decode_public_key_multibase, KeyId, Signer};
use hallmark_core::sector::SectorRegistry;
use hallmark_core::tlog::event::{
    Action, Detail, EventError, KeyAuthenticated, KeyRegistered, KeyStatusChanged,
};
use hallmark_keys::{KeyCustody, KeyEvent, KeysError, Purpose};
use hallmark_store::{AuditEvent, SigningKeyRecord, SigningKeyStatus, Store, StoreError};
use std::sync::Arc;
use time::OffsetDateTime;

/// The detail of the 503 returned when the HSM cannot sign.
pub const HSM_UNAVAILABLE: &str = "HSM unavailable";

/// Why [`App::sync_signing_keys`] failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// Custody could not list its keys.
    #[error(transparent)]
    Custody(#[from] KeysError),
    /// The store refused a read or write.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An audit detail could not be written (never expected: the detail types serialise
    /// infallibly).
    #[error(transparent)]
    Event(#[from] EventError),
    /// Custody reported a key status that is not a change (never expected).
    #[error("signing key {0}: custody reports a status change to {1}")]
    StatusChange(String, &'static str),
}

/// Everything a handler needs.
pub struct App {
    /// Persistence.
    pub store: Arc<dyn Store>,
    /// The DID and public base URL credentials are issued under.
    pub issuer: Issuer,
    /// Key custody: the signing keys, wherever they live.
    pub custody: Arc<dyn KeyCustody>,
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
    /// The resolver's lookups (product key → live passport), dropped whole on any passport
    /// change.
    pub resolves: crate::cache::ResolveCache,
    /// API keys the admin edge has looked up (short-lived; dropped when this node revokes
    /// the key).
    pub api_keys: Arc<crate::cache::ApiKeyCache>,
    /// The row-authentication keys (`hallmark_core::integrity`), from key custody.
    pub integrity: Arc<IntegrityKeys>,
    /// Integrity findings (rows the node did not write), for `/health`.
    pub alarms: crate::integrity::Alarms,
    /// Published versions as verified for the consumer page (immutable but for the log
    /// entry's first check, bounded).
    pub evidence: crate::evidence::EvidenceCache,
    /// Rendered consumer pages (bounded).
    pub pages: crate::evidence::PageCache,
    /// Held while a status change reads, re-signs and stores its status list versions: the
    /// node's own changes to one list take turns instead of racing for the list's next
    /// version (a race lost to another node sharing the database is still retried).
    pub status_list_writes: tokio::sync::Mutex<()>,
    /// The EU registry's back-up link of each passport version
    /// (`HALLMARK_BACKUP_LINK_TEMPLATE`), set once at start-up when configured; without it
    /// the registry export answers 409 `backup-link-not-configured`.
    pub backup_link: std::sync::OnceLock<crate::config::BackupLinkTemplate>,
    /// Whether authority-tier answers to signed readers are always sealed (JWE to the
    /// reader's X25519 key), asked for or not (`HALLMARK_SEAL_AUTHORITY`; set at start-up).
    pub seal_authority: std::sync::atomic::AtomicBool,
    /// Where the outbox's events go (`HALLMARK_NATS_*`), set once at start-up when
    /// configured: the listeners' start then spawns the relay (`relay`).
    pub nats: std::sync::OnceLock<crate::config::NatsSettings>,
    /// Webhooks: the destinations allowed and the retry schedule (docs/events.md,
    /// "Webhooks"); unset: none allowed.
    pub webhooks: std::sync::OnceLock<crate::config::WebhookSettings>,
    /// The verification service's did:web fetching (docs/verify.md, "Verification
    /// service"); unset: did:web is not fetched.
    pub did_web: std::sync::OnceLock<crate::config::DidWebSettings>,
    /// The open status list's taken positions (a first publication's draw).
    pub status_positions: crate::positions::StatusPositions,
    /// The status lists as served (the latest of each, and versions by number).
    pub status_lists: crate::cache::StatusListCache,
    /// Outcome counts of the imports this node answers batches of, by import id (bounded;
    /// `Service::finish_import` records them).
    pub imports: crate::imports::ImportSessions,
    /// The node's Prometheus metrics (`GET /metrics` on the admin listener), shared with the
    /// listeners' request-metrics layers.
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// What `GET /ready` checks (and the `hallmark_ready` gauges show).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readiness {
    /// Leaves in the stored log (= audit events) if the store answered; `None` if it did not.
    pub log_size: Option<u64>,
    /// Key custody can sign ([`App::signing_available`]).
    pub signing: bool,
    /// The checkpoint signer does not refuse the stored log
    /// (`transparency::LogStatus::Refused`).
    pub log: bool,
}

impl Readiness {
    /// The store answered.
    pub fn store(&self) -> bool {
        self.log_size.is_some()
    }

    /// Every check passes.
    pub fn ready(&self) -> bool {
        self.store() && self.signing && self.log
    }
}

impl crate::integrity::Sources for App {
    fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }
    fn custody(&self) -> &dyn KeyCustody {
        self.custody.as_ref()
    }
    fn integrity_keys(&self) -> &IntegrityKeys {
        &self.integrity
    }
    fn alarms(&self) -> &crate::integrity::Alarms {
        &self.alarms
    }
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
    /// Passport `id` changed (through this node after its commit, or through another one:
    /// `crate::changes`): drops what the read caches hold of it — its state, and every
    /// resolver lookup (they are keyed by product, not by passport).
    pub fn passport_changed(&self, id: &hallmark_core::passport::PassportId) {
        self.passport_states.invalidate(id);
        self.resolves.clear();
    }

    /// A status list version was stored (through this node, or another one:
    /// `crate::changes`): the latest lists are read again.
    pub fn status_list_changed(&self) {
        self.status_lists.clear();
    }

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
        let keys = match self.custody.list() {
            Ok(k) => k,
            // An unavailable HSM: keep serving the last known metadata.
            Err(KeysError::Unavailable { .. } | KeysError::NoCurrentKey(..)) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let stored = self.store.list_signing_keys().await?;
        for info in keys {
            let status = key_status(info.status);
            let backend = info.backend.as_str();
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
                    .to_value()?;
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
                        &crate::integrity::ForeignKeyRow {
                            key_id: &s.key_id,
                            reason: "differs from custody",
                        },
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
                    .to_value()?;
                    self.store.tag_signing_key(s.clone(), audit).await?;
                }
                Some(s) if !s.is_authentic(&self.integrity) => {
                    crate::integrity::alarm(
                        self,
                        crate::integrity::AlarmKind::KeyRow,
                        &s.key_id,
                        &crate::integrity::MistaggedKeyRow {
                            key_id: &s.key_id,
                            reason: "the row's tag does not verify",
                            stored: s.status.as_str(),
                            custody: status.as_str(),
                        },
                    )
                    .await;
                }
                Some(s) if s.status != status && s.status.can_transition_to(status) => {
                    // A permitted change is to retired or revoked, each with its action.
                    let action = status.change_action().ok_or_else(|| {
                        SyncError::StatusChange(s.key_id.clone(), status.as_str())
                    })?;
                    let mut audit = AuditEvent::of(now, actor, action);
                    audit.subject = Some(info.id.to_string());
                    audit.detail = KeyStatusChanged {
                        purpose: info.purpose.as_str().to_string(),
                        from: s.status.as_str().to_string(),
                        to: status.as_str().to_string(),
                        reason: info.revocation_reason.clone(),
                    }
                    .to_value()?;
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

    /// The current passport-signing key's multibase, per the trusted keys: the key an
    /// unavailable custody names in its refusals. Available custody does not need it, and
    /// this is `None` without a query.
    pub async fn last_known_signing_key(&self) -> Option<String> {
        if self.custody.availability().is_available() {
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

    /// A signer for the current passport-signing key. For unavailable custody, a signer that
    /// reports the last published key and refuses to sign (so the error surfaces as 503).
    /// Its signatures are timed and its refusals counted (`crate::metrics`).
    pub async fn passport_signer(&self) -> Result<Box<dyn Signer>, KeysError> {
        let last = self
            .last_known_signing_key()
            .await
            .and_then(|m| decode_public_key_multibase(&m).ok());
        self.metered_signer(Purpose::PassportSigning, last)
    }

    /// Custody's signer for `purpose`, wrapped by the metrics (signing latency and errors by
    /// backend); a refusal to give one is counted too. The one way the node takes a signer.
    pub fn metered_signer(
        &self,
        purpose: Purpose,
        last: Option<ed25519_dalek::VerifyingKey>,
    ) -> Result<Box<dyn Signer>, KeysError> {
        let backend = self.custody.backend();
        match self.custody.signer(purpose, last) {
            Ok(signer) => Ok(self.metrics.signer(signer, backend, purpose)),
            Err(e) => {
                let reason = match e {
                    KeysError::Unavailable { .. } => "unavailable",
                    KeysError::NoCurrentKey(..) => "no-current-key",
                    _ => "failed",
                };
                self.metrics.signer_refused(backend, purpose, reason);
                Err(e)
            }
        }
    }

    /// The readiness checks: the store answers (one count query), custody can sign, the log
    /// is not refused.
    pub async fn readiness(&self) -> Readiness {
        Readiness {
            log_size: self.store.audit_len().await.ok(),
            signing: self.signing_available(),
            log: !matches!(
                self.log.status(),
                crate::transparency::LogStatus::Refused { .. }
            ),
        }
    }

    /// Whether custody can sign now (`/health`, the signing-key list).
    pub fn signing_available(&self) -> bool {
        self.custody.availability().is_available()
    }

    /// Rotates the passport-signing key.
    pub fn rotate_passport_key(&self, now: OffsetDateTime) -> Result<KeyEvent, KeysError> {
        self.custody.rotate(Purpose::PassportSigning, now)
    }

    /// Revokes a key.
    pub fn revoke_key(
        &self,
        id: &KeyId,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<KeyEvent, KeysError> {
        self.custody.revoke(id, reason, now)
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

//! Reads for people: a published passport as the public may see it, verified on the server
//! (the door is the consumer page, `crate::page`).
//!
//! The verification is the node's own, not a second copy: the version's public credential
//! is checked against the node's trusted keys by `crate::integrity::verify_served_report`
//! (what the JSON read path does before it serves bytes — a version that does not verify is
//! withheld, with the same integrity alarm), and its publication's leaf against the latest
//! signed checkpoint with core's `check_logged_credential` (what `hallmark verify --log-key`
//! runs), over an inclusion proof from the node's log.

use super::{Service, ServiceError};
use crate::cache::{Cached, Form, PassportState};
use crate::evidence::{Evidence, LogEvidence};
use axum::body::Bytes;
use axum::http::HeaderValue;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hallmark_core::passport::{PassportId, PassportStatus};
use hallmark_core::tlog::evidence::check_logged_credential;
use hallmark_core::tlog::{B64Hash, InclusionProof};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// A published passport for the public: its state and, unless suspended, the version
/// shown with what the server's verification found.
#[derive(Debug, Clone)]
pub struct PublicPassport {
    /// The passport.
    pub id: PassportId,
    /// Its status.
    pub status: PassportStatus,
    /// The reason given for its latest suspension, archival or deactivation.
    pub status_reason: Option<String>,
    /// Its newest published version.
    pub current_version: u32,
    /// The version shown.
    pub version: u32,
    /// The EU DPP registry's registration id of the version shown, if recorded.
    pub registration: Option<String>,
    /// The version as verified; `None` while the passport is suspended (its data is
    /// withheld then, as on the JSON read path).
    pub evidence: Option<Arc<Evidence>>,
}

/// A passport's state and the version a public request shows ([`Service::public_state`]).
#[derive(Debug, Clone)]
pub struct ShownVersion {
    /// Status, reason, current version.
    pub state: PassportState,
    /// The version shown.
    pub version: u32,
}

impl Service<'_> {
    /// Passport `id`'s state and the version a request for `version` (or the current one)
    /// shows, without verifying anything: from the passport-state cache (≤ 60 s, dropped on
    /// every change) or one store read. Drafts, unknown passports and versions beyond the
    /// current one are [`ServiceError::NotFound`]. The consumer page's door uses it to find a
    /// page it already rendered from a verified version before asking for the evidence.
    pub async fn public_state(
        &self,
        id: PassportId,
        version: Option<u32>,
    ) -> Result<ShownVersion, ServiceError> {
        let state = self.passport_state(id).await?;
        if state.status == PassportStatus::Draft || state.current_version == 0 {
            return Err(ServiceError::NotFound);
        }
        let n = version.unwrap_or(state.current_version);
        if n == 0 || n > state.current_version {
            return Err(ServiceError::NotFound);
        }
        Ok(ShownVersion { state, version: n })
    }

    /// Passport `id`'s state from the passport-state cache (≤ 60 s, dropped on every change
    /// through this node), or read from the store: its record and, once published, its EU
    /// registry registrations. Unknown ids are [`ServiceError::NotFound`]; drafts are
    /// answered (the caller decides).
    pub async fn passport_state(&self, id: PassportId) -> Result<PassportState, ServiceError> {
        let app = self.app;
        if let Some(s) = app.passport_states.get(&id) {
            return Ok(s);
        }
        let generation = app.passport_states.generation();
        let r = app.store.get_passport(&id).await?;
        let registrations: Vec<(u32, String)> = if r.current_version == 0 {
            Vec::new()
        } else {
            app.store
                .registrations_of(&id)
                .await?
                .into_iter()
                .map(|g| (g.version, g.registration_id))
                .collect()
        };
        let s = PassportState {
            status: r.status,
            status_reason: r.status_reason,
            current_version: r.current_version,
            registrations: registrations.into(),
        };
        app.passport_states.insert(id, s.clone(), generation);
        Ok(s)
    }

    /// One public form of published version `version` of `id`, as the public read paths
    /// serve it (the passport URL and the EN 18222 public door): from the
    /// [`CredentialCache`](crate::cache::CredentialCache), or read from the store and
    /// verified against the node's trusted keys first (`integrity::verify_served`), with its
    /// ETag and the headers pointing at its publish event's log leaf. A version that does
    /// not verify is never served: [`ServiceError::Internal`], after an integrity alarm. The
    /// caller decides whether the passport's state lets the version be shown
    /// ([`Service::public_state`]).
    pub async fn public_bytes(
        &self,
        id: PassportId,
        version: u32,
        form: Form,
    ) -> Result<Arc<Cached>, ServiceError> {
        let app = self.app;
        if let Some(c) = app.credentials.get(&id, version, form) {
            return Ok(c);
        }
        let c = Arc::new(self.load_public(&id, version, form).await?);
        app.credentials.insert(id, version, form, Arc::clone(&c));
        Ok(c)
    }

    /// Reads one public form of a published version from the store, with its ETag and the
    /// headers pointing at its publish event's log leaf (what [`crate::cache`] keeps).
    async fn load_public(
        &self,
        id: &PassportId,
        version: u32,
        form: Form,
    ) -> Result<Cached, ServiceError> {
        let app = self.app;
        let v = app.store.get_version(id, Some(version)).await?;
        let log_seq = app.store.publish_seq(id, v.version).await?;
        let bytes = match form {
            Form::Jwt => v.credentials.public.jwt.into_bytes(),
            Form::DataIntegrity => v.credentials.public.data_integrity,
        };
        // Never serve what the node cannot verify: a version someone wrote into the database
        // with a key that is not the node's is withheld (once per version and form, then the
        // bytes are cached as verified).
        let keys = crate::integrity::trusted_keys(app).await?;
        let doc = crate::integrity::did_document(&app.issuer.did, &keys);
        let expected = format!(
            "{}/passports/{}/versions/{version}",
            app.issuer.base_url,
            id.uuid()
        );
        if let Err(reason) = crate::integrity::verify_served(&bytes, &doc, &expected) {
            crate::integrity::alarm(
                app,
                crate::integrity::AlarmKind::Version,
                &format!("{id}/v{version}"),
                &crate::integrity::WithheldVersion {
                    passport: &id.to_string(),
                    version,
                    form: form.label(),
                    reason: &reason,
                },
            )
            .await;
            return Err(ServiceError::Internal);
        }
        let etag = HeaderValue::from_str(&format!("\"{}\"", hex::encode(Sha256::digest(&bytes))))
            .map_err(|e| ServiceError::internal("ETag of a credential", e))?;
        let log_headers = log_seq.map_or_else(Vec::new, |seq| {
            crate::edge::headers::log_headers(&app.issuer.base_url, seq)
        });
        Ok(Cached {
            bytes: Bytes::from(bytes),
            etag,
            log_headers,
        })
    }

    /// Passport `id` (its current version, or `version`) as the public sees it, verified on
    /// the server. Drafts, unknown passports and versions beyond the current one are
    /// [`ServiceError::NotFound`]; a version that does not verify against the node's keys is
    /// withheld ([`ServiceError::Internal`], after an integrity alarm).
    pub async fn public_passport(
        &self,
        id: PassportId,
        version: Option<u32>,
    ) -> Result<PublicPassport, ServiceError> {
        let shown = self.public_state(id, version).await?;
        let (state, n) = (shown.state, shown.version);
        let evidence = match state.status {
            PassportStatus::Suspended => None,
            _ => Some(self.evidence(id, n).await?),
        };
        Ok(PublicPassport {
            id,
            registration: state.registration_of(n).map(str::to_owned),
            status: state.status,
            status_reason: state.status_reason,
            current_version: state.current_version,
            version: n,
            evidence,
        })
    }

    /// The verified version, from the cache while it stands.
    async fn evidence(&self, id: PassportId, n: u32) -> Result<Arc<Evidence>, ServiceError> {
        let app = self.app;
        let checkpoint = app.log.latest();
        if let Some(e) = app.evidence.get(&id, n) {
            if e.is_current(checkpoint.as_ref().map(|c| c.size)) {
                return Ok(e);
            }
        }
        let v = app.store.get_version(&id, Some(n)).await?;
        let bytes = v.credentials.public.data_integrity;
        let keys = crate::integrity::trusted_keys(app).await?;
        let doc = crate::integrity::did_document(&app.issuer.did, &keys);
        let expected = format!(
            "{}/passports/{}/versions/{n}",
            app.issuer.base_url,
            id.uuid()
        );
        let report = match crate::integrity::verify_served_report(&bytes, &doc, &expected) {
            Ok(r) => r,
            Err(reason) => {
                crate::integrity::alarm(
                    app,
                    crate::integrity::AlarmKind::Version,
                    &format!("{id}/v{n}"),
                    &crate::integrity::WithheldVersion {
                        passport: &id.to_string(),
                        version: n,
                        form: "data-integrity",
                        reason: &reason,
                    },
                )
                .await;
                return Err(ServiceError::Internal);
            }
        };
        let (log, log_key) = self.log_evidence(&id, n, &bytes, checkpoint).await?;
        let weight = 1024
            + 256 * (report.checks.len() + log_checks(&log)) as u64
            + report
                .verification_method
                .as_ref()
                .map_or(0, |m| m.len() as u64);
        let evidence = Arc::new(Evidence {
            credential_sha256: Sha256::digest(&bytes).into(),
            signature: report.checks,
            verification_method: report.verification_method,
            log,
            log_key,
            weight,
        });
        app.evidence.insert(id, n, Arc::clone(&evidence));
        Ok(evidence)
    }

    /// The credential of `p`'s version, parsed, for the page to show (`None` while
    /// suspended): its bytes from the read cache or the store, used only if they are the
    /// bytes the evidence was verified on (same SHA-256); other bytes are withheld, with the
    /// integrity alarm of the read path.
    pub async fn public_credential(
        &self,
        p: &PublicPassport,
    ) -> Result<Option<Value>, ServiceError> {
        let Some(evidence) = &p.evidence else {
            return Ok(None);
        };
        let app = self.app;
        let bytes = match app.credentials.get(&p.id, p.version, Form::DataIntegrity) {
            Some(c) => c.bytes.to_vec(),
            None => {
                app.store
                    .get_version(&p.id, Some(p.version))
                    .await?
                    .credentials
                    .public
                    .data_integrity
            }
        };
        let digest: [u8; 32] = Sha256::digest(&bytes).into();
        if digest != evidence.credential_sha256 {
            crate::integrity::alarm(
                app,
                crate::integrity::AlarmKind::Version,
                &format!("{}/v{}", p.id, p.version),
                &crate::integrity::WithheldVersion {
                    passport: &p.id.to_string(),
                    version: p.version,
                    form: "data-integrity",
                    reason: "its bytes differ from the bytes verified for the page",
                },
            )
            .await;
            return Err(ServiceError::Internal);
        }
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| ServiceError::internal("verified credential does not parse", e))
    }

    /// The publication's log entry checked against `checkpoint` (the latest trusted one).
    async fn log_evidence(
        &self,
        id: &PassportId,
        n: u32,
        credential: &[u8],
        checkpoint: Option<Arc<crate::transparency::SignedCheckpoint>>,
    ) -> Result<(LogEvidence, Option<String>), ServiceError> {
        let app = self.app;
        let Some(seq) = app.store.publish_seq(id, n).await? else {
            return Ok((LogEvidence::Unknown, None));
        };
        let leaf_index = seq.saturating_sub(1);
        let Some(cp) = checkpoint.filter(|c| c.size > leaf_index) else {
            return Ok((LogEvidence::Pending { leaf_index }, None));
        };
        let Some(key) =
            crate::transparency::keys::current_verifier_key(app, app.log.origin()).await?
        else {
            return Ok((LogEvidence::Unknown, None));
        };
        let (Some(leaf_hash), Ok(path)) = (
            app.log.leaf_hash(leaf_index),
            app.log.inclusion_proof(leaf_index, cp.size),
        ) else {
            return Ok((LogEvidence::Pending { leaf_index }, None));
        };
        let leaf = app
            .store
            .list_audit(seq, 1)
            .await?
            .into_iter()
            .find(|r| r.seq == seq)
            .map(|r| r.leaf_bytes())
            .transpose()?
            .map(|b| B64.encode(b));
        let proof = InclusionProof {
            leaf_index,
            tree_size: cp.size,
            leaf_hash: B64Hash(leaf_hash),
            leaf,
            hashes: path.into_iter().map(B64Hash).collect(),
        };
        let checks = check_logged_credential(credential, &cp.note, &proof, &key);
        Ok((
            LogEvidence::Checked {
                leaf_index,
                tree_size: cp.size,
                checks,
            },
            Some(key.to_string()),
        ))
    }
}

/// The number of log checks held (for the evidence's weight).
fn log_checks(log: &LogEvidence) -> usize {
    match log {
        LogEvidence::Checked { checks, .. } => checks.len(),
        _ => 0,
    }
}

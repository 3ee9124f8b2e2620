//! Signed restricted reads (issue 20; reader guide `docs/access.md`, "Restricted reads"):
//! who a signed request comes from ([`Service::admit_reader`]: the signature, the reader's
//! state and grant, the nonce — in that order, before any passport work) and what it reads
//! ([`Service::restricted_read`]: the stored credential of the grant's tier, for a passport
//! the grant covers, with its `passport.read` audit event appended before the answer).
//!
//! A signature's `keyid` is the reader's id (the UUID the node gave it at registration).

use super::{now, Service, ServiceError};
use crate::cache::Form;
use crate::problem::reader::ReaderRefusal;
use axum::body::Bytes;
use axum::http::{HeaderName, HeaderValue};
use hallmark_core::httpsig::{self, Policy, RequestParts};
use hallmark_core::jwk::X25519PublicJwk;
use hallmark_core::passport::{Gtin, PassportId, PassportStatus};
use hallmark_core::reader::{Grant, ReaderId, ReaderStatus, ReaderTier};
use hallmark_core::tlog::event::{Action, PassportRead};
use hallmark_store::{AuditEvent, ReaderRecord, StoreError};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// A reader whose signed request verified, approved with a grant in force, its nonce
/// remembered: what the passport routes serve restricted tiers to (a request extension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdmittedReader {
    /// The reader.
    pub id: ReaderId,
    /// Its grant at the time of the request.
    pub grant: Grant,
    /// Its X25519 key (sealed answers), if it registered one.
    pub x25519: Option<[u8; 32]>,
}

/// Why a restricted read was not answered: a refusal (its own problem type) or a failure.
#[derive(Debug, thiserror::Error)]
pub enum RestrictedError {
    /// Refused (401/403).
    #[error(transparent)]
    Refused(#[from] ReaderRefusal),
    /// The passport (in scope) is suspended, for this reason: its data is withheld, as on
    /// the public path (410).
    #[error("suspended: {0}")]
    Suspended(String),
    /// A version beyond the current one of a passport in scope (404), or the node failed
    /// (500).
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<StoreError> for RestrictedError {
    fn from(e: StoreError) -> Self {
        RestrictedError::Service(e.into())
    }
}

/// A restricted credential as served.
#[derive(Debug, Clone)]
pub struct RestrictedCredential {
    /// The stored bytes, exactly as issued.
    pub bytes: Bytes,
    /// `"<hex SHA-256 of bytes>"`.
    pub etag: HeaderValue,
    /// The passport's status.
    pub status: PassportStatus,
    /// The version served.
    pub version: u32,
    /// The tier served.
    pub tier: ReaderTier,
    /// Headers pointing at the log leaf of the version's publication.
    pub log_headers: Vec<(HeaderName, HeaderValue)>,
    /// Whether `bytes` is the credential sealed (a compact JWE to the reader's X25519 key);
    /// then `etag` is weak (the token differs each time, the credential in it does not).
    pub sealed: bool,
}

/// How a restricted credential is to leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The credential itself (the passport and version URLs): sealed when the reader asks
    /// or the operator seals the authority tier always (`HALLMARK_SEAL_AUTHORITY`).
    Credential {
        /// The reader asked for it sealed (`Accept: application/jose`).
        sealed: bool,
        /// The credential's media type as negotiated (the sealed token's `cty`).
        media_type: &'static str,
    },
    /// Its content, rendered by a door that has no sealed form (the EN 18222 reads): never
    /// sealed, hence refused (`sealed-delivery-required`) where the operator seals the tier
    /// always.
    Content,
}

/// The actor of a reader's audit events: `reader:<id>`.
pub fn reader_actor(id: &ReaderId) -> String {
    format!("reader:{id}")
}

impl Service<'_> {
    /// Admits the signed request `parts` at the node's clock, in this order (cheap and
    /// stateless first; the nonce is remembered only for a request whose signature
    /// verified): parse and check (no key needed) → the reader of the `keyid` (unknown:
    /// `unknown-reader`) → its status and grant (`reader-not-approved`, `reader-suspended`,
    /// `reader-revoked`, `grant-expired`) → the signature (covered components, digest,
    /// Ed25519) → the nonce (`replayed-request` when the store has seen it for this reader,
    /// on any node sharing the database).
    pub async fn admit_reader(
        &self,
        parts: &RequestParts,
    ) -> Result<AdmittedReader, RestrictedError> {
        let (reader, grant) = self.authenticate(parts, true).await?;
        let grant = grant.ok_or(ServiceError::Internal)?;
        Ok(AdmittedReader {
            id: reader.id,
            grant,
            x25519: reader.x25519,
        })
    }

    /// The reader who signed `parts`, whatever its status (`GET <base>/readers/me`: a reader
    /// asks the node how its registration stands). The signature and the nonce are checked
    /// as for [`Service::admit_reader`]; only the reader's status and grant are not.
    pub async fn signed_reader(
        &self,
        parts: &RequestParts,
    ) -> Result<ReaderRecord, RestrictedError> {
        Ok(self.authenticate(parts, false).await?.0)
    }

    /// Verifies `parts` as [`Service::admit_reader`] documents; with `admitted`, the reader
    /// must be approved with a grant in force (the grant is returned), checked before the
    /// signature.
    async fn authenticate(
        &self,
        parts: &RequestParts,
        admitted: bool,
    ) -> Result<(ReaderRecord, Option<Grant>), RestrictedError> {
        let at = now();
        let unix = at.unix_timestamp();
        let policy = Policy::default();
        let parsed = httpsig::parse(parts).map_err(ReaderRefusal::Signature)?;
        let checked = parsed
            .check(unix, &policy)
            .map_err(ReaderRefusal::Signature)?;
        let id = ReaderId::parse(&checked.keyid).map_err(|_| ReaderRefusal::UnknownReader)?;
        let reader = self
            .app
            .store
            .reader(&id)
            .await?
            .ok_or(ReaderRefusal::UnknownReader)?;
        let grant = if admitted {
            let grant = match (reader.status, &reader.grant) {
                (ReaderStatus::Registered, _) | (ReaderStatus::Approved, None) => {
                    return Err(ReaderRefusal::NotApproved.into())
                }
                (ReaderStatus::Suspended, _) => return Err(ReaderRefusal::Suspended.into()),
                (ReaderStatus::Revoked, _) => return Err(ReaderRefusal::Revoked.into()),
                (ReaderStatus::Approved, Some(grant)) => grant.clone(),
            };
            if !grant.in_force(at) {
                return Err(ReaderRefusal::GrantExpired.into());
            }
            Some(grant)
        } else {
            None
        };
        let key = ed25519_dalek::VerifyingKey::from_bytes(&reader.ed25519)
            .map_err(|e| ServiceError::internal("a stored reader key is not a curve point", e))?;
        let verified = parsed
            .verify(parts, &key, unix, &policy)
            .map_err(ReaderRefusal::Signature)?;
        let until = OffsetDateTime::from_unix_timestamp(verified.remember_until)
            .map_err(|e| ServiceError::internal("a nonce's time is out of range", e))?;
        if !self
            .app
            .store
            .use_nonce(&id, &verified.nonce, until, at)
            .await?
        {
            return Err(ReaderRefusal::Replayed.into());
        }
        Ok((reader, grant))
    }

    /// Passport `id`'s version `version` (or the current one) in `form`, in the tier of the
    /// reader's grant: the stored restricted credential, exactly as issued. A passport the
    /// grant does not cover — or that does not exist, or was never published (an id that
    /// does not parse is `None`) — is `out-of-scope`, one answer for all. For a passport in
    /// scope: a version beyond the current one is not found, a suspended passport is gone
    /// (as on the public path). The read's `passport.read` audit event (reader, passport,
    /// version, tier) is appended before the bytes are returned: no event, no answer.
    pub async fn restricted_read(
        &self,
        reader: &AdmittedReader,
        id: Option<PassportId>,
        version: Option<u32>,
        form: Form,
        delivery: Delivery,
    ) -> Result<RestrictedCredential, RestrictedError> {
        let app = self.app;
        let id = id.ok_or(ReaderRefusal::OutOfScope)?;
        let record = match app.store.get_passport(&id).await {
            Ok(r) => r,
            Err(StoreError::NotFound(_)) => return Err(ReaderRefusal::OutOfScope.into()),
            Err(e) => return Err(e.into()),
        };
        let gtin = Gtin::parse(&record.gtin)
            .map_err(|e| ServiceError::internal("a stored GTIN does not parse", e))?;
        if record.status == PassportStatus::Draft
            || record.current_version == 0
            || !reader.grant.scope.covers(&record.sector_id, &gtin, &id)
        {
            return Err(ReaderRefusal::OutOfScope.into());
        }
        let n = version.unwrap_or(record.current_version);
        if n == 0 || n > record.current_version {
            return Err(ServiceError::NotFound.into());
        }
        if record.status == PassportStatus::Suspended {
            return Err(RestrictedError::Suspended(
                record
                    .status_reason
                    .unwrap_or_else(|| "suspended".to_owned()),
            ));
        }
        let tier = reader.grant.tier;
        let always_sealed = tier == ReaderTier::Authority
            && app
                .seal_authority
                .load(std::sync::atomic::Ordering::Relaxed);
        let (seal, media_type) = match delivery {
            Delivery::Credential { sealed, media_type } => (sealed || always_sealed, media_type),
            Delivery::Content if always_sealed => return Err(ReaderRefusal::SealedOnly.into()),
            Delivery::Content => (false, ""),
        };
        let seal_to = match (seal, reader.x25519) {
            (false, _) => None,
            (true, Some(key)) => Some(X25519PublicJwk::from_bytes(key)),
            (true, None) => return Err(ReaderRefusal::NoEncryptionKey.into()),
        };
        let v = app.store.get_version(&id, Some(n)).await?;
        let forms = v.credentials.get(tier.audience());
        let bytes = match form {
            Form::Jwt => forms.jwt.clone().into_bytes(),
            Form::DataIntegrity => forms.data_integrity.clone(),
        };
        // As on the public path: never serve what the node cannot verify.
        let keys = crate::integrity::trusted_keys(app).await?;
        let doc = crate::integrity::did_document(&app.issuer.did, &keys);
        let expected = format!(
            "{}/passports/{}/versions/{n}?audience={}",
            app.issuer.base_url,
            id.uuid(),
            tier.as_str()
        );
        if let Err(reason) = crate::integrity::verify_served(&bytes, &doc, &expected) {
            crate::integrity::alarm(
                app,
                crate::integrity::AlarmKind::Version,
                &format!("{id}/v{n}/{}", tier.as_str()),
                &crate::integrity::WithheldVersion {
                    passport: &id.to_string(),
                    version: n,
                    form: form.label(),
                    reason: &reason,
                },
            )
            .await;
            return Err(ServiceError::Internal.into());
        }
        let digest = hex::encode(Sha256::digest(&bytes));
        let (bytes, etag) = match &seal_to {
            None => (bytes, format!("\"{digest}\"")),
            Some(key) => (
                crate::seal::seal(&bytes, key, &id, n, media_type)
                    .map_err(|e| ServiceError::internal("sealing a credential", e))?
                    .into_bytes(),
                format!("W/\"{digest}\""),
            ),
        };
        let etag = HeaderValue::from_str(&etag)
            .map_err(|e| ServiceError::internal("ETag of a credential", e))?;
        let log_headers = app
            .store
            .publish_seq(&id, n)
            .await?
            .map_or_else(Vec::new, |seq| {
                crate::edge::headers::log_headers(&app.issuer.base_url, seq)
            });
        app.store.append_audit(read_event(reader, &id, n)?).await?;
        Ok(RestrictedCredential {
            bytes: Bytes::from(bytes),
            etag,
            status: record.status,
            version: n,
            tier,
            log_headers,
            sealed: seal_to.is_some(),
        })
    }
}

/// The `passport.read` event of a restricted read: actor `reader:<id>`, the passport, the
/// reader id as subject, detail `{"readerId","version","tier"}`.
fn read_event(
    reader: &AdmittedReader,
    id: &PassportId,
    version: u32,
) -> Result<AuditEvent, ServiceError> {
    let action = Action::PassportRead;
    let mut e = AuditEvent::of(now(), &reader_actor(&reader.id), action);
    e.passport = Some(*id);
    e.subject = Some(reader.id.to_string());
    e.detail = crate::audit::detail(
        action,
        &PassportRead {
            reader_id: reader.id.to_string(),
            version,
            tier: reader.grant.tier,
        },
    )
    .map_err(|e| ServiceError::internal("passport.read detail", e))?;
    Ok(e)
}

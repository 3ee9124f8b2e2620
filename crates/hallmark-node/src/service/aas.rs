//! A passport as an AAS V3.0 Environment (issue 19 item 4; `docs/aas.md`): core's
//! `aas::environment` over one audience's view, for the public door (`GET
//! <base>/passports/{id}/aas`, or `Accept: application/aas+json` on the passport URL) and the
//! admin door (`GET /api/v1/passports/{id}/aas?audience=…`, `read` scope).
//!
//! - [`Audience::Public`]: built from the current version's **public credential exactly as
//!   the passport URL serves it** ([`Service::public_bytes`]: the credential cache, or the
//!   store and `integrity::verify_served`), read back with `issue::passport_from_credential`.
//!   Drafts and unknown passports are not found, as on the passport URL. Whether a suspended
//!   passport is shown is the door's decision (the public door answers 410 first, as the
//!   passport URL does; the admin door shows it).
//! - [`Audience::LegitimateInterest`], [`Audience::Authority`]: from the stored current
//!   version (`VersionRecord.content`), filtered by `issue::view(passport, audience,
//!   registry)` — the `credentialSubject` of that audience's signed credential. A passport
//!   never published has no version: not found.
//!
//! A sector without a mapping (anything but battery) is
//! [`ServiceError::AasUnsupported`] (406 `aas-unsupported-sector`). The environment is not
//! signed: the credential is the evidence.

use super::{Service, ServiceError};
use crate::cache::Form;
use hallmark_core::aas::{self, AasError};
use hallmark_core::access::Audience;
use hallmark_core::passport::{Passport, PassportId};
use serde_json::Value;

impl Service<'_> {
    /// Passport `id`'s current version as `audience` sees it, as an AAS V3.0 Environment
    /// (see the [module docs](self)).
    pub async fn aas(&self, id: PassportId, audience: Audience) -> Result<Value, ServiceError> {
        let app = self.app;
        let view = match audience {
            Audience::Public => {
                let shown = self.public_state(id, None).await?;
                let served = self
                    .public_bytes(id, shown.version, Form::DataIntegrity)
                    .await?;
                let credential: Value = serde_json::from_slice(&served.bytes)
                    .map_err(|e| ServiceError::internal("verified credential does not parse", e))?;
                hallmark_core::issue::passport_from_credential(&credential).map_err(|e| {
                    ServiceError::internal("verified credential holds no passport", e)
                })?
            }
            Audience::LegitimateInterest | Audience::Authority => {
                let record = app.store.get_passport(&id).await?;
                if record.current_version == 0 {
                    return Err(ServiceError::NotFound);
                }
                let content = app.store.get_version(&id, None).await?.content;
                let value: Value = serde_json::from_slice(&content)
                    .map_err(|e| ServiceError::internal("stored passport does not parse", e))?;
                let passport = Passport::from_json_value(&value)
                    .map_err(|e| ServiceError::internal("stored passport does not read", e))?;
                hallmark_core::issue::view(&passport, audience, app.registry).map_err(|e| {
                    ServiceError::internal("a stored passport's sector is not loaded", e)
                })?
            }
        };
        aas::environment(&view, &app.issuer.base_url).map_err(|e| match e {
            AasError::Unsupported { id, version } => ServiceError::AasUnsupported {
                sector: id,
                version,
            },
            other => ServiceError::internal("a stored passport has no valid AAS rendering", other),
        })
    }
}

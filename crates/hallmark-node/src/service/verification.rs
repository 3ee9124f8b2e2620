//! The verification service (docs/verify.md, "Verification service"): any credential —
//! this node's or anyone's, `eddsa-jcs-2022` or `vc+jwt` — verified on the server with
//! core's verifier; and the VC API issuance of passports through the one publish path.
//!
//! **Resolution, then the synchronous verifier.** Core's verifiers do no I/O: they ask a
//! [`ResolveDid`] port for controller documents. [`Service::resolving`] runs any such
//! verifier (a credential's, a presentation's) in rounds: it runs the verifier against
//! what it has, notes every DID the verifier asked for, obtains the ones it did not have,
//! and runs it again — until nothing new is asked (at most [`MAX_DIDS`] fetched per
//! request). What it has from the start needs no network: did:key (core derives the
//! document from the key) and the node's own DID (its document from its own trusted keys).
//! Any other DID is a did:web fetched by `crate::did_web` — only from hosts the operator
//! listed, never from an address that is not public — and how each DID was resolved, or why
//! not, is the `did-document` check of the report. A credential the node issued has its
//! status checked against the node's own latest status lists, read locally.
//!
//! **Issuance** ([`Service::issue_passport`]): the VC API's `issueCredential` accepts only
//! a passport — the credential's subject is a passport submission, its issuer absent or the
//! node — and publishes it as a new passport through the import's create-and-publish stage
//! (`Service::import_create`, the stage the EN 18222 create uses): validation, plugin,
//! signature, one store job with its audit events. Nothing else is ever signed with the
//! passport key.

use super::import::ItemJob;
use super::{Service, ServiceError};
use crate::auth::Principal;
use crate::cache::Form;
use hallmark_core::credential::VC_V2_CONTEXT;
use hallmark_core::did::DidDocument;
use hallmark_core::did_key::DID_KEY_PREFIX;
use hallmark_core::did_resolver::{did_of, ResolveDid, ResolveError, Resolver};
use hallmark_core::passport::{PassportDraft, PassportId};
use hallmark_core::presentation::{self, PresentationReport};
use hallmark_core::status::{list_url, status_entries};
use hallmark_core::verify::{self, Check, Outcome, Report, VerifyOptions};
use serde_json::Value;
use std::borrow::Cow;
use std::sync::{Arc, Mutex};

/// Most DIDs fetched for one request.
pub const MAX_DIDS: usize = 8;
/// Most runs of the verifier for one request (each after fetching what the last asked for).
const MAX_ROUNDS: usize = 4;
/// Name of the check saying where each controller document came from (as `hallmark
/// verify`'s).
pub const DID_DOCUMENT_CHECK: &str = "did-document";

/// A credential to verify, as a client gives it.
#[derive(Debug, Clone, PartialEq)]
pub enum CredentialInput {
    /// A JSON credential (secured with Data Integrity proofs).
    Json(Value),
    /// A compact JWS (`vc+jwt`).
    Compact(String),
}

impl CredentialInput {
    /// The bytes core's verifier reads. A JSON credential is written back from its parsed
    /// form: the proofs sign its RFC 8785 form, which member order and number spelling do
    /// not change (and the edge refused the inputs whose numbers would).
    fn into_bytes(self) -> Result<Vec<u8>, ServiceError> {
        match self {
            CredentialInput::Json(v) => {
                serde_json::to_vec(&v).map_err(|e| ServiceError::internal("credential", e))
            }
            CredentialInput::Compact(s) => Ok(s.trim().as_bytes().to_vec()),
        }
    }
}

/// How one DID the verifier asked for was resolved: where its document came from, or why
/// there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// The DID.
    pub did: String,
    /// `Ok(source)` or `Err(reason)`.
    pub outcome: Result<String, String>,
}

impl Resolution {
    /// The resolutions as one check ([`DID_DOCUMENT_CHECK`]): passes when every DID was
    /// resolved, fails naming those that were not. `None` when no DID was asked for.
    pub fn check(resolutions: &[Resolution]) -> Option<Check> {
        if resolutions.is_empty() {
            return None;
        }
        let failed: Vec<String> = resolutions
            .iter()
            .filter_map(|r| r.outcome.as_ref().err().cloned())
            .collect();
        let outcome = if failed.is_empty() {
            Outcome::Pass(
                resolutions
                    .iter()
                    .map(|r| match &r.outcome {
                        Ok(source) => format!("{} ({source})", r.did),
                        Err(_) => r.did.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        } else {
            Outcome::Fail(format!("not resolved: {}", failed.join("; ")))
        };
        Some(Check {
            name: DID_DOCUMENT_CHECK,
            outcome,
        })
    }
}

/// Adds the [`DID_DOCUMENT_CHECK`] to a report, before its first `issuer` or `key` check.
pub fn record_resolutions(report: &mut Report, resolutions: &[Resolution]) {
    if let Some(check) = Resolution::check(resolutions) {
        let at = report
            .checks
            .iter()
            .position(|c| c.name == "issuer" || c.name == "key")
            .unwrap_or(report.checks.len());
        report.checks.insert(at, check);
    }
}

/// The resolver a round of verification runs with: did:key in core, the documents obtained
/// so far by id; every DID asked for is noted.
struct Asking<'a> {
    documents: &'a [DidDocument],
    asked: Mutex<Vec<String>>,
}

impl ResolveDid for Asking<'_> {
    fn resolve(&self, did: &str) -> Result<Cow<'_, DidDocument>, ResolveError> {
        if let Ok(mut asked) = self.asked.lock() {
            if !asked.iter().any(|d| d == did) {
                asked.push(did.to_owned());
            }
        }
        if did.starts_with(DID_KEY_PREFIX) || !did.starts_with("did:") {
            // did:key from the key, in core; anything else is refused there, named.
            return Resolver::did_key_only()
                .resolve(did)
                .map(|d| Cow::Owned(d.into_owned()));
        }
        self.documents
            .iter()
            .find(|d| d.id == did)
            .map(Cow::Borrowed)
            .ok_or_else(|| ResolveError::NotSupplied {
                did: did.to_owned(),
                supplied: Vec::new(),
            })
    }
}

/// A DID a fetch may be tried for: a bare DID that is neither a did:key nor one whose
/// document is at hand.
fn to_fetch(did: &str, documents: &[DidDocument]) -> bool {
    did.starts_with("did:")
        && !did.contains(['#', '?', '/'])
        && !did.starts_with(DID_KEY_PREFIX)
        && !documents.iter().any(|d| d.id == did)
}

/// A passport the VC API's `issueCredential` published.
#[derive(Debug, Clone)]
pub struct IssuedPassport {
    /// The new passport.
    pub id: PassportId,
    /// Its version (1).
    pub version: u32,
    /// Its public Data Integrity credential, as served.
    pub credential: Value,
}

/// The members an unsecured credential given to `issueCredential` may have; the node
/// assigns every other (`id`, `validFrom`, `credentialStatus`, the proof, …).
const ISSUE_MEMBERS: [&str; 4] = ["@context", "type", "issuer", "credentialSubject"];

impl Service<'_> {
    /// The node's own DID document, from its trusted keys (no network).
    async fn own_did_document(&self) -> Result<DidDocument, ServiceError> {
        let keys = crate::integrity::trusted_keys(self.app).await?;
        Ok(crate::integrity::did_document(&self.app.issuer.did, &keys))
    }

    /// Runs `verifier` — one of core's synchronous verifiers — with the controller
    /// documents it asks for (see the [module docs](self)): its result from the last round
    /// and how each DID it asked for was resolved. `own` is the node's own DID document
    /// ([`Service::own_did_document`], read once by the caller). The verifier runs on the
    /// blocking pool (a large proof set is CPU work).
    pub async fn resolving<R, F>(
        &self,
        own: DidDocument,
        verifier: F,
    ) -> Result<(R, Vec<Resolution>), ServiceError>
    where
        F: Fn(&dyn ResolveDid) -> R + Send + Sync + 'static,
        R: Send + 'static,
    {
        let settings = self.app.did_web.get().cloned().unwrap_or_default();
        let own_did = own.id.clone();
        let verifier = Arc::new(verifier);
        let mut documents = vec![own];
        let mut fetched: Vec<Resolution> = Vec::new();
        let mut round = 0;
        loop {
            round += 1;
            let docs = Arc::new(documents.clone());
            let run = Arc::clone(&verifier);
            let (result, asked) = tokio::task::spawn_blocking(move || {
                let asking = Asking {
                    documents: &docs,
                    asked: Mutex::new(Vec::new()),
                };
                let result = run(&asking);
                let asked = asking.asked.into_inner().unwrap_or_default();
                (result, asked)
            })
            .await
            .map_err(|e| ServiceError::internal("a verification task failed", e))?;
            let new: Vec<String> = asked
                .iter()
                .filter(|d| to_fetch(d, &documents) && !fetched.iter().any(|r| r.did == **d))
                .cloned()
                .collect();
            if new.is_empty() || round >= MAX_ROUNDS {
                let resolutions = asked
                    .iter()
                    .filter_map(|did| {
                        let outcome = if did.starts_with(DID_KEY_PREFIX) {
                            Ok("did:key, resolved from the key; no network".to_owned())
                        } else if *did == own_did {
                            Ok("this node's own DID document, from its keys; no network".into())
                        } else {
                            return fetched.iter().find(|r| r.did == *did).cloned();
                        };
                        Some(Resolution {
                            did: did.clone(),
                            outcome,
                        })
                    })
                    .collect();
                return Ok((result, resolutions));
            }
            for did in new {
                let outcome = if fetched.len() >= MAX_DIDS {
                    Err(format!(
                        "{did}: not fetched (at most {MAX_DIDS} DID documents per request)"
                    ))
                } else {
                    match crate::did_web::fetch(&settings, &did).await {
                        Ok((doc, url)) => {
                            documents.push(doc);
                            Ok(format!("fetched from {url}"))
                        }
                        Err(e) => Err(e.to_string()),
                    }
                };
                fetched.push(Resolution { did, outcome });
            }
        }
    }

    /// Verifies a credential (either form; any issuer) at the current time: core's
    /// `verify_resolving` through [`Service::resolving`], with the `did-document` check.
    /// The status of a credential this node issued is checked against the node's own
    /// latest status lists (read locally, verified against its DID document: core's
    /// `check_status`); another issuer's status lists are not fetched — a credential of
    /// another issuer with a `credentialStatus` gets a skipped `status` check saying so.
    pub async fn verify_credential(
        &self,
        input: CredentialInput,
        mut options: VerifyOptions,
    ) -> Result<Report, ServiceError> {
        let bytes = input.into_bytes()?;
        let now = super::now();
        options.now = Some(now);
        let own = self.own_did_document().await?;
        let (mut report, resolutions) = self
            .resolving(own.clone(), move |r| {
                verify::verify_resolving(&bytes, r, &options)
            })
            .await?;
        record_resolutions(&mut report, &resolutions);
        self.check_status_of(&mut report, now, &own).await?;
        Ok(report)
    }

    /// Verifies a presentation (eddsa-jcs-2022, the holder's `authentication` proof) and
    /// every credential in it at the current time: core's `verify_presentation` through
    /// [`Service::resolving`] (the holder's did:key, the issuers' documents as for a
    /// credential), with each report's `did-document` check for its own key, and each
    /// credential's status as [`Service::verify_credential`] checks it. `options` carries the
    /// verifier's expected `challenge` and `domain`.
    pub async fn verify_presentation(
        &self,
        input: CredentialInput,
        mut options: VerifyOptions,
    ) -> Result<PresentationReport, ServiceError> {
        let bytes = input.into_bytes()?;
        let now = super::now();
        options.now = Some(now);
        let own_document = self.own_did_document().await?;
        let (mut report, resolutions) = self
            .resolving(own_document.clone(), move |r| {
                presentation::verify_presentation(&bytes, r, &options)
            })
            .await?;
        let own = |r: &Report| -> Vec<Resolution> {
            let did = r.verification_method.as_deref().map(did_of);
            resolutions
                .iter()
                .filter(|x| Some(x.did.as_str()) == did)
                .cloned()
                .collect()
        };
        let holder = own(&report.presentation);
        record_resolutions(&mut report.presentation, &holder);
        for credential in &mut report.credentials {
            let resolved = own(credential);
            record_resolutions(credential, &resolved);
            self.check_status_of(credential, now, &own_document).await?;
        }
        Ok(report)
    }

    /// The status checks of a verified credential's report: a credential this node issued
    /// against the node's own latest status lists; another issuer's lists are not fetched
    /// (a skipped `status` check says so). Nothing for a credential without
    /// `credentialStatus`. `own` is the node's own DID document.
    async fn check_status_of(
        &self,
        report: &mut Report,
        now: time::OffsetDateTime,
        own: &DidDocument,
    ) -> Result<(), ServiceError> {
        let Some(credential) = report
            .credential
            .as_ref()
            .filter(|c| c.get("credentialStatus").is_some())
        else {
            return Ok(());
        };
        let issuer = match credential.get("issuer") {
            Some(Value::Object(o)) => o.get("id").and_then(Value::as_str),
            other => other.and_then(Value::as_str),
        };
        if issuer == Some(self.app.issuer.did.as_str()) && report.is_valid() {
            let lists = self.own_status_lists(credential).await?;
            verify::check_status(report, &lists, own, Some(now));
        } else {
            report.checks.push(Check {
                name: verify::STATUS_CHECK,
                outcome: Outcome::Skipped(
                    "another issuer's status lists are not fetched by this service; \
                     `hallmark verify --from <passport URL>` checks them"
                        .into(),
                ),
            });
        }
        Ok(())
    }

    /// The latest stored versions of the node's own status lists that `credential`'s
    /// entries name (by their URL under the node's base URL), as (URL, Data Integrity
    /// bytes); an entry naming another list is left for `check_status` to report.
    async fn own_status_lists(
        &self,
        credential: &Value,
    ) -> Result<Vec<(String, Vec<u8>)>, ServiceError> {
        let base = &self.app.issuer.base_url;
        let mut lists = Vec::new();
        for entry in status_entries(credential).unwrap_or_default() {
            let prefix = format!("{base}/status/{}/", entry.purpose);
            let Some(n) = entry
                .list_credential
                .strip_prefix(&prefix)
                .and_then(|n| n.parse::<u32>().ok())
                .filter(|n| list_url(base, entry.purpose, *n) == entry.list_credential)
            else {
                continue;
            };
            match self.status_list(entry.purpose, n, None).await {
                Ok(record) => lists.push((entry.list_credential.clone(), record.credential)),
                Err(ServiceError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(lists)
    }

    /// The VC API's `issueCredential`, for passports only (see the [module docs](self)):
    /// `credential` is an unsecured credential whose `credentialSubject` is a passport
    /// submission (the body of `POST /api/v1/passports`) and whose `issuer`, if given, is
    /// the node's DID. Published as a new passport through the publish path; its public
    /// Data Integrity credential. Anything else is refused and nothing is written.
    pub async fn issue_passport(
        &self,
        who: &Principal,
        credential: &Value,
    ) -> Result<IssuedPassport, ServiceError> {
        let draft = self.passport_draft_of(credential)?;
        if !self.app.signing_available() {
            return Err(ServiceError::SigningUnavailable(
                crate::app::HSM_UNAVAILABLE.into(),
            ));
        }
        let digest = draft
            .digest()
            .map(|d| d.0)
            .map_err(|e| ServiceError::internal("submission digest", e))?;
        let job = ItemJob {
            who,
            external_ref: None,
            import_id: None,
            publish: true,
            dry_run: false,
        };
        let done = self.import_create(&job, draft, digest).await;
        self.count_publish(&done);
        let done = done?;
        let (Some(id), Some(version)) = (done.id, done.version) else {
            return Err(ServiceError::internal(
                "issueCredential",
                "the publication left no published version",
            ));
        };
        let served = self.public_bytes(id, version, Form::DataIntegrity).await?;
        let credential = serde_json::from_slice(&served.bytes)
            .map_err(|e| ServiceError::internal("a served credential is not JSON", e))?;
        Ok(IssuedPassport {
            id,
            version,
            credential,
        })
    }

    /// The passport submission of an unsecured credential given to `issueCredential`, or
    /// why it is not one this node issues.
    fn passport_draft_of(&self, credential: &Value) -> Result<PassportDraft, ServiceError> {
        let refuse = |m: String| Err(ServiceError::Unprocessable(m));
        let Some(members) = credential.as_object() else {
            return refuse("`credential` must be a JSON object".into());
        };
        if let Some(other) = members
            .keys()
            .find(|k| !ISSUE_MEMBERS.contains(&k.as_str()))
        {
            return refuse(format!(
                "`credential.{other}` is not accepted: this node issues passports only, and \
                 assigns the id, validity, status and proof itself (give @context, type, \
                 issuer and credentialSubject)"
            ));
        }
        if let Some(context) = members.get("@context") {
            let first = match context {
                Value::Array(a) => a.first(),
                c => Some(c),
            };
            if first.and_then(Value::as_str) != Some(VC_V2_CONTEXT) {
                return refuse(format!(
                    "`credential.@context` must begin with {VC_V2_CONTEXT}"
                ));
            }
        }
        if let Some(kind) = members.get("type") {
            let listed = match kind {
                Value::String(s) => s == "VerifiableCredential",
                Value::Array(a) => a.iter().any(|t| t == "VerifiableCredential"),
                _ => false,
            };
            if !listed {
                return refuse("`credential.type` must include VerifiableCredential".into());
            }
        }
        let did = self.app.issuer.did.as_str();
        if let Some(issuer) = members.get("issuer") {
            let id = match issuer {
                Value::Object(o) => o.get("id").and_then(Value::as_str),
                other => other.as_str(),
            };
            if id != Some(did) {
                return refuse(format!(
                    "`credential.issuer` must be this node ({did}) or absent: the node signs \
                     only its own passports"
                ));
            }
        }
        let Some(subject) = members.get("credentialSubject") else {
            return refuse(
                "`credential.credentialSubject` is required: a passport submission".into(),
            );
        };
        PassportDraft::from_json_value(subject).map_err(|e| {
            ServiceError::Invalid(vec![hallmark_core::sector::ValidationIssue {
                pointer: "/credentialSubject".into(),
                message: e.to_string(),
            }])
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_did_document_check_names_what_was_not_resolved() {
        assert!(Resolution::check(&[]).is_none());
        let ok = Resolution {
            did: "did:key:z6Mk".into(),
            outcome: Ok("did:key".into()),
        };
        let bad = Resolution {
            did: "did:web:evil.example".into(),
            outcome: Err("did:web:evil.example: not allowed".into()),
        };
        let pass = Resolution::check(std::slice::from_ref(&ok)).unwrap();
        assert_eq!(pass.outcome, Outcome::Pass("did:key:z6Mk (did:key)".into()));
        let fail = Resolution::check(&[ok, bad]).unwrap();
        assert_eq!(
            fail.outcome,
            Outcome::Fail("not resolved: did:web:evil.example: not allowed".into())
        );
        let mut report = Report::default();
        report.checks.push(Check {
            name: "proof",
            outcome: Outcome::Pass(String::new()),
        });
        report.checks.push(Check {
            name: "issuer",
            outcome: Outcome::Pass(String::new()),
        });
        record_resolutions(
            &mut report,
            &[Resolution {
                did: "did:key:z".into(),
                outcome: Ok("k".into()),
            }],
        );
        assert_eq!(report.checks[1].name, DID_DOCUMENT_CHECK);
    }

    #[test]
    fn only_bare_dids_without_a_document_are_fetched() {
        let docs: Vec<DidDocument> = Vec::new();
        assert!(to_fetch("did:web:a.example", &docs));
        assert!(!to_fetch("did:key:z6Mk", &docs));
        assert!(!to_fetch("did:web:a.example#k", &docs));
        assert!(!to_fetch("https://a.example", &docs));
    }
}

//! From a passport to signed credentials: sector validation, audience views, issuance.
//!
//! A published passport version is issued as one W3C VC 2.0 credential per audience: the
//! `credentialSubject` is the passport as that audience may see it ([`view`]), so the public
//! credential contains public-tier fields only and can be served to anyone, while the
//! legitimate-interest and authority credentials carry more and are served only to those
//! entitled. Each is secured both as eddsa-jcs-2022 Data Integrity and as `vc+jwt`.
//!
//! Credential ids are URLs on the node's public base:
//! `<base>/passports/<uuid>/versions/<n>` for the public credential and
//! `<base>/passports/<uuid>/versions/<n>?audience=<audience>` for the others.

use crate::access::{Audience, PerAudience};
use crate::credential::{self, CredentialError, SecuredCredential, UnsignedCredential};
use crate::did::DidWeb;
use crate::jcs::{self, JcsError};
use crate::keys::Signer;
use crate::passport::party::{Classified, PartyField, PartyId};
use crate::passport::{echo, Passport, PassportError, PassportStatus};
use crate::sector::{IdentifierPolicy, Sector, SectorError, SectorRegistry, ValidationIssue};
use crate::status::{self, BitstringStatusList, StatusError, StatusPurpose, StatusRef};
use serde_json::Value;
use time::OffsetDateTime;

/// The VC type Hallmark gives passport credentials, after `VerifiableCredential`.
pub const CREDENTIAL_TYPE: &str = "DigitalProductPassport";

/// Why a passport cannot be validated or issued.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IssueError {
    /// The passport envelope is invalid.
    #[error(transparent)]
    Passport(#[from] PassportError),
    /// The passport names a sector or version the registry does not know.
    #[error(transparent)]
    Sector(#[from] SectorError),
    /// The sector data does not validate; pointers are into the passport (`/data/...`).
    #[error("passport data is invalid ({} issue(s)); first: {}", .0.len(), .0.first().map(|i| format!("{} {}", i.pointer, i.message)).unwrap_or_default())]
    Invalid(Vec<ValidationIssue>),
    /// Only published passports are issued.
    #[error("only a published passport can be issued; this one is {0}")]
    NotPublished(&'static str),
    /// The node's public base URL is not usable.
    #[error("invalid public base URL {0:?}")]
    BaseUrl(String),
    /// Securing the credential failed (including an unavailable signer).
    #[error(transparent)]
    Credential(#[from] CredentialError),
    /// A status list could not be encoded.
    #[error(transparent)]
    Status(#[from] StatusError),
}

/// A passport that passed [`validate`] (envelope invariants, its sector's schema, I-JSON
/// numbers), with its sector. Made only by [`SectorRegistry::validate`]; [`Issuer::issue_all`]
/// takes nothing else, so a passport is schema-validated once however many credentials are
/// issued from it.
#[derive(Debug, Clone)]
pub struct ValidatedPassport<'r> {
    passport: Passport,
    sector: &'r Sector,
}

impl<'r> ValidatedPassport<'r> {
    /// The passport.
    pub fn passport(&self) -> &Passport {
        &self.passport
    }

    /// Its sector data model.
    pub fn sector(&self) -> &'r Sector {
        self.sector
    }

    /// The passport, giving up the proof of validation.
    pub fn into_passport(self) -> Passport {
        self.passport
    }
}

impl SectorRegistry {
    /// Validates `passport` completely ([`validate`]: one schema validation) and keeps the
    /// result as a [`ValidatedPassport`].
    pub fn validate(&self, passport: Passport) -> Result<ValidatedPassport<'_>, IssueError> {
        let sector = validate(&passport, self)?;
        Ok(ValidatedPassport { passport, sector })
    }

    /// [`validate`](Self::validate) with the identifier rules' legacy exception and warnings
    /// ([`validate_with`]).
    pub fn validate_with(
        &self,
        passport: Passport,
        legacy_operator: Option<&str>,
    ) -> Result<(ValidatedPassport<'_>, Vec<ValidationIssue>), IssueError> {
        let (sector, warnings) = validate_with(&passport, self, legacy_operator)?;
        Ok((ValidatedPassport { passport, sector }, warnings))
    }
}

/// Validate a passport completely: envelope invariants, sector lookup, the sector's schema,
/// the sector's identifier policy and that every number survives canonical signing unchanged
/// (I-JSON). Returns the sector; warnings are dropped ([`validate_with`] returns them).
pub fn validate<'r>(
    passport: &Passport,
    registry: &'r SectorRegistry,
) -> Result<&'r Sector, IssueError> {
    validate_with(passport, registry, None).map(|(sector, _)| sector)
}

/// [`validate`], also returning the warnings, for a passport whose record (if it already
/// exists) was created with operator `legacy_operator`.
///
/// The operator and facility identifiers are read with [`PartyId::classify`] and held to the
/// sector's [`IdentifierPolicy`]:
/// - [`IdentifierPolicy::Required`] (battery): the operator must be an ISO/IEC 15459
///   identifier and a facility must be present and be one; otherwise errors at
///   `/economicOperatorId` and `/facilityId`. A missing `commodityCode` is a warning.
///   *Legacy exception*: when the passport's record was created with an operator that is not
///   ISO/IEC 15459 (`legacy_operator`, which cannot change) and the passport keeps exactly
///   that string, both checks are warnings instead.
/// - [`IdentifierPolicy::Advisory`] (generic): the same findings, as warnings ("not ISO/IEC
///   15459"); a facility may be absent.
///
/// Errors are [`IssueError::Invalid`], data issues (`/data/…`) and identifier issues
/// together. These rules are not part of [`Passport::validate`], which also runs on reads of
/// stored versions: old versions keep parsing and verifying.
pub fn validate_with<'r>(
    passport: &Passport,
    registry: &'r SectorRegistry,
    legacy_operator: Option<&str>,
) -> Result<(&'r Sector, Vec<ValidationIssue>), IssueError> {
    passport.validate()?;
    let sector = registry.get(&passport.sector.id, &passport.sector.schema_version)?;
    let mut issues = match sector.validate(&passport.data) {
        Ok(()) => Vec::new(),
        Err(issues) => issues,
    };
    if let Err(JcsError::UnsafeInteger { pointer }) = jcs::check_ijson(&passport.data) {
        issues.push(ValidationIssue {
            pointer,
            message: "integer outside ±(2^53−1) cannot be signed faithfully (I-JSON, RFC 7493)"
                .into(),
        });
    }
    for i in &mut issues {
        i.pointer = format!("/data{}", i.pointer);
    }
    let (errors, mut warnings) = identifier_issues(passport, sector, legacy_operator);
    issues.extend(errors);
    if issues.is_empty() {
        warnings.sort();
        warnings.dedup();
        return Ok((sector, warnings));
    }
    issues.sort();
    issues.dedup();
    Err(IssueError::Invalid(issues))
}

/// The identifier findings of [`validate_with`]: (errors, warnings).
fn identifier_issues(
    passport: &Passport,
    sector: &Sector,
    legacy_operator: Option<&str>,
) -> (Vec<ValidationIssue>, Vec<ValidationIssue>) {
    let required = sector.identifier_policy() == IdentifierPolicy::Required;
    let legacy = legacy_operator.is_some_and(|op| {
        op == passport.economic_operator_id
            && !matches!(
                PartyId::classify(op, PartyField::Operator),
                Classified::Iso15459(_)
            )
    });
    let strict = required && !legacy;
    let (mut errors, mut warnings) = (Vec::new(), Vec::new());
    let mut note = |field: PartyField, message: String, error: bool| {
        let issue = ValidationIssue {
            pointer: field.pointer().to_owned(),
            message,
        };
        if error {
            errors.push(issue);
        } else {
            warnings.push(issue);
        }
    };
    let fields = [
        (
            PartyField::Operator,
            Some(passport.economic_operator_id.as_str()),
        ),
        (PartyField::Facility, passport.facility_id.as_deref()),
    ];
    for (field, value) in fields {
        let name = field.wire_name();
        let Some(value) = value else {
            if required {
                let message = if legacy {
                    format!(
                        "`{name}` is missing: a {} passport needs the ISO/IEC 15459 identifier of \
                         its facility (e.g. a GS1 GLN as `https://id.gs1.org/414/<gln>`); accepted \
                         as a warning because the passport's operator predates that rule",
                        sector.id()
                    )
                } else {
                    format!(
                        "`{name}` is required for a {} passport: the ISO/IEC 15459 identifier of \
                         its facility, e.g. a GS1 GLN as `https://id.gs1.org/414/<gln>`",
                        sector.id()
                    )
                };
                note(field, message, strict);
            }
            continue;
        };
        let example = match field {
            PartyField::Operator => "https://id.gs1.org/417/<gln>",
            PartyField::Facility => "https://id.gs1.org/414/<gln>",
        };
        let tail = if strict {
            format!(
                "a {} passport needs one, e.g. a GS1 GLN as `{example}`",
                sector.id()
            )
        } else if legacy {
            "accepted as a warning because the passport's operator predates that rule; \
             the EU registry export needs one"
                .to_owned()
        } else {
            "the EU registry export needs one (e.g. a GS1 GLN)".to_owned()
        };
        match PartyId::classify(value, field) {
            Classified::Iso15459(_) => {}
            Classified::NotIso15459(id) => {
                let what = match id {
                    PartyId::Eori(_) => "an EORI number",
                    _ => "a free-form string",
                };
                note(
                    field,
                    format!(
                        "`{name}` is not an ISO/IEC 15459 identifier ({what}: `{}`); {tail}",
                        echo(value)
                    ),
                    strict,
                );
            }
            Classified::Malformed(problem) => {
                let message = if strict {
                    problem.to_string()
                } else {
                    format!("{problem}; not ISO/IEC 15459 as written")
                };
                note(field, message, strict);
            }
        }
    }
    if required && passport.commodity_code.is_none() {
        warnings.push(ValidationIssue {
            pointer: "/commodityCode".to_owned(),
            message: format!(
                "`commodityCode` is missing: a {} passport should name its customs commodity \
                 code (HS / CN / TARIC, e.g. `85076000`); the EU registry export needs it",
                sector.id()
            ),
        });
    }
    (errors, warnings)
}

/// The passport as `audience` may see it: sector data filtered by field tier.
pub fn view(
    passport: &Passport,
    audience: Audience,
    registry: &SectorRegistry,
) -> Result<Passport, IssueError> {
    let sector = registry.get(&passport.sector.id, &passport.sector.schema_version)?;
    let mut out = passport.clone();
    out.data = sector.view(&passport.data, audience);
    Ok(out)
}

/// Where credentials are issued from.
#[derive(Debug, Clone)]
pub struct Issuer {
    /// The operator's DID.
    pub did: DidWeb,
    /// The node's public base URL (`https://host[/path]`), used for credential ids.
    pub base_url: String,
}

impl Issuer {
    /// An issuer whose DID derives from the public base URL.
    pub fn from_base_url(base_url: &str) -> Result<Self, IssueError> {
        let did = DidWeb::from_base_url(base_url)
            .map_err(|_| IssueError::BaseUrl(base_url.to_string()))?;
        Ok(Issuer {
            did,
            base_url: base_url.trim_end_matches('/').to_string(),
        })
    }

    /// The credential id of a passport version for an audience.
    pub fn credential_id(&self, passport: &Passport, audience: Audience) -> String {
        let base = format!(
            "{}/passports/{}/versions/{}",
            self.base_url,
            passport.id.uuid(),
            passport.version
        );
        match audience {
            Audience::Public => base,
            Audience::LegitimateInterest => format!("{base}?audience=legitimateInterest"),
            Audience::Authority => format!("{base}?audience=authority"),
        }
    }

    /// The unsigned credential for one audience's view of a published passport.
    pub fn credential(
        &self,
        passport: &Passport,
        audience: Audience,
        registry: &SectorRegistry,
    ) -> Result<UnsignedCredential, IssueError> {
        if passport.status != PassportStatus::Published {
            return Err(IssueError::NotPublished(passport.status.as_str()));
        }
        let sector = validate(passport, registry)?;
        self.credential_of_valid(passport, sector, audience)
    }

    /// [`credential`](Self::credential) for a passport already validated against `sector`.
    fn credential_of_valid(
        &self,
        passport: &Passport,
        sector: &Sector,
        audience: Audience,
    ) -> Result<UnsignedCredential, IssueError> {
        let mut seen = passport.clone();
        seen.data = sector.view(&passport.data, audience);
        let subject = serde_json::to_value(seen).map_err(|e| {
            IssueError::Credential(CredentialError::Jcs(JcsError::Canonicalize(e.to_string())))
        })?;
        let valid_from = passport.published_at.unwrap_or(passport.updated_at);
        Ok(UnsignedCredential {
            id: self.credential_id(passport, audience),
            types: vec![CREDENTIAL_TYPE.to_string()],
            issuer: self.did.as_str().to_string(),
            valid_from,
            subject,
            extra_contexts: Vec::new(),
        })
    }

    /// Issue every audience's credential of a published passport, secured both ways. The
    /// passport was validated when it became a [`ValidatedPassport`]; nothing here validates
    /// it again. With a `status` position, every credential carries `credentialStatus`: the
    /// passport's two `BitstringStatusListEntry` entries ([`status::credential_status`]);
    /// without, the credentials are exactly those issued before status lists existed.
    pub fn issue_all(
        &self,
        passport: &ValidatedPassport<'_>,
        status: Option<StatusRef>,
        signer: &dyn Signer,
        now: OffsetDateTime,
    ) -> Result<PerAudience<SecuredCredential>, IssueError> {
        let (sector, passport) = (passport.sector, &passport.passport);
        if passport.status != PassportStatus::Published {
            return Err(IssueError::NotPublished(passport.status.as_str()));
        }
        let vm = self.did.key_url(&signer.key_id());
        let entries = status.map(|r| status::credential_status(&self.base_url, r));
        PerAudience::try_from_fn(|audience| {
            let unsigned = self.credential_of_valid(passport, sector, audience)?;
            let Some(entries) = &entries else {
                return Ok(credential::secure(&unsigned, &vm, now, signer)?);
            };
            let mut doc = unsigned.to_value()?;
            if let Value::Object(m) = &mut doc {
                m.insert("credentialStatus".into(), entries.clone());
            }
            Ok(credential::secure_document(&doc, &vm, now, signer)?)
        })
    }

    /// Sign one status list as a `BitstringStatusListCredential` ([`status::list_credential`]),
    /// secured both ways like a passport credential, valid from `now` for
    /// [`status::LIST_VALIDITY_SECS`].
    pub fn issue_status_list(
        &self,
        purpose: StatusPurpose,
        list: u32,
        bits: &BitstringStatusList,
        signer: &dyn Signer,
        now: OffsetDateTime,
    ) -> Result<SecuredCredential, IssueError> {
        let doc = status::list_credential(self, purpose, list, bits, now)?;
        let vm = self.did.key_url(&signer.key_id());
        Ok(credential::secure_document(&doc, &vm, now, signer)?)
    }

    /// Issue one audience's credential of a published passport, secured both ways.
    pub fn issue(
        &self,
        passport: &Passport,
        audience: Audience,
        registry: &SectorRegistry,
        signer: &dyn Signer,
        now: OffsetDateTime,
    ) -> Result<SecuredCredential, IssueError> {
        let unsigned = self.credential(passport, audience, registry)?;
        let vm = self.did.key_url(&signer.key_id());
        Ok(credential::secure(&unsigned, &vm, now, signer)?)
    }
}

/// Read the passport back out of a verified credential's subject.
pub fn passport_from_credential(credential: &Value) -> Result<Passport, PassportError> {
    let subject = credential.get("credentialSubject").unwrap_or(&Value::Null);
    Passport::from_json_value(subject)
}

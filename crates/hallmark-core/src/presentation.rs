//! W3C Verifiable Presentations (VC Data Model 2.0 §4.13) secured with an `eddsa-jcs-2022`
//! Data Integrity proof by their holder: several passports presented together (a recycler
//! showing the passports of a batch), or none (a reader proving possession of its key).
//!
//! A presentation is built unsecured ([`UnsignedPresentation::to_value`]): the VC 2.0
//! context first, `type` `VerifiablePresentation`, an optional `id`, the `holder` (a DID), and
//! `verifiableCredential`: each credential either embedded (a Data Integrity credential, the
//! object itself) or enveloped (a `vc+jwt`, as `{"@context":
//! "https://www.w3.org/ns/credentials/v2", "id": "data:application/vc+jwt,<compact JWS>",
//! "type": "EnvelopedVerifiableCredential"}`, VC-JOSE-COSE). [`sign_presentation`] adds the
//! holder's proof through [`credential::add_data_integrity_proof_for`] (the same canonicalization,
//! hashing and signing as a credential's proof) with `proofPurpose` `authentication`, and the
//! verifier's `challenge` and `domain`.
//!
//! [`verify_presentation`] returns a [`PresentationReport`]: the presentation's own checks,
//! then one [`Report`] per contained credential, each verified as
//! [`verify::verify_resolving`] verifies a credential alone (an enveloped one as its
//! `vc+jwt`). The presentation's checks, in order:
//!
//! | check | what it asserts |
//! |---|---|
//! | `format` | the input is a JSON object (an enveloped `vp+jwt` presentation is not read) |
//! | `well-formed` | strict JSON (no duplicate names) |
//! | `presentation` | VC DM 2.0: `@context` an array starting with the VC 2.0 context, `type` includes `VerifiablePresentation`, `id` (if any) a URL, `holder` (if any) a URL or an object whose `id` is one, `verifiableCredential` (if any) one or more objects; an `EnvelopedVerifiableCredential` has the base context and an `id` that is a `data:application/vc+jwt,` URL holding a compact JWS |
//! | `proof` | one `DataIntegrityProof` / `eddsa-jcs-2022` object with a `proofValue` (no proof set, no `previousProof`); the option formats as for a credential; the proof's `@context` a prefix of the presentation's |
//! | `proof-purpose` | `authentication` |
//! | `proof-expiry` | as for a credential, when the proof has `expires` |
//! | `proof-domain` | the expected domain ([`VerifyOptions::expected_domain`]), as for a credential |
//! | `proof-challenge` | the expected challenge ([`VerifyOptions::expected_challenge`]); when none is expected, a [`Outcome::Warn`]: the presentation may be a replay |
//! | `key` | the controller document of the verification method's DID was resolved, has that DID as its id and lists the method with that controller |
//! | `key-authorized` | the method is referenced from the controller document's `authentication` |
//! | `holder` | the `holder` is the controller of the verification method (the id of its controller document); a presentation without `holder` is a warning |
//! | `signature` | Ed25519 (`verify_strict`) over SHA-256(proof config) ‖ SHA-256(presentation without its proof) |
//!
//! The expected challenge and domain apply to the presentation's proof only: the contained
//! credentials are verified with the caller's other options (time, issuer policy) and no
//! expected challenge or domain (their issuers' proofs are not bound to this verifier). The
//! verdict ([`PresentationReport::verdict`]) is valid only when the presentation and every
//! credential are.
//!
//! Resolution goes through the [`ResolveDid`] port: [`verify_presentation`] uses one
//! resolver for the holder's key and the credentials' keys; [`verify_presentation_with`] takes
//! one for each, so that a verifier who pinned the issuers' documents (no did:key for
//! credentials) can still resolve a holder's did:key. [`presentation_dids`] lists the DIDs a
//! presentation needs resolved, for a caller that fetches did:web documents before verifying.

use crate::credential::{
    self, CredentialError, ProofExtras, ProofOptions, AUTHENTICATION, CRYPTOSUITE, PROOF_TYPE,
    VC_V2_CONTEXT,
};
use crate::did::did_of;
use crate::did_resolver::ResolveDid;
use crate::jcs;
use crate::keys::{decode_signature_multibase, Signer};
use crate::verify::{self, Format, Outcome, Report, Verdict, VerifyOptions, PROOF_CHALLENGE_CHECK};
use base64::Engine as _;
use ed25519_dalek::VerifyingKey;
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt;

/// The type every presentation has.
pub const VP_TYPE: &str = "VerifiablePresentation";
/// The type of a credential secured by an enveloping mechanism (a `vc+jwt`) inside a
/// presentation.
pub const ENVELOPED_VC_TYPE: &str = "EnvelopedVerifiableCredential";
/// The media type of a `vc+jwt` (IANA, VC-JOSE-COSE), as written in an enveloped
/// credential's `data:` URL.
pub const VC_JWT_MEDIA_TYPE: &str = "application/vc+jwt";
/// Name of the check of the presentation's data model.
pub const PRESENTATION_CHECK: &str = "presentation";
/// Name of the holder binding check.
pub const HOLDER_CHECK: &str = "holder";

/// The presentation's checks, in order (those not reached are reported as skipped).
const VP_CHECKS: [&str; 9] = [
    "format",
    "well-formed",
    PRESENTATION_CHECK,
    "proof",
    "proof-purpose",
    "key",
    "key-authorized",
    HOLDER_CHECK,
    "signature",
];

/// Errors building or signing a presentation.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum PresentationError {
    /// Bytes given as a credential to present are neither a secured JSON credential nor a
    /// compact JWS.
    #[error("not a secured credential: {0}")]
    NotACredential(String),
    /// The document to sign is not an unsecured presentation.
    #[error("not an unsecured presentation: {0}")]
    NotAPresentation(&'static str),
    /// The presentation breaks a VC Data Model 2.0 rule for presentations (the
    /// `presentation` check): Hallmark does not sign it.
    #[error("the presentation breaks the VC Data Model 2.0: {0}")]
    DataModel(String),
    /// Securing failed (canonicalization, signer).
    #[error(transparent)]
    Credential(#[from] CredentialError),
}

/// A credential inside a presentation.
#[derive(Debug, Clone, PartialEq)]
pub enum Contained {
    /// A credential secured with an embedded proof (Data Integrity): the object itself.
    Embedded(Map<String, Value>),
    /// A credential secured by enveloping: the compact JWS of a `vc+jwt`.
    Enveloped(String),
}

impl Contained {
    /// Read a secured credential file: a JSON object with a `proof` (strict JSON) is
    /// embedded; a compact JWS (three base64url parts) is enveloped. Nothing is verified.
    ///
    /// # Errors
    /// [`PresentationError::NotACredential`], saying why.
    pub fn parse(bytes: &[u8]) -> Result<Self, PresentationError> {
        let bad = |why: &str| PresentationError::NotACredential(why.to_string());
        let trimmed = bytes.trim_ascii();
        if trimmed.first() == Some(&b'{') {
            return match jcs::parse_strict(trimmed) {
                Ok(Value::Object(m)) if m.contains_key("proof") => Ok(Contained::Embedded(m)),
                Ok(_) => Err(bad("a JSON credential without a proof")),
                Err(e) => Err(PresentationError::NotACredential(e.to_string())),
            };
        }
        let text = std::str::from_utf8(trimmed).map_err(|_| bad("not UTF-8"))?;
        if is_compact_jws(text) {
            Ok(Contained::Enveloped(text.to_string()))
        } else {
            Err(bad(
                "neither a JSON credential with a proof nor a compact JWS (vc+jwt)",
            ))
        }
    }

    /// The entry of `verifiableCredential`: the credential object, or an
    /// [`enveloped_credential`].
    pub fn to_value(&self) -> Value {
        match self {
            Contained::Embedded(m) => Value::Object(m.clone()),
            Contained::Enveloped(jws) => enveloped_credential(jws),
        }
    }
}

/// Three non-empty base64url parts separated by dots.
fn is_compact_jws(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// An `EnvelopedVerifiableCredential` (VC DM 2.0 §4.13, VC-JOSE-COSE) holding a `vc+jwt`.
pub fn enveloped_credential(jws: &str) -> Value {
    serde_json::json!({
        "@context": VC_V2_CONTEXT,
        "id": format!("data:{VC_JWT_MEDIA_TYPE},{jws}"),
        "type": ENVELOPED_VC_TYPE,
    })
}

/// A presentation before its holder signs it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnsignedPresentation {
    /// The presentation's `id` (a URL, e.g. `urn:uuid:…`), if any.
    pub id: Option<String>,
    /// The holder: the DID whose key signs (the controller of the verification method).
    pub holder: Option<String>,
    /// The credentials presented, in order (none: the holder only proves its key).
    pub credentials: Vec<Contained>,
}

impl UnsignedPresentation {
    /// Render as a VC 2.0 presentation (`verifiableCredential` only when there are
    /// credentials).
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("@context".into(), serde_json::json!([VC_V2_CONTEXT]));
        if let Some(id) = &self.id {
            m.insert("id".into(), Value::String(id.clone()));
        }
        m.insert("type".into(), serde_json::json!([VP_TYPE]));
        if let Some(holder) = &self.holder {
            m.insert("holder".into(), Value::String(holder.clone()));
        }
        if !self.credentials.is_empty() {
            m.insert(
                "verifiableCredential".into(),
                Value::Array(self.credentials.iter().map(Contained::to_value).collect()),
            );
        }
        Value::Object(m)
    }
}

/// Secure a presentation with the holder's eddsa-jcs-2022 proof: `proofPurpose`
/// `authentication`, with the `extras` (the verifier's `challenge` and `domain`, an `id`,
/// `expires`). The signing is [`credential::add_data_integrity_proof_for`]'s.
///
/// # Errors
/// [`PresentationError::NotAPresentation`] when `presentation` is not an object whose type
/// includes `VerifiablePresentation`, or already has a proof; [`PresentationError::DataModel`]
/// when it breaks a rule of the `presentation` check; [`PresentationError::Credential`]
/// when canonicalization or the signer fails.
pub fn sign_presentation(
    presentation: &Value,
    options: &ProofOptions,
    extras: &ProofExtras,
    signer: &dyn Signer,
) -> Result<Value, PresentationError> {
    let doc = presentation
        .as_object()
        .ok_or(PresentationError::NotAPresentation("not a JSON object"))?;
    if !has_type(doc, VP_TYPE) {
        return Err(PresentationError::NotAPresentation(
            "type does not include VerifiablePresentation",
        ));
    }
    if doc.contains_key("proof") {
        return Err(PresentationError::NotAPresentation(
            "it already has a proof",
        ));
    }
    let mut rules = Report::default();
    if !shape(doc, &entries(doc), &mut rules) {
        let why = rules
            .check(PRESENTATION_CHECK)
            .map(|o| o.detail().to_string())
            .unwrap_or_default();
        return Err(PresentationError::DataModel(why));
    }
    Ok(credential::add_data_integrity_proof_for(
        AUTHENTICATION,
        presentation,
        options,
        extras,
        signer,
    )?)
}

fn has_type(doc: &Map<String, Value>, wanted: &str) -> bool {
    match doc.get("type") {
        Some(Value::Array(t)) => t.iter().any(|v| v == wanted),
        Some(Value::String(s)) => s == wanted,
        _ => false,
    }
}

/// Whether the bytes are a JSON object whose `type` includes `VerifiablePresentation`
/// (unverified: to choose between [`verify_presentation`] and a credential's verification).
pub fn is_presentation(input: &[u8]) -> bool {
    let trimmed = input.trim_ascii();
    trimmed.first() == Some(&b'{')
        && serde_json::from_slice::<Map<String, Value>>(trimmed)
            .is_ok_and(|doc| has_type(&doc, VP_TYPE))
}

/// The result of verifying a presentation: its own checks and each credential's report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PresentationReport {
    /// The presentation's checks (`credential` holds the presentation without its proof,
    /// `verification_method` the holder's key).
    pub presentation: Report,
    /// One report per entry of `verifiableCredential`, in order (an entry that is not a
    /// credential: a failed `format` check).
    pub credentials: Vec<Report>,
}

impl PresentationReport {
    /// [`Verdict::Invalid`] when the presentation or any credential is invalid; else
    /// [`Verdict::NotInForce`] when a credential is not in force (a status a caller
    /// recorded); else [`Verdict::Valid`].
    pub fn verdict(&self) -> Verdict {
        let verdicts: Vec<Verdict> = std::iter::once(&self.presentation)
            .chain(&self.credentials)
            .map(Report::verdict)
            .collect();
        if verdicts.contains(&Verdict::Invalid) {
            return Verdict::Invalid;
        }
        verdicts
            .into_iter()
            .find(|v| matches!(v, Verdict::NotInForce(_)))
            .unwrap_or(Verdict::Valid)
    }

    /// True when the verdict is [`Verdict::Valid`].
    pub fn is_valid(&self) -> bool {
        self.verdict() == Verdict::Valid
    }
}

/// A report with its verdict, as JSON: the report's members and `verdict`.
#[derive(Serialize)]
struct Judged<'a> {
    #[serde(flatten)]
    report: &'a Report,
    verdict: Verdict,
}

impl Serialize for PresentationReport {
    /// `{"presentation": {…report, "verdict"}, "credentials": [{…report, "verdict"}],
    /// "verdict": …}` — each verdict as `{"verdict": "valid"}` (a report's JSON in `hallmark
    /// verify --json`).
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        fn judged(report: &Report) -> Judged<'_> {
            Judged {
                report,
                verdict: report.verdict(),
            }
        }
        let mut s = serializer.serialize_struct("PresentationReport", 3)?;
        s.serialize_field("presentation", &judged(&self.presentation))?;
        let credentials: Vec<Judged<'_>> = self.credentials.iter().map(judged).collect();
        s.serialize_field("credentials", &credentials)?;
        s.serialize_field("verdict", &self.verdict())?;
        s.end()
    }
}

impl fmt::Display for PresentationReport {
    /// The presentation's checks, then each credential's under a title (indented, with its
    /// verdict), then the overall verdict.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Presentation")?;
        self.presentation.write_checks(f, "")?;
        let n = self.credentials.len();
        for (i, r) in self.credentials.iter().enumerate() {
            let form = match r.format {
                Some(Format::DataIntegrity) => "embedded, Data Integrity",
                Some(Format::Jwt) => "enveloped, vc+jwt",
                None => "unreadable",
            };
            let id = r
                .credential
                .as_ref()
                .and_then(|c| c.get("id"))
                .and_then(Value::as_str)
                .map(|id| format!(" {id}"))
                .unwrap_or_default();
            writeln!(f, "Credential {}/{n} ({form}){id}", i + 1)?;
            r.write_checks(f, "  ")?;
            writeln!(f, "  {}", r.verdict())?;
        }
        write!(f, "{}", self.verdict())
    }
}

/// Verify a presentation, resolving the holder's key and the credentials' keys through
/// `resolver`: [`verify_presentation_with`] with one resolver for both.
pub fn verify_presentation(
    input: &[u8],
    resolver: &dyn ResolveDid,
    options: &VerifyOptions,
) -> PresentationReport {
    verify_presentation_with(input, resolver, resolver, options)
}

/// Verify a presentation: its checks (module docs) with the holder's key from `holders`,
/// then each contained credential as [`verify::verify_resolving`] does with `credentials`
/// and `options` without its expected challenge and domain (those bind the presentation's
/// proof only).
pub fn verify_presentation_with(
    input: &[u8],
    holders: &dyn ResolveDid,
    credentials: &dyn ResolveDid,
    options: &VerifyOptions,
) -> PresentationReport {
    let mut r = Report::default();
    let trimmed = input.trim_ascii();
    if trimmed.first() != Some(&b'{') {
        r.push(
            "format",
            Outcome::Fail(
                "a presentation is a JSON object (an enveloped vp+jwt presentation is not read)"
                    .into(),
            ),
        );
        r.skip_rest(&VP_CHECKS);
        return PresentationReport {
            presentation: r,
            credentials: Vec::new(),
        };
    }
    r.format = Some(Format::DataIntegrity);
    r.push(
        "format",
        Outcome::Pass("JSON presentation with a Data Integrity proof".into()),
    );
    let mut doc = match jcs::parse_strict(trimmed) {
        Ok(Value::Object(doc)) => {
            r.push("well-formed", Outcome::Pass("strict JSON".into()));
            doc
        }
        Ok(_) => {
            r.push("well-formed", Outcome::Fail("not a JSON object".into()));
            Map::new()
        }
        Err(e) => {
            r.push("well-formed", Outcome::Fail(e.to_string()));
            Map::new()
        }
    };
    if r.checks
        .iter()
        .any(|c| matches!(c.outcome, Outcome::Fail(_)))
    {
        r.skip_rest(&VP_CHECKS);
        return PresentationReport {
            presentation: r,
            credentials: Vec::new(),
        };
    }
    let proof = doc.remove("proof");
    r.credential = Some(Value::Object(doc.clone()));
    let entries = entries(&doc);
    if shape(&doc, &entries, &mut r) {
        verify_proof(&doc, proof, holders, options, &mut r);
    }
    r.skip_rest(&VP_CHECKS);
    let contained_options = VerifyOptions {
        expected_domain: None,
        expected_challenge: None,
        ..options.clone()
    };
    let reports = match entries {
        Ok(entries) => entries
            .iter()
            .map(|e| verify_contained(e, credentials, &contained_options))
            .collect(),
        Err(_) => Vec::new(),
    };
    PresentationReport {
        presentation: r,
        credentials: reports,
    }
}

/// One entry of `verifiableCredential`: a credential, or why it is none.
type Entry = Result<Contained, String>;

/// The entries of `verifiableCredential` (none when absent); `Err` when the member itself
/// is malformed (neither an object nor a non-empty array).
fn entries(doc: &Map<String, Value>) -> Result<Vec<Entry>, String> {
    let list: Vec<&Value> = match doc.get("verifiableCredential") {
        None => return Ok(Vec::new()),
        Some(v @ Value::Object(_)) => vec![v],
        Some(Value::Array(a)) if !a.is_empty() => a.iter().collect(),
        Some(Value::Array(_)) => {
            return Err("verifiableCredential is an empty array (one or more credentials)".into())
        }
        Some(_) => {
            return Err(
                "verifiableCredential must be a credential object or an array of them".into(),
            )
        }
    };
    let n = list.len();
    Ok(list
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            entry(v).map_err(|why| format!("verifiableCredential entry {}/{n}: {why}", i + 1))
        })
        .collect())
}

fn entry(v: &Value) -> Result<Contained, String> {
    let Value::Object(m) = v else {
        return Err(format!(
            "{} is not an object (a presentation holds credential objects, not strings or URLs)",
            crate::vc_model::kind(v)
        ));
    };
    if !has_type(m, ENVELOPED_VC_TYPE) {
        return Ok(Contained::Embedded(m.clone()));
    }
    let base = match m.get("@context") {
        Some(Value::String(s)) => s == VC_V2_CONTEXT,
        Some(Value::Array(a)) => a.first().and_then(Value::as_str) == Some(VC_V2_CONTEXT),
        _ => false,
    };
    if !base {
        return Err(format!(
            "an {ENVELOPED_VC_TYPE} must have the context {VC_V2_CONTEXT}"
        ));
    }
    let Some(id) = m.get("id").and_then(Value::as_str) else {
        return Err(format!("an {ENVELOPED_VC_TYPE} has no id (its data: URL)"));
    };
    enveloped_jws(id).map(|jws| Contained::Enveloped(jws.to_string()))
}

/// The compact JWS in a `data:application/vc+jwt,<JWS>` URL (RFC 2397; the media type
/// compared without regard to case; no parameters, no `;base64`: a JWS is already text).
fn enveloped_jws(url: &str) -> Result<&str, String> {
    let Some(rest) = url
        .get(..5)
        .filter(|s| s.eq_ignore_ascii_case("data:"))
        .map(|_| &url[5..])
    else {
        return Err("the id of an enveloped credential must be a data: URL".into());
    };
    let Some((media_type, data)) = rest.split_once(',') else {
        return Err("the data: URL has no comma before its data".into());
    };
    if !media_type.eq_ignore_ascii_case(VC_JWT_MEDIA_TYPE) {
        return Err(format!(
            "the data: URL's media type is {media_type:?}; only {VC_JWT_MEDIA_TYPE} is read"
        ));
    }
    if !is_compact_jws(data) {
        return Err("the data: URL does not hold a compact JWS".into());
    }
    Ok(data)
}

fn holder_id(doc: &Map<String, Value>) -> Option<&Value> {
    match doc.get("holder")? {
        Value::Object(o) => o.get("id"),
        v => Some(v),
    }
}

/// The `presentation` check: the VC DM 2.0 rules of a presentation and of its entries.
fn shape(doc: &Map<String, Value>, entries: &Result<Vec<Entry>, String>, r: &mut Report) -> bool {
    let problem = (|| {
        match doc.get("@context") {
            Some(Value::Array(c)) if c.first().and_then(Value::as_str) == Some(VC_V2_CONTEXT) => {}
            _ => {
                return Some(format!(
                    "@context must be an array starting with {VC_V2_CONTEXT}"
                ))
            }
        }
        if !has_type(doc, VP_TYPE) {
            return Some(format!("type must include {VP_TYPE}"));
        }
        if let Some(id) = doc.get("id") {
            if !id.as_str().is_some_and(crate::vc_model::is_url) {
                return Some(format!("id {id} is not a URL"));
            }
        }
        if doc.contains_key("holder") {
            match holder_id(doc) {
                Some(Value::String(h)) if crate::vc_model::is_url(h) => {}
                _ => return Some("holder must be a URL or an object whose id is a URL".into()),
            }
        }
        match entries {
            Err(e) => Some(e.clone()),
            Ok(list) => list.iter().find_map(|e| e.as_ref().err().cloned()),
        }
    })();
    let n = match entries {
        Ok(list) => list.len(),
        Err(_) => 0,
    };
    match problem {
        None => r.push(
            PRESENTATION_CHECK,
            Outcome::Pass(format!("VC Data Model 2.0, {n} credential(s)")),
        ),
        Some(p) => r.push(PRESENTATION_CHECK, Outcome::Fail(p)),
    }
}

/// The presentation's proof: checks `proof` to `signature`.
fn verify_proof(
    doc: &Map<String, Value>,
    proof: Option<Value>,
    resolver: &dyn ResolveDid,
    options: &VerifyOptions,
    r: &mut Report,
) -> bool {
    let mut config = match proof {
        Some(Value::Object(p)) => p,
        Some(Value::Array(_)) => {
            return r.push(
                "proof",
                Outcome::Fail(
                    "a proof set on a presentation is not read: one proof, by the holder".into(),
                ),
            )
        }
        Some(_) => return r.push("proof", Outcome::Fail("the proof is not an object".into())),
        None => {
            return r.push(
                "proof",
                Outcome::Fail("no proof: the presentation is not secured".into()),
            )
        }
    };
    let proof_value = config.remove("proofValue");
    let s = |k: &str| config.get(k).and_then(Value::as_str).map(str::to_string);
    let vm = s("verificationMethod");
    r.verification_method = vm.clone();
    let proof_value = match (
        s("type").as_deref(),
        s("cryptosuite").as_deref(),
        proof_value.as_ref().and_then(Value::as_str),
    ) {
        (Some(PROOF_TYPE), Some(CRYPTOSUITE), Some(pv)) => match decode_signature_multibase(pv) {
            Ok(_) => pv.to_string(),
            Err(e) => return r.push("proof", Outcome::Fail(format!("proofValue: {e}"))),
        },
        (Some(PROOF_TYPE), Some(other), _) if other != CRYPTOSUITE => {
            return r.push(
                "proof",
                Outcome::Fail(format!("unsupported cryptosuite {other:?}")),
            )
        }
        (Some(PROOF_TYPE), _, None) => {
            return r.push("proof", Outcome::Fail("missing proofValue".into()))
        }
        (t, _, _) => {
            return r.push(
                "proof",
                Outcome::Fail(format!(
                    "unsupported proof type {:?}",
                    t.unwrap_or("(none)")
                )),
            )
        }
    };
    if let Some(prev) = config.get("previousProof") {
        return r.push("proof",
            Outcome::Fail(format!(
                "previousProof {prev} names no proof: the presentation has a single proof (dangling)"
            )),
        );
    }
    if let Some(problem) = verify::option_formats(&config) {
        return r.push("proof", Outcome::Fail(problem));
    }
    if let Some(pctx) = config.get("@context") {
        let prefix_ok = match (pctx, doc.get("@context")) {
            (Value::Array(p), Some(Value::Array(d))) => d.starts_with(p),
            (p, Some(d)) => p == d,
            _ => false,
        };
        if !prefix_ok {
            return r.push(
                "proof",
                Outcome::Fail("proof @context does not match the presentation's @context".into()),
            );
        }
    }
    r.push(
        "proof",
        Outcome::Pass(format!("{PROOF_TYPE} / {CRYPTOSUITE}")),
    );
    match s("proofPurpose").as_deref() {
        Some(AUTHENTICATION) => r.push("proof-purpose", Outcome::Pass(AUTHENTICATION.into())),
        other => {
            return r.push(
                "proof-purpose",
                Outcome::Fail(format!(
                    "expected {AUTHENTICATION} (a presentation's proof), found {:?}",
                    other.unwrap_or("(none)")
                )),
            )
        }
    };
    if !verify::proof_options(&config, options, r) {
        return false;
    }
    if options.expected_challenge.is_none() {
        replay_warning(&config, r);
    }
    let Some(vm) = vm else {
        return r.push(
            "key",
            Outcome::Fail("the proof names no verification method".into()),
        );
    };
    let Some((controller, key)) = holder_key(&vm, resolver, r) else {
        return false;
    };
    let holder = holder_id(doc).and_then(Value::as_str);
    let outcome = match holder {
        None => Outcome::Warn(format!(
            "the presentation names no holder: the proof only shows possession of {vm}"
        )),
        Some(h) if h == controller => Outcome::Pass(format!("{h} (controller of {vm})")),
        Some(h) => Outcome::Fail(format!(
            "holder {h:?} is not the controller {controller:?} of the verification method {vm}"
        )),
    };
    if matches!(outcome, Outcome::Fail(_)) {
        return r.push(HOLDER_CHECK, outcome);
    }
    r.push(HOLDER_CHECK, outcome);
    let outcome = match credential::verify_data_integrity_signature(
        &Value::Object(doc.clone()),
        &config,
        &proof_value,
        &key,
    ) {
        Ok(t) => Outcome::Pass(format!(
            "Ed25519 over SHA-256(proof config) ‖ SHA-256(presentation {})",
            hex::encode(t.document_hash)
        )),
        Err(e) => Outcome::Fail(e.to_string()),
    };
    r.push("signature", outcome)
}

/// Without an expected challenge nothing ties the presentation to this verification: the
/// `proof-challenge` check becomes a warning (replacing the "not checked" skip).
fn replay_warning(config: &Map<String, Value>, r: &mut Report) {
    let detail = match config.get("challenge").and_then(Value::as_str) {
        Some(c) => format!(
            "challenge {c:?} not checked: no challenge expected, so the presentation may be a replay"
        ),
        None => "no challenge, and none expected: the presentation may be a replay".into(),
    };
    r.checks.retain(|c| c.name != PROOF_CHALLENGE_CHECK);
    r.push(PROOF_CHALLENGE_CHECK, Outcome::Warn(detail));
}

/// The controller document of the holder's verification method (`key`), and the method's
/// authorisation for `authentication` (`key-authorized`): the controller's id and the key.
fn holder_key(
    vm: &str,
    resolver: &dyn ResolveDid,
    r: &mut Report,
) -> Option<(String, VerifyingKey)> {
    let did = did_of(vm);
    let cdoc = match resolver.resolve(did) {
        Ok(d) if d.id == did => d,
        Ok(d) => {
            r.push("key",
                Outcome::Fail(format!(
                    "the controller document's id {:?} is not the verification method's DID {did:?}",
                    d.id
                )),
            );
            return None;
        }
        Err(e) => {
            r.push(
                "key",
                Outcome::Fail(format!("no controller document for {vm:?}: {e}")),
            );
            return None;
        }
    };
    let Some(method) = cdoc.verification_method(vm) else {
        r.push(
            "key",
            Outcome::Fail(format!(
                "{vm} is not in its controller document (unknown or revoked key)"
            )),
        );
        return None;
    };
    if method.controller != cdoc.id {
        r.push(
            "key",
            Outcome::Fail(format!(
                "verification method controller {:?} is not the controller document's id {:?}",
                method.controller, cdoc.id
            )),
        );
        return None;
    }
    let key = match method.public_key() {
        Ok(k) => k,
        Err(e) => {
            r.push("key", Outcome::Fail(e.to_string()));
            return None;
        }
    };
    r.push("key", Outcome::Pass(vm.to_string()));
    if !cdoc.is_authentication(vm) {
        r.push(
            "key-authorized",
            Outcome::Fail(
                "key is not listed under its controller's authentication (it may not present)"
                    .into(),
            ),
        );
        return None;
    }
    r.push(
        "key-authorized",
        Outcome::Pass("listed under the controller document's authentication".into()),
    );
    Some((cdoc.id.clone(), key))
}

/// A contained credential, verified as a credential alone.
fn verify_contained(entry: &Entry, resolver: &dyn ResolveDid, options: &VerifyOptions) -> Report {
    match entry {
        Ok(Contained::Embedded(m)) => match serde_json::to_vec(m) {
            Ok(bytes) => verify::verify_resolving(&bytes, resolver, options),
            Err(e) => unreadable(e.to_string()),
        },
        Ok(Contained::Enveloped(jws)) => {
            verify::verify_resolving(jws.as_bytes(), resolver, options)
        }
        Err(why) => unreadable(why.clone()),
    }
}

fn unreadable(why: String) -> Report {
    let mut r = Report::default();
    r.push("format", Outcome::Fail(why));
    r.push("signature", Outcome::Skipped("not a credential".into()));
    r
}

/// Every DID whose controller document verifying the presentation needs, unverified and in
/// order of appearance, without repeats: the holder's (its proof's verification method) and
/// those of each contained credential's proofs (for an enveloped `vc+jwt`, its header's
/// `kid`). For a caller that fetches did:web documents before [`verify_presentation`];
/// unreadable input gives what could be read (possibly nothing).
pub fn presentation_dids(input: &[u8]) -> Vec<String> {
    let mut dids: Vec<String> = Vec::new();
    let Ok(Value::Object(doc)) = serde_json::from_slice::<Value>(input.trim_ascii()) else {
        return dids;
    };
    let mut add = |vm: &str| {
        let did = did_of(vm);
        if did.starts_with("did:") && !dids.iter().any(|d| d == did) {
            dids.push(did.to_string());
        }
    };
    for vm in proof_methods(&doc) {
        add(vm);
    }
    let list: Vec<&Value> = match doc.get("verifiableCredential") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v) => vec![v],
        None => Vec::new(),
    };
    for v in list {
        match entry(v) {
            Ok(Contained::Embedded(m)) => {
                for vm in proof_methods(&m) {
                    add(vm);
                }
            }
            Ok(Contained::Enveloped(jws)) => {
                if let Some(kid) = jws_kid(&jws) {
                    add(&kid);
                }
            }
            Err(_) => {}
        }
    }
    dids
}

/// The `verificationMethod`s of a document's proofs (one object or an array).
fn proof_methods(doc: &Map<String, Value>) -> Vec<&str> {
    let proofs: Vec<&Value> = match doc.get("proof") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(p) => vec![p],
        None => Vec::new(),
    };
    proofs
        .into_iter()
        .filter_map(|p| p.get("verificationMethod").and_then(Value::as_str))
        .collect()
}

/// The `kid` of a compact JWS's header, unverified.
fn jws_kid(jws: &str) -> Option<String> {
    let header = jws.split('.').next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    value.get("kid")?.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn enveloped_ids_are_vc_jwt_data_urls() {
        assert_eq!(enveloped_jws("data:application/vc+jwt,a.b.c"), Ok("a.b.c"));
        assert_eq!(enveloped_jws("DATA:Application/VC+JWT,a.b.c"), Ok("a.b.c"));
        for bad in [
            "https://example.com/a.b.c",
            "data:application/vc-ld+jwt,a.b.c",
            "data:application/vc+jwt;base64,a.b.c",
            "data:application/vc+jwt,a.b",
            "data:application/vc+jwt,a..c",
            "data:application/vc+jwt",
            "dat",
        ] {
            assert!(enveloped_jws(bad).is_err(), "{bad}");
        }
        let v = enveloped_credential("x.y.z");
        assert_eq!(v["id"], "data:application/vc+jwt,x.y.z");
        assert!(matches!(entry(&v), Ok(Contained::Enveloped(j)) if j == "x.y.z"));
    }

    #[test]
    fn the_dids_to_resolve_are_read_without_verifying() {
        use base64::Engine as _;
        let b64 = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let jws = format!(
            "{}.{}.{}",
            b64(br#"{"alg":"EdDSA","kid":"did:web:c.example#k1","typ":"vc+jwt"}"#),
            b64(b"{}"),
            b64(b"sig")
        );
        let vp = serde_json::json!({
            "type": "VerifiablePresentation",
            "proof": {"verificationMethod": "did:key:z6Mkholder#z6Mkholder"},
            "verifiableCredential": [
                {"proof": [
                    {"verificationMethod": "did:web:a.example#k1"},
                    {"verificationMethod": "did:web:b.example#k2"},
                    {"verificationMethod": "https://not-a-did.example/k"}
                ]},
                enveloped_credential(&jws),
                {"proof": {"verificationMethod": "did:web:a.example#k3"}},
                "a string"
            ]
        });
        assert_eq!(
            presentation_dids(&serde_json::to_vec(&vp).unwrap()),
            [
                "did:key:z6Mkholder",
                "did:web:a.example",
                "did:web:b.example",
                "did:web:c.example"
            ]
        );
        assert!(presentation_dids(b"not json").is_empty());
        assert!(presentation_dids(b"[]").is_empty());
    }

    #[test]
    fn a_credential_file_is_embedded_or_enveloped() {
        assert!(matches!(
            Contained::parse(b" {\"proof\":{}} \n"),
            Ok(Contained::Embedded(_))
        ));
        assert!(matches!(
            Contained::parse(b"eyJh.eyJi.c2ln\n"),
            Ok(Contained::Enveloped(j)) if j == "eyJh.eyJi.c2ln"
        ));
        for bad in [
            &b"{}"[..],
            b"{\"a\":1,\"a\":2,\"proof\":{}}",
            b"a.b",
            b"[1]",
        ] {
            assert!(Contained::parse(bad).is_err());
        }
    }
}

//! W3C Verifiable Credentials 2.0, secured two ways with the same Ed25519 key:
//!
//! - **Data Integrity** with the `eddsa-jcs-2022` cryptosuite (W3C *Data Integrity EdDSA
//!   Cryptosuites v1.0* §3.3): the unsecured document and the proof configuration are each
//!   canonicalized with JCS and hashed with SHA-256; the signature is over
//!   `SHA-256(proof config) ‖ SHA-256(document)` and encoded as a base58btc multibase
//!   `proofValue`.
//! - **VC-JOSE** (`vc+jwt`, W3C *Securing VCs using JOSE and COSE*): a compact JWS with
//!   header `{"alg":"EdDSA","kid":<verification method>,"typ":"vc+jwt"}` whose payload is
//!   the JCS bytes of the unsecured credential.
//!
//! Every signing function first holds the unsecured credential to the VC Data Model 2.0
//! rules of [`crate::vc_model`] and refuses one that breaks any
//! ([`CredentialError::DataModel`]): Hallmark never signs an invalid credential.
//!
//! The JWS is assembled here (base64url and a dot are encoding, not cryptography) because
//! signing must go through the [`Signer`] port so that HSM-held keys work; the signature
//! itself always comes from `ed25519-dalek` or the HSM.

use crate::jcs::{self, JcsError};
use crate::keys::{signature_multibase, Signer, SignerError};
use crate::vc_model;
use base64::Engine as _;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// The VC 2.0 base context; always first.
pub use crate::vc_model::VC_V2_CONTEXT;
/// Data Integrity proof type.
pub const PROOF_TYPE: &str = "DataIntegrityProof";
/// The cryptosuite Hallmark signs with.
pub const CRYPTOSUITE: &str = "eddsa-jcs-2022";
/// JOSE media type of a JWT-secured VC.
pub const JWT_TYP: &str = "vc+jwt";
/// The proof purpose of a credential's proof (what Hallmark issues with).
pub const ASSERTION_METHOD: &str = "assertionMethod";
/// The proof purpose of a presentation's proof (the holder authenticating).
pub const AUTHENTICATION: &str = "authentication";

/// Errors issuing credentials.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum CredentialError {
    /// The document to secure is not a JSON object.
    #[error("a credential must be a JSON object")]
    NotAnObject,
    /// The unsecured document already carries a proof.
    #[error(
        "the document already has a proof; add another with add_data_integrity_proof (a proof set or chain)"
    )]
    AlreadySecured,
    /// A `previousProof` names no proof of the document ([`add_data_integrity_proof`]).
    #[error("previousProof {0:?} names no proof of the document")]
    UnknownPreviousProof(String),
    /// The document's `proof` is neither an object nor an array of objects.
    #[error("the document's proof is neither a proof object nor an array of proof objects")]
    MalformedProof,
    /// Canonicalization refused the document.
    #[error(transparent)]
    Jcs(#[from] JcsError),
    /// The signer failed.
    #[error(transparent)]
    Signer(#[from] SignerError),
    /// A timestamp could not be formatted.
    #[error("invalid timestamp")]
    Time,
    /// The secured document has no single proof object.
    #[error("missing or malformed proof")]
    MissingProof,
    /// The proof value does not decode to a signature.
    #[error("proofValue: {0}")]
    ProofValue(#[from] crate::keys::KeyError),
    /// The signature does not verify.
    #[error("signature does not match the document and proof")]
    BadSignature,
    /// The credential breaks a rule of the VC Data Model 2.0 ([`crate::vc_model`]): Hallmark
    /// does not sign it.
    #[error("the credential breaks the VC Data Model 2.0 rule `{rule}`: {detail}")]
    DataModel {
        /// The rule's name ([`vc_model::Rule::name`]), e.g. `credential-status`.
        rule: &'static str,
        /// What is wrong, e.g. `credentialStatus[1] has no type`.
        detail: String,
    },
}

/// Refuses a credential (without its proof) that breaks a rule of the VC Data Model 2.0:
/// every signing function calls it first.
pub fn check_data_model(unsecured: &Map<String, Value>) -> Result<(), CredentialError> {
    match vc_model::violation(unsecured) {
        None => Ok(()),
        Some((rule, detail)) => Err(CredentialError::DataModel {
            rule: rule.name(),
            detail,
        }),
    }
}

/// Format a timestamp as an XML Schema `dateTimeStamp` in UTC with second precision.
pub fn format_datetime(t: OffsetDateTime) -> Result<String, CredentialError> {
    let t = t
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .map_err(|_| CredentialError::Time)?;
    t.format(&time::format_description::well_known::Rfc3339)
        .map_err(|_| CredentialError::Time)
}

/// An unsigned credential, before securing.
#[derive(Debug, Clone, PartialEq)]
pub struct UnsignedCredential {
    /// Credential id (a URL or URN).
    pub id: String,
    /// Extra types after `VerifiableCredential`.
    pub types: Vec<String>,
    /// Issuer DID.
    pub issuer: String,
    /// Start of validity.
    pub valid_from: OffsetDateTime,
    /// The subject (a JSON object).
    pub subject: Value,
    /// Extra contexts after the VC 2.0 context.
    pub extra_contexts: Vec<String>,
}

impl UnsignedCredential {
    /// Render as a VC 2.0 JSON document.
    pub fn to_value(&self) -> Result<Value, CredentialError> {
        let mut ctx = vec![Value::String(VC_V2_CONTEXT.to_string())];
        ctx.extend(self.extra_contexts.iter().cloned().map(Value::String));
        let mut types = vec![Value::String("VerifiableCredential".to_string())];
        types.extend(self.types.iter().cloned().map(Value::String));
        let mut m = Map::new();
        m.insert("@context".into(), Value::Array(ctx));
        m.insert("id".into(), Value::String(self.id.clone()));
        m.insert("type".into(), Value::Array(types));
        m.insert("issuer".into(), Value::String(self.issuer.clone()));
        m.insert(
            "validFrom".into(),
            Value::String(format_datetime(self.valid_from)?),
        );
        m.insert("credentialSubject".into(), self.subject.clone());
        Ok(Value::Object(m))
    }
}

/// Options of a Data Integrity proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofOptions {
    /// DID URL of the verification method (`did:web:…#z6Mk…`).
    pub verification_method: String,
    /// Proof creation time (already formatted, e.g. with [`format_datetime`]).
    pub created: String,
}

/// Optional Data Integrity proof options (Data Integrity 1.0 §2.1), for
/// [`add_data_integrity_proof`]. The node's publish path sets none of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProofExtras {
    /// `id`: a URL naming the proof (e.g. `urn:uuid:…`), what a later `previousProof` refers to.
    pub id: Option<String>,
    /// `expires`: an XML Schema `dateTimeStamp` after which the proof is not to be accepted.
    pub expires: Option<String>,
    /// `domain`: a string or an array of strings (usually for presentations).
    pub domain: Option<Value>,
    /// `challenge`: a string the verifier asked for (usually for presentations).
    pub challenge: Option<String>,
    /// The ids of the proofs of the document this proof chains to (`previousProof`: one id
    /// is written as a string, several as an array).
    pub previous_proof: Vec<String>,
}

/// Every intermediate value of an eddsa-jcs-2022 proof, for tests and audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofTrace {
    /// JCS bytes of the unsecured document.
    pub canonical_document: Vec<u8>,
    /// JCS bytes of the proof configuration.
    pub canonical_proof_config: Vec<u8>,
    /// SHA-256 of the canonical document.
    pub document_hash: [u8; 32],
    /// SHA-256 of the canonical proof configuration.
    pub proof_config_hash: [u8; 32],
}

impl ProofTrace {
    /// The bytes that are signed: proof config hash ‖ document hash.
    pub fn hash_data(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&self.proof_config_hash);
        out[32..].copy_from_slice(&self.document_hash);
        out
    }
}

/// Build the proof configuration object (everything in the proof except `proofValue`).
pub fn proof_config(
    document: &Value,
    options: &ProofOptions,
) -> Result<Map<String, Value>, CredentialError> {
    let doc = document.as_object().ok_or(CredentialError::NotAnObject)?;
    let mut p = Map::new();
    p.insert("type".into(), Value::String(PROOF_TYPE.into()));
    p.insert("cryptosuite".into(), Value::String(CRYPTOSUITE.into()));
    p.insert("created".into(), Value::String(options.created.clone()));
    p.insert(
        "verificationMethod".into(),
        Value::String(options.verification_method.clone()),
    );
    p.insert(
        "proofPurpose".into(),
        Value::String(ASSERTION_METHOD.into()),
    );
    if let Some(ctx) = doc.get("@context") {
        p.insert("@context".into(), ctx.clone());
    }
    Ok(p)
}

/// Transform and hash a document and a proof configuration (eddsa-jcs-2022 §3.3.4–3.3.6).
pub fn trace(
    document: &Value,
    proof_config: &Map<String, Value>,
) -> Result<ProofTrace, CredentialError> {
    jcs::check_ijson(document)?;
    let canonical_document = jcs::canonicalize(document)?;
    let canonical_proof_config = jcs::canonicalize_map(proof_config)?;
    Ok(ProofTrace {
        document_hash: Sha256::digest(&canonical_document).into(),
        proof_config_hash: Sha256::digest(&canonical_proof_config).into(),
        canonical_document,
        canonical_proof_config,
    })
}

/// Create an eddsa-jcs-2022 proof for a document: canonicalize, hash, sign. Returns the
/// proof object (to be added as `proof`) and the intermediate values. This is the whole
/// cryptographic cost of securing; [`sign_data_integrity`] only adds the proof to a copy.
/// A credential that breaks a data-model rule is [`CredentialError::DataModel`].
pub fn prove_data_integrity(
    document: &Value,
    options: &ProofOptions,
    signer: &dyn Signer,
) -> Result<(Map<String, Value>, ProofTrace), CredentialError> {
    let doc = document.as_object().ok_or(CredentialError::NotAnObject)?;
    if doc.contains_key("proof") {
        return Err(CredentialError::AlreadySecured);
    }
    check_data_model(doc)?;
    let mut proof = proof_config(document, options)?;
    let t = trace(document, &proof)?;
    let sig = signer.sign(&t.hash_data())?;
    proof.insert(
        "proofValue".into(),
        Value::String(signature_multibase(&sig)),
    );
    Ok((proof, t))
}

/// Secure a document with an eddsa-jcs-2022 Data Integrity proof (returns a secured copy).
pub fn sign_data_integrity(
    document: &Value,
    options: &ProofOptions,
    signer: &dyn Signer,
) -> Result<Value, CredentialError> {
    let (proof, _) = prove_data_integrity(document, options, signer)?;
    let mut secured = document
        .as_object()
        .ok_or(CredentialError::NotAnObject)?
        .clone();
    secured.insert("proof".into(), Value::Object(proof));
    Ok(Value::Object(secured))
}

/// The proofs a document already carries: none, one object, or an array of objects.
pub fn existing_proofs(document: &Map<String, Value>) -> Result<Vec<Value>, CredentialError> {
    match document.get("proof") {
        None => Ok(Vec::new()),
        Some(p @ Value::Object(_)) => Ok(vec![p.clone()]),
        Some(Value::Array(a)) if a.iter().all(Value::is_object) => Ok(a.clone()),
        Some(_) => Err(CredentialError::MalformedProof),
    }
}

/// The document a chained proof hashes (Data Integrity 1.0, "Add Proof Set/Chain" and
/// "Verify Proof Sets and Chains"): the unsecured document with `proof` set to the array of
/// the proofs whose `id` is in `previous` (in the order of `all_proofs`, each with its
/// `proofValue`); without `previous`, the unsecured document itself.
pub fn chained_input(
    unsecured: &Map<String, Value>,
    all_proofs: &[Value],
    previous: &[String],
) -> Result<Value, CredentialError> {
    let mut input = unsecured.clone();
    input.remove("proof");
    if previous.is_empty() {
        return Ok(Value::Object(input));
    }
    let id_of = |p: &Value| p.get("id").and_then(Value::as_str).map(str::to_string);
    if let Some(missing) = previous
        .iter()
        .find(|want| !all_proofs.iter().any(|p| id_of(p).as_ref() == Some(*want)))
    {
        return Err(CredentialError::UnknownPreviousProof(missing.clone()));
    }
    let matching: Vec<Value> = all_proofs
        .iter()
        .filter(|p| id_of(p).is_some_and(|id| previous.contains(&id)))
        .cloned()
        .collect();
    input.insert("proof".into(), Value::Array(matching));
    Ok(Value::Object(input))
}

/// Add an eddsa-jcs-2022 proof to a document that may already be secured (Data Integrity
/// 1.0, "Add Proof Set/Chain"): without existing proofs the result has one `proof` object
/// (as [`sign_data_integrity`], plus the `extras`); with existing proofs, `proof` becomes
/// the array of all of them followed by the new one — a proof set. With
/// `extras.previous_proof`, the new proof is chained: it signs the unsecured document plus
/// the referenced proofs ([`chained_input`]); an id that names no existing proof is
/// [`CredentialError::UnknownPreviousProof`]. The document without its proofs must hold to the
/// data model ([`CredentialError::DataModel`]).
pub fn add_data_integrity_proof(
    document: &Value,
    options: &ProofOptions,
    extras: &ProofExtras,
    signer: &dyn Signer,
) -> Result<Value, CredentialError> {
    add_proof(ASSERTION_METHOD, true, document, options, extras, signer)
}

/// [`add_data_integrity_proof`] with another `proofPurpose` than [`ASSERTION_METHOD`]: a
/// presentation's proof is for [`AUTHENTICATION`] (what the presentation module's
/// `sign_presentation` passes). It does not check the credential data model: the caller
/// checks its own document's (`sign_presentation` the presentation's rules).
pub fn add_data_integrity_proof_for(
    purpose: &str,
    document: &Value,
    options: &ProofOptions,
    extras: &ProofExtras,
    signer: &dyn Signer,
) -> Result<Value, CredentialError> {
    add_proof(purpose, false, document, options, extras, signer)
}

/// [`add_data_integrity_proof_for`], the credential data model checked on the document
/// without its proofs first when `credential_rules`.
fn add_proof(
    purpose: &str,
    credential_rules: bool,
    document: &Value,
    options: &ProofOptions,
    extras: &ProofExtras,
    signer: &dyn Signer,
) -> Result<Value, CredentialError> {
    let doc = document.as_object().ok_or(CredentialError::NotAnObject)?;
    let mut all_proofs = existing_proofs(doc)?;
    let input = chained_input(doc, &all_proofs, &extras.previous_proof)?;
    let mut unsecured = doc.clone();
    unsecured.remove("proof");
    if credential_rules {
        check_data_model(&unsecured)?;
    }
    let mut config = proof_config(&Value::Object(unsecured.clone()), options)?;
    config.insert("proofPurpose".into(), Value::String(purpose.into()));
    if let Some(id) = &extras.id {
        config.insert("id".into(), Value::String(id.clone()));
    }
    if let Some(expires) = &extras.expires {
        config.insert("expires".into(), Value::String(expires.clone()));
    }
    if let Some(domain) = &extras.domain {
        config.insert("domain".into(), domain.clone());
    }
    if let Some(challenge) = &extras.challenge {
        config.insert("challenge".into(), Value::String(challenge.clone()));
    }
    match extras.previous_proof.as_slice() {
        [] => {}
        [one] => {
            config.insert("previousProof".into(), Value::String(one.clone()));
        }
        many => {
            config.insert(
                "previousProof".into(),
                Value::Array(many.iter().cloned().map(Value::String).collect()),
            );
        }
    }
    let t = trace(&input, &config)?;
    let sig = signer.sign(&t.hash_data())?;
    config.insert(
        "proofValue".into(),
        Value::String(signature_multibase(&sig)),
    );
    let proof = if all_proofs.is_empty() {
        Value::Object(config)
    } else {
        all_proofs.push(Value::Object(config));
        Value::Array(all_proofs)
    };
    unsecured.insert("proof".into(), proof);
    Ok(Value::Object(unsecured))
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Secure a document as a compact `vc+jwt` JWS (refused with [`CredentialError::DataModel`]
/// when it breaks a data-model rule).
pub fn sign_jwt(
    document: &Value,
    kid: &str,
    signer: &dyn Signer,
) -> Result<String, CredentialError> {
    let doc = document.as_object().ok_or(CredentialError::NotAnObject)?;
    if doc.contains_key("proof") {
        return Err(CredentialError::AlreadySecured);
    }
    check_data_model(doc)?;
    jcs::check_ijson(document)?;
    jwt_from_canonical(&jcs::canonicalize(document)?, kid, signer)
}

/// A compact JWS over payload bytes that are already the JCS form of the credential.
fn jwt_from_canonical(
    payload: &[u8],
    kid: &str,
    signer: &dyn Signer,
) -> Result<String, CredentialError> {
    let header = serde_json::json!({"alg": "EdDSA", "kid": kid, "typ": JWT_TYP});
    let header = jcs::canonicalize(&header)?;
    let mut out = format!("{}.{}", b64(&header), b64(payload));
    let sig = signer.sign(out.as_bytes())?;
    out.push('.');
    out.push_str(&b64(&sig.to_bytes()));
    Ok(out)
}

/// Both secured forms of one credential, plus their content hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecuredCredential {
    /// The Data Integrity credential as its JCS bytes: the bytes to store and serve.
    pub data_integrity: Vec<u8>,
    /// The `vc+jwt` compact serialisation.
    pub jwt: String,
    /// SHA-256 of `data_integrity`.
    pub sha256: [u8; 32],
}

/// Secure an unsigned credential both ways with one key.
pub fn secure(
    credential: &UnsignedCredential,
    verification_method: &str,
    created: OffsetDateTime,
    signer: &dyn Signer,
) -> Result<SecuredCredential, CredentialError> {
    secure_document(
        &credential.to_value()?,
        verification_method,
        created,
        signer,
    )
}

/// Secure an unsecured credential document (a JSON object without `proof`) both ways with
/// one key: what [`secure`] does once the credential is JSON, for documents built as JSON
/// (status list credentials, credentials with `credentialStatus`).
pub fn secure_document(
    doc: &Value,
    verification_method: &str,
    created: OffsetDateTime,
    signer: &dyn Signer,
) -> Result<SecuredCredential, CredentialError> {
    let options = ProofOptions {
        verification_method: verification_method.to_string(),
        created: format_datetime(created)?,
    };
    // Canonicalize the document once: the proof hashes it and the JWS carries it.
    let (proof, t) = prove_data_integrity(doc, &options, signer)?;
    let jwt = jwt_from_canonical(&t.canonical_document, verification_method, signer)?;
    let Value::Object(mut secured) = doc.clone() else {
        return Err(CredentialError::NotAnObject);
    };
    secured.insert("proof".into(), Value::Object(proof));
    let data_integrity = jcs::canonicalize(&Value::Object(secured))?;
    Ok(SecuredCredential {
        sha256: Sha256::digest(&data_integrity).into(),
        data_integrity,
        jwt,
    })
}

/// Verify an eddsa-jcs-2022 signature: `proof_value` over the document and proof
/// configuration (the proof without `proofValue`), with `verify_strict`. Policy checks
/// (proof type, purpose, key authorisation) are the caller's; see [`crate::verify`].
pub fn verify_data_integrity_signature(
    unsecured: &Value,
    proof_config: &Map<String, Value>,
    proof_value: &str,
    key: &ed25519_dalek::VerifyingKey,
) -> Result<ProofTrace, CredentialError> {
    let sig = crate::keys::decode_signature_multibase(proof_value)?;
    let t = trace(unsecured, proof_config)?;
    key.verify_strict(&t.hash_data(), &sig)
        .map_err(|_| CredentialError::BadSignature)?;
    Ok(t)
}

/// Verify an eddsa-jcs-2022 signature over a parsed document and proof without copying
/// either: `document` is what the proof signs (the unsecured document, or a chained proof's
/// input), `proof` the proof object, whose configuration is `proof` without its
/// `proofValue` (left out while canonicalizing, not removed from a copy). The same checks
/// in the same order as [`verify_data_integrity_signature`] with an already decoded
/// `signature`: the document's numbers (I-JSON), JCS of the document and of the proof
/// configuration into one reused buffer, two SHA-256, `verify_strict`. Returns
/// SHA-256 of the canonical document.
pub(crate) fn verify_eddsa_jcs_2022(
    document: &Map<String, Value>,
    proof: &Map<String, Value>,
    signature: &ed25519_dalek::Signature,
    key: &ed25519_dalek::VerifyingKey,
) -> Result<[u8; 32], CredentialError> {
    jcs::check_ijson_map(document)?;
    let mut canonical = Vec::with_capacity(8 * 1024);
    jcs::canonicalize_map_into(document, None, &mut canonical)?;
    let document_hash: [u8; 32] = Sha256::digest(&canonical).into();
    canonical.clear();
    jcs::canonicalize_map_into(proof, Some("proofValue"), &mut canonical)?;
    let mut hash_data = [0u8; 64];
    hash_data[..32].copy_from_slice(&Sha256::digest(&canonical));
    hash_data[32..].copy_from_slice(&document_hash);
    key.verify_strict(&hash_data, signature)
        .map_err(|_| CredentialError::BadSignature)?;
    Ok(document_hash)
}

/// Split a secured document into (unsecured document, proof configuration, proofValue) and
/// verify its signature with `key`.
pub fn verify_data_integrity(
    secured: &Value,
    key: &ed25519_dalek::VerifyingKey,
) -> Result<ProofTrace, CredentialError> {
    let mut doc = secured
        .as_object()
        .ok_or(CredentialError::NotAnObject)?
        .clone();
    let Some(Value::Object(mut config)) = doc.remove("proof") else {
        return Err(CredentialError::MissingProof);
    };
    let Some(Value::String(pv)) = config.remove("proofValue") else {
        return Err(CredentialError::MissingProof);
    };
    verify_data_integrity_signature(&Value::Object(doc), &config, &pv, key)
}

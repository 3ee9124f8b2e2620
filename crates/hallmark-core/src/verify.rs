//! Offline verification of a passport credential against its key's controller document.
//!
//! [`verify`] accepts either secured form — a Data Integrity JSON credential
//! (`eddsa-jcs-2022`) or a compact `vc+jwt` — and returns a [`Report`] listing every check
//! with its outcome, so a CLI can print it and a program can act on it. Nothing here
//! touches the network: the controller document of the proof's verification method comes
//! through the [`ResolveDid`] port ([`verify_resolving`]) — a did:key resolved in core when
//! the caller enables it, a did:web from the document the caller resolved or was given; or
//! from that one pinned document alone ([`verify`], [`verify_with`]).
//!
//! Checks, in order (a check whose inputs failed is reported as skipped):
//!
//! | check | what it asserts |
//! |---|---|
//! | `format` | the input is a JSON credential or a compact JWS |
//! | `well-formed` | strict JSON (no duplicate names), valid base64url for JWS |
//! | `credential` | the VC Data Model 2.0 rules of [`vc_model`] (for a `vc+jwt`, over the payload): passes naming none, fails naming the broken ones, each then reported as its own check right after it (below) |
//! | `context` … `related-resource` | only when broken (and `related-resource` whenever related resources are named or supplied): one check per data-model rule, named as [`vc_model::Rule::name`] — `context`, `protected-terms`, `id`, `type`, `issuer-id`, `subject`, `name-description`, `validity-period` (`validFrom` ≤ `validUntil`, no clock), `credential-status`, `credential-schema`, `evidence`, `terms-of-use`, `refresh-service`, `related-resource` (digests compared with [`VerifyOptions::related_resources`], skipped when none was supplied) |
//! | `proof-set` | only for a `proof` array (a proof set): not empty, every entry an object, no two proofs with the same `id` |
//! | `proof-chain` | only when a proof has `previousProof` (a string or an array of strings): every id names another proof of the set, and no proof chains back to itself (no cycle) |
//! | `proof` | `DataIntegrityProof`/`eddsa-jcs-2022` with a `proofValue`, or JOSE `alg=EdDSA`, `typ=vc+jwt`; the proof options' formats: `id` a URL, `created` and `expires` XML Schema `dateTimeStamp`s (RFC 3339 with a time zone), `domain` a string or a non-empty array of strings, `challenge` a string |
//! | `proof-purpose` | the proof is for `assertionMethod` |
//! | `proof-expiry` | only when the proof has `expires`: now < `expires` (skipped without a time) |
//! | `proof-domain` | only when the proof has a `domain` or the caller expects one ([`VerifyOptions::expected_domain`]): the domain is, or includes, the expected one (skipped when none is expected) |
//! | `proof-challenge` | only when the proof has a `challenge` or the caller expects one ([`VerifyOptions::expected_challenge`]): the challenge is the expected one; a proof without one fails (skipped when none is expected) |
//! | `issuer` | the [`IssuerPolicy`]: by default the issuer is the controller of the signing key (the id of its controller document); [`IssuerPolicy::Any`] only warns when it is not |
//! | `key` | the controller document of the verification method's DID was resolved, has that DID as its id, and lists the method with that controller (a revoked key is not listed) |
//! | `key-authorized` | the method is referenced from the controller document's `assertionMethod` (absolute or relative id) |
//! | `signature` | Ed25519 (`verify_strict`) over SHA-256(proof config) ‖ SHA-256(document), or over the JWS signing input |
//! | `validity` | `validFrom` ≤ now < `validUntil` (only when the caller passes a time; skipped otherwise) |
//!
//! A caller adds what it knows: where the DID document came from (`did-document`, a
//! [`Outcome::Warn`] when it was not resolved by the did:web rules), the status a node served
//! beside the bytes when the caller fetched them (`served-status`, [`Report::record_status`]),
//! and the status the credential's signed W3C Bitstring Status Lists give it
//! ([`check_status`]: checks `status-list-signature`, `status-list` and `status`). The [`Verdict`] tells a valid
//! credential of a passport that is not in force (suspended, archived, deactivated, or
//! suspended / revoked in its status lists) from an invalid one.
//!
//! Why the data-model rules are listed only when broken: a valid credential's report stays as
//! short as before (one `credential` line for all fourteen rules), and every broken rule is
//! still named — `FAIL credential-status credentialStatus[1] has no type` — with the
//! `credential` line listing all of them. A broken rule stops the checks after it, as a
//! malformed credential always did (the verdict is invalid). The same rules refuse signing
//! ([`credential::check_data_model`]).
//!
//! A proof set (`proof` is an array, Data Integrity 1.0 "Proof Sets") is verified proof by
//! proof: each proof's checks from `proof` to `signature` are reported in turn, their details
//! prefixed `proof i/n (id):`, and all must pass. A proof without `previousProof` signs the
//! document without any proof; a proof with `previousProof` (a proof chain) signs the
//! document whose `proof` is the array of exactly the proofs it names, in the set's order,
//! with their `proofValue`s ("Verify Proof Sets and Chains"). A credential with a single
//! proof object and none of the optional proof options gets the same report as before.

mod status;

pub use status::{check_status, STATUS_LIST_CHECK, STATUS_LIST_SIGNATURE_CHECK};

use crate::credential::{self, CRYPTOSUITE, JWT_TYP, PROOF_TYPE};
use crate::did::{did_of, DidDocument};
use crate::did_resolver::{ResolveDid, Resolver};
use crate::jcs;
use crate::keys::decode_signature_multibase;
use crate::vc_model::{self, Finding, Rule};
use base64::Engine as _;
use ed25519_dalek::{Signature, VerifyingKey};
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Which secured form was presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Format {
    /// JSON credential with an embedded Data Integrity proof.
    DataIntegrity,
    /// Compact JWS, `typ` = `vc+jwt`.
    Jwt,
}

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", content = "detail", rename_all = "camelCase")]
pub enum Outcome {
    /// The check passed (with a short note).
    Pass(String),
    /// The check failed (with the reason).
    Fail(String),
    /// The check could not run (with the reason).
    Skipped(String),
    /// Nothing failed, but the verifier must know this (e.g. the DID document was not
    /// resolved from the DID's own location); does not make the report invalid.
    Warn(String),
}

impl Outcome {
    /// Put `label` before the detail (a proof set's per-proof checks).
    fn prefix(&mut self, label: &str) {
        match self {
            Outcome::Pass(t) | Outcome::Fail(t) | Outcome::Skipped(t) | Outcome::Warn(t) => {
                t.insert_str(0, label)
            }
        }
    }

    /// The mark printed before a check: `pass`, `FAIL`, `skip`, `WARN`.
    pub fn mark(&self) -> &'static str {
        match self {
            Outcome::Pass(_) => "pass",
            Outcome::Fail(_) => "FAIL",
            Outcome::Skipped(_) => "skip",
            Outcome::Warn(_) => "WARN",
        }
    }

    /// The note, reason or warning.
    pub fn detail(&self) -> &str {
        match self {
            Outcome::Pass(t) | Outcome::Fail(t) | Outcome::Skipped(t) | Outcome::Warn(t) => t,
        }
    }
}

/// One named check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable machine name, e.g. `signature`.
    pub name: &'static str,
    /// What happened.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// The result of verifying one credential.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The form presented, if recognised.
    pub format: Option<Format>,
    /// Every check, in order.
    pub checks: Vec<Check>,
    /// The verification method that signed, if named.
    pub verification_method: Option<String>,
    /// The unsecured credential (for JWS: the payload), once parsed.
    pub credential: Option<Value>,
    /// The passport status the node served with the credential (or instead of it), when
    /// the caller fetched it: see [`Report::record_status`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub served_status: Option<String>,
    /// The status the credential's signed status lists give it when a bit is set
    /// (`suspended` or `revoked`): see [`check_status`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_status: Option<String>,
}

/// Name of the check of the credential's status in its signed status lists
/// ([`check_status`]).
pub const STATUS_CHECK: &str = "status";

/// Name of the check recording the passport status a node served with the credential
/// ([`Report::record_status`]).
pub const SERVED_STATUS_CHECK: &str = "served-status";

/// Width of the check-name column in the text report: the longest name
/// (`status-list-signature`).
pub const NAME_WIDTH: usize = 21;

/// The passport status in which a verified credential counts as in force.
pub const IN_FORCE: &str = "published";

/// What a report amounts to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", content = "status", rename_all = "kebab-case")]
pub enum Verdict {
    /// The credential verified and nothing failed.
    Valid,
    /// No check of the credential failed, but the node serves the passport in another
    /// status than `published` (suspended: the credential itself is withheld), or the
    /// credential's signed status list says `suspended` or `revoked`.
    NotInForce(String),
    /// A check failed, or the signature was never verified.
    Invalid,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Valid => f.write_str("VALID"),
            Verdict::NotInForce(status) => {
                write!(f, "NOT IN FORCE: the passport is {status}")
            }
            Verdict::Invalid => f.write_str("INVALID"),
        }
    }
}

impl Report {
    /// True when no check failed and the signature check passed.
    pub fn is_valid(&self) -> bool {
        !self
            .checks
            .iter()
            .any(|c| matches!(c.outcome, Outcome::Fail(_)))
            && self
                .checks
                .iter()
                .any(|c| c.name == "signature" && matches!(c.outcome, Outcome::Pass(_)))
    }

    /// The verdict: [`Verdict::Invalid`] if any check other than [`STATUS_CHECK`] and
    /// [`SERVED_STATUS_CHECK`] failed; else [`Verdict::NotInForce`] if the served status is
    /// not [`IN_FORCE`]; else
    /// [`Verdict::Invalid`] unless the signature verified; else [`Verdict::NotInForce`] if a
    /// verified status list sets the credential's bit ([`check_status`]); else
    /// [`Verdict::Invalid`] if a [`STATUS_CHECK`] failed without saying why (a malformed
    /// `credentialStatus`); else [`Verdict::Valid`].
    pub fn verdict(&self) -> Verdict {
        let failed = |c: &&Check| matches!(c.outcome, Outcome::Fail(_));
        if self
            .checks
            .iter()
            .filter(failed)
            .any(|c| c.name != STATUS_CHECK && c.name != SERVED_STATUS_CHECK)
        {
            return Verdict::Invalid;
        }
        if let Some(s) = self.served_status.as_ref().filter(|s| *s != IN_FORCE) {
            return Verdict::NotInForce(s.clone());
        }
        let signed = self
            .checks
            .iter()
            .any(|c| c.name == "signature" && matches!(c.outcome, Outcome::Pass(_)));
        if !signed {
            return Verdict::Invalid;
        }
        if let Some(s) = &self.list_status {
            return Verdict::NotInForce(s.clone());
        }
        if self.checks.iter().any(|c| failed(&c)) {
            return Verdict::Invalid;
        }
        Verdict::Valid
    }

    /// Records the status a node served with (or instead of) the credential as the
    /// [`SERVED_STATUS_CHECK`] check: `published` passes; `suspended`, `archived` and
    /// `deactivated` fail (the verdict is then [`Verdict::NotInForce`]); no status at all
    /// is a warning (a node that does not say). `detail` says what the node answered.
    pub fn record_status(&mut self, status: Option<&str>, detail: &str) {
        let outcome = match status {
            Some(IN_FORCE) => Outcome::Pass(format!("{IN_FORCE} ({detail})")),
            Some(s) => Outcome::Fail(format!("{s} ({detail})")),
            None => Outcome::Warn(format!("the node did not say ({detail})")),
        };
        self.served_status = status.map(str::to_string);
        self.checks.push(Check {
            name: SERVED_STATUS_CHECK,
            outcome,
        });
    }

    /// The outcome of a named check.
    pub fn check(&self, name: &str) -> Option<&Outcome> {
        self.checks
            .iter()
            .find(|c| c.name == name)
            .map(|c| &c.outcome)
    }

    /// Every outcome of a named check, in order (a proof set reports its per-proof checks
    /// once per proof).
    pub fn checks_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Outcome> + 'a {
        self.checks
            .iter()
            .filter(move |c| c.name == name)
            .map(|c| &c.outcome)
    }

    /// Adds a check; true when it passed.
    pub(crate) fn push(&mut self, name: &'static str, outcome: Outcome) -> bool {
        let ok = matches!(outcome, Outcome::Pass(_));
        self.checks.push(Check { name, outcome });
        ok
    }

    /// Reports each of `names` not reported yet as skipped (an earlier check failed).
    pub(crate) fn skip_rest(&mut self, names: &[&'static str]) {
        for n in names {
            if !self.checks.iter().any(|c| c.name == *n) {
                self.checks.push(Check {
                    name: n,
                    outcome: Outcome::Skipped("an earlier check failed".into()),
                });
            }
        }
    }
}

impl Report {
    /// One line per check (`<mark>  <name padded> <detail>`), each after `indent`.
    pub(crate) fn write_checks(&self, f: &mut fmt::Formatter<'_>, indent: &str) -> fmt::Result {
        for c in &self.checks {
            writeln!(
                f,
                "{indent}{}  {:<width$} {}",
                c.outcome.mark(),
                c.name,
                c.outcome.detail(),
                width = NAME_WIDTH
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_checks(f, "")?;
        write!(f, "{}", self.verdict())
    }
}

/// Whether the credential's issuer must be the controller of the key that signed it (the
/// `issuer` check).
///
/// Data Integrity only requires the verification method to be authorised for
/// `assertionMethod` by its controller document; who the issuer may be is the verifier's
/// policy. A passport's issuer signs with its own keys, so the default is strict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IssuerPolicy {
    /// The issuer must be the id of the key's controller document (a passport: the
    /// operator's did:web signs with its own keys). The default.
    #[default]
    MustBeController,
    /// Any issuer: a key controlled by another DID is accepted, and the `issuer` check
    /// warns that the issuer is not its controller (e.g. the W3C test vectors: an https
    /// issuer whose key is a did:key).
    Any,
}

impl IssuerPolicy {
    /// The policy's name in reports: `must-be-controller` or `any`.
    pub fn name(self) -> &'static str {
        match self {
            IssuerPolicy::MustBeController => "must-be-controller",
            IssuerPolicy::Any => "any",
        }
    }
}

/// Options for [`verify_with`].
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// Check the validity period against this time; skipped when `None` (the `hallmark
    /// verify` command passes the current time unless told to skip the dates).
    pub now: Option<OffsetDateTime>,
    /// Who may issue with a key: the `issuer` check. Strict by default.
    pub issuer_policy: IssuerPolicy,
    /// The domain the proof must be bound to (`proof-domain`): the proof's `domain` is it,
    /// or an array that includes it. `None`: a proof's domain is reported, not checked.
    pub expected_domain: Option<String>,
    /// The challenge the proof must carry (`proof-challenge`); a proof without one fails.
    /// `None`: a proof's challenge is reported, not checked.
    pub expected_challenge: Option<String>,
    /// The bytes of related resources the caller has, by URL (a `relatedResource` entry's
    /// `id`): their digests are computed and compared (`related-resource`); the digests of
    /// a resource not given are checked as written only.
    pub related_resources: vc_model::Resources,
}

/// Name of the check of a proof set's shape ([`verify_resolving`]).
pub const PROOF_SET_CHECK: &str = "proof-set";
/// Name of the check of the `previousProof` references of a proof chain.
pub const PROOF_CHAIN_CHECK: &str = "proof-chain";
/// Name of the check of a proof's `expires` against the current time.
pub const PROOF_EXPIRY_CHECK: &str = "proof-expiry";
/// Name of the check of a proof's `domain` against the expected one.
pub const PROOF_DOMAIN_CHECK: &str = "proof-domain";
/// Name of the check of a proof's `challenge` against the expected one.
pub const PROOF_CHALLENGE_CHECK: &str = "proof-challenge";

const ALL_CHECKS: [&str; 10] = [
    "format",
    "well-formed",
    "credential",
    "proof",
    "proof-purpose",
    "issuer",
    "key",
    "key-authorized",
    "signature",
    "validity",
];

/// Verify a credential (either form) against a DID document, without checking time.
pub fn verify(input: &[u8], did_document: &DidDocument) -> Report {
    verify_with(input, did_document, &VerifyOptions::default())
}

/// Verify a credential (either form) against a DID document, the only trust root (no
/// did:key): [`verify_resolving`] with [`Resolver::with_document`].
pub fn verify_with(input: &[u8], did_document: &DidDocument, options: &VerifyOptions) -> Report {
    verify_resolving(input, &Resolver::with_document(did_document), options)
}

/// Verify a credential (either form), obtaining the controller document of its
/// verification method from `resolver`.
pub fn verify_resolving(
    input: &[u8],
    resolver: &dyn ResolveDid,
    options: &VerifyOptions,
) -> Report {
    let mut r = Report {
        format: None,
        checks: Vec::new(),
        verification_method: None,
        credential: None,
        served_status: None,
        list_status: None,
    };
    let trimmed = input.trim_ascii();
    let format = if matches!(trimmed.first(), Some(b'{' | b'[')) {
        Format::DataIntegrity
    } else if trimmed.iter().filter(|b| **b == b'.').count() == 2 {
        Format::Jwt
    } else {
        r.push(
            "format",
            Outcome::Fail("neither a JSON credential nor a compact JWS".into()),
        );
        r.skip_rest(&ALL_CHECKS);
        return r;
    };
    r.format = Some(format);
    r.push(
        "format",
        Outcome::Pass(match format {
            Format::DataIntegrity => "JSON credential with Data Integrity proof".into(),
            Format::Jwt => "compact JWS (vc+jwt)".into(),
        }),
    );
    let ok = match format {
        Format::DataIntegrity => verify_di(trimmed, resolver, options, &mut r),
        Format::Jwt => verify_jwt(trimmed, resolver, options, &mut r),
    };
    if ok {
        if let Some(cred) = &r.credential {
            let outcome = validity(cred, options.now);
            r.push("validity", outcome);
        }
    }
    r.skip_rest(&ALL_CHECKS);
    r
}

fn verify_di(input: &[u8], did: &dyn ResolveDid, options: &VerifyOptions, r: &mut Report) -> bool {
    let value = match jcs::parse_strict(input) {
        Ok(v) => v,
        Err(e) => return r.push("well-formed", Outcome::Fail(e.to_string())),
    };
    let Value::Object(mut doc) = value else {
        return r.push("well-formed", Outcome::Fail("not a JSON object".into()));
    };
    r.push("well-formed", Outcome::Pass("strict JSON".into()));
    let proofs = match doc.remove("proof") {
        Some(Value::Object(p)) => Err(p),
        Some(Value::Array(a)) => Ok(a),
        _ => {
            credential_shape(&doc, &options.related_resources, r);
            return r.push("proof", Outcome::Fail("no proof object".into()));
        }
    };
    let ok = verify_di_proofs(&doc, proofs, did, options, r);
    // The parsed document itself (moved, not copied) becomes the report's credential.
    r.credential = Some(Value::Object(doc));
    ok
}

/// The credential's shape, then its single proof or its proof set.
fn verify_di_proofs(
    doc: &Map<String, Value>,
    proofs: Result<Vec<Value>, Map<String, Value>>,
    did: &dyn ResolveDid,
    options: &VerifyOptions,
    r: &mut Report,
) -> bool {
    if !credential_shape(doc, &options.related_resources, r) {
        return false;
    }
    match proofs {
        Err(single) => {
            if let Some(prev) = single.get("previousProof") {
                return r.push(
                    PROOF_CHAIN_CHECK,
                    Outcome::Fail(format!(
                        "previousProof {prev} names no proof: the document has a single proof (dangling)"
                    )),
                );
            }
            verify_one(doc, &single, did, options, r)
        }
        Ok(set) => verify_set(doc, &set, did, options, r),
    }
}

/// A proof set: its shape (`proof-set`), its chain (`proof-chain`), then every proof.
fn verify_set(
    doc: &Map<String, Value>,
    set: &[Value],
    did: &dyn ResolveDid,
    options: &VerifyOptions,
    r: &mut Report,
) -> bool {
    let n = set.len();
    let mut proofs = Vec::with_capacity(n);
    for (i, p) in set.iter().enumerate() {
        match p {
            Value::Object(m) => proofs.push(m),
            _ => {
                return r.push(
                    PROOF_SET_CHECK,
                    Outcome::Fail(format!("proof {}/{n} is not an object", i + 1)),
                )
            }
        }
    }
    if n == 0 {
        return r.push(
            PROOF_SET_CHECK,
            Outcome::Fail("an empty proof array".into()),
        );
    }
    let ids: Vec<Option<&str>> = proofs
        .iter()
        .map(|p| p.get("id").and_then(Value::as_str))
        .collect();
    for (i, id) in ids.iter().enumerate() {
        if let Some(id) = id {
            if ids[..i].contains(&Some(*id)) {
                return r.push(
                    PROOF_SET_CHECK,
                    Outcome::Fail(format!("two proofs have the id {id:?}")),
                );
            }
        }
    }
    r.push(PROOF_SET_CHECK, Outcome::Pass(format!("{n} proofs")));
    let previous = match chain_of(&proofs, &ids) {
        Ok(None) => vec![Vec::new(); n],
        Ok(Some((previous, note))) => {
            r.push(PROOF_CHAIN_CHECK, Outcome::Pass(note));
            previous
        }
        Err(problem) => return r.push(PROOF_CHAIN_CHECK, Outcome::Fail(problem)),
    };
    let mut all = true;
    for (i, proof) in proofs.iter().enumerate() {
        let start = r.checks.len();
        let ok = match credential::chained_input(doc, set, &previous[i]) {
            Ok(Value::Object(input)) => verify_one(&input, proof, did, options, r),
            Ok(_) | Err(_) => r.push(
                PROOF_CHAIN_CHECK,
                Outcome::Fail("the proofs a previousProof names could not be gathered".into()),
            ),
        };
        let label = match ids[i] {
            Some(id) => format!("proof {}/{n} ({id}): ", i + 1),
            None => format!("proof {}/{n}: ", i + 1),
        };
        for c in &mut r.checks[start..] {
            c.outcome.prefix(&label);
        }
        all &= ok;
    }
    all
}

/// What [`chain_of`] finds: the `previousProof` ids of each proof and a note for the report.
type Chain = (Vec<Vec<String>>, String);

/// The `previousProof` ids of each proof (`None` when no proof has one), after checking
/// that every id names a proof of the set and that no proof chains back to itself.
fn chain_of(proofs: &[&Map<String, Value>], ids: &[Option<&str>]) -> Result<Option<Chain>, String> {
    let n = proofs.len();
    if !proofs.iter().any(|p| p.contains_key("previousProof")) {
        return Ok(None);
    }
    let mut previous = Vec::with_capacity(n);
    let mut edges: Vec<Vec<usize>> = Vec::with_capacity(n);
    for (i, p) in proofs.iter().enumerate() {
        let named: Vec<String> = match p.get("previousProof") {
            None => Vec::new(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) if !a.is_empty() && a.iter().all(Value::is_string) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            Some(_) => {
                return Err(format!(
                    "previousProof of proof {}/{n} is neither a string nor a non-empty array of strings",
                    i + 1
                ))
            }
        };
        let mut to = Vec::with_capacity(named.len());
        for id in &named {
            match ids.iter().position(|x| *x == Some(id.as_str())) {
                Some(j) => to.push(j),
                None => {
                    return Err(format!(
                        "previousProof {id:?} of proof {}/{n} names no proof of the set (dangling)",
                        i + 1
                    ))
                }
            }
        }
        edges.push(to);
        previous.push(named);
    }
    if let Some(i) = cycle_at(&edges) {
        return Err(format!(
            "previousProof references form a cycle through proof {}/{n} ({})",
            i + 1,
            ids[i].unwrap_or("(no id)")
        ));
    }
    let links: Vec<String> = previous
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.is_empty())
        .map(|(i, p)| format!("proof {}/{n} chains to {}", i + 1, p.join(", ")))
        .collect();
    Ok(Some((previous, links.join("; "))))
}

/// A proof on a cycle of `previousProof` edges, if any (depth-first search: 0 unvisited,
/// 1 on the current path, 2 done).
fn cycle_at(edges: &[Vec<usize>]) -> Option<usize> {
    fn visit(i: usize, edges: &[Vec<usize>], state: &mut [u8]) -> Option<usize> {
        state[i] = 1;
        for &j in edges.get(i).map(Vec::as_slice).unwrap_or_default() {
            match state.get(j).copied() {
                Some(1) => return Some(j),
                Some(0) => {
                    if let Some(c) = visit(j, edges, state) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        state[i] = 2;
        None
    }
    let mut state = vec![0u8; edges.len()];
    for i in 0..edges.len() {
        if state[i] == 0 {
            if let Some(c) = visit(i, edges, &mut state) {
                return Some(c);
            }
        }
    }
    None
}

/// One eddsa-jcs-2022 proof over `doc` (the unsecured document, or for a chained proof the
/// document whose `proof` is the proofs it names): checks `proof` to `signature`.
fn verify_one(
    doc: &Map<String, Value>,
    proof: &Map<String, Value>,
    did: &dyn ResolveDid,
    options: &VerifyOptions,
    r: &mut Report,
) -> bool {
    let policy = options.issuer_policy;
    // The proof configuration is the proof without `proofValue`: no copy is made, the
    // signature check leaves `proofValue` out when canonicalizing, and no check below
    // reads it.
    let config = proof;
    let proof_value = config.get("proofValue");
    let s = |m: &Map<String, Value>, k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
    let vm = s(config, "verificationMethod");
    if r.verification_method.is_none() {
        r.verification_method = vm.clone();
    }
    let signature = match (
        s(config, "type").as_deref(),
        s(config, "cryptosuite").as_deref(),
        proof_value.and_then(Value::as_str),
    ) {
        (Some(PROOF_TYPE), Some(CRYPTOSUITE), Some(pv)) => match decode_signature_multibase(pv) {
            Ok(signature) => signature,
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
    if let Some(problem) = option_formats(config) {
        return r.push("proof", Outcome::Fail(problem));
    }
    // The proof's @context, when present, must be a prefix of the document's (§3.3.2).
    if let Some(pctx) = config.get("@context") {
        let dctx = doc.get("@context");
        let prefix_ok = match (pctx, dctx) {
            (Value::Array(p), Some(Value::Array(d))) => d.starts_with(p),
            (p, Some(d)) => p == d,
            _ => false,
        };
        if !prefix_ok {
            return r.push(
                "proof",
                Outcome::Fail("proof @context does not match the document's @context".into()),
            );
        }
    }
    r.push(
        "proof",
        Outcome::Pass(format!("{PROOF_TYPE} / {CRYPTOSUITE}")),
    );
    match s(config, "proofPurpose").as_deref() {
        Some("assertionMethod") => r.push("proof-purpose", Outcome::Pass("assertionMethod".into())),
        other => {
            return r.push(
                "proof-purpose",
                Outcome::Fail(format!(
                    "expected assertionMethod, found {:?}",
                    other.unwrap_or("(none)")
                )),
            )
        }
    };
    if !proof_options(config, options, r) {
        return false;
    }
    let Some(key) = resolve_key(doc, vm.as_deref(), did, policy, r) else {
        return false;
    };
    let outcome = match credential::verify_eddsa_jcs_2022(doc, config, &signature, &key) {
        Ok(document_hash) => Outcome::Pass(format!(
            "Ed25519 over SHA-256(proof config) ‖ SHA-256(document {})",
            hex::encode(document_hash)
        )),
        Err(e) => Outcome::Fail(e.to_string()),
    };
    r.push("signature", outcome)
}

/// The formats of a proof's options (part of the `proof` check): `created` and `expires`
/// XML Schema `dateTimeStamp`s, `id` a URL, `domain` a string or a non-empty array of
/// strings, `challenge` a string.
pub(crate) fn option_formats(config: &Map<String, Value>) -> Option<String> {
    if let Some(created) = config.get("created") {
        if !is_datetime_stamp(created) {
            return Some(
                "proof created is not an RFC 3339 date-time (an XML Schema dateTimeStamp, with a time zone)"
                    .into(),
            );
        }
    }
    if let Some(expires) = config.get("expires") {
        if !is_datetime_stamp(expires) {
            return Some(format!(
                "proof expires {expires} is not an RFC 3339 date-time (an XML Schema dateTimeStamp, with a time zone)"
            ));
        }
    }
    if let Some(id) = config.get("id") {
        if !id.as_str().is_some_and(vc_model::is_url) {
            return Some(format!("proof id {id} is not a URL"));
        }
    }
    if let Some(domain) = config.get("domain") {
        let ok = match domain {
            Value::String(_) => true,
            Value::Array(a) => !a.is_empty() && a.iter().all(Value::is_string),
            _ => false,
        };
        if !ok {
            return Some(format!(
                "proof domain {domain} is neither a string nor a non-empty array of strings"
            ));
        }
    }
    if let Some(challenge) = config.get("challenge") {
        if !challenge.is_string() {
            return Some(format!("proof challenge {challenge} is not a string"));
        }
    }
    None
}

/// The checks of a proof's options against the caller's: `proof-expiry` (when the proof
/// has `expires`), `proof-domain` and `proof-challenge` (when the proof has one or the
/// caller expects one). Their formats were checked by [`option_formats`]. False when one
/// failed.
pub(crate) fn proof_options(
    config: &Map<String, Value>,
    options: &VerifyOptions,
    r: &mut Report,
) -> bool {
    if let Some(expires) = config.get("expires").and_then(Value::as_str) {
        let outcome = match (options.now, OffsetDateTime::parse(expires, &Rfc3339)) {
            (None, _) => Outcome::Skipped(format!(
                "the proof expires {expires}; no current time given, not checked"
            )),
            (Some(_), Err(e)) => Outcome::Fail(format!("expires {expires}: {e}")),
            (Some(now), Ok(at)) if now >= at => {
                Outcome::Fail(format!("the proof expired at {expires}"))
            }
            (Some(_), Ok(_)) => Outcome::Pass(format!("the proof expires {expires}")),
        };
        if matches!(outcome, Outcome::Fail(_)) {
            return r.push(PROOF_EXPIRY_CHECK, outcome);
        }
        r.push(PROOF_EXPIRY_CHECK, outcome);
    }
    let domain = config.get("domain");
    if domain.is_some() || options.expected_domain.is_some() {
        let shown = domain.map(Value::to_string);
        let outcome = match (&options.expected_domain, domain) {
            (None, Some(d)) => {
                Outcome::Skipped(format!("domain {d}; no domain expected, not checked"))
            }
            (None, None) => Outcome::Skipped("no domain".into()),
            (Some(want), None) => {
                Outcome::Fail(format!("the proof has no domain; expected {want:?}"))
            }
            (Some(want), Some(d)) => {
                let bound = match d {
                    Value::String(s) => s == want,
                    Value::Array(a) => a.iter().any(|v| v.as_str() == Some(want.as_str())),
                    _ => false,
                };
                if bound {
                    Outcome::Pass(format!("domain {}", shown.unwrap_or_default()))
                } else {
                    Outcome::Fail(format!(
                        "domain {} is not the expected {want:?}",
                        shown.unwrap_or_default()
                    ))
                }
            }
        };
        if matches!(outcome, Outcome::Fail(_)) {
            return r.push(PROOF_DOMAIN_CHECK, outcome);
        }
        r.push(PROOF_DOMAIN_CHECK, outcome);
    }
    let challenge = config.get("challenge").and_then(Value::as_str);
    if challenge.is_some() || options.expected_challenge.is_some() {
        let outcome = match (&options.expected_challenge, challenge) {
            (None, Some(c)) => Outcome::Skipped(format!(
                "challenge {c:?}; no challenge expected, not checked"
            )),
            (None, None) => Outcome::Skipped("no challenge".into()),
            (Some(want), None) => {
                Outcome::Fail(format!("the proof has no challenge; expected {want:?}"))
            }
            (Some(want), Some(c)) if c == want => Outcome::Pass(format!("challenge {c:?}")),
            (Some(want), Some(c)) => {
                Outcome::Fail(format!("challenge {c:?} is not the expected {want:?}"))
            }
        };
        if matches!(outcome, Outcome::Fail(_)) {
            return r.push(PROOF_CHALLENGE_CHECK, outcome);
        }
        r.push(PROOF_CHALLENGE_CHECK, outcome);
    }
    true
}

/// A vc+jwt has no domain or challenge: when the caller expects one, it fails.
fn jwt_options(options: &VerifyOptions, r: &mut Report) -> bool {
    let mut ok = true;
    if let Some(want) = &options.expected_domain {
        ok &= r.push(
            PROOF_DOMAIN_CHECK,
            Outcome::Fail(format!("a vc+jwt carries no domain; expected {want:?}")),
        );
    }
    if let Some(want) = &options.expected_challenge {
        ok &= r.push(
            PROOF_CHALLENGE_CHECK,
            Outcome::Fail(format!("a vc+jwt carries no challenge; expected {want:?}")),
        );
    }
    ok
}

fn verify_jwt(input: &[u8], did: &dyn ResolveDid, options: &VerifyOptions, r: &mut Report) -> bool {
    let text = String::from_utf8_lossy(input);
    let mut parts = text.split('.');
    let (Some(h), Some(p), Some(sg)) = (parts.next(), parts.next(), parts.next()) else {
        return r.push(
            "well-formed",
            Outcome::Fail("expected three JWS parts".into()),
        );
    };
    let dec = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s);
    let (header, payload, sig) = match (dec(h), dec(p), dec(sg)) {
        (Ok(h), Ok(p), Ok(s)) => (h, p, s),
        _ => return r.push("well-formed", Outcome::Fail("invalid base64url".into())),
    };
    let header = match jcs::parse_strict(&header) {
        Ok(Value::Object(m)) => m,
        Ok(_) => {
            return r.push(
                "well-formed",
                Outcome::Fail("JWS header is not an object".into()),
            )
        }
        Err(e) => return r.push("well-formed", Outcome::Fail(format!("JWS header: {e}"))),
    };
    let doc = match jcs::parse_strict(&payload) {
        Ok(Value::Object(m)) => m,
        Ok(_) => {
            return r.push(
                "well-formed",
                Outcome::Fail("JWS payload is not an object".into()),
            )
        }
        Err(e) => return r.push("well-formed", Outcome::Fail(format!("JWS payload: {e}"))),
    };
    r.push(
        "well-formed",
        Outcome::Pass("compact JWS with JSON header and payload".into()),
    );
    // The JWS signing input is the text before the second dot (`text` is `input` itself:
    // a part that is not base64url was refused above).
    let signing_input = text.get(..h.len() + 1 + p.len()).unwrap_or_default();
    let ok = verify_jwt_claims(&doc, &header, signing_input, &sig, did, options, r);
    // The parsed payload itself (moved, not copied) becomes the report's credential.
    r.credential = Some(Value::Object(doc));
    ok
}

/// A parsed `vc+jwt`: the credential's shape, the header, the key, the signature over
/// `signing_input`.
fn verify_jwt_claims(
    doc: &Map<String, Value>,
    header: &Map<String, Value>,
    signing_input: &str,
    sig: &[u8],
    did: &dyn ResolveDid,
    options: &VerifyOptions,
    r: &mut Report,
) -> bool {
    let policy = options.issuer_policy;
    if !credential_shape(doc, &options.related_resources, r) {
        return false;
    }
    if doc.contains_key("proof") {
        return r.push(
            "proof",
            Outcome::Fail("a vc+jwt payload must not embed a proof".into()),
        );
    }
    let hs = |k: &str| header.get(k).and_then(Value::as_str);
    if hs("alg") != Some("EdDSA") {
        return r.push(
            "proof",
            Outcome::Fail(format!(
                "unsupported alg {:?}; only EdDSA is accepted",
                hs("alg").unwrap_or("(none)")
            )),
        );
    }
    if hs("typ") != Some(JWT_TYP) {
        return r.push("proof", Outcome::Fail(format!("typ must be {JWT_TYP}")));
    }
    if header.contains_key("crit") {
        return r.push(
            "proof",
            Outcome::Fail("unsupported critical header parameters".into()),
        );
    }
    let Ok(sig) = Signature::from_slice(sig) else {
        return r.push("proof", Outcome::Fail("signature is not 64 bytes".into()));
    };
    r.push("proof", Outcome::Pass("JWS alg=EdDSA typ=vc+jwt".into()));
    r.push(
        "proof-purpose",
        Outcome::Pass("assertionMethod (implied by vc+jwt)".into()),
    );
    if !jwt_options(options, r) {
        return false;
    }
    let kid = hs("kid").map(str::to_string);
    r.verification_method = kid.clone();
    let Some(key) = resolve_key(doc, kid.as_deref(), did, policy, r) else {
        return false;
    };
    let outcome = match key.verify_strict(signing_input.as_bytes(), &sig) {
        Ok(()) => Outcome::Pass("Ed25519 over the JWS signing input".into()),
        Err(_) => Outcome::Fail("signature does not match header and payload".into()),
    };
    r.push("signature", outcome)
}

/// The controller document of the verification method, the issuer policy, the key and
/// its authorisation for `assertionMethod`. Returns the key when all pass.
fn resolve_key(
    doc: &Map<String, Value>,
    vm: Option<&str>,
    resolver: &dyn ResolveDid,
    policy: IssuerPolicy,
    r: &mut Report,
) -> Option<VerifyingKey> {
    let issuer = issuer_id(doc).unwrap_or_default();
    let Some(vm) = vm else {
        r.push(
            "issuer",
            Outcome::Fail("the proof names no verification method".into()),
        );
        return None;
    };
    let controller = did_of(vm);
    let resolved = match resolver.resolve(controller) {
        Ok(d) if d.id == controller => Ok(d),
        Ok(d) => Err(format!(
            "the controller document's id {:?} is not the verification method's DID {controller:?}",
            d.id
        )),
        Err(e) => Err(format!("no controller document for {vm:?}: {e}")),
    };
    let cdoc = match resolved {
        Ok(d) => d,
        Err(problem) => {
            match policy {
                IssuerPolicy::MustBeController => r.push(
                    "issuer",
                    Outcome::Fail(format!(
                        "issuer {issuer:?} is not shown to control the key ({}): {problem}",
                        policy.name()
                    )),
                ),
                IssuerPolicy::Any => r.push(
                    "issuer",
                    Outcome::Skipped("the key's controller document was not resolved".into()),
                ),
            };
            r.push("key", Outcome::Fail(problem));
            return None;
        }
    };
    let is_controller = issuer == cdoc.id;
    let outcome = match (policy, is_controller) {
        (_, true) => Outcome::Pass(format!("{issuer} (controller of the key)")),
        (IssuerPolicy::MustBeController, false) => Outcome::Fail(format!(
            "issuer {issuer:?} is not the controller {:?} of the verification method (issuer policy {})",
            cdoc.id,
            policy.name()
        )),
        (IssuerPolicy::Any, false) => Outcome::Warn(format!(
            "issuer {issuer:?} is not the controller {:?} of the verification method; accepted by issuer policy {}",
            cdoc.id,
            policy.name()
        )),
    };
    if matches!(outcome, Outcome::Fail(_)) {
        r.push("issuer", outcome);
        return None;
    }
    r.push("issuer", outcome);
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
    if !cdoc.is_assertion_method(vm) {
        r.push(
            "key-authorized",
            Outcome::Fail("key is not listed under its controller's assertionMethod".into()),
        );
        return None;
    }
    r.push(
        "key-authorized",
        Outcome::Pass("listed under the controller document's assertionMethod".into()),
    );
    Some(key)
}

/// An XML Schema `dateTimeStamp` as RFC 3339 writes it: `T` and `Z` upper-case, a time
/// zone required.
fn is_datetime_stamp(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.as_bytes().get(10) == Some(&b'T')
            && !s.ends_with('z')
            && OffsetDateTime::parse(s, &Rfc3339).is_ok()
    })
}

fn issuer_id(doc: &Map<String, Value>) -> Option<&str> {
    match doc.get("issuer")? {
        Value::String(s) => Some(s),
        Value::Object(o) => o.get("id").and_then(Value::as_str),
        _ => None,
    }
}

/// The `credential` check: the VC Data Model 2.0 rules of [`vc_model`]. It passes when every
/// rule holds; each broken rule is then reported under its own name (`context`, `subject`,
/// `credential-status`, …), and `related-resource` whenever the credential names related
/// resources or the caller supplied some (passed, or skipped when no digest could be
/// compared). False when a rule is broken.
fn credential_shape(
    doc: &Map<String, Value>,
    resources: &vc_model::Resources,
    r: &mut Report,
) -> bool {
    let findings = vc_model::check(doc, resources);
    let broken: Vec<&str> = findings
        .iter()
        .filter(|(_, f)| f.is_fail())
        .map(|(rule, _)| rule.name())
        .collect();
    let all = vc_model::Rule::ALL.len();
    let ok = r.push(
        "credential",
        if broken.is_empty() {
            Outcome::Pass(format!("VC Data Model 2.0: the {all} rules hold"))
        } else {
            Outcome::Fail(format!(
                "VC Data Model 2.0: {} of {all} rules broken: {}",
                broken.len(),
                broken.join(", ")
            ))
        },
    );
    let related = doc.contains_key("relatedResource") || !resources.is_empty();
    for (rule, finding) in findings {
        let outcome = match finding {
            Finding::Fail(why) => Outcome::Fail(why),
            Finding::NotCompared(note) => Outcome::Skipped(note),
            Finding::Pass(note) if rule == Rule::RelatedResource && related => Outcome::Pass(note),
            Finding::Pass(_) => continue,
        };
        r.push(rule.name(), outcome);
    }
    ok
}

fn validity(doc: &Value, now: Option<OffsetDateTime>) -> Outcome {
    let Some(now) = now else {
        return Outcome::Skipped("no current time given".into());
    };
    let at = |k: &str| {
        doc.get(k)
            .and_then(Value::as_str)
            .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
    };
    if let Some(from) = at("validFrom") {
        if now < from {
            return Outcome::Fail(format!("not valid before {from}"));
        }
    }
    if let Some(until) = at("validUntil") {
        if now >= until {
            return Outcome::Fail(format!("expired at {until}"));
        }
    }
    Outcome::Pass("within validity period".into())
}

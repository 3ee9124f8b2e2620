//! The W3C VC API's bodies (docs/verify.md, "Verification service"; the VC API / VCALM
//! `verifyCredential`, `verifyPresentation` and `issueCredential` operations): requests as
//! they are read — strictly, unknown members and options refused — and the verification
//! result built from core's [`Report`].
//!
//! A verification result follows the VC API: `verified` (true exactly when no error was
//! found), `errors` and `warnings` as problem details (`type`, `title`, `detail`, and the
//! Hallmark check's name as `check`), `problemDetails` (the errors, then the warnings),
//! `checks` (the names of the checks that passed), `credential` when asked for
//! (`returnCredential`), and `hallmark`: the full report — every check with its outcome
//! and the verdict.

use crate::problem::ApiError;
use crate::service::verification::CredentialInput;
use hallmark_core::presentation::PresentationReport;
use hallmark_core::verify::{IssuerPolicy, Outcome, Report, Verdict, VerifyOptions};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The VC Data Model's problem types (VCDM 2.0 §7.2).
const VCDM: &str = "https://www.w3.org/TR/vc-data-model#";
/// Data Integrity's problem types (VC Data Integrity 1.0, "Processing Errors").
const SECURITY: &str = "https://w3id.org/security#";
/// Bitstring Status List's problem types.
const STATUS_LIST: &str = "https://www.w3.org/ns/credentials/status-list#";
/// Media type prefix of an enveloped `vc+jwt` (`EnvelopedVerifiableCredential`).
const ENVELOPED_JWT: &str = "data:application/vc+jwt,";

/// The issuer policy a client may ask for (a Hallmark option of `verifyCredential`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IssuerPolicyOption {
    /// The issuer must control the key (the default).
    #[default]
    MustBeController,
    /// Any issuer; a key controlled by someone else is a warning.
    Any,
}

/// `verifyCredential`'s options: the VC API's three and Hallmark's `issuerPolicy`,
/// `domain` and `challenge`. Any other is refused.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyCredentialOptions {
    /// Accepted; the result always carries every check (`hallmark`).
    #[serde(default)]
    pub return_results: bool,
    /// Accepted; the result always carries its problem details.
    #[serde(default)]
    pub return_problem_details: bool,
    /// Return the credential verified (the JSON credential, or the payload of a `vc+jwt`).
    #[serde(default)]
    pub return_credential: bool,
    /// Who may issue with a key (default `must-be-controller`).
    #[serde(default)]
    pub issuer_policy: IssuerPolicyOption,
    /// The domain the proof must be bound to.
    #[serde(default)]
    pub domain: Option<String>,
    /// The challenge the proof must carry.
    #[serde(default)]
    pub challenge: Option<String>,
}

impl VerifyCredentialOptions {
    /// Core's options (the time is the service's).
    pub fn verify_options(&self) -> VerifyOptions {
        VerifyOptions {
            now: None,
            issuer_policy: match self.issuer_policy {
                IssuerPolicyOption::MustBeController => IssuerPolicy::MustBeController,
                IssuerPolicyOption::Any => IssuerPolicy::Any,
            },
            expected_domain: self.domain.clone(),
            expected_challenge: self.challenge.clone(),
            ..VerifyOptions::default()
        }
    }
}

/// `POST /credentials/verify`: `{"verifiableCredential": …, "options": {…}}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyCredentialRequest {
    /// A JSON credential, a compact `vc+jwt` string, or an
    /// `EnvelopedVerifiableCredential` whose `id` is a `data:application/vc+jwt,` URL.
    pub verifiable_credential: Value,
    /// The options.
    #[serde(default)]
    pub options: VerifyCredentialOptions,
}

/// `verifyPresentation`'s options.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyPresentationOptions {
    /// The challenge the presentation's proof must carry.
    #[serde(default)]
    pub challenge: Option<String>,
    /// The domain the presentation's proof must be bound to.
    #[serde(default)]
    pub domain: Option<String>,
    /// Accepted (as for credentials).
    #[serde(default)]
    pub return_results: bool,
    /// Accepted (as for credentials).
    #[serde(default)]
    pub return_problem_details: bool,
}

impl VerifyPresentationOptions {
    /// Core's options: the expected challenge and domain of the holder's proof (the
    /// credentials inside are held to the default issuer policy).
    pub fn verify_options(&self) -> VerifyOptions {
        VerifyOptions {
            expected_domain: self.domain.clone(),
            expected_challenge: self.challenge.clone(),
            ..VerifyOptions::default()
        }
    }
}

/// The presentation of a `verifyPresentation` request: a JSON presentation secured with a
/// Data Integrity proof (a compact string is read as such and refused by core's `format`
/// check: enveloped `vp+jwt` presentations are not supported).
///
/// # Errors
/// [`ApiError::BadRequest`] for anything but an object or a string.
pub fn presentation_input(v: Value) -> Result<CredentialInput, ApiError> {
    match v {
        Value::Object(o) => Ok(CredentialInput::Json(Value::Object(o))),
        Value::String(s) => Ok(CredentialInput::Compact(s)),
        _ => Err(ApiError::BadRequest {
            detail: "`verifiablePresentation` must be a JSON presentation".into(),
        }),
    }
}

/// `POST /presentations/verify`: `{"verifiablePresentation": …, "options": {…}}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyPresentationRequest {
    /// The presentation (JSON, or a compact JWS string).
    pub verifiable_presentation: Value,
    /// The options.
    #[serde(default)]
    pub options: VerifyPresentationOptions,
}

/// `POST /credentials/issue` (admin): `{"credential": {…}, "options": {}}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueCredentialRequest {
    /// The unsecured credential: its `credentialSubject` a passport submission.
    pub credential: Value,
    /// No option is supported: an empty object, or absent.
    #[serde(default)]
    pub options: Map<String, Value>,
}

/// `issueCredential`'s answer (201).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuedCredential {
    /// The passport's public Data Integrity credential, as its URL serves it.
    pub verifiable_credential: Value,
}

/// A request body read as `T`; a body of another shape is a 400 naming what is wrong.
pub fn read<T: serde::de::DeserializeOwned>(body: Value) -> Result<T, ApiError> {
    serde_json::from_value(body).map_err(|e| ApiError::BadRequest {
        detail: format!("the body is not a VC API request of this operation: {e}"),
    })
}

/// The credential of a `verifyCredential` request.
pub fn credential_input(v: Value) -> Result<CredentialInput, ApiError> {
    let bad = |what: &str| ApiError::BadRequest {
        detail: format!("`verifiableCredential` {what}"),
    };
    match v {
        Value::String(s) => Ok(CredentialInput::Compact(s)),
        Value::Object(o) => {
            if o.get("type").and_then(Value::as_str) == Some("EnvelopedVerifiableCredential") {
                let id = o.get("id").and_then(Value::as_str).unwrap_or_default();
                return id
                    .strip_prefix(ENVELOPED_JWT)
                    .map(|jwt| CredentialInput::Compact(jwt.to_owned()))
                    .ok_or_else(|| {
                        bad("is an EnvelopedVerifiableCredential whose id is not a data:application/vc+jwt, URL")
                    });
            }
            Ok(CredentialInput::Json(Value::Object(o)))
        }
        _ => Err(bad(
            "must be a JSON credential, a compact vc+jwt string or an EnvelopedVerifiableCredential",
        )),
    }
}

/// One VC API problem detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProblemDetail {
    /// The problem type (VCDM, Data Integrity or `urn:hallmark:problem:`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Its title.
    pub title: String,
    /// What happened.
    pub detail: String,
    /// The Hallmark check that found it.
    pub check: &'static str,
}

/// The verdict as the result names it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// `valid`, `not-in-force` or `invalid`.
    pub verdict: &'static str,
    /// For `not-in-force`: the status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Every check, in order, with its outcome.
    #[serde(flatten)]
    pub report: Report,
}

/// A VC API verification result (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationResult {
    /// No error found.
    pub verified: bool,
    /// The checks that passed, by name.
    pub checks: Vec<&'static str>,
    /// The failures.
    pub errors: Vec<ProblemDetail>,
    /// Warnings (and checks that could not run, e.g. status lists not fetched).
    pub warnings: Vec<ProblemDetail>,
    /// The errors, then the warnings (the VCALM member).
    pub problem_details: Vec<ProblemDetail>,
    /// The credential verified, when `returnCredential` asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<Value>,
    /// The full Hallmark report.
    pub hallmark: Summary,
}

/// The problem type and title of a failed check.
fn problem_type(check: &str) -> (String, &'static str) {
    match check {
        "format" | "well-formed" => (format!("{VCDM}PARSING_ERROR"), "PARSING_ERROR"),
        "credential" => (
            format!("{VCDM}MALFORMED_VALUE_ERROR"),
            "MALFORMED_VALUE_ERROR",
        ),
        "validity" => (format!("{VCDM}RANGE_ERROR"), "RANGE_ERROR"),
        "status" => (
            "urn:hallmark:problem:not-in-force".to_owned(),
            "NOT_IN_FORCE",
        ),
        "status-list" | "status-list-signature" => (
            format!("{STATUS_LIST}STATUS_VERIFICATION_ERROR"),
            "STATUS_VERIFICATION_ERROR",
        ),
        "proof-expiry" => (
            format!("{SECURITY}PROOF_EXPIRED_ERROR"),
            "PROOF_EXPIRED_ERROR",
        ),
        "proof-domain" => (
            format!("{SECURITY}INVALID_DOMAIN_ERROR"),
            "INVALID_DOMAIN_ERROR",
        ),
        "proof-challenge" => (
            format!("{SECURITY}INVALID_CHALLENGE_ERROR"),
            "INVALID_CHALLENGE_ERROR",
        ),
        _ => (
            format!("{VCDM}CRYPTOGRAPHIC_SECURITY_ERROR"),
            "CRYPTOGRAPHIC_SECURITY_ERROR",
        ),
    }
}

impl VerificationResult {
    /// The result of a report; `credential` is returned when `return_credential`.
    pub fn of(report: Report, return_credential: bool) -> VerificationResult {
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        let mut checks: Vec<&'static str> = Vec::new();
        for c in &report.checks {
            match &c.outcome {
                Outcome::Pass(_) => {
                    if !checks.contains(&c.name) {
                        checks.push(c.name);
                    }
                }
                Outcome::Fail(d) => {
                    let (kind, title) = problem_type(c.name);
                    errors.push(ProblemDetail {
                        kind,
                        title: title.to_owned(),
                        detail: format!("{}: {d}", c.name),
                        check: c.name,
                    });
                }
                Outcome::Warn(d) => warnings.push(ProblemDetail {
                    kind: "urn:hallmark:problem:verification-warning".into(),
                    title: "Verification warning".into(),
                    detail: format!("{}: {d}", c.name),
                    check: c.name,
                }),
                // "an earlier check failed" is said by that check's error.
                Outcome::Skipped(d) if c.name == hallmark_core::verify::STATUS_CHECK => warnings
                    .push(ProblemDetail {
                        kind: "urn:hallmark:problem:status-not-checked".into(),
                        title: "Status not checked".into(),
                        detail: format!("{}: {d}", c.name),
                        check: c.name,
                    }),
                Outcome::Skipped(_) => {}
            }
        }
        let verdict = report.verdict();
        if verdict != Verdict::Valid && errors.is_empty() {
            let check = match verdict {
                Verdict::NotInForce(_) => hallmark_core::verify::STATUS_CHECK,
                _ => "signature",
            };
            let (kind, title) = problem_type(check);
            errors.push(ProblemDetail {
                kind,
                title: title.to_owned(),
                detail: format!("the credential is {verdict}"),
                check,
            });
        }
        let (name, status) = match &verdict {
            Verdict::Valid => ("valid", None),
            Verdict::Invalid => ("invalid", None),
            Verdict::NotInForce(s) => ("not-in-force", Some(s.clone())),
        };
        VerificationResult {
            verified: errors.is_empty(),
            checks,
            problem_details: errors.iter().chain(&warnings).cloned().collect(),
            errors,
            warnings,
            credential: return_credential
                .then(|| report.credential.clone())
                .flatten(),
            hallmark: Summary {
                verdict: name,
                status,
                report,
            },
        }
    }
}

/// A VC API presentation verification result: the presentation's own result (the holder's
/// proof, challenge, domain, holder binding) and one per credential, `verified` only when
/// all are; the full Hallmark reports under `hallmark`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PresentationVerificationResult {
    /// The presentation and every credential in it verified.
    pub verified: bool,
    /// The checks of the presentation's proof that passed, by name.
    pub checks: Vec<&'static str>,
    /// The failures: the presentation's, then each failing credential's (their detail
    /// prefixed `verifiableCredential[i]`).
    pub errors: Vec<ProblemDetail>,
    /// The warnings, in the same order.
    pub warnings: Vec<ProblemDetail>,
    /// The errors, then the warnings (the VCALM member).
    pub problem_details: Vec<ProblemDetail>,
    /// The presentation's own result.
    pub presentation_result: VerificationResult,
    /// One result per entry of `verifiableCredential`, in order.
    pub credential_results: Vec<VerificationResult>,
}

impl PresentationVerificationResult {
    /// The result of a presentation report.
    pub fn of(report: PresentationReport) -> PresentationVerificationResult {
        let valid = report.verdict() == Verdict::Valid;
        let presentation_result = VerificationResult::of(report.presentation, false);
        let credential_results: Vec<VerificationResult> = report
            .credentials
            .into_iter()
            .map(|c| VerificationResult::of(c, false))
            .collect();
        let prefixed = |i: usize, p: &ProblemDetail| ProblemDetail {
            detail: format!("verifiableCredential[{i}]: {}", p.detail),
            ..p.clone()
        };
        let mut errors = presentation_result.errors.clone();
        let mut warnings = presentation_result.warnings.clone();
        for (i, r) in credential_results.iter().enumerate() {
            errors.extend(r.errors.iter().map(|p| prefixed(i, p)));
            warnings.extend(r.warnings.iter().map(|p| prefixed(i, p)));
        }
        PresentationVerificationResult {
            verified: valid && errors.is_empty(),
            checks: presentation_result.checks.clone(),
            problem_details: errors.iter().chain(&warnings).cloned().collect(),
            errors,
            warnings,
            presentation_result,
            credential_results,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use hallmark_core::verify::Check;
    use serde_json::json;

    #[test]
    fn credentials_in_each_form() {
        assert_eq!(
            credential_input(json!("a.b.c")).unwrap(),
            CredentialInput::Compact("a.b.c".into())
        );
        assert_eq!(
            credential_input(json!({
                "@context": "https://www.w3.org/ns/credentials/v2",
                "type": "EnvelopedVerifiableCredential",
                "id": "data:application/vc+jwt,a.b.c"
            }))
            .unwrap(),
            CredentialInput::Compact("a.b.c".into())
        );
        assert!(credential_input(json!({"type": "EnvelopedVerifiableCredential"})).is_err());
        assert!(credential_input(json!(3)).is_err());
        assert!(read::<VerifyCredentialRequest>(
            json!({"verifiableCredential": {}, "options": {"x": 1}})
        )
        .is_err());
        assert!(read::<VerifyCredentialRequest>(json!({"options": {}})).is_err());
        let r: VerifyCredentialRequest = read(json!({
            "verifiableCredential": "a.b.c",
            "options": {"issuerPolicy": "any", "returnCredential": true}
        }))
        .unwrap();
        assert_eq!(r.options.verify_options().issuer_policy, IssuerPolicy::Any);
    }

    #[test]
    fn failures_are_errors_and_verified_is_their_absence() {
        let mut report = Report::default();
        report.checks.push(Check {
            name: "signature",
            outcome: Outcome::Fail("does not match".into()),
        });
        let r = VerificationResult::of(report, false);
        assert!(!r.verified);
        assert_eq!(r.errors[0].check, "signature");
        assert_eq!(r.errors[0].title, "CRYPTOGRAPHIC_SECURITY_ERROR");
        assert_eq!(r.hallmark.verdict, "invalid");
        let mut report = Report::default();
        report.checks.push(Check {
            name: "signature",
            outcome: Outcome::Pass("ok".into()),
        });
        report.checks.push(Check {
            name: "issuer",
            outcome: Outcome::Warn("foreign".into()),
        });
        let r = VerificationResult::of(report, false);
        assert!(r.verified && r.errors.is_empty());
        assert_eq!(r.checks, ["signature"]);
        assert_eq!(r.warnings.len(), 1);
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["hallmark"]["verdict"], "valid");
        assert_eq!(v["hallmark"]["checks"][1]["outcome"], "warn");
    }
}

//! The W3C *Verifiable Credentials Data Model v2.0* rules that need no JSON-LD expansion,
//! over an unsecured credential (a JSON object without its `proof`): one function per
//! rule, each with a stable kebab-case name ([`Rule::name`]) and the specification section
//! it enforces ([`Rule::section`]).
//!
//! They are used twice: before signing ([`violation`], called by every signing function of
//! [`crate::credential`], so Hallmark never signs a credential that breaks one) and when
//! verifying ([`check`], reported by [`crate::verify`] as named checks).
//!
//! | rule | what it asserts |
//! |---|---|
//! | `context` | `@context` is an array whose first item is `https://www.w3.org/ns/credentials/v2`; every later item is a URL or a context object, whose term definitions map to IRIs (no spaces, a valid scheme when there is a colon) |
//! | `protected-terms` | no context object redefines a term protected by the VC 2.0 context (`VerifiableCredential`, `name`, `digestSRI`, …) or by an earlier `@protected` context object, unless written identically (`"id": "@id"`) |
//! | `id` | the credential's `id`, when present, is a single URL (not null, not an array) |
//! | `type` | `type` is present, includes `VerifiableCredential`, and every value is a term or an absolute URL (a string without spaces); with `@vocab` nulled, every term is defined |
//! | `issuer-id` | `issuer` is a URL, or an object whose `id` is a URL (its `type`, if any, well formed) |
//! | `subject` | `credentialSubject` is an object or a non-empty array of objects, each with at least one property; a subject's `id` is a single URL, its `type` well formed |
//! | `name-description` | the credential's and the issuer's `name` and `description` are strings, language value objects (`@value`, optional `@language` tag and `@direction` `ltr`/`rtl`, nothing else), or non-empty arrays of language value objects |
//! | `validity-period` | `validFrom` and `validUntil` are XML Schema `dateTimeStamp`s (RFC 3339, upper-case `T`, a time zone), and `validFrom` ≤ `validUntil` — no clock involved |
//! | `credential-status` | every `credentialStatus` entry is an object with a `type`; an `id` is a single URL |
//! | `credential-schema` | every `credentialSchema` entry is an object with a `type` and an `id` that is a URL |
//! | `evidence` | every `evidence` entry is an object with a `type`; an `id` is a single URL |
//! | `terms-of-use` | every `termsOfUse` entry is an object with a `type`; an `id` is a single URL |
//! | `refresh-service` | every `refreshService` entry is an object with a `type`; an `id` is a single URL |
//! | `related-resource` | every `relatedResource` entry has a unique URL `id` and a `digestSRI` (`sha256-`/`sha384-`/`sha512-` + base64) or a `digestMultibase` (multibase `z`, `u`, `m` or `f` of a sha2-256/384/512 multihash), both checked as written; when the caller supplies the resource's bytes, every digest is computed and compared |
//!
//! "Entry" means the property's value when it is one object, or each object of a non-empty
//! array. The rules deliberately stop where JSON-LD expansion would be needed: remote
//! contexts are not fetched (a URL context is taken as a URL), so a type or property they
//! would leave undefined is not detected.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256, Sha384, Sha512};
use std::collections::{BTreeMap, BTreeSet};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The VC 2.0 base context; always first.
pub const VC_V2_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";

/// The terms the VC 2.0 base context defines at its top level, all protected (`"@protected":
/// true`, so a later context may not redefine them), each with its definition when that is
/// a plain IRI or keyword (an identical redefinition is allowed).
const BASE_TERMS: [(&str, Option<&str>); 30] = [
    ("id", Some("@id")),
    ("type", Some("@type")),
    ("kid", None),
    ("iss", None),
    ("sub", None),
    ("jku", None),
    ("x5u", None),
    ("aud", None),
    ("exp", None),
    ("nbf", None),
    ("iat", None),
    ("cnf", None),
    ("_sd_alg", None),
    ("_sd", None),
    ("...", None),
    ("digestSRI", None),
    ("digestMultibase", None),
    ("mediaType", None),
    ("description", Some("https://schema.org/description")),
    ("name", Some("https://schema.org/name")),
    (
        "EnvelopedVerifiableCredential",
        Some("https://www.w3.org/2018/credentials#EnvelopedVerifiableCredential"),
    ),
    ("VerifiableCredential", None),
    (
        "EnvelopedVerifiablePresentation",
        Some("https://www.w3.org/2018/credentials#EnvelopedVerifiablePresentation"),
    ),
    ("VerifiablePresentation", None),
    (
        "JsonSchemaCredential",
        Some("https://www.w3.org/2018/credentials#JsonSchemaCredential"),
    ),
    ("JsonSchema", None),
    (
        "BitstringStatusListCredential",
        Some("https://www.w3.org/ns/credentials/status#BitstringStatusListCredential"),
    ),
    ("BitstringStatusList", None),
    ("BitstringStatusListEntry", None),
    ("DataIntegrityProof", None),
];

/// The terms the VC 2.0 base context defines at its top level (all protected).
pub fn base_context_terms() -> impl Iterator<Item = &'static str> {
    BASE_TERMS.iter().map(|(t, _)| *t)
}

/// One rule of the data model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// `@context`: the base context first, then URLs and context objects.
    Context,
    /// No redefinition of a protected term.
    ProtectedTerms,
    /// The credential's `id` is a single URL.
    Id,
    /// The credential's `type`.
    Type,
    /// `issuer`: a URL or an object with a URL `id`.
    IssuerId,
    /// `credentialSubject`: non-empty objects.
    Subject,
    /// `name` and `description`: strings or language value objects.
    NameDescription,
    /// `validFrom` / `validUntil`: formats and order.
    ValidityPeriod,
    /// `credentialStatus` entries.
    CredentialStatus,
    /// `credentialSchema` entries.
    CredentialSchema,
    /// `evidence` entries.
    Evidence,
    /// `termsOfUse` entries.
    TermsOfUse,
    /// `refreshService` entries.
    RefreshService,
    /// `relatedResource` entries and their digests.
    RelatedResource,
}

impl Rule {
    /// Every rule, in the order they are checked and reported.
    pub const ALL: [Rule; 14] = [
        Rule::Context,
        Rule::ProtectedTerms,
        Rule::Id,
        Rule::Type,
        Rule::IssuerId,
        Rule::Subject,
        Rule::NameDescription,
        Rule::ValidityPeriod,
        Rule::CredentialStatus,
        Rule::CredentialSchema,
        Rule::Evidence,
        Rule::TermsOfUse,
        Rule::RefreshService,
        Rule::RelatedResource,
    ];

    /// The stable name: the check's name in a verification report.
    pub fn name(self) -> &'static str {
        match self {
            Rule::Context => "context",
            Rule::ProtectedTerms => "protected-terms",
            Rule::Id => "id",
            Rule::Type => "type",
            Rule::IssuerId => "issuer-id",
            Rule::Subject => "subject",
            Rule::NameDescription => "name-description",
            Rule::ValidityPeriod => "validity-period",
            Rule::CredentialStatus => "credential-status",
            Rule::CredentialSchema => "credential-schema",
            Rule::Evidence => "evidence",
            Rule::TermsOfUse => "terms-of-use",
            Rule::RefreshService => "refresh-service",
            Rule::RelatedResource => "related-resource",
        }
    }

    /// The section of VC Data Model 2.0 (W3C Recommendation) whose MUSTs the rule enforces.
    pub fn section(self) -> &'static str {
        match self {
            Rule::Context => "§4.3 Contexts",
            Rule::ProtectedTerms => {
                "§4.3 Contexts, §B.1 Base Context (JSON-LD 1.1 §4.1.11 Protected Term Definitions)"
            }
            Rule::Id => "§4.4 Identifiers",
            Rule::Type => "§4.5 Types",
            Rule::IssuerId => "§4.7 Issuer",
            Rule::Subject => "§4.8 Credential Subject",
            Rule::NameDescription => "§4.6 Names and Descriptions, §11.1",
            Rule::ValidityPeriod => "§4.9 Validity Period",
            Rule::CredentialStatus => "§4.10 Status",
            Rule::CredentialSchema => "§4.11 Data Schemas",
            Rule::Evidence => "§5.6 Evidence",
            Rule::TermsOfUse => "§5.5 Terms of Use",
            Rule::RefreshService => "§5.4 Refreshing",
            Rule::RelatedResource => "§5.3 Integrity of Related Resources",
        }
    }

    /// The rule named `name`, if any.
    pub fn from_name(name: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.name() == name)
    }
}

/// What one rule found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The rule holds (with a short note).
    Pass(String),
    /// The rule is broken (saying where and how).
    Fail(String),
    /// Everything that could be checked holds, but a digest could not be compared: the
    /// resource was not supplied (`related-resource` only).
    NotCompared(String),
}

impl Finding {
    /// True for [`Finding::Fail`].
    pub fn is_fail(&self) -> bool {
        matches!(self, Finding::Fail(_))
    }

    /// The note or the reason.
    pub fn detail(&self) -> &str {
        match self {
            Finding::Pass(t) | Finding::Fail(t) | Finding::NotCompared(t) => t,
        }
    }
}

/// Related resources the caller has (their `id` URL → bytes), for the digests of
/// `related-resource`.
pub type Resources = BTreeMap<String, Vec<u8>>;

/// Every rule over `doc` (the credential without its `proof`), in [`Rule::ALL`] order.
pub fn check(doc: &Map<String, Value>, resources: &Resources) -> Vec<(Rule, Finding)> {
    Rule::ALL
        .into_iter()
        .map(|rule| (rule, check_rule(rule, doc, resources)))
        .collect()
}

/// One rule over `doc`.
pub fn check_rule(rule: Rule, doc: &Map<String, Value>, resources: &Resources) -> Finding {
    let result = match rule {
        Rule::Context => context(doc),
        Rule::ProtectedTerms => protected_terms(doc),
        Rule::Id => id(doc),
        Rule::Type => types(doc),
        Rule::IssuerId => issuer_id(doc),
        Rule::Subject => subject(doc),
        Rule::NameDescription => name_description(doc),
        Rule::ValidityPeriod => validity_period(doc),
        Rule::CredentialStatus => typed_entries(doc, "credentialStatus", false),
        Rule::CredentialSchema => typed_entries(doc, "credentialSchema", true),
        Rule::Evidence => typed_entries(doc, "evidence", false),
        Rule::TermsOfUse => typed_entries(doc, "termsOfUse", false),
        Rule::RefreshService => typed_entries(doc, "refreshService", false),
        Rule::RelatedResource => return related_resource(doc, resources),
    };
    match result {
        Ok(note) => Finding::Pass(note),
        Err(problem) => Finding::Fail(problem),
    }
}

/// The first rule `doc` breaks, with why — what signing refuses. Digests of related
/// resources are checked as written only (nothing is fetched).
pub fn violation(doc: &Map<String, Value>) -> Option<(Rule, String)> {
    let none = Resources::new();
    Rule::ALL
        .into_iter()
        .find_map(|rule| match check_rule(rule, doc, &none) {
            Finding::Fail(why) => Some((rule, why)),
            Finding::Pass(_) | Finding::NotCompared(_) => None,
        })
}

// ---- helpers ----

/// A URL: a scheme (a letter, then letters, digits, `+`, `-`, `.`), a colon, a non-empty
/// rest without white space or control characters, and parsed by the WHATWG URL parser
/// (`https://…`, `urn:uuid:…`, `did:…`).
pub fn is_url(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && url::Url::parse(s).is_ok()
}

/// An XML Schema `dateTimeStamp` as RFC 3339 writes it: `T` and `Z` upper-case, a time
/// zone required.
pub fn is_date_time_stamp(s: &str) -> bool {
    s.as_bytes().get(10) == Some(&b'T')
        && !s.ends_with('z')
        && OffsetDateTime::parse(s, &Rfc3339).is_ok()
}

/// A string as shown in a detail: JSON-quoted, at most 80 characters.
fn shown(s: &str) -> String {
    if s.chars().count() <= 80 {
        format!("{s:?}")
    } else {
        let head: String = s.chars().take(77).collect();
        format!("{head:?}…")
    }
}

/// A JSON value as shown in a detail: its JSON text, at most 80 characters.
fn shown_value(v: &Value) -> String {
    match v {
        Value::String(s) => shown(s),
        other => {
            let text = other.to_string();
            if text.chars().count() <= 80 {
                text
            } else {
                format!("{}…", text.chars().take(77).collect::<String>())
            }
        }
    }
}

/// A term as shown in a detail: as written when it is short and printable, else quoted.
fn term_shown(t: &str) -> String {
    if t.len() <= 80 && t.chars().all(|c| c.is_ascii_graphic()) {
        t.to_string()
    } else {
        shown(t)
    }
}

/// What kind of JSON value `v` is, for details ("a string", "an object", …).
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `v` is a single URL (`what` names it in the detail).
fn single_url(what: &str, v: &Value) -> Result<(), String> {
    match v {
        Value::String(s) if is_url(s) => Ok(()),
        Value::String(s) => Err(format!("{what} {} is not a URL", shown(s))),
        Value::Array(_) => Err(format!("{what} is an array; it must be a single URL")),
        other => Err(format!("{what} is {}, not a URL", kind(other))),
    }
}

/// A term or an absolute URL, as a `type` value: a non-empty string without white space;
/// with a colon, a URL (or compact IRI) by [`is_url`].
fn is_type_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('@')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && (!s.contains(':') || is_url(s))
}

/// The values of a `type` property: one type name or a non-empty array of them.
fn type_values<'a>(what: &str, v: &'a Value) -> Result<Vec<&'a str>, String> {
    let bad = |s: &str| format!("{what} {} is neither a term nor an absolute URL", shown(s));
    match v {
        Value::String(s) if is_type_name(s) => Ok(vec![s.as_str()]),
        Value::String(s) => Err(bad(s)),
        Value::Array(a) if a.is_empty() => Err(format!("{what} is an empty array")),
        Value::Array(a) => a
            .iter()
            .map(|t| match t {
                Value::String(s) if is_type_name(s) => Ok(s.as_str()),
                Value::String(s) => Err(bad(s)),
                other => Err(format!(
                    "{what} has {}; every type is a term or URL string",
                    kind(other)
                )),
            })
            .collect(),
        other => Err(format!(
            "{what} is {}; it must be a term or URL string, or an array of them",
            kind(other)
        )),
    }
}

/// The objects of an entry property: `Ok(None)` when absent; each object with its label
/// (`key` for one object, `key[i]` in an array).
type Entries<'a> = Vec<(String, &'a Map<String, Value>)>;

fn entries<'a>(doc: &'a Map<String, Value>, key: &str) -> Result<Option<Entries<'a>>, String> {
    match doc.get(key) {
        None => Ok(None),
        Some(Value::Object(o)) => Ok(Some(vec![(key.to_string(), o)])),
        Some(Value::Array(a)) if a.is_empty() => Err(format!(
            "{key} is an empty array; it must be one or more objects"
        )),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::Object(o) => Ok((format!("{key}[{i}]"), o)),
                other => Err(format!("{key}[{i}] is {}, not an object", kind(other))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(format!(
            "{key} is {}; it must be an object or an array of objects",
            kind(other)
        )),
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

// ---- the rules ----

/// `context`: `@context` is an array whose first item is the VC 2.0 context and whose
/// later items are URLs or context objects with well-formed term definitions.
pub fn context(doc: &Map<String, Value>) -> Result<String, String> {
    let items = match doc.get("@context") {
        None => return Err("no @context".into()),
        Some(Value::Array(a)) => a,
        Some(Value::String(s)) if s == VC_V2_CONTEXT => {
            return Err(format!(
                "@context must be an array (an ordered set) starting with {VC_V2_CONTEXT}, not a single string"
            ))
        }
        Some(other) => {
            return Err(format!(
                "@context is {}; it must be an array starting with {VC_V2_CONTEXT}",
                kind(other)
            ))
        }
    };
    match items.first() {
        Some(Value::String(s)) if s == VC_V2_CONTEXT => {}
        Some(Value::String(s)) => {
            return Err(format!("@context[0] is {}, not {VC_V2_CONTEXT}", shown(s)))
        }
        Some(other) => {
            return Err(format!(
                "@context[0] is {}, not {VC_V2_CONTEXT}",
                kind(other)
            ))
        }
        None => return Err("@context is an empty array".into()),
    }
    for (i, item) in items.iter().enumerate().skip(1) {
        match item {
            Value::String(s) if is_url(s) => {}
            Value::String(s) => return Err(format!("@context[{i}] {} is not a URL", shown(s))),
            Value::Object(o) => context_object(&format!("@context[{i}]"), o)?,
            other => {
                return Err(format!(
                    "@context[{i}] is {}, neither a URL nor a context object",
                    kind(other)
                ))
            }
        }
    }
    Ok(format!(
        "{VC_V2_CONTEXT} first, {} after it",
        count(items.len() - 1, "context", "contexts")
    ))
}

/// An IRI a term maps to: a keyword (`@…`), or a string without white space that, with a
/// colon, is a URL or compact IRI.
fn is_iri_mapping(s: &str) -> bool {
    s.starts_with('@')
        || (!s.is_empty()
            && !s.chars().any(|c| c.is_whitespace() || c.is_control())
            && (!s.contains(':') || is_url(s)))
}

/// The entries of a context object (JSON-LD 1.1 §9.15 "Context Definitions", as far as
/// their syntax goes).
fn context_object(at: &str, o: &Map<String, Value>) -> Result<(), String> {
    for (key, value) in o {
        let bad = |what: &str| Err(format!("{at} {key} {what}"));
        match key.as_str() {
            "@protected" | "@propagate" if !value.is_boolean() => return bad("is not a boolean"),
            "@version" if value.as_f64() != Some(1.1) => return bad("is not 1.1"),
            "@vocab" | "@base" => match value {
                Value::Null => {}
                Value::String(s) if is_iri_mapping(s) || s.is_empty() => {}
                _ => return bad("is not an IRI"),
            },
            "@direction" => match value {
                Value::Null => {}
                Value::String(s) if s == "ltr" || s == "rtl" => {}
                _ => return bad("is neither ltr nor rtl"),
            },
            "@language" => match value {
                Value::Null => {}
                Value::String(s) if is_language_tag(s) => {}
                _ => return bad("is not a language tag"),
            },
            "@import" => match value {
                Value::String(s) if is_url(s) => {}
                _ => return bad("is not a URL"),
            },
            k if k.starts_with('@') => {}
            term => match value {
                Value::Null => {}
                Value::String(s) if is_iri_mapping(s) => {}
                Value::String(s) => {
                    return Err(format!(
                        "{at} maps {} to {}, which is not an IRI",
                        term_shown(term),
                        shown(s)
                    ))
                }
                Value::Object(def) => match def.get("@id") {
                    None | Some(Value::Null) => {}
                    Some(Value::String(s)) if is_iri_mapping(s) => {}
                    Some(Value::String(s)) => {
                        return Err(format!(
                            "{at} maps {} to {}, which is not an IRI",
                            term_shown(term),
                            shown(s)
                        ))
                    }
                    Some(other) => {
                        return Err(format!("{at} {}: @id is {}", term_shown(term), kind(other)));
                    }
                },
                other => {
                    return Err(format!(
                        "{at} defines {} as {}, not a term definition",
                        term_shown(term),
                        kind(other)
                    ))
                }
            },
        }
    }
    Ok(())
}

/// `protected-terms`: no context object redefines a term of the VC 2.0 context, or a term an
/// earlier context object protected (`@protected` on the object or on the term), unless the
/// definition is identical as written (`"id": "@id"`, `"type": "@type"`).
pub fn protected_terms(doc: &Map<String, Value>) -> Result<String, String> {
    let Some(Value::Array(items)) = doc.get("@context") else {
        return Ok("no context objects".into());
    };
    // Only an inline context object can redefine a term: without one (a passport's contexts
    // are URLs) there is nothing to compare, and the table of protected terms is not built.
    if !items.iter().skip(1).any(Value::is_object) {
        return Ok("no context objects".into());
    }
    // term → (its definition when a redefinition may repeat it, where it was protected)
    let mut protected: BTreeMap<String, (Option<Value>, String)> = BASE_TERMS
        .iter()
        .map(|(t, same)| {
            let same = same.map(|d| Value::String(d.to_string()));
            ((*t).to_string(), (same, "the VC 2.0 context".to_string()))
        })
        .collect();
    let mut objects = 0;
    for (i, item) in items.iter().enumerate().skip(1) {
        let Value::Object(ctx) = item else { continue };
        objects += 1;
        let all = ctx.get("@protected") == Some(&Value::Bool(true));
        let mut newly = Vec::new();
        for (term, def) in ctx.iter().filter(|(k, _)| !k.starts_with('@')) {
            if let Some((same, by)) = protected.get(term) {
                if !same_definition(same.as_ref(), def) {
                    return Err(format!(
                        "@context[{i}] redefines {}, a protected term of {by}",
                        term_shown(term)
                    ));
                }
            }
            let term_flag = def.get("@protected").and_then(Value::as_bool);
            if term_flag.unwrap_or(all) {
                newly.push((term.clone(), def.clone()));
            }
        }
        for (term, def) in newly {
            protected.insert(term, (Some(def), format!("@context[{i}]")));
        }
    }
    Ok(match objects {
        0 => "no context objects".into(),
        1 => "the context object redefines no protected term".into(),
        n => format!("{n} context objects redefine no protected term"),
    })
}

/// Whether `def` repeats the protected definition `same` (a plain IRI or keyword, written as
/// a string or as `{"@id": …}`; an expanded definition must be written identically).
fn same_definition(same: Option<&Value>, def: &Value) -> bool {
    let Some(same) = same else { return false };
    if same == def {
        return true;
    }
    match (same, def) {
        (Value::String(s), Value::Object(o)) => {
            o.len() == 1 && o.get("@id").and_then(Value::as_str) == Some(s.as_str())
        }
        _ => false,
    }
}

/// `id`: the credential's `id`, when present, is a single URL.
pub fn id(doc: &Map<String, Value>) -> Result<String, String> {
    match doc.get("id") {
        None => Ok("no id".into()),
        Some(v) => single_url("id", v).map(|()| "a single URL".into()),
    }
}

/// `type`: present, `VerifiableCredential` among the values, every value a term or a URL;
/// when `@vocab` is nulled and every context is known (the base context and context
/// objects only), every term is defined.
pub fn types(doc: &Map<String, Value>) -> Result<String, String> {
    let Some(t) = doc.get("type") else {
        return Err("no type".into());
    };
    let values = type_values("type", t)?;
    if !values.contains(&"VerifiableCredential") {
        return Err("type does not include VerifiableCredential".into());
    }
    if let Some(Value::Array(ctx)) = doc.get("@context") {
        let inline: Vec<&Map<String, Value>> =
            ctx.iter().skip(1).filter_map(Value::as_object).collect();
        let all_known = ctx.iter().skip(1).all(Value::is_object);
        let vocab_nulled = inline
            .iter()
            .rev()
            .find_map(|o| o.get("@vocab"))
            .is_some_and(Value::is_null);
        if all_known && vocab_nulled {
            let defined = |t: &str| {
                base_context_terms().any(|b| b == t) || inline.iter().any(|o| o.contains_key(t))
            };
            if let Some(undefined) = values.iter().find(|t| !t.contains(':') && !defined(t)) {
                return Err(format!(
                    "type {} is defined by no context and @vocab is null: it maps to no URL",
                    shown(undefined)
                ));
            }
        }
    }
    Ok(values.join(", "))
}

/// `issuer-id`: a URL, or an object whose `id` is a URL.
pub fn issuer_id(doc: &Map<String, Value>) -> Result<String, String> {
    match doc.get("issuer") {
        None => Err("no issuer".into()),
        Some(Value::String(s)) if is_url(s) => Ok(s.clone()),
        Some(Value::String(s)) => Err(format!("issuer {} is not a URL", shown(s))),
        Some(Value::Object(o)) => {
            let Some(id) = o.get("id") else {
                return Err("the issuer object has no id".into());
            };
            single_url("issuer.id", id)?;
            if let Some(t) = o.get("type") {
                type_values("issuer.type", t)?;
            }
            Ok(id.as_str().unwrap_or_default().to_string())
        }
        Some(other) => Err(format!(
            "issuer is {}; it must be a URL or an object with an id",
            kind(other)
        )),
    }
}

/// `subject`: `credentialSubject` is one or more objects, each with a property; an `id` is
/// a single URL, a `type` well formed.
pub fn subject(doc: &Map<String, Value>) -> Result<String, String> {
    let subjects =
        entries(doc, "credentialSubject")?.ok_or_else(|| "no credentialSubject".to_string())?;
    for (at, s) in &subjects {
        if s.is_empty() {
            return Err(format!("{at} is an empty object: a subject needs a claim"));
        }
        if let Some(id) = s.get("id") {
            single_url(&format!("{at}.id"), id)?;
        }
        if let Some(t) = s.get("type") {
            type_values(&format!("{at}.type"), t)?;
        }
    }
    Ok(count(subjects.len(), "subject", "subjects"))
}

/// A well-formed BCP 47 language tag, approximately: subtags of 1–8 letters or digits
/// joined by `-`, the first 2–8 letters (or `x` / `i` for private use and the irregular
/// grandfathered tags).
pub fn is_language_tag(s: &str) -> bool {
    let mut parts = s.split('-');
    let first_ok = parts.next().is_some_and(|p| {
        p.chars().all(|c| c.is_ascii_alphabetic())
            && ((2..=8).contains(&p.len())
                || p.eq_ignore_ascii_case("x")
                || p.eq_ignore_ascii_case("i"))
    });
    first_ok
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// A language value object (§11.1): `@value` a string, optional `@language` (a language
/// tag) and `@direction` (`ltr` or `rtl`), nothing else.
fn language_value(what: &str, o: &Map<String, Value>) -> Result<(), String> {
    if let Some(extra) = o
        .keys()
        .find(|k| !matches!(k.as_str(), "@value" | "@language" | "@direction"))
    {
        return Err(format!(
            "{what} is a language value object with the extra property {}",
            shown(extra)
        ));
    }
    match o.get("@value") {
        Some(Value::String(_)) => {}
        Some(other) => return Err(format!("{what}.@value is {}, not a string", kind(other))),
        None => return Err(format!("{what} is an object without @value")),
    }
    match o.get("@language") {
        None => {}
        Some(Value::String(l)) if is_language_tag(l) => {}
        Some(l) => {
            return Err(format!(
                "{what}.@language {} is not a language tag",
                shown_value(l)
            ))
        }
    }
    match o.get("@direction") {
        None => {}
        Some(Value::String(d)) if d == "ltr" || d == "rtl" => {}
        Some(d) => {
            return Err(format!(
                "{what}.@direction {} is neither \"ltr\" nor \"rtl\"",
                shown_value(d)
            ))
        }
    }
    Ok(())
}

fn text_value(what: &str, v: &Value) -> Result<(), String> {
    match v {
        Value::String(_) => Ok(()),
        Value::Object(o) => language_value(what, o),
        Value::Array(a) if a.is_empty() => Err(format!("{what} is an empty array")),
        Value::Array(a) => a.iter().enumerate().try_for_each(|(i, v)| match v {
            Value::Object(o) => language_value(&format!("{what}[{i}]"), o),
            other => Err(format!(
                "{what}[{i}] is {}, not a language value object",
                kind(other)
            )),
        }),
        other => Err(format!(
            "{what} is {}; it must be a string or a language value object",
            kind(other)
        )),
    }
}

/// `name-description`: the `name` and `description` of the credential and of an issuer
/// object.
pub fn name_description(doc: &Map<String, Value>) -> Result<String, String> {
    let mut seen = Vec::new();
    let issuer = doc.get("issuer").and_then(Value::as_object);
    let places = [(None, Some(doc)), (Some("issuer"), issuer)];
    for (prefix, obj) in places {
        let Some(obj) = obj else { continue };
        for key in ["name", "description"] {
            if let Some(v) = obj.get(key) {
                let what = match prefix {
                    Some(p) => format!("{p}.{key}"),
                    None => key.to_string(),
                };
                text_value(&what, v)?;
                seen.push(what);
            }
        }
    }
    Ok(if seen.is_empty() {
        "no name or description".into()
    } else {
        seen.join(", ")
    })
}

/// `validity-period`: `validFrom` and `validUntil` are `dateTimeStamp`s and `validFrom` ≤
/// `validUntil`.
pub fn validity_period(doc: &Map<String, Value>) -> Result<String, String> {
    let mut at = [None, None];
    for (slot, key) in at.iter_mut().zip(["validFrom", "validUntil"]) {
        match doc.get(key) {
            None => {}
            Some(Value::String(s)) if is_date_time_stamp(s) => {
                *slot = OffsetDateTime::parse(s, &Rfc3339).ok().map(|t| (t, s));
            }
            Some(v) => {
                return Err(format!(
                    "{key} {} is not an XML Schema dateTimeStamp (RFC 3339 with a time zone)",
                    shown_value(v)
                ))
            }
        }
    }
    match at {
        [Some((from, f)), Some((until, u))] if from > until => {
            Err(format!("validFrom {f} is later than validUntil {u}"))
        }
        [Some((_, f)), Some((_, u))] => Ok(format!("{f} to {u}")),
        [Some((_, f)), None] => Ok(format!("from {f}")),
        [None, Some((_, u))] => Ok(format!("until {u}")),
        [None, None] => Ok("no validFrom or validUntil".into()),
    }
}

/// `credential-status`, `credential-schema`, `evidence`, `terms-of-use`, `refresh-service`:
/// every entry of `key` is an object with a well-formed `type`; an `id` is a single URL
/// (required when `id_required`).
fn typed_entries(doc: &Map<String, Value>, key: &str, id_required: bool) -> Result<String, String> {
    let Some(list) = entries(doc, key)? else {
        return Ok(format!("no {key}"));
    };
    for (at, e) in &list {
        match e.get("type") {
            None => return Err(format!("{at} has no type")),
            Some(t) => {
                type_values(&format!("{at}.type"), t)?;
            }
        }
        match e.get("id") {
            None if id_required => return Err(format!("{at} has no id (a URL)")),
            None => {}
            Some(id) => single_url(&format!("{at}.id"), id)?,
        }
    }
    Ok(count(list.len(), "entry", "entries"))
}

// ---- related resources ----

/// A digest algorithm of `related-resource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Algorithm {
    Sha256,
    Sha384,
    Sha512,
}

impl Algorithm {
    fn len(self) -> usize {
        match self {
            Algorithm::Sha256 => 32,
            Algorithm::Sha384 => 48,
            Algorithm::Sha512 => 64,
        }
    }

    fn sri_name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha384 => "sha384",
            Algorithm::Sha512 => "sha512",
        }
    }

    fn digest(self, bytes: &[u8]) -> Vec<u8> {
        match self {
            Algorithm::Sha256 => Sha256::digest(bytes).to_vec(),
            Algorithm::Sha384 => Sha384::digest(bytes).to_vec(),
            Algorithm::Sha512 => Sha512::digest(bytes).to_vec(),
        }
    }
}

/// One digest a related resource carries, as written and decoded.
#[derive(Debug, Clone)]
struct WrittenDigest {
    written: String,
    algorithm: Algorithm,
    value: Vec<u8>,
}

const INDIFFERENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const B64_STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, INDIFFERENT);
const B64_URL: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, INDIFFERENT);

/// The hash expressions of a `digestSRI` string (Subresource Integrity §3.5: `hash-algo "-"
/// base64-value` with optional `?options`, separated by white space).
fn sri_digests(what: &str, s: &str) -> Result<Vec<WrittenDigest>, String> {
    let mut out = Vec::new();
    for expr in s.split_ascii_whitespace() {
        let bad = |why: &str| format!("{what} {} {why}", shown(expr));
        let (algo, rest) = expr
            .split_once('-')
            .ok_or_else(|| bad("is not a hash expression (sha256-/sha384-/sha512- + base64)"))?;
        let algorithm = match algo {
            "sha256" => Algorithm::Sha256,
            "sha384" => Algorithm::Sha384,
            "sha512" => Algorithm::Sha512,
            _ => return Err(bad("uses an algorithm other than sha256, sha384 or sha512")),
        };
        let b64 = rest.split_once('?').map_or(rest, |(v, _)| v);
        let engine = if b64.contains(['-', '_']) {
            &B64_URL
        } else {
            &B64_STANDARD
        };
        let value = engine
            .decode(b64)
            .map_err(|_| bad("has an invalid base64 value"))?;
        if value.len() != algorithm.len() {
            return Err(bad(&format!(
                "has {} digest bytes; {} has {}",
                value.len(),
                algorithm.sri_name(),
                algorithm.len()
            )));
        }
        out.push(WrittenDigest {
            written: expr.to_string(),
            algorithm,
            value,
        });
    }
    if out.is_empty() {
        return Err(format!("{what} is empty"));
    }
    Ok(out)
}

/// A `digestMultibase` value: multibase (`z` base58btc, `u` base64url, `m` base64, `f`
/// base16) of a multihash sha2-256 (0x12), sha2-384 (0x20) or sha2-512 (0x13).
fn multibase_digest(what: &str, s: &str) -> Result<WrittenDigest, String> {
    let bad = |why: &str| format!("{what} {} {why}", shown(s));
    let mut chars = s.chars();
    let prefix = chars.next();
    let body = chars.as_str();
    let bytes = match prefix {
        Some('z') => bs58::decode(body).into_vec().ok(),
        Some('u') => base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body)
            .ok(),
        Some('m') => base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(body)
            .ok(),
        Some('f') => hex::decode(body).ok(),
        _ => return Err(bad("is not multibase z, u, m or f")),
    }
    .ok_or_else(|| bad("does not decode"))?;
    let algorithm = match bytes.first() {
        Some(0x12) => Algorithm::Sha256,
        Some(0x20) => Algorithm::Sha384,
        Some(0x13) => Algorithm::Sha512,
        _ => return Err(bad("is not a sha2-256, sha2-384 or sha2-512 multihash")),
    };
    let value = match bytes.get(1) {
        Some(&n) if usize::from(n) == algorithm.len() && bytes.len() == 2 + algorithm.len() => {
            bytes[2..].to_vec()
        }
        _ => return Err(bad("has a multihash length that does not match its digest")),
    };
    Ok(WrittenDigest {
        written: s.to_string(),
        algorithm,
        value,
    })
}

/// A string or a non-empty array of strings.
fn strings<'a>(what: &str, v: &'a Value) -> Result<Vec<&'a str>, String> {
    match v {
        Value::String(s) => Ok(vec![s.as_str()]),
        Value::Array(a) if !a.is_empty() => a
            .iter()
            .map(|x| {
                x.as_str()
                    .ok_or_else(|| format!("{what} has {}, not a string", kind(x)))
            })
            .collect(),
        other => Err(format!(
            "{what} is {}; it must be a string or an array of strings",
            kind(other)
        )),
    }
}

/// The digests of one related resource, checked as written.
fn resource_digests(at: &str, e: &Map<String, Value>) -> Result<Vec<WrittenDigest>, String> {
    let mut digests = Vec::new();
    if let Some(v) = e.get("digestSRI") {
        let what = format!("{at}.digestSRI");
        for s in strings(&what, v)? {
            digests.extend(sri_digests(&what, s)?);
        }
    }
    if let Some(v) = e.get("digestMultibase") {
        let what = format!("{at}.digestMultibase");
        for s in strings(&what, v)? {
            digests.push(multibase_digest(&what, s)?);
        }
    }
    if digests.is_empty() {
        return Err(format!("{at} has neither digestSRI nor digestMultibase"));
    }
    if let Some(m) = e.get("mediaType") {
        let ok = m.as_str().is_some_and(|m| {
            let essence = m.split(';').next().unwrap_or_default().trim();
            essence.split_once('/').is_some_and(|(t, s)| {
                !t.is_empty() && !s.is_empty() && !essence.contains(char::is_whitespace)
            })
        });
        if !ok {
            return Err(format!(
                "{at}.mediaType {} is not a media type",
                shown_value(m)
            ));
        }
    }
    Ok(digests)
}

/// `related-resource`: every entry has a unique URL `id` and well-formed digests; those of a
/// resource in `resources` (by its `id`) are computed and compared.
pub fn related_resource(doc: &Map<String, Value>, resources: &Resources) -> Finding {
    let list = match entries(doc, "relatedResource") {
        Err(e) => return Finding::Fail(e),
        Ok(None) if resources.is_empty() => return Finding::Pass("no relatedResource".into()),
        Ok(None) => {
            let given: Vec<&str> = resources.keys().map(String::as_str).collect();
            return Finding::NotCompared(format!(
                "the credential has no relatedResource; not used: {}",
                given.join(", ")
            ));
        }
        Ok(Some(list)) => list,
    };
    let mut ids = BTreeSet::new();
    let (mut matched, mut missing) = (Vec::new(), Vec::new());
    for (at, e) in &list {
        let id = match e.get("id") {
            None => return Finding::Fail(format!("{at} has no id")),
            Some(v) => match single_url(&format!("{at}.id"), v) {
                Err(why) => return Finding::Fail(why),
                Ok(()) => v.as_str().unwrap_or_default(),
            },
        };
        if !ids.insert(id) {
            return Finding::Fail(format!(
                "{at}.id {} is not unique among the related resources",
                shown(id)
            ));
        }
        let digests = match resource_digests(at, e) {
            Ok(d) => d,
            Err(why) => return Finding::Fail(why),
        };
        let Some(bytes) = resources.get(id) else {
            missing.push(id);
            continue;
        };
        for d in &digests {
            let actual = d.algorithm.digest(bytes);
            if actual != d.value {
                return Finding::Fail(format!(
                    "{at} {}: digest {} does not match the supplied resource ({}-{})",
                    shown(id),
                    shown(&d.written),
                    d.algorithm.sri_name(),
                    base64::engine::general_purpose::STANDARD.encode(&actual)
                ));
            }
        }
        matched.push(id);
    }
    let unused: Vec<&str> = resources
        .keys()
        .map(String::as_str)
        .filter(|k| !ids.contains(k))
        .collect();
    let mut note = Vec::new();
    if !matched.is_empty() {
        note.push(format!("digests match: {}", matched.join(", ")));
    }
    if !missing.is_empty() {
        note.push(format!(
            "digests well formed; not supplied, not compared: {}",
            missing.join(", ")
        ));
    }
    if !unused.is_empty() {
        note.push(format!("supplied but not named: {}", unused.join(", ")));
    }
    let note = note.join("; ");
    if matched.is_empty() {
        Finding::NotCompared(note)
    } else {
        Finding::Pass(note)
    }
}

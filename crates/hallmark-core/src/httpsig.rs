//! HTTP Message Signatures (RFC 9421) with Ed25519, and `Content-Digest` (RFC 9530): the
//! signed restricted reads of issue 20 (reader guide: docs/access.md, "Signed requests").
//!
//! Framework-free: the node fills a [`RequestParts`] from its HTTP framework, [`parse`]s the
//! `Signature-Input` / `Signature` fields, [`Parsed::check`]s the parameters and the time
//! window (stateless, before any key lookup), looks the reader's key up by
//! [`Parsed::keyid`], then [`Parsed::verify`]s (components, content digest, `verify_strict`).
//! The nonce is *not* remembered here: [`Verified`] names it for the store, which refuses
//! one seen before. Readers sign with [`sign`]. No clock: `now` (Unix seconds) is an argument.

use crate::keys::{Signer, SignerError};
use base64::{engine::general_purpose::STANDARD, Engine as _};
use ed25519_dalek::{Signature, VerifyingKey};
use sfv::{
    BareItem, Dictionary, FieldType, InnerList, Item, KeyRef, List, ListEntry, Parameters, Parser,
};
use sha2::{Digest, Sha256, Sha512};
use thiserror::Error;

/// The application tag (RFC 9421 §2.3 `tag`) of a Hallmark reader's signature. The node
/// selects the signature to check by it and refuses any other.
pub const HALLMARK_TAG: &str = "hallmark-reader";
/// The label [`sign`] gives its signature (labels carry no meaning: RFC 9421 §7.2.3).
pub const LABEL: &str = "hallmark";
/// The one algorithm accepted (RFC 9421 §3.3.6); the registered key fixes it, `alg` only
/// has to agree.
pub const ALG_ED25519: &str = "ed25519";
/// Default longest `expires - created`, in seconds.
pub const DEFAULT_MAX_WINDOW: i64 = 300;
/// Default tolerated clock difference between reader and node, in seconds.
pub const DEFAULT_SKEW: i64 = 60;
/// Nonce length bounds, in characters (16 characters of base64url carry 96 bits; readers
/// should send 22 or more: 128 bits).
pub const NONCE_LEN: std::ops::RangeInclusive<usize> = 16..=128;

/// Why a request's signature was refused. Each variant is its own problem type
/// ([`HttpSigError::slug`]).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HttpSigError {
    /// No `Signature-Input` or no `Signature` field, or no signature in them.
    #[error("the request is not signed (no Signature-Input and Signature)")]
    Unsigned,
    /// The signature fields (or a parameter, or `Content-Digest`) are not well formed.
    #[error("malformed signature: {0}")]
    Malformed(&'static str),
    /// A required signature parameter is absent.
    #[error("the signature parameter `{0}` is required")]
    MissingParameter(&'static str),
    /// `alg` names another algorithm than `ed25519`.
    #[error("signature algorithm {0:?} is not supported (only \"ed25519\")")]
    UnsupportedAlgorithm(String),
    /// The signature's `tag` is not [`HALLMARK_TAG`].
    #[error("the signature's tag is {0:?}, not \"hallmark-reader\"")]
    WrongTag(String),
    /// `expires - created` is longer than the policy allows.
    #[error("the signature's validity window ({0} s) is longer than allowed")]
    WindowTooLong(i64),
    /// `created` lies beyond now + skew.
    #[error("the signature is not yet valid (created in the future)")]
    NotYetValid,
    /// `expires` + skew has passed.
    #[error("the signature has expired")]
    Expired,
    /// A component the node requires is not covered by the signature.
    #[error("the signature must cover `{0}`")]
    MissingComponent(String),
    /// A covered component is not in the request (e.g. a header field that was not sent).
    #[error("the covered component `{0}` is not in the request")]
    ComponentNotFound(String),
    /// A covered component this implementation does not derive (e.g. `@query-param`,
    /// `@request-target`), or one with component parameters (`;sf`, `;key`, `;bs`, `;req`).
    #[error("the covered component `{0}` is not supported")]
    UnsupportedComponent(String),
    /// The request has a body (or covers `content-digest`) but no `Content-Digest` with a
    /// supported algorithm (`sha-256`, `sha-512`).
    #[error("Content-Digest with sha-256 or sha-512 is required")]
    DigestMissing,
    /// A `Content-Digest` value does not match the body.
    #[error("Content-Digest does not match the body")]
    DigestMismatch,
    /// The Ed25519 signature does not verify over the signature base.
    #[error("the signature does not verify")]
    BadSignature,
    /// Signing failed (the signer refused).
    #[error("signing failed: {0}")]
    Signing(String),
}

impl HttpSigError {
    /// The stable name of this refusal (the last segment of its problem type URI).
    pub fn slug(&self) -> &'static str {
        match self {
            HttpSigError::Unsigned => "unsigned-request",
            HttpSigError::Malformed(_) => "malformed-signature",
            HttpSigError::MissingParameter(_) => "signature-parameter-missing",
            HttpSigError::UnsupportedAlgorithm(_) => "signature-algorithm-unsupported",
            HttpSigError::WrongTag(_) => "signature-tag-mismatch",
            HttpSigError::WindowTooLong(_) => "signature-window-too-long",
            HttpSigError::NotYetValid => "signature-not-yet-valid",
            HttpSigError::Expired => "signature-expired",
            HttpSigError::MissingComponent(_) => "signature-component-missing",
            HttpSigError::ComponentNotFound(_) => "signature-component-absent",
            HttpSigError::UnsupportedComponent(_) => "signature-component-unsupported",
            HttpSigError::DigestMissing => "content-digest-missing",
            HttpSigError::DigestMismatch => "content-digest-mismatch",
            HttpSigError::BadSignature => "bad-signature",
            HttpSigError::Signing(_) => "signing-failed",
        }
    }
}

impl From<SignerError> for HttpSigError {
    fn from(e: SignerError) -> Self {
        HttpSigError::Signing(e.to_string())
    }
}

/// The parts of a request a signature covers, as plain strings (no HTTP framework).
///
/// `authority` is the host as the node is reached (`host[:port]`, default port omitted; the
/// node should use its configured public origin, not a client-supplied forwarding header);
/// `path` the absolute path as sent (percent-encoding kept); `query` the query without `?`.
/// Header names are stored lower-case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestParts {
    /// The method, e.g. `GET`.
    pub method: String,
    /// `https` (or `http` in development).
    pub scheme: String,
    /// `host[:port]`.
    pub authority: String,
    /// The absolute path.
    pub path: String,
    /// The query without its `?`, if the request has one.
    pub query: Option<String>,
    headers: Vec<(String, String)>,
    /// The body, if the request has one.
    pub body: Option<Vec<u8>>,
}

impl RequestParts {
    /// A request without header fields or body.
    pub fn new(
        method: &str,
        scheme: &str,
        authority: &str,
        path: &str,
        query: Option<&str>,
    ) -> Self {
        RequestParts {
            method: method.to_owned(),
            scheme: scheme.to_owned(),
            authority: authority.to_owned(),
            path: path.to_owned(),
            query: query.map(str::to_owned),
            headers: Vec::new(),
            body: None,
        }
    }

    /// Adds one header field line (the name is lower-cased).
    pub fn add_header(&mut self, name: &str, value: &str) {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
    }

    /// [`RequestParts::add_header`], by value.
    #[must_use]
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.add_header(name, value);
        self
    }

    /// Sets the body.
    #[must_use]
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// A header field's value as RFC 9421 §2.1 covers it: each line's value trimmed, lines
    /// joined with `", "`; `None` when the field is absent.
    pub fn header(&self, name: &str) -> Option<String> {
        let name = name.to_ascii_lowercase();
        let values: Vec<&str> = self
            .headers
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.trim_matches([' ', '\t']))
            .collect();
        if values.is_empty() {
            None
        } else {
            Some(values.join(", "))
        }
    }

    /// Whether the request carries a non-empty body.
    pub fn has_body(&self) -> bool {
        self.body.as_ref().is_some_and(|b| !b.is_empty())
    }

    /// The value of one component (RFC 9421 §2.1, §2.2).
    fn component(&self, name: &str) -> Result<String, HttpSigError> {
        let value = match name {
            "@method" => self.method.clone(),
            "@scheme" => self.scheme.to_ascii_lowercase(),
            "@authority" => self.authority.to_ascii_lowercase(),
            "@path" => self.path_or_root().to_owned(),
            "@query" => format!("?{}", self.query.as_deref().unwrap_or("")),
            "@target-uri" => {
                let mut uri = format!(
                    "{}://{}{}",
                    self.scheme.to_ascii_lowercase(),
                    self.authority.to_ascii_lowercase(),
                    self.path_or_root()
                );
                if let Some(q) = &self.query {
                    uri.push('?');
                    uri.push_str(q);
                }
                uri
            }
            derived if derived.starts_with('@') => {
                return Err(HttpSigError::UnsupportedComponent(derived.to_owned()))
            }
            field => self
                .header(field)
                .ok_or_else(|| HttpSigError::ComponentNotFound(field.to_owned()))?,
        };
        if value.contains(['\r', '\n']) {
            return Err(HttpSigError::Malformed(
                "a component value contains a line break",
            ));
        }
        Ok(value)
    }

    fn path_or_root(&self) -> &str {
        if self.path.is_empty() {
            "/"
        } else {
            &self.path
        }
    }
}

/// The components a signature covers, in order (RFC 9421 §2): derived components
/// (`@method`, `@target-uri`, `@authority`, `@scheme`, `@path`, `@query`) and header
/// field names, lower-case, each once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Covered(Vec<String>);

impl Covered {
    /// The components named, refused if one is not a lower-case component name or repeats.
    pub fn new<I, S>(names: I) -> Result<Self, HttpSigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut out: Vec<String> = Vec::new();
        for name in names {
            let name = name.as_ref();
            let valid = !name.is_empty()
                && name.bytes().all(|b| {
                    b.is_ascii_graphic() && !b.is_ascii_uppercase() && b != b'"' && b != b'\\'
                });
            if !valid {
                return Err(HttpSigError::Malformed(
                    "a component name is not a lower-case field name",
                ));
            }
            if out.iter().any(|n| n == name) {
                return Err(HttpSigError::Malformed("a component is covered twice"));
            }
            out.push(name.to_owned());
        }
        Ok(Covered(out))
    }

    /// What a Hallmark reader signs for `parts`: `@method`, `@target-uri`, and
    /// `content-digest` when the request has a body.
    pub fn for_request(parts: &RequestParts) -> Self {
        let mut names = vec!["@method".to_owned(), "@target-uri".to_owned()];
        if parts.has_body() {
            names.push("content-digest".to_owned());
        }
        Covered(names)
    }

    /// The component names, in order.
    pub fn names(&self) -> &[String] {
        &self.0
    }

    /// Whether `name` is covered.
    pub fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|n| n == name)
    }
}

/// The signature parameters (RFC 9421 §2.3). [`sign`] serialises them in the order
/// `created`, `expires`, `nonce`, `keyid`, `alg`, `tag`, skipping absent ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignatureParams {
    /// Creation time, Unix seconds.
    pub created: Option<i64>,
    /// Expiry time, Unix seconds.
    pub expires: Option<i64>,
    /// A random value unique to this request.
    pub nonce: Option<String>,
    /// The reader's key id as registered with the node.
    pub keyid: Option<String>,
    /// `ed25519` if given.
    pub alg: Option<String>,
    /// The application tag ([`HALLMARK_TAG`]).
    pub tag: Option<String>,
}

impl SignatureParams {
    /// The parameters of a Hallmark reader's signature: all of them, `alg` `ed25519` and
    /// `tag` [`HALLMARK_TAG`].
    pub fn hallmark(created: i64, expires: i64, nonce: &str, keyid: &str) -> Self {
        SignatureParams {
            created: Some(created),
            expires: Some(expires),
            nonce: Some(nonce.to_owned()),
            keyid: Some(keyid.to_owned()),
            alg: Some(ALG_ED25519.to_owned()),
            tag: Some(HALLMARK_TAG.to_owned()),
        }
    }

    fn to_sfv(&self) -> Result<Parameters, HttpSigError> {
        let mut params = Parameters::new();
        let int = |v: i64| {
            sfv::Integer::try_from(v)
                .map(BareItem::from)
                .map_err(|_| HttpSigError::Malformed("a time parameter is out of range"))
        };
        let string = |v: &str| {
            sfv::String::from_string(v.to_owned())
                .map(BareItem::String)
                .map_err(|_| HttpSigError::Malformed("a string parameter is not printable ASCII"))
        };
        if let Some(v) = self.created {
            params.insert(sfv::key_ref("created").to_owned(), int(v)?);
        }
        if let Some(v) = self.expires {
            params.insert(sfv::key_ref("expires").to_owned(), int(v)?);
        }
        for (name, value) in [
            ("nonce", &self.nonce),
            ("keyid", &self.keyid),
            ("alg", &self.alg),
            ("tag", &self.tag),
        ] {
            if let Some(v) = value {
                params.insert(sfv::key_ref(name).to_owned(), string(v)?);
            }
        }
        Ok(params)
    }

    fn from_sfv(params: &Parameters) -> Result<Self, HttpSigError> {
        let get = |name: &str| params.get(sfv::key_ref(name));
        let int = |name: &str| -> Result<Option<i64>, HttpSigError> {
            match get(name) {
                None => Ok(None),
                Some(b) => {
                    b.as_integer()
                        .map(|i| Some(i64::from(i)))
                        .ok_or(HttpSigError::Malformed(
                            "created and expires must be integers",
                        ))
                }
            }
        };
        let string = |name: &str| -> Result<Option<String>, HttpSigError> {
            match get(name) {
                None => Ok(None),
                Some(b) => b.as_string().map(|s| Some(s.as_str().to_owned())).ok_or(
                    HttpSigError::Malformed("nonce, keyid, alg and tag must be strings"),
                ),
            }
        };
        Ok(SignatureParams {
            created: int("created")?,
            expires: int("expires")?,
            nonce: string("nonce")?,
            keyid: string("keyid")?,
            alg: string("alg")?,
            tag: string("tag")?,
        })
    }
}

/// What the node accepts: the longest window and the tolerated clock skew, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Longest `expires - created`.
    pub max_window: i64,
    /// Tolerated difference between the reader's clock and the node's.
    pub skew: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_window: DEFAULT_MAX_WINDOW,
            skew: DEFAULT_SKEW,
        }
    }
}

/// The serialisation of the covered components with their parameters: the value of
/// `@signature-params` and of the `Signature-Input` member.
fn params_value(covered: &Covered, params: &SignatureParams) -> Result<String, HttpSigError> {
    let items = covered
        .names()
        .iter()
        .map(|n| {
            sfv::String::from_string(n.clone())
                .map(|s| Item::new(BareItem::String(s)))
                .map_err(|_| HttpSigError::Malformed("a component name is not printable ASCII"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let inner = InnerList::with_params(items, params.to_sfv()?);
    serialise_member(inner)
}

fn serialise_member(inner: InnerList) -> Result<String, HttpSigError> {
    let list: List = vec![ListEntry::InnerList(inner)];
    list.serialize().ok_or(HttpSigError::Malformed(
        "the signature parameters do not serialise",
    ))
}

fn base_with(
    parts: &RequestParts,
    covered: &Covered,
    params_value: &str,
) -> Result<String, HttpSigError> {
    let mut base = String::new();
    for name in covered.names() {
        if name == "@signature-params" {
            return Err(HttpSigError::UnsupportedComponent(name.clone()));
        }
        let value = parts.component(name)?;
        base.push_str(&format!("\"{name}\": {value}\n"));
    }
    base.push_str(&format!("\"@signature-params\": {params_value}"));
    Ok(base)
}

/// The signature base (RFC 9421 §2.5) of `parts` over `covered` with `params`.
pub fn signature_base(
    parts: &RequestParts,
    covered: &Covered,
    params: &SignatureParams,
) -> Result<String, HttpSigError> {
    base_with(parts, covered, &params_value(covered, params)?)
}

/// The header field values of a signed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// The `Signature-Input` field value.
    pub signature_input: String,
    /// The `Signature` field value.
    pub signature: String,
}

/// Signs `parts` under [`LABEL`]: the `Signature-Input` and `Signature` values to send.
/// A request with a body needs its `Content-Digest` header ([`content_digest`]) among the
/// parts first.
pub fn sign<S: Signer + ?Sized>(
    parts: &RequestParts,
    covered: &Covered,
    params: &SignatureParams,
    signer: &S,
) -> Result<SignedHeaders, HttpSigError> {
    sign_as(LABEL, parts, covered, params, signer)
}

/// [`sign`] under another label.
pub fn sign_as<S: Signer + ?Sized>(
    label: &str,
    parts: &RequestParts,
    covered: &Covered,
    params: &SignatureParams,
    signer: &S,
) -> Result<SignedHeaders, HttpSigError> {
    if KeyRef::from_str(label).is_err() {
        return Err(HttpSigError::Malformed(
            "a label must be a structured-field key",
        ));
    }
    let value = params_value(covered, params)?;
    let base = base_with(parts, covered, &value)?;
    let signature = signer.sign(base.as_bytes())?;
    Ok(SignedHeaders {
        signature_input: format!("{label}={value}"),
        signature: format!("{label}=:{}:", STANDARD.encode(signature.to_bytes())),
    })
}

/// The `Content-Digest` value of `body` (RFC 9530): `sha-256=:<base64>:`.
pub fn content_digest(body: &[u8]) -> String {
    format!("sha-256=:{}:", STANDARD.encode(Sha256::digest(body)))
}

/// Checks `Content-Digest` against the body: at least one of `sha-256` / `sha-512`, and
/// every one given matches (other algorithms are ignored).
pub fn check_content_digest(parts: &RequestParts) -> Result<(), HttpSigError> {
    let body = parts.body.as_deref().unwrap_or(b"");
    let field = parts
        .header("content-digest")
        .ok_or(HttpSigError::DigestMissing)?;
    let dict: Dictionary = Parser::new(&field).parse().map_err(|_| {
        HttpSigError::Malformed("Content-Digest is not a structured-field dictionary")
    })?;
    let mut checked = false;
    for (alg, entry) in &dict {
        let want = match alg.as_str() {
            "sha-256" => Sha256::digest(body).to_vec(),
            "sha-512" => Sha512::digest(body).to_vec(),
            _ => continue,
        };
        let ListEntry::Item(item) = entry else {
            return Err(HttpSigError::Malformed(
                "a Content-Digest value is not a byte sequence",
            ));
        };
        let got = item
            .bare_item
            .as_byte_sequence()
            .ok_or(HttpSigError::Malformed(
                "a Content-Digest value is not a byte sequence",
            ))?;
        if got != want.as_slice() {
            return Err(HttpSigError::DigestMismatch);
        }
        checked = true;
    }
    if checked {
        Ok(())
    } else {
        Err(HttpSigError::DigestMissing)
    }
}

/// One signature read from a request's `Signature-Input` and `Signature` fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    label: String,
    covered: Covered,
    params: SignatureParams,
    /// The received inner list, re-serialised: the `@signature-params` value.
    params_value: String,
    signature: Vec<u8>,
}

/// The parameters of a signature that passed [`Parsed::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The reader's key id.
    pub keyid: String,
    /// The request's nonce.
    pub nonce: String,
    /// `created`, Unix seconds.
    pub created: i64,
    /// `expires`, Unix seconds.
    pub expires: i64,
}

/// A request whose signature verified. The caller must still refuse a nonce it has seen
/// (for this key) before: keep it at least until [`Verified::remember_until`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The label of the signature that verified.
    pub label: String,
    /// The reader's key id.
    pub keyid: String,
    /// The request's nonce.
    pub nonce: String,
    /// `created`, Unix seconds.
    pub created: i64,
    /// `expires`, Unix seconds.
    pub expires: i64,
    /// The time (Unix seconds) after which the same signature is refused as expired: a
    /// nonce need not be remembered longer.
    pub remember_until: i64,
}

/// Reads the signature to check from the request: the one tagged [`HALLMARK_TAG`], or the
/// only one. Parameters are read, not yet required ([`Parsed::check`] does that).
pub fn parse(parts: &RequestParts) -> Result<Parsed, HttpSigError> {
    let (Some(input), Some(signature)) =
        (parts.header("signature-input"), parts.header("signature"))
    else {
        return Err(HttpSigError::Unsigned);
    };
    let input: Dictionary = Parser::new(&input).parse().map_err(|_| {
        HttpSigError::Malformed("Signature-Input is not a structured-field dictionary")
    })?;
    let signature: Dictionary = Parser::new(&signature)
        .parse()
        .map_err(|_| HttpSigError::Malformed("Signature is not a structured-field dictionary"))?;

    let tagged: Vec<_> = input
        .iter()
        .filter(|(_, entry)| match entry {
            ListEntry::InnerList(il) => il
                .params
                .get(sfv::key_ref("tag"))
                .and_then(BareItem::as_string)
                .is_some_and(|t| t.as_str() == HALLMARK_TAG),
            ListEntry::Item(_) => false,
        })
        .collect();
    let (label, entry) = match (tagged.as_slice(), input.len()) {
        ([one], _) => *one,
        ([], 0) => return Err(HttpSigError::Unsigned),
        ([], 1) => input.iter().next().ok_or(HttpSigError::Unsigned)?,
        ([], _) => {
            return Err(HttpSigError::Malformed(
                "several signatures and none tagged \"hallmark-reader\"",
            ))
        }
        _ => {
            return Err(HttpSigError::Malformed(
                "more than one signature tagged \"hallmark-reader\"",
            ))
        }
    };
    let ListEntry::InnerList(inner) = entry else {
        return Err(HttpSigError::Malformed(
            "a Signature-Input member is not an inner list",
        ));
    };
    let mut names = Vec::with_capacity(inner.items.len());
    for item in &inner.items {
        let name = item.bare_item.as_string().ok_or(HttpSigError::Malformed(
            "a component identifier is not a string",
        ))?;
        if !item.params.is_empty() {
            return Err(HttpSigError::UnsupportedComponent(format!(
                "{};{}",
                name.as_str(),
                item.params
                    .keys()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(";")
            )));
        }
        names.push(name.as_str().to_owned());
    }
    let covered = Covered::new(names)?;
    let params = SignatureParams::from_sfv(&inner.params)?;
    let params_value = serialise_member(inner.clone())?;
    let Some(ListEntry::Item(sig)) = signature.get(label) else {
        return Err(HttpSigError::Malformed(
            "no Signature member for the signature's label",
        ));
    };
    let bytes = sig
        .bare_item
        .as_byte_sequence()
        .ok_or(HttpSigError::Malformed(
            "the Signature member is not a byte sequence",
        ))?;
    Ok(Parsed {
        label: label.as_str().to_owned(),
        covered,
        params,
        params_value,
        signature: bytes.to_vec(),
    })
}

impl Parsed {
    /// The signature's label.
    pub fn label(&self) -> &str {
        &self.label
    }
    /// The covered components.
    pub fn covered(&self) -> &Covered {
        &self.covered
    }
    /// The parameters as received.
    pub fn params(&self) -> &SignatureParams {
        &self.params
    }
    /// The key id, for the caller's key lookup.
    pub fn keyid(&self) -> Option<&str> {
        self.params.keyid.as_deref()
    }
    /// The nonce.
    pub fn nonce(&self) -> Option<&str> {
        self.params.nonce.as_deref()
    }
    /// `created`.
    pub fn created(&self) -> Option<i64> {
        self.params.created
    }
    /// `expires`.
    pub fn expires(&self) -> Option<i64> {
        self.params.expires
    }

    /// The stateless checks, in order, before any key lookup: required parameters
    /// (`created`, `expires`, `nonce`, `keyid`, `tag`), `alg` (if given) `ed25519`, `tag`
    /// [`HALLMARK_TAG`], nonce length, then time: `created < expires`,
    /// `expires - created ≤ max_window` (else `WindowTooLong`), `created ≤ now + skew`
    /// (else `NotYetValid`), `now ≤ expires + skew` (else `Expired`).
    pub fn check(&self, now: i64, policy: &Policy) -> Result<Checked, HttpSigError> {
        let p = &self.params;
        let created = p.created.ok_or(HttpSigError::MissingParameter("created"))?;
        let expires = p.expires.ok_or(HttpSigError::MissingParameter("expires"))?;
        let nonce = p
            .nonce
            .clone()
            .ok_or(HttpSigError::MissingParameter("nonce"))?;
        let keyid = p
            .keyid
            .clone()
            .ok_or(HttpSigError::MissingParameter("keyid"))?;
        let tag = p
            .tag
            .as_deref()
            .ok_or(HttpSigError::MissingParameter("tag"))?;
        if let Some(alg) = &p.alg {
            if alg != ALG_ED25519 {
                return Err(HttpSigError::UnsupportedAlgorithm(alg.clone()));
            }
        }
        if tag != HALLMARK_TAG {
            return Err(HttpSigError::WrongTag(tag.to_owned()));
        }
        if !NONCE_LEN.contains(&nonce.chars().count()) {
            return Err(HttpSigError::Malformed(
                "the nonce must be 16 to 128 characters",
            ));
        }
        if keyid.is_empty() {
            return Err(HttpSigError::Malformed("the keyid is empty"));
        }
        if expires <= created {
            return Err(HttpSigError::Malformed("expires must be after created"));
        }
        let window = expires - created;
        if window > policy.max_window {
            return Err(HttpSigError::WindowTooLong(window));
        }
        if created > now.saturating_add(policy.skew) {
            return Err(HttpSigError::NotYetValid);
        }
        if now > expires.saturating_add(policy.skew) {
            return Err(HttpSigError::Expired);
        }
        Ok(Checked {
            keyid,
            nonce,
            created,
            expires,
        })
    }

    /// Verifies the request with the reader's key: [`Parsed::check`], then the required
    /// components (`@method`; `@target-uri`, or `@authority` + `@path` + `@query`;
    /// `content-digest` when the request has a body), the signature base, the content
    /// digest (when there is a body or `content-digest` is covered), and `verify_strict`.
    pub fn verify(
        &self,
        parts: &RequestParts,
        key: &VerifyingKey,
        now: i64,
        policy: &Policy,
    ) -> Result<Verified, HttpSigError> {
        let checked = self.check(now, policy)?;
        let covered = &self.covered;
        if !covered.contains("@method") {
            return Err(HttpSigError::MissingComponent("@method".into()));
        }
        if !covered.contains("@target-uri") {
            for name in ["@authority", "@path", "@query"] {
                if !covered.contains(name) {
                    return Err(HttpSigError::MissingComponent("@target-uri".into()));
                }
            }
        }
        if parts.has_body() && !covered.contains("content-digest") {
            return Err(HttpSigError::MissingComponent("content-digest".into()));
        }
        let base = base_with(parts, covered, &self.params_value)?;
        if parts.has_body() || covered.contains("content-digest") {
            check_content_digest(parts)?;
        }
        self.verify_base(&base, key)?;
        Ok(Verified {
            label: self.label.clone(),
            keyid: checked.keyid,
            nonce: checked.nonce,
            created: checked.created,
            expires: checked.expires,
            remember_until: checked.expires.saturating_add(policy.skew),
        })
    }

    /// The signature alone, with no policy: the base of `parts` over the covered components
    /// and the received parameters, and `verify_strict`. Not an access decision (no time,
    /// parameter, component or digest checks); for tests and diagnostics.
    pub fn verify_signature_only(
        &self,
        parts: &RequestParts,
        key: &VerifyingKey,
    ) -> Result<(), HttpSigError> {
        let base = base_with(parts, &self.covered, &self.params_value)?;
        self.verify_base(&base, key)
    }

    fn verify_base(&self, base: &str, key: &VerifyingKey) -> Result<(), HttpSigError> {
        let sig = Signature::from_slice(&self.signature).map_err(|_| HttpSigError::BadSignature)?;
        key.verify_strict(base.as_bytes(), &sig)
            .map_err(|_| HttpSigError::BadSignature)
    }
}

/// Crockford's base32 alphabet (no I, L, O, U).
/// A reader key's short fingerprint, what an operator reads over the phone to confirm a
/// registration: [`crate::reader::fingerprint`] of the key's raw 32 bytes (the first 80
/// bits of its SHA-256 in Crockford base32, grouped 4-4-4-4, e.g. `7Q2M-1ZKD-W4XH-9B0C`).
pub fn fingerprint(key: &VerifyingKey) -> String {
    crate::reader::fingerprint(key.as_bytes())
}

#[cfg(test)]
mod tests;

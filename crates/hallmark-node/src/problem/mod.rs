//! RFC 9457 problem details: every error the node returns is `application/problem+json`.
//!
//! [`ApiError`] is the typed error of the HTTP layer; each variant maps to one status code and
//! one problem `type` (`urn:hallmark:problem:<slug>`). Bodies never carry secrets, key
//! material or internal error text: [`ApiError::Internal`] says only "internal error".

use crate::apikey::Scope;
use crate::plugins::PluginRef;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hallmark_core::input::InputRefusal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::error::Category;
use serde_json::{Map, Value};

mod from_service;
pub mod reader;
pub mod result;

/// Media type of problem details.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Prefix of every problem `type` URI.
pub const PROBLEM_TYPE_PREFIX: &str = "urn:hallmark:problem:";

/// `WWW-Authenticate` challenge sent with every 401.
pub const AUTH_CHALLENGE: &str = "Bearer realm=\"hallmark\"";

/// Something wrong with a submission, at a place in it (the `issues` of an
/// `invalid-passport` problem and of a validation report).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Issue {
    /// RFC 6901 JSON pointer (into the sector data for schema issues; empty or the envelope
    /// field for envelope refusals).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

impl From<hallmark_core::sector::ValidationIssue> for Issue {
    fn from(i: hallmark_core::sector::ValidationIssue) -> Self {
        let hallmark_core::sector::ValidationIssue { pointer, message } = i;
        Issue { pointer, message }
    }
}

/// The answer when a problem's member does not serialise (never expected: the members are
/// plain structures): logged, and a 500 rather than a member silently `null`.
fn unserialisable(e: serde_json::Error) -> Problem {
    tracing::error!(error = %e, "a problem member did not serialise");
    ApiError::Internal.problem()
}

/// An RFC 9457 problem details object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Problem {
    /// URI identifying the problem type (`urn:hallmark:problem:<slug>`).
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short, human-readable summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// Explanation specific to this occurrence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Extension members (e.g. `limit`, `max`, `required_scope`).
    #[serde(flatten)]
    pub extensions: Map<String, Value>,
}

impl Problem {
    /// A problem of type `urn:hallmark:problem:<slug>`.
    pub fn new(slug: &str, title: &str, status: StatusCode) -> Self {
        Problem {
            type_uri: format!("{PROBLEM_TYPE_PREFIX}{slug}"),
            title: title.to_string(),
            status: status.as_u16(),
            detail: None,
            extensions: Map::new(),
        }
    }

    /// Set `detail`.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Add an extension member.
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.extensions.insert(name.to_string(), value.into());
        self
    }

    /// Add an extension member serialised from a typed value; its error, not `null`, if it
    /// does not serialise.
    pub fn with_serialized<T: Serialize + ?Sized>(
        self,
        name: &str,
        value: &T,
    ) -> Result<Self, serde_json::Error> {
        Ok(self.with(name, serde_json::to_value(value)?))
    }

    /// The status code (500 if the stored number is not a valid status).
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let body = match serde_json::to_vec(&self) {
            Ok(b) => b,
            // Serialising a map of strings and numbers cannot fail; answer a fixed body anyway.
            Err(_) => {
                br#"{"type":"urn:hallmark:problem:internal","title":"Internal error","status":500}"#
                    .to_vec()
            }
        };
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response
    }
}

/// Which JSON structure limit a request body exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JsonLimitKind {
    /// Nesting depth of objects and arrays.
    Depth,
    /// Members of one object.
    KeysPerObject,
    /// Items of one array.
    ArrayItems,
    /// Bytes of one string (member names included), after unescaping.
    StringBytes,
}

impl JsonLimitKind {
    /// The setting name (as in `docs/configuration.md`, lower case without `HALLMARK_`).
    pub fn setting(self) -> &'static str {
        match self {
            JsonLimitKind::Depth => "max_json_depth",
            JsonLimitKind::KeysPerObject => "max_json_keys",
            JsonLimitKind::ArrayItems => "max_json_array_items",
            JsonLimitKind::StringBytes => "max_json_string_bytes",
        }
    }
}

/// Where a request parameter is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamLocation {
    /// The query string.
    Query,
    /// A path segment.
    Path,
}

impl ParamLocation {
    /// `query` or `path` (as in OpenAPI's `in`).
    pub fn as_str(self) -> &'static str {
        match self {
            ParamLocation::Query => "query",
            ParamLocation::Path => "path",
        }
    }
}

impl std::fmt::Display for ParamLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Errors of the HTTP layer, each mapped to a status code and a problem type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// Missing, malformed, unknown, revoked or expired credentials: one answer for all.
    #[error("authentication required")]
    Unauthorized,
    /// Authenticated, but the scope is too small.
    #[error("this operation needs the {required} scope")]
    Forbidden {
        /// The scope the route requires.
        required: Scope,
    },
    /// No such resource (or not visible to the caller).
    #[error("not found")]
    NotFound,
    /// The route exists but not for this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The resource is gone (e.g. a suspended passport), with the reason.
    #[error("gone: {reason}")]
    Gone {
        /// Why.
        reason: String,
    },
    /// The request conflicts with the resource's state.
    #[error("conflict: {detail}")]
    Conflict {
        /// Explanation.
        detail: String,
    },
    /// Another passport that is not deactivated has the same product identifier at the same
    /// granularity (refused by the database's unique index).
    #[error("the product identifier {identifier} is already used by {}", match existing {
        Some(id) => format!("passport {id}"),
        None => "a passport that is not deactivated".to_owned(),
    })]
    IdentifierInUse {
        /// The identifier (GS1 element string and granularity).
        identifier: String,
        /// The id (UUID) of the passport holding it, when known.
        existing: Option<String>,
    },
    /// The body is larger than `max_body_bytes` (`max_batch_body_bytes` on the batch
    /// route).
    #[error("request body larger than {max} bytes ({limit})")]
    BodyTooLarge {
        /// The configured limit.
        max: usize,
        /// The setting that holds it (`max_body_bytes` or `max_batch_body_bytes`).
        limit: &'static str,
    },
    /// The JSON body exceeds a structure limit.
    #[error("JSON body exceeds {}={max}", kind.setting())]
    JsonLimit {
        /// Which limit.
        kind: JsonLimitKind,
        /// The configured limit.
        max: usize,
    },
    /// The body is not valid JSON.
    #[error("malformed JSON: {detail}")]
    MalformedJson {
        /// Parser message (position and cause; never the body itself).
        detail: String,
    },
    /// A JSON body that breaks a strict input rule (`hallmark_core::input`): a duplicate
    /// member name or U+0000 (400), or a number that would not be signed as written (422).
    #[error("{0}")]
    InputRefused(InputRefusal),
    /// A query or path parameter that holds U+0000 (400).
    #[error("the {location} parameter {name:?} contains U+0000 (NUL), which is refused")]
    ForbiddenParameter {
        /// Where the parameter is.
        location: ParamLocation,
        /// Its name.
        name: String,
    },
    /// The passport has no AAS rendering: its sector has no mapping (406
    /// `aas-unsupported-sector`; `docs/aas.md`).
    #[error("no AAS rendering for sector {sector} {version}; only battery passports (BatteryPass 1.2.0) have one")]
    AasUnsupported {
        /// Sector id.
        sector: String,
        /// Sector schema version.
        version: String,
    },
    /// The EU registry's answers or an export were refused (docs/registry.md): 409
    /// `registry-hash-mismatch`, 409 `registry-conflict`, 409 `backup-link-not-configured`,
    /// 400 `invalid-registry-file`.
    #[error("{detail}")]
    Registry {
        /// Which refusal.
        problem: RegistryProblem,
        /// What was refused and why (names the hashes, versions, registration ids).
        detail: String,
    },
    /// A JSON body without `Content-Type: application/json`.
    #[error("unsupported media type; send application/json")]
    UnsupportedMediaType,
    /// The request is syntactically wrong in another way.
    #[error("bad request: {detail}")]
    BadRequest {
        /// Explanation.
        detail: String,
    },
    /// A GS1 Digital Link request path that is not one (syntax, check digit, character set),
    /// naming the element (400; a malformed URI is never a 404 or a 500).
    #[error("invalid GS1 Digital Link: {0}")]
    InvalidDigitalLink(hallmark_core::resolver::DigitalLinkError),
    /// An operator link that the resolver may not serve (422 `invalid-link`, naming the
    /// field: `identifier`, `linkType`, `href`, `title`, `type`, `hreflang`); nothing stored.
    #[error("invalid link: {0}")]
    InvalidLink(hallmark_core::resolver::ProductLinkError),
    /// A batch gives one external reference twice (422 `duplicate-external-ref`); nothing
    /// was done.
    #[error("the externalRef {external_ref:?} is given twice in one batch (items {} and {})", indexes.0, indexes.1)]
    DuplicateExternalRef {
        /// The reference.
        external_ref: String,
        /// The indexes of the two items.
        indexes: (usize, usize),
    },
    /// The JSON is well formed but does not fit the expected shape.
    #[error("unprocessable: {detail}")]
    Unprocessable {
        /// Explanation.
        detail: String,
    },
    /// Too many requests from this client or key.
    #[error("rate limit exceeded; retry after {retry_after_secs} s")]
    RateLimited {
        /// Seconds until a request will be accepted.
        retry_after_secs: u64,
    },
    /// Too many failed authentications from this client address.
    #[error("too many failed authentication attempts; retry after {retry_after_secs} s")]
    AuthThrottled {
        /// Seconds until authentication is accepted again.
        retry_after_secs: u64,
    },
    /// The request took longer than the configured timeout.
    #[error("request timed out")]
    Timeout,
    /// A dependency (database, HSM) is unavailable.
    #[error("service unavailable")]
    Unavailable,
    /// Signing is not possible right now (e.g. the HSM is unreachable); reads still work.
    #[error("signing unavailable: {detail}")]
    SigningUnavailable {
        /// Why (never secret: e.g. "HSM unavailable").
        detail: String,
    },
    /// The passport does not validate; one entry per issue.
    #[error("the passport is invalid ({} issue(s))", issues.len())]
    Invalid {
        /// `(JSON pointer, message)` pairs.
        issues: Vec<(String, String)>,
    },
    /// The sector plugin found errors (severity `error`); every finding is listed.
    #[error("the sector plugin {} {} found {} error(s)", plugin.name, plugin.version, findings.iter().filter(|f| f.severity == hallmark_sandbox::Severity::Error).count())]
    PluginRejected {
        /// Which plugin.
        plugin: PluginRef,
        /// All its findings (errors, warnings, info), pointers into the passport.
        findings: Vec<hallmark_sandbox::Finding>,
    },
    /// The sector plugin gave no verdict (trapped, ran out of fuel, passed its deadline or
    /// memory cap, answered too much or not ABI JSON); nothing was published.
    #[error("the sector plugin gave no verdict ({reason}): {detail}")]
    PluginFailed {
        /// The plugin, when one ran.
        plugin: Option<PluginRef>,
        /// Failure mode slug (`out-of-fuel`, `deadline`, `memory-limit`, `trap`, …).
        reason: &'static str,
        /// One line: what happened.
        detail: String,
    },
    /// A request for something this node does not do (EN 18222: `representation=full`
    /// on a write).
    #[error("not implemented: {detail}")]
    NotImplemented {
        /// What is not implemented, and what to do instead.
        detail: String,
    },
    /// A signed restricted read refused (`docs/access.md`, "Restricted reads"): 401 or
    /// 403, one problem type per refusal.
    #[error("{0}")]
    ReaderRefused(reader::ReaderRefusal),
    /// A bug or unexpected failure; details go to the log, never to the client.
    #[error("internal error")]
    Internal,
}

/// Which EU registry refusal an [`ApiError::Registry`] is (docs/registry.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryProblem {
    /// 409 `registry-hash-mismatch`: the registry's hash is not the version's.
    HashMismatch,
    /// 409 `registry-conflict`: recorded otherwise already.
    Conflict,
    /// 400 `invalid-registry-file`: not a record file, or a malformed answer.
    InvalidFile,
    /// 409 `backup-link-not-configured`.
    NoBackupLink,
}

impl ApiError {
    /// The HTTP status code.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Gone { .. } => StatusCode::GONE,
            ApiError::Conflict { .. } | ApiError::IdentifierInUse { .. } => StatusCode::CONFLICT,
            ApiError::BodyTooLarge { .. } | ApiError::JsonLimit { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ApiError::MalformedJson { .. }
            | ApiError::BadRequest { .. }
            | ApiError::ForbiddenParameter { .. }
            | ApiError::InvalidDigitalLink(_) => StatusCode::BAD_REQUEST,
            ApiError::InputRefused(InputRefusal::Number { .. }) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::InputRefused(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::AasUnsupported { .. } => StatusCode::NOT_ACCEPTABLE,
            ApiError::Registry {
                problem: RegistryProblem::InvalidFile,
                ..
            } => StatusCode::BAD_REQUEST,
            ApiError::Registry { .. } => StatusCode::CONFLICT,
            ApiError::Unprocessable { .. }
            | ApiError::InvalidLink(_)
            | ApiError::DuplicateExternalRef { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::RateLimited { .. } | ApiError::AuthThrottled { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::Timeout | ApiError::Unavailable | ApiError::SigningUnavailable { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Invalid { .. } | ApiError::PluginRejected { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::PluginFailed { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::NotImplemented { .. } => StatusCode::NOT_IMPLEMENTED,
            ApiError::ReaderRefused(r) => r.status(),
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The problem details body.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        match self {
            ApiError::Unauthorized => {
                Problem::new("unauthorized", "Authentication required", status)
                    .detail("send a valid API key as `Authorization: Bearer hmk_…`")
            }
            ApiError::Forbidden { required } => {
                Problem::new("forbidden", "Insufficient scope", status)
                    .detail(self.to_string())
                    .with("required_scope", required.as_str())
            }
            ApiError::NotFound => Problem::new("not-found", "Not found", status),
            ApiError::MethodNotAllowed => {
                Problem::new("method-not-allowed", "Method not allowed", status)
            }
            ApiError::Gone { reason } => Problem::new("gone", "Gone", status)
                .detail(reason.clone())
                .with("reason", reason.clone()),
            ApiError::Conflict { detail } => {
                Problem::new("conflict", "Conflict", status).detail(detail.clone())
            }
            ApiError::IdentifierInUse {
                identifier,
                existing,
            } => {
                let p = Problem::new("identifier-in-use", "Product identifier in use", status)
                    .detail(format!(
                        "{self}; a product has one live passport: update that passport (or \
                         deactivate it first to issue a successor)"
                    ))
                    .with("identifier", identifier.clone());
                match existing {
                    Some(id) => p.with("existing_passport", id.clone()),
                    None => p,
                }
            }
            ApiError::BodyTooLarge { max, limit } => {
                Problem::new("body-too-large", "Request body too large", status)
                    .detail(self.to_string())
                    .with("limit", *limit)
                    .with("max", *max)
            }
            ApiError::JsonLimit { kind, max } => {
                Problem::new("json-limit", "JSON structure limit exceeded", status)
                    .detail(self.to_string())
                    .with("limit", kind.setting())
                    .with("max", *max)
            }
            ApiError::MalformedJson { detail } => {
                Problem::new("malformed-json", "Malformed JSON", status).detail(detail.clone())
            }
            ApiError::InputRefused(refusal) => match refusal {
                InputRefusal::DuplicateMember { pointer } => {
                    Problem::new("duplicate-member", "Duplicate member name", status)
                        .detail(format!(
                            "the member at {pointer:?} appears twice in its object; \
                             duplicate member names are refused (I-JSON, RFC 7493)"
                        ))
                        .with("pointer", pointer.clone())
                }
                InputRefusal::Nul { pointer } => {
                    Problem::new("forbidden-character", "Forbidden character", status)
                        .detail(format!(
                            "the string at {pointer:?} contains U+0000 (NUL), which is refused"
                        ))
                        .with("pointer", pointer.clone())
                }
                InputRefusal::Number { pointer, reason } => {
                    Problem::new("inexact-number", "Number not signable as written", status)
                        .detail(format!("{pointer:?}: {reason}"))
                        .with("pointer", pointer.clone())
                        .with("reason", reason.slug())
                }
            },
            ApiError::ForbiddenParameter { location, name } => {
                Problem::new("forbidden-character", "Forbidden character", status)
                    .detail(self.to_string())
                    .with("parameter", name.clone())
                    .with("in", location.as_str())
            }
            ApiError::UnsupportedMediaType => {
                Problem::new("unsupported-media-type", "Unsupported media type", status)
                    .detail(self.to_string())
            }
            ApiError::AasUnsupported { sector, version } => {
                Problem::new("aas-unsupported-sector", "No AAS rendering", status)
                    .detail(self.to_string())
                    .with("sector", sector.clone())
                    .with("schemaVersion", version.clone())
            }
            ApiError::BadRequest { detail } => {
                Problem::new("bad-request", "Bad request", status).detail(detail.clone())
            }
            ApiError::Registry { problem, detail } => {
                let (slug, title) = match problem {
                    RegistryProblem::HashMismatch => (
                        "registry-hash-mismatch",
                        "Registry hash does not match the version",
                    ),
                    RegistryProblem::Conflict => (
                        "registry-conflict",
                        "Registration already recorded otherwise",
                    ),
                    RegistryProblem::InvalidFile => {
                        ("invalid-registry-file", "Invalid registry answers")
                    }
                    RegistryProblem::NoBackupLink => {
                        ("backup-link-not-configured", "No back-up link configured")
                    }
                };
                Problem::new(slug, title, status).detail(detail.clone())
            }
            ApiError::InvalidDigitalLink(e) => {
                Problem::new("invalid-digital-link", "Invalid GS1 Digital Link", status)
                    .detail(self.to_string())
                    .with("element", e.element.as_str())
                    .with("reason", e.reason.clone())
            }
            ApiError::Unprocessable { detail } => {
                Problem::new("unprocessable", "Unprocessable content", status)
                    .detail(detail.clone())
            }
            ApiError::DuplicateExternalRef {
                external_ref,
                indexes,
            } => Problem::new(
                "duplicate-external-ref",
                "External reference given twice",
                status,
            )
            .detail(self.to_string())
            .with("externalRef", external_ref.clone())
            .with("items", vec![indexes.0, indexes.1]),
            ApiError::InvalidLink(e) => Problem::new("invalid-link", "Invalid link", status)
                .detail(e.to_string())
                .with("field", e.field.as_str())
                .with("reason", e.reason.clone()),
            ApiError::RateLimited { retry_after_secs } => {
                Problem::new("rate-limited", "Too many requests", status)
                    .detail(self.to_string())
                    .with("retry_after", *retry_after_secs)
            }
            ApiError::AuthThrottled { retry_after_secs } => Problem::new(
                "auth-throttled",
                "Too many failed authentication attempts",
                status,
            )
            .detail(self.to_string())
            .with("retry_after", *retry_after_secs),
            ApiError::Timeout => Problem::new("timeout", "Request timed out", status),
            ApiError::Unavailable => Problem::new("unavailable", "Service unavailable", status),
            ApiError::NotImplemented { detail } => {
                Problem::new("not-implemented", "Not implemented", status).detail(detail.clone())
            }
            ApiError::SigningUnavailable { detail } => {
                Problem::new("signing-unavailable", "Signing unavailable", status)
                    .detail(detail.clone())
            }
            ApiError::Invalid { issues } => {
                let issues: Vec<Issue> = issues
                    .iter()
                    .map(|(pointer, message)| Issue {
                        pointer: pointer.clone(),
                        message: message.clone(),
                    })
                    .collect();
                Problem::new("invalid-passport", "Invalid passport", status)
                    .detail(self.to_string())
                    .with_serialized("issues", &issues)
                    .unwrap_or_else(unserialisable)
            }
            ApiError::PluginRejected { plugin, findings } => {
                Problem::new("plugin-findings", "Rejected by the sector plugin", status)
                    .detail(self.to_string())
                    .with_serialized("plugin", plugin)
                    .and_then(|p| p.with_serialized("findings", findings))
                    .unwrap_or_else(unserialisable)
            }
            ApiError::PluginFailed {
                plugin,
                reason,
                detail,
            } => {
                let p = Problem::new("plugin-failed", "Sector plugin failed", status)
                    .detail(format!(
                        "{detail}; nothing was published (the plugin gave no verdict)"
                    ))
                    .with("reason", *reason);
                match plugin {
                    Some(plugin) => p
                        .with_serialized("plugin", plugin)
                        .unwrap_or_else(unserialisable),
                    None => p,
                }
            }
            ApiError::ReaderRefused(r) => {
                Problem::new(r.slug(), r.title(), status).detail(r.to_string())
            }
            ApiError::Internal => Problem::new("internal", "Internal error", status),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.problem().into_response();
        let headers = response.headers_mut();
        match &self {
            ApiError::Unauthorized => {
                headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static(AUTH_CHALLENGE));
            }
            ApiError::RateLimited { retry_after_secs }
            | ApiError::AuthThrottled { retry_after_secs } => {
                headers.insert(RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            ApiError::Timeout => {
                headers.insert(RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        response
    }
}

/// A query string that does not fit the route's parameters: 400 with axum's explanation.
impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(e: axum::extract::rejection::QueryRejection) -> Self {
        ApiError::BadRequest {
            detail: e.body_text(),
        }
    }
}

impl From<hallmark_core::resolver::DigitalLinkError> for ApiError {
    fn from(e: hallmark_core::resolver::DigitalLinkError) -> Self {
        ApiError::InvalidDigitalLink(e)
    }
}

/// Request extension set by the edge's body guard ([`crate::edge::body`]) once a JSON body
/// passed the structure limits and the strict input rules.
#[derive(Debug, Clone, Copy)]
pub struct CheckedJson;

/// A JSON request body extractor whose rejections are problem+json [`ApiError`]s (axum's own
/// `Json` answers plain text). Handlers use this instead of `axum::Json`.
///
/// It accepts exactly the bodies the edge checked: the same JSON media types as the body
/// guard (else 415), and a non-empty body only with the guard's [`CheckedJson`] mark (a body
/// that reached a handler unchecked is a wiring bug: 500, logged). So every JSON body a
/// handler sees obeys the strict input rules — the one place they are applied is the edge.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !crate::edge::media::is_json(req.headers()) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let checked = req.extensions().get::<CheckedJson>().is_some();
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| ApiError::BadRequest {
                detail: "could not read the request body".into(),
            })?;
        if !checked && !bytes.is_empty() {
            tracing::error!("a JSON body reached a handler without the edge's input check");
            return Err(ApiError::Internal);
        }
        serde_json::from_slice(&bytes)
            .map(ApiJson)
            .map_err(|e| match e.classify() {
                Category::Data => ApiError::Unprocessable {
                    detail: format!("the JSON body does not fit this operation: {}", e),
                },
                Category::Io | Category::Syntax | Category::Eof => ApiError::MalformedJson {
                    detail: e.to_string(),
                },
            })
    }
}

/// Fallback for unknown routes: a problem+json 404.
pub async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// Fallback for a known route with the wrong method: a problem+json 405.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use hallmark_core::input::NumberRefusal;

    fn all() -> Vec<ApiError> {
        vec![
            ApiError::Unauthorized,
            ApiError::Forbidden {
                required: Scope::Admin,
            },
            ApiError::NotFound,
            ApiError::MethodNotAllowed,
            ApiError::Gone { reason: "r".into() },
            ApiError::Conflict { detail: "d".into() },
            ApiError::BodyTooLarge {
                max: 10,
                limit: "max_body_bytes",
            },
            ApiError::JsonLimit {
                kind: JsonLimitKind::Depth,
                max: 3,
            },
            ApiError::MalformedJson { detail: "x".into() },
            ApiError::InputRefused(InputRefusal::DuplicateMember {
                pointer: "/a".into(),
            }),
            ApiError::InputRefused(InputRefusal::Nul {
                pointer: "/a".into(),
            }),
            ApiError::InputRefused(InputRefusal::Number {
                pointer: "/a".into(),
                reason: NumberRefusal::Underflow,
            }),
            ApiError::ForbiddenParameter {
                location: ParamLocation::Query,
                name: "sector".into(),
            },
            ApiError::UnsupportedMediaType,
            ApiError::BadRequest { detail: "x".into() },
            ApiError::InvalidDigitalLink(hallmark_core::resolver::DigitalLinkError {
                element: hallmark_core::resolver::Element::Serial,
                reason: "r".into(),
            }),
            ApiError::Unprocessable { detail: "x".into() },
            ApiError::InvalidLink(hallmark_core::resolver::ProductLinkError {
                field: hallmark_core::resolver::LinkField::Href,
                reason: "r".into(),
            }),
            ApiError::RateLimited {
                retry_after_secs: 2,
            },
            ApiError::AuthThrottled {
                retry_after_secs: 60,
            },
            ApiError::Timeout,
            ApiError::Unavailable,
            ApiError::NotImplemented { detail: "x".into() },
            ApiError::ReaderRefused(reader::ReaderRefusal::OutOfScope),
            ApiError::SigningUnavailable {
                detail: "HSM unavailable".into(),
            },
            ApiError::Invalid {
                issues: vec![("/data".into(), "x".into())],
            },
            ApiError::PluginRejected {
                plugin: plugin(),
                findings: vec![hallmark_sandbox::Finding {
                    pointer: "/data/x".into(),
                    severity: hallmark_sandbox::Severity::Error,
                    message: "m".into(),
                }],
            },
            ApiError::PluginFailed {
                plugin: Some(plugin()),
                reason: "out-of-fuel",
                detail: "d".into(),
            },
            ApiError::Internal,
        ]
    }

    fn plugin() -> PluginRef {
        PluginRef {
            name: "p".into(),
            version: "1.0.0".into(),
            sha256: "00".into(),
        }
    }

    #[test]
    fn every_error_is_problem_json_with_matching_status() {
        for e in all() {
            let p = e.problem();
            assert_eq!(p.status, e.status().as_u16(), "{e:?}");
            assert!(p.type_uri.starts_with(PROBLEM_TYPE_PREFIX));
            let r = e.clone().into_response();
            assert_eq!(r.status(), e.status());
            assert_eq!(r.headers()[CONTENT_TYPE], PROBLEM_JSON);
        }
    }

    #[test]
    fn retry_after_and_challenge_headers() {
        let r = ApiError::RateLimited {
            retry_after_secs: 7,
        }
        .into_response();
        assert_eq!(r.headers()[RETRY_AFTER], "7");
        let r = ApiError::Unauthorized.into_response();
        assert_eq!(r.headers()[WWW_AUTHENTICATE], AUTH_CHALLENGE);
    }

    #[test]
    fn json_limit_names_the_setting() {
        let p = ApiError::JsonLimit {
            kind: JsonLimitKind::StringBytes,
            max: 5,
        }
        .problem();
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["limit"], "max_json_string_bytes");
        assert_eq!(v["max"], 5);
        assert_eq!(v["type"], "urn:hallmark:problem:json-limit");
        assert_eq!(v["status"], 413);
    }

    #[test]
    fn internal_error_reveals_nothing() {
        let v = serde_json::to_value(ApiError::Internal.problem()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"type":"urn:hallmark:problem:internal","title":"Internal error","status":500})
        );
    }
}

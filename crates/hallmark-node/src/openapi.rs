//! OpenAPI 3.1 documents for both listeners, generated from the same route tables that the
//! routers and the scope-matrix tests use (so a route cannot exist undocumented). The admin
//! document carries every route's request and response schemas, derived from the types the
//! handlers read and write ([`crate::api`]); errors reference the `Problem` schema, derived
//! from [`crate::problem::Problem`].
//!
//! The documents are built once at start-up ([`documents`], called by
//! `crate::node::routers`) and handed to the routers as [`Document`]s: this module reads the
//! route tables of [`crate::routes`], which never call back into it. The document itself is
//! typed ([`OpenApi`], [`PathOperation`], …); only the JSON Schemas inside it are values (from
//! `schemars`).

use crate::api::example;
use crate::api::operations::{NameClash, Operation, Schemas};
use crate::routes::{admin, public, resolver, Document};
use hallmark_core::issue::Issuer;
use hallmark_core::sector::SectorRegistry;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

fn summary(method: &str, path: &str) -> &'static str {
    if let Some(s) = log_route(path).map(|(_, s)| s) {
        return s;
    }
    if let Some((_, s)) = crate::routes::status::paths("")
        .into_iter()
        .find(|(p, _)| path.ends_with(p.as_str()))
    {
        return s;
    }
    if let Some(s) = resolver::summary(method, path) {
        return s;
    }
    let tail = path.trim_start_matches("/api/v1");
    match (method, tail) {
        ("GET", "/whoami") => "Who am I: the authenticated principal and its scope",
        ("GET", "/passports") => "List passports (filters: status, sector, gtin; cursor: after, limit)",
        ("POST", "/passports") => "Create a draft passport (envelope validated; sector issues reported)",
        ("POST", "/passports/validate") => "Validate a passport submission (dry run)",
        ("GET", "/passports/{id}") => "Read one passport: record, pending draft, current version (all tiers)",
        ("PUT", "/passports/{id}/draft") => "Replace the pending draft",
        ("POST", "/passports/{id}/publish") => "Validate, sign (every audience, both forms) and publish the pending draft",
        ("POST", "/passports/{id}/versions") => "Start a new version of a published passport",
        ("POST", "/passports/{id}/suspend") => "Suspend (reason required); the public URL answers 410",
        ("POST", "/passports/{id}/resume") => "Resume a suspended passport",
        ("POST", "/passports/{id}/archive") => "Archive (terminal; still served with its status)",
        ("POST", "/passports/{id}/deactivate") => "Deactivate (terminal, reason required; still served with its status)",
        ("GET", "/passports/{id}/history") => "The passport's audit events",
        ("GET", "/passports/{id}/aas") => "The current version as an AAS V3.0 Environment for one audience (query: audience=public|legitimateInterest|authority, default authority; 406 aas-unsupported-sector for sectors without a mapping; docs/aas.md)",
        ("GET", "/passports/{id}/registrations") => "The passport's recorded EU DPP registry registrations, with their proofs (docs/registry.md)",
        ("GET", "/registry/export") => "EU DPP registry export: one file (≤ limit ≤ 100 entries) of the published versions not yet registered, the passports skipped with their reasons, and the next cursor (query: limit, after, exportId, part; 409 backup-link-not-configured; docs/registry.md)",
        ("POST", "/registry/registrations") => "Record the EU DPP registry's answers (a registry-record file): every answer is checked before any is recorded (409 registry-hash-mismatch, 409 registry-conflict, 400 invalid-registry-file); audited (public)",
        ("GET", "/labels") => "Labels of published passports: GS1 Digital Link URI and element string (filters: gtin, lot; cursor: after, limit)",
        ("GET", "/links") => "The operator's links of a GTIN (query: gtin, required; lot, serial; removed=true for removed ones too)",
        ("POST", "/links") => "Attach a link to a product identifier (model, batch or item level), served in the resolver's linkset; audited (public)",
        ("DELETE", "/links/{id}") => "Remove a link for good (reason required; 409 when already removed); audited (public)",
        ("GET", "/readers") => "Readers (query: status=registered|approved|suspended|revoked; cursor: after, limit 1-200); organisation and contact included (docs/access.md)",
        ("GET", "/readers/{id}") => "One reader: key, fingerprint, organisation, contact, purpose, status, grant",
        ("POST", "/readers/{id}/approve") => "Approve a registered reader, or grant an approved one anew: tier, scope, expiry (≤ 3 years; 409 for a suspended or revoked reader); audited (public)",
        ("POST", "/readers/{id}/suspend") => "Suspend an approved reader at once (reason required; 409 otherwise); audited (public, the reason as SHA-256)",
        ("POST", "/readers/{id}/resume") => "Resume a suspended reader under its grant (409 otherwise); audited (public)",
        ("GET", "/webhooks") => "Webhook subscriptions, oldest first (never their secrets; docs/events.md)",
        ("POST", "/webhooks") => "Subscribe a URL to event types: the answer carries the Standard Webhooks signing secret, shown once (derived, not stored); https to an allowed host only (HALLMARK_WEBHOOK_ALLOWED_HOSTS); audited",
        ("GET", "/webhooks/{id}") => "One webhook subscription: URL, types, status, cursor, consecutive failures, next attempt",
        ("GET", "/webhooks/{id}/deliveries") => "A subscription's delivery log, newest first (cursor: before, limit 1-200): each attempt's time, status code, error, duration",
        ("POST", "/webhooks/{id}/disable") => "Disable a subscription (reason required; 409 when disabled already); audited",
        ("POST", "/webhooks/{id}/enable") => "Enable a disabled subscription: deliveries resume from its cursor, failures reset (409 when active); audited",
        ("POST", "/readers/{id}/revoke") => "Revoke a reader for good (reason required; 409 when already revoked); audited (public, the reason as SHA-256)",
        ("GET", "/api-keys") => "List API keys (never the secret)",
        ("POST", "/api-keys") => "Create an API key (the key is shown once)",
        ("POST", "/api-keys/{id}/revoke") => "Revoke an API key (a key cannot revoke itself: 409)",
        ("GET", "/signing-keys") => "List signing keys",
        ("POST", "/signing-keys/rotate") => "Rotate the passport-signing key (old key stays in the DID document as retired)",
        ("POST", "/signing-keys/{id}/revoke") => "Revoke a signing key (leaves the DID document)",
        ("GET", "/openapi.json") => "This document",
        ("GET", "/health") => "Health (liveness): database, signing and transparency-log signer status, integrity alarms (docs/operations.md)",
        ("GET", "/ready") => "Readiness: 200 when the store answers, key custody can sign and the transparency log is not refused, else 503; {ready, checks: {store, signing, log}} (docs/operations.md)",
        ("GET", "/metrics") => "Prometheus metrics, text exposition format 0.0.4 (text/plain; version=0.0.4): requests by route and status, publishes, plugin verdicts, signing, transparency log, caches, database pool, readiness (docs/operations.md)",
        _ if path.ends_with("did.json") => "The node's did:web DID document (current and retired keys)",
        ("GET", p) if p.ends_with("/qr.svg") => {
            "The passport's GS1 Digital Link URI as a QR code, SVG sized in mm (ec: L|M|Q|H, default M; x: module size 0.396-0.990 mm, default 0.5)"
        }
        ("GET", p) if p.ends_with("/qr.png") => {
            "The passport's GS1 Digital Link URI as a QR code, 1-bit PNG with its resolution (ec; x; dpi: 72-1200, default 600)"
        }
        ("POST", "/credentials/issue") => "VC API issueCredential, passports only: the credential's subject (a passport submission; issuer absent or this node) published as a new passport through the publish path; 201 {verifiableCredential}; anything else 400/422 with nothing written (docs/verify.md)",
        ("POST", p) if p.ends_with("/credentials/verify") => {
            "VC API verifyCredential: any eddsa-jcs-2022 or vc+jwt credential, its keys resolved by did:key, this node's DID or did:web from allowed hosts (HALLMARK_VERIFY_DID_WEB_ALLOWED_HOSTS); 200 when verified, 400 with the result when not (body ≤ 256 KiB; docs/verify.md)"
        }
        ("POST", p) if p.ends_with("/presentations/verify") => {
            "VC API verifyPresentation: an eddsa-jcs-2022 presentation (options challenge, domain): the holder's proof, holder binding and every credential in it (embedded or enveloped vc+jwt); 200 when all verified, 400 with the result when not (docs/verify.md)"
        }
        ("GET", p) if p.ends_with("/verify") => {
            "The verification page for people: paste or upload a credential to check it (HTML)"
        }
        ("POST", p) if p.ends_with("/verify") => {
            "The verification page's form (multipart/form-data, fields credential and file; or application/x-www-form-urlencoded, field credential): the report as HTML"
        }
        ("POST", p) if p.ends_with("/readers") => {
            "Register as a reader (anonymous; inert until the operator approves it out of band, reading the key fingerprint): 201 {id, fingerprint, status: registered}; 409 for a key already registered, 422 for bad input (docs/access.md)"
        }
        ("GET", p) if p.ends_with("/readers/me") => {
            "A reader's own registration (signed, RFC 9421, any status): id, status, fingerprint, purpose, encryptionKey, grant, admitted, reason; private, no-store; 401 problem types for a signature that does not hold (docs/access.md)"
        }
        ("GET", p) if p.ends_with("/passports/{id}/registrations") => {
            "The passport's EU DPP registry registrations: registration id, version, the registered SHA-256 of the version's public credential, the proof's SHA-256, time and log index (docs/registry.md)"
        }
        ("GET", p) if p.ends_with("/passports/{id}/aas") => {
            "The current version's public AAS V3.0 Environment, built from the verified public credential (battery only: 406 aas-unsupported-sector otherwise; docs/aas.md)"
        }
        ("GET", p) if p.ends_with("/versions/{version}") => {
            "A published version's public credential, exactly as signed (immutable); Accept: text/html for the consumer page. Signed by an approved reader (RFC 9421, docs/access.md#restricted-reads): its grant's tier (Accept: application/jose for a JWE sealed to its X25519 key), private, no-store; 401/403/406 problem types per refusal"
        }
        ("GET", p) if p.ends_with("/passports/{id}") => {
            "The current published version's public credential (Accept: application/vc+jwt for the JWT form, application/aas+json for the AAS Environment, text/html for the consumer page). Signed by an approved reader (RFC 9421, docs/access.md#restricted-reads): its grant's tier (Accept: application/jose for a JWE sealed to its X25519 key), private, no-store; 401/403/406 problem types per refusal"
        }
        _ => "",
    }
}

/// The transparency-log route this path is (its path under the base, and its summary).
fn log_route(path: &str) -> Option<(String, &'static str)> {
    crate::routes::log::paths("")
        .into_iter()
        .find(|(p, _)| path.ends_with(p.as_str()))
}

/// An OpenAPI 3.1 document (the members Hallmark writes).
#[derive(Debug, Clone, Serialize)]
pub struct OpenApi {
    /// `3.1.0`.
    pub openapi: &'static str,
    /// Title and version.
    pub info: Info,
    /// Operations by path, then by lower-case method.
    pub paths: BTreeMap<String, BTreeMap<String, PathOperation>>,
    /// Schemas, security schemes, examples.
    pub components: Components,
}

/// The document's `info`.
#[derive(Debug, Clone, Serialize)]
pub struct Info {
    /// The API's name.
    pub title: &'static str,
    /// The node's version.
    pub version: &'static str,
}

/// The document's `components`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Components {
    /// JSON Schemas by name (`#/components/schemas/<Name>`).
    pub schemas: Map<String, Value>,
    /// How the admin API authenticates (absent from the public document).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_schemes: Option<SecuritySchemes>,
    /// Example bodies (the admin document's battery draft).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub examples: Option<Examples>,
}

/// The admin API's two ways in.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecuritySchemes {
    /// A `hmk_` API key as a bearer token.
    pub bearer: HttpScheme,
    /// The admin login from the environment (HTTP Basic).
    pub admin_login: HttpScheme,
}

/// An HTTP authentication scheme.
#[derive(Debug, Clone, Serialize)]
pub struct HttpScheme {
    /// `http`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `bearer` or `basic`.
    pub scheme: &'static str,
    /// What to send.
    pub description: &'static str,
}

/// The document's example bodies.
#[derive(Debug, Clone, Serialize)]
pub struct Examples {
    /// An item-level battery passport submission.
    #[serde(rename = "BatteryDraft")]
    pub battery_draft: Example,
}

/// One example body.
#[derive(Debug, Clone, Serialize)]
pub struct Example {
    /// What it is.
    pub summary: &'static str,
    /// The body.
    pub value: Value,
}

/// One operation (a method on a path).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PathOperation {
    /// One line: what it does.
    pub summary: &'static str,
    /// Path and query parameters.
    pub parameters: Vec<Parameter>,
    /// The JSON body it reads, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_body: Option<RequestBody>,
    /// Answers by status (`default`: the problem).
    pub responses: BTreeMap<String, ResponseDoc>,
    /// The API-key scope an admin route requires.
    #[serde(rename = "x-required-scope", skip_serializing_if = "Option::is_none")]
    pub required_scope: Option<&'static str>,
    /// Either admin scheme (absent on the public listener).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security: Option<Vec<BTreeMap<&'static str, [&'static str; 0]>>>,
    /// Where the operation is specified (the EN 18222 operations: their schemas are the
    /// spec's, not copied here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_docs: Option<ExternalDocs>,
}

/// An `externalDocs` object.
#[derive(Debug, Clone, Serialize)]
pub struct ExternalDocs {
    /// What is there.
    pub description: &'static str,
    /// Where.
    pub url: &'static str,
}

/// The EN 18222 DPP API specification the `/v1` operations follow.
pub const EN18222_DOCS: ExternalDocs = ExternalDocs {
    description: "EN 18222 DPP API (OpenAPI 3.0.3, shared/specs/en18222-dpp-api.openapi.yaml); \
                  request and answer schemas are the spec's; errors are its `Result`; \
                  deviations in docs/en18222.md",
    // The workspace's `repository` (Cargo.toml), wherever it is published.
    url: concat!(env!("CARGO_PKG_REPOSITORY"), "/blob/main/docs/en18222.md"),
};

/// The EN 18222 operations as documented on a listener: `prefix` is the path before
/// `/v1` (the public base path, or `""` on the admin listener); `scope` the admin scope.
fn en18222_operations(
    paths: &mut BTreeMap<String, BTreeMap<String, PathOperation>>,
    prefix: &str,
    admin: bool,
) {
    for (method, path, scope) in crate::routes::dpp::V1_ROUTES {
        let mut parameters: Vec<Parameter> = ["dppId", "productId", "elementIdPath"]
            .into_iter()
            .filter(|name| path.contains(&format!("{{{name}}}")))
            .map(|name| Parameter {
                name,
                location: "path",
                required: true,
                schema: ParameterSchema::STRING,
            })
            .collect();
        let query: &[(&'static str, bool)] = match *path {
            "/v1/dppsByProductIds" => &[("limit", false), ("cursor", false)],
            "/v1/dppsByIdAndDate/{dppId}" => &[("date", true), ("representation", false)],
            _ if *method == "DELETE" => &[],
            _ if *method != "GET" => &[("representation", false), ("publish", false)],
            _ => &[("representation", false)],
        };
        parameters.extend(query.iter().map(|(name, required)| Parameter {
            name,
            location: "query",
            required: *required,
            schema: ParameterSchema::STRING,
        }));
        let summary = match (*method, *path) {
            ("GET", "/v1/dpps/{dppId}") => "EN 18222 readDPPById",
            ("GET", "/v1/dppsByIdAndDate/{dppId}") => "EN 18222 readDPPVersionByIdAndDate",
            ("GET", "/v1/dppsByProductId/{productId}") => "EN 18222 readDPPByProductId",
            ("POST", "/v1/dppsByProductIds") => "EN 18222 readDPPIdsByProductIds",
            ("POST", "/v1/dpps") => {
                "EN 18222 createDPP (admin listener only; the public listener answers 401)"
            }
            ("PATCH", "/v1/dpps/{dppId}") => {
                "EN 18222 updateDPPById (admin listener only; the public listener answers 401)"
            }
            ("DELETE", "/v1/dpps/{dppId}") => {
                "EN 18222 deleteDPPById: deactivates (admin listener only; the public \
                 listener answers 401)"
            }
            ("PATCH", _) => {
                "EN 18222 updateDataElement (admin listener only; the public listener answers 401)"
            }
            _ => "EN 18222 readDataElement",
        };
        let op = PathOperation {
            summary,
            parameters,
            request_body: None,
            responses: BTreeMap::from([(
                match (*method, *path) {
                    ("POST", "/v1/dpps") => "201",
                    ("DELETE", _) => "204",
                    _ => "200",
                }
                .into(),
                ResponseDoc {
                    description: "Success: the schema of the EN 18222 specification (externalDocs)",
                    content: None,
                },
            )]),
            required_scope: admin.then(|| scope.as_str()),
            security: admin.then(|| {
                vec![
                    BTreeMap::from([("bearer", [])]),
                    BTreeMap::from([("adminLogin", [])]),
                ]
            }),
            external_docs: Some(EN18222_DOCS),
        };
        paths
            .entry(format!("{prefix}{path}"))
            .or_default()
            .insert(method.to_ascii_lowercase(), op);
    }
}

/// A path or query parameter.
#[derive(Debug, Clone, Serialize)]
pub struct Parameter {
    /// Its name.
    pub name: &'static str,
    /// `path` or `query`.
    #[serde(rename = "in")]
    pub location: &'static str,
    /// Whether it must be given.
    pub required: bool,
    /// Its value.
    pub schema: ParameterSchema,
}

/// The value of a parameter.
#[derive(Debug, Clone, Serialize)]
pub struct ParameterSchema {
    /// `string`, `integer` or `boolean`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The least integer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum: Option<u64>,
    /// What it holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'static str>,
}

impl ParameterSchema {
    const STRING: Self = ParameterSchema {
        kind: "string",
        minimum: None,
        description: None,
    };
    const COUNT: Self = ParameterSchema {
        kind: "integer",
        minimum: Some(0),
        description: None,
    };
    const BOOLEAN: Self = ParameterSchema {
        kind: "boolean",
        minimum: None,
        description: None,
    };
    const LEAF_HASH: Self = ParameterSchema {
        kind: "string",
        minimum: None,
        description: Some("leaf hash, base64 or hex"),
    };
}

/// A request body.
#[derive(Debug, Clone, Serialize)]
pub struct RequestBody {
    /// Always `true` (the routes that read a body refuse none).
    pub required: bool,
    /// By media type (`application/json`).
    pub content: BTreeMap<&'static str, Media>,
}

/// One answer.
#[derive(Debug, Clone, Serialize)]
pub struct ResponseDoc {
    /// What it means.
    pub description: &'static str,
    /// Its body by media type (absent where a route's body is not described).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<BTreeMap<&'static str, Media>>,
}

/// A body of one media type.
#[derive(Debug, Clone, Serialize)]
pub struct Media {
    /// Its schema (a reference or an inline JSON Schema).
    pub schema: Value,
    /// Named examples.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub examples: Option<BTreeMap<&'static str, Ref>>,
}

/// A `$ref` to a component.
#[derive(Debug, Clone, Serialize)]
pub struct Ref {
    /// `#/components/…`.
    #[serde(rename = "$ref")]
    pub target: &'static str,
}

/// The schema of an RFC 9457 problem, by reference.
const PROBLEM_REF: Ref = Ref {
    target: "#/components/schemas/Problem",
};

fn params(path: &str) -> Vec<Parameter> {
    let mut out = Vec::new();
    for name in ["id", "version", "index", "gtin", "lot", "serial"] {
        if path.contains(&format!("{{{name}}}")) {
            out.push(Parameter {
                name,
                location: "path",
                required: true,
                schema: ParameterSchema::STRING,
            });
        }
    }
    let query: &[(&'static str, bool)] = match log_route(path).map(|(p, _)| p).as_deref() {
        Some("/log/entries") => &[("start", true), ("end", true)],
        Some("/log/proof/inclusion") => &[("index", false), ("hash", false), ("size", false)],
        Some("/log/proof/consistency") => &[("old", true), ("new", false)],
        _ if path.ends_with("/qr.svg") => &[("ec", false), ("x", false)],
        _ if path.ends_with("/qr.png") => &[("ec", false), ("x", false), ("dpi", false)],
        _ if path == "/api/v1/passports/{id}/aas" => &[("audience", false)],
        _ if path == "/api/v1/webhooks/{id}/deliveries" => &[("before", false), ("limit", false)],
        _ if path == "/api/v1/links" => &[
            ("gtin", true),
            ("lot", false),
            ("serial", false),
            ("removed", false),
        ],
        _ => &[],
    };
    for (name, required) in query {
        out.push(Parameter {
            name,
            location: "query",
            required: *required,
            schema: if *name == "hash" {
                ParameterSchema::LEAF_HASH
            } else if matches!(*name, "ec" | "x" | "gtin" | "lot" | "serial" | "audience") {
                ParameterSchema::STRING
            } else if *name == "removed" {
                ParameterSchema::BOOLEAN
            } else {
                ParameterSchema::COUNT
            },
        });
    }
    out
}

/// `application/json` with this schema.
fn json_media(
    schema: Value,
    examples: Option<BTreeMap<&'static str, Ref>>,
) -> BTreeMap<&'static str, Media> {
    BTreeMap::from([("application/json", Media { schema, examples })])
}

fn problem_response() -> ResponseDoc {
    ResponseDoc {
        description: "An RFC 9457 problem",
        content: Some(BTreeMap::from([(
            crate::problem::PROBLEM_JSON,
            Media {
                schema: reference(&PROBLEM_REF),
                examples: None,
            },
        )])),
    }
}

/// A reference as a schema value.
fn reference(r: &Ref) -> Value {
    let mut m = Map::new();
    m.insert("$ref".into(), Value::from(r.target));
    Value::Object(m)
}

/// Why a document could not be built (a bug: a unit test builds both).
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// Two schemas share a component name.
    #[error(transparent)]
    Clash(#[from] NameClash),
    /// The embedded example draft does not parse.
    #[error("the example battery draft: {0}")]
    Example(#[from] serde_json::Error),
    /// The document does not serialise (never expected: its types are maps, strings and
    /// numbers).
    #[error("the OpenAPI document does not serialise: {0}")]
    Json(#[source] serde_json::Error),
}

/// An operation's request body and success answer, from [`crate::api::operations`].
fn bodies(op: &mut PathOperation, bodies: Operation) {
    if let Some(schema) = bodies.request {
        let examples = bodies.submission.then(|| {
            BTreeMap::from([(
                "battery",
                Ref {
                    target: "#/components/examples/BatteryDraft",
                },
            )])
        });
        op.request_body = Some(RequestBody {
            required: true,
            content: json_media(schema, examples),
        });
    }
    let description = if bodies.status == 201 {
        "Created"
    } else {
        "Success"
    };
    op.responses = BTreeMap::from([
        (
            bodies.status.to_string(),
            ResponseDoc {
                description,
                content: Some(json_media(bodies.response, None)),
            },
        ),
        ("default".into(), problem_response()),
    ]);
}

/// A document of `routes`; admin routes (with a scope) get their bodies from `schemas`.
fn document(
    title: &'static str,
    routes: &[(String, String, Option<&'static str>)],
    schemas: &mut Schemas,
) -> OpenApi {
    let mut paths: BTreeMap<String, BTreeMap<String, PathOperation>> = BTreeMap::new();
    let mut secured = false;
    for (method, path, scope) in routes {
        let mut op = PathOperation {
            summary: summary(method, path),
            parameters: params(path),
            request_body: None,
            responses: BTreeMap::from([
                (
                    "200".into(),
                    ResponseDoc {
                        description: "Success",
                        content: None,
                    },
                ),
                ("default".into(), problem_response()),
            ]),
            required_scope: None,
            security: None,
            external_docs: None,
        };
        if let Some(scope) = scope {
            secured = true;
            op.required_scope = Some(scope);
            op.security = Some(vec![
                BTreeMap::from([("bearer", [])]),
                BTreeMap::from([("adminLogin", [])]),
            ]);
            if let Some(b) = schemas.operation(method, path) {
                bodies(&mut op, b);
            }
        } else if let Some(b) = schemas.public_operation(method, path) {
            bodies(&mut op, b);
        }
        paths
            .entry(path.clone())
            .or_default()
            .insert(method.to_ascii_lowercase(), op);
    }
    schemas.problem();
    OpenApi {
        openapi: "3.1.0",
        info: Info {
            title,
            version: env!("CARGO_PKG_VERSION"),
        },
        paths,
        components: Components {
            schemas: Map::new(),
            security_schemes: secured.then_some(SecuritySchemes {
                bearer: HttpScheme {
                    kind: "http",
                    scheme: "bearer",
                    description: "hmk_<r|w|a>_… API key",
                },
                admin_login: HttpScheme {
                    kind: "http",
                    scheme: "basic",
                    description: "Admin login from the environment (first setup and recovery)",
                },
            }),
            examples: None,
        },
    }
}

/// The public listener's document, for a node issuing as `issuer`.
pub fn public_document(issuer: &Issuer) -> Result<OpenApi, DocumentError> {
    let base = public::base_path(&issuer.base_url);
    let routes: Vec<_> = public::route_table_for(issuer)
        .into_iter()
        .chain(
            crate::routes::status::paths(&base)
                .into_iter()
                .map(|(p, _)| ("GET", p)),
        )
        .chain(resolver::route_table(&base))
        .map(|(m, p)| (m.to_string(), p, None))
        .collect();
    let mut schemas = Schemas::new();
    let mut doc = document("Hallmark public API", &routes, &mut schemas);
    en18222_operations(&mut doc.paths, &base, false);
    doc.components.schemas = schemas.into_components()?;
    Ok(doc)
}

/// The admin listener's operational routes (`routes::ops::ADMIN_ROUTES`): `/metrics`
/// answers the Prometheus text format, not JSON.
fn ops_operations(paths: &mut BTreeMap<String, BTreeMap<String, PathOperation>>) {
    for (method, path, scope) in crate::routes::ops::ADMIN_ROUTES {
        let mut text = Map::new();
        text.insert("type".into(), Value::from("string"));
        let op = PathOperation {
            summary: summary(method, path),
            parameters: Vec::new(),
            request_body: None,
            responses: BTreeMap::from([
                (
                    "200".into(),
                    ResponseDoc {
                        description: "The metrics (Prometheus text format 0.0.4)",
                        content: Some(BTreeMap::from([(
                            "text/plain",
                            Media {
                                schema: Value::Object(text),
                                examples: None,
                            },
                        )])),
                    },
                ),
                ("default".into(), problem_response()),
            ]),
            required_scope: Some(scope.as_str()),
            security: Some(vec![
                BTreeMap::from([("bearer", [])]),
                BTreeMap::from([("adminLogin", [])]),
            ]),
            external_docs: None,
        };
        paths
            .entry(path.to_string())
            .or_default()
            .insert(method.to_ascii_lowercase(), op);
    }
}

/// A sector the admin document names as validated by this node (`x-hallmark-sectors`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SectorEntry {
    /// Sector id (`battery`, …).
    pub id: String,
    /// Its schema version.
    pub schema_version: String,
    /// Its title.
    pub title: String,
}

/// The admin listener's document for a node with these sectors: every route's request and
/// response schemas (`components.schemas`, derived from [`crate::api`]'s types), the example
/// battery draft (`components.examples.BatteryDraft`) and, on the submission's `data`, the
/// sectors this node validates (`x-hallmark-sectors`).
pub fn admin_document_for(registry: &SectorRegistry) -> Result<OpenApi, DocumentError> {
    let routes: Vec<_> = admin::ROUTES
        .iter()
        .map(|(m, p, s)| (m.to_string(), p.to_string(), Some(s.as_str())))
        .collect();
    let mut schemas = Schemas::new();
    let mut doc = document("Hallmark admin API", &routes, &mut schemas);
    en18222_operations(&mut doc.paths, "", true);
    ops_operations(&mut doc.paths);
    let mut components = schemas.into_components()?;
    let sectors: Vec<SectorEntry> = registry
        .iter()
        .map(|s| SectorEntry {
            id: s.id().to_string(),
            schema_version: s.version().to_string(),
            title: s.title().to_string(),
        })
        .collect();
    if let Some(Value::Object(data)) = components
        .get_mut("PassportSubmission")
        .and_then(|s| s.pointer_mut("/properties/data"))
    {
        let sectors = serde_json::to_value(sectors).map_err(DocumentError::Json)?;
        data.insert("x-hallmark-sectors".into(), sectors);
    }
    doc.components.schemas = components;
    doc.components.examples = Some(Examples {
        battery_draft: Example {
            summary: "An item-level battery passport (the demo's BatteryPass 1.2.0 data)",
            value: example::battery_draft()?,
        },
    });
    Ok(doc)
}

/// Both listeners' documents, built once (at start-up) and served as they are.
#[derive(Debug, Clone)]
pub struct Documents {
    /// The public listener's `/openapi.json`.
    pub public: Document,
    /// The admin listener's `/openapi.json`.
    pub admin: Document,
}

/// The documents of a node issuing as `issuer` with these sectors. Each is written as the
/// JSON of a `serde_json::Value` (members in sorted order), the bytes the node served when
/// it built them per request.
pub fn documents(issuer: &Issuer, registry: &SectorRegistry) -> Result<Documents, DocumentError> {
    let bytes = |doc: OpenApi| -> Result<Document, DocumentError> {
        let value = serde_json::to_value(doc).map_err(DocumentError::Json)?;
        let bytes = serde_json::to_vec(&value).map_err(DocumentError::Json)?;
        Ok(Document::from_json_bytes(bytes))
    };
    Ok(Documents {
        public: bytes(public_document(issuer)?)?,
        admin: bytes(admin_document_for(registry)?)?,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    /// Every admin operation has a success answer with a schema, every reference resolves
    /// to a component, and the submissions carry the example.
    #[test]
    fn the_admin_document_documents_every_body() {
        let doc =
            serde_json::to_value(admin_document_for(SectorRegistry::builtin()).unwrap()).unwrap();
        let text = doc.to_string();
        for (method, path, _) in admin::ROUTES {
            let op = &doc["paths"][*path][method.to_ascii_lowercase()];
            let responses = op["responses"].as_object().unwrap();
            let success: Vec<_> = responses.keys().filter(|k| *k != "default").collect();
            assert_eq!(success.len(), 1, "{method} {path}");
            let schema = &responses[success[0].as_str()]["content"]["application/json"]["schema"];
            assert!(schema.is_object(), "{method} {path}");
        }
        let mut rest = text.as_str();
        while let Some(i) = rest.find("\"#/components/") {
            let tail = &rest[i + 2..];
            let end = tail.find('"').unwrap();
            let pointer = &tail[..end];
            assert!(doc.pointer(pointer).is_some(), "dangling $ref #{pointer}");
            rest = &tail[end..];
        }
        let create = &doc["paths"]["/api/v1/passports"]["post"]["requestBody"]["content"]
            ["application/json"];
        assert_eq!(
            create["examples"]["battery"]["$ref"],
            "#/components/examples/BatteryDraft"
        );
        assert_eq!(
            doc["components"]["examples"]["BatteryDraft"]["value"],
            example::battery_draft().unwrap()
        );
        let sectors = &doc["components"]["schemas"]["PassportSubmission"]["properties"]["data"]
            ["x-hallmark-sectors"];
        assert!(sectors
            .as_array()
            .unwrap()
            .contains(&json!({ "id": "battery", "schemaVersion": "1.2.0", "title": SectorRegistry::builtin().get("battery", "1.2.0").unwrap().title() })));
    }
}

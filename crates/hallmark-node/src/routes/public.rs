//! The public listener: DID document, published passports (exactly as signed, with a pointer
//! to the log leaf of their publication; for browsers, `Accept: text/html`, the consumer page
//! of `routes::page`), the transparency log (`routes::log`), the status lists
//! (`routes::status`), health and readiness (`routes::ops`); and a passport's public AAS V3.0 Environment
//! (`<base>/passports/{id}/aas`, or `Accept: application/aas+json` on the passport URL;
//! `docs/aas.md`); the verification service (`routes::vc`: the VC API's
//! `credentials/verify`, `presentations/verify`, and the verification page).
//! No credential, no admin route.

use crate::app::AppState;
use crate::cache::PassportState;
use crate::edge::reader_auth::Signed;
use crate::problem::ApiError;
use crate::routes::Document;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE, ETAG, VARY};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use hallmark_core::passport::{PassportId, PassportStatus};
use serde::Serialize;
use std::sync::Arc;
use uuid::Uuid;

use super::negotiate::contains_ignore_case;
pub use super::negotiate::{negotiate_form, not_modified, VC_JWT, VC_LD_JSON};
pub use crate::edge::headers::{
    log_headers, LOG_INDEX_HEADER, REL_LOG_CHECKPOINT, REL_LOG_INCLUSION, STATUS_HEADER,
};
/// Cache-Control of version URLs (their bytes never change).
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Cache-Control of the current-version URL (a new version or a status change may follow).
pub const SHORT: &str = "public, max-age=60";
/// Media type of the AAS Environment when `Accept` names it (`docs/aas.md`).
pub const AAS_JSON: &str = "application/aas+json";

/// Path prefix of the public base URL (`""` for `https://host`, `/dpp` for `https://host/dpp`).
pub fn base_path(base_url: &str) -> String {
    let rest = base_url
        .split_once("://")
        .map(|(_, r)| r)
        .unwrap_or(base_url);
    match rest.find('/') {
        Some(i) => rest[i..].trim_end_matches('/').to_string(),
        None => String::new(),
    }
}

/// The public routes as (method, path) pairs, for the OpenAPI coverage test.
pub fn route_table_for(issuer: &hallmark_core::issue::Issuer) -> Vec<(&'static str, String)> {
    let base = base_path(&issuer.base_url);
    let mut table = vec![
        ("GET", "/health".to_string()),
        ("GET", "/ready".to_string()),
        ("GET", "/openapi.json".to_string()),
        ("GET", issuer.did.document_path()),
        ("GET", format!("{base}/passports/{{id}}")),
        ("GET", format!("{base}/passports/{{id}}/aas")),
        ("GET", format!("{base}/passports/{{id}}/registrations")),
        ("POST", format!("{base}/readers")),
        ("GET", format!("{base}/readers/me")),
        (
            "GET",
            format!("{base}/passports/{{id}}/versions/{{version}}"),
        ),
    ];
    table.extend(super::qr::paths(&base).into_iter().map(|(p, _)| ("GET", p)));
    table.extend(super::vc::paths(&base));
    table.extend(
        super::log::paths(&base)
            .into_iter()
            .map(|(p, _)| ("GET", p)),
    );
    table
}

/// The public routes (wrap with [`crate::edge::public_router`]); `openapi` is the public
/// OpenAPI document they serve (built once at start-up, `crate::openapi::Documents`).
pub fn routes(
    state: AppState,
    openapi: Document,
    readers: Arc<crate::edge::reader_auth::ReaderAuth>,
) -> Router {
    let base = base_path(&state.issuer.base_url);
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(super::ops::ready))
        .route("/openapi.json", get(move || std::future::ready(openapi)))
        .route(&state.issuer.did.document_path(), get(did_document))
        .route(&format!("{base}/passports/{{id}}/aas"), get(aas))
        .route(
            &format!("{base}/passports/{{id}}/registrations"),
            get(registrations),
        )
        .route(&format!("{base}/readers"), post(register_reader))
        .merge(passport_routes(&state, &base, readers))
        .merge(super::log::routes(&base))
        .merge(super::qr::routes(&base))
        .merge(super::vc::routes(&base))
        .with_state(state)
}

/// The passport and version URLs: anonymous requests read the public tier; signed ones are
/// admitted first (the `edge::reader_auth::Signed` extractor) and read their grant's tier
/// (`routes::restricted`).
fn passport_routes(
    state: &AppState,
    base: &str,
    readers: Arc<crate::edge::reader_auth::ReaderAuth>,
) -> Router<AppState> {
    Router::new()
        .route(&format!("{base}/readers/me"), get(super::restricted::me))
        .route(&format!("{base}/passports/{{id}}"), get(current))
        .route(
            &format!("{base}/passports/{{id}}/versions/{{version}}"),
            get(version),
        )
        .with_state(super::restricted::PassportDoor::new(state.clone(), readers))
}

/// `POST <base>/readers`: a reader registers (anonymous; the listener's per-address rate
/// limit and body limits apply). 201 `{id, fingerprint, status}`; 409 for a key already
/// registered; 422 naming the field of bad input; 400 for a body that is not the JSON asked.
async fn register_reader(
    State(app): State<AppState>,
    crate::problem::ApiJson(body): crate::problem::ApiJson<crate::api::readers::NewReader>,
) -> Result<Response, ApiError> {
    let reader = app.service().register_reader(&body.into()).await?;
    let answer = crate::api::readers::ReaderRegistered::from(&reader);
    Ok((StatusCode::CREATED, crate::api::reply(&answer)?).into_response())
}

/// `GET /health`: the node's dependencies and integrity at a glance (503 when the database
/// does not answer).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Health {
    status: &'static str,
    database: &'static str,
    signing: &'static str,
    log: &'static str,
    log_checkpoint_size: Option<u64>,
    integrity: &'static str,
    integrity_alarms: crate::integrity::AlarmReport,
}

async fn health(State(app): State<AppState>) -> Result<Response, ApiError> {
    let db = app.store.audit_len().await.is_ok();
    let alarms = app.alarms.report();
    let body = Health {
        status: if db { "ok" } else { "degraded" },
        database: if db { "ok" } else { "unavailable" },
        signing: if app.signing_available() {
            "ok"
        } else {
            "unavailable"
        },
        log: app.log.status().as_str(),
        log_checkpoint_size: app.log.latest().map(|c| c.size),
        integrity: if alarms.is_clear() { "ok" } else { "alarm" },
        integrity_alarms: alarms,
    };
    let status = if db {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Ok((status, crate::api::reply(&body)?).into_response())
}

async fn did_document(State(app): State<AppState>) -> Result<Response, ApiError> {
    let bytes = match app.did_document_cache.get() {
        Some(b) => b,
        None => {
            let doc = app.did_document().await?;
            let b = Bytes::from(serde_json::to_vec_pretty(&doc).map_err(|_| ApiError::Internal)?);
            app.did_document_cache.put(b.clone());
            b
        }
    };
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/did+json"),
    );
    h.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(r)
}

/// A public passport id from the URL; anything unparseable is the same 404 as unknown.
fn parse_id(s: &str) -> Result<PassportId, ApiError> {
    let s = s.strip_prefix("urn:uuid:").unwrap_or(s);
    let uuid = Uuid::try_parse(s).map_err(|_| ApiError::NotFound)?;
    PassportId::from_uuid(uuid).map_err(|_| ApiError::NotFound)
}

async fn current(
    State(app): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    Signed(reader): Signed,
) -> Result<Response, ApiError> {
    if let Some(reader) = reader {
        return super::restricted::serve(&app, &reader, &id, None, &headers).await;
    }
    // Named explicitly only (no browser sends it): before the page and the credential.
    if wants_aas(&headers) {
        return serve_aas(&app, &id, &headers).await;
    }
    if crate::page::wants_html(headers.get(ACCEPT), uri.query()) {
        let Ok(id) = parse_id(&id) else {
            return Ok(super::page::not_found(&headers, uri.query()));
        };
        let base = base_path(&app.issuer.base_url);
        return super::page::serve(&app, id, None, &headers, uri.query(), &base).await;
    }
    serve(&app, &id, None, &headers).await
}

/// Whether `Accept` names `application/aas+json`.
fn wants_aas(headers: &HeaderMap) -> bool {
    let accept = headers.get(ACCEPT).map_or(&b""[..], HeaderValue::as_bytes);
    contains_ignore_case(accept, AAS_JSON)
}

/// `GET <base>/passports/{id}/aas`: the public AAS Environment (as `application/aas+json`
/// when `Accept` names it, otherwise `application/json`).
/// `GET <base>/passports/{id}/registrations`: the passport's EU DPP registry registrations
/// as the public may know them (registration id, version, the registered hash, the proof's
/// SHA-256, time, log index; not the proof's bytes). Unknown ids and drafts 404.
async fn registrations(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let items = app.service().registrations(id).await?;
    let body = crate::api::registry::RegistrationList {
        items: items
            .iter()
            .map(|r| crate::api::registry::RegistrationInfo::of(r, false))
            .collect(),
    };
    let mut response = crate::api::reply(&body)?.into_response();
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    Ok(response)
}

async fn aas(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    serve_aas(&app, &id, &headers).await
}

/// The current version's public AAS Environment (`Service::aas`, built from the verified
/// public credential the passport URL serves). As on the passport URL: drafts and unknown
/// ids 404, a suspended passport 410 with its reason, archived and deactivated ones served
/// with their status header; short caching, `Vary: Accept`, an ETag of the bytes.
async fn serve_aas(app: &AppState, id: &str, headers: &HeaderMap) -> Result<Response, ApiError> {
    let id = parse_id(id)?;
    let shown = app.service().public_state(id, None).await?;
    if shown.state.status == PassportStatus::Suspended {
        return Ok(gone(&shown.state));
    }
    let env = app
        .service()
        .aas(id, hallmark_core::access::Audience::Public)
        .await?;
    let bytes = serde_json::to_vec(&env).map_err(|_| ApiError::Internal)?;
    let digest = <sha2::Sha256 as sha2::Digest>::digest(&bytes);
    let etag = HeaderValue::from_str(&format!("\"aas-{}\"", hex::encode(&digest[..16])))
        .map_err(|_| ApiError::Internal)?;
    let media = if wants_aas(headers) {
        AAS_JSON
    } else {
        "application/json"
    };
    let mut r = if not_modified(headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (StatusCode::OK, bytes).into_response()
    };
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(media));
    h.insert(VARY, HeaderValue::from_static("Accept"));
    h.insert(ETAG, etag);
    h.insert(CACHE_CONTROL, HeaderValue::from_static(SHORT));
    h.insert(
        STATUS_HEADER,
        HeaderValue::from_static(shown.state.status.as_str()),
    );
    Ok(r)
}

async fn version(
    State(app): State<AppState>,
    Path((id, version)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    Signed(reader): Signed,
) -> Result<Response, ApiError> {
    let n = version.parse::<u32>().ok().filter(|n| *n > 0);
    if let Some(reader) = reader {
        return super::restricted::serve(&app, &reader, &id, Some(n), &headers).await;
    }
    if crate::page::wants_html(headers.get(ACCEPT), uri.query()) {
        let (Ok(id), Some(n)) = (parse_id(&id), n) else {
            return Ok(super::page::not_found(&headers, uri.query()));
        };
        let base = base_path(&app.issuer.base_url);
        return super::page::serve(&app, id, Some(n), &headers, uri.query(), &base).await;
    }
    let n = n.ok_or(ApiError::NotFound)?;
    serve(&app, &id, Some(n), &headers).await
}

async fn serve(
    app: &AppState,
    id: &str,
    version: Option<u32>,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let id = parse_id(id)?;
    let record = app.service().passport_state(id).await?;
    // Drafts (never published) are indistinguishable from unknown ids.
    if record.status == PassportStatus::Draft || record.current_version == 0 {
        return Err(ApiError::NotFound);
    }
    if version.is_some_and(|v| v > record.current_version) {
        return Err(ApiError::NotFound);
    }
    if record.status == PassportStatus::Suspended {
        return Ok(gone(&record));
    }
    let n = version.unwrap_or(record.current_version);
    let (form, media) = negotiate_form(headers);
    let served = app.service().public_bytes(id, n, form).await?;
    let mut r = if not_modified(headers, &served.etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (StatusCode::OK, served.bytes.clone()).into_response()
    };
    let h = r.headers_mut();
    // Room for these and the edge's security and CORS headers: no regrowth per request.
    h.reserve(RESPONSE_HEADERS);
    h.insert(CONTENT_TYPE, HeaderValue::from_static(media));
    h.insert(VARY, HeaderValue::from_static("Accept"));
    h.insert(ETAG, served.etag.clone());
    h.insert(
        CACHE_CONTROL,
        HeaderValue::from_static(if version.is_some() { IMMUTABLE } else { SHORT }),
    );
    h.insert(
        STATUS_HEADER,
        HeaderValue::from_static(record.status.as_str()),
    );
    for (name, value) in &served.log_headers {
        h.append(name.clone(), value.clone());
    }
    Ok(r)
}

/// A suspended passport: 410 problem+json with the reason, the status header, and the
/// current-version URL's short caching — for version URLs too — so that a cache drops the
/// 410 within [`SHORT`]'s minute of a resume, as it drops a 200 after a suspension.
fn gone(record: &PassportState) -> Response {
    let mut r = ApiError::Gone {
        reason: record
            .status_reason
            .clone()
            .unwrap_or_else(|| "suspended".to_string()),
    }
    .into_response();
    let h = r.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static(SHORT));
    h.insert(
        STATUS_HEADER,
        HeaderValue::from_static(record.status.as_str()),
    );
    r
}

/// Headers a passport response ends up with (this handler's, the edge's security and CORS
/// headers, `content-length`), reserved at once.
const RESPONSE_HEADERS: usize = 20;

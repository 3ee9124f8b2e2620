//! The admin listener's management API under `/api/v1`: one door onto the node's use-cases
//! (`crate::service`). Authentication is a tower layer (see `edge::admin_router`); each
//! route carries its required scope as a route layer. A handler parses the request (path,
//! query, `ApiJson` body), calls one service method, and answers the result as its
//! `api::responses` type; errors convert with `?` (`From<ServiceError> for ApiError`).

use crate::api::readers::{ApproveReader, ReaderInfo, ReaderList};
use crate::api::reply;
use crate::api::requests::{ImportFinish, NewApiKey, NewLink, PassportBatch, Reason};
use crate::api::responses::{
    ApiKeyCreated, ApiKeyInfo, ApiKeyList, BatchAnswer, DraftCreated, DraftSaved, History,
    ImportFinished, KeyChange, LinkInfo, LinkList, PassportDetail, PassportPage, PassportSummary,
    Published, SigningKeyList, ValidationReport, Whoami,
};
use crate::api::webhooks::{
    DeliveryInfo, DeliveryList, NewWebhook, WebhookCreated, WebhookInfo, WebhookList,
};
use crate::apikey::Scope;
use crate::app::AppState;
use crate::auth::{require, Principal};
use crate::problem::{ApiError, ApiJson};
use crate::routes::Document;
use crate::service::{
    self, ImportBatch, ImportDone, ImportItem, LinkInput, LinkQuery, PassportQuery,
};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put, MethodRouter};
use axum::{Json, Router};
use hallmark_core::access::Audience;
use hallmark_core::keys::KeyId;
use hallmark_core::passport::{PassportId, PassportStatus};
use hallmark_core::tlog::event::ImportCounts;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

/// Every admin route: method, path, required scope. Drives the router, the OpenAPI
/// document and the scope-matrix test.
pub const ROUTES: &[(&str, &str, Scope)] = &[
    ("GET", "/api/v1/whoami", Scope::Read),
    ("GET", "/api/v1/passports", Scope::Read),
    ("POST", "/api/v1/passports", Scope::Write),
    ("POST", "/api/v1/passports/validate", Scope::Write),
    ("POST", "/api/v1/passports/batch", Scope::Write),
    ("POST", "/api/v1/imports/{id}/finish", Scope::Write),
    ("GET", "/api/v1/passports/{id}", Scope::Read),
    ("PUT", "/api/v1/passports/{id}/draft", Scope::Write),
    ("POST", "/api/v1/passports/{id}/publish", Scope::Write),
    ("POST", "/api/v1/passports/{id}/versions", Scope::Write),
    ("POST", "/api/v1/passports/{id}/suspend", Scope::Write),
    ("POST", "/api/v1/passports/{id}/resume", Scope::Write),
    ("POST", "/api/v1/passports/{id}/archive", Scope::Write),
    ("POST", "/api/v1/passports/{id}/deactivate", Scope::Write),
    ("GET", "/api/v1/passports/{id}/history", Scope::Read),
    ("GET", "/api/v1/passports/{id}/aas", Scope::Read),
    ("GET", "/api/v1/passports/{id}/registrations", Scope::Read),
    ("GET", "/api/v1/registry/export", Scope::Read),
    ("POST", "/api/v1/registry/registrations", Scope::Write),
    ("GET", "/api/v1/labels", Scope::Read),
    ("GET", "/api/v1/links", Scope::Read),
    ("POST", "/api/v1/links", Scope::Write),
    ("DELETE", "/api/v1/links/{id}", Scope::Write),
    ("GET", "/api/v1/readers", Scope::Admin),
    ("GET", "/api/v1/readers/{id}", Scope::Admin),
    ("POST", "/api/v1/readers/{id}/approve", Scope::Admin),
    ("POST", "/api/v1/readers/{id}/suspend", Scope::Admin),
    ("POST", "/api/v1/readers/{id}/resume", Scope::Admin),
    ("POST", "/api/v1/readers/{id}/revoke", Scope::Admin),
    ("GET", "/api/v1/webhooks", Scope::Admin),
    ("POST", "/api/v1/webhooks", Scope::Admin),
    ("GET", "/api/v1/webhooks/{id}", Scope::Admin),
    ("GET", "/api/v1/webhooks/{id}/deliveries", Scope::Admin),
    ("POST", "/api/v1/webhooks/{id}/disable", Scope::Admin),
    ("POST", "/api/v1/webhooks/{id}/enable", Scope::Admin),
    ("GET", "/api/v1/api-keys", Scope::Admin),
    ("POST", "/api/v1/api-keys", Scope::Admin),
    ("POST", "/api/v1/api-keys/{id}/revoke", Scope::Admin),
    ("GET", "/api/v1/signing-keys", Scope::Admin),
    ("POST", "/api/v1/signing-keys/rotate", Scope::Admin),
    ("POST", "/api/v1/signing-keys/{id}/revoke", Scope::Admin),
    ("POST", "/credentials/issue", Scope::Write),
    ("GET", "/openapi.json", Scope::Read),
];

/// The handler of a route in [`ROUTES`]; `None` for an unknown pair (a unit test checks
/// that every row has one, so the router is exactly the table).
fn handler(method: &str, path: &str, openapi: &Document) -> Option<MethodRouter<AppState>> {
    let tail = path.strip_prefix("/api/v1").unwrap_or(path);
    Some(match (method, tail) {
        ("GET", "/whoami") => get(whoami),
        ("GET", "/passports") => get(list),
        ("POST", "/passports") => post(create),
        ("POST", "/passports/validate") => post(validate_dry_run),
        ("POST", "/passports/batch") => post(batch),
        ("POST", "/credentials/issue") => post(issue_credential),
        ("POST", "/imports/{id}/finish") => post(finish_import),
        ("GET", "/passports/{id}") => get(read_one),
        ("PUT", "/passports/{id}/draft") => put(update_draft),
        ("POST", "/passports/{id}/publish") => post(publish),
        ("POST", "/passports/{id}/versions") => post(start_version),
        ("POST", "/passports/{id}/suspend") => post(suspend),
        ("POST", "/passports/{id}/resume") => post(resume),
        ("POST", "/passports/{id}/archive") => post(archive),
        ("POST", "/passports/{id}/deactivate") => post(deactivate),
        ("GET", "/passports/{id}/history") => get(history),
        ("GET", "/passports/{id}/aas") => get(aas),
        ("GET", "/passports/{id}/registrations") => get(passport_registrations),
        ("GET", "/registry/export") => get(registry_export),
        ("POST", "/registry/registrations") => post(record_registrations),
        ("GET", "/labels") => get(super::qr::labels),
        ("GET", "/links") => get(list_links),
        ("POST", "/links") => post(add_link),
        ("DELETE", "/links/{id}") => delete(remove_link),
        ("GET", "/readers") => get(list_readers),
        ("GET", "/readers/{id}") => get(read_reader),
        ("POST", "/readers/{id}/approve") => post(approve_reader),
        ("POST", "/readers/{id}/suspend") => post(suspend_reader),
        ("POST", "/readers/{id}/resume") => post(resume_reader),
        ("POST", "/readers/{id}/revoke") => post(revoke_reader),
        ("GET", "/webhooks") => get(list_webhooks),
        ("POST", "/webhooks") => post(create_webhook),
        ("GET", "/webhooks/{id}") => get(read_webhook),
        ("GET", "/webhooks/{id}/deliveries") => get(webhook_deliveries),
        ("POST", "/webhooks/{id}/disable") => post(disable_webhook),
        ("POST", "/webhooks/{id}/enable") => post(enable_webhook),
        ("GET", "/api-keys") => get(list_keys),
        ("POST", "/api-keys") => post(new_key),
        ("POST", "/api-keys/{id}/revoke") => post(revoke_key),
        ("GET", "/signing-keys") => get(signing_keys),
        ("POST", "/signing-keys/rotate") => post(rotate),
        ("POST", "/signing-keys/{id}/revoke") => post(revoke_signing_key),
        ("GET", "/openapi.json") => {
            let doc = openapi.clone();
            get(move || std::future::ready(doc))
        }
        _ => return None,
    })
}

/// The admin routes, built from [`ROUTES`], each behind its scope (wrap with
/// [`crate::edge::admin_router`]); `openapi` is the admin OpenAPI document they serve
/// (built once at start-up, `crate::openapi::Documents`).
pub fn routes(state: AppState, openapi: Document) -> Router {
    let mut router = Router::new();
    for (method, path, scope) in ROUTES {
        match handler(method, path, &openapi) {
            Some(h) => router = router.route(path, h.route_layer(require(*scope))),
            None => tracing::error!(%method, %path, "admin route without a handler"),
        }
    }
    router.with_state(state)
}

/// A passport id from a path (`<uuid>` or `urn:uuid:<uuid>`); anything else is not found.
fn parse_id(s: &str) -> Result<PassportId, ApiError> {
    let s = s.strip_prefix("urn:uuid:").unwrap_or(s);
    let uuid = Uuid::try_parse(s).map_err(|_| ApiError::NotFound)?;
    PassportId::from_uuid(uuid).map_err(|_| ApiError::NotFound)
}

/// A `201 Created` answer.
fn created(body: &impl serde::Serialize) -> Result<Response, ApiError> {
    Ok((StatusCode::CREATED, reply(body)?).into_response())
}

async fn whoami(p: Principal) -> Result<Json<Value>, ApiError> {
    reply(&match &p {
        Principal::ApiKey { key_id, scope } => Whoami::ApiKey {
            key_id: *key_id,
            scope: scope.as_str(),
        },
        Principal::Admin { username } => Whoami::Admin {
            username: username.clone(),
            scope: Scope::Admin.as_str(),
        },
    })
}

async fn create(
    State(app): State<AppState>,
    p: Principal,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let draft = app.service().create_draft(&p, &body).await?;
    created(&DraftCreated::from(draft))
}

/// `POST /credentials/issue` (VC API `issueCredential`, passports only): the credential's
/// subject published as a new passport through the publish path; 201
/// `{"verifiableCredential": <its public credential>}`. Options are refused (none is
/// supported); a credential that is not a passport of this node: 400/422, nothing written.
async fn issue_credential(
    State(app): State<AppState>,
    p: Principal,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    use crate::api::vc::{read, IssueCredentialRequest, IssuedCredential};
    let request: IssueCredentialRequest = read(body)?;
    if let Some(option) = request.options.keys().next() {
        return Err(ApiError::BadRequest {
            detail: format!("unknown option `{option}`: issueCredential takes no option here"),
        });
    }
    let issued = app
        .service()
        .issue_passport(&p, &request.credential)
        .await?;
    created(&IssuedCredential {
        verifiable_credential: issued.credential,
    })
}

async fn validate_dry_run(
    State(app): State<AppState>,
    p: Principal,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    reply(&ValidationReport::from(
        app.service().validate(&p, &body).await?,
    ))
}

/// `POST /api/v1/passports/batch`: 200 with one result per item and the counts (items fail
/// alone, each with its problem); 422 for more than 1,000 items or a reference given twice.
async fn batch(
    State(app): State<AppState>,
    p: Principal,
    ApiJson(body): ApiJson<PassportBatch>,
) -> Result<Json<Value>, ApiError> {
    let batch = ImportBatch {
        import_id: body.import_id,
        publish: body.publish,
        dry_run: body.dry_run,
        items: body
            .items
            .into_iter()
            .map(|i| ImportItem {
                external_ref: i.external_ref,
                passport: i.passport,
            })
            .collect(),
    };
    reply(&BatchAnswer::from(
        app.service().import_batch(&p, batch).await?,
    ))
}

/// `POST /api/v1/imports/{id}/finish`: the import's `import.completed` event.
async fn finish_import(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ImportFinish>,
) -> Result<Json<Value>, ApiError> {
    let id = Uuid::try_parse(&id).map_err(|_| ApiError::NotFound)?;
    let done = ImportDone {
        file_name: body.file_name,
        bytes: body.bytes,
        sha256: body.sha256,
        rows: body.rows,
        interrupted: body.interrupted,
        counts: body.counts.map(|c| ImportCounts {
            created: c.created,
            updated: c.updated,
            published: c.published,
            unchanged: c.unchanged,
            failed: c.failed,
        }),
    };
    reply(&ImportFinished::from(
        app.service().finish_import(&p, id, done).await?,
    ))
}

async fn update_draft(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    reply(&DraftSaved::from(
        app.service().update_draft(&p, id, &body).await?,
    ))
}

async fn start_version(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let draft = app.service().start_version(&p, id, &body).await?;
    created(&DraftSaved::from(draft))
}

async fn publish(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    let publication = app.service().publish(&p, id).await?;
    reply(&Published::from(publication))
}

async fn suspend(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Reason>,
) -> Result<Json<Value>, ApiError> {
    let reason = service::Reason::required(body.reason)?;
    let id = parse_id(&id)?;
    reply(&PassportSummary::from(
        &app.service().suspend(&p, id, reason).await?,
    ))
}

async fn resume(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    reply(&PassportSummary::from(&app.service().resume(&p, id).await?))
}

async fn archive(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Reason>,
) -> Result<Json<Value>, ApiError> {
    let reason = service::Reason::optional(body.reason)?;
    let id = parse_id(&id)?;
    reply(&PassportSummary::from(
        &app.service().archive(&p, id, reason).await?,
    ))
}

async fn deactivate(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Reason>,
) -> Result<Json<Value>, ApiError> {
    let reason = service::Reason::required(body.reason)?;
    let id = parse_id(&id)?;
    reply(&PassportSummary::from(
        &app.service().deactivate(&p, id, reason).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    status: Option<String>,
    sector: Option<String>,
    gtin: Option<String>,
    after: Option<String>,
    limit: Option<u32>,
    /// With `economicOperatorId`: the passport this reference names (0 or 1 item).
    #[serde(rename = "externalRef")]
    external_ref: Option<String>,
    #[serde(rename = "economicOperatorId")]
    economic_operator_id: Option<String>,
}

impl TryFrom<ListParams> for PassportQuery {
    type Error = ApiError;

    fn try_from(q: ListParams) -> Result<Self, ApiError> {
        let bad = |detail: &str| ApiError::BadRequest {
            detail: detail.into(),
        };
        let status = match q.status.as_deref() {
            None => None,
            Some(s) => Some(s.parse::<PassportStatus>().map_err(|_| {
                bad("status must be draft, published, suspended, archived or deactivated")
            })?),
        };
        let after = match q.after.as_deref() {
            None => None,
            Some(s) => Some(parse_id(s).map_err(|_| bad("after must be a passport id (UUIDv7)"))?),
        };
        Ok(PassportQuery {
            status,
            sector: q.sector,
            gtin: q.gtin,
            after,
            limit: q.limit,
        })
    }
}

async fn list(
    State(app): State<AppState>,
    q: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(mut q) = q?;
    match (q.external_ref.take(), q.economic_operator_id.take()) {
        (None, None) => {}
        (Some(external_ref), Some(operator)) => {
            return by_external_ref(&app, &operator, external_ref).await
        }
        _ => {
            return Err(ApiError::BadRequest {
                detail: "`externalRef` and `economicOperatorId` are given together".into(),
            })
        }
    }
    let page = app.service().passports(q.try_into()?).await?;
    reply(&PassportPage::from(page))
}

/// `GET /api/v1/passports?externalRef=…&economicOperatorId=…`: a page of the one passport
/// the reference names (with its `externalRef`), or none.
async fn by_external_ref(
    app: &AppState,
    operator: &str,
    external_ref: String,
) -> Result<Json<Value>, ApiError> {
    let found = app
        .service()
        .passport_by_external_ref(operator, &external_ref)
        .await?;
    let items = found
        .iter()
        .map(|r| PassportSummary {
            external_ref: Some(external_ref.clone()),
            ..PassportSummary::from(r)
        })
        .collect();
    reply(&PassportPage { items, next: None })
}

async fn read_one(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    reply(&PassportDetail::try_from(
        app.service().passport(id).await?,
    )?)
}

async fn history(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    reply(&History::from(app.service().history(id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AasParams {
    audience: Option<String>,
}

/// `GET /api/v1/passports/{id}/aas[?audience=public|legitimateInterest|authority]`: the
/// current version as that audience's AAS V3.0 Environment (default `authority`;
/// `docs/aas.md`). 404 for unknown and never-published passports, 406
/// `aas-unsupported-sector` for a sector without a mapping.
async fn aas(
    State(app): State<AppState>,
    Path(id): Path<String>,
    q: Result<Query<AasParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = q?;
    let audience = match q.audience.as_deref() {
        None | Some("authority") => Audience::Authority,
        Some("legitimateInterest") => Audience::LegitimateInterest,
        Some("public") => Audience::Public,
        Some(_) => {
            return Err(ApiError::BadRequest {
                detail: "audience must be public, legitimateInterest or authority".into(),
            })
        }
    };
    let id = parse_id(&id)?;
    Ok(Json(app.service().aas(id, audience).await?))
}

async fn new_key(
    State(app): State<AppState>,
    p: Principal,
    ApiJson(body): ApiJson<NewApiKey>,
) -> Result<Response, ApiError> {
    let expires_at = body.expires_at.as_deref();
    let key = app
        .service()
        .create_api_key(&p, &body.scope, &body.label, expires_at)
        .await?;
    created(&ApiKeyCreated::from(key))
}

async fn list_keys(State(app): State<AppState>) -> Result<Json<Value>, ApiError> {
    reply(&ApiKeyList::from(app.service().api_keys().await?))
}

async fn revoke_key(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    reply(&ApiKeyInfo::from(
        &app.service().revoke_api_key(&p, &id).await?,
    ))
}

/// `POST /api/v1/links`: 201 with the link and `Location: /api/v1/links/{id}`.
async fn add_link(
    State(app): State<AppState>,
    p: Principal,
    ApiJson(body): ApiJson<NewLink>,
) -> Result<Response, ApiError> {
    let input = LinkInput {
        gtin: body.gtin,
        lot: body.lot,
        serial: body.serial,
        link_type: body.link_type,
        href: body.href,
        title: body.title,
        media_type: body.media_type,
        hreflang: body.hreflang,
    };
    let link = LinkInfo::try_from(&app.service().add_link(&p, input).await?)?;
    let location = HeaderValue::from_str(&format!("/api/v1/links/{}", link.id))
        .map_err(|_| ApiError::Internal)?;
    let mut r = created(&link)?;
    r.headers_mut().insert(LOCATION, location);
    Ok(r)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkParams {
    gtin: Option<String>,
    lot: Option<String>,
    serial: Option<String>,
    removed: Option<bool>,
}

/// `GET /api/v1/links?gtin=…[&lot=…][&serial=…][&removed=true]`.
async fn list_links(
    State(app): State<AppState>,
    q: Result<Query<LinkParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = q?;
    let gtin = q.gtin.ok_or_else(|| ApiError::BadRequest {
        detail: "the query parameter `gtin` is required".into(),
    })?;
    let query = LinkQuery {
        gtin,
        lot: q.lot,
        serial: q.serial,
        removed: q.removed.unwrap_or(false),
    };
    reply(&LinkList::try_from(app.service().links(query).await?)?)
}

/// `DELETE /api/v1/links/{id}` with `{"reason": …}` (required): the link as removed; 404
/// for an unknown id, 409 when already removed.
async fn remove_link(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Reason>,
) -> Result<Json<Value>, ApiError> {
    let reason = service::Reason::required(body.reason)?;
    reply(&LinkInfo::try_from(
        &app.service().remove_link(&p, &id, reason).await?,
    )?)
}

/// `GET /api/v1/webhooks`: every subscription, oldest first.
async fn list_webhooks(State(app): State<AppState>) -> Result<Json<Value>, ApiError> {
    let hooks = app.service().webhooks().await?;
    reply(&WebhookList {
        items: hooks.iter().map(WebhookInfo::from).collect(),
    })
}

/// `POST /api/v1/webhooks` with `{url, types}`: 201 with the secret, shown once.
async fn create_webhook(
    State(app): State<AppState>,
    p: Principal,
    ApiJson(body): ApiJson<NewWebhook>,
) -> Result<Response, ApiError> {
    let input = service::webhooks::WebhookInput {
        url: body.url,
        types: body.types,
    };
    let created = app.service().create_webhook(&p, &input).await?;
    let location = format!("/api/v1/webhooks/{}", created.webhook.id);
    let body = reply(&WebhookCreated {
        info: WebhookInfo::from(&created.webhook),
        secret: created.secret.as_str().to_owned(),
        note: "Store this secret now: it is not stored and cannot be shown again. Verify each delivery's webhook-signature with it (Standard Webhooks).",
    })?;
    let mut response = (StatusCode::CREATED, body).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(LOCATION, v);
    }
    Ok(response)
}

fn webhook_id(id: &str) -> Result<String, ApiError> {
    Ok(service::webhooks::parse_webhook_id(id)?)
}

/// `GET /api/v1/webhooks/{id}`.
async fn read_webhook(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    reply(&WebhookInfo::from(
        &app.service().webhook(&webhook_id(&id)?).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeliveryParams {
    before: Option<u64>,
    limit: Option<u32>,
}

/// `GET /api/v1/webhooks/{id}/deliveries[?before=…][&limit=…]`: the delivery log, newest
/// first (limit 1–200, default 50).
async fn webhook_deliveries(
    State(app): State<AppState>,
    Path(id): Path<String>,
    q: Result<Query<DeliveryParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = q?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=service::webhooks::MAX_DELIVERIES_PAGE).contains(&limit) {
        return Err(ApiError::BadRequest {
            detail: "`limit` must be 1 to 200".to_owned(),
        });
    }
    let rows = app
        .service()
        .webhook_deliveries(&webhook_id(&id)?, q.before, limit)
        .await?;
    let next = (rows.len() == limit as usize)
        .then(|| rows.last().map(|d| d.id))
        .flatten();
    reply(&DeliveryList {
        items: rows.iter().map(DeliveryInfo::from).collect(),
        next,
    })
}

/// `POST /api/v1/webhooks/{id}/disable` with `{"reason": …}` (required).
async fn disable_webhook(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Reason>,
) -> Result<Json<Value>, ApiError> {
    let reason = service::Reason::required(body.reason)?;
    let hook = app
        .service()
        .disable_webhook(&p, &webhook_id(&id)?, reason)
        .await?;
    reply(&WebhookInfo::from(&hook))
}

/// `POST /api/v1/webhooks/{id}/enable`: deliveries resume from its cursor.
async fn enable_webhook(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let hook = app.service().enable_webhook(&p, &webhook_id(&id)?).await?;
    reply(&WebhookInfo::from(&hook))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReaderParams {
    status: Option<String>,
    after: Option<String>,
    limit: Option<u32>,
}

fn reader_info(r: &hallmark_store::ReaderRecord) -> Result<Json<Value>, ApiError> {
    reply(&ReaderInfo::of(r, time::OffsetDateTime::now_utc())?)
}

fn reader_id(id: &str) -> Result<hallmark_core::reader::ReaderId, ApiError> {
    Ok(service::readers::parse_reader_id(id)?)
}

/// `GET /api/v1/readers[?status=…][&after=…][&limit=…]`: readers by id (limit 1–200,
/// default 100).
async fn list_readers(
    State(app): State<AppState>,
    q: Result<Query<ReaderParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = q?;
    let bad = |detail: &str| ApiError::BadRequest {
        detail: detail.to_owned(),
    };
    let status = q
        .status
        .map(|s| s.parse::<hallmark_core::reader::ReaderStatus>())
        .transpose()
        .map_err(|e| ApiError::BadRequest {
            detail: e.to_string(),
        })?;
    let after = q
        .after
        .map(|a| hallmark_core::reader::ReaderId::parse(&a))
        .transpose()
        .map_err(|_| bad("`after` must be a reader id"))?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=service::readers::MAX_READERS_PAGE).contains(&limit) {
        return Err(bad("`limit` must be 1 to 200"));
    }
    let readers = app.service().readers(status, after.as_ref(), limit).await?;
    let now = time::OffsetDateTime::now_utc();
    let next = (readers.len() == limit as usize)
        .then(|| readers.last().map(|r| r.id.to_string()))
        .flatten();
    reply(&ReaderList {
        items: readers
            .iter()
            .map(|r| ReaderInfo::of(r, now))
            .collect::<Result<_, _>>()?,
        next,
    })
}

/// `GET /api/v1/readers/{id}`.
async fn read_reader(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    reader_info(&app.service().reader(&reader_id(&id)?).await?)
}

/// `POST /api/v1/readers/{id}/approve` with `{tier, scope, expiresAt}`: approve (or grant
/// anew); 409 for a suspended or revoked reader.
async fn approve_reader(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ApproveReader>,
) -> Result<Json<Value>, ApiError> {
    let input = service::readers::ApprovalInput {
        tier: body.tier,
        scope: body.scope,
        expires_at: body.expires_at,
    };
    reader_info(
        &app.service()
            .approve_reader(&p, &reader_id(&id)?, &input)
            .await?,
    )
}

/// `POST /api/v1/readers/{id}/suspend` with `{"reason": …}` (required).
async fn suspend_reader(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Reason>,
) -> Result<Json<Value>, ApiError> {
    let reason = service::Reason::required(body.reason)?;
    reader_info(
        &app.service()
            .suspend_reader(&p, &reader_id(&id)?, reason)
            .await?,
    )
}

/// `POST /api/v1/readers/{id}/resume`.
async fn resume_reader(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    reader_info(&app.service().resume_reader(&p, &reader_id(&id)?).await?)
}

/// `POST /api/v1/readers/{id}/revoke` with `{"reason": …}` (required): for good.
async fn revoke_reader(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Reason>,
) -> Result<Json<Value>, ApiError> {
    let reason = service::Reason::required(body.reason)?;
    reader_info(
        &app.service()
            .revoke_reader(&p, &reader_id(&id)?, reason)
            .await?,
    )
}

async fn signing_keys(State(app): State<AppState>) -> Result<Json<Value>, ApiError> {
    reply(&SigningKeyList::from(app.service().signing_keys().await?))
}

async fn rotate(State(app): State<AppState>, p: Principal) -> Result<Json<Value>, ApiError> {
    reply(&KeyChange::from(
        app.service().rotate_signing_key(&p).await?,
    ))
}

async fn revoke_signing_key(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Reason>,
) -> Result<Json<Value>, ApiError> {
    let reason = service::Reason::required(body.reason)?;
    let key = KeyId::parse(&id).map_err(|_| ApiError::NotFound)?;
    reply(&KeyChange::from(
        app.service().revoke_signing_key(&p, &key, reason).await?,
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn every_route_in_the_table_has_a_handler_and_appears_once() {
        let mut seen = std::collections::BTreeSet::new();
        for (method, path, _) in ROUTES {
            let doc = Document::from_json_bytes("{}");
            assert!(handler(method, path, &doc).is_some(), "{method} {path}");
            assert!(seen.insert((method, path)), "{method} {path} twice");
        }
    }
}

/// The query of `GET /api/v1/registry/export`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ExportParams {
    export_id: Option<String>,
    part: Option<u32>,
    after: Option<String>,
    limit: Option<u32>,
}

async fn registry_export(
    State(app): State<AppState>,
    q: Result<Query<ExportParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = q?;
    let bad = |detail: &str| ApiError::BadRequest {
        detail: detail.to_owned(),
    };
    let export_id = q
        .export_id
        .map(|s| Uuid::try_parse(&s))
        .transpose()
        .map_err(|_| bad("exportId must be a UUID (the first page's exportId)"))?;
    let after = q
        .after
        .map(|s| parse_id(&s))
        .transpose()
        .map_err(|_| bad("after must be a passport id (the previous page's next)"))?;
    if q.limit.is_some_and(|l| !(1..=100).contains(&l)) {
        return Err(bad("limit must be 1 to 100 (the registry's upload limit)"));
    }
    if q.part == Some(0) {
        return Err(bad("part counts from 1"));
    }
    let page = app
        .service()
        .registry_export(service::registry::ExportQuery {
            export_id,
            part: q.part,
            after,
            limit: q.limit,
        })
        .await?;
    let answer = crate::api::registry::RegistryExport::try_from(page).map_err(|e| {
        tracing::error!(error = %e, "an export file did not serialise");
        ApiError::Internal
    })?;
    reply(&answer)
}

async fn record_registrations(
    State(app): State<AppState>,
    p: Principal,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    let file = hallmark_core::registry::RecordFile::from_value(body).map_err(|e| {
        ApiError::from(service::ServiceError::Registry(
            service::registry::RegistryRefusal::InvalidFile(e.to_string()),
        ))
    })?;
    let outcomes = app.service().record_registrations(&p, &file).await?;
    reply(&crate::api::registry::RegistrationsRecorded::from(
        outcomes.as_slice(),
    ))
}

async fn passport_registrations(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    let items = app.service().registrations(id).await?;
    reply(&crate::api::registry::RegistrationList {
        items: items
            .iter()
            .map(|r| crate::api::registry::RegistrationInfo::of(r, true))
            .collect(),
    })
}

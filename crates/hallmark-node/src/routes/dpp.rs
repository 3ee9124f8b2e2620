//! The EN 18222 DPP API (`/work/shared/specs/en18222-dpp-api.openapi.yaml`; operator view
//! `docs/en18222.md`), one door onto `crate::service::dpp` (reads) and
//! `crate::service::dpp_write` (writes) on each listener:
//!
//! - admin listener, `/v1/…` ([`V1_ROUTES`], each behind its scope like the `/api/v1`
//!   routes): the full content (authority tier); the writes need `write`;
//! - public listener, `<public base path>/v1/…`, anonymous: the public tier; the writes
//!   answer 401 `Result` there ([`writes_elsewhere`]), a status every write documents.
//!
//! A handler reads the path and query, calls one service method with its listener's
//! [`Door`] (a request extension set by the router) and answers JSON; every refusal leaves
//! as a [`V1Error`] (the spec's `Result` body). Every answer of these routes names the tier
//! it was built for in [`ACCESS_TIER_HEADER`] (`public` or `authority`), so that a key sent
//! to the public listener is visibly not used there. `POST /v1/dppsByProductIds` is a read and is
//! served on both listeners (the public listener's CORS policy allows GET/HEAD only, so a
//! browser on another origin cannot send it there).

use crate::apikey::Scope;
use crate::app::AppState;
use crate::auth::{require, Principal};
use crate::edge::headers::STATUS_HEADER;
use crate::problem::result::{result_response, V1Error};
use crate::problem::{ApiError, ApiJson};
use crate::service::dpp::{Door, Representation, DEFAULT_IDS_LIMIT};
use crate::service::dpp_write::Change;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::map_response;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post, MethodRouter};
use axum::{Extension, Json, Router};
use hallmark_core::passport::PassportId;
use serde::Deserialize;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

/// The header naming the tier an answer of these routes was built for.
pub use crate::edge::headers::ACCESS_TIER_HEADER;

/// The EN 18222 routes: method, path (below the listener's `/v1` root's parent), the scope
/// the admin listener requires. The public listener serves the same rows under its base
/// path, anonymously: the reads (scope `read`) as such; the writes answer 401 `Result`
/// there ([`writes_elsewhere`]).
pub const V1_ROUTES: &[(&str, &str, Scope)] = &[
    ("GET", "/v1/dpps/{dppId}", Scope::Read),
    ("GET", "/v1/dppsByIdAndDate/{dppId}", Scope::Read),
    ("GET", "/v1/dppsByProductId/{productId}", Scope::Read),
    ("POST", "/v1/dppsByProductIds", Scope::Read),
    (
        "GET",
        "/v1/dpps/{dppId}/elements/{elementIdPath}",
        Scope::Read,
    ),
    ("POST", "/v1/dpps", Scope::Write),
    ("PATCH", "/v1/dpps/{dppId}", Scope::Write),
    ("DELETE", "/v1/dpps/{dppId}", Scope::Write),
    (
        "PATCH",
        "/v1/dpps/{dppId}/elements/{elementIdPath}",
        Scope::Write,
    ),
];

/// The handler of a row of [`V1_ROUTES`] (`None` for an unknown pair; a unit test checks
/// every row has one).
fn handler(method: &str, path: &str) -> Option<MethodRouter<AppState>> {
    Some(match (method, path) {
        ("GET", "/v1/dpps/{dppId}") => get(read_dpp),
        ("GET", "/v1/dppsByIdAndDate/{dppId}") => get(read_dpp_at),
        ("GET", "/v1/dppsByProductId/{productId}") => get(read_by_product),
        ("POST", "/v1/dppsByProductIds") => post(read_ids),
        ("GET", "/v1/dpps/{dppId}/elements/{elementIdPath}") => get(read_element),
        ("POST", "/v1/dpps") => post(create_dpp),
        ("PATCH", "/v1/dpps/{dppId}") => patch(update_dpp),
        ("DELETE", "/v1/dpps/{dppId}") => delete(delete_dpp),
        ("PATCH", "/v1/dpps/{dppId}/elements/{elementIdPath}") => patch(update_element),
        _ => return None,
    })
}

/// The admin listener's `/v1` routes, each behind its scope (wrap with
/// [`crate::edge::admin_router`], which authenticates every request first).
pub fn admin_routes(state: AppState) -> Router {
    let mut router = Router::new();
    for (method, path, scope) in V1_ROUTES {
        match handler(method, path) {
            Some(h) => router = router.route(path, h.route_layer(require(*scope))),
            None => tracing::error!(%method, %path, "EN 18222 route without a handler"),
        }
    }
    router
        .layer(Extension(Door::Authority))
        .layer(map_response(|r: Response| tier(r, "authority")))
        .with_state(state)
}

/// The public listener's `<base path>/v1` routes, anonymous (wrap with
/// [`crate::edge::public_router`]); a signed reader's reads go through
/// [`Door::Reader`] (`crate::edge::reader_auth::en18222_reader`, admitting with `readers`).
pub fn public_routes(
    state: AppState,
    readers: std::sync::Arc<crate::edge::reader_auth::ReaderAuth>,
) -> Router {
    let base = super::public::base_path(&state.issuer.base_url);
    let mut router = Router::new();
    for (method, path, scope) in V1_ROUTES {
        let h = match scope {
            Scope::Read => handler(method, path),
            _ => writes_elsewhere_on(method),
        };
        match h {
            Some(h) => router = router.route(&format!("{base}{path}"), h),
            None => tracing::error!(%method, %path, "EN 18222 route without a handler"),
        }
    }
    router
        .layer(axum::middleware::from_fn_with_state(
            readers,
            crate::edge::reader_auth::en18222_reader,
        ))
        .layer(Extension(Door::Public))
        .layer(map_response(|r: Response| tier(r, "public")))
        .with_state(state)
}

/// A write row on the public listener: answered by [`writes_elsewhere`].
fn writes_elsewhere_on(method: &str) -> Option<MethodRouter<AppState>> {
    Some(match method {
        "POST" => post(writes_elsewhere),
        "PATCH" => patch(writes_elsewhere),
        "DELETE" => delete(writes_elsewhere),
        _ => return None,
    })
}

/// The writes on the public listener: 401 `Result`, before the body is read. The spec
/// documents 401 for every write (the edge's 404/405 it does not), and the public listener
/// never authenticates, so the answer says where writes are served — without a
/// `WWW-Authenticate` challenge, since no credentials are taken here.
async fn writes_elsewhere() -> Response {
    let problem = ApiError::Unauthorized.problem().detail(
        "writes are served on the node's admin listener (`/v1/…` with an API key of \
         scope `write`); the public listener takes no credentials",
    );
    result_response(&problem, HeaderMap::new())
}

/// Sets [`ACCESS_TIER_HEADER`] unless an inner layer named the tier (a signed reader's).
async fn tier(mut r: Response, tier: &'static str) -> Response {
    if !r.headers().contains_key(ACCESS_TIER_HEADER) {
        r.headers_mut()
            .insert(ACCESS_TIER_HEADER, HeaderValue::from_static(tier));
    }
    r
}

/// `representation` (and, for the date read, `date`).
#[derive(Debug, Deserialize)]
struct ReadParams {
    representation: Option<String>,
    date: Option<String>,
}

/// `limit` and `cursor` of `readDPPIdsByProductIds`.
#[derive(Debug, Deserialize)]
struct IdsParams {
    limit: Option<String>,
    cursor: Option<String>,
}

/// `ReadDPPIdsByProductIdsRequest`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct IdsRequest {
    product_ids: Vec<String>,
}

fn bad(detail: impl Into<String>) -> V1Error {
    V1Error(ApiError::BadRequest {
        detail: detail.into(),
    })
}

fn path_param<T>(p: Result<Path<T>, PathRejection>) -> Result<T, V1Error> {
    p.map(|Path(v)| v).map_err(|e| bad(e.body_text()))
}

fn params<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, V1Error> {
    q.map(|Query(v)| v).map_err(|e| V1Error(ApiError::from(e)))
}

/// `representation`: `compressed` (default) or `full`; anything else is 400.
fn representation(value: Option<&str>) -> Result<Representation, V1Error> {
    match value {
        None | Some("compressed") => Ok(Representation::Compressed),
        Some("full") => Ok(Representation::Full),
        Some(_) => Err(bad("representation must be `compressed` or `full`")),
    }
}

/// A `dppId` (percent-decoded once by `Path`): a bare UUID, `urn:uuid:<uuid>`, or the
/// passport's public URL (`<public base URL>/passports/<uuid>`). Anything else names no
/// passport: 404, as on the passport URL.
fn dpp_id(app: &AppState, s: &str) -> Result<PassportId, V1Error> {
    let url = format!("{}/passports/", app.issuer.base_url);
    let s = s.strip_prefix(url.as_str()).unwrap_or(s);
    let s = s.strip_prefix("urn:uuid:").unwrap_or(s);
    let uuid = Uuid::try_parse(s).map_err(|_| V1Error(ApiError::NotFound))?;
    PassportId::from_uuid(uuid).map_err(|_| V1Error(ApiError::NotFound))
}

/// `GET /v1/dpps/{dppId}` (readDPPById).
async fn read_dpp(
    State(app): State<AppState>,
    Extension(door): Extension<Door>,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<ReadParams>, QueryRejection>,
) -> Result<Json<Value>, V1Error> {
    let q = params(q)?;
    let r = representation(q.representation.as_deref())?;
    let id = dpp_id(&app, &path_param(id)?)?;
    Ok(Json(app.service().dpp(id, door, r).await?))
}

/// `GET /v1/dppsByIdAndDate/{dppId}?date=` (readDPPVersionByIdAndDate): `date` is required,
/// RFC 3339 with any offset.
async fn read_dpp_at(
    State(app): State<AppState>,
    Extension(door): Extension<Door>,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<ReadParams>, QueryRejection>,
) -> Result<Json<Value>, V1Error> {
    let q = params(q)?;
    let r = representation(q.representation.as_deref())?;
    let date = q
        .date
        .as_deref()
        .ok_or_else(|| bad("the query parameter `date` is required"))?;
    let at = OffsetDateTime::parse(date, &Rfc3339)
        .map_err(|_| bad("date must be an RFC 3339 date-time, e.g. 2026-01-31T12:00:00Z"))?;
    let id = dpp_id(&app, &path_param(id)?)?;
    Ok(Json(app.service().dpp_at(id, at, door, r).await?))
}

/// `GET /v1/dppsByProductId/{productId}` (readDPPByProductId).
async fn read_by_product(
    State(app): State<AppState>,
    Extension(door): Extension<Door>,
    product: Result<Path<String>, PathRejection>,
    q: Result<Query<ReadParams>, QueryRejection>,
) -> Result<Json<Value>, V1Error> {
    let q = params(q)?;
    let r = representation(q.representation.as_deref())?;
    let path = crate::service::dpp::product_path(&path_param(product)?)?;
    Ok(Json(app.service().dpp_by_product(&path, door, r).await?))
}

/// `POST /v1/dppsByProductIds` (readDPPIdsByProductIds): `limit` ≥ 1 (default 100, capped
/// at 1,000), `cursor` from the previous page.
async fn read_ids(
    State(app): State<AppState>,
    q: Result<Query<IdsParams>, QueryRejection>,
    ApiJson(body): ApiJson<IdsRequest>,
) -> Result<Json<Value>, V1Error> {
    let q = params(q)?;
    let limit = match q.limit.as_deref() {
        None => DEFAULT_IDS_LIMIT,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| *l >= 1)
            .ok_or_else(|| bad("limit must be an integer of at least 1"))?,
    };
    let page = app
        .service()
        .dpp_ids(&body.product_ids, limit, q.cursor.as_deref())
        .await?;
    let mut answer = json!({ "items": page.items });
    if let Some(cursor) = page.cursor {
        answer["cursor"] = json!(cursor);
    }
    Ok(Json(answer))
}

/// `GET /v1/dpps/{dppId}/elements/{elementIdPath}` (readDataElement): `elementIdPath` is
/// percent-decoded once (by `Path`) and must be a Normalized Path of the document the door
/// may see.
async fn read_element(
    State(app): State<AppState>,
    Extension(door): Extension<Door>,
    p: Result<Path<(String, String)>, PathRejection>,
    q: Result<Query<ReadParams>, QueryRejection>,
) -> Result<Json<Value>, V1Error> {
    let q = params(q)?;
    let r = representation(q.representation.as_deref())?;
    let (id, path) = path_param(p)?;
    let id = dpp_id(&app, &id)?;
    Ok(Json(app.service().dpp_element(id, door, &path, r).await?))
}

/// `representation` and `publish` of a write.
#[derive(Debug, Deserialize)]
struct WriteParams {
    representation: Option<String>,
    publish: Option<String>,
}

/// A write's query: `representation=full` answers 501 (the spec's descriptions; no write
/// takes the full representation), checked before anything else; `publish` is `true`
/// (the default) or `false`.
fn write_params(q: Result<Query<WriteParams>, QueryRejection>) -> Result<bool, V1Error> {
    let q = params(q)?;
    if representation(q.representation.as_deref())? == Representation::Full {
        return Err(V1Error(ApiError::NotImplemented {
            detail: "writes take the compressed representation only \
                     (representation=compressed, the default)"
                .into(),
        }));
    }
    match q.publish.as_deref() {
        None | Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(_) => Err(bad("publish must be `true` or `false`")),
    }
}

/// `POST /v1/dpps` (createDPP): 201 `{digitalProductPassportId}` with `Location` (the
/// admin listener's `/v1/dpps/{id}`).
async fn create_dpp(
    State(app): State<AppState>,
    who: Principal,
    q: Result<Query<WriteParams>, QueryRejection>,
    body: Result<ApiJson<Value>, ApiError>,
) -> Result<Response, V1Error> {
    let publish = write_params(q)?;
    let ApiJson(doc) = body?;
    let id = app.service().dpp_create(&who, &doc, publish).await?;
    let mut r = (
        StatusCode::CREATED,
        Json(json!({ "digitalProductPassportId": id.to_string() })),
    )
        .into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/v1/dpps/{}", id.uuid())) {
        r.headers_mut().insert(LOCATION, location);
    }
    Ok(r)
}

/// `PATCH /v1/dpps/{dppId}` (updateDPPById): an RFC 7396 merge patch
/// (`application/merge-patch+json`, or any JSON media type the edge takes); 200 with the
/// document after it.
async fn update_dpp(
    State(app): State<AppState>,
    who: Principal,
    id: Result<Path<String>, PathRejection>,
    q: Result<Query<WriteParams>, QueryRejection>,
    body: Result<ApiJson<Value>, ApiError>,
) -> Result<Json<Value>, V1Error> {
    let publish = write_params(q)?;
    let id = dpp_id(&app, &path_param(id)?)?;
    let ApiJson(patch) = body?;
    let (doc, _) = app
        .service()
        .dpp_change(&who, id, Change::Merge(&patch), publish)
        .await?;
    Ok(Json(doc))
}

/// `DELETE /v1/dpps/{dppId}` (deleteDPPById): deactivates (nothing is deleted); 204 with
/// [`STATUS_HEADER`] `deactivated`, also when it already was. No `representation`: the
/// operation has none (an unknown query parameter is ignored, as on the reads).
async fn delete_dpp(
    State(app): State<AppState>,
    who: Principal,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, V1Error> {
    let id = dpp_id(&app, &path_param(id)?)?;
    app.service().dpp_deactivate(&who, id).await?;
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut()
        .insert(STATUS_HEADER, HeaderValue::from_static("deactivated"));
    Ok(r)
}

/// `PATCH /v1/dpps/{dppId}/elements/{elementIdPath}` (updateDataElement): the body is the
/// new value of the existing node at the path; 200 with the value read back.
async fn update_element(
    State(app): State<AppState>,
    who: Principal,
    p: Result<Path<(String, String)>, PathRejection>,
    q: Result<Query<WriteParams>, QueryRejection>,
    body: Result<ApiJson<Value>, ApiError>,
) -> Result<Json<Value>, V1Error> {
    let publish = write_params(q)?;
    let (id, path) = path_param(p)?;
    let id = dpp_id(&app, &id)?;
    let ApiJson(value) = body?;
    let change = Change::Element {
        path: &path,
        value: &value,
    };
    let (doc, at) = app.service().dpp_change(&who, id, change, publish).await?;
    let value = at
        .and_then(|at| at.get(&doc).cloned())
        .ok_or(V1Error(ApiError::NotFound))?;
    Ok(Json(value))
}

#[cfg(test)]
mod tests {
    use super::{handler, V1_ROUTES};

    #[test]
    fn every_row_has_a_handler() {
        for (method, path, _) in V1_ROUTES {
            assert!(handler(method, path).is_some(), "{method} {path}");
        }
    }
}

//! The EN 18222 DPP API's read operations (`/work/shared/specs/en18222-dpp-api.openapi.yaml`;
//! operator view `docs/en18222.md`), one door onto `crate::service::dpp` on each listener:
//!
//! - admin listener, `/v1/…` ([`V1_ROUTES`], each behind its scope like the `/api/v1`
//!   routes): the full content (authority tier);
//! - public listener, `<public base path>/v1/…`, anonymous: the public tier.
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
use crate::auth::require;
use crate::problem::result::V1Error;
use crate::problem::{ApiError, ApiJson};
use crate::service::dpp::{Door, Representation, DEFAULT_IDS_LIMIT};
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderValue;
use axum::middleware::map_response;
use axum::response::Response;
use axum::routing::{get, post, MethodRouter};
use axum::{Extension, Json, Router};
use hallmark_core::passport::PassportId;
use serde::Deserialize;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

/// The header naming the tier an answer of these routes was built for.
pub const ACCESS_TIER_HEADER: &str = "hallmark-access-tier";

/// The EN 18222 read routes: method, path (below the listener's `/v1` root's parent), the
/// scope the admin listener requires. The public listener serves the same rows under its
/// base path, anonymously.
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
/// [`crate::edge::public_router`]).
pub fn public_routes(state: AppState) -> Router {
    let base = super::public::base_path(&state.issuer.base_url);
    let mut router = Router::new();
    for (method, path, _) in V1_ROUTES {
        match handler(method, path) {
            Some(h) => router = router.route(&format!("{base}{path}"), h),
            None => tracing::error!(%method, %path, "EN 18222 route without a handler"),
        }
    }
    router
        .layer(Extension(Door::Public))
        .layer(map_response(|r: Response| tier(r, "public")))
        .with_state(state)
}

/// Sets [`ACCESS_TIER_HEADER`].
async fn tier(mut r: Response, tier: &'static str) -> Response {
    r.headers_mut()
        .insert(ACCESS_TIER_HEADER, HeaderValue::from_static(tier));
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

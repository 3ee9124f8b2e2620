//! QR codes and labels: the public listener's `/passports/{id}/qr.svg` and `qr.png` (the
//! passport's GS1 Digital Link URI as a print-ready QR code, drawn by [`crate::qr`]) and the
//! admin API's `GET /api/v1/labels` (the URIs and element strings of published passports,
//! which `hallmark labels` draws). Both are thin over [`crate::service::labels`].

use crate::api::labels::LabelPage;
use crate::app::AppState;
use crate::edge::headers::STATUS_HEADER;
use crate::problem::ApiError;
use crate::qr::{self, Format, Options, ParamError, QrError};
use crate::service::LabelQuery;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use hallmark_core::passport::{Gtin, PassportId, PassportStatus};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Cache-Control of a QR image: its bytes depend only on the passport's product identifier
/// (fixed for the passport's life), the public base URL and the query, so caches may keep
/// it a day; a suspension answers 410 to new requests, and a cached image reveals nothing
/// but the identifier printed on the product anyway.
pub const QR_CACHE: &str = "public, max-age=86400";

/// Cache-Control of a suspended passport's 410, as on `/passports/{id}` (a resume shows
/// within the minute).
const GONE_CACHE: &str = "public, max-age=60";

/// A passport id from the URL (`urn:uuid:` optional), as `/passports/{id}` reads it.
fn parse_id(s: &str) -> Option<PassportId> {
    let s = s.strip_prefix("urn:uuid:").unwrap_or(s);
    PassportId::from_uuid(Uuid::try_parse(s).ok()?).ok()
}

/// The public QR paths under the public base URL's path `base`, with their formats.
pub fn paths(base: &str) -> [(String, Format); 2] {
    [
        (format!("{base}/passports/{{id}}/qr.svg"), Format::Svg),
        (format!("{base}/passports/{{id}}/qr.png"), Format::Png),
    ]
}

/// The public QR routes (merged into `super::public::routes`, which imports this module,
/// not the other way round).
pub fn routes(base: &str) -> Router<AppState> {
    let [(svg_path, _), (png_path, _)] = paths(base);
    Router::new()
        .route(&svg_path, get(svg))
        .route(&png_path, get(png))
}

/// The query of a QR image: `ec` (L, M, Q, H), `x` (mm), `dpi` (PNG).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QrParams {
    ec: Option<String>,
    x: Option<String>,
    dpi: Option<String>,
}

/// A drawing option out of range: 400 naming the parameter.
impl From<ParamError> for ApiError {
    fn from(e: ParamError) -> Self {
        ApiError::BadRequest {
            detail: e.to_string(),
        }
    }
}

/// A symbol that cannot be drawn (a Digital Link too long for a QR code: never expected,
/// lot and serial are at most 20 characters): logged, 500.
impl From<QrError> for ApiError {
    fn from(e: QrError) -> Self {
        tracing::error!(error = %e, "a QR code could not be drawn");
        ApiError::Internal
    }
}

async fn svg(
    State(app): State<AppState>,
    Path(id): Path<String>,
    q: Result<Query<QrParams>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    image(&app, &id, q, Format::Svg, &headers).await
}

async fn png(
    State(app): State<AppState>,
    Path(id): Path<String>,
    q: Result<Query<QrParams>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    image(&app, &id, q, Format::Png, &headers).await
}

/// A published passport's QR code: 404 for what `/passports/{id}` does not serve (unknown,
/// draft), 410 for a suspended passport (as `/passports/{id}`), 400 for a bad option.
async fn image(
    app: &AppState,
    id: &str,
    q: Result<Query<QrParams>, QueryRejection>,
    format: Format,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let Query(q) = q?;
    let options = Options::from_params(q.ec.as_deref(), q.x.as_deref(), q.dpi.as_deref())?;
    let id = parse_id(id).ok_or(ApiError::NotFound)?;
    let label = app.service().label(id).await?;
    if label.status == PassportStatus::Suspended {
        let mut r = ApiError::Gone {
            reason: label
                .status_reason
                .unwrap_or_else(|| "suspended".to_string()),
        }
        .into_response();
        let h = r.headers_mut();
        h.insert(CACHE_CONTROL, HeaderValue::from_static(GONE_CACHE));
        h.insert(
            STATUS_HEADER,
            HeaderValue::from_static(label.status.as_str()),
        );
        return Ok(r);
    }
    let bytes = qr::render(&label.digital_link, format, &options)?;
    let etag = HeaderValue::from_str(&format!("\"{}\"", hex::encode(Sha256::digest(&bytes))))
        .map_err(|_| ApiError::Internal)?;
    let not_modified = headers
        .get(IF_NONE_MATCH)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| {
            h.split(',')
                .any(|t| t.trim().as_bytes() == etag.as_bytes() || t.trim() == "*")
        });
    let mut r = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (StatusCode::OK, bytes).into_response()
    };
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(format.media_type()));
    h.insert(ETAG, etag);
    h.insert(CACHE_CONTROL, HeaderValue::from_static(QR_CACHE));
    h.insert(
        STATUS_HEADER,
        HeaderValue::from_static(label.status.as_str()),
    );
    Ok(r)
}

/// The query of `GET /api/v1/labels`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LabelParams {
    gtin: Option<String>,
    lot: Option<String>,
    after: Option<String>,
    limit: Option<u32>,
}

impl TryFrom<LabelParams> for LabelQuery {
    type Error = ApiError;

    fn try_from(q: LabelParams) -> Result<Self, ApiError> {
        let gtin = match q.gtin.as_deref() {
            None => None,
            Some(g) => Some(Gtin::parse(g).map_err(|e| ApiError::BadRequest {
                detail: format!("gtin: {e}"),
            })?),
        };
        let after = match q.after.as_deref() {
            None => None,
            Some(s) => Some(parse_id(s).ok_or_else(|| ApiError::BadRequest {
                detail: "after must be a passport id (UUIDv7)".into(),
            })?),
        };
        Ok(LabelQuery {
            gtin,
            lot: q.lot,
            after,
            limit: q.limit,
        })
    }
}

/// `GET /api/v1/labels?gtin=&lot=&after=&limit=`: a page of published passports' labels.
pub(super) async fn labels(
    State(app): State<AppState>,
    q: Result<Query<LabelParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = q?;
    let page = app.service().labels(q.try_into()?).await?;
    crate::api::reply(&LabelPage::from(page))
}

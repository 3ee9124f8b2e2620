//! Restricted reads on the public listener's passport URLs (`docs/access.md`, "Restricted
//! reads"), and a reader's own state (`GET <base>/readers/me`, [`me`]): a request whose
//! signature admitted a reader (`crate::edge::reader_auth::Signed`) is
//! served the credential of its grant's tier by
//! [`Service::restricted_read`](crate::service::Service::restricted_read), negotiated like
//! the public credential (`vc+jwt` or Data Integrity by `Accept`), sealed to the reader's
//! X25519 key when `Accept` names `application/jose` (or the operator seals the authority
//! tier always), never cached by shared caches. Signed requests always get the credential
//! (no consumer page, no AAS).

use super::negotiate::{negotiate_form, not_modified, wants_sealed, JOSE};
use crate::app::AppState;
use crate::edge::headers::STATUS_HEADER;
use crate::edge::reader_auth::{private, ReaderAuth};
use crate::problem::ApiError;
use crate::service::restricted::{AdmittedReader, Delivery};
use axum::extract::FromRef;
use axum::http::header::{CONTENT_TYPE, ETAG};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hallmark_core::passport::PassportId;
use std::sync::Arc;
use time::OffsetDateTime;
use uuid::Uuid;

/// The state of the passport and version URLs: the application and the reader
/// authentication the `Signed` extractor uses (one per router: its per-reader limiter).
#[derive(Clone)]
pub struct PassportDoor {
    app: AppState,
    readers: Arc<ReaderAuth>,
}

impl PassportDoor {
    /// The door over `app`, admitting readers with `readers` (shared with the EN 18222 reads
    /// of the listener: one per-reader rate limit).
    pub fn new(app: AppState, readers: Arc<ReaderAuth>) -> Self {
        PassportDoor { app, readers }
    }
}

impl FromRef<PassportDoor> for AppState {
    fn from_ref(door: &PassportDoor) -> AppState {
        Arc::clone(&door.app)
    }
}

impl FromRef<PassportDoor> for Arc<ReaderAuth> {
    fn from_ref(door: &PassportDoor) -> Arc<ReaderAuth> {
        Arc::clone(&door.readers)
    }
}

/// The header naming the tier served.
pub use crate::edge::headers::ACCESS_TIER_HEADER as TIER_HEADER;

/// A passport id from the URL; `None` (answered as out of scope) when it does not parse.
fn parse_id(s: &str) -> Option<PassportId> {
    let s = s.strip_prefix("urn:uuid:").unwrap_or(s);
    PassportId::from_uuid(Uuid::try_parse(s).ok()?).ok()
}

/// Serves `reader` passport `id`'s version `version` (or the current one). `version` is
/// `Some(None)` for a version segment that is not a positive number (not found, in scope).
pub async fn serve(
    app: &AppState,
    reader: &AdmittedReader,
    id: &str,
    version: Option<Option<u32>>,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let (form, media) = negotiate_form(headers);
    let delivery = Delivery::Credential {
        sealed: wants_sealed(headers),
        media_type: media,
    };
    // A version segment that is not a number: checked for scope first, then not found.
    let n = version.map(|n| n.unwrap_or(u32::MAX));
    let answer = app
        .service()
        .restricted_read(reader, parse_id(id), n, form, delivery)
        .await;
    let read = match answer {
        Ok(read) => read,
        Err(e) => return Ok(private(ApiError::from(e).into_response())),
    };
    let mut r = if not_modified(headers, &read.etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (StatusCode::OK, read.bytes).into_response()
    };
    let h = r.headers_mut();
    let media = if read.sealed { JOSE } else { media };
    h.insert(CONTENT_TYPE, HeaderValue::from_static(media));
    h.insert(ETAG, read.etag);
    h.insert(
        STATUS_HEADER,
        HeaderValue::from_static(read.status.as_str()),
    );
    h.insert(TIER_HEADER, HeaderValue::from_static(read.tier.as_str()));
    for (name, value) in read.log_headers {
        h.append(name, value);
    }
    Ok(private(r))
}

/// `GET <base>/readers/me`, signed: the signing reader's own registration — status, grant,
/// whether it gave an encryption key — whatever its status (a registered reader learns it is
/// not approved yet, a revoked one that it is revoked). Never cached; refusals as for
/// restricted reads.
pub async fn me(
    axum::extract::State(door): axum::extract::State<PassportDoor>,
    req: axum::extract::Request,
) -> Response {
    match door.readers.signed_reader(req).await {
        Ok(reader) => {
            let body = crate::api::readers::ReaderSelf::of(&reader, OffsetDateTime::now_utc())
                .and_then(|b| crate::api::reply(&b));
            match body {
                Ok(r) => private(r.into_response()),
                Err(e) => private(e.into_response()),
            }
        }
        Err(refused) => refused,
    }
}

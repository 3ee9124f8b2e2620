//! Body size, JSON structure limits and the strict input rules, enforced before any handler
//! runs.
//!
//! The body is read up to `max_body_bytes` (a larger `Content-Length` is refused before
//! reading anything; a chunked body is cut off at the limit), then — when the request says
//! it is JSON (`application/json` or `application/*+json`) — checked by the streaming
//! scanner in [`super::json`] (limits, duplicate member names, numbers not signed as
//! written, U+0000) and marked [`CheckedJson`]. The handler receives the buffered bytes
//! unchanged. The JSON extractor ([`crate::problem::ApiJson`]) takes only bodies of these
//! media types that carry the mark, so no unchecked JSON reaches business code.
//!
//! On the admin listener, [`guard`] also refuses query and path parameters holding U+0000
//! ([`super::params`]).
//!
//! One route has its own size limit: the batch route ([`BATCH_PATH`], up to 1,000 passports)
//! is read up to `max_batch_body_bytes` instead ([`max_for`]); its JSON structure limits are
//! the same.

use super::json;
use super::media::is_json;
use super::{params, Limits};
use crate::problem::{ApiError, CheckedJson};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::CONTENT_LENGTH;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use std::sync::Arc;

/// Middleware (admin listener): refuse parameters holding U+0000, then enforce the limits
/// and input rules on the body.
pub async fn guard(State(limits): State<Arc<Limits>>, req: Request, next: Next) -> Response {
    let checked = async {
        let req = params::check(req).await?;
        check(&limits, req).await
    };
    match checked.await {
        Ok(req) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

/// The admin route whose body may be larger (`max_batch_body_bytes`).
pub const BATCH_PATH: &str = "/api/v1/passports/batch";

/// The largest body of the verification service's routes (`POST …/credentials/verify`,
/// `…/presentations/verify`, the page's `…/verify`; `crate::routes::vc`), or
/// `max_body_bytes` when that is smaller: a passport credential is about 10 KB.
pub const VERIFY_MAX_BODY_BYTES: usize = 256 * 1024;

/// Whether `req` posts to one of the verification service's routes.
fn is_verification(req: &Request) -> bool {
    req.method() == axum::http::Method::POST && req.uri().path().ends_with("/verify")
}

/// The body limit of a request and its setting's name: `max_batch_body_bytes` for `POST`
/// [`BATCH_PATH`], [`VERIFY_MAX_BODY_BYTES`] (at most `max_body_bytes`) for the
/// verification routes, `max_body_bytes` for everything else.
pub fn max_for(limits: &Limits, req: &Request) -> (usize, &'static str) {
    if req.method() == axum::http::Method::POST && req.uri().path() == BATCH_PATH {
        (limits.max_batch_body_bytes, "max_batch_body_bytes")
    } else if is_verification(req) && VERIFY_MAX_BODY_BYTES < limits.max_body_bytes {
        (VERIFY_MAX_BODY_BYTES, "verification_body_bytes")
    } else {
        (limits.max_body_bytes, "max_body_bytes")
    }
}

/// The body guard's check: the request back (its body read and checked) or the refusal.
pub async fn check(limits: &Limits, req: Request) -> Result<Request, ApiError> {
    let (max, limit) = max_for(limits, &req);
    let too_large = ApiError::BodyTooLarge { max, limit };
    if let Some(len) = req.headers().get(CONTENT_LENGTH) {
        let len = len
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .ok_or_else(|| ApiError::BadRequest {
                detail: "invalid Content-Length".into(),
            })?;
        if len > max as u64 {
            return Err(too_large);
        }
    }
    // A request that carries no body (every public GET) has nothing to read or check.
    if axum::body::HttpBody::is_end_stream(req.body()) {
        return Ok(req);
    }
    let (mut parts, body) = req.into_parts();
    let bytes = match Limited::new(body, max).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => return Err(too_large),
        Err(_) => {
            return Err(ApiError::BadRequest {
                detail: "could not read the request body".into(),
            })
        }
    };
    if !bytes.is_empty() && is_json(&parts.headers) {
        json::check(&bytes, &limits.json)?;
        parts.extensions.insert(CheckedJson);
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use axum::http::header::CONTENT_TYPE;
    use axum::http::HeaderMap;

    #[test]
    fn json_content_types() {
        let mut h = HeaderMap::new();
        assert!(!is_json(&h));
        for (ct, want) in [
            ("application/json", true),
            ("Application/JSON; charset=utf-8", true),
            ("application/ld+json", true),
            ("application/vc+ld+json", true),
            ("text/plain", false),
            ("application/jsonx", false),
            ("text/json+x", false),
        ] {
            h.insert(CONTENT_TYPE, ct.parse().unwrap());
            assert_eq!(is_json(&h), want, "{ct}");
        }
    }

    fn small() -> Limits {
        Limits {
            max_body_bytes: 16,
            max_batch_body_bytes: 64,
            json: json::JsonLimits {
                max_depth: 2,
                ..json::JsonLimits::default()
            },
        }
    }

    #[tokio::test]
    async fn body_without_content_length_is_cut_at_the_limit() {
        // No Content-Length header: the streaming limit must catch it.
        let req = Request::builder()
            .method("POST")
            .body(Body::from(vec![b'a'; 17]))
            .unwrap();
        assert_eq!(
            check(&small(), req).await.err(),
            Some(ApiError::BodyTooLarge {
                max: 16,
                limit: "max_body_bytes"
            })
        );
        let req = Request::builder()
            .method("POST")
            .body(Body::from(vec![b'a'; 16]))
            .unwrap();
        assert!(check(&small(), req).await.is_ok());
    }

    #[tokio::test]
    async fn the_batch_route_has_its_own_limit() {
        let post = |path: &str, len: usize| {
            Request::builder()
                .method("POST")
                .uri(path)
                .body(Body::from(vec![b'a'; len]))
                .unwrap()
        };
        assert!(check(&small(), post(BATCH_PATH, 64)).await.is_ok());
        assert_eq!(
            check(&small(), post(BATCH_PATH, 65)).await.err(),
            Some(ApiError::BodyTooLarge {
                max: 64,
                limit: "max_batch_body_bytes"
            })
        );
        assert_eq!(
            check(&small(), post("/api/v1/passports", 17)).await.err(),
            Some(ApiError::BodyTooLarge {
                max: 16,
                limit: "max_body_bytes"
            })
        );
        let get = Request::builder()
            .method("GET")
            .uri(BATCH_PATH)
            .body(Body::from(vec![b'a'; 17]))
            .unwrap();
        assert!(
            check(&small(), get).await.is_err(),
            "only POST has the batch limit"
        );
    }

    #[tokio::test]
    async fn declared_length_over_limit_is_refused_unread() {
        let req = Request::builder()
            .method("POST")
            .header(CONTENT_LENGTH, "1000000")
            .body(Body::empty())
            .unwrap();
        assert_eq!(
            check(&small(), req).await.err(),
            Some(ApiError::BodyTooLarge {
                max: 16,
                limit: "max_body_bytes"
            })
        );
    }

    #[tokio::test]
    async fn json_checked_only_when_declared() {
        let deep = "[[[1]]]";
        let req = Request::builder()
            .method("POST")
            .header(CONTENT_TYPE, "application/json")
            .body(Body::from(deep))
            .unwrap();
        assert!(matches!(
            check(&small(), req).await.err(),
            Some(ApiError::JsonLimit { .. })
        ));
        let req = Request::builder()
            .method("POST")
            .header(CONTENT_TYPE, "text/plain")
            .body(Body::from(deep))
            .unwrap();
        assert!(check(&small(), req).await.is_ok());
    }
}

//! Security headers on every response, errors included; the names of the node's own
//! response headers.

use axum::extract::{Request, State};
use axum::http::header::{
    HeaderName, HeaderValue, CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY,
    STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::middleware::Next;
use axum::response::Response;

/// `Content-Security-Policy`: the node serves data and no scripts; its one kind of page (the
/// consumer page) carries its own policy ([`PageCsp`]).
pub const CSP: &str = "default-src 'none'; frame-ancestors 'none'";
/// `Strict-Transport-Security` (sent only when the public base URL is https).
pub const HSTS: &str = "max-age=63072000; includeSubDomains";

/// Header carrying the passport's status beside the signed bytes (`published`, `archived`,
/// `deactivated`) or with the 410 of a suspended one.
pub const STATUS_HEADER: &str = "hallmark-passport-status";
/// The header naming the tier an answer was built for (`public`, `legitimateInterest`,
/// `authority`): the EN 18222 reads and the restricted reads.
pub const ACCESS_TIER_HEADER: &str = "hallmark-access-tier";
/// Header carrying the transparency-log index of the served version's publish event.
pub const LOG_INDEX_HEADER: &str = "hallmark-log-index";

/// `Link` relation of the inclusion proof of that leaf.
pub const REL_LOG_INCLUSION: &str = "urn:hallmark:log-inclusion";
/// `Link` relation of the log's latest checkpoint.
pub const REL_LOG_CHECKPOINT: &str = "urn:hallmark:log-checkpoint";

/// `Hallmark-Log-Index` and `Link` headers pointing a verifier at the log leaf of a
/// publish event (audit `seq`; leaf `seq - 1`), for the public read and the admin publish
/// response. The signed bytes are not touched.
pub fn log_headers(base_url: &str, seq: u64) -> Vec<(HeaderName, HeaderValue)> {
    let index = seq.saturating_sub(1);
    let link = format!(
        "<{base_url}/log/proof/inclusion?index={index}>; rel=\"{REL_LOG_INCLUSION}\", \
         <{base_url}/log/checkpoint>; rel=\"{REL_LOG_CHECKPOINT}\""
    );
    let mut out = vec![(
        HeaderName::from_static(LOG_INDEX_HEADER),
        HeaderValue::from(index),
    )];
    if let Ok(v) = HeaderValue::from_str(&link) {
        out.push((axum::http::header::LINK, v));
    }
    out
}

/// A response extension: the `Content-Security-Policy` of a page (the consumer page, with
/// its inline stylesheet's hash), sent instead of [`CSP`] on that response only. Set by a
/// handler; the other security headers stay as they are.
#[derive(Debug, Clone)]
pub struct PageCsp(pub HeaderValue);

/// Which optional headers to send.
#[derive(Debug, Clone, Copy)]
pub struct SecurityHeaders {
    /// Send HSTS.
    pub hsts: bool,
    /// Send `Cache-Control: no-store` unless the handler set a cache policy (admin).
    pub no_store: bool,
}

/// The fixed headers, in order.
pub const FIXED: [(HeaderName, &str); 4] = [
    (CONTENT_SECURITY_POLICY, CSP),
    (X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (X_FRAME_OPTIONS, "DENY"),
    (REFERRER_POLICY, "no-referrer"),
];

/// Middleware: set the security headers on the response.
pub async fn apply(State(cfg): State<SecurityHeaders>, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let page_csp = response.extensions_mut().remove::<PageCsp>();
    let h = response.headers_mut();
    for (name, value) in FIXED {
        h.insert(name, HeaderValue::from_static(value));
    }
    if let Some(PageCsp(csp)) = page_csp {
        h.insert(CONTENT_SECURITY_POLICY, csp);
    }
    if cfg.hsts {
        h.insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    if cfg.no_store && !h.contains_key(CACHE_CONTROL) {
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

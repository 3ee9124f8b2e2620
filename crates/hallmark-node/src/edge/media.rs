//! The media types the edge recognises, shared by the body guard ([`super::body`]) and the
//! JSON extractor (`problem::ApiJson`), which must accept exactly the same bodies.

use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderMap;

/// Whether the request declares a JSON body.
pub fn is_json(headers: &HeaderMap) -> bool {
    let Some(ct) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

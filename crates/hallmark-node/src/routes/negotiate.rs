//! Content negotiation shared by the public credential routes (passports, status lists,
//! restricted reads): the signed form `Accept` asks for, and `If-None-Match`.

use crate::cache::Form;
use axum::http::header::{ACCEPT, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue};

/// Media type of the `vc+jwt` form.
pub const VC_JWT: &str = "application/vc+jwt";
/// Media type of the Data Integrity form.
pub const VC_LD_JSON: &str = "application/vc+ld+json";

/// The signed form `Accept` asks for, and the media type to answer it as: `vc+jwt` when
/// named; else the Data Integrity JSON, as `application/json` when that is asked for (and
/// `application/vc+ld+json` is not), otherwise as `application/vc+ld+json` (also for `*/*`
/// and no `Accept`). Passports and status lists negotiate alike.
pub fn negotiate_form(headers: &HeaderMap) -> (Form, &'static str) {
    let accept = headers.get(ACCEPT).map_or(&b""[..], HeaderValue::as_bytes);
    if contains_ignore_case(accept, VC_JWT) {
        (Form::Jwt, VC_JWT)
    } else if contains_ignore_case(accept, "application/json")
        && !contains_ignore_case(accept, VC_LD_JSON)
    {
        (Form::DataIntegrity, "application/json")
    } else {
        (Form::DataIntegrity, VC_LD_JSON)
    }
}

/// Whether `If-None-Match` names `etag` (or is `*`).
pub fn not_modified(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    headers
        .get(IF_NONE_MATCH)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|h| {
            h.split(',')
                .any(|t| t.trim().as_bytes() == etag.as_bytes() || t.trim() == "*")
        })
}

/// Whether `needle` (ASCII) occurs in `haystack`, ignoring ASCII case; no allocation.
pub fn contains_ignore_case(haystack: &[u8], needle: &str) -> bool {
    let needle = needle.as_bytes();
    needle.is_empty()
        || haystack
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::{contains_ignore_case, VC_JWT};

    #[test]
    fn accept_matching_ignores_ascii_case_and_finds_media_types_in_lists() {
        assert!(contains_ignore_case(b"Application/VC+JWT", VC_JWT));
        assert!(contains_ignore_case(
            b"text/html, application/vc+jwt;q=0.9",
            VC_JWT
        ));
        assert!(!contains_ignore_case(b"application/vc+ld+json", VC_JWT));
        assert!(!contains_ignore_case(b"", VC_JWT));
        assert!(!contains_ignore_case(b"application/vc", VC_JWT));
    }
}

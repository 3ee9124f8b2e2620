//! Content negotiation shared by the public credential routes (passports, status lists,
//! restricted reads): the signed form `Accept` asks for, and `If-None-Match`.

use crate::cache::Form;
use axum::http::header::{ACCEPT, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue};

/// Media type of the `vc+jwt` form.
pub const VC_JWT: &str = "application/vc+jwt";
/// Media type of the Data Integrity form.
pub const VC_LD_JSON: &str = "application/vc+ld+json";

/// Media type of a compact JWE (RFC 7516 §9.1): a sealed credential.
pub const JOSE: &str = "application/jose";

/// Whether `Accept` asks for a sealed answer (`application/jose`; a signed reader's
/// restricted reads only). `application/jose+json` (the JSON serialization) is not served.
pub fn wants_sealed(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT)
        .iter()
        .flat_map(|v| v.to_str().unwrap_or_default().split(','))
        .any(|item| {
            let mut params = item.split(';');
            let media = params.next().unwrap_or_default().trim();
            let refused = params.any(|p| {
                p.split_once('=').is_some_and(|(k, v)| {
                    k.trim().eq_ignore_ascii_case("q")
                        && v.trim().parse::<f32>().is_ok_and(|q| q <= 0.0)
                })
            });
            media.eq_ignore_ascii_case(JOSE) && !refused
        })
}

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

/// Whether `If-None-Match` names `etag` (or is `*`), by the weak comparison RFC 9110
/// §13.1.2 prescribes for it (a `W/` prefix on either side is ignored). No allocation: the
/// public read path asks this of every request.
pub fn not_modified(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let Some(asked) = headers.get(IF_NONE_MATCH).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let Ok(ours) = etag.to_str() else {
        return false;
    };
    let ours = opaque(ours);
    asked
        .split(',')
        .any(|t| t.trim() == "*" || opaque(t) == ours)
}

/// An entity tag without its weakness indicator.
fn opaque(t: &str) -> &str {
    let t = t.trim();
    t.strip_prefix("W/").unwrap_or(t)
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
    #![allow(clippy::unwrap_used)]
    use super::{contains_ignore_case, not_modified, wants_sealed, VC_JWT};
    use axum::http::{HeaderMap, HeaderValue};

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("accept", HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn a_sealed_answer_is_asked_for_by_application_jose_unless_refused() {
        assert!(wants_sealed(&accept("application/jose")));
        assert!(wants_sealed(&accept(
            "application/vc+jwt;q=0.5, Application/JOSE;q=0.9"
        )));
        assert!(!wants_sealed(&accept("application/jose;q=0")));
        assert!(!wants_sealed(&accept("application/jose+json")));
        assert!(!wants_sealed(&accept("application/vc+ld+json, */*")));
        assert!(!wants_sealed(&HeaderMap::new()));
    }

    #[test]
    fn if_none_match_compares_weakly() {
        let mut h = HeaderMap::new();
        h.insert(
            "if-none-match",
            HeaderValue::from_static("\"ab\", W/\"cd\""),
        );
        assert!(not_modified(&h, &HeaderValue::from_static("\"ab\"")));
        assert!(not_modified(&h, &HeaderValue::from_static("W/\"ab\"")));
        assert!(not_modified(&h, &HeaderValue::from_static("\"cd\"")));
        assert!(!not_modified(&h, &HeaderValue::from_static("\"ef\"")));
    }

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

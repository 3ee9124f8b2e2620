//! Request parameters (query string and path segments) that hold U+0000 are refused with
//! 400 `forbidden-character`, naming the parameter, before any handler runs: PostgreSQL
//! cannot store NUL in `TEXT` while SQLite can, so both backends answer the same only if
//! it never reaches the store. A NUL can reach a decoded parameter only as the escape `%00`
//! (an HTTP request line cannot carry the raw byte), so a URI without `%00` — every ordinary
//! request — costs one byte scan and nothing else.
//!
//! Applied on the admin listener, where parameters reach the store. The public listener
//! stores nothing from its requests and parses its parameters as UUIDs and integers, so it
//! runs no extra check (its read path stays as lean as it is).

use crate::problem::{ApiError, ParamLocation};
use axum::extract::{FromRequestParts, Query, RawPathParams, Request};

/// Whether `s` holds the escape of U+0000.
fn has_nul_escape(s: &str) -> bool {
    s.as_bytes().windows(3).any(|w| w == b"%00")
}

/// The request back, or the refusal naming the first parameter that decodes to a string
/// holding U+0000.
pub async fn check(req: Request) -> Result<Request, ApiError> {
    if let Some(query) = req.uri().query().filter(|q| has_nul_escape(q)) {
        let pairs = Query::<Vec<(String, String)>>::try_from_uri(req.uri())
            .map(|Query(pairs)| pairs)
            .unwrap_or_default();
        let name = pairs
            .into_iter()
            .find(|(name, value)| name.contains('\0') || value.contains('\0'))
            .map(|(name, _)| name)
            // Not decodable as pairs: the query string as a whole.
            .unwrap_or_else(|| query.chars().take(64).collect());
        return Err(ApiError::ForbiddenParameter {
            location: ParamLocation::Query,
            name,
        });
    }
    if !has_nul_escape(req.uri().path()) {
        return Ok(req);
    }
    let (mut parts, body) = req.into_parts();
    // No parameters (an unknown route, or the escape in a fixed segment): nothing reaches a
    // handler's parameters; the router answers as usual.
    if let Ok(params) = RawPathParams::from_request_parts(&mut parts, &()).await {
        if let Some((name, _)) = params.iter().find(|(_, value)| value.contains('\0')) {
            return Err(ApiError::ForbiddenParameter {
                location: ParamLocation::Path,
                name: name.to_string(),
            });
        }
    }
    Ok(Request::from_parts(parts, body))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use axum::body::Body;

    async fn query(uri: &str) -> Result<(), ApiError> {
        let req = Request::builder().uri(uri).body(Body::empty()).unwrap();
        check(req).await.map(|_| ())
    }

    #[tokio::test]
    async fn query_parameters_holding_nul_are_named() {
        assert_eq!(query("/x?sector=battery&gtin=%2500").await, Ok(()));
        assert_eq!(query("/x/%2500").await, Ok(()));
        for (uri, name) in [
            ("/x?sector=%00", "sector"),
            ("/x?status=draft&gtin=09506000134352%00", "gtin"),
            ("/x?a%00b=1", "a\0b"),
        ] {
            assert_eq!(
                query(uri).await,
                Err(ApiError::ForbiddenParameter {
                    location: ParamLocation::Query,
                    name: name.into()
                }),
                "{uri}"
            );
        }
    }
}

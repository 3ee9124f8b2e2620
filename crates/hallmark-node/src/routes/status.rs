//! The public status lists (W3C Bitstring Status List v1.0; `docs/status.md`): a door onto
//! `Service::status_list`.
//!
//! | Request | Answer |
//! |---|---|
//! | `GET <base>/status/{purpose}/{list}` | the latest signed version: Data Integrity JSON (`application/vc+ld+json`, or `application/json` when asked for it) or `application/vc+jwt` by `Accept`; strong `ETag` (304 on `If-None-Match`); `Cache-Control: public, max-age=` the lesser of the list's `ttl` (300 s) and the seconds left until its `validUntil`; `Hallmark-Log-Index` and `Link` to the inclusion proof of its `status-list.published` leaf |
//! | `GET <base>/status/{purpose}/{list}/versions/{n}` | version `n`, immutable (a year's `max-age`), same headers |
//!
//! An unknown purpose, list or version is 404. The bytes served are the stored bytes,
//! verified once against the node's keys (a row the node cannot verify is withheld, with an
//! integrity alarm, as for passports) and cached (`crate::cache::StatusListCache`).

use crate::app::AppState;
use crate::cache::{Cached, ServedList};
use crate::problem::ApiError;
use crate::routes::public::{log_headers, negotiate_form, not_modified, IMMUTABLE};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, VARY};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use hallmark_core::status::{list_url, StatusPurpose, LIST_TTL_SECS};
use hallmark_store::StatusListRecord;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The status list paths under `base` and their summaries (the route table and the
/// OpenAPI document read these).
pub fn paths(base: &str) -> Vec<(String, &'static str)> {
    vec![
        (
            format!("{base}/status/{{purpose}}/{{list}}"),
            "A status list (purpose: suspension|revocation), its latest signed BitstringStatusListCredential (Accept: application/vc+jwt for the JWT form); ETag, Cache-Control within its ttl and validity, Hallmark-Log-Index and Link to its log inclusion proof",
        ),
        (
            format!("{base}/status/{{purpose}}/{{list}}/versions/{{version}}"),
            "One signed version of a status list, exactly as published (immutable), with its log headers",
        ),
    ]
}

/// The status list routes under `base`.
pub fn routes(base: &str) -> Router<AppState> {
    Router::new()
        .route(&format!("{base}/status/{{purpose}}/{{list}}"), get(latest))
        .route(
            &format!("{base}/status/{{purpose}}/{{list}}/versions/{{version}}"),
            get(version),
        )
}

/// A purpose and a list number from the path; anything else is 404.
fn parse(purpose: &str, list: &str) -> Result<(StatusPurpose, u32), ApiError> {
    let purpose = StatusPurpose::parse(purpose).map_err(|_| ApiError::NotFound)?;
    let list = number(list)?;
    Ok((purpose, list))
}

/// A decimal number as written by the node (no sign, no leading zero); else 404.
fn number(s: &str) -> Result<u32, ApiError> {
    if s.is_empty() || (s.len() > 1 && s.starts_with('0')) || !s.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(ApiError::NotFound);
    }
    s.parse().map_err(|_| ApiError::NotFound)
}

async fn latest(
    State(app): State<AppState>,
    Path((purpose, list)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (purpose, list) = parse(&purpose, &list)?;
    let served = match app.status_lists.latest(purpose, list) {
        Some(s) => s,
        None => {
            let generation = app.status_lists.generation();
            let record = app.service().status_list(purpose, list, None).await?;
            let s = Arc::new(load(&app, record).await?);
            app.status_lists
                .insert_latest(purpose, list, Arc::clone(&s), generation);
            s
        }
    };
    let left = (served.valid_until - time::OffsetDateTime::now_utc()).whole_seconds();
    let max_age = left.clamp(0, LIST_TTL_SECS);
    reply(&served, &headers, &format!("public, max-age={max_age}"))
}

async fn version(
    State(app): State<AppState>,
    Path((purpose, list, version)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (purpose, list) = parse(&purpose, &list)?;
    let n = number(&version)?;
    let served = match app.status_lists.version(purpose, list, n) {
        Some(s) => s,
        None => {
            let record = app.service().status_list(purpose, list, Some(n)).await?;
            let s = Arc::new(load(&app, record).await?);
            app.status_lists
                .insert_version(purpose, list, Arc::clone(&s));
            s
        }
    };
    reply(&served, &headers, IMMUTABLE)
}

fn reply(served: &ServedList, headers: &HeaderMap, cache: &str) -> Result<Response, ApiError> {
    let (form, media) = negotiate_form(headers);
    let c = served.form(form);
    let mut r = if not_modified(headers, &c.etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (StatusCode::OK, c.bytes.clone()).into_response()
    };
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(media));
    h.insert(VARY, HeaderValue::from_static("Accept"));
    h.insert(ETAG, c.etag.clone());
    h.insert(
        CACHE_CONTROL,
        HeaderValue::from_str(cache).map_err(|_| ApiError::Internal)?,
    );
    for (name, value) in &c.log_headers {
        h.append(name.clone(), value.clone());
    }
    Ok(r)
}

/// A stored version as served: both forms verified against the node's keys and named as
/// this list, their ETags and log headers. A version that does not verify is withheld
/// (500) and raises an integrity alarm.
async fn load(app: &AppState, record: StatusListRecord) -> Result<ServedList, ApiError> {
    let doc = app.did_document().await?;
    let expected = list_url(&app.issuer.base_url, record.purpose, record.list);
    let subject = format!(
        "status/{}/{}/v{}",
        record.purpose, record.list, record.version
    );
    let jwt = record.credential_jwt.into_bytes();
    for (bytes, form) in [(&record.credential, "data-integrity"), (&jwt, "jwt")] {
        if let Err(reason) = crate::integrity::verify_served(bytes, &doc, &expected) {
            crate::integrity::alarm(
                app.as_ref(),
                crate::integrity::AlarmKind::Version,
                &subject,
                &WithheldList {
                    list: &subject,
                    form,
                    reason: &reason,
                },
            )
            .await;
            return Err(ApiError::Internal);
        }
    }
    let logged = log_headers(&app.issuer.base_url, record.seq);
    let cached = |bytes: Vec<u8>| -> Result<Cached, ApiError> {
        let etag = HeaderValue::from_str(&format!("\"{}\"", hex::encode(Sha256::digest(&bytes))))
            .map_err(|_| ApiError::Internal)?;
        Ok(Cached {
            bytes: Bytes::from(bytes),
            etag,
            log_headers: logged.clone(),
        })
    };
    Ok(ServedList {
        version: record.version,
        data_integrity: cached(record.credential)?,
        jwt: cached(jwt)?,
        valid_until: record.valid_until,
    })
}

/// The integrity alarm's detail for a status list version the node does not serve.
#[derive(Debug, serde::Serialize)]
struct WithheldList<'a> {
    list: &'a str,
    form: &'a str,
    reason: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_node_s_own_spelling_of_a_list_is_found() {
        assert!(matches!(
            parse("suspension", "0"),
            Ok((StatusPurpose::Suspension, 0))
        ));
        assert!(matches!(
            parse("revocation", "12"),
            Ok((StatusPurpose::Revocation, 12))
        ));
        for (p, l) in [
            ("Suspension", "0"),
            ("refresh", "0"),
            ("suspension", "00"),
            ("suspension", "-1"),
            ("suspension", "+1"),
            ("suspension", ""),
            ("suspension", "4294967296"),
        ] {
            assert!(parse(p, l).is_err(), "{p}/{l}");
        }
    }
}

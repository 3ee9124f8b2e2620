//! The consumer page's door: `GET <base>/passports/{id}[/versions/{n}]` with `Accept:
//! text/html` (`crate::page::wants_html`; `routes::public` hands such requests here). One
//! service call (`Service::public_passport`: state, and the version verified on the server),
//! then the rendered page from [`crate::evidence::PageCache`] or freshly rendered.
//!
//! Answers: 200 with the page (published, archived, deactivated: data shown), 410 with the
//! page for a suspended passport (status and reason; no data, as on the JSON path), the
//! problem+json 404 for drafts and unknown ids. Every page: `Vary: Accept, Accept-Language`,
//! `Content-Language`, the status header, the current-version URL's short caching (a page
//! shows the status, which may change), and its own CSP (`edge::headers::PageCsp`).

use crate::app::AppState;
use crate::edge::headers::{PageCsp, STATUS_HEADER};
use crate::evidence::{LogEvidence, PageKey};
use crate::page::{self, lang, Site};
use crate::problem::ApiError;
use axum::body::Bytes;
use axum::http::header::{ACCEPT_LANGUAGE, CACHE_CONTROL, CONTENT_LANGUAGE, CONTENT_TYPE, VARY};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hallmark_core::passport::{PassportId, PassportStatus};

/// `Cache-Control` of every page (the status it shows may change).
const CACHE: &str = "public, max-age=60";

/// Serves the page of passport `id` (`version` when the URL names one); `base_path` is the
/// path part of the public base URL (the page's own links).
pub async fn serve(
    app: &AppState,
    id: PassportId,
    version: Option<u32>,
    headers: &HeaderMap,
    query: Option<&str>,
    base_path: &str,
) -> Result<Response, ApiError> {
    let lang = lang::negotiate(
        query,
        headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()),
    );
    let p = app.service().public_passport(id, version).await?;
    let key = PageKey {
        id,
        version: p.version,
        pinned: version.is_some(),
        lang: lang.tag(),
        status: p.status.as_str(),
        current_version: p.current_version,
        log_checked: p
            .evidence
            .as_ref()
            .is_some_and(|e| matches!(e.log, LogEvidence::Checked { .. })),
    };
    // A suspended passport's page carries its reason, which a later suspension may change:
    // rendered each time (it is short).
    let cacheable = p.status != PassportStatus::Suspended;
    let cached = if cacheable { app.pages.get(&key) } else { None };
    let body = match cached {
        Some(b) => b,
        None => {
            let did_path = app.issuer.did.document_path();
            let site = Site {
                base_url: &app.issuer.base_url,
                base_path,
                did_path: &did_path,
            };
            let credential = app.service().public_credential(&p).await?;
            let html = page::render(&p, credential.as_ref(), version.is_some(), lang, site)
                .map_err(|e| {
                    tracing::error!(error = %e, "the consumer page did not render");
                    ApiError::Internal
                })?;
            let b = Bytes::from(html);
            if cacheable {
                app.pages.insert(key, b.clone());
            }
            b
        }
    };
    let status = if p.status == PassportStatus::Suspended {
        StatusCode::GONE
    } else {
        StatusCode::OK
    };
    let mut r = (status, body).into_response();
    r.extensions_mut().insert(PageCsp(page::csp()));
    let h = r.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(VARY, HeaderValue::from_static("Accept, Accept-Language"));
    h.insert(CONTENT_LANGUAGE, HeaderValue::from_static(lang.tag()));
    h.insert(CACHE_CONTROL, HeaderValue::from_static(CACHE));
    h.insert(STATUS_HEADER, HeaderValue::from_static(p.status.as_str()));
    Ok(r)
}

//! The consumer page's door: `GET <base>/passports/{id}[/versions/{n}]` with `Accept:
//! text/html` (`crate::page::wants_html`; `routes::public` hands such requests here). One
//! service call (`Service::public_passport`: state, and the version verified on the server),
//! then the rendered page from [`crate::evidence::PageCache`] (held gzip-compressed: sent as
//! it is with `Content-Encoding: gzip` when `Accept-Encoding` allows, else decompressed) or
//! freshly rendered.
//!
//! Answers: 200 with the page (published, archived, deactivated: data shown), 410 with the
//! page for a suspended passport (status and reason; no data, as on the JSON path), the
//! 404 notice page (`Notice::NotFound`) for drafts and unknown ids. Every page: `Vary:
//! Accept, Accept-Language, Accept-Encoding`, `Content-Language`, the status header, the current-version URL's short caching (a page
//! shows the status, which may change), and its own CSP (`edge::headers::PageCsp`).

use crate::app::AppState;
use crate::edge::headers::{PageCsp, STATUS_HEADER};
use crate::evidence::{LogEvidence, PageKey};
use crate::page::{self, lang, Notice, Site};
use crate::problem::ApiError;
use crate::service::ServiceError;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::{
    ACCEPT_ENCODING, ACCEPT_LANGUAGE, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LANGUAGE,
    CONTENT_TYPE, VARY,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use hallmark_core::passport::{Gtin, PassportId, PassportStatus};

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
    let service = app.service();
    let gzip_ok = page::accepts_gzip(headers.get(ACCEPT_ENCODING));
    // The state alone first (cached): a page already rendered from this version once its
    // log entry was checked is all a request needs — its key names everything the page
    // shows that can change — so a held page costs no verification and no evidence lookup.
    let shown = match service.public_state(id, version).await {
        Ok(s) => s,
        Err(ServiceError::NotFound) => {
            return Ok(notice(Notice::NotFound, StatusCode::NOT_FOUND, lang));
        }
        Err(e) => return Err(e.into()),
    };
    let key_of = |status: PassportStatus, shown_version: u32, current: u32, log_checked| PageKey {
        id,
        version: shown_version,
        pinned: version.is_some(),
        lang: lang.tag(),
        status: status.as_str(),
        current_version: current,
        log_checked,
        registration: shown
            .state
            .registration_of(shown_version)
            .map(str::to_owned),
    };
    // A suspended passport's page carries its reason, which a later suspension may change:
    // rendered each time (it is short). Other pages are held gzip-compressed.
    if shown.state.status != PassportStatus::Suspended {
        let key = key_of(
            shown.state.status,
            shown.version,
            shown.state.current_version,
            true,
        );
        if let Some(gz) = app.pages.get(&key) {
            return respond(gz, true, gzip_ok, shown.state.status, lang);
        }
    }
    let p = match service.public_passport(id, version).await {
        Ok(p) => p,
        Err(ServiceError::NotFound) => {
            return Ok(notice(Notice::NotFound, StatusCode::NOT_FOUND, lang));
        }
        Err(e) => return Err(e.into()),
    };
    let log_checked = p
        .evidence
        .as_ref()
        .is_some_and(|e| matches!(e.log, LogEvidence::Checked { .. }));
    let key = key_of(p.status, p.version, p.current_version, log_checked);
    let cacheable = p.status != PassportStatus::Suspended;
    // Before its log entry is under a checkpoint, a page is held under its pending key.
    let cached = if cacheable && !log_checked {
        app.pages.get(&key)
    } else {
        None
    };
    if let Some(gz) = cached {
        return respond(gz, true, gzip_ok, p.status, lang);
    }
    let did_path = app.issuer.did.document_path();
    let site = Site {
        base_url: &app.issuer.base_url,
        base_path,
        did_path: &did_path,
    };
    let credential = service.public_credential(&p).await?;
    let listed = service.listed_status_of(&id).await?;
    let html = page::render(
        &p,
        credential.as_ref(),
        version.is_some(),
        lang,
        site,
        listed.as_ref(),
    )
    .map_err(|e| {
        tracing::error!(error = %e, "the consumer page did not render");
        ApiError::Internal
    })?;
    if cacheable {
        let gz = page::gzip(html.as_bytes()).map_err(internal)?;
        app.pages.insert(key, gz.clone());
        return respond(gz, true, gzip_ok, p.status, lang);
    }
    respond(Bytes::from(html), false, gzip_ok, p.status, lang)
}

/// The page's response: `body` (gzip when `gzipped`; decompressed for a client that does not
/// accept gzip), 410 for a suspended passport, the page's headers.
fn respond(
    body: Bytes,
    gzipped: bool,
    gzip_ok: bool,
    status: PassportStatus,
    lang: lang::Lang,
) -> Result<Response, ApiError> {
    let (body, gzipped) = if gzipped && !gzip_ok {
        (page::gunzip(&body).map_err(internal)?, false)
    } else {
        (body, gzipped)
    };
    let code = if status == PassportStatus::Suspended {
        StatusCode::GONE
    } else {
        StatusCode::OK
    };
    let mut r = (code, body).into_response();
    r.extensions_mut().insert(PageCsp(page::csp()));
    let h = r.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        VARY,
        HeaderValue::from_static("Accept, Accept-Language, Accept-Encoding"),
    );
    if gzipped {
        h.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    h.insert(CONTENT_LANGUAGE, HeaderValue::from_static(lang.tag()));
    h.insert(CACHE_CONTROL, HeaderValue::from_static(CACHE));
    h.insert(STATUS_HEADER, HeaderValue::from_static(status.as_str()));
    Ok(r)
}

fn internal(e: std::io::Error) -> ApiError {
    tracing::error!(error = %e, "a held consumer page could not be (de)compressed");
    ApiError::Internal
}

/// `GET <base>/products/{gtin}`: the page of a product (any GTIN form, shown as GTIN-14)
/// that has published passports, none for the product as a whole — where the resolver's
/// walk-up to the GTIN leads. 400 problem+json for a malformed GTIN, the 404 notice for a
/// product with no published passport. HTML only (a `gs1:pip`).
pub async fn product(
    State(app): State<AppState>,
    Path(gtin): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let gtin = Gtin::parse(&gtin).map_err(|e| ApiError::BadRequest {
        detail: format!("the GTIN is not valid: {e}"),
    })?;
    let lang = lang::negotiate(
        uri.query(),
        headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()),
    );
    if !app.service().product_known(gtin.as_gtin14()).await? {
        return Ok(notice(Notice::NotFound, StatusCode::NOT_FOUND, lang));
    }
    Ok(notice(
        Notice::Product {
            gtin: gtin.as_gtin14(),
            issuer: app.issuer.did.as_str(),
        },
        StatusCode::OK,
        lang,
    ))
}

/// The 404 notice page in the language the request asks for (a browser's unknown passport,
/// draft or Digital Link).
pub fn not_found(headers: &HeaderMap, query: Option<&str>) -> Response {
    let lang = lang::negotiate(
        query,
        headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()),
    );
    notice(Notice::NotFound, StatusCode::NOT_FOUND, lang)
}

/// A [`Notice`] page as a response with `status`, with the passport page's headers (CSP,
/// language, short caching).
pub fn notice(notice: Notice<'_>, status: StatusCode, lang: lang::Lang) -> Response {
    let html = match page::render_notice(notice, lang) {
        Ok(html) => html,
        Err(e) => {
            tracing::error!(error = %e, "a notice page did not render");
            return ApiError::Internal.into_response();
        }
    };
    let mut r = (status, html).into_response();
    r.extensions_mut().insert(PageCsp(page::csp()));
    let h = r.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(VARY, HeaderValue::from_static("Accept, Accept-Language"));
    h.insert(CONTENT_LANGUAGE, HeaderValue::from_static(lang.tag()));
    h.insert(CACHE_CONTROL, HeaderValue::from_static(CACHE));
    r
}

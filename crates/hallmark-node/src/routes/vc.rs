//! The verification service's doors on the public listener (docs/verify.md, "Verification
//! service"): the W3C VC API's `POST <base>/credentials/verify` and `POST
//! <base>/presentations/verify`, and the verification page for people, `GET|POST
//! <base>/verify`. Each is one call to `Service::verify_credential` (presentations:
//! `Service::verify_presentation`); the public edge's rate
//! limit per client address applies, and the body limit is [`VERIFY_MAX_BODY_BYTES`]
//! (`edge::body::max_for`).
//!
//! `POST /credentials/verify` answers the VC API verification result (`api::vc`): 200 when
//! the credential verified, 400 with the same result when it did not; a request that is not
//! one (malformed JSON, unknown members or options, a credential of no known form) is a
//! 400 problem+json. `POST /presentations/verify` reads its request the same way and
//! answers the presentation's result (`api::vc::PresentationVerificationResult`): the
//! holder's proof and each credential's, 200 only when all verified.

use crate::api::reply;
use crate::api::vc::{
    credential_input, presentation_input, read, PresentationVerificationResult, VerificationResult,
    VerifyCredentialRequest, VerifyPresentationRequest,
};
use crate::app::AppState;
use crate::page::{self, lang};
use crate::problem::{ApiError, ApiJson};
use crate::service::verification::CredentialInput;
use axum::body::Bytes;
use axum::extract::{FromRequest as _, State};
use axum::http::header::{ACCEPT_LANGUAGE, CACHE_CONTROL, CONTENT_LANGUAGE, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use hallmark_core::verify::VerifyOptions;
use serde_json::Value;

pub use crate::edge::body::VERIFY_MAX_BODY_BYTES;

/// The paths of the verification routes under the public base path, as (method, path).
pub fn paths(base: &str) -> Vec<(&'static str, String)> {
    vec![
        ("POST", format!("{base}/credentials/verify")),
        ("POST", format!("{base}/presentations/verify")),
        ("GET", format!("{base}/verify")),
        ("POST", format!("{base}/verify")),
    ]
}

/// The verification routes (merged into the public router).
pub fn routes(base: &str) -> Router<AppState> {
    Router::new()
        .route(
            &format!("{base}/credentials/verify"),
            post(verify_credential),
        )
        .route(
            &format!("{base}/presentations/verify"),
            post(verify_presentation),
        )
        .route(&format!("{base}/verify"), {
            let (b1, b2) = (base.to_owned(), base.to_owned());
            get(
                move |uri: Uri, headers: HeaderMap| async move { page_form(&uri, &headers, &b1) },
            )
            .post(
                move |app: State<AppState>, uri: Uri, headers: HeaderMap, body: Bytes| async move {
                    page_result(app, uri, headers, body, &b2).await
                },
            )
        })
}

/// `POST <base>/credentials/verify` (VC API `verifyCredential`).
async fn verify_credential(
    State(app): State<AppState>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let request: VerifyCredentialRequest = read(body)?;
    let input = credential_input(request.verifiable_credential)?;
    let options = request.options.verify_options();
    let report = app.service().verify_credential(input, options).await?;
    let result = VerificationResult::of(report, request.options.return_credential);
    let status = if result.verified {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok((status, reply(&result)?).into_response())
}

/// `POST <base>/presentations/verify` (VC API `verifyPresentation`): 200 when the
/// presentation and every credential in it verified, 400 with the same result when not.
async fn verify_presentation(
    State(app): State<AppState>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let request: VerifyPresentationRequest = read(body)?;
    let input = presentation_input(request.verifiable_presentation)?;
    let options = request.options.verify_options();
    let report = app.service().verify_presentation(input, options).await?;
    let result = PresentationVerificationResult::of(report);
    let status = if result.verified {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok((status, reply(&result)?).into_response())
}

/// `GET <base>/verify`: the page with an empty form.
fn page_form(uri: &Uri, headers: &HeaderMap, base: &str) -> Response {
    let lang = page_lang(uri, headers);
    render(
        page::render_verify(lang, base, "", None),
        StatusCode::OK,
        lang,
    )
}

/// `POST <base>/verify`: the form verified by the service, the report shown with the form
/// again. The page's form posts `multipart/form-data` (fields `credential`, the pasted text,
/// and `file`, an uploaded credential file, which wins when not empty);
/// `application/x-www-form-urlencoded` (field `credential`) is read too.
async fn page_result(
    State(app): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
    base: &str,
) -> Response {
    let lang = page_lang(&uri, &headers);
    let media = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let pasted = match media.as_str() {
        "application/x-www-form-urlencoded" => url::form_urlencoded::parse(&body)
            .find(|(k, _)| k == "credential")
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default(),
        "multipart/form-data" => match form_fields(&headers, body).await {
            Ok(text) => text,
            Err(why) => {
                return render(
                    page::render_verify(lang, base, "", Some(page::VerifyShown::Unreadable(&why))),
                    StatusCode::BAD_REQUEST,
                    lang,
                )
            }
        },
        _ => String::new(),
    };
    if pasted.is_empty() {
        return render(
            page::render_verify(lang, base, "", Some(page::VerifyShown::Empty)),
            StatusCode::BAD_REQUEST,
            lang,
        );
    }
    // Pasted text: a JSON credential, or a compact vc+jwt.
    let input = match serde_json::from_str::<Value>(&pasted) {
        Ok(v @ Value::Object(_)) => credential_input(v),
        Ok(Value::String(s)) => Ok(CredentialInput::Compact(s)),
        _ => Ok(CredentialInput::Compact(pasted.clone())),
    };
    let report = match input {
        Ok(input) => {
            app.service()
                .verify_credential(input, VerifyOptions::default())
                .await
        }
        Err(e) => {
            let why = e.to_string();
            return render(
                page::render_verify(
                    lang,
                    base,
                    &pasted,
                    Some(page::VerifyShown::Unreadable(&why)),
                ),
                StatusCode::BAD_REQUEST,
                lang,
            );
        }
    };
    match report {
        Ok(report) => {
            let status = if report.verdict() == hallmark_core::verify::Verdict::Valid {
                StatusCode::OK
            } else {
                StatusCode::BAD_REQUEST
            };
            render(
                page::render_verify(
                    lang,
                    base,
                    &pasted,
                    Some(page::VerifyShown::Report(&report)),
                ),
                status,
                lang,
            )
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// The credential a `multipart/form-data` form carries: the `file` field's content when a
/// file was chosen, else the `credential` field's text (each trimmed). A body that is not
/// valid multipart, or a file that is not UTF-8 text, is a reason to show.
async fn form_fields(headers: &HeaderMap, body: Bytes) -> Result<String, String> {
    let mut request = axum::extract::Request::new(axum::body::Body::from(body));
    if let Some(ct) = headers.get(CONTENT_TYPE) {
        request.headers_mut().insert(CONTENT_TYPE, ct.clone());
    }
    let mut form = axum::extract::Multipart::from_request(request, &())
        .await
        .map_err(|e| e.body_text())?;
    let (mut text, mut file) = (String::new(), String::new());
    while let Some(field) = form.next_field().await.map_err(|e| e.body_text())? {
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field.bytes().await.map_err(|e| e.body_text())?;
        match name.as_str() {
            "credential" => text = String::from_utf8_lossy(&bytes).trim().to_owned(),
            "file" if !bytes.is_empty() => {
                file = std::str::from_utf8(&bytes)
                    .map_err(|_| "the file is not UTF-8 text (a JSON credential or a vc+jwt)")?
                    .trim()
                    .to_owned();
            }
            _ => {}
        }
    }
    Ok(if file.is_empty() { text } else { file })
}

fn page_lang(uri: &Uri, headers: &HeaderMap) -> lang::Lang {
    lang::negotiate(
        uri.query(),
        headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()),
    )
}

/// The page as a response: its own CSP (the passport page's, forms posting to itself
/// allowed), never cached (it shows what was pasted).
fn render(html: Result<String, askama::Error>, status: StatusCode, lang: lang::Lang) -> Response {
    let html = match html {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "the verification page did not render");
            return ApiError::Internal.into_response();
        }
    };
    let mut r = (status, html).into_response();
    r.extensions_mut()
        .insert(crate::edge::headers::PageCsp(page::verify_csp()));
    let h = r.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(CONTENT_LANGUAGE, HeaderValue::from_static(lang.tag()));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

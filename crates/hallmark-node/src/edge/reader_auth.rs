//! Reader authentication on the public listener's restricted-read routes (issue 20;
//! `docs/access.md`, "Restricted reads"), as the extractor [`Signed`] those handlers take
//! last: a request without `Signature-Input` and `Signature` is `Signed(None)` after two
//! header lookups — anonymous public reads cost nothing extra (no layer, no boxed future:
//! see `BENCHMARKS.md` on what each `from_fn` layer costs the public read path). A request
//! with either is admitted by
//! [`Service::admit_reader`](crate::service::Service::admit_reader) before the handler does
//! any passport work — signature, reader, status, grant, nonce — and rate-limited per
//! verified reader. Every refusal is its own problem type, answered `private, no-store`.
//!
//! The signed target URI is rebuilt from the node's public base URL (scheme and authority)
//! and the request's path and query, never from `Host` or forwarding headers: a client (or
//! a proxy it talks through) chooses those, and a signature must bind the node it was meant
//! for.

use super::rate_limit::KeyedLimiter;
use crate::app::AppState;
use crate::problem::ApiError;
use crate::service::restricted::AdmittedReader;
use axum::extract::{FromRef, FromRequest, Request};
use axum::http::header::{CACHE_CONTROL, VARY};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use hallmark_core::httpsig::RequestParts;
use hallmark_core::reader::ReaderId;
use std::num::NonZeroU32;
use std::sync::Arc;

/// Sustained signed reads per second per reader.
pub const READER_PER_SECOND: u32 = 20;
/// Burst of signed reads per reader.
pub const READER_BURST: u32 = 50;

/// Largest body read into a signed request's parts (the edge's body limit applies first).
const MAX_SIGNED_BODY: usize = 16 * 1024 * 1024;

/// The layer's state: the application and the per-reader limiter.
pub struct ReaderAuth {
    app: AppState,
    scheme: String,
    authority: String,
    limiter: KeyedLimiter<ReaderId>,
}

impl ReaderAuth {
    /// The layer's state for `app`, whose public base URL gives the signed scheme and
    /// authority.
    pub fn new(app: AppState) -> Self {
        let (scheme, authority) = origin(&app.issuer.base_url);
        ReaderAuth {
            app,
            scheme,
            authority,
            limiter: KeyedLimiter::new(
                NonZeroU32::new(READER_PER_SECOND).unwrap_or(NonZeroU32::MIN),
                NonZeroU32::new(READER_BURST).unwrap_or(NonZeroU32::MIN),
            ),
        }
    }
}

/// The scheme and authority (`host[:port]`, as configured) of a base URL.
pub fn origin(base_url: &str) -> (String, String) {
    let (scheme, rest) = base_url.split_once("://").unwrap_or(("https", base_url));
    let authority = rest.split('/').next().unwrap_or_default();
    (scheme.to_ascii_lowercase(), authority.to_ascii_lowercase())
}

/// Whether the request carries a signature (either field: half a signature is refused as
/// unsigned, not served publicly).
pub fn is_signed(req: &Request) -> bool {
    let h = req.headers();
    h.contains_key("signature-input") || h.contains_key("signature")
}

/// The reader a request's signature admitted, or `None` for an anonymous request. An
/// extractor (it reads the body, so it is a handler's last argument); its state is an
/// `Arc<ReaderAuth>` the router state gives ([`FromRef`]).
#[derive(Debug, Clone)]
pub struct Signed(pub Option<AdmittedReader>);

impl<S> FromRequest<S> for Signed
where
    S: Send + Sync,
    Arc<ReaderAuth>: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        if !is_signed(&req) {
            return Ok(Signed(None));
        }
        let auth = Arc::<ReaderAuth>::from_ref(state);
        let reader = admit(&auth, req)
            .await
            .map_err(|e| private(e.into_response()))?;
        if let Err(retry_after_secs) = auth.limiter.check(&reader.id) {
            tracing::debug!(reader = %reader.id, "reader rate limit");
            return Err(private(
                ApiError::RateLimited { retry_after_secs }.into_response(),
            ));
        }
        Ok(Signed(Some(reader)))
    }
}

/// Cache-Control of every answer to a signed request.
pub const PRIVATE: &str = "private, no-store";
/// `Vary` of every answer to a signed request.
pub const VARY_SIGNED: &str = "Accept, Signature, Signature-Input";

/// Marks an answer to a signed request private: no shared cache keeps or serves it.
pub fn private(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static(PRIVATE));
    h.insert(VARY, HeaderValue::from_static(VARY_SIGNED));
    r
}

async fn admit(auth: &ReaderAuth, req: Request) -> Result<AdmittedReader, ApiError> {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, MAX_SIGNED_BODY)
        .await
        .map_err(|_| ApiError::BodyTooLarge {
            max: MAX_SIGNED_BODY,
            limit: "max_body_bytes",
        })?;
    let mut signed = RequestParts::new(
        parts.method.as_str(),
        &auth.scheme,
        &auth.authority,
        parts.uri.path(),
        parts.uri.query(),
    );
    for (name, value) in &parts.headers {
        // A field that is not text cannot be covered; it is left out (and a signature
        // covering it is refused as naming an absent component).
        if let Ok(v) = value.to_str() {
            signed.add_header(name.as_str(), v);
        }
    }
    if !body.is_empty() {
        signed = signed.with_body(body.to_vec());
    }
    Ok(auth.app.service().admit_reader(&signed).await?)
}

#[cfg(test)]
mod tests {
    use super::origin;

    #[test]
    fn origin_is_scheme_and_authority_of_the_base_url() {
        assert_eq!(
            origin("https://DPP.example.com/dpp"),
            ("https".into(), "dpp.example.com".into())
        );
        assert_eq!(
            origin("http://127.0.0.1:8080"),
            ("http".into(), "127.0.0.1:8080".into())
        );
    }
}

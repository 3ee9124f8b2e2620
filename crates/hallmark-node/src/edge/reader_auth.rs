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
use crate::problem::reader::ReaderRefusal;
use crate::problem::ApiError;
use crate::service::dpp::Door;
use crate::service::restricted::AdmittedReader;
use axum::extract::{FromRef, FromRequest, Request};
use axum::http::header::{CACHE_CONTROL, VARY};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use hallmark_core::httpsig::{HttpSigError, RequestParts};
use hallmark_core::reader::ReaderId;
use hallmark_store::ReaderRecord;
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
        let (reader, _) = auth
            .admit(req)
            .await
            .map_err(|e| private(e.into_response()))?;
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

impl ReaderAuth {
    /// Admits the signed request `req` (`Service::admit_reader`) and counts it against the
    /// reader's rate limit; returns the reader and the request rebuilt around its body.
    async fn admit(&self, req: Request) -> Result<(AdmittedReader, Request), ApiError> {
        let (signed, req) = read_signed(self, req).await?;
        let reader = self.app.service().admit_reader(&signed).await?;
        if let Err(retry_after_secs) = self.limiter.check(&reader.id) {
            tracing::debug!(reader = %reader.id, "reader rate limit");
            return Err(ApiError::RateLimited { retry_after_secs });
        }
        Ok((reader, req))
    }

    /// The reader who signed `req`, whatever its status (`GET <base>/readers/me`), checked
    /// and rate-limited like an admitted reader; refusals as answers, marked private.
    pub async fn signed_reader(&self, req: Request) -> Result<ReaderRecord, Response> {
        let refuse = |e: ApiError| private(e.into_response());
        if !is_signed(&req) {
            return Err(refuse(ApiError::ReaderRefused(ReaderRefusal::Signature(
                HttpSigError::Unsigned,
            ))));
        }
        let (signed, _) = read_signed(self, req).await.map_err(refuse)?;
        let reader = self
            .app
            .service()
            .signed_reader(&signed)
            .await
            .map_err(|e| refuse(e.into()))?;
        if let Err(retry_after_secs) = self.limiter.check(&reader.id) {
            return Err(refuse(ApiError::RateLimited { retry_after_secs }));
        }
        Ok(reader)
    }
}

/// The EN 18222 reads of the public listener (`routes::dpp::public_routes`): a signed request
/// is admitted like one to the passport URLs (before the handler runs; refusals answered
/// here), rate-limited per reader, and read through [`Door::Reader`] — its grant's tier,
/// within its scope, every read audited — instead of the public door; its answer is
/// private and names the tier served. Anonymous requests pass untouched.
pub async fn en18222_reader(
    axum::extract::State(auth): axum::extract::State<Arc<ReaderAuth>>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    if !is_signed(&req) {
        return next.run(req).await;
    }
    let (reader, mut req) = match auth.admit(req).await {
        Ok(r) => r,
        Err(e) => return private(crate::problem::result::V1Error(e).into_response()),
    };
    let tier = reader.grant.tier.as_str();
    req.extensions_mut().insert(Door::Reader(reader));
    let mut r = next.run(req).await;
    r.headers_mut().insert(
        super::headers::ACCESS_TIER_HEADER,
        HeaderValue::from_static(tier),
    );
    private(r)
}

/// The request's parts as signed (the target URI from the node's public base URL), and the
/// request rebuilt around the body read for them.
async fn read_signed(auth: &ReaderAuth, req: Request) -> Result<(RequestParts, Request), ApiError> {
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
    Ok((
        signed,
        Request::from_parts(parts, axum::body::Body::from(body)),
    ))
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

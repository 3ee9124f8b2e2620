//! The HTTP edge: everything between the socket and a handler. Connections — header-read
//! and idle timeouts, caps per listener and per client address — are handled by the accept
//! loop in [`serve`]; requests by tower layers. The client address every limit keys on is
//! resolved in one place, [`client`].
//!
//! Public listener, outermost first: security headers → panic catcher → CORS (GET/HEAD/
//! OPTIONS, `*`) → request timeout → rate limit per client address → body size and JSON
//! structure limits → handler (those last three in one middleware, `public_checks`).
//!
//! Admin listener: security headers (+ `Cache-Control: no-store`) → panic catcher → request
//! timeout → authentication (with failed-auth throttling per client address) → rate limit
//! per principal → body and JSON limits → handler. No CORS: browsers on other origins get
//! no access.
//!
//! Unknown routes and wrong methods answer problem+json 404/405 through the same layers.
//!
//! Around both, outermost: the request metrics of the listener ([`observe`], applied by
//! `node::routers`): one hand-written tower layer, by matched route template and status.

pub mod body;
pub mod client;
pub mod headers;
pub mod json;
pub mod media;
pub mod observe;
pub mod params;
pub mod rate_limit;
pub mod reader_auth;
pub mod serve;

pub use client::{client_ip, normalise_ip, ClientAddr, TrustedProxies};

use crate::auth::{self, AuthState};
use crate::problem::{self, ApiError};
use axum::extract::Request;
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use json::JsonLimits;
use rate_limit::KeyedLimiter;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Body size and JSON structure limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum request body, bytes.
    pub max_body_bytes: usize,
    /// Maximum body of the admin batch route (`POST /api/v1/passports/batch`), bytes.
    pub max_batch_body_bytes: usize,
    /// JSON structure limits.
    pub json: JsonLimits,
}

impl Default for Limits {
    /// 1 MiB: about a hundred times the largest real battery passport (≈9 KB composed).
    fn default() -> Self {
        Limits {
            max_body_bytes: 1024 * 1024,
            max_batch_body_bytes: 16 * 1024 * 1024,
            json: JsonLimits::default(),
        }
    }
}

/// Rate limits (GCRA token buckets via `governor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Sustained requests per second per client address, public listener.
    pub public_per_second: NonZeroU32,
    /// Burst per client address, public listener.
    pub public_burst: NonZeroU32,
    /// Sustained requests per second per API key (or admin login), admin listener.
    pub admin_per_second: NonZeroU32,
    /// Burst per API key, admin listener.
    pub admin_burst: NonZeroU32,
    /// Failed authentications per client address per minute before 429.
    pub auth_failures_per_minute: NonZeroU32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            public_per_second: NonZeroU32::new(50).unwrap_or(NonZeroU32::MIN),
            public_burst: NonZeroU32::new(100).unwrap_or(NonZeroU32::MIN),
            admin_per_second: NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN),
            admin_burst: NonZeroU32::new(50).unwrap_or(NonZeroU32::MIN),
            auth_failures_per_minute: NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN),
        }
    }
}

/// Everything the edge layers need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeConfig {
    /// Body and JSON limits.
    pub limits: Limits,
    /// Rate limits.
    pub rate_limits: RateLimits,
    /// Per-request timeout (until the response head).
    pub request_timeout: Duration,
    /// Send `Strict-Transport-Security` (the public base URL is https).
    pub hsts: bool,
    /// Connection caps and timeouts of each listener.
    pub connections: serve::ConnLimits,
    /// Aggregation of the audit events of refused requests.
    pub refusals: crate::refusals::RefusalLimits,
    /// Reverse proxies whose forwarding headers name the client (`edge::client`).
    pub trusted_proxies: std::sync::Arc<TrustedProxies>,
    /// The path of the public base URL (`""` or e.g. `/dpp`): the public listener's EN 18222
    /// door is under `<it>/v1/`.
    pub public_base_path: String,
}

impl Default for EdgeConfig {
    fn default() -> Self {
        EdgeConfig {
            limits: Limits::default(),
            rate_limits: RateLimits::default(),
            request_timeout: Duration::from_secs(30),
            hsts: false,
            connections: serve::ConnLimits::default(),
            refusals: crate::refusals::RefusalLimits::default(),
            trusted_proxies: std::sync::Arc::default(),
            public_base_path: String::new(),
        }
    }
}

async fn timeout(
    axum::extract::State(limit): axum::extract::State<Duration>,
    req: Request,
    next: Next,
) -> Response {
    tokio::time::timeout(limit, next.run(req))
        .await
        .unwrap_or_else(|_| timed_out(limit))
}

/// The answer to a request that ran past `limit` (logged).
fn timed_out(limit: Duration) -> Response {
    tracing::warn!(timeout_ms = limit.as_millis() as u64, "request timed out");
    ApiError::Timeout.into_response()
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    ApiError::Internal.into_response()
}

/// CORS for the public listener: any origin, GET/HEAD/OPTIONS only, no credentials. A
/// browser-based verifier may read the passport's status and the pointer to its log leaf.
pub fn public_cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::any())
        .allow_methods([Method::GET, Method::HEAD, Method::OPTIONS])
        .expose_headers([
            axum::http::header::ETAG,
            axum::http::header::LINK,
            axum::http::header::LOCATION,
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderName::from_static(headers::STATUS_HEADER),
            axum::http::HeaderName::from_static(headers::LOG_INDEX_HEADER),
        ])
        .max_age(Duration::from_secs(86_400))
}

/// The public listener's per-request checks, innermost first: body and JSON limits, rate
/// limit per client address, request timeout around both and the handler.
struct PublicChecks {
    limiter: Arc<KeyedLimiter<IpAddr>>,
    limits: Limits,
    timeout: Duration,
    /// `<public base path>/v1/`: answers under it are the EN 18222 door's.
    v1_prefix: String,
}

/// One middleware for the three public checks, in the order three layers would run them.
/// Every `from_fn` layer costs a boxed future and a clone of the service below it on every
/// request; on the public read path, the two saved here were about a tenth of its
/// throughput (BENCHMARKS.md). The admin listener keeps them as separate layers.
async fn public_checks(
    axum::extract::State(c): axum::extract::State<Arc<PublicChecks>>,
    req: Request,
    next: Next,
) -> Response {
    let v1 = req.uri().path().starts_with(c.v1_prefix.as_str());
    let checked = async {
        rate_limit::per_client(&c.limiter, &req)?;
        let req = body::check(&c.limits, req).await?;
        Ok::<_, ApiError>(next.run(req).await)
    };
    let response = match tokio::time::timeout(c.timeout, checked).await {
        Ok(Ok(response)) => response,
        Ok(Err(refused)) => refused.into_response(),
        Err(_) => timed_out(c.timeout),
    };
    if v1 {
        v1_result(response).await
    } else {
        response
    }
}

/// On the EN 18222 door (`/v1/…`): a problem+json answer made outside its handlers (401,
/// the 404/405 fallbacks, 413, 429, a timeout) re-rendered as the spec's `Result`, with its
/// status mapped and its headers kept ([`problem::result`]). Other answers pass unchanged.
pub async fn v1_result(response: Response) -> Response {
    let is_problem = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == problem::PROBLEM_JSON.as_bytes());
    if !is_problem {
        return response;
    }
    let (parts, body) = response.into_parts();
    // Problems are small and already in memory.
    let parsed = axum::body::to_bytes(body, 1 << 20)
        .await
        .ok()
        .and_then(|b| serde_json::from_slice::<problem::Problem>(&b).ok());
    let problem = parsed.unwrap_or_else(|| ApiError::Internal.problem());
    problem::result::result_response(&problem, parts.headers)
}

/// The admin listener's [`v1_result`] layer (its EN 18222 door is `/v1/…`).
async fn admin_v1_results(req: Request, next: Next) -> Response {
    let v1 = req.uri().path().starts_with(V1_PREFIX);
    let response = next.run(req).await;
    if v1 {
        v1_result(response).await
    } else {
        response
    }
}

/// The admin listener's EN 18222 prefix.
pub const V1_PREFIX: &str = "/v1/";

/// Wrap the public routes in the public edge. The result has only the routes given: the
/// public listener must never be handed an admin route.
pub fn public_router(routes: Router, config: &EdgeConfig) -> Router {
    let limiter = Arc::new(KeyedLimiter::<IpAddr>::new(
        config.rate_limits.public_per_second,
        config.rate_limits.public_burst,
    ));
    routes
        .fallback(problem::not_found)
        .method_not_allowed_fallback(problem::method_not_allowed)
        .layer(middleware::from_fn_with_state(
            Arc::new(PublicChecks {
                limiter,
                limits: config.limits,
                timeout: config.request_timeout,
                v1_prefix: format!("{}{V1_PREFIX}", config.public_base_path),
            }),
            public_checks,
        ))
        .layer(public_cors())
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn_with_state(
            headers::SecurityHeaders {
                hsts: config.hsts,
                no_store: false,
            },
            headers::apply,
        ))
}

/// Wrap the admin routes in the admin edge: authentication on every route (including the
/// 404 fallback, so routes cannot be enumerated without a credential).
pub fn admin_router(routes: Router, config: &EdgeConfig, auth: AuthState) -> Router {
    let limiter = Arc::new(rate_limit::PrincipalLimiter {
        limiter: KeyedLimiter::new(
            config.rate_limits.admin_per_second,
            config.rate_limits.admin_burst,
        ),
        audit: auth.audit(),
    });
    routes
        .fallback(problem::not_found)
        .method_not_allowed_fallback(problem::method_not_allowed)
        .layer(middleware::from_fn_with_state(
            Arc::new(config.limits),
            body::guard,
        ))
        .layer(middleware::from_fn_with_state(
            limiter,
            rate_limit::per_principal,
        ))
        .layer(middleware::from_fn_with_state(auth, auth::authenticate))
        .layer(middleware::from_fn_with_state(
            config.request_timeout,
            timeout,
        ))
        .layer(middleware::from_fn(admin_v1_results))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn_with_state(
            headers::SecurityHeaders {
                hsts: config.hsts,
                no_store: true,
            },
            headers::apply,
        ))
}

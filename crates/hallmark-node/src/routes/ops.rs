//! The operator's probes (operator view: `docs/operations.md`):
//!
//! - `GET /ready` on the public listener, anonymous like `/health`: 200 when the node can do
//!   its work — the store answers, key custody can sign, the transparency log's signer does
//!   not refuse — else 503; the body names each check (`{"ready","checks":{"store","signing",
//!   "log"}}`). `/health` stays the liveness probe (it answers while the process serves).
//! - `GET /metrics` on the admin listener ([`ADMIN_ROUTES`], behind the admin edge like
//!   every admin route: an API key of scope `read` or the admin login): the registry of
//!   `crate::metrics` as the Prometheus text format 0.0.4, its scrape-time gauges read from
//!   the application first.

use crate::apikey::Scope;
use crate::app::{AppState, Readiness};
use crate::auth::require;
use crate::metrics::{CacheCounts, PoolCounts, Snapshot, CONTENT_TYPE};
use crate::problem::ApiError;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE as CONTENT_TYPE_HEADER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Serialize;

/// The admin listener's operational routes: method, path, required scope (a sibling of
/// `routes::admin::ROUTES`: not part of the `/api/v1` management API; listed in the admin
/// OpenAPI document by `crate::openapi`).
pub const ADMIN_ROUTES: &[(&str, &str, Scope)] = &[("GET", "/metrics", Scope::Read)];

/// The routes of [`ADMIN_ROUTES`], each behind its scope (wrap with
/// [`crate::edge::admin_router`], which authenticates every request first).
pub fn admin_routes(state: AppState) -> Router {
    let mut router = Router::new();
    for (method, path, scope) in ADMIN_ROUTES {
        match (*method, *path) {
            ("GET", "/metrics") => {
                router = router.route(path, get(metrics).route_layer(require(*scope)))
            }
            _ => tracing::error!(%method, %path, "operational route without a handler"),
        }
    }
    router.with_state(state)
}

/// `GET /metrics`: the scrape-time gauges read, then the whole registry.
async fn metrics(State(app): State<AppState>) -> Result<Response, ApiError> {
    app.metrics.observe(&snapshot(&app).await);
    // The outbox's backlog (issue 21): one indexed count; a store that does not answer
    // leaves the gauges as they were (the readiness gauges say why).
    if let Ok((waiting, oldest)) = app.store.outbox_backlog().await {
        app.metrics.outbox_depth(waiting);
        let age = oldest.map_or(0.0, |t| {
            (time::OffsetDateTime::now_utc() - t)
                .as_seconds_f64()
                .max(0.0)
        });
        app.metrics.outbox_oldest_undelivered_seconds(age);
    }
    let text = app.metrics.encode().map_err(|e| {
        tracing::error!(error = %e, "the metrics did not encode");
        ApiError::Internal
    })?;
    Ok((
        [(CONTENT_TYPE_HEADER, HeaderValue::from_static(CONTENT_TYPE))],
        text,
    )
        .into_response())
}

/// What the metrics read from the application at a scrape.
async fn snapshot(app: &AppState) -> Snapshot {
    let readiness = app.readiness().await;
    let read = app.credentials.counts();
    let pages = app.pages.stats();
    Snapshot {
        log_size: readiness.log_size,
        checkpoint_size: app.log.latest().map_or(0, |c| c.size),
        checkpoint_age: app.log.checkpoint_age(),
        log_state: app.log.status().as_str(),
        read_cache: CacheCounts {
            hits: read.hits,
            misses: read.misses,
            bytes: app.credentials.weight(),
        },
        page_cache: CacheCounts {
            hits: pages.hits,
            misses: pages.misses,
            bytes: pages.bytes,
        },
        pool: app.store.pool_usage().map(|p| PoolCounts {
            size: p.size,
            idle: p.idle,
            max: p.max,
        }),
        ready: [readiness.store(), readiness.signing, readiness.log],
    }
}

/// The body of `GET /ready`.
#[derive(Debug, Serialize)]
struct Ready {
    ready: bool,
    checks: Checks,
}

/// Each readiness check: `ok`, or why not.
#[derive(Debug, Serialize)]
struct Checks {
    store: &'static str,
    signing: &'static str,
    log: &'static str,
}

impl From<&Readiness> for Ready {
    fn from(r: &Readiness) -> Self {
        Ready {
            ready: r.ready(),
            checks: Checks {
                store: if r.store() { "ok" } else { "unavailable" },
                signing: if r.signing { "ok" } else { "unavailable" },
                log: if r.log { "ok" } else { "refused" },
            },
        }
    }
}

/// `GET /ready`: 200 when every check passes, else 503; the body names each.
pub async fn ready(State(app): State<AppState>) -> Result<Response, ApiError> {
    let readiness = app.readiness().await;
    let status = if readiness.ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Ok((status, crate::api::reply(&Ready::from(&readiness))?).into_response())
}

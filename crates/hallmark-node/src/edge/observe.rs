//! Request metrics: the one layer per listener that counts every answered request and
//! times it, by listener, matched route template and status (`crate::metrics`,
//! `hallmark_http_requests_total` and `hallmark_http_request_duration_seconds`).
//!
//! Applied with `Router::layer` outside every other edge layer ([`layer`], called by
//! `node::routers`): axum wraps each route (and the 404 fallback) with it after routing, so
//! the request carries its [`MatchedPath`] — the template (`/passports/{id}`), never the raw
//! path, so a scanner cannot grow the label set; the fallback is [`UNMATCHED_ROUTE`]. The
//! time runs from the layer to the response head (refusals by the inner layers — 401, 413,
//! 429, timeouts — included).
//!
//! A hand-written tower service, not an axum `from_fn` middleware: no boxed future and no
//! clone of the inner service per request (each `from_fn` layer cost the public read path
//! several per cent, BENCHMARKS.md "Where the read time goes"). Per request: one clock read,
//! one `Arc<str>` clone, and at the end two look-ups of pre-existing series under read
//! locks, an atomic increment and a histogram observation — no allocation once a (route,
//! status) pair has been seen.
//!
//! [`UNMATCHED_ROUTE`]: crate::metrics::UNMATCHED_ROUTE
//! [`MatchedPath`]: axum::extract::MatchedPath

use crate::metrics::{HttpLabels, Listener, Metrics, Route};
use axum::extract::{MatchedPath, Request};
use axum::response::Response;
use axum::Router;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

/// `router` with the request metrics of `listener` around every route and the fallback.
pub fn layer(router: Router, metrics: Arc<Metrics>, listener: Listener) -> Router {
    router.layer(ObserveLayer { metrics, listener })
}

/// The layer of [`layer`].
#[derive(Debug, Clone)]
pub struct ObserveLayer {
    metrics: Arc<Metrics>,
    listener: Listener,
}

impl<S> tower::Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Observe {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service of [`ObserveLayer`].
#[derive(Debug, Clone)]
pub struct Observe<S> {
    inner: S,
    layer: ObserveLayer,
}

impl<S> tower::Service<Request> for Observe<S>
where
    S: tower::Service<Request, Response = Response>,
    S::Future: Unpin,
{
    type Response = Response;
    type Error = S::Error;
    type Future = ObserveFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let route = match req.extensions().get::<MatchedPath>() {
            Some(m) => Route::Template(m.clone()),
            None => Route::Unmatched,
        };
        ObserveFuture {
            inner: self.inner.call(req),
            start: Instant::now(),
            route: Some(route),
            metrics: Arc::clone(&self.layer.metrics),
            listener: self.layer.listener,
        }
    }
}

/// The response future of [`Observe`]: the inner one, recorded when it completes.
#[derive(Debug)]
pub struct ObserveFuture<F> {
    inner: F,
    start: Instant,
    route: Option<Route>,
    metrics: Arc<Metrics>,
    listener: Listener,
}

impl<F, E> Future for ObserveFuture<F>
where
    F: Future<Output = Result<Response, E>> + Unpin,
{
    type Output = Result<Response, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let out = Pin::new(&mut this.inner).poll(cx);
        if let Poll::Ready(Ok(response)) = &out {
            if let Some(route) = this.route.take() {
                this.metrics.http_request(
                    &HttpLabels {
                        listener: this.listener.as_str(),
                        route,
                        status: response.status().as_u16(),
                    },
                    this.start.elapsed(),
                );
            }
        }
        out
    }
}

//! The node's Prometheus metrics: ONE registry ([`Metrics`], held by the application as
//! `App::metrics`), served as the Prometheus text exposition format (0.0.4) at `GET /metrics`
//! on the admin listener (`routes::ops`). Operator view — every metric with its type, labels
//! and meaning, and the alerts worth setting — in `docs/operations.md`.
//!
//! Where each family is fed:
//!
//! - **HTTP** (`hallmark_http_requests_total`, `hallmark_http_request_duration_seconds`):
//!   one tower layer per listener (`edge::observe`), labelled by listener, the matched route
//!   template (never the raw path: `unmatched` for the 404 fallback) and status. Per
//!   request: one clock read, two map look-ups under a read lock with a label set of a
//!   `&'static str`, an `Arc<str>` clone and a number — no allocation once a (route, status)
//!   pair has been seen.
//! - **Publishes** (`hallmark_publishes_total`, `hallmark_publish_failures_total{reason}`):
//!   `service::publish` (the admin API's publish) and the import's publish stage (bulk
//!   import and the EN 18222 writes), each publication counted once.
//! - **Plugin verdicts** (`hallmark_plugin_verdicts_total{plugin,verdict}`):
//!   `Service::plugin_gate`, every run (draft checks, dry runs and publishes).
//! - **Signing** (`hallmark_signing_duration_seconds`, `hallmark_signing_errors_total`, by
//!   backend `file` / `pkcs11` and key purpose): every signer the node takes from key custody
//!   is wrapped by [`Metrics::signer`] (`App::passport_signer`, the log-checkpoint signer).
//! - **Scrape-time gauges** (transparency log, read and page caches, the database pool,
//!   readiness): read from the application when `/metrics` is asked ([`Snapshot`], filled
//!   by `routes::ops`), so nothing on the request path maintains them.
//! - **Events** ([`Metrics::outbox_depth`], [`Metrics::outbox_oldest_undelivered_seconds`]:
//!   the outbox's backlog, read at scrape time by `routes::ops`; [`Metrics::webhook_failure`]:
//!   each failed webhook delivery attempt, from `crate::webhooks`).
//!
//! No global state: each application has its own registry (tests run many nodes in one
//! process). This module depends on nothing of the node's (callers hand it plain values), so
//! every module may feed it without an import cycle.

use axum::extract::MatchedPath;
use hallmark_core::keys::{Signer, SignerError};
use hallmark_keys::{Backend, Purpose};
use prometheus_client::encoding::{
    prometheus_text, EncodeLabelSet, EncodeLabelValue, LabelValueEncoder,
};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The `Content-Type` of `/metrics`: the Prometheus text format, version 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// The `route` label of a request no route matched (the 404 fallback): one series for every
/// unknown path, so scanners cannot grow the label set.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Upper bounds (seconds) of the HTTP latency buckets: 0.5 ms to 10 s (reads are served in
/// about a millisecond, publishes in tens of milliseconds, a request times out at 30 s).
const HTTP_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Upper bounds (seconds) of the signing latency buckets: 20 µs (an in-memory Ed25519
/// signature) to 1 s (an HSM over the network).
const SIGNING_BUCKETS: [f64; 12] = [
    0.00002, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1.0,
];

fn http_histogram() -> Histogram {
    Histogram::new(HTTP_BUCKETS)
}

fn signing_histogram() -> Histogram {
    Histogram::new(SIGNING_BUCKETS)
}

/// Which listener a request came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Listener {
    /// The public listener (passports, DID document, log, resolver, health).
    Public,
    /// The admin listener (management API, `/metrics`).
    Admin,
}

impl Listener {
    /// The `listener` label value: `public` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Listener::Public => "public",
            Listener::Admin => "admin",
        }
    }
}

/// The `route` label: the route template axum matched (a clone of its shared text, no
/// allocation), or none.
#[derive(Debug, Clone)]
pub enum Route {
    /// The matched template (`/passports/{id}`).
    Template(MatchedPath),
    /// No route matched (the 404 fallback): [`UNMATCHED_ROUTE`].
    Unmatched,
}

impl Route {
    /// The label value.
    pub fn as_str(&self) -> &str {
        match self {
            Route::Template(m) => m.as_str(),
            Route::Unmatched => UNMATCHED_ROUTE,
        }
    }
}

impl PartialEq for Route {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Route {}

impl Hash for Route {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl EncodeLabelValue for Route {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        EncodeLabelValue::encode(&self.as_str(), encoder)
    }
}

/// Labels of the HTTP families.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct HttpLabels {
    /// `public` or `admin`.
    pub listener: &'static str,
    /// The matched route template, or [`UNMATCHED_ROUTE`].
    pub route: Route,
    /// The response status code.
    pub status: u16,
}

/// One `reason` label.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

/// Labels of the plugin verdicts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct VerdictLabels {
    plugin: String,
    verdict: &'static str,
}

/// Labels of the signing latency.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct SigningLabels {
    backend: &'static str,
    purpose: &'static str,
}

/// Labels of the signing errors.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct SigningErrorLabels {
    backend: &'static str,
    purpose: &'static str,
    reason: &'static str,
}

/// One `status` label (the checkpoint signer's state, one series per state).
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct StateLabel {
    status: &'static str,
}

/// One `check` label (the readiness checks).
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct CheckLabel {
    check: &'static str,
}

/// The states of the checkpoint signer (`transparency::LogStatus::as_str`), each exported
/// as a series of `hallmark_log_signer_state` (1 for the current one, 0 for the others).
pub const LOG_STATES: [&str; 6] = [
    "starting",
    "ok",
    "signing-unavailable",
    "refused",
    "failed",
    "blocked",
];

/// The readiness checks of `GET /ready`, in the order of its body.
pub const READY_CHECKS: [&str; 3] = ["store", "signing", "log"];

/// A plugin verdict, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginVerdict {
    /// No plugin serves the sector version (JSON Schema only).
    Ungated,
    /// The plugin ran and found no error.
    Accepted,
    /// The plugin found errors: the passport is refused.
    Rejected,
    /// The plugin gave no verdict (a sandbox limit, a trap, a bad answer, a missing plugin).
    Failed,
}

impl PluginVerdict {
    fn as_str(self) -> &'static str {
        match self {
            PluginVerdict::Ungated => "ungated",
            PluginVerdict::Accepted => "accepted",
            PluginVerdict::Rejected => "rejected",
            PluginVerdict::Failed => "failed",
        }
    }
}

/// Hit and miss counts of a cache (kept by the cache; copied into the registry at a scrape).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheCounts {
    /// Look-ups answered from the cache.
    pub hits: u64,
    /// Look-ups that were not.
    pub misses: u64,
    /// Bytes held.
    pub bytes: u64,
}

/// The database pool's use (`hallmark_store::PoolUsage`, copied).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolCounts {
    /// Open connections.
    pub size: u64,
    /// Of which idle.
    pub idle: u64,
    /// The pool's bound.
    pub max: u64,
}

/// What `/metrics` reads from the application at a scrape.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// Leaves in the stored transparency log (= audit events); `None` if the store did not
    /// answer (the gauge keeps its last value).
    pub log_size: Option<u64>,
    /// Size of the latest checkpoint this node trusts (0 before the first).
    pub checkpoint_size: u64,
    /// Time since this node took its latest checkpoint (signed or adopted); since start-up
    /// when it has none yet.
    pub checkpoint_age: Duration,
    /// The checkpoint signer's state (one of [`LOG_STATES`]).
    pub log_state: &'static str,
    /// The published-credential cache of the public read path.
    pub read_cache: CacheCounts,
    /// The consumer-page cache.
    pub page_cache: CacheCounts,
    /// The database pool, when the store exposes one.
    pub pool: Option<PoolCounts>,
    /// The readiness checks, each `true` when it passes (in [`READY_CHECKS`] order).
    pub ready: [bool; 3],
}

/// The node's metrics (see the [module docs](self)).
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: Family<HttpLabels, Histogram, fn() -> Histogram>,
    publishes: Counter,
    publish_failures: Family<ReasonLabel, Counter>,
    plugin_verdicts: Family<VerdictLabels, Counter>,
    signing_duration: Family<SigningLabels, Histogram, fn() -> Histogram>,
    signing_errors: Family<SigningErrorLabels, Counter>,
    log_size: Gauge,
    log_checkpoint_size: Gauge,
    log_checkpoint_age: Gauge<f64, AtomicU64>,
    log_signer_state: Family<StateLabel, Gauge>,
    read_cache_hits: Counter,
    read_cache_misses: Counter,
    read_cache_bytes: Gauge,
    page_cache_hits: Counter,
    page_cache_misses: Counter,
    page_cache_bytes: Gauge,
    db_pool_connections: Gauge,
    db_pool_idle: Gauge,
    db_pool_max: Gauge,
    ready: Family<CheckLabel, Gauge>,
    outbox_depth: Gauge,
    outbox_oldest: Gauge<f64, AtomicU64>,
    webhook_failures: Family<ReasonLabel, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A registry with every family of the node registered (prefix `hallmark_`).
    pub fn new() -> Self {
        let mut root = Registry::default();
        let r = root.sub_registry_with_prefix("hallmark");
        let http_requests = Family::<HttpLabels, Counter>::default();
        r.register(
            "http_requests",
            "HTTP requests answered, by listener, matched route template and status",
            http_requests.clone(),
        );
        let http_duration =
            Family::<HttpLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                http_histogram,
            );
        r.register_with_unit(
            "http_request_duration",
            "Time from a request's arrival at the listener's layers to its response head, by listener, route and status",
            Unit::Seconds,
            http_duration.clone(),
        );
        let publishes = Counter::default();
        r.register(
            "publishes",
            "Passport versions published (admin API, bulk import and EN 18222 writes)",
            publishes.clone(),
        );
        let publish_failures = Family::<ReasonLabel, Counter>::default();
        r.register(
            "publish_failures",
            "Publications refused or failed, by reason",
            publish_failures.clone(),
        );
        let plugin_verdicts = Family::<VerdictLabels, Counter>::default();
        r.register(
            "plugin_verdicts",
            "Sector plugin runs by plugin and verdict (ungated, accepted, rejected, failed)",
            plugin_verdicts.clone(),
        );
        let signing_duration =
            Family::<SigningLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                signing_histogram,
            );
        r.register_with_unit(
            "signing_duration",
            "Time of one signature by key custody, by backend (file, pkcs11) and key purpose",
            Unit::Seconds,
            signing_duration.clone(),
        );
        let signing_errors = Family::<SigningErrorLabels, Counter>::default();
        r.register(
            "signing_errors",
            "Signatures (or signers) key custody refused, by backend, key purpose and reason",
            signing_errors.clone(),
        );
        let log_size = Gauge::default();
        r.register(
            "log_size",
            "Leaves in the stored transparency log (one per audit event)",
            log_size.clone(),
        );
        let log_checkpoint_size = Gauge::default();
        r.register(
            "log_checkpoint_size",
            "Tree size of the latest checkpoint this node trusts",
            log_checkpoint_size.clone(),
        );
        let log_checkpoint_age = Gauge::<f64, AtomicU64>::default();
        r.register_with_unit(
            "log_checkpoint_age",
            "Time since this node took its latest checkpoint, signed or adopted (since start-up before the first)",
            Unit::Seconds,
            log_checkpoint_age.clone(),
        );
        let log_signer_state = Family::<StateLabel, Gauge>::default();
        r.register(
            "log_signer_state",
            "The checkpoint signer's state: 1 for the current one",
            log_signer_state.clone(),
        );
        for status in LOG_STATES {
            log_signer_state
                .get_or_create(&StateLabel { status })
                .set(0);
        }
        let read_cache_hits = Counter::default();
        r.register(
            "read_cache_hits",
            "Public credential reads answered from the read cache",
            read_cache_hits.clone(),
        );
        let read_cache_misses = Counter::default();
        r.register(
            "read_cache_misses",
            "Public credential reads that were not in the read cache",
            read_cache_misses.clone(),
        );
        let read_cache_bytes = Gauge::default();
        r.register_with_unit(
            "read_cache",
            "Bytes held by the read cache",
            Unit::Bytes,
            read_cache_bytes.clone(),
        );
        let page_cache_hits = Counter::default();
        r.register(
            "page_cache_hits",
            "Consumer pages served from the page cache",
            page_cache_hits.clone(),
        );
        let page_cache_misses = Counter::default();
        r.register(
            "page_cache_misses",
            "Consumer pages rendered because the page cache did not hold them",
            page_cache_misses.clone(),
        );
        let page_cache_bytes = Gauge::default();
        r.register_with_unit(
            "page_cache",
            "Bytes held by the page cache (gzip-compressed pages)",
            Unit::Bytes,
            page_cache_bytes.clone(),
        );
        let db_pool_connections = Gauge::default();
        r.register(
            "db_pool_connections",
            "Open connections of the database pool",
            db_pool_connections.clone(),
        );
        let db_pool_idle = Gauge::default();
        r.register(
            "db_pool_idle_connections",
            "Idle connections of the database pool",
            db_pool_idle.clone(),
        );
        let db_pool_max = Gauge::default();
        r.register(
            "db_pool_max_connections",
            "The database pool's bound",
            db_pool_max.clone(),
        );
        let ready = Family::<CheckLabel, Gauge>::default();
        r.register(
            "ready",
            "Readiness checks of GET /ready: 1 when the check passes",
            ready.clone(),
        );
        for check in READY_CHECKS {
            ready.get_or_create(&CheckLabel { check }).set(0);
        }
        let outbox_depth = Gauge::default();
        r.register(
            "outbox_depth",
            "Outbox events not yet delivered (to NATS JetStream; without HALLMARK_NATS_URL they all wait)",
            outbox_depth.clone(),
        );
        let outbox_oldest = Gauge::<f64, AtomicU64>::default();
        r.register_with_unit(
            "outbox_oldest_undelivered",
            "Age of the oldest undelivered outbox event (0 when none)",
            Unit::Seconds,
            outbox_oldest.clone(),
        );
        let webhook_failures = Family::<ReasonLabel, Counter>::default();
        r.register(
            "webhook_failures",
            "Webhook delivery attempts that failed, by reason",
            webhook_failures.clone(),
        );
        Metrics {
            registry: root,
            http_requests,
            http_duration,
            publishes,
            publish_failures,
            plugin_verdicts,
            signing_duration,
            signing_errors,
            log_size,
            log_checkpoint_size,
            log_checkpoint_age,
            log_signer_state,
            read_cache_hits,
            read_cache_misses,
            read_cache_bytes,
            page_cache_hits,
            page_cache_misses,
            page_cache_bytes,
            db_pool_connections,
            db_pool_idle,
            db_pool_max,
            ready,
            outbox_depth,
            outbox_oldest,
            webhook_failures,
        }
    }

    /// The registry as the Prometheus text format (0.0.4).
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::with_capacity(16 * 1024);
        prometheus_text::encode(&mut out, &self.registry)?;
        Ok(out)
    }

    /// One answered request (the HTTP layer, `edge::observe`).
    pub fn http_request(&self, labels: &HttpLabels, elapsed: Duration) {
        self.http_requests.get_or_create(labels).inc();
        self.http_duration
            .get_or_create(labels)
            .observe(elapsed.as_secs_f64());
    }

    /// A passport version published.
    pub fn published(&self) {
        self.publishes.inc();
    }

    /// A publication refused or failed; `reason` is a stable slug
    /// (`service::ServiceError::reason`).
    pub fn publish_failed(&self, reason: &'static str) {
        self.publish_failures
            .get_or_create(&ReasonLabel { reason })
            .inc();
    }

    /// One run of the plugin gate: `plugin` is the plugin's name (`none` when ungated or
    /// missing).
    pub fn plugin_verdict(&self, plugin: &str, verdict: PluginVerdict) {
        self.plugin_verdicts
            .get_or_create(&VerdictLabels {
                plugin: plugin.to_owned(),
                verdict: verdict.as_str(),
            })
            .inc();
    }

    /// Custody did not even give a signer for `purpose` (unavailable, no current key).
    pub fn signer_refused(&self, backend: Backend, purpose: Purpose, reason: &'static str) {
        self.signing_errors
            .get_or_create(&SigningErrorLabels {
                backend: backend.as_str(),
                purpose: purpose.as_str(),
                reason,
            })
            .inc();
    }

    /// `inner`, a signer custody gave for `purpose`, timing each signature and counting
    /// each refusal under `backend`.
    pub fn signer(
        &self,
        inner: Box<dyn Signer>,
        backend: Backend,
        purpose: Purpose,
    ) -> Box<dyn Signer> {
        let labels = SigningLabels {
            backend: backend.as_str(),
            purpose: purpose.as_str(),
        };
        Box::new(MeteredSigner {
            inner,
            duration: self.signing_duration.get_or_create_owned(&labels),
            errors: self.signing_errors.clone(),
            labels,
        })
    }

    /// Copies what the application reports at a scrape into the gauges (and the cache
    /// counters, which the caches keep themselves).
    pub fn observe(&self, s: &Snapshot) {
        if let Some(size) = s.log_size {
            self.log_size.set(to_i64(size));
        }
        self.log_checkpoint_size.set(to_i64(s.checkpoint_size));
        self.log_checkpoint_age.set(s.checkpoint_age.as_secs_f64());
        for status in LOG_STATES {
            self.log_signer_state
                .get_or_create(&StateLabel { status })
                .set(i64::from(status == s.log_state));
        }
        mirror(&self.read_cache_hits, s.read_cache.hits);
        mirror(&self.read_cache_misses, s.read_cache.misses);
        self.read_cache_bytes.set(to_i64(s.read_cache.bytes));
        mirror(&self.page_cache_hits, s.page_cache.hits);
        mirror(&self.page_cache_misses, s.page_cache.misses);
        self.page_cache_bytes.set(to_i64(s.page_cache.bytes));
        if let Some(pool) = s.pool {
            self.db_pool_connections.set(to_i64(pool.size));
            self.db_pool_idle.set(to_i64(pool.idle));
            self.db_pool_max.set(to_i64(pool.max));
        }
        for (check, ok) in READY_CHECKS.iter().zip(s.ready) {
            self.ready
                .get_or_create(&CheckLabel { check })
                .set(i64::from(ok));
        }
    }

    /// Hook for the events outbox: events not yet delivered.
    pub fn outbox_depth(&self, n: u64) {
        self.outbox_depth.set(to_i64(n));
    }

    /// Hook for the events outbox: age of the oldest undelivered event (0 when none).
    pub fn outbox_oldest_undelivered_seconds(&self, seconds: f64) {
        self.outbox_oldest.set(seconds);
    }

    /// One failed webhook delivery attempt (`crate::webhooks`); `reason` a stable slug
    /// (`timeout`, `connect`, `status-5xx`, …).
    pub fn webhook_failure(&self, reason: &'static str) {
        self.webhook_failures
            .get_or_create(&ReasonLabel { reason })
            .inc();
    }
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Sets a counter to a count kept elsewhere (monotonic there, so monotonic here).
fn mirror(counter: &Counter, value: u64) {
    counter.inner().fetch_max(value, Ordering::Relaxed);
}

/// A signer that times its signatures and counts its refusals ([`Metrics::signer`]).
struct MeteredSigner {
    inner: Box<dyn Signer>,
    duration: Histogram,
    errors: Family<SigningErrorLabels, Counter>,
    labels: SigningLabels,
}

impl Signer for MeteredSigner {
    fn verifying_key(&self) -> ed25519_dalek::VerifyingKey {
        self.inner.verifying_key()
    }

    fn sign(&self, message: &[u8]) -> Result<ed25519_dalek::Signature, SignerError> {
        let start = Instant::now();
        let signed = self.inner.sign(message);
        match &signed {
            Ok(_) => self.duration.observe(start.elapsed().as_secs_f64()),
            Err(e) => {
                let reason = match e {
                    SignerError::Unavailable(_) => "unavailable",
                    SignerError::NotUsable(_) => "not-usable",
                    SignerError::Failed(_) => "failed",
                };
                self.errors
                    .get_or_create(&SigningErrorLabels {
                        backend: self.labels.backend,
                        purpose: self.labels.purpose,
                        reason,
                    })
                    .inc();
            }
        }
        signed
    }

    fn key_id(&self) -> hallmark_core::keys::KeyId {
        self.inner.key_id()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// Families appear with their first series: those without labels at once, those
    /// labelled by reason, plugin or backend once something is counted.
    #[test]
    fn every_family_is_exported_with_its_help_and_type() {
        let m = Metrics::new();
        m.http_request(
            &HttpLabels {
                listener: "public",
                route: Route::Unmatched,
                status: 200,
            },
            Duration::from_millis(3),
        );
        m.published();
        m.publish_failed("invalid");
        m.plugin_verdict("hallmark-battery", PluginVerdict::Accepted);
        m.webhook_failure("timeout");
        let text = m.encode().unwrap();
        for family in [
            "# TYPE hallmark_http_requests_total counter",
            "# TYPE hallmark_http_request_duration_seconds histogram",
            "# TYPE hallmark_publishes_total counter",
            "# TYPE hallmark_publish_failures_total counter",
            "# TYPE hallmark_plugin_verdicts_total counter",
            "# TYPE hallmark_log_size gauge",
            "# TYPE hallmark_log_checkpoint_age_seconds gauge",
            "# TYPE hallmark_read_cache_hits_total counter",
            "# TYPE hallmark_outbox_depth gauge",
            "# TYPE hallmark_outbox_oldest_undelivered_seconds gauge",
            "# TYPE hallmark_webhook_failures_total counter",
            "# TYPE hallmark_ready gauge",
        ] {
            assert!(text.contains(family), "{family} missing:\n{text}");
        }
        assert!(text.contains(
            "hallmark_http_requests_total{listener=\"public\",route=\"unmatched\",status=\"200\"} 1\n"
        ));
        assert!(text.contains(
            "hallmark_http_request_duration_seconds_bucket{le=\"0.005\",listener=\"public\",route=\"unmatched\",status=\"200\"} 1\n"
        ) || text.contains(
            "hallmark_http_request_duration_seconds_bucket{listener=\"public\",route=\"unmatched\",status=\"200\",le=\"0.005\"} 1\n"
        ), "{text}");
        assert!(text.contains("hallmark_publish_failures_total{reason=\"invalid\"} 1\n"));
    }

    #[test]
    fn a_snapshot_sets_the_gauges_and_mirrors_the_cache_counts() {
        let m = Metrics::new();
        let mut s = Snapshot {
            log_size: Some(7),
            checkpoint_size: 6,
            checkpoint_age: Duration::from_secs(2),
            log_state: "ok",
            read_cache: CacheCounts {
                hits: 5,
                misses: 2,
                bytes: 100,
            },
            ready: [true, false, true],
            ..Snapshot::default()
        };
        m.observe(&s);
        let text = m.encode().unwrap();
        assert!(text.contains("hallmark_log_size 7\n"), "{text}");
        assert!(text.contains("hallmark_log_checkpoint_size 6\n"));
        assert!(text.contains("hallmark_read_cache_hits_total 5\n"));
        assert!(text.contains("hallmark_log_signer_state{status=\"ok\"} 1\n"));
        assert!(text.contains("hallmark_log_signer_state{status=\"refused\"} 0\n"));
        assert!(text.contains("hallmark_ready{check=\"signing\"} 0\n"));
        // A store that does not answer keeps the last size.
        s.log_size = None;
        m.observe(&s);
        assert!(m.encode().unwrap().contains("hallmark_log_size 7\n"));
    }

    #[test]
    fn a_metered_signer_times_signatures_and_counts_refusals() {
        struct Down(ed25519_dalek::VerifyingKey);
        impl Signer for Down {
            fn verifying_key(&self) -> ed25519_dalek::VerifyingKey {
                self.0
            }
            fn sign(&self, _: &[u8]) -> Result<ed25519_dalek::Signature, SignerError> {
                Err(SignerError::Unavailable("HSM unavailable".into()))
            }
        }
        let m = Metrics::new();
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let ok = m.signer(
            Box::new(key.clone()),
            Backend::File,
            Purpose::PassportSigning,
        );
        ok.sign(b"x").unwrap();
        let down = m.signer(
            Box::new(Down(key.verifying_key())),
            Backend::Pkcs11,
            Purpose::LogCheckpoint,
        );
        assert!(down.sign(b"x").is_err());
        assert_eq!(down.key_id(), KeyIdOf::of(&key));
        let text = m.encode().unwrap();
        assert!(text.contains(
            "hallmark_signing_duration_seconds_count{backend=\"file\",purpose=\"passport-signing\"} 1\n"
        ), "{text}");
        assert!(text.contains(
            "hallmark_signing_errors_total{backend=\"pkcs11\",purpose=\"log-checkpoint\",reason=\"unavailable\"} 1\n"
        ), "{text}");
    }

    struct KeyIdOf;
    impl KeyIdOf {
        fn of(key: &ed25519_dalek::SigningKey) -> hallmark_core::keys::KeyId {
            hallmark_core::keys::KeyId::of(&key.verifying_key())
        }
    }
}

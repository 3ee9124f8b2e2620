//! Metrics and readiness over real HTTP (docs/operations.md): `GET /metrics` on the admin
//! listener parsed as the Prometheus text format 0.0.4 by a strict parser (below: every line
//! a `# HELP`, a `# TYPE` or a sample of a typed family; label values with their escapes;
//! histograms cumulative with `+Inf` = `_count`), moving as expected after a publish and a
//! public read, on SQLite and PostgreSQL; who may scrape; `GET /ready` on a healthy node and
//! on one whose HSM is unavailable.
//!
//! The available crate parsers do not do: `prometheus-parse` silently drops every sample
//! whose label value holds a `}` (a route template such as `/passports/{id}`), and
//! `openmetrics-parser` is LGPL.

use hallmark_testkit as kit;

use hallmark_keys::hsm::{Hsm, HsmConfig};
use hallmark_keys::HsmCustody;
use kit::{basic, both, Backend, TestNode};
use reqwest::Method;
use secrecy::SecretString;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// One sample: metric name, labels, value.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A parsed exposition: family name → type, and the samples in order.
#[derive(Debug, Default)]
struct Exposition {
    types: HashMap<String, String>,
    samples: Vec<Sample>,
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn parse_value(s: &str) -> Result<f64, String> {
    match s {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ => s.parse::<f64>().map_err(|e| format!("value {s:?}: {e}")),
    }
}

/// `{a="x",b="y\"z"}` (after the metric name) → labels and the rest of the line.
fn parse_labels(mut rest: &str) -> Result<(BTreeMap<String, String>, &str), String> {
    let mut labels = BTreeMap::new();
    rest = &rest[1..];
    loop {
        if let Some(after) = rest.strip_prefix('}') {
            return Ok((labels, after));
        }
        let eq = rest.find('=').ok_or("label without '='")?;
        let name = &rest[..eq];
        if !is_name(name) || name.contains(':') {
            return Err(format!("bad label name {name:?}"));
        }
        rest = rest[eq + 1..]
            .strip_prefix('"')
            .ok_or("label value not quoted")?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    other => return Err(format!("bad escape {other:?}")),
                },
                Some((i, '"')) => break i,
                Some((_, c)) => value.push(c),
                None => return Err("unterminated label value".into()),
            }
        };
        if labels.insert(name.to_string(), value).is_some() {
            return Err(format!("label {name} twice"));
        }
        rest = &rest[end + 1..];
        if let Some(after) = rest.strip_prefix(',') {
            rest = after;
        } else if !rest.starts_with('}') {
            return Err(format!("expected ',' or '}}' at {rest:?}"));
        }
    }
}

/// The family a sample belongs to, given the declared types.
fn family_of<'a>(name: &'a str, types: &HashMap<String, String>) -> Option<&'a str> {
    if types.contains_key(name) {
        return Some(name);
    }
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = name.strip_suffix(suffix) {
            if types
                .get(base)
                .is_some_and(|t| t == "histogram" || t == "summary")
            {
                return Some(base);
            }
        }
    }
    None
}

/// Strict Prometheus text format 0.0.4.
fn parse(text: &str) -> Result<Exposition, String> {
    let mut out = Exposition::default();
    let mut seen_samples: HashMap<String, ()> = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let err = |e: String| format!("line {}: {e}: {line:?}", n + 1);
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix("# ") {
            let mut parts = comment.splitn(3, ' ');
            let (kind, name, rest) = (parts.next(), parts.next(), parts.next());
            let name = name
                .filter(|n| is_name(n))
                .ok_or_else(|| err("no metric name".into()))?;
            match kind {
                Some("HELP") => {
                    rest.ok_or_else(|| err("HELP without text".into()))?;
                }
                Some("TYPE") => {
                    let t = rest.ok_or_else(|| err("TYPE without type".into()))?;
                    if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&t) {
                        return Err(err(format!("unknown type {t}")));
                    }
                    if seen_samples.contains_key(name) {
                        return Err(err("TYPE after the family's samples".into()));
                    }
                    if out.types.insert(name.to_string(), t.to_string()).is_some() {
                        return Err(err("TYPE twice".into()));
                    }
                }
                _ => return Err(err("a comment that is neither HELP nor TYPE".into())),
            }
            continue;
        }
        let name_end = line
            .find(['{', ' '])
            .ok_or_else(|| err("no value".into()))?;
        let name = &line[..name_end];
        if !is_name(name) {
            return Err(err(format!("bad metric name {name:?}")));
        }
        let (labels, rest) = if line[name_end..].starts_with('{') {
            parse_labels(&line[name_end..]).map_err(err)?
        } else {
            (BTreeMap::new(), &line[name_end..])
        };
        let rest = rest
            .strip_prefix(' ')
            .ok_or_else(|| err("no space before the value".into()))?;
        let mut fields = rest.split(' ');
        let value = parse_value(fields.next().unwrap_or("")).map_err(err)?;
        if let Some(ts) = fields.next() {
            ts.parse::<i64>()
                .map_err(|e| err(format!("timestamp: {e}")))?;
        }
        if fields.next().is_some() {
            return Err(err("trailing fields".into()));
        }
        let family = family_of(name, &out.types)
            .ok_or_else(|| err("sample of no declared family".into()))?;
        seen_samples.insert(family.to_string(), ());
        out.samples.push(Sample {
            name: name.to_string(),
            labels,
            value,
        });
    }
    // Histograms: buckets cumulative, `+Inf` present and equal to `_count`.
    for (family, t) in &out.types {
        if t != "histogram" {
            continue;
        }
        let mut series: BTreeMap<BTreeMap<String, String>, Vec<(f64, f64)>> = BTreeMap::new();
        for s in out
            .samples
            .iter()
            .filter(|s| s.name == format!("{family}_bucket"))
        {
            let mut key = s.labels.clone();
            let le = key
                .remove("le")
                .ok_or(format!("{family}: bucket without le"))?;
            series
                .entry(key)
                .or_default()
                .push((parse_value(&le)?, s.value));
        }
        for (key, buckets) in series {
            for w in buckets.windows(2) {
                if !(w[0].0 < w[1].0 && w[0].1 <= w[1].1) {
                    return Err(format!(
                        "{family}{key:?}: buckets not cumulative: {buckets:?}"
                    ));
                }
            }
            let inf = buckets.last().filter(|b| b.0 == f64::INFINITY);
            let count = out
                .samples
                .iter()
                .find(|s| s.name == format!("{family}_count") && s.labels == key)
                .map(|s| s.value);
            if inf.map(|b| b.1) != count || count.is_none() {
                return Err(format!(
                    "{family}{key:?}: +Inf bucket {inf:?} vs count {count:?}"
                ));
            }
        }
    }
    Ok(out)
}

impl Exposition {
    /// The value of the sample `name` with exactly `labels`; 0 when absent (a series not yet
    /// created).
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let want: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.samples
            .iter()
            .find(|s| s.name == name && s.labels == want)
            .map_or(0.0, |s| s.value)
    }

    /// The sum over every series of `name` whose labels include `labels`.
    fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples
            .iter()
            .filter(|s| {
                s.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|s| s.value)
            .sum()
    }
}

#[test]
fn the_parser_is_strict() {
    let good =
        "# HELP a_total A.\n# TYPE a_total counter\na_total{route=\"/p/{id}\",x=\"q\\\"\\\\\"} 3\n";
    let e = parse(good).unwrap();
    assert_eq!(
        e.value("a_total", &[("route", "/p/{id}"), ("x", "q\"\\")]),
        3.0
    );
    for bad in [
        "a_total 1\n",                          // no TYPE
        "# TYPE a counter\na{x=\"1\" 1\n",      // unterminated labels
        "# TYPE a counter\na{x=1} 1\n",         // unquoted
        "# TYPE a counter\na one\n",            // bad value
        "# TYPE a counter\n# TYPE a counter\n", // twice
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n", // not cumulative
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 1\n", // +Inf != count
        "# EOF\n",                                                  // OpenMetrics, not 0.0.4
    ] {
        assert!(parse(bad).is_err(), "accepted {bad:?}");
    }
}

/// Scrapes `/metrics` with `auth`; asserts the answer and parses it.
async fn scrape(n: &kit::Node, auth: &str) -> Exposition {
    let r = n.call(Method::GET, "/metrics", Some(auth), None).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        r.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = String::from_utf8(r.body).unwrap();
    parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

const PUBLISH_ROUTE: &str = "/api/v1/passports/{id}/publish";

async fn metrics_move_after_a_publish_and_a_public_read(backend: Backend) {
    let n = TestNode::new(backend).start().await;
    let (r, _, _) = n.key("read").await;
    let (w, _, _) = n.key("write").await;
    let before = scrape(&n, &r).await;
    // Every family without labels (and those with fixed label sets) from the start; the
    // families labelled by reason, plugin or backend from their first series.
    for family in [
        "hallmark_http_requests_total",
        "hallmark_http_request_duration_seconds",
        "hallmark_publishes_total",
        "hallmark_log_size",
        "hallmark_log_checkpoint_size",
        "hallmark_log_checkpoint_age_seconds",
        "hallmark_log_signer_state",
        "hallmark_read_cache_hits_total",
        "hallmark_read_cache_misses_total",
        "hallmark_db_pool_connections",
        "hallmark_ready",
        "hallmark_outbox_depth",
        "hallmark_outbox_oldest_undelivered_seconds",
    ] {
        assert!(before.types.contains_key(family), "{family} not exported");
    }
    assert_eq!(before.value("hallmark_ready", &[("check", "store")]), 1.0);
    assert!(before.value("hallmark_db_pool_max_connections", &[]) >= 1.0);
    // No NATS on this node: the start-up events (signing keys, status lists) wait in the
    // outbox, and their age is measured.
    assert!(before.value("hallmark_outbox_depth", &[]) >= 1.0);
    assert!(before.value("hallmark_outbox_oldest_undelivered_seconds", &[]) >= 0.0);

    let id = n.publish_new(&w, "SN-METRICS-1").await;
    let publish = [
        ("listener", "admin"),
        ("route", PUBLISH_ROUTE),
        ("status", "200"),
    ];
    let after = scrape(&n, &r).await;
    assert_eq!(
        after.value("hallmark_http_requests_total", &publish),
        before.value("hallmark_http_requests_total", &publish) + 1.0
    );
    assert_eq!(
        after.value("hallmark_http_request_duration_seconds_count", &publish),
        before.value("hallmark_http_request_duration_seconds_count", &publish) + 1.0
    );
    assert_eq!(
        after.value("hallmark_publishes_total", &[]),
        before.value("hallmark_publishes_total", &[]) + 1.0
    );
    assert!(
        after.value("hallmark_log_size", &[]) > before.value("hallmark_log_size", &[]),
        "the log grew by the publication's leaf"
    );
    // No NATS on this node: the publication's event waits in the outbox.
    assert!(
        after.value("hallmark_outbox_depth", &[])
            >= before.value("hallmark_outbox_depth", &[]) + 1.0,
        "the publication's event waits in the outbox"
    );
    // Three audiences, two forms: six passport signatures by the file keystore.
    let signed = [("backend", "file"), ("purpose", "passport-signing")];
    assert!(
        after.value("hallmark_signing_duration_seconds_count", &signed)
            >= before.value("hallmark_signing_duration_seconds_count", &signed) + 6.0
    );
    // No plugin on this node: the publication's gate run was ungated.
    let ungated = [("plugin", "none"), ("verdict", "ungated")];
    assert!(
        after.value("hallmark_plugin_verdicts_total", &ungated)
            > before.value("hallmark_plugin_verdicts_total", &ungated)
    );
    // A refused publication (nothing pending any more) counts as a failure by reason.
    let again = n
        .call(
            Method::POST,
            &format!("/api/v1/passports/{id}/publish"),
            Some(&w),
            None,
        )
        .await;
    assert_eq!(again.status, 409);
    let conflict = [("reason", "conflict")];
    let refused = scrape(&n, &r).await;
    assert_eq!(
        refused.value("hallmark_publish_failures_total", &conflict),
        after.value("hallmark_publish_failures_total", &conflict) + 1.0
    );
    assert_eq!(
        refused.value("hallmark_publishes_total", &[]),
        after.value("hallmark_publishes_total", &[])
    );

    // A public read: the passport route's template, status 200; a read of the cache.
    let read = n.get(&format!("/passports/{id}")).await;
    assert_eq!(read.status, 200);
    assert_eq!(n.get("/no/such/thing").await.status, 404);
    let passport = [
        ("listener", "public"),
        ("route", "/passports/{id}"),
        ("status", "200"),
    ];
    let unmatched = [
        ("listener", "public"),
        ("route", "unmatched"),
        ("status", "404"),
    ];
    let last = scrape(&n, &r).await;
    assert_eq!(
        last.value("hallmark_http_requests_total", &passport),
        refused.value("hallmark_http_requests_total", &passport) + 1.0
    );
    assert_eq!(
        last.value("hallmark_http_requests_total", &unmatched),
        refused.value("hallmark_http_requests_total", &unmatched) + 1.0
    );
    let lookups = |e: &Exposition| {
        e.value("hallmark_read_cache_hits_total", &[])
            + e.value("hallmark_read_cache_misses_total", &[])
    };
    assert!(
        lookups(&last) > lookups(&refused),
        "the read consulted the cache"
    );
    // Never the raw path: no series names the passport's id.
    assert!(last
        .samples
        .iter()
        .all(|s| s.labels.get("route").is_none_or(|r| !r.contains(&id))));
    // Every request of this test is in the public listener's or the admin listener's series.
    assert!(last.sum("hallmark_http_requests_total", &[("listener", "admin")]) >= 6.0);
    n.running.stop();
}

both!(metrics_move_after_a_publish_and_a_public_read);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_for_authenticated_readers_of_the_admin_listener_only() {
    let n = TestNode::new(Backend::Sqlite).start().await;
    n.call(Method::GET, "/metrics", None, None)
        .await
        .problem(401, "unauthorized");
    // Any scope reads them, and so does the admin login.
    let (r, _, _) = n.key("read").await;
    scrape(&n, &r).await;
    scrape(&n, &basic()).await;
    // The public listener has none.
    assert_eq!(n.get("/metrics").await.status, 404);
    // Documented in the admin OpenAPI document, behind scope read, as text.
    let doc = n.admin(Method::GET, "/openapi.json").await.json();
    let op = &doc["paths"]["/metrics"]["get"];
    assert_eq!(op["x-required-scope"], "read", "{op}");
    assert!(
        op["responses"]["200"]["content"]["text/plain"].is_object(),
        "{op}"
    );
    let public = n.get("/openapi.json").await.json();
    assert!(public["paths"]["/ready"]["get"]["summary"].is_string());
    assert!(public["paths"].get("/metrics").is_none());
    n.running.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_node_is_ready() {
    let n = TestNode::new(Backend::Sqlite).start().await;
    let r = n.get("/ready").await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        r.json(),
        serde_json::json!({"ready": true, "checks": {"store": "ok", "signing": "ok", "log": "ok"}})
    );
    // `/health` keeps its own answer.
    let health = n.get("/health").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");
    n.running.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_hsm_is_unavailable_is_alive_but_not_ready() {
    let state = Hsm::connect(&HsmConfig {
        module_path: "/nonexistent/libpkcs11.so".into(),
        token_label: "none".into(),
        pin: SecretString::from("0000"),
        key_label_prefix: "hallmark".into(),
    });
    let integrity = Arc::new(hallmark_core::integrity::IntegrityKeys::derive(&[5; 32]).unwrap());
    let n = TestNode::new(Backend::Sqlite)
        .custody(Arc::new(HsmCustody::new(state, integrity)))
        .start()
        .await;
    let r = n.get("/ready").await;
    assert_eq!(r.status, 503, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        r.json(),
        serde_json::json!({"ready": false, "checks": {"store": "ok", "signing": "unavailable", "log": "ok"}})
    );
    assert_eq!(n.get("/health").await.status, 200, "alive");
    // A publication the HSM cannot sign: a failure by reason, and a signing error of the
    // pkcs11 backend.
    let (w, _, _) = n.key("write").await;
    let created = n
        .call(
            Method::POST,
            "/api/v1/passports",
            Some(&w),
            Some(&kit::battery_draft("SN-HSM")),
        )
        .await;
    assert_eq!(created.status, 201);
    let id = created.json()["id"].as_str().unwrap().to_string();
    let p = n
        .call(
            Method::POST,
            &format!("/api/v1/passports/{id}/publish"),
            Some(&w),
            None,
        )
        .await;
    p.problem(503, "signing-unavailable");
    let m = scrape(&n, &basic()).await;
    assert_eq!(m.value("hallmark_ready", &[("check", "signing")]), 0.0);
    assert_eq!(m.value("hallmark_ready", &[("check", "store")]), 1.0);
    assert_eq!(
        m.value(
            "hallmark_publish_failures_total",
            &[("reason", "signing-unavailable")]
        ),
        1.0
    );
    assert!(
        m.sum(
            "hallmark_signing_errors_total",
            &[
                ("backend", "pkcs11"),
                ("purpose", "passport-signing"),
                ("reason", "unavailable")
            ]
        ) >= 1.0
    );
    n.running.stop();
}

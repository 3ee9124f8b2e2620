//! Shared helpers: serve a router on 127.0.0.1:0 and talk to it over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use axum::Router;
use serde_json::Value;
use std::net::SocketAddr;

/// Serve `router` (with client addresses) on an ephemeral loopback port; returns its base URL.
pub async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    format!("http://{addr}")
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().build().unwrap()
}

/// Status, headers and body of a response.
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub async fn from(r: reqwest::Response) -> Reply {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r.bytes().await.unwrap().to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    /// Assert a problem+json body with this status and type slug; returns the body.
    pub fn problem(&self, status: u16, slug: &str) -> Value {
        assert_eq!(
            self.status,
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json")
        );
        let v = self.json();
        assert_eq!(v["type"], format!("urn:hallmark:problem:{slug}"));
        assert_eq!(v["status"], status);
        assert!(v["title"].is_string());
        v
    }

    /// Assert the security headers every response carries.
    pub fn assert_security_headers(&self) {
        assert_eq!(
            self.header("content-security-policy"),
            Some("default-src 'none'; frame-ancestors 'none'")
        );
        assert_eq!(self.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(self.header("x-frame-options"), Some("DENY"));
        assert_eq!(self.header("referrer-policy"), Some("no-referrer"));
    }
}

/// The demo's EV battery data (`crates/hallmark/demo/ev-battery.json`): realistic values
/// that pass the battery plugin without findings.
pub fn battery_data() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../hallmark/demo/ev-battery.json"
    );
    let draft: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    draft["data"].clone()
}

/// An item-level battery passport submission with that data and serial number.
pub fn battery_draft(serial: &str) -> Value {
    serde_json::json!({
        "uniqueProductIdentifier": { "gtin": "09506000134352", "serial": serial },
        "granularity": "item",
        "economicOperatorId": "urn:eori:DE123456789012345",
        "sector": { "id": "battery", "schemaVersion": "1.2.0" },
        "data": battery_data(),
    })
}

/// `both!(case)`: runs `async fn case(Backend)` once on SQLite and once on PostgreSQL (the
/// invoking file defines `Backend`).
#[allow(unused_macros)]
macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(super::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(super::Backend::Postgres).await;
            }
        }
    };
}
#[allow(unused_imports)]
pub(crate) use both;

/// Edge settings with rate limits lifted (tests drive many requests from one address).
pub fn edge() -> hallmark_node::edge::EdgeConfig {
    let big = std::num::NonZeroU32::new(100_000).unwrap();
    hallmark_node::edge::EdgeConfig {
        rate_limits: hallmark_node::edge::RateLimits {
            public_per_second: big,
            public_burst: big,
            admin_per_second: big,
            admin_burst: big,
            auth_failures_per_minute: big,
        },
        ..hallmark_node::edge::EdgeConfig::default()
    }
}

//! Behind a reverse proxy (issue 14.5), over real HTTP on 127.0.0.1: a node whose trusted
//! proxy is 127.0.0.1 takes the client from `X-Forwarded-For` / `Forwarded` for requests from
//! it, and from nowhere else. Rate limits and failed-login throttles then apply per real
//! client, a client's failures do not lock out another client's valid key, and a proxy's
//! connections are not held to the per-client connection cap. A peer that is not a trusted
//! proxy (127.0.0.2) cannot pick its address with the same headers.

use hallmark_testkit as kit;

use hallmark_node::edge::{EdgeConfig, RateLimits, TrustedProxies};
use kit::Reply;
use kit::{Backend, Data, Node, ADMIN_USER};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

fn from(host: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::from([127, 0, 0, host]))
        .build()
        .unwrap()
}

fn edge(public_burst: u32, failures: u32) -> EdgeConfig {
    let big = NonZeroU32::new(100_000).unwrap();
    EdgeConfig {
        rate_limits: RateLimits {
            public_per_second: NonZeroU32::new(1).unwrap(),
            public_burst: NonZeroU32::new(public_burst).unwrap(),
            admin_per_second: big,
            admin_burst: big,
            auth_failures_per_minute: NonZeroU32::new(failures).unwrap(),
        },
        trusted_proxies: Arc::new(TrustedProxies::parse("127.0.0.1/32").unwrap()),
        ..kit::edge()
    }
}

async fn get(client: &reqwest::Client, url: &str, xff: Option<&str>, auth: Option<&str>) -> Reply {
    let mut r = client.get(url);
    if let Some(x) = xff {
        r = r.header("x-forwarded-for", x);
    }
    if let Some(a) = auth {
        r = r.header("authorization", a);
    }
    Reply::from(r.send().await.unwrap()).await
}

/// How many of `n` public reads answer 429.
async fn limited(n: &Node, client: &reqwest::Client, xff: Option<&str>, count: usize) -> usize {
    let url = format!("{}/health", n.public);
    let mut hits = 0;
    for _ in 0..count {
        if get(client, &url, xff, None).await.status == 429 {
            hits += 1;
        }
    }
    hits
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_apply_per_forwarded_client_only_from_trusted_proxies() {
    let data = Data::new(Backend::Sqlite).await;
    let n = data.start_with(edge(5, 1_000)).await;
    let proxy = from(1);
    // Client A, through the proxy, uses up its burst…
    assert!(limited(&n, &proxy, Some("198.51.100.1"), 10).await >= 4);
    // …client B, through the same proxy, is not affected.
    assert_eq!(limited(&n, &proxy, Some("198.51.100.2"), 4).await, 0);
    // RFC 7239 works the same way.
    let url = format!("{}/health", n.public);
    let r = proxy
        .get(&url)
        .header("forwarded", "for=198.51.100.3;proto=https")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // A peer that is not a trusted proxy cannot choose its address: different headers,
    // one budget.
    let other = from(2);
    let mut hits = 0;
    for i in 0..10 {
        let r = get(&other, &url, Some(&format!("203.0.113.{i}")), None).await;
        hits += usize::from(r.status == 429);
    }
    assert!(hits >= 4, "{hits}");
    n.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_clients_failed_logins_lock_out_neither_other_clients_nor_a_valid_key() {
    let data = Data::new(Backend::Sqlite).await;
    let n = data.start_with(edge(1_000, 3)).await;
    let proxy = from(1);
    // A key minted through the admin login (from client C).
    let r = proxy
        .post(format!("{}/api/v1/api-keys", n.admin))
        .header("x-forwarded-for", "198.51.100.30")
        .header("authorization", kit::basic())
        .header("content-type", "application/json")
        .body(r#"{"scope":"read","label":"behind the proxy"}"#)
        .send()
        .await
        .unwrap();
    let r = Reply::from(r).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let key = format!("Bearer {}", r.json()["key"].as_str().unwrap());
    let whoami = format!("{}/api/v1/whoami", n.admin);
    let wrong = "Bearer hmk_r_garbage";
    // Client A guesses three times, then is throttled.
    for _ in 0..3 {
        get(&proxy, &whoami, Some("198.51.100.10"), Some(wrong))
            .await
            .problem(401, "unauthorized");
    }
    get(&proxy, &whoami, Some("198.51.100.10"), Some(wrong))
        .await
        .problem(429, "auth-throttled");
    // Client B, same proxy: not throttled.
    get(&proxy, &whoami, Some("198.51.100.11"), Some(wrong))
        .await
        .problem(401, "unauthorized");
    assert_eq!(
        get(&proxy, &whoami, Some("198.51.100.11"), Some(&key))
            .await
            .status,
        200
    );
    // And the valid key still works from A's own address.
    assert_eq!(
        get(&proxy, &whoami, Some("198.51.100.10"), Some(&key))
            .await
            .status,
        200
    );

    // Password guesses for the admin user from many addresses are throttled per user name:
    // after three, the admin login is throttled everywhere (API keys still work).
    for i in 0..3 {
        get(
            &proxy,
            &whoami,
            Some(&format!("198.51.100.{}", 50 + i)),
            Some(&basic_as(ADMIN_USER, "not-the-password")),
        )
        .await
        .problem(401, "unauthorized");
    }
    get(&proxy, &whoami, Some("198.51.100.99"), Some(&kit::basic()))
        .await
        .problem(429, "auth-throttled");
    assert_eq!(
        get(&proxy, &whoami, Some("198.51.100.99"), Some(&key))
            .await
            .status,
        200
    );

    // The audit trail names the forwarded clients, not the proxy.
    let events = n.app().store.list_audit(1, 1_000).await.unwrap();
    assert!(events
        .iter()
        .any(|e| e.event.actor == "client:198.51.100.10" && e.event.action == "auth.failed"));
    assert!(!events.iter().any(|e| e.event.actor == "client:127.0.0.1"));
    n.stop().await;
}

fn basic_as(user: &str, pass: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_proxy_is_not_held_to_the_per_client_connection_cap() {
    let data = Data::new(Backend::Sqlite).await;
    let mut e = edge(1_000, 1_000);
    e.connections.max_connections_per_client = 2;
    let n = data.start_with(e).await;
    let addr = n.running.public_addr;
    // Five open connections from the proxy, each answered.
    let mut held = Vec::new();
    for _ in 0..5 {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket
            .bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
            .unwrap();
        let mut s = socket.connect(addr).await.unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 198.51.100.1\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 12];
        s.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"HTTP/1.1 200");
        held.push(s);
    }
    // From an untrusted peer, the third is refused.
    let mut ok = 0;
    let mut others = Vec::new();
    for _ in 0..3 {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket
            .bind(std::net::SocketAddr::from(([127, 0, 0, 2], 0)))
            .unwrap();
        let mut s = socket.connect(addr).await.unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let _ = s
            .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            .await;
        let mut buf = [0u8; 12];
        if s.read_exact(&mut buf).await.is_ok() && &buf == b"HTTP/1.1 200" {
            ok += 1;
        }
        others.push(s);
    }
    assert_eq!(ok, 2);
    n.stop().await;
}

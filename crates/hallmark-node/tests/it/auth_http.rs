//! The admin edge over real HTTP: API keys, admin login, no oracle, throttling, scopes,
//! per-key rate limits, audit events.

use hallmark_testkit as kit;

use axum::routing::{delete, get, post};
use axum::{Json, Router};
use base64::Engine;
use hallmark_node::apikey::{ApiKey, KeyHash, Scope};
use hallmark_node::audit::{AuthFailure, BoxFuture, MemoryAudit, SecurityEvent};
use hallmark_node::auth::{
    require, AuthState, KeyLookup, LookupError, MemoryKeys, Principal, StoredKey,
};
use hallmark_node::config::AdminCredentials;
use hallmark_node::edge::{admin_router, EdgeConfig, RateLimits};
use hallmark_node::problem::ApiJson;
use kit::{client, serve, Reply};
use secrecy::SecretString;
use serde_json::{json, Value};
use std::num::NonZeroU32;
use std::sync::Arc;
use time::{Duration as TimeDuration, OffsetDateTime};
use uuid::Uuid;

const ADMIN_USER: &str = "operator";
const ADMIN_PASSWORD: &str = "correct-horse-battery-admin";

async fn whoami(p: Principal) -> Json<Value> {
    Json(json!({ "scope": p.scope().as_str(), "key_id": p.key_id() }))
}

async fn echo(ApiJson(v): ApiJson<Value>) -> Json<Value> {
    Json(v)
}

fn routes() -> Router {
    Router::new()
        .route("/api/v1/whoami", get(whoami))
        .route("/api/v1/echo", post(echo))
        .route(
            "/api/v1/passports",
            post(|| async { "created" }).route_layer(require(Scope::Write)),
        )
        .route(
            "/api/v1/keys/x",
            delete(|| async { "revoked" }).route_layer(require(Scope::Admin)),
        )
}

struct Fixture {
    base: String,
    keys: Arc<MemoryKeys>,
    audit: Arc<MemoryAudit>,
    read: ApiKey,
    write: ApiKey,
    admin: ApiKey,
    revoked: ApiKey,
    expired: ApiKey,
    /// Stored under its lookup id, but with another key's hash.
    wrong_secret: ApiKey,
}

fn stored(key: &ApiKey, id: Uuid) -> StoredKey {
    StoredKey {
        key_id: id,
        hash: key.hash(),
        scope: key.scope(),
        expires_at: None,
        revoked_at: None,
    }
}

async fn fixture(failures: u32, rate: RateLimits) -> Fixture {
    fixture_with(failures, rate, None).await
}

async fn fixture_with(
    failures: u32,
    rate: RateLimits,
    lookup: Option<Arc<dyn KeyLookup>>,
) -> Fixture {
    let keys = Arc::new(MemoryKeys::default());
    let audit = Arc::new(MemoryAudit::default());
    let read = ApiKey::generate_os(Scope::Read).unwrap();
    let write = ApiKey::generate_os(Scope::Write).unwrap();
    let admin = ApiKey::generate_os(Scope::Admin).unwrap();
    let revoked = ApiKey::generate_os(Scope::Admin).unwrap();
    let expired = ApiKey::generate_os(Scope::Admin).unwrap();
    let wrong_secret = ApiKey::generate_os(Scope::Admin).unwrap();
    let now = OffsetDateTime::now_utc();
    for (k, n) in [(&read, 1u128), (&write, 2), (&admin, 3)] {
        keys.insert(k.lookup_id(), stored(k, Uuid::from_u128(n)));
    }
    keys.insert(
        revoked.lookup_id(),
        StoredKey {
            revoked_at: Some(now - TimeDuration::minutes(1)),
            ..stored(&revoked, Uuid::from_u128(4))
        },
    );
    keys.insert(
        expired.lookup_id(),
        StoredKey {
            expires_at: Some(now - TimeDuration::seconds(1)),
            ..stored(&expired, Uuid::from_u128(5))
        },
    );
    keys.insert(
        wrong_secret.lookup_id(),
        StoredKey {
            hash: KeyHash::from_bytes([7; 32]),
            ..stored(&wrong_secret, Uuid::from_u128(6))
        },
    );
    let lookup: Arc<dyn KeyLookup> = lookup.unwrap_or_else(|| keys.clone());
    let auth = AuthState::new(
        lookup,
        audit.clone(),
        &AdminCredentials {
            username: ADMIN_USER.into(),
            password: SecretString::from(ADMIN_PASSWORD),
        },
        NonZeroU32::new(failures).unwrap(),
    );
    let config = EdgeConfig {
        rate_limits: rate,
        ..EdgeConfig::default()
    };
    let base = serve(admin_router(routes(), &config, auth)).await;
    Fixture {
        base,
        keys,
        audit,
        read,
        write,
        admin,
        revoked,
        expired,
        wrong_secret,
    }
}

fn bearer(k: &ApiKey) -> String {
    format!("Bearer {}", k.expose_secret())
}

fn basic(user: &str, pass: &str) -> String {
    let b = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    format!("Basic {b}")
}

async fn call(method: reqwest::Method, url: String, auth: Option<String>) -> Reply {
    let mut r = client().request(method, url);
    if let Some(a) = auth {
        r = r.header("authorization", a);
    }
    Reply::from(r.send().await.unwrap()).await
}

async fn get_as(f: &Fixture, path: &str, auth: Option<&str>) -> Reply {
    call(
        reqwest::Method::GET,
        format!("{}{path}", f.base),
        auth.map(str::to_string),
    )
    .await
}

/// Flip one character of the secret so the checksum no longer matches.
fn corrupt(k: &ApiKey) -> String {
    let mut b = k.expose_secret().as_bytes().to_vec();
    b[40] = if b[40] == b'a' { b'b' } else { b'a' };
    String::from_utf8(b).unwrap()
}

#[tokio::test]
async fn every_failure_gets_the_same_401_and_an_audit_event_with_the_real_reason() {
    let f = fixture(100, RateLimits::default()).await;
    let unknown = ApiKey::generate_os(Scope::Admin).unwrap();
    let attempts: Vec<(Option<String>, AuthFailure)> = vec![
        (None, AuthFailure::Missing),
        (
            Some(format!("Bearer {}", corrupt(&f.admin))),
            AuthFailure::Malformed,
        ),
        (Some("Bearer not-a-key".into()), AuthFailure::Malformed),
        (Some(bearer(&unknown)), AuthFailure::UnknownKey),
        (Some(bearer(&f.wrong_secret)), AuthFailure::WrongSecret),
        (Some(bearer(&f.revoked)), AuthFailure::Revoked),
        (Some(bearer(&f.expired)), AuthFailure::Expired),
        (
            Some(basic(ADMIN_USER, "wrong-password-000000")),
            AuthFailure::BadAdminCredentials,
        ),
        (
            Some(basic("root", ADMIN_PASSWORD)),
            AuthFailure::BadAdminCredentials,
        ),
        (Some("Basic !!!".into()), AuthFailure::Malformed),
        (Some("Token abc".into()), AuthFailure::UnsupportedScheme),
    ];
    let mut bodies = Vec::new();
    for (auth, _) in &attempts {
        let r = get_as(&f, "/api/v1/whoami", auth.as_deref()).await;
        r.problem(401, "unauthorized");
        assert_eq!(
            r.header("www-authenticate"),
            Some("Bearer realm=\"hallmark\"")
        );
        r.assert_security_headers();
        assert_eq!(r.header("cache-control"), Some("no-store"));
        bodies.push(r.body);
    }
    for b in &bodies {
        assert_eq!(b, &bodies[0], "401 bodies differ: an oracle");
    }

    let events = f.audit.events();
    let reasons: Vec<AuthFailure> = events
        .iter()
        .map(|e| match e {
            SecurityEvent::AuthFailed {
                reason,
                path,
                method,
                ..
            } => {
                assert_eq!(path, "/api/v1/whoami");
                assert_eq!(method, "GET");
                *reason
            }
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    let expected: Vec<AuthFailure> = attempts.iter().map(|(_, r)| *r).collect();
    assert_eq!(reasons, expected);
    // Lookup ids are recorded for well-formed keys; secrets never.
    let serialized = serde_json::to_string(&events).unwrap();
    assert!(serialized.contains(f.revoked.lookup_id()));
    for secret in [
        f.revoked.expose_secret(),
        f.expired.expose_secret(),
        unknown.expose_secret(),
        ADMIN_PASSWORD,
        "wrong-password-000000",
        "root",
    ] {
        assert!(!serialized.contains(secret), "audit leaks {secret}");
    }
    assert!(f.keys.uses().is_empty());
}

#[tokio::test]
async fn valid_keys_and_admin_login_authenticate() {
    let f = fixture(100, RateLimits::default()).await;
    let r = get_as(&f, "/api/v1/whoami", Some(&bearer(&f.write))).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"scope": "write", "key_id": Uuid::from_u128(2).to_string()})
    );
    r.assert_security_headers();
    assert_eq!(r.header("cache-control"), Some("no-store"));
    // The admin listener has no CORS.
    assert_eq!(r.header("access-control-allow-origin"), None);
    assert_eq!(f.keys.uses().len(), 1);
    assert_eq!(f.keys.uses()[0].0, Uuid::from_u128(2));

    // Lower-case scheme, extra spaces.
    let r = get_as(
        &f,
        "/api/v1/whoami",
        Some(&format!("bearer   {}", f.read.expose_secret())),
    )
    .await;
    assert_eq!(r.json()["scope"], "read");

    let r = get_as(
        &f,
        "/api/v1/whoami",
        Some(&basic(ADMIN_USER, ADMIN_PASSWORD)),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"scope": "admin", "key_id": null}));
    assert!(f.audit.events().iter().any(|e| matches!(
        e,
        SecurityEvent::AdminLogin { username, .. } if username == ADMIN_USER
    )));
}

#[tokio::test]
async fn admin_listener_has_no_cors_even_for_preflight() {
    let f = fixture(100, RateLimits::default()).await;
    let r = Reply::from(
        client()
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/api/v1/whoami", f.base),
            )
            .header("origin", "https://evil.example")
            .header("access-control-request-method", "GET")
            .header("authorization", bearer(&f.admin))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.header("access-control-allow-origin"), None);
    assert_eq!(r.header("access-control-allow-methods"), None);
}

#[tokio::test]
async fn scopes_are_enforced_per_route() {
    let f = fixture(100, RateLimits::default()).await;
    let post = |k: String| {
        call(
            reqwest::Method::POST,
            format!("{}/api/v1/passports", f.base),
            Some(k),
        )
    };
    let del = |k: String| {
        call(
            reqwest::Method::DELETE,
            format!("{}/api/v1/keys/x", f.base),
            Some(k),
        )
    };

    let p = post(bearer(&f.read)).await.problem(403, "forbidden");
    assert_eq!(p["required_scope"], "write");
    assert_eq!(post(bearer(&f.write)).await.body, b"created");
    assert_eq!(post(bearer(&f.admin)).await.body, b"created");

    let p = del(bearer(&f.write)).await.problem(403, "forbidden");
    assert_eq!(p["required_scope"], "admin");
    del(bearer(&f.read)).await.problem(403, "forbidden");
    assert_eq!(del(bearer(&f.admin)).await.body, b"revoked");
    assert_eq!(
        del(basic(ADMIN_USER, ADMIN_PASSWORD)).await.body,
        b"revoked"
    );

    // Unknown admin routes need authentication before they answer 404.
    get_as(&f, "/api/v1/nope", None)
        .await
        .problem(401, "unauthorized");
    get_as(&f, "/api/v1/nope", Some(&bearer(&f.read)))
        .await
        .problem(404, "not-found");
}

#[tokio::test]
async fn failed_authentication_is_throttled_per_client_address() {
    let f = fixture(3, RateLimits::default()).await;
    for _ in 0..3 {
        get_as(&f, "/api/v1/whoami", Some("Bearer hmk_a_garbage"))
            .await
            .problem(401, "unauthorized");
    }
    // Further failing guesses from this address are refused until the window ends…
    let r = get_as(&f, "/api/v1/whoami", Some("Bearer hmk_a_garbage")).await;
    let p = r.problem(429, "auth-throttled");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((55..=60).contains(&retry), "{retry}");
    assert_eq!(p["retry_after"], retry);
    r.assert_security_headers();
    // …and so is a password login from it, without being checked…
    get_as(
        &f,
        "/api/v1/whoami",
        Some(&basic(ADMIN_USER, ADMIN_PASSWORD)),
    )
    .await
    .problem(429, "auth-throttled");
    // …but a valid API key presented from the same address is not locked out (issue 14.5:
    // behind a proxy, one client's failures must not lock out everyone else's keys).
    assert_eq!(
        get_as(&f, "/api/v1/whoami", Some(&bearer(&f.admin)))
            .await
            .status,
        200
    );

    let events = f.audit.events();
    let failed = events
        .iter()
        .filter(|e| matches!(e, SecurityEvent::AuthFailed { .. }))
        .count();
    assert_eq!(failed, 3, "throttled guesses are not counted again");
    let throttled: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            SecurityEvent::AuthThrottled {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        })
        .collect();
    assert_eq!(throttled.len(), 2);
    assert_eq!(throttled[0], retry);
    assert_eq!(
        f.keys.uses().len(),
        1,
        "only the valid key's use is recorded"
    );
}

#[tokio::test]
async fn admin_rate_limit_is_per_key() {
    let f = fixture(
        100,
        RateLimits {
            admin_per_second: NonZeroU32::new(1).unwrap(),
            admin_burst: NonZeroU32::new(2).unwrap(),
            ..RateLimits::default()
        },
    )
    .await;
    let a = bearer(&f.read);
    let b = bearer(&f.write);
    for _ in 0..2 {
        assert_eq!(get_as(&f, "/api/v1/whoami", Some(&a)).await.status, 200);
    }
    let r = get_as(&f, "/api/v1/whoami", Some(&a)).await;
    r.problem(429, "rate-limited");
    assert!(r.header("retry-after").is_some());
    // Another key from the same address is unaffected.
    assert_eq!(get_as(&f, "/api/v1/whoami", Some(&b)).await.status, 200);
    assert!(f.audit.events().iter().any(|e| matches!(
        e,
        SecurityEvent::RateLimited { key_id: Some(id), .. } if *id == Uuid::from_u128(1)
    )));
}

#[tokio::test]
async fn body_limits_apply_after_authentication() {
    let f = fixture(100, RateLimits::default()).await;
    let url = format!("{}/api/v1/echo", f.base);
    let deep = "[".repeat(40) + &"]".repeat(40);
    let send = |auth: Option<String>, body: String| {
        let mut r = client()
            .post(&url)
            .header("content-type", "application/json")
            .body(body);
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        async move { Reply::from(r.send().await.unwrap()).await }
    };
    // Unauthenticated: 401 before the body is examined.
    send(None, deep.clone()).await.problem(401, "unauthorized");
    let p = send(Some(bearer(&f.write)), deep)
        .await
        .problem(413, "json-limit");
    assert_eq!(p["limit"], "max_json_depth");
    let big = "\"".to_string() + &"x".repeat(2 * 1024 * 1024) + "\"";
    send(Some(bearer(&f.write)), big)
        .await
        .problem(413, "body-too-large");
    let ok = send(Some(bearer(&f.write)), r#"{"a":[1,2]}"#.into()).await;
    assert_eq!(ok.json(), json!({"a": [1, 2]}));
}

struct BrokenStore;

impl KeyLookup for BrokenStore {
    fn find<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Option<StoredKey>, LookupError>> {
        Box::pin(async { Err(LookupError("connection refused".into())) })
    }
    fn mark_used(&self, _: Uuid, _: OffsetDateTime) -> BoxFuture<'_, Result<(), LookupError>> {
        Box::pin(async { Ok(()) })
    }
}

#[tokio::test]
async fn an_unavailable_store_is_503_and_not_a_failed_login() {
    let f = fixture_with(1, RateLimits::default(), Some(Arc::new(BrokenStore))).await;
    for _ in 0..3 {
        let r = get_as(&f, "/api/v1/whoami", Some(&bearer(&f.admin))).await;
        let p = r.problem(503, "unavailable");
        assert!(!p.to_string().contains("connection refused"));
    }
    assert!(f.audit.events().is_empty());
}

/// The EN 18222 door (`/v1/…`) answers the edge's refusals in the spec's `Result` shape:
/// the 401 before any handler (with its challenge), the 404 fallback behind a valid key;
/// every other path keeps problem+json.
#[tokio::test]
async fn the_v1_door_answers_refusals_as_results() {
    let f = fixture(100, RateLimits::default()).await;
    let c = kit::client();
    let r = Reply::from(c.get(format!("{}/v1/dpps/x", f.base)).send().await.unwrap()).await;
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").is_some());
    assert_eq!(r.header("content-type"), Some("application/json"));
    let body = r.json();
    let m = &body["messages"][0];
    assert_eq!(m["messageType"], "Error");
    assert_eq!(m["code"], "unauthorized");
    assert_eq!(m.as_object().unwrap().len(), 5, "{body}");
    assert_eq!(body.as_object().unwrap().len(), 1);

    let r = c
        .get(format!("{}/v1/no-such-operation", f.base))
        .header("authorization", bearer(&f.read))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let body = Reply::from(r).await.json();
    assert_eq!(body["messages"][0]["code"], "not-found");

    let r = c
        .get(format!("{}/api/v1/no-such-route", f.base))
        .header("authorization", bearer(&f.read))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
}

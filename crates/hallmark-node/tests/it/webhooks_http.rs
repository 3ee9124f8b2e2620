//! Issue 21, item 3 (`docs/events.md`, "Webhooks"): signed webhooks through the admin API to
//! receivers on 127.0.0.1 — a receiver in this process that checks every delivery with the
//! Standard Webhooks rules (`hallmark_core::webhook::verify`, itself checked against the
//! specification's example), and one in Python that checks them with the reference library
//! `standardwebhooks` (`scripts/webhook-receiver`, an independent implementation; run by
//! `scripts/test`). Receivers fail on purpose: the node retries with backoff, logs each
//! attempt, and disables a subscription that keeps failing (audited).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hallmark_core::webhook::{self, Schedule};
use hallmark_node::webhooks::WebhookSettings;
use hallmark_testkit as kit;
use kit::{basic, Backend};
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A quick schedule for tests: 50 ms doubling to 400 ms, given up after `max_failures`.
fn quick(max_failures: u32) -> WebhookSettings {
    WebhookSettings {
        allowed_hosts: Vec::new(),
        allow_loopback: true,
        schedule: Schedule {
            first_retry: Duration::from_millis(50),
            cap: Duration::from_millis(400),
            max_failures,
            timeout: Duration::from_secs(5),
        },
    }
}

/// What a receiver got: each request's headers and body, in order.
#[derive(Default)]
struct Inbox {
    requests: Vec<(HeaderMap, Bytes)>,
}

struct Receiver {
    url: String,
    inbox: Arc<Mutex<Inbox>>,
}

/// A receiver on 127.0.0.1 answering 503 to its first `fail_first` requests and 204 after.
async fn receiver(fail_first: usize) -> Receiver {
    receiver_with(fail_first, None).await
}

/// A receiver that holds every request until `gate` gives a permit, then answers 204.
async fn held_receiver(gate: Arc<tokio::sync::Semaphore>) -> Receiver {
    receiver_with(0, Some(gate)).await
}

async fn receiver_with(fail_first: usize, gate: Option<Arc<tokio::sync::Semaphore>>) -> Receiver {
    type Shared = (
        Arc<Mutex<Inbox>>,
        usize,
        Option<Arc<tokio::sync::Semaphore>>,
    );
    async fn take(State((inbox, fail, gate)): State<Shared>, h: HeaderMap, b: Bytes) -> StatusCode {
        let n = {
            let mut inbox = inbox.lock().unwrap();
            inbox.requests.push((h, b));
            inbox.requests.len()
        };
        if let Some(gate) = gate {
            let _permit = gate.acquire().await.unwrap();
        }
        if n <= fail {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::NO_CONTENT
        }
    }
    let inbox = Arc::new(Mutex::new(Inbox::default()));
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(take))
        .with_state((Arc::clone(&inbox), fail_first, gate));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Receiver { url, inbox }
}

async fn eventually<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    for _ in 0..400 {
        if let Some(v) = check().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn subscribe(node: &kit::Node, url: &str, types: Value) -> kit::Reply {
    node.call(
        Method::POST,
        "/api/v1/webhooks",
        Some(&basic()),
        Some(&json!({ "url": url, "types": types })),
    )
    .await
}

/// `POST path` on the admin API as the admin.
async fn admin_post(node: &kit::Node, path: &str, body: Option<&Value>) -> kit::Reply {
    node.call(Method::POST, path, Some(&basic()), body).await
}

/// `GET path` on the admin API as the admin: 200, its JSON.
async fn admin_get(node: &kit::Node, path: &str) -> Value {
    let r = node.call(Method::GET, path, Some(&basic()), None).await;
    assert_eq!(
        r.status,
        200,
        "{path}: {}",
        String::from_utf8_lossy(&r.body)
    );
    r.json()
}

async fn hook(node: &kit::Node, id: &str) -> Value {
    admin_get(node, &format!("/api/v1/webhooks/{id}")).await
}

async fn deliveries(node: &kit::Node, id: &str) -> Vec<Value> {
    let page = admin_get(node, &format!("/api/v1/webhooks/{id}/deliveries?limit=200")).await;
    page["items"].as_array().unwrap().clone()
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).unwrap().to_str().unwrap()
}

async fn signed_deliveries_survive_a_receiver_that_fails_three_times(backend: Backend) {
    let rx = receiver(3).await;
    let node = kit::TestNode::new(backend)
        .webhooks(quick(10))
        .start()
        .await;
    let did = node.did().await.id;

    let r = subscribe(&node, &rx.url, json!(["eu.dpp.passport.published"])).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let created = r.json();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/webhooks/{id}").as_str())
    );
    let secret_text = created["secret"].as_str().unwrap().to_owned();
    assert!(secret_text.starts_with("whsec_"), "{created}");
    let secret = webhook::parse_secret(&secret_text).unwrap();
    assert_eq!(created["status"], "active");
    // The secret is shown once: never again.
    let listed = node
        .call(Method::GET, "/api/v1/webhooks", Some(&basic()), None)
        .await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json()["items"][0]["id"], id.as_str());
    assert!(!String::from_utf8_lossy(&listed.body).contains(&secret_text[6..]));
    assert!(hook(&node, &id).await.get("secret").is_none());

    // A publication (subscribed) and a status change (not subscribed).
    let (uuid, _) = node.publish("HOOK-1").await;
    let r = node
        .call(
            Method::POST,
            &format!("/api/v1/passports/{uuid}/suspend"),
            Some(&basic()),
            Some(&json!({ "reason": "recall" })),
        )
        .await;
    assert_eq!(r.status, 200);

    // Three 503s, then a 204: four requests, all for the one publication, all signed.
    eventually("the fourth attempt", async || {
        (rx.inbox.lock().unwrap().requests.len() >= 4).then_some(())
    })
    .await;
    let outbox = node.store().outbox(0, 1000).await.unwrap();
    let published = outbox
        .iter()
        .find(|r| r.topic == "eu.dpp.passport.published")
        .unwrap();
    let last_row = outbox.last().unwrap().id;
    // The cursor passes the status change without delivering it.
    eventually("the cursor past the status change", async || {
        (hook(&node, &id).await["cursor"] == last_row).then_some(())
    })
    .await;
    let requests = std::mem::take(&mut rx.inbox.lock().unwrap().requests);
    assert_eq!(requests.len(), 4, "the status change was not delivered");
    let mut ids = Vec::new();
    for (h, body) in &requests {
        assert_eq!(body.as_ref(), published.payload.as_slice());
        assert_eq!(header(h, "content-type"), "application/cloudevents+json");
        let msg_id = header(h, "webhook-id");
        let ts: i64 = header(h, "webhook-timestamp").parse().unwrap();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        assert!(webhook::is_fresh(ts, now));
        assert!(
            webhook::verify(&secret, msg_id, ts, body, header(h, "webhook-signature")),
            "signature of attempt {msg_id}"
        );
        // Signed under this subscription's secret only: another key, or another body, fails.
        assert!(!webhook::verify(
            &[0; 32],
            msg_id,
            ts,
            body,
            header(h, "webhook-signature")
        ));
        assert!(!webhook::verify(
            &secret,
            msg_id,
            ts,
            b"{}",
            header(h, "webhook-signature")
        ));
        ids.push(msg_id.to_owned());
    }
    // The id is the same on every retry: the node's DID and the event's audit sequence.
    assert!(ids
        .iter()
        .all(|i| *i == format!("{did}#{}", published.audit_seq)));
    let event: Value = serde_json::from_slice(&requests[3].1).unwrap();
    assert_eq!(event["type"], "eu.dpp.passport.published");
    assert_eq!(event["subject"], format!("urn:uuid:{uuid}"));

    // The delivery log, newest first: the success, then three failures.
    let log = deliveries(&node, &id).await;
    assert_eq!(log.len(), 4, "{log:?}");
    assert_eq!(log[0]["ok"], true);
    assert_eq!(log[0]["statusCode"], 204);
    assert_eq!(log[0]["attempt"], 4);
    for (i, d) in log[1..].iter().enumerate() {
        assert_eq!(d["ok"], false, "{d}");
        assert_eq!(d["statusCode"], 503, "{d}");
        assert_eq!(d["attempt"], 3 - i, "{d}");
        assert_eq!(d["outboxId"], published.id, "{d}");
    }
    let h = hook(&node, &id).await;
    assert_eq!(h["failures"], 0);
    assert_eq!(h["status"], "active");

    // The metrics count the three failures.
    let m = node
        .call(Method::GET, "/metrics", Some(&basic()), None)
        .await;
    let text = String::from_utf8_lossy(&m.body);
    assert!(
        text.contains("hallmark_webhook_failures_total{reason=\"status-5xx\"} 3"),
        "{text}"
    );

    // The subscription's creation is audited, with its URL and types, never the secret.
    let audit = node.store().list_audit(1, 1000).await.unwrap();
    let created = audit
        .iter()
        .find(|a| a.event.action == "webhook.created")
        .unwrap();
    assert_eq!(created.event.subject.as_deref(), Some(id.as_str()));
    assert_eq!(created.event.detail["url"], rx.url.as_str());
    assert!(!created.event.detail.to_string().contains(&secret_text[6..]));

    // The secret is nowhere in the database (SQLite: the file and its WAL, byte for byte).
    if backend == Backend::Sqlite {
        let path = node.data.as_ref().unwrap().sqlite_path();
        let mut bytes = std::fs::read(&path).unwrap();
        let mut wal = path.into_os_string();
        wal.push("-wal");
        bytes.extend(std::fs::read(wal).unwrap_or_default());
        assert!(
            bytes.windows(id.len()).any(|w| w == id.as_bytes()),
            "the scan reads the rows"
        );
        let b64 = &secret_text.as_bytes()[6..];
        assert!(!bytes.windows(b64.len()).any(|w| w == b64));
        assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_slice()));
    }
}

#[tokio::test]
async fn signed_deliveries_survive_a_receiver_that_fails_three_times_sqlite() {
    signed_deliveries_survive_a_receiver_that_fails_three_times(Backend::Sqlite).await;
}

#[tokio::test]
async fn signed_deliveries_survive_a_receiver_that_fails_three_times_postgres() {
    signed_deliveries_survive_a_receiver_that_fails_three_times(Backend::Postgres).await;
}

#[tokio::test]
async fn a_subscription_that_keeps_failing_is_disabled_audited_and_can_be_enabled() {
    let rx = receiver(usize::MAX).await;
    let node = kit::TestNode::new(Backend::Sqlite)
        .webhooks(quick(3))
        .start()
        .await;
    let r = subscribe(&node, &rx.url, json!(["*"])).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let id = r.json()["id"].as_str().unwrap().to_owned();
    node.publish("HOOK-FAIL").await;

    let h = eventually("the subscription disabled", async || {
        let h = hook(&node, &id).await;
        (h["status"] == "disabled").then_some(h)
    })
    .await;
    assert_eq!(h["failures"], 3);
    let reason = h["disabledReason"].as_str().unwrap();
    assert!(
        reason.contains("3 consecutive failed deliveries"),
        "{reason}"
    );
    assert_eq!(deliveries(&node, &id).await.len(), 3);
    // No further attempts once disabled.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(rx.inbox.lock().unwrap().requests.len(), 3);
    let audit = node.store().list_audit(1, 1000).await.unwrap();
    let disabled = audit
        .iter()
        .find(|a| a.event.action == "webhook.disabled")
        .unwrap();
    assert_eq!(disabled.event.actor, "node");
    assert_eq!(disabled.event.subject.as_deref(), Some(id.as_str()));
    assert_eq!(disabled.event.detail["failures"], 3);

    // Enabling resumes from the cursor (the same event again), failures reset: audited.
    let r = admin_post(&node, &format!("/api/v1/webhooks/{id}/enable"), None).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["failures"], 0);
    eventually("a fourth attempt after enabling", async || {
        (rx.inbox.lock().unwrap().requests.len() > 3).then_some(())
    })
    .await;
    let (first, again) = {
        let inbox = rx.inbox.lock().unwrap();
        (inbox.requests[0].clone(), inbox.requests[3].clone())
    };
    assert_eq!(
        header(&first.0, "webhook-id"),
        header(&again.0, "webhook-id")
    );

    // The operator disables (reason required) and enables, each once: on a subscription
    // nothing is delivered to (no import finishes here), so no automatic change races them.
    let calm = receiver(0).await;
    let r = subscribe(&node, &calm.url, json!(["eu.dpp.import.finished"])).await;
    let calm_id = r.json()["id"].as_str().unwrap().to_owned();
    let path = |action: &str| format!("/api/v1/webhooks/{calm_id}/{action}");
    let reason = json!({ "reason": "receiver retired" });
    assert_eq!(
        admin_post(&node, &path("disable"), Some(&json!({})))
            .await
            .status,
        422
    );
    let r = admin_post(&node, &path("disable"), Some(&reason)).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["disabledReason"], "receiver retired");
    assert_eq!(
        admin_post(&node, &path("disable"), Some(&reason))
            .await
            .status,
        409
    );
    assert_eq!(admin_post(&node, &path("enable"), None).await.status, 200);
    assert_eq!(admin_post(&node, &path("enable"), None).await.status, 409);
    let audit = node.store().list_audit(1, 10_000).await.unwrap();
    assert!(audit
        .iter()
        .any(|a| a.event.action == "webhook.enabled" && a.event.actor.starts_with("admin:")));
    assert!(audit
        .iter()
        .any(|a| a.event.action == "webhook.disabled"
            && a.event.detail["reason"] == "receiver retired"));
}

#[tokio::test]
async fn a_receiver_that_does_not_answer_holds_up_no_other_subscription() {
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let stuck = held_receiver(Arc::clone(&gate)).await;
    let fine = receiver(0).await;
    let mut settings = quick(10);
    settings.schedule.timeout = Duration::from_secs(60);
    let node = kit::TestNode::new(Backend::Sqlite)
        .webhooks(settings)
        .start()
        .await;
    for url in [&stuck.url, &fine.url] {
        let r = subscribe(&node, url, json!(["eu.dpp.passport.published"])).await;
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    }
    for n in 0..3 {
        node.publish(&format!("HOOK-STUCK-{n}")).await;
    }
    // The healthy subscription gets all three while the other's first delivery still hangs.
    eventually("three deliveries to the answering receiver", async || {
        (fine.inbox.lock().unwrap().requests.len() == 3).then_some(())
    })
    .await;
    assert_eq!(stuck.inbox.lock().unwrap().requests.len(), 1);
    // Released, the held one goes on, in order.
    gate.add_permits(100);
    eventually("three deliveries to the released receiver", async || {
        (stuck.inbox.lock().unwrap().requests.len() == 3).then_some(())
    })
    .await;
    let order = |r: &Receiver| -> Vec<String> {
        r.inbox
            .lock()
            .unwrap()
            .requests
            .iter()
            .map(|(h, _)| header(h, "webhook-id").to_owned())
            .collect()
    };
    assert_eq!(order(&stuck), order(&fine));
}

#[tokio::test]
async fn destinations_and_types_are_checked_before_anything_is_written() {
    // Production's default: no host allowed at all.
    let node = kit::TestNode::new(Backend::Sqlite).start().await;
    let rx = receiver(0).await;
    let r = subscribe(&node, &rx.url, json!(["*"])).await;
    assert_eq!(r.status, 422, "{}", String::from_utf8_lossy(&r.body));
    assert!(String::from_utf8_lossy(&r.body).contains("HALLMARK_WEBHOOK_ALLOWED_HOSTS"));

    let node = kit::TestNode::new(Backend::Sqlite)
        .webhooks(WebhookSettings {
            allowed_hosts: vec!["hooks.example.com".to_owned()],
            ..quick(3)
        })
        .api_key("write", "ci")
        .start()
        .await;
    for (url, types) in [
        ("https://other.example.com/h", json!(["*"])),
        ("http://hooks.example.com/h", json!(["*"])),
        ("http://10.0.0.1/h", json!(["*"])),
        ("https://user:pw@hooks.example.com/h", json!(["*"])),
        ("https://hooks.example.com/h", json!([])),
        (
            "https://hooks.example.com/h",
            json!(["eu.dpp.passport.read"]),
        ),
    ] {
        let r = subscribe(&node, url, types.clone()).await;
        assert_eq!(
            r.status,
            422,
            "{url} {types}: {}",
            String::from_utf8_lossy(&r.body)
        );
    }
    let r = subscribe(&node, "https://hooks.example.com/h", json!({"types": 1})).await;
    assert_eq!(r.status, 422);
    let listed = node
        .call(Method::GET, "/api/v1/webhooks", Some(&basic()), None)
        .await;
    assert_eq!(listed.json()["items"], json!([]));
    // Admin scope only: a write key may not subscribe or list.
    let r = node
        .call(
            Method::POST,
            "/api/v1/webhooks",
            node.auth.as_deref(),
            Some(&json!({ "url": "https://hooks.example.com/h", "types": ["*"] })),
        )
        .await;
    assert_eq!(r.status, 403, "{}", String::from_utf8_lossy(&r.body));
    // Allowed: https to the listed host (nothing is sent there in this test: no event).
    let r = subscribe(&node, "https://hooks.example.com/h", json!(["*"])).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let id = r.json()["id"].as_str().unwrap().to_owned();
    for path in [
        "/api/v1/webhooks/not-a-uuid".to_owned(),
        "/api/v1/webhooks/0190c2f4-8d3e-7b1a-9c4d-2e5f6a7b8c9d".to_owned(),
    ] {
        assert_eq!(
            node.call(Method::GET, &path, Some(&basic()), None)
                .await
                .status,
            404
        );
    }
    assert_eq!(deliveries(&node, &id).await, Vec::<Value>::new());
}

/// The Python reference library verifies what the node sends (scripts/webhook-receiver).
#[tokio::test]
#[ignore = "needs python3 + venv and PyPI (scripts/webhook-receiver installs standardwebhooks); scripts/test runs it"]
async fn standardwebhooks_verifies_every_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/webhook-receiver");
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _child = Kill(
        std::process::Command::new(script)
            .arg(dir.path())
            .arg("3")
            .spawn()
            .unwrap(),
    );
    let port_file = dir.path().join("port");
    let port = eventually("the receiver's port", async || {
        std::fs::read_to_string(&port_file).ok()
    })
    .await;
    let url = format!("http://127.0.0.1:{}/hook", port.trim());

    let node = kit::TestNode::new(Backend::Sqlite)
        .webhooks(quick(10))
        .start()
        .await;
    let r = subscribe(&node, &url, json!(["*"])).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let secret = r.json()["secret"].as_str().unwrap().to_owned();
    std::fs::write(dir.path().join("secret"), &secret).unwrap();
    let (uuid, _) = node.publish("HOOK-PY").await;

    let received = dir.path().join("received");
    let lines: Vec<Value> = eventually("the verified publication", async || {
        let text = std::fs::read_to_string(&received).ok()?;
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        lines
            .iter()
            .any(|l| l["event"]["type"] == "eu.dpp.passport.published")
            .then_some(lines)
    })
    .await;
    assert!(lines.iter().all(|l| l.get("error").is_none()), "{lines:?}");
    let published = lines
        .iter()
        .find(|l| l["event"]["type"] == "eu.dpp.passport.published")
        .unwrap();
    assert_eq!(published["event"]["subject"], format!("urn:uuid:{uuid}"));
    assert_eq!(published["contentType"], "application/cloudevents+json");
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let log = deliveries(&node, &id).await;
    let failed = log.iter().filter(|d| d["ok"] == false).count();
    assert_eq!(failed, 3, "{log:?}");
}

//! Readers admitted by the operator's approval (issue 20), over real HTTP on SQLite and
//! PostgreSQL: registration on the public listener (inert, refused only for bad input or a
//! key already registered, nothing stored then), the admin routes (list, show, approve with
//! each scope kind, suspend, resume, revoke — terminal), the audit events, and the public
//! log leaves, which carry the organisation, contact and reasons only as SHA-256.

use hallmark_core::reader::{fingerprint, key_text, text_sha256};
use hallmark_testkit as kit;
use kit::{basic, Backend, Node, Reply, TestNode};
use reqwest::Method;
use serde_json::{json, Value};

const ORG: &str = "Kreislauf Recycling GmbH";
const CONTACT: &str = "Erika Mustermann, +49 30 5550100";

fn key(n: u8) -> [u8; 32] {
    ed25519_dalek::SigningKey::from_bytes(&[n; 32])
        .verifying_key()
        .to_bytes()
}

fn registration(n: u8) -> Value {
    json!({
        "ed25519PublicKey": key_text(&key(n)),
        "x25519PublicKey": {"kty": "OKP", "crv": "X25519", "x": key_text(&[n; 32])},
        "organisation": ORG,
        "contact": CONTACT,
        "purpose": "recycling",
    })
}

async fn register(node: &Node, body: &Value) -> Reply {
    node.call_raw(
        Method::POST,
        &format!("{}/readers", node.public),
        None,
        Some(body),
        None,
    )
    .await
}

async fn admin(node: &Node, method: Method, path: &str, body: Option<&Value>) -> Reply {
    node.call(method, path, Some(&basic()), body).await
}

/// How many `reader.*` events and readers are stored (admin calls with the admin login
/// write their own `auth.admin-login` events, so the audit length is no measure).
async fn stored(node: &Node) -> (usize, usize) {
    let events = node.store().list_audit(1, 10_000).await.unwrap();
    let readers = node.store().list_readers(None, None, 1000).await.unwrap();
    (
        events
            .iter()
            .filter(|e| e.event.action.starts_with("reader."))
            .count(),
        readers.len(),
    )
}

fn in_days(days: i64) -> String {
    (time::OffsetDateTime::now_utc() + time::Duration::days(days))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

async fn readers_are_admitted_by_the_operators_approval(backend: Backend) {
    let n = TestNode::new(backend).start().await;
    let audit_before = n.store().audit_len().await.unwrap();

    // Registration: 201, inert.
    let r = register(&n, &registration(1)).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let reg = r.json();
    assert_eq!(reg["status"], "registered");
    assert_eq!(reg["fingerprint"], fingerprint(&key(1)).as_str());
    let id = reg["id"].as_str().unwrap().to_owned();
    let path = |tail: &str| format!("/api/v1/readers/{id}{tail}");
    let shown = admin(&n, Method::GET, &path(""), None).await;
    assert_eq!(shown.status, 200);
    let shown = shown.json();
    assert_eq!(shown["status"], "registered");
    assert_eq!(shown["admitted"], false);
    assert_eq!(shown["grant"], Value::Null);
    assert_eq!(shown["organisation"], ORG);
    assert_eq!(shown["contact"], CONTACT);
    assert_eq!(shown["purpose"], "recycling");
    assert_eq!(shown["x25519PublicKey"], key_text(&[1; 32]).as_str());

    // The same key again: 409, nothing stored.
    let len = stored(&n).await;
    let again = register(&n, &registration(1)).await;
    assert_eq!(
        again.status,
        409,
        "{}",
        String::from_utf8_lossy(&again.body)
    );
    assert_eq!(stored(&n).await, len);

    // Bad input: 422 naming the field, nothing stored.
    let bad = |f: &dyn Fn(&mut Value)| {
        let mut b = registration(2);
        f(&mut b);
        b
    };
    for (body, status, says) in [
        (
            bad(&|b| b["ed25519PublicKey"] = json!("not base64!")),
            422,
            "ed25519PublicKey",
        ),
        (
            bad(&|b| b["ed25519PublicKey"] = json!(key_text(&[0; 32])[..10])),
            422,
            "ed25519PublicKey",
        ),
        (bad(&|b| b["organisation"] = json!("")), 422, "organisation"),
        (
            bad(&|b| b["organisation"] = json!("x".repeat(201))),
            422,
            "organisation",
        ),
        (
            bad(&|b| b["contact"] = json!("line\nbreak")),
            422,
            "contact",
        ),
        (bad(&|b| b["purpose"] = json!("curiosity")), 422, "purpose"),
        (
            bad(&|b| b["x25519PublicKey"] = json!({"kty": "EC"})),
            422,
            "x25519PublicKey",
        ),
        (bad(&|b| b["tier"] = json!("authority")), 422, "tier"),
        (
            bad(&|b| {
                b.as_object_mut().unwrap().remove("contact");
            }),
            422,
            "contact",
        ),
    ] {
        let r = register(&n, &body).await;
        let text = String::from_utf8_lossy(&r.body).to_string();
        assert_eq!(r.status, status, "{body}: {text}");
        assert!(text.contains(says), "{body}: {text}");
    }
    assert_eq!(stored(&n).await, len);

    // Approval with each scope kind; a bad grant is 422 and changes nothing.
    let (published, _) = n.publish("RDR-1").await;
    let gtin = kit::battery_draft("RDR-1")["uniqueProductIdentifier"]["gtin"].clone();
    let passport = json!(format!(
        "urn:uuid:{}",
        published.trim_start_matches("urn:uuid:")
    ));
    let len = stored(&n).await;
    for (grant, status) in [
        (
            json!({"tier": "authority", "scope": {"kind": "all"}, "expiresAt": in_days(-1)}),
            422,
        ),
        (
            json!({"tier": "authority", "scope": {"kind": "all"}, "expiresAt": in_days(4 * 365)}),
            422,
        ),
        (
            json!({"tier": "public", "scope": {"kind": "all"}, "expiresAt": in_days(30)}),
            422,
        ),
        (
            json!({"tier": "authority", "scope": {"kind": "gtins", "gtins": []}, "expiresAt": in_days(30)}),
            422,
        ),
        (
            json!({"tier": "authority", "scope": {"kind": "everything"}, "expiresAt": in_days(30)}),
            422,
        ),
        (
            json!({"tier": "authority", "scope": {"kind": "all"}, "expiresAt": "tomorrow"}),
            422,
        ),
    ] {
        let r = admin(&n, Method::POST, &path("/approve"), Some(&grant)).await;
        assert_eq!(
            r.status,
            status,
            "{grant}: {}",
            String::from_utf8_lossy(&r.body)
        );
    }
    assert_eq!(stored(&n).await, len);
    let scopes = [
        json!({"kind": "all"}),
        json!({"kind": "sector", "sector": "battery"}),
        json!({"kind": "gtins", "gtins": [gtin]}),
        json!({"kind": "passports", "passports": [passport]}),
    ];
    for (i, scope) in scopes.iter().enumerate() {
        let tier = if i % 2 == 0 {
            "legitimateInterest"
        } else {
            "authority"
        };
        let grant = json!({"tier": tier, "scope": scope, "expiresAt": in_days(30)});
        let r = admin(&n, Method::POST, &path("/approve"), Some(&grant)).await;
        assert_eq!(
            r.status,
            200,
            "{grant}: {}",
            String::from_utf8_lossy(&r.body)
        );
        let v = r.json();
        assert_eq!(v["status"], "approved");
        assert_eq!(v["admitted"], true);
        assert_eq!(v["grant"]["tier"], tier);
        assert_eq!(&v["grant"]["scope"], scope);
    }

    // Suspend (reason required), resume, revoke; revoked is terminal.
    let r = admin(&n, Method::POST, &path("/resume"), None).await;
    assert_eq!(r.status, 409, "resume of an approved reader");
    let r = admin(&n, Method::POST, &path("/suspend"), Some(&json!({}))).await;
    assert_eq!(r.status, 422);
    let reason = json!({"reason": "call Erika Mustermann back"});
    let r = admin(&n, Method::POST, &path("/suspend"), Some(&reason)).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["status"], "suspended");
    assert_eq!(r.json()["admitted"], false);
    let grant = json!({"tier": "authority", "scope": {"kind": "all"}, "expiresAt": in_days(30)});
    let r = admin(&n, Method::POST, &path("/approve"), Some(&grant)).await;
    assert_eq!(r.status, 409, "approval of a suspended reader");
    let r = admin(&n, Method::POST, &path("/resume"), None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "approved");
    let r = admin(
        &n,
        Method::POST,
        &path("/revoke"),
        Some(&json!({"reason": "contract ended"})),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "revoked");
    for (tail, body) in [
        ("/approve", Some(&grant)),
        ("/resume", None),
        ("/suspend", Some(&reason)),
        ("/revoke", Some(&reason)),
    ] {
        let r = admin(&n, Method::POST, &path(tail), body).await;
        assert_eq!(r.status, 409, "{tail} of a revoked reader");
    }
    let r = admin(&n, Method::GET, "/api/v1/readers/not-an-id", None).await;
    assert_eq!(r.status, 404);

    // A second reader; the list, by status; fingerprints as core computes them.
    let r = register(&n, &registration(3)).await;
    assert_eq!(r.status, 201);
    let list = admin(&n, Method::GET, "/api/v1/readers", None).await.json();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{list}");
    assert_eq!(items[0]["fingerprint"], fingerprint(&key(1)).as_str());
    assert_eq!(items[1]["fingerprint"], fingerprint(&key(3)).as_str());
    let revoked = admin(&n, Method::GET, "/api/v1/readers?status=revoked", None)
        .await
        .json();
    assert_eq!(revoked["items"].as_array().unwrap().len(), 1);
    assert_eq!(revoked["items"][0]["id"], id.as_str());
    let r = admin(&n, Method::GET, "/api/v1/readers?status=banned", None).await;
    assert_eq!(r.status, 400);
    let page = admin(&n, Method::GET, "/api/v1/readers?limit=1", None)
        .await
        .json();
    assert_eq!(page["next"], id.as_str());
    // Reader routes are the admin scope's.
    let (write, _, _) = n.key("write").await;
    let r = n
        .call(Method::GET, "/api/v1/readers", Some(&write), None)
        .await;
    assert_eq!(r.status, 403);

    // Every step audited: 1 + 4 + 1 + 1 + 1 + 1 reader events for the first reader.
    let events = n.store().list_audit(audit_before + 1, 1000).await.unwrap();
    let mine: Vec<&str> = events
        .iter()
        .filter(|e| e.event.subject.as_deref() == Some(id.as_str()))
        .map(|e| e.event.action.as_str())
        .collect();
    assert_eq!(
        mine,
        [
            "reader.registered",
            "reader.approved",
            "reader.approved",
            "reader.approved",
            "reader.approved",
            "reader.suspended",
            "reader.resumed",
            "reader.revoked",
        ]
    );
    // Public leaves: no organisation, contact or reason in clear; their SHA-256 instead.
    n.checkpoint_covering_everything().await;
    let mut served = String::new();
    for e in events
        .iter()
        .filter(|e| e.event.action.starts_with("reader."))
    {
        let r = n.get(&format!("/log/entries/{}", e.seq - 1)).await;
        assert_eq!(r.status, 200);
        let leaf = r.json()["leaf"].as_str().map(str::to_owned);
        let leaf = leaf.unwrap_or_else(|| panic!("{} is withheld", e.event.action));
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(leaf)
            .unwrap();
        served.push_str(&String::from_utf8(bytes).unwrap());
    }
    for secret in [
        ORG,
        CONTACT,
        "Erika",
        "call Erika Mustermann back",
        "contract ended",
    ] {
        assert!(
            !served.contains(secret),
            "{secret:?} in a public leaf: {served}"
        );
    }
    assert!(served.contains(&text_sha256(ORG)), "{served}");
    assert!(served.contains(&text_sha256(CONTACT)), "{served}");
    assert!(served.contains(&text_sha256("contract ended")), "{served}");
    assert!(served.contains(&fingerprint(&key(1))), "{served}");
    n.stop().await;
}

kit::both!(readers_are_admitted_by_the_operators_approval);

//! Issue 20 end to end through the doors, with real HTTP (`docs/access.md`): a recycler
//! registers on the public listener with its Ed25519 and X25519 keys, asks the node how its
//! registration stands (`GET <base>/readers/me`, signed), is approved by the operator through
//! the admin API for GTIN X, reads X's legitimate-interest credential sealed (a JWE it opens
//! with its X25519 secret) and through the EN 18222 reads, is refused for GTIN Y and, once
//! revoked, everywhere; every read is audited. On PostgreSQL, a suspension or revocation on
//! one node holds on the other at its next request. The operator's "seal the authority tier
//! always" policy is kept on every door.

use super::restricted_http::{
    admin_view, data_leaves, grant, gtins, in_a_year, key, publish, reader, reads, refused, send,
    sign, signed, GTIN_X, GTIN_Y,
};
use hallmark_core::passport::PassportId;
use hallmark_core::reader::{key_text, ReaderTier};
use hallmark_node::seal;
use hallmark_testkit as kit;
use kit::{basic, Backend, Data, Node, Reply};
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// The reader's X25519 secret for `seed`.
pub(super) fn x_secret(seed: u8) -> x25519_dalek::StaticSecret {
    x25519_dalek::StaticSecret::from([seed.wrapping_add(100); 32])
}

/// Registers reader `seed` on the public listener with both keys; returns its id.
pub(super) async fn register(node: &Node, seed: u8, purpose: &str) -> String {
    let x = x25519_dalek::PublicKey::from(&x_secret(seed));
    let r = node
        .call_raw(
            Method::POST,
            &format!("{}/readers", node.public),
            None,
            Some(&json!({
                "ed25519PublicKey": key_text(&key(seed).verifying_key().to_bytes()),
                "x25519PublicKey": { "kty": "OKP", "crv": "X25519", "x": key_text(x.as_bytes()) },
                "organisation": format!("Kreislauf Recycling {seed}"),
                "contact": "Erika Mustermann, +49 30 5550100",
                "purpose": purpose,
            })),
            None,
        )
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    r.json()["id"].as_str().unwrap().to_owned()
}

/// The operator's change `action` (`approve`, `suspend`, `resume`, `revoke`) through the
/// admin API, with the admin login.
pub(super) async fn operator(node: &Node, id: &str, action: &str, body: Value) -> Value {
    let r = node
        .call(
            Method::POST,
            &format!("/api/v1/readers/{id}/{action}"),
            Some(&basic()),
            Some(&body),
        )
        .await;
    assert_eq!(
        r.status,
        200,
        "{action}: {}",
        String::from_utf8_lossy(&r.body)
    );
    r.json()
}

fn approval(tier: &str, gtin: &str) -> Value {
    let expires = (OffsetDateTime::now_utc() + Duration::days(90))
        .format(&Rfc3339)
        .unwrap();
    json!({ "tier": tier, "scope": { "kind": "gtins", "gtins": [gtin] }, "expiresAt": expires })
}

/// `GET path` signed now by reader `seed` (id `id`), with `Accept`.
pub(super) async fn get_signed(
    node: &Node,
    seed: u8,
    id: &str,
    path: &str,
    accept: Option<&str>,
) -> Reply {
    send(node, path, &sign(&key(seed), id, path, 0), accept).await
}

/// `GET <base>/readers/me`, signed by reader `seed`.
async fn me(node: &Node, seed: u8, id: &str) -> Value {
    let r = get_signed(node, seed, id, "/readers/me", None).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("cache-control"), Some("private, no-store"));
    r.json()
}

fn passport_id(uuid: &str) -> PassportId {
    PassportId::from_uuid(uuid::Uuid::parse_str(uuid).unwrap()).unwrap()
}

/// The protected header of a compact JWE.
fn jwe_header(token: &str) -> Value {
    use base64::Engine as _;
    let first = token.split('.').next().unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(first)
            .unwrap(),
    )
    .unwrap()
}

/// The EN 18222 answer's refusal code (`Result.messages[0].code`).
fn v1_refused(r: &Reply, status: u16, code: &str) {
    assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["messages"][0]["code"], code);
    assert_eq!(r.header("cache-control"), Some("private, no-store"));
}

async fn a_recycler_is_admitted_and_reads_sealed_and_through_en18222(backend: Backend) {
    let node = kit::TestNode::new(backend).start().await;
    let x = publish(&node, "SN-X", GTIN_X).await;
    let y = publish(&node, "SN-Y", GTIN_Y).await;
    let id = register(&node, 41, "recycling").await;

    // Before approval: it may ask how it stands, and reads nothing.
    let unsigned = node.get("/readers/me").await;
    refused(&unsigned, 401, "unsigned-request", &x);
    let state = me(&node, 41, &id).await;
    assert_eq!(state["status"], "registered");
    assert_eq!(state["encryptionKey"], true);
    assert_eq!(state["admitted"], false);
    assert_eq!(state["grant"], Value::Null);
    assert_eq!(state["purpose"], "recycling");
    assert_eq!(
        state["fingerprint"],
        hallmark_core::reader::fingerprint(&key(41).verifying_key().to_bytes())
    );
    // A signature by another key under this id does not hold.
    let forged = send(
        &node,
        "/readers/me",
        &sign(&key(42), &id, "/readers/me", 0),
        None,
    )
    .await;
    refused(&forged, 401, "bad-signature", &x);
    refused(
        &get_signed(&node, 41, &id, &format!("/passports/{x}"), None).await,
        403,
        "reader-not-approved",
        &x,
    );

    // The operator approves it for GTIN X, legitimate interest.
    operator(
        &node,
        &id,
        "approve",
        approval("legitimateInterest", GTIN_X),
    )
    .await;
    let state = me(&node, 41, &id).await;
    assert_eq!(state["status"], "approved");
    assert_eq!(state["admitted"], true);
    assert_eq!(state["grant"]["tier"], "legitimateInterest");
    assert_eq!(state["grant"]["scope"]["gtins"], json!([GTIN_X]));

    // Sealed on request: a JWE only its X25519 secret opens, holding the credential as
    // stored, bound to the passport and version.
    let view = admin_view(&node, &x).await;
    let li = &view["current"]["credentials"]["legitimateInterest"];
    let path = format!("/passports/{x}");
    let r = get_signed(&node, 41, &id, &path, Some("application/jose")).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("content-type"), Some("application/jose"));
    assert_eq!(r.header("hallmark-access-tier"), Some("legitimateInterest"));
    assert_eq!(r.header("cache-control"), Some("private, no-store"));
    let etag = r.header("etag").unwrap().to_owned();
    assert!(etag.starts_with("W/\""), "{etag}");
    let token = String::from_utf8(r.body.clone()).unwrap();
    let header = jwe_header(&token);
    assert_eq!(header["alg"], "ECDH-ES");
    assert_eq!(header["enc"], "A256GCM");
    assert_eq!(header["cty"], "application/vc+ld+json");
    assert_eq!(header["dpp_id"], format!("urn:uuid:{x}"));
    assert_eq!(header["dpp_ver"], 1);
    let pid = passport_id(&x);
    let opened = seal::open(&token, &x_secret(41), &pid, 1).unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&opened).unwrap(),
        li["dataIntegrity"]
    );
    assert!(!token.contains("credentialSubject"));
    // Another key cannot open it; another version is refused before decrypting.
    assert!(matches!(
        seal::open(&token, &x_secret(43), &pid, 1),
        Err(seal::SealError::Decrypt)
    ));
    assert!(matches!(
        seal::open(&token, &x_secret(41), &pid, 2),
        Err(seal::SealError::WrongVersion { .. })
    ));
    // The JWT form sealed, on the version URL.
    let vpath = format!("/passports/{x}/versions/1");
    let r = get_signed(
        &node,
        41,
        &id,
        &vpath,
        Some("application/jose, application/vc+jwt;q=0.5"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let token = String::from_utf8(r.body.clone()).unwrap();
    assert_eq!(jwe_header(&token)["cty"], "application/vc+jwt");
    let opened = seal::open(&token, &x_secret(41), &pid, 1).unwrap();
    assert_eq!(
        String::from_utf8(opened).unwrap(),
        li["jwt"].as_str().unwrap()
    );
    // The weak ETag names the credential: a reader holding it gets 304.
    let sig = sign(&key(41), &id, &path, 0);
    let r = kit::client()
        .get(format!("{}{path}", node.public))
        .header("signature-input", &sig.0)
        .header("signature", &sig.1)
        .header("accept", "application/jose")
        .header("if-none-match", &etag[2..])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    // Unsealed still works for a reader who asks plainly.
    let r = get_signed(&node, 41, &id, &path, None).await;
    assert_eq!(r.header("content-type"), Some("application/vc+ld+json"));
    assert_eq!(r.json(), li["dataIntegrity"]);

    // The EN 18222 reads serve the reader its tier, privately; the public door the public one.
    let v1 = format!("/v1/dpps/{x}?representation=compressed");
    let public = node.get(&v1).await;
    assert_eq!(public.status, 200);
    assert_eq!(public.header("hallmark-access-tier"), Some("public"));
    let r = get_signed(&node, 41, &id, &v1, None).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("hallmark-access-tier"), Some("legitimateInterest"));
    assert_eq!(r.header("cache-control"), Some("private, no-store"));
    let public_di = &view["current"]["credentials"]["public"]["dataIntegrity"];
    let li_only: Vec<String> = data_leaves(&li["dataIntegrity"])
        .difference(&data_leaves(public_di))
        .filter_map(|p| {
            li["dataIntegrity"]["credentialSubject"]["data"]
                .pointer(p)
                .and_then(Value::as_str)
                .filter(|s| s.len() >= 6)
                .map(str::to_owned)
        })
        .filter(|s| !String::from_utf8_lossy(&public.body).contains(s.as_str()))
        .collect();
    assert!(
        !li_only.is_empty(),
        "no legitimate-interest-only text value"
    );
    let body = String::from_utf8_lossy(&r.body);
    for value in &li_only {
        assert!(body.contains(value.as_str()), "{value} missing from {body}");
    }
    // Out of scope on EN 18222 as on the passport URL; a passport that does not exist alike.
    v1_refused(
        &get_signed(&node, 41, &id, &format!("/v1/dpps/{y}"), None).await,
        403,
        "out-of-scope",
    );
    v1_refused(
        &get_signed(
            &node,
            41,
            &id,
            "/v1/dpps/0190f1d2-7c3e-7a4b-9c1d-2e3f4a5b6c7d",
            None,
        )
        .await,
        403,
        "out-of-scope",
    );
    refused(
        &get_signed(&node, 41, &id, &format!("/passports/{y}"), None).await,
        403,
        "out-of-scope",
        &y,
    );
    // A replayed EN 18222 request is refused too.
    let sig = sign(&key(41), &id, &v1, 0);
    assert_eq!(send(&node, &v1, &sig, None).await.status, 200);
    v1_refused(&send(&node, &v1, &sig, None).await, 401, "replayed-request");

    // Every read was audited (sealed ×2, 304, plain, EN 18222 ×2), in the reader's tier.
    let events = reads(&node, &x).await;
    assert_eq!(events.len(), 6, "{events:#?}");
    for e in &events {
        assert_eq!(e["actor"], format!("reader:{id}"));
        assert_eq!(e["detail"]["tier"], "legitimateInterest");
    }
    assert!(reads(&node, &y).await.is_empty());

    // Revoked: refused at once on every door; it can still learn that it is revoked.
    operator(&node, &id, "revoke", json!({ "reason": "contract ended" })).await;
    refused(
        &get_signed(&node, 41, &id, &path, Some("application/jose")).await,
        403,
        "reader-revoked",
        &x,
    );
    v1_refused(
        &get_signed(&node, 41, &id, &v1, None).await,
        403,
        "reader-revoked",
    );
    let state = me(&node, 41, &id).await;
    assert_eq!(state["status"], "revoked");
    assert_eq!(state["admitted"], false);
    assert_eq!(state["reason"], "contract ended");
    node.stop().await;
}
kit::both!(a_recycler_is_admitted_and_reads_sealed_and_through_en18222);

/// Two nodes on one PostgreSQL: the operator suspends, resumes and revokes on one node, and
/// the other refuses (or serves) at the reader's very next request — no node caches a
/// reader's state, so the bound is one request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspension_and_revocation_hold_on_every_node_at_the_next_request() {
    let data = Data::new(Backend::Postgres).await;
    let a = data.start().await;
    let b = data.start().await;
    let x = publish(&a, "SN-X", GTIN_X).await;
    let id = register(&a, 51, "repair").await;
    let path = format!("/passports/{x}");
    refused(
        &get_signed(&b, 51, &id, &path, None).await,
        403,
        "reader-not-approved",
        &x,
    );
    operator(&a, &id, "approve", approval("authority", GTIN_X)).await;
    let r = get_signed(&b, 51, &id, &path, None).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("hallmark-access-tier"), Some("authority"));

    operator(&a, &id, "suspend", json!({ "reason": "audit pending" })).await;
    refused(
        &get_signed(&b, 51, &id, &path, None).await,
        403,
        "reader-suspended",
        &x,
    );
    operator(&b, &id, "resume", json!({})).await;
    assert_eq!(get_signed(&a, 51, &id, &path, None).await.status, 200);
    operator(&b, &id, "revoke", json!({ "reason": "key stolen" })).await;
    for node in [&a, &b] {
        refused(
            &get_signed(node, 51, &id, &path, None).await,
            403,
            "reader-revoked",
            &x,
        );
    }
    a.stop().await;
    b.stop().await;
}

/// `HALLMARK_SEAL_AUTHORITY`: authority-tier answers are sealed whatever `Accept` says; an
/// authority reader without an X25519 key is refused (406), the EN 18222 reads (no sealed
/// form) refuse the authority tier; the legitimate-interest tier is unaffected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_can_seal_the_authority_tier_always() {
    let node = kit::TestNode::new(Backend::Sqlite).start().await;
    node.app().seal_authority.store(true, Ordering::Relaxed);
    let x = publish(&node, "SN-X", GTIN_X).await;
    let path = format!("/passports/{x}");
    let authority = register(&node, 61, "market-surveillance").await;
    operator(&node, &authority, "approve", approval("authority", GTIN_X)).await;
    let r = get_signed(&node, 61, &authority, &path, Some("application/vc+ld+json")).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("content-type"), Some("application/jose"));
    let token = String::from_utf8(r.body.clone()).unwrap();
    let opened = seal::open(&token, &x_secret(61), &passport_id(&x), 1).unwrap();
    let view = admin_view(&node, &x).await;
    assert_eq!(
        serde_json::from_slice::<Value>(&opened).unwrap(),
        view["current"]["credentials"]["authority"]["dataIntegrity"]
    );
    v1_refused(
        &get_signed(&node, 61, &authority, &format!("/v1/dpps/{x}"), None).await,
        406,
        "sealed-delivery-required",
    );

    // An authority reader that gave no X25519 key (registered through the store).
    let keyless = reader(
        node.store().as_ref(),
        62,
        Some(grant(ReaderTier::Authority, gtins(GTIN_X), in_a_year())),
    )
    .await;
    refused(
        &signed(&node, 62, &keyless, &path).await,
        406,
        "no-encryption-key",
        &x,
    );
    // Legitimate interest: as asked.
    let li = reader(
        node.store().as_ref(),
        63,
        Some(grant(
            ReaderTier::LegitimateInterest,
            gtins(GTIN_X),
            in_a_year(),
        )),
    )
    .await;
    let r = signed(&node, 63, &li, &path).await;
    assert_eq!(r.header("content-type"), Some("application/vc+ld+json"));
    refused(
        &send(
            &node,
            &path,
            &sign(&key(63), &li.to_string(), &path, 0),
            Some("application/jose"),
        )
        .await,
        406,
        "no-encryption-key",
        &x,
    );
    // Only successful reads are audited: the sealed authority read and the plain one.
    assert_eq!(reads(&node, &x).await.len(), 2);
    node.stop().await;
}

/// Scope and expiry, as a table: each kind of scope against a battery passport of GTIN X,
/// one of GTIN Y and a generic-sector passport; a grant in force reads, an expired one is
/// `grant-expired` whatever the passport.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scope_and_expiry_table() {
    use hallmark_core::reader::GrantScope;
    let node = kit::TestNode::new(Backend::Sqlite).start().await;
    let x = publish(&node, "SN-X", GTIN_X).await;
    let y = publish(&node, "SN-Y", GTIN_Y).await;
    let mut chair = kit::generic_draft("CHAIR-1");
    chair["uniqueProductIdentifier"]["gtin"] = json!("04006381333931");
    let g = node.publish_draft_as(&basic(), &chair).await;
    let sector = |s: &str| GrantScope::Sector { sector: s.into() };
    let only = |id: &str| GrantScope::Passports {
        passports: vec![passport_id(id)],
    };
    let year = in_a_year();
    let gone = OffsetDateTime::now_utc() - Duration::seconds(1);
    // (scope, expiry, [x, y, g]): 200 read, 403 out-of-scope, 0 grant-expired.
    let table: Vec<(GrantScope, OffsetDateTime, [u16; 3])> = vec![
        (GrantScope::All, year, [200, 200, 200]),
        (sector("battery"), year, [200, 200, 403]),
        (sector("generic"), year, [403, 403, 200]),
        (gtins(GTIN_X), year, [200, 403, 403]),
        (only(&y), year, [403, 200, 403]),
        (GrantScope::All, gone, [0, 0, 0]),
        (gtins(GTIN_X), gone, [0, 0, 0]),
    ];
    for (n, (scope, expires, expected)) in table.into_iter().enumerate() {
        let seed = 80 + n as u8;
        let id = reader(
            node.store().as_ref(),
            seed,
            Some(grant(
                ReaderTier::LegitimateInterest,
                scope.clone(),
                expires,
            )),
        )
        .await;
        for (passport, want) in [&x, &y, &g].into_iter().zip(expected) {
            let r = signed(&node, seed, &id, &format!("/passports/{passport}")).await;
            match want {
                200 => assert_eq!(r.status, 200, "{scope:?} {passport}"),
                403 => refused(&r, 403, "out-of-scope", passport),
                _ => refused(&r, 403, "grant-expired", passport),
            }
        }
    }
    node.stop().await;
}

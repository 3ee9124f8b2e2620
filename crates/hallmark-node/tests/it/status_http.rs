//! Status lists over real HTTP (issue 17), on SQLite and PostgreSQL: a published passport's
//! credential names its lists and position; its bits follow suspend, resume and deactivate
//! in the served lists; a copy downloaded before a suspension verifies as `suspended`
//! against the served list (`verify::check_status`), `revoked` after deactivation; a
//! tampered list fails its signature; a list version is a log leaf with a verifying
//! inclusion proof; ETag/304, caching and content negotiation; a restart keeps every list;
//! concurrent status changes in one list all land; the re-signer renews lists before they
//! expire.

use hallmark_testkit as kit;

use hallmark_core::did::DidDocument;
use hallmark_core::status::{BitstringStatusList, ListCredential, StatusPurpose};
use hallmark_core::tlog::event::LeafEvent;
use hallmark_core::tlog::{self, open_checkpoint, InclusionProof};
use hallmark_core::verify::{self, check_status, Outcome, Verdict, STATUS_CHECK};
use kit::{both, Backend, Data, Node, BASE_URL};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

both!(status_lists_follow_the_lifecycle_and_verify_offline);
both!(a_status_list_version_is_provably_in_the_log);
both!(a_restart_keeps_every_list);
both!(concurrent_status_changes_in_one_list_all_land);
both!(lists_are_re_signed_before_they_expire);

const DI: &str = "application/vc+ld+json";

/// The passport's public credential (Data Integrity bytes) and its position.
async fn credential(n: &Node, id: &str) -> (Vec<u8>, u32, u32) {
    let r = n.get_public(&format!("/passports/{id}"), Some(DI)).await;
    assert_eq!(r.status, 200);
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    let entries = v["credentialStatus"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{v}");
    let index: u32 = entries[0]["statusListIndex"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let url = entries[0]["statusListCredential"].as_str().unwrap();
    let list: u32 = url.rsplit('/').next().unwrap().parse().unwrap();
    for (e, purpose) in entries.iter().zip(["suspension", "revocation"]) {
        let expected = format!("{BASE_URL}/status/{purpose}/{list}");
        assert_eq!(e["type"], "BitstringStatusListEntry");
        assert_eq!(e["statusPurpose"], purpose);
        assert_eq!(e["statusListIndex"], index.to_string());
        assert_eq!(e["statusListCredential"], expected);
        assert_eq!(e["id"], format!("{expected}#{index}"));
    }
    (r.body, list, index)
}

/// The served list of `purpose` (Data Integrity bytes), decoded.
async fn list(n: &Node, purpose: &str, list: u32) -> (Vec<u8>, ListCredential) {
    let r = n
        .get_public(&format!("/status/{purpose}/{list}"), Some(DI))
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("content-type"), Some(DI));
    let parsed = ListCredential::parse(&serde_json::from_slice(&r.body).unwrap()).unwrap();
    (r.body, parsed)
}

fn bit(l: &ListCredential, index: u32) -> bool {
    l.bits.get(index).unwrap()
}

/// `credential` checked against both served lists: its verdict and `status` outcome.
async fn check(n: &Node, did: &DidDocument, cred: &[u8], list_no: u32) -> (Verdict, Outcome) {
    let mut lists = Vec::new();
    for purpose in ["suspension", "revocation"] {
        lists.push((
            format!("{BASE_URL}/status/{purpose}/{list_no}"),
            list(n, purpose, list_no).await.0,
        ));
    }
    check_lists(did, cred, &lists)
}

fn check_lists(did: &DidDocument, cred: &[u8], lists: &[(String, Vec<u8>)]) -> (Verdict, Outcome) {
    let mut report = verify::verify(cred, did);
    check_status(
        &mut report,
        lists,
        did,
        Some(time::OffsetDateTime::now_utc()),
    );
    let status = report
        .checks
        .iter()
        .rev()
        .find(|c| c.name == STATUS_CHECK)
        .map(|c| c.outcome.clone())
        .unwrap();
    (report.verdict(), status)
}

async fn change(n: &Node, id: &str, action: &str) {
    let body = json!({ "reason": "test" });
    let r = n
        .call(
            Method::POST,
            &format!("/api/v1/passports/{id}/{action}"),
            Some(&kit::basic()),
            Some(&body),
        )
        .await;
    assert_eq!(
        r.status,
        200,
        "{action}: {}",
        String::from_utf8_lossy(&r.body)
    );
}

async fn status_lists_follow_the_lifecycle_and_verify_offline(backend: Backend) {
    let n = kit::TestNode::new(backend).start().await;
    let did = n.did().await;
    let (id, _) = n.publish("STATUS-1").await;
    let (copy, list_no, index) = credential(&n, &id).await;
    assert_eq!(list_no, 0);
    let (_, susp) = list(&n, "suspension", 0).await;
    let (_, rev) = list(&n, "revocation", 0).await;
    assert!(!bit(&susp, index) && !bit(&rev, index));
    assert_eq!(susp.bits.count_set(), 0);
    assert_eq!(susp.id, format!("{BASE_URL}/status/suspension/0"));
    let cred: Value = serde_json::from_slice(&copy).unwrap();
    assert_eq!(susp.issuer, cred["issuer"].as_str().unwrap());
    let (verdict, status) = check(&n, &did, &copy, 0).await;
    assert_eq!(verdict, Verdict::Valid);
    assert!(
        matches!(&status, Outcome::Pass(d) if d.starts_with("valid")),
        "{status:?}"
    );

    // Caching: a strong ETag over the bytes, 304, max-age within the ttl; the JWT form.
    let r = n.get_public("/status/suspension/0", None).await;
    assert_eq!(r.header("content-type"), Some(DI));
    let etag = r.header("etag").unwrap().to_owned();
    assert_eq!(
        etag,
        format!("\"{}\"", hex::encode(Sha256::digest(&r.body)))
    );
    let cc = r.header("cache-control").unwrap();
    let max_age: i64 = cc
        .strip_prefix("public, max-age=")
        .unwrap()
        .parse()
        .unwrap();
    assert!((250..=300).contains(&max_age), "{cc}");
    let req = kit::client()
        .get(format!("{}/status/suspension/0", n.public))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(req.status(), 304);
    let json = n
        .get_public("/status/suspension/0", Some("application/json"))
        .await;
    assert_eq!(json.header("content-type"), Some("application/json"));
    assert_eq!(json.body, r.body);
    let jwt = n
        .get_public("/status/suspension/0", Some("application/vc+jwt"))
        .await;
    assert_eq!(jwt.status, 200);
    assert_eq!(jwt.header("content-type"), Some("application/vc+jwt"));
    assert_ne!(jwt.header("etag"), Some(etag.as_str()));
    // Unknown purposes, lists and versions are 404; versions by number are immutable.
    for path in [
        "/status/refresh/0",
        "/status/suspension/1",
        "/status/suspension/00",
        "/status/suspension/0/versions/99",
    ] {
        assert_eq!(n.get(path).await.status, 404, "{path}");
    }
    let v1 = n.get("/status/suspension/0/versions/1").await;
    assert_eq!(v1.status, 200);
    assert!(v1.header("cache-control").unwrap().contains("immutable"));
    assert_eq!(v1.body, r.body);

    // Suspend: the suspension bit is set; the copy downloaded before is not in force.
    change(&n, &id, "suspend").await;
    let (_, susp) = list(&n, "suspension", 0).await;
    assert!(bit(&susp, index));
    assert_eq!(susp.bits.count_set(), 1);
    let (verdict, status) = check(&n, &did, &copy, 0).await;
    assert_eq!(verdict, Verdict::NotInForce("suspended".into()));
    assert!(
        matches!(&status, Outcome::Fail(d) if d.starts_with("suspended: bit ")),
        "{status:?}"
    );
    // The JWT form of the list says the same.
    let jwt = n
        .get_public("/status/suspension/0", Some("application/vc+jwt"))
        .await;
    let lists = vec![
        (format!("{BASE_URL}/status/suspension/0"), jwt.body.clone()),
        (
            format!("{BASE_URL}/status/revocation/0"),
            list(&n, "revocation", 0).await.0,
        ),
    ];
    assert_eq!(
        check_lists(&did, &copy, &lists).0,
        Verdict::NotInForce("suspended".into())
    );
    // Version 1 is still served as it was, version 2 is the suspension.
    assert_eq!(n.get("/status/suspension/0/versions/1").await.body, r.body);
    let v2 = n.get("/status/suspension/0/versions/2").await;
    assert_eq!(v2.status, 200);
    assert_eq!(v2.body, list(&n, "suspension", 0).await.0);

    // A tampered list (one bit flipped back, re-encoded) fails its own signature.
    let (bytes, _) = list(&n, "suspension", 0).await;
    let mut v: Value = serde_json::from_slice(&bytes).unwrap();
    let mut bits =
        BitstringStatusList::decode(v["credentialSubject"]["encodedList"].as_str().unwrap())
            .unwrap();
    bits.set(index, false).unwrap();
    v["credentialSubject"]["encodedList"] = json!(bits.encode().unwrap());
    let tampered = vec![
        (
            format!("{BASE_URL}/status/suspension/0"),
            serde_json::to_vec(&v).unwrap(),
        ),
        (
            format!("{BASE_URL}/status/revocation/0"),
            list(&n, "revocation", 0).await.0,
        ),
    ];
    let mut report = verify::verify(&copy, &did);
    check_status(&mut report, &tampered, &did, None);
    assert_eq!(report.verdict(), Verdict::Invalid);
    assert!(report
        .checks
        .iter()
        .any(|c| c.name == "status-list-signature" && matches!(c.outcome, Outcome::Fail(_))));

    // Resume: clear again, valid.
    change(&n, &id, "resume").await;
    let (_, susp) = list(&n, "suspension", 0).await;
    assert!(!bit(&susp, index));
    assert_eq!(check(&n, &did, &copy, 0).await.0, Verdict::Valid);

    // Deactivate: revoked, for good.
    change(&n, &id, "deactivate").await;
    let (_, rev) = list(&n, "revocation", 0).await;
    assert!(bit(&rev, index));
    let (verdict, status) = check(&n, &did, &copy, 0).await;
    assert_eq!(verdict, Verdict::NotInForce("revoked".into()));
    assert!(
        matches!(&status, Outcome::Fail(d) if d.starts_with("revoked: bit ")),
        "{status:?}"
    );
    // Another passport's publication and status changes leave the bit set.
    let (other, _) = n.publish("STATUS-2").await;
    let (_, _, other_index) = credential(&n, &other).await;
    assert_ne!(other_index, index);
    change(&n, &other, "suspend").await;
    let (_, rev) = list(&n, "revocation", 0).await;
    assert!(bit(&rev, index));
    assert!(!bit(&rev, other_index));
    // Versions: suspension 1 (empty), 2 (suspend), 3 (resume), 4 (other suspended);
    // revocation 1 (empty), 2 (deactivate).
    let store = n.store();
    let latest = |p| store.status_list_latest(p, 0);
    assert_eq!(
        latest(StatusPurpose::Suspension)
            .await
            .unwrap()
            .unwrap()
            .version,
        4
    );
    assert_eq!(
        latest(StatusPurpose::Revocation)
            .await
            .unwrap()
            .unwrap()
            .version,
        2
    );
    // A new version of a passport keeps its position.
    let r = n
        .admin(Method::POST, &format!("/api/v1/passports/{other}/resume"))
        .await;
    assert_eq!(r.status, 200);
    let r = n
        .call(
            Method::POST,
            &format!("/api/v1/passports/{other}/versions"),
            Some(&kit::basic()),
            Some(&kit::battery_draft("STATUS-2")),
        )
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let r = n
        .admin(Method::POST, &format!("/api/v1/passports/{other}/publish"))
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(credential(&n, &other).await.2, other_index);
}

async fn a_status_list_version_is_provably_in_the_log(backend: Backend) {
    let n = kit::TestNode::new(backend).start().await;
    let (id, _) = n.publish("STATUS-LOG").await;
    change(&n, &id, "suspend").await;
    let r = n.get_public("/status/suspension/0", Some(DI)).await;
    let index: u64 = r.header("hallmark-log-index").unwrap().parse().unwrap();
    let link = r.header("link").unwrap();
    let proof_url = format!("{BASE_URL}/log/proof/inclusion?index={index}");
    assert!(
        link.contains(&format!(
            "<{proof_url}>; rel=\"urn:hallmark:log-inclusion\""
        )),
        "{link}"
    );
    let jwt = n
        .get_public("/status/suspension/0", Some("application/vc+jwt"))
        .await;
    assert_eq!(
        jwt.header("hallmark-log-index"),
        r.header("hallmark-log-index")
    );

    let vkey = n.log_key().await;
    let note = n.checkpoint_covering_everything().await;
    let cp = open_checkpoint(&note, &vkey).unwrap();
    let p = n.get(&format!("/log/proof/inclusion?index={index}")).await;
    assert_eq!(p.status, 200);
    let proof: InclusionProof = serde_json::from_slice(&p.body).unwrap();
    assert_eq!(proof.tree_size, cp.size);
    let leaf = proof.leaf_bytes().unwrap().unwrap();
    assert_eq!(tlog::leaf_hash(&leaf), proof.leaf_hash.0);
    tlog::verify_inclusion(&proof.leaf_hash.0, index, cp.size, &proof.path(), &cp.root).unwrap();
    // The leaf is this version's status-list.published event, naming both forms' SHA-256.
    let event = LeafEvent::from_leaf(&leaf).unwrap();
    assert_eq!(event.action, "status-list.published");
    assert_eq!(event.detail["purpose"], "suspension");
    assert_eq!(event.detail["list"], 0);
    assert_eq!(event.detail["version"], 2);
    assert_eq!(event.detail["sha256"], hex::encode(Sha256::digest(&r.body)));
    assert_eq!(
        event.detail["jwtSha256"],
        hex::encode(Sha256::digest(&jwt.body))
    );
    // A tampered leaf hash does not verify.
    let mut wrong = proof.leaf_hash.0;
    wrong[0] ^= 1;
    assert!(tlog::verify_inclusion(&wrong, index, cp.size, &proof.path(), &cp.root).is_err());
    // The event is public: served by /log/entries.
    let e = n.get(&format!("/log/entries/{index}")).await;
    assert_eq!(e.status, 200);
}

async fn a_restart_keeps_every_list(backend: Backend) {
    let data = Data::new(backend).await;
    let n = data.start().await;
    // A fresh node has both lists of list 0 at version 1, all clear.
    let (empty, l) = list(&n, "revocation", 0).await;
    assert_eq!(l.bits.count_set(), 0);
    let (id, _) = n.publish("STATUS-RESTART").await;
    let (_, _, index) = credential(&n, &id).await;
    change(&n, &id, "suspend").await;
    let (before, _) = list(&n, "suspension", 0).await;
    n.stop().await;

    let n = data.start().await;
    let (after, l) = list(&n, "suspension", 0).await;
    assert_eq!(after, before);
    assert!(bit(&l, index));
    assert_eq!(list(&n, "revocation", 0).await.0, empty);
    // No list was signed again at start-up.
    let store = n.store();
    for (p, v) in [
        (StatusPurpose::Suspension, 2),
        (StatusPurpose::Revocation, 1),
    ] {
        assert_eq!(
            store
                .status_list_latest(p, 0)
                .await
                .unwrap()
                .unwrap()
                .version,
            v
        );
    }
    n.stop().await;
}

async fn concurrent_status_changes_in_one_list_all_land(backend: Backend) {
    let n = kit::TestNode::new(backend).start().await;
    // More concurrent changes than a change's retries: the node's own changes take turns.
    const N: usize = 12;
    let mut ids = Vec::new();
    for i in 0..N {
        ids.push(n.publish(&format!("STATUS-C{i}")).await.0);
    }
    let mut positions = Vec::new();
    for id in &ids {
        positions.push(credential(&n, id).await.2);
    }
    let n = std::sync::Arc::new(n);
    let mut changes = tokio::task::JoinSet::new();
    for id in ids.clone() {
        let n = std::sync::Arc::clone(&n);
        changes.spawn(async move { change(&n, &id, "suspend").await });
    }
    while let Some(done) = changes.join_next().await {
        done.unwrap();
    }
    let (_, susp) = list(&n, "suspension", 0).await;
    for p in &positions {
        assert!(bit(&susp, *p));
    }
    assert_eq!(susp.bits.count_set() as usize, N);
    // Every change made its own version, in sequence.
    let latest = n
        .store()
        .status_list_latest(StatusPurpose::Suspension, 0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.version, N as u32 + 1);
}

async fn lists_are_re_signed_before_they_expire(backend: Backend) {
    let n = kit::TestNode::new(backend).start().await;
    let (id, _) = n.publish("STATUS-REFRESH").await;
    change(&n, &id, "deactivate").await;
    let (before, l) = list(&n, "revocation", 0).await;
    let service = n.app().service();
    // Fresh lists (valid for 24 hours) are left alone with a one-hour margin.
    assert_eq!(
        service
            .refresh_status_lists(time::Duration::hours(1))
            .await
            .unwrap(),
        0
    );
    // Within the margin (a 25-hour one stands for a list 23 hours old), both lists are
    // signed again with the same bits, and served at once.
    assert_eq!(
        service
            .refresh_status_lists(time::Duration::hours(25))
            .await
            .unwrap(),
        2
    );
    let (after, renewed) = list(&n, "revocation", 0).await;
    assert_eq!(renewed.bits.as_bytes(), l.bits.as_bytes());
    assert!(renewed.valid_until.unwrap() >= l.valid_until.unwrap());
    let latest = n
        .store()
        .status_list_latest(StatusPurpose::Revocation, 0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.version, 3);
    assert!(after == latest.credential, "the renewed version is served");
    // (Signed within the same second, the renewal's bytes equal the last version's.)
    let v2 = n.get("/status/revocation/0/versions/2").await;
    assert!(v2.body == before);
}

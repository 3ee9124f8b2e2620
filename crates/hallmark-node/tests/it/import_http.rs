//! The batch endpoint of bulk import (`POST /api/v1/passports/batch`, issue 18) over real
//! HTTP on SQLite and PostgreSQL: a mixed batch whose failed items write nothing, re-runs
//! that change nothing, a changed item becoming the next version, publication whose
//! credentials verify, the dry run, suspended and terminal passports, the import's
//! `import.completed` event, the lookup by reference, the limits and the scope.

use hallmark_testkit as kit;

use hallmark_core::verify::verify;
use hallmark_node::edge::EdgeConfig;
use hallmark_store::{PassportFilter, Store};
use kit::{battery_draft, Backend, Node, Reply, TestNode};
use reqwest::Method;
use serde_json::{json, Value};

const OPERATOR: &str = "https://id.gs1.org/417/4012345000016";
const IMPORT_ID: &str = "0193a1c2-0000-7000-8000-0000000000aa";

fn item(reference: &str, passport: Value) -> Value {
    json!({ "externalRef": reference, "passport": passport })
}

/// The battery draft with one sector value changed (a new submission, same product).
fn changed(serial: &str, mass: f64) -> Value {
    let mut p = battery_draft(serial);
    p["data"]["generalProductInformation"]["batteryMass"] = json!(mass);
    p
}

async fn batch(n: &Node, auth: &str, publish: bool, dry_run: bool, items: &[Value]) -> Reply {
    let body = json!({
        "importId": IMPORT_ID, "publish": publish, "dryRun": dry_run, "items": items,
    });
    n.call(
        Method::POST,
        "/api/v1/passports/batch",
        Some(auth),
        Some(&body),
    )
    .await
}

/// The answer's items' results, in order.
fn results(answer: &Value) -> Vec<String> {
    answer["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["result"].as_str().unwrap().to_owned())
        .collect()
}

async fn passports(s: &dyn Store) -> usize {
    s.list_passports(&PassportFilter::default(), None, 1000)
        .await
        .unwrap()
        .items
        .len()
}

async fn mixed_batches_rerun_and_publish(backend: Backend) {
    let n = TestNode::new(backend)
        .api_key("write", "importer")
        .start()
        .await;
    let w = n.bearer().to_owned();
    let s = n.store().clone();

    // Two new passports, drafts only.
    let r = batch(
        &n,
        &w,
        false,
        false,
        &[
            item("ERP-A", battery_draft("IMP-A")),
            item("ERP-B", battery_draft("IMP-B")),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let first = r.json();
    assert_eq!(results(&first), ["created", "created"]);
    assert_eq!(first["items"][0]["index"], 0);
    assert_eq!(first["items"][1]["externalRef"], "ERP-B");
    assert_eq!(first["items"][0]["draftVersion"], 1);
    assert!(first["items"][0].get("version").is_none());
    let a = first["items"][0]["id"].as_str().unwrap().to_owned();
    let b = first["items"][1]["id"].as_str().unwrap().to_owned();

    // Mixed: unchanged, updated, created, and two failures that write nothing.
    let mut invalid = battery_draft("IMP-D");
    invalid["data"]["generalProductInformation"]["batteryMass"] = json!("heavy");
    let mixed = [
        item("ERP-A", battery_draft("IMP-A")),
        item("ERP-B", changed("IMP-B", 451.5)),
        item("ERP-C", battery_draft("IMP-C")),
        item("ERP-D", invalid),
        // Another reference for A's product: the identifier is A's.
        item("ERP-E", battery_draft("IMP-A")),
        item("ERP-F", json!({ "granularity": "item" })),
        item(" ERP-G", battery_draft("IMP-G")),
    ];
    let (len, count) = (s.audit_len().await.unwrap(), passports(s.as_ref()).await);
    let answer = batch(&n, &w, false, false, &mixed).await.json();
    assert_eq!(
        results(&answer),
        [
            "unchanged",
            "updated",
            "created",
            "failed",
            "failed",
            "failed",
            "failed"
        ],
        "{answer:#}"
    );
    assert_eq!(
        answer["counts"],
        json!({"created": 1, "updated": 1, "published": 0, "unchanged": 1, "failed": 4})
    );
    assert_eq!(answer["items"][0]["id"], a.as_str());
    assert_eq!(answer["items"][0]["draftVersion"], 1);
    let c = answer["items"][2]["id"].as_str().unwrap().to_owned();
    let invalid = &answer["items"][3]["problem"];
    assert_eq!(invalid["type"], "urn:hallmark:problem:invalid-passport");
    assert_eq!(invalid["status"], 422);
    // The pointer is into the passport (the importer maps it back to its column).
    assert_eq!(
        invalid["issues"],
        json!([{
            "pointer": "/data/generalProductInformation/batteryMass",
            "message": "\"heavy\" is not of type \"number\"",
        }]),
        "{invalid}"
    );
    let in_use = &answer["items"][4]["problem"];
    assert_eq!(in_use["type"], "urn:hallmark:problem:identifier-in-use");
    assert_eq!(in_use["status"], 409);
    assert_eq!(in_use["existing_passport"], a.as_str());
    assert_eq!(answer["items"][5]["problem"]["status"], 422);
    assert_eq!(
        answer["items"][6]["problem"]["type"],
        "urn:hallmark:problem:unprocessable"
    );
    assert!(answer["items"][3].get("id").is_none());
    // Exactly the created and the updated item were written: one passport, two events.
    assert_eq!(passports(s.as_ref()).await, count + 1);
    assert_eq!(s.audit_len().await.unwrap(), len + 2);

    // The same content again: all unchanged, nothing written.
    let again = [
        item("ERP-A", battery_draft("IMP-A")),
        item("ERP-B", changed("IMP-B", 451.5)),
        item("ERP-C", battery_draft("IMP-C")),
    ];
    let len = s.audit_len().await.unwrap();
    let answer = batch(&n, &w, false, false, &again).await.json();
    assert_eq!(results(&answer), ["unchanged"; 3]);
    assert_eq!(s.audit_len().await.unwrap(), len);

    // A dry run of publishing says what would happen and writes nothing.
    let answer = batch(&n, &w, true, true, &again).await.json();
    assert_eq!(results(&answer), ["publish"; 3], "{answer:#}");
    assert_eq!(answer["items"][0]["version"], 1);
    let new = [item("ERP-H", battery_draft("IMP-H"))];
    let answer = batch(&n, &w, true, true, &new).await.json();
    assert_eq!(results(&answer), ["create"]);
    assert!(answer["items"][0].get("id").is_none());
    assert_eq!(s.audit_len().await.unwrap(), len);
    assert_eq!(passports(s.as_ref()).await, count + 1);

    // Publishing: the pending drafts that hold the content are published; their
    // credentials verify.
    let answer = batch(&n, &w, true, false, &again).await.json();
    assert_eq!(results(&answer), ["published"; 3], "{answer:#}");
    let did = n.did().await;
    for (i, id) in [&a, &b, &c].into_iter().enumerate() {
        assert_eq!(answer["items"][i]["id"], id.as_str());
        assert_eq!(answer["items"][i]["version"], 1);
        assert!(answer["items"][i]["logIndex"].is_u64());
        let served = n.get_public(&format!("/passports/{id}"), None).await;
        assert_eq!(served.status, 200);
        assert!(verify(&served.body, &did).is_valid(), "{id}");
    }
    // Re-run with publish: all unchanged, nothing written.
    let len = s.audit_len().await.unwrap();
    let answer = batch(&n, &w, true, false, &again).await.json();
    assert_eq!(results(&answer), ["unchanged"; 3]);
    assert_eq!(answer["items"][0]["version"], 1);
    assert_eq!(s.audit_len().await.unwrap(), len);

    // A changed item becomes version 2 (started and published in one job), and verifies.
    let answer = batch(
        &n,
        &w,
        true,
        false,
        &[item("ERP-A", changed("IMP-A", 460.0))],
    )
    .await
    .json();
    assert_eq!(results(&answer), ["updated"]);
    assert_eq!(answer["items"][0]["version"], 2);
    assert_eq!(s.audit_len().await.unwrap(), len + 2);
    let detail = n
        .call(
            Method::GET,
            &format!("/api/v1/passports/{a}"),
            Some(&w),
            None,
        )
        .await
        .json();
    assert_eq!(detail["currentVersion"], 2);
    assert_eq!(
        detail["current"]["passport"]["data"]["generalProductInformation"]["batteryMass"],
        json!(460.0)
    );
    let served = n.get_public(&format!("/passports/{a}"), None).await;
    assert!(verify(&served.body, &did).is_valid());
    // Without publish, a change starts the next version's draft.
    let answer = batch(
        &n,
        &w,
        false,
        false,
        &[item("ERP-A", changed("IMP-A", 461.0))],
    )
    .await
    .json();
    assert_eq!(results(&answer), ["updated"]);
    assert_eq!(answer["items"][0]["draftVersion"], 3);
    assert_eq!(answer["items"][0]["version"], 2);

    // Suspended: a change is refused with publish (resume first), drafted without.
    let reason = json!({ "reason": "recall" });
    let r = n
        .call(
            Method::POST,
            &format!("/api/v1/passports/{b}/suspend"),
            Some(&w),
            Some(&reason),
        )
        .await;
    assert_eq!(r.status, 200);
    let len = s.audit_len().await.unwrap();
    let answer = batch(
        &n,
        &w,
        true,
        false,
        &[item("ERP-B", changed("IMP-B", 452.5))],
    )
    .await
    .json();
    assert_eq!(results(&answer), ["failed"]);
    assert_eq!(answer["items"][0]["problem"]["status"], 409);
    assert_eq!(s.audit_len().await.unwrap(), len);
    let answer = batch(
        &n,
        &w,
        false,
        false,
        &[item("ERP-B", changed("IMP-B", 452.5))],
    )
    .await
    .json();
    assert_eq!(results(&answer), ["updated"]);
    assert_eq!(answer["items"][0]["draftVersion"], 2);
    // Archived: terminal, refused whatever the content.
    let r = n
        .call(
            Method::POST,
            &format!("/api/v1/passports/{c}/archive"),
            Some(&w),
            Some(&json!({})),
        )
        .await;
    assert_eq!(r.status, 200);
    let answer = batch(
        &n,
        &w,
        false,
        false,
        &[item("ERP-C", battery_draft("IMP-C"))],
    )
    .await
    .json();
    assert_eq!(results(&answer), ["failed"]);
    assert_eq!(answer["items"][0]["problem"]["status"], 409);

    // The passport a reference names, with its reference.
    let found = n
        .call(
            Method::GET,
            &format!("/api/v1/passports?externalRef=ERP-A&economicOperatorId={OPERATOR}"),
            Some(&w),
            None,
        )
        .await
        .json();
    assert_eq!(found["items"][0]["id"], a.as_str(), "{found}");
    assert_eq!(found["items"][0]["externalRef"], "ERP-A");
    let none = n
        .call(
            Method::GET,
            &format!("/api/v1/passports?externalRef=ERP-Z&economicOperatorId={OPERATOR}"),
            Some(&w),
            None,
        )
        .await
        .json();
    assert_eq!(none["items"], json!([]));
    n.call(
        Method::GET,
        "/api/v1/passports?externalRef=ERP-A",
        Some(&w),
        None,
    )
    .await
    .problem(400, "bad-request");

    // The import's end: one private import.completed event with the node's counts.
    let finish = json!({
        "fileName": "erp-export.csv", "bytes": 123456, "rows": 17, "interrupted": false,
        "sha256": "ab".repeat(32),
    });
    let r = n
        .call(
            Method::POST,
            &format!("/api/v1/imports/{IMPORT_ID}/finish"),
            Some(&w),
            Some(&finish),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let finished = r.json();
    assert_eq!(finished["countedBy"], "node");
    // Counted: every batch of this import but the dry runs.
    assert_eq!(
        finished["counts"],
        json!({"created": 3, "updated": 4, "published": 3, "unchanged": 7, "failed": 6})
    );
    let last = s
        .list_audit(s.audit_len().await.unwrap(), 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(last.event.action, "import.completed");
    assert_eq!(last.event.subject.as_deref(), Some(IMPORT_ID));
    assert_eq!(last.event.detail["fileName"], "erp-export.csv");
    assert_eq!(last.event.detail["counts"], finished["counts"]);
    assert_eq!(finished["logIndex"], last.seq - 1);
    // Its leaf is private: served as hash only.
    let entry = n.get(&format!("/log/entries/{}", last.seq - 1)).await;
    assert!(!String::from_utf8_lossy(&entry.body).contains("erp-export.csv"));
    // Finished again (no counts of the node's left): the client's counts, said so.
    let mut again = finish.clone();
    again["counts"] =
        json!({"created": 1, "updated": 0, "published": 0, "unchanged": 0, "failed": 0});
    let r = n
        .call(
            Method::POST,
            &format!("/api/v1/imports/{IMPORT_ID}/finish"),
            Some(&w),
            Some(&again),
        )
        .await
        .json();
    assert_eq!(r["countedBy"], "client");
    assert_eq!(r["counts"]["created"], 1);
    let mut bad = finish.clone();
    bad["fileName"] = json!("/etc/passwd");
    n.call(
        Method::POST,
        &format!("/api/v1/imports/{IMPORT_ID}/finish"),
        Some(&w),
        Some(&bad),
    )
    .await
    .problem(422, "unprocessable");

    // The log recomputes from the events after all this.
    let check = hallmark_store::logcheck::check_log(s.as_ref(), Some(&n.log_key().await))
        .await
        .unwrap();
    assert_eq!(check.divergence, None);
    assert_eq!(check.leaves, s.audit_len().await.unwrap());
    n.running.stop();
}
kit::both!(mixed_batches_rerun_and_publish);

async fn limits_and_scope(backend: Backend) {
    let n = TestNode::new(backend)
        .edge(EdgeConfig {
            limits: hallmark_node::edge::Limits {
                max_body_bytes: 12 * 1024,
                max_batch_body_bytes: 64 * 1024,
                ..hallmark_node::edge::Limits::default()
            },
            ..kit::edge()
        })
        .api_key("write", "importer")
        .start()
        .await;
    let w = n.bearer().to_owned();
    let s = n.store().clone();
    let len = s.audit_len().await.unwrap();

    // Two passports (≈ 15 KB) exceed the body limit of other routes, not the batch's.
    let two: Vec<Value> = (0..2)
        .map(|i| item(&format!("L-{i}"), battery_draft(&format!("LIM-{i}"))))
        .collect();
    let body = json!({ "items": two });
    assert!(serde_json::to_vec(&body).unwrap().len() > 12 * 1024);
    let r = batch(&n, &w, false, false, &two).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(results(&r.json()), ["created", "created"]);
    let p = n
        .call(
            Method::POST,
            "/api/v1/passports/validate",
            Some(&w),
            Some(&body),
        )
        .await
        .problem(413, "body-too-large");
    assert_eq!(p["limit"], "max_body_bytes");
    // Ten (≈ 75 KB) exceed the batch's too.
    let ten: Vec<Value> = (0..10)
        .map(|i| item(&format!("M-{i}"), battery_draft(&format!("LIM-1{i}"))))
        .collect();
    let p = batch(&n, &w, false, false, &ten)
        .await
        .problem(413, "body-too-large");
    assert_eq!(p["max"], 64 * 1024);
    assert_eq!(p["limit"], "max_batch_body_bytes");

    // More than 1,000 items, a reference twice: the whole request is refused.
    let many: Vec<Value> = (0..1001)
        .map(|i| item(&format!("X-{i}"), json!({})))
        .collect();
    batch(&n, &w, false, false, &many)
        .await
        .problem(422, "unprocessable");
    let twice = [
        item("D-1", json!({})),
        item("D-2", json!({})),
        item("D-1", json!({})),
    ];
    let p = batch(&n, &w, false, false, &twice)
        .await
        .problem(422, "duplicate-external-ref");
    assert_eq!(p["externalRef"], "D-1");
    assert_eq!(p["items"], json!([0, 2]));
    // No externalRef: the request's shape.
    let r = n
        .call(
            Method::POST,
            "/api/v1/passports/batch",
            Some(&w),
            Some(&json!({ "items": [{ "passport": {} }] })),
        )
        .await;
    assert_eq!(r.status, 422, "{}", String::from_utf8_lossy(&r.body));

    // A read key may look up, not import.
    let (read, _, _) = n.key("read").await;
    let p = batch(&n, &read, false, false, &two)
        .await
        .problem(403, "forbidden");
    assert_eq!(p["required_scope"], "write");
    n.call(
        Method::POST,
        &format!("/api/v1/imports/{IMPORT_ID}/finish"),
        Some(&read),
        Some(&json!({})),
    )
    .await
    .problem(403, "forbidden");
    let r = n
        .call(
            Method::GET,
            &format!("/api/v1/passports?externalRef=L-0&economicOperatorId={OPERATOR}"),
            Some(&read),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["items"][0]["externalRef"], "L-0");
    // Only the first batch wrote (two passports, two events; minting the read key with the
    // admin login adds its own events).
    assert_eq!(passports(s.as_ref()).await, 2);
    let events = s.list_audit(len + 1, 100).await.unwrap();
    let drafts = events
        .iter()
        .filter(|e| e.event.action == "passport.draft-created")
        .count();
    assert_eq!(drafts, 2);
    n.running.stop();
}
kit::both!(limits_and_scope);

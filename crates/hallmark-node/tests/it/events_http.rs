//! Issue 21, item 1 (`docs/events.md`): a node's audited writes that matter to outsiders
//! leave their CloudEvent in the outbox, in the same transaction — published through the
//! admin API and read back from the store: the event names the node's DID as `source`, the
//! passport as `subject`, and the log index the passport URL's `Hallmark-Log-Index` gives.

use hallmark_testkit as kit;
use kit::{basic, Backend};
use reqwest::Method;
use serde_json::{json, Value};

async fn events_name_the_node_the_passport_and_the_log_leaf(backend: Backend) {
    let node = kit::TestNode::new(backend).start().await;
    let before = node.store().outbox(0, 1000).await.unwrap();
    // Start-up events outsiders hear about (the signing keys registered) are there already.
    assert!(before
        .iter()
        .all(|r| r.topic.starts_with("eu.dpp.key.") || r.topic == "eu.dpp.statuslist.updated"));
    let last = before.last().map_or(0, |r| r.id);

    let (id, _) = node.publish("EVT-1").await;
    let r = node.get(&format!("/passports/{id}")).await;
    let log_index: u64 = r.header("hallmark-log-index").unwrap().parse().unwrap();
    let rows = node.store().outbox(last, 1000).await.unwrap();
    let published: Vec<Value> = rows
        .iter()
        .filter(|r| r.topic == "eu.dpp.passport.published")
        .map(|r| serde_json::from_slice(&r.payload).unwrap())
        .collect();
    assert_eq!(published.len(), 1, "{rows:?}");
    let e = &published[0];
    let did = node.did().await;
    assert_eq!(e["source"], json!(did.id));
    assert_eq!(e["subject"], format!("urn:uuid:{id}"));
    assert_eq!(e["data"]["logIndex"], log_index);
    assert_eq!(e["id"], (log_index + 1).to_string());
    assert_eq!(e["data"]["status"], "published");
    assert!(e["data"]["versionUrl"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/passports/{id}/versions/1")));
    // Nothing of the passport's content travels in an event.
    let text = e.to_string();
    assert!(!text.contains("EVT-1"), "{text}");

    // A status change is an event; the operator's reason is not in it.
    let r = node
        .call(
            Method::POST,
            &format!("/api/v1/passports/{id}/suspend"),
            Some(&basic()),
            Some(&json!({ "reason": "recall memo 17" })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let after = rows.last().map_or(last, |r| r.id);
    let rows = node.store().outbox(after, 1000).await.unwrap();
    let changed: Vec<Value> = rows
        .iter()
        .filter(|r| r.topic == "eu.dpp.passport.status.changed")
        .map(|r| serde_json::from_slice(&r.payload).unwrap())
        .collect();
    assert_eq!(changed.len(), 1, "{rows:?}");
    assert_eq!(changed[0]["data"]["status"], "suspended");
    assert!(!changed[0].to_string().contains("memo"));
    // Every outbox row is its audit event's: ids strictly increase with the audit order.
    let all = node.store().outbox(0, 1000).await.unwrap();
    assert!(all.windows(2).all(|w| w[0].audit_seq < w[1].audit_seq));
    node.stop().await;
}
kit::both!(events_name_the_node_the_passport_and_the_log_leaf);

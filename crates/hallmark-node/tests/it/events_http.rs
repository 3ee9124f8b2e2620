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

/// The CloudEvents of `messages` (the stream's payloads), checked: every `Nats-Msg-Id` is
/// `<source>#<id>` and appears once.
fn events(messages: &[(String, String, Vec<u8>)]) -> Vec<Value> {
    let mut seen = std::collections::HashSet::new();
    messages
        .iter()
        .map(|(subject, msg_id, payload)| {
            let e: Value = serde_json::from_slice(payload).unwrap();
            assert_eq!(
                *msg_id,
                format!(
                    "{}#{}",
                    e["source"].as_str().unwrap(),
                    e["id"].as_str().unwrap()
                )
            );
            assert_eq!(
                *subject,
                format!("hallmark.events.{}", e["type"].as_str().unwrap())
            );
            assert!(seen.insert(msg_id.clone()), "{msg_id} twice in the stream");
            e
        })
        .collect()
}

/// Every outbox row, in order.
async fn all_outbox(node: &kit::Node) -> Vec<hallmark_store::OutboxRecord> {
    let mut out: Vec<hallmark_store::OutboxRecord> = Vec::new();
    loop {
        let after = out.last().map_or(0, |r| r.id);
        let page = node.store().outbox(after, 1000).await.unwrap();
        if page.is_empty() {
            return out;
        }
        out.extend(page);
    }
}

/// Waits until the node's outbox has nothing undelivered.
async fn drained(node: &kit::Node) {
    kit::until("the outbox to drain", || async {
        (node.store().outbox_backlog().await.unwrap().0 == 0).then_some(())
    })
    .await;
}

fn drafts(prefix: &str, n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| kit::battery_draft(&format!("{prefix}-{i:05}")))
        .collect()
}

/// The passport ids of the `eu.dpp.passport.published` events, in stream order.
fn published_ids(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["type"] == "eu.dpp.passport.published")
        .map(|e| {
            e["subject"]
                .as_str()
                .unwrap()
                .trim_start_matches("urn:uuid:")
                .to_owned()
        })
        .collect()
}

/// Checks the events are in audit order (ids strictly increasing); the passport ids of
/// their `published` events, sorted.
fn in_order_published(events: &[Value]) -> Vec<String> {
    let seqs: Vec<u64> = events
        .iter()
        .map(|e| e["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "out of order");
    let mut published = published_ids(events);
    published.sort();
    published
}

/// With NATS up, 1,000 publications give 1,000 `published` events, in the order of the
/// audit log (ids strictly increasing), each stored once; every outbox row is marked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_publications_reach_jetstream_once_each_in_order() {
    let nats = kit::nats::NatsServer::start().await;
    let node = kit::TestNode::new(Backend::Sqlite)
        .nats(&nats.url())
        .start()
        .await;
    let ids = node.publish_batch("UP", &drafts("UP", 1000), 100).await;
    drained(&node).await;
    let events = events(&nats.messages("HALLMARK_EVENTS").await);
    let published = in_order_published(&events);
    assert_eq!(published.len(), 1000);
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(published, expected);
    // Everything in the outbox was delivered, and the stream holds exactly the outbox.
    let outbox = all_outbox(&node).await;
    assert!(outbox.iter().all(|r| r.published_at.is_some()));
    assert_eq!(events.len(), outbox.len());
    node.stop().await;
}

/// NATS down: 1,000 publications all succeed (the relay is not in the write path); their
/// events wait in the outbox; once NATS is back every one arrives, exactly once per id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_outage_delays_events_and_loses_none() {
    let mut nats = kit::nats::NatsServer::start().await;
    let node = kit::TestNode::new(Backend::Sqlite)
        .nats(&nats.url())
        .start()
        .await;
    let first = node.publish_batch("A", &drafts("A", 10), 10).await;
    drained(&node).await;
    nats.stop();
    let ids = node.publish_batch("B", &drafts("B", 1000), 100).await;
    assert_eq!(
        ids.len(),
        1000,
        "every publication succeeded with the broker down"
    );
    let (waiting, oldest) = node.store().outbox_backlog().await.unwrap();
    assert!(waiting >= 1000, "{waiting} events waiting");
    assert!(oldest.is_some());
    nats.resume().await;
    drained(&node).await;
    let events = events(&nats.messages("HALLMARK_EVENTS").await);
    let published = in_order_published(&events);
    let mut expected: Vec<String> = first.into_iter().chain(ids).collect();
    expected.sort();
    assert_eq!(published, expected);
    node.stop().await;
}

/// Two nodes on one PostgreSQL, both relaying: one holds the lease and delivers; every
/// event of both nodes' publications arrives once, in audit order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_sharing_a_database_share_one_relay() {
    let nats = kit::nats::NatsServer::start().await;
    let data = kit::Data::new(Backend::Postgres).await;
    let a = data.start_relaying(&nats.url()).await;
    let b = data.start_relaying(&nats.url()).await;
    let (na, nb) = (drafts("NA", 150), drafts("NB", 150));
    let (x, y) = tokio::join!(
        a.publish_batch("NA", &na, 50),
        b.publish_batch("NB", &nb, 50)
    );
    drained(&a).await;
    let events = events(&nats.messages("HALLMARK_EVENTS").await);
    let published = in_order_published(&events);
    let mut expected: Vec<String> = x.into_iter().chain(y).collect();
    expected.sort();
    assert_eq!(published, expected);
    a.stop().await;
    b.stop().await;
}

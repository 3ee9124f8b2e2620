//! Issue 21 (`docs/events.md`): `hallmark serve` relaying its outbox to a private NATS
//! server is killed with SIGKILL while it delivers a backlog; started again on the same data
//! it delivers the rest — every event arrives, each stored once (JetStream de-duplicates
//! by `Nats-Msg-Id` what was sent again). The restarted node is a new relay: it takes over
//! once the killed one's lease (30 s) has run out.

use super::cli_node::{admin_call, free_port, hallmark, rt, wait_up};
use hallmark_testkit::nats::NatsServer;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn serve(dir: &Path, public: u16, admin: u16, nats: &str) -> Child {
    hallmark()
        .args(["serve", "--profile", "development"])
        .current_dir(dir)
        .env("HALLMARK_PUBLIC_LISTEN", format!("127.0.0.1:{public}"))
        .env("HALLMARK_ADMIN_LISTEN", format!("127.0.0.1:{admin}"))
        .env("HALLMARK_NATS_URL", nats)
        .env("HALLMARK_LOG_LEVEL", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The `eu.dpp.passport.published` events in the stream, and whether any `Nats-Msg-Id` is
/// there twice.
fn published(rt: &tokio::runtime::Runtime, nats: &NatsServer) -> (Vec<String>, bool) {
    let messages = rt.block_on(nats.messages("HALLMARK_EVENTS"));
    let mut ids = std::collections::HashSet::new();
    let twice = !messages.iter().all(|(_, id, _)| ids.insert(id.clone()));
    let subjects = messages
        .iter()
        .filter(|(s, _, _)| s.ends_with("eu.dpp.passport.published"))
        .map(|(_, _, p)| {
            let e: serde_json::Value = serde_json::from_slice(p).unwrap();
            e["subject"].as_str().unwrap().to_owned()
        })
        .collect();
    (subjects, twice)
}

#[test]
fn a_node_killed_mid_relay_loses_no_event_and_stores_none_twice() {
    let rt = rt();
    let mut nats = rt.block_on(NatsServer::start());
    let tmp = tempfile::tempdir().unwrap();
    let (public, admin) = (free_port(), free_port());
    let mut node = serve(tmp.path(), public, admin, &nats.url());
    wait_up(&rt, &format!("http://127.0.0.1:{public}/health"));

    // A backlog: 400 publications while the broker is down.
    nats.stop();
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/demo/ev-battery.json"))
            .unwrap();
    let ev: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut expected = Vec::new();
    for chunk in 0..4 {
        let items: Vec<serde_json::Value> = (0..100)
            .map(|i| {
                let mut d = ev.clone();
                d["uniqueProductIdentifier"]["serial"] = format!("KILL-{chunk}-{i:03}").into();
                serde_json::json!({ "externalRef": format!("kill-{chunk}-{i}"), "passport": d })
            })
            .collect();
        let answer = admin_call(
            &rt,
            admin,
            "/passports/batch",
            Some(serde_json::json!({ "publish": true, "items": items })),
        );
        assert_eq!(answer["counts"]["failed"], 0, "{answer}");
        for item in answer["items"].as_array().unwrap() {
            expected.push(format!("urn:uuid:{}", item["id"].as_str().unwrap()));
        }
    }

    // The broker comes back; as soon as the relay has delivered something, SIGKILL.
    rt.block_on(nats.resume());
    let mut at_kill = 0;
    for _ in 0..1200 {
        at_kill = rt.block_on(nats.messages("HALLMARK_EVENTS")).len();
        if at_kill > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    Command::new("kill")
        .args(["-KILL", &node.id().to_string()])
        .status()
        .unwrap();
    let _ = node.wait();
    eprintln!("stream held {at_kill} messages when the node was killed");

    // Started again on the same data: the rest arrives; nothing twice.
    node = serve(tmp.path(), public, admin, &nats.url());
    wait_up(&rt, &format!("http://127.0.0.1:{public}/health"));
    let mut seen = Vec::new();
    for _ in 0..2400 {
        let (subjects, twice) = published(&rt, &nats);
        assert!(!twice, "a Nats-Msg-Id stored twice");
        seen = subjects;
        if seen.len() >= expected.len() {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    Command::new("kill")
        .args(["-TERM", &node.id().to_string()])
        .status()
        .unwrap();
    let _ = node.wait();
    seen.sort();
    expected.sort();
    assert_eq!(seen, expected, "every publication's event, once");
}

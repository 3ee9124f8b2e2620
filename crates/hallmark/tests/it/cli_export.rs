//! `hallmark export aas` as a real process against a real node (SQLite): the demo battery
//! passport exported for each audience (authority by default; stdout or `--out FILE`), the
//! public export equal to the public door's `…/aas`, the refusals' exit codes (unknown id 5,
//! a sector without an AAS mapping 5, no credentials 2). When `target/aas-venv` is already
//! set up (`scripts/check-aas` ran once), the three exports also pass the AAS test engine;
//! otherwise that check is skipped, so the test needs no network (core's ignored
//! `aas::demo_environments_pass_the_aas_test_engine` is the engine's test).

use super::cli_passport::{key, Cli};
use hallmark_testkit as kit;
use kit::{basic, Backend, TestNode};
use serde_json::Value;
use std::path::PathBuf;

const TEST_REPORT: &str = "https://www.example.com/batteries/ax77/test-report.pdf";

fn submodels(env: &Value) -> Vec<String> {
    env["submodels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["idShort"].as_str().unwrap().to_string())
        .collect()
}

/// The workspace's `scripts/check-aas`, when its venv is ready (no install, no network).
fn engine() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let venv = root.join("target/aas-venv");
    let req = std::fs::read(root.join("scripts/aas-requirements.txt")).ok()?;
    let installed = std::fs::read(venv.join("requirements.txt")).ok()?;
    (venv.join("bin/python").exists() && req == installed).then(|| root.join("scripts/check-aas"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_aas_writes_each_audiences_environment() {
    let node = TestNode::new(Backend::Sqlite).start().await;
    let (id, _) = node.publish("S1").await;
    let read = key(&node, "read").await;
    let cli = Cli::for_node(&node, &read);

    // Authority by default, pretty JSON on stdout.
    let out = cli.run(&["export", "aas", &id]).await.code(0);
    assert!(out.stdout.starts_with("{\n  \""), "{}", out.stdout);
    let authority = out.json();
    assert!(authority.to_string().contains(TEST_REPORT));
    assert!(authority["assetAdministrationShells"][0]["id"]
        .as_str()
        .unwrap()
        .ends_with(&format!(
            "/passports/{}/aas",
            id.trim_start_matches("urn:uuid:")
        )));

    // --out FILE for each audience; nothing on stdout.
    let mut files = Vec::new();
    let mut envs = Vec::new();
    for audience in ["public", "legitimate-interest", "authority"] {
        let file = cli.path(&format!("{audience}.aas.json"));
        let f = file.display().to_string();
        let out = cli
            .run(&["export", "aas", &id, "--audience", audience, "--out", &f])
            .await
            .code(0);
        assert_eq!(out.stdout, "");
        let env: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        files.push(f);
        envs.push(env);
    }
    let (public, li) = (&envs[0], &envs[1]);
    assert_eq!(envs[2], authority);
    let served = node.get(&format!("/passports/{id}/aas")).await;
    assert_eq!(served.status, 200);
    assert_eq!(&served.json(), public, "the public door's environment");
    assert!(!public.to_string().contains(TEST_REPORT));
    assert!(!submodels(public).contains(&"ProductCondition".to_string()));
    assert!(submodels(li).contains(&"ProductCondition".to_string()));
    assert!(!li.to_string().contains(TEST_REPORT));

    // Refusals: unknown id (5), a sector without a mapping (5), no key (2), a bad audience (2).
    let unknown = "01900000-0000-7000-8000-000000000000";
    cli.run(&["export", "aas", unknown]).await.code(5);
    let chair = node
        .publish_draft_as(&basic(), &kit::generic_draft("CHAIR-7"))
        .await;
    let out = cli.run(&["export", "aas", &chair]).await.code(5);
    assert!(
        out.stderr.contains("aas-unsupported-sector"),
        "{}",
        out.stderr
    );
    Cli::new()
        .with("HALLMARK_ADMIN_URL", &node.admin)
        .run(&["export", "aas", &id])
        .await
        .code(2);
    cli.run(&["export", "aas", &id, "--audience", "everyone"])
        .await
        .code(2);

    // The AAS test engine, when its venv is ready.
    match engine() {
        Some(script) => {
            let out = std::process::Command::new(script)
                .args(&files)
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "aas-test-engines refused:\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(
                stdout.lines().filter(|l| l.starts_with("ok")).count(),
                3,
                "{stdout}"
            );
        }
        None => eprintln!("target/aas-venv not set up: the AAS test engine check is skipped"),
    }
    node.running.stop();
}

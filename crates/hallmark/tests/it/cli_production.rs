//! `docs/production.md`, followed literally: every ```` ```sh walkthrough ```` block of the
//! document, in order, in one bash script — changed only where it must be to run beside
//! other tests (directories under a temporary directory, free ports, unique PostgreSQL
//! database and role names, the example passport's absolute path). The script installs
//! nothing: it finds this build's `hallmark` first on `PATH`, and needs `psql`, `curl`,
//! `jq` and `openssl` as the document says.
//!
//! It shows what the production example promises: a production-profile node on PostgreSQL
//! with separate roles starts from those steps, publishes a battery passport the signed
//! battery plugin checked, and `hallmark verify --from` accepts it only through the
//! issuer's own DID document — not from the node it checks.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_hallmark");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The ```` ```sh walkthrough ```` blocks of `doc`, in order.
fn walkthrough_blocks(doc: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        match &mut current {
            None if line.trim_end() == "```sh walkthrough" => current = Some(String::new()),
            Some(_) if line.trim_end() == "```" => blocks.extend(current.take()),
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    assert!(current.is_none(), "an unclosed walkthrough block");
    blocks
}

/// Drops the test's database and roles, and stops whatever the script left running.
struct Cleanup {
    pgid: Option<u32>,
    db: String,
    roles: [String; 2],
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(pgid) = self.pgid {
            let _ = Command::new("kill")
                .args(["-TERM", "--", &format!("-{pgid}")])
                .status();
            std::thread::sleep(Duration::from_millis(300));
        }
        // One `-c` per statement: psql sends a multi-statement `-c` as one transaction, and
        // DROP DATABASE cannot run inside one.
        let drop_db = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.db);
        let drop_roles = self
            .roles
            .iter()
            .map(|r| format!("DROP ROLE IF EXISTS {r}"))
            .collect::<Vec<_>>();
        let _ = Command::new("psql")
            .args(["-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres"])
            .args(["-c", &drop_db, "-c", &drop_roles[0], "-c", &drop_roles[1]])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

#[test]
fn production_walkthrough_publishes_and_verifies_only_via_the_issuers_did() {
    let doc = std::fs::read_to_string(repo().join("docs/production.md")).unwrap();
    let blocks = walkthrough_blocks(&doc);
    assert!(blocks.len() >= 8, "{} walkthrough blocks", blocks.len());

    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let (public, admin) = (free_port(), free_port());
    let name = format!("hm_walk_{}", std::process::id());
    let cleanup = Cleanup {
        pgid: None,
        db: name.clone(),
        roles: [format!("{name}_migrator"), format!("{name}_app")],
    };
    let demo = repo().join("crates/hallmark/demo/");
    // The only changes to the document's text: where things go, never what is done.
    let replacements: Vec<(&str, String)> = vec![
        (
            "/run/secrets",
            root.join("run/secrets").display().to_string(),
        ),
        (
            "/etc/hallmark",
            root.join("etc/hallmark").display().to_string(),
        ),
        (
            "/var/lib/hallmark",
            root.join("var/lib/hallmark").display().to_string(),
        ),
        ("127.0.0.1:8080", format!("127.0.0.1:{public}")),
        ("127.0.0.1:8081", format!("127.0.0.1:{admin}")),
        ("hallmark_migrator", cleanup.roles[0].clone()),
        ("hallmark_app", cleanup.roles[1].clone()),
        ("hallmark_dpp", name.clone()),
        ("crates/hallmark/demo/", demo.display().to_string()),
    ];
    let mut script = String::from("set -euo pipefail\n");
    for block in &blocks {
        let mut block = block.clone();
        for (from, to) in &replacements {
            block = block.replace(from, to);
        }
        script.push_str(&block);
    }

    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let work = root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(&work)
        .env("PATH", path)
        .env_remove("HALLMARK_CONFIG")
        .env_remove("HALLMARK_DATA_DIR")
        .env_remove("HALLMARK_KEYSTORE_PATH")
        .env_remove("HALLMARK_KEYSTORE_PASSPHRASE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let mut cleanup = cleanup;
    cleanup.pgid = Some(child.id());
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).unwrap();
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        stderr.read_to_string(&mut s).unwrap();
        s
    });
    let deadline = Instant::now() + Duration::from_secs(180);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    if status.is_none() {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", child.id())])
            .status();
        let _ = child.wait();
    }
    let out = out_reader.join().unwrap();
    let err = err_reader.join().unwrap();
    let serve_log =
        std::fs::read_to_string(root.join("var/lib/hallmark/serve.log")).unwrap_or_default();
    let all = format!("--- stdout\n{out}\n--- stderr\n{err}\n--- serve.log\n{serve_log}");
    let status = status.unwrap_or_else(|| panic!("the walkthrough did not finish in 180 s\n{all}"));
    assert!(status.success(), "the walkthrough failed: {status}\n{all}");
    cleanup.pgid = None;

    // Step 6: a production node on PostgreSQL answered /health.
    assert!(out.contains("\"signing\":\"ok\""), "{all}");
    // Step 7: published, and the battery plugin checked it.
    let published: serde_json::Value =
        serde_json::from_slice(&std::fs::read(work.join("published.json")).unwrap()).unwrap();
    assert_eq!(published["status"], "published", "{all}");
    assert_eq!(published["version"], 1, "{all}");
    let plugin = &published["plugin"];
    assert!(
        plugin.is_object() && plugin.to_string().contains("battery"),
        "the battery plugin checked the passport: {plugin}\n{all}"
    );
    // Step 8: not from the node it checks — the DID's own host was asked, and failed ...
    assert!(out.contains("not verified: exit 1"), "{all}");
    assert!(
        out.contains("https://dpp.example.com/.well-known/did.json"),
        "the report names where the DID document was to come from\n{all}"
    );
    // ... and with the issuer's DID document given as a file, valid.
    let last_report = out.rsplit("not verified: exit 1").next().unwrap();
    assert!(last_report.contains("VALID"), "{all}");
    assert!(!last_report.contains("INVALID"), "{all}");
    // No secret in what the node logged.
    for secret in [
        "db-app-password",
        "db-migrator-password",
        "keystore-passphrase",
        "admin-password",
    ] {
        let value = std::fs::read_to_string(root.join("run/secrets").join(secret)).unwrap();
        assert!(
            !serve_log.contains(value.trim()),
            "{secret} appears in the node's log"
        );
    }
    drop(cleanup);
    let left = Command::new("psql")
        .args([
            "-At",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-c",
        ])
        .arg(format!(
            "SELECT count(*) FROM pg_database WHERE datname = '{name}'"
        ))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&left.stdout).trim(),
        "0",
        "the walkthrough's database was dropped"
    );
}

//! `hallmark demo` and `hallmark serve` as real processes: the demo's files verify with
//! `hallmark verify`; `serve` refuses unsafe configurations with one line; no secret ever
//! reaches stdout or stderr, even at trace level.

use hallmark_testkit::pg;

use hallmark_keys::keystore::{KdfParams, Keystore};
use secrecy::SecretString;
use std::path::Path;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_hallmark");

pub(super) fn hallmark() -> Command {
    let mut c = Command::new(BIN);
    c.env_clear();
    if let Ok(p) = std::env::var("PATH") {
        c.env("PATH", p);
    }
    c
}

fn output(c: &mut Command) -> (i32, String, String) {
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn demo_no_serve_writes_a_credential_and_did_document_that_verify_accepts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("hallmark-demo");
    let (code, stdout, stderr) = output(hallmark().args(["demo", "--no-serve", "--dir"]).arg(&dir));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("DEVELOPMENT ONLY"), "{stdout}");
    // Published through the committed, signed battery plugin.
    assert!(
        stdout.contains(
            "Sector plugin:    hallmark-battery 0.2.1 (built-in:plugins/battery/battery.wasm, signed)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("http://localhost:8080/passports/"),
        "{stdout}"
    );
    assert!(stdout.contains("/.well-known/did.json"));
    assert!(stdout.contains("hallmark verify"));
    assert!(stdout.contains("curl"));
    assert!(dir.join("DEVELOPMENT-ONLY").exists());
    for file in ["passport.json", "passport.jwt"] {
        let (code, out, err) = output(
            hallmark()
                .arg("verify")
                .arg(dir.join(file))
                .arg("--did-document")
                .arg(dir.join("did.json")),
        );
        assert_eq!(code, 0, "{file}: {out}{err}");
        assert!(out.contains("VALID"));
    }
    // The resolver URI of the first passport, and its QR code decoding to it.
    let resolver = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("Resolver URI:"))
        .unwrap()
        .trim();
    assert!(
        resolver.starts_with("http://localhost:8080/01/"),
        "{stdout}"
    );
    let qr = std::fs::read(dir.join("qr.png")).unwrap();
    assert_eq!(super::cli_labels::decode_png(&qr), resolver);
    assert!(stdout.contains("/qr.png"), "{stdout}");
    // Re-running reuses the directory: same passports, no duplicates.
    let first_url = stdout
        .lines()
        .find(|l| l.contains("Public passport:"))
        .unwrap()
        .to_string();
    let (code, again, err) = output(hallmark().args(["demo", "--no-serve", "--dir"]).arg(&dir));
    assert_eq!(code, 0, "{err}");
    assert!(again.contains(&first_url), "{again}");
    assert!(
        again.contains(
            "3 example battery passports are published (an EV, an industrial and an LMT battery)"
        ),
        "{again}"
    );
}

/// `hallmark verify --checkpoint --proof --log-key` on the demo's files: exit 0 on good
/// inputs; exit 1 naming the failed check when the proof, the leaf, the checkpoint or the key
/// is not the right one. `hallmark log verify-consistency` between two demo runs' checkpoints.
#[test]
fn demo_log_evidence_verifies_and_each_alteration_names_its_check() {
    use hallmark_core::tlog::{self, B64Hash, ConsistencyProof, InclusionProof, VerifierKey};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("hallmark-demo");
    let (code, stdout, stderr) = output(hallmark().args(["demo", "--no-serve", "--dir"]).arg(&dir));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("http://localhost:8080/log/checkpoint"),
        "{stdout}"
    );
    let key = std::fs::read_to_string(dir.join("log-key.txt")).unwrap();
    let key = key.trim_end().to_string();
    assert!(
        stdout.contains(&format!("Log key:          {key}")),
        "{stdout}"
    );
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    let (note, proof_text) = (read("checkpoint.txt"), read("inclusion-proof.json"));
    let proof: InclusionProof = serde_json::from_str(&proof_text).unwrap();

    let verify = |checkpoint: &str, proof: &str, key: &str| {
        std::fs::write(tmp.path().join("cp.txt"), checkpoint).unwrap();
        std::fs::write(tmp.path().join("proof.json"), proof).unwrap();
        let (code, out, err) = output(
            hallmark()
                .arg("verify")
                .arg(dir.join("passport.json"))
                .arg("--did-document")
                .arg(dir.join("did.json"))
                .arg("--checkpoint")
                .arg(tmp.path().join("cp.txt"))
                .arg("--proof")
                .arg(tmp.path().join("proof.json"))
                .args(["--log-key", key]),
        );
        (code, format!("{out}{err}"))
    };
    let (code, out) = verify(&note, &proof_text, &key);
    assert_eq!(code, 0, "{out}");
    for check in ["log-checkpoint", "log-leaf", "log-inclusion"] {
        assert!(out.contains(&format!("pass  {check}")), "{out}");
    }

    // One proof hash changed.
    let mut bad = proof.clone();
    bad.hashes[0].0[5] ^= 0x40;
    let (code, out) = verify(&note, &serde_json::to_string(&bad).unwrap(), &key);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL  log-inclusion"), "{out}");
    assert!(out.contains("pass  log-leaf"), "{out}");
    // Another index claimed for the same leaf.
    let mut bad = proof.clone();
    bad.leaf_index += 1;
    let (code, out) = verify(&note, &serde_json::to_string(&bad).unwrap(), &key);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL  log-inclusion"), "{out}");
    // A leaf that is not this credential's publish event (its bytes and hash replaced).
    let mut bad = proof.clone();
    let other = br#"{"action":"passport.published","detail":{"credentialSha256":{}}}"#;
    bad.leaf = Some({
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(other)
    });
    bad.leaf_hash = B64Hash(tlog::leaf_hash(other));
    let (code, out) = verify(&note, &serde_json::to_string(&bad).unwrap(), &key);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL  log-leaf"), "{out}");
    // The checkpoint's root changed (its signature no longer verifies).
    let mut lines: Vec<String> = note.lines().map(str::to_string).collect();
    lines[2] = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode([7u8; 32])
    };
    let (code, out) = verify(&(lines.join("\n") + "\n"), &proof_text, &key);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL  log-checkpoint"), "{out}");
    // Another key under the log's name.
    let stranger = VerifierKey::new(
        "localhost:8080/log",
        ed25519_dalek::SigningKey::from_bytes(&[1; 32]).verifying_key(),
    )
    .unwrap()
    .to_string();
    let (code, out) = verify(&note, &proof_text, &stranger);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL  log-checkpoint"), "{out}");
    // Unusable inputs are usage errors.
    let (code, out) = verify(&note, "{}", &key);
    assert_eq!(code, 2, "{out}");
    let (code, out) = verify(&note, &proof_text, "not-a-key");
    assert_eq!(code, 2, "{out}");

    // Run the demo again: a newer checkpoint; the log extends the old one.
    let (code, stdout, stderr) = output(hallmark().args(["demo", "--no-serve", "--dir"]).arg(&dir));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let new_note = read("checkpoint.txt");
    let vkey = VerifierKey::parse(&key).unwrap();
    let (old_cp, new_cp) = (
        tlog::open_checkpoint(&note, &vkey).unwrap(),
        tlog::open_checkpoint(&new_note, &vkey).unwrap(),
    );
    assert!(new_cp.size > old_cp.size);
    let leaves = rt().block_on(async {
        let store = hallmark_store::SqliteStore::open(dir.join("hallmark.db"))
            .await
            .unwrap();
        hallmark_store::Store::list_leaf_hashes(&store, 0, 10_000)
            .await
            .unwrap()
    });
    let consistency = |old: u64, new: u64| ConsistencyProof {
        old_size: old,
        new_size: new,
        hashes: tlog::consistency_proof(&leaves, old, new)
            .unwrap()
            .into_iter()
            .map(B64Hash)
            .collect(),
    };
    let check = |old: &str, new: &str, proof: &ConsistencyProof| {
        std::fs::write(tmp.path().join("old.txt"), old).unwrap();
        std::fs::write(tmp.path().join("new.txt"), new).unwrap();
        std::fs::write(
            tmp.path().join("consistency.json"),
            serde_json::to_vec(proof).unwrap(),
        )
        .unwrap();
        let (code, out, err) = output(
            hallmark()
                .args(["log", "verify-consistency", "--old"])
                .arg(tmp.path().join("old.txt"))
                .arg("--new")
                .arg(tmp.path().join("new.txt"))
                .arg("--proof")
                .arg(tmp.path().join("consistency.json"))
                .args(["--log-key", &key]),
        );
        (code, format!("{out}{err}"))
    };
    let good = consistency(old_cp.size, new_cp.size);
    let (code, out) = check(&note, &new_note, &good);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("pass  log-consistency") && out.contains("CONSISTENT"),
        "{out}"
    );
    let mut bad = good.clone();
    bad.hashes[0].0[0] ^= 1;
    let (code, out) = check(&note, &new_note, &bad);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL  log-consistency"), "{out}");
    let (code, out) = check(&new_note, &note, &good);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("FAIL  log-consistency"), "{out}");
}

/// A complete, safe production environment (PostgreSQL URLs supplied by the caller).
fn production_env(
    dir: &Path,
    app_url: &str,
    migration_url: &str,
    public: u16,
    admin: u16,
) -> Vec<(String, String)> {
    let keystore = dir.join("keys.json");
    if !keystore.exists() {
        Keystore::create(
            &keystore,
            &SecretString::from("Keystore-Passphrase-Distinct-7c1e"),
            KdfParams::FLOOR,
            time::OffsetDateTime::now_utc(),
        )
        .unwrap();
    }
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    [
        (
            "HALLMARK_PUBLIC_BASE_URL",
            "https://dpp.example.com".to_string(),
        ),
        ("HALLMARK_PUBLIC_LISTEN", format!("127.0.0.1:{public}")),
        ("HALLMARK_ADMIN_LISTEN", format!("127.0.0.1:{admin}")),
        ("HALLMARK_DATA_DIR", data.display().to_string()),
        ("HALLMARK_DATABASE_URL", app_url.to_string()),
        ("HALLMARK_DATABASE_MIGRATION_URL", migration_url.to_string()),
        ("HALLMARK_KEYSTORE_PATH", keystore.display().to_string()),
        (
            "HALLMARK_KEYSTORE_PASSPHRASE",
            "Keystore-Passphrase-Distinct-7c1e".to_string(),
        ),
        ("HALLMARK_ADMIN_USERNAME", "operator".to_string()),
        (
            "HALLMARK_ADMIN_PASSWORD",
            "Admin-Password-Distinct-4b9d".to_string(),
        ),
        ("HALLMARK_LOG_LEVEL", "trace".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

pub(super) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn serve_refuses_unsafe_configuration_with_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let good = production_env(
        tmp.path(),
        "postgres://app@127.0.0.1:5432/hallmark",
        "postgres://owner@127.0.0.1:5432/hallmark",
        18080,
        18081,
    );
    let cases: &[(&str, Option<&str>, &str)] = &[
        ("HALLMARK_DATABASE_URL", None, "HALLMARK_DATABASE_URL"),
        (
            "HALLMARK_KEYSTORE_PASSPHRASE",
            None,
            "HALLMARK_KEYSTORE_PASSPHRASE",
        ),
        ("HALLMARK_PUBLIC_BASE_URL", None, "HALLMARK_PUBLIC_BASE_URL"),
        ("HALLMARK_ADMIN_PASSWORD", None, "HALLMARK_ADMIN_PASSWORD"),
        (
            "HALLMARK_ADMIN_PASSWORD",
            Some(hallmark_node::config::DEMO_ADMIN_PASSWORD),
            "HALLMARK_ADMIN_PASSWORD",
        ),
        (
            "HALLMARK_KEYSTORE_PASSPHRASE",
            Some(hallmark_node::config::DEMO_KEYSTORE_PASSPHRASE),
            "HALLMARK_KEYSTORE_PASSPHRASE",
        ),
        (
            "HALLMARK_ADMIN_LISTEN",
            Some("0.0.0.0:18081"),
            "HALLMARK_ADMIN",
        ),
        (
            "HALLMARK_PLUGIN_ALLOW_UNSIGNED",
            Some("true"),
            "HALLMARK_PLUGIN_ALLOW_UNSIGNED",
        ),
    ];
    for (var, value, needle) in cases {
        let mut c = hallmark();
        c.arg("serve");
        for (k, v) in &good {
            if k != var {
                c.env(k, v);
            }
        }
        if let Some(v) = value {
            c.env(var, v);
        }
        let (code, stdout, stderr) = output(&mut c);
        assert_eq!(code, 2, "{var}={value:?}: {stdout}{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{var}: {stderr}");
        assert!(stderr.contains(needle), "{var}: {stderr}");
        assert!(!stderr.contains("Distinct"), "a secret leaked: {stderr}");
    }
}

#[test]
fn serve_refuses_a_plugin_that_does_not_verify_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    let committed = concat!(env!("CARGO_MANIFEST_DIR"), "/../../plugins/battery/");
    let mut wasm = std::fs::read(format!("{committed}battery.wasm")).unwrap();
    let last = wasm.len() - 1;
    wasm[last] ^= 1;
    std::fs::write(plugins.join("battery.wasm"), &wasm).unwrap();
    std::fs::copy(
        format!("{committed}battery.manifest.json"),
        plugins.join("battery.manifest.json"),
    )
    .unwrap();
    let good = production_env(
        tmp.path(),
        "postgres://app@127.0.0.1:5432/hallmark",
        "postgres://owner@127.0.0.1:5432/hallmark",
        free_port(),
        free_port(),
    );
    let mut c = hallmark();
    c.arg("serve")
        .envs(good)
        .env("HALLMARK_LOG_LEVEL", "error")
        .env("HALLMARK_PLUGIN_DIR", &plugins)
        .env(
            "HALLMARK_PLUGIN_TRUSTED_KEYS",
            format!("{committed}publisher.pub"),
        );
    let (code, stdout, stderr) = output(&mut c);
    // Refused before the database is opened (the URLs above lead nowhere).
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&plugins.join("battery.wasm").display().to_string()),
        "{stderr}"
    );
    assert!(stderr.contains("does not match manifest"), "{stderr}");
}

#[test]
fn serve_refuses_a_trusted_key_file_in_the_plugin_dir_or_writable_by_others() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    std::fs::create_dir(&plugins).unwrap();
    let committed = concat!(env!("CARGO_MANIFEST_DIR"), "/../../plugins/battery/");
    for f in ["battery.wasm", "battery.manifest.json", "publisher.pub"] {
        std::fs::copy(format!("{committed}{f}"), plugins.join(f)).unwrap();
    }
    let outside = tmp.path().join("publisher.pub");
    std::fs::copy(format!("{committed}publisher.pub"), &outside).unwrap();
    std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o666)).unwrap();
    let good = production_env(
        tmp.path(),
        "postgres://app@127.0.0.1:5432/hallmark",
        "postgres://owner@127.0.0.1:5432/hallmark",
        free_port(),
        free_port(),
    );
    for (key, needle) in [
        (plugins.join("publisher.pub"), "inside HALLMARK_PLUGIN_DIR"),
        (outside.clone(), "writable by group and others"),
    ] {
        let mut c = hallmark();
        c.arg("serve")
            .envs(good.clone())
            .env("HALLMARK_PLUGIN_DIR", &plugins)
            .env("HALLMARK_PLUGIN_TRUSTED_KEYS", &key);
        let (code, stdout, stderr) = output(&mut c);
        // A configuration error: exit 2, one line naming the file, nothing opened.
        assert_eq!(code, 2, "{stdout}{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(&key.display().to_string()), "{stderr}");
        assert!(stderr.contains(needle), "{stderr}");
    }
}

pub(super) fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn pg_url(role: &str, password: Option<&str>, db: &str) -> String {
    let o = pg::admin_options();
    let auth = match password {
        Some(p) => format!("{role}:{p}"),
        None => role.to_string(),
    };
    format!("postgres://{auth}@{}:{}/{db}", o.get_host(), o.get_port())
}

#[test]
fn serve_refuses_an_over_privileged_app_role() {
    let rt = rt();
    let db = rt.block_on(pg::PgDb::new());
    let tmp = tempfile::tempdir().unwrap();
    let superuser = pg::admin_options().get_username().to_string();
    let env = production_env(
        tmp.path(),
        &pg_url(&superuser, None, &db.database),
        &pg_url(&db.migration_role, None, &db.database),
        free_port(),
        free_port(),
    );
    let (code, stdout, stderr) = output(hallmark().arg("serve").envs(env));
    assert_eq!(code, 1, "{stdout}{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("hallmark serve: database:"), "{stderr}");
    assert!(last.contains("superuser"), "{stderr}");
    drop(db);
}

#[test]
fn no_secret_reaches_stdout_or_stderr_at_trace_level() {
    let rt = rt();
    let db = rt.block_on(pg::PgDb::new());
    let tmp = tempfile::tempdir().unwrap();
    let db_password = "Db-Password-Distinct-2f8a";
    let (public, admin) = (free_port(), free_port());
    let env = production_env(
        tmp.path(),
        &pg_url(&db.app_role, Some(db_password), &db.database),
        &pg_url(&db.migration_role, Some(db_password), &db.database),
        public,
        admin,
    );
    let mut child = hallmark()
        .arg("serve")
        .envs(env)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read both pipes while the node runs: at trace level it writes more than a pipe holds
    // (the migrations' SQL alone), and a full pipe would stall it mid-start-up.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                std::io::Read::read_to_string(&mut pipe, &mut text).unwrap();
            }
            text
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let admin_url = format!("http://127.0.0.1:{admin}");
    let public_url = format!("http://127.0.0.1:{public}");
    let mut api_key = String::new();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let mut up = false;
        for _ in 0..1200 {
            if let Ok(r) = client.get(format!("{public_url}/health")).send().await {
                up = r.status().is_success();
                if up {
                    break;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(up, "node did not come up");
        let login = |pass: &str| {
            client
                .post(format!("{admin_url}/api/v1/api-keys"))
                .basic_auth("operator", Some(pass))
                .header("content-type", "application/json")
                .body(r#"{"scope":"admin","label":"log test"}"#)
        };
        // Failure paths: wrong admin password, malformed and near-miss keys.
        assert_eq!(login("wrong-password").send().await.unwrap().status(), 401);
        let r = login("Admin-Password-Distinct-4b9d").send().await.unwrap();
        assert_eq!(r.status(), 201);
        let v: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
        api_key = v["key"].as_str().unwrap().to_string();
        let me = client
            .get(format!("{admin_url}/api/v1/whoami"))
            .bearer_auth(&api_key)
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), 200);
        let mut near = api_key.clone().into_bytes();
        near[30] = if near[30] == b'a' { b'b' } else { b'a' };
        let near = String::from_utf8(near).unwrap();
        let r = client
            .get(format!("{admin_url}/api/v1/whoami"))
            .bearer_auth(&near)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        let r = client
            .post(format!("{admin_url}/api/v1/signing-keys/rotate"))
            .bearer_auth(&api_key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let r = client
            .get(format!("{public_url}/.well-known/did.json"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    });
    // Graceful shutdown on SIGTERM.
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    let text = format!("{}{}", stdout.join().unwrap(), stderr.join().unwrap());
    assert!(exit.success(), "{text}");
    assert!(
        text.contains("listening") || text.contains("public listener"),
        "{text}"
    );
    for secret in [
        db_password,
        "Keystore-Passphrase-Distinct-7c1e",
        "Admin-Password-Distinct-4b9d",
        api_key.as_str(),
        &api_key[28..60],
    ] {
        assert!(
            !text.contains(secret),
            "secret {secret:?} appeared in the output"
        );
    }
    drop(db);
}

/// Waits until `url` answers 200 (a node coming up), at most 60 s (a debug build compiling
/// its plugins on a loaded machine).
pub(super) fn wait_up(rt: &tokio::runtime::Runtime, url: &str) {
    rt.block_on(async {
        for _ in 0..1200 {
            if let Ok(r) = reqwest::get(url).await {
                if r.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("{url} did not come up");
    });
}

/// A call to a node's admin API with the development login.
pub(super) fn admin_call(
    rt: &tokio::runtime::Runtime,
    admin: u16,
    path: &str,
    body: Option<serde_json::Value>,
) -> serde_json::Value {
    rt.block_on(async {
        let mut req = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{admin}/api/v1{path}"))
            .basic_auth(
                hallmark_node::config::DEMO_ADMIN_USERNAME,
                Some(hallmark_node::config::DEMO_ADMIN_PASSWORD),
            );
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&b).unwrap());
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let bytes = r.bytes().await.unwrap();
        assert!(
            status.is_success(),
            "{path}: {status} {}",
            String::from_utf8_lossy(&bytes)
        );
        serde_json::from_slice(&bytes).unwrap()
    })
}

fn kill(child: &std::process::Child) {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
}

/// `verify --from` takes the DID document from where did:web says — https on the DID's
/// own host — or, explicitly and with a warning, from `--did-document-from`; never from
/// the node it checks. A node at one address serving a credential under another host's
/// DID is not valid. The served status is the `served-status` check, with its own exit code (3).
#[test]
fn verify_from_a_running_demo_node() {
    use std::io::{BufRead, BufReader};
    let tmp = tempfile::tempdir().unwrap();
    let (public, admin) = (free_port(), free_port());
    let mut child = hallmark()
        .args(["demo", "--dir"])
        .arg(tmp.path().join("hallmark-demo"))
        .args(["--public-port", &public.to_string()])
        .args(["--admin-port", &admin.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut url = None;
    let mut printed = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if let Some(u) = line.trim().strip_prefix("Public passport:") {
            url = Some(u.trim().to_string());
        }
        if line.contains("Serving until Ctrl-C") {
            break;
        }
    }
    let url = url.expect("the demo printed a passport URL");
    assert!(url.starts_with(&format!("http://localhost:{public}/passports/")));
    let did_url = format!("http://localhost:{public}/.well-known/did.json");
    // The demo prints the development escape hatch it needs.
    assert!(
        printed.contains(&format!("--from {url} --did-document-from {did_url}")),
        "{printed}"
    );
    let rt = rt();
    let log_key = rt.block_on(async {
        let r = reqwest::get(format!("http://127.0.0.1:{public}/log/key"))
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.text().await.unwrap().trim_end().to_string()
    });

    // A second node, `serve --profile development` started in an empty directory, at
    // 127.0.0.1:<forger> but configured with the demo's base URL: it issues credentials
    // under the demo's DID, signed with its own keys.
    let forger_dir = tmp.path().join("forger");
    std::fs::create_dir(&forger_dir).unwrap();
    let (f_public, f_admin) = (free_port(), free_port());
    let forger = hallmark()
        .args(["serve", "--profile", "development"])
        .current_dir(&forger_dir)
        .env("HALLMARK_PUBLIC_LISTEN", format!("127.0.0.1:{f_public}"))
        .env("HALLMARK_ADMIN_LISTEN", format!("127.0.0.1:{f_admin}"))
        .env(
            "HALLMARK_PUBLIC_BASE_URL",
            format!("http://localhost:{public}"),
        )
        .env("HALLMARK_LOG_LEVEL", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_up(&rt, &format!("http://127.0.0.1:{f_public}/health"));
    assert!(forger_dir
        .join("hallmark-demo")
        .join("hallmark-keys.json")
        .is_file());
    let draft = serde_json::json!({
        "uniqueProductIdentifier": { "gtin": "09506000134352", "serial": "FORGED-1" },
        "granularity": "item",
        "economicOperatorId": "urn:eori:DE123456789012345",
        "sector": { "id": "generic", "schemaVersion": "1.0.0" },
        "data": { "public": { "material": "oak" } },
    });
    let forged = admin_call(&rt, f_admin, "/passports", Some(draft));
    let forged_id = forged["id"].as_str().unwrap().to_string();
    admin_call(
        &rt,
        f_admin,
        &format!("/passports/{forged_id}/publish"),
        None,
    );
    let forged_url = format!("http://127.0.0.1:{f_public}/passports/{forged_id}");

    let verify = |args: &[&str]| output(hallmark().arg("verify").args(args));
    // By default the DID is resolved over https from its own host (localhost:<demo>,
    // which speaks plain http): not valid, and the report says where it looked.
    let (code, out, err) = verify(&["--from", &forged_url]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(&format!(
            "FAIL  did-document          https://localhost:{public}/.well-known/did.json"
        )),
        "{out}"
    );
    assert!(out.ends_with("INVALID\n"), "{out}");
    // With the issuer's own document the forgery fails: its key is not the issuer's.
    let (code, out, err) = verify(&["--from", &forged_url, "--did-document-from", &did_url]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("WARN  did-document"), "{out}");
    assert!(out.contains("FAIL  key"), "{out}");
    // The forger's own DID document names the demo's DID, but only an explicit
    // --did-document-from can make it count, and the report warns.
    let forged_doc = format!("http://127.0.0.1:{f_public}/.well-known/did.json");
    let (_, out, _) = verify(&["--from", &forged_url, "--did-document-from", &forged_doc]);
    assert!(
        out.contains(&format!(
            "WARN  did-document          {forged_doc} (--did-document-from"
        )),
        "{out}"
    );
    kill(&forger);
    let forger_out = forger.wait_with_output().unwrap();
    assert!(
        forger_out.status.success(),
        "{}",
        String::from_utf8_lossy(&forger_out.stderr)
    );

    // The demo's own flow verifies with the explicit escape hatch.
    let hatch = ["--did-document-from", did_url.as_str()];
    let mut results: Vec<_> = [false, true]
        .into_iter()
        .map(|jwt| {
            let mut c = hallmark();
            c.args(["verify", "--from", &url]).args(hatch);
            if jwt {
                c.arg("--jwt");
            }
            output(&mut c)
        })
        .collect();
    // With the log key, the checkpoint and the proof are fetched and checked too.
    let (code, out, err) = output(
        hallmark()
            .args(["verify", "--from", &url, "--log-key", &log_key])
            .args(hatch),
    );
    assert!(out.contains("pass  log-inclusion"), "{out}{err}");
    results.push((code, out, err));
    for (code, out, err) in &results {
        assert_eq!(*code, 0, "{out}{err}");
        assert!(out.contains("WARN  did-document"), "{out}");
        assert!(
            out.contains("pass  served-status         published"),
            "{out}"
        );
        assert!(out.contains("pass  validity"), "{out}");
        assert!(out.ends_with("VALID\n"), "{out}");
    }

    // A copy of the credential and the issuer's DID document, saved before the suspension
    // (as a recycler would keep them), and the status lists the copy names.
    let fetch = |u: &str| {
        rt.block_on(async {
            let r = reqwest::Client::new()
                .get(u)
                .header("accept", "application/vc+ld+json")
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{u}");
            r.bytes().await.unwrap().to_vec()
        })
    };
    let copy_path = tmp.path().join("copy.json");
    let copy = fetch(&url);
    std::fs::write(&copy_path, &copy).unwrap();
    let did_path = tmp.path().join("did.json");
    std::fs::write(&did_path, fetch(&did_url)).unwrap();
    let copy: serde_json::Value = serde_json::from_slice(&copy).unwrap();
    let list_urls: Vec<String> = copy["credentialStatus"]
        .as_array()
        .expect("a credential issued now names its status lists")
        .iter()
        .map(|e| e["statusListCredential"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(list_urls.len(), 2);
    let save_lists = |tag: &str| -> Vec<std::path::PathBuf> {
        list_urls
            .iter()
            .enumerate()
            .map(|(i, u)| {
                let path = tmp.path().join(format!("list-{tag}-{i}.json"));
                std::fs::write(&path, fetch(u)).unwrap();
                path
            })
            .collect()
    };
    let verify_copy = |lists: &[std::path::PathBuf]| {
        let mut c = hallmark();
        c.arg("verify")
            .arg(&copy_path)
            .arg("--did-document")
            .arg(&did_path);
        for l in lists {
            c.arg("--status-list").arg(l);
        }
        output(&mut c)
    };
    let (code, out, err) = verify_copy(&save_lists("before"));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("pass  status "), "{out}");

    // Status: suspended (410, credential withheld), then archived — exit 3, named.
    let id = url.rsplit('/').next().unwrap();
    admin_call(
        &rt,
        admin,
        &format!("/passports/{id}/suspend"),
        Some(serde_json::json!({ "reason": "under investigation" })),
    );
    let (code, out, err) = output(hallmark().args(["verify", "--from", &url]).args(hatch));
    assert_eq!(code, 3, "{out}{err}");
    assert!(
        out.contains("FAIL  served-status         suspended (HTTP 410")
            && out.contains("under investigation"),
        "{out}"
    );
    assert!(
        out.ends_with("NOT IN FORCE: the passport is suspended\n"),
        "{out}"
    );
    // The copy saved before the suspension, checked offline against the lists as they are
    // now: suspended, exit 3 — without asking the node about the credential.
    let (code, out, err) = verify_copy(&save_lists("suspended"));
    assert_eq!(code, 3, "{out}{err}");
    assert!(
        out.contains("FAIL  status ") && out.contains("suspended"),
        "{out}"
    );
    admin_call(&rt, admin, &format!("/passports/{id}/resume"), None);
    admin_call(
        &rt,
        admin,
        &format!("/passports/{id}/archive"),
        Some(serde_json::json!({})),
    );
    let (code, out, err) = output(
        hallmark()
            .args(["verify", "--json", "--from", &url])
            .args(hatch),
    );
    assert_eq!(code, 3, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["verdict"]["verdict"], "not-in-force");
    assert_eq!(report["verdict"]["status"], "archived");
    assert_eq!(report["servedStatus"], "archived");

    kill(&child);
    let status = child.wait().unwrap();
    assert!(status.success());
    // Nothing listens here: an I/O error, exit 2.
    let (code, _, err) = output(hallmark().args([
        "verify",
        "--from",
        &format!("https://127.0.0.1:{}/passports/x", free_port()),
    ]));
    assert_eq!(code, 2);
    assert!(err.contains("cannot connect"), "{err}");
}

const SOFTHSM: &str = "/usr/lib/softhsm/libsofthsm2.so";

#[test]
fn serve_signs_with_an_hsm_and_credentials_verify_across_a_rotation() {
    assert!(
        Path::new(SOFTHSM).is_file(),
        "SoftHSM2 is not installed ({SOFTHSM} missing): run scripts/test"
    );
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("tokens")).unwrap();
    let conf = tmp.path().join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tmp.path().join("tokens").display()
        ),
    )
    .unwrap();
    let pin = "node-pin-31337";
    let ok = Command::new("softhsm2-util")
        .env("SOFTHSM2_CONF", &conf)
        .args([
            "--init-token",
            "--free",
            "--label",
            "node-token",
            "--pin",
            pin,
        ])
        .args(["--so-pin", "so-77120"])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let hsm_env = [
        ("SOFTHSM2_CONF", conf.display().to_string()),
        ("HALLMARK_HSM_MODULE", SOFTHSM.to_string()),
        ("HALLMARK_HSM_TOKEN", "node-token".to_string()),
        ("HALLMARK_HSM_PIN", pin.to_string()),
    ];
    let (code, _, err) = output(
        hallmark()
            .args(["keys", "hsm", "init"])
            .envs(hsm_env.clone()),
    );
    assert_eq!(code, 0, "{err}");

    let (public, admin) = (free_port(), free_port());
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let child = hallmark()
        .arg("serve")
        .envs(hsm_env)
        // With an HSM, the row-authentication keys come from this secret (32 bytes, base64).
        .env(
            "HALLMARK_NODE_SECRET",
            "q2wTQ3h0Ty1ub2RlLXNlY3JldC1mb3ItdGhlLWhzbS10ZXN0",
        )
        .env("HALLMARK_PUBLIC_BASE_URL", "https://dpp.example.com")
        .env("HALLMARK_PUBLIC_LISTEN", format!("127.0.0.1:{public}"))
        .env("HALLMARK_ADMIN_LISTEN", format!("127.0.0.1:{admin}"))
        .env("HALLMARK_DATA_DIR", data.display().to_string())
        .env(
            "HALLMARK_DATABASE_URL",
            format!("sqlite:{}", data.join("hallmark.db").display()),
        )
        .env("HALLMARK_ADMIN_USERNAME", "operator")
        .env("HALLMARK_ADMIN_PASSWORD", "Admin-Password-For-Hsm-Test")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rt = rt();
    let result = rt.block_on(async {
        let client = reqwest::Client::new();
        let public_url = format!("http://127.0.0.1:{public}");
        let admin_url = format!("http://127.0.0.1:{admin}/api/v1");
        let mut up = false;
        for _ in 0..1200 {
            if let Ok(r) = client.get(format!("{public_url}/health")).send().await {
                if r.status().is_success() {
                    let v: serde_json::Value =
                        serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
                    assert_eq!(v["signing"], "ok");
                    up = true;
                    break;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        if !up {
            return Err("node did not come up".to_string());
        }
        let call = |method: reqwest::Method, path: &str, body: Option<serde_json::Value>| {
            let mut req = client
                .request(method, format!("{admin_url}{path}"))
                .basic_auth("operator", Some("Admin-Password-For-Hsm-Test"));
            if let Some(b) = body {
                req = req
                    .header("content-type", "application/json")
                    .body(serde_json::to_vec(&b).unwrap());
            }
            req
        };
        let drafts = demo_like_drafts();
        let mut ids = Vec::new();
        for (i, d) in drafts.into_iter().enumerate() {
            let r = call(reqwest::Method::POST, "/passports", Some(d))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            let v: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
            let id = v["id"].as_str().unwrap().to_string();
            let r = call(
                reqwest::Method::POST,
                &format!("/passports/{id}/publish"),
                None,
            )
            .send()
            .await
            .unwrap();
            let status = r.status();
            assert_eq!(
                status,
                200,
                "{}",
                String::from_utf8_lossy(&r.bytes().await.unwrap())
            );
            ids.push(id);
            if i == 0 {
                let r = call(reqwest::Method::POST, "/signing-keys/rotate", None)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
            }
        }
        let did = client
            .get(format!("{public_url}/.well-known/did.json"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let did = hallmark_core::did::DidDocument::from_json(&did).unwrap();
        assert_eq!(did.verification_method.len(), 2);
        for id in &ids {
            let cred = client
                .get(format!("{public_url}/passports/{id}"))
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            let report = hallmark_core::verify::verify(&cred, &did);
            assert!(report.is_valid(), "{report}");
        }
        // The log's checkpoints are signed inside the token with the log-checkpoint key.
        let text = |url: String| {
            let client = client.clone();
            async move {
                let r = client.get(url).send().await.unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            }
        };
        let (status, vkey) = text(format!("{public_url}/log/key")).await;
        assert_eq!(status, 200);
        let vkey = hallmark_core::tlog::VerifierKey::parse(vkey.trim_end()).unwrap();
        assert_eq!(vkey.name(), "dpp.example.com/log");
        let mut signed = None;
        for _ in 0..600 {
            let (status, note) = text(format!("{public_url}/log/checkpoint")).await;
            if status == 200 {
                let cp = hallmark_core::tlog::open_checkpoint(&note, &vkey).unwrap();
                if cp.size >= 2 * ids.len() as u64 {
                    signed = Some(cp);
                    break;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        if signed.is_none() {
            return Err("no checkpoint covering the publications".to_string());
        }
        Ok(())
    });
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    result.unwrap_or_else(|e| panic!("{e}: {text}"));
    assert!(out.status.success(), "{text}");
    assert!(!text.contains(pin));
}

/// Two item-level passports with the demo EV battery's data (`demo/ev-battery.json`).
fn demo_like_drafts() -> Vec<serde_json::Value> {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/demo/ev-battery.json"))
            .unwrap();
    let ev: serde_json::Value = serde_json::from_str(&text).unwrap();
    (1..=2)
        .map(|n| {
            let mut draft = ev.clone();
            draft["uniqueProductIdentifier"]["serial"] = format!("HSM-{n}").into();
            draft
        })
        .collect()
}

//! `hallmark keys …` as an operator runs it: real files in a temporary directory, real
//! processes, exit codes, and the passphrase never echoed.

use secrecy::ExposeSecret as _;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

const PASS: &str = "cli-test-passphrase-Qx7!";
const FLOOR: [&str; 4] = ["--kdf-memory-mib", "19", "--kdf-iterations", "2"];

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn hallmark(dir: &Path, pass: Option<&str>, args: &[&str]) -> Out {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hallmark"));
    // The default keystore is `<HALLMARK_DATA_DIR>/hallmark-keys.json`, as for `serve`.
    cmd.current_dir(dir).args(args);
    cmd.env("HALLMARK_DATA_DIR", dir);
    cmd.env_remove("HALLMARK_KEYSTORE_PATH");
    cmd.env_remove("HALLMARK_KEYSTORE_PASSPHRASE");
    if let Some(p) = pass {
        cmd.env("HALLMARK_KEYSTORE_PASSPHRASE", p);
    }
    let out = cmd.output().unwrap();
    let out = Out {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    };
    assert!(
        !out.stdout.contains(PASS) && !out.stderr.contains(PASS),
        "passphrase printed by {args:?}"
    );
    out
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = hallmark(dir, Some(PASS), args);
    assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
    out.stdout
}

fn events(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn rows(dir: &Path, keystore: &str) -> Vec<Vec<String>> {
    ok(dir, &["keys", "list", "--keystore", keystore])
        .lines()
        .skip(1)
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

fn current(rows: &[Vec<String>], purpose: &str) -> String {
    rows.iter()
        .find(|r| r[1] == purpose && r[2] == "current")
        .unwrap()[0]
        .clone()
}

#[test]
fn keys_lifecycle_through_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();

    // Refuses to run without a passphrase, or with an empty one.
    let out = hallmark(dir, None, &["keys", "init"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("HALLMARK_KEYSTORE_PASSPHRASE"),
        "{}",
        out.stderr
    );
    let out = hallmark(dir, Some(""), &["keys", "init"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("empty"), "{}", out.stderr);
    assert!(!dir.join("hallmark-keys.json").exists());

    // init, at the default path.
    let mut args = vec!["keys", "init"];
    args.extend(FLOOR);
    let init = events(&ok(dir, &args));
    assert_eq!(init.len(), 3);
    assert!(init
        .iter()
        .all(|e| e["event"] == "generated" && e["backend"] == "file"));
    let keystore = dir.join("hallmark-keys.json");
    let mode = std::fs::metadata(&keystore).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let out = hallmark(dir, Some(PASS), &args);
    assert_eq!(out.code, 1, "init over an existing keystore");
    assert!(out.stderr.contains("already exists"));

    // list
    let ks = "hallmark-keys.json";
    let listed = rows(dir, ks);
    assert_eq!(listed.len(), 3);
    for purpose in ["passport-signing", "log-checkpoint", "node-request"] {
        let row = listed.iter().find(|r| r[1] == purpose).unwrap();
        assert_eq!((row[2].as_str(), row[3].as_str()), ("current", "file"));
        assert!(row[0].starts_with("z6Mk"));
    }
    let first = current(&listed, "passport-signing");

    // Wrong passphrase: exit 1, clear message.
    let out = hallmark(dir, Some("nope"), &["keys", "list"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("wrong passphrase"), "{}", out.stderr);

    // rotate
    let rotated = events(&ok(
        dir,
        &["keys", "rotate", "--purpose", "passport-signing"],
    ));
    assert_eq!(rotated[0]["event"], "rotated");
    assert_eq!(rotated[0]["retired"], first.as_str());
    let second = current(&rows(dir, ks), "passport-signing");
    assert_eq!(rotated[0]["current"], second.as_str());
    let listed = rows(dir, ks);
    let old = listed.iter().find(|r| r[0] == first).unwrap();
    assert_eq!(old[2], "retired");
    assert_ne!(old[5], "-", "retired time shown");

    // backup to an operator identity (refusing to overwrite).
    let operator = age::x25519::Identity::generate();
    let op_recipient = operator.to_public().to_string();
    std::fs::write(
        dir.join("operator.key"),
        format!("# operator\n{}\n", operator.to_string().expose_secret()),
    )
    .unwrap();
    let backed = events(&ok(
        dir,
        &[
            "keys",
            "backup",
            "--recipient",
            &op_recipient,
            "--out",
            "backup.age",
        ],
    ));
    assert_eq!(backed[0]["event"], "backed-up");
    assert_eq!(backed[0]["keys"].as_array().unwrap().len(), 4);
    let backup = std::fs::read(dir.join("backup.age")).unwrap();
    assert!(backup.starts_with(b"age-encryption.org/v1"));
    let mode = std::fs::metadata(dir.join("backup.age"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let out = hallmark(
        dir,
        Some(PASS),
        &[
            "keys",
            "backup",
            "--recipient",
            &op_recipient,
            "--out",
            "backup.age",
        ],
    );
    assert_eq!(out.code, 1);
    assert_eq!(std::fs::read(dir.join("backup.age")).unwrap(), backup);

    // restore into a second keystore: same keys.
    let mut args = vec![
        "keys",
        "restore",
        "--keystore",
        "restored.json",
        "--identity",
        "operator.key",
        "--in",
        "backup.age",
    ];
    args.extend(FLOOR);
    let restored = events(&ok(dir, &args));
    assert_eq!(restored[0]["event"], "restored");
    assert_eq!(restored[0]["keys"], backed[0]["keys"]);
    assert_eq!(rows(dir, "restored.json"), rows(dir, ks));

    // Offline ceremony: the node's recipient, a key generated without any keystore, import.
    let recipient = ok(dir, &["keys", "recipient"]).trim().to_string();
    assert!(recipient.starts_with("age1"));
    let offline = hallmark(
        dir,
        None,
        &[
            "keys",
            "generate",
            "--offline",
            "--purpose",
            "log-checkpoint",
            "--recipient",
            &recipient,
            "--out",
            "offline.age",
        ],
    );
    assert_eq!(offline.code, 0, "{}", offline.stderr);
    let public = offline.stdout.trim().to_string();
    assert!(
        public.starts_with("z6Mk") && !public.contains('\n'),
        "{public}"
    );
    let imported = events(&ok(dir, &["keys", "import", "--in", "offline.age"]));
    assert_eq!(imported[0]["event"], "imported");
    assert_eq!(imported[0]["key"], public.as_str());
    assert_eq!(current(&rows(dir, ks), "log-checkpoint"), public);
    let out = hallmark(
        dir,
        None,
        &[
            "keys",
            "generate",
            "--purpose",
            "log-checkpoint",
            "--recipient",
            &recipient,
            "--out",
            "x.age",
        ],
    );
    assert_eq!(out.code, 2, "generate without --offline");

    // revoke needs --reason; then the key is revoked with its reason.
    let out = hallmark(dir, Some(PASS), &["keys", "revoke", &second]);
    assert_eq!(out.code, 2, "revoke without --reason");
    let revoked = events(&ok(
        dir,
        &["keys", "revoke", &second, "--reason", "key ceremony"],
    ));
    assert_eq!(revoked[0]["event"], "revoked");
    assert_eq!(revoked[0]["reason"], "key ceremony");
    let listed = rows(dir, ks);
    let row = listed.iter().find(|r| r[0] == second).unwrap();
    assert_eq!(
        (row[2].as_str(), row[7].as_str()),
        ("revoked", "key ceremony")
    );
    assert!(!listed
        .iter()
        .any(|r| r[1] == "passport-signing" && r[2] == "current"));

    // A keystore readable by others is refused with the fix.
    std::fs::set_permissions(&keystore, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = hallmark(dir, Some(PASS), &["keys", "list"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("chmod 600"), "{}", out.stderr);

    // No file in the directory contains the passphrase or plaintext key material markers.
    for entry in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(PASS));
        assert!(!text.contains("secretKey"));
    }
}

/// One default keystore everywhere: `hallmark keys` uses the file `hallmark serve` opens —
/// `HALLMARK_KEYSTORE_PATH`, else `<HALLMARK_DATA_DIR>/hallmark-keys.json`, else
/// `/var/lib/hallmark/hallmark-keys.json` — and a missing one is answered with what to do.
#[test]
fn keys_default_to_the_keystore_serve_opens_and_a_missing_one_says_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |env: &[(&str, &Path)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hallmark"));
        cmd.current_dir(tmp.path())
            .args(["keys", "list"])
            .env_remove("HALLMARK_DATA_DIR")
            .env_remove("HALLMARK_KEYSTORE_PATH")
            .env("HALLMARK_KEYSTORE_PASSPHRASE", PASS);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (code, err) = run(&[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("no keystore at /var/lib/hallmark/hallmark-keys.json")
            && err.contains("hallmark keys init --keystore /var/lib/hallmark/hallmark-keys.json"),
        "{err}"
    );
    let data = tmp.path().join("data");
    let (_, err) = run(&[("HALLMARK_DATA_DIR", &data)]);
    assert!(
        err.contains(&format!(
            "no keystore at {}",
            data.join("hallmark-keys.json").display()
        )),
        "{err}"
    );
    let path = tmp.path().join("elsewhere.json");
    let (_, err) = run(&[
        ("HALLMARK_DATA_DIR", &data),
        ("HALLMARK_KEYSTORE_PATH", &path),
    ]);
    assert!(
        err.contains(&format!("no keystore at {}", path.display())),
        "{err}"
    );
}

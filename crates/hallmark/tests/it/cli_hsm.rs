//! `hallmark keys hsm …` against a real SoftHSM2 token, as an operator runs it.
//! Each invocation is its own process, so the token directory (SOFTHSM2_CONF) is per test.

use std::path::Path;
use std::process::Command;

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const PIN: &str = "cli-pin-60613";

struct Token {
    _dir: tempfile::TempDir,
    conf: std::path::PathBuf,
}

fn token(label: &str) -> Token {
    assert!(
        Path::new(MODULE).is_file(),
        "SoftHSM2 is not installed ({MODULE} missing): apt-get install softhsm2, or run scripts/test"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("tokens")).unwrap();
    let conf = dir.path().join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            dir.path().join("tokens").display()
        ),
    )
    .unwrap();
    let out = Command::new("softhsm2-util")
        .env("SOFTHSM2_CONF", &conf)
        .args([
            "--init-token",
            "--free",
            "--label",
            label,
            "--pin",
            PIN,
            "--so-pin",
            "so-99120",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Token { _dir: dir, conf }
}

fn hallmark(t: &Token, label: &str, pin: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hallmark"))
        .env("SOFTHSM2_CONF", &t.conf)
        .env("HALLMARK_HSM_MODULE", MODULE)
        .env("HALLMARK_HSM_TOKEN", label)
        .env("HALLMARK_HSM_PIN", pin)
        .env("HALLMARK_HSM_KEY_PREFIX", "node-a")
        .args(["keys", "hsm"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn events(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn hsm_lifecycle_through_the_cli() {
    let t = token("cli-token");
    let (code, out, err) = hallmark(&t, "cli-token", PIN, &["init"]);
    assert_eq!(code, 0, "{err}");
    let generated = events(&out);
    assert_eq!(generated.len(), 3);
    assert!(generated
        .iter()
        .all(|e| e["event"] == "generated" && e["backend"] == "pkcs11"));
    // init is idempotent: nothing new when every purpose has a key.
    let (code, out, _) = hallmark(&t, "cli-token", PIN, &["init"]);
    assert_eq!((code, out.as_str()), (0, ""));

    let (code, out, err) = hallmark(
        &t,
        "cli-token",
        PIN,
        &["rotate", "--purpose", "passport-signing"],
    );
    assert_eq!(code, 0, "{err}");
    let rotated = &events(&out)[0];
    assert_eq!(rotated["event"], "rotated");
    let retired = rotated["retired"].as_str().unwrap().to_string();

    let (code, out, err) = hallmark(
        &t,
        "cli-token",
        PIN,
        &["revoke", &retired, "--reason", "key ceremony audit"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(events(&out)[0]["event"], "revoked");

    let (code, out, _) = hallmark(&t, "cli-token", PIN, &["list", "--json"]);
    assert_eq!(code, 0);
    let keys: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(keys.len(), 4);
    let revoked: Vec<_> = keys.iter().filter(|k| k["status"] == "revoked").collect();
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0]["id"], retired.as_str());
    assert_eq!(revoked[0]["revocationReason"], "key ceremony audit");
    assert_eq!(keys.iter().filter(|k| k["status"] == "current").count(), 3);
    assert!(!out.contains(PIN));
}

#[test]
fn hsm_cli_fails_closed_and_never_prints_the_pin() {
    let t = token("pin-token");
    let wrong = "wrong-pin-44170";
    let (code, out, err) = hallmark(&t, "pin-token", wrong, &["init"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("HSM unavailable"), "{err}");
    assert!(!err.contains(wrong) && !out.contains(wrong));

    let (code, _, err) = hallmark(&t, "no-such-token", PIN, &["list"]);
    assert_eq!(code, 1);
    assert!(err.contains("HSM unavailable"), "{err}");
    assert!(!err.contains(PIN));

    let out = Command::new(env!("CARGO_BIN_EXE_hallmark"))
        .env_remove("HALLMARK_HSM_PIN")
        .env("HALLMARK_HSM_MODULE", MODULE)
        .env("HALLMARK_HSM_TOKEN", "pin-token")
        .args(["keys", "hsm", "list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("HALLMARK_HSM_PIN"));
}

//! `hallmark reader keygen`: a reader key file written once, 0600, whose public half and
//! fingerprint are what the command prints, and whose keys sign requests the node's
//! verifier accepts.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use ed25519_dalek::SigningKey;
use hallmark_core::httpsig;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

fn keygen(out: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hallmark"))
        .args(["reader", "keygen", "--out"])
        .arg(out)
        .env_clear()
        .output()
        .unwrap()
}

fn b64_32(v: &Value) -> [u8; 32] {
    URL_SAFE_NO_PAD
        .decode(v.as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

#[test]
fn reader_keygen_writes_a_private_key_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reader.json");
    let out = keygen(&path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let file: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(file["format"], "hallmark-reader-key");
    assert_eq!(file["version"], 1);

    // The seed derives the public key; the fingerprint is core's.
    let signing = SigningKey::from_bytes(&b64_32(&file["ed25519Seed"]));
    let verifying = signing.verifying_key();
    assert_eq!(b64_32(&file["ed25519PublicKey"]), verifying.to_bytes());
    let fp = httpsig::fingerprint(&verifying);
    assert_eq!(file["fingerprint"], fp.as_str());
    assert!(String::from_utf8_lossy(&out.stderr).contains(&fp));

    // The X25519 secret derives the JWK's x.
    let x_secret = x25519_dalek::StaticSecret::from(b64_32(&file["x25519Secret"]));
    let x_public = x25519_dalek::PublicKey::from(&x_secret);
    let jwk = &file["x25519PublicJwk"];
    assert_eq!(
        (jwk["kty"].as_str(), jwk["crv"].as_str()),
        (Some("OKP"), Some("X25519"))
    );
    assert_eq!(b64_32(&jwk["x"]), *x_public.as_bytes());

    // stdout is the public half only: no secret printed.
    let public = serde_json::json!({
        "ed25519PublicKey": file["ed25519PublicKey"],
        "fingerprint": file["fingerprint"],
        "x25519PublicJwk": file["x25519PublicJwk"],
    });
    assert_eq!(printed, public);
    let both = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for secret in ["ed25519Seed", "x25519Secret"] {
        assert!(
            !both.contains(file[secret].as_str().unwrap()),
            "{secret} printed"
        );
    }

    // The key signs a request the verifier accepts.
    let parts = httpsig::RequestParts::new("GET", "https", "dpp.example.com", "/p/1", None);
    let params =
        httpsig::SignatureParams::hallmark(1_800_000_000, 1_800_000_060, "n0nce-n0nce-n0nce", "r1");
    let covered = httpsig::Covered::for_request(&parts);
    let h = httpsig::sign(&parts, &covered, &params, &signing).unwrap();
    let parts = parts
        .with_header("Signature-Input", &h.signature_input)
        .with_header("Signature", &h.signature);
    httpsig::parse(&parts)
        .unwrap()
        .verify(
            &parts,
            &verifying,
            1_800_000_000,
            &httpsig::Policy::default(),
        )
        .unwrap();

    // Never overwritten; a second key is another key.
    let before = std::fs::read(&path).unwrap();
    let again = keygen(&path);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("reader.json"));
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let other = dir.path().join("other.json");
    assert!(keygen(&other).status.success());
    let other: Value = serde_json::from_slice(&std::fs::read(&other).unwrap()).unwrap();
    assert_ne!(other["ed25519Seed"], file["ed25519Seed"]);
    assert_ne!(other["x25519Secret"], file["x25519Secret"]);
}

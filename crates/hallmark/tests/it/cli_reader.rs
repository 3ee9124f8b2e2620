//! `hallmark reader keygen`: a reader key file written once, 0600, whose public half and
//! fingerprint are what the command prints, and whose keys sign requests the node's
//! verifier accepts. `hallmark reader register | status` and `hallmark fetch` against a real
//! node issuing under its own listener's URL (so the process signs what the node checks): a
//! reader's whole path from registration to revocation, and answers altered on the way
//! (sealed or plain) refused with nothing on stdout.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use ed25519_dalek::SigningKey;
use hallmark_core::httpsig;
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use super::cli_passport::{Cli, Out};
use hallmark_testkit as kit;
use kit::{basic, Backend, Node, TestNode};
use reqwest::Method;
use serde_json::json;
use std::collections::BTreeSet;

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

// ---------------------------------------------------------------------------------------
// `hallmark reader register | status` and `hallmark fetch` against a real node.

/// The product the reader's grant covers.
const GTIN_X: &str = "09506000134352";
/// Another product.
const GTIN_Y: &str = "09506000134369";

/// Publishes a battery passport of GTIN `gtin`; returns its id.
async fn publish(node: &Node, serial: &str, gtin: &str) -> String {
    let mut draft = kit::battery_draft(serial);
    draft["uniqueProductIdentifier"]["gtin"] = json!(gtin);
    node.publish_draft_as(&basic(), &draft).await
}

/// The leaves (JSON pointers) of a credential's passport data.
fn data_leaves(credential: &Value) -> BTreeSet<String> {
    fn walk(v: &Value, at: String, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => m
                .iter()
                .for_each(|(k, x)| walk(x, format!("{at}/{k}"), out)),
            Value::Array(a) => a
                .iter()
                .enumerate()
                .for_each(|(i, x)| walk(x, format!("{at}/{i}"), out)),
            _ => {
                out.insert(at);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(
        &credential["credentialSubject"]["data"],
        String::new(),
        &mut out,
    );
    out
}

/// Nothing on stdout.
fn silent(out: Out) -> Out {
    assert_eq!(out.stdout, "", "stdout; stderr:\n{}", out.stderr);
    out
}

fn in_a_year() -> String {
    (time::OffsetDateTime::now_utc() + time::Duration::days(365))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// A reader's whole path with the CLI: keygen, register (sidecar), status, the public tier
/// before approval, the legitimate-interest tier sealed and plain after it, nothing outside
/// its scope, nothing once revoked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_registers_reads_its_tier_sealed_and_loses_it_on_revocation() {
    let node = TestNode::new(Backend::Sqlite).own_base_url().start().await;
    let base = node.public.clone();
    let x = publish(&node, "SN-X", GTIN_X).await;
    let y = publish(&node, "SN-Y", GTIN_Y).await;
    let cli = Cli::new();
    let key = cli.path("reader.json");
    let key_arg = key.display().to_string();
    let did = format!("{base}/.well-known/did.json");
    let keygen = cli
        .run(&["reader", "keygen", "--out", &key_arg])
        .await
        .code(0);
    let fingerprint = keygen.json()["fingerprint"].as_str().unwrap().to_owned();

    // Registration: the id and fingerprint printed, the sidecar written beside the key.
    let out = cli
        .run(&[
            "reader",
            "register",
            "--reader-key",
            &key_arg,
            "--node",
            &format!("{base}/"),
            "--organisation",
            "Kreislauf Recycling GmbH",
            "--contact",
            "Erika Mustermann, +49 30 5550100",
            "--purpose",
            "recycling",
        ])
        .await
        .code(0);
    assert!(out.stdout.contains(&fingerprint), "{}", out.stdout);
    assert!(out.stdout.contains("operator"), "{}", out.stdout);
    let sidecar_path = cli.path("reader.json.nodes.json");
    let sidecar: Value = serde_json::from_slice(&std::fs::read(&sidecar_path).unwrap()).unwrap();
    let entry = &sidecar["nodes"][0];
    assert_eq!(entry["node"], base.as_str());
    let id = entry["readerId"].as_str().unwrap().to_owned();
    assert!(out.stdout.contains(&id), "{}", out.stdout);
    time::OffsetDateTime::parse(
        entry["registeredAt"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let mode = std::fs::metadata(&sidecar_path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o644);
    // The key file is as keygen wrote it.
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // A key registers once: 409, exit 5.
    let again = cli
        .run(&[
            "reader",
            "register",
            "--reader-key",
            &key_arg,
            "--node",
            &base,
            "--organisation",
            "Kreislauf",
            "--contact",
            "x",
            "--purpose",
            "recycling",
        ])
        .await
        .code(5);
    assert!(again.stderr.contains("409"), "{}", again.stderr);
    // A purpose that is not one: clap refuses it (exit 2).
    cli.run(&[
        "reader",
        "register",
        "--reader-key",
        &key_arg,
        "--node",
        &base,
        "--organisation",
        "K",
        "--contact",
        "x",
        "--purpose",
        "curiosity",
    ])
    .await
    .code(2);

    // Status: registered, nothing granted.
    let status = |json: bool| {
        let mut args: Vec<&str> = vec![
            "reader",
            "status",
            "--reader-key",
            key_arg.as_str(),
            "--node",
            base.as_str(),
        ];
        if json {
            args.push("--json");
        }
        let cli = &cli;
        async move { cli.run(&args).await }
    };
    let out = status(false).await.code(0);
    assert!(out.stdout.contains("registered"), "{}", out.stdout);
    let v = status(true).await.code(0).json();
    assert_eq!(v["id"], id.as_str());
    assert_eq!(v["status"], "registered");
    assert_eq!(v["fingerprint"], fingerprint.as_str());
    assert_eq!(v["encryptionKey"], true);
    assert!(v["grant"].is_null(), "{v}");
    assert_eq!(v["admitted"], false);

    // Before approval: the public tier, said so.
    let fetch = |url: String, extra: &'static [&'static str]| {
        let mut args: Vec<String> = vec![
            "fetch".into(),
            "--reader-key".into(),
            key_arg.clone(),
            "--did-document-from".into(),
            did.clone(),
        ];
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args.push(url);
        let cli = &cli;
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            cli.run(&args).await
        }
    };
    let x_url = format!("{base}/passports/{x}");
    let v1 = format!("{base}/passports/{x}/versions/1");
    let out = fetch(x_url.clone(), &[]).await.code(0);
    assert!(out.stderr.contains("not approved"), "{}", out.stderr);
    assert!(out.stderr.contains("public tier"), "{}", out.stderr);
    let public = out.json();
    assert_eq!(public["id"], v1.as_str());

    // The operator approves the legitimate interest for GTIN X.
    let r = node
        .call(
            Method::POST,
            &format!("/api/v1/readers/{id}/approve"),
            Some(&basic()),
            Some(&json!({
                "tier": "legitimateInterest",
                "scope": {"kind": "gtins", "gtins": [GTIN_X]},
                "expiresAt": in_a_year(),
            })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let out = status(false).await.code(0);
    for want in [
        "approved",
        "legitimateInterest",
        GTIN_X,
        "reads its grant now",
    ] {
        assert!(out.stdout.contains(want), "{want}: {}", out.stdout);
    }
    let v = status(true).await.code(0).json();
    assert_eq!(v["grant"]["tier"], "legitimateInterest");
    assert_eq!(v["admitted"], true);

    // Sealed: the legitimate-interest credential, with data the public one lacks.
    let out = fetch(x_url.clone(), &[]).await.code(0);
    assert!(
        out.stderr.contains("sealed to the reader's key"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("legitimateInterest tier, version 1"),
        "{}",
        out.stderr
    );
    let li = out.json();
    assert_eq!(
        li["id"],
        format!("{v1}?audience=legitimateInterest").as_str()
    );
    let (li_leaves, public_leaves) = (data_leaves(&li), data_leaves(&public));
    assert!(public_leaves.is_subset(&li_leaves));
    assert!(
        li_leaves.difference(&public_leaves).next().is_some(),
        "the legitimate-interest credential has fields the public one lacks"
    );
    // The version URL, plain, and the vc+jwt form (its payload printed).
    let out = fetch(v1.clone(), &["--plain"]).await.code(0);
    assert!(out.stderr.contains("unsealed"), "{}", out.stderr);
    assert_eq!(out.json(), li);
    let out = fetch(v1.clone(), &["--jwt"]).await.code(0);
    assert!(
        out.stderr.contains("sealed to the reader's key"),
        "{}",
        out.stderr
    );
    assert_eq!(out.json()["id"], li["id"]);
    assert_eq!(
        out.json()["credentialSubject"]["data"],
        li["credentialSubject"]["data"]
    );
    // The reader id may be given instead of found in the sidecar.
    fetch(
        v1.clone(),
        &["--reader-id", "0193a7c2-5f10-7d2e-9a41-3b5c6d7e8f90"],
    )
    .await
    .code(4);

    // Another GTIN: out of scope, nothing printed.
    let out = silent(fetch(format!("{base}/passports/{y}"), &[]).await.code(4));
    assert!(out.stderr.contains("out-of-scope"), "{}", out.stderr);
    // A node the sidecar does not know: no reader id (exit 2).
    let out = silent(
        fetch(format!("http://127.0.0.1:9/passports/{x}"), &[])
            .await
            .code(2),
    );
    assert!(out.stderr.contains("--reader-id"), "{}", out.stderr);

    // Revoked: refused, and the status says so with the reason.
    let r = node
        .call(
            Method::POST,
            &format!("/api/v1/readers/{id}/revoke"),
            Some(&basic()),
            Some(&json!({"reason": "contract ended"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let out = silent(fetch(x_url.clone(), &[]).await.code(4));
    assert!(out.stderr.contains("reader-revoked"), "{}", out.stderr);
    let out = status(false).await.code(0);
    assert!(out.stdout.contains("revoked"), "{}", out.stdout);
    assert!(out.stdout.contains("contract ended"), "{}", out.stdout);

    // Without a key: the public tier.
    let out = cli
        .run(&["fetch", "--did-document-from", &did, &x_url])
        .await
        .code(0);
    assert_eq!(out.json(), public);
    assert!(out.stderr.contains("public tier"), "{}", out.stderr);
    node.stop().await;
}

/// Serves `head` and `body` to every connection (whatever is asked): a stand-in for
/// something between the reader and the node that alters answers.
async fn altering(head: String, body: Vec<u8>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = vec![0u8; 16 * 1024];
            let mut got = Vec::new();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            let mut answer = format!(
                "HTTP/1.1 200 OK\r\n{head}content-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            answer.extend_from_slice(&body);
            let _ = s.write_all(&answer).await;
        }
    });
    format!("http://{addr}")
}

/// A sealed answer altered on the way does not open, and a credential altered on the way
/// does not verify: exit 1, nothing on stdout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_altered_answer_prints_nothing() {
    let node = TestNode::new(Backend::Sqlite).own_base_url().start().await;
    let x = publish(&node, "SN-X", GTIN_X).await;
    let cli = Cli::new();
    let key = cli.path("reader.json");
    let key_arg = key.display().to_string();
    let did = format!("{}/.well-known/did.json", node.public);
    cli.run(&["reader", "keygen", "--out", &key_arg])
        .await
        .code(0);
    let file: Value = serde_json::from_slice(&std::fs::read(&key).unwrap()).unwrap();
    let reader = cli
        .run(&[
            "reader",
            "register",
            "--reader-key",
            &key_arg,
            "--node",
            &node.public,
            "--organisation",
            "Repairs",
            "--contact",
            "x@example.org",
            "--purpose",
            "repair",
            "--json",
        ])
        .await
        .code(0)
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = node
        .call(
            Method::POST,
            &format!("/api/v1/readers/{reader}/approve"),
            Some(&basic()),
            Some(&json!({"tier": "legitimateInterest", "scope": {"kind": "all"}, "expiresAt": in_a_year()})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));

    // The node's own sealed answer, asked for by the test as the reader.
    let path = format!("/passports/{x}");
    let authority = node.public.trim_start_matches("http://");
    let parts = httpsig::RequestParts::new("GET", "http", authority, &path, None);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let params =
        httpsig::SignatureParams::hallmark(now, now + 60, "altered-answer-nonce-0001", &reader);
    let signing = SigningKey::from_bytes(&b64_32(&file["ed25519Seed"]));
    let h = httpsig::sign(
        &parts,
        &httpsig::Covered::for_request(&parts),
        &params,
        &signing,
    )
    .unwrap();
    let r = kit::client()
        .get(format!("{}{path}", node.public))
        .header("accept", "application/jose")
        .header("signature-input", h.signature_input)
        .header("signature", h.signature)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers().get("content-type").unwrap().to_str().unwrap(),
        "application/jose"
    );
    let jwe = r.text().await.unwrap();
    let mut segments: Vec<String> = jwe.trim().split('.').map(str::to_owned).collect();
    let mut ciphertext = URL_SAFE_NO_PAD.decode(&segments[3]).unwrap();
    ciphertext[0] ^= 1;
    segments[3] = URL_SAFE_NO_PAD.encode(ciphertext);
    let sealed = altering(
        "content-type: application/jose\r\nhallmark-access-tier: legitimateInterest\r\n".into(),
        segments.join(".").into_bytes(),
    )
    .await;
    let out = silent(
        cli.run(&[
            "fetch",
            "--reader-key",
            &key_arg,
            "--reader-id",
            &reader,
            "--did-document-from",
            &did,
            &format!("{sealed}/passports/{x}"),
        ])
        .await
        .code(1),
    );
    assert!(out.stderr.contains("does not open"), "{}", out.stderr);

    // The public credential with one value changed.
    let r = node.get_public(&path, Some("application/vc+ld+json")).await;
    let mut credential: Value = serde_json::from_slice(&r.body).unwrap();
    credential["credentialSubject"]["data"]["tampered"] = json!(true);
    let plain = altering(
        "content-type: application/vc+ld+json\r\n".into(),
        serde_json::to_vec(&credential).unwrap(),
    )
    .await;
    let out = silent(
        cli.run(&[
            "fetch",
            "--did-document-from",
            &did,
            &format!("{plain}/passports/{x}"),
        ])
        .await
        .code(1),
    );
    assert!(out.stderr.contains("did not verify"), "{}", out.stderr);
    node.stop().await;
}

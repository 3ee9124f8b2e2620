//! Sealed delivery (`hallmark_node::seal`, issue 20): round trip, refusals, and a
//! credential served by a real node opened by an independent JOSE implementation (Python
//! jwcrypto, `scripts/check-jwe`) — and a jwcrypto token opened by `open` — and a sealed
//! answer of the node's passport URL to a signed reader opened by jwcrypto.

use std::path::PathBuf;
use std::process::Command;
use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use hallmark_core::jwk::X25519PublicJwk;
use hallmark_core::passport::PassportId;
use hallmark_node::seal::{open, seal, SealError};
use hallmark_testkit as kit;
use kit::Backend;
use rand_core::OsRng;
use serde_json::{json, Value};
use x25519_dalek::{PublicKey, StaticSecret};

const ID: &str = "urn:uuid:0190c8a8-0000-7000-8000-000000000001";
const OTHER: &str = "urn:uuid:0190c8a8-0000-7000-8000-000000000002";
const VC: &str = "application/vc";

fn reader() -> (StaticSecret, X25519PublicJwk) {
    let secret = StaticSecret::random_from_rng(OsRng);
    let public = X25519PublicJwk::from_bytes(PublicKey::from(&secret).to_bytes());
    (secret, public)
}

fn id(s: &str) -> PassportId {
    PassportId::from_str(s).unwrap()
}

fn header(jwe: &str) -> Value {
    let first = jwe.split('.').next().unwrap();
    serde_json::from_slice(&B64.decode(first).unwrap()).unwrap()
}

#[test]
fn round_trip_with_the_header_members() {
    let (secret, public) = reader();
    let jwe = seal(b"{\"a\":1}", &public, &id(ID), 3, VC).unwrap();
    assert_eq!(jwe.split('.').count(), 5);
    assert_eq!(jwe.split('.').nth(1), Some(""), "ECDH-ES: no encrypted key");
    let h = header(&jwe);
    assert_eq!(h["alg"], "ECDH-ES");
    assert_eq!(h["enc"], "A256GCM");
    assert_eq!(h["cty"], VC);
    assert_eq!(h["dpp_id"], ID);
    assert_eq!(h["dpp_ver"], 3);
    assert_eq!(h["kid"], public.thumbprint());
    assert_eq!(h["apu"], B64.encode("hallmark"));
    assert_eq!(h["apv"], B64.encode(format!("{ID}#3")));
    assert_eq!(h["epk"]["kty"], "OKP");
    assert_eq!(h["epk"]["crv"], "X25519");
    assert_eq!(open(&jwe, &secret, &id(ID), 3).unwrap(), b"{\"a\":1}");
    // A fresh ephemeral key each time.
    assert_ne!(jwe, seal(b"{\"a\":1}", &public, &id(ID), 3, VC).unwrap());
}

#[test]
fn another_passport_or_version_is_refused() {
    let (secret, public) = reader();
    let jwe = seal(b"x", &public, &id(ID), 3, VC).unwrap();
    assert!(matches!(
        open(&jwe, &secret, &id(OTHER), 3),
        Err(SealError::WrongPassport { got: Some(g), .. }) if g == ID
    ));
    assert!(matches!(
        open(&jwe, &secret, &id(ID), 4),
        Err(SealError::WrongVersion {
            expected: 4,
            got: Some(3)
        })
    ));
}

#[test]
fn a_changed_header_does_not_decrypt() {
    let (secret, public) = reader();
    let jwe = seal(b"x", &public, &id(ID), 3, VC).unwrap();
    let mut h = header(&jwe);
    h["dpp_ver"] = json!(4);
    // The apv too, so that only the authenticated data (the header) tells.
    h["apv"] = json!(B64.encode(format!("{ID}#4")));
    let rest: Vec<&str> = jwe.split('.').skip(1).collect();
    let forged = format!("{}.{}", B64.encode(h.to_string()), rest.join("."));
    assert!(matches!(
        open(&forged, &secret, &id(ID), 4),
        Err(SealError::Decrypt)
    ));
    // dpp_ver alone changed: the apv no longer matches.
    let mut h = header(&jwe);
    h["dpp_ver"] = json!(4);
    let forged = format!("{}.{}", B64.encode(h.to_string()), rest.join("."));
    assert!(matches!(
        open(&forged, &secret, &id(ID), 4),
        Err(SealError::PartyInfo)
    ));
}

#[test]
fn another_key_does_not_decrypt() {
    let (_, public) = reader();
    let (other, _) = reader();
    let jwe = seal(b"x", &public, &id(ID), 1, VC).unwrap();
    assert!(matches!(
        open(&jwe, &other, &id(ID), 1),
        Err(SealError::Decrypt)
    ));
}

#[test]
fn low_order_key_and_garbage_are_refused() {
    let zero = X25519PublicJwk::from_bytes([0; 32]);
    assert!(matches!(
        seal(b"x", &zero, &id(ID), 1, VC),
        Err(SealError::LowOrderKey)
    ));
    let (secret, _) = reader();
    assert!(matches!(
        open("not.a.jwe", &secret, &id(ID), 1),
        Err(SealError::Malformed(_))
    ));
}

fn check_jwe(args: &[&str]) -> String {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/check-jwe");
    let out = Command::new(script).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "scripts/check-jwe {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
#[ignore = "needs python3 + venv and PyPI (scripts/check-jwe installs jwcrypto); scripts/test runs it"]
async fn jwcrypto_opens_a_sealed_credential_and_seals_one_we_open() {
    let n = kit::TestNode::new(Backend::Sqlite).start().await;
    let (uuid, published) = n.publish("SEAL-1").await;
    let pid = format!("urn:uuid:{uuid}");
    let version = u32::try_from(published["version"].as_u64().unwrap()).unwrap();
    let r = n
        .get_public(&format!("/passports/{uuid}"), Some("application/vc+jwt"))
        .await;
    assert_eq!(r.status, 200);
    let credential = r.body;
    let passport = id(&pid);

    let (secret, public) = reader();
    let dir = tempfile::tempdir().unwrap();
    let private_jwk = dir.path().join("reader.jwk");
    let mut jwk = public.to_value();
    jwk["d"] = json!(B64.encode(secret.to_bytes()));
    std::fs::write(&private_jwk, jwk.to_string()).unwrap();
    let public_jwk = dir.path().join("reader.pub.jwk");
    std::fs::write(&public_jwk, public.to_value().to_string()).unwrap();

    // Hallmark seals, jwcrypto opens.
    let jwe = seal(
        &credential,
        &public,
        &passport,
        version,
        "application/vc+jwt",
    )
    .unwrap();
    let jwe_file = dir.path().join("sealed.jwe");
    std::fs::write(&jwe_file, &jwe).unwrap();
    let out: Value = serde_json::from_str(&check_jwe(&[
        "open",
        jwe_file.to_str().unwrap(),
        private_jwk.to_str().unwrap(),
    ]))
    .unwrap();
    assert_eq!(
        B64.decode(out["plaintext"].as_str().unwrap()).unwrap(),
        credential
    );
    let h = &out["protected"];
    assert_eq!(h["alg"], "ECDH-ES");
    assert_eq!(h["enc"], "A256GCM");
    assert_eq!(h["cty"], "application/vc+jwt");
    assert_eq!(h["dpp_id"], pid.as_str());
    assert_eq!(h["dpp_ver"], version);
    assert_eq!(h["kid"], public.thumbprint());

    // jwcrypto seals (with the same header members), Hallmark opens.
    let plain = dir.path().join("plain");
    std::fs::write(&plain, &credential).unwrap();
    let members = json!({
        "cty": "application/vc+jwt",
        "apu": B64.encode("hallmark"),
        "apv": B64.encode(format!("{pid}#{version}")),
        "dpp_id": pid,
        "dpp_ver": version,
    });
    let theirs = check_jwe(&[
        "seal",
        public_jwk.to_str().unwrap(),
        plain.to_str().unwrap(),
        &members.to_string(),
    ]);
    assert_eq!(
        open(&theirs, &secret, &passport, version).unwrap(),
        credential
    );
    assert!(matches!(
        open(&theirs, &secret, &passport, version + 1),
        Err(SealError::WrongVersion { .. })
    ));

    // A sealed answer as the node's passport URL serves it to a signed reader
    // (`Accept: application/jose`), opened by jwcrypto with the reader's secret.
    use super::access_flow_http::{get_signed, operator, register, x_secret};
    let reader_id = register(&n, 71, "recycling").await;
    let expires = (time::OffsetDateTime::now_utc() + time::Duration::days(30))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    operator(
        &n,
        &reader_id,
        "approve",
        json!({ "tier": "legitimateInterest", "scope": { "kind": "all" }, "expiresAt": expires }),
    )
    .await;
    let r = get_signed(
        &n,
        71,
        &reader_id,
        &format!("/passports/{uuid}"),
        Some("application/jose"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("content-type"), Some("application/jose"));
    let served = dir.path().join("served.jwe");
    std::fs::write(&served, &r.body).unwrap();
    let reader_secret = x_secret(71);
    let reader_jwk = dir.path().join("reader71.jwk");
    let mut jwk =
        X25519PublicJwk::from_bytes(PublicKey::from(&reader_secret).to_bytes()).to_value();
    jwk["d"] = json!(B64.encode(reader_secret.to_bytes()));
    std::fs::write(&reader_jwk, jwk.to_string()).unwrap();
    let out: Value = serde_json::from_str(&check_jwe(&[
        "open",
        served.to_str().unwrap(),
        reader_jwk.to_str().unwrap(),
    ]))
    .unwrap();
    let view = n
        .admin(reqwest::Method::GET, &format!("/api/v1/passports/{uuid}"))
        .await
        .json();
    let opened: Value =
        serde_json::from_slice(&B64.decode(out["plaintext"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(
        opened,
        view["current"]["credentials"]["legitimateInterest"]["dataIntegrity"]
    );
    assert_eq!(out["protected"]["dpp_id"], pid.as_str());
    assert_eq!(out["protected"]["cty"], "application/vc+ld+json");
    n.stop().await;
}

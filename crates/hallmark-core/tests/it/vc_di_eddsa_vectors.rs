//! W3C vc-di-eddsa test vectors for eddsa-jcs-2022 (../shared/vectors/vc-di-eddsa):
//! every intermediate value reproduced exactly from keyPair.json, and signedJCS.json verified.

use hallmark_core::credential::{self, ProofOptions};
use hallmark_core::jcs;
use hallmark_core::keys::{self, Signer as _};
use serde_json::{Map, Value};
use std::path::PathBuf;

fn read(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors/vc-di-eddsa")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn json(name: &str) -> Value {
    jcs::parse_strict(read(name).as_bytes()).unwrap()
}

fn key_pair() -> (ed25519_dalek::SigningKey, String) {
    let kp = json("keyPair.json");
    let sk =
        keys::decode_secret_key_multibase(kp["privateKeyMultibase"].as_str().unwrap()).unwrap();
    (sk, kp["publicKeyMultibase"].as_str().unwrap().to_string())
}

fn unsecured_and_config() -> (Value, Map<String, Value>) {
    let mut signed = json("eddsa-jcs-2022/signedJCS.json");
    signed.as_object_mut().unwrap().remove("proof");
    let Value::Object(config) = json("eddsa-jcs-2022/proofConfigJCS.json") else {
        panic!()
    };
    (signed, config)
}

#[test]
fn vc_di_eddsa_key_pair_json() {
    let (sk, public) = key_pair();
    assert_eq!(keys::public_key_multibase(&sk.verifying_key()), public);
}

#[test]
fn vc_di_eddsa_jcs_2022_canon_doc_and_doc_hash() {
    let (doc, config) = unsecured_and_config();
    let t = credential::trace(&doc, &config).unwrap();
    assert_eq!(
        String::from_utf8(t.canonical_document).unwrap(),
        read("eddsa-jcs-2022/canonDocJCS.txt").trim_end()
    );
    assert_eq!(
        hex::encode(t.document_hash),
        read("eddsa-jcs-2022/docHashJCS.txt").trim()
    );
}

#[test]
fn vc_di_eddsa_jcs_2022_proof_config_canon_and_hash() {
    let (doc, config) = unsecured_and_config();
    // Our own proof-config builder produces the same object as the vector's.
    let options = ProofOptions {
        verification_method: config["verificationMethod"].as_str().unwrap().into(),
        created: config["created"].as_str().unwrap().into(),
    };
    assert_eq!(credential::proof_config(&doc, &options).unwrap(), config);
    let t = credential::trace(&doc, &config).unwrap();
    assert_eq!(
        String::from_utf8(t.canonical_proof_config).unwrap(),
        read("eddsa-jcs-2022/proofCanonJCS.txt").trim_end()
    );
    assert_eq!(
        hex::encode(t.proof_config_hash),
        read("eddsa-jcs-2022/proofHashJCS.txt").trim()
    );
}

#[test]
fn vc_di_eddsa_jcs_2022_combined_hash_signature_and_proof_value() {
    let (sk, _) = key_pair();
    let (doc, config) = unsecured_and_config();
    let t = credential::trace(&doc, &config).unwrap();
    assert_eq!(
        hex::encode(t.hash_data()),
        read("eddsa-jcs-2022/combinedHashJCS.txt").trim()
    );
    let sig = sk.sign(&t.hash_data()).unwrap();
    assert_eq!(
        hex::encode(sig.to_bytes()),
        read("eddsa-jcs-2022/sigHexJCS.txt").trim()
    );
    assert_eq!(
        keys::signature_multibase(&sig),
        read("eddsa-jcs-2022/sigBTC58JCS.txt").trim()
    );
}

#[test]
fn vc_di_eddsa_jcs_2022_signed_document_reproduced_and_verified() {
    let (sk, _) = key_pair();
    let (doc, config) = unsecured_and_config();
    let options = ProofOptions {
        verification_method: config["verificationMethod"].as_str().unwrap().into(),
        created: config["created"].as_str().unwrap().into(),
    };
    let signed = credential::sign_data_integrity(&doc, &options, &sk).unwrap();
    let expected = json("eddsa-jcs-2022/signedJCS.json");
    assert_eq!(signed, expected);
    credential::verify_data_integrity(&expected, &sk.verifying_key()).unwrap();
    // A different key does not verify it.
    let other = ed25519_dalek::SigningKey::from_bytes(&[9; 32]).verifying_key();
    assert_eq!(
        credential::verify_data_integrity(&expected, &other),
        Err(credential::CredentialError::BadSignature)
    );
}

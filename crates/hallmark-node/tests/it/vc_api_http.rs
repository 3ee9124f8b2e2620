//! The verification service over real HTTP (docs/verify.md, "Verification service"): the
//! W3C VC API's `POST /credentials/verify` on the public listener — this node's passports,
//! did:key credentials, the W3C vector, tampering, did:web resolution off and its refusals
//! (allow-list, addresses that are not public, checked by address, no connection made), the
//! body limit, malformed requests —, `POST /presentations/verify` (a holder presenting this
//! node's passport in both forms: challenge, domain, tampering, holder binding), the
//! admin `POST /credentials/issue` (a passport published and served; anything else refused
//! with nothing written), and the `/verify` page.

use ed25519_dalek::SigningKey;
use hallmark_core::credential::{secure_document, VC_V2_CONTEXT};
use hallmark_core::did_key::DidKey;
use hallmark_core::keys::Signer as _;
use hallmark_node::config::DidWebSettings;
use hallmark_testkit::node::{battery_draft, Node, TestNode};
use hallmark_testkit::{both, Backend};
use reqwest::Method;
use serde_json::{json, Value};
use std::path::PathBuf;
use time::macros::datetime;

/// `POST <public>/<path>` with a JSON body.
async fn post(n: &Node, path: &str, body: &Value) -> hallmark_testkit::http::Reply {
    n.call_raw(
        Method::POST,
        &format!("{}{path}", n.public),
        None,
        Some(body),
        None,
    )
    .await
}

async fn verify(n: &Node, credential: Value) -> (u16, Value) {
    verify_with(n, credential, json!({})).await
}

async fn verify_with(n: &Node, credential: Value, options: Value) -> (u16, Value) {
    let r = post(
        n,
        "/credentials/verify",
        &json!({ "verifiableCredential": credential, "options": options }),
    )
    .await;
    assert_eq!(r.header("content-type"), Some("application/json"));
    (r.status, r.json())
}

/// The checks named in a result's errors.
fn error_checks(result: &Value) -> Vec<String> {
    result["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["check"].as_str().unwrap().to_owned())
        .collect()
}

/// The detail of the result's error from `check`.
fn error_of(result: &Value, check: &str) -> String {
    result["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["check"] == check)
        .unwrap_or_else(|| panic!("no {check} error: {result}"))["detail"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A credential issued by `issuer`, signed by `key` as `vm`.
fn signed(key: &SigningKey, issuer: &str, vm: &str) -> (Value, String) {
    let doc = json!({
        "@context": [VC_V2_CONTEXT],
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "https://id.example.com/01/09506000134352/21/VC1"}
    });
    let c = secure_document(&doc, vm, datetime!(2026-01-01 00:00:01 UTC), key).unwrap();
    (serde_json::from_slice(&c.data_integrity).unwrap(), c.jwt)
}

fn w3c_vector() -> Value {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors/vc-di-eddsa/eddsa-jcs-2022/signedJCS.json");
    serde_json::from_slice(&std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap()
}

async fn this_nodes_passport_verifies_and_a_tampered_one_does_not(backend: Backend) {
    let n = TestNode::new(backend).start().await;
    let (id, _) = n.publish("VC-OWN-1").await;
    let credential = n.get(&format!("/passports/{id}")).await.json();

    let (status, result) = verify(&n, credential.clone()).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["verified"], true);
    assert!(result["errors"].as_array().unwrap().is_empty(), "{result}");
    let checks = result["checks"].as_array().unwrap();
    for name in ["signature", "key", "issuer", "did-document", "validity"] {
        assert!(checks.contains(&json!(name)), "{name}: {result}");
    }
    assert_eq!(result["hallmark"]["verdict"], "valid");
    let did_doc = result["hallmark"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "did-document")
        .unwrap();
    assert!(
        did_doc["detail"]
            .as_str()
            .unwrap()
            .contains("own DID document"),
        "{did_doc}"
    );
    // Its status: from the node's own status lists, read locally.
    for name in ["status-list-signature", "status-list", "status"] {
        assert!(checks.contains(&json!(name)), "{name}: {result}");
    }
    assert!(result.get("credential").is_none());

    // The vc+jwt form, as a string and as an enveloped credential.
    let jwt = n
        .get_public(&format!("/passports/{id}"), Some("application/vc+jwt"))
        .await;
    let jwt = String::from_utf8(jwt.body).unwrap();
    let (status, result) = verify_with(&n, json!(jwt), json!({"returnCredential": true})).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(
        result["credential"]["credentialSubject"],
        credential["credentialSubject"]
    );
    let enveloped = json!({
        "@context": VC_V2_CONTEXT,
        "type": "EnvelopedVerifiableCredential",
        "id": format!("data:application/vc+jwt,{jwt}"),
    });
    assert_eq!(verify(&n, enveloped).await.0, 200);

    // One changed value: the signature check names it.
    let mut tampered = credential.clone();
    tampered["credentialSubject"]["uniqueProductIdentifier"]["serial"] = json!("VC-OWN-2");
    let (status, result) = verify(&n, tampered).await;
    assert_eq!(status, 400, "{result}");
    assert_eq!(result["verified"], false);
    assert_eq!(error_checks(&result), ["signature"], "{result}");
    assert_eq!(result["errors"][0]["title"], "CRYPTOGRAPHIC_SECURITY_ERROR");
    assert_eq!(result["hallmark"]["verdict"], "invalid");
    let mut broken_jwt = jwt.clone();
    broken_jwt.pop();
    broken_jwt.push(if jwt.ends_with('A') { 'B' } else { 'A' });
    let (status, result) = verify(&n, json!(broken_jwt)).await;
    assert_eq!(status, 400, "{result}");
    assert!(!error_checks(&result).is_empty(), "{result}");

    // Suspended since: the credential a holder kept still verifies, but is not in force.
    let r = n
        .call(
            Method::POST,
            &format!("/api/v1/passports/{id}/suspend"),
            Some(&hallmark_testkit::node::basic()),
            Some(&json!({"reason": "recall"})),
        )
        .await;
    assert_eq!(r.status, 200);
    let (status, result) = verify(&n, credential).await;
    assert_eq!(status, 400, "{result}");
    assert_eq!(result["verified"], false);
    assert_eq!(result["hallmark"]["verdict"], "not-in-force", "{result}");
    assert_eq!(result["hallmark"]["status"], "suspended", "{result}");
    assert_eq!(error_checks(&result), ["status"], "{result}");
    assert_eq!(result["errors"][0]["title"], "NOT_IN_FORCE");
    n.stop().await;
}
both!(this_nodes_passport_verifies_and_a_tampered_one_does_not);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn did_key_credentials_and_the_w3c_vector() {
    let n = TestNode::new(Backend::Sqlite).start().await;
    let k = SigningKey::from_bytes(&[21; 32]);
    let dk = DidKey::of(&k.verifying_key());
    let (di, jwt) = signed(&k, dk.as_str(), &dk.method_id());
    for c in [di.clone(), json!(jwt)] {
        let (status, result) = verify(&n, c).await;
        assert_eq!(status, 200, "{result}");
        assert_eq!(result["verified"], true);
    }
    // A did:key credential claiming this node as its issuer: the issuer policy refuses it.
    let node_did = n.did().await.id;
    let (forged, _) = signed(&k, &node_did, &dk.method_id());
    let (status, result) = verify(&n, forged).await;
    assert_eq!(status, 400, "{result}");
    assert_eq!(error_checks(&result), ["issuer"], "{result}");

    // The W3C vector: an https issuer, a did:key key.
    let (status, result) = verify(&n, w3c_vector()).await;
    assert_eq!(status, 400, "{result}");
    assert!(
        error_of(&result, "issuer").contains("must-be-controller"),
        "{result}"
    );
    let (status, result) = verify_with(&n, w3c_vector(), json!({"issuerPolicy": "any"})).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["warnings"][0]["check"], "issuer", "{result}");
    let mut tampered = w3c_vector();
    tampered["credentialSubject"]["alumniOf"] = json!("Example University");
    let (status, result) = verify_with(&n, tampered, json!({"issuerPolicy": "any"})).await;
    assert_eq!(status, 400, "{result}");
    assert_eq!(error_checks(&result), ["signature"], "{result}");
    // A challenge the proof does not carry.
    let (status, result) = verify_with(&n, di, json!({"challenge": "abc"})).await;
    assert_eq!(status, 400, "{result}");
    assert_eq!(
        result["errors"][0]["title"], "INVALID_CHALLENGE_ERROR",
        "{result}"
    );
    n.stop().await;
}

/// A credential of `did` (a did:web), signed by some key of it.
fn of_did_web(did: &str) -> Value {
    let k = SigningKey::from_bytes(&[22; 32]);
    let vm = format!("{did}#{}", k.key_id());
    signed(&k, did, &vm).0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn did_web_is_not_fetched_unless_enabled() {
    let n = TestNode::new(Backend::Sqlite).start().await;
    let (status, result) = verify(&n, of_did_web("did:web:issuer.example")).await;
    assert_eq!(status, 400, "{result}");
    let why = error_of(&result, "did-document");
    assert!(why.contains("did:web:issuer.example"), "{why}");
    assert!(why.contains("not enabled"), "{why}");
    assert!(
        error_checks(&result).contains(&"key".to_owned()),
        "{result}"
    );
    n.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn did_web_refuses_unlisted_hosts_and_addresses_that_are_not_public() {
    // A listener on loopback that would see any connection the node made.
    let trap = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    trap.set_nonblocking(true).unwrap();
    let port = trap.local_addr().unwrap().port();
    let n = TestNode::new(Backend::Sqlite).start().await;
    n.app()
        .did_web
        .set(DidWebSettings::allowing(&[
            "issuer.example",
            "localhost",
            "127.0.0.1",
            "10.0.0.1",
            "169.254.169.254",
            "0.0.0.0",
        ]))
        .unwrap();

    let (status, result) = verify(&n, of_did_web("did:web:other.example")).await;
    assert_eq!(status, 400, "{result}");
    let why = error_of(&result, "did-document");
    assert!(
        why.contains("\"other.example\" is not in HALLMARK_VERIFY_DID_WEB_ALLOWED_HOSTS"),
        "{why}"
    );

    // Listed, yet never fetched: each resolves to an address that is not public.
    for (did, address) in [
        (format!("did:web:localhost%3A{port}"), "127.0.0.1"),
        (format!("did:web:127.0.0.1%3A{port}"), "127.0.0.1"),
        ("did:web:10.0.0.1".to_owned(), "10.0.0.1"),
        ("did:web:169.254.169.254".to_owned(), "169.254.169.254"),
        ("did:web:0.0.0.0".to_owned(), "0.0.0.0"),
    ] {
        let (status, result) = verify(&n, of_did_web(&did)).await;
        assert_eq!(status, 400, "{did}: {result}");
        let why = error_of(&result, "did-document");
        assert!(why.contains(&did), "{why}");
        assert!(
            why.contains(&format!(
                "resolves to {address}, which is not a public address"
            )),
            "{why}"
        );
        assert_eq!(result["verified"], false);
    }
    // Nothing connected to the loopback listener (every exchange above has ended).
    assert_eq!(
        trap.accept().unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock
    );
    n.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_and_oversized_bodies_are_refused() {
    let n = TestNode::new(Backend::Sqlite).start().await;
    // Not JSON.
    let r = n
        .call_raw(
            Method::POST,
            &format!("{}/credentials/verify", n.public),
            None,
            None,
            None,
        )
        .await;
    assert!([400, 415].contains(&r.status), "{}", r.status);
    let r = hallmark_testkit::http::client()
        .post(format!("{}/credentials/verify", n.public))
        .header("content-type", "application/json")
        .body("{\"verifiableCredential\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    for body in [
        json!({}),
        json!({"verifiableCredential": 3}),
        json!({"verifiableCredential": {}, "options": {"unknownOption": true}}),
        json!({"verifiableCredential": {}, "extra": 1}),
    ] {
        post(&n, "/credentials/verify", &body)
            .await
            .problem(400, "bad-request");
    }
    // Over 256 KiB (the listener's own limit is 1 MiB).
    let big = json!({"verifiableCredential": {"padding": "x".repeat(300 * 1024)}});
    let p = post(&n, "/credentials/verify", &big)
        .await
        .problem(413, "body-too-large");
    assert_eq!(p["max"], 256 * 1024, "{p}");
    // Presentations: read strictly; an empty object is a result, not a verified one.
    let r = post(
        &n,
        "/presentations/verify",
        &json!({"verifiablePresentation": {}, "options": {"challenge": "c", "domain": "d"}}),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["verified"], false, "{}", r.json());
    post(&n, "/presentations/verify", &json!({"presentation": {}}))
        .await
        .problem(400, "bad-request");
    post(
        &n,
        "/presentations/verify",
        &json!({"verifiablePresentation": 7}),
    )
    .await
    .problem(400, "bad-request");
    n.stop().await;
}

/// The number of passports and of audit events (read with the node's API key: the admin
/// login's use is itself audited).
async fn counts(n: &Node) -> (usize, u64) {
    let list = n
        .call(
            Method::GET,
            "/api/v1/passports?limit=200",
            Some(n.bearer()),
            None,
        )
        .await
        .json();
    let passports = list["items"].as_array().map_or(0, Vec::len);
    let audit = n.store().audit_len().await.unwrap();
    (passports, audit)
}

async fn credentials_issue_publishes_passports_only(backend: Backend) {
    let n = TestNode::new(backend)
        .api_key("write", "issuer")
        .start()
        .await;
    let (read, _, _) = n.key("read").await;
    let did = n.did().await.id;
    let credential = json!({
        "@context": [VC_V2_CONTEXT],
        "type": ["VerifiableCredential"],
        "issuer": did,
        "credentialSubject": battery_draft("VC-ISSUE-1"),
    });
    let issue = |auth: String, body: Value| {
        let n = &n;
        async move {
            n.call(Method::POST, "/credentials/issue", Some(&auth), Some(&body))
                .await
        }
    };
    issue(read, json!({"credential": credential}))
        .await
        .problem(403, "forbidden");

    let before = counts(&n).await;
    let refused = [
        json!({"credential": {"credentialSubject": {"name": "not a passport"}}}),
        json!({"credential": {"issuer": "did:web:someone.example", "credentialSubject": battery_draft("VC-ISSUE-2")}}),
        json!({"credential": {"credentialSubject": battery_draft("VC-ISSUE-3"), "proof": {}}}),
        json!({"credential": {"credentialSubject": battery_draft("VC-ISSUE-4"), "validUntil": "2030-01-01T00:00:00Z"}}),
        json!({"credential": {"type": ["ExampleCredential"], "credentialSubject": battery_draft("VC-ISSUE-5")}}),
        json!({"credential": "a.b.c"}),
    ];
    for body in refused {
        let r = issue(n.bearer().to_owned(), body.clone()).await;
        assert_eq!(
            r.status,
            422,
            "{body}: {}",
            String::from_utf8_lossy(&r.body)
        );
    }
    let mut unknown_sector = battery_draft("VC-ISSUE-6");
    unknown_sector["sector"]["id"] = json!("toys");
    issue(
        n.bearer().to_owned(),
        json!({"credential": {"credentialSubject": unknown_sector}}),
    )
    .await
    .problem(422, "invalid-passport");
    issue(
        n.bearer().to_owned(),
        json!({"credential": {"credentialSubject": battery_draft("VC-ISSUE-7")}, "options": {"credentialId": "x"}}),
    )
    .await
    .problem(400, "bad-request");
    assert_eq!(counts(&n).await, before, "a refused issue wrote something");

    let r = issue(
        n.bearer().to_owned(),
        json!({"credential": credential, "options": {}}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let issued = r.json()["verifiableCredential"].clone();
    assert_eq!(issued["issuer"], did);
    assert_eq!(
        issued["credentialSubject"]["uniqueProductIdentifier"]["serial"],
        "VC-ISSUE-1"
    );
    let id = issued["credentialSubject"]["id"].as_str().unwrap();
    let uuid = id.rsplit([':', '/']).next().unwrap();
    // Served publicly, the same bytes' credential, and verified by the service.
    let served = n.get(&format!("/passports/{uuid}")).await;
    assert_eq!(served.status, 200);
    assert_eq!(served.json(), issued);
    assert_eq!(verify(&n, issued).await.0, 200);
    let after = counts(&n).await;
    assert_eq!(after.0, before.0 + 1);
    n.stop().await;
}
both!(credentials_issue_publishes_passports_only);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_verification_page_checks_a_pasted_credential() {
    let n = TestNode::new(Backend::Sqlite).start().await;
    let (id, _) = n.publish("VC-PAGE-1").await;
    let page = n
        .get_public(&format!("/passports/{id}"), Some("text/html"))
        .await;
    let html = String::from_utf8(page.body).unwrap();
    assert!(
        html.contains("href=\"/verify?lang=en\""),
        "no link to the page"
    );

    let form = n.get_public("/verify?lang=de", Some("text/html")).await;
    assert_eq!(form.status, 200);
    let csp = form.header("content-security-policy").unwrap();
    assert!(
        csp.contains("form-action 'self'") && !csp.contains("script"),
        "{csp}"
    );
    let text = String::from_utf8(form.body).unwrap();
    assert!(text.contains("<html lang=\"de\">") && text.contains("<textarea"));

    let credential = n
        .get_public(&format!("/passports/{id}"), Some("application/vc+ld+json"))
        .await;
    let pasted = String::from_utf8(credential.body).unwrap();
    let send = |text: String| {
        let url = format!("{}/verify?lang=en", n.public);
        async move {
            let body = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("credential", &text)
                .finish();
            let r = hallmark_testkit::http::client()
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.text().await.unwrap())
        }
    };
    let (status, html) = send(pasted.clone()).await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("Valid: the signature and every check passed."),
        "{html}"
    );
    assert!(html.contains("<strong>signature</strong>"));
    let (status, html) = send(pasted.replace("VC-PAGE-1", "VC-PAGE-2")).await;
    assert_eq!(status, 400);
    assert!(html.contains("Not valid: a check failed."), "{html}");
    assert!(
        html.contains("<li class=\"bad\"><strong>signature</strong>"),
        "{html}"
    );
    let (status, html) = send(String::new()).await;
    assert_eq!(status, 400);
    assert!(html.contains("Paste a credential or choose a file first."));

    // The page's own form: multipart/form-data with the pasted text and a file, the file
    // winning when one was chosen (here the vc+jwt form, the text left empty).
    assert!(text.contains("enctype=\"multipart/form-data\"") && text.contains("type=\"file\""));
    let jwt = n
        .get_public(&format!("/passports/{id}"), Some("application/vc+jwt"))
        .await;
    let jwt = String::from_utf8(jwt.body).unwrap();
    let upload = |pasted: &str, file: &str| {
        let url = format!("{}/verify?lang=en", n.public);
        let boundary = "hallmark-test-boundary-7f3a";
        let body = format!(
            "--{boundary}\r\ncontent-disposition: form-data; name=\"credential\"\r\n\r\n{pasted}\r\n\
             --{boundary}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"passport.jwt\"\r\n\
             content-type: application/octet-stream\r\n\r\n{file}\r\n--{boundary}--\r\n"
        );
        async move {
            let r = hallmark_testkit::http::client()
                .post(url)
                .header(
                    "content-type",
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.text().await.unwrap())
        }
    };
    let (status, html) = upload("", &jwt).await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("Valid: the signature and every check passed."),
        "{html}"
    );
    // Pasted text alone, through the same form.
    let (status, html) = upload(&pasted, "").await;
    assert_eq!(status, 200, "{html}");
    let (status, html) = upload("", "").await;
    assert_eq!(status, 400);
    assert!(
        html.contains("Paste a credential or choose a file first."),
        "{html}"
    );
    // A file that is not UTF-8 text, and a body that is not multipart: the page says why,
    // nothing is verified.
    let url = format!("{}/verify?lang=en", n.public);
    let boundary = "hallmark-test-boundary-7f3a";
    let mut binary = format!(
        "--{boundary}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"x.bin\"\r\n\r\n"
    )
    .into_bytes();
    binary.extend_from_slice(&[0xff, 0xfe, 0x00]);
    binary.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    for (body, why) in [
        (binary, "the file is not UTF-8 text"),
        (b"not multipart".to_vec(), "This is not a credential"),
    ] {
        let r = hallmark_testkit::http::client()
            .post(&url)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400);
        let html = r.text().await.unwrap();
        assert!(html.contains(why), "{why}: {html}");
        assert!(!html.contains("<strong>signature</strong>"), "{html}");
    }
    n.stop().await;
}

/// `POST /presentations/verify`: a recycler (a did:key holder) presents this node's passport
/// — the Data Integrity credential embedded and the `vc+jwt` enveloped — bound to the
/// verifier's challenge and domain: verified (200) with each credential's result; the wrong
/// challenge, a tampered credential inside, or a holder that is not the key's controller
/// are refused (400) naming the check, per credential where it is one's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presentations_of_this_nodes_passports() {
    use hallmark_core::credential::{ProofExtras, ProofOptions};
    use hallmark_core::presentation::{sign_presentation, Contained, UnsignedPresentation};
    let n = TestNode::new(Backend::Sqlite).start().await;
    let (id, _) = n.publish("VC-VP-1").await;
    let credential = n.get(&format!("/passports/{id}")).await.json();
    let jwt = n
        .get_public(&format!("/passports/{id}"), Some("application/vc+jwt"))
        .await;
    let jwt = String::from_utf8(jwt.body).unwrap();
    let holder = SigningKey::from_bytes(&[44; 32]);
    let did = DidKey::of(&holder.verifying_key());
    let present = |embedded: Value, holder_id: &str| {
        let unsigned = UnsignedPresentation {
            id: None,
            holder: Some(holder_id.into()),
            credentials: vec![
                Contained::Embedded(embedded.as_object().unwrap().clone()),
                Contained::Enveloped(jwt.clone()),
            ],
        }
        .to_value();
        sign_presentation(
            &unsigned,
            &ProofOptions {
                verification_method: did.method_id(),
                created: "2026-12-01T00:00:00Z".into(),
            },
            &ProofExtras {
                challenge: Some("nonce-1".into()),
                domain: Some(json!("recycler.example")),
                ..ProofExtras::default()
            },
            &holder,
        )
        .unwrap()
    };
    let vp = present(credential.clone(), did.as_str());
    let verify_vp = |vp: Value, options: Value| {
        let n = &n;
        async move {
            let r = post(
                n,
                "/presentations/verify",
                &json!({"verifiablePresentation": vp, "options": options}),
            )
            .await;
            assert_eq!(r.header("content-type"), Some("application/json"));
            (r.status, r.json())
        }
    };
    let expected = json!({"challenge": "nonce-1", "domain": "recycler.example"});
    let (status, result) = verify_vp(vp.clone(), expected.clone()).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["verified"], true);
    for name in ["signature", "holder", "proof-challenge", "proof-domain"] {
        assert!(
            result["checks"].as_array().unwrap().contains(&json!(name)),
            "{name}: {result}"
        );
    }
    let results = result["credentialResults"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{result}");
    for r in results {
        assert_eq!(r["verified"], true, "{r}");
        assert!(
            r["checks"].as_array().unwrap().contains(&json!("status")),
            "{r}"
        );
    }
    assert_eq!(result["presentationResult"]["verified"], true);

    // The wrong challenge: the holder's proof is refused.
    let (status, result) = verify_vp(
        vp.clone(),
        json!({"challenge": "nonce-2", "domain": "recycler.example"}),
    )
    .await;
    assert_eq!(status, 400, "{result}");
    assert_eq!(error_checks(&result), ["proof-challenge"], "{result}");
    assert_eq!(result["errors"][0]["title"], "INVALID_CHALLENGE_ERROR");
    // No challenge expected: verified, with the replay warning.
    let (status, result) = verify_vp(vp.clone(), json!({})).await;
    assert_eq!(status, 200, "{result}");
    assert!(
        result["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["check"] == "proof-challenge"),
        "{result}"
    );

    // A credential altered before presenting (the holder signs the altered copy): the
    // holder's proof holds, the credential's signature does not.
    let mut altered = credential.clone();
    altered["credentialSubject"]["uniqueProductIdentifier"]["serial"] = json!("VC-VP-2");
    let (status, result) = verify_vp(present(altered, did.as_str()), expected.clone()).await;
    assert_eq!(status, 400, "{result}");
    assert_eq!(result["presentationResult"]["verified"], true, "{result}");
    assert_eq!(
        result["credentialResults"][0]["verified"], false,
        "{result}"
    );
    assert!(
        error_of(&result, "signature").starts_with("verifiableCredential[0]: "),
        "{result}"
    );

    // A holder that is not the controller of the key that signed the presentation.
    let (status, result) = verify_vp(
        present(
            credential.clone(),
            "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        ),
        expected,
    )
    .await;
    assert_eq!(status, 400, "{result}");
    assert!(
        error_checks(&result).contains(&"holder".to_owned()),
        "{result}"
    );
    n.stop().await;
}

#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;
use crate::reader::CROCKFORD;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;

// RFC 9421 B.1.4, test-key-ed25519 (JWK d and x).
const D: &str = "n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU";
const X: &str = "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs";
// RFC 9421 B.2.6.
const B26_INPUT: &str = r#"sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519""#;
const B26_SIG: &str =
    "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==";
const B26_BASE: &str = "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n\"@method\": POST\n\"@path\": /foo\n\"@authority\": example.com\n\"content-type\": application/json\n\"content-length\": 18\n\"@signature-params\": (\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" \"content-length\");created=1618884473;keyid=\"test-key-ed25519\"";
// RFC 9421 B.2, test-request.
const B2_DIGEST: &str = "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:";
const B2_BODY: &[u8] = br#"{"hello": "world"}"#;

fn rfc_key() -> SigningKey {
    let d: [u8; 32] = URL_SAFE_NO_PAD.decode(D).unwrap().try_into().unwrap();
    let key = SigningKey::from_bytes(&d);
    assert_eq!(URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()), X);
    key
}

fn test_request() -> RequestParts {
    RequestParts::new(
        "POST",
        "https",
        "example.com",
        "/foo",
        Some("param=Value&Pet=dog"),
    )
    .with_header("Host", "example.com")
    .with_header("Date", "Tue, 20 Apr 2021 02:07:55 GMT")
    .with_header("Content-Type", "application/json")
    .with_header("Content-Digest", B2_DIGEST)
    .with_header("Content-Length", "18")
    .with_body(B2_BODY)
}

fn b26_covered() -> Covered {
    Covered::new([
        "date",
        "@method",
        "@path",
        "@authority",
        "content-type",
        "content-length",
    ])
    .unwrap()
}

fn b26_params() -> SignatureParams {
    SignatureParams {
        created: Some(1618884473),
        keyid: Some("test-key-ed25519".into()),
        ..SignatureParams::default()
    }
}

#[test]
fn rfc9421_b26_base_and_signature_byte_for_byte() {
    let key = rfc_key();
    let parts = test_request();
    let base = signature_base(&parts, &b26_covered(), &b26_params()).unwrap();
    assert_eq!(base, B26_BASE);
    let signed = sign_as("sig-b26", &parts, &b26_covered(), &b26_params(), &key).unwrap();
    assert_eq!(signed.signature_input, B26_INPUT);
    assert_eq!(signed.signature, format!("sig-b26=:{B26_SIG}:"));
    // The test-request's Content-Digest is the body's.
    check_content_digest(&parts).unwrap();
}

#[test]
fn rfc9421_b26_verifies_as_received() {
    let key = rfc_key();
    let parts = test_request()
        .with_header("Signature-Input", B26_INPUT)
        .with_header("Signature", &format!("sig-b26=:{B26_SIG}:"));
    let parsed = parse(&parts).unwrap();
    assert_eq!(parsed.label(), "sig-b26");
    assert_eq!(parsed.keyid(), Some("test-key-ed25519"));
    assert_eq!(parsed.created(), Some(1618884473));
    parsed
        .verify_signature_only(&parts, &key.verifying_key())
        .unwrap();
    // The RFC's request carries no expires, nonce or tag: not an acceptable Hallmark read.
    assert_eq!(
        parsed.verify(&parts, &key.verifying_key(), 1618884473, &Policy::default()),
        Err(HttpSigError::MissingParameter("expires"))
    );
    // One byte of the method changed: the signature no longer verifies.
    let mut tampered = parts.clone();
    tampered.method = "PUT".into();
    assert_eq!(
        parsed.verify_signature_only(&tampered, &key.verifying_key()),
        Err(HttpSigError::BadSignature)
    );
}

#[test]
fn rfc9530_examples() {
    // RFC 9530 Appendix B: {"hello": "world"} followed by LF.
    let body = b"{\"hello\": \"world\"}\n";
    assert_eq!(
        content_digest(body),
        "sha-256=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg=:"
    );
    let sha512 = "sha-512=:YMAam51Jz/jOATT6/zvHrLVgOYTGFy1d6GJiOHTohq4yP+pgk4vf2aCsyRZOtw8MjkM7iw7yZ/WkppmM44T3qg==:";
    let parts = RequestParts::new("POST", "https", "example.com", "/", None)
        .with_header("Content-Digest", sha512)
        .with_body(body.as_slice());
    check_content_digest(&parts).unwrap();
    let both = RequestParts::new("POST", "https", "example.com", "/", None)
        .with_header(
            "Content-Digest",
            &format!("{}, {}", content_digest(body), sha512),
        )
        .with_body(body.as_slice());
    check_content_digest(&both).unwrap();
    // Unknown algorithms are ignored, but one known one is required.
    let unknown = RequestParts::new("POST", "https", "example.com", "/", None)
        .with_header("Content-Digest", "md5=:AAAA:")
        .with_body(body.as_slice());
    assert_eq!(
        check_content_digest(&unknown),
        Err(HttpSigError::DigestMissing)
    );
}

// A Hallmark reader's request, signed as docs/access.md says.
const NOW: i64 = 1_800_000_000;
const NONCE: &str = "b3k9Qz7PwX2mR5tY8vN1cA";
const KEYID: &str = "reader-1";

fn reader_key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

fn read_request() -> RequestParts {
    RequestParts::new(
        "GET",
        "https",
        "dpp.example.com",
        "/api/v1/passports/0190f1d2-7c3e-7a4b-9c1d-2e3f4a5b6c7d",
        Some("tier=legitimateInterest"),
    )
}

fn signed(parts: RequestParts, params: &SignatureParams) -> RequestParts {
    let covered = Covered::for_request(&parts);
    signed_over(parts, &covered, params)
}

fn signed_over(
    mut parts: RequestParts,
    covered: &Covered,
    params: &SignatureParams,
) -> RequestParts {
    if let Some(body) = &parts.body {
        let digest = content_digest(body);
        parts.add_header("Content-Digest", &digest);
    }
    let h = sign(&parts, covered, params, &reader_key()).unwrap();
    parts
        .with_header("Signature-Input", &h.signature_input)
        .with_header("Signature", &h.signature)
}

fn params() -> SignatureParams {
    SignatureParams::hallmark(NOW, NOW + 120, NONCE, KEYID)
}

fn verify_at(parts: &RequestParts, now: i64) -> Result<Verified, HttpSigError> {
    parse(parts)?.verify(
        parts,
        &reader_key().verifying_key(),
        now,
        &Policy::default(),
    )
}

#[test]
fn round_trip_without_and_with_body() {
    let parts = signed(read_request(), &params());
    let v = verify_at(&parts, NOW).unwrap();
    assert_eq!(
        (
            v.keyid.as_str(),
            v.nonce.as_str(),
            v.created,
            v.expires,
            v.label.as_str()
        ),
        (KEYID, NONCE, NOW, NOW + 120, LABEL)
    );
    assert_eq!(v.remember_until, NOW + 120 + DEFAULT_SKEW);
    // The base is what docs/access.md shows.
    let base = signature_base(&parts, &Covered::for_request(&parts), &params()).unwrap();
    assert_eq!(
        base,
        format!(
            "\"@method\": GET\n\"@target-uri\": https://dpp.example.com/api/v1/passports/0190f1d2-7c3e-7a4b-9c1d-2e3f4a5b6c7d?tier=legitimateInterest\n\"@signature-params\": (\"@method\" \"@target-uri\");created={NOW};expires={};nonce=\"{NONCE}\";keyid=\"{KEYID}\";alg=\"ed25519\";tag=\"hallmark-reader\"",
            NOW + 120
        )
    );

    let mut post = read_request();
    post.method = "POST".into();
    let post = signed(post.with_body(br#"{"fields":["x"]}"#.as_slice()), &params());
    assert!(parse(&post).unwrap().covered().contains("content-digest"));
    verify_at(&post, NOW).unwrap();

    // The split form of the target URI is accepted too.
    let split = Covered::new(["@method", "@authority", "@path", "@query"]).unwrap();
    verify_at(&signed_over(read_request(), &split, &params()), NOW).unwrap();
}

#[test]
fn the_hallmark_signature_is_chosen_by_tag() {
    let parts = signed(read_request(), &params());
    // Another signature (another application's) in front of ours.
    let mut two = read_request();
    let other = SignatureParams {
        tag: Some("other-app".into()),
        ..params()
    };
    let o = sign_as(
        "other",
        &two,
        &Covered::for_request(&two),
        &other,
        &reader_key(),
    )
    .unwrap();
    let h = parts.header("signature-input").unwrap();
    let s = parts.header("signature").unwrap();
    two.add_header("Signature-Input", &o.signature_input);
    two.add_header("Signature-Input", &h);
    two.add_header("Signature", &o.signature);
    two.add_header("Signature", &s);
    let v = verify_at(&two, NOW).unwrap();
    assert_eq!(v.label, LABEL);
}

#[test]
fn tampering_is_refused() {
    let parts = signed(read_request(), &params());
    let mut method = parts.clone();
    method.method = "DELETE".into();
    let mut path = parts.clone();
    path.path.push('x');
    let mut query = parts.clone();
    query.query = Some("tier=authority".into());
    let mut no_query = parts.clone();
    no_query.query = None;
    let mut host = parts.clone();
    host.authority = "evil.example".into();
    for t in [method, path, query, no_query, host] {
        assert_eq!(verify_at(&t, NOW), Err(HttpSigError::BadSignature));
    }

    let mut post = read_request();
    post.method = "POST".into();
    let post = signed(post.with_body(b"{\"a\":1}".as_slice()), &params());
    let mut body = post.clone();
    body.body = Some(b"{\"a\":2}".to_vec());
    assert_eq!(verify_at(&body, NOW), Err(HttpSigError::DigestMismatch));
    // Body and digest both replaced: the digest is covered, so the signature fails.
    let mut both = read_request();
    both.method = "POST".into();
    let mut both = both
        .with_header("Content-Digest", &content_digest(b"{\"a\":2}"))
        .with_body(b"{\"a\":2}".as_slice());
    both.add_header("Signature-Input", &post.header("signature-input").unwrap());
    both.add_header("Signature", &post.header("signature").unwrap());
    assert_eq!(verify_at(&both, NOW), Err(HttpSigError::BadSignature));

    // Another key.
    let other = SigningKey::from_bytes(&[8u8; 32]);
    let p = parse(&parts).unwrap();
    assert_eq!(
        p.verify(&parts, &other.verifying_key(), NOW, &Policy::default()),
        Err(HttpSigError::BadSignature)
    );
}

/// Sign with the given parameters and covered components, then verify at `now`.
fn refusal(
    covered: &[&str],
    params: SignatureParams,
    body: Option<&[u8]>,
    now: i64,
) -> HttpSigError {
    let mut parts = read_request();
    if let Some(b) = body {
        parts.method = "POST".into();
        parts = parts.with_body(b);
    }
    let covered = Covered::new(covered).unwrap();
    let parts = signed_over(parts, &covered, &params);
    verify_at(&parts, now).unwrap_err()
}

/// A read request with a hand-written Hallmark `Signature-Input` over `covered` and a
/// signature that cannot verify (3 bytes).
fn unsigned_input(covered: &str) -> RequestParts {
    read_request()
        .with_header(
            "Signature-Input",
            &format!(
                "hallmark=({covered});created={NOW};expires={};nonce=\"{NONCE}\";keyid=\"{KEYID}\";tag=\"hallmark-reader\"",
                NOW + 60
            ),
        )
        .with_header("Signature", "hallmark=:AAAA:")
}

#[test]
fn refusals_each_distinct() {
    use HttpSigError as E;
    let base = ["@method", "@target-uri"];
    let p = params;
    let cases: Vec<(HttpSigError, HttpSigError)> = vec![
        (verify_at(&read_request(), NOW).unwrap_err(), E::Unsigned),
        (
            verify_at(
                &read_request().with_header("Signature-Input", "x=(\"@method\")"),
                NOW,
            )
            .unwrap_err(),
            E::Unsigned,
        ),
        (
            verify_at(
                &read_request()
                    .with_header("Signature-Input", "x=(\"@method\"")
                    .with_header("Signature", "x=:AAAA:"),
                NOW,
            )
            .unwrap_err(),
            E::Malformed("Signature-Input is not a structured-field dictionary"),
        ),
        (
            verify_at(
                &read_request()
                    .with_header("Signature-Input", "x=(\"@method\");created=1")
                    .with_header("Signature", "y=:AAAA:"),
                NOW,
            )
            .unwrap_err(),
            E::Malformed("no Signature member for the signature's label"),
        ),
        (
            refusal(&base, SignatureParams { nonce: None, ..p() }, None, NOW),
            E::MissingParameter("nonce"),
        ),
        (
            refusal(&base, SignatureParams { keyid: None, ..p() }, None, NOW),
            E::MissingParameter("keyid"),
        ),
        (
            refusal(
                &base,
                SignatureParams {
                    created: None,
                    ..p()
                },
                None,
                NOW,
            ),
            E::MissingParameter("created"),
        ),
        (
            refusal(&base, SignatureParams { tag: None, ..p() }, None, NOW),
            E::MissingParameter("tag"),
        ),
        (
            refusal(
                &base,
                SignatureParams {
                    tag: Some("x".into()),
                    ..p()
                },
                None,
                NOW,
            ),
            E::WrongTag("x".into()),
        ),
        (
            refusal(
                &base,
                SignatureParams {
                    alg: Some("rsa-pss-sha512".into()),
                    ..p()
                },
                None,
                NOW,
            ),
            E::UnsupportedAlgorithm("rsa-pss-sha512".into()),
        ),
        (
            refusal(
                &base,
                SignatureParams {
                    nonce: Some("short".into()),
                    ..p()
                },
                None,
                NOW,
            ),
            E::Malformed("the nonce must be 16 to 128 characters"),
        ),
        (
            refusal(
                &base,
                SignatureParams::hallmark(NOW, NOW, NONCE, KEYID),
                None,
                NOW,
            ),
            E::Malformed("expires must be after created"),
        ),
        (
            refusal(
                &base,
                SignatureParams::hallmark(NOW, NOW + 301, NONCE, KEYID),
                None,
                NOW,
            ),
            E::WindowTooLong(301),
        ),
        (
            refusal(&base, p(), None, NOW - DEFAULT_SKEW - 1),
            E::NotYetValid,
        ),
        (
            refusal(&base, p(), None, NOW + 120 + DEFAULT_SKEW + 1),
            E::Expired,
        ),
        (
            refusal(&["@target-uri"], p(), None, NOW),
            E::MissingComponent("@method".into()),
        ),
        (
            refusal(&["@method", "@path"], p(), None, NOW),
            E::MissingComponent("@target-uri".into()),
        ),
        (
            refusal(&["@method", "@authority", "@path"], p(), None, NOW),
            E::MissingComponent("@target-uri".into()),
        ),
        (
            refusal(&base, p(), Some(b"{}".as_slice()), NOW),
            E::MissingComponent("content-digest".into()),
        ),
        (
            verify_at(
                &unsigned_input(r#""@method" "@target-uri" "x-reader""#),
                NOW,
            )
            .unwrap_err(),
            E::ComponentNotFound("x-reader".into()),
        ),
        (
            verify_at(
                &unsigned_input(r#""@method" "@target-uri" "@request-target""#),
                NOW,
            )
            .unwrap_err(),
            E::UnsupportedComponent("@request-target".into()),
        ),
        (
            verify_at(&unsigned_input(r#""@method" "@target-uri" "x";sf"#), NOW).unwrap_err(),
            E::UnsupportedComponent("x;sf".into()),
        ),
        (
            verify_at(&unsigned_input(r#""@method" "@target-uri""#), NOW).unwrap_err(),
            E::BadSignature,
        ),
    ];
    for (got, want) in cases {
        assert_eq!(got, want);
    }

    // Edges of the window are accepted: created = now + skew, now = expires + skew.
    assert!(verify_at(&signed(read_request(), &p()), NOW - DEFAULT_SKEW).is_ok());
    assert!(verify_at(&signed(read_request(), &p()), NOW + 120 + DEFAULT_SKEW).is_ok());
    let exact = SignatureParams::hallmark(NOW, NOW + 300, NONCE, KEYID);
    assert!(verify_at(&signed(read_request(), &exact), NOW).is_ok());

    // Content-Digest covered but missing from the request / not matching.
    let mut post = read_request();
    post.method = "POST".into();
    let post = post.with_body(b"{}".as_slice());
    let covered = Covered::for_request(&post);
    let h = sign(&post, &covered, &p(), &reader_key());
    assert_eq!(
        h.unwrap_err(),
        E::ComponentNotFound("content-digest".into())
    );
    let mut no_digest = post.clone();
    let with = signed(post.clone(), &p());
    no_digest.add_header("Signature-Input", &with.header("signature-input").unwrap());
    no_digest.add_header("Signature", &with.header("signature").unwrap());
    assert_eq!(
        verify_at(&no_digest, NOW),
        Err(E::ComponentNotFound("content-digest".into()))
    );
    let only_unknown = post.clone().with_header("Content-Digest", "md5=:AAAA:");
    let only_unknown = signed_over(only_unknown, &Covered::for_request(&post), &p());
    // With only an unknown algorithm the digest is missing; with sha-256 beside it (as
    // `signed_over` adds), the unknown one is ignored.
    let mut unknown = post.clone().with_header("Content-Digest", "md5=:AAAA:");
    let covered = Covered::for_request(&post);
    let h = sign(&unknown, &covered, &p(), &reader_key()).unwrap();
    unknown.add_header("Signature-Input", &h.signature_input);
    unknown.add_header("Signature", &h.signature);
    assert_eq!(verify_at(&unknown, NOW), Err(E::DigestMissing));
    assert!(verify_at(&only_unknown, NOW).is_ok());
}

#[test]
fn slugs_are_distinct() {
    use HttpSigError as E;
    let all = [
        E::Unsigned,
        E::Malformed("x"),
        E::MissingParameter("x"),
        E::UnsupportedAlgorithm("x".into()),
        E::WrongTag("x".into()),
        E::WindowTooLong(1),
        E::NotYetValid,
        E::Expired,
        E::MissingComponent("x".into()),
        E::ComponentNotFound("x".into()),
        E::UnsupportedComponent("x".into()),
        E::DigestMissing,
        E::DigestMismatch,
        E::BadSignature,
        E::Signing("x".into()),
    ];
    let mut slugs: Vec<&str> = all.iter().map(HttpSigError::slug).collect();
    assert_eq!(slugs[0], "unsigned-request");
    assert_eq!(E::Expired.slug(), "signature-expired");
    assert_eq!(E::BadSignature.slug(), "bad-signature");
    assert_eq!(E::Malformed("x").slug(), "malformed-signature");
    slugs.sort_unstable();
    slugs.dedup();
    assert_eq!(slugs.len(), all.len());
}

#[test]
fn covered_names_are_checked() {
    assert!(Covered::new(["@method", "@method"]).is_err());
    assert!(Covered::new(["Content-Type"]).is_err());
    assert!(Covered::new([""]).is_err());
    assert!(Covered::new(["@method", "content-type"]).is_ok());
}

#[test]
fn fingerprint_format() {
    let key = rfc_key().verifying_key();
    let fp = fingerprint(&key);
    assert_eq!(fp.len(), 19);
    let groups: Vec<&str> = fp.split('-').collect();
    assert_eq!(groups.len(), 4);
    assert!(groups
        .iter()
        .all(|g| g.len() == 4 && g.bytes().all(|b| CROCKFORD.contains(&b))));
    // The same bits as SHA-256's first 10 bytes, 5 at a time.
    let hash = Sha256::digest(key.as_bytes());
    let first = CROCKFORD[usize::from(hash[0] >> 3)];
    assert_eq!(fp.as_bytes()[0], first);
    let last = CROCKFORD[usize::from(hash[9] & 0x1f)];
    assert_eq!(fp.as_bytes()[18], last);
    assert_ne!(fp, fingerprint(&reader_key().verifying_key()));
    // Pinned (computed independently too): docs/access.md quotes it for RFC 9421's
    // test-key-ed25519.
    assert_eq!(fp, "P5P2-T6ZA-T4K2-CEBP");
}

/// The worked examples of docs/access.md ("Signed requests (RFC 9421)"), signed with RFC
/// 9421's test-key-ed25519: the headers there are these, and they verify.
#[test]
fn docs_access_md_examples() {
    let key = rfc_key();
    let path = "/api/v1/passports/0190f1d2-7c3e-7a4b-9c1d-2e3f4a5b6c7d";
    let (created, expires) = (1_800_000_000, 1_800_000_120);

    let get = RequestParts::new(
        "GET",
        "https",
        "dpp.example.com",
        path,
        Some("tier=legitimateInterest"),
    );
    let params = SignatureParams::hallmark(created, expires, "tDq0xJ7yQ2mZ9kLr5vW8cA", "reader-1");
    let h = sign(&get, &Covered::for_request(&get), &params, &key).unwrap();
    assert_eq!(
        h.signature_input,
        r#"hallmark=("@method" "@target-uri");created=1800000000;expires=1800000120;nonce="tDq0xJ7yQ2mZ9kLr5vW8cA";keyid="reader-1";alg="ed25519";tag="hallmark-reader""#
    );
    assert_eq!(h.signature, "hallmark=:9CpYKaXC7TiO1l3e35tC3lLGCINujodWOHCbvbVwVrk0ph0gdjP5X+ztLmU/6uYG4d3iTxUwgPet8kuYJ5inAg==:");
    let get = get
        .with_header("Signature-Input", &h.signature_input)
        .with_header("Signature", &h.signature);
    parse(&get)
        .unwrap()
        .verify(&get, &key.verifying_key(), created + 5, &Policy::default())
        .unwrap();

    let body = br#"{"fields":["batteryChemistry"]}"#;
    assert_eq!(
        content_digest(body),
        "sha-256=:zsoTQ+boqWCPoSDDbOoXOUyy/X+6SKEEqH8DAOOKuAs=:"
    );
    let post = RequestParts::new(
        "POST",
        "https",
        "dpp.example.com",
        &format!("{path}/query"),
        None,
    )
    .with_header("Content-Digest", &content_digest(body))
    .with_body(body.as_slice());
    let params = SignatureParams::hallmark(created, expires, "Hc3pV0sN8qR1wE6yU4tK2g", "reader-1");
    let h = sign(&post, &Covered::for_request(&post), &params, &key).unwrap();
    assert_eq!(
        h.signature_input,
        r#"hallmark=("@method" "@target-uri" "content-digest");created=1800000000;expires=1800000120;nonce="Hc3pV0sN8qR1wE6yU4tK2g";keyid="reader-1";alg="ed25519";tag="hallmark-reader""#
    );
    assert_eq!(h.signature, "hallmark=:YzbKJfRpL5SnwBCdYW46L6cgiL6BbGjGc9A7kD/oL6zZuGj/KAfaQ5tc1kToXvbmi0qndt886wXM26MrtICpCg==:");
    let post = post
        .with_header("Signature-Input", &h.signature_input)
        .with_header("Signature", &h.signature);
    parse(&post)
        .unwrap()
        .verify(&post, &key.verifying_key(), created + 5, &Policy::default())
        .unwrap();
}

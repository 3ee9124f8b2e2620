//! `hallmark verify` as a user runs it: real files, real process, exit codes.

use ed25519_dalek::SigningKey;
use hallmark_core::credential::{self, UnsignedCredential};
use hallmark_core::did::{DidDocument, DidWeb, KeyStatus, PublishedKey};
use hallmark_core::keys::Signer as _;
use std::process::Command;

fn run(args: &[&std::ffi::OsStr]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hallmark"))
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap(), text)
}

/// A credential valid from `valid_from`, signed by a did:web key, and that DID's document.
fn issue(
    valid_from: time::OffsetDateTime,
    subject: serde_json::Value,
) -> (credential::SecuredCredential, DidDocument) {
    let did = DidWeb::from_base_url("https://dpp.example.com").unwrap();
    let key = SigningKey::from_bytes(&[5; 32]);
    let unsigned = UnsignedCredential {
        id: "https://dpp.example.com/passports/x/versions/1".into(),
        types: vec!["DigitalProductPassport".into()],
        issuer: did.as_str().into(),
        valid_from,
        subject,
        extra_contexts: vec![],
    };
    let c = credential::secure(&unsigned, &did.key_url(&key.key_id()), valid_from, &key).unwrap();
    let doc = DidDocument::build(
        &did,
        &[PublishedKey {
            public_key: key.verifying_key(),
            status: KeyStatus::Current,
        }],
    );
    (c, doc)
}

#[test]
fn verify_prints_checks_and_sets_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let (c, doc) = issue(
        time::macros::datetime!(2026-01-01 0:00 UTC),
        serde_json::json!({"id": "urn:example:1", "mass": 12.5}),
    );
    let did_path = dir.path().join("did.json");
    let di_path = dir.path().join("passport.json");
    let jwt_path = dir.path().join("passport.jwt");
    let bad_path = dir.path().join("tampered.json");
    std::fs::write(&did_path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    std::fs::write(&di_path, &c.data_integrity).unwrap();
    std::fs::write(&jwt_path, &c.jwt).unwrap();
    std::fs::write(
        &bad_path,
        String::from_utf8(c.data_integrity.clone())
            .unwrap()
            .replace("12.5", "13.5"),
    )
    .unwrap();

    let flag = std::ffi::OsStr::new("--did-document");
    let (code, text) = run(&[
        std::ffi::OsStr::new("verify"),
        di_path.as_os_str(),
        flag,
        did_path.as_os_str(),
    ]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("pass  signature") && text.ends_with("VALID\n"),
        "{text}"
    );

    // The validity period is checked by default; where the DID document came from is said.
    let (code, text) = run(&[
        std::ffi::OsStr::new("verify"),
        jwt_path.as_os_str(),
        flag,
        did_path.as_os_str(),
    ]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("pass  validity"), "{text}");
    assert!(
        text.contains(&format!(
            "pass  did-document          {} (given with --did-document)",
            did_path.display()
        )),
        "{text}"
    );

    let (code, text) = run(&[
        std::ffi::OsStr::new("verify"),
        bad_path.as_os_str(),
        flag,
        did_path.as_os_str(),
    ]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("FAIL  signature") && text.contains("INVALID"),
        "{text}"
    );

    let (code, text) = run(&[
        std::ffi::OsStr::new("verify"),
        bad_path.as_os_str(),
        flag,
        did_path.as_os_str(),
        std::ffi::OsStr::new("--json"),
    ]);
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "signature" && c["outcome"] == "fail"));

    let missing = dir.path().join("nope.json");
    let (code, text) = run(&[
        std::ffi::OsStr::new("verify"),
        missing.as_os_str(),
        flag,
        did_path.as_os_str(),
    ]);
    assert_eq!(code, 2);
    assert!(text.contains("nope.json"), "{text}");
}

/// Validity dates are checked by default: a credential not yet valid (or expired) is
/// INVALID (exit 1) unless `--skip-validity-dates` is given.
#[test]
fn validity_dates_are_checked_by_default_and_can_be_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let (c, doc) = issue(
        time::macros::datetime!(2999-01-01 0:00 UTC),
        serde_json::json!({"id": "urn:example:2"}),
    );
    let did_path = dir.path().join("did.json");
    let cred_path = dir.path().join("passport.json");
    std::fs::write(&did_path, serde_json::to_vec(&doc).unwrap()).unwrap();
    std::fs::write(&cred_path, &c.data_integrity).unwrap();
    let args = [
        std::ffi::OsStr::new("verify"),
        cred_path.as_os_str(),
        std::ffi::OsStr::new("--did-document"),
        did_path.as_os_str(),
    ];
    let (code, text) = run(&args);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("FAIL  validity              not valid before 2999"),
        "{text}"
    );
    let mut skip = args.to_vec();
    skip.push(std::ffi::OsStr::new("--skip-validity-dates"));
    let (code, text) = run(&skip);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("skip  validity"), "{text}");
}

// --- Status lists (W3C Bitstring Status List): `--status-list` files and `--from` ---

use hallmark_core::access::PerAudience;
use hallmark_core::credential::SecuredCredential;
use hallmark_core::issue::Issuer;
use hallmark_core::passport::{
    Granularity, Gtin, Passport, PassportDraft, PassportId, PassportStatus, ProductIdentifier,
    SectorRef, Sha256Digest,
};
use hallmark_core::sector::SectorRegistry;
use hallmark_core::status::{BitstringStatusList, StatusPurpose, StatusRef};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

const REF: StatusRef = StatusRef {
    list: 0,
    index: 94_567,
};

/// A passport issued by the node at `base` (real `Issuer::issue_all`), with and without status
/// entries, and the means to sign its status lists.
struct Issued {
    issuer: Issuer,
    key: SigningKey,
    at: time::OffsetDateTime,
    id: PassportId,
    doc: DidDocument,
    with_status: PerAudience<SecuredCredential>,
    without_status: PerAudience<SecuredCredential>,
}

impl Issued {
    fn new(base: &str) -> Issued {
        let issuer = Issuer::from_base_url(base).unwrap();
        let key = SigningKey::from_bytes(&[9; 32]);
        // A minute ago: the lists are in their validity period, so dates are checked.
        let at = (time::OffsetDateTime::now_utc() - time::Duration::minutes(1))
            .replace_nanosecond(0)
            .unwrap();
        let draft = PassportDraft {
            product: ProductIdentifier::new(
                Gtin::parse("09506000134352").unwrap(),
                None,
                Some("SN-STATUS-1".into()),
            )
            .unwrap(),
            granularity: Granularity::Item,
            economic_operator_id: "urn:eori:DE123456789012345".into(),
            facility_id: None,
            commodity_code: None,
            sector: SectorRef {
                id: "generic".into(),
                schema_version: "1.0.0".into(),
            },
            components: vec![],
            data: serde_json::json!({"public": {"name": "Cell module"}}),
        };
        let id = PassportId::from_parts(1_793_000_000_000, [7; 10]).unwrap();
        let mut p = Passport::new_draft(draft, id, at).unwrap();
        p.transition(PassportStatus::Published, at).unwrap();
        let registry = SectorRegistry::builtin();
        let issue = |status| {
            issuer
                .issue_all(&registry.validate(p.clone()).unwrap(), status, &key, at)
                .unwrap()
        };
        let with_status = issue(Some(REF));
        let without_status = issue(None);
        let doc = DidDocument::build(
            &issuer.did,
            &[PublishedKey {
                public_key: key.verifying_key(),
                status: KeyStatus::Current,
            }],
        );
        Issued {
            issuer,
            key,
            at,
            id,
            doc,
            with_status,
            without_status,
        }
    }

    /// List 0 of `purpose`, the passport's bit set or clear.
    fn list(&self, purpose: StatusPurpose, set: bool) -> SecuredCredential {
        let mut bits = BitstringStatusList::new();
        bits.set(REF.index, set).unwrap();
        self.issuer
            .issue_status_list(purpose, REF.list, &bits, &self.key, self.at)
            .unwrap()
    }
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// `hallmark verify CRED --did-document DID [--status-list L]…`.
fn verify_with_lists(cred: &Path, did: &Path, lists: &[&Path], extra: &[&str]) -> (i32, String) {
    let mut args: Vec<&OsStr> = vec![
        OsStr::new("verify"),
        cred.as_os_str(),
        OsStr::new("--did-document"),
        did.as_os_str(),
    ];
    for l in lists {
        args.push(OsStr::new("--status-list"));
        args.push(l.as_os_str());
    }
    args.extend(extra.iter().map(OsStr::new));
    run(&args)
}

/// A line of the text report: `<mark>  <name padded to 21> <detail…>`.
fn line(mark: &str, name: &str) -> String {
    format!("{mark}  {name:<21} ")
}

#[test]
fn status_lists_given_as_files_decide_the_status() {
    let dir = tempfile::tempdir().unwrap();
    let issued = Issued::new("https://dpp.example.com");
    let did = write(
        dir.path(),
        "did.json",
        serde_json::to_vec(&issued.doc).unwrap(),
    );
    let cred = write(
        dir.path(),
        "passport.json",
        &issued.with_status.public.data_integrity,
    );
    let jwt = write(
        dir.path(),
        "passport.jwt",
        &issued.with_status.authority.jwt,
    );
    let suspension = |set| issued.list(StatusPurpose::Suspension, set);
    let revocation = |set| issued.list(StatusPurpose::Revocation, set);
    // Either form of a list will do: suspension as Data Integrity, revocation as vc+jwt.
    let s_clear = write(dir.path(), "s0.json", suspension(false).data_integrity);
    let s_set = write(dir.path(), "s1.json", suspension(true).data_integrity);
    let r_clear = write(dir.path(), "r0.jwt", revocation(false).jwt);
    let r_set = write(dir.path(), "r1.jwt", revocation(true).jwt);

    // Both bits clear: valid, exit 0, each list's checks named.
    for c in [&cred, &jwt] {
        let (code, text) = verify_with_lists(c, &did, &[&s_clear, &r_clear], &[]);
        assert_eq!(code, 0, "{text}");
        assert!(
            text.contains(&line("pass", "status-list-signature")),
            "{text}"
        );
        assert!(text.contains(&line("pass", "status-list")), "{text}");
        assert!(
            text.contains(&format!(
                "{}valid (status lists signed",
                line("pass", "status")
            )),
            "{text}"
        );
        assert!(text.ends_with("VALID\n"), "{text}");
    }

    // Suspended: not in force, exit 3.
    let (code, text) = verify_with_lists(&cred, &did, &[&s_set, &r_clear], &[]);
    assert_eq!(code, 3, "{text}");
    assert!(
        text.contains(&format!(
            "{}suspended: bit {} of https://dpp.example.com/status/suspension/0",
            line("FAIL", "status"),
            REF.index
        )),
        "{text}"
    );
    assert!(
        text.ends_with("NOT IN FORCE: the passport is suspended\n"),
        "{text}"
    );

    // Revoked (and suspended too: revoked wins), also as JSON.
    let (code, text) = verify_with_lists(&cred, &did, &[&s_set, &r_set], &["--json"]);
    assert_eq!(code, 3, "{text}");
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["verdict"]["verdict"], "not-in-force");
    assert_eq!(report["verdict"]["status"], "revoked");
    assert_eq!(report["listStatus"], "revoked");
    let (code, text) = verify_with_lists(&jwt, &did, &[&s_clear, &r_set], &[]);
    assert_eq!(code, 3, "{text}");
    assert!(
        text.contains(&format!("{}revoked", line("FAIL", "status"))),
        "{text}"
    );

    // Only one list given: the other entry is not checked (a warning), the given one counts.
    let (code, text) = verify_with_lists(&cred, &did, &[&s_clear], &[]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(&format!(
            "{}not checked: no status list supplied for revocation",
            line("WARN", "status")
        )),
        "{text}"
    );
    let (code, text) = verify_with_lists(&cred, &did, &[&r_set], &[]);
    assert_eq!(code, 3, "{text}");
}

#[test]
fn a_tampered_status_list_fails_its_signature() {
    let dir = tempfile::tempdir().unwrap();
    let issued = Issued::new("https://dpp.example.com");
    let did = write(
        dir.path(),
        "did.json",
        serde_json::to_vec(&issued.doc).unwrap(),
    );
    let cred = write(
        dir.path(),
        "passport.json",
        &issued.with_status.public.data_integrity,
    );
    // The node set the bit; someone flips one character of encodedList in the copy.
    let signed = issued.list(StatusPurpose::Revocation, true);
    let mut v: serde_json::Value = serde_json::from_slice(&signed.data_integrity).unwrap();
    let encoded = v["credentialSubject"]["encodedList"].as_str().unwrap();
    let at = encoded.len() / 2;
    let flipped = if &encoded[at..=at] == "A" { "B" } else { "A" };
    let tampered = format!("{}{flipped}{}", &encoded[..at], &encoded[at + 1..]);
    assert_ne!(tampered, encoded);
    v["credentialSubject"]["encodedList"] = serde_json::json!(tampered);
    let list = write(dir.path(), "r.json", serde_json::to_vec(&v).unwrap());
    let (code, text) = verify_with_lists(&cred, &did, &[&list], &[]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(&format!(
            "{}revocation list from {}: signature: ",
            line("FAIL", "status-list-signature"),
            list.display()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{}a status list did not verify",
            line("skip", "status")
        )),
        "{text}"
    );
    assert!(text.ends_with("INVALID\n"), "{text}");
}

/// Credentials issued before status lists verify as before: the status check is skipped
/// ("no status entry"), never failed; a credential with entries but no list given is a
/// warning.
#[test]
fn without_status_entries_or_lists_the_status_is_skipped_or_warned() {
    let dir = tempfile::tempdir().unwrap();
    let issued = Issued::new("https://dpp.example.com");
    let did = write(
        dir.path(),
        "did.json",
        serde_json::to_vec(&issued.doc).unwrap(),
    );
    let old = write(
        dir.path(),
        "old.json",
        &issued.without_status.public.data_integrity,
    );
    let (code, text) = verify_with_lists(&old, &did, &[], &[]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(&format!("{}no status entry", line("skip", "status"))),
        "{text}"
    );
    assert!(text.ends_with("VALID\n"), "{text}");

    let cred = write(
        dir.path(),
        "passport.json",
        &issued.with_status.public.data_integrity,
    );
    let (code, text) = verify_with_lists(&cred, &did, &[], &[]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(&format!(
            "{}not checked: no status list supplied for suspension",
            line("WARN", "status")
        )),
        "{text}"
    );
    // A file that is not a list at all fails rather than being ignored.
    let junk = write(dir.path(), "junk.json", b"{\"not\": \"a list\"}");
    let (code, text) = verify_with_lists(&cred, &did, &[&junk], &[]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(&line("FAIL", "status-list-signature")),
        "{text}"
    );
    // A missing file is an I/O error (exit 2), naming it.
    let missing = dir.path().join("nope.json");
    let (code, text) = verify_with_lists(&cred, &did, &[&missing], &[]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("nope.json"), "{text}");
}

/// What the fake node answers on one path: the body (Data Integrity, or anything), the
/// `vc+jwt` body when asked for that form, and extra headers.
#[derive(Clone)]
struct Served {
    body: Vec<u8>,
    jwt: Option<Vec<u8>>,
    headers: Vec<(&'static str, String)>,
}

type Routes = std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, Served>>>;

/// A minimal HTTP/1.1 server on a loopback port standing in for a node: exact request
/// targets (path and query) from `routes`, 404 otherwise, one request per connection.
fn serve(listener: std::net::TcpListener, routes: Routes) {
    use std::io::{Read, Write};
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut head = Vec::new();
            let mut chunk = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&chunk[..n]),
                }
            }
            let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
            let target = head.split_whitespace().nth(1).unwrap_or("").to_string();
            let jwt = head.contains("\r\naccept: application/vc+jwt");
            let found = routes.lock().unwrap().get(&target).cloned();
            let (status, headers, body) = match found {
                Some(r) => {
                    let body = match (jwt, r.jwt) {
                        (true, Some(j)) => j,
                        _ => r.body,
                    };
                    ("200 OK", r.headers, body)
                }
                None => ("404 Not Found", vec![], b"{}".to_vec()),
            };
            let mut answer = format!(
                "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n",
                body.len()
            );
            for (name, value) in headers {
                answer.push_str(&format!("{name}: {value}\r\n"));
            }
            answer.push_str("\r\n");
            let _ = s.write_all(answer.as_bytes());
            let _ = s.write_all(&body);
        }
    });
}

/// `hallmark verify --from` against a stand-in node serving the credential, its status lists
/// and a transparency log holding the publish event and the lists' `status-list.published`
/// events: the lists named by the credential are fetched and verified, and with `--log-key`
/// each list's log inclusion is checked (`status-list-log`) in either form.
#[test]
fn from_a_node_the_status_lists_are_fetched_and_their_log_inclusion_checked() {
    use base64::Engine as _;
    use hallmark_core::tlog::event::{CredentialHashes, Detail, Publication, StatusListPublished};
    use hallmark_core::tlog::{
        sign_checkpoint, B64Hash, Checkpoint, CompactTree, InclusionProof, LeafEvent, VerifierKey,
    };

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let issued = Issued::new(&base);
    let dir = tempfile::tempdir().unwrap();
    let did = write(
        dir.path(),
        "did.json",
        serde_json::to_vec(&issued.doc).unwrap(),
    );
    let sha = |b: &[u8]| Sha256Digest::of(b).0;
    let s_clear = issued.list(StatusPurpose::Suspension, false);
    let s_set = issued.list(StatusPurpose::Suspension, true);
    let r_clear = issued.list(StatusPurpose::Revocation, false);

    // The log: node start, the publication, suspension list v1, revocation list v1,
    // suspension list v2 (the bit set).
    let cred = &issued.with_status;
    let publication = Publication {
        version: 1,
        key_id: "z6MkTest".into(),
        credential_sha256: Some(CredentialHashes::new(
            &sha(&cred.public.data_integrity),
            &sha(&cred.legitimate_interest.data_integrity),
            &sha(&cred.authority.data_integrity),
        )),
    }
    .to_value()
    .unwrap();
    let list_detail = |purpose: &str, version, list: &SecuredCredential| {
        StatusListPublished::new(
            purpose,
            REF.list,
            version,
            &sha(&list.data_integrity),
            &sha(list.jwt.as_bytes()),
        )
        .to_value()
        .unwrap()
    };
    let events = [
        ("node.started", None, serde_json::Value::Null),
        ("passport.published", Some(&issued.id), publication),
        (
            "status-list.published",
            None,
            list_detail("suspension", 1, &s_clear),
        ),
        (
            "status-list.published",
            None,
            list_detail("revocation", 1, &r_clear),
        ),
        (
            "status-list.published",
            None,
            list_detail("suspension", 2, &s_set),
        ),
    ];
    let mut tree = CompactTree::new();
    let mut leaves = Vec::new();
    for (seq, (action, passport, detail)) in (1u64..).zip(&events) {
        let leaf = LeafEvent::new(seq, issued.at, "node", action, *passport, None, detail)
            .unwrap()
            .leaf_bytes()
            .unwrap();
        tree.push(&leaf);
        leaves.push(leaf);
    }
    let size = leaves.len() as u64;
    let log_key = SigningKey::from_bytes(&[11; 32]);
    let origin = "dpp.test/log";
    let vkey = VerifierKey::new(origin, log_key.verifying_key())
        .unwrap()
        .to_string();
    let note = sign_checkpoint(
        &Checkpoint::new(origin, size, tree.root_at(size).unwrap()),
        origin,
        &log_key,
    )
    .unwrap();

    let routes: Routes = Default::default();
    let add = |path: String, body: Vec<u8>, jwt: Option<Vec<u8>>, headers| {
        routes
            .lock()
            .unwrap()
            .insert(path, Served { body, jwt, headers });
    };
    let indexed = |i: u64| vec![("hallmark-log-index", i.to_string())];
    add(
        "/passports/x".into(),
        cred.public.data_integrity.clone(),
        Some(cred.public.jwt.clone().into_bytes()),
        vec![
            ("hallmark-passport-status", "published".into()),
            ("hallmark-log-index", "1".into()),
        ],
    );
    let list_route = |purpose: &str| format!("/status/{purpose}/{}", REF.list);
    let served_list = |l: &SecuredCredential, i| {
        (
            l.data_integrity.clone(),
            Some(l.jwt.clone().into_bytes()),
            indexed(i),
        )
    };
    let (b, j, h) = served_list(&s_clear, 2);
    add(list_route("suspension"), b, j, h);
    let (b, j, h) = served_list(&r_clear, 3);
    add(list_route("revocation"), b, j, h);
    add("/log/checkpoint".into(), note.into_bytes(), None, vec![]);
    for (index, leaf) in (0u64..).zip(&leaves) {
        let proof = InclusionProof {
            leaf_index: index,
            tree_size: size,
            leaf_hash: B64Hash(hallmark_core::tlog::leaf_hash(leaf)),
            leaf: Some(base64::engine::general_purpose::STANDARD.encode(leaf)),
            hashes: tree
                .inclusion_proof(index, size)
                .unwrap()
                .into_iter()
                .map(B64Hash)
                .collect(),
        };
        add(
            format!("/log/proof/inclusion?index={index}&size={size}"),
            serde_json::to_vec(&proof).unwrap(),
            None,
            vec![],
        );
    }
    serve(listener, routes.clone());

    let url = format!("{base}/passports/x");
    let verify = |extra: &[&str]| {
        let mut args: Vec<&OsStr> = vec![
            OsStr::new("verify"),
            OsStr::new("--from"),
            OsStr::new(&url),
            OsStr::new("--did-document"),
            did.as_os_str(),
        ];
        args.extend(extra.iter().map(OsStr::new));
        run(&args)
    };
    let with_log = ["--log-key", vkey.as_str()];

    // Both lists fetched (Data Integrity, then vc+jwt), verified and found in the log.
    for (extra, form) in [
        (&with_log[..], "(Data Integrity)"),
        (&["--log-key", vkey.as_str(), "--jwt"][..], "(vc+jwt)"),
    ] {
        let (code, text) = verify(extra);
        assert!(text.contains(&line("pass", "served-status")), "{text}");
        assert!(text.contains(&line("pass", "log-inclusion")), "{text}");
        if form == "(vc+jwt)" {
            // The passport's own log leaf records only its Data Integrity form (as before
            // status lists); a list's leaf records both forms.
            assert_eq!(code, 1, "{text}");
            assert!(
                text.contains(&format!(
                    "{}the log records the SHA-256 of the Data Integrity credential",
                    line("FAIL", "log-leaf")
                )),
                "{text}"
            );
        } else {
            assert_eq!(code, 0, "{text}");
            assert!(text.ends_with("VALID\n"), "{text}");
        }
        for (purpose, leaf) in [("suspension", 2), ("revocation", 3)] {
            assert!(
                text.contains(&format!(
                    "{}leaf {leaf} (status-list.published of {purpose} list 0 version 1) \
                     records this list's SHA-256 {form} and is in the tree of size {size}",
                    line("pass", "status-list-log")
                )),
                "{text}"
            );
            assert!(
                text.contains(&format!("{base}/status/{purpose}/0")),
                "{text}"
            );
        }
        assert!(
            text.contains(&format!("{}valid", line("pass", "status"))),
            "{text}"
        );
        // The status is the last check, after the lists' own.
        let last = text.lines().rev().nth(1).unwrap();
        assert!(last.starts_with(&line("pass", "status")), "{text}");
    }
    // Without --log-key: the lists are still fetched and checked, no log check.
    let (code, text) = verify(&[]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(&line("pass", "status-list-signature")),
        "{text}"
    );
    assert!(!text.contains("status-list-log"), "{text}");

    // The node signs suspension list version 2 (leaf 4): suspended, exit 3; its log leaf
    // is found.
    let (b, j, h) = served_list(&s_set, 4);
    add(list_route("suspension"), b, j, h);
    let (code, text) = verify(&with_log);
    assert_eq!(code, 3, "{text}");
    assert!(
        text.contains(&format!(
            "{}suspended: bit {}",
            line("FAIL", "status"),
            REF.index
        )),
        "{text}"
    );
    assert!(
        text.contains("status-list.published of suspension list 0 version 2"),
        "{text}"
    );
    assert!(
        text.ends_with("NOT IN FORCE: the passport is suspended\n"),
        "{text}"
    );

    // A list whose Hallmark-Log-Index names another list's leaf: not the one logged.
    let (b, j, _) = served_list(&s_set, 2);
    add(list_route("suspension"), b.clone(), j.clone(), indexed(2));
    let (code, text) = verify(&with_log);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(&format!(
            "{}leaf 2 (status-list.published of suspension list 0 version 1) does not record \
             the SHA-256 of this list",
            line("FAIL", "status-list-log")
        )),
        "{text}"
    );
    // No Hallmark-Log-Index at all: the proof cannot be had, fail closed.
    add(list_route("suspension"), b, j, vec![]);
    let (code, text) = verify(&with_log);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(&line("FAIL", "status-list-log")) && text.contains("no Hallmark-Log-Index"),
        "{text}"
    );

    // A list the node does not serve: the status is unknown — fail closed (exit 1).
    routes.lock().unwrap().remove(&list_route("revocation"));
    let (code, text) = verify(&[]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(&format!(
            "{}cannot fetch the status list: {base}/status/revocation/0: HTTP 404",
            line("FAIL", "status-list")
        )),
        "{text}"
    );
    assert!(text.ends_with("INVALID\n"), "{text}");
}

/// `hallmark verify --from` of a credential signed with a did:key (and `hallmark fetch`'s
/// shared machinery): the key is resolved from itself, no DID document is fetched, and the
/// node's answer without a status header is a warning, not a failure. A did:key credential
/// whose issuer is another DID is refused by default and accepted, with a warning, under
/// `--allow-foreign-issuer`.
#[test]
fn from_a_node_a_did_key_credential_is_resolved_from_its_key() {
    use hallmark_core::did_key::DidKey;
    let key = SigningKey::from_bytes(&[31; 32]);
    let dk = DidKey::of(&key.verifying_key());
    let signed = |issuer: &str| {
        let unsigned = UnsignedCredential {
            id: "https://dpp.example.com/passports/x/versions/1".into(),
            types: vec!["DigitalProductPassport".into()],
            issuer: issuer.into(),
            valid_from: time::macros::datetime!(2026-01-01 0:00 UTC),
            subject: serde_json::json!({"id": "urn:example:1"}),
            extra_contexts: vec![],
        };
        credential::secure(
            &unsigned,
            &dk.method_id(),
            time::macros::datetime!(2026-01-01 0:00 UTC),
            &key,
        )
        .unwrap()
    };
    let own = signed(dk.as_str());
    let foreign = signed("https://vc.example/issuers/5678");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let routes: Routes = Default::default();
    for (path, c) in [("/own", &own), ("/foreign", &foreign)] {
        routes.lock().unwrap().insert(
            path.into(),
            Served {
                body: c.data_integrity.clone(),
                jwt: Some(c.jwt.clone().into_bytes()),
                headers: vec![],
            },
        );
    }
    serve(listener, routes);
    let verify = |path: &str, extra: &[&str]| {
        let url = format!("{base}{path}");
        let mut args: Vec<&std::ffi::OsStr> = vec!["verify".as_ref(), "--from".as_ref()];
        args.push(url.as_ref());
        args.extend(extra.iter().map(std::ffi::OsStr::new));
        run(&args)
    };
    for extra in [&[][..], &["--jwt"][..]] {
        let (code, text) = verify("/own", extra);
        assert_eq!(code, 0, "{extra:?}: {text}");
        assert!(
            text.contains(&format!(
                "pass  did-document          {dk} (did:key, resolved from the key; no network)"
            )) && text.contains(&line("pass", "signature"))
                && text.contains(&line("WARN", "served-status")),
            "{extra:?}: {text}"
        );
    }
    let (code, text) = verify("/foreign", &[]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains(&line("FAIL", "issuer")), "{text}");
    let (code, text) = verify("/foreign", &["--allow-foreign-issuer"]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(&line("WARN", "issuer")) && text.contains(&line("pass", "signature")),
        "{text}"
    );
}

//! EU DPP registry submissions over real HTTP (issue 19 item 3; docs/registry.md): the
//! export of 250 passports as three files that validate against the committed schema
//! (checked here with the JSON Schema validator directly, not through the node's own check)
//! and whose hashes are the SHA-256 of the bytes the version URLs serve, their ETags and
//! their `passport.published` log leaves; the record step's checks (hash mismatch, conflict,
//! bad file: nothing recorded), its audit event, and where a registration shows (public
//! list, consumer page, GS1 linkset, the next export's `previousRegistration`).

use hallmark_testkit::{self as kit, basic, Backend, Node, TestNode, BASE_URL};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const TEMPLATE: &str = "https://backup.example.eu/dpp/{uuid}/versions/{version}";
const EXPORT: &str = "/api/v1/registry/export";
const RECORD: &str = "/api/v1/registry/registrations";

fn draft(serial: &str) -> Value {
    let mut d = kit::battery_draft(serial);
    d["commodityCode"] = json!("85076000");
    d
}

/// The committed export schema, compiled by the test itself.
fn export_schema() -> jsonschema::Validator {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../hallmark-core/schemas/registry-export.schema.json"
    );
    let schema: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

/// Every page of one export run: (files, skipped).
async fn export_all(node: &Node) -> (Vec<Value>, Vec<Value>) {
    let (mut files, mut skipped) = (Vec::new(), Vec::new());
    let (mut export_id, mut after, mut part) = (None::<String>, None::<String>, 1);
    loop {
        let mut path = format!("{EXPORT}?limit=100&part={part}");
        if let Some(id) = &export_id {
            path.push_str(&format!("&exportId={id}"));
        }
        if let Some(a) = &after {
            path.push_str(&format!("&after={a}"));
        }
        let page = admin_get(node, &path).await;
        export_id = Some(page["exportId"].as_str().unwrap().to_owned());
        skipped.extend(page["skipped"].as_array().unwrap().iter().cloned());
        if !page["file"].is_null() {
            files.push(page["file"].clone());
            part += 1;
        }
        match page["next"].as_str() {
            Some(n) => after = Some(n.to_owned()),
            None => break,
        }
    }
    (files, skipped)
}

/// An admin GET with the admin login, answered 200; its JSON.
async fn admin_get(node: &Node, path: &str) -> Value {
    let r = node.call(Method::GET, path, Some(&basic()), None).await;
    assert_eq!(
        r.status,
        200,
        "{path}: {}",
        String::from_utf8_lossy(&r.body)
    );
    r.json()
}

fn path_of(url: &str) -> &str {
    url.strip_prefix(BASE_URL)
        .expect("a URL under the public base URL")
}

async fn registry_export_of_250_passports_is_three_files_matching_the_served_versions(
    backend: Backend,
) {
    let node = TestNode::new(backend).backup_link(TEMPLATE).start().await;
    let drafts: Vec<Value> = (0..250).map(|i| draft(&format!("R{i}"))).collect();
    let ids = node.publish_batch("reg", &drafts, 100).await;
    assert_eq!(ids.len(), 250);
    // One generic passport with an EORI operator and no commodity code: skipped, with both
    // reasons, never in a file.
    let generic = node
        .publish_draft_as(&basic(), &kit::generic_draft("G1"))
        .await;

    let (files, skipped) = export_all(&node).await;
    let sizes: Vec<usize> = files
        .iter()
        .map(|f| f["entries"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [100, 100, 50]);
    let validator = export_schema();
    for (i, file) in files.iter().enumerate() {
        let errors: Vec<String> = validator.iter_errors(file).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "file {i}: {errors:?}");
        assert_eq!(file["part"], i + 1);
        assert_eq!(file["exportId"], files[0]["exportId"]);
    }
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0]["passportId"], format!("urn:uuid:{generic}"));
    let reasons = skipped[0]["reasons"].to_string();
    assert!(reasons.contains("not an ISO/IEC 15459"), "{reasons}");
    assert!(reasons.contains("commodityCode"), "{reasons}");

    // Every entry's hash is the SHA-256 of what its version URL serves, its ETag, and what
    // its publication's log leaf commits to.
    let mut seen = std::collections::BTreeSet::new();
    for entry in files.iter().flat_map(|f| f["entries"].as_array().unwrap()) {
        let uuid = entry["passportId"]
            .as_str()
            .unwrap()
            .strip_prefix("urn:uuid:")
            .unwrap();
        assert!(seen.insert(uuid.to_owned()), "{uuid} twice");
        let served = node
            .get_public(
                path_of(entry["dppVersionUrl"].as_str().unwrap()),
                Some("application/vc+ld+json"),
            )
            .await;
        assert_eq!(served.status, 200);
        let sha = hex::encode(Sha256::digest(&served.body));
        assert_eq!(entry["dppSha256"], sha.as_str());
        assert_eq!(served.header("etag"), Some(format!("\"{sha}\"").as_str()));
        assert_eq!(entry["dppVersion"], 1);
        assert_eq!(
            entry["backupLink"],
            format!("https://backup.example.eu/dpp/{uuid}/versions/1")
        );
        assert_eq!(
            entry["dppApiEndpoint"],
            format!("{BASE_URL}/v1/dpps/{uuid}")
        );
        assert_eq!(entry["uniqueOperatorIdentifier"]["value"], "4012345000016");
        assert_eq!(entry["commodityCode"], "85076000");
    }
    assert_eq!(seen.len(), 250);
    let first = &files[0]["entries"][0];
    let uuid = first["passportId"]
        .as_str()
        .unwrap()
        .strip_prefix("urn:uuid:")
        .unwrap();
    let history = admin_get(&node, &format!("/api/v1/passports/{uuid}/history")).await;
    let published = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "passport.published")
        .expect("the publication event");
    assert_eq!(
        published["detail"]["credentialSha256"]["public"],
        first["dppSha256"]
    );
}
kit::both!(registry_export_of_250_passports_is_three_files_matching_the_served_versions);

fn answer(entry: &Value, registration_id: &str, hash: &str) -> Value {
    json!({
        "passportId": entry["passportId"],
        "dppVersion": entry["dppVersion"],
        "registrationId": registration_id,
        "proofOfRegistration": {"registry": "EU DPP", "id": registration_id, "hash": hash},
        "hash": hash,
    })
}

fn record_file(answers: Vec<Value>) -> Value {
    json!({"schemaVersion": "1.0.0", "registrations": answers})
}

async fn registrations_are_checked_before_any_is_recorded_and_then_shown(backend: Backend) {
    let node = TestNode::new(backend).backup_link(TEMPLATE).start().await;
    let drafts: Vec<Value> = (0..3).map(|i| draft(&format!("S{i}"))).collect();
    let ids = node.publish_batch("reg", &drafts, 100).await;
    let (files, _) = export_all(&node).await;
    let entries = files[0]["entries"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 3);
    let sha = |i: usize| entries[i]["dppSha256"].as_str().unwrap().to_owned();

    // A file whose second answer carries another hash: refused whole, nothing recorded.
    let wrong = "00".repeat(32);
    let r = node
        .call(
            Method::POST,
            RECORD,
            Some(&basic()),
            Some(&record_file(vec![
                answer(&entries[0], "EU-1", &sha(0)),
                answer(&entries[1], "EU-2", &wrong),
            ])),
        )
        .await;
    let p = r.problem(409, "registry-hash-mismatch");
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains(&wrong) && detail.contains(&sha(1)),
        "{detail}"
    );
    assert!(detail.contains("nothing was recorded"), "{detail}");
    for id in &ids {
        let list = admin_get(&node, &format!("/api/v1/passports/{id}/registrations")).await;
        assert_eq!(list["items"], json!([]), "{id}");
    }

    // Not the schema: 400, nothing recorded.
    let mut bad = record_file(vec![answer(&entries[0], "EU-1", &sha(0))]);
    bad["registrations"][0]
        .as_object_mut()
        .unwrap()
        .remove("hash");
    let r = node
        .call(Method::POST, RECORD, Some(&basic()), Some(&bad))
        .await;
    r.problem(400, "invalid-registry-file");

    // The right hash (upper case, prefixed, as a registry may write it): recorded.
    let upper = format!("sha256:{}", sha(0).to_uppercase());
    let good = record_file(vec![answer(&entries[0], "EU-1", &upper)]);
    let r = node
        .call(Method::POST, RECORD, Some(&basic()), Some(&good))
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let result = &r.json()["results"][0];
    assert_eq!(result["outcome"], "recorded");
    assert_eq!(result["registration"]["dppSha256"], sha(0).as_str());
    assert_eq!(result["registration"]["registrationId"], "EU-1");
    // Sent again: unchanged, no second event.
    let r = node
        .call(Method::POST, RECORD, Some(&basic()), Some(&good))
        .await;
    assert_eq!(r.json()["results"][0]["outcome"], "unchanged");
    // The same version under another registration id: a conflict.
    let other = record_file(vec![answer(&entries[0], "EU-9", &sha(0))]);
    let r = node
        .call(Method::POST, RECORD, Some(&basic()), Some(&other))
        .await;
    r.problem(409, "registry-conflict");
    // The same registration id for another version: a conflict.
    let twice = record_file(vec![answer(&entries[1], "EU-1", &sha(1))]);
    let r = node
        .call(Method::POST, RECORD, Some(&basic()), Some(&twice))
        .await;
    r.problem(409, "registry-conflict");

    let uuid = entries[0]["passportId"]
        .as_str()
        .unwrap()
        .strip_prefix("urn:uuid:")
        .unwrap()
        .to_owned();
    // One registry.recorded event, in the passport's history.
    let history = admin_get(&node, &format!("/api/v1/passports/{uuid}/history")).await;
    let recorded: Vec<&Value> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "registry.recorded")
        .collect();
    assert_eq!(recorded.len(), 1, "{history}");
    assert_eq!(recorded[0]["detail"]["registrationId"], "EU-1");
    assert_eq!(recorded[0]["detail"]["dppSha256"], sha(0).as_str());

    // Public: the registration without its proof.
    let public = node.get(&format!("/passports/{uuid}/registrations")).await;
    assert_eq!(public.status, 200);
    let public = public.json();
    assert_eq!(public["items"][0]["registrationId"], "EU-1");
    assert!(public["items"][0].get("proofOfRegistration").is_none());
    // Admin: with it, as given.
    let admin = admin_get(&node, &format!("/api/v1/passports/{uuid}/registrations")).await;
    assert_eq!(admin["items"][0]["proofOfRegistration"]["id"], "EU-1");

    // The consumer page names it; the linkset links it.
    let page = node
        .get_public(&format!("/passports/{uuid}"), Some("text/html"))
        .await;
    let html = String::from_utf8_lossy(&page.body);
    assert!(html.contains("registration EU-1"), "{html}");
    let serial = "S0";
    let gtin = kit::battery_draft("x")["uniqueProductIdentifier"]["gtin"]
        .as_str()
        .unwrap()
        .to_owned();
    let linkset = node
        .get_public(
            &format!("/01/{gtin}/21/{serial}?linkType=linkset"),
            Some("application/linkset+json"),
        )
        .await
        .json();
    let links = &linkset["linkset"][0]["https://w3id.org/hallmark/voc/registryRegistration"];
    assert_eq!(
        links[0]["href"],
        format!("{BASE_URL}/passports/{uuid}/registrations"),
        "{linkset}"
    );

    // No longer pending; a new version is, naming the previous registration.
    let (files, _) = export_all(&node).await;
    let pending: Vec<&Value> = files
        .iter()
        .flat_map(|f| f["entries"].as_array().unwrap())
        .collect();
    assert_eq!(pending.len(), 2);
    assert!(pending
        .iter()
        .all(|e| e["passportId"] != entries[0]["passportId"]));
    let r = node
        .call(
            Method::POST,
            &format!("/api/v1/passports/{uuid}/versions"),
            Some(&basic()),
            Some(&draft(serial)),
        )
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let r = node
        .call(
            Method::POST,
            &format!("/api/v1/passports/{uuid}/publish"),
            Some(&basic()),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let (files, _) = export_all(&node).await;
    let again = files
        .iter()
        .flat_map(|f| f["entries"].as_array().unwrap())
        .find(|e| e["passportId"] == entries[0]["passportId"])
        .expect("the new version is pending");
    assert_eq!(again["dppVersion"], 2);
    assert_eq!(
        again["previousRegistration"],
        json!({"version": 1, "registrationId": "EU-1"})
    );
}
kit::both!(registrations_are_checked_before_any_is_recorded_and_then_shown);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_back_up_link_nothing_is_exported() {
    let node = TestNode::new(Backend::Sqlite).start().await;
    node.publish_draft_as(&basic(), &draft("N1")).await;
    let r = node.call(Method::GET, EXPORT, Some(&basic()), None).await;
    let p = r.problem(409, "backup-link-not-configured");
    assert!(p["detail"]
        .as_str()
        .unwrap()
        .contains("HALLMARK_BACKUP_LINK_TEMPLATE"));
    let r = node
        .call(
            Method::GET,
            &format!("{EXPORT}?limit=101"),
            Some(&basic()),
            None,
        )
        .await;
    r.problem(400, "bad-request");
}

//! ISO/IEC 15459 identifiers and `commodityCode` over HTTP (issue 19): battery passports
//! must carry ISO/IEC 15459 operator and facility identifiers (422 naming the envelope
//! pointer), generic ones get "not ISO/IEC 15459" warnings in the validation report, the
//! publish answer and the batch answer.

use hallmark_testkit as kit;
use kit::{basic, battery_draft, generic_draft, Backend, TestNode};
use reqwest::Method;
use serde_json::{json, Value};

use kit::both;

both!(battery_identifiers_are_required);
both!(generic_identifiers_are_warned_about);

fn pointers(issues: &Value) -> Vec<&str> {
    issues
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["pointer"].as_str().unwrap())
        .collect()
}

async fn battery_identifiers_are_required(backend: Backend) {
    let n = TestNode::new(backend).start().await;
    // The fixture (GLN operator and facility, commodity code): valid, no warnings.
    let r = n
        .call(
            Method::POST,
            "/api/v1/passports/validate",
            Some(&basic()),
            Some(&battery_draft("ID-0")),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["valid"], true);
    assert_eq!(r.json()["warnings"], json!([]));

    // Without a commodity code: valid, one warning.
    let mut no_code = battery_draft("ID-0");
    no_code.as_object_mut().unwrap().remove("commodityCode");
    let r = n
        .call(
            Method::POST,
            "/api/v1/passports/validate",
            Some(&basic()),
            Some(&no_code),
        )
        .await;
    assert_eq!(r.json()["valid"], true);
    assert_eq!(pointers(&r.json()["warnings"]), ["/commodityCode"]);

    // A malformed commodity code is refused by the envelope.
    let mut bad_code = battery_draft("ID-0");
    bad_code["commodityCode"] = json!("8507.60");
    let r = n
        .call(
            Method::POST,
            "/api/v1/passports",
            Some(&basic()),
            Some(&bad_code),
        )
        .await;
    assert_eq!(r.status, 422, "{}", String::from_utf8_lossy(&r.body));
    assert!(String::from_utf8_lossy(&r.body).contains("commodityCode"));

    // EORI operator, no facility: the draft is saved, not valid; the publish is a 422.
    let mut eori = battery_draft("ID-1");
    eori["economicOperatorId"] = json!("urn:eori:DE123456789012345");
    eori.as_object_mut().unwrap().remove("facilityId");
    let r = n
        .call(
            Method::POST,
            "/api/v1/passports",
            Some(&basic()),
            Some(&eori),
        )
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_eq!(v["validation"]["valid"], false);
    assert_eq!(
        pointers(&v["validation"]["issues"]),
        ["/economicOperatorId", "/facilityId"]
    );
    let id = v["id"].as_str().unwrap().to_owned();
    let r = n
        .admin(Method::POST, &format!("/api/v1/passports/{id}/publish"))
        .await;
    assert_eq!(r.status, 422, "{}", String::from_utf8_lossy(&r.body));
    let problem = r.json();
    assert_eq!(pointers(&problem["issues"])[0], "/economicOperatorId");
    assert!(problem["issues"][0]["message"]
        .as_str()
        .unwrap()
        .contains("not an ISO/IEC 15459 identifier (an EORI number"));

    // A GLN with a bad check digit: the message says which digit.
    let mut bad = battery_draft("ID-2");
    bad["facilityId"] = json!("urn:gln:4012345000017");
    let r = n
        .call(
            Method::POST,
            "/api/v1/passports/validate",
            Some(&basic()),
            Some(&bad),
        )
        .await;
    let v = r.json();
    assert_eq!(v["valid"], false);
    assert_eq!(
        v["issues"][0]["message"],
        "`facilityId`: GLN check digit is 7 but the GS1 mod-10 check digit is 6 \
         (in `urn:gln:4012345000017`)"
    );
    n.stop().await;
}

async fn generic_identifiers_are_warned_about(backend: Backend) {
    let n = TestNode::new(backend).start().await;
    // The generic fixture's operator is an EORI number.
    let r = n
        .call(
            Method::POST,
            "/api/v1/passports",
            Some(&basic()),
            Some(&generic_draft("G-1")),
        )
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_eq!(v["validation"]["valid"], true);
    assert_eq!(
        pointers(&v["validation"]["warnings"]),
        ["/economicOperatorId"]
    );
    assert!(v["validation"]["warnings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("not an ISO/IEC 15459 identifier"));
    let id = v["id"].as_str().unwrap().to_owned();
    let r = n
        .admin(Method::POST, &format!("/api/v1/passports/{id}/publish"))
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(pointers(&r.json()["warnings"]), ["/economicOperatorId"]);

    // The batch answer carries the item's warnings; the item is still created.
    let body = json!({
        "importId": "0190a0b0-0000-7000-8000-000000000019", "publish": false, "dryRun": false,
        "items": [{ "externalRef": "G-2", "passport": generic_draft("G-2") }],
    });
    let r = n
        .call(
            Method::POST,
            "/api/v1/passports/batch",
            Some(&basic()),
            Some(&body),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let item = &r.json()["items"][0];
    assert_eq!(item["result"], "created", "{item}");
    assert_eq!(pointers(&item["warnings"]), ["/economicOperatorId"]);
    n.stop().await;
}

//! The consumer page over real HTTP, on SQLite and PostgreSQL: `Accept: text/html` on a
//! passport URL gets a server-rendered page (published, suspended with its reason, archived,
//! deactivated; a version's page and its history) in English, German and French
//! (`Accept-Language` by q-value, `?lang=` first), with the public tier in human terms —
//! units, locale numbers, the data model's labels —, the server's verification of signature
//! and log entry, the `hallmark verify` command; its own strict CSP (the inline stylesheet
//! by hash, no script), the security headers, `Vary: Accept, Accept-Language`, and a weight
//! within the 50 KB budget. JSON and credential clients get exactly what they got before.

use hallmark_testkit as kit;

use kit::{basic, both, Backend, Node, TestNode};
use reqwest::Method;
use serde_json::json;
use sha2::{Digest, Sha256};

/// What a browser sends.
const BROWSER: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

struct Page {
    status: u16,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Page {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }

    /// Whether the page's HTML contains `needle`.
    fn has(&self, needle: &str) -> bool {
        self.text.contains(needle)
    }
}

async fn get(n: &Node, path: &str, accept: &str, lang: Option<&str>) -> Page {
    let mut req = kit::client()
        .get(format!("{}{path}", n.public))
        .header("accept", accept);
    if let Some(l) = lang {
        req = req.header("accept-language", l);
    }
    let r = req.send().await.unwrap();
    Page {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        text: r.text().await.unwrap(),
    }
}

async fn page(n: &Node, path: &str, lang: Option<&str>) -> Page {
    get(n, path, BROWSER, lang).await
}

async fn lifecycle(n: &Node, id: &str, action: &str, reason: Option<&str>) {
    let body = reason.map_or_else(|| json!({}), |r| json!({ "reason": r }));
    let r = n
        .call(
            Method::POST,
            &format!("/api/v1/passports/{id}/{action}"),
            Some(&basic()),
            Some(&body),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}

/// Every page's headers: HTML, its own CSP allowing only the inline stylesheet by hash, the
/// other security headers, the negotiation headers; within the weight budget; no script, no
/// external resource.
fn assert_page_shape(p: &Page, lang: &str) {
    assert_eq!(p.header("content-type"), "text/html; charset=utf-8");
    assert_eq!(p.header("vary"), "Accept, Accept-Language, Accept-Encoding");
    assert_eq!(p.header("content-language"), lang);
    assert_eq!(p.header("x-content-type-options"), "nosniff");
    assert_eq!(p.header("x-frame-options"), "DENY");
    assert_eq!(p.header("referrer-policy"), "no-referrer");
    let css = p
        .text
        .split_once("<style>")
        .and_then(|(_, rest)| rest.split_once("</style>"))
        .map(|(css, _)| css)
        .expect("an inline stylesheet");
    use base64::Engine as _;
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(css));
    assert_eq!(
        p.header("content-security-policy"),
        format!(
            "default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'; \
             form-action 'none'; frame-ancestors 'none'"
        )
    );
    assert!(p.text.starts_with("<!DOCTYPE html>\n<html lang=\""));
    assert!(p.text.contains(&format!("<html lang=\"{lang}\">")));
    assert!(
        p.text.len() <= 50 * 1024,
        "page weighs {} bytes",
        p.text.len()
    );
    for forbidden in [
        "<script", "<link", "<img", "<iframe", "src=", "style=\"", "<form",
    ] {
        assert!(!p.text.contains(forbidden), "{forbidden} in the page");
    }
}

both!(a_published_battery_reads_in_three_languages);
both!(suspended_archived_and_deactivated_pages_say_so_in_plain_words);
both!(versions_have_pages_and_the_history_links_them);
both!(json_and_credential_clients_get_what_they_got_before);
both!(a_generic_passport_gets_a_generic_page_and_unknown_ids_are_404);

async fn a_published_battery_reads_in_three_languages(backend: Backend) {
    let n = TestNode::new(backend).start().await;
    let (id, _) = n.publish("PAGE-1").await;
    n.checkpoint_covering_everything().await;
    let uuid = id.trim_start_matches("urn:uuid:");
    let path = format!("/passports/{id}");

    let en = page(&n, &path, None).await;
    assert_eq!(en.status, 200, "{}", en.text);
    assert_page_shape(&en, "en");
    assert_eq!(en.header("hallmark-passport-status"), "published");
    assert_eq!(en.header("cache-control"), "public, max-age=60");
    for text in [
        "Battery passport",
        "<h1>Electric vehicle battery</h1>",
        "GTIN <strong>09506000134352</strong>",
        "Serial number <strong>PAGE-1</strong>",
        "Published: this passport is in force.",
        "Version 1 of 1. Signed on ",
        // The server's verification.
        "Signature valid: signed by the issuer",
        "Recorded in the public transparency log (entry ",
        // The public tier, with the data model's labels, units and English numbers.
        "<dt>Manufacturer</dt><dd><span>Example Cells GmbH, battery passport office</span>",
        "<dt>Manufacturing place</dt><dd><span>Werkstraße 12, Wolfsburg, 38440, DE</span>",
        "<dt>Battery chemistry</dt><dd><span>NMC (Lithium nickel manganese cobalt oxide",
        "<dt>Rated capacity</dt><dd><span>216\u{a0}Ah</span>",
        "<dt>Nominal voltage</dt><dd><span>355.2\u{a0}V</span>",
        "<dt>Battery mass</dt><dd><span>452\u{a0}kg</span>",
        "<dt>Battery carbon footprint per functional unit</dt><dd><span>0.0508\u{a0}kg CO₂e/kWh</span>",
        "<dt>Carbon footprint performance class</dt><dd><span>B</span>",
        "<dt>Absolute carbon footprint</dt><dd><span>5850\u{a0}kg CO₂e</span>",
        "<dt>Expected lifetime: number of charge-discharge cycles</dt><dd><span>1500\u{a0}cycles</span>",
        "<dt>Cobalt</dt><dd><dl class=\"sub\"><div><dt>Pre-consumer recycled share</dt><dd><span>4\u{a0}%</span>",
        "<dt>Lithium hexafluorophosphate</dt>",
        "<dd><span>Acute toxicity</span>",
        "Collect separately: do not dispose of with household waste",
        "<a href=\"https://www.example.com/batteries/end-of-life/separate-collection\">",
        "Usable extinguishing agent",
        // Issuer and the check-it-yourself section.
        "<dt>Issuer (DID)</dt><dd>did:web:localhost%3A8080</dd>",
        "<dt>Economic operator</dt><dd>https://id.gs1.org/417/4012345000016</dd>",
        &format!(
            "hallmark verify --from &#39;http://localhost:8080/passports/{uuid}/versions/1&#39; --log-key &#39;localhost:8080/log+"
        ),
        &format!("href=\"/passports/{uuid}/versions/1?format=credential\""),
        "href=\"/.well-known/did.json\"",
        "href=\"/log/proof/inclusion?index=",
        // The switcher: links, the current language marked.
        "<a href=\"?lang=de\" hreflang=\"de\" lang=\"de\">Deutsch</a>",
        "<a href=\"?lang=en\" hreflang=\"en\" lang=\"en\" aria-current=\"true\">English</a>",
    ] {
        assert!(en.has(text), "missing {text:?} in\n{}", en.text);
    }
    // Only the public tier: critical raw materials (legitimate interest) and the calendar
    // lifetime (not public) are not on the page.
    for hidden in [
        "Natural graphite",
        "batteryMaterials",
        "expectedLifetime",
        "stateOfCharge",
    ] {
        assert!(!en.has(hidden), "{hidden} is not public");
    }

    let de = page(&n, &path, Some("fr;q=0.5, de-DE;q=0.9, en;q=0.1")).await;
    assert_eq!(de.status, 200);
    assert_page_shape(&de, "de");
    for text in [
        "Batteriepass",
        "<h1>Traktionsbatterie für Elektrofahrzeuge</h1>",
        "Veröffentlicht: Dieser Pass ist gültig.",
        "Signatur gültig",
        "<dt>Nennkapazität</dt><dd><span>216\u{a0}Ah</span>",
        "<dt>Nennspannung</dt><dd><span>355,2\u{a0}V</span>",
        "0,0508\u{a0}kg CO₂e/kWh",
        "1500\u{a0}Zyklen",
        "<dt>Kobalt</dt>",
        "Akute Toxizität",
        // The label's German text, as the passport gives it.
        "<span>Getrennt sammeln: nicht über den Hausmüll entsorgen</span>",
        "Selbst prüfen",
    ] {
        assert!(de.has(text), "missing {text:?} in\n{}", de.text);
    }

    // ?lang= wins over the header.
    let fr = page(&n, &format!("{path}?lang=fr"), Some("de")).await;
    assert_eq!(fr.status, 200);
    assert_page_shape(&fr, "fr");
    for text in [
        "Passeport batterie",
        "<h1>Batterie de véhicule électrique</h1>",
        "Publié : ce passeport est en vigueur.",
        "<dt>Capacité nominale</dt><dd><span>216\u{a0}Ah</span>",
        "<dt>Tension nominale</dt><dd><span>355,2\u{a0}V</span>",
        "1500\u{a0}cycles",
        "Toxicité aiguë",
        // No French text in the passport: the English one, marked as English.
        "<span lang=\"en\">Collect separately: do not dispose of with household waste</span>",
        "Vérifier soi-même",
    ] {
        assert!(fr.has(text), "missing {text:?} in\n{}", fr.text);
    }

    // Served from the page cache: the same bytes again.
    let again = page(&n, &path, None).await;
    assert_eq!(again.text, en.text);
    // HEAD: the page's headers, no body.
    let head = kit::client()
        .head(format!("{}{path}", n.public))
        .header("accept", BROWSER)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-type"], "text/html; charset=utf-8");
    assert!(head.bytes().await.unwrap().is_empty());
}

async fn suspended_archived_and_deactivated_pages_say_so_in_plain_words(backend: Backend) {
    let n = TestNode::new(backend).start().await;
    let (suspended, _) = n.publish("PAGE-S").await;
    let (archived, _) = n.publish("PAGE-A").await;
    let (deactivated, _) = n.publish("PAGE-D").await;
    // Rendered once while published (cached), then changed: the page follows.
    assert_eq!(
        page(&n, &format!("/passports/{archived}"), None)
            .await
            .status,
        200
    );
    lifecycle(
        &n,
        &suspended,
        "suspend",
        Some("recall under investigation"),
    )
    .await;
    lifecycle(&n, &archived, "archive", Some("end of series")).await;
    lifecycle(&n, &deactivated, "deactivate", Some("battery recycled")).await;

    let s = page(&n, &format!("/passports/{suspended}"), None).await;
    assert_eq!(s.status, 410);
    assert_page_shape(&s, "en");
    assert_eq!(s.header("hallmark-passport-status"), "suspended");
    for text in [
        "Suspended: the issuer has withdrawn this passport for the time being.",
        "Reason given: recall under investigation",
        "While the passport is suspended, its data is not shown.",
        "<p>Version 1 of 1.</p>",
    ] {
        assert!(s.has(text), "missing {text:?} in\n{}", s.text);
    }
    assert!(!s.has("Rated capacity") && !s.has("hallmark verify"));
    let s_de = page(
        &n,
        &format!("/passports/{suspended}/versions/1"),
        Some("de"),
    )
    .await;
    assert_eq!(s_de.status, 410);
    assert!(s_de.has("Ausgesetzt") && s_de.has("Angegebener Grund: recall under investigation"));
    // JSON clients: the same 410 problem as before.
    let json = n.get_public(&format!("/passports/{suspended}"), None).await;
    assert_eq!(
        json.problem(410, "gone")["reason"],
        "recall under investigation"
    );

    let a = page(&n, &format!("/passports/{archived}"), Some("fr")).await;
    assert_eq!(a.status, 200);
    assert_page_shape(&a, "fr");
    assert_eq!(a.header("hallmark-passport-status"), "archived");
    for text in [
        "Archivé : ce passeport est conservé et n’est plus mis à jour.",
        "Motif indiqué : end of series",
        "Capacité nominale",
    ] {
        assert!(a.has(text), "missing {text:?} in\n{}", a.text);
    }

    let d = page(&n, &format!("/passports/{deactivated}"), None).await;
    assert_eq!(d.status, 200);
    assert_eq!(d.header("hallmark-passport-status"), "deactivated");
    assert!(d.has("Deactivated: this passport is no longer in force."));
    assert!(d.has("Reason given: battery recycled"));
}

async fn versions_have_pages_and_the_history_links_them(backend: Backend) {
    let n = TestNode::new(backend).start().await;
    let (id, _) = n.publish("PAGE-V").await;
    let uuid = id.trim_start_matches("urn:uuid:");
    let mut v2 = kit::battery_draft("PAGE-V");
    v2["data"]["performanceAndDurability"]["batteryTechicalProperties"]["ratedCapacity"] =
        json!(220.5);
    let r = n
        .call(
            Method::POST,
            &format!("/api/v1/passports/{id}/versions"),
            Some(&basic()),
            Some(&v2),
        )
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let r = n
        .admin(Method::POST, &format!("/api/v1/passports/{id}/publish"))
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));

    let cur = page(&n, &format!("/passports/{id}"), None).await;
    assert_eq!(cur.status, 200);
    assert!(cur.has("Version 2 of 2. Signed on "));
    assert!(cur.has("<span>220.5\u{a0}Ah</span>"));
    assert!(!cur.has("This is an earlier version."));
    assert!(cur.has(&format!(
        "<a href=\"/passports/{uuid}/versions/2?lang=en\" aria-current=\"page\">Version 2</a> (current)"
    )));
    assert!(cur.has(&format!(
        "<a href=\"/passports/{uuid}/versions/1?lang=en\">Version 1</a>"
    )));

    let v1 = page(&n, &format!("/passports/{id}/versions/1"), Some("de")).await;
    assert_eq!(v1.status, 200);
    assert_page_shape(&v1, "de");
    assert!(v1.has("Version 1 von 2. Signiert am "));
    assert!(v1.has("<span>216\u{a0}Ah</span>"));
    assert!(v1.has(&format!(
        "Dies ist eine frühere Version. <a href=\"/passports/{uuid}?lang=de\">Zur aktuellen Version</a>"
    )));
    assert!(v1.has(&format!(
        "<a href=\"/passports/{uuid}/versions/1?lang=de\" aria-current=\"page\">Version 1</a> (hier angezeigt)"
    )));
    assert!(v1.has(&format!("/passports/{uuid}/versions/1&#39; --log-key")));
    // Beyond the current version: the same 404 as for JSON clients.
    assert_eq!(
        page(&n, &format!("/passports/{id}/versions/3"), None)
            .await
            .status,
        404
    );
}

async fn json_and_credential_clients_get_what_they_got_before(backend: Backend) {
    let n = TestNode::new(backend).start().await;
    let (id, _) = n.publish("PAGE-J").await;
    let path = format!("/passports/{id}");
    let stored = n.get_public(&path, None).await;
    assert_eq!(stored.status, 200);
    assert_eq!(
        stored.header("content-type"),
        Some("application/vc+ld+json")
    );
    assert_eq!(stored.header("vary"), Some("Accept"));
    stored.assert_security_headers();
    for (accept, media) in [
        ("*/*", "application/vc+ld+json"),
        ("application/json", "application/json"),
        ("application/vc+ld+json", "application/vc+ld+json"),
        // HTML no better than JSON: JSON, as before.
        ("text/html, application/json", "application/json"),
        ("application/json, text/html;q=0.5", "application/json"),
        ("text/html;q=0", "application/vc+ld+json"),
        ("text/plain", "application/vc+ld+json"),
    ] {
        let r = n.get_public(&path, Some(accept)).await;
        assert_eq!(r.status, 200, "{accept}");
        assert_eq!(r.header("content-type"), Some(media), "{accept}");
        assert_eq!(r.body, stored.body, "{accept}");
        r.assert_security_headers();
    }
    let jwt = n
        .get_public(&path, Some("text/html, application/vc+jwt"))
        .await;
    assert_eq!(jwt.header("content-type"), Some("application/vc+jwt"));
    // The page's link to the signed file: the credential, whatever a browser accepts.
    let file = get(
        &n,
        &format!("{path}/versions/1?format=credential"),
        BROWSER,
        None,
    )
    .await;
    assert_eq!(file.status, 200);
    assert_eq!(file.header("content-type"), "application/vc+ld+json");
    assert_eq!(file.text.as_bytes(), &stored.body[..]);
    // Drafts and unknown ids: a 404 page for browsers (in their language), problem+json
    // for everyone else.
    let r = n
        .call(
            Method::POST,
            "/api/v1/passports",
            Some(&basic()),
            Some(&kit::battery_draft("PAGE-DRAFT")),
        )
        .await;
    let draft = r.json()["id"].as_str().unwrap().to_string();
    for p in [
        format!("/passports/{draft}"),
        "/passports/0190f2a0-0000-7000-8000-000000000000".to_string(),
        "/passports/not-a-uuid".to_string(),
        format!("{path}/versions/x"),
        format!("{path}/versions/0"),
    ] {
        let r = get(&n, &p, BROWSER, Some("de")).await;
        assert_eq!(r.status, 404, "{p}");
        assert_eq!(r.header("content-type"), "text/html; charset=utf-8", "{p}");
        assert_eq!(r.header("content-language"), "de", "{p}");
        assert!(r.has("Pass nicht gefunden"), "{p}: {}", r.text);
        assert!(r
            .header("content-security-policy")
            .starts_with("default-src 'none'"));
        let r = n.get_public(&p, Some("application/json")).await;
        assert_eq!(r.status, 404, "{p}");
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
    }
}

both!(pages_are_held_gzip_compressed_and_sent_as_the_client_accepts);

/// A page is held gzip-compressed: a client that accepts gzip gets those bytes with
/// `Content-Encoding: gzip` (smaller, and the same HTML once decompressed), one that does
/// not gets the HTML; both count against the page cache, whose hits the node counts.
async fn pages_are_held_gzip_compressed_and_sent_as_the_client_accepts(backend: Backend) {
    use std::io::Read as _;
    let n = TestNode::new(backend).start().await;
    let (id, _) = n.publish("PAGE-GZ").await;
    // Its log entry under a checkpoint: the page is held under its final key at once.
    n.checkpoint_covering_everything().await;
    let path = format!("/passports/{id}");
    let gz_get = || async {
        kit::client()
            .get(format!("{}{path}", n.public))
            .header("accept", BROWSER)
            .header("accept-encoding", "gzip, deflate, br")
            .send()
            .await
            .unwrap()
    };
    let before = n.app().pages.stats();
    let plain = page(&n, &path, None).await;
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("content-encoding"), "");
    assert_eq!(
        plain.header("vary"),
        "Accept, Accept-Language, Accept-Encoding"
    );
    assert!(plain.text.starts_with("<!DOCTYPE html>"));
    for _ in 0..2 {
        let r = gz_get().await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-encoding"], "gzip");
        assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
        let gz = r.bytes().await.unwrap();
        assert!(
            gz.len() * 2 < plain.text.len(),
            "{} vs {}",
            gz.len(),
            plain.text.len()
        );
        let mut html = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut html)
            .unwrap();
        assert_eq!(html, plain.text);
    }
    let after = n.app().pages.stats();
    assert_eq!(after.misses - before.misses, 1, "rendered once");
    assert_eq!(after.hits - before.hits, 2, "then served from the cache");
    // A held page is served without the version's evidence: with the evidence cache
    // emptied, the page still comes from the page cache, byte for byte.
    n.app().evidence.clear();
    let again = page(&n, &path, None).await;
    assert_eq!(again.text, plain.text);
    assert_eq!(n.app().pages.stats().hits - after.hits, 1);
    assert!(
        n.app().evidence.is_empty(),
        "no verification for a held page"
    );
    assert!(after.bytes > 0 && after.pages >= 1);
}

async fn a_generic_passport_gets_a_generic_page_and_unknown_ids_are_404(backend: Backend) {
    let n = TestNode::new(backend).start().await;
    let draft = json!({
        "uniqueProductIdentifier": { "gtin": "09506000134352", "serial": "CHAIR-7" },
        "granularity": "item",
        "economicOperatorId": "urn:eori:PT123456789",
        "sector": { "id": "generic", "schemaVersion": "1.0.0" },
        "data": { "public": {
            "productName": "Oak chair <b>",
            "materials": ["oak", "linseed oil"],
            "origin": { "country": "PT", "workshop": { "city": "Porto" } },
            "manual": "https://example.com/chair.pdf"
        } },
    });
    let r = n
        .call(
            Method::POST,
            "/api/v1/passports",
            Some(&basic()),
            Some(&draft),
        )
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let id = r.json()["id"].as_str().unwrap().to_string();
    let p = n
        .admin(Method::POST, &format!("/api/v1/passports/{id}/publish"))
        .await;
    assert_eq!(p.status, 200, "{}", String::from_utf8_lossy(&p.body));

    let g = page(&n, &format!("/passports/{id}"), Some("de")).await;
    assert_eq!(g.status, 200, "{}", g.text);
    assert_page_shape(&g, "de");
    for text in [
        "Digitaler Produktpass",
        "<h1>Produkt</h1>",
        "<h2 id=\"h-data\">Produktdaten</h2>",
        // Escaped, never markup.
        "<dt>productName</dt><dd><span>Oak chair &#60;b&#62;</span>",
        "<dt>materials</dt><dd><span>oak</span><span>linseed oil</span>",
        "<dt>workshop › city</dt><dd><span>Porto</span>",
        "<a href=\"https://example.com/chair.pdf\">",
    ] {
        assert!(g.has(text), "missing {text:?} in\n{}", g.text);
    }
}

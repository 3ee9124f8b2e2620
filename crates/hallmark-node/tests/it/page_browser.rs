//! The consumer page in a real browser: a node with a published, a suspended and an archived
//! passport, each page opened in headless Chromium at 360 px in English, German and French,
//! and the pages that are not a passport (the product page of the resolver's walk-up, the 404
//! page, the verification page's form) (`tests/browser/check.mjs`: playwright-core driving Debian's `chromium`, axe-core
//! injected), full-page screenshots (screen and print) written to
//! `<target>/test-artifacts/pages/`, assertions on the rendered text, on the page's own CSP
//! letting its stylesheet apply, on nothing overflowing a phone screen, and on no serious or
//! critical WCAG 2.1 A/AA violation found by axe.
//!
//! Ignored by a plain `cargo test` (it needs Chromium, Node ≥ 20 and `npm ci` in
//! `tests/browser`); `scripts/test` installs those and runs it by name, and then it fails
//! loudly when anything is missing, never skips.

use hallmark_testkit as kit;

use kit::{basic, Backend, TestNode};
use reqwest::Method;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

fn artefacts() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("test-artifacts/pages")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium, Node and `npm ci` in tests/browser; scripts/test runs it"]
async fn pages_render_in_headless_chromium_without_serious_accessibility_violations() {
    let dir = browser_dir();
    assert!(
        dir.join("node_modules/playwright-core").is_dir()
            && dir.join("node_modules/axe-core").is_dir(),
        "run `npm ci` in {} first (scripts/test does)",
        dir.display()
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: install Debian's chromium (scripts/test does)"
    );

    let n = TestNode::new(Backend::Sqlite).start().await;
    let (published, _) = n.publish("BROWSER-P").await;
    let (suspended, _) = n.publish("BROWSER-S").await;
    let (archived, _) = n.publish("BROWSER-A").await;
    for (id, action, reason) in [
        (&suspended, "suspend", "recall under investigation"),
        (&archived, "archive", "end of series"),
    ] {
        let r = n
            .call(
                Method::POST,
                &format!("/api/v1/passports/{id}/{action}"),
                Some(&basic()),
                Some(&json!({ "reason": reason })),
            )
            .await;
        assert_eq!(r.status, 200);
    }
    n.checkpoint_covering_everything().await;

    let mut targets = Vec::new();
    for (state, id) in [
        ("published", &published),
        ("suspended", &suspended),
        ("archived", &archived),
    ] {
        for lang in ["en", "de", "fr"] {
            targets.push(format!(
                "{state}-{lang}={}/passports/{id}?lang={lang}",
                n.public
            ));
        }
    }
    // The pages that are not a passport: the product page a scan of a GTIN with only item
    // passports walks up to, and the 404 page of an unknown Digital Link and passport.
    targets.push(format!(
        "product-de={}/products/09506000134352?lang=de",
        n.public
    ));
    targets.push(format!(
        "notfound-fr={}/01/00000096385074/21/X?lang=fr",
        n.public
    ));
    targets.push(format!(
        "notfound-en={}/passports/0190f2a0-0000-7000-8000-000000000000?lang=en",
        n.public
    ));
    // The verification page (paste a credential), its empty form.
    targets.push(format!("verify-de={}/verify?lang=de", n.public));
    let out = artefacts();
    let run = {
        let (dir, out, targets, chromium) = (dir.clone(), out.clone(), targets.clone(), chromium);
        tokio::task::spawn_blocking(move || {
            std::process::Command::new("node")
                .current_dir(&dir)
                .env("CHROMIUM", chromium)
                .arg("check.mjs")
                .arg(&out)
                .args(&targets)
                .output()
        })
        .await
        .unwrap()
        .expect("`node` could not be started: Node ≥ 20 is required")
    };
    assert!(
        run.status.success(),
        "check.mjs failed: {}\n{}",
        run.status,
        String::from_utf8_lossy(&run.stderr)
    );
    std::fs::write(out.join("report.json"), &run.stdout).unwrap();
    let report: Value = serde_json::from_slice(&run.stdout).unwrap();
    let pages = report["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 13);

    let expected: &[(&str, u64, &[&str])] = &[
        (
            "published-en",
            200,
            &[
                "Electric vehicle battery",
                "Published: this passport is in force.",
                "Signature valid",
                "Recorded in the public transparency log",
                "Rated capacity",
                "216 Ah",
                "355.2 V",
                "0.0508 kg CO₂e/kWh",
                "1500 cycles",
                "Lithium hexafluorophosphate",
                "Check it yourself",
                "hallmark verify --from",
            ],
        ),
        (
            "published-de",
            200,
            &[
                "Traktionsbatterie für Elektrofahrzeuge",
                "Veröffentlicht",
                "Nennkapazität",
                "355,2 V",
                "Getrennt sammeln",
            ],
        ),
        (
            "published-fr",
            200,
            &[
                "Batterie de véhicule électrique",
                "Publié",
                "Tension nominale",
                "355,2 V",
            ],
        ),
        (
            "suspended-en",
            410,
            &[
                "Suspended: the issuer has withdrawn this passport",
                "Reason given: recall under investigation",
                "its data is not shown",
            ],
        ),
        ("suspended-de", 410, &["Ausgesetzt", "Angegebener Grund"]),
        ("suspended-fr", 410, &["Suspendu", "Motif indiqué"]),
        (
            "archived-en",
            200,
            &[
                "Archived: this passport is kept for the record",
                "end of series",
                "Rated capacity",
            ],
        ),
        ("archived-de", 200, &["Archiviert", "Nennkapazität"]),
        ("archived-fr", 200, &["Archivé", "Capacité nominale"]),
        (
            "product-de",
            200,
            &[
                "Produktinformation",
                "Pässe für einzelne Artikel oder Chargen",
                "09506000134352",
                "Aussteller (DID)",
            ],
        ),
        (
            "notfound-fr",
            404,
            &["Passeport introuvable", "Rien n’est publié à cette adresse"],
        ),
        (
            "notfound-en",
            404,
            &["Passport not found", "Nothing is published at this address"],
        ),
        (
            "verify-de",
            200,
            &["Nachweis prüfen", "Nachweis einfügen", "Prüfen"],
        ),
    ];
    for (page, (name, status, texts)) in pages.iter().zip(expected) {
        assert_eq!(page["name"], *name);
        assert_eq!(page["status"], *status, "{name}");
        let lang = name.rsplit('-').next().unwrap();
        assert_eq!(page["lang"], lang, "{name}");
        // innerText keeps no-break spaces; compare as a reader would.
        let text = page["text"]
            .as_str()
            .unwrap()
            .replace(['\u{a0}', '\u{202f}'], " ");
        for t in *texts {
            assert!(text.contains(t), "{name}: missing {t:?} in\n{text}");
        }
        assert_eq!(
            page["styled"], true,
            "{name}: the stylesheet did not apply (CSP?)"
        );
        assert_eq!(
            page["consoleErrors"],
            json!([]),
            "{name}: the browser reported errors"
        );
        assert!(
            page["overflow"].as_i64().unwrap() <= 0,
            "{name}: wider than a 360 px screen by {}",
            page["overflow"]
        );
        let serious: Vec<&Value> = page["axe"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .collect();
        assert!(
            serious.is_empty(),
            "{name}: serious accessibility violations: {serious:#?}"
        );
        for shot in page["screenshots"].as_array().unwrap() {
            let png = std::fs::read(shot.as_str().unwrap()).unwrap();
            assert!(png.starts_with(b"\x89PNG"), "{name}: no screenshot");
        }
    }
    n.stop().await;
}

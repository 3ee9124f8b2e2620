//! `hallmark labels` as a real process against a real node (SQLite, a read-scope API key):
//! the QR codes of the published passports of a GTIN (and lot) into a folder and into a ZIP,
//! named by their GS1 element strings; one decoded back to its Digital Link URI; the same
//! bytes as the node's `/passports/{id}/qr.png`; usage errors exit 2, no match exits 1.

use hallmark_testkit as kit;
use kit::{Backend, TestNode};
use reqwest::Method;
use serde_json::json;
use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;
use std::process::Command;

/// Decodes the one QR code in a PNG.
pub fn decode_png(bytes: &[u8]) -> String {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut buf).unwrap();
    let (w, h) = (frame.width as usize, frame.height as usize);
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| buf[y * w + x]);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    grids[0].decode().unwrap().1
}

/// `hallmark labels <args>` with only PATH and these variables; (exit code, stdout, stderr).
fn labels(env: &[(&str, &str)], args: &[&str], out: &Path) -> (i32, String, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hallmark"));
    c.env_clear();
    if let Ok(p) = std::env::var("PATH") {
        c.env("PATH", p);
    }
    c.envs(env.iter().copied())
        .arg("labels")
        .args(args)
        .arg("--out")
        .arg(out);
    let o = c.output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_writes_a_folder_and_a_zip_named_by_element_string() {
    let n = TestNode::new(Backend::Sqlite)
        .api_key("read", "labels")
        .start()
        .await;
    let (first, _) = n.publish("CLI/1").await;
    n.publish("CLI-2").await;
    let mut with_lot = kit::battery_draft("CLI-3");
    with_lot["uniqueProductIdentifier"]["lot"] = json!("B7");
    let r = n
        .call(
            Method::POST,
            "/api/v1/passports",
            Some(&kit::basic()),
            Some(&with_lot),
        )
        .await;
    assert_eq!(r.status, 201);
    let third = r.json()["id"].as_str().unwrap().to_string();
    let p = n
        .admin(Method::POST, &format!("/api/v1/passports/{third}/publish"))
        .await;
    assert_eq!(p.status, 200);
    let key = n.bearer().strip_prefix("Bearer ").unwrap().to_string();
    let node = n.admin.clone();
    let png_of_first = n.get(&format!("/passports/{first}/qr.png")).await.body;

    let tmp = tempfile::tempdir().unwrap();
    let folder = tmp.path().join("labels");
    let zip_path = tmp.path().join("labels.zip");
    let narrow = tmp.path().join("narrow");
    let none = tmp.path().join("none");
    let (folder_run, zip_run, lot_run, none_run, no_key, bad_x) = tokio::task::spawn_blocking({
        let (folder, zip_path, narrow, none) = (
            folder.clone(),
            zip_path.clone(),
            narrow.clone(),
            none.clone(),
        );
        let node = node.clone();
        let key = key.clone();
        move || {
            let env = [("HALLMARK_API_KEY", key.as_str())];
            let gtin = ["--node", node.as_str(), "--gtin", "9506000134352"];
            (
                labels(
                    &env,
                    &[&gtin[..], &["--format", "both"][..]].concat(),
                    &folder,
                ),
                labels(&env, &gtin, &zip_path),
                labels(
                    &env,
                    &[
                        &gtin[..],
                        &["--lot", "B7", "--format", "svg", "--x", "0.8"][..],
                    ]
                    .concat(),
                    &narrow,
                ),
                labels(
                    &env,
                    &["--node", node.as_str(), "--gtin", "4006381333931"],
                    &none,
                ),
                labels(&[], &["--node", node.as_str()], &none),
                labels(&env, &["--node", node.as_str(), "--x", "2"], &none),
            )
        }
    })
    .await
    .unwrap();

    // A folder with PNG and SVG for each of the three.
    let (code, stdout, stderr) = folder_run;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("wrote 6 file(s) for 3 passport(s)"),
        "{stdout}"
    );
    let expected: BTreeSet<String> = [
        "(01)09506000134352(21)CLI%2F1",
        "(01)09506000134352(21)CLI-2",
        "(01)09506000134352(10)B7(21)CLI-3",
    ]
    .iter()
    .flat_map(|s| [format!("{s}.png"), format!("{s}.svg")])
    .collect();
    assert_eq!(names(&folder), expected);
    let png = std::fs::read(folder.join("(01)09506000134352(21)CLI%2F1.png")).unwrap();
    assert_eq!(
        decode_png(&png),
        "http://localhost:8080/01/09506000134352/21/CLI%2F1"
    );
    assert_eq!(png, png_of_first, "the node's own drawing, byte for byte");

    // A ZIP of the PNGs, stored.
    let (code, stdout, stderr) = zip_run;
    assert_eq!(code, 0, "{stdout}{stderr}");
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
    let in_zip: BTreeSet<String> = archive
        .file_names()
        .map(|n| n.unwrap().into_owned())
        .collect();
    let pngs: BTreeSet<String> = expected
        .iter()
        .filter(|n| n.ends_with(".png"))
        .cloned()
        .collect();
    assert_eq!(in_zip, pngs);
    let mut entry = archive
        .by_name("(01)09506000134352(10)B7(21)CLI-3.png")
        .unwrap();
    assert_eq!(entry.compression(), zip::CompressionMethod::Stored);
    let mut bytes = Vec::new();
    entry.read_to_end(&mut bytes).unwrap();
    assert_eq!(
        decode_png(&bytes),
        "http://localhost:8080/01/09506000134352/10/B7/21/CLI-3"
    );
    assert!(!tmp.path().join("labels.zip.partial").exists());

    // The lot filter, SVG only at 0.8 mm.
    let (code, stdout, stderr) = lot_run;
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(
        names(&narrow),
        BTreeSet::from(["(01)09506000134352(10)B7(21)CLI-3.svg".to_string()])
    );
    let svg =
        std::fs::read_to_string(narrow.join("(01)09506000134352(10)B7(21)CLI-3.svg")).unwrap();
    assert!(svg.contains("mm\" height=\""), "{svg}");

    // Nothing matches: exit 1, nothing written.
    let (code, _, stderr) = none_run;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("no published passport matches"), "{stderr}");
    assert!(!none.exists());
    // No key, a module size out of range: usage errors, exit 2.
    let (code, _, stderr) = no_key;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("HALLMARK_API_KEY"), "{stderr}");
    let (code, _, stderr) = bad_x;
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("`x`") && stderr.contains("0.396"),
        "{stderr}"
    );

    n.stop().await;
}

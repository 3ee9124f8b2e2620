//! `hallmark registry export|record` as a real process against a real node (SQLite): the
//! files written (names, parts of at most `--limit` entries, each valid against the schema),
//! the skipped passports on stderr, the record step's outcomes, and its refusals' exit codes
//! (a hash that is not the version's: 5, nothing recorded; a file that is not a record file:
//! 2, nothing sent; no key with the write scope: 4).

use super::cli_passport::{key, Cli};
use hallmark_core::registry::{ExportFile, RecordFile};
use hallmark_testkit as kit;
use kit::{basic, Backend, TestNode};
use reqwest::Method;
use serde_json::{json, Value};

fn draft(serial: &str) -> Value {
    let mut d = kit::battery_draft(serial);
    d["commodityCode"] = json!("85076000");
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_export_writes_parts_and_record_keeps_the_answers() {
    let node = TestNode::new(Backend::Sqlite)
        .backup_link("https://backup.example.eu/dpp/{uuid}/versions/{version}")
        .start()
        .await;
    for i in 0..5 {
        node.publish_draft_as(&basic(), &draft(&format!("C{i}")))
            .await;
    }
    let generic = node
        .publish_draft_as(&basic(), &kit::generic_draft("G1"))
        .await;
    let read = key(&node, "read").await;
    let write = key(&node, "write").await;
    let cli = Cli::for_node(&node, &read);
    let out_dir = cli.path("registry-out");
    let dir = out_dir.display().to_string();

    // Two entries a file: three parts (2, 2, 1), named by the run and the part.
    let out = cli
        .run(&["registry", "export", "--out", &dir, "--limit", "2"])
        .await
        .code(0);
    assert!(
        out.stdout
            .contains("5 passport version(s) in 3 file(s); 1 skipped"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains(&format!("skipped urn:uuid:{generic}")),
        "{}",
        out.stderr
    );
    let mut names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 3, "{names:?}");
    let mut files = Vec::new();
    for (i, name) in names.iter().enumerate() {
        assert!(name.starts_with("registry-") && name.ends_with(&format!("-{:03}.json", i + 1)));
        let file: ExportFile =
            serde_json::from_slice(&std::fs::read(out_dir.join(name)).unwrap()).unwrap();
        file.check().unwrap();
        assert_eq!(file.part as usize, i + 1);
        files.push(file);
    }
    let sizes: Vec<usize> = files.iter().map(|f| f.entries.len()).collect();
    assert_eq!(sizes, [2, 2, 1]);

    // The registry's answers for the first file, one with a wrong hash: exit 5, nothing kept.
    let entries = &files[0].entries;
    let answers = |hash1: &str| {
        json!({"schemaVersion": "1.0.0", "registrations": [
            {"passportId": entries[0].passport_id, "dppVersion": 1, "registrationId": "EU-A",
             "proofOfRegistration": "receipt A", "hash": entries[0].dpp_sha256},
            {"passportId": entries[1].passport_id, "dppVersion": 1, "registrationId": "EU-B",
             "proofOfRegistration": {"receipt": "B"}, "hash": hash1},
        ]})
    };
    let writer = Cli::for_node(&node, &write);
    let wrong = writer.path("wrong.json");
    std::fs::write(&wrong, answers(&"ab".repeat(32)).to_string()).unwrap();
    RecordFile::parse(&std::fs::read(&wrong).unwrap()).unwrap();
    let out = writer
        .run(&["registry", "record", &wrong.display().to_string()])
        .await
        .code(5);
    assert!(
        out.stderr.contains("registry-hash-mismatch"),
        "{}",
        out.stderr
    );
    let kept = node
        .call(
            Method::GET,
            &format!("/api/v1/passports/{}/registrations", entries[0].passport_id),
            Some(&basic()),
            None,
        )
        .await
        .json();
    assert_eq!(kept["items"], json!([]));

    // Right hashes: both recorded; sent again, both unchanged.
    let good = writer.path("good.json");
    std::fs::write(&good, answers(&entries[1].dpp_sha256).to_string()).unwrap();
    let good = good.display().to_string();
    let out = writer.run(&["registry", "record", &good]).await.code(0);
    assert_eq!(
        out.stdout.matches(": recorded (EU-").count(),
        2,
        "{}",
        out.stdout
    );
    let out = writer.run(&["registry", "record", &good]).await.code(0);
    assert_eq!(
        out.stdout.matches(": unchanged (EU-").count(),
        2,
        "{}",
        out.stdout
    );

    // Not a record file: exit 2 before anything is sent. A read key cannot record: 4.
    let bad = writer.path("bad.json");
    std::fs::write(
        &bad,
        r#"{"schemaVersion":"1.0.0","registrations":[{"passportId":"x"}]}"#,
    )
    .unwrap();
    let out = writer
        .run(&["registry", "record", &bad.display().to_string()])
        .await
        .code(2);
    assert!(
        out.stderr.contains("registry-record schema"),
        "{}",
        out.stderr
    );
    cli.run(&["registry", "record", &good]).await.code(4);

    // The next export leaves the two registered versions out.
    let again = cli.path("again");
    let out = cli
        .run(&["registry", "export", "--out", &again.display().to_string()])
        .await
        .code(0);
    assert!(
        out.stdout
            .contains("3 passport version(s) in 1 file(s); 1 skipped"),
        "{}",
        out.stdout
    );
}

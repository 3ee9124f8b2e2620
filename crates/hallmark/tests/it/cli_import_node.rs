//! `hallmark import` as a real process against a real node (issue 18's "Done when"): the
//! demo template's example rows, as CSV and as XLSX, imported with `--publish` — passports
//! whose public credentials verify; the same file again and the other format of the same
//! rows change nothing but the import's own audit event; a changed row becomes version 2;
//! a file with bad rows reports each (row, column, JSON Pointer) and writes nothing for them
//! while its good row lands; an import killed after its first acknowledged batch, run again,
//! completes without duplicates; `passport get --external-ref` finds an imported passport.
//! SQLite and PostgreSQL.

use hallmark_core::verify::verify;
use hallmark_store::{PassportFilter, Store};
use hallmark_testkit as kit;
use kit::{Backend, Node, TestNode};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// `hallmark args…` with only PATH, a HOME of its own and the node's URL and key; (exit
/// code, stderr).
async fn hallmark(node: &Node, key: &str, home: &Path, args: &[&str]) -> (i32, String) {
    let mut c = command(node, key, home, args);
    tokio::task::spawn_blocking(move || {
        let o = c.output().unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

fn command(node: &Node, key: &str, home: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hallmark"));
    c.env_clear();
    if let Ok(p) = std::env::var("PATH") {
        c.env("PATH", p);
    }
    c.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("HALLMARK_ADMIN_URL", &node.admin)
        .env("HALLMARK_API_KEY", key)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// One line of `<input>.report.csv`.
#[derive(Debug, Clone)]
struct Line {
    row: String,
    external_ref: String,
    result: String,
    id: String,
    version: String,
    column: String,
    pointer: String,
    message: String,
}

fn report(input: &Path) -> Vec<Line> {
    let path = PathBuf::from(format!("{}.report.csv", input.display()));
    let mut r = csv::Reader::from_path(&path).unwrap();
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "row",
            "externalRef",
            "result",
            "id",
            "version",
            "column",
            "pointer",
            "message"
        ]
    );
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            let f = |i: usize| rec.get(i).unwrap_or("").to_owned();
            Line {
                row: f(0),
                external_ref: f(1),
                result: f(2),
                id: f(3),
                version: f(4),
                column: f(5),
                pointer: f(6),
                message: f(7),
            }
        })
        .collect()
}

fn results(lines: &[Line]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = lines
        .iter()
        .map(|l| (l.external_ref.clone(), l.result.clone()))
        .collect();
    v.sort();
    v
}

fn all(result: &str) -> Vec<(String, String)> {
    ["demo-ev", "demo-industrial", "demo-lmt"]
        .iter()
        .map(|r| (r.to_string(), result.to_string()))
        .collect()
}

async fn passports(s: &dyn Store) -> usize {
    s.list_passports(&PassportFilter::default(), None, 1000)
        .await
        .unwrap()
        .items
        .len()
}

/// The last audit event's action.
async fn last_action(s: &dyn Store) -> String {
    let len = s.audit_len().await.unwrap();
    s.list_audit(len, 1).await.unwrap()[0]
        .event
        .action
        .to_string()
}

async fn demo_files_publish_rerun_change_and_bad_rows(backend: Backend, first: &str) {
    let n = TestNode::new(backend).start().await;
    let key = n.key("write").await.1;
    let s = n.store().clone();
    let home = tempfile::tempdir().unwrap();
    let dir = home.path();
    let other = if first == "csv" { "xlsx" } else { "csv" };
    for format in [first, other] {
        let out = dir.join(format!("demo.{format}")).display().to_string();
        let (code, err) = hallmark(
            &n,
            &key,
            dir,
            &[
                "import",
                "template",
                "battery",
                "--format",
                format,
                "--example",
                "--out",
                &out,
            ],
        )
        .await;
        assert_eq!(code, 0, "{err}");
    }
    let first_file = dir.join(format!("demo.{first}"));
    let first_path = first_file.display().to_string();

    // The example rows, published: created at version 1, credentials that verify.
    let (code, err) = hallmark(&n, &key, dir, &["import", &first_path, "--publish"]).await;
    assert_eq!(code, 0, "{err}");
    let lines = report(&first_file);
    assert_eq!(results(&lines), all("created"), "{lines:#?}");
    let did = n.did().await;
    for l in &lines {
        assert_eq!(l.version, "1", "{l:?}");
        let served = n.get_public(&format!("/passports/{}", l.id), None).await;
        assert_eq!(served.status, 200);
        assert!(verify(&served.body, &did).is_valid(), "{l:?}");
    }
    assert_eq!(passports(s.as_ref()).await, 3);
    assert_eq!(last_action(s.as_ref()).await, "import.completed");
    // The control plane finds a passport by the reference it was imported under.
    let ev = lines.iter().find(|l| l.external_ref == "demo-ev").unwrap();
    let operator = "https://id.gs1.org/417/4012345000016";
    let mut get = command(
        &n,
        &key,
        dir,
        &[
            "passport",
            "get",
            "--external-ref",
            "demo-ev",
            "--operator",
            operator,
            "--json",
        ],
    );
    let out = tokio::task::spawn_blocking(move || get.output().unwrap())
        .await
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["id"], ev.id.as_str(), "{got:#}");
    let (code, err) = hallmark(
        &n,
        &key,
        dir,
        &[
            "passport",
            "get",
            "--external-ref",
            "nosuch",
            "--operator",
            operator,
        ],
    )
    .await;
    assert_eq!(code, 5, "{err}");
    assert!(
        !PathBuf::from(format!("{first_path}.hallmark-import")).exists(),
        "the resume state is gone once the import is done"
    );

    // The same file again, then the same rows in the other format: nothing changes but the
    // import's own audit event.
    for file in [first_file.clone(), dir.join(format!("demo.{other}"))] {
        let len = s.audit_len().await.unwrap();
        let path = file.display().to_string();
        let (code, err) = hallmark(&n, &key, dir, &["import", &path, "--publish"]).await;
        assert_eq!(code, 0, "{err}");
        assert_eq!(results(&report(&file)), all("unchanged"), "{path}");
        assert_eq!(s.audit_len().await.unwrap(), len + 1, "{path}");
        assert_eq!(last_action(s.as_ref()).await, "import.completed");
        assert_eq!(passports(s.as_ref()).await, 3);
    }

    // One changed cell (CSV): that row becomes version 2, the others stay.
    let csv_file = dir.join("demo.csv");
    let mut r = csv::Reader::from_path(&csv_file).unwrap();
    let header = r.headers().unwrap().clone();
    let mass = header
        .iter()
        .position(|h| h == "data.generalProductInformation.batteryMass")
        .unwrap();
    let mut rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    let ev = rows.iter().position(|x| &x[0] == "demo-ev").unwrap();
    let mut changed: Vec<String> = rows[ev].iter().map(str::to_owned).collect();
    changed[mass] = "451.5".to_owned();
    rows[ev] = csv::StringRecord::from(changed);
    let changed_file = dir.join("changed.csv");
    let mut w = csv::Writer::from_path(&changed_file).unwrap();
    w.write_record(&header).unwrap();
    for x in &rows {
        w.write_record(x).unwrap();
    }
    w.flush().unwrap();
    let changed_path = changed_file.display().to_string();
    let (code, err) = hallmark(&n, &key, dir, &["import", &changed_path, "--publish"]).await;
    assert_eq!(code, 0, "{err}");
    let lines = report(&changed_file);
    let ev_line = lines.iter().find(|l| l.external_ref == "demo-ev").unwrap();
    assert_eq!(ev_line.result, "updated", "{lines:#?}");
    assert_eq!(ev_line.version, "2", "{ev_line:?}");
    assert_eq!(
        lines.iter().filter(|l| l.result == "unchanged").count(),
        2,
        "{lines:#?}"
    );
    let state = n
        .admin(
            reqwest::Method::GET,
            &format!("/api/v1/passports/{}", ev_line.id),
        )
        .await
        .json();
    assert_eq!(state["currentVersion"], 2, "{state:#}");

    // Bad rows: a typing error (refused here, never sent), a schema error (refused by the
    // node), and one good new row, which lands.
    let category = header
        .iter()
        .position(|h| h == "data.generalProductInformation.batteryCategory")
        .unwrap();
    let serial = header
        .iter()
        .position(|h| h == "uniqueProductIdentifier.serial")
        .unwrap();
    let base: Vec<String> = rows[ev].iter().map(str::to_owned).collect();
    let variant = |r: &str, sn: &str, col: usize, value: &str| {
        let mut v = base.clone();
        v[0] = r.to_owned();
        v[serial] = sn.to_owned();
        if col != usize::MAX {
            v[col] = value.to_owned();
        }
        csv::StringRecord::from(v)
    };
    let bad_file = dir.join("bad.csv");
    let mut w = csv::Writer::from_path(&bad_file).unwrap();
    w.write_record(&header).unwrap();
    w.write_record(&variant("good-1", "GOOD-1", usize::MAX, ""))
        .unwrap();
    w.write_record(&variant("bad-mass", "BAD-1", mass, "heavy"))
        .unwrap();
    w.write_record(&variant("bad-category", "BAD-2", category, "spaceship"))
        .unwrap();
    w.flush().unwrap();
    let bad_path = bad_file.display().to_string();
    let before = passports(s.as_ref()).await;
    let (code, err) = hallmark(&n, &key, dir, &["import", &bad_path, "--publish"]).await;
    assert_eq!(code, 3, "{err}");
    let lines = report(&bad_file);
    let by_ref = |r: &str| lines.iter().find(|l| l.external_ref == r).cloned().unwrap();
    assert_eq!(by_ref("good-1").result, "created", "{lines:#?}");
    let mass_line = by_ref("bad-mass");
    assert_eq!(mass_line.row, "3", "{mass_line:?}");
    assert_eq!(
        mass_line.column,
        "data.generalProductInformation.batteryMass"
    );
    assert_eq!(
        mass_line.pointer,
        "/data/generalProductInformation/batteryMass"
    );
    assert!(mass_line.id.is_empty(), "{mass_line:?}");
    let category_line = by_ref("bad-category");
    assert_eq!(category_line.row, "4", "{category_line:?}");
    assert_eq!(category_line.result, "failed", "{category_line:?}");
    assert_eq!(
        category_line.column,
        "data.generalProductInformation.batteryCategory"
    );
    assert_eq!(
        category_line.pointer,
        "/data/generalProductInformation/batteryCategory"
    );
    assert!(!category_line.message.is_empty());
    assert_eq!(passports(s.as_ref()).await, before + 1, "only the good row");
    n.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_files_publish_rerun_change_and_bad_rows_sqlite() {
    demo_files_publish_rerun_change_and_bad_rows(Backend::Sqlite, "csv").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_files_publish_rerun_change_and_bad_rows_postgres() {
    demo_files_publish_rerun_change_and_bad_rows(Backend::Postgres, "xlsx").await;
}

/// An import killed (SIGKILL) after its first acknowledged batch, run again: every row
/// lands once — as many passports as rows, none refused as a duplicate product.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_import_run_again_completes_without_duplicates() {
    let n = TestNode::new(Backend::Sqlite).start().await;
    let key = n.key("write").await.1;
    let s = n.store().clone();
    let home = tempfile::tempdir().unwrap();
    let dir = home.path();
    let ev: Value = serde_json::from_str(include_str!("../../demo/ev-battery.json")).unwrap();
    let rows = 120;
    let file = dir.join("rows.jsonl");
    let mut text = String::new();
    for i in 0..rows {
        let mut p = ev.clone();
        p["uniqueProductIdentifier"]["serial"] = Value::from(format!("KILL-{i:04}"));
        p["externalRef"] = Value::from(format!("kill-{i:04}"));
        text.push_str(&serde_json::to_string(&p).unwrap());
        text.push('\n');
    }
    std::fs::write(&file, text).unwrap();
    let path = file.display().to_string();
    let args = [
        "import",
        path.as_str(),
        "--publish",
        "--batch-size",
        "10",
        "--concurrency",
        "1",
    ];
    let mut child = command(&n, &key, dir, &args).spawn().unwrap();
    let report_path = PathBuf::from(format!("{path}.report.csv"));
    // Killed once the report holds a batch's results (header + 10 lines).
    let acknowledged = kit::http::until("the first acknowledged batch", || {
        let report_path = report_path.clone();
        async move {
            let lines = std::fs::read_to_string(&report_path)
                .map(|t| t.lines().count())
                .unwrap_or(0);
            (lines > 10).then_some(lines)
        }
    })
    .await;
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());
    let landed = passports(s.as_ref()).await;
    assert!(
        landed >= 10,
        "{landed} passports after {acknowledged} lines"
    );
    assert!(landed < rows, "killed before the end ({landed})");

    let (code, err) = hallmark(&n, &key, dir, &args).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(passports(s.as_ref()).await, rows);
    let lines = report(&file);
    assert!(
        lines.iter().all(|l| l.result != "failed"),
        "{:#?}",
        lines
            .iter()
            .filter(|l| l.result == "failed")
            .collect::<Vec<_>>()
    );
    n.stop().await;
}

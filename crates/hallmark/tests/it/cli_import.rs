//! `hallmark import` as a real process, without a node: `import template` (CSV with its
//! column description, XLSX with its three sheets), example rows read back as exactly the
//! demo passports (`--to-jsonl`), the local check (`--dry-run --offline`) and its report,
//! and usage errors (exit 2) versus refused rows (exit 3).

use hallmark_core::jcs;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const DEMOS: [(&str, &str); 3] = [
    ("demo-ev", include_str!("../../demo/ev-battery.json")),
    (
        "demo-industrial",
        include_str!("../../demo/industrial-battery.json"),
    ),
    ("demo-lmt", include_str!("../../demo/lmt-battery.json")),
];

/// `hallmark import <args>` in `dir` with only PATH; (exit code, stdout, stderr).
fn import(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hallmark"));
    c.env_clear();
    if let Ok(p) = std::env::var("PATH") {
        c.env("PATH", p);
    }
    let o = c
        .current_dir(dir)
        .arg("import")
        .args(args)
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .unwrap()
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// The file converted by `--to-jsonl` equals the demo passports, in order, exactly (RFC 8785
/// bytes: the demo's `452.0` and the row's `452` are the same number).
fn assert_reads_back_as_demos(dir: &Path, file: &str, extra: &[&str]) {
    let mut args = vec![file, "--to-jsonl", "out.jsonl"];
    args.extend_from_slice(extra);
    let (code, _, err) = import(dir, &args);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(dir.join("out.jsonl")).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), DEMOS.len());
    for (mut line, (external_ref, demo)) in lines.into_iter().zip(DEMOS) {
        let got_ref = line.as_object_mut().unwrap().remove("externalRef").unwrap();
        assert_eq!(got_ref, external_ref);
        let demo: Value = serde_json::from_str(demo).unwrap();
        assert_eq!(
            String::from_utf8(jcs::canonicalize(&line).unwrap()).unwrap(),
            String::from_utf8(jcs::canonicalize(&demo).unwrap()).unwrap(),
            "{external_ref}"
        );
    }
}

#[test]
fn csv_template_with_examples_reads_back_as_the_demo_passports() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = import(
        dir.path(),
        &["template", "battery", "--format", "csv", "--example"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("battery-1.2.0.csv"), "{out}");
    assert!(out.contains("battery-1.2.0.columns.csv"), "{out}");

    let rows = csv_rows(&dir.path().join("battery-1.2.0.csv"));
    assert_eq!(rows.len(), 4, "header + three demo rows");
    let header = &rows[0];
    assert_eq!(header[0], "externalRef");
    assert!(header.contains(&"uniqueProductIdentifier.gtin".to_owned()));
    assert!(header
        .contains(&"data.materialComposition.batteryMaterials[0].batteryMaterialName".to_owned()));
    assert_eq!(rows[1][0], "demo-ev");
    // GTINs keep their leading zero.
    let gtin = header
        .iter()
        .position(|h| h == "uniqueProductIdentifier.gtin")
        .unwrap();
    assert_eq!(rows[1][gtin], "09506000134369");

    // One description line per column, in header order.
    let columns = csv_rows(&dir.path().join("battery-1.2.0.columns.csv"));
    assert_eq!(
        columns[0],
        [
            "column",
            "pointer",
            "type",
            "format",
            "values",
            "required",
            "tier",
            "attributes"
        ]
    );
    assert_eq!(columns.len(), header.len() + 1);
    for (description, name) in columns[1..].iter().zip(header) {
        assert_eq!(&description[0], name);
    }
    let mass = columns
        .iter()
        .find(|c| c[0] == "data.generalProductInformation.batteryMass")
        .unwrap();
    assert_eq!(
        mass[1..],
        [
            "/data/generalProductInformation/batteryMass",
            "number",
            "",
            "",
            "yes",
            "public",
            "10"
        ]
    );

    assert_reads_back_as_demos(dir.path(), "battery-1.2.0.csv", &[]);

    // The local check finds the three demo passports valid; the report says so per row.
    let (code, _, err) = import(dir.path(), &["battery-1.2.0.csv", "--dry-run", "--offline"]);
    assert_eq!(code, 0, "{err}");
    let report = csv_rows(&dir.path().join("battery-1.2.0.csv.report.csv"));
    assert_eq!(
        report[0],
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
    let results: Vec<(&str, &str, &str)> = report[1..]
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str(), r[2].as_str()))
        .collect();
    let mut sorted = results.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            ("2", "demo-ev", "valid"),
            ("3", "demo-industrial", "valid"),
            ("4", "demo-lmt", "valid")
        ]
    );
}

#[test]
fn xlsx_template_with_examples_reads_back_as_the_demo_passports() {
    use calamine::Reader;
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = import(
        dir.path(),
        &[
            "template",
            "battery@1.2.0",
            "--format",
            "xlsx",
            "--example",
            "--out",
            "t.xlsx",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "t.xlsx");
    let book: calamine::Xlsx<_> = calamine::open_workbook(dir.path().join("t.xlsx")).unwrap();
    assert_eq!(book.sheet_names(), ["passports", "columns", "example"]);

    assert_reads_back_as_demos(dir.path(), "t.xlsx", &[]);
    assert_reads_back_as_demos(dir.path(), "t.xlsx", &["--sheet", "example"]);

    // Without --example the passports sheet is the header alone; the example sheet stays.
    let (code, _, err) = import(
        dir.path(),
        &[
            "template",
            "battery",
            "--format",
            "xlsx",
            "--out",
            "empty.xlsx",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = import(dir.path(), &["empty.xlsx", "--to-jsonl", "none.jsonl"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("none.jsonl")).unwrap(),
        ""
    );
    assert_reads_back_as_demos(dir.path(), "empty.xlsx", &["--sheet", "example"]);
}

#[test]
fn bad_rows_are_reported_with_row_column_and_pointer_and_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("in.csv"),
        "externalRef,granularity,data.generalProductInformation.batteryMass\n\
         a,item,\"1,5\"\n\
         b,item,2\n",
    )
    .unwrap();
    let (code, _, err) = import(dir.path(), &["in.csv", "--dry-run", "--offline", "--quiet"]);
    assert_eq!(code, 3, "{err}");
    let report = csv_rows(&dir.path().join("in.csv.report.csv"));
    let a = report.iter().find(|r| r[1] == "a").unwrap();
    assert_eq!(a[0], "2");
    assert_eq!(a[2], "invalid");
    assert_eq!(a[5], "data.generalProductInformation.batteryMass");
    assert_eq!(a[6], "/data/generalProductInformation/batteryMass");
    assert!(a[7].contains("decimal separator"), "{}", a[7]);
    // Row b is well typed but not a passport: the local schema check names what is missing.
    let b: Vec<&Vec<String>> = report.iter().filter(|r| r[1] == "b").collect();
    assert!(!b.is_empty());
    assert!(b.iter().all(|r| r[0] == "3" && r[2] == "failed"));
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.csv"), "externalRef,data.nope\na,b\n").unwrap();
    let (code, _, err) = import(dir.path(), &["bad.csv", "--dry-run", "--offline"]);
    assert_eq!(code, 2);
    assert!(err.contains("data.nope"), "{err}");
    let (code, _, err) = import(dir.path(), &["bad.csv", "--to-jsonl", "x.jsonl"]);
    assert_eq!(code, 2, "{err}");

    std::fs::write(
        dir.path().join("dup.csv"),
        "externalRef,components,components[0].uri\n",
    )
    .unwrap();
    let (code, _, err) = import(dir.path(), &["dup.csv", "--dry-run", "--offline"]);
    assert_eq!(code, 2);
    assert!(err.contains("use one form"), "{err}");

    // No node named (no admin URL in the environment or a profile): said plainly, nothing
    // written.
    std::fs::write(
        dir.path().join("ok.csv"),
        "externalRef,granularity\na,item\n",
    )
    .unwrap();
    let (code, _, err) = import(dir.path(), &["ok.csv"]);
    assert_eq!(code, 2);
    assert!(err.contains("HALLMARK_ADMIN_URL"), "{err}");
    assert!(!dir.path().join("ok.csv.report.csv").exists());

    let (code, _, _) = import(dir.path(), &["template", "nosuch"]);
    assert_eq!(code, 2);
    let (code, _, _) = import(dir.path(), &["ok.txt"]);
    assert_eq!(code, 2);
    let (code, _, _) = import(dir.path(), &["ok.csv", "--offline"]);
    assert_eq!(code, 2, "--offline needs --dry-run");
}

#[test]
fn json_lines_are_checked_locally() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for (external_ref, demo) in DEMOS {
        let mut v: Value = serde_json::from_str(demo).unwrap();
        v.as_object_mut()
            .unwrap()
            .insert("externalRef".into(), external_ref.into());
        text.push_str(&serde_json::to_string(&v).unwrap());
        text.push('\n');
    }
    text.push_str("{\"granularity\":\"item\"}\n");
    std::fs::write(dir.path().join("in.jsonl"), text).unwrap();
    let (code, _, err) = import(dir.path(), &["in.jsonl", "--dry-run", "--offline"]);
    assert_eq!(code, 3, "{err}");
    let report = csv_rows(&dir.path().join("in.jsonl.report.csv"));
    let valid = report.iter().filter(|r| r[2] == "valid").count();
    assert_eq!(valid, 3);
    let last = report.iter().find(|r| r[0] == "4").unwrap();
    assert_eq!(last[2], "invalid");
    assert!(last[7].contains("externalRef"));
}

//! The import report, `<input>.report.csv`: one line per row outcome and per issue,
//! written as results arrive (docs/import.md, "The report").
//!
//! Columns: `row, externalRef, result, id, version, column, pointer, message`. `result` is
//! the node's (`created`, `updated`, `published`, `unchanged`, `failed`; `valid` in a dry run) or
//! `invalid` for a
//! row the importer refused itself (typing, header-less cells, JSON Lines syntax): such rows
//! are never sent.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::readers::Row;
use super::tabular::{CellError, Header};

/// The report's header row.
pub const REPORT_HEADER: [&str; 8] = [
    "row",
    "externalRef",
    "result",
    "id",
    "version",
    "column",
    "pointer",
    "message",
];

/// The `result` of a row the importer refused itself.
pub const INVALID: &str = "invalid";

/// Top-level members of the passport envelope: a node issue pointer that starts with none of
/// them points into the sector data (schema issues are reported that way).
const ENVELOPE_KEYS: [&str; 8] = [
    "uniqueProductIdentifier",
    "granularity",
    "economicOperatorId",
    "facilityId",
    "commodityCode",
    "sector",
    "components",
    "data",
];

/// The report path for an input: `<input>.report.csv`.
pub fn report_path(input: &Path) -> PathBuf {
    let mut name = input.as_os_str().to_owned();
    name.push(".report.csv");
    PathBuf::from(name)
}

/// Counts of the results written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    /// `created`.
    pub created: u64,
    /// `updated`.
    pub updated: u64,
    /// `published`.
    pub published: u64,
    /// `unchanged`.
    pub unchanged: u64,
    /// `failed` (by the node).
    pub failed: u64,
    /// `invalid` (refused here, never sent).
    pub invalid: u64,
    /// `valid` (a dry run found nothing wrong).
    #[serde(default)]
    pub valid: u64,
}

impl Counts {
    /// Adds one result.
    pub fn add(&mut self, result: &str) {
        match result {
            "created" => self.created += 1,
            "updated" => self.updated += 1,
            "published" => self.published += 1,
            "unchanged" => self.unchanged += 1,
            INVALID => self.invalid += 1,
            "valid" => self.valid += 1,
            _ => self.failed += 1,
        }
    }

    /// Every row counted.
    pub fn total(&self) -> u64 {
        self.created
            + self.updated
            + self.published
            + self.unchanged
            + self.failed
            + self.invalid
            + self.valid
    }

    /// What was added since `before` (an earlier reading of the same counts).
    pub fn since(&self, before: &Counts) -> Counts {
        Counts {
            created: self.created.saturating_sub(before.created),
            updated: self.updated.saturating_sub(before.updated),
            published: self.published.saturating_sub(before.published),
            unchanged: self.unchanged.saturating_sub(before.unchanged),
            failed: self.failed.saturating_sub(before.failed),
            invalid: self.invalid.saturating_sub(before.invalid),
            valid: self.valid.saturating_sub(before.valid),
        }
    }

    /// Adds another set of counts.
    pub fn merge(&mut self, other: &Counts) {
        self.created += other.created;
        self.updated += other.updated;
        self.published += other.published;
        self.unchanged += other.unchanged;
        self.failed += other.failed;
        self.invalid += other.invalid;
        self.valid += other.valid;
    }
}

/// The streamed report.
pub struct Report<W: Write> {
    out: csv::Writer<W>,
    counts: Counts,
}

impl Report<File> {
    /// Creates the report at `path`, or, to resume (`resume`: the high-water row of the
    /// earlier run), keeps its lines of rows up to that row and appends to it: the lines of
    /// rows beyond it are dropped, since the resumed run sends those rows again and reports
    /// them itself (one row, one set of lines). A new report starts with its header row.
    pub fn open(path: &Path, resume: Option<u64>) -> std::io::Result<Self> {
        let existing = resume.is_some() && path.metadata().is_ok_and(|m| m.len() > 0);
        if let (true, Some(high_water)) = (existing, resume) {
            keep_rows_up_to(path, high_water)?;
            let file = OpenOptions::new().append(true).open(path)?;
            return Report::new(file, false);
        }
        Report::new(File::create(path)?, true)
    }
}

/// Rewrites the report at `path` with its header and the lines of rows ≤ `high_water` (a
/// temporary file beside it, then renamed over it).
fn keep_rows_up_to(path: &Path, high_water: u64) -> std::io::Result<()> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .map_err(std::io::Error::other)?;
    let tmp = path.with_extension("csv.resume-tmp");
    let mut out = csv::Writer::from_path(&tmp).map_err(std::io::Error::other)?;
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(std::io::Error::other)?;
        let row = record.get(0).and_then(|r| r.parse::<u64>().ok());
        let keep = match row {
            Some(row) => row <= high_water,
            None => i == 0, // the header
        };
        if keep {
            out.write_record(&record).map_err(std::io::Error::other)?;
        }
    }
    out.flush()?;
    drop(out);
    std::fs::rename(&tmp, path)
}

impl<W: Write> Report<W> {
    /// A report over any writer (`header`: write the header row first).
    pub fn new(w: W, header: bool) -> std::io::Result<Self> {
        let mut out = csv::Writer::from_writer(w);
        if header {
            out.write_record(REPORT_HEADER)
                .map_err(std::io::Error::other)?;
        }
        Ok(Report {
            out,
            counts: Counts::default(),
        })
    }

    /// What has been reported so far.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    #[allow(clippy::too_many_arguments)]
    fn line(
        &mut self,
        row: u64,
        external_ref: &str,
        result: &str,
        id: &str,
        version: &str,
        column: &str,
        pointer: &str,
        message: &str,
    ) -> std::io::Result<()> {
        let row = row.to_string();
        self.out
            .write_record([
                row.as_str(),
                external_ref,
                result,
                id,
                version,
                column,
                pointer,
                message,
            ])
            .map_err(std::io::Error::other)
    }

    /// Reports a row refused here (`invalid`), one line per cell error.
    pub fn invalid(&mut self, row: &Row, errors: &[CellError]) -> std::io::Result<()> {
        self.counts.add(INVALID);
        let external_ref = row.external_ref.as_deref().unwrap_or("");
        if errors.is_empty() {
            return self.line(
                row.number,
                external_ref,
                INVALID,
                "",
                "",
                "",
                "",
                "invalid row",
            );
        }
        for e in errors {
            self.line(
                row.number,
                external_ref,
                INVALID,
                "",
                "",
                &e.column,
                &e.pointer,
                &e.message,
            )?;
        }
        Ok(())
    }

    /// Reports the node's answer for one item (`{index, externalRef, result, id?, version?,
    /// problem?, warnings?}`): one line, or one per issue of its problem, or one per warning
    /// of a written item (its result kept, the message prefixed `warning: `), each pointer
    /// mapped back to its column through `header` (CSV and XLSX inputs).
    pub fn outcome(
        &mut self,
        row: u64,
        item: &Value,
        header: Option<&Header>,
    ) -> std::io::Result<()> {
        let text = |key: &str| item.get(key).and_then(Value::as_str).unwrap_or("");
        let external_ref = text("externalRef");
        let result = match text("result") {
            "" => "failed",
            r => r,
        };
        self.counts.add(result);
        let id = text("id");
        let version = item
            .get("version")
            .map(|v| match v {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            })
            .unwrap_or_default();
        let Some(problem) = item.get("problem").filter(|p| p.is_object()) else {
            let warnings = pointed(item.get("warnings"));
            if warnings.is_empty() {
                return self.line(row, external_ref, result, id, &version, "", "", "");
            }
            for (pointer, message) in warnings {
                let pointer = submission_pointer(&pointer);
                let column = header
                    .and_then(|h| h.column_of(&pointer))
                    .unwrap_or_default();
                let message = format!("warning: {message}");
                self.line(
                    row,
                    external_ref,
                    result,
                    id,
                    &version,
                    &column,
                    &pointer,
                    &message,
                )?;
            }
            return Ok(());
        };
        let summary = problem
            .get("detail")
            .or_else(|| problem.get("title"))
            .and_then(Value::as_str)
            .unwrap_or("failed");
        let issues: Vec<(String, String)> = ["issues", "findings"]
            .iter()
            .flat_map(|k| pointed(problem.get(*k)))
            .collect();
        if issues.is_empty() {
            return self.line(row, external_ref, result, id, &version, "", "", summary);
        }
        for (pointer, message) in issues {
            let pointer = submission_pointer(&pointer);
            let column = header
                .and_then(|h| h.column_of(&pointer))
                .unwrap_or_default();
            self.line(
                row,
                external_ref,
                result,
                id,
                &version,
                &column,
                &pointer,
                &message,
            )?;
        }
        Ok(())
    }

    /// Writes buffered lines through.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }

    /// Flushes and returns the writer.
    #[cfg(test)]
    pub fn into_inner(self) -> std::io::Result<W> {
        self.out
            .into_inner()
            .map_err(|e| std::io::Error::other(e.to_string()))
    }
}

/// `(pointer, message)` of each member of an array of issues (`[]` when absent).
fn pointed(issues: Option<&Value>) -> Vec<(String, String)> {
    issues
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|i| {
            let s = |k: &str| i.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            (s("pointer"), s("message"))
        })
        .collect()
}

/// A node issue pointer as a pointer into the submission: schema issues point into the
/// sector data, so a pointer that starts with no envelope member gets `/data` in front.
pub fn submission_pointer(pointer: &str) -> String {
    let first = pointer
        .strip_prefix('/')
        .map(|p| p.split('/').next().unwrap_or(""));
    match first {
        Some(first) if ENVELOPE_KEYS.contains(&first) => pointer.to_owned(),
        Some(_) => format!("/data{pointer}"),
        None => pointer.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use hallmark_core::sector::SectorRegistry;
    use serde_json::json;

    fn lines(report: Report<Vec<u8>>) -> Vec<Vec<String>> {
        let bytes = report.into_inner().unwrap();
        csv::Reader::from_reader(bytes.as_slice())
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect()
    }

    #[test]
    fn one_line_per_issue_with_its_column() {
        let sector = SectorRegistry::builtin().get("battery", "1.2.0").unwrap();
        let header = Header::parse(
            &[
                "externalRef",
                "data.generalProductInformation.batteryMass",
                "granularity",
            ],
            sector,
        )
        .unwrap();
        let mut report = Report::new(Vec::new(), true).unwrap();
        report
            .outcome(
                2,
                &json!({"index": 0, "externalRef": "a", "result": "created",
                        "id": "0190-x", "version": 1}),
                Some(&header),
            )
            .unwrap();
        report
            .outcome(
                3,
                &json!({"index": 1, "externalRef": "b", "result": "failed", "problem": {
                    "title": "Invalid passport", "detail": "2 issues", "issues": [
                        {"pointer": "/generalProductInformation/batteryMass", "message": "not a number"},
                        {"pointer": "/granularity", "message": "unknown"}]}}),
                Some(&header),
            )
            .unwrap();
        report
            .outcome(
                4,
                &json!({"index": 2, "externalRef": "c", "result": "failed",
                        "problem": {"title": "Conflict", "detail": "terminal"}}),
                Some(&header),
            )
            .unwrap();
        assert_eq!(
            report.counts(),
            Counts {
                created: 1,
                failed: 2,
                ..Counts::default()
            }
        );
        let l = lines(report);
        assert_eq!(l.len(), 4);
        assert_eq!(l[0], ["2", "a", "created", "0190-x", "1", "", "", ""]);
        assert_eq!(
            l[1][5..],
            [
                "data.generalProductInformation.batteryMass",
                "/data/generalProductInformation/batteryMass",
                "not a number"
            ]
        );
        assert_eq!(l[2][5..], ["granularity", "/granularity", "unknown"]);
        assert_eq!(l[3][2..], ["failed", "", "", "", "", "terminal"]);
    }

    #[test]
    fn one_line_per_warning_with_the_result_kept() {
        let sector = SectorRegistry::builtin().get("generic", "1.0.0").unwrap();
        let header = Header::parse(&["externalRef", "economicOperatorId"], sector).unwrap();
        let mut report = Report::new(Vec::new(), true).unwrap();
        report
            .outcome(
                2,
                &json!({"index": 0, "externalRef": "a", "result": "created", "id": "0190-x",
                        "version": 1, "warnings": [
                    {"pointer": "/economicOperatorId", "message": "not ISO/IEC 15459"},
                    {"pointer": "/commodityCode", "message": "missing"}]}),
                Some(&header),
            )
            .unwrap();
        assert_eq!(
            report.counts(),
            Counts {
                created: 1,
                ..Counts::default()
            }
        );
        let l = lines(report);
        assert_eq!(
            l,
            [
                [
                    "2",
                    "a",
                    "created",
                    "0190-x",
                    "1",
                    "economicOperatorId",
                    "/economicOperatorId",
                    "warning: not ISO/IEC 15459"
                ],
                [
                    "2",
                    "a",
                    "created",
                    "0190-x",
                    "1",
                    "commodityCode",
                    "/commodityCode",
                    "warning: missing"
                ]
            ]
        );
    }

    #[test]
    fn invalid_rows_are_reported_cell_by_cell() {
        let mut report = Report::new(Vec::new(), true).unwrap();
        let row = Row {
            number: 7,
            external_ref: Some("x".into()),
            submission: Ok(json!({})),
        };
        let errors = vec![
            CellError::row("column 9 has a value but no header"),
            CellError {
                column: "granularity".into(),
                pointer: "/granularity".into(),
                message: "bad".into(),
            },
        ];
        report.invalid(&row, &errors).unwrap();
        assert_eq!(report.counts().invalid, 1);
        let l = lines(report);
        assert_eq!(l.len(), 2);
        assert_eq!(
            l[1],
            [
                "7",
                "x",
                "invalid",
                "",
                "",
                "granularity",
                "/granularity",
                "bad"
            ]
        );
    }

    #[test]
    fn report_path_appends_to_the_input_name() {
        assert_eq!(
            report_path(Path::new("/tmp/a.csv")),
            PathBuf::from("/tmp/a.csv.report.csv")
        );
    }

    #[test]
    fn a_resumed_report_drops_the_lines_beyond_the_high_water_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.csv.report.csv");
        let mut first = Report::open(&path, None).unwrap();
        // Batches answer out of order: rows 2–3 and 6–7 are reported, 4–5 are not.
        for row in [2, 3, 6, 7] {
            let item = json!({"externalRef": format!("r{row}"), "result": "failed",
                "problem": {"title": "Invalid passport", "detail": "line one\nline \"two\""}});
            first.outcome(row, &item, None).unwrap();
        }
        first.flush().unwrap();
        drop(first);

        let mut resumed = Report::open(&path, Some(3)).unwrap();
        for row in [4, 5, 6, 7] {
            let item = json!({"externalRef": format!("r{row}"), "result": "unchanged"});
            resumed.outcome(row, &item, None).unwrap();
        }
        resumed.flush().unwrap();
        drop(resumed);

        let mut reader = csv::Reader::from_path(&path).unwrap();
        assert_eq!(reader.headers().unwrap(), REPORT_HEADER.as_slice());
        let rows: Vec<(String, String, String)> = reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                (r[0].to_owned(), r[2].to_owned(), r[7].to_owned())
            })
            .collect();
        let numbers: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(numbers, ["2", "3", "4", "5", "6", "7"], "one line per row");
        assert_eq!(rows[0].1, "failed");
        assert!(rows[0].2.contains("line \"two\""), "{:?}", rows[0].2);
        assert_eq!(
            rows[4].1, "unchanged",
            "row 6 as the resumed run reported it"
        );
        assert!(!dir.path().join("in.csv.report.csv.resume-tmp").exists());
    }
}

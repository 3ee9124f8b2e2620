//! `hallmark import template SECTOR`: the CSV or XLSX template of a sector's passports,
//! its column description, and (with `--example`) the three demo passports as rows.

use std::path::{Path, PathBuf};

use hallmark_core::access::Tier;
use hallmark_core::sector::{ColumnKind, ColumnSpec, Sector};
use serde_json::Value;

use super::tabular::{self, Header, Shape, EXTERNAL_REF};

/// The demo passports: `(externalRef, JSON)`.
pub const DEMOS: [(&str, &str); 3] = [
    ("demo-ev", include_str!("../../demo/ev-battery.json")),
    (
        "demo-industrial",
        include_str!("../../demo/industrial-battery.json"),
    ),
    ("demo-lmt", include_str!("../../demo/lmt-battery.json")),
];

/// The header of the column description (`<name>.columns.csv`, sheet `columns`).
pub const COLUMNS_HEADER: [&str; 8] = [
    "column",
    "pointer",
    "type",
    "format",
    "values",
    "required",
    "tier",
    "attributes",
];

/// A template error.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// Writing a file failed.
    #[error("cannot write {path}: {message}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The header could not be parsed back (a bug: templates are generated).
    #[error("the generated header does not parse: {0}")]
    Header(#[from] tabular::HeaderError),
}

/// What the template holds.
pub struct Template {
    /// The header row.
    pub header: Vec<String>,
    /// The column description rows (one per header column).
    pub columns: Vec<[String; 8]>,
    /// The demo rows (cells under the header), for `--example` and the `example` sheet.
    pub examples: Vec<Vec<String>>,
}

/// The demo passports that belong to `sector` (battery: all three; others: none).
fn samples(sector: &Sector) -> Vec<Value> {
    DEMOS
        .iter()
        .filter_map(|(_, text)| serde_json::from_str::<Value>(text).ok())
        .filter(|v| {
            v.pointer("/sector/id").and_then(Value::as_str) == Some(sector.id())
                && v.pointer("/sector/schemaVersion").and_then(Value::as_str)
                    == Some(sector.version())
        })
        .collect()
}

/// Builds `sector`'s template: arrays sized by the demo passports' largest count.
pub fn build(sector: &Sector) -> Result<Template, TemplateError> {
    let shape = Shape::of(sector);
    let samples = samples(sector);
    let names = tabular::template_header(&shape, &samples.iter().collect::<Vec<_>>());
    let header = Header::parse_with(&names, &shape, sector)?;
    let specs = sector.columns();
    let columns = names.iter().map(|n| describe(sector, &specs, n)).collect();
    let examples = DEMOS
        .iter()
        .filter_map(|(r, text)| {
            let v: Value = serde_json::from_str(text).ok()?;
            samples.contains(&v).then(|| header.flatten(r, &v).0)
        })
        .collect();
    Ok(Template {
        header: names,
        columns,
        examples,
    })
}

fn tier_name(tier: Tier) -> &'static str {
    match tier {
        Tier::Public => "public",
        Tier::LegitimateInterest => "legitimateInterest",
        Tier::Authority => "authority",
    }
}

/// One line of the column description.
fn describe(sector: &Sector, specs: &[ColumnSpec], name: &str) -> [String; 8] {
    if name == EXTERNAL_REF {
        return [
            name.to_owned(),
            String::new(),
            "string".to_owned(),
            String::new(),
            String::new(),
            "yes".to_owned(),
            "not in the passport".to_owned(),
            String::new(),
        ];
    }
    let segs = tabular::parse_path(name).unwrap_or_default();
    let pointer = tabular::pointer_of(&segs);
    let generic = tabular::generic_path_of(&segs);
    let yes = |b: bool| if b { "yes" } else { "no" }.to_owned();
    match specs.iter().find(|s| s.path == generic) {
        Some(spec) => [
            name.to_owned(),
            pointer,
            spec.kind.as_str().to_owned(),
            spec.format.clone().unwrap_or_default(),
            spec.enum_values.join(" | "),
            yes(spec.required),
            tier_name(spec.tier).to_owned(),
            join_attrs(&spec.attrs),
        ],
        None => {
            // A JSON-literal column for an array or object, or a member of a free-form leaf.
            let in_open = specs.iter().any(|s| {
                s.kind == ColumnKind::Open && generic.starts_with(&format!("{}.", s.path))
            });
            let tier = match pointer.strip_prefix("/data") {
                Some(at) => sector.tier_of(at),
                None => Tier::Public,
            };
            let attrs = pointer
                .strip_prefix("/data")
                .filter(|_| sector.id() == "battery")
                .and_then(hallmark_core::sector::battery::attributes_at)
                .map(join_attrs)
                .unwrap_or_default();
            [
                name.to_owned(),
                pointer,
                if in_open { "string" } else { "json" }.to_owned(),
                String::new(),
                String::new(),
                "no".to_owned(),
                tier_name(tier).to_owned(),
                attrs,
            ]
        }
    }
}

fn join_attrs(attrs: &[u16]) -> String {
    attrs
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The column description's path beside a CSV template: `x.csv` → `x.columns.csv`.
pub fn columns_path(csv: &Path) -> PathBuf {
    let stem = csv
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    csv.with_file_name(format!("{stem}.columns.csv"))
}

fn write_err(path: &Path, e: impl std::fmt::Display) -> TemplateError {
    TemplateError::Write {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

/// Writes the CSV template (header, then the demo rows with `example`) and its column
/// description beside it. Returns the files written.
pub fn write_csv(
    template: &Template,
    out: &Path,
    example: bool,
) -> Result<Vec<PathBuf>, TemplateError> {
    let mut w = csv::Writer::from_path(out).map_err(|e| write_err(out, e))?;
    w.write_record(&template.header)
        .map_err(|e| write_err(out, e))?;
    if example {
        for row in &template.examples {
            w.write_record(row).map_err(|e| write_err(out, e))?;
        }
    }
    w.flush().map_err(|e| write_err(out, e))?;
    let cols = columns_path(out);
    let mut w = csv::Writer::from_path(&cols).map_err(|e| write_err(&cols, e))?;
    w.write_record(COLUMNS_HEADER)
        .map_err(|e| write_err(&cols, e))?;
    for row in &template.columns {
        w.write_record(row).map_err(|e| write_err(&cols, e))?;
    }
    w.flush().map_err(|e| write_err(&cols, e))?;
    Ok(vec![out.to_owned(), cols])
}

/// Writes the XLSX template: sheets `passports` (frozen header, every column text-formatted
/// so identifiers keep leading zeros; the demo rows with `example`), `columns` and
/// `example` (the demo rows).
pub fn write_xlsx(
    template: &Template,
    out: &Path,
    example: bool,
) -> Result<Vec<PathBuf>, TemplateError> {
    use rust_xlsxwriter::{Format, Workbook};
    let err = |e: rust_xlsxwriter::XlsxError| write_err(out, e);
    let text = Format::new().set_num_format("@");
    let bold = Format::new().set_num_format("@").set_bold();
    let mut book = Workbook::new();
    let rows_sheet =
        |name: &str, rows: &[Vec<String>]| -> Result<rust_xlsxwriter::Worksheet, TemplateError> {
            let mut sheet = rust_xlsxwriter::Worksheet::new();
            sheet.set_name(name).map_err(err)?;
            for col in 0..template.header.len() {
                let col = u16::try_from(col).map_err(|_| write_err(out, "too many columns"))?;
                sheet.set_column_format(col, &text).map_err(err)?;
                sheet.set_column_width(col, 24).map_err(err)?;
            }
            write_row(&mut sheet, 0, &template.header, Some(&bold)).map_err(err)?;
            for (i, row) in rows.iter().enumerate() {
                let r = u32::try_from(i + 1).map_err(|_| write_err(out, "too many rows"))?;
                write_row(&mut sheet, r, row, Some(&text)).map_err(err)?;
            }
            sheet.set_freeze_panes(1, 0).map_err(err)?;
            Ok(sheet)
        };
    let passports = rows_sheet("passports", if example { &template.examples } else { &[] })?;
    let examples = rows_sheet("example", &template.examples)?;
    let mut columns = rust_xlsxwriter::Worksheet::new();
    columns.set_name("columns").map_err(err)?;
    let header: Vec<String> = COLUMNS_HEADER.iter().map(|s| (*s).to_owned()).collect();
    write_row(&mut columns, 0, &header, Some(&bold)).map_err(err)?;
    for (i, row) in template.columns.iter().enumerate() {
        let r = u32::try_from(i + 1).map_err(|_| write_err(out, "too many rows"))?;
        write_row(&mut columns, r, row, None).map_err(err)?;
    }
    columns.set_freeze_panes(1, 0).map_err(err)?;
    book.push_worksheet(passports);
    book.push_worksheet(columns);
    book.push_worksheet(examples);
    book.save(out).map_err(err)?;
    Ok(vec![out.to_owned()])
}

fn write_row(
    sheet: &mut rust_xlsxwriter::Worksheet,
    row: u32,
    cells: &[String],
    format: Option<&rust_xlsxwriter::Format>,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    for (col, cell) in cells.iter().enumerate() {
        if cell.is_empty() {
            continue;
        }
        let col = u16::try_from(col).unwrap_or(u16::MAX);
        match format {
            Some(f) => sheet.write_string_with_format(row, col, cell, f)?,
            None => sheet.write_string(row, col, cell)?,
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use hallmark_core::sector::SectorRegistry;

    #[test]
    fn battery_template_describes_every_column() {
        let sector = SectorRegistry::builtin().get("battery", "1.2.0").unwrap();
        let t = build(sector).unwrap();
        assert_eq!(t.header.len(), t.columns.len());
        assert_eq!(t.examples.len(), 3);
        let row = |n: &str| t.columns.iter().find(|c| c[0] == n).unwrap().clone();
        let mass = row("data.generalProductInformation.batteryMass");
        assert_eq!(mass[2], "number");
        assert_eq!(mass[6], "public");
        assert_eq!(mass[7], "10");
        let crm = row("data.materialComposition.batteryMaterials[0].isCriticalRawMaterial");
        assert_eq!(
            (crm[2].as_str(), crm[6].as_str()),
            ("boolean", "legitimateInterest")
        );
        assert_eq!(row("components")[2], "json");
        assert_eq!(
            row("data.labeling.labels[0].labelingMeaning.en")[2],
            "string"
        );
        assert_eq!(
            row("data.generalProductInformation.manufacturingDate")[3],
            "date-time"
        );
    }

    #[test]
    fn generic_template_has_a_json_data_column() {
        let sector = SectorRegistry::builtin().get("generic", "1.0.0").unwrap();
        let t = build(sector).unwrap();
        assert!(t.examples.is_empty());
        assert_eq!(t.header.last().map(String::as_str), Some("data"));
        assert_eq!(t.columns.last().unwrap()[2], "json");
    }
}

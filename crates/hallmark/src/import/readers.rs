//! Streaming readers: CSV (`csv`, one reused `ByteRecord`), XLSX (calamine's cell reader:
//! the first sheet or a named one, cell by cell) and JSON Lines (one submission per line,
//! with an `externalRef` member). Each hands every [`Row`] to a sink as soon as it is read,
//! so memory stays bounded by one row (XLSX: plus the workbook's shared strings).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use hallmark_core::jcs;
use hallmark_core::sector::Sector;
use serde_json::Value;

use super::tabular::{self, Cell, CellError, Header, HeaderError, EXTERNAL_REF};

/// The longest JSON Lines line read (bytes).
pub const MAX_LINE_BYTES: usize = 8 * 1024 * 1024;

/// One data row of an input file.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The row's number as a spreadsheet shows it (header = 1); JSON Lines: the line number.
    pub number: u64,
    /// The row's external reference, if it has one.
    pub external_ref: Option<String>,
    /// The submission, or every cell that could not be typed.
    pub submission: Result<Value, Vec<CellError>>,
}

impl Row {
    fn typed(number: u64, typed: tabular::TypedRow) -> Row {
        Row {
            number,
            external_ref: typed.external_ref,
            submission: typed.submission,
        }
    }
}

/// The input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Comma-separated values (RFC 4180), UTF-8.
    Csv,
    /// An Office Open XML workbook.
    Xlsx,
    /// JSON Lines: one submission per line.
    Jsonl,
}

impl Format {
    /// The format a file name implies (`.csv`, `.xlsx`, `.jsonl` / `.ndjson`).
    pub fn of_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "xlsx" => Some(Format::Xlsx),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            _ => None,
        }
    }
}

/// Why a file cannot be read (rows already handed on stay handed on).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The header is unusable (a usage error).
    #[error("{0}")]
    Header(#[from] HeaderError),
    /// The file could not be opened or read.
    #[error("cannot read {what}: {message}")]
    Io {
        /// What was being read.
        what: String,
        /// Why it failed.
        message: String,
    },
    /// The named sheet is not in the workbook.
    #[error("the workbook has no sheet {name:?} (sheets: {sheets})")]
    NoSheet {
        /// The sheet asked for.
        name: String,
        /// The sheets there are.
        sheets: String,
    },
}

fn io(what: impl Into<String>, e: impl std::fmt::Display) -> ReadError {
    ReadError::Io {
        what: what.into(),
        message: e.to_string(),
    }
}

/// What a reader needs besides the file.
pub struct ReadOptions<'a> {
    /// The sector the columns belong to (CSV and XLSX).
    pub sector: &'a Sector,
    /// The XLSX sheet (default: the first).
    pub sheet: Option<String>,
    /// The CSV field delimiter.
    pub delimiter: u8,
}

/// Whether the sink wants more rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Keep reading.
    Continue,
    /// Stop (Ctrl-C, or the consumer went away).
    Stop,
}

/// The sink of a reader: each row with the reader's position (bytes read; XLSX: the row).
pub type Sink<'s> = dyn FnMut(Row, u64) -> Flow + 's;

/// Told the header once it is parsed, with the input's size in position units when the
/// reader knows it (XLSX: the sheet's last row; 0 otherwise).
pub type OnHeader<'s> = dyn FnMut(&Header, u64) + 's;

/// Reads `path` in `format`, handing each data row to `sink`. Blank rows are skipped.
/// Returns the header (none for JSON Lines).
pub fn read(
    path: &Path,
    format: Format,
    options: &ReadOptions<'_>,
    on_header: &mut OnHeader<'_>,
    sink: &mut Sink<'_>,
) -> Result<Option<Header>, ReadError> {
    let name = path.display().to_string();
    match format {
        Format::Csv => {
            let file = File::open(path).map_err(|e| io(&name, e))?;
            read_csv(file, options, on_header, sink).map(Some)
        }
        Format::Xlsx => read_xlsx(path, options, on_header, sink).map(Some),
        Format::Jsonl => {
            let file = File::open(path).map_err(|e| io(&name, e))?;
            read_jsonl(BufReader::new(file), sink).map(|()| None)
        }
    }
}

/// Reads CSV from any reader (the first record is the header).
pub fn read_csv<R: Read>(
    input: R,
    options: &ReadOptions<'_>,
    on_header: &mut OnHeader<'_>,
    sink: &mut Sink<'_>,
) -> Result<Header, ReadError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(options.delimiter)
        .from_reader(input);
    let mut record = csv::ByteRecord::new();
    if !reader
        .read_byte_record(&mut record)
        .map_err(|e| io("the CSV header", e))?
    {
        return Err(HeaderError::Missing.into());
    }
    let names: Vec<String> = record
        .iter()
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let header = Header::parse(&names, options.sector)?;
    on_header(&header, 0);
    let mut number = 1u64;
    loop {
        let more = reader.read_byte_record(&mut record);
        number += 1;
        let more = match more {
            Ok(more) => more,
            Err(e) => {
                // A broken record (bad quoting): reported as its row, reading goes on.
                let row = Row {
                    number,
                    external_ref: None,
                    submission: Err(vec![CellError::row(format!("unreadable CSV record: {e}"))]),
                };
                if sink(row, reader.position().byte()) == Flow::Stop {
                    break;
                }
                continue;
            }
        };
        if !more {
            break;
        }
        let texts: Vec<Result<&str, ()>> = record
            .iter()
            .map(|c| std::str::from_utf8(c).map_err(|_| ()))
            .collect();
        let bad_utf8: Vec<CellError> = texts
            .iter()
            .enumerate()
            .filter(|(_, t)| t.is_err())
            .map(|(i, _)| CellError::row(format!("column {} is not UTF-8 text", i + 1)))
            .collect();
        let row = if bad_utf8.is_empty() {
            let cells: Vec<Cell<'_>> = texts
                .iter()
                .map(|t| match t {
                    Ok("") | Err(()) => Cell::Empty,
                    Ok(t) => Cell::Text(t),
                })
                .collect();
            if Header::is_blank(&cells) {
                continue;
            }
            Row::typed(number, header.row(&cells))
        } else {
            Row {
                number,
                external_ref: None,
                submission: Err(bad_utf8),
            }
        };
        if sink(row, reader.position().byte()) == Flow::Stop {
            break;
        }
    }
    Ok(header)
}

/// An Excel date-time as RFC 3339 UTC (Excel stores no time zone; it is read as UTC).
fn excel_date(dt: &calamine::ExcelDateTime) -> String {
    let (y, mo, d, h, mi, s, _ms) = dt.to_ymd_hms_milli();
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

fn read_xlsx(
    path: &Path,
    options: &ReadOptions<'_>,
    on_header: &mut OnHeader<'_>,
    sink: &mut Sink<'_>,
) -> Result<Header, ReadError> {
    use calamine::{DataRef, Reader, Xlsx};
    let name = path.display().to_string();
    let file = File::open(path).map_err(|e| io(&name, e))?;
    let mut book: Xlsx<_> = Xlsx::new(BufReader::new(file)).map_err(|e| io(&name, e))?;
    let sheets = book.sheet_names();
    let sheet = match &options.sheet {
        Some(s) if sheets.contains(s) => s.clone(),
        Some(s) => {
            return Err(ReadError::NoSheet {
                name: s.clone(),
                sheets: sheets.join(", "),
            })
        }
        None => sheets.first().cloned().ok_or_else(|| ReadError::NoSheet {
            name: "(the first)".to_owned(),
            sheets: String::new(),
        })?,
    };
    let mut cells_reader = book
        .worksheet_cells_reader(&sheet)
        .map_err(|e| io(format!("sheet {sheet:?}"), e))?;
    let last_row = u64::from(cells_reader.dimensions().end.0) + 1;
    // Cells arrive row by row, sparse; one row is collected at a time.
    let mut header: Option<Header> = None;
    let mut current: Option<u32> = None;
    let mut values: Vec<(u32, String, XCell)> = Vec::new();
    let mut flush = |row: u32,
                     values: &mut Vec<(u32, String, XCell)>,
                     header: &mut Option<Header>|
     -> Result<Flow, ReadError> {
        let width = values
            .iter()
            .map(|(c, ..)| *c as usize + 1)
            .max()
            .unwrap_or(0);
        let mut cells = vec![Cell::Empty; width];
        for (col, text, kind) in values.iter() {
            cells[*col as usize] = match kind {
                XCell::Text => Cell::Text(text),
                XCell::Number(n) => Cell::Number(*n),
                XCell::Bool(b) => Cell::Bool(*b),
                XCell::Date => Cell::Date(text),
                XCell::Error => Cell::Error(text),
            };
        }
        let flow = match header {
            None => {
                let names: Vec<String> = cells
                    .iter()
                    .map(|c| match c {
                        Cell::Text(t) | Cell::Date(t) | Cell::Error(t) => (*t).to_owned(),
                        Cell::Number(n) => tabular::shortest(*n),
                        Cell::Bool(b) => b.to_string(),
                        Cell::Empty => String::new(),
                    })
                    .collect();
                let parsed = Header::parse(&names, options.sector)?;
                on_header(&parsed, last_row);
                *header = Some(parsed);
                Flow::Continue
            }
            Some(_) if Header::is_blank(&cells) => Flow::Continue,
            Some(h) => sink(
                Row::typed(u64::from(row) + 1, h.row(&cells)),
                u64::from(row) + 1,
            ),
        };
        values.clear();
        Ok(flow)
    };
    loop {
        let cell = cells_reader
            .next_cell()
            .map_err(|e| io(format!("sheet {sheet:?}"), e))?;
        let Some(cell) = cell else { break };
        let (row, col) = cell.get_position();
        if current.is_some_and(|r| r != row) {
            if let Some(r) = current {
                if flush(r, &mut values, &mut header)? == Flow::Stop {
                    return header.ok_or(ReadError::Header(HeaderError::Missing));
                }
            }
        }
        current = Some(row);
        let (text, kind) = match cell.get_value() {
            DataRef::Empty => continue,
            DataRef::String(s) => (s.clone(), XCell::Text),
            DataRef::SharedString(s) => ((*s).to_owned(), XCell::Text),
            DataRef::Int(i) => (String::new(), XCell::Number(*i as f64)),
            DataRef::Float(f) => (String::new(), XCell::Number(*f)),
            DataRef::Bool(b) => (String::new(), XCell::Bool(*b)),
            DataRef::DateTime(dt) if dt.is_datetime() => (excel_date(dt), XCell::Date),
            DataRef::DateTime(dt) => (String::new(), XCell::Number(dt.as_f64())),
            DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => (s.clone(), XCell::Text),
            DataRef::Error(e) => (e.to_string(), XCell::Error),
        };
        values.push((col, text, kind));
    }
    if let Some(r) = current {
        flush(r, &mut values, &mut header)?;
    }
    header.ok_or(ReadError::Header(HeaderError::Missing))
}

#[derive(Debug, Clone, Copy)]
enum XCell {
    Text,
    Number(f64),
    Bool(bool),
    Date,
    Error,
}

/// Reads JSON Lines: each non-blank line a JSON object with a string member `externalRef`
/// and the submission's members (parsed under the strict input rules).
pub fn read_jsonl<R: BufRead>(mut input: R, sink: &mut Sink<'_>) -> Result<(), ReadError> {
    let mut line = Vec::new();
    let mut number = 0u64;
    let mut position = 0u64;
    loop {
        line.clear();
        number += 1;
        let n = (&mut input)
            .take(MAX_LINE_BYTES as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| io(format!("line {number}"), e))?;
        if n == 0 {
            break;
        }
        position += n as u64;
        let row = if line.len() > MAX_LINE_BYTES && !line.ends_with(b"\n") {
            // Skip the rest of the over-long line.
            let mut rest = Vec::new();
            loop {
                rest.clear();
                let m = (&mut input)
                    .take(MAX_LINE_BYTES as u64)
                    .read_until(b'\n', &mut rest)
                    .map_err(|e| io(format!("line {number}"), e))?;
                position += m as u64;
                if m == 0 || rest.ends_with(b"\n") {
                    break;
                }
            }
            Row {
                number,
                external_ref: None,
                submission: Err(vec![CellError::row(format!(
                    "the line is longer than {MAX_LINE_BYTES} bytes"
                ))]),
            }
        } else {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            jsonl_row(number, &line)
        };
        if sink(row, position) == Flow::Stop {
            break;
        }
    }
    Ok(())
}

fn jsonl_row(number: u64, line: &[u8]) -> Row {
    let fail = |external_ref, message: String| Row {
        number,
        external_ref,
        submission: Err(vec![CellError::row(message)]),
    };
    let value = match jcs::parse_input(line) {
        Ok(v) => v,
        Err(e) => return fail(None, format!("not a JSON document: {e}")),
    };
    let Value::Object(mut map) = value else {
        return fail(None, "not a JSON object".to_owned());
    };
    match map.remove(EXTERNAL_REF) {
        Some(Value::String(r)) if !r.trim().is_empty() => {
            let r = r.trim().to_owned();
            if r.chars().count() > tabular::MAX_EXTERNAL_REF_CHARS {
                return fail(
                    Some(r),
                    format!(
                        "externalRef is longer than {} characters",
                        tabular::MAX_EXTERNAL_REF_CHARS
                    ),
                );
            }
            Row {
                number,
                external_ref: Some(r),
                submission: Ok(Value::Object(map)),
            }
        }
        _ => fail(
            None,
            "every line needs a string member externalRef".to_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use hallmark_core::sector::SectorRegistry;

    fn options() -> ReadOptions<'static> {
        ReadOptions {
            sector: SectorRegistry::builtin().get("battery", "1.2.0").unwrap(),
            sheet: None,
            delimiter: b',',
        }
    }

    fn collect_csv(text: &str) -> Result<Vec<Row>, ReadError> {
        let mut rows = Vec::new();
        read_csv(text.as_bytes(), &options(), &mut |_, _| {}, &mut |r, _| {
            rows.push(r);
            Flow::Continue
        })?;
        Ok(rows)
    }

    #[test]
    fn csv_rows_are_numbered_as_a_spreadsheet_shows_them() {
        let rows = collect_csv(
            "externalRef,granularity,data.generalProductInformation.batteryMass\n\
             a,item,1.5\n\
             ,,\n\
             b,model,x\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2, "the blank row is skipped");
        assert_eq!(rows[0].number, 2);
        assert_eq!(rows[0].external_ref.as_deref(), Some("a"));
        assert_eq!(rows[0].submission.as_ref().unwrap()["granularity"], "item");
        assert_eq!(rows[1].number, 4);
        let errors = rows[1].submission.as_ref().unwrap_err();
        assert_eq!(
            errors[0].pointer,
            "/data/generalProductInformation/batteryMass"
        );
    }

    #[test]
    fn csv_header_errors_stop_before_any_row() {
        assert!(matches!(
            collect_csv("externalRef,nope\na,b\n"),
            Err(ReadError::Header(HeaderError::Unknown { .. }))
        ));
        assert!(matches!(
            collect_csv(""),
            Err(ReadError::Header(HeaderError::Missing))
        ));
    }

    #[test]
    fn jsonl_takes_the_external_ref_member() {
        let mut rows = Vec::new();
        let text = "{\"externalRef\":\"a\",\"granularity\":\"item\"}\n\n[1]\n{\"granularity\":\"x\"}\n{\"a\":1,\"a\":2,\"externalRef\":\"d\"}\n";
        read_jsonl(text.as_bytes(), &mut |r, _| {
            rows.push(r);
            Flow::Continue
        })
        .unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0].number, 1);
        assert_eq!(
            rows[0].submission.as_ref().unwrap(),
            &serde_json::json!({"granularity": "item"})
        );
        assert_eq!(rows[1].number, 3);
        assert!(rows[1].submission.is_err());
        assert!(rows[2].submission.as_ref().unwrap_err()[0]
            .message
            .contains("externalRef"));
        assert!(
            rows[3].submission.is_err(),
            "duplicate member names are refused"
        );
    }

    #[test]
    fn jsonl_stops_when_the_sink_says_so() {
        let mut seen = 0;
        read_jsonl(
            "{\"externalRef\":\"a\"}\n{\"externalRef\":\"b\"}\n".as_bytes(),
            &mut |_, _| {
                seen += 1;
                Flow::Stop
            },
        )
        .unwrap();
        assert_eq!(seen, 1);
    }
    fn collect(path: &Path, format: Format, sheet: Option<&str>) -> Result<Vec<Row>, ReadError> {
        let mut rows = Vec::new();
        let mut options = options();
        options.sheet = sheet.map(str::to_owned);
        let mut total = 0;
        read(
            path,
            format,
            &options,
            &mut |_, t| total = t,
            &mut |r, _| {
                rows.push(r);
                Flow::Continue
            },
        )?;
        if format == Format::Xlsx {
            assert!(total > 0, "an XLSX sheet tells its last row");
        }
        Ok(rows)
    }

    fn demos() -> Vec<(String, Value)> {
        super::super::template::DEMOS
            .iter()
            .map(|(r, t)| ((*r).to_owned(), serde_json::from_str(t).unwrap()))
            .collect()
    }

    fn assert_demos(rows: &[Row]) {
        let demos = demos();
        assert_eq!(rows.len(), demos.len());
        for (row, (r, demo)) in rows.iter().zip(&demos) {
            assert_eq!(row.external_ref.as_deref(), Some(r.as_str()));
            let got = row.submission.as_ref().unwrap();
            assert_eq!(
                String::from_utf8(jcs::canonicalize(got).unwrap()).unwrap(),
                String::from_utf8(jcs::canonicalize(demo).unwrap()).unwrap(),
                "{r}"
            );
        }
    }

    #[test]
    fn our_xlsx_template_with_examples_reads_back_as_the_demo_passports() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("battery.xlsx");
        let template = super::super::template::build(options().sector).unwrap();
        super::super::template::write_xlsx(&template, &path, true).unwrap();
        assert_demos(&collect(&path, Format::Xlsx, None).unwrap());
        assert_demos(&collect(&path, Format::Xlsx, Some("example")).unwrap());
        assert!(matches!(
            collect(&path, Format::Xlsx, Some("nope")),
            Err(ReadError::NoSheet { .. })
        ));
        // The columns sheet is no passport sheet: its header is refused.
        assert!(matches!(
            collect(&path, Format::Xlsx, Some("columns")),
            Err(ReadError::Header(_))
        ));
        // Without --example the passports sheet has the header only.
        super::super::template::write_xlsx(&template, &path, false).unwrap();
        assert!(collect(&path, Format::Xlsx, None).unwrap().is_empty());
    }

    #[test]
    fn our_csv_template_with_examples_reads_back_as_the_demo_passports() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("battery.csv");
        let template = super::super::template::build(options().sector).unwrap();
        super::super::template::write_csv(&template, &path, true).unwrap();
        assert_demos(&collect(&path, Format::Csv, None).unwrap());
    }

    #[test]
    fn xlsx_cells_are_typed_from_their_spreadsheet_types() {
        use rust_xlsxwriter::{ExcelDateTime, Format as XFormat, Workbook};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("typed.xlsx");
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        let header = [
            "externalRef",
            "uniqueProductIdentifier.gtin",
            "data.generalProductInformation.batteryMass",
            "data.materialComposition.batteryMaterials[0].isCriticalRawMaterial",
            "data.generalProductInformation.manufacturingDate",
            "data.carbonFootprintForBatteries.batteryCarbonFootprint",
        ];
        for (c, h) in header.iter().enumerate() {
            sheet.write_string(0, c as u16, *h).unwrap();
        }
        let date = XFormat::new().set_num_format("yyyy-mm-dd hh:mm:ss");
        // Row 2 is left empty: skipped, and row numbers stay the sheet's.
        sheet.write_number(2, 0, 17.0).unwrap();
        sheet.write_number(2, 1, 9506000134369.0).unwrap();
        sheet.write_number(2, 2, 452.0).unwrap();
        sheet.write_boolean(2, 3, true).unwrap();
        let when = ExcelDateTime::from_ymd(2025, 3, 14)
            .unwrap()
            .and_hms(5, 42, 0)
            .unwrap();
        sheet
            .write_datetime_with_format(2, 4, &when, &date)
            .unwrap();
        sheet.write_number(2, 5, 0.1 + 0.2).unwrap();
        sheet.write_string(3, 0, "bad").unwrap();
        sheet.write_boolean(3, 2, true).unwrap();
        book.save(&path).unwrap();

        let rows = collect(&path, Format::Xlsx, None).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].number, 3);
        assert_eq!(rows[0].external_ref.as_deref(), Some("17"));
        let v = rows[0].submission.as_ref().unwrap();
        assert_eq!(v["uniqueProductIdentifier"]["gtin"], "9506000134369");
        let gpi = &v["data"]["generalProductInformation"];
        assert_eq!(gpi["batteryMass"].to_string(), "452");
        assert_eq!(gpi["manufacturingDate"], "2025-03-14T05:42:00Z");
        assert_eq!(
            v["data"]["materialComposition"]["batteryMaterials"][0]["isCriticalRawMaterial"],
            true
        );
        // The shortest form that reads back as the same double.
        assert_eq!(
            v["data"]["carbonFootprintForBatteries"]["batteryCarbonFootprint"].to_string(),
            "0.30000000000000004"
        );
        assert_eq!(rows[1].number, 4);
        let errors = rows[1].submission.as_ref().unwrap_err();
        assert_eq!(
            errors[0].pointer,
            "/data/generalProductInformation/batteryMass"
        );
    }
    /// A small deterministic generator (xorshift64*), so the property test needs no crate.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Text that is hard for CSV and for typing: separators, quotes, newlines, leading
    /// zeros, number- and boolean-looking text, spaces at either end, non-ASCII.
    fn tricky_text(rng: &mut Rng) -> String {
        const PARTS: [&str; 14] = [
            "a", ",", "\"", "\n", "\r\n", "0", "007", " ", "true", "1,5", "é", "日本", "🔋", ";",
        ];
        let len = 1 + rng.below(6);
        (0..len)
            .map(|_| PARTS[rng.below(PARTS.len() as u64) as usize])
            .collect()
    }

    fn random_number(rng: &mut Rng) -> Value {
        match rng.below(3) {
            0 => Value::from(rng.below(1 << 53) as i64 - (1 << 52)),
            1 => Value::from(rng.below(100_000) as f64 / 100.0),
            _ => loop {
                let f = f64::from_bits(rng.next());
                if f.is_finite() {
                    break Value::from(f);
                }
            },
        }
    }

    /// Every scalar of `v` replaced by a random value of the same JSON type.
    fn scramble(v: &mut Value, rng: &mut Rng) {
        match v {
            Value::Object(map) => map.values_mut().for_each(|c| scramble(c, rng)),
            Value::Array(items) => items.iter_mut().for_each(|c| scramble(c, rng)),
            Value::String(s) => *s = tricky_text(rng),
            Value::Number(_) => *v = random_number(rng),
            Value::Bool(b) => *b = rng.below(2) == 1,
            Value::Null => {}
        }
    }

    #[test]
    fn property_any_values_in_the_demo_shapes_survive_csv_and_xlsx() {
        let template = super::super::template::build(options().sector).unwrap();
        let header = Header::parse(&template.header, options().sector).unwrap();
        let demos = demos();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let dir = tempfile::tempdir().unwrap();
        for round in 0..20 {
            let mut expected = Vec::new();
            let mut examples = Vec::new();
            for (i, (_, demo)) in demos.iter().enumerate() {
                let mut v = demo.clone();
                // The envelope's sector stays as is (it picks nothing here, but keep it real).
                scramble(&mut v["data"], &mut rng);
                let external_ref = format!("r{round}-{i}");
                let (cells, uncovered) = header.flatten(&external_ref, &v);
                assert!(uncovered.is_empty(), "{uncovered:?}");
                examples.push(cells);
                expected.push((external_ref, v));
            }
            let t = super::super::template::Template {
                header: template.header.clone(),
                columns: template.columns.clone(),
                examples,
            };
            for format in [Format::Csv, Format::Xlsx] {
                let path = dir.path().join(match format {
                    Format::Csv => "p.csv",
                    _ => "p.xlsx",
                });
                match format {
                    Format::Csv => super::super::template::write_csv(&t, &path, true),
                    _ => super::super::template::write_xlsx(&t, &path, true),
                }
                .unwrap();
                let rows = collect(&path, format, None).unwrap();
                assert_eq!(rows.len(), expected.len());
                for (row, (external_ref, v)) in rows.iter().zip(&expected) {
                    assert_eq!(row.external_ref.as_ref(), Some(external_ref));
                    let got = row.submission.as_ref().unwrap();
                    assert_eq!(
                        String::from_utf8(jcs::canonicalize(got).unwrap()).unwrap(),
                        String::from_utf8(jcs::canonicalize(v).unwrap()).unwrap(),
                        "round {round}, {format:?}, {external_ref}"
                    );
                }
            }
        }
    }
}

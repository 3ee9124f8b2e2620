//! The tabular mapping: header cells ↔ JSON Pointers, cell typing, rows → submissions, and
//! submissions → cells (docs/import.md, "Columns" and "Typing").
//!
//! A header cell is a dotted wire path with zero-based `[i]` array indices
//! (`data.materialComposition.batteryMaterials[0].batteryMaterialName`), 1:1 with a JSON
//! Pointer (`/data/materialComposition/batteryMaterials/0/batteryMaterialName`). The column
//! named `externalRef` carries the row's external reference. A column named by an array or
//! object path itself (`components`, `data.circularity.recycledContent`) takes a JSON literal
//! (the escape hatch), as does a free-form (`json`) leaf; any member below a free-form leaf
//! may be given as its own text column (`…labelingMeaning.en`).

use std::collections::BTreeMap;
use std::fmt;

use hallmark_core::jcs;
use hallmark_core::sector::{ColumnKind, ColumnSpec, Sector};
use serde_json::{Map, Number, Value};

/// The header cell that names a row's external reference.
pub const EXTERNAL_REF: &str = "externalRef";

/// The longest external reference (characters), as the node keeps it.
pub const MAX_EXTERNAL_REF_CHARS: usize = 256;

/// One step of a path: a member name or an array index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Seg {
    /// An object member.
    Key(String),
    /// A zero-based array index.
    Index(usize),
}

/// Parses a dotted path with `[i]` indices and backslash escapes (`\.`, `\[`, `\]`, `\\`).
pub fn parse_path(text: &str) -> Result<Vec<Seg>, String> {
    let mut segs = Vec::new();
    let mut key = String::new();
    let mut have_key = false;
    let mut chars = text.chars();
    let mut after_index = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let next = chars.next().ok_or("a path cannot end with `\\`")?;
                key.push(next);
                have_key = true;
            }
            '.' => {
                if have_key {
                    segs.push(Seg::Key(std::mem::take(&mut key)));
                } else if !after_index {
                    return Err("an empty member name".to_owned());
                }
                have_key = false;
                after_index = false;
                // A dot must be followed by a member name.
                if chars.as_str().is_empty() {
                    return Err("a path cannot end with `.`".to_owned());
                }
            }
            '[' => {
                if have_key {
                    segs.push(Seg::Key(std::mem::take(&mut key)));
                    have_key = false;
                } else if segs.is_empty() {
                    return Err("a path cannot start with an index".to_owned());
                }
                let mut digits = String::new();
                for d in chars.by_ref() {
                    if d == ']' {
                        break;
                    }
                    digits.push(d);
                }
                let valid = !digits.is_empty()
                    && digits.bytes().all(|b| b.is_ascii_digit())
                    && (digits == "0" || !digits.starts_with('0'));
                let index = digits
                    .parse::<usize>()
                    .ok()
                    .filter(|_| valid)
                    .ok_or_else(|| format!("`[{digits}]` is not a zero-based array index"))?;
                segs.push(Seg::Index(index));
                after_index = true;
                if let Some(next) = chars.as_str().chars().next() {
                    if next != '.' && next != '[' {
                        return Err("an index must be followed by `.` or `[`".to_owned());
                    }
                }
            }
            ']' => return Err("an unmatched `]`".to_owned()),
            c => {
                key.push(c);
                have_key = true;
            }
        }
    }
    if have_key {
        segs.push(Seg::Key(key));
    }
    if segs.is_empty() {
        return Err("an empty path".to_owned());
    }
    Ok(segs)
}

/// The dotted path of `segs` (the inverse of [`parse_path`]).
pub fn path_of(segs: &[Seg]) -> String {
    let mut out = String::new();
    for seg in segs {
        match seg {
            Seg::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                for c in key.chars() {
                    if matches!(c, '.' | '[' | ']' | '\\') {
                        out.push('\\');
                    }
                    out.push(c);
                }
            }
            Seg::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
    }
    out
}

/// The dotted path of `segs` with every index written `[*]` (a column's path in
/// [`ColumnSpec`] form).
pub fn generic_path_of(segs: &[Seg]) -> String {
    path_of(segs)
        .split('[')
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part.to_owned()
            } else {
                // `12]rest` → `*]rest`; an escaped bracket (`\[0\]`) leaves `0\]`, not digits.
                match part.split_once(']') {
                    Some((digits, rest)) if digits.bytes().all(|b| b.is_ascii_digit()) => {
                        format!("*]{rest}")
                    }
                    _ => part.to_owned(),
                }
            }
        })
        .collect::<Vec<_>>()
        .join("[")
}

/// The RFC 6901 pointer of `segs`.
pub fn pointer_of(segs: &[Seg]) -> String {
    let mut out = String::new();
    for seg in segs {
        match seg {
            Seg::Key(key) => hallmark_core::input::push_pointer_token(&mut out, key),
            Seg::Index(i) => {
                out.push('/');
                out.push_str(&i.to_string());
            }
        }
    }
    out
}

/// The segments of an RFC 6901 pointer (all-digit tokens as indices), if it is one.
fn segs_of_pointer(pointer: &str) -> Option<Vec<Seg>> {
    if pointer.is_empty() {
        return Some(Vec::new());
    }
    pointer
        .strip_prefix('/')?
        .split('/')
        .map(|token| {
            let token = token.replace("~1", "/").replace("~0", "~");
            let index = (!token.is_empty()
                && token.bytes().all(|b| b.is_ascii_digit())
                && (token == "0" || !token.starts_with('0')))
            .then(|| token.parse().ok())
            .flatten();
            Some(index.map_or(Seg::Key(token), Seg::Index))
        })
        .collect()
}

/// The shape of a sector's submissions, from its [`ColumnSpec`]s.
#[derive(Debug, Clone)]
pub enum Shape {
    /// Known members, in column order.
    Object(Vec<(String, Shape)>),
    /// Every element has the item shape.
    Array(Box<Shape>),
    /// A scalar leaf (or a free-form one: [`ColumnKind::Open`]) with its column.
    Leaf(Box<ColumnSpec>),
}

impl Shape {
    /// The shape of `sector`'s submissions.
    pub fn of(sector: &Sector) -> Shape {
        let mut root = Shape::Object(Vec::new());
        for column in sector.columns() {
            // Column paths use `[*]`; every `[*]` is an array step.
            let Ok(segs) = parse_path(&column.path.replace("[*]", "[0]")) else {
                continue;
            };
            root.insert(&segs, column);
        }
        root
    }

    fn insert(&mut self, segs: &[Seg], column: ColumnSpec) {
        let Some((first, rest)) = segs.split_first() else {
            *self = Shape::Leaf(Box::new(column));
            return;
        };
        let placeholder = || match rest.first() {
            Some(Seg::Index(_)) => Shape::Array(Box::new(Shape::Object(Vec::new()))),
            _ => Shape::Object(Vec::new()),
        };
        match (self, first) {
            (Shape::Object(members), Seg::Key(key)) => {
                let at = match members.iter().position(|(k, _)| k == key) {
                    Some(at) => at,
                    None => {
                        members.push((key.clone(), placeholder()));
                        members.len() - 1
                    }
                };
                members[at].1.insert(rest, column);
            }
            (Shape::Array(item), Seg::Index(_)) => item.insert(rest, column),
            _ => {}
        }
    }

    /// Where `segs` lead: a known node, below a free-form leaf, or nowhere.
    fn locate(&self, segs: &[Seg]) -> Located<'_> {
        let mut node = self;
        for (i, seg) in segs.iter().enumerate() {
            node = match (node, seg) {
                (Shape::Object(members), Seg::Key(key)) => {
                    match members.iter().find(|(k, _)| k == key) {
                        Some((_, child)) => child,
                        None => return Located::Nowhere,
                    }
                }
                (Shape::Array(item), Seg::Index(_)) => item,
                (Shape::Leaf(column), _) if column.kind == ColumnKind::Open && i > 0 => {
                    return Located::InOpen
                }
                _ => return Located::Nowhere,
            };
        }
        Located::At(node)
    }
}

enum Located<'s> {
    At(&'s Shape),
    InOpen,
    Nowhere,
}

/// How a column's cells become JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Typing {
    /// Text as is; an XLSX number as its shortest form; an XLSX date as RFC 3339 UTC.
    String,
    /// A JSON number literal.
    Number,
    /// `true` / `false`, any case.
    Boolean,
    /// A JSON literal (arrays and objects: the escape hatch; free-form leaves).
    Json,
}

/// One column of a parsed header.
#[derive(Debug, Clone)]
pub struct Column {
    /// The header cell, trimmed.
    pub name: String,
    /// Its path.
    pub segs: Vec<Seg>,
    /// Its JSON Pointer into the submission.
    pub pointer: String,
    /// How its cells are typed.
    pub typing: Typing,
}

/// Why a header cannot be used (a usage error: nothing is read or sent).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// The header row is missing.
    #[error("the file has no header row")]
    Missing,
    /// A header cell is not a path.
    #[error("column {index} `{name}` is not a path: {reason}")]
    BadPath {
        /// One-based column number.
        index: usize,
        /// The header cell.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A header cell names no field of the sector.
    #[error("column {index} `{name}` is not a field of sector {sector}")]
    Unknown {
        /// One-based column number.
        index: usize,
        /// The header cell.
        name: String,
        /// `id@version`.
        sector: String,
    },
    /// Two header cells name the same field.
    #[error("columns {first} and {second} both name `{name}`")]
    Duplicate {
        /// One-based column number of the first.
        first: usize,
        /// One-based column number of the second.
        second: usize,
        /// The field's path.
        name: String,
    },
    /// One column is a JSON literal for a path another column fills cell by cell.
    #[error(
        "column `{whole}` (a JSON literal) and column `{part}` both give `{whole}`: use one form"
    )]
    BothForms {
        /// The array or object column.
        whole: String,
        /// A column below it.
        part: String,
    },
    /// No `externalRef` column.
    #[error("the header has no `externalRef` column (every row needs its external reference)")]
    NoExternalRef,
}

/// One cell as a reader saw it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    /// Nothing in the cell.
    Empty,
    /// Text (CSV: every cell; XLSX: string cells).
    Text(&'a str),
    /// An XLSX number.
    Number(f64),
    /// An XLSX boolean.
    Bool(bool),
    /// An XLSX date or time, already as RFC 3339 UTC text (`YYYY-MM-DDThh:mm:ssZ`).
    Date(&'a str),
    /// An XLSX error value (`#N/A`, …).
    Error(&'a str),
}

/// A cell that could not be typed (the row is reported, never sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellError {
    /// The column's header cell (empty for the row as a whole).
    pub column: String,
    /// The column's JSON Pointer (empty for the row as a whole).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

impl CellError {
    fn new(column: &Column, message: impl Into<String>) -> Self {
        CellError {
            column: column.name.clone(),
            pointer: column.pointer.clone(),
            message: message.into(),
        }
    }

    /// An error about the row as a whole.
    pub fn row(message: impl Into<String>) -> Self {
        CellError {
            column: String::new(),
            pointer: String::new(),
            message: message.into(),
        }
    }
}

impl fmt::Display for CellError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.column.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.column, self.message)
        }
    }
}

/// A row turned into JSON: its external reference and its submission (or why not).
#[derive(Debug, Clone, PartialEq)]
pub struct TypedRow {
    /// The `externalRef` cell, if any.
    pub external_ref: Option<String>,
    /// The submission, or every cell that could not be typed.
    pub submission: Result<Value, Vec<CellError>>,
}

/// A parsed header: which column goes where, and how each is typed.
#[derive(Debug, Clone)]
pub struct Header {
    columns: Vec<Option<Column>>,
    external_ref: usize,
}

impl Header {
    /// Parses a header row against `sector`'s columns. Empty header cells are ignored
    /// columns (a value under one is a row error).
    pub fn parse<S: AsRef<str>>(cells: &[S], sector: &Sector) -> Result<Header, HeaderError> {
        Self::parse_with(cells, &Shape::of(sector), sector)
    }

    /// [`Header::parse`] with the sector's shape already built.
    pub fn parse_with<S: AsRef<str>>(
        cells: &[S],
        shape: &Shape,
        sector: &Sector,
    ) -> Result<Header, HeaderError> {
        let sector_name = format!("{}@{}", sector.id(), sector.version());
        if cells.iter().all(|c| c.as_ref().trim().is_empty()) {
            return Err(HeaderError::Missing);
        }
        let mut columns = Vec::with_capacity(cells.len());
        let mut external_ref = None;
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for (i, cell) in cells.iter().enumerate() {
            let index = i + 1;
            let name = cell.as_ref().trim();
            let name = if i == 0 {
                name.trim_start_matches('\u{feff}')
            } else {
                name
            };
            if name.is_empty() {
                columns.push(None);
                continue;
            }
            if name == EXTERNAL_REF {
                if let Some(first) = external_ref {
                    return Err(HeaderError::Duplicate {
                        first: first + 1,
                        second: index,
                        name: name.to_owned(),
                    });
                }
                external_ref = Some(i);
                columns.push(None);
                continue;
            }
            let segs = parse_path(name).map_err(|reason| HeaderError::BadPath {
                index,
                name: name.to_owned(),
                reason,
            })?;
            let typing = match shape.locate(&segs) {
                Located::At(Shape::Leaf(column)) => match column.kind {
                    ColumnKind::String => Typing::String,
                    ColumnKind::Number => Typing::Number,
                    ColumnKind::Boolean => Typing::Boolean,
                    ColumnKind::Open => Typing::Json,
                },
                Located::At(Shape::Object(_) | Shape::Array(_)) => Typing::Json,
                Located::InOpen => Typing::String,
                Located::Nowhere => {
                    return Err(HeaderError::Unknown {
                        index,
                        name: name.to_owned(),
                        sector: sector_name.clone(),
                    })
                }
            };
            let pointer = pointer_of(&segs);
            if let Some(first) = seen.insert(pointer.clone(), index) {
                return Err(HeaderError::Duplicate {
                    first,
                    second: index,
                    name: path_of(&segs),
                });
            }
            columns.push(Some(Column {
                name: name.to_owned(),
                segs,
                pointer,
                typing,
            }));
        }
        // One form per path: no column may lie below another.
        let named: Vec<&Column> = columns.iter().flatten().collect();
        for whole in &named {
            let prefix = format!("{}/", whole.pointer);
            if let Some(part) = named.iter().find(|c| c.pointer.starts_with(&prefix)) {
                return Err(HeaderError::BothForms {
                    whole: whole.name.clone(),
                    part: part.name.clone(),
                });
            }
        }
        let external_ref = external_ref.ok_or(HeaderError::NoExternalRef)?;
        Ok(Header {
            columns,
            external_ref,
        })
    }

    /// The header cells as parsed (trimmed).
    #[cfg(test)]
    pub fn names(&self) -> Vec<String> {
        self.columns
            .iter()
            .enumerate()
            .map(|(i, c)| match c {
                Some(c) => c.name.clone(),
                None if i == self.external_ref => EXTERNAL_REF.to_owned(),
                None => String::new(),
            })
            .collect()
    }

    /// Types one row's cells into its external reference and submission. Cells past the
    /// header are refused if they hold anything; missing cells are empty.
    pub fn row(&self, cells: &[Cell<'_>]) -> TypedRow {
        let mut errors = Vec::new();
        let mut tree = Node::Object(BTreeMap::new());
        for (i, cell) in cells.iter().enumerate() {
            if is_empty(cell) {
                continue;
            }
            if i == self.external_ref {
                continue;
            }
            let Some(Some(column)) = self.columns.get(i) else {
                errors.push(CellError::row(format!(
                    "column {} has a value but no header",
                    i + 1
                )));
                continue;
            };
            match type_cell(column, cell) {
                Ok(value) => {
                    if let Err(message) = tree.set(&column.segs, value) {
                        errors.push(CellError::new(column, message));
                    }
                }
                Err(message) => errors.push(CellError::new(column, message)),
            }
        }
        let external_ref = match cells.get(self.external_ref) {
            Some(Cell::Text(t)) if !t.trim().is_empty() => Some(t.trim().to_owned()),
            Some(Cell::Number(n)) => Some(shortest(*n)),
            _ => None,
        };
        match &external_ref {
            None => errors.push(CellError {
                column: EXTERNAL_REF.to_owned(),
                pointer: String::new(),
                message: "every row needs an externalRef".to_owned(),
            }),
            Some(r) if r.chars().count() > MAX_EXTERNAL_REF_CHARS => errors.push(CellError {
                column: EXTERNAL_REF.to_owned(),
                pointer: String::new(),
                message: format!("longer than {MAX_EXTERNAL_REF_CHARS} characters"),
            }),
            Some(_) => {}
        }
        let submission = if errors.is_empty() {
            tree.into_value(&mut Vec::new()).map_err(|gaps| {
                gaps.into_iter()
                    .map(|(segs, message)| CellError {
                        column: path_of(&segs),
                        pointer: pointer_of(&segs),
                        message,
                    })
                    .collect()
            })
        } else {
            Err(errors)
        };
        TypedRow {
            external_ref,
            submission,
        }
    }

    /// Whether every cell of a row is empty (such rows are skipped, as spreadsheets end with
    /// them).
    pub fn is_blank(cells: &[Cell<'_>]) -> bool {
        cells.iter().all(is_empty)
    }

    /// The column that holds `pointer` (a pointer into the submission, as the node's
    /// issues give it): the column with exactly that pointer, else the JSON-literal column it
    /// lies in, else the pointer as a dotted path (a parent location, e.g. of a missing
    /// required member). `None` for text that is not a pointer.
    pub fn column_of(&self, pointer: &str) -> Option<String> {
        let segs = segs_of_pointer(pointer)?;
        let pointer = pointer_of(&segs);
        let named = || self.columns.iter().flatten();
        if let Some(c) = named().find(|c| c.pointer == pointer) {
            return Some(c.name.clone());
        }
        if let Some(c) = named()
            .filter(|c| pointer.starts_with(&format!("{}/", c.pointer)))
            .max_by_key(|c| c.pointer.len())
        {
            return Some(c.name.clone());
        }
        Some(path_of(&segs))
    }

    /// The cells of a submission under this header (example files): the external
    /// reference in its column; numbers in their RFC 8785 form; arrays and objects in
    /// JSON-literal columns as compact JSON. Members no column holds are returned as
    /// pointers in the second element (nothing is dropped silently).
    pub fn flatten(&self, external_ref: &str, submission: &Value) -> (Vec<String>, Vec<String>) {
        let mut cells = vec![String::new(); self.columns.len()];
        cells[self.external_ref] = external_ref.to_owned();
        for (i, column) in self.columns.iter().enumerate() {
            let Some(column) = column else { continue };
            let Some(value) = get(submission, &column.segs) else {
                continue;
            };
            cells[i] = match (column.typing, value) {
                (_, Value::String(s)) if column.typing != Typing::Json => s.clone(),
                (_, Value::Null) => "null".to_owned(),
                (Typing::Json, v) | (_, v @ (Value::Array(_) | Value::Object(_))) => canonical(v),
                (_, v) => canonical(v),
            };
        }
        let mut uncovered = Vec::new();
        self.uncovered(submission, &mut Vec::new(), &mut uncovered);
        (cells, uncovered)
    }

    fn uncovered(&self, value: &Value, segs: &mut Vec<Seg>, out: &mut Vec<String>) {
        let pointer = pointer_of(segs);
        if self.columns.iter().flatten().any(|c| c.pointer == pointer) {
            return;
        }
        match value {
            Value::Object(map) if !map.is_empty() => {
                for (k, v) in map {
                    segs.push(Seg::Key(k.clone()));
                    self.uncovered(v, segs, out);
                    segs.pop();
                }
            }
            Value::Array(items) if !items.is_empty() => {
                for (i, v) in items.iter().enumerate() {
                    segs.push(Seg::Index(i));
                    self.uncovered(v, segs, out);
                    segs.pop();
                }
            }
            _ => out.push(pointer),
        }
    }
}

/// The RFC 8785 text of a value (compact JSON if it cannot be canonicalised).
fn canonical(value: &Value) -> String {
    jcs::canonicalize(value)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_else(|| value.to_string())
}

fn get<'v>(value: &'v Value, segs: &[Seg]) -> Option<&'v Value> {
    segs.iter().try_fold(value, |v, seg| match (v, seg) {
        (Value::Object(map), Seg::Key(k)) => map.get(k),
        (Value::Array(items), Seg::Index(i)) => items.get(*i),
        _ => None,
    })
}

fn is_empty(cell: &Cell<'_>) -> bool {
    matches!(cell, Cell::Empty) || matches!(cell, Cell::Text(t) if t.is_empty())
}

/// The shortest ECMAScript form of a finite number (integers without `.0`).
pub fn shortest(n: f64) -> String {
    ryu_js::Buffer::new().format(n).to_owned()
}

fn number_from_f64(n: f64) -> Result<Value, String> {
    if !n.is_finite() {
        return Err("not a finite number".to_owned());
    }
    number_literal(&shortest(n))
}

fn number_literal(text: &str) -> Result<Value, String> {
    let trimmed = text.trim();
    let hint = || {
        if trimmed.contains(',') {
            " (use `.` as the decimal separator and no thousands separators)"
        } else {
            ""
        }
    };
    if trimmed.is_empty() {
        return Err("not a number".to_owned());
    }
    match serde_json::from_str::<Number>(trimmed) {
        Ok(n) if !trimmed.starts_with('+') => Ok(Value::Number(n)),
        _ => Err(format!(
            "`{}` is not a JSON number{}",
            clip(trimmed),
            hint()
        )),
    }
}

fn clip(text: &str) -> String {
    const MAX: usize = 40;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

fn type_cell(column: &Column, cell: &Cell<'_>) -> Result<Value, String> {
    match (column.typing, *cell) {
        (_, Cell::Error(e)) => Err(format!("the spreadsheet cell holds the error {e}")),
        (Typing::String, Cell::Text(t) | Cell::Date(t)) => Ok(Value::String(t.to_owned())),
        (Typing::String, Cell::Number(n)) => {
            if n.is_finite() {
                Ok(Value::String(shortest(n)))
            } else {
                Err("not a finite number".to_owned())
            }
        }
        (Typing::String, Cell::Bool(b)) => Ok(Value::String(b.to_string())),
        (Typing::Number, Cell::Text(t)) => number_literal(t),
        (Typing::Number, Cell::Number(n)) => number_from_f64(n),
        (Typing::Number, Cell::Bool(_)) => Err("a boolean where a number belongs".to_owned()),
        (Typing::Number, Cell::Date(_)) => Err("a date where a number belongs".to_owned()),
        (Typing::Boolean, Cell::Text(t)) => match t.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!("`{}` is not true or false", clip(t))),
        },
        (Typing::Boolean, Cell::Bool(b)) => Ok(Value::Bool(b)),
        (Typing::Boolean, _) => Err("not true or false".to_owned()),
        (Typing::Json, Cell::Text(t)) => {
            let value = jcs::parse_input(t.trim().as_bytes())
                .map_err(|e| format!("not a JSON literal: {e}"))?;
            Ok(value)
        }
        (Typing::Json, Cell::Number(n)) => number_from_f64(n),
        (Typing::Json, Cell::Bool(b)) => Ok(Value::Bool(b)),
        (Typing::Json, Cell::Date(t)) => Ok(Value::String(t.to_owned())),
        (_, Cell::Empty) => Err("empty".to_owned()),
    }
}

/// A submission being built from cells.
enum Node {
    Object(BTreeMap<String, Node>),
    Array(BTreeMap<usize, Node>),
    Value(Value),
}

impl Node {
    fn set(&mut self, segs: &[Seg], value: Value) -> Result<(), String> {
        let Some((first, rest)) = segs.split_first() else {
            return Err("two columns give the same field".to_owned());
        };
        let fresh = || match rest.first() {
            None => Node::Value(Value::Null),
            Some(Seg::Key(_)) => Node::Object(BTreeMap::new()),
            Some(Seg::Index(_)) => Node::Array(BTreeMap::new()),
        };
        let child = match (self, first) {
            (Node::Object(map), Seg::Key(k)) => map.entry(k.clone()).or_insert_with(fresh),
            (Node::Array(map), Seg::Index(i)) => map.entry(*i).or_insert_with(fresh),
            _ => return Err("this field is both a value and a container".to_owned()),
        };
        if rest.is_empty() {
            *child = Node::Value(value);
            Ok(())
        } else {
            child.set(rest, value)
        }
    }

    /// The JSON value; an array whose indices are not contiguous from 0 is an error.
    fn into_value(self, at: &mut Vec<Seg>) -> Result<Value, Vec<(Vec<Seg>, String)>> {
        match self {
            Node::Value(v) => Ok(v),
            Node::Object(map) => {
                let mut out = Map::new();
                let mut errors = Vec::new();
                for (k, child) in map {
                    at.push(Seg::Key(k.clone()));
                    match child.into_value(at) {
                        Ok(v) => {
                            out.insert(k, v);
                        }
                        Err(e) => errors.extend(e),
                    }
                    at.pop();
                }
                if errors.is_empty() {
                    Ok(Value::Object(out))
                } else {
                    Err(errors)
                }
            }
            Node::Array(map) => {
                let mut out = Vec::with_capacity(map.len());
                let mut errors = Vec::new();
                for (expected, (i, child)) in map.into_iter().enumerate() {
                    if i != expected {
                        at.push(Seg::Index(expected));
                        errors.push((
                            at.clone(),
                            format!(
                                "element [{expected}] is empty but [{i}] is not: array elements \
                                 must be contiguous from [0]"
                            ),
                        ));
                        at.pop();
                        break;
                    }
                    at.push(Seg::Index(i));
                    match child.into_value(at) {
                        Ok(v) => out.push(v),
                        Err(e) => errors.extend(e),
                    }
                    at.pop();
                }
                if errors.is_empty() {
                    Ok(Value::Array(out))
                } else {
                    Err(errors)
                }
            }
        }
    }
}

/// The header of a template: every column of the shape, arrays expanded to the largest
/// count in `samples` (an array no sample fills, or one some sample has empty, becomes one
/// JSON-literal column), free-form
/// leaves expanded to the members the samples use (or one JSON-literal column). The first
/// column is `externalRef`.
pub fn template_header(shape: &Shape, samples: &[&Value]) -> Vec<String> {
    let mut out = vec![EXTERNAL_REF.to_owned()];
    expand(shape, &mut Vec::new(), samples, &mut out);
    out
}

fn expand(shape: &Shape, segs: &mut Vec<Seg>, samples: &[&Value], out: &mut Vec<String>) {
    match shape {
        Shape::Object(members) => {
            for (key, child) in members {
                segs.push(Seg::Key(key.clone()));
                let below: Vec<&Value> = samples.iter().filter_map(|v| v.get(key)).collect();
                expand(child, segs, &below, out);
                segs.pop();
            }
        }
        Shape::Array(item) => {
            let count = samples
                .iter()
                .filter_map(|v| v.as_array())
                .map(Vec::len)
                .max()
                .unwrap_or(0);
            // An array no sample fills, or one a sample has empty (indexed cells cannot
            // say "empty"), is one JSON-literal column.
            let some_empty = samples
                .iter()
                .any(|v| v.as_array().is_some_and(Vec::is_empty));
            if count == 0 || some_empty {
                out.push(path_of(segs));
                return;
            }
            for i in 0..count {
                segs.push(Seg::Index(i));
                let below: Vec<&Value> = samples.iter().filter_map(|v| v.get(i)).collect();
                expand(item, segs, &below, out);
                segs.pop();
            }
        }
        Shape::Leaf(column) if column.kind == ColumnKind::Open => {
            let mut keys: Vec<&String> = Vec::new();
            let all_text_maps = samples.iter().all(|v| {
                v.as_object()
                    .is_some_and(|m| !m.is_empty() && m.values().all(Value::is_string))
            });
            if all_text_maps && !samples.is_empty() {
                for v in samples {
                    for k in v.as_object().into_iter().flat_map(|m| m.keys()) {
                        if !keys.contains(&k) {
                            keys.push(k);
                        }
                    }
                }
                keys.sort();
                for k in keys {
                    segs.push(Seg::Key(k.clone()));
                    out.push(path_of(segs));
                    segs.pop();
                }
            } else {
                out.push(path_of(segs));
            }
        }
        Shape::Leaf(_) => out.push(path_of(segs)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use hallmark_core::sector::SectorRegistry;

    fn battery() -> &'static Sector {
        SectorRegistry::builtin().get("battery", "1.2.0").unwrap()
    }

    fn demos() -> Vec<Value> {
        super::super::template::DEMOS
            .iter()
            .map(|(_, text)| serde_json::from_str(text).unwrap())
            .collect()
    }

    fn header_for_demos() -> Header {
        let demos = demos();
        let names = template_header(&Shape::of(battery()), &demos.iter().collect::<Vec<_>>());
        Header::parse(&names, battery()).unwrap()
    }

    fn text_cells(cells: &[String]) -> Vec<Cell<'_>> {
        cells.iter().map(|c| Cell::Text(c)).collect()
    }

    #[test]
    fn paths_parse_and_print() {
        let segs = parse_path("data.a[0].b[12]").unwrap();
        assert_eq!(
            segs,
            vec![
                Seg::Key("data".into()),
                Seg::Key("a".into()),
                Seg::Index(0),
                Seg::Key("b".into()),
                Seg::Index(12)
            ]
        );
        assert_eq!(path_of(&segs), "data.a[0].b[12]");
        assert_eq!(pointer_of(&segs), "/data/a/0/b/12");
        assert_eq!(parse_path(r"a\.b").unwrap(), vec![Seg::Key("a.b".into())]);
        assert_eq!(path_of(&[Seg::Key("a.b".into())]), r"a\.b");
        assert_eq!(generic_path_of(&segs), "data.a[*].b[*]");
        for bad in [
            "", "a.", ".a", "a..b", "a[", "a[x]", "a[01]", "a[-1]", "[0]", "a]", "a[0]b",
        ] {
            assert!(parse_path(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn the_three_demo_passports_flatten_and_unflatten_identical() {
        let header = header_for_demos();
        for (demo, name) in demos()
            .iter()
            .zip(["demo-ev", "demo-industrial", "demo-lmt"])
        {
            let (cells, uncovered) = header.flatten(name, demo);
            assert!(uncovered.is_empty(), "{uncovered:?}");
            let row = header.row(&text_cells(&cells));
            assert_eq!(row.external_ref.as_deref(), Some(name));
            let back = row.submission.unwrap();
            assert_eq!(
                String::from_utf8(jcs::canonicalize(&back).unwrap()).unwrap(),
                String::from_utf8(jcs::canonicalize(demo).unwrap()).unwrap(),
                "{name}"
            );
        }
    }

    #[test]
    fn header_errors_are_usage_errors() {
        let sector = battery();
        let err = |cells: &[&str]| Header::parse(cells, sector).unwrap_err();
        assert!(matches!(
            err(&["externalRef", "data.nope"]),
            HeaderError::Unknown { index: 2, .. }
        ));
        assert!(matches!(
            err(&["externalRef", "granularity", "granularity"]),
            HeaderError::Duplicate {
                first: 2,
                second: 3,
                ..
            }
        ));
        assert!(matches!(
            err(&["externalRef", "components", "components[0].uri"]),
            HeaderError::BothForms { .. }
        ));
        assert!(matches!(err(&["granularity"]), HeaderError::NoExternalRef));
        assert!(matches!(err(&["", " "]), HeaderError::Missing));
        assert!(matches!(
            err(&["externalRef", "components[x].uri"]),
            HeaderError::BadPath { .. }
        ));
        // A BOM on the first cell (Excel's CSV) is not part of the name.
        assert!(Header::parse(&["\u{feff}externalRef", "granularity"], sector).is_ok());
    }

    #[test]
    fn cells_are_typed_by_column() {
        let sector = battery();
        let header = Header::parse(
            &[
                "externalRef",
                "uniqueProductIdentifier.gtin",
                "data.generalProductInformation.batteryMass",
                "data.materialComposition.batteryMaterials[0].isCriticalRawMaterial",
                "data.labeling.labels[0].labelingMeaning.en",
                "data.circularity.recycledContent",
                "data.generalProductInformation.manufacturingDate",
            ],
            sector,
        )
        .unwrap();
        let row = header.row(&[
            Cell::Text("r1"),
            Cell::Number(9506000134369.0),
            Cell::Number(452.0),
            Cell::Bool(true),
            Cell::Text("Collect separately"),
            Cell::Text(r#"[{"preConsumerShare": 1.5}]"#),
            Cell::Date("2025-03-14T05:42:00Z"),
        ]);
        let v = row.submission.unwrap();
        assert_eq!(v["uniqueProductIdentifier"]["gtin"], "9506000134369");
        assert_eq!(v["data"]["generalProductInformation"]["batteryMass"], 452);
        assert_eq!(
            v["data"]["materialComposition"]["batteryMaterials"][0]["isCriticalRawMaterial"],
            true
        );
        assert_eq!(
            v["data"]["labeling"]["labels"][0]["labelingMeaning"]["en"],
            "Collect separately"
        );
        assert_eq!(
            v["data"]["circularity"]["recycledContent"][0]["preConsumerShare"],
            1.5
        );
        assert_eq!(
            v["data"]["generalProductInformation"]["manufacturingDate"],
            "2025-03-14T05:42:00Z"
        );

        // Text cells: numbers are JSON literals, booleans any case, empties absent.
        let row = header.row(&[
            Cell::Text("r2"),
            Cell::Text("09506000134369"),
            Cell::Text(" 12.50 "),
            Cell::Text("FALSE"),
            Cell::Empty,
            Cell::Text(""),
        ]);
        let v = row.submission.unwrap();
        assert_eq!(v["uniqueProductIdentifier"]["gtin"], "09506000134369");
        assert_eq!(v["data"]["generalProductInformation"]["batteryMass"], 12.5);
        assert_eq!(
            v["data"]["materialComposition"]["batteryMaterials"][0]["isCriticalRawMaterial"],
            false
        );
        assert!(v["data"].get("labeling").is_none());
    }

    #[test]
    fn bad_cells_name_their_column_and_pointer() {
        let header = Header::parse(
            &[
                "externalRef",
                "data.generalProductInformation.batteryMass",
                "data.materialComposition.batteryMaterials[0].isCriticalRawMaterial",
                "data.circularity.recycledContent",
            ],
            battery(),
        )
        .unwrap();
        let row = header.row(&[
            Cell::Text("r1"),
            Cell::Text("1,5"),
            Cell::Text("yes"),
            Cell::Text(r#"{"a":1,"a":2}"#),
            Cell::Text("stray"),
        ]);
        let errors = row.submission.unwrap_err();
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert_eq!(
            errors[0].column,
            "data.generalProductInformation.batteryMass"
        );
        assert_eq!(
            errors[0].pointer,
            "/data/generalProductInformation/batteryMass"
        );
        assert!(
            errors[0].message.contains("decimal separator"),
            "{}",
            errors[0]
        );
        assert!(errors[1].message.contains("true or false"));
        assert!(errors[2].message.contains("JSON literal"));
        assert!(errors[3].message.contains("no header"));
        for bad in ["NaN", "+1", "1e", "0x10", "Infinity"] {
            let row = header.row(&[Cell::Text("r"), Cell::Text(bad)]);
            assert!(row.submission.is_err(), "{bad} accepted");
        }
        // No externalRef.
        let row = header.row(&[Cell::Empty, Cell::Text("1")]);
        assert_eq!(row.submission.unwrap_err()[0].column, "externalRef");
    }

    #[test]
    fn array_gaps_are_row_errors() {
        let header = Header::parse(
            &[
                "externalRef",
                "data.circularity.safetyMeasures.extinguishingAgent[0]",
                "data.circularity.safetyMeasures.extinguishingAgent[1]",
                "data.circularity.safetyMeasures.extinguishingAgent[2]",
            ],
            battery(),
        )
        .unwrap();
        let ok = header.row(&[Cell::Text("r"), Cell::Text("a"), Cell::Text("b")]);
        assert_eq!(
            ok.submission.unwrap()["data"]["circularity"]["safetyMeasures"]["extinguishingAgent"],
            serde_json::json!(["a", "b"])
        );
        let gap = header.row(&[
            Cell::Text("r"),
            Cell::Text("a"),
            Cell::Empty,
            Cell::Text("c"),
        ]);
        let errors = gap.submission.unwrap_err();
        assert_eq!(
            errors[0].pointer,
            "/data/circularity/safetyMeasures/extinguishingAgent/1"
        );
    }

    #[test]
    fn pointers_map_back_to_columns() {
        let header = header_for_demos();
        assert_eq!(
            header
                .column_of("/data/generalProductInformation/batteryMass")
                .as_deref(),
            Some("data.generalProductInformation.batteryMass")
        );
        assert_eq!(
            header
                .column_of("/data/materialComposition/batteryMaterials/0/batteryMaterialName")
                .as_deref(),
            Some("data.materialComposition.batteryMaterials[0].batteryMaterialName")
        );
        // Below a JSON-literal column: that column.
        assert_eq!(
            header.column_of("/components/0/uri").as_deref(),
            Some("components")
        );
        // A parent (a missing required member): its path.
        assert_eq!(
            header.column_of("/data/circularity").as_deref(),
            Some("data.circularity")
        );
        assert_eq!(header.column_of("no pointer"), None);
    }

    #[test]
    fn the_template_header_is_deterministic_and_covers_every_leaf() {
        let a = header_for_demos().names();
        let b = header_for_demos().names();
        assert_eq!(a, b);
        assert_eq!(a[0], EXTERNAL_REF);
        assert!(a.contains(&"components".to_owned()));
        assert!(a.contains(&"uniqueProductIdentifier.gtin".to_owned()));
        // Every schema leaf is reachable from some column.
        for column in battery().columns() {
            let stem = column.path.split("[*]").next().unwrap().to_owned();
            assert!(
                a.iter().any(|n| n.starts_with(&stem)),
                "no template column for {}",
                column.path
            );
        }
    }
}

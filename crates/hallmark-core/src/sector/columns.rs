//! The columns of a sector's passports: one [`ColumnSpec`] per leaf of the submission (the
//! passport envelope and the sector data), for tabular import templates and for naming the
//! cell behind a JSON Pointer.
//!
//! A column's `path` is the wire structure written with dots and `[*]` for any array index
//! (`data.materialComposition.batteryMaterials[*].batteryMaterialName`); its `pointer` is the
//! same location as an RFC 6901 pointer with `*` for the index
//! (`/data/materialComposition/batteryMaterials/*/batteryMaterialName`). Member names that
//! contain `.`, `[`, `]` or `\` are backslash-escaped in paths (none in BatteryPass 1.2.0).
//!
//! Envelope columns come first, in wire order, then the sector's data leaves (battery: its
//! submodels in [`battery::SUBMODELS`] order, each one's leaves sorted by pointer). The battery sector has one data column per leaf of its seven schemas; the
//! generic sector has one [`ColumnKind::Open`] column `data` (a JSON object in one cell).
//! Tiers are the sector's: [`Sector::tier_of`] of the data location, so a leaf with no
//! mapping shows [`Tier::Authority`] (fail closed, as served); envelope fields are in every
//! audience's credential and show [`Tier::Public`].

use crate::access::Tier;

use super::{battery, Kind, Sector};

/// How a column's cells are typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnKind {
    /// A JSON string.
    String,
    /// A JSON number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// A free-form value (a JSON literal in one cell, or any member below it).
    Open,
}

impl ColumnKind {
    /// The kind's name as written in column descriptions: `string`, `number`, `boolean`,
    /// `json`.
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnKind::String => "string",
            ColumnKind::Number => "number",
            ColumnKind::Boolean => "boolean",
            ColumnKind::Open => "json",
        }
    }

    fn from_schema_type(json_type: Option<&str>) -> Self {
        match json_type {
            Some("string") => ColumnKind::String,
            Some("number" | "integer") => ColumnKind::Number,
            Some("boolean") => ColumnKind::Boolean,
            _ => ColumnKind::Open,
        }
    }
}

/// One column of a sector's passports (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSpec {
    /// Dotted wire path, `[*]` for any array index.
    pub path: String,
    /// RFC 6901 pointer into the submission, `*` for any array index.
    pub pointer: String,
    /// How cells are typed.
    pub kind: ColumnKind,
    /// The schema `format` (`uri`, `date-time`, …), if any.
    pub format: Option<String>,
    /// The allowed values, when the schema has a closed list (empty otherwise).
    pub enum_values: Vec<String>,
    /// Whether every passport of the sector must have this field.
    pub required: bool,
    /// The access tier the field is served under.
    pub tier: Tier,
    /// The sector's attribute numbers that decide the tier (battery: the `no` column of
    /// `attributes-access-v1.2.csv`); empty when none applies.
    pub attrs: Vec<u16>,
}

impl ColumnSpec {
    fn envelope(path: &str, required: bool) -> Self {
        ColumnSpec {
            path: path.to_owned(),
            pointer: path_to_pointer(path),
            kind: ColumnKind::String,
            format: None,
            enum_values: Vec::new(),
            required,
            tier: Tier::Public,
            attrs: Vec::new(),
        }
    }
}

/// The envelope columns, in wire order: `(path, required)`.
const ENVELOPE: &[(&str, bool)] = &[
    ("uniqueProductIdentifier.gtin", true),
    ("uniqueProductIdentifier.lot", false),
    ("uniqueProductIdentifier.serial", false),
    ("granularity", true),
    ("economicOperatorId", true),
    ("facilityId", false),
    ("commodityCode", false),
    ("sector.id", true),
    ("sector.schemaVersion", true),
    ("components[*].uri", false),
    ("components[*].sha256", false),
];

impl Sector {
    /// Every column of this sector's passports: the envelope, then the data (see the
    /// [module docs](crate::sector::columns)). The same sector always gives the same list.
    pub fn columns(&self) -> Vec<ColumnSpec> {
        let mut columns: Vec<ColumnSpec> = ENVELOPE
            .iter()
            .map(|(path, required)| ColumnSpec::envelope(path, *required))
            .collect();
        if let Some(granularity) = columns.iter_mut().find(|c| c.path == "granularity") {
            granularity.enum_values = ["model", "batch", "item"].map(str::to_owned).to_vec();
        }
        match self.kind {
            Kind::Battery => {
                // Submodel by submodel in their order, each one's leaves sorted by pointer.
                let leaves = battery::SUBMODELS.iter().flat_map(|(key, ..)| {
                    let prefix = format!("/{key}/");
                    battery::leaf_schemas()
                        .iter()
                        .filter(move |l| l.path.starts_with(&prefix))
                });
                for leaf in leaves {
                    let at = concrete(&leaf.path);
                    columns.push(ColumnSpec {
                        path: format!("data{}", pointer_to_path(&leaf.path)),
                        pointer: format!("/data{}", leaf.path),
                        kind: ColumnKind::from_schema_type(leaf.json_type.as_deref()),
                        format: leaf.format.clone(),
                        enum_values: leaf.enum_values.clone(),
                        required: leaf.required,
                        tier: self.tier_of(&at),
                        attrs: battery::attributes_at(&at)
                            .map(<[u16]>::to_vec)
                            .unwrap_or_default(),
                    });
                }
            }
            Kind::Generic => columns.push(ColumnSpec {
                path: "data".to_owned(),
                pointer: "/data".to_owned(),
                kind: ColumnKind::Open,
                format: None,
                enum_values: Vec::new(),
                required: true,
                // The top-level key of generic data decides; the column as a whole is
                // whatever is restricted most.
                tier: self.tier_of(""),
                attrs: Vec::new(),
            }),
        }
        columns
    }
}

/// A schema pointer with every `*` token replaced by `0` (a concrete location with the same
/// tier: every element of an array has its item's tier).
fn concrete(pointer: &str) -> String {
    pointer
        .split('/')
        .map(|t| if t == "*" { "0" } else { t })
        .collect::<Vec<_>>()
        .join("/")
}

/// A dotted path (`a.b[*].c`, backslash escapes) as a pointer (`/a/b/*/c`).
fn path_to_pointer(path: &str) -> String {
    let mut out = String::new();
    let mut token = String::new();
    let mut chars = path.chars();
    let push = |out: &mut String, token: &mut String| {
        out.push('/');
        out.push_str(&token.replace('~', "~0").replace('/', "~1"));
        token.clear();
    };
    let mut pending = true;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    token.push(next);
                }
            }
            '.' => {
                if pending {
                    push(&mut out, &mut token);
                }
                pending = true;
            }
            '[' => {
                if pending {
                    push(&mut out, &mut token);
                }
                for c in chars.by_ref() {
                    if c == ']' {
                        break;
                    }
                    token.push(c);
                }
                push(&mut out, &mut token);
                pending = false;
            }
            c => {
                pending = true;
                token.push(c);
            }
        }
    }
    if pending {
        push(&mut out, &mut token);
    }
    out
}

/// A pointer (`/a/b/*/c`, RFC 6901 escapes) as the dotted tail of a path (`.a.b[*].c`).
fn pointer_to_path(pointer: &str) -> String {
    let mut out = String::new();
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        if token == "*" || (!token.is_empty() && token.bytes().all(|b| b.is_ascii_digit())) {
            out.push('[');
            out.push_str(&token);
            out.push(']');
        } else {
            out.push('.');
            for c in token.chars() {
                if matches!(c, '.' | '[' | ']' | '\\') {
                    out.push('\\');
                }
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::sector::SectorRegistry;

    fn battery() -> &'static Sector {
        SectorRegistry::builtin().get("battery", "1.2.0").unwrap()
    }

    #[test]
    fn every_battery_leaf_has_a_column() {
        let columns = battery().columns();
        for leaf in battery::schema_leaf_paths() {
            let pointer = format!("/data{leaf}");
            assert!(
                columns.iter().any(|c| c.pointer == pointer),
                "no column for {pointer}"
            );
        }
        let data_columns = columns.iter().filter(|c| c.pointer.starts_with("/data/"));
        assert_eq!(data_columns.count(), battery::schema_leaf_paths().len());
        // The schema-facts walk finds exactly the tier tree's leaves.
        let walked: Vec<&str> = battery::leaf_schemas()
            .iter()
            .map(|l| l.path.as_str())
            .collect();
        assert_eq!(walked, battery::schema_leaf_paths());
        // Submodels in their order: general product information first.
        assert!(columns[ENVELOPE.len()]
            .path
            .starts_with("data.generalProductInformation."));
    }

    #[test]
    fn tiers_equal_the_tier_function() {
        let sector = battery();
        for column in sector.columns() {
            let Some(at) = column.pointer.strip_prefix("/data") else {
                assert_eq!(column.tier, Tier::Public, "{}", column.path);
                continue;
            };
            assert_eq!(
                column.tier,
                sector.tier_of(&concrete(at)),
                "{}",
                column.path
            );
        }
        // Spot checks against the audited table.
        let tier = |p: &str| {
            sector
                .columns()
                .into_iter()
                .find(|c| c.path == p)
                .map(|c| (c.tier, c.attrs))
                .unwrap()
        };
        assert_eq!(
            tier("data.generalProductInformation.batteryMass"),
            (Tier::Public, vec![10])
        );
        assert_eq!(
            tier("data.materialComposition.batteryMaterials[*].isCriticalRawMaterial"),
            (Tier::LegitimateInterest, vec![32, 33])
        );
    }

    #[test]
    fn kinds_formats_and_enums_come_from_the_schema() {
        let columns = battery().columns();
        let get = |p: &str| columns.iter().find(|c| c.path == p).unwrap();
        let mass = get("data.generalProductInformation.batteryMass");
        assert_eq!(mass.kind, ColumnKind::Number);
        let date = get("data.generalProductInformation.manufacturingDate");
        assert_eq!(
            (date.kind, date.format.as_deref()),
            (ColumnKind::String, Some("date-time"))
        );
        let crm = get("data.materialComposition.batteryMaterials[*].isCriticalRawMaterial");
        assert_eq!(crm.kind, ColumnKind::Boolean);
        let meaning = get("data.labeling.labels[*].labelingMeaning");
        assert_eq!(meaning.kind, ColumnKind::Open);
        let subject = get("data.labeling.labels[*].labelingSubject");
        assert!(subject.enum_values.contains(&"CarbonFootPrint".to_owned()));
        let gtin = get("uniqueProductIdentifier.gtin");
        assert_eq!(
            (gtin.kind, gtin.required, gtin.tier),
            (ColumnKind::String, true, Tier::Public)
        );
        assert_eq!(gtin.pointer, "/uniqueProductIdentifier/gtin");
        assert_eq!(get("components[*].sha256").pointer, "/components/*/sha256");
        let counts = |k| columns.iter().filter(|c| c.kind == k).count();
        // BatteryPass 1.2.0: 131 leaves (80 string, 49 number, 1 boolean, 1 language map)
        // after the 11 envelope columns (all strings).
        assert_eq!(
            [
                counts(ColumnKind::String),
                counts(ColumnKind::Number),
                counts(ColumnKind::Boolean),
                counts(ColumnKind::Open)
            ],
            [91, 49, 1, 1]
        );
    }

    #[test]
    fn paths_and_pointers_agree() {
        for column in battery().columns() {
            assert_eq!(path_to_pointer(&column.path), column.pointer);
            assert_eq!(
                pointer_to_path(&column.pointer).trim_start_matches('.'),
                column.path
            );
        }
        assert_eq!(path_to_pointer(r"a\.b[*].c"), "/a.b/*/c");
        assert_eq!(pointer_to_path("/a.b/*/c"), r".a\.b[*].c");
    }

    #[test]
    fn columns_are_deterministic() {
        let a = battery().columns();
        let b = SectorRegistry::with_builtin_sectors()
            .get("battery", "1.2.0")
            .unwrap()
            .columns();
        assert_eq!(a, b);
        let mut pointers: Vec<_> = a.iter().map(|c| &c.pointer).collect();
        pointers.dedup();
        assert_eq!(pointers.len(), a.len(), "one column per pointer");
    }

    #[test]
    fn generic_has_the_envelope_and_one_data_column() {
        let generic = SectorRegistry::builtin().get("generic", "1.0.0").unwrap();
        let columns = generic.columns();
        assert_eq!(columns.len(), ENVELOPE.len() + 1);
        let data = columns.last().unwrap();
        assert_eq!((data.path.as_str(), data.kind), ("data", ColumnKind::Open));
        assert_eq!(data.tier, Tier::Authority);
    }
}

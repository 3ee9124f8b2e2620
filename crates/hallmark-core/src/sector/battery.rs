//! The `battery` sector, version 1.2.0: the BatteryPass data model (DIN DKE SPEC 99100).
//!
//! Data is a composition of the seven BatteryPass submodels (see [`SUBMODELS`]); each is
//! validated by its own draft-04 schema, embedded from `sectors/battery/1.2.0/`.
//!
//! Every field's legal access tier comes from `attributes-access-v1.2.csv` (93 attributes of
//! the Battery Regulation, Annex XIII) through [`FIELD_ATTRIBUTES`], an audit table mapping
//! each location in the composite to the CSV attribute number(s) it implements. See the
//! [`sector`](super) module docs for the rules.
//!
//! Source data: Battery Pass consortium, BatteryPass data model 1.2.0; see
//! `sectors/battery/1.2.0/NOTICE.md` for source, license and attribution.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde_json::Value;

use super::issue::{self, ValidationIssue};
use super::tree::{self, NodeKind, TierNode};
use crate::access::Tier;

/// The submodels of a battery passport: `(top-level key, submodel name, draft-04 schema)`.
///
/// All seven are required: a battery that needs a passport needs every part of it.
pub const SUBMODELS: [(&str, &str, &str); 7] = [
    (
        "generalProductInformation",
        "GeneralProductInformation",
        include_str!("../../sectors/battery/1.2.0/GeneralProductInformation-schema.json"),
    ),
    (
        "carbonFootprintForBatteries",
        "CarbonFootprintForBatteries",
        include_str!("../../sectors/battery/1.2.0/CarbonFootprintForBatteries-schema.json"),
    ),
    (
        "supplyChainDueDiligence",
        "SupplyChainDueDiligence",
        include_str!("../../sectors/battery/1.2.0/SupplyChainDueDiligence-schema.json"),
    ),
    (
        "materialComposition",
        "MaterialComposition",
        include_str!("../../sectors/battery/1.2.0/MaterialComposition-schema.json"),
    ),
    (
        "circularity",
        "Circularity",
        include_str!("../../sectors/battery/1.2.0/Circularity-schema.json"),
    ),
    (
        "performanceAndDurability",
        "PerformanceAndDurability",
        include_str!("../../sectors/battery/1.2.0/PerformanceAndDurability-schema.json"),
    ),
    (
        "labeling",
        "Labeling",
        include_str!("../../sectors/battery/1.2.0/Labeling-schema.json"),
    ),
];

/// The attribute list with legal access: `no,din_dke_99100_chapter,category,attribute,access,...`.
pub const ATTRIBUTES_CSV: &str =
    include_str!("../../sectors/battery/1.2.0/attributes-access-v1.2.csv");

/// Where each CSV attribute lives in the battery composite: `(location, CSV numbers)`.
///
/// A location is a JSON pointer into the composite with `*` for any array index. The tier of a
/// location is the most restrictive tier of its CSV numbers. Children inherit their nearest
/// mapped ancestor unless mapped themselves (most specific wins). One line per mapping so a
/// reviewer can audit it against the CSV (`no` column) and the schemas.
#[rustfmt::skip]
pub const FIELD_ATTRIBUTES: &[(&str, &[u16])] = &[
    // --- GeneralProductInformation (6.1) ---
    ("/generalProductInformation/batteryPassportIdentifier", &[1]), // Battery passport identifier: Public
    ("/generalProductInformation/productIdentifier", &[2]), // Battery identifier: Public
    ("/generalProductInformation/operatorInformation", &[3]), // Operator identifier and information: Public
    ("/generalProductInformation/manufacturerInformation", &[4]), // Manufacturer identifier and information: Public
    ("/generalProductInformation/manufacturingPlace", &[5]), // Manufacturing place: Public
    ("/generalProductInformation/manufacturingDate", &[6]), // Manufacturing date: Public
    ("/generalProductInformation/puttingIntoService", &[7]), // Date of putting into service: legitimate interest
    ("/generalProductInformation/warrentyPeriod", &[8]), // Warranty period: Public
    ("/generalProductInformation/batteryCategory", &[9]), // Battery category: Public
    ("/generalProductInformation/batteryMass", &[10]), // Battery mass: Public
    ("/generalProductInformation/batteryStatus", &[11]), // Battery status: legitimate interest
    // --- Labeling (6.2) ---
    ("/labeling/labels", &[12, 13, 14, 15, 16]), // symbols and labels, one element per subject: Public
    ("/labeling/labels/*/labelingSubject", &[12, 13, 14, 15]), // separate collection / Cd+Pb / CF / extinguishing agent: Public
    ("/labeling/labels/*/labelingSymbol", &[12, 13, 14, 15]), // the symbol itself: Public
    ("/labeling/labels/*/labelingMeaning", &[16]), // Meaning of labels and symbols: Public
    ("/labeling/declarationOfConformity", &[17]), // EU declaration of conformity: Public
    ("/labeling/resultOfTestReport", &[18]), // Results of test reports: Authority
    // --- CarbonFootprintForBatteries (6.3) ---
    ("/carbonFootprintForBatteries/batteryCarbonFootprint", &[19]), // CF per functional unit: Public
    ("/carbonFootprintForBatteries/carbonFootprintPerLifecycleStage", &[20, 21, 22, 23]), // per stage (lifecycleStage value): Public
    ("/carbonFootprintForBatteries/carbonFootprintPerformanceClass", &[24]), // CF performance class: Public
    ("/carbonFootprintForBatteries/carbonFootprintStudy", &[25]), // Web link to public CF study: Public
    ("/carbonFootprintForBatteries/absoluteCarbonFootprint", &[27]), // Absolute battery CF: Public
    // --- SupplyChainDueDiligence (6.4) ---
    ("/supplyChainDueDiligence/supplyChainDueDiligenceReport", &[28]), // Due diligence report: Public
    ("/supplyChainDueDiligence/thirdPartyAussurances", &[29]), // Third party assurances: Public
    ("/supplyChainDueDiligence/supplyChainIndicies", &[30]), // Supply chain indices: Public
    // --- MaterialComposition (6.5) ---
    ("/materialComposition/batteryChemistry", &[31]), // Battery chemistry: Public
    ("/materialComposition/batteryMaterials", &[33]), // Materials in cathode, anode, electrolyte: legitimate interest
    ("/materialComposition/batteryMaterials/*/isCriticalRawMaterial", &[32, 33]), // CRM flag of a 33 entry: most restrictive = legitimate interest
    ("/materialComposition/hazardousSubstances", &[34]), // Hazardous substances (name, class, location, ...): Public
    ("/materialComposition/hazardousSubstances/*/hazardousSubstanceImpact", &[35]), // Impact of substances: Public
    // --- Circularity (6.6) ---
    ("/circularity/dismantlingAndRemovalInformation", &[36]), // Dismantling manuals: legitimate interest
    ("/circularity/sparePartSources", &[38]), // Sources of spare parts: legitimate interest
    ("/circularity/sparePartSources/*/components", &[37, 38]), // Part numbers for components: legitimate interest
    ("/circularity/safetyMeasures", &[39]), // Safety measures: legitimate interest
    ("/circularity/safetyMeasures/extinguishingAgent", &[15]), // Extinguishing agent (Annex XIII(1)(a)): Public
    ("/circularity/recycledContent", &[40, 41, 42, 43, 44, 45, 46, 47]), // recycled shares per material: Public
    ("/circularity/recycledContent/*/preConsumerShare", &[40, 41, 42, 43]), // pre-consumer Ni/Co/Li/Pb: Public
    ("/circularity/recycledContent/*/postConsumerShare", &[44, 45, 46, 47]), // post-consumer Ni/Co/Li/Pb: Public
    ("/circularity/renewableContent", &[48]), // Renewable content share: Public
    ("/circularity/endOfLifeInformation/wastePrevention", &[49]), // role of end-users in waste prevention: Public
    ("/circularity/endOfLifeInformation/separateCollection", &[50]), // role of end-users in separate collection: Public
    ("/circularity/endOfLifeInformation/informationOnCollection", &[51]), // collection, second life, treatment: Public
    // --- PerformanceAndDurability (6.7), battery model ---
    ("/performanceAndDurability/batteryTechicalProperties/ratedCapacity", &[52]), // Rated capacity: Public
    ("/performanceAndDurability/batteryTechicalProperties/ratedEnergy", &[55]), // Certified usable battery energy: Public
    ("/performanceAndDurability/batteryTechicalProperties/minimumVoltage", &[59]), // Minimum voltage: Public
    ("/performanceAndDurability/batteryTechicalProperties/maximumVoltage", &[60]), // Maximum voltage: Public
    ("/performanceAndDurability/batteryTechicalProperties/nominalVoltage", &[61]), // Nominal voltage: Public
    ("/performanceAndDurability/batteryTechicalProperties/originalPowerCapability", &[62]), // Original power capability: Public
    ("/performanceAndDurability/batteryTechicalProperties/ratedMaximumPower", &[65]), // Maximum permitted battery power: Public
    ("/performanceAndDurability/batteryTechicalProperties/powerCapabilityRatio", &[66]), // power/energy ratio (C-rate): Public
    ("/performanceAndDurability/batteryTechicalProperties/cRate", &[66]), // power/energy ratio (C-rate): Public
    ("/performanceAndDurability/batteryTechicalProperties/roundtripEfficiency", &[67]), // Initial round trip efficiency: Public
    ("/performanceAndDurability/batteryTechicalProperties/initialSelfDischarge", &[71]), // Initial self-discharge rate: legitimate interest
    ("/performanceAndDurability/batteryTechicalProperties/initialInternalResistance", &[74]), // Initial internal resistance: Public
    ("/performanceAndDurability/batteryTechicalProperties/expectedLifetime", &[76]), // Expected lifetime in calendar years: legitimate interest
    ("/performanceAndDurability/batteryTechicalProperties/expectedNumberOfCycles", &[77]), // Expected lifetime in cycles: Public
    ("/performanceAndDurability/batteryTechicalProperties/lifetimeReferenceTest", &[79]), // Cycle-life reference test: Public
    ("/performanceAndDurability/batteryTechicalProperties/cRateLifeCycleTest", &[80]), // C-rate of cycle-life test: Public
    ("/performanceAndDurability/batteryTechicalProperties/capacityThresholdForExhaustion", &[83]), // Capacity threshold for exhaustion: Public
    ("/performanceAndDurability/batteryTechicalProperties/temperatureRangeIdleState", &[85, 86]), // idle temperature range, lower/upper: Public
    // --- PerformanceAndDurability (6.7), individual battery condition ---
    ("/performanceAndDurability/batteryCondition/remainingCapacity", &[53]), // Remaining capacity: legitimate interest
    ("/performanceAndDurability/batteryCondition/capacityFade", &[54]), // Capacity fade: legitimate interest
    ("/performanceAndDurability/batteryCondition/remainingEnergy", &[56]), // Remaining usable energy: legitimate interest
    ("/performanceAndDurability/batteryCondition/stateOfCertifiedEnergy", &[57]), // SOCE: legitimate interest
    ("/performanceAndDurability/batteryCondition/stateOfCharge", &[58]), // SoC: legitimate interest
    ("/performanceAndDurability/batteryCondition/remainingPowerCapability", &[63]), // Remaining power capability: legitimate interest
    ("/performanceAndDurability/batteryCondition/powerFade", &[64]), // Power fade: legitimate interest
    ("/performanceAndDurability/batteryCondition/roundTripEfficiencyat50PerCentCycleLife", &[68]), // RTE at 50% cycle life: Public
    ("/performanceAndDurability/batteryCondition/remainingRoundTripEnergyEfficiency", &[69]), // Remaining RTE: legitimate interest
    ("/performanceAndDurability/batteryCondition/roundTripEfficiencyFade", &[70]), // RTE fade: legitimate interest
    ("/performanceAndDurability/batteryCondition/currentSelfDischargingRate", &[72]), // Current self-discharge rate: legitimate interest
    ("/performanceAndDurability/batteryCondition/evolutionOfSelfDischarge", &[73]), // Evolution of self-discharge: legitimate interest
    ("/performanceAndDurability/batteryCondition/internalResistanceIncrease", &[75]), // Internal resistance increase: legitimate interest
    ("/performanceAndDurability/batteryCondition/numberOfFullCycles", &[78]), // Number of full cycles: legitimate interest
    ("/performanceAndDurability/batteryCondition/energyThroughput", &[81]), // Energy throughput: legitimate interest
    ("/performanceAndDurability/batteryCondition/capacityThroughput", &[82]), // Capacity throughput: legitimate interest
    ("/performanceAndDurability/batteryCondition/temperatureInformation", &[84]), // Temperature information: legitimate interest
    ("/performanceAndDurability/batteryCondition/temperatureInformation/timeExtremeHighTemp", &[87]), // time above boundary: legitimate interest
    ("/performanceAndDurability/batteryCondition/temperatureInformation/timeExtremeLowTemp", &[88]), // time below boundary: legitimate interest
    ("/performanceAndDurability/batteryCondition/temperatureInformation/timeExtremeHighTempCharging", &[89]), // charging above boundary: legitimate interest
    ("/performanceAndDurability/batteryCondition/temperatureInformation/timeExtremeLowTempCharging", &[90]), // charging below boundary: legitimate interest
    ("/performanceAndDurability/batteryCondition/negativeEvents", &[91, 92, 93]), // deep discharge, overcharge, accidents: legitimate interest
];

/// CSV attributes with no field of their own in data model 1.2.0: `(CSV number, why)`.
pub const ATTRIBUTES_WITHOUT_FIELD: &[(u16, &str)] = &[
    // 26 "General battery and manufacturer information" (6.3.9) belongs to the carbon
    // footprint declaration; the CarbonFootprintForBatteries submodel has no such property.
    // The same information is carried by generalProductInformation (attributes 1-6, 9).
    (
        26,
        "carbon footprint declaration's general battery and manufacturer information: \
         no property in CarbonFootprintForBatteries 1.2.0; covered by generalProductInformation",
    ),
];

/// One row of the attribute CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// The `no` column (1..=93).
    pub no: u16,
    /// DIN DKE SPEC 99100 chapter.
    pub chapter: String,
    /// Attribute category.
    pub category: String,
    /// Attribute name (trimmed).
    pub name: String,
    /// The `access` column, verbatim.
    pub access: String,
    /// The tier the access column maps to (see [`tier_for_access`]).
    pub tier: Tier,
}

/// Map the CSV `access` column to a [`Tier`]; anything unrecognised is [`Tier::Authority`].
///
/// - `Public` → [`Tier::Public`]
/// - `persons with a legitimate interest` → [`Tier::LegitimateInterest`]
/// - `persons with a legitimate interest and the Commission` → [`Tier::LegitimateInterest`]
///   (the Commission is an authority, and authorities see every tier)
/// - `Notified bodies, market surveillance authorities and the Commission` → [`Tier::Authority`]
pub fn tier_for_access(access: &str) -> Tier {
    match access.trim() {
        "Public" => Tier::Public,
        "persons with a legitimate interest"
        | "persons with a legitimate interest and the Commission" => Tier::LegitimateInterest,
        _ => Tier::Authority,
    }
}

static ATTRIBUTES: LazyLock<Vec<Attribute>> = LazyLock::new(|| parse_attributes(ATTRIBUTES_CSV));

/// The 93 attributes of `attributes-access-v1.2.csv`, parsed on first use.
pub fn attributes() -> &'static [Attribute] {
    &ATTRIBUTES
}

fn parse_attributes(csv: &str) -> Vec<Attribute> {
    csv.lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .filter_map(|line| {
            let cols = split_csv_line(line);
            let no = cols.first()?.trim().parse().ok()?;
            let col = |i: usize| cols.get(i).map(|s| s.trim().to_owned()).unwrap_or_default();
            let access = col(4);
            Some(Attribute {
                no,
                chapter: col(1),
                category: col(2),
                name: col(3),
                tier: tier_for_access(&access),
                access,
            })
        })
        .collect()
}

/// Split one RFC 4180 line (quoted fields, `""` escapes; no embedded newlines in this file).
fn split_csv_line(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// The tier of a set of CSV attributes: the most restrictive; unknown numbers are Authority.
fn tier_of_attrs(nos: &[u16]) -> Tier {
    nos.iter()
        .map(|no| {
            attributes()
                .iter()
                .find(|a| a.no == *no)
                .map_or(Tier::Authority, |a| a.tier)
        })
        .max()
        .unwrap_or(Tier::Authority)
}

struct Shape {
    root: TierNode,
    /// Mapping locations that do not exist in the schemas (must stay empty; tested).
    unknown_locations: Vec<String>,
}

static SHAPE: LazyLock<Shape> = LazyLock::new(build_shape);

fn build_shape() -> Shape {
    let mut children = BTreeMap::new();
    for (key, _, text) in SUBMODELS {
        let node = match serde_json::from_str::<Value>(text) {
            Ok(schema) => schema_node(&schema, &schema, 0),
            // Unparseable schema: the submodel is unknown shape, so all of it is restricted.
            Err(_) => TierNode::new(NodeKind::Scalar),
        };
        children.insert(key.to_owned(), node);
    }
    let mut root = TierNode::new(NodeKind::Object(children));
    let mut unknown_locations = Vec::new();
    for (path, nos) in FIELD_ATTRIBUTES {
        match root.at_path_mut(path) {
            Some(node) => {
                node.tier = Some(tier_of_attrs(nos));
                node.attrs = Some(nos);
            }
            None => unknown_locations.push((*path).to_owned()),
        }
    }
    Shape {
        root,
        unknown_locations,
    }
}

const MAX_SCHEMA_DEPTH: usize = 64;

/// Follow internal `$ref`s (`#/...`) to the schema they name.
fn resolve<'a>(root: &'a Value, mut schema: &'a Value) -> &'a Value {
    for _ in 0..MAX_SCHEMA_DEPTH {
        let Some(target) = schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|p| root.pointer(p))
        else {
            break;
        };
        schema = target;
    }
    schema
}

/// Properties of a schema, merged through `allOf`.
fn collect_properties<'a>(
    root: &'a Value,
    schema: &'a Value,
    depth: usize,
    out: &mut BTreeMap<&'a str, &'a Value>,
) {
    if depth > MAX_SCHEMA_DEPTH {
        return;
    }
    let schema = resolve(root, schema);
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for sub in all {
            collect_properties(root, sub, depth + 1, out);
        }
    }
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (k, v) in props {
            out.insert(k.as_str(), v);
        }
    }
}

fn schema_node(root: &Value, schema: &Value, depth: usize) -> TierNode {
    if depth > MAX_SCHEMA_DEPTH {
        return TierNode::new(NodeKind::Scalar);
    }
    let resolved = resolve(root, schema);
    if resolved.get("type").and_then(Value::as_str) == Some("array") {
        let item = match resolved.get("items") {
            Some(items) => schema_node(root, items, depth + 1),
            None => TierNode::new(NodeKind::Open),
        };
        return TierNode::new(NodeKind::Array(Box::new(item)));
    }
    let mut props = BTreeMap::new();
    collect_properties(root, schema, depth, &mut props);
    if !props.is_empty() {
        let children = props
            .into_iter()
            .map(|(k, v)| (k.to_owned(), schema_node(root, v, depth + 1)))
            .collect();
        return TierNode::new(NodeKind::Object(children));
    }
    match resolved.get("type").and_then(Value::as_str) {
        Some("object") | None => TierNode::new(NodeKind::Open),
        Some(_) => TierNode::new(NodeKind::Scalar),
    }
}

/// What the schema says about one leaf: its JSON type, format, enum and whether it is
/// required all the way down from the composite (see [`leaf_schemas`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LeafSchema {
    /// The leaf as a schema path (`/submodel/a/*/b`, `*` = any array index), as
    /// [`schema_leaf_paths`] gives it.
    pub path: String,
    /// The schema `type` (`string`, `number`, `integer`, `boolean`, `object`, …), if any.
    pub json_type: Option<String>,
    /// The schema `format` (`uri`, `date-time`, …), if any.
    pub format: Option<String>,
    /// The closed list of values, if the schema has an `enum` (values as compact JSON text
    /// for non-strings).
    pub enum_values: Vec<String>,
    /// Whether every member on the way down is in its parent's `required` list (an array on
    /// the way counts as required only with `minItems` ≥ 1). The seven submodels are required.
    pub required: bool,
}

static LEAF_SCHEMAS: LazyLock<Vec<LeafSchema>> = LazyLock::new(build_leaf_schemas);

/// Every leaf of the seven schemas with its type, format, enum and requiredness, sorted by
/// path — the same leaves as [`schema_leaf_paths`] (the walk mirrors the tier tree's).
pub(crate) fn leaf_schemas() -> &'static [LeafSchema] {
    &LEAF_SCHEMAS
}

fn build_leaf_schemas() -> Vec<LeafSchema> {
    let mut out = Vec::new();
    for (key, _, text) in SUBMODELS {
        let path = format!("/{}", tree::escape_token(key));
        match serde_json::from_str::<Value>(text) {
            Ok(schema) => leaf_walk(&schema, &schema, 0, &path, true, &mut out),
            Err(_) => out.push(LeafSchema {
                path,
                json_type: None,
                format: None,
                enum_values: Vec::new(),
                required: true,
            }),
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// `required` names of a schema, merged through `allOf` (as [`collect_properties`]).
fn collect_required<'a>(root: &'a Value, schema: &'a Value, depth: usize, out: &mut Vec<&'a str>) {
    if depth > MAX_SCHEMA_DEPTH {
        return;
    }
    let schema = resolve(root, schema);
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for sub in all {
            collect_required(root, sub, depth + 1, out);
        }
    }
    if let Some(req) = schema.get("required").and_then(Value::as_array) {
        out.extend(req.iter().filter_map(Value::as_str));
    }
}

/// The schema's `type`: a string, or the first non-`null` entry of a list.
fn schema_type(schema: &Value) -> Option<String> {
    match schema.get("type")? {
        Value::String(t) => Some(t.clone()),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .map(str::to_owned),
        _ => None,
    }
}

/// The same walk as [`schema_node`], recording each leaf's schema facts instead of a tree.
fn leaf_walk(
    root: &Value,
    schema: &Value,
    depth: usize,
    path: &str,
    required: bool,
    out: &mut Vec<LeafSchema>,
) {
    let leaf = |resolved: &Value, out: &mut Vec<LeafSchema>| {
        let str_of = |key: &str| {
            resolved
                .get(key)
                .or_else(|| schema.get(key))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let enum_values = resolved
            .get("enum")
            .or_else(|| schema.get("enum"))
            .and_then(Value::as_array)
            .map(|values| {
                values
                    .iter()
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(LeafSchema {
            path: path.to_owned(),
            json_type: schema_type(resolved).or_else(|| schema_type(schema)),
            format: str_of("format"),
            enum_values,
            required,
        });
    };
    if depth > MAX_SCHEMA_DEPTH {
        return leaf(schema, out);
    }
    let resolved = resolve(root, schema);
    if resolved.get("type").and_then(Value::as_str) == Some("array") {
        let min_items = resolved
            .get("minItems")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let item_path = format!("{path}/*");
        match resolved.get("items") {
            Some(items) => leaf_walk(
                root,
                items,
                depth + 1,
                &item_path,
                required && min_items > 0,
                out,
            ),
            None => out.push(LeafSchema {
                path: item_path,
                json_type: None,
                format: None,
                enum_values: Vec::new(),
                required: false,
            }),
        }
        return;
    }
    let mut props = BTreeMap::new();
    collect_properties(root, schema, depth, &mut props);
    if !props.is_empty() {
        let mut names = Vec::new();
        collect_required(root, schema, depth, &mut names);
        for (key, sub) in props {
            let child = format!("{path}/{}", tree::escape_token(key));
            let child_required = required && names.contains(&key);
            leaf_walk(root, sub, depth + 1, &child, child_required, out);
        }
        return;
    }
    leaf(resolved, out);
}

pub(crate) fn tier_root() -> &'static TierNode {
    &SHAPE.root
}

/// Every leaf location reachable in the seven schemas (`*` = any array index), sorted.
pub fn schema_leaf_paths() -> Vec<String> {
    let mut out = Vec::new();
    SHAPE.root.leaf_paths("", &mut out);
    out.sort();
    out
}

/// Locations in [`FIELD_ATTRIBUTES`] that do not exist in the schemas (empty when the table is
/// consistent).
pub fn unknown_mapping_locations() -> &'static [String] {
    &SHAPE.unknown_locations
}

/// The CSV attribute numbers that decide the tier at `pointer` (the most specific mapping on
/// the way down), or `None` when no mapping applies and the fail-closed default is used.
pub fn attributes_at(pointer: &str) -> Option<&'static [u16]> {
    tree::locate(&SHAPE.root, pointer).attrs()
}

type Compiled = Result<jsonschema::Validator, String>;

static VALIDATORS: LazyLock<Vec<Compiled>> = LazyLock::new(|| {
    SUBMODELS
        .iter()
        .map(|(_, name, text)| {
            let schema: Value =
                serde_json::from_str(text).map_err(|e| format!("{name} schema: {e}"))?;
            jsonschema::draft4::options()
                .should_validate_formats(true)
                .build(&schema)
                .map_err(|e| format!("{name} schema: {e}"))
        })
        .collect()
});

/// Validate a battery composite.
pub(crate) fn validate(data: &Value) -> Result<(), Vec<ValidationIssue>> {
    let mut issues = Vec::new();
    let Some(object) = data.as_object() else {
        issues.push(ValidationIssue::new(
            "",
            format!(r#"{} is not of type "object""#, issue::render(data)),
        ));
        return issue::finish(issues);
    };
    for key in object.keys() {
        if !SUBMODELS.iter().any(|(k, ..)| k == key) {
            issues.push(issue::unknown_key("", key));
        }
    }
    for ((key, ..), validator) in SUBMODELS.iter().zip(VALIDATORS.iter()) {
        let prefix = format!("/{key}");
        match (object.get(*key), validator) {
            (None, _) => issues.push(ValidationIssue::new(
                "",
                format!(r#""{key}" is a required property"#),
            )),
            (Some(value), Ok(validator)) => {
                issue::from_schema(validator, value, &prefix, &mut issues)
            }
            (Some(_), Err(e)) => issues.push(ValidationIssue::new(
                prefix,
                format!("cannot validate: embedded schema failed to compile ({e})"),
            )),
        }
    }
    issue::finish(issues)
}

/// Whether every embedded schema compiles (used by tests; validation fails closed otherwise).
pub fn schemas_compile() -> Result<(), String> {
    VALIDATORS
        .iter()
        .find_map(|v| v.as_ref().err().cloned())
        .map_or(Ok(()), Err)
}

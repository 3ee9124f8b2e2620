//! The public tier of a passport in human terms: what a consumer page shows, as data.
//!
//! [`public_facts`] reads the sector data of a *public* credential (already the public
//! view: nothing here decides access) and picks out what a person wants to know, in a fixed
//! order of [`Section`]s of [`Fact`]s. Labels and units are stable keys (`rated-capacity`,
//! [`Unit::AmpereHour`]), not text: the node's message catalogues word them per language.
//! For the battery sector the facts follow the BatteryPass 1.2.0 data model (its attribute
//! labels; units from its SAMM model); any other sector gets a generic rendering of its
//! data tree ([`generic_facts`]). Only what exists is shown; values that are not what the
//! model says (a string where a number belongs) are shown as text, never dropped silently
//! or made up.
//!
//! [`format_number`] writes a number the way a locale reads it (decimal comma, digit
//! grouping), since Fluent's `NUMBER()` does not.

use serde_json::Value;

/// A unit of a quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Ampere-hours (rated capacity).
    AmpereHour,
    /// Volts.
    Volt,
    /// Kilowatt-hours.
    KilowattHour,
    /// Kilograms.
    Kilogram,
    /// Kilograms of CO₂ equivalent per kWh (carbon footprint per functional unit).
    KgCo2ePerKwh,
    /// Kilograms of CO₂ equivalent.
    KgCo2e,
    /// Per cent.
    Percent,
    /// Charge-discharge cycles.
    Cycles,
}

impl Unit {
    /// Stable key of the unit (`unit-<key>` in the node's catalogues).
    pub fn key(self) -> &'static str {
        match self {
            Unit::AmpereHour => "ah",
            Unit::Volt => "v",
            Unit::KilowattHour => "kwh",
            Unit::Kilogram => "kg",
            Unit::KgCo2ePerKwh => "kgco2e-per-kwh",
            Unit::KgCo2e => "kgco2e",
            Unit::Percent => "percent",
            Unit::Cycles => "cycles",
        }
    }
}

/// One value as shown.
#[derive(Debug, Clone, PartialEq)]
pub enum Shown {
    /// Text as written in the passport.
    Text(String),
    /// A number with its unit.
    Quantity(f64, Unit),
    /// A plain number.
    Number(f64),
    /// A code from a closed list of the data model (`set`, `code`): the catalogues word it as
    /// `<set>-<code>`, or show the code itself when they do not know it.
    Term(&'static str, String),
    /// An `http`/`https` URL (anything else is [`Shown::Text`], never a link).
    Link(String),
    /// Text given per language (`{"en": …, "de": …}`), as (language, text) pairs.
    Localised(Vec<(String, String)>),
    /// Several values of one fact.
    List(Vec<Shown>),
    /// A group of facts under a heading (one recycled material, one hazardous substance).
    Group(Box<Shown>, Vec<Fact>),
}

/// A labelled value.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    /// Stable key of the label (`field-<key>` in the node's catalogues); for
    /// [`generic_facts`], the JSON Pointer of the value.
    pub label: String,
    /// The value.
    pub value: Shown,
}

/// A titled part of the page.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// Stable key of the heading (`section-<key>`).
    pub key: &'static str,
    /// Its facts, in order (never empty: empty sections are left out).
    pub facts: Vec<Fact>,
}

/// The facts of a passport's public sector data (`credentialSubject.data`).
pub fn public_facts(sector: &str, data: &Value) -> Vec<Section> {
    match sector {
        "battery" => battery_facts(data),
        // The generic sector's public view is `{"public": {…}}`: show what is inside.
        _ => match data.as_object() {
            Some(m) if m.len() == 1 => generic_facts(m.get("public").unwrap_or(data)),
            _ => generic_facts(data),
        },
    }
}

fn at<'a>(v: &'a Value, pointer: &str) -> Option<&'a Value> {
    v.pointer(pointer).filter(|v| !v.is_null())
}

fn text(v: &Value) -> Shown {
    match v {
        Value::String(s) if is_web_url(s) => Shown::Link(s.clone()),
        Value::String(s) => Shown::Text(s.clone()),
        Value::Number(n) => n
            .as_f64()
            .map_or_else(|| Shown::Text(n.to_string()), Shown::Number),
        Value::Bool(b) => Shown::Text(b.to_string()),
        Value::Array(items) => Shown::List(items.iter().map(text).collect()),
        Value::Object(m) => Shown::Text(
            m.iter()
                .filter_map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        Value::Null => Shown::Text(String::new()),
    }
}

fn quantity(v: &Value, unit: Unit) -> Shown {
    v.as_f64()
        .map_or_else(|| text(v), |n| Shown::Quantity(n, unit))
}

fn term(v: &Value, set: &'static str) -> Shown {
    v.as_str()
        .map_or_else(|| text(v), |s| Shown::Term(set, s.to_string()))
}

/// Whether `s` is an http(s) URL (the only kind shown as a link).
pub fn is_web_url(s: &str) -> bool {
    let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// A postal address as one line: street, postal code, country.
fn address(v: &Value) -> Option<Shown> {
    let parts: Vec<&str> = ["streetAddress", "postalCode", "addressCountry"]
        .iter()
        .filter_map(|k| v.get(k).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
        .collect();
    (!parts.is_empty()).then(|| Shown::Text(parts.join(", ")))
}

struct Builder<'a> {
    data: &'a Value,
    facts: Vec<Fact>,
}

impl<'a> Builder<'a> {
    fn new(data: &'a Value) -> Self {
        Builder {
            data,
            facts: Vec::new(),
        }
    }

    fn push(&mut self, label: &str, value: Option<Shown>) {
        if let Some(value) = value {
            self.facts.push(Fact {
                label: label.to_string(),
                value,
            });
        }
    }

    fn with(&mut self, label: &str, pointer: &str, f: impl FnOnce(&'a Value) -> Shown) {
        let v = at(self.data, pointer).map(f);
        self.push(label, v);
    }

    fn done(self, key: &'static str, out: &mut Vec<Section>) {
        if !self.facts.is_empty() {
            out.push(Section {
                key,
                facts: self.facts,
            });
        }
    }
}

const GPI: &str = "/generalProductInformation";
const PROPS: &str = "/performanceAndDurability/batteryTechicalProperties";
const CF: &str = "/carbonFootprintForBatteries";

fn battery_facts(d: &Value) -> Vec<Section> {
    let mut out = Vec::new();

    let mut s = Builder::new(d);
    s.with(
        "manufacturer",
        &format!("{GPI}/manufacturerInformation/contactName"),
        text,
    );
    s.push(
        "manufacturer-address",
        at(d, &format!("{GPI}/manufacturerInformation/postalAddress")).and_then(address),
    );
    s.with(
        "manufacturer-web",
        &format!("{GPI}/manufacturerInformation/webAddress"),
        text,
    );
    s.with(
        "manufacturer-email",
        &format!("{GPI}/manufacturerInformation/emailAddress"),
        text,
    );
    s.push(
        "manufacturing-place",
        at(d, &format!("{GPI}/manufacturingPlace")).and_then(address),
    );
    s.with(
        "manufacturing-date",
        &format!("{GPI}/manufacturingDate"),
        |v| match v.as_str() {
            // The date part of an RFC 3339 date-time.
            Some(t) => Shown::Text(t.get(..10).unwrap_or(t).to_string()),
            None => text(v),
        },
    );
    s.done("manufacturer", &mut out);

    let mut s = Builder::new(d);
    s.with("battery-category", &format!("{GPI}/batteryCategory"), |v| {
        term(v, "category")
    });
    s.with(
        "battery-chemistry",
        "/materialComposition/batteryChemistry",
        |v| {
            let short = v.get("shortName").and_then(Value::as_str);
            let clear = v.get("clearName").and_then(Value::as_str);
            match (short, clear) {
                (Some(s), Some(c)) => Shown::Text(format!("{s} ({c})")),
                (Some(x), None) | (None, Some(x)) => Shown::Text(x.to_string()),
                (None, None) => text(v),
            }
        },
    );
    s.with("battery-mass", &format!("{GPI}/batteryMass"), |v| {
        quantity(v, Unit::Kilogram)
    });
    s.with("battery-status", &format!("{GPI}/batteryStatus"), |v| {
        term(v, "battery-status")
    });
    s.done("battery", &mut out);

    let mut s = Builder::new(d);
    for (label, key, unit) in [
        ("rated-capacity", "ratedCapacity", Unit::AmpereHour),
        ("rated-energy", "ratedEnergy", Unit::KilowattHour),
        ("nominal-voltage", "nominalVoltage", Unit::Volt),
        ("minimum-voltage", "minimumVoltage", Unit::Volt),
        ("maximum-voltage", "maximumVoltage", Unit::Volt),
        ("expected-cycles", "expectedNumberOfCycles", Unit::Cycles),
        (
            "capacity-threshold",
            "capacityThresholdForExhaustion",
            Unit::Percent,
        ),
    ] {
        s.with(label, &format!("{PROPS}/{key}"), |v| quantity(v, unit));
    }
    s.with(
        "lifetime-reference-test",
        &format!("{PROPS}/lifetimeReferenceTest"),
        text,
    );
    s.done("performance", &mut out);

    let mut s = Builder::new(d);
    s.with(
        "carbon-footprint",
        &format!("{CF}/batteryCarbonFootprint"),
        |v| quantity(v, Unit::KgCo2ePerKwh),
    );
    s.with(
        "carbon-footprint-class",
        &format!("{CF}/carbonFootprintPerformanceClass"),
        text,
    );
    if let Some(stages) =
        at(d, &format!("{CF}/carbonFootprintPerLifecycleStage")).and_then(Value::as_array)
    {
        for stage in stages {
            if let (Some(name), Some(value)) = (
                stage.get("lifecycleStage").and_then(Value::as_str),
                stage.get("carbonFootprint"),
            ) {
                s.push(
                    &format!("stage-{}", kebab(name)),
                    Some(quantity(value, Unit::KgCo2ePerKwh)),
                );
            }
        }
    }
    s.with(
        "absolute-carbon-footprint",
        &format!("{CF}/absoluteCarbonFootprint"),
        |v| quantity(v, Unit::KgCo2e),
    );
    s.with(
        "carbon-footprint-study",
        &format!("{CF}/carbonFootprintStudy"),
        text,
    );
    s.done("carbon", &mut out);

    let mut s = Builder::new(d);
    if let Some(items) = at(d, "/circularity/recycledContent").and_then(Value::as_array) {
        for item in items {
            let mut g = Builder::new(item);
            g.with("pre-consumer-share", "/preConsumerShare", |v| {
                quantity(v, Unit::Percent)
            });
            g.with("post-consumer-share", "/postConsumerShare", |v| {
                quantity(v, Unit::Percent)
            });
            let title = item
                .get("recycledMaterial")
                .map_or(Shown::Text(String::new()), |v| term(v, "material"));
            s.push(
                "recycled-material",
                Some(Shown::Group(Box::new(title), g.facts)),
            );
        }
    }
    s.with("renewable-content", "/circularity/renewableContent", |v| {
        quantity(v, Unit::Percent)
    });
    s.done("recycled", &mut out);

    let mut s = Builder::new(d);
    if let Some(items) = at(d, "/materialComposition/hazardousSubstances").and_then(Value::as_array)
    {
        for item in items {
            let mut g = Builder::new(item);
            g.with("hazard-class", "/hazardousSubstanceClass", |v| {
                term(v, "hazard")
            });
            g.with("concentration", "/hazardousSubstanceConcentration", |v| {
                quantity(v, Unit::Percent)
            });
            g.with("cas-number", "/hazardousSubstanceIdentifier", text);
            g.with(
                "location",
                "/hazardousSubstanceLocation/componentName",
                text,
            );
            g.with("impact", "/hazardousSubstanceImpact", text);
            let title = item
                .get("hazardousSubstanceName")
                .map_or(Shown::Text(String::new()), text);
            s.push(
                "hazardous-substance",
                Some(Shown::Group(Box::new(title), g.facts)),
            );
        }
    }
    s.done("hazardous", &mut out);

    let mut s = Builder::new(d);
    if let Some(labels) = at(d, "/labeling/labels").and_then(Value::as_array) {
        for label in labels {
            if label.get("labelingSubject").and_then(Value::as_str) != Some("SeparateCollection") {
                continue;
            }
            if let Some(Value::Object(m)) = label.get("labelingMeaning") {
                let pairs = m
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect::<Vec<_>>();
                if !pairs.is_empty() {
                    s.push("separate-collection-label", Some(Shown::Localised(pairs)));
                }
            }
        }
    }
    for (label, key) in [
        ("waste-prevention", "wastePrevention"),
        ("separate-collection", "separateCollection"),
        ("collection-information", "informationOnCollection"),
    ] {
        s.with(
            label,
            &format!("/circularity/endOfLifeInformation/{key}"),
            text,
        );
    }
    s.with(
        "extinguishing-agent",
        "/circularity/safetyMeasures/extinguishingAgent",
        text,
    );
    s.with(
        "declaration-of-conformity",
        "/labeling/declarationOfConformity",
        text,
    );
    s.done("end-of-life", &mut out);

    out
}

/// `RawMaterialExtraction` → `raw-material-extraction`.
fn kebab(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else {
            out.push('-');
        }
    }
    out
}

/// At most this many facts from a generic data tree (a page, not a dump).
pub const GENERIC_MAX_FACTS: usize = 200;

/// A generic rendering of any data tree, as one section (`data`): one fact per top-level
/// member — a scalar or a list of scalars as it is, an object or a list of objects as a
/// group of its leaf values labelled by their path below the member (`site › city`). At
/// most [`GENERIC_MAX_FACTS`] values.
pub fn generic_facts(data: &Value) -> Vec<Section> {
    let mut facts = Vec::new();
    let mut count = 0usize;
    match data {
        Value::Object(m) => {
            for (k, v) in m {
                if count >= GENERIC_MAX_FACTS {
                    break;
                }
                if matches!(v, Value::Object(_) | Value::Array(_)) && !is_scalar_list(v) {
                    let mut group = Vec::new();
                    leaves(v, "", &mut group, &mut count);
                    if !group.is_empty() {
                        facts.push(Fact {
                            label: k.clone(),
                            value: Shown::Group(Box::new(Shown::Text(k.clone())), group),
                        });
                    }
                } else {
                    count += 1;
                    facts.push(Fact {
                        label: k.clone(),
                        value: text(v),
                    });
                }
            }
        }
        Value::Null => {}
        other => facts.push(Fact {
            label: String::new(),
            value: text(other),
        }),
    }
    if facts.is_empty() {
        return Vec::new();
    }
    vec![Section { key: "data", facts }]
}

fn is_scalar_list(v: &Value) -> bool {
    v.as_array().is_some_and(|a| {
        a.iter()
            .all(|x| !matches!(x, Value::Object(_) | Value::Array(_)))
    })
}

fn leaves(v: &Value, path: &str, out: &mut Vec<Fact>, count: &mut usize) {
    if *count >= GENERIC_MAX_FACTS {
        return;
    }
    let below = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path} › {k}")
        }
    };
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                leaves(x, &below(k), out, count);
            }
        }
        Value::Array(a) if !is_scalar_list(v) => {
            for (i, x) in a.iter().enumerate() {
                leaves(x, &below(&(i + 1).to_string()), out, count);
            }
        }
        _ => {
            *count += 1;
            out.push(Fact {
                label: path.to_string(),
                value: text(v),
            });
        }
    }
}

/// How a locale writes numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberStyle {
    /// The decimal separator.
    pub decimal: char,
    /// The digit-group separator (thousands).
    pub group: char,
}

impl NumberStyle {
    /// English: `5,850.5`.
    pub const EN: NumberStyle = NumberStyle {
        decimal: '.',
        group: ',',
    };
    /// German: `5.850,5`.
    pub const DE: NumberStyle = NumberStyle {
        decimal: ',',
        group: '.',
    };
    /// French: `5 850,5` (narrow no-break space).
    pub const FR: NumberStyle = NumberStyle {
        decimal: ',',
        group: '\u{202f}',
    };
}

/// `n` as `style` writes it: the shortest decimal that reads back as `n` (no exponent between
/// 1e-6 and 1e15; beyond, scientific notation), digits grouped by three from 10 000 up.
pub fn format_number(n: f64, style: NumberStyle) -> String {
    if !n.is_finite() {
        return n.to_string();
    }
    let abs = n.abs();
    if abs != 0.0 && !(1e-6..1e15).contains(&abs) {
        return format!("{n:e}").replace('.', &style.decimal.to_string());
    }
    let plain = format!("{n}");
    let (sign, digits) = plain
        .strip_prefix('-')
        .map_or(("", plain.as_str()), |d| ("-", d));
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let mut out = String::with_capacity(plain.len() + 4);
    out.push_str(sign);
    if int.len() > 4 {
        for (i, c) in int.chars().enumerate() {
            if i > 0 && (int.len() - i) % 3 == 0 {
                out.push(style.group);
            }
            out.push(c);
        }
    } else {
        out.push_str(int);
    }
    if !frac.is_empty() {
        out.push(style.decimal);
        out.push_str(frac);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_are_written_per_locale() {
        assert_eq!(format_number(0.0508, NumberStyle::EN), "0.0508");
        assert_eq!(format_number(0.0508, NumberStyle::DE), "0,0508");
        assert_eq!(format_number(355.2, NumberStyle::FR), "355,2");
        assert_eq!(format_number(5850.0, NumberStyle::EN), "5850");
        assert_eq!(format_number(85000.0, NumberStyle::EN), "85,000");
        assert_eq!(format_number(85000.0, NumberStyle::DE), "85.000");
        assert_eq!(
            format_number(1234567.25, NumberStyle::FR),
            "1\u{202f}234\u{202f}567,25"
        );
        assert_eq!(format_number(-12500.5, NumberStyle::DE), "-12.500,5");
        assert_eq!(format_number(1500.0, NumberStyle::DE), "1500");
        assert_eq!(format_number(-1.79e308, NumberStyle::EN), "-1.79e308");
        assert_eq!(format_number(2.5e-9, NumberStyle::DE), "2,5e-9");
        assert_eq!(format_number(0.0, NumberStyle::EN), "0");
    }

    #[test]
    fn battery_facts_follow_the_data_model_and_show_only_what_exists() {
        let data = json!({
            "generalProductInformation": {
                "batteryCategory": "ev",
                "manufacturerInformation": {"contactName": "Cells GmbH",
                    "postalAddress": {"streetAddress": "Werkstraße 12", "postalCode": "38440", "addressCountry": "DE"}},
            },
            "performanceAndDurability": {"batteryTechicalProperties": {
                "ratedCapacity": 216.0, "nominalVoltage": "about 355", "expectedNumberOfCycles": 1500}},
            "materialComposition": {"hazardousSubstances": [
                {"hazardousSubstanceName": "LiPF6", "hazardousSubstanceClass": "AcuteToxicity",
                 "hazardousSubstanceConcentration": 12.5}]},
            "circularity": {"endOfLifeInformation": {"wastePrevention": "telnet://x.example"}},
            "labeling": {"labels": [{"labelingSubject": "SeparateCollection",
                "labelingMeaning": {"en": "Collect separately", "de": "Getrennt sammeln"}}]},
        });
        let s = public_facts("battery", &data);
        let keys: Vec<&str> = s.iter().map(|s| s.key).collect();
        assert_eq!(
            keys,
            [
                "manufacturer",
                "battery",
                "performance",
                "hazardous",
                "end-of-life"
            ]
        );
        assert_eq!(
            s[0].facts[1].value,
            Shown::Text("Werkstraße 12, 38440, DE".into())
        );
        assert_eq!(s[1].facts[0].value, Shown::Term("category", "ev".into()));
        let perf = &s[2].facts;
        assert_eq!(perf[0].value, Shown::Quantity(216.0, Unit::AmpereHour));
        // Not a number as the model says: shown as written.
        assert_eq!(perf[1].value, Shown::Text("about 355".into()));
        assert_eq!(perf[2].value, Shown::Quantity(1500.0, Unit::Cycles));
        let Shown::Group(title, facts) = &s[3].facts[0].value else {
            panic!("{:?}", s[3]);
        };
        assert_eq!(**title, Shown::Text("LiPF6".into()));
        assert_eq!(
            facts[0].value,
            Shown::Term("hazard", "AcuteToxicity".into())
        );
        let eol = &s[4].facts;
        assert!(matches!(&eol[0].value, Shown::Localised(p) if p.len() == 2));
        // Only http(s) becomes a link.
        assert_eq!(eol[1].value, Shown::Text("telnet://x.example".into()));
    }

    #[test]
    fn the_demo_battery_fills_every_section() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../hallmark/demo/ev-battery.json"
        );
        let draft: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let s = public_facts("battery", &draft["data"]);
        assert_eq!(s.len(), 7, "{s:#?}");
        assert!(s[3]
            .facts
            .iter()
            .any(|f| f.label == "stage-raw-material-extraction"));
    }

    #[test]
    fn generic_data_is_shown_as_a_tree_of_leaves() {
        let s = generic_facts(&json!({"name": "Chair", "tags": ["oak", "FSC"],
            "origin": {"country": "PT", "site": {"city": "Porto"}}, "parts": [{"n": 1}]}));
        assert_eq!(s.len(), 1);
        let labels: Vec<&str> = s[0].facts.iter().map(|f| f.label.as_str()).collect();
        assert_eq!(labels, ["name", "origin", "parts", "tags"]);
        assert_eq!(
            s[0].facts[3].value,
            Shown::List(vec![Shown::Text("oak".into()), Shown::Text("FSC".into())])
        );
        let Shown::Group(_, facts) = &s[0].facts[1].value else {
            panic!()
        };
        assert_eq!(facts[1].label, "site › city");
        let Shown::Group(_, facts) = &s[0].facts[2].value else {
            panic!()
        };
        assert_eq!(facts[0].label, "1 › n");
        // The generic sector's public view is shown from inside its tier object.
        let s = public_facts("generic", &json!({"public": {"name": "Chair"}}));
        assert_eq!(s[0].facts[0].label, "name");
    }
}

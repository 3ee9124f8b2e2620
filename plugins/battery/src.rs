//! Hallmark battery plugin (ABI 1): BatteryPass 1.2.0 rules JSON Schema cannot express —
//! physically impossible values (negative or absurd voltages, capacities, energies, masses;
//! shares and concentrations outside 0–100 %), non-http(s) addresses, carbon footprint
//! performance classes outside the regulation's, dates in the wrong order, sums and
//! cross-field relations, and what the Battery Regulation requires per category. Units are
//! the BatteryPass 1.2.0 model's (`docs/plugins.md`, "The battery plugin's rules").
//!
//! Built with Debian's `rustc` for `wasm32-unknown-unknown` by `build.sh` (no cargo, no
//! dependencies). Safe Rust only: `#[no_mangle]` on the four exports is the sole exception.
//! The host writes the input into `INPUT` (which `hallmark_alloc` sized) and reads the
//! answer from `OUTPUT`.
#![deny(unsafe_code)]

use std::sync::Mutex;

static INPUT: Mutex<Vec<u8>> = Mutex::new(Vec::new());
static OUTPUT: Mutex<Vec<u8>> = Mutex::new(Vec::new());

const DESCRIBE: &str = "{\"abi\":1,\"name\":\"hallmark-battery\",\"version\":\"0.2.1\",\"sectors\":[{\"id\":\"battery\",\"schemaVersions\":[\"1.2.0\"]}]}";

fn lock(m: &'static Mutex<Vec<u8>>) -> std::sync::MutexGuard<'static, Vec<u8>> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

fn answer(bytes: &[u8]) -> u64 {
    let mut out = lock(&OUTPUT);
    out.clear();
    out.extend_from_slice(bytes);
    ((out.as_ptr() as usize as u64) << 32) | out.len() as u64
}

#[allow(unsafe_code)] // no_mangle only
#[no_mangle]
pub extern "C" fn hallmark_alloc(len: i32) -> i32 {
    let mut input = lock(&INPUT);
    input.clear();
    input.resize(len.max(0) as usize, 0);
    input.as_mut_ptr() as usize as i32
}

#[allow(unsafe_code)] // no_mangle only
#[no_mangle]
pub extern "C" fn hallmark_describe() -> u64 {
    answer(DESCRIBE.as_bytes())
}

#[allow(unsafe_code)] // no_mangle only
#[no_mangle]
pub extern "C" fn hallmark_validate(_ptr: i32, len: i32) -> u64 {
    let input = lock(&INPUT);
    let n = (len.max(0) as usize).min(input.len());
    let mut findings = Findings(Vec::new());
    match Parser::new(&input[..n]).document() {
        Some(doc) => match doc.get("data") {
            Some(data) => check(data, &mut findings),
            None => findings.error("", "input has no data member"),
        },
        None => findings.error("", "input is not JSON this plugin can read"),
    }
    drop(input);
    answer(findings.to_json().as_bytes())
}

// ---------------------------------------------------------------- minimal JSON reader

enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    fn num(&self) -> Option<f64> {
        match self {
            Json::Num(n) => Some(*n),
            _ => None,
        }
    }
    fn str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }
    fn arr(&self) -> &[Json] {
        match self {
            Json::Arr(a) => a,
            _ => &[],
        }
    }
    fn present(&self) -> bool {
        !matches!(self, Json::Null)
    }
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
    depth: u32,
}

impl<'a> Parser<'a> {
    fn new(b: &'a [u8]) -> Self {
        Parser { b, i: 0, depth: 0 }
    }
    fn document(mut self) -> Option<Json> {
        let v = self.value()?;
        self.ws();
        if self.i == self.b.len() {
            Some(v)
        } else {
            None
        }
    }
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> Option<()> {
        self.ws();
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }
    fn lit(&mut self, s: &[u8], v: Json) -> Option<Json> {
        if self.b.get(self.i..self.i + s.len()) == Some(s) {
            self.i += s.len();
            Some(v)
        } else {
            None
        }
    }
    fn value(&mut self) -> Option<Json> {
        self.ws();
        if self.depth > 64 {
            return None;
        }
        match *self.b.get(self.i)? {
            b'n' => self.lit(b"null", Json::Null),
            b't' => self.lit(b"true", Json::Bool(true)),
            b'f' => self.lit(b"false", Json::Bool(false)),
            b'"' => self.string().map(Json::Str),
            b'[' => {
                self.i += 1;
                self.depth += 1;
                let mut items = Vec::new();
                if self.eat(b']').is_none() {
                    loop {
                        items.push(self.value()?);
                        if self.eat(b',').is_none() {
                            self.eat(b']')?;
                            break;
                        }
                    }
                }
                self.depth -= 1;
                Some(Json::Arr(items))
            }
            b'{' => {
                self.i += 1;
                self.depth += 1;
                let mut members = Vec::new();
                if self.eat(b'}').is_none() {
                    loop {
                        self.ws();
                        let k = self.string()?;
                        self.eat(b':')?;
                        members.push((k, self.value()?));
                        if self.eat(b',').is_none() {
                            self.eat(b'}')?;
                            break;
                        }
                    }
                }
                self.depth -= 1;
                Some(Json::Obj(members))
            }
            _ => {
                let start = self.i;
                while self.i < self.b.len()
                    && matches!(
                        self.b[self.i],
                        b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'
                    )
                {
                    self.i += 1;
                }
                std::str::from_utf8(&self.b[start..self.i])
                    .ok()?
                    .parse()
                    .ok()
                    .map(Json::Num)
            }
        }
    }
    fn string(&mut self) -> Option<String> {
        if self.b.get(self.i) != Some(&b'"') {
            return None;
        }
        self.i += 1;
        // Fast path: no escape before the closing quote.
        let start = self.i;
        let mut j = start;
        while j < self.b.len() {
            match self.b[j] {
                b'"' => {
                    self.i = j + 1;
                    return std::str::from_utf8(&self.b[start..j]).ok().map(String::from);
                }
                b'\\' => break,
                _ => j += 1,
            }
        }
        let mut out: Vec<u8> = self.b[start..j].to_vec();
        self.i = j;
        loop {
            let c = *self.b.get(self.i)?;
            self.i += 1;
            match c {
                b'"' => return String::from_utf8(out).ok(),
                b'\\' => {
                    let e = *self.b.get(self.i)?;
                    self.i += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        // \u escapes (surrogates become U+FFFD): names and codes here are ASCII.
                        b'u' => {
                            let h = std::str::from_utf8(self.b.get(self.i..self.i + 4)?).ok()?;
                            self.i += 4;
                            char::from_u32(u32::from_str_radix(h, 16).ok()?).unwrap_or('\u{fffd}')
                        }
                        _ => return None,
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                _ => out.push(c),
            }
        }
    }
}

// ---------------------------------------------------------------- findings

struct Findings(Vec<(String, &'static str, String)>);

impl Findings {
    fn error(&mut self, pointer: &str, message: &str) {
        self.0
            .push((pointer.to_string(), "error", message.to_string()));
    }
    fn warning(&mut self, pointer: &str, message: &str) {
        self.0
            .push((pointer.to_string(), "warning", message.to_string()));
    }
    /// Whether an error was already reported at `pointer` (one error per value is enough).
    fn has_error(&self, pointer: &str) -> bool {
        self.0
            .iter()
            .any(|(p, sev, _)| p == pointer && *sev == "error")
    }
    fn to_json(&self) -> String {
        let mut s = String::from("{\"findings\":[");
        for (i, (p, sev, m)) in self.0.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str("{\"pointer\":");
            quote(&mut s, p);
            s.push_str(",\"severity\":\"");
            s.push_str(sev);
            s.push_str("\",\"message\":");
            quote(&mut s, m);
            s.push('}');
        }
        s.push_str("]}");
        s
    }
}

fn quote(s: &mut String, v: &str) {
    s.push('"');
    for c in v.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            c if (c as u32) < 0x20 => s.push_str(&format!("\\u{:04x}", c as u32)),
            c => s.push(c),
        }
    }
    s.push('"');
}

/// A number as a person reads it: plain for ordinary magnitudes, scientific otherwise (an
/// f64 `Display` spells 1e308 with 309 digits).
fn num(v: f64) -> String {
    if v != 0.0 && (v.abs() >= 1e9 || v.abs() < 1e-6) {
        format!("{:e}", v)
    } else {
        format!("{}", v)
    }
}

// ---------------------------------------------------------------- walking the data

/// Every value at `pattern`, a JSON pointer in which `*` stands for each index of an array,
/// with its concrete pointer.
fn each<'a>(data: &'a Json, pattern: &str) -> Vec<(String, &'a Json)> {
    fn walk<'a>(v: &'a Json, parts: &[&str], at: &mut String, out: &mut Vec<(String, &'a Json)>) {
        let (first, rest) = match parts.split_first() {
            Some(x) => x,
            None => {
                out.push((at.clone(), v));
                return;
            }
        };
        let len = at.len();
        let next = match (first, v) {
            (&"*", _) => {
                for (i, item) in v.arr().iter().enumerate() {
                    at.push('/');
                    push_index(at, i);
                    walk(item, rest, at, out);
                    at.truncate(len);
                }
                return;
            }
            (index, Json::Arr(items)) => index.parse::<usize>().ok().and_then(|i| items.get(i)),
            (key, _) => v.get(key),
        };
        if let Some(next) = next {
            at.push('/');
            at.push_str(first);
            walk(next, rest, at, out);
            at.truncate(len);
        }
    }
    let parts: Vec<&str> = pattern.split('/').skip(1).collect();
    let mut out = Vec::new();
    walk(data, &parts, &mut String::with_capacity(96), &mut out);
    out
}

/// The value at a concrete pointer (no `*`), found the way [`each`] finds it, without
/// spelling out pointers.
fn at<'a>(data: &'a Json, pointer: &str) -> Option<&'a Json> {
    if pointer.contains('*') {
        return each(data, pointer).into_iter().next().map(|(_, v)| v);
    }
    let mut v = data;
    for part in pointer.split('/').skip(1) {
        v = match v {
            Json::Arr(items) => items.get(part.parse::<usize>().ok()?)?,
            _ => v.get(part)?,
        };
    }
    Some(v)
}

fn push_index(s: &mut String, i: usize) {
    let mut buf = [0u8; 20];
    let mut n = i;
    let mut k = buf.len();
    loop {
        k -= 1;
        buf[k] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &b in &buf[k..] {
        s.push(b as char);
    }
}

/// The number at a concrete pointer, if there is one.
fn number_at(data: &Json, pointer: &str) -> Option<f64> {
    at(data, pointer).and_then(Json::num)
}

/// Calls `visit` with every member of every object under `v`, depth first (a member before
/// its own members), with its pointer.
fn members<'a>(v: &'a Json, at: &mut String, visit: &mut dyn FnMut(&str, &'a str, &'a Json)) {
    let len = at.len();
    match v {
        Json::Obj(ms) => {
            for (k, x) in ms {
                at.push('/');
                escape_into(at, k);
                visit(at, k.as_str(), x);
                members(x, at, visit);
                at.truncate(len);
            }
        }
        Json::Arr(items) => {
            for (i, x) in items.iter().enumerate() {
                at.push('/');
                push_index(at, i);
                members(x, at, visit);
                at.truncate(len);
            }
        }
        _ => {}
    }
}

/// RFC 6901 escaping of one reference token, appended to `s`.
fn escape_into(s: &mut String, key: &str) {
    if !key.bytes().any(|b| b == b'~' || b == b'/') {
        s.push_str(key);
        return;
    }
    for c in key.chars() {
        match c {
            '~' => s.push_str("~0"),
            '/' => s.push_str("~1"),
            c => s.push(c),
        }
    }
}

// ---------------------------------------------------------------- rules

fn check(data: &Json, f: &mut Findings) {
    ranges(data, f);
    recycled_content(data, f);
    carbon_footprint(data, f);
    performance_class(data, f);
    voltages(data, f);
    energy(data, f);
    material_mass(data, f);
    addresses(data, f);
    mime_types(data, f);
    dates(data, f);
    required_by_category(data, f);
    magnitudes(data, f);
}

/// A physically possible range for a quantity, in the BatteryPass 1.2.0 model's unit.
struct Range {
    pattern: &'static str,
    what: &'static str,
    unit: &'static str,
    min: f64,
    /// `true`: the minimum itself is impossible (a battery with 0 V, 0 Ah, 0 kg).
    above_min: bool,
    max: f64,
    whole: bool,
}

const fn r(
    pattern: &'static str,
    what: &'static str,
    unit: &'static str,
    min: f64,
    above_min: bool,
    max: f64,
) -> Range {
    Range {
        pattern,
        what,
        unit,
        min,
        above_min,
        max,
        whole: false,
    }
}

impl Range {
    /// The same range, for a count: only whole numbers.
    const fn whole(self) -> Range {
        Range {
            whole: true,
            ..self
        }
    }
}

const TECH: &str = "/performanceAndDurability/batteryTechicalProperties";
const COND: &str = "/performanceAndDurability/batteryCondition";

/// Ranges outside which a value is impossible (or off by orders of magnitude): generous
/// bounds above the largest batteries in any category, exact bounds for percentages.
const RANGES: &[Range] = &[
    r("/generalProductInformation/batteryMass", "battery mass", "kg", 0.0, true, 100_000.0),
    r("/carbonFootprintForBatteries/carbonFootprintPerLifecycleStage/*/carbonFootprint", "carbon footprint of a lifecycle stage", "kg CO2e/kWh", 0.0, false, 1_000.0),
    r("/carbonFootprintForBatteries/batteryCarbonFootprint", "battery carbon footprint", "kg CO2e/kWh", 0.0, false, 1_000.0),
    r("/carbonFootprintForBatteries/absoluteCarbonFootprint", "absolute carbon footprint", "kg CO2e", 0.0, false, 100_000_000.0),
    r("/supplyChainDueDiligence/supplyChainIndicies", "supply chain index", "", 0.0, false, 100.0),
    r("/materialComposition/batteryMaterials/*/batteryMaterialMass", "material mass", "g", 0.0, true, 100_000_000.0),
    r("/materialComposition/hazardousSubstances/*/hazardousSubstanceConcentration", "concentration", "%", 0.0, false, 100.0),
    r("/circularity/renewableContent", "renewable content", "%", 0.0, false, 100.0),
    r("/circularity/recycledContent/*/preConsumerShare", "pre-consumer recycled share", "%", 0.0, false, 100.0),
    r("/circularity/recycledContent/*/postConsumerShare", "post-consumer recycled share", "%", 0.0, false, 100.0),
    r("/performanceAndDurability/batteryTechicalProperties/nominalVoltage", "nominal voltage", "V", 0.0, true, 2_000.0),
    r("/performanceAndDurability/batteryTechicalProperties/minimumVoltage", "minimum voltage", "V", 0.0, true, 2_000.0),
    r("/performanceAndDurability/batteryTechicalProperties/maximumVoltage", "maximum voltage", "V", 0.0, true, 2_000.0),
    r("/performanceAndDurability/batteryTechicalProperties/ratedCapacity", "rated capacity", "Ah", 0.0, true, 100_000.0),
    r("/performanceAndDurability/batteryTechicalProperties/ratedEnergy", "rated energy", "kWh", 0.0, true, 100_000.0),
    r("/performanceAndDurability/batteryTechicalProperties/ratedMaximumPower", "rated maximum power", "kW", 0.0, true, 100_000.0),
    r("/performanceAndDurability/batteryTechicalProperties/originalPowerCapability/*/atSoC", "state of charge", "%", 0.0, false, 100.0),
    r("/performanceAndDurability/batteryTechicalProperties/originalPowerCapability/*/powerCapabilityAt", "power capability", "", 0.0, false, 100_000.0),
    r("/performanceAndDurability/batteryTechicalProperties/powerCapabilityRatio", "power capability ratio", "W/Wh", 0.0, true, 1_000.0),
    r("/performanceAndDurability/batteryTechicalProperties/cRate", "C-rate", "C", 0.0, true, 1_000.0),
    r("/performanceAndDurability/batteryTechicalProperties/cRateLifeCycleTest", "C-rate of the cycle-life test", "C", 0.0, true, 1_000.0),
    r("/performanceAndDurability/batteryTechicalProperties/expectedNumberOfCycles", "expected number of cycles", "", 0.0, true, 1_000_000.0).whole(),
    r("/performanceAndDurability/batteryTechicalProperties/expectedLifetime", "expected lifetime", "years", 0.0, true, 100.0),
    r("/performanceAndDurability/batteryTechicalProperties/initialSelfDischarge", "initial self-discharge", "%/month", 0.0, false, 100.0),
    r("/performanceAndDurability/batteryTechicalProperties/roundtripEfficiency", "round-trip efficiency", "%", 0.0, true, 100.0),
    r("/performanceAndDurability/batteryTechicalProperties/initialInternalResistance/*/ohmicResistance", "internal resistance", "Ω", 0.0, true, 1_000.0),
    r("/performanceAndDurability/batteryTechicalProperties/capacityThresholdForExhaustion", "capacity threshold for exhaustion", "%", 0.0, false, 100.0),
    r("/performanceAndDurability/batteryCondition/energyThroughput", "energy throughput", "kWh", 0.0, false, 1_000_000_000.0),
    r("/performanceAndDurability/batteryCondition/capacityThroughput/capacityThroughputValue", "capacity throughput", "Ah", 0.0, false, 1_000_000_000.0),
    r("/performanceAndDurability/batteryCondition/numberOfFullCycles/numberOfFullCyclesValue", "number of full cycles", "", 0.0, false, 1_000_000.0).whole(),
    r("/performanceAndDurability/batteryCondition/stateOfCertifiedEnergy/stateOfCertifiedEnergyValue", "state of certified energy", "%", 0.0, false, 100.0),
    r("/performanceAndDurability/batteryCondition/capacityFade/capacityFadeValue", "capacity fade", "%", 0.0, false, 100.0),
    r("/performanceAndDurability/batteryCondition/remainingEnergy/remainingEnergyalue", "remaining energy", "kWh", 0.0, false, 100_000.0),
    r("/performanceAndDurability/batteryCondition/remainingCapacity/remainingCapacityValue", "remaining capacity", "", 0.0, false, 100_000.0),
    r("/performanceAndDurability/batteryCondition/temperatureInformation/timeExtremeHighTemp", "time above the temperature range", "min", 0.0, false, 100_000_000.0),
    r("/performanceAndDurability/batteryCondition/temperatureInformation/timeExtremeLowTemp", "time below the temperature range", "min", 0.0, false, 100_000_000.0),
    r("/performanceAndDurability/batteryCondition/temperatureInformation/timeExtremeHighTempCharging", "time charging above the temperature range", "min", 0.0, false, 100_000_000.0),
    r("/performanceAndDurability/batteryCondition/temperatureInformation/timeExtremeLowTempCharging", "time charging below the temperature range", "min", 0.0, false, 100_000_000.0),
    r("/performanceAndDurability/batteryCondition/remainingPowerCapability/*/remainingPowerCapabilityValue/atSoC", "state of charge", "%", 0.0, false, 100.0),
    r("/performanceAndDurability/batteryCondition/remainingPowerCapability/*/remainingPowerCapabilityValue/powerCapabilityAt", "remaining power capability", "", 0.0, false, 100_000.0),
    r("/performanceAndDurability/batteryCondition/powerFade", "power fade", "%", 0.0, false, 100.0),
    r("/performanceAndDurability/batteryCondition/roundTripEfficiencyFade", "round-trip efficiency fade", "%", 0.0, false, 100.0),
    r("/performanceAndDurability/batteryCondition/evolutionOfSelfDischarge/evolutionOfSelfDischargeEntityValue", "evolution of self-discharge", "%", -100.0, false, 10_000.0),
    r("/performanceAndDurability/batteryCondition/currentSelfDischargingRate/currentSelfDischargingRateEntity", "current self-discharge rate", "%", 0.0, false, 100.0),
    r("/performanceAndDurability/batteryCondition/internalResistanceIncrease/*/internalResistanceIncreaseValue", "internal resistance increase", "%", -100.0, false, 10_000.0),
    r("/performanceAndDurability/batteryCondition/roundTripEfficiencyat50PerCentCycleLife", "round-trip efficiency at 50 % of cycle life", "%", 0.0, true, 100.0),
    r("/performanceAndDurability/batteryCondition/remainingRoundTripEnergyEfficiency/remainingRoundTripEnergyEfficiencyValue", "remaining round-trip efficiency", "%", 0.0, false, 100.0),
    r("/performanceAndDurability/batteryCondition/stateOfCharge/stateOfChargeValue", "state of charge", "%", 0.0, false, 100.0),
];

fn in_range(range: &Range, v: f64) -> bool {
    let low = if range.above_min {
        v > range.min
    } else {
        v >= range.min
    };
    v.is_finite() && low && v <= range.max && (!range.whole || v.fract() == 0.0)
}

/// Whether the number at `pointer` is present and within its [`RANGES`] entry (the checks
/// that relate several values run only on values that are possible on their own).
fn possible(data: &Json, pointer: &str) -> Option<f64> {
    let v = number_at(data, pointer)?;
    let ok = RANGES
        .iter()
        .filter(|r| matches_pattern(r.pattern, pointer))
        .all(|r| in_range(r, v));
    if ok {
        Some(v)
    } else {
        None
    }
}

/// Whether a concrete pointer is one of the pointers `pattern` stands for (`*`: an index).
/// Compares segment by segment, byte by byte (it runs for every range on every lookup).
fn matches_pattern(pattern: &str, pointer: &str) -> bool {
    // Most ranges differ from the pointer in the last segment: check it first.
    if let Some(k) = pattern.rfind('/') {
        let last = &pattern[k..];
        if last != "/*" && !pointer.ends_with(last) {
            return false;
        }
    }
    let (p, q) = (pattern.as_bytes(), pointer.as_bytes());
    let (mut i, mut j) = (0, 0);
    loop {
        if i == p.len() && j == q.len() {
            return true;
        }
        let star = i < p.len()
            && p[i] == b'*'
            && (i == 0 || p[i - 1] == b'/')
            && (i + 1 == p.len() || p[i + 1] == b'/');
        if star {
            let start = j;
            while j < q.len() && q[j] != b'/' {
                j += 1;
            }
            let segment = &q[start..j];
            let index = !segment.is_empty() && segment.iter().all(u8::is_ascii_digit);
            if !(index || segment == b"*") {
                return false;
            }
            i += 1;
            continue;
        }
        if i < p.len() && j < q.len() && p[i] == q[j] {
            i += 1;
            j += 1;
            continue;
        }
        return false;
    }
}

/// Each quantity within its physically possible range.
fn ranges(data: &Json, f: &mut Findings) {
    for range in RANGES {
        for (pointer, v) in each(data, range.pattern) {
            let v = match v.num() {
                Some(v) => v,
                None => continue,
            };
            if in_range(range, v) {
                continue;
            }
            let unit = if range.unit.is_empty() {
                String::new()
            } else {
                format!(" {}", range.unit)
            };
            let low = if range.above_min { "above" } else { "at least" };
            let kind = if range.whole { "a whole number " } else { "" };
            f.error(
                &pointer,
                &format!(
                    "{} {}{} is not physically possible: expected {}{} {}{} and at most {}{}",
                    range.what,
                    num(v),
                    unit,
                    kind,
                    low,
                    num(range.min),
                    unit,
                    num(range.max),
                    unit
                ),
            );
        }
    }
}

/// Elements each chemistry (BatteryPass `batteryChemistry.shortName`) contains, as the
/// `recycledMaterial` names of Art. 8 (cobalt, lead, lithium, nickel).
fn chemistry_materials(short_name: &str) -> Option<&'static [&'static str]> {
    Some(match short_name.to_ascii_uppercase().as_str() {
        "NMC" | "NCM" | "NCA" | "LCO" => &["Cobalt", "Lithium", "Nickel"],
        "LFP" | "LMO" | "LMFP" | "LTO" => &["Lithium"],
        "PBA" | "PB-ACID" | "LEAD-ACID" => &["Lead"],
        "NIMH" | "NICD" => &["Nickel", "Cobalt"],
        _ => return None,
    })
}

/// Art. 8: pre- and post-consumer shares of one material together cannot exceed 100 %; the
/// material should be in the chemistry.
fn recycled_content(data: &Json, f: &mut Findings) {
    let chemistry = data
        .get("materialComposition")
        .and_then(|m| m.get("batteryChemistry"))
        .and_then(|c| c.get("shortName"))
        .and_then(Json::str);
    for (base, rc) in each(data, "/circularity/recycledContent/*") {
        let pre = possible(data, &format!("{}/preConsumerShare", base));
        let post = possible(data, &format!("{}/postConsumerShare", base));
        if let (Some(pre), Some(post)) = (pre, post) {
            if pre + post > 100.0 + 1e-9 {
                f.error(
                    &base,
                    &format!(
                        "pre-consumer ({}) and post-consumer ({}) recycled shares add up to more than 100 %",
                        num(pre),
                        num(post)
                    ),
                );
            }
        }
        if let (Some(chem), Some(material)) =
            (chemistry, rc.get("recycledMaterial").and_then(Json::str))
        {
            if let Some(allowed) = chemistry_materials(chem) {
                if !allowed.iter().any(|m| m.eq_ignore_ascii_case(material)) {
                    f.warning(
                        &format!("{}/recycledMaterial", base),
                        &format!(
                            "recycled {} reported for a {} battery, which does not contain it",
                            material, chem
                        ),
                    );
                }
            }
        }
    }
}

/// Art. 7 / Annex II: the lifecycle stages sum to the battery's carbon footprint (1 %
/// relative tolerance); each stage appears once.
fn carbon_footprint(data: &Json, f: &mut Findings) {
    let base = "/carbonFootprintForBatteries";
    let stages = each(
        data,
        "/carbonFootprintForBatteries/carbonFootprintPerLifecycleStage/*",
    );
    let mut seen: Vec<&str> = Vec::new();
    let mut sum = 0.0f64;
    let mut all_possible = true;
    for (pointer, st) in &stages {
        if let Some(stage) = st.get("lifecycleStage").and_then(Json::str) {
            if seen.contains(&stage) {
                f.error(
                    &format!("{}/lifecycleStage", pointer),
                    &format!("lifecycle stage {} appears more than once", stage),
                );
            }
            seen.push(stage);
        }
        match possible(data, &format!("{}/carbonFootprint", pointer)) {
            Some(v) => sum += v,
            None => all_possible = false,
        }
    }
    if !all_possible || stages.is_empty() {
        return;
    }
    let total_at = format!("{}/batteryCarbonFootprint", base);
    if let Some(total) = possible(data, &total_at) {
        let tol = (total.abs() * 0.01).max(1e-6);
        if (sum - total).abs() > tol {
            f.error(
                &total_at,
                &format!(
                    "lifecycle stages sum to {}, not to the declared total {} (tolerance 1 %)",
                    num(sum),
                    num(total)
                ),
            );
        }
    }
}

/// Art. 7(2), Annex II point 4: carbon footprint performance classes are letters, class A
/// the best (lowest impact). The delegated act fixing their number is pending; the plugin
/// accepts A to G (the EU label scale) and nothing else.
fn performance_class(data: &Json, f: &mut Findings) {
    let pointer = "/carbonFootprintForBatteries/carbonFootprintPerformanceClass";
    if let Some(class) = at(data, pointer).and_then(Json::str) {
        if !matches!(class, "A" | "B" | "C" | "D" | "E" | "F" | "G") {
            f.error(
                pointer,
                &format!(
                    "carbon footprint performance class {:?} is not a class of the Battery Regulation (A, the best, to G)",
                    class
                ),
            );
        }
    }
}

/// Minimum < nominal < maximum voltage.
fn voltages(data: &Json, f: &mut Findings) {
    let at = |name: &str| format!("{}/{}Voltage", TECH, name);
    let (min, nominal, max) = match (
        possible(data, &at("minimum")),
        possible(data, &at("nominal")),
        possible(data, &at("maximum")),
    ) {
        (Some(a), Some(b), Some(c)) => (a, b, c),
        _ => return,
    };
    if min >= nominal {
        f.error(
            &at("minimum"),
            &format!(
                "minimum voltage {} V is not below the nominal voltage {} V",
                num(min),
                num(nominal)
            ),
        );
    }
    if max <= nominal {
        f.error(
            &at("maximum"),
            &format!(
                "maximum voltage {} V is not above the nominal voltage {} V",
                num(max),
                num(nominal)
            ),
        );
    }
}

/// Rated energy is nominal voltage × rated capacity (kWh = V × Ah / 1000), within a factor
/// of two; further off is a unit slip or an impossible battery.
fn energy(data: &Json, f: &mut Findings) {
    let energy_at = format!("{}/ratedEnergy", TECH);
    let (v, ah, kwh) = match (
        possible(data, &format!("{}/nominalVoltage", TECH)),
        possible(data, &format!("{}/ratedCapacity", TECH)),
        possible(data, &energy_at),
    ) {
        (Some(a), Some(b), Some(c)) => (a, b, c),
        _ => return,
    };
    let expected = v * ah / 1000.0;
    let ratio = kwh / expected;
    if !(0.5..=2.0).contains(&ratio) {
        f.error(
            &energy_at,
            &format!(
                "rated energy {} kWh does not match nominal voltage × rated capacity ({} V × {} Ah = {} kWh)",
                num(kwh),
                num(v),
                num(ah),
                num(expected)
            ),
        );
    }
}

/// No material weighs more than the whole battery, nor do all of them together (material
/// masses in g, the battery's in kg, as the BatteryPass model has them).
fn material_mass(data: &Json, f: &mut Findings) {
    let battery_g = match possible(data, "/generalProductInformation/batteryMass") {
        Some(kg) => kg * 1000.0,
        None => return,
    };
    let mut total = 0.0;
    let mut single_too_heavy = false;
    for (base, _) in each(data, "/materialComposition/batteryMaterials/*") {
        let pointer = format!("{}/batteryMaterialMass", base);
        if let Some(g) = possible(data, &pointer) {
            total += g;
            if g > battery_g {
                single_too_heavy = true;
                f.error(
                    &pointer,
                    &format!(
                        "material mass {} g exceeds the battery mass {} kg",
                        num(g),
                        num(battery_g / 1000.0)
                    ),
                );
            }
        }
    }
    if !single_too_heavy && total > battery_g * (1.0 + 1e-9) {
        f.error(
            "/materialComposition/batteryMaterials",
            &format!(
                "the materials weigh {} kg together, more than the battery's {} kg",
                num(total / 1000.0),
                num(battery_g / 1000.0)
            ),
        );
    }
}

/// Every web address of the BatteryPass model is an http(s) URL with a host.
const ADDRESSES: &[&str] = &[
    "/generalProductInformation/manufacturerInformation/webAddress",
    "/generalProductInformation/operatorInformation/webAddress",
    "/carbonFootprintForBatteries/carbonFootprintStudy",
    "/supplyChainDueDiligence/supplyChainDueDiligenceReport",
    "/supplyChainDueDiligence/thirdPartyAussurances",
    "/circularity/dismantlingAndRemovalInformation/*/documentURL",
    "/circularity/sparePartSources/*/supplierWebAddress",
    "/circularity/safetyMeasures/safetyInstructions",
    "/circularity/endOfLifeInformation/wastePrevention",
    "/circularity/endOfLifeInformation/separateCollection",
    "/circularity/endOfLifeInformation/informationOnCollection",
    "/performanceAndDurability/batteryTechicalProperties/lifetimeReferenceTest",
    "/labeling/declarationOfConformity",
    "/labeling/resultOfTestReport",
    "/labeling/labels/*/labelingSymbol",
];

fn is_web_url(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    let rest = match lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    {
        Some(r) => r,
        None => return false,
    };
    let host = rest
        .split(|c| c == '/' || c == '?' || c == '#')
        .next()
        .unwrap_or("");
    !host.is_empty()
        && !host.contains('@')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn addresses(data: &Json, f: &mut Findings) {
    for pattern in ADDRESSES {
        for (pointer, v) in each(data, pattern) {
            if let Some(s) = v.str() {
                if !is_web_url(s) {
                    let scheme = s.split(':').next().unwrap_or("");
                    f.error(
                        &pointer,
                        &format!(
                            "{:?} is not an https (or http) web address (scheme {:?})",
                            s, scheme
                        ),
                    );
                }
            }
        }
    }
}

/// RFC 2046 / 6838: `type/subtype` with a registered top-level type.
fn mime_types(data: &Json, f: &mut Findings) {
    const TOP: &[&str] = &[
        "application",
        "audio",
        "font",
        "image",
        "message",
        "model",
        "multipart",
        "text",
        "video",
    ];
    let token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    for (pointer, v) in each(
        data,
        "/circularity/dismantlingAndRemovalInformation/*/mimeType",
    ) {
        if let Some(s) = v.str() {
            let essence = s.split(';').next().unwrap_or("").trim();
            let ok = match essence.split_once('/') {
                Some((t, sub)) => TOP.contains(&t.to_ascii_lowercase().as_str()) && token(sub),
                None => false,
            };
            if !ok {
                f.error(
                    &pointer,
                    &format!("{:?} is not a MIME type (type/subtype)", s),
                );
            }
        }
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = (if y >= 0 { y } else { y - 399 }) / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// RFC 3339 date-time or full-date → seconds since the epoch (UTC), fraction dropped. A
/// date-time without an offset (the BatteryPass timestamps allow one) is read as UTC.
fn parse_instant(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let n = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let day = days_from_civil(y, mo, d) * 86_400;
    if b.len() == 10 {
        return Some(day);
    }
    if !matches!(b[10], b'T' | b't') || b.len() < 19 || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let secs = n(11..13)? * 3600 + n(14..16)? * 60 + n(17..19)?;
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    let offset = match b.get(i) {
        None => 0,
        Some(b'Z') | Some(b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
            let o = n(i + 1..i + 3)? * 3600 + n(i + 4..i + 6)? * 60;
            if *sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return None,
    };
    Some(day + secs - offset)
}

/// A battery is put into service after it is made, and nothing about its condition is
/// recorded before it was made.
fn dates(data: &Json, f: &mut Findings) {
    let gpi = "/generalProductInformation";
    let mut parsed = [None, None];
    for (j, key) in ["manufacturingDate", "puttingIntoService"]
        .iter()
        .enumerate()
    {
        let pointer = format!("{}/{}", gpi, key);
        if let Some(s) = at(data, &pointer).and_then(Json::str) {
            parsed[j] = parse_instant(s);
            if parsed[j].is_none() {
                f.error(
                    &pointer,
                    &format!("{} {:?} is not an RFC 3339 date", key, s),
                );
            }
        }
    }
    if let [Some(made), Some(service)] = parsed {
        if service < made {
            f.error(
                "/generalProductInformation/puttingIntoService",
                "the battery is put into service before its manufacturing date",
            );
        }
    }
    let condition = match data
        .get("performanceAndDurability")
        .and_then(|p| p.get("batteryCondition"))
    {
        Some(c) => c,
        None => return,
    };
    let made = parsed[0];
    let mut pointer = String::from(COND);
    members(condition, &mut pointer, &mut |pointer, key, v| {
        if key != "lastUpdate" && key != "rPCLastUpdated" {
            return;
        }
        let s = match v.str() {
            Some(s) => s,
            None => return,
        };
        match (parse_instant(s), made) {
            (None, _) => f.error(pointer, &format!("{:?} is not an RFC 3339 date-time", s)),
            (Some(at), Some(made)) if at < made => f.error(
                pointer,
                &format!("{} is before the battery's manufacturing date", s),
            ),
            _ => {}
        }
    });
}

/// Information the Battery Regulation requires per battery category (Art. 7, 8, 10, 77 and
/// Annex XIII), beyond what the BatteryPass schemas mark as required.
fn required_by_category(data: &Json, f: &mut Findings) {
    let category = match data
        .get("generalProductInformation")
        .and_then(|g| g.get("batteryCategory"))
        .and_then(Json::str)
    {
        Some(c) => c.to_ascii_lowercase(),
        None => {
            f.error(
                "/generalProductInformation/batteryCategory",
                "battery category is missing",
            );
            return;
        }
    };
    let carbon = ["ev", "lmt", "industrial"].contains(&category.as_str());
    let recycled = ["ev", "lmt", "industrial", "sli"].contains(&category.as_str());
    let mut required: Vec<&str> = vec![
        "/generalProductInformation/batteryMass",
        "/generalProductInformation/manufacturingDate",
        "/materialComposition/batteryChemistry",
    ];
    if carbon {
        required.extend([
            "/carbonFootprintForBatteries/batteryCarbonFootprint",
            "/carbonFootprintForBatteries/carbonFootprintPerLifecycleStage",
            "/carbonFootprintForBatteries/carbonFootprintPerformanceClass",
        ]);
    }
    if recycled {
        required.push("/circularity/recycledContent");
    }
    if category == "ev" || category == "industrial" {
        required.push("/performanceAndDurability");
    }
    for pointer in required {
        let present = match at(data, pointer) {
            Some(Json::Arr(a)) => !a.is_empty(),
            Some(v) => v.present(),
            None => false,
        };
        if !present {
            f.error(pointer, &format!("required for {} batteries", category));
        }
    }
}

/// Any other number: no battery quantity in this model reaches 10^9 in its unit (the
/// samples' generated values such as -1.8e308 are caught here when no rule names them).
fn magnitudes(data: &Json, f: &mut Findings) {
    let mut pointer = String::with_capacity(96);
    members(data, &mut pointer, &mut |pointer, _, v| {
        if let Some(x) = v.num() {
            if (!x.is_finite() || x.abs() > 1e9) && !f.has_error(pointer) {
                f.error(
                    pointer,
                    &format!("{} is implausibly large for any battery quantity", num(x)),
                );
            }
        }
    });
}

//! Hallmark battery plugin (ABI 1): BatteryPass 1.2.0 rules JSON Schema cannot express.
//!
//! Built with Debian's `rustc` for `wasm32-unknown-unknown` by `build.sh` (no cargo, no
//! dependencies). Safe Rust only: `#[no_mangle]` on the four exports is the sole exception.
//! The host writes the input into `INPUT` (which `hallmark_alloc` sized) and reads the
//! answer from `OUTPUT`.
#![deny(unsafe_code)]

use std::sync::Mutex;

static INPUT: Mutex<Vec<u8>> = Mutex::new(Vec::new());
static OUTPUT: Mutex<Vec<u8>> = Mutex::new(Vec::new());

const DESCRIBE: &str = "{\"abi\":1,\"name\":\"hallmark-battery\",\"version\":\"0.1.0\",\"sectors\":[{\"id\":\"battery\",\"schemaVersions\":[\"1.2.0\"]}]}";

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
        let mut out: Vec<u8> = Vec::new();
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

// ---------------------------------------------------------------- rules

fn check(data: &Json, f: &mut Findings) {
    recycled_content(data, f);
    carbon_footprint(data, f);
    dates(data, f);
    required_by_category(data, f);
    material_mass(data, f);
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

/// Art. 8: recycled-content shares are percentages; pre- and post-consumer shares of one
/// material together cannot exceed 100 %; the material must be in the chemistry.
fn recycled_content(data: &Json, f: &mut Findings) {
    let circ = match data.get("circularity") {
        Some(c) => c,
        None => return,
    };
    let chemistry = data
        .get("materialComposition")
        .and_then(|m| m.get("batteryChemistry"))
        .and_then(|c| c.get("shortName"))
        .and_then(Json::str);
    for (i, rc) in circ
        .get("recycledContent")
        .map(Json::arr)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let base = format!("/circularity/recycledContent/{i}");
        let mut shares = [0.0f64; 2];
        let mut ok = true;
        for (j, key) in ["preConsumerShare", "postConsumerShare"].iter().enumerate() {
            if let Some(v) = rc.get(key).and_then(Json::num) {
                if !(0.0..=100.0).contains(&v) {
                    f.error(
                        &format!("{base}/{key}"),
                        &format!("{key} {v} is not a percentage in [0, 100]"),
                    );
                    ok = false;
                }
                shares[j] = v;
            }
        }
        if ok && shares[0] + shares[1] > 100.0 + 1e-9 {
            f.error(
                &base,
                &format!(
                    "pre-consumer ({}) and post-consumer ({}) recycled shares add up to more than 100 %",
                    shares[0], shares[1]
                ),
            );
        }
        if let (Some(chem), Some(material)) =
            (chemistry, rc.get("recycledMaterial").and_then(Json::str))
        {
            if let Some(allowed) = chemistry_materials(chem) {
                if !allowed.iter().any(|m| m.eq_ignore_ascii_case(material)) {
                    f.warning(
                        &format!("{base}/recycledMaterial"),
                        &format!("recycled {material} reported for a {chem} battery, which does not contain it"),
                    );
                }
            }
        }
    }
}

/// Art. 7 / Annex II: footprints are non-negative and the lifecycle stages sum to the
/// battery's carbon footprint (1 % relative tolerance); each stage appears once.
fn carbon_footprint(data: &Json, f: &mut Findings) {
    let cf = match data.get("carbonFootprintForBatteries") {
        Some(c) => c,
        None => return,
    };
    let base = "/carbonFootprintForBatteries";
    let mut sum = 0.0f64;
    let mut all_ok = true;
    let mut seen: Vec<&str> = Vec::new();
    for (i, st) in cf
        .get("carbonFootprintPerLifecycleStage")
        .map(Json::arr)
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        if let Some(stage) = st.get("lifecycleStage").and_then(Json::str) {
            if seen.contains(&stage) {
                f.error(
                    &format!("{base}/carbonFootprintPerLifecycleStage/{i}/lifecycleStage"),
                    &format!("lifecycle stage {stage} appears more than once"),
                );
            }
            seen.push(stage);
        }
        match st.get("carbonFootprint").and_then(Json::num) {
            Some(v) if v < 0.0 || !v.is_finite() => {
                f.error(
                    &format!("{base}/carbonFootprintPerLifecycleStage/{i}/carbonFootprint"),
                    &format!("carbon footprint {v} is negative"),
                );
                all_ok = false;
            }
            Some(v) => sum += v,
            None => all_ok = false,
        }
    }
    for key in ["batteryCarbonFootprint", "absoluteCarbonFootprint"] {
        if let Some(v) = cf.get(key).and_then(Json::num) {
            if v < 0.0 || !v.is_finite() {
                f.error(&format!("{base}/{key}"), &format!("{key} {v} is negative"));
                all_ok = false;
            }
        }
    }
    if all_ok && !seen.is_empty() {
        if let Some(total) = cf.get("batteryCarbonFootprint").and_then(Json::num) {
            let tol = (total.abs() * 0.01).max(0.01);
            if (sum - total).abs() > tol {
                f.error(
                    &format!("{base}/batteryCarbonFootprint"),
                    &format!("lifecycle stages sum to {sum}, not to the declared total {total} (tolerance 1 %)"),
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

/// RFC 3339 date-time or full-date → seconds since the epoch (UTC), fraction dropped.
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
    if !matches!(b[10], b'T' | b't') || b.len() < 20 || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let secs = n(11..13)? * 3600 + n(14..16)? * 60 + n(17..19)?;
    let mut i = 19;
    if b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    let offset = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
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

/// A battery cannot be put into service before it is manufactured.
fn dates(data: &Json, f: &mut Findings) {
    let gpi = match data.get("generalProductInformation") {
        Some(g) => g,
        None => return,
    };
    let mut parsed = [None, None];
    for (j, key) in ["manufacturingDate", "puttingIntoService"]
        .iter()
        .enumerate()
    {
        if let Some(s) = gpi.get(key).and_then(Json::str) {
            parsed[j] = parse_instant(s);
            if parsed[j].is_none() {
                f.error(
                    &format!("/generalProductInformation/{key}"),
                    &format!("{key} {s:?} is not an RFC 3339 date"),
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
        let mut cur = Some(data);
        for part in pointer.split('/').skip(1) {
            cur = cur.and_then(|c| c.get(part));
        }
        let present = match cur {
            Some(Json::Arr(a)) => !a.is_empty(),
            Some(v) => v.present(),
            None => false,
        };
        if !present {
            f.error(pointer, &format!("required for {category} batteries"));
        }
    }
}

/// No single material can weigh more than the whole battery (both in kg).
fn material_mass(data: &Json, f: &mut Findings) {
    let mass = match data
        .get("generalProductInformation")
        .and_then(|g| g.get("batteryMass"))
        .and_then(Json::num)
    {
        Some(m) => m,
        None => return,
    };
    let materials = data
        .get("materialComposition")
        .and_then(|m| m.get("batteryMaterials"))
        .map(Json::arr)
        .unwrap_or(&[]);
    for (i, m) in materials.iter().enumerate() {
        if let Some(v) = m.get("batteryMaterialMass").and_then(Json::num) {
            if v > mass {
                f.warning(
                    &format!("/materialComposition/batteryMaterials/{i}/batteryMaterialMass"),
                    &format!("material mass {v} exceeds the battery mass {mass}"),
                );
            }
        }
    }
}

//! AAS export: a battery passport's audience view as an Asset Administration Shell
//! Environment (AAS metamodel V3.0, JSON) with the IDTA 02035 "Digital Battery Passport"
//! submodels (Parts 1–7) and one residual submodel, `BatteryPassUnmapped`, for the fields
//! with no IDTA 02035 home (issue 19, item 4; docs/aas.md).
//!
//! [`environment`] takes an *audience view*: the [`Passport`] that [`crate::issue::view`]
//! gives for one audience, i.e. the `credentialSubject` of that audience's signed credential.
//! It never reads tiers, so the environment holds exactly what that credential holds.
//!
//! - One `AssetAdministrationShell`: id `{base}/passports/{uuid}/aas`, idShort
//!   `BatteryPassport`, `globalAssetId` the passport's GS1 Digital Link under `base_url`,
//!   `assetKind` `Instance` (item, batch) or `Type` (model), `specificAssetIds` gtin, lot,
//!   serialNumber.
//! - Submodels `{aas id}/submodels/{idShort}`, each emitted only when it has an element:
//!   BatteryNameplate, HandoverDocumentation, CarbonFootprint, TechnicalData,
//!   ProductCondition, MaterialComposition, Circularity (semanticIds and element
//!   semanticIds/valueTypes from the templates, [`tables`]), then `BatteryPassUnmapped`
//!   (semanticId [`UNMAPPED_SEMANTIC_ID`]): every leaf of the view no IDTA element consumed,
//!   shaped as in BatteryPass, with the BatteryPass SAMM URNs as semanticIds.
//! - An element is emitted only when the view has its value: no placeholders, so instances
//!   are partial (mandatory template elements without a value are absent).
//!
//! The output is checked by [`check`] before it is returned (the rules the AAS test engine
//! enforces): no empty arrays; idShorts `[a-zA-Z][a-zA-Z0-9_]*`, at most 128 characters,
//! unique among siblings, absent on list children; list children of the list's type,
//! valueType and semanticId; every Property value in the lexical space of its valueType
//! (integers without `.0`); a File with a contentType; MultiLanguageProperty texts at most
//! 1,023 characters. A number that the template's integer, float or decimal type cannot
//! represent is written as `xs:double`, and a string outside the template type's lexical
//! space as `xs:string` (documented deviations).
//!
//! Port of the issue-19 Python prototype (`to_aas.py`), which passes `aas-test-engines`
//! 1.0.3; `scripts/check-aas` runs that engine.

use std::cell::RefCell;
use std::collections::BTreeSet;

use serde_json::{json, Map, Value};
use thiserror::Error;

use crate::passport::{Granularity, Passport, PassportError};

#[rustfmt::skip]
mod tables;

/// semanticId of the residual submodel `BatteryPassUnmapped`.
pub const UNMAPPED_SEMANTIC_ID: &str = "urn:hallmark:aas:battery:1.2.0:unmapped";
/// Longest MultiLanguageProperty text the AAS V3.0 metamodel allows.
pub const MAX_MLP_TEXT_CHARS: usize = 1023;
/// Longest idShort.
pub const MAX_ID_SHORT_CHARS: usize = 128;

/// Why no environment was produced.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum AasError {
    /// Only the battery sector (BatteryPass 1.2.0) has a mapping.
    #[error("no AAS mapping for sector {id} {version}")]
    Unsupported {
        /// Sector id.
        id: String,
        /// Sector schema version.
        version: String,
    },
    /// The base URL gives no GS1 Digital Link.
    #[error("base URL: {0}")]
    BaseUrl(#[from] PassportError),
    /// The environment breaks an AAS V3.0 rule at `path` (a JSON pointer into it).
    #[error("AAS rule violated at {path}: {rule}")]
    Rule {
        /// JSON pointer into the environment.
        path: String,
        /// What is wrong.
        rule: String,
    },
}

/// The AAS V3.0 Environment of one audience view of a battery passport (see the module
/// documentation). `view` is what [`crate::issue::view`] returns for the audience;
/// `base_url` is the node's public base URL.
pub fn environment(view: &Passport, base_url: &str) -> Result<Value, AasError> {
    if view.sector.id != "battery" || view.sector.schema_version != "1.2.0" {
        return Err(AasError::Unsupported {
            id: view.sector.id.clone(),
            version: view.sector.schema_version.clone(),
        });
    }
    let base_url = base_url.trim_end_matches('/');
    let link = view.product.digital_link(base_url)?;
    let aas_id = format!("{base_url}/passports/{}/aas", view.id.uuid());
    let cx = Ctx {
        base_url: base_url.to_owned(),
        used: RefCell::new(BTreeSet::new()),
        docs: RefCell::new(Vec::new()),
    };
    let d = &view.data;
    let mut sms: Vec<Value> = Vec::new();
    // The parts in the prototype's order; each may add Handover documents it references.
    let nameplate = nameplate(&cx, view);
    let carbon_footprint = carbon_footprint(&cx, d);
    let technical_data = technical_data(&cx, d);
    let product_condition = product_condition(&cx, d);
    let material_composition = material_composition(&cx, d);
    let circularity = circularity(&cx, d);
    let docs = std::mem::take(&mut *cx.docs.borrow_mut());
    let handover =
        B::new("HandoverDocumentation", &cx).sml("Documents", "Documents.Document", docs);
    let parts = [
        ("BatteryNameplate", nameplate),
        ("HandoverDocumentation", vec![handover]),
        ("CarbonFootprint", carbon_footprint),
        ("TechnicalData", technical_data),
        ("ProductCondition", product_condition),
        ("MaterialComposition", material_composition),
        ("Circularity", circularity),
    ];
    for (name, els) in parts {
        let sem = tables::SUBMODELS
            .iter()
            .find(|s| s.0 == name)
            .map(|s| s.1)
            .unwrap_or_default();
        if let Some(sm) = submodel(&aas_id, name, sem, els) {
            sms.push(sm);
        }
    }
    let used = cx.used.borrow().clone();
    if let Some(Value::Object(root)) = residual(d, "", &used) {
        if let Some(Value::Array(els)) = root.get("value") {
            let els = els.iter().cloned().map(Some).collect();
            if let Some(sm) = submodel(&aas_id, "BatteryPassUnmapped", UNMAPPED_SEMANTIC_ID, els) {
                sms.push(sm);
            }
        }
    }
    let kind = match view.granularity {
        Granularity::Model => "Type",
        Granularity::Batch | Granularity::Item => "Instance",
    };
    let mut specific = vec![json!({"name": "gtin", "value": view.product.gtin().as_gtin14()})];
    if let Some(lot) = view.product.lot() {
        specific.push(json!({"name": "lot", "value": lot}));
    }
    if let Some(serial) = view.product.serial() {
        specific.push(json!({"name": "serialNumber", "value": serial}));
    }
    let refs: Vec<Value> = sms
        .iter()
        .map(
            |s| json!({"type": "ModelReference", "keys": [{"type": "Submodel", "value": s["id"]}]}),
        )
        .collect();
    let mut shell = json!({
        "modelType": "AssetAdministrationShell",
        "id": aas_id,
        "idShort": "BatteryPassport",
        "assetInformation": {"assetKind": kind, "globalAssetId": link, "specificAssetIds": specific},
    });
    let mut env = Map::new();
    if !refs.is_empty() {
        shell["submodels"] = Value::Array(refs);
    }
    env.insert(
        "assetAdministrationShells".into(),
        Value::Array(vec![shell]),
    );
    if !sms.is_empty() {
        env.insert("submodels".into(), Value::Array(sms));
    }
    let env = Value::Object(env);
    check(&env)?;
    Ok(env)
}

/// The mapping table (from scripts/aas-mapping.csv): one row per BatteryPass leaf,
/// `(pointer, tier P/L/A, submodel, idShort path, modelType, valueType, semanticId)`.
pub fn mapping() -> &'static [(
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
)] {
    tables::MAPPING
}

struct Ctx {
    base_url: String,
    /// Data pointers consumed by IDTA elements (the rest goes to the residual submodel).
    used: RefCell<BTreeSet<String>>,
    /// HandoverDocumentation documents, referenced by DocumentIdentifier.
    docs: RefCell<Vec<Option<Value>>>,
}

fn reference(v: &str) -> Value {
    json!({"type": "ExternalReference", "keys": [{"type": "GlobalReference", "value": v}]})
}

fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    v.pointer(path).filter(|x| !x.is_null())
}

fn arr<'a>(v: &'a Value, path: &str) -> &'a [Value] {
    v.pointer(path)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn s(v: &str) -> Option<Value> {
    Some(Value::String(v.to_owned()))
}

fn cap(k: &str) -> String {
    let mut c = k.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn last(tpath: &str) -> &str {
    tpath.rsplit('.').next().unwrap_or(tpath)
}

fn mime(url: &str) -> &'static str {
    let u = url.to_ascii_lowercase();
    [
        (".pdf", "application/pdf"),
        (".svg", "image/svg+xml"),
        (".png", "image/png"),
        (".csv", "text/csv"),
        (".html", "text/html"),
    ]
    .iter()
    .find(|(e, _)| u.ends_with(e))
    .map(|(_, m)| *m)
    .unwrap_or("application/octet-stream")
}

/// Builds the elements of one IDTA submodel, recording the data pointers it consumes.
struct B<'a> {
    sm: &'static str,
    cx: &'a Ctx,
}

impl<'a> B<'a> {
    fn new(sm: &'static str, cx: &'a Ctx) -> Self {
        B { sm, cx }
    }

    fn tmpl(
        &self,
        tpath: &str,
    ) -> Option<&'static (&'static str, &'static str, &'static str, &'static str)> {
        let key = format!("{}.{tpath}", self.sm);
        tables::TEMPLATE
            .binary_search_by(|row| row.0.cmp(key.as_str()))
            .ok()
            .and_then(|i| tables::TEMPLATE.get(i))
    }

    fn sem(&self, tpath: &str, el: &mut Map<String, Value>) {
        if let Some(t) = self.tmpl(tpath).filter(|t| !t.3.is_empty()) {
            el.insert("semanticId".into(), reference(t.3));
        }
    }

    fn take(&self, ptr: Option<&str>) {
        if let Some(p) = ptr {
            self.cx.used.borrow_mut().insert(p.to_owned());
        }
    }

    fn finish(&self, tpath: &str, mut el: Map<String, Value>, idshort: bool) -> Option<Value> {
        if idshort {
            el.insert("idShort".into(), Value::String(last(tpath).to_owned()));
        }
        Some(Value::Object(el))
    }

    /// A Property of the template's valueType (or `vt`), or None without a value.
    fn prop_full(
        &self,
        tpath: &str,
        value: Option<Value>,
        ptr: Option<&str>,
        vt: Option<&str>,
        idshort: bool,
    ) -> Option<Value> {
        let value = value?;
        let tvt = self.tmpl(tpath).map(|t| t.2).filter(|v| !v.is_empty());
        let vt = vt.or(tvt).unwrap_or("xs:string");
        let (vt, text) = lexical(&value, vt)?;
        self.take(ptr);
        let mut el = Map::new();
        el.insert("modelType".into(), json!("Property"));
        self.sem(tpath, &mut el);
        el.insert("valueType".into(), Value::String(vt));
        el.insert("value".into(), Value::String(text));
        self.finish(tpath, el, idshort)
    }

    fn prop(&self, tpath: &str, value: Option<&Value>, ptr: Option<&str>) -> Option<Value> {
        self.prop_full(tpath, value.cloned(), ptr, None, true)
    }

    fn item(&self, tpath: &str, value: Option<&Value>, ptr: Option<&str>) -> Option<Value> {
        self.prop_full(tpath, value.cloned(), ptr, None, false)
    }

    /// A MultiLanguageProperty; a plain string is English. None (and the pointer left for the
    /// residual submodel) when a text is longer than the metamodel allows.
    fn mlp(&self, tpath: &str, texts: Option<&Value>, ptr: Option<&str>) -> Option<Value> {
        let texts: Vec<(String, String)> = match texts? {
            Value::String(t) => vec![("en".to_owned(), t.clone())],
            Value::Object(m) => m
                .iter()
                .filter_map(|(l, t)| Some((l.clone(), t.as_str()?.to_owned())))
                .collect(),
            _ => return None,
        };
        if texts.is_empty()
            || texts
                .iter()
                .any(|(_, t)| t.chars().count() > MAX_MLP_TEXT_CHARS)
        {
            return None;
        }
        self.take(ptr);
        let mut el = Map::new();
        el.insert("modelType".into(), json!("MultiLanguageProperty"));
        self.sem(tpath, &mut el);
        let value = texts
            .into_iter()
            .map(|(l, t)| json!({"language": l, "text": t}))
            .collect();
        el.insert("value".into(), Value::Array(value));
        self.finish(tpath, el, true)
    }

    fn file(
        &self,
        tpath: &str,
        url: Option<&str>,
        ctype: &str,
        ptr: Option<&str>,
        idshort: bool,
    ) -> Option<Value> {
        let url = url.filter(|u| !u.is_empty())?;
        self.take(ptr);
        let mut el = Map::new();
        el.insert("modelType".into(), json!("File"));
        self.sem(tpath, &mut el);
        el.insert("contentType".into(), Value::String(ctype.to_owned()));
        el.insert("value".into(), Value::String(url.to_owned()));
        self.finish(tpath, el, idshort)
    }

    fn smc_full(&self, tpath: &str, children: Vec<Option<Value>>, idshort: bool) -> Option<Value> {
        let children: Vec<Value> = children.into_iter().flatten().collect();
        if children.is_empty() {
            return None;
        }
        let mut el = Map::new();
        el.insert("modelType".into(), json!("SubmodelElementCollection"));
        self.sem(tpath, &mut el);
        el.insert("value".into(), Value::Array(children));
        self.finish(tpath, el, idshort)
    }

    fn smc(&self, tpath: &str, children: Vec<Option<Value>>) -> Option<Value> {
        self.smc_full(tpath, children, true)
    }

    fn entry(&self, tpath: &str, children: Vec<Option<Value>>) -> Option<Value> {
        self.smc_full(tpath, children, false)
    }

    fn sml(&self, tpath: &str, item_tpath: &str, items: Vec<Option<Value>>) -> Option<Value> {
        let mut items: Vec<Value> = items.into_iter().flatten().collect();
        let first_type = items.first()?.get("modelType").cloned()?;
        let mut el = Map::new();
        el.insert("modelType".into(), json!("SubmodelElementList"));
        el.insert("idShort".into(), Value::String(last(tpath).to_owned()));
        self.sem(tpath, &mut el);
        el.insert("orderRelevant".into(), Value::Bool(true));
        el.insert("typeValueListElement".into(), first_type.clone());
        if let Some(t) = self.tmpl(item_tpath).filter(|t| !t.3.is_empty()) {
            el.insert("semanticIdListElement".into(), reference(t.3));
        }
        if first_type == "Property" {
            set_list_value_type(&mut items, &mut el);
        }
        el.insert("value".into(), Value::Array(items));
        Some(Value::Object(el))
    }
}

/// `valueTypeListElement` of a list of Properties: their common valueType, or `xs:string`
/// (every child then `xs:string` too, AASd-109).
fn set_list_value_type(items: &mut [Value], el: &mut Map<String, Value>) {
    let vts: BTreeSet<String> = items
        .iter()
        .filter_map(|i| {
            i.get("valueType")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .collect();
    let vt = if vts.len() == 1 {
        vts.into_iter().next().unwrap_or_default()
    } else {
        for i in items.iter_mut() {
            if let Some(o) = i.as_object_mut() {
                o.insert("valueType".into(), json!("xs:string"));
            }
        }
        "xs:string".to_owned()
    };
    el.insert("valueTypeListElement".into(), Value::String(vt));
}

fn submodel(aas_id: &str, idshort: &str, sem: &str, elements: Vec<Option<Value>>) -> Option<Value> {
    let elements: Vec<Value> = elements.into_iter().flatten().collect();
    if elements.is_empty() {
        return None;
    }
    Some(json!({
        "modelType": "Submodel",
        "id": format!("{aas_id}/submodels/{idshort}"),
        "idShort": idshort,
        "kind": "Instance",
        "semanticId": reference(sem),
        "submodelElements": elements,
    }))
}

/// A document of HandoverDocumentation for `url` (consuming `ptr`), its DocumentIdentifier.
fn doc(
    cx: &Ctx,
    ptr: &str,
    url: Option<&str>,
    title: &str,
    ctype: Option<&str>,
    klass: Option<&str>,
) -> Option<String> {
    let url = url.filter(|u| !u.is_empty())?;
    cx.used.borrow_mut().insert(ptr.to_owned());
    let ident = ptr.trim_matches('/').replace('/', ".");
    let h = B::new("HandoverDocumentation", cx);
    let t = "Documents.Document";
    let ids = format!("{t}.DocumentIds.DocumentId");
    let cls = format!("{t}.DocumentClassifications.DocumentClassification");
    let ver = format!("{t}.DocumentVersions.DocumentVersion");
    let files = format!("{ver}.DigitalFiles");
    let document = h.entry(
        t,
        vec![
            h.sml(
                &format!("{t}.DocumentIds"),
                &ids,
                vec![h.entry(
                    &ids,
                    vec![
                        h.prop(
                            &format!("{ids}.DocumentDomainId"),
                            Some(&json!(cx.base_url)),
                            None,
                        ),
                        h.prop(
                            &format!("{ids}.DocumentIdentifier"),
                            Some(&json!(ident)),
                            None,
                        ),
                        h.prop(
                            &format!("{ids}.DocumentIsPrimary"),
                            Some(&json!(true)),
                            None,
                        ),
                    ],
                )],
            ),
            h.sml(
                &format!("{t}.DocumentClassifications"),
                &cls,
                vec![h.entry(
                    &cls,
                    vec![
                        h.mlp(
                            &format!("{cls}.ClassName"),
                            Some(&json!({"en": klass.unwrap_or(title)})),
                            None,
                        ),
                        h.prop(
                            &format!("{cls}.ClassId"),
                            Some(&json!(klass.unwrap_or(&ident))),
                            None,
                        ),
                        h.prop(
                            &format!("{cls}.ClassificationSystem"),
                            Some(&json!("BatteryPass 1.2.0")),
                            None,
                        ),
                    ],
                )],
            ),
            h.sml(
                &format!("{t}.DocumentVersions"),
                &ver,
                vec![h.entry(
                    &ver,
                    vec![
                        h.mlp(&format!("{ver}.Title"), Some(&json!({"en": title})), None),
                        h.sml(
                            &files,
                            &format!("{files}._"),
                            vec![h.file(
                                &format!("{files}._"),
                                Some(url),
                                ctype.unwrap_or(mime(url)),
                                None,
                                false,
                            )],
                        ),
                    ],
                )],
            ),
        ],
    );
    cx.docs.borrow_mut().push(document);
    Some(ident)
}

/// A list of one DocumentIdentifier referencing the document made for `url`.
fn docref(
    cx: &Ctx,
    b: &B<'_>,
    tpath: &str,
    ptr: &str,
    url: Option<&Value>,
    title: &str,
) -> Option<Value> {
    let ident = doc(cx, ptr, url.and_then(Value::as_str), title, None, None)?;
    let item = format!("{tpath}.DocumentIdentifier");
    b.sml(tpath, &item, vec![b.item(&item, Some(&json!(ident)), None)])
}

const GPI: &str = "/generalProductInformation";

fn nameplate(cx: &Ctx, view: &Passport) -> Vec<Option<Value>> {
    let d = &view.data;
    let n = B::new("BatteryNameplate", cx);
    let mi = format!("{GPI}/manufacturerInformation");
    let pa = format!("{mi}/postalAddress");
    let g = |k: &str| at(d, &format!("{GPI}/{k}"));
    let date = |k: &str| {
        g(k).and_then(Value::as_str)
            .map(|v| v.chars().take(10).collect::<String>())
            .filter(|v| !v.is_empty())
            .map(Value::String)
    };
    let labels = arr(d, "/labeling/labels");
    let markings = labels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let m = "Markings.Markings__00__";
            let lp = format!("/labeling/labels/{i}");
            let symbol = at(l, "/labelingSymbol").and_then(Value::as_str);
            // Only an English-only meaning is consumed here; other languages keep the whole
            // meaning for the residual submodel (as an MLP).
            let meaning = at(l, "/labelingMeaning");
            let en_only = meaning
                .and_then(Value::as_object)
                .is_some_and(|o| o.len() == 1 && o.contains_key("en"));
            let meaning_ptr = format!("{lp}/labelingMeaning");
            n.entry(
                m,
                vec![
                    n.prop(
                        &format!("{m}.MarkingName"),
                        at(l, "/labelingSubject"),
                        Some(&format!("{lp}/labelingSubject")),
                    ),
                    n.file(
                        &format!("{m}.MarkingFile"),
                        symbol,
                        mime(symbol.unwrap_or_default()),
                        Some(&format!("{lp}/labelingSymbol")),
                        true,
                    ),
                    n.prop(
                        &format!("{m}.MarkingAdditionalText"),
                        meaning.and_then(|x| at(x, "/en")),
                        en_only.then_some(meaning_ptr.as_str()),
                    ),
                ],
            )
        })
        .collect();
    vec![
        n.prop(
            "URIOfTheProduct",
            g("batteryPassportIdentifier"),
            Some(&format!("{GPI}/batteryPassportIdentifier")),
        ),
        n.mlp(
            "ManufacturerName",
            at(d, &format!("{mi}/contactName")),
            Some(&format!("{mi}/contactName")),
        ),
        n.smc(
            "AddressInformation",
            vec![
                n.mlp(
                    "AddressInformation.Street",
                    at(d, &format!("{pa}/streetAddress")),
                    Some(&format!("{pa}/streetAddress")),
                ),
                n.mlp(
                    "AddressInformation.Zipcode",
                    at(d, &format!("{pa}/postalCode")),
                    Some(&format!("{pa}/postalCode")),
                ),
                n.mlp(
                    "AddressInformation.NationalCode",
                    at(d, &format!("{pa}/addressCountry")),
                    Some(&format!("{pa}/addressCountry")),
                ),
            ],
        ),
        n.prop_full(
            "SerialNumber",
            view.product.serial().and_then(s),
            None,
            None,
            true,
        ),
        n.prop_full(
            "DateOfManufacture",
            date("manufacturingDate"),
            Some(&format!("{GPI}/manufacturingDate")),
            None,
            true,
        ),
        n.prop_full(
            "DateOfPuttingIntoService",
            date("puttingIntoService"),
            Some(&format!("{GPI}/puttingIntoService")),
            None,
            true,
        ),
        n.prop_full(
            "UniqueFacilityIdentifier",
            view.facility_id.as_deref().and_then(s),
            None,
            None,
            true,
        ),
        n.prop(
            "LifeCycleStage",
            g("batteryStatus"),
            Some(&format!("{GPI}/batteryStatus")),
        ),
        n.prop(
            "OperatorIdentifier",
            g("operatorInformation/identifier"),
            Some(&format!("{GPI}/operatorInformation/identifier")),
        ),
        n.prop(
            "ManufacturerIdentifier",
            at(d, &format!("{mi}/identifier")),
            Some(&format!("{mi}/identifier")),
        ),
        n.sml("Markings", "Markings.Markings__00__", markings),
        docref(
            cx,
            &n,
            "EUDeclarationOfConformity",
            "/labeling/declarationOfConformity",
            at(d, "/labeling/declarationOfConformity"),
            "EU declaration of conformity",
        ),
        docref(
            cx,
            &n,
            "ResultsOfTestReportsProvingCompliance",
            "/labeling/resultOfTestReport",
            at(d, "/labeling/resultOfTestReport"),
            "Results of test reports",
        ),
    ]
}

fn carbon_footprint(cx: &Ctx, d: &Value) -> Vec<Option<Value>> {
    let c = B::new("CarbonFootprint", cx);
    let cf = "/carbonFootprintForBatteries";
    let p = "ProductCarbonFootprints.ProductCarbonFootprint";
    let has = at(d, &format!("{cf}/batteryCarbonFootprint")).is_some();
    vec![c.sml(
        "ProductCarbonFootprints",
        p,
        vec![c.entry(
            p,
            vec![
                c.prop_full(
                    &format!("{p}.PcfCO2eq"),
                    at(d, &format!("{cf}/batteryCarbonFootprint")).cloned(),
                    Some(&format!("{cf}/batteryCarbonFootprint")),
                    Some("xs:decimal"),
                    true,
                ),
                c.prop_full(
                    &format!("{p}.ReferenceImpactUnitForCalculation"),
                    if has { s("kWh") } else { None },
                    None,
                    None,
                    true,
                ),
                c.prop_full(
                    &format!("{p}.QuantityOfMeasureForCalculation"),
                    if has { Some(json!(1.0)) } else { None },
                    None,
                    None,
                    true,
                ),
                c.prop(
                    &format!("{p}.PerformanceClass"),
                    at(d, &format!("{cf}/carbonFootprintPerformanceClass")),
                    Some(&format!("{cf}/carbonFootprintPerformanceClass")),
                ),
                docref(
                    cx,
                    &c,
                    &format!("{p}.WebLinkToPublicCarbonFootprintStudy"),
                    &format!("{cf}/carbonFootprintStudy"),
                    at(d, &format!("{cf}/carbonFootprintStudy")),
                    "Carbon footprint study",
                ),
            ],
        )],
    )]
}

const TP: &str = "/performanceAndDurability/batteryTechicalProperties";
const CP: &str = "/performanceAndDurability/batteryCondition";

fn technical_data(cx: &Ctx, d: &Value) -> Vec<Option<Value>> {
    let t = B::new("TechnicalData", cx);
    let tp = |k: &str| (at(d, &format!("{TP}/{k}")), format!("{TP}/{k}"));
    let cp = |k: &str| (at(d, &format!("{CP}/{k}")), format!("{CP}/{k}"));
    let pr = |tpath: &str, (v, p): (Option<&Value>, String)| t.prop(tpath, v, Some(&p));
    // The element of the array item whose batteryComponent is `comp` (consuming the selector).
    let by_comp = |base: &str, comp: &str, key: &str| -> (Option<&Value>, String) {
        let items = arr(d, base);
        match items
            .iter()
            .position(|x| x.get("batteryComponent").and_then(Value::as_str) == Some(comp))
        {
            Some(i) => {
                cx.used
                    .borrow_mut()
                    .insert(format!("{base}/{i}/batteryComponent"));
                (
                    items.get(i).and_then(|x| at(x, &format!("/{key}"))),
                    format!("{base}/{i}/{key}"),
                )
            }
            None => (None, String::new()),
        }
    };
    let mi = format!("{GPI}/manufacturerInformation");
    let ce = "TechnicalPropertyAreas.CapacityEnergyVoltage";
    let rt = "TechnicalPropertyAreas.RoundTripEnergyEfficiency";
    let rs = "TechnicalPropertyAreas.Resistance";
    let pc = "TechnicalPropertyAreas.PowerCapability";
    let opc = format!("{pc}.OriginalPowerCapability.PowerCapabilityAt");
    let lt = "TechnicalPropertyAreas.Lifetime";
    let mut resistance = Vec::new();
    for k in ["cell", "pack", "module"] {
        resistance.push(pr(
            &format!("{rs}.InitialInternalResistanceOnBattery{}Level", cap(k)),
            by_comp(
                &format!("{TP}/initialInternalResistance"),
                k,
                "ohmicResistance",
            ),
        ));
    }
    for k in ["cell", "pack", "module"] {
        resistance.push(pr(
            &format!("{rs}.InternalResistanceIncreaseOfBattery{}Level", cap(k)),
            by_comp(
                &format!("{CP}/internalResistanceIncrease"),
                k,
                "internalResistanceIncreaseValue",
            ),
        ));
    }
    let original = arr(d, &format!("{TP}/originalPowerCapability"))
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let base = format!("{TP}/originalPowerCapability/{i}");
            t.entry(
                &opc,
                vec![
                    t.prop(
                        &format!("{opc}.atSoc"),
                        at(o, "/atSoC"),
                        Some(&format!("{base}/atSoC")),
                    ),
                    t.prop(
                        &format!("{opc}.powerCapabilityAt"),
                        at(o, "/powerCapabilityAt"),
                        Some(&format!("{base}/powerCapabilityAt")),
                    ),
                ],
            )
        })
        .collect();
    vec![
        t.smc(
            "GeneralInformation",
            vec![
                t.prop(
                    "GeneralInformation.ManufacturerName",
                    at(d, &format!("{mi}/contactName")),
                    None,
                ),
                t.prop(
                    "GeneralInformation.ManufacturerIdentifier",
                    at(d, &format!("{mi}/identifier")),
                    None,
                ),
                t.prop(
                    "GeneralInformation.BatteryCategory",
                    at(d, &format!("{GPI}/batteryCategory")),
                    Some(&format!("{GPI}/batteryCategory")),
                ),
                t.prop(
                    "GeneralInformation.BatteryMass",
                    at(d, &format!("{GPI}/batteryMass")),
                    Some(&format!("{GPI}/batteryMass")),
                ),
                t.smc(
                    "GeneralInformation.WarrantyInformation",
                    vec![t.prop(
                        "GeneralInformation.WarrantyInformation.WarrantyPeriod",
                        at(d, &format!("{GPI}/warrentyPeriod")),
                        Some(&format!("{GPI}/warrentyPeriod")),
                    )],
                ),
            ],
        ),
        t.smc(
            "TechnicalPropertyAreas",
            vec![
                t.smc(
                    ce,
                    vec![
                        pr(&format!("{ce}.NominalVoltage"), tp("nominalVoltage")),
                        pr(&format!("{ce}.MinVoltage"), tp("minimumVoltage")),
                        pr(&format!("{ce}.MaxVoltage"), tp("maximumVoltage")),
                        pr(&format!("{ce}.RatedCapacity"), tp("ratedCapacity")),
                        pr(
                            &format!("{ce}.CapacityFade"),
                            cp("capacityFade/capacityFadeValue"),
                        ),
                        pr(
                            &format!("{ce}.CertifiedUsableBatteryEnergy"),
                            tp("ratedEnergy"),
                        ),
                    ],
                ),
                t.smc(
                    rt,
                    vec![
                        pr(
                            &format!("{rt}.InitialRoundTripEnergyEfficiency"),
                            tp("roundtripEfficiency"),
                        ),
                        pr(
                            &format!("{rt}.RoundTripEnergyEfficiencyAt50PercentOfCycleLife"),
                            cp("roundTripEfficiencyat50PerCentCycleLife"),
                        ),
                        pr(
                            &format!("{rt}.EnergyRoundTripEfficiencyFade"),
                            cp("roundTripEfficiencyFade"),
                        ),
                        pr(
                            &format!("{rt}.InitialSelfDischargingRate"),
                            tp("initialSelfDischarge"),
                        ),
                    ],
                ),
                t.smc(rs, resistance),
                t.smc(
                    pc,
                    vec![
                        pr(
                            &format!("{pc}.MaximumPermittedBatteryPower"),
                            tp("ratedMaximumPower"),
                        ),
                        pr(&format!("{pc}.PowerFade"), cp("powerFade")),
                        pr(
                            &format!("{pc}.RatioNorminalBatteryPowerAndBatteryEnergy"),
                            tp("powerCapabilityRatio"),
                        ),
                        t.sml(&format!("{pc}.OriginalPowerCapability"), &opc, original),
                    ],
                ),
                t.smc(
                    lt,
                    vec![
                        pr(
                            &format!("{lt}.ExpectedLifetimeInCalendarYears"),
                            tp("expectedLifetime"),
                        ),
                        pr(
                            &format!("{lt}.ExpectedNumberOfCycles"),
                            tp("expectedNumberOfCycles"),
                        ),
                        pr(
                            &format!("{lt}.CapacityThresholdExhaustion"),
                            tp("capacityThresholdForExhaustion"),
                        ),
                        pr(
                            &format!("{lt}.CRateOfRelevantCycleLifeTest"),
                            tp("cRateLifeCycleTest"),
                        ),
                    ],
                ),
            ],
        ),
    ]
}

fn product_condition(cx: &Ctx, d: &Value) -> Vec<Option<Value>> {
    let pc = B::new("ProductCondition", cx);
    // A value + LastUpdate pair: `key` is an object {vkey, lastUpdate} or a bare value.
    let vl = |name: &str, key: &str, vkey: &str, vname: Option<&str>| -> Option<Value> {
        let o = at(d, &format!("{CP}/{key}"))?;
        let (value, vptr, updated) = match o {
            Value::Object(_) => (
                at(o, &format!("/{vkey}")),
                format!("{CP}/{key}/{vkey}"),
                at(o, "/lastUpdate"),
            ),
            other => (Some(other), format!("{CP}/{key}"), None),
        };
        if updated.is_some() {
            cx.used
                .borrow_mut()
                .insert(format!("{CP}/{key}/lastUpdate"));
        }
        let vname = vname.map(str::to_owned).unwrap_or(format!("{name}Value"));
        pc.smc(
            name,
            vec![
                pc.prop(&format!("{name}.{vname}"), value, Some(&vptr)),
                pc.prop(&format!("{name}.LastUpdate"), updated, None),
            ],
        )
    };
    let ne = "NegativeEvents.NegativeEvent";
    let events = arr(d, &format!("{CP}/negativeEvents"))
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let base = format!("{CP}/negativeEvents/{i}");
            pc.entry(
                ne,
                vec![
                    pc.prop(
                        &format!("{ne}.NegativeEventValue"),
                        at(e, "/negativeEvent"),
                        Some(&format!("{base}/negativeEvent")),
                    ),
                    pc.prop(
                        &format!("{ne}.LastUpdate"),
                        at(e, "/lastUpdate"),
                        Some(&format!("{base}/lastUpdate")),
                    ),
                ],
            )
        })
        .collect();
    let temperature = [
        "timeExtremeHighTemp",
        "timeExtremeLowTemp",
        "timeExtremeHighTempCharging",
        "timeExtremeLowTempCharging",
        "lastUpdate",
    ]
    .iter()
    .map(|k| {
        let p = format!("{CP}/temperatureInformation/{k}");
        pc.prop(
            &format!("TemperatureInformation.{}", cap(k)),
            at(d, &p),
            Some(&p),
        )
    })
    .collect();
    vec![
        vl("EnergyThroughput", "energyThroughput", "v", None),
        vl(
            "CapacityThroughput",
            "capacityThroughput",
            "capacityThroughputValue",
            None,
        ),
        vl(
            "NumberOfFullCycles",
            "numberOfFullCycles",
            "numberOfFullCyclesValue",
            None,
        ),
        vl(
            "StateOfCertifiedEnergy",
            "stateOfCertifiedEnergy",
            "stateOfCertifiedEnergyValue",
            None,
        ),
        vl(
            "RemainingEnergy",
            "remainingEnergy",
            "remainingEnergyalue",
            None,
        ),
        vl(
            "RemainingCapacity",
            "remainingCapacity",
            "remainingCapacityValue",
            None,
        ),
        pc.sml("NegativeEvents", ne, events),
        pc.smc("TemperatureInformation", temperature),
        vl(
            "EvolutionOfSelfDischarge",
            "evolutionOfSelfDischarge",
            "evolutionOfSelfDischargeEntityValue",
            Some("EvolutionOfSelfDischargeValue"),
        ),
        vl(
            "CurrentSelfDischargingRate",
            "currentSelfDischargingRate",
            "currentSelfDischargingRateEntity",
            Some("CurrentSelfDischargingRateValue"),
        ),
        vl(
            "RemainingRoundTripEnergyEfficiency",
            "remainingRoundTripEnergyEfficiency",
            "remainingRoundTripEnergyEfficiencyValue",
            None,
        ),
        vl("StateOfCharge", "stateOfCharge", "stateOfChargeValue", None),
    ]
}

fn material_composition(cx: &Ctx, d: &Value) -> Vec<Option<Value>> {
    let m = B::new("MaterialComposition", cx);
    let mp = "/materialComposition";
    let bm = "BatteryMaterials.BatteryMaterial";
    let hs = "HazardousSubstances.HazardousSubstance";
    let loc = |tp: &str, o: Option<&Value>, ptr: &str| {
        let get = |k: &str| o.and_then(|o| at(o, &format!("/{k}")));
        m.smc(
            tp,
            vec![
                m.prop(
                    &format!("{tp}.ComponentName"),
                    get("componentName"),
                    Some(&format!("{ptr}/componentName")),
                ),
                m.prop(
                    &format!("{tp}.ComponentId"),
                    get("componentId"),
                    Some(&format!("{ptr}/componentId")),
                ),
            ],
        )
    };
    let materials = arr(d, &format!("{mp}/batteryMaterials"))
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let base = format!("{mp}/batteryMaterials/{i}");
            let mut kids = vec![loc(
                &format!("{bm}.BatteryMaterialLocation"),
                at(x, "/batteryMaterialLocation"),
                &format!("{base}/batteryMaterialLocation"),
            )];
            for k in [
                "batteryMaterialIdentifier",
                "batteryMaterialName",
                "batteryMaterialMass",
                "isCriticalRawMaterial",
            ] {
                kids.push(m.prop(
                    &format!("{bm}.{}", cap(k)),
                    at(x, &format!("/{k}")),
                    Some(&format!("{base}/{k}")),
                ));
            }
            m.entry(bm, kids)
        })
        .collect();
    let substances = arr(d, &format!("{mp}/hazardousSubstances"))
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let base = format!("{mp}/hazardousSubstances/{i}");
            let mut kids = Vec::new();
            for k in [
                "hazardousSubstanceClass",
                "hazardousSubstanceName",
                "hazardousSubstanceConcentration",
                "hazardousSubstanceIdentifier",
            ] {
                kids.push(m.prop(
                    &format!("{hs}.{}", cap(k)),
                    at(x, &format!("/{k}")),
                    Some(&format!("{base}/{k}")),
                ));
            }
            let impact = format!("{hs}.HazardousSubstanceImpact.Impact");
            let impacts = arr(x, "/hazardousSubstanceImpact")
                .iter()
                .enumerate()
                .map(|(j, v)| {
                    m.item(
                        &impact,
                        Some(v),
                        Some(&format!("{base}/hazardousSubstanceImpact/{j}")),
                    )
                })
                .collect();
            kids.push(m.sml(&format!("{hs}.HazardousSubstanceImpact"), &impact, impacts));
            kids.push(loc(
                &format!("{hs}.HazardousSubstanceLocation"),
                at(x, "/hazardousSubstanceLocation"),
                &format!("{base}/hazardousSubstanceLocation"),
            ));
            m.entry(hs, kids)
        })
        .collect();
    vec![
        m.smc(
            "BatteryChemistry",
            vec![
                m.prop(
                    "BatteryChemistry.ShortName",
                    at(d, &format!("{mp}/batteryChemistry/shortName")),
                    Some(&format!("{mp}/batteryChemistry/shortName")),
                ),
                m.prop(
                    "BatteryChemistry.ClearName",
                    at(d, &format!("{mp}/batteryChemistry/clearName")),
                    Some(&format!("{mp}/batteryChemistry/clearName")),
                ),
            ],
        ),
        m.sml("BatteryMaterials", bm, materials),
        m.sml("HazardousSubstances", hs, substances),
    ]
}

fn circularity(cx: &Ctx, d: &Value) -> Vec<Option<Value>> {
    let r = B::new("Circularity", cx);
    let rp = "/circularity";
    let sp = "SparePartSources.SparePartSupplier";
    let dri = "DismantlingAndRemovalInformation.DocumentIdentifier";
    let dismantling = arr(d, &format!("{rp}/dismantlingAndRemovalInformation"))
        .iter()
        .enumerate()
        .filter_map(|(i, x)| {
            let base = format!("{rp}/dismantlingAndRemovalInformation/{i}");
            let url = at(x, "/documentURL")
                .and_then(Value::as_str)
                .filter(|u| !u.is_empty())?;
            for k in ["documentType", "mimeType"] {
                if x.get(k).is_some() {
                    cx.used.borrow_mut().insert(format!("{base}/{k}"));
                }
            }
            let klass = at(x, "/documentType").and_then(Value::as_str);
            let ctype = at(x, "/mimeType").and_then(Value::as_str);
            let ident = doc(
                cx,
                &format!("{base}/documentURL"),
                Some(url),
                klass.unwrap_or("Dismantling information"),
                ctype,
                klass,
            )?;
            Some(r.item(dri, Some(&json!(ident)), None))
        })
        .collect();
    let suppliers = arr(d, &format!("{rp}/sparePartSources"))
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let base = format!("{rp}/sparePartSources/{i}");
            let comp = format!("{sp}.Components.Component");
            let components = arr(x, "/components")
                .iter()
                .enumerate()
                .map(|(j, q)| {
                    r.entry(
                        &comp,
                        vec![
                            r.prop(
                                &format!("{comp}.PartName"),
                                at(q, "/partName"),
                                Some(&format!("{base}/components/{j}/partName")),
                            ),
                            r.prop(
                                &format!("{comp}.PartNumber"),
                                at(q, "/partNumber"),
                                Some(&format!("{base}/components/{j}/partNumber")),
                            ),
                        ],
                    )
                })
                .collect();
            let address = [
                ("NationalCode", "addressCountry"),
                ("PostalCode", "postalCode"),
                ("Street", "streetAddress"),
            ]
            .iter()
            .map(|(a, k)| {
                r.mlp(
                    &format!("{sp}.AddressOfSupplier.{a}"),
                    at(x, &format!("/addressOfSupplier/{k}")),
                    Some(&format!("{base}/addressOfSupplier/{k}")),
                )
            })
            .collect();
            r.entry(
                sp,
                vec![
                    r.mlp(
                        &format!("{sp}.NameOfSupplier"),
                        at(x, "/nameOfSupplier"),
                        Some(&format!("{base}/nameOfSupplier")),
                    ),
                    r.smc(&format!("{sp}.AddressOfSupplier"), address),
                    r.smc(
                        &format!("{sp}.EmailAddressOfSupplier"),
                        vec![r.prop(
                            &format!("{sp}.EmailAddressOfSupplier.EmailAddress"),
                            at(x, "/emailAddressOfSupplier"),
                            Some(&format!("{base}/emailAddressOfSupplier")),
                        )],
                    ),
                    r.prop(
                        &format!("{sp}.SupplierWebAddress"),
                        at(x, "/supplierWebAddress"),
                        Some(&format!("{base}/supplierWebAddress")),
                    ),
                    r.sml(&format!("{sp}.Components"), &comp, components),
                ],
            )
        })
        .collect();
    let rc = "RecycledContentInformation.RecycledContent";
    let recycled = arr(d, &format!("{rp}/recycledContent"))
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let kids = ["preConsumerShare", "recycledMaterial", "postConsumerShare"]
                .iter()
                .map(|k| {
                    r.prop(
                        &format!("{rc}.{}", cap(k)),
                        at(x, &format!("/{k}")),
                        Some(&format!("{rp}/recycledContent/{i}/{k}")),
                    )
                })
                .collect();
            r.entry(rc, kids)
        })
        .collect();
    let ea = "SafetyMeasures.ExtinguishingAgents.ExtinguishingAgent";
    let agents = arr(d, &format!("{rp}/safetyMeasures/extinguishingAgent"))
        .iter()
        .enumerate()
        .map(|(i, a)| {
            r.item(
                ea,
                Some(a),
                Some(&format!("{rp}/safetyMeasures/extinguishingAgent/{i}")),
            )
        })
        .collect();
    // Documents are made in the prototype's order: dismantling, safety, end of life.
    let sm = format!("{rp}/safetyMeasures/safetyInstructions");
    let safety = docref(
        cx,
        &r,
        "SafetyMeasures.SafetyInstructions",
        &sm,
        at(d, &sm),
        "Safety instructions",
    );
    let mut eol = Vec::new();
    for (k, title) in [
        ("wastePrevention", "Waste prevention"),
        ("separateCollection", "Separate collection"),
        ("informationOnCollection", "Information on collection"),
    ] {
        let p = format!("{rp}/endOfLifeInformation/{k}");
        eol.push(docref(
            cx,
            &r,
            &format!("EndOfLifeInformation.{}", cap(k)),
            &p,
            at(d, &p),
            title,
        ));
    }
    vec![
        r.sml("DismantlingAndRemovalInformation", dri, dismantling),
        r.sml("SparePartSources", sp, suppliers),
        r.sml("RecycledContentInformation", rc, recycled),
        r.smc(
            "SafetyMeasures",
            vec![
                safety,
                r.sml("SafetyMeasures.ExtinguishingAgents", ea, agents),
            ],
        ),
        r.smc("EndOfLifeInformation", eol),
        r.prop(
            "RenewableContent",
            at(d, &format!("{rp}/renewableContent")),
            Some(&format!("{rp}/renewableContent")),
        ),
    ]
}

/// The BatteryPass SAMM URN of a data pointer (array indexes read as `*`).
fn urn_of(ptr: &str) -> Option<&'static str> {
    let shape: Vec<&str> = ptr
        .split('/')
        .map(|seg| {
            if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
                "*"
            } else {
                seg
            }
        })
        .collect();
    let shape = shape.join("/");
    tables::URNS
        .binary_search_by(|row| row.0.cmp(shape.as_str()))
        .ok()
        .and_then(|i| tables::URNS.get(i))
        .map(|row| row.1)
}

fn with_urn(ptr: &str, mut el: Map<String, Value>) -> Value {
    if let Some(u) = urn_of(ptr) {
        el.insert("semanticId".into(), reference(u));
    }
    Value::Object(el)
}

/// The residual walker: every value of the view no IDTA element consumed, BatteryPass-shaped
/// (objects → collections, arrays → lists, a `labelingMeaning` → MLP).
fn residual(v: &Value, ptr: &str, used: &BTreeSet<String>) -> Option<Value> {
    if !ptr.is_empty() && used.contains(ptr) {
        return None;
    }
    match v {
        Value::Object(o)
            if ptr.starts_with("/labeling/labels/") && ptr.ends_with("/labelingMeaning") =>
        {
            let texts: Vec<Value> = o
                .iter()
                .filter_map(|(l, t)| Some(json!({"language": l, "text": t.as_str()?})))
                .collect();
            if texts.is_empty() {
                return None;
            }
            let mut el = Map::new();
            el.insert("modelType".into(), json!("MultiLanguageProperty"));
            el.insert("value".into(), Value::Array(texts));
            Some(with_urn(ptr, el))
        }
        Value::Object(o) => {
            let kids: Vec<Value> = o
                .iter()
                .filter_map(|(k, x)| {
                    let mut el = residual(x, &format!("{ptr}/{k}"), used)?;
                    el.as_object_mut()?
                        .insert("idShort".into(), Value::String(k.clone()));
                    Some(el)
                })
                .collect();
            if kids.is_empty() {
                return None;
            }
            let mut el = Map::new();
            el.insert("modelType".into(), json!("SubmodelElementCollection"));
            el.insert("value".into(), Value::Array(kids));
            Some(with_urn(ptr, el))
        }
        Value::Array(items) => {
            let mut kept: Vec<Value> = items
                .iter()
                .enumerate()
                .filter_map(|(i, x)| residual(x, &format!("{ptr}/{i}"), used))
                .collect();
            let types: BTreeSet<String> = kept
                .iter()
                .filter_map(|k| {
                    k.get("modelType")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .collect();
            let tvle = match types.len() {
                0 => return None,
                1 => types.into_iter().next().unwrap_or_default(),
                _ => "SubmodelElementCollection".to_owned(),
            };
            let mut el = Map::new();
            el.insert("modelType".into(), json!("SubmodelElementList"));
            el.insert("orderRelevant".into(), Value::Bool(true));
            el.insert("typeValueListElement".into(), Value::String(tvle.clone()));
            if tvle == "Property" {
                set_list_value_type(&mut kept, &mut el);
            }
            el.insert("value".into(), Value::Array(kept));
            Some(with_urn(ptr, el))
        }
        Value::Null => None,
        scalar => {
            let vt = match scalar {
                Value::Bool(_) => "xs:boolean",
                Value::Number(_) => "xs:double",
                _ => "xs:string",
            };
            let (vt, text) = lexical(scalar, vt)?;
            let mut el = Map::new();
            el.insert("modelType".into(), json!("Property"));
            el.insert("valueType".into(), Value::String(vt));
            el.insert("value".into(), Value::String(text));
            Some(with_urn(ptr, el))
        }
    }
}

/// A scalar's (valueType, lexical form): the wanted type when the value is in its lexical
/// space, else `xs:double` for a number and `xs:string` for a string.
fn lexical(value: &Value, vt: &str) -> Option<(String, String)> {
    let (fallback, text) = match value {
        Value::Bool(b) => ("xs:boolean", b.to_string()),
        Value::Number(n) => {
            return Some(match number_as(n, vt) {
                Some(t) => (vt.to_owned(), t),
                None => ("xs:double".to_owned(), n.to_string()),
            });
        }
        Value::String(t) => ("xs:string", t.clone()),
        _ => return None,
    };
    if valid_lexical(vt, &text) {
        Some((vt.to_owned(), text))
    } else {
        Some((fallback.to_owned(), text))
    }
}

/// A number in the lexical space of `vt`, if representable there without change.
fn number_as(n: &serde_json::Number, vt: &str) -> Option<String> {
    if let Some((lo, hi)) = integer_range(vt) {
        let i: i128 = if let Some(i) = n.as_i64() {
            i128::from(i)
        } else if let Some(u) = n.as_u64() {
            i128::from(u)
        } else {
            let f = n.as_f64()?;
            if !f.is_finite() || f.fract() != 0.0 || f.abs() >= 9.0e15 {
                return None;
            }
            f as i128
        };
        return (lo..=hi).contains(&i).then(|| i.to_string());
    }
    let text = n.to_string();
    match vt {
        "xs:double" | "xs:string" => Some(text),
        "xs:float" => n
            .as_f64()
            .filter(|f| f.abs() <= f64::from(f32::MAX))
            .map(|_| text),
        "xs:decimal" => valid_lexical("xs:decimal", &text).then_some(text),
        _ => None,
    }
}

fn integer_range(vt: &str) -> Option<(i128, i128)> {
    Some(match vt {
        "xs:integer" => (i128::MIN, i128::MAX),
        "xs:long" => (i128::from(i64::MIN), i128::from(i64::MAX)),
        "xs:int" => (i128::from(i32::MIN), i128::from(i32::MAX)),
        "xs:short" => (i128::from(i16::MIN), i128::from(i16::MAX)),
        "xs:byte" => (i128::from(i8::MIN), i128::from(i8::MAX)),
        "xs:unsignedLong" => (0, i128::from(u64::MAX)),
        "xs:unsignedInt" => (0, i128::from(u32::MAX)),
        "xs:unsignedShort" => (0, i128::from(u16::MAX)),
        "xs:unsignedByte" => (0, i128::from(u8::MAX)),
        "xs:nonNegativeInteger" => (0, i128::MAX),
        "xs:positiveInteger" => (1, i128::MAX),
        _ => return None,
    })
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn valid_decimal(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    match s.split_once('.') {
        Some((a, b)) => {
            (digits(a) || a.is_empty())
                && (digits(b) || b.is_empty())
                && !(a.is_empty() && b.is_empty())
        }
        None => digits(s),
    }
}

fn valid_zone(z: &str) -> bool {
    if z.is_empty() || z == "Z" {
        return true;
    }
    let b = z.as_bytes();
    z.len() == 6
        && (b[0] == b'+' || b[0] == b'-')
        && digits(&z[1..3])
        && b[3] == b':'
        && digits(&z[4..6])
}

fn valid_date(s: &str) -> bool {
    // YYYY-MM-DD then an optional zone.
    s.len() >= 10
        && s.is_char_boundary(10)
        && digits(&s[0..4])
        && &s[4..5] == "-"
        && digits(&s[5..7])
        && &s[7..8] == "-"
        && digits(&s[8..10])
        && (1..=12).contains(&s[5..7].parse::<u8>().unwrap_or(0))
        && (1..=31).contains(&s[8..10].parse::<u8>().unwrap_or(0))
        && valid_zone(&s[10..])
}

fn valid_date_time(s: &str) -> bool {
    let Some((date, time)) = s.split_once('T') else {
        return false;
    };
    if date.len() != 10 || !valid_date(date) || time.len() < 8 || !time.is_char_boundary(8) {
        return false;
    }
    let (hms, rest) = time.split_at(8);
    let b = hms.as_bytes();
    let hms_ok = digits(&hms[0..2])
        && b[2] == b':'
        && digits(&hms[3..5])
        && b[5] == b':'
        && digits(&hms[6..8]);
    let zone = match rest.strip_prefix('.') {
        Some(r) => {
            let end = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
            if end == 0 {
                return false;
            }
            &r[end..]
        }
        None => rest,
    };
    hms_ok && valid_zone(zone)
}

/// Whether `text` is in the lexical space of `vt` (the types the mapper emits; other types
/// are not checked).
fn valid_lexical(vt: &str, text: &str) -> bool {
    if let Some((lo, hi)) = integer_range(vt) {
        let t = text.strip_prefix(['+', '-']).unwrap_or(text);
        return digits(t) && text.parse::<i128>().is_ok_and(|i| (lo..=hi).contains(&i));
    }
    match vt {
        "xs:boolean" => matches!(text, "true" | "false" | "1" | "0"),
        "xs:decimal" => valid_decimal(text),
        "xs:double" | "xs:float" => {
            matches!(text, "INF" | "-INF" | "+INF" | "NaN")
                || match text.split_once(['e', 'E']) {
                    Some((m, e)) => {
                        valid_decimal(m) && digits(e.strip_prefix(['+', '-']).unwrap_or(e))
                    }
                    None => valid_decimal(text),
                }
        }
        "xs:date" => valid_date(text),
        "xs:dateTime" => valid_date_time(text),
        "xs:anyURI" => !text.chars().any(|c| c.is_whitespace() || c.is_control()),
        _ => true,
    }
}

/// Whether `id` is a valid idShort (`[a-zA-Z][a-zA-Z0-9_]*`, at most 128 characters).
pub fn valid_id_short(id: &str) -> bool {
    let mut b = id.bytes();
    id.len() <= MAX_ID_SHORT_CHARS
        && b.next().is_some_and(|c| c.is_ascii_alphabetic())
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// Checks an environment against the AAS V3.0 rules the mapper must keep (see the module
/// documentation); the first violation found is the error.
pub fn check(env: &Value) -> Result<(), AasError> {
    walk_check(env, "")
}

fn rule(path: &str, rule: impl Into<String>) -> AasError {
    AasError::Rule {
        path: path.to_owned(),
        rule: rule.into(),
    }
}

fn walk_check(v: &Value, path: &str) -> Result<(), AasError> {
    match v {
        Value::Array(items) => {
            if items.is_empty() {
                return Err(rule(path, "empty array"));
            }
            for (i, x) in items.iter().enumerate() {
                walk_check(x, &format!("{path}/{i}"))?;
            }
            Ok(())
        }
        Value::Object(o) => {
            if let Some(id) = o.get("idShort") {
                if !id.as_str().is_some_and(valid_id_short) {
                    return Err(rule(
                        path,
                        format!("idShort {id} does not match [a-zA-Z][a-zA-Z0-9_]{{0,127}}"),
                    ));
                }
            }
            let model = o
                .get("modelType")
                .and_then(Value::as_str)
                .unwrap_or_default();
            match model {
                "Property" => {
                    let vt = o
                        .get("valueType")
                        .and_then(Value::as_str)
                        .ok_or_else(|| rule(path, "Property without valueType"))?;
                    if let Some(text) = o.get("value") {
                        if !text.as_str().is_some_and(|t| valid_lexical(vt, t)) {
                            return Err(rule(path, format!("value {text} is not a {vt}")));
                        }
                    }
                }
                "File"
                    if o.get("contentType")
                        .and_then(Value::as_str)
                        .is_none_or(str::is_empty) =>
                {
                    return Err(rule(path, "File without contentType"));
                }
                "MultiLanguageProperty" => {
                    for t in o
                        .get("value")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        let text = t.get("text").and_then(Value::as_str).unwrap_or_default();
                        if text.chars().count() > MAX_MLP_TEXT_CHARS
                            || t.get("language")
                                .and_then(Value::as_str)
                                .is_none_or(str::is_empty)
                        {
                            return Err(rule(path, "MultiLanguageProperty text longer than 1023 characters or without language"));
                        }
                    }
                }
                "SubmodelElementList" => check_list(o, path)?,
                _ => {}
            }
            let siblings = match model {
                "SubmodelElementCollection" => o.get("value"),
                "Submodel" => o.get("submodelElements"),
                _ => None,
            };
            if let Some(Value::Array(kids)) = siblings {
                let mut seen = BTreeSet::new();
                for k in kids {
                    let id = k
                        .get("idShort")
                        .and_then(Value::as_str)
                        .ok_or_else(|| rule(path, "element without idShort"))?;
                    if !seen.insert(id) {
                        return Err(rule(path, format!("duplicate idShort {id}")));
                    }
                }
            }
            for (k, x) in o {
                walk_check(x, &format!("{path}/{k}"))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn check_list(o: &Map<String, Value>, path: &str) -> Result<(), AasError> {
    let tvle = o.get("typeValueListElement").and_then(Value::as_str);
    let vtle = o.get("valueTypeListElement").and_then(Value::as_str);
    let sile = o.get("semanticIdListElement");
    for k in o
        .get("value")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if k.get("idShort").is_some() {
            return Err(rule(path, "list child with an idShort (AASd-120)"));
        }
        if k.get("modelType").and_then(Value::as_str) != tvle {
            return Err(rule(
                path,
                "list child not of typeValueListElement (AASd-108)",
            ));
        }
        if tvle == Some("Property") && k.get("valueType").and_then(Value::as_str) != vtle {
            return Err(rule(
                path,
                "list child valueType not valueTypeListElement (AASd-109)",
            ));
        }
        if let (Some(s), Some(ks)) = (sile, k.get("semanticId")) {
            if s != ks {
                return Err(rule(
                    path,
                    "list child semanticId not semanticIdListElement (AASd-107)",
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn tables_are_sorted_for_binary_search() {
        assert!(tables::TEMPLATE.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(tables::URNS.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(tables::SUBMODELS.len(), 7);
    }

    #[test]
    fn id_shorts() {
        for ok in ["a", "batteryMass", "A_1", &"x".repeat(128)] {
            assert!(valid_id_short(ok), "{ok}");
        }
        for bad in ["", "1mass", "battery-mass", "_a", "de-CH", &"x".repeat(129)] {
            assert!(!valid_id_short(bad), "{bad}");
        }
    }

    #[test]
    fn numbers_follow_the_template_type_or_fall_back_to_double() {
        let n = |v: Value| lexical(&v, "xs:unsignedInt").unwrap();
        assert_eq!(n(json!(80.0)), ("xs:unsignedInt".into(), "80".into()));
        assert_eq!(n(json!(80)), ("xs:unsignedInt".into(), "80".into()));
        assert_eq!(n(json!(95.5)), ("xs:double".into(), "95.5".into()));
        assert_eq!(n(json!(-1)), ("xs:double".into(), "-1".into()));
        assert_eq!(lexical(&json!(1e300), "xs:float").unwrap().0, "xs:double");
        assert_eq!(
            lexical(&json!(12.5), "xs:decimal").unwrap(),
            ("xs:decimal".into(), "12.5".into())
        );
        assert_eq!(lexical(&json!(452.0), "xs:double").unwrap().1, "452.0");
        assert_eq!(lexical(&json!(true), "xs:boolean").unwrap().1, "true");
        assert_eq!(
            lexical(&json!("2024-01-01"), "xs:dateTime").unwrap().0,
            "xs:string"
        );
        assert_eq!(lexical(&json!("a b"), "xs:anyURI").unwrap().0, "xs:string");
    }

    #[test]
    fn lexical_spaces() {
        for (vt, ok) in [
            ("xs:double", "1e3"),
            ("xs:double", "INF"),
            ("xs:decimal", "-0.5"),
            ("xs:dateTime", "2025-03-14T06:42:00+01:00"),
            ("xs:dateTime", "2025-03-14T06:42:00.25Z"),
            ("xs:dateTime", "2025-03-14T06:42:00"),
            ("xs:date", "2025-03-14"),
            ("xs:int", "-7"),
        ] {
            assert!(valid_lexical(vt, ok), "{vt} {ok}");
        }
        for (vt, bad) in [
            ("xs:double", "12,5"),
            ("xs:double", "1_0"),
            ("xs:decimal", "1e3"),
            ("xs:boolean", "True"),
            ("xs:dateTime", "2024-01-01"),
            ("xs:date", "2024-13-01"),
            ("xs:unsignedInt", "80.0"),
            ("xs:unsignedInt", "-1"),
            ("xs:anyURI", "a b"),
        ] {
            assert!(!valid_lexical(vt, bad), "{vt} {bad}");
        }
    }

    #[test]
    fn check_refuses_what_the_engine_refuses() {
        let good = json!({"submodels": [{"modelType": "Submodel", "idShort": "S", "submodelElements": [
            {"modelType": "Property", "idShort": "p", "valueType": "xs:int", "value": "1"},
            {"modelType": "SubmodelElementList", "idShort": "l", "typeValueListElement": "Property",
             "valueTypeListElement": "xs:string", "value": [{"modelType": "Property", "valueType": "xs:string", "value": "a"}]}]}]});
        assert_eq!(check(&good), Ok(()));
        let broken = |pointer: &str, v: Value| {
            let mut e = good.clone();
            *e.pointer_mut(pointer).unwrap() = v;
            check(&e).unwrap_err()
        };
        broken("/submodels/0/submodelElements/0/value", json!("1.0"));
        broken("/submodels/0/submodelElements/0/idShort", json!("1p"));
        broken("/submodels/0/submodelElements/0/idShort", json!("l"));
        broken("/submodels/0/submodelElements/1/value", json!([]));
        broken(
            "/submodels/0/submodelElements/1/value/0",
            json!({"modelType": "Property", "idShort": "x", "valueType": "xs:string", "value": "a"}),
        );
        broken(
            "/submodels/0/submodelElements/1/value/0/valueType",
            json!("xs:int"),
        );
        broken(
            "/submodels/0/submodelElements/0",
            json!({"modelType": "File", "idShort": "f", "value": "x"}),
        );
        broken(
            "/submodels/0/submodelElements/0",
            json!({"modelType": "MultiLanguageProperty", "idShort": "m",
            "value": [{"language": "en", "text": "x".repeat(1024)}]}),
        );
    }
}

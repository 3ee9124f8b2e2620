//! [`DigitalLinkPath`]: the path of a GS1 Digital Link request as a resolver receives it,
//! parsed from the raw (still percent-encoded) path, and the levels it walks up.

use std::fmt;

use crate::passport::{
    echo, is_cs82, percent_decode, percent_encode_into, Granularity, Gtin, PassportError,
    ProductIdentifier,
};

/// A part of a Digital Link path that a [`DigitalLinkError`] names: a GS1 Application
/// Identifier, or the path as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Element {
    /// AI 01, the GTIN.
    Gtin,
    /// AI 22, the consumer product variant.
    Cpv,
    /// AI 10, the lot or batch number.
    Lot,
    /// AI 21, the serial number.
    Serial,
    /// AI 235, the third-party controlled, serialised extension of the GTIN.
    Tpx,
    /// The path itself (a segment that is no key qualifier, an empty segment, …).
    Path,
}

impl Element {
    /// The AI (`01`, `22`, `10`, `21`, `235`), or `path`: the `element` member of the 400.
    pub fn as_str(self) -> &'static str {
        match self {
            Element::Gtin => "01",
            Element::Cpv => "22",
            Element::Lot => "10",
            Element::Serial => "21",
            Element::Tpx => "235",
            Element::Path => "path",
        }
    }

    /// A name for people: `serial (AI 21)`.
    pub fn name(self) -> &'static str {
        match self {
            Element::Gtin => "GTIN (AI 01)",
            Element::Cpv => "consumer product variant (AI 22)",
            Element::Lot => "lot (AI 10)",
            Element::Serial => "serial (AI 21)",
            Element::Tpx => "third-party controlled extension (AI 235)",
            Element::Path => "path",
        }
    }

    /// The most characters a value of this AI may have (GS1 General Specifications).
    fn max_chars(self) -> usize {
        match self {
            Element::Tpx => 28,
            Element::Gtin => 14,
            _ => 20,
        }
    }

    /// The key qualifier written as `ai` in a path, with its rank in the `gtin-path` order
    /// (22, then 10, then 21); AI 235 stands alone (`upui-path`).
    fn qualifier(ai: &str) -> Option<(Element, u8)> {
        match ai {
            "22" => Some((Element::Cpv, 0)),
            "10" => Some((Element::Lot, 1)),
            "21" => Some((Element::Serial, 2)),
            "235" => Some((Element::Tpx, 3)),
            _ => None,
        }
    }
}

impl fmt::Display for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a request path is no GS1 Digital Link URI path (a 400 naming the element; never a
/// 404 or a 500).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{element}: {reason}")]
pub struct DigitalLinkError {
    /// The offending element.
    pub element: Element,
    /// What is wrong with it, for people.
    pub reason: String,
}

impl DigitalLinkError {
    fn new(element: Element, reason: impl Into<String>) -> Self {
        DigitalLinkError {
            element,
            reason: reason.into(),
        }
    }
}

/// The primary key and key qualifiers of a Digital Link request path, validated:
/// `/01/{gtin}[/22/{cpv}][/10/{lot}][/21/{serial}]` or `/01/{gtin}/235/{tpx}` (GS1 Digital
/// Link URI syntax 1.7, `gtin-path` and `upui-path`).
///
/// The GTIN may be written with 8, 12, 13 or 14 digits (normalised to 14) and must have its
/// check digit; values are 1–20 (AI 235: 1–28) characters of GS1 character set 82 after
/// percent-decoding. Raw RFC 3986 sub-delimiters (`!&'()*+,;=:`) are accepted as written;
/// `%`-escapes are decoded, so `%2F` inside a serial stays inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigitalLinkPath {
    gtin: Gtin,
    cpv: Option<String>,
    lot: Option<String>,
    serial: Option<String>,
    tpx: Option<String>,
}

impl From<&ProductIdentifier> for DigitalLinkPath {
    /// The path `/01/{gtin}[/10/{lot}][/21/{serial}]` of a product identifier (already valid).
    fn from(product: &ProductIdentifier) -> Self {
        DigitalLinkPath {
            gtin: *product.gtin(),
            cpv: None,
            lot: product.lot().map(str::to_owned),
            serial: product.serial().map(str::to_owned),
            tpx: None,
        }
    }
}

impl DigitalLinkPath {
    /// Parses the raw path below the resolver root (the request path without the public
    /// base URL's path stem), e.g. `/01/09506000134352/10/L1/21/S%2F1`. One trailing `/` is
    /// ignored (the same answer with or without it); the query string must not be part of
    /// `raw`.
    pub fn parse(raw: &str) -> Result<Self, DigitalLinkError> {
        let path = raw.strip_suffix('/').unwrap_or(raw);
        let Some(rest) = path.strip_prefix("/01") else {
            return Err(DigitalLinkError::new(
                Element::Path,
                "a GS1 Digital Link path starts with `/01/` and the GTIN",
            ));
        };
        let Some(rest) = rest.strip_prefix('/') else {
            return Err(DigitalLinkError::new(Element::Gtin, "no GTIN after `/01`"));
        };
        let mut segments = rest.split('/');
        let gtin_text = segments.next().unwrap_or_default();
        let gtin = parse_gtin(gtin_text)?;
        let mut out = DigitalLinkPath {
            gtin,
            cpv: None,
            lot: None,
            serial: None,
            tpx: None,
        };
        let mut last_rank: Option<u8> = None;
        while let Some(ai) = segments.next() {
            let Some((element, rank)) = Element::qualifier(ai) else {
                return Err(unexpected_segment(ai));
            };
            if last_rank.is_some_and(|last| rank <= last) || (rank == 3 && last_rank.is_some()) {
                return Err(DigitalLinkError::new(
                    element,
                    format!(
                        "`/{ai}/` is repeated or out of order; after the GTIN come `/22/`, \
                         `/10/`, `/21/` in that order, each at most once, or `/235/` alone"
                    ),
                ));
            }
            let Some(value) = segments.next() else {
                return Err(DigitalLinkError::new(
                    element,
                    format!("`/{ai}/` has no value"),
                ));
            };
            let value = decode_value(element, value)?;
            match element {
                Element::Cpv => out.cpv = Some(value),
                Element::Lot => out.lot = Some(value),
                Element::Serial => out.serial = Some(value),
                _ => out.tpx = Some(value),
            }
            last_rank = Some(rank);
        }
        Ok(out)
    }

    /// The GTIN (AI 01), 14 digits.
    pub fn gtin(&self) -> &Gtin {
        &self.gtin
    }

    /// The lot (AI 10), if the path has one.
    pub fn lot(&self) -> Option<&str> {
        self.lot.as_deref()
    }

    /// The serial (AI 21), if the path has one.
    pub fn serial(&self) -> Option<&str> {
        self.serial.as_deref()
    }

    /// The consumer product variant (AI 22), if the path has one.
    pub fn cpv(&self) -> Option<&str> {
        self.cpv.as_deref()
    }

    /// The third-party controlled extension (AI 235), if the path has one.
    pub fn tpx(&self) -> Option<&str> {
        self.tpx.as_deref()
    }

    /// The most specific level the path names: `item` with a serial, `batch` with a lot,
    /// otherwise `model` (AI 22 and AI 235 identify nothing Hallmark issues passports for,
    /// so they walk up to the GTIN).
    pub fn granularity(&self) -> Granularity {
        match (&self.lot, &self.serial) {
            (_, Some(_)) => Granularity::Item,
            (Some(_), None) => Granularity::Batch,
            (None, None) => Granularity::Model,
        }
    }

    /// The levels to look up, most specific first: the item (GTIN + serial; GS1 keys an
    /// item's links on 01 + 21 only, so the lot takes no part), then the batch (GTIN + lot),
    /// then the model (GTIN) — each with the product identifier a passport at that level
    /// has (an item passport's lot, if it has one, is not asked for).
    pub fn levels(&self) -> Vec<(Granularity, ProductIdentifier)> {
        let mut levels = Vec::with_capacity(3);
        if let Some(serial) = &self.serial {
            levels.push((
                Granularity::Item,
                ProductIdentifier::from_checked(self.gtin, None, Some(serial.clone())),
            ));
        }
        if let Some(lot) = &self.lot {
            levels.push((
                Granularity::Batch,
                ProductIdentifier::from_checked(self.gtin, Some(lot.clone()), None),
            ));
        }
        levels.push((
            Granularity::Model,
            ProductIdentifier::from_checked(self.gtin, None, None),
        ));
        levels
    }

    /// The canonical path: 14-digit GTIN, the qualifiers in order, every byte of a value
    /// outside the RFC 3986 unreserved set percent-encoded, no trailing slash.
    pub fn canonical(&self) -> String {
        let mut out = format!("/01/{}", self.gtin.as_gtin14());
        for (ai, value) in [
            ("22", &self.cpv),
            ("10", &self.lot),
            ("21", &self.serial),
            ("235", &self.tpx),
        ] {
            if let Some(value) = value {
                out.push('/');
                out.push_str(ai);
                out.push('/');
                percent_encode_into(value, &mut out);
            }
        }
        out
    }

    /// The canonical path of one of [`levels`](Self::levels)' levels, the anchor of its
    /// linkset entry: the model `/01/{gtin}`, the batch `/01/{gtin}/10/{lot}`, and for the
    /// item the request's own canonical path (so that a client walking up the path it asked
    /// for finds the entry; the item's links do not depend on the lot).
    pub fn level_path(&self, level: Granularity) -> String {
        match level {
            Granularity::Item => self.canonical(),
            Granularity::Batch => {
                let mut out = format!("/01/{}/10/", self.gtin.as_gtin14());
                percent_encode_into(self.lot.as_deref().unwrap_or_default(), &mut out);
                out
            }
            Granularity::Model => format!("/01/{}", self.gtin.as_gtin14()),
        }
    }
}

fn parse_gtin(text: &str) -> Result<Gtin, DigitalLinkError> {
    if text.is_empty() {
        return Err(DigitalLinkError::new(Element::Gtin, "no GTIN after `/01/`"));
    }
    Gtin::parse(text).map_err(|e| {
        let reason = match e {
            PassportError::GtinNonDigit { .. } | PassportError::GtinLength { .. } => {
                format!(
                    "{e} (a GTIN in a path is written with its digits, e.g. `09506000134352`; \
                     got {:?})",
                    echo(text)
                )
            }
            other => other.to_string(),
        };
        DigitalLinkError::new(Element::Gtin, reason)
    })
}

fn unexpected_segment(segment: &str) -> DigitalLinkError {
    if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
        DigitalLinkError::new(
            Element::Path,
            format!(
                "AI {segment} is no key qualifier of a GTIN: only `/22/`, `/10/`, `/21/` or \
                 `/235/` may follow it (data attributes such as `17` belong in the query string)"
            ),
        )
    } else if segment.is_empty() {
        DigitalLinkError::new(Element::Path, "empty path segment (`//`)")
    } else {
        DigitalLinkError::new(
            Element::Path,
            format!(
                "unexpected path segment {:?}: only `/22/`, `/10/`, `/21/` or `/235/` with a \
                 value may follow the GTIN",
                echo(segment)
            ),
        )
    }
}

fn decode_value(element: Element, raw: &str) -> Result<String, DigitalLinkError> {
    if raw.is_empty() {
        return Err(DigitalLinkError::new(
            element,
            format!("`/{}/` has an empty value", element.as_str()),
        ));
    }
    let value = percent_decode(raw).map_err(|e| {
        DigitalLinkError::new(
            element,
            match e {
                PassportError::InvalidDigitalLink { reason } => reason,
                other => other.to_string(),
            },
        )
    })?;
    let len = value.chars().count();
    if !(1..=element.max_chars()).contains(&len) {
        return Err(DigitalLinkError::new(
            element,
            format!(
                "must be 1 to {} characters long, got {len}",
                element.max_chars()
            ),
        ));
    }
    if let Some((position, character)) = value.chars().enumerate().find(|(_, c)| !is_cs82(*c)) {
        return Err(DigitalLinkError::new(
            element,
            format!(
                "may only use the GS1 AI encodable character set 82 (A-Z a-z 0-9 and \
                 !\"%&'()*+,-./:;<=>?_), found {character:?} at position {position}"
            ),
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const G: &str = "09506000134352";

    fn err(path: &str) -> DigitalLinkError {
        DigitalLinkPath::parse(path).unwrap_err()
    }

    #[test]
    fn every_gtin_path_form_parses() {
        let p = DigitalLinkPath::parse(&format!("/01/{G}")).unwrap();
        assert_eq!(p.gtin().as_gtin14(), G);
        assert_eq!(p.granularity(), Granularity::Model);
        let p = DigitalLinkPath::parse(&format!("/01/{G}/10/LOT-1")).unwrap();
        assert_eq!(
            (p.lot(), p.granularity()),
            (Some("LOT-1"), Granularity::Batch)
        );
        let p = DigitalLinkPath::parse(&format!("/01/{G}/21/SN1")).unwrap();
        assert_eq!(
            (p.serial(), p.granularity()),
            (Some("SN1"), Granularity::Item)
        );
        let p = DigitalLinkPath::parse(&format!("/01/{G}/22/V1/10/L/21/S/")).unwrap();
        assert_eq!(
            (p.cpv(), p.lot(), p.serial()),
            (Some("V1"), Some("L"), Some("S"))
        );
        let p =
            DigitalLinkPath::parse(&format!("/01/{G}/235/TPX-12345678901234567890123")).unwrap();
        assert_eq!(p.tpx(), Some("TPX-12345678901234567890123"));
        assert_eq!(p.granularity(), Granularity::Model);
    }

    #[test]
    fn short_gtins_become_14_digits() {
        for (short, long) in [
            ("9506000134352", "09506000134352"),
            ("036000291452", "00036000291452"),
            ("96385074", "00000096385074"),
        ] {
            let p = DigitalLinkPath::parse(&format!("/01/{short}")).unwrap();
            assert_eq!(p.gtin().as_gtin14(), long);
            assert_eq!(p.canonical(), format!("/01/{long}"));
        }
        assert_eq!(err("/01/95060001343").element, Element::Gtin);
    }

    #[test]
    fn gtin_errors_name_the_gtin() {
        let e = err("/01/09506000134353");
        assert_eq!(e.element, Element::Gtin);
        assert!(e.reason.contains("check digit is 3"), "{e}");
        assert!(e.reason.contains("check digit is 2"), "{e}");
        let e = err("/01/0950600013435X");
        assert_eq!(e.element, Element::Gtin);
        assert!(e.reason.contains("position 13"), "{e}");
        assert_eq!(err("/01/123").element, Element::Gtin);
        assert_eq!(err("/01/").element, Element::Gtin);
        assert_eq!(err("/01").element, Element::Gtin);
    }

    #[test]
    fn qualifier_order_and_shape_are_enforced() {
        assert_eq!(err(&format!("/01/{G}/21/S/10/L")).element, Element::Lot);
        assert_eq!(err(&format!("/01/{G}/10/L/10/L")).element, Element::Lot);
        assert_eq!(err(&format!("/01/{G}/10/L/22/V")).element, Element::Cpv);
        assert_eq!(err(&format!("/01/{G}/21/S/235/T")).element, Element::Tpx);
        assert_eq!(err(&format!("/01/{G}/235/T/21/S")).element, Element::Serial);
        assert_eq!(err(&format!("/01/{G}/10")).element, Element::Lot);
        assert_eq!(err(&format!("/01/{G}/21/")).element, Element::Serial);
        assert_eq!(err(&format!("/01/{G}/21//")).element, Element::Serial);
        assert_eq!(err(&format!("/01/{G}//21/S")).element, Element::Path);
        assert_eq!(err(&format!("/01/{G}/foo")).element, Element::Path);
        assert_eq!(err(&format!("/01/{G}/21/S/foo")).element, Element::Path);
        let e = err(&format!("/01/{G}/17/261231"));
        assert_eq!(e.element, Element::Path);
        assert!(e.reason.contains("query string"), "{e}");
        assert_eq!(err("/foo").element, Element::Path);
    }

    #[test]
    fn values_are_cset82_after_decoding() {
        let p = DigitalLinkPath::parse(&format!("/01/{G}/21/A%2FB%21c!%25")).unwrap();
        assert_eq!(p.serial(), Some("A/B!c!%"));
        assert_eq!(p.canonical(), format!("/01/{G}/21/A%2FB%21c%21%25"));
        let p = DigitalLinkPath::parse(&format!("/01/{G}/21/a%2fb")).unwrap();
        assert_eq!(p.serial(), Some("a/b"));
        for bad in [
            "A%20B", "A%24", "A%40", "%7E", "%C3%A9", "A~B", "A@B", "A$B", "%ZZ", "%2", "A\"B",
            "A<B",
        ] {
            let e = err(&format!("/01/{G}/21/{bad}"));
            assert_eq!(e.element, Element::Serial, "{bad}: {e}");
        }
        assert_eq!(
            err(&format!("/01/{G}/10/{}", "L".repeat(21))).element,
            Element::Lot
        );
        DigitalLinkPath::parse(&format!("/01/{G}/10/{}", "L".repeat(20))).unwrap();
        DigitalLinkPath::parse(&format!("/01/{G}/235/{}", "T".repeat(28))).unwrap();
        assert_eq!(
            err(&format!("/01/{G}/235/{}", "T".repeat(29))).element,
            Element::Tpx
        );
    }

    #[test]
    fn levels_walk_up_item_batch_model() {
        let p = DigitalLinkPath::parse(&format!("/01/{G}/10/L1/21/S1")).unwrap();
        let levels = p.levels();
        let got: Vec<_> = levels
            .iter()
            .map(|(g, id)| {
                (
                    *g,
                    id.lot().map(str::to_owned),
                    id.serial().map(str::to_owned),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (Granularity::Item, None, Some("S1".to_owned())),
                (Granularity::Batch, Some("L1".to_owned()), None),
                (Granularity::Model, None, None),
            ]
        );
        assert_eq!(
            p.level_path(Granularity::Item),
            format!("/01/{G}/10/L1/21/S1")
        );
        assert_eq!(p.level_path(Granularity::Batch), format!("/01/{G}/10/L1"));
        assert_eq!(p.level_path(Granularity::Model), format!("/01/{G}"));
        let p = DigitalLinkPath::parse(&format!("/01/{G}/22/V/235/T")).err();
        assert!(p.is_some());
        let p = DigitalLinkPath::parse(&format!("/01/{G}/22/V")).unwrap();
        assert_eq!(p.levels().len(), 1);
    }
}

//! [`ProductIdentifier`]: GTIN plus optional lot (AI 10) and serial (AI 21), and its
//! GS1 Digital Link URI form.

use std::fmt::Write as _;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::error::{echo, PassportError};
use super::granularity::Granularity;
use super::gtin::Gtin;
use super::json::Obj;

/// Maximum length of a lot (AI 10) or serial (AI 21) value, per the GS1 General Specifications.
pub const MAX_AI_VALUE_CHARS: usize = 20;

const LOT: &str = "lot (GS1 AI 10)";
const SERIAL: &str = "serial (GS1 AI 21)";

/// The unique product identifier (EN 18219 / EN 18223 `uniqueProductIdentifier`), expressed
/// with GS1 keys: a GTIN (AI 01), optionally qualified by a lot (AI 10) and/or a serial
/// number (AI 21).
///
/// Lot and serial are 1 to 20 characters from GS1 AI encodable character set 82
/// (`A-Z a-z 0-9 ! " % & ' ( ) * + , - . / : ; < = > ? _`; no space). Construction and
/// deserialisation both validate, so a value of this type is always well-formed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductIdentifier {
    gtin: Gtin,
    #[serde(skip_serializing_if = "Option::is_none")]
    lot: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    serial: Option<String>,
}

impl ProductIdentifier {
    /// Validates lot and serial and builds the identifier.
    pub fn new(
        gtin: Gtin,
        lot: Option<String>,
        serial: Option<String>,
    ) -> Result<Self, PassportError> {
        if let Some(lot) = &lot {
            validate_ai_value(LOT, lot)?;
        }
        if let Some(serial) = &serial {
            validate_ai_value(SERIAL, serial)?;
        }
        Ok(Self { gtin, lot, serial })
    }

    /// An identifier of parts already validated (1–20 characters of set 82 each).
    pub(crate) fn from_checked(gtin: Gtin, lot: Option<String>, serial: Option<String>) -> Self {
        Self { gtin, lot, serial }
    }

    /// The GTIN (AI 01).
    pub fn gtin(&self) -> &Gtin {
        &self.gtin
    }

    /// The lot / batch number (AI 10), if any.
    pub fn lot(&self) -> Option<&str> {
        self.lot.as_deref()
    }

    /// The serial number (AI 21), if any.
    pub fn serial(&self) -> Option<&str> {
        self.serial.as_deref()
    }

    /// The only granularity consistent with this identifier: `item` if there is a serial,
    /// otherwise `batch` if there is a lot, otherwise `model`.
    pub fn implied_granularity(&self) -> Granularity {
        match (&self.lot, &self.serial) {
            (_, Some(_)) => Granularity::Item,
            (Some(_), None) => Granularity::Batch,
            (None, None) => Granularity::Model,
        }
    }

    /// Renders the GS1 Digital Link URI
    /// `https://<resolver>/01/<gtin14>[/10/<lot>][/21/<serial>]`.
    ///
    /// `resolver` is either `host[:port][/path]` (https is implied) or a full base URL
    /// `https://host[:port][/path]`. Plain `http://` is accepted only for `localhost` and
    /// `127.0.0.1` (development). The host must be a DNS name or IPv4 address (it is
    /// lowercased); no user info, query or fragment; path segments may use only RFC 3986
    /// unreserved characters and may not be all digits (so they cannot be mistaken for GS1
    /// Application Identifiers). A trailing `/` is ignored.
    ///
    /// Lot and serial are percent-encoded: every byte outside the RFC 3986 unreserved set
    /// (`A-Z a-z 0-9 - . _ ~`) becomes `%XX` with uppercase hex, as the GS1 Digital Link
    /// standard requires for AI values in path segments.
    pub fn digital_link(&self, resolver: &str) -> Result<String, PassportError> {
        let mut out = resolver_base(resolver)?;
        out.push_str("/01/");
        out.push_str(self.gtin.as_gtin14());
        if let Some(lot) = &self.lot {
            out.push_str("/10/");
            percent_encode_into(lot, &mut out);
        }
        if let Some(serial) = &self.serial {
            out.push_str("/21/");
            percent_encode_into(serial, &mut out);
        }
        Ok(out)
    }

    /// The GS1 element string in human-readable interpretation (HRI) form:
    /// `(01)<gtin14>[(10)<lot>][(21)<serial>]`, the text printed under a barcode and the
    /// name of a label file. Values are written as they are (no escaping).
    pub fn element_string(&self) -> String {
        let mut out = format!("(01){}", self.gtin.as_gtin14());
        if let Some(lot) = &self.lot {
            out.push_str("(10)");
            out.push_str(lot);
        }
        if let Some(serial) = &self.serial {
            out.push_str("(21)");
            out.push_str(serial);
        }
        out
    }

    /// Parses a GS1 Digital Link URI back into an identifier.
    ///
    /// The part before the first `/01/` segment must be an acceptable resolver (same rules
    /// as [`digital_link`](Self::digital_link), but any scheme case). GTIN-8/12/13/14 are
    /// accepted after `/01/`. Only the key qualifiers `/10/` and `/21/`, in that order, may
    /// follow; anything else (e.g. AI 22 or 235) is rejected rather than silently dropped.
    /// A query string (GS1 data attributes such as `?17=...`) and a fragment are ignored:
    /// they do not take part in the product's identity.
    pub fn parse_digital_link(uri: &str) -> Result<Self, PassportError> {
        let dl_err = |reason: String| PassportError::InvalidDigitalLink { reason };
        let without_fragment = uri.split('#').next().unwrap_or_default();
        let s = without_fragment.split('?').next().unwrap_or_default();
        let Some(scheme_end) = s.find("://") else {
            return Err(dl_err("must be an absolute https:// URI".to_owned()));
        };
        let after_scheme = scheme_end + 3;
        let Some(path_start) = s[after_scheme..].find('/').map(|i| i + after_scheme) else {
            return Err(dl_err("no `/01/<gtin>` path segment".to_owned()));
        };
        let segments: Vec<&str> = s[path_start + 1..].split('/').collect();
        let Some(key_pos) = segments.iter().position(|seg| *seg == "01") else {
            return Err(dl_err("no `/01/<gtin>` path segment".to_owned()));
        };
        let mut base = s[..path_start].to_owned();
        for seg in &segments[..key_pos] {
            base.push('/');
            base.push_str(seg);
        }
        resolver_base(&base)?;

        let tail = &segments[key_pos + 1..];
        let Some((gtin, mut rest)) = tail.split_first() else {
            return Err(dl_err("missing GTIN after `/01/`".to_owned()));
        };
        let gtin = Gtin::parse(gtin)?;
        let mut take = |ai: &str| -> Result<Option<String>, PassportError> {
            match rest {
                [first, value, tail @ ..] if *first == ai => {
                    rest = tail;
                    percent_decode(value).map(Some)
                }
                [first] if *first == ai => Err(dl_err(format!("`/{ai}/` has no value"))),
                _ => Ok(None),
            }
        };
        let lot = take("10")?;
        let serial = take("21")?;
        if let Some(extra) = rest.first() {
            return Err(dl_err(format!(
                "unsupported or out-of-order path segment {:?}; only `/10/<lot>` then \
                 `/21/<serial>` may follow the GTIN",
                echo(extra)
            )));
        }
        Self::new(gtin, lot, serial)
    }

    /// Parses a GS1 element string in human-readable interpretation form, the inverse of
    /// [`element_string`](Self::element_string): `(01)<gtin>[(10)<lot>][(21)<serial>]`, with
    /// a GTIN-8/12/13/14 (check digit verified) and the qualifiers in that order.
    ///
    /// Every `(` followed by 2 to 4 digits and `)` is read as an Application Identifier, so
    /// an unknown AI (e.g. `(17)`, `(22)`) is refused rather than taken into a value; a lot
    /// or serial containing such a run cannot be written in this form (use the Digital
    /// Link). An AI without a value, a repeated or out-of-order AI, and text before `(01)`
    /// are refused too.
    pub fn parse_element_string(hri: &str) -> Result<Self, PassportError> {
        let err = |reason: String| PassportError::InvalidElementString { reason };
        // (start of the marker, the AI digits, start of the value)
        let mut marks: Vec<(usize, &str, usize)> = Vec::new();
        let bytes = hri.as_bytes();
        for (i, _) in hri.match_indices('(') {
            let digits = bytes[i + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            if (2..=4).contains(&digits) && bytes.get(i + 1 + digits) == Some(&b')') {
                marks.push((i, &hri[i + 1..i + 1 + digits], i + 2 + digits));
            }
        }
        match marks.first() {
            Some(&(0, "01", _)) => {}
            _ => return Err(err("must start with `(01)` and the GTIN".to_owned())),
        }
        let mut gtin = None;
        let mut lot = None;
        let mut serial = None;
        let mut last = 0;
        for (n, &(_, ai, start)) in marks.iter().enumerate() {
            let end = marks.get(n + 1).map_or(hri.len(), |m| m.0);
            let value = &hri[start..end];
            let rank = match ai {
                "01" => 1,
                "10" => 2,
                "21" => 3,
                other => {
                    return Err(err(format!(
                        "unsupported Application Identifier ({other}); only (01), (10) and \
                         (21) identify a product"
                    )))
                }
            };
            if rank <= last {
                return Err(err(format!(
                    "({ai}) repeated or out of order; the order is (01), (10), (21)"
                )));
            }
            last = rank;
            if value.is_empty() {
                return Err(err(format!("({ai}) has no value")));
            }
            match rank {
                1 => gtin = Some(Gtin::parse(value)?),
                2 => lot = Some(value.to_owned()),
                _ => serial = Some(value.to_owned()),
            }
        }
        let gtin = gtin.ok_or_else(|| err("no (01) GTIN".to_owned()))?;
        Self::new(gtin, lot, serial)
    }

    pub(crate) fn from_value(v: &Value, path: &str) -> Result<Self, PassportError> {
        let obj = Obj::new(v, path, &["gtin", "lot", "serial"])?;
        let gtin = Gtin::parse(obj.req_str("gtin")?)?;
        let lot = obj.opt_str("lot")?.map(str::to_owned);
        let serial = obj.opt_str("serial")?.map(str::to_owned);
        Self::new(gtin, lot, serial)
    }
}

impl<'de> Deserialize<'de> for ProductIdentifier {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(deserializer)?;
        Self::from_value(&v, "").map_err(serde::de::Error::custom)
    }
}

/// GS1 AI encodable character set 82.
pub(crate) fn is_cs82(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '!' | '"'
                | '%'
                | '&'
                | '\''
                | '('
                | ')'
                | '*'
                | '+'
                | ','
                | '-'
                | '.'
                | '/'
                | ':'
                | ';'
                | '<'
                | '='
                | '>'
                | '?'
                | '_'
        )
}

fn validate_ai_value(field: &'static str, value: &str) -> Result<(), PassportError> {
    let len = value.chars().count();
    if !(1..=MAX_AI_VALUE_CHARS).contains(&len) {
        return Err(PassportError::AiValueLength { field, len });
    }
    if let Some((position, character)) = value.chars().enumerate().find(|(_, c)| !is_cs82(*c)) {
        return Err(PassportError::AiValueCharacter {
            field,
            position,
            character,
        });
    }
    Ok(())
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Appends `value` with every byte outside the RFC 3986 unreserved set as `%XX` (uppercase).
pub(crate) fn percent_encode_into(value: &str, out: &mut String) {
    for b in value.bytes() {
        if is_unreserved(b) {
            out.push(char::from(b));
        } else {
            // Writing to a String cannot fail.
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// Decodes one path segment: `%XX` escapes, unreserved characters and the RFC 3986 sub-delims
/// `!$&'()*+,;=:@` as they are; anything else must be escaped.
pub(crate) fn percent_decode(segment: &str) -> Result<String, PassportError> {
    let dl_err = |reason: String| PassportError::InvalidDigitalLink { reason };
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex_pair = bytes.get(i + 1..i + 3).unwrap_or_default();
            let decoded = std::str::from_utf8(hex_pair)
                .ok()
                .filter(|h| h.len() == 2 && h.bytes().all(|c| c.is_ascii_hexdigit()))
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            let Some(decoded) = decoded else {
                return Err(dl_err(format!(
                    "bad percent-escape in path segment {:?}",
                    echo(segment)
                )));
            };
            out.push(decoded);
            i += 3;
        } else if is_unreserved(b) || b"!$&'()*+,;=:@".contains(&b) {
            out.push(b);
            i += 1;
        } else {
            return Err(dl_err(format!(
                "character {:?} in path segment {:?} must be percent-encoded",
                char::from(b),
                echo(segment)
            )));
        }
    }
    String::from_utf8(out)
        .map_err(|_| dl_err(format!("path segment {:?} is not UTF-8", echo(segment))))
}

impl Granularity {
    /// Checks that `product` carries exactly the qualifiers this granularity requires.
    pub fn check(self, product: &ProductIdentifier) -> Result<(), PassportError> {
        let has_lot = product.lot().is_some();
        let has_serial = product.serial().is_some();
        let reason = match self {
            Granularity::Model if has_lot => Some("a model-level identifier must not have a lot"),
            Granularity::Model if has_serial => {
                Some("a model-level identifier must not have a serial")
            }
            Granularity::Batch if !has_lot => Some("a batch-level identifier requires a lot"),
            Granularity::Batch if has_serial => {
                Some("a batch-level identifier must not have a serial")
            }
            Granularity::Item if !has_serial => Some("an item-level identifier requires a serial"),
            _ => None,
        };
        match reason {
            Some(reason) => Err(PassportError::GranularityMismatch {
                granularity: self.as_str(),
                reason,
            }),
            None => Ok(()),
        }
    }
}

/// Validates and normalises a resolver base; see [`ProductIdentifier::digital_link`].
fn resolver_base(input: &str) -> Result<String, PassportError> {
    let err = |reason: &str| PassportError::InvalidResolver {
        resolver: echo(input),
        reason: reason.to_owned(),
    };
    if input
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || !c.is_ascii())
    {
        return Err(err(
            "must be ASCII without whitespace or control characters",
        ));
    }
    if input.contains(['?', '#', '@']) {
        return Err(err("must not contain a query, a fragment or user info"));
    }
    let (scheme, rest) = match input.find("://") {
        Some(i) => (input[..i].to_ascii_lowercase(), &input[i + 3..]),
        None => ("https".to_owned(), input),
    };
    if scheme != "https" && scheme != "http" {
        return Err(err("scheme must be https"));
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if authority.starts_with('[') {
        return Err(err("IPv6 literal hosts are not supported"));
    }
    let (host, port) = match authority.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    let host = host.to_ascii_lowercase();
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if host.is_empty() || host.len() > 253 || !host.split('.').all(label_ok) {
        return Err(err("host must be a DNS name or an IPv4 address"));
    }
    let port = match port {
        None => String::new(),
        Some(p) => {
            let valid = p.len() <= 5
                && p.bytes().all(|b| b.is_ascii_digit())
                && p.parse::<u32>().is_ok_and(|n| (1..=65535).contains(&n));
            if !valid {
                return Err(err("port must be a number from 1 to 65535"));
            }
            format!(":{p}")
        }
    };
    if scheme == "http" && host != "localhost" && host != "127.0.0.1" {
        return Err(err(
            "plain http is only allowed for localhost and 127.0.0.1; use https",
        ));
    }
    let path = path.trim_end_matches('/');
    if !path.is_empty() {
        for seg in path[1..].split('/') {
            if seg.is_empty() || seg == "." || seg == ".." {
                return Err(err("path must not contain empty, `.` or `..` segments"));
            }
            if !seg.bytes().all(is_unreserved) {
                return Err(err(
                    "path segments may only use letters, digits, `-`, `.`, `_` and `~`",
                ));
            }
            if seg.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err(
                    "path segments must not be all digits (they would read as GS1 AIs)",
                ));
            }
        }
    }
    Ok(format!("{scheme}://{host}{port}{path}"))
}

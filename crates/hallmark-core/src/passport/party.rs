//! A typed reading of the operator and facility identifiers (ISO/IEC 15459, EN 18219).
//!
//! The envelope keeps `economicOperatorId` and `facilityId` as the strings the client wrote:
//! nothing here normalises them (that would change submission digests and the scope of
//! external references). [`PartyId::classify`] *reads* such a string and says whether it is
//! an ISO/IEC 15459 identifier, something else (an EORI number, a free string), or a
//! malformed attempt at one. Validation ([`crate::issue::validate_with`]) and exports build
//! on that reading; its accessors give the canonical forms ([`PartyId::scheme`],
//! [`PartyId::issuing_agency`], [`PartyId::value`], [`PartyId::uri`]).
//!
//! Accepted spellings (scheme, host and the `urn:` prefixes are case-insensitive):
//!
//! | spelling | read as |
//! |---|---|
//! | `4012345000016`, `urn:gln:4012345000016` | GS1 GLN, role unspecified |
//! | `(417)4012345000016` | GLN of a party (GS1 AI 417) |
//! | `(414)4012345000016`, `(414)4012345000016(254)EXT` | GLN of a location (AI 414, extension AI 254) |
//! | `https://<host>[/path]/417/<gln>` | party (GS1 Digital Link; query and fragment ignored) |
//! | `https://<host>[/path]/414/<gln>[/254/<ext>]` | location |
//! | `urn:epc:id:pgln:<CP>.<REF>` | party (EPC; CP+REF are 12 digits, the check digit is computed) |
//! | `urn:epc:id:sgln:<CP>.<REF>.<EXT>` | location (`EXT` `0` = no extension) |
//! | `iso15459:<IAC>:<value>` | another issuing agency of [`AGENCIES`] (Hallmark's own syntax) |
//! | `urn:eori:…` | an EORI number: **not** ISO/IEC 15459 |
//! | anything else | a free string: **not** ISO/IEC 15459 |
//!
//! A GLN spelling whose role does not fit the field is malformed: an economic operator is a
//! party (AI 417 or a plain GLN), a facility a location (AI 414 or a plain GLN).

use std::fmt;

use super::gs1::{Gln, GlnRef, GlnRole};
use super::{is_cs82, percent_decode, percent_encode_into};

/// Which envelope field an identifier is read for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartyField {
    /// `economicOperatorId`: a party.
    Operator,
    /// `facilityId`: a location.
    Facility,
}

impl PartyField {
    /// The wire name of the field.
    pub fn wire_name(self) -> &'static str {
        match self {
            PartyField::Operator => "economicOperatorId",
            PartyField::Facility => "facilityId",
        }
    }

    /// The JSON pointer of the field in a passport or draft.
    pub fn pointer(self) -> &'static str {
        match self {
            PartyField::Operator => "/economicOperatorId",
            PartyField::Facility => "/facilityId",
        }
    }
}

/// One issuing agency Hallmark accepts under `iso15459:<IAC>:<value>`. Equal when the codes
/// are.
#[derive(Debug, Clone, Copy)]
pub struct Agency {
    /// The ISO/IEC 15459-2 issuing agency code, e.g. `UN`.
    pub code: &'static str,
    /// The agency's name.
    pub name: &'static str,
    /// What its identifiers look like, for messages.
    pub rule: &'static str,
    check: fn(&str) -> bool,
}

fn nine_digits(v: &str) -> bool {
    v.len() == 9 && v.bytes().all(|b| b.is_ascii_digit())
}

fn iso15459_chars(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= MAX_ISO15459_CHARS - 2
        && v.bytes().all(|b| {
            b.is_ascii_uppercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'/')
        })
}

/// Longest ISO/IEC 15459 identifier (issuing agency code included), in characters.
pub const MAX_ISO15459_CHARS: usize = 50;

/// The issuing agencies other than GS1 that `iso15459:<IAC>:<value>` accepts. GS1 (codes
/// `0`–`9`) is written as a GLN instead. Codes not in this table are refused.
pub const AGENCIES: &[Agency] = &[
    Agency {
        code: "UN",
        name: "Dun & Bradstreet (DUNS)",
        rule: "9 digits (a DUNS number)",
        check: nine_digits,
    },
    Agency {
        code: "OD",
        name: "Odette International",
        rule: "1 to 48 characters of A-Z 0-9 - . /",
        check: iso15459_chars,
    },
    Agency {
        code: "RH",
        name: "HIBCC",
        rule: "1 to 48 characters of A-Z 0-9 - . /",
        check: iso15459_chars,
    },
];

pub use super::error::IdentifierError;

/// A typed reading of an operator or facility identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PartyId {
    /// A GS1 GLN: ISO/IEC 15459, issuing agency GS1 (codes `0`–`9`).
    Gln(GlnRef),
    /// Another issuing agency, written `iso15459:<IAC>:<value>`.
    Iso15459 {
        /// The agency (from [`AGENCIES`]).
        agency: Agency,
        /// The identifier under it, as written after the second colon.
        value: String,
    },
    /// An EORI number (`urn:eori:…`): not ISO/IEC 15459.
    Eori(String),
    /// Any other string: not ISO/IEC 15459.
    Free(String),
}

impl PartialEq for Agency {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code
    }
}

impl Eq for Agency {}

impl std::hash::Hash for Agency {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.code.hash(state);
    }
}

/// The result of [`PartyId::classify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classified {
    /// An ISO/IEC 15459 identifier.
    Iso15459(Iso15459Party),
    /// Readable, but not ISO/IEC 15459 ([`PartyId::Eori`] or [`PartyId::Free`]).
    NotIso15459(PartyId),
    /// Looks like an ISO/IEC 15459 identifier but is not a valid one.
    Malformed(IdentifierProblem),
}

/// An ISO/IEC 15459 operator or facility identifier, with the string it was read from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Iso15459Party {
    /// The reading ([`PartyId::Gln`] or [`PartyId::Iso15459`]).
    pub id: PartyId,
    /// The field it was read for.
    pub field: PartyField,
    /// The string as the client wrote it (kept as is in the passport).
    pub as_written: String,
}

impl Iso15459Party {
    /// `gs1-gln` or `iso15459`.
    pub fn scheme(&self) -> &'static str {
        self.id.scheme().unwrap_or("iso15459")
    }

    /// The issuing agency code: the GLN's first digit for GS1, else the `<IAC>`.
    pub fn issuing_agency(&self) -> &str {
        self.id.issuing_agency().unwrap_or_default()
    }

    /// The canonical value: the 13 GLN digits, or the agency's value.
    pub fn value(&self) -> &str {
        self.id.value().unwrap_or_default()
    }

    /// The canonical https URI for this field, where one exists (GS1:
    /// `https://id.gs1.org/417/<gln>` for an operator, `…/414/<gln>[/254/<ext>]` for a
    /// facility); `None` for other agencies, which have no resolver URI.
    pub fn uri(&self) -> Option<String> {
        self.id.uri(self.field)
    }
}

/// A malformed identifier: which field, what was written and what is wrong. Its message
/// names all three, e.g. ``economicOperatorId`: GLN check digit is 7 but the GS1 mod-10
/// check digit is 6 (in `urn:gln:4012345000017`)``.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentifierProblem {
    /// The field.
    pub field: PartyField,
    /// The string as written (truncated to 80 characters in the message).
    pub as_written: String,
    /// What is wrong.
    pub error: IdentifierError,
}

impl fmt::Display for IdentifierProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}`: {} (in `{}`)",
            self.field.wire_name(),
            self.error,
            super::echo(&self.as_written)
        )
    }
}

impl std::error::Error for IdentifierProblem {}

const GS1_HOST_URI: &str = "https://id.gs1.org";

impl PartyId {
    /// Reads `as_written` as an identifier for `field`. Never fails: the answer says whether
    /// it is ISO/IEC 15459, not ISO/IEC 15459, or a malformed attempt at one.
    pub fn classify(as_written: &str, field: PartyField) -> Classified {
        let problem = |error| {
            Classified::Malformed(IdentifierProblem {
                field,
                as_written: as_written.to_owned(),
                error,
            })
        };
        let read = match read(as_written) {
            Reading::Gln(result) => result.map(PartyId::Gln),
            Reading::Agency(result) => result,
            Reading::Eori => return Classified::NotIso15459(PartyId::Eori(as_written.to_owned())),
            Reading::Free => return Classified::NotIso15459(PartyId::Free(as_written.to_owned())),
        };
        let id = match read {
            Ok(id) => id,
            Err(e) => return problem(e),
        };
        if let PartyId::Gln(g) = &id {
            match (field, g.role) {
                (PartyField::Operator, GlnRole::Location) => {
                    return problem(IdentifierError::RoleMismatch(
                        "an economic operator is a party: use GS1 AI 417 or a plain GLN, not AI 414 (a physical location)",
                    ))
                }
                (PartyField::Facility, GlnRole::Party) => {
                    return problem(IdentifierError::RoleMismatch(
                        "a facility is a location: use GS1 AI 414 or a plain GLN, not AI 417 (a party)",
                    ))
                }
                _ => {}
            }
        }
        Classified::Iso15459(Iso15459Party {
            id,
            field,
            as_written: as_written.to_owned(),
        })
    }

    /// Whether this reading is an ISO/IEC 15459 identifier.
    pub fn is_iso15459(&self) -> bool {
        matches!(self, PartyId::Gln(_) | PartyId::Iso15459 { .. })
    }

    /// `gs1-gln`, `iso15459` (another agency), or `None` when not ISO/IEC 15459.
    pub fn scheme(&self) -> Option<&'static str> {
        match self {
            PartyId::Gln(_) => Some("gs1-gln"),
            PartyId::Iso15459 { .. } => Some("iso15459"),
            _ => None,
        }
    }

    /// The ISO/IEC 15459 issuing agency code (a GLN's first digit for GS1).
    pub fn issuing_agency(&self) -> Option<&str> {
        match self {
            PartyId::Gln(g) => Some(g.gln.issuing_agency_code()),
            PartyId::Iso15459 { agency, .. } => Some(agency.code),
            _ => None,
        }
    }

    /// The canonical value: the 13 GLN digits, or the agency's value.
    pub fn value(&self) -> Option<&str> {
        match self {
            PartyId::Gln(g) => Some(g.gln.as_str()),
            PartyId::Iso15459 { value, .. } => Some(value),
            _ => None,
        }
    }

    /// The canonical https URI for `field` (GS1 only): `https://id.gs1.org/417/<gln>` for an
    /// operator, `https://id.gs1.org/414/<gln>[/254/<ext>]` for a facility.
    pub fn uri(&self, field: PartyField) -> Option<String> {
        let PartyId::Gln(g) = self else {
            return None;
        };
        Some(match field {
            PartyField::Operator => format!("{GS1_HOST_URI}/417/{}", g.gln),
            PartyField::Facility => {
                let mut s = format!("{GS1_HOST_URI}/414/{}", g.gln);
                if let Some(ext) = &g.extension {
                    s.push_str("/254/");
                    percent_encode_into(ext, &mut s);
                }
                s
            }
        })
    }
}

enum Reading {
    Gln(Result<GlnRef, IdentifierError>),
    Agency(Result<PartyId, IdentifierError>),
    Eori,
    Free,
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

fn form(form: &'static str, reason: impl Into<String>) -> IdentifierError {
    IdentifierError::Form {
        form,
        reason: reason.into(),
    }
}

fn gln_ref(gln: Gln, role: GlnRole, extension: Option<String>) -> GlnRef {
    GlnRef {
        gln,
        role,
        extension,
    }
}

fn check_extension(f: &'static str, ext: &str) -> Result<(), IdentifierError> {
    let len = ext.chars().count();
    if !(1..=20).contains(&len) {
        return Err(form(
            f,
            format!("the GLN extension (AI 254) must be 1 to 20 characters, got {len}"),
        ));
    }
    if let Some(c) = ext.chars().find(|c| !is_cs82(*c)) {
        return Err(form(
            f,
            format!("the GLN extension (AI 254) may only use GS1 character set 82, found {c:?}"),
        ));
    }
    Ok(())
}

fn read(s: &str) -> Reading {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return Reading::Gln(Gln::parse(s).map(|g| gln_ref(g, GlnRole::Unspecified, None)));
    }
    if let Some(rest) = strip_prefix_ci(s, "urn:gln:") {
        return Reading::Gln(Gln::parse(rest).map(|g| gln_ref(g, GlnRole::Unspecified, None)));
    }
    if s.starts_with("(417)") || s.starts_with("(414)") {
        return Reading::Gln(read_element_string(s));
    }
    if let Some(rest) = strip_prefix_ci(s, "urn:epc:id:pgln:") {
        return Reading::Gln(read_epc(rest, GlnRole::Party));
    }
    if let Some(rest) = strip_prefix_ci(s, "urn:epc:id:sgln:") {
        return Reading::Gln(read_epc(rest, GlnRole::Location));
    }
    if strip_prefix_ci(s, "urn:eori:").is_some() {
        return Reading::Eori;
    }
    if let Some(rest) = strip_prefix_ci(s, "iso15459:") {
        return Reading::Agency(read_agency(rest));
    }
    if let Some(rest) = strip_prefix_ci(s, "https://") {
        if let Some(r) = read_digital_link(rest) {
            return Reading::Gln(r);
        }
    }
    Reading::Free
}

fn read_element_string(s: &str) -> Result<GlnRef, IdentifierError> {
    const F: &str = "GS1 element string";
    let role = if s.starts_with("(417)") {
        GlnRole::Party
    } else {
        GlnRole::Location
    };
    let rest = &s[5..];
    let (gln, ext) = match rest.split_once("(254)") {
        Some((gln, ext)) => (gln, Some(ext)),
        None => (rest, None),
    };
    let gln = Gln::parse(gln)?;
    match (role, ext) {
        (_, None) => Ok(gln_ref(gln, role, None)),
        (GlnRole::Location, Some(ext)) => {
            check_extension(F, ext)?;
            Ok(gln_ref(gln, role, Some(ext.to_owned())))
        }
        _ => Err(form(F, "AI 254 (GLN extension) only follows AI 414")),
    }
}

fn read_epc(rest: &str, role: GlnRole) -> Result<GlnRef, IdentifierError> {
    const F: &str = "EPC URI";
    let parts: Vec<&str> = rest.split('.').collect();
    let (cp, reference, ext) = match (role, parts.as_slice()) {
        (GlnRole::Party, [cp, r]) => (*cp, *r, None),
        (GlnRole::Location, [cp, r, e]) => (*cp, *r, Some(*e)),
        (GlnRole::Party, _) => {
            return Err(form(
                F,
                "expected `urn:epc:id:pgln:<company prefix>.<party reference>`",
            ))
        }
        _ => {
            return Err(form(
                F,
                "expected `urn:epc:id:sgln:<company prefix>.<location reference>.<extension>`",
            ))
        }
    };
    if cp.is_empty() {
        return Err(form(F, "the GS1 Company Prefix is empty"));
    }
    let gln = Gln::from_body(&format!("{cp}{reference}")).map_err(|e| {
        form(
            F,
            format!("company prefix and reference: {e} (including the check digit)"),
        )
    })?;
    let extension = match ext {
        None | Some("0") => None,
        Some(e) => {
            let e =
                percent_decode(e).map_err(|_| form(F, "bad percent-encoding in the extension"))?;
            check_extension(F, &e)?;
            Some(e)
        }
    };
    Ok(gln_ref(gln, role, extension))
}

/// `rest` is the URI after `https://`. `None` when there is no `/417/` or `/414/` segment
/// (then the string is not a GLN spelling at all).
fn read_digital_link(rest: &str) -> Option<Result<GlnRef, IdentifierError>> {
    const F: &str = "GS1 Digital Link";
    let s = rest.split('#').next().unwrap_or_default();
    let s = s.split('?').next().unwrap_or_default();
    let path = &s[s.find('/')? + 1..];
    let segments: Vec<&str> = path.split('/').collect();
    let key = segments
        .iter()
        .position(|seg| *seg == "417" || *seg == "414")?;
    let role = if segments[key] == "417" {
        GlnRole::Party
    } else {
        GlnRole::Location
    };
    Some((|| {
        let tail = &segments[key + 1..];
        let Some((gln, rest)) = tail.split_first() else {
            return Err(form(F, format!("missing GLN after `/{}/`", segments[key])));
        };
        let gln = Gln::parse(gln)?;
        let extension = match (role, rest) {
            (_, []) | (_, [""]) => None,
            (GlnRole::Location, ["254", ext]) => {
                let ext = percent_decode(ext)
                    .map_err(|_| form(F, "bad percent-encoding in the `/254/` extension"))?;
                check_extension(F, &ext)?;
                Some(ext)
            }
            _ => {
                return Err(form(
                    F,
                    format!(
                        "unsupported path after the GLN: `/{}`; only `/254/<extension>` may follow `/414/<gln>`",
                        super::echo(&rest.join("/"))
                    ),
                ))
            }
        };
        Ok(gln_ref(gln, role, extension))
    })())
}

fn read_agency(rest: &str) -> Result<PartyId, IdentifierError> {
    let known = || {
        AGENCIES
            .iter()
            .map(|a| a.code)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some((iac, value)) = rest.split_once(':') else {
        return Err(form(
            "ISO/IEC 15459 identifier",
            "expected `iso15459:<issuing agency code>:<value>`",
        ));
    };
    let Some(agency) = AGENCIES.iter().find(|a| a.code == iac) else {
        return Err(IdentifierError::UnknownAgency {
            iac: super::echo(iac),
            known: known(),
        });
    };
    if !(agency.check)(value) {
        return Err(IdentifierError::AgencyValue {
            iac: agency.code,
            name: agency.name,
            rule: agency.rule,
        });
    }
    Ok(PartyId::Iso15459 {
        agency: *agency,
        value: value.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::type_complexity
    )]
    use super::*;
    use PartyField::{Facility, Operator};

    const G: &str = "4012345000016";

    /// (input, field, value, canonical URI, role, extension)
    #[test]
    fn accepted_spellings() {
        let table: &[(&str, PartyField, &str, Option<&str>, GlnRole, Option<&str>)] = &[
            (
                G,
                Operator,
                G,
                Some("https://id.gs1.org/417/4012345000016"),
                GlnRole::Unspecified,
                None,
            ),
            (
                G,
                Facility,
                G,
                Some("https://id.gs1.org/414/4012345000016"),
                GlnRole::Unspecified,
                None,
            ),
            (
                "urn:gln:4012345000016",
                Operator,
                G,
                Some("https://id.gs1.org/417/4012345000016"),
                GlnRole::Unspecified,
                None,
            ),
            (
                "URN:GLN:4012345000016",
                Facility,
                G,
                Some("https://id.gs1.org/414/4012345000016"),
                GlnRole::Unspecified,
                None,
            ),
            (
                "(417)4012345000016",
                Operator,
                G,
                Some("https://id.gs1.org/417/4012345000016"),
                GlnRole::Party,
                None,
            ),
            (
                "(414)4012345000016",
                Facility,
                G,
                Some("https://id.gs1.org/414/4012345000016"),
                GlnRole::Location,
                None,
            ),
            (
                "(414)4012345000016(254)HALL-3",
                Facility,
                G,
                Some("https://id.gs1.org/414/4012345000016/254/HALL-3"),
                GlnRole::Location,
                Some("HALL-3"),
            ),
            (
                "https://id.gs1.org/417/4012345000016",
                Operator,
                G,
                Some("https://id.gs1.org/417/4012345000016"),
                GlnRole::Party,
                None,
            ),
            (
                "HTTPS://example.com/gs1/414/4012345000016/254/A%2FB?x=1#f",
                Facility,
                G,
                Some("https://id.gs1.org/414/4012345000016/254/A%2FB"),
                GlnRole::Location,
                Some("A/B"),
            ),
            (
                "https://id.gs1.org/414/4012345000016",
                Facility,
                G,
                Some("https://id.gs1.org/414/4012345000016"),
                GlnRole::Location,
                None,
            ),
            (
                "urn:epc:id:pgln:4012345.00001",
                Operator,
                G,
                Some("https://id.gs1.org/417/4012345000016"),
                GlnRole::Party,
                None,
            ),
            (
                "urn:epc:id:sgln:4012345.00001.0",
                Facility,
                G,
                Some("https://id.gs1.org/414/4012345000016"),
                GlnRole::Location,
                None,
            ),
            (
                "urn:epc:id:sgln:401234500.001.7",
                Facility,
                G,
                Some("https://id.gs1.org/414/4012345000016/254/7"),
                GlnRole::Location,
                Some("7"),
            ),
        ];
        for (input, field, value, uri, role, ext) in table {
            let Classified::Iso15459(p) = PartyId::classify(input, *field) else {
                panic!("{input}: {:?}", PartyId::classify(input, *field));
            };
            assert_eq!(p.scheme(), "gs1-gln", "{input}");
            assert_eq!(p.issuing_agency(), "4", "{input}");
            assert_eq!(p.value(), *value, "{input}");
            assert_eq!(p.uri().as_deref(), *uri, "{input}");
            assert_eq!(p.as_written, *input);
            let PartyId::Gln(g) = &p.id else { panic!() };
            assert_eq!(g.role, *role, "{input}");
            assert_eq!(g.extension.as_deref(), *ext, "{input}");
        }
    }

    #[test]
    fn other_agencies_by_prefix() {
        let Classified::Iso15459(p) = PartyId::classify("iso15459:UN:150483782", Operator) else {
            panic!()
        };
        assert_eq!(
            (p.scheme(), p.issuing_agency(), p.value(), p.uri()),
            ("iso15459", "UN", "150483782", None)
        );
        assert!(matches!(
            PartyId::classify("iso15459:OD:ACME-1/2", Facility),
            Classified::Iso15459(_)
        ));
    }

    #[test]
    fn not_iso15459() {
        for (input, eori) in [
            ("urn:eori:DE123456789012345", true),
            ("ACME GmbH", false),
            ("https://acme.example/operators/7", false),
            ("http://id.gs1.org/417/4012345000016", false),
            ("urn:facility:second", false),
        ] {
            match PartyId::classify(input, Operator) {
                Classified::NotIso15459(PartyId::Eori(s)) if eori => assert_eq!(s, input),
                Classified::NotIso15459(PartyId::Free(s)) if !eori => assert_eq!(s, input),
                other => panic!("{input}: {other:?}"),
            }
        }
    }

    /// (input, field, message)
    #[test]
    fn malformed_messages() {
        let table: &[(&str, PartyField, &str)] = &[
            ("urn:gln:4012345000017", Operator,
             "`economicOperatorId`: GLN check digit is 7 but the GS1 mod-10 check digit is 6 (in `urn:gln:4012345000017`)"),
            ("4012345000017", Facility,
             "`facilityId`: GLN check digit is 7 but the GS1 mod-10 check digit is 6 (in `4012345000017`)"),
            ("urn:gln:1", Facility, "`facilityId`: GLN must have 13 digits, got 1 (in `urn:gln:1`)"),
            ("12345", Operator, "`economicOperatorId`: GLN must have 13 digits, got 5 (in `12345`)"),
            ("urn:gln:40123450000x6", Operator,
             "`economicOperatorId`: GLN must contain only digits 0-9, found 'x' at position 11 (in `urn:gln:40123450000x6`)"),
            ("https://id.gs1.org/414/4012345000016", Operator,
             "`economicOperatorId`: an economic operator is a party: use GS1 AI 417 or a plain GLN, not AI 414 (a physical location) (in `https://id.gs1.org/414/4012345000016`)"),
            ("urn:epc:id:sgln:4012345.00001.0", Operator,
             "`economicOperatorId`: an economic operator is a party: use GS1 AI 417 or a plain GLN, not AI 414 (a physical location) (in `urn:epc:id:sgln:4012345.00001.0`)"),
            ("(417)4012345000016", Facility,
             "`facilityId`: a facility is a location: use GS1 AI 414 or a plain GLN, not AI 417 (a party) (in `(417)4012345000016`)"),
            ("https://id.gs1.org/417/", Operator,
             "`economicOperatorId`: GLN must have 13 digits, got 0 (in `https://id.gs1.org/417/`)"),
            ("https://id.gs1.org/417", Operator,
             "`economicOperatorId`: malformed GS1 Digital Link: missing GLN after `/417/` (in `https://id.gs1.org/417`)"),
            ("https://id.gs1.org/417/4012345000016/254/X", Operator,
             "`economicOperatorId`: malformed GS1 Digital Link: unsupported path after the GLN: `/254/X`; only `/254/<extension>` may follow `/414/<gln>` (in `https://id.gs1.org/417/4012345000016/254/X`)"),
            ("(414)4012345000016(254)", Facility,
             "`facilityId`: malformed GS1 element string: the GLN extension (AI 254) must be 1 to 20 characters, got 0 (in `(414)4012345000016(254)`)"),
            ("urn:epc:id:pgln:4012345.0001", Operator,
             "`economicOperatorId`: malformed EPC URI: company prefix and reference: GLN must have 13 digits, got 12 (including the check digit) (in `urn:epc:id:pgln:4012345.0001`)"),
            ("iso15459:XY:123", Operator,
             "`economicOperatorId`: issuing agency code `XY` is not known to this node (known: UN, OD, RH; GS1 identifiers are written as GLNs) (in `iso15459:XY:123`)"),
            ("iso15459:UN:12345", Operator,
             "`economicOperatorId`: an identifier of issuing agency `UN` (Dun & Bradstreet (DUNS)) must be 9 digits (a DUNS number) (in `iso15459:UN:12345`)"),
            ("iso15459:OD:lower", Facility,
             "`facilityId`: an identifier of issuing agency `OD` (Odette International) must be 1 to 48 characters of A-Z 0-9 - . / (in `iso15459:OD:lower`)"),
            ("iso15459:UN", Operator,
             "`economicOperatorId`: malformed ISO/IEC 15459 identifier: expected `iso15459:<issuing agency code>:<value>` (in `iso15459:UN`)"),
        ];
        for (input, field, message) in table {
            match PartyId::classify(input, *field) {
                Classified::Malformed(p) => assert_eq!(p.to_string(), *message),
                other => panic!("{input}: {other:?}"),
            }
        }
    }

    proptest::proptest! {
        /// Every valid GLN reads the same in every spelling, and its canonical URI reads back
        /// to the same GLN.
        #[test]
        fn spellings_agree(body in "[0-9]{12}") {
            let gln = Gln::from_body(&body).unwrap();
            for s in [
                gln.to_string(),
                format!("urn:gln:{gln}"),
                format!("(417){gln}"),
                format!("https://id.gs1.org/417/{gln}"),
            ] {
                let Classified::Iso15459(p) = PartyId::classify(&s, Operator) else {
                    return Err(proptest::test_runner::TestCaseError::fail(s));
                };
                proptest::prop_assert_eq!(p.value(), gln.as_str());
                let uri = p.uri().unwrap();
                let Classified::Iso15459(back) = PartyId::classify(&uri, Operator) else {
                    return Err(proptest::test_runner::TestCaseError::fail(uri));
                };
                proptest::prop_assert_eq!(back.value(), gln.as_str());
            }
        }
    }
}

//! The one error type of the passport model.

use thiserror::Error;

/// Everything that can be wrong with a passport, its identifiers or its JSON.
///
/// Messages are meant to be shown to API clients as they are: they name the offending
/// field (as a JSON path such as `components[3].sha256`) and say what was expected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PassportError {
    // ---- passport id -------------------------------------------------------------
    /// The passport id does not start with `urn:uuid:`.
    #[error("passport id must have the form `urn:uuid:<uuid>`, got {value:?}")]
    PassportIdPrefix {
        /// The rejected input (truncated to 80 characters).
        value: String,
    },
    /// The part after `urn:uuid:` is not a UUID in lowercase hyphenated form.
    #[error("passport id is not a lowercase hyphenated UUID: {detail}")]
    PassportIdMalformed {
        /// What is wrong.
        detail: String,
    },
    /// The UUID is well-formed but not a version 7, RFC 9562-variant UUID.
    #[error("passport id must be a UUIDv7 (RFC 9562 variant), got version {version}")]
    PassportIdNotV7 {
        /// The version nibble found (0 when the variant is wrong).
        version: usize,
    },
    /// A UUIDv7 timestamp has only 48 bits.
    #[error("unix timestamp {millis} ms does not fit the 48-bit UUIDv7 timestamp field")]
    PassportIdTimestampOutOfRange {
        /// The rejected timestamp.
        millis: u64,
    },

    // ---- GTIN --------------------------------------------------------------------
    /// A GTIN character is not an ASCII digit.
    #[error("GTIN must contain only digits 0-9, found {character:?} at position {position}")]
    GtinNonDigit {
        /// Zero-based character position.
        position: usize,
        /// The offending character.
        character: char,
    },
    /// A GTIN must have 8, 12, 13 or 14 digits.
    #[error("GTIN must have 8, 12, 13 or 14 digits, got {len}")]
    GtinLength {
        /// Number of characters found.
        len: usize,
    },
    /// The GS1 mod-10 check digit does not match.
    #[error("GTIN check digit is {found} but the GS1 mod-10 check digit is {expected}")]
    GtinCheckDigit {
        /// The check digit computed from the other digits.
        expected: u8,
        /// The last digit of the input.
        found: u8,
    },

    // ---- lot / serial (GS1 AI 10 / AI 21) ------------------------------------------
    /// Lot or serial length outside 1..=20.
    #[error("{field} must be 1 to 20 characters long, got {len}")]
    AiValueLength {
        /// `lot (GS1 AI 10)` or `serial (GS1 AI 21)`.
        field: &'static str,
        /// Number of characters found.
        len: usize,
    },
    /// Lot or serial contains a character outside GS1 character set 82.
    #[error(
        "{field} may only use the GS1 AI encodable character set 82 \
         (A-Z a-z 0-9 and !\"%&'()*+,-./:;<=>?_), found {character:?} at position {position}"
    )]
    AiValueCharacter {
        /// `lot (GS1 AI 10)` or `serial (GS1 AI 21)`.
        field: &'static str,
        /// Zero-based character position.
        position: usize,
        /// The offending character.
        character: char,
    },

    // ---- granularity ---------------------------------------------------------------
    /// The declared granularity does not match the product identifier.
    #[error("granularity `{granularity}` does not match the product identifier: {reason}")]
    GranularityMismatch {
        /// The declared granularity (wire name).
        granularity: &'static str,
        /// Which rule was broken.
        reason: &'static str,
    },

    // ---- GS1 Digital Link ------------------------------------------------------------
    /// The resolver base given for rendering a Digital Link is not acceptable.
    #[error("invalid Digital Link resolver {resolver:?}: {reason}")]
    InvalidResolver {
        /// The rejected input (truncated to 80 characters).
        resolver: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A Digital Link URI could not be parsed.
    #[error("invalid GS1 Digital Link URI: {reason}")]
    InvalidDigitalLink {
        /// Why it was rejected.
        reason: String,
    },
    /// A GS1 element string (HRI form, `(01)…[(10)…][(21)…]`) could not be parsed.
    #[error("invalid GS1 element string: {reason}")]
    InvalidElementString {
        /// Why it was rejected.
        reason: String,
    },

    // ---- SHA-256 digest --------------------------------------------------------------
    /// A SHA-256 digest must be 64 hex characters.
    #[error("SHA-256 digest must be 64 lowercase hex characters, got {len} characters")]
    DigestLength {
        /// Number of characters found.
        len: usize,
    },
    /// A SHA-256 digest contains a character other than `0-9a-f`.
    #[error(
        "SHA-256 digest must be lowercase hex (0-9, a-f), found {character:?} at position {position}"
    )]
    DigestCharacter {
        /// Zero-based character position.
        position: usize,
        /// The offending character.
        character: char,
    },

    // ---- commodity code ----------------------------------------------------------------
    /// `commodityCode` is not 6, 8 or 10 digits.
    #[error(
        "`commodityCode` must be 6, 8 or 10 digits (HS / CN / TARIC), without spaces or dots; \
         got {value:?}"
    )]
    CommodityCode {
        /// The rejected input (truncated to 80 characters).
        value: String,
    },

    // ---- text fields -------------------------------------------------------------------
    /// A required identifier string is empty.
    #[error("`{field}` must not be empty")]
    EmptyField {
        /// JSON path of the field.
        field: String,
    },
    /// A string is longer than its bound.
    #[error("`{field}` is {len} characters long; the maximum is {max}")]
    FieldTooLong {
        /// JSON path of the field.
        field: String,
        /// Number of characters found.
        len: usize,
        /// The bound.
        max: usize,
    },
    /// A string contains a control character (or, for URIs, whitespace).
    #[error("`{field}` contains a forbidden character {character:?} at position {position}")]
    ForbiddenCharacter {
        /// JSON path of the field.
        field: String,
        /// Zero-based character position.
        position: usize,
        /// The offending character.
        character: char,
    },

    /// A URI field is not an absolute URI.
    #[error("`{field}` must be an absolute URI (`scheme:...`): {reason}")]
    InvalidUri {
        /// JSON path of the field.
        field: String,
        /// What is wrong.
        reason: &'static str,
    },

    // ---- passport invariants -------------------------------------------------------------
    /// `version` starts at 1.
    #[error("`version` must be at least 1")]
    VersionZero,
    /// Too many component references.
    #[error("`components` has {count} entries; the maximum is {max}")]
    TooManyComponents {
        /// Number of entries found.
        count: usize,
        /// The bound.
        max: usize,
    },
    /// Two timestamps are in the wrong order.
    #[error("`{later}` must not be earlier than `{earlier}`")]
    TimestampOrder {
        /// The field that should be earlier or equal.
        earlier: &'static str,
        /// The field that should be later or equal.
        later: &'static str,
    },
    /// A timestamp cannot be written as RFC 3339 (year outside 0000-9999 or a sub-minute offset).
    #[error("`{field}` cannot be represented as an RFC 3339 timestamp")]
    TimestampOutOfRange {
        /// The field.
        field: &'static str,
    },
    /// `publishedAt` must be absent exactly while the passport is a draft.
    #[error("`publishedAt` must be {expected} when status is `{status}`")]
    PublishedAtMismatch {
        /// Status wire name.
        status: &'static str,
        /// `absent` or `present`.
        expected: &'static str,
    },
    /// A status change that the lifecycle does not allow.
    #[error("status cannot change from `{from}` to `{to}`")]
    InvalidTransition {
        /// Current status wire name.
        from: &'static str,
        /// Requested status wire name.
        to: &'static str,
    },

    // ---- JSON ------------------------------------------------------------------------------
    /// The input is larger than [`MAX_INPUT_BYTES`](super::MAX_INPUT_BYTES).
    #[error("input is {len} bytes; the maximum is {max} bytes")]
    InputTooLarge {
        /// Input length in bytes.
        len: usize,
        /// The bound.
        max: usize,
    },
    /// The JSON text ends before the value is complete.
    #[error("JSON input is truncated (ended at line {line}, column {column})")]
    JsonTruncated {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// The input is not well-formed JSON (or nests deeper than 128 levels).
    #[error("malformed JSON at line {line}, column {column}: {message}")]
    JsonSyntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// serde_json's description.
        message: String,
    },
    /// Client input breaks a strict input rule ([`crate::input`]): a duplicate member name,
    /// a number that would not be signed as written, or U+0000.
    #[error("{0}")]
    Refused(crate::input::InputRefusal),
    /// A value has the wrong JSON type.
    #[error("`{path}` must be {expected}, found {found}")]
    WrongType {
        /// JSON path (`$` for the root).
        path: String,
        /// What was expected, e.g. `a string`.
        expected: &'static str,
        /// The JSON type found, e.g. `a number`.
        found: &'static str,
    },
    /// A required field is missing (or `null`).
    #[error("missing required field `{path}`")]
    MissingField {
        /// JSON path of the missing field.
        path: String,
    },
    /// An object has a field the model does not define.
    #[error("unknown field `{path}`")]
    UnknownField {
        /// JSON path of the unknown field.
        path: String,
    },
    /// A string is not one of the allowed enum values.
    #[error("`{path}` must be one of {expected}, found {value:?}")]
    InvalidEnumValue {
        /// JSON path.
        path: String,
        /// The rejected value (truncated to 80 characters).
        value: String,
        /// The allowed values.
        expected: &'static str,
    },
    /// A timestamp string is not valid RFC 3339.
    #[error("`{path}` is not an RFC 3339 timestamp: {message}")]
    InvalidTimestamp {
        /// JSON path.
        path: String,
        /// The parser's description.
        message: String,
    },
}

/// Truncates user input echoed in error messages so that errors stay small.
pub(crate) fn echo(value: &str) -> String {
    const MAX: usize = 80;
    match value.char_indices().nth(MAX) {
        Some((idx, _)) => format!("{}…", &value[..idx]),
        None => value.to_owned(),
    }
}

/// Why a string that looks like an ISO/IEC 15459 identifier is not a valid one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentifierError {
    /// A GLN character is not an ASCII digit.
    #[error("GLN must contain only digits 0-9, found {character:?} at position {position}")]
    GlnNonDigit {
        /// Zero-based character position in the GLN.
        position: usize,
        /// The offending character.
        character: char,
    },
    /// A GLN has 13 digits.
    #[error("GLN must have 13 digits, got {len}")]
    GlnLength {
        /// Number of characters found.
        len: usize,
    },
    /// The GS1 mod-10 check digit does not match.
    #[error("GLN check digit is {found} but the GS1 mod-10 check digit is {expected}")]
    GlnCheckDigit {
        /// The check digit computed from the other digits.
        expected: u8,
        /// The last digit of the input.
        found: u8,
    },
    /// A party GLN given for a facility, or a location GLN for an operator.
    #[error("{0}")]
    RoleMismatch(&'static str),
    /// The spelling of a GS1 form is broken (missing GLN, bad extension, extra segments…).
    #[error("malformed {form}: {reason}")]
    Form {
        /// Which spelling, e.g. `GS1 Digital Link`.
        form: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// `iso15459:<IAC>:…` with an issuing agency code not in `party::AGENCIES`.
    #[error("issuing agency code `{iac}` is not known to this node (known: {known}; GS1 identifiers are written as GLNs)")]
    UnknownAgency {
        /// The code as written (truncated).
        iac: String,
        /// The codes known, comma-separated.
        known: String,
    },
    /// The value does not follow its agency's rule.
    #[error("an identifier of issuing agency `{iac}` ({name}) must be {rule}")]
    AgencyValue {
        /// The agency code.
        iac: &'static str,
        /// The agency's name.
        name: &'static str,
        /// Its rule.
        rule: &'static str,
    },
}

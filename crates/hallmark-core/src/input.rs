//! Strict JSON input: what is stored and signed is exactly what was sent, or it is refused.
//!
//! A JSON document given to Hallmark to store and sign (a request body, a passport
//! submission) must obey three rules on top of JSON syntax; a document that breaks one is
//! refused, never altered:
//!
//! 1. **No duplicate member names**, at any depth (I-JSON, RFC 7493 §2.3). Parsers disagree on
//!    which duplicate wins, so the data checked and the data signed could differ.
//! 2. **Every number is signed as the value written.** Signing canonicalises numbers as
//!    IEEE-754 doubles written the ECMAScript way (RFC 8785 §3.2.2.3), so a literal is accepted
//!    only if that form has exactly its decimal value ([`check_number_literal`]):
//!    - an integer literal (no fraction, no exponent) must lie within ±(2^53−1) (I-JSON
//!      §2.2), even where the double happens to be exact (`9007199254740993` is refused,
//!      and so is `9007199254740994`; a larger whole number is sent with an exponent or a
//!      fraction, `1e20` or `1.8446744073709552e19`, and is then checked as below);
//!    - any other literal must have exactly the decimal value of its canonical form:
//!      `1.0`, `1E0` and `0.10` are the same value as `1`, `1` and `0.1` (accepted);
//!      `1.5e300` is written `1.5e+300` (accepted); `1e-400` would become `0` (refused,
//!      underflow), `1e400` is beyond the largest double (refused, overflow) and
//!      `0.30000000000000001` would be signed as `0.3` (refused, inexact).
//! 3. **No U+0000 (NUL)** in any string or member name. PostgreSQL cannot store it in a
//!    `TEXT` column (SQLSTATE 22021) while SQLite can; refusing it everywhere keeps both
//!    backends answering the same. It is the only such character: with the UTF-8 database
//!    encoding Hallmark requires, every other Unicode scalar value is stored, and a lone
//!    surrogate cannot reach here (JSON parsing refuses `\ud800` alone).
//!
//! Each refusal names the JSON Pointer (RFC 6901) of the member or value concerned.
//!
//! The rules are applied while `serde_json` deserialises the document, by [`InputCheck`]:
//! [`crate::jcs::parse_input`] uses it to build a `Value`, and the node's streaming structure
//! scanner uses it on every request body without building one. Number literals, which
//! `serde_json` does not hand to a visitor, are read from the raw text by [`NumberLiterals`]:
//! numbers are visited in document order, so the n-th number visited is the n-th number
//! literal of the text.

use serde::de;
use std::cell::RefCell;
use std::fmt;

/// Largest integer magnitude an IEEE-754 double represents exactly (2^53 − 1).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Why a number literal is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NumberRefusal {
    /// An integer literal (no fraction, no exponent) outside ±(2^53−1).
    UnsafeInteger,
    /// Beyond the largest double (it would be ±Infinity).
    Overflow,
    /// A non-zero literal that would be signed as 0.
    Underflow,
    /// Signed as a different decimal value (more precision than a double holds).
    Inexact,
}

impl NumberRefusal {
    /// A stable slug: `unsafe-integer`, `overflow`, `underflow`, `inexact`.
    pub fn slug(self) -> &'static str {
        match self {
            NumberRefusal::UnsafeInteger => "unsafe-integer",
            NumberRefusal::Overflow => "overflow",
            NumberRefusal::Underflow => "underflow",
            NumberRefusal::Inexact => "inexact",
        }
    }
}

impl fmt::Display for NumberRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NumberRefusal::UnsafeInteger => {
                "an integer outside ±(2^53−1) cannot be signed faithfully (I-JSON, RFC 7493)"
            }
            NumberRefusal::Overflow => "the number is beyond the range of an IEEE-754 double",
            NumberRefusal::Underflow => "the number is too small for an IEEE-754 double and would be signed as 0",
            NumberRefusal::Inexact => "the number has more precision than an IEEE-754 double and would be signed as a different value",
        })
    }
}

/// A refused input document: which rule, and the JSON Pointer of the member or value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputRefusal {
    /// A member name that appears twice in one object (the pointer names the second).
    #[error("duplicate member name at {pointer:?}")]
    DuplicateMember {
        /// JSON Pointer of the duplicate member.
        pointer: String,
    },
    /// U+0000 in a string value or a member name.
    #[error("U+0000 (NUL) in the string at {pointer:?}")]
    Nul {
        /// JSON Pointer of the string (for a member name: of that member).
        pointer: String,
    },
    /// A number that would not be signed as the value written.
    #[error("number at {pointer:?}: {reason}")]
    Number {
        /// JSON Pointer of the number.
        pointer: String,
        /// Which rule it breaks.
        reason: NumberRefusal,
    },
}

/// Where a value sits in a document: a linked list through the deserialiser's stack frames,
/// turned into a JSON Pointer only when something is refused.
#[derive(Debug, Clone, Copy)]
pub enum JsonPath<'p> {
    /// The document itself.
    Root,
    /// A member of the object at the parent path.
    Member(&'p JsonPath<'p>, &'p str),
    /// An item of the array at the parent path.
    Item(&'p JsonPath<'p>, usize),
}

impl JsonPath<'_> {
    /// The RFC 6901 JSON Pointer (`""` for the root).
    pub fn pointer(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            JsonPath::Root => {}
            JsonPath::Member(parent, name) => {
                parent.write(out);
                push_pointer_token(out, name);
            }
            JsonPath::Item(parent, index) => {
                parent.write(out);
                out.push('/');
                out.push_str(itoa::Buffer::new().format(*index));
            }
        }
    }
}

/// Append `/token` to a JSON Pointer, escaping `~` as `~0` and `/` as `~1` (RFC 6901 §3).
pub fn push_pointer_token(out: &mut String, token: &str) {
    out.push('/');
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
}

/// Check an integer that `serde_json` parsed exactly (a literal without fraction or exponent
/// that fits 64 bits): its magnitude must be at most 2^53−1.
pub fn check_integer(magnitude: u64) -> Result<(), NumberRefusal> {
    if magnitude > MAX_SAFE_INTEGER {
        return Err(NumberRefusal::UnsafeInteger);
    }
    Ok(())
}

/// Check a JSON number `literal` (as written) against the double it was parsed to: accepted
/// only if canonical signing writes exactly its decimal value (rules in the module docs).
pub fn check_number_literal(literal: &[u8], parsed: f64) -> Result<(), NumberRefusal> {
    let Some(written) = Decimal::parse(literal) else {
        // Not a JSON number (cannot happen for literals the parser accepted): refuse.
        return Err(NumberRefusal::Inexact);
    };
    let integer_literal = !literal.iter().any(|b| matches!(b, b'.' | b'e' | b'E'));
    if integer_literal && !written.is_safe_integer() {
        return Err(NumberRefusal::UnsafeInteger);
    }
    if !parsed.is_finite() {
        return Err(NumberRefusal::Overflow);
    }
    let mut buf = ryu_js::Buffer::new();
    let canonical = buf.format_finite(parsed);
    match Decimal::parse(canonical.as_bytes()) {
        Some(signed) if signed == written => Ok(()),
        _ if parsed == 0.0 => Err(NumberRefusal::Underflow),
        _ => Err(NumberRefusal::Inexact),
    }
}

/// A decimal number as sign, significant digits (no leading or trailing zeros) and a power
/// of ten: value = ±digits × 10^exponent. Zero has no digits and no sign.
#[derive(Debug, PartialEq, Eq)]
struct Decimal {
    negative: bool,
    digits: Vec<u8>,
    exponent: i64,
}

impl Decimal {
    /// Bound on exponents: far beyond any double (±~324) yet safe from overflow when adjusted
    /// by the number of digits (a document is at most a few MiB).
    const EXPONENT_BOUND: i64 = 1 << 48;

    fn parse(literal: &[u8]) -> Option<Decimal> {
        let (negative, rest) = match literal.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, literal),
        };
        let (mantissa, exponent) = match rest.iter().position(|b| matches!(b, b'e' | b'E')) {
            Some(i) => (rest.get(..i)?, parse_exponent(rest.get(i + 1..)?)?),
            None => (rest, 0),
        };
        let (int, frac) = match mantissa.iter().position(|&b| b == b'.') {
            Some(i) => (mantissa.get(..i)?, mantissa.get(i + 1..)?),
            None => (mantissa, &[][..]),
        };
        if int.is_empty() || !int.iter().chain(frac).all(u8::is_ascii_digit) {
            return None;
        }
        let mut digits: Vec<u8> = int
            .iter()
            .chain(frac)
            .copied()
            .skip_while(|&b| b == b'0')
            .collect();
        let frac_len = i64::try_from(frac.len()).ok()?;
        let mut exponent = exponent - frac_len;
        while digits.last() == Some(&b'0') {
            digits.pop();
            exponent += 1;
        }
        if digits.is_empty() {
            return Some(Decimal {
                negative: false,
                digits,
                exponent: 0,
            });
        }
        Some(Decimal {
            negative,
            digits,
            exponent,
        })
    }

    /// Whether this is an integer within ±(2^53−1).
    fn is_safe_integer(&self) -> bool {
        if self.digits.is_empty() {
            return true;
        }
        if self.exponent < 0 || self.exponent > 16 {
            return false;
        }
        let mut value: u64 = 0;
        for &d in &self.digits {
            value = match value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(d - b'0')))
            {
                Some(v) => v,
                None => return false,
            };
        }
        for _ in 0..self.exponent {
            value = match value.checked_mul(10) {
                Some(v) => v,
                None => return false,
            };
        }
        value <= MAX_SAFE_INTEGER
    }
}

/// An exponent (`[+-]digits`), saturated at [`Decimal::EXPONENT_BOUND`].
fn parse_exponent(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut value: i64 = 0;
    for &d in digits {
        value = (value * 10 + i64::from(d - b'0')).min(Decimal::EXPONENT_BOUND);
    }
    Some(if negative { -value } else { value })
}

/// The number literals of a JSON text, in document order, read lazily: numbers whose literal
/// is not needed are only counted ([`NumberLiterals::skip`]) and passed over when the next
/// literal is asked for, so a document is scanned at most once.
#[derive(Debug)]
pub struct NumberLiterals<'a> {
    bytes: &'a [u8],
    pos: usize,
    pending: usize,
}

impl<'a> NumberLiterals<'a> {
    /// The literals of `bytes` (well-formed JSON up to the point where literals are read).
    pub fn new(bytes: &'a [u8]) -> Self {
        NumberLiterals {
            bytes,
            pos: 0,
            pending: 0,
        }
    }

    /// Pass over the next number without reading its literal now.
    pub fn skip(&mut self) {
        self.pending += 1;
    }

    /// The next number literal and its byte range end.
    pub fn next_literal(&mut self) -> Option<(&'a [u8], usize, usize)> {
        while self.pending > 0 {
            self.pending -= 1;
            self.scan()?;
        }
        self.scan()
    }

    /// Outside strings, a number is the only token holding `-` or a digit.
    fn scan(&mut self) -> Option<(&'a [u8], usize, usize)> {
        let b = self.bytes;
        let mut i = self.pos;
        while let Some(&c) = b.get(i) {
            match c {
                b'"' => {
                    i += 1;
                    while let Some(&s) = b.get(i) {
                        i += match s {
                            b'\\' => 2,
                            b'"' => {
                                i += 1;
                                break;
                            }
                            _ => 1,
                        };
                    }
                }
                b'-' | b'0'..=b'9' => {
                    let start = i;
                    while matches!(
                        b.get(i),
                        Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                    ) {
                        i += 1;
                    }
                    self.pos = i;
                    return b.get(start..i).map(|lit| (lit, start, i));
                }
                _ => i += 1,
            }
        }
        self.pos = i;
        None
    }
}

/// The input rules' state while one document is deserialised: call its methods from a
/// `serde` visitor (each returns the visitor's error after recording the refusal), then
/// [`InputCheck::finish`] with the deserialiser's result.
#[derive(Debug)]
pub struct InputCheck<'a> {
    bytes: &'a [u8],
    literals: RefCell<NumberLiterals<'a>>,
    refusal: RefCell<Option<InputRefusal>>,
    failed_at: RefCell<Option<String>>,
}

/// Why a document was not accepted.
#[derive(Debug)]
pub enum InputError {
    /// It breaks one of the input rules.
    Refused(InputRefusal),
    /// It is not well-formed JSON (or the visitor refused it for its own reason).
    Syntax(serde_json::Error),
}

impl<'a> InputCheck<'a> {
    /// Rules for the JSON text `bytes` (the same bytes the deserialiser reads).
    pub fn new(bytes: &'a [u8]) -> Self {
        InputCheck {
            bytes,
            literals: RefCell::new(NumberLiterals::new(bytes)),
            refusal: RefCell::new(None),
            failed_at: RefCell::new(None),
        }
    }

    fn refuse<E: de::Error>(&self, refusal: InputRefusal) -> E {
        let message = refusal.to_string();
        let mut slot = self.refusal.borrow_mut();
        if slot.is_none() {
            *slot = Some(refusal);
        }
        E::custom(message)
    }

    /// A number visited as `u64` (an integer literal).
    pub fn unsigned<E: de::Error>(&self, v: u64, path: &JsonPath<'_>) -> Result<(), E> {
        self.literals.borrow_mut().skip();
        self.integer(v, path)
    }

    /// A number visited as `i64` (a negative integer literal).
    pub fn signed<E: de::Error>(&self, v: i64, path: &JsonPath<'_>) -> Result<(), E> {
        self.literals.borrow_mut().skip();
        self.integer(v.unsigned_abs(), path)
    }

    fn integer<E: de::Error>(&self, magnitude: u64, path: &JsonPath<'_>) -> Result<(), E> {
        check_integer(magnitude).map_err(|reason| {
            self.refuse(InputRefusal::Number {
                pointer: path.pointer(),
                reason,
            })
        })
    }

    /// A number visited as `f64`: checked against its literal.
    pub fn float<E: de::Error>(&self, v: f64, path: &JsonPath<'_>) -> Result<(), E> {
        let literal = self.literals.borrow_mut().next_literal();
        let verdict = match literal {
            Some((literal, _, _)) => check_number_literal(literal, v),
            None => Err(NumberRefusal::Inexact),
        };
        verdict.map_err(|reason| {
            self.refuse(InputRefusal::Number {
                pointer: path.pointer(),
                reason,
            })
        })
    }

    /// A string value.
    pub fn string<E: de::Error>(&self, s: &str, path: &JsonPath<'_>) -> Result<(), E> {
        if s.as_bytes().contains(&0) {
            return Err(self.refuse(InputRefusal::Nul {
                pointer: path.pointer(),
            }));
        }
        Ok(())
    }

    /// A member name of the object at `object`; `duplicate` when the object already has it.
    pub fn member<E: de::Error>(
        &self,
        name: &str,
        duplicate: bool,
        object: &JsonPath<'_>,
    ) -> Result<(), E> {
        let pointer = || JsonPath::Member(object, name).pointer();
        if duplicate {
            return Err(self.refuse(InputRefusal::DuplicateMember { pointer: pointer() }));
        }
        if name.as_bytes().contains(&0) {
            return Err(self.refuse(InputRefusal::Nul { pointer: pointer() }));
        }
        Ok(())
    }

    /// Record that deserialising the value at `path` failed (call on every error; the
    /// deepest, i.e. first, call wins). Names the number when the failure is an overflow.
    pub fn failed(&self, path: &JsonPath<'_>) {
        let mut slot = self.failed_at.borrow_mut();
        if slot.is_none() {
            *slot = Some(path.pointer());
        }
    }

    /// The outcome: a recorded refusal wins; a parse failure at a number literal beyond the
    /// double range is the overflow refusal (`serde_json` reports it as a syntax error);
    /// anything else is a syntax error.
    pub fn finish<T>(self, result: Result<T, serde_json::Error>) -> Result<T, InputError> {
        let err = match result {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        if let Some(refusal) = self.refusal.into_inner() {
            return Err(InputError::Refused(refusal));
        }
        if let (Some(pointer), Some((literal, start, end))) = (
            self.failed_at.into_inner(),
            self.literals.into_inner().next_literal(),
        ) {
            let at = byte_offset(self.bytes, err.line(), err.column());
            let overflows = std::str::from_utf8(literal)
                .ok()
                .and_then(|s| s.parse::<f64>().ok())
                .is_some_and(|f| f.is_infinite());
            if overflows && at.is_some_and(|at| start < at && at <= end) {
                return Err(InputError::Refused(InputRefusal::Number {
                    pointer,
                    reason: NumberRefusal::Overflow,
                }));
            }
        }
        Err(InputError::Syntax(err))
    }
}

/// Byte offset of a `serde_json` error position (1-based line; column = bytes into the line).
fn byte_offset(bytes: &[u8], line: usize, column: usize) -> Option<usize> {
    let mut start = 0;
    for _ in 1..line {
        start += bytes.get(start..)?.iter().position(|&b| b == b'\n')? + 1;
    }
    Some(start + column)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn check(lit: &str) -> Result<(), NumberRefusal> {
        let parsed: f64 = lit.parse().unwrap();
        check_number_literal(lit.as_bytes(), parsed)
    }

    #[test]
    fn number_rules() {
        use NumberRefusal::*;
        for ok in [
            "0",
            "-0",
            "-0.0",
            "0e10",
            "1",
            "1.0",
            "1E0",
            "1e+0",
            "10e-1",
            "0.1",
            "0.10",
            "-0.5",
            "9007199254740991",
            "-9007199254740991",
            "9007199254740991.0",
            "1.5e300",
            "1.5E+300",
            "1e20",
            "1e21",
            "1.7976931348623157e308",
            "5e-324",
            "2.2250738585072014e-308",
            "123.456",
            "3.14159",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("9007199254740992", UnsafeInteger),
            ("9007199254740993", UnsafeInteger),
            ("-9007199254740993", UnsafeInteger),
            ("18446744073709551616", UnsafeInteger),
            ("123456789012345678901234567890", UnsafeInteger),
            ("1e400", Overflow),
            ("-1e400", Overflow),
            ("1e-400", Underflow),
            ("-2e-330", Underflow),
            ("4e-324", Inexact),
            ("0.30000000000000001", Inexact),
            ("9007199254740993.0", Inexact),
            ("1.00000000000000000001", Inexact),
            ("123456789012345678901234567890.0", Inexact),
        ] {
            assert_eq!(check(bad), Err(why), "{bad}");
        }
    }

    #[test]
    fn literals_are_found_in_document_order_outside_strings() {
        let text = br#"{"a-1":[1,-2.5e3,"x\"9",{"k":0}],"b\\":3 ,"c":"-4"} "#;
        let mut l = NumberLiterals::new(text);
        let mut all = Vec::new();
        while let Some((lit, start, end)) = l.next_literal() {
            assert_eq!(&text[start..end], lit);
            all.push(std::str::from_utf8(lit).unwrap().to_string());
        }
        assert_eq!(all, ["1", "-2.5e3", "0", "3"]);
        let mut l = NumberLiterals::new(text);
        l.skip();
        l.skip();
        assert_eq!(l.next_literal().unwrap().0, b"0");
    }

    proptest::proptest! {
        /// Every finite double, as `serde_json` or RFC 8785 writes it, is accepted: what the
        /// node itself stores and signs always passes.
        #[test]
        fn prop_written_doubles_are_accepted(bits in proptest::prelude::any::<u64>()) {
            let f = f64::from_bits(bits);
            proptest::prop_assume!(f.is_finite());
            let written = serde_json::to_string(&f).unwrap();
            let parsed: f64 = serde_json::from_str(&written).unwrap();
            proptest::prop_assert_eq!(parsed.to_bits(), f.to_bits());
            proptest::prop_assert_eq!(check_number_literal(written.as_bytes(), parsed), Ok(()));
            // RFC 8785 writes doubles from 2^53 to 1e21 in integer form, which as input is an
            // integer literal outside the safe range (refused; `1e20` is the way to send one).
            let canonical = ryu_js::Buffer::new().format_finite(f).to_string();
            let verdict = check_number_literal(canonical.as_bytes(), f);
            if f.abs() > MAX_SAFE_INTEGER as f64 && !canonical.contains(['.', 'e']) {
                proptest::prop_assert_eq!(verdict, Err(NumberRefusal::UnsafeInteger));
            } else {
                proptest::prop_assert_eq!(verdict, Ok(()));
            }
        }

        /// Integers: exactly those within ±(2^53−1) are accepted, whichever way visited.
        #[test]
        fn prop_integers(i in proptest::prelude::any::<i64>()) {
            let safe = i.unsigned_abs() <= MAX_SAFE_INTEGER;
            proptest::prop_assert_eq!(check_integer(i.unsigned_abs()).is_ok(), safe);
            let text = i.to_string();
            proptest::prop_assert_eq!(check_number_literal(text.as_bytes(), i as f64).is_ok(), safe);
        }
    }

    #[test]
    fn pointers_escape_tilde_and_slash() {
        let root = JsonPath::Root;
        let a = JsonPath::Member(&root, "a/b~c");
        let i = JsonPath::Item(&a, 3);
        assert_eq!(i.pointer(), "/a~1b~0c/3");
        assert_eq!(root.pointer(), "");
    }
}

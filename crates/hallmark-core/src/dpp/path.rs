//! Element paths of the EN 18222 DPP API: the `{elementIdPath}` of
//! `GET|PATCH /v1/dpps/{dppId}/elements/{elementIdPath}`, an RFC 9535 *Normalized Path*
//! (§2.7): `$` followed by `['name']` and `[index]` segments only, names escaped as §2.7 says
//! (`\b \f \n \r \t \' \\`, and `\u00xx` in lowercase hex for the other characters
//! U+0000–U+001F; every other character as itself), indices non-negative without leading
//! zeros. A Normalized Path names at most one node, so it also names the node a `PATCH`
//! replaces.
//!
//! The string read here is the route's path segment percent-decoded once (the spec sends it
//! percent-encoded once).
//!
//! Reading one ([`ElementPath::parse`], [`ElementPath::locate`]):
//! 1. The input is read with the Normalized Path grammar (RFC 9535 §2.7, ABNF
//!    `normalized-path`); it must also be byte for byte what [`ElementPath::format`] writes
//!    back. Such a path is accepted; [`ElementPath::locate`] then requires its node to exist
//!    ([`PathError::NotFound`] otherwise). Nothing else is needed for a read or a replace.
//! 2. Anything else is refused. To say why, an input that is simple enough is parsed as an
//!    RFC 9535 query with `serde_json_path`: [`PathError::Syntax`] if it is not one; otherwise
//!    [`ElementPath::locate`] evaluates it on the document and names the normalized form of the
//!    one node it selects ([`PathError::NotNormalized`] with `Some`, e.g. `$.a` → `$['a']`,
//!    `$[-1]` → the last index), or reports how many it selects ([`PathError::NotSingular`]).
//!
//! "Simple enough" bounds the work an anonymous request can cause (RFC 9535 §4.1): filter
//! selectors, parentheses, several selectors in one segment and more than one descendant
//! segment (`..`) are never parsed nor evaluated — none can be part of a Normalized Path, and
//! they are where the cost is: `serde_json_path` parses nested parentheses recursively (about
//! a thousand levels overflow a 2 MiB thread stack, which aborts the process), and repeated
//! selectors (`$[0,0][0,0]…`) or descendant segments multiply the nodes selected. Such inputs
//! get [`PathError::NotNormalized`] with `None`, syntactically valid or not. The queries that
//! are evaluated select each node at most once, so their result is never larger than the
//! document.
//!
//! Normalized Paths are written here, not by `serde_json_path`: its `Display` for a location
//! writes names without escaping them (0.7.2 / core 0.2.2), which is not a Normalized Path for a
//! name holding `'`, `\` or a control character.
//!
//! Errors map to HTTP as: [`PathError::NotFound`] → 404, the others → 400. An input that is
//! not a Normalized Path is a 400 whether or not the document has the node it means (a 404
//! would have the client fix the wrong thing); so the order is "normalized?" first, then
//! "found?".

use serde_json::Value;
use serde_json_path::{JsonPath, PathElement};
use std::fmt;
use std::str::FromStr;

/// The largest index RFC 9535 accepts (I-JSON integers, 2^53 − 1).
const MAX_INDEX: u64 = crate::input::MAX_SAFE_INTEGER;

/// One segment of an [`ElementPath`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// An object member, by name (`['name']`).
    Name(String),
    /// An array element, by its zero-based index (`[3]`).
    Index(usize),
}

/// A Normalized Path (RFC 9535 §2.7): the location of one node in a JSON document, from the
/// root (`$`, no segments) down.
///
/// Built by [`ElementPath::parse`] or [`ElementPath::locate`] from a request, or by
/// [`ElementPath::new`]; written back by [`ElementPath::format`] (also its `Display`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ElementPath {
    segments: Vec<Segment>,
}

/// Why a string is not an element path of a document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// Not an RFC 9535 JSONPath query at all (the parser's message, with its position).
    #[error("not an RFC 9535 JSONPath query: {0}")]
    Syntax(String),
    /// A JSONPath query, or possibly one, but not a Normalized Path. `normalized` is the
    /// Normalized Path of the one node the query selects in the document, when it selects
    /// exactly one (and was evaluated: see the module documentation).
    #[error("{}", not_normalized(.normalized.as_deref()))]
    NotNormalized {
        /// The Normalized Path of the node meant, when there is exactly one.
        normalized: Option<String>,
    },
    /// A Normalized Path, but the document has no node there.
    #[error("no element at this path")]
    NotFound,
    /// A query (not a Normalized Path) that selects this many nodes, more than one.
    #[error("the path selects {0} elements, an element path selects one")]
    NotSingular(usize),
}

fn not_normalized(normalized: Option<&str>) -> String {
    const RULE: &str = "not a Normalized Path (RFC 9535 §2.7)";
    match normalized {
        Some(path) => format!("{RULE}; the element it selects is {path}"),
        None => format!("{RULE}: `$` followed by ['name'] and [index] segments only"),
    }
}

impl ElementPath {
    /// The path of the given segments, from the root down (no segments: the root, `$`).
    ///
    /// Indices above 2^53 − 1 format to a path that RFC 9535 refuses (no real document has
    /// such an array).
    pub fn new(segments: Vec<Segment>) -> Self {
        Self { segments }
    }

    /// The segments, from the root down.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Whether this is the root, `$` (the whole document).
    pub fn is_root(&self) -> bool {
        self.segments.is_empty()
    }

    /// Reads a Normalized Path, without a document: `Ok` exactly for the strings
    /// [`ElementPath::format`] writes. The node need not exist (see [`ElementPath::get`],
    /// [`ElementPath::replace`]).
    ///
    /// # Errors
    /// [`PathError::Syntax`] for a (simple, see the module documentation) string that is not
    /// RFC 9535, [`PathError::NotNormalized`] (with `None`: there is no document to name the
    /// node in) for anything else that is not a Normalized Path.
    pub fn parse(s: &str) -> Result<Self, PathError> {
        if let Some(path) = Self::read_normalized(s) {
            return Ok(path);
        }
        if bounded_query(s) {
            JsonPath::parse(s).map_err(|e| PathError::Syntax(e.to_string()))?;
        }
        Err(PathError::NotNormalized { normalized: None })
    }

    /// Reads a Normalized Path and finds its node in `doc`, as the element routes do.
    ///
    /// # Errors
    /// - [`PathError::NotFound`]: a Normalized Path whose node `doc` does not have;
    /// - [`PathError::Syntax`]: not an RFC 9535 query;
    /// - [`PathError::NotNormalized`]: a query that is not a Normalized Path. It names the
    ///   Normalized Path of the node when the query selects exactly one node in `doc`
    ///   (`$.a.b[1:2]` → `$['a']['b'][1]`); `None` when it selects none, or is not evaluated
    ///   (filters, several selectors in a segment, more than one `..`: see the module
    ///   documentation);
    /// - [`PathError::NotSingular`]: a query that selects more than one node in `doc`.
    pub fn locate(s: &str, doc: &Value) -> Result<Self, PathError> {
        if let Some(path) = Self::read_normalized(s) {
            return match path.get(doc) {
                Some(_) => Ok(path),
                None => Err(PathError::NotFound),
            };
        }
        if !bounded_query(s) {
            return Err(PathError::NotNormalized { normalized: None });
        }
        let query = JsonPath::parse(s).map_err(|e| PathError::Syntax(e.to_string()))?;
        let nodes = query.query_located(doc);
        match nodes.len() {
            0 => Err(PathError::NotNormalized { normalized: None }),
            1 => Err(PathError::NotNormalized {
                normalized: nodes
                    .first()
                    .map(|node| Self::from_location(node.location().iter()).format()),
            }),
            n => Err(PathError::NotSingular(n)),
        }
    }

    /// The Normalized Path, as RFC 9535 §2.7 writes it (`$['a'][0]['it\'s']`).
    pub fn format(&self) -> String {
        let mut out = String::with_capacity(1 + 8 * self.segments.len());
        out.push('$');
        for segment in &self.segments {
            match segment {
                Segment::Name(name) => {
                    out.push_str("['");
                    escape_name(name, &mut out);
                    out.push_str("']");
                }
                Segment::Index(index) => {
                    out.push('[');
                    out.push_str(itoa::Buffer::new().format(*index));
                    out.push(']');
                }
            }
        }
        out
    }

    /// The same location as a JSON Pointer (RFC 6901: `~` written `~0`, `/` written `~1`;
    /// the root is the empty string), for `serde_json::Value::pointer` or for error reports.
    pub fn to_json_pointer(&self) -> String {
        let mut out = String::new();
        for segment in &self.segments {
            out.push('/');
            match segment {
                Segment::Name(name) => {
                    for c in name.chars() {
                        match c {
                            '~' => out.push_str("~0"),
                            '/' => out.push_str("~1"),
                            c => out.push(c),
                        }
                    }
                }
                Segment::Index(index) => out.push_str(itoa::Buffer::new().format(*index)),
            }
        }
        out
    }

    /// The node at this path, if `doc` has one (a name segment needs an object with that
    /// member, an index segment an array that long).
    pub fn get<'a>(&self, doc: &'a Value) -> Option<&'a Value> {
        self.segments
            .iter()
            .try_fold(doc, |node, segment| match segment {
                Segment::Name(name) => node.as_object()?.get(name),
                Segment::Index(index) => node.as_array()?.get(*index),
            })
    }

    /// The node at this path, mutably, if `doc` has one.
    pub fn get_mut<'a>(&self, doc: &'a mut Value) -> Option<&'a mut Value> {
        self.segments
            .iter()
            .try_fold(doc, |node, segment| match segment {
                Segment::Name(name) => node.as_object_mut()?.get_mut(name),
                Segment::Index(index) => node.as_array_mut()?.get_mut(*index),
            })
    }

    /// Replaces the node at this path with `new` and returns the node replaced. Never adds a
    /// member or an element: the node must exist. The root path replaces the whole document.
    ///
    /// # Errors
    /// [`PathError::NotFound`] if `doc` has no node at this path (`doc` is then unchanged).
    pub fn replace(&self, doc: &mut Value, new: Value) -> Result<Value, PathError> {
        let node = self.get_mut(doc).ok_or(PathError::NotFound)?;
        Ok(std::mem::replace(node, new))
    }

    /// `s` read with the Normalized Path grammar, if it is exactly what [`Self::format`]
    /// writes for the result.
    fn read_normalized(s: &str) -> Option<Self> {
        let path = Self::new(normalized_segments(s)?);
        (path.format() == s).then_some(path)
    }

    fn from_location<'a>(location: impl Iterator<Item = &'a PathElement<'a>>) -> Self {
        Self::new(
            location
                .map(|element| match element {
                    PathElement::Name(name) => Segment::Name((*name).to_owned()),
                    PathElement::Index(index) => Segment::Index(*index),
                })
                .collect(),
        )
    }
}

impl fmt::Display for ElementPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format())
    }
}

impl FromStr for ElementPath {
    type Err = PathError;

    /// [`ElementPath::parse`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Writes `name` as the inside of a normalized name selector (RFC 9535 §2.7).
fn escape_name(name: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for c in name.chars() {
        match c {
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\u{0}'..='\u{1f}' => {
                let b = c as usize;
                out.push_str("\\u00");
                out.push(char::from(HEX[b >> 4]));
                out.push(char::from(HEX[b & 0xf]));
            }
            c => out.push(c),
        }
    }
}

/// The segments of `s` under the Normalized Path grammar (RFC 9535 §2.7 ABNF), or `None`.
fn normalized_segments(s: &str) -> Option<Vec<Segment>> {
    let mut rest = s.strip_prefix('$')?;
    let mut segments = Vec::new();
    while !rest.is_empty() {
        rest = rest.strip_prefix('[')?;
        if let Some(quoted) = rest.strip_prefix('\'') {
            let (name, after) = normal_name(quoted)?;
            segments.push(Segment::Name(name));
            rest = after.strip_prefix(']')?;
        } else {
            let end = rest.find(']')?;
            segments.push(Segment::Index(normal_index(&rest[..end])?));
            rest = &rest[end + 1..];
        }
    }
    Some(segments)
}

/// A `normal-single-quoted` name up to its closing `'`: the name and what follows the quote.
fn normal_name(s: &str) -> Option<(String, &str)> {
    let mut name = String::new();
    let mut chars = s.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '\'' => return Some((name, &s[at + 1..])),
            '\\' => {
                let decoded = match chars.next()?.1 {
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    '\'' => '\'',
                    '\\' => '\\',
                    'u' => {
                        let mut code = 0;
                        for _ in 0..4 {
                            code = code * 16 + lowercase_hex(chars.next()?.1)?;
                        }
                        // Only U+0000–U+001F, and not those with a short escape.
                        match char::from_u32(code)? {
                            '\u{8}' | '\u{c}' | '\n' | '\r' | '\t' => return None,
                            c @ '\u{0}'..='\u{1f}' => c,
                            _ => return None,
                        }
                    }
                    _ => return None,
                };
                name.push(decoded);
            }
            '\u{0}'..='\u{1f}' => return None,
            c => name.push(c),
        }
    }
    None
}

fn lowercase_hex(c: char) -> Option<u32> {
    match c {
        '0'..='9' | 'a'..='f' => c.to_digit(16),
        _ => None,
    }
}

/// A `normal-index-selector`: `0`, or digits without a leading zero, at most 2^53 − 1.
fn normal_index(digits: &str) -> Option<usize> {
    if digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || (digits.len() > 1 && digits.starts_with('0'))
    {
        return None;
    }
    let index: u64 = digits.parse().ok()?;
    if index > MAX_INDEX {
        return None;
    }
    // An index beyond usize (32-bit targets) cannot exist in a document; such an input is
    // then handled as a query (and selects nothing).
    usize::try_from(index).ok()
}

/// Whether a string that is not a Normalized Path may be parsed and evaluated as a query:
/// outside string literals, no filter (`?`), parenthesis, negation, current node (`@`) nor
/// several selectors in a segment (`,`); no bracket inside a bracket; at most one descendant
/// segment (`..`). Such a query selects every node at most once. A character scan, no
/// recursion.
fn bounded_query(s: &str) -> bool {
    let mut quote = None;
    let mut escaped = false;
    let mut brackets = 0u32;
    let mut descendants = 0u32;
    let mut after_dot = false;
    for c in s.chars() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '?' | '(' | ')' | '!' | '@' | ',' => return false,
            '[' => {
                brackets += 1;
                if brackets > 1 {
                    return false;
                }
            }
            ']' => brackets = brackets.saturating_sub(1),
            '.' if after_dot => {
                descendants += 1;
                if descendants > 1 {
                    return false;
                }
                after_dot = false;
                continue;
            }
            _ => {}
        }
        after_dot = c == '.';
    }
    true
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn name(n: &str) -> Segment {
        Segment::Name(n.to_owned())
    }

    fn not_normalized(normalized: Option<&str>) -> PathError {
        PathError::NotNormalized {
            normalized: normalized.map(str::to_owned),
        }
    }

    #[test]
    fn normalized_paths_are_accepted_and_read_back() {
        let doc = json!({"a": {"b": [10, 11, {"c d": true}]}, "": 0, "it's": [0]});
        for (s, segments) in [
            ("$", vec![]),
            ("$['a']", vec![name("a")]),
            ("$['a']['b']", vec![name("a"), name("b")]),
            (
                "$['a']['b'][0]",
                vec![name("a"), name("b"), Segment::Index(0)],
            ),
            (
                "$['a']['b'][2]['c d']",
                vec![name("a"), name("b"), Segment::Index(2), name("c d")],
            ),
            ("$['']", vec![name("")]),
            (r"$['it\'s'][0]", vec![name("it's"), Segment::Index(0)]),
        ] {
            let path = ElementPath::new(segments);
            assert_eq!(ElementPath::parse(s), Ok(path.clone()), "{s}");
            assert_eq!(ElementPath::locate(s, &doc), Ok(path.clone()), "{s}");
            assert_eq!(path.format(), s);
            assert_eq!(path.to_string(), s);
            assert_eq!(s.parse::<ElementPath>(), Ok(path.clone()));
            assert!(path.get(&doc).is_some(), "{s}");
        }
        assert_eq!(
            ElementPath::parse("$['a']['b'][2]['c d']")
                .unwrap()
                .get(&doc),
            Some(&json!(true))
        );
        assert!(ElementPath::parse("$").unwrap().is_root());
    }

    #[test]
    fn non_normalized_queries_are_refused() {
        let doc = json!({"a": {"b": 1}, "x": [1, 2, 3]});
        for (s, expected) in [
            // The brief's list, each with what is said about it.
            ("$.a", not_normalized(Some("$['a']"))),
            ("$[-1]", not_normalized(None)), // the root is not an array: no node
            ("$.x[-1]", not_normalized(Some("$['x'][2]"))),
            ("$[*]", PathError::NotSingular(2)),
            ("$.x[*]", PathError::NotSingular(3)),
            ("$..a", not_normalized(Some("$['a']"))),
            ("$..b", not_normalized(Some("$['a']['b']"))),
            ("$..*", PathError::NotSingular(6)),
            ("$['a','b']", not_normalized(None)), // several selectors: not evaluated
            ("$[\"a\"]", not_normalized(Some("$['a']"))),
            ("$[ 'a' ]", not_normalized(Some("$['a']"))),
            ("$['a'] ['b']", not_normalized(Some("$['a']['b']"))),
            ("$.x[0:1]", not_normalized(Some("$['x'][0]"))),
            ("$.nope", not_normalized(None)),
            ("$[?@.b]", not_normalized(None)), // filters: never evaluated
            ("$..a..b", not_normalized(None)), // two descendant segments: never evaluated
            ("$.x[0,0]", not_normalized(None)),
        ] {
            assert_eq!(ElementPath::locate(s, &doc), Err(expected), "{s}");
            assert_eq!(ElementPath::parse(s), Err(not_normalized(None)), "{s}");
        }
    }

    #[test]
    fn strings_that_are_not_jsonpath_are_syntax_errors() {
        let doc = json!({"a": [1, 2]});
        for s in [
            "",
            "a",
            "$[01]",
            "$['a'][01]",
            "$[-0]",
            "$.",
            "$['a'",
            "$['a']]",
            "$['\u{1}']", // control characters are escaped in every JSONPath string
            "$[9007199254740992]",
            "$['\\x']",
        ] {
            for result in [ElementPath::parse(s), ElementPath::locate(s, &doc)] {
                assert!(
                    matches!(&result, Err(PathError::Syntax(m)) if !m.is_empty()),
                    "{s:?}: {result:?}"
                );
            }
        }
    }

    /// Escapes that a JSONPath string may use but a Normalized Path may not (RFC 9535 §2.7:
    /// one way only to write each name).
    #[test]
    fn other_spellings_of_a_name_are_not_normalized() {
        let doc = json!({"\u{b}": 1, "/": 2, "\u{8}": 3, "'": 4, "é": 5});
        for (s, normalized) in [
            (r"$['\u000B']", r"$['\u000b']"),
            (r"$['\u000b']", r"$['\u000b']"), // normalized itself
            (r"$['\/']", "$['/']"),
            (r"$['\u0008']", r"$['\b']"),
            (r"$['\u0027']", r"$['\'']"),
            (r#"$["'"]"#, r"$['\'']"),
            (r"$['\u00e9']", "$['é']"),
            (r"$['\u00E9']", "$['é']"),
        ] {
            let expected = if s == normalized {
                Ok(ElementPath::parse(s).unwrap())
            } else {
                Err(not_normalized(Some(normalized)))
            };
            assert_eq!(ElementPath::locate(s, &doc), expected, "{s}");
        }
    }

    /// RFC 9535 §2.7.1, Table 16 (Normalized Path examples): each path, on a document where
    /// it selects one node, and its Normalized Path.
    #[test]
    fn rfc9535_table_16() {
        for (s, doc, normalized) in [
            ("$.a", json!({"a": 1}), "$['a']"),
            ("$[1]", json!([0, 1]), "$[1]"),
            ("$[-3]", json!([0, 1, 2, 3, 4]), "$[2]"),
            (
                "$.a.b[1:2]",
                json!({"a": {"b": [0, 1, 2]}}),
                "$['a']['b'][1]",
            ),
            (r#"$["\u000B"]"#, json!({"\u{b}": 1}), r"$['\u000b']"),
            (r#"$["\u0061"]"#, json!({"a": 1}), "$['a']"),
        ] {
            let expected = if s == normalized {
                Ok(ElementPath::parse(normalized).unwrap())
            } else {
                Err(not_normalized(Some(normalized)))
            };
            assert_eq!(ElementPath::locate(s, &doc), expected, "{s}");
            // The normalized form is accepted and selects the same node as the query.
            let path = ElementPath::locate(normalized, &doc).unwrap();
            let query = JsonPath::parse(s).unwrap();
            assert_eq!(path.get(&doc), query.query(&doc).exactly_one().ok());
        }
    }

    #[test]
    fn absent_nodes_are_not_found() {
        let doc = json!({"a": {"b": [1]}, "s": "text"});
        for s in [
            "$['b']",
            "$['a']['c']",
            "$['a']['b'][1]",
            "$['a'][0]",
            "$['s'][0]",
            "$['s']['x']",
            "$[0]",
        ] {
            let path = ElementPath::parse(s).unwrap();
            assert_eq!(
                ElementPath::locate(s, &doc),
                Err(PathError::NotFound),
                "{s}"
            );
            assert_eq!(path.get(&doc), None);
            let mut changed = doc.clone();
            assert_eq!(
                path.replace(&mut changed, json!(0)),
                Err(PathError::NotFound)
            );
            assert_eq!(changed, doc);
        }
    }

    #[test]
    fn replace_swaps_the_node_and_returns_the_old_one() {
        let mut doc = json!({"a": {"b": [1, {"c": "x"}]}});
        let path = ElementPath::parse("$['a']['b'][1]['c']").unwrap();
        assert_eq!(path.replace(&mut doc, json!({"new": null})), Ok(json!("x")));
        assert_eq!(doc, json!({"a": {"b": [1, {"c": {"new": null}}]}}));
        let first = ElementPath::parse("$['a']['b'][0]").unwrap();
        *first.get_mut(&mut doc).unwrap() = json!(2);
        assert_eq!(doc["a"]["b"][0], json!(2));
        let root = ElementPath::parse("$").unwrap();
        assert_eq!(
            root.replace(&mut doc, json!([])),
            Ok(json!({"a": {"b": [2, {"c": {"new": null}}]}}))
        );
        assert_eq!(doc, json!([]));
    }

    #[test]
    fn json_pointers_escape_tilde_and_slash() {
        let path = ElementPath::new(vec![name("a/b~c"), Segment::Index(12), name("~1")]);
        assert_eq!(path.to_json_pointer(), "/a~1b~0c/12/~01");
        assert_eq!(ElementPath::default().to_json_pointer(), "");
        let doc = json!({"a/b~c": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, {"~1": "here"}]});
        assert_eq!(doc.pointer(&path.to_json_pointer()), Some(&json!("here")));
    }

    #[test]
    fn names_are_escaped_as_rfc9535_says() {
        let every_control: String = ('\u{0}'..='\u{1f}').collect();
        let path = ElementPath::new(vec![name(&every_control)]);
        assert_eq!(
            path.format(),
            concat!(
                r"$['\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007",
                r"\b\t\n\u000b\f\r\u000e\u000f",
                r"\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017",
                r"\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f']"
            )
        );
        let path = ElementPath::new(vec![name("'\\\"\u{7f} é€😀\u{2028}[]$.")]);
        assert_eq!(path.format(), "$['\\'\\\\\"\u{7f} é€😀\u{2028}[]$.']");
        assert_eq!(ElementPath::parse(&path.format()), Ok(path));
    }

    /// Deeply nested queries are refused without being parsed: `serde_json_path` parses them
    /// recursively and overflows the stack (which aborts the process) at about a thousand
    /// levels on a 2 MiB thread stack in a debug build.
    #[test]
    fn deep_queries_are_refused_unparsed() {
        let doc = json!({"a": 1});
        for s in [
            format!("$[?{}@.a{}]", "(".repeat(100_000), ")".repeat(100_000)),
            format!("$[?{}@.a]", "!".repeat(100_000)),
            format!("$[?@{}]", "[?@".repeat(100_000)),
            format!("$['a']{}", ",".repeat(100_000)),
            format!("${}", "[0,0]".repeat(10_000)),
            format!("${}", "..*".repeat(10_000)),
        ] {
            assert_eq!(ElementPath::locate(&s, &doc), Err(not_normalized(None)));
            assert_eq!(ElementPath::parse(&s), Err(not_normalized(None)));
        }
    }

    /// Long queries that are evaluated, and long Normalized Paths, are read and evaluated
    /// without recursion.
    #[test]
    fn long_paths_are_fine() {
        let doc = json!({"a": 1});
        let long_query = format!("${}", ".a".repeat(100_000));
        assert_eq!(
            ElementPath::locate(&long_query, &doc),
            Err(not_normalized(None))
        );
        let long_path = format!("${}", "['a']".repeat(100_000));
        assert_eq!(
            ElementPath::locate(&long_path, &doc),
            Err(PathError::NotFound)
        );
        assert_eq!(
            ElementPath::parse(&long_path).unwrap().segments().len(),
            100_000
        );
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert_eq!(
            not_normalized(Some("$['a']")).to_string(),
            "not a Normalized Path (RFC 9535 §2.7); the element it selects is $['a']"
        );
        assert_eq!(
            not_normalized(None).to_string(),
            "not a Normalized Path (RFC 9535 §2.7): `$` followed by ['name'] and [index] segments only"
        );
        assert_eq!(PathError::NotFound.to_string(), "no element at this path");
        assert_eq!(
            PathError::NotSingular(3).to_string(),
            "the path selects 3 elements, an element path selects one"
        );
        let Err(PathError::Syntax(message)) = ElementPath::parse("$[01]") else {
            panic!("$[01] is not RFC 9535");
        };
        assert!(message.contains("position"), "{message}");
    }

    // --- properties -----------------------------------------------------------------

    /// Member names with what needs escaping (quotes, backslashes, U+0000–U+001F) or may look
    /// like syntax, and non-ASCII.
    fn member_name() -> impl Strategy<Value = String> {
        let c = prop_oneof![
            proptest::char::range('\u{0}', '\u{1f}'),
            Just('\''),
            Just('"'),
            Just('\\'),
            Just('u'),
            Just('0'),
            Just('['),
            Just(']'),
            Just('.'),
            Just('~'),
            Just('/'),
            Just('\u{7f}'),
            Just('é'),
            Just('😀'),
            proptest::char::range(' ', '~'),
            any::<char>(),
        ];
        prop::collection::vec(c, 0..8).prop_map(String::from_iter)
    }

    fn segment() -> impl Strategy<Value = Segment> {
        prop_oneof![
            3 => member_name().prop_map(Segment::Name),
            1 => (0usize..4).prop_map(Segment::Index),
        ]
    }

    /// A document with a node at `path` (the returned leaf, unique in the document) and
    /// siblings around it.
    fn document_with(path: &ElementPath) -> (Value, Value) {
        let leaf = json!({"leaf": path.segments().len()});
        let doc = path
            .segments()
            .iter()
            .rev()
            .fold(leaf.clone(), |child, segment| match segment {
                Segment::Name(n) => {
                    let mut object = serde_json::Map::new();
                    object.insert(format!("{n}-sibling"), json!(0));
                    object.insert(n.clone(), child);
                    Value::Object(object)
                }
                Segment::Index(i) => {
                    let mut array = vec![json!(null); *i];
                    array.push(child);
                    array.push(json!("after"));
                    Value::Array(array)
                }
            });
        (doc, leaf)
    }

    /// The same path written as a JSONPath query with double-quoted JSON strings (valid RFC
    /// 9535, never normalized when it has a name).
    fn double_quoted(path: &ElementPath) -> String {
        let mut s = String::from("$");
        for segment in path.segments() {
            s.push('[');
            match segment {
                Segment::Name(n) => s.push_str(&serde_json::to_string(n).unwrap()),
                Segment::Index(i) => s.push_str(&i.to_string()),
            }
            s.push(']');
        }
        s
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// format → parse gives the same path; on a document with that path, the node is
        /// found, and `serde_json_path` reads the formatted string as selecting exactly that
        /// node, at a location we format to the same string.
        #[test]
        fn prop_format_parses_back_to_the_same_node(
            segments in prop::collection::vec(segment(), 0..6),
        ) {
            let path = ElementPath::new(segments);
            let (doc, leaf) = document_with(&path);
            let s = path.format();

            prop_assert_eq!(ElementPath::parse(&s), Ok(path.clone()));
            prop_assert_eq!(ElementPath::locate(&s, &doc), Ok(path.clone()));
            prop_assert_eq!(path.get(&doc), Some(&leaf));
            prop_assert_eq!(doc.pointer(&path.to_json_pointer()), Some(&leaf));

            let query = JsonPath::parse(&s).map_err(|e| TestCaseError::fail(format!("{s}: {e}")))?;
            let nodes = query.query_located(&doc);
            prop_assert_eq!(nodes.len(), 1);
            let node = nodes.first().unwrap();
            prop_assert_eq!(node.node(), &leaf);
            prop_assert_eq!(ElementPath::from_location(node.location().iter()).format(), s);

            let mut changed = doc.clone();
            prop_assert_eq!(path.replace(&mut changed, json!("new")), Ok(leaf));
            prop_assert_eq!(path.get(&changed), Some(&json!("new")));
        }

        /// The same paths written with double-quoted names are refused, naming the Normalized
        /// Path (or accepted, when they have no name segment: then they are normalized).
        #[test]
        fn prop_other_spellings_name_the_normalized_path(
            segments in prop::collection::vec(segment(), 0..6),
        ) {
            let path = ElementPath::new(segments);
            let (doc, _) = document_with(&path);
            let s = double_quoted(&path);
            let has_name = path.segments().iter().any(|s| matches!(s, Segment::Name(_)));
            let expected = if has_name {
                Err(PathError::NotNormalized { normalized: Some(path.format()) })
            } else {
                Ok(path.clone())
            };
            prop_assert_eq!(ElementPath::locate(&s, &doc), expected);
        }

        /// Whatever the string, reading it never panics and agrees between `parse` and
        /// `locate` on acceptance.
        #[test]
        fn prop_arbitrary_strings(t in "[$\\[\\]'\"\\\\.*?0-9a-c:,@() -]{0,16}") {
            let doc = json!({"a": [{"b": 1}, 2], "b": {"c": [3]}});
            for s in [t.clone(), format!("${t}"), format!("$[{t}]"), format!("$['{t}']")] {
                check_arbitrary(&s, &doc)?;
            }
        }
    }

    fn check_arbitrary(s: &str, doc: &Value) -> Result<(), TestCaseError> {
        let parsed = ElementPath::parse(s);
        let located = ElementPath::locate(s, doc);
        match (&parsed, &located) {
            (Ok(p), Ok(l)) => prop_assert_eq!(p, l),
            (Ok(p), Err(e)) => {
                prop_assert_eq!(e, &PathError::NotFound);
                prop_assert_eq!(p.get(doc), None);
            }
            (Err(_), Ok(_)) => prop_assert!(false, "locate accepted what parse refused: {}", s),
            (Err(_), Err(_)) => {}
        }
        if let Ok(p) = parsed {
            prop_assert_eq!(p.format(), s);
        }
        Ok(())
    }
}

//! Streaming JSON check of every request body, before any handler sees it: structure limits
//! (depth, members per object, items per array, string length) and the strict input rules
//! of `hallmark_core::input` (no duplicate member names, every number signed exactly as
//! written, no U+0000), measured on the raw bytes with `serde_json`'s deserializer and a
//! visitor that builds no tree. A refusal names the JSON Pointer concerned.

use crate::problem::{ApiError, JsonLimitKind};
use hallmark_core::input::{InputCheck, InputError, InputRefusal, JsonPath};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashSet;
use std::fmt;

/// JSON structure limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonLimits {
    /// Maximum nesting depth of objects/arrays (a scalar document has depth 0, `{}` depth 1).
    pub max_depth: usize,
    /// Maximum members in one object.
    pub max_keys: usize,
    /// Maximum items in one array.
    pub max_array_items: usize,
    /// Maximum bytes of one string or member name (after unescaping).
    pub max_string_bytes: usize,
}

impl JsonLimits {
    /// Highest accepted `max_depth`: `serde_json` refuses nesting beyond 128 itself.
    pub const DEPTH_CEILING: usize = 127;
}

impl Default for JsonLimits {
    /// Defaults: the largest real battery passport (all seven BatteryPass 1.2.0 submodels
    /// composed, ≈ 7.1 KB minified) has depth 6, at most 18 members per object and strings of
    /// at most 182 bytes; these defaults leave a margin of at least 4× on each (5× on depth,
    /// room for a credential envelope and longer material lists), checked by a test.
    fn default() -> Self {
        JsonLimits {
            max_depth: 32,
            max_keys: 1024,
            max_array_items: 10_000,
            max_string_bytes: 64 * 1024,
        }
    }
}

/// What a document actually uses (maxima over the whole document).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JsonStats {
    /// Deepest nesting.
    pub depth: usize,
    /// Most members in one object.
    pub keys: usize,
    /// Most items in one array.
    pub array_items: usize,
    /// Longest string or member name, in bytes.
    pub string_bytes: usize,
}

/// Why a body failed the check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonCheckError {
    /// A limit was exceeded.
    #[error("JSON exceeds {}={max}", kind.setting())]
    Limit {
        /// Which limit.
        kind: JsonLimitKind,
        /// The configured maximum.
        max: usize,
    },
    /// Not valid JSON (message: cause and position, never content).
    #[error("malformed JSON: {0}")]
    Syntax(String),
    /// Well-formed, but breaks a strict input rule (duplicate member name, a number not
    /// signed as written, U+0000).
    #[error("{0}")]
    Refused(InputRefusal),
}

impl From<JsonCheckError> for ApiError {
    fn from(e: JsonCheckError) -> Self {
        match e {
            JsonCheckError::Limit { kind, max } => ApiError::JsonLimit { kind, max },
            JsonCheckError::Syntax(detail) => ApiError::MalformedJson { detail },
            JsonCheckError::Refused(refusal) => ApiError::InputRefused(refusal),
        }
    }
}

/// Check `bytes` against `limits` and the strict input rules without building a tree;
/// returns what the document uses. The first problem in document order is reported.
pub fn check(bytes: &[u8], limits: &JsonLimits) -> Result<JsonStats, JsonCheckError> {
    let ctx = Ctx {
        limits: *limits,
        stats: Cell::new(JsonStats::default()),
        violation: Cell::new(None),
        input: InputCheck::new(bytes),
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let result = Node {
        ctx: &ctx,
        depth: 0,
        path: JsonPath::Root,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    if let Some((kind, max)) = ctx.violation.get() {
        return Err(JsonCheckError::Limit { kind, max });
    }
    let stats = ctx.stats.get();
    match ctx.input.finish(result) {
        Ok(()) => Ok(stats),
        Err(InputError::Refused(refusal)) => Err(JsonCheckError::Refused(refusal)),
        Err(InputError::Syntax(e)) => Err(JsonCheckError::Syntax(syntax_message(&e))),
    }
}

fn syntax_message(e: &serde_json::Error) -> String {
    // serde_json's messages name the cause and position; they never quote input except
    // for "invalid type" messages, which this visitor never produces.
    let msg = e.to_string();
    if msg.contains("recursion limit") {
        format!(
            "nesting too deep at line {} column {}",
            e.line(),
            e.column()
        )
    } else {
        msg
    }
}

struct Ctx<'b> {
    limits: JsonLimits,
    stats: Cell<JsonStats>,
    violation: Cell<Option<(JsonLimitKind, usize)>>,
    input: InputCheck<'b>,
}

impl Ctx<'_> {
    fn exceed<E: de::Error>(&self, kind: JsonLimitKind, max: usize) -> E {
        self.violation.set(Some((kind, max)));
        E::custom(kind.setting())
    }

    fn string<E: de::Error>(&self, len: usize) -> Result<(), E> {
        let mut s = self.stats.get();
        s.string_bytes = s.string_bytes.max(len);
        self.stats.set(s);
        if len > self.limits.max_string_bytes {
            return Err(self.exceed(JsonLimitKind::StringBytes, self.limits.max_string_bytes));
        }
        Ok(())
    }

    fn enter<E: de::Error>(&self, depth: usize) -> Result<(), E> {
        let mut s = self.stats.get();
        s.depth = s.depth.max(depth);
        self.stats.set(s);
        if depth > self.limits.max_depth {
            return Err(self.exceed(JsonLimitKind::Depth, self.limits.max_depth));
        }
        Ok(())
    }
}

/// One JSON value at a given depth and path.
struct Node<'p, 'b> {
    ctx: &'p Ctx<'b>,
    depth: usize,
    path: JsonPath<'p>,
}

impl<'de> DeserializeSeed<'de> for Node<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let (ctx, path) = (self.ctx, self.path);
        d.deserialize_any(self)
            .inspect_err(|_| ctx.input.failed(&path))
    }
}

impl<'de> Visitor<'de> for Node<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.ctx.input.signed(v, &self.path)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.ctx.input.unsigned(v, &self.path)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.ctx.input.float(v, &self.path)
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.ctx.string(v.len())?;
        self.ctx.input.string(v, &self.path)
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<(), E> {
        self.visit_str(v)
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<(), E> {
        self.visit_str(&v)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let depth = self.depth + 1;
        self.ctx.enter(depth)?;
        let mut n = 0usize;
        while seq
            .next_element_seed(Node {
                ctx: self.ctx,
                depth,
                path: JsonPath::Item(&self.path, n),
            })?
            .is_some()
        {
            n += 1;
            let mut s = self.ctx.stats.get();
            s.array_items = s.array_items.max(n);
            self.ctx.stats.set(s);
            if n > self.ctx.limits.max_array_items {
                return Err(self
                    .ctx
                    .exceed(JsonLimitKind::ArrayItems, self.ctx.limits.max_array_items));
            }
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let depth = self.depth + 1;
        self.ctx.enter(depth)?;
        let mut n = 0usize;
        // Member names seen in this object (borrowed from the body unless escaped).
        let mut seen: HashSet<Cow<'de, str>> = HashSet::new();
        while let Some(name) = map.next_key_seed(Key { ctx: self.ctx })? {
            n += 1;
            let mut s = self.ctx.stats.get();
            s.keys = s.keys.max(n);
            self.ctx.stats.set(s);
            if n > self.ctx.limits.max_keys {
                return Err(self
                    .ctx
                    .exceed(JsonLimitKind::KeysPerObject, self.ctx.limits.max_keys));
            }
            self.ctx
                .input
                .member(&name, seen.contains(&name), &self.path)?;
            map.next_value_seed(Node {
                ctx: self.ctx,
                depth,
                path: JsonPath::Member(&self.path, &name),
            })?;
            seen.insert(name);
        }
        Ok(())
    }
}

/// A member name (returned, to detect duplicates and to name the member's path).
struct Key<'p, 'b> {
    ctx: &'p Ctx<'b>,
}

impl<'de> DeserializeSeed<'de> for Key<'_, '_> {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_, '_> {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Cow<'de, str>, E> {
        self.ctx.string(v.len())?;
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        self.ctx.string(v.len())?;
        Ok(Cow::Borrowed(v))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Cow<'de, str>, E> {
        self.ctx.string(v.len())?;
        Ok(Cow::Owned(v))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::prelude::*;

    fn small() -> JsonLimits {
        JsonLimits {
            max_depth: 3,
            max_keys: 2,
            max_array_items: 3,
            max_string_bytes: 5,
        }
    }

    fn limit(kind: JsonLimitKind, max: usize) -> Result<JsonStats, JsonCheckError> {
        Err(JsonCheckError::Limit { kind, max })
    }

    #[test]
    fn table() {
        use JsonLimitKind::*;
        let ok = |s: &str| assert!(check(s.as_bytes(), &small()).is_ok(), "{s}");
        ok("1");
        ok("\"abcde\"");
        ok(r#"{"a":{"b":[1,2,3]}}"#);
        ok(r#"{"abcde":1,"b":2}"#);
        ok("[[[]]]");
        ok(r#"  {"a" : "x\u0041y"}  "#);
        let cases: &[(&str, JsonLimitKind, usize)] = &[
            ("[[[[]]]]", Depth, 3),
            (r#"{"a":{"b":{"c":{}}}}"#, Depth, 3),
            (r#"{"a":1,"b":2,"c":3}"#, KeysPerObject, 2),
            (r#"{"a":{"x":1,"y":2,"z":3}}"#, KeysPerObject, 2),
            ("[1,2,3,4]", ArrayItems, 3),
            (r#"{"a":[[],[],[],[]]}"#, ArrayItems, 3),
            ("\"abcdef\"", StringBytes, 5),
            (r#"{"abcdef":1}"#, StringBytes, 5),
            (r#"["abc\u0041\u0042\u0043"]"#, StringBytes, 5),
            ("\"ééé\"", StringBytes, 5),
        ];
        for (doc, kind, max) in cases {
            assert_eq!(check(doc.as_bytes(), &small()), limit(*kind, *max), "{doc}");
        }
    }

    #[test]
    fn syntax_errors_are_not_limit_errors() {
        for doc in [
            "",
            "{",
            "[1,]",
            "{\"a\" 1}",
            "1 2",
            "\"abc",
            "nul",
            "{\"a\":1}x",
        ] {
            match check(doc.as_bytes(), &small()) {
                Err(JsonCheckError::Syntax(_)) => {}
                other => panic!("{doc:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn strict_input_rules_name_the_pointer() {
        use hallmark_core::input::{InputRefusal as R, NumberRefusal as N};
        let refused = |doc: &str| match check(doc.as_bytes(), &JsonLimits::default()) {
            Err(JsonCheckError::Refused(r)) => r,
            other => panic!("{doc}: {other:?}"),
        };
        let num = |pointer: &str, reason| R::Number {
            pointer: pointer.into(),
            reason,
        };
        assert_eq!(
            refused(r#"{"data":{"a":1,"b":{"c":[1,2],"c":3}}}"#),
            R::DuplicateMember {
                pointer: "/data/b/c".into()
            }
        );
        assert_eq!(
            refused(r#"{"a\u0041":1,"aA":2}"#),
            R::DuplicateMember {
                pointer: "/aA".into()
            }
        );
        assert_eq!(
            refused(r#"{"reason":"x\u0000"}"#),
            R::Nul {
                pointer: "/reason".into()
            }
        );
        assert_eq!(
            refused(r#"[{"\u0000k":1}]"#),
            R::Nul {
                pointer: "/0/\u{0}k".into()
            }
        );
        assert_eq!(
            refused(r#"{"n":[1,2,18446744073709551616]}"#),
            num("/n/2", N::UnsafeInteger)
        );
        assert_eq!(
            refused(r#"{"n":9007199254740992}"#),
            num("/n", N::UnsafeInteger)
        );
        assert_eq!(
            refused(r#"{"n":123456789012345678901234567890}"#),
            num("/n", N::UnsafeInteger)
        );
        assert_eq!(
            refused(r#"{"a":"1e5","n":1e-400}"#),
            num("/n", N::Underflow)
        );
        assert_eq!(
            refused(r#"{"a~b":{"n":-1e400}}"#),
            num("/a~0b/n", N::Overflow)
        );
        assert_eq!(
            refused(r#"{"n":0.30000000000000001}"#),
            num("/n", N::Inexact)
        );
        let ok = r#"{"a":9007199254740991,"b":-9007199254740991,"c":1.5e300,"d":1.0,"e":[-0,0.1,5e-324],"f":"\u0001","g":{"x":1},"h":{"x":1}}"#;
        assert!(check(ok.as_bytes(), &JsonLimits::default()).is_ok());
        // A limit met before a refusal is the limit; syntax stays syntax.
        assert_eq!(
            check(br#"{"a":1,"b":2,"c":3,"a":4}"#, &small()),
            limit(JsonLimitKind::KeysPerObject, 2)
        );
        assert!(matches!(
            check(b"[tru, 1e400]", &JsonLimits::default()),
            Err(JsonCheckError::Syntax(_))
        ));
    }

    #[test]
    fn serde_json_recursion_limit_reads_as_syntax_not_panic() {
        let deep = "[".repeat(200) + &"]".repeat(200);
        let lim = JsonLimits {
            max_depth: JsonLimits::DEPTH_CEILING,
            ..JsonLimits::default()
        };
        assert!(check(deep.as_bytes(), &lim).is_err());
        assert_eq!(
            check(deep.as_bytes(), &JsonLimits::default()),
            limit(JsonLimitKind::Depth, 32)
        );
    }

    #[test]
    fn stats_measure_the_document() {
        let s = check(
            br#"{"a":[1,2,{"bb":"xyz"}],"c":null}"#,
            &JsonLimits::default(),
        )
        .unwrap();
        assert_eq!(
            s,
            JsonStats {
                depth: 3,
                keys: 2,
                array_items: 3,
                string_bytes: 3
            }
        );
    }

    proptest! {
        #[test]
        fn prop_nesting_depth_is_exact(n in 1usize..60) {
            let doc = "[".repeat(n) + &"]".repeat(n);
            let r = check(doc.as_bytes(), &JsonLimits::default());
            if n <= 32 {
                prop_assert_eq!(r.map(|s| s.depth), Ok(n));
            } else {
                prop_assert_eq!(r, limit(JsonLimitKind::Depth, 32));
            }
        }

        #[test]
        fn prop_arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = check(&b, &small());
        }
    }
}

//! JSON Merge Patch (RFC 7396), the body of `PATCH /v1/dpps/{dppId}`
//! (`application/merge-patch+json`).
//!
//! A merge patch describes changes by example: members of a patch object replace the
//! target's members of the same name, recursively; a member whose value is `null` removes that
//! member; anything that is not an object (an array, a string, `null` itself…) replaces the
//! target whole. Arrays are never merged element by element. Consequences worth knowing:
//! - a merge patch cannot set a member to `null` (null means "remove");
//! - applying the same patch twice gives the same result as applying it once.

use serde_json::{Map, Value};

/// Applies `patch` to `target` in place, exactly as the pseudo-code of RFC 7396 §2.
///
/// Never fails: every JSON value is a valid merge patch. The recursion is as deep as the
/// patch's objects are nested (bounded by the JSON parser's own depth limit for a parsed
/// patch).
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(target) = target {
        for (name, value) in patch {
            if value.is_null() {
                target.remove(name);
            } else {
                merge_patch(target.entry(name.as_str()).or_insert(Value::Null), value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::merge_patch;
    use proptest::prelude::*;
    use serde_json::{json, Map, Value};

    fn merged(target: &Value, patch: &Value) -> Value {
        let mut out = target.clone();
        merge_patch(&mut out, patch);
        out
    }

    /// RFC 7396 Appendix A, all of its example test cases, in its order.
    #[test]
    fn rfc7396_appendix_a() {
        let cases: [(&str, &str, &str); 15] = [
            (r#"{"a":"b"}"#, r#"{"a":"c"}"#, r#"{"a":"c"}"#),
            (r#"{"a":"b"}"#, r#"{"b":"c"}"#, r#"{"a":"b","b":"c"}"#),
            (r#"{"a":"b"}"#, r#"{"a":null}"#, r#"{}"#),
            (r#"{"a":"b","b":"c"}"#, r#"{"a":null}"#, r#"{"b":"c"}"#),
            (r#"{"a":["b"]}"#, r#"{"a":"c"}"#, r#"{"a":"c"}"#),
            (r#"{"a":"c"}"#, r#"{"a":["b"]}"#, r#"{"a":["b"]}"#),
            (
                r#"{"a":{"b":"c"}}"#,
                r#"{"a":{"b":"d","c":null}}"#,
                r#"{"a":{"b":"d"}}"#,
            ),
            (r#"{"a":[{"b":"c"}]}"#, r#"{"a":[1]}"#, r#"{"a":[1]}"#),
            (r#"["a","b"]"#, r#"["c","d"]"#, r#"["c","d"]"#),
            (r#"{"a":"b"}"#, r#"["c"]"#, r#"["c"]"#),
            (r#"{"a":"foo"}"#, r#"null"#, r#"null"#),
            (r#"{"a":"foo"}"#, r#""bar""#, r#""bar""#),
            (r#"{"e":null}"#, r#"{"a":1}"#, r#"{"e":null,"a":1}"#),
            (r#"[1,2]"#, r#"{"a":"b","c":null}"#, r#"{"a":"b"}"#),
            (
                r#"{}"#,
                r#"{"a":{"bb":{"ccc":null}}}"#,
                r#"{"a":{"bb":{}}}"#,
            ),
        ];
        for (original, patch, result) in cases {
            let original: Value = serde_json::from_str(original).unwrap();
            let patch: Value = serde_json::from_str(patch).unwrap();
            let result: Value = serde_json::from_str(result).unwrap();
            assert_eq!(merged(&original, &patch), result, "{original} + {patch}");
        }
    }

    /// RFC 7396 §3's worked example (the one the RFC walks through in prose).
    #[test]
    fn rfc7396_section_3_example() {
        let target = json!({
            "title": "Goodbye!",
            "author": {"givenName": "John", "familyName": "Doe"},
            "tags": ["example", "sample"],
            "content": "This will be unchanged"
        });
        let patch = json!({
            "title": "Hello!",
            "phoneNumber": "+01-123-456-7890",
            "author": {"familyName": null},
            "tags": ["example"]
        });
        assert_eq!(
            merged(&target, &patch),
            json!({
                "title": "Hello!",
                "author": {"givenName": "John"},
                "tags": ["example"],
                "content": "This will be unchanged",
                "phoneNumber": "+01-123-456-7890"
            })
        );
    }

    #[test]
    fn removing_a_member_absent_from_the_target_changes_nothing() {
        let target = json!({"a": 1, "b": {"c": 2}});
        assert_eq!(
            merged(&target, &json!({"x": null, "b": {"y": null}})),
            target
        );
        assert_eq!(merged(&target, &json!({})), target);
    }

    /// A test-only inverse: the merge patch that turns `a` into `b` (`b` must hold no null,
    /// which a merge patch cannot produce).
    fn diff(a: &Value, b: &Value) -> Value {
        let (Value::Object(a), Value::Object(b)) = (a, b) else {
            return b.clone();
        };
        let mut patch = Map::new();
        for name in a.keys().filter(|name| !b.contains_key(*name)) {
            patch.insert(name.clone(), Value::Null);
        }
        for (name, bv) in b {
            match a.get(name) {
                Some(av) if av == bv => {}
                Some(av) => {
                    patch.insert(name.clone(), diff(av, bv));
                }
                None => {
                    patch.insert(name.clone(), bv.clone());
                }
            }
        }
        Value::Object(patch)
    }

    /// JSON values over few member names (so that two values share members often), with
    /// `null` only if `nulls`.
    fn json(nulls: bool) -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            any::<bool>().prop_map(Value::from),
            (-3i64..3).prop_map(Value::from),
            "[xy]{0,2}".prop_map(Value::from),
            Just(if nulls { Value::Null } else { Value::from(0.5) }),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
                prop::collection::btree_map("[abc]", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// `merge_patch(a, diff(a, b)) == b` for any `a` (nulls allowed: they can be removed)
        /// and any null-free `b`.
        #[test]
        fn prop_diff_then_merge_gives_the_other_value(a in json(true), b in json(false)) {
            let patch = diff(&a, &b);
            prop_assert_eq!(merged(&a, &patch), b.clone());
            // The diff of a value with itself changes nothing.
            prop_assert_eq!(merged(&b, &diff(&b, &b)), b);
        }

        /// RFC 7396 §1: applying a merge patch is idempotent, whatever the patch (nulls too).
        #[test]
        fn prop_merge_is_idempotent(a in json(true), patch in json(true)) {
            let once = merged(&a, &patch);
            prop_assert_eq!(merged(&once, &patch), once);
        }
    }
}

//! Tier trees: where in a sector's data each field sits, and which [`Tier`] it carries.
//!
//! A [`TierNode`] mirrors the shape the sector's schema allows. Walking data alongside the tree
//! gives every value its tier: the most specific mapped node on the way down wins, a location the
//! tree does not know is [`Tier::Authority`] (fail closed), and inside an open (free-form) node
//! everything inherits the open node's tier.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::access::{Audience, Tier};

/// One location in a sector's data shape.
#[derive(Debug, Clone)]
pub(crate) struct TierNode {
    /// The tier mapped at exactly this location, if any (children inherit it).
    pub tier: Option<Tier>,
    /// The CSV attribute numbers (or other source ids) mapped at exactly this location.
    pub attrs: Option<&'static [u16]>,
    pub kind: NodeKind,
}

#[derive(Debug, Clone)]
pub(crate) enum NodeKind {
    /// An object with known properties; any other property is outside the shape.
    Object(BTreeMap<String, TierNode>),
    /// An array whose every element has the item shape.
    Array(Box<TierNode>),
    /// A string, number, boolean or null: nothing below it.
    Scalar,
    /// A free-form value: everything below inherits this node's tier.
    Open,
}

impl TierNode {
    pub(crate) fn new(kind: NodeKind) -> Self {
        TierNode {
            tier: None,
            attrs: None,
            kind,
        }
    }

    /// The node at a schema path (`/a/*/b`, `*` = array item), if the shape has it.
    pub(crate) fn at_path_mut(&mut self, path: &str) -> Option<&mut TierNode> {
        let mut node = self;
        for seg in split_pointer(path)? {
            node = match &mut node.kind {
                NodeKind::Object(children) => children.get_mut(&seg)?,
                NodeKind::Array(item) if seg == "*" => item,
                _ => return None,
            };
        }
        Some(node)
    }

    /// Every leaf location (scalars and open values) as a schema path with `*` for array items.
    pub(crate) fn leaf_paths(&self, prefix: &str, out: &mut Vec<String>) {
        match &self.kind {
            NodeKind::Object(children) if !children.is_empty() => {
                for (key, child) in children {
                    child.leaf_paths(&format!("{prefix}/{}", escape_token(key)), out);
                }
            }
            NodeKind::Array(item) => item.leaf_paths(&format!("{prefix}/*"), out),
            _ => out.push(prefix.to_owned()),
        }
    }
}

/// A position while walking data alongside a tier tree.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cursor<'t> {
    /// At a known node; the tier in force (the most specific mapping seen so far).
    At(&'t TierNode, Option<Tier>, Option<&'static [u16]>),
    /// Inside a free-form value with the given tier.
    Open(Tier, Option<&'static [u16]>),
    /// Outside the known shape: restricted.
    Outside,
}

/// A step down from a container.
pub(crate) enum Step<'s> {
    Key(&'s str),
    Index,
}

impl<'t> Cursor<'t> {
    pub(crate) fn root(node: &'t TierNode) -> Self {
        Cursor::At(node, node.tier, node.attrs)
    }

    pub(crate) fn step(self, step: Step<'_>) -> Self {
        match self {
            Cursor::At(node, tier, attrs) => {
                let child = match (&node.kind, step) {
                    (NodeKind::Object(children), Step::Key(key)) => children.get(key),
                    (NodeKind::Array(item), Step::Index) => Some(&**item),
                    (NodeKind::Open, _) => {
                        return Cursor::Open(tier.unwrap_or(Tier::Authority), attrs)
                    }
                    _ => None,
                };
                match child {
                    Some(child) => Cursor::At(child, child.tier.or(tier), child.attrs.or(attrs)),
                    None => Cursor::Outside,
                }
            }
            open @ Cursor::Open(..) => open,
            Cursor::Outside => Cursor::Outside,
        }
    }

    /// Step by a JSON-pointer token: an array index at an array node, a key otherwise.
    pub(crate) fn step_token(self, token: &str) -> Self {
        match self {
            Cursor::At(node, ..) if matches!(node.kind, NodeKind::Array(_)) => {
                if is_array_index(token) {
                    self.step(Step::Index)
                } else {
                    Cursor::Outside
                }
            }
            _ => self.step(Step::Key(token)),
        }
    }

    pub(crate) fn tier(self) -> Tier {
        match self {
            Cursor::At(_, tier, _) => tier.unwrap_or(Tier::Authority),
            Cursor::Open(tier, _) => tier,
            Cursor::Outside => Tier::Authority,
        }
    }

    pub(crate) fn attrs(self) -> Option<&'static [u16]> {
        match self {
            Cursor::At(_, _, attrs) | Cursor::Open(_, attrs) => attrs,
            Cursor::Outside => None,
        }
    }
}

/// The cursor at an RFC 6901 pointer; an invalid pointer is outside the shape.
pub(crate) fn locate<'t>(root: &'t TierNode, pointer: &str) -> Cursor<'t> {
    let Some(tokens) = split_pointer(pointer) else {
        return Cursor::Outside;
    };
    tokens
        .iter()
        .fold(Cursor::root(root), |cur, token| cur.step_token(token))
}

/// Split an RFC 6901 pointer into unescaped tokens; `None` if it is not a valid pointer.
pub(crate) fn split_pointer(pointer: &str) -> Option<Vec<String>> {
    if pointer.is_empty() {
        return Some(Vec::new());
    }
    let rest = pointer.strip_prefix('/')?;
    rest.split('/').map(unescape_token).collect()
}

fn unescape_token(token: &str) -> Option<String> {
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// Escape one key as an RFC 6901 reference token.
pub(crate) fn escape_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn is_array_index(token: &str) -> bool {
    token == "0"
        || (!token.is_empty()
            && !token.starts_with('0')
            && token.bytes().all(|b| b.is_ascii_digit()))
}

/// The part of `data` the audience may see. The root is always kept (an empty object, array
/// or `null` when nothing is visible).
pub(crate) fn view(root: &TierNode, data: &Value, audience: Audience) -> Value {
    let cursor = Cursor::root(root);
    match view_value(data, cursor, audience) {
        Some(v) => v,
        None => match data {
            Value::Object(_) => Value::Object(Map::new()),
            Value::Array(_) => Value::Array(Vec::new()),
            _ => Value::Null,
        },
    }
}

/// Scalars are kept when the audience may see their tier. Containers are filtered child by
/// child; one that ends up empty is dropped, unless it was empty already and the audience may
/// see its own location's tier.
fn view_value(value: &Value, cursor: Cursor<'_>, audience: Audience) -> Option<Value> {
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, child) in map {
                if let Some(v) = view_value(child, cursor.step(Step::Key(key)), audience) {
                    out.insert(key.clone(), v);
                }
            }
            keep_container(out.is_empty(), map.is_empty(), cursor, audience)
                .then_some(Value::Object(out))
        }
        Value::Array(items) => {
            let out: Vec<Value> = items
                .iter()
                .filter_map(|item| view_value(item, cursor.step(Step::Index), audience))
                .collect();
            keep_container(out.is_empty(), items.is_empty(), cursor, audience)
                .then_some(Value::Array(out))
        }
        scalar => audience.may_see(cursor.tier()).then(|| scalar.clone()),
    }
}

fn keep_container(
    now_empty: bool,
    was_empty: bool,
    cursor: Cursor<'_>,
    audience: Audience,
) -> bool {
    !now_empty || (was_empty && audience.may_see(cursor.tier()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn pointers_split_and_escape() {
        assert_eq!(split_pointer(""), Some(vec![]));
        assert_eq!(split_pointer("/"), Some(vec![String::new()]));
        assert_eq!(
            split_pointer("/a~1b/c~0d/0"),
            Some(vec!["a/b".into(), "c~d".into(), "0".into()])
        );
        assert_eq!(split_pointer("a"), None);
        assert_eq!(split_pointer("/a~"), None);
        assert_eq!(split_pointer("/a~2"), None);
        assert_eq!(escape_token("a/b~c"), "a~1b~0c");
    }

    #[test]
    fn array_indices() {
        assert!(is_array_index("0"));
        assert!(is_array_index("17"));
        assert!(!is_array_index("017"));
        assert!(!is_array_index("-"));
        assert!(!is_array_index(""));
        assert!(!is_array_index("1a"));
    }

    #[test]
    fn most_specific_mapping_wins_and_unknown_is_authority() {
        let mut leaf = TierNode::new(NodeKind::Scalar);
        leaf.tier = Some(Tier::Public);
        let mut children = BTreeMap::new();
        children.insert("open".to_owned(), TierNode::new(NodeKind::Scalar));
        children.insert("pub".to_owned(), leaf);
        let mut obj = TierNode::new(NodeKind::Object(children));
        obj.tier = Some(Tier::LegitimateInterest);
        let root = TierNode::new(NodeKind::Array(Box::new(obj)));
        assert_eq!(locate(&root, "/0/pub").tier(), Tier::Public);
        assert_eq!(locate(&root, "/3/open").tier(), Tier::LegitimateInterest);
        assert_eq!(locate(&root, "/3/other").tier(), Tier::Authority);
        assert_eq!(locate(&root, "/x/pub").tier(), Tier::Authority);
        assert_eq!(locate(&root, "/0/pub/deeper").tier(), Tier::Authority);
        assert_eq!(locate(&root, "").tier(), Tier::Authority);
    }
}

//! Small helpers that read the model out of a `serde_json::Value` with precise, typed errors
//! (JSON path, expected type, unknown field) instead of serde's free-text messages.

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::error::{echo, PassportError};

pub(crate) fn type_name(v: &Value) -> &'static str {
    crate::vc_model::kind(v)
}

/// `parent.key`, or `key` at the root.
pub(crate) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// An object whose keys have been checked against the allowed set.
pub(crate) struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: &'a str,
}

impl<'a> Obj<'a> {
    /// Checks that `v` is an object with no keys outside `allowed`.
    pub(crate) fn new(
        v: &'a Value,
        path: &'a str,
        allowed: &[&str],
    ) -> Result<Self, PassportError> {
        let Value::Object(map) = v else {
            return Err(PassportError::WrongType {
                path: if path.is_empty() {
                    "$".to_owned()
                } else {
                    path.to_owned()
                },
                expected: "an object",
                found: type_name(v),
            });
        };
        if let Some(key) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(PassportError::UnknownField {
                path: join(path, &echo(key)),
            });
        }
        Ok(Self { map, path })
    }

    pub(crate) fn path(&self, key: &str) -> String {
        join(self.path, key)
    }

    /// A present, non-null value.
    pub(crate) fn opt(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub(crate) fn req(&self, key: &str) -> Result<&'a Value, PassportError> {
        self.opt(key).ok_or_else(|| PassportError::MissingField {
            path: self.path(key),
        })
    }

    pub(crate) fn req_str(&self, key: &str) -> Result<&'a str, PassportError> {
        as_str(self.req(key)?, &self.path(key))
    }

    pub(crate) fn opt_str(&self, key: &str) -> Result<Option<&'a str>, PassportError> {
        self.opt(key)
            .map(|v| as_str(v, &self.path(key)))
            .transpose()
    }

    pub(crate) fn req_u32(&self, key: &str) -> Result<u32, PassportError> {
        let v = self.req(key)?;
        v.as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| PassportError::WrongType {
                path: self.path(key),
                expected: "an integer between 0 and 4294967295",
                found: type_name(v),
            })
    }

    pub(crate) fn req_time(&self, key: &str) -> Result<OffsetDateTime, PassportError> {
        parse_time(self.req_str(key)?, &self.path(key))
    }

    pub(crate) fn opt_time(&self, key: &str) -> Result<Option<OffsetDateTime>, PassportError> {
        self.opt_str(key)?
            .map(|s| parse_time(s, &self.path(key)))
            .transpose()
    }
}

pub(crate) fn as_str<'a>(v: &'a Value, path: &str) -> Result<&'a str, PassportError> {
    v.as_str().ok_or_else(|| PassportError::WrongType {
        path: path.to_owned(),
        expected: "a string",
        found: type_name(v),
    })
}

fn parse_time(s: &str, path: &str) -> Result<OffsetDateTime, PassportError> {
    OffsetDateTime::parse(s, &Rfc3339).map_err(|e| PassportError::InvalidTimestamp {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// Maps a serde_json parse error of the raw text to a typed error.
pub(crate) fn syntax_error(e: &serde_json::Error) -> PassportError {
    match e.classify() {
        serde_json::error::Category::Eof => PassportError::JsonTruncated {
            line: e.line(),
            column: e.column(),
        },
        _ => PassportError::JsonSyntax {
            line: e.line(),
            column: e.column(),
            message: {
                let mut msg = e.to_string();
                if let Some(idx) = msg.rfind(" at line ") {
                    msg.truncate(idx);
                }
                msg
            },
        },
    }
}

fn check_size(bytes: &[u8]) -> Result<(), PassportError> {
    if bytes.len() > super::MAX_INPUT_BYTES {
        return Err(PassportError::InputTooLarge {
            len: bytes.len(),
            max: super::MAX_INPUT_BYTES,
        });
    }
    Ok(())
}

/// Parses bytes into a `Value` after the size check.
pub(crate) fn parse_bounded(bytes: &[u8]) -> Result<Value, PassportError> {
    check_size(bytes)?;
    serde_json::from_slice(bytes).map_err(|e| syntax_error(&e))
}

/// Parses client input after the size check, under the strict input rules of
/// [`crate::input`] (duplicate member names, numbers not signed as written and U+0000 are
/// refused with their JSON Pointer).
pub(crate) fn parse_input(bytes: &[u8]) -> Result<Value, PassportError> {
    check_size(bytes)?;
    crate::jcs::parse_checked(bytes).map_err(|e| match e {
        crate::input::InputError::Refused(r) => PassportError::Refused(r),
        crate::input::InputError::Syntax(e) => syntax_error(&e),
    })
}

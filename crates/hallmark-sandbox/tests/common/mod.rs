//! WAT plugin builders shared by the sandbox tests and benchmark.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use hallmark_sandbox::{Limits, LoaderConfig, Sandbox};

/// Escape a string for a WAT data segment.
fn wat_str(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

pub const FINDINGS: &str =
    r#"{"findings":[{"pointer":"/x","severity":"warning","message":"looks odd"}]}"#;

/// A plugin for `sector` 1.0.0 whose `hallmark_validate` body is `validate` (it must leave
/// an i64 on the stack; `$ok` is the packed pointer/length of [`FINDINGS`]), with `extra`
/// module fields and `imports` before them.
pub fn plugin_wat(sector: &str, imports: &str, validate: &str, extra: &str) -> Vec<u8> {
    let describe = format!(
        r#"{{"abi":1,"name":"wat-{sector}","version":"1.0.0","sectors":[{{"id":"{sector}","schemaVersions":["1.0.0"]}}]}}"#
    );
    let ok = (2048u64 << 32) | FINDINGS.len() as u64;
    let text = format!(
        r#"(module
  {imports}
  (memory (export "memory") 1)
  (global $bump (mut i32) (i32.const 8192))
  (global $ok i64 (i64.const {ok}))
  (data (i32.const 0) "{d}")
  (data (i32.const 2048) "{f}")
  (func (export "hallmark_alloc") (param $len i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $bump))
    (if (i32.gt_u (i32.add (local.get $p) (local.get $len))
                  (i32.mul (memory.size) (i32.const 65536)))
      (then (drop (memory.grow (i32.add (i32.shr_u (local.get $len) (i32.const 16)) (i32.const 1))))))
    (global.set $bump (i32.add (local.get $p) (local.get $len)))
    (local.get $p))
  (func (export "hallmark_describe") (result i64) (i64.const {dlen}))
  (func (export "hallmark_validate") (param $ptr i32) (param $len i32) (result i64)
    {validate})
  {extra})"#,
        d = wat_str(&describe),
        f = wat_str(FINDINGS),
        dlen = describe.len(),
    );
    wat::parse_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// A well-behaved plugin for `sector`.
pub fn good(sector: &str) -> Vec<u8> {
    plugin_wat(sector, "", "(global.get $ok)", "")
}

pub fn dev_sandbox(limits: Limits) -> Sandbox {
    Sandbox::new(
        limits,
        LoaderConfig {
            trusted_publishers: vec![],
            allow_unsigned: true,
        },
    )
    .unwrap()
}

pub fn data() -> serde_json::Value {
    serde_json::json!({"x": 1})
}

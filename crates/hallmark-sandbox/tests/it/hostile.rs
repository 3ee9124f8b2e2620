//! Hostile plugins: each is stopped with a typed error, and the same host then still runs a
//! good plugin.

use crate::common;

use common::{data, dev_sandbox, good, plugin_wat, FINDINGS};
use hallmark_sandbox::{Limits, Sandbox, SandboxError, Severity};
use std::time::{Duration, Instant};

/// A host with a good plugin (sector `good`) and the hostile one (sector `hostile`).
fn host_with(limits: Limits, hostile: &[u8]) -> Sandbox {
    let sb = dev_sandbox(limits);
    sb.load(&good("good"), None).unwrap();
    sb.load(hostile, None).unwrap();
    sb
}

fn still_fine(sb: &Sandbox) {
    let findings = sb.validate("good", "1.0.0", &data()).unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].severity, Severity::Warning);
    assert_eq!(findings[0].pointer, "/x");
    assert!(FINDINGS.contains(&findings[0].message));
}

#[test]
fn good_plugin_runs() {
    let sb = dev_sandbox(Limits::default());
    let info = sb.load(&good("good"), None).unwrap();
    assert!(!info.signed);
    assert_eq!(info.description.name, "wat-good");
    assert_eq!(sb.describe("good", "1.0.0").unwrap(), info.description);
    still_fine(&sb);
    assert!(matches!(
        sb.validate("other", "1.0.0", &data()),
        Err(SandboxError::NoPlugin { .. })
    ));
}

#[test]
fn infinite_loop_stops_on_fuel_within_budget() {
    let limits = Limits {
        fuel: 5_000_000,
        ..Limits::default()
    };
    let sb = host_with(
        limits,
        &plugin_wat("hostile", "", "(loop $l (br $l)) (unreachable)", ""),
    );
    let t = Instant::now();
    let err = sb.validate("hostile", "1.0.0", &data()).unwrap_err();
    assert_eq!(err, SandboxError::OutOfFuel { budget: 5_000_000 });
    // Fuel stopped it, long before the 2 s wall-clock backstop.
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    still_fine(&sb);
}

#[test]
fn infinite_loop_with_huge_fuel_stops_on_epoch_deadline() {
    let limits = Limits {
        fuel: u64::MAX / 2,
        deadline: Duration::from_millis(100),
        ..Limits::default()
    };
    let sb = host_with(
        limits,
        &plugin_wat("hostile", "", "(loop $l (br $l)) (unreachable)", ""),
    );
    let t = Instant::now();
    let err = sb.validate("hostile", "1.0.0", &data()).unwrap_err();
    assert_eq!(err, SandboxError::Deadline { millis: 100 });
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    still_fine(&sb);
}

#[test]
fn memory_growth_past_64_mib_is_refused() {
    // Grow one MiB at a time until memory.grow fails (the host makes that a trap).
    let sb = host_with(
        Limits::default(),
        &plugin_wat(
            "hostile",
            "",
            "(loop $l (br_if $l (i32.ne (memory.grow (i32.const 16)) (i32.const -1)))) (global.get $ok)",
            "",
        ),
    );
    let err = sb.validate("hostile", "1.0.0", &data()).unwrap_err();
    assert_eq!(
        err,
        SandboxError::MemoryLimit {
            limit: 64 * 1024 * 1024
        }
    );
    still_fine(&sb);
}

#[test]
fn initial_memory_above_cap_is_refused_at_load() {
    let sb = dev_sandbox(Limits::default());
    sb.load(&good("good"), None).unwrap();
    // 1025 pages = 64 MiB + 64 KiB declared up front.
    let text = r#"(module (memory (export "memory") 1025)
      (func (export "hallmark_alloc") (param i32) (result i32) (i32.const 0))
      (func (export "hallmark_describe") (result i64) (i64.const 0))
      (func (export "hallmark_validate") (param i32 i32) (result i64) (i64.const 0)))"#;
    let err = sb.load(&wat::parse_str(text).unwrap(), None).unwrap_err();
    assert!(matches!(err, SandboxError::MemoryLimit { .. }), "{err:?}");
    still_fine(&sb);
}

#[test]
fn deep_recursion_traps_and_host_is_fine() {
    let sb = host_with(
        Limits::default(),
        &plugin_wat(
            "hostile",
            "",
            "(drop (call $r (i32.const 0))) (global.get $ok)",
            "(func $r (param i32) (result i32) (call $r (i32.add (local.get 0) (i32.const 1))))",
        ),
    );
    match sb.validate("hostile", "1.0.0", &data()).unwrap_err() {
        SandboxError::Trap(msg) => assert!(msg.contains("stack"), "{msg}"),
        other => panic!("expected a stack-overflow trap, got {other:?}"),
    }
    still_fine(&sb);
}

#[test]
fn oversized_output_is_refused() {
    // Claims 16 MiB of output (more than the 1 MiB cap), after really growing memory for it.
    let sb = host_with(
        Limits::default(),
        &plugin_wat(
            "hostile",
            "",
            "(drop (memory.grow (i32.const 256))) (i64.const 16777216)",
            "",
        ),
    );
    let err = sb.validate("hostile", "1.0.0", &data()).unwrap_err();
    assert_eq!(
        err,
        SandboxError::OutputTooLarge {
            len: 16 * 1024 * 1024,
            limit: 1024 * 1024
        }
    );
    still_fine(&sb);
}

#[test]
fn output_that_is_not_findings_json_is_refused() {
    // Returns the describe document instead of findings.
    let sb = host_with(
        Limits::default(),
        &plugin_wat("hostile", "", "(call 1)", ""),
    );
    let err = sb.validate("hostile", "1.0.0", &data()).unwrap_err();
    assert!(matches!(err, SandboxError::BadOutput(_)), "{err:?}");
    still_fine(&sb);
}

#[test]
fn wasi_and_unknown_imports_are_rejected_at_load() {
    let sb = dev_sandbox(Limits::default());
    sb.load(&good("good"), None).unwrap();
    for (import, module, name) in [
        (
            r#"(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))"#,
            "wasi_snapshot_preview1",
            "fd_write",
        ),
        (
            r#"(import "hallmark" "sign" (func (param i32 i32) (result i64)))"#,
            "hallmark",
            "sign",
        ),
        (
            r#"(import "env" "clock" (func (result i64)))"#,
            "env",
            "clock",
        ),
        (
            r#"(import "hallmark" "keys" (global i64))"#,
            "hallmark",
            "keys",
        ),
    ] {
        let err = sb
            .load(&plugin_wat("hostile", import, "(global.get $ok)", ""), None)
            .unwrap_err();
        assert_eq!(
            err,
            SandboxError::ForbiddenImport {
                module: module.into(),
                name: name.into()
            }
        );
    }
    assert!(sb.plugin_for("hostile", "1.0.0").is_none());
    still_fine(&sb);
}

#[test]
fn the_host_log_import_is_allowed_and_capped() {
    let limits = Limits {
        log_bytes: 10,
        ..Limits::default()
    };
    let sb = host_with(
        limits,
        &plugin_wat(
            "hostile",
            r#"(import "hallmark" "log" (func $log (param i32 i32)))"#,
            "(call $log (i32.const 0) (i32.const 8)) (call $log (i32.const 0) (i32.const 100)) (call $log (i32.const -16) (i32.const 100)) (global.get $ok)",
            "",
        ),
    );
    let (findings, log) = sb.validate_logged("hostile", "1.0.0", &data()).unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(log, vec![r#"{"abi":1"#.to_owned(), r#"{""#.to_owned()]);
    still_fine(&sb);
}

#[test]
fn reading_outside_its_own_memory_traps() {
    // The plugin's addresses index only its own linear memory; the highest address a 32-bit
    // pointer can name is still inside the guard region, so this is an out-of-bounds trap.
    let sb = host_with(
        Limits::default(),
        &plugin_wat(
            "hostile",
            "",
            "(drop (i64.load (i32.const -8))) (global.get $ok)",
            "",
        ),
    );
    match sb.validate("hostile", "1.0.0", &data()).unwrap_err() {
        SandboxError::Trap(msg) => assert!(msg.contains("out of bounds"), "{msg}"),
        other => panic!("expected an out-of-bounds trap, got {other:?}"),
    }
    still_fine(&sb);
}

#[test]
fn output_pointer_outside_its_memory_is_refused() {
    // Asks the host to read 100 bytes at 0xFFFF_0000: the host reads only plugin memory.
    let sb = host_with(
        Limits::default(),
        &plugin_wat("hostile", "", "(i64.const 0xFFFF000000000064)", ""),
    );
    let err = sb.validate("hostile", "1.0.0", &data()).unwrap_err();
    assert!(matches!(err, SandboxError::Abi(_)), "{err:?}");
    still_fine(&sb);
}

#[test]
fn all_hostile_plugins_on_one_host() {
    let limits = Limits {
        fuel: 5_000_000,
        ..Limits::default()
    };
    let sb = dev_sandbox(limits);
    sb.load(&good("good"), None).unwrap();
    let bodies = [
        ("loop", "(loop $l (br $l)) (unreachable)", ""),
        (
            "grow",
            "(loop $l (br_if $l (i32.ne (memory.grow (i32.const 16)) (i32.const -1)))) (global.get $ok)",
            "",
        ),
        (
            "recurse",
            "(drop (call $r (i32.const 0))) (global.get $ok)",
            "(func $r (param i32) (result i32) (call $r (i32.add (local.get 0) (i32.const 1))))",
        ),
        ("oob", "(drop (i64.load (i32.const -8))) (global.get $ok)", ""),
        ("big", "(i64.const 16777216)", ""),
        ("trap", "(unreachable)", ""),
    ];
    for (name, body, extra) in bodies {
        sb.load(&plugin_wat(name, "", body, extra), None).unwrap();
    }
    for _round in 0..2 {
        for (name, _, _) in bodies {
            assert!(sb.validate(name, "1.0.0", &data()).is_err(), "{name}");
            still_fine(&sb);
        }
    }
}

#[test]
fn modules_are_compiled_once() {
    let sb = dev_sandbox(Limits::default());
    let wasm = good("good");
    sb.load(&wasm, None).unwrap();
    // Same module again: served from the cache, then refused as a duplicate sector.
    let err = sb.load(&wasm, None).unwrap_err();
    assert!(matches!(err, SandboxError::Conflict { .. }), "{err:?}");
}

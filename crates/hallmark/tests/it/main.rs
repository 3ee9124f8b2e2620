//! The CLI's integration tests, one binary (each binary links the whole dependency graph):
//! one module per suite, each running `hallmark` as a real process (`CARGO_BIN_EXE_hallmark`;
//! every child gets its environment explicitly, so the suites share no process state).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli_events;
mod cli_export;
mod cli_hsm;
mod cli_import;
mod cli_import_node;
mod cli_keys;
mod cli_labels;
mod cli_log;
mod cli_node;
mod cli_passport;
mod cli_present;
mod cli_production;
mod cli_reader;
mod cli_readers;
mod cli_registry;
mod cli_startup;
mod cli_verify;
mod cli_verify_did_key;

//! The core's integration tests, one binary (each binary links the whole dependency graph):
//! one module per suite; `common` (BatteryPass samples) is shared with the benchmarks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod aas;
mod data_model;
mod did_resolution;
mod identifiers;
mod jcs_oracle;
mod jcs_vectors;
mod passport_credentials;
mod passport_model;
mod presentations;
mod proof_sets;
mod sector_battery;
mod sector_generic;
mod status_lists;
mod vc_di_eddsa_vectors;
mod verify_credentials;
mod verify_fuzz;

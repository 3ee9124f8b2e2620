//! The sandbox's integration tests, one binary (each binary links the whole dependency
//! graph): one module per suite; `common` (WAT plugin builders) is shared with the benchmark
//! and the node's plugin-gate suite.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod battery;
mod hostile;
mod signing;

//! The store's integration tests, one binary (each binary links the whole dependency
//! graph): the conformance suite (`common::suite`) run on each backend, then each backend's
//! own tests and attack suite. Databases and roles come from the shared test kit
//! (`hallmark-testkit`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod postgres;
mod sqlite;

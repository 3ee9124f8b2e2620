//! The node's integration tests, one binary (each binary links the whole dependency graph):
//! one module per suite, on the shared test kit (`hallmark-testkit`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod aas_http;
mod access_flow_http;
mod app_role_attacks;
mod auth_http;
mod edge_http;
mod en18222_http;
mod events_http;
mod identifiers_http;
mod import_http;
mod input_http;
mod links_http;
mod log_http;
mod metrics_http;
mod node_http;
mod openapi_http;
mod page_browser;
mod page_http;
mod plugin_gate;
mod proxy_http;
mod qr_http;
mod readers_http;
mod registry_http;
mod resolver_http;
mod restricted_http;
mod seal;
mod status_http;
mod vc_api_http;
mod webhooks_http;

/// The sandbox's WAT plugin builders (the hostile-plugin suite's, reused as is by
/// `plugin_gate`).
#[path = "../../../hallmark-sandbox/tests/common/mod.rs"]
mod wasm;

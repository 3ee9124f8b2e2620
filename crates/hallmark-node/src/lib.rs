//! The Hallmark node service: the parts that turn the library crates into an HTTP service.
//!
//! Map:
//! - [`config`]: settings from `HALLMARK_*` variables and/or TOML, each declared once in
//!   one table; `validate` fails closed in production. [`profile`]: production or
//!   development.
//! - [`apikey`]: the `hmk_` API key format (prefix, scope letter, lookup id, secret, CRC-32
//!   checksum), hashing and constant-time verification.
//! - [`edge`]: the listeners' accept loop (connection caps, header-read and idle timeouts)
//!   and the tower layers between socket and handler — body and JSON structure limits,
//!   timeouts, rate limits, security headers, CORS; public and admin router assembly; the
//!   client address ([`edge::ClientAddr`]).
//! - [`auth`]: Bearer API keys and the admin Basic login, failed-auth throttling, the
//!   [`auth::Principal`] and scope checks.
//! - [`relay`]: delivers the outbox's events to NATS JetStream (issue 21), one node at a time.
//! - [`webhooks`]: delivers them to the operator's webhook subscriptions, signed (Standard
//!   Webhooks), with retries, a delivery log and automatic disabling; [`outbound`]: the
//!   outbound HTTP(S) client it (and the CLI) sends with; [`did_web`]: the verification
//!   service's did:web fetches through it (allow-list, public addresses only).
//! - [`audit`]: security events and the sink they go to; [`refusals`] aggregates those of
//!   refused requests into a bounded number of audit rows.
//! - [`cache`]: the public read path's caches (published credential bytes, DID document).
//! - [`page`]: the consumer page (`Accept: text/html` on a passport URL): languages,
//!   templates, its own CSP; [`evidence`]: the versions it shows as verified on the server,
//!   and the rendered pages, cached.
//! - [`qr`]: QR codes of GS1 Digital Link URIs for print (SVG in mm, 1-bit PNG with its
//!   resolution), pure; drawn by the public listener and by `hallmark labels`.
//! - [`plugins`]: the sector-plugin gate in the publish path (`hallmark-sandbox`).
//! - [`service`]: the use-cases (drafts, publish, lifecycle, keys, API keys) as methods on
//!   [`service::Service`], with one error, [`service::ServiceError`]; every door (the admin
//!   API today) calls them.
//! - [`problem`]: RFC 9457 problem+json errors ([`problem::ApiError`]), `From` the service's
//!   and the store's errors.
//! - [`api`]: the admin API's request and response types and their JSON Schemas;
//!   [`openapi`]: the OpenAPI 3.1 documents of both listeners.
//! - [`transparency`]: the transparency log — in-memory tree, checkpoint signer, log key.
//! - [`started`]: the `node.started` audit event (configuration without secrets).
//! - [`metrics`]: the Prometheus registry (`GET /metrics` on the admin listener), fed by
//!   the HTTP layer `edge::observe`, the publish path, the plugin gate and the signers.

pub mod api;
pub mod apikey;
pub mod app;
pub mod audit;
pub mod auth;
pub mod backing;
pub mod cache;
pub mod changes;
pub mod config;
pub mod did_web;
pub mod edge;
pub mod evidence;
pub mod imports;
pub mod integrity;
pub mod metrics;
pub mod node;
pub mod openapi;
pub mod outbound;
pub mod page;
pub mod plugins;
pub mod positions;
pub mod problem;
pub mod profile;
pub mod qr;
pub mod refusals;
pub mod relay;
pub mod routes;
pub mod seal;
pub mod service;
pub mod started;
pub mod transparency;
pub mod webhooks;

pub use apikey::{ApiKey, KeyHash, MalformedKey, ParsedKey, Scope};
pub use audit::{AuditSink, SecurityEvent};
pub use auth::{AuthState, KeyLookup, Principal, StoredKey};
pub use config::{Config, ConfigError, ValidatedConfig};
pub use edge::{admin_router, public_router, EdgeConfig};
pub use problem::{ApiError, Problem};
pub use profile::Profile;

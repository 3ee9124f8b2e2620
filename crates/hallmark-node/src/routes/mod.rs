//! HTTP handlers: `public` (no credential), `log` (the public transparency-log endpoints)
//! and `admin` (`/api/v1`, scoped API keys).

pub mod admin;
pub mod log;
pub mod public;

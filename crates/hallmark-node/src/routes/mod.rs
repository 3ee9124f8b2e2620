//! HTTP handlers: `public` (no credential) and `admin` (`/api/v1`, scoped API keys).

pub mod admin;
pub mod public;

//! HTTP handlers: `public` (no credential), `page` (the consumer page on the public
//! listener), `log` (the public transparency-log endpoints), `qr` (public QR codes of
//! passports, the admin labels listing), `resolver` (the public GS1 Digital Link resolver),
//! `status` (the public status lists), `vc` (the verification service: the VC API's
//! verify routes and the verification page), `admin` (`/api/v1`, scoped API keys) and `ops` (the
//! operator's probes: `/ready` on the public listener, `/metrics` on the admin one).
//!
//! The routers serve their `/openapi.json` as a [`Document`] they are given: the documents
//! are built once at start-up (`crate::openapi`, from these modules' route tables; the
//! dependency points one way, from the documents to the routes).

pub mod admin;
pub mod dpp;
pub mod log;
pub mod negotiate;
pub mod ops;
pub mod page;
pub mod public;
pub mod qr;
pub mod resolver;
pub mod restricted;
pub mod status;
pub mod vc;

use axum::body::Bytes;
use axum::http::header::{HeaderValue, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

/// A JSON document built once and served as is, `application/json` (a listener's OpenAPI
/// document). Cloning shares the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document(Bytes);

impl Document {
    /// The document of these JSON bytes (written by the caller, served unchanged).
    pub fn from_json_bytes(bytes: impl Into<Bytes>) -> Self {
        Document(bytes.into())
    }

    /// The served bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.0
    }
}

impl IntoResponse for Document {
    fn into_response(self) -> Response {
        (
            [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            self.0,
        )
            .into_response()
    }
}

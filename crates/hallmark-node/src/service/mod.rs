//! The node's use-cases, as plain async methods on the application: [`Service`].
//!
//! Every way into the node is a door onto these rooms. Today's door is the admin HTTP API
//! (`crate::routes::admin`: parse the request, call one method, answer the result or the
//! error as problem+json). The doors to come — the EN 18222 DPP API, bulk import and the
//! CLI control plane, the GS1 Digital Link resolver, peer nodes — call the same methods, so
//! each precondition, domain change, validation, signature and audit event is decided once,
//! here or in `hallmark-core`, and never again in a handler.
//!
//! Each method takes the acting [`Principal`] (recorded as the audit event's actor; scopes
//! are checked by the door before the call) and typed inputs, and answers a typed result or
//! one error, [`ServiceError`]. By concern:
//!
//! - [`passports`]: drafts — create, edit, start a version, the dry run (`validate`) —, and
//!   reads (one passport, a page, its history); the sector schema and plugin checks.
//! - [`publish`]: publication, the one path from a draft to signed, stored credentials.
//! - [`import`]: a batch of submissions with the operator's external references, each
//!   created, updated, published or left unchanged through the same stages (bulk import).
//! - [`lifecycle`]: status changes (suspend, resume, archive, deactivate).
//! - [`public`]: a published passport as the public sees it, verified on the server (the
//!   consumer page's read).
//! - [`aas`]: a published passport as one audience's AAS V3.0 Environment (public: from
//!   the verified public credential; restricted audiences: from the stored version).
//! - [`keys`]: signing keys (list, rotate, revoke) and the choice of the passport signer.
//! - [`api_keys`]: API keys (list, create, revoke).
//! - [`labels`]: a published passport's label — its GS1 Digital Link URI under the public
//!   base URL and its element string — for QR codes.
//! - [`resolver`]: the passports that answer for a GS1 Digital Link (walk-up, public read).
//! - [`links`]: the operator's own links per product identifier (add, list, remove; the
//!   active ones of a request's levels for the resolver's linkset).
//! - [`status_lists`]: status list positions (drawn at first publication), the list
//!   versions a status change signs, the lists' first versions and their re-signing before
//!   they expire, and the lists as served.
//! - [`registry`]: EU DPP registry submissions: the export of versions not yet registered
//!   (files of ≤ 100 entries) and the recording of the registry's answers, all checked first.
//! - [`readers`]: readers admitted by the operator's approval (register — the public
//!   listener's anonymous door —, list, approve with a grant, suspend, resume, revoke).
//! - [`restricted`]: signed restricted reads — the reader of a signed request (signature,
//!   status, grant, nonce) and the credential of its grant's tier, each read audited.
//! - [`verification`]: the verification service — any credential verified on the server,
//!   its DIDs resolved first (did:key, the node's own DID, did:web from allowed hosts
//!   only) —, and the VC API issuance of passports through the publish path.
//! - [`events`]: the audit events these use-cases append (one place for their actions and
//!   details).
//!
//! The store is called once per write, with its audit event, in the same transaction.

pub mod aas;
pub mod api_keys;
pub mod dpp;
pub mod dpp_write;
mod error;
pub mod events;
pub mod import;
pub mod keys;
pub mod labels;
pub mod lifecycle;
pub mod links;
pub mod passports;
pub mod public;
pub mod publish;
pub mod readers;
pub mod registry;
pub mod resolver;
pub mod restricted;
pub mod status_lists;
pub mod verification;
pub mod webhooks;

pub use error::ServiceError;
pub use import::{
    BatchOutcome, ImportBatch, ImportDone, ImportFinished, ImportItem, ItemDone, ItemOutcome,
    ItemResult,
};
pub use labels::{Label, LabelQuery};
pub use links::{LinkInput, LinkQuery};
pub use passports::{
    DraftCreated, DraftSaved, PassportQuery, PassportView, PluginCheck, Validation,
};
pub use public::PublicPassport;
pub use publish::Publication;
pub use resolver::ResolvedLevel;
pub use status_lists::ListedStatus;

use crate::app::App;
use crate::auth::Principal;
use time::OffsetDateTime;

/// The application's use-cases (see the [module docs](self)); a cheap borrow of the
/// [`App`]: `app.service().publish(&who, id)`.
#[derive(Clone, Copy)]
pub struct Service<'a> {
    app: &'a App,
}

impl App {
    /// The use-cases over this application state.
    pub fn service(&self) -> Service<'_> {
        Service { app: self }
    }
}

impl<'a> Service<'a> {
    /// The application state.
    pub fn app(&self) -> &'a App {
        self.app
    }
}

/// The time of a use-case (the node's clock; core takes it as an argument).
pub(crate) fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// The actor recorded in audit events: `api-key:<id>` or `admin:<user name>`.
pub fn actor(who: &Principal) -> String {
    match who {
        Principal::ApiKey { key_id, .. } => format!("api-key:{key_id}"),
        Principal::Admin { username } => format!("admin:{username}"),
    }
}

/// A reason given for a status change or a revocation: trimmed, empty counted as none, at
/// most 1000 characters. Made by [`Reason::required`] or [`Reason::optional`], so every door
/// applies the same rule (and before anything else is looked up).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reason(Option<String>);

impl Reason {
    /// A reason that must be given (suspend, deactivate, revoke a signing key).
    pub fn required(r: Option<String>) -> Result<Reason, ServiceError> {
        match Reason::optional(r)? {
            Reason(None) => Err(ServiceError::Unprocessable(
                "a non-empty `reason` is required".into(),
            )),
            given => Ok(given),
        }
    }

    /// A reason that may be given (archive).
    pub fn optional(r: Option<String>) -> Result<Reason, ServiceError> {
        match r.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()) {
            Some(s) if s.chars().count() > 1000 => Err(ServiceError::Unprocessable(
                "`reason` is limited to 1000 characters".into(),
            )),
            r => Ok(Reason(r)),
        }
    }

    /// The reason, if one was given.
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }

    /// The reason, if one was given.
    pub fn into_inner(self) -> Option<String> {
        self.0
    }
}

#[cfg(test)]
mod tests;

//! Hallmark's pure core: everything a verifier needs and nothing that touches the world.
//!
//! No I/O, no async, no clock, no randomness: callers pass in time and ids. Every
//! function is deterministic, so the same inputs give the same signed bytes.
//!
//! Map:
//! - [`jcs`]: RFC 8785 canonical JSON.
//! - [`input`]: strict JSON input (no duplicate names, numbers signed as written, no U+0000).
//! - [`passport`]: the passport model (EN 18223 fields), GTIN and GS1 Digital Link.
//! - [`sector`]: the versioned sector registry and JSON Schema validation.
//! - [`access`]: legal access tiers and audience views.
//! - [`keys`]: public-key encodings (Multikey) and stable key ids.
//! - [`credential`]: W3C VC 2.0 issuance, secured as eddsa-jcs-2022 and as `vc+jwt`.
//! - [`did`]: did:web identifiers and DID documents.
//! - [`did_key`]: did:key (Ed25519, Multikey) identifiers and the documents they resolve to.
//! - [`did_resolver`]: the DID resolution port of the verifier (did:key in core, any other
//!   DID from a document the caller supplies).
//! - [`dpp`]: the EN 18222 DPP API's pure rules: the compressed and full documents, JSON
//!   Merge Patch (RFC 7396), element paths (RFC 9535 Normalized Paths).
//! - [`events`]: CloudEvents 1.0 of the outbox: which audit actions outsiders hear about, and
//!   the event each one is.
//! - [`webhook`]: Standard Webhooks signatures and the retry schedule of webhook deliveries.
//! - [`integrity`]: tags (HMAC under custody-derived subkeys) that authenticate database rows.
//! - [`issue`]: passport → per-audience signed credentials.
//! - [`vc_model`]: the VC Data Model 2.0 rules checked before signing and when verifying.
//! - [`verify`]: offline verification with a per-check report.
//! - [`presentation`]: verifiable presentations: a holder's eddsa-jcs-2022 proof (challenge,
//!   domain) over embedded and enveloped (`vc+jwt`) credentials, and their verification.
//! - [`status`]: W3C Bitstring Status List: status entries, signed status lists, their bits.
//! - [`registry`]: EU DPP registry submissions: the export file (≤ 100 passport versions) and
//!   the registry's answers, with their JSON Schemas.
//! - [`resolver`]: GS1 Digital Link resolution: request paths, walk-up levels, linksets, link choice.
//! - [`tlog`]: transparency log: RFC 6962 Merkle proofs, signed C2SP checkpoints, append-only guard.
//! - [`aas`]: AAS export: a battery passport's audience view as an AAS V3.0 Environment with
//!   the IDTA 02035 submodels.
//! - [`display`]: the public tier in human terms (facts, units, locale number formats) for
//!   consumer pages.

pub mod aas;
pub mod access;
pub mod credential;
pub mod did;
pub mod did_key;
pub mod did_resolver;
pub mod display;
pub mod dpp;
pub mod events;
pub mod httpsig;
pub mod input;
pub mod integrity;
pub mod issue;
pub mod jcs;
pub mod jwk;
pub mod keys;
pub mod passport;
pub mod presentation;
pub mod reader;
pub mod registry;
pub mod resolver;
pub mod sector;
pub mod status;
pub mod tlog;
pub mod vc_model;
pub mod verify;
pub mod webhook;

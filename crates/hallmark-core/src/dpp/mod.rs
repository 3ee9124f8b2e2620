//! EN 18222 ("DPP — Application programming interfaces") on Hallmark's passport model, the
//! pure part (issue 19): the compressed `DigitalProductPassport` ([`compressed`]: header
//! members plus one member per content section, both ways) and its `representation=full`
//! expansion into `DataElement`s ([`full`]); JSON Merge Patch ([`merge`], RFC 7396) for
//! `PATCH /v1/dpps/{dppId}`; element paths ([`path`], RFC 9535 Normalized Paths) for
//! `GET|PATCH /v1/dpps/{dppId}/elements/{elementIdPath}`. No I/O, no clock: the caller passes
//! the passport (or the view of it an audience may see).

pub mod compressed;
pub mod full;
pub mod merge;
pub mod path;

//! EN 18222 Digital Product Passport API, the pure part (issue 19): JSON Merge Patch
//! ([`merge`], RFC 7396) for `PATCH /v1/dpps/{dppId}`, and element paths ([`path`], RFC 9535
//! Normalized Paths) for `GET|PATCH /v1/dpps/{dppId}/elements/{elementIdPath}`.

pub mod merge;
pub mod path;

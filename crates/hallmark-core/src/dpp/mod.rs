//! EN 18222 Digital Product Passport API, the pure part (issue 19): JSON Merge Patch
//! ([`merge`], RFC 7396) for `PATCH /v1/dpps/{dppId}`.

pub mod merge;

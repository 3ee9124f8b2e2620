//! Versioned sector registry: JSON Schemas embedded at build time, validation, field tiers.
//! (Filled in by the sector work.)

//! did (in progress)

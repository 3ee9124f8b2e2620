//! credential (in progress)

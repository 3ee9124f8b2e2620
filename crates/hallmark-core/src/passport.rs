//! The passport model. (Filled in by the passport-model work.)

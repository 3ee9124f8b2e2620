//! [`Granularity`]: model, batch or item (ESPR Art. 9(2)(d), EN 18219 granularity levels).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::{echo, PassportError};

/// The level a passport is issued at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Granularity {
    /// One passport per product model: identifier has neither lot nor serial.
    Model,
    /// One passport per production batch: identifier has a lot and no serial.
    Batch,
    /// One passport per individual item: identifier has a serial (a lot is optional).
    Item,
}

impl Granularity {
    /// All values, coarsest first.
    pub const ALL: [Granularity; 3] = [Granularity::Model, Granularity::Batch, Granularity::Item];

    /// The wire name. (`check`, which compares a granularity with a product identifier,
    /// lives beside [`ProductIdentifier`](super::product::ProductIdentifier).)
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Model => "model",
            Granularity::Batch => "batch",
            Granularity::Item => "item",
        }
    }
}

impl fmt::Display for Granularity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Granularity {
    type Err = PassportError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| PassportError::InvalidEnumValue {
                path: "granularity".to_owned(),
                value: echo(s),
                expected: "`model`, `batch`, `item`",
            })
    }
}

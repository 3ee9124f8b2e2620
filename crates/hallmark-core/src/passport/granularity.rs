//! [`Granularity`]: model, batch or item (ESPR Art. 9(2)(d), EN 18219 granularity levels).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::{echo, PassportError};
use super::product::ProductIdentifier;

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

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Model => "model",
            Granularity::Batch => "batch",
            Granularity::Item => "item",
        }
    }

    /// Checks that `product` carries exactly the qualifiers this granularity requires.
    pub fn check(self, product: &ProductIdentifier) -> Result<(), PassportError> {
        let has_lot = product.lot().is_some();
        let has_serial = product.serial().is_some();
        let reason = match self {
            Granularity::Model if has_lot => Some("a model-level identifier must not have a lot"),
            Granularity::Model if has_serial => {
                Some("a model-level identifier must not have a serial")
            }
            Granularity::Batch if !has_lot => Some("a batch-level identifier requires a lot"),
            Granularity::Batch if has_serial => {
                Some("a batch-level identifier must not have a serial")
            }
            Granularity::Item if !has_serial => Some("an item-level identifier requires a serial"),
            _ => None,
        };
        match reason {
            Some(reason) => Err(PassportError::GranularityMismatch {
                granularity: self.as_str(),
                reason,
            }),
            None => Ok(()),
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

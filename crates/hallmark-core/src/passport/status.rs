//! [`PassportStatus`] and its lifecycle.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::{echo, PassportError};

/// Lifecycle state of a passport (aligned with the EN 18223 / EN 18222 DPP status).
///
/// ```text
/// draft ──▶ published ◀──▶ suspended
///              │   │          │   │
///              ▼   ▼          ▼   ▼
///         archived  deactivated (terminal)
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PassportStatus {
    /// Being prepared; not yet visible to anyone but the economic operator.
    Draft,
    /// Live and resolvable.
    Published,
    /// Temporarily withdrawn (e.g. under investigation); may be published again.
    Suspended,
    /// Product no longer placed on the market; kept for the legal retention period.
    Archived,
    /// Withdrawn for good (e.g. issued in error, product destroyed or recycled).
    Deactivated,
}

impl PassportStatus {
    /// All values, in lifecycle order.
    pub const ALL: [PassportStatus; 5] = [
        PassportStatus::Draft,
        PassportStatus::Published,
        PassportStatus::Suspended,
        PassportStatus::Archived,
        PassportStatus::Deactivated,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            PassportStatus::Draft => "draft",
            PassportStatus::Published => "published",
            PassportStatus::Suspended => "suspended",
            PassportStatus::Archived => "archived",
            PassportStatus::Deactivated => "deactivated",
        }
    }

    /// Whether the lifecycle allows going from `self` to `next`. Staying in the same
    /// state is not a transition and returns `false`.
    pub fn can_transition_to(self, next: PassportStatus) -> bool {
        use PassportStatus::{Archived, Deactivated, Draft, Published, Suspended};
        matches!(
            (self, next),
            (Draft, Published)
                | (Published, Suspended)
                | (Suspended, Published)
                | (Published, Archived)
                | (Published, Deactivated)
                | (Suspended, Archived)
                | (Suspended, Deactivated)
        )
    }

    /// Whether a passport in this status may publish a new content version now: a suspended
    /// passport is resumed first. (A terminal one is refused by the lifecycle itself.)
    pub fn check_publishable(self) -> Result<(), PublishRefused> {
        match self {
            PassportStatus::Suspended => Err(PublishRefused::Suspended),
            _ => Ok(()),
        }
    }

    /// `archived` and `deactivated` are final.
    pub fn is_terminal(self) -> bool {
        matches!(self, PassportStatus::Archived | PassportStatus::Deactivated)
    }
}

/// Why a passport cannot publish a new version in its current status
/// ([`PassportStatus::check_publishable`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PublishRefused {
    /// Suspended: resume it first.
    #[error("the passport is suspended; resume it before publishing a new version")]
    Suspended,
}

impl fmt::Display for PassportStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PassportStatus {
    type Err = PassportError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| PassportError::InvalidEnumValue {
                path: "status".to_owned(),
                value: echo(s),
                expected: "`draft`, `published`, `suspended`, `archived`, `deactivated`",
            })
    }
}

//! Legal access tiers (Battery Regulation Art. 77 / Annex XIII) and audience views.
//!
//! A field's [`Tier`] says who may see it; an [`Audience`] is who is asking. Fields with no
//! known tier are treated as [`Tier::Authority`]: restricted, never public (fail closed).

use serde::{Deserialize, Serialize};

/// Who may see a field, from most to least open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Tier {
    /// Anyone (Annex XIII(1)).
    Public,
    /// Persons with a legitimate interest, and the Commission (Annex XIII(2)).
    LegitimateInterest,
    /// Notified bodies, market surveillance authorities and the Commission (Annex XIII(3)).
    Authority,
}

/// Who is reading a passport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Audience {
    /// Anyone scanning the QR code.
    Public,
    /// A person with a legitimate interest (repairer, recycler, second-life operator, ...).
    LegitimateInterest,
    /// A notified body, market surveillance authority or the Commission: sees everything.
    Authority,
}

impl Audience {
    /// Whether this audience may see a field of the given tier.
    pub fn may_see(self, tier: Tier) -> bool {
        match self {
            Audience::Public => tier == Tier::Public,
            Audience::LegitimateInterest => tier <= Tier::LegitimateInterest,
            Audience::Authority => true,
        }
    }

    /// Every audience, most open first.
    pub const ALL: [Audience; 3] = [
        Audience::Public,
        Audience::LegitimateInterest,
        Audience::Authority,
    ];
}

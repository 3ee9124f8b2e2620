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

/// One value per [`Audience`]: a version's credentials, their hashes, their served forms.
///
/// A named field per audience instead of a positional list, so nothing depends on the order
/// values were produced in. Serialised as an object with the audiences' wire names
/// (`public`, `legitimateInterest`, `authority`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PerAudience<T> {
    /// What anyone may see.
    pub public: T,
    /// For persons with a legitimate interest.
    pub legitimate_interest: T,
    /// For notified bodies, market surveillance authorities and the Commission.
    pub authority: T,
}

impl<T> PerAudience<T> {
    /// One value per audience from `f`, called in [`Audience::ALL`] order.
    pub fn from_fn(mut f: impl FnMut(Audience) -> T) -> Self {
        PerAudience {
            public: f(Audience::Public),
            legitimate_interest: f(Audience::LegitimateInterest),
            authority: f(Audience::Authority),
        }
    }

    /// [`from_fn`](Self::from_fn) for a fallible `f`: the first error, in
    /// [`Audience::ALL`] order, stops it.
    pub fn try_from_fn<E>(mut f: impl FnMut(Audience) -> Result<T, E>) -> Result<Self, E> {
        Ok(PerAudience {
            public: f(Audience::Public)?,
            legitimate_interest: f(Audience::LegitimateInterest)?,
            authority: f(Audience::Authority)?,
        })
    }

    /// The value of `audience`.
    pub fn get(&self, audience: Audience) -> &T {
        match audience {
            Audience::Public => &self.public,
            Audience::LegitimateInterest => &self.legitimate_interest,
            Audience::Authority => &self.authority,
        }
    }

    /// Each value through `f`.
    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> PerAudience<U> {
        PerAudience {
            public: f(self.public),
            legitimate_interest: f(self.legitimate_interest),
            authority: f(self.authority),
        }
    }

    /// References to the values.
    pub fn as_ref(&self) -> PerAudience<&T> {
        PerAudience {
            public: &self.public,
            legitimate_interest: &self.legitimate_interest,
            authority: &self.authority,
        }
    }

    /// `(audience, value)` pairs in [`Audience::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Audience, &T)> {
        Audience::ALL.into_iter().map(move |a| (a, self.get(a)))
    }
}

impl<T> IntoIterator for PerAudience<T> {
    type Item = (Audience, T);
    type IntoIter = std::array::IntoIter<(Audience, T), 3>;

    /// `(audience, value)` pairs in [`Audience::ALL`] order.
    fn into_iter(self) -> Self::IntoIter {
        [
            (Audience::Public, self.public),
            (Audience::LegitimateInterest, self.legitimate_interest),
            (Audience::Authority, self.authority),
        ]
        .into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_audience_is_keyed_by_audience_not_position() {
        let names = PerAudience::from_fn(|a| format!("{a:?}"));
        assert_eq!(names.get(Audience::Authority), "Authority");
        assert_eq!(names.legitimate_interest, "LegitimateInterest");
        let order: Vec<Audience> = names.iter().map(|(a, _)| a).collect();
        assert_eq!(order, Audience::ALL);
        let lens = names.clone().map(|s| s.len());
        assert_eq!(lens.public, 6);
        for (a, s) in names {
            assert_eq!(s, format!("{a:?}"));
        }
        let v = serde_json::to_value(PerAudience::from_fn(|a| a as u8)).unwrap_or_default();
        assert_eq!(
            v,
            serde_json::json!({"public": 0, "legitimateInterest": 1, "authority": 2})
        );
        let failed: Result<PerAudience<u8>, Audience> =
            PerAudience::try_from_fn(|a| if a == Audience::Public { Ok(0) } else { Err(a) });
        assert_eq!(failed, Err(Audience::LegitimateInterest));
    }
}

//! The safety profile a node runs under. A leaf: the configuration chooses it, the plugin
//! gate, start-up and the `node.started` event read it.

use std::str::FromStr;

/// Which safety rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Real deployments (`hallmark serve`): every required setting explicit, no demo default.
    Production,
    /// `hallmark demo`: loopback, SQLite in `./hallmark-demo`, marked demo credentials.
    Development,
}

impl Profile {
    /// Stable name (`production`, `development`), as `--profile` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Production => "production",
            Profile::Development => "development",
        }
    }
}

/// A profile name that is neither `production` nor `development`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("profile: expected production or development")]
pub struct UnknownProfile;

impl FromStr for Profile {
    type Err = UnknownProfile;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "production" => Ok(Profile::Production),
            "development" => Ok(Profile::Development),
            _ => Err(UnknownProfile),
        }
    }
}

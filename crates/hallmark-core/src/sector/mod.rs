//! Versioned sector registry: JSON Schemas embedded at build time, validation, field tiers and
//! audience views.
//!
//! # Registry
//!
//! A [`Sector`] is the data model of one product group at one version. The built-in
//! [`SectorRegistry::builtin`] holds:
//!
//! | id | version | data |
//! |---|---|---|
//! | `battery` | `1.2.0` | BatteryPass data model 1.2.0 (DIN DKE SPEC 99100), seven submodels |
//! | `generic` | `1.0.0` | free-form, bounded, tiered by top-level key |
//!
//! [`SectorRegistry::get`] looks up an exact `(id, version)`, [`SectorRegistry::latest`] the
//! highest version of an id (numeric `major.minor.patch` order). Unknown ones are a typed
//! [`SectorError`]. Everything is embedded (`include_str!`) and compiled once on first use
//! (`LazyLock`); nothing is read from disk at run time.
//!
//! # Battery: composition of submodels
//!
//! Battery data is one JSON object with exactly these keys, one per BatteryPass submodel:
//! `generalProductInformation`, `carbonFootprintForBatteries`, `supplyChainDueDiligence`,
//! `materialComposition`, `circularity`, `performanceAndDurability`, `labeling`.
//! **All seven are required** (a battery that needs a passport needs every part of it); an
//! unknown top-level key is an error. Each submodel is validated by its own draft-04 schema
//! (formats checked), and issue pointers are prefixed with `/<key>`, so every
//! [`ValidationIssue::pointer`] points into the composite. Inside a submodel the upstream schemas
//! allow extra properties; validation accepts them, but they carry no tier (see below).
//!
//! # Generic
//!
//! Data is an object with optional keys `public`, `legitimateInterest` and `authority`, each a
//! free-form JSON object; **the top-level key is the tier of everything under it**. Any other
//! top-level key is an error. Bounds: nesting depth ≤ 16 (the data object is level 1), ≤ 256
//! keys per object, ≤ 1024 elements per array, ≤ 4096 characters per string (values and keys),
//! ≤ 256 KiB of compact JSON in total. Depth and size are checked first; if exceeded, only those
//! issues are reported. The shape and per-value bounds live in
//! `sectors/generic/1.0.0/schema.json` (JSON Schema 2020-12).
//!
//! # Validation issues
//!
//! [`Sector::validate`] returns every problem as a [`ValidationIssue`] (RFC 6901 pointer +
//! message), sorted by pointer then message (plain string order) and deduplicated, so the
//! same data always gives the same list. Offending values are quoted as compact JSON, cut at
//! 80 characters with `…`.
//!
//! # Field access tiers (battery)
//!
//! Every battery field carries its legal tier from `attributes-access-v1.2.csv` (93 attributes
//! of Battery Regulation Annex XIII). The CSV `access` column maps as:
//!
//! | CSV access | Tier |
//! |---|---|
//! | `Public` | [`Tier::Public`] |
//! | `persons with a legitimate interest` | [`Tier::LegitimateInterest`] |
//! | `persons with a legitimate interest and the Commission` | [`Tier::LegitimateInterest`] (the Commission is an authority; authorities see all tiers) |
//! | `Notified bodies, market surveillance authorities and the Commission` | [`Tier::Authority`] |
//! | anything else | [`Tier::Authority`] |
//!
//! [`battery::FIELD_ATTRIBUTES`] maps locations in the composite (JSON pointers, `*` = any
//! array index) to CSV attribute numbers, one line each. A location mapped to several
//! attributes takes the most restrictive of their tiers. A field's tier is that of the most
//! specific mapped location on its path: children inherit from their nearest mapped ancestor
//! unless mapped themselves. Attributes with no field in data model 1.2.0 are listed in
//! [`battery::ATTRIBUTES_WITHOUT_FIELD`]. Tests check that every CSV attribute is mapped or
//! listed there, and that every leaf of the seven schemas gets its tier from an explicit
//! mapping.
//!
//! # Fail closed
//!
//! Tiers follow the schema's shape. A location the schema does not describe (an extra
//! property, an unknown submodel, a key where the schema has an array) is [`Tier::Authority`],
//! even below a public parent; so is a schema location with no mapping on its path. Inside a
//! free-form object the schema does describe (e.g. `labelingMeaning`), everything inherits the
//! object's tier. For `generic`, anything outside the three tier objects is Authority.
//!
//! # Columns
//!
//! [`Sector::columns`] lists one [`ColumnSpec`] per leaf of a passport of the sector (the
//! envelope, then the data leaves with their schema type, format, enum, requiredness and
//! tier): the columns of import templates (see [`columns`]).
//!
//! # Views
//!
//! [`Sector::view`] is a pure function returning a copy of the data with everything the
//! audience may not see removed:
//!
//! - a scalar is kept when [`Audience::may_see`] its tier;
//! - objects and arrays are filtered child by child (arrays element-wise, so an array of
//!   objects keeps each element's visible fields; elements left empty are removed);
//! - an object or array left empty by filtering is dropped; one that was already empty is kept
//!   when the audience may see its location's tier;
//! - the root is always returned (`{}` when nothing is visible).
//!
//! So the authority view equals the input, views never add anything, and
//! `view(view(x, a), a) == view(x, a)`.

pub mod battery;
pub mod columns;
pub mod generic;
mod issue;
mod tree;

use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};

pub use columns::{ColumnKind, ColumnSpec};
pub use issue::{ValidationIssue, MAX_QUOTED_VALUE_CHARS};

use crate::access::{Audience, Tier};

/// Why a sector lookup failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SectorError {
    /// No sector with this id and version is registered.
    #[error("unknown sector {id:?} version {version:?}")]
    UnknownSector {
        /// The requested sector id.
        id: String,
        /// The requested version.
        version: String,
    },
    /// No version of a sector with this id is registered.
    #[error("unknown sector {id:?}")]
    UnknownSectorId {
        /// The requested sector id.
        id: String,
    },
}

/// How a sector holds the envelope's operator and facility identifiers to ISO/IEC 15459
/// (EN 18219); applied by [`crate::issue::validate_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentifierPolicy {
    /// The operator must be an ISO/IEC 15459 identifier and a facility is required and must
    /// be one too (errors); a missing `commodityCode` is a warning. Battery passports.
    Required,
    /// Not ISO/IEC 15459 (or malformed) identifiers are warnings. The generic sector.
    Advisory,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Battery,
    Generic,
}

/// One sector data model at one version.
#[derive(Debug)]
pub struct Sector {
    id: &'static str,
    version: &'static str,
    title: &'static str,
    kind: Kind,
    /// Schema validations run ([`Sector::validate`] calls), for [`SectorRegistry::validations`].
    validations: AtomicU64,
}

impl Sector {
    /// The sector id, e.g. `battery`.
    pub fn id(&self) -> &str {
        self.id
    }

    /// The data model version, e.g. `1.2.0`.
    pub fn version(&self) -> &str {
        self.version
    }

    /// A one-line human description.
    pub fn title(&self) -> &str {
        self.title
    }

    /// How this sector holds operator and facility identifiers to ISO/IEC 15459.
    pub fn identifier_policy(&self) -> IdentifierPolicy {
        match self.kind {
            Kind::Battery => IdentifierPolicy::Required,
            Kind::Generic => IdentifierPolicy::Advisory,
        }
    }

    /// Check sector data; `Err` lists every issue, sorted by pointer then message, deduplicated.
    pub fn validate(&self, data: &Value) -> Result<(), Vec<ValidationIssue>> {
        self.validations.fetch_add(1, Ordering::Relaxed);
        match self.kind {
            Kind::Battery => battery::validate(data),
            Kind::Generic => generic::validate(data),
        }
    }

    /// The access tier of the field at an RFC 6901 pointer into sector data. Locations outside
    /// the sector's known shape, with no mapping, or with an invalid pointer are
    /// [`Tier::Authority`] (fail closed).
    pub fn tier_of(&self, pointer: &str) -> Tier {
        tree::locate(self.tier_root(), pointer).tier()
    }

    /// A copy of `data` without anything `audience` may not see (see the module docs).
    pub fn view(&self, data: &Value, audience: Audience) -> Value {
        tree::view(self.tier_root(), data, audience)
    }

    fn tier_root(&self) -> &'static tree::TierNode {
        match self.kind {
            Kind::Battery => battery::tier_root(),
            Kind::Generic => generic::tier_root(),
        }
    }
}

/// The set of known sectors, ordered by id then version.
#[derive(Debug)]
pub struct SectorRegistry {
    sectors: Vec<Sector>,
}

static BUILTIN: std::sync::LazyLock<SectorRegistry> =
    std::sync::LazyLock::new(SectorRegistry::with_builtin_sectors);

/// Numeric `major.minor.patch` ordering; non-numeric parts sort first.
fn version_key(version: &str) -> Vec<u64> {
    version
        .split('.')
        .map(|part| part.parse().unwrap_or(0))
        .collect()
}

impl SectorRegistry {
    /// The sectors built into this crate (one registry shared by the process).
    pub fn builtin() -> &'static SectorRegistry {
        &BUILTIN
    }

    /// A registry of its own with the sectors built into this crate (the same sectors as
    /// [`builtin`](Self::builtin), with their own [`validations`](Self::validations) count;
    /// the compiled schemas are shared).
    pub fn with_builtin_sectors() -> SectorRegistry {
        let sector = |id, version, title, kind| Sector {
            id,
            version,
            title,
            kind,
            validations: AtomicU64::new(0),
        };
        let mut sectors = vec![
            sector(
                "battery",
                "1.2.0",
                "Batteries: BatteryPass data model 1.2.0 (DIN DKE SPEC 99100)",
                Kind::Battery,
            ),
            sector(
                "generic",
                "1.0.0",
                "Product groups without a delegated act: free-form, tiered by top-level key",
                Kind::Generic,
            ),
        ];
        sectors.sort_by(|a, b| (a.id, version_key(a.version)).cmp(&(b.id, version_key(b.version))));
        SectorRegistry { sectors }
    }

    /// How many schema validations ([`Sector::validate`]) the sectors of this registry have
    /// run: a metric, and how tests hold a publish to exactly one validation.
    pub fn validations(&self) -> u64 {
        self.sectors
            .iter()
            .map(|s| s.validations.load(Ordering::Relaxed))
            .sum()
    }

    /// The sector with exactly this id and version.
    pub fn get(&self, id: &str, version: &str) -> Result<&Sector, SectorError> {
        self.sectors
            .iter()
            .find(|s| s.id == id && s.version == version)
            .ok_or_else(|| SectorError::UnknownSector {
                id: id.to_owned(),
                version: version.to_owned(),
            })
    }

    /// The highest version of the sector with this id.
    pub fn latest(&self, id: &str) -> Result<&Sector, SectorError> {
        self.sectors
            .iter()
            .filter(|s| s.id == id)
            .max_by_key(|s| version_key(s.version))
            .ok_or_else(|| SectorError::UnknownSectorId { id: id.to_owned() })
    }

    /// Every sector, ordered by id then version.
    pub fn iter(&self) -> impl Iterator<Item = &Sector> {
        self.sectors.iter()
    }
}

//! Typed log events: one definition of what a node writes into its audit log — hence into
//! its transparency log — for the node that writes it, the store that keeps and hashes it,
//! and the verifiers that read it (`hallmark verify --log-key`, `hallmark log check`).
//!
//! - [`Action`]: every audit action a node writes, as its exact stored string, and which of
//!   them are public (their leaf bytes are served under `/log/entries`).
//! - The `detail` of the events verifiers read, as types: [`Publication`] (with the
//!   per-audience [`CredentialHashes`]), [`StatusChanged`], [`KeyRegistered`],
//!   [`KeyAuthenticated`], [`KeyStatusChanged`], [`LeafQuarantined`], the operator's
//!   resolver links, [`LinkAdded`] and [`LinkRemoved`], [`StatusListPublished`] and
//!   [`RegistryRecorded`]. Their
//!   JSON is what
//!   nodes have always written (same member names, same values), so leaves already in a log
//!   read back, and new leaves hash exactly as before.
//! - [`LeafEvent`]: the canonical leaf. Leaf *i* of a log is the RFC 8785 canonical JSON of
//!   audit event *i + 1* as `{"seq","at","actor","action","passport","subject","detail"}`
//!   (`at` in RFC 3339 UTC; absent optional members are `null`), and its leaf hash is
//!   `SHA-256(0x00 ‖ bytes)` ([`super::leaf_hash`]).
//!
//! Stored audit rows keep the action as text: a row someone else inserted may name an action
//! no node writes, and its leaf must still be recomputed byte for byte. Such an action is not
//! an [`Action`]; it is never public ([`is_public_action`], fail closed).

use super::merkle::{leaf_hash, Hash};
use crate::access::Audience;
use crate::jcs::{self, JcsError};
use crate::passport::PassportId;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// Errors building, hashing or reading a log event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// A string that is not the name of an [`Action`].
    #[error("unknown audit action {0:?}")]
    UnknownAction(String),
    /// The event's time cannot be written in RFC 3339.
    #[error("audit timestamp: {0}")]
    Timestamp(String),
    /// The event cannot be written as RFC 8785 canonical JSON (e.g. a number beyond
    /// ±(2^53 − 1) in its detail).
    #[error("audit event: {0}")]
    Canonical(#[from] JcsError),
    /// Leaf bytes that are not JSON, or JSON that is not a log event.
    #[error("not a log event: {0}")]
    NotAnEvent(String),
    /// A `detail` that is not the one of its action.
    #[error("{action} detail: {reason}")]
    Detail {
        /// The detail type expected.
        action: &'static str,
        /// What is wrong.
        reason: String,
    },
}

macro_rules! actions {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)+) => {
        /// An audit action, as written in the `action` of audit events and log leaves.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action {
            $($(#[$doc])* $variant,)+
        }

        impl Action {
            /// Every action, in declaration order.
            pub const ALL: &'static [Action] = &[$(Action::$variant,)+];

            /// The stored string, e.g. `passport.published`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)+
                }
            }
        }

        impl FromStr for Action {
            type Err = EventError;
            fn from_str(s: &str) -> Result<Self, EventError> {
                match s {
                    $($name => Ok(Action::$variant),)+
                    other => Err(EventError::UnknownAction(other.to_owned())),
                }
            }
        }
    };
}

actions! {
    /// A passport and its draft version 1 were created.
    PassportDraftCreated = "passport.draft-created",
    /// A draft was edited.
    PassportDraftUpdated = "passport.draft-updated",
    /// A draft of the next version was started.
    PassportVersionStarted = "passport.version-started",
    /// A version was published; its detail is [`Publication`]. Public.
    PassportPublished = "passport.published",
    /// A passport was suspended; detail [`StatusChanged`]. Public.
    PassportSuspended = "passport.suspended",
    /// A suspended passport was published again; detail [`StatusChanged`]. Public.
    PassportResumed = "passport.resumed",
    /// A passport was archived; detail [`StatusChanged`]. Public.
    PassportArchived = "passport.archived",
    /// A passport was deactivated; detail [`StatusChanged`]. Public.
    PassportDeactivated = "passport.deactivated",
    /// A sector plugin gave no verdict.
    PluginFailed = "plugin.failed",
    /// A signing key's metadata was recorded; detail [`KeyRegistered`]. Public.
    SigningKeyRegistered = "signing-key.registered",
    /// A key row written before row authentication got the node's tag; detail
    /// [`KeyAuthenticated`]. Public.
    SigningKeyAuthenticated = "signing-key.authenticated",
    /// A signing key was retired; detail [`KeyStatusChanged`]. Public.
    SigningKeyRetired = "signing-key.retired",
    /// A signing key was revoked; detail [`KeyStatusChanged`]. Public.
    SigningKeyRevoked = "signing-key.revoked",
    /// An API key was created (its label is in the detail: withheld).
    ApiKeyCreated = "api-key.created",
    /// An API key was revoked.
    ApiKeyRevoked = "api-key.revoked",
    /// A legacy API key hash was replaced by the node's keyed hash.
    ApiKeyRehashed = "api-key.rehashed",
    /// A failed authentication (carries a client address: withheld).
    AuthFailed = "auth.failed",
    /// A throttled authentication.
    AuthThrottled = "auth.throttled",
    /// A rate-limited request.
    RateLimited = "rate.limited",
    /// An admin login.
    AuthAdminLogin = "auth.admin-login",
    /// Refusal counts that got no row of their own.
    RefusalsFolded = "refusals.folded",
    /// A node started (its effective configuration, no secret). Public.
    NodeStarted = "node.started",
    /// The node found a row it did not write.
    IntegrityAlarm = "integrity.alarm",
    /// The node signs on over a leaf the operator quarantined; detail [`LeafQuarantined`].
    /// Public.
    LogLeafQuarantined = "log.leaf-quarantined",
    /// The operator attached a link to a product identifier (served in the resolver's
    /// linkset); detail [`LinkAdded`]. Public.
    LinkAdded = "link.added",
    /// The operator removed such a link; detail [`LinkRemoved`]. Public.
    LinkRemoved = "link.removed",
    /// A version of a W3C Bitstring Status List credential was signed and stored; detail
    /// [`StatusListPublished`]. Public: the list itself is served publicly.
    StatusListPublished = "status-list.published",
    /// A bulk import (one run of `hallmark import` over a file, in batches) finished or was
    /// interrupted; detail [`ImportCompleted`]. Private: it names the operator's file.
    ImportCompleted = "import.completed",
    /// The EU DPP registry's registration of a passport version (its id, proof and hash)
    /// was recorded; detail [`RegistryRecorded`]. Public: it says which version the
    /// registry holds and by which hash, nothing the public read path does not serve.
    RegistryRecorded = "registry.recorded",
    /// A reader registered (inert until approved); detail [`ReaderRegistered`] — its
    /// organisation and contact only as SHA-256. Public.
    ReaderRegistered = "reader.registered",
    /// The operator approved a reader, or granted it anew; detail [`ReaderApproved`].
    /// Public.
    ReaderApproved = "reader.approved",
    /// The operator suspended a reader; detail [`ReaderChanged`]. Public.
    ReaderSuspended = "reader.suspended",
    /// The operator resumed a suspended reader; detail [`ReaderChanged`]. Public.
    ReaderResumed = "reader.resumed",
    /// The operator revoked a reader for good; detail [`ReaderChanged`]. Public.
    ReaderRevoked = "reader.revoked",
    /// An approved reader read a passport's restricted view; detail [`PassportRead`].
    /// Private: who reads what is the readers' business.
    PassportRead = "passport.read",
    /// The operator subscribed a URL to events (signed webhooks); detail
    /// [`WebhookCreated`]. Private: it names the operator's own systems.
    WebhookCreated = "webhook.created",
    /// A webhook subscription was disabled, by the operator or by the node after repeated
    /// failed deliveries (actor `system`); detail [`WebhookChanged`]. Private.
    WebhookDisabled = "webhook.disabled",
    /// The operator enabled a disabled subscription again; detail [`WebhookChanged`].
    /// Private.
    WebhookEnabled = "webhook.enabled",
}

impl Action {
    /// Whether the leaf bytes of an event with this action are served publicly. Only events
    /// that say nothing more than the public read path already does are: publication and
    /// status changes, signing-key events, node start, quarantines, the operator's resolver
    /// links (added and removed: the log proves what the resolver pointed to), status list
    /// versions and EU registry registrations. Drafts (a draft is
    /// indistinguishable from an unknown id in public), authentication events (client
    /// addresses), API-key events (labels), plugin failures and integrity alarms are
    /// withheld: served as hash only.
    pub const fn is_public(self) -> bool {
        matches!(
            self,
            Action::PassportPublished
                | Action::PassportSuspended
                | Action::PassportResumed
                | Action::PassportArchived
                | Action::PassportDeactivated
                | Action::SigningKeyRegistered
                | Action::SigningKeyAuthenticated
                | Action::SigningKeyRetired
                | Action::SigningKeyRevoked
                | Action::NodeStarted
                | Action::LogLeafQuarantined
                | Action::LinkAdded
                | Action::LinkRemoved
                | Action::StatusListPublished
                | Action::RegistryRecorded
                | Action::ReaderRegistered
                | Action::ReaderApproved
                | Action::ReaderSuspended
                | Action::ReaderResumed
                | Action::ReaderRevoked
        )
    }

    /// Whether this is a signing-key event (`signing-key.*`).
    pub const fn is_signing_key(self) -> bool {
        matches!(
            self,
            Action::SigningKeyRegistered
                | Action::SigningKeyAuthenticated
                | Action::SigningKeyRetired
                | Action::SigningKeyRevoked
        )
    }
}

/// Whether the leaf of an audit event with this stored action is served publicly; an action
/// that is not an [`Action`] is withheld (fail closed).
pub fn is_public_action(action: &str) -> bool {
    action.parse::<Action>().is_ok_and(Action::is_public)
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<str> for Action {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Serialize for Action {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Cow::<'de, str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The typed `detail` of an audit event: serialised into the event's JSON as written, read
/// back from it.
pub trait Detail: Serialize + DeserializeOwned {
    /// The type's name in errors.
    const NAME: &'static str;

    /// The detail as the JSON value stored in the event.
    fn to_value(&self) -> Result<Value, EventError> {
        serde_json::to_value(self).map_err(|e| EventError::Detail {
            action: Self::NAME,
            reason: e.to_string(),
        })
    }

    /// Reads the detail from an event's JSON value.
    fn from_value(value: &Value) -> Result<Self, EventError> {
        Self::deserialize(value).map_err(|e| EventError::Detail {
            action: Self::NAME,
            reason: e.to_string(),
        })
    }
}

/// The SHA-256 of each audience's Data Integrity credential of a version, exactly as signed
/// and served, in lowercase hex: `{"public","legitimateInterest","authority"}`. The log
/// commits to these bytes (not to the `vc+jwt` forms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CredentialHashes {
    /// The public credential's SHA-256.
    pub public: String,
    /// The legitimate-interest credential's SHA-256.
    pub legitimate_interest: String,
    /// The authority credential's SHA-256.
    pub authority: String,
}

impl CredentialHashes {
    /// From the three digests.
    pub fn new(public: &[u8; 32], legitimate_interest: &[u8; 32], authority: &[u8; 32]) -> Self {
        CredentialHashes {
            public: hex::encode(public),
            legitimate_interest: hex::encode(legitimate_interest),
            authority: hex::encode(authority),
        }
    }

    /// From `(audience, digest)` pairs naming every audience exactly once; `None` otherwise.
    pub fn from_audiences<'a>(
        digests: impl IntoIterator<Item = (Audience, &'a [u8; 32])>,
    ) -> Option<Self> {
        let mut found: [Option<&[u8; 32]>; 3] = [None; 3];
        for (audience, digest) in digests {
            let slot = &mut found[Self::position(audience)];
            if slot.replace(digest).is_some() {
                return None;
            }
        }
        match found {
            [Some(p), Some(l), Some(a)] => Some(Self::new(p, l, a)),
            _ => None,
        }
    }

    fn position(audience: Audience) -> usize {
        match audience {
            Audience::Public => 0,
            Audience::LegitimateInterest => 1,
            Audience::Authority => 2,
        }
    }

    /// The recorded hash of one audience (hex).
    pub fn get(&self, audience: Audience) -> &str {
        match audience {
            Audience::Public => &self.public,
            Audience::LegitimateInterest => &self.legitimate_interest,
            Audience::Authority => &self.authority,
        }
    }

    /// `(member name, hex)` of every audience, in the JSON member order of RFC 8785
    /// (`authority`, `legitimateInterest`, `public`).
    pub fn entries(&self) -> [(&'static str, &str); 3] {
        [
            ("authority", &self.authority),
            ("legitimateInterest", &self.legitimate_interest),
            ("public", &self.public),
        ]
    }

    /// The member name of the first audience (in [`entries`](Self::entries) order) whose
    /// recorded hash (hex, either case) is one of `digests`.
    pub fn find(&self, digests: &[[u8; 32]]) -> Option<&'static str> {
        self.entries().into_iter().find_map(|(name, recorded)| {
            let recorded = hex::decode(recorded).ok()?;
            digests
                .iter()
                .any(|d| d.as_slice() == recorded.as_slice())
                .then_some(name)
        })
    }
}

/// The detail of `passport.published`: `{"version","keyId","credentialSha256"}`. The event's
/// `passport` names the passport.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Publication {
    /// The version published (1, 2, …).
    pub version: u32,
    /// The id of the key that signed its credentials.
    pub key_id: String,
    /// The SHA-256 of each audience's credential. Every node since the log was introduced
    /// writes it; only publish events written before carry none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_sha256: Option<CredentialHashes>,
}

impl Detail for Publication {
    const NAME: &'static str = "passport.published";
}

/// The detail of a status change (`passport.suspended`, `.resumed`, `.archived`,
/// `.deactivated`): `{"reason"}` (`null` when none was given).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChanged {
    /// The reason given, if any.
    #[serde(default)]
    pub reason: Option<String>,
}

impl Detail for StatusChanged {
    const NAME: &'static str = "passport status change";
}

/// The detail of `signing-key.registered` (the event's `subject` is the key id):
/// `{"purpose","backend","status","publicKeyMultibase"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyRegistered {
    /// `passport-signing`, `log-checkpoint` or `node-request`.
    pub purpose: String,
    /// `file` or `pkcs11`.
    pub backend: String,
    /// The key's status when registered (`current`, `retired`, `revoked`).
    pub status: String,
    /// The public key as Multikey. Every node since row authentication writes it; only
    /// events written before carry none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_multibase: Option<String>,
}

impl Detail for KeyRegistered {
    const NAME: &'static str = "signing-key.registered";
}

/// The detail of `signing-key.authenticated` (a key row written before row authentication,
/// tagged as custody says): `{"purpose","status","publicKeyMultibase"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyAuthenticated {
    /// The key's purpose.
    pub purpose: String,
    /// Its status.
    pub status: String,
    /// The public key as Multikey.
    pub public_key_multibase: String,
}

impl Detail for KeyAuthenticated {
    const NAME: &'static str = "signing-key.authenticated";
}

/// The detail of `signing-key.retired` / `signing-key.revoked`:
/// `{"purpose","from","to","reason"}` (`reason` is `null` unless revoked with one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyStatusChanged {
    /// The key's purpose.
    pub purpose: String,
    /// The status before.
    pub from: String,
    /// The status after.
    pub to: String,
    /// The revocation reason, if any.
    #[serde(default)]
    pub reason: Option<String>,
}

impl Detail for KeyStatusChanged {
    const NAME: &'static str = "signing-key status change";
}

/// The detail of `log.leaf-quarantined` (the event's `subject` is `leaf:<index>`):
/// `{"leafIndex","leafHash","reason"}`, the hash in lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeafQuarantined {
    /// The quarantined leaf.
    pub leaf_index: u64,
    /// Its stored hash (hex).
    pub leaf_hash: String,
    /// The operator's reason.
    pub reason: String,
}

impl LeafQuarantined {
    /// The quarantine of leaf `leaf_index` with stored hash `leaf_hash`.
    pub fn new(leaf_index: u64, leaf_hash: &Hash, reason: String) -> Self {
        LeafQuarantined {
            leaf_index,
            leaf_hash: hex::encode(leaf_hash),
            reason,
        }
    }
}

impl Detail for LeafQuarantined {
    const NAME: &'static str = "log.leaf-quarantined";
}

/// The detail of `link.added` (the event's `subject` is the link's id): the identifier it is
/// attached to and the link as the linkset serves it,
/// `{"gtin","lot","serial","linkType","href","title","type","hreflang"}` (`lot`, `serial`,
/// `type` are `null` when absent; `linkType` is the full URI).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkAdded {
    /// The GTIN-14.
    pub gtin: String,
    /// The lot, for a batch-level link.
    #[serde(default)]
    pub lot: Option<String>,
    /// The serial, for an item-level link.
    #[serde(default)]
    pub serial: Option<String>,
    /// The link type (full URI).
    pub link_type: String,
    /// The target.
    pub href: String,
    /// The title.
    pub title: String,
    /// The target's media type.
    #[serde(rename = "type", default)]
    pub media_type: Option<String>,
    /// The target's languages.
    #[serde(default)]
    pub hreflang: Vec<String>,
}

impl Detail for LinkAdded {
    const NAME: &'static str = "link.added";
}

/// The detail of `link.removed` (the event's `subject` is the link's id): what stops being
/// served and why, `{"gtin","lot","serial","linkType","href","reason"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkRemoved {
    /// The GTIN-14.
    pub gtin: String,
    /// The lot, for a batch-level link.
    #[serde(default)]
    pub lot: Option<String>,
    /// The serial, for an item-level link.
    #[serde(default)]
    pub serial: Option<String>,
    /// The link type (full URI).
    pub link_type: String,
    /// The target it pointed to.
    pub href: String,
    /// The operator's reason.
    pub reason: String,
}

impl Detail for LinkRemoved {
    const NAME: &'static str = "link.removed";
}

/// The detail of `status-list.published`: `{"purpose","list","version","sha256","jwtSha256"}`
/// — which list (`suspension` or `revocation`, list number 0, 1, …), which of its versions
/// (1, 2, …), and the SHA-256 (lowercase hex) of its two secured forms exactly as stored and
/// served: the Data Integrity credential's bytes and the `vc+jwt` compact serialisation's
/// bytes. A verifier holding a list credential checks, with an inclusion proof of this leaf,
/// that it is the one the node published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusListPublished {
    /// `suspension` or `revocation`.
    pub purpose: String,
    /// The list number.
    pub list: u32,
    /// The list's version (1, 2, …).
    pub version: u32,
    /// SHA-256 of the Data Integrity credential's bytes (hex).
    pub sha256: String,
    /// SHA-256 of the `vc+jwt` form's bytes (hex).
    pub jwt_sha256: String,
}

impl StatusListPublished {
    /// The detail of version `version` of list `list` of `purpose`, from the digests of its
    /// two forms.
    pub fn new(
        purpose: &str,
        list: u32,
        version: u32,
        sha256: &[u8; 32],
        jwt_sha256: &[u8; 32],
    ) -> Self {
        StatusListPublished {
            purpose: purpose.to_owned(),
            list,
            version,
            sha256: hex::encode(sha256),
            jwt_sha256: hex::encode(jwt_sha256),
        }
    }
}

impl Detail for StatusListPublished {
    const NAME: &'static str = "status-list.published";
}

/// The detail of `registry.recorded`: `{"version","registrationId","dppSha256","proofSha256"}`
/// — which version of the event's passport the EU DPP registry registered, under which
/// registration id, the SHA-256 (lowercase hex) the registry gave for it — always the
/// SHA-256 of that version's public Data Integrity credential as served (`dppSha256`; the
/// store refuses any other) — and the SHA-256 (lowercase hex) of the registry's proof of
/// registration as stored (`proofSha256`). The passport is the event's `passport`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegistryRecorded {
    /// The passport version registered (1, 2, …).
    pub version: u32,
    /// The registry's id for this registration.
    pub registration_id: String,
    /// SHA-256 of the version's public Data Integrity credential (hex).
    pub dpp_sha256: String,
    /// SHA-256 of the proof of registration's bytes (hex).
    pub proof_sha256: String,
}

impl RegistryRecorded {
    /// The detail of the registration `registration_id` of version `version`, from the
    /// digests of the version's public credential and of the proof.
    pub fn new(
        version: u32,
        registration_id: &str,
        dpp_sha256: &[u8; 32],
        proof_sha256: &[u8; 32],
    ) -> Self {
        RegistryRecorded {
            version,
            registration_id: registration_id.to_owned(),
            dpp_sha256: hex::encode(dpp_sha256),
            proof_sha256: hex::encode(proof_sha256),
        }
    }
}

impl Detail for RegistryRecorded {
    const NAME: &'static str = "registry.recorded";
}

/// The detail of `reader.registered` (the event's `subject` is the reader id):
/// `{"readerId","fingerprint","purpose","organisationSha256","contactSha256"}`. The
/// organisation and contact are personal data: only their SHA-256 (lowercase hex, of the
/// UTF-8 text as registered) is in the leaf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReaderRegistered {
    /// The reader's id (UUID).
    pub reader_id: String,
    /// Its key's fingerprint (`crate::reader::fingerprint`).
    pub fingerprint: String,
    /// The purpose claimed (wire name).
    pub purpose: crate::reader::Purpose,
    /// SHA-256 of the organisation (hex).
    pub organisation_sha256: String,
    /// SHA-256 of the contact (hex).
    pub contact_sha256: String,
}

impl Detail for ReaderRegistered {
    const NAME: &'static str = "reader.registered";
}

/// The detail of `reader.approved`: `{"readerId","tier","scope","expiresAt"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReaderApproved {
    /// The reader's id (UUID).
    pub reader_id: String,
    /// The tier granted.
    pub tier: crate::reader::ReaderTier,
    /// The scope granted.
    pub scope: crate::reader::GrantScope,
    /// The expiry (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

impl Detail for ReaderApproved {
    const NAME: &'static str = "reader.approved";
}

/// The detail of `reader.suspended`, `.resumed` and `.revoked`: `{"readerId",
/// "reasonSha256"}` — the operator's reason (kept with the reader) only as SHA-256, as it
/// may name people; `null` for a resumption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReaderChanged {
    /// The reader's id (UUID).
    pub reader_id: String,
    /// SHA-256 of the reason (hex), if one was given.
    pub reason_sha256: Option<String>,
}

impl Detail for ReaderChanged {
    const NAME: &'static str = "reader status change";
}

/// The detail of `passport.read` (the event's `passport` is the passport read):
/// `{"readerId","version","tier"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PassportRead {
    /// The reader's id (UUID).
    pub reader_id: String,
    /// The version served.
    pub version: u32,
    /// The tier served.
    pub tier: crate::reader::ReaderTier,
}

impl Detail for PassportRead {
    const NAME: &'static str = "passport.read";
}

/// The detail of `webhook.created` (the event's subject is the subscription id):
/// `{"webhookId","url","types"}` — never the secret (derived, shown once, not stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookCreated {
    /// The subscription's id (UUID).
    pub webhook_id: String,
    /// Where deliveries go.
    pub url: String,
    /// The event types subscribed to (`crate::events::EVENT_TYPES`).
    pub types: Vec<String>,
}

impl Detail for WebhookCreated {
    const NAME: &'static str = "webhook.created";
}

/// The detail of `webhook.disabled` and `.enabled`: `{"webhookId","reason","failures"}` —
/// the operator's reason or the node's (`null` for an enabling), and the consecutive failed
/// deliveries at the time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookChanged {
    /// The subscription's id (UUID).
    pub webhook_id: String,
    /// Why, if said.
    pub reason: Option<String>,
    /// Consecutive failed deliveries.
    pub failures: u32,
}

impl Detail for WebhookChanged {
    const NAME: &'static str = "webhook status change";
}

impl crate::reader::ReaderChange {
    /// The audit action of the change (`reader.approved`, `.suspended`, `.resumed`,
    /// `.revoked`).
    pub const fn action(&self) -> Action {
        use crate::reader::ReaderChange;
        match self {
            ReaderChange::Approve(_) => Action::ReaderApproved,
            ReaderChange::Suspend { .. } => Action::ReaderSuspended,
            ReaderChange::Resume => Action::ReaderResumed,
            ReaderChange::Revoke { .. } => Action::ReaderRevoked,
        }
    }
}

/// How many items of an import came out which way (`{"created","updated","published",
/// "unchanged","failed"}`): the batch endpoint's per-item results, summed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImportCounts {
    /// New passports.
    pub created: u64,
    /// Passports whose content changed (a draft edited or a version started, published
    /// with `publish`).
    pub updated: u64,
    /// Unchanged pending drafts published.
    pub published: u64,
    /// Items whose content was already the latest: nothing written.
    pub unchanged: u64,
    /// Items refused: nothing written for them.
    pub failed: u64,
}

/// The detail of `import.completed`: `{"importId","fileName","bytes","sha256","rows",
/// "counts","countedBy","interrupted"}` — which import (the client's UUIDv7), the file's
/// name (never its content), its size and SHA-256 (lowercase hex) as the client read it,
/// the rows read, the outcome counts, whether those counts are the node's own (`node`: it
/// answered every batch of this import since it started) or the client's (`client`), and
/// whether the run was interrupted (a re-run resumes it and writes its own event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportCompleted {
    /// The import's id (UUID, as the client sent it).
    pub import_id: String,
    /// The input file's name (no directory).
    pub file_name: String,
    /// The input's size in bytes.
    pub bytes: u64,
    /// SHA-256 of the input's bytes (hex).
    pub sha256: String,
    /// Rows read (header excluded).
    pub rows: u64,
    /// The outcomes.
    pub counts: ImportCounts,
    /// `node` or `client`: whose counts these are.
    pub counted_by: String,
    /// Whether the run stopped before the end of its input.
    pub interrupted: bool,
}

impl Detail for ImportCompleted {
    const NAME: &'static str = "import.completed";
}

/// An audit event as a transparency-log leaf:
/// `{"seq","at","actor","action","passport","subject","detail"}`.
///
/// [`leaf_bytes`](Self::leaf_bytes) are its RFC 8785 canonical JSON, and leaf `seq − 1` of
/// the log is their [`leaf_hash`](Self::leaf_hash). The store computes it when it appends an
/// event (in the same transaction), `hallmark log check` recomputes it from the stored
/// events, and a verifier reads the bytes of a served leaf back with
/// [`from_leaf`](Self::from_leaf).
///
/// Reading is lenient about absent members (`at`, `actor`, `passport`, `subject`,
/// `detail`): the leaf hash commits to the bytes whatever they hold; a node always writes
/// all seven, absent optional ones as `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeafEvent<'a> {
    /// The audit sequence number (1, 2, …; leaf index + 1).
    pub seq: u64,
    /// When, in RFC 3339 UTC as stored (microseconds at most; trailing zeros of the fraction
    /// dropped).
    #[serde(default)]
    pub at: Cow<'a, str>,
    /// Who: an API key id, `admin:<user>`, `node`, a client address, …
    #[serde(default)]
    pub actor: Cow<'a, str>,
    /// What: an [`Action`]'s string (kept as text, see the module documentation).
    pub action: Cow<'a, str>,
    /// The passport concerned (`urn:uuid:…`), if any.
    #[serde(default)]
    pub passport: Option<Cow<'a, str>>,
    /// Another subject (key id, API key prefix, `leaf:<index>`), if any.
    #[serde(default)]
    pub subject: Option<Cow<'a, str>>,
    /// Structured details (for the actions verifiers read, one of the [`Detail`] types).
    #[serde(default)]
    pub detail: Cow<'a, Value>,
}

impl<'a> LeafEvent<'a> {
    /// The leaf of audit event `seq`, borrowing its parts.
    pub fn new(
        seq: u64,
        at: OffsetDateTime,
        actor: &'a str,
        action: &'a str,
        passport: Option<&PassportId>,
        subject: Option<&'a str>,
        detail: &'a Value,
    ) -> Result<Self, EventError> {
        Ok(LeafEvent {
            seq,
            at: Cow::Owned(leaf_time(at)?),
            actor: Cow::Borrowed(actor),
            action: Cow::Borrowed(action),
            passport: passport.map(|p| Cow::Owned(p.to_string())),
            subject: subject.map(Cow::Borrowed),
            detail: Cow::Borrowed(detail),
        })
    }

    /// The leaf bytes: RFC 8785 canonical JSON of the seven members.
    pub fn leaf_bytes(&self) -> Result<Vec<u8>, EventError> {
        Ok(jcs::canonicalize_serialize(self)?)
    }

    /// The RFC 6962 leaf hash of [`leaf_bytes`](Self::leaf_bytes): `SHA-256(0x00 ‖ bytes)`.
    pub fn leaf_hash(&self) -> Result<Hash, EventError> {
        Ok(leaf_hash(&self.leaf_bytes()?))
    }

    /// Reads leaf bytes (as served under `/log/entries` or in an inclusion proof): strict
    /// JSON (no duplicate member names) holding a log event. The bytes are not required to
    /// be canonical: what they commit to is their hash.
    pub fn from_leaf(bytes: &[u8]) -> Result<LeafEvent<'static>, EventError> {
        let value = jcs::parse_strict(bytes).map_err(|e| EventError::NotAnEvent(e.to_string()))?;
        LeafEvent::deserialize(value).map_err(|e| EventError::NotAnEvent(e.to_string()))
    }

    /// The action, if it is one nodes write.
    pub fn known_action(&self) -> Option<Action> {
        self.action.parse().ok()
    }

    /// The detail read as `D`.
    pub fn detail_as<D: Detail>(&self) -> Result<D, EventError> {
        D::from_value(&self.detail)
    }
}

/// An event's time as written in its leaf: RFC 3339 in UTC.
pub fn leaf_time(at: OffsetDateTime) -> Result<String, EventError> {
    at.to_offset(UtcOffset::UTC)
        .format(&Rfc3339)
        .map_err(|e| EventError::Timestamp(e.to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn actions_round_trip_as_their_strings() {
        assert_eq!(Action::ALL.len(), 38);
        for a in Action::ALL {
            assert_eq!(a.as_str().parse::<Action>().unwrap(), *a);
            assert_eq!(a.to_string(), a.as_str());
            let json = serde_json::to_string(a).unwrap();
            assert_eq!(json, format!("\"{}\"", a.as_str()));
            assert_eq!(serde_json::from_str::<Action>(&json).unwrap(), *a);
        }
        assert_eq!(
            "something.new".parse::<Action>(),
            Err(EventError::UnknownAction("something.new".into()))
        );
        assert!(serde_json::from_str::<Action>("\"signing-key.current\"").is_err());
    }

    /// The public list as it was in `hallmark-node/src/transparency/mod.rs`: the five
    /// passport publication/status actions, `node.started`, `log.leaf-quarantined` and every
    /// `signing-key.*` action; since operator links, `link.added` and `link.removed`; since
    /// issue 17 also `status-list.published`; since issue 19 also `registry.recorded`; since
    /// issue 20 the reader admission events (`reader.*`, personal data hashed), not
    /// `passport.read`.
    #[test]
    fn the_public_actions_are_the_former_list() {
        let former = [
            "passport.published",
            "passport.suspended",
            "passport.resumed",
            "passport.archived",
            "passport.deactivated",
            "node.started",
            "log.leaf-quarantined",
            "link.added",
            "link.removed",
            "status-list.published",
            "registry.recorded",
            "reader.registered",
            "reader.approved",
            "reader.suspended",
            "reader.resumed",
            "reader.revoked",
        ];
        for a in Action::ALL {
            let s = a.as_str();
            assert_eq!(
                a.is_public(),
                former.contains(&s) || s.starts_with("signing-key."),
                "{s}"
            );
            assert_eq!(is_public_action(s), a.is_public());
            assert_eq!(a.is_signing_key(), s.starts_with("signing-key."), "{s}");
        }
        assert!(!is_public_action("something.new"));
        assert!(!is_public_action("signing-key.forged"));
        assert!(!is_public_action(""));
    }

    fn t() -> OffsetDateTime {
        time::macros::datetime!(2026-05-01 12:00:00.123450 +02:00)
    }

    /// The leaf as the store built it before this module existed (`hallmark-store`'s
    /// `AuditRecord::leaf_bytes`: a `json!` object canonicalised).
    fn former_leaf(
        seq: u64,
        at: OffsetDateTime,
        actor: &str,
        action: &str,
        passport: Option<PassportId>,
        subject: Option<String>,
        detail: &Value,
    ) -> Vec<u8> {
        let at = at
            .to_offset(UtcOffset::UTC)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        let value = json!({
            "seq": seq,
            "at": at,
            "actor": actor,
            "action": action,
            "passport": passport.map(|p| p.to_string()),
            "subject": subject,
            "detail": detail,
        });
        jcs::canonicalize(&value).unwrap()
    }

    #[test]
    fn leaf_bytes_are_the_former_ones() {
        let id: PassportId = "urn:uuid:0190c2f4-8d3e-7b1a-9c4d-2e5f6a7b8c9d"
            .parse()
            .unwrap();
        let cases = [
            (1, None, None, json!({"version": "0.1.0", "n": 1.5})),
            (2, Some(id), None, json!({"reason": null})),
            (
                3,
                None,
                Some("z6Mk…".to_string()),
                json!({"é": "\u{1F600}\n"}),
            ),
            (4, Some(id), Some("leaf:3".into()), json!({})),
        ];
        for (seq, passport, subject, detail) in cases {
            let leaf = LeafEvent::new(
                seq,
                t(),
                "admin:ops",
                "passport.published",
                passport.as_ref(),
                subject.as_deref(),
                &detail,
            )
            .unwrap();
            let bytes = leaf.leaf_bytes().unwrap();
            assert_eq!(
                bytes,
                former_leaf(
                    seq,
                    t(),
                    "admin:ops",
                    "passport.published",
                    passport,
                    subject.clone(),
                    &detail
                )
            );
            assert_eq!(leaf.leaf_hash().unwrap(), leaf_hash(&bytes));
            // Read back: the same event.
            let back = LeafEvent::from_leaf(&bytes).unwrap();
            assert_eq!(back, leaf);
            assert_eq!(back.leaf_bytes().unwrap(), bytes);
        }
        let leaf =
            LeafEvent::new(9, t(), "node", "node.started", None, None, &Value::Null).unwrap();
        assert_eq!(
            String::from_utf8(leaf.leaf_bytes().unwrap()).unwrap(),
            r#"{"action":"node.started","actor":"node","at":"2026-05-01T10:00:00.12345Z","detail":null,"passport":null,"seq":9,"subject":null}"#
        );
    }

    #[test]
    fn details_serialise_as_the_node_wrote_them() {
        let hashes = CredentialHashes::new(&[1; 32], &[2; 32], &[3; 32]);
        let published = Publication {
            version: 2,
            key_id: "z6MkKey".into(),
            credential_sha256: Some(hashes.clone()),
        };
        let mut former = serde_json::Map::new();
        for (name, d) in [
            ("public", [1u8; 32]),
            ("legitimateInterest", [2; 32]),
            ("authority", [3; 32]),
        ] {
            former.insert(name.into(), json!(hex::encode(d)));
        }
        let expected = json!({ "version": 2u32, "keyId": "z6MkKey", "credentialSha256": former });
        assert_eq!(published.to_value().unwrap(), expected);
        assert_eq!(Publication::from_value(&expected).unwrap(), published);
        // Before the log recorded credential hashes.
        let old = json!({ "version": 1, "keyId": "k" });
        let read = Publication::from_value(&old).unwrap();
        assert_eq!(read.credential_sha256, None);
        assert_eq!(read.to_value().unwrap(), old);
        // Another member among the hashes is not a publication's.
        let mut extra = expected.clone();
        extra["credentialSha256"]["other"] = json!("00");
        assert!(Publication::from_value(&extra).is_err());

        assert_eq!(
            StatusChanged { reason: None }.to_value().unwrap(),
            json!({ "reason": null })
        );
        assert_eq!(
            StatusChanged {
                reason: Some("recall".into())
            }
            .to_value()
            .unwrap(),
            json!({ "reason": "recall" })
        );
        let registered = KeyRegistered {
            purpose: "passport-signing".into(),
            backend: "file".into(),
            status: "current".into(),
            public_key_multibase: Some("z6Mk".into()),
        };
        assert_eq!(
            registered.to_value().unwrap(),
            json!({"purpose": "passport-signing", "backend": "file", "status": "current", "publicKeyMultibase": "z6Mk"})
        );
        let older = json!({"purpose": "p", "backend": "file", "status": "current"});
        assert_eq!(
            KeyRegistered::from_value(&older)
                .unwrap()
                .to_value()
                .unwrap(),
            older
        );
        assert_eq!(
            KeyAuthenticated {
                purpose: "p".into(),
                status: "retired".into(),
                public_key_multibase: "z6Mk".into()
            }
            .to_value()
            .unwrap(),
            json!({"purpose": "p", "status": "retired", "publicKeyMultibase": "z6Mk"})
        );
        assert_eq!(
            KeyStatusChanged {
                purpose: "p".into(),
                from: "current".into(),
                to: "retired".into(),
                reason: None
            }
            .to_value()
            .unwrap(),
            json!({"purpose": "p", "from": "current", "to": "retired", "reason": null})
        );
        assert_eq!(
            LeafQuarantined::new(7, &[0xab; 32], "incident 42".into())
                .to_value()
                .unwrap(),
            json!({"leafIndex": 7, "leafHash": hex::encode([0xab; 32]), "reason": "incident 42"})
        );
        let list = StatusListPublished::new("suspension", 0, 3, &[0xcd; 32], &[0xef; 32]);
        let expected = json!({
            "purpose": "suspension",
            "list": 0,
            "version": 3,
            "sha256": hex::encode([0xcd; 32]),
            "jwtSha256": hex::encode([0xef; 32]),
        });
        assert_eq!(list.to_value().unwrap(), expected);
        assert_eq!(StatusListPublished::from_value(&expected).unwrap(), list);
        let mut missing = expected.clone();
        missing.as_object_mut().unwrap().remove("jwtSha256");
        assert!(StatusListPublished::from_value(&missing).is_err());
    }

    #[test]
    fn registry_recorded_round_trips_and_is_public() {
        assert_eq!(Action::RegistryRecorded.as_str(), "registry.recorded");
        assert!(Action::RegistryRecorded.is_public());
        assert!(!Action::RegistryRecorded.is_signing_key());
        assert_eq!(
            "registry.recorded".parse::<Action>().unwrap(),
            Action::RegistryRecorded
        );
        let detail = RegistryRecorded::new(3, "REG-0001", &[0xab; 32], &[0x01; 32]);
        let expected = json!({
            "version": 3,
            "registrationId": "REG-0001",
            "dppSha256": hex::encode([0xab; 32]),
            "proofSha256": hex::encode([0x01; 32]),
        });
        assert_eq!(detail.to_value().unwrap(), expected);
        assert_eq!(RegistryRecorded::from_value(&expected).unwrap(), detail);
        for member in ["version", "registrationId", "dppSha256", "proofSha256"] {
            let mut missing = expected.clone();
            missing.as_object_mut().unwrap().remove(member);
            assert!(RegistryRecorded::from_value(&missing).is_err(), "{member}");
        }
        let mut extra = expected.clone();
        extra["passport"] = json!("urn:uuid:x");
        assert!(RegistryRecorded::from_value(&extra).is_err());
        let mut negative = expected;
        negative["version"] = json!(-1);
        assert!(RegistryRecorded::from_value(&negative).is_err());
        // As a leaf: the event's canonical bytes carry the detail and read back.
        let value = detail.to_value().unwrap();
        let event =
            LeafEvent::new(9, t(), "admin", "registry.recorded", None, None, &value).unwrap();
        let bytes = event.leaf_bytes().unwrap();
        let back = LeafEvent::from_leaf(&bytes).unwrap();
        assert_eq!(back.known_action(), Some(Action::RegistryRecorded));
        assert_eq!(RegistryRecorded::from_value(&back.detail).unwrap(), detail);
    }

    #[test]
    fn link_details_serialise_with_every_member() {
        let added = LinkAdded {
            gtin: "09506000134352".into(),
            lot: None,
            serial: Some("S1".into()),
            link_type: "https://ref.gs1.org/voc/instructions".into(),
            href: "https://e.example/m.pdf".into(),
            title: "Manual".into(),
            media_type: Some("application/pdf".into()),
            hreflang: vec!["en".into()],
        };
        let v = json!({"gtin": "09506000134352", "lot": null, "serial": "S1",
            "linkType": "https://ref.gs1.org/voc/instructions", "href": "https://e.example/m.pdf",
            "title": "Manual", "type": "application/pdf", "hreflang": ["en"]});
        assert_eq!(added.to_value().unwrap(), v);
        assert_eq!(LinkAdded::from_value(&v).unwrap(), added);
        let removed = LinkRemoved {
            gtin: "09506000134352".into(),
            lot: Some("L1".into()),
            serial: None,
            link_type: "https://ref.gs1.org/voc/pip".into(),
            href: "https://e.example/p".into(),
            reason: "moved".into(),
        };
        let v = json!({"gtin": "09506000134352", "lot": "L1", "serial": null,
            "linkType": "https://ref.gs1.org/voc/pip", "href": "https://e.example/p", "reason": "moved"});
        assert_eq!(removed.to_value().unwrap(), v);
        assert_eq!(LinkRemoved::from_value(&v).unwrap(), removed);
        assert!(LinkRemoved::from_value(&json!({"gtin": "x"})).is_err());
    }

    #[test]
    fn credential_hashes_by_audience() {
        let (p, l, a) = ([1u8; 32], [2u8; 32], [3u8; 32]);
        let h = CredentialHashes::from_audiences([
            (Audience::Public, &p),
            (Audience::LegitimateInterest, &l),
            (Audience::Authority, &a),
        ])
        .unwrap();
        assert_eq!(h, CredentialHashes::new(&p, &l, &a));
        assert_eq!(h.get(Audience::LegitimateInterest), hex::encode(l));
        assert_eq!(h.find(&[[9; 32], a]), Some("authority"));
        assert_eq!(h.find(&[p]), Some("public"));
        assert_eq!(h.find(&[[9; 32]]), None);
        let upper = CredentialHashes {
            public: hex::encode_upper(p),
            ..h.clone()
        };
        assert_eq!(upper.find(&[p]), Some("public"));
        assert!(
            CredentialHashes::from_audiences([(Audience::Public, &p), (Audience::Public, &p)])
                .is_none()
        );
        assert!(CredentialHashes::from_audiences([(Audience::Public, &p)]).is_none());
    }

    #[test]
    fn leaves_that_are_not_events_are_refused() {
        assert!(matches!(
            LeafEvent::from_leaf(b"{\"seq\":1,\"seq\":2,\"action\":\"x\"}"),
            Err(EventError::NotAnEvent(_))
        ));
        assert!(matches!(
            LeafEvent::from_leaf(b"[]"),
            Err(EventError::NotAnEvent(_))
        ));
        assert!(matches!(
            LeafEvent::from_leaf(b"{\"seq\":1}"),
            Err(EventError::NotAnEvent(_))
        ));
        let minimal = LeafEvent::from_leaf(br#"{"seq":2,"action":"passport.suspended"}"#).unwrap();
        assert_eq!(minimal.known_action(), Some(Action::PassportSuspended));
        assert_eq!(minimal.detail.as_ref(), &Value::Null);
    }
}

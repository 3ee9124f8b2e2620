//! [`ServiceError`]: the one error of every use-case, whichever door called it. It says what
//! went wrong in the application's terms; each door maps it to its own protocol (the admin
//! API: `From<ServiceError> for crate::problem::ApiError`, problem+json).

use crate::app::HSM_UNAVAILABLE;
use crate::plugins::PluginRef;
use hallmark_core::credential::CredentialError;
use hallmark_core::issue::IssueError;
use hallmark_core::keys::SignerError;
use hallmark_core::passport::{PassportError, PassportId, PublishRefused};
use hallmark_core::sector::ValidationIssue;
use hallmark_core::tlog::event::EventError;
use hallmark_keys::{Backend, KeysError};
use hallmark_store::StoreError;

/// Why a use-case was refused or failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ServiceError {
    /// No such passport, version, key or API key.
    #[error("not found")]
    NotFound,
    /// The operation conflicts with the state of what it acts on (a precondition); the text
    /// says which and what to do.
    #[error("{0}")]
    Conflict(String),
    /// Another live passport has the same product identifier.
    #[error("the product identifier {identifier} is already used by {}", match existing {
        Some(id) => format!("passport {id}"),
        None => "a passport that is not deactivated".to_owned(),
    })]
    IdentifierInUse {
        /// The identifier (GS1 element string and granularity).
        identifier: String,
        /// The live passport holding it, when known.
        existing: Option<PassportId>,
    },
    /// The passport does not validate (envelope or sector schema), one entry per issue.
    #[error("the passport is invalid ({} issue(s))", .0.len())]
    Invalid(Vec<ValidationIssue>),
    /// A batch names one external reference twice (items `indexes`); nothing was done.
    #[error("the externalRef {external_ref:?} is given twice in one batch (items {} and {})", indexes.0, indexes.1)]
    DuplicateExternalRef {
        /// The reference.
        external_ref: String,
        /// The two items' indexes.
        indexes: (usize, usize),
    },
    /// An input of the operation is not acceptable (a missing reason, a bad label, …).
    #[error("{0}")]
    Unprocessable(String),
    /// An operator link the resolver may not serve (core's rules), naming the field;
    /// nothing was written.
    #[error(transparent)]
    InvalidLink(#[from] hallmark_core::resolver::ProductLinkError),
    /// The sector plugin found errors; nothing was written.
    #[error("the sector plugin {} {} found errors", plugin.name, plugin.version)]
    PluginRejected {
        /// Which plugin.
        plugin: PluginRef,
        /// All its findings (errors, warnings, info), pointers into the passport.
        findings: Vec<hallmark_sandbox::Finding>,
    },
    /// The sector plugin gave no verdict; nothing but its `plugin.failed` event was written.
    #[error("the sector plugin gave no verdict ({reason}): {detail}")]
    PluginFailed {
        /// The plugin, when one ran.
        plugin: Option<PluginRef>,
        /// Failure mode slug (`out-of-fuel`, `deadline`, …).
        reason: &'static str,
        /// One line: what happened.
        detail: String,
    },
    /// The passport's sector has no AAS mapping (`hallmark_core::aas`: battery only).
    #[error("no AAS rendering for sector {sector} {version}; only battery passports have one")]
    AasUnsupported {
        /// Sector id.
        sector: String,
        /// Sector schema version.
        version: String,
    },
    /// Nothing can be signed now (no current key, HSM unreachable).
    /// The EU registry's answers or an export were refused (docs/registry.md).
    #[error(transparent)]
    Registry(#[from] super::registry::RegistryRefusal),
    #[error("signing unavailable: {0}")]
    SigningUnavailable(String),
    /// A signed reader's request refused (its own problem type: docs/access.md); the
    /// EN 18222 reads of a signed reader answer with it.
    #[error(transparent)]
    Reader(#[from] crate::problem::reader::ReaderRefusal),
    /// A bug or an unexpected failure, logged where it happened; nothing more is said.
    #[error("internal error")]
    Internal,
}

impl ServiceError {
    /// A stable slug for the kind of error (the `reason` label of
    /// `hallmark_publish_failures_total`): a bounded set, never a message.
    pub fn reason(&self) -> &'static str {
        match self {
            ServiceError::NotFound => "not-found",
            ServiceError::Conflict(_) => "conflict",
            ServiceError::IdentifierInUse { .. } => "identifier-in-use",
            ServiceError::Invalid(_) => "invalid",
            ServiceError::DuplicateExternalRef { .. } => "duplicate-external-ref",
            ServiceError::Unprocessable(_) => "unprocessable",
            ServiceError::InvalidLink(_) => "invalid-link",
            ServiceError::PluginRejected { .. } => "plugin-rejected",
            ServiceError::PluginFailed { .. } => "plugin-failed",
            ServiceError::AasUnsupported { .. } => "aas-unsupported",
            ServiceError::Registry(_) => "registry",
            ServiceError::SigningUnavailable(_) => "signing-unavailable",
            ServiceError::Reader(_) => "reader",
            ServiceError::Internal => "internal",
        }
    }

    /// An [`Internal`](Self::Internal) error, logging what happened (never shown to clients).
    pub(crate) fn internal(what: &str, error: impl std::fmt::Display) -> ServiceError {
        tracing::error!(error = %error, "{what}");
        ServiceError::Internal
    }

    /// One envelope issue (a passport that does not even parse or hold its invariants).
    pub(crate) fn invalid(e: impl std::fmt::Display) -> ServiceError {
        ServiceError::Invalid(vec![ValidationIssue {
            pointer: String::new(),
            message: e.to_string(),
        }])
    }
}

impl From<PassportError> for ServiceError {
    fn from(e: PassportError) -> Self {
        ServiceError::invalid(e)
    }
}

impl From<PublishRefused> for ServiceError {
    fn from(e: PublishRefused) -> Self {
        ServiceError::Conflict(e.to_string())
    }
}

/// Not found, conflicts and refused transitions are the caller's business; anything else is
/// logged and internal.
impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(_) => ServiceError::NotFound,
            StoreError::Conflict(d) | StoreError::ImmutableViolation(d) => {
                ServiceError::Conflict(d)
            }
            StoreError::InvalidTransition { from, to } => {
                ServiceError::Conflict(format!("a {from} passport cannot become {to}"))
            }
            StoreError::IdentifierInUse { key, existing } => ServiceError::IdentifierInUse {
                identifier: key,
                existing,
            },
            StoreError::Constraint(d) => ServiceError::Unprocessable(d),
            e @ StoreError::RegistryHashMismatch { .. } => ServiceError::Conflict(e.to_string()),
            other => ServiceError::internal("store operation failed", other),
        }
    }
}

impl From<IssueError> for ServiceError {
    fn from(e: IssueError) -> Self {
        match e {
            IssueError::Invalid(issues) => ServiceError::Invalid(issues),
            IssueError::Passport(e) => ServiceError::invalid(e),
            IssueError::Sector(e) => ServiceError::invalid(e),
            IssueError::Credential(CredentialError::Signer(SignerError::Unavailable(_))) => {
                ServiceError::SigningUnavailable(HSM_UNAVAILABLE.into())
            }
            IssueError::Credential(CredentialError::Signer(e)) => {
                ServiceError::SigningUnavailable(e.to_string())
            }
            other => ServiceError::internal("issuing failed", other),
        }
    }
}

impl From<KeysError> for ServiceError {
    /// Unavailable custody and a missing current key are 503, an unknown key 404, a repeated
    /// revocation 409, a missing reason 422; anything else is logged and becomes a 500.
    fn from(e: KeysError) -> Self {
        match e {
            KeysError::Unavailable { .. } => {
                ServiceError::SigningUnavailable(HSM_UNAVAILABLE.into())
            }
            KeysError::NoCurrentKey(purpose, backend) => {
                ServiceError::SigningUnavailable(match backend {
                    Backend::File => {
                        format!("no current {} key; rotate to create one", purpose.as_str())
                    }
                    Backend::Pkcs11 => format!(
                        "no current {} key in {}; rotate to create one",
                        purpose.as_str(),
                        backend.holder()
                    ),
                })
            }
            KeysError::UnknownKey(..) => ServiceError::NotFound,
            KeysError::AlreadyRevoked(id) => {
                ServiceError::Conflict(format!("key {id} is already revoked"))
            }
            KeysError::EmptyReason => {
                ServiceError::Unprocessable("a revocation reason is required".into())
            }
            other => ServiceError::internal("key custody operation failed", other),
        }
    }
}

impl From<EventError> for ServiceError {
    fn from(e: EventError) -> Self {
        ServiceError::internal("audit event detail", e)
    }
}

impl From<crate::app::SyncError> for ServiceError {
    fn from(e: crate::app::SyncError) -> Self {
        match e {
            crate::app::SyncError::Custody(e) => e.into(),
            crate::app::SyncError::Store(e) => e.into(),
            crate::app::SyncError::Event(e) => e.into(),
            e @ crate::app::SyncError::StatusChange(..) => {
                ServiceError::internal("signing-key sync", e)
            }
        }
    }
}

//! How the service's errors answer over HTTP: `From<ServiceError>` (and the store's errors,
//! read through the service) for [`ApiError`]. An adapter beside `problem`, so that the
//! problem type itself depends on no use-case (the service depends on `auth`, which answers
//! with problems).

use super::{ApiError, RegistryProblem};
use crate::service::ServiceError;

/// A use-case's error as the admin API answers it.
impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        use ServiceError as S;
        match e {
            S::NotFound => ApiError::NotFound,
            S::Conflict(detail) => ApiError::Conflict { detail },
            S::IdentifierInUse {
                identifier,
                existing,
            } => ApiError::IdentifierInUse {
                identifier,
                existing: existing.map(|id| id.uuid().hyphenated().to_string()),
            },
            S::Invalid(issues) => ApiError::Invalid {
                issues: issues.into_iter().map(|i| (i.pointer, i.message)).collect(),
            },
            S::Unprocessable(detail) => ApiError::Unprocessable { detail },
            S::DuplicateExternalRef {
                external_ref,
                indexes,
            } => ApiError::DuplicateExternalRef {
                external_ref,
                indexes,
            },
            S::InvalidLink(e) => ApiError::InvalidLink(e),
            S::PluginRejected { plugin, findings } => ApiError::PluginRejected { plugin, findings },
            S::PluginFailed {
                plugin,
                reason,
                detail,
            } => ApiError::PluginFailed {
                plugin,
                reason,
                detail,
            },
            S::AasUnsupported { sector, version } => ApiError::AasUnsupported { sector, version },
            S::Registry(refusal) => {
                use crate::service::registry::RegistryRefusal as R;
                let problem = match &refusal {
                    R::HashMismatch(_) => RegistryProblem::HashMismatch,
                    R::Conflict(_) => RegistryProblem::Conflict,
                    R::InvalidFile(_) => RegistryProblem::InvalidFile,
                    R::NoBackupLink => RegistryProblem::NoBackupLink,
                };
                ApiError::Registry {
                    problem,
                    detail: refusal.to_string(),
                }
            }
            S::SigningUnavailable(detail) => ApiError::SigningUnavailable { detail },
            S::Reader(refusal) => ApiError::ReaderRefused(refusal),
            S::Internal => ApiError::Internal,
        }
    }
}

/// A store error as the API answers it (the service's reading of it: not found, conflicts
/// and refused transitions are the client's business; anything else is logged, 500).
impl From<hallmark_store::StoreError> for ApiError {
    fn from(e: hallmark_store::StoreError) -> Self {
        ServiceError::from(e).into()
    }
}

/// A restricted read's error: its refusal's own problem type, a suspended passport 410, or
/// the service's error.
impl From<crate::service::restricted::RestrictedError> for ApiError {
    fn from(e: crate::service::restricted::RestrictedError) -> Self {
        use crate::service::restricted::RestrictedError as R;
        match e {
            R::Refused(r) => ApiError::ReaderRefused(r),
            R::Suspended(reason) => ApiError::Gone { reason },
            R::Service(e) => e.into(),
        }
    }
}

//! Typed store errors, and the mapping from database errors (including the `hallmark:`
//! messages raised by the schema's triggers) to them.

/// Why a store operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The passport, version, key or row does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The operation conflicts with the stored state (duplicate, wrong version number,
    /// not in a state that allows it).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Another passport that is not deactivated already has this product identifier at
    /// this granularity: the database's unique index `passports_live_identifier` refused the
    /// row (so this holds under concurrency, and for any writer).
    #[error("the product identifier {key} is already used by {}", match existing {
        Some(id) => format!("passport {id}"),
        None => "a passport that is not deactivated".to_owned(),
    })]
    IdentifierInUse {
        /// The identifier (GS1 element string and granularity).
        key: String,
        /// The live passport that has it (`None` if it was deactivated in the meantime).
        existing: Option<hallmark_core::passport::PassportId>,
    },
    /// The status list position drawn for a passport at its first publication is another
    /// passport's: nothing was written; draw again.
    #[error("status list {list} position {index} is taken by another passport")]
    StatusIndexTaken {
        /// The list number.
        list: u32,
        /// The position.
        index: u32,
    },
    /// A status list version to store is not the list's latest version + 1 (another write
    /// stored one first): nothing was written; re-read the latest, re-sign and retry.
    #[error("status list {purpose}/{list}: the next version is {expected}, not {got}")]
    StatusListConflict {
        /// The list's purpose.
        purpose: crate::model::StatusPurpose,
        /// The list number.
        list: u32,
        /// The latest stored version + 1.
        expected: u32,
        /// The version given.
        got: u32,
    },
    /// The hash the EU DPP registry gave for a passport version is not the SHA-256 of that
    /// version's public Data Integrity credential (what the node serves at
    /// `…/versions/<n>`): nothing was recorded.
    #[error(
        "the registry's hash {given} is not the SHA-256 of version {version} of passport \
         {passport} ({served}, its public credential); nothing was recorded"
    )]
    RegistryHashMismatch {
        /// The passport.
        passport: hallmark_core::passport::PassportId,
        /// The version.
        version: u32,
        /// The hash given (lowercase hex).
        given: String,
        /// The SHA-256 of the version's public credential (lowercase hex).
        served: String,
    },
    /// The operation would change something permanent (a published version, an audit
    /// event, a terminal passport, a revoked key); refused by the database's triggers or by
    /// the store before reaching them.
    #[error("refused, permanent data: {0}")]
    ImmutableViolation(String),
    /// A lifecycle status change the lifecycle does not allow.
    #[error("invalid status transition {from} -> {to}")]
    InvalidTransition {
        /// The current status (`?` when the database did not say).
        from: String,
        /// The requested status (`?` when the database did not say).
        to: String,
    },
    /// The database role lacks the privilege for the statement (PostgreSQL `42501`).
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    /// A value violates a table constraint (CHECK, NOT NULL, foreign key).
    #[error("constraint violated: {0}")]
    Constraint(String),
    /// The application role is over-privileged (PostgreSQL start-up check).
    #[error(transparent)]
    Privilege(#[from] PrivilegeError),
    /// Schema migration failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// A stored row does not decode to the domain model.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// Invalid configuration (URL, role name, path).
    #[error("configuration: {0}")]
    Config(String),
    /// Any other database or connection error.
    #[error("database: {0}")]
    Database(String),
    /// A connection could not be made (server down, wrong credentials, no such database).
    #[error("cannot connect with the {which} URL {url}: {detail}")]
    Connect {
        /// Which URL: `migration` or `application`.
        which: &'static str,
        /// The URL without its password.
        url: String,
        /// Why.
        detail: String,
    },
}

/// Why the node refuses to serve with the configured PostgreSQL application role. Each
/// variant names the excess privilege so the operator knows what to revoke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrivilegeError {
    /// The role is a superuser (bypasses every permission and can disable triggers).
    #[error("the application role `{role}` is a superuser; use a role without SUPERUSER")]
    Superuser {
        /// The role.
        role: String,
    },
    /// The role may create roles (and in PostgreSQL 15 grant itself their memberships).
    #[error("the application role `{role}` has CREATEROLE; revoke it")]
    CreateRole {
        /// The role.
        role: String,
    },
    /// The role bypasses row-level security.
    #[error("the application role `{role}` has BYPASSRLS; revoke it")]
    BypassRls {
        /// The role.
        role: String,
    },
    /// The role owns (or is a member of the owner of) the database.
    #[error("the application role owns the database `{database}`; the migration role must own it")]
    OwnsDatabase {
        /// The database.
        database: String,
    },
    /// The role owns (or is a member of the owner of) the schema.
    #[error("the application role owns the schema `{schema}`; the migration role must own it")]
    OwnsSchema {
        /// The schema.
        schema: String,
    },
    /// The role owns (or is a member of the owner of) a table, so could alter or drop its
    /// triggers.
    #[error("the application role owns table `{table}`; the migration role must own it")]
    OwnsTable {
        /// The table.
        table: String,
    },
    /// The role may create objects in the schema.
    #[error("the application role has CREATE on schema `{schema}`; revoke it")]
    CanCreateInSchema {
        /// The schema.
        schema: String,
    },
    /// The role holds DELETE on a table.
    #[error("the application role has DELETE on table `{table}`; revoke it")]
    HasDelete {
        /// The table.
        table: String,
    },
    /// The role holds TRUNCATE on a table (TRUNCATE fires no row triggers).
    #[error("the application role has TRUNCATE on table `{table}`; revoke it")]
    HasTruncate {
        /// The table.
        table: String,
    },
    /// The role holds TRIGGER on a table (could add its own triggers).
    #[error("the application role has TRIGGER on table `{table}`; revoke it")]
    HasTrigger {
        /// The table.
        table: String,
    },
    /// The role holds table-wide UPDATE on an append-only table.
    #[error("the application role has UPDATE on append-only table `{table}`; revoke it")]
    HasUpdate {
        /// The table.
        table: String,
    },
    /// The schema has not been migrated (the check needs the tables to exist).
    #[error("schema `{schema}` has no Hallmark tables; run migrations first")]
    NotMigrated {
        /// The schema.
        schema: String,
    },
}

pub(crate) type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Name of the unique partial index that keeps one live passport per product identifier
/// (PostgreSQL migration 0006, SQLite 0004).
pub(crate) const LIVE_IDENTIFIER_INDEX: &str = "passports_live_identifier";

/// Whether `e` is the refusal of the live-identifier index. Both backends name the index
/// in the message (PostgreSQL: `duplicate key value violates unique constraint
/// "passports_live_identifier"`; SQLite: `UNIQUE constraint failed: index
/// 'passports_live_identifier'`).
pub(crate) fn is_identifier_conflict(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|db| {
        matches!(db.kind(), sqlx::error::ErrorKind::UniqueViolation)
            && (db.constraint() == Some(LIVE_IDENTIFIER_INDEX)
                || db.message().contains(LIVE_IDENTIFIER_INDEX))
    })
}

/// Whether `e` is the refusal of a second passport at a status list position: the unique
/// constraint `passport_status_indexes_position` (PostgreSQL names it; SQLite names the
/// columns `passport_status_indexes.list, passport_status_indexes.position`).
pub(crate) fn is_status_index_taken(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|db| {
        matches!(db.kind(), sqlx::error::ErrorKind::UniqueViolation)
            && (db.constraint() == Some("passport_status_indexes_position")
                || db.message().contains("passport_status_indexes.position"))
    })
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound("row".to_owned()),
            sqlx::Error::Database(db) => {
                let message = db.message().to_owned();
                if let Some(err) = from_trigger_message(&message) {
                    return err;
                }
                let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
                if code == "42501" {
                    return StoreError::PermissionDenied(message);
                }
                match db.kind() {
                    sqlx::error::ErrorKind::UniqueViolation => StoreError::Conflict(message),
                    sqlx::error::ErrorKind::ForeignKeyViolation
                    | sqlx::error::ErrorKind::CheckViolation
                    | sqlx::error::ErrorKind::NotNullViolation => StoreError::Constraint(message),
                    _ => StoreError::Database(format!("{message} (code {code})")),
                }
            }
            other => StoreError::Database(other.to_string()),
        }
    }
}

/// Maps a trigger's `hallmark:<category>: …` message to a typed error.
fn from_trigger_message(message: &str) -> Option<StoreError> {
    let start = message.find("hallmark:")?;
    let rest = &message[start + "hallmark:".len()..];
    if let Some(detail) = rest.strip_prefix("immutable:") {
        return Some(StoreError::ImmutableViolation(detail.trim().to_owned()));
    }
    if let Some(detail) = rest.strip_prefix("conflict:") {
        return Some(StoreError::Conflict(detail.trim().to_owned()));
    }
    if let Some(detail) = rest.strip_prefix("transition:") {
        // PostgreSQL says `hallmark:transition:<from>:<to>`; SQLite cannot format and says
        // a sentence instead.
        let (from, to) = match detail.split_once(':') {
            Some((f, t)) if !f.contains(' ') && !t.contains(' ') => (f.to_owned(), t.to_owned()),
            _ => ("?".to_owned(), "?".to_owned()),
        };
        return Some(StoreError::InvalidTransition { from, to });
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn trigger_messages_map_to_typed_errors() {
        assert_eq!(
            from_trigger_message("hallmark:transition:archived:published"),
            Some(StoreError::InvalidTransition {
                from: "archived".into(),
                to: "published".into()
            })
        );
        assert!(matches!(
            from_trigger_message("hallmark:transition: the lifecycle does not allow this"),
            Some(StoreError::InvalidTransition { .. })
        ));
        assert!(matches!(
            from_trigger_message("hallmark:immutable: x"),
            Some(StoreError::ImmutableViolation(m)) if m == "x"
        ));
        assert!(matches!(
            from_trigger_message("hallmark:conflict: y"),
            Some(StoreError::Conflict(_))
        ));
        assert_eq!(from_trigger_message("syntax error"), None);
    }
}

//! The admin listener's management API under `/api/v1`. Authentication is a tower layer
//! (see `edge::admin_router`); each route carries its required scope as a route layer.
//!
//! Publishing (and the `validate` dry run) checks a passport in two stages: the sector's JSON
//! Schema (`issue::validate`), then the sector's plugin, if one is loaded (`crate::plugins`).

use crate::api::requests::{NewApiKey, Reason};
use crate::api::responses::{
    ApiKeyCreated, ApiKeyInfo, ApiKeyList, AudienceCredentials, AuditEntry, CurrentVersion,
    DraftCreated, DraftSaved, FailureDetail, History, Issue, KeyChange, PassportDetail,
    PassportPage, PassportSummary, PendingDraft, PluginFailure, PluginReport, PluginVerdict,
    Published, SignedCredential, SigningKeyInfo, SigningKeyList, ValidationReport, Whoami,
};
use crate::api::{reply, Timestamp};
use crate::apikey::Scope;
use crate::app::{event_error, store_error, AppState};
use crate::auth::{require, Principal};
use crate::backing::{create_api_key, key_uuid, CreateKeyError};
use crate::plugins::{one_line, Verdict};
use crate::problem::{ApiError, ApiJson};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put, MethodRouter};
use axum::{Json, Router};
use hallmark_core::credential::CredentialError;
use hallmark_core::issue::{self, IssueError};
use hallmark_core::keys::KeyId;
use hallmark_core::keys::SignerError;
use hallmark_core::passport::{Passport, PassportDraft, PassportId, PassportStatus};
use hallmark_core::tlog::event::{Action, CredentialHashes, Detail, Publication, StatusChanged};
use hallmark_store::{
    AuditEvent, Credentials, NewPassport, NewVersion, PassportFilter, PassportRecord, ProductKey,
    SignedForms, MAX_PAGE,
};
use serde::Deserialize;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

/// Every admin route: method, path, required scope. Drives the router, the OpenAPI
/// document and the scope-matrix test.
pub const ROUTES: &[(&str, &str, Scope)] = &[
    ("GET", "/api/v1/whoami", Scope::Read),
    ("GET", "/api/v1/passports", Scope::Read),
    ("POST", "/api/v1/passports", Scope::Write),
    ("POST", "/api/v1/passports/validate", Scope::Write),
    ("GET", "/api/v1/passports/{id}", Scope::Read),
    ("PUT", "/api/v1/passports/{id}/draft", Scope::Write),
    ("POST", "/api/v1/passports/{id}/publish", Scope::Write),
    ("POST", "/api/v1/passports/{id}/versions", Scope::Write),
    ("POST", "/api/v1/passports/{id}/suspend", Scope::Write),
    ("POST", "/api/v1/passports/{id}/resume", Scope::Write),
    ("POST", "/api/v1/passports/{id}/archive", Scope::Write),
    ("POST", "/api/v1/passports/{id}/deactivate", Scope::Write),
    ("GET", "/api/v1/passports/{id}/history", Scope::Read),
    ("GET", "/api/v1/api-keys", Scope::Admin),
    ("POST", "/api/v1/api-keys", Scope::Admin),
    ("POST", "/api/v1/api-keys/{id}/revoke", Scope::Admin),
    ("GET", "/api/v1/signing-keys", Scope::Admin),
    ("POST", "/api/v1/signing-keys/rotate", Scope::Admin),
    ("POST", "/api/v1/signing-keys/{id}/revoke", Scope::Admin),
    ("GET", "/openapi.json", Scope::Read),
];

/// The handler of a route in [`ROUTES`]; `None` for an unknown pair (a unit test checks
/// that every row has one, so the router is exactly the table).
fn handler(method: &str, path: &str) -> Option<MethodRouter<AppState>> {
    let tail = path.strip_prefix("/api/v1").unwrap_or(path);
    Some(match (method, tail) {
        ("GET", "/whoami") => get(whoami),
        ("GET", "/passports") => get(list),
        ("POST", "/passports") => post(create),
        ("POST", "/passports/validate") => post(validate_dry_run),
        ("GET", "/passports/{id}") => get(read_one),
        ("PUT", "/passports/{id}/draft") => put(update_draft),
        ("POST", "/passports/{id}/publish") => post(publish),
        ("POST", "/passports/{id}/versions") => post(start_version),
        ("POST", "/passports/{id}/suspend") => post(suspend),
        ("POST", "/passports/{id}/resume") => post(resume),
        ("POST", "/passports/{id}/archive") => post(archive),
        ("POST", "/passports/{id}/deactivate") => post(deactivate),
        ("GET", "/passports/{id}/history") => get(history),
        ("GET", "/api-keys") => get(list_keys),
        ("POST", "/api-keys") => post(new_key),
        ("POST", "/api-keys/{id}/revoke") => post(revoke_key),
        ("GET", "/signing-keys") => get(signing_keys),
        ("POST", "/signing-keys/rotate") => post(rotate),
        ("POST", "/signing-keys/{id}/revoke") => post(revoke_signing_key),
        ("GET", "/openapi.json") => get(openapi),
        _ => return None,
    })
}

/// The admin routes, built from [`ROUTES`], each behind its scope (wrap with
/// [`crate::edge::admin_router`]).
pub fn routes(state: AppState) -> Router {
    let mut router = Router::new();
    for (method, path, scope) in ROUTES {
        match handler(method, path) {
            Some(h) => router = router.route(path, h.route_layer(require(*scope))),
            None => tracing::error!(%method, %path, "admin route without a handler"),
        }
    }
    router.with_state(state)
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// The actor recorded in audit events.
pub fn actor(p: &Principal) -> String {
    match p {
        Principal::ApiKey { key_id, .. } => format!("api-key:{key_id}"),
        Principal::Admin { username } => format!("admin:{username}"),
    }
}

fn audit(p: &Principal, action: Action, passport: Option<&PassportId>) -> AuditEvent {
    let mut e = AuditEvent::of(now(), &actor(p), action);
    e.passport = passport.copied();
    e
}

fn parse_id(s: &str) -> Result<PassportId, ApiError> {
    let s = s.strip_prefix("urn:uuid:").unwrap_or(s);
    let uuid = Uuid::try_parse(s).map_err(|_| ApiError::NotFound)?;
    PassportId::from_uuid(uuid).map_err(|_| ApiError::NotFound)
}

fn invalid(e: impl std::fmt::Display) -> ApiError {
    ApiError::Invalid {
        issues: vec![(String::new(), e.to_string())],
    }
}

fn issue_error(e: IssueError) -> ApiError {
    match e {
        IssueError::Invalid(issues) => ApiError::Invalid {
            issues: issues.into_iter().map(|i| (i.pointer, i.message)).collect(),
        },
        IssueError::Passport(e) => invalid(e),
        IssueError::Sector(e) => invalid(e),
        IssueError::Credential(CredentialError::Signer(SignerError::Unavailable(_))) => {
            ApiError::SigningUnavailable {
                detail: crate::app::HSM_UNAVAILABLE.into(),
            }
        }
        IssueError::Credential(CredentialError::Signer(e)) => ApiError::SigningUnavailable {
            detail: e.to_string(),
        },
        other => {
            tracing::error!(error = %other, "issuing failed");
            ApiError::Internal
        }
    }
}

fn new_passport_id() -> Result<PassportId, ApiError> {
    use rand_core::RngCore;
    let mut random = [0u8; 10];
    rand_core::OsRng
        .try_fill_bytes(&mut random)
        .map_err(|_| ApiError::Internal)?;
    let millis = u64::try_from(now().unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
    PassportId::from_parts(millis, random).map_err(|_| ApiError::Internal)
}

/// A draft passport (status draft) from a client submission.
fn draft_passport(
    body: &Value,
    id: PassportId,
    version: u32,
    created_at: Option<OffsetDateTime>,
) -> Result<Passport, ApiError> {
    let input = PassportDraft::from_json_value(body).map_err(invalid)?;
    let now = now();
    let mut p = Passport::new_draft(input, id, created_at.unwrap_or(now)).map_err(invalid)?;
    p.version = version;
    p.updated_at = now.max(p.created_at);
    p.validate().map_err(invalid)?;
    Ok(p)
}

/// A passport's product identifier and granularity are fixed for life (they are what makes
/// it the one live passport of its product): a draft of a later version, or an edit, that
/// names another is refused. A passport stored before identifiers had columns is checked
/// on its GTIN only.
fn same_product(record: &PassportRecord, passport: &Passport) -> Result<(), ApiError> {
    let same = match &record.product {
        Some(key) => key.matches(&passport.product, passport.granularity),
        None => record.gtin == passport.product.gtin().as_gtin14(),
    };
    if same {
        return Ok(());
    }
    let fixed = record
        .product
        .as_ref()
        .map_or_else(|| format!("(01){}", record.gtin), ToString::to_string);
    Err(ApiError::Conflict {
        detail: format!(
            "a passport's product identifier never changes: this passport is for {fixed}; \
             create a new passport for another product"
        ),
    })
}

/// Sector validation as a report (issues, not an error).
fn report(app: &AppState, p: &Passport) -> Result<ValidationReport, ApiError> {
    match issue::validate(p, app.registry) {
        Ok(_) => Ok(ValidationReport {
            valid: true,
            issues: Vec::new(),
            plugin: None,
        }),
        Err(IssueError::Invalid(issues)) => Ok(ValidationReport {
            valid: false,
            issues: issues.into_iter().map(Issue::from).collect(),
            plugin: None,
        }),
        Err(e) => Err(issue_error(e)),
    }
}

/// Runs the sector plugin over the passport's sector data. A plugin that gives no verdict is
/// recorded as a `plugin.failed` audit event and answered 503 `plugin-failed`; findings of
/// severity `error` are answered 422 `plugin-findings`. Otherwise the verdict (possibly with
/// warnings) is returned.
async fn plugin_gate(
    app: &AppState,
    p: &Principal,
    passport_id: Option<&PassportId>,
    passport: &Passport,
    during: &str,
) -> Result<Verdict, ApiError> {
    match app.plugins.check(&passport.sector, &passport.data).await {
        Ok(Verdict::Checked { plugin, findings })
            if findings
                .iter()
                .any(|f| f.severity == hallmark_sandbox::Severity::Error) =>
        {
            Err(ApiError::PluginRejected { plugin, findings })
        }
        Ok(verdict) => Ok(verdict),
        Err(e) => {
            let detail = one_line(&e.to_string(), 300);
            tracing::warn!(target: "hallmark::audit", reason = e.reason(), %detail, "sector plugin gave no verdict");
            let mut a = audit(p, Action::PluginFailed, passport_id);
            a.detail = json!({
                "during": during,
                "sector": passport.sector.id,
                "schemaVersion": passport.sector.schema_version,
                "plugin": e.plugin(),
                "reason": e.reason(),
                "error": detail,
            });
            if let Err(err) = app.store.append_audit(a).await {
                tracing::error!(target: "hallmark::audit", error = %err, "could not store the plugin.failed audit event");
            }
            Err(ApiError::PluginFailed {
                plugin: e.plugin().cloned(),
                reason: e.reason(),
                detail,
            })
        }
    }
}

/// What a draft write or the dry run reports: the JSON Schema issues and, when the schema
/// holds, the sector plugin's verdict — so `valid` means publishable. A plugin without a
/// verdict is recorded (`plugin.failed`); the dry run (`during == "dry-run"`) then answers
/// 503 as publishing would, while a draft write is still saved and reported not valid.
async fn draft_report(
    app: &AppState,
    p: &Principal,
    passport_id: Option<&PassportId>,
    passport: &Passport,
    during: &str,
) -> Result<ValidationReport, ApiError> {
    let mut r = report(app, passport)?;
    if !r.valid {
        return Ok(r);
    }
    match plugin_gate(app, p, passport_id, passport, during).await {
        Ok(verdict) => r.plugin = PluginVerdict::of(verdict).map(PluginReport::Checked),
        Err(ApiError::PluginRejected { plugin, findings }) => {
            r.valid = false;
            r.plugin = Some(PluginReport::Checked(PluginVerdict::new(plugin, findings)));
        }
        Err(ApiError::PluginFailed {
            plugin,
            reason,
            detail,
        }) if during != "dry-run" => {
            r.valid = false;
            r.plugin = Some(PluginReport::Failed(PluginFailure {
                name: plugin.as_ref().map(|p| p.name.clone()),
                version: plugin.as_ref().map(|p| p.version.clone()),
                failed: FailureDetail { reason, detail },
            }));
        }
        Err(e) => return Err(e),
    }
    Ok(r)
}

fn to_vec(v: &impl serde::Serialize) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(v).map_err(|_| ApiError::Internal)
}

fn summary(r: &PassportRecord) -> PassportSummary {
    PassportSummary::from(r)
}

async fn whoami(p: Principal) -> Result<Json<Value>, ApiError> {
    reply(&match &p {
        Principal::ApiKey { key_id, scope } => Whoami::ApiKey {
            key_id: *key_id,
            scope: scope.as_str(),
        },
        Principal::Admin { username } => Whoami::Admin {
            username: username.clone(),
            scope: Scope::Admin.as_str(),
        },
    })
}

async fn openapi(State(app): State<AppState>) -> Result<Json<Value>, ApiError> {
    crate::openapi::answer(crate::openapi::admin_document(&app))
}

async fn create(
    State(app): State<AppState>,
    p: Principal,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let id = new_passport_id()?;
    let passport = draft_passport(&body, id, 1, None)?;
    let validation = draft_report(&app, &p, None, &passport, "draft").await?;
    let mut a = audit(&p, Action::PassportDraftCreated, Some(&id));
    a.detail = json!({ "version": 1 });
    let record = app
        .store
        .create_draft(
            NewPassport {
                id,
                product: ProductKey::new(&passport.product, passport.granularity),
                sector_id: passport.sector.id.clone(),
                economic_operator_id: passport.economic_operator_id.clone(),
                content: to_vec(&passport)?,
            },
            a,
        )
        .await
        .map_err(store_error)?;
    let body = DraftCreated {
        passport: summary(&record),
        draft_version: 1,
        validation,
    };
    Ok((StatusCode::CREATED, reply(&body)?).into_response())
}

async fn validate_dry_run(
    State(app): State<AppState>,
    p: Principal,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    let id = new_passport_id()?;
    match draft_passport(&body, id, 1, None) {
        Ok(passport) => reply(&draft_report(&app, &p, None, &passport, "dry-run").await?),
        Err(ApiError::Invalid { issues }) => reply(&ValidationReport {
            valid: false,
            issues: issues
                .into_iter()
                .map(|(pointer, message)| Issue { pointer, message })
                .collect(),
            plugin: None,
        }),
        Err(e) => Err(e),
    }
}

async fn update_draft(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    let record = app.store.get_passport(&id).await.map_err(store_error)?;
    let draft = app
        .store
        .get_draft(&id)
        .await
        .map_err(store_error)?
        .ok_or_else(|| ApiError::Conflict {
            detail: "this passport has no pending draft; start a new version first".into(),
        })?;
    let passport = draft_passport(&body, id, draft.version, Some(record.created_at))?;
    same_product(&record, &passport)?;
    let validation = draft_report(&app, &p, Some(&id), &passport, "draft").await?;
    let mut a = audit(&p, Action::PassportDraftUpdated, Some(&id));
    a.detail = json!({ "version": draft.version });
    let d = app
        .store
        .update_draft(&id, to_vec(&passport)?, a)
        .await
        .map_err(store_error)?;
    reply(&DraftSaved {
        id: id.uuid(),
        draft_version: d.version,
        validation,
    })
}

async fn start_version(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let record = app.store.get_passport(&id).await.map_err(store_error)?;
    let version = record.current_version + 1;
    let passport = draft_passport(&body, id, version, Some(record.created_at))?;
    same_product(&record, &passport)?;
    let validation = draft_report(&app, &p, Some(&id), &passport, "draft").await?;
    let mut a = audit(&p, Action::PassportVersionStarted, Some(&id));
    a.detail = json!({ "version": version });
    let d = app
        .store
        .start_version(&id, to_vec(&passport)?, a)
        .await
        .map_err(store_error)?;
    let body = DraftSaved {
        id: id.uuid(),
        draft_version: d.version,
        validation,
    };
    Ok((StatusCode::CREATED, reply(&body)?).into_response())
}

async fn publish(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    let (record, draft) = app.store.get_pending(&id).await.map_err(store_error)?;
    let draft = draft.ok_or_else(|| ApiError::Conflict {
        detail: "nothing to publish: this passport has no pending draft".into(),
    })?;
    if record.status == PassportStatus::Suspended {
        return Err(ApiError::Conflict {
            detail: "the passport is suspended; resume it before publishing a new version".into(),
        });
    }
    let mut passport = Passport::from_json_slice(&draft.content).map_err(|e| {
        tracing::error!(error = %e, "stored draft does not parse");
        ApiError::Internal
    })?;
    // The database keeps one live passport per identifier in the row's columns; the node
    // signs only a draft that names the same identifier (a draft row written past the API
    // cannot publish under another product's identifier).
    same_product(&record, &passport)?;
    let now = now();
    passport.status = PassportStatus::Published;
    passport.version = draft.version;
    passport.published_at = Some(record.published_at.unwrap_or(now));
    passport.updated_at = now.max(passport.updated_at);
    issue::validate(&passport, app.registry).map_err(issue_error)?;
    let verdict = plugin_gate(&app, &p, Some(&id), &passport, "publish").await?;
    let last = app.last_known_signing_key().await;
    let signer = app.signing.passport_signer(last.as_deref())?;
    let mut forms = Vec::with_capacity(3);
    let mut digests = Vec::with_capacity(3);
    // One more schema validation inside (issue_all validates before it signs), not one per
    // audience.
    let issued = app
        .issuer
        .issue_all(&passport, app.registry, signer.as_ref(), now)
        .map_err(issue_error)?;
    for (audience, c) in issued {
        digests.push((audience, c.sha256));
        forms.push(SignedForms {
            data_integrity: c.data_integrity,
            jwt: c.jwt,
        });
    }
    let (Some(authority), Some(legitimate_interest), Some(public)) =
        (forms.pop(), forms.pop(), forms.pop())
    else {
        return Err(ApiError::Internal);
    };
    let key_id = signer.key_id().to_string();
    let mut a = audit(&p, Action::PassportPublished, Some(&id));
    // The log leaf of this event commits to the exact credential bytes served (SHA-256 of
    // each audience's Data Integrity credential).
    let hashes = CredentialHashes::from_audiences(digests.iter().map(|(a, d)| (*a, d)))
        .ok_or(ApiError::Internal)?;
    a.detail = Publication {
        version: draft.version,
        key_id: key_id.clone(),
        credential_sha256: Some(hashes),
    }
    .to_value()
    .map_err(event_error)?;
    let published = app
        .store
        .publish_with_seq(
            &id,
            NewVersion {
                version: draft.version,
                content: to_vec(&passport)?,
                key_id,
                signed_at: now,
                credentials: Credentials {
                    public,
                    legitimate_interest,
                    authority,
                },
            },
            a,
        )
        .await;
    app.passport_states.invalidate(&id);
    let (v, seq) = published.map_err(store_error)?;
    let base = &app.issuer.base_url;
    // The transparency-log leaf of this publish event (leaf index = audit seq - 1).
    let log_index = seq.saturating_sub(1);
    reply(&Published {
        id: id.uuid(),
        version: v.version,
        status: PassportStatus::Published.as_str(),
        key_id: v.key_id,
        url: format!("{base}/passports/{}", id.uuid()),
        version_url: format!("{base}/passports/{}/versions/{}", id.uuid(), v.version),
        plugin: PluginVerdict::of(verdict),
        log_index,
        log_inclusion_url: format!("{base}/log/proof/inclusion?index={log_index}"),
        log_checkpoint_url: format!("{base}/log/checkpoint"),
    })
}

fn reason(r: Option<String>, required: bool) -> Result<Option<String>, ApiError> {
    let r = r.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    match r {
        None if required => Err(ApiError::Unprocessable {
            detail: "a non-empty `reason` is required".into(),
        }),
        Some(s) if s.chars().count() > 1000 => Err(ApiError::Unprocessable {
            detail: "`reason` is limited to 1000 characters".into(),
        }),
        other => Ok(other),
    }
}

async fn transition(
    app: &AppState,
    p: &Principal,
    id: &str,
    to: PassportStatus,
    reason: Option<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(id)?;
    let action = match to {
        PassportStatus::Suspended => Action::PassportSuspended,
        PassportStatus::Published => Action::PassportResumed,
        PassportStatus::Archived => Action::PassportArchived,
        _ => Action::PassportDeactivated,
    };
    let mut a = audit(p, action, Some(&id));
    a.detail = StatusChanged {
        reason: reason.clone(),
    }
    .to_value()
    .map_err(event_error)?;
    let r = app.store.change_status(&id, to, reason, a).await;
    app.passport_states.invalidate(&id);
    let r = r.map_err(store_error)?;
    reply(&summary(&r))
}

async fn suspend(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Reason>,
) -> Result<Json<Value>, ApiError> {
    let r = reason(body.reason, true)?;
    transition(&app, &p, &id, PassportStatus::Suspended, r).await
}

async fn resume(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    transition(&app, &p, &id, PassportStatus::Published, None).await
}

async fn archive(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Reason>,
) -> Result<Json<Value>, ApiError> {
    let r = reason(body.reason, false)?;
    transition(&app, &p, &id, PassportStatus::Archived, r).await
}

async fn deactivate(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Reason>,
) -> Result<Json<Value>, ApiError> {
    let r = reason(body.reason, true)?;
    transition(&app, &p, &id, PassportStatus::Deactivated, r).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    status: Option<String>,
    sector: Option<String>,
    gtin: Option<String>,
    after: Option<String>,
    limit: Option<u32>,
}

async fn list(
    State(app): State<AppState>,
    q: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = q.map_err(|e| ApiError::BadRequest {
        detail: e.body_text(),
    })?;
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(
            s.parse::<PassportStatus>()
                .map_err(|_| ApiError::BadRequest {
                    detail: "status must be draft, published, suspended, archived or deactivated"
                        .into(),
                })?,
        ),
    };
    let after = match q.after.as_deref() {
        None => None,
        Some(s) => Some(parse_id(s).map_err(|_| ApiError::BadRequest {
            detail: "after must be a passport id (UUIDv7)".into(),
        })?),
    };
    let limit = q.limit.unwrap_or(50).clamp(1, MAX_PAGE);
    let filter = PassportFilter {
        status,
        sector_id: q.sector,
        gtin: q.gtin,
    };
    let page = app
        .store
        .list_passports(&filter, after.as_ref(), limit)
        .await
        .map_err(store_error)?;
    reply(&PassportPage {
        items: page.items.iter().map(summary).collect(),
        next: page.next.map(|n| n.uuid()),
    })
}

fn forms_json(f: &SignedForms) -> SignedCredential {
    SignedCredential::from(f)
}

async fn read_one(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    let record = app.store.get_passport(&id).await.map_err(store_error)?;
    let mut body = PassportDetail {
        passport: summary(&record),
        draft: None,
        current: None,
    };
    if let Some(d) = app.store.get_draft(&id).await.map_err(store_error)? {
        body.draft = Some(PendingDraft {
            version: d.version,
            passport: serde_json::from_slice::<Value>(&d.content).unwrap_or(Value::Null),
            updated_at: Timestamp(d.updated_at),
        });
    }
    if record.current_version > 0 {
        let v = app
            .store
            .get_version(&id, None)
            .await
            .map_err(store_error)?;
        body.current = Some(CurrentVersion {
            version: v.version,
            key_id: v.key_id,
            signed_at: Timestamp(v.signed_at),
            passport: serde_json::from_slice::<Value>(&v.content).unwrap_or(Value::Null),
            credentials: AudienceCredentials {
                public: forms_json(&v.credentials.public),
                legitimate_interest: forms_json(&v.credentials.legitimate_interest),
                authority: forms_json(&v.credentials.authority),
            },
        });
    }
    reply(&body)
}

async fn history(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    app.store.get_passport(&id).await.map_err(store_error)?;
    let events = app.store.history(&id).await.map_err(store_error)?;
    reply(&History {
        events: events.iter().map(AuditEntry::from).collect(),
    })
}

async fn new_key(
    State(app): State<AppState>,
    p: Principal,
    ApiJson(body): ApiJson<NewApiKey>,
) -> Result<Response, ApiError> {
    let scope: Scope = body.scope.parse().map_err(|e| ApiError::Unprocessable {
        detail: format!("{e}"),
    })?;
    let label = body.label.trim();
    if label.is_empty() || label.chars().count() > 200 {
        return Err(ApiError::Unprocessable {
            detail: "`label` must be 1 to 200 characters".into(),
        });
    }
    let expires_at = match body.expires_at.as_deref() {
        None => None,
        Some(s) => {
            let t = OffsetDateTime::parse(s, &Rfc3339).map_err(|_| ApiError::Unprocessable {
                detail: "`expiresAt` must be an RFC 3339 timestamp".into(),
            })?;
            if t <= now() {
                return Err(ApiError::Unprocessable {
                    detail: "`expiresAt` must be in the future".into(),
                });
            }
            Some(t)
        }
    };
    let (key, record) = create_api_key(
        app.store.as_ref(),
        &app.integrity,
        scope,
        label,
        expires_at,
        &actor(&p),
        now(),
    )
    .await
    .map_err(|e| match e {
        CreateKeyError::Store(e) => store_error(e),
        CreateKeyError::Randomness(e) => {
            tracing::error!(error = %e, "no randomness for an API key");
            ApiError::Internal
        }
    })?;
    let body = ApiKeyCreated {
        info: ApiKeyInfo::from(&record),
        key: key.expose_secret().to_string(),
        note: "store this key now: it is shown once and cannot be recovered",
    };
    Ok((StatusCode::CREATED, reply(&body)?).into_response())
}

async fn list_keys(State(app): State<AppState>) -> Result<Json<Value>, ApiError> {
    let keys = app.store.list_api_keys().await.map_err(store_error)?;
    reply(&ApiKeyList {
        items: keys.iter().map(ApiKeyInfo::from).collect(),
    })
}

async fn revoke_key(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    // `id` is the key's lookup prefix (as listed) or its id.
    let keys = app.store.list_api_keys().await.map_err(store_error)?;
    let record = keys
        .into_iter()
        .find(|k| k.prefix == id || key_uuid(&k.prefix).to_string() == id)
        .ok_or(ApiError::NotFound)?;
    if p.key_id() == Some(key_uuid(&record.prefix)) {
        return Err(ApiError::Conflict {
            detail: "an API key cannot revoke itself; revoke it with another admin key or the \
                     admin login, so that a leaked key cannot lock out its owner's audit trail"
                .into(),
        });
    }
    let mut a = audit(&p, Action::ApiKeyRevoked, None);
    a.subject = Some(record.prefix.clone());
    a.detail = json!({ "keyId": key_uuid(&record.prefix) });
    let r = app.store.revoke_api_key(&record.prefix, a).await;
    // After the commit (or a failure): this node's next request with the key reads it again.
    app.api_keys.invalidate(&record.prefix);
    let r = r.map_err(store_error)?;
    reply(&ApiKeyInfo::from(&r))
}

async fn signing_keys(State(app): State<AppState>) -> Result<Json<Value>, ApiError> {
    let keys = app.store.list_signing_keys().await.map_err(store_error)?;
    reply(&SigningKeyList {
        signing_available: app.signing.is_ready(),
        items: keys.iter().map(SigningKeyInfo::from).collect(),
    })
}

async fn rotate(State(app): State<AppState>, p: Principal) -> Result<Json<Value>, ApiError> {
    let event = app.signing.rotate(now())?;
    app.sync_signing_keys(&actor(&p), now()).await?;
    reply(&KeyChange { event })
}

async fn revoke_signing_key(
    State(app): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Reason>,
) -> Result<Json<Value>, ApiError> {
    let r = reason(body.reason, true)?.unwrap_or_default();
    let key = KeyId::parse(&id).map_err(|_| ApiError::NotFound)?;
    let event = app.signing.revoke(&key, &r, now())?;
    app.sync_signing_keys(&actor(&p), now()).await?;
    reply(&KeyChange { event })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn every_route_in_the_table_has_a_handler_and_appears_once() {
        let mut seen = std::collections::BTreeSet::new();
        for (method, path, _) in ROUTES {
            assert!(handler(method, path).is_some(), "{method} {path}");
            assert!(seen.insert((method, path)), "{method} {path} twice");
        }
    }
}

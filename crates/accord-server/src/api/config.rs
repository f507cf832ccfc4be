//! `/v1/config`: the whole set of SLA-as-code documents, applied all or nothing and read
//! back; and read-only views of what it declares (`/v1/calendars`, `/v1/agreements`,
//! `/v1/services`).

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use accord_core::policy::{self, AgreementType, ConfigChange, Diagnostic, Level};
use accord_store::{ConfigFile, Customer, Scope, Store, Viewer};

use crate::AppState;
use crate::error::{ApiError, FieldError, Problem};
use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::live_config::{LiveConfig, file_in, load_files};
use crate::wall_clock;

/// Largest number of files in one configuration.
const MAX_FILES: usize = 1000;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigFileBody {
    /// Relative path in the configuration directory (`sla.yaml`, `holidays/us.ics`).
    pub path: String,
    pub text: String,
}

/// The whole configuration: every YAML file and every file they reference.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigBody {
    pub files: Vec<ConfigFileBody>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ApplyQuery {
    /// Check and show the changes without applying them.
    #[serde(default)]
    pub dry_run: bool,
    /// Allow changing or removing agreement versions already in force (every clock
    /// started under them is then re-derived).
    #[serde(default)]
    pub retroactive: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeView {
    /// calendar, agreement, customer, service, team, supplier or channel.
    pub kind: String,
    pub id: String,
    /// For agreements: the version.
    pub version: Option<u32>,
    /// added, changed or removed.
    pub change: String,
}

impl From<&ConfigChange> for ChangeView {
    fn from(c: &ConfigChange) -> Self {
        Self {
            kind: c.kind.to_owned(),
            id: c.id.clone(),
            version: c.version,
            change: serde_json::to_value(c.change)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplyOutcome {
    /// The revision in force after this request (unchanged on a dry run or no change).
    pub revision: Option<i64>,
    /// Whether a new revision was stored.
    pub applied: bool,
    pub changes: Vec<ChangeView>,
    /// Doubts worth a look (objectives that cannot match, overlaps), located.
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConfigView {
    pub revision: Option<i64>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub applied_at: Option<jiff::Timestamp>,
    pub files: Vec<ConfigFileBody>,
}

fn check_path(path: &str) -> Result<(), String> {
    if path.is_empty() || path.len() > 512 {
        return Err("a path is 1 to 512 characters".into());
    }
    if path.starts_with('/')
        || path.contains('\\')
        || path
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..")
    {
        return Err(format!(
            "{path:?} must be a plain relative path (no leading /, no . or .. parts)"
        ));
    }
    Ok(())
}

fn diagnostics_error(diagnostics: Vec<Diagnostic>) -> ApiError {
    let detail = match diagnostics.as_slice() {
        [one] => format!("the configuration has a mistake: {one}"),
        many => format!(
            "the configuration has {} mistakes; the first: {}",
            many.len(),
            many[0]
        ),
    };
    ApiError::Invalid {
        detail,
        errors: diagnostics
            .into_iter()
            .map(|d| FieldError {
                index: None,
                field: d.path,
                message: d.message,
                file: Some(d.file),
                line: d.line,
                column: d.column,
            })
            .collect(),
    }
}

/// Applies the whole set of SLA-as-code documents, all or nothing.
#[utoipa::path(put, path = "/v1/config", tag = "config", request_body = ConfigBody, params(ApplyQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Applied (or, with dry_run, checked); the changes", body = ApplyOutcome),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It would rewrite agreement versions already in force without `retroactive`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Mistakes, each with its file, line, column and key path", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_config<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ApplyQuery>,
    ApiJson(body): ApiJson<ConfigBody>,
) -> Result<Json<ApplyOutcome>, ApiError> {
    caller.require_admin()?;
    if body.files.len() > MAX_FILES {
        return Err(ApiError::invalid(
            "files",
            format!("at most {MAX_FILES} files"),
        ));
    }
    let mut seen = BTreeSet::new();
    let mut field_errors = Vec::new();
    for (i, f) in body.files.iter().enumerate() {
        if let Err(e) = check_path(&f.path) {
            field_errors.push(FieldError {
                index: Some(i),
                ..FieldError::new("path", e)
            });
        } else if !seen.insert(f.path.as_str()) {
            field_errors.push(FieldError {
                index: Some(i),
                ..FieldError::new("path", format!("{:?} is sent twice", f.path))
            });
        }
    }
    if !field_errors.is_empty() {
        let detail = format!(
            "files[{}].path: {}",
            field_errors[0].index.unwrap_or(0),
            field_errors[0].message
        );
        return Err(ApiError::Invalid {
            detail,
            errors: field_errors,
        });
    }
    let files: Vec<ConfigFile> = body
        .files
        .into_iter()
        .map(|f| ConfigFile {
            path: f.path,
            text: f.text,
        })
        .collect();
    apply_files(
        &app,
        &caller.actor(),
        files,
        query.dry_run,
        query.retroactive,
    )
    .await
    .map(Json)
}

/// Applies a whole configuration, all or nothing (the logic behind `PUT /v1/config`, also
/// used by `accord demo` to apply the examples).
pub async fn apply_files<S: Store>(
    app: &AppState<S>,
    actor: &accord_store::Actor,
    files: Vec<ConfigFile>,
    dry_run: bool,
    retroactive: bool,
) -> Result<ApplyOutcome, ApiError> {
    let loaded = load_files(&files).map_err(diagnostics_error)?;
    let now = wall_clock::now();
    let current = app.config.get();
    let changes = policy::diff(
        &current.config,
        &|p| current.file(p),
        &loaded.config,
        &|p| file_in(&files, p),
    );
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    let rewritten = policy::retroactive(&current.config, &changes, now);
    if !rewritten.is_empty() && !retroactive {
        let names: Vec<String> = rewritten
            .iter()
            .map(|a| format!("`{}` version {}", a.id(), a.doc.version))
            .collect();
        return Err(ApiError::Conflict(format!(
            "this changes or removes agreement versions already in force ({}): every clock started under them would be re-derived. \
             To change terms from a date on, add a new version with `effective.from`; to rewrite history on purpose, apply with retroactive=true",
            names.join(", ")
        )));
    }
    let unchanged_files = current.files == files;
    if dry_run || (changes.is_empty() && unchanged_files) {
        return Ok(ApplyOutcome {
            revision: current.revision,
            applied: false,
            changes: changes.iter().map(ChangeView::from).collect(),
            warnings,
        });
    }
    let customers = loaded
        .config
        .customers
        .iter()
        .map(|c| {
            Ok(Customer {
                id: c.id.value.parse().map_err(|e: accord_core::IdError| {
                    ApiError::invalid("customer", e.to_string())
                })?,
                name: c.name.clone(),
                tier: c.tier.clone(),
                region: c.region.clone(),
                timezone: c.timezone.as_ref().map(|t| t.value.clone()),
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let summary = serde_json::json!({
        "changes": changes,
        "files": files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(),
        "retroactive": !rewritten.is_empty(),
    });
    let revision = app
        .store
        .apply_config(actor, files.clone(), customers, summary, now)
        .await?;
    tracing::info!(revision, changes = changes.len(), "configuration applied");
    app.config.set(LiveConfig {
        revision: Some(revision),
        applied_at: Some(now),
        files,
        config: loaded.config,
    });
    // Every clock is a function of the configuration: derive them all again (through
    // the deriver, so no derivation under the old configuration lands after these),
    // and answer once they are stored.
    app.pending.derive(app.store.ticket_ids().await?);
    app.pending.settled(CONFIG_SETTLE_LIMIT).await;
    Ok(ApplyOutcome {
        revision: Some(revision),
        applied: true,
        changes: changes.iter().map(ChangeView::from).collect(),
        warnings,
    })
}

/// How long applying a configuration waits for every clock to be derived again before
/// answering (the derivation goes on in the background past it).
const CONFIG_SETTLE_LIMIT: std::time::Duration = std::time::Duration::from_secs(300);

/// The configuration in force, as the files applied (what `accord export` writes).
#[utoipa::path(get, path = "/v1/config", tag = "config", security(("bearer" = [])),
    responses(
        (status = 200, body = ConfigView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_config<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
) -> Result<Json<ConfigView>, ApiError> {
    caller.require_admin()?;
    let live = app.config.get();
    Ok(Json(ConfigView {
        revision: live.revision,
        applied_at: live.applied_at,
        files: live
            .files
            .iter()
            .map(|f| ConfigFileBody {
                path: f.path.clone(),
                text: f.text.clone(),
            })
            .collect(),
    }))
}

/// A list of configuration documents, as JSON.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentList {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<serde_json::Value>,
    /// Always null: configuration lists come whole.
    pub next: Option<String>,
}

fn list(items: Vec<serde_json::Value>) -> Json<DocumentList> {
    Json(DocumentList { items, next: None })
}

/// The calendars of the configuration in force.
#[utoipa::path(get, path = "/v1/calendars", tag = "config", security(("bearer" = [])),
    responses((status = 200, body = DocumentList), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn list_calendars<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
) -> Result<Json<DocumentList>, ApiError> {
    caller.require(Scope::Read)?;
    let live = app.config.get();
    Ok(list(
        live.config
            .calendars
            .iter()
            .filter_map(|c| serde_json::to_value(&c.doc).ok())
            .collect(),
    ))
}

/// The service catalogue.
#[utoipa::path(get, path = "/v1/services", tag = "config", security(("bearer" = [])),
    responses((status = 200, body = DocumentList), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn list_services<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
) -> Result<Json<DocumentList>, ApiError> {
    caller.require(Scope::Read)?;
    let live = app.config.get();
    Ok(list(
        live.config
            .services
            .iter()
            .filter_map(|s| serde_json::to_value(s).ok())
            .collect(),
    ))
}

/// Every agreement version. A customer-bound token sees the SLAs that cover its customer
/// (corporate ones, and its own); OLAs and underpinning contracts are internal.
#[utoipa::path(get, path = "/v1/agreements", tag = "config", security(("bearer" = [])),
    responses((status = 200, body = DocumentList), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn list_agreements<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
) -> Result<Json<DocumentList>, ApiError> {
    caller.require(Scope::Read)?;
    let live = app.config.get();
    let viewer = caller.viewer();
    let visible = |a: &policy::Agreement| match &viewer {
        Viewer::Everything => true,
        Viewer::Customer(own) => {
            a.doc.agreement_type == AgreementType::Sla
                && match &a.doc.customer {
                    Some(c) => c.value == own.as_str(),
                    None => a.doc.level == Level::Corporate,
                }
        }
    };
    Ok(list(
        live.config
            .agreements
            .iter()
            .filter(|a| visible(a))
            .filter_map(|a| serde_json::to_value(&a.doc).ok())
            .collect(),
    ))
}

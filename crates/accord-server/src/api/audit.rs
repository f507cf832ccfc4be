//! `/v1/audit`: who changed what, when (admin only).

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use accord_store::{AuditEntry, Store};

use super::ListQuery;
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiQuery, Caller};

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    pub seq: i64,
    #[schema(value_type = String, format = DateTime)]
    pub at: jiff::Timestamp,
    /// `system` or `token:<id>`.
    pub actor: String,
    /// e.g. `token.create`, `customer.update`.
    pub action: String,
    pub target: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

impl From<AuditEntry> for AuditView {
    fn from(e: AuditEntry) -> Self {
        Self {
            seq: e.seq,
            at: e.at,
            actor: e.actor,
            action: e.action,
            target: e.target,
            detail: e.detail,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditView>,
    /// Cursor for the next page (`?after=`), null on the last page.
    pub next: Option<String>,
}

/// The audit log, oldest first.
#[utoipa::path(get, path = "/v1/audit", tag = "audit", params(ListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = AuditPage),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_audit<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    caller.require_admin()?;
    let page = app.store.list_audit(&query.page()?).await?;
    Ok(Json(AuditPage {
        items: page.items.into_iter().map(AuditView::from).collect(),
        next: page.next,
    }))
}

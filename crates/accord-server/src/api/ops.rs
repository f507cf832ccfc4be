//! Health, metrics and the OpenAPI document: outside `/v1`, no token needed.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;

use accord_store::Store;

use crate::AppState;
use crate::error::{ApiError, Problem};

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// `ok` when the database answered.
    pub database: String,
}

/// Healthy when the database answers.
#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses(
        (status = 200, description = "The server and its database are up", body = Health),
        (status = 503, description = "The database does not answer", body = Problem,
            content_type = "application/problem+json"),
    ))]
pub async fn healthz<S: Store>(State(app): State<AppState<S>>) -> Result<Json<Health>, ApiError> {
    app.store.health().await.map_err(|e| {
        tracing::warn!(error = %e, "health check failed");
        ApiError::Unavailable("the database does not answer".into())
    })?;
    Ok(Json(Health {
        status: "ok".into(),
        database: "ok".into(),
    }))
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Prometheus text format", body = String,
        content_type = "text/plain; version=0.0.4")))]
pub async fn metrics<S: Store>(State(app): State<AppState<S>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app.metrics.render(),
    )
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(get, path = "/openapi.json", tag = "ops",
    responses((status = 200, description = "The OpenAPI document", body = Object)))]
pub async fn openapi_json() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        super::openapi_json(),
    )
}

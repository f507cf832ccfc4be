//! The HTTP API: routes, their OpenAPI description, and the pieces they share.

mod audit;
mod availability;
mod cases;
pub mod config;
mod customers;
pub mod events;
mod notifications;
mod ops;
mod public;
mod tokens;

use axum::Router;
use axum::routing::{delete, get};
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};

use accord_store::{PageRequest, Store, TokenRecord};

use crate::AppState;
use crate::error::{ApiError, FieldError, Problem};

/// The OpenAPI document of every route (served at `/openapi.json`, committed as
/// `docs/openapi.json`; a test fails when the two drift).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Accord",
        description = "Accord, the service-level-agreement engine: its HTTP API. \
            Everything under /v1 needs `Authorization: Bearer <token>`; errors are RFC 9457 \
            problem documents.",
        license(name = "Apache-2.0")
    ),
    paths(
        ops::healthz,
        ops::metrics,
        ops::openapi_json,
        tokens::create_token,
        tokens::list_tokens,
        tokens::revoke_token,
        customers::list_customers,
        customers::get_customer,
        config::put_config,
        config::get_config,
        config::list_calendars,
        config::list_agreements,
        config::list_services,
        events::post_events,
        events::get_ticket,
        events::list_clocks,
        audit::list_audit,
        notifications::list_notifications,
        notifications::retry_notification,
        cases::list_cases,
        cases::get_case,
        cases::record_step,
        availability::post_probes,
        availability::get_report,
        availability::list_credits,
    ),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerAuth),
    tags(
        (name = "ops", description = "Health, metrics and this document"),
        (name = "tokens", description = "API tokens (admin)"),
        (name = "customers", description = "The provider's customers (declared in SLA-as-code)"),
        (name = "config", description = "SLA-as-code: apply, export, and what it declares"),
        (name = "tickets", description = "Ticket events in, clocks out"),
        (name = "audit", description = "Who changed what (admin)"),
        (name = "notifications", description = "Warnings, breaches and escalations sent, waiting or dead (admin)"),
        (name = "breach cases", description = "The response to each breach, step by step"),
        (name = "availability", description = "Probes, the period report, credits"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
        }
    }
}

/// The OpenAPI document as pretty JSON, ending in a newline (the committed form).
pub fn openapi_json() -> String {
    let mut json = ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    json.push('\n');
    json
}

/// Every route. Routes outside `/v1` need no token.
pub fn routes<S: Store>() -> Router<AppState<S>> {
    Router::new()
        .route("/healthz", get(ops::healthz::<S>))
        .route("/metrics", get(ops::metrics::<S>))
        .route("/openapi.json", get(ops::openapi_json))
        .route("/status/{customer}", get(public::status_page::<S>))
        .route("/badge/{agreement}/{objective}", get(public::badge::<S>))
        .route(
            "/v1/tokens",
            get(tokens::list_tokens::<S>).post(tokens::create_token::<S>),
        )
        .route("/v1/tokens/{id}", delete(tokens::revoke_token::<S>))
        .route("/v1/customers", get(customers::list_customers::<S>))
        .route("/v1/customers/{id}", get(customers::get_customer::<S>))
        .route(
            "/v1/config",
            get(config::get_config::<S>).put(config::put_config::<S>),
        )
        .route("/v1/calendars", get(config::list_calendars::<S>))
        .route("/v1/agreements", get(config::list_agreements::<S>))
        .route("/v1/services", get(config::list_services::<S>))
        .route("/v1/events", axum::routing::post(events::post_events::<S>))
        .route("/v1/tickets/{id}", get(events::get_ticket::<S>))
        .route("/v1/clocks", get(events::list_clocks::<S>))
        .route("/v1/audit", get(audit::list_audit::<S>))
        .route(
            "/v1/notifications",
            get(notifications::list_notifications::<S>),
        )
        .route(
            "/v1/notifications/{id}/retry",
            axum::routing::post(notifications::retry_notification::<S>),
        )
        .route("/v1/breach-cases", get(cases::list_cases::<S>))
        .route(
            "/v1/probes",
            axum::routing::post(availability::post_probes::<S>),
        )
        .route("/v1/report", get(availability::get_report::<S>))
        .route("/v1/credits", get(availability::list_credits::<S>))
        .route("/v1/breach-cases/{id}", get(cases::get_case::<S>))
        .route(
            "/v1/breach-cases/{id}/steps/{step}",
            axum::routing::post(cases::record_step::<S>),
        )
}

/// `?limit=&after=` on every list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Items per page, 1 to 1000 (default 100).
    pub limit: Option<u32>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
}

impl ListQuery {
    pub fn page(self) -> Result<PageRequest, ApiError> {
        let limit = self.limit.unwrap_or(accord_store::DEFAULT_PAGE);
        if !(1..=accord_store::MAX_PAGE).contains(&limit) {
            return Err(ApiError::invalid(
                "limit",
                format!(
                    "must be between 1 and {} (got {limit})",
                    accord_store::MAX_PAGE
                ),
            ));
        }
        Ok(PageRequest::new(limit, self.after))
    }
}

/// A token scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ScopeName {
    Admin,
    Ingest,
    Read,
}

impl From<ScopeName> for accord_store::Scope {
    fn from(s: ScopeName) -> Self {
        match s {
            ScopeName::Admin => Self::Admin,
            ScopeName::Ingest => Self::Ingest,
            ScopeName::Read => Self::Read,
        }
    }
}

impl From<accord_store::Scope> for ScopeName {
    fn from(s: accord_store::Scope) -> Self {
        match s {
            accord_store::Scope::Admin => Self::Admin,
            accord_store::Scope::Ingest => Self::Ingest,
            accord_store::Scope::Read => Self::Read,
        }
    }
}

/// An API token as lists show it (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    pub id: String,
    pub label: String,
    pub scope: ScopeName,
    /// The one customer this token may read, when it is bound to one.
    pub customer: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<jiff::Timestamp>,
}

impl From<TokenRecord> for TokenView {
    fn from(t: TokenRecord) -> Self {
        Self {
            id: t.id,
            label: t.label,
            scope: t.scope.into(),
            customer: t.customer.map(|c| c.to_string()),
            created_at: t.created_at,
            revoked_at: t.revoked_at,
        }
    }
}

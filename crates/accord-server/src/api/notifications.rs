//! `/v1/notifications`: the outbox of warnings, breaches and escalations (admin only):
//! what was sent, what is waiting, what died and can be tried again.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use accord_store::{OutboxMessage, Store};

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiPath, ApiQuery, Caller};
use crate::wall_clock;

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    /// The fact's key and the target: the same on every attempt.
    pub id: String,
    /// The fact's idempotency key (the message's `id`).
    pub fact: String,
    /// `webhook:ID`, `chat:ID`, `email:ADDRESS`, …
    pub target: String,
    /// `pending`, `delivered` or `dead`.
    pub state: String,
    pub attempts: u32,
    #[schema(value_type = String, format = DateTime)]
    pub next_attempt_at: jiff::Timestamp,
    pub last_error: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub delivered_at: Option<jiff::Timestamp>,
    /// The message as sent.
    #[schema(value_type = Object)]
    pub message: serde_json::Value,
}

impl From<OutboxMessage> for NotificationView {
    fn from(m: OutboxMessage) -> Self {
        Self {
            message: serde_json::from_str(&m.body).unwrap_or(serde_json::Value::Null),
            id: m.id,
            fact: m.fact,
            target: m.target,
            state: m.state,
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at,
            last_error: m.last_error,
            created_at: m.created_at,
            delivered_at: m.delivered_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationPage {
    pub items: Vec<NotificationView>,
    /// Cursor for the next page (`?after=`), null on the last page.
    pub next: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// `pending`, `delivered` or `dead`.
    pub state: Option<String>,
    pub limit: Option<u32>,
    pub after: Option<String>,
}

/// Messages, oldest first (`?state=dead` lists the dead letters).
#[utoipa::path(get, path = "/v1/notifications", tag = "notifications", params(NotificationQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = NotificationPage),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_notifications<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiQuery(query): ApiQuery<NotificationQuery>,
) -> Result<Json<NotificationPage>, ApiError> {
    caller.require_admin()?;
    if let Some(state) = &query.state
        && !["pending", "delivered", "dead"].contains(&state.as_str())
    {
        return Err(ApiError::invalid(
            "state",
            format!("must be pending, delivered or dead (got {state:?})"),
        ));
    }
    let page = super::ListQuery {
        limit: query.limit,
        after: query.after,
    }
    .page()?;
    let page = app.store.list_outbox(query.state.as_deref(), &page).await?;
    Ok(Json(NotificationPage {
        items: page.items.into_iter().map(NotificationView::from).collect(),
        next: page.next,
    }))
}

/// Tries a dead message again now (a message that is not dead is left as it is).
#[utoipa::path(post, path = "/v1/notifications/{id}/retry", tag = "notifications",
    params(("id" = String, Path, description = "The message id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = NotificationView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn retry_notification<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<NotificationView>, ApiError> {
    caller.require_admin()?;
    let message = app
        .store
        .retry_delivery(&caller.actor(), &id, wall_clock::now())
        .await?;
    app.wake.messages_queued.notify_one();
    Ok(Json(message.into()))
}

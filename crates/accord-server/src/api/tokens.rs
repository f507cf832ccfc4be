//! `/v1/tokens`: create, list and revoke API tokens (admin only).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use accord_core::CustomerId;
use accord_store::{NewToken, Scope, Store};

use super::{ListQuery, ScopeName, TokenView};
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::token;
use crate::wall_clock;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    pub scope: ScopeName,
    /// Binds a `read` token to one customer: it then reads that customer's data only.
    pub customer: Option<String>,
    /// A note for people: who or what uses the token.
    #[serde(default)]
    pub label: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    /// The secret. Shown this once: Accord keeps only its digest.
    pub token: String,
    #[serde(flatten)]
    pub record: TokenView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPage {
    pub items: Vec<TokenView>,
    /// Cursor for the next page (`?after=`), null on the last page.
    pub next: Option<String>,
}

/// Creates a token and returns its secret once.
#[utoipa::path(post, path = "/v1/tokens", tag = "tokens", request_body = CreateToken,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; the secret is in `token`", body = CreatedToken),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_token<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    caller.require_admin()?;
    let scope = Scope::from(body.scope);
    let customer = match body.customer {
        None => None,
        Some(c) if scope == Scope::Read => Some(
            c.parse::<CustomerId>()
                .map_err(|e| ApiError::invalid("customer", e.to_string()))?,
        ),
        Some(_) => {
            return Err(ApiError::invalid(
                "customer",
                format!("only a read token can be bound to a customer (this one is {scope})"),
            ));
        }
    };
    if body.label.chars().count() > 200 {
        return Err(ApiError::invalid("label", "at most 200 characters"));
    }
    let secret = token::generate_secret().map_err(|e| ApiError::Internal(e.to_string()))?;
    let new = NewToken {
        id: token::generate_id().map_err(|e| ApiError::Internal(e.to_string()))?,
        label: body.label,
        scope,
        customer,
        digest: token::digest(secret.expose_secret()),
    };
    let record = app
        .store
        .create_token(&caller.actor(), new, wall_clock::now())
        .await?;
    tracing::info!(token = %record.id, scope = %record.scope, "token created");
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            token: secret.expose_secret().to_owned(),
            record: record.into(),
        }),
    ))
}

/// Lists every token (revoked ones too), oldest first.
#[utoipa::path(get, path = "/v1/tokens", tag = "tokens", params(ListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = TokenPage),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_tokens<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<TokenPage>, ApiError> {
    caller.require_admin()?;
    let page = app.store.list_tokens(&query.page()?).await?;
    Ok(Json(TokenPage {
        items: page.items.into_iter().map(TokenView::from).collect(),
        next: page.next,
    }))
}

/// Revokes a token: it stops working at once. Revoking twice is harmless.
#[utoipa::path(delete, path = "/v1/tokens/{id}", tag = "tokens",
    params(("id" = String, Path, description = "The token id (`tok_…`)")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Revoked", body = TokenView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke_token<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<TokenView>, ApiError> {
    caller.require_admin()?;
    let record = app
        .store
        .revoke_token(&caller.actor(), &id, wall_clock::now())
        .await?;
    tracing::info!(token = %record.id, "token revoked");
    Ok(Json(record.into()))
}

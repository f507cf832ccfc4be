//! Request extractors whose rejections are problem documents, and the caller's identity.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use accord_store::{Actor, Scope, Store, TokenRecord, Viewer};

use crate::AppState;
use crate::error::ApiError;
use crate::token;

/// `axum::Json` with problem-document rejections.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let axum::Json(value) = axum::Json::<T>::from_request(req, state).await?;
        Ok(ApiJson(value))
    }
}

/// `axum::extract::Query` with problem-document rejections.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Query(value) =
            axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(ApiQuery(value))
    }
}

/// `axum::extract::Path` with problem-document rejections.
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(value) =
            axum::extract::Path::<T>::from_request_parts(parts, state).await?;
        Ok(ApiPath(value))
    }
}

/// The authenticated caller: the live token the request carried.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token: TokenRecord,
}

impl Caller {
    /// Refuses (403) unless the token's scope allows `needed`.
    pub fn require(&self, needed: Scope) -> Result<(), ApiError> {
        if self.token.scope.allows(needed) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "this needs a token with scope {needed} (or admin); this token has scope {}",
                self.token.scope
            )))
        }
    }

    /// Refuses (403) unless the token is an unbound admin token.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        self.require(Scope::Admin)
    }

    /// What this caller may read.
    pub fn viewer(&self) -> Viewer {
        self.token.viewer()
    }

    /// How the audit log names this caller.
    pub fn actor(&self) -> Actor {
        Actor::Token(self.token.id.clone())
    }
}

impl<S: Store> FromRequestParts<AppState<S>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState<S>) -> Result<Self, ApiError> {
        let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            ApiError::Unauthorized(
                "this needs an API token: send it as `Authorization: Bearer <token>`".into(),
            )
        })?;
        let secret = value
            .to_str()
            .ok()
            .and_then(|v| {
                let (scheme, rest) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            })
            .filter(|secret| !secret.is_empty())
            .ok_or_else(|| {
                ApiError::Unauthorized("the Authorization header must be `Bearer <token>`".into())
            })?;
        let token = state
            .store
            .token_by_digest(&token::digest(secret))
            .await?
            .ok_or_else(|| {
                ApiError::Unauthorized("the API token is not valid (unknown or revoked)".into())
            })?;
        Ok(Caller { token })
    }
}

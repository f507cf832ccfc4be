//! `/v1/customers`: the provider's customers. A customer-bound token sees its own only.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use accord_core::CustomerId;
use accord_store::{Change, Customer, Scope, Store};

use super::ListQuery;
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::wall_clock;

/// A customer of the provider.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerView {
    pub id: String,
    pub name: String,
    /// e.g. `gold`, `silver`, `bronze`.
    pub tier: Option<String>,
    pub region: Option<String>,
    /// IANA time zone name.
    pub timezone: Option<String>,
}

impl From<Customer> for CustomerView {
    fn from(c: Customer) -> Self {
        Self {
            id: c.id.to_string(),
            name: c.name,
            tier: c.tier,
            region: c.region,
            timezone: c.timezone,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerPage {
    pub items: Vec<CustomerView>,
    /// Cursor for the next page (`?after=`), null on the last page.
    pub next: Option<String>,
}

/// The body of `PUT /v1/customers/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerBody {
    pub name: String,
    pub tier: Option<String>,
    pub region: Option<String>,
    /// IANA time zone name, e.g. `Europe/Paris`.
    pub timezone: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PutOutcome {
    /// `created`, `updated` or `unchanged`.
    pub change: String,
}

fn customer_id(raw: &str) -> Result<CustomerId, ApiError> {
    raw.parse()
        .map_err(|e: accord_core::IdError| ApiError::invalid("id", e.to_string()))
}

/// The customers this token may see, by id.
#[utoipa::path(get, path = "/v1/customers", tag = "customers", params(ListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = CustomerPage),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_customers<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<CustomerPage>, ApiError> {
    caller.require(Scope::Read)?;
    let page = app
        .store
        .list_customers(&caller.viewer(), &query.page()?)
        .await?;
    Ok(Json(CustomerPage {
        items: page.items.into_iter().map(CustomerView::from).collect(),
        next: page.next,
    }))
}

/// One customer. A token bound to another customer gets 404, as if it did not exist.
#[utoipa::path(get, path = "/v1/customers/{id}", tag = "customers",
    params(("id" = String, Path, description = "Customer id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = CustomerView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_customer<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<CustomerView>, ApiError> {
    caller.require(Scope::Read)?;
    let id = customer_id(&id)?;
    app.store
        .get_customer(&caller.viewer(), &id)
        .await?
        .map(|c| Json(c.into()))
        .ok_or_else(|| ApiError::NotFound(format!("no customer {:?}", id.as_str())))
}

/// Creates or replaces a customer (admin).
#[utoipa::path(put, path = "/v1/customers/{id}", tag = "customers",
    params(("id" = String, Path, description = "Customer id")),
    request_body = CustomerBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = PutOutcome),
        (status = 200, description = "Updated or unchanged", body = PutOutcome),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_customer<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<CustomerBody>,
) -> Result<(StatusCode, Json<PutOutcome>), ApiError> {
    caller.require_admin()?;
    let id = customer_id(&id)?;
    if body.name.trim().is_empty() {
        return Err(ApiError::invalid("name", "must not be empty"));
    }
    if let Some(tz) = &body.timezone
        && jiff::tz::db().get(tz).is_err()
    {
        return Err(ApiError::invalid(
            "timezone",
            format!("{tz:?} is not an IANA time zone name (e.g. Europe/Paris)"),
        ));
    }
    let customer = Customer {
        id,
        name: body.name,
        tier: body.tier,
        region: body.region,
        timezone: body.timezone,
    };
    let change = app
        .store
        .put_customer(&caller.actor(), customer, wall_clock::now())
        .await?;
    let status = if change == Change::Created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let change = match change {
        Change::Created => "created",
        Change::Updated => "updated",
        Change::Unchanged => "unchanged",
    };
    Ok((
        status,
        Json(PutOutcome {
            change: change.into(),
        }),
    ))
}

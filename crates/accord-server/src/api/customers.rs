//! `/v1/customers`: the provider's customers, as declared in SLA-as-code (`kind:
//! customer`). A customer-bound token sees its own only.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use accord_core::CustomerId;
use accord_store::{Customer, Scope, Store};

use super::ListQuery;
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiPath, ApiQuery, Caller};

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

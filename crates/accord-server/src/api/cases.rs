//! `/v1/breach-cases`: every breach opens a case, worked through the steps of a breach
//! response (decided in `docs/decisions.md`): listed per customer and period for
//! reports (read; a customer-bound token sees its own), each step recorded with who and
//! when (admin).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use accord_store::{BreachCase, CASE_STEPS, CaseFilter, Scope, Store};

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::wall_clock;

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseView {
    /// The breach fact's key (`T-1:sla:first_response:1:breach`).
    pub id: String,
    pub ticket: String,
    pub customer: Option<String>,
    pub agreement_type: String,
    pub agreement: String,
    pub objective: String,
    pub metric: String,
    pub cycle: u32,
    #[schema(value_type = String, format = DateTime)]
    pub breached_at: jiff::Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub opened_at: jiff::Timestamp,
    /// `open`, `closed` (every step done) or `withdrawn` (a late event undid the breach).
    pub state: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<jiff::Timestamp>,
    /// The first step not done yet, in the usual order.
    pub next_step: Option<String>,
    /// Step name → `{"at", "by", …fields}` for each step done.
    #[schema(value_type = Object)]
    pub steps: Map<String, Value>,
}

impl From<BreachCase> for CaseView {
    fn from(c: BreachCase) -> Self {
        Self {
            next_step: c.next_step().map(str::to_owned),
            id: c.id,
            ticket: c.ticket,
            customer: c.customer,
            agreement_type: c.agreement_type,
            agreement: c.agreement,
            objective: c.objective,
            metric: c.metric,
            cycle: c.cycle,
            breached_at: c.breached_at,
            opened_at: c.opened_at,
            state: c.state,
            closed_at: c.closed_at,
            steps: c.steps,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CasePage {
    pub items: Vec<CaseView>,
    /// Cursor for the next page (`?after=`), null on the last page.
    pub next: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
    pub customer: Option<String>,
    /// `open`, `closed` or `withdrawn`.
    pub state: Option<String>,
    pub ticket: Option<String>,
    /// Breached at or after this instant (RFC 3339).
    pub from: Option<String>,
    /// Breached before this instant (RFC 3339).
    pub to: Option<String>,
    pub limit: Option<u32>,
    pub after: Option<String>,
}

fn instant(field: &str, value: &Option<String>) -> Result<Option<jiff::Timestamp>, ApiError> {
    value
        .as_deref()
        .map(|v| {
            v.parse().map_err(|e| {
                ApiError::invalid(
                    field,
                    format!("{v:?} is not an instant such as 2026-10-01T00:00:00Z: {e}"),
                )
            })
        })
        .transpose()
}

/// Breach cases by breach instant: `?customer=&from=&to=` is one customer's period.
#[utoipa::path(get, path = "/v1/breach-cases", tag = "breach cases", params(CaseQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = CasePage),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_cases<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiQuery(query): ApiQuery<CaseQuery>,
) -> Result<Json<CasePage>, ApiError> {
    caller.require(Scope::Read)?;
    if let Some(state) = &query.state
        && !["open", "closed", "withdrawn"].contains(&state.as_str())
    {
        return Err(ApiError::invalid(
            "state",
            format!("must be open, closed or withdrawn (got {state:?})"),
        ));
    }
    let filter = CaseFilter {
        customer: query.customer,
        state: query.state,
        ticket: query.ticket,
        from: instant("from", &query.from)?,
        to: instant("to", &query.to)?,
    };
    let page = super::ListQuery {
        limit: query.limit,
        after: query.after,
    }
    .page()?;
    let page = app
        .store
        .list_breach_cases(&caller.viewer(), &filter, &page)
        .await?;
    Ok(Json(CasePage {
        items: page.items.into_iter().map(CaseView::from).collect(),
        next: page.next,
    }))
}

/// One breach case with its steps.
#[utoipa::path(get, path = "/v1/breach-cases/{id}", tag = "breach cases",
    params(("id" = String, Path, description = "The case id (its breach's key)")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = CaseView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_case<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<CaseView>, ApiError> {
    caller.require(Scope::Read)?;
    app.store
        .breach_case(&caller.viewer(), &id)
        .await?
        .map(|c| Json(c.into()))
        .ok_or_else(|| ApiError::NotFound(format!("no breach case {id:?}")))
}

/// Records a step of a case as done now by the caller. Fields by step:
/// `team_alerted` `{note?}`; `owner` `{owner}`; `root_cause` `{category, description}`;
/// `customer_notified` `{message?}` (without one, the `breach_customer.txt` template
/// writes it); `service_restored` `{note?}`; `customer_informed` `{message}`; `review`
/// `{target_realistic, configured_right, impact_team, impact_customer,
/// preventive_action}`.
#[utoipa::path(post, path = "/v1/breach-cases/{id}/steps/{step}", tag = "breach cases",
    params(("id" = String, Path, description = "The case id"),
           ("step" = String, Path, description = "team_alerted, owner, root_cause, customer_notified, service_restored, customer_informed or review")),
    request_body(content = Object, description = "The step's fields"),
    security(("bearer" = [])),
    responses(
        (status = 200, body = CaseView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The step was done already, or the case was withdrawn", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn record_step<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiPath((id, step)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<CaseView>, ApiError> {
    caller.require_admin()?;
    if !CASE_STEPS.contains(&step.as_str()) {
        return Err(ApiError::invalid(
            "step",
            format!("must be one of {} (got {step:?})", CASE_STEPS.join(", ")),
        ));
    }
    let Value::Object(body) = body else {
        return Err(ApiError::invalid(
            "body",
            "expected a JSON object of the step's fields",
        ));
    };
    let mut fields = step_fields(&step, body)?;
    if step == "customer_notified" && !fields.contains_key("message") {
        let case = app
            .store
            .breach_case(&caller.viewer(), &id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no breach case {id:?}")))?;
        let context = serde_json::to_value(CaseView::from(case))
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        // A provider's template that fails here is named, and the way round it given.
        let message = app.templates.customer_message(&context).map_err(|e| {
            ApiError::invalid(
                "message",
                format!("{e}; give the message in `message` instead"),
            )
        })?;
        fields.insert("message".into(), Value::String(message));
    }
    let case = app
        .store
        .record_case_step(&caller.actor(), &id, &step, fields, wall_clock::now())
        .await?;
    // A reminder moved: the watcher re-plans.
    app.wake.clocks_changed.notify_one();
    Ok(Json(case.into()))
}

/// The fields `step` takes: each named field checked, anything else refused.
fn step_fields(step: &str, body: Map<String, Value>) -> Result<Map<String, Value>, ApiError> {
    // (field, required, is a yes/no answer)
    let spec: &[(&str, bool, bool)] = match step {
        "team_alerted" | "service_restored" => &[("note", false, false)],
        "owner" => &[("owner", true, false)],
        "root_cause" => &[("category", true, false), ("description", true, false)],
        "customer_notified" => &[("message", false, false)],
        "customer_informed" => &[("message", true, false)],
        _ => &[
            ("target_realistic", true, true),
            ("configured_right", true, true),
            ("impact_team", true, false),
            ("impact_customer", true, false),
            ("preventive_action", true, false),
        ],
    };
    let mut errors = Vec::new();
    for key in body.keys() {
        if !spec.iter().any(|(name, _, _)| name == key) {
            let known: Vec<&str> = spec.iter().map(|(name, _, _)| *name).collect();
            errors.push(crate::error::FieldError::new(
                key,
                format!(
                    "unknown field for step {step}; expected {}",
                    known.join(", ")
                ),
            ));
        }
    }
    for (name, required, yes_no) in spec {
        match body.get(*name) {
            None | Some(Value::Null) if *required => errors.push(crate::error::FieldError::new(
                *name,
                format!("step {step} needs `{name}`"),
            )),
            None | Some(Value::Null) => {}
            Some(Value::Bool(_)) if *yes_no => {}
            Some(Value::String(s)) if !*yes_no && !s.trim().is_empty() => {}
            Some(_) => errors.push(crate::error::FieldError::new(
                *name,
                if *yes_no {
                    "expected true or false".to_owned()
                } else {
                    "expected a text that is not empty".to_owned()
                },
            )),
        }
    }
    if let Some(first) = errors.first() {
        let detail = format!("{}: {}", first.field, first.message);
        return Err(ApiError::Invalid { detail, errors });
    }
    Ok(body.into_iter().filter(|(_, v)| !v.is_null()).collect())
}

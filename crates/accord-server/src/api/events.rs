//! `/v1/events` (ingest), `/v1/tickets/{id}` (events and clocks) and `/v1/clocks` (the
//! at-risk queue).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use accord_core::availability::ServiceRecord;
use accord_core::clock::{ClockResult, Event};
use accord_store::{ClockFilter, ClockRow, Scope, Store, StoredEvent, StoredRecord};

use super::ListQuery;
use crate::AppState;
use crate::error::{ApiError, FieldError, Problem};
use crate::extract::{ApiPath, ApiQuery, Caller};
use crate::ticket_clocks;
use crate::wall_clock;

/// Most events (and records) in one request.
pub const MAX_BATCH: usize = 10_000;

/// Records of the stream not taken here: probe results go to `/v1/probes`.
const NOT_HERE: [(&str, &str); 1] = [("probe", "probe results go to /v1/probes")];

/// One item of a request: a ticket event or a service record.
enum Item {
    Event(Event),
    Record(ServiceRecord),
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IngestAnswer {
    /// New events stored.
    pub accepted: usize,
    /// Events already stored (same id, same content): ignored.
    pub duplicates: usize,
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json"))
}

/// The items of a request body: a JSON object, a JSON array, or JSON lines.
pub(super) fn items(headers: &HeaderMap, body: &[u8]) -> Result<Vec<serde_json::Value>, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("application/x-ndjson")
        || content_type.starts_with("application/jsonl")
    {
        let text = std::str::from_utf8(body)
            .map_err(|_| ApiError::BadRequest("the body is not UTF-8".into()))?;
        return text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(n, l)| {
                serde_json::from_str(l).map_err(|e| {
                    ApiError::BadRequest(format!(
                        "line {} of the body is not valid JSON: {e}",
                        n + 1
                    ))
                })
            })
            .collect();
    }
    if !content_type.starts_with("application/json") {
        return Err(ApiError::UnsupportedMediaType(
            "send events as application/json (an object or an array) or application/x-ndjson (one per line)".into(),
        ));
    }
    match serde_json::from_slice(body) {
        Ok(serde_json::Value::Array(items)) => Ok(items),
        Ok(item @ serde_json::Value::Object(_)) => Ok(vec![item]),
        Ok(_) => Err(ApiError::invalid(
            "body",
            "expected an event object or an array of them",
        )),
        Err(e) => Err(ApiError::BadRequest(format!(
            "the request body is not valid JSON: {e}"
        ))),
    }
}

pub(super) fn item_error(index: usize, field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        index: Some(index),
        ..FieldError::new(field, message)
    }
}

fn path_error<E: std::fmt::Display>(
    index: usize,
    what: &str,
    e: serde_path_to_error::Error<E>,
) -> FieldError {
    let field = e.path().to_string();
    let field = if field == "." { what.to_owned() } else { field };
    item_error(index, &field, e.into_inner().to_string())
}

/// Parses one item into an event or a record, or says what is wrong with which field.
fn parse_item(index: usize, item: serde_json::Value) -> Result<Item, FieldError> {
    let kind = item
        .get("type")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if let Some((_, why)) = NOT_HERE.iter().find(|(k, _)| *k == kind) {
        return Err(item_error(index, "type", *why));
    }
    if ["outage", "maintenance", "requests", "survey"].contains(&kind.as_str()) {
        // The record's own type, without its tag, so a bad field is named by its path.
        let mut item = item;
        if let Some(fields) = item.as_object_mut() {
            fields.remove("type");
        }
        let record = match kind.as_str() {
            "outage" => serde_path_to_error::deserialize(item).map(ServiceRecord::Outage),
            "maintenance" => serde_path_to_error::deserialize(item).map(ServiceRecord::Maintenance),
            "survey" => serde_path_to_error::deserialize(item).map(ServiceRecord::Survey),
            _ => serde_path_to_error::deserialize(item).map(ServiceRecord::Requests),
        }
        .map_err(|e| path_error(index, &kind, e))?;
        if let Err((field, why)) = record.check() {
            return Err(item_error(index, field, why));
        }
        if let Err(e) = accord_core::id::check_id(record.id()) {
            return Err(item_error(index, "id", e.to_string()));
        }
        return Ok(Item::Record(record));
    }
    let event: Event =
        serde_path_to_error::deserialize(item).map_err(|e| path_error(index, "event", e))?;
    for (field, value) in [("id", &event.id), ("ticket", &event.ticket)] {
        if let Err(e) = accord_core::id::check_id(value) {
            return Err(item_error(index, field, e.to_string()));
        }
    }
    Ok(Item::Event(event))
}

/// Ticket events: one object, a JSON array, or JSON lines (`application/x-ndjson`), at
/// most 10,000 a request, all or nothing, answered once durable.
#[utoipa::path(post, path = "/v1/events", tag = "tickets",
    request_body(content = Vec<Object>, description = "Ticket events (DESIGN 4.1)", content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 202, description = "Stored durably", body = IngestAnswer),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An id repeated with other content, or a second `created`, named by item index", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad items, each named by index and field", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn post_events<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<IngestAnswer>), ApiError> {
    caller.require(Scope::Ingest)?;
    // The common case, a JSON array of good events, parses straight into events; any
    // other body goes through the item-by-item path that names what is wrong.
    if is_json(&headers)
        && let Ok(events) = serde_json::from_slice::<Vec<Event>>(&body)
        && events.len() <= MAX_BATCH
        && events.iter().all(|e| {
            accord_core::id::check_id(&e.id).is_ok() && accord_core::id::check_id(&e.ticket).is_ok()
        })
    {
        return ingest(&app, events, Vec::new())
            .await
            .map(|answer| (StatusCode::ACCEPTED, Json(answer)));
    }
    let items = items(&headers, &body)?;
    if items.len() > MAX_BATCH {
        return Err(ApiError::PayloadTooLarge(format!(
            "at most {MAX_BATCH} events a request (got {})",
            items.len()
        )));
    }
    let mut events = Vec::with_capacity(items.len());
    let mut records = Vec::new();
    // The request position of each event, then of each record: the store names a
    // rejected item by its place among events followed by records.
    let mut event_items = Vec::with_capacity(items.len());
    let mut record_items = Vec::new();
    let mut errors = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        match parse_item(index, item) {
            Ok(Item::Event(e)) => {
                events.push(e);
                event_items.push(index);
            }
            Ok(Item::Record(r)) => {
                records.push(r);
                record_items.push(index);
            }
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        let first = &errors[0];
        let detail = format!(
            "{} bad {}; the first: item {}, {}: {}",
            errors.len(),
            if errors.len() == 1 { "event" } else { "events" },
            first.index.unwrap_or_default(),
            first.field,
            first.message
        );
        return Err(ApiError::Invalid { detail, errors });
    }
    event_items.extend(record_items);
    match ingest_checked(&app, events, records).await {
        Ok(answer) => Ok((StatusCode::ACCEPTED, Json(answer))),
        Err(accord_store::StoreError::Rejected { index, message }) => {
            Err(ApiError::Conflict(format!(
                "item {}: {message}",
                event_items.get(index).copied().unwrap_or(index)
            )))
        }
        Err(e) => Err(e.into()),
    }
}

/// Stores checked events, all or nothing, and derives the clocks of their tickets (the
/// logic behind `POST /v1/events`, also used by `accord demo`).
pub async fn ingest<S: Store>(
    app: &AppState<S>,
    events: Vec<Event>,
    records: Vec<ServiceRecord>,
) -> Result<IngestAnswer, ApiError> {
    Ok(ingest_checked(app, events, records).await?)
}

async fn ingest_checked<S: Store>(
    app: &AppState<S>,
    events: Vec<Event>,
    records: Vec<ServiceRecord>,
) -> Result<IngestAnswer, accord_store::StoreError> {
    let stored = events
        .iter()
        .map(|e| {
            Ok(StoredEvent {
                id: e.id.to_string(),
                ticket: e.ticket.to_string(),
                is_created: e.kind == accord_core::clock::EventType::Created,
                body: serde_json::to_string(e)
                    .map_err(|e| accord_store::StoreError::Backend(e.to_string()))?,
            })
        })
        .collect::<Result<Vec<_>, accord_store::StoreError>>()?;
    let has_records = !records.is_empty();
    let records = records.iter().map(StoredRecord::from_record).collect();
    let outcome = app.store.ingest(stored, records).await?;
    if has_records {
        app.wake.records_changed.notify_one();
    }
    metrics::counter!("accord_events_accepted_total").increment(outcome.accepted as u64);
    // Acknowledged once durable; the clocks follow at once, in the background.
    app.pending.derive_stored(outcome.tickets, events);
    Ok(IngestAnswer {
        accepted: outcome.accepted,
        duplicates: outcome.duplicates,
    })
}

/// A clock as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClockView {
    pub ticket: String,
    /// `sla`, `ola` or `uc`.
    pub agreement_type: String,
    pub agreement: String,
    pub objective: String,
    pub metric: String,
    pub cycle: u32,
    /// running, paused, met, breached or cancelled.
    pub state: String,
    /// The ticket's priority when the clock stopped (for an open clock, its current one).
    pub priority: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub started_at: jiff::Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub stopped_at: Option<jiff::Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub breached_at: Option<jiff::Timestamp>,
    /// For a running clock: when it breaches if it keeps running.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub deadline: Option<jiff::Timestamp>,
    /// For a running clock: seconds of real time until its deadline.
    pub time_left_seconds: Option<i64>,
    pub elapsed_seconds: i64,
    pub target_seconds: i64,
    pub customer: Option<String>,
    pub team: Option<String>,
}

impl ClockView {
    fn from_result(
        c: &ClockResult,
        customer: &Option<CompactString>,
        team: &Option<CompactString>,
        now: jiff::Timestamp,
    ) -> Self {
        ClockView {
            ticket: c.ticket.to_string(),
            agreement_type: c.agreement_type.as_str().to_owned(),
            agreement: c.agreement.to_string(),
            objective: c.objective.to_string(),
            metric: c.metric.as_str().to_owned(),
            cycle: c.cycle,
            state: c.state.as_str().to_owned(),
            priority: c.priority.as_ref().map(ToString::to_string),
            started_at: c.started_at,
            stopped_at: c.stopped_at,
            breached_at: c.breached_at,
            deadline: c.deadline,
            time_left_seconds: c.deadline.map(|d| d.as_second() - now.as_second()),
            elapsed_seconds: c.elapsed_seconds,
            target_seconds: c.target_seconds,
            customer: customer.as_ref().map(ToString::to_string),
            team: team.as_ref().map(ToString::to_string),
        }
    }

    fn from_row(c: ClockRow, now: jiff::Timestamp) -> Self {
        ClockView {
            time_left_seconds: c.deadline.map(|d| d.as_second() - now.as_second()),
            ticket: c.ticket,
            agreement_type: c.agreement_type,
            agreement: c.agreement,
            objective: c.objective,
            metric: c.metric,
            cycle: c.cycle,
            state: c.state,
            priority: c.priority,
            started_at: c.started_at,
            stopped_at: c.stopped_at,
            breached_at: c.breached_at,
            deadline: c.deadline,
            elapsed_seconds: c.elapsed_seconds,
            target_seconds: c.target_seconds,
            customer: c.customer,
            team: c.team,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TicketView {
    pub ticket: String,
    pub customer: Option<String>,
    pub status: String,
    /// The events, in the order they apply.
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<serde_json::Value>,
    /// The clocks as of now.
    pub clocks: Vec<ClockView>,
}

/// A ticket's events and its clocks as of now.
#[utoipa::path(get, path = "/v1/tickets/{id}", tag = "tickets",
    params(("id" = String, Path, description = "Ticket id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = TicketView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_ticket<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<TicketView>, ApiError> {
    caller.require(Scope::Read)?;
    let not_found = || ApiError::NotFound(format!("no ticket {id:?}"));
    let events = ticket_clocks::load_events(&app.store, &caller.viewer(), &id)
        .await?
        .ok_or_else(not_found)?;
    let now = wall_clock::now();
    let live = app.config.get();
    let d = ticket_clocks::derive(&live.config, &id, events, now);
    Ok(Json(TicketView {
        ticket: id.clone(),
        customer: d.facts.customer.as_ref().map(ToString::to_string),
        status: d.status.to_string(),
        events: d
            .events
            .iter()
            .filter_map(|e| serde_json::to_value(e).ok())
            .collect(),
        clocks: d
            .clocks
            .iter()
            .map(|c| ClockView::from_result(c, &d.facts.customer, &d.facts.team, now))
            .collect(),
    }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ClockQuery {
    pub customer: Option<String>,
    /// running, paused, met, breached or cancelled.
    pub state: Option<String>,
    pub agreement: Option<String>,
    pub objective: Option<String>,
    pub metric: Option<String>,
    pub team: Option<String>,
    /// `time_left` (running clocks first, soonest deadline first) or `ticket`.
    pub order: Option<String>,
    pub limit: Option<u32>,
    pub after: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClockPage {
    pub items: Vec<ClockView>,
    pub next: Option<String>,
}

/// Clocks, filtered; `order=time_left` is the at-risk queue a service desk lead works from.
#[utoipa::path(get, path = "/v1/clocks", tag = "tickets", params(ClockQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = ClockPage),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_clocks<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ClockQuery>,
) -> Result<Json<ClockPage>, ApiError> {
    caller.require(Scope::Read)?;
    if let Some(state) = &q.state
        && !["running", "paused", "met", "breached", "cancelled"].contains(&state.as_str())
    {
        return Err(ApiError::invalid(
            "state",
            format!("{state:?}: expected running, paused, met, breached or cancelled"),
        ));
    }
    let by_time_left = match q.order.as_deref() {
        None | Some("time_left") => true,
        Some("ticket") => false,
        Some(other) => {
            return Err(ApiError::invalid(
                "order",
                format!("{other:?}: expected time_left or ticket"),
            ));
        }
    };
    let page = ListQuery {
        limit: q.limit,
        after: q.after,
    }
    .page()?;
    let filter = ClockFilter {
        customer: q.customer,
        state: q.state,
        agreement: q.agreement,
        objective: q.objective,
        metric: q.metric,
        team: q.team,
    };
    app.pending
        .settled(std::time::Duration::from_secs(10))
        .await;
    let now = wall_clock::now();
    let page = app
        .store
        .list_clocks(&caller.viewer(), &filter, by_time_left, now, &page)
        .await?;
    Ok(Json(ClockPage {
        items: page
            .items
            .into_iter()
            .map(|c| ClockView::from_row(c, now))
            .collect(),
        next: page.next,
    }))
}

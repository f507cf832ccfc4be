//! Availability and what it costs: `POST /v1/probes` (probe results turned into
//! outages), `GET /v1/report` (the period report, the same JSON as `accord report`) and
//! `GET /v1/credits` (the credits owed, as JSON or CSV credit notes). Outage and
//! maintenance records themselves come in through `POST /v1/events`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use accord_core::report::{self, ClockEnd, PeriodSpec, Report};
use accord_store::{ProbeResult, Scope, Store, Viewer};

use super::events::{item_error, items};
use crate::AppState;
use crate::error::{ApiError, FieldError, Problem};
use crate::extract::{ApiQuery, Caller};
use crate::wall_clock;

/// Most probe results in one request.
const MAX_PROBES: usize = 10_000;

/// One probe result.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    pub service: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: jiff::Timestamp,
    pub up: bool,
    /// Milliseconds the probe took (kept for the record; a slow answer is still up).
    #[serde(default)]
    pub latency_ms: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProbeAnswer {
    pub accepted: usize,
    /// Results not later than the service's last one: ignored.
    pub stale: usize,
    /// Outages ended by a good probe in this request, recorded under these ids.
    pub outages_recorded: Vec<String>,
}

/// Probe results (one object, an array, or JSON lines): per service, `probe_failures`
/// failures in a row (setting, default 3) make an outage from the first failure until
/// the next good probe, recorded under the id `probe:SERVICE:START`.
#[utoipa::path(post, path = "/v1/probes", tag = "availability",
    request_body(content = Vec<Probe>, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 202, body = ProbeAnswer),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad items, each named by index and field", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn post_probes<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<ProbeAnswer>), ApiError> {
    caller.require(Scope::Ingest)?;
    let items = items(&headers, &body)?;
    if items.len() > MAX_PROBES {
        return Err(ApiError::PayloadTooLarge(format!(
            "at most {MAX_PROBES} probe results a request (got {})",
            items.len()
        )));
    }
    let mut probes = Vec::with_capacity(items.len());
    let mut errors: Vec<FieldError> = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        let probe: Probe = match serde_path_to_error::deserialize(item) {
            Ok(p) => p,
            Err(e) => {
                let field = e.path().to_string();
                let field = if field == "." { "probe".into() } else { field };
                errors.push(item_error(index, &field, e.into_inner().to_string()));
                continue;
            }
        };
        if let Err(e) = accord_core::id::check_id(&probe.service) {
            errors.push(item_error(index, "service", e.to_string()));
            continue;
        }
        if probe
            .latency_ms
            .is_some_and(|l| !(l.is_finite() && l >= 0.0))
        {
            errors.push(item_error(
                index,
                "latency_ms",
                "must be a number of milliseconds ≥ 0",
            ));
            continue;
        }
        probes.push(ProbeResult {
            service: probe.service,
            at: jiff::Timestamp::from_second(probe.at.as_second())
                .map_err(|e| ApiError::Internal(e.to_string()))?,
            up: probe.up,
        });
    }
    if let Some(first) = errors.first() {
        let detail = format!(
            "{} bad probe {}; the first: item {}, {}: {}",
            errors.len(),
            if errors.len() == 1 {
                "result"
            } else {
                "results"
            },
            first.index.unwrap_or_default(),
            first.field,
            first.message
        );
        return Err(ApiError::Invalid { detail, errors });
    }
    // In time order per service (a batch from several probes may interleave).
    probes.sort_by_key(|p| p.at);
    let outcome = app.store.record_probes(probes, app.probe_failures).await?;
    app.wake.records_changed.notify_one();
    Ok((
        StatusCode::ACCEPTED,
        Json(ProbeAnswer {
            accepted: outcome.accepted,
            stale: outcome.stale,
            outages_recorded: outcome.outages_recorded,
        }),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// 2026-11, 2026-W45, 2026-Q4, 2026, 2026-11-01..2026-11-15 or 30d.
    pub period: String,
    /// Evaluate as of this instant (RFC 3339). Default: now, or the period's end when
    /// that is earlier.
    pub at: Option<String>,
    /// `json` (default), `csv` (a row per objective, then per priority and per month of
    /// each ticket objective), `html` (a page with charts) or `review` (the review
    /// document for a customer's meeting: trends, breaches by priority and cause, and
    /// the review questions of each breach).
    pub format: Option<String>,
    /// Only this customer's agreements (a customer-bound token gets its own, whatever it
    /// names).
    pub customer: Option<String>,
}

/// The period report and the instant it was evaluated at.
pub(super) async fn build<S: Store>(
    app: &AppState<S>,
    viewer: &Viewer,
    period: &str,
    at: Option<&str>,
) -> Result<Report, ApiError> {
    let period: PeriodSpec = period
        .parse()
        .map_err(|e: String| ApiError::invalid("period", e))?;
    let live = app.config.get();
    let config = &live.config;
    let at = match at {
        Some(text) => text.parse::<jiff::Timestamp>().map_err(|e| {
            ApiError::invalid("at", format!("{text:?} is not an RFC 3339 instant: {e}"))
        })?,
        None => report::evaluation_instant(config, &period, wall_clock::now()),
    };
    // The widest span over the agreements' zones, the trend's earlier periods
    // included: every record and clock any of them may count.
    let zones: Vec<_> = config
        .agreements
        .iter()
        .map(|a| report::agreement_zone(config, a))
        .chain([jiff::tz::TimeZone::UTC])
        .collect();
    let spans: Vec<_> = zones
        .iter()
        .flat_map(|tz| {
            let mut spans = period.trend_spans(tz, at);
            spans.push(period.span(tz, at));
            spans
        })
        .collect();
    let from = spans.iter().map(|s| s.from).min().unwrap_or(at);
    let to = spans.iter().map(|s| s.to).max().unwrap_or(at);

    // A service down now by its probes counts as down until the evaluation instant.
    let (mut records, surveys) =
        crate::service_records::load(&app.store, from, to, at, app.probe_failures).await?;
    // A survey counts for the objective its ticket's facts select at its instant.
    let tickets: Vec<String> = surveys.iter().map(|s| s.ticket.to_string()).collect();
    let events = app.store.events_of_tickets(&tickets).await?;
    for survey in surveys {
        let bodies = events
            .get(survey.ticket.as_str())
            .cloned()
            .unwrap_or_default();
        let parsed: Vec<accord_core::clock::Event> = bodies
            .iter()
            .filter_map(|b| serde_json::from_str(b).ok())
            .collect();
        let ordered = accord_core::clock::prepare(parsed).into_ticket(&survey.ticket);
        let (facts, _) = accord_core::clock::ticket_facts(&ordered, survey.at);
        records.surveys.push((survey, facts));
    }

    // Clocks that ended after the evaluation instant had not ended as of it (the stored
    // clocks are derived as of now); one that ends at `at` counts, as offline.
    let until = to.min(at + jiff::SignedDuration::from_secs(1));
    let ended = app.store.ended_clocks(from, until).await?;
    let ends: Vec<ClockEnd<'_>> = ended
        .iter()
        .filter(|c| match (viewer, &c.customer) {
            (Viewer::Everything, _) => true,
            (Viewer::Customer(id), Some(customer)) => id.as_str() == customer,
            (Viewer::Customer(_), None) => false,
        })
        .map(|c| ClockEnd {
            ticket: &c.ticket,
            agreement_type: &c.agreement_type,
            agreement: &c.agreement,
            objective: &c.objective,
            metric: &c.metric,
            cycle: c.cycle,
            state: if c.breached {
                accord_core::clock::ClockState::Breached
            } else {
                accord_core::clock::ClockState::Met
            },
            stopped_at: (!c.breached).then_some(c.at),
            breached_at: c.breached.then_some(c.at),
            priority: c.priority.as_deref(),
            cause: c.cause.as_deref(),
            review: c.review.as_ref(),
        })
        .collect();
    let mut report = report::report(config, &ends, &records, &period, at);
    // A customer-bound token reads its own agreements only.
    if let Viewer::Customer(id) = viewer {
        report
            .agreements
            .retain(|a| a.customer.as_deref() == Some(id.as_str()));
    }
    Ok(report)
}

/// The period report (DESIGN 4): per agreement and objective, ticket compliance from the
/// clocks, availability with its error budget, and credits per fee period; the same JSON
/// as `accord report --format json`. A customer-bound token sees its own agreements.
#[utoipa::path(get, path = "/v1/report", tag = "availability", params(ReportQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The report (see DESIGN 4 for its shape); with `format=csv` the same figures as CSV (text/csv), with `format=html` a page, with `format=review` the review document (text/html)", body = Object),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_report<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Read)?;
    let format = query.format.as_deref().unwrap_or("json");
    if !["json", "csv", "html", "review"].contains(&format) {
        return Err(ApiError::invalid(
            "format",
            format!("must be json, csv, html or review (got {format:?})"),
        ));
    }
    let viewer = caller.viewer();
    let mut report = build(&app, &viewer, &query.period, query.at.as_deref()).await?;
    // A bound token's report and review are its customer's, whatever it asks for.
    let customer = match viewer.bound_customer() {
        Some(own) => Some(own.as_str().to_owned()),
        None => query.customer.clone(),
    };
    if let Some(id) = &customer {
        report
            .agreements
            .retain(|a| a.customer.as_deref() == Some(id.as_str()));
    }
    let html =
        |page: String| ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response();
    Ok(match format {
        "csv" => {
            let mut body = Vec::new();
            crate::report_csv::write(&report, &mut body)
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response()
        }
        "html" => html(crate::report_html::render(&report).map_err(ApiError::Internal)?),
        "review" => {
            let live = app.config.get();
            let name = customer
                .as_deref()
                .and_then(|id| report::customer_name(&live.config, id));
            html(
                crate::report_html::render_review(&report, customer.as_deref(), name)
                    .map_err(ApiError::Internal)?,
            )
        }
        _ => Json(report).into_response(),
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CreditQuery {
    /// The report period (as for `/v1/report`).
    pub period: String,
    pub at: Option<String>,
    /// One customer's credits.
    pub customer: Option<String>,
    /// `json` (default) or `csv` (credit notes: only what is owed).
    pub format: Option<String>,
}

/// One credit owed (or not) for one fee period.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreditLine {
    pub customer: Option<String>,
    pub agreement: String,
    pub objective: String,
    #[schema(value_type = String, format = Date)]
    pub from: jiff::civil::Date,
    #[schema(value_type = String, format = Date)]
    pub to: jiff::civil::Date,
    pub rate: f64,
    pub amount: f64,
    pub currency: String,
}

/// Credits per customer, agreement, credit entry and fee period wholly inside the
/// period. `format=csv` gives the credit notes: one row per credit owed.
#[utoipa::path(get, path = "/v1/credits", tag = "availability", params(CreditQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Vec<CreditLine>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_credits<S: Store>(
    State(app): State<AppState<S>>,
    caller: Caller,
    ApiQuery(query): ApiQuery<CreditQuery>,
) -> Result<Response, ApiError> {
    caller.require(Scope::Read)?;
    let csv = match query.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                "format",
                format!("must be json or csv (got {other:?})"),
            ));
        }
    };
    let report = build(&app, &caller.viewer(), &query.period, query.at.as_deref()).await?;
    if csv {
        let mut body = Vec::new();
        crate::credit_notes::write(&report, query.customer.as_deref(), &mut body)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        return Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response());
    }
    let lines: Vec<CreditLine> = report
        .agreements
        .iter()
        .filter(|a| {
            query
                .customer
                .as_deref()
                .is_none_or(|c| a.customer.as_deref() == Some(c))
        })
        .flat_map(|a| {
            a.credits.iter().map(|c| CreditLine {
                customer: a.customer.clone(),
                agreement: a.id.clone(),
                objective: c.objective.clone(),
                from: c.from,
                to: c.to,
                rate: c.rate,
                amount: c.amount,
                currency: c.currency.clone(),
            })
        })
        .collect();
    Ok(Json(lines).into_response())
}

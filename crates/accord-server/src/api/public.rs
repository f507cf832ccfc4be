//! Public, without a token (DESIGN 4): a status page per customer and a badge per
//! objective, only for objectives marked `public: true`, over the last 90 days.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use accord_core::report::Report;
use accord_store::{Store, Viewer};

use crate::AppState;
use accord_core::report::svg::{escape, percent};

const WINDOW: &str = "90d";

fn not_found(what: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("no public {what} here\n"),
    )
        .into_response()
}

/// Which objectives of the configuration in force are public: (agreement, objective).
fn public_objectives<S: Store>(app: &AppState<S>) -> Vec<(String, String, Option<String>)> {
    let live = app.config.get();
    live.config
        .agreements
        .iter()
        .flat_map(|a| {
            a.doc.objectives.iter().filter(|o| o.public).map(move |o| {
                (
                    a.id().to_owned(),
                    o.id.value.clone(),
                    a.doc.customer.as_ref().map(|c| c.value.clone()),
                )
            })
        })
        .collect()
}

async fn last_90_days<S: Store>(app: &AppState<S>) -> Option<Report> {
    super::availability::build(app, &Viewer::Everything, WINDOW, None)
        .await
        .ok()
}

/// A badge: the objective's result over the last 90 days, green when achieved.
pub async fn badge<S: Store>(
    State(app): State<AppState<S>>,
    Path((agreement, objective)): Path<(String, String)>,
) -> Response {
    let Some(objective) = objective.strip_suffix(".svg") else {
        return not_found("badge");
    };
    if !public_objectives(&app)
        .iter()
        .any(|(a, o, _)| *a == agreement && o == objective)
    {
        return not_found("badge");
    }
    let Some(report) = last_90_days(&app).await else {
        return not_found("badge");
    };
    let found = report
        .agreements
        .iter()
        .filter(|a| a.id == agreement)
        .flat_map(|a| a.objectives.iter())
        .find(|o| o.id() == objective);
    let Some((value, achieved)) = found.map(|o| (o.share(), o.achieved())) else {
        return not_found("badge");
    };
    let label = escape(objective);
    let text = value.map_or_else(|| "no data".to_owned(), percent);
    let colour = match achieved {
        Some(true) => "#2e7d32",
        Some(false) => "#c62828",
        None => "#9e9e9e",
    };
    // Widths by a rough 7 px a character: good enough for a badge.
    let (lw, rw) = (
        label.chars().count() as i64 * 7 + 12,
        text.len() as i64 * 7 + 12,
    );
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"20\" role=\"img\" aria-label=\"{label}: {text}\">\
         <title>{label}: {text} (last 90 days)</title>\
         <rect width=\"{lw}\" height=\"20\" fill=\"#555\"/><rect x=\"{lw}\" width=\"{rw}\" height=\"20\" fill=\"{colour}\"/>\
         <g fill=\"#fff\" font-family=\"Verdana,sans-serif\" font-size=\"11\">\
         <text x=\"6\" y=\"14\">{label}</text><text x=\"{tx}\" y=\"14\">{text}</text></g></svg>",
        w = lw + rw,
        tx = lw + 6,
    );
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        svg,
    )
        .into_response()
}

/// A customer's status page: its public objectives over the last 90 days.
pub async fn status_page<S: Store>(
    State(app): State<AppState<S>>,
    Path(customer): Path<String>,
) -> Response {
    let public: Vec<(String, String)> = public_objectives(&app)
        .into_iter()
        .filter(|(_, _, c)| c.as_deref() == Some(customer.as_str()))
        .map(|(a, o, _)| (a, o))
        .collect();
    if public.is_empty() {
        return not_found("status page");
    }
    let Some(report) = last_90_days(&app).await else {
        return not_found("status page");
    };
    let mut rows = String::new();
    for a in &report.agreements {
        for o in &a.objectives {
            let (id, value, achieved) = (o.id(), o.share(), o.achieved());
            if !public.iter().any(|(pa, po)| *pa == a.id && po == id) {
                continue;
            }
            let state = match achieved {
                Some(true) => "<span style=\"color:#2e7d32\">operational, objective met</span>",
                Some(false) => "<span style=\"color:#c62828\">objective missed</span>",
                None => "no data",
            };
            rows.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td><img alt=\"\" src=\"/badge/{}/{}.svg\"></td></tr>",
                escape(id),
                value.map_or_else(|| "no data".to_owned(), percent),
                state,
                escape(&a.id),
                escape(id)
            ));
        }
    }
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Status: {c}</title></head>\
         <body style=\"font-family:sans-serif;max-width:48rem;margin:2rem auto\"><h1>Status: {c}</h1>\
         <p>The last 90 days, from {from} to {to}.</p><table>\
         <tr><th align=\"left\">Objective</th><th align=\"left\">Result</th><th align=\"left\">State</th><th></th></tr>{rows}</table></body></html>",
        c = escape(&customer),
        from = report.period.from,
        to = report.period.to,
    );
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        page,
    )
        .into_response()
}

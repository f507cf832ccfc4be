//! The report as people read it (the HTML page and the PDF share it): figures as text,
//! a chart per agreement, and a summary in plain words.

use serde_json::{Value, json};

use super::svg::{Bar, bar_chart, percent};
use super::{AgreementReport, ObjectiveReport, Report, TrendPoint};

fn duration(seconds: f64) -> String {
    let s = seconds.round() as i64;
    let (h, m) = (s / 3600, (s % 3600) / 60);
    match (h, m) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

fn share(v: Option<f64>) -> String {
    v.map_or_else(|| "no data".to_owned(), percent)
}

/// `; before: no data, 100.0 %, 98.5 %` (the earlier periods, oldest first), or nothing.
fn trend_text(trend: &[TrendPoint]) -> String {
    if trend.is_empty() {
        return String::new();
    }
    let points: Vec<String> = trend.iter().map(|p| share(p.result)).collect();
    format!("; before: {}", points.join(", "))
}

/// One agreement: `id`, `customer`, `type`, `version`, `watermelon`, `summary`,
/// `objectives` (each with `id`, `metric`, `achieved`, `result_text`, `goal_text`,
/// `detail`), `credits` owed (`objective`, `from`, `to`, `rate_text`, `amount_text`,
/// `currency`) and `chart` (SVG text).
pub fn agreement(a: &AgreementReport) -> Value {
    let mut bars = Vec::new();
    let objectives: Vec<Value> = a
        .objectives
        .iter()
        .map(|o| match o {
            ObjectiveReport::Ticket(t) => {
                bars.push(Bar {
                    label: t.id.clone(),
                    value: t.compliance,
                    target: t.goal,
                    achieved: t.achieved,
                });
                json!({"id": t.id, "metric": t.metric, "achieved": t.achieved,
                       "result_text": t.compliance.map_or_else(|| "no clocks ended".to_owned(), percent),
                       "goal_text": t.goal.map_or_else(|| "–".to_owned(), percent),
                       "detail": format!("{} met, {} breached{}", t.met, t.breached, trend_text(&t.trend))})
            }
            ObjectiveReport::Availability(v) => {
                bars.push(Bar {
                    label: v.id.clone(),
                    value: v.availability,
                    target: Some(v.target),
                    achieved: v.achieved,
                });
                let detail = match (v.downtime_seconds, v.good_requests, v.valid_requests) {
                    (Some(down), _, _) => format!(
                        "{} down; error budget left {}",
                        duration(down),
                        duration(v.error_budget.remaining.max(0.0))
                    ),
                    (None, Some(good), Some(valid)) => format!("{good} of {valid} requests good"),
                    _ => String::new(),
                };
                json!({"id": v.id, "metric": v.metric, "achieved": v.achieved,
                       "result_text": share(v.availability), "goal_text": percent(v.target),
                       "detail": format!("{} ({}): {detail}{}", v.service, v.measure, trend_text(&v.trend))})
            }
            ObjectiveReport::Experience(e) => {
                let as_share = e.target <= 1.0;
                if as_share {
                    bars.push(Bar {
                        label: e.id.clone(),
                        value: e.score,
                        target: Some(e.target),
                        achieved: e.achieved,
                    });
                }
                let text = |v: f64| if as_share { percent(v) } else { format!("{v:.2}") };
                json!({"id": e.id, "metric": e.metric, "achieved": e.achieved,
                       "result_text": e.score.map_or_else(|| "no answers".to_owned(), text),
                       "goal_text": text(e.target),
                       "detail": format!("{} answers, {} good", e.responses, e.good)})
            }
        })
        .collect();
    let owed: Vec<_> = a.credits.iter().filter(|c| c.amount > 0.0).collect();
    let credits: Vec<Value> = owed
        .iter()
        .map(|c| {
            json!({"objective": c.objective, "from": c.from.to_string(), "to": c.to.to_string(),
                   "rate_text": percent(c.rate), "amount_text": format!("{:.2}", c.amount),
                   "currency": c.currency})
        })
        .collect();
    json!({"id": a.id, "customer": a.customer, "type": a.agreement_type, "version": a.version,
           "watermelon": a.watermelon, "summary": summary(a), "objectives": objectives,
           "credits": credits, "chart": bar_chart(&bars)})
}

/// `3 of 4 objectives met; missed: uptime. Credits owed: 750.00 USD.`
pub fn summary(a: &AgreementReport) -> String {
    let judged: Vec<(&str, bool)> = a
        .objectives
        .iter()
        .filter_map(|o| o.achieved().map(|ok| (o.id(), ok)))
        .collect();
    let met = judged.iter().filter(|(_, ok)| *ok).count();
    let mut text = if judged.is_empty() {
        "No objective had results in this period.".to_owned()
    } else {
        format!("{met} of {} objectives met", judged.len())
    };
    let missed: Vec<&str> = judged
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(id, _)| *id)
        .collect();
    if !missed.is_empty() {
        text.push_str(&format!("; missed: {}.", missed.join(", ")));
    } else if !judged.is_empty() {
        text.push('.');
    }
    let mut owed: Vec<(String, f64)> = Vec::new();
    for c in a.credits.iter().filter(|c| c.amount > 0.0) {
        match owed.iter_mut().find(|(cur, _)| *cur == c.currency) {
            Some((_, sum)) => *sum += c.amount,
            None => owed.push((c.currency.clone(), c.amount)),
        }
    }
    if !owed.is_empty() {
        let amounts: Vec<String> = owed
            .iter()
            .map(|(cur, sum)| format!("{sum:.2} {cur}"))
            .collect();
        text.push_str(&format!(" Credits owed: {}.", amounts.join(", ")));
    }
    text
}

/// The whole report: `period` (`from`, `to`) and `agreements` (see [`agreement`]).
pub fn report(r: &Report) -> Value {
    json!({"period": {"from": r.period.from.to_string(), "to": r.period.to.to_string()},
           "agreements": r.agreements.iter().map(agreement).collect::<Vec<_>>()})
}

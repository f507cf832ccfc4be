//! The period report as an HTML page (`accord report --format html`,
//! `GET /v1/report?format=html`): per agreement a bar chart of results against targets
//! (our own SVG), the objectives, the credits, and the watermelon warning.

use accord_core::report::{ObjectiveReport, Report};
use minijinja::Value;
use serde_json::json;

use crate::svg::{Bar, bar_chart, percent};

const TEMPLATE: &str = include_str!("../templates/report.html");

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

/// Renders the report; an error only if the built-in template is broken.
pub fn render(report: &Report) -> Result<String, String> {
    let mut env = minijinja::Environment::new();
    env.add_template("report.html", TEMPLATE)
        .map_err(|e| e.to_string())?;
    let agreements: Vec<serde_json::Value> = report
        .agreements
        .iter()
        .map(|a| {
            let mut bars = Vec::new();
            let objectives: Vec<serde_json::Value> = a
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
                               "detail": format!("{} met, {} breached", t.met, t.breached)})
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
                            (None, Some(good), Some(valid)) => {
                                format!("{good} of {valid} requests good")
                            }
                            _ => String::new(),
                        };
                        json!({"id": v.id, "metric": v.metric, "achieved": v.achieved,
                               "result_text": share(v.availability), "goal_text": percent(v.target),
                               "detail": format!("{} ({}): {detail}", v.service, v.measure)})
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
            let credits: Vec<serde_json::Value> = a
                .credits
                .iter()
                .filter(|c| c.amount > 0.0)
                .map(|c| json!({"objective": c.objective, "from": c.from.to_string(), "to": c.to.to_string(),
                                "rate_text": percent(c.rate), "amount_text": format!("{:.2}", c.amount),
                                "currency": c.currency}))
                .collect();
            json!({"id": a.id, "customer": a.customer, "type": a.agreement_type, "version": a.version,
                   "watermelon": a.watermelon, "objectives": objectives, "credits": credits,
                   "chart": bar_chart(&bars)})
        })
        .collect();
    // The charts are our own SVG, written escaped; everything else is escaped by the
    // template.
    let agreements: Vec<Value> = agreements
        .into_iter()
        .map(|mut a| {
            let chart = a["chart"].as_str().unwrap_or_default().to_owned();
            if let Some(map) = a.as_object_mut() {
                map.remove("chart");
            }
            let mut value: std::collections::BTreeMap<String, Value> = a
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), Value::from(minijinja::value::Serde(v))))
                        .collect()
                })
                .unwrap_or_default();
            value.insert("chart".into(), Value::from_safe_string(chart));
            Value::from_object(value)
        })
        .collect();
    let template = env.get_template("report.html").map_err(|e| e.to_string())?;
    template
        .render(minijinja::context! {
            period => Value::from(minijinja::value::Serde(report.period)),
            agreements => agreements,
        })
        .map_err(|e| e.to_string())
}

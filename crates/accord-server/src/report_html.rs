//! The period report as an HTML page (`accord report --format html`,
//! `GET /v1/report?format=html`): per agreement a summary in plain words, a chart of
//! results against targets (the core's SVG), the objectives, the credits owed, and the
//! watermelon warning.

use accord_core::report::{Report, view};
use minijinja::Value;

const TEMPLATE: &str = include_str!("../templates/report.html");

/// Renders the report; an error only if the built-in template is broken.
pub fn render(report: &Report) -> Result<String, String> {
    let mut env = minijinja::Environment::new();
    env.add_template("report.html", TEMPLATE)
        .map_err(|e| e.to_string())?;
    let page = view::report(report);
    // The charts are our own SVG, written escaped; everything else is escaped by the
    // template.
    let agreements: Vec<Value> = page["agreements"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            let mut fields: std::collections::BTreeMap<String, Value> = a
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(k, _)| *k != "chart")
                .map(|(k, v)| (k.clone(), Value::from(minijinja::value::Serde(v))))
                .collect();
            let chart = a["chart"].as_str().unwrap_or_default().to_owned();
            fields.insert("chart".into(), Value::from_safe_string(chart));
            Value::from_object(fields)
        })
        .collect();
    env.get_template("report.html")
        .map_err(|e| e.to_string())?
        .render(minijinja::context! {
            period => Value::from(minijinja::value::Serde(&page["period"])),
            agreements => agreements,
        })
        .map_err(|e| e.to_string())
}

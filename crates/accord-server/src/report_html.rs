//! The period report as an HTML page (`accord report --format html`,
//! `GET /v1/report?format=html`): per agreement a summary in plain words, a chart of
//! results against targets (the core's SVG), the objectives, the credits owed, and the
//! watermelon warning.

use accord_core::report::{Report, view};
use minijinja::Value;

const TEMPLATE: &str = include_str!("../templates/report.html");
const REVIEW_TEMPLATE: &str = include_str!("../templates/review.html");

/// Our own SVG, passed through unescaped (it is written escaped); the rest of a view
/// is escaped by the template.
const CHARTS: [&str; 5] = [
    "chart",
    "trend_chart",
    "priority_chart",
    "cause_chart",
    "credits_chart",
];

/// A view object as template values, its charts marked safe.
fn with_safe_charts(view: &serde_json::Value) -> Value {
    let fields: std::collections::BTreeMap<String, Value> = view
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let value = match v.as_str() {
                Some(svg) if CHARTS.contains(&k.as_str()) => {
                    Value::from_safe_string(svg.to_owned())
                }
                _ => Value::from(minijinja::value::Serde(v)),
            };
            (k.clone(), value)
        })
        .collect();
    Value::from_object(fields)
}

/// The review document of one customer (or of all agreements) as an HTML page
/// (`accord report --format review-html`, `GET /v1/report?format=review`).
pub fn render_review(
    report: &Report,
    customer: Option<&str>,
    customer_name: Option<&str>,
) -> Result<String, String> {
    let mut env = minijinja::Environment::new();
    env.add_template("review.html", REVIEW_TEMPLATE)
        .map_err(|e| e.to_string())?;
    let page = view::review(report, customer, customer_name);
    let mut top = match with_safe_charts(&page)
        .downcast_object::<std::collections::BTreeMap<String, Value>>()
    {
        Some(map) => (*map).clone(),
        None => return Err("the review view is not an object".into()),
    };
    let agreements: Vec<Value> = page["agreements"]
        .as_array()
        .into_iter()
        .flatten()
        .map(with_safe_charts)
        .collect();
    top.insert("agreements".into(), Value::from(agreements));
    env.get_template("review.html")
        .map_err(|e| e.to_string())?
        .render(Value::from_object(top))
        .map_err(|e| e.to_string())
}

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
        .map(with_safe_charts)
        .collect();
    env.get_template("report.html")
        .map_err(|e| e.to_string())?
        .render(minijinja::context! {
            period => Value::from(minijinja::value::Serde(&page["period"])),
            agreements => agreements,
        })
        .map_err(|e| e.to_string())
}

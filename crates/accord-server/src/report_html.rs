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

/// Pieces both pages share (one agreement's objectives, its credits).
const PARTS: [(&str, &str); 2] = [
    (
        "objectives.html",
        include_str!("../templates/objectives.html"),
    ),
    ("credits.html", include_str!("../templates/credits.html")),
];

/// A view object's fields as template values, its charts marked safe.
fn with_safe_charts(view: &serde_json::Value) -> std::collections::BTreeMap<String, Value> {
    view.as_object()
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
        .collect()
}

/// A view rendered by one of the built-in templates: its fields and each of its
/// `agreements` with their charts as SVG; an error only if a template is broken.
fn render_page(name: &str, template: &str, page: &serde_json::Value) -> Result<String, String> {
    let mut env = minijinja::Environment::new();
    for (part, text) in PARTS.into_iter().chain([(name, template)]) {
        env.add_template(part, text).map_err(|e| e.to_string())?;
    }
    let mut fields = with_safe_charts(page);
    let agreements: Vec<Value> = page["agreements"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| Value::from_object(with_safe_charts(a)))
        .collect();
    fields.insert("agreements".into(), Value::from(agreements));
    env.get_template(name)
        .map_err(|e| e.to_string())?
        .render(Value::from_object(fields))
        .map_err(|e| e.to_string())
}

/// The review document of one customer (or of all agreements) as an HTML page
/// (`accord report --format review-html`, `GET /v1/report?format=review`).
pub fn render_review(
    report: &Report,
    customer: Option<&str>,
    customer_name: Option<&str>,
) -> Result<String, String> {
    let page = view::review(report, customer, customer_name);
    render_page("review.html", REVIEW_TEMPLATE, &page)
}

/// Renders the report; an error only if the built-in template is broken.
pub fn render(report: &Report) -> Result<String, String> {
    render_page("report.html", TEMPLATE, &view::report(report))
}

//! OpenSLO v1 (`Service`, `SLI`, `SLO`) turned into SLA-as-code: each SLO becomes an
//! availability objective of an agreement per service, measured by time (`Timeslices`)
//! or by requests (`Occurrences`). What Accord cannot express is refused with the file,
//! line and column of the field, and nothing is written.

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_saphyr::Spanned;

use super::load::{Diagnostic, parse_typed, split_documents};

#[derive(Deserialize)]
struct Head {
    #[serde(rename = "apiVersion")]
    api_version: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
}

#[derive(Deserialize)]
struct Metadata {
    name: Spanned<String>,
    #[serde(rename = "displayName", default)]
    display_name: Option<String>,
}

#[derive(Deserialize)]
struct ServiceObject {
    metadata: Metadata,
}

#[derive(Deserialize)]
struct SliObject {
    metadata: Metadata,
    spec: SliSpec,
}

#[derive(Deserialize)]
struct SliSpec {
    #[serde(rename = "thresholdMetric", default)]
    threshold_metric: Option<Spanned<IgnoredAny>>,
    #[serde(rename = "ratioMetric", default)]
    ratio_metric: Option<Spanned<IgnoredAny>>,
}

#[derive(Deserialize)]
struct InlineSli {
    spec: SliSpec,
}

#[derive(Deserialize)]
struct SloObject {
    metadata: Metadata,
    spec: SloSpec,
}

#[derive(Deserialize)]
struct SloSpec {
    #[serde(default)]
    description: Option<String>,
    service: Spanned<String>,
    #[serde(default)]
    indicator: Option<InlineSli>,
    #[serde(rename = "indicatorRef", default)]
    indicator_ref: Option<Spanned<String>>,
    #[serde(rename = "timeWindow", default)]
    time_window: Vec<TimeWindow>,
    #[serde(rename = "budgetingMethod")]
    budgeting_method: Spanned<String>,
    objectives: Vec<SloObjective>,
    #[serde(rename = "alertPolicies", default)]
    alert_policies: Option<Spanned<IgnoredAny>>,
}

#[derive(Deserialize)]
struct TimeWindow {
    duration: Spanned<String>,
    #[serde(rename = "isRolling", default)]
    is_rolling: bool,
    #[serde(default)]
    calendar: Option<CalendarWindow>,
}

#[derive(Deserialize)]
struct CalendarWindow {
    #[serde(rename = "timeZone", default)]
    time_zone: Option<String>,
}

#[derive(Deserialize)]
struct SloObjective {
    #[serde(rename = "displayName", default)]
    display_name: Option<String>,
    #[serde(default)]
    op: Option<Spanned<String>>,
    #[serde(default)]
    value: Option<Spanned<f64>>,
    #[serde(default)]
    target: Option<Spanned<f64>>,
    #[serde(rename = "targetPercent", default)]
    target_percent: Option<Spanned<f64>>,
    #[serde(rename = "timeSliceTarget", default)]
    time_slice_target: Option<Spanned<f64>>,
    #[serde(default)]
    indicator: Option<Spanned<IgnoredAny>>,
    #[serde(rename = "indicatorRef", default)]
    indicator_ref: Option<Spanned<IgnoredAny>>,
}

/// What an import made: SLA-as-code documents as YAML text, and warnings (parts of the
/// OpenSLO documents Accord has no use for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    pub yaml: String,
    pub services: Vec<String>,
    pub objectives: Vec<String>,
    pub warnings: Vec<Diagnostic>,
}

fn at<T>(file: &str, path: String, span: &Spanned<T>, message: impl Into<String>) -> Diagnostic {
    Diagnostic {
        file: file.to_owned(),
        line: Some(span.referenced.line()).filter(|&l| l > 0),
        column: Some(span.referenced.column()).filter(|&c| c > 0),
        path,
        message: message.into(),
    }
}

/// `0.999` → `99.9%`, exactly as written (no float arithmetic).
fn fraction_as_percent(x: f64) -> Option<String> {
    let text = format!("{x}");
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let digits = format!("{whole}{fraction:0<2}");
    let (int, rest) = digits.split_at(whole.len() + 2);
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    Some(if rest.is_empty() {
        format!("{int}%")
    } else {
        format!("{int}.{rest}%")
    })
}

fn duration_ok(d: &str) -> bool {
    let (n, unit) = d.split_at(d.len().saturating_sub(1));
    !n.is_empty()
        && n.chars().all(|c| c.is_ascii_digit())
        && ["m", "h", "d", "w", "M", "Q", "Y"].contains(&unit)
}

fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

/// Converts one OpenSLO file. Every refusal is collected; any refusal means no output.
pub fn convert(file: &str, text: &str) -> Result<Converted, Vec<Diagnostic>> {
    let documents = split_documents(text, file).map_err(|d| vec![d])?;
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let mut services: Vec<(String, String)> = Vec::new();
    let mut slis: Vec<(String, SliSpec)> = Vec::new();
    let mut slos: Vec<SloObject> = Vec::new();
    for doc in &documents {
        let head: Head = match parse_typed(doc, file) {
            Ok(h) => h,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        match head.api_version.as_ref().map(|v| v.value.as_str()) {
            Some("openslo/v1") => {}
            other => {
                let message = format!(
                    "Accord reads OpenSLO v1 (`apiVersion: openslo/v1`), not {}",
                    other.map_or("a document without one".to_owned(), |v| format!("`{v}`"))
                );
                errors.push(match &head.api_version {
                    Some(span) => at(file, "apiVersion".into(), span, message),
                    None => Diagnostic {
                        file: file.to_owned(),
                        line: Some(doc.first_line as u64),
                        column: Some(1),
                        path: "apiVersion".into(),
                        message,
                    },
                });
                continue;
            }
        }
        let Some(kind) = head.kind else { continue };
        match kind.value.as_str() {
            "Service" => match parse_typed::<ServiceObject>(doc, file) {
                Ok(s) => {
                    let name = s.metadata.display_name.unwrap_or(s.metadata.name.value.clone());
                    services.push((s.metadata.name.value, name));
                }
                Err(e) => errors.push(e),
            },
            "SLI" => match parse_typed::<SliObject>(doc, file) {
                Ok(s) => slis.push((s.metadata.name.value, s.spec)),
                Err(e) => errors.push(e),
            },
            "SLO" => match parse_typed::<SloObject>(doc, file) {
                Ok(s) => slos.push(s),
                Err(e) => errors.push(e),
            },
            other => warnings.push(at(
                file,
                "kind".into(),
                &kind,
                format!("`{other}` is not used: Accord alerts on burn rates by itself (set `notify` on the objective)"),
            )),
        }
    }

    // Agreements per service, in order of first appearance.
    let mut agreements: Vec<(String, Vec<String>)> = Vec::new();
    let mut objective_ids = Vec::new();
    for slo in &slos {
        let name = &slo.metadata.name.value;
        let spec = &slo.spec;
        let sli = match (&spec.indicator, &spec.indicator_ref) {
            (Some(inline), _) => Some(&inline.spec),
            (None, Some(r)) => match slis.iter().find(|(n, _)| *n == r.value) {
                Some((_, s)) => Some(s),
                None => {
                    errors.push(at(
                        file,
                        "spec.indicatorRef".into(),
                        r,
                        format!("no SLI named `{}` in this file", r.value),
                    ));
                    None
                }
            },
            (None, None) => {
                errors.push(at(
                    file,
                    "spec".into(),
                    &slo.metadata.name,
                    format!("SLO `{name}` has neither `indicator` nor `indicatorRef`"),
                ));
                None
            }
        };
        if let Some(sli) = sli
            && sli.threshold_metric.is_none()
            && sli.ratio_metric.is_none()
        {
            errors.push(at(
                file,
                "spec.service".into(),
                &spec.service,
                format!("the indicator of SLO `{name}` has no ratioMetric (good/total)"),
            ));
        }
        if let Some(sli) = sli
            && let Some(threshold) = &sli.threshold_metric
        {
            errors.push(at(file, "indicator.spec.thresholdMetric".into(), threshold, "Accord measures availability from outage or request records, not from a metric against a threshold; use a ratioMetric (good/total) SLI"));
        }
        let measure = match spec.budgeting_method.value.as_str() {
            "Occurrences" => "requests",
            "Timeslices" => "time",
            other => {
                errors.push(at(file, "spec.budgetingMethod".into(), &spec.budgeting_method, format!("`{other}` cannot be expressed: Accord budgets by Occurrences (good ÷ valid requests) or Timeslices (time up ÷ time)")));
                "time"
            }
        };
        let mut windows = Vec::new();
        for (k, w) in spec.time_window.iter().enumerate() {
            if !duration_ok(&w.duration.value) {
                errors.push(at(
                    file,
                    format!("spec.timeWindow[{k}].duration"),
                    &w.duration,
                    format!(
                        "`{}` is not an OpenSLO duration such as 28d, 1w or 1M",
                        w.duration.value
                    ),
                ));
            }
            let kind = match (&w.calendar, w.is_rolling) {
                (Some(c), _) => format!(
                    "calendar{}",
                    c.time_zone
                        .as_ref()
                        .map(|z| format!(" in {z}"))
                        .unwrap_or_default()
                ),
                (None, true) => "rolling".into(),
                (None, false) => "fixed".into(),
            };
            windows.push(format!("{} {kind}", w.duration.value));
        }
        if let Some(policies) = &spec.alert_policies {
            warnings.push(at(file, "spec.alertPolicies".into(), policies, "alert policies are not imported: Accord alerts on multi-window burn rates for objectives with `notify`"));
        }
        let mut lines = Vec::new();
        for (k, o) in spec.objectives.iter().enumerate() {
            let path = |f: &str| format!("spec.objectives[{k}].{f}");
            if let Some(op) = &o.op {
                errors.push(at(file, path("op"), op, "a threshold (`op`, `value`) on a metric cannot be expressed: Accord counts outages or good requests"));
            } else if let Some(v) = &o.value {
                errors.push(at(
                    file,
                    path("value"),
                    v,
                    "a threshold value cannot be expressed: Accord counts outages or good requests",
                ));
            }
            if let Some(t) = &o.time_slice_target {
                errors.push(at(file, path("timeSliceTarget"), t, "Accord's time slices are seconds, each up or down by the outage records: a share of good events within a slice cannot be expressed"));
            }
            if let Some(i) = &o.indicator {
                errors.push(at(
                    file,
                    path("indicator"),
                    i,
                    "one indicator per SLO: per-objective indicators cannot be expressed",
                ));
            } else if let Some(i) = &o.indicator_ref {
                errors.push(at(
                    file,
                    path("indicatorRef"),
                    i,
                    "one indicator per SLO: per-objective indicators cannot be expressed",
                ));
            }
            let target = match (&o.target, &o.target_percent) {
                (Some(t), _) if t.value > 0.0 && t.value <= 1.0 => fraction_as_percent(t.value),
                (Some(t), _) => {
                    errors.push(at(
                        file,
                        path("target"),
                        t,
                        format!("a target is a share in (0, 1], not {}", t.value),
                    ));
                    None
                }
                (None, Some(p)) if p.value > 0.0 && p.value <= 100.0 => {
                    Some(format!("{}%", p.value))
                }
                (None, Some(p)) => {
                    errors.push(at(
                        file,
                        path("targetPercent"),
                        p,
                        format!("a percentage in (0, 100], not {}", p.value),
                    ));
                    None
                }
                (None, None) => {
                    errors.push(at(
                        file,
                        format!("spec.objectives[{k}]"),
                        &slo.metadata.name,
                        "an objective needs `target` or `targetPercent`",
                    ));
                    None
                }
            };
            let Some(target) = target else { continue };
            let id = if spec.objectives.len() == 1 {
                name.clone()
            } else {
                format!("{name}-{}", k + 1)
            };
            let mut comment = format!("OpenSLO SLO {name}");
            if let Some(d) = &o.display_name {
                comment.push_str(&format!(" ({d})"));
            }
            if !windows.is_empty() {
                comment.push_str(&format!("; window {}", windows.join(", ")));
            }
            comment.push_str(&format!("; {}", spec.budgeting_method.value));
            if let Some(d) = &spec.description {
                comment.push_str(&format!(": {}", d.lines().next().unwrap_or_default()));
            }
            lines.push(format!(
                "  # {comment}\n  - id: {id}\n    metric: availability\n    service: {}\n    target: {target}\n    measure: {measure}\n",
                spec.service.value
            ));
            objective_ids.push(id);
        }
        match agreements
            .iter_mut()
            .find(|(s, _)| *s == spec.service.value)
        {
            Some((_, objectives)) => objectives.extend(lines),
            None => agreements.push((spec.service.value.clone(), lines)),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut docs = Vec::new();
    for (id, name) in &services {
        docs.push(format!("kind: service\nid: {id}\nname: {}\n", quoted(name)));
    }
    for (service, objectives) in &agreements {
        docs.push(format!(
            "kind: agreement\ntype: sla\nid: openslo-{service}\nname: {}\nlevel: corporate\nobjectives:\n{}",
            quoted(&format!("OpenSLO objectives for {service}")),
            objectives.concat()
        ));
    }
    Ok(Converted {
        yaml: format!(
            "# Made by `accord import openslo` from {file}: edit the OpenSLO file and import it again.\n{}",
            docs.join("---\n")
        ),
        services: services.into_iter().map(|(id, _)| id).collect(),
        objectives: objective_ids,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Measure, SourceFile, Target, load};

    const FIXTURE: &str = include_str!("../../tests/fixtures/openslo.yaml");

    #[test]
    fn a_real_document_becomes_objectives_that_load() {
        let converted = convert("openslo.yaml", FIXTURE).unwrap();
        assert_eq!(converted.services, ["checkout"]);
        assert_eq!(
            converted.objectives,
            ["checkout-success", "checkout-uptime"]
        );
        assert_eq!(converted.warnings.len(), 1, "{:?}", converted.warnings);
        assert_eq!(converted.warnings[0].path, "spec.alertPolicies");
        // The YAML is SLA-as-code the one loader accepts.
        let files = [SourceFile {
            path: "openslo.yaml".into(),
            text: converted.yaml.clone(),
        }];
        let config = load(&files, &|p: &str| Err(format!("no {p}")))
            .unwrap_or_else(|e| panic!("{}\n{}", e[0], converted.yaml))
            .config;
        let agreement = &config.agreements[0];
        assert_eq!(agreement.id(), "openslo-checkout");
        let objectives: Vec<(&str, Option<Measure>, String)> = agreement
            .doc
            .objectives
            .iter()
            .zip(&agreement.targets)
            .map(|(o, t)| {
                let Target::Percent(p) = t else {
                    panic!("{t:?}")
                };
                (o.id.value.as_str(), o.measure, p.to_string())
            })
            .collect();
        assert_eq!(
            objectives,
            [
                (
                    "checkout-success",
                    Some(Measure::Requests),
                    "99.5%".to_owned()
                ),
                ("checkout-uptime", Some(Measure::Time), "99.9%".to_owned()),
            ]
        );
        assert!(converted.yaml.contains(
            "# OpenSLO SLO checkout-uptime; window 1M calendar in Europe/Berlin; Timeslices"
        ));
    }

    #[test]
    fn what_accord_cannot_express_is_refused_by_field_and_place() {
        let threshold = FIXTURE
            .replace(
                "budgetingMethod: Timeslices",
                "budgetingMethod: RatioTimeslices",
            )
            .replace(
                "    - targetPercent: 99.9",
                "    - targetPercent: 99.9\n      op: lte\n      value: 200",
            )
            .replace("    - duration: 28d", "    - duration: 28 days");
        let errors = convert("slo.yaml", &threshold).unwrap_err();
        let found: Vec<(String, Option<u64>)> =
            errors.iter().map(|e| (e.path.clone(), e.line)).collect();
        let line = |needle: &str| {
            threshold
                .lines()
                .position(|l| l.contains(needle))
                .map(|n| n as u64 + 1)
        };
        assert_eq!(
            found,
            [
                ("spec.timeWindow[0].duration".to_owned(), line("28 days")),
                ("spec.budgetingMethod".to_owned(), line("RatioTimeslices")),
                ("spec.objectives[0].op".to_owned(), line("op: lte")),
            ]
        );
        assert!(
            errors[1]
                .message
                .contains("`RatioTimeslices` cannot be expressed")
        );

        let missing = FIXTURE.replace(
            "indicatorRef: checkout-good-requests",
            "indicatorRef: nowhere",
        );
        let errors = convert("slo.yaml", &missing).unwrap_err();
        assert_eq!(errors[0].path, "spec.indicatorRef");
        assert!(errors[0].message.contains("no SLI named `nowhere`"));

        let old = "apiVersion: openslo/v2alpha\nkind: SLO\nmetadata: {name: x}\n";
        let errors = convert("slo.yaml", old).unwrap_err();
        assert_eq!(
            (errors[0].path.as_str(), errors[0].line),
            ("apiVersion", Some(1))
        );
    }

    #[test]
    fn fractions_become_exact_percentages() {
        for (x, p) in [
            (0.999, "99.9%"),
            (0.95, "95%"),
            (1.0, "100%"),
            (0.99999, "99.999%"),
            (0.5, "50%"),
        ] {
            assert_eq!(fraction_as_percent(x).as_deref(), Some(p), "{x}");
        }
    }
}

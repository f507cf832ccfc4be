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
    trend_text_as(trend, share)
}

/// [`trend_text`] with each point's result written by `text`.
fn trend_text_as(trend: &[TrendPoint], text: impl Fn(Option<f64>) -> String) -> String {
    if trend.is_empty() {
        return String::new();
    }
    let points: Vec<String> = trend.iter().map(|p| text(p.result)).collect();
    format!("; before: {}", points.join(", "))
}

/// What the documents say of a breach's cause before its case records one.
const NO_CAUSE: &str = "not recorded yet";

/// A breach as the documents list it: `case`, `ticket`, `objective`, `priority`,
/// `breached_at`, `cause`.
fn breach(b: &super::Breach) -> Value {
    json!({"case": b.case, "ticket": b.ticket, "objective": b.objective,
           "priority": b.priority.as_deref().unwrap_or("–"),
           "breached_at": b.breached_at.to_string(),
           "cause": b.cause.as_deref().unwrap_or(NO_CAUSE)})
}

/// `; P1 75%, P2 100%` (compliance per priority), or nothing.
fn priority_text(by_priority: &[super::PriorityResult]) -> String {
    let parts: Vec<String> = by_priority
        .iter()
        .map(|p| {
            format!(
                "{} {}",
                p.priority.as_deref().unwrap_or("no priority"),
                share(p.compliance)
            )
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("; {}", parts.join(", "))
    }
}

/// One agreement: `id`, `customer`, `type`, `version`, `watermelon`, `summary`,
/// `objectives` (each with `id`, `metric`, `achieved`, `result_text`, `goal_text`,
/// `detail`), `credits` owed (`objective`, `from`, `to`, `rate_text`, `amount_text`,
/// `currency`), `supported_by` (an SLA's OLA/UC objectives over its tickets:
/// `agreement`, `type`, `objective`, `result_text`, `detail`), `breaches` (the first
/// [`BREACHES_LISTED`]: `case`, `ticket`, `objective`, `priority`, `breached_at`,
/// `cause`), `breaches_not_listed` and `chart` (SVG text).
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
                       "detail": format!("{} met, {} breached{}{}", t.met, t.breached, priority_text(&t.by_priority), trend_text(&t.trend))})
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
                       "detail": format!("{} answers, {} good{}", e.responses, e.good,
                           trend_text_as(&e.trend, |r| r.map_or_else(|| "no answers".to_owned(), text)))})
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
    // The OLAs and UCs behind an SLA, one line per objective.
    let supported_by: Vec<Value> = a
        .supported_by
        .iter()
        .flat_map(|s| {
            s.objectives.iter().map(move |o| {
                json!({"agreement": s.agreement, "type": s.agreement_type, "objective": o.id,
                       "result_text": share(o.compliance),
                       "detail": format!("{} met, {} breached", o.met, o.breached)})
            })
        })
        .collect();
    let breaches: Vec<Value> = a
        .breaches
        .iter()
        .take(BREACHES_LISTED)
        .map(breach)
        .collect();
    json!({"id": a.id, "customer": a.customer, "type": a.agreement_type, "version": a.version,
           "watermelon": a.watermelon, "summary": summary(a), "objectives": objectives,
           "credits": credits, "supported_by": supported_by, "chart": bar_chart(&bars),
           "breaches": breaches,
           "breaches_not_listed": a.breaches.len().saturating_sub(BREACHES_LISTED)})
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

/// The review questions asked of every breach, with the `review` step's field that
/// answers each (docs/decisions.md, breach cases).
pub const REVIEW_QUESTIONS: [(&str, &str); 5] = [
    ("target_realistic", "Was the target realistic?"),
    ("configured_right", "Is the objective configured right?"),
    ("impact_team", "What did it cost the team?"),
    ("impact_customer", "What did it cost the customer?"),
    ("preventive_action", "What will prevent it next time?"),
];

/// How many breaches the documents list one by one (the JSON report has them all).
pub const BREACHES_LISTED: usize = 50;

/// A period's short name: `2026-10` for a month, `2026-Q4` for a quarter, `2026` for a
/// year, else its dates.
fn period_label(from: jiff::civil::Date, to: jiff::civil::Date) -> String {
    let whole_months = from.day() == 1 && to.tomorrow().is_ok_and(|d| d.day() == 1);
    let months = (i32::from(to.year()) - i32::from(from.year())) * 12 + i32::from(to.month())
        - i32::from(from.month())
        + 1;
    match (whole_months, months) {
        (true, 1) => format!("{}-{:02}", from.year(), from.month()),
        (true, 3) if (from.month() - 1) % 3 == 0 => {
            format!("{}-Q{}", from.year(), (from.month() - 1) / 3 + 1)
        }
        (true, 12) if from.month() == 1 => from.year().to_string(),
        _ => format!("{from} – {to}"),
    }
}

/// The quarterly business review (or any period's) of one customer's agreements, or of
/// all when `customer` is `None`: `title`, `period` (`from`, `to`, `label`), `summary`
/// (sentences), `trend_chart` (compliance and availability over the periods before and
/// this one), `priority_chart` and `cause_chart` (breaches counted), `agreements` (as
/// [`agreement`], each with `months`: per ticket objective its compliance per month),
/// `breaches` (the first [`BREACHES_LISTED`], each with its review `questions` and the
/// answers recorded) and `breaches_not_listed`.
pub fn review(r: &Report, customer: Option<&str>, customer_name: Option<&str>) -> Value {
    use super::svg::{Series, count_chart, line_chart};
    let agreements: Vec<&AgreementReport> = r
        .agreements
        .iter()
        .filter(|a| customer.is_none_or(|c| a.customer.as_deref() == Some(c)))
        .collect();
    let title = match (customer_name, customer) {
        (Some(name), _) | (None, Some(name)) => format!("Service review: {name}"),
        (None, None) => "Service review".to_owned(),
    };
    let label = period_label(r.period.from, r.period.to);

    // Compliance and availability over the periods before and this one.
    let mut periods: Vec<String> = Vec::new();
    let mut series = Vec::new();
    let several = agreements.len() > 1;
    for a in &agreements {
        for o in &a.objectives {
            let (trend, now) = match o {
                ObjectiveReport::Ticket(t) => (&t.trend, t.compliance),
                ObjectiveReport::Availability(v) => (&v.trend, v.availability),
                ObjectiveReport::Experience(_) => continue,
            };
            if periods.is_empty() {
                periods = trend.iter().map(|p| period_label(p.from, p.to)).collect();
                periods.push(label.clone());
            }
            let mut points: Vec<Option<f64>> = trend.iter().map(|p| p.result).collect();
            points.push(now);
            // A line with nothing to draw only crowds the legend.
            if points.iter().all(Option::is_none) {
                continue;
            }
            series.push(Series {
                label: if several {
                    format!("{} · {}", a.id, o.id())
                } else {
                    o.id().to_owned()
                },
                points,
            });
        }
    }

    // Breaches by priority (in the objectives' priority order) and by cause.
    let mut by_priority: Vec<(String, u64)> = Vec::new();
    let mut by_cause: Vec<(String, u64)> = Vec::new();
    let add = |list: &mut Vec<(String, u64)>, key: String, n: u64| match list
        .iter_mut()
        .find(|(k, _)| *k == key)
    {
        Some((_, sum)) => *sum += n,
        None => list.push((key, n)),
    };
    for a in &agreements {
        for o in &a.objectives {
            if let ObjectiveReport::Ticket(t) = o {
                for p in t.by_priority.iter().filter(|p| p.breached > 0) {
                    let name = p.priority.clone().unwrap_or_else(|| "no priority".into());
                    add(&mut by_priority, name, p.breached);
                }
            }
        }
        for b in &a.breaches {
            let cause = b.cause.as_deref().unwrap_or(NO_CAUSE).to_owned();
            add(&mut by_cause, cause, 1);
        }
    }
    by_cause.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));

    let mut breaches: Vec<(&str, &super::Breach)> = agreements
        .iter()
        .flat_map(|a| a.breaches.iter().map(|b| (a.id.as_str(), b)))
        .collect();
    breaches.sort_by(|x, y| (x.1.breached_at, &x.1.case).cmp(&(y.1.breached_at, &y.1.case)));
    let total_breaches = breaches.len();
    let listed: Vec<Value> = breaches
        .iter()
        .take(BREACHES_LISTED)
        .map(|(agreement, b)| {
            let questions: Vec<Value> = REVIEW_QUESTIONS
                .iter()
                .map(|(field, question)| {
                    let answer = match b.review.as_ref().and_then(|r| r.get(*field)) {
                        Some(Value::Bool(true)) => "yes".to_owned(),
                        Some(Value::Bool(false)) => "no".to_owned(),
                        Some(Value::String(s)) if !s.is_empty() => s.clone(),
                        _ => "to discuss".to_owned(),
                    };
                    json!({"question": question, "answer": answer})
                })
                .collect();
            let mut v = breach(b);
            v["agreement"] = Value::from(*agreement);
            v["questions"] = Value::from(questions);
            v
        })
        .collect();

    let sections: Vec<Value> = agreements
        .iter()
        .map(|a| {
            let mut v = agreement(a);
            let months: Vec<Value> = a
                .objectives
                .iter()
                .filter_map(|o| match o {
                    ObjectiveReport::Ticket(t) => Some(json!({"id": t.id,
                        "months": t.by_month.iter().map(|m| json!({
                            "label": period_label(m.from, m.to),
                            "text": if m.met + m.breached == 0 {
                                "–".to_owned()
                            } else {
                                format!("{} ({} of {})", share(m.compliance), m.met, m.met + m.breached)
                            },
                        })).collect::<Vec<_>>()})),
                    _ => None,
                })
                .collect();
            v["months"] = Value::from(months);
            v
        })
        .collect();

    json!({"title": title,
           "period": {"from": r.period.from.to_string(), "to": r.period.to.to_string(), "label": label},
           "summary": review_summary(&agreements, total_breaches, &by_cause),
           "trend_chart": line_chart(&periods, &series),
           "priority_chart": count_chart(&by_priority),
           "cause_chart": count_chart(&by_cause),
           "credits_chart": credits_chart(&agreements),
           "agreements": sections,
           "breaches": listed,
           "breaches_not_listed": total_breaches.saturating_sub(BREACHES_LISTED)})
}

/// The credits owed per agreement and objective, as bars labelled with their amounts
/// (an empty chart says none).
fn credits_chart(agreements: &[&AgreementReport]) -> String {
    let mut owed: Vec<(String, f64, String)> = Vec::new();
    for a in agreements {
        for c in a.credits.iter().filter(|c| c.amount > 0.0) {
            let label = format!("{} · {}", a.id, c.objective);
            match owed
                .iter_mut()
                .find(|(l, _, cur)| *l == label && *cur == c.currency)
            {
                Some((_, sum, _)) => *sum += c.amount,
                None => owed.push((label, c.amount, c.currency.clone())),
            }
        }
    }
    super::svg::amount_chart(&owed)
}

/// The review's opening in plain words: objectives met, breaches and their main cause,
/// credits, and the watermelon warning.
fn review_summary(
    agreements: &[&AgreementReport],
    breaches: usize,
    by_cause: &[(String, u64)],
) -> Vec<String> {
    let judged: Vec<bool> = agreements
        .iter()
        .flat_map(|a| a.objectives.iter().filter_map(ObjectiveReport::achieved))
        .collect();
    let mut out = Vec::new();
    if agreements.is_empty() {
        out.push("No agreement was in force in this period.".to_owned());
        return out;
    }
    out.push(if judged.is_empty() {
        "No objective had results in this period.".to_owned()
    } else {
        format!(
            "{} of {} objectives were met.",
            judged.iter().filter(|ok| **ok).count(),
            judged.len()
        )
    });
    out.push(
        match (breaches, by_cause.iter().find(|(c, _)| c != NO_CAUSE)) {
            (0, _) => "No promise was broken.".to_owned(),
            (1, _) => "One promise was broken; its review is below.".to_owned(),
            (n, Some((cause, k))) => {
                format!(
                    "{n} promises were broken; the most common recorded cause was {cause} ({k})."
                )
            }
            (n, None) => {
                format!("{n} promises were broken; their causes are still to be recorded.")
            }
        },
    );
    for a in agreements {
        out.push(format!("{}: {}", a.id, summary(a)));
        if a.watermelon {
            out.push(format!(
                "{}: every service level was met, but customers are not happy (an experience objective was missed).",
                a.id
            ));
        }
    }
    out
}

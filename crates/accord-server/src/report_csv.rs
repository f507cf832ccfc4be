//! The period report as CSV (`accord report --format csv`, `GET /v1/report?format=csv`):
//! one row per agreement and objective over the whole period, then, for ticket
//! objectives, one row per priority and one per calendar month (`breakdown`), so a
//! spreadsheet gets the same figures as the JSON.

use std::io::Write;

use accord_core::report::{ObjectiveReport, Report};

/// The header row. The first fifteen columns are those of the first version; the
/// breakdown columns came after them so readers of that version keep working.
pub const COLUMNS: [&str; 19] = [
    "agreement",
    "customer",
    "objective",
    "metric",
    "met",
    "breached",
    "result",
    "goal",
    "achieved",
    "downtime_seconds",
    "eligible_seconds",
    "good_requests",
    "valid_requests",
    "responses",
    "good_answers",
    "breakdown",
    "priority",
    "from",
    "to",
];

fn text<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// Writes `report` as CSV. `breakdown` is `period` for the whole period (`from` and `to`
/// its dates), `priority` for one priority of a ticket objective (an empty `priority`:
/// tickets without one), `month` for one calendar month cut to the period.
pub fn write(report: &Report, out: impl Write) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(COLUMNS)?;
    let (from, to) = (report.period.from.to_string(), report.period.to.to_string());
    for a in &report.agreements {
        let customer = a.customer.clone().unwrap_or_default();
        // The columns every row of this objective shares, then its own.
        let row = |objective: &str, metric: &str, rest: [String; 11], tail: [String; 4]| {
            let mut row = vec![
                a.id.clone(),
                customer.clone(),
                objective.to_owned(),
                metric.to_owned(),
            ];
            row.extend(rest);
            row.extend(tail);
            row
        };
        let period = || ["period".to_owned(), String::new(), from.clone(), to.clone()];
        for o in &a.objectives {
            match o {
                ObjectiveReport::Ticket(t) => {
                    let counts = |met: u64,
                                  breached: u64,
                                  compliance: Option<f64>,
                                  goal: String,
                                  achieved: String| {
                        [
                            met.to_string(),
                            breached.to_string(),
                            text(compliance),
                            goal,
                            achieved,
                            String::new(),
                            String::new(),
                            String::new(),
                            String::new(),
                            String::new(),
                            String::new(),
                        ]
                    };
                    w.write_record(row(
                        &t.id,
                        t.metric,
                        counts(
                            t.met,
                            t.breached,
                            t.compliance,
                            text(t.goal),
                            text(t.achieved),
                        ),
                        period(),
                    ))?;
                    for p in &t.by_priority {
                        w.write_record(row(
                            &t.id,
                            t.metric,
                            counts(
                                p.met,
                                p.breached,
                                p.compliance,
                                String::new(),
                                String::new(),
                            ),
                            [
                                "priority".to_owned(),
                                text(p.priority.as_deref()),
                                String::new(),
                                String::new(),
                            ],
                        ))?;
                    }
                    for m in &t.by_month {
                        w.write_record(row(
                            &t.id,
                            t.metric,
                            counts(
                                m.met,
                                m.breached,
                                m.compliance,
                                String::new(),
                                String::new(),
                            ),
                            [
                                "month".to_owned(),
                                String::new(),
                                m.from.to_string(),
                                m.to.to_string(),
                            ],
                        ))?;
                    }
                }
                ObjectiveReport::Availability(v) => {
                    w.write_record(row(
                        &v.id,
                        v.metric,
                        [
                            String::new(),
                            String::new(),
                            text(v.availability),
                            v.target.to_string(),
                            text(v.achieved),
                            text(v.downtime_seconds),
                            text(v.eligible_seconds),
                            text(v.good_requests),
                            text(v.valid_requests),
                            String::new(),
                            String::new(),
                        ],
                        period(),
                    ))?;
                }
                ObjectiveReport::Experience(e) => {
                    w.write_record(row(
                        &e.id,
                        e.metric,
                        [
                            String::new(),
                            String::new(),
                            text(e.score),
                            e.target.to_string(),
                            text(e.achieved),
                            String::new(),
                            String::new(),
                            String::new(),
                            String::new(),
                            e.responses.to_string(),
                            e.good.to_string(),
                        ],
                        period(),
                    ))?;
                }
            }
        }
    }
    w.flush()?;
    Ok(())
}

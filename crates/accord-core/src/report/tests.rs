//! A hand-computed month: ticket compliance, availability with overlapping, partial,
//! boundary-crossing outages and excluded maintenance, and credits at and around each
//! tier bound; periods of every form.

use jiff::Timestamp;

use super::*;
use crate::availability::Outage;
use crate::clock::ClockResult;
use crate::policy::{AgreementType, SourceFile, Tier, load};

const CONFIG: &str = "\
kind: customer
id: acme
name: Acme
---
kind: service
id: email
name: E-mail
---
kind: agreement
type: sla
id: acme-gold
customer: acme
level: customer
fee: {amount: 5000, currency: EUR, per: month}
objectives:
  - {id: res, metric: resolution, target: 4h, compliance: 90%}
  - {id: first, metric: first_response, target: 1h}
  - {id: email-uptime, metric: availability, service: email, target: 99.9%, exclude: scheduled_maintenance}
credits:
  - objective: email-uptime
    tiers: [{below: 99.9%, credit: 10%}, {below: 99.0%, credit: 25%}, {below: 95%, credit: 100%}]
    cap: 50%
  - objective: res
    tiers: [{below: 90%, credit: 5%}]
";

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn config() -> Config {
    let files = [SourceFile {
        path: "a.yaml".into(),
        text: CONFIG.into(),
    }];
    match load(&files, &|p: &str| Err(format!("no {p}"))) {
        Ok(l) => l.config,
        Err(e) => panic!("{}", e[0]),
    }
}

fn clock(ticket: &str, objective: &str, state: ClockState, at: &str) -> ClockResult {
    let at = t(at);
    ClockResult {
        ticket: ticket.into(),
        agreement_type: AgreementType::Sla,
        agreement: "acme-gold".into(),
        version: 1,
        objective: objective.into(),
        metric: Metric::Resolution,
        cycle: 1,
        state,
        priority: Some("P2".into()),
        started_at: at,
        stopped_at: (state == ClockState::Met).then_some(at),
        breached_at: (state == ClockState::Breached).then_some(at),
        deadline: None,
        elapsed_seconds: 0,
        target_seconds: 4 * 3600,
        internal_deadline: None,
        milestones: Vec::new(),
    }
}

fn clocks() -> Vec<ClockResult> {
    let mut out: Vec<ClockResult> = (0..9)
        .map(|i| {
            clock(
                &format!("N{i}"),
                "res",
                ClockState::Met,
                "2026-11-05T10:00:00Z",
            )
        })
        .collect();
    out.push(clock(
        "N9",
        "res",
        ClockState::Breached,
        "2026-11-30T23:59:59Z",
    ));
    // N6–N9 are P1 tickets, the others P2.
    for c in &mut out[6..10] {
        c.priority = Some("P1".into());
    }
    // Outside November, or not ended: not counted there.
    out.push(clock("O1", "res", ClockState::Met, "2026-10-31T23:59:59Z"));
    out.push(clock(
        "D1",
        "res",
        ClockState::Breached,
        "2026-12-01T00:00:00Z",
    ));
    out.push(clock(
        "R1",
        "res",
        ClockState::Running,
        "2026-11-20T00:00:00Z",
    ));
    out
}

fn ends(clocks: &[ClockResult]) -> Vec<ClockEnd<'_>> {
    clocks.iter().map(ClockEnd::from).collect()
}

fn outage(id: &str, from: &str, to: &str, impact: f64) -> Outage {
    let json =
        serde_json::json!({"id": id, "service": "email", "from": from, "to": to, "impact": impact});
    serde_json::from_value(json).unwrap()
}

fn records() -> ServiceRecords {
    ServiceRecords {
        outages: vec![
            outage("o1", "2026-11-10T10:00:00Z", "2026-11-10T11:30:00Z", 1.0),
            outage("o2", "2026-11-10T11:00:00Z", "2026-11-10T12:00:00Z", 0.5),
            outage("o3", "2026-10-31T23:00:00Z", "2026-11-01T01:00:00Z", 1.0),
            outage("o4", "2026-11-15T03:00:00Z", "2026-11-15T05:00:00Z", 1.0),
            // Another service: not counted.
            outage("x", "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z", 1.0),
        ]
        .into_iter()
        .map(|mut o| {
            if o.id == "x" {
                o.service = "chat".into();
            }
            o
        })
        .collect(),
        maintenance: vec![crate::availability::Maintenance {
            id: "m1".into(),
            service: "email".into(),
            from: t("2026-11-15T02:00:00Z"),
            to: t("2026-11-15T04:00:00Z"),
            announced_at: None,
        }],
        requests: Vec::new(),
        surveys: Vec::new(),
    }
}

fn json(r: &Report) -> serde_json::Value {
    serde_json::to_value(r).unwrap()
}

#[test]
fn a_hand_computed_month() {
    let cfg = config();
    let period: PeriodSpec = "2026-11".parse().unwrap();
    let r = report(
        &cfg,
        &ends(&clocks()),
        &records(),
        &period,
        t("2026-12-01T00:00:00Z"),
    );
    let v = json(&r);
    assert_eq!(
        v["period"],
        serde_json::json!({"from": "2026-11-01", "to": "2026-11-30"})
    );
    let a = &v["agreements"][0];
    assert_eq!(a["id"], "acme-gold");
    // 9 met and 1 breached in November: 90 % against a 90 % goal.
    assert_eq!(
        a["objectives"][0],
        serde_json::json!({"id": "res", "metric": "resolution", "met": 9, "breached": 1,
                           "compliance": 0.9, "goal": 0.9, "achieved": true,
                           // P1 first (the default priorities' order): 3 met, N9 breached.
                           "by_priority": [
            {"priority": "P1", "met": 3, "breached": 1, "compliance": 0.75},
            {"priority": "P2", "met": 6, "breached": 0, "compliance": 1.0},
        ],
                           "by_month": [
            {"from": "2026-11-01", "to": "2026-11-30", "met": 9, "breached": 1, "compliance": 0.9},
        ],
                           // The three months before: only October has a clock (O1, met).
                           "trend": [
            {"from": "2026-08-01", "to": "2026-08-31", "result": null, "achieved": null},
            {"from": "2026-09-01", "to": "2026-09-30", "result": null, "achieved": null},
            {"from": "2026-10-01", "to": "2026-10-31", "result": 1.0, "achieved": true},
        ]})
    );
    // No clocks, no goal: nulls.
    assert_eq!(
        a["objectives"][1],
        serde_json::json!({"id": "first", "metric": "first_response", "met": 0, "breached": 0,
                           "compliance": null, "goal": null, "achieved": null, "by_priority": [],
                           "by_month": [
            {"from": "2026-11-01", "to": "2026-11-30", "met": 0, "breached": 0, "compliance": null},
        ], "trend": [
            {"from": "2026-08-01", "to": "2026-08-31", "result": null, "achieved": null},
            {"from": "2026-09-01", "to": "2026-09-30", "result": null, "achieved": null},
            {"from": "2026-10-01", "to": "2026-10-31", "result": null, "achieved": null},
        ]})
    );
    // Availability's trend: o3's October part (from 23:00 on the 31st) is October's only
    // downtime.
    let trend = &a["objectives"][2]["trend"];
    assert_eq!(trend[0]["result"], 1.0);
    assert_eq!(trend[1]["achieved"], true);
    assert_eq!(trend[2]["from"], "2026-10-01");
    assert_eq!(trend[2]["result"], 2_674_800.0 / 2_678_400.0);
    assert_eq!(trend[2]["achieved"], false);
    // Down 5,400 + 900 (overlap at the higher impact) + 3,600 (o3's November hour) +
    // 3,600 (o4 after the excluded window) = 13,500 s of 2,592,000 − 7,200 eligible.
    let up = &a["objectives"][2];
    assert_eq!(up["downtime_seconds"], 13_500.0);
    assert_eq!(up["eligible_seconds"], 2_584_800);
    assert_eq!(up["availability"], 2_571_300.0 / 2_584_800.0);
    assert_eq!(up["target"], 0.999);
    assert_eq!(up["achieved"], false);
    assert_eq!(
        up["error_budget"],
        serde_json::json!({"unit": "seconds", "budget": 2_584.8, "spent": 13_500.0, "remaining": 2_584.8 - 13_500.0})
    );
    // 99.48 %: below 99.9 %, not below 99 %: 10 % of 5,000 EUR. Compliance 90 % is not
    // below 90 %: nothing.
    assert_eq!(
        a["credits"],
        serde_json::json!([
            {"objective": "email-uptime", "from": "2026-11-01", "to": "2026-11-30", "rate": 0.1, "amount": 500.0, "currency": "EUR"},
            {"objective": "res", "from": "2026-11-01", "to": "2026-11-30", "rate": 0.0, "amount": 0.0, "currency": "EUR"},
        ])
    );
}

#[test]
fn a_quarter_lists_a_credit_per_month_and_a_shorter_period_none() {
    let cfg = config();
    let q4: PeriodSpec = "2026-Q4".parse().unwrap();
    let r = json(&report(
        &cfg,
        &ends(&clocks()),
        &records(),
        &q4,
        t("2027-01-01T00:00:00Z"),
    ));
    let credits = r["agreements"][0]["credits"].as_array().unwrap();
    let months: Vec<(&str, &str, f64)> = credits
        .iter()
        .map(|c| {
            (
                c["objective"].as_str().unwrap(),
                c["from"].as_str().unwrap(),
                c["rate"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        months,
        [
            // October: o3's last hour, 3,600 s of 2,678,400 (99.87 %).
            ("email-uptime", "2026-10-01", 0.1),
            ("email-uptime", "2026-11-01", 0.1),
            ("email-uptime", "2026-12-01", 0.0),
            ("res", "2026-10-01", 0.0),
            ("res", "2026-11-01", 0.0),
            // December: the one clock breached: 0 % < 90 %.
            ("res", "2026-12-01", 0.05),
        ]
    );
    let half: PeriodSpec = "2026-11-01..2026-11-15".parse().unwrap();
    let r = json(&report(
        &cfg,
        &ends(&clocks()),
        &records(),
        &half,
        t("2027-01-01T00:00:00Z"),
    ));
    assert_eq!(r["agreements"][0]["credits"], serde_json::json!([]));
}

#[test]
fn thirty_days_ending_at_the_month_end_is_the_month() {
    let cfg = config();
    let at = t("2026-12-01T00:00:00Z");
    let month = report(
        &cfg,
        &ends(&clocks()),
        &records(),
        &"2026-11".parse().unwrap(),
        at,
    );
    let days = report(
        &cfg,
        &ends(&clocks()),
        &records(),
        &"30d".parse().unwrap(),
        at,
    );
    // Their trends differ: months before the month, 30-day windows before the 30 days.
    let without_trend = |mut r: Report| {
        for a in &mut r.agreements {
            for o in &mut a.objectives {
                match o {
                    ObjectiveReport::Ticket(t) => t.trend.clear(),
                    ObjectiveReport::Availability(a) => a.trend.clear(),
                    ObjectiveReport::Experience(_) => {}
                }
            }
        }
        r
    };
    let ObjectiveReport::Ticket(t) = &days.agreements[0].objectives[0] else {
        panic!("a ticket objective first");
    };
    assert_eq!(t.trend[2].from.to_string(), "2026-10-02");
    assert_eq!(without_trend(month), without_trend(days));
}

#[test]
fn tiers_at_and_around_each_bound() {
    let tiers: Vec<Tier> = serde_json::from_str(
        r#"[{"below":"99.9%","credit":"10%"},{"below":"99.0%","credit":"25%"},{"below":"95%","credit":"100%"}]"#,
    )
    .unwrap();
    let cap: Percent = "50%".parse().unwrap();
    let rate = |part: i128, whole: i128| {
        credit_rate(Fraction::new(part, whole), &tiers, Some(cap)).map(Percent::to_f64)
    };
    assert_eq!(rate(999, 1000), None);
    assert_eq!(rate(9_989_999, 10_000_000), Some(0.1));
    assert_eq!(rate(990, 1000), Some(0.1));
    assert_eq!(rate(98_999, 100_000), Some(0.25));
    assert_eq!(rate(950, 1000), Some(0.25));
    // 100 % is owed below 95 %, capped at 50 %.
    assert_eq!(rate(94_999, 100_000), Some(0.5));
    assert_eq!(rate(0, 1000), Some(0.5));
    assert_eq!(credit_rate(None, &tiers, Some(cap)), None);
    assert_eq!(
        credit_rate(Fraction::new(0, 1), &tiers, None).map(Percent::to_f64),
        Some(1.0)
    );
}

#[test]
fn periods_of_every_form() {
    let dates = |s: &str| match s.parse::<PeriodSpec>().unwrap() {
        PeriodSpec::Dates { from, to } => (from.to_string(), to.to_string()),
        other => panic!("{other:?}"),
    };
    assert_eq!(dates("2026"), ("2026-01-01".into(), "2026-12-31".into()));
    assert_eq!(dates("2026-02"), ("2026-02-01".into(), "2026-02-28".into()));
    assert_eq!(dates("2026-Q4"), ("2026-10-01".into(), "2026-12-31".into()));
    assert_eq!(
        dates("2026-W45"),
        ("2026-11-02".into(), "2026-11-08".into())
    );
    assert_eq!(
        dates("2026-11-01..2026-11-15"),
        ("2026-11-01".into(), "2026-11-15".into())
    );
    assert_eq!("30d".parse::<PeriodSpec>(), Ok(PeriodSpec::LastDays(30)));
    for bad in [
        "2026-13",
        "2026-Q5",
        "2026-W60",
        "2026-11-15..2026-11-01",
        "0d",
        "soon",
    ] {
        let err = bad.parse::<PeriodSpec>().unwrap_err();
        assert!(err.contains(bad), "{bad}: {err}");
    }
    // A month in New York: from local midnight to local midnight (EST from 1 November).
    let tz = jiff::tz::TimeZone::get("America/New_York").unwrap();
    let span = "2026-11"
        .parse::<PeriodSpec>()
        .unwrap()
        .span(&tz, Timestamp::UNIX_EPOCH);
    assert_eq!(span.from, t("2026-11-01T04:00:00Z"));
    assert_eq!(span.to, t("2026-12-01T05:00:00Z"));
}

#[test]
fn a_request_based_objective_counts_good_over_valid() {
    let files = [SourceFile {
        path: "a.yaml".into(),
        text: "kind: service\nid: api\nname: API\n---\nkind: agreement\ntype: sla\nid: api\nobjectives:\n  - {id: api-success, metric: availability, service: api, target: 99%, measure: requests}\n".into(),
    }];
    let cfg = load(&files, &|p: &str| Err(format!("no {p}")))
        .unwrap()
        .config;
    let requests = |id: &str, from: &str, good: u64, valid: u64| crate::availability::Requests {
        id: id.into(),
        service: "api".into(),
        from: t(from),
        to: t(from)
            .checked_add(jiff::SignedDuration::from_mins(5))
            .unwrap(),
        good,
        valid,
    };
    let records = ServiceRecords {
        requests: vec![
            requests("r1", "2026-11-10T10:00:00Z", 990, 1000),
            requests("r2", "2026-11-10T10:05:00Z", 1000, 1000),
            requests("r3", "2026-12-01T00:00:00Z", 0, 1000),
        ],
        ..ServiceRecords::default()
    };
    let r = json(&report(
        &cfg,
        &[],
        &records,
        &"2026-11".parse().unwrap(),
        t("2026-12-01T00:00:00Z"),
    ));
    assert_eq!(
        r["agreements"][0]["objectives"][0],
        serde_json::json!({"id": "api-success", "metric": "availability", "service": "api", "measure": "requests",
        "availability": 0.995, "downtime_seconds": null, "eligible_seconds": null,
        "good_requests": 1990, "valid_requests": 2000, "target": 0.99, "achieved": true,
        "error_budget": {"unit": "requests", "budget": 20.0, "spent": 10.0, "remaining": 10.0},
        // No requests counted before November: no result.
        "trend": [
            {"from": "2026-08-01", "to": "2026-08-31", "result": null, "achieved": null},
            {"from": "2026-09-01", "to": "2026-09-30", "result": null, "achieved": null},
            {"from": "2026-10-01", "to": "2026-10-31", "result": null, "achieved": null},
        ]})
    );
}

#[test]
fn experience_beside_the_sla_and_the_watermelon_flag() {
    let text = format!(
        "{CONFIG}---\nkind: agreement\ntype: sla\nid: acme-xla\ncustomer: acme\nlevel: customer\nobjectives:\n  - {{id: res, metric: resolution, target: 4h, compliance: 90%}}\n  - {{id: happy, metric: csat, target: 80%}}\n  - {{id: effort, metric: ces, target: 3.0}}\n"
    );
    let files = [SourceFile {
        path: "a.yaml".into(),
        text,
    }];
    let cfg = load(&files, &|p: &str| Err(format!("no {p}")))
        .unwrap()
        .config;
    let facts = crate::policy::TicketFacts {
        customer: Some("acme".into()),
        ..Default::default()
    };
    let survey = |n: u32, csat: Option<u8>, ces: Option<u8>| {
        let survey = crate::experience::Survey {
            id: format!("v{n}").into(),
            ticket: format!("N{n}").into(),
            at: t("2026-11-20T10:00:00Z"),
            csat,
            ces,
            comment: None,
        };
        (survey, facts.clone())
    };
    let mut records = records();
    records.surveys = vec![
        survey(1, Some(5), Some(2)),
        survey(2, Some(4), Some(3)),
        survey(3, Some(3), Some(5)),
        survey(4, Some(2), None),
        survey(5, Some(5), None),
    ];
    // October: one happy answer with a high effort (the trend's last point).
    let mut october = survey(6, Some(5), Some(6));
    october.0.at = t("2026-10-05T10:00:00Z");
    records.surveys.push(october);
    // The clocks of acme-xla: 9 met, 1 breached (90 %, the goal).
    let clocks: Vec<ClockResult> = clocks()
        .into_iter()
        .map(|mut c| {
            c.agreement = "acme-xla".into();
            c
        })
        .collect();
    let r = json(&report(
        &cfg,
        &ends(&clocks),
        &records,
        &"2026-11".parse().unwrap(),
        t("2026-12-01T00:00:00Z"),
    ));
    let xla = r["agreements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "acme-xla")
        .unwrap();
    assert_eq!(xla["objectives"][0]["achieved"], true);
    // CSAT: 3 of 5 answers are 4 or 5: 60 % < 80 %.
    assert_eq!(
        xla["objectives"][1],
        serde_json::json!({"id": "happy", "metric": "csat", "responses": 5, "good": 3, "score": 0.6, "target": 0.8, "achieved": false,
                           "trend": [
            {"from": "2026-08-01", "to": "2026-08-31", "result": null, "achieved": null},
            {"from": "2026-09-01", "to": "2026-09-30", "result": null, "achieved": null},
            {"from": "2026-10-01", "to": "2026-10-31", "result": 1.0, "achieved": true},
        ]})
    );
    // Effort in October: 6, above the ceiling.
    assert_eq!(
        xla["objectives"][2]["trend"][2],
        serde_json::json!({"from": "2026-10-01", "to": "2026-10-31", "result": 6.0, "achieved": false})
    );
    // Effort: (2 + 3 + 5) / 3 = 3.33, above the 3.0 ceiling.
    assert_eq!(xla["objectives"][2]["responses"], 3);
    assert_eq!(xla["objectives"][2]["good"], 2);
    assert_eq!(xla["objectives"][2]["score"], 10.0 / 3.0);
    assert_eq!(xla["objectives"][2]["achieved"], false);
    assert_eq!(xla["watermelon"], true, "SLA met, experience missed");
    // acme-gold has no experience objective: no watermelon.
    assert_eq!(r["agreements"][0]["watermelon"], false);
}

#[test]
fn each_period_form_has_the_period_before() {
    let before = |p: &str| {
        let spec: PeriodSpec = p.parse().unwrap();
        match spec.previous() {
            Some(PeriodSpec::Dates { from, to }) => format!("{from}..{to}"),
            other => format!("{other:?}"),
        }
    };
    assert_eq!(before("2026-03"), "2026-02-01..2026-02-28");
    assert_eq!(before("2026-01"), "2025-12-01..2025-12-31");
    assert_eq!(before("2026-Q1"), "2025-10-01..2025-12-31");
    assert_eq!(before("2026"), "2025-01-01..2025-12-31");
    assert_eq!(before("2026-W45"), "2026-10-26..2026-11-01");
    assert_eq!(before("2026-11-01..2026-11-15"), "2026-10-17..2026-10-31");
    assert_eq!(before("2026-10-01..2026-11-30"), "2026-08-01..2026-09-30");
    assert_eq!(before("30d"), "None");

    // Rolling days: the same number of days before, three times, oldest first.
    let at = t("2026-12-01T00:00:00Z");
    let spans = "30d"
        .parse::<PeriodSpec>()
        .unwrap()
        .trend_spans(&TimeZone::UTC, at);
    let dates: Vec<String> = spans
        .iter()
        .map(|s| format!("{}..{}", s.first_date, s.last_date))
        .collect();
    assert_eq!(
        dates,
        [
            "2026-08-03..2026-09-01",
            "2026-09-02..2026-10-01",
            "2026-10-02..2026-10-31"
        ]
    );
    assert_eq!(spans[2].to, t("2026-11-01T00:00:00Z"));
}

#[test]
fn the_page_shows_the_periods_before() {
    let cfg = config();
    let r = report(
        &cfg,
        &ends(&clocks()),
        &records(),
        &"2026-11".parse().unwrap(),
        t("2026-12-01T00:00:00Z"),
    );
    let page = view::agreement(&r.agreements[0]);
    assert_eq!(
        page["objectives"][0]["detail"],
        "9 met, 1 breached; P1 75%, P2 100%; before: no data, no data, 100%"
    );
    let uptime = page["objectives"][2]["detail"].as_str().unwrap();
    assert!(
        uptime.ends_with("; before: 100%, 100%, 99.866%"),
        "{uptime}"
    );
}

/// A quarter breaks down into its three months; priorities outside the agreement's list
/// come after it (bytewise), tickets without one last; every breach is listed with its
/// case, and its cause once the case has one.
#[test]
fn breakdowns_by_priority_and_month_and_the_breaches() {
    let cfg = config();
    let mut clocks = vec![
        clock("A", "res", ClockState::Met, "2026-10-03T10:00:00Z"),
        clock("B", "res", ClockState::Breached, "2026-10-31T23:59:59Z"),
        clock("C", "res", ClockState::Met, "2026-11-01T00:00:00Z"),
        clock("D", "res", ClockState::Breached, "2026-12-24T08:00:00Z"),
        clock("E", "res", ClockState::Met, "2026-12-31T23:59:59Z"),
        clock("F", "res", ClockState::Breached, "2026-12-02T00:00:00Z"),
        // After the quarter: not counted.
        clock("G", "res", ClockState::Breached, "2027-01-01T00:00:00Z"),
    ];
    clocks[1].priority = Some("urgent".into());
    clocks[2].priority = None;
    clocks[3].priority = Some("P1".into());
    clocks[5].priority = Some("P1".into());
    let mut ends = ends(&clocks);
    let review =
        serde_json::json!({"target_realistic": false, "preventive_action": "a second on-call"});
    let review = review.as_object().unwrap();
    ends[3].cause = Some("staffing");
    ends[3].review = Some(review);
    let period: PeriodSpec = "2026-Q4".parse().unwrap();
    let r = report(
        &cfg,
        &ends,
        &ServiceRecords::default(),
        &period,
        t("2027-01-05T00:00:00Z"),
    );
    let v = json(&r);
    let res = &v["agreements"][0]["objectives"][0];
    assert_eq!(
        (res["met"].as_u64(), res["breached"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(
        res["by_priority"],
        serde_json::json!([
            {"priority": "P1", "met": 0, "breached": 2, "compliance": 0.0},
            {"priority": "P2", "met": 2, "breached": 0, "compliance": 1.0},
            {"priority": "urgent", "met": 0, "breached": 1, "compliance": 0.0},
            {"priority": null, "met": 1, "breached": 0, "compliance": 1.0},
        ])
    );
    assert_eq!(
        res["by_month"],
        serde_json::json!([
            {"from": "2026-10-01", "to": "2026-10-31", "met": 1, "breached": 1, "compliance": 0.5},
            {"from": "2026-11-01", "to": "2026-11-30", "met": 1, "breached": 0, "compliance": 1.0},
            {"from": "2026-12-01", "to": "2026-12-31", "met": 1, "breached": 2, "compliance": 1.0 / 3.0},
        ])
    );
    assert_eq!(
        v["agreements"][0]["breaches"],
        serde_json::json!([
            {"case": "B:sla:resolution:1:breach", "ticket": "B", "objective": "res", "metric": "resolution",
             "priority": "urgent", "breached_at": "2026-10-31T23:59:59Z", "cause": null, "review": null},
            {"case": "F:sla:resolution:1:breach", "ticket": "F", "objective": "res", "metric": "resolution",
             "priority": "P1", "breached_at": "2026-12-02T00:00:00Z", "cause": null, "review": null},
            {"case": "D:sla:resolution:1:breach", "ticket": "D", "objective": "res", "metric": "resolution",
             "priority": "P1", "breached_at": "2026-12-24T08:00:00Z", "cause": "staffing",
             "review": {"target_realistic": false, "preventive_action": "a second on-call"}},
        ])
    );
    // A week inside a month is one part of it; 30 days across two months, two parts.
    // (W49 is 30 November to 6 December: two parts too.)
    for (spec, parts) in [("2026-W50", 1), ("2026-W49", 2), ("30d", 2)] {
        let period: PeriodSpec = spec.parse().unwrap();
        let r = report(
            &cfg,
            &ends,
            &ServiceRecords::default(),
            &period,
            t("2026-12-10T00:00:00Z"),
        );
        let ObjectiveReport::Ticket(res) = &r.agreements[0].objectives[0] else {
            panic!("a ticket objective first");
        };
        assert_eq!(res.by_month.len(), parts, "{spec}");
        assert_eq!(res.by_month[0].from, r.period.from, "{spec}");
        assert_eq!(res.by_month[parts - 1].to, r.period.to, "{spec}");
    }
}

/// The review document: the customer's agreements only, a summary in words, the trend,
/// breaches counted by priority and cause, and each breach with its review questions
/// answered where the case's review has answers.
#[test]
fn the_review_document_of_a_customer() {
    let cfg = config();
    let mut clocks = vec![
        clock("A", "res", ClockState::Met, "2026-10-03T10:00:00Z"),
        clock("B", "res", ClockState::Breached, "2026-11-04T10:00:00Z"),
        clock("C", "res", ClockState::Breached, "2026-12-04T10:00:00Z"),
        clock("S", "res", ClockState::Met, "2026-07-04T10:00:00Z"),
    ];
    clocks[1].priority = Some("P1".into());
    let mut ends = ends(&clocks);
    let review = serde_json::json!({"target_realistic": false, "configured_right": true,
                                    "preventive_action": "a second on-call"});
    ends[1].cause = Some("staffing");
    ends[1].review = review.as_object();
    let period: PeriodSpec = "2026-Q4".parse().unwrap();
    let r = report(
        &cfg,
        &ends,
        &ServiceRecords::default(),
        &period,
        t("2027-01-05T00:00:00Z"),
    );
    let doc = view::review(&r, Some("acme"), customer_name(&cfg, "acme"));
    assert_eq!(doc["title"], "Service review: Acme");
    assert_eq!(doc["period"]["label"], "2026-Q4");
    let summary: Vec<&str> = doc["summary"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        summary
            .contains(&"2 promises were broken; the most common recorded cause was staffing (1)."),
        "{summary:?}"
    );
    // The trend: the three quarters before, then this one (S met in Q3; A met, B and C
    // breached in Q4).
    let trend = doc["trend_chart"].as_str().unwrap();
    for label in ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"] {
        assert!(
            trend.contains(&format!(">{label}</text>")),
            "{label}: {trend}"
        );
    }
    assert!(
        trend.contains("res: 100%") && trend.contains("res: 33.333%"),
        "{trend}"
    );
    let priorities = doc["priority_chart"].as_str().unwrap();
    assert!(priorities.contains(">P1</text>") && priorities.contains(">P2</text>"));
    let causes = doc["cause_chart"].as_str().unwrap();
    assert!(causes.contains(">staffing</text>") && causes.contains(">not recorded yet</text>"));
    let breaches = doc["breaches"].as_array().unwrap();
    assert_eq!(breaches.len(), 2);
    assert_eq!(breaches[0]["case"], "B:sla:resolution:1:breach");
    assert_eq!(breaches[0]["cause"], "staffing");
    let answers: Vec<&str> = breaches[0]["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["answer"].as_str().unwrap())
        .collect();
    assert_eq!(
        answers,
        ["no", "yes", "to discuss", "to discuss", "a second on-call"]
    );
    assert_eq!(breaches[1]["questions"][0]["answer"], "to discuss");
    assert_eq!(breaches[1]["cause"], "not recorded yet");
    assert_eq!(doc["breaches_not_listed"], 0);
    assert_eq!(
        doc["agreements"][0]["months"][0]["months"][1],
        serde_json::json!({"label": "2026-11", "text": "0% (0 of 1)"})
    );
    // Another customer's review has none of acme's agreements.
    let other = view::review(&r, Some("globex"), None);
    assert_eq!(other["agreements"], serde_json::json!([]));
    assert_eq!(other["breaches"], serde_json::json!([]));
    assert_eq!(
        other["summary"][0],
        "No agreement was in force in this period."
    );
}

/// OLAs and UCs beside the SLA they support: their clocks on the SLA's tickets (those
/// with an SLA clock ended in the period) count once each; other tickets' do not.
#[test]
fn internal_agreements_beside_the_sla_they_support() {
    let text = format!(
        "{CONFIG}---
kind: team
id: network
name: Network
---
kind: agreement
type: ola
id: net-ola
team: network
objectives:
  - {{id: net-fix, metric: resolution, target: 2h}}
"
    );
    let files = [SourceFile {
        path: "a.yaml".into(),
        text,
    }];
    let cfg = match load(&files, &|p: &str| Err(format!("no {p}"))) {
        Ok(l) => l.config,
        Err(e) => panic!("{}", e[0]),
    };
    let internal = |ticket: &str, state: ClockState, at: &str| {
        let mut c = clock(ticket, "net-fix", state, at);
        c.agreement_type = AgreementType::Ola;
        c.agreement = "net-ola".into();
        c
    };
    let clocks = vec![
        clock("A", "res", ClockState::Met, "2026-11-03T10:00:00Z"),
        // Two SLA clocks on B: its OLA clock still counts once.
        clock("B", "res", ClockState::Breached, "2026-11-04T10:00:00Z"),
        clock("B", "first", ClockState::Met, "2026-11-04T09:00:00Z"),
        internal("A", ClockState::Met, "2026-11-03T09:00:00Z"),
        internal("B", ClockState::Breached, "2026-11-04T08:00:00Z"),
        // X has no clock of the SLA; Y's SLA clock ended in October.
        internal("X", ClockState::Breached, "2026-11-05T08:00:00Z"),
        clock("Y", "res", ClockState::Met, "2026-10-30T10:00:00Z"),
        internal("Y", ClockState::Met, "2026-11-02T08:00:00Z"),
    ];
    let period: PeriodSpec = "2026-11".parse().unwrap();
    let r = report(
        &cfg,
        &ends(&clocks),
        &ServiceRecords::default(),
        &period,
        t("2026-12-01T00:00:00Z"),
    );
    let v = json(&r);
    let gold = &v["agreements"][0];
    assert_eq!(gold["id"], "acme-gold");
    assert_eq!(
        gold["supported_by"],
        serde_json::json!([{"agreement": "net-ola", "type": "ola", "objectives": [
            {"id": "net-fix", "metric": "resolution", "met": 1, "breached": 1, "compliance": 0.5},
        ]}])
    );
    // The OLA's own report counts all its clocks; it supports nothing itself.
    let ola = &v["agreements"][1];
    assert_eq!(ola["id"], "net-ola");
    assert_eq!(
        (
            ola["objectives"][0]["met"].as_u64(),
            ola["objectives"][0]["breached"].as_u64()
        ),
        (Some(2), Some(2))
    );
    assert_eq!(ola["supported_by"], serde_json::json!([]));
    // On the page, beside the SLA.
    let page = view::agreement(&r.agreements[0]);
    assert_eq!(
        page["supported_by"],
        serde_json::json!([{"agreement": "net-ola", "type": "ola", "objective": "net-fix",
                            "result_text": "50%", "detail": "1 met, 1 breached"}])
    );
}

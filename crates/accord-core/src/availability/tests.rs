//! Hand-computed months: overlapping, partial and boundary-crossing outages, excluded
//! maintenance with and without notice, business-hours calendars, burn rates.

use super::*;
use crate::policy::{SourceFile, load};

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn outage(id: &str, from: &str, to: &str, impact: f64) -> Outage {
    let json =
        serde_json::json!({"id": id, "service": "email", "from": from, "to": to, "impact": impact});
    serde_json::from_value(json).unwrap()
}

fn maintenance(from: &str, to: &str, announced_at: Option<&str>) -> Maintenance {
    Maintenance {
        id: "m1".into(),
        service: "email".into(),
        from: t(from),
        to: t(to),
        announced_at: announced_at.map(t),
    }
}

const NOV: (&str, &str) = ("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z");
const NOV_SECONDS: i64 = 30 * 86_400;

fn november() -> Vec<Outage> {
    vec![
        // 90 minutes down.
        outage("o1", "2026-11-10T10:00:00Z", "2026-11-10T11:30:00Z", 1.0),
        // Half down for an hour, its first half under o1: counts once, at the highest
        // impact: 11:30–12:00 at 0.5 = 900 s.
        outage("o2", "2026-11-10T11:00:00Z", "2026-11-10T12:00:00Z", 0.5),
        // Across the month's start: the hour in November counts.
        outage("o3", "2026-10-31T23:00:00Z", "2026-11-01T01:00:00Z", 1.0),
        // Half inside the maintenance window below.
        outage("o4", "2026-11-15T03:00:00Z", "2026-11-15T05:00:00Z", 1.0),
    ]
}

fn month(rules: Rules<'_>, outages: &[Outage], maintenance: &[Maintenance]) -> Measured {
    let o: Vec<&Outage> = outages.iter().collect();
    let m: Vec<&Maintenance> = maintenance.iter().collect();
    measure(rules, &o, &m, t(NOV.0).as_second(), t(NOV.1).as_second())
}

#[test]
fn a_month_with_overlaps_a_boundary_and_excluded_maintenance() {
    let cal = Calendar::always_open();
    let rules = Rules {
        calendar: &cal,
        exclude_maintenance: true,
        notice: None,
    };
    let window = [maintenance(
        "2026-11-15T02:00:00Z",
        "2026-11-15T04:00:00Z",
        Some("2026-11-08T09:00:00Z"),
    )];
    let m = month(rules, &november(), &window);
    // Eligible: the month less the 2 h window. Down: 5,400 + 900 + 3,600 + 3,600 (o4
    // after the window).
    assert_eq!(m.eligible_seconds, NOV_SECONDS - 7_200);
    assert_eq!(m.downtime_seconds(), 13_500.0);
    let a = m.availability().unwrap();
    assert_eq!(a.to_f64(), 2_571_300.0 / 2_584_800.0);
    assert_eq!(a.cmp_percent("99.5%".parse().unwrap()), Ordering::Less);
    assert_eq!(a.cmp_percent("99.4%".parse().unwrap()), Ordering::Greater);
}

#[test]
fn maintenance_counts_when_not_excluded_or_announced_too_late() {
    let cal = Calendar::always_open();
    let window = [maintenance(
        "2026-11-15T02:00:00Z",
        "2026-11-15T04:00:00Z",
        Some("2026-11-08T09:00:00Z"),
    )];
    let not_excluded = Rules {
        calendar: &cal,
        exclude_maintenance: false,
        notice: None,
    };
    // Announced 6 days 17 hours ahead: not enough for a 10-day notice, enough for 5 days.
    let ten_days = Rules {
        notice: Some(CalendarDuration(10 * 86_400)),
        exclude_maintenance: true,
        ..not_excluded
    };
    let five_days = Rules {
        notice: Some(CalendarDuration(5 * 86_400)),
        ..ten_days
    };
    for rules in [not_excluded, ten_days] {
        let m = month(rules, &november(), &window);
        assert_eq!(
            (m.eligible_seconds, m.downtime_seconds()),
            (NOV_SECONDS, 17_100.0)
        );
    }
    let m = month(five_days, &november(), &window);
    assert_eq!(
        (m.eligible_seconds, m.downtime_seconds()),
        (NOV_SECONDS - 7_200, 13_500.0)
    );
    // Never announced: no notice is met.
    let unannounced = [maintenance(
        "2026-11-15T02:00:00Z",
        "2026-11-15T04:00:00Z",
        None,
    )];
    let m = month(five_days, &november(), &unannounced);
    assert_eq!(m.eligible_seconds, NOV_SECONDS);
}

#[test]
fn a_business_hours_objective_counts_only_open_time() {
    let files = [SourceFile {
        path: "c.yaml".into(),
        text: "kind: calendar\nid: nyc\ntimezone: America/New_York\nhours: {mon: [\"09:00-17:00\"], tue: [\"09:00-17:00\"], wed: [\"09:00-17:00\"], thu: [\"09:00-17:00\"], fri: [\"09:00-17:00\"]}\nholidays: [2026-11-26]\n".into(),
    }];
    let config = load(&files, &|p: &str| Err(format!("no {p}")))
        .unwrap()
        .config;
    let cal = &config.calendar("nyc").unwrap().calendar;
    let rules = Rules {
        calendar: cal,
        exclude_maintenance: false,
        notice: None,
    };
    // Tuesday 10 November, 10:00–11:30 UTC is 05:00–06:30 in New York: closed. An outage
    // 13:00–15:00 UTC (08:00–10:00 local) counts its open hour only.
    let outages = [
        outage("a", "2026-11-10T10:00:00Z", "2026-11-10T11:30:00Z", 1.0),
        outage("b", "2026-11-10T13:00:00Z", "2026-11-10T15:00:00Z", 1.0),
    ];
    let m = month(rules, &outages, &[]);
    // November 2026 in New York has 21 weekdays but the 26th: 20 × 8 h. The month in UTC
    // starts 4 h into the local 31 October and ends 5 h into the local 30 November,
    // 00:00 local — still before opening on Monday 30 November.
    assert_eq!(m.eligible_seconds, 20 * 8 * 3600);
    assert_eq!(m.downtime_seconds(), 3600.0);
}

#[test]
fn budget_and_burn_rate() {
    let cal = Calendar::always_open();
    let rules = Rules {
        calendar: &cal,
        exclude_maintenance: false,
        notice: None,
    };
    let target: Percent = "99.9%".parse().unwrap();
    let outages = november();
    let m = month(rules, &outages, &[]);
    let b = budget(&m, target);
    // 0.1 % of 30 days = 2,592 s; 17,100 s spent.
    assert_eq!(b.budget_seconds, 2_592.0);
    assert_eq!(b.spent_seconds, 17_100.0);
    assert_eq!(b.remaining_seconds, 2_592.0 - 17_100.0);
    assert_eq!(b.remaining, Some((2_592.0 - 17_100.0) / 2_592.0));

    // At 11:30 on the 10th: the last hour was fully down (1 h / 1 h = 1 000× the
    // 0.1 % budgeted rate); so were the last 5 minutes.
    let o: Vec<&Outage> = outages.iter().collect();
    let now = t("2026-11-10T11:30:00Z").as_second();
    let burn = burn_rate(rules, Source::Time(&o), &[], target, now, 3600).unwrap();
    assert_eq!(burn.to_f64(), 1000.0);
    let fast = BURN_ALERTS[0];
    assert_eq!(fast.name(), "14.4x-1h-5m");
    assert!(burn_alert_fires(
        rules,
        Source::Time(&o),
        &[],
        target,
        fast,
        now
    ));
    // At 12:10 the last 5 minutes are clean: the pair resets though the hour still
    // burns (11:10–11:30 down, 11:30–12:00 half down: 2,100 s of 3,600 = 583⅓×).
    let later = t("2026-11-10T12:10:00Z").as_second();
    let hour = burn_rate(rules, Source::Time(&o), &[], target, later, 3600).unwrap();
    assert_eq!(
        hour,
        Fraction::new(2_100 * 1_000_000 * 1000, 3_600 * 1_000_000).unwrap()
    );
    assert!(!burn_alert_fires(
        rules,
        Source::Time(&o),
        &[],
        target,
        fast,
        later
    ));
    // The slowest pair (1× over 3 days and 6 h) still fires.
    assert!(burn_alert_fires(
        rules,
        Source::Time(&o),
        &[],
        target,
        BURN_ALERTS[3],
        later
    ));
}

#[test]
fn records_parse_from_the_stream_and_bad_ones_say_why() {
    let o: ServiceRecord = serde_json::from_str(
        r#"{"id":"o1","type":"outage","service":"email","from":"2026-11-10T10:00:00Z","to":"2026-11-10T11:30:00Z","impact":0.25}"#,
    )
    .unwrap();
    let ServiceRecord::Outage(outage) = &o else {
        panic!("not an outage: {o:?}");
    };
    assert_eq!(outage.impact, 250_000);
    assert!(o.check().is_ok());
    let m: ServiceRecord = serde_json::from_str(
        r#"{"id":"m1","type":"maintenance","service":"email","from":"2026-11-15T02:00:00Z","to":"2026-11-15T04:00:00Z"}"#,
    )
    .unwrap();
    assert_eq!(m.id(), "m1");

    for (bad, says) in [
        (r#""impact":0"#, "impact"),
        (r#""impact":1.5"#, "impact"),
        (r#""impact":0.1234567"#, "6 decimals"),
        (r#""colour":"red""#, "colour"),
    ] {
        let text = format!(
            r#"{{"id":"o","type":"outage","service":"s","from":"2026-11-10T10:00:00Z","to":"2026-11-10T11:00:00Z",{bad}}}"#
        );
        let err = serde_json::from_str::<ServiceRecord>(&text).unwrap_err();
        assert!(err.to_string().contains(says), "{bad}: {err}");
    }
    let backwards: ServiceRecord = serde_json::from_str(
        r#"{"id":"o","type":"outage","service":"s","from":"2026-11-10T10:00:00Z","to":"2026-11-10T09:00:00Z"}"#,
    )
    .unwrap();
    assert_eq!(backwards.check().unwrap_err().0, "to");
}

#[test]
fn requests_count_in_the_span_of_their_start_and_burn_too() {
    let cal = Calendar::always_open();
    let rules = Rules {
        calendar: &cal,
        exclude_maintenance: true,
        notice: None,
    };
    let requests = |id: &str, from: &str, to: &str, good: u64, valid: u64| Requests {
        id: id.into(),
        service: "api".into(),
        from: t(from),
        to: t(to),
        good,
        valid,
    };
    let all = [
        requests(
            "r1",
            "2026-11-10T10:00:00Z",
            "2026-11-10T10:05:00Z",
            990,
            1000,
        ),
        requests(
            "r2",
            "2026-11-10T10:05:00Z",
            "2026-11-10T10:10:00Z",
            1000,
            1000,
        ),
        // Starts in October: counts there, not in November.
        requests("r3", "2026-10-31T23:55:00Z", "2026-11-01T00:00:00Z", 0, 500),
        // Starts inside the excluded window.
        requests("r4", "2026-11-15T02:30:00Z", "2026-11-15T02:35:00Z", 0, 700),
    ];
    let window = [maintenance(
        "2026-11-15T02:00:00Z",
        "2026-11-15T04:00:00Z",
        None,
    )];
    let r: Vec<&Requests> = all.iter().collect();
    let m: Vec<&Maintenance> = window.iter().collect();
    let (from, to) = (t(NOV.0).as_second(), t(NOV.1).as_second());
    let counted = count_requests(rules, &r, &m, from, to);
    assert_eq!((counted.good, counted.valid), (1990, 2000));
    assert_eq!(counted.availability().unwrap().to_f64(), 0.995);
    // Over the 10 minutes to 10:10 against 99.9 %: 10 bad of 2,000 = 0.5 % = 5×.
    let now = t("2026-11-10T10:10:00Z").as_second();
    let burn = burn_rate(
        rules,
        Source::Requests(&r),
        &m,
        "99.9%".parse().unwrap(),
        now,
        600,
    )
    .unwrap();
    assert_eq!(burn.to_f64(), 5.0);

    let bad: ServiceRecord = serde_json::from_str(
        r#"{"id":"r","type":"requests","service":"api","from":"2026-11-10T10:00:00Z","to":"2026-11-10T10:05:00Z","good":11,"valid":10}"#,
    )
    .unwrap();
    assert_eq!(bad.check().unwrap_err().0, "good");
}

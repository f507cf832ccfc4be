//! The scenarios of DESIGN 3.2, one by one, with hand-computed clocks; and the
//! invariance under arrival order and duplicates as a property.

use jiff::Timestamp;
use proptest::prelude::*;

use super::*;
use crate::policy::{Config, Metric, SourceFile, load};

const BASE: &str = "\
kind: calendar
id: nyc
timezone: America/New_York
hours: {mon: [\"09:00-17:00\"], tue: [\"09:00-17:00\"], wed: [\"09:00-17:00\"], thu: [\"09:00-17:00\"], fri: [\"09:00-17:00\"]}
holidays: [2026-11-26]
---
kind: customer
id: acme
name: Acme
---
kind: team
id: network
name: Network
---
kind: supplier
id: telco
name: Telco
";

const STD: &str = "\
kind: agreement
type: sla
id: std
calendar: nyc
objectives:
  - {id: p1-first, metric: first_response, when: {priority: P1}, target: 30m, pause_when: {status: [waiting_on_customer]}}
  - {id: first, metric: first_response, target: 4h, pause_when: {status: [waiting_on_customer]}}
  - {id: next, metric: next_response, target: 2h}
  - {id: updates, metric: periodic_update, when: {priority: P1}, target: 1h, calendar: 24x7}
  - {id: p1-res, metric: resolution, when: {priority: P1}, target: 4h, pause_when: {status: [waiting_on_customer, waiting_on_third_party]}}
  - {id: p4-res, metric: resolution, when: {priority: P4}, target: 8h, reopen: new_cycle}
  - {id: res, metric: resolution, target: 16h, pause_when: {status: [waiting_on_customer, waiting_on_third_party]}}
---
kind: agreement
type: ola
id: net-ola
team: network
calendar: nyc
objectives:
  - {id: net-res, metric: resolution, target: 2h}
---
kind: agreement
type: uc
id: telco-uc
supplier: telco
objectives:
  - {id: telco-fix, metric: resolution, target: 1h}
";

fn config(agreements: &str) -> Config {
    let files = vec![
        SourceFile {
            path: "a.yaml".into(),
            text: BASE.into(),
        },
        SourceFile {
            path: "b.yaml".into(),
            text: agreements.into(),
        },
    ];
    match load(&files, &|p: &str| Err(format!("no {p}"))) {
        Ok(l) => l.config,
        Err(e) => panic!(
            "{}",
            e.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        ),
    }
}

/// New York local time on a date: `ny("2026-11-02T09:00")`.
fn ny(s: &str) -> Timestamp {
    format!("{s}[America/New_York]")
        .parse::<jiff::Zoned>()
        .unwrap()
        .timestamp()
}

/// Events from compact JSON lines; `"at"` is New York local time.
fn events(lines: &[&str]) -> Vec<Event> {
    lines
        .iter()
        .enumerate()
        .map(|(n, line)| {
            let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
            let at = ny(v["at"].as_str().unwrap());
            v["at"] = serde_json::Value::String(at.to_string());
            if v.get("id").is_none() {
                v["id"] = serde_json::Value::String(format!("e{n:02}"));
            }
            if v.get("ticket").is_none() {
                v["ticket"] = serde_json::Value::String("T-1".into());
            }
            serde_json::from_value(v).unwrap()
        })
        .collect()
}

fn fold(cfg: &Config, lines: &[&str], at: &str) -> Vec<ClockResult> {
    let prepared = prepare(events(lines));
    fold_all(cfg, &prepared, ny(at))
}

/// One clock in a compact form: (agreement/objective, metric, cycle, state, elapsed).
fn short(c: &ClockResult) -> (String, &'static str, u32, ClockState, i64) {
    (
        format!("{}/{}", c.agreement, c.objective),
        c.metric.as_str(),
        c.cycle,
        c.state,
        c.elapsed_seconds,
    )
}

fn find<'a>(clocks: &'a [ClockResult], metric: &str, cycle: u32) -> &'a ClockResult {
    clocks
        .iter()
        .find(|c| {
            c.metric.as_str() == metric
                && c.cycle == cycle
                && c.agreement_type == crate::policy::AgreementType::Sla
        })
        .unwrap_or_else(|| panic!("no {metric} cycle {cycle} in {clocks:#?}"))
}

const H: i64 = 3600;
const M: i64 = 60;

#[test]
fn a_reply_stops_first_response_and_resolution_keeps_running() {
    let cfg = config(STD);
    let clocks = fold(
        &cfg,
        &[
            r#"{"type":"created","at":"2026-11-02T09:00","priority":"P2","customer":"acme"}"#,
            r#"{"type":"agent_replied","at":"2026-11-02T10:00"}"#,
        ],
        "2026-11-02T12:00",
    );
    let first = find(&clocks, "first_response", 1);
    assert_eq!(
        short(first),
        ("std/first".into(), "first_response", 1, ClockState::Met, H)
    );
    assert_eq!(first.stopped_at, Some(ny("2026-11-02T10:00")));
    let res = find(&clocks, "resolution", 1);
    assert_eq!(
        short(res),
        (
            "std/res".into(),
            "resolution",
            1,
            ClockState::Running,
            3 * H
        )
    );
    // 16 business hours from Monday 09:00: Monday and Tuesday, closing at 17:00 Tuesday.
    assert_eq!(res.deadline, Some(ny("2026-11-03T17:00")));
    assert_eq!(res.target_seconds, 16 * H);
    assert_eq!(
        clocks.len(),
        2,
        "no P1 periodic update, no next response: {clocks:#?}"
    );
}

#[test]
fn a_pause_stops_the_count_and_a_customer_reply_does_not_end_it() {
    let cfg = config(STD);
    let clocks = fold(
        &cfg,
        &[
            r#"{"type":"created","at":"2026-11-02T09:00","priority":"P2"}"#,
            r#"{"type":"updated","at":"2026-11-02T10:00","status":"waiting_on_customer"}"#,
            r#"{"type":"customer_replied","at":"2026-11-02T11:00"}"#,
            r#"{"type":"updated","at":"2026-11-02T13:00","status":"open"}"#,
            r#"{"type":"resolved","at":"2026-11-02T15:00"}"#,
        ],
        "2026-11-03T12:00",
    );
    assert_eq!(
        short(find(&clocks, "first_response", 1)),
        (
            "std/first".into(),
            "first_response",
            1,
            ClockState::Met,
            3 * H
        ),
        "solved within the target: answered by the solution"
    );
    assert_eq!(
        short(find(&clocks, "resolution", 1)),
        ("std/res".into(), "resolution", 1, ClockState::Met, 3 * H)
    );
    assert!(
        clocks
            .iter()
            .all(|c| c.metric != crate::policy::Metric::NextResponse),
        "the customer replied while the first response was still open"
    );
    // While paused, a clock has no deadline and shows as paused.
    let paused = fold(
        &cfg,
        &[
            r#"{"type":"created","at":"2026-11-02T09:00","priority":"P2"}"#,
            r#"{"type":"updated","at":"2026-11-02T10:00","status":"waiting_on_customer"}"#,
        ],
        "2026-11-02T12:00",
    );
    let first = find(&paused, "first_response", 1);
    assert_eq!(
        (first.state, first.elapsed_seconds, first.deadline),
        (ClockState::Paused, H, None)
    );
}

#[test]
fn a_stop_at_the_deadline_keeps_the_promise_a_second_later_breaches() {
    let cfg = config(STD);
    let on_time = fold(
        &cfg,
        &[
            r#"{"type":"created","at":"2026-11-02T09:00","priority":"P1"}"#,
            r#"{"type":"agent_replied","at":"2026-11-02T09:30"}"#,
        ],
        "2026-11-02T12:00",
    );
    let first = find(&on_time, "first_response", 1);
    assert_eq!(
        (first.state, first.elapsed_seconds, first.breached_at),
        (ClockState::Met, 30 * M, None)
    );

    let late = fold(
        &cfg,
        &[
            r#"{"type":"created","at":"2026-11-02T09:00","priority":"P1"}"#,
            r#"{"type":"agent_replied","at":"2026-11-02T09:30:01"}"#,
        ],
        "2026-11-02T12:00",
    );
    let first = find(&late, "first_response", 1);
    assert_eq!(
        (first.state, first.elapsed_seconds),
        (ClockState::Breached, 30 * M + 1),
        "elapsed shows how late"
    );
    assert_eq!(first.breached_at, Some(ny("2026-11-02T09:30")));
    assert_eq!(first.stopped_at, Some(ny("2026-11-02T09:30:01")));

    // Without a reply, as of an instant after the deadline: breached, still counting.
    let open = fold(
        &cfg,
        &[r#"{"type":"created","at":"2026-11-02T09:00","priority":"P1"}"#],
        "2026-11-02T10:00",
    );
    let first = find(&open, "first_response", 1);
    assert_eq!(
        (
            first.state,
            first.elapsed_seconds,
            first.stopped_at,
            first.deadline
        ),
        (ClockState::Breached, H, None, None)
    );
}

#[test]
fn a_holiday_does_not_count() {
    let cfg = config(STD);
    // Wednesday 16:00; Thursday 2026-11-26 is a holiday.
    let clocks = fold(
        &cfg,
        &[r#"{"type":"created","at":"2026-11-25T16:00","priority":"P2"}"#],
        "2026-11-27T10:00",
    );
    let first = find(&clocks, "first_response", 1);
    assert_eq!(
        (first.state, first.elapsed_seconds),
        (ClockState::Running, 2 * H)
    );
    assert_eq!(first.deadline, Some(ny("2026-11-27T12:00")));
}

#[test]
fn a_deadline_across_a_dst_change_lands_in_local_office_hours() {
    let cfg = config(STD);
    // Friday 2026-10-30 16:00 EDT; clocks fall back on Sunday 2026-11-01.
    let clocks = fold(
        &cfg,
        &[r#"{"type":"created","at":"2026-10-30T16:00","priority":"P2"}"#],
        "2026-10-30T16:30",
    );
    let res = find(&clocks, "resolution", 1);
    // 16h: 1h Friday, 8h Monday, 7h Tuesday → Tuesday 16:00 EST = 21:00Z.
    assert_eq!(res.deadline, Some("2026-11-03T21:00:00Z".parse().unwrap()));
}

#[test]
fn a_priority_change_retargets_and_may_breach_at_once() {
    let cfg = config(STD);
    let clocks = fold(
        &cfg,
        &[
            r#"{"type":"created","at":"2026-11-02T09:00","priority":"P3"}"#,
            r#"{"type":"updated","at":"2026-11-02T09:40","priority":"P1"}"#,
        ],
        "2026-11-02T10:00",
    );
    let first = find(&clocks, "first_response", 1);
    assert_eq!(
        short(first),
        (
            "std/p1-first".into(),
            "first_response",
            1,
            ClockState::Breached,
            H
        )
    );
    assert_eq!(
        first.breached_at,
        Some(ny("2026-11-02T09:40")),
        "already past the new target at the change"
    );
    let res = find(&clocks, "resolution", 1);
    assert_eq!(
        short(res),
        ("std/p1-res".into(), "resolution", 1, ClockState::Running, H)
    );
    assert_eq!(
        res.deadline,
        Some(ny("2026-11-02T13:00")),
        "elapsed carries on against the new target"
    );
    // The periodic-update objective applies from the change, and the time before it
    // counts: 40 minutes before the change and 20 after use up its hour at 10:00.
    let updates = find(&clocks, "periodic_update", 1);
    assert_eq!(updates.started_at, ny("2026-11-02T09:00"));
    assert_eq!(
        (updates.state, updates.elapsed_seconds),
        (ClockState::Breached, H)
    );
    assert_eq!(updates.breached_at, Some(ny("2026-11-02T10:00")));
}

#[test]
fn losing_every_objective_cancels_and_a_breached_clock_stops() {
    let cfg = config(
        "\
kind: agreement
type: sla
id: narrow
calendar: nyc
objectives:
  - {id: hi-first, metric: first_response, when: {priority: [P1, P2]}, target: 1h}
  - {id: hi-res, metric: resolution, when: {priority: [P1, P2]}, target: 2h}
",
    );
    let clocks = fold(
        &cfg,
        &[
            r#"{"type":"created","at":"2026-11-02T09:00","priority":"P2"}"#,
            r#"{"type":"updated","at":"2026-11-02T10:30","priority":"P4"}"#,
            r#"{"type":"agent_replied","at":"2026-11-02T11:00"}"#,
        ],
        "2026-11-02T12:00",
    );
    let first = find(&clocks, "first_response", 1);
    assert_eq!(
        first.state,
        ClockState::Breached,
        "it had breached at 10:00"
    );
    assert_eq!(
        first.stopped_at,
        Some(ny("2026-11-02T10:30")),
        "and stops at the change"
    );
    let res = find(&clocks, "resolution", 1);
    assert_eq!(
        (
            res.objective.as_str(),
            res.state,
            res.elapsed_seconds,
            res.target_seconds
        ),
        ("hi-res", ClockState::Cancelled, 3 * H, 2 * H),
        "cancelled keeps counting in its last calendar and cannot breach"
    );

    // Selected again: a re-target, and the time without an objective counts.
    let back = fold(
        &cfg,
        &[
            r#"{"type":"created","at":"2026-11-02T09:00","priority":"P2"}"#,
            r#"{"type":"updated","at":"2026-11-02T09:30","priority":"P4"}"#,
            r#"{"type":"updated","at":"2026-11-02T10:00","priority":"P1"}"#,
        ],
        "2026-11-02T10:30",
    );
    let res = find(&back, "resolution", 1);
    assert_eq!(
        (res.state, res.elapsed_seconds),
        (ClockState::Running, 90 * M)
    );
}

#[test]
fn reopening_resumes_resolution_or_starts_a_new_cycle() {
    let cfg = config(STD);
    let resumed = fold(
        &cfg,
        &[
            r#"{"type":"created","at":"2026-11-02T09:00","priority":"P2"}"#,
            r#"{"type":"resolved","at":"2026-11-02T11:00"}"#,
            r#"{"type":"reopened","at":"2026-11-02T14:00"}"#,
        ],
        "2026-11-02T15:00",
    );
    let res = find(&resumed, "resolution", 1);
    assert_eq!(
        (res.state, res.elapsed_seconds, res.stopped_at),
        (ClockState::Running, 3 * H, None),
        "2h, then 1h after the reopen"
    );
    assert!(
        resumed
            .iter()
            .all(|c| !(c.metric.as_str() == "resolution" && c.cycle == 2))
    );

    let new_cycle = fold(
        &cfg,
        &[
            r#"{"type":"created","at":"2026-11-02T09:00","priority":"P4"}"#,
            r#"{"type":"resolved","at":"2026-11-02T11:00"}"#,
            r#"{"type":"reopened","at":"2026-11-02T14:00"}"#,
        ],
        "2026-11-02T15:00",
    );
    assert_eq!(
        short(find(&new_cycle, "resolution", 1)),
        ("std/p4-res".into(), "resolution", 1, ClockState::Met, 2 * H)
    );
    assert_eq!(
        short(find(&new_cycle, "resolution", 2)),
        ("std/p4-res".into(), "resolution", 2, ClockState::Running, H)
    );
}

#[test]
fn next_response_cycles_and_private_notes() {
    let cfg = config(STD);
    let clocks = fold(
        &cfg,
        &[
            r#"{"type":"created","at":"2026-11-02T09:00","priority":"P2"}"#,
            r#"{"type":"agent_replied","at":"2026-11-02T09:10","public":false}"#,
            r#"{"type":"agent_replied","at":"2026-11-02T09:20"}"#,
            r#"{"type":"customer_replied","at":"2026-11-02T10:00"}"#,
            r#"{"type":"customer_replied","at":"2026-11-02T10:05"}"#,
            r#"{"type":"agent_replied","at":"2026-11-02T10:30","public":false}"#,
            r#"{"type":"agent_replied","at":"2026-11-02T11:00"}"#,
            r#"{"type":"customer_replied","at":"2026-11-02T16:00"}"#,
        ],
        "2026-11-03T10:00",
    );
    assert_eq!(
        find(&clocks, "first_response", 1).elapsed_seconds,
        20 * M,
        "a private note is no reply"
    );
    let one = find(&clocks, "next_response", 1);
    assert_eq!(
        (one.state, one.started_at, one.elapsed_seconds),
        (ClockState::Met, ny("2026-11-02T10:00"), H)
    );
    let two = find(&clocks, "next_response", 2);
    assert_eq!(
        (two.state, two.elapsed_seconds),
        (ClockState::Breached, 2 * H),
        "1h Monday, 1h Tuesday"
    );
    assert_eq!(two.breached_at, Some(ny("2026-11-03T10:00")));
    assert!(
        clocks
            .iter()
            .all(|c| !(c.metric.as_str() == "next_response" && c.cycle == 3))
    );
}

#[test]
fn periodic_updates_restart_at_each_public_reply() {
    let cfg = config(STD);
    let clocks = fold(
        &cfg,
        &[
            r#"{"type":"created","at":"2026-11-02T09:00","priority":"P1"}"#,
            r#"{"type":"agent_replied","at":"2026-11-02T09:20"}"#,
            r#"{"type":"agent_replied","at":"2026-11-02T10:00"}"#,
            r#"{"type":"resolved","at":"2026-11-02T11:30"}"#,
        ],
        "2026-11-02T12:00",
    );
    let cycles: Vec<(u32, ClockState, i64)> = clocks
        .iter()
        .filter(|c| c.metric.as_str() == "periodic_update")
        .map(|c| (c.cycle, c.state, c.elapsed_seconds))
        .collect();
    assert_eq!(
        cycles,
        [
            (1, ClockState::Met, 20 * M),
            (2, ClockState::Met, 40 * M),
            (3, ClockState::Breached, 90 * M)
        ]
    );
}

#[test]
fn ola_clocks_run_while_the_team_has_the_ticket() {
    let cfg = config(STD);
    let clocks = fold(
        &cfg,
        &[
            r#"{"type":"created","at":"2026-11-02T09:00","priority":"P2"}"#,
            r#"{"type":"updated","at":"2026-11-02T10:00","team":"network"}"#,
            r#"{"type":"updated","at":"2026-11-02T11:30","team":"servicedesk"}"#,
            r#"{"type":"updated","at":"2026-11-02T13:00","team":"network"}"#,
        ],
        "2026-11-02T16:00",
    );
    let ola: Vec<(u32, ClockState, i64)> = clocks
        .iter()
        .filter(|c| c.agreement == "net-ola")
        .map(|c| (c.cycle, c.state, c.elapsed_seconds))
        .collect();
    assert_eq!(
        ola,
        [
            (1, ClockState::Met, 90 * M),
            (2, ClockState::Breached, 3 * H)
        ]
    );
}

/// An OLA clock starts when the ticket comes to the team, not again at every later
/// change while the team has it (a status change, a tag after the resolution).
#[test]
fn updates_while_the_team_keeps_the_ticket_start_no_new_ola_cycle() {
    let cfg = config(STD);
    let clocks = fold(
        &cfg,
        &[
            r#"{"type":"created","at":"2026-11-02T09:00","priority":"P2","team":"network"}"#,
            r#"{"type":"updated","at":"2026-11-02T10:00","status":"pending"}"#,
            r#"{"type":"resolved","at":"2026-11-02T11:00"}"#,
            r#"{"type":"updated","at":"2026-11-02T12:00","tags":["vpn"]}"#,
        ],
        "2026-11-02T16:00",
    );
    let ola: Vec<(u32, ClockState, i64)> = clocks
        .iter()
        .filter(|c| c.agreement == "net-ola")
        .map(|c| (c.cycle, c.state, c.elapsed_seconds))
        .collect();
    assert_eq!(ola, [(1, ClockState::Met, 2 * H)]);
}

#[test]
fn uc_clocks_count_only_the_wait_on_the_supplier() {
    let cfg = config(STD);
    let clocks = fold(
        &cfg,
        &[
            r#"{"type":"created","at":"2026-11-02T09:00","priority":"P2"}"#,
            r#"{"type":"updated","at":"2026-11-02T10:00","status":"waiting_on_third_party","supplier":"telco"}"#,
            r#"{"type":"updated","at":"2026-11-02T10:45","status":"open"}"#,
            r#"{"type":"resolved","at":"2026-11-02T15:00"}"#,
        ],
        "2026-11-02T16:00",
    );
    let uc = clocks.iter().find(|c| c.agreement == "telco-uc").unwrap();
    assert_eq!(
        (uc.state, uc.elapsed_seconds, uc.started_at),
        (ClockState::Met, 45 * M, ny("2026-11-02T10:00"))
    );
    // The SLA resolution clock paused while waiting on the third party.
    assert_eq!(
        find(&clocks, "resolution", 1).elapsed_seconds,
        6 * H - 45 * M
    );
}

#[test]
fn a_clock_keeps_the_version_it_started_under() {
    let cfg = config(
        "\
kind: agreement
type: sla
id: v
version: 1
calendar: nyc
effective: {from: 2026-01-01, to: 2026-11-02}
objectives:
  - {id: res, metric: resolution, target: 4h}
---
kind: agreement
type: sla
id: v
version: 2
calendar: nyc
effective: {from: 2026-11-03}
objectives:
  - {id: res, metric: resolution, target: 2h}
",
    );
    let clocks = fold(
        &cfg,
        &[
            r#"{"type":"created","at":"2026-11-02T16:00","priority":"P2"}"#,
            r#"{"type":"updated","at":"2026-11-03T10:00","priority":"P3"}"#,
        ],
        "2026-11-03T11:00",
    );
    let res = find(&clocks, "resolution", 1);
    assert_eq!(
        (res.version, res.target_seconds, res.state),
        (1, 4 * H, ClockState::Running)
    );
    let later = fold(
        &cfg,
        &[r#"{"type":"created","at":"2026-11-03T09:00","priority":"P2","id":"x"}"#],
        "2026-11-03T10:00",
    );
    assert_eq!(find(&later, "resolution", 1).version, 2);
}

/// `fold_all` remembers selections across tickets with the same facts (and the same
/// versions in force): every ticket must still come out as if folded alone.
#[test]
fn tickets_folded_together_select_as_if_folded_alone() {
    let cfg = config(
        "\
kind: agreement
type: sla
id: v
version: 1
calendar: nyc
effective: {from: 2026-01-01, to: 2026-11-02}
objectives:
  - {id: res-p1, metric: resolution, when: {priority: P1}, target: 1h}
  - {id: res, metric: resolution, target: 4h}
---
kind: agreement
type: sla
id: v
version: 2
calendar: nyc
effective: {from: 2026-11-03}
objectives:
  - {id: res-p1, metric: resolution, when: {priority: P1}, target: 30m}
  - {id: res, metric: resolution, target: 2h}
",
    );
    let lines = [
        // The same facts before and after the version change.
        r#"{"type":"created","at":"2026-11-02T10:00","priority":"P2","ticket":"A","id":"a1"}"#,
        r#"{"type":"created","at":"2026-11-03T10:00","priority":"P2","ticket":"B","id":"b1"}"#,
        // A's facts change to what C starts with; C's change back to A's first facts.
        r#"{"type":"updated","at":"2026-11-02T11:00","priority":"P1","ticket":"A","id":"a2"}"#,
        r#"{"type":"created","at":"2026-11-03T09:00","priority":"P1","ticket":"C","id":"c1"}"#,
        r#"{"type":"updated","at":"2026-11-03T09:10","priority":"P2","ticket":"C","id":"c2"}"#,
        // Status changes only: the same selection again.
        r#"{"type":"updated","at":"2026-11-03T11:00","status":"pending","ticket":"B","id":"b2"}"#,
        r#"{"type":"updated","at":"2026-11-03T11:30","status":"open","ticket":"B","id":"b3"}"#,
    ];
    let at = ny("2026-11-03T12:00");
    let prepared = prepare(events(&lines));
    let together = fold_all(&cfg, &prepared, at);
    let alone: Vec<ClockResult> = ["A", "B", "C"]
        .iter()
        .flat_map(|t| fold_ticket(&cfg, t, prepared.ticket(t).unwrap(), at))
        .collect();
    assert_eq!(together, alone);
    // Handed over ticket by ticket, the same clocks in the same order, one ticket a call;
    // the first error stops the fold.
    let mut each = Vec::new();
    let folded: Result<(), String> = fold_each(&cfg, &prepared, at, |clocks| {
        assert!(clocks.windows(2).all(|w| w[0].ticket == w[1].ticket));
        each.push(clocks.to_vec());
        Ok(())
    });
    assert_eq!(folded, Ok(()));
    assert_eq!(each.len(), 3);
    assert_eq!(each.concat(), together);
    let mut calls = 0;
    let stopped = fold_each(&cfg, &prepared, at, |_| {
        calls += 1;
        Err("full")
    });
    assert_eq!((stopped, calls), (Err("full"), 1));
    let res = |t: &str| {
        let c = together
            .iter()
            .find(|c| c.ticket == t && c.metric == Metric::Resolution)
            .unwrap();
        (c.version, c.objective.as_str(), c.target_seconds)
    };
    assert_eq!(res("A"), (1, "res-p1", H));
    assert_eq!(res("B"), (2, "res", 2 * H));
    assert_eq!(res("C"), (2, "res", 2 * H));
}

#[test]
fn events_after_the_evaluation_instant_are_ignored() {
    let cfg = config(STD);
    let lines = [
        r#"{"type":"created","at":"2026-11-02T09:00","priority":"P1"}"#,
        r#"{"type":"agent_replied","at":"2026-11-02T09:20"}"#,
    ];
    let before = fold(&cfg, &lines, "2026-11-02T09:10");
    let first = find(&before, "first_response", 1);
    assert_eq!(
        (first.state, first.elapsed_seconds, first.deadline),
        (ClockState::Running, 10 * M, Some(ny("2026-11-02T09:30")))
    );
}

#[test]
fn conflicts_keep_the_first_and_exact_repeats_are_dropped() {
    let evs = events(&[
        r#"{"id":"a","type":"created","at":"2026-11-02T09:00","priority":"P1"}"#,
        r#"{"id":"a","type":"created","at":"2026-11-02T09:00","priority":"P1"}"#,
        r#"{"id":"a","type":"created","at":"2026-11-02T09:00","priority":"P2"}"#,
        r#"{"id":"b","type":"created","at":"2026-11-02T09:05","priority":"P3"}"#,
    ]);
    let p = prepare(evs);
    assert_eq!(p.duplicates, 1);
    assert_eq!(p.conflicts.len(), 2);
    assert_eq!(
        p.conflicts[0].1.to_string(),
        "event id \"a\" was seen before with different content; the first is kept"
    );
    assert_eq!(
        p.conflicts[1].1.to_string(),
        "event \"b\" is a second `created` for ticket \"T-1\"; the first is kept"
    );
    assert_eq!(p.ticket("T-1").map(|t| t.len()), Some(1));
    assert_eq!(p.tickets().len(), 1);
}

const SCENARIO: [&str; 9] = [
    r#"{"type":"created","at":"2026-11-02T09:00","priority":"P2"}"#,
    r#"{"type":"agent_replied","at":"2026-11-02T09:40"}"#,
    r#"{"type":"customer_replied","at":"2026-11-02T10:00"}"#,
    r#"{"type":"updated","at":"2026-11-02T10:00","status":"waiting_on_customer"}"#,
    r#"{"type":"updated","at":"2026-11-02T11:00","status":"open","priority":"P1"}"#,
    r#"{"type":"agent_replied","at":"2026-11-02T11:00","public":false}"#,
    r#"{"type":"resolved","at":"2026-11-02T13:00"}"#,
    r#"{"type":"reopened","at":"2026-11-03T09:30"}"#,
    r#"{"type":"updated","at":"2026-11-03T10:00","team":"network"}"#,
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Any arrival order and any duplication give the same clocks.
    #[test]
    fn arrival_order_and_duplicates_do_not_matter(
        order in Just((0..SCENARIO.len()).collect::<Vec<usize>>()).prop_shuffle(),
        repeats in proptest::collection::vec(0..SCENARIO.len(), 0..6),
    ) {
        let cfg = config(STD);
        let base = events(&SCENARIO);
        let expected = fold_all(&cfg, &prepare(base.clone()), ny("2026-11-03T16:00"));
        let mut shuffled: Vec<Event> = order.iter().map(|&i| base[i].clone()).collect();
        shuffled.extend(repeats.iter().map(|&i| base[i].clone()));
        let got = fold_all(&cfg, &prepare(shuffled), ny("2026-11-03T16:00"));
        prop_assert_eq!(got, expected);
    }

    /// `prepare` (sorted keys, no maps) agrees with the plain definition: first arrival
    /// of an id wins, then first `created` of a ticket; tickets bytewise; each ticket's
    /// events by (time, type, id). Ticket names share long prefixes and times collide
    /// on purpose.
    #[test]
    fn prepare_agrees_with_its_definition(
        raw in proptest::collection::vec((0..6u8, 0..5u8, 0..4i64, 0..3u8, 0..2u8), 0..60),
    ) {
        let names = ["T-1", "T-10", "a-very-long-ticket-name-1", "a-very-long-ticket-name-2", "b", ""];
        let kinds = [EventType::Created, EventType::Updated, EventType::AgentReplied];
        let input: Vec<Event> = raw
            .iter()
            .map(|&(ticket, id, minute, kind, priority)| {
                let at = Timestamp::from_second(1_800_000_000 + minute * 60).unwrap();
                let mut e = Event::new(
                    format!("e{id}"),
                    names[ticket as usize],
                    at,
                    kinds[kind as usize],
                );
                e.priority = Some(if priority == 0 { "P1" } else { "P2" }.into());
                e
            })
            .collect();

        let mut seen: std::collections::HashMap<&str, &Event> = Default::default();
        let mut created: std::collections::HashSet<&str> = Default::default();
        let mut expected: std::collections::BTreeMap<&str, Vec<&Event>> = Default::default();
        let (mut duplicates, mut conflicts) = (0, Vec::new());
        for (position, e) in input.iter().enumerate() {
            if let Some(first) = seen.get(e.id.as_str()) {
                if *first == e { duplicates += 1 } else { conflicts.push(position) }
                continue;
            }
            seen.insert(&e.id, e);
            if e.kind == EventType::Created && !created.insert(&e.ticket) {
                conflicts.push(position);
                continue;
            }
            expected.entry(&e.ticket).or_default().push(e);
        }
        for events in expected.values_mut() {
            events.sort_by(|a, b| a.apply_order(b));
        }

        let prepared = prepare(input.clone());
        let got: Vec<(&str, Vec<&Event>)> =
            prepared.tickets().map(|(t, events)| (t, events.iter().collect())).collect();
        let expected: Vec<(&str, Vec<&Event>)> = expected.into_iter().collect();
        prop_assert_eq!(got, expected);
        prop_assert_eq!(prepared.duplicates, duplicates);
        let got_conflicts: Vec<usize> = prepared.conflicts.iter().map(|(p, _)| *p).collect();
        prop_assert_eq!(got_conflicts, conflicts);
    }
}

#[test]
fn a_target_used_up_at_closing_time_breaches_at_the_close_not_the_next_event() {
    let cfg = config(STD);
    // 4h from Monday 13:00 lands on the 17:00 close; the next event is Tuesday 08:30.
    let clocks = fold(
        &cfg,
        &[
            r#"{"type":"created","at":"2026-11-02T13:00","priority":"P2"}"#,
            r#"{"type":"updated","at":"2026-11-03T08:30","assignee":"ana"}"#,
        ],
        "2026-11-03T08:45",
    );
    let first = find(&clocks, "first_response", 1);
    assert_eq!(
        (first.state, first.elapsed_seconds),
        (ClockState::Breached, 4 * H)
    );
    assert_eq!(first.breached_at, Some(ny("2026-11-02T17:00")));
}

const WARNED: &str = "\
kind: agreement
type: sla
id: warned
calendar: nyc
objectives:
  - id: first
    metric: first_response
    target: 4h
    internal_target: 3h
    warn_at: [50%, 80%]
    pause_when: {status: [waiting_on_customer]}
    escalate:
      - {at: 80%, notify: [team:network]}
      - {at: 150%, notify: [team:network]}
";

fn milestones(c: &ClockResult) -> Vec<(String, Timestamp, bool)> {
    c.milestones
        .iter()
        .map(|m| (m.milestone.key(), m.at, m.reached))
        .collect()
}

/// Warnings, the internal target and escalations fall at their share of the target in
/// business time: the day before Thanksgiving (a holiday in `nyc`) carries over to Friday.
#[test]
fn milestones_ahead_fall_in_business_time_across_a_holiday() {
    let cfg = config(WARNED);
    let clocks = fold(
        &cfg,
        &[r#"{"type":"created","at":"2026-11-25T15:00","priority":"P2"}"#],
        "2026-11-25T16:00",
    );
    let first = find(&clocks, "first_response", 1);
    assert_eq!(
        milestones(first),
        vec![
            // 2 h: 15:00–17:00 Wednesday.
            ("warning:50%".into(), ny("2026-11-25T17:00"), false),
            // 3 h 12 min: Thursday is a holiday, so Friday 10:12.
            ("escalation:1".into(), ny("2026-11-27T10:12"), false),
            ("warning:80%".into(), ny("2026-11-27T10:12"), false),
            ("internal_breach".into(), ny("2026-11-27T10:00"), false),
            ("breach".into(), ny("2026-11-27T11:00"), false),
            ("escalation:2".into(), ny("2026-11-27T13:00"), false),
        ]
        .tap_sorted()
    );
}

/// Reached milestones keep the instant they were reached at (a pause in between moves
/// them later); a stopped clock has no milestones ahead.
#[test]
fn reached_milestones_keep_their_instant_and_a_stop_ends_the_rest() {
    let cfg = config(WARNED);
    let clocks = fold(
        &cfg,
        &[
            r#"{"type":"created","at":"2026-11-02T09:00","priority":"P2"}"#,
            r#"{"type":"updated","at":"2026-11-02T10:00","status":"waiting_on_customer"}"#,
            r#"{"type":"updated","at":"2026-11-02T12:00","status":"open"}"#,
            r#"{"type":"agent_replied","at":"2026-11-02T14:30"}"#,
        ],
        "2026-11-02T17:00",
    );
    let first = find(&clocks, "first_response", 1);
    assert_eq!(first.state, ClockState::Met);
    assert_eq!(
        milestones(first),
        vec![
            // 1 h before the pause, 1 h after it: 13:00.
            ("warning:50%".into(), ny("2026-11-02T13:00"), true),
            ("internal_breach".into(), ny("2026-11-02T14:00"), true),
            ("warning:80%".into(), ny("2026-11-02T14:12"), true),
            ("escalation:1".into(), ny("2026-11-02T14:12"), true),
        ]
        .tap_sorted()
    );
}

/// A re-target to a shorter target passes its thresholds at the change.
#[test]
fn thresholds_already_passed_at_a_retarget_are_reached_at_the_change() {
    let cfg = config(
        "\
kind: agreement
type: sla
id: warned
calendar: 24x7
objectives:
  - {id: p1, metric: first_response, when: {priority: P1}, target: 1h, warn_at: [50%]}
  - {id: other, metric: first_response, target: 4h, warn_at: [50%]}
",
    );
    let clocks = fold(
        &cfg,
        &[
            r#"{"type":"created","at":"2026-11-02T09:00","priority":"P2"}"#,
            r#"{"type":"updated","at":"2026-11-02T09:45","priority":"P1"}"#,
        ],
        "2026-11-02T09:50",
    );
    let first = find(&clocks, "first_response", 1);
    assert_eq!(
        milestones(first),
        vec![
            ("warning:50%".into(), ny("2026-11-02T09:45"), true),
            ("breach".into(), ny("2026-11-02T10:00"), false),
        ]
    );
}

trait TapSorted {
    fn tap_sorted(self) -> Self;
}

impl TapSorted for Vec<(String, Timestamp, bool)> {
    /// In the order the fold gives: by instant, then milestone kind.
    fn tap_sorted(mut self) -> Self {
        let rank = |k: &str| match k.split(':').next() {
            Some("warning") => 0,
            Some("internal_breach") => 1,
            Some("breach") => 2,
            _ => 3,
        };
        self.sort_by(|a, b| (a.1, rank(&a.0), &a.0).cmp(&(b.1, rank(&b.0), &b.0)));
        self
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// The quick reading of `YYYY-MM-DDTHH:MM:SSZ` gives the instant jiff's parser gives,
    /// and never takes a text jiff refuses: any instant of years 1–9999, and texts of
    /// that shape with any digits (months 13, February 30, hour 24, second 60, …).
    #[test]
    fn the_common_time_form_reads_as_jiff_does(
        second in -62_135_596_800i64..253_402_300_800,
        digits in proptest::collection::vec(0u8..10, 14),
    ) {
        let t = Timestamp::from_second(second).unwrap();
        let text = t.to_string();
        prop_assert_eq!(super::event::utc_second(text.as_bytes()), Some(t), "{}", text);

        let d: Vec<char> = digits.iter().map(|&n| char::from(b'0' + n)).collect();
        let text = format!(
            "{}{}{}{}-{}{}-{}{}T{}{}:{}{}:{}{}Z",
            d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13]
        );
        let quick = super::event::utc_second(text.as_bytes());
        let general = text.parse::<Timestamp>().ok();
        if quick.is_some() {
            prop_assert_eq!(quick, general, "{}", text);
        } else {
            // Left to the general parser: only texts it refuses or reads with a leap
            // second (second 60) or a year 0000 edge are skipped.
            let odd = text[17..19] == *"60" || text.starts_with("0000");
            prop_assert!(general.is_none() || odd, "{} is valid but was not read quickly", text);
        }
    }
}

/// An event's time in other forms goes through the general parser, fractions cut.
#[test]
fn event_times_in_every_form_are_whole_seconds() {
    for (text, expected) in [
        ("2026-11-02T10:00:00Z", "2026-11-02T10:00:00Z"),
        ("2026-11-02T10:00:00.999Z", "2026-11-02T10:00:00Z"),
        ("2026-11-02T05:00:00-05:00", "2026-11-02T10:00:00Z"),
        ("2026-11-02t10:00:00z", "2026-11-02T10:00:00Z"),
    ] {
        let line = format!(r#"{{"id":"e","ticket":"T","type":"created","at":"{text}"}}"#);
        let event: Event = serde_json::from_str(&line).unwrap();
        assert_eq!(event.at, expected.parse::<Timestamp>().unwrap(), "{text}");
    }
    for bad in ["2026-02-30T10:00:00Z", "2026-11-02T24:00:01Z", "yesterday"] {
        let line = format!(r#"{{"id":"e","ticket":"T","type":"created","at":"{bad}"}}"#);
        assert!(
            serde_json::from_str::<Event>(&line).is_err(),
            "{bad} must be refused"
        );
    }
}

/// Custom field values are text: numbers and booleans as JSON writes them, `null`
/// removes; anything else is refused naming the field.
#[test]
fn field_values_are_read_as_text() {
    let line = r#"{"id":"e","ticket":"T","type":"updated","at":"2026-11-02T10:00:00Z",
        "fields":{"region":"emea","seats":12,"big":18446744073709551615,"ratio":1.0,"neg":-3,"vip":true,"gone":null}}"#;
    let event: Event = serde_json::from_str(line).unwrap();
    let fields = event.fields.unwrap();
    let text = |k: &str| fields[k].as_deref().map(str::to_owned);
    assert_eq!(text("region").as_deref(), Some("emea"));
    assert_eq!(text("seats").as_deref(), Some("12"));
    assert_eq!(text("big").as_deref(), Some("18446744073709551615"));
    assert_eq!(text("ratio").as_deref(), Some("1.0"));
    assert_eq!(text("neg").as_deref(), Some("-3"));
    assert_eq!(text("vip").as_deref(), Some("true"));
    assert_eq!(fields["gone"], None);
    let none =
        r#"{"id":"e","ticket":"T","type":"updated","at":"2026-11-02T10:00:00Z","fields":null}"#;
    assert_eq!(serde_json::from_str::<Event>(none).unwrap().fields, None);
    let bad = r#"{"id":"e","ticket":"T","type":"updated","at":"2026-11-02T10:00:00Z","fields":{"tags":["a"]}}"#;
    let error = serde_json::from_str::<Event>(bad).unwrap_err().to_string();
    assert!(
        error.contains("fields.tags") && error.contains("text, number or boolean"),
        "{error}"
    );
}

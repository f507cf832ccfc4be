//! The loader's checks, word for word, and the rules of precedence and matching.

use jiff::Timestamp;

use super::*;

const BASE: &str = "\
kind: calendar
id: nyc
timezone: America/New_York
hours: {mon: [\"09:00-17:00\"], tue: [\"09:00-17:00\"], wed: [\"09:00-17:00\"], thu: [\"09:00-17:00\"], fri: [\"09:00-17:00\"]}
---
kind: customer
id: acme
name: Acme Corp
tier: gold
---
kind: customer
id: globex
name: Globex
---
kind: service
id: email
name: E-mail
---
kind: service
id: vpn
name: VPN
---
kind: team
id: network
name: Network team
---
kind: supplier
id: telco
name: Telco Ltd
---
kind: channel
id: oncall
type: webhook
url: https://hooks.example.net/accord
";

fn files(extra: &str) -> Vec<SourceFile> {
    vec![
        SourceFile {
            path: "base.yaml".into(),
            text: BASE.into(),
        },
        SourceFile {
            path: "sla.yaml".into(),
            text: extra.into(),
        },
    ]
}

fn no_files(p: &str) -> Result<String, String> {
    Err(format!("no file {p}"))
}

fn errors(extra: &str) -> Vec<String> {
    match load(&files(extra), &no_files) {
        Ok(_) => Vec::new(),
        Err(e) => e.iter().map(ToString::to_string).collect(),
    }
}

fn loaded(extra: &str) -> Loaded {
    match load(&files(extra), &no_files) {
        Ok(l) => l,
        Err(e) => panic!(
            "{}",
            e.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        ),
    }
}

#[test]
fn typical_mistakes_are_reported_word_for_word() {
    let cases: &[(&str, &str)] = &[
        (
            "kind: agreement\ntype: sla\nid: a\nobjectives:\n  - id: o\n    metric: first_response\n    targt: 30m\n",
            "sla.yaml:7:5: objectives[0].targt: unknown field `targt`, expected one of id, metric, when, target, internal_target, warn_at, notify, pause_when, compliance, escalate, reopen, calendar, public, service, exclude, maintenance_notice, measure; did you mean `target`?",
        ),
        (
            "kind: agreement\ntype: sla\nid: a\nobjectives:\n  - id: o\n    metric: first_responce\n    target: 30m\n",
            "sla.yaml:6:13: objectives[0].metric: unknown variant `first_responce`, expected one of first_response, next_response, periodic_update, resolution, availability, csat, ces; did you mean `first_response`?",
        ),
        (
            "kind: agreement\ntype: sla\nid: a\nobjectives:\n  - id: o\n    metric: resolution\n    target: 1d\n",
            "sla.yaml:7:13: objectives[0].target: \"1d\": days and weeks are not business time (one working day is 8h on a 9-to-5 calendar, not 1d); write hours, e.g. 8h",
        ),
        (
            "kind: agreement\ntype: sla\nid: a\ncalendar: nyk\nobjectives:\n  - id: o\n    metric: resolution\n    target: 8h\n",
            "sla.yaml:4:11: calendar: unknown calendar `nyk`; did you mean `nyc`?",
        ),
        (
            "kind: agreement\ntype: sla\nid: a\nlevel: customer\nobjectives: []\n",
            "sla.yaml:3:5: customer: a customer-level agreement needs `customer`",
        ),
        (
            "kind: agreement\ntype: sla\nid: a\nlevel: customer\ncustomer: acmee\nobjectives: []\n",
            "sla.yaml:5:11: customer: unknown customer `acmee`; did you mean `acme`?",
        ),
        (
            "kind: agreemnt\ntype: sla\nid: a\n",
            "sla.yaml:1:7: kind: unknown kind `agreemnt`, expected one of calendar, agreement, customer, service, team, supplier, channel; did you mean `agreement`?",
        ),
        (
            "kind: agreement\ntype: sla\nid: a\nfee: {amount: 100, currency: EUR, per: month}\nobjectives:\n  - id: up\n    metric: availability\n    service: email\n    target: 99.9%\ncredits:\n  - objective: upp\n    tiers: [{below: 99.9%, credit: 10%}]\n",
            "sla.yaml:11:16: credits[0].objective: unknown objective `upp`; did you mean `up`?",
        ),
        (
            "kind: agreement\ntype: sla\nid: a\nobjectives:\n  - id: o\n    metric: first_response\n    target: 30m\n    when: {region: [eu]}\n",
            "sla.yaml:8:11: objectives[0].when: unknown ticket field `region` in `when`: expected customer, service, priority, team, assignee, supplier, tags or fields.NAME; custom ticket fields are matched as `fields.region`",
        ),
        (
            "kind: agreement\ntype: sla\nid: a\nobjectives:\n  - id: o\n    metric: first_response\n    target: 30m\n    internal_target: 45m\n",
            "sla.yaml:8:22: objectives[0].internal_target: the internal target (45m) must be earlier than the target (30m)",
        ),
        (
            "kind: channel\nid: lead\ntype: email\n",
            "sla.yaml:2:5: to: an email channel needs `to`: the addresses it sends to",
        ),
        (
            "kind: channel\nid: lead\ntype: email\nto: [lead.example.net]\n",
            "sla.yaml:2:5: to[0]: \"lead.example.net\" is not an e-mail address",
        ),
        (
            "kind: agreement\ntype: ola\nid: a\nobjectives: []\n",
            "sla.yaml:3:5: team: an ola needs the `team` that promises it",
        ),
        (
            "kind: agreement\ntype: sla\nid: a\nobjectives:\n  - id: o\n    metric: first_response\n    target: 30m\n    notify: [webhook:on-call]\n",
            "sla.yaml:8:14: objectives[0].notify[0]: unknown channel `on-call`; did you mean `webhook:oncall`?",
        ),
        (
            "kind: agreement\ntype: sla\nid: a\nobjectives:\n  - id: o\n    metric: first_response\n    target: 30m\n    compliance: 95\n",
            "sla.yaml:8:17: objectives[0].compliance: \"95\" is not a percentage: expected e.g. 99.9%",
        ),
        (
            "kind: agreement\ntype: sla\nid: a\nobjectives:\n  - id: o\n    metric: first_response\n    target: 30m\n  - id: o\n    metric: resolution\n    target: 8h\n",
            "sla.yaml:8:9: objectives[1].id: objective id `o` is already used by objectives[0]",
        ),
        (
            "kind: agreement\ntype: sla\nid: a\nobjectives: [\n",
            "sla.yaml:4:13: objectives: unclosed bracket '['",
        ),
        (
            "- kind: agreement\n  type: sla\n  id: a\n  objectives:\n    - id: o\n      metric: resolution\n      target: 8h\n      pause_when: {statuses: [x]}\n",
            "sla.yaml:8:20: objectives[0].pause_when.statuses: unknown field `statuses`, expected one of status; did you mean `status`?",
        ),
        (
            "kind: agreement\ntype: sla\nid: a\nobjectives:\n  - id: up\n    metric: availability\n    target: 99.9%\n",
            "sla.yaml:5:9: objectives[0].service: an availability objective needs the `service` it measures",
        ),
        (
            "kind: calendar\nid: paris\ntimezone: Europe/Paris\nhours: {mon: [\"09:00-12:00\", \"11:00-13:00\"]}\n",
            "sla.yaml:1: hours.mon[1]: 11:00-13:00 overlaps hours.mon[0] (09:00-12:00)",
        ),
    ];
    for (yaml, expected) in cases {
        assert_eq!(errors(yaml), [expected.to_string()], "{yaml}");
    }
}

#[test]
fn every_mistake_is_reported_not_just_the_first() {
    // Documents that do not parse are all reported...
    let errs = errors(
        "kind: agreemnt\n---\nkind: agreement\ntype: sla\nid: a\nobjectives: [{id: o, metric: resolution, targt: 8h}]\n",
    );
    assert_eq!(errs.len(), 2, "{errs:#?}");
    // ...and, once every document parses, every broken rule between them.
    let errs = errors(
        "kind: agreement\ntype: sla\nid: a\ncalendar: nyk\nobjectives: []\n---\nkind: customer\nid: acme\nname: Again\n",
    );
    assert_eq!(
        errs,
        [
            "sla.yaml:8:5: id: the customer id `acme` is already used (in base.yaml)",
            "sla.yaml:4:11: calendar: unknown calendar `nyk`; did you mean `nyc`?",
        ]
    );
}

const TIERS: &str = "\
kind: agreement
type: sla
id: corporate-default
objectives:
  - {id: p1-first, metric: first_response, when: {priority: [P1]}, target: 4h}
  - {id: any-first, metric: first_response, target: 8h}
---
kind: agreement
type: sla
id: acme-gold
level: customer
customer: acme
calendar: nyc
objectives:
  - {id: gold-p1-first, metric: first_response, when: {priority: [P1]}, target: 30m}
  - {id: gold-eu-resolution, metric: resolution, when: {fields.region: [eu]}, target: 4h}
  - {id: gold-vip, metric: resolution, when: {tags: [vip, exec]}, target: 2h}
---
kind: agreement
type: sla
id: acme-email
level: service
customer: acme
services: [email]
objectives:
  - {id: email-first, metric: first_response, target: 15m}
---
kind: agreement
type: sla
id: acme-gold-extra
level: customer
customer: acme
objectives:
  - {id: extra-p2-first, metric: first_response, when: {priority: [P2]}, target: 1h}
  - {id: extra-p1-first, metric: first_response, when: {priority: [P1]}, target: 10m}
---
kind: agreement
type: ola
id: network-ola
team: network
objectives:
  - {id: net-resolution, metric: resolution, target: 6h}
---
kind: agreement
type: uc
id: telco-uc
supplier: telco
objectives:
  - {id: telco-fix, metric: resolution, target: 4h}
";

fn ticket(customer: &str, priority: &str) -> TicketFacts {
    TicketFacts {
        customer: Some(customer.into()),
        priority: Some(priority.into()),
        ..Default::default()
    }
}

fn pick(l: &Loaded, t: &TicketFacts, metric: Metric, kind: AgreementType) -> Option<String> {
    let at: Timestamp = "2026-11-02T15:00:00Z".parse().unwrap();
    l.config
        .select(t, metric, kind, at)
        .map(|s| format!("{}/{}", s.agreement.id(), s.objective.id.value))
}

#[test]
fn the_highest_level_with_a_matching_objective_wins() {
    let l = loaded(TIERS);
    // service beats customer beats corporate
    let mut t = ticket("acme", "P1");
    t.service = Some("email".into());
    assert_eq!(
        pick(&l, &t, Metric::FirstResponse, AgreementType::Sla).as_deref(),
        Some("acme-email/email-first")
    );
    t.service = Some("vpn".into());
    assert_eq!(
        pick(&l, &t, Metric::FirstResponse, AgreementType::Sla).as_deref(),
        Some("acme-gold/gold-p1-first")
    );
    // a customer-level agreement without a matching objective does not block corporate
    assert_eq!(
        pick(
            &l,
            &ticket("acme", "P3"),
            Metric::FirstResponse,
            AgreementType::Sla
        )
        .as_deref(),
        Some("corporate-default/any-first")
    );
    // another customer only gets corporate
    assert_eq!(
        pick(
            &l,
            &ticket("globex", "P1"),
            Metric::FirstResponse,
            AgreementType::Sla
        )
        .as_deref(),
        Some("corporate-default/p1-first")
    );
}

#[test]
fn within_a_level_the_agreement_listed_first_and_within_it_the_first_objective() {
    let l = loaded(TIERS);
    assert_eq!(
        pick(
            &l,
            &ticket("acme", "P1"),
            Metric::FirstResponse,
            AgreementType::Sla
        )
        .as_deref(),
        Some("acme-gold/gold-p1-first"),
        "acme-gold is listed before acme-gold-extra, whose P1 objective is stricter"
    );
    assert_eq!(
        pick(
            &l,
            &ticket("acme", "P2"),
            Metric::FirstResponse,
            AgreementType::Sla
        )
        .as_deref(),
        Some("acme-gold-extra/extra-p2-first")
    );
    // corporate: the P1 objective comes before the catch-all
    assert_eq!(
        pick(
            &l,
            &ticket("initech", "P1"),
            Metric::FirstResponse,
            AgreementType::Sla
        )
        .as_deref(),
        Some("corporate-default/p1-first")
    );
    assert_eq!(
        pick(
            &l,
            &ticket("initech", "P4"),
            Metric::FirstResponse,
            AgreementType::Sla
        )
        .as_deref(),
        Some("corporate-default/any-first")
    );
}

#[test]
fn when_matches_fields_tags_and_lists() {
    let l = loaded(TIERS);
    let mut t = ticket("acme", "P3");
    assert_eq!(
        pick(&l, &t, Metric::Resolution, AgreementType::Sla),
        None,
        "no resolution objective matches"
    );
    t.fields.insert("region".into(), "eu".into());
    assert_eq!(
        pick(&l, &t, Metric::Resolution, AgreementType::Sla).as_deref(),
        Some("acme-gold/gold-eu-resolution")
    );
    t.fields.insert("region".into(), "us".into());
    t.tags = vec!["billing".into(), "exec".into()];
    assert_eq!(
        pick(&l, &t, Metric::Resolution, AgreementType::Sla).as_deref(),
        Some("acme-gold/gold-vip"),
        "any tag in the list"
    );
}

#[test]
fn olas_cover_their_team_and_ucs_their_supplier() {
    let l = loaded(TIERS);
    let mut t = ticket("acme", "P2");
    assert_eq!(pick(&l, &t, Metric::Resolution, AgreementType::Ola), None);
    t.team = Some("network".into());
    assert_eq!(
        pick(&l, &t, Metric::Resolution, AgreementType::Ola).as_deref(),
        Some("network-ola/net-resolution")
    );
    assert_eq!(pick(&l, &t, Metric::Resolution, AgreementType::Uc), None);
    t.supplier = Some("telco".into());
    assert_eq!(
        pick(&l, &t, Metric::Resolution, AgreementType::Uc).as_deref(),
        Some("telco-uc/telco-fix")
    );
}

#[test]
fn the_version_in_force_is_chosen_by_local_date() {
    let l = loaded(
        "\
kind: agreement
type: sla
id: acme-gold
version: 1
level: customer
customer: acme
calendar: nyc
effective: {from: 2026-01-01, to: 2026-10-31}
objectives:
  - {id: first, metric: first_response, target: 1h}
---
kind: agreement
type: sla
id: acme-gold
version: 2
level: customer
customer: acme
calendar: nyc
effective: {from: 2026-11-01}
objectives:
  - {id: first, metric: first_response, target: 30m}
",
    );
    let t = ticket("acme", "P1");
    let target = |at: &str| match l
        .config
        .select(
            &t,
            Metric::FirstResponse,
            AgreementType::Sla,
            at.parse().unwrap(),
        )
        .map(|s| (s.agreement.doc.version, s.target))
    {
        Some((v, Target::Time(d))) => Some((v, d.0)),
        _ => None,
    };
    // 2026-11-01T02:00Z is still 2026-10-31 in New York: version 1.
    assert_eq!(target("2026-11-01T02:00:00Z"), Some((1, 3600)));
    assert_eq!(target("2026-11-01T05:00:00Z"), Some((2, 1800)));
    assert_eq!(
        target("2025-12-31T12:00:00Z"),
        None,
        "before the first version"
    );
}

#[test]
fn versions_must_not_overlap_or_repeat() {
    let two = "kind: agreement\ntype: sla\nid: a\nversion: 1\neffective: {from: 2026-01-01, to: 2026-06-30}\n---\nkind: agreement\ntype: sla\nid: a\nversion: 2\neffective: {from: 2026-06-01}\n";
    assert_eq!(
        errors(two),
        [
            "sla.yaml:9:5: effective: the effective dates of version 2 of `a` overlap those of version 1"
        ]
    );
    let again = "kind: agreement\ntype: sla\nid: a\n---\nkind: agreement\ntype: sla\nid: a\n";
    assert_eq!(
        errors(again),
        ["sla.yaml:7:5: version: agreement `a` has version 1 twice (also in sla.yaml)"]
    );
}

#[test]
fn overlaps_and_objectives_that_cannot_match_are_warnings() {
    let l = loaded(
        "\
kind: agreement
type: sla
id: acme-a
level: customer
customer: acme
objectives:
  - {id: a-p1, metric: first_response, when: {priority: [P1, P2]}, target: 1h}
  - {id: a-never, metric: resolution, when: {priority: [critical]}, target: 8h}
---
kind: agreement
type: sla
id: acme-b
level: customer
customer: acme
objectives:
  - {id: b-p2, metric: first_response, when: {priority: [P2]}, target: 2h}
  - {id: b-p3, metric: first_response, when: {priority: [P3]}, target: 2h}
  - {id: b-globex, metric: resolution, when: {customer: [globex]}, target: 8h}
",
    );
    let warnings: Vec<String> = l.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "sla.yaml:8:45: objectives[1].when: objective `a-never` can never match: no priority in `when.priority` is one of the agreement's priorities (P1, P2, P3, P4)",
            "sla.yaml:18:46: objectives[2].when: objective `b-globex` can never match: the agreement covers customer `acme` only",
            "sla.yaml:16:10: objectives: objective `b-p2` of `acme-b` and objective `a-p1` of `acme-a` both apply to some first_response tickets at customer level; `acme-a` wins (listed first)",
        ]
    );
}

#[test]
fn an_objective_behind_a_catch_all_is_a_warning() {
    let l = loaded(
        "kind: agreement\ntype: sla\nid: a\nobjectives:\n  - {id: any, metric: resolution, target: 8h}\n  - {id: p1, metric: resolution, when: {priority: [P1]}, target: 2h}\n",
    );
    let warnings: Vec<String> = l.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "sla.yaml:6:10: objectives[1]: objective `p1` can never be chosen: `any` before it has no `when` and takes every resolution ticket"
        ]
    );
}

#[test]
fn the_ics_path_is_relative_to_its_yaml_file() {
    let files = vec![SourceFile {
        path: "regions/eu.yaml".into(),
        text: "kind: calendar\nid: paris\ntimezone: Europe/Paris\nhours: {mon: [\"09:00-17:00\"]}\nholidays: [{ics: ../holidays/fr.ics}]\n".into(),
    }];
    let read = |p: &str| -> Result<String, String> {
        assert_eq!(p, "holidays/fr.ics");
        Ok("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261102\nEND:VEVENT\nEND:VCALENDAR\n".into())
    };
    let l = load(&files, &read).unwrap();
    let cal = &l.config.calendar("paris").unwrap().calendar;
    assert!(!cal.is_open("2026-11-02T10:00:00Z".parse().unwrap()));
}

/// The examples in `examples/` (a managed-service provider) load without a mistake or a
/// warning.
#[test]
fn the_examples_load_cleanly() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            files.push(SourceFile {
                path: path.file_name().unwrap().to_string_lossy().into_owned(),
                text: std::fs::read_to_string(&path).unwrap(),
            });
        }
    }
    let read = |p: &str| std::fs::read_to_string(dir.join(p)).map_err(|e| e.to_string());
    let loaded = match load(&files, &read) {
        Ok(l) => l,
        Err(e) => panic!(
            "{}",
            e.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        ),
    };
    let warnings: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    assert!(warnings.is_empty(), "{warnings:#?}");
    let c = &loaded.config;
    assert_eq!(c.calendars.len(), 4);
    assert_eq!(c.customers.len(), 4);
    assert_eq!(c.agreements.len(), 9, "acme-gold has two versions");
    // Thanksgiving 2026 (from the .ics) closes the US office.
    let us = &c.calendar("us-office").unwrap().calendar;
    assert!(!us.is_open("2026-11-26T15:00:00Z".parse().unwrap()));
    assert!(us.is_open("2026-11-25T15:00:00Z".parse().unwrap()));
    // A critical Acme ticket in August falls under version 2 of Gold, on 24x7.
    let t = TicketFacts {
        customer: Some("acme".into()),
        priority: Some("critical".into()),
        ..Default::default()
    };
    let s = c
        .select(
            &t,
            Metric::FirstResponse,
            AgreementType::Sla,
            "2026-08-03T12:00:00Z".parse().unwrap(),
        )
        .unwrap();
    assert_eq!(
        (
            s.agreement.id(),
            s.agreement.doc.version,
            s.objective.id.value.as_str()
        ),
        ("acme-gold", 2, "critical-first-response")
    );
    assert_eq!(s.objective.calendar.as_ref().unwrap().value, "24x7");
    // Acme e-mail tickets: the service-level agreement wins.
    let mut e = t.clone();
    e.service = Some("email".into());
    let s = c
        .select(
            &e,
            Metric::FirstResponse,
            AgreementType::Sla,
            "2026-08-03T12:00:00Z".parse().unwrap(),
        )
        .unwrap();
    assert_eq!(s.agreement.id(), "acme-email");
}

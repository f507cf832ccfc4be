//! Example tests with hand-computed answers, and the laws as property tests.

use jiff::Timestamp;
use proptest::prelude::*;

use super::*;

/// A calendar from its JSON document, with no .ics files.
fn cal(json: &str) -> Calendar {
    doc_err(json).unwrap()
}

fn doc_err(json: &str) -> Result<Calendar, String> {
    let doc: CalendarDoc = serde_json::from_str(json).map_err(|e| e.to_string())?;
    doc.build(&|p: &str| Err(format!("no file {p}")))
        .map_err(|e| e.to_string())
}

/// An instant from a local time with its zone: `2026-11-02T09:00[America/New_York]`.
/// Or a UTC instant: `2026-03-08T07:30:00Z`.
fn t(s: &str) -> Timestamp {
    if s.contains('[') {
        s.parse::<jiff::Zoned>().unwrap().timestamp()
    } else {
        s.parse().unwrap()
    }
}

const H: i64 = 3600;

fn nyc() -> Calendar {
    cal(r#"{"timezone": "America/New_York",
        "hours": {"mon": ["09:00-17:00"], "tue": ["09:00-17:00"], "wed": ["09:00-17:00"],
                  "thu": ["09:00-17:00"], "fri": ["09:00-17:00"]},
        "holidays": ["2026-12-25", {"date": "2026-12-24", "hours": ["09:00-12:00"]},
                     {"from": "2026-12-28", "to": "2026-12-31"}]}"#)
}

#[test]
fn add_within_and_across_days() {
    let c = nyc();
    // 2026-11-02 is a Monday.
    let add = |s: &str, d: i64| c.add(t(s), d).unwrap();
    assert_eq!(
        add("2026-11-02T09:00[America/New_York]", 8 * H),
        t("2026-11-02T17:00[America/New_York]"),
        "a deadline that uses up a working day lands on its close"
    );
    assert_eq!(
        add("2026-11-02T16:00[America/New_York]", 2 * H),
        t("2026-11-03T10:00[America/New_York]")
    );
    assert_eq!(
        add("2026-11-06T16:00[America/New_York]", 2 * H),
        t("2026-11-09T10:00[America/New_York]"),
        "over a weekend"
    );
    assert_eq!(
        add("2026-11-07T12:00[America/New_York]", H),
        t("2026-11-09T10:00[America/New_York]"),
        "from closed time"
    );
    assert_eq!(
        add("2026-11-02T17:00[America/New_York]", 1),
        t("2026-11-03T09:00:01[America/New_York]")
    );
    assert_eq!(
        add("2026-11-07T12:00[America/New_York]", 0),
        t("2026-11-07T12:00[America/New_York]"),
        "add(t, 0) = t"
    );
}

#[test]
fn subtract_lands_on_an_opening() {
    let c = nyc();
    let add = |s: &str, d: i64| c.add(t(s), d).unwrap();
    assert_eq!(
        add("2026-11-03T10:00[America/New_York]", -H),
        t("2026-11-03T09:00[America/New_York]")
    );
    assert_eq!(
        add("2026-11-03T09:00[America/New_York]", -H),
        t("2026-11-02T16:00[America/New_York]")
    );
    assert_eq!(
        add("2026-11-03T17:00[America/New_York]", -8 * H),
        t("2026-11-03T09:00[America/New_York]"),
        "not the previous close"
    );
    assert_eq!(
        add("2026-11-09T10:00[America/New_York]", -2 * H),
        t("2026-11-06T16:00[America/New_York]")
    );
}

#[test]
fn elapsed_is_signed_and_counts_open_seconds_only() {
    let c = nyc();
    let (a, b) = (
        t("2026-11-02T08:00[America/New_York]"),
        t("2026-11-02T18:00[America/New_York]"),
    );
    assert_eq!(c.elapsed(a, b), 8 * H);
    assert_eq!(c.elapsed(b, a), -8 * H);
    assert_eq!(c.elapsed(a, a), 0);
    // A whole week: five days of eight hours.
    assert_eq!(
        c.elapsed(
            t("2026-11-02T00:00[America/New_York]"),
            t("2026-11-09T00:00[America/New_York]")
        ),
        40 * H
    );
}

#[test]
fn open_closed_and_the_neighbouring_business_instants() {
    let c = nyc();
    assert!(c.is_open(t("2026-11-02T09:00[America/New_York]")));
    assert!(c.is_open(t("2026-11-02T16:59:59[America/New_York]")));
    assert!(
        !c.is_open(t("2026-11-02T17:00[America/New_York]")),
        "intervals are half-open"
    );
    assert!(!c.is_open(t("2026-11-02T08:59:59[America/New_York]")));

    let next = |s: &str| c.next_business(t(s)).unwrap();
    let prev = |s: &str| c.prev_business(t(s)).unwrap();
    assert_eq!(
        next("2026-11-02T12:00[America/New_York]"),
        t("2026-11-02T12:00[America/New_York]")
    );
    assert_eq!(
        next("2026-11-02T17:00[America/New_York]"),
        t("2026-11-03T09:00[America/New_York]")
    );
    assert_eq!(
        next("2026-11-07T12:00[America/New_York]"),
        t("2026-11-09T09:00[America/New_York]")
    );
    assert_eq!(
        prev("2026-11-02T12:00[America/New_York]"),
        t("2026-11-02T12:00[America/New_York]")
    );
    assert_eq!(
        prev("2026-11-02T17:00[America/New_York]"),
        t("2026-11-02T17:00[America/New_York]"),
        "a close stays a close"
    );
    assert_eq!(
        prev("2026-11-03T09:00[America/New_York]"),
        t("2026-11-02T17:00[America/New_York]"),
        "an opening rolls back"
    );
    assert_eq!(
        prev("2026-11-08T12:00[America/New_York]"),
        t("2026-11-06T17:00[America/New_York]")
    );
}

#[test]
fn holidays_close_dates_give_hours_and_span_ranges_across_the_year() {
    let c = nyc();
    // Thu 12-24 open 09-12 only; Fri 12-25 closed; 12-28..31 closed; Fri 2027-01-01 open.
    assert_eq!(
        c.add(t("2026-12-24T11:00[America/New_York]"), 2 * H)
            .unwrap(),
        t("2027-01-01T10:00[America/New_York]")
    );
    assert!(!c.is_open(t("2026-12-24T13:00[America/New_York]")));
    assert_eq!(
        c.elapsed(
            t("2026-12-21T00:00[America/New_York]"),
            t("2027-01-02T00:00[America/New_York]")
        ),
        3 * 8 * H + 3 * H + 8 * H
    );
    assert_eq!(
        c.prev_business(t("2026-12-31T12:00[America/New_York]"))
            .unwrap(),
        t("2026-12-24T12:00[America/New_York]")
    );
}

#[test]
fn overnight_spans_belong_to_the_day_they_start_on() {
    let c = cal(r#"{"timezone": "Europe/London",
        "hours": {"mon": ["22:00-06:00"], "tue": ["22:00-06:00"], "wed": ["22:00-06:00"], "thu": ["22:00-06:00"],
                  "fri": ["22:00-06:00"], "sat": ["22:00-06:00"], "sun": ["22:00-06:00"]},
        "holidays": ["2026-12-25"]}"#);
    assert!(
        c.is_open(t("2026-12-25T03:00[Europe/London]")),
        "the shift of the 24th runs into the holiday"
    );
    assert!(
        !c.is_open(t("2026-12-25T23:00[Europe/London]")),
        "the holiday's own shift is gone, whole"
    );
    assert!(!c.is_open(t("2026-12-26T03:00[Europe/London]")));
    assert!(c.is_open(t("2026-12-26T22:00[Europe/London]")));
    assert_eq!(
        c.add(t("2026-12-25T05:00[Europe/London]"), 2 * H).unwrap(),
        t("2026-12-26T23:00[Europe/London]")
    );
}

#[test]
fn twenty_four_hundred_ends_the_day_and_touching_spans_join() {
    let c =
        cal(r#"{"timezone": "UTC", "hours": {"mon": ["18:00-24:00"], "tue": ["00:00-06:00"]}}"#);
    // 2026-11-02 is a Monday.
    assert_eq!(
        c.elapsed(t("2026-11-02T00:00[UTC]"), t("2026-11-04T00:00[UTC]")),
        12 * H
    );
    let spans = c.open_intervals(t("2026-11-02T00:00[UTC]"), t("2026-11-04T00:00[UTC]"));
    assert_eq!(
        spans,
        [(t("2026-11-02T18:00[UTC]"), t("2026-11-03T06:00[UTC]"))]
    );
}

#[test]
fn the_24x7_calendar_is_plain_time() {
    let c = Calendar::always_open();
    let a = t("2026-03-08T00:00[UTC]");
    assert_eq!(
        c.add(a, 86_400 * 400).unwrap().as_second(),
        a.as_second() + 86_400 * 400
    );
    assert_eq!(c.elapsed(a, t("2027-03-08T00:00[UTC]")), 365 * 86_400);
    assert!(c.is_utc());
}

// ----- DST -----

fn every_day(zone: &str, hours: &str) -> Calendar {
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .map(|d| format!("\"{d}\": [\"{hours}\"]"))
        .join(", ");
    cal(&format!(r#"{{"timezone": "{zone}", "hours": {{{days}}}}}"#))
}

#[test]
fn new_york_days_are_23_and_25_hours_long() {
    let c = every_day("America/New_York", "00:00-24:00");
    assert_eq!(
        c.elapsed(
            t("2026-03-08T00:00[America/New_York]"),
            t("2026-03-09T00:00[America/New_York]")
        ),
        23 * H
    );
    assert_eq!(
        c.elapsed(
            t("2026-11-01T00:00[America/New_York]"),
            t("2026-11-02T00:00[America/New_York]")
        ),
        90_000,
        "a 25-hour local day open all day holds 90,000 seconds"
    );
}

#[test]
fn new_york_boundaries_in_the_gap_move_forward_and_in_the_fold_take_the_earlier() {
    // 2026-03-08: 02:00 EST jumps to 03:00 EDT. 02:30 does not exist: it becomes 03:30 EDT.
    let gap = every_day("America/New_York", "02:30-05:00");
    assert_eq!(
        gap.next_business(t("2026-03-08T00:00[America/New_York]"))
            .unwrap(),
        t("2026-03-08T07:30:00Z")
    );
    assert_eq!(
        gap.elapsed(
            t("2026-03-08T00:00[America/New_York]"),
            t("2026-03-08T12:00[America/New_York]")
        ),
        90 * 60
    );
    // 2026-11-01: 02:00 EDT falls back to 01:00 EST. 01:30 happens twice: the earlier (EDT).
    let fold = every_day("America/New_York", "01:30-03:00");
    assert_eq!(
        fold.next_business(t("2026-11-01T00:00[America/New_York]"))
            .unwrap(),
        t("2026-11-01T05:30:00Z")
    );
    assert_eq!(
        fold.elapsed(
            t("2026-11-01T00:00[America/New_York]"),
            t("2026-11-01T12:00[America/New_York]")
        ),
        150 * 60
    );
    // An interval across the gap counts real seconds: 01:00 EST to 04:00 EDT is two hours.
    let across = every_day("America/New_York", "01:00-04:00");
    assert_eq!(
        across.elapsed(
            t("2026-03-08T00:00[America/New_York]"),
            t("2026-03-08T12:00[America/New_York]")
        ),
        2 * H
    );
    assert_eq!(
        across
            .add(t("2026-03-08T01:30[America/New_York]"), H)
            .unwrap(),
        t("2026-03-08T03:30[America/New_York]")
    );
}

#[test]
fn paris_office_hours_and_an_overnight_shift_across_dst() {
    let office = cal(
        r#"{"timezone": "Europe/Paris", "hours": {"mon": ["09:00-17:00"], "tue": ["09:00-17:00"],
        "wed": ["09:00-17:00"], "thu": ["09:00-17:00"], "fri": ["09:00-17:00"]}}"#,
    );
    // Summer time starts Sunday 2026-03-29; Friday and Monday still hold 8 hours each.
    assert_eq!(
        office.elapsed(
            t("2026-03-27T09:00[Europe/Paris]"),
            t("2026-03-30T17:00[Europe/Paris]")
        ),
        16 * H
    );
    assert_eq!(
        office
            .add(t("2026-03-27T16:00[Europe/Paris]"), 2 * H)
            .unwrap(),
        t("2026-03-30T10:00[Europe/Paris]")
    );
    assert_eq!(
        office
            .add(t("2026-03-27T16:00[Europe/Paris]"), 2 * H)
            .unwrap(),
        t("2026-03-30T08:00:00Z")
    );

    let night = every_day("Europe/Paris", "22:00-06:00");
    // Sat 2026-03-28 22:00 CET (21:00Z) to Sun 06:00 CEST (04:00Z): 7 real hours.
    assert_eq!(
        night.elapsed(
            t("2026-03-28T12:00[Europe/Paris]"),
            t("2026-03-29T12:00[Europe/Paris]")
        ),
        7 * H
    );
    // Sat 2026-10-24 22:00 CEST (20:00Z) to Sun 06:00 CET (05:00Z): 9 real hours.
    assert_eq!(
        night.elapsed(
            t("2026-10-24T12:00[Europe/Paris]"),
            t("2026-10-25T12:00[Europe/Paris]")
        ),
        9 * H
    );
    assert_eq!(
        night
            .add(t("2026-10-24T22:00[Europe/Paris]"), 8 * H)
            .unwrap(),
        t("2026-10-25T05:00[Europe/Paris]")
    );
}

#[test]
fn sydney_has_its_seasons_the_other_way_round() {
    let night = every_day("Australia/Sydney", "20:00-04:00");
    // DST ends Sunday 2026-04-05 at 03:00 AEDT → 02:00 AEST: the Saturday shift is 9 hours.
    assert_eq!(
        night.elapsed(
            t("2026-04-04T12:00[Australia/Sydney]"),
            t("2026-04-05T12:00[Australia/Sydney]")
        ),
        9 * H
    );
    // DST starts Sunday 2026-10-04 at 02:00 AEST → 03:00 AEDT: the Saturday shift is 7 hours.
    assert_eq!(
        night.elapsed(
            t("2026-10-03T12:00[Australia/Sydney]"),
            t("2026-10-04T12:00[Australia/Sydney]")
        ),
        7 * H
    );
    assert_eq!(
        night
            .add(t("2026-10-03T20:00[Australia/Sydney]"), 7 * H)
            .unwrap(),
        t("2026-10-04T04:00[Australia/Sydney]")
    );
    assert_eq!(
        night
            .add(t("2026-10-04T04:00[Australia/Sydney]"), -7 * H)
            .unwrap(),
        t("2026-10-03T20:00[Australia/Sydney]")
    );
}

#[test]
fn fractions_of_a_second_are_truncated() {
    let c = nyc();
    let start: Timestamp = "2026-11-02T14:00:00.999Z".parse().unwrap();
    assert_eq!(
        c.add(start, 60).unwrap(),
        "2026-11-02T14:01:00Z".parse::<Timestamp>().unwrap()
    );
}

#[test]
fn a_calendar_without_open_time_says_so() {
    let c = cal(r#"{"timezone": "UTC"}"#);
    let err = c.add(t("2026-01-01T00:00[UTC]"), 60).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the calendar has no open time within 100 years of 2026-01-01T00:00:00Z"
    );
    assert!(c.next_business(t("2026-01-01T00:00[UTC]")).is_err());
    assert_eq!(
        c.elapsed(t("2026-01-01T00:00[UTC]"), t("2027-01-01T00:00[UTC]")),
        0
    );
}

#[test]
fn huge_durations_are_out_of_range_not_a_crash() {
    let c = nyc();
    let a = t("2026-01-01T00:00[UTC]");
    assert_eq!(c.add(a, i64::MAX), Err(CalendarError::OutOfRange));
    assert_eq!(c.add(a, i64::MIN), Err(CalendarError::OutOfRange));
    assert_eq!(
        Calendar::always_open().add(a, 600_000_000_000),
        Err(CalendarError::OutOfRange)
    );
    assert_eq!(
        Calendar::always_open().add(a, 400_000_000_000),
        Err(CalendarError::OutOfRange)
    );
    // Far is fine as long as there is open time: 150 years of office hours.
    let far = c.add(a, 150 * 52 * 40 * H).unwrap();
    assert!(
        far > t("2150-01-01T00:00[UTC]") && far < t("2200-01-01T00:00[UTC]"),
        "{far}"
    );
    assert_eq!(c.elapsed(a, far), 150 * 52 * 40 * H);
    assert_eq!(
        c.add(far, -150 * 52 * 40 * H).unwrap(),
        c.next_business(a).unwrap()
    );
}

// ----- errors -----

#[test]
fn mistakes_are_named() {
    let cases: &[(&str, &str)] = &[
        (
            r#"{"timezone": "Mars/Olympus"}"#,
            "unknown time zone \"Mars/Olympus\": expected an IANA name such as America/New_York at line 1 column 28",
        ),
        (
            r#"{"timezone": "UTC", "hours": {"mon": ["25:00-26:00"]}}"#,
            "\"25:00-26:00\" is not an interval: 25:00 is not a time of day (00:00 to 23:59, or 24:00 as an end) at line 1 column 52",
        ),
        (
            r#"{"timezone": "UTC", "hours": {"mon": ["24:00-06:00"]}}"#,
            "\"24:00-06:00\" is not an interval: 24:00 can only end an interval at line 1 column 52",
        ),
        (
            r#"{"timezone": "UTC", "hours": {"mon": ["9-17"]}}"#,
            "\"9-17\" is not an interval: \"9\" is not a time of day (HH:MM) at line 1 column 45",
        ),
        (
            r#"{"timezone": "UTC", "hours": {"mon": ["09:00-12:00", "11:00-13:00"]}}"#,
            "hours.mon[1]: 11:00-13:00 overlaps hours.mon[0] (09:00-12:00)",
        ),
        (
            r#"{"timezone": "UTC", "hours": {"mon": ["22:00-06:00"], "tue": ["05:00-09:00"]}}"#,
            "hours.tue[0]: 05:00-09:00 overlaps hours.mon[0] (22:00-06:00)",
        ),
        (
            r#"{"timezone": "UTC", "hours": {"sun": ["22:00-06:00"], "mon": ["05:00-09:00"]}}"#,
            "hours.mon[0]: 05:00-09:00 overlaps hours.sun[0] (22:00-06:00)",
        ),
        (
            r#"{"timezone": "UTC", "hours": {"mnd": ["09:00-17:00"]}}"#,
            "unknown field `mnd`, expected one of `mon`, `tue`, `wed`, `thu`, `fri`, `sat`, `sun` at line 1 column 35",
        ),
        (
            r#"{"timezone": "UTC", "holidays": ["2026-13-01"]}"#,
            "\"2026-13-01\" is not a date (YYYY-MM-DD) at line 1 column 45",
        ),
        (
            r#"{"timezone": "UTC", "holidays": [{"from": "2026-12-28"}]}"#,
            "a range needs both `from` and `to` (inclusive dates) at line 1 column 55",
        ),
        (
            r#"{"timezone": "UTC", "holidays": [{"from": "2026-12-28", "to": "2026-12-01"}]}"#,
            "the range ends (2026-12-01) before it starts (2026-12-28) at line 1 column 75",
        ),
        (
            r#"{"timezone": "UTC", "holidays": [{"hours": ["09:00-12:00"]}]}"#,
            "`hours` needs the `date` it applies to at line 1 column 59",
        ),
        (
            r#"{"timezone": "UTC", "holidays": [{"date": "2026-12-24", "hours": ["09:00-12:00"]}, "2026-12-24"]}"#,
            "holidays[1]: 2026-12-24 already has hours of its own (holidays[0])",
        ),
        (
            r#"{"timezone": "UTC", "holidays": [{"date": "2026-12-24", "ics": "x.ics"}]}"#,
            "a holiday is one of {date}, {date, hours}, {from, to} or {ics}, not a mix at line 1 column 71",
        ),
        (
            r#"{"timezone": "UTC", "holidays": [{"ics": "missing.ics"}]}"#,
            "holidays[0].ics: cannot read \"missing.ics\": no file missing.ics",
        ),
        (
            r#"{"timezone": "UTC", "kind": "agreement"}"#,
            "unknown variant `agreement`, expected `calendar` at line 1 column 39",
        ),
    ];
    for (json, expected) in cases {
        assert_eq!(doc_err(json).unwrap_err(), *expected, "{json}");
    }
}

// ----- iCalendar -----

const ICS: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n\
BEGIN:VEVENT\r\nUID:1\r\nSUMMARY:Christmas\r\nDTSTART;VALUE=DATE:20201225\r\nDTEND;VALUE=DATE:20201226\r\n\
RRULE:FREQ=YEARLY\r\nEXDATE;VALUE=DATE:20271225\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:2\r\nSUMMARY:Thanksgiving\r\nDTSTART;VALUE=DATE:20201126\r\n\
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=4TH\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:3\r\nSUMMARY:Team offsite\r\nDTSTART;TZID=Europe/Paris:20261104T140000\r\n\
DTEND;TZID=Europe/Paris:20261104T160000\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:4\r\nSUMMARY:Cancelled\r\nSTATUS:CANCELLED\r\nDTSTART;VALUE=DATE:20261105\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:5\r\nSUMMARY:Two days\r\nDTSTART:20261112\r\nDTEND:20261114\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";

fn with_ics(text: &'static str) -> Result<Calendar, String> {
    let doc: CalendarDoc = serde_json::from_str(
        r#"{"timezone": "America/New_York", "hours": {"mon": ["09:00-17:00"], "tue": ["09:00-17:00"],
            "wed": ["09:00-17:00"], "thu": ["09:00-17:00"], "fri": ["09:00-17:00"]},
            "holidays": [{"ics": "us.ics"}, {"date": "2026-11-26", "hours": ["09:00-10:00"]}]}"#,
    )
    .unwrap();
    doc.build(&move |p: &str| {
        assert_eq!(p, "us.ics");
        Ok(text.to_owned())
    })
    .map_err(|e| e.to_string())
}

#[test]
fn icalendar_holidays_recur_and_timed_events_close_their_span() {
    let c = with_ics(ICS).unwrap();
    let ny = |s: &str| t(&format!("{s}[America/New_York]"));
    assert!(!c.is_open(ny("2026-12-25T10:00")), "yearly Christmas");
    assert!(!c.is_open(ny("2025-12-25T10:00")));
    assert!(c.is_open(ny("2027-12-24T10:00")));
    // 2027-12-25 is a Saturday anyway; EXDATE shows on a weekday year: none here, so
    // check the rule stops only where told: 2028-12-25 (Monday) is closed.
    assert!(!c.is_open(ny("2028-12-25T10:00")));
    assert!(
        !c.is_open(ny("2025-11-27T10:00")),
        "Thanksgiving 2025 (4th Thursday)"
    );
    // The document's own hours for 2026-11-26 win over the .ics holiday.
    assert!(c.is_open(ny("2026-11-26T09:30")));
    assert!(!c.is_open(ny("2026-11-26T10:30")));
    // 14:00-16:00 Paris = 08:00-10:00 New York on 2026-11-04: closes 09:00-10:00 only.
    assert!(!c.is_open(ny("2026-11-04T09:30")));
    assert!(c.is_open(ny("2026-11-04T10:00")));
    assert_eq!(
        c.elapsed(ny("2026-11-04T00:00"), ny("2026-11-05T00:00")),
        7 * H
    );
    assert!(
        c.is_open(ny("2026-11-05T10:00")),
        "a cancelled event closes nothing"
    );
    assert!(!c.is_open(ny("2026-11-12T10:00")) && !c.is_open(ny("2026-11-13T10:00")));
    assert!(c.is_open(ny("2026-11-16T10:00")), "DTEND is exclusive");
}

#[test]
fn icalendar_exdate_removes_an_occurrence() {
    const EX: &str = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20250704\nRRULE:FREQ=YEARLY;UNTIL=20300101\n\
EXDATE;VALUE=DATE:20260704,20270704\nEND:VEVENT\nEND:VCALENDAR\n";
    let c = with_ics(EX).unwrap();
    let ny = |s: &str| t(&format!("{s}[America/New_York]"));
    assert!(
        !c.is_open(ny("2025-07-04T10:00")),
        "Friday 2025-07-04 is the holiday"
    );
    assert!(c.is_open(ny("2027-07-05T10:00")));
    // 2029-07-04 is a Wednesday and still in the rule; 2031 is past UNTIL.
    assert!(!c.is_open(ny("2029-07-04T10:00")));
    assert!(c.is_open(ny("2031-07-04T10:00")));
}

#[test]
fn a_file_that_is_not_icalendar_is_refused() {
    let err = with_ics("hello, world\n").unwrap_err();
    assert!(
        err.starts_with("holidays[0].ics: us.ics: not an iCalendar file"),
        "{err}"
    );
    let err = with_ics("BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:x\nEND:VEVENT\nEND:VCALENDAR\n")
        .unwrap_err();
    assert_eq!(
        err,
        "holidays[0].ics: us.ics: event 1 (\"x\"): it has no DTSTART"
    );
    let err = with_ics("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;TZID=Mars/Base:20261104T140000\nDTEND;TZID=Mars/Base:20261104T150000\nEND:VEVENT\nEND:VCALENDAR\n").unwrap_err();
    assert_eq!(
        err,
        "holidays[0].ics: us.ics: event 1: unknown time zone TZID=Mars/Base"
    );
}

// ----- laws -----

fn overnight_sydney() -> Calendar {
    cal(
        r#"{"timezone": "Australia/Sydney", "hours": {"mon": ["08:00-12:00", "13:00-17:30"],
        "tue": ["20:00-04:00"], "thu": ["00:00-24:00"], "sat": ["10:00-10:30"]},
        "holidays": ["2026-01-26", {"date": "2026-04-07", "hours": ["23:00-01:00"]}]}"#,
    )
}

fn calendars() -> Vec<Calendar> {
    vec![
        nyc(),
        overnight_sydney(),
        every_day("Europe/Paris", "02:30-03:30"),
        Calendar::always_open(),
    ]
}

/// Instants from 2024 to 2028, where the calendars above have DST changes and holidays.
fn instant() -> impl Strategy<Value = i64> {
    1_704_067_200i64..1_861_920_000i64
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn elapsed_undoes_add(which in 0usize..4, a in instant(), d in 0i64..(400 * H)) {
        let c = &calendars()[which];
        let b = c.add_seconds(a, d).unwrap();
        prop_assert!(b >= a);
        prop_assert_eq!(c.elapsed_seconds(a, b), d);
        // The result is never inside closed time: the second before it is open.
        if d > 0 {
            prop_assert!(c.is_open_second(b - 1));
        }
        let back = c.add_seconds(a, -d).unwrap();
        prop_assert!(back <= a);
        prop_assert_eq!(c.elapsed_seconds(back, a), d);
        if d > 0 {
            prop_assert!(c.is_open_second(back), "a backward result is an open instant");
        }
    }

    #[test]
    fn add_then_subtract_returns_to_the_same_business_instant(which in 0usize..4, a in instant(), d in 1i64..(400 * H)) {
        let c = &calendars()[which];
        let there = c.add_seconds(a, d).unwrap();
        prop_assert_eq!(c.add_seconds(there, -d).unwrap(), c.next_business_second(a).unwrap());
    }

    #[test]
    fn elapsed_is_antisymmetric_and_additive(which in 0usize..4, a in instant(), b in instant(), m in instant()) {
        let c = &calendars()[which];
        prop_assert_eq!(c.elapsed_seconds(a, b), -c.elapsed_seconds(b, a));
        prop_assert_eq!(c.elapsed_seconds(a, b), c.elapsed_seconds(a, m) + c.elapsed_seconds(m, b));
    }

    #[test]
    fn business_neighbours_are_where_the_rules_say(which in 0usize..4, a in instant()) {
        let c = &calendars()[which];
        prop_assert_eq!(c.is_open_second(a), c.elapsed_seconds(a, a + 1) == 1);
        let next = c.next_business_second(a).unwrap();
        prop_assert!(next >= a && c.is_open_second(next));
        prop_assert_eq!(c.elapsed_seconds(a, next), 0, "nothing open is skipped");
        let prev = c.prev_business_second(a).unwrap();
        prop_assert!(prev <= a && c.is_open_second(prev - 1));
        prop_assert_eq!(c.elapsed_seconds(prev, a), 0);
    }
}

/// An independent model: walk the local days with jiff and count each open second by
/// minute steps, for one DST-heavy week, and compare with the index.
#[test]
fn the_index_agrees_with_a_day_by_day_walk() {
    let c = overnight_sydney();
    let from = t("2026-04-04T00:00[Australia/Sydney]").as_second();
    let mut counted = 0;
    let mut open_now = false;
    for s in (from..from + 10 * 86_400).step_by(60) {
        // Hours start on whole minutes, so sampling each minute is exact.
        let local = jiff::Timestamp::from_second(s)
            .unwrap()
            .to_zoned(c.time_zone().clone());
        let expect = expected_open(&local);
        assert_eq!(c.is_open_second(s), expect, "{local}");
        if expect {
            counted += 60;
        }
        open_now = expect;
    }
    let _ = open_now;
    assert_eq!(c.elapsed_seconds(from, from + 10 * 86_400), counted);
}

/// The `overnight_sydney` rules, written out directly on local time.
fn expected_open(z: &jiff::Zoned) -> bool {
    use jiff::civil::Weekday::*;
    let date = z.date();
    let mins = i32::from(z.hour()) * 60 + i32::from(z.minute());
    let yesterday = date.yesterday().unwrap();
    let rule = |d: jiff::civil::Date, m: i32, from_yesterday: bool| -> bool {
        if d == jiff::civil::date(2026, 1, 26) {
            return false;
        }
        if d == jiff::civil::date(2026, 4, 7) {
            return if from_yesterday { m < 60 } else { m >= 23 * 60 };
        }
        match (d.weekday(), from_yesterday) {
            (Monday, false) => (480..720).contains(&m) || (780..1050).contains(&m),
            (Tuesday, false) => m >= 1200,
            (Tuesday, true) => m < 240,
            (Thursday, false) => true,
            (Saturday, false) => (600..630).contains(&m),
            _ => false,
        }
    };
    rule(date, mins, false) || rule(yesterday, mins, true)
}

#[test]
fn calendars_are_found_in_multi_document_yaml_with_their_real_lines() {
    let yaml = "kind: agreement\nid: acme-gold\n---\nkind: calendar\nid: nyc\ntimezone: America/New_York\nhours: {mon: [\"09:00-17:00\"]}\n---\nkind: calendar\nid: paris\ntimezone: Europe/Paris\nhours:\n  tue: [\"09:00-27:00\"]\n";
    let nyc = calendar_from_yaml(yaml, "sla.yaml", Some("nyc")).unwrap();
    assert_eq!(nyc.timezone.name, "America/New_York");
    let err = calendar_from_yaml(yaml, "sla.yaml", Some("paris")).unwrap_err();
    assert!(err.starts_with("sla.yaml: "), "{err}");
    assert!(err.contains("27:00 is not a time of day"), "{err}");
    assert!(err.contains("line 13"), "the line in the whole file: {err}");
    assert_eq!(
        calendar_from_yaml(yaml, "sla.yaml", None).unwrap_err(),
        "sla.yaml: several calendars (nyc, paris): choose one with --id"
    );
    assert_eq!(
        calendar_from_yaml(yaml, "sla.yaml", Some("tokyo")).unwrap_err(),
        "sla.yaml: no calendar with id \"tokyo\""
    );
    // Unquoted YAML dates are dates.
    let doc = calendar_from_yaml("kind: calendar\ntimezone: UTC\nholidays:\n  - 2026-12-25\n  - {from: 2026-12-28, to: 2026-12-31}\n", "c.yaml", None).unwrap();
    assert_eq!(doc.holidays.len(), 2);
}

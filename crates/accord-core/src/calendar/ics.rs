//! Holidays from iCalendar (.ics) files: all-day events (`VALUE=DATE`) close their dates,
//! timed events close their own span. `RRULE` recurrences (yearly holidays), `RDATE` and
//! `EXDATE` are expanded; `TZID` parameters and UTC (`Z`) times are honoured, floating
//! times are in the calendar's zone; cancelled events are ignored.
//!
//! The parsing is done by `icalendar`, the recurrences by `rrule` (both chrono-based:
//! the conversion to jiff happens here and nowhere else). Recurrences are expanded from
//! 1900 to 2200 (DESIGN leaves the range open; see docs/decisions.md).

use chrono::{TimeZone as _, Utc};
use icalendar::parser::{Component, Property};
use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use rrule::RRuleSet;

use super::doc::ZoneName;

/// Expanded closures of an .ics file.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub dates: Vec<Date>,
    pub closures: Vec<(Timestamp, Timestamp)>,
}

const FIRST_YEAR: i32 = 1900;
const LAST_YEAR: i32 = 2200;
/// Most occurrences expanded per event (a daily rule over three centuries stays bounded).
const MAX_OCCURRENCES: u16 = 20_000;

/// A DTSTART/DTEND/EXDATE/RDATE value: a date, or a date-time that is UTC, in a named
/// zone, or floating.
#[derive(Debug, Clone)]
enum When {
    Day(Date),
    Utc(DateTime),
    Zoned(DateTime, String),
    Floating(DateTime),
}

impl When {
    /// The rrule form: a whole line such as `DTSTART;TZID=Europe/Paris:20250101T100000`.
    /// Dates become midnight UTC (their date is all that is read back).
    fn rrule_line(&self, name: &str, calendar_zone: &str) -> String {
        match self {
            When::Day(d) => format!("{name}:{}T000000Z", d.strftime("%Y%m%d")),
            When::Utc(dt) => format!("{name}:{}Z", dt.strftime("%Y%m%dT%H%M%S")),
            When::Zoned(dt, tz) => format!("{name};TZID={tz}:{}", dt.strftime("%Y%m%dT%H%M%S")),
            When::Floating(dt) => {
                format!(
                    "{name};TZID={calendar_zone}:{}",
                    dt.strftime("%Y%m%dT%H%M%S")
                )
            }
        }
    }

    fn instant(&self, zone: &ZoneName) -> Result<Timestamp, String> {
        let (dt, tz) = match self {
            When::Day(d) => return Err(format!("{d} is a date, not a time")),
            When::Utc(dt) => (*dt, jiff::tz::TimeZone::UTC),
            When::Zoned(dt, name) => (
                *dt,
                jiff::tz::db()
                    .get(name)
                    .map_err(|_| format!("unknown time zone TZID={name}"))?,
            ),
            When::Floating(dt) => (*dt, zone.tz.clone()),
        };
        tz.to_ambiguous_timestamp(dt)
            .compatible()
            .map_err(|e| e.to_string())
    }
}

fn param<'a>(p: &'a Property<'_>, key: &str) -> Option<&'a str> {
    p.params
        .iter()
        .find(|x| x.key.as_str().eq_ignore_ascii_case(key))
        .and_then(|x| x.val.as_ref().map(|v| v.as_str()))
}

fn parse_when(p: &Property<'_>, value: &str) -> Result<When, String> {
    let value = value.trim();
    let bad = || {
        format!(
            "{}:{value} is not an iCalendar date or date-time",
            p.name.as_str()
        )
    };
    let is_date =
        param(p, "VALUE").is_some_and(|v| v.eq_ignore_ascii_case("DATE")) || value.len() == 8;
    if is_date {
        let d = jiff::fmt::strtime::parse("%Y%m%d", value)
            .and_then(|t| t.to_date())
            .map_err(|_| bad())?;
        return Ok(When::Day(d));
    }
    let (text, utc) = match value.strip_suffix('Z') {
        Some(t) => (t, true),
        None => (value, false),
    };
    let dt = jiff::fmt::strtime::parse("%Y%m%dT%H%M%S", text)
        .and_then(|t| t.to_datetime())
        .map_err(|_| bad())?;
    Ok(match (utc, param(p, "TZID")) {
        (true, _) => When::Utc(dt),
        (false, Some(tz)) => When::Zoned(dt, tz.trim_matches('"').to_owned()),
        (false, None) => When::Floating(dt),
    })
}

fn values(p: &Property<'_>) -> Result<Vec<When>, String> {
    p.val
        .as_str()
        .split(',')
        .filter(|v| !v.trim().is_empty())
        .map(|v| parse_when(p, v))
        .collect()
}

fn chrono_bound(year: i32) -> Result<chrono::DateTime<rrule::Tz>, String> {
    Utc.with_ymd_and_hms(year, 1, 1, 0, 0, 0)
        .single()
        .map(|t| t.with_timezone(&rrule::Tz::UTC))
        .ok_or_else(|| "date out of range".to_owned())
}

/// Parses an .ics text.
pub(crate) fn parse(text: &str, zone: &ZoneName) -> Result<Parsed, String> {
    let unfolded = icalendar::parser::unfold(text);
    let roots = icalendar::parser::read_components(&unfolded)
        .map_err(|e| format!("not an iCalendar file ({})", e.lines().next().unwrap_or("")))?;
    let calendar = roots
        .iter()
        .find(|c| c.name.as_str().eq_ignore_ascii_case("VCALENDAR"))
        .ok_or("not an iCalendar file: it has no BEGIN:VCALENDAR")?;
    let mut parsed = Parsed::default();
    for (n, event) in calendar
        .components
        .iter()
        .filter(|c| c.name.as_str().eq_ignore_ascii_case("VEVENT"))
        .enumerate()
    {
        let label = event_label(event, n + 1);
        expand_event(event, zone, &mut parsed).map_err(|why| format!("{label}: {why}"))?;
    }
    Ok(parsed)
}

fn event_label(event: &Component<'_>, n: usize) -> String {
    match event.find_prop("SUMMARY") {
        Some(summary) => format!("event {n} ({:?})", summary.val.as_str()),
        None => format!("event {n}"),
    }
}

fn expand_event(event: &Component<'_>, zone: &ZoneName, out: &mut Parsed) -> Result<(), String> {
    if event
        .find_prop("STATUS")
        .is_some_and(|s| s.val.as_str().eq_ignore_ascii_case("CANCELLED"))
    {
        return Ok(());
    }
    let start_prop = event.find_prop("DTSTART").ok_or("it has no DTSTART")?;
    let start = parse_when(start_prop, start_prop.val.as_str())?;
    let end = match event.find_prop("DTEND") {
        Some(p) => Some(parse_when(p, p.val.as_str())?),
        None => None,
    };

    // Every occurrence's start, as rrule sees it.
    let mut lines = vec![start.rrule_line("DTSTART", &zone.name)];
    for p in event.properties.iter() {
        let name = p.name.as_str().to_ascii_uppercase();
        match name.as_str() {
            "RRULE" => lines.push(format!("RRULE:{}", rrule_for(&start, p.val.as_str()))),
            "EXDATE" | "RDATE" => {
                for w in values(p)? {
                    lines.push(w.rrule_line(&name, &zone.name));
                }
            }
            _ => {}
        }
    }
    let occurrences: Vec<chrono::DateTime<rrule::Tz>> = if lines.len() == 1 {
        Vec::new() // no recurrence: just DTSTART, handled below without rrule
    } else {
        let set: RRuleSet = lines
            .join("\n")
            .parse()
            .map_err(|e: rrule::RRuleError| format!("recurrence: {e}"))?;
        set.after(chrono_bound(FIRST_YEAR)?)
            .before(chrono_bound(LAST_YEAR + 1)?)
            .all(MAX_OCCURRENCES)
            .dates
    };

    match start {
        When::Day(first) => {
            let days = match &end {
                None => 1,
                Some(When::Day(e)) => {
                    let n = (*e - first).get_days();
                    if n < 1 {
                        return Err(format!("DTEND {e} is not after DTSTART {first}"));
                    }
                    n
                }
                Some(_) => return Err("DTEND is a time but DTSTART is a date".into()),
            };
            let starts: Vec<Date> = if occurrences.is_empty() {
                vec![first]
            } else {
                occurrences
                    .iter()
                    .filter_map(|o| {
                        let d = o.with_timezone(&Utc).date_naive();
                        use chrono::Datelike;
                        Date::new(d.year() as i16, d.month() as i8, d.day() as i8).ok()
                    })
                    .collect()
            };
            for s in starts {
                let mut d = s;
                for _ in 0..days {
                    out.dates.push(d);
                    d = d.tomorrow().map_err(|e| e.to_string())?;
                }
            }
        }
        _ => {
            let first = start.instant(zone)?;
            let Some(end) = end else {
                return Ok(()); // an instant closes nothing
            };
            let length = end.instant(zone)?.as_second() - first.as_second();
            if length <= 0 {
                return Ok(());
            }
            let starts: Vec<i64> = if occurrences.is_empty() {
                vec![first.as_second()]
            } else {
                occurrences.iter().map(|o| o.timestamp()).collect()
            };
            for s in starts {
                let (Ok(a), Ok(b)) = (
                    Timestamp::from_second(s),
                    Timestamp::from_second(s + length),
                ) else {
                    continue;
                };
                out.closures.push((a, b));
            }
        }
    }
    Ok(())
}

/// A rule as rrule wants it: with an all-day DTSTART (turned into midnight UTC), a date
/// `UNTIL` becomes that date's midnight UTC too.
fn rrule_for(start: &When, rule: &str) -> String {
    if !matches!(start, When::Day(_)) {
        return rule.to_owned();
    }
    rule.split(';')
        .map(|part| match part.split_once('=') {
            Some((k, v)) if k.eq_ignore_ascii_case("UNTIL") && v.len() == 8 => {
                format!("UNTIL={v}T000000Z")
            }
            _ => part.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(";")
}

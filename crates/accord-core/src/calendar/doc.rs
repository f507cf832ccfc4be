//! The calendar document of SLA-as-code (DESIGN 4.2), as YAML or JSON:
//!
//! ```yaml
//! kind: calendar
//! id: nyc
//! timezone: America/New_York
//! hours: {mon: ["09:00-17:00"], tue: ["09:00-12:00", "13:00-17:00"], sat: ["22:00-06:00"]}
//! holidays:
//!   - 2026-12-25
//!   - {date: 2026-12-24, hours: ["09:00-12:00"]}
//!   - {from: 2026-12-28, to: 2026-12-31}
//!   - {ics: holidays/us-2026.ics}
//! ```
//!
//! Leaf values (times, dates, zones) are checked while deserializing, so the YAML or JSON
//! parser reports them with their line and column; rules that span several keys
//! (overlapping hours, contradicting holidays) are checked in [`CalendarDoc::build`] and
//! named by the path of the key at fault.

use std::collections::BTreeMap;
use std::fmt;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Calendar, CalendarError, DAY, DateRule, DaySpan, ics};

/// A calendar as written.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarDoc {
    /// `calendar` (optional when the context says it is one, as in `calendar eval`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<CalendarKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// IANA time zone name.
    pub timezone: ZoneName,
    #[serde(default)]
    pub hours: WeekHours,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holidays: Vec<HolidayDoc>,
}

/// The only `kind` a calendar document can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CalendarKind {
    Calendar,
}

/// A time zone name that exists in the bundled IANA database.
#[derive(Debug, Clone)]
pub struct ZoneName {
    pub name: String,
    pub tz: TimeZone,
}

impl Serialize for ZoneName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name)
    }
}

impl<'de> Deserialize<'de> for ZoneName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        let tz = jiff::tz::db().get(&name).map_err(|_| {
            de::Error::custom(format!(
                "unknown time zone {name:?}: expected an IANA name such as America/New_York"
            ))
        })?;
        Ok(ZoneName { name, tz })
    }
}

/// Open hours per weekday.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WeekHours {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mon: Vec<HoursSpan>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tue: Vec<HoursSpan>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wed: Vec<HoursSpan>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thu: Vec<HoursSpan>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fri: Vec<HoursSpan>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sat: Vec<HoursSpan>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sun: Vec<HoursSpan>,
}

const WEEKDAY_KEYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl WeekHours {
    fn days(&self) -> [&[HoursSpan]; 7] {
        [
            &self.mon, &self.tue, &self.wed, &self.thu, &self.fri, &self.sat, &self.sun,
        ]
    }
}

/// `"HH:MM-HH:MM"`: an open span of a day. `24:00` is allowed as an end; an end that is
/// not after the start runs overnight into the next day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoursSpan(pub DaySpan);

impl std::str::FromStr for HoursSpan {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (a, b) = s.split_once('-').ok_or_else(|| {
            format!("{s:?} is not an interval: expected HH:MM-HH:MM, e.g. 09:00-17:00")
        })?;
        let start = clock_time(a.trim(), false)
            .map_err(|why| format!("{s:?} is not an interval: {why}"))?;
        let end =
            clock_time(b.trim(), true).map_err(|why| format!("{s:?} is not an interval: {why}"))?;
        // `24:00` is the end of the same day; any other end not after the start is the
        // next day's.
        let end = if end > start { end } else { end + DAY };
        Ok(HoursSpan(DaySpan { start, end }))
    }
}

impl fmt::Display for HoursSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hm = |s: i32| format!("{:02}:{:02}", s / 3600 % 24, s / 60 % 60);
        let end = if self.0.end == DAY {
            "24:00".to_owned()
        } else {
            hm(self.0.end)
        };
        write!(f, "{}-{}", hm(self.0.start), end)
    }
}

/// `HH:MM` (or `HH:MM:SS`) as seconds after midnight; `24:00` only as an end.
fn clock_time(s: &str, is_end: bool) -> Result<i32, String> {
    let parts: Vec<&str> = s.split(':').collect();
    let field = |p: &str| -> Option<i32> {
        (p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit())).then(|| p.parse().ok())?
    };
    let parsed = match parts.as_slice() {
        [h, m] => field(h).zip(field(m)).map(|(h, m)| (h, m, 0)),
        [h, m, sec] => match (field(h), field(m), field(sec)) {
            (Some(h), Some(m), Some(sec)) => Some((h, m, sec)),
            _ => None,
        },
        _ => None,
    };
    let Some((h, m, sec)) = parsed else {
        return Err(format!("{s:?} is not a time of day (HH:MM)"));
    };
    if (h, m, sec) == (24, 0, 0) {
        return if is_end {
            Ok(DAY)
        } else {
            Err("24:00 can only end an interval".into())
        };
    }
    if h > 23 || m > 59 || sec > 59 {
        return Err(format!(
            "{s} is not a time of day (00:00 to 23:59, or 24:00 as an end)"
        ));
    }
    Ok(h * 3600 + m * 60 + sec)
}

impl Serialize for HoursSpan {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HoursSpan {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(de::Error::custom)
    }
}

/// One entry of `holidays`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HolidayDoc {
    /// `2026-12-25`: closed all day.
    Date(Date),
    /// `{date, hours}`: that date's own hours.
    Hours(Date, Vec<HoursSpan>),
    /// `{from, to}`: closed, both ends included.
    Range(Date, Date),
    /// `{ics: PATH}`: the all-day events of an iCalendar file are holidays, its timed
    /// events close their own span.
    Ics(String),
}

impl Serialize for HolidayDoc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            HolidayDoc::Date(d) => s.collect_str(d),
            HolidayDoc::Hours(d, hours) => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("date", &d.to_string())?;
                m.serialize_entry("hours", hours)?;
                m.end()
            }
            HolidayDoc::Range(from, to) => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("from", &from.to_string())?;
                m.serialize_entry("to", &to.to_string())?;
                m.end()
            }
            HolidayDoc::Ics(path) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("ics", path)?;
                m.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for HolidayDoc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(HolidayVisitor)
    }
}

struct HolidayVisitor;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayMap {
    date: Option<Date>,
    hours: Option<Vec<HoursSpan>>,
    from: Option<Date>,
    to: Option<Date>,
    ics: Option<String>,
    /// A note for people ("Christmas Eve").
    #[serde(default)]
    #[allow(dead_code)]
    name: Option<String>,
}

impl<'de> Visitor<'de> for HolidayVisitor {
    type Value = HolidayDoc;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a date (2026-12-25), {date, hours}, {from, to} or {ics: PATH}")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<HolidayDoc, E> {
        s.parse::<Date>()
            .map(HolidayDoc::Date)
            .map_err(|_| E::custom(format!("{s:?} is not a date (YYYY-MM-DD)")))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<HolidayDoc, A::Error> {
        let m = HolidayMap::deserialize(de::value::MapAccessDeserializer::new(map))?;
        match m {
            HolidayMap {
                date: Some(date),
                hours: None,
                from: None,
                to: None,
                ics: None,
                ..
            } => Ok(HolidayDoc::Date(date)),
            HolidayMap {
                date: Some(date),
                hours: Some(hours),
                from: None,
                to: None,
                ics: None,
                ..
            } => Ok(HolidayDoc::Hours(date, hours)),
            HolidayMap {
                date: None,
                hours: None,
                from: Some(from),
                to: Some(to),
                ics: None,
                ..
            } => {
                if to < from {
                    Err(de::Error::custom(format!(
                        "the range ends ({to}) before it starts ({from})"
                    )))
                } else {
                    Ok(HolidayDoc::Range(from, to))
                }
            }
            HolidayMap {
                date: None,
                hours: None,
                from: None,
                to: None,
                ics: Some(path),
                ..
            } => Ok(HolidayDoc::Ics(path)),
            HolidayMap {
                from: Some(_),
                to: None,
                ..
            } => Err(de::Error::custom(
                "a range needs both `from` and `to` (inclusive dates)",
            )),
            HolidayMap {
                from: None,
                to: Some(_),
                ..
            } => Err(de::Error::custom(
                "a range needs both `from` and `to` (inclusive dates)",
            )),
            HolidayMap {
                date: None,
                hours: Some(_),
                ..
            } => Err(de::Error::custom("`hours` needs the `date` it applies to")),
            _ => Err(de::Error::custom(
                "a holiday is one of {date}, {date, hours}, {from, to} or {ics}, not a mix",
            )),
        }
    }
}

/// Where the files named by `ics:` entries come from: the caller reads them (the core
/// does no I/O), resolving the path as its context says (relative to the YAML file, or
/// to the working directory in `calendar eval`).
pub trait IcsSource {
    fn read(&self, path: &str) -> Result<String, String>;
}

impl<F: Fn(&str) -> Result<String, String>> IcsSource for F {
    fn read(&self, path: &str) -> Result<String, String> {
        self(path)
    }
}

/// Checks that spans do not overlap (touching is fine), on the weekly ring or in a day.
/// `spans` are (path, absolute start, absolute end, text) in seconds of the ring.
fn check_overlaps(
    mut spans: Vec<(String, i64, i64, String)>,
    ring: Option<i64>,
) -> Result<(), CalendarError> {
    spans.sort_by_key(|s| (s.1, s.2));
    for pair in spans.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if b.1 < a.2 {
            return Err(CalendarError::invalid(
                &b.0,
                format!("{} overlaps {} ({})", b.3, a.0, a.3),
            ));
        }
    }
    // On the weekly ring, Sunday's overnight span runs into Monday.
    if let (Some(ring), Some(last), Some(first)) = (ring, spans.last(), spans.first())
        && last.2 > ring
        && last.2 - ring > first.1
    {
        return Err(CalendarError::invalid(
            &first.0,
            format!("{} overlaps {} ({})", first.3, last.0, last.3),
        ));
    }
    Ok(())
}

impl CalendarDoc {
    /// Checks the rules between keys and builds the calendar, reading `ics` files
    /// through `source`.
    pub fn build(&self, source: &dyn IcsSource) -> Result<Calendar, CalendarError> {
        let days = self.hours.days();
        let week = i64::from(DAY) * 7;
        let mut ring = Vec::new();
        for (d, spans) in days.iter().enumerate() {
            for (i, span) in spans.iter().enumerate() {
                let base = d as i64 * i64::from(DAY);
                ring.push((
                    format!("hours.{}[{i}]", WEEKDAY_KEYS[d]),
                    base + i64::from(span.0.start),
                    base + i64::from(span.0.end),
                    span.to_string(),
                ));
            }
        }
        check_overlaps(ring, Some(week))?;
        let weekly: [Vec<DaySpan>; 7] =
            std::array::from_fn(|d| days[d].iter().map(|s| s.0).collect());

        // Dates with rules of their own. Explicit hours win over an all-day holiday from
        // an .ics file (the person who wrote them meant that date); a date given hours
        // twice, or both closed and given hours in the document, is a contradiction.
        let mut dates: BTreeMap<Date, (DateRule, String)> = BTreeMap::new();
        let mut closures = Vec::new();
        let mut from_ics = Vec::new();
        for (i, holiday) in self.holidays.iter().enumerate() {
            let path = format!("holidays[{i}]");
            match holiday {
                HolidayDoc::Date(date) => close(&mut dates, *date, &path)?,
                HolidayDoc::Range(from, to) => {
                    let mut date = *from;
                    while date <= *to {
                        close(&mut dates, date, &path)?;
                        match date.tomorrow() {
                            Ok(next) => date = next,
                            Err(_) => break,
                        }
                    }
                }
                HolidayDoc::Hours(date, hours) => {
                    let spans: Vec<_> = hours
                        .iter()
                        .enumerate()
                        .map(|(j, s)| {
                            (
                                format!("{path}.hours[{j}]"),
                                i64::from(s.0.start),
                                i64::from(s.0.end),
                                s.to_string(),
                            )
                        })
                        .collect();
                    check_overlaps(spans, None)?;
                    if let Some((_, earlier)) = dates.get(date) {
                        return Err(CalendarError::invalid(
                            &path,
                            format!("{date} already has a rule ({earlier})"),
                        ));
                    }
                    dates.insert(
                        *date,
                        (DateRule::Hours(hours.iter().map(|s| s.0).collect()), path),
                    );
                }
                HolidayDoc::Ics(file) => {
                    let text = source.read(file).map_err(|why| {
                        CalendarError::invalid(
                            format!("{path}.ics"),
                            format!("cannot read {file:?}: {why}"),
                        )
                    })?;
                    let parsed = ics::parse(&text, &self.timezone).map_err(|why| {
                        CalendarError::invalid(format!("{path}.ics"), format!("{file}: {why}"))
                    })?;
                    from_ics.extend(parsed.dates);
                    closures.extend(parsed.closures);
                }
            }
        }
        for date in from_ics {
            dates
                .entry(date)
                .or_insert((DateRule::Closed, "an .ics file".into()));
        }
        Ok(Calendar::new(
            self.timezone.tz.clone(),
            self.timezone.name.clone(),
            weekly,
            dates.into_iter().map(|(d, (rule, _))| (d, rule)).collect(),
            closures,
        ))
    }
}

fn close(
    dates: &mut BTreeMap<Date, (DateRule, String)>,
    date: Date,
    path: &str,
) -> Result<(), CalendarError> {
    match dates.get(&date) {
        Some((DateRule::Hours(_), earlier)) => Err(CalendarError::invalid(
            path,
            format!("{date} already has hours of its own ({earlier})"),
        )),
        Some((DateRule::Closed, _)) => Ok(()),
        None => {
            dates.insert(date, (DateRule::Closed, path.to_owned()));
            Ok(())
        }
    }
}

/// The `kind` and `id` of a YAML document, read before the document itself.
#[derive(Debug, Deserialize)]
struct DocHead {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    id: Option<String>,
}

/// Finds the calendar `id` (or the only calendar, when `id` is `None`) among the YAML
/// documents of an SLA-as-code file and parses it. Errors carry the line and column in
/// the whole file, prefixed with `file`.
pub fn calendar_from_yaml(text: &str, file: &str, id: Option<&str>) -> Result<CalendarDoc, String> {
    // The documents are split as SLA-as-code splits them (`---` or a top-level list),
    // with every other line blanked so line numbers stay those of the whole file.
    let documents = crate::policy::load::split_documents(text, file).map_err(|d| d.to_string())?;
    let mut found = Vec::new();
    for doc in &documents {
        let head: DocHead = from_document(doc, file)?;
        if head.kind.as_deref() == Some("calendar")
            && id.is_none_or(|want| head.id.as_deref() == Some(want))
        {
            found.push((doc, head.id));
        }
    }
    match (found.len(), id) {
        (0, Some(want)) => Err(format!("{file}: no calendar with id {want:?}")),
        (0, None) => Err(format!("{file}: no document has `kind: calendar`")),
        (1, _) => from_document(found[0].0, file),
        (_, None) => Err(format!(
            "{file}: several calendars ({}): choose one with --id",
            found
                .iter()
                .map(|(_, id)| id.as_deref().unwrap_or("?"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        (_, Some(want)) => Err(format!("{file}: the calendar id {want:?} is used twice")),
    }
}

/// One document deserialized; an error is `file: line L column C: message`.
fn from_document<T: serde::de::DeserializeOwned>(
    doc: &crate::policy::load::Document,
    file: &str,
) -> Result<T, String> {
    let fail = |e: serde_saphyr::Error| format!("{file}: {}", one_line(&e.to_string()));
    if doc.as_list_item {
        serde_saphyr::from_str::<Vec<T>>(&doc.masked)
            .map_err(fail)?
            .into_iter()
            .next()
            .ok_or_else(|| format!("{file}: an empty list item"))
    } else {
        serde_saphyr::from_str(&doc.masked).map_err(fail)
    }
}

/// serde-saphyr explains errors over several lines with a snippet; the first line has
/// the message and the place.
fn one_line(message: &str) -> String {
    message.lines().next().unwrap_or(message).trim().to_owned()
}

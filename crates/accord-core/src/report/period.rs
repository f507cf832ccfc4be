//! Report periods (DESIGN 4, `--period`): `2026-11`, `2026-W45`, `2026-Q4`, `2026`,
//! `FROM..TO` (inclusive local dates) or `30d` (the N × 24 h ending at the evaluation
//! instant), resolved in an agreement calendar's time zone.

use jiff::civil::{Date, ISOWeekDate, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// A period as asked for, before a time zone gives it instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodSpec {
    /// Inclusive local dates.
    Dates { from: Date, to: Date },
    /// The N days of 24 h ending at the evaluation instant.
    LastDays(i64),
}

/// A period in one time zone: `[from, to)` as instants, and its first and last local date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub from: Timestamp,
    pub to: Timestamp,
    pub first_date: Date,
    pub last_date: Date,
}

impl Span {
    pub fn contains(&self, t: Timestamp) -> bool {
        self.from <= t && t < self.to
    }
}

impl std::str::FromStr for PeriodSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<PeriodSpec, String> {
        let s = text.trim();
        let wrong = |why: &str| {
            format!(
                "`{text}` is not a period ({why}): use 2026-11, 2026-W45, 2026-Q4, 2026, 2026-11-01..2026-11-15 or 30d"
            )
        };
        let date = |d: &str| {
            d.trim()
                .parse::<Date>()
                .map_err(|e| wrong(&format!("`{d}`: {e}")))
        };
        if let Some((a, b)) = s.split_once("..") {
            let (from, to) = (date(a)?, date(b)?);
            if to < from {
                return Err(wrong("it ends before it starts"));
            }
            return Ok(PeriodSpec::Dates { from, to });
        }
        if let Some(days) = s.strip_suffix('d') {
            let n: i64 = days.parse().map_err(|_| wrong("a number of days"))?;
            if !(1..=3660).contains(&n) {
                return Err(wrong("between 1d and 3660d"));
            }
            return Ok(PeriodSpec::LastDays(n));
        }
        let year = |y: &str| -> Result<i16, String> {
            y.parse::<i16>()
                .ok()
                .filter(|y| (1970..=9999).contains(y))
                .ok_or_else(|| wrong("a year from 1970"))
        };
        let in_range = |from: Result<Date, jiff::Error>, to: Result<Date, jiff::Error>| {
            Ok(PeriodSpec::Dates {
                from: from.map_err(|e| wrong(&e.to_string()))?,
                to: to.map_err(|e| wrong(&e.to_string()))?,
            })
        };
        match s.split_once('-') {
            None => {
                let y = year(s)?;
                in_range(Date::new(y, 1, 1), Date::new(y, 12, 31))
            }
            Some((y, rest)) => {
                let y = year(y)?;
                if let Some(q) = rest.strip_prefix('Q') {
                    let q: i8 = q
                        .parse()
                        .ok()
                        .filter(|q| (1..=4).contains(q))
                        .ok_or_else(|| wrong("a quarter Q1 to Q4"))?;
                    let first = Date::new(y, 3 * q - 2, 1).map_err(|e| wrong(&e.to_string()))?;
                    in_range(
                        Ok(first),
                        first
                            .checked_add(3.months())
                            .map(|d| d.yesterday().unwrap_or(d)),
                    )
                } else if let Some(w) = rest.strip_prefix('W') {
                    let w: i8 = w.parse().map_err(|_| wrong("a week W1 to W53"))?;
                    let monday = ISOWeekDate::new(y, w, Weekday::Monday)
                        .map_err(|e| wrong(&e.to_string()))?
                        .date();
                    in_range(Ok(monday), monday.checked_add(6.days()))
                } else {
                    let m: i8 = rest
                        .parse()
                        .ok()
                        .filter(|m| (1..=12).contains(m))
                        .ok_or_else(|| wrong("a month 01 to 12"))?;
                    let first = Date::new(y, m, 1).map_err(|e| wrong(&e.to_string()))?;
                    in_range(Ok(first), Ok(first.last_of_month()))
                }
            }
        }
    }
}

/// Midnight starting `date` in `tz` (the earliest instant of that local date).
pub fn start_of(date: Date, tz: &TimeZone) -> Timestamp {
    date.to_zoned(tz.clone())
        .and_then(|z| z.start_of_day())
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::MAX)
}

fn local_date(t: Timestamp, tz: &TimeZone) -> Date {
    t.to_zoned(tz.clone()).date()
}

impl PeriodSpec {
    /// The period's instants in `tz`; `at` ends a `LastDays` period.
    pub fn span(&self, tz: &TimeZone, at: Timestamp) -> Span {
        match *self {
            PeriodSpec::Dates { from, to } => Span {
                from: start_of(from, tz),
                to: to
                    .tomorrow()
                    .map_or(Timestamp::MAX, |next| start_of(next, tz)),
                first_date: from,
                last_date: to,
            },
            PeriodSpec::LastDays(n) => {
                let from = at
                    .checked_sub((n * 86_400).seconds())
                    .unwrap_or(Timestamp::MIN);
                let last = at.checked_sub(1.second()).unwrap_or(at);
                Span {
                    from,
                    to: at,
                    first_date: local_date(from, tz),
                    last_date: local_date(last, tz),
                }
            }
        }
    }
}

/// How many earlier periods a report's trend shows.
pub const TREND_PERIODS: usize = 3;

impl PeriodSpec {
    /// The period of the same form just before this one: whole months give as many
    /// months (a quarter the quarter before, a year the year before), other date ranges
    /// as many days (a week the week before); `None` for `LastDays` (see `trend_spans`)
    /// or before the calendar's start.
    pub fn previous(&self) -> Option<PeriodSpec> {
        let PeriodSpec::Dates { from, to } = *self else {
            return None;
        };
        let whole_months = from.day() == 1 && to == to.last_of_month();
        if whole_months {
            let months = (i32::from(to.year()) * 12 + i32::from(to.month()))
                - (i32::from(from.year()) * 12 + i32::from(from.month()))
                + 1;
            let start = from.checked_sub(months.months()).ok()?;
            return Some(PeriodSpec::Dates {
                from: start,
                to: from.yesterday().ok()?,
            });
        }
        let days = (to - from).get_days() + 1;
        Some(PeriodSpec::Dates {
            from: from.checked_sub(days.days()).ok()?,
            to: from.yesterday().ok()?,
        })
    }

    /// The `TREND_PERIODS` periods before this one in `tz`, oldest first (fewer when the
    /// calendar runs out). `30d` ending at `at` is preceded by the 30 days before it.
    pub fn trend_spans(&self, tz: &TimeZone, at: Timestamp) -> Vec<Span> {
        let mut out = Vec::with_capacity(TREND_PERIODS);
        match *self {
            PeriodSpec::LastDays(n) => {
                for k in 1..=TREND_PERIODS as i64 {
                    let Ok(end) = at.checked_sub((k * n * 86_400).seconds()) else {
                        break;
                    };
                    out.push(self.span(tz, end));
                }
            }
            PeriodSpec::Dates { .. } => {
                let mut period = *self;
                for _ in 0..TREND_PERIODS {
                    let Some(before) = period.previous() else {
                        break;
                    };
                    out.push(before.span(tz, at));
                    period = before;
                }
            }
        }
        out.reverse();
        out
    }
}

/// Fee periods (`per`: months, quarters or years, in `tz`) that lie wholly inside `span`.
/// The calendar months a span touches, each cut to the span (a week inside one month
/// is one part; a quarter three whole months; `30d` two or three parts).
pub fn months_of(span: &Span, tz: &TimeZone) -> Vec<Span> {
    let mut out = Vec::new();
    let mut start = span.first_date.first_of_month();
    while start <= span.last_date {
        let Ok(next) = start.checked_add(1.months()) else {
            break;
        };
        let (from, to) = (start_of(start, tz), start_of(next, tz));
        out.push(Span {
            from: from.max(span.from),
            to: to.min(span.to),
            first_date: start.max(span.first_date),
            last_date: next.yesterday().unwrap_or(next).min(span.last_date),
        });
        start = next;
    }
    out
}

pub fn fee_periods(span: &Span, months_per: i8, tz: &TimeZone) -> Vec<Span> {
    let first = span.first_date;
    // Fee periods start on the first of a month that is a multiple of `months_per` from
    // January.
    let month0 = (first.month() - 1) / months_per * months_per + 1;
    let mut start = Date::new(first.year(), month0, 1).unwrap_or(first);
    let mut out = Vec::new();
    while start <= span.last_date {
        let Ok(next) = start.checked_add(i32::from(months_per).months()) else {
            break;
        };
        let fee = Span {
            from: start_of(start, tz),
            to: start_of(next, tz),
            first_date: start,
            last_date: next.yesterday().unwrap_or(next),
        };
        if span.from <= fee.from && fee.to <= span.to {
            out.push(fee);
        }
        start = next;
    }
    out
}

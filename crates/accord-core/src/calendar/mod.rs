//! Business-hours calendars and the arithmetic of business time (DESIGN 3.1).
//!
//! A [`Calendar`] knows when the clock runs: a time zone, open hours per weekday
//! (overnight spans belong to the weekday they start on), and holidays that close a date
//! or give it hours of its own. Its operations are exact to the second across DST gaps
//! and folds, holidays and years:
//!
//! - [`Calendar::add`]: the deadline `d` open seconds after a start (or before, for a
//!   negative `d`);
//! - [`Calendar::elapsed`]: the open seconds between two instants, signed;
//! - [`Calendar::is_open`], [`Calendar::next_business`], [`Calendar::prev_business`].
//!
//! Every query is answered from a precomputed index ([`index`]) of open intervals as UTC
//! second ranges with running totals, built per chunk of time on first use.

mod doc;
mod ics;
mod index;
pub mod workload;

pub use doc::{CalendarDoc, HolidayDoc, HoursSpan, IcsSource, WeekHours, calendar_from_yaml};

use std::collections::BTreeMap;
use std::sync::OnceLock;

use jiff::civil::{Date, DateTime, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use index::{CHUNK_LEN, Chunk, chunk_of};

/// Seconds in a civil day (the length of a local day is not fixed; this is the clock-face
/// unit hours are written in).
pub(crate) const DAY: i32 = 86_400;

/// How far `add`, `next_business` and `prev_business` look for open time before giving
/// up (a calendar closed for a century is a configuration error, not a deadline).
pub const SEARCH_LIMIT_YEARS: i64 = 100;
const SEARCH_LIMIT_CHUNKS: i64 = SEARCH_LIMIT_YEARS * 366 * 86_400 / CHUNK_LEN + 1;

/// Chunks for these instants are cached; queries outside build their chunk each time.
/// 1900-01-01 to 2200-12-31, with a margin.
const CACHE_FIRST_CHUNK: i64 = -2_208_988_800 >> index::CHUNK_BITS;
const CACHE_LAST_CHUNK: i64 = 7_289_654_400 >> index::CHUNK_BITS;

/// What went wrong with a calendar or a query on it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// A mistake in a calendar's definition, located by the path of the key at fault.
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    /// The search for open time went past [`SEARCH_LIMIT_YEARS`] or the supported range
    /// of instants.
    #[error("the calendar has no open time within {SEARCH_LIMIT_YEARS} years of {from}")]
    NoOpenTime { from: Timestamp },
    /// The result is outside the range of instants Accord supports.
    #[error("the result is outside the supported range of instants (years -9999 to 9999)")]
    OutOfRange,
}

impl CalendarError {
    pub(crate) fn invalid(path: impl Into<String>, message: impl Into<String>) -> Self {
        CalendarError::Invalid {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// One open span of a local day: seconds after local midnight, `start < end`, `end` up
/// to two days for an overnight span (`22:00-06:00` is 79,200..108,000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DaySpan {
    pub start: i32,
    pub end: i32,
}

/// What a specific date does instead of its weekday's hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateRule {
    /// A holiday: no open time that belongs to this date.
    Closed,
    /// Its own hours (replacing the weekday's).
    Hours(Vec<DaySpan>),
}

/// A business-hours calendar, ready for queries. Cheap to share (`Arc`), safe to query
/// from several threads: the index is built once per chunk.
pub struct Calendar {
    tz: TimeZone,
    zone_name: String,
    /// Monday first.
    weekly: [Vec<DaySpan>; 7],
    dates: BTreeMap<Date, DateRule>,
    /// Timed closures (from iCalendar events with a time), UTC seconds, merged.
    closures: Vec<(i64, i64)>,
    cache: Box<[OnceLock<Chunk>]>,
}

impl std::fmt::Debug for Calendar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Calendar")
            .field("zone", &self.zone_name)
            .field("weekly", &self.weekly)
            .field("dates", &self.dates.len())
            .field("closures", &self.closures.len())
            .finish()
    }
}

fn weekday_index(w: Weekday) -> usize {
    w.to_monday_zero_offset() as usize
}

impl Calendar {
    /// A calendar from its parts. `weekly` is Monday first; spans per day must not
    /// overlap (the document parser checks and names the culprit).
    pub fn new(
        tz: TimeZone,
        zone_name: impl Into<String>,
        weekly: [Vec<DaySpan>; 7],
        dates: BTreeMap<Date, DateRule>,
        closures: Vec<(Timestamp, Timestamp)>,
    ) -> Calendar {
        let cached = (CACHE_LAST_CHUNK - CACHE_FIRST_CHUNK + 1) as usize;
        Calendar {
            tz,
            zone_name: zone_name.into(),
            weekly,
            dates,
            closures: index::merge(
                closures
                    .into_iter()
                    .map(|(a, b)| (a.as_second(), b.as_second()))
                    .collect(),
            ),
            cache: (0..cached).map(|_| OnceLock::new()).collect(),
        }
    }

    /// The built-in `24x7`: always open, in UTC.
    pub fn always_open() -> Calendar {
        let all_day = vec![DaySpan { start: 0, end: DAY }];
        Calendar::new(
            TimeZone::UTC,
            "UTC",
            std::array::from_fn(|_| all_day.clone()),
            BTreeMap::new(),
            Vec::new(),
        )
    }

    /// The calendar's time zone.
    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// The rule a date has instead of its weekday's hours (a holiday, or hours of its own).
    pub fn date_rule(&self, date: Date) -> Option<&DateRule> {
        self.dates.get(&date)
    }

    /// The IANA name of the calendar's time zone.
    pub fn zone_name(&self) -> &str {
        &self.zone_name
    }

    /// Whether the calendar's zone is UTC itself (results are then written with `Z`).
    pub fn is_utc(&self) -> bool {
        matches!(
            self.zone_name.as_str(),
            "UTC"
                | "Etc/UTC"
                | "Etc/UCT"
                | "UCT"
                | "Etc/Universal"
                | "Universal"
                | "Zulu"
                | "Etc/Zulu"
        )
    }

    // ----- queries on Timestamps (the public API) -----

    /// `add(start, d)`: for `d > 0` the earliest instant `t ≥ start` with `d` open
    /// seconds in `[start, t)` (a deadline that uses up a working day lands on its
    /// close); for `d < 0` the latest `t ≤ start` with `-d` open seconds in `[t, start)`
    /// (it lands on an opening); `add(t, 0) = t`. Fractions of a second are truncated.
    pub fn add(&self, start: Timestamp, seconds: i64) -> Result<Timestamp, CalendarError> {
        to_timestamp(self.add_seconds(start.as_second(), seconds)?)
    }

    /// Open seconds in `[a, b)`, signed: `elapsed(b, a) = -elapsed(a, b)`.
    pub fn elapsed(&self, a: Timestamp, b: Timestamp) -> i64 {
        self.elapsed_seconds(a.as_second(), b.as_second())
    }

    /// Whether `t` lies in an open interval.
    pub fn is_open(&self, t: Timestamp) -> bool {
        self.is_open_second(t.as_second())
    }

    /// The earliest instant `≥ t` followed by open time (`t` itself when open).
    pub fn next_business(&self, t: Timestamp) -> Result<Timestamp, CalendarError> {
        to_timestamp(self.next_business_second(t.as_second())?)
    }

    /// The latest instant `≤ t` preceded by open time (`t` itself when the second before
    /// it is open, so a close stays a close and an opening rolls back to the previous
    /// close).
    pub fn prev_business(&self, t: Timestamp) -> Result<Timestamp, CalendarError> {
        to_timestamp(self.prev_business_second(t.as_second())?)
    }

    /// The open intervals overlapping `[from, to)`, clipped to it, in order.
    pub fn open_intervals(&self, from: Timestamp, to: Timestamp) -> Vec<(Timestamp, Timestamp)> {
        let (from, to) = (from.as_second(), to.as_second());
        let mut out: Vec<(i64, i64)> = Vec::new();
        if from >= to {
            return Vec::new();
        }
        for k in chunk_of(from)..=chunk_of(to - 1) {
            self.with_chunk(k, |c| {
                for (s, e) in c.intervals_in(from, to) {
                    // Join the pieces of an interval that crosses a chunk boundary.
                    match out.last_mut() {
                        Some(last) if last.1 == s => last.1 = e,
                        _ => out.push((s, e)),
                    }
                }
            });
        }
        out.into_iter()
            .filter_map(|(s, e)| Some((to_timestamp(s).ok()?, to_timestamp(e).ok()?)))
            .collect()
    }

    // ----- queries on epoch seconds (the hot path for clocks and benchmarks) -----

    /// [`Calendar::add`] on epoch seconds.
    pub fn add_seconds(&self, start: i64, seconds: i64) -> Result<i64, CalendarError> {
        // Open time never runs faster than real time, so a result lies at least `seconds`
        // away: past the supported range, it cannot exist (checked before any search,
        // which also keeps the running sums below far from overflow).
        match start.checked_add(seconds) {
            Some(bound)
                if (Timestamp::MIN.as_second()..=Timestamp::MAX.as_second()).contains(&bound) => {}
            _ => return Err(CalendarError::OutOfRange),
        }
        match seconds {
            0 => Ok(start),
            d if d > 0 => self.forward(start, d),
            d => self.backward(start, d.checked_neg().ok_or(CalendarError::OutOfRange)?),
        }
    }

    /// [`Calendar::elapsed`] on epoch seconds.
    pub fn elapsed_seconds(&self, a: i64, b: i64) -> i64 {
        match a.cmp(&b) {
            std::cmp::Ordering::Less => self.open_between(a, b),
            std::cmp::Ordering::Equal => 0,
            std::cmp::Ordering::Greater => -self.open_between(b, a),
        }
    }

    /// [`Calendar::is_open`] on epoch seconds.
    pub fn is_open_second(&self, t: i64) -> bool {
        self.with_chunk(chunk_of(t), |c| c.is_open(t))
    }

    /// [`Calendar::next_business`] on epoch seconds.
    pub fn next_business_second(&self, t: i64) -> Result<i64, CalendarError> {
        if self.is_open_second(t) {
            return Ok(t);
        }
        let first = chunk_of(t);
        for k in first..=first + SEARCH_LIMIT_CHUNKS {
            if let Some(s) = self.with_chunk(k, |c| c.next_start_after(t)) {
                return Ok(s);
            }
        }
        Err(no_open_time(t))
    }

    /// [`Calendar::prev_business`] on epoch seconds.
    pub fn prev_business_second(&self, t: i64) -> Result<i64, CalendarError> {
        if self.is_open_second(t - 1) {
            return Ok(t);
        }
        let first = chunk_of(t);
        for k in (first - SEARCH_LIMIT_CHUNKS..=first).rev() {
            if let Some(e) = self.with_chunk(k, |c| c.last_end_at_or_before(t)) {
                return Ok(e);
            }
        }
        Err(no_open_time(t))
    }

    fn open_between(&self, a: i64, b: i64) -> i64 {
        let (ka, kb) = (chunk_of(a), chunk_of(b));
        if ka == kb {
            return self.with_chunk(ka, |c| c.open_before(b) - c.open_before(a));
        }
        let mut total = self.with_chunk(ka, |c| c.total() - c.open_before(a));
        for k in ka + 1..kb {
            total += self.with_chunk(k, Chunk::total);
        }
        total + self.with_chunk(kb, |c| c.open_before(b))
    }

    fn forward(&self, start: i64, d: i64) -> Result<i64, CalendarError> {
        let mut k = chunk_of(start);
        let mut base = self.with_chunk(k, |c| c.open_before(start));
        let mut remaining = d;
        // Gives up after SEARCH_LIMIT_CHUNKS chunks in a row without open time, or at
        // the end of the supported range.
        let mut closed_run = 0;
        loop {
            let (found, total) = self.with_chunk(k, |c| {
                let target = base + remaining;
                let found = (target <= c.total()).then(|| c.forward_to(target));
                (found, c.total())
            });
            if let Some(t) = found {
                return Ok(t);
            }
            remaining -= total - base;
            closed_run = if total == 0 { closed_run + 1 } else { 0 };
            if closed_run > SEARCH_LIMIT_CHUNKS {
                return Err(no_open_time(start));
            }
            k += 1;
            if k.saturating_mul(CHUNK_LEN) > Timestamp::MAX.as_second() {
                return Err(CalendarError::OutOfRange);
            }
            base = 0;
        }
    }

    fn backward(&self, start: i64, d: i64) -> Result<i64, CalendarError> {
        let mut k = chunk_of(start);
        let mut base = self.with_chunk(k, |c| c.open_before(start));
        let mut remaining = d;
        let mut closed_run = 0;
        loop {
            let target = base - remaining;
            if target >= 0 {
                return Ok(self.with_chunk(k, |c| c.backward_to(target)));
            }
            remaining -= base;
            closed_run = if base == 0 { closed_run + 1 } else { 0 };
            if closed_run > SEARCH_LIMIT_CHUNKS {
                return Err(no_open_time(start));
            }
            k -= 1;
            if (k + 1).saturating_mul(CHUNK_LEN) <= Timestamp::MIN.as_second() {
                return Err(CalendarError::OutOfRange);
            }
            base = self.with_chunk(k, Chunk::total);
        }
    }

    /// Runs `f` on chunk `k`, from the cache when `k` is in the cached range.
    #[inline]
    fn with_chunk<R>(&self, k: i64, f: impl FnOnce(&Chunk) -> R) -> R {
        if (CACHE_FIRST_CHUNK..=CACHE_LAST_CHUNK).contains(&k) {
            let slot = &self.cache[(k - CACHE_FIRST_CHUNK) as usize];
            f(slot.get_or_init(|| self.build_chunk(k)))
        } else {
            f(&self.build_chunk(k))
        }
    }

    /// The open intervals of chunk `k`: every date whose spans can reach into it, each
    /// span converted from local time to UTC (a gap moves a boundary forward, a fold
    /// takes the earlier instant: jiff's `compatible`), minus timed closures, merged and
    /// clipped to the chunk.
    fn build_chunk(&self, k: i64) -> Chunk {
        let (from, to) = (
            k.saturating_mul(CHUNK_LEN),
            (k + 1).saturating_mul(CHUNK_LEN),
        );
        let (Ok(from_ts), Ok(to_ts)) = (
            Timestamp::from_second(from.max(Timestamp::MIN.as_second())),
            Timestamp::from_second(to.min(Timestamp::MAX.as_second())),
        ) else {
            return Chunk::default();
        };
        if from_ts >= to_ts {
            return Chunk::default();
        }
        // A span starts on its date and can end up to two days later; local dates are
        // at most a day away from UTC ones. Three days of margin each side is ample.
        let first = self.tz.to_datetime(from_ts).date().checked_sub(3.days());
        let last = self.tz.to_datetime(to_ts).date().checked_add(1.days());
        let first = first.unwrap_or(Date::MIN);
        let last = last.unwrap_or(Date::MAX);

        let mut open = Vec::new();
        let mut date = first;
        loop {
            let spans: &[DaySpan] = match self.dates.get(&date) {
                Some(DateRule::Closed) => &[],
                Some(DateRule::Hours(spans)) => spans,
                None => &self.weekly[weekday_index(date.weekday())],
            };
            for span in spans {
                if let (Some(s), Some(e)) = (
                    self.local_second(date, span.start),
                    self.local_second(date, span.end),
                ) && e > s
                {
                    open.push((s.max(from), e.min(to)));
                }
            }
            match date.tomorrow() {
                Ok(next) if next <= last => date = next,
                _ => break,
            }
        }
        let merged = index::merge(open);
        let lo = self.closures.partition_point(|&(_, e)| e <= from);
        let hi = self.closures.partition_point(|&(s, _)| s < to);
        Chunk::from_merged(&index::subtract(&merged, &self.closures[lo..hi]))
    }

    /// The instant of `seconds` after local midnight of `date` (seconds may exceed a
    /// day: `24:00`, overnight ends).
    fn local_second(&self, date: Date, seconds: i32) -> Option<i64> {
        let days = seconds.div_euclid(DAY);
        let rem = seconds.rem_euclid(DAY);
        let date = date.checked_add((days as i64).days()).ok()?;
        let time = jiff::civil::Time::new(
            (rem / 3600) as i8,
            (rem / 60 % 60) as i8,
            (rem % 60) as i8,
            0,
        )
        .ok()?;
        let ts = self
            .tz
            .to_ambiguous_timestamp(DateTime::from_parts(date, time))
            .compatible()
            .ok()?;
        Some(ts.as_second())
    }
}

fn to_timestamp(s: i64) -> Result<Timestamp, CalendarError> {
    Timestamp::from_second(s).map_err(|_| CalendarError::OutOfRange)
}

fn no_open_time(from: i64) -> CalendarError {
    CalendarError::NoOpenTime {
        from: Timestamp::from_second(from).unwrap_or(Timestamp::UNIX_EPOCH),
    }
}

#[cfg(test)]
mod tests;

//! Availability of a service (DESIGN 3.3): outages and maintenance windows, measured in
//! an objective's calendar over a period, the error budget that leaves, and burn rates.
//!
//! Weighted time is kept exact: an impact is held in millionths, downtime in
//! millionth-seconds, so availability is one division of two exact integers and a
//! comparison with a target never goes through a float.

use std::cmp::Ordering;

use compact_str::CompactString;
use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};

use crate::calendar::Calendar;
use crate::policy::{CalendarDuration, Config, Exclude, ObjectiveDoc, Percent};

/// One in millionths: the unit of impact.
pub const WHOLE: i64 = 1_000_000;

/// A service down (fully, or partly with `impact` < 1) over `[from, to)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outage {
    pub id: CompactString,
    pub service: CompactString,
    #[serde(deserialize_with = "crate::clock::whole_second")]
    pub from: Timestamp,
    #[serde(deserialize_with = "crate::clock::whole_second")]
    pub to: Timestamp,
    /// In millionths of a full outage (JSON: a number in (0, 1], default 1).
    #[serde(
        default = "full_impact",
        deserialize_with = "impact_millionths",
        serialize_with = "impact_number"
    )]
    pub impact: i64,
}

/// Planned work on a service over `[from, to)`, announced (or not) at `announced_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Maintenance {
    pub id: CompactString,
    pub service: CompactString,
    #[serde(deserialize_with = "crate::clock::whole_second")]
    pub from: Timestamp,
    #[serde(deserialize_with = "crate::clock::whole_second")]
    pub to: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub announced_at: Option<Timestamp>,
}

/// Requests to a service over `[from, to)`: how many were valid and how many of them
/// good (for `measure: requests` objectives).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requests {
    pub id: CompactString,
    pub service: CompactString,
    #[serde(deserialize_with = "crate::clock::whole_second")]
    pub from: Timestamp,
    #[serde(deserialize_with = "crate::clock::whole_second")]
    pub to: Timestamp,
    pub good: u64,
    pub valid: u64,
}

/// A service record of the event stream (DESIGN 4.1), by its `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ServiceRecord {
    Outage(Outage),
    Maintenance(Maintenance),
    Requests(Requests),
    /// A survey answer about a ticket (kept with the service records: it is not a
    /// ticket event and changes no clock).
    Survey(crate::experience::Survey),
}

impl ServiceRecord {
    pub fn id(&self) -> &str {
        match self {
            ServiceRecord::Outage(o) => &o.id,
            ServiceRecord::Maintenance(m) => &m.id,
            ServiceRecord::Requests(r) => &r.id,
            ServiceRecord::Survey(s) => &s.id,
        }
    }

    /// `outage`, `maintenance` or `requests`.
    pub fn kind(&self) -> &'static str {
        match self {
            ServiceRecord::Outage(_) => "outage",
            ServiceRecord::Maintenance(_) => "maintenance",
            ServiceRecord::Requests(_) => "requests",
            ServiceRecord::Survey(_) => "survey",
        }
    }

    pub fn service(&self) -> &str {
        match self {
            ServiceRecord::Outage(o) => &o.service,
            ServiceRecord::Maintenance(m) => &m.service,
            ServiceRecord::Requests(r) => &r.service,
            ServiceRecord::Survey(_) => "",
        }
    }

    /// `[from, to)`.
    pub fn span(&self) -> (Timestamp, Timestamp) {
        match self {
            ServiceRecord::Outage(o) => (o.from, o.to),
            ServiceRecord::Maintenance(m) => (m.from, m.to),
            ServiceRecord::Requests(r) => (r.from, r.to),
            ServiceRecord::Survey(s) => (
                s.at,
                s.at.checked_add(jiff::SignedDuration::from_secs(1))
                    .unwrap_or(s.at),
            ),
        }
    }

    /// What is wrong with a record that parsed: the field and why.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if let ServiceRecord::Survey(s) = self {
            if s.id.trim().is_empty() {
                return Err(("id", "must not be empty".into()));
            }
            return s.check();
        }
        let (id, service) = (self.id(), self.service());
        let (from, to) = self.span();
        if let ServiceRecord::Requests(r) = self
            && r.good > r.valid
        {
            return Err((
                "good",
                format!("must not exceed `valid` ({} > {})", r.good, r.valid),
            ));
        }
        if id.trim().is_empty() {
            return Err(("id", "must not be empty".into()));
        }
        if service.trim().is_empty() {
            return Err(("service", "must not be empty".into()));
        }
        if to <= from {
            return Err(("to", format!("must be after `from` ({from})")));
        }
        Ok(())
    }
}

fn full_impact() -> i64 {
    WHOLE
}

fn impact_millionths<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    parse_impact(&n.to_string()).map_err(serde::de::Error::custom)
}

fn impact_number<S: serde::Serializer>(impact: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(*impact as f64 / WHOLE as f64)
}

/// `0.25` → 250,000 millionths; exact for up to six decimals, refused outside (0, 1].
fn parse_impact(text: &str) -> Result<i64, String> {
    let wrong = || format!("impact must be a number in (0, 1] with up to 6 decimals, not {text}");
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > 6 || text.contains(['e', 'E', '-']) {
        return Err(wrong());
    }
    let whole: i64 = whole.parse().map_err(|_| wrong())?;
    let fraction: i64 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<6}").parse().map_err(|_| wrong())?
    };
    let value = whole * WHOLE + fraction;
    if value <= 0 || value > WHOLE {
        return Err(wrong());
    }
    Ok(value)
}

/// A share as an exact fraction `part / whole` (`whole` > 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fraction {
    pub part: i128,
    pub whole: i128,
}

impl Fraction {
    /// `None` when there is nothing to share (`whole` = 0).
    pub fn new(part: i128, whole: i128) -> Option<Fraction> {
        (whole > 0).then_some(Fraction { part, whole })
    }

    /// The nearest f64 to the exact value (both terms are exact integers well below
    /// 2^53 in practice, so one division rounds correctly).
    pub fn to_f64(self) -> f64 {
        self.part as f64 / self.whole as f64
    }

    /// Exact comparison with a percentage.
    pub fn cmp_percent(self, p: Percent) -> Ordering {
        let (num, den) = p.fraction();
        (self.part * i128::from(den)).cmp(&(i128::from(num) * self.whole))
    }
}

/// Availability over one span, DESIGN 3.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measured {
    /// Open seconds of the objective's calendar in the span, less excluded maintenance.
    pub eligible_seconds: i64,
    /// Weighted downtime inside eligible time, in millionth-seconds.
    pub downtime: i128,
}

impl Measured {
    pub fn downtime_seconds(&self) -> f64 {
        self.downtime as f64 / WHOLE as f64
    }

    /// 1 − downtime / eligible; `None` without eligible time.
    pub fn availability(&self) -> Option<Fraction> {
        let whole = i128::from(self.eligible_seconds) * i128::from(WHOLE);
        Fraction::new(whole - self.downtime, whole)
    }

    /// downtime / eligible; `None` without eligible time.
    pub fn error_rate(&self) -> Option<Fraction> {
        let whole = i128::from(self.eligible_seconds) * i128::from(WHOLE);
        Fraction::new(self.downtime, whole)
    }
}

/// How an availability objective measures: its calendar and its maintenance rule.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    pub calendar: &'a Calendar,
    pub exclude_maintenance: bool,
    /// A window counts as scheduled only when announced at least this long before.
    pub notice: Option<CalendarDuration>,
}

/// The calendar an availability objective counts in: its own `calendar`, else around the
/// clock (DESIGN 3.3: not the agreement's).
pub fn objective_calendar<'c>(config: &'c Config, objective: &ObjectiveDoc) -> &'c Calendar {
    static ALWAYS_OPEN: std::sync::OnceLock<Calendar> = std::sync::OnceLock::new();
    match objective
        .calendar
        .as_ref()
        .and_then(|c| config.calendar(&c.value))
    {
        Some(def) => &def.calendar,
        None => ALWAYS_OPEN.get_or_init(Calendar::always_open),
    }
}

impl<'a> Rules<'a> {
    pub fn of(objective: &ObjectiveDoc, calendar: &'a Calendar) -> Rules<'a> {
        Rules {
            calendar,
            exclude_maintenance: matches!(objective.exclude, Some(Exclude::ScheduledMaintenance)),
            notice: objective.maintenance_notice,
        }
    }

    fn excludes(&self, m: &Maintenance) -> bool {
        if !self.exclude_maintenance {
            return false;
        }
        match self.notice {
            None => true,
            Some(notice) => m
                .announced_at
                .is_some_and(|a| a.as_second() <= m.from.as_second() - notice.0),
        }
    }
}

/// Availability of a service over `[from, to)` (seconds): `outages` and `maintenance`
/// are that service's records (any span; the parts outside are ignored). Overlapping
/// outages count once, at the highest impact at each instant; time inside an excluded
/// maintenance window is neither up nor down.
pub fn measure(
    rules: Rules<'_>,
    outages: &[&Outage],
    maintenance: &[&Maintenance],
    from: i64,
    to: i64,
) -> Measured {
    if to <= from {
        return Measured {
            eligible_seconds: 0,
            downtime: 0,
        };
    }
    let clip = |a: Timestamp, b: Timestamp| {
        let (a, b) = (a.as_second().max(from), b.as_second().min(to));
        (a < b).then_some((a, b))
    };
    let outages: Vec<(i64, i64, i64)> = outages
        .iter()
        .filter_map(|o| clip(o.from, o.to).map(|(a, b)| (a, b, o.impact)))
        .collect();
    let excluded: Vec<(i64, i64)> = maintenance
        .iter()
        .filter(|m| rules.excludes(m))
        .filter_map(|m| clip(m.from, m.to))
        .collect();

    let mut cuts: Vec<i64> = vec![from, to];
    for &(a, b, _) in &outages {
        cuts.extend([a, b]);
    }
    for &(a, b) in &excluded {
        cuts.extend([a, b]);
    }
    cuts.sort_unstable();
    cuts.dedup();

    let mut measured = Measured {
        eligible_seconds: 0,
        downtime: 0,
    };
    for pair in cuts.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if excluded.iter().any(|&(x, y)| x <= a && b <= y) {
            continue;
        }
        let open = rules.calendar.elapsed_seconds(a, b);
        if open == 0 {
            continue;
        }
        measured.eligible_seconds += open;
        let impact = outages
            .iter()
            .filter(|&&(x, y, _)| x <= a && b <= y)
            .map(|&(_, _, w)| w)
            .max()
            .unwrap_or(0);
        measured.downtime += i128::from(open) * i128::from(impact);
    }
    measured
}

/// Requests counted over a span.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counted {
    pub good: u64,
    pub valid: u64,
}

impl Counted {
    /// good ÷ valid; `None` without valid requests.
    pub fn availability(&self) -> Option<Fraction> {
        Fraction::new(i128::from(self.good), i128::from(self.valid))
    }

    pub fn error_rate(&self) -> Option<Fraction> {
        Fraction::new(i128::from(self.valid - self.good), i128::from(self.valid))
    }
}

/// Requests of a service over `[from, to)`: each record counts in the span holding its
/// start (counts posted per interval are not split), unless its start falls in an
/// excluded maintenance window.
pub fn count_requests(
    rules: Rules<'_>,
    requests: &[&Requests],
    maintenance: &[&Maintenance],
    from: i64,
    to: i64,
) -> Counted {
    let excluded: Vec<(i64, i64)> = maintenance
        .iter()
        .filter(|m| rules.excludes(m))
        .map(|m| (m.from.as_second(), m.to.as_second()))
        .collect();
    let mut counted = Counted::default();
    for r in requests {
        let start = r.from.as_second();
        if start < from || start >= to || excluded.iter().any(|&(a, b)| a <= start && start < b) {
            continue;
        }
        counted.good += r.good;
        counted.valid += r.valid;
    }
    counted
}

/// What an availability objective measures: a service's outages over time, or its
/// request counts.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    Time(&'a [&'a Outage]),
    Requests(&'a [&'a Requests]),
}

/// The error rate over `[from, to)`: downtime ÷ eligible time, or bad ÷ valid requests.
pub fn error_rate(
    rules: Rules<'_>,
    source: Source<'_>,
    maintenance: &[&Maintenance],
    from: i64,
    to: i64,
) -> Option<Fraction> {
    match source {
        Source::Time(outages) => measure(rules, outages, maintenance, from, to).error_rate(),
        Source::Requests(requests) => {
            count_requests(rules, requests, maintenance, from, to).error_rate()
        }
    }
}

/// The error budget of a period: `(1 − target) × eligible`, and what is left of it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Budget {
    pub budget_seconds: f64,
    pub spent_seconds: f64,
    pub remaining_seconds: f64,
    /// Share of the budget left (negative when overspent); `None` for a 100 % target.
    pub remaining: Option<f64>,
}

pub fn budget(measured: &Measured, target: Percent) -> Budget {
    let (num, den) = target.fraction();
    // In millionth-seconds, exactly: (den − num) / den × eligible × WHOLE.
    let allowed = i128::from(den - num) * i128::from(measured.eligible_seconds) * i128::from(WHOLE);
    let budget = allowed as f64 / den as f64 / WHOLE as f64;
    let spent = measured.downtime_seconds();
    Budget {
        budget_seconds: budget,
        spent_seconds: spent,
        remaining_seconds: budget - spent,
        remaining: Fraction::new(allowed - measured.downtime * i128::from(den), allowed)
            .map(Fraction::to_f64),
    }
}

/// One multi-window burn-rate alert: fires while the burn rate over both windows is at
/// least `factor` (the SRE workbook's pairs for a 30-day window, DESIGN 3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BurnAlert {
    /// The factor, in tenths (14.4× = 144).
    pub factor_tenths: i64,
    pub long_seconds: i64,
    pub short_seconds: i64,
}

pub const BURN_ALERTS: [BurnAlert; 4] = [
    BurnAlert {
        factor_tenths: 144,
        long_seconds: 3600,
        short_seconds: 300,
    },
    BurnAlert {
        factor_tenths: 60,
        long_seconds: 6 * 3600,
        short_seconds: 1800,
    },
    BurnAlert {
        factor_tenths: 30,
        long_seconds: 86_400,
        short_seconds: 2 * 3600,
    },
    BurnAlert {
        factor_tenths: 10,
        long_seconds: 3 * 86_400,
        short_seconds: 6 * 3600,
    },
];

impl BurnAlert {
    pub fn factor(&self) -> f64 {
        self.factor_tenths as f64 / 10.0
    }

    /// A short name for keys and messages: `14.4x-1h-5m`.
    pub fn name(&self) -> String {
        fn span(s: i64) -> String {
            match s {
                s if s % 86_400 == 0 => format!("{}d", s / 86_400),
                s if s % 3600 == 0 => format!("{}h", s / 3600),
                s => format!("{}m", s / 60),
            }
        }
        format!(
            "{}x-{}-{}",
            self.factor(),
            span(self.long_seconds),
            span(self.short_seconds)
        )
    }
}

/// The burn rate over `[now − window, now)`: error rate ÷ budgeted error rate
/// (`1 − target`); `None` without eligible time or with a 100 % target.
pub fn burn_rate(
    rules: Rules<'_>,
    source: Source<'_>,
    maintenance: &[&Maintenance],
    target: Percent,
    now: i64,
    window: i64,
) -> Option<Fraction> {
    let (num, den) = target.fraction();
    let rate = error_rate(rules, source, maintenance, now - window, now)?;
    // (down / eligible) / ((den − num) / den) = down × den / (eligible × (den − num))
    Fraction::new(
        rate.part * i128::from(den),
        rate.whole * i128::from(den - num),
    )
}

/// Whether `alert` fires at `now`: the burn rate over both of its windows reaches its
/// factor.
pub fn burn_alert_fires(
    rules: Rules<'_>,
    source: Source<'_>,
    maintenance: &[&Maintenance],
    target: Percent,
    alert: BurnAlert,
    now: i64,
) -> bool {
    let reaches = |window| {
        burn_rate(rules, source, maintenance, target, now, window)
            .is_some_and(|b| b.part * 10 >= i128::from(alert.factor_tenths) * b.whole)
    };
    reaches(alert.long_seconds) && reaches(alert.short_seconds)
}

#[cfg(test)]
mod tests;

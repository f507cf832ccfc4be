//! The period report (DESIGN 3.3 and 4, `accord report --format json`): per agreement and
//! objective, ticket compliance from the clocks, availability from the service records,
//! and the credits a missed objective owes.

pub mod period;
pub mod svg;
pub mod view;

use compact_str::CompactString;
use rustc_hash::{FxHashMap, FxHashSet};

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Serialize;

use crate::availability::{self, Fraction, Maintenance, Outage, Requests, Rules, ServiceRecord};
use crate::clock::{ClockResult, ClockState};
use crate::experience::{self, Survey};
use crate::policy::{
    Agreement, Config, FeePer, Measure, Metric, ObjectiveDoc, Percent, Target, TicketFacts,
};
pub use period::{PeriodSpec, Span};

/// The whole report, in the documented shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub period: Dates,
    pub agreements: Vec<AgreementReport>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Dates {
    pub from: Date,
    pub to: Date,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgreementReport {
    pub id: String,
    /// The version reported: the latest in force during the period.
    pub version: u32,
    #[serde(rename = "type")]
    pub agreement_type: &'static str,
    /// The customer of a customer- or service-level agreement.
    pub customer: Option<String>,
    pub objectives: Vec<ObjectiveReport>,
    pub credits: Vec<Credit>,
    /// Every service-level objective with a result achieved, and an experience
    /// objective missed: green SLA, unhappy customer.
    pub watermelon: bool,
    /// The breaches of the period (every ticket objective's breached clocks), by
    /// instant: each is a breach case, with its cause once one is recorded.
    pub breaches: Vec<Breach>,
    /// For an SLA: the OLAs and UCs that supported it, counted over its tickets (those
    /// with a clock of this SLA ended in the period).
    pub supported_by: Vec<Supporting>,
}

/// An OLA or UC beside the SLA it supports: its ticket objectives' clocks ended in the
/// period on the SLA's tickets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Supporting {
    pub agreement: String,
    #[serde(rename = "type")]
    pub agreement_type: &'static str,
    pub objectives: Vec<SupportingObjective>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SupportingObjective {
    pub id: String,
    pub metric: &'static str,
    pub met: u64,
    pub breached: u64,
    pub compliance: Option<f64>,
}

/// One breach of the period: its case (the breach's fact key), the ticket's priority
/// then, and the cause recorded in the case's `root_cause` step (the server knows
/// cases; an offline report has none).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Breach {
    pub case: String,
    // Short texts kept inline (no allocation each): a month's report at scale lists
    // hundreds of thousands of breaches.
    pub ticket: CompactString,
    pub objective: CompactString,
    pub metric: CompactString,
    pub priority: Option<CompactString>,
    pub breached_at: Timestamp,
    pub cause: Option<String>,
    /// The case's `review` answers (`target_realistic`, `configured_right`,
    /// `impact_team`, `impact_customer`, `preventive_action`, with `at` and `by`).
    pub review: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A ticket objective's counts for one priority (`null`: tickets without one).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriorityResult {
    pub priority: Option<String>,
    pub met: u64,
    pub breached: u64,
    pub compliance: Option<f64>,
}

/// A ticket objective's counts for one calendar month of the period (cut to the
/// period).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthResult {
    pub from: Date,
    pub to: Date,
    pub met: u64,
    pub breached: u64,
    pub compliance: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ObjectiveReport {
    Ticket(TicketObjective),
    Availability(AvailabilityObjective),
    Experience(ExperienceObjective),
}

/// A `csat` or `ces` objective (DESIGN 3.3).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExperienceObjective {
    pub id: String,
    pub metric: &'static str,
    pub responses: u64,
    pub good: u64,
    /// The share of good answers (for a percentage target) or the average answer.
    pub score: Option<f64>,
    pub target: f64,
    pub achieved: Option<bool>,
    /// The same objective over the periods before, oldest first (`result`: the score).
    pub trend: Vec<TrendPoint>,
}

impl ObjectiveReport {
    pub fn id(&self) -> &str {
        match self {
            ObjectiveReport::Ticket(t) => &t.id,
            ObjectiveReport::Availability(a) => &a.id,
            ObjectiveReport::Experience(e) => &e.id,
        }
    }

    pub fn achieved(&self) -> Option<bool> {
        match self {
            ObjectiveReport::Ticket(t) => t.achieved,
            ObjectiveReport::Availability(a) => a.achieved,
            ObjectiveReport::Experience(e) => e.achieved,
        }
    }

    /// The result as a share (compliance, availability, share of good answers); `None`
    /// without data, or for an experience objective measured as an average.
    pub fn share(&self) -> Option<f64> {
        match self {
            ObjectiveReport::Ticket(t) => t.compliance,
            ObjectiveReport::Availability(a) => a.availability,
            ObjectiveReport::Experience(e) => e.score.filter(|_| e.target <= 1.0),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TicketObjective {
    pub id: String,
    pub metric: &'static str,
    pub met: u64,
    pub breached: u64,
    pub compliance: Option<f64>,
    pub goal: Option<f64>,
    pub achieved: Option<bool>,
    /// The counts per priority: the agreement's `priorities` in their order, then
    /// others bytewise, then tickets without a priority.
    pub by_priority: Vec<PriorityResult>,
    /// The counts per calendar month the period touches.
    pub by_month: Vec<MonthResult>,
    /// The same objective over the periods before, oldest first.
    pub trend: Vec<TrendPoint>,
}

/// An objective's result over one earlier period: compliance or availability, and
/// whether it met its goal or target then.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendPoint {
    pub from: Date,
    pub to: Date,
    pub result: Option<f64>,
    pub achieved: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AvailabilityObjective {
    pub id: String,
    pub metric: &'static str,
    pub service: String,
    /// `time` or `requests`.
    pub measure: &'static str,
    pub availability: Option<f64>,
    /// Time-measured: weighted downtime and eligible time (null when by requests).
    pub downtime_seconds: Option<f64>,
    pub eligible_seconds: Option<i64>,
    /// Request-measured: the counts (null when by time).
    pub good_requests: Option<u64>,
    pub valid_requests: Option<u64>,
    pub target: f64,
    pub achieved: Option<bool>,
    pub error_budget: ErrorBudget,
    /// The same objective over the periods before, oldest first.
    pub trend: Vec<TrendPoint>,
}

/// The period's error budget: `(1 − target) × eligible` (seconds, or valid requests),
/// spent and left.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorBudget {
    /// `seconds` or `requests`.
    pub unit: &'static str,
    pub budget: f64,
    pub spent: f64,
    pub remaining: f64,
}

/// What one credit entry owes for one fee period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Credit {
    pub objective: String,
    pub from: Date,
    pub to: Date,
    pub rate: f64,
    pub amount: f64,
    pub currency: String,
}

/// What the report needs of a clock: whose it is, how it ended, the ticket's priority
/// and, for a breach whose case has one, the cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockEnd<'a> {
    pub ticket: &'a str,
    /// `sla`, `ola` or `uc`.
    pub agreement_type: &'a str,
    pub agreement: &'a str,
    pub objective: &'a str,
    pub metric: &'a str,
    pub cycle: u32,
    pub state: ClockState,
    pub stopped_at: Option<Timestamp>,
    pub breached_at: Option<Timestamp>,
    pub priority: Option<&'a str>,
    /// The `root_cause` category of the breach's case, and its `review` answers.
    pub cause: Option<&'a str>,
    pub review: Option<&'a serde_json::Map<String, serde_json::Value>>,
}

impl<'a> From<&'a ClockResult> for ClockEnd<'a> {
    fn from(c: &'a ClockResult) -> Self {
        ClockEnd {
            ticket: &c.ticket,
            agreement_type: c.agreement_type.as_str(),
            agreement: &c.agreement,
            objective: &c.objective,
            metric: c.metric.as_str(),
            cycle: c.cycle,
            state: c.state,
            stopped_at: c.stopped_at,
            breached_at: c.breached_at,
            priority: c.priority.as_deref(),
            cause: None,
            review: None,
        }
    }
}

impl ClockEnd<'_> {
    /// The instant that puts the clock in a period (its stop if met, its breach if
    /// breached) and whether it was breached; `None` for clocks that have not ended.
    fn ended(&self) -> Option<(Timestamp, bool)> {
        match (self.state, self.stopped_at, self.breached_at) {
            (ClockState::Met, Some(t), _) => Some((t, false)),
            (ClockState::Breached, _, Some(t)) => Some((t, true)),
            _ => None,
        }
    }
}

/// Outage and maintenance records, each id once (the first kept).
#[derive(Debug, Clone, Default)]
pub struct ServiceRecords {
    pub outages: Vec<Outage>,
    pub maintenance: Vec<Maintenance>,
    pub requests: Vec<Requests>,
    /// Survey answers, each with its ticket's facts (which decide its objective).
    pub surveys: Vec<(Survey, TicketFacts)>,
}

impl ServiceRecords {
    /// Adds a record; a survey is handed back (it needs its ticket's facts first).
    pub fn push(&mut self, record: ServiceRecord) -> Option<Survey> {
        match record {
            ServiceRecord::Outage(o) => self.outages.push(o),
            ServiceRecord::Maintenance(m) => self.maintenance.push(m),
            ServiceRecord::Requests(r) => self.requests.push(r),
            ServiceRecord::Survey(s) => return Some(s),
        }
        None
    }

    fn for_service(&self, service: &str) -> ServiceView<'_> {
        ServiceView {
            outages: self
                .outages
                .iter()
                .filter(|o| o.service == service)
                .collect(),
            maintenance: self
                .maintenance
                .iter()
                .filter(|m| m.service == service)
                .collect(),
            requests: self
                .requests
                .iter()
                .filter(|r| r.service == service)
                .collect(),
        }
    }
}

/// One service's records.
pub struct ServiceView<'a> {
    pub outages: Vec<&'a Outage>,
    pub maintenance: Vec<&'a Maintenance>,
    pub requests: Vec<&'a Requests>,
}

/// A customer's name from the configuration.
pub fn customer_name<'c>(config: &'c Config, id: &str) -> Option<&'c str> {
    config
        .customers
        .iter()
        .find(|c| c.id.value == id)
        .map(|c| c.name.as_str())
}

/// The agreement calendar's zone (UTC for `24x7` or none): periods are counted in it.
pub fn agreement_zone(config: &Config, agreement: &Agreement) -> TimeZone {
    agreement
        .doc
        .calendar
        .as_ref()
        .and_then(|c| config.calendar(&c.value))
        .map_or(TimeZone::UTC, |c| c.calendar.time_zone().clone())
}

/// The instant a report is evaluated at by default: `now`, or the period's end when
/// that is earlier (the latest end over the agreements' zones, so no agreement's
/// period is cut short).
pub fn evaluation_instant(config: &Config, period: &PeriodSpec, now: Timestamp) -> Timestamp {
    let zones = config
        .agreements
        .iter()
        .map(|a| agreement_zone(config, a))
        .chain([TimeZone::UTC]);
    let end = zones.map(|tz| period.span(&tz, now).to).max();
    end.map_or(now, |end| end.min(now))
}

/// The report over `period` as of `at`, from every ticket's clocks as of `at` and the
/// service records.
pub fn report(
    config: &Config,
    clocks: &[ClockEnd<'_>],
    records: &ServiceRecords,
    period: &PeriodSpec,
    at: Timestamp,
) -> Report {
    let utc = period.span(&TimeZone::UTC, at);
    // Once per clock: a fast hash (the keys are configuration ids).
    let mut by_objective: FxHashMap<(&str, &str), Vec<&ClockEnd<'_>>> = FxHashMap::default();
    for c in clocks {
        by_objective
            .entry((c.agreement, c.objective))
            .or_default()
            .push(c);
    }
    let sla_spans: FxHashMap<&str, Span> = config
        .agreements
        .iter()
        .filter(|a| a.doc.agreement_type == crate::policy::AgreementType::Sla)
        .map(|a| (a.id(), period.span(&agreement_zone(config, a), at)))
        .collect();
    let support = support(config, clocks, &sla_spans);
    let mut tallies: FxHashMap<(Timestamp, Timestamp), experience::Tallies<'_>> =
        FxHashMap::default();
    let mut selections = experience::Selections::default();
    let mut seen: Vec<&str> = Vec::new();
    let mut agreements = Vec::new();
    for agreement in &config.agreements {
        let id = agreement.id();
        if seen.contains(&id) {
            continue;
        }
        seen.push(id);
        let tz = agreement_zone(config, agreement);
        let span = period.span(&tz, at);
        let earlier = period.trend_spans(&tz, at);
        let months = period::months_of(&span, &tz);
        // The latest version of this id in force at some time in the period.
        let Some(version) = config
            .agreements
            .iter()
            .filter(|a| a.id() == id && overlaps(a, &span))
            .max_by_key(|a| a.doc.version)
        else {
            continue;
        };
        let ctx = Context {
            config,
            agreement: version,
            by_objective: &by_objective,
            records,
        };
        // Survey answers are tallied once per span for every agreement (most agreements
        // share their spans): the period's, then the trend's.
        for s in std::iter::once(&span).chain(&earlier) {
            tallies.entry((s.from, s.to)).or_insert_with(|| {
                experience::tally(config, &records.surveys, &mut selections, s.from, s.to)
            });
        }
        let tally_of = |s: &Span, o: &ObjectiveDoc| {
            tallies
                .get(&(s.from, s.to))
                .and_then(|t| t.get(&(id, o.id.value.as_str())))
                .copied()
                .unwrap_or_default()
        };
        let objectives: Vec<ObjectiveReport> = version
            .doc
            .objectives
            .iter()
            .zip(&version.targets)
            .filter_map(|(o, &target)| match o.metric {
                Metric::Csat | Metric::Ces => {
                    let trend = earlier
                        .iter()
                        .map(|s| {
                            let judged = judge_experience(o, target, tally_of(s, o));
                            TrendPoint {
                                from: s.first_date,
                                to: s.last_date,
                                result: judged.and_then(|j| j.0),
                                achieved: judged.and_then(|j| j.2),
                            }
                        })
                        .collect();
                    experience_objective(o, target, tally_of(&span, o), trend)
                }
                _ => ctx.objective(o, target, &span, &earlier, &months),
            })
            .collect();
        let (experience, service): (Vec<_>, Vec<_>) = objectives
            .iter()
            .partition(|o| matches!(o, ObjectiveReport::Experience(_)));
        let watermelon = service.iter().any(|o| o.achieved().is_some())
            && service.iter().all(|o| o.achieved() != Some(false))
            && experience.iter().any(|o| o.achieved() == Some(false));
        agreements.push(AgreementReport {
            id: id.to_owned(),
            version: version.doc.version,
            agreement_type: version.doc.agreement_type.as_str(),
            customer: version.doc.customer.as_ref().map(|c| c.value.clone()),
            objectives,
            credits: ctx.credits(&span, &tz),
            watermelon,
            breaches: ctx.breaches(&span),
            supported_by: support.get(id).cloned().unwrap_or_default(),
        });
    }
    Report {
        period: Dates {
            from: utc.first_date,
            to: utc.last_date,
        },
        agreements,
    }
}

/// Per SLA, the OLAs and UCs over its tickets: every OLA/UC clock ended in the span on a
/// ticket that has a clock of the SLA ended in the span counts once for that SLA.
///
/// The span is the SLA's (in its calendar's zone); OLA/UC clocks are few, so this is a
/// lookup per SLA clock.
fn support(
    config: &Config,
    clocks: &[ClockEnd<'_>],
    sla_spans: &FxHashMap<&str, Span>,
) -> FxHashMap<String, Vec<Supporting>> {
    let mut internal: FxHashMap<&str, Vec<(usize, Timestamp)>> = FxHashMap::default();
    for (k, c) in clocks.iter().enumerate() {
        if c.agreement_type != "sla"
            && let Some((t, _)) = c.ended()
        {
            internal.entry(c.ticket).or_default().push((k, t));
        }
    }
    let mut out: FxHashMap<String, Vec<Supporting>> = FxHashMap::default();
    if internal.is_empty() {
        return out;
    }
    // (SLA, internal clock) pairs, each once.
    let mut pairs: FxHashSet<(&str, usize)> = FxHashSet::default();
    for c in clocks.iter().filter(|c| c.agreement_type == "sla") {
        if let Some(list) = internal.get(c.ticket)
            && let Some(span) = sla_spans.get(c.agreement)
            && c.ended().is_some_and(|(t, _)| span.contains(t))
        {
            for &(k, t) in list {
                if span.contains(t) {
                    pairs.insert((c.agreement, k));
                }
            }
        }
    }
    let mut counts: FxHashMap<(&str, &str, &str), (u64, u64)> = FxHashMap::default();
    for (sla, k) in pairs {
        let c = &clocks[k];
        let slot = counts.entry((sla, c.agreement, c.objective)).or_default();
        if c.ended().is_some_and(|(_, breached)| breached) {
            slot.1 += 1;
        } else {
            slot.0 += 1;
        }
    }
    let slas: std::collections::BTreeSet<&str> = counts.keys().map(|k| k.0).collect();
    for sla in slas {
        // Agreements and objectives in configuration order, each id once.
        let mut supporting: Vec<Supporting> = Vec::new();
        for a in &config.agreements {
            if a.doc.agreement_type == crate::policy::AgreementType::Sla
                || supporting.iter().any(|s| s.agreement == a.id())
            {
                continue;
            }
            let objectives: Vec<SupportingObjective> = a
                .doc
                .objectives
                .iter()
                .filter_map(|o| {
                    let &(met, breached) = counts.get(&(sla, a.id(), o.id.value.as_str()))?;
                    Some(SupportingObjective {
                        id: o.id.value.clone(),
                        metric: o.metric.as_str(),
                        met,
                        breached,
                        compliance: Fraction::new(i128::from(met), i128::from(met + breached))
                            .map(Fraction::to_f64),
                    })
                })
                .collect();
            if !objectives.is_empty() {
                supporting.push(Supporting {
                    agreement: a.id().to_owned(),
                    agreement_type: a.doc.agreement_type.as_str(),
                    objectives,
                });
            }
        }
        out.insert(sla.to_owned(), supporting);
    }
    out
}

fn overlaps(a: &Agreement, span: &Span) -> bool {
    let (from, until) = a.in_force;
    from.is_none_or(|f| f < span.to.as_second()) && until.is_none_or(|u| u > span.from.as_second())
}

/// The result of one objective over a span, as an exact share (`None`: nothing to
/// measure).
enum Outcome {
    Ticket { met: u64, breached: u64 },
    Availability(availability::Measured),
    Requests(availability::Counted),
}

impl Outcome {
    fn share(&self) -> Option<Fraction> {
        match self {
            Outcome::Ticket { met, breached } => {
                Fraction::new(i128::from(*met), i128::from(*met + *breached))
            }
            Outcome::Availability(m) => m.availability(),
            Outcome::Requests(c) => c.availability(),
        }
    }
}

struct Context<'a> {
    config: &'a Config,
    agreement: &'a Agreement,
    by_objective: &'a FxHashMap<(&'a str, &'a str), Vec<&'a ClockEnd<'a>>>,
    records: &'a ServiceRecords,
}

impl Context<'_> {
    fn outcome(&self, o: &ObjectiveDoc, span: &Span) -> Option<Outcome> {
        if o.metric == Metric::Availability {
            let service = o.service.as_ref()?;
            // Around the clock unless the objective names its own calendar (DESIGN 3.3).
            let calendar = availability::objective_calendar(self.config, o);
            let view = self.records.for_service(&service.value);
            let rules = Rules::of(o, calendar);
            let (from, to) = (span.from.as_second(), span.to.as_second());
            if o.measure == Some(Measure::Requests) {
                let counted = availability::count_requests(
                    rules,
                    &view.requests,
                    &view.maintenance,
                    from,
                    to,
                );
                return Some(Outcome::Requests(counted));
            }
            let measured = availability::measure(rules, &view.outages, &view.maintenance, from, to);
            return Some(Outcome::Availability(measured));
        }
        if !o.metric.is_ticket_clock() {
            return None;
        }
        let mut met = 0;
        let mut breached = 0;
        let clocks = self
            .by_objective
            .get(&(self.agreement.id(), o.id.value.as_str()));
        for c in clocks.into_iter().flatten() {
            match c.ended() {
                Some((t, false)) if span.contains(t) => met += 1,
                Some((t, true)) if span.contains(t) => breached += 1,
                _ => {}
            }
        }
        Some(Outcome::Ticket { met, breached })
    }

    fn objective(
        &self,
        o: &ObjectiveDoc,
        target: Target,
        span: &Span,
        earlier: &[Span],
        months: &[Span],
    ) -> Option<ObjectiveReport> {
        let outcome = self.outcome(o, span)?;
        let share = outcome.share();
        // What counts as achieved: compliance against the goal, availability against
        // the target.
        let bar = match (&outcome, target) {
            (Outcome::Ticket { .. }, _) => o.compliance,
            (_, Target::Percent(p)) => Some(p),
            _ => None,
        };
        let judge = |share: Option<Fraction>| share.zip(bar).map(|(v, b)| v.cmp_percent(b).is_ge());
        let achieved = judge(share);
        let trend = earlier
            .iter()
            .map(|s| {
                let share = self.outcome(o, s).and_then(|o| o.share());
                TrendPoint {
                    from: s.first_date,
                    to: s.last_date,
                    result: share.map(Fraction::to_f64),
                    achieved: judge(share),
                }
            })
            .collect();
        Some(match (outcome, target) {
            (Outcome::Ticket { met, breached }, _) => {
                let goal = o.compliance;
                let (by_priority, by_month) = self.breakdown(o, span, months);
                ObjectiveReport::Ticket(TicketObjective {
                    id: o.id.value.clone(),
                    metric: o.metric.as_str(),
                    met,
                    breached,
                    compliance: share.map(Fraction::to_f64),
                    goal: goal.map(Percent::to_f64),
                    achieved,
                    by_priority,
                    by_month,
                    trend,
                })
            }
            (Outcome::Availability(measured), Target::Percent(target)) => {
                let budget = availability::budget(&measured, target);
                ObjectiveReport::Availability(AvailabilityObjective {
                    id: o.id.value.clone(),
                    metric: o.metric.as_str(),
                    service: o
                        .service
                        .as_ref()
                        .map(|s| s.value.clone())
                        .unwrap_or_default(),
                    measure: "time",
                    availability: share.map(Fraction::to_f64),
                    downtime_seconds: Some(measured.downtime_seconds()),
                    eligible_seconds: Some(measured.eligible_seconds),
                    good_requests: None,
                    valid_requests: None,
                    target: target.to_f64(),
                    achieved,
                    error_budget: ErrorBudget {
                        unit: "seconds",
                        budget: budget.budget_seconds,
                        spent: budget.spent_seconds,
                        remaining: budget.remaining_seconds,
                    },
                    trend,
                })
            }
            (Outcome::Requests(counted), Target::Percent(target)) => {
                let (num, den) = target.fraction();
                let budget = (den - num) as f64 / den as f64 * counted.valid as f64;
                let spent = (counted.valid - counted.good) as f64;
                ObjectiveReport::Availability(AvailabilityObjective {
                    id: o.id.value.clone(),
                    metric: o.metric.as_str(),
                    service: o
                        .service
                        .as_ref()
                        .map(|s| s.value.clone())
                        .unwrap_or_default(),
                    measure: "requests",
                    availability: share.map(Fraction::to_f64),
                    downtime_seconds: None,
                    eligible_seconds: None,
                    good_requests: Some(counted.good),
                    valid_requests: Some(counted.valid),
                    target: target.to_f64(),
                    achieved,
                    error_budget: ErrorBudget {
                        unit: "requests",
                        budget,
                        spent,
                        remaining: budget - spent,
                    },
                    trend,
                })
            }
            (Outcome::Availability(_) | Outcome::Requests(_), _) => return None,
        })
    }

    fn clocks_of<'s>(&'s self, o: &'s ObjectiveDoc) -> &'s [&'s ClockEnd<'s>] {
        self.by_objective
            .get(&(self.agreement.id(), o.id.value.as_str()))
            .map_or(&[], Vec::as_slice)
    }

    /// A ticket objective's counts in the span per priority and per month.
    fn breakdown(
        &self,
        o: &ObjectiveDoc,
        span: &Span,
        months: &[Span],
    ) -> (Vec<PriorityResult>, Vec<MonthResult>) {
        let mut priorities: Vec<(Option<&str>, u64, u64)> = Vec::new();
        let mut per_month = vec![(0u64, 0u64); months.len()];
        for c in self.clocks_of(o) {
            let Some((t, breached)) = c.ended().filter(|(t, _)| span.contains(*t)) else {
                continue;
            };
            let k = match priorities.iter().position(|p| p.0 == c.priority) {
                Some(k) => k,
                None => {
                    priorities.push((c.priority, 0, 0));
                    priorities.len() - 1
                }
            };
            let m = months.partition_point(|m| m.to <= t);
            let (slot, month) = (&mut priorities[k], per_month.get_mut(m));
            if breached {
                slot.2 += 1;
                if let Some(month) = month {
                    month.1 += 1;
                }
            } else {
                slot.1 += 1;
                if let Some(month) = month {
                    month.0 += 1;
                }
            }
        }
        let order = crate::policy::priorities(&self.agreement.doc);
        priorities.sort_by_key(|&(p, _, _)| {
            let rank = p.map_or(usize::MAX, |p| {
                order.iter().position(|&q| q == p).unwrap_or(order.len())
            });
            (rank, p)
        });
        let compliance =
            |met: u64, breached: u64| Fraction::new(i128::from(met), i128::from(met + breached));
        let by_priority = priorities
            .into_iter()
            .map(|(priority, met, breached)| PriorityResult {
                priority: priority.map(str::to_owned),
                met,
                breached,
                compliance: compliance(met, breached).map(Fraction::to_f64),
            })
            .collect();
        let by_month = months
            .iter()
            .zip(per_month)
            .map(|(m, (met, breached))| MonthResult {
                from: m.first_date,
                to: m.last_date,
                met,
                breached,
                compliance: compliance(met, breached).map(Fraction::to_f64),
            })
            .collect();
        (by_priority, by_month)
    }

    /// The breaches of the span, over every ticket objective, by instant then case.
    fn breaches(&self, span: &Span) -> Vec<Breach> {
        // Sorted as (instant, case id, clock) before the rest is copied out: the items
        // moved while sorting stay small. Case ids are unique, so an unstable sort gives
        // the one order.
        let mut found: Vec<(Timestamp, String, &ClockEnd<'_>)> = self
            .agreement
            .doc
            .objectives
            .iter()
            .filter(|o| o.metric.is_ticket_clock())
            .flat_map(|o| self.clocks_of(o))
            .filter_map(|&c| {
                let (t, true) = c.ended()? else {
                    return None;
                };
                span.contains(t).then(|| {
                    let case = crate::clock::fact_key(
                        c.ticket,
                        c.agreement_type,
                        c.metric,
                        c.cycle,
                        "breach",
                    );
                    (t, case, c)
                })
            })
            .collect();
        found.sort_unstable_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        found
            .into_iter()
            .map(|(t, case, c)| Breach {
                case,
                ticket: c.ticket.into(),
                objective: c.objective.into(),
                metric: c.metric.into(),
                priority: c.priority.map(CompactString::from),
                breached_at: t,
                cause: c.cause.map(str::to_owned),
                review: c.review.cloned(),
            })
            .collect()
    }

    /// One line per credit entry and fee period wholly inside the period.
    fn credits(&self, span: &Span, tz: &TimeZone) -> Vec<Credit> {
        let doc = &self.agreement.doc;
        let Some(fee) = &doc.fee else {
            return Vec::new();
        };
        let months = match fee.per {
            FeePer::Month => 1,
            FeePer::Quarter => 3,
            FeePer::Year => 12,
        };
        let fee_periods = period::fee_periods(span, months, tz);
        let mut out = Vec::new();
        for entry in &doc.credits {
            let Some(objective) = doc
                .objectives
                .iter()
                .find(|o| o.id.value == entry.objective.value)
            else {
                continue;
            };
            for fee_period in &fee_periods {
                let share = self.outcome(objective, fee_period).and_then(|o| o.share());
                let rate = credit_rate(share, &entry.tiers, entry.cap);
                out.push(Credit {
                    objective: entry.objective.value.clone(),
                    from: fee_period.first_date,
                    to: fee_period.last_date,
                    rate: rate.map_or(0.0, Percent::to_f64),
                    amount: rate.map_or(0.0, |r| {
                        let (num, den) = r.fraction();
                        fee.amount * num as f64 / den as f64
                    }),
                    currency: fee.currency.clone(),
                });
            }
        }
        out
    }
}

/// An experience objective's score, target and whether it was achieved, from its
/// answers (`None`: a target that is no experience target).
fn judge_experience(
    o: &ObjectiveDoc,
    target: Target,
    t: experience::Tally,
) -> Option<(Option<f64>, f64, Option<bool>)> {
    let responses = t.responses;
    Some(match target {
        Target::Percent(p) => {
            let share = Fraction::new(i128::from(t.good), i128::from(responses));
            (
                share.map(Fraction::to_f64),
                p.to_f64(),
                share.map(|s| s.cmp_percent(p).is_ge()),
            )
        }
        Target::Average(goal) => {
            let mean = (responses > 0).then(|| t.sum as f64 / responses as f64);
            // CSAT is a floor, effort a ceiling.
            let achieved = mean.map(|m| {
                if o.metric == Metric::Ces {
                    m <= goal
                } else {
                    m >= goal
                }
            });
            (mean, goal, achieved)
        }
        Target::Time(_) => return None,
    })
}

fn experience_objective(
    o: &ObjectiveDoc,
    target: Target,
    t: experience::Tally,
    trend: Vec<TrendPoint>,
) -> Option<ObjectiveReport> {
    let (score, target, achieved) = judge_experience(o, target, t)?;
    Some(ObjectiveReport::Experience(ExperienceObjective {
        id: o.id.value.clone(),
        metric: o.metric.as_str(),
        responses: t.responses,
        good: t.good,
        score,
        target,
        achieved,
        trend,
    }))
}

/// The credit a result owes: the most severe tier (the lowest `below` the result falls
/// strictly below), capped; `None` when no tier applies or nothing was measured.
pub fn credit_rate(
    result: Option<Fraction>,
    tiers: &[crate::policy::Tier],
    cap: Option<Percent>,
) -> Option<Percent> {
    let result = result?;
    let tier = tiers
        .iter()
        .filter(|t| result.cmp_percent(t.below).is_lt())
        .min_by(|a, b| a.below.cmp(&b.below))?;
    Some(match cap {
        Some(cap) if cap < tier.credit => cap,
        _ => tier.credit,
    })
}

#[cfg(test)]
mod tests;

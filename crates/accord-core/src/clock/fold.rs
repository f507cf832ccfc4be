//! A ticket's clocks as a pure function of its events, the configuration (agreement
//! versions, calendars) and the evaluation instant (DESIGN 3.2).

use std::sync::{Arc, OnceLock};

use compact_str::CompactString;
use jiff::Timestamp;
use serde::Serialize;

use super::event::{Event, EventType, Prepared};
use crate::calendar::Calendar;
use crate::policy::{
    Agreement, AgreementType, Config, Metric, ObjectiveDoc, Percent, Reopen, Target, TicketFacts,
    covers,
};

/// The status that makes an underpinning-contract clock run (with the ticket's supplier
/// naming the contract's supplier).
pub const WAITING_ON_THIRD_PARTY: &str = "waiting_on_third_party";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClockState {
    Running,
    Paused,
    Met,
    Breached,
    Cancelled,
}

impl ClockState {
    pub fn as_str(self) -> &'static str {
        match self {
            ClockState::Running => "running",
            ClockState::Paused => "paused",
            ClockState::Met => "met",
            ClockState::Breached => "breached",
            ClockState::Cancelled => "cancelled",
        }
    }
}

/// A threshold a clock passes on its way to (and past) its target: what the watcher
/// announces (DESIGN 4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Milestone {
    /// A `warn_at` share of the target.
    Warning(Percent),
    /// The objective's `internal_target`.
    InternalBreach,
    /// The target itself.
    Breach,
    /// An `escalate` level (its position in the list) at its share of the target.
    Escalation(u32),
}

impl Milestone {
    /// The part of an announcement's key that names the milestone (`warning:80%`,
    /// `internal_breach`, `breach`, `escalation:1`, levels counted from 1).
    pub fn key(self) -> String {
        match self {
            Milestone::Warning(p) => format!("warning:{p}"),
            Milestone::InternalBreach => "internal_breach".into(),
            Milestone::Breach => "breach".into(),
            Milestone::Escalation(level) => format!("escalation:{}", level + 1),
        }
    }
}

/// A milestone of a clock: the instant it was reached, or, for a running clock, the
/// instant it will be reached if the clock keeps running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MilestoneAt {
    pub milestone: Milestone,
    pub at: Timestamp,
    pub reached: bool,
}

/// One clock (one cycle of one metric of one agreement type of one ticket) as of the
/// evaluation instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClockResult {
    pub ticket: CompactString,
    pub agreement_type: AgreementType,
    pub agreement: CompactString,
    pub version: u32,
    pub objective: CompactString,
    pub metric: Metric,
    pub cycle: u32,
    pub state: ClockState,
    /// The ticket's priority when the clock stopped (for one still open, as of the
    /// evaluation instant): what the report breaks compliance down by.
    pub priority: Option<CompactString>,
    pub started_at: Timestamp,
    pub stopped_at: Option<Timestamp>,
    pub breached_at: Option<Timestamp>,
    /// Only for a running clock: the instant it breaches if it keeps running.
    pub deadline: Option<Timestamp>,
    pub elapsed_seconds: i64,
    pub target_seconds: i64,
    /// The internal (earlier) deadline, for a running clock whose objective has one.
    pub internal_deadline: Option<Timestamp>,
    /// Warnings, internal breach, breach and escalations: reached ones with their
    /// instant, and for a running clock the ones still ahead, in time order.
    #[serde(skip)]
    pub milestones: Vec<MilestoneAt>,
}

/// The idempotency key of a clock's fact (DESIGN 4.3):
/// `<ticket>:<sla|ola|uc>:<metric>:<cycle>:<milestone>`, e.g.
/// `T-1:sla:first_response:1:breach`. A breach's key is also its case's id.
pub fn fact_key(
    ticket: &str,
    agreement_type: &str,
    metric: &str,
    cycle: u32,
    milestone: &str,
) -> String {
    // Written part by part: the report builds one per breach of the period.
    let cycle = cycle.to_string();
    let mut key = String::with_capacity(
        ticket.len() + agreement_type.len() + metric.len() + cycle.len() + milestone.len() + 4,
    );
    for (k, part) in [ticket, agreement_type, metric, &cycle, milestone]
        .into_iter()
        .enumerate()
    {
        if k > 0 {
            key.push(':');
        }
        key.push_str(part);
    }
    key
}

const TYPES: [AgreementType; 3] = [AgreementType::Sla, AgreementType::Ola, AgreementType::Uc];

fn always_open() -> &'static Arc<Calendar> {
    static CAL: OnceLock<Arc<Calendar>> = OnceLock::new();
    CAL.get_or_init(|| Arc::new(Calendar::always_open()))
}

/// The calendar a clock counts in: the objective's, else the agreement's, else `24x7`.
pub fn clock_calendar(
    config: &Config,
    agreement: &Agreement,
    objective: &ObjectiveDoc,
) -> Arc<Calendar> {
    calendar_of(config, agreement, objective).clone()
}

fn calendar_of<'c>(
    config: &'c Config,
    agreement: &Agreement,
    objective: &ObjectiveDoc,
) -> &'c Arc<Calendar> {
    match objective
        .calendar
        .as_ref()
        .or(agreement.doc.calendar.as_ref())
        .and_then(|c| config.calendar(&c.value))
    {
        Some(def) => &def.calendar,
        None => always_open(),
    }
}

/// The objective a clock runs under.
#[derive(Clone, Copy)]
struct Current<'c> {
    agreement: &'c Agreement,
    objective: &'c ObjectiveDoc,
    target: i64,
    internal: Option<i64>,
    calendar: &'c Calendar,
}

impl Current<'_> {
    /// Every milestone but the breach, with the elapsed seconds that reach it.
    fn thresholds(&self) -> impl Iterator<Item = (Milestone, i64)> + '_ {
        let o = self.objective;
        let warnings = o
            .warn_at
            .iter()
            .map(|p| (Milestone::Warning(*p), p.of(self.target)));
        let internal = self.internal.map(|i| (Milestone::InternalBreach, i));
        let escalations = o
            .escalate
            .iter()
            .enumerate()
            .map(|(k, e)| (Milestone::Escalation(k as u32), e.at.of(self.target)));
        warnings.chain(internal).chain(escalations)
    }

    fn same(&self, other: &Current<'_>) -> bool {
        std::ptr::eq(self.agreement, other.agreement)
            && std::ptr::eq(self.objective, other.objective)
    }
}

struct Clock<'c> {
    agreement_type: AgreementType,
    metric: Metric,
    cycle: u32,
    /// The objective in force; `None` once cancelled (then `last` is kept) or while the
    /// clock never had one (a latent clock, never reported).
    current: Option<Current<'c>>,
    last: Option<Current<'c>>,
    started_at: i64,
    stopped_at: Option<i64>,
    breached_at: Option<i64>,
    elapsed: i64,
    /// Elapsed is counted up to here.
    since: i64,
    running: bool,
    /// Stopped by resolution (so a `reopened` can resume it).
    stopped_by_resolution: bool,
    /// The ticket's priority when the clock stopped.
    priority_at_stop: Option<CompactString>,
}

impl<'c> Clock<'c> {
    fn open(&self) -> bool {
        self.stopped_at.is_none()
    }

    /// The objective whose rules (pauses, calendar) apply: the current, else the last.
    fn rules(&self) -> Option<&Current<'c>> {
        self.current.as_ref().or(self.last.as_ref())
    }

    /// When it breaches if it keeps running from `since`.
    fn deadline(&self) -> Option<i64> {
        let c = self.current.as_ref()?;
        if !self.running || self.breached_at.is_some() || !self.open() {
            return None;
        }
        c.calendar
            .add_seconds(self.since, (c.target - self.elapsed).max(0))
            .ok()
    }

    fn internal_deadline(&self) -> Option<i64> {
        let c = self.current.as_ref()?;
        let internal = c.internal?;
        if !self.running || !self.open() || self.elapsed >= internal {
            return None;
        }
        c.calendar
            .add_seconds(self.since, internal - self.elapsed)
            .ok()
    }
}

struct Ticket<'c> {
    config: &'c Config,
    /// Every instant at which some agreement version comes into or goes out of force,
    /// sorted: between two of them, which versions are in force does not change.
    version_changes: &'c [i64],
    /// The last instant whose span was asked for, and its span.
    last_span: Option<(i64, usize)>,
    /// Selections remembered per set of facts (shared by the tickets folded with this
    /// state), and the entry of the ticket's current facts once looked up.
    selections: SelectionCache<'c>,
    memo: Option<(usize, usize)>,
    facts: TicketFacts,
    status: CompactString,
    /// Each status with the instant it began, oldest first.
    timeline: Vec<(i64, CompactString)>,
    clocks: Vec<Clock<'c>>,
    /// Milestones reached (a breach is the clock's `breached_at`): clock, milestone,
    /// instant. One list for the ticket, not one allocation per clock.
    reached: Vec<(usize, Milestone, i64)>,
}

fn has_reached(reached: &[(usize, Milestone, i64)], clock: usize, milestone: Milestone) -> bool {
    reached
        .iter()
        .any(|&(c, m, _)| c == clock && m == milestone)
}

/// One memo slot per agreement type and ticket metric.
const SELECTION_SLOTS: usize = 3 * 4;

/// Selections by agreement type and metric.
type Memo<'c> = [Option<Option<Current<'c>>>; SELECTION_SLOTS];

/// Which objective each metric selects, per set of ticket facts and span of
/// `version_changes` (between two changes, the same versions are in force). Tickets share facts
/// (customer, service, priority, team, …) far more often than not, and the facts change
/// far less often than the status, so most selections are an array lookup instead of a
/// walk over the agreements.
#[derive(Default)]
struct SelectionCache<'c> {
    /// Hash of (facts, span) → position in `entries`.
    index: rustc_hash::FxHashMap<u64, usize>,
    entries: Vec<(TicketFacts, usize, Memo<'c>)>,
}

impl<'c> SelectionCache<'c> {
    /// Enough for every combination a service desk's facts make; a history whose facts
    /// are all different (a unique custom field per ticket) starts over rather than grow.
    const MAX_ENTRIES: usize = 4096;

    fn entry(&mut self, facts: &TicketFacts, span: usize) -> usize {
        use std::hash::BuildHasher;
        let hash = rustc_hash::FxBuildHasher.hash_one((facts, span));
        if let Some(&k) = self.index.get(&hash) {
            let entry = &mut self.entries[k];
            if entry.0 != *facts || entry.1 != span {
                // Two keys, one hash: the newer takes the place (it is only a memo).
                *entry = (facts.clone(), span, [None; SELECTION_SLOTS]);
            }
            return k;
        }
        if self.entries.len() >= Self::MAX_ENTRIES {
            self.index.clear();
            self.entries.clear();
        }
        self.entries
            .push((facts.clone(), span, [None; SELECTION_SLOTS]));
        self.index.insert(hash, self.entries.len() - 1);
        self.entries.len() - 1
    }

    fn memo(&mut self, k: usize) -> &mut Memo<'c> {
        &mut self.entries[k].2
    }
}

fn selection_slot(agreement_type: AgreementType, metric: Metric) -> Option<usize> {
    let metric = match metric {
        Metric::FirstResponse => 0,
        Metric::NextResponse => 1,
        Metric::PeriodicUpdate => 2,
        Metric::Resolution => 3,
        _ => return None,
    };
    Some(agreement_type as usize * 4 + metric)
}

fn paused_by(current: &Current<'_>, status: &str) -> bool {
    current
        .objective
        .pause_when
        .as_ref()
        .is_some_and(|p| p.status.iter().any(|s| s == status))
}

impl<'c> Ticket<'c> {
    fn new(config: &'c Config, version_changes: &'c [i64]) -> Self {
        Ticket {
            config,
            version_changes,
            last_span: None,
            selections: SelectionCache::default(),
            memo: None,
            facts: TicketFacts::default(),
            status: CompactString::default(),
            timeline: Vec::new(),
            clocks: Vec::new(),
            reached: Vec::new(),
        }
    }

    /// Back to a ticket with no events, keeping the allocations.
    fn reset(&mut self) {
        self.memo = None;
        // Cleared in place (cheaper than building new facts and dropping the old).
        let TicketFacts {
            customer,
            service,
            priority,
            team,
            assignee,
            supplier,
            tags,
            fields,
        } = &mut self.facts;
        for fact in [customer, service, priority, team, assignee, supplier] {
            *fact = None;
        }
        tags.clear();
        fields.clear();
        self.status = CompactString::default();
        self.timeline.clear();
        self.clocks.clear();
        self.reached.clear();
    }

    fn span(&mut self, t: i64) -> usize {
        // Asked for again and again at one event's instant: the last answer is kept.
        if let Some((at, span)) = self.last_span
            && at == t
        {
            return span;
        }
        let span = self.version_changes.partition_point(|&c| c <= t);
        self.last_span = Some((t, span));
        span
    }

    /// [`Ticket::select_fresh`], remembered until the facts change. With `keep`, only
    /// when the clock's start and `at` fall in the same span (then `keep` changes
    /// nothing).
    fn select(
        &mut self,
        agreement_type: AgreementType,
        metric: Metric,
        at: i64,
        keep: Option<(&str, i64)>,
    ) -> Option<Current<'c>> {
        let span = self.span(at);
        let Some(slot) = selection_slot(agreement_type, metric) else {
            return self.select_fresh(agreement_type, metric, at, keep);
        };
        if let Some((_, started)) = keep
            && self.span(started) != span
        {
            return self.select_fresh(agreement_type, metric, at, keep);
        }
        let memo = match self.memo {
            Some((memo_span, memo)) if memo_span == span => memo,
            _ => {
                let memo = self.selections.entry(&self.facts, span);
                self.memo = Some((span, memo));
                memo
            }
        };
        if let Some(current) = self.selections.memo(memo)[slot] {
            return current;
        }
        let current = self.select_fresh(agreement_type, metric, at, None);
        self.selections.memo(memo)[slot] = Some(current);
        current
    }

    fn select_fresh(
        &self,
        agreement_type: AgreementType,
        metric: Metric,
        at: i64,
        keep: Option<(&str, i64)>,
    ) -> Option<Current<'c>> {
        let instant = |a: &Agreement| {
            let s = match keep {
                Some((id, started)) if id == a.id() => started,
                _ => at,
            };
            Timestamp::from_second(s).unwrap_or(Timestamp::UNIX_EPOCH)
        };
        let selection = self
            .config
            .select_with(&self.facts, metric, agreement_type, instant)?;
        let Target::Time(target) = selection.target else {
            return None;
        };
        Some(Current {
            agreement: selection.agreement,
            objective: selection.objective,
            target: target.0,
            internal: selection
                .objective
                .internal_target
                .as_ref()
                .map(|i| i.value.0),
            calendar: calendar_of(self.config, selection.agreement, selection.objective),
        })
    }

    /// Whether a clock of this objective runs in the ticket's current state.
    fn runs(&self, agreement_type: AgreementType, current: &Current<'_>) -> bool {
        if agreement_type == AgreementType::Uc {
            return self.status == WAITING_ON_THIRD_PARTY && covers(current.agreement, &self.facts);
        }
        !paused_by(current, &self.status)
    }

    fn open_clock(&self, agreement_type: AgreementType, metric: Metric) -> Option<usize> {
        self.clocks
            .iter()
            .rposition(|c| c.agreement_type == agreement_type && c.metric == metric && c.open())
    }

    /// Starts a new cycle at `t` unless one is open. SLA clocks start even without an
    /// objective (latent: a later change that selects one counts from the start); OLA
    /// and UC clocks start only when their agreement covers the ticket.
    fn start(&mut self, agreement_type: AgreementType, metric: Metric, t: i64) {
        if self.open_clock(agreement_type, metric).is_some() {
            return;
        }
        let current = self.select(agreement_type, metric, t, None);
        if current.is_none() && agreement_type != AgreementType::Sla {
            return;
        }
        let cycle = 1 + self
            .clocks
            .iter()
            .filter(|c| c.agreement_type == agreement_type && c.metric == metric)
            .count() as u32;
        let running = current
            .as_ref()
            .is_some_and(|c| self.runs(agreement_type, c));
        self.clocks.push(Clock {
            agreement_type,
            metric,
            cycle,
            last: None,
            current,
            started_at: t,
            stopped_at: None,
            breached_at: None,
            elapsed: 0,
            since: t,
            running,
            stopped_by_resolution: false,
            priority_at_stop: None,
        });
    }

    /// Counts every open clock's time up to `t`, and records breaches before `t`. Returns
    /// the clocks whose deadline is exactly `t`: they breach at `t` unless they stop then.
    fn advance(&mut self, t: i64) -> Vec<usize> {
        let mut due = Vec::new();
        let Ticket {
            clocks, reached, ..
        } = self;
        // A ticket's clocks mostly count in one calendar from the same instant (they
        // advance together): the open time is worked out once for them.
        let mut last: Option<(&Calendar, i64, i64)> = None;
        for (i, clock) in clocks.iter_mut().enumerate() {
            if !clock.open() || clock.since >= t {
                continue;
            }
            let gained = match (clock.running, clock.rules()) {
                (true, Some(rules)) => match last {
                    Some((calendar, since, gained))
                        if std::ptr::eq(calendar, rules.calendar) && since == clock.since =>
                    {
                        gained
                    }
                    _ => {
                        let gained = rules.calendar.elapsed_seconds(clock.since, t);
                        last = Some((rules.calendar, clock.since, gained));
                        gained
                    }
                },
                _ => 0,
            };
            // The deadline (an `add` on the calendar) is only worked out once the target
            // is reached by `t`: reached exactly can still mean a deadline before `t` (at
            // a close, with `t` the next morning).
            let target_reached = clock
                .current
                .as_ref()
                .is_some_and(|c| clock.elapsed + gained >= c.target);
            if target_reached && let Some(deadline) = clock.deadline() {
                if deadline < t {
                    clock.breached_at = Some(deadline);
                } else if deadline == t {
                    due.push(i);
                }
            }
            if gained > 0
                && let Some(c) = clock.current.as_ref()
            {
                for (milestone, threshold) in c.thresholds() {
                    if threshold > clock.elapsed
                        && threshold <= clock.elapsed + gained
                        && !has_reached(reached, i, milestone)
                        && let Ok(at) = c
                            .calendar
                            .add_seconds(clock.since, threshold - clock.elapsed)
                    {
                        reached.push((i, milestone, at.min(t)));
                    }
                }
            }
            clock.elapsed += gained;
            clock.since = t;
        }
        due
    }

    fn stop(&mut self, i: usize, t: i64, by_resolution: bool) {
        let clock = &mut self.clocks[i];
        if clock.open() {
            clock.stopped_at = Some(t);
            clock.running = false;
            clock.stopped_by_resolution = by_resolution;
            clock.priority_at_stop.clone_from(&self.facts.priority);
        }
    }

    fn stop_all(&mut self, t: i64, by_resolution: bool) {
        for i in 0..self.clocks.len() {
            self.stop(i, t, by_resolution);
        }
    }

    /// Re-selects each open clock's objective after the ticket changed (re-target,
    /// cancel, or first objective of a latent clock), hands OLA clocks over when the
    /// ticket leaves the team, and updates pauses.
    fn reconsider(&mut self, t: i64) {
        for i in 0..self.clocks.len() {
            if !self.clocks[i].open() {
                continue;
            }
            let (agreement_type, metric) = (self.clocks[i].agreement_type, self.clocks[i].metric);
            // An OLA clock stops when the ticket leaves the team (the team handed it on).
            if agreement_type == AgreementType::Ola
                && let Some(rules) = self.clocks[i].rules()
                && !covers(rules.agreement, &self.facts)
            {
                self.stop(i, t, false);
                continue;
            }
            let keep = self.clocks[i]
                .rules()
                .map(|c| (c.agreement.id(), self.clocks[i].started_at));
            let selected = self.select(agreement_type, metric, t, keep);
            let clock = &self.clocks[i];
            let changed = match (&clock.current, &selected) {
                (Some(a), Some(b)) => !a.same(b),
                (None, None) => false,
                _ => true,
            };
            if changed {
                self.retarget(i, selected, t);
            }
            let clock = &self.clocks[i];
            let running =
                clock.open() && clock.rules().is_some_and(|c| self.runs(agreement_type, c));
            self.clocks[i].running = running;
        }
    }

    fn retarget(&mut self, i: usize, selected: Option<Current<'c>>, t: i64) {
        let latent = self.clocks[i].current.is_none() && self.clocks[i].last.is_none();
        match selected {
            Some(new) => {
                if latent {
                    // The time before the first objective counts, in its calendar and
                    // under its pauses, as if it had applied from the start.
                    let started = self.clocks[i].started_at;
                    self.clocks[i].elapsed = self.elapsed_under(&new, started, t);
                }
                let clock = &mut self.clocks[i];
                if clock.breached_at.is_none() && clock.elapsed >= new.target {
                    clock.breached_at = Some(t);
                }
                // Thresholds of the new objective already passed are passed at the change.
                for (milestone, threshold) in new.thresholds() {
                    if threshold <= clock.elapsed && !has_reached(&self.reached, i, milestone) {
                        self.reached.push((i, milestone, t));
                    }
                }
                clock.current = Some(new);
                clock.last = None;
            }
            None => {
                let clock = &mut self.clocks[i];
                if let Some(old) = clock.current.take() {
                    clock.last = Some(old);
                }
                if clock.breached_at.is_some() {
                    // A breached clock stays breached and stops at the change.
                    self.stop(i, t, false);
                }
            }
        }
    }

    /// Open seconds between `from` and `to` under `current`'s calendar and pauses,
    /// replaying the ticket's status timeline (used when a latent clock gets its first
    /// objective: the time before it counts as if it had applied from the start).
    fn elapsed_under(&self, current: &Current<'_>, from: i64, to: i64) -> i64 {
        let mut total = 0;
        for (k, (at, status)) in self.timeline.iter().enumerate() {
            let end = self.timeline.get(k + 1).map_or(to, |(next, _)| *next);
            let (a, b) = ((*at).max(from), end.min(to));
            if a < b && !paused_by(current, status) {
                total += current.calendar.elapsed_seconds(a, b);
            }
        }
        total
    }

    fn set_status(&mut self, status: CompactString, t: i64) {
        if status != self.status {
            self.status = status.clone();
            self.timeline.push((t, status));
        }
    }

    /// Applies an event's attributes (and status, when it carries one) to the ticket.
    fn absorb(&mut self, e: &Event, t: i64) {
        if apply_attributes(&mut self.facts, e) {
            self.memo = None;
        }
        if let Some(status) = &e.status {
            self.set_status(status.clone(), t);
        }
    }

    /// Applies one event at its instant `t` (time already advanced to `t`).
    fn apply(&mut self, e: &Event, t: i64) {
        match e.kind {
            EventType::Created => {
                self.absorb(e, t);
                if self.timeline.is_empty() {
                    // A ticket created without a status is `open`.
                    self.set_status(CompactString::const_new("open"), t);
                }
                for ty in TYPES {
                    for metric in [
                        Metric::FirstResponse,
                        Metric::PeriodicUpdate,
                        Metric::Resolution,
                    ] {
                        self.start(ty, metric, t);
                    }
                }
            }
            EventType::Updated => {
                const HANDED: [AgreementType; 2] = [AgreementType::Ola, AgreementType::Uc];
                const METRICS: [Metric; 3] = [
                    Metric::FirstResponse,
                    Metric::PeriodicUpdate,
                    Metric::Resolution,
                ];
                let carries_facts = [
                    &e.customer,
                    &e.service,
                    &e.priority,
                    &e.team,
                    &e.assignee,
                    &e.supplier,
                ]
                .iter()
                .any(|f| f.is_some())
                    || e.tags.is_some()
                    || e.fields.is_some();
                if !carries_facts {
                    // A status change: no agreement starts or stops covering the ticket.
                    self.absorb(e, t);
                    self.reconsider(t);
                    return;
                }
                // Which OLA and UC agreements covered the ticket before the change.
                let mut before = [[None; 3]; 2];
                for (i, ty) in HANDED.into_iter().enumerate() {
                    for (j, metric) in METRICS.into_iter().enumerate() {
                        before[i][j] = self.select(ty, metric, t, None).map(|c| c.agreement);
                    }
                }
                self.absorb(e, t);
                self.reconsider(t);
                // A change that brings the ticket under an OLA (assigned to the team) or a
                // UC (its supplier named) starts their clocks now; a change while it
                // stays under one (a status, a tag) starts nothing.
                for (i, ty) in HANDED.into_iter().enumerate() {
                    for (j, metric) in METRICS.into_iter().enumerate() {
                        if self.open_clock(ty, metric).is_some() {
                            continue;
                        }
                        let after = self.select(ty, metric, t, None).map(|c| c.agreement);
                        let newly = match (before[i][j], after) {
                            (_, None) => false,
                            (None, Some(_)) => true,
                            (Some(b), Some(a)) => !std::ptr::eq(b, a),
                        };
                        if newly {
                            self.start(ty, metric, t);
                        }
                    }
                }
            }
            EventType::CustomerReplied => {
                for ty in TYPES {
                    let first_open = self.open_clock(ty, Metric::FirstResponse).is_some();
                    if !first_open && self.status_is_active() {
                        self.start(ty, Metric::NextResponse, t);
                    }
                }
            }
            EventType::AgentReplied => {
                if e.public == Some(false) {
                    return;
                }
                for ty in TYPES {
                    for metric in [Metric::FirstResponse, Metric::NextResponse] {
                        if let Some(i) = self.open_clock(ty, metric) {
                            self.stop(i, t, false);
                        }
                    }
                    if let Some(i) = self.open_clock(ty, Metric::PeriodicUpdate) {
                        self.stop(i, t, false);
                        self.start(ty, Metric::PeriodicUpdate, t);
                    }
                }
            }
            EventType::Resolved | EventType::Closed => {
                let status = if e.kind == EventType::Resolved {
                    "resolved"
                } else {
                    "closed"
                };
                self.set_status(CompactString::const_new(status), t);
                self.stop_all(t, true);
            }
            EventType::Reopened => {
                self.absorb(e, t);
                if e.status.is_none() {
                    self.set_status(CompactString::const_new("open"), t);
                }
                for ty in TYPES {
                    self.reopen_resolution(ty, t);
                    self.start(ty, Metric::PeriodicUpdate, t);
                }
                self.reconsider(t);
            }
        }
    }

    fn status_is_active(&self) -> bool {
        self.status != "resolved" && self.status != "closed"
    }

    /// `reopened`: the resolution clock stopped by resolution resumes (its elapsed time
    /// carries on), unless its objective says `reopen: new_cycle`.
    fn reopen_resolution(&mut self, ty: AgreementType, t: i64) {
        let Some(i) = self
            .clocks
            .iter()
            .rposition(|c| c.agreement_type == ty && c.metric == Metric::Resolution)
        else {
            self.start(ty, Metric::Resolution, t);
            return;
        };
        let clock = &self.clocks[i];
        if clock.open() || !clock.stopped_by_resolution {
            return;
        }
        let new_cycle = clock
            .rules()
            .and_then(|c| c.objective.reopen.as_ref())
            .is_some_and(|r| r.value == Reopen::NewCycle);
        if new_cycle {
            self.start(ty, Metric::Resolution, t);
        } else {
            let clock = &mut self.clocks[i];
            clock.stopped_at = None;
            clock.stopped_by_resolution = false;
            clock.since = t;
        }
    }
}

fn ts(s: i64) -> Timestamp {
    Timestamp::from_second(s).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The clocks of one ticket as of `at`, from its events in apply order (see
/// [`super::prepare`]); events after `at` are ignored. A ticket without a `created`
/// event has no clocks. Clocks that never had an objective are not reported.
pub fn fold_ticket<'e>(
    config: &Config,
    ticket: &str,
    events: impl IntoIterator<Item = &'e Event>,
    at: Timestamp,
) -> Vec<ClockResult> {
    let mut out = Vec::new();
    let events: Vec<&Event> = events.into_iter().collect();
    let changes = version_changes(config);
    let mut state = Ticket::new(config, &changes);
    fold_into(&mut state, ticket, &events, at.as_second(), &mut out);
    out
}

/// Every instant at which an agreement version comes into or goes out of force, sorted.
fn version_changes(config: &Config) -> Vec<i64> {
    let mut changes: Vec<i64> = config
        .agreements
        .iter()
        .flat_map(|a| [a.in_force.0, a.in_force.1])
        .flatten()
        .collect();
    changes.sort_unstable();
    changes.dedup();
    changes
}

/// [`fold_ticket`], appending to `out`.
fn fold_into(
    state: &mut Ticket<'_>,
    ticket: &str,
    events: &[&Event],
    at: i64,
    out: &mut Vec<ClockResult>,
) {
    state.reset();
    // Events are in apply order, so those up to `at` come first. Looked for from the
    // end, not by bisection: usually the last event is before `at`, and a bisection's
    // reads wait on one another (each a cache miss when a replay's events are scattered
    // over memory).
    let kept = events
        .iter()
        .rposition(|e| e.at.as_second() <= at)
        .map_or(0, |last| last + 1);
    let events = &events[..kept];
    let Some(first_created) = events.iter().position(|e| e.kind == EventType::Created) else {
        return;
    };
    // Events before the ticket exists are applied to its facts only.
    let mut k = 0;
    while k < events.len() {
        let t = events[k].at.as_second();
        let group_end = events[k..]
            .iter()
            .position(|e| e.at.as_second() != t)
            .map_or(events.len(), |n| k + n);
        let due = state.advance(t);
        for (n, e) in events[k..group_end].iter().enumerate() {
            if k + n < first_created {
                state.absorb(e, t);
            } else {
                state.apply(e, t);
            }
        }
        // A deadline at exactly `t` is met when the clock stopped at `t`, else breached.
        for i in due {
            let clock = &mut state.clocks[i];
            if clock.breached_at.is_none() && clock.stopped_at != Some(t) {
                clock.breached_at = Some(t);
            }
        }
        k = group_end;
    }
    // As of `at`: breaches up to and including `at`.
    for clock in &mut state.clocks {
        if let Some(deadline) = clock.deadline()
            && deadline <= at
        {
            clock.breached_at = Some(deadline);
        }
    }
    state.advance(at);

    let start = out.len();
    let reached = &state.reached;
    let priority_now = &state.facts.priority;
    out.extend(state.clocks.iter().enumerate().filter_map(|(i, c)| {
        let rules = c.rules()?;
        let cancelled = c.current.is_none();
        let state = match (c.open(), c.breached_at.is_some(), cancelled, c.running) {
            (_, true, _, _) => ClockState::Breached,
            (_, false, true, _) => ClockState::Cancelled,
            (false, false, false, _) => ClockState::Met,
            (true, false, false, true) => ClockState::Running,
            (true, false, false, false) => ClockState::Paused,
        };
        let running = state == ClockState::Running;
        // Sized once: reached ones, the breach, and for a running clock those ahead.
        let ahead = if running {
            c.current.as_ref().map_or(0, |c| c.thresholds().count() + 1)
        } else {
            0
        };
        let own = reached.iter().filter(|&&(clock, _, _)| clock == i);
        let mut milestones = Vec::with_capacity(own.clone().count() + 1 + ahead);
        milestones.extend(own.map(|&(_, milestone, at)| MilestoneAt {
            milestone,
            at: ts(at),
            reached: true,
        }));
        if let Some(b) = c.breached_at {
            milestones.push(MilestoneAt {
                milestone: Milestone::Breach,
                at: ts(b),
                reached: true,
            });
        }
        if running && let Some(current) = c.current.as_ref() {
            let ahead = current
                .thresholds()
                .filter(|(m, _)| !has_reached(reached, i, *m))
                .chain(std::iter::once((Milestone::Breach, current.target)));
            for (milestone, threshold) in ahead {
                if threshold > c.elapsed
                    && let Ok(at) = current.calendar.add_seconds(c.since, threshold - c.elapsed)
                {
                    milestones.push(MilestoneAt {
                        milestone,
                        at: ts(at),
                        reached: false,
                    });
                }
            }
        }
        milestones.sort_by_key(|m| (m.at, m.milestone));
        Some(ClockResult {
            ticket: ticket.into(),
            agreement_type: c.agreement_type,
            agreement: rules.agreement.id().into(),
            version: rules.agreement.doc.version,
            objective: rules.objective.id.value.as_str().into(),
            metric: c.metric,
            cycle: c.cycle,
            state,
            priority: if c.open() {
                priority_now.clone()
            } else {
                c.priority_at_stop.clone()
            },
            started_at: ts(c.started_at),
            stopped_at: c.stopped_at.map(ts),
            breached_at: c.breached_at.map(ts),
            deadline: if running { c.deadline().map(ts) } else { None },
            elapsed_seconds: c.elapsed,
            target_seconds: rules.target,
            internal_deadline: if running {
                c.internal_deadline().map(ts)
            } else {
                None
            },
            milestones,
        })
    }));
    // One ticket: (agreement, metric, cycle) decides.
    out[start..].sort_by(|a, b| {
        (
            a.agreement.as_bytes(),
            a.metric.as_str().as_bytes(),
            a.cycle,
        )
            .cmp(&(
                b.agreement.as_bytes(),
                b.metric.as_str().as_bytes(),
                b.cycle,
            ))
    });
}

/// Every ticket's clocks, in replay order (ticket, agreement, metric, cycle; bytewise).
pub fn fold_all(config: &Config, prepared: &Prepared, at: Timestamp) -> Vec<ClockResult> {
    // About 2.4 clocks a ticket in a typical history: one allocation, not a dozen
    // doublings of a vector of hundreds of megabytes.
    let mut out = Vec::with_capacity(prepared.tickets().len() * 5 / 2);
    let kept: Result<(), std::convert::Infallible> =
        fold_tickets(config, prepared, at, &mut out, |_| Ok(()));
    let Ok(()) = kept;
    out
}

/// [`fold_all`] handed over one ticket at a time, in the same order, the buffer reused:
/// for a consumer that does not need every clock at once (`accord replay` prints them),
/// this spares holding them all (hundreds of megabytes for a million tickets). Stops at
/// the consumer's first error.
pub fn fold_each<E>(
    config: &Config,
    prepared: &Prepared,
    at: Timestamp,
    mut each: impl FnMut(&[ClockResult]) -> Result<(), E>,
) -> Result<(), E> {
    let mut out = Vec::new();
    fold_tickets(config, prepared, at, &mut out, |clocks| {
        each(clocks)?;
        clocks.clear();
        Ok(())
    })
}

/// Folds ticket after ticket into `out`, calling `after_ticket` after each.
fn fold_tickets<E>(
    config: &Config,
    prepared: &Prepared,
    at: Timestamp,
    out: &mut Vec<ClockResult>,
    mut after_ticket: impl FnMut(&mut Vec<ClockResult>) -> Result<(), E>,
) -> Result<(), E> {
    let changes = version_changes(config);
    let at = at.as_second();
    let mut events = Vec::new();
    let mut state = Ticket::new(config, &changes);
    for (ticket, ticket_events) in prepared.tickets() {
        events.clear();
        events.extend(ticket_events.iter());
        fold_into(&mut state, ticket, &events, at, out);
        after_ticket(out)?;
    }
    Ok(())
}

/// Sets the attributes an event carries (`created`: initial values; `updated`: changes;
/// a `null` custom field removes it). Returns whether any fact changed.
fn apply_attributes(facts: &mut TicketFacts, e: &Event) -> bool {
    let mut changed = false;
    for (slot, value) in [
        (&mut facts.customer, &e.customer),
        (&mut facts.service, &e.service),
        (&mut facts.priority, &e.priority),
        (&mut facts.team, &e.team),
        (&mut facts.assignee, &e.assignee),
        (&mut facts.supplier, &e.supplier),
    ] {
        if let Some(v) = value
            && slot.as_ref() != Some(v)
        {
            *slot = Some(v.clone());
            changed = true;
        }
    }
    if let Some(tags) = &e.tags
        && facts.tags != *tags
    {
        facts.tags = tags.clone();
        changed = true;
    }
    if let Some(fields) = &e.fields {
        for (k, v) in fields {
            let before = match v {
                Some(v) => facts.fields.insert(k.clone(), v.clone()),
                None => facts.fields.remove(k),
            };
            changed |= before.as_ref() != v.as_ref();
        }
    }
    changed
}

/// A ticket's facts (customer, priority, team, …) and status after its events up to
/// `at`, in apply order.
pub fn ticket_facts(events: &[Event], at: Timestamp) -> (TicketFacts, CompactString) {
    let mut facts = TicketFacts::default();
    let mut status = CompactString::const_new("open");
    for e in events.iter().filter(|e| e.at <= at) {
        apply_attributes(&mut facts, e);
        status = match (e.kind, &e.status) {
            (EventType::Resolved, _) => "resolved".into(),
            (EventType::Closed, _) => "closed".into(),
            (EventType::Reopened, None) => "open".into(),
            (_, Some(s)) => s.clone(),
            (_, None) => status,
        };
    }
    (facts, status)
}

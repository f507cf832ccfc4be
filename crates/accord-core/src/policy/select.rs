//! Which objective applies to a ticket (DESIGN 3.2): per ticket, metric and agreement
//! type, the highest level with a matching objective wins (`service` over `customer`
//! over `corporate`); within a level the agreement listed first; within an agreement the
//! first objective that matches. Only the agreement versions in force at the instant
//! count.

use compact_str::CompactString;
use std::collections::BTreeMap;

use jiff::Timestamp;

use super::load::{Agreement, Config, Target};
use super::model::{AgreementType, Level, Metric, ObjectiveDoc};

/// The facts of a ticket that agreements and objectives match on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TicketFacts {
    pub customer: Option<CompactString>,
    pub service: Option<CompactString>,
    pub priority: Option<CompactString>,
    pub team: Option<CompactString>,
    pub assignee: Option<CompactString>,
    pub supplier: Option<CompactString>,
    pub tags: Vec<CompactString>,
    pub fields: BTreeMap<CompactString, CompactString>,
}

impl TicketFacts {
    fn value(&self, key: &str) -> Option<&str> {
        match key {
            "customer" => self.customer.as_deref(),
            "service" => self.service.as_deref(),
            "priority" => self.priority.as_deref(),
            "team" => self.team.as_deref(),
            "assignee" => self.assignee.as_deref(),
            "supplier" => self.supplier.as_deref(),
            other => other
                .strip_prefix("fields.")
                .and_then(|f| self.fields.get(f))
                .map(CompactString::as_str),
        }
    }
}

/// The objective chosen for a ticket.
#[derive(Debug, Clone, Copy)]
pub struct Selection<'a> {
    pub agreement: &'a Agreement,
    pub objective: &'a ObjectiveDoc,
    pub target: Target,
}

/// Whether every key of the objective's `when` matches the ticket (no `when` matches
/// every ticket its agreement covers).
pub fn when_matches(objective: &ObjectiveDoc, ticket: &TicketFacts) -> bool {
    let Some(when) = &objective.when else {
        return true;
    };
    when.value.iter().all(|(key, wanted)| {
        if key == "tags" {
            ticket.tags.iter().any(|t| wanted.0.iter().any(|w| w == t))
        } else {
            ticket
                .value(key)
                .is_some_and(|v| wanted.0.iter().any(|w| w == v))
        }
    })
}

/// Whether the agreement covers the ticket at all.
pub fn covers(agreement: &Agreement, ticket: &TicketFacts) -> bool {
    let doc = &agreement.doc;
    let same =
        |own: &Option<serde_saphyr::Spanned<String>>, theirs: &Option<CompactString>| match own {
            Some(own) => theirs.as_deref() == Some(own.value.as_str()),
            None => true,
        };
    let level_covers = match doc.level {
        Level::Corporate => true,
        Level::Customer => same(&doc.customer, &ticket.customer),
        Level::Service => {
            same(&doc.customer, &ticket.customer)
                && ticket
                    .service
                    .as_deref()
                    .is_some_and(|s| doc.services.iter().any(|own| own.value == s))
        }
    };
    let type_covers = match doc.agreement_type {
        AgreementType::Sla => true,
        AgreementType::Ola => same(&doc.team, &ticket.team),
        AgreementType::Uc => same(&doc.supplier, &ticket.supplier),
    };
    level_covers && type_covers
}

/// Whether this version is in force at `at` (its `effective` dates are local dates in
/// the agreement calendar's zone, UTC for `24x7`; the loader turned them into instants).
pub fn in_force(agreement: &Agreement, at: Timestamp) -> bool {
    let at = at.as_second();
    let (from, until) = agreement.in_force;
    from.is_none_or(|from| from <= at) && until.is_none_or(|until| at < until)
}

/// The instant this version's `effective.from` begins (local midnight in its calendar's
/// zone), or `None` when it has no `effective` (in force from the beginning).
pub fn in_force_from(agreement: &Agreement) -> Option<Timestamp> {
    agreement
        .in_force
        .0
        .and_then(|s| Timestamp::from_second(s).ok())
}

impl Config {
    /// The objective that applies to `ticket` for `metric` among agreements of
    /// `agreement_type` in force at `at`, if any.
    pub fn select(
        &self,
        ticket: &TicketFacts,
        metric: Metric,
        agreement_type: AgreementType,
        at: Timestamp,
    ) -> Option<Selection<'_>> {
        self.select_with(ticket, metric, agreement_type, |_| at)
    }

    /// [`Config::select`] where the instant that decides which version is in force may
    /// differ per agreement (a clock keeps the version of its agreement in force when it
    /// started: DESIGN 3.2).
    pub fn select_with(
        &self,
        ticket: &TicketFacts,
        metric: Metric,
        agreement_type: AgreementType,
        instant: impl Fn(&Agreement) -> Timestamp,
    ) -> Option<Selection<'_>> {
        let mut best: Option<(Level, Selection<'_>)> = None;
        for agreement in &self.agreements {
            let doc = &agreement.doc;
            if doc.agreement_type != agreement_type
                || best.as_ref().is_some_and(|(level, _)| *level >= doc.level)
                || !covers(agreement, ticket)
                || !in_force(agreement, instant(agreement))
            {
                continue;
            }
            let found = doc
                .objectives
                .iter()
                .zip(&agreement.targets)
                .find(|(o, _)| o.metric == metric && when_matches(o, ticket));
            if let Some((objective, &target)) = found {
                best = Some((
                    doc.level,
                    Selection {
                        agreement,
                        objective,
                        target,
                    },
                ));
            }
        }
        best.map(|(_, s)| s)
    }
}

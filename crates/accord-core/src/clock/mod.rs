//! Ticket clocks (DESIGN 3.2): a pure function of a ticket's events, the agreement
//! versions and the calendars, as of an instant.

mod event;
mod fold;

pub(crate) use event::whole_second;
pub use event::{Conflict, Event, EventType, Prepared, TicketEvents, prepare};
pub use fold::{
    ClockResult, ClockState, Milestone, MilestoneAt, WAITING_ON_THIRD_PARTY, clock_calendar,
    fact_key, fold_all, fold_each, fold_ticket, ticket_facts,
};

#[cfg(test)]
mod tests;

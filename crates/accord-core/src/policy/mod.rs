//! The policy model: SLA-as-code documents (DESIGN 4.2), their loader and checks, and
//! the selection of the objective that applies to a ticket (DESIGN 3.2).

mod diff;
pub(crate) mod load;
mod model;
pub mod openslo;
mod select;
mod units;

pub use diff::{ChangeKind, ConfigChange, diff, retroactive};
pub use load::{
    Agreement, CalendarDef, Config, Diagnostic, Loaded, SourceFile, Target, WHEN_KEYS, closest,
    load, priorities, relative_to,
};
pub use model::*;
pub use select::{Selection, TicketFacts, covers, in_force, in_force_from, when_matches};
pub use units::{BusinessDuration, CalendarDuration, Percent};

#[cfg(test)]
mod tests;

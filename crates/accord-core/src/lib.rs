//! Accord's pure core.
//!
//! Everything Accord promises about its arithmetic lives here: business-time calendars,
//! the policy model, ticket clocks, availability, credits and reports. Nothing in this
//! crate does I/O, reads the wall clock or knows about HTTP, SQL or async: every function
//! takes the instant it needs as an argument, so every result can be reproduced.

#![forbid(unsafe_code)]

pub mod availability;
pub mod calendar;
pub mod clock;
pub mod experience;
pub mod id;
pub mod policy;
pub mod report;
pub mod synthetic;

pub use id::{CustomerId, IdError};

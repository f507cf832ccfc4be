//! The one place Accord reads the wall clock (`clippy.toml` bans it everywhere else).
//! Everything below the edge takes "now" as an argument, so it can be tested at any
//! instant; only the server and the CLI ask this module what time it is.

use jiff::Timestamp;

/// The current instant, truncated to the second (Accord's arithmetic is exact to the
/// second: DESIGN 3.1).
#[allow(clippy::disallowed_methods)]
pub fn now() -> Timestamp {
    let now = Timestamp::now();
    Timestamp::from_second(now.as_second()).unwrap_or(now)
}

/// The current instant to the nanosecond: for timers (sleeping until an instant), where
/// truncating would wake up to a second late.
#[allow(clippy::disallowed_methods)]
pub fn precise_now() -> Timestamp {
    Timestamp::now()
}

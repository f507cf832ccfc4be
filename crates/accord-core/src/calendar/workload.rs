//! The standard calendar workload of DESIGN 7, shared by `accord bench calendar`, the
//! criterion benchmark and the parity test against the `workclock` crate, so all three
//! measure and check the same thing.

use std::collections::BTreeMap;

use jiff::civil::{Date, date};
use jiff::tz::TimeZone;

use super::{Calendar, DateRule, DaySpan};

/// The 2025 US holidays of the workload.
pub const US_HOLIDAYS_2025: [(i16, i8, i8); 10] = [
    (2025, 1, 1),
    (2025, 1, 20),
    (2025, 2, 17),
    (2025, 5, 26),
    (2025, 6, 19),
    (2025, 7, 4),
    (2025, 9, 1),
    (2025, 11, 11),
    (2025, 11, 27),
    (2025, 12, 25),
];

/// First and last-plus-one epoch second of 2025 (UTC).
pub const YEAR_2025: (i64, i64) = (1_735_689_600, 1_767_225_600);

/// Starts in the default workload.
pub const DEFAULT_STARTS: usize = 100_000;

/// Seed of the default starts.
pub const SEED: u64 = 0x5EED_2025;

pub fn holidays() -> Vec<Date> {
    US_HOLIDAYS_2025
        .iter()
        .map(|&(y, m, d)| date(y, m, d))
        .collect()
}

/// Mon–Fri 09:00–17:00 America/New_York with the 2025 US holidays.
pub fn us_office_2025() -> Calendar {
    let day = vec![DaySpan {
        start: 9 * 3600,
        end: 17 * 3600,
    }];
    let weekly = std::array::from_fn(|d| if d < 5 { day.clone() } else { Vec::new() });
    let tz = TimeZone::get("America/New_York").unwrap_or(TimeZone::UTC);
    let dates: BTreeMap<Date, DateRule> = holidays()
        .into_iter()
        .map(|d| (d, DateRule::Closed))
        .collect();
    Calendar::new(tz, "America/New_York", weekly, dates, Vec::new())
}

/// `n` starts uniform over 2025, from a fixed seed (the same on every machine).
pub fn starts(n: usize, seed: u64) -> Vec<i64> {
    let mut rng = crate::synthetic::Rng::new(seed);
    (0..n)
        .map(|_| rng.range(YEAR_2025.0, YEAR_2025.1))
        .collect()
}

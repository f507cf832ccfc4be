//! Accord's calendar and the `workclock` crate (the fastest peer we know) give the same
//! answers on the standard workload of DESIGN 7: `add(start, 8h)` and
//! `elapsed(start, start + 7 days)` for 100,000 starts over 2025.

use accord_core::calendar::workload;
use jiff::civil::time;
use jiff::{SignedDuration, Timestamp};
use workclock::{Holidays, Schedule, Weekdays, WorkDay};

#[test]
fn accord_and_workclock_agree_on_the_standard_workload() {
    let ours = workload::us_office_2025();
    let theirs = Schedule::builder()
        .time_zone("America/New_York")
        .rule(WorkDay::new(
            time(9, 0, 0, 0),
            time(17, 0, 0, 0),
            Weekdays::MON_TO_FRI,
        ))
        .rule(Holidays::new(workload::holidays()))
        .build()
        .expect("workclock schedule");

    let starts = workload::starts(workload::DEFAULT_STARTS, workload::SEED);
    let mut add_mismatches = Vec::new();
    let mut elapsed_mismatches = Vec::new();
    for &s in &starts {
        let start = Timestamp::from_second(s).unwrap();
        let a = ours.add_seconds(s, 8 * 3600).unwrap();
        let b = theirs
            .add(start, SignedDuration::from_hours(8))
            .unwrap()
            .as_second();
        if a != b {
            add_mismatches.push((s, a, b));
        }
        let e = ours.elapsed_seconds(s, s + 7 * 86_400);
        let f = theirs
            .between(start, Timestamp::from_second(s + 7 * 86_400).unwrap())
            .as_secs();
        if e != f {
            elapsed_mismatches.push((s, e, f));
        }
    }
    assert!(
        add_mismatches.is_empty(),
        "{} add mismatches (start, accord, workclock), first: {:?}",
        add_mismatches.len(),
        &add_mismatches[..add_mismatches.len().min(5)]
    );
    assert!(
        elapsed_mismatches.is_empty(),
        "{} elapsed mismatches, first: {:?}",
        elapsed_mismatches.len(),
        &elapsed_mismatches[..elapsed_mismatches.len().min(5)]
    );
    // The workload really exercises what it claims: holidays and closed starts.
    let closed = starts.iter().filter(|&&s| !ours.is_open_second(s)).count();
    assert!(
        closed > starts.len() / 2,
        "most uniform starts fall in closed time"
    );
}

//! Accord's calendar against `workclock`, side by side on the standard workload
//! (DESIGN 7): `cargo bench -p accord-core --bench calendar`.

use std::hint::black_box;

use accord_core::calendar::workload;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use jiff::civil::time;
use jiff::{SignedDuration, Timestamp};
use workclock::{Holidays, Schedule, Weekdays, WorkDay};

fn bench(c: &mut Criterion) {
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
    let starts: Vec<Timestamp> = workload::starts(10_000, workload::SEED)
        .into_iter()
        .map(|s| Timestamp::from_second(s).expect("in range"))
        .collect();
    let week = SignedDuration::from_hours(7 * 24);

    let mut add = c.benchmark_group("add_8h");
    add.throughput(Throughput::Elements(starts.len() as u64));
    add.bench_function("accord", |b| {
        b.iter(|| {
            for &s in &starts {
                black_box(ours.add(black_box(s), 8 * 3600).expect("add"));
            }
        })
    });
    add.bench_function("workclock", |b| {
        b.iter(|| {
            for &s in &starts {
                black_box(
                    theirs
                        .add(black_box(s), SignedDuration::from_hours(8))
                        .expect("add"),
                );
            }
        })
    });
    add.finish();

    let mut elapsed = c.benchmark_group("elapsed_7d");
    elapsed.throughput(Throughput::Elements(starts.len() as u64));
    elapsed.bench_function("accord", |b| {
        b.iter(|| {
            for &s in &starts {
                black_box(ours.elapsed(black_box(s), s + week));
            }
        })
    });
    elapsed.bench_function("workclock", |b| {
        b.iter(|| {
            for &s in &starts {
                black_box(theirs.between(black_box(s), s + week));
            }
        })
    });
    elapsed.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

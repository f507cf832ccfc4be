//! `accord bench NAME`: the standard workloads of DESIGN 7, measured in this process.
//! Each prints one JSON line per measurement: `{"bench", "ops", "ns_per_op", ...}`.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use serde_json::json;

use accord_core::calendar::workload;

/// Which build measured: figures from a debug build are not comparable.
const PROFILE: &str = if cfg!(debug_assertions) {
    "debug"
} else {
    "release"
};

/// The built-in examples, the configuration every workload runs under.
fn examples_config() -> anyhow::Result<accord_core::policy::Config> {
    Ok(
        accord_server::live_config::load_files(&crate::examples::files())
            .map_err(|e| anyhow::anyhow!("the examples do not load: {}", e[0]))?
            .config,
    )
}

/// Passes over the workload; the median is reported (and the best, for reference).
const RUNS: usize = 7;

fn measure(ops: usize, mut pass: impl FnMut()) -> (f64, f64) {
    pass(); // warm-up: builds the calendar index, faults in the pages
    let mut per_op: Vec<f64> = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            pass();
            started.elapsed().as_nanos() as f64 / ops as f64
        })
        .collect();
    per_op.sort_by(f64::total_cmp);
    (per_op[RUNS / 2], per_op[0])
}

fn read_starts(path: &Path) -> anyhow::Result<Vec<i64>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut starts = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let s: i64 = line.parse().map_err(|_| {
            anyhow::anyhow!(
                "{}:{}: {line:?} is not an epoch second",
                path.display(),
                n + 1
            )
        })?;
        if jiff::Timestamp::from_second(s).is_err() {
            bail!(
                "{}:{}: {s} is outside the supported range of instants",
                path.display(),
                n + 1
            );
        }
        starts.push(s);
    }
    if starts.is_empty() {
        bail!("{}: no starts", path.display());
    }
    Ok(starts)
}

/// `accord bench calendar`: `add(start, 8h)` and `elapsed(start, start + 7 days)` for
/// each start on the standard calendar.
pub fn calendar(
    starts: Option<&Path>,
    out: Option<&Path>,
    mut report: impl Write,
) -> anyhow::Result<()> {
    let starts = match starts {
        Some(path) => read_starts(path)?,
        None => workload::starts(workload::DEFAULT_STARTS, workload::SEED),
    };
    let calendar = workload::us_office_2025();
    let n = starts.len();

    let mut results = vec![0i64; n];
    let mut failure = None;
    let (median, best) = measure(n, || {
        for (slot, &s) in results.iter_mut().zip(&starts) {
            match calendar.add_seconds(std::hint::black_box(s), 8 * 3600) {
                Ok(t) => *slot = t,
                Err(e) => failure = Some(e),
            }
        }
    });
    if let Some(e) = failure {
        bail!("add failed: {e}");
    }
    writeln!(
        report,
        "{}",
        json!({"bench": "calendar.add_8h", "ops": n, "ns_per_op": round(median), "best_ns_per_op": round(best), "runs": RUNS, "profile": PROFILE})
    )?;

    let mut checksum = 0i64;
    let (median, best) = measure(n, || {
        checksum = 0;
        for &s in &starts {
            checksum = checksum
                .wrapping_add(calendar.elapsed_seconds(std::hint::black_box(s), s + 7 * 86_400));
        }
    });
    writeln!(
        report,
        "{}",
        json!({"bench": "calendar.elapsed_7d", "ops": n, "ns_per_op": round(median), "best_ns_per_op": round(best), "runs": RUNS, "profile": PROFILE, "open_seconds_total": checksum})
    )?;

    if let Some(path) = out {
        let mut text = String::with_capacity(n * 11);
        for t in &results {
            text.push_str(&t.to_string());
            text.push('\n');
        }
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// `accord bench replay`: a generated history folded into clocks, in memory and from a
/// JSON-lines file through the same path as `accord replay`.
pub fn replay(tickets: usize, seed: u64, mut report: impl Write) -> anyhow::Result<()> {
    use accord_core::clock;
    use accord_core::synthetic::{Spec, generate};

    let config = examples_config()?;
    let from: jiff::Timestamp = "2026-01-01T00:00:00Z".parse()?;
    let to: jiff::Timestamp = "2026-12-01T00:00:00Z".parse()?;
    let at: jiff::Timestamp = "2027-01-01T00:00:00Z".parse()?;
    let spec = Spec::examples(tickets, from, to, seed);
    let events: Vec<clock::Event> = generate(&spec).collect();
    let n = events.len();

    // In memory: group, de-duplicate, order and fold.
    let started = Instant::now();
    let prepared = clock::prepare(events);
    let prepare_seconds = started.elapsed().as_secs_f64();
    let clocks = fold_counting(&config, &prepared, at);
    let seconds = started.elapsed().as_secs_f64();
    writeln!(
        report,
        "{}",
        json!({"bench": "replay.memory", "ops": n, "ns_per_op": round(seconds * 1e9 / n as f64),
               "events_per_second": (n as f64 / seconds).round(), "tickets": tickets, "clocks": clocks,
               "prepare_seconds": hundredths(prepare_seconds), "fold_seconds": hundredths(seconds - prepare_seconds), "profile": PROFILE})
    )?;

    // From a file, as `accord replay` reads it.
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("events.jsonl");
    let mut text = Vec::with_capacity(n * 160);
    for (_, tickets) in prepared.tickets() {
        for e in tickets.iter() {
            serde_json::to_writer(&mut text, e)?;
            text.push(b'\n');
        }
    }
    std::fs::write(&path, &text)?;
    drop(prepared);
    let started = Instant::now();
    let (events, _) = crate::replay::read_events(std::slice::from_ref(&path))?;
    let parsed = events.len();
    let read_seconds = started.elapsed().as_secs_f64();
    let prepared = clock::prepare(events);
    let prepare_seconds = started.elapsed().as_secs_f64() - read_seconds;
    let clocks = fold_counting(&config, &prepared, at);
    let seconds = started.elapsed().as_secs_f64();
    writeln!(
        report,
        "{}",
        json!({"bench": "replay.file", "ops": parsed, "ns_per_op": round(seconds * 1e9 / parsed as f64),
               "events_per_second": (parsed as f64 / seconds).round(), "bytes": text.len(), "clocks": clocks,
               "read_seconds": hundredths(read_seconds), "prepare_seconds": hundredths(prepare_seconds),
               "fold_seconds": hundredths(seconds - read_seconds - prepare_seconds), "profile": PROFILE})
    )?;
    Ok(())
}

/// Folds every ticket as `accord replay` does (ticket by ticket, each one's clocks handed
/// on before the next, not all held at once) and counts the clocks.
fn fold_counting(
    config: &accord_core::policy::Config,
    prepared: &accord_core::clock::Prepared,
    at: jiff::Timestamp,
) -> usize {
    let mut clocks = 0;
    let folded: Result<(), std::convert::Infallible> =
        accord_core::clock::fold_each(config, prepared, at, |ticket_clocks| {
            clocks += ticket_clocks.len();
            Ok(())
        });
    let Ok(()) = folded;
    clocks
}

/// `accord bench report`: one month over `tickets` generated tickets (with an outage a
/// day per service and a survey for one ticket in five), the clocks folded first
/// (untimed), then the report of the month timed (median of 5 runs).
pub fn report(tickets: usize, seed: u64, mut report: impl Write) -> anyhow::Result<()> {
    use accord_core::availability::Outage;
    use accord_core::clock;
    use accord_core::experience::Survey;
    use accord_core::report::{self as period_report, ClockEnd, PeriodSpec, ServiceRecords};
    use accord_core::synthetic::{Spec, generate};

    let config = examples_config()?;
    let from: jiff::Timestamp = "2026-11-01T00:00:00Z".parse()?;
    let to: jiff::Timestamp = "2026-12-01T00:00:00Z".parse()?;
    let at: jiff::Timestamp = "2026-12-01T00:00:00Z".parse()?;
    let spec = Spec::examples(tickets, from, to, seed);
    let prepared = clock::prepare(generate(&spec));
    let clocks = clock::fold_all(&config, &prepared, at);

    let mut records = ServiceRecords::default();
    for day in 0..30 {
        for service in ["email", "vpn", "erp", "workplace"] {
            let start = from.as_second() + day * 86_400 + 3_600 * (day % 7);
            records.outages.push(Outage {
                id: format!("o-{service}-{day}").into(),
                service: service.into(),
                from: jiff::Timestamp::from_second(start)?,
                to: jiff::Timestamp::from_second(start + 600)?,
                impact: accord_core::availability::WHOLE,
            });
        }
    }
    for (n, (ticket, events)) in prepared.tickets().enumerate().filter(|(n, _)| n % 5 == 0) {
        let events: Vec<clock::Event> = events.iter().cloned().collect();
        let Some(last) = events.last() else { continue };
        let survey = Survey {
            id: format!("s-{n}").into(),
            ticket: ticket.into(),
            at: last.at,
            csat: Some((n % 5 + 1) as u8),
            ces: Some((n % 7 + 1) as u8),
            comment: None,
        };
        let (facts, _) = clock::ticket_facts(&events, survey.at);
        records.surveys.push((survey, facts));
    }
    let period: PeriodSpec = "2026-11".parse().map_err(|e: String| anyhow::anyhow!(e))?;

    let mut seconds = Vec::new();
    let mut objectives = 0;
    for _ in 0..5 {
        let started = Instant::now();
        let ends: Vec<ClockEnd<'_>> = clocks.iter().map(ClockEnd::from).collect();
        let r = period_report::report(&config, &ends, &records, &period, at);
        seconds.push(started.elapsed().as_secs_f64());
        objectives = r
            .agreements
            .iter()
            .map(|a| a.objectives.len())
            .sum::<usize>();
    }
    seconds.sort_by(f64::total_cmp);
    let median = seconds[seconds.len() / 2];
    writeln!(
        report,
        "{}",
        json!({"bench": "report.month", "ops": clocks.len(), "ns_per_op": round(median * 1e9 / clocks.len().max(1) as f64),
               "seconds": round(median), "tickets": tickets, "clocks": clocks.len(), "surveys": records.surveys.len(),
               "objectives": objectives, "profile": PROFILE})
    )?;
    Ok(())
}

/// `accord bench ingest`: a generated history posted over HTTP in batches of 1,000 to a
/// server on SQLite (in this process, on loopback), each batch answered once durable;
/// `clients` post at once, client `k` the batches `k`, `k + clients`, … in order.
pub fn ingest(
    tickets: usize,
    seed: u64,
    clients: usize,
    mut report: impl Write,
) -> anyhow::Result<()> {
    use accord_core::synthetic::{Spec, generate};
    use accord_server::{AppState, Bootstrap};
    use accord_store_sqlite::SqliteStore;
    use secrecy::ExposeSecret;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let dir = tempfile::tempdir()?;
        let store = SqliteStore::open_in(dir.path()).await?;
        let Bootstrap::Created { secret, .. } = accord_server::bootstrap_admin(&store, None).await? else {
            anyhow::bail!("a fresh database must create an admin token");
        };
        let state = AppState::open(store.clone()).await?;
        accord_server::api::config::apply_files(&state, &accord_store::Actor::System, crate::examples::files(), false, false)
            .await
            .map_err(|e| anyhow::anyhow!("the examples do not apply: {e}"))?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/v1/events", listener.local_addr()?);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let pending = state.pending.clone();
        let server = tokio::spawn(accord_server::serve(listener, accord_server::router(state, 64 << 20), async {
            let _ = stopped.await;
        }));

        let from: jiff::Timestamp = "2026-01-01T00:00:00Z".parse()?;
        let to: jiff::Timestamp = "2026-12-01T00:00:00Z".parse()?;
        let spec = Spec::examples(tickets, from, to, seed);
        let events: Vec<accord_core::clock::Event> = generate(&spec).collect();
        let clients = clients.max(1);
        let mut shares: Vec<Vec<String>> = vec![Vec::new(); clients];
        for (k, batch) in events.chunks(1000).enumerate() {
            shares[k % clients].push(serde_json::to_string(batch)?);
        }
        let http = reqwest::Client::new();
        let started = Instant::now();
        let posting: Vec<_> = shares
            .into_iter()
            .map(|bodies| {
                let (http, url) = (http.clone(), url.clone());
                let token = secret.expose_secret().to_owned();
                tokio::spawn(async move {
                    let mut accepted = 0u64;
                    for body in bodies {
                        let response = http
                            .post(&url)
                            .bearer_auth(&token)
                            .header("content-type", "application/json")
                            .body(body)
                            .send()
                            .await?;
                        let status = response.status();
                        let answer: serde_json::Value = response.json().await?;
                        if !status.is_success() {
                            anyhow::bail!("the server answered {status}: {answer}");
                        }
                        accepted += answer["accepted"].as_u64().unwrap_or(0);
                    }
                    Ok(accepted)
                })
            })
            .collect();
        let mut accepted = 0u64;
        for client in posting {
            accepted += client.await??;
        }
        let seconds = started.elapsed().as_secs_f64();
        // Acknowledged is what the target counts; how long the clocks took to catch up
        // is reported beside it.
        pending.settled(std::time::Duration::from_secs(3600)).await;
        let clocks_current = started.elapsed().as_secs_f64();
        let n = events.len();
        writeln!(
            report,
            "{}",
            json!({"bench": "ingest", "ops": n, "ns_per_op": round(seconds * 1e9 / n as f64),
                   "events_per_second": (n as f64 / seconds).round(), "accepted": accepted, "batch": 1000, "clients": clients,
                   "seconds": round(seconds), "clocks_current_after_seconds": round(clocks_current),
                   "tickets": tickets, "profile": PROFILE})
        )?;
        let _ = stop.send(());
        server.await??;
        store.close().await;
        Ok(())
    })
}

/// Resident memory of this process in bytes (Linux; `None` elsewhere).
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// CPU seconds this process has used (Linux; `None` elsewhere).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the 14th and
    // 15th fields overall, in clock ticks (100 a second on Linux).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// `accord bench watch`: `clocks` running clocks stored on SQLite, each with a warning
/// and a breach ahead (hours to days away); the watcher alone runs over them. Measures
/// the memory the process holds per clock, the CPU it uses while nothing is due, and,
/// for `sample` more notices falling due over 10 s, how long after its instant each is
/// queued (the outbox is watched every 10 ms).
pub fn watch(clocks: usize, sample: usize, report: impl Write) -> anyhow::Result<()> {
    watch_with(
        clocks,
        sample,
        std::time::Duration::from_secs(5),
        10,
        report,
    )
}

/// [`watch`] with the idle period and the spread of the sample (seconds) chosen.
fn watch_with(
    clocks: usize,
    sample: usize,
    idle: std::time::Duration,
    spread_seconds: usize,
    mut report: impl Write,
) -> anyhow::Result<()> {
    use accord_server::AppState;
    use accord_store::{ClockRow, Notice, PageRequest, Store, TicketClocks};
    use accord_store_sqlite::SqliteStore;
    use jiff::{SignedDuration, Timestamp};

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let dir = tempfile::tempdir()?;
        let store = SqliteStore::open_in(dir.path()).await?;
        let state = AppState::open(store.clone()).await?;
        #[allow(clippy::disallowed_methods)] // a benchmark measures real time
        let now = || Timestamp::now();
        let ticket = |i: usize, due: Timestamp, start: Timestamp| TicketClocks {
            ticket: format!("W-{i}"),
            customer: Some("acme".into()),
            clocks: vec![ClockRow {
                ticket: format!("W-{i}"),
                customer: None,
                team: None,
                agreement_type: "sla".into(),
                agreement: "acme-gold".into(),
                objective: "p2-resolution".into(),
                metric: "resolution".into(),
                cycle: 1,
                state: "running".into(),
                priority: Some("P2".into()),
                started_at: start,
                stopped_at: None,
                breached_at: None,
                deadline: Some(due),
                elapsed_seconds: 0,
                target_seconds: 8 * 3600,
            }],
            notices: ["warning:80%", "breach"]
                .iter()
                .enumerate()
                .map(|(k, kind)| {
                    let at = due - SignedDuration::from_mins(if k == 0 { 90 } else { 0 });
                    Notice {
                        key: format!("W-{i}:sla:resolution:1:{kind}"),
                        ticket: format!("W-{i}"),
                        kind: if k == 0 { "clock.warning" } else { "clock.breached" }.into(),
                        due_at: at,
                        body: json!({"type": if k == 0 { "clock.warning" } else { "clock.breached" },
                                     "ticket": format!("W-{i}"), "customer": "acme"}),
                        targets: vec!["webhook:oncall".into()],
                    }
                })
                .collect(),
        };

        let before = resident_bytes();
        let watcher = accord_server::notify::start_watcher(
            store.clone(),
            state.config.clone(),
            state.pending.clone(),
            state.wake.clone(),
            std::time::Duration::from_secs(4 * 3600),
        );
        // Deadlines from 2 hours to 9 days ahead: nothing falls due while measuring.
        let loaded = Instant::now();
        let start = now();
        for chunk in (0..clocks).collect::<Vec<_>>().chunks(10_000) {
            let batch = chunk
                .iter()
                .map(|&i| {
                    let ahead = 7200 + (i as i64 * 7919) % (9 * 86_400);
                    ticket(i, start + SignedDuration::from_secs(ahead), start)
                })
                .collect();
            store.put_ticket_clocks(batch, start).await?;
            state.wake.clocks_changed.notify_one();
        }
        let load_seconds = loaded.elapsed().as_secs_f64();
        let after = resident_bytes();
        let db_bytes = std::fs::metadata(dir.path().join(accord_store_sqlite::DATABASE_FILE))?.len()
            + std::fs::metadata(dir.path().join(format!("{}-wal", accord_store_sqlite::DATABASE_FILE)))
                .map(|m| m.len())
                .unwrap_or(0);

        // Idle: nothing due for two hours.
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        let (cpu0, idle_started) = (cpu_seconds(), Instant::now());
        tokio::time::sleep(idle).await;
        let idle_wall = idle_started.elapsed().as_secs_f64();
        let idle_cpu = cpu_seconds().zip(cpu0).map(|(b, a)| (b - a) / idle_wall);

        // The sample: breaches due over 10 s, starting 3 s from now, on whole seconds.
        let first_due = Timestamp::from_second(now().as_second() + 2)?;
        let due_of: std::collections::HashMap<String, Timestamp> = (0..sample)
            .map(|k| {
                let due = first_due
                    + SignedDuration::from_secs((k * spread_seconds / sample.max(1)) as i64);
                (format!("S-{k}:sla:resolution:1:breach"), due)
            })
            .collect();
        let batch = (0..sample)
            .map(|k| {
                let due = due_of[&format!("S-{k}:sla:resolution:1:breach")];
                let mut t = ticket(k, due, start);
                t.ticket = format!("S-{k}");
                t.clocks[0].ticket = t.ticket.clone();
                t.notices.retain(|n| n.kind == "clock.breached");
                t.notices[0].key = format!("S-{k}:sla:resolution:1:breach");
                t.notices[0].ticket = t.ticket.clone();
                t
            })
            .collect();
        store.put_ticket_clocks(batch, start).await?;
        state.wake.clocks_changed.notify_one();

        let mut lateness = Vec::with_capacity(sample);
        let mut seen = std::collections::HashSet::new();
        let give_up = Instant::now() + std::time::Duration::from_secs(60);
        while lateness.len() < sample && Instant::now() < give_up {
            let mut cursor: Option<String> = None;
            loop {
                let page = store
                    .list_outbox(None, &PageRequest { limit: 1000, after: cursor.take() })
                    .await?;
                let seen_at = now();
                for m in page.items {
                    if let Some(due) = due_of.get(&m.fact)
                        && seen.insert(m.fact)
                    {
                        lateness.push(seen_at.duration_since(*due).as_secs_f64());
                    }
                }
                match page.next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        watcher.abort();
        if lateness.len() < sample {
            bail!("only {} of {sample} notices were queued within a minute", lateness.len());
        }
        lateness.sort_by(f64::total_cmp);
        let pick = |q: f64| lateness[((lateness.len() - 1) as f64 * q) as usize];
        let per_clock = before
            .zip(after)
            .map(|(b, a)| a.saturating_sub(b) as f64 / clocks.max(1) as f64);
        writeln!(
            report,
            "{}",
            json!({"bench": "watch", "clocks": clocks, "load_seconds": round(load_seconds),
                   "memory_bytes_per_clock": per_clock.map(round),
                   "database_bytes_per_clock": round(db_bytes as f64 / clocks.max(1) as f64),
                   "idle_cpu_share": idle_cpu.map(|c| (c * 1000.0).round() / 1000.0),
                   "sample": sample, "late_ms_p50": round(pick(0.5) * 1000.0),
                   "late_ms_p99": round(pick(0.99) * 1000.0),
                   "late_ms_max": round(pick(1.0) * 1000.0)})
        )?;
        store.close().await;
        Ok(())
    })
}

fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// For the steps of one run, which differ by less than a tenth between commits.
fn hundredths(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_bench_reports_and_writes_checkable_results() {
        let dir = tempfile::tempdir().unwrap();
        let starts = dir.path().join("starts.txt");
        // Mon 2025-11-03 09:00 EST and Fri 2025-11-07 16:00 EST; 2025-11-11 is a holiday.
        std::fs::write(&starts, "1762178400\n\n1762549200\n").unwrap();
        let out = dir.path().join("out.txt");
        let mut report = Vec::new();
        calendar(Some(&starts), Some(&out), &mut report).unwrap();
        let lines: Vec<serde_json::Value> = String::from_utf8(report)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["bench"], "calendar.add_8h");
        assert_eq!(lines[0]["ops"], 2);
        assert!(lines[0]["ns_per_op"].as_f64().unwrap() > 0.0);
        assert_eq!(lines[1]["bench"], "calendar.elapsed_7d");
        // 40h from Monday; from Friday 16:00: 1h + Mon 8h + Tue holiday + Wed-Thu 16h + Fri 7h.
        assert_eq!(lines[1]["open_seconds_total"], 40 * 3600 + 32 * 3600);
        let written = std::fs::read_to_string(&out).unwrap();
        // Mon 17:00 EST = 22:00Z; Fri 16:00 + 8h = Mon 2025-11-10 16:00 EST = 21:00Z.
        assert_eq!(written, "1762207200\n1762808400\n");
    }

    #[test]
    fn report_bench_reports_the_month() {
        let mut out = Vec::new();
        report(300, 5, &mut out).unwrap();
        let line: serde_json::Value =
            serde_json::from_str(String::from_utf8(out).unwrap().trim()).unwrap();
        assert_eq!(line["bench"], "report.month");
        assert!(line["clocks"].as_u64().unwrap() > 500, "{line}");
        assert_eq!(line["surveys"], 60);
        assert!(line["objectives"].as_u64().unwrap() > 10, "{line}");
    }

    #[test]
    fn replay_bench_reports_both_measurements() {
        let mut report = Vec::new();
        replay(200, 3, &mut report).unwrap();
        let lines: Vec<serde_json::Value> = String::from_utf8(report)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["bench"], "replay.memory");
        assert_eq!(lines[1]["bench"], "replay.file");
        assert!(lines[0]["ops"].as_u64().unwrap() > 800, "{}", lines[0]);
        assert!(lines[0]["clocks"].as_u64().unwrap() > 400, "{}", lines[0]);
        assert_eq!(
            lines[0]["clocks"], lines[1]["clocks"],
            "the same clocks either way"
        );
    }

    #[test]
    fn watch_bench_queues_every_sample_notice() {
        let mut report = Vec::new();
        watch_with(
            300,
            20,
            std::time::Duration::from_millis(200),
            1,
            &mut report,
        )
        .unwrap();
        let line: serde_json::Value = serde_json::from_slice(&report).unwrap();
        assert_eq!(line["bench"], "watch");
        assert_eq!(line["clocks"], 300);
        assert_eq!(line["sample"], 20);
        for key in ["late_ms_max", "memory_bytes_per_clock", "idle_cpu_share"] {
            assert!(line[key].is_number(), "{key}: {line}");
        }
    }

    #[test]
    fn ingest_bench_posts_every_event() {
        let mut report = Vec::new();
        ingest(400, 5, 1, &mut report).unwrap();
        let line: serde_json::Value = serde_json::from_slice(&report).unwrap();
        assert_eq!(line["bench"], "ingest");
        let ops = line["ops"].as_u64().unwrap();
        let accepted = line["accepted"].as_u64().unwrap();
        assert!(ops > 1000, "more than one batch: {line}");
        assert!(
            accepted > 0 && accepted < ops,
            "repeats are not accepted: {line}"
        );

        // Clients at once post the same events: the same ones are new.
        let mut report = Vec::new();
        ingest(400, 5, 3, &mut report).unwrap();
        let line: serde_json::Value = serde_json::from_slice(&report).unwrap();
        assert_eq!(line["clients"], 3);
        assert_eq!(line["ops"].as_u64(), Some(ops));
        assert_eq!(line["accepted"].as_u64(), Some(accepted), "{line}");
    }

    #[test]
    fn bad_starts_are_named_by_line() {
        let dir = tempfile::tempdir().unwrap();
        let starts = dir.path().join("starts.txt");
        std::fs::write(&starts, "1762178400\nsoon\n").unwrap();
        let err = calendar(Some(&starts), None, Vec::new())
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with("starts.txt:2: \"soon\" is not an epoch second"),
            "{err}"
        );
    }
}

//! `accord replay --config DIR --events FILE [--at RFC3339]` (DESIGN 4, a public
//! contract): the clocks of every ticket in the events, as JSON lines.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use jiff::Timestamp;
use serde::Serialize;

use accord_core::availability::ServiceRecord;
use accord_core::clock::{self, ClockResult, ClockState, Event};

use crate::config::{ConfigDir, load_dir};

/// Record types that share the event stream but are not read offline (probes go to a
/// server, which turns them into outages).
const OTHER_RECORDS: [&str; 1] = ["probe"];

/// One line of output, in the documented key order.
#[derive(Serialize)]
struct Line<'a> {
    ticket: &'a str,
    agreement: &'a str,
    objective: &'a str,
    metric: &'a str,
    cycle: u32,
    state: ClockState,
    started_at: Timestamp,
    stopped_at: Option<Timestamp>,
    breached_at: Option<Timestamp>,
    deadline: Option<Timestamp>,
    elapsed_seconds: i64,
    target_seconds: i64,
}

impl<'a> From<&'a ClockResult> for Line<'a> {
    fn from(c: &'a ClockResult) -> Self {
        Line {
            ticket: &c.ticket,
            agreement: &c.agreement,
            objective: &c.objective,
            metric: c.metric.as_str(),
            cycle: c.cycle,
            state: c.state,
            started_at: c.started_at,
            stopped_at: c.stopped_at,
            breached_at: c.breached_at,
            deadline: c.deadline,
            elapsed_seconds: c.elapsed_seconds,
            target_seconds: c.target_seconds,
        }
    }
}

/// Where an event came from: the index of its file among those given, and its line.
#[derive(Debug, Clone, Copy)]
pub struct Place {
    pub file: usize,
    pub line: usize,
}

/// The ticket events of JSON-lines files, in the order given, each with its place for
/// messages. Other records (outages, maintenance, surveys) are skipped.
pub fn read_events(paths: &[PathBuf]) -> anyhow::Result<(Vec<Event>, Vec<Place>)> {
    let stream = read_stream(paths)?;
    Ok((stream.events, stream.places))
}

/// What JSON-lines files hold: ticket events and service records, each with its place.
#[derive(Default)]
pub struct Stream {
    pub events: Vec<Event>,
    pub places: Vec<Place>,
    pub records: Vec<(ServiceRecord, Place)>,
}

/// Reads ticket events and outage and maintenance records; a bad line stops the read
/// with its file, line and what is wrong.
pub fn read_stream(paths: &[PathBuf]) -> anyhow::Result<Stream> {
    let mut events = Vec::new();
    let mut places = Vec::new();
    let mut records = Vec::new();
    let mut line = String::new();
    for (file_index, path) in paths.iter().enumerate() {
        let file =
            std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
        let mut n = 0;
        loop {
            line.clear();
            let read = reader
                .read_line(&mut line)
                .with_context(|| format!("cannot read {}", path.display()))?;
            if read == 0 {
                break;
            }
            n += 1;
            if line.trim().is_empty() {
                continue;
            }
            // Ticket events parse directly; only a line that does not is looked at again,
            // to skip other records or to say what is wrong.
            match serde_json::from_str::<Event>(&line) {
                Ok(event) => {
                    events.push(event);
                    places.push(Place {
                        file: file_index,
                        line: n,
                    });
                }
                Err(event_error) => {
                    let place = format!("{}:{n}", path.display());
                    let record: serde_json::Value = serde_json::from_str(&line).map_err(|e| {
                        anyhow::anyhow!("{place}:{}: not valid JSON: {e}", e.column())
                    })?;
                    let kind = record
                        .get("type")
                        .and_then(serde_json::Value::as_str)
                        .unwrap_or_default()
                        .to_owned();
                    let kind = kind.as_str();
                    if ["outage", "maintenance", "requests", "survey"].contains(&kind) {
                        let parsed: ServiceRecord = serde_json::from_value(record)
                            .map_err(|e| anyhow::anyhow!("{place}: {kind}: {e}"))?;
                        if let Err((field, why)) = parsed.check() {
                            bail!("{place}: {kind} `{field}` {why}");
                        }
                        let at = Place {
                            file: file_index,
                            line: n,
                        };
                        records.push((parsed, at));
                    } else if !OTHER_RECORDS.contains(&kind) {
                        bail!("{place}: {event_error}");
                    }
                }
            }
        }
    }
    Ok(Stream {
        events,
        places,
        records,
    })
}

/// A configuration directory loaded, or every mistake in it written to `warn`.
pub fn load_config(
    config_dir: &Path,
    mut warn: impl Write,
) -> anyhow::Result<accord_core::policy::Config> {
    let ConfigDir { loaded, .. } = load_dir(config_dir)?;
    match loaded {
        Ok(l) => Ok(l.config),
        Err(errors) => {
            for e in &errors {
                writeln!(warn, "error: {}: {e}", config_dir.display())?;
            }
            bail!(
                "{}: {} mistakes in the configuration",
                config_dir.display(),
                errors.len()
            );
        }
    }
}

pub fn run(
    config_dir: &Path,
    events: &[PathBuf],
    at: Timestamp,
    mut out: impl Write,
    mut warn: impl Write,
) -> anyhow::Result<()> {
    let config = load_config(config_dir, &mut warn)?;
    let (events_read, places) = read_events(events)?;
    let prepared = clock::prepare(events_read);
    for (position, conflict) in &prepared.conflicts {
        let place = places[*position];
        let path = events[place.file].display();
        writeln!(warn, "warning: {path}:{}: {conflict}", place.line)?;
    }
    // Printed ticket by ticket as they are folded: the clocks are never all in memory.
    clock::fold_each(&config, &prepared, at, |clocks| -> anyhow::Result<()> {
        for c in clocks {
            serde_json::to_writer(&mut out, &Line::from(c))?;
            out.write_all(b"\n")?;
        }
        Ok(())
    })?;
    out.flush()?;
    Ok(())
}

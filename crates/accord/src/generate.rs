//! `accord generate`: a synthetic ticket history as JSON lines, for demos and benchmarks.

use std::io::Write;

use jiff::Timestamp;

use accord_core::synthetic::{self, Spec};

/// Options of `accord generate`.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Number of tickets.
    #[arg(long, default_value_t = 1000)]
    pub tickets: usize,
    /// Tickets are created over this many days before --end.
    #[arg(long, default_value_t = 30)]
    pub days: i64,
    /// The end of the creation window (RFC 3339). Default: now.
    #[arg(long)]
    pub end: Option<Timestamp>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Percent of events delivered late (after a later event of their ticket).
    #[arg(long, default_value_t = 2)]
    pub late: u64,
    /// Percent of events delivered twice.
    #[arg(long, default_value_t = 1)]
    pub duplicates: u64,
}

impl GenerateArgs {
    /// The generation spec: the customers, services, teams and suppliers of `examples/`.
    pub fn spec(&self, now: Timestamp) -> anyhow::Result<Spec> {
        if !(1..=3650).contains(&self.days) {
            anyhow::bail!("--days must be between 1 and 3650");
        }
        let end = self.end.unwrap_or(now);
        let from = Timestamp::from_second(end.as_second() - self.days * 86_400)?;
        let mut spec = Spec::examples(self.tickets, from, end, self.seed);
        spec.late_percent = self.late.min(100);
        spec.duplicate_percent = self.duplicates.min(100);
        Ok(spec)
    }
}

/// Writes the history as JSON lines; returns the number of events written.
pub fn write(spec: &Spec, mut out: impl Write) -> anyhow::Result<usize> {
    let mut n = 0;
    for event in synthetic::generate(spec) {
        serde_json::to_writer(&mut out, &event)?;
        out.write_all(b"\n")?;
        n += 1;
    }
    out.flush()?;
    Ok(n)
}

//! The `accord import` command around the parsers of `import`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::client::{Client, ServerArgs};
use crate::import::{Format, Options};

#[derive(Debug, clap::Args)]
pub struct TicketsArgs {
    /// The export file.
    pub file: PathBuf,
    /// What the file is.
    #[arg(long = "from", value_enum)]
    pub format: Format,
    /// The zone the export's local times are in (Jira: your profile's zone; Zendesk
    /// CSV: the account's default zone).
    #[arg(long)]
    pub timezone: Option<String>,
    /// Set every ticket's customer (an Accord customer id).
    #[arg(long)]
    pub customer: Option<String>,
    /// Import nothing when any row is bad.
    #[arg(long)]
    pub strict: bool,
    /// Write the events as JSON lines to this file (for `accord replay`) instead of
    /// sending them to a server.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub server: ServerArgs,
}

pub fn tickets(args: &TicketsArgs, mut out: impl Write, mut err: impl Write) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let timezone = args
        .timezone
        .as_deref()
        .map(|z| {
            jiff::tz::TimeZone::get(z)
                .map_err(|_| anyhow::anyhow!("--timezone: unknown time zone {z:?}"))
        })
        .transpose()?;
    let opts = Options {
        timezone,
        customer: args.customer.as_deref().map(Into::into),
    };
    let shown = args.file.display();
    let imported = args
        .format
        .parse(&text, &opts)
        .map_err(|e| anyhow::anyhow!("{shown}: {e}"))?;
    for r in &imported.rejected {
        writeln!(err, "{shown}:{}: {}", r.line, r.reason)?;
    }
    if args.strict && !imported.rejected.is_empty() {
        bail!(
            "{shown}: nothing imported: {} bad rows (--strict)",
            imported.rejected.len()
        );
    }
    let (accepted, duplicates, refused) = match &args.out {
        Some(path) => (write_events(path, &imported.events)?, 0, 0),
        None => send(&args.server, &imported.events, &mut err)?,
    };
    let refused = if refused > 0 {
        format!("; {refused} events refused as conflicts")
    } else {
        String::new()
    };
    writeln!(
        out,
        "{shown}: {} tickets, {} events ({accepted} new, {duplicates} already there); {} rows rejected{refused}",
        imported.tickets,
        imported.events.len(),
        imported.rejected.len()
    )?;
    if let Some(caveat) = args.format.caveat() {
        writeln!(err, "note: {caveat}")?;
    }
    Ok(())
}

fn write_events(path: &Path, events: &[accord_core::clock::Event]) -> anyhow::Result<usize> {
    let mut file = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?,
    );
    for e in events {
        serde_json::to_writer(&mut file, e)?;
        file.write_all(b"\n")?;
    }
    file.flush()?;
    Ok(events.len())
}

/// Sends events in batches of 1,000 (each all or nothing), with a progress bar on a
/// terminal. An event the server refuses as a conflict (a repeated id with other content,
/// a second `created` for a ticket already there) is reported and left out, and the rest
/// of its batch is sent again.
fn send(
    server: &ServerArgs,
    events: &[accord_core::clock::Event],
    mut err: impl Write,
) -> anyhow::Result<(usize, usize, usize)> {
    let client = Client::new(server)?;
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(events.len() as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    let (mut accepted, mut duplicates, mut refused) = (0, 0, 0);
    for chunk in events.chunks(1000) {
        let mut batch: Vec<&accord_core::clock::Event> = chunk.iter().collect();
        loop {
            let (status, answer) =
                client.send_raw(reqwest::Method::POST, "/v1/events", Some(json!(batch)))?;
            if (200..300).contains(&status) {
                accepted += answer.get("accepted").and_then(Value::as_u64).unwrap_or(0) as usize;
                duplicates += answer
                    .get("duplicates")
                    .and_then(Value::as_u64)
                    .unwrap_or(0) as usize;
                break;
            }
            let detail = answer
                .get("detail")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let index = detail
                .strip_prefix("item ")
                .and_then(|rest| rest.split_once(':'))
                .and_then(|(n, _)| n.parse::<usize>().ok())
                .filter(|&i| status == 409 && i < batch.len());
            let Some(index) = index else {
                bail!(
                    "the server answered {status}: {}",
                    crate::client::problem_text(&answer)
                );
            };
            let event = batch.remove(index);
            let reason = detail.split_once(": ").map_or(detail, |(_, r)| r);
            writeln!(err, "event {}: refused: {reason}", event.id)?;
            refused += 1;
            if batch.is_empty() {
                break;
            }
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    Ok((accepted, duplicates, refused))
}

#[derive(Debug, clap::Args)]
pub struct OpensloArgs {
    /// The OpenSLO v1 file (Service, SLI and SLO objects).
    pub file: PathBuf,
    /// Write the objectives as SLA-as-code YAML to this file instead of adding them to
    /// the server's configuration.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub server: ServerArgs,
}

/// `accord import openslo`: the SLOs as objectives, written to `--out` or added to the
/// server's configuration as `openslo/<file name>.yaml` (importing the file again
/// replaces that file, so it changes nothing when the OpenSLO file did not change).
pub fn openslo(args: &OpensloArgs, mut out: impl Write, mut err: impl Write) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let shown = args.file.display().to_string();
    let converted = match accord_core::policy::openslo::convert(&shown, &text) {
        Ok(c) => c,
        Err(errors) => {
            for e in &errors {
                writeln!(err, "error: {e}")?;
            }
            anyhow::bail!(
                "nothing imported: {} has {} parts Accord cannot express",
                shown,
                errors.len()
            );
        }
    };
    for w in &converted.warnings {
        writeln!(err, "warning: {w}")?;
    }
    let summary = format!(
        "{} objective{} ({})",
        converted.objectives.len(),
        if converted.objectives.len() == 1 {
            ""
        } else {
            "s"
        },
        converted.objectives.join(", "),
    );
    if let Some(path) = &args.out {
        std::fs::write(path, &converted.yaml)
            .with_context(|| format!("cannot write {}", path.display()))?;
        writeln!(out, "wrote {summary} to {}", path.display())?;
        return Ok(());
    }
    let stem = args
        .file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("openslo");
    let target = format!("openslo/{stem}.yaml");
    let client = crate::client::Client::new(&args.server)?;
    let current = client.send(reqwest::Method::GET, "/v1/config", None)?;
    let mut files: Vec<serde_json::Value> = current
        .get("files")
        .and_then(serde_json::Value::as_array)
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|f| f.get("path").and_then(serde_json::Value::as_str) != Some(target.as_str()))
        .collect();
    files.push(serde_json::json!({"path": target, "text": converted.yaml}));
    let outcome = client.send(
        reqwest::Method::PUT,
        "/v1/config",
        Some(serde_json::json!({ "files": files })),
    )?;
    let changes = outcome
        .get("changes")
        .and_then(serde_json::Value::as_array)
        .map_or(0, Vec::len);
    writeln!(out, "imported {summary} as {target}: {changes} changes")?;
    Ok(())
}

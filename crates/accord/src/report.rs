//! `accord report --config DIR --events FILE… --period P [--at T] [--customer ID]
//! --format F` (DESIGN 4, a public contract): the period report offline, from ticket
//! events and service records in JSON lines; with `review-html`/`review-pdf`, the
//! review document for a customer's meeting.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use jiff::Timestamp;

use accord_core::availability::ServiceRecord;
use accord_core::clock;
use accord_core::report::{self, PeriodSpec, Report, ServiceRecords};

use crate::replay::{Place, load_config, read_stream};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The documented JSON document.
    Json,
    /// One row per agreement and objective.
    Csv,
    /// One credit note per customer, agreement, credit entry and fee period.
    CreditNotes,
    /// A page: per agreement a chart of results against targets, the objectives, the
    /// credits.
    Html,
    /// The same as a PDF document (fonts: Debian's fonts-dejavu-core, or
    /// ACCORD_FONT_DIR).
    Pdf,
    /// The review document for a customer's meeting (with --customer): summary,
    /// compliance over time, breaches by priority and cause, each breach's review
    /// questions; a page.
    ReviewHtml,
    /// The review document as a PDF.
    ReviewPdf,
}

/// Service records, and the surveys still to be given their tickets' facts.
#[derive(Default)]
pub struct Records {
    pub records: ServiceRecords,
    pub surveys_pending: Vec<accord_core::experience::Survey>,
}

/// Service records each id once: the first by arrival; a later one with other content is
/// set aside with a warning (as a conflicting ticket event is).
pub fn service_records(
    records: Vec<(ServiceRecord, Place)>,
    paths: &[PathBuf],
    mut warn: impl Write,
) -> anyhow::Result<Records> {
    let mut seen: HashMap<String, ServiceRecord> = HashMap::new();
    let mut out = Records::default();
    for (record, place) in records {
        if let Some(first) = seen.get(record.id()) {
            if *first != record {
                writeln!(
                    warn,
                    "warning: {}:{}: `{}` repeats the id of an earlier record with other content; the first is kept",
                    paths[place.file].display(),
                    place.line,
                    record.id()
                )?;
            }
            continue;
        }
        seen.insert(record.id().to_owned(), record.clone());
        out.surveys_pending.extend(out.records.push(record));
    }
    Ok(out)
}

/// What `accord report` is asked for.
pub struct Request<'a> {
    pub config_dir: &'a Path,
    pub events: &'a [PathBuf],
    pub period: &'a str,
    pub at: Option<Timestamp>,
    /// Only this customer's agreements (and the review document's customer).
    pub customer: Option<&'a str>,
    pub format: Format,
}

pub fn run(request: Request<'_>, out: impl Write, mut warn: impl Write) -> anyhow::Result<()> {
    let Request {
        config_dir,
        events,
        period,
        at,
        customer,
        format,
    } = request;
    let period: PeriodSpec = period
        .parse()
        .map_err(|e: String| anyhow::anyhow!("--period: {e}"))?;
    let config = load_config(config_dir, &mut warn)?;
    let name = match customer {
        Some(id) => Some(report::customer_name(&config, id).ok_or_else(|| {
            anyhow::anyhow!("--customer: no customer {id:?} in {}", config_dir.display())
        })?),
        None => None,
    };
    let stream = read_stream(events)?;
    let prepared = clock::prepare(stream.events);
    for (position, conflict) in &prepared.conflicts {
        let place = stream.places[*position];
        let path = events[place.file].display();
        writeln!(warn, "warning: {path}:{}: {conflict}", place.line)?;
    }
    let Records {
        mut records,
        surveys_pending,
    } = service_records(stream.records, events, &mut warn)?;
    // A survey counts for the objective its ticket's facts select at its instant.
    for survey in surveys_pending {
        let ticket_events: Vec<clock::Event> = prepared
            .ticket(&survey.ticket)
            .map(|t| t.iter().cloned().collect())
            .unwrap_or_default();
        let (facts, _) = clock::ticket_facts(&ticket_events, survey.at);
        records.surveys.push((survey, facts));
    }
    let at = at.unwrap_or_else(|| {
        report::evaluation_instant(&config, &period, accord_server::wall_clock::now())
    });
    let clocks = clock::fold_all(&config, &prepared, at);
    let ends: Vec<report::ClockEnd<'_>> = clocks.iter().map(report::ClockEnd::from).collect();
    let mut report = report::report(&config, &ends, &records, &period, at);
    if let Some(id) = customer {
        report
            .agreements
            .retain(|a| a.customer.as_deref() == Some(id));
    }
    write(&report, format, customer.zip(name), out)
}

/// Writes a report in one of the formats (`customer`: the id and name a review is for).
pub fn write(
    report: &Report,
    format: Format,
    customer: Option<(&str, &str)>,
    mut out: impl Write,
) -> anyhow::Result<()> {
    let (id, name) = (customer.map(|c| c.0), customer.map(|c| c.1));
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, report)?;
            out.write_all(b"\n")?;
        }
        Format::Csv => accord_server::report_csv::write(report, &mut out)?,
        Format::CreditNotes => accord_server::credit_notes::write(report, None, &mut out)?,
        Format::Html => {
            let page = accord_server::report_html::render(report)
                .map_err(|e| anyhow::anyhow!("cannot render the report: {e}"))?;
            out.write_all(page.as_bytes())?;
        }
        Format::Pdf => {
            let dir = accord_pdf::font_dir(std::env::var("ACCORD_FONT_DIR").ok());
            let fonts = accord_pdf::fonts(&dir)?;
            out.write_all(&accord_pdf::render(report, fonts)?)?;
        }
        Format::ReviewHtml => {
            let page = accord_server::report_html::render_review(report, id, name)
                .map_err(|e| anyhow::anyhow!("cannot render the review: {e}"))?;
            out.write_all(page.as_bytes())?;
        }
        Format::ReviewPdf => {
            let dir = accord_pdf::font_dir(std::env::var("ACCORD_FONT_DIR").ok());
            let fonts = accord_pdf::fonts(&dir)?;
            out.write_all(&accord_pdf::render_review(report, id, name, fonts)?)?;
        }
    }
    out.flush().context("cannot write the report")?;
    Ok(())
}

//! `accord`: the command-line front of Accord.
//!
//! Thin by design: it parses flags, picks the storage backend, and calls the server and
//! core libraries. `serve` and `demo` run the server; `token` talks to a running server
//! over HTTP; `default-config` prints the commented settings file.

#![forbid(unsafe_code)]

mod bench;
mod calendar;
mod cases;
mod client;
mod config;
mod examples;
mod generate;
mod import;
mod import_cmd;
mod replay;
mod report;
mod serve;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "accord",
    version,
    about = "Accord: the service-level-agreement engine"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (SQLite in the data directory unless `database_url` says otherwise).
    Serve {
        /// Address to listen on [env: ACCORD_LISTEN] [default: 127.0.0.1:8080]
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Directory for the database and accord.toml [env: ACCORD_DATA_DIR] [default: ./accord-data]
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Run a demonstration server on a fresh SQLite database in ./accord-demo.
    Demo {
        /// Address to listen on [default: 127.0.0.1:8080]
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Directory for the demo's data; emptied at every start.
        #[arg(long, default_value = "accord-demo")]
        data_dir: PathBuf,
    },
    /// Print a commented accord.toml with every setting at its default.
    DefaultConfig,
    /// Business-hours calendar tools.
    Calendar {
        #[command(subcommand)]
        action: CalendarAction,
    },
    /// Run a standard performance workload and print its figures as JSON lines
    /// (build with --release for meaningful numbers).
    Bench {
        #[command(subcommand)]
        workload: BenchWorkload,
    },
    /// Check a directory of SLA-as-code (every *.yaml in it) and print every mistake
    /// with its file, line and column, and every warning. Fails on a mistake.
    Validate {
        /// The configuration directory.
        dir: PathBuf,
    },
    /// Send a directory of SLA-as-code to a server, all or nothing, and print what changed.
    Apply {
        /// The configuration directory.
        dir: PathBuf,
        /// Show what would change without applying it.
        #[arg(long)]
        dry_run: bool,
        /// Allow changing or removing agreement versions already in force.
        #[arg(long)]
        retroactive: bool,
        #[command(flatten)]
        server: client::ServerArgs,
    },
    /// Write the server's configuration in force into a directory, file by file.
    Export {
        /// Where to write the files.
        dir: PathBuf,
        #[command(flatten)]
        server: client::ServerArgs,
    },
    /// Print every ticket's clocks as JSON lines: the agreements and calendars of a
    /// configuration directory applied to ticket events (JSON lines).
    Replay {
        /// The configuration directory (every *.yaml in it).
        #[arg(long)]
        config: PathBuf,
        /// Ticket events, one JSON object per line (repeat to read several files, in order).
        #[arg(long, required = true)]
        events: Vec<PathBuf>,
        /// Evaluate as of this instant (RFC 3339); events after it are ignored.
        /// Default: now.
        #[arg(long)]
        at: Option<jiff::Timestamp>,
    },
    /// The period report: per agreement and objective, ticket compliance, availability
    /// and credits, from ticket events and outage and maintenance records (JSON lines).
    Report {
        /// The configuration directory (every *.yaml in it).
        #[arg(long)]
        config: PathBuf,
        /// Ticket events and service records, one JSON object per line (repeat to read
        /// several files, in order).
        #[arg(long, required = true)]
        events: Vec<PathBuf>,
        /// 2026-11, 2026-W45, 2026-Q4, 2026, 2026-11-01..2026-11-15 (inclusive local
        /// dates) or 30d (the last 30 × 24 h).
        #[arg(long)]
        period: String,
        /// Evaluate as of this instant (RFC 3339). Default: now, or the period's end
        /// when that is earlier.
        #[arg(long)]
        at: Option<jiff::Timestamp>,
        /// Only this customer's agreements (the review document's customer).
        #[arg(long)]
        customer: Option<String>,
        #[arg(long, value_enum, default_value = "json")]
        format: report::Format,
    },
    /// Write a realistic synthetic ticket history as JSON lines (customers, services and
    /// teams of the built-in examples), for demos and benchmarks.
    Generate {
        #[command(flatten)]
        args: generate::GenerateArgs,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Bring in history from elsewhere.
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Work breach cases on a running server: list them per customer and period, show
    /// one, record a step of the response.
    Cases {
        #[command(flatten)]
        server: client::ServerArgs,
        #[command(subcommand)]
        action: cases::CaseAction,
    },
    /// Create, list and revoke API tokens on a running server (needs an admin token).
    Token {
        #[command(flatten)]
        server: client::ServerArgs,
        #[command(subcommand)]
        action: client::TokenAction,
    },
}

#[derive(Debug, Subcommand)]
enum CalendarAction {
    /// Answer business-time questions: JSON lines on stdin, one JSON line out per input
    /// line (add, elapsed, is_open, next_business, prev_business). See the README.
    Eval,
    /// Print a calendar's open intervals over a date range in its local time, with the
    /// holidays and special hours that shape them.
    Show {
        /// A YAML (or JSON) file of SLA-as-code holding the calendar, or `24x7`.
        source: String,
        /// The calendar's id, when the file has several.
        #[arg(long)]
        id: Option<String>,
        /// First local date shown (default: today, UTC).
        #[arg(long)]
        from: Option<jiff::civil::Date>,
        /// Last local date shown (default: 13 days after --from).
        #[arg(long)]
        to: Option<jiff::civil::Date>,
    },
}

#[derive(Debug, Subcommand)]
enum BenchWorkload {
    /// add(start, 8h) and elapsed(start, start + 7 days) for 100,000 starts on Mon-Fri
    /// 09:00-17:00 America/New_York with the 2025 US holidays.
    Calendar {
        /// Starts to use instead of the default: one epoch second per line.
        #[arg(long)]
        starts: Option<PathBuf>,
        /// Write the add results here, one epoch second per line.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// A generated history (about 5.4 events a ticket: replies, pauses, hand-offs,
    /// reopenings, late and duplicate events) folded into clocks: in memory, and from a
    /// JSON-lines file as `accord replay` reads it.
    Replay {
        /// Number of tickets.
        #[arg(long, default_value_t = 1_000_000)]
        tickets: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// A generated history posted over HTTP in batches of 1,000 to a server on SQLite
    /// (in this process, on loopback), each batch answered once durable.
    Ingest {
        /// Number of tickets (about 5.4 events each).
        #[arg(long, default_value_t = 100_000)]
        tickets: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Clients posting at once, each its share of the batches one after another (the
        /// standard workload is one).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=256))]
        clients: u16,
    },
    /// The period report over a month of N generated tickets (and a month of outages and
    /// surveys): the clocks are folded first, untimed; then the report is timed.
    Report {
        /// Number of tickets created in the month.
        #[arg(long, default_value_t = 1_000_000)]
        tickets: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// The watcher over N running clocks on SQLite: memory per clock, CPU while nothing
    /// is due, and how late each of a sample of notices falling due is queued.
    Watch {
        /// Running clocks (each with a warning and a breach ahead).
        #[arg(long, default_value_t = 1_000_000)]
        clocks: usize,
        /// Notices falling due during the measurement (over 10 s).
        #[arg(long, default_value_t = 1_000)]
        sample: usize,
    },
}

#[derive(Debug, Subcommand)]
enum ImportWhat {
    /// Ticket history from a help-desk export (Jira, Zendesk) or a generic CSV: to a
    /// server, or with --out to a JSON-lines file. Bad rows are reported and skipped.
    Tickets(import_cmd::TicketsArgs),
    /// OpenSLO v1 SLOs as availability objectives: added to the server's configuration,
    /// or with --out written as SLA-as-code YAML. What Accord cannot express is refused,
    /// naming the field.
    Openslo(import_cmd::OpensloArgs),
}

fn calendar_command(action: CalendarAction) -> anyhow::Result<()> {
    match action {
        CalendarAction::Eval => {
            let stdin = std::io::stdin();
            let stdout = std::io::BufWriter::new(std::io::stdout().lock());
            calendar::eval(stdin, stdout)?;
            Ok(())
        }
        CalendarAction::Show {
            source,
            id,
            from,
            to,
        } => {
            let from = match from {
                Some(d) => d,
                None => accord_server::wall_clock::now()
                    .to_zoned(jiff::tz::TimeZone::UTC)
                    .date(),
            };
            let to = match to {
                Some(d) => d,
                None => from.checked_add(jiff::Span::new().days(13))?,
            };
            calendar::show(&source, id.as_deref(), from, to, std::io::stdout().lock())
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve { listen, data_dir } => serve::run(serve::Mode::Serve, listen, data_dir),
        Command::Demo { listen, data_dir } => serve::run(serve::Mode::Demo, listen, Some(data_dir)),
        Command::DefaultConfig => {
            print!("{}", accord_server::settings::DEFAULT_CONFIG);
            Ok(())
        }
        Command::Token { server, action } => client::token(&server, action),
        Command::Cases { server, action } => cases::run(&server, action),
        Command::Calendar { action } => calendar_command(action),
        Command::Validate { dir } => config::validate(&dir, std::io::stdout().lock()),
        Command::Apply {
            dir,
            dry_run,
            retroactive,
            server,
        } => config::apply(
            &server,
            &dir,
            dry_run,
            retroactive,
            std::io::stdout().lock(),
        ),
        Command::Export { dir, server } => config::export(&server, &dir, std::io::stdout().lock()),
        Command::Generate { args, out } => (|| {
            let spec = args.spec(accord_server::wall_clock::now())?;
            let n = match &out {
                Some(path) => {
                    generate::write(&spec, std::io::BufWriter::new(std::fs::File::create(path)?))?
                }
                None => generate::write(&spec, std::io::BufWriter::new(std::io::stdout().lock()))?,
            };
            eprintln!("{n} events for {} tickets", spec.tickets);
            Ok(())
        })(),
        Command::Import {
            what: ImportWhat::Tickets(args),
        } => import_cmd::tickets(&args, std::io::stdout().lock(), std::io::stderr().lock()),
        Command::Import {
            what: ImportWhat::Openslo(args),
        } => import_cmd::openslo(&args, std::io::stdout().lock(), std::io::stderr().lock()),
        Command::Replay { config, events, at } => {
            let at = at.unwrap_or_else(accord_server::wall_clock::now);
            replay::run(
                &config,
                &events,
                at,
                std::io::BufWriter::new(std::io::stdout().lock()),
                std::io::stderr().lock(),
            )
        }
        Command::Report {
            config,
            events,
            period,
            at,
            customer,
            format,
        } => report::run(
            report::Request {
                config_dir: &config,
                events: &events,
                period: &period,
                at,
                customer: customer.as_deref(),
                format,
            },
            std::io::BufWriter::new(std::io::stdout().lock()),
            std::io::stderr().lock(),
        ),
        Command::Bench { workload } => match workload {
            BenchWorkload::Calendar { starts, out } => {
                bench::calendar(starts.as_deref(), out.as_deref(), std::io::stdout().lock())
            }
            BenchWorkload::Replay { tickets, seed } => {
                bench::replay(tickets, seed, std::io::stdout().lock())
            }
            BenchWorkload::Ingest {
                tickets,
                seed,
                clients,
            } => bench::ingest(tickets, seed, clients.into(), std::io::stdout().lock()),
            BenchWorkload::Report { tickets, seed } => {
                bench::report(tickets, seed, std::io::stdout().lock())
            }
            BenchWorkload::Watch { clocks, sample } => {
                bench::watch(clocks, sample, std::io::stdout().lock())
            }
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

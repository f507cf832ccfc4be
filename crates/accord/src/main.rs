//! `accord`: the command-line front of Accord.
//!
//! Thin by design: it parses flags, picks the storage backend, and calls the server and
//! core libraries. `serve` and `demo` run the server; `token` talks to a running server
//! over HTTP; `default-config` prints the commented settings file.

#![forbid(unsafe_code)]

mod client;
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
    /// Create, list and revoke API tokens on a running server (needs an admin token).
    Token {
        #[command(flatten)]
        server: client::ServerArgs,
        #[command(subcommand)]
        action: client::TokenAction,
    },
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
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

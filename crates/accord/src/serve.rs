//! `accord serve` and `accord demo`: settings, backend, first-start token, the server.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use secrecy::ExposeSecret;
use tracing_subscriber::EnvFilter;

use accord_server::settings::{Flags, LogFormat, Settings};
use accord_server::{AppState, Bootstrap};
use accord_store_sqlite::SqliteStore;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Serve,
    Demo,
}

pub fn run(
    mode: Mode,
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
) -> anyhow::Result<()> {
    let mut settings = Settings::from_env(&Flags { listen, data_dir })?;
    if mode == Mode::Demo {
        // The demo always starts from nothing, so it always shows its admin token.
        reset_demo_dir(&settings.data_dir)?;
        settings.admin_token = None;
    }
    init_logs(&settings)?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(serve(mode, settings))
}

fn reset_demo_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        // Only ever empty a directory that is recognisably a demo's (or empty).
        let marker = dir.join(".accord-demo");
        let empty = std::fs::read_dir(dir)?.next().is_none();
        if !marker.exists() && !empty {
            bail!(
                "{} exists and is not an Accord demo directory; choose another with --data-dir",
                dir.display()
            );
        }
        std::fs::remove_dir_all(dir)
            .with_context(|| format!("cannot empty the demo directory {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the demo directory {}", dir.display()))?;
    std::fs::write(
        dir.join(".accord-demo"),
        "made by `accord demo`; emptied at its next start\n",
    )?;
    Ok(())
}

fn init_logs(settings: &Settings) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(&settings.log)
        .with_context(|| format!("log filter {:?} does not parse", settings.log))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match settings.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    Ok(())
}

/// Where the SQLite file is: `database_url` (`sqlite://PATH` or `sqlite:PATH`) or
/// `accord.db` in the data directory.
fn sqlite_path(settings: &Settings) -> anyhow::Result<PathBuf> {
    let Some(url) = &settings.database_url else {
        return Ok(settings.data_dir.join(accord_store_sqlite::DATABASE_FILE));
    };
    let url = url.expose_secret();
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        return Ok(PathBuf::from(path));
    }
    let scheme = url.split(':').next().unwrap_or_default();
    bail!(
        "database_url: the scheme {scheme:?} is not supported by this build \
         (use sqlite://PATH, or leave it unset for accord.db in the data directory)"
    )
}

async fn serve(mode: Mode, settings: Settings) -> anyhow::Result<()> {
    std::fs::create_dir_all(&settings.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            settings.data_dir.display()
        )
    })?;
    let path = sqlite_path(&settings)?;
    let store = SqliteStore::open(&path).await?;
    tracing::info!(database = %path.display(), "database ready");

    let bootstrap = accord_server::bootstrap_admin(&store, settings.admin_token.as_ref()).await?;

    let mut state = AppState::open(store.clone()).await?;
    // The provider's templates (a broken one stops the start, naming its file and line).
    state.templates = std::sync::Arc::new(accord_server::email::Templates::load(Some(
        &settings.data_dir.join("templates"),
    ))?);
    state.probe_failures = settings.probe_failures;
    if mode == Mode::Demo {
        let outcome = accord_server::api::config::apply_files(
            &state,
            &accord_store::Actor::System,
            crate::examples::files(),
            false,
            false,
        )
        .await
        .map_err(|e| anyhow::anyhow!("the built-in examples do not apply: {e}"))?;
        tracing::info!(
            documents = outcome.changes.len(),
            revision = outcome.revision,
            "applied the built-in examples"
        );
        demo_history(&state).await?;
    }
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let addr = listener.local_addr()?;
    let url = format!("http://{addr}");

    // Printed on stdout (never in the logs) so an installer can capture it.
    println!("Accord is listening on {url}");
    match &bootstrap {
        Bootstrap::Created {
            secret,
            supplied: false,
        } => {
            println!(
                "Admin token (shown once, keep it safe): {}",
                secret.expose_secret()
            );
        }
        Bootstrap::Created { supplied: true, .. } => {
            println!("Admin token: the one given in ACCORD_ADMIN_TOKEN");
        }
        Bootstrap::Existing => {}
    }
    println!("Data directory: {}", settings.data_dir.display());
    if mode == Mode::Demo {
        println!(
            "Configuration: the examples of a managed-service provider (accord export DIR writes them out)"
        );
        if let Bootstrap::Created { secret, .. } = &bootstrap {
            println!();
            println!("Try it:");
            println!("  curl {url}/healthz");
            println!(
                "  curl -H 'Authorization: Bearer {}' {url}/v1/agreements",
                secret.expose_secret()
            );
            println!(
                "  curl -H 'Authorization: Bearer {}' '{url}/v1/clocks?order=time_left&state=running'",
                secret.expose_secret()
            );
            println!(
                "  ACCORD_SERVER={url} ACCORD_TOKEN={} accord cases list --state open",
                secret.expose_secret()
            );
        }
        println!("Press Ctrl-C to stop.");
    }

    let delivery = settings.delivery()?;
    let _notifications = state.start_notifications(delivery);
    let router = accord_server::router(state, settings.max_body_bytes);
    accord_server::serve(listener, router, accord_server::shutdown_signal()).await?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Tickets in the demo: created over the last 30 days and the next few hours.
const DEMO_TICKETS: usize = 600;

/// Ingests a generated month of history up to now, and feeds the rest (events whose time
/// has not come: new tickets, replies, resolutions) in live as their moment arrives.
async fn demo_history(state: &AppState<SqliteStore>) -> anyhow::Result<()> {
    use accord_core::synthetic::{Spec, generate};
    let now = accord_server::wall_clock::now();
    let from = jiff::Timestamp::from_second(now.as_second() - 30 * 86_400)?;
    let until = jiff::Timestamp::from_second(now.as_second() + 6 * 3600)?;
    let spec = Spec::examples(DEMO_TICKETS, from, until, now.as_second().unsigned_abs());
    let (past, mut future): (Vec<_>, Vec<_>) = generate(&spec).partition(|e| e.at <= now);
    let mut accepted = 0;
    for batch in past.chunks(1000) {
        let answer = accord_server::api::events::ingest(state, batch.to_vec(), Vec::new())
            .await
            .map_err(|e| anyhow::anyhow!("the demo history does not ingest: {e}"))?;
        accepted += answer.accepted;
    }
    future.sort_by_key(|e| e.at);
    println!(
        "History: {accepted} events of {DEMO_TICKETS} tickets over the last 30 days; {} more arrive live over the next hours",
        future.len()
    );
    let live = state.clone();
    tokio::spawn(async move {
        for event in future {
            let wait = event.at.as_second() - accord_server::wall_clock::now().as_second();
            if wait > 0 {
                tokio::time::sleep(std::time::Duration::from_secs(wait.unsigned_abs())).await;
            }
            if let Err(e) = accord_server::api::events::ingest(&live, vec![event], Vec::new()).await
            {
                tracing::warn!(error = %e, "a live demo event was refused");
            }
        }
    });
    Ok(())
}

//! Accord's HTTP server.
//!
//! A library, so the binary and the tests start the same server: [`serve`] runs it on any
//! listener until a shutdown signal. It is generic over [`accord_store::Store`]; only the
//! binary chooses a backend. Everything under `/v1` needs a bearer token (see
//! [`extract::Caller`]); every error is an RFC 9457 problem document ([`error`]).

#![forbid(unsafe_code)]

pub mod api;
pub mod burn;
pub mod credit_notes;
pub mod email;
pub mod error;
pub mod extract;
pub mod live_config;
pub mod notify;
pub mod report_csv;
pub mod report_html;
pub mod service_records;
pub mod settings;
pub mod telemetry;
pub mod ticket_clocks;
pub mod token;
pub mod wall_clock;

use std::future::Future;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use metrics_exporter_prometheus::PrometheusHandle;
use secrecy::{ExposeSecret, SecretString};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use accord_store::{NewToken, Scope, Store, StoreError};

use crate::error::ApiError;

/// What every handler can reach.
pub struct AppState<S> {
    pub store: S,
    pub metrics: PrometheusHandle,
    /// The SLA-as-code in force.
    pub config: live_config::ConfigHandle,
    /// The clock deriver: derivations queued or running after their events were
    /// acknowledged.
    pub pending: ticket_clocks::Pending,
    /// Wakes the watcher and the courier ([`notify`]).
    pub wake: notify::Wake,
    /// Templates in force (built in unless the data directory has its own).
    pub templates: std::sync::Arc<email::Templates>,
    /// Failed probes in a row that make an outage (`probe_failures`).
    pub probe_failures: u32,
}

impl<S: Clone> Clone for AppState<S> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            metrics: self.metrics.clone(),
            config: self.config.clone(),
            pending: self.pending.clone(),
            wake: self.wake.clone(),
            templates: self.templates.clone(),
            probe_failures: self.probe_failures,
        }
    }
}

impl<S: Store> AppState<S> {
    /// The state for `store`, with the configuration it holds loaded.
    pub async fn open(store: S) -> Result<Self, StoreError> {
        let config = live_config::ConfigHandle::default();
        config.load_from(&store).await?;
        let wake = notify::Wake::default();
        let pending = ticket_clocks::Pending::start(
            store.clone(),
            config.clone(),
            wake.clocks_changed.clone(),
        );
        // A restart re-derives every clock (one cut short by a stop is then current again).
        pending.derive(store.ticket_ids().await?);
        Ok(Self {
            store,
            metrics: telemetry::prometheus(),
            config,
            pending,
            wake,
            templates: std::sync::Arc::new(
                email::Templates::load(None)
                    .map_err(|e| StoreError::Backend(format!("built-in templates: {e}")))?,
            ),
            probe_failures: 3,
        })
    }

    /// Starts the watcher and the courier (warnings, breaches and escalations told to
    /// their targets): `accord serve` does; tests of other things need not.
    pub fn start_notifications(
        &self,
        settings: notify::DeliverySettings,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        let mut tasks = notify::start(
            self.store.clone(),
            self.config.clone(),
            self.pending.clone(),
            self.wake.clone(),
            settings,
        );
        tasks.push(burn::start(
            self.store.clone(),
            self.config.clone(),
            self.wake.clone(),
            self.probe_failures,
        ));
        tasks
    }
}

/// The whole application: routes, problem-document fallbacks, body limit, request logs,
/// metrics and the panic safety net.
pub fn router<S: Store>(state: AppState<S>, max_body_bytes: usize) -> Router {
    api::routes::<S>()
        .fallback(|uri: axum::http::Uri| async move {
            ApiError::NotFound(format!("no route for {}", uri.path()))
        })
        .method_not_allowed_fallback(|method: Method| async move {
            ApiError::MethodNotAllowed(method.to_string())
        })
        .with_state(state)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(axum::middleware::from_fn(telemetry::track))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(CatchPanicLayer::custom(telemetry::panic_response))
}

/// Serves `router` on `listener` until `shutdown` completes, then finishes the requests
/// in flight and returns.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing requests in flight");
}

/// The outcome of the first-start check.
#[derive(Debug)]
pub enum Bootstrap {
    /// First start: this admin token was created (generated, or the one supplied through
    /// `ACCORD_ADMIN_TOKEN`). Print it once; it is never shown again.
    Created {
        secret: SecretString,
        supplied: bool,
    },
    /// Not the first start: nothing was created.
    Existing,
}

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("{0}")]
    BadSuppliedToken(String),
    #[error(transparent)]
    Randomness(#[from] token::RandomnessError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// On the first start of a database, creates the admin token (atomically: several nodes
/// starting at once create one). `supplied` is `ACCORD_ADMIN_TOKEN`, used when set.
pub async fn bootstrap_admin<S: Store>(
    store: &S,
    supplied: Option<&SecretString>,
) -> Result<Bootstrap, BootstrapError> {
    let (secret, is_supplied) = match supplied {
        Some(s) => {
            token::check_supplied(s).map_err(BootstrapError::BadSuppliedToken)?;
            (s.clone(), true)
        }
        None => (token::generate_secret()?, false),
    };
    let new = NewToken {
        id: token::generate_id()?,
        label: "first admin token".into(),
        scope: Scope::Admin,
        customer: None,
        digest: token::digest(secret.expose_secret()),
    };
    if store.bootstrap_admin(new, wall_clock::now()).await? {
        Ok(Bootstrap::Created {
            secret,
            supplied: is_supplied,
        })
    } else {
        Ok(Bootstrap::Existing)
    }
}

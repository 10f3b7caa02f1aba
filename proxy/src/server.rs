//! `powerpulse serve`: the store, the job worker and the HTTP server, with graceful shutdown.

use std::sync::Arc;
use std::time::Duration;

use powerpulse_shared::Options;
use tokio_util::sync::CancellationToken;

use crate::ai::AiEngine;
use crate::analysis::Analysis;
use crate::cache::MetricsCache;
use crate::config::Config;
use crate::http::{app, AppState};
use crate::jobs::Jobs;
use crate::store::Store;

/// A start-up failure.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The store cannot be opened.
    #[error("cannot open the store: {0}")]
    Store(#[from] crate::store::StoreError),
    /// The address cannot be bound, or serving failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The topic taxonomy file is unusable.
    #[error("{0}")]
    Taxonomy(String),
}

/// The pipeline options of the configuration.
pub fn pipeline_options(config: &Config) -> Result<Options, ServeError> {
    crate::pipeline::options(
        config.autoresponse_patterns.as_deref(),
        config.topics_file.as_deref(),
    )
    .map_err(|e| ServeError::Taxonomy(format!("TOPICS_FILE {e}")))
}

/// Builds the application state and starts the job worker.
pub async fn state(
    config: Config,
    shutdown: CancellationToken,
) -> Result<(AppState, tokio::task::JoinHandle<()>), ServeError> {
    let options = pipeline_options(&config)?;
    let store = Store::connect(&config.database_url).await?;
    let lease = Duration::from_millis(
        std::env::var("JOB_LEASE_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(60_000),
    );
    let cache = Arc::new(MetricsCache::default());
    let analysis =
        AiEngine::new(&config.ai).map(|e| Arc::new(Analysis::new(e, Some(store.clone()))));
    let jobs = Jobs::new(
        store.clone(),
        analysis.clone(),
        config.worker_id.clone(),
        shutdown,
        lease,
    );
    let worker = tokio::spawn(jobs.clone().supervise());
    // In the background: a slow or unreachable provider must not delay the start.
    if let Some(analysis) = analysis.clone() {
        tokio::spawn(async move { analysis.check_model().await });
    }
    let state = AppState {
        uploads: Arc::new(tokio::sync::Semaphore::new(config.max_concurrent_uploads)),
        store,
        config: Arc::new(config),
        options: Arc::new(options),
        cache,
        jobs,
        analysis,
    };
    Ok((state, worker))
}

/// Runs the server until SIGTERM or Ctrl-C, then finishes requests in flight and stops.
pub async fn serve(config: Config) -> Result<(), ServeError> {
    let shutdown = CancellationToken::new();
    let addr = config.addr;
    let app_dir = config.app_dir.clone();
    let (state, worker) = state(config, shutdown.clone()).await?;
    let store = state.store.clone();
    tracing::info!(
        %addr,
        store = store.kind().name(),
        analyzer = %state.analyzer(),
        app = %app_dir.display(),
        "PowerPulse listening"
    );
    if !app_dir.join("index.html").exists() {
        tracing::warn!(app = %app_dir.display(), "no built web app here (run scripts/build-app); the API works without it");
    }
    let grace = Duration::from_secs(state.config.shutdown_grace_secs);
    let timeout = Duration::from_secs(state.config.request_timeout_secs);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let stop = shutdown.clone();
    let server = axum::serve(
        listener,
        app(state).layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            timeout,
        )),
    )
    .with_graceful_shutdown(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        stop.cancel();
    });
    // Requests in flight get `SHUTDOWN_GRACE_SECS` to finish; a stuck client cannot hold the
    // process up longer.
    let deadline = shutdown.clone();
    tokio::select! {
        r = server => r?,
        () = async move {
            deadline.cancelled().await;
            tokio::time::sleep(grace).await;
        } => tracing::warn!(grace_secs = grace.as_secs(), "shutdown deadline passed: closing the connections still open"),
    }
    shutdown.cancel();
    let _ = worker.await;
    store.close().await;
    Ok(())
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("signal handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

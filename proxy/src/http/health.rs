//! `GET /health`: 200 only when the store answers; names the store and the analyzer.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;

use super::AppState;

/// Health report (no secrets).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` or `unavailable`.
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    pub store: &'static str,
    /// `builtin`, `gemini:<model>` or `openai:<model>`.
    pub analyzer: String,
    /// Whether AI analysis is available (`POST /api/analyze`).
    pub ai: bool,
    /// Server version.
    pub version: &'static str,
    /// The metric definitions version.
    pub definitions: &'static str,
    /// Times the background job worker died and was restarted since start-up.
    pub worker_restarts: u64,
    /// Why it last died, if it did.
    pub worker_last_failure: Option<String>,
    /// Whether the provider lists the configured model (none without a provider).
    pub ai_model: Option<crate::ai::model_check::ModelCheck>,
}

/// Health of the server and its store.
#[utoipa::path(
    get,
    path = "/health",
    tag = "health",
    responses((status = 200, body = Health), (status = 503, body = Health))
)]
pub async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let ok = state.store.ping().await.is_ok();
    let (worker_restarts, worker_last_failure) = state.jobs.worker_restarts();
    let body = Health {
        status: if ok { "ok" } else { "unavailable" },
        store: state.store.kind(),
        analyzer: state.analyzer(),
        ai: state.analysis.is_some(),
        version: env!("CARGO_PKG_VERSION"),
        definitions: powerpulse_shared::DEFINITIONS_VERSION,
        worker_restarts,
        worker_last_failure,
        ai_model: state.analysis.as_ref().map(|a| a.model_check()),
    };
    (
        if ok {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        Json(body),
    )
}

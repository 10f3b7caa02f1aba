//! `GET /health`: 200 only when the store answers; names the store and the analyzer.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use powerpulse_shared::wire::{Health, HealthStatus};

use super::AppState;

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
        status: if ok {
            HealthStatus::Ok
        } else {
            HealthStatus::Unavailable
        },
        store: state.store.kind(),
        analyzer: state.analyzer(),
        ai: state.analysis.is_some(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        definitions: powerpulse_shared::DEFINITIONS_VERSION.to_owned(),
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

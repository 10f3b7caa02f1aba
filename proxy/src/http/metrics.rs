//! `GET /api/metrics`, `/api/metrics/daily`, `/api/metrics/agents`: the shared crate's figures
//! over the store's rollups (`crate::metrics`), so they equal the CLI's and the browser's.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use powerpulse_shared::{AgentRow, DailyRow, Filter, FilterParams, MetricsReport};
use serde::Serialize;

use super::{ApiError, ApiFilter, AppState};

/// The per-day series.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DailyResponse {
    /// One row per local day, first to last (quiet days included).
    pub days: Vec<DailyRow>,
    /// The filters applied.
    pub filters: Filter,
    /// The definitions version.
    pub definitions: &'static str,
}

/// The per-agent table.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AgentsResponse {
    /// Busiest agents first.
    pub agents: Vec<AgentRow>,
    /// The filters applied.
    pub filters: Filter,
    /// The definitions version.
    pub definitions: &'static str,
}

/// Computes (or takes from the cache) a JSON response of `kind` under `filter`.
async fn cached_json<Fut>(
    state: &AppState,
    kind: &str,
    filter: &Filter,
    compute: Fut,
) -> Result<Response, ApiError>
where
    Fut: std::future::Future<Output = crate::store::Result<Vec<u8>>>,
{
    let key = format!(
        "{kind}:{}",
        serde_json::to_string(filter).expect("filters serialize")
    );
    let body = state
        .cache
        .response_or(&state.store, key, || compute)
        .await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// Dataset metrics over the selected conversations.
#[utoipa::path(
    get,
    path = "/api/metrics",
    tag = "metrics",
    params(FilterParams),
    responses((status = 200, body = MetricsReport), (status = 422, body = super::error::ErrorBody)),
    security((), ("bearer" = []))
)]
pub async fn metrics(
    State(state): State<AppState>,
    ApiFilter(f): ApiFilter,
) -> Result<Response, ApiError> {
    let compute = async {
        let m = crate::metrics::dataset(&state.store, &f).await?;
        Ok(serde_json::to_vec(&m).expect("metrics serialize"))
    };
    cached_json(&state, "metrics", &f, compute).await
}

/// The daily series: each day's figures over conversations whose first message falls on it.
#[utoipa::path(
    get,
    path = "/api/metrics/daily",
    tag = "metrics",
    params(FilterParams),
    responses((status = 200, body = DailyResponse), (status = 422, body = super::error::ErrorBody)),
    security((), ("bearer" = []))
)]
pub async fn daily(
    State(state): State<AppState>,
    ApiFilter(f): ApiFilter,
) -> Result<Response, ApiError> {
    let compute = async {
        let r = DailyResponse {
            days: crate::metrics::daily(&state.store, &f).await?,
            filters: f.clone(),
            definitions: powerpulse_shared::DEFINITIONS_VERSION,
        };
        Ok(serde_json::to_vec(&r).expect("rows serialize"))
    };
    cached_json(&state, "daily", &f, compute).await
}

/// The per-agent table: conversations, replies, reply gap and turn statistics, CSAT.
#[utoipa::path(
    get,
    path = "/api/metrics/agents",
    tag = "metrics",
    params(FilterParams),
    responses((status = 200, body = AgentsResponse), (status = 422, body = super::error::ErrorBody)),
    security((), ("bearer" = []))
)]
pub async fn agents(
    State(state): State<AppState>,
    ApiFilter(f): ApiFilter,
) -> Result<Response, ApiError> {
    let compute = async {
        let r = AgentsResponse {
            agents: crate::metrics::agents(&state.store, &f).await?,
            filters: f.clone(),
            definitions: powerpulse_shared::DEFINITIONS_VERSION,
        };
        Ok(serde_json::to_vec(&r).expect("rows serialize"))
    };
    cached_json(&state, "agents", &f, compute).await
}

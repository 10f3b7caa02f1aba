//! `GET /api/metrics`, `/api/metrics/daily`, `/api/metrics/agents`: the shared crate's figures
//! over the stored conversations, so they equal the CLI's and the browser's.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use powerpulse_shared::{
    agent_metrics, compute_metrics, daily_metrics, AgentRow, DailyRow, Filter, MetricsReport,
};
use serde::{Deserialize, Serialize};

use super::{ApiError, ApiQuery, AppState};

/// Filters of the metrics endpoints.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct MetricsParams {
    /// First day (YYYY-MM-DD, inclusive) of the conversations' first message.
    pub start_date: Option<String>,
    /// Last day (YYYY-MM-DD, inclusive).
    pub end_date: Option<String>,
    /// Only conversations this agent replied in.
    pub agent: Option<String>,
    /// Only conversations carrying this topic.
    pub topic: Option<String>,
    /// Time zone of the dates (IANA name; default `TIMEZONE`, else UTC).
    pub tz: Option<String>,
    /// Only satisfied conversations (score 4 or 5).
    pub satisfied_only: Option<bool>,
}

impl MetricsParams {
    /// The shared filter, or a 422 naming the parameter.
    pub fn to_filter(&self, default_tz: &str) -> Result<Filter, ApiError> {
        let mut f = Filter::from_params(
            self.start_date.as_deref(),
            self.end_date.as_deref(),
            Some(self.tz.as_deref().unwrap_or(default_tz)),
            self.agent.as_deref(),
            self.topic.as_deref(),
        )
        .map_err(ApiError::Invalid)?;
        f.satisfied_only = self.satisfied_only.unwrap_or(false);
        Ok(f)
    }
}

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

/// Computes (or takes from the cache) a JSON response over the current snapshot.
async fn cached_json(
    state: &AppState,
    kind: &str,
    filter: Filter,
    compute: impl FnOnce(&crate::cache::Snapshot, Filter) -> Vec<u8> + Send + 'static,
) -> Result<Response, ApiError> {
    let key = format!(
        "{kind}:{}",
        serde_json::to_string(&filter).expect("filters serialize")
    );
    let compute = move |snap: &crate::cache::Snapshot| compute(snap, filter);
    let body = state.cache.response_or(&state.store, key, compute).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// Dataset metrics over the selected conversations.
#[utoipa::path(
    get,
    path = "/api/metrics",
    tag = "metrics",
    params(MetricsParams),
    responses((status = 200, body = MetricsReport), (status = 422, body = super::error::ErrorBody)),
    security((), ("bearer" = []))
)]
pub async fn metrics(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<MetricsParams>,
) -> Result<Response, ApiError> {
    let f = p.to_filter(state.config.timezone.name())?;
    cached_json(&state, "metrics", f, |snap, f| {
        let m = compute_metrics(snap.iter(), &f, snap.filtered, snap.last_updated.clone());
        serde_json::to_vec(&m).expect("metrics serialize")
    })
    .await
}

/// The daily series: each day's figures over conversations whose first message falls on it.
#[utoipa::path(
    get,
    path = "/api/metrics/daily",
    tag = "metrics",
    params(MetricsParams),
    responses((status = 200, body = DailyResponse), (status = 422, body = super::error::ErrorBody)),
    security((), ("bearer" = []))
)]
pub async fn daily(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<MetricsParams>,
) -> Result<Response, ApiError> {
    let f = p.to_filter(state.config.timezone.name())?;
    cached_json(&state, "daily", f, |snap, f| {
        let r = DailyResponse {
            days: daily_metrics(snap.iter(), &f),
            filters: f,
            definitions: powerpulse_shared::DEFINITIONS_VERSION,
        };
        serde_json::to_vec(&r).expect("rows serialize")
    })
    .await
}

/// The per-agent table: conversations, replies, reply gap and turn statistics, CSAT.
#[utoipa::path(
    get,
    path = "/api/metrics/agents",
    tag = "metrics",
    params(MetricsParams),
    responses((status = 200, body = AgentsResponse), (status = 422, body = super::error::ErrorBody)),
    security((), ("bearer" = []))
)]
pub async fn agents(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<MetricsParams>,
) -> Result<Response, ApiError> {
    let f = p.to_filter(state.config.timezone.name())?;
    cached_json(&state, "agents", f, |snap, f| {
        let r = AgentsResponse {
            agents: agent_metrics(snap.iter(), &f),
            filters: f,
            definitions: powerpulse_shared::DEFINITIONS_VERSION,
        };
        serde_json::to_vec(&r).expect("rows serialize")
    })
    .await
}

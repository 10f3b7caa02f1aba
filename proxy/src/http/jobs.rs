//! `GET /api/jobs/{id}` (live progress), `DELETE /api/jobs/{id}` (cancel, which stops calls at
//! once), `GET /api/progress/{upload_id}` (the job of an upload).

use axum::extract::{Path, State};
use axum::Json;
use serde::Serialize;

use super::{ApiError, AppState};
use crate::store::JobRow;

/// A job's progress.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JobStatus {
    /// The stored job.
    #[serde(flatten)]
    pub job: JobRow,
    /// Conversations not yet handled.
    pub remaining: i64,
    /// Done / total x 100.
    pub percent: f64,
    /// Input tokens per conversation sent so far.
    pub input_tokens_per_conversation: Option<f64>,
}

impl From<JobRow> for JobStatus {
    fn from(job: JobRow) -> Self {
        let handled = job.done + job.failed;
        JobStatus {
            remaining: (job.total - handled).max(0),
            percent: if job.total == 0 {
                100.0
            } else {
                (handled as f64 * 10000.0 / job.total as f64).round() / 100.0
            },
            input_tokens_per_conversation: (job.done > 0)
                .then(|| job.input_tokens as f64 / job.done as f64),
            job,
        }
    }
}

/// A job's progress: status, stage, done/total, calls, retries, failures, tokens, cost.
#[utoipa::path(
    get,
    path = "/api/jobs/{id}",
    tag = "jobs",
    params(("id" = String, Path, description = "Job id")),
    responses((status = 200, body = JobStatus), (status = 404, body = super::error::ErrorBody)),
    security((), ("bearer" = []))
)]
pub async fn get_job(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<JobStatus>, ApiError> {
    match state.store.get_job(&id).await? {
        Some(j) => Ok(Json(j.into())),
        None => Err(ApiError::NotFound(format!("no job with id {id:?}"))),
    }
}

/// Cancels a job: queued work is dropped and calls in flight are abandoned.
#[utoipa::path(
    delete,
    path = "/api/jobs/{id}",
    tag = "jobs",
    params(("id" = String, Path, description = "Job id")),
    responses((status = 200, body = JobStatus), (status = 404, body = super::error::ErrorBody)),
    security((), ("bearer" = []))
)]
pub async fn cancel_job(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<JobStatus>, ApiError> {
    // The store first: stopping the local worker before the cancel is recorded would let it
    // pick the still-running job up again and start new calls.
    let job = state.store.cancel_job(&id).await?;
    state.jobs.cancel_local(&id);
    match job {
        Some(j) => Ok(Json(j.into())),
        None => Err(ApiError::NotFound(format!("no job with id {id:?}"))),
    }
}

/// The analysis job of an upload (alias of `GET /api/jobs/{id}`).
#[utoipa::path(
    get,
    path = "/api/progress/{upload_id}",
    tag = "jobs",
    params(("upload_id" = String, Path, description = "Upload id")),
    responses((status = 200, body = JobStatus), (status = 404, body = super::error::ErrorBody)),
    security((), ("bearer" = []))
)]
pub async fn progress(
    State(state): State<AppState>,
    Path(upload_id): Path<String>,
) -> Result<Json<JobStatus>, ApiError> {
    match state.store.job_for_upload(&upload_id).await? {
        Some(j) => Ok(Json(j.into())),
        None => Err(ApiError::NotFound(format!(
            "no analysis job for upload {upload_id:?}"
        ))),
    }
}

//! `POST /api/upload-json`: ingest an export (parse, clean, store) before answering; analysis of
//! new conversations runs as a background job.

use std::collections::BTreeMap;

use axum::extract::{Multipart, State};
use axum::http::HeaderMap;
use axum::Json;
use powerpulse_shared::wire::JobState;
use powerpulse_shared::Filtered;
use serde::{Deserialize, Serialize};

use super::{ApiError, ApiQuery, AppState};
use crate::ingest::{ingest, new_id, IngestError, UploadMeta};

/// Query parameters of the upload (the form field of the same name works too).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct UploadParams {
    /// Replace conversations (messages and analysis) even when their content is unchanged.
    pub force_reprocess: Option<bool>,
}

/// The analysis job started by an upload.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JobRef {
    /// Job id (see `GET /api/jobs/{id}`).
    pub id: String,
    /// `queued` when created.
    pub status: JobState,
}

/// The upload's result.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UploadResponse {
    /// Always true (failures are error responses).
    pub success: bool,
    /// A sentence for people.
    pub message: String,
    /// The upload's id.
    pub upload_id: String,
    /// Conversations written (new, changed or forced).
    pub conversations_processed: u64,
    /// Messages written.
    pub messages_processed: u64,
    /// Conversations already stored with the same content.
    pub conversations_skipped: u64,
    /// Of the conversations written, stored ones that gained messages from this file (merged).
    pub conversations_merged: u64,
    /// Cleaning counts by reason; messages already stored count as `duplicate`.
    pub filtered: Filtered,
    /// Chats whose value was not an array, by id (at most 20 named).
    pub invalid_chats: BTreeMap<String, String>,
    /// Seconds from the request to the answer.
    pub processing_time_seconds: f64,
    /// The analysis job, or null when nothing needs analysis.
    pub job: Option<JobRef>,
}

/// The form: the file (at most `limit` bytes, refused as soon as it is larger) and
/// `force_reprocess` (the form field wins over the query parameter of that name).
async fn read_form(
    multipart: &mut Multipart,
    limit: usize,
    mut force: bool,
) -> Result<(String, Vec<u8>, bool), ApiError> {
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(multipart_error(limit))?
    {
        match field.name().unwrap_or_default() {
            "file" => {
                let name = field.file_name().unwrap_or("upload.json").to_owned();
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(multipart_error(limit))? {
                    if bytes.len() + chunk.len() > limit {
                        return Err(ApiError::TooLarge { limit });
                    }
                    bytes.extend_from_slice(&chunk);
                }
                file = Some((name, bytes));
            }
            "force_reprocess" => {
                let v = field.text().await.map_err(multipart_error(limit))?;
                force = match v.trim() {
                    "true" | "1" => true,
                    "false" | "0" | "" => false,
                    other => {
                        return Err(ApiError::Invalid(format!(
                            "force_reprocess must be true or false, got {other:?}"
                        )))
                    }
                };
            }
            _ => {}
        }
    }
    let Some((file_name, bytes)) = file else {
        return Err(ApiError::BadRequest {
            code: "missing_file",
            detail: "the form has no `file` field: send the export as multipart field `file`"
                .into(),
        });
    };
    Ok((file_name, bytes, force))
}

/// Uploads an export (multipart field `file`, at most `MAX_FILE_SIZE` bytes).
#[utoipa::path(
    post,
    path = "/api/upload-json",
    tag = "upload",
    params(UploadParams),
    request_body(content_type = "multipart/form-data", description = "`file`: the export (JSON); `force_reprocess`: true/false. A stored chat that arrives with other messages is merged with them (each message kept once); forced, it is replaced."),
    responses(
        (status = 200, body = UploadResponse),
        (status = 400, description = "not an export: the parser's message names the byte offset or chat", body = super::error::ErrorBody),
        (status = 413, description = "larger than MAX_FILE_SIZE", body = super::error::ErrorBody),
        (status = 422, description = "invalid parameter", body = super::error::ErrorBody),
        (status = 429, description = "MAX_CONCURRENT_UPLOADS uploads in progress: retry after the Retry-After seconds", body = super::error::ErrorBody),
    ),
    security((), ("bearer" = []))
)]
pub async fn upload_json(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<UploadParams>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Result<Json<UploadResponse>, ApiError> {
    let started = std::time::Instant::now();
    let limit = state.config.max_file_size;
    // Held until the upload is stored: at most MAX_CONCURRENT_UPLOADS files in memory at once.
    let _slot = state
        .uploads
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::Busy {
            detail: format!(
                "{} uploads are being processed; try again in a few seconds",
                state.config.max_concurrent_uploads
            ),
            retry_after_secs: 5,
        })?;
    // Refuse at once what announces itself too large (multipart framing adds little).
    if let Some(len) = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
    {
        if len > limit + 64 * 1024 {
            return Err(ApiError::TooLarge { limit });
        }
    }
    let (file_name, bytes, force) = read_form(
        &mut multipart,
        limit,
        params.force_reprocess.unwrap_or(false),
    )
    .await?;
    let meta = UploadMeta {
        upload_id: new_id("up"),
        file_name,
        force,
        ai_analyzer: state.ai_analyzer(),
    };
    let upload_id = meta.upload_id.clone();
    let done = ingest(&state.store, &state.options, bytes, meta)
        .await
        .map_err(|e| match e {
            IngestError::Parse(p) => ApiError::BadRequest {
                code: p.code(),
                detail: p.to_string(),
            },
            IngestError::Store(s) => ApiError::from(s),
        })?;
    let o = &done.outcome;
    if o.job_id.is_some() {
        state.jobs.wake();
    }
    let r = &done.report;
    Ok(Json(UploadResponse {
        success: true,
        message: format!(
            "Processed {} conversations ({} messages, {} merged with their stored versions); {} already stored were skipped; {} messages filtered out.",
            o.conversations_processed,
            o.messages_processed,
            o.conversations_merged,
            o.conversations_skipped,
            o.filtered.messages()
        ),
        upload_id,
        conversations_processed: o.conversations_processed,
        messages_processed: o.messages_processed,
        conversations_skipped: o.conversations_skipped,
        conversations_merged: o.conversations_merged,
        filtered: o.filtered,
        invalid_chats: r.invalid_chat_examples.iter().map(|c| (c.chat_id.clone(), c.found.clone())).collect(),
        processing_time_seconds: (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        job: o.job_id.clone().map(|id| JobRef { id, status: JobState::Queued }),
    }))
}

fn multipart_error(limit: usize) -> impl Fn(axum::extract::multipart::MultipartError) -> ApiError {
    move |e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge { limit }
        } else {
            ApiError::BadRequest {
                code: "bad_multipart",
                detail: format!(
                    "the upload is not a valid multipart form: {}",
                    e.body_text()
                ),
            }
        }
    }
}

//! Reviews: `PUT` / `DELETE /api/conversations/{chat_id}/review`, `GET` / `POST /api/reviews`
//! (the labels format), and `GET /api/evaluation` (how far the analyzer agrees with the
//! reviews, and the headline figures corrected for its errors).

use axum::extract::{Path, State};
use axum::Json;
use bytes::Bytes;
use powerpulse_shared::estimate::{evaluate_reviews, ReviewEvaluation};
use powerpulse_shared::evaluate::{Label, Labels};
use powerpulse_shared::review::checked;
use powerpulse_shared::FilterParams;
use serde::{Deserialize, Serialize};

use super::conversations::ConversationItem;
use super::{ApiError, ApiFilter, ApiQuery, AppState};

/// Most reviews one import takes.
pub const MAX_IMPORT: usize = 100_000;

/// Unknown chats named in an error, at most.
const NAMED: usize = 10;

fn bad(detail: String) -> ApiError {
    ApiError::BadRequest {
        code: "invalid_review",
        detail,
    }
}

/// A review checked against the server's taxonomy; the error says what is wrong.
fn review_of(state: &AppState, label: Label, chat_id: &str) -> Result<Label, ApiError> {
    checked(label, state.options.analyzer.taxonomy())
        .map_err(|e| bad(format!("review of chat {chat_id:?}: {e}")))
}

fn unknown(ids: &[String]) -> ApiError {
    let named: Vec<&str> = ids.iter().take(NAMED).map(String::as_str).collect();
    let more = ids.len().saturating_sub(NAMED);
    ApiError::NotFound(format!(
        "no conversation with chat id {}{}; nothing was changed",
        named.join(", "),
        if more > 0 {
            format!(" (and {more} more)")
        } else {
            String::new()
        }
    ))
}

/// The conversation as it now stands.
async fn item(state: &AppState, chat_id: &str) -> Result<Json<ConversationItem>, ApiError> {
    match state.store.conversation_row(chat_id).await? {
        Some(row) => Ok(Json(row.into())),
        None => Err(unknown(&[chat_id.to_owned()])),
    }
}

/// Puts a person's review in place of the analyzer's judgement of one conversation (again:
/// replaces it). It stays through re-uploads and re-analyses of the chat.
#[utoipa::path(
    put,
    path = "/api/conversations/{chat_id}/review",
    tag = "reviews",
    params(("chat_id" = String, Path, description = "The chat id")),
    request_body(content = Label, description = "satisfaction 1-5, fcr true / false / null (no issue), topics of the taxonomy, note; `sampled`: drawn at random"),
    responses(
        (status = 200, body = ConversationItem),
        (status = 400, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody)
    ),
    security((), ("bearer" = []))
)]
pub async fn put_review(
    State(state): State<AppState>,
    Path(chat_id): Path<String>,
    body: Bytes,
) -> Result<Json<ConversationItem>, ApiError> {
    let label: Label = serde_json::from_slice(&body)
        .map_err(|e| bad(format!("review of chat {chat_id:?}: {e}")))?;
    let label = review_of(&state, label, &chat_id)?;
    let change = state
        .store
        .set_reviews(&[(chat_id.clone(), Some(label))])
        .await?;
    if !change.unknown.is_empty() {
        return Err(unknown(&change.unknown));
    }
    item(&state, &chat_id).await
}

/// Takes a conversation's review away: the analyzer's judgement counts again.
#[utoipa::path(
    delete,
    path = "/api/conversations/{chat_id}/review",
    tag = "reviews",
    params(("chat_id" = String, Path, description = "The chat id")),
    responses((status = 200, body = ConversationItem), (status = 404, body = super::error::ErrorBody)),
    security((), ("bearer" = []))
)]
pub async fn delete_review(
    State(state): State<AppState>,
    Path(chat_id): Path<String>,
) -> Result<Json<ConversationItem>, ApiError> {
    let change = state.store.set_reviews(&[(chat_id.clone(), None)]).await?;
    if !change.unknown.is_empty() {
        return Err(unknown(&change.unknown));
    }
    item(&state, &chat_id).await
}

/// Every review, in the labels format (chat id -> review), for `powerpulse evaluate` or the app.
#[utoipa::path(
    get,
    path = "/api/reviews",
    tag = "reviews",
    responses((status = 200, body = BTreeMap<String, Label>)),
    security((), ("bearer" = []))
)]
pub async fn list_reviews(State(state): State<AppState>) -> Result<Json<Labels>, ApiError> {
    Ok(Json(state.store.reviews().await?))
}

/// Parameters of an import.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ImportParams {
    /// Leave out the chats the store does not hold instead of refusing the whole file.
    pub skip_unknown: Option<bool>,
}

/// What an import did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportResponse {
    /// Reviews written (new or changed).
    pub imported: usize,
    /// Reviews already in place as given.
    pub unchanged: usize,
    /// Chats left out because the store does not hold them (with `skip_unknown`).
    pub skipped_unknown: Vec<String>,
}

/// Imports reviews in the labels format (chat id -> review), all in one transaction: a bad
/// review or (without `skip_unknown`) an unknown chat changes nothing. A label without
/// `sampled` counts as drawn at random.
#[utoipa::path(
    post,
    path = "/api/reviews",
    tag = "reviews",
    params(ImportParams),
    request_body(content = BTreeMap<String, Label>),
    responses(
        (status = 200, body = ImportResponse),
        (status = 400, body = super::error::ErrorBody),
        (status = 404, body = super::error::ErrorBody)
    ),
    security((), ("bearer" = []))
)]
pub async fn import_reviews(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<ImportParams>,
    body: Bytes,
) -> Result<Json<ImportResponse>, ApiError> {
    let labels: Labels = serde_json::from_slice(&body).map_err(|e| bad(format!("reviews: {e}")))?;
    if labels.len() > MAX_IMPORT {
        return Err(bad(format!(
            "reviews: at most {MAX_IMPORT} in one import, got {}",
            labels.len()
        )));
    }
    let mut reviews = Vec::with_capacity(labels.len());
    for (id, label) in labels {
        let label = review_of(&state, label, &id)?;
        reviews.push((id, Some(label)));
    }
    let mut change = state.store.set_reviews(&reviews).await?;
    let mut skipped = Vec::new();
    if !change.unknown.is_empty() {
        if !p.skip_unknown.unwrap_or(false) {
            return Err(unknown(&change.unknown));
        }
        skipped = change.unknown;
        reviews.retain(|(id, _)| !skipped.contains(id));
        change = state.store.set_reviews(&reviews).await?;
        // Another request may have changed the store in between; never write half.
        if !change.unknown.is_empty() {
            return Err(unknown(&change.unknown));
        }
    }
    Ok(Json(ImportResponse {
        imported: change.changed.len(),
        unchanged: reviews.len() - change.changed.len(),
        skipped_unknown: skipped,
    }))
}

/// How far the analyzer agrees with the reviews of randomly drawn conversations in view, and
/// CSAT % and FCR % corrected for its measured errors (with 95 % intervals). Below
/// `min_sampled` sampled reviews `enough` is false: the figures are there, but shaky.
#[utoipa::path(
    get,
    path = "/api/evaluation",
    tag = "reviews",
    params(FilterParams),
    responses((status = 200, body = ReviewEvaluation), (status = 422, body = super::error::ErrorBody)),
    security((), ("bearer" = []))
)]
pub async fn evaluation(
    State(state): State<AppState>,
    ApiFilter(f): ApiFilter,
) -> Result<Json<ReviewEvaluation>, ApiError> {
    let tally = crate::metrics::tally(&state.store, &f).await?;
    let reviewed = state.store.reviewed_summaries(&f).await?;
    Ok(Json(evaluate_reviews(tally.outcomes, &reviewed)))
}

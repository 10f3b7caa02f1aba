//! `POST /api/analyze`: the browser app's way to the AI. The app sends cleaned conversations
//! (customer and agent texts only); the server batches, limits, retries, validates and caches
//! exactly as for uploads, and the key never leaves it.

use std::collections::HashMap;

use axum::extract::State;
use axum::Json;
use futures::stream::{FuturesUnordered, StreamExt};
use powerpulse_shared::wire::{AiUsage, AnalyzeRequest, AnalyzeResponse, AnalyzeResult};

use super::{ApiError, AppState};
use crate::ai::prompt::Prepared;
use crate::ai::{ItemOutcome, Stop};

/// Most conversations in one request.
pub const MAX_CONVERSATIONS: usize = 500;

/// Analyses conversations with the configured AI provider.
#[utoipa::path(
    post,
    path = "/api/analyze",
    tag = "analyze",
    request_body = AnalyzeRequest,
    responses(
        (status = 200, body = AnalyzeResponse),
        (status = 422, body = super::error::ErrorBody),
        (status = 429, description = "the provider's quota is exhausted", body = super::error::ErrorBody),
        (status = 503, description = "no AI provider configured", body = super::error::ErrorBody)
    ),
    security((), ("bearer" = []))
)]
pub async fn analyze(
    State(state): State<AppState>,
    Json(req): Json<AnalyzeRequest>,
) -> Result<Json<AnalyzeResponse>, ApiError> {
    let analysis = state.analysis.clone().ok_or_else(|| {
        ApiError::Unavailable(
            "AI analysis is not configured on this server (built-in analyzer only)".into(),
        )
    })?;
    if req.conversations.len() > MAX_CONVERSATIONS {
        return Err(ApiError::Invalid(format!(
            "at most {MAX_CONVERSATIONS} conversations per request, got {}",
            req.conversations.len()
        )));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = req
        .conversations
        .iter()
        .find(|c| !seen.insert(c.id.as_str()))
    {
        return Err(ApiError::Invalid(format!(
            "conversation id {:?} appears twice",
            dup.id
        )));
    }
    let lookup = analysis.lookup(&req.conversations, req.force).await?;
    let mut results: HashMap<String, AnalyzeResult> = HashMap::new();
    for (p, a) in &lookup.cached {
        results.insert(
            p.id.clone(),
            AnalyzeResult::done(&p.id, a, &p.customer_sent, true),
        );
    }
    let (empty, to_send): (Vec<Prepared>, Vec<Prepared>) = lookup
        .to_send
        .into_iter()
        .partition(|p| p.customer_sent.is_empty() && p.text.is_empty());
    for p in empty {
        let reason = "the conversation has no customer or agent message".to_owned();
        results.insert(
            p.id.clone(),
            AnalyzeResult::failed(&p.id, Vec::new(), reason),
        );
    }
    let token = tokio_util::sync::CancellationToken::new();
    let mut running: FuturesUnordered<_> = analysis.calls(to_send, &token).into_iter().collect();
    let mut usage = AiUsage::default();
    let mut quota = None;
    while let Some(run) = running.next().await {
        usage = usage.plus(&run.stats);
        match run.outcomes {
            Ok(outcomes) => {
                analysis.remember(&lookup.sent, &outcomes).await?;
                for (id, o) in outcomes {
                    let indices = lookup.sent[&id].customer_sent.clone();
                    let res = match o {
                        ItemOutcome::Done(a) => AnalyzeResult::done(&id, &a, &indices, false),
                        ItemOutcome::Failed(reason) => AnalyzeResult::failed(&id, indices, reason),
                    };
                    results.insert(id, res);
                }
            }
            Err(Stop::Quota { reason, .. }) => {
                quota = Some(reason);
                token.cancel();
            }
            Err(Stop::Cancelled) => {}
        }
    }
    drop(running);
    if let Some(reason) = quota {
        return Err(ApiError::RateLimited(format!(
            "the AI provider's quota is exhausted: {reason}"
        )));
    }
    let ordered = req
        .conversations
        .iter()
        .filter_map(|c| results.remove(&c.id))
        .collect();
    Ok(Json(AnalyzeResponse {
        analyzer: analysis.label(),
        results: ordered,
        usage,
    }))
}

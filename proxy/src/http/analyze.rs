//! `POST /api/analyze`: the browser app's way to the AI. The app sends cleaned conversations
//! (customer and agent texts only); the server batches, limits, retries, validates and caches
//! exactly as for uploads, and the key never leaves it.

use std::collections::HashMap;

use axum::extract::State;
use axum::Json;
use futures::stream::{FuturesUnordered, StreamExt};
use serde::{Deserialize, Serialize};

use super::{ApiError, AppState};
use crate::ai::prompt::{AiAnalysis, ConversationInput, Prepared};
use crate::ai::{ItemOutcome, StatsSnapshot, Stop};

/// Most conversations in one request.
pub const MAX_CONVERSATIONS: usize = 500;

/// The request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AnalyzeRequest {
    /// Conversations to analyse.
    pub conversations: Vec<ConversationInput>,
    /// Ignore cached analyses.
    #[serde(default)]
    pub force: bool,
}

/// One conversation's result.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AnalyzeResult {
    /// The id sent.
    pub id: String,
    /// `done` or `failed`.
    pub status: &'static str,
    /// Satisfaction 1-5.
    pub satisfaction_score: Option<u8>,
    /// Confidence 0-1.
    pub satisfaction_confidence: Option<f64>,
    /// FCR (null: no issue).
    pub first_contact_resolution: Option<bool>,
    /// Topics.
    pub topics: Vec<String>,
    /// Sentiment per customer message listed in `customer_message_indices`.
    pub sentiment: Vec<Option<f64>>,
    /// Which customer messages (index among the conversation's customer messages) the
    /// sentiments are for (long conversations are trimmed to their first and last messages).
    pub customer_message_indices: Vec<usize>,
    /// Served from the cache.
    pub cached: bool,
    /// Why it failed.
    pub error: Option<String>,
}

/// The response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AnalyzeResponse {
    /// `gemini:<model>` or `openai:<model>`.
    pub analyzer: String,
    /// One result per conversation, in request order.
    pub results: Vec<AnalyzeResult>,
    /// Calls, retries, tokens of this request.
    pub usage: StatsSnapshot,
}

fn failed(id: &str, indices: Vec<usize>, reason: String) -> AnalyzeResult {
    AnalyzeResult {
        id: id.to_owned(),
        status: "failed",
        satisfaction_score: None,
        satisfaction_confidence: None,
        first_contact_resolution: None,
        topics: Vec::new(),
        sentiment: Vec::new(),
        customer_message_indices: indices,
        cached: false,
        error: Some(reason),
    }
}

fn done(id: &str, a: &AiAnalysis, indices: &[usize], cached: bool) -> AnalyzeResult {
    AnalyzeResult {
        id: id.to_owned(),
        status: "done",
        satisfaction_score: Some(a.satisfaction_score),
        satisfaction_confidence: Some(a.satisfaction_confidence),
        first_contact_resolution: a.first_contact_resolution,
        topics: a.topics.clone(),
        sentiment: a.sentiment.clone(),
        customer_message_indices: indices.to_vec(),
        cached,
        error: None,
    }
}

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
        results.insert(p.id.clone(), done(&p.id, a, &p.customer_sent, true));
    }
    let (empty, to_send): (Vec<Prepared>, Vec<Prepared>) = lookup
        .to_send
        .into_iter()
        .partition(|p| p.customer_sent.is_empty() && p.text.is_empty());
    for p in empty {
        let reason = "the conversation has no customer or agent message".to_owned();
        results.insert(p.id.clone(), failed(&p.id, Vec::new(), reason));
    }
    let token = tokio_util::sync::CancellationToken::new();
    let mut running: FuturesUnordered<_> = analysis.calls(to_send, &token).into_iter().collect();
    let mut usage = StatsSnapshot::default();
    let mut quota = None;
    while let Some(run) = running.next().await {
        usage = usage.plus(&run.stats);
        match run.outcomes {
            Ok(outcomes) => {
                analysis.remember(&lookup.sent, &outcomes).await?;
                for (id, o) in outcomes {
                    let indices = lookup.sent[&id].customer_sent.clone();
                    let res = match o {
                        ItemOutcome::Done(a) => done(&id, &a, &indices, false),
                        ItemOutcome::Failed(reason) => failed(&id, indices, reason),
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

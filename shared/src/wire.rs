//! The JSON the server and the browser app exchange besides the figures: `POST /api/analyze`
//! and `GET /health`. One definition for both sides, so neither can drift from the other.

use serde::{Deserialize, Serialize};

use crate::ai::{AiAnalysis, ConversationInput};

/// The body of `POST /api/analyze`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnalyzeRequest {
    /// Conversations to analyse.
    pub conversations: Vec<ConversationInput>,
    /// Ignore cached analyses.
    #[serde(default)]
    pub force: bool,
}

/// Whether one conversation was analysed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ResultStatus {
    /// Analysed: the fields hold the analysis.
    Done,
    /// Not analysed: `error` says why.
    Failed,
}

/// One conversation's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnalyzeResult {
    /// The id sent.
    pub id: String,
    /// Analysed or not.
    pub status: ResultStatus,
    /// Satisfaction 1-5.
    pub satisfaction_score: Option<u8>,
    /// Confidence 0-1.
    pub satisfaction_confidence: Option<f64>,
    /// FCR (null: no issue).
    pub first_contact_resolution: Option<bool>,
    /// Topics.
    #[serde(default)]
    pub topics: Vec<String>,
    /// Sentiment per customer message listed in `customer_message_indices`.
    #[serde(default)]
    pub sentiment: Vec<Option<f64>>,
    /// Which customer messages (index among the conversation's customer messages) the
    /// sentiments are for (long conversations are trimmed to their first and last messages).
    #[serde(default)]
    pub customer_message_indices: Vec<usize>,
    /// Served from the cache.
    #[serde(default)]
    pub cached: bool,
    /// Why it failed.
    pub error: Option<String>,
}

impl AnalyzeResult {
    /// The result of an analysed conversation.
    pub fn done(id: &str, a: &AiAnalysis, indices: &[usize], cached: bool) -> Self {
        AnalyzeResult {
            id: id.to_owned(),
            status: ResultStatus::Done,
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

    /// The result of a conversation that could not be analysed.
    pub fn failed(id: &str, indices: Vec<usize>, reason: String) -> Self {
        AnalyzeResult {
            id: id.to_owned(),
            status: ResultStatus::Failed,
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

    /// The analysis it carries (none when it failed).
    pub fn analysis(&self) -> Option<AiAnalysis> {
        match (
            self.status,
            self.satisfaction_score,
            self.satisfaction_confidence,
        ) {
            (ResultStatus::Done, Some(score), Some(confidence)) => Some(AiAnalysis {
                satisfaction_score: score,
                satisfaction_confidence: confidence,
                first_contact_resolution: self.first_contact_resolution,
                topics: self.topics.clone(),
                sentiment: self.sentiment.clone(),
            }),
            _ => None,
        }
    }
}

/// Counters of AI work: calls, retries, tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AiUsage {
    /// Calls made (attempts included).
    pub calls: u64,
    /// Retries (a call made again after a failure).
    pub retries: u64,
    /// Items failed for good.
    pub failures: u64,
    /// Input tokens the provider counted.
    pub input_tokens: u64,
    /// Output tokens the provider counted.
    pub output_tokens: u64,
    /// Conversations sent (each counted once per call it was in).
    pub conversations_sent: u64,
}

impl AiUsage {
    /// The counters of two pieces of work together.
    pub fn plus(&self, o: &AiUsage) -> AiUsage {
        AiUsage {
            calls: self.calls + o.calls,
            retries: self.retries + o.retries,
            failures: self.failures + o.failures,
            input_tokens: self.input_tokens + o.input_tokens,
            output_tokens: self.output_tokens + o.output_tokens,
            conversations_sent: self.conversations_sent + o.conversations_sent,
        }
    }
}

/// The answer of `POST /api/analyze`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnalyzeResponse {
    /// `gemini:<model>` or `openai:<model>`.
    pub analyzer: String,
    /// One result per conversation, in request order.
    pub results: Vec<AnalyzeResult>,
    /// Calls, retries, tokens of this request.
    #[serde(default)]
    pub usage: AiUsage,
}

/// Where an analysis job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting for a worker.
    Queued,
    /// A worker is on it (or its batches are with the provider).
    Running,
    /// Waiting for the provider's quota to come back.
    Paused,
    /// Finished, at least one conversation analysed (or nothing failed).
    Done,
    /// Finished with every conversation failed.
    Failed,
    /// Cancelled.
    Cancelled,
}

impl JobState {
    /// The state as the store and the API write it.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Paused => "paused",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    /// The state [`JobState::as_str`] wrote.
    pub fn parse(s: &str) -> Option<JobState> {
        [
            JobState::Queued,
            JobState::Running,
            JobState::Paused,
            JobState::Done,
            JobState::Failed,
            JobState::Cancelled,
        ]
        .into_iter()
        .find(|j| j.as_str() == s)
    }

    /// Whether the job has ended (nothing more will change).
    pub fn ended(self) -> bool {
        matches!(
            self,
            JobState::Done | JobState::Failed | JobState::Cancelled
        )
    }
}

/// How a job's conversations go to the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum JobMode {
    /// Synchronous calls under the key's limits.
    Sync,
    /// The provider's Batch API (half price, within 24 hours).
    Batch,
}

impl JobMode {
    /// The mode as the store and the API write it.
    pub fn as_str(self) -> &'static str {
        match self {
            JobMode::Sync => "sync",
            JobMode::Batch => "batch",
        }
    }

    /// The mode [`JobMode::as_str`] wrote.
    pub fn parse(s: &str) -> Option<JobMode> {
        [JobMode::Sync, JobMode::Batch]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
}

/// Whether the server can serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// The store answers.
    Ok,
    /// The store does not answer.
    Unavailable,
}

/// Which database the server stores in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// One file, one machine.
    Sqlite,
    /// A shared server (several instances).
    Postgres,
}

impl StoreKind {
    /// The name as the API writes it.
    pub fn name(self) -> &'static str {
        match self {
            StoreKind::Sqlite => "sqlite",
            StoreKind::Postgres => "postgres",
        }
    }
}

/// What the provider's model list said about the configured model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ModelCheck {
    /// Not checked yet (the check runs in the background at start-up).
    Pending,
    /// The provider lists the model.
    Found,
    /// The provider does not list the model; the closest ids it does list.
    Missing {
        /// One line for the log and `/health`.
        message: String,
        /// Up to three listed ids, closest first.
        closest: Vec<String>,
    },
    /// The list could not be read (network, key); nothing is known of the model.
    Unchecked {
        /// Why.
        message: String,
    },
}

/// The answer of `GET /health` (no secrets).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// Whether the store answers.
    pub status: HealthStatus,
    /// The database.
    pub store: StoreKind,
    /// `builtin`, `gemini:<model>` or `openai:<model>`.
    pub analyzer: String,
    /// Whether AI analysis is available (`POST /api/analyze`).
    pub ai: bool,
    /// Server version.
    pub version: String,
    /// The metric definitions version.
    pub definitions: String,
    /// Times the background job worker died and was restarted since start-up.
    pub worker_restarts: u64,
    /// Why it last died, if it did.
    pub worker_last_failure: Option<String>,
    /// Whether the provider lists the configured model (none without a provider).
    pub ai_model: Option<ModelCheck>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_carries_its_analysis_only_when_done() {
        let a = AiAnalysis {
            satisfaction_score: 4,
            satisfaction_confidence: 0.8,
            first_contact_resolution: Some(true),
            topics: vec!["tokens".into()],
            sentiment: vec![Some(0.5)],
        };
        let done = AnalyzeResult::done("c1", &a, &[0], false);
        let json = serde_json::to_string(&done).unwrap();
        let back: AnalyzeResult = serde_json::from_str(&json).unwrap();
        assert!(json.contains(r#""status":"done""#), "{json}");
        assert_eq!(back.analysis(), Some(a));
        let failed = AnalyzeResult::failed("c2", vec![], "refused".into());
        assert_eq!(failed.analysis(), None);
        assert!(serde_json::to_string(&failed)
            .unwrap()
            .contains(r#""status":"failed""#));
    }

    #[test]
    fn health_reads_back_as_written() {
        let h = Health {
            status: HealthStatus::Ok,
            store: StoreKind::Sqlite,
            analyzer: "builtin".into(),
            ai: false,
            version: "1".into(),
            definitions: "v1".into(),
            worker_restarts: 0,
            worker_last_failure: None,
            ai_model: Some(ModelCheck::Missing {
                message: "m".into(),
                closest: vec!["x".into()],
            }),
        };
        let json = serde_json::to_string(&h).unwrap();
        assert!(json.contains(r#""status":"ok""#) && json.contains(r#""store":"sqlite""#));
        assert_eq!(serde_json::from_str::<Health>(&json).unwrap(), h);
    }
}

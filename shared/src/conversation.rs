//! The cleaned data model: messages with roles, conversations, and the per-conversation summary
//! that every metric is computed from.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::time::format_timestamp;

/// Who wrote a message, after cleaning (spec section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// `to_company`: the customer.
    Customer,
    /// `to_client` with an agent identity: a human agent's reply.
    Agent,
    /// `to_client` without agent identity: bot, autoresponse or broadcast (never a reply).
    Bot,
}

impl Role {
    /// The export's `DIRECTION` value for this role.
    pub fn direction(self) -> &'static str {
        match self {
            Role::Customer => "to_company",
            Role::Agent | Role::Bot => "to_client",
        }
    }

    /// The role's name as written in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Agent => "agent",
            Role::Bot => "bot",
        }
    }

    /// The role named `name` as [`Role::as_str`] writes it.
    pub fn from_name(name: &str) -> Option<Role> {
        [Role::Customer, Role::Agent, Role::Bot]
            .into_iter()
            .find(|r| r.as_str() == name)
    }
}

/// One kept message of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// `UNIQUE_POST_ID`, or `<chat id>#<position in the file's array, from 1>` when absent.
    pub id: String,
    /// Epoch milliseconds (UTC).
    pub time_ms: i64,
    /// Customer, agent or bot.
    pub role: Role,
    /// The agent (username, else email) for agent replies; shared between messages.
    pub agent: Option<Arc<str>>,
    /// The content, trimmed.
    pub text: String,
    /// Sentiment in -1..1 for customer messages; `None` when the text carries no signal.
    pub sentiment: Option<f64>,
    /// For agent replies: minutes since the most recent preceding customer message.
    pub reply_gap_minutes: Option<f64>,
    /// Index (from 0) of the segment the message belongs to (spec section 4).
    pub segment: u32,
}

impl Message {
    /// The message time as RFC 3339 UTC.
    pub fn time(&self) -> String {
        format_timestamp(self.time_ms)
    }
}

/// An agent reply, as the time metrics need it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// Index into [`Summary::agents`].
    pub agent: u32,
    /// Reply gap in minutes; `None` when no customer message precedes the reply.
    pub gap: Option<f64>,
    /// When the reply was sent (epoch ms); 0 in summaries stored before it was kept.
    #[serde(default)]
    pub at_ms: i64,
}

/// A customer turn (spec section 3).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    /// Minutes from the turn's first customer message to the agent reply that ends it;
    /// `None` when no reply ends it (unanswered).
    pub minutes: Option<f64>,
    /// Index into [`Summary::agents`] of the agent whose reply ended the turn.
    pub agent: Option<u32>,
    /// When the turn's first customer message was sent (epoch ms); 0 in summaries stored
    /// before it was kept.
    #[serde(default)]
    pub at_ms: i64,
    /// Whether the turn opens a thread as Meta counts it: its first message comes after 24
    /// hours in which neither side wrote (or is the conversation's first message).
    #[serde(default)]
    pub opens_thread: bool,
}

/// Customer messages by sentiment class (spec section 6).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SentimentCounts {
    /// Score above 0.05.
    pub positive: u64,
    /// Score within -0.05..=0.05, or no signal.
    pub neutral: u64,
    /// Score below -0.05.
    pub negative: u64,
}

impl SentimentCounts {
    /// Counts one customer message's score.
    pub fn add(&mut self, score: Option<f64>) {
        match score {
            Some(s) if s > 0.05 => self.positive += 1,
            Some(s) if s < -0.05 => self.negative += 1,
            _ => self.neutral += 1,
        }
    }

    /// Adds another set of counts.
    pub fn merge(&mut self, other: &SentimentCounts) {
        self.positive += other.positive;
        self.neutral += other.neutral;
        self.negative += other.negative;
    }
}

/// Where a conversation's analysis stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnalysisStatus {
    /// The analysis in place is the one wanted (built-in without AI, or the AI's).
    #[default]
    Complete,
    /// AI analysis is wanted and not done yet; the built-in analysis stands in.
    Pending,
    /// The AI analysis failed; the built-in analysis stands in and it will be retried.
    Failed,
}

impl AnalysisStatus {
    /// The status as [`AnalysisStatus::as_str`] writes it.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "complete" => Some(AnalysisStatus::Complete),
            "pending" => Some(AnalysisStatus::Pending),
            "failed" => Some(AnalysisStatus::Failed),
            _ => None,
        }
    }

    /// The status as written in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            AnalysisStatus::Complete => "complete",
            AnalysisStatus::Pending => "pending",
            AnalysisStatus::Failed => "failed",
        }
    }
}

/// The analysis fields of spec section 5 for one conversation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// `builtin`, `gemini:<model>` or `openai:<model>`.
    pub analyzer: String,
    /// Mean of the non-null customer-message scores.
    pub avg_sentiment: Option<f64>,
    /// 1..=5.
    pub satisfaction_score: Option<u8>,
    /// 0..=1.
    pub satisfaction_confidence: Option<f64>,
    /// First-contact resolution; `None` when the conversation holds no issue.
    pub first_contact_resolution: Option<bool>,
    /// 1..=5 lowercase labels.
    pub topics: Vec<String>,
}

/// The lowest satisfaction score that counts as satisfied (CSAT, spec section 4).
pub const SATISFIED_MIN: u8 = 4;

/// Whether a satisfaction score counts as satisfied.
pub fn satisfied(score: u8) -> bool {
    score >= SATISFIED_MIN
}

impl Analysis {
    /// Whether the score counts as satisfied; `None` without a score.
    pub fn is_satisfied(&self) -> Option<bool> {
        self.satisfaction_score.map(satisfied)
    }
}

/// Everything the metrics need about one conversation, without its texts.
///
/// The server stores this per conversation, the app keeps it beside the messages; both feed the
/// same aggregation, which is why they agree.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The chat id (the export's object key).
    pub chat_id: String,
    /// Time of the first kept message.
    pub first_message_ms: i64,
    /// Time of the last kept message.
    pub last_message_ms: i64,
    /// Kept messages.
    pub total_messages: u32,
    /// Customer messages.
    pub customer_messages: u32,
    /// Agent replies.
    pub agent_messages: u32,
    /// Bot, autoresponse and broadcast messages kept in the transcript.
    pub bot_messages: u32,
    /// Segments (runs without a gap of the configured length); 1 for a single run.
    pub segments: u32,
    /// Whether a customer wrote in a segment after the first (came back a day or more later).
    pub customer_came_back: bool,
    /// Distinct agents in order of their first reply.
    pub agents: Vec<String>,
    /// Agent replies in time order.
    pub replies: Vec<Reply>,
    /// Customer turns in time order.
    pub turns: Vec<Turn>,
    /// Customer messages by sentiment class.
    pub sentiment: SentimentCounts,
    /// The analysis in place: the review's judgement where a review stands in.
    pub analysis: Analysis,
    /// Where the analysis stands.
    pub status: AnalysisStatus,
    /// A person's review, with the analyzer's analysis it stands in for.
    #[serde(default)]
    pub review: Option<crate::review::Reviewed>,
}

impl Summary {
    /// Mean reply gap in minutes; `None` (never 0) without replies that have a gap.
    pub fn avg_response_time_minutes(&self) -> Option<f64> {
        let mut n = 0usize;
        let mut sum = 0.0;
        for g in self.replies.iter().filter_map(|r| r.gap) {
            n += 1;
            sum += g;
        }
        (n > 0).then(|| sum / n as f64)
    }

    /// The first turn's response time, when the first turn was answered.
    pub fn first_response_minutes(&self) -> Option<f64> {
        self.turns.first().and_then(|t| t.minutes)
    }

    /// Whether `agent` sent at least one reply.
    pub fn has_agent(&self, agent: &str) -> bool {
        self.agents.iter().any(|a| a == agent)
    }

    /// Whether the analysis carries `topic`.
    pub fn has_topic(&self, topic: &str) -> bool {
        self.analysis.topics.iter().any(|t| t == topic)
    }
}

/// A cleaned conversation: its messages in time order and its summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    /// Messages sorted by time (stable for equal times).
    pub messages: Vec<Message>,
    /// Counts, time facts and analysis.
    pub summary: Summary,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_read_back_the_names_they_write() {
        for r in [Role::Customer, Role::Agent, Role::Bot] {
            assert_eq!(Role::from_name(r.as_str()), Some(r));
        }
        assert_eq!(Role::from_name("Customer"), None);
        assert_eq!(Role::from_name(""), None);
    }
}

//! Flat records: one conversation or one message as the API lists it and the CSV writes it.

use serde::{Deserialize, Serialize};

use crate::conversation::{Conversation, Message, Summary};
use crate::round;
use crate::time::format_timestamp;

/// One conversation of `GET /api/conversations` and one row of the conversations CSV.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationRecord {
    /// The chat id.
    pub fb_chat_id: String,
    /// Kept messages.
    pub total_messages: u32,
    /// Customer messages.
    pub customer_messages: u32,
    /// Agent replies.
    pub agent_messages: u32,
    /// Bot and broadcast messages.
    pub bot_messages: u32,
    /// 1..=5.
    pub satisfaction_score: Option<u8>,
    /// 0..=1.
    #[serde(serialize_with = "round::opt4")]
    pub satisfaction_confidence: Option<f64>,
    /// `satisfaction_score >= 4`.
    pub is_satisfied: Option<bool>,
    /// Mean customer-message sentiment.
    #[serde(serialize_with = "round::opt4")]
    pub avg_sentiment: Option<f64>,
    /// First-contact resolution.
    pub first_contact_resolution: Option<bool>,
    /// Mean reply gap (minutes).
    #[serde(serialize_with = "round::opt2")]
    pub avg_response_time_minutes: Option<f64>,
    /// First turn's response time (minutes).
    #[serde(serialize_with = "round::opt2")]
    pub first_response_minutes: Option<f64>,
    /// RFC 3339 UTC.
    pub first_message_time: String,
    /// RFC 3339 UTC.
    pub last_message_time: String,
    /// Topic labels.
    pub topics: Vec<String>,
    /// Agents who replied.
    pub agents: Vec<String>,
    /// Segments (more than one: the customer came back).
    pub segments: u32,
    /// Which analyzer produced the analysis.
    pub analyzer: String,
    /// `complete`, `pending` or `failed`.
    pub analysis_status: String,
    /// Whether a person's review stands in for the analyzer's judgement.
    pub reviewed: bool,
    /// The review's note.
    pub review_note: Option<String>,
    /// Whether the review is of a randomly drawn conversation.
    pub review_sampled: Option<bool>,
    /// Under a review: what the analyzer said (`analyzer`, satisfaction, FCR, topics).
    pub analyzer_judgement: Option<AnalyzerJudgement>,
}

/// The analyzer's own judgement of a reviewed conversation, shown beside the review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnalyzerJudgement {
    /// `builtin`, `gemini:<model>` or `openai:<model>`.
    pub analyzer: String,
    /// 1..=5.
    pub satisfaction_score: Option<u8>,
    /// 0..=1.
    #[serde(serialize_with = "round::opt4")]
    pub satisfaction_confidence: Option<f64>,
    /// First-contact resolution.
    pub first_contact_resolution: Option<bool>,
    /// Topic labels.
    pub topics: Vec<String>,
}

impl From<&Summary> for ConversationRecord {
    fn from(s: &Summary) -> Self {
        let a = &s.analysis;
        Self {
            fb_chat_id: s.chat_id.clone(),
            total_messages: s.total_messages,
            customer_messages: s.customer_messages,
            agent_messages: s.agent_messages,
            bot_messages: s.bot_messages,
            satisfaction_score: a.satisfaction_score,
            satisfaction_confidence: a.satisfaction_confidence,
            is_satisfied: a.is_satisfied(),
            avg_sentiment: a.avg_sentiment,
            first_contact_resolution: a.first_contact_resolution,
            avg_response_time_minutes: s.avg_response_time_minutes(),
            first_response_minutes: s.first_response_minutes(),
            first_message_time: format_timestamp(s.first_message_ms),
            last_message_time: format_timestamp(s.last_message_ms),
            topics: a.topics.clone(),
            agents: s.agents.clone(),
            segments: s.segments,
            analyzer: a.analyzer.clone(),
            analysis_status: s.status.as_str().to_owned(),
            reviewed: s.review.is_some(),
            review_note: s.review.as_ref().map(|r| r.label.note.clone()),
            review_sampled: s.review.as_ref().map(|r| r.label.is_sampled()),
            analyzer_judgement: s.review.as_ref().map(|r| AnalyzerJudgement {
                analyzer: r.analyzer.analyzer.clone(),
                satisfaction_score: r.analyzer.satisfaction_score,
                satisfaction_confidence: r.analyzer.satisfaction_confidence,
                first_contact_resolution: r.analyzer.first_contact_resolution,
                topics: r.analyzer.topics.clone(),
            }),
        }
    }
}

/// One message of a transcript and one row of the messages CSV.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageRecord {
    /// `UNIQUE_POST_ID`, or `<chat id>#<position>`.
    pub message_id: String,
    /// The chat id.
    pub chat_id: String,
    /// The text.
    pub message_content: String,
    /// `to_company` or `to_client`.
    pub direction: String,
    /// `customer`, `agent` or `bot`.
    pub role: String,
    /// RFC 3339 UTC.
    pub social_create_time: String,
    /// The agent (username, else email) for agent replies.
    pub agent_info: Option<String>,
    /// Customer messages only; null without signal.
    #[serde(serialize_with = "round::opt4")]
    pub sentiment_score: Option<f64>,
    /// Agent replies: minutes since the preceding customer message.
    #[serde(serialize_with = "round::opt2")]
    pub reply_gap_minutes: Option<f64>,
    /// Segment index from 0.
    pub segment: u32,
}

impl MessageRecord {
    /// The record of `m` in chat `chat_id`.
    pub fn new(chat_id: &str, m: &Message) -> Self {
        Self {
            message_id: m.id.clone(),
            chat_id: chat_id.to_owned(),
            message_content: m.text.clone(),
            direction: m.role.direction().to_owned(),
            role: m.role.as_str().to_owned(),
            social_create_time: m.time(),
            agent_info: m.agent.as_deref().map(str::to_owned),
            sentiment_score: m.sentiment,
            reply_gap_minutes: m.reply_gap_minutes,
            segment: m.segment,
        }
    }

    /// All message records of a conversation, in time order.
    pub fn of(c: &Conversation) -> impl Iterator<Item = MessageRecord> + '_ {
        c.messages
            .iter()
            .map(|m| MessageRecord::new(&c.summary.chat_id, m))
    }
}

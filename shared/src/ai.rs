//! The AI path's contract: what a conversation looks like to an AI provider (the body of
//! `POST /api/analyze`), what a validated answer holds, and the one rule that puts it in place
//! of the built-in analysis (the same in the server and the browser).

use serde::{Deserialize, Serialize};

use crate::conversation::{Analysis, Conversation, Role, Summary};

/// Who wrote a message sent to the AI (bots and broadcasts are never sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Speaker {
    /// The customer.
    Customer,
    /// A human agent (never named: no usernames or emails are sent).
    Agent,
}

/// One message of a conversation to analyse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TurnText {
    /// Who wrote it.
    pub role: Speaker,
    /// The text.
    pub text: String,
}

/// A conversation to analyse: its customer and agent messages only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationInput {
    /// The caller's id for it (the chat id).
    pub id: String,
    /// Customer and agent messages in time order.
    pub messages: Vec<TurnText>,
}

impl ConversationInput {
    /// The input of a cleaned conversation.
    pub fn of(c: &Conversation) -> Self {
        Self::from_messages(
            &c.summary.chat_id,
            c.messages.iter().map(|m| (m.role, m.text.as_str())),
        )
    }

    /// The input of a conversation's messages (role and text, in time order): bots left out.
    pub fn from_messages<'a>(id: &str, messages: impl Iterator<Item = (Role, &'a str)>) -> Self {
        ConversationInput {
            id: id.to_owned(),
            messages: messages
                .filter_map(|(role, text)| {
                    let role = match role {
                        Role::Customer => Speaker::Customer,
                        Role::Agent => Speaker::Agent,
                        Role::Bot => return None,
                    };
                    Some(TurnText {
                        role,
                        text: text.to_owned(),
                    })
                })
                .collect(),
        }
    }
}

/// An AI provider's analysis of one conversation, already validated.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AiAnalysis {
    /// 1..=5.
    pub satisfaction_score: u8,
    /// 0..=1.
    pub satisfaction_confidence: f64,
    /// FCR, or none when the conversation holds no issue.
    pub first_contact_resolution: Option<bool>,
    /// 1..=5 lowercase labels.
    pub topics: Vec<String>,
    /// Sentiment of each customer message the AI saw (none without sentiment), in the order
    /// they were sent.
    pub sentiment: Vec<Option<f64>>,
}

/// Puts an AI analysis in place of the built-in one: the customer messages' scores it covers
/// (`scores` holds every customer message's score, in order, and is updated), the sentiment
/// counts and average recomputed from them, the analyzer label, and the status complete.
/// `seen` says which customer messages (index among the conversation's customer messages) the
/// AI saw, in the order of `ai.sentiment`: long conversations are trimmed, and the messages it
/// did not see keep their score.
pub fn apply_ai(
    summary: &mut Summary,
    scores: &mut [Option<f64>],
    ai: &AiAnalysis,
    seen: &[usize],
    analyzer: &str,
) {
    for (&i, v) in seen.iter().zip(&ai.sentiment) {
        if let Some(slot) = scores.get_mut(i) {
            *slot = *v;
        }
    }
    let mut counts = crate::SentimentCounts::default();
    for s in scores.iter() {
        counts.add(*s);
    }
    let known: Vec<f64> = scores.iter().flatten().copied().collect();
    summary.sentiment = counts;
    summary.status = crate::AnalysisStatus::Complete;
    summary.set_analysis(Analysis {
        analyzer: analyzer.to_owned(),
        avg_sentiment: (!known.is_empty()).then(|| known.iter().sum::<f64>() / known.len() as f64),
        satisfaction_score: Some(ai.satisfaction_score),
        satisfaction_confidence: Some(ai.satisfaction_confidence),
        first_contact_resolution: ai.first_contact_resolution,
        topics: ai.topics.clone(),
    });
}

/// [`apply_ai`] on a whole conversation (its messages' scores updated in place).
pub fn apply_ai_to_conversation(
    c: &mut Conversation,
    ai: &AiAnalysis,
    seen: &[usize],
    analyzer: &str,
) {
    let mut scores: Vec<Option<f64>> = c
        .messages
        .iter()
        .filter(|m| m.role == Role::Customer)
        .map(|m| m.sentiment)
        .collect();
    apply_ai(&mut c.summary, &mut scores, ai, seen, analyzer);
    for (m, s) in c
        .messages
        .iter_mut()
        .filter(|m| m.role == Role::Customer)
        .zip(scores)
    {
        m.sentiment = s;
    }
}

#[cfg(test)]
mod ai_tests {
    use super::*;

    #[test]
    fn ai_analysis_replaces_the_builtin_one_and_keeps_unseen_scores() {
        let e = br#"{"c": [
            {"MESSAGE_CONTENT": "no power", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-08-12T10:00:00Z"},
            {"MESSAGE_CONTENT": "restored", "DIRECTION": "to_client", "SOCIAL_CREATE_TIME": "2025-08-12T10:01:00Z", "AGENT_USERNAME": "a"},
            {"MESSAGE_CONTENT": "great, thanks", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-08-12T10:02:00Z"}
        ]}"#;
        let mut d = crate::process(e, &crate::Options::default()).unwrap();
        let c = &mut d.conversations[0];
        let kept = c.messages[0].sentiment;
        let ai = AiAnalysis {
            satisfaction_score: 5,
            satisfaction_confidence: 0.9,
            first_contact_resolution: Some(true),
            topics: vec!["outage".into()],
            sentiment: vec![Some(0.8)],
        };
        apply_ai_to_conversation(c, &ai, &[1], "gemini:m");
        assert_eq!(c.messages[0].sentiment, kept);
        assert_eq!(c.messages[2].sentiment, Some(0.8));
        assert_eq!(c.summary.analysis.analyzer, "gemini:m");
        assert_eq!(
            c.summary.sentiment.positive
                + c.summary.sentiment.neutral
                + c.summary.sentiment.negative,
            2
        );
        let expected = (kept.unwrap_or(0.8) + 0.8) / if kept.is_some() { 2.0 } else { 1.0 };
        assert_eq!(c.summary.analysis.avg_sentiment, Some(expected));
    }
}

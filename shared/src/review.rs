//! Reviews: a person's judgement of a conversation (satisfaction, FCR, topics, a note), in the
//! labels format of [`crate::evaluate`]. A review stands in for the analyzer's judgement in
//! every figure, while the analyzer's own is kept beside it: for the agreement, and to come back
//! when the review is removed. Browser and server apply reviews through these functions only.

use serde::{Deserialize, Serialize};

use crate::conversation::{Analysis, Summary};
use crate::evaluate::Label;
use crate::topics::Taxonomy;

/// The analyzer label of a conversation whose review is in place.
pub const REVIEW: &str = "review";

/// The longest note a review keeps, in characters.
pub const MAX_NOTE_CHARS: usize = 2000;

/// The most topics a review names (as many as an analysis).
pub const MAX_TOPICS: usize = 5;

/// The topic a review gives a conversation that is about none of the taxonomy's (the labelled
/// set's `other`; the analyzer leaves such a conversation without topics).
pub const OTHER: &str = "other";

/// A review in place on a conversation, with what the analyzer said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reviewed {
    /// The person's judgement.
    pub label: Label,
    /// The analyzer's own analysis, as it stands under the review.
    pub analyzer: Analysis,
}

/// Why a review is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReviewError {
    /// The score is outside 1..5.
    #[error("satisfaction {0} is not in 1..5")]
    Satisfaction(u8),
    /// A topic the taxonomy does not have.
    #[error("topic {topic:?} is not in the taxonomy (known: {known})")]
    UnknownTopic {
        /// The topic as given.
        topic: String,
        /// The taxonomy's labels, comma-separated.
        known: String,
    },
    /// More topics than an analysis holds, or one twice.
    #[error("topics: at most {MAX_TOPICS}, each once")]
    Topics,
    /// The note is too long.
    #[error("note: at most {MAX_NOTE_CHARS} characters")]
    Note,
    /// The tone is outside -1..1.
    #[error("customer_sentiment {0} is not in -1..1")]
    Sentiment(f64),
}

/// The topics a review may name: the taxonomy's labels and [`OTHER`].
pub fn topic_choices(taxonomy: &Taxonomy) -> Vec<String> {
    taxonomy
        .rules
        .iter()
        .map(|r| r.label.clone())
        .chain([OTHER.to_owned()])
        .collect()
}

/// Checks a review against the taxonomy in use and returns it with its topics lowercased.
pub fn checked(mut label: Label, taxonomy: &Taxonomy) -> Result<Label, ReviewError> {
    if !(1..=5).contains(&label.satisfaction) {
        return Err(ReviewError::Satisfaction(label.satisfaction));
    }
    if let Some(v) = label.customer_sentiment {
        if !(-1.0..=1.0).contains(&v) {
            return Err(ReviewError::Sentiment(v));
        }
    }
    if label.note.chars().count() > MAX_NOTE_CHARS {
        return Err(ReviewError::Note);
    }
    let choices = topic_choices(taxonomy);
    let mut topics: Vec<String> = Vec::with_capacity(label.topics.len());
    for t in &label.topics {
        let t = t.trim().to_lowercase();
        if !choices.contains(&t) {
            return Err(ReviewError::UnknownTopic {
                topic: t,
                known: choices.join(", "),
            });
        }
        if topics.contains(&t) {
            return Err(ReviewError::Topics);
        }
        topics.push(t);
    }
    if topics.len() > MAX_TOPICS {
        return Err(ReviewError::Topics);
    }
    label.topics = topics;
    Ok(label)
}

/// The analysis a review puts in place: its judgement, the analyzer's sentiment (a review does
/// not score messages).
fn overlay(analyzer: &Analysis, label: &Label) -> Analysis {
    Analysis {
        analyzer: REVIEW.to_owned(),
        avg_sentiment: analyzer.avg_sentiment,
        satisfaction_score: Some(label.satisfaction),
        satisfaction_confidence: Some(1.0),
        first_contact_resolution: label.fcr,
        topics: label.topics.clone(),
    }
}

/// The reviews of these conversations in the labels format (chat id -> review).
pub fn labels_of<'a>(summaries: impl Iterator<Item = &'a Summary>) -> crate::evaluate::Labels {
    summaries
        .filter_map(|s| Some((s.chat_id.clone(), s.review.as_ref()?.label.clone())))
        .collect()
}

impl Summary {
    /// What the analyzer said, whether or not a review stands in for it.
    pub fn analyzer_analysis(&self) -> &Analysis {
        self.review.as_ref().map_or(&self.analysis, |r| &r.analyzer)
    }

    /// Puts an analyzer's analysis in place; under a review it is kept beside the review.
    pub fn set_analysis(&mut self, a: Analysis) {
        match &mut self.review {
            Some(r) => {
                self.analysis = overlay(&a, &r.label);
                r.analyzer = a;
            }
            None => self.analysis = a,
        }
    }

    /// Puts a review in place of the analyzer's judgement, or (`None`) takes it away.
    pub fn set_review(&mut self, label: Option<Label>) {
        let analyzer = match self.review.take() {
            Some(r) => r.analyzer,
            None => std::mem::take(&mut self.analysis),
        };
        match label {
            Some(label) => {
                self.analysis = overlay(&analyzer, &label);
                self.review = Some(Reviewed { label, analyzer });
            }
            None => self.analysis = analyzer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(satisfaction: u8, fcr: Option<bool>, topics: &[&str]) -> Label {
        Label {
            satisfaction,
            fcr,
            topics: topics.iter().map(|t| t.to_string()).collect(),
            customer_sentiment: None,
            language: None,
            note: String::new(),
            sampled: Some(true),
        }
    }

    fn analysed() -> Summary {
        Summary {
            analysis: Analysis {
                analyzer: "builtin".into(),
                avg_sentiment: Some(-0.2),
                satisfaction_score: Some(2),
                satisfaction_confidence: Some(0.6),
                first_contact_resolution: Some(false),
                topics: vec!["outage".into()],
            },
            ..Summary::default()
        }
    }

    #[test]
    fn a_review_stands_in_and_going_away_restores_the_analyzer() {
        let mut s = analysed();
        let before = s.analysis.clone();
        s.set_review(Some(label(5, Some(true), &["tokens"])));
        assert_eq!(s.analysis.analyzer, REVIEW);
        assert_eq!(s.analysis.satisfaction_score, Some(5));
        assert_eq!(s.analysis.first_contact_resolution, Some(true));
        assert_eq!(s.analysis.topics, vec!["tokens"]);
        assert_eq!(s.analysis.avg_sentiment, Some(-0.2));
        assert_eq!(s.analyzer_analysis(), &before);
        // A second review replaces the first, the analyzer's stays.
        s.set_review(Some(label(1, None, &[])));
        assert_eq!(s.analysis.first_contact_resolution, None);
        assert_eq!(s.analyzer_analysis(), &before);
        s.set_review(None);
        assert_eq!(s.analysis, before);
        assert!(s.review.is_none());
    }

    #[test]
    fn a_new_analysis_under_a_review_goes_beside_it() {
        let mut s = analysed();
        s.set_review(Some(label(4, Some(true), &["billing"])));
        let ai = Analysis {
            analyzer: "gemini:m".into(),
            avg_sentiment: Some(0.5),
            satisfaction_score: Some(1),
            ..Analysis::default()
        };
        s.set_analysis(ai.clone());
        assert_eq!(s.analysis.satisfaction_score, Some(4));
        assert_eq!(s.analysis.avg_sentiment, Some(0.5));
        assert_eq!(s.analyzer_analysis(), &ai);
        s.set_review(None);
        assert_eq!(s.analysis, ai);
    }

    #[test]
    fn reviews_are_checked_against_the_taxonomy() {
        let t = Taxonomy::default();
        assert_eq!(
            checked(label(7, None, &[]), &t),
            Err(ReviewError::Satisfaction(7))
        );
        assert!(matches!(
            checked(label(3, None, &["weather"]), &t),
            Err(ReviewError::UnknownTopic { topic, .. }) if topic == "weather"
        ));
        assert_eq!(
            checked(label(3, None, &["outage", "Outage"]), &t),
            Err(ReviewError::Topics)
        );
        let mut long = label(3, None, &[]);
        long.note = "x".repeat(MAX_NOTE_CHARS + 1);
        assert_eq!(checked(long, &t), Err(ReviewError::Note));
        let ok = checked(label(3, Some(false), &[" Outage ", "other"]), &t).unwrap();
        assert_eq!(ok.topics, vec!["outage", "other"]);
    }
}

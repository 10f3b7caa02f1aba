//! PowerPulse's shared core: everything that turns a Facebook Messenger export into support
//! metrics, with no I/O, so the browser (wasm32) and the server (native) give the same numbers.
//!
//! ```
//! use powerpulse_shared::{process, Filter, Options};
//!
//! let export = br#"{"chat-1": [
//!   {"MESSAGE_CONTENT": "Hi, no power since morning", "DIRECTION": "to_company",
//!    "SOCIAL_CREATE_TIME": "2025-08-12T10:00:00.000Z"},
//!   {"MESSAGE_CONTENT": "Sorry! Power has been restored.", "DIRECTION": "to_client",
//!    "SOCIAL_CREATE_TIME": "2025-08-12T10:04:00.000Z", "AGENT_USERNAME": "amina"},
//!   {"MESSAGE_CONTENT": "It works, asante sana!", "DIRECTION": "to_company",
//!    "SOCIAL_CREATE_TIME": "2025-08-12T10:10:00.000Z"}
//! ]}"#;
//! let dataset = process(export, &Options::default()).unwrap();
//! let m = dataset.metrics(&Filter::default());
//! assert_eq!(m.core.total_conversations, 1);
//! assert_eq!(m.core.avg_response_time_minutes, Some(4.0));
//! assert_eq!(m.core.csat_percentage, 100.0);
//! ```
//!
//! The steps, each in its own module: [`export`] parses, [`cleaning`] drops and assigns roles,
//! [`response_time`] measures, [`analyzer`] (with [`sentiment`] and [`topics`]) judges,
//! [`metrics`] aggregates under a [`Filter`], [`csv_out`] writes. [`synth`] generates realistic
//! exports for tests and benchmarks.

pub mod ai;
pub mod analyzer;
pub mod cleaning;
pub mod conversation;
pub mod csv_out;
pub mod error;
pub mod estimate;
pub mod evaluate;
pub mod evidence;
pub mod export;
pub mod filters;
pub mod hours;
pub mod list;
pub mod metrics;
pub mod periods;
pub mod records;
pub mod report;
pub mod report_html;
pub mod response_time;
pub mod responsiveness;
pub mod review;
pub mod rollup;
pub mod round;
pub mod sentiment;
pub mod service;
pub mod synth;
pub mod tally;
pub mod time;
pub mod topics;
pub mod tz;
pub mod wire;

pub use ai::{
    apply_ai, apply_ai_to_conversation, AiAnalysis, ConversationInput, Speaker, TurnText,
};
pub use analyzer::{BuiltinAnalyzer, BUILTIN};
pub use cleaning::{CleaningOptions, CleaningReport, Filtered};
pub use conversation::{
    Analysis, AnalysisStatus, Conversation, Message, Role, SentimentCounts, Summary,
};
pub use error::ParseError;
pub use filters::{Filter, FilterParams};
pub use metrics::{
    agent_metrics, compute_metrics, daily_metrics, AgentRow, DailyRow, MetricsReport,
    DEFINITIONS_VERSION,
};
pub use records::{ConversationRecord, MessageRecord};
pub use response_time::{Stats, DEFAULT_SEGMENT_GAP_MS};
pub use topics::Taxonomy;

/// Settings of the whole pipeline.
#[derive(Debug, Clone)]
pub struct Options {
    /// Autoresponse patterns.
    pub cleaning: CleaningOptions,
    /// Gap that splits segments, in milliseconds (default 24 h).
    pub segment_gap_ms: i64,
    /// The built-in analyzer (with its topic taxonomy).
    pub analyzer: BuiltinAnalyzer,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            cleaning: CleaningOptions::default(),
            segment_gap_ms: DEFAULT_SEGMENT_GAP_MS,
            analyzer: BuiltinAnalyzer::default(),
        }
    }
}

/// A processed export: cleaned, measured and analysed conversations plus the cleaning report.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Dataset {
    /// Conversations in file order.
    pub conversations: Vec<Conversation>,
    /// What cleaning read, kept and dropped.
    pub report: CleaningReport,
}

/// How the independent steps of the pipeline run: one after the other by default (the browser),
/// on every core on the server. Each step's result is the same however it runs.
pub trait Runner {
    /// Parses an export ([`export::parse_export`], or [`export::parse_export_by`] with its
    /// entries read on threads).
    fn parse<'a>(&self, input: &'a [u8]) -> Result<export::RawExport<'a>, ParseError> {
        export::parse_export(input)
    }

    /// Cleans every chat of `raw`, in order.
    fn clean_chats<'r>(
        &self,
        raw: &'r export::RawExport<'_>,
        opts: &'r CleaningOptions,
    ) -> Vec<cleaning::CleanedChat> {
        cleaning::clean_each(raw, opts).collect()
    }

    /// Measures and analyses every cleaned chat ([`build_conversation`]), in order.
    fn build(&self, chats: Vec<cleaning::CleanChat>, opts: &Options) -> Vec<Conversation> {
        chats
            .into_iter()
            .map(|chat| build_conversation(chat, opts))
            .collect()
    }
}

/// Every step on the calling thread.
pub struct Sequential;

impl Runner for Sequential {}

/// Parses and cleans an export: the chats to measure and analyse, and what cleaning did.
pub fn clean_export(
    input: &[u8],
    opts: &Options,
    run: &impl Runner,
) -> Result<(Vec<cleaning::CleanChat>, CleaningReport), ParseError> {
    let raw = run.parse(input)?;
    Ok(cleaning::gather(
        &raw,
        run.clean_chats(&raw, &opts.cleaning),
    ))
}

/// Parses and cleans several exports as one: a chat found in more than one file gets the
/// messages of all of them, and a message that appears twice (same `UNIQUE_POST_ID`, or same
/// direction, time and text) is kept once and counted as a duplicate. The error names the file
/// (its index in `inputs`, from 0).
pub fn clean_merged(
    inputs: &[&[u8]],
    opts: &Options,
    run: &impl Runner,
) -> Result<(Vec<cleaning::CleanChat>, CleaningReport), (usize, ParseError)> {
    use std::collections::HashMap;
    let mut merged = export::RawExport {
        chats: Vec::new(),
        ungrouped: 0,
    };
    let mut at: HashMap<String, usize> = HashMap::new();
    for (i, input) in inputs.iter().enumerate() {
        let raw = run.parse(input).map_err(|e| (i, e))?;
        merged.ungrouped += raw.ungrouped;
        for (id, value) in raw.chats {
            match at.get(id.as_ref()) {
                None => {
                    at.insert(id.to_string(), merged.chats.len());
                    merged.chats.push((id, value));
                }
                Some(&k) => match (&mut merged.chats[k].1, value) {
                    (export::ChatValue::Messages(kept), export::ChatValue::Messages(more)) => {
                        kept.extend(more)
                    }
                    (slot @ export::ChatValue::NotArray(_), v) => *slot = v,
                    (_, export::ChatValue::NotArray(_)) => {}
                },
            }
        }
    }
    Ok(cleaning::gather(
        &merged,
        run.clean_chats(&merged, &opts.cleaning),
    ))
}

/// [`clean_merged`], then each chat measured and analysed: several exports as one dataset.
pub fn process_merged(inputs: &[&[u8]], opts: &Options) -> Result<Dataset, (usize, ParseError)> {
    process_merged_with(inputs, opts, &Sequential)
}

/// [`process_merged`] with the steps run by `run`.
pub fn process_merged_with(
    inputs: &[&[u8]],
    opts: &Options,
    run: &impl Runner,
) -> Result<Dataset, (usize, ParseError)> {
    let (chats, report) = clean_merged(inputs, opts, run)?;
    Ok(Dataset {
        conversations: run.build(chats, opts),
        report,
    })
}

/// Parses, cleans, measures and analyses an export (the built-in analyzer).
pub fn process(input: &[u8], opts: &Options) -> Result<Dataset, ParseError> {
    process_with(input, opts, &Sequential)
}

/// [`process`] with the steps run by `run`.
pub fn process_with(
    input: &[u8],
    opts: &Options,
    run: &impl Runner,
) -> Result<Dataset, ParseError> {
    let (chats, report) = clean_export(input, opts, run)?;
    Ok(Dataset {
        conversations: run.build(chats, opts),
        report,
    })
}

/// Measures and analyses one cleaned chat.
pub fn build_conversation(chat: cleaning::CleanChat, opts: &Options) -> Conversation {
    let mut messages = chat.messages;
    let mut summary = response_time::time_facts(&chat.chat_id, &mut messages, opts.segment_gap_ms);
    opts.analyzer.analyze(&mut messages, &mut summary);
    Conversation { messages, summary }
}

impl Dataset {
    /// The summaries, in order.
    pub fn summaries(&self) -> impl Iterator<Item = &Summary> + Clone {
        self.conversations.iter().map(|c| &c.summary)
    }

    /// Dataset metrics under `filter` (the `last_updated` field is left empty).
    pub fn metrics(&self, filter: &Filter) -> MetricsReport {
        compute_metrics(self.summaries(), filter, self.report.filtered, None)
    }

    /// The CSV of an export type over the conversations `filter` selects (the CLI's and the
    /// browser's file, byte for byte the server's download).
    pub fn csv(&self, filter: &Filter, t: csv_out::ExportType) -> Vec<u8> {
        use csv_out::ExportType;
        match t {
            ExportType::Conversations => csv_out::conversations_csv(&self.records(filter)),
            ExportType::Messages => {
                let range = filter.time_range();
                let records: Vec<MessageRecord> = self
                    .conversations
                    .iter()
                    .filter(|c| filter.matches(&c.summary, range))
                    .flat_map(MessageRecord::of)
                    .collect();
                csv_out::messages_csv(&records)
            }
            ExportType::Metrics => csv_out::metrics_csv(&self.metrics(filter)),
        }
    }

    /// How far the analyzer agrees with the reviews among the conversations `filter` selects.
    pub fn evaluation(&self, filter: &Filter) -> estimate::ReviewEvaluation {
        estimate::evaluate_selected(self.summaries(), filter)
    }

    /// The report over the conversations `filter` selects.
    pub fn report(&self, filter: &Filter, opts: &report::ReportOptions) -> report::Report {
        report::build(self.summaries(), filter, opts, self.report.filtered)
    }

    /// Conversation records selected by `filter`, in file order.
    pub fn records(&self, filter: &Filter) -> Vec<ConversationRecord> {
        let range = filter.time_range();
        self.summaries()
            .filter(|s| filter.matches(s, range))
            .map(ConversationRecord::from)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_exports_keep_each_message_once() {
        let week1 = br#"{"c1": [
          {"MESSAGE_CONTENT": "no power", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-12-01T10:00:00.000Z", "UNIQUE_POST_ID": "m1"},
          {"MESSAGE_CONTENT": "on it", "DIRECTION": "to_client", "SOCIAL_CREATE_TIME": "2025-12-01T10:05:00.000Z", "AGENT_USERNAME": "amina"}
        ]}"#;
        // The next export overlaps: m1 again (its id), the reply again (no id: direction, time
        // and text), then a new message, and a new chat.
        let week2 = br#"{"c1": [
          {"MESSAGE_CONTENT": "no power", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-12-01T10:00:00.000Z", "UNIQUE_POST_ID": "m1"},
          {"MESSAGE_CONTENT": "on it", "DIRECTION": "to_client", "SOCIAL_CREATE_TIME": "2025-12-01T10:05:00.000Z", "AGENT_USERNAME": "amina"},
          {"MESSAGE_CONTENT": "works now, thanks", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-12-01T10:30:00.000Z"}
        ], "c2": [
          {"MESSAGE_CONTENT": "hello", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-12-08T10:00:00.000Z"}
        ]}"#;
        let d = process_merged(&[week1, week2], &Options::default()).unwrap();
        assert_eq!(d.conversations.len(), 2);
        assert_eq!(d.conversations[0].messages.len(), 3);
        assert_eq!(d.report.filtered.duplicate, 2);
        let alone = process(week2, &Options::default()).unwrap();
        assert_eq!(alone.conversations[0].summary, d.conversations[0].summary);
        let (file, _) = process_merged(&[week1, b"{oops"], &Options::default()).unwrap_err();
        assert_eq!(file, 1);
    }

    #[test]
    fn a_stored_chat_merged_with_a_new_export_equals_the_exports_read_together() {
        // Ids, content keys without ids, a repeat of an id'd message without its id, new
        // messages of both kinds, one earlier than everything stored, and a new chat.
        let a = br#"{"c1": [
          {"MESSAGE_CONTENT": "no power", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-12-01T10:00:00.000Z", "UNIQUE_POST_ID": "m1"},
          {"MESSAGE_CONTENT": "on it", "DIRECTION": "to_client", "SOCIAL_CREATE_TIME": "2025-12-01T10:05:00.000Z", "AGENT_USERNAME": "amina"},
          {"MESSAGE_CONTENT": "thanks", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-12-01T10:06:00.000Z"}
        ]}"#;
        let b = br#"{"c1": [
          {"MESSAGE_CONTENT": "hello?", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-12-01T09:00:00.000Z"},
          {"MESSAGE_CONTENT": "no power", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-12-01T10:00:00.000Z"},
          {"MESSAGE_CONTENT": "on it", "DIRECTION": "to_client", "SOCIAL_CREATE_TIME": "2025-12-01T10:05:00.000Z", "AGENT_USERNAME": "amina"},
          {"MESSAGE_CONTENT": "thanks", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-12-01T10:06:00.000Z"},
          {"MESSAGE_CONTENT": "still dark", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-12-02T08:00:00.000Z", "UNIQUE_POST_ID": "m9"},
          {"MESSAGE_CONTENT": "sorted now", "DIRECTION": "to_client", "SOCIAL_CREATE_TIME": "2025-12-02T08:30:00.000Z", "AGENT_USERNAME": "amina"}
        ]}"#;
        let opts = Options::default();
        let together = process_merged(&[a, b], &opts).unwrap();
        let (first, second) = (process(a, &opts).unwrap(), process(b, &opts).unwrap());
        let stored = |c: &Conversation| cleaning::CleanChat {
            chat_id: c.summary.chat_id.clone(),
            messages: c.messages.clone(),
        };
        let (merged, repeats) = cleaning::merge_chat(
            stored(&first.conversations[0]),
            &second.conversations[0].messages,
        );
        assert_eq!(repeats, 3);
        assert_eq!(
            together.report.filtered.duplicate,
            first.report.filtered.duplicate + second.report.filtered.duplicate + repeats
        );
        let merged = build_conversation(merged, &opts);
        assert_eq!(merged.summary, together.conversations[0].summary);
        let view = |c: &Conversation| {
            c.messages
                .iter()
                .map(|m| {
                    (
                        m.time_ms,
                        m.role,
                        m.agent.clone(),
                        m.text.clone(),
                        m.sentiment,
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(view(&merged), view(&together.conversations[0]));
        // Ids stay unique, and the same export merged again changes nothing.
        let ids: std::collections::HashSet<&str> =
            merged.messages.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids.len(), merged.messages.len());
        let (again, repeats) =
            cleaning::merge_chat(stored(&merged), &second.conversations[0].messages);
        assert_eq!(repeats, second.conversations[0].messages.len() as u64);
        let again = build_conversation(again, &opts);
        assert_eq!(again.messages, merged.messages);
    }
}

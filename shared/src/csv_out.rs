//! CSV exports (conversations, messages, metrics) with the `csv` crate. Rows are encoded one
//! batch at a time so the server can stream a large export and the browser can build a file,
//! both byte for byte the same as the CLI's.

use crate::metrics::{MetricsReport, DEFINITIONS_VERSION};
use crate::records::{ConversationRecord, MessageRecord};
use crate::response_time::Stats;
use crate::round::cell;

/// The three exports (written `conversations`, `messages`, `metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "&'static str")]
pub enum ExportType {
    /// One row per conversation.
    Conversations,
    /// One row per kept message.
    Messages,
    /// One row per figure of the metrics.
    Metrics,
}

impl ExportType {
    /// Parses `conversations`, `messages` or `metrics`.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "conversations" => Ok(Self::Conversations),
            "messages" => Ok(Self::Messages),
            "metrics" => Ok(Self::Metrics),
            other => Err(format!(
                "unknown export type {other:?}: expected conversations, messages or metrics"
            )),
        }
    }

    /// The name as written.
    pub fn name(self) -> &'static str {
        match self {
            Self::Conversations => "conversations",
            Self::Messages => "messages",
            Self::Metrics => "metrics",
        }
    }

    /// The download's file name.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Conversations => "powerpulse_conversations.csv",
            Self::Messages => "powerpulse_messages.csv",
            Self::Metrics => "powerpulse_metrics.csv",
        }
    }
}

impl std::str::FromStr for ExportType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s)
    }
}

impl TryFrom<String> for ExportType {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<ExportType> for &'static str {
    fn from(t: ExportType) -> Self {
        t.name()
    }
}

/// Columns of the conversations CSV: the original tool's first, in its order, then ours.
pub const CONVERSATION_COLUMNS: &[&str] = &[
    "chat_id",
    "total_messages",
    "customer_messages",
    "agent_messages",
    "satisfaction_score",
    "satisfaction_confidence",
    "is_satisfied",
    "avg_sentiment",
    "first_contact_resolution",
    "avg_response_time_minutes",
    "first_message_time",
    "last_message_time",
    "common_topics",
    "first_response_minutes",
    "bot_messages",
    "segments",
    "agents",
    "analyzer",
    "analysis_status",
    "reviewed",
    "review_note",
    "analyzer_satisfaction_score",
    "analyzer_first_contact_resolution",
    "analyzer_topics",
    "definitions",
];

/// Columns of the messages CSV: the original tool's first, in its order, then ours.
pub const MESSAGE_COLUMNS: &[&str] = &[
    "message_id",
    "chat_id",
    "message_content",
    "direction",
    "social_create_time",
    "agent_info",
    "sentiment_score",
    "role",
    "reply_gap_minutes",
    "segment",
    "definitions",
];

/// Columns of the metrics CSV.
pub const METRIC_COLUMNS: &[&str] = &["section", "metric", "value", "n", "definitions"];

/// A cell of text from the export (a message, a chat id, an agent, a topic), neutralised as
/// OWASP advises against CSV injection: a cell that starts with `=`, `+`, `-`, `@`, a tab or a
/// carriage return gets a leading `'`, so Excel and Sheets show it instead of running it.
/// Numbers PowerPulse computes never go through here (a negative sentiment stays a number).
pub fn text_cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

fn opt_bool(b: Option<bool>) -> String {
    b.map(|b| b.to_string()).unwrap_or_default()
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The cells of one conversations-CSV row.
pub fn conversation_cells(r: &ConversationRecord) -> Vec<String> {
    let j = r.analyzer_judgement.as_ref();
    vec![
        text_cell(&r.fb_chat_id),
        r.total_messages.to_string(),
        r.customer_messages.to_string(),
        r.agent_messages.to_string(),
        opt(r.satisfaction_score),
        cell(r.satisfaction_confidence, 4),
        opt_bool(r.is_satisfied),
        cell(r.avg_sentiment, 4),
        opt_bool(r.first_contact_resolution),
        cell(r.avg_response_time_minutes, 2),
        r.first_message_time.clone(),
        r.last_message_time.clone(),
        text_cell(&r.topics.join("; ")),
        cell(r.first_response_minutes, 2),
        r.bot_messages.to_string(),
        r.segments.to_string(),
        text_cell(&r.agents.join("; ")),
        r.analyzer.clone(),
        r.analysis_status.clone(),
        r.reviewed.to_string(),
        text_cell(r.review_note.as_deref().unwrap_or_default()),
        opt(j.and_then(|j| j.satisfaction_score)),
        opt_bool(j.and_then(|j| j.first_contact_resolution)),
        text_cell(&j.map(|j| j.topics.join("; ")).unwrap_or_default()),
        DEFINITIONS_VERSION.to_owned(),
    ]
}

/// The cells of one messages-CSV row.
pub fn message_cells(r: &MessageRecord) -> Vec<String> {
    vec![
        text_cell(&r.message_id),
        text_cell(&r.chat_id),
        text_cell(&r.message_content),
        r.direction.clone(),
        r.social_create_time.clone(),
        text_cell(r.agent_info.as_deref().unwrap_or_default()),
        cell(r.sentiment_score, 4),
        r.role.clone(),
        cell(r.reply_gap_minutes, 2),
        r.segment.to_string(),
        DEFINITIONS_VERSION.to_owned(),
    ]
}

/// The rows of the metrics CSV: `section, metric, value, n`.
pub fn metric_rows(m: &MetricsReport) -> Vec<[String; 4]> {
    let c = &m.core;
    let row = |s: &str, k: &str, v: String, n: Option<u64>| [s.to_owned(), k.to_owned(), v, opt(n)];
    let mut rows = vec![
        row(
            "kpi",
            "total_conversations",
            c.total_conversations.to_string(),
            None,
        ),
        row("kpi", "total_messages", c.total_messages.to_string(), None),
        row(
            "kpi",
            "csat_percentage",
            cell(Some(c.csat_percentage), 2),
            Some(c.n.csat),
        ),
        row(
            "kpi",
            "fcr_percentage",
            cell(Some(c.fcr_percentage), 2),
            Some(c.n.fcr),
        ),
        row(
            "kpi",
            "avg_sentiment_score",
            cell(c.avg_sentiment_score, 4),
            Some(c.n.sentiment),
        ),
        row(
            "kpi",
            "avg_response_time_minutes",
            cell(c.avg_response_time_minutes, 2),
            Some(c.n.response_time),
        ),
    ];
    let stats = |rows: &mut Vec<[String; 4]>, name: &str, s: &Stats| {
        for (k, v) in [("mean", s.mean), ("median", s.median), ("p90", s.p90)] {
            rows.push(row(
                "response_time",
                &format!("{name}_{k}"),
                cell(v, 2),
                Some(s.n),
            ));
        }
    };
    stats(&mut rows, "reply_gap", &c.response_time.reply_gap);
    stats(&mut rows, "turn", &c.response_time.turn);
    stats(&mut rows, "first_response", &c.response_time.first_response);
    rows.push(row(
        "response_time",
        "unanswered_turns",
        c.response_time.unanswered_turns.to_string(),
        None,
    ));
    let d = &c.sentiment_distribution;
    for (k, v) in [
        ("positive", d.positive),
        ("neutral", d.neutral),
        ("negative", d.negative),
    ] {
        rows.push(row("sentiment_distribution", k, v.to_string(), None));
    }
    for t in &m.most_common_topics {
        rows.push(row(
            "topic",
            &text_cell(&t.topic),
            cell(Some(t.percentage), 2),
            Some(t.count),
        ));
    }
    let f = &m.filtered;
    for (k, v) in [
        ("missing_field", f.missing_field),
        ("bad_direction", f.bad_direction),
        ("bad_timestamp", f.bad_timestamp),
        ("empty_content", f.empty_content),
        ("autoresponse", f.autoresponse),
        ("duplicate", f.duplicate),
        ("empty_chats", f.empty_chats),
        ("invalid_chats", f.invalid_chats),
    ] {
        rows.push(row("filtered", k, v.to_string(), None));
    }
    rows
}

/// Encodes rows (no header) as CSV bytes.
pub fn encode<I, R>(rows: I) -> Vec<u8>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator,
    R::Item: AsRef<[u8]>,
{
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    for r in rows {
        // Writing to a Vec cannot fail.
        w.write_record(r).expect("writing CSV to memory");
    }
    w.into_inner().expect("flushing CSV to memory")
}

/// The header row of an export, as CSV bytes.
pub fn header(t: ExportType) -> Vec<u8> {
    let cols = match t {
        ExportType::Conversations => CONVERSATION_COLUMNS,
        ExportType::Messages => MESSAGE_COLUMNS,
        ExportType::Metrics => METRIC_COLUMNS,
    };
    encode([cols])
}

/// A whole conversations CSV.
pub fn conversations_csv<'a>(records: impl IntoIterator<Item = &'a ConversationRecord>) -> Vec<u8> {
    let mut out = header(ExportType::Conversations);
    out.extend(encode(records.into_iter().map(conversation_cells)));
    out
}

/// A whole messages CSV.
pub fn messages_csv<'a>(records: impl IntoIterator<Item = &'a MessageRecord>) -> Vec<u8> {
    let mut out = header(ExportType::Messages);
    out.extend(encode(records.into_iter().map(message_cells)));
    out
}

/// A whole metrics CSV.
pub fn metrics_csv(m: &MetricsReport) -> Vec<u8> {
    let mut out = header(ExportType::Metrics);
    out.extend(encode(metric_rows(m).into_iter().map(|r| {
        let [a, b, c, d] = r;
        [a, b, c, d, DEFINITIONS_VERSION.to_owned()]
    })));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{process, Filter, MessageRecord, Options};

    #[test]
    fn each_export_has_its_documented_file_name() {
        for (name, file) in [
            ("conversations", "powerpulse_conversations.csv"),
            ("messages", "powerpulse_messages.csv"),
            ("metrics", "powerpulse_metrics.csv"),
        ] {
            let t = ExportType::parse(name).unwrap();
            assert_eq!(t.file_name(), file);
        }
    }

    #[test]
    fn csv_cells_that_start_a_formula_are_neutralised() {
        let export = br#"{"=cmd|' /C calc'!A0": [
          {"MESSAGE_CONTENT": "=HYPERLINK(\"http://x\",\"click\")", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-08-12T10:00:00Z"},
          {"MESSAGE_CONTENT": "+254 is my code, we have no power", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-08-12T10:01:00Z"},
          {"MESSAGE_CONTENT": "@SUM(1+1)", "DIRECTION": "to_client", "SOCIAL_CREATE_TIME": "2025-08-12T10:02:00Z", "AGENT_USERNAME": "-agent"}
        ]}"#;
        let d = process(export, &Options::default()).unwrap();
        let messages: Vec<MessageRecord> =
            d.conversations.iter().flat_map(MessageRecord::of).collect();
        let csv = String::from_utf8(messages_csv(&messages)).unwrap();
        for needle in [
            "'=HYPERLINK",
            "'+254 is my code, we have no power",
            "'@SUM(1+1)",
            "'-agent",
            "'=cmd",
        ] {
            assert!(csv.contains(needle), "{needle} not neutralised in:\n{csv}");
        }
        let conversations =
            String::from_utf8(conversations_csv(&d.records(&Filter::default()))).unwrap();
        assert!(conversations.contains("'=cmd"), "{conversations}");
        assert!(conversations.contains("'-agent"), "{conversations}");
        // Numbers stay numbers, a negative one included.
        assert_eq!(text_cell("plain"), "plain");
        assert_eq!(text_cell("\tx"), "'\tx");
        assert_eq!(text_cell("\rx"), "'\rx");
        let row = message_cells(&messages[1]);
        assert!(
            row[6].starts_with('-'),
            "a negative sentiment stays a number: {:?}",
            row[6]
        );
    }
}

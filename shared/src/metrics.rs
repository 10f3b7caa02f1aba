//! Dataset metrics (spec section 6), per day and per agent, computed from conversation
//! summaries. The CLI, the server and the browser all call these functions.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::cleaning::Filtered;
use crate::conversation::{Conversation, Role, SentimentCounts, Summary};
use crate::filters::Filter;
use crate::response_time::Stats;
use crate::round;
use crate::tally::{AgentTally, Dist, Tally};
use crate::time::{local_date, local_weekday_hour};

/// The version of the metric definitions every output carries.
pub const DEFINITIONS_VERSION: &str = "v1";

/// How many topics `most_common_topics` lists.
pub const TOP_TOPICS: usize = 10;

/// One row of `most_common_topics`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TopicCount {
    /// The label.
    pub topic: String,
    /// Conversations carrying it.
    pub count: u64,
    /// `count` / conversations with any topic x 100.
    #[serde(serialize_with = "round::f2")]
    pub percentage: f64,
}

/// Reply gap, turn and first-response statistics, in minutes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResponseTimes {
    /// Reply gaps (the legacy metric).
    pub reply_gap: Stats,
    /// Customer turn response times.
    pub turn: Stats,
    /// First response times.
    pub first_response: Stats,
    /// Turns no agent reply ended.
    pub unanswered_turns: u64,
}

/// How the selected conversations were analysed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnalysisCounts {
    /// Conversations with an analysis in place (all of them: the built-in one at least).
    pub analyzed: u64,
    /// Conversations waiting for the AI.
    pub pending: u64,
    /// Conversations whose AI analysis failed (built-in analysis stands in).
    pub failed: u64,
    /// Conversations by the analyzer of the analysis in place.
    pub by_analyzer: BTreeMap<String, u64>,
}

/// How many conversations each headline figure rests on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KpiCounts {
    /// Conversations with a satisfaction score (CSAT's denominator).
    pub csat: u64,
    /// Conversations with an FCR value (FCR's denominator).
    pub fcr: u64,
    /// Conversations with an average sentiment.
    pub sentiment: u64,
    /// Conversations with an average reply gap.
    pub response_time: u64,
    /// Conversations with any topic.
    pub topics: u64,
}

/// The figures shared by the dataset metrics and each day of the daily series.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CoreMetrics {
    /// Mean of the conversations' average sentiment.
    #[serde(serialize_with = "round::opt4")]
    pub avg_sentiment_score: Option<f64>,
    /// Satisfied / scored x 100 (0 when none are scored).
    #[serde(serialize_with = "round::f2")]
    pub csat_percentage: f64,
    /// FCR true / FCR valued x 100 (0 when none has a value).
    #[serde(serialize_with = "round::f2")]
    pub fcr_percentage: f64,
    /// Mean over conversations of their mean reply gap; null when none has one.
    #[serde(serialize_with = "round::opt2")]
    pub avg_response_time_minutes: Option<f64>,
    /// Conversations selected.
    pub total_conversations: u64,
    /// Their kept messages.
    pub total_messages: u64,
    /// Reply gap, turn and first-response statistics.
    pub response_time: ResponseTimes,
    /// Customer messages by sentiment class.
    pub sentiment_distribution: SentimentCounts,
    /// Denominators of the headline figures.
    pub n: KpiCounts,
}

/// The response of `GET /api/metrics` and `powerpulse metrics --json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetricsReport {
    /// Headline figures.
    #[serde(flatten)]
    pub core: CoreMetrics,
    /// Top topics.
    pub most_common_topics: Vec<TopicCount>,
    /// When the data behind the figures last changed (RFC 3339), if known.
    pub last_updated: Option<String>,
    /// How the conversations were analysed.
    pub analysis: AnalysisCounts,
    /// Cleaning counts of the data (not affected by the filters).
    pub filtered: Filtered,
    /// The filters applied.
    pub filters: Filter,
    /// The definitions version.
    pub definitions: String,
}

/// The dataset report over a tally of the selected conversations.
pub fn report(
    mut tally: Tally,
    filter: &Filter,
    filtered: Filtered,
    last_updated: Option<String>,
) -> MetricsReport {
    let core = tally.core();
    let with_topics = core.n.topics;
    let most_common_topics = tally
        .topic_counts()
        .into_iter()
        .take(TOP_TOPICS)
        .map(|(topic, count)| TopicCount {
            topic: topic.to_owned(),
            count,
            percentage: count as f64 * 100.0 / with_topics as f64,
        })
        .collect();
    MetricsReport {
        core,
        most_common_topics,
        last_updated,
        analysis: tally.analysis(),
        filtered,
        filters: filter.clone(),
        definitions: DEFINITIONS_VERSION.to_owned(),
    }
}

/// Computes the dataset metrics over the summaries the filter selects.
pub fn compute_metrics<'a>(
    summaries: impl IntoIterator<Item = &'a Summary>,
    filter: &Filter,
    filtered: Filtered,
    last_updated: Option<String>,
) -> MetricsReport {
    let range = filter.time_range();
    let mut tally = Tally::default();
    for s in summaries {
        if filter.matches(s, range) {
            tally.add(s, 1);
        }
    }
    report(tally, filter, filtered, last_updated)
}

/// One day of the daily series: conversations whose first message falls on `date` (in the
/// filter's time zone), with the same figures as the dataset metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DailyRow {
    /// The local date.
    pub date: NaiveDate,
    /// The day's figures.
    #[serde(flatten)]
    pub core: CoreMetrics,
}

/// Longest span of days whose quiet days are listed with zeros (ten years): beyond it only the
/// days with conversations are listed, so the series stays bounded by the data.
pub const MAX_FILLED_DAYS: i64 = 3_660;

/// The daily series, one row per day from the first to the last selected day (empty days
/// included, so charts do not hide quiet days, over at most [`MAX_FILLED_DAYS`]).
pub fn daily_metrics<'a>(
    summaries: impl IntoIterator<Item = &'a Summary>,
    filter: &Filter,
) -> Vec<DailyRow> {
    let range = filter.time_range();
    let mut days: BTreeMap<NaiveDate, Tally> = BTreeMap::new();
    for s in summaries {
        if filter.matches(s, range) {
            days.entry(local_date(s.first_message_ms, filter.tz))
                .or_default()
                .add(s, 1);
        }
    }
    daily_rows(days)
}

/// The daily series over each local day's tally (days without conversations count as quiet).
pub fn daily_rows(mut days: BTreeMap<NaiveDate, Tally>) -> Vec<DailyRow> {
    days.retain(|_, t| !t.is_empty());
    let (Some(&first), Some(&last)) = (days.keys().next(), days.keys().next_back()) else {
        return Vec::new();
    };
    if (last - first).num_days() >= MAX_FILLED_DAYS {
        return days
            .into_iter()
            .map(|(date, mut t)| DailyRow {
                date,
                core: t.core(),
            })
            .collect();
    }
    let mut rows = Vec::new();
    let mut d = first;
    while d <= last {
        let core = days.remove(&d).unwrap_or_default().core();
        rows.push(DailyRow { date: d, core });
        match d.succ_opt() {
            Some(n) => d = n,
            None => break,
        }
    }
    rows
}

/// One row of the per-agent table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentRow {
    /// The agent (username, else email).
    pub agent: String,
    /// Conversations the agent replied in.
    pub conversations: u64,
    /// The agent's replies.
    pub replies: u64,
    /// Reply gaps of the agent's replies.
    pub reply_gap: Stats,
    /// Turns the agent's replies ended.
    pub turn: Stats,
    /// First turns the agent answered.
    pub first_response: Stats,
    /// CSAT over the conversations the agent replied in.
    #[serde(serialize_with = "round::opt2")]
    pub csat_percentage: Option<f64>,
    /// FCR over the conversations the agent replied in.
    #[serde(serialize_with = "round::opt2")]
    pub fcr_percentage: Option<f64>,
    /// Scored conversations behind `csat_percentage`.
    pub csat_n: u64,
}

/// The per-agent table over the selected conversations, busiest agents first.
pub fn agent_metrics<'a>(
    summaries: impl IntoIterator<Item = &'a Summary>,
    filter: &Filter,
) -> Vec<AgentRow> {
    let range = filter.time_range();
    let mut agents: HashMap<String, AgentTally> = HashMap::new();
    for s in summaries {
        if !filter.matches(s, range) {
            continue;
        }
        add_agents(&mut agents, s);
    }
    agent_rows(agents)
}

/// Counts each agent's part of a conversation.
pub fn add_agents(agents: &mut HashMap<String, AgentTally>, s: &Summary) {
    for (i, name) in s.agents.iter().enumerate() {
        match agents.get_mut(name.as_str()) {
            Some(a) => a.add(s, i as u32, 1),
            None => agents.entry(name.clone()).or_default().add(s, i as u32, 1),
        }
    }
}

/// The per-agent table over each agent's tally, busiest agents first.
pub fn agent_rows(agents: HashMap<String, AgentTally>) -> Vec<AgentRow> {
    let mut rows: Vec<AgentRow> = agents
        .into_iter()
        .filter(|(_, a)| !a.is_empty())
        .map(|(name, mut a)| a.row(&name))
        .collect();
    rows.sort_by(|a, b| {
        b.conversations
            .cmp(&a.conversations)
            .then(a.agent.cmp(&b.agent))
    });
    rows
}

/// One bar of the reply-gap histogram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Bucket {
    /// Human label (e.g. `5-15 min`).
    pub label: String,
    /// Upper bound in minutes (exclusive); `None` for the last, open bucket.
    pub upper_minutes: Option<f64>,
    /// Reply gaps in the bucket.
    pub count: u64,
}

const BUCKETS: &[(f64, &str)] = &[
    (1.0, "< 1 min"),
    (5.0, "1-5 min"),
    (15.0, "5-15 min"),
    (30.0, "15-30 min"),
    (60.0, "30-60 min"),
    (120.0, "1-2 h"),
    (240.0, "2-4 h"),
    (480.0, "4-8 h"),
    (1440.0, "8-24 h"),
];

/// Histogram of the reply gaps of the selected conversations.
pub fn reply_gap_histogram<'a>(
    summaries: impl IntoIterator<Item = &'a Summary>,
    filter: &Filter,
) -> Vec<Bucket> {
    let range = filter.time_range();
    let mut gaps = Dist::default();
    for s in summaries.into_iter().filter(|s| filter.matches(s, range)) {
        for g in s.replies.iter().filter_map(|r| r.gap) {
            gaps.add(g, 1);
        }
    }
    histogram(&mut gaps)
}

/// The index of the histogram's last (open) bar.
pub const GAP_BUCKETS: usize = BUCKETS.len();

/// The bar of the histogram (index from 0) a reply gap falls in, as [`histogram`] counts it.
pub fn gap_bucket(minutes: f64) -> usize {
    let m =
        (minutes * crate::time::MS_PER_MINUTE).round() as i64 as f64 / crate::time::MS_PER_MINUTE;
    BUCKETS
        .iter()
        .position(|(u, _)| m < *u)
        .unwrap_or(BUCKETS.len())
}

/// The histogram's bars over a set of reply gaps.
pub fn histogram(gaps: &mut Dist) -> Vec<Bucket> {
    let uppers: Vec<f64> = BUCKETS.iter().map(|(u, _)| *u).collect();
    let counts = gaps.histogram(&uppers);
    let mut out: Vec<Bucket> = BUCKETS
        .iter()
        .zip(&counts)
        .map(|((u, l), c)| Bucket {
            label: (*l).to_owned(),
            upper_minutes: Some(*u),
            count: *c,
        })
        .collect();
    out.push(Bucket {
        label: ">= 24 h".to_owned(),
        upper_minutes: None,
        count: counts[BUCKETS.len()],
    });
    out
}

/// Customer messages by local weekday (0 = Monday) and hour, over the selected conversations.
pub fn weekday_hour_heatmap(conversations: &[Conversation], filter: &Filter) -> [[u64; 24]; 7] {
    let range = filter.time_range();
    let mut grid = [[0u64; 24]; 7];
    for c in conversations
        .iter()
        .filter(|c| filter.matches(&c.summary, range))
    {
        for m in c.messages.iter().filter(|m| m.role == Role::Customer) {
            let (d, h) = local_weekday_hour(m.time_ms, filter.tz);
            grid[d as usize][h as usize] += 1;
        }
    }
    grid
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{process, AnalysisStatus, Options};

    #[test]
    fn an_agent_without_scored_or_valued_conversations_has_no_percentages() {
        let json = br#"{"a": [
            {"MESSAGE_CONTENT": "hello", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-08-12T10:00:00Z"},
            {"MESSAGE_CONTENT": "hi", "DIRECTION": "to_client", "SOCIAL_CREATE_TIME": "2025-08-12T10:05:00Z", "AGENT_USERNAME": "amina"}]}"#;
        let d = process(json, &Options::default()).unwrap();
        let mut s: Vec<Summary> = d.conversations.iter().map(|c| c.summary.clone()).collect();
        s[0].analysis.satisfaction_score = None;
        s[0].analysis.first_contact_resolution = None;
        let rows = agent_metrics(&s, &Filter::default());
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0].csat_percentage, rows[0].fcr_percentage),
            (None, None)
        );
        assert_eq!(rows[0].csat_n, 0);
        s[0].analysis.satisfaction_score = Some(4);
        s[0].analysis.first_contact_resolution = Some(false);
        let rows = agent_metrics(&s, &Filter::default());
        assert_eq!(
            (rows[0].csat_percentage, rows[0].fcr_percentage),
            (Some(100.0), Some(0.0))
        );
    }

    #[test]
    fn analysis_counts_say_what_waits_what_failed_and_who_judged() {
        let chat = |id: &str, minute: u32| {
            format!(
                r#""{id}": [{{"MESSAGE_CONTENT": "no power", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-08-12T10:{minute:02}:00Z"}}]"#
            )
        };
        let json = format!(
            "{{{}, {}, {}, {}}}",
            chat("a", 1),
            chat("b", 2),
            chat("c", 3),
            chat("d", 4)
        );
        let d = process(json.as_bytes(), &Options::default()).unwrap();
        let mut s: Vec<Summary> = d.conversations.iter().map(|c| c.summary.clone()).collect();
        s[0].status = AnalysisStatus::Pending;
        s[1].status = AnalysisStatus::Failed;
        s[2].status = AnalysisStatus::Pending;
        s[3].analysis.analyzer = "openai:gpt-6-luna".into();
        let m = compute_metrics(&s, &Filter::default(), Filtered::default(), None);
        assert_eq!(m.analysis.analyzed, 4);
        assert_eq!(m.analysis.pending, 2);
        assert_eq!(m.analysis.failed, 1);
        assert_eq!(
            m.analysis.by_analyzer,
            BTreeMap::from([
                ("builtin".to_owned(), 3),
                ("openai:gpt-6-luna".to_owned(), 1)
            ])
        );
    }
}

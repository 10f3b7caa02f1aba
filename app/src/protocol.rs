//! Messages between the page and the worker. Each message is a JS array `[header, payload]`:
//! the header is JSON of these types, the payload an optional `File` or `ArrayBuffer`.

use powerpulse_shared::csv_out::ExportType;
use powerpulse_shared::estimate::{Queue, ReviewEvaluation};
use powerpulse_shared::evaluate::Label;
use powerpulse_shared::evidence::{Evidence, EvidenceList};
use powerpulse_shared::list::{ListPage, ListQuery};
use powerpulse_shared::metrics::Bucket;
use powerpulse_shared::records::AnalyzerJudgement;
use powerpulse_shared::report::{Report, ReportParams};
use powerpulse_shared::{AgentRow, CleaningReport, DailyRow, Filter, MessageRecord, MetricsReport};
use serde::{Deserialize, Serialize};

/// A dataset as listed (kept in IndexedDB beside its data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetMeta {
    /// Local id.
    pub id: String,
    /// The file name.
    pub name: String,
    /// The file size in bytes.
    pub size: u64,
    /// When it was added (ms since the epoch).
    pub created_ms: f64,
    /// Conversations.
    pub conversations: u64,
    /// Kept messages.
    pub messages: u64,
    /// The analyzer of most conversations (`builtin`, or the AI's label).
    pub analyzer: String,
}

/// From the page to the worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Request {
    /// Start: list the datasets and reopen the last one.
    Init,
    /// Read, process, show and save one file or several merged into one dataset (the payload
    /// is a `File` or an array of them).
    Load {
        /// Echoed in the answers.
        seq: u32,
        /// The dataset's name (the file names).
        name: String,
    },
    /// Reopen a saved dataset.
    Open {
        /// Echoed.
        seq: u32,
        /// Its id.
        id: String,
    },
    /// Delete a saved dataset.
    Delete {
        /// Its id.
        id: String,
    },
    /// Everything the dashboard shows, under a filter.
    Query {
        /// Echoed.
        seq: u32,
        /// The filter.
        filter: Filter,
        /// The conversation list's page.
        list: ListQuery,
        /// The report's settings (business hours, targets, periods).
        report: ReportParams,
    },
    /// The conversations (or reply gaps) behind a figure.
    Evidence {
        /// The filter.
        filter: Filter,
        /// The report's settings (breaches are judged by them).
        report: ReportParams,
        /// What the figure counts.
        evidence: Evidence,
        /// What the page calls it.
        title: String,
    },
    /// The customer messages of one heatmap cell (weekday 0 is Monday, in the filter's zone).
    HourEvidence {
        /// The filter.
        filter: Filter,
        /// The cell's weekday.
        weekday: u8,
        /// The cell's hour.
        hour: u8,
        /// What the page calls it.
        title: String,
    },
    /// The report as one HTML page, or its figures by period as CSV (the answer is a `File`).
    ReportPage {
        /// The filter.
        filter: Filter,
        /// The report's settings.
        report: ReportParams,
        /// The CSV instead of the page.
        csv: bool,
    },
    /// Only the conversation list's page.
    Page {
        /// Echoed.
        seq: u32,
        /// The filter.
        filter: Filter,
        /// The page.
        list: ListQuery,
    },
    /// One conversation's messages.
    Transcript {
        /// The chat id.
        chat_id: String,
    },
    /// A CSV export (the answer's payload is its bytes).
    Csv {
        /// Which export.
        kind: ExportType,
        /// The filter.
        filter: Filter,
    },
    /// Analyse the dataset's conversations with the AI of the server the app came from.
    Ai {
        /// Ignore the server's cache.
        force: bool,
    },
    /// Stop the AI analysis.
    AiCancel,
    /// The dataset's reviews as a labels file (the answer is a `File`).
    ExportReviews,
    /// Put the reviews of a labels file (the payload is the `File`) in place, all or none.
    ImportReviews,
    /// Put a review in place of the analyzer's judgement of a conversation (`None`: take it
    /// away), and save the dataset.
    Review {
        /// The chat id.
        chat_id: String,
        /// The review.
        review: Option<Label>,
    },
}

/// The headline figures unrounded (the metrics report rounds when serialized; the KPI cards'
/// `data-value` attributes carry these).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Kpis {
    /// Conversations.
    pub conversations: u64,
    /// Messages.
    pub messages: u64,
    /// CSAT %.
    pub csat: f64,
    /// FCR %.
    pub fcr: f64,
    /// Mean reply gap (minutes).
    pub reply_gap: Option<f64>,
    /// Median turn response time.
    pub turn_median: Option<f64>,
    /// p90 turn response time.
    pub turn_p90: Option<f64>,
    /// Mean first response time.
    pub first_response: Option<f64>,
    /// Median first response time.
    pub first_response_median: Option<f64>,
    /// Mean sentiment.
    pub sentiment: Option<f64>,
}

impl Kpis {
    /// The unrounded figures of a report.
    pub fn of(m: &MetricsReport) -> Self {
        let c = &m.core;
        Self {
            conversations: c.total_conversations,
            messages: c.total_messages,
            csat: c.csat_percentage,
            fcr: c.fcr_percentage,
            reply_gap: c.avg_response_time_minutes,
            turn_median: c.response_time.turn.median,
            turn_p90: c.response_time.turn.p90,
            first_response: c.response_time.first_response.mean,
            first_response_median: c.response_time.first_response.median,
            sentiment: c.avg_sentiment_score,
        }
    }
}

/// What the dashboard shows under a filter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct View {
    /// Headline figures, unrounded.
    pub kpis: Kpis,
    /// Headline figures (rounded when serialized).
    pub metrics: MetricsReport,
    /// Per day.
    pub daily: Vec<DailyRow>,
    /// Per agent.
    pub agents: Vec<AgentRow>,
    /// Reply-gap histogram.
    pub histogram: Vec<Bucket>,
    /// Customer messages by weekday (0 = Monday) and hour.
    pub heatmap: Vec<Vec<u64>>,
    /// The conversation list's page.
    pub page: ListPage,
    /// The analyzer against the reviews in view, and the corrected CSAT and FCR.
    pub evaluation: ReviewEvaluation,
    /// What to review next: unreviewed conversations in view, by queue.
    pub queues: Vec<(Queue, Vec<String>)>,
    /// The report under the settings (`None` when they were refused).
    pub report: Option<Report>,
    /// Why the report's settings were refused.
    pub report_error: Option<String>,
    /// Milliseconds the worker spent computing this.
    pub compute_ms: f64,
}

/// Choices of the filters, from the whole dataset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Facets {
    /// Agents, by name.
    pub agents: Vec<String>,
    /// Topics, by name.
    pub topics: Vec<String>,
    /// First day with a conversation (UTC, YYYY-MM-DD).
    pub first_day: Option<String>,
    /// Last day with a conversation.
    pub last_day: Option<String>,
}

/// A step of loading a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Reading the file.
    Reading,
    /// Parsing, cleaning, measuring and analysing.
    Processing,
    /// Saving the dataset in IndexedDB.
    Saving,
    /// Finished.
    Done,
}

impl Stage {
    /// What the progress bar says.
    pub fn label(self) -> &'static str {
        match self {
            Stage::Reading => "reading",
            Stage::Processing => "parsing and analysing",
            Stage::Saving => "saving in the browser",
            Stage::Done => "done",
        }
    }
}

/// From the worker to the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    /// The worker listens: messages sent before this would have been lost.
    Listening,
    /// The saved datasets (the last one opened is reopened next).
    Ready {
        /// Saved datasets, newest first.
        datasets: Vec<DatasetMeta>,
    },
    /// Work in progress.
    Progress {
        /// Echoed.
        seq: u32,
        /// The step.
        stage: Stage,
        /// 0 to 100.
        pct: f64,
    },
    /// A dataset is open.
    Loaded {
        /// Echoed.
        seq: u32,
        /// Its description.
        meta: DatasetMeta,
        /// What cleaning read, kept and dropped.
        report: Box<CleaningReport>,
        /// Filter choices.
        facets: Facets,
        /// Worker milliseconds: reading, processing or decoding.
        work_ms: f64,
    },
    /// The dashboard's figures.
    View {
        /// Echoed.
        seq: u32,
        /// The figures.
        view: Box<View>,
    },
    /// The conversation list's page.
    Page {
        /// Echoed.
        seq: u32,
        /// The page.
        page: ListPage,
    },
    /// One conversation's messages.
    Transcript {
        /// The chat id.
        chat_id: String,
        /// Its messages in time order.
        messages: Vec<MessageRecord>,
        /// Its analyzer.
        analyzer: String,
        /// Its review, if it has one.
        review: Option<Label>,
        /// What the analyzer said (under a review too).
        judgement: AnalyzerJudgement,
        /// The topics a review may name.
        topics: Vec<String>,
    },
    /// A review was saved (or taken away).
    Reviewed {
        /// The chat id.
        chat_id: String,
    },
    /// A labels file was imported.
    ReviewsImported {
        /// Reviews put in place.
        applied: usize,
        /// Labels of chats the dataset does not hold (left out).
        unknown: usize,
    },
    /// The items behind a figure.
    Evidence {
        /// What the page called it.
        title: String,
        /// The items.
        list: EvidenceList,
    },
    /// A file to download (payload: its bytes).
    File {
        /// The file name.
        name: String,
    },
    /// The saved datasets changed.
    Datasets {
        /// Saved datasets, newest first.
        datasets: Vec<DatasetMeta>,
        /// A problem with the browser's storage (quota), for people.
        warning: Option<String>,
    },
    /// AI analysis progress.
    AiProgress {
        /// Conversations analysed.
        done: usize,
        /// Conversations that failed (they keep the built-in analysis).
        failed: usize,
        /// Conversations to analyse.
        total: usize,
    },
    /// AI analysis finished (or stopped).
    AiDone {
        /// The analyzer label.
        analyzer: String,
        /// Analysed.
        done: usize,
        /// Failed.
        failed: usize,
        /// Why it stopped early, if it did.
        stopped: Option<String>,
    },
    /// Something went wrong; nothing was changed.
    Error {
        /// Echoed (0 when not tied to a request).
        seq: u32,
        /// What and where, for people.
        message: String,
    },
}

//! The page's state: signals the components read, and the requests that change them.

use std::sync::Arc;

use leptos::prelude::*;
use powerpulse_shared::estimate::Queue;
use powerpulse_shared::evaluate::Label;
use powerpulse_shared::evidence::EvidenceList;
use powerpulse_shared::list::{ListPage, ListQuery};
use powerpulse_shared::records::AnalyzerJudgement;
use powerpulse_shared::report::ReportParams;
use powerpulse_shared::{CleaningReport, Filter, MessageRecord};

use crate::protocol::{DatasetMeta, Facets, Stage, View};

/// What the server offers (when the app is served by the proxy).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerInfo {
    /// The server answered `/health`.
    pub reachable: bool,
    /// It has an AI provider.
    pub ai: bool,
    /// Its analyzer label.
    pub analyzer: String,
}

impl From<powerpulse_shared::wire::Health> for ServerInfo {
    fn from(h: powerpulse_shared::wire::Health) -> Self {
        ServerInfo {
            reachable: true,
            ai: h.ai,
            analyzer: h.analyzer,
        }
    }
}

/// The AI analysis, seen from the page.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum AiState {
    /// Not running.
    #[default]
    Idle,
    /// Running: done, failed, total.
    Running(usize, usize, usize),
    /// Finished, with a sentence.
    Finished(String),
}

/// Measured durations (milliseconds), shown in the footer and read by the benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    /// From choosing a file to its KPIs on screen.
    pub load_ms: Option<f64>,
    /// From page navigation to a reopened dataset's KPIs on screen.
    pub open_ms: Option<f64>,
    /// From a filter change to everything redrawn.
    pub filter_ms: Option<f64>,
    /// How many timings were taken (two runs may take the same milliseconds).
    pub count: u32,
}

/// The opened transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct Transcript {
    /// The chat id.
    pub chat_id: String,
    /// Messages in time order.
    pub messages: Vec<MessageRecord>,
    /// Who analysed it.
    pub analyzer: String,
    /// Its review, if it has one.
    pub review: Option<Label>,
    /// What the analyzer said.
    pub judgement: AnalyzerJudgement,
    /// The topics a review may name.
    pub topics: Vec<String>,
}

/// All signals of the page; `Copy`, shared through context.
#[derive(Clone, Copy)]
pub struct Ui {
    /// Saved datasets.
    pub datasets: RwSignal<Vec<DatasetMeta>>,
    /// The open dataset.
    pub current: RwSignal<Option<DatasetMeta>>,
    /// Its cleaning report.
    pub report: RwSignal<Option<CleaningReport>>,
    /// Its filter choices.
    pub facets: RwSignal<Facets>,
    /// The dashboard's figures.
    pub view: RwSignal<Option<Arc<View>>>,
    /// The conversation list's page.
    pub page: RwSignal<Option<ListPage>>,
    /// The filters.
    pub filter: RwSignal<Filter>,
    /// The list's search, sort and page.
    pub list: RwSignal<ListQuery>,
    /// Work in progress: stage and percent.
    pub progress: RwSignal<Option<(Stage, f64)>>,
    /// The last error (a bad file, say).
    pub error: RwSignal<Option<String>>,
    /// A storage warning (quota).
    pub warning: RwSignal<Option<String>>,
    /// The open transcript.
    pub transcript: RwSignal<Option<Transcript>>,
    /// What the last import of reviews did.
    pub notice: RwSignal<Option<String>>,
    /// The review queue the open transcript came from (`None`: the list).
    pub queue: RwSignal<Option<Queue>>,
    /// The server.
    pub server: RwSignal<ServerInfo>,
    /// The AI analysis.
    pub ai: RwSignal<AiState>,
    /// Whether the browser keeps the data under storage pressure.
    pub persisted: RwSignal<Option<bool>>,
    /// Measured durations.
    pub timings: RwSignal<Timings>,
    /// The report's settings: business hours, targets, periods (kept in this browser).
    pub report_params: RwSignal<ReportParams>,
    /// The items behind the figure last opened, with its title.
    pub evidence: RwSignal<Option<(String, EvidenceList)>>,
}

/// Where the report's settings are kept between visits.
const REPORT_KEY: &str = "powerpulse.report";

/// The report's settings kept in this browser (none kept: the defaults).
pub fn kept_report_params() -> ReportParams {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item(REPORT_KEY).ok().flatten())
        .and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or_default()
}

/// Keeps the report's settings for the next visit.
pub fn keep_report_params(p: &ReportParams) {
    if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = s.set_item(
            REPORT_KEY,
            &serde_json::to_string(p).expect("settings serialize"),
        );
    }
}

impl Ui {
    /// Fresh state.
    pub fn new() -> Self {
        Self {
            datasets: RwSignal::new(Vec::new()),
            current: RwSignal::new(None),
            report: RwSignal::new(None),
            facets: RwSignal::new(Facets::default()),
            view: RwSignal::new(None),
            page: RwSignal::new(None),
            filter: RwSignal::new(Filter::default()),
            list: RwSignal::new(ListQuery::default()),
            progress: RwSignal::new(None),
            error: RwSignal::new(None),
            warning: RwSignal::new(None),
            transcript: RwSignal::new(None),
            queue: RwSignal::new(None),
            notice: RwSignal::new(None),
            server: RwSignal::new(ServerInfo::default()),
            ai: RwSignal::new(AiState::Idle),
            persisted: RwSignal::new(None),
            timings: RwSignal::new(Timings::default()),
            report_params: RwSignal::new(kept_report_params()),
            evidence: RwSignal::new(None),
        }
    }

    /// Closes the open dataset (it was deleted): the page goes back to the drop zone.
    pub fn close(&self) {
        self.current.set(None);
        self.view.set(None);
        self.page.set(None);
        self.report.set(None);
        self.transcript.set(None);
        self.evidence.set(None);
    }
}

impl Default for Ui {
    fn default() -> Self {
        Self::new()
    }
}

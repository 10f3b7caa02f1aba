//! The worker's side: it holds the open dataset, runs the shared crate on it (parsing, cleaning,
//! analysis, metrics, lists, CSV), keeps datasets in IndexedDB, and talks to the server's AI
//! endpoint. The page never blocks on any of it.

use std::cell::RefCell;
use std::rc::Rc;

mod ai;
mod storage;

use js_sys::{Array, ArrayBuffer, Uint8Array};
use powerpulse_shared::estimate::{queue, Queue};
use powerpulse_shared::evaluate::parse_labels;
use powerpulse_shared::evaluate::Label;
use powerpulse_shared::evidence::{evidence, hour_evidence};
use powerpulse_shared::list::list_page;
use powerpulse_shared::metrics::{reply_gap_histogram, weekday_hour_heatmap};
use powerpulse_shared::report::ReportParams;
use powerpulse_shared::report_html::{report_csv, report_html, REPORT_TITLE};
use powerpulse_shared::review::{checked, labels_of, topic_choices};
use powerpulse_shared::{
    agent_metrics, compute_metrics, daily_metrics, process, process_merged, Dataset, Filter,
    MessageRecord, Options, Taxonomy, BUILTIN,
};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::protocol::{DatasetMeta, Facets, Reply, Request, Stage, View};
pub use storage::storage_problem;
use storage::{
    delete, keep_reviews, kept_reviews, last_opened, list_datasets, load_saved, save, Saved,
    SavedRef,
};

struct Open {
    meta: DatasetMeta,
    dataset: Dataset,
}

#[derive(Default)]
struct Engine {
    open: Option<Open>,
    ai_abort: Option<web_sys::AbortController>,
}

type Shared = Rc<RefCell<Engine>>;

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn now() -> f64 {
    js_sys::Date::now()
}

fn post(reply: &Reply, payload: Option<&JsValue>) {
    let msg = Array::new();
    msg.push(&JsValue::from_str(
        &serde_json::to_string(reply).expect("replies serialize"),
    ));
    let transfer = Array::new();
    if let Some(p) = payload {
        msg.push(p);
        if let Some(buf) = p.dyn_ref::<ArrayBuffer>() {
            transfer.push(buf);
        }
    }
    let _ = scope().post_message_with_transfer(&msg, &transfer);
}

fn error(seq: u32, message: impl Into<String>) {
    post(
        &Reply::Error {
            seq,
            message: message.into(),
        },
        None,
    );
}

fn bytes_to_buffer(bytes: &[u8]) -> ArrayBuffer {
    let arr = Uint8Array::new_with_length(bytes.len() as u32);
    arr.copy_from(bytes);
    arr.buffer()
}

/// Starts the worker: answers the page's requests.
pub fn start() {
    let engine: Shared = Rc::new(RefCell::new(Engine::default()));
    let handler = Closure::<dyn Fn(MessageEvent)>::new(move |ev: MessageEvent| {
        let data = Array::from(&ev.data());
        let header = data.get(0).as_string().unwrap_or_default();
        let payload = data.get(1);
        let engine = engine.clone();
        match serde_json::from_str::<Request>(&header) {
            Ok(req) => wasm_bindgen_futures::spawn_local(handle(engine, req, payload)),
            Err(e) => error(0, format!("bad request: {e}")),
        }
    });
    scope().set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
    post(&Reply::Listening, None);
}

fn facets(d: &Dataset) -> Facets {
    let mut agents = std::collections::BTreeSet::new();
    let mut topics = std::collections::BTreeSet::new();
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    for s in d.summaries() {
        agents.extend(s.agents.iter().cloned());
        topics.extend(s.analysis.topics.iter().cloned());
        lo = lo.min(s.first_message_ms);
        hi = hi.max(s.first_message_ms);
    }
    let day = |ms: i64| {
        powerpulse_shared::time::local_date(ms, powerpulse_shared::time::Tz::UTC).to_string()
    };
    Facets {
        agents: agents.into_iter().collect(),
        topics: topics.into_iter().collect(),
        first_day: (lo != i64::MAX).then(|| day(lo)),
        last_day: (hi != i64::MIN).then(|| day(hi)),
    }
}

fn majority_analyzer(d: &Dataset) -> String {
    let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for s in d.summaries() {
        *counts.entry(s.analysis.analyzer.as_str()).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(a, _)| a.to_owned())
        .unwrap_or_else(|| BUILTIN.into())
}

fn new_id() -> String {
    format!(
        "ds-{:x}-{:x}",
        now() as u64,
        (js_sys::Math::random() * 1e9) as u64
    )
}

/// Conversations each review queue offers at a time.
const QUEUE_LEN: usize = 50;

fn view(
    d: &Dataset,
    filter: &Filter,
    list: &powerpulse_shared::list::ListQuery,
    params: &ReportParams,
) -> View {
    let t = now();
    let (report, report_error) = match params.to_options(filter.tz) {
        Ok(opts) => (Some(d.report(filter, &opts)), None),
        Err(e) => (None, Some(e)),
    };
    let metrics = compute_metrics(d.summaries(), filter, d.report.filtered, None);
    let heatmap = weekday_hour_heatmap(&d.conversations, filter)
        .iter()
        .map(|r| r.to_vec())
        .collect();
    View {
        kpis: crate::protocol::Kpis::of(&metrics),
        metrics,
        daily: daily_metrics(d.summaries(), filter),
        agents: agent_metrics(d.summaries(), filter),
        histogram: reply_gap_histogram(d.summaries(), filter),
        heatmap,
        page: list_page(&d.conversations, filter, list),
        evaluation: d.evaluation(filter),
        queues: [Queue::Sample, Queue::Uncertain]
            .into_iter()
            .map(|k| (k, queue(d.summaries(), filter, k, QUEUE_LEN)))
            .collect(),
        report,
        report_error,
        compute_ms: now() - t,
    }
}

async fn open_dataset(engine: &Shared, seq: u32, saved: Saved, work_ms: f64) {
    let reply = Reply::Loaded {
        seq,
        meta: saved.meta.clone(),
        report: Box::new(saved.dataset.report.clone()),
        facets: facets(&saved.dataset),
        work_ms,
    };
    engine.borrow_mut().open = Some(Open {
        meta: saved.meta,
        dataset: saved.dataset,
    });
    post(&reply, None);
}

/// Answers one request of the page.
async fn handle(engine: Shared, req: Request, payload: JsValue) {
    match req {
        Request::Init => init(&engine).await,
        Request::Load { seq, name } => load(&engine, seq, name, payload).await,
        Request::Open { seq, id } => {
            let t = now();
            match load_saved(&id).await {
                Ok(saved) => open_dataset(&engine, seq, saved, now() - t).await,
                Err(e) => error(seq, e),
            }
        }
        Request::Delete { id } => remove(&engine, &id).await,
        Request::Query {
            seq,
            filter,
            list,
            report,
        } => {
            if let Some(v) = with_open(&engine, seq, |o| view(&o.dataset, &filter, &list, &report))
            {
                post(
                    &Reply::View {
                        seq,
                        view: Box::new(v),
                    },
                    None,
                );
            }
        }
        Request::Page { seq, filter, list } => {
            let page = with_open(&engine, seq, |o| {
                list_page(&o.dataset.conversations, &filter, &list)
            });
            if let Some(page) = page {
                post(&Reply::Page { seq, page }, None);
            }
        }
        Request::Transcript { chat_id } => {
            if let Some(reply) = with_open(&engine, 0, |o| transcript(o, &chat_id)) {
                post(&reply, None);
            }
        }
        Request::Csv { kind, filter } => {
            if let Some(bytes) = with_open(&engine, 0, |o| o.dataset.csv(&filter, kind)) {
                let name = kind.file_name().to_owned();
                post(&Reply::File { name }, Some(&bytes_to_buffer(&bytes).into()));
            }
        }
        Request::Evidence {
            filter,
            report,
            evidence: what,
            title,
        } => {
            let list = with_open(&engine, 0, |o| {
                report
                    .to_options(filter.tz)
                    .map(|opts| evidence(o.dataset.summaries(), &filter, &what, &opts))
            });
            match list {
                Some(Ok(list)) => post(&Reply::Evidence { title, list }, None),
                Some(Err(e)) => error(0, e),
                None => {}
            }
        }
        Request::HourEvidence {
            filter,
            weekday,
            hour,
            title,
        } => {
            let list = with_open(&engine, 0, |o| {
                hour_evidence(&o.dataset.conversations, &filter, weekday, hour)
            });
            if let Some(list) = list {
                post(&Reply::Evidence { title, list }, None);
            }
        }
        Request::ReportPage {
            filter,
            report,
            csv,
        } => {
            let file = with_open(&engine, 0, |o| {
                report.to_options(filter.tz).map(|opts| {
                    let r = o.dataset.report(&filter, &opts);
                    if csv {
                        ("powerpulse_report.csv", report_csv(&r))
                    } else {
                        (
                            "powerpulse_report.html",
                            report_html(&r, REPORT_TITLE).into_bytes(),
                        )
                    }
                })
            });
            match file {
                Some(Ok((name, bytes))) => post(
                    &Reply::File { name: name.into() },
                    Some(&bytes_to_buffer(&bytes).into()),
                ),
                Some(Err(e)) => error(0, e),
                None => {}
            }
        }
        Request::Ai { force } => ai::run(engine, force).await,
        Request::AiCancel => {
            if let Some(a) = engine.borrow_mut().ai_abort.take() {
                a.abort();
            }
        }
        Request::Review { chat_id, review } => set_review(&engine, chat_id, review).await,
        Request::ExportReviews => {
            if let Some(labels) = with_open(&engine, 0, |o| labels_of(o.dataset.summaries())) {
                let bytes = serde_json::to_string(&labels).expect("labels serialize");
                let name = "powerpulse_reviews.json".to_owned();
                post(
                    &Reply::File { name },
                    Some(&bytes_to_buffer(bytes.as_bytes()).into()),
                );
            }
        }
        Request::ImportReviews => import_reviews(&engine, payload).await,
    }
}

/// A labels file put in place: every review checked first, so a bad one changes nothing;
/// labels of chats the dataset does not hold are counted and left out.
async fn import_reviews(engine: &Shared, payload: JsValue) {
    let Ok(file) = payload.dyn_into::<web_sys::File>() else {
        return error(0, "no file was given");
    };
    let name = file.name();
    let bytes = match JsFuture::from(file.array_buffer()).await {
        Ok(b) => Uint8Array::new(&b).to_vec(),
        Err(e) => return error(0, format!("cannot read {name}: {e:?}")),
    };
    let taxonomy = Taxonomy::default();
    let labels = match parse_labels(&bytes).and_then(|labels| {
        labels
            .into_iter()
            .map(|(id, l)| {
                checked(l, &taxonomy)
                    .map(|l| (id.clone(), l))
                    .map_err(|e| format!("chat {id:?}: {e}"))
            })
            .collect::<Result<std::collections::HashMap<_, _>, _>>()
    }) {
        Ok(l) => l,
        Err(e) => return error(0, format!("{name}: {e}")),
    };
    let applied = {
        let mut e = engine.borrow_mut();
        let Some(o) = e.open.as_mut() else {
            return error(0, "no dataset is open");
        };
        let mut applied = Vec::new();
        for c in &mut o.dataset.conversations {
            if let Some(l) = labels.get(&c.summary.chat_id) {
                c.summary.set_review(Some(l.clone()));
                applied.push((c.summary.chat_id.clone(), Some(l.clone())));
            }
        }
        applied
    };
    let unknown = labels.len() - applied.len();
    post(
        &Reply::ReviewsImported {
            applied: applied.len(),
            unknown,
        },
        None,
    );
    persist(engine).await;
    if let Err(e) = keep_reviews(applied).await {
        error(0, e);
    }
}

/// Puts a review in place (checked against the taxonomy), saves the dataset, and tells the
/// page, which redraws; a bad review changes nothing.
async fn set_review(engine: &Shared, chat_id: String, review: Option<Label>) {
    let outcome = {
        let mut e = engine.borrow_mut();
        let Some(o) = e.open.as_mut() else {
            return error(0, "no dataset is open");
        };
        let review = match review.map(|l| checked(l, &Taxonomy::default())) {
            Some(Err(err)) => return error(0, format!("review of {chat_id}: {err}")),
            Some(Ok(l)) => Some(l),
            None => None,
        };
        match o
            .dataset
            .conversations
            .iter_mut()
            .find(|c| c.summary.chat_id == chat_id)
        {
            Some(c) => {
                c.summary.set_review(review.clone());
                Ok((transcript(o, &chat_id), review))
            }
            None => Err(format!("no conversation {chat_id}")),
        }
    };
    match outcome {
        Ok((t, review)) => {
            post(
                &Reply::Reviewed {
                    chat_id: chat_id.clone(),
                },
                None,
            );
            post(&t, None);
            persist(engine).await;
            if let Err(e) = keep_reviews(vec![(chat_id, review)]).await {
                error(0, e);
            }
        }
        Err(e) => error(0, e),
    }
}

/// `f` of the open dataset; without one, the page is told and nothing is answered.
fn with_open<T>(engine: &Shared, seq: u32, f: impl FnOnce(&Open) -> T) -> Option<T> {
    let e = engine.borrow();
    let out = e.open.as_ref().map(f);
    if out.is_none() {
        error(seq, "no dataset is open");
    }
    out
}

/// Start-up: the saved datasets, and the last one opened reopened.
async fn init(engine: &Shared) {
    let datasets = list_datasets().await.unwrap_or_else(|e| {
        error(0, e);
        Vec::new()
    });
    post(
        &Reply::Ready {
            datasets: datasets.clone(),
        },
        None,
    );
    let last = last_opened().await;
    if let Some(id) = last.filter(|id| datasets.iter().any(|d| &d.id == id)) {
        let t = now();
        match load_saved(&id).await {
            Ok(saved) => open_dataset(engine, 0, saved, now() - t).await,
            Err(e) => error(0, e),
        }
    }
}

fn progress(seq: u32, stage: Stage, pct: f64) {
    post(&Reply::Progress { seq, stage, pct }, None);
}

/// A file dropped on the page: read, processed, shown, then saved.
async fn load(engine: &Shared, seq: u32, name: String, payload: JsValue) {
    let t = now();
    progress(seq, Stage::Reading, 5.0);
    // One file, or several to merge into one dataset.
    let files: Vec<web_sys::File> = match payload.dyn_into::<web_sys::File>() {
        Ok(f) => vec![f],
        Err(p) => Array::from(&p)
            .iter()
            .filter_map(|f| f.dyn_into::<web_sys::File>().ok())
            .collect(),
    };
    if files.is_empty() {
        return error(seq, "no file was given");
    }
    let mut size = 0;
    let mut inputs = Vec::with_capacity(files.len());
    for file in &files {
        size += file.size() as u64;
        match JsFuture::from(file.array_buffer()).await {
            Ok(b) => inputs.push(Uint8Array::new(&b).to_vec()),
            Err(e) => return error(seq, format!("cannot read {}: {e:?}", file.name())),
        }
    }
    progress(seq, Stage::Processing, 30.0);
    let processed = if inputs.len() == 1 {
        process(&inputs[0], &Options::default()).map_err(|e| (0, e))
    } else {
        let slices: Vec<&[u8]> = inputs.iter().map(Vec::as_slice).collect();
        process_merged(&slices, &Options::default())
    };
    let mut dataset = match processed {
        Ok(d) => d,
        Err((i, e)) => return error(seq, format!("{}: {e}", files[i].name())),
    };
    drop(inputs);
    // Reviews made in this browser come back with a new import of the same chats.
    let reviews = kept_reviews().await;
    for c in &mut dataset.conversations {
        if let Some(l) = reviews.get(&c.summary.chat_id) {
            c.summary.set_review(Some(l.clone()));
        }
    }
    let meta = DatasetMeta {
        id: new_id(),
        name,
        size,
        created_ms: now(),
        conversations: dataset.conversations.len() as u64,
        messages: dataset.report.messages_kept,
        analyzer: BUILTIN.into(),
    };
    open_dataset(engine, seq, Saved { meta, dataset }, now() - t).await;
    progress(seq, Stage::Saving, 90.0);
    persist(engine).await;
    progress(seq, Stage::Done, 100.0);
}

/// Deletes a saved dataset (closing it, and stopping its AI analysis, when it is open).
async fn remove(engine: &Shared, id: &str) {
    {
        let mut e = engine.borrow_mut();
        if e.open.as_ref().is_some_and(|o| o.meta.id == id) {
            e.open = None;
            if let Some(a) = e.ai_abort.take() {
                a.abort();
            }
        }
    }
    let warning = delete(id).await.err();
    let datasets = list_datasets().await.unwrap_or_default();
    post(&Reply::Datasets { datasets, warning }, None);
}

/// One conversation's messages, or the error that it is not in the dataset.
fn transcript(o: &Open, chat_id: &str) -> Reply {
    match o
        .dataset
        .conversations
        .iter()
        .find(|c| c.summary.chat_id == chat_id)
    {
        Some(c) => {
            let a = c.summary.analyzer_analysis();
            Reply::Transcript {
                chat_id: chat_id.to_owned(),
                messages: MessageRecord::of(c).collect(),
                analyzer: c.summary.analysis.analyzer.clone(),
                review: c.summary.review.as_ref().map(|r| r.label.clone()),
                judgement: powerpulse_shared::records::AnalyzerJudgement {
                    analyzer: a.analyzer.clone(),
                    satisfaction_score: a.satisfaction_score,
                    satisfaction_confidence: a.satisfaction_confidence,
                    first_contact_resolution: a.first_contact_resolution,
                    topics: a.topics.clone(),
                },
                topics: topic_choices(&Taxonomy::default()),
            }
        }
        None => Reply::Error {
            seq: 0,
            message: format!("no conversation {chat_id}"),
        },
    }
}

async fn persist(engine: &Shared) {
    let encoded = {
        let e = engine.borrow();
        let Some(o) = &e.open else { return };
        let saved = SavedRef {
            meta: &o.meta,
            dataset: &o.dataset,
        };
        (
            o.meta.clone(),
            postcard::to_allocvec(&saved).expect("datasets encode"),
        )
    };
    let warning = save(&encoded.0, encoded.1).await.err();
    let datasets = list_datasets().await.unwrap_or_default();
    post(&Reply::Datasets { datasets, warning }, None);
}

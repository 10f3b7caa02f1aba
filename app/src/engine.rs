//! The worker's side: it holds the open dataset, runs the shared crate on it (parsing, cleaning,
//! analysis, metrics, lists, CSV), keeps datasets in IndexedDB, and talks to the server's AI
//! endpoint. The page never blocks on any of it.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, ArrayBuffer, Uint8Array};
use powerpulse_shared::csv_out::{self, ExportType};
use powerpulse_shared::list::list_page;
use powerpulse_shared::metrics::{reply_gap_histogram, weekday_hour_heatmap};
use powerpulse_shared::{
    agent_metrics, apply_ai_to_conversation, compute_metrics, daily_metrics, process, AiAnalysis,
    ConversationInput, Dataset, Filter, MessageRecord, Options,
};
use rexie::{ObjectStore, Rexie, TransactionMode};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::protocol::{DatasetMeta, Facets, Reply, Request, View};

/// What is saved per dataset: the processed data, so reopening needs no parsing.
#[derive(Serialize, Deserialize)]
struct Saved {
    meta: DatasetMeta,
    dataset: Dataset,
}

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
    // Tells the page the worker listens (messages sent before would be lost).
    post(
        &Reply::Progress {
            seq: 0,
            stage: "started".into(),
            pct: 0.0,
        },
        None,
    );
}

async fn db() -> Result<Rexie, String> {
    Rexie::builder("powerpulse")
        .version(1)
        .add_object_store(ObjectStore::new("datasets"))
        .add_object_store(ObjectStore::new("blobs"))
        .add_object_store(ObjectStore::new("prefs"))
        .build()
        .await
        .map_err(|e| format!("browser storage is unavailable: {e:?}"))
}

async fn list_datasets() -> Result<Vec<DatasetMeta>, String> {
    let db = db().await?;
    let tx = db
        .transaction(&["datasets"], TransactionMode::ReadOnly)
        .map_err(|e| format!("{e:?}"))?;
    let store = tx.store("datasets").map_err(|e| format!("{e:?}"))?;
    let values = store
        .get_all(None, None)
        .await
        .map_err(|e| format!("{e:?}"))?;
    let mut metas: Vec<DatasetMeta> = values
        .into_iter()
        .filter_map(|v| v.as_string().and_then(|s| serde_json::from_str(&s).ok()))
        .collect();
    metas.sort_by(|a, b| b.created_ms.total_cmp(&a.created_ms));
    Ok(metas)
}

/// Explains a storage failure; a full quota gets a clear sentence.
pub fn storage_problem(e: &rexie::Error) -> String {
    let text = format!("{e:?}");
    if text.contains("Quota") {
        "The browser's storage is full: this dataset stays open in this tab but was not saved. Delete older datasets to make room.".into()
    } else {
        format!("The dataset could not be saved in the browser: {e}")
    }
}

async fn save(meta: &DatasetMeta, bytes: Vec<u8>) -> Result<(), String> {
    let db = db().await?;
    let tx = db
        .transaction(&["datasets", "blobs", "prefs"], TransactionMode::ReadWrite)
        .map_err(|e| storage_problem(&e))?;
    let key = JsValue::from_str(&meta.id);
    let blob = Uint8Array::from(bytes.as_slice());
    let meta_json = JsValue::from_str(&serde_json::to_string(meta).expect("meta serializes"));
    // No other future is awaited inside the transaction (it would end it early).
    let r = async {
        tx.store("blobs")?.put(&blob, Some(&key)).await?;
        tx.store("datasets")?.put(&meta_json, Some(&key)).await?;
        tx.store("prefs")?
            .put(&key, Some(&JsValue::from_str("last")))
            .await?;
        tx.done().await
    }
    .await;
    r.map(|_| ()).map_err(|e| storage_problem(&e))
}

async fn load_saved(id: &str) -> Result<Saved, String> {
    let db = db().await?;
    let tx = db
        .transaction(&["blobs", "prefs"], TransactionMode::ReadWrite)
        .map_err(|e| format!("{e:?}"))?;
    let key = JsValue::from_str(id);
    let value = tx
        .store("blobs")
        .map_err(|e| format!("{e:?}"))?
        .get(key.clone())
        .await
        .map_err(|e| format!("{e:?}"))?;
    tx.store("prefs")
        .map_err(|e| format!("{e:?}"))?
        .put(&key, Some(&JsValue::from_str("last")))
        .await
        .map_err(|e| format!("{e:?}"))?;
    tx.done().await.map_err(|e| format!("{e:?}"))?;
    let Some(value) = value else {
        return Err(format!(
            "dataset {id} is not in the browser's storage any more"
        ));
    };
    let bytes = Uint8Array::new(&value).to_vec();
    postcard::from_bytes(&bytes).map_err(|e| {
        format!("the saved dataset is unreadable ({e}); delete it and load the file again")
    })
}

async fn last_opened() -> Option<String> {
    let db = db().await.ok()?;
    let tx = db.transaction(&["prefs"], TransactionMode::ReadOnly).ok()?;
    let v = tx
        .store("prefs")
        .ok()?
        .get(JsValue::from_str("last"))
        .await
        .ok()??;
    v.as_string()
}

async fn delete(id: &str) -> Result<(), String> {
    let db = db().await?;
    let tx = db
        .transaction(&["datasets", "blobs"], TransactionMode::ReadWrite)
        .map_err(|e| format!("{e:?}"))?;
    let key = JsValue::from_str(id);
    tx.store("datasets")
        .map_err(|e| format!("{e:?}"))?
        .delete(key.clone())
        .await
        .map_err(|e| format!("{e:?}"))?;
    tx.store("blobs")
        .map_err(|e| format!("{e:?}"))?
        .delete(key)
        .await
        .map_err(|e| format!("{e:?}"))?;
    tx.done().await.map_err(|e| format!("{e:?}"))?;
    Ok(())
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
        .unwrap_or_else(|| "builtin".into())
}

fn new_id() -> String {
    format!(
        "ds-{:x}-{:x}",
        now() as u64,
        (js_sys::Math::random() * 1e9) as u64
    )
}

fn view(d: &Dataset, filter: &Filter, list: &powerpulse_shared::list::ListQuery) -> View {
    let t = now();
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

#[derive(Serialize)]
struct SavedRef<'a> {
    meta: &'a DatasetMeta,
    dataset: &'a Dataset,
}

async fn handle(engine: Shared, req: Request, payload: JsValue) {
    match req {
        Request::Init => {
            let datasets = match list_datasets().await {
                Ok(d) => d,
                Err(e) => {
                    error(0, e);
                    Vec::new()
                }
            };
            post(
                &Reply::Ready {
                    datasets: datasets.clone(),
                    persisted: false,
                },
                None,
            );
            if let Some(id) = last_opened()
                .await
                .filter(|id| datasets.iter().any(|d| &d.id == id))
            {
                let t = now();
                match load_saved(&id).await {
                    Ok(saved) => open_dataset(&engine, 0, saved, now() - t).await,
                    Err(e) => error(0, e),
                }
            }
        }
        Request::Load { seq, name } => {
            let t = now();
            post(
                &Reply::Progress {
                    seq,
                    stage: "reading".into(),
                    pct: 5.0,
                },
                None,
            );
            let Ok(file) = payload.dyn_into::<web_sys::File>() else {
                return error(seq, "no file was given");
            };
            let size = file.size() as u64;
            let buffer = match JsFuture::from(file.array_buffer()).await {
                Ok(b) => b,
                Err(e) => return error(seq, format!("cannot read {name}: {e:?}")),
            };
            let bytes = Uint8Array::new(&buffer).to_vec();
            drop(buffer);
            post(
                &Reply::Progress {
                    seq,
                    stage: "parsing and analysing".into(),
                    pct: 30.0,
                },
                None,
            );
            let dataset = match process(&bytes, &Options::default()) {
                Ok(d) => d,
                Err(e) => return error(seq, format!("{name}: {e}")),
            };
            drop(bytes);
            let meta = DatasetMeta {
                id: new_id(),
                name,
                size,
                created_ms: now(),
                conversations: dataset.conversations.len() as u64,
                messages: dataset.report.messages_kept,
                analyzer: "builtin".into(),
            };
            open_dataset(&engine, seq, Saved { meta, dataset }, now() - t).await;
            post(
                &Reply::Progress {
                    seq,
                    stage: "saving in the browser".into(),
                    pct: 90.0,
                },
                None,
            );
            persist(&engine).await;
            post(
                &Reply::Progress {
                    seq,
                    stage: "done".into(),
                    pct: 100.0,
                },
                None,
            );
        }
        Request::Open { seq, id } => {
            let t = now();
            match load_saved(&id).await {
                Ok(saved) => open_dataset(&engine, seq, saved, now() - t).await,
                Err(e) => error(seq, e),
            }
        }
        Request::Delete { id } => {
            let closes = engine
                .borrow()
                .open
                .as_ref()
                .is_some_and(|o| o.meta.id == id);
            if closes {
                let mut e = engine.borrow_mut();
                e.open = None;
                if let Some(a) = e.ai_abort.take() {
                    a.abort();
                }
            }
            let warning = delete(&id).await.err();
            let datasets = list_datasets().await.unwrap_or_default();
            post(&Reply::Datasets { datasets, warning }, None);
        }
        Request::Query { seq, filter, list } => {
            let v = {
                let e = engine.borrow();
                let Some(o) = &e.open else {
                    return error(seq, "no dataset is open");
                };
                view(&o.dataset, &filter, &list)
            };
            post(
                &Reply::View {
                    seq,
                    view: Box::new(v),
                },
                None,
            );
        }
        Request::Page { seq, filter, list } => {
            let page = {
                let e = engine.borrow();
                let Some(o) = &e.open else {
                    return error(seq, "no dataset is open");
                };
                list_page(&o.dataset.conversations, &filter, &list)
            };
            post(&Reply::Page { seq, page }, None);
        }
        Request::Transcript { chat_id } => {
            let reply = {
                let e = engine.borrow();
                let Some(o) = &e.open else {
                    return error(0, "no dataset is open");
                };
                let Some(c) = o
                    .dataset
                    .conversations
                    .iter()
                    .find(|c| c.summary.chat_id == chat_id)
                else {
                    return error(0, format!("no conversation {chat_id}"));
                };
                Reply::Transcript {
                    chat_id: chat_id.clone(),
                    messages: MessageRecord::of(c).collect(),
                    analyzer: c.summary.analysis.analyzer.clone(),
                }
            };
            post(&reply, None);
        }
        Request::Csv { kind, filter } => {
            let out = {
                let e = engine.borrow();
                let Some(o) = &e.open else {
                    return error(0, "no dataset is open");
                };
                let t = match ExportType::parse(&kind) {
                    Ok(t) => t,
                    Err(msg) => return error(0, msg),
                };
                let d = &o.dataset;
                let bytes = match t {
                    ExportType::Conversations => csv_out::conversations_csv(&d.records(&filter)),
                    ExportType::Messages => {
                        let range = filter.time_range();
                        let recs: Vec<MessageRecord> = d
                            .conversations
                            .iter()
                            .filter(|c| filter.matches(&c.summary, range))
                            .flat_map(MessageRecord::of)
                            .collect();
                        csv_out::messages_csv(&recs)
                    }
                    ExportType::Metrics => csv_out::metrics_csv(&d.metrics(&filter)),
                };
                (t.file_name().to_owned(), bytes)
            };
            post(
                &Reply::Csv { name: out.0 },
                Some(&bytes_to_buffer(&out.1).into()),
            );
        }
        Request::Ai { base, force } => ai_impl::run(engine, base, force).await,
        Request::AiCancel => {
            if let Some(a) = engine.borrow_mut().ai_abort.take() {
                a.abort();
            }
        }
    }
}

/// The AI analysis from the worker: batches to the server's `/api/analyze`, results applied with
/// the shared crate's rule, progress reported, cancellable, saved at the end.
mod ai_impl {
    use super::*;

    #[derive(Deserialize)]
    struct Res {
        id: String,
        status: String,
        satisfaction_score: Option<u8>,
        satisfaction_confidence: Option<f64>,
        first_contact_resolution: Option<bool>,
        #[serde(default)]
        topics: Vec<String>,
        #[serde(default)]
        sentiment: Vec<Option<f64>>,
        #[serde(default)]
        customer_message_indices: Vec<usize>,
    }

    #[derive(Deserialize)]
    struct Resp {
        analyzer: String,
        results: Vec<Res>,
    }

    /// Conversations per request.
    const CHUNK: usize = 200;

    async fn call(base: &str, body: String, signal: &web_sys::AbortSignal) -> Result<Resp, String> {
        let init = web_sys::RequestInit::new();
        init.set_method("POST");
        init.set_body(&JsValue::from_str(&body));
        init.set_signal(Some(signal));
        let headers = web_sys::Headers::new().map_err(|e| format!("{e:?}"))?;
        headers
            .set("content-type", "application/json")
            .map_err(|e| format!("{e:?}"))?;
        init.set_headers(&headers);
        let url = format!("{}/api/analyze", base.trim_end_matches('/'));
        let resp = JsFuture::from(scope().fetch_with_str_and_init(&url, &init))
            .await
            .map_err(|_| {
                "the server cannot be reached (offline?): the built-in analysis stays".to_owned()
            })?;
        let resp: web_sys::Response = resp.unchecked_into();
        let text = JsFuture::from(resp.text().map_err(|e| format!("{e:?}"))?)
            .await
            .map_err(|e| format!("{e:?}"))?
            .as_string()
            .unwrap_or_default();
        match resp.status() {
            200 => serde_json::from_str(&text)
                .map_err(|e| format!("unexpected answer from the server: {e}")),
            503 => {
                Err("the server has no AI provider configured: the built-in analysis stays".into())
            }
            429 => Err("the AI provider's quota is exhausted: try again later".into()),
            401 => Err("the server needs an API token".into()),
            s => Err(format!("the server answered {s}")),
        }
    }

    pub(super) async fn run(engine: Shared, base: String, force: bool) {
        let abort = match web_sys::AbortController::new() {
            Ok(a) => a,
            Err(e) => return error(0, format!("{e:?}")),
        };
        engine.borrow_mut().ai_abort = Some(abort.clone());
        let ids: Vec<String> = {
            let e = engine.borrow();
            let Some(o) = &e.open else {
                return error(0, "no dataset is open");
            };
            o.dataset
                .conversations
                .iter()
                .filter(|c| c.summary.customer_messages + c.summary.agent_messages > 0)
                .map(|c| c.summary.chat_id.clone())
                .collect()
        };
        let total = ids.len();
        let (mut done, mut failed, mut stopped, mut analyzer) =
            (0usize, 0usize, None, String::new());
        for chunk in ids.chunks(CHUNK) {
            if abort.signal().aborted() {
                stopped = Some("cancelled".to_owned());
                break;
            }
            let body = {
                let e = engine.borrow();
                let Some(o) = &e.open else { return };
                let wanted: std::collections::HashSet<&str> =
                    chunk.iter().map(String::as_str).collect();
                let inputs: Vec<ConversationInput> = o
                    .dataset
                    .conversations
                    .iter()
                    .filter(|c| wanted.contains(c.summary.chat_id.as_str()))
                    .map(ConversationInput::of)
                    .collect();
                serde_json::json!({"conversations": inputs, "force": force}).to_string()
            };
            match call(&base, body, &abort.signal()).await {
                Ok(resp) => {
                    analyzer = resp.analyzer.clone();
                    let mut e = engine.borrow_mut();
                    let Some(o) = e.open.as_mut() else { return };
                    let by_id: std::collections::HashMap<&str, &Res> =
                        resp.results.iter().map(|r| (r.id.as_str(), r)).collect();
                    for c in o.dataset.conversations.iter_mut() {
                        let Some(r) = by_id.get(c.summary.chat_id.as_str()) else {
                            continue;
                        };
                        match (
                            r.status.as_str(),
                            r.satisfaction_score,
                            r.satisfaction_confidence,
                        ) {
                            ("done", Some(score), Some(conf)) => {
                                let ai = AiAnalysis {
                                    satisfaction_score: score,
                                    satisfaction_confidence: conf,
                                    first_contact_resolution: r.first_contact_resolution,
                                    topics: r.topics.clone(),
                                    sentiment: r.sentiment.clone(),
                                };
                                apply_ai_to_conversation(
                                    c,
                                    &ai,
                                    &r.customer_message_indices,
                                    &resp.analyzer,
                                );
                                done += 1;
                            }
                            _ => failed += 1,
                        }
                    }
                    o.meta.analyzer = majority_analyzer(&o.dataset);
                }
                Err(e) => {
                    stopped = Some(if abort.signal().aborted() {
                        "cancelled".into()
                    } else {
                        e
                    });
                    break;
                }
            }
            post(
                &Reply::AiProgress {
                    done,
                    failed,
                    total,
                },
                None,
            );
        }
        engine.borrow_mut().ai_abort = None;
        if done > 0 {
            persist(&engine).await;
        }
        post(
            &Reply::AiDone {
                analyzer,
                done,
                failed,
                stopped,
            },
            None,
        );
    }
}

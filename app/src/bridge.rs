//! The page's side of the worker: sends requests, turns replies into state, measures how long
//! the user waited.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use js_sys::{Array, Uint8Array};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, Worker};

use crate::protocol::{Reply, Request, Stage};
use crate::state::{AiState, Transcript, Ui};

/// What a reply's timing measures.
#[derive(Clone, Copy, PartialEq)]
enum Measure {
    Load(f64),
    /// From this instant (0 = navigation start) to a saved dataset's KPIs.
    Open(f64),
    Filter(f64),
}

struct Bridge {
    worker: Worker,
    seq: Cell<u32>,
    /// The latest view request, and what its reply's arrival measures.
    view_seq: Cell<u32>,
    measure: Cell<Option<Measure>>,
    /// Set when a load or open finished and its first view is due.
    pending_first_view: Cell<Option<Measure>>,
    ready: Cell<bool>,
    queued: RefCell<Vec<(String, Option<JsValue>)>>,
}

thread_local! {
    static BRIDGE: RefCell<Option<Bridge>> = const { RefCell::new(None) };
}

/// Milliseconds since the page started loading.
pub fn now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

fn with<R>(f: impl FnOnce(&Bridge) -> R) -> Option<R> {
    BRIDGE.with(|b| b.borrow().as_ref().map(f))
}

fn raw_send(b: &Bridge, header: String, payload: Option<JsValue>) {
    if !b.ready.get() {
        b.queued.borrow_mut().push((header, payload));
        return;
    }
    let msg = Array::new();
    msg.push(&JsValue::from_str(&header));
    if let Some(p) = payload {
        msg.push(&p);
    }
    let _ = b.worker.post_message(&msg);
}

/// Sends a request (with a `File` payload, for loads).
pub fn send(req: &Request, payload: Option<JsValue>) {
    let header = serde_json::to_string(req).expect("requests serialize");
    with(|b| raw_send(b, header, payload));
}

/// A fresh request number.
pub fn next_seq() -> u32 {
    with(|b| {
        b.seq.set(b.seq.get() + 1);
        b.seq.get()
    })
    .unwrap_or(0)
}

/// Asks for everything the dashboard shows under the current filters.
pub fn query(ui: Ui, filter_changed_at: Option<f64>) {
    let seq = next_seq();
    with(|b| {
        b.view_seq.set(seq);
        let m = b
            .pending_first_view
            .take()
            .or(filter_changed_at.map(Measure::Filter));
        b.measure.set(m);
    });
    send(
        &Request::Query {
            seq,
            filter: ui.filter.get_untracked(),
            list: ui.list.get_untracked(),
            report: ui.report_params.get_untracked(),
        },
        None,
    );
}

/// Asks for the items behind a figure (shown in the evidence panel).
pub fn evidence(ui: Ui, evidence: powerpulse_shared::evidence::Evidence, title: String) {
    send(
        &Request::Evidence {
            filter: ui.filter.get_untracked(),
            report: ui.report_params.get_untracked(),
            evidence,
            title,
        },
        None,
    );
}

/// Asks for the customer messages of a heatmap cell (shown in the evidence panel).
pub fn hour_evidence(ui: Ui, weekday: u8, hour: u8, title: String) {
    send(
        &Request::HourEvidence {
            filter: ui.filter.get_untracked(),
            weekday,
            hour,
            title,
        },
        None,
    );
}

/// Asks for the report page, or its CSV (downloaded when it comes).
pub fn report_page(ui: Ui, csv: bool) {
    send(
        &Request::ReportPage {
            filter: ui.filter.get_untracked(),
            report: ui.report_params.get_untracked(),
            csv,
        },
        None,
    );
}

/// Asks for the conversation list's page only.
pub fn page(ui: Ui) {
    let seq = next_seq();
    send(
        &Request::Page {
            seq,
            filter: ui.filter.get_untracked(),
            list: ui.list.get_untracked(),
        },
        None,
    );
}

/// Loads one file, or several merged into one dataset.
pub fn load(files: Vec<web_sys::File>) {
    let seq = next_seq();
    with(|b| b.pending_first_view.set(Some(Measure::Load(now()))));
    let name = files
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(" + ");
    let payload: JsValue = match <[web_sys::File; 1]>::try_from(files) {
        Ok([one]) => one.into(),
        Err(many) => many.into_iter().collect::<Array>().into(),
    };
    send(&Request::Load { seq, name }, Some(payload));
}

/// Opens a saved dataset.
pub fn open(id: String) {
    let seq = next_seq();
    with(|b| b.pending_first_view.set(Some(Measure::Open(now()))));
    send(&Request::Open { seq, id }, None);
}

/// Records a timing once the browser has painted the new state.
fn after_paint(ui: Ui, m: Measure) {
    let cb = Closure::once_into_js(move || {
        let t = now();
        ui.timings.update(|tm| {
            match m {
                Measure::Load(start) => tm.load_ms = Some(t - start),
                Measure::Open(start) => tm.open_ms = Some(t - start),
                Measure::Filter(start) => tm.filter_ms = Some(t - start),
            }
            tm.count += 1;
        });
    });
    if let Some(w) = web_sys::window() {
        let _ = w.request_animation_frame(cb.unchecked_ref());
    }
}

fn download(name: &str, bytes: &JsValue) {
    let parts = Array::new();
    parts.push(&Uint8Array::new(bytes));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(if name.ends_with(".json") {
        "application/json"
    } else if name.ends_with(".html") {
        "text/html;charset=utf-8"
    } else {
        "text/csv;charset=utf-8"
    });
    let Ok(blob) = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &opts) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    let doc = web_sys::window().and_then(|w| w.document());
    if let Some(a) = doc.and_then(|d| d.create_element("a").ok()) {
        let a: web_sys::HtmlAnchorElement = a.unchecked_into();
        a.set_href(&url);
        a.set_download(name);
        a.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

fn on_reply(ui: Ui, reply: Reply, payload: JsValue) {
    match reply {
        Reply::Listening => {
            with(|b| {
                b.ready.set(true);
                for (h, p) in b.queued.borrow_mut().drain(..) {
                    raw_send(b, h, p);
                }
            });
        }
        Reply::Progress {
            stage: Stage::Done, ..
        } => ui.progress.set(None),
        Reply::Progress { stage, pct, .. } => ui.progress.set(Some((stage, pct))),
        Reply::Ready { datasets, .. } => ui.datasets.set(datasets),
        Reply::Loaded {
            seq,
            meta,
            report,
            facets,
            ..
        } => {
            if seq == 0 {
                // Reopened at start-up: the timing is from navigation.
                with(|b| b.pending_first_view.set(Some(Measure::Open(0.0))));
            }
            ui.error.set(None);
            ui.current.set(Some(meta));
            ui.report.set(Some(*report));
            ui.facets.set(facets);
            ui.list.update(|l| l.page = 1);
            query(ui, None);
        }
        Reply::View { seq, view } => {
            if with(|b| b.view_seq.get() == seq).unwrap_or(false) {
                let page = view.page.clone();
                ui.view.set(Some(Arc::new(*view)));
                ui.page.set(Some(page));
                if let Some(m) = with(|b| b.measure.take()).flatten() {
                    after_paint(ui, m);
                }
            }
        }
        Reply::Page { page, .. } => ui.page.set(Some(page)),
        Reply::Transcript {
            chat_id,
            messages,
            analyzer,
            review,
            judgement,
            topics,
        } => {
            ui.transcript.set(Some(Transcript {
                chat_id,
                messages,
                analyzer,
                review,
                judgement,
                topics,
            }));
        }
        // Every figure follows the review.
        Reply::Reviewed { .. } => query(ui, None),
        Reply::ReviewsImported { applied, unknown } => {
            ui.notice.set(Some(format!(
                "{applied} reviews imported{}",
                if unknown > 0 {
                    format!(", {unknown} of chats not in this dataset left out")
                } else {
                    String::new()
                }
            )));
            query(ui, None);
        }
        Reply::File { name } => download(&name, &payload),
        Reply::Evidence { title, list } => ui.evidence.set(Some((title, list))),
        Reply::Datasets { datasets, warning } => {
            // The open dataset's description may have changed (an AI analysis, say).
            if let Some(cur) = ui.current.get_untracked() {
                if let Some(m) = datasets.iter().find(|d| d.id == cur.id) {
                    if *m != cur {
                        ui.current.set(Some(m.clone()));
                    }
                }
            }
            ui.datasets.set(datasets);
            ui.warning.set(warning);
        }
        Reply::AiProgress {
            done,
            failed,
            total,
        } => ui.ai.set(AiState::Running(done, failed, total)),
        Reply::AiDone {
            analyzer,
            done,
            failed,
            stopped,
        } => {
            let mut s = format!("{done} conversations analysed by {analyzer}");
            if failed > 0 {
                s.push_str(&format!(", {failed} kept the built-in analysis"));
            }
            if let Some(why) = stopped {
                s.push_str(&format!(" (stopped: {why})"));
            }
            ui.ai.set(AiState::Finished(s));
            if done > 0 {
                query(ui, None);
            }
        }
        Reply::Error { message, .. } => {
            ui.progress.set(None);
            ui.error.set(Some(message));
        }
    }
}

/// Starts the worker (`/worker-loader.js`, a module worker, loads the page's own wasm).
pub fn start(ui: Ui) {
    let options = web_sys::WorkerOptions::new();
    options.set_type(web_sys::WorkerType::Module);
    let worker = match Worker::new_with_options("./worker-loader.js", &options) {
        Ok(w) => w,
        Err(e) => {
            ui.error.set(Some(format!(
                "this browser cannot start the analysis worker: {e:?}"
            )));
            return;
        }
    };
    let handler = Closure::<dyn Fn(MessageEvent)>::new(move |ev: MessageEvent| {
        let data = Array::from(&ev.data());
        let header = data.get(0).as_string().unwrap_or_default();
        match serde_json::from_str::<Reply>(&header) {
            Ok(r) => on_reply(ui, r, data.get(1)),
            Err(e) => ui
                .error
                .set(Some(format!("internal: bad worker reply: {e}"))),
        }
    });
    worker.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
    BRIDGE.with(|b| {
        *b.borrow_mut() = Some(Bridge {
            worker,
            seq: Cell::new(0),
            view_seq: Cell::new(0),
            measure: Cell::new(None),
            pending_first_view: Cell::new(None),
            ready: Cell::new(false),
            queued: RefCell::new(Vec::new()),
        })
    });
    send(&Request::Init, None);
}

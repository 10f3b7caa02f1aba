//! PowerPulse's browser dashboard. An export dropped here is parsed, cleaned and analysed by the
//! same `shared` crate the server runs, in a Web Worker, without leaving the machine; datasets
//! are kept in IndexedDB and the app works offline (service worker). When the server offers an
//! AI provider, conversations can be sent to it through `/api/analyze`.
//!
//! One wasm serves both threads, so the browser downloads the shared crate once: `main.rs`
//! mounts [`App`] on the page and runs [`engine`] in the worker (`public/worker-loader.js`).

pub mod bridge;
pub mod components;
pub mod engine;
pub mod format;
pub mod http;
pub mod protocol;
pub mod state;

use leptos::prelude::*;
use wasm_bindgen_futures::JsFuture;

use components::charts::{Daily, Heatmap, Histogram, Sentiment, Topics};
use components::{
    agents::Agents, conversations::Conversations, filters::Filters, header::Header, kpis::Kpis,
};
use components::{agreement::Agreement, quality::Quality, transcript::Transcript, upload::Upload};
use components::{evidence::EvidencePanel, service::Service};
use state::{ServerInfo, Ui};

/// Asks `/health` what the server offers (nothing, when the page is opened offline).
async fn server_info() -> ServerInfo {
    http::get::<powerpulse_shared::wire::Health>("/health")
        .await
        .map(ServerInfo::from)
        .unwrap_or_default()
}

/// Asks the browser to keep our data under storage pressure.
async fn persist() -> Option<bool> {
    let storage = web_sys::window()?.navigator().storage();
    let p = storage.persist().ok()?;
    JsFuture::from(p).await.ok()?.as_bool()
}

fn register_service_worker() {
    if let Some(w) = web_sys::window() {
        let sw = w.navigator().service_worker();
        let _ = sw.register("./sw.js");
    }
}

/// The application.
#[component]
pub fn App() -> impl IntoView {
    let ui = Ui::new();
    provide_context(ui);
    bridge::start(ui);
    register_service_worker();
    leptos::task::spawn_local(async move {
        ui.server.set(server_info().await);
        ui.persisted.set(persist().await);
    });
    let has_data = move || ui.view.with(|v| v.is_some()) && ui.current.with(|c| c.is_some());
    view! {
        <Header/>
        <main id="main">
            <Upload/>
            {move || ui.error.get().map(|e| view! {
                <div class="banner error" role="alert" data-testid="error">
                    <strong>"This file could not be read. "</strong>{e}
                    <button class="button ghost" on:click=move |_| ui.error.set(None) aria-label="Dismiss">"×"</button>
                </div>
            })}
            {move || ui.warning.get().map(|w| view! { <div class="banner warn" role="alert" data-testid="warning">{w}</div> })}
            {move || has_data().then(|| view! {
                <h1 class="dataset-title">
                    {move || ui.current.get().map(|c| c.name).unwrap_or_default()}
                    <span class="analyzer" data-testid="analyzer">
                        {move || ui.current.get().map(|c| if c.analyzer == "builtin" { "built-in analyzer".to_owned() } else { format!("analysed by {}", c.analyzer) }).unwrap_or_default()}
                    </span>
                </h1>
                <Filters/>
                <Kpis/>
                <EvidencePanel/>
                <div class="grid">
                    <Daily/>
                    <Histogram/>
                    <Topics/>
                    <Sentiment/>
                    <Heatmap/>
                    <Quality/>
                </div>
                <Service/>
                <Agreement/>
                <Agents/>
                <Conversations/>
            })}
        </main>
        <Transcript/>
        <footer class="footer">
            <span>"Metric definitions " {powerpulse_shared::DEFINITIONS_VERSION} " · computed in this browser"</span>
            <span>{move || {
                let s = ui.server.get();
                if !s.reachable { "server unreachable: built-in analyzer".to_owned() }
                else if s.ai { format!("AI available: {}", s.analyzer) }
                else { "built-in analyzer (no AI configured on the server)".to_owned() }
            }}</span>
            <span>{move || match ui.persisted.get() { Some(true) => "storage: persistent", Some(false) => "storage: best effort", None => "" }}</span>
            <span data-testid="timings"
                data-measured=move || ui.timings.get().count.to_string()
                data-load-ms=move || ui.timings.get().load_ms.map(|v| format!("{v:.0}")).unwrap_or_default()
                data-open-ms=move || ui.timings.get().open_ms.map(|v| format!("{v:.0}")).unwrap_or_default()
                data-filter-ms=move || ui.timings.get().filter_ms.map(|v| format!("{v:.0}")).unwrap_or_default()>
                {move || {
                    let t = ui.timings.get();
                    let f = |l: &str, v: Option<f64>| v.map(|v| format!("{l} {v:.0} ms")).unwrap_or_default();
                    [f("loaded in", t.load_ms), f("reopened in", t.open_ms), f("redrawn in", t.filter_ms)]
                        .into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" · ")
                }}
            </span>
        </footer>
    }
}

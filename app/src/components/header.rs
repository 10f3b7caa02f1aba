//! The top bar: saved datasets (open, delete), CSV exports, AI analysis, status.

use leptos::prelude::*;

use crate::bridge;
use crate::format;
use crate::protocol::Request;
use crate::state::{AiState, Ui};
use powerpulse_shared::csv_out::ExportType;

/// The header.
#[component]
pub fn Header() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let on_open = move |ev: leptos::ev::Event| {
        let id = event_target_value(&ev);
        if !id.is_empty() && ui.current.get_untracked().map(|c| c.id) != Some(id.clone()) {
            bridge::open(id);
        }
    };
    let delete_current = move |_| {
        if let Some(c) = ui.current.get_untracked() {
            bridge::send(&Request::Delete { id: c.id }, None);
            // What is deleted stops being shown (it used to stay on screen, deletable again).
            ui.close();
        }
    };
    let csv = move |kind: ExportType| {
        move |_| {
            bridge::send(
                &Request::Csv {
                    kind,
                    filter: ui.filter.get_untracked(),
                },
                None,
            )
        }
    };
    let start_ai = move |_| {
        ui.ai.set(AiState::Running(0, 0, 0));
        bridge::send(&Request::Ai { force: false }, None);
    };
    let cancel_ai = move |_| bridge::send(&Request::AiCancel, None);
    view! {
        <header class="topbar">
            <div class="brand">
                <svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true">
                    <path d="M13 2 4 14h6l-1 8 9-12h-6z" fill="currentColor"></path>
                </svg>
                <span>"PowerPulse"</span>
            </div>
            <div class="datasets">
                <label for="dataset-select" class="visually-hidden">"Saved datasets"</label>
                <select id="dataset-select" data-testid="dataset-select" on:change=on_open
                    prop:value=move || ui.current.get().map(|c| c.id).unwrap_or_default()>
                    <option value="" disabled=true>
                        {move || if ui.datasets.get().is_empty() { "No saved datasets" } else { "Saved datasets" }}
                    </option>
                    {move || ui.datasets.get().into_iter().map(|d| {
                        let label = format!("{} — {} conversations", d.name, format::count(d.conversations));
                        view! { <option value=d.id.clone()>{label}</option> }
                    }).collect_view()}
                </select>
                <button class="button ghost" on:click=delete_current disabled=move || ui.current.get().is_none()
                    aria-label="Delete the open dataset from this browser" data-testid="delete-dataset">"Delete"</button>
            </div>
            <div class="actions">
                <span class="export-label">"Export CSV:"</span>
                <button class="button" on:click=csv(ExportType::Conversations) disabled=move || ui.current.get().is_none() data-testid="csv-conversations">"Conversations"</button>
                <button class="button" on:click=csv(ExportType::Messages) disabled=move || ui.current.get().is_none() data-testid="csv-messages">"Messages"</button>
                <button class="button" on:click=csv(ExportType::Metrics) disabled=move || ui.current.get().is_none() data-testid="csv-metrics">"Metrics"</button>
                {move || {
                    let s = ui.server.get();
                    if !s.ai || ui.current.get().is_none() {
                        return None;
                    }
                    Some(match ui.ai.get() {
                        AiState::Running(done, failed, total) => view! {
                            <span class="ai-run" role="status">
                                <progress max=total.max(1) value=done + failed></progress>
                                {format!(" AI {}/{}", done + failed, total)}
                                <button class="button ghost" on:click=cancel_ai data-testid="ai-cancel">"Cancel"</button>
                            </span>
                        }.into_any(),
                        _ => view! {
                            <button class="button accent" on:click=start_ai data-testid="ai-analyse"
                                title=format!("Send the conversations' texts to {} through this server", s.analyzer)>
                                "Analyse with AI"
                            </button>
                        }.into_any(),
                    })
                }}
            </div>
        </header>
        {move || match ui.ai.get() {
            AiState::Finished(msg) => Some(view! { <p class="notice" role="status">{msg}</p> }),
            _ => None,
        }}
    }
}

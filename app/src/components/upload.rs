//! Choosing an export: a drop zone that is also a keyboard-usable file picker, with progress.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DragEvent, HtmlInputElement};

use crate::bridge;
use crate::protocol::Stage;
use crate::state::Ui;

/// The drop zone (large when nothing is open, a bar otherwise).
#[component]
pub fn Upload() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let dragging = RwSignal::new(false);
    // Several files at once are merged into one dataset (each message kept once).
    let take = move |files: Option<web_sys::FileList>| {
        let files: Vec<web_sys::File> = files
            .map(|l| (0..l.length()).filter_map(|i| l.get(i)).collect())
            .unwrap_or_default();
        if !files.is_empty() {
            ui.error.set(None);
            ui.progress.set(Some((Stage::Reading, 1.0)));
            bridge::load(files);
        }
    };
    let on_change = move |ev: leptos::ev::Event| {
        let input: HtmlInputElement = ev.target().expect("target").unchecked_into();
        take(input.files());
        // Choosing the same file again must fire a change event.
        input.set_value("");
    };
    let on_drop = move |ev: DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        take(ev.data_transfer().and_then(|d| d.files()));
    };
    let compact = move || ui.current.get().is_some();
    view! {
        <section
            class="dropzone"
            class:compact=compact
            class:dragging=move || dragging.get()
            on:dragover=move |ev: DragEvent| {
                ev.prevent_default();
                dragging.set(true);
            }
            on:dragleave=move |_| dragging.set(false)
            on:drop=on_drop
            aria-label="Load an export"
        >
            {move || (!compact()).then(|| view! {
                <h1 class="landing-title">"Customer-care metrics from your Messenger export"</h1>
            })}
            <label class="file-button">
                <input
                    type="file"
                    accept=".json,application/json"
                    multiple
                    data-testid="file-input"
                    on:change=on_change
                />
                <span class="button primary">{move || if compact() { "Load another export" } else { "Choose an export" }}</span>
            </label>
            <p class="hint">
                {move || if compact() {
                    "or drop files here (several are merged)".to_owned()
                } else {
                    "Drop your Messenger export (grouped_chats JSON) here, or choose it; several exports at once are merged, each message kept once. It is analysed in this browser: nothing is uploaded.".to_owned()
                }}
            </p>
            {move || ui.progress.get().map(|(stage, pct)| view! {
                <div class="progress" role="status" aria-live="polite">
                    <progress max="100" value=pct data-testid="progress"></progress>
                    <span>{stage.label()}</span>
                </div>
            })}
        </section>
    }
}

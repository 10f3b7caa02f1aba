//! PowerPulse's browser dashboard: an export dropped here is analysed by the same `shared` crate
//! the server runs, without leaving the machine.

use leptos::prelude::*;
use powerpulse_shared::{process, Filter, MetricsReport, Options, DEFINITIONS_VERSION};
use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;

/// Reads a file into bytes.
async fn read_file(file: web_sys::File) -> Result<Vec<u8>, String> {
    let promise = file.array_buffer();
    let buffer = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(|e| format!("cannot read the file: {e:?}"))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// The application root.
#[component]
pub fn App() -> impl IntoView {
    let (metrics, set_metrics) = signal(None::<MetricsReport>);
    let (error, set_error) = signal(None::<String>);
    let on_change = move |ev: leptos::ev::Event| {
        let input: HtmlInputElement = ev.target().expect("event target").unchecked_into();
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        leptos::task::spawn_local(async move {
            match read_file(file)
                .await
                .and_then(|b| process(&b, &Options::default()).map_err(|e| e.to_string()))
            {
                Ok(d) => {
                    set_error.set(None);
                    set_metrics.set(Some(d.metrics(&Filter::default())));
                }
                Err(e) => set_error.set(Some(e)),
            }
        });
    };
    view! {
        <main>
            <h1>"PowerPulse"</h1>
            <p>"Metric definitions " {DEFINITIONS_VERSION}</p>
            <label>"Export (JSON) " <input type="file" accept=".json,application/json" data-testid="file-input" on:change=on_change /></label>
            {move || error.get().map(|e| view! { <p role="alert" data-testid="error">{e}</p> })}
            {move || metrics.get().map(|m| view! {
                <p data-testid="kpi-conversations" data-value=m.core.total_conversations.to_string()>
                    "Conversations: " {m.core.total_conversations}
                </p>
            })}
        </main>
    }
}

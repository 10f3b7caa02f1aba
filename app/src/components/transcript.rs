//! One conversation's transcript: roles, times, reply gaps, sentiment.

use leptos::prelude::*;

use crate::format;
use crate::state::Ui;

/// The transcript dialog.
#[component]
pub fn Transcript() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let close = move || ui.transcript.set(None);
    view! {
        {move || ui.transcript.get().map(|t| {
            // `autofocus` does nothing on an element added after the page loaded: focus the
            // Close button once it is in the page, so Escape and Tab work inside the dialog.
            let close_button = NodeRef::<leptos::html::Button>::new();
            Effect::new(move |_| {
                if let Some(b) = close_button.get() {
                    let _ = b.focus();
                }
            });
            view! {
            <div class="overlay" on:click=move |_| close()>
                <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="transcript-title" data-testid="transcript"
                    on:click=|ev| ev.stop_propagation()
                    on:keydown=move |ev: web_sys::KeyboardEvent| if ev.key() == "Escape" { close() }>
                    <div class="dialog-head">
                        <h2 id="transcript-title">{format!("Conversation {}", t.chat_id)}</h2>
                        <span class="muted">{format!("analysed by {}", t.analyzer)}</span>
                        <button class="button ghost" on:click=move |_| close() node_ref=close_button aria-label="Close">"Close"</button>
                    </div>
                    <ol class="transcript">
                        {t.messages.iter().map(|m| {
                            let who = match (m.role.as_str(), &m.agent_info) {
                                ("agent", Some(a)) => format!("Agent {a}"),
                                ("customer", _) => "Customer".into(),
                                _ => "Bot".into(),
                            };
                            view! {
                                <li class=format!("msg {}", m.role)>
                                    <div class="meta">
                                        <strong>{who}</strong>
                                        <time>{format::time(&m.social_create_time)}</time>
                                        {m.reply_gap_minutes.map(|g| view! { <span class="chip">{format!("reply gap {}", format::minutes(Some(g)))}</span> })}
                                        {m.sentiment_score.map(|s| view! { <span class=format!("chip sent {}", if s > 0.05 { "pos" } else if s < -0.05 { "neg" } else { "neu" })>{format!("sentiment {s:+.2}")}</span> })}
                                    </div>
                                    <p>{m.message_content.clone()}</p>
                                </li>
                            }
                        }).collect_view()}
                    </ol>
                </div>
            </div>
        }})}
    }
}

//! One conversation's transcript: roles, times, reply gaps, sentiment, and its review form.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::components::review::{open_next, Draft, ReviewForm};
use crate::format;
use crate::state::Ui;

/// Whether a key went to a text field (where 1-5, y, n and Enter are typing, not choices).
fn typing(ev: &web_sys::KeyboardEvent) -> bool {
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        .is_some_and(|i| matches!(i.type_().as_str(), "text" | "search"))
}

/// Whether a key went to a button (where Enter is the button's own action: Next, Close).
fn on_button(ev: &web_sys::KeyboardEvent) -> bool {
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|e| e.tag_name().eq_ignore_ascii_case("button"))
}

/// The transcript dialog.
#[component]
pub fn Transcript() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let close = move || ui.transcript.set(None);
    view! {
        {move || ui.transcript.get().map(|t| {
            // `autofocus` does nothing on an element added after the page loaded: focus the
            // dialog once it is in the page, so its keys, Escape and Tab work at once.
            let dialog = NodeRef::<leptos::html::Div>::new();
            let draft = Draft::of(&t);
            let (t_keys, t_form) = (t.clone(), t.clone());
            Effect::new(move |_| {
                if let Some(d) = dialog.get() {
                    let _ = d.focus();
                }
            });
            view! {
            <div class="overlay" on:click=move |_| close()>
                <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="transcript-title" data-testid="transcript"
                    on:click=|ev| ev.stop_propagation()
                    tabindex="-1" node_ref=dialog
                    on:keydown=move |ev: web_sys::KeyboardEvent| {
                        let key = ev.key();
                        if key == "Escape" {
                            close()
                        } else if ev.ctrl_key() || ev.meta_key() || ev.alt_key() || (key == "Enter" && on_button(&ev)) {
                            // The browser's own: shortcuts, and a focused button's Enter.
                        } else if key == "ArrowRight" && !typing(&ev) {
                            open_next(ui, ui.queue.get_untracked().unwrap_or(powerpulse_shared::estimate::Queue::Sample), Some(&t_keys.chat_id));
                            ev.prevent_default();
                        } else if (!typing(&ev) || key == "Enter") && draft.key(&key, &t_keys, ui) {
                            ev.prevent_default();
                        }
                    }>
                    <div class="dialog-head">
                        <h2 id="transcript-title">{format!("Conversation {}", t.chat_id)}</h2>
                        <span class="muted">{format!("analysed by {}", t.analyzer)}</span>
                        <button class="button ghost" on:click=move |_| close() aria-label="Close">"Close"</button>
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
                    <ReviewForm transcript=t_form draft=draft/>
                </div>
            </div>
        }})}
    }
}

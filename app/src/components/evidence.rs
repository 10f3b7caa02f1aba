//! The evidence panel: the exact conversations (or reply gaps) behind the figure last clicked,
//! each opening its transcript.

use leptos::prelude::*;
use powerpulse_shared::time::format_timestamp;

use crate::bridge;
use crate::format;
use crate::protocol::Request;
use crate::state::Ui;

/// The panel (shown while a figure's evidence is open).
#[component]
pub fn EvidencePanel() -> impl IntoView {
    let ui = expect_context::<Ui>();
    move || {
        ui.evidence.get().map(|(title, list)| {
            let shown = list.items.len();
            view! {
                <section class="panel evidence" aria-labelledby="evidence-title" data-testid="evidence" data-total=list.total.to_string()>
                    <h2 id="evidence-title">{title}
                        <button class="button ghost" data-testid="evidence-close" aria-label="Close" on:click=move |_| ui.evidence.set(None)>"×"</button>
                    </h2>
                    <p class="muted">{if list.total as usize > shown {
                        format!("{} in all; the first {shown} are listed.", format::count(list.total))
                    } else {
                        format!("{} in all.", format::count(list.total))
                    }}</p>
                    <table class="compact">
                        <thead><tr><th scope="col">"Conversation"</th><th scope="col">"First message"</th><th scope="col">"Customer wrote"</th><th scope="col">"Agent replied"</th><th scope="col" class="num">"Minutes"</th></tr></thead>
                        <tbody>
                            {list.items.into_iter().map(|i| {
                                let chat = i.chat_id.clone();
                                let at = |ms: Option<i64>| ms.map(|m| format::time(&format_timestamp(m))).unwrap_or_default();
                                view! {
                                    <tr data-testid="evidence-row" data-chat=i.chat_id.clone()>
                                        <td><button class="link" on:click=move |_| { ui.queue.set(None); bridge::send(&Request::Transcript { chat_id: chat.clone() }, None) }>{i.chat_id.clone()}</button></td>
                                        <td>{format::time(&format_timestamp(i.first_message_ms))}</td>
                                        <td>{at(i.customer_ms)}</td>
                                        <td>{if i.customer_ms.is_some() && i.reply_ms.is_none() { "never".to_owned() } else { at(i.reply_ms) }}</td>
                                        <td class="num">{i.minutes.map(|m| format!("{m:.1}")).unwrap_or_default()}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </section>
            }
        })
    }
}

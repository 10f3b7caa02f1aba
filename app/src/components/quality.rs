//! What cleaning removed, and why: the data-quality panel.

use leptos::prelude::*;

use crate::format;
use crate::state::Ui;

/// The data-quality panel.
#[component]
pub fn Quality() -> impl IntoView {
    let ui = expect_context::<Ui>();
    view! {
        {move || ui.report.get().map(|r| {
            let f = r.filtered;
            let rows: Vec<(&str, u64, &str)> = vec![
                ("autoresponse", f.autoresponse, "bot messages without an agent that advertise the self-service code"),
                ("duplicate", f.duplicate, "the same message exported twice"),
                ("empty_content", f.empty_content, "stickers, images, blank texts"),
                ("bad_timestamp", f.bad_timestamp, "times that are not RFC 3339 (never replaced by now)"),
                ("bad_direction", f.bad_direction, "neither to_company nor to_client"),
                ("missing_field", f.missing_field, "no direction or no time"),
                ("empty_chats", f.empty_chats, "chats with nothing left (not conversations)"),
                ("invalid_chats", f.invalid_chats, "chats whose value is not a list of messages"),
            ];
            let dropped = f.messages();
            view! {
                <section class="panel quality" aria-labelledby="quality-title" data-testid="quality">
                    <h2 id="quality-title">"Data quality"</h2>
                    <p>{format!("Read {} messages in {} chats; kept {} ({} removed).",
                        format::count(r.messages_read), format::count(r.chats_read), format::count(r.messages_kept), format::count(dropped))}</p>
                    <table class="compact">
                        <thead><tr><th scope="col">"Removed"</th><th scope="col" class="num">"Count"</th><th scope="col">"Why"</th></tr></thead>
                        <tbody>
                            {rows.into_iter().map(|(k, n, why)| view! {
                                <tr class:zero=n == 0><td><code>{k}</code></td><td class="num" data-testid=format!("filtered-{k}")>{format::count(n)}</td><td>{why}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    {(r.truncated_messages > 0).then(|| view! {
                        <p class="muted" data-testid="truncated-messages">{format!(
                            "{} very long messages were kept, but judged on their first {} characters only.",
                            format::count(r.truncated_messages), format::count(powerpulse_shared::analyzer::MAX_ANALYSED_BYTES as u64))}</p>
                    })}
                    {(!r.invalid_chat_examples.is_empty()).then(|| view! {
                        <p class="muted">"Invalid chats: " {r.invalid_chat_examples.iter().map(|c| format!("{} ({})", c.chat_id, c.found)).collect::<Vec<_>>().join(", ")}</p>
                    })}
                </section>
            }
        })}
    }
}

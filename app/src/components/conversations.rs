//! The conversation explorer: search, sort, pages; a row opens its transcript.

use leptos::prelude::*;
use powerpulse_shared::list::SortKey;

use crate::bridge;
use crate::format;
use crate::protocol::Request;
use crate::state::Ui;

/// The conversations table.
#[component]
pub fn Conversations() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let refresh = move |f: Box<dyn FnOnce(&mut powerpulse_shared::list::ListQuery)>| {
        ui.list.update(|l| f(l));
        bridge::page(ui);
    };
    let sort_header = move |label: &'static str, key: SortKey| {
        let aria = move || {
            let l = ui.list.get();
            if l.sort != key {
                "none"
            } else if l.desc {
                "descending"
            } else {
                "ascending"
            }
        };
        view! {
            <th scope="col" class="num" aria-sort=aria>
                <button class="sort" on:click=move |_| refresh(Box::new(move |l| {
                    if l.sort == key { l.desc = !l.desc } else { l.sort = key; l.desc = true }
                    l.page = 1;
                }))>
                    {label}
                    <span aria-hidden="true">{move || { let l = ui.list.get(); if l.sort != key { "" } else if l.desc { " ▼" } else { " ▲" } }}</span>
                </button>
            </th>
        }
    };
    let open = move |chat_id: String| {
        ui.queue.set(None);
        bridge::send(&Request::Transcript { chat_id }, None)
    };
    let pages = move || {
        ui.page.with(|p| {
            p.as_ref()
                .map(|p| (p.page, p.total.div_ceil(p.page_size).max(1), p.total))
                .unwrap_or((1, 1, 0))
        })
    };
    view! {
        <section class="panel" aria-labelledby="conv-title" data-testid="conversations">
            <div class="panel-head">
                <h2 id="conv-title">"Conversations"</h2>
                <label class="search">
                    <span class="visually-hidden">"Search messages"</span>
                    <input type="search" placeholder="Search messages…" data-testid="search"
                        prop:value=move || ui.list.get().q
                        on:input=move |ev| { let q = event_target_value(&ev); refresh(Box::new(move |l| { l.q = q; l.page = 1; })) } />
                </label>
            </div>
            <div class="table-wrap">
                <table class="conversations">
                    <thead><tr>
                        <th scope="col">"Chat"</th>
                        {sort_header("Started", SortKey::FirstMessageTime)}
                        {sort_header("Messages", SortKey::TotalMessages)}
                        <th scope="col">"Agents"</th>
                        {sort_header("Score", SortKey::SatisfactionScore)}
                        <th scope="col">"FCR"</th>
                        {sort_header("Sentiment", SortKey::AvgSentiment)}
                        {sort_header("Reply gap", SortKey::AvgResponseTimeMinutes)}
                        <th scope="col">"Topics"</th>
                        <th scope="col">"Analyzer"</th>
                    </tr></thead>
                    <tbody>
                        {move || ui.page.with(|p| p.as_ref().map(|p| p.rows.iter().map(|r| {
                            let id = r.fb_chat_id.clone();
                            // The whole row opens on a click; the keyboard reaches it through the
                            // button, whose click bubbles to the row.
                            view! {
                                <tr class="clickable" data-testid="conversation-row"
                                    on:click=move |_| open(id.clone())>
                                    <td><button type="button" class="link-button mono"
                                        aria-label=format!("Open conversation {}", r.fb_chat_id)>{r.fb_chat_id.clone()}</button></td>
                                    <td class="num">{format::time(&r.first_message_time)}</td>
                                    <td class="num">{r.total_messages}</td>
                                    <td>{r.agents.join(", ")}</td>
                                    <td class="num"><span class=format!("score s{}", r.satisfaction_score.unwrap_or(0))>{r.satisfaction_score.map_or("–".into(), |s| s.to_string())}</span></td>
                                    <td>{match r.first_contact_resolution { Some(true) => "yes", Some(false) => "no", None => "–" }}</td>
                                    <td class="num">{format::sentiment(r.avg_sentiment)}</td>
                                    <td class="num">{format::minutes(r.avg_response_time_minutes)}</td>
                                    <td>{r.topics.join(", ")}</td>
                                    <td class="muted">{r.analyzer.clone()}</td>
                                </tr>
                            }
                        }).collect_view()))}
                    </tbody>
                </table>
            </div>
            <nav class="pager" aria-label="Pages">
                // Comparisons sit inside braces: a bare `>` would close the tag in `view!`.
                <button class="button ghost" data-testid="page-previous" disabled=move || { pages().0 <= 1 }
                    on:click=move |_| refresh(Box::new(|l| l.page = l.page.saturating_sub(1).max(1)))>"Previous"</button>
                <span data-testid="page-info">{move || { let (p, n, t) = pages(); format!("Page {p} of {n} · {} conversations", format::count(t as u64)) }}</span>
                <button class="button ghost" data-testid="page-next" disabled=move || { let (p, n, _) = pages(); p >= n }
                    on:click=move |_| refresh(Box::new(|l| l.page += 1))>"Next"</button>
            </nav>
        </section>
    }
}

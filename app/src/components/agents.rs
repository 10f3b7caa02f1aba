//! The per-agent table, sortable by any column.

use std::cmp::Ordering;

use leptos::prelude::*;
use powerpulse_shared::evidence::Evidence;
use powerpulse_shared::AgentRow;

use crate::bridge;
use crate::format;
use crate::state::Ui;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Col {
    Agent,
    Conversations,
    Replies,
    GapMean,
    GapMedian,
    GapP90,
    TurnMedian,
    Csat,
}

fn key(r: &AgentRow, c: Col) -> (Option<f64>, String) {
    let n = |v: Option<f64>| (v, String::new());
    match c {
        Col::Agent => (None, r.agent.to_lowercase()),
        Col::Conversations => n(Some(r.conversations as f64)),
        Col::Replies => n(Some(r.replies as f64)),
        Col::GapMean => n(r.reply_gap.mean),
        Col::GapMedian => n(r.reply_gap.median),
        Col::GapP90 => n(r.reply_gap.p90),
        Col::TurnMedian => n(r.turn.median),
        Col::Csat => n(r.csat_percentage),
    }
}

/// The agents table.
#[component]
pub fn Agents() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let sort = RwSignal::new((Col::Conversations, true));
    let header = move |label: &'static str, col: Col, numeric: bool| {
        let aria = move || match sort.get() {
            (c, true) if c == col => "descending",
            (c, false) if c == col => "ascending",
            _ => "none",
        };
        view! {
            <th scope="col" class:num=numeric aria-sort=aria>
                <button class="sort" on:click=move |_| sort.update(|(c, d)| if *c == col { *d = !*d } else { *c = col; *d = col != Col::Agent })>
                    {label}
                    <span aria-hidden="true">{move || match sort.get() { (c, true) if c == col => " ▼", (c, false) if c == col => " ▲", _ => "" }}</span>
                </button>
            </th>
        }
    };
    let rows = move || {
        let (col, desc) = sort.get();
        let mut rows = ui
            .view
            .with(|v| v.as_ref().map(|v| v.agents.clone()).unwrap_or_default());
        rows.sort_by(|a, b| {
            let (ka, kb) = (key(a, col), key(b, col));
            let o = match (ka.0, kb.0) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                (Some(_), None) => return Ordering::Less,
                (None, Some(_)) => return Ordering::Greater,
                (None, None) => ka.1.cmp(&kb.1),
            };
            if desc {
                o.reverse()
            } else {
                o
            }
        });
        rows
    };
    view! {
        <section class="panel" aria-labelledby="agents-title" data-testid="agents">
            <h2 id="agents-title">"Agents"</h2>
            <div class="table-wrap">
                <table>
                    <thead><tr>
                        {header("Agent", Col::Agent, false)}
                        {header("Conversations", Col::Conversations, true)}
                        {header("Replies", Col::Replies, true)}
                        {header("Reply gap mean", Col::GapMean, true)}
                        {header("Median", Col::GapMedian, true)}
                        {header("p90", Col::GapP90, true)}
                        {header("Turn median", Col::TurnMedian, true)}
                        {header("CSAT", Col::Csat, true)}
                    </tr></thead>
                    <tbody>
                        {move || rows().into_iter().map(|r| view! {
                            <tr data-testid="agent-row" data-agent=r.agent.clone() data-count=r.conversations.to_string()>
                                <th scope="row">{
                                    let agent = r.agent.clone();
                                    view! { <button class="link" on:click=move |_| bridge::evidence(ui, Evidence::Agent { agent: agent.clone() }, format!("Conversations of {agent}"))>{r.agent.clone()}</button> }
                                }</th>
                                <td class="num">{format::count(r.conversations)}</td>
                                <td class="num">{format::count(r.replies)}</td>
                                <td class="num">{format::minutes(r.reply_gap.mean)}</td>
                                <td class="num">{format::minutes(r.reply_gap.median)}</td>
                                <td class="num">{format::minutes(r.reply_gap.p90)}</td>
                                <td class="num">{format::minutes(r.turn.median)}</td>
                                <td class="num">{r.csat_percentage.map_or("n/a".into(), format::pct)}<span class="muted">{format!(" (n={})", r.csat_n)}</span></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

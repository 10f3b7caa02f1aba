//! The headline figures, each with what it rests on (n) and its definition on hover or focus.

use leptos::prelude::*;

use powerpulse_shared::evidence::Evidence;

use crate::bridge;
use crate::format;
use crate::state::Ui;

#[component]
fn Card(
    id: &'static str,
    label: &'static str,
    definition: &'static str,
    #[prop(into)] value: Signal<String>,
    #[prop(into)] raw: Signal<String>,
    #[prop(into)] detail: Signal<String>,
    /// What the card's misses are, to list them.
    #[prop(optional)]
    misses: Option<(Evidence, &'static str)>,
) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let desc = format!("{id}-definition");
    let desc_ref = desc.clone();
    let name = format!("{id}-label");
    let name_ref = name.clone();
    // Focusable so the definition shows for keyboard users too; a named group for screen readers.
    view! {
        <div class="kpi" role="group" data-testid=id data-value=move || raw.get() tabindex="0"
            aria-labelledby=name_ref aria-describedby=desc_ref>
            <div class="kpi-label" id=name>{label}</div>
            <div class="kpi-value">{move || value.get()}</div>
            <div class="kpi-detail">{move || detail.get()}</div>
            {misses.map(|(what, title)| view! {
                <button class="button ghost small" data-testid=format!("{id}-misses")
                    on:click=move |_| bridge::evidence(ui, what.clone(), title.to_owned())>"Show the misses"</button>
            })}
            <div class="kpi-definition" role="tooltip" id=desc>{definition}</div>
        </div>
    }
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// The KPI cards.
#[component]
pub fn Kpis() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let k = move || {
        ui.view.with(|v| {
            v.as_ref().map(|v| {
                (
                    v.kpis.clone(),
                    v.metrics.core.n,
                    v.metrics.core.response_time,
                )
            })
        })
    };
    let s = move |f: fn(
        &crate::protocol::Kpis,
        &powerpulse_shared::metrics::KpiCounts,
        &powerpulse_shared::metrics::ResponseTimes,
    ) -> String| {
        Signal::derive(move || k().map(|(k, n, r)| f(&k, &n, &r)).unwrap_or_default())
    };
    view! {
        <section class="kpis" aria-label="Key figures">
            <Card id="kpi-conversations" label="Conversations"
                definition="Chats with at least one message left after cleaning, whose first message falls in the selected dates."
                value=s(|k, _, _| format::count(k.conversations)) raw=s(|k, _, _| k.conversations.to_string())
                detail=s(|_, n, _| format!("{} with a topic", format::count(n.topics)))/>
            <Card id="kpi-messages" label="Messages"
                definition="Messages of those conversations after cleaning (autoresponses, duplicates, empty and broken records removed)."
                value=s(|k, _, _| format::count(k.messages)) raw=s(|k, _, _| k.messages.to_string())
                detail=s(|k, _, _| format!("{:.1} per conversation", k.messages as f64 / k.conversations.max(1) as f64))/>
            <Card id="kpi-csat" label="CSAT"
                definition="Satisfied conversations (score 4 or 5 of 5) among those with a satisfaction score."
                value=s(|k, _, _| format::pct(k.csat)) raw=s(|k, _, _| k.csat.to_string())
                detail=s(|_, n, _| format!("n = {}", format::count(n.csat)))
                misses=(Evidence::Unsatisfied, "Conversations not satisfied")/>
            <Card id="kpi-fcr" label="First-contact resolution"
                definition="Issues solved or fully answered without the customer coming back a day or more later, among conversations that hold an issue."
                value=s(|k, _, _| format::pct(k.fcr)) raw=s(|k, _, _| k.fcr.to_string())
                detail=s(|_, n, _| format!("n = {}", format::count(n.fcr)))
                misses=(Evidence::NotResolved, "Conversations not resolved on first contact")/>
            <Card id="kpi-response-time" label="Average reply gap"
                definition="Per agent reply, the time since the latest customer message; averaged per conversation, then over conversations. Turn response: from a customer's first unanswered message to the reply."
                value=s(|k, _, _| format::minutes(k.reply_gap)) raw=s(|k, _, _| opt(k.reply_gap))
                detail=s(|k, n, _| format!("turn median {}, p90 {} · n = {}", format::minutes(k.turn_median), format::minutes(k.turn_p90), format::count(n.response_time)))/>
            <Card id="kpi-first-response" label="First response"
                definition="Time from the customer's first message to the first agent reply (the first turn)."
                value=s(|k, _, _| format::minutes(k.first_response)) raw=s(|k, _, _| opt(k.first_response))
                detail=s(|k, _, r| format!("median {} · n = {}", format::minutes(k.first_response_median), format::count(r.first_response.n)))/>
            <Card id="kpi-sentiment" label="Average sentiment"
                definition="Mean of the conversations' average customer-message sentiment, from -1 (negative) to +1 (positive)."
                value=s(|k, _, _| format::sentiment(k.sentiment)) raw=s(|k, _, _| opt(k.sentiment))
                detail=s(|_, n, _| format!("n = {}", format::count(n.sentiment)))/>
        </section>
    }
}

//! The filters every KPI, chart and list follows: dates (in a time zone), agent, topic,
//! satisfied only.

use leptos::prelude::*;
use powerpulse_shared::time::{parse_date, parse_tz};
use powerpulse_shared::Filter;

use crate::bridge;
use crate::state::Ui;

/// Time zones offered first (any IANA name can be typed).
const ZONES: &[&str] = &[
    "UTC",
    "Africa/Nairobi",
    "Africa/Lagos",
    "Africa/Johannesburg",
    "Africa/Cairo",
    "Europe/London",
    "Europe/Paris",
    "Asia/Dubai",
    "Asia/Kolkata",
    "America/New_York",
    "America/Santiago",
];

/// Applies a change to the filter and redraws everything.
pub fn change(ui: Ui, f: impl FnOnce(&mut Filter)) {
    let started = bridge::now();
    ui.filter.update(f);
    ui.list.update(|l| l.page = 1);
    bridge::query(ui, Some(started));
}

/// The filter bar.
#[component]
pub fn Filters() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let date = move |end: bool| {
        move |ev: leptos::ev::Event| {
            let v = event_target_value(&ev);
            let d = parse_date(&v).ok();
            change(ui, |f| {
                if end {
                    f.end_date = d
                } else {
                    f.start_date = d
                }
            });
        }
    };
    let tz_error = RwSignal::new(None::<String>);
    let on_tz = move |ev: leptos::ev::Event| {
        let v = event_target_value(&ev);
        match parse_tz(v.trim()) {
            Ok(tz) => {
                tz_error.set(None);
                change(ui, |f| f.tz = tz);
            }
            Err(e) => tz_error.set(Some(e)),
        }
    };
    let text = |v: String| (!v.is_empty()).then_some(v);
    view! {
        <section class="filters" aria-label="Filters">
            <label>"From"
                <input type="date" data-testid="filter-start"
                    prop:value=move || ui.filter.get().start_date.map(|d| d.to_string()).unwrap_or_default()
                    min=move || ui.facets.get().first_day.unwrap_or_default()
                    max=move || ui.facets.get().last_day.unwrap_or_default()
                    on:change=date(false) />
            </label>
            <label>"To"
                <input type="date" data-testid="filter-end"
                    prop:value=move || ui.filter.get().end_date.map(|d| d.to_string()).unwrap_or_default()
                    min=move || ui.facets.get().first_day.unwrap_or_default()
                    max=move || ui.facets.get().last_day.unwrap_or_default()
                    on:change=date(true) />
            </label>
            <label>"Time zone"
                <input list="zones" data-testid="filter-tz" prop:value=move || ui.filter.get().tz.name().to_owned()
                    on:change=on_tz aria-invalid=move || tz_error.get().is_some().to_string() />
                <datalist id="zones">
                    {ZONES.iter().map(|z| view! { <option value=*z></option> }).collect_view()}
                </datalist>
            </label>
            <label>"Agent"
                <select data-testid="filter-agent" on:change=move |ev| { let v = event_target_value(&ev); change(ui, |f| f.agent = text(v)) }
                    prop:value=move || ui.filter.get().agent.unwrap_or_default()>
                    <option value="">"All agents"</option>
                    {move || ui.facets.get().agents.into_iter().map(|a| view! { <option value=a.clone()>{a.clone()}</option> }).collect_view()}
                </select>
            </label>
            <label>"Topic"
                <select data-testid="filter-topic" on:change=move |ev| { let v = event_target_value(&ev); change(ui, |f| f.topic = text(v)) }
                    prop:value=move || ui.filter.get().topic.unwrap_or_default()>
                    <option value="">"All topics"</option>
                    {move || ui.facets.get().topics.into_iter().map(|t| view! { <option value=t.clone()>{t.clone()}</option> }).collect_view()}
                </select>
            </label>
            <label class="check">
                <input type="checkbox" data-testid="filter-satisfied" prop:checked=move || ui.filter.get().satisfied_only
                    on:change=move |ev| { let v = event_target_checked(&ev); change(ui, |f| f.satisfied_only = v) } />
                "Satisfied only"
            </label>
            <button class="button ghost" data-testid="filter-reset"
                on:click=move |_| { let tz = ui.filter.get_untracked().tz; change(ui, |f| *f = Filter { tz, ..Filter::default() }) }>
                "Reset"
            </button>
            {move || tz_error.get().map(|e| view! { <p class="field-error" role="alert">{e}</p> })}
        </section>
    }
}

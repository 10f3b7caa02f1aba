//! The filters every KPI, chart and list follows: dates (in a time zone), agent, topic,
//! satisfied only.

use leptos::prelude::*;
use powerpulse_shared::{Filter, FilterParams};

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

/// The filter after editing its parameters, read by the same rule as the API's query string
/// (`FilterParams::to_filter`); the error, in the API's words, when an edit is not valid.
pub fn edited(current: &Filter, edit: impl FnOnce(&mut FilterParams)) -> Result<Filter, String> {
    let mut p = FilterParams::from(current);
    edit(&mut p);
    p.to_filter(None)
}

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
    let problem = RwSignal::new(None::<String>);
    // A valid edit redraws everything; an invalid one is said and changes nothing.
    let apply =
        move |edit: &dyn Fn(&mut FilterParams)| match edited(&ui.filter.get_untracked(), edit) {
            Ok(f) => {
                problem.set(None);
                change(ui, |old| *old = f);
            }
            Err(e) => problem.set(Some(e)),
        };
    let date = move |end: bool| {
        move |ev: leptos::ev::Event| {
            let v = Some(event_target_value(&ev));
            if end {
                apply(&|p| p.end_date = v.clone())
            } else {
                apply(&|p| p.start_date = v.clone())
            }
        }
    };
    let on_tz = move |ev: leptos::ev::Event| {
        let v = Some(event_target_value(&ev).trim().to_owned());
        apply(&|p| p.tz = v.clone());
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
                    on:change=on_tz aria-invalid=move || problem.get().is_some().to_string() />
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
            {move || problem.get().map(|e| view! { <p class="field-error" role="alert" data-testid="filter-error">{e}</p> })}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_is_read_as_the_api_reads_it_and_a_bad_one_says_why() {
        let start = edited(&Filter::default(), |p| {
            p.start_date = Some("2025-08-12".into())
        })
        .unwrap();
        assert_eq!(start.start_date.unwrap().to_string(), "2025-08-12");
        let tz = edited(&start, |p| p.tz = Some("Africa/Nairobi".into())).unwrap();
        assert_eq!(
            (tz.tz.name(), tz.start_date),
            ("Africa/Nairobi", start.start_date)
        );
        let e = edited(&tz, |p| p.end_date = Some("2025-08-01".into())).unwrap_err();
        assert!(e.contains("after end_date"), "{e}");
        let e = edited(&tz, |p| p.tz = Some("Nairobi".into())).unwrap_err();
        assert!(e.starts_with("tz:"), "{e}");
        // Clearing a date clears it.
        let cleared = edited(&tz, |p| p.start_date = Some(String::new())).unwrap();
        assert_eq!(cleared.start_date, None);
    }
}

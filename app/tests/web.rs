//! Component and logic tests of the app, in headless Chromium (wasm-bindgen-test).
#![cfg(target_arch = "wasm32")]

use std::sync::Arc;

use leptos::prelude::*;
use powerpulse_app::components::conversations::Conversations;
use powerpulse_app::components::kpis::Kpis;
use powerpulse_app::components::quality::Quality;
use powerpulse_app::protocol::{Kpis as KpiValues, Reply, Request, View};
use powerpulse_app::state::Ui;
use powerpulse_shared::list::{list_page, ListQuery};
use powerpulse_shared::report::ReportParams;
use powerpulse_shared::synth::{generate, SynthOptions};
use powerpulse_shared::{compute_metrics, process, Filter, Options};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn sample_view() -> (powerpulse_shared::Dataset, View) {
    let d = process(
        &generate(&SynthOptions {
            conversations: 150,
            seed: 5,
            ..Default::default()
        }),
        &Options::default(),
    )
    .unwrap();
    let f = Filter::default();
    let metrics = compute_metrics(d.summaries(), &f, d.report.filtered, None);
    let view = View {
        kpis: KpiValues::of(&metrics),
        metrics,
        page: list_page(&d.conversations, &f, &ListQuery::default()),
        ..View::default()
    };
    (d, view)
}

fn container() -> web_sys::HtmlElement {
    let doc = web_sys::window().unwrap().document().unwrap();
    let div = doc.create_element("div").unwrap();
    doc.body().unwrap().append_child(&div).unwrap();
    div.unchecked_into()
}

fn attr(root: &web_sys::HtmlElement, selector: &str, name: &str) -> Option<String> {
    root.query_selector(selector)
        .ok()
        .flatten()
        .and_then(|e| e.get_attribute(name))
}

#[wasm_bindgen_test]
fn kpi_cards_carry_the_unrounded_figures() {
    let (_, view) = sample_view();
    let expected = view.kpis.clone();
    let root = container();
    let ui = Ui::new();
    ui.view.set(Some(Arc::new(view)));
    let handle = leptos::mount::mount_to(root.clone(), move || {
        provide_context(ui);
        view! { <Kpis/> }
    });
    assert_eq!(
        attr(&root, "[data-testid='kpi-conversations']", "data-value"),
        Some(expected.conversations.to_string())
    );
    assert_eq!(
        attr(&root, "[data-testid='kpi-csat']", "data-value"),
        Some(expected.csat.to_string())
    );
    assert_eq!(
        attr(&root, "[data-testid='kpi-response-time']", "data-value"),
        Some(
            expected
                .reply_gap
                .map(|v| v.to_string())
                .unwrap_or_default()
        )
    );
    let text = root.text_content().unwrap_or_default();
    assert!(text.contains("CSAT") && text.contains("n = "), "{text}");
    // Each card explains itself to keyboard and screen-reader users.
    let card = root
        .query_selector("[data-testid='kpi-fcr']")
        .unwrap()
        .unwrap();
    assert_eq!(card.get_attribute("tabindex").as_deref(), Some("0"));
    let desc = card.get_attribute("aria-describedby").unwrap();
    assert!(root.query_selector(&format!("#{desc}")).unwrap().is_some());
    assert_eq!(card.get_attribute("role").as_deref(), Some("group"));
    let name = card.get_attribute("aria-labelledby").unwrap();
    let label = root.query_selector(&format!("#{name}")).unwrap().unwrap();
    assert_eq!(
        label.text_content().as_deref(),
        Some("First-contact resolution")
    );
    drop(handle);
}

#[wasm_bindgen_test]
fn the_conversation_table_shows_the_page_and_the_quality_panel_the_drops() {
    let (d, view) = sample_view();
    let rows = view.page.rows.len();
    let root = container();
    let ui = Ui::new();
    ui.page.set(Some(view.page.clone()));
    ui.report.set(Some(d.report.clone()));
    ui.view.set(Some(Arc::new(view)));
    let handle = leptos::mount::mount_to(root.clone(), move || {
        provide_context(ui);
        view! { <Conversations/><Quality/> }
    });
    assert_eq!(
        root.query_selector_all("[data-testid='conversation-row']")
            .unwrap()
            .length() as usize,
        rows
    );
    // The keyboard reaches each row through a named button.
    assert_eq!(
        root.query_selector_all(
            "[data-testid='conversation-row'] button[aria-label^='Open conversation']"
        )
        .unwrap()
        .length() as usize,
        rows
    );
    let info = root
        .query_selector("[data-testid='page-info']")
        .unwrap()
        .unwrap()
        .text_content()
        .unwrap();
    assert!(
        info.contains(&format!("{} conversations", d.conversations.len())),
        "{info}"
    );
    assert_eq!(
        attr(
            &root,
            "[data-testid='filtered-autoresponse']",
            "data-testid"
        )
        .as_deref(),
        Some("filtered-autoresponse")
    );
    let n = root
        .query_selector("[data-testid='filtered-autoresponse']")
        .unwrap()
        .unwrap()
        .text_content()
        .unwrap();
    assert_eq!(
        n.replace(',', ""),
        d.report.filtered.autoresponse.to_string()
    );
    drop(handle);
}

#[wasm_bindgen_test]
fn worker_messages_round_trip() {
    let r = Request::Query {
        seq: 3,
        filter: Filter::from_params(Some("2025-08-02"), None, Some("Africa/Nairobi"), None, None)
            .unwrap(),
        list: ListQuery::default(),
        report: ReportParams {
            business_hours: Some("Mon-Fri 08:00-17:00".into()),
            ..ReportParams::default()
        },
    };
    let back: Request = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back, r);
    let (_, view) = sample_view();
    let reply = Reply::View {
        seq: 3,
        view: Box::new(view),
    };
    let text = serde_json::to_string(&reply).unwrap();
    let back: Reply = serde_json::from_str(&text).unwrap();
    match back {
        Reply::View { view, .. } => assert!(view.kpis.conversations > 100),
        other => panic!("{other:?}"),
    }
}

#[wasm_bindgen_test]
fn number_formats() {
    use powerpulse_app::format;
    assert_eq!(format::count(12345), "12,345");
    assert_eq!(format::minutes(Some(95.0)), "1 h 35 min");
    assert_eq!(format::sentiment(Some(0.25)), "+0.25");
}

#[wasm_bindgen_test]
fn a_full_browser_storage_is_explained() {
    let quota = web_sys::DomException::new_with_message_and_name(
        "the quota has been exceeded",
        "QuotaExceededError",
    )
    .unwrap();
    let e = rexie::Error::IdbError(idb::Error::DomException(quota));
    let text = powerpulse_app::engine::storage_problem(&e);
    assert!(
        text.contains("storage is full") && text.contains("Delete older datasets"),
        "{text}"
    );
    let other = web_sys::DomException::new_with_message_and_name("broken", "UnknownError").unwrap();
    let text = powerpulse_app::engine::storage_problem(&rexie::Error::IdbError(
        idb::Error::DomException(other),
    ));
    assert!(text.contains("could not be saved"), "{text}");
}

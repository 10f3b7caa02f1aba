//! How far the analyzer can be trusted here: its agreement with the reviews of randomly drawn
//! conversations, and CSAT % and FCR % corrected for its measured errors.

use leptos::prelude::*;
use powerpulse_shared::estimate::{Estimate, Queue};

use crate::bridge;
use crate::components::review::open_next;
use crate::protocol::Request;
use crate::state::Ui;

fn estimate_text(e: &Estimate) -> String {
    format!(
        "{:.1} % (95 % interval {:.1}-{:.1}; the analyzer says {:.1} %)",
        e.value, e.low, e.high, e.apparent
    )
}

/// The agreement panel, with the buttons that start reviewing.
#[component]
pub fn Agreement() -> impl IntoView {
    let ui = expect_context::<Ui>();
    view! {
        {move || ui.view.get().map(|v| {
            let e = v.evaluation.clone();
            let figures = e.enough.then(|| {
                let share = |x: Option<f64>, n: usize| (x, x.map_or("-".to_owned(), |x| format!("{x:.2} (n {n})")));
                let est = |x: Option<Estimate>| (x.map(|c| c.value), x.as_ref().map_or("-".into(), estimate_text));
                let rows = [
                    ("Satisfaction kappa", "agreement-kappa", share(e.satisfaction_kappa, e.n_satisfaction)),
                    ("FCR balanced accuracy", "agreement-fcr", share(e.fcr_balanced_accuracy, e.n_fcr)),
                    ("Topic hit", "agreement-topics", share(e.topic_hit, e.n_topics)),
                    ("CSAT, corrected", "estimate-csat", est(e.csat)),
                    ("FCR, corrected", "estimate-fcr", est(e.fcr)),
                ];
                view! {
                    <dl class="agreement">
                        {rows.into_iter().map(|(label, id, (value, text))| view! {
                            <dt>{label}</dt>
                            <dd data-testid=id data-value=value.map(|v| v.to_string()).unwrap_or_default()>{text}</dd>
                        }).collect_view()}
                    </dl>
                }
            });
            view! {
                <section class="panel" aria-labelledby="agreement-title" data-testid="agreement">
                    <h2 id="agreement-title">"How far the analyzer agrees with your reviews"</h2>
                    <p data-testid="review-counts" data-reviews=e.reviews.to_string() data-sampled=e.sampled.to_string()>
                        {format!("{} reviewed conversations in view, {} of them drawn at random.", e.reviews, e.sampled)}
                    </p>
                    {(!e.enough).then(|| view! {
                        <p class="muted" data-testid="agreement-wait">{format!(
                            "Review at least {} randomly drawn conversations to measure the analyzer ({} so far).",
                            e.min_sampled, e.sampled)}</p>
                    })}
                    {figures}
                    <div class="review-row">
                        <button type="button" class="button" data-testid="review-sample"
                            on:click=move |_| open_next(ui, Queue::Sample, None)>"Review a random sample"</button>
                        <button type="button" class="button ghost" data-testid="review-uncertain"
                            on:click=move |_| open_next(ui, Queue::Uncertain, None)>"Review the least certain"</button>
                        <button type="button" class="button ghost" data-testid="reviews-export"
                            on:click=move |_| bridge::send(&Request::ExportReviews, None)>"Export reviews"</button>
                        <label class="button ghost">
                            "Import reviews"
                            <input type="file" accept=".json,application/json" class="visually-hidden" data-testid="reviews-import"
                                on:change=move |ev| {
                                    let input: web_sys::HtmlInputElement = event_target(&ev);
                                    if let Some(f) = input.files().and_then(|fs| fs.get(0)) {
                                        bridge::send(&Request::ImportReviews, Some(f.into()));
                                    }
                                    input.set_value("");
                                } />
                        </label>
                    </div>
                    {move || ui.notice.get().map(|n| view! { <p class="muted" role="status" data-testid="reviews-notice">{n}</p> })}
                </section>
            }
        })}
    }
}

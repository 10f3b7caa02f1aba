//! The review form in the transcript: satisfaction 1-5, FCR yes / no / no issue, topics, a
//! note, all from the keyboard (1-5, y / n / 0, Enter saves, → or Next moves on along the
//! queue the conversation came from), with the analyzer's judgement beside it.

use leptos::prelude::*;
use powerpulse_shared::estimate::Queue;
use powerpulse_shared::evaluate::Label;

use crate::bridge;
use crate::protocol::Request;
use crate::state::{Transcript, Ui};

/// The form's choices, before they are saved.
#[derive(Clone, Copy)]
pub struct Draft {
    /// 1-5.
    pub score: RwSignal<Option<u8>>,
    /// Resolved, not resolved, or (inner `None`) no issue; outer `None`: not chosen yet.
    pub fcr: RwSignal<Option<Option<bool>>>,
    /// Chosen topics.
    pub topics: RwSignal<Vec<String>>,
    /// The note.
    pub note: RwSignal<String>,
    /// What the last save attempt said.
    pub status: RwSignal<String>,
}

impl Draft {
    /// The form of a transcript: its review, or nothing chosen (the analyzer's judgement is
    /// shown beside, never filled in: a reviewer should judge on their own).
    pub fn of(t: &Transcript) -> Draft {
        let r = t.review.as_ref();
        Draft {
            score: RwSignal::new(r.map(|r| r.satisfaction)),
            fcr: RwSignal::new(r.map(|r| r.fcr)),
            topics: RwSignal::new(r.map(|r| r.topics.clone()).unwrap_or_default()),
            note: RwSignal::new(r.map(|r| r.note.clone()).unwrap_or_default()),
            status: RwSignal::new(if r.is_some() {
                "reviewed".into()
            } else {
                String::new()
            }),
        }
    }

    /// Takes a key pressed in the dialog; true when it was the form's.
    pub fn key(&self, key: &str, t: &Transcript, ui: Ui) -> bool {
        match key {
            "1" | "2" | "3" | "4" | "5" => self.score.set(key.parse().ok()),
            "y" | "Y" => self.fcr.set(Some(Some(true))),
            "n" | "N" => self.fcr.set(Some(Some(false))),
            "0" => self.fcr.set(Some(None)),
            "Enter" => self.save(t, ui),
            _ => return false,
        }
        true
    }

    /// Sends the review; a review of a conversation drawn from the random sample counts in the
    /// agreement and the estimates.
    pub fn save(&self, t: &Transcript, ui: Ui) {
        let (Some(satisfaction), Some(fcr)) =
            (self.score.get_untracked(), self.fcr.get_untracked())
        else {
            self.status
                .set("choose a satisfaction (1-5) and FCR (y / n / 0) first".into());
            return;
        };
        let sampled = ui.queue.get_untracked() == Some(Queue::Sample)
            || t.review.as_ref().is_some_and(|r| r.is_sampled());
        let review = Label {
            satisfaction,
            fcr,
            topics: self.topics.get_untracked(),
            customer_sentiment: None,
            language: None,
            note: self.note.get_untracked(),
            sampled: Some(sampled),
        };
        self.status.set("saving…".into());
        bridge::send(
            &Request::Review {
                chat_id: t.chat_id.clone(),
                review: Some(review),
            },
            None,
        );
    }
}

/// Opens the next conversation of the queue `kind` (after `current`), if any.
pub fn open_next(ui: Ui, kind: Queue, current: Option<&str>) {
    let next = ui.view.with_untracked(|v| {
        v.as_ref().and_then(|v| {
            v.queues
                .iter()
                .find(|(k, _)| *k == kind)
                .and_then(|(_, ids)| ids.iter().find(|id| Some(id.as_str()) != current).cloned())
        })
    });
    match next {
        Some(chat_id) => {
            ui.queue.set(Some(kind));
            bridge::send(&Request::Transcript { chat_id }, None);
        }
        None => {
            ui.queue.set(None);
            ui.transcript.set(None);
        }
    }
}

fn fcr_value(f: Option<Option<bool>>) -> &'static str {
    match f {
        None => "",
        Some(Some(true)) => "true",
        Some(Some(false)) => "false",
        Some(None) => "null",
    }
}

/// The review form of the open transcript.
#[component]
pub fn ReviewForm(transcript: Transcript, draft: Draft) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let j = transcript.judgement.clone();
    let said = format!(
        "{} said: satisfaction {}, FCR {}, topics {}",
        j.analyzer,
        j.satisfaction_score.map_or("-".into(), |s| s.to_string()),
        match j.first_contact_resolution {
            Some(true) => "yes",
            Some(false) => "no",
            None => "no issue",
        },
        if j.topics.is_empty() {
            "-".into()
        } else {
            j.topics.join(", ")
        }
    );
    let t_save = transcript.clone();
    let chat = transcript.chat_id.clone();
    let fcr_choices = [
        (Some(true), "y", "resolved"),
        (Some(false), "n", "not resolved"),
        (None, "0", "no issue"),
    ];
    view! {
        <section class="review" aria-labelledby="review-title" data-testid="review">
            <h3 id="review-title">{if transcript.review.is_some() { "Your review" } else { "Review this conversation" }}</h3>
            <p class="muted" data-testid="review-analyzer">{said}</p>
            <div class="review-row" role="group" aria-label="Satisfaction (keys 1 to 5)" data-testid="review-satisfaction"
                data-value=move || draft.score.get().map(|s| s.to_string()).unwrap_or_default()>
                <span>"Satisfaction"</span>
                {(1u8..=5).map(|s| view! {
                    <button type="button" class="button ghost" aria-pressed=move || (draft.score.get() == Some(s)).to_string()
                        on:click=move |_| draft.score.set(Some(s))>{s.to_string()}</button>
                }).collect_view()}
            </div>
            <div class="review-row" role="group" aria-label="First-contact resolution (keys y, n, 0)" data-testid="review-fcr"
                data-value=move || fcr_value(draft.fcr.get())>
                <span>"FCR"</span>
                {fcr_choices.into_iter().map(|(v, key, label)| view! {
                    <button type="button" class="button ghost" aria-pressed=move || (draft.fcr.get() == Some(v)).to_string()
                        on:click=move |_| draft.fcr.set(Some(v))>{format!("{label} ({key})")}</button>
                }).collect_view()}
            </div>
            <fieldset class="review-row" data-testid="review-topics">
                <legend>"Topics"</legend>
                {transcript.topics.iter().cloned().map(|topic| {
                    let (t2, label) = (topic.clone(), topic.clone());
                    view! {
                        <label class="chip">
                            <input type="checkbox" prop:checked=move || draft.topics.with(|ts| ts.contains(&t2))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    let t = topic.clone();
                                    draft.topics.update(|ts| { ts.retain(|x| *x != t); if on { ts.push(t) } });
                                } />
                            {label}
                        </label>
                    }
                }).collect_view()}
            </fieldset>
            <label class="review-row">
                <span>"Note"</span>
                <input type="text" maxlength="2000" data-testid="review-note" prop:value=move || draft.note.get()
                    on:input=move |ev| draft.note.set(event_target_value(&ev)) />
            </label>
            <div class="review-row">
                <button type="button" class="button" data-testid="review-save" on:click=move |_| draft.save(&t_save, ui)>"Save (Enter)"</button>
                <button type="button" class="button ghost" data-testid="review-next"
                    on:click=move |_| open_next(ui, ui.queue.get_untracked().unwrap_or(Queue::Sample), Some(&chat))>"Next (→)"</button>
                <span class="muted" role="status" data-testid="review-status">{move || draft.status.get()}</span>
            </div>
        </section>
    }
}

//! The AI analysis from the worker: conversations in chunks to the server's `/api/analyze`
//! (the shared wire types), results applied with the shared crate's rule, progress reported,
//! cancellable, saved at the end.

use std::collections::{HashMap, HashSet};

use powerpulse_shared::wire::{AnalyzeRequest, AnalyzeResponse, AnalyzeResult};
use powerpulse_shared::{apply_ai_to_conversation, ConversationInput};

use super::{error, majority_analyzer, persist, post, Shared};
use crate::http::{self, HttpError};
use crate::protocol::Reply;

/// Conversations per request.
const CHUNK: usize = 200;

/// What a failed request means for the person waiting (the built-in analysis stays).
fn for_people(e: &HttpError) -> String {
    match e {
        HttpError::Unreachable => {
            "the server cannot be reached (offline?): the built-in analysis stays".into()
        }
        HttpError::Status { status: 503, .. } => {
            "the server has no AI provider configured: the built-in analysis stays".into()
        }
        HttpError::Status { status: 429, .. } => {
            "the AI provider's quota is exhausted: try again later".into()
        }
        HttpError::Status { status: 401, .. } => "the server needs an API token".into(),
        other => other.to_string(),
    }
}

/// The request for these conversations of the open dataset.
fn request(engine: &Shared, chunk: &[String], force: bool) -> Option<AnalyzeRequest> {
    let e = engine.borrow();
    let o = e.open.as_ref()?;
    let wanted: HashSet<&str> = chunk.iter().map(String::as_str).collect();
    let conversations = o
        .dataset
        .conversations
        .iter()
        .filter(|c| wanted.contains(c.summary.chat_id.as_str()))
        .map(ConversationInput::of)
        .collect();
    Some(AnalyzeRequest {
        conversations,
        force,
    })
}

/// Applies an answer to the open dataset; returns (analysed, failed).
fn apply(engine: &Shared, resp: &AnalyzeResponse) -> (usize, usize) {
    let mut e = engine.borrow_mut();
    let Some(o) = e.open.as_mut() else {
        return (0, 0);
    };
    let by_id: HashMap<&str, &AnalyzeResult> =
        resp.results.iter().map(|r| (r.id.as_str(), r)).collect();
    let (mut done, mut failed) = (0, 0);
    for c in o.dataset.conversations.iter_mut() {
        let Some(r) = by_id.get(c.summary.chat_id.as_str()) else {
            continue;
        };
        match r.analysis() {
            Some(ai) => {
                apply_ai_to_conversation(c, &ai, &r.customer_message_indices, &resp.analyzer);
                done += 1;
            }
            None => failed += 1,
        }
    }
    o.meta.analyzer = majority_analyzer(&o.dataset);
    (done, failed)
}

/// Runs the analysis of the open dataset.
pub(super) async fn run(engine: Shared, force: bool) {
    let abort = match web_sys::AbortController::new() {
        Ok(a) => a,
        Err(e) => return error(0, format!("{e:?}")),
    };
    engine.borrow_mut().ai_abort = Some(abort.clone());
    let ids: Vec<String> = {
        let e = engine.borrow();
        let Some(o) = &e.open else {
            return error(0, "no dataset is open");
        };
        o.dataset
            .conversations
            .iter()
            .filter(|c| c.summary.customer_messages + c.summary.agent_messages > 0)
            .map(|c| c.summary.chat_id.clone())
            .collect()
    };
    let total = ids.len();
    let (mut done, mut failed, mut stopped, mut analyzer) = (0usize, 0usize, None, String::new());
    for chunk in ids.chunks(CHUNK) {
        if abort.signal().aborted() {
            stopped = Some("cancelled".to_owned());
            break;
        }
        let Some(body) = request(&engine, chunk, force) else {
            return;
        };
        match http::post::<_, AnalyzeResponse>("/api/analyze", &body, &abort.signal()).await {
            Ok(resp) => {
                analyzer = resp.analyzer.clone();
                let (d, f) = apply(&engine, &resp);
                done += d;
                failed += f;
            }
            Err(e) => {
                stopped = Some(if abort.signal().aborted() {
                    "cancelled".into()
                } else {
                    for_people(&e)
                });
                break;
            }
        }
        post(
            &Reply::AiProgress {
                done,
                failed,
                total,
            },
            None,
        );
    }
    engine.borrow_mut().ai_abort = None;
    if done > 0 {
        persist(&engine).await;
    }
    post(
        &Reply::AiDone {
            analyzer,
            done,
            failed,
            stopped,
        },
        None,
    );
}

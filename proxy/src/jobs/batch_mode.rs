//! Jobs through the provider's Batch API (half price, results within 24 hours): the queued
//! conversations are prepared and packed as for synchronous calls, submitted as one remote batch
//! per [`MAX_REMOTE_CONVERSATIONS`], and their items handed to the batch in the store. Every
//! worker polls the open batches; the first to see one done takes its items and writes the
//! answers exactly as synchronous results are written. What a batch could not answer (a failed
//! request, an invalid item, a batch that failed or expired) is analysed synchronously. A
//! restart finds the submitted batches in the store and collects them, never submitting again.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};
use tokio_util::sync::CancellationToken;

use super::{input_of, ClaimContext, Jobs, Task};
use crate::ai::batch::{BatchPoll, BATCH_PRICE_FACTOR, BATCH_WINDOW_MS};
use crate::ai::prompt::{batch_text, Prepared};
use crate::ai::provider::{CallError, Reply};
use crate::ai::{parse_results, short_id, AiEngine, ItemOutcome, Stop};
use crate::analysis::Analysis;
use crate::config::BatchMode;
use crate::store::{now_ms, JobStats, RemoteBatchRow, RemoteRequest, RemoteState};

/// The most conversations one submitted batch holds: with the instructions repeated in each
/// request, Gemini's inline requests stay well under its 20 MB limit.
pub const MAX_REMOTE_CONVERSATIONS: usize = 5_000;

/// How many open batches one pass of the worker polls.
const POLLS_PER_PASS: i64 = 20;

/// A finished batch's answers by request key.
pub(super) type Answers = Vec<(String, Result<Reply, CallError>)>;

/// The counters of batch work: the batch price, and what it saved against synchronous calls.
fn batch_stats(
    requests: usize,
    input_tokens: u64,
    output_tokens: u64,
    engine: &AiEngine,
) -> JobStats {
    let c = engine.config();
    let full = input_tokens as f64 * c.price_in / 1e6 + output_tokens as f64 * c.price_out / 1e6;
    JobStats {
        cached: 0,
        calls: requests as i64,
        retries: 0,
        input_tokens: input_tokens as i64,
        output_tokens: output_tokens as i64,
        cost_usd: full * BATCH_PRICE_FACTOR,
        saved_usd: full * (1.0 - BATCH_PRICE_FACTOR),
    }
}

/// Each request's conversations with the ids they were sent with: by their position in the
/// request, even if one of them is no longer here.
fn as_submitted(
    requests: &[RemoteRequest],
    mut prepared: HashMap<String, Prepared>,
) -> Vec<(&RemoteRequest, Vec<Prepared>)> {
    requests
        .iter()
        .map(|r| {
            let mut call = Vec::new();
            for (i, chat) in r.chats.iter().enumerate() {
                if let Some(mut p) = prepared.remove(chat) {
                    p.short_id = short_id(i);
                    call.push(p);
                }
            }
            (r, call)
        })
        .collect()
}

/// What a finished batch answered.
struct Read {
    /// Conversations answered validly.
    outcomes: Vec<(String, ItemOutcome)>,
    /// Conversations to analyse synchronously (a failed request, an invalid item, no answer).
    again: Vec<Prepared>,
    /// Requests answered, and the tokens the provider counted for them.
    answered: usize,
    input_tokens: u64,
    output_tokens: u64,
}

/// Reads each request's answer (or, when the batch ended without answers, none).
fn read_answers(
    batch_id: &str,
    requests: Vec<(&RemoteRequest, Vec<Prepared>)>,
    poll: Result<Answers, String>,
) -> Read {
    let (mut answers, ended) = match poll {
        Ok(a) => (a.into_iter().collect::<HashMap<_, _>>(), None),
        Err(why) => (HashMap::new(), Some(why)),
    };
    let mut read = Read {
        outcomes: Vec::new(),
        again: Vec::new(),
        answered: 0,
        input_tokens: 0,
        output_tokens: 0,
    };
    for (r, sub) in requests {
        match answers.remove(&r.key) {
            Some(Ok(reply)) => {
                read.answered += 1;
                read.input_tokens += reply.input_tokens;
                read.output_tokens += reply.output_tokens;
                match parse_results(&reply.text, &sub) {
                    Ok((good, bad)) => {
                        read.outcomes
                            .extend(good.into_iter().map(|(id, a)| (id, ItemOutcome::Done(a))));
                        read.again
                            .extend(bad.into_iter().filter_map(|(i, _)| sub.get(i).cloned()));
                    }
                    Err(_) => read.again.extend(sub),
                }
            }
            Some(Err(e)) => {
                tracing::info!(batch = %batch_id, request = %r.key, reason = %e.reason(), "a batch request failed; analysing it synchronously");
                read.again.extend(sub);
            }
            None => {
                if let Some(why) = &ended {
                    tracing::warn!(batch = %batch_id, reason = %why, "the batch ended without answers; analysing synchronously");
                }
                read.again.extend(sub);
            }
        }
    }
    read
}

impl Jobs {
    /// Whether a job's queued conversations go by batch: `AI_BATCH_MODE=always`, or `auto` with
    /// at least `AI_BATCH_THRESHOLD` of them.
    pub(super) async fn goes_by_batch(
        &self,
        engine: &AiEngine,
        job_id: &str,
    ) -> crate::store::Result<bool> {
        let cfg = engine.config();
        Ok(match cfg.batch_mode {
            BatchMode::Off => false,
            BatchMode::Always => true,
            BatchMode::Auto => self.store.queued_items(job_id).await? >= cfg.batch_threshold as i64,
        })
    }

    /// Submits the job's queued conversations as remote batches (cache hits are written at once;
    /// if the provider will not take a batch, its conversations are analysed synchronously).
    pub(super) async fn submit(
        &self,
        analysis: &Analysis,
        job_id: &str,
        force: bool,
        token: &CancellationToken,
    ) -> crate::store::Result<()> {
        let engine = analysis.engine();
        let mut stop = None;
        while stop.is_none() && !token.is_cancelled() {
            let claimed = self
                .store
                .claim_items(job_id, &self.worker_id, MAX_REMOTE_CONVERSATIONS as i64)
                .await?;
            if claimed.is_empty() {
                break;
            }
            let (ctx, to_send) = self.prepare_claim(analysis, job_id, force, claimed).await?;
            if to_send.is_empty() {
                continue;
            }
            let planned = engine.plan(to_send);
            let requests: Vec<RemoteRequest> = planned
                .iter()
                .enumerate()
                .map(|(i, b)| RemoteRequest {
                    key: format!("r{}", i + 1),
                    chats: b.iter().map(|p| p.id.clone()).collect(),
                })
                .collect();
            let texts: Vec<(String, String)> = requests
                .iter()
                .zip(&planned)
                .map(|(r, b)| (r.key.clone(), batch_text(b)))
                .collect();
            let name = format!("powerpulse {job_id}");
            let submitted = tokio::select! {
                r = engine.provider().batch_submit(&name, &texts) => r,
                _ = token.cancelled() => Err(CallError::Retryable { reason: "cancelled".into(), retry_after: None }),
            };
            match submitted {
                Ok(batch_id) => {
                    tracing::info!(job = %job_id, batch = %batch_id, requests = requests.len(), "batch submitted");
                    self.store
                        .start_remote_batch(
                            job_id,
                            &self.worker_id,
                            &batch_id,
                            &requests,
                            now_ms() + BATCH_WINDOW_MS,
                        )
                        .await?;
                }
                Err(_) if token.is_cancelled() => stop = Some(Stop::Cancelled),
                Err(CallError::Quota {
                    reason,
                    retry_after,
                }) => {
                    stop = Some(Stop::Quota {
                        reason,
                        retry_after: retry_after.unwrap_or(Duration::from_secs(3600)),
                    })
                }
                Err(e) => {
                    tracing::warn!(job = %job_id, reason = %e.reason(), "the provider did not take the batch; analysing synchronously");
                    stop = self.run_now(analysis, job_id, &ctx, planned, token).await?;
                }
            }
        }
        match stop {
            // Done submitting: the job finishes when its batches are collected.
            None => Ok(()),
            stop => self.end_work(job_id, stop).await,
        }
    }

    /// Analyses planned calls synchronously, concurrently under the key's limits; returns why
    /// it stopped early, if it did.
    async fn run_now(
        &self,
        analysis: &Analysis,
        job_id: &str,
        ctx: &ClaimContext,
        planned: Vec<Vec<Prepared>>,
        token: &CancellationToken,
    ) -> crate::store::Result<Option<Stop>> {
        let mut running: FuturesUnordered<_> = analysis
            .calls_as_planned(planned, token)
            .into_iter()
            .collect();
        let mut stop = None;
        while let Some(run) = running.next().await {
            let outcomes = run.outcomes.unwrap_or_else(|s| {
                stop.get_or_insert(s);
                Vec::new()
            });
            let stats = super::job_stats(run.stats, analysis.engine());
            self.write_outcomes(analysis, job_id, ctx, outcomes, stats)
                .await?;
        }
        Ok(stop)
    }

    /// Cancels at the provider the batches of cancelled jobs.
    pub(super) async fn cancel_remote_batches(
        &self,
        engine: &AiEngine,
    ) -> crate::store::Result<()> {
        for id in self.store.cancelled_open_remote_batches().await? {
            match engine.provider().batch_cancel(&id).await {
                // Unknown or already ended there: nothing left to cancel.
                Ok(()) | Err(CallError::Fatal { .. }) => {
                    tracing::info!(batch = %id, "batch cancelled at the provider");
                    self.store
                        .take_remote_items(&id, &self.worker_id, RemoteState::Cancelled)
                        .await?;
                }
                Err(e) => {
                    tracing::warn!(batch = %id, reason = %e.reason(), "cancelling the batch failed; trying again")
                }
            }
        }
        Ok(())
    }

    /// Asks the provider about open batches (every `AI_BATCH_POLL_MS`), and collects those done.
    pub(super) async fn poll_remote_batches(
        self: &Arc<Self>,
        analysis: &Analysis,
    ) -> crate::store::Result<()> {
        let engine = analysis.engine();
        {
            let mut last = self.last_poll.lock().expect("not poisoned");
            if last.is_some_and(|t| t.elapsed() < engine.config().batch_poll) {
                return Ok(());
            }
            *last = Some(std::time::Instant::now());
        }
        for (job_id, batch) in self.store.all_open_remote_batches(POLLS_PER_PASS).await? {
            let poll = match engine.provider().batch_poll(&batch.id).await {
                Ok(BatchPoll::Running) => continue,
                Ok(BatchPoll::Done(answers)) => Ok(answers),
                Ok(BatchPoll::Ended(why)) => Err(why),
                // The provider no longer knows it (or refuses to say): analyse its items here.
                Err(CallError::Fatal { reason }) => Err(reason),
                Err(e) => {
                    tracing::warn!(batch = %batch.id, reason = %e.reason(), "polling the batch failed");
                    continue;
                }
            };
            self.process(analysis, &job_id, Task::Collect { batch, poll })
                .await?;
        }
        Ok(())
    }

    /// Writes a finished batch's answers; what it did not answer is analysed synchronously.
    pub(super) async fn collect(
        &self,
        analysis: &Analysis,
        job_id: &str,
        batch: &RemoteBatchRow,
        poll: Result<Answers, String>,
        token: &CancellationToken,
    ) -> crate::store::Result<()> {
        let chats = self
            .store
            .take_remote_items(&batch.id, &self.worker_id, RemoteState::Collected)
            .await?;
        if chats.is_empty() {
            // Another worker collects it, or the job was cancelled.
            return Ok(());
        }
        let engine = analysis.engine();
        let items = self.store.load_claimed(&chats).await?;
        let inputs: Vec<_> = items.iter().map(input_of).collect();
        // Prepared again as when submitted (the cache is not asked: these were paid for).
        let lookup = analysis.lookup(&inputs, true).await?;
        let prepared: HashMap<String, Prepared> = lookup
            .to_send
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect();
        let ctx = ClaimContext {
            items: items.into_iter().map(|i| (i.chat_id.clone(), i)).collect(),
            sent: lookup.sent,
            label: analysis.label(),
        };
        let requests = as_submitted(&batch.requests, prepared);
        let read = read_answers(&batch.id, requests, poll);
        let stats = batch_stats(read.answered, read.input_tokens, read.output_tokens, engine);
        self.write_outcomes(analysis, job_id, &ctx, read.outcomes, stats)
            .await?;
        let stop = if read.again.is_empty() {
            None
        } else {
            self.run_now(analysis, job_id, &ctx, engine.plan(read.again), token)
                .await?
        };
        self.end_work(job_id, stop).await
    }
}

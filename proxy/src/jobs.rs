//! Background analysis jobs: a worker per server instance claims conversations from the job
//! queue in the store, sends them through the AI engine, and writes each batch's results as it
//! finishes. Cancel stops calls at once (in-flight requests are dropped); a restart resumes from
//! the store; several instances on one PostgreSQL share the queue.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};
use powerpulse_shared::{apply_ai, Role};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::ai::prompt::{AiAnalysis, ConversationInput};
use crate::ai::{AiEngine, AiUsage, ItemOutcome, Stop};
use crate::analysis::{Analysis, Lookup, Sent};
use crate::store::{ClaimedItem, JobStats, Store, StoredAnalysis};

mod batch_mode;
pub use batch_mode::MAX_REMOTE_CONVERSATIONS;

/// The job hub of one server instance.
pub struct Jobs {
    store: Store,
    analysis: Option<Arc<Analysis>>,
    notify: Notify,
    worker_id: String,
    shutdown: CancellationToken,
    running: Mutex<HashMap<String, CancellationToken>>,
    lease_ms: i64,
    /// How often the worker task died and was started again, and why it last died.
    restarts: std::sync::atomic::AtomicU64,
    last_failure: Mutex<Option<String>>,
    /// When this worker last asked the provider about open batches.
    last_poll: Mutex<Option<std::time::Instant>>,
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jobs")
            .field("worker_id", &self.worker_id)
            .finish_non_exhaustive()
    }
}

/// Runs `start()`'s task until it returns, starting it again `pause` after each panic (told to
/// `died` with the panic's message), unless `shutdown` was cancelled meanwhile.
pub async fn restart_on_panic<F, Fut>(
    shutdown: &CancellationToken,
    pause: Duration,
    mut start: F,
    died: impl Fn(String),
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    loop {
        let Err(e) = tokio::spawn(start()).await else {
            return;
        };
        if shutdown.is_cancelled() {
            return;
        }
        let why = match e.try_into_panic() {
            Ok(p) => p
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "panic".into()),
            Err(e) => e.to_string(),
        };
        died(why);
        tokio::time::sleep(pause).await;
    }
}

/// Builds the inputs the AI sees from a stored conversation: customer and agent messages only.
pub fn input_of(item: &ClaimedItem) -> ConversationInput {
    ConversationInput::from_messages(
        &item.chat_id,
        item.messages.iter().map(|m| (m.role, m.text.as_str())),
    )
}

/// The stored form of an AI analysis: the summary with the AI's fields in place (the shared
/// crate's rule, as in the browser), and the new sentiment of the customer messages it saw.
pub fn merge_analysis(
    item: &ClaimedItem,
    a: &AiAnalysis,
    customer_sent: &[usize],
    label: &str,
) -> StoredAnalysis {
    let customers: Vec<&crate::store::ClaimedMessage> = item
        .messages
        .iter()
        .filter(|m| m.role == Role::Customer)
        .collect();
    let mut scores: Vec<Option<f64>> = customers.iter().map(|m| m.sentiment).collect();
    let mut summary = item.summary.clone();
    apply_ai(&mut summary, &mut scores, a, customer_sent, label);
    let sentiments = customer_sent
        .iter()
        .filter_map(|&i| Some((customers.get(i)?.seq, scores[i])))
        .collect();
    StoredAnalysis {
        chat_id: item.chat_id.clone(),
        summary,
        sentiments,
        content_hash: item.content_hash.clone(),
    }
}

/// The counters of synchronous work at the configured prices.
fn job_stats(s: AiUsage, engine: &AiEngine) -> JobStats {
    let c = engine.config();
    JobStats {
        cached: 0,
        calls: s.calls as i64,
        retries: s.retries as i64,
        input_tokens: s.input_tokens as i64,
        output_tokens: s.output_tokens as i64,
        cost_usd: s.input_tokens as f64 * c.price_in / 1e6
            + s.output_tokens as f64 * c.price_out / 1e6,
        saved_usd: 0.0,
    }
}

impl Jobs {
    /// The hub; `lease` is how long a claim survives without its worker renewing it.
    pub fn new(
        store: Store,
        analysis: Option<Arc<Analysis>>,
        worker_id: String,
        shutdown: CancellationToken,
        lease: Duration,
    ) -> Arc<Jobs> {
        Arc::new(Jobs {
            store,
            analysis,
            notify: Notify::new(),
            worker_id,
            shutdown,
            running: Mutex::new(HashMap::new()),
            lease_ms: lease.as_millis() as i64,
            restarts: Default::default(),
            last_failure: Mutex::new(None),
            last_poll: Mutex::new(None),
        })
    }

    /// Tells the worker there is new work.
    pub fn wake(&self) {
        self.notify.notify_one();
    }

    /// Stops this instance's work on a job now (other instances see the cancel in the store).
    pub fn cancel_local(&self, job_id: &str) {
        if let Some(t) = self.running.lock().expect("jobs lock").get(job_id) {
            t.cancel();
        }
    }

    /// The worker loop, until shutdown.
    /// Runs the worker under a supervisor: a worker task that dies (a panic in a provider's
    /// parser, say) is logged, counted in `/health` and started again a second later, so jobs
    /// never stall silently while the server says ok.
    pub async fn supervise(self: Arc<Self>) {
        let jobs = self.clone();
        restart_on_panic(
            &self.shutdown,
            Duration::from_secs(1),
            move || jobs.clone().run(),
            |why| {
                let n = self
                    .restarts
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                    + 1;
                tracing::error!(restarts = n, reason = %why, "job worker died; restarting it");
                *self.last_failure.lock().expect("not poisoned") = Some(why);
            },
        )
        .await;
    }

    /// Worker restarts so far and the last reason (for `/health`).
    pub fn worker_restarts(&self) -> (u64, Option<String>) {
        (
            self.restarts.load(std::sync::atomic::Ordering::Relaxed),
            self.last_failure.lock().expect("not poisoned").clone(),
        )
    }

    async fn run(self: Arc<Self>) {
        let Some(analysis) = self.analysis.clone() else {
            return;
        };
        let engine = analysis.engine();
        loop {
            if self.shutdown.is_cancelled() {
                break;
            }
            let step = async {
                self.store.release_stale_claims(self.lease_ms).await?;
                self.cancel_remote_batches(engine).await?;
                self.poll_remote_batches(&analysis).await?;
                self.store.finish_idle_jobs().await?;
                self.store.runnable_job().await
            };
            match step.await {
                Ok(Some((job_id, force))) => {
                    if let Err(e) = self.process(&analysis, &job_id, Task::Work { force }).await {
                        tracing::error!(job = %job_id, error = %e, "job step failed");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
                Ok(None) => {
                    let idle = engine.config().batch_poll.min(Duration::from_secs(1));
                    tokio::select! {
                        _ = self.notify.notified() => {}
                        _ = tokio::time::sleep(idle) => {}
                        _ = self.shutdown.cancelled() => break,
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "job queue unavailable");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
        }
    }

    /// Does `task` for a job while a watcher keeps this worker's leases alive and stops the work
    /// when the job is cancelled (from any instance).
    async fn process(
        &self,
        analysis: &Analysis,
        job_id: &str,
        task: Task,
    ) -> crate::store::Result<()> {
        let token = self.shutdown.child_token();
        self.running
            .lock()
            .expect("jobs lock")
            .insert(job_id.to_owned(), token.clone());
        // Watches the store for a cancel (from any instance) and keeps this worker's leases alive.
        let watcher = {
            let store = self.store.clone();
            let token = token.clone();
            let job = job_id.to_owned();
            let worker = self.worker_id.clone();
            let renew_every = Duration::from_millis((self.lease_ms / 3).max(200) as u64);
            tokio::spawn(async move {
                let mut last_renew = tokio::time::Instant::now();
                loop {
                    tokio::select! {
                        _ = token.cancelled() => break,
                        _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                    }
                    if let Ok(Some(j)) = store.get_job(&job).await {
                        if j.status == powerpulse_shared::wire::JobState::Cancelled {
                            token.cancel();
                            break;
                        }
                    }
                    if last_renew.elapsed() >= renew_every {
                        let _ = store.renew_claims(&worker).await;
                        last_renew = tokio::time::Instant::now();
                    }
                }
            })
        };
        let result = match task {
            Task::Work { force } => self.work(analysis, job_id, force, &token).await,
            Task::Collect { batch, poll } => {
                self.collect(analysis, job_id, &batch, poll, &token).await
            }
        };
        token.cancel();
        let _ = watcher.await;
        self.running.lock().expect("jobs lock").remove(job_id);
        result
    }

    async fn work(
        &self,
        analysis: &Analysis,
        job_id: &str,
        force: bool,
        token: &CancellationToken,
    ) -> crate::store::Result<()> {
        self.store.set_job_running(job_id, "analysing").await?;
        let engine = analysis.engine();
        if self.goes_by_batch(engine, job_id).await? {
            return self.submit(analysis, job_id, force, token).await;
        }
        let cfg = engine.config();
        let per_claim = (cfg.batch_max_conversations * cfg.max_concurrency).max(20) as i64;
        // Calls stay queued ahead of the limiter so the provider's rate, not the claiming,
        // sets the pace: more work is claimed while fewer than two rounds of calls wait.
        let ahead = cfg.max_concurrency * 2;
        let mut running = FuturesUnordered::new();
        let mut exhausted = false;
        let mut stop = None;
        loop {
            while !exhausted && stop.is_none() && running.len() < ahead && !token.is_cancelled() {
                let claimed = self
                    .store
                    .claim_items(job_id, &self.worker_id, per_claim)
                    .await?;
                if claimed.is_empty() {
                    exhausted = true;
                    break;
                }
                let (ctx, to_send) = self.prepare_claim(analysis, job_id, force, claimed).await?;
                let ctx = Arc::new(ctx);
                for call in analysis.calls(to_send, token) {
                    let ctx = ctx.clone();
                    running.push(async move { (ctx, call.await) });
                }
            }
            let Some((ctx, run)) = running.next().await else {
                break;
            };
            let outcomes = run.outcomes.unwrap_or_else(|s| {
                stop.get_or_insert(s);
                token.cancel();
                Vec::new()
            });
            let stats = job_stats(run.stats, engine);
            self.write_outcomes(analysis, job_id, &ctx, outcomes, stats)
                .await?;
        }
        self.end_work(job_id, stop).await
    }

    /// Writes analysed conversations (and their cache entries), failures and the counters of
    /// the work that produced them (work paid for counts even when it stopped early).
    async fn write_outcomes(
        &self,
        analysis: &Analysis,
        job_id: &str,
        ctx: &ClaimContext,
        outcomes: Vec<(String, ItemOutcome)>,
        stats: JobStats,
    ) -> crate::store::Result<()> {
        analysis.remember(&ctx.sent, &outcomes).await?;
        let mut done = Vec::new();
        let mut failed = Vec::new();
        for (id, o) in outcomes {
            match o {
                ItemOutcome::Done(a) => done.push(merge_analysis(
                    &ctx.items[&id],
                    &a,
                    &ctx.sent[&id].customer_sent,
                    &ctx.label,
                )),
                ItemOutcome::Failed(reason) => failed.push((id, reason)),
            }
        }
        self.store
            .complete_items(job_id, &self.worker_id, &done, &failed, stats)
            .await?;
        Ok(())
    }

    /// What ends a job's work: finished (its results already in the rollups, written with
    /// each batch), paused for the quota, or stopped by a cancel or shutdown.
    async fn end_work(&self, job_id: &str, stop: Option<Stop>) -> crate::store::Result<()> {
        match stop {
            None => {
                self.store.finish_job(job_id).await?;
            }
            Some(Stop::Quota {
                reason,
                retry_after,
            }) => {
                let until = crate::store::now_ms() + retry_after.as_millis() as i64;
                tracing::warn!(job = %job_id, "provider quota exhausted; job paused");
                self.store
                    .pause_job(job_id, &self.worker_id, until, &reason)
                    .await?;
            }
            Some(Stop::Cancelled) => {
                // A cancelled job's items were dropped by the cancel; on shutdown they go back
                // to the queue for the next start.
                if self.shutdown.is_cancelled() {
                    self.store.release_worker_claims(&self.worker_id).await?;
                }
            }
        }
        Ok(())
    }

    /// Loads claimed conversations, writes what the cache answers, and returns the rest to send.
    async fn prepare_claim(
        &self,
        analysis: &Analysis,
        job_id: &str,
        force: bool,
        claimed: Vec<String>,
    ) -> crate::store::Result<(ClaimContext, Vec<crate::ai::prompt::Prepared>)> {
        let items = self.store.load_claimed(&claimed).await?;
        let inputs: Vec<ConversationInput> = items.iter().map(input_of).collect();
        // Unchanged content, same model and prompt: the cached analysis is reused.
        let Lookup {
            cached,
            to_send,
            sent,
        } = analysis.lookup(&inputs, force).await?;
        let ctx = ClaimContext {
            items: items.into_iter().map(|i| (i.chat_id.clone(), i)).collect(),
            sent,
            label: analysis.label(),
        };
        if !cached.is_empty() {
            let from_cache: Vec<StoredAnalysis> = cached
                .iter()
                .map(|(p, a)| merge_analysis(&ctx.items[&p.id], a, &p.customer_sent, &ctx.label))
                .collect();
            let stats = JobStats {
                cached: from_cache.len() as i64,
                ..JobStats::default()
            };
            self.store
                .complete_items(job_id, &self.worker_id, &from_cache, &[], stats)
                .await?;
        }
        Ok((ctx, to_send))
    }
}

/// A claim's conversations and what was sent for them.
struct ClaimContext {
    items: HashMap<String, ClaimedItem>,
    sent: HashMap<String, Sent>,
    label: String,
}

/// What a worker does for a job.
enum Task {
    /// Analyse its queued conversations (synchronously, or by submitting batches).
    Work {
        /// Bypass the cache.
        force: bool,
    },
    /// Write what a submitted batch answered (or, when it ended without answers, analyse its
    /// conversations synchronously).
    Collect {
        /// The batch as stored.
        batch: crate::store::RemoteBatchRow,
        /// Its answers by request key, or why it ended without them.
        poll: Result<batch_mode::Answers, String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn a_dead_worker_is_started_again_and_reported() {
        let starts = Arc::new(AtomicU32::new(0));
        let deaths = Mutex::new(Vec::new());
        let shutdown = CancellationToken::new();
        let s = starts.clone();
        restart_on_panic(
            &shutdown,
            Duration::from_millis(1),
            move || {
                let n = s.fetch_add(1, Ordering::SeqCst);
                async move {
                    if n < 2 {
                        panic!("provider parser blew up #{n}");
                    }
                }
            },
            |why| deaths.lock().unwrap().push(why),
        )
        .await;
        assert_eq!(
            starts.load(Ordering::SeqCst),
            3,
            "started again after each death"
        );
        assert_eq!(
            *deaths.lock().unwrap(),
            vec!["provider parser blew up #0", "provider parser blew up #1"]
        );
    }

    #[tokio::test]
    async fn a_worker_dying_at_shutdown_is_not_restarted() {
        let shutdown = CancellationToken::new();
        shutdown.cancel();
        let starts = Arc::new(AtomicU32::new(0));
        let s = starts.clone();
        restart_on_panic(
            &shutdown,
            Duration::from_millis(1),
            move || {
                s.fetch_add(1, Ordering::SeqCst);
                async { panic!("dying") }
            },
            |_| panic!("not reported as a death"),
        )
        .await;
        assert_eq!(starts.load(Ordering::SeqCst), 1);
    }
}

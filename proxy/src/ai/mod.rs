//! AI analysis through the providers: conversations packed into batches by token budget, sent
//! under the key's limits, retried with backoff (honouring Retry-After and RetryInfo), validated
//! item by item, and failed items retried alone in smaller batches. Nothing is made up: an item
//! that still fails is reported failed, and the caller keeps the built-in analysis.

pub mod batch;
pub mod limits;
pub mod model_check;
pub mod models;
pub mod prompt;
pub mod provider;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::Rng;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::config::AiConfig;
use crate::store::AiCacheKey;
use limits::Limits;
use prompt::{
    batch_text, prepare, validate, AiAnalysis, ConversationInput, Prepared, PROMPT_VERSION,
};
use provider::{CallError, Provider, Reply};

/// Counters of AI work, shared by concurrent batches.
#[derive(Debug, Default)]
pub struct Stats {
    /// Calls made (attempts included).
    pub calls: AtomicU64,
    /// Retries (a call made again after a failure).
    pub retries: AtomicU64,
    /// Items that failed for good.
    pub failures: AtomicU64,
    /// Input tokens the provider counted.
    pub input_tokens: AtomicU64,
    /// Output tokens the provider counted.
    pub output_tokens: AtomicU64,
    /// Conversations sent (each counted once per call it was in).
    pub conversations_sent: AtomicU64,
}

/// A snapshot of [`Stats`].
pub use powerpulse_shared::wire::AiUsage;

impl Stats {
    /// Current values.
    pub fn snapshot(&self) -> AiUsage {
        AiUsage {
            calls: self.calls.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
            input_tokens: self.input_tokens.load(Ordering::Relaxed),
            output_tokens: self.output_tokens.load(Ordering::Relaxed),
            conversations_sent: self.conversations_sent.load(Ordering::Relaxed),
        }
    }
}

/// The result for one conversation.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemOutcome {
    /// A validated analysis.
    Done(AiAnalysis),
    /// Why it failed (the built-in analysis stays).
    Failed(String),
}

/// Why a batch stopped before finishing.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    /// Cancelled by the user or shutdown.
    Cancelled,
    /// The key's quota is exhausted: pause instead of burning retries.
    Quota {
        /// The provider's words.
        reason: String,
        /// When to try again.
        retry_after: Duration,
    },
}

/// Backoff settings.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// First delay.
    pub base: Duration,
    /// Longest delay.
    pub cap: Duration,
}

impl Backoff {
    /// Exponential delay with jitter (50-100% of base x 2^attempt, capped); the provider's
    /// requested wait wins when it is given.
    pub fn delay(&self, attempt: u32, requested: Option<Duration>) -> Duration {
        if let Some(r) = requested {
            // The provider knows best, within reason: longer waits are treated as quota pauses.
            return r.min(Duration::from_secs(300));
        }
        let exp = self
            .base
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.cap);
        exp.mul_f64(rand::rng().random_range(0.5..=1.0))
    }
}

/// The AI path: a provider, its limits and the retry policy.
#[derive(Debug)]
pub struct AiEngine {
    provider: Provider,
    limits: Limits,
    cfg: AiConfig,
    backoff: Backoff,
}

/// A cache key for a conversation's analysis: content as sent, model and prompt version.
pub fn cache_key(label: &str, p: &Prepared) -> AiCacheKey {
    // Hashed behind the "### c" header the keys were first made with, so caches kept by
    // earlier versions still answer.
    AiCacheKey(crate::hash::sha256_hex(
        format!("{PROMPT_VERSION}\n{label}\n### c\n{}", p.text).as_bytes(),
    ))
}

impl AiEngine {
    /// The engine for a configured provider (none for the built-in analyzer).
    pub fn new(cfg: &AiConfig) -> Option<AiEngine> {
        let provider = Provider::new(cfg)?;
        let base = std::env::var("AI_BACKOFF_BASE_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000);
        let cap = std::env::var("AI_BACKOFF_CAP_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(30_000);
        Some(AiEngine {
            provider,
            limits: Limits::new(cfg.max_concurrency, cfg.rpm, cfg.tpm),
            cfg: cfg.clone(),
            backoff: Backoff {
                base: Duration::from_millis(base),
                cap: Duration::from_millis(cap),
            },
        })
    }

    /// `gemini:<model>` or `openai:<model>`.
    pub fn label(&self) -> String {
        self.provider.label()
    }

    /// Reads the provider's model list and says whether the configured model is on it.
    pub async fn check_model(&self) -> model_check::ModelCheck {
        let service = self.provider.service_name();
        match self.provider.list_models().await {
            Ok(ids) => model_check::verdict(service, self.provider.model(), &ids),
            Err(e) => model_check::ModelCheck::Unchecked {
                message: format!("could not list {service}'s models: {}", e.reason()),
            },
        }
    }

    /// The settings.
    pub fn config(&self) -> &AiConfig {
        &self.cfg
    }

    /// The provider (for dry runs).
    pub fn provider(&self) -> &Provider {
        &self.provider
    }

    /// Prepares conversations (trimmed, redacted) with their cache keys.
    pub fn prepare_all(&self, inputs: &[ConversationInput]) -> Vec<(Prepared, AiCacheKey)> {
        let label = self.label();
        inputs
            .iter()
            .map(|c| {
                let p = prepare(c, self.cfg.redact);
                let key = cache_key(&label, &p);
                (p, key)
            })
            .collect()
    }

    /// Packs prepared conversations into batches under the token budget and the per-call
    /// maximum, giving each a short id unique in its batch.
    pub fn plan(&self, items: Vec<Prepared>) -> Vec<Vec<Prepared>> {
        let budget = self.cfg.batch_tokens.max(1);
        let max = self.cfg.batch_max_conversations.max(1);
        let mut batches: Vec<Vec<Prepared>> = Vec::new();
        let mut current: Vec<Prepared> = Vec::new();
        let mut tokens = 0;
        for p in items {
            if !current.is_empty() && (current.len() >= max || tokens + p.tokens > budget) {
                batches.push(std::mem::take(&mut current));
                tokens = 0;
            }
            tokens += p.tokens;
            current.push(p);
        }
        if !current.is_empty() {
            batches.push(current);
        }
        for b in &mut batches {
            number(b);
        }
        batches
    }

    /// Analyses one planned batch: retries, smaller batches for failed items, validation.
    /// Returns each conversation's outcome by its caller id.
    pub async fn run_batch(
        &self,
        batch: Vec<Prepared>,
        cancel: &CancellationToken,
        stats: &Stats,
    ) -> Result<Vec<(String, ItemOutcome)>, Stop> {
        let mut out = Vec::with_capacity(batch.len());
        let mut queue: Vec<(Vec<Prepared>, u32)> = vec![(batch, 0)];
        while let Some((sub, attempt)) = queue.pop() {
            let result = self.call(&sub, cancel, stats).await?;
            let again = match judge_call(result, sub, &mut out, stats)? {
                None => continue,
                Some(again) => again,
            };
            if again.halve_now {
                // Which conversation a refusal is about is unknown: halves at once, no retry used.
                queue.extend(halves(again.items, attempt, stats));
                continue;
            }
            if attempt >= self.cfg.max_retries {
                fail_all(&mut out, again.items, &again.reason, stats);
                continue;
            }
            let wait = self.backoff.delay(attempt, again.requested);
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = cancel.cancelled() => return Err(Stop::Cancelled),
            }
            if again.split && again.items.len() > 1 {
                queue.extend(halves(again.items, attempt + 1, stats));
            } else {
                stats.retries.fetch_add(1, Ordering::Relaxed);
                queue.push((again.items, attempt + 1));
            }
        }
        Ok(out)
    }

    /// One call for `sub` under the key's limits (cancellable at any point).
    async fn call(
        &self,
        sub: &[Prepared],
        cancel: &CancellationToken,
        stats: &Stats,
    ) -> Result<Result<Reply, CallError>, Stop> {
        if cancel.is_cancelled() {
            return Err(Stop::Cancelled);
        }
        let est: u32 = sub.iter().map(|p| p.tokens).sum::<u32>() + 600;
        let _permit = self
            .limits
            .acquire(est, cancel)
            .await
            .map_err(|_| Stop::Cancelled)?;
        stats.calls.fetch_add(1, Ordering::Relaxed);
        stats
            .conversations_sent
            .fetch_add(sub.len() as u64, Ordering::Relaxed);
        let text = batch_text(sub);
        tokio::select! {
            r = self.provider.call(&text) => Ok(r),
            _ = cancel.cancelled() => Err(Stop::Cancelled),
        }
    }
}

/// What a call left to do again.
struct Again {
    /// The conversations to send again.
    items: Vec<Prepared>,
    /// Why, should they fail for good.
    reason: String,
    /// The provider's requested wait.
    requested: Option<Duration>,
    /// Retried in halves (a bad answer may be one item's fault) rather than whole.
    split: bool,
    /// Halved at once without using a retry (a refusal).
    halve_now: bool,
}

/// Records what a call settled in `out`; returns what is left to try again, or why to stop.
fn judge_call(
    result: Result<Reply, CallError>,
    sub: Vec<Prepared>,
    out: &mut Vec<(String, ItemOutcome)>,
    stats: &Stats,
) -> Result<Option<Again>, Stop> {
    let again = |items, reason, requested, split| {
        Ok(Some(Again {
            items,
            reason,
            requested,
            split,
            halve_now: false,
        }))
    };
    match result {
        Ok(reply) => {
            stats
                .input_tokens
                .fetch_add(reply.input_tokens, Ordering::Relaxed);
            stats
                .output_tokens
                .fetch_add(reply.output_tokens, Ordering::Relaxed);
            match parse_results(&reply.text, &sub) {
                Ok((good, bad)) => {
                    out.extend(good.into_iter().map(|(id, a)| (id, ItemOutcome::Done(a))));
                    let Some(reason) = bad.first().map(|(_, r)| r.clone()) else {
                        return Ok(None);
                    };
                    // Only the items that failed go again, in smaller batches.
                    let failed = bad
                        .into_iter()
                        .filter_map(|(i, _)| sub.get(i).cloned())
                        .collect();
                    again(failed, reason, None, true)
                }
                Err(reason) => again(sub, reason, None, true),
            }
        }
        Err(CallError::Quota {
            reason,
            retry_after,
        }) => Err(Stop::Quota {
            reason,
            retry_after: retry_after.unwrap_or(Duration::from_secs(3600)),
        }),
        Err(CallError::Fatal { reason }) => {
            fail_all(out, sub, &reason, stats);
            Ok(None)
        }
        Err(CallError::Malformed { reason }) => again(sub, reason, None, true),
        Err(CallError::Refused { reason }) if sub.len() == 1 => {
            // Asked again the same way, the answer is the same: recorded, not retried.
            fail_all(out, sub, &reason, stats);
            Ok(None)
        }
        Err(CallError::Refused { reason }) => Ok(Some(Again {
            items: sub,
            reason,
            requested: None,
            split: true,
            halve_now: true,
        })),
        Err(CallError::Retryable {
            reason,
            retry_after,
        }) => again(sub, reason, retry_after, false),
    }
}

/// Marks every item failed for good.
fn fail_all(
    out: &mut Vec<(String, ItemOutcome)>,
    items: Vec<Prepared>,
    reason: &str,
    stats: &Stats,
) {
    stats
        .failures
        .fetch_add(items.len() as u64, Ordering::Relaxed);
    out.extend(
        items
            .into_iter()
            .map(|p| (p.id, ItemOutcome::Failed(reason.to_owned()))),
    );
}

/// The two halves of `items`, first half first out of the queue, each counted as a retry.
fn halves(mut items: Vec<Prepared>, attempt: u32, stats: &Stats) -> [(Vec<Prepared>, u32); 2] {
    let second = items.split_off(items.len() / 2);
    stats.retries.fetch_add(2, Ordering::Relaxed);
    // The queue pops from the end: the first half goes last so it is sent first.
    [(second, attempt), (items, attempt)]
}

/// The short id of the conversation at `position` (from 0) of a call: `c1`, `c2`, ...
pub fn short_id(position: usize) -> String {
    format!("c{}", position + 1)
}

/// Gives a call's conversations their short ids, `c1` up, in order.
pub fn number(call: &mut [Prepared]) {
    for (i, p) in call.iter_mut().enumerate() {
        p.short_id = short_id(i);
    }
}

/// Reads `{"results": [...]}`; returns valid items by caller id and failed ones by position.
#[allow(clippy::type_complexity)]
pub(crate) fn parse_results(
    text: &str,
    sub: &[Prepared],
) -> Result<(Vec<(String, AiAnalysis)>, Vec<(usize, String)>), String> {
    let v: Value = serde_json::from_str(text.trim())
        .map_err(|e| format!("the model's JSON does not parse: {e}"))?;
    let results = v["results"]
        .as_array()
        .ok_or("the model's JSON has no results array")?;
    let short_ids: HashMap<&str, usize> = sub
        .iter()
        .enumerate()
        .map(|(i, p)| (p.short_id.as_str(), i))
        .collect();
    let mut found: HashMap<usize, Result<AiAnalysis, String>> = HashMap::new();
    for r in results {
        let Some(i) = r["id"].as_str().and_then(|id| short_ids.get(id)).copied() else {
            continue;
        };
        found
            .entry(i)
            .or_insert_with(|| validate(r, sub[i].customer_sent.len()));
    }
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for (i, p) in sub.iter().enumerate() {
        match found.remove(&i) {
            Some(Ok(a)) => good.push((p.id.clone(), a)),
            Some(Err(e)) => bad.push((i, format!("invalid result: {e}"))),
            None => bad.push((i, "missing from the model's answer".to_owned())),
        }
    }
    Ok((good, bad))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_honours_requested_waits() {
        let b = Backoff {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
        };
        for attempt in 0..6 {
            let d = b.delay(attempt, None);
            let full = Duration::from_millis(100 * (1 << attempt)).min(Duration::from_secs(1));
            assert!(d >= full / 2 && d <= full, "{attempt}: {d:?}");
        }
        assert_eq!(
            b.delay(0, Some(Duration::from_secs(7))),
            Duration::from_secs(7)
        );
    }
}

//! The AI run, written once for every caller (the job worker, `POST /api/analyze` and
//! `powerpulse analyze`): conversations are prepared, answered from the cache where it can,
//! the rest packed into calls and run under the key's limits, and every validated answer is
//! kept in the cache.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use powerpulse_shared::ai::{AiAnalysis, ConversationInput};
use tokio_util::sync::CancellationToken;

use crate::ai::model_check::ModelCheck;
use crate::ai::prompt::Prepared;
use crate::ai::{AiEngine, AiUsage, ItemOutcome, Stats, Stop};
use crate::store::{AiCacheKey, Store};

/// The AI analysis service of one process: the engine, and the store whose cache it uses.
#[derive(Debug)]
pub struct Analysis {
    engine: Arc<AiEngine>,
    store: Option<Store>,
    model_check: Mutex<ModelCheck>,
}

/// What was sent for a conversation: its cache key and which customer messages it holds.
#[derive(Debug, Clone)]
pub struct Sent {
    /// Where its answer is kept.
    pub key: AiCacheKey,
    /// For each customer message sent, its index among the conversation's customer messages.
    pub customer_sent: Vec<usize>,
}

/// Conversations looked up: those the cache answered, and those to send.
#[derive(Debug, Default)]
pub struct Lookup {
    /// Answered from the cache.
    pub cached: Vec<(Prepared, AiAnalysis)>,
    /// Still to analyse.
    pub to_send: Vec<Prepared>,
    /// What is sent for each of `to_send`, by id.
    pub sent: HashMap<String, Sent>,
}

/// One planned call's outcome (after its retries), with the counters of the work it took.
#[derive(Debug)]
pub struct CallRun {
    /// Each conversation's outcome by id, or why the call stopped.
    pub outcomes: Result<Vec<(String, ItemOutcome)>, Stop>,
    /// Calls, retries and tokens it took.
    pub stats: AiUsage,
}

impl Analysis {
    /// The service for an engine; without a store nothing is cached (the CLI).
    pub fn new(engine: AiEngine, store: Option<Store>) -> Analysis {
        Analysis {
            engine: Arc::new(engine),
            store,
            model_check: Mutex::new(ModelCheck::Pending),
        }
    }

    /// The engine (its settings and provider).
    pub fn engine(&self) -> &Arc<AiEngine> {
        &self.engine
    }

    /// `gemini:<model>` or `openai:<model>`.
    pub fn label(&self) -> String {
        self.engine.label()
    }

    /// Prepares conversations and answers from the cache what it can (nothing with `force`).
    pub async fn lookup(
        &self,
        inputs: &[ConversationInput],
        force: bool,
    ) -> crate::store::Result<Lookup> {
        let prepared = self.engine.prepare_all(inputs);
        let cached = match &self.store {
            Some(store) if !force => {
                let keys: Vec<AiCacheKey> = prepared.iter().map(|(_, k)| k.clone()).collect();
                store.cached_analyses(&keys).await?
            }
            _ => HashMap::new(),
        };
        let mut lookup = Lookup::default();
        for (p, key) in prepared {
            match cached.get(&key) {
                Some(a) => lookup.cached.push((p, a.clone())),
                None => {
                    let sent = Sent {
                        key,
                        customer_sent: p.customer_sent.clone(),
                    };
                    lookup.sent.insert(p.id.clone(), sent);
                    lookup.to_send.push(p);
                }
            }
        }
        Ok(lookup)
    }

    /// Packs conversations into calls; each future runs one call with its retries.
    pub fn calls(
        &self,
        to_send: Vec<Prepared>,
        cancel: &CancellationToken,
    ) -> Vec<impl Future<Output = CallRun> + Send + 'static> {
        self.calls_as_planned(self.engine.plan(to_send), cancel)
    }

    /// Runs calls already planned (the conversations a remote batch left unanswered).
    pub fn calls_as_planned(
        &self,
        planned: Vec<Vec<Prepared>>,
        cancel: &CancellationToken,
    ) -> Vec<impl Future<Output = CallRun> + Send + 'static> {
        planned
            .into_iter()
            .map(|call| {
                let engine = self.engine.clone();
                let cancel = cancel.clone();
                async move {
                    let stats = Stats::default();
                    let outcomes = engine.run_batch(call, &cancel, &stats).await;
                    CallRun {
                        outcomes,
                        stats: stats.snapshot(),
                    }
                }
            })
            .collect()
    }

    /// Keeps the validated answers among `outcomes` in the cache.
    pub async fn remember(
        &self,
        sent: &HashMap<String, Sent>,
        outcomes: &[(String, ItemOutcome)],
    ) -> crate::store::Result<()> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        let entries: Vec<(AiCacheKey, AiAnalysis)> = outcomes
            .iter()
            .filter_map(|(id, o)| match o {
                ItemOutcome::Done(a) => Some((sent.get(id)?.key.clone(), a.clone())),
                ItemOutcome::Failed(_) => None,
            })
            .collect();
        store.remember_analyses(&entries).await
    }

    /// Checks the configured model against the provider's list, logs the verdict and keeps it
    /// for `/health`.
    pub async fn check_model(&self) -> ModelCheck {
        let check = self.engine.check_model().await;
        match &check {
            ModelCheck::Found => {
                tracing::info!(model = %self.label(), "the provider lists the configured model")
            }
            ModelCheck::Missing { message, .. } | ModelCheck::Unchecked { message } => {
                tracing::warn!("{message}")
            }
            ModelCheck::Pending => {}
        }
        *self.model_check.lock().expect("not poisoned") = check.clone();
        check
    }

    /// The last model check (pending until the first one ends).
    pub fn model_check(&self) -> ModelCheck {
        self.model_check.lock().expect("not poisoned").clone()
    }
}

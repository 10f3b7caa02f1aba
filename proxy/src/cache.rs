//! What the metrics endpoints read: every conversation's summary, held in memory and brought up
//! to date when the store's data version moves (so several instances on one PostgreSQL stay in
//! step) by reading only the conversations changed since the version held, plus finished
//! responses keyed by (data version, request), since the same dashboards ask the same
//! questions again and again. Requests read the snapshot held; writers and a timer refresh it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use powerpulse_shared::{Filtered, Summary};
use tokio::sync::RwLock;

use crate::store::{Result, Store, StoreError};

/// The data behind the metrics at one data version.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// The store's data version this snapshot reflects (-1: never loaded).
    pub version: i64,
    /// Summaries in arrival order (shared between snapshots: an update copies pointers).
    pub summaries: Vec<Arc<Summary>>,
    /// Where each chat id sits in `summaries` (shared too: copied only when chats are added).
    position: Arc<HashMap<String, usize>>,
    /// The arrival position (`ord`) of the last summary.
    last_ord: i64,
    /// Cleaning counts over the distinct files uploaded.
    pub filtered: Filtered,
    /// When the data last changed.
    pub last_updated: Option<String>,
}

/// A snapshot's summaries, their positions by chat id, and the last arrival position.
type Parts = (Vec<Arc<Summary>>, Arc<HashMap<String, usize>>, i64);

impl Snapshot {
    /// The summaries, as the metric functions take them.
    pub fn iter(&self) -> impl Iterator<Item = &Summary> {
        self.summaries.iter().map(|s| &**s)
    }

    /// This snapshot with `changed` (in arrival order) applied: a known chat is replaced in
    /// place, a new one appended. None when a new chat would not come last (arrival order
    /// cannot be kept by appending; the caller reloads everything).
    fn updated(&self, changed: Vec<(i64, Summary)>) -> Option<Parts> {
        let mut summaries = self.summaries.clone();
        let mut position = self.position.clone();
        let mut last_ord = self.last_ord;
        for (ord, s) in changed {
            match position.get(&s.chat_id) {
                Some(&at) => summaries[at] = Arc::new(s),
                None if ord > last_ord || summaries.is_empty() => {
                    Arc::make_mut(&mut position).insert(s.chat_id.clone(), summaries.len());
                    summaries.push(Arc::new(s));
                    last_ord = ord;
                }
                None => return None,
            }
        }
        Some((summaries, position, last_ord))
    }
}

/// Most responses kept, and most bytes they hold; the cache is emptied when either is reached
/// (responses are cheap to recompute).
const MAX_RESPONSES: usize = 512;
const MAX_RESPONSE_BYTES: usize = 64 << 20;

/// Finished responses by key, with the data version each was computed at.
#[derive(Debug, Default)]
struct Responses {
    by_key: HashMap<String, (i64, Bytes)>,
    bytes: usize,
}

/// The metrics cache.
#[derive(Debug)]
pub struct MetricsCache {
    snapshot: RwLock<Arc<Snapshot>>,
    reload: tokio::sync::Mutex<()>,
    compute: tokio::sync::Mutex<()>,
    responses: Mutex<Responses>,
}

impl Default for MetricsCache {
    fn default() -> Self {
        Self {
            snapshot: RwLock::new(Arc::new(Snapshot {
                version: -1,
                last_ord: i64::MIN,
                ..Snapshot::default()
            })),
            reload: tokio::sync::Mutex::new(()),
            compute: tokio::sync::Mutex::new(()),
            responses: Mutex::new(Responses::default()),
        }
    }
}

impl MetricsCache {
    /// The snapshot held (loaded on first use). It is kept up to date by [`Self::keep_fresh`]
    /// and by this process's writers, which call [`Self::refresh`] before they answer, so a
    /// request never waits for the database: another instance's writes show within
    /// [`crate::store::VERSION_TTL`] and this one's at once.
    pub async fn current(&self, store: &Store) -> Result<Arc<Snapshot>> {
        let held = self.snapshot.read().await.clone();
        if held.version >= 0 {
            return Ok(held);
        }
        self.refresh(store).await
    }

    /// Brings the snapshot up to the store's current data version, reading only the
    /// conversations changed since the version held (one refresh at a time).
    pub async fn refresh(&self, store: &Store) -> Result<Arc<Snapshot>> {
        let _one_loader = self.reload.lock().await;
        let held = self.snapshot.read().await.clone();
        // The version is read before the rows, so a concurrent write is never hidden: the
        // snapshot is labelled with the version read before its rows (a later write read
        // early is read again next time, which is harmless).
        let version = store.data_version_now().await?;
        if held.version >= version {
            return Ok(held);
        }
        let changed = store
            .summaries_changed_after(if held.version < 0 {
                i64::MIN
            } else {
                held.version
            })
            .await?;
        let (summaries, position, last_ord) = match held.updated(changed) {
            Some(u) => u,
            None => Snapshot::default()
                .updated(store.summaries_changed_after(i64::MIN).await?)
                .ok_or_else(|| StoreError::Corrupt("two conversations share a position".into()))?,
        };
        let fresh = Arc::new(Snapshot {
            version,
            summaries,
            position,
            last_ord,
            filtered: store.filtered_totals().await?,
            last_updated: store.last_updated().await?,
        });
        *self.snapshot.write().await = fresh.clone();
        Ok(fresh)
    }

    /// Refreshes the snapshot every [`crate::store::VERSION_TTL`] until `shutdown`, for the
    /// writes of other instances sharing the database.
    pub fn keep_fresh(
        self: Arc<Self>,
        store: Store,
        shutdown: tokio_util::sync::CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(crate::store::VERSION_TTL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = shutdown.cancelled() => return,
                }
                if let Err(e) = self.refresh(&store).await {
                    tracing::warn!(error = %e, "refreshing the metrics snapshot failed");
                }
            }
        })
    }

    /// The response for `key` over the current snapshot: from the cache, or computed by one
    /// request while the others asking for it wait (so a change of the data costs one
    /// computation, not one per waiting request).
    pub async fn response_or(
        &self,
        store: &Store,
        key: String,
        compute: impl FnOnce(&Snapshot) -> Vec<u8> + Send + 'static,
    ) -> Result<Bytes> {
        let snap = self.current(store).await?;
        if let Some(b) = self.response(&key, snap.version) {
            return Ok(b);
        }
        let _one_computer = self.compute.lock().await;
        let snap = self.current(store).await?;
        if let Some(b) = self.response(&key, snap.version) {
            return Ok(b);
        }
        // Off the request threads: a pass over every summary must not hold up the requests
        // that the cache answers meanwhile.
        let at = snap.version;
        let b = tokio::task::spawn_blocking(move || Bytes::from(compute(&snap)))
            .await
            .expect("computing a response does not panic");
        self.keep(key, at, b.clone());
        Ok(b)
    }

    /// A cached response for `key` at `version` (or newer).
    pub fn response(&self, key: &str, version: i64) -> Option<Bytes> {
        let cached = self.responses.lock().expect("cache lock");
        cached
            .by_key
            .get(key)
            .filter(|(v, _)| *v >= version)
            .map(|(_, b)| b.clone())
    }

    /// Keeps a response for `key` at `version`.
    pub fn keep(&self, key: String, version: i64, body: Bytes) {
        let mut cached = self.responses.lock().expect("cache lock");
        if cached.by_key.len() >= MAX_RESPONSES || cached.bytes + body.len() > MAX_RESPONSE_BYTES {
            *cached = Responses::default();
        }
        cached.bytes += body.len();
        if let Some((_, old)) = cached.by_key.insert(key, (version, body)) {
            cached.bytes -= old.len();
        }
    }
}

//! What the metrics endpoints read: every conversation's summary, held in memory and reloaded
//! when the store's data version moves (so several instances on one PostgreSQL stay in step),
//! plus finished responses keyed by (data version, request), since the same dashboards ask the
//! same questions again and again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use powerpulse_shared::{Filtered, Summary};
use tokio::sync::RwLock;

use crate::store::{Result, Store};

/// The data behind the metrics at one data version.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// The store's data version this snapshot reflects (-1: never loaded).
    pub version: i64,
    /// Summaries in arrival order.
    pub summaries: Vec<Summary>,
    /// Cleaning counts over the distinct files uploaded.
    pub filtered: Filtered,
    /// When the data last changed.
    pub last_updated: Option<String>,
}

/// Most responses kept; the cache is emptied when full (responses are cheap to recompute).
const MAX_RESPONSES: usize = 512;

/// The metrics cache.
#[derive(Debug)]
pub struct MetricsCache {
    snapshot: RwLock<Arc<Snapshot>>,
    reload: tokio::sync::Mutex<()>,
    responses: Mutex<HashMap<String, (i64, Bytes)>>,
}

impl Default for MetricsCache {
    fn default() -> Self {
        Self {
            snapshot: RwLock::new(Arc::new(Snapshot {
                version: -1,
                ..Snapshot::default()
            })),
            reload: tokio::sync::Mutex::new(()),
            responses: Mutex::new(HashMap::new()),
        }
    }
}

impl MetricsCache {
    /// The snapshot for the store's current data version (reloaded at most once per change).
    pub async fn snapshot(&self, store: &Store, version: i64) -> Result<Arc<Snapshot>> {
        {
            let s = self.snapshot.read().await;
            if s.version == version {
                return Ok(s.clone());
            }
        }
        let _one_loader = self.reload.lock().await;
        {
            let s = self.snapshot.read().await;
            if s.version == version {
                return Ok(s.clone());
            }
        }
        // Read the version again inside the load so a concurrent write is never hidden: the
        // snapshot is labelled with the version read before its data.
        let version = store.data_version().await?;
        let fresh = Arc::new(Snapshot {
            version,
            summaries: store.load_summaries().await?,
            filtered: store.filtered_totals().await?,
            last_updated: store.last_updated().await?,
        });
        *self.snapshot.write().await = fresh.clone();
        Ok(fresh)
    }

    /// A cached response for `key` at `version`.
    pub fn response(&self, key: &str, version: i64) -> Option<Bytes> {
        let map = self.responses.lock().expect("cache lock");
        map.get(key)
            .filter(|(v, _)| *v == version)
            .map(|(_, b)| b.clone())
    }

    /// Keeps a response for `key` at `version`.
    pub fn keep(&self, key: String, version: i64, body: Bytes) {
        let mut map = self.responses.lock().expect("cache lock");
        if map.len() >= MAX_RESPONSES {
            map.clear();
        }
        map.insert(key, (version, body));
    }
}

//! Finished responses of the read endpoints, keyed by (data version, request): the same
//! dashboards ask the same questions again and again, and a response stays right until the
//! store's data version moves. Bounded in entries and bytes, whatever the data size: the figures
//! themselves come from the store's rollups (`crate::metrics`), never from a copy of the data.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use crate::store::{Result, Store};

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

/// The response cache.
#[derive(Debug, Default)]
pub struct MetricsCache {
    responses: Mutex<Responses>,
    /// One lock per key being computed, so a change of the data costs one computation of each
    /// response, not one per waiting request.
    computing: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl MetricsCache {
    /// The response for `key` at the store's current data version: from the cache, or computed
    /// by one request while the others asking for it wait.
    pub async fn response_or<F, Fut>(&self, store: &Store, key: String, compute: F) -> Result<Bytes>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Vec<u8>>>,
    {
        let version = store.data_version().await?;
        if let Some(b) = self.response(&key, version) {
            return Ok(b);
        }
        let lock = {
            let mut computing = self.computing.lock().expect("cache lock");
            if computing.len() >= MAX_RESPONSES {
                computing.retain(|_, l| Arc::strong_count(l) > 1);
            }
            computing.entry(key.clone()).or_default().clone()
        };
        let _one_computer = lock.lock().await;
        if let Some(b) = self.response(&key, version) {
            return Ok(b);
        }
        // The version is read before the data, so a write racing the computation is never
        // hidden: at worst the response is computed again at the next version.
        let b = Bytes::from(compute().await?);
        self.keep(key, version, b.clone());
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

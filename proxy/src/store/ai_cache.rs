//! The AI cache: validated analyses kept by what was sent (content, model, prompt version), so
//! that unchanged conversations are never paid for twice, whichever caller asked.

use std::collections::HashMap;

use powerpulse_shared::ai::AiAnalysis;
use sqlx::QueryBuilder;

use super::{col, now_ms, with_pool, Result, Store};

/// The key of one cached analysis (a SHA-256 of what was sent, the model and the prompt version).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AiCacheKey(pub String);

/// Keys per statement (well under both databases' bind limits).
const CHUNK: usize = 500;

impl Store {
    /// The cached analyses of these keys (an entry that no longer decodes is left out, so the
    /// conversation is analysed again).
    pub async fn cached_analyses(
        &self,
        keys: &[AiCacheKey],
    ) -> Result<HashMap<AiCacheKey, AiAnalysis>> {
        let mut out = HashMap::new();
        with_pool!(self, pool => {
            for chunk in keys.chunks(CHUNK) {
                let mut qb = QueryBuilder::new("SELECT key, analysis FROM ai_cache WHERE key IN (");
                let mut sep = qb.separated(", ");
                for k in chunk {
                    sep.push_bind(k.0.clone());
                }
                qb.push(")");
                for row in qb.build().fetch_all(pool).await? {
                    let json: String = col(&row, "analysis")?;
                    if let Ok(a) = serde_json::from_str(&json) {
                        out.insert(AiCacheKey(col(&row, "key")?), a);
                    }
                }
            }
            Ok::<_, super::StoreError>(())
        })?;
        Ok(out)
    }

    /// Keeps validated analyses (the first one kept for a key stays).
    pub async fn remember_analyses(&self, entries: &[(AiCacheKey, AiAnalysis)]) -> Result<()> {
        with_pool!(self, pool => {
            for chunk in entries.chunks(CHUNK) {
                let mut qb = QueryBuilder::new("INSERT INTO ai_cache (key, analysis, created_ms) ");
                let now = now_ms();
                qb.push_values(chunk, |mut b, (k, a)| {
                    let json = serde_json::to_string(a).expect("analyses serialize");
                    b.push_bind(k.0.clone()).push_bind(json).push_bind(now);
                });
                qb.push(" ON CONFLICT (key) DO NOTHING");
                qb.build().execute(pool).await?;
            }
        });
        Ok(())
    }
}

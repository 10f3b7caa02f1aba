//! The rollups table: every transaction that changes conversations adds what it changed
//! ([`Delta`]), and the metrics read the rollups a filter needs. The figures are the shared
//! crate's `Rollup` (postcard-encoded); SQL only selects them by grain, slice and start.

use std::collections::HashMap;

use futures::TryStreamExt;
use powerpulse_shared::rollup::{keys_of, Grain, Piece, Rollup, RollupKey, Slice, AGENT_PREFIX};
use powerpulse_shared::{AnalysisStatus, Filter, Summary};
use sqlx::{Database, Encode, QueryBuilder, Type};

use super::{col, with_pool, Result, Store, StoreError};

/// Rollups read, merged and written at a time: one statement each (at most 256 parameters, well
/// under either database's limit), and memory for 64 rollups however large the upload.
const STEP_KEYS: usize = 64;

/// What a transaction changes in the rollups: each touched rollup's difference.
#[derive(Debug, Default)]
pub(crate) struct Delta(HashMap<RollupKey, Rollup>);

impl Delta {
    /// Counts a conversation as now stored (`sign` 1) or as no longer stored as it was (-1).
    pub fn count(&mut self, s: &Summary, sign: i64) {
        // Months are added up from the days when the delta is written (see `with_months`):
        // fewer additions per conversation.
        for key in keys_of(s).into_iter().filter(|k| k.grain != Grain::Month) {
            let slice = key.slice.clone();
            self.0.entry(key).or_default().add(s, &slice, sign);
        }
    }

    /// The delta with each month's change: the sum of its days'.
    pub(crate) fn with_months(mut self) -> Delta {
        let mut months: HashMap<RollupKey, Rollup> = HashMap::new();
        for (k, r) in self.0.iter().filter(|(k, _)| k.grain == Grain::Day) {
            let Some(start_ms) = Grain::Month.floor(k.start_ms) else {
                continue;
            };
            let month = RollupKey {
                grain: Grain::Month,
                start_ms,
                slice: k.slice.clone(),
            };
            months.entry(month).or_default().merge(r, 1);
        }
        self.0.extend(months);
        self
    }

    /// Counts a stored conversation under a new analysis status instead of its own.
    pub fn now_status(&mut self, s: &Summary, status: AnalysisStatus) {
        if s.status != status {
            self.count(s, -1);
            let mut now = s.clone();
            now.status = status;
            self.count(&now, 1);
        }
    }

    /// The delta in steps of [`STEP_KEYS`] rollups, in key order.
    pub(crate) fn into_steps(mut self) -> Vec<Delta> {
        self.keys()
            .chunks(STEP_KEYS)
            .map(|chunk| {
                Delta(
                    chunk
                        .iter()
                        .filter_map(|k| self.0.remove_entry(k))
                        .collect(),
                )
            })
            .collect()
    }

    /// The touched rollups, in key order (so concurrent writers lock rows in one order).
    fn keys(&self) -> Vec<RollupKey> {
        let mut keys: Vec<RollupKey> = self.0.keys().cloned().collect();
        keys.sort();
        keys
    }

    /// The SELECT of the stored rollups this delta changes (none when it changes none).
    pub(crate) fn read<DB: Database>(&self) -> Option<QueryBuilder<DB>>
    where
        i64: for<'e> Encode<'e, DB> + Type<DB>,
        String: for<'e> Encode<'e, DB> + Type<DB>,
    {
        let keys = self.keys();
        if keys.is_empty() {
            return None;
        }
        let mut qb = QueryBuilder::new(
            "SELECT grain, slice, start_ms, body FROM rollups WHERE (grain, slice, start_ms) IN (VALUES ",
        );
        push_keys(&mut qb, &keys);
        Some(qb)
    }

    /// The writes that bring the stored rollups (`stored`, as read by [`Delta::read`]) up to
    /// date: emptied rollups deleted, the others upserted.
    pub(crate) fn writes<DB: Database>(
        mut self,
        mut stored: HashMap<RollupKey, Rollup>,
    ) -> Vec<QueryBuilder<DB>>
    where
        i64: for<'e> Encode<'e, DB> + Type<DB>,
        String: for<'e> Encode<'e, DB> + Type<DB>,
        Vec<u8>: for<'e> Encode<'e, DB> + Type<DB>,
    {
        let (mut emptied, mut kept) = (Vec::new(), Vec::new());
        for key in self.keys() {
            let change = self.0.remove(&key).expect("key of the delta");
            let mut r = stored.remove(&key).unwrap_or_default();
            r.merge(&change, 1);
            r.normalize();
            if r.is_empty() {
                emptied.push(key);
            } else {
                kept.push((key, encode(&r)));
            }
        }
        let mut out = Vec::new();
        if !emptied.is_empty() {
            let mut qb =
                QueryBuilder::new("DELETE FROM rollups WHERE (grain, slice, start_ms) IN (VALUES ");
            push_keys(&mut qb, &emptied);
            out.push(qb);
        }
        if !kept.is_empty() {
            let mut qb = QueryBuilder::new("INSERT INTO rollups (grain, slice, start_ms, body) ");
            qb.push_values(&kept, |mut b, (k, body)| {
                b.push_bind(k.grain.code())
                    .push_bind(k.slice.name())
                    .push_bind(k.start_ms)
                    .push_bind(body.clone());
            });
            qb.push(" ON CONFLICT (grain, slice, start_ms) DO UPDATE SET body = excluded.body");
            out.push(qb);
        }
        out
    }
}

/// `(grain, slice, start), ...)`: the keys as rows, bound, closing the `IN (VALUES` list.
fn push_keys<DB: Database>(qb: &mut QueryBuilder<DB>, keys: &[RollupKey])
where
    i64: for<'e> Encode<'e, DB> + Type<DB>,
    String: for<'e> Encode<'e, DB> + Type<DB>,
{
    let mut sep = qb.separated(", ");
    for k in keys {
        sep.push("(")
            .push_bind_unseparated(k.grain.code())
            .push_unseparated(", ")
            .push_bind_unseparated(k.slice.name())
            .push_unseparated(", ")
            .push_bind_unseparated(k.start_ms)
            .push_unseparated(")");
    }
    qb.push(")");
}

fn encode(r: &Rollup) -> Vec<u8> {
    postcard::to_stdvec(r).expect("rollups encode")
}

fn decode(body: &[u8]) -> Result<Rollup> {
    postcard::from_bytes(body).map_err(|e| StoreError::Corrupt(format!("rollup: {e}")))
}

/// A stored rollup row as its key and figures.
pub(crate) fn read_row<R: sqlx::Row>(row: &R) -> Result<(RollupKey, Rollup)>
where
    for<'r> &'r str: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Vec<u8>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let grain = col::<i64, _>(row, "grain")?;
    let slice = col::<String, _>(row, "slice")?;
    let key = RollupKey {
        grain: Grain::from_code(grain)
            .ok_or_else(|| StoreError::Corrupt(format!("rollup grain {grain}")))?,
        start_ms: col(row, "start_ms")?,
        slice: Slice::from_name(&slice)
            .ok_or_else(|| StoreError::Corrupt(format!("rollup slice {slice:?}")))?,
    };
    Ok((key, decode(&col::<Vec<u8>, _>(row, "body")?)?))
}

/// Brings the stored rollups up to date with a [`Delta`], inside the transaction `$tx`, a few
/// rollups at a time (a month of everyone is megabytes: memory stays with one step).
macro_rules! apply_delta {
    ($tx:expr, $delta:expr) => {{
        let delta: $crate::store::rollups::Delta = $delta.with_months();
        for step in delta.into_steps() {
            let mut stored = std::collections::HashMap::new();
            if let Some(mut qb) = step.read() {
                for row in qb.build().fetch_all(&mut *$tx).await? {
                    let (k, r) = $crate::store::rollups::read_row(&row)?;
                    stored.insert(k, r);
                }
            }
            for mut qb in step.writes(stored) {
                qb.build().execute(&mut *$tx).await?;
            }
        }
    }};
}
pub(crate) use apply_delta;

/// Which slices a rollup read covers.
#[derive(Clone, Copy, Debug)]
pub enum Slices<'a> {
    /// One slice.
    One(&'a Slice),
    /// Every agent's slice.
    Agents,
}

/// Just past every agent slice name (`a:` + 1): agent slices sort together between the two.
const AGENT_END: &str = "a;";

/// Conversations read per step while the rollups are built from the stored conversations.
const BUILD_CHUNK: i64 = 5_000;

impl Store {
    /// Calls `each` with every rollup of `slices` in `piece` (one slice's in the order of their
    /// start; the agents' in the index's order, which no caller needs sorted).
    pub async fn each_rollup(
        &self,
        slices: Slices<'_>,
        piece: Piece,
        mut each: impl FnMut(RollupKey, Rollup),
    ) -> Result<()> {
        with_pool!(self, pool => {
            let mut qb = QueryBuilder::new("SELECT grain, slice, start_ms, body FROM rollups WHERE grain = ");
            qb.push_bind(piece.grain.code());
            match slices {
                Slices::One(slice) => qb.push(" AND slice = ").push_bind(slice.name()),
                Slices::Agents => qb
                    .push(" AND slice >= ")
                    .push_bind(AGENT_PREFIX.to_owned())
                    .push(" AND slice < ")
                    .push_bind(AGENT_END.to_owned()),
            };
            qb.push(" AND start_ms >= ").push_bind(piece.from_ms);
            qb.push(" AND start_ms < ").push_bind(piece.to_ms);
            if let Slices::One(_) = slices {
                qb.push(" ORDER BY start_ms");
            }
            let mut rows = qb.build().fetch(pool);
            while let Some(row) = rows.try_next().await? {
                let (k, r) = read_row(&row)?;
                each(k, r);
            }
        });
        Ok(())
    }

    /// Calls `each` with the summary of every conversation `f` selects whose first message
    /// lies in `[from_ms, to_ms)`, streamed (memory stays flat however many there are).
    pub async fn each_summary(
        &self,
        f: &Filter,
        from_ms: i64,
        to_ms: i64,
        mut each: impl FnMut(Summary),
    ) -> Result<()> {
        let range = f.time_range();
        with_pool!(self, pool => {
            let mut qb = QueryBuilder::new("SELECT summary, analysis_status FROM conversations");
            super::query::push_where(&mut qb, f);
            qb.push(" AND first_message_ms >= ").push_bind(from_ms);
            qb.push(" AND first_message_ms < ").push_bind(to_ms);
            let mut rows = qb.build().fetch(pool);
            while let Some(row) = rows.try_next().await? {
                let s = super::stored_summary(&col::<String, _>(&row, "summary")?, &col::<String, _>(&row, "analysis_status")?)?;
                if f.matches(&s, range) {
                    each(s);
                }
            }
        });
        Ok(())
    }

    /// The first message times of the first and the last conversation `f` selects.
    pub async fn first_and_last(&self, f: &Filter) -> Result<Option<(i64, i64)>> {
        with_pool!(self, pool => {
            let mut qb = QueryBuilder::new(
                "SELECT MIN(first_message_ms) AS first, MAX(first_message_ms) AS last FROM conversations",
            );
            super::query::push_where(&mut qb, f);
            let row = qb.build().fetch_one(pool).await?;
            let first: Option<i64> = col(&row, "first")?;
            let last: Option<i64> = col(&row, "last")?;
            Ok(first.zip(last))
        })
    }

    /// Builds the rollups from the stored conversations, once (a store written before they
    /// existed): in one transaction that also holds the data version, so no write is counted
    /// twice or missed, and a second instance starting at once finds them built.
    pub(crate) async fn build_rollups(&self) -> Result<()> {
        with_pool!(self, pool => {
            // Built already (every start but the first): no lock taken, no writer waited for.
            let built: i64 = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'rollups_built'")
                .fetch_one(pool)
                .await?;
            if built != 0 {
                return Ok(());
            }
            let mut tx = match &self.db {
                super::Db::Sqlite(_) => pool.begin_with("BEGIN IMMEDIATE").await?,
                super::Db::Postgres(_) => pool.begin().await?,
            };
            sqlx::query(super::NEXT_DATA_VERSION).fetch_one(&mut *tx).await?;
            let built: i64 = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'rollups_built'")
                .fetch_one(&mut *tx)
                .await?;
            if built != 0 {
                return Ok(());
            }
            sqlx::query("DELETE FROM rollups").execute(&mut *tx).await?;
            let mut after = i64::MIN;
            loop {
                let rows = sqlx::query(
                    "SELECT ord, summary, analysis_status FROM conversations WHERE ord > $1 ORDER BY ord LIMIT $2",
                )
                .bind(after)
                .bind(BUILD_CHUNK)
                .fetch_all(&mut *tx)
                .await?;
                let Some(last) = rows.last() else { break };
                after = col(last, "ord")?;
                let mut delta = Delta::default();
                for row in &rows {
                    let s = super::stored_summary(&col::<String, _>(row, "summary")?, &col::<String, _>(row, "analysis_status")?)?;
                    delta.count(&s, 1);
                }
                apply_delta!(tx, delta);
            }
            sqlx::query("UPDATE meta SET value = 1 WHERE key = 'rollups_built'")
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })
    }
}

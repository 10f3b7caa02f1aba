//! Reviews in the store: the `reviews` table keeps each chat's review (labels format) across
//! re-uploads and re-analyses, and every write of one puts it in place in the conversation's
//! summary, its columns, topics and rollups in the same transaction.

use std::collections::HashMap;

use powerpulse_shared::evaluate::{Label, Labels};
use powerpulse_shared::{Filter, Summary};
use sqlx::{Database, Encode, QueryBuilder, Type};

use super::rollups::{apply_delta, Delta};
use super::{col, now_ms, with_pool, Indexed, Result, Store, StoreError};

/// Reviews written or removed at a time by an import: one statement's worth.
const IMPORT_CHUNK: usize = 200;

/// A stored review's JSON read back.
pub(crate) fn stored_label(json: &str) -> Result<Label> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("review: {e}")))
}

/// The rows beside a conversation that follow its topics: replaced by `topics`.
pub(crate) fn topic_rows<DB: Database>(chat_id: &str, topics: &[String]) -> Vec<QueryBuilder<DB>>
where
    String: for<'e> Encode<'e, DB> + Type<DB>,
{
    let mut clear = QueryBuilder::new("DELETE FROM conversation_topics WHERE chat_id = ");
    clear.push_bind(chat_id.to_owned());
    let mut out = vec![clear];
    if !topics.is_empty() {
        let mut qb = QueryBuilder::new("INSERT INTO conversation_topics (topic, chat_id) ");
        qb.push_values(topics, |mut b, t| {
            b.push_bind(t.clone()).push_bind(chat_id.to_owned());
        });
        out.push(qb);
    }
    out
}

/// `UPDATE conversations SET` a summary and the columns taken from its judgement (the
/// caller adds its own columns and its `WHERE`).
pub(crate) fn summary_update<DB: Database>(s: &Summary, now: i64, version: i64) -> QueryBuilder<DB>
where
    i64: for<'e> Encode<'e, DB> + Type<DB>,
    Option<i64>: for<'e> Encode<'e, DB> + Type<DB>,
    Option<f64>: for<'e> Encode<'e, DB> + Type<DB>,
    String: for<'e> Encode<'e, DB> + Type<DB>,
{
    let ix = Indexed::of(s);
    let mut qb = QueryBuilder::new("UPDATE conversations SET satisfaction_score = ");
    qb.push_bind(ix.satisfaction_score)
        .push(", avg_sentiment = ")
        .push_bind(ix.avg_sentiment)
        .push(", summary = ")
        .push_bind(serde_json::to_string(s).expect("summaries serialize"))
        .push(", updated_ms = ")
        .push_bind(now)
        .push(", changed_version = ")
        .push_bind(version);
    qb
}

/// What happened to each chat of a change of reviews.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReviewChange {
    /// Chats whose review was written or removed.
    pub changed: Vec<String>,
    /// Chats the store does not hold (nothing was written for any of them).
    pub unknown: Vec<String>,
}

impl Store {
    /// Puts reviews in place (`Some`) or removes them (`None`), all in one transaction. When a
    /// chat is not stored nothing at all is written and the unknown chats are returned.
    pub async fn set_reviews(&self, reviews: &[(String, Option<Label>)]) -> Result<ReviewChange> {
        let now = now_ms();
        let begin = match &self.db {
            super::Db::Sqlite(_) => "BEGIN IMMEDIATE",
            super::Db::Postgres(_) => "BEGIN",
        };
        with_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await?;
            // First, so that every writer of conversations (uploads, AI results) waits on it.
            let version: i64 = sqlx::query_scalar(super::NEXT_DATA_VERSION).fetch_one(&mut *tx).await?;
            let mut stored: HashMap<String, Summary> = HashMap::new();
            for chunk in reviews.chunks(IMPORT_CHUNK) {
                let mut qb = QueryBuilder::new("SELECT chat_id, summary, analysis_status FROM conversations WHERE chat_id IN (");
                let mut sep = qb.separated(", ");
                for (id, _) in chunk {
                    sep.push_bind(id.clone());
                }
                qb.push(")");
                for row in qb.build().fetch_all(&mut *tx).await? {
                    let s = super::stored_summary(&col::<String, _>(&row, "summary")?, &col::<String, _>(&row, "analysis_status")?)?;
                    stored.insert(col(&row, "chat_id")?, s);
                }
            }
            let unknown: Vec<String> = reviews.iter().map(|(id, _)| id).filter(|id| !stored.contains_key(*id)).cloned().collect();
            if !unknown.is_empty() {
                tx.rollback().await?;
                return Ok(ReviewChange { changed: Vec::new(), unknown });
            }
            let mut delta = Delta::default();
            let mut changed = Vec::new();
            for (id, label) in reviews {
                let Some(mut s) = stored.remove(id) else { continue };
                let before = s.clone();
                s.set_review(label.clone());
                if s == before {
                    continue;
                }
                match label {
                    Some(l) => {
                        sqlx::query("INSERT INTO reviews (chat_id, body, reviewed_ms) VALUES ($1, $2, $3) \
                                     ON CONFLICT (chat_id) DO UPDATE SET body = excluded.body, reviewed_ms = excluded.reviewed_ms")
                            .bind(id.clone())
                            .bind(serde_json::to_string(l).expect("labels serialize"))
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                    }
                    None => {
                        sqlx::query("DELETE FROM reviews WHERE chat_id = $1")
                            .bind(id.clone())
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                delta.count(&before, -1);
                delta.count(&s, 1);
                let mut qb = summary_update(&s, now, version);
                qb.push(" WHERE chat_id = ").push_bind(id.clone());
                qb.build().execute(&mut *tx).await?;
                for mut qb in topic_rows(id, &s.analysis.topics) {
                    qb.build().execute(&mut *tx).await?;
                }
                changed.push(id.clone());
            }
            if changed.is_empty() {
                // Nothing to write: the version moved first only to order this with other
                // writers, and readers should not see a new version with nothing new in it.
                tx.rollback().await?;
                return Ok(ReviewChange { changed, unknown: Vec::new() });
            }
            apply_delta!(tx, delta);
            tx.commit().await?;
            self.saw_version(version);
            Ok(ReviewChange { changed, unknown: Vec::new() })
        })
    }

    /// Every stored review, by chat id (the labels format).
    pub async fn reviews(&self) -> Result<Labels> {
        with_pool!(self, pool => {
            let rows = sqlx::query("SELECT chat_id, body FROM reviews ORDER BY chat_id")
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|row| Ok((col(row, "chat_id")?, stored_label(&col::<String, _>(row, "body")?)?)))
                .collect()
        })
    }

    /// The summaries of the reviewed conversations a filter selects (reviews are made by
    /// people: a few thousand at most, read whole).
    pub async fn reviewed_summaries(&self, f: &Filter) -> Result<Vec<Summary>> {
        with_pool!(self, pool => {
            let mut qb = QueryBuilder::new("SELECT summary, analysis_status FROM conversations");
            super::query::push_where(&mut qb, f);
            qb.push(" AND chat_id IN (SELECT chat_id FROM reviews)");
            let rows = qb.build().fetch_all(pool).await?;
            rows.iter()
                .map(|row| super::stored_summary(&col::<String, _>(row, "summary")?, &col::<String, _>(row, "analysis_status")?))
                .collect()
        })
    }
}

//! The job queue in the store: jobs, their items, claims with leases (`FOR UPDATE SKIP LOCKED`
//! on PostgreSQL so several instances share one queue), results written atomically, and the
//! AI analysis cache.

use std::collections::HashMap;

use powerpulse_shared::wire::{JobMode, JobState};
use powerpulse_shared::{AnalysisStatus, Role, Summary};
use serde::Serialize;
use sqlx::{Database, Encode, QueryBuilder, Type};

use super::rollups::{apply_delta, Delta};
use super::{col, now_ms, parse, with_pool, Result, Store, StoreError};

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct JobRow {
    /// Job id.
    pub id: String,
    /// The upload that created it.
    pub upload_id: Option<String>,
    /// Where it is.
    pub status: JobState,
    /// What it is doing, for people.
    pub stage: String,
    /// The analyzer (`gemini:<model>`, `openai:<model>`).
    pub analyzer: String,
    /// Conversations in the job.
    pub total: i64,
    /// Conversations analysed.
    pub done: i64,
    /// Conversations whose analysis failed (they keep the built-in one).
    pub failed: i64,
    /// Conversations answered from the cache (same content, model and prompt).
    pub cached: i64,
    /// Calls made to the provider.
    pub calls: i64,
    /// Calls made again after a failure.
    pub retries: i64,
    /// Input tokens counted by the provider.
    pub input_tokens: i64,
    /// Output tokens counted by the provider.
    pub output_tokens: i64,
    /// Estimated cost (USD) at the configured prices (the batch price for batch results).
    pub cost_usd: f64,
    /// Calls answered at once, or the provider's Batch API (half price).
    pub mode: JobMode,
    /// When the provider promises a submitted batch's results at the latest (epoch ms).
    pub expected_by_ms: Option<i64>,
    /// What the batch price saved against synchronous calls (USD).
    pub saved_usd: f64,
    /// Why it failed or paused.
    pub error: Option<String>,
    /// Paused until (epoch ms), after a quota answer.
    pub paused_until_ms: Option<i64>,
    /// Created (epoch ms).
    pub created_ms: i64,
    /// Last change (epoch ms).
    pub updated_ms: i64,
}

/// Counter increments written with a batch's results.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct JobStats {
    /// Conversations answered from the cache.
    pub cached: i64,
    /// Calls.
    pub calls: i64,
    /// Retries.
    pub retries: i64,
    /// Input tokens.
    pub input_tokens: i64,
    /// Output tokens.
    pub output_tokens: i64,
    /// Cost (USD).
    pub cost_usd: f64,
    /// Saved by the batch price (USD).
    pub saved_usd: f64,
}

/// An AI analysis ready to replace the built-in one.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAnalysis {
    /// The conversation.
    pub chat_id: String,
    /// The summary with the AI's analysis in place.
    pub summary: Summary,
    /// New sentiment by message position (`seq`).
    pub sentiments: Vec<(i64, Option<f64>)>,
    /// The conversation's content hash when the job read it: the result is written only if it
    /// is still the stored one (a re-upload in between replaced what was analysed).
    pub content_hash: String,
}

/// A claimed conversation with what the AI needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedItem {
    /// The conversation.
    pub chat_id: String,
    /// Its stored summary.
    pub summary: Summary,
    /// Its messages in order.
    pub messages: Vec<ClaimedMessage>,
    /// Its content hash as read.
    pub content_hash: String,
}

/// A message of a claimed conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedMessage {
    /// Position in the conversation.
    pub seq: i64,
    /// Who wrote it.
    pub role: Role,
    /// The text.
    pub text: String,
    /// The sentiment in place.
    pub sentiment: Option<f64>,
}

const JOB_COLUMNS: &str =
    "id, upload_id, status, stage, analyzer, total, done, failed, cached, calls, retries, \
    input_tokens, output_tokens, cost_usd, mode, expected_by_ms, saved_usd, error, paused_until_ms, \
    created_ms, updated_ms";

fn to_job<R: sqlx::Row>(r: &R) -> Result<JobRow>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<i64>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> f64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(JobRow {
        id: col(r, "id")?,
        upload_id: col(r, "upload_id")?,
        status: parse(
            &col::<String, _>(r, "status")?,
            JobState::parse,
            "job status",
        )?,
        stage: col(r, "stage")?,
        analyzer: col(r, "analyzer")?,
        total: col(r, "total")?,
        done: col(r, "done")?,
        failed: col(r, "failed")?,
        cached: col(r, "cached")?,
        calls: col(r, "calls")?,
        retries: col(r, "retries")?,
        input_tokens: col(r, "input_tokens")?,
        output_tokens: col(r, "output_tokens")?,
        cost_usd: col(r, "cost_usd")?,
        mode: parse(&col::<String, _>(r, "mode")?, JobMode::parse, "job mode")?,
        expected_by_ms: col(r, "expected_by_ms")?,
        saved_usd: col(r, "saved_usd")?,
        error: col(r, "error")?,
        paused_until_ms: col(r, "paused_until_ms")?,
        created_ms: col(r, "created_ms")?,
        updated_ms: col(r, "updated_ms")?,
    })
}

impl Store {
    /// A job by id.
    pub async fn get_job(&self, id: &str) -> Result<Option<JobRow>> {
        with_pool!(self, pool => {
            let mut qb = QueryBuilder::new(format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = "));
            qb.push_bind(id.to_owned());
            qb.build().fetch_optional(pool).await?.as_ref().map(to_job).transpose()
        })
    }

    /// The job an upload created.
    pub async fn job_for_upload(&self, upload_id: &str) -> Result<Option<JobRow>> {
        with_pool!(self, pool => {
            let mut qb = QueryBuilder::new(format!("SELECT {JOB_COLUMNS} FROM jobs WHERE upload_id = "));
            qb.push_bind(upload_id.to_owned());
            qb.build().fetch_optional(pool).await?.as_ref().map(to_job).transpose()
        })
    }

    /// Cancels a job: no more claims; queued and claimed items are dropped and their
    /// conversations marked failed ("cancelled") so a later run picks them up.
    pub async fn cancel_job(&self, id: &str) -> Result<Option<JobRow>> {
        let now = now_ms();
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let version: i64 = sqlx::query_scalar(super::NEXT_DATA_VERSION).fetch_one(&mut *tx).await?;
            sqlx::query(
                "UPDATE jobs SET status = 'cancelled', stage = 'cancelled', updated_ms = $1 \
                 WHERE id = $2 AND status IN ('queued', 'running', 'paused')",
            )
            .bind(now)
            .bind(id.to_owned())
            .execute(&mut *tx)
            .await?;
            let mut delta = Delta::default();
            let dropped = sqlx::query(
                "SELECT summary, analysis_status FROM conversations WHERE analysis_status = 'pending' AND chat_id IN \
                 (SELECT chat_id FROM job_items WHERE job_id = $1 AND status IN ('queued', 'claimed', 'remote'))",
            )
            .bind(id.to_owned())
            .fetch_all(&mut *tx)
            .await?;
            for row in &dropped {
                delta.now_status(&stored(row)?, AnalysisStatus::Failed);
            }
            apply_delta!(tx, delta);
            sqlx::query(
                "UPDATE conversations SET analysis_status = 'failed', ai_error = 'analysis cancelled', \
                 changed_version = $2 WHERE analysis_status = 'pending' AND chat_id IN \
                 (SELECT chat_id FROM job_items WHERE job_id = $1 AND status IN ('queued', 'claimed', 'remote'))",
            )
            .bind(id.to_owned())
            .bind(version)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE job_items SET status = 'cancelled' WHERE job_id = $1 AND status IN ('queued', 'claimed', 'remote')")
                .bind(id.to_owned())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            self.saw_version(version);
            Ok::<_, StoreError>(())
        })?;
        self.get_job(id).await
    }

    /// The oldest job with work to do (queued, running, or paused past its pause), and whether
    /// it bypasses the cache.
    pub async fn runnable_job(&self) -> Result<Option<(String, bool)>> {
        let now = now_ms();
        with_pool!(self, pool => {
            let row = sqlx::query(
                "SELECT id, force FROM jobs WHERE (status IN ('queued', 'running') \
                 OR (status = 'paused' AND paused_until_ms <= $1)) \
                 AND EXISTS (SELECT 1 FROM job_items i WHERE i.job_id = jobs.id AND i.status = 'queued') \
                 ORDER BY created_ms LIMIT 1",
            )
            .bind(now)
            .fetch_optional(pool)
            .await?;
            row.map(|r| Ok((col(&r, "id")?, col(&r, "force")?))).transpose()
        })
    }

    /// Marks a job running with a stage text.
    pub async fn set_job_running(&self, id: &str, stage: &str) -> Result<()> {
        with_pool!(self, pool => {
            sqlx::query(
                "UPDATE jobs SET status = 'running', stage = $1, paused_until_ms = NULL, updated_ms = $2 \
                 WHERE id = $3 AND status IN ('queued', 'running', 'paused')",
            )
            .bind(stage.to_owned())
            .bind(now_ms())
            .bind(id.to_owned())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Pauses a job (quota exhausted) and gives its claimed items back.
    pub async fn pause_job(
        &self,
        id: &str,
        worker: &str,
        until_ms: i64,
        reason: &str,
    ) -> Result<()> {
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "UPDATE jobs SET status = 'paused', stage = 'paused: provider quota exhausted', error = $1, \
                 paused_until_ms = $2, updated_ms = $3 WHERE id = $4 AND status = 'running'",
            )
            .bind(reason.to_owned())
            .bind(until_ms)
            .bind(now_ms())
            .bind(id.to_owned())
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE job_items SET status = 'queued', claimed_by = NULL WHERE job_id = $1 AND status = 'claimed' AND claimed_by = $2",
            )
            .bind(id.to_owned())
            .bind(worker.to_owned())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Claims up to `n` queued items of a job for `worker`.
    pub async fn claim_items(&self, job_id: &str, worker: &str, n: i64) -> Result<Vec<String>> {
        let now = now_ms();
        let sql = match &self.db {
            super::Db::Postgres(_) => {
                "UPDATE job_items SET status = 'claimed', claimed_by = $1, claimed_ms = $2, attempts = attempts + 1 \
                 WHERE job_id = $3 AND chat_id IN (SELECT chat_id FROM job_items WHERE job_id = $3 AND status = 'queued' \
                 ORDER BY chat_id LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING chat_id"
            }
            // SQLite has one writer at a time: the sub-select and update cannot interleave.
            super::Db::Sqlite(_) => {
                "UPDATE job_items SET status = 'claimed', claimed_by = $1, claimed_ms = $2, attempts = attempts + 1 \
                 WHERE job_id = $3 AND chat_id IN (SELECT chat_id FROM job_items WHERE job_id = $3 AND status = 'queued' \
                 ORDER BY chat_id LIMIT $4) RETURNING chat_id"
            }
        };
        with_pool!(self, pool => {
            let ids: Vec<String> = sqlx::query_scalar(sql)
                .bind(worker.to_owned())
                .bind(now)
                .bind(job_id.to_owned())
                .bind(n)
                .fetch_all(pool)
                .await?;
            Ok(ids)
        })
    }

    /// Extends the lease of a worker's claimed items.
    pub async fn renew_claims(&self, worker: &str) -> Result<()> {
        with_pool!(self, pool => {
            sqlx::query("UPDATE job_items SET claimed_ms = $1 WHERE status = 'claimed' AND claimed_by = $2")
                .bind(now_ms())
                .bind(worker.to_owned())
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Gives back items whose lease expired (their worker died): resume after a crash.
    pub async fn release_stale_claims(&self, lease_ms: i64) -> Result<u64> {
        with_pool!(self, pool => {
            let r = sqlx::query(
                "UPDATE job_items SET status = 'queued', claimed_by = NULL WHERE status = 'claimed' AND claimed_ms < $1",
            )
            .bind(now_ms() - lease_ms)
            .execute(pool)
            .await?;
            Ok(r.rows_affected())
        })
    }

    /// Gives back every item this worker holds (on shutdown).
    pub async fn release_worker_claims(&self, worker: &str) -> Result<u64> {
        with_pool!(self, pool => {
            let r = sqlx::query("UPDATE job_items SET status = 'queued', claimed_by = NULL WHERE status = 'claimed' AND claimed_by = $1")
                .bind(worker.to_owned())
                .execute(pool)
                .await?;
            Ok(r.rows_affected())
        })
    }

    /// How many of a job's items wait for a worker.
    pub async fn queued_items(&self, job_id: &str) -> Result<i64> {
        with_pool!(self, pool => {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM job_items WHERE job_id = $1 AND status = 'queued'")
                .bind(job_id.to_owned())
                .fetch_one(pool)
                .await?;
            Ok(n)
        })
    }

    /// Ends a job whose items are all handled.
    pub async fn finish_job(&self, job_id: &str) -> Result<()> {
        with_pool!(self, pool => {
            sqlx::query(
                "UPDATE jobs SET status = CASE WHEN failed > 0 AND done = 0 THEN 'failed' ELSE 'done' END, \
                 stage = 'finished', updated_ms = $1 WHERE id = $2 AND status = 'running' \
                 AND NOT EXISTS (SELECT 1 FROM job_items WHERE job_id = $2 AND status IN ('queued', 'claimed', 'remote'))",
            )
            .bind(now_ms())
            .bind(job_id.to_owned())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Ends every running job left with nothing queued or claimed (its worker may have died
    /// between its last batch and the end).
    pub async fn finish_idle_jobs(&self) -> Result<()> {
        with_pool!(self, pool => {
            sqlx::query(
                "UPDATE jobs SET status = CASE WHEN failed > 0 AND done = 0 THEN 'failed' ELSE 'done' END, \
                 stage = 'finished', updated_ms = $1 WHERE status IN ('queued', 'running') \
                 AND NOT EXISTS (SELECT 1 FROM job_items WHERE job_id = jobs.id AND status IN ('queued', 'claimed', 'remote'))",
            )
            .bind(now_ms())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Summaries and messages of claimed conversations.
    pub async fn load_claimed(&self, chat_ids: &[String]) -> Result<Vec<ClaimedItem>> {
        let mut items: HashMap<String, ClaimedItem> = HashMap::new();
        with_pool!(self, pool => {
            for chunk in chat_ids.chunks(500) {
                let mut qb = QueryBuilder::new("SELECT chat_id, summary, content_hash FROM conversations WHERE chat_id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(id.clone());
                }
                qb.push(")");
                for row in qb.build().fetch_all(pool).await? {
                    let id: String = col(&row, "chat_id")?;
                    let summary: Summary = serde_json::from_str(&col::<String, _>(&row, "summary")?)
                        .map_err(|e| StoreError::Corrupt(format!("summary: {e}")))?;
                    let content_hash: String = col(&row, "content_hash")?;
                    items.insert(id.clone(), ClaimedItem { chat_id: id, summary, messages: Vec::new(), content_hash });
                }
                let mut qb = QueryBuilder::new("SELECT chat_id, seq, role, text, sentiment FROM messages WHERE chat_id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(id.clone());
                }
                qb.push(") ORDER BY chat_id, seq");
                for row in qb.build().fetch_all(pool).await? {
                    let id: String = col(&row, "chat_id")?;
                    if let Some(it) = items.get_mut(&id) {
                        it.messages.push(ClaimedMessage {
                            seq: col(&row, "seq")?,
                            role: super::role_of(&row)?,
                            text: col(&row, "text")?,
                            sentiment: col(&row, "sentiment")?,
                        });
                    }
                }
            }
            Ok::<_, StoreError>(())
        })?;
        Ok(chat_ids.iter().filter_map(|id| items.remove(id)).collect())
    }

    /// Writes a batch's results in one transaction: analyses that replace the built-in one,
    /// failures with their reason, the job's counters. Only items this worker still holds are
    /// written (a lost lease means another worker has them).
    pub async fn complete_items(
        &self,
        job_id: &str,
        worker: &str,
        done: &[StoredAnalysis],
        failed: &[(String, String)],
        stats: JobStats,
    ) -> Result<(i64, i64)> {
        let now = now_ms();
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let version: i64 = sqlx::query_scalar(super::NEXT_DATA_VERSION).fetch_one(&mut *tx).await?;
            let mut n_done = 0i64;
            let mut delta = Delta::default();
            for a in done {
                let item = Item { job_id, chat_id: &a.chat_id, worker };
                if item.close("done", None).build().execute(&mut *tx).await?.rows_affected() == 0 {
                    continue;
                }
                n_done += 1;
                let before = sqlx::query("SELECT summary, analysis_status FROM conversations WHERE chat_id = $1 AND content_hash = $2")
                    .bind(a.chat_id.clone())
                    .bind(a.content_hash.clone())
                    .fetch_optional(&mut *tx)
                    .await?;
                let mut analysed = a.summary.clone();
                analysed.status = AnalysisStatus::Complete;
                if let Some(row) = before {
                    let stored = stored(&row)?;
                    delta.count(&stored, -1);
                    // A review made while the AI read the conversation stays in place.
                    analysed.set_review(stored.review.map(|r| r.label));
                    delta.count(&analysed, 1);
                }
                if write_analysis(a, &analysed, now, version).build().execute(&mut *tx).await?.rows_affected() == 0 {
                    // Re-uploaded with other content while the AI read the old one: the new
                    // content keeps its own analysis (and its own job), this result is dropped.
                    continue;
                }
                for mut qb in analysis_rows(a, &analysed) {
                    qb.build().execute(&mut *tx).await?;
                }
            }
            let mut n_failed = 0i64;
            for (chat_id, reason) in failed {
                let item = Item { job_id, chat_id, worker };
                if item.close("failed", Some(reason)).build().execute(&mut *tx).await?.rows_affected() == 0 {
                    continue;
                }
                n_failed += 1;
                let before = sqlx::query("SELECT summary, analysis_status FROM conversations WHERE chat_id = $1")
                    .bind(chat_id.clone())
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some(row) = before {
                    delta.now_status(&stored(&row)?, AnalysisStatus::Failed);
                }
                sqlx::query("UPDATE conversations SET analysis_status = 'failed', ai_error = $1, updated_ms = $2, changed_version = $4 WHERE chat_id = $3")
                    .bind(reason.clone())
                    .bind(now)
                    .bind(chat_id.clone())
                    .bind(version)
                    .execute(&mut *tx)
                    .await?;
            }
            apply_delta!(tx, delta);
            count_work(job_id, n_done, n_failed, &stats, now).build().execute(&mut *tx).await?;
            tx.commit().await?;
            self.saw_version(version);
            Ok((n_done, n_failed))
        })
    }
}

/// A conversation row's summary with its status column.
fn stored<R: sqlx::Row>(row: &R) -> Result<Summary>
where
    for<'r> &'r str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    super::stored_summary(
        &col::<String, _>(row, "summary")?,
        &col::<String, _>(row, "analysis_status")?,
    )
}

/// A job item a worker holds.
struct Item<'a> {
    job_id: &'a str,
    chat_id: &'a str,
    worker: &'a str,
}

impl Item<'_> {
    /// Marks the item handled (`done` or `failed`, with its reason), only while this worker
    /// holds it: no row changes when it does not.
    fn close<DB: Database>(&self, status: &str, error: Option<&str>) -> QueryBuilder<DB>
    where
        String: for<'e> Encode<'e, DB> + Type<DB>,
        Option<String>: for<'e> Encode<'e, DB> + Type<DB>,
    {
        let mut qb = QueryBuilder::new("UPDATE job_items SET status = ");
        qb.push_bind(status.to_owned())
            .push(", handled_count = handled_count + 1, error = ")
            .push_bind(error.map(str::to_owned))
            .push(" WHERE job_id = ")
            .push_bind(self.job_id.to_owned())
            .push(" AND chat_id = ")
            .push_bind(self.chat_id.to_owned())
            .push(" AND status = 'claimed' AND claimed_by = ")
            .push_bind(self.worker.to_owned());
        qb
    }
}

/// What an analysis changes in its conversation: the summary and the columns taken from it, only
/// while the content is the one analysed (no row changes otherwise).
fn write_analysis<DB: Database>(
    a: &StoredAnalysis,
    analysed: &Summary,
    now: i64,
    version: i64,
) -> QueryBuilder<DB>
where
    i64: for<'e> Encode<'e, DB> + Type<DB>,
    Option<i64>: for<'e> Encode<'e, DB> + Type<DB>,
    Option<f64>: for<'e> Encode<'e, DB> + Type<DB>,
    String: for<'e> Encode<'e, DB> + Type<DB>,
{
    let mut qb = super::reviews::summary_update(analysed, now, version);
    qb.push(", analysis_status = 'complete', ai_error = NULL WHERE chat_id = ")
        .push_bind(a.chat_id.clone())
        .push(" AND content_hash = ")
        .push_bind(a.content_hash.clone());
    qb
}

/// The rows beside an analysed conversation: its topics, and its customer messages' sentiment.
fn analysis_rows<DB: Database>(a: &StoredAnalysis, analysed: &Summary) -> Vec<QueryBuilder<DB>>
where
    i64: for<'e> Encode<'e, DB> + Type<DB>,
    Option<f64>: for<'e> Encode<'e, DB> + Type<DB>,
    String: for<'e> Encode<'e, DB> + Type<DB>,
{
    let mut out = super::reviews::topic_rows(&a.chat_id, &analysed.analysis.topics);
    for (seq, score) in &a.sentiments {
        let mut qb = QueryBuilder::new("UPDATE messages SET sentiment = ");
        qb.push_bind(*score)
            .push(" WHERE chat_id = ")
            .push_bind(a.chat_id.clone())
            .push(" AND seq = ")
            .push_bind(*seq);
        out.push(qb);
    }
    out
}

/// Adds a batch's work to its job's counters.
fn count_work<DB: Database>(
    job_id: &str,
    done: i64,
    failed: i64,
    stats: &JobStats,
    now: i64,
) -> QueryBuilder<DB>
where
    i64: for<'e> Encode<'e, DB> + Type<DB>,
    f64: for<'e> Encode<'e, DB> + Type<DB>,
    String: for<'e> Encode<'e, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new("UPDATE jobs SET done = done + ");
    qb.push_bind(done)
        .push(", failed = failed + ")
        .push_bind(failed)
        .push(", cached = cached + ")
        .push_bind(stats.cached)
        .push(", calls = calls + ")
        .push_bind(stats.calls)
        .push(", retries = retries + ")
        .push_bind(stats.retries)
        .push(", input_tokens = input_tokens + ")
        .push_bind(stats.input_tokens)
        .push(", output_tokens = output_tokens + ")
        .push_bind(stats.output_tokens)
        .push(", cost_usd = cost_usd + ")
        .push_bind(stats.cost_usd)
        .push(", saved_usd = saved_usd + ")
        .push_bind(stats.saved_usd)
        .push(", updated_ms = ")
        .push_bind(now)
        .push(" WHERE id = ")
        .push_bind(job_id.to_owned());
    qb
}

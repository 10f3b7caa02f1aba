//! Batches submitted to a provider's asynchronous Batch API: which chats each request holds, the
//! batch's state, and the hand-over of its items from the remote batch to the worker that
//! collects it (one worker, even with several instances polling).

use serde::{Deserialize, Serialize};
use sqlx::QueryBuilder;

use super::{col, now_ms, with_pool, Result, Store, StoreError};

/// One request of a submitted batch: its key and the chats it holds, in prompt order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteRequest {
    /// The key the provider answers it under.
    pub key: String,
    /// The chats of the request, in the order of their short ids (`c1`, `c2`, ...).
    pub chats: Vec<String>,
}

/// Where a submitted batch stands, as this server knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteState {
    /// Submitted; the provider is working on it.
    Open,
    /// Its results were collected.
    Collected,
    /// Cancelled by the job's cancel.
    Cancelled,
}

impl RemoteState {
    fn as_str(self) -> &'static str {
        match self {
            RemoteState::Open => "open",
            RemoteState::Collected => "collected",
            RemoteState::Cancelled => "cancelled",
        }
    }
}

/// A submitted batch as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteBatchRow {
    /// The provider's batch id (`batches/...` for Gemini, `batch_...` for OpenAI).
    pub id: String,
    /// The requests and their chats.
    pub requests: Vec<RemoteRequest>,
}

impl Store {
    /// Records a submitted batch and moves its items, claimed by `worker`, from the worker to the
    /// batch (status `remote`): they survive the worker's lease, and a restart resumes the batch.
    /// The job is marked as a batch job, due at `expected_by_ms`.
    pub async fn start_remote_batch(
        &self,
        job_id: &str,
        worker: &str,
        batch_id: &str,
        requests: &[RemoteRequest],
        expected_by_ms: i64,
    ) -> Result<()> {
        let now = now_ms();
        let requests_json = serde_json::to_string(requests).expect("requests serialize");
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO remote_batches (id, job_id, state, requests, submitted_ms, updated_ms) \
                 VALUES ($1, $2, 'open', $3, $4, $4)",
            )
            .bind(batch_id.to_owned())
            .bind(job_id.to_owned())
            .bind(requests_json)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            // One statement per 500 chats, not one per chat: a batch holds thousands.
            let chats: Vec<&String> = requests.iter().flat_map(|r| &r.chats).collect();
            for chunk in chats.chunks(500) {
                let mut qb = QueryBuilder::new("UPDATE job_items SET status = 'remote', remote_batch = ");
                qb.push_bind(batch_id.to_owned())
                    .push(", claimed_by = NULL WHERE status = 'claimed' AND job_id = ")
                    .push_bind(job_id.to_owned())
                    .push(" AND claimed_by = ")
                    .push_bind(worker.to_owned())
                    .push(" AND chat_id IN (");
                let mut sep = qb.separated(", ");
                for chat in chunk {
                    sep.push_bind((*chat).clone());
                }
                qb.push(")");
                qb.build().execute(&mut *tx).await?;
            }
            sqlx::query(
                "UPDATE jobs SET mode = 'batch', stage = 'waiting for the provider''s batch', \
                 expected_by_ms = CASE WHEN expected_by_ms IS NULL OR expected_by_ms < $1 THEN $1 ELSE expected_by_ms END, \
                 updated_ms = $2 WHERE id = $3",
            )
            .bind(expected_by_ms)
            .bind(now)
            .bind(job_id.to_owned())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Hands a batch's items over to `worker` (status `claimed`) and marks the batch `state`;
    /// returns the chats handed over: none when another worker took them first.
    pub async fn take_remote_items(
        &self,
        batch_id: &str,
        worker: &str,
        state: RemoteState,
    ) -> Result<Vec<String>> {
        let now = now_ms();
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let taken = sqlx::query(
                "UPDATE remote_batches SET state = $1, updated_ms = $2 WHERE id = $3 AND state = 'open'",
            )
            .bind(state.as_str())
            .bind(now)
            .bind(batch_id.to_owned())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if taken == 0 {
                return Ok(Vec::new());
            }
            let chats: Vec<String> = sqlx::query_scalar(
                "UPDATE job_items SET status = 'claimed', claimed_by = $1, claimed_ms = $2 \
                 WHERE remote_batch = $3 AND status = 'remote' RETURNING chat_id",
            )
            .bind(worker.to_owned())
            .bind(now)
            .bind(batch_id.to_owned())
            .fetch_all(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(chats)
        })
    }

    /// Every batch still at a provider (its job not cancelled), oldest first, with its job; at
    /// most `limit`.
    pub async fn all_open_remote_batches(
        &self,
        limit: i64,
    ) -> Result<Vec<(String, RemoteBatchRow)>> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT b.id, b.job_id, b.requests FROM remote_batches b \
                 JOIN jobs j ON j.id = b.job_id WHERE b.state = 'open' AND j.status <> 'cancelled' \
                 ORDER BY b.submitted_ms, b.id LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    let requests: String = col(r, "requests")?;
                    Ok((
                        col(r, "job_id")?,
                        RemoteBatchRow {
                            id: col(r, "id")?,
                            requests: serde_json::from_str(&requests).map_err(|e| {
                                StoreError::Corrupt(format!("remote batch requests: {e}"))
                            })?,
                        },
                    ))
                })
                .collect()
        })
    }

    /// Ids of batches still open at a provider whose job was cancelled (to cancel them there).
    pub async fn cancelled_open_remote_batches(&self) -> Result<Vec<String>> {
        with_pool!(self, pool => {
            let ids: Vec<String> = sqlx::query_scalar(
                "SELECT b.id FROM remote_batches b JOIN jobs j ON j.id = b.job_id \
                 WHERE b.state = 'open' AND j.status = 'cancelled' ORDER BY b.id",
            )
            .fetch_all(pool)
            .await?;
            Ok(ids)
        })
    }
}

//! Writing an upload: one transaction, all or nothing, idempotent on re-upload.

use std::collections::{HashMap, HashSet};

use powerpulse_shared::{AnalysisStatus, CleaningReport, Conversation, Role};
use sqlx::QueryBuilder;

use super::{now_ms, with_pool, Indexed, Result, Store};

/// A processed conversation ready to store.
#[derive(Debug, Clone)]
pub struct IngestConversation {
    /// Messages, summary and built-in analysis.
    pub conversation: Conversation,
    /// Hash of the cleaned content (ids, times, roles, agents, texts).
    pub content_hash: String,
}

/// One upload to write.
#[derive(Debug, Clone)]
pub struct IngestRequest {
    /// New upload id.
    pub upload_id: String,
    /// The uploaded file's name.
    pub file_name: String,
    /// SHA-256 of the file.
    pub file_hash: String,
    /// Its size.
    pub bytes: u64,
    /// What cleaning read, kept and dropped.
    pub report: CleaningReport,
    /// The conversations, in file order.
    pub conversations: Vec<IngestConversation>,
    /// Replace conversations even when their content is unchanged.
    pub force: bool,
    /// When an AI provider is configured: its analyzer label (conversations written are queued).
    pub ai_analyzer: Option<String>,
}

/// What an upload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestOutcome {
    /// Conversations written (new, changed, or forced).
    pub conversations_processed: u64,
    /// Messages of the conversations written.
    pub messages_processed: u64,
    /// Conversations already stored with the same content (not rewritten, not re-analysed).
    pub conversations_skipped: u64,
    /// The analysis job created, if anything needs AI analysis.
    pub job_id: Option<String>,
}

const CONV_COLUMNS: &str =
    "chat_id, ord, content_hash, upload_id, first_message_ms, total_messages, \
    satisfaction_score, avg_sentiment, avg_response_time, analysis_status, ai_error, summary, \
    search_text, updated_ms, changed_version";

/// Rows per multi-row INSERT (kept well under both databases' parameter limits).
const CONV_CHUNK: usize = 400;
const MSG_CHUNK: usize = 1500;
const KEY_CHUNK: usize = 500;

/// The text searched by the conversation list's `q`: lowercased message texts.
fn search_text(c: &Conversation) -> String {
    let mut s = String::new();
    for m in c.messages.iter().filter(|m| m.role != Role::Bot) {
        s.push_str(&m.text.to_lowercase());
        s.push('\n');
    }
    s
}

impl Store {
    /// Writes an upload in one transaction.
    pub async fn ingest(&self, req: &IngestRequest) -> Result<IngestOutcome> {
        let now = now_ms();
        let ids: Vec<&str> = req
            .conversations
            .iter()
            .map(|c| c.conversation.summary.chat_id.as_str())
            .collect();
        // Uploads write one at a time, so two overlapping uploads of the same chats both
        // succeed: SQLite takes its write lock at BEGIN (a deferred transaction that upgrades
        // later fails with "database is locked" instead of waiting), PostgreSQL an advisory lock
        // that every instance sharing the database respects.
        let (begin, lock) = match &self.db {
            super::Db::Sqlite(_) => ("BEGIN IMMEDIATE", None),
            super::Db::Postgres(_) => ("BEGIN", Some("SELECT pg_advisory_xact_lock(7201001)")),
        };
        with_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await?;
            if let Some(lock) = lock {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            let version: i64 = sqlx::query_scalar(super::NEXT_DATA_VERSION).fetch_one(&mut *tx).await?;

            // What is stored already: content hash and analysis state per chat id.
            let mut existing: HashMap<String, (String, String)> = HashMap::new();
            for chunk in ids.chunks(KEY_CHUNK) {
                let mut qb = QueryBuilder::new("SELECT chat_id, content_hash, analysis_status FROM conversations WHERE chat_id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(id.to_string());
                }
                qb.push(")");
                for row in qb.build().fetch_all(&mut *tx).await? {
                    existing.insert(super::col(&row, "chat_id")?, (super::col(&row, "content_hash")?, super::col(&row, "analysis_status")?));
                }
            }
            let mut write = Vec::new();
            let mut retry_failed = Vec::new();
            for c in &req.conversations {
                match existing.get(&c.conversation.summary.chat_id) {
                    Some((hash, status)) if *hash == c.content_hash && !req.force => {
                        if status == AnalysisStatus::Failed.as_str() {
                            retry_failed.push(c.conversation.summary.chat_id.clone());
                        }
                    }
                    _ => write.push(c),
                }
            }
            let skipped = (req.conversations.len() - write.len()) as u64;

            // New conversations take the next positions, in file order.
            let new_count = write.iter().filter(|c| !existing.contains_key(&c.conversation.summary.chat_id)).count() as i64;
            let end: i64 = sqlx::query_scalar("UPDATE meta SET value = value + $1 WHERE key = 'next_ord' RETURNING value")
                .bind(new_count)
                .fetch_one(&mut *tx)
                .await?;
            let mut next_ord = end - new_count;

            // Replaced conversations lose their old messages, agents and topics.
            let replaced: Vec<&str> = write
                .iter()
                .map(|c| c.conversation.summary.chat_id.as_str())
                .filter(|id| existing.contains_key(*id))
                .collect();
            for chunk in replaced.chunks(KEY_CHUNK) {
                for table in ["messages", "conversation_agents", "conversation_topics"] {
                    let mut qb = QueryBuilder::new(format!("DELETE FROM {table} WHERE chat_id IN ("));
                    let mut sep = qb.separated(", ");
                    for id in chunk {
                        sep.push_bind(id.to_string());
                    }
                    qb.push(")");
                    qb.build().execute(&mut *tx).await?;
                }
            }

            let status = if req.ai_analyzer.is_some() { AnalysisStatus::Pending } else { AnalysisStatus::Complete };
            for chunk in write.chunks(CONV_CHUNK) {
                let mut qb = QueryBuilder::new(format!("INSERT INTO conversations ({CONV_COLUMNS}) "));
                qb.push_values(chunk, |mut b, c| {
                    let conv = &c.conversation;
                    let mut s = conv.summary.clone();
                    s.status = status;
                    let ix = Indexed::of(&s);
                    let ord = if existing.contains_key(&s.chat_id) {
                        // Keeps its position: ON CONFLICT below does not update ord.
                        -1
                    } else {
                        next_ord += 1;
                        next_ord - 1
                    };
                    b.push_bind(s.chat_id.clone())
                        .push_bind(ord)
                        .push_bind(c.content_hash.clone())
                        .push_bind(req.upload_id.clone())
                        .push_bind(ix.first_message_ms)
                        .push_bind(ix.total_messages)
                        .push_bind(ix.satisfaction_score)
                        .push_bind(ix.avg_sentiment)
                        .push_bind(ix.avg_response_time)
                        .push_bind(status.as_str())
                        .push_bind(None::<String>)
                        .push_bind(serde_json::to_string(&s).expect("summaries serialize"))
                        .push_bind(search_text(conv))
                        .push_bind(now)
                        .push_bind(version);
                });
                qb.push(
                    " ON CONFLICT (chat_id) DO UPDATE SET content_hash = excluded.content_hash, \
                     upload_id = excluded.upload_id, first_message_ms = excluded.first_message_ms, \
                     total_messages = excluded.total_messages, satisfaction_score = excluded.satisfaction_score, \
                     avg_sentiment = excluded.avg_sentiment, avg_response_time = excluded.avg_response_time, \
                     analysis_status = excluded.analysis_status, ai_error = excluded.ai_error, \
                     summary = excluded.summary, \
                     search_text = excluded.search_text, updated_ms = excluded.updated_ms, \
                     changed_version = excluded.changed_version",
                );
                qb.build().execute(&mut *tx).await?;
            }

            // Messages, agents and topics of the conversations written.
            let rows: Vec<(&str, usize, &powerpulse_shared::Message)> = write
                .iter()
                .flat_map(|c| {
                    let id = c.conversation.summary.chat_id.as_str();
                    c.conversation.messages.iter().enumerate().map(move |(i, m)| (id, i, m))
                })
                .collect();
            for chunk in rows.chunks(MSG_CHUNK) {
                let mut qb = QueryBuilder::new(
                    "INSERT INTO messages (chat_id, seq, message_id, time_ms, role, agent, text, sentiment, reply_gap, segment) ",
                );
                qb.push_values(chunk, |mut b, (id, i, m)| {
                    b.push_bind(id.to_string())
                        .push_bind(*i as i64)
                        .push_bind(m.id.clone())
                        .push_bind(m.time_ms)
                        .push_bind(m.role.as_str())
                        .push_bind(m.agent.as_deref().map(str::to_owned))
                        .push_bind(m.text.clone())
                        .push_bind(m.sentiment)
                        .push_bind(m.reply_gap_minutes)
                        .push_bind(i64::from(m.segment));
                });
                qb.build().execute(&mut *tx).await?;
            }
            let pairs = |f: fn(&Conversation) -> &[String]| -> Vec<(String, String)> {
                let mut seen = HashSet::new();
                write
                    .iter()
                    .flat_map(|c| {
                        let id = c.conversation.summary.chat_id.clone();
                        f(&c.conversation).iter().map(move |v| (v.clone(), id.clone()))
                    })
                    .filter(|p| seen.insert(p.clone()))
                    .collect()
            };
            for (table, col, values) in [
                ("conversation_agents", "agent", pairs(|c| &c.summary.agents)),
                ("conversation_topics", "topic", pairs(|c| &c.summary.analysis.topics)),
            ] {
                for chunk in values.chunks(MSG_CHUNK) {
                    let mut qb = QueryBuilder::new(format!("INSERT INTO {table} ({col}, chat_id) "));
                    qb.push_values(chunk, |mut b, (v, id)| {
                        b.push_bind(v.clone()).push_bind(id.clone());
                    });
                    qb.build().execute(&mut *tx).await?;
                }
            }

            // The analysis job: everything written, plus earlier failures found again.
            let mut job_id = None;
            if let Some(analyzer) = &req.ai_analyzer {
                let items: Vec<String> = write
                    .iter()
                    .map(|c| c.conversation.summary.chat_id.clone())
                    .chain(retry_failed.iter().cloned())
                    .collect();
                if !items.is_empty() {
                    let id = format!("job_{}", req.upload_id.trim_start_matches("up_"));
                    sqlx::query(
                        "INSERT INTO jobs (id, upload_id, status, stage, analyzer, total, created_ms, updated_ms, force) \
                         VALUES ($1, $2, 'queued', 'waiting for a worker', $3, $4, $5, $5, $6)",
                    )
                    .bind(id.clone())
                    .bind(req.upload_id.clone())
                    .bind(analyzer.clone())
                    .bind(items.len() as i64)
                    .bind(now)
                    .bind(req.force)
                    .execute(&mut *tx)
                    .await?;
                    for chunk in items.chunks(MSG_CHUNK) {
                        let mut qb = QueryBuilder::new("INSERT INTO job_items (job_id, chat_id, status) ");
                        qb.push_values(chunk, |mut b, chat| {
                            b.push_bind(id.clone()).push_bind(chat.clone()).push_bind("queued");
                        });
                        qb.build().execute(&mut *tx).await?;
                    }
                    if !retry_failed.is_empty() {
                        let mut qb = QueryBuilder::new("UPDATE conversations SET analysis_status = 'pending', changed_version = ");
                        qb.push_bind(version);
                        qb.push(" WHERE chat_id IN (");
                        let mut sep = qb.separated(", ");
                        for id in &retry_failed {
                            sep.push_bind(id.clone());
                        }
                        qb.push(")");
                        qb.build().execute(&mut *tx).await?;
                    }
                    job_id = Some(id);
                }
            }

            let messages_processed = rows.len() as u64;
            sqlx::query(
                "INSERT INTO uploads (id, file_name, file_hash, bytes, created_at, chats_read, messages_read, \
                 conversations_processed, conversations_skipped, messages_processed, filtered, job_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(req.upload_id.clone())
            .bind(req.file_name.clone())
            .bind(req.file_hash.clone())
            .bind(req.bytes as i64)
            .bind(powerpulse_shared::time::format_timestamp(now))
            .bind(req.report.chats_read as i64)
            .bind(req.report.messages_read as i64)
            .bind(write.len() as i64)
            .bind(skipped as i64)
            .bind(messages_processed as i64)
            .bind(serde_json::to_string(&req.report.filtered).expect("counts serialize"))
            .bind(job_id.clone())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            self.saw_version(version);
            if matches!(self.db, super::Db::Postgres(_)) && write.len() > 2000 {
                // Fresh statistics keep the planner on the indexes after a large load (the next
                // forced re-upload deletes by chat id); autovacuum would get there later.
                sqlx::query("ANALYZE conversations, messages, conversation_agents, conversation_topics")
                    .execute(pool)
                    .await?;
            }
            Ok(IngestOutcome {
                conversations_processed: write.len() as u64,
                messages_processed,
                conversations_skipped: skipped,
                job_id,
            })
        })
    }
}

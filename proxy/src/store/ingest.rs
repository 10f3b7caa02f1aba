//! Writing an upload: one transaction, all or nothing, idempotent on re-upload.

use std::collections::{HashMap, HashSet};

use powerpulse_shared::cleaning::{merge_chat, CleanChat};
use powerpulse_shared::evaluate::Label;
use powerpulse_shared::list::search_text;
use powerpulse_shared::{
    build_conversation, AnalysisStatus, CleaningReport, Conversation, Filtered, Message, Options,
    Summary,
};
use sqlx::{Database, Encode, QueryBuilder, Type};

use super::rollups::{apply_delta, Delta};
use super::{col, now_ms, with_pool, Indexed, Result, Store};

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
    /// Of those, stored conversations that gained messages from this upload (merged).
    pub conversations_merged: u64,
    /// The upload's cleaning counts, with its messages already stored counted as `duplicate`.
    pub filtered: Filtered,
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

/// On a re-upload every column but the position follows the new content.
const CONV_UPDATE: &str = " ON CONFLICT (chat_id) DO UPDATE SET content_hash = excluded.content_hash, \
    upload_id = excluded.upload_id, first_message_ms = excluded.first_message_ms, \
    total_messages = excluded.total_messages, satisfaction_score = excluded.satisfaction_score, \
    avg_sentiment = excluded.avg_sentiment, avg_response_time = excluded.avg_response_time, \
    analysis_status = excluded.analysis_status, ai_error = excluded.ai_error, \
    summary = excluded.summary, search_text = excluded.search_text, updated_ms = excluded.updated_ms, \
    changed_version = excluded.changed_version";

/// Rows per multi-row INSERT (kept well under both databases' parameter limits).
const CONV_CHUNK: usize = 400;
const MSG_CHUNK: usize = 1500;
const KEY_CHUNK: usize = 500;

/// What is stored of a chat already: its content hash and analysis status.
type Existing = HashMap<String, (String, String)>;

/// The stored summaries (JSON) of the chats an upload changes, by chat id.
type StoredSummaries = HashMap<String, String>;

/// Stored chats an upload brings other messages for, each merged with its stored version
/// (`cleaning::merge_chat`) and measured again: by chat id, with how many of the upload's
/// messages it already held.
#[derive(Default)]
struct Merged(HashMap<String, (IngestConversation, u64)>);

impl Merged {
    /// The stored chats whose content the upload changes, when it does not force a replacement.
    fn candidates<'a>(req: &'a IngestRequest, existing: &Existing) -> Vec<&'a str> {
        if req.force {
            return Vec::new();
        }
        req.conversations
            .iter()
            .filter(|c| {
                existing
                    .get(&c.conversation.summary.chat_id)
                    .is_some_and(|(hash, _)| *hash != c.content_hash)
            })
            .map(|c| c.conversation.summary.chat_id.as_str())
            .collect()
    }

    /// Merges each stored chat with the upload's version of it, on all cores, off the async
    /// runtime.
    async fn of(req: &IngestRequest, stored: Vec<CleanChat>, opts: &Options) -> Merged {
        let new: HashMap<&str, &[Message]> = req
            .conversations
            .iter()
            .map(|c| {
                (
                    c.conversation.summary.chat_id.as_str(),
                    &c.conversation.messages[..],
                )
            })
            .collect();
        let work: Vec<(CleanChat, Vec<Message>)> = stored
            .into_iter()
            .map(|chat| {
                let messages = new
                    .get(chat.chat_id.as_str())
                    .map_or(Vec::new(), |m| m.to_vec());
                (chat, messages)
            })
            .collect();
        let opts = opts.clone();
        let merged = tokio::task::spawn_blocking(move || {
            use rayon::prelude::*;
            work.into_par_iter()
                .map(|(chat, new)| {
                    let (chat, repeats) = merge_chat(chat, &new);
                    let conversation = build_conversation(chat, &opts);
                    let merged = IngestConversation {
                        content_hash: crate::ingest::content_hash(&conversation),
                        conversation,
                    };
                    (
                        merged.conversation.summary.chat_id.clone(),
                        (merged, repeats),
                    )
                })
                .collect()
        })
        .await
        .expect("merging does not panic");
        Merged(merged)
    }

    /// The version of `c` to store: merged with the stored chat where there is one.
    fn version<'a>(&'a self, c: &'a IngestConversation) -> &'a IngestConversation {
        self.0
            .get(&c.conversation.summary.chat_id)
            .map_or(c, |(m, _)| m)
    }
}

/// What an upload writes, decided from what is stored (references into the request).
struct Plan<'a> {
    /// New, changed or forced conversations in file order, with their positions (-1: a
    /// replaced conversation keeps its own).
    rows: Vec<(&'a IngestConversation, i64)>,
    /// The chat ids of `rows` that replace stored conversations.
    replaced: Vec<&'a str>,
    /// Every message written: chat id, position, message.
    messages: Vec<(&'a str, usize, &'a Message)>,
    /// (agent, chat id) pairs, each once.
    agents: Vec<(String, String)>,
    /// (topic, chat id) pairs, each once.
    topics: Vec<(String, String)>,
    /// Unchanged conversations whose AI analysis failed before: queued again.
    retry_failed: Vec<&'a str>,
    /// Conversations left as stored.
    skipped: u64,
    /// Written conversations merged with their stored versions.
    merged: u64,
    /// The upload's messages the store held already (in merged and in skipped chats).
    repeats: u64,
    /// The reviews of replaced conversations: their new versions keep them.
    reviews: HashMap<String, Label>,
}

/// The (value, chat id) pairs of a per-conversation list (agents, topics), each once.
fn pairs(
    rows: &[(&IngestConversation, i64)],
    f: fn(&Conversation) -> &[String],
) -> Vec<(String, String)> {
    let mut seen = HashSet::new();
    rows.iter()
        .flat_map(|(c, _)| {
            let id = c.conversation.summary.chat_id.clone();
            f(&c.conversation)
                .iter()
                .map(move |v| (v.clone(), id.clone()))
        })
        .filter(|p| seen.insert(p.clone()))
        .collect()
}

impl<'a> Plan<'a> {
    /// Conversations that take a new position.
    fn new_count(req: &IngestRequest, existing: &Existing) -> i64 {
        req.conversations
            .iter()
            .filter(|c| !existing.contains_key(&c.conversation.summary.chat_id))
            .count() as i64
    }

    /// The stored chats an upload replaces (changed content, or forced).
    fn replacing(req: &'a IngestRequest, existing: &Existing, merged: &'a Merged) -> Vec<&'a str> {
        req.conversations
            .iter()
            .map(|c| merged.version(c))
            .filter(|c| {
                existing
                    .get(&c.conversation.summary.chat_id)
                    .is_some_and(|(hash, _)| *hash != c.content_hash || req.force)
            })
            .map(|c| c.conversation.summary.chat_id.as_str())
            .collect()
    }

    /// Decides what to write; new conversations take positions from `first_ord` on, replaced
    /// ones keep their `reviews`.
    fn of(
        req: &'a IngestRequest,
        existing: &Existing,
        merged: &'a Merged,
        first_ord: i64,
        reviews: HashMap<String, Label>,
    ) -> Plan<'a> {
        let (mut rows, mut replaced, mut retry_failed, mut skipped) =
            (Vec::new(), Vec::new(), Vec::new(), 0);
        let (mut merges, mut repeats) = (0, 0);
        let mut next = first_ord;
        for c in &req.conversations {
            let c = merged.version(c);
            let id = c.conversation.summary.chat_id.as_str();
            match existing.get(id) {
                Some((hash, status)) if *hash == c.content_hash && !req.force => {
                    skipped += 1;
                    // Stored already: every message of the upload's version is a repeat.
                    repeats += merged
                        .0
                        .get(id)
                        .map_or(c.conversation.messages.len() as u64, |(_, r)| *r);
                    // Queued again only where an AI will take it: without one it stays failed.
                    if status == AnalysisStatus::Failed.as_str() && req.ai_analyzer.is_some() {
                        retry_failed.push(id);
                    }
                }
                Some(_) => {
                    rows.push((c, -1));
                    replaced.push(id);
                    if let Some((_, r)) = merged.0.get(id) {
                        merges += 1;
                        repeats += r;
                    }
                }
                None => {
                    rows.push((c, next));
                    next += 1;
                }
            }
        }
        let messages = rows
            .iter()
            .flat_map(|(c, _)| {
                let id = c.conversation.summary.chat_id.as_str();
                c.conversation
                    .messages
                    .iter()
                    .enumerate()
                    .map(move |(i, m)| (id, i, m))
            })
            .collect();
        let mut plan = Plan {
            agents: pairs(&rows, |c| &c.summary.agents),
            topics: Vec::new(),
            rows,
            replaced,
            messages,
            retry_failed,
            skipped,
            merged: merges,
            repeats,
            reviews,
        };
        let mut seen = HashSet::new();
        plan.topics = plan
            .rows
            .iter()
            .flat_map(|(c, _)| {
                let s = plan.summary(c, AnalysisStatus::Complete);
                s.analysis
                    .topics
                    .into_iter()
                    .map(move |t| (t, s.chat_id.clone()))
            })
            .filter(|p| seen.insert(p.clone()))
            .collect();
        plan
    }

    /// A written conversation's summary as stored: its status, and its review in place.
    fn summary(&self, c: &IngestConversation, status: AnalysisStatus) -> Summary {
        let mut s = c.conversation.summary.clone();
        s.status = status;
        if let Some(label) = self.reviews.get(&s.chat_id) {
            s.set_review(Some(label.clone()));
        }
        s
    }

    /// What the upload changes in the rollups: stored versions of replaced conversations out,
    /// written ones in, earlier failures counted as pending again.
    fn rollups(
        &self,
        status: AnalysisStatus,
        existing: &Existing,
        summaries: &StoredSummaries,
    ) -> Result<Delta> {
        let mut delta = Delta::default();
        let stored = |id: &str| {
            let (_, status) = existing.get(id).expect("a replaced chat is stored");
            let json = summaries.get(id).expect("its summary was read");
            super::stored_summary(json, status)
        };
        for (c, _) in &self.rows {
            delta.count(&self.summary(c, status), 1);
        }
        for id in &self.replaced {
            delta.count(&stored(id)?, -1);
        }
        for id in &self.retry_failed {
            delta.now_status(&stored(id)?, AnalysisStatus::Pending);
        }
        Ok(delta)
    }

    /// The upload's cleaning counts, with the messages that merged chats already held counted
    /// as duplicates (as when the exports are read together).
    fn filtered(&self, req: &IngestRequest) -> Filtered {
        let mut f = req.report.filtered;
        f.duplicate += self.repeats;
        f
    }

    /// The chats the analysis job gets: everything written, plus earlier failures found again.
    fn job_items(&self) -> Vec<String> {
        self.rows
            .iter()
            .map(|(c, _)| c.conversation.summary.chat_id.as_str())
            .chain(self.retry_failed.iter().copied())
            .map(str::to_owned)
            .collect()
    }
}

/// `prefix` followed by `(id, id, ...)`.
fn in_list<DB: Database>(prefix: &str, ids: &[&str]) -> QueryBuilder<DB>
where
    String: for<'a> Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new(prefix);
    push_ids(&mut qb, ids);
    qb
}

/// ` (id, id, ...)`, bound.
fn push_ids<DB: Database>(qb: &mut QueryBuilder<DB>, ids: &[&str])
where
    String: for<'a> Encode<'a, DB> + Type<DB>,
{
    qb.push(" (");
    let mut sep = qb.separated(", ");
    for id in ids {
        sep.push_bind(id.to_string());
    }
    qb.push(")");
}

/// One INSERT of conversations (with their positions), replacing stored ones in place.
fn insert_conversations<DB: Database>(
    req: &IngestRequest,
    plan: &Plan<'_>,
    rows: &[(&IngestConversation, i64)],
    status: AnalysisStatus,
    now: i64,
    version: i64,
) -> QueryBuilder<DB>
where
    i64: for<'a> Encode<'a, DB> + Type<DB>,
    Option<i64>: for<'a> Encode<'a, DB> + Type<DB>,
    Option<f64>: for<'a> Encode<'a, DB> + Type<DB>,
    String: for<'a> Encode<'a, DB> + Type<DB>,
    Option<String>: for<'a> Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new(format!("INSERT INTO conversations ({CONV_COLUMNS}) "));
    qb.push_values(rows, |mut b, (c, ord)| {
        let s = plan.summary(c, status);
        let ix = Indexed::of(&s);
        b.push_bind(s.chat_id.clone())
            .push_bind(*ord)
            .push_bind(c.content_hash.clone())
            .push_bind(req.upload_id.clone())
            .push_bind(ix.first_message_ms)
            .push_bind(ix.total_messages)
            .push_bind(ix.satisfaction_score)
            .push_bind(ix.avg_sentiment)
            .push_bind(ix.avg_response_time)
            .push_bind(status.as_str().to_owned())
            .push_bind(None::<String>)
            .push_bind(serde_json::to_string(&s).expect("summaries serialize"))
            .push_bind(search_text(&c.conversation))
            .push_bind(now)
            .push_bind(version);
    });
    qb.push(CONV_UPDATE);
    qb
}

/// One INSERT of messages.
fn insert_messages<DB: Database>(rows: &[(&str, usize, &Message)]) -> QueryBuilder<DB>
where
    i64: for<'a> Encode<'a, DB> + Type<DB>,
    Option<f64>: for<'a> Encode<'a, DB> + Type<DB>,
    String: for<'a> Encode<'a, DB> + Type<DB>,
    Option<String>: for<'a> Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new(
        "INSERT INTO messages (chat_id, seq, message_id, time_ms, role, agent, text, sentiment, reply_gap, segment) ",
    );
    qb.push_values(rows, |mut b, (id, i, m)| {
        b.push_bind(id.to_string())
            .push_bind(*i as i64)
            .push_bind(m.id.clone())
            .push_bind(m.time_ms)
            .push_bind(m.role.as_str().to_owned())
            .push_bind(m.agent.as_deref().map(str::to_owned))
            .push_bind(m.text.clone())
            .push_bind(m.sentiment)
            .push_bind(m.reply_gap_minutes)
            .push_bind(i64::from(m.segment));
    });
    qb
}

/// One INSERT of (value, chat id) pairs into `table`.
fn insert_pairs<DB: Database>(
    table: &str,
    column: &str,
    rows: &[(String, String)],
) -> QueryBuilder<DB>
where
    String: for<'a> Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new(format!("INSERT INTO {table} ({column}, chat_id) "));
    qb.push_values(rows, |mut b, (v, id)| {
        b.push_bind(v.clone()).push_bind(id.clone());
    });
    qb
}

/// One INSERT of a job's queued items.
fn insert_job_items<DB: Database>(job_id: &str, chats: &[String]) -> QueryBuilder<DB>
where
    String: for<'a> Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new("INSERT INTO job_items (job_id, chat_id, status) ");
    qb.push_values(chats, |mut b, chat| {
        b.push_bind(job_id.to_owned())
            .push_bind(chat.clone())
            .push_bind("queued".to_owned());
    });
    qb
}

/// Every statement of an upload after the plan, in order, each built when it is run:
/// replaced conversations' rows removed, conversations, messages, agents and topics written,
/// the analysis job (`job_id`) queued, the upload recorded.
fn writes<'a, DB: Database>(
    req: &'a IngestRequest,
    plan: &'a Plan<'a>,
    job_id: Option<&'a str>,
    now: i64,
    version: i64,
) -> impl Iterator<Item = QueryBuilder<DB>> + 'a
where
    i64: for<'e> Encode<'e, DB> + Type<DB>,
    bool: for<'e> Encode<'e, DB> + Type<DB>,
    Option<i64>: for<'e> Encode<'e, DB> + Type<DB>,
    Option<f64>: for<'e> Encode<'e, DB> + Type<DB>,
    String: for<'e> Encode<'e, DB> + Type<DB>,
    Option<String>: for<'e> Encode<'e, DB> + Type<DB>,
{
    let status = req.status();
    let deletes = plan.replaced.chunks(KEY_CHUNK).flat_map(|chunk| {
        ["messages", "conversation_agents", "conversation_topics"]
            .map(|table| in_list(&format!("DELETE FROM {table} WHERE chat_id IN"), chunk))
    });
    let conversations = plan
        .rows
        .chunks(CONV_CHUNK)
        .map(move |chunk| insert_conversations(req, plan, chunk, status, now, version));
    let messages = plan.messages.chunks(MSG_CHUNK).map(insert_messages);
    let agents = plan
        .agents
        .chunks(MSG_CHUNK)
        .map(|c| insert_pairs("conversation_agents", "agent", c));
    let topics = plan
        .topics
        .chunks(MSG_CHUNK)
        .map(|c| insert_pairs("conversation_topics", "topic", c));
    let job = job_id
        .zip(req.ai_analyzer.as_deref())
        .into_iter()
        .flat_map(move |(id, analyzer)| queue_job(req, plan, id, analyzer, now, version));
    deletes
        .chain(conversations)
        .chain(messages)
        .chain(agents)
        .chain(topics)
        .chain(job)
        .chain(std::iter::once_with(move || {
            record_upload(req, plan, job_id, now)
        }))
}

/// The analysis job of an upload: the job, its items, and earlier failures marked pending.
fn queue_job<DB: Database>(
    req: &IngestRequest,
    plan: &Plan<'_>,
    id: &str,
    analyzer: &str,
    now: i64,
    version: i64,
) -> Vec<QueryBuilder<DB>>
where
    i64: for<'a> Encode<'a, DB> + Type<DB>,
    bool: for<'a> Encode<'a, DB> + Type<DB>,
    String: for<'a> Encode<'a, DB> + Type<DB>,
{
    let items = plan.job_items();
    let mut job = QueryBuilder::new(
        "INSERT INTO jobs (id, upload_id, status, stage, analyzer, total, created_ms, updated_ms, force) ",
    );
    job.push_values([()], |mut b, ()| {
        b.push_bind(id.to_owned())
            .push_bind(req.upload_id.clone())
            .push_bind("queued".to_owned())
            .push_bind("waiting for a worker".to_owned())
            .push_bind(analyzer.to_owned())
            .push_bind(items.len() as i64)
            .push_bind(now)
            .push_bind(now)
            .push_bind(req.force);
    });
    let mut out = vec![job];
    for chunk in items.chunks(MSG_CHUNK) {
        out.push(insert_job_items(id, chunk));
    }
    for chunk in plan.retry_failed.chunks(KEY_CHUNK) {
        let mut qb = QueryBuilder::new(
            "UPDATE conversations SET analysis_status = 'pending', changed_version = ",
        );
        qb.push_bind(version).push(" WHERE chat_id IN");
        push_ids(&mut qb, chunk);
        out.push(qb);
    }
    out
}

/// The upload's own row: what it read, wrote and skipped.
fn record_upload<DB: Database>(
    req: &IngestRequest,
    plan: &Plan<'_>,
    job_id: Option<&str>,
    now: i64,
) -> QueryBuilder<DB>
where
    i64: for<'a> Encode<'a, DB> + Type<DB>,
    String: for<'a> Encode<'a, DB> + Type<DB>,
    Option<String>: for<'a> Encode<'a, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::new(
        "INSERT INTO uploads (id, file_name, file_hash, bytes, created_at, chats_read, messages_read, \
         conversations_processed, conversations_skipped, messages_processed, filtered, job_id) ",
    );
    qb.push_values([()], |mut b, ()| {
        b.push_bind(req.upload_id.clone())
            .push_bind(req.file_name.clone())
            .push_bind(req.file_hash.clone())
            .push_bind(req.bytes as i64)
            .push_bind(powerpulse_shared::time::format_timestamp(now))
            .push_bind(req.report.chats_read as i64)
            .push_bind(req.report.messages_read as i64)
            .push_bind(plan.rows.len() as i64)
            .push_bind(plan.skipped as i64)
            .push_bind(plan.messages.len() as i64)
            .push_bind(serde_json::to_string(&plan.filtered(req)).expect("counts serialize"))
            .push_bind(job_id.map(str::to_owned));
    });
    qb
}

impl IngestRequest {
    /// The analysis status of the conversations it writes: pending when an AI will judge them.
    fn status(&self) -> AnalysisStatus {
        if self.ai_analyzer.is_some() {
            AnalysisStatus::Pending
        } else {
            AnalysisStatus::Complete
        }
    }
}

impl Store {
    /// Writes an upload in one transaction; a stored chat that arrives with other messages is
    /// merged with them (unless forced) and measured again with `opts`.
    pub async fn ingest(&self, req: &IngestRequest, opts: &Options) -> Result<IngestOutcome> {
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

            let mut existing = Existing::new();
            for chunk in ids.chunks(KEY_CHUNK) {
                let rows = in_list(
                    "SELECT chat_id, content_hash, analysis_status FROM conversations WHERE chat_id IN",
                    chunk,
                )
                .build()
                .fetch_all(&mut *tx)
                .await?;
                for row in rows {
                    let state = (col(&row, "content_hash")?, col(&row, "analysis_status")?);
                    existing.insert(col(&row, "chat_id")?, state);
                }
            }
            let new_count = Plan::new_count(req, &existing);
            let end: i64 = sqlx::query_scalar("UPDATE meta SET value = value + $1 WHERE key = 'next_ord' RETURNING value")
                .bind(new_count)
                .fetch_one(&mut *tx)
                .await?;
            let mut stored = Vec::new();
            for chunk in Merged::candidates(req, &existing).chunks(KEY_CHUNK) {
                let rows = in_list(
                    "SELECT chat_id, message_id, time_ms, role, agent, text FROM messages WHERE chat_id IN",
                    chunk,
                )
                .push(" ORDER BY chat_id, seq")
                .build()
                .fetch_all(&mut *tx)
                .await?;
                for row in rows {
                    let chat_id: String = col(&row, "chat_id")?;
                    let message = Message {
                        id: col(&row, "message_id")?,
                        time_ms: col(&row, "time_ms")?,
                        role: super::role_of(&row)?,
                        agent: col::<Option<String>, _>(&row, "agent")?.map(Into::into),
                        text: col(&row, "text")?,
                        sentiment: None,
                        reply_gap_minutes: None,
                        segment: 0,
                    };
                    match stored.last_mut() {
                        Some(CleanChat { chat_id: last, messages }) if *last == chat_id => messages.push(message),
                        _ => stored.push(CleanChat { chat_id, messages: vec![message] }),
                    }
                }
            }
            let merged = Merged::of(req, stored, opts).await;
            let mut reviews = HashMap::new();
            for chunk in Plan::replacing(req, &existing, &merged).chunks(KEY_CHUNK) {
                let rows = in_list("SELECT chat_id, body FROM reviews WHERE chat_id IN", chunk)
                    .build()
                    .fetch_all(&mut *tx)
                    .await?;
                for row in rows {
                    reviews.insert(col(&row, "chat_id")?, super::reviews::stored_label(&col::<String, _>(&row, "body")?)?);
                }
            }
            let plan = Plan::of(req, &existing, &merged, end - new_count, reviews);
            // Only the chats whose stored version leaves the rollups (replaced, or failed and
            // pending again) need their summary, read before the writes replace it: a repeated
            // upload skips without reading any.
            let changed: Vec<&str> = plan.replaced.iter().chain(&plan.retry_failed).copied().collect();
            let mut summaries = StoredSummaries::new();
            for chunk in changed.chunks(KEY_CHUNK) {
                let rows = in_list("SELECT chat_id, summary FROM conversations WHERE chat_id IN", chunk)
                    .build()
                    .fetch_all(&mut *tx)
                    .await?;
                for row in rows {
                    summaries.insert(col(&row, "chat_id")?, col(&row, "summary")?);
                }
            }

            let job_id = req
                .ai_analyzer
                .as_ref()
                .filter(|_| !plan.job_items().is_empty())
                .map(|_| format!("job_{}", req.upload_id.trim_start_matches("up_")));
            for mut qb in writes(req, &plan, job_id.as_deref(), now, version) {
                qb.build().execute(&mut *tx).await?;
            }
            apply_delta!(tx, plan.rollups(req.status(), &existing, &summaries)?);
            tx.commit().await?;
            self.saw_version(version);
            if matches!(self.db, super::Db::Postgres(_)) && plan.rows.len() > 2000 {
                // Fresh statistics keep the planner on the indexes after a large load (the next
                // forced re-upload deletes by chat id); autovacuum would get there later.
                sqlx::query("ANALYZE conversations, messages, conversation_agents, conversation_topics")
                    .execute(pool)
                    .await?;
            }
            Ok(IngestOutcome {
                conversations_processed: plan.rows.len() as u64,
                conversations_merged: plan.merged,
                filtered: plan.filtered(req),
                messages_processed: plan.messages.len() as u64,
                conversations_skipped: plan.skipped,
                job_id,
            })
        })
    }
}

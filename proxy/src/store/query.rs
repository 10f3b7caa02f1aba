//! Reading conversations: the filter and the order in SQL; one conversation with its messages;
//! and keyset pages for streaming CSV. The list's count and pages are in `search`.

use powerpulse_shared::{ConversationRecord, Filter, MessageRecord};
use sqlx::{Database, QueryBuilder};

use super::{col, stored_summary, with_pool, Result, Store};

pub use powerpulse_shared::list::SortKey;

/// The column a sort key orders by.
fn sort_column(k: SortKey) -> &'static str {
    match k {
        SortKey::UpdatedAt => "updated_ms",
        SortKey::FirstMessageTime => "first_message_ms",
        SortKey::SatisfactionScore => "satisfaction_score",
        SortKey::AvgSentiment => "avg_sentiment",
        SortKey::TotalMessages => "total_messages",
        SortKey::AvgResponseTimeMinutes => "avg_response_time",
    }
}

/// The list's order in SQL.
pub(super) struct SortOrder {
    /// The sort column.
    pub column: &'static str,
    /// The `ORDER BY` terms.
    pub sql: String,
}

/// Ties broken by arrival order so pages never overlap; nullable columns put their nulls last
/// either way, written as each database's index on them reads (migration 0008), so that every
/// order is an index scan.
pub(super) fn sort_order(k: SortKey, desc: bool, sqlite: bool) -> SortOrder {
    let c = sort_column(k);
    let sql = match (k.nullable(), desc, sqlite) {
        // SQLite sorts NULL first, PostgreSQL last.
        (true, false, true) => format!("({c} IS NULL), {c} ASC, ord ASC"),
        (true, true, false) => format!("{c} DESC NULLS LAST, ord DESC"),
        (_, true, _) => format!("{c} DESC, ord DESC"),
        (_, false, _) => format!("{c} ASC, ord ASC"),
    };
    SortOrder { column: c, sql }
}

/// The `ORDER BY` terms of a sort on SQLite or PostgreSQL (for tests of the query plans).
pub fn sort_order_sql(k: SortKey, desc: bool, sqlite: bool) -> String {
    sort_order(k, desc, sqlite).sql
}

/// A conversation list request.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    /// The shared filter (dates in a time zone, agent, topic, satisfaction).
    pub filter: Filter,
    /// Text that must appear in a customer or agent message (case-insensitive).
    pub q: Option<String>,
    /// Sort column.
    pub sort: SortKey,
    /// Descending when true.
    pub desc: bool,
    /// 1-based page.
    pub page: u64,
    /// Rows per page.
    pub page_size: u64,
}

/// A stored conversation as the API lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationRow {
    /// The flat record (same as the CLI's).
    pub record: ConversationRecord,
    /// Last write, RFC 3339.
    pub updated_at: String,
    /// Why the AI analysis failed, if it did.
    pub ai_error: Option<String>,
}

/// A listed conversation is read back from its summary alone (the record is the shared crate's
/// rule, as in the CLI); the other columns only select and order.
pub(super) const ROW_COLUMNS: &str = "ord, summary, analysis_status, ai_error, updated_ms";

/// One condition a filter puts on the `conversations` table.
pub(super) enum Cond {
    /// First message at or after (ms).
    FirstFrom(i64),
    /// First message before (ms).
    FirstBefore(i64),
    /// An agent took part.
    Agent(String),
    /// The topic is among the conversation's.
    Topic(String),
    /// Satisfaction at least.
    MinScore(i64),
    /// Satisfaction at most.
    MaxScore(i64),
}

/// The conditions a filter makes (none for the whole store).
pub(super) fn conditions(f: &Filter) -> Vec<Cond> {
    let range = f.time_range();
    let mut c = Vec::new();
    if range.from_ms != i64::MIN {
        c.push(Cond::FirstFrom(range.from_ms));
    }
    if range.to_ms != i64::MAX {
        c.push(Cond::FirstBefore(range.to_ms));
    }
    c.extend(f.agent.clone().map(Cond::Agent));
    c.extend(f.topic.clone().map(Cond::Topic));
    c.extend(f.lowest_score().map(|m| Cond::MinScore(i64::from(m))));
    c.extend(f.max_satisfaction.map(|m| Cond::MaxScore(i64::from(m))));
    c
}

/// Each condition as ` AND ...`.
pub(super) fn push_conditions<DB: Database>(qb: &mut QueryBuilder<DB>, conds: &[Cond])
where
    i64: for<'a> sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    String: for<'a> sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    for c in conds {
        match c {
            Cond::FirstFrom(ms) => qb.push(" AND first_message_ms >= ").push_bind(*ms),
            Cond::FirstBefore(ms) => qb.push(" AND first_message_ms < ").push_bind(*ms),
            Cond::Agent(a) => qb
                .push(" AND chat_id IN (SELECT chat_id FROM conversation_agents WHERE agent = ")
                .push_bind(a.clone())
                .push(")"),
            Cond::Topic(t) => qb
                .push(" AND chat_id IN (SELECT chat_id FROM conversation_topics WHERE topic = ")
                .push_bind(t.clone())
                .push(")"),
            Cond::MinScore(m) => qb.push(" AND satisfaction_score >= ").push_bind(*m),
            Cond::MaxScore(m) => qb.push(" AND satisfaction_score <= ").push_bind(*m),
        };
    }
}

/// ` WHERE` the filter's conditions.
pub(super) fn push_where<DB: Database>(qb: &mut QueryBuilder<DB>, f: &Filter)
where
    i64: for<'a> sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    String: for<'a> sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    qb.push(" WHERE 1 = 1");
    push_conditions(qb, &conditions(f));
}

pub(super) fn to_row<R: sqlx::Row>(row: &R) -> Result<(i64, ConversationRow)>
where
    for<'r> &'r str: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let summary = stored_summary(
        &col::<String, _>(row, "summary")?,
        &col::<String, _>(row, "analysis_status")?,
    )?;
    Ok((
        col(row, "ord")?,
        ConversationRow {
            record: ConversationRecord::from(&summary),
            updated_at: powerpulse_shared::time::format_timestamp(col(row, "updated_ms")?),
            ai_error: col(row, "ai_error")?,
        },
    ))
}

fn to_message<R: sqlx::Row>(row: &R) -> Result<MessageRecord>
where
    for<'r> &'r str: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<f64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let role = super::role_of(row)?;
    Ok(MessageRecord {
        message_id: col(row, "message_id")?,
        chat_id: col(row, "chat_id")?,
        message_content: col(row, "text")?,
        direction: role.direction().to_owned(),
        role: role.as_str().to_owned(),
        social_create_time: powerpulse_shared::time::format_timestamp(col(row, "time_ms")?),
        agent_info: col(row, "agent")?,
        sentiment_score: col(row, "sentiment")?,
        reply_gap_minutes: col(row, "reply_gap")?,
        segment: col::<i64, _>(row, "segment")? as u32,
    })
}

impl Store {
    /// One conversation's row, without its messages.
    pub async fn conversation_row(&self, chat_id: &str) -> Result<Option<ConversationRow>> {
        with_pool!(self, pool => {
            let mut qb = QueryBuilder::new(format!("SELECT {ROW_COLUMNS} FROM conversations WHERE chat_id = "));
            qb.push_bind(chat_id.to_owned());
            match qb.build().fetch_optional(pool).await? {
                Some(row) => Ok(Some(to_row(&row)?.1)),
                None => Ok(None),
            }
        })
    }

    /// One conversation and its messages in time order.
    pub async fn get_conversation(
        &self,
        chat_id: &str,
    ) -> Result<Option<(ConversationRow, Vec<MessageRecord>)>> {
        let Some(conv) = self.conversation_row(chat_id).await? else {
            return Ok(None);
        };
        with_pool!(self, pool => {
            let msgs = sqlx::query(
                "SELECT chat_id, message_id, time_ms, role, agent, text, sentiment, reply_gap, segment \
                 FROM messages WHERE chat_id = $1 ORDER BY seq",
            )
            .bind(chat_id.to_owned())
            .fetch_all(pool)
            .await?;
            let messages = msgs.iter().map(to_message).collect::<Result<Vec<_>>>()?;
            Ok(Some((conv, messages)))
        })
    }

    /// Conversations after position `after_ord`, in arrival order (CSV streaming).
    pub async fn conversation_page(
        &self,
        f: &Filter,
        after_ord: i64,
        limit: i64,
    ) -> Result<Vec<(i64, ConversationRow)>> {
        with_pool!(self, pool => {
            let mut qb = QueryBuilder::new(format!("SELECT {ROW_COLUMNS} FROM conversations"));
            push_where(&mut qb, f);
            qb.push(" AND ord > ").push_bind(after_ord).push(" ORDER BY ord LIMIT ").push_bind(limit);
            let rows = qb.build().fetch_all(pool).await?;
            rows.iter().map(to_row).collect()
        })
    }

    /// Messages of the selected conversations after (`ord`, `seq`), in arrival then time order.
    pub async fn message_page(
        &self,
        f: &Filter,
        after: (i64, i64),
        limit: i64,
    ) -> Result<Vec<((i64, i64), MessageRecord)>> {
        with_pool!(self, pool => {
            let mut qb = QueryBuilder::new(
                "SELECT c.ord AS ord, m.seq AS seq, m.chat_id AS chat_id, m.message_id AS message_id, \
                 m.time_ms AS time_ms, m.role AS role, m.agent AS agent, m.text AS text, m.sentiment AS sentiment, \
                 m.reply_gap AS reply_gap, m.segment AS segment \
                 FROM messages m JOIN (SELECT chat_id, ord FROM conversations",
            );
            push_where(&mut qb, f);
            qb.push(") c ON c.chat_id = m.chat_id WHERE (c.ord > ")
                .push_bind(after.0)
                .push(" OR (c.ord = ")
                .push_bind(after.0)
                .push(" AND m.seq > ")
                .push_bind(after.1)
                .push(")) ORDER BY c.ord, m.seq LIMIT ")
                .push_bind(limit);
            let rows = qb.build().fetch_all(pool).await?;
            rows.iter()
                .map(|r| Ok(((col(r, "ord")?, col(r, "seq")?), to_message(r)?)))
                .collect()
        })
    }
}

//! The conversation list's count and pages, with or without a text search (`q`).
//!
//! A search on a large store is costly in two opposite ways. A rare term has few matches, which
//! the search index hands over at once, and sorting them is cheap. A frequent term has so many
//! that sorting them all costs seconds, while reading the sort order from the start and testing
//! each row's text finds a page's worth within a few hundred rows. So each page is planned
//! ([`plan`]) from the number of matches and of stored conversations, and a walk that meets
//! fewer matches than expected gives up after a bounded window and leaves the page to the index.
//! Counting a frequent term exactly is itself costly, so a count may stop at a cap and say so
//! ([`Total`]).

use powerpulse_shared::Filter;
use sqlx::{Database, QueryBuilder};

use super::query::{conditions, push_conditions, sort_order, to_row, ROW_COLUMNS};
use super::{with_pool, ConversationRow, Db, ListQuery, Result, Store};

/// The matches a search's count reads before it stops (the default of `SEARCH_COUNT_CAP`),
/// unless an exact total is asked for: more than a 50 MB export holds (about 20,000
/// conversations), so a team's export always gets exact totals, and counted in about 50 ms
/// (100,000 took 75-105 ms at a million stored).
pub const COUNT_CAP: u64 = 50_000;

/// A number of conversations: exact, or a lower bound when a count stopped at its cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Total {
    /// The count (the cap, when not exact).
    pub value: u64,
    /// Whether `value` is the exact count.
    pub exact: bool,
}

/// How a count is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    /// Every match.
    Exact,
    /// Matches of a search up to this many; beyond, a lower bound (counts without a search
    /// are always exact).
    UpTo(u64),
}

/// How a page of a search is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchPlan {
    /// Read conversations in the list's order, testing each one's text; within `window`
    /// conversations, or all of them.
    Walk {
        /// At most this many conversations read before the page is left to the index.
        window: Option<u64>,
    },
    /// Take every match from the search index, then sort them (SQLite; PostgreSQL's planner
    /// makes this choice itself).
    Index,
}

/// What reading one conversation's text in a walk costs, against taking one match from the
/// index and sorting it: about 8 and 4-8 microseconds on SQLite at a million stored
/// conversations, warm (docs/architecture.md).
const WALK_ROW_COST: f64 = 1.5;
/// See [`WALK_ROW_COST`].
const INDEX_ROW_COST: f64 = 1.0;

/// The plan for the first `wanted` rows (offset and page) of a search with `matches` matches
/// (a lower bound when not exact) among `stored` conversations: a walk when the rows it expects
/// to read, matches being spread evenly, cost less than sorting every match, with a window four
/// times that expectation so that a term clustered far down the order costs at most a few times
/// the estimate before the index takes over.
pub fn plan(wanted: u64, matches: Total, stored: u64) -> SearchPlan {
    if matches.value == 0 {
        return SearchPlan::Index;
    }
    let expected = wanted as f64 * stored as f64 / matches.value as f64;
    // A capped count is a lower bound, which errs towards the index: it overstates the walk
    // and understates the sort.
    if expected * WALK_ROW_COST < matches.value as f64 * INDEX_ROW_COST {
        SearchPlan::Walk {
            window: Some((4.0 * expected).ceil() as u64 + 64),
        }
    } else {
        SearchPlan::Index
    }
}

/// A search as the database asks it.
enum Needle {
    /// Three characters or more on SQLite: a phrase of trigrams for the index, and the text.
    Trigram { phrase: String, text: String },
    /// Lowercase text to find in `search_text`.
    Text(String),
}

impl Needle {
    fn new(q: Option<&str>, sqlite: bool) -> Option<Needle> {
        let text = q.map(str::trim).filter(|q| !q.is_empty())?.to_lowercase();
        Some(if sqlite && text.chars().count() >= 3 {
            // A phrase of the query's trigrams is exactly a substring match.
            Needle::Trigram {
                phrase: format!("\"{}\"", text.replace('"', "\"\"")),
                text,
            }
        } else {
            Needle::Text(text)
        })
    }

    fn text(&self) -> &str {
        match self {
            Needle::Trigram { text, .. } | Needle::Text(text) => text,
        }
    }
}

/// ` AND` the text is in the conversation's search text: `instr` on SQLite; on PostgreSQL a
/// `LIKE` on the narrow `conversation_search` table (migration 0010), which its trigram index
/// serves and whose rechecks read small rows.
fn push_contains<DB: Database>(qb: &mut QueryBuilder<DB>, text: &str)
where
    String: for<'a> sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    if DB::NAME == "SQLite" {
        qb.push(" AND instr(search_text, ")
            .push_bind(text.to_owned())
            .push(") > 0");
    } else {
        qb.push(
            " AND EXISTS (SELECT 1 FROM conversation_search s \
             WHERE s.ord = conversations.ord",
        );
        push_like(qb, text);
        qb.push(")");
    }
}

/// ` AND search_text LIKE '%text%'` (PostgreSQL), the text's wildcards escaped.
fn push_like<DB: Database>(qb: &mut QueryBuilder<DB>, text: &str)
where
    String: for<'a> sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    qb.push(" AND search_text LIKE ")
        .push_bind(format!("%{escaped}%"))
        .push(" ESCAPE '\\'");
}

/// ` LIMIT n OFFSET m` of a page.
fn push_page<DB: Database>(qb: &mut QueryBuilder<DB>, lq: &ListQuery)
where
    i64: for<'a> sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    qb.push(" LIMIT ")
        .push_bind(lq.page_size as i64)
        .push(" OFFSET ")
        .push_bind(((lq.page - 1) * lq.page_size) as i64);
}

impl Store {
    fn is_sqlite(&self) -> bool {
        matches!(self.db, Db::Sqlite(_))
    }

    /// Counts the conversations a list request selects.
    pub async fn count_conversations(
        &self,
        f: &Filter,
        q: Option<&str>,
        counting: Counting,
    ) -> Result<Total> {
        let conds = conditions(f);
        let needle = Needle::new(q, self.is_sqlite());
        let cap = match (counting, &needle) {
            (Counting::UpTo(cap), Some(_)) => Some(cap),
            _ => None,
        };
        with_pool!(self, pool => {
            let mut qb = QueryBuilder::new("SELECT COUNT(*) FROM (SELECT 1 FROM ");
            match &needle {
                Some(Needle::Trigram { phrase, .. }) => {
                    // Driven by the index, so a capped count stops after `cap` matches; the
                    // table is joined only when the filter needs its columns.
                    qb.push("conversations_fts");
                    if !conds.is_empty() {
                        qb.push(" JOIN conversations ON conversations.ord = conversations_fts.rowid");
                    }
                    qb.push(" WHERE conversations_fts MATCH ").push_bind(phrase.clone());
                }
                Some(Needle::Text(text)) if !self.is_sqlite() && conds.is_empty() => {
                    // Nothing else filters: the narrow table alone, as its index finds it.
                    qb.push("conversation_search WHERE 1 = 1");
                    push_like(&mut qb, text);
                }
                Some(Needle::Text(text)) => {
                    qb.push("conversations WHERE 1 = 1");
                    push_contains(&mut qb, text);
                }
                None => {
                    qb.push("conversations WHERE 1 = 1");
                }
            }
            push_conditions(&mut qb, &conds);
            if let Some(cap) = cap {
                qb.push(" LIMIT ").push_bind(cap.saturating_add(1).min(i64::MAX as u64) as i64);
            }
            qb.push(") AS selected");
            let n: i64 = qb.build_query_scalar().fetch_one(pool).await?;
            let n = n as u64;
            Ok(match cap {
                Some(cap) if n > cap => Total { value: cap, exact: false },
                _ => Total { value: n, exact: true },
            })
        })
    }

    /// One page of the list; `matches` is the request's count (exact or capped), which plans a
    /// search's page.
    pub async fn list_conversations(
        &self,
        lq: &ListQuery,
        matches: Total,
    ) -> Result<Vec<ConversationRow>> {
        let needle = Needle::new(lq.q.as_deref(), self.is_sqlite());
        let plan = match &needle {
            Some(Needle::Trigram { .. }) => {
                plan(lq.page * lq.page_size, matches, self.stored_span().await?)
            }
            _ => SearchPlan::Walk { window: None },
        };
        let rows = self.find(lq, needle.as_ref(), plan).await?;
        if let SearchPlan::Walk { window: Some(_) } = plan {
            // A bounded walk is the page when it found a whole page, or every match there is.
            let offset = (lq.page - 1) * lq.page_size;
            let complete = rows.len() as u64 == lq.page_size
                || (matches.exact && offset + rows.len() as u64 >= matches.value);
            if !complete {
                return self.find(lq, needle.as_ref(), SearchPlan::Index).await;
            }
        }
        Ok(rows)
    }

    /// One page of the list found by the given plan (PostgreSQL asks one query whatever the
    /// plan); with a bounded walk, the rows it found within its window.
    pub async fn list_by(&self, lq: &ListQuery, plan: SearchPlan) -> Result<Vec<ConversationRow>> {
        let needle = Needle::new(lq.q.as_deref(), self.is_sqlite());
        self.find(lq, needle.as_ref(), plan).await
    }

    /// The page by `plan`, where the search can take it (the trigram index on SQLite).
    async fn find(
        &self,
        lq: &ListQuery,
        needle: Option<&Needle>,
        plan: SearchPlan,
    ) -> Result<Vec<ConversationRow>> {
        match (plan, needle) {
            (SearchPlan::Index, Some(Needle::Trigram { phrase, .. })) => {
                self.sorted_matches(lq, phrase).await
            }
            (SearchPlan::Walk { window: Some(w) }, Some(n @ Needle::Trigram { .. })) => {
                self.walk_within(lq, n, w).await
            }
            (_, n) => self.walk(lq, n).await,
        }
    }

    /// The conversations from the first stored to the last (at least how many are stored).
    async fn stored_span(&self) -> Result<u64> {
        with_pool!(self, pool => {
            let n: Option<i64> = sqlx::query_scalar(
                "SELECT (SELECT MAX(ord) FROM conversations) - (SELECT MIN(ord) FROM conversations) + 1",
            )
            .fetch_one(pool)
            .await?;
            Ok(n.unwrap_or(0).max(0) as u64)
        })
    }

    /// The page read in list order, testing each conversation's text when searching.
    async fn walk(&self, lq: &ListQuery, needle: Option<&Needle>) -> Result<Vec<ConversationRow>> {
        let conds = conditions(&lq.filter);
        let order = sort_order(lq.sort, lq.desc, self.is_sqlite());
        with_pool!(self, pool => {
            let mut qb = QueryBuilder::new(format!("SELECT {ROW_COLUMNS} FROM conversations WHERE 1 = 1"));
            push_conditions(&mut qb, &conds);
            if let Some(needle) = needle {
                push_contains(&mut qb, needle.text());
            }
            qb.push(format_args!(" ORDER BY {}", order.sql));
            push_page(&mut qb, lq);
            let rows = qb.build().fetch_all(pool).await?;
            rows.iter().map(|r| to_row(r).map(|(_, row)| row)).collect()
        })
    }

    /// The rows of the page found within the first `window` conversations in list order
    /// (SQLite): only they are read whole, the window reads the sort key and the text.
    async fn walk_within(
        &self,
        lq: &ListQuery,
        needle: &Needle,
        window: u64,
    ) -> Result<Vec<ConversationRow>> {
        let conds = conditions(&lq.filter);
        let order = sort_order(lq.sort, lq.desc, self.is_sqlite());
        with_pool!(self, pool => {
            let mut qb = QueryBuilder::new(format!(
                "SELECT {ROW_COLUMNS} FROM conversations WHERE ord IN (SELECT ord FROM \
                 (SELECT ord, {c}, search_text FROM conversations WHERE 1 = 1",
                c = order.column
            ));
            push_conditions(&mut qb, &conds);
            qb.push(format_args!(" ORDER BY {} LIMIT ", order.sql))
                .push_bind(window.min(i64::MAX as u64) as i64)
                .push(") AS walked WHERE 1 = 1");
            push_contains(&mut qb, needle.text());
            // No ORDER BY here: SQLite runs the window as a co-routine whose rows come in its
            // order, so the page stops the walk as soon as it is full; ordering again would read
            // the whole window first (4x slower measured). The property tests hold this to the
            // shared list's order.
            push_page(&mut qb, lq);
            qb.push(format_args!(") ORDER BY {}", order.sql));
            let rows = qb.build().fetch_all(pool).await?;
            rows.iter().map(|r| to_row(r).map(|(_, row)| row)).collect()
        })
    }

    /// The page of a search taken from the trigram index (SQLite): every match's sort key is
    /// read and ordered, and only the page's rows are read whole.
    async fn sorted_matches(&self, lq: &ListQuery, phrase: &str) -> Result<Vec<ConversationRow>> {
        let conds = conditions(&lq.filter);
        let order = sort_order(lq.sort, lq.desc, self.is_sqlite());
        with_pool!(self, pool => {
            let mut qb = QueryBuilder::new(format!(
                "SELECT {ROW_COLUMNS} FROM conversations WHERE ord IN (SELECT ord FROM conversations \
                 WHERE ord IN (SELECT rowid FROM conversations_fts WHERE conversations_fts MATCH "
            ));
            qb.push_bind(phrase.to_owned()).push(")");
            push_conditions(&mut qb, &conds);
            qb.push(format_args!(" ORDER BY {}", order.sql));
            push_page(&mut qb, lq);
            qb.push(format_args!(") ORDER BY {}", order.sql));
            let rows = qb.build().fetch_all(pool).await?;
            rows.iter().map(|r| to_row(r).map(|(_, row)| row)).collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(n: u64) -> Total {
        Total {
            value: n,
            exact: true,
        }
    }

    #[test]
    fn frequent_terms_walk_and_rare_ones_use_the_index() {
        // A term in a third of a million conversations: the first page is ~60 rows away.
        assert_eq!(
            plan(20, exact(333_000), 1_000_000),
            SearchPlan::Walk { window: Some(305) }
        );
        // A term in 1 of 1,000: the walk would read 20,000 rows to sort 1,000 matches.
        assert_eq!(plan(20, exact(1_000), 1_000_000), SearchPlan::Index);
        // Deep pages of a frequent term move to the index once the walk gets long.
        assert_eq!(plan(200_000, exact(333_000), 1_000_000), SearchPlan::Index);
    }

    #[test]
    fn a_capped_count_always_walks_and_no_match_asks_the_index() {
        let capped = Total {
            value: COUNT_CAP,
            exact: false,
        };
        assert!(matches!(
            plan(20, capped, 3_000_000),
            SearchPlan::Walk { window: Some(_) }
        ));
        assert_eq!(plan(20, exact(0), 3_000_000), SearchPlan::Index);
    }
}

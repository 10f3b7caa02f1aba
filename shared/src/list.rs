//! The conversation list: text search, sort keys (nulls last, ties in arrival order) and
//! pages. The browser runs this over its dataset; the server runs the same rules in SQL.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::conversation::{Conversation, Role, Summary};
use crate::filters::Filter;
use crate::records::ConversationRecord;

/// Sortable columns of the list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    /// Last write (the server's default; in the browser, arrival order).
    #[default]
    UpdatedAt,
    /// First message time.
    FirstMessageTime,
    /// Satisfaction score.
    SatisfactionScore,
    /// Average sentiment.
    AvgSentiment,
    /// Message count.
    TotalMessages,
    /// Mean reply gap.
    AvgResponseTimeMinutes,
}

impl SortKey {
    /// Every key with its API name.
    pub const ALL: [(SortKey, &'static str); 6] = [
        (SortKey::UpdatedAt, "updated_at"),
        (SortKey::FirstMessageTime, "first_message_time"),
        (SortKey::SatisfactionScore, "satisfaction_score"),
        (SortKey::AvgSentiment, "avg_sentiment"),
        (SortKey::TotalMessages, "total_messages"),
        (SortKey::AvgResponseTimeMinutes, "avg_response_time_minutes"),
    ];

    /// Parses the API's `sort_by` value.
    pub fn parse(s: &str) -> Option<SortKey> {
        Self::ALL.iter().find(|(_, n)| *n == s).map(|(k, _)| *k)
    }

    /// The API name.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map(|(_, n)| *n)
            .unwrap_or("updated_at")
    }

    /// Whether the column can be empty (empty values sort last either way).
    pub fn nullable(self) -> bool {
        matches!(
            self,
            SortKey::SatisfactionScore | SortKey::AvgSentiment | SortKey::AvgResponseTimeMinutes
        )
    }

    fn value(self, s: &Summary, ord: usize) -> Option<f64> {
        match self {
            SortKey::UpdatedAt => Some(ord as f64),
            SortKey::FirstMessageTime => Some(s.first_message_ms as f64),
            SortKey::SatisfactionScore => s.analysis.satisfaction_score.map(f64::from),
            SortKey::AvgSentiment => s.analysis.avg_sentiment,
            SortKey::TotalMessages => Some(f64::from(s.total_messages)),
            SortKey::AvgResponseTimeMinutes => s.avg_response_time_minutes(),
        }
    }
}

/// A list request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListQuery {
    /// Text that must appear in a customer or agent message (case-insensitive).
    pub q: String,
    /// Sort column.
    pub sort: SortKey,
    /// Descending.
    pub desc: bool,
    /// 1-based page.
    pub page: usize,
    /// Rows per page.
    pub page_size: usize,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self {
            q: String::new(),
            sort: SortKey::UpdatedAt,
            desc: true,
            page: 1,
            page_size: 25,
        }
    }
}

/// A page of the list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListPage {
    /// The rows.
    pub rows: Vec<ConversationRecord>,
    /// Rows matching.
    pub total: usize,
    /// This page.
    pub page: usize,
    /// Rows per page.
    pub page_size: usize,
}

/// The text the list's `q` searches: customer and agent messages, lowercased, one per line (the
/// server stores and indexes exactly this).
pub fn search_text(c: &Conversation) -> String {
    let mut s = String::new();
    for m in c.messages.iter().filter(|m| m.role != Role::Bot) {
        s.push_str(&m.text.to_lowercase());
        s.push('\n');
    }
    s
}

/// Whether `needle` (already lowercase) is in the conversation's [`search_text`].
pub fn contains_text(c: &Conversation, needle: &str) -> bool {
    if needle.contains('\n') {
        return search_text(c).contains(needle);
    }
    // Without a line break the needle cannot span two messages of the search text, so each
    // message is asked alone and the first hit ends the search (no whole text built per query).
    needle.is_empty()
        || c.messages
            .iter()
            .filter(|m| m.role != Role::Bot)
            .any(|m| m.text.to_lowercase().contains(needle))
}

/// One page of the conversations selected by `filter` and `query`.
pub fn list_page(conversations: &[Conversation], filter: &Filter, query: &ListQuery) -> ListPage {
    let range = filter.time_range();
    let needle = query.q.trim().to_lowercase();
    let mut hits: Vec<(usize, &Conversation)> = conversations
        .iter()
        .enumerate()
        .filter(|(_, c)| filter.matches(&c.summary, range) && contains_text(c, &needle))
        .collect();
    let key = query.sort;
    let dir = |o: Ordering| if query.desc { o.reverse() } else { o };
    hits.sort_by(|(ia, a), (ib, b)| {
        match (key.value(&a.summary, *ia), key.value(&b.summary, *ib)) {
            (Some(x), Some(y)) => dir(x.total_cmp(&y)).then_with(|| dir(ia.cmp(ib))),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => dir(ia.cmp(ib)),
        }
    });
    let page_size = query.page_size.clamp(1, 100);
    let page = query.page.max(1);
    let rows = hits
        .iter()
        .skip((page - 1).saturating_mul(page_size))
        .take(page_size)
        .map(|(_, c)| ConversationRecord::from(&c.summary))
        .collect();
    ListPage {
        rows,
        total: hits.len(),
        page,
        page_size,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{generate, SynthOptions};

    #[test]
    fn a_search_is_a_substring_of_the_search_text_whatever_the_needle() {
        let d = crate::process(
            &generate(&SynthOptions {
                conversations: 60,
                ..Default::default()
            }),
            &Default::default(),
        )
        .unwrap();
        for c in &d.conversations {
            let text = search_text(c);
            let lines: Vec<&str> = text.lines().collect();
            let mut needles = vec!["zqxj".to_owned(), "power".to_owned()];
            if let [a, b, ..] = lines[..] {
                // Across two messages, and within one.
                let tail: String = a
                    .chars()
                    .rev()
                    .take(3)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                let head: String = b.chars().take(3).collect();
                needles.push(format!("{tail}\n{head}"));
                needles.push(head);
            }
            for n in needles {
                assert_eq!(contains_text(c, &n), text.contains(&n), "{n:?}");
            }
        }
    }

    #[test]
    fn pages_sort_with_nulls_last_and_search() {
        let d = crate::process(
            &generate(&SynthOptions {
                conversations: 120,
                ..Default::default()
            }),
            &Default::default(),
        )
        .unwrap();
        let all = Filter::default();
        for (key, _) in SortKey::ALL {
            for desc in [false, true] {
                let q = ListQuery {
                    sort: key,
                    desc,
                    page_size: 100,
                    ..ListQuery::default()
                };
                let p = list_page(&d.conversations, &all, &q);
                assert_eq!(p.total, d.conversations.len());
                let vals: Vec<Option<f64>> = p
                    .rows
                    .iter()
                    .map(|r| match key {
                        SortKey::SatisfactionScore => r.satisfaction_score.map(f64::from),
                        SortKey::AvgSentiment => r.avg_sentiment,
                        SortKey::AvgResponseTimeMinutes => r.avg_response_time_minutes,
                        SortKey::TotalMessages => Some(f64::from(r.total_messages)),
                        _ => Some(0.0),
                    })
                    .collect();
                let firsts_null = vals.iter().position(Option::is_none).unwrap_or(vals.len());
                assert!(vals[firsts_null..].iter().all(Option::is_none), "{key:?}");
                for w in vals[..firsts_null].windows(2) {
                    let (a, b) = (w[0].unwrap(), w[1].unwrap());
                    assert!(if desc { a >= b } else { a <= b }, "{key:?} {desc}");
                }
            }
        }
        let q = ListQuery {
            q: "TOKEN".into(),
            page_size: 100,
            ..ListQuery::default()
        };
        let p = list_page(&d.conversations, &all, &q);
        assert!(p.total > 0 && p.total < d.conversations.len());
        let beyond = list_page(
            &d.conversations,
            &all,
            &ListQuery {
                page: 99,
                ..ListQuery::default()
            },
        );
        assert!(beyond.rows.is_empty() && beyond.total == d.conversations.len());
    }
}

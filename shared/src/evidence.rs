//! Evidence: the exact conversations (or reply gaps) behind a figure, so a chart bar, a KPI or
//! a table row opens the list it counts.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::filters::Filter;
use crate::hours::Clock;
use crate::metrics::gap_bucket;
use crate::periods::Period;
use crate::report::ReportOptions;
use crate::service::{ServiceTally, Target};
use crate::time::{local_date, local_weekday_hour, MS_PER_MINUTE};
use crate::{Conversation, Role, Summary};

/// Most items one answer lists (all are counted).
pub const MAX_ITEMS: usize = 1_000;

/// What a figure counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Evidence {
    /// Conversations whose first message falls on a local day (a bar of the daily chart).
    Day {
        /// The day.
        date: NaiveDate,
    },
    /// Conversations of a period (`2025-W49`).
    Period {
        /// Day, week or month.
        period: Period,
        /// The period's label.
        label: String,
    },
    /// Conversations judged not satisfied (the CSAT card's misses).
    Unsatisfied,
    /// Conversations with an issue not resolved on first contact (the FCR card's misses).
    NotResolved,
    /// Conversations with a topic.
    Topic {
        /// The topic.
        topic: String,
    },
    /// Conversations an agent replied in.
    Agent {
        /// The agent.
        agent: String,
    },
    /// The reply gaps of a histogram bar (index from 0, as `reply_gap_histogram` lists them).
    GapBucket {
        /// The bar.
        bucket: usize,
    },
    /// First responses or reply gaps that missed their target.
    Breaches {
        /// Which target.
        target: Target,
    },
}

/// [`Evidence`] as query parameters (`kind=day&date=2025-12-01`, `kind=gap_bucket&bucket=3`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct EvidenceParams {
    /// `day`, `period`, `unsatisfied`, `not_resolved`, `topic`, `agent`, `gap_bucket` or
    /// `breaches`.
    pub kind: Option<String>,
    /// For `day`: the local day (YYYY-MM-DD).
    pub date: Option<String>,
    /// For `period`: `day`, `week` or `month`.
    pub period: Option<String>,
    /// For `period`: its label (`2025-W49`).
    pub label: Option<String>,
    /// For `topic`.
    pub topic: Option<String>,
    /// For `agent`.
    pub agent: Option<String>,
    /// For `gap_bucket`: the histogram bar, from 0.
    pub bucket: Option<usize>,
    /// For `breaches`: `first_response` or `reply_gap`.
    pub target: Option<String>,
}

impl EvidenceParams {
    /// The evidence these parameters name; the error says which one is missing or wrong.
    pub fn to_evidence(&self) -> Result<Evidence, String> {
        let need = |v: &Option<String>, name: &str| {
            v.clone()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("evidence of this kind needs {name}"))
        };
        match self.kind.as_deref().unwrap_or_default() {
            "day" => Ok(Evidence::Day {
                date: crate::time::parse_date(&need(&self.date, "date")?)?,
            }),
            "period" => {
                let period: Period = need(&self.period, "period")?.parse()?;
                let label = need(&self.label, "label")?;
                if period.parse_label(&label).is_none() {
                    return Err(format!("{label:?} is not a {period}"));
                }
                Ok(Evidence::Period { period, label })
            }
            "unsatisfied" => Ok(Evidence::Unsatisfied),
            "not_resolved" => Ok(Evidence::NotResolved),
            "topic" => Ok(Evidence::Topic {
                topic: need(&self.topic, "topic")?,
            }),
            "agent" => Ok(Evidence::Agent {
                agent: need(&self.agent, "agent")?,
            }),
            "gap_bucket" => match self.bucket {
                Some(bucket) if bucket <= crate::metrics::GAP_BUCKETS => {
                    Ok(Evidence::GapBucket { bucket })
                }
                Some(b) => Err(format!(
                    "bucket {b} is not a bar of the histogram (0 to {})",
                    crate::metrics::GAP_BUCKETS
                )),
                None => Err("evidence of this kind needs bucket".into()),
            },
            "breaches" => Ok(Evidence::Breaches {
                target: match need(&self.target, "target")?.as_str() {
                    "first_response" => Target::FirstResponse,
                    "reply_gap" => Target::ReplyGap,
                    t => return Err(format!("unknown target {t:?} (first_response or reply_gap)")),
                },
            }),
            k => Err(format!(
                "unknown evidence kind {k:?} (day, period, unsatisfied, not_resolved, topic, agent, gap_bucket, breaches)"
            )),
        }
    }
}

/// One item of the evidence: a conversation, or one reply gap of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EvidenceItem {
    /// The conversation.
    pub chat_id: String,
    /// Its first message (epoch ms).
    pub first_message_ms: i64,
    /// For a gap: the customer's message (epoch ms).
    pub customer_ms: Option<i64>,
    /// For a gap: the agent's reply (epoch ms).
    pub reply_ms: Option<i64>,
    /// For a gap: its minutes.
    pub minutes: Option<f64>,
}

/// The items behind a figure.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EvidenceList {
    /// How many items the figure counts.
    pub total: u64,
    /// The first [`MAX_ITEMS`] of them by first message, chat and gap.
    pub items: Vec<EvidenceItem>,
}

impl EvidenceList {
    /// Adds the items of another list (of other conversations).
    pub fn extend(&mut self, other: EvidenceList) {
        self.total += other.total - other.items.len() as u64;
        for item in other.items {
            self.push(item);
        }
    }

    fn push(&mut self, item: EvidenceItem) {
        self.total += 1;
        self.items.push(item);
        if self.items.len() >= 2 * MAX_ITEMS {
            self.finish();
        }
    }

    /// Orders the items (by first message, chat, then the gap's start) and keeps the first
    /// [`MAX_ITEMS`]: the same list whatever order the conversations were read in.
    pub fn finish(&mut self) {
        self.items.sort_by(|a, b| {
            (a.first_message_ms, &a.chat_id, a.customer_ms).cmp(&(
                b.first_message_ms,
                &b.chat_id,
                b.customer_ms,
            ))
        });
        self.items.truncate(MAX_ITEMS);
    }
}

fn conversation(s: &Summary) -> EvidenceItem {
    EvidenceItem {
        chat_id: s.chat_id.clone(),
        first_message_ms: s.first_message_ms,
        customer_ms: None,
        reply_ms: None,
        minutes: None,
    }
}

/// The items behind `what` among the conversations `filter` selects; `opts` gives the
/// schedule and targets breaches are judged by.
pub fn evidence<'a>(
    summaries: impl IntoIterator<Item = &'a Summary>,
    filter: &Filter,
    what: &Evidence,
    opts: &ReportOptions,
) -> EvidenceList {
    let range = filter.time_range();
    let mut out = EvidenceList::default();
    let mut clock = Clock::new(&opts.schedule);
    let period_start = match what {
        Evidence::Period { period, label } => period.parse_label(label).map(|d| (*period, d)),
        _ => None,
    };
    for s in summaries.into_iter().filter(|s| filter.matches(s, range)) {
        let day = || local_date(s.first_message_ms, filter.tz);
        let counted = match what {
            Evidence::Day { date } => day() == *date,
            Evidence::Period { .. } => {
                period_start.is_some_and(|(p, start)| p.start_of(day()) == start)
            }
            Evidence::Unsatisfied => s.analysis.is_satisfied() == Some(false),
            Evidence::NotResolved => s.analysis.first_contact_resolution == Some(false),
            Evidence::Topic { topic } => s.has_topic(topic),
            Evidence::Agent { agent } => s.has_agent(agent),
            Evidence::GapBucket { bucket } => {
                for r in &s.replies {
                    let Some(g) = r.gap else { continue };
                    if gap_bucket(g) == *bucket {
                        out.push(EvidenceItem {
                            customer_ms: Some(r.at_ms - (g * MS_PER_MINUTE).round() as i64),
                            reply_ms: Some(r.at_ms),
                            minutes: Some(g),
                            ..conversation(s)
                        });
                    }
                }
                false
            }
            Evidence::Breaches { target } => {
                let mut t = ServiceTally::default();
                t.add(s, None, &mut clock, &opts.targets, &mut |b| {
                    if b.target == *target {
                        out.push(EvidenceItem {
                            customer_ms: Some(b.customer_ms),
                            reply_ms: b.reply_ms,
                            minutes: b.minutes,
                            ..conversation(s)
                        });
                    }
                });
                false
            }
        };
        if counted {
            out.push(conversation(s));
        }
    }
    out.finish();
    out
}

/// The customer messages behind one cell of the weekday x hour heatmap (weekday 0 is Monday,
/// both in the filter's zone), each with the first agent reply after it, if one came. Needs
/// the messages, so only the app (which holds them) answers it.
pub fn hour_evidence(
    conversations: &[Conversation],
    filter: &Filter,
    weekday: u8,
    hour: u8,
) -> EvidenceList {
    let range = filter.time_range();
    let mut out = EvidenceList::default();
    for c in conversations
        .iter()
        .filter(|c| filter.matches(&c.summary, range))
    {
        // Read from the end, so each message knows the next agent reply in one pass.
        let mut reply = None;
        for m in c.messages.iter().rev() {
            match m.role {
                Role::Agent => reply = Some(m.time_ms),
                Role::Customer if local_weekday_hour(m.time_ms, filter.tz) == (weekday, hour) => {
                    out.push(EvidenceItem {
                        customer_ms: Some(m.time_ms),
                        reply_ms: reply,
                        minutes: reply.map(|r| (r - m.time_ms) as f64 / MS_PER_MINUTE),
                        ..conversation(&c.summary)
                    })
                }
                _ => {}
            }
        }
    }
    out.finish();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hours::Schedule;
    use crate::metrics::reply_gap_histogram;
    use crate::time::Tz;
    use crate::{process, Options};

    fn dataset() -> crate::Dataset {
        let export = br#"{
          "a": [{"MESSAGE_CONTENT": "no power", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-12-01T10:00:00.000Z"},
                {"MESSAGE_CONTENT": "sorry, on it", "DIRECTION": "to_client", "SOCIAL_CREATE_TIME": "2025-12-01T10:03:00.000Z", "AGENT_USERNAME": "amina"}],
          "b": [{"MESSAGE_CONTENT": "token failed again, useless", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-12-01T23:00:00.000Z"},
                {"MESSAGE_CONTENT": "please retry", "DIRECTION": "to_client", "SOCIAL_CREATE_TIME": "2025-12-02T01:00:00.000Z", "AGENT_USERNAME": "brian"}],
          "c": [{"MESSAGE_CONTENT": "hello", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-12-09T10:00:00.000Z"}]
        }"#;
        process(export, &Options::default()).unwrap()
    }

    fn ids(l: &EvidenceList) -> Vec<&str> {
        l.items.iter().map(|i| i.chat_id.as_str()).collect()
    }

    #[test]
    fn each_figure_opens_what_it_counts() {
        let d = dataset();
        let f = Filter::default();
        let opts = ReportOptions::new(Schedule::always(Tz::UTC));
        let of = |w: Evidence| evidence(d.summaries(), &f, &w, &opts);
        let day = NaiveDate::from_ymd_opt(2025, 12, 1).unwrap();
        assert_eq!(ids(&of(Evidence::Day { date: day })), ["a", "b"]);
        // In Nairobi (UTC+3), b's first message is on 2 December.
        let nairobi = Filter {
            tz: Tz::from_name("Africa/Nairobi").unwrap(),
            ..Filter::default()
        };
        let l = evidence(d.summaries(), &nairobi, &Evidence::Day { date: day }, &opts);
        assert_eq!(ids(&l), ["a"]);
        let week = Evidence::Period {
            period: Period::Week,
            label: "2025-W50".into(),
        };
        assert_eq!(ids(&of(week)), ["c"]);
        assert_eq!(
            ids(&of(Evidence::Agent {
                agent: "brian".into()
            })),
            ["b"]
        );
        // Every histogram bar opens as many gaps as it counts.
        let bars = reply_gap_histogram(d.summaries(), &f);
        for (i, bar) in bars.iter().enumerate() {
            let l = of(Evidence::GapBucket { bucket: i });
            assert_eq!(l.total, bar.count, "bar {}", bar.label);
        }
        // Two hours is in the 2-4 h bar (bounds are exclusive above).
        let late = of(Evidence::GapBucket { bucket: 6 });
        assert_eq!(ids(&late), ["b"]);
        assert_eq!(late.items[0].minutes, Some(120.0));
        assert_eq!(
            late.items[0].reply_ms.unwrap() - late.items[0].customer_ms.unwrap(),
            7_200_000
        );
        // Breaches: b waited 2 h (> 15 min), c was never answered.
        let misses = of(Evidence::Breaches {
            target: Target::FirstResponse,
        });
        assert_eq!(ids(&misses), ["b", "c"]);
        assert_eq!(misses.items[1].reply_ms, None);
        let unresolved = of(Evidence::NotResolved);
        let want: Vec<&str> = d
            .summaries()
            .filter(|s| s.analysis.first_contact_resolution == Some(false))
            .map(|s| s.chat_id.as_str())
            .collect();
        assert_eq!(ids(&unresolved), want);
    }

    #[test]
    fn parameters_name_the_evidence() {
        let p = |kind: &str| EvidenceParams {
            kind: Some(kind.into()),
            ..EvidenceParams::default()
        };
        assert_eq!(
            EvidenceParams {
                date: Some("2025-12-01".into()),
                ..p("day")
            }
            .to_evidence(),
            Ok(Evidence::Day {
                date: NaiveDate::from_ymd_opt(2025, 12, 1).unwrap()
            })
        );
        assert_eq!(
            EvidenceParams {
                bucket: Some(3),
                ..p("gap_bucket")
            }
            .to_evidence(),
            Ok(Evidence::GapBucket { bucket: 3 })
        );
        assert!(p("day").to_evidence().unwrap_err().contains("needs date"));
        assert!(EvidenceParams {
            bucket: Some(99),
            ..p("gap_bucket")
        }
        .to_evidence()
        .unwrap_err()
        .contains("not a bar"));
        assert!(p("everything")
            .to_evidence()
            .unwrap_err()
            .contains("unknown evidence kind"));
        assert!(EvidenceParams {
            period: Some("week".into()),
            label: Some("2025-12".into()),
            ..p("period")
        }
        .to_evidence()
        .unwrap_err()
        .contains("is not a week"));
    }

    #[test]
    fn a_heatmap_cell_opens_its_customer_messages() {
        let d = dataset();
        let f = Filter::default();
        let grid = crate::metrics::weekday_hour_heatmap(&d.conversations, &f);
        // 2025-12-01 was a Monday: a wrote at 10:00 UTC, answered 3 minutes later.
        let l = hour_evidence(&d.conversations, &f, 0, 10);
        assert_eq!(l.total, grid[0][10]);
        assert_eq!(ids(&l), ["a"]);
        assert_eq!(l.items[0].minutes, Some(3.0));
        // c, the next Tuesday 10:00, was never answered.
        let l = hour_evidence(&d.conversations, &f, 1, 10);
        assert_eq!((ids(&l), l.items[0].reply_ms), (vec!["c"], None));
        let total: u64 = (0..7u8)
            .flat_map(|w| (0..24u8).map(move |h| (w, h)))
            .map(|(w, h)| hour_evidence(&d.conversations, &f, w, h).total)
            .sum();
        assert_eq!(total, grid.iter().flatten().sum::<u64>());
    }
}

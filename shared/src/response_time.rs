//! Time facts of a conversation (spec sections 3 and 4): reply gaps, customer turns, first
//! response and segments, plus the statistics (mean, median, p90) reported over them.

use serde::{Deserialize, Serialize};

use crate::conversation::{Message, Reply, Role, Summary, Turn};
use crate::time::MS_PER_MINUTE;

/// The default segment gap: 24 hours.
pub const DEFAULT_SEGMENT_GAP_MS: i64 = 24 * 3600 * 1000;

/// Meta's silence that makes a customer's message open a new thread: 24 hours in which neither
/// side wrote (fixed by Meta, whatever the segment gap).
pub const META_THREAD_GAP_MS: i64 = 24 * 3600 * 1000;

/// Fills each message's reply gap and segment, and returns the summary's time facts
/// (counts, agents, replies, turns, segments). Messages must be sorted by time.
pub fn time_facts(chat_id: &str, messages: &mut [Message], segment_gap_ms: i64) -> Summary {
    let mut s = Summary {
        chat_id: chat_id.to_owned(),
        first_message_ms: messages.first().map_or(0, |m| m.time_ms),
        last_message_ms: messages.last().map_or(0, |m| m.time_ms),
        total_messages: messages.len() as u32,
        ..Summary::default()
    };
    let mut last_customer: Option<i64> = None;
    let mut turn_start: Option<(i64, bool)> = None;
    let mut prev_time: Option<i64> = None;
    let mut segment = 0u32;
    for m in messages.iter_mut() {
        if let Some(p) = prev_time {
            if m.time_ms - p >= segment_gap_ms {
                segment += 1;
            }
        }
        let opens_thread = prev_time.is_none_or(|p| m.time_ms - p >= META_THREAD_GAP_MS);
        prev_time = Some(m.time_ms);
        m.segment = segment;
        match m.role {
            Role::Customer => {
                s.customer_messages += 1;
                last_customer = Some(m.time_ms);
                turn_start.get_or_insert((m.time_ms, opens_thread));
                if segment > 0 {
                    s.customer_came_back = true;
                }
            }
            Role::Agent => {
                s.agent_messages += 1;
                let name = m.agent.as_deref().unwrap_or_default();
                let agent = match s.agents.iter().position(|a| a == name) {
                    Some(i) => i as u32,
                    None => {
                        s.agents.push(name.to_owned());
                        (s.agents.len() - 1) as u32
                    }
                };
                let gap = last_customer.map(|c| minutes(m.time_ms - c));
                m.reply_gap_minutes = gap;
                s.replies.push(Reply {
                    agent,
                    gap,
                    at_ms: m.time_ms,
                });
                if let Some((start, opens_thread)) = turn_start.take() {
                    s.turns.push(Turn {
                        minutes: Some(minutes(m.time_ms - start)),
                        agent: Some(agent),
                        at_ms: start,
                        opens_thread,
                    });
                }
            }
            Role::Bot => s.bot_messages += 1,
        }
    }
    if let Some((start, opens_thread)) = turn_start {
        s.turns.push(Turn {
            minutes: None,
            agent: None,
            at_ms: start,
            opens_thread,
        });
    }
    s.segments = if messages.is_empty() { 0 } else { segment + 1 };
    s
}

fn minutes(ms: i64) -> f64 {
    ms as f64 / MS_PER_MINUTE
}

/// Count, mean, median and p90 of a set of durations in minutes.
///
/// `median` is the middle value (the mean of the two middle values for an even count);
/// `p90` is the nearest-rank 90th percentile: the value at rank ceil(0.9 n) in ascending order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stats {
    /// How many values.
    pub n: u64,
    /// Arithmetic mean; `null` when n = 0.
    #[serde(serialize_with = "crate::round::opt2")]
    pub mean: Option<f64>,
    /// Median; `null` when n = 0.
    #[serde(serialize_with = "crate::round::opt2")]
    pub median: Option<f64>,
    /// Nearest-rank 90th percentile; `null` when n = 0.
    #[serde(serialize_with = "crate::round::opt2")]
    pub p90: Option<f64>,
}

impl Stats {
    /// Statistics of `values` (reordered in place).
    pub fn of(values: &mut [f64]) -> Stats {
        let n = values.len();
        if n == 0 {
            return Stats::default();
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let cmp = |a: &f64, b: &f64| a.total_cmp(b);
        let rank = (n * 9).div_ceil(10).max(1);
        let p90 = *values.select_nth_unstable_by(rank - 1, cmp).1;
        let mid = n / 2;
        let upper = *values.select_nth_unstable_by(mid, cmp).1;
        let median = if n % 2 == 1 {
            upper
        } else {
            // After the selection, everything before `mid` is <= upper; the lower middle is their max.
            let lower = values[..mid]
                .iter()
                .copied()
                .fold(f64::NEG_INFINITY, f64::max);
            (lower + upper) / 2.0
        };
        Stats {
            n: n as u64,
            mean: Some(mean),
            median: Some(median),
            p90: Some(p90),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_follow_the_definitions() {
        assert_eq!(Stats::of(&mut []), Stats::default());
        let s = Stats::of(&mut [5.0]);
        assert_eq!(
            (s.n, s.mean, s.median, s.p90),
            (1, Some(5.0), Some(5.0), Some(5.0))
        );
        let s = Stats::of(&mut [4.0, 1.0, 3.0, 2.0]);
        assert_eq!(s.median, Some(2.5));
        assert_eq!(s.mean, Some(2.5));
        assert_eq!(s.p90, Some(4.0));
        // Ten values: rank ceil(9) = 9 -> the 9th smallest.
        let mut v: Vec<f64> = (1..=10).rev().map(f64::from).collect();
        assert_eq!(Stats::of(&mut v).p90, Some(9.0));
        // Eleven values: rank ceil(9.9) = 10.
        let mut v: Vec<f64> = (1..=11).map(f64::from).collect();
        let s = Stats::of(&mut v);
        assert_eq!((s.p90, s.median), (Some(10.0), Some(6.0)));
    }

    #[test]
    fn a_customer_writing_in_a_later_segment_came_back() {
        let day = 24 * 3600 * 1000;
        let facts = |roles: &[(Role, i64)]| {
            let json: Vec<String> = roles
                .iter()
                .map(|(r, t)| {
                    let (dir, agent) = match r {
                        Role::Customer => ("to_company", ""),
                        _ => ("to_client", r#", "AGENT_USERNAME": "amina""#),
                    };
                    let time = chrono::DateTime::from_timestamp_millis(1_755_000_000_000 + t)
                        .unwrap()
                        .to_rfc3339();
                    format!(r#"{{"MESSAGE_CONTENT": "x{t}", "DIRECTION": "{dir}", "SOCIAL_CREATE_TIME": "{time}"{agent}}}"#)
                })
                .collect();
            let d = crate::process(
                format!("{{\"c\": [{}]}}", json.join(", ")).as_bytes(),
                &Default::default(),
            )
            .unwrap();
            let s = &d.conversations[0].summary;
            (s.segments, s.customer_came_back)
        };
        use Role::{Agent, Customer};
        assert_eq!(facts(&[(Customer, 0), (Agent, 300_000)]), (1, false));
        assert_eq!(
            facts(&[(Customer, 0), (Agent, 300_000), (Customer, 2 * day)]),
            (2, true)
        );
        assert_eq!(
            facts(&[(Customer, 0), (Agent, 2 * day)]),
            (2, false),
            "only the agent wrote later"
        );
        assert_eq!(
            facts(&[(Customer, 0), (Customer, day - 1)]),
            (1, false),
            "just under the gap"
        );
    }
}

//! Meta's page responsiveness: the response rate and response time Meta shows on a page, and
//! whether the page would earn the "Very responsive to messages" badge.
//!
//! Meta's rule, as its help centre words it: a message counts if it is the first a person
//! sends after neither side wrote for 24 hours; the rate is the share of those answered, over
//! the 30 days before the last one that counted (the last 10 when those 30 days hold fewer,
//! all when there are fewer than 10); the time is the mean of the fastest 90 % of the
//! responses to them. The badge asks for a 90 % rate and a time of 15 minutes or less. Only an
//! agent's reply answers (bot and away messages do not count for Meta either).

use serde::{Deserialize, Serialize};

use crate::time::MS_PER_MINUTE;
use crate::Summary;

/// The window Meta looks back over from the last counted message.
pub const WINDOW_MS: i64 = 30 * 24 * 3600 * 1000;
/// Fewest messages Meta bases the figures on (when the history has that many).
pub const MIN_MESSAGES: usize = 10;
/// The badge's response rate, in percent.
pub const BADGE_RATE: f64 = 90.0;
/// The badge's response time, in minutes.
pub const BADGE_MINUTES: f64 = 15.0;

/// A page's responsiveness as Meta computes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Responsiveness {
    /// Messages that counted (opened a thread) in the window.
    pub messages: u64,
    /// Of those, answered by an agent.
    pub answered: u64,
    /// answered / messages in percent; `null` without messages.
    #[serde(serialize_with = "crate::round::opt2")]
    pub response_rate: Option<f64>,
    /// Mean minutes of the fastest 90 % of the responses; `null` without responses.
    #[serde(serialize_with = "crate::round::opt2")]
    pub response_time_minutes: Option<f64>,
    /// First instant of the window (epoch ms).
    pub from_ms: Option<i64>,
    /// The last counted message (epoch ms).
    pub to_ms: Option<i64>,
    /// Whether the page would show "Very responsive to messages".
    pub very_responsive: bool,
    /// Percentage points the rate is short of 90 (0 when it is there).
    #[serde(serialize_with = "crate::round::f2")]
    pub rate_short_by: f64,
    /// Minutes the time is over 15 (0 when it is there).
    #[serde(serialize_with = "crate::round::f2")]
    pub minutes_over_by: f64,
}

/// Collects the thread openings of conversations.
#[derive(Debug, Clone, Default)]
pub struct Openings {
    /// (when the customer wrote, minutes to the agent's reply).
    list: Vec<(i64, Option<f64>)>,
}

impl Openings {
    /// Counts the thread openings of one conversation.
    pub fn add(&mut self, s: &Summary) {
        self.list.extend(
            s.turns
                .iter()
                .filter(|t| t.opens_thread && t.at_ms != 0)
                .map(|t| (t.at_ms, t.minutes)),
        );
    }

    /// Adds the openings another collection holds (the figures do not depend on the order).
    pub fn merge(&mut self, other: Openings) {
        self.list.extend(other.list);
    }

    /// Meta's figures over the openings collected.
    pub fn responsiveness(mut self) -> Responsiveness {
        // A total order, so conversations read in any order give the same window.
        self.list.sort_unstable_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| a.1.unwrap_or(-1.0).total_cmp(&b.1.unwrap_or(-1.0)))
        });
        let Some(&(last, _)) = self.list.last() else {
            return Responsiveness {
                rate_short_by: BADGE_RATE,
                ..Responsiveness::default()
            };
        };
        let in_window = self.list.partition_point(|&(at, _)| at <= last - WINDOW_MS);
        let start = in_window.min(self.list.len().saturating_sub(MIN_MESSAGES));
        let window = &self.list[start..];
        let mut times: Vec<f64> = window.iter().filter_map(|&(_, m)| m).collect();
        times.sort_unstable_by(f64::total_cmp);
        let fastest = (times.len() * 9).div_ceil(10);
        let response_time =
            (fastest > 0).then(|| times[..fastest].iter().sum::<f64>() / fastest as f64);
        let rate = times.len() as f64 * 100.0 / window.len() as f64;
        let minutes_over_by = response_time.map_or(0.0, |t| (t - BADGE_MINUTES).max(0.0));
        Responsiveness {
            messages: window.len() as u64,
            answered: times.len() as u64,
            response_rate: Some(rate),
            response_time_minutes: response_time,
            from_ms: Some(window[0].0),
            to_ms: Some(last),
            very_responsive: rate >= BADGE_RATE
                && response_time.is_some_and(|t| t <= BADGE_MINUTES),
            rate_short_by: (BADGE_RATE - rate).max(0.0),
            minutes_over_by,
        }
    }
}

/// Minutes as Meta shows them (for display: `12 min`, `3 h`).
pub fn minutes_label(m: f64) -> String {
    if m < 60.0 {
        format!("{:.0} min", m.max(0.0))
    } else if m < 24.0 * 60.0 {
        format!("{:.1} h", m / 60.0)
    } else {
        format!("{:.1} days", m * MS_PER_MINUTE / 86_400_000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::Turn;

    const DAY: i64 = 86_400_000;

    fn openings(list: &[(i64, Option<f64>)]) -> Openings {
        let mut o = Openings::default();
        let mut s = Summary {
            turns: list
                .iter()
                .map(|&(at, m)| Turn {
                    minutes: m,
                    agent: m.map(|_| 0),
                    at_ms: at,
                    opens_thread: true,
                })
                .collect(),
            ..Summary::default()
        };
        // A follow-up turn of the same thread does not count.
        s.turns.push(Turn {
            minutes: Some(500.0),
            agent: Some(0),
            at_ms: 5,
            opens_thread: false,
        });
        o.add(&s);
        o
    }

    #[test]
    fn the_fastest_ninety_percent_over_thirty_days() {
        // Twenty openings in the last 30 days: 18 answered in 1..18 min, one in 600, one not.
        let t0 = 1_760_000_000_000;
        let mut list: Vec<(i64, Option<f64>)> = (0..18)
            .map(|i| (t0 + i * DAY, Some((i + 1) as f64)))
            .collect();
        list.push((t0 + 18 * DAY, Some(600.0)));
        list.push((t0 + 19 * DAY, None));
        // Older than the window: not counted.
        list.push((t0 - 40 * DAY, None));
        let r = openings(&list).responsiveness();
        assert_eq!((r.messages, r.answered), (20, 19));
        assert_eq!(r.response_rate, Some(95.0));
        // 19 responses: the fastest ceil(17.1) = 18 are 1..18 min, mean 9.5.
        assert_eq!(r.response_time_minutes, Some(9.5));
        assert!(r.very_responsive);
        assert_eq!(r.from_ms, Some(t0));
    }

    #[test]
    fn fewer_than_ten_in_the_window_takes_the_last_ten() {
        let t0 = 1_760_000_000_000;
        // Ten old openings, all answered in 30 min, and two recent ones, one answered.
        let mut list: Vec<(i64, Option<f64>)> =
            (0..10).map(|i| (t0 + i * DAY, Some(30.0))).collect();
        list.push((t0 + 100 * DAY, Some(5.0)));
        list.push((t0 + 101 * DAY, None));
        let r = openings(&list).responsiveness();
        assert_eq!((r.messages, r.answered), (10, 9));
        assert_eq!(r.response_rate, Some(90.0));
        assert!(!r.very_responsive, "the time is over 15 minutes");
        assert!(r.minutes_over_by > 0.0 && r.rate_short_by == 0.0);
        let none = Openings::default().responsiveness();
        assert_eq!(
            (none.messages, none.response_rate, none.very_responsive),
            (0, None, false)
        );
        assert_eq!(minutes_label(12.4), "12 min");
        assert_eq!(minutes_label(90.0), "1.5 h");
    }
}

//! Rollups: tallies of the conversations whose first message falls in one UTC hour, day or
//! month, for everyone, one agent or one topic, split by satisfaction score. A store keeps them
//! up to date as conversations are written and answers the metrics by merging the few it needs
//! ([`cover`] says which), so a query costs what it touches, not what is stored.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::conversation::Summary;
use crate::filters::{Filter, TimeRange};
use crate::tally::{AgentTally, Tally};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// The span of time one rollup covers (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grain {
    /// One hour (for everyone only: it serves the edges of days in other time zones).
    Hour,
    /// One day.
    Day,
    /// One calendar month.
    Month,
}

impl Grain {
    /// The stored code.
    pub fn code(self) -> i64 {
        match self {
            Grain::Hour => 1,
            Grain::Day => 2,
            Grain::Month => 3,
        }
    }

    /// The grain of a stored code.
    pub fn from_code(code: i64) -> Option<Grain> {
        [Grain::Hour, Grain::Day, Grain::Month]
            .into_iter()
            .find(|g| g.code() == code)
    }

    /// The start of the span holding `ms` (None outside the calendar's range).
    pub fn floor(self, ms: i64) -> Option<i64> {
        match self {
            Grain::Hour => Some(ms.div_euclid(HOUR_MS) * HOUR_MS),
            Grain::Day => Some(ms.div_euclid(DAY_MS) * DAY_MS),
            Grain::Month => {
                let d = DateTime::from_timestamp_millis(ms)?.date_naive();
                month_start(d.year(), d.month())
            }
        }
    }

    /// The start of the next span after the one starting at `start`.
    pub fn next(self, start: i64) -> Option<i64> {
        match self {
            Grain::Hour => start.checked_add(HOUR_MS),
            Grain::Day => start.checked_add(DAY_MS),
            Grain::Month => {
                let d = DateTime::from_timestamp_millis(start)?.date_naive();
                let (y, m) = if d.month() == 12 {
                    (d.year() + 1, 1)
                } else {
                    (d.year(), d.month() + 1)
                };
                month_start(y, m)
            }
        }
    }

    /// The first span start at or after `ms`.
    fn ceil(self, ms: i64) -> Option<i64> {
        let f = self.floor(ms)?;
        if f == ms {
            Some(f)
        } else {
            self.next(f)
        }
    }

    /// Whether rollups of this grain are kept for `slice` (hours only for everyone).
    pub fn keeps(self, slice: &Slice) -> bool {
        self != Grain::Hour || *slice == Slice::All
    }
}

fn month_start(y: i32, m: u32) -> Option<i64> {
    Some(
        NaiveDate::from_ymd_opt(y, m, 1)?
            .and_hms_opt(0, 0, 0)?
            .and_utc()
            .timestamp_millis(),
    )
}

/// Whose conversations a rollup counts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Slice {
    /// Every conversation.
    All,
    /// The conversations an agent replied in (with the agent's own part).
    Agent(String),
    /// The conversations carrying a topic.
    Topic(String),
}

/// Prefix of an agent slice's stored name (the slices of all agents sort together).
pub const AGENT_PREFIX: &str = "a:";

impl Slice {
    /// The stored name: `*`, `a:<agent>`, `t:<topic>`.
    pub fn name(&self) -> String {
        match self {
            Slice::All => "*".to_owned(),
            Slice::Agent(a) => format!("{AGENT_PREFIX}{a}"),
            Slice::Topic(t) => format!("t:{t}"),
        }
    }

    /// The slice of a stored name.
    pub fn from_name(s: &str) -> Option<Slice> {
        if s == "*" {
            Some(Slice::All)
        } else if let Some(a) = s.strip_prefix(AGENT_PREFIX) {
            Some(Slice::Agent(a.to_owned()))
        } else {
            s.strip_prefix("t:").map(|t| Slice::Topic(t.to_owned()))
        }
    }

    /// The slice a filter's agent and topic select; None when it names both (no rollup
    /// counts conversations of an agent and a topic together).
    pub fn of(f: &Filter) -> Option<Slice> {
        match (&f.agent, &f.topic) {
            (None, None) => Some(Slice::All),
            (Some(a), None) => Some(Slice::Agent(a.clone())),
            (None, Some(t)) => Some(Slice::Topic(t.clone())),
            (Some(_), Some(_)) => None,
        }
    }
}

/// Which rollup: grain, span start, slice.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RollupKey {
    /// The span.
    pub grain: Grain,
    /// Its start (UTC epoch ms).
    pub start_ms: i64,
    /// Whose conversations.
    pub slice: Slice,
}

/// Every rollup a conversation counts in.
pub fn keys_of(s: &Summary) -> Vec<RollupKey> {
    let mut slices: Vec<Slice> = s
        .agents
        .iter()
        .map(|a| Slice::Agent(a.clone()))
        .chain(s.analysis.topics.iter().map(|t| Slice::Topic(t.clone())))
        .collect();
    // A name listed twice still selects the conversation once (as the filter does).
    slices.sort();
    slices.dedup();
    slices.insert(0, Slice::All);
    let mut keys = Vec::with_capacity(slices.len() * 2 + 1);
    for grain in [Grain::Hour, Grain::Day, Grain::Month] {
        let Some(start_ms) = grain.floor(s.first_message_ms) else {
            continue;
        };
        for slice in slices.iter().filter(|sl| grain.keeps(sl)) {
            keys.push(RollupKey {
                grain,
                start_ms,
                slice: slice.clone(),
            });
        }
    }
    keys
}

/// The figures of one satisfaction score class of a rollup.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// The conversations' figures.
    pub tally: Tally,
    /// In an agent's slice, the agent's own part (empty elsewhere).
    pub agent: AgentTally,
}

/// A rollup's figures by satisfaction score (0: none).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Rollup(BTreeMap<u8, Cell>);

impl Rollup {
    /// Counts a conversation in `slice` (`sign` 1) or takes it away (`sign` -1).
    pub fn add(&mut self, s: &Summary, slice: &Slice, sign: i64) {
        let cell = self
            .0
            .entry(s.analysis.satisfaction_score.unwrap_or(0))
            .or_default();
        cell.tally.add(s, sign);
        if let Slice::Agent(name) = slice {
            if let Some(i) = s.agents.iter().position(|a| a == name) {
                cell.agent.add(s, i as u32, sign);
            }
        }
    }

    /// Adds (or with `sign` -1 takes away) another rollup.
    pub fn merge(&mut self, o: &Rollup, sign: i64) {
        for (score, c) in &o.0 {
            let cell = self.0.entry(*score).or_default();
            cell.tally.merge(&c.tally, sign);
            cell.agent.merge(&c.agent, sign);
        }
    }

    /// Drops emptied score classes and puts the rest in stored form.
    pub fn normalize(&mut self) {
        self.0.retain(|_, c| !c.tally.is_empty());
        for c in self.0.values_mut() {
            c.tally.normalize();
            c.agent.normalize();
        }
    }

    /// Whether it counts no conversation.
    pub fn is_empty(&self) -> bool {
        self.0.values().all(|c| c.tally.is_empty())
    }

    /// The score classes `f` selects.
    pub fn selected<'a>(&'a self, f: &'a Filter) -> impl Iterator<Item = &'a Cell> + 'a {
        self.0
            .iter()
            .filter(|(score, _)| f.selects_score((**score > 0).then_some(**score)))
            .map(|(_, c)| c)
    }
}

/// The rollups of one grain whose start lies in `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    /// Their grain.
    pub grain: Grain,
    /// First start (inclusive).
    pub from_ms: i64,
    /// Last start (exclusive).
    pub to_ms: i64,
}

/// How to answer a time range: rollups, and the spans left to read conversation by
/// conversation (edges finer than the finest grain kept).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cover {
    /// The rollups to merge.
    pub pieces: Vec<Piece>,
    /// `[from, to)` spans of first-message time to read from the conversations.
    pub rest: Vec<(i64, i64)>,
}

/// The fewest rollups of `slice` that exactly cover `range` (coarsest first), and what is left.
pub fn cover(range: TimeRange, slice: &Slice) -> Cover {
    let grains: Vec<Grain> = [Grain::Month, Grain::Day, Grain::Hour]
        .into_iter()
        .filter(|g| g.keeps(slice))
        .collect();
    let mut out = Cover::default();
    split(range.from_ms, range.to_ms, &grains, &mut out);
    out
}

/// Covers `[a, b)` with whole spans of `grains[0]`, the edges with the finer grains.
fn split(a: i64, b: i64, grains: &[Grain], out: &mut Cover) {
    if a >= b {
        return;
    }
    let Some((&g, finer)) = grains.split_first() else {
        out.rest.push((a, b));
        return;
    };
    // Open ends stay open: every span before (or after) counts.
    let s = if a == i64::MIN { Some(a) } else { g.ceil(a) };
    let e = if b == i64::MAX { Some(b) } else { g.floor(b) };
    match (s, e) {
        (Some(s), Some(e)) if s < e => {
            split(a, s, finer, out);
            out.pieces.push(Piece {
                grain: g,
                from_ms: s,
                to_ms: e,
            });
            split(e, b, finer, out);
        }
        _ => split(a, b, finer, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUG_12: i64 = 1_754_956_800_000;

    fn range(from_ms: i64, to_ms: i64) -> TimeRange {
        TimeRange { from_ms, to_ms }
    }

    #[test]
    fn everything_is_months() {
        let c = cover(range(i64::MIN, i64::MAX), &Slice::All);
        assert_eq!(c.rest, vec![]);
        assert_eq!(
            c.pieces,
            vec![Piece {
                grain: Grain::Month,
                from_ms: i64::MIN,
                to_ms: i64::MAX
            }]
        );
    }

    #[test]
    fn a_day_in_nairobi_is_hours_of_two_utc_days() {
        let from = AUG_12 - 3 * HOUR_MS;
        let c = cover(range(from, from + DAY_MS), &Slice::All);
        assert_eq!(c.rest, vec![]);
        assert_eq!(
            c.pieces,
            vec![Piece {
                grain: Grain::Hour,
                from_ms: from,
                to_ms: from + DAY_MS
            }]
        );
        // An agent has no hours: the same day is read from its conversations.
        let c = cover(range(from, from + DAY_MS), &Slice::Agent("amina".into()));
        assert!(c.pieces.is_empty());
        assert_eq!(c.rest, vec![(from, from + DAY_MS)]);
    }

    #[test]
    fn a_half_hour_zone_leaves_its_edges_to_the_conversations() {
        let from = AUG_12 - 330 * 60_000; // Asia/Kolkata midnight
        let to = from + 70 * DAY_MS;
        let c = cover(range(from, to), &Slice::All);
        assert_eq!(
            c.rest,
            vec![(from, from + 30 * 60_000), (to - 30 * 60_000, to)]
        );
        let covered: i64 = c.pieces.iter().map(|p| p.to_ms - p.from_ms).sum::<i64>()
            + c.rest.iter().map(|(a, b)| b - a).sum::<i64>();
        assert_eq!(covered, to - from);
        assert!(c.pieces.iter().any(|p| p.grain == Grain::Month));
    }

    #[test]
    fn a_conversation_counts_once_in_each_of_its_rollups() {
        let mut s = Summary {
            first_message_ms: AUG_12 + 5 * HOUR_MS,
            agents: vec!["amina".into(), "brian".into()],
            ..Summary::default()
        };
        s.analysis.topics = vec!["outage".into(), "billing".into(), "outage".into()];
        let keys = keys_of(&s);
        // An hour for everyone; a day and a month each for everyone, two agents, two topics.
        assert_eq!(keys.len(), 1 + 2 * 5);
        let mut distinct = keys.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), keys.len());
        assert_eq!(keys[0].start_ms, AUG_12 + 5 * HOUR_MS);
    }

    #[test]
    fn grains_tile_the_calendar() {
        let feb = month_start(2024, 2).unwrap();
        assert_eq!(Grain::Month.next(feb), month_start(2024, 3));
        assert_eq!(Grain::Month.floor(feb + 28 * DAY_MS + 5), Some(feb));
        assert_eq!(
            Grain::Month.next(month_start(2024, 12).unwrap()),
            month_start(2025, 1)
        );
        assert_eq!(Grain::Day.floor(AUG_12 + 5), Some(AUG_12));
        assert_eq!(Grain::Hour.floor(-1), Some(-HOUR_MS));
        for g in [Grain::Hour, Grain::Day, Grain::Month] {
            assert_eq!(Grain::from_code(g.code()), Some(g));
        }
        for s in [
            Slice::All,
            Slice::Agent("a:b".into()),
            Slice::Topic("outage".into()),
        ] {
            assert_eq!(Slice::from_name(&s.name()), Some(s));
        }
    }
}

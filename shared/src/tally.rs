//! Exact, mergeable figures of a set of conversations: what every metric is computed from, in
//! one pass over summaries (the CLI, the browser) or merged from the rollups a store keeps (the
//! server). Counts and sums are integers and durations are kept as value -> count maps, so a
//! merge in any order, and the removal of a conversation counted before, give the same bits.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::conversation::{satisfied, AnalysisStatus, SentimentCounts, Summary};
use crate::metrics::{AgentRow, AnalysisCounts, CoreMetrics, KpiCounts, ResponseTimes};
use crate::response_time::Stats;
use crate::time::MS_PER_MINUTE;

/// Fixed-point scale of the summed per-conversation means (sentiment, reply gap): nine
/// decimals, far below the four and two the figures are rounded to.
pub const FIXED_SCALE: f64 = 1e9;

/// A per-conversation value as a fixed-point integer (sums of these are order-independent).
fn fixed(v: f64) -> i128 {
    (v * FIXED_SCALE).round() as i128
}

/// A duration in minutes as the whole milliseconds it was measured from.
fn ms_of(minutes: f64) -> i64 {
    (minutes * MS_PER_MINUTE).round() as i64
}

/// Durations as (milliseconds, count) pairs: appended as they come, sorted and combined when
/// read, stored, or grown to twice their combined length (so collecting costs about what
/// pushing onto a list does, and memory stays with the distinct values).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Dist {
    entries: Vec<(i64, i64)>,
    /// Length after the last combining.
    #[serde(skip)]
    settled: usize,
}

/// Equal when the same (value, count) pairs are listed (compare normalized lists).
impl PartialEq for Dist {
    fn eq(&self, other: &Dist) -> bool {
        self.entries == other.entries
    }
}

impl Eq for Dist {}

impl Dist {
    /// Counts `minutes` once (`sign` 1) or takes one count away (`sign` -1).
    pub fn add(&mut self, minutes: f64, sign: i64) {
        self.entries.push((ms_of(minutes), sign));
        self.settle_if_grown();
    }

    /// Adds (or with `sign` -1 takes away) every count of `other`.
    pub fn merge(&mut self, other: &Dist, sign: i64) {
        self.entries
            .extend(other.entries.iter().map(|&(v, c)| (v, c * sign)));
        self.settle_if_grown();
    }

    fn settle_if_grown(&mut self) {
        if self.entries.len() > 2 * self.settled + 1024 {
            self.normalize();
        }
    }

    /// Sorts by value and combines equal values, dropping those counted zero times.
    pub fn normalize(&mut self) {
        self.entries.sort_unstable_by_key(|&(v, _)| v);
        let mut out: Vec<(i64, i64)> = Vec::with_capacity(self.entries.len());
        for &(v, c) in &self.entries {
            match out.last_mut() {
                Some((last, n)) if *last == v => *n += c,
                _ => out.push((v, c)),
            }
            if out.last().is_some_and(|&(_, n)| n == 0) {
                out.pop();
            }
        }
        self.settled = out.len();
        self.entries = out;
    }

    /// Whether nothing is counted (after [`Dist::normalize`]).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Count, mean, median and p90 (the definitions of [`Stats`]); normalizes first.
    pub fn stats(&mut self) -> Stats {
        self.normalize();
        let n: i64 = self.entries.iter().map(|&(_, c)| c).sum();
        if n <= 0 {
            return Stats::default();
        }
        let n = n as u64;
        let sum: i128 = self
            .entries
            .iter()
            .map(|&(v, c)| i128::from(v) * i128::from(c))
            .sum();
        let rank = (n * 9).div_ceil(10).max(1);
        let mid = n / 2;
        let upper = self.at(mid);
        let median = if n % 2 == 1 {
            upper
        } else {
            (self.at(mid - 1) + upper) / 2.0
        };
        Stats {
            n,
            mean: Some(sum as f64 / MS_PER_MINUTE / n as f64),
            median: Some(median),
            p90: Some(self.at(rank - 1)),
        }
    }

    /// The value (in minutes) at 0-based position `i` in ascending order (normalized).
    fn at(&self, i: u64) -> f64 {
        let mut seen = 0u64;
        for &(v, c) in &self.entries {
            seen += c.max(0) as u64;
            if seen > i {
                return v as f64 / MS_PER_MINUTE;
            }
        }
        self.entries
            .last()
            .map_or(0.0, |&(v, _)| v as f64 / MS_PER_MINUTE)
    }

    /// How many values fall below each of `uppers` and in the open bucket after them.
    pub fn histogram(&mut self, uppers: &[f64]) -> Vec<u64> {
        self.normalize();
        let mut counts = vec![0u64; uppers.len() + 1];
        for &(v, c) in &self.entries {
            let m = v as f64 / MS_PER_MINUTE;
            let i = uppers.iter().position(|u| m < *u).unwrap_or(uppers.len());
            counts[i] += c.max(0) as u64;
        }
        counts
    }
}

/// The three durations every set of replies is measured by.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Times {
    gaps: Dist,
    turns: Dist,
    firsts: Dist,
}

impl Times {
    fn merge(&mut self, o: &Times, sign: i64) {
        self.gaps.merge(&o.gaps, sign);
        self.turns.merge(&o.turns, sign);
        self.firsts.merge(&o.firsts, sign);
    }

    fn normalize(&mut self) {
        self.gaps.normalize();
        self.turns.normalize();
        self.firsts.normalize();
    }

    /// Reply gap, turn and first-response statistics.
    fn stats(&mut self) -> [Stats; 3] {
        [self.gaps.stats(), self.turns.stats(), self.firsts.stats()]
    }
}

/// Adds `sign` to a named count, dropping names counted zero times.
fn count_name(map: &mut BTreeMap<String, i64>, name: &str, sign: i64) {
    let n = match map.get_mut(name) {
        Some(n) => n,
        None => map.entry(name.to_owned()).or_default(),
    };
    *n += sign;
    if *n == 0 {
        map.remove(name);
    }
}

/// Conversations, CSAT and FCR counts: what the dataset figures and each agent's row share.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcomes {
    /// Conversations.
    pub conversations: i64,
    /// With a satisfaction score.
    pub scored: i64,
    /// Scored satisfied.
    pub satisfied: i64,
    /// With an FCR value.
    pub fcr_valued: i64,
    /// Resolved on first contact.
    pub fcr_true: i64,
}

impl Outcomes {
    fn add(&mut self, s: &Summary, sign: i64) {
        self.conversations += sign;
        self.judged(&s.analysis, sign);
    }

    /// Counts (or with `sign` -1 takes away) one analysis's score and FCR, not a conversation.
    pub fn judged(&mut self, a: &crate::Analysis, sign: i64) {
        if let Some(score) = a.satisfaction_score {
            self.scored += sign;
            self.satisfied += sign * i64::from(satisfied(score));
        }
        if let Some(f) = a.first_contact_resolution {
            self.fcr_valued += sign;
            self.fcr_true += sign * i64::from(f);
        }
    }

    fn merge(&mut self, o: &Outcomes, sign: i64) {
        self.conversations += sign * o.conversations;
        self.scored += sign * o.scored;
        self.satisfied += sign * o.satisfied;
        self.fcr_valued += sign * o.fcr_valued;
        self.fcr_true += sign * o.fcr_true;
    }
}

/// `num` / `den` x 100, `None` without a denominator.
fn percent(num: i64, den: i64) -> Option<f64> {
    (den > 0).then(|| num as f64 * 100.0 / den as f64)
}

/// A count as reported (a negative count would be a corrupt rollup; it reads as zero).
fn n(v: i64) -> u64 {
    v.max(0) as u64
}

/// Everything the dataset and daily figures need about a set of conversations.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    /// Conversations, CSAT and FCR counts.
    pub outcomes: Outcomes,
    messages: i64,
    sentiment_sum: i128,
    sentiment_n: i64,
    response_sum: i128,
    response_n: i64,
    with_topics: i64,
    unanswered: i64,
    /// Customer messages positive, neutral and negative.
    sentiment: [i64; 3],
    times: Times,
    topics: BTreeMap<String, i64>,
    pending: i64,
    failed: i64,
    by_analyzer: BTreeMap<String, i64>,
}

impl Tally {
    /// Counts a conversation (`sign` 1) or takes it away (`sign` -1).
    pub fn add(&mut self, s: &Summary, sign: i64) {
        self.outcomes.add(s, sign);
        self.messages += sign * i64::from(s.total_messages);
        let a = &s.analysis;
        if let Some(v) = a.avg_sentiment {
            self.sentiment_sum += i128::from(sign) * fixed(v);
            self.sentiment_n += sign;
        }
        if let Some(v) = s.avg_response_time_minutes() {
            self.response_sum += i128::from(sign) * fixed(v);
            self.response_n += sign;
        }
        self.with_topics += sign * i64::from(!a.topics.is_empty());
        for g in s.replies.iter().filter_map(|r| r.gap) {
            self.times.gaps.add(g, sign);
        }
        for t in &s.turns {
            match t.minutes {
                Some(m) => self.times.turns.add(m, sign),
                None => self.unanswered += sign,
            }
        }
        if let Some(f) = s.first_response_minutes() {
            self.times.firsts.add(f, sign);
        }
        let c = &s.sentiment;
        for (i, v) in [c.positive, c.neutral, c.negative].into_iter().enumerate() {
            self.sentiment[i] += sign * v as i64;
        }
        for t in &a.topics {
            count_name(&mut self.topics, t, sign);
        }
        match s.status {
            AnalysisStatus::Pending => self.pending += sign,
            AnalysisStatus::Failed => self.failed += sign,
            AnalysisStatus::Complete => {}
        }
        count_name(&mut self.by_analyzer, &a.analyzer, sign);
    }

    /// Adds (or with `sign` -1 takes away) another tally.
    pub fn merge(&mut self, o: &Tally, sign: i64) {
        self.outcomes.merge(&o.outcomes, sign);
        self.messages += sign * o.messages;
        self.sentiment_sum += i128::from(sign) * o.sentiment_sum;
        self.sentiment_n += sign * o.sentiment_n;
        self.response_sum += i128::from(sign) * o.response_sum;
        self.response_n += sign * o.response_n;
        self.with_topics += sign * o.with_topics;
        self.unanswered += sign * o.unanswered;
        for i in 0..3 {
            self.sentiment[i] += sign * o.sentiment[i];
        }
        self.times.merge(&o.times, sign);
        for (k, v) in &o.topics {
            count_name(&mut self.topics, k, sign * v);
        }
        self.pending += sign * o.pending;
        self.failed += sign * o.failed;
        for (k, v) in &o.by_analyzer {
            count_name(&mut self.by_analyzer, k, sign * v);
        }
    }

    /// Puts the duration lists in their stored form (sorted, combined).
    pub fn normalize(&mut self) {
        self.times.normalize();
    }

    /// Whether no conversation is counted.
    pub fn is_empty(&self) -> bool {
        self.outcomes.conversations == 0
    }

    /// The headline figures.
    pub fn core(&mut self) -> CoreMetrics {
        let o = self.outcomes;
        let mean = |sum: i128, n: i64| (n > 0).then(|| sum as f64 / FIXED_SCALE / n as f64);
        let [positive, neutral, negative] = self.sentiment.map(n);
        let [reply_gap, turn, first_response] = self.times.stats();
        CoreMetrics {
            avg_sentiment_score: mean(self.sentiment_sum, self.sentiment_n),
            csat_percentage: percent(o.satisfied, o.scored).unwrap_or(0.0),
            fcr_percentage: percent(o.fcr_true, o.fcr_valued).unwrap_or(0.0),
            avg_response_time_minutes: mean(self.response_sum, self.response_n),
            total_conversations: n(o.conversations),
            total_messages: n(self.messages),
            response_time: ResponseTimes {
                reply_gap,
                turn,
                first_response,
                unanswered_turns: n(self.unanswered),
            },
            sentiment_distribution: SentimentCounts {
                positive,
                neutral,
                negative,
            },
            n: KpiCounts {
                csat: n(o.scored),
                fcr: n(o.fcr_valued),
                sentiment: n(self.sentiment_n),
                response_time: n(self.response_n),
                topics: n(self.with_topics),
            },
        }
    }

    /// Conversations by topic, most frequent first (ties by name).
    pub fn topic_counts(&self) -> Vec<(&str, u64)> {
        let mut top: Vec<(&str, u64)> = self
            .topics
            .iter()
            .map(|(t, c)| (t.as_str(), n(*c)))
            .collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        top
    }

    /// How the conversations were analysed.
    pub fn analysis(&self) -> AnalysisCounts {
        AnalysisCounts {
            analyzed: n(self.outcomes.conversations),
            pending: n(self.pending),
            failed: n(self.failed),
            by_analyzer: self
                .by_analyzer
                .iter()
                .map(|(k, v)| (k.clone(), n(*v)))
                .collect(),
        }
    }

    /// The reply gaps, for the histogram.
    pub fn gaps(&mut self) -> &mut Dist {
        &mut self.times.gaps
    }
}

/// One agent's part of a set of conversations: the conversations it replied in, and its own
/// replies and the turns they ended.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentTally {
    /// Conversations the agent replied in, with their CSAT and FCR counts.
    pub outcomes: Outcomes,
    replies: i64,
    times: Times,
}

impl AgentTally {
    /// Counts the part of agent number `agent` (an index into the summary's agents) in a
    /// conversation (`sign` 1), or takes it away (`sign` -1).
    pub fn add(&mut self, s: &Summary, agent: u32, sign: i64) {
        self.outcomes.add(s, sign);
        for r in s.replies.iter().filter(|r| r.agent == agent) {
            self.replies += sign;
            if let Some(g) = r.gap {
                self.times.gaps.add(g, sign);
            }
        }
        for (i, t) in s.turns.iter().enumerate() {
            if let (Some(m), Some(a)) = (t.minutes, t.agent) {
                if a == agent {
                    self.times.turns.add(m, sign);
                    if i == 0 {
                        self.times.firsts.add(m, sign);
                    }
                }
            }
        }
    }

    /// Adds (or with `sign` -1 takes away) another agent tally.
    pub fn merge(&mut self, o: &AgentTally, sign: i64) {
        self.outcomes.merge(&o.outcomes, sign);
        self.replies += sign * o.replies;
        self.times.merge(&o.times, sign);
    }

    /// Puts the duration lists in their stored form.
    pub fn normalize(&mut self) {
        self.times.normalize();
    }

    /// Whether it counts no conversation.
    pub fn is_empty(&self) -> bool {
        self.outcomes.conversations == 0
    }

    /// The agent's row of the per-agent table.
    pub fn row(&mut self, agent: &str) -> AgentRow {
        let o = self.outcomes;
        let [reply_gap, turn, first_response] = self.times.stats();
        AgentRow {
            agent: agent.to_owned(),
            conversations: n(o.conversations),
            replies: n(self.replies),
            reply_gap,
            turn,
            first_response,
            csat_percentage: percent(o.satisfied, o.scored),
            fcr_percentage: percent(o.fcr_true, o.fcr_valued),
            csat_n: n(o.scored),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_of_a_distribution_follow_the_definitions() {
        let stats = |values: &[f64]| {
            let mut d = Dist::default();
            for v in values {
                d.add(*v, 1);
            }
            d.stats()
        };
        assert_eq!(stats(&[]), Stats::default());
        assert_eq!(
            stats(&[4.0, 1.0, 3.0, 2.0]),
            Stats::of(&mut [4.0, 1.0, 3.0, 2.0])
        );
        let v: Vec<f64> = (1..=11).map(f64::from).collect();
        assert_eq!(stats(&v), Stats::of(&mut v.clone()));
        let s = stats(&[2.0, 2.0, 2.0, 7.5]);
        assert_eq!((s.median, s.p90, s.n), (Some(2.0), Some(7.5), 4));
    }

    #[test]
    fn taking_away_what_was_added_leaves_nothing() {
        let mut d = Dist::default();
        d.add(1.5, 1);
        d.add(2.0, 1);
        let mut other = d.clone();
        other.add(9.0, 1);
        other.merge(&d, -1);
        other.normalize();
        let mut only = Dist::default();
        only.add(9.0, 1);
        only.normalize();
        assert_eq!(other, only);
    }
}

//! Service levels: response times in calendar and in business time, the share of turns and
//! replies within their targets, and the breaches behind the misses.

use serde::{Deserialize, Serialize};

use crate::hours::Clock;
use crate::response_time::Stats;
use crate::tally::Dist;
use crate::time::MS_PER_MINUTE;
use crate::Summary;

/// Response-time targets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Targets {
    /// Most minutes from a conversation's first customer message to the first agent reply.
    pub first_response_minutes: f64,
    /// Most minutes of a reply gap (a customer message to the agent reply after it).
    pub reply_gap_minutes: f64,
    /// Whether the targets are measured in business time (else calendar time).
    pub business_time: bool,
}

impl Default for Targets {
    fn default() -> Self {
        Targets {
            first_response_minutes: 15.0,
            reply_gap_minutes: 60.0,
            business_time: true,
        }
    }
}

impl Targets {
    /// The clock the targets are measured in, as the settings name it (`business`, `calendar`).
    pub fn clock(&self) -> &'static str {
        if self.business_time {
            "business"
        } else {
            "calendar"
        }
    }

    /// Checks the targets are positive and finite; the error names the one at fault.
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            ("first response target", self.first_response_minutes),
            ("reply gap target", self.reply_gap_minutes),
        ] {
            if !(v.is_finite() && v > 0.0 && v <= 525_600.0) {
                return Err(format!(
                    "{name} {v} is not a number of minutes between 0 and 525600"
                ));
            }
        }
        Ok(())
    }
}

/// Which target a breach misses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Target {
    /// The conversation's first response.
    FirstResponse,
    /// A reply gap.
    ReplyGap,
}

/// A miss: one first response or reply later than its target (or never given).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Breach {
    /// The target missed.
    pub target: Target,
    /// The conversation.
    pub chat_id: String,
    /// When the customer wrote (epoch ms).
    pub customer_ms: i64,
    /// When the agent answered (epoch ms); `null` for a first message never answered.
    pub reply_ms: Option<i64>,
    /// The agent who answered.
    pub agent: Option<String>,
    /// Calendar minutes waited (`null` when never answered).
    pub minutes: Option<f64>,
    /// Business minutes waited (`null` when never answered).
    pub business_minutes: Option<f64>,
}

/// The share of first responses or reply gaps within a target.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Level {
    /// How many were measured.
    pub n: u64,
    /// How many were within the target.
    pub within: u64,
    /// within / n in percent; `null` when n = 0.
    #[serde(serialize_with = "crate::round::opt2")]
    pub percentage: Option<f64>,
}

impl Level {
    fn count(&mut self, ok: bool) {
        self.n += 1;
        self.within += u64::from(ok);
        self.percentage = Some(self.within as f64 * 100.0 / self.n as f64);
    }

    fn merge(&mut self, other: &Level) {
        self.n += other.n;
        self.within += other.within;
        self.percentage = (self.n > 0).then(|| self.within as f64 * 100.0 / self.n as f64);
    }
}

/// Response-time statistics in one clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimeStats {
    /// Reply gaps.
    pub reply_gap: Stats,
    /// Customer turns (first message of the turn to the reply that ends it).
    pub turn: Stats,
    /// First responses.
    pub first_response: Stats,
}

#[derive(Debug, Clone, Default)]
struct Dists {
    reply_gap: Dist,
    turn: Dist,
    first_response: Dist,
}

impl Dists {
    fn merge(&mut self, other: &Dists) {
        self.reply_gap.merge(&other.reply_gap, 1);
        self.turn.merge(&other.turn, 1);
        self.first_response.merge(&other.first_response, 1);
    }

    fn stats(&mut self) -> TimeStats {
        TimeStats {
            reply_gap: self.reply_gap.stats(),
            turn: self.turn.stats(),
            first_response: self.first_response.stats(),
        }
    }
}

/// Service figures of a set of conversations.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Service {
    /// Calendar time (the clock never stops).
    pub calendar: TimeStats,
    /// Business time (the clock stops outside the schedule's hours).
    pub business: TimeStats,
    /// First responses within their target (an unanswered first turn is a miss).
    pub first_response: Level,
    /// Reply gaps within their target.
    pub reply_gap: Level,
    /// Conversations stored before their instants were kept: counted in neither clock.
    pub without_instants: u64,
}

/// Collects the service figures of conversations one at a time.
#[derive(Debug, Clone, Default)]
pub struct ServiceTally {
    calendar: Dists,
    business: Dists,
    first_response: Level,
    reply_gap: Level,
    without_instants: u64,
}

fn minutes(ms: i64) -> f64 {
    ms as f64 / MS_PER_MINUTE
}

/// Whole milliseconds of a duration in minutes (as it was measured).
fn ms_of(m: f64) -> i64 {
    (m * MS_PER_MINUTE).round() as i64
}

/// Whether a summary carries the instants business time needs.
pub fn has_instants(s: &Summary) -> bool {
    s.replies.iter().all(|r| r.at_ms != 0) && s.turns.iter().all(|t| t.at_ms != 0)
}

impl ServiceTally {
    /// Counts one conversation; `agent` limits it to that agent's replies and turns; every
    /// miss goes to `breaches`.
    pub fn add(
        &mut self,
        s: &Summary,
        agent: Option<u32>,
        clock: &mut Clock<'_>,
        targets: &Targets,
        breaches: &mut dyn FnMut(Breach),
    ) {
        if !has_instants(s) {
            self.without_instants += 1;
            return;
        }
        let within = |calendar: f64, business: f64, target: f64| {
            (if targets.business_time {
                business
            } else {
                calendar
            }) <= target + 1e-9
        };
        let name = |a: u32| s.agents.get(a as usize).cloned();
        for r in s
            .replies
            .iter()
            .filter(|r| agent.is_none_or(|a| r.agent == a))
        {
            let Some(gap) = r.gap else { continue };
            let from = r.at_ms - ms_of(gap);
            let business = minutes(clock.business_ms(from, r.at_ms));
            self.calendar.reply_gap.add(gap, 1);
            self.business.reply_gap.add(business, 1);
            let ok = within(gap, business, targets.reply_gap_minutes);
            self.reply_gap.count(ok);
            if !ok {
                breaches(Breach {
                    target: Target::ReplyGap,
                    chat_id: s.chat_id.clone(),
                    customer_ms: from,
                    reply_ms: Some(r.at_ms),
                    agent: name(r.agent),
                    minutes: Some(gap),
                    business_minutes: Some(business),
                });
            }
        }
        for (i, t) in s.turns.iter().enumerate() {
            if agent.is_some() && t.agent != agent {
                continue;
            }
            let timed = t.minutes.map(|m| {
                let end = t.at_ms + ms_of(m);
                (m, minutes(clock.business_ms(t.at_ms, end)), end)
            });
            if let Some((m, b, _)) = timed {
                self.calendar.turn.add(m, 1);
                self.business.turn.add(b, 1);
            }
            if i > 0 {
                continue;
            }
            if let Some((m, b, _)) = timed {
                self.calendar.first_response.add(m, 1);
                self.business.first_response.add(b, 1);
            }
            let ok = timed.is_some_and(|(m, b, _)| within(m, b, targets.first_response_minutes));
            self.first_response.count(ok);
            if !ok {
                breaches(Breach {
                    target: Target::FirstResponse,
                    chat_id: s.chat_id.clone(),
                    customer_ms: t.at_ms,
                    reply_ms: timed.map(|(_, _, end)| end),
                    agent: t.agent.and_then(name),
                    minutes: timed.map(|(m, _, _)| m),
                    business_minutes: timed.map(|(_, b, _)| b),
                });
            }
        }
    }

    /// Adds what another tally collected (as if its conversations were added here).
    pub fn merge(&mut self, other: &ServiceTally) {
        self.calendar.merge(&other.calendar);
        self.business.merge(&other.business);
        self.first_response.merge(&other.first_response);
        self.reply_gap.merge(&other.reply_gap);
        self.without_instants += other.without_instants;
    }

    /// The figures collected so far.
    pub fn service(&mut self) -> Service {
        Service {
            calendar: self.calendar.stats(),
            business: self.business.stats(),
            first_response: self.first_response,
            reply_gap: self.reply_gap,
            without_instants: self.without_instants,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hours::Schedule;
    use crate::time::{parse_timestamp, Tz};
    use crate::{process, Options};

    fn export(messages: &[(&str, &str, &str)]) -> Vec<u8> {
        let msgs: Vec<String> = messages
            .iter()
            .map(|(dir, at, agent)| {
                format!(
                    r#"{{"MESSAGE_CONTENT": "hello there", "DIRECTION": "{dir}", "SOCIAL_CREATE_TIME": "{at}", "AGENT_USERNAME": "{agent}"}}"#
                )
            })
            .collect();
        format!(r#"{{"c1": [{}]}}"#, msgs.join(",")).into_bytes()
    }

    #[test]
    fn targets_count_in_business_time_and_list_the_misses() {
        // Written Tue 16:50 Nairobi, answered Wed 08:10 (20 business minutes, 15 h 20 calendar);
        // then a 5-minute gap in hours, then a customer message nobody answers.
        let e = export(&[
            ("to_company", "2025-12-02T13:50:00.000Z", ""),
            ("to_client", "2025-12-03T05:10:00.000Z", "amina"),
            ("to_company", "2025-12-03T06:00:00.000Z", ""),
            ("to_client", "2025-12-03T06:05:00.000Z", "amina"),
        ]);
        let d = process(&e, &Options::default()).unwrap();
        let s = &d.conversations[0].summary;
        let tz = Tz::from_name("Africa/Nairobi").unwrap();
        let schedule = Schedule::parse("Mon-Fri 08:00-17:00", "", tz).unwrap();
        let mut clock = Clock::new(&schedule);
        let mut misses = Vec::new();
        let mut t = ServiceTally::default();
        let targets = Targets {
            first_response_minutes: 30.0,
            reply_gap_minutes: 10.0,
            business_time: true,
        };
        t.add(s, None, &mut clock, &targets, &mut |b| misses.push(b));
        let got = t.service();
        assert_eq!(got.calendar.first_response.median, Some(920.0));
        assert_eq!(got.business.first_response.median, Some(20.0));
        assert_eq!(got.business.reply_gap.n, 2);
        assert_eq!(
            (got.first_response.within, got.first_response.n),
            (1, 1),
            "20 business minutes is within 30"
        );
        assert_eq!((got.reply_gap.within, got.reply_gap.n), (1, 2));
        assert_eq!(got.reply_gap.percentage, Some(50.0));
        assert_eq!(misses.len(), 1, "{misses:?}");
        assert_eq!(misses[0].target, Target::ReplyGap);
        assert_eq!(misses[0].business_minutes, Some(20.0));
        assert_eq!(
            misses[0].customer_ms,
            parse_timestamp("2025-12-02T13:50:00Z").unwrap()
        );

        // In calendar time the first response misses its target too.
        let mut t = ServiceTally::default();
        let mut misses = Vec::new();
        let calendar = Targets {
            business_time: false,
            ..targets
        };
        t.add(s, None, &mut clock, &calendar, &mut |b| misses.push(b));
        assert_eq!(t.service().first_response.within, 0);
        assert_eq!(misses.len(), 2);
    }

    #[test]
    fn an_unanswered_first_message_is_a_miss_and_old_summaries_are_set_aside() {
        let e = export(&[("to_company", "2025-12-02T10:00:00.000Z", "")]);
        let d = process(&e, &Options::default()).unwrap();
        let schedule = Schedule::always(Tz::UTC);
        let mut clock = Clock::new(&schedule);
        let mut misses = Vec::new();
        let mut t = ServiceTally::default();
        t.add(
            &d.conversations[0].summary,
            None,
            &mut clock,
            &Targets::default(),
            &mut |b| misses.push(b),
        );
        assert_eq!(t.service().first_response.n, 1);
        assert_eq!(misses[0].reply_ms, None);
        let mut old = d.conversations[0].summary.clone();
        old.turns[0].at_ms = 0;
        t.add(&old, None, &mut clock, &Targets::default(), &mut |_| {});
        assert_eq!(t.service().without_instants, 1);
        assert!(Targets {
            reply_gap_minutes: -1.0,
            ..Targets::default()
        }
        .validate()
        .unwrap_err()
        .contains("reply gap target"));
    }

    #[test]
    fn merged_tallies_equal_one_tally_of_both() {
        let d = crate::synth::generate(&crate::synth::SynthOptions {
            conversations: 60,
            seed: 4,
            ..Default::default()
        });
        let d = process(&d, &Options::default()).unwrap();
        let schedule = Schedule::parse("Mon-Fri 08:00-17:00", "", Tz::UTC).unwrap();
        let mut clock = Clock::new(&schedule);
        let targets = Targets::default();
        let (mut direct, mut merged) = (ServiceTally::default(), ServiceTally::default());
        for s in d.summaries() {
            direct.add(s, None, &mut clock, &targets, &mut |_| {});
            let mut one = ServiceTally::default();
            one.add(s, None, &mut clock, &targets, &mut |_| {});
            merged.merge(&one);
        }
        let want = direct.service();
        assert!(want.reply_gap.n > 100 && want.first_response.n > 30);
        assert_eq!(merged.service(), want);
    }
}

//! The report a care lead takes to the weekly meeting: the headline figures, response times in
//! calendar and business time, service levels, the figures by period with a comparison of two
//! periods, per agent, and Meta's responsiveness. The CLI, the server and the app build it with
//! the same [`ReportBuilder`] over the same summaries.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::cleaning::Filtered;
use crate::filters::Filter;
use crate::hours::{Clock, Schedule};
use crate::metrics::{CoreMetrics, MetricsReport};
use crate::periods::{compare, Change, Period};
use crate::responsiveness::{Openings, Responsiveness};
use crate::service::{Breach, Service, ServiceTally, Targets};
use crate::tally::Tally;
use crate::time::local_date;
use crate::Summary;

/// Most breaches a report lists (all are counted).
pub const MAX_BREACHES: usize = 500;

/// What a report is built with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportOptions {
    /// The business hours (around the clock when none are set).
    pub schedule: Schedule,
    /// The service-level targets.
    pub targets: Targets,
    /// How the series is grouped.
    pub period: Period,
    /// The period to compare (its label, `2025-W49`); the last one with conversations if `None`.
    pub current: Option<String>,
    /// The period it is compared with; the one before `current` if `None`.
    pub against: Option<String>,
    /// Whether agents and chats are named (else agents are numbered and chats left out).
    pub identifiers: bool,
}

impl ReportOptions {
    /// Around the clock in `tz`, the default targets, by week, without identifiers.
    pub fn new(schedule: Schedule) -> ReportOptions {
        ReportOptions {
            schedule,
            targets: Targets::default(),
            period: Period::Week,
            current: None,
            against: None,
            identifiers: false,
        }
    }

    /// Checks the targets and the period labels; the error names the value at fault.
    pub fn validate(&self) -> Result<(), String> {
        self.targets.validate()?;
        for label in [&self.current, &self.against].into_iter().flatten() {
            if self.period.parse_label(label).is_none() {
                return Err(format!(
                    "period {label:?} is not a {} (write {})",
                    self.period,
                    self.period.label(NaiveDate::default())
                ));
            }
        }
        Ok(())
    }
}

/// A report's settings as the API's query and the CLI's flags give them (all optional).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ReportParams {
    /// Weekly business hours, e.g. `Mon-Fri 08:00-17:00, Sat 09:00-13:00` (default: around
    /// the clock), read in the filter's time zone.
    pub business_hours: Option<String>,
    /// Days closed, `YYYY-MM-DD` separated by commas.
    pub holidays: Option<String>,
    /// `day`, `week` (ISO, the default) or `month`.
    pub period: Option<String>,
    /// The period to compare (`2025-W49`, `2025-12-02`, `2025-12`; default the last).
    pub compare: Option<String>,
    /// The period it is compared with (default the one before).
    pub against: Option<String>,
    /// First-response target in minutes (default 15).
    pub first_response_target: Option<f64>,
    /// Reply-gap target in minutes (default 60).
    pub reply_gap_target: Option<f64>,
    /// `business` (the default) or `calendar`: the clock the targets are measured in.
    pub target_clock: Option<String>,
    /// Name agents and list the chats that missed a target (default false).
    pub identifiers: Option<bool>,
}

impl ReportParams {
    /// These settings, each unset one taken from `defaults` (the server's configuration).
    pub fn or(self, defaults: &ReportParams) -> ReportParams {
        let d = defaults.clone();
        ReportParams {
            business_hours: self.business_hours.or(d.business_hours),
            holidays: self.holidays.or(d.holidays),
            period: self.period.or(d.period),
            compare: self.compare.or(d.compare),
            against: self.against.or(d.against),
            first_response_target: self.first_response_target.or(d.first_response_target),
            reply_gap_target: self.reply_gap_target.or(d.reply_gap_target),
            target_clock: self.target_clock.or(d.target_clock),
            identifiers: self.identifiers.or(d.identifiers),
        }
    }

    /// The options these settings describe, the hours read in `tz`; the error names the value
    /// at fault.
    pub fn to_options(&self, tz: crate::time::Tz) -> Result<ReportOptions, String> {
        let schedule = match self.business_hours.as_deref().map(str::trim) {
            None | Some("") => {
                if self
                    .holidays
                    .as_deref()
                    .is_some_and(|h| !h.trim().is_empty())
                {
                    Schedule::parse(
                        "Mon-Sun 00:00-24:00",
                        self.holidays.as_deref().unwrap_or(""),
                        tz,
                    )
                } else {
                    Ok(Schedule::always(tz))
                }
            }
            Some(h) => Schedule::parse(h, self.holidays.as_deref().unwrap_or(""), tz),
        }
        .map_err(|e| e.to_string())?;
        let mut opts = ReportOptions::new(schedule);
        if let Some(p) = &self.period {
            opts.period = p.parse()?;
        }
        opts.current = self.compare.clone().filter(|c| !c.is_empty());
        opts.against = self.against.clone().filter(|c| !c.is_empty());
        if let Some(m) = self.first_response_target {
            opts.targets.first_response_minutes = m;
        }
        if let Some(m) = self.reply_gap_target {
            opts.targets.reply_gap_minutes = m;
        }
        opts.targets.business_time = match self.target_clock.as_deref() {
            None | Some("business") => true,
            Some("calendar") => false,
            Some(other) => {
                return Err(format!(
                    "unknown target clock {other:?} (business or calendar)"
                ))
            }
        };
        opts.identifiers = self.identifiers.unwrap_or(false);
        opts.validate()?;
        Ok(opts)
    }
}

/// One period of the series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PeriodRow {
    /// The period's label (`2025-12-02`, `2025-W49`, `2025-12`).
    pub period: String,
    /// Its first day.
    pub start: NaiveDate,
    /// Its headline figures.
    pub core: CoreMetrics,
    /// Its service figures.
    pub service: Service,
}

/// One agent's service figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentService {
    /// The agent (`Agent 1`, `Agent 2` ... when the report names no one).
    pub agent: String,
    /// Conversations the agent replied in.
    pub conversations: u64,
    /// The figures over the agent's replies and the turns they ended.
    pub service: Service,
}

/// Two periods side by side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Comparison {
    /// The period compared.
    pub current: String,
    /// The period it is compared with.
    pub previous: String,
    /// Every headline figure with its delta, direction and significance.
    pub changes: Vec<Change>,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Report {
    /// The business hours, as they read (`Mon-Fri 08:00-17:00 (Africa/Nairobi)`).
    pub schedule: String,
    /// The targets.
    pub targets: Targets,
    /// How the series is grouped.
    pub period: Period,
    /// The dataset's figures (as `GET /api/metrics` gives them).
    pub metrics: MetricsReport,
    /// The dataset's service figures.
    pub service: Service,
    /// The series, one row per period with conversations.
    pub periods: Vec<PeriodRow>,
    /// The comparison of two periods (none without conversations).
    pub comparison: Option<Comparison>,
    /// Per agent, by conversations.
    pub agents: Vec<AgentService>,
    /// Meta's responsiveness over the selected conversations.
    pub responsiveness: Responsiveness,
    /// How many first responses and reply gaps missed their target.
    pub breaches: u64,
    /// The misses (at most [`MAX_BREACHES`], the longest waits first); only when the report
    /// names chats.
    pub breach_list: Vec<Breach>,
}

#[derive(Default)]
struct Part {
    tally: Tally,
    service: ServiceTally,
}

impl Part {
    fn merge(&mut self, o: &Part) {
        self.tally.merge(&o.tally, 1);
        self.service.merge(&o.service);
    }
}

/// Builds a report one conversation at a time (the server streams them from its store).
pub struct ReportBuilder<'a> {
    filter: &'a Filter,
    opts: &'a ReportOptions,
    clock: Clock<'a>,
    all: Part,
    periods: BTreeMap<NaiveDate, Part>,
    agents: HashMap<String, (u64, ServiceTally)>,
    openings: Openings,
    breaches: u64,
    breach_list: Vec<Breach>,
}

impl<'a> ReportBuilder<'a> {
    /// An empty report over what `filter` selects.
    pub fn new(filter: &'a Filter, opts: &'a ReportOptions) -> ReportBuilder<'a> {
        ReportBuilder {
            filter,
            opts,
            clock: Clock::new(&opts.schedule),
            all: Part::default(),
            periods: BTreeMap::new(),
            agents: HashMap::new(),
            openings: Openings::default(),
            breaches: 0,
            breach_list: Vec::new(),
        }
    }

    /// Counts one conversation the filter selects (the caller has matched it).
    pub fn add(&mut self, s: &Summary) {
        let targets = &self.opts.targets;
        let start = self
            .opts
            .period
            .start_of(local_date(s.first_message_ms, self.filter.tz));
        // The conversation's times go through the business clock once, for its period and
        // the whole selection alike.
        let mut one = ServiceTally::default();
        let (count, list, named) = (
            &mut self.breaches,
            &mut self.breach_list,
            self.opts.identifiers,
        );
        one.add(s, None, &mut self.clock, targets, &mut |b| {
            *count += 1;
            if named {
                keep_longest(list, b);
            }
        });
        let period = self.periods.entry(start).or_default();
        period.tally.add(s, 1);
        period.service.merge(&one);
        self.all.tally.add(s, 1);
        self.all.service.merge(&one);
        for (i, name) in s.agents.iter().enumerate() {
            let (n, t) = self.agents.entry(name.clone()).or_default();
            *n += 1;
            t.add(s, Some(i as u32), &mut self.clock, targets, &mut |_| {});
        }
        self.openings.add(s);
    }

    /// Adds what another builder of the same report counted, so parts of a selection can be
    /// counted apart (on several cores) and give the report of all of it.
    pub fn merge(&mut self, o: ReportBuilder<'a>) {
        self.all.merge(&o.all);
        for (start, p) in o.periods {
            self.periods.entry(start).or_default().merge(&p);
        }
        for (agent, (n, t)) in o.agents {
            let (m, mine) = self.agents.entry(agent).or_default();
            *m += n;
            mine.merge(&t);
        }
        self.openings.merge(o.openings);
        self.breaches += o.breaches;
        for b in o.breach_list {
            keep_longest(&mut self.breach_list, b);
        }
    }

    /// The report; `filtered` is what cleaning dropped.
    pub fn finish(mut self, filtered: Filtered) -> Report {
        let period = self.opts.period;
        let mut periods: Vec<PeriodRow> = self
            .periods
            .iter_mut()
            .map(|(start, p)| PeriodRow {
                period: period.label(*start),
                start: *start,
                core: p.tally.core(),
                service: p.service.service(),
            })
            .collect();
        periods.retain(|p| p.core.total_conversations > 0);
        let comparison = self.comparison(&periods);
        let mut agents: Vec<(String, u64, ServiceTally)> = self
            .agents
            .into_iter()
            .map(|(a, (n, t))| (a, n, t))
            .collect();
        agents.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let identifiers = self.opts.identifiers;
        let agents = agents
            .into_iter()
            .enumerate()
            .map(|(i, (agent, conversations, mut t))| AgentService {
                agent: if identifiers {
                    agent
                } else {
                    format!("Agent {}", i + 1)
                },
                conversations,
                service: t.service(),
            })
            .collect();
        self.breach_list.sort_by(longest_first);
        self.breach_list.truncate(MAX_BREACHES);
        Report {
            schedule: self.opts.schedule.to_string(),
            targets: self.opts.targets,
            period,
            metrics: crate::metrics::report(self.all.tally, self.filter, filtered, None),
            service: self.all.service.service(),
            periods,
            comparison,
            agents,
            responsiveness: self.openings.responsiveness(),
            breaches: self.breaches,
            breach_list: self.breach_list,
        }
    }

    fn comparison(&self, periods: &[PeriodRow]) -> Option<Comparison> {
        let period = self.opts.period;
        let current = match &self.opts.current {
            Some(label) => period.parse_label(label)?,
            None => periods.last()?.start,
        };
        let previous = match &self.opts.against {
            Some(label) => period.parse_label(label)?,
            None => period.previous(current),
        };
        let core = |start: NaiveDate| {
            periods
                .iter()
                .find(|p| p.start == start)
                .map(|p| p.core.clone())
                .unwrap_or_default()
        };
        Some(Comparison {
            current: period.label(current),
            previous: period.label(previous),
            changes: compare(&core(current), &core(previous)),
        })
    }
}

/// How long a breach waited, for ordering (never answered counts as the longest).
fn wait(b: &Breach) -> f64 {
    b.business_minutes.unwrap_or(f64::INFINITY)
}

/// The longest wait first; a total order, so any reading order lists the same breaches.
fn longest_first(a: &Breach, b: &Breach) -> std::cmp::Ordering {
    wait(b)
        .total_cmp(&wait(a))
        .then_with(|| a.chat_id.cmp(&b.chat_id))
        .then_with(|| a.customer_ms.cmp(&b.customer_ms))
        .then_with(|| (a.target as u8).cmp(&(b.target as u8)))
}

/// Keeps the [`MAX_BREACHES`] longest waits (amortized: trims when twice as many are held).
fn keep_longest(list: &mut Vec<Breach>, b: Breach) {
    list.push(b);
    if list.len() >= 2 * MAX_BREACHES {
        list.sort_by(longest_first);
        list.truncate(MAX_BREACHES);
    }
}

/// The report over the summaries `filter` selects.
pub fn build<'a>(
    summaries: impl IntoIterator<Item = &'a Summary>,
    filter: &Filter,
    opts: &ReportOptions,
    filtered: Filtered,
) -> Report {
    let range = filter.time_range();
    let mut b = ReportBuilder::new(filter, opts);
    for s in summaries {
        if filter.matches(s, range) {
            b.add(s);
        }
    }
    b.finish(filtered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::periods::Direction;
    use crate::time::Tz;
    use crate::{process, Options};

    /// Two ISO weeks of a Nairobi office: in week 49 each conversation is answered in 5
    /// minutes; in week 50, written at 16:50 and answered at 08:10 the next morning.
    fn two_weeks() -> Vec<u8> {
        let mut chats = Vec::new();
        for day in 1..=4 {
            chats.push(format!(
                r#""a{day}": [{{"MESSAGE_CONTENT": "my token is not working", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-12-0{day}T07:00:00.000Z"}},
                {{"MESSAGE_CONTENT": "Sorry, try again now", "DIRECTION": "to_client", "SOCIAL_CREATE_TIME": "2025-12-0{day}T07:05:00.000Z", "AGENT_USERNAME": "amina"}}]"#
            ));
            chats.push(format!(
                r#""b{day}": [{{"MESSAGE_CONTENT": "my token is not working", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-12-{d:02}T13:50:00.000Z"}},
                {{"MESSAGE_CONTENT": "Sorry, try again now", "DIRECTION": "to_client", "SOCIAL_CREATE_TIME": "2025-12-{e:02}T05:10:00.000Z", "AGENT_USERNAME": "brian"}}]"#,
                d = day + 7,
                e = day + 8
            ));
        }
        format!("{{{}}}", chats.join(",")).into_bytes()
    }

    fn options(business: bool) -> ReportOptions {
        let tz = Tz::from_name("Africa/Nairobi").unwrap();
        let schedule = if business {
            Schedule::parse("Mon-Fri 08:00-17:00", "", tz).unwrap()
        } else {
            Schedule::always(tz)
        };
        ReportOptions::new(schedule)
    }

    #[test]
    fn parts_counted_apart_and_merged_give_the_report_of_all() {
        let export = crate::synth::generate(&crate::synth::SynthOptions {
            conversations: 600,
            seed: 8,
            ..crate::synth::SynthOptions::default()
        });
        let d = process(&export, &Options::default()).unwrap();
        let f = Filter::default();
        let mut opts = options(true);
        opts.identifiers = true;
        let whole = d.report(&f, &opts);
        assert!(whole.breaches > 0 && whole.periods.len() > 1 && whole.agents.len() > 1);
        for parts in [2, 7, 64] {
            let size = d.conversations.len().div_ceil(parts);
            let mut merged = ReportBuilder::new(&f, &opts);
            for chunk in d.conversations.chunks(size) {
                let mut b = ReportBuilder::new(&f, &opts);
                chunk.iter().for_each(|c| b.add(&c.summary));
                merged.merge(b);
            }
            assert_eq!(merged.finish(d.report.filtered), whole, "{parts} parts");
        }
    }

    #[test]
    fn parameters_read_into_options() {
        let tz = Tz::from_name("Africa/Nairobi").unwrap();
        let p = ReportParams {
            business_hours: Some("Mon-Fri 08:00-17:00".into()),
            holidays: Some("2025-12-25".into()),
            period: Some("month".into()),
            compare: Some("2025-12".into()),
            first_response_target: Some(30.0),
            target_clock: Some("calendar".into()),
            ..ReportParams::default()
        };
        let o = p.to_options(tz).unwrap();
        assert_eq!(o.period, Period::Month);
        assert_eq!(o.current.as_deref(), Some("2025-12"));
        assert_eq!(o.targets.first_response_minutes, 30.0);
        assert!(!o.targets.business_time);
        assert!(o.schedule.to_string().contains("holidays 2025-12-25"));
        assert!(ReportParams::default()
            .to_options(tz)
            .unwrap()
            .schedule
            .is_always());
        let bad = |p: ReportParams| p.to_options(tz).unwrap_err();
        assert!(bad(ReportParams {
            period: Some("year".into()),
            ..Default::default()
        })
        .contains("unknown period"));
        assert!(bad(ReportParams {
            business_hours: Some("Mon 9-5".into()),
            ..Default::default()
        })
        .contains("business hours"));
        assert!(bad(ReportParams {
            target_clock: Some("wall".into()),
            ..Default::default()
        })
        .contains("target clock"));
        assert!(bad(ReportParams {
            compare: Some("2025-W60".into()),
            ..Default::default()
        })
        .contains("is not a week"));
        assert!(bad(ReportParams {
            reply_gap_target: Some(f64::NAN),
            ..Default::default()
        })
        .contains("reply gap target"));
    }

    #[test]
    fn weeks_side_by_side_in_both_clocks() {
        let d = process(&two_weeks(), &Options::default()).unwrap();
        let filter = Filter {
            tz: Tz::from_name("Africa/Nairobi").unwrap(),
            ..Filter::default()
        };
        let opts = options(true);
        let r = build(d.summaries(), &filter, &opts, d.report.filtered);
        let labels: Vec<&str> = r.periods.iter().map(|p| p.period.as_str()).collect();
        assert_eq!(labels, ["2025-W49", "2025-W50"]);
        assert_eq!(
            r.service.calendar.first_response.median,
            Some(5.0 + (920.0 - 5.0) / 2.0)
        );
        assert_eq!(
            r.periods[1].service.calendar.first_response.median,
            Some(920.0)
        );
        assert_eq!(
            r.periods[1].service.business.first_response.median,
            Some(20.0)
        );
        assert_eq!(r.periods[0].service.first_response.percentage, Some(100.0));
        assert_eq!(r.periods[1].service.first_response.percentage, Some(0.0));
        assert_eq!(
            r.breaches, 4,
            "four first responses over 15 business minutes (20)"
        );
        assert_eq!(
            r.periods[1].service.reply_gap.percentage,
            Some(100.0),
            "20 is within 60"
        );
        assert!(r.breach_list.is_empty(), "no chat named unless asked");
        assert_eq!(r.agents[0].agent, "Agent 1");
        let cmp = r.comparison.as_ref().unwrap();
        assert_eq!(
            (cmp.current.as_str(), cmp.previous.as_str()),
            ("2025-W50", "2025-W49")
        );
        let rt = cmp
            .changes
            .iter()
            .find(|c| c.kpi == "avg_response_time_minutes")
            .unwrap();
        assert_eq!((rt.delta, rt.direction), (Some(915.0), Direction::Up));
        assert!(r
            .schedule
            .starts_with("Mon-Fri 08:00-17:00 (Africa/Nairobi)"));

        // Around the clock, business time is calendar time.
        let always = build(d.summaries(), &filter, &options(false), d.report.filtered);
        assert_eq!(always.service.business, always.service.calendar);
        // Named, the breaches are listed, longest first.
        let named = ReportOptions {
            identifiers: true,
            ..opts.clone()
        };
        let r = build(d.summaries(), &filter, &named, d.report.filtered);
        assert_eq!(r.breach_list.len(), 4);
        assert!(r.breach_list.iter().all(|b| b.chat_id.starts_with('b')));
        assert_eq!(r.agents[0].agent, "amina");
        // A chosen comparison: week 50 against itself is flat.
        let chosen = ReportOptions {
            current: Some("2025-W50".into()),
            against: Some("2025-W50".into()),
            ..opts
        };
        let r = build(d.summaries(), &filter, &chosen, d.report.filtered);
        assert!(r
            .comparison
            .unwrap()
            .changes
            .iter()
            .all(|c| matches!(c.direction, Direction::Flat | Direction::Unknown)));
        assert!(ReportOptions {
            current: Some("2025-13".into()),
            ..options(false)
        }
        .validate()
        .unwrap_err()
        .contains("is not a week"));
    }
}

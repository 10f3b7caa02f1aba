//! The metrics over the store: the rollups that cover a filter merged, plus the conversations
//! at the edges no rollup covers read one by one, all through the shared crate's tallies, so
//! the figures are the CLI's and a query costs what it touches, not what is stored.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use powerpulse_shared::filters::TimeRange;
use powerpulse_shared::metrics::{agent_rows, daily_rows, report};
use powerpulse_shared::rollup::{cover, Grain, Piece, Slice};
use powerpulse_shared::tally::{AgentTally, Tally};
use powerpulse_shared::time::{day_start_ms, local_date};
use powerpulse_shared::{AgentRow, DailyRow, Filter, MetricsReport};

use crate::store::{Result, Slices, Store};

/// The tally of the conversations `f` selects: rollups where they cover it, summaries elsewhere.
pub async fn tally(store: &Store, f: &Filter) -> Result<Tally> {
    let mut tally = Tally::default();
    let range = f.time_range();
    let rest = match Slice::of(f) {
        Some(slice) => {
            let c = cover(range, &slice);
            for piece in c.pieces {
                store
                    .each_rollup(Slices::One(&slice), piece, |_, r| {
                        for cell in r.selected(f) {
                            tally.merge(&cell.tally, 1);
                        }
                    })
                    .await?;
            }
            c.rest
        }
        None => vec![(range.from_ms, range.to_ms)],
    };
    for (from, to) in rest {
        store
            .each_summary(f, from, to, |s| tally.add(&s, 1))
            .await?;
    }
    Ok(tally)
}

/// The report over the conversations `f` selects: every summary streamed through the shared
/// crate's builder (business time needs each gap's instants, which no rollup keeps).
pub async fn report_of(
    store: &Store,
    f: &Filter,
    opts: &powerpulse_shared::report::ReportOptions,
) -> Result<powerpulse_shared::report::Report> {
    let mut b = powerpulse_shared::report::ReportBuilder::new(f, opts);
    let range = f.time_range();
    store
        .each_summary(f, range.from_ms, range.to_ms, |s| b.add(&s))
        .await?;
    let mut r = b.finish(store.filtered_totals().await?);
    r.metrics.last_updated = store.last_updated().await?;
    Ok(r)
}

/// The items behind a figure among the conversations `f` selects.
pub async fn evidence_of(
    store: &Store,
    f: &Filter,
    what: &powerpulse_shared::evidence::Evidence,
    opts: &powerpulse_shared::report::ReportOptions,
) -> Result<powerpulse_shared::evidence::EvidenceList> {
    let range = f.time_range();
    let mut out = powerpulse_shared::evidence::EvidenceList::default();
    store
        .each_summary(f, range.from_ms, range.to_ms, |s| {
            out.extend(powerpulse_shared::evidence::evidence([&s], f, what, opts))
        })
        .await?;
    out.finish();
    Ok(out)
}

/// Dataset metrics over the conversations `f` selects.
pub async fn dataset(store: &Store, f: &Filter) -> Result<MetricsReport> {
    Ok(report(
        tally(store, f).await?,
        f,
        store.filtered_totals().await?,
        store.last_updated().await?,
    ))
}

/// The local days from the first to the last selected conversation's, each with its time range.
fn local_days(f: &Filter, first: i64, last: i64) -> Vec<(NaiveDate, TimeRange)> {
    let range = f.time_range();
    let (mut d, end) = (local_date(first, f.tz), local_date(last, f.tz));
    let mut out = Vec::new();
    while d <= end {
        let Some(next) = d.succ_opt() else { break };
        let from_ms = day_start_ms(d, f.tz).max(range.from_ms);
        let to_ms = day_start_ms(next, f.tz).min(range.to_ms);
        out.push((d, TimeRange { from_ms, to_ms }));
        d = next;
    }
    out
}

/// The daily series over the conversations `f` selects (days in the filter's time zone).
pub async fn daily(store: &Store, f: &Filter) -> Result<Vec<DailyRow>> {
    let Some((first, last)) = store.first_and_last(f).await? else {
        return Ok(Vec::new());
    };
    let mut tallies: BTreeMap<NaiveDate, Tally> = BTreeMap::new();
    let rest = match Slice::of(f) {
        Some(slice) => {
            let days = local_days(f, first, last);
            days_from_rollups(store, f, &slice, &days, &mut tallies).await?
        }
        None => vec![(first, last.saturating_add(1))],
    };
    for (from, to) in rest {
        store
            .each_summary(f, from, to, |s| {
                tallies
                    .entry(local_date(s.first_message_ms, f.tz))
                    .or_default()
                    .add(&s, 1)
            })
            .await?;
    }
    Ok(daily_rows(tallies))
}

/// Adds to each day's tally the rollups of `slice` that cover it, and returns the spans no
/// rollup covers.
async fn days_from_rollups(
    store: &Store,
    f: &Filter,
    slice: &Slice,
    days: &[(NaiveDate, TimeRange)],
    tallies: &mut BTreeMap<NaiveDate, Tally>,
) -> Result<Vec<(i64, i64)>> {
    // Each day's pieces by grain and first start, so each stored row finds its day.
    let mut owners: BTreeMap<(Grain, i64), (Piece, NaiveDate)> = BTreeMap::new();
    let mut rest = Vec::new();
    for (day, range) in days {
        let c = cover(*range, slice);
        for p in c.pieces {
            owners.insert((p.grain, p.from_ms), (p, *day));
        }
        rest.extend(c.rest);
    }
    for grain in [Grain::Month, Grain::Day, Grain::Hour] {
        let mut of_grain = owners
            .range((grain, i64::MIN)..=(grain, i64::MAX))
            .map(|(_, (p, _))| *p);
        let Some(lo) = of_grain.next() else { continue };
        let hi = of_grain.next_back().unwrap_or(lo);
        let span = Piece {
            grain,
            from_ms: lo.from_ms,
            to_ms: hi.to_ms,
        };
        // One read per grain over the days' span; a row no day's piece holds is skipped.
        store
            .each_rollup(Slices::One(slice), span, |key, r| {
                let start = key.start_ms;
                let Some((_, (p, day))) = owners.range(..=(grain, start)).next_back() else {
                    return;
                };
                if p.grain == grain && start < p.to_ms {
                    let t = tallies.entry(*day).or_default();
                    for cell in r.selected(f) {
                        t.merge(&cell.tally, 1);
                    }
                }
            })
            .await?;
    }
    Ok(rest)
}

/// The per-agent table over the conversations `f` selects.
pub async fn agents(store: &Store, f: &Filter) -> Result<Vec<AgentRow>> {
    let mut agents: HashMap<String, AgentTally> = HashMap::new();
    let range = f.time_range();
    // With an agent or a topic, the table covers other agents' part in those conversations,
    // which no agent's rollup holds: they are read one by one.
    let rest = if f.agent.is_none() && f.topic.is_none() {
        let c = cover(range, &Slice::Agent(String::new()));
        for piece in c.pieces {
            store
                .each_rollup(Slices::Agents, piece, |key, r| {
                    let Slice::Agent(name) = key.slice else {
                        return;
                    };
                    let a = agents.entry(name).or_default();
                    for cell in r.selected(f) {
                        a.merge(&cell.agent, 1);
                    }
                })
                .await?;
        }
        c.rest
    } else {
        vec![(range.from_ms, range.to_ms)]
    };
    for (from, to) in rest {
        store
            .each_summary(f, from, to, |s| {
                powerpulse_shared::metrics::add_agents(&mut agents, &s)
            })
            .await?;
    }
    Ok(agent_rows(agents))
}

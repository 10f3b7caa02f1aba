//! Random filters as a client could send them, from what a set of conversations holds (and some
//! values it does not), for the property tests that compare the store with the shared rules.

use std::collections::BTreeSet;

use powerpulse_shared::{FilterParams, Summary};
use proptest::prelude::*;

/// Zones with whole-hour, half-hour, quarter-hour and daylight-saving offsets.
const ZONES: [&str; 7] = [
    "UTC",
    "Africa/Nairobi",
    "America/New_York",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Europe/London",
    "Pacific/Chatham",
];

/// Filter parameters over `summaries`' days, agents and topics.
pub fn filter_params<'a>(
    summaries: impl IntoIterator<Item = &'a Summary>,
) -> impl Strategy<Value = FilterParams> {
    let (mut agents, mut topics, mut days) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for s in summaries {
        agents.extend(s.agents.iter().cloned());
        topics.extend(s.analysis.topics.iter().cloned());
        days.insert(powerpulse_shared::time::format_timestamp(s.first_message_ms)[..10].to_owned());
    }
    agents.insert("nobody".into());
    topics.insert("weather".into());
    let days: Vec<String> = days.into_iter().collect();
    let pick = |v: Vec<String>| prop::option::weighted(0.4, prop::sample::select(v));
    (
        pick(days.clone()),
        pick(days),
        prop::option::of(prop::sample::select(ZONES.to_vec())),
        pick(agents.into_iter().collect()),
        pick(topics.into_iter().collect()),
        prop::option::weighted(0.2, any::<bool>()),
        prop::option::weighted(0.3, 1i64..=5),
        prop::option::weighted(0.3, 1i64..=5),
    )
        .prop_map(
            |(start, end, tz, agent, topic, sat, min, max)| FilterParams {
                start_date: start,
                end_date: end,
                tz: tz.map(str::to_owned),
                agent,
                topic,
                satisfied_only: sat,
                min_satisfaction: min,
                max_satisfaction: max,
            },
        )
}

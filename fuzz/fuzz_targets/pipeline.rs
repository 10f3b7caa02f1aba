//! Any bytes through everything a browser or the server does with an upload: parse, clean,
//! analyse, measure under a filter, per day, per agent, and every CSV. A panic, a hang or a
//! runaway allocation is a finding (each becomes a regression test in `shared/tests`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use powerpulse_shared::csv_out::{conversations_csv, messages_csv, metrics_csv};
use powerpulse_shared::{agent_metrics, daily_metrics, process, Filter, MessageRecord, Options};

static OPTIONS: std::sync::LazyLock<Options> = std::sync::LazyLock::new(Options::default);

fuzz_target!(|data: &[u8]| {
    let Ok(d) = process(data, &OPTIONS) else {
        return;
    };
    let tz = Filter::from_params(Some("2025-08-01"), None, Some("Africa/Nairobi"), None, None)
        .expect("a valid filter");
    for f in [Filter::default(), tz] {
        let m = d.metrics(&f);
        let _ = metrics_csv(&m);
        let _ = daily_metrics(d.summaries(), &f);
        let _ = agent_metrics(d.summaries(), &f);
        let _ = conversations_csv(&d.records(&f));
    }
    let messages: Vec<MessageRecord> = d.conversations.iter().flat_map(MessageRecord::of).collect();
    let _ = messages_csv(&messages);
});

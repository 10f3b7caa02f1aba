//! The figures the native and the wasm32 builds must both produce for one generated dataset.

use powerpulse_shared::csv_out::{conversations_csv, messages_csv, metrics_csv};
use powerpulse_shared::synth::{generate, SynthOptions};
use powerpulse_shared::{agent_metrics, daily_metrics, process, Filter, MessageRecord, Options};
use serde_json::{json, Value};

/// FNV-1a, to pin large outputs (the CSVs) in a small file.
fn fnv1a(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Everything compared: metrics under two filters, the daily series, the agent table, and the
/// three CSVs (length and checksum).
pub fn golden_value() -> Value {
    let bytes = generate(&SynthOptions {
        conversations: 400,
        seed: 7,
        ..SynthOptions::default()
    });
    let d = process(&bytes, &Options::default()).expect("generated exports parse");
    let all = Filter::default();
    let narrow = Filter::from_params(
        Some("2025-08-03"),
        Some("2025-08-09"),
        Some("Africa/Nairobi"),
        None,
        Some("tokens"),
    )
    .expect("valid filter");
    let messages: Vec<MessageRecord> = d.conversations.iter().flat_map(MessageRecord::of).collect();
    let csvs = [
        ("conversations", conversations_csv(&d.records(&all))),
        ("messages", messages_csv(&messages)),
        ("metrics", metrics_csv(&d.metrics(&all))),
    ];
    json!({
        "metrics": d.metrics(&all),
        "metrics_nairobi_tokens_week": d.metrics(&narrow),
        "daily": daily_metrics(d.summaries(), &all),
        "agents": agent_metrics(d.summaries(), &all),
        "csv": csvs.iter().map(|(k, v)| (k.to_string(), json!({"bytes": v.len(), "fnv1a": fnv1a(v)}))).collect::<serde_json::Map<_, _>>(),
    })
}

/// The committed expectation.
pub const GOLDEN: &str = include_str!("../data/golden.json");

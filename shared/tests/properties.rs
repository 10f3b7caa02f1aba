//! Property tests: whatever the input, no panic, and the counts and percentages stay consistent.
#![cfg(not(target_arch = "wasm32"))]

use powerpulse_shared::synth::{generate, SynthOptions};
use powerpulse_shared::{export, process, Dataset, Filter, MetricsReport, Options};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn check_invariants(d: &Dataset, m: &MetricsReport, f: &Filter) {
    let r = &d.report;
    assert_eq!(
        r.messages_kept + r.filtered.messages(),
        r.messages_read,
        "kept + filtered = read"
    );
    let kept: u64 = d
        .conversations
        .iter()
        .map(|c| c.messages.len() as u64)
        .sum();
    assert_eq!(kept, r.messages_kept);
    assert_eq!(
        d.conversations.len() as u64 + r.filtered.empty_chats + r.filtered.invalid_chats,
        r.chats_read
    );
    let c = &m.core;
    for p in [c.csat_percentage, c.fcr_percentage] {
        assert!((0.0..=100.0).contains(&p), "{p}");
    }
    for t in &m.most_common_topics {
        assert!(t.percentage > 0.0 && t.percentage <= 100.0, "{t:?}");
        assert!(t.count <= c.n.topics);
    }
    assert!(c.n.csat <= c.total_conversations && c.n.fcr <= c.total_conversations);
    if let Some(s) = c.avg_sentiment_score {
        assert!((-1.0..=1.0).contains(&s));
    }
    for st in [
        c.response_time.reply_gap,
        c.response_time.turn,
        c.response_time.first_response,
    ] {
        if st.n > 0 {
            let (mean, median, p90) = (st.mean.unwrap(), st.median.unwrap(), st.p90.unwrap());
            assert!(
                mean >= 0.0 && median >= 0.0 && p90 >= median - 1e-9,
                "{st:?}"
            );
        } else {
            assert!(st.mean.is_none() && st.median.is_none() && st.p90.is_none());
        }
    }
    for conv in &d.conversations {
        let a = &conv.summary.analysis;
        assert!(a.topics.len() <= 5);
        assert!(a.satisfaction_score.is_none_or(|s| (1..=5).contains(&s)));
        assert!(a
            .satisfaction_confidence
            .is_none_or(|s| (0.0..=1.0).contains(&s)));
        assert!(
            conv.messages
                .windows(2)
                .all(|w| w[0].time_ms <= w[1].time_ms),
            "sorted"
        );
        for msg in &conv.messages {
            assert!(msg.sentiment.is_none_or(|s| (-1.0..=1.0).contains(&s)));
            assert!(msg.reply_gap_minutes.is_none_or(|g| g >= 0.0));
        }
    }
    let s = &c.sentiment_distribution;
    let range = f.time_range();
    let selected: Vec<_> = d
        .conversations
        .iter()
        .filter(|c| f.matches(&c.summary, range))
        .collect();
    assert_eq!(selected.len() as u64, c.total_conversations);
    let customer: u64 = selected
        .iter()
        .map(|c| c.summary.customer_messages as u64)
        .sum();
    let messages: u64 = selected
        .iter()
        .map(|c| c.summary.total_messages as u64)
        .sum();
    assert_eq!(messages, c.total_messages);
    assert_eq!(s.positive + s.neutral + s.negative, customer);
}

fn field() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "\\PC{0,12}".prop_map(Value::String),
        prop::sample::select(vec!["to_company", "to_client", "TO_CLIENT", ""])
            .prop_map(|s| json!(s)),
        (0i64..4_000_000_000_000)
            .prop_map(|ms| json!(powerpulse_shared::time::format_timestamp(ms))),
        prop::sample::select(vec![
            "Hi",
            "thanks!",
            "no power",
            "dial *977#",
            "asante sana",
            "useless!!",
            "token 1234 5678 9012 3456",
            "   "
        ])
        .prop_map(|s| json!(s)),
        Just(json!([1, {"a": []}])),
    ]
}

fn message() -> impl Strategy<Value = Value> {
    let keys = prop::sample::select(vec![
        "MESSAGE_CONTENT",
        "DIRECTION",
        "SOCIAL_CREATE_TIME",
        "AGENT_USERNAME",
        "AGENT_EMAIL",
        "UNIQUE_POST_ID",
        "FB_CHAT_ID",
        "OTHER",
    ]);
    prop_oneof![
        9 => prop::collection::vec((keys, field()), 0..8).prop_map(|kv| {
            Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect::<Map<_, _>>())
        }),
        1 => field(),
    ]
}

fn export() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::collection::vec(("[a-c]{1,2}", prop_oneof![9 => prop::collection::vec(message(), 0..6).prop_map(Value::Array), 1 => field()]), 0..6)
            .prop_map(|chats| Value::Object(chats.into_iter().collect())),
        prop::collection::vec(message(), 0..12).prop_map(Value::Array),
    ]
}

fn filter() -> impl Strategy<Value = Filter> {
    (
        prop::option::of(0u32..40),
        prop::option::of(0u32..40),
        prop::sample::select(vec![
            "UTC",
            "Africa/Nairobi",
            "America/Santiago",
            "Pacific/Kiritimati",
        ]),
        any::<bool>(),
    )
        .prop_map(|(a, b, tz, sat)| {
            let day = |n: u32| format!("2025-08-{:02}", 1 + n % 28);
            let (a, b) = match (a, b) {
                (Some(x), Some(y)) if x > y => (Some(y), Some(x)),
                other => other,
            };
            let mut f = Filter::from_params(
                a.map(day).as_deref(),
                b.map(day).as_deref(),
                Some(tz),
                None,
                None,
            )
            .unwrap_or_default();
            f.satisfied_only = sat;
            f
        })
}

/// Cases per property: a fast default for every test run; `PROPTEST_DEPTH=N` multiplies them
/// (`scripts/bench properties` runs them deep, in release).
fn cases(default: u32) -> u32 {
    let depth: u32 = std::env::var("PROPTEST_DEPTH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    default.saturating_mul(depth.max(1))
}

/// Built once: the analyzer's phrase automaton takes a while to build in a debug build.
static OPTIONS: std::sync::LazyLock<Options> = std::sync::LazyLock::new(Options::default);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(400)))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = process(&bytes, &OPTIONS);
    }

    #[test]
    fn json_like_text_never_panics(text in "[\\[\\]{}\":,0-9a-zA-Z_ \\\\n]{0,200}") {
        let _ = process(text.as_bytes(), &OPTIONS);
    }

    #[test]
    fn the_split_read_equals_the_whole_read(text in "[\\[\\]{}\":,0-9a-z_ \\\\n]{0,200}", e in export(), cut in 0usize..1000) {
        let whole = e.to_string();
        let cut = &whole.as_bytes()[..cut.min(whole.len())];
        for input in [text.as_bytes(), whole.as_bytes(), cut] {
            let split = export::parse_export_by(input, |t, entries| {
                entries.iter().map(|e| export::parse_entry(t, e)).collect()
            });
            prop_assert_eq!(split, export::parse_export(input));
        }
    }

    #[test]
    fn random_exports_keep_counts_consistent(e in export(), f in filter()) {
        let bytes = e.to_string();
        let d = process(bytes.as_bytes(), &OPTIONS).expect("objects and arrays are accepted");
        let m = d.metrics(&f);
        check_invariants(&d, &m, &f);
        prop_assert!(m.core.total_conversations <= d.conversations.len() as u64);
        // Truncating a valid file anywhere gives an error, never a panic.
        let cut = bytes.len() / 2;
        let _ = process(&bytes.as_bytes()[..cut], &OPTIONS);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(24)))]

    #[test]
    fn generated_exports_keep_counts_consistent(seed in any::<u64>(), n in 1usize..200, f in filter(), flat in any::<bool>()) {
        let bytes = generate(&SynthOptions { conversations: n, seed, flat, ..SynthOptions::default() });
        let d = process(&bytes, &OPTIONS).unwrap();
        let all = d.metrics(&Filter::default());
        check_invariants(&d, &all, &Filter::default());
        let m = d.metrics(&f);
        check_invariants(&d, &m, &f);
        // Daily rows partition the selection.
        let days = powerpulse_shared::daily_metrics(d.summaries(), &f);
        let total: u64 = days.iter().map(|r| r.core.total_conversations).sum();
        prop_assert_eq!(total, m.core.total_conversations);
    }
}

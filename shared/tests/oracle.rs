//! The core against the independent oracle (`tests/data/oracle/`: a hand-written export whose
//! figures a separate Python script worked out from docs/definitions.md alone): dataset metrics
//! under each filter, the daily rows in Nairobi, the agents, the histogram and the heatmap, as
//! the browser computes them (the API and the CLI are checked against the same file in
//! `tests/tests/oracle.rs`).

use std::path::PathBuf;

use powerpulse_shared::metrics::{reply_gap_histogram, weekday_hour_heatmap};
use powerpulse_shared::tz::Tz;
use powerpulse_shared::{agent_metrics, daily_metrics, process, Dataset, Filter, Options};
use serde_json::{json, Value};

fn oracle(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/oracle")
        .join(name)
}

fn setup() -> (Dataset, Value) {
    let bytes = std::fs::read(oracle("export.json")).unwrap();
    let want =
        serde_json::from_str(&std::fs::read_to_string(oracle("expected.json")).unwrap()).unwrap();
    (process(&bytes, &Options::default()).unwrap(), want)
}

/// `got` cut to the fields `want` states, numbers as f64, so the two compare whole.
fn like(want: &Value, got: &Value) -> Value {
    match (want, got) {
        (Value::Object(w), _) => Value::Object(
            w.keys()
                .filter(|k| !k.starts_with('_'))
                .map(|k| (k.clone(), like(&w[k], &got[k])))
                .collect(),
        ),
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => {
            Value::Array(w.iter().zip(g).map(|(w, g)| like(w, g)).collect())
        }
        (_, Value::Number(n)) => json!(n.as_f64()),
        _ => got.clone(),
    }
}

fn normal(want: &Value) -> Value {
    like(want, want)
}

fn assert_oracle(what: &str, want: &Value, got: impl serde::Serialize) {
    let got = serde_json::to_value(got).unwrap();
    assert_eq!(like(want, &got), normal(want), "{what}");
}

fn nairobi() -> Tz {
    Tz::from_name("Africa/Nairobi").unwrap()
}

#[test]
fn the_metrics_under_each_filter_are_the_oracles() {
    let (d, want) = setup();
    assert_oracle("all", &want["metrics"], d.metrics(&Filter::default()));
    let day = "2025-08-13".parse().unwrap();
    let f = Filter {
        start_date: Some(day),
        end_date: Some(day),
        tz: nairobi(),
        ..Filter::default()
    };
    assert_oracle(
        "13 August in Nairobi",
        &want["metrics_nairobi_2025_08_13"],
        d.metrics(&f),
    );
    let f = Filter {
        agent: Some("amina".into()),
        ..Filter::default()
    };
    assert_oracle("amina", &want["metrics_agent_amina"], d.metrics(&f));
    let f = Filter {
        topic: Some("outage".into()),
        ..Filter::default()
    };
    assert_oracle("outages", &want["metrics_topic_outage"], d.metrics(&f));
    let f = Filter {
        satisfied_only: true,
        ..Filter::default()
    };
    assert_oracle(
        "satisfied only",
        &want["metrics_satisfied_only"],
        d.metrics(&f),
    );
    assert_oracle(
        "filtered",
        &want["filtered"],
        d.metrics(&Filter::default()).filtered,
    );
}

#[test]
fn the_daily_rows_and_the_agents_are_the_oracles() {
    let (d, want) = setup();
    let f = Filter {
        tz: nairobi(),
        ..Filter::default()
    };
    assert_oracle(
        "daily in Nairobi",
        &want["daily_nairobi"],
        daily_metrics(d.summaries(), &f),
    );
    assert_oracle(
        "agents",
        &want["agents"],
        agent_metrics(d.summaries(), &Filter::default()),
    );
}

/// The non-empty cells of a weekday x hour grid, in the oracle's form.
fn cells(grid: &[[u64; 24]; 7]) -> Value {
    let mut out = Vec::new();
    for (day, row) in grid.iter().enumerate() {
        for (hour, n) in row.iter().enumerate().filter(|(_, n)| **n > 0) {
            out.push(json!({"weekday": day, "hour": hour, "count": n}));
        }
    }
    Value::Array(out)
}

#[test]
fn the_charts_are_the_oracles() {
    let (d, want) = setup();
    let all = Filter::default();
    assert_oracle(
        "histogram",
        &want["histogram"],
        reply_gap_histogram(d.summaries(), &all),
    );
    let amina = Filter {
        agent: Some("amina".into()),
        ..Filter::default()
    };
    assert_oracle(
        "histogram of amina",
        &want["histogram_agent_amina"],
        reply_gap_histogram(d.summaries(), &amina),
    );
    assert_oracle(
        "heatmap in UTC",
        &want["heatmap_utc"],
        cells(&weekday_hour_heatmap(&d.conversations, &all)),
    );
    let f = Filter {
        tz: nairobi(),
        ..Filter::default()
    };
    assert_oracle(
        "heatmap in Nairobi",
        &want["heatmap_nairobi"],
        cells(&weekday_hour_heatmap(&d.conversations, &f)),
    );
}

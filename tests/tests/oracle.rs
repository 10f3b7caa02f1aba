//! The CLI and the API against the independent oracle (`tests/data/oracle/`): a hand-written
//! export whose figures a separate Python script worked out from docs/definitions.md alone, so
//! a wrong rule cannot pass by agreeing with itself.

use std::path::PathBuf;

use powerpulse_e2e::api::{cli, get_json, upload};
use powerpulse_e2e::server::{Server, ServerOptions};
use powerpulse_e2e::workspace;
use serde_json::Value;

fn oracle_file(name: &str) -> PathBuf {
    workspace().join("tests/data/oracle").join(name)
}

fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(oracle_file("expected.json")).unwrap()).unwrap()
}

/// Every value the oracle states is in `got` and equal (fields the oracle leaves out, such as
/// sentiment, are not compared); returns the differences, one per line.
fn differences(want: &Value, got: &Value, path: &str, out: &mut Vec<String>) {
    match want {
        Value::Object(fields) => {
            for (k, v) in fields.iter().filter(|(k, _)| !k.starts_with('_')) {
                match got.get(k) {
                    Some(g) => differences(v, g, &format!("{path}.{k}"), out),
                    None => out.push(format!("{path}.{k}: missing")),
                }
            }
        }
        Value::Array(items) => match got.as_array() {
            Some(g) if g.len() == items.len() => {
                for (i, (w, g)) in items.iter().zip(g).enumerate() {
                    differences(w, g, &format!("{path}[{i}]"), out);
                }
            }
            _ => out.push(format!("{path}: want {} items, got {got}", items.len())),
        },
        Value::Number(n) => {
            if got.as_f64() != n.as_f64() {
                out.push(format!("{path}: want {want}, got {got}"));
            }
        }
        _ => {
            if want != got {
                out.push(format!("{path}: want {want}, got {got}"));
            }
        }
    }
}

fn assert_matches(what: &str, want: &Value, got: &Value) {
    let mut out = Vec::new();
    differences(want, got, what, &mut out);
    assert!(
        out.is_empty(),
        "{what} differs from the oracle:\n{}",
        out.join("\n")
    );
}

/// The chat ids of a `/api/conversations` page, in its order.
fn chat_ids(page: &Value) -> Vec<String> {
    page["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["fb_chat_id"].as_str().unwrap().to_owned())
        .collect()
}

fn cli_metrics(filters: &[&str]) -> Value {
    let file = oracle_file("export.json");
    let mut args = vec!["metrics", file.to_str().unwrap(), "--json"];
    args.extend_from_slice(filters);
    serde_json::from_slice(&cli(&args)).unwrap()
}

const NAIROBI_13TH: [&str; 6] = [
    "--start-date",
    "2025-08-13",
    "--end-date",
    "2025-08-13",
    "--tz",
    "Africa/Nairobi",
];

#[test]
fn the_cli_gives_the_oracles_figures() {
    let want = expected();
    let all = cli_metrics(&[]);
    assert_matches("cli metrics", &want["metrics"], &all);
    assert_matches("cli filtered", &want["filtered"], &all["filtered"]);
    assert_matches(
        "cli metrics on 2025-08-13 in Nairobi",
        &want["metrics_nairobi_2025_08_13"],
        &cli_metrics(&NAIROBI_13TH),
    );
    assert_matches(
        "cli metrics of amina",
        &want["metrics_agent_amina"],
        &cli_metrics(&["--agent", "amina"]),
    );
    assert_matches(
        "cli metrics on outages",
        &want["metrics_topic_outage"],
        &cli_metrics(&["--topic", "outage"]),
    );
    assert_matches(
        "cli metrics of the satisfied",
        &want["metrics_satisfied_only"],
        &cli_metrics(&["--satisfied-only"]),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_gives_the_oracles_figures() {
    let want = expected();
    let s = Server::start(ServerOptions::default());
    let bytes = std::fs::read(oracle_file("export.json")).unwrap();
    assert_eq!(upload(&s.url, bytes, None).await.status(), 200);
    let get = |q: &str| {
        let url = format!("{}{q}", s.url);
        async move { get_json(&url, 200).await }
    };
    let all = get("/api/metrics").await;
    assert_matches("api metrics", &want["metrics"], &all);
    assert_matches("api filtered", &want["filtered"], &all["filtered"]);
    assert_matches(
        "api metrics on 2025-08-13 in Nairobi",
        &want["metrics_nairobi_2025_08_13"],
        &get("/api/metrics?start_date=2025-08-13&end_date=2025-08-13&tz=Africa/Nairobi").await,
    );
    assert_matches(
        "api metrics of amina",
        &want["metrics_agent_amina"],
        &get("/api/metrics?agent=amina").await,
    );
    assert_matches(
        "api metrics on outages",
        &want["metrics_topic_outage"],
        &get("/api/metrics?topic=outage").await,
    );
    assert_matches(
        "api metrics of the satisfied",
        &want["metrics_satisfied_only"],
        &get("/api/metrics?satisfied_only=true").await,
    );
    let mut ids = chat_ids(&get("/api/conversations?q=TOKEN&page_size=100").await);
    ids.sort();
    assert_eq!(Value::from(ids), want["search_token"], "q=TOKEN, any case");
    for (sort, key) in [
        (
            "sort_by=avg_response_time_minutes&sort_order=desc",
            "sort_reply_gap_desc",
        ),
        (
            "sort_by=avg_response_time_minutes&sort_order=asc",
            "sort_reply_gap_asc",
        ),
        (
            "sort_by=total_messages&sort_order=desc",
            "sort_messages_desc",
        ),
    ] {
        let page = get(&format!("/api/conversations?{sort}&page_size=100")).await;
        assert_eq!(Value::from(chat_ids(&page)), want[key], "{sort}");
    }
    assert_matches(
        "api daily rows in Nairobi",
        &want["daily_nairobi"],
        &get("/api/metrics/daily?tz=Africa/Nairobi").await["days"],
    );
    assert_matches(
        "api agent rows",
        &want["agents"],
        &get("/api/metrics/agents").await["agents"],
    );
}

#[test]
fn the_comparison_catches_a_wrong_figure() {
    let want = expected();
    let mut got = cli_metrics(&[]);
    got["response_time"]["turn"]["p90"] = Value::from(29.99);
    let mut out = Vec::new();
    differences(&want["metrics"], &got, "m", &mut out);
    assert_eq!(out, ["m.response_time.turn.p90: want 30.0, got 29.99"]);
}

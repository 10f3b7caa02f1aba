//! The CLI and the API against the independent oracle (`tests/data/oracle/`): a hand-written
//! export whose figures a separate Python script worked out from docs/definitions.md alone, so
//! a wrong rule cannot pass by agreeing with itself.

use powerpulse_e2e::api::{cli, client, get_json, upload};
use powerpulse_e2e::oracle::{
    assert_matches, csv_rows, differences, expected, file as oracle_file,
};
use powerpulse_e2e::server::{Server, ServerOptions};
use serde_json::Value;

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
        ("sort_by=total_messages&sort_order=asc", "sort_messages_asc"),
        (
            "sort_by=first_message_time&sort_order=desc",
            "sort_started_desc",
        ),
        (
            "sort_by=first_message_time&sort_order=asc",
            "sort_started_asc",
        ),
        (
            "sort_by=satisfaction_score&sort_order=desc",
            "sort_score_desc",
        ),
        (
            "sort_by=satisfaction_score&sort_order=asc",
            "sort_score_asc",
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

/// The export's text, as a CLI or a browser would read it.
fn export_path() -> String {
    oracle_file("export.json").to_str().unwrap().to_owned()
}

#[test]
fn the_clis_csvs_hold_the_oracles_rows() {
    let want = expected();
    let conversations = cli(&["export", &export_path(), "--type", "conversations"]);
    assert_matches(
        "cli conversations csv",
        &want["csv_conversations"],
        &csv_rows(&conversations, &want["csv_conversations"]),
    );
    let messages = cli(&["export", &export_path(), "--type", "messages"]);
    assert_matches(
        "cli messages csv",
        &want["csv_messages"],
        &csv_rows(&messages, &want["csv_messages"]),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_apis_csvs_hold_the_oracles_rows() {
    let want = expected();
    let s = Server::start(ServerOptions::default());
    let bytes = std::fs::read(oracle_file("export.json")).unwrap();
    assert_eq!(upload(&s.url, bytes, None).await.status(), 200);
    for (kind, key) in [
        ("conversations", "csv_conversations"),
        ("messages", "csv_messages"),
    ] {
        let r = client()
            .get(format!("{}/api/download?export_type={kind}", s.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{kind}");
        let body = r.bytes().await.unwrap();
        assert_matches(
            &format!("api {kind} csv"),
            &want[key],
            &csv_rows(&body, &want[key]),
        );
    }
}

//! The `powerpulse` command line as a user runs it: exit codes, one-line errors, outputs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use powerpulse_shared::synth::{generate, SynthOptions};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_powerpulse"))
}

/// A file of its own for each call: tests run at once, and one rewriting a file another is
/// reading would make both flaky.
fn tmp(name: &str, bytes: &[u8]) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("powerpulse-cli-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn sample() -> PathBuf {
    tmp(
        "sample.json",
        &generate(&SynthOptions {
            conversations: 250,
            seed: 3,
            ..SynthOptions::default()
        }),
    )
}

/// Exit 2 with exactly one line on stderr, never a panic.
fn assert_refused(out: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "one line expected: {err}"
    );
    assert!(err.contains(needle), "{err:?} should mention {needle:?}");
    assert!(!err.contains("panicked"));
}

#[test]
fn metrics_json_is_the_shared_crates_report() {
    let path = sample();
    let out = run(&["metrics", path.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let d = powerpulse_shared::process(&bytes, &Default::default()).unwrap();
    let expected = serde_json::to_value(d.metrics(&Default::default())).unwrap();
    assert_eq!(json, expected);
    for key in [
        "avg_sentiment_score",
        "csat_percentage",
        "fcr_percentage",
        "avg_response_time_minutes",
        "total_conversations",
        "total_messages",
        "most_common_topics",
        "last_updated",
        "response_time",
        "sentiment_distribution",
        "analysis",
        "filtered",
        "definitions",
    ] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    for k in ["reply_gap", "turn", "first_response"] {
        for f in ["n", "mean", "median", "p90"] {
            assert!(
                json["response_time"][k].get(f).is_some(),
                "response_time.{k}.{f}"
            );
        }
    }
}

#[test]
fn a_piped_export_reads_as_the_same_file_does() {
    // A file is mapped, a pipe is read: the two paths give the same report.
    let path = sample();
    let from_file = run(&["metrics", path.to_str().unwrap(), "--json"]);
    let mut child = bin()
        .args(["metrics", "/dev/stdin", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&bytes).unwrap());
    let from_pipe = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(
        from_pipe.status.success(),
        "{}",
        String::from_utf8_lossy(&from_pipe.stderr)
    );
    let json = |o: &Output| serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap();
    assert_eq!(json(&from_pipe), json(&from_file));
    assert!(json(&from_file)["total_conversations"].as_u64().unwrap() > 200);
}

#[test]
fn metrics_filters_apply_and_bad_values_are_refused() {
    let path = sample();
    let p = path.to_str().unwrap();
    let all: serde_json::Value =
        serde_json::from_slice(&run(&["metrics", p, "--json"]).stdout).unwrap();
    let out = run(&[
        "metrics",
        p,
        "--json",
        "--start-date",
        "2025-08-03",
        "--end-date",
        "2025-08-04",
        "--tz",
        "Africa/Nairobi",
    ]);
    let some: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        some["total_conversations"].as_u64().unwrap()
            < all["total_conversations"].as_u64().unwrap()
    );
    assert!(some["total_conversations"].as_u64().unwrap() > 0);
    assert_refused(&run(&["metrics", p, "--tz", "Mars/Base"]), "tz");
    assert_refused(
        &run(&["metrics", p, "--start-date", "03/08/2025"]),
        "start_date",
    );
    assert_refused(
        &run(&[
            "metrics",
            p,
            "--start-date",
            "2025-08-05",
            "--end-date",
            "2025-08-01",
        ]),
        "after",
    );
}

#[test]
fn readable_summary_without_json() {
    let out = run(&["metrics", sample().to_str().unwrap()]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("CSAT") && text.contains("reply gap") && text.contains("filtered"),
        "{text}"
    );
}

#[test]
fn export_writes_the_documented_columns() {
    let path = sample();
    let out_file = path.with_file_name("conv.csv");
    let out = run(&[
        "export",
        path.to_str().unwrap(),
        "--type",
        "conversations",
        "-o",
        out_file.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let csv = std::fs::read_to_string(&out_file).unwrap();
    assert!(csv.starts_with("chat_id,total_messages,customer_messages,agent_messages,satisfaction_score,satisfaction_confidence,is_satisfied,avg_sentiment,first_contact_resolution,avg_response_time_minutes,first_message_time,last_message_time,common_topics,"));
    let out = run(&["export", path.to_str().unwrap(), "--type", "messages"]);
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(csv.starts_with("message_id,chat_id,message_content,direction,social_create_time,agent_info,sentiment_score,"));
    let out = run(&["export", path.to_str().unwrap(), "--type", "metrics"]);
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(
        csv.contains("kpi,csat_percentage,")
            && csv
                .lines()
                .all(|l| l.ends_with(",v1") || l.ends_with(",definitions"))
    );
    assert_refused(
        &run(&["export", path.to_str().unwrap(), "--type", "agents"]),
        "unknown export type",
    );
}

#[test]
fn sentiment_scores_one_line_per_line() {
    let mut child = bin()
        .arg("sentiment")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(
            "I love this, thanks!\nmy meter is 1234\nhakuna stima, mnaboa sana\r\n".as_bytes(),
        )
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].parse::<f64>().unwrap() > 0.5);
    assert_eq!(lines[1], "");
    assert!(lines[2].parse::<f64>().unwrap() < -0.3);
}

#[test]
fn bad_files_exit_2_with_one_line_never_a_panic() {
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.json", b"".to_vec(), "empty"),
        (
            "truncated.json",
            br#"{"c": [{"MESSAGE_CONTENT": "hi", "DIRECT"#.to_vec(),
            "byte",
        ),
        (
            "latin1.json",
            b"{\"c\": [{\"MESSAGE_CONTENT\": \"caf\xe9\"}]}".to_vec(),
            "UTF-8",
        ),
        (
            "nested.json",
            format!("{{\"c\": [{}]}}", "[".repeat(5000)).into_bytes(),
            "byte",
        ),
        ("string.json", b"\"just a string\"".to_vec(), "top level"),
        (
            "binary.json",
            (0u8..=255).cycle().take(4096).collect(),
            "byte",
        ),
    ];
    for (name, bytes, needle) in cases {
        let p = tmp(name, &bytes);
        assert_refused(&run(&["metrics", p.to_str().unwrap(), "--json"]), needle);
    }
    assert_refused(
        &run(&["metrics", "/nonexistent/export.json"]),
        "cannot read",
    );
    let dir = tmp("placeholder", b"");
    let dir = dir.parent().unwrap();
    assert_refused(&run(&["metrics", dir.to_str().unwrap()]), "cannot read");
}

#[test]
fn odd_but_valid_files_succeed() {
    let huge = "x".repeat(5_000_000);
    let cases = [
        r#"{"c": [{"MESSAGE_CONTENT": 5, "DIRECTION": ["to_company"], "SOCIAL_CREATE_TIME": {}}], "d": 7}"#.to_owned(),
        format!(r#"{{"c": [{{"MESSAGE_CONTENT": "{huge}", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-08-12T10:00:00Z"}}]}}"#),
        "[]".to_owned(),
        "{}".to_owned(),
    ];
    for (i, c) in cases.iter().enumerate() {
        let p = tmp(&format!("odd{i}.json"), c.as_bytes());
        let out = run(&["metrics", p.to_str().unwrap(), "--json"]);
        assert!(
            out.status.success(),
            "case {i}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn usage_errors_are_one_line_and_help_is_not_an_error() {
    assert_refused(&run(&["metrics"]), "required");
    assert_refused(&run(&["frobnicate"]), "frobnicate");
    let out = run(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("metrics"));
}

#[test]
fn generate_is_deterministic() {
    let a = run(&["generate", "--conversations", "20", "--seed", "9"]).stdout;
    let b = run(&["generate", "--conversations", "20", "--seed", "9"]).stdout;
    assert_eq!(a, b);
    assert!(Path::new("/").exists());
    let v: serde_json::Value = serde_json::from_slice(&a).unwrap();
    assert_eq!(v.as_object().unwrap().len(), 20);
}

fn real(half: &str) -> (String, String) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../eval");
    (
        format!("{dir}/kenya-{half}.json"),
        format!("{dir}/kenya-{half}.labels.json"),
    )
}

fn evaluation_json(args: &[&str]) -> serde_json::Value {
    let out = run(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `powerpulse evaluate` of a stored analysis CSV, as JSON.
fn stored_evaluation(export: &str, labels: &str, csv: &Path) -> serde_json::Value {
    evaluation_json(&[
        "evaluate",
        export,
        "--labels",
        labels,
        "--analysis",
        csv.to_str().unwrap(),
        "--json",
    ])
}

#[test]
fn evaluate_scores_the_builtin_analyzer_against_labels() {
    let (export, labels) = real("a");
    let json = evaluation_json(&["evaluate", &export, "--labels", &labels, "--json"]);
    let d =
        powerpulse_shared::process(&std::fs::read(&export).unwrap(), &Default::default()).unwrap();
    let l = powerpulse_shared::evaluate::parse_labels(&std::fs::read(&labels).unwrap()).unwrap();
    let mut expected = powerpulse_shared::evaluate::evaluate(
        &l,
        &powerpulse_shared::evaluate::predictions_of(d.summaries()),
    );
    let summaries: Vec<_> = d.summaries().cloned().collect();
    expected.corrected = Some(powerpulse_shared::evaluate::labels_as_reviews(
        &summaries, &l,
    ));
    // Both sides through the same JSON parser (it may round the last digit of a float).
    let expected: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&expected).unwrap()).unwrap();
    assert_eq!(json, expected);
    assert_eq!(json["labelled"], 140);
    for lang in ["en", "mixed", "sw"] {
        assert!(
            json["by_language"][lang]["n"].as_u64().unwrap() > 0,
            "{lang}"
        );
    }
    let text = String::from_utf8(run(&["evaluate", &export, "--labels", &labels]).stdout).unwrap();
    for needle in [
        "kappa",
        "balanced accuracy",
        "topic hit",
        "CSAT %",
        "FCR %",
        "sentiment r",
        "language sw",
        "by confidence",
        "corrected for the analyzer's errors",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
}

#[test]
fn evaluate_reads_a_stored_analysis_csv() {
    let (export, labels) = real("b");
    // The CSV the CLI (and the server and the app) export scores as the analysis it holds.
    let csv = tmp(
        "b-conversations.csv",
        &run(&["export", &export, "--type", "conversations"]).stdout,
    );
    let builtin = evaluation_json(&["evaluate", &export, "--labels", &labels, "--json"]);
    let stored = stored_evaluation(&export, &labels, &csv);
    for path in ["kappa", "exact", "confusion"] {
        assert_eq!(
            stored["overall"]["satisfaction"][path],
            builtin["overall"]["satisfaction"][path]
        );
    }
    assert_eq!(stored["overall"]["fcr"], builtin["overall"]["fcr"]);
    assert_eq!(
        stored["overall"]["topic_hit"],
        builtin["overall"]["topic_hit"]
    );
    let r = |v: &serde_json::Value| v["overall"]["sentiment_r"].as_f64().unwrap();
    assert!(
        (r(&stored) - r(&builtin)).abs() < 1e-3,
        "CSV rounds to 4 decimals"
    );

    // An analysis that says exactly what the labels say scores perfectly.
    let l: serde_json::Value = serde_json::from_slice(&std::fs::read(&labels).unwrap()).unwrap();
    let mut perfect = String::from(
        "chat_id,satisfaction_score,satisfaction_confidence,avg_sentiment,first_contact_resolution,common_topics\n",
    );
    for (id, label) in l.as_object().unwrap() {
        let fcr = label["fcr"]
            .as_bool()
            .map(|b| b.to_string())
            .unwrap_or_default();
        let topics: Vec<&str> = label["topics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        perfect += &format!(
            "{id},{},0.9,{},{fcr},{}\n",
            label["satisfaction"],
            label["customer_sentiment"],
            topics.join("; ")
        );
    }
    let csv = tmp("perfect.csv", perfect.as_bytes());
    let e = stored_evaluation(&export, &labels, &csv);
    assert_eq!(e["overall"]["satisfaction"]["kappa"], 1.0);
    assert_eq!(e["overall"]["fcr"]["balanced_accuracy"], 1.0);
    assert_eq!(e["overall"]["topic_hit"], 1.0);
    assert_eq!(e["overall"]["sentiment_r"], 1.0);
    assert_eq!(
        e["overall"]["csat"]["predicted"],
        e["overall"]["csat"]["labelled"]
    );
}

#[test]
fn evaluate_refuses_bad_labels_and_analyses_in_one_line() {
    let (export, labels) = real("a");
    let bad = tmp("bad.labels.json", br#"{"x": {"satisfaction": 9, "fcr": null, "topics": [], "customer_sentiment": 0, "language": "en"}}"#);
    assert_refused(
        &run(&["evaluate", &export, "--labels", bad.to_str().unwrap()]),
        "satisfaction 9",
    );
    let csv = tmp("bad.csv", b"chat_id,satisfaction_score,satisfaction_confidence,avg_sentiment,first_contact_resolution,common_topics\nx,4,0.5,0.1,maybe,outage\n");
    assert_refused(
        &run(&[
            "evaluate",
            &export,
            "--labels",
            &labels,
            "--analysis",
            csv.to_str().unwrap(),
        ]),
        "line 2, first_contact_resolution",
    );
    assert_refused(
        &run(&["evaluate", &export, "--labels", "/no/such/labels.json"]),
        "cannot read",
    );
}

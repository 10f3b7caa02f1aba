//! Benchmark (not a test: ignored unless asked for, run by `scripts/bench ai`): 5,000
//! conversations through the AI path against the fake provider at 2 s latency and a 600
//! requests/minute limit. Prints wall time against the limit's minimum, conversations per call
//! and input tokens per conversation against the raw transcript.

use std::time::{Duration, Instant};

use powerpulse_e2e::api::{get_json, upload};
use powerpulse_e2e::export;
use powerpulse_e2e::fake_ai::{FakeAi, Kind};
use powerpulse_e2e::server::{Server, ServerOptions};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run by scripts/bench ai"]
async fn ai_jobs_at_the_rate_limit() {
    let fake = FakeAi::start(Kind::Gemini, Duration::from_secs(2)).await;
    let mut o = ServerOptions::default()
        .with("AI_RPM", "600")
        .with("AI_MAX_CONCURRENCY", "40")
        .with("AI_TPM", "10000000")
        .with("MAX_FILE_SIZE", "104857600")
        // The synchronous path's figure (a job this size would go by batch under `auto`).
        .with("AI_BATCH_MODE", "off");
    o.env.extend(fake.env("bench-key"));
    let s = Server::start(o);
    let bytes = export(5200, 77);
    let batch_bytes = bytes.clone();
    let d = powerpulse_shared::process(&bytes, &Default::default()).unwrap();
    let raw_tokens: usize = d
        .conversations
        .iter()
        .map(|c| {
            let msgs: Vec<Value> = c.messages.iter().map(|m| serde_json::json!({
                "FB_CHAT_ID": c.summary.chat_id, "MESSAGE_CONTENT": m.text, "DIRECTION": m.role.direction(),
                "SOCIAL_CREATE_TIME": m.time(), "AGENT_USERNAME": m.agent.as_deref(), "AGENT_EMAIL": m.agent.as_deref().map(|a| format!("{a}@example.com")),
                "UNIQUE_POST_ID": m.id})).collect();
            serde_json::to_string(&msgs).unwrap().chars().count().div_ceil(4)
        })
        .sum();
    let started = Instant::now();
    let up: Value = upload(&s.url, bytes, None).await.json().await.unwrap();
    let job = up["job"]["id"].as_str().unwrap().to_owned();
    let total = up["conversations_processed"].as_f64().unwrap();
    let j = loop {
        let j = get_json(&format!("{}/api/jobs/{job}", s.url), 200).await;
        if j["status"] != "running" && j["status"] != "queued" {
            break j;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let wall = started.elapsed().as_secs_f64();
    let calls = fake.calls();
    let first = calls.first().unwrap().at;
    let last = calls.last().unwrap().at;
    let sent: usize = calls.iter().map(|c| c.conversations).sum();
    let minimum = calls.len() as f64 / 600.0 * 60.0;
    let calling = last.duration_since(first).as_secs_f64() + 2.0;
    println!(
        "BENCH ai: {total} conversations ({} sent, {} cached), {} calls, {:.1} conversations per call, status {}",
        sent, j["cached"], calls.len(), sent as f64 / calls.len() as f64, j["status"]
    );
    println!(
        "BENCH ai: wall time {wall:.1} s from upload to done ({calling:.1} s from first call to last answer); limit minimum {minimum:.1} s -> {:+.1}%",
        (calling / minimum - 1.0) * 100.0
    );
    println!(
        "BENCH ai: input tokens {} = {:.0} per conversation sent; raw transcript {:.0} per conversation ({:.0}%)",
        j["input_tokens"],
        j["input_tokens"].as_f64().unwrap() / sent as f64,
        raw_tokens as f64 / d.conversations.len() as f64,
        100.0 * (j["input_tokens"].as_f64().unwrap() / sent as f64) / (raw_tokens as f64 / d.conversations.len() as f64)
    );
    // For `scripts/bench --check`.
    println!(
        "FIGURE ai_over_minimum_pct {:.2}",
        (calling / minimum - 1.0) * 100.0
    );
    println!(
        "FIGURE ai_conversations_per_call {:.2}",
        sent as f64 / calls.len() as f64
    );
    println!(
        "FIGURE ai_tokens_pct_of_raw {:.2}",
        100.0 * (j["input_tokens"].as_f64().unwrap() / sent as f64)
            / (raw_tokens as f64 / d.conversations.len() as f64)
    );
    assert_eq!(j["status"], "done");

    // The same conversations by batch: held at the fake, then released; the job should end
    // within a poll of the release, at half the synchronous cost.
    let fake = FakeAi::start(Kind::Gemini, Duration::from_secs(2)).await;
    fake.hold_batches(true);
    let mut o = ServerOptions::default()
        .with("MAX_FILE_SIZE", "104857600")
        .with("AI_BATCH_MODE", "auto")
        .with("AI_BATCH_POLL_MS", "200");
    o.env.extend(fake.env("bench-key"));
    let s = Server::start(o);
    let up: Value = upload(&s.url, batch_bytes, None)
        .await
        .json()
        .await
        .unwrap();
    let batch_job = up["job"]["id"].as_str().unwrap().to_owned();
    while fake.batches().len() < 2 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Let the store record the second batch before the release.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let released = Instant::now();
    fake.release_batches();
    let b = loop {
        let b = get_json(&format!("{}/api/jobs/{batch_job}", s.url), 200).await;
        if b["status"] != "running" && b["status"] != "queued" {
            break b;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let after = released.elapsed().as_secs_f64() * 1000.0;
    let ratio = b["cost_usd"].as_f64().unwrap() / j["cost_usd"].as_f64().unwrap();
    println!(
        "BENCH ai batch: {} batches, job {} {:.0} ms after the fake released them; cost {:.5} USD vs {:.5} synchronously ({:.1}%), saved {:.5}",
        fake.batches().len(), b["status"], after, b["cost_usd"].as_f64().unwrap(), j["cost_usd"].as_f64().unwrap(), ratio * 100.0, b["saved_usd"].as_f64().unwrap()
    );
    println!("FIGURE ai_batch_after_release_ms {after:.0}");
    println!("FIGURE ai_batch_cost_pct_of_sync {:.1}", ratio * 100.0);
    assert_eq!(b["status"], "done");
}

/// Runs wrk on `url` with 50 connections for `secs` and returns its p95 latency (ms) and the
/// requests that failed.
fn wrk_p95(url: &str, secs: u32) -> (f64, u64) {
    let lua = std::env::temp_dir().join("pp-wrk-p95.lua");
    std::fs::write(
        &lua,
        r#"done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("P95 %.2f ERRORS %d REQUESTS %d\n", latency:percentile(95) / 1000,
    e.connect + e.read + e.write + e.status + e.timeout, summary.requests))
end"#,
    )
    .unwrap();
    let out = std::process::Command::new("wrk")
        .args(["-t2", "-c50", &format!("-d{secs}s"), "-s"])
        .arg(&lua)
        .arg(url)
        .output()
        .expect("wrk runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("P95"))
        .unwrap_or_else(|| panic!("wrk printed no summary: {text}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    println!("BENCH metrics under load while an AI job runs: {line}");
    (words[1].parse().unwrap(), words[3].parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run by scripts/bench ai"]
async fn metrics_stay_fast_while_an_ai_job_writes() {
    // 60,000 conversations queued for the AI; batches land every few tens of milliseconds, each
    // moving the data version (so the metrics are computed again from the rollups).
    let fake = FakeAi::start(Kind::Gemini, Duration::from_millis(500)).await;
    let mut o = ServerOptions::default()
        .with("AI_RPM", "6000")
        .with("AI_MAX_CONCURRENCY", "16")
        .with("AI_TPM", "100000000")
        .with("MAX_FILE_SIZE", "209715200")
        .with("AI_BATCH_MODE", "off");
    o.env.extend(fake.env("bench-key"));
    let s = Server::start(o);
    let mut jobs = Vec::new();
    for seed in 0..3 {
        let up: Value = upload(&s.url, export(20_000, 300 + seed), None)
            .await
            .json()
            .await
            .unwrap();
        jobs.push(up["job"]["id"].as_str().unwrap().to_owned());
    }
    let analysed = || async {
        let mut n = 0;
        for job in &jobs {
            n += get_json(&format!("{}/api/jobs/{job}", s.url), 200).await["done"]
                .as_i64()
                .unwrap();
        }
        n
    };
    let before = analysed().await;
    let url = format!("{}/api/metrics", s.url);
    let (p95, errors) = tokio::task::spawn_blocking(move || wrk_p95(&url, 20))
        .await
        .unwrap();
    let written = analysed().await - before;
    println!(
        "BENCH metrics under load while an AI job runs: {written} conversations analysed meanwhile"
    );
    println!("FIGURE load_metrics_during_ai_p95_ms {p95:.1}");
    assert_eq!(errors, 0, "every request answered");
    assert!(written > 0, "the job wrote results during the measurement");
}

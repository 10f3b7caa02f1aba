//! Load-and-fault run (not a test: ignored unless asked for, run by `scripts/bench soak`): wrk
//! reads `/api/metrics` and `/api/conversations` with 50 connections while uploads, forced
//! re-uploads and AI jobs against a fake provider that answers 429s, 5xx and hangs run for
//! `SOAK_SECS` (600). Afterwards the store must be consistent (every chat stored once, with the
//! messages of its last forced upload and of the plain uploads after it; every job finished), with 0 errors and the server back under
//! 300 MB. Prints the figures.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use powerpulse_e2e::api::{get_json, upload, wait_job};
use powerpulse_e2e::fake_ai::{FakeAi, Fault, Kind};
use powerpulse_e2e::server::{Server, ServerOptions};
use powerpulse_e2e::{export, TempDir};
use serde_json::Value;

const WRK_LUA: &str = r#"
done = function(summary, latency, requests)
  io.write(string.format("p50=%.2f p95=%.2f p99=%.2f max=%.2f rps=%.0f errors=%d non2xx=%d\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.requests / (summary.duration / 1e6),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
"#;

fn rss_mb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0)
        / 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "soak run: scripts/bench soak"]
async fn load_and_faults_leave_a_consistent_store() {
    let secs: u64 = std::env::var("SOAK_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(600);
    let fake = FakeAi::start(Kind::OpenAi, Duration::from_millis(300)).await;
    // Mostly good answers, with rate limits, server errors and hangs longer than the timeout.
    let pattern = [
        Fault::Ok,
        Fault::Ok,
        Fault::RateLimited(Duration::from_millis(500)),
        Fault::Ok,
        Fault::ServerError(503),
        Fault::Ok,
        Fault::Hang(Duration::from_secs(5)),
        Fault::ServerError(500),
    ];
    fake.script(pattern.iter().cycle().take(20_000).cloned());
    let mut o = ServerOptions::default()
        .with("AI_RPM", "3000")
        .with("AI_TIMEOUT_SECS", "2")
        .with("AI_MAX_RETRIES", "3")
        .with("AI_BATCH_MAX_CONVERSATIONS", "20")
        // Half the calls fail on purpose: production's backoff (1 s doubling to 30 s) would make
        // draining the backlog after the run take longer than the run itself.
        .with("AI_BACKOFF_BASE_MS", "100")
        .with("AI_BACKOFF_CAP_MS", "2000");
    o.env.extend(fake.env("sk-soak"));
    let s = Server::start(o);
    let pid = s.pid();
    let dir = TempDir::new("soak");

    // What the store must hold at the end: each chat as its last forced upload had it, with
    // the messages of the plain uploads after it (merged: cleaning keeps each message once).
    let mut last: BTreeMap<String, Value> = BTreeMap::new();
    let mut remember = |bytes: &[u8], force: bool| {
        let v: Value = serde_json::from_slice(bytes).unwrap();
        for (id, msgs) in v.as_object().unwrap() {
            match last.get_mut(id).and_then(Value::as_array_mut) {
                Some(old) if !force => old.extend(msgs.as_array().unwrap().iter().cloned()),
                _ => {
                    last.insert(id.clone(), msgs.clone());
                }
            }
        }
    };
    let base = export(3000, 1);
    remember(&base, true);
    let up: Value = upload(&s.url, base.clone(), None)
        .await
        .json()
        .await
        .unwrap();
    let mut jobs: Vec<String> = up["job"]["id"]
        .as_str()
        .map(str::to_owned)
        .into_iter()
        .collect();

    let lua = dir.join("report.lua");
    std::fs::write(&lua, WRK_LUA).unwrap();
    let wrk = |path: &str| {
        Command::new("wrk")
            .args(["-t1", "-c25", &format!("-d{secs}s"), "-s"])
            .arg(&lua)
            .arg(format!("{}{path}", s.url))
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("wrk is installed (scripts/setup)")
    };
    let metrics_load = wrk("/api/metrics");
    let list_load = wrk("/api/conversations?page=3&page_size=50");

    let started = Instant::now();
    let (mut uploads, mut refused, mut peak) = (0u32, 0u32, 0u64);
    let mut round = 0u64;
    while started.elapsed() < Duration::from_secs(secs) {
        round += 1;
        let (bytes, force) = match round % 3 {
            0 => (export(200, 1000 + round), None),
            1 => (base.clone(), Some("true")),
            _ => (export(300, 1 + round % 2), Some("true")),
        };
        let r = upload(&s.url, bytes.clone(), force).await;
        match r.status().as_u16() {
            200 => {
                remember(&bytes, force.is_some());
                uploads += 1;
                let v: Value = r.json().await.unwrap();
                if let Some(id) = v["job"]["id"].as_str() {
                    jobs.push(id.to_owned());
                }
            }
            429 => refused += 1,
            other => panic!(
                "upload answered {other}: {}",
                r.text().await.unwrap_or_default()
            ),
        }
        peak = peak.max(rss_mb(pid));
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    let report = |child: std::process::Child| {
        let out = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find(|l| l.starts_with("p50="))
            .unwrap_or("no report")
            .to_owned()
    };
    let metrics_report = report(metrics_load);
    let list_report = report(list_load);
    // The figures of the run, before the backlog drains (which can take a while).
    println!(
        "SOAK {secs}s under load: uploads {uploads} (429 {refused}), server RSS peak {peak} MB\n  /api/metrics: {metrics_report}\n  /api/conversations: {list_report}"
    );
    let field = |report: &str, name: &str| -> f64 {
        report
            .split_whitespace()
            .find_map(|w| w.strip_prefix(name))
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN)
    };
    println!(
        "FIGURE soak_metrics_p95_ms {}",
        field(&metrics_report, "p95=")
    );
    let errors: f64 = [&metrics_report, &list_report]
        .iter()
        .map(|r| field(r, "errors=") + field(r, "non2xx="))
        .sum();
    println!("FIGURE soak_errors {errors}");
    println!("FIGURE soak_rss_mb {peak}");

    // Every job ends (done or failed after its retries), nothing left running.
    for id in &jobs {
        let j = wait_job(&s.url, id, Duration::from_secs(600)).await;
        assert!(
            matches!(j["status"].as_str(), Some("done" | "failed" | "cancelled")),
            "job {id}: {j}"
        );
    }
    // The store holds every chat once, with the messages its uploads leave (see `remember`).
    let merged = serde_json::to_vec(&Value::Object(last.into_iter().collect())).unwrap();
    let expected = powerpulse_shared::process(&merged, &Default::default()).unwrap();
    let m = get_json(&format!("{}/api/metrics", s.url), 200).await;
    let want = expected.metrics(&Default::default());
    assert_eq!(
        m["total_conversations"], want.core.total_conversations,
        "{m}"
    );
    assert_eq!(m["total_messages"], want.core.total_messages, "{m}");
    assert_eq!(
        m["response_time"]["turn"]["n"], want.core.response_time.turn.n,
        "time metrics of the last uploads"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_mb(pid);
    println!(
        "SOAK {secs}s: uploads {uploads} (429 {refused}), jobs {}, AI calls {}, server RSS peak {peak} MB, after {after} MB\n  /api/metrics: {metrics_report}\n  /api/conversations: {list_report}",
        jobs.len(),
        fake.calls().len()
    );
    assert!(after < 300, "server memory after the run: {after} MB");
    for r in [&metrics_report, &list_report] {
        assert!(r.contains("errors=0 non2xx=0"), "errors under load: {r}");
    }
    let p95: f64 = metrics_report
        .split_whitespace()
        .find_map(|w| w.strip_prefix("p95="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::MAX);
    assert!(
        p95 < 10.0,
        "/api/metrics p95 {p95} ms during the run (target 10 ms)"
    );
}

//! AI analysis against fake Gemini and OpenAI servers that speak the real formats, with faults
//! injected: batching and limits, retries and back-off, validation, failures never stored as
//! scores, re-runs, cancellation, quota pauses, the browser's endpoint, and keys that never leak.

use std::time::{Duration, Instant};

use powerpulse_e2e::api::{client, count, get_json, upload, wait_job};
use powerpulse_e2e::fake_ai::{FakeAi, Fault, Kind};
use powerpulse_e2e::server::{binary, Server, ServerOptions};
use powerpulse_e2e::{export, workspace, TempDir};
use serde_json::{json, Value};

fn ai_server(fake: &FakeAi, key: &str, extra: &[(&str, &str)]) -> Server {
    let mut o = ServerOptions::default()
        .with("AI_BACKOFF_BASE_MS", "100")
        .with("AI_BACKOFF_CAP_MS", "2000");
    o.env.extend(fake.env(key));
    for (k, v) in extra {
        o = o.with(k, v);
    }
    Server::start(o)
}

async fn upload_job(s: &Server, bytes: Vec<u8>) -> (String, i64) {
    powerpulse_e2e::api::upload_job(&s.url, bytes).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_respect_the_budget_the_rate_and_the_concurrency() {
    let fake = FakeAi::start(Kind::OpenAi, Duration::from_millis(300)).await;
    let s = ai_server(
        &fake,
        "sk-batch",
        &[
            ("AI_BATCH_MAX_CONVERSATIONS", "20"),
            ("AI_MAX_CONCURRENCY", "3"),
            ("AI_RPM", "240"),
        ],
    );
    let (job, total) = upload_job(&s, export(240, 31)).await;
    let j = wait_job(&s.url, &job, Duration::from_secs(90)).await;
    assert_eq!(j["status"], "done", "{j}");
    assert_eq!(j["done"].as_i64().unwrap(), total);
    let calls = fake.calls();
    assert!(calls
        .iter()
        .all(|c| c.conversations <= 20 && c.conversations > 0));
    let sent: usize = calls.iter().map(|c| c.conversations).sum();
    assert_eq!(
        sent as i64 + j["cached"].as_i64().unwrap(),
        total,
        "every conversation once"
    );
    assert!(
        calls.len() as i64 <= total / 20 + 4,
        "{} calls for {total} conversations",
        calls.len()
    );
    assert!(
        fake.max_in_flight() <= 3,
        "in flight at once: {}",
        fake.max_in_flight()
    );
    // 240 per minute: one every 250 ms after a burst of 8 (two seconds' worth).
    let t0 = calls[0].at;
    for (k, c) in calls.iter().enumerate() {
        let earliest = Duration::from_millis(250).saturating_mul((k as u32).saturating_sub(8));
        assert!(
            c.at.duration_since(t0) + Duration::from_millis(30) >= earliest,
            "call {k} too early: {:?}",
            c.at.duration_since(t0)
        );
    }
    assert_eq!(j["calls"].as_u64().unwrap() as usize, calls.len());
    assert!(j["input_tokens"].as_i64().unwrap() > 0 && j["cost_usd"].as_f64().unwrap() > 0.0);
    assert!(fake.bad_requests().is_empty(), "{:?}", fake.bad_requests());
    let m = get_json(&format!("{}/api/metrics", s.url), 200).await;
    assert_eq!(
        m["analysis"]["by_analyzer"]["openai:gpt-6-luna"]
            .as_i64()
            .unwrap(),
        total
    );
    assert_eq!(m["analysis"]["pending"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_back_off_and_honour_retry_info() {
    let fake = FakeAi::start(Kind::Gemini, Duration::from_millis(20)).await;
    fake.script([
        Fault::RateLimited(Duration::from_millis(1200)),
        Fault::ServerError(503),
    ]);
    let s = ai_server(
        &fake,
        "gm-retry",
        &[("AI_BATCH_MAX_CONVERSATIONS", "40"), ("AI_RPM", "6000")],
    );
    let (job, total) = upload_job(&s, export(12, 32)).await;
    let j = wait_job(&s.url, &job, Duration::from_secs(60)).await;
    assert_eq!(j["status"], "done", "{j}");
    assert_eq!(j["done"].as_i64().unwrap(), total);
    let calls = fake.calls();
    assert_eq!(calls.len(), 3, "429, 503, then success");
    assert_eq!(j["retries"], 2);
    let gap1 = calls[1].at.duration_since(calls[0].at);
    let gap2 = calls[2].at.duration_since(calls[1].at);
    assert!(
        gap1 >= Duration::from_millis(1200),
        "RetryInfo.retryDelay honoured: {gap1:?}"
    );
    // Second retry: base 100 ms x 2^1, with jitter between 50% and 100%.
    assert!(
        gap2 >= Duration::from_millis(100) && gap2 < Duration::from_millis(900),
        "backoff: {gap2:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_header_is_honoured() {
    let fake = FakeAi::start(Kind::OpenAi, Duration::from_millis(20)).await;
    fake.script([Fault::RateLimited(Duration::from_millis(1500))]);
    let s = ai_server(&fake, "sk-ra", &[("AI_RPM", "6000")]);
    let (job, _) = upload_job(&s, export(8, 33)).await;
    wait_job(&s.url, &job, Duration::from_secs(60)).await;
    let calls = fake.calls();
    assert_eq!(calls.len(), 2);
    assert!(calls[1].at.duration_since(calls[0].at) >= Duration::from_millis(1500));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_never_stored_as_scores_and_reruns_send_only_failed_and_changed() {
    let fake = FakeAi::start(Kind::OpenAi, Duration::from_millis(10)).await;
    fake.set_default(Fault::ServerError(500));
    let s = ai_server(
        &fake,
        "sk-fail",
        &[
            ("AI_MAX_RETRIES", "2"),
            ("AI_BATCH_MAX_CONVERSATIONS", "50"),
            ("AI_RPM", "6000"),
        ],
    );
    let bytes = export(40, 34);
    let (job, total) = upload_job(&s, bytes.clone()).await;
    let j = wait_job(&s.url, &job, Duration::from_secs(60)).await;
    assert_eq!(j["status"], "failed", "{j}");
    assert_eq!(
        (j["done"].as_i64().unwrap(), j["failed"].as_i64().unwrap()),
        (0, total)
    );
    assert_eq!(fake.calls().len(), 3, "one batch: the call and 2 retries");
    // The built-in analysis stands, labelled builtin, with the failure recorded.
    let d = powerpulse_shared::process(&bytes, &Default::default()).unwrap();
    let page = get_json(&format!("{}/api/conversations?page_size=100", s.url), 200).await;
    for c in page["conversations"].as_array().unwrap() {
        assert_eq!(c["analyzer"], "builtin");
        assert_eq!(c["analysis_status"], "failed");
        assert!(
            c["ai_error"].as_str().unwrap().contains("HTTP 500"),
            "{}",
            c["ai_error"]
        );
        let built = d
            .conversations
            .iter()
            .find(|x| x.summary.chat_id == c["fb_chat_id"].as_str().unwrap())
            .unwrap();
        assert_eq!(
            c["satisfaction_score"],
            json!(built.summary.analysis.satisfaction_score),
            "no made-up score"
        );
        assert_eq!(c["topics"], json!(built.summary.analysis.topics));
    }
    let m = get_json(&format!("{}/api/metrics", s.url), 200).await;
    assert_eq!(m["analysis"]["failed"].as_i64().unwrap(), total);
    // Re-run: the same file again sends exactly the failed ones.
    fake.set_default(Fault::Ok);
    let before = fake.calls().len();
    let up: Value = upload(&s.url, bytes.clone(), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(up["conversations_skipped"].as_i64().unwrap(), total);
    let job2 = up["job"]["id"]
        .as_str()
        .expect("failed ones are retried")
        .to_owned();
    let j2 = wait_job(&s.url, &job2, Duration::from_secs(60)).await;
    assert_eq!(
        (j2["total"].as_i64().unwrap(), j2["done"].as_i64().unwrap()),
        (total, total)
    );
    let sent: usize = fake.calls()[before..].iter().map(|c| c.conversations).sum();
    assert_eq!(sent as i64 + j2["cached"].as_i64().unwrap(), total);
    // Re-run again: nothing to do. Then change one conversation: exactly that one is sent.
    let up: Value = upload(&s.url, bytes.clone(), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(up["job"], Value::Null);
    let mut v: Value = serde_json::from_slice(&bytes).unwrap();
    let first = v.as_object_mut().unwrap().values_mut().next().unwrap();
    first.as_array_mut().unwrap().push(json!({"MESSAGE_CONTENT": "Still no power here, useless", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-08-30T10:00:00.000Z"}));
    let before = fake.calls().len();
    let up: Value = upload(&s.url, serde_json::to_vec(&v).unwrap(), None)
        .await
        .json()
        .await
        .unwrap();
    let j3 = wait_job(
        &s.url,
        up["job"]["id"].as_str().unwrap(),
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(j3["total"], 1);
    let sent: usize = fake.calls()[before..].iter().map(|c| c.conversations).sum();
    assert_eq!(sent, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_missing_malformed_and_truncated_answers_are_retried_in_smaller_batches() {
    let fake = FakeAi::start(Kind::Gemini, Duration::from_millis(10)).await;
    fake.script([
        Fault::MissingItems(3),
        Fault::InvalidItems(1),
        Fault::MalformedBody,
        Fault::Truncated,
        Fault::MalformedModelJson,
    ]);
    let s = ai_server(
        &fake,
        "gm-valid",
        &[
            ("AI_BATCH_MAX_CONVERSATIONS", "12"),
            ("AI_MAX_RETRIES", "3"),
            ("AI_RPM", "6000"),
            ("AI_MAX_CONCURRENCY", "1"),
        ],
    );
    let bytes = export(12, 35);
    let (job, total) = upload_job(&s, bytes).await;
    let j = wait_job(&s.url, &job, Duration::from_secs(60)).await;
    let calls = fake.calls();
    assert_eq!(calls[0].conversations as i64, total);
    assert!(
        calls[1..].iter().all(|c| c.conversations <= 3),
        "only the failed items go again: {:?}",
        calls.iter().map(|c| c.conversations).collect::<Vec<_>>()
    );
    assert!(j["retries"].as_i64().unwrap() >= 4, "{j}");
    assert_eq!(
        j["done"].as_i64().unwrap() + j["failed"].as_i64().unwrap(),
        total
    );
    // Whatever failed in the end is recorded as failed, never stored with a score of 9.
    let page = get_json(&format!("{}/api/conversations?page_size=100", s.url), 200).await;
    for c in page["conversations"].as_array().unwrap() {
        let score = c["satisfaction_score"].as_i64();
        assert!(score.is_none_or(|v| (1..=5).contains(&v)));
        if c["analysis_status"] == "complete" {
            assert_eq!(c["analyzer"], "gemini:gemini-3.5-flash-lite");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_quota_pauses_the_job_instead_of_burning_retries() {
    for kind in [Kind::Gemini, Kind::OpenAi] {
        let fake = FakeAi::start(kind, Duration::from_millis(10)).await;
        fake.set_default(Fault::QuotaExhausted);
        let s = ai_server(
            &fake,
            "key-quota",
            &[("AI_RPM", "6000"), ("AI_MAX_CONCURRENCY", "1")],
        );
        let (job, _) = upload_job(&s, export(30, 36)).await;
        let j = wait_job(&s.url, &job, Duration::from_secs(30)).await;
        assert_eq!(j["status"], "paused", "{j}");
        assert!(j["error"].as_str().unwrap().contains("429"));
        assert!(j["paused_until_ms"].as_i64().is_some());
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            fake.calls().len(),
            1,
            "{kind:?}: no retries against an exhausted quota"
        );
        // The paused job's conversations keep the built-in analysis and stay pending.
        let m = get_json(&format!("{}/api/metrics", s.url), 200).await;
        assert!(m["analysis"]["pending"].as_i64().unwrap() > 0);
        assert_eq!(
            m["analysis"]["by_analyzer"]["builtin"],
            m["total_conversations"]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn billing_and_daily_limits_pause_the_job_until_they_can_lift() {
    // (fault, provider, the shortest pause the provider's answer allows)
    let cases = [
        (
            Fault::BillingExhausted,
            Kind::OpenAi,
            Duration::from_secs(3000),
        ),
        (Fault::DailyLimit, Kind::OpenAi, Duration::from_secs(350)),
        (Fault::DailyLimit, Kind::Gemini, Duration::from_secs(60)),
    ];
    for (fault, kind, at_least) in cases {
        let fake = FakeAi::start(kind, Duration::from_millis(10)).await;
        fake.set_default(fault.clone());
        let s = ai_server(
            &fake,
            "key-limit",
            &[("AI_RPM", "6000"), ("AI_MAX_CONCURRENCY", "1")],
        );
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        let (job, _) = upload_job(&s, export(30, 37)).await;
        let j = wait_job(&s.url, &job, Duration::from_secs(30)).await;
        assert_eq!(j["status"], "paused", "{fault:?} {kind:?}: {j}");
        let until = j["paused_until_ms"].as_i64().unwrap();
        assert!(
            until - started >= at_least.as_millis() as i64,
            "{fault:?} {kind:?}: paused only {} ms",
            until - started
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            fake.calls().len(),
            1,
            "{fault:?} {kind:?}: not retried seconds apart"
        );
        assert!(fake.bad_requests().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_or_refused_answers_are_recorded_per_conversation_not_retried() {
    for kind in [Kind::Gemini, Kind::OpenAi] {
        let fake = FakeAi::start(kind, Duration::from_millis(10)).await;
        fake.set_default(Fault::Blocked);
        let s = ai_server(
            &fake,
            "key-blocked",
            &[
                ("AI_RPM", "6000"),
                ("AI_MAX_CONCURRENCY", "1"),
                ("AI_BATCH_MAX_CONVERSATIONS", "4"),
                ("AI_MAX_RETRIES", "3"),
            ],
        );
        let (job, total) = upload_job(&s, export(4, 38)).await;
        let j = wait_job(&s.url, &job, Duration::from_secs(30)).await;
        assert_eq!(j["failed"].as_i64().unwrap(), total, "{kind:?}: {j}");
        let sizes: Vec<usize> = fake.calls().iter().map(|c| c.conversations).collect();
        // The batch is halved to find the conversation, and each single is asked once.
        assert_eq!(
            sizes.iter().filter(|&&n| n == 1).count() as i64,
            total,
            "{kind:?}: {sizes:?}"
        );
        assert_eq!(sizes.len() as i64, 2 * total - 1, "{kind:?}: {sizes:?}");
        let page = get_json(&format!("{}/api/conversations?page_size=10", s.url), 200).await;
        for c in page["conversations"].as_array().unwrap() {
            assert_eq!(c["analysis_status"], "failed");
            assert_eq!(c["analyzer"], "builtin", "the built-in analysis stays");
            let why = c["ai_error"].as_str().unwrap_or_default();
            assert!(
                why.contains("blocked") || why.contains("refused"),
                "{kind:?}: {c}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_model_fails_at_once_with_the_providers_message() {
    for (kind, var, model) in [
        (Kind::Gemini, "GEMINI_MODEL", "gemini-3-flash-lite"),
        (Kind::OpenAi, "OPENAI_MODEL", "gpt-5.9-mini"),
    ] {
        let fake = FakeAi::start(kind, Duration::from_millis(10)).await;
        let s = ai_server(
            &fake,
            "key-model",
            &[("AI_RPM", "6000"), (var, model), ("AI_MAX_RETRIES", "3")],
        );
        let (job, total) = upload_job(&s, export(10, 39)).await;
        let j = wait_job(&s.url, &job, Duration::from_secs(30)).await;
        assert_eq!(j["failed"].as_i64().unwrap(), total, "{kind:?}: {j}");
        assert_eq!(
            j["retries"].as_i64(),
            Some(0),
            "{kind:?}: a 404 is not retried: {j}"
        );
        let page = get_json(&format!("{}/api/conversations?page_size=20", s.url), 200).await;
        for c in page["conversations"].as_array().unwrap() {
            let why = c["ai_error"].as_str().unwrap_or_default();
            assert!(why.contains("404") && why.contains(model), "{kind:?}: {c}");
            assert!(!why.contains("key-model"), "the key never shows");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_start_up_check_names_a_wrong_model_in_health_the_log_and_the_cli() {
    for (kind, var, wrong, right) in [
        (
            Kind::Gemini,
            "GEMINI_MODEL",
            "gemini-3-flash-lite",
            "gemini-3.5-flash-lite",
        ),
        (Kind::OpenAi, "OPENAI_MODEL", "gpt-6-lunar", "gpt-6-luna"),
    ] {
        let fake = FakeAi::start(kind, Duration::from_millis(10)).await;
        for (model, want) in [(wrong, "missing"), (right, "found")] {
            let s = ai_server(&fake, "key-check", &[(var, model)]);
            let deadline = Instant::now() + Duration::from_secs(10);
            let health = loop {
                let h = get_json(&format!("{}/health", s.url), 200).await;
                if h["ai_model"]["status"] != "pending" || Instant::now() > deadline {
                    break h;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            };
            assert_eq!(
                health["ai_model"]["status"], want,
                "{kind:?} {model}: {health}"
            );
            if want == "missing" {
                let message = health["ai_model"]["message"].as_str().unwrap();
                assert!(
                    message.contains(wrong) && message.contains(right),
                    "{message}"
                );
                assert!(s.logs().contains(message), "the log says it too");
                assert!(!health.to_string().contains("key-check"));
            }
            // `powerpulse analyze --check` gives the same verdict.
            let out = std::process::Command::new(binary())
                .args(["analyze", "--check"])
                .envs(fake.env("key-check"))
                .env(var, model)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(if want == "found" { 0 } else { 1 }),
                "{stderr}"
            );
            if want == "missing" {
                assert!(stderr.contains(right), "{stderr}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thinking_is_billed_as_output_and_never_read_as_the_answer() {
    for kind in [Kind::Gemini, Kind::OpenAi] {
        let fake = FakeAi::start(kind, Duration::from_millis(10)).await;
        fake.set_default(Fault::Thinking);
        let s = ai_server(
            &fake,
            "key-think",
            &[("AI_RPM", "6000"), ("AI_BATCH_MAX_CONVERSATIONS", "50")],
        );
        let (job, total) = upload_job(&s, export(10, 40)).await;
        let j = wait_job(&s.url, &job, Duration::from_secs(30)).await;
        assert_eq!(j["done"].as_i64().unwrap(), total, "{kind:?}: {j}");
        let calls = fake.calls().len() as i64;
        let out = j["output_tokens"].as_i64().unwrap();
        assert!(
            out >= calls * powerpulse_e2e::fake_ai::THOUGHT_TOKENS as i64,
            "{kind:?}: {out} output tokens for {calls} calls"
        );
        // The requests ask for the cheapest thinking the model family takes.
        let body = &fake.calls()[0].body;
        match kind {
            Kind::Gemini => assert_eq!(
                body["generationConfig"]["thinkingConfig"]["thinkingLevel"],
                "minimal"
            ),
            Kind::OpenAi => assert_eq!(body["reasoning_effort"], "low"),
        }
        assert!(fake.bad_requests().is_empty(), "{:?}", fake.bad_requests());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_stops_calls_within_a_second() {
    let fake = FakeAi::start(Kind::OpenAi, Duration::from_secs(3)).await;
    let s = ai_server(
        &fake,
        "sk-cancel",
        &[
            ("AI_BATCH_MAX_CONVERSATIONS", "5"),
            ("AI_MAX_CONCURRENCY", "4"),
            ("AI_RPM", "6000"),
        ],
    );
    let (job, total) = upload_job(&s, export(200, 37)).await;
    // Wait for calls in flight.
    let t = Instant::now();
    while fake.calls().len() < 4 {
        assert!(t.elapsed() < Duration::from_secs(20), "no calls started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let cancelled_at = Instant::now();
    let r = client()
        .delete(format!("{}/api/jobs/{job}", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let j: Value = r.json().await.unwrap();
    assert_eq!(j["status"], "cancelled");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let calls_after_1s = fake.calls().len();
    assert_eq!(fake.max_in_flight().min(4), 4);
    // Calls in flight were abandoned (the fake saw the connections close).
    let in_flight_now = {
        let calls = fake.calls();
        calls.iter().filter(|c| c.at > cancelled_at).count()
    };
    assert_eq!(in_flight_now, 0, "no call started after the cancel");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        fake.calls().len(),
        calls_after_1s,
        "no calls after the cancel"
    );
    let j = get_json(&format!("{}/api/jobs/{job}", s.url), 200).await;
    assert_eq!(j["status"], "cancelled");
    assert_eq!(j["done"], 0, "the abandoned calls wrote nothing");
    let m = get_json(&format!("{}/api/metrics", s.url), 200).await;
    assert_eq!(
        m["analysis"]["failed"].as_i64().unwrap(),
        total,
        "cancelled conversations are retried on the next run"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_resumes_its_job() {
    let fake = FakeAi::start(Kind::OpenAi, Duration::from_millis(400)).await;
    let mut s = ai_server(
        &fake,
        "sk-resume",
        &[
            ("AI_BATCH_MAX_CONVERSATIONS", "10"),
            ("AI_MAX_CONCURRENCY", "1"),
            ("AI_RPM", "6000"),
            ("JOB_LEASE_MS", "1500"),
        ],
    );
    let (job, total) = upload_job(&s, export(120, 38)).await;
    let t = Instant::now();
    loop {
        let j = get_json(&format!("{}/api/jobs/{job}", s.url), 200).await;
        if j["done"].as_i64().unwrap() >= 20 {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(30), "{j}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    s.kill9();
    s.restart();
    let j = wait_job(&s.url, &job, Duration::from_secs(90)).await;
    assert_eq!(j["status"], "done", "{j}");
    assert_eq!(j["done"].as_i64().unwrap(), total);
    assert_eq!(
        count(
            &s.database_url,
            "SELECT COUNT(*) FROM job_items WHERE handled_count <> 1"
        )
        .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_endpoint_batches_validates_and_caches() {
    let fake = FakeAi::start(Kind::OpenAi, Duration::from_millis(20)).await;
    let s = ai_server(
        &fake,
        "sk-analyze",
        &[("AI_BATCH_MAX_CONVERSATIONS", "10"), ("AI_RPM", "6000")],
    );
    let d = powerpulse_shared::process(&export(30, 39), &Default::default()).unwrap();
    let convs: Vec<Value> = d
        .conversations
        .iter()
        .map(|c| json!({"id": c.summary.chat_id, "messages": c.messages.iter().filter(|m| m.role != powerpulse_shared::Role::Bot)
            .map(|m| json!({"role": m.role.as_str(), "text": m.text})).collect::<Vec<_>>()}))
        .collect();
    let r = client()
        .post(format!("{}/api/analyze", s.url))
        .json(&json!({"conversations": convs}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["analyzer"], "openai:gpt-6-luna");
    let results = body["results"].as_array().unwrap();
    assert_eq!(results.len(), convs.len());
    for (res, c) in results.iter().zip(&d.conversations) {
        assert_eq!(res["id"], c.summary.chat_id.as_str());
        if c.summary.customer_messages + c.summary.agent_messages == 0 {
            assert_eq!(res["status"], "failed");
            continue;
        }
        assert_eq!(res["status"], "done", "{res}");
        assert_eq!(
            res["sentiment"].as_array().unwrap().len(),
            res["customer_message_indices"].as_array().unwrap().len()
        );
    }
    let calls = fake.calls().len();
    assert!(calls >= 3);
    let again: Value = client()
        .post(format!("{}/api/analyze", s.url))
        .json(&json!({"conversations": convs}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(again["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "done")
        .all(|r| r["cached"] == true));
    assert_eq!(fake.calls().len(), calls, "cached: no new calls");
    let forced: Value = client()
        .post(format!("{}/api/analyze", s.url))
        .json(&json!({"conversations": convs, "force": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(forced["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["cached"] == false));
    let too_many: Vec<Value> = (0..501)
        .map(|i| json!({"id": format!("c{i}"), "messages": []}))
        .collect();
    let r = client()
        .post(format!("{}/api/analyze", s.url))
        .json(&json!({"conversations": too_many}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    fake.set_default(Fault::QuotaExhausted);
    let r = client()
        .post(format!("{}/api/analyze", s.url))
        .json(&json!({"conversations": convs, "force": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_never_leak_into_logs_responses_documents_or_the_app() {
    for kind in [Kind::Gemini, Kind::OpenAi] {
        let key = "sk-live-TOPSECRET-0042";
        let fake = FakeAi::start(kind, Duration::from_millis(10)).await;
        fake.script([Fault::ServerError(500)]);
        let s = ai_server(&fake, key, &[("AI_RPM", "6000"), ("RUST_LOG", "debug")]);
        let (job, _) = upload_job(&s, export(20, 40)).await;
        wait_job(&s.url, &job, Duration::from_secs(60)).await;
        assert!(
            fake.calls().iter().all(|c| c.key == key),
            "the key goes to the provider, and only there"
        );
        let mut seen = String::new();
        for path in [
            "/health",
            "/api/openapi.json",
            &format!("/api/jobs/{job}"),
            "/api/conversations?page_size=100",
            "/api/metrics",
            "/docs/",
        ] {
            seen.push_str(
                &client()
                    .get(format!("{}{path}", s.url))
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap(),
            );
        }
        assert!(
            !seen.contains(key) && !seen.contains("TOPSECRET"),
            "{kind:?}: key in an API response"
        );
        assert!(!s.logs().contains("TOPSECRET"), "{kind:?}: key in the logs");
    }
    // The app's files (built by scripts/build-app) carry no key either.
    if let Ok(entries) = std::fs::read_dir(workspace().join("dist")) {
        for e in entries.flatten() {
            let bytes = std::fs::read(e.path()).unwrap_or_default();
            assert!(!String::from_utf8_lossy(&bytes).contains("TOPSECRET"));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_prints_exactly_what_would_be_sent() {
    let dir = TempDir::new("dry");
    let bytes = export(60, 41);
    let file = dir.join("e.json");
    std::fs::write(&file, &bytes).unwrap();
    for (service, needle) in [
        ("openai", "chat/completions"),
        ("gemini", ":generateContent"),
    ] {
        let out = std::process::Command::new(binary())
            .args([
                "analyze",
                file.to_str().unwrap(),
                "--dry-run",
                "--service",
                service,
            ])
            .env_clear()
            .env("OPENAI_API_KEY", "sk-dry-SECRET")
            .env("AI_SERVICE", service)
            .env("GEMINI_API_KEY", "gm-dry-SECRET")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(needle));
        assert!(!text.contains("SECRET"));
        assert!(text.contains("C: ") && text.contains("A: "));
        assert!(
            !text.contains("@care.example") && !text.contains("amina.k"),
            "no agent identities are sent"
        );
        assert!(
            !text.contains("Thank you for reaching out"),
            "bot messages are not sent"
        );
        assert!(
            text.contains("[number]") || text.contains("[phone]"),
            "numbers are redacted"
        );
        let summary = String::from_utf8(out.stderr).unwrap();
        let pct: f64 = summary
            .rsplit('(')
            .next()
            .unwrap()
            .trim_end()
            .trim_end_matches(')')
            .trim_end_matches('%')
            .parse()
            .unwrap();
        assert!(
            pct <= 50.0,
            "sent tokens are at most half the raw transcript's: {summary}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_conversation_stores_exactly_the_answer_given_for_it() {
    let fake = FakeAi::start(Kind::OpenAi, Duration::from_millis(10)).await;
    let s = ai_server(
        &fake,
        "sk-values",
        &[("AI_BATCH_MAX_CONVERSATIONS", "7"), ("AI_RPM", "6000")],
    );
    // Every batch comes back in reverse order: only answers matched by id land on their chat.
    fake.set_default(Fault::Reordered);
    let bytes = export(60, 77);
    let (job, total) = upload_job(&s, bytes.clone()).await;
    let j = wait_job(&s.url, &job, Duration::from_secs(90)).await;
    assert_eq!(j["status"], "done", "{j}");
    assert!(
        fake.calls().len() >= 8,
        "several batches: {}",
        fake.calls().len()
    );
    let d = powerpulse_shared::process(&bytes, &Default::default()).unwrap();
    let mut checked = 0;
    for c in &d.conversations {
        let sent: Vec<&powerpulse_shared::Message> = c
            .messages
            .iter()
            .filter(|m| m.role != powerpulse_shared::Role::Bot)
            .collect();
        // Short conversations reach the model whole, so the fake's answer is computable here.
        if sent.len() > 12 || sent.iter().any(|m| m.text.chars().count() > 600) {
            continue;
        }
        let want = &powerpulse_e2e::fake_ai::answer_for(c);
        let id = &c.summary.chat_id;
        let got = get_json(&format!("{}/api/conversations/{id}", s.url), 200).await;
        assert_eq!(got["analyzer"], "openai:gpt-6-luna", "{id}: {got}");
        assert_eq!(
            got["satisfaction_score"], want["satisfaction_score"],
            "{id}"
        );
        assert_eq!(
            got["first_contact_resolution"], want["first_contact_resolution"],
            "{id}"
        );
        assert_eq!(got["topics"], want["topics"], "{id}");
        checked += 1;
    }
    assert!(
        checked * 10 >= total as usize * 8,
        "most chats checked: {checked} of {total}"
    );
    // The metrics follow the stored answers, not the built-in ones.
    let m = get_json(&format!("{}/api/metrics", s.url), 200).await;
    let page = get_json(&format!("{}/api/conversations?page_size=100", s.url), 200).await;
    let rows = page["conversations"].as_array().unwrap();
    let scored: Vec<i64> = rows
        .iter()
        .filter_map(|r| r["satisfaction_score"].as_i64())
        .collect();
    let csat = 100.0 * scored.iter().filter(|&&v| v >= 4).count() as f64 / scored.len() as f64;
    assert!(
        (m["csat_percentage"].as_f64().unwrap() - csat).abs() < 0.01,
        "{m}"
    );
}

/// One chat as an export: a customer message and an agent reply.
fn one_chat(customer: &str) -> Vec<u8> {
    json!({"chat-x": [
        {"MESSAGE_CONTENT": customer, "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-08-12T10:00:00Z"},
        {"MESSAGE_CONTENT": "Kindly share your meter number.", "DIRECTION": "to_client", "SOCIAL_CREATE_TIME": "2025-08-12T10:05:00Z", "AGENT_USERNAME": "amina"}
    ]})
    .to_string()
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_for_content_replaced_during_the_call_is_not_written() {
    let fake = FakeAi::start(Kind::OpenAi, Duration::from_millis(1500)).await;
    // The first call answers (late); every later one fails, so only the first job's answer
    // could ever reach the store.
    fake.script([Fault::Ok]);
    fake.set_default(Fault::ServerError(500));
    let s = ai_server(
        &fake,
        "sk-race",
        &[("AI_MAX_RETRIES", "0"), ("AI_RPM", "6000")],
    );
    let (job1, _) = upload_job(&s, one_chat("Still no power here, bado")).await;
    let start = Instant::now();
    while fake.calls().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the first call was made"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // While the AI reads the old content, the chat is re-uploaded with other content.
    let new = one_chat("Thank you, it works now");
    let up: Value = upload(&s.url, new.clone(), Some("true"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(up["conversations_processed"], 1);
    wait_job(&s.url, &job1, Duration::from_secs(30)).await;
    if let Some(job2) = up["job"]["id"].as_str() {
        wait_job(&s.url, job2, Duration::from_secs(30)).await;
    }
    let got = get_json(&format!("{}/api/conversations/chat-x", s.url), 200).await;
    let builtin = powerpulse_shared::process(&new, &Default::default()).unwrap();
    let want = &builtin.conversations[0].summary.analysis;
    assert_eq!(
        got["analyzer"], "builtin",
        "the old content's AI answer was dropped: {got}"
    );
    assert_eq!(
        got["satisfaction_score"],
        json!(want.satisfaction_score),
        "{got}"
    );
    assert_eq!(got["topics"], json!(want.topics), "{got}");
    let texts: Vec<&str> = got["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["message_content"].as_str().unwrap())
        .collect();
    assert!(texts.contains(&"Thank you, it works now"), "{texts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nine_megabyte_answer_is_refused_and_the_batch_retried() {
    let fake = FakeAi::start(Kind::Gemini, Duration::from_millis(10)).await;
    fake.script([Fault::HugeAnswer]);
    let s = ai_server(
        &fake,
        "gm-huge",
        &[("AI_RPM", "6000"), ("AI_BATCH_MAX_CONVERSATIONS", "50")],
    );
    let (job, total) = upload_job(&s, export(12, 9)).await;
    let j = wait_job(&s.url, &job, Duration::from_secs(60)).await;
    assert_eq!(j["status"], "done", "{j}");
    assert_eq!(j["done"].as_i64().unwrap(), total, "{j}");
    assert!(
        j["retries"].as_i64().unwrap() >= 1,
        "the huge answer was retried: {j}"
    );
    assert!(fake.calls().len() >= 2);
    get_json(&format!("{}/health", s.url), 200).await;
}

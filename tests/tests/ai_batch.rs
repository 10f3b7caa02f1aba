//! Large backfills through the providers' Batch APIs (fakes as strict as the documented
//! services): every conversation analysed once at half the price, the job showing its mode,
//! due time and saving; a cancelled job's batch cancelled at the provider; a restart collecting
//! the batch it had submitted instead of submitting again; what a batch cannot answer analysed
//! synchronously; small jobs staying synchronous.

use std::time::{Duration, Instant};

use powerpulse_e2e::api::{client, count, get_json, wait_job};
use powerpulse_e2e::export;
use powerpulse_e2e::fake_ai::{self, BatchOutcome, BatchState, FakeAi, Kind};
use powerpulse_e2e::postgres::Postgres;
use powerpulse_e2e::server::{Server, ServerOptions};

fn batch_server(fake: &FakeAi, extra: &[(&str, &str)]) -> Server {
    batch_server_on(ServerOptions::default(), fake, extra)
}

fn batch_server_on(base: ServerOptions, fake: &FakeAi, extra: &[(&str, &str)]) -> Server {
    let mut o = base
        .with("AI_RPM", "6000")
        .with("AI_BATCH_POLL_MS", "100")
        .with("AI_BACKOFF_BASE_MS", "100");
    o.env.extend(fake.env("sk-batch-KEY"));
    for (k, v) in extra {
        o = o.with(k, v);
    }
    Server::start(o)
}

async fn upload_job(s: &Server, bytes: Vec<u8>) -> (String, i64) {
    powerpulse_e2e::api::upload_job(&s.url, bytes).await
}

async fn until(what: &str, mut ok: impl FnMut() -> bool) {
    let t = Instant::now();
    while !ok() {
        assert!(t.elapsed() < Duration::from_secs(60), "{what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn handled_other_than_once(s: &Server) -> i64 {
    count(
        &s.database_url,
        "SELECT COUNT(*) FROM job_items WHERE handled_count <> 1",
    )
    .await
}

/// 5,000 conversations through `kind`'s Batch API, as a team's first backfill would go.
async fn backfill(kind: Kind, price_in: f64, price_out: f64) {
    let fake = FakeAi::start(kind, Duration::from_millis(5)).await;
    let s = batch_server(&fake, &[("AI_BATCH_THRESHOLD", "1000")]);
    let bytes = export(5000, 61);
    let (job, total) = upload_job(&s, bytes.clone()).await;
    let j = wait_job(&s.url, &job, Duration::from_secs(300)).await;
    assert_eq!(j["status"], "done", "{j}");
    assert_eq!(j["mode"], "batch", "{j}");
    assert_eq!(j["done"].as_i64().unwrap(), total, "{j}");
    assert!(fake.calls().is_empty(), "no synchronous call was needed");
    assert!(fake.bad_requests().is_empty(), "{:?}", fake.bad_requests());
    let batches = fake.batches();
    let sent: usize = batches.iter().map(|b| b.conversations()).sum();
    assert_eq!(sent as i64, total, "every conversation sent once");
    assert_eq!(
        handled_other_than_once(&s).await,
        0,
        "every conversation stored once"
    );
    assert_eq!(
        fake.batch_log()
            .iter()
            .filter(|l| l.starts_with("create"))
            .count(),
        (total as usize).div_ceil(5000)
    );
    // The batch price: half of what the same tokens cost synchronously, the other half saved.
    let full = j["input_tokens"].as_f64().unwrap() * price_in / 1e6
        + j["output_tokens"].as_f64().unwrap() * price_out / 1e6;
    let cost = j["cost_usd"].as_f64().unwrap();
    assert!(full > 0.0);
    assert!(
        (cost - full / 2.0).abs() < 1e-9,
        "cost {cost}, full price {full}"
    );
    assert!(
        (j["saved_usd"].as_f64().unwrap() - full / 2.0).abs() < 1e-9,
        "{j}"
    );
    let due = j["expected_by_ms"].as_i64().unwrap() - j["created_ms"].as_i64().unwrap();
    assert!(
        (23 * 3600 * 1000..=25 * 3600 * 1000).contains(&due),
        "due within the providers' 24 hours: {due} ms"
    );
    // Each stored analysis is the fake's answer for that conversation.
    let d = powerpulse_shared::process(&bytes, &Default::default()).unwrap();
    let mut checked = 0;
    for c in d
        .conversations
        .iter()
        .filter(|c| c.messages.len() <= 12)
        .take(60)
    {
        let want = fake_ai::answer_for(c);
        let id = &c.summary.chat_id;
        let got = get_json(&format!("{}/api/conversations/{id}", s.url), 200).await;
        assert_eq!(
            got["satisfaction_score"], want["satisfaction_score"],
            "{id}"
        );
        assert_eq!(got["topics"], want["topics"], "{id}");
        checked += 1;
    }
    assert!(checked >= 50, "{checked} checked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gemini_backfill_goes_by_batch_at_half_price() {
    backfill(Kind::Gemini, 0.30, 2.50).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_openai_backfill_goes_by_batch_at_half_price() {
    backfill(Kind::OpenAi, 0.10, 0.50).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_job_cancels_its_batch_at_the_provider() {
    for kind in [Kind::Gemini, Kind::OpenAi] {
        let fake = FakeAi::start(kind, Duration::from_millis(5)).await;
        fake.hold_batches(true);
        let s = batch_server(&fake, &[("AI_BATCH_MODE", "always")]);
        let (job, _) = upload_job(&s, export(200, 62)).await;
        until("a batch is submitted", || !fake.batches().is_empty()).await;
        let url = format!("{}/api/jobs/{job}", s.url);
        let r = client().delete(url).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let id = fake.batches()[0].id.clone();
        until("the batch is cancelled at the provider", || {
            fake.batch_log().contains(&format!("cancel {id}"))
        })
        .await;
        assert_eq!(fake.batches()[0].state, BatchState::Cancelled);
        let j = get_json(&format!("{}/api/jobs/{job}", s.url), 200).await;
        assert_eq!(j["status"], "cancelled", "{j}");
        assert!(fake.calls().is_empty(), "nothing went synchronously");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_collects_the_batch_it_submitted() {
    restart_collects(ServerOptions::default, &[Kind::OpenAi, Kind::Gemini]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_collects_the_batch_it_submitted_on_postgres() {
    let Some(pg) = Postgres::start() else { return };
    let n = std::sync::atomic::AtomicU32::new(0);
    restart_collects(
        || {
            ServerOptions::db(&pg.database(&format!(
                "batch{}",
                n.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            )))
        },
        &[Kind::OpenAi],
    )
    .await;
}

async fn restart_collects(options: impl Fn() -> ServerOptions, kinds: &[Kind]) {
    for &kind in kinds {
        let fake = FakeAi::start(kind, Duration::from_millis(5)).await;
        fake.hold_batches(true);
        let mut s = batch_server_on(
            options(),
            &fake,
            &[("AI_BATCH_MODE", "always"), ("JOB_LEASE_MS", "1500")],
        );
        let (job, total) = upload_job(&s, export(300, 63)).await;
        until("a batch is submitted", || !fake.batches().is_empty()).await;
        // Give the store time to record it, then die without a word.
        tokio::time::sleep(Duration::from_millis(300)).await;
        s.kill9();
        fake.release_batches();
        s.restart();
        let j = wait_job(&s.url, &job, Duration::from_secs(90)).await;
        assert_eq!(j["status"], "done", "{j}");
        assert_eq!(j["done"].as_i64().unwrap(), total, "{j}");
        let creates = fake
            .batch_log()
            .iter()
            .filter(|l| l.starts_with("create"))
            .count();
        assert_eq!(creates, 1, "the same batch collected, not submitted again");
        assert!(fake.calls().is_empty());
        assert_eq!(handled_other_than_once(&s).await, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_batch_cannot_answer_is_analysed_synchronously() {
    for (kind, outcome) in [
        (Kind::Gemini, BatchOutcome::FailFirstRequest),
        (Kind::OpenAi, BatchOutcome::FailFirstRequest),
        (Kind::Gemini, BatchOutcome::Expire),
        (Kind::OpenAi, BatchOutcome::Fail),
    ] {
        let fake = FakeAi::start(kind, Duration::from_millis(5)).await;
        fake.set_batch_outcome(outcome);
        let s = batch_server(
            &fake,
            &[
                ("AI_BATCH_MODE", "always"),
                ("AI_BATCH_MAX_CONVERSATIONS", "20"),
            ],
        );
        let (job, total) = upload_job(&s, export(200, 64)).await;
        let j = wait_job(&s.url, &job, Duration::from_secs(90)).await;
        assert_eq!(j["status"], "done", "{kind:?} {outcome:?}: {j}");
        assert_eq!(
            j["done"].as_i64().unwrap(),
            total,
            "{kind:?} {outcome:?}: {j}"
        );
        let synchronously: usize = fake.calls().iter().map(|c| c.conversations).sum();
        let first_request = fake.batches()[0].requests[0].1.matches("### ").count();
        match outcome {
            BatchOutcome::FailFirstRequest => assert_eq!(
                synchronously, first_request,
                "{kind:?}: only the failed request's conversations go again"
            ),
            _ => assert_eq!(
                synchronously as i64, total,
                "{kind:?} {outcome:?}: all go again"
            ),
        }
        assert_eq!(handled_other_than_once(&s).await, 0);
        assert!(fake.bad_requests().is_empty(), "{:?}", fake.bad_requests());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_under_the_threshold_stays_synchronous() {
    let fake = FakeAi::start(Kind::Gemini, Duration::from_millis(5)).await;
    let s = batch_server(&fake, &[("AI_BATCH_THRESHOLD", "1000")]);
    let (job, total) = upload_job(&s, export(150, 65)).await;
    let j = wait_job(&s.url, &job, Duration::from_secs(90)).await;
    assert_eq!(j["status"], "done", "{j}");
    assert_eq!(j["mode"], "sync", "{j}");
    assert_eq!(j["saved_usd"].as_f64(), Some(0.0));
    assert!(fake.batches().is_empty());
    let sent: usize = fake.calls().iter().map(|c| c.conversations).sum();
    assert_eq!(sent as i64, total);
}

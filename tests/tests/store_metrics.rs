//! The store's rollups give exactly the shared crate's figures: after each step of a store's
//! life (an upload queued for the AI, AI results and failures, a forced re-upload that changes
//! and moves conversations, reviews put in place and taken back, a cancel, a store whose rollups are rebuilt from its conversations),
//! for random filters, `/api/metrics`, `/api/metrics/daily` and `/api/metrics/agents` as the
//! server computes them equal `compute_metrics`, `daily_metrics` and `agent_metrics` over the
//! stored summaries, on SQLite and PostgreSQL.

use chrono::{DateTime, Duration};
use powerpulse::store::{IngestRequest, JobStats, Store, StoredAnalysis};
use powerpulse_e2e::filters::filter_params;
use powerpulse_e2e::postgres::Postgres;
use powerpulse_e2e::{export, ingest_request, skip, TempDir};
use powerpulse_shared::evaluate::Label;
use powerpulse_shared::{
    agent_metrics, compute_metrics, daily_metrics, AnalysisStatus, Dataset, Filter, FilterParams,
    Summary,
};
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;

const AI: &str = "openai:gpt-test";

/// A varied review.
fn review(i: usize) -> Label {
    Label {
        satisfaction: (i % 5) as u8 + 1,
        fcr: [Some(true), Some(false), None][i % 3],
        topics: if i.is_multiple_of(2) {
            vec!["billing".into()]
        } else {
            vec!["outage".into(), "meter".into()]
        },
        customer_sentiment: None,
        language: None,
        note: format!("review {i}"),
        sampled: Some(i.is_multiple_of(2)),
    }
}

fn request(d: &Dataset, force: bool, ai: bool) -> IngestRequest {
    ingest_request(d, force, ai.then_some(AI))
}

fn process(export: &[u8]) -> Dataset {
    powerpulse_shared::process(export, &Default::default()).expect("the export parses")
}

/// The export with every third chat two days later and every fifth without its last message
/// (so a forced re-upload changes figures and moves conversations between rollups).
fn changed(export: &[u8]) -> Vec<u8> {
    let mut chats: serde_json::Map<String, Value> =
        serde_json::from_slice(export).expect("the export is an object");
    for (i, (_, messages)) in chats.iter_mut().enumerate() {
        let Some(list) = messages.as_array_mut() else {
            continue;
        };
        if i % 5 == 0 && list.len() > 1 {
            list.pop();
        }
        if i % 3 == 0 {
            for m in list.iter_mut() {
                if let Some(t) = m.get("SOCIAL_CREATE_TIME").and_then(Value::as_str) {
                    if let Ok(at) = DateTime::parse_from_rfc3339(t) {
                        m["SOCIAL_CREATE_TIME"] =
                            Value::from((at + Duration::days(2)).to_rfc3339());
                    }
                }
            }
        }
    }
    serde_json::to_vec(&chats).expect("serializes")
}

/// Every stored conversation's summary, as the store reads it back.
async fn summaries(store: &Store) -> Vec<Summary> {
    let mut out = Vec::new();
    store
        .each_summary(&Filter::default(), i64::MIN, i64::MAX, |s| out.push(s))
        .await
        .expect("reads the conversations");
    out
}

async fn check(store: &Store, all: &[Summary], p: &FilterParams, step: &str) {
    let Ok(f) = p.to_filter(None) else {
        return; // a rejected filter is refused before any figure
    };
    let want = compute_metrics(
        all,
        &f,
        store.filtered_totals().await.expect("totals"),
        store.last_updated().await.expect("last updated"),
    );
    let got = powerpulse::metrics::dataset(store, &f)
        .await
        .expect("metrics");
    assert_eq!(got, want, "{step}: metrics for {p:?}");
    let got = powerpulse::metrics::daily(store, &f).await.expect("daily");
    assert_eq!(got, daily_metrics(all, &f), "{step}: daily for {p:?}");
    let got = powerpulse::metrics::agents(store, &f)
        .await
        .expect("agents");
    assert_eq!(got, agent_metrics(all, &f), "{step}: agents for {p:?}");
}

/// Random filters against the store as it is now.
async fn check_step(store: &Store, step: &str, cases: u32) {
    let all = summaries(store).await;
    assert!(!all.is_empty(), "{step}: the store holds conversations");
    // The unfiltered figures always, then random filters.
    check(store, &all, &FilterParams::default(), step).await;
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = filter_params(&all);
    let handle = tokio::runtime::Handle::current();
    let result = tokio::task::block_in_place(|| {
        runner
            .run(&strategy, |p| {
                handle.block_on(check(store, &all, &p, step));
                Ok(())
            })
            .map_err(|e| e.to_string())
    });
    result.unwrap_or_else(|e| panic!("{step}: {e}"));
}

/// The AI's verdicts on claimed conversations: a varied analysis for most, a failure for some.
/// With `review_midway`, the first claimed conversation is reviewed while the AI reads it (its
/// chat id is returned).
async fn judge(store: &Store, job: &str, n: i64, review_midway: bool) -> Option<String> {
    let ids = store.claim_items(job, "w1", n).await.expect("claims");
    let claimed = store.load_claimed(&ids).await.expect("loads");
    let midway = review_midway.then(|| claimed[0].chat_id.clone());
    if let Some(id) = &midway {
        store
            .set_reviews(&[(id.clone(), Some(review(1)))])
            .await
            .expect("a review is written");
    }
    let (mut done, mut failed) = (Vec::new(), Vec::new());
    for (i, item) in claimed.into_iter().enumerate() {
        if i % 7 == 3 {
            failed.push((item.chat_id, "the model refused".to_owned()));
            continue;
        }
        let mut summary = item.summary;
        let mut a = summary.analyzer_analysis().clone();
        a.analyzer = AI.into();
        a.satisfaction_score = (i % 6 != 0).then_some((i % 5) as u8 + 1);
        a.first_contact_resolution = [None, Some(true), Some(false)][i % 3];
        a.avg_sentiment = Some((i as f64 * 0.37).sin());
        a.topics = match i % 4 {
            0 => vec![],
            1 => vec!["billing".into()],
            2 => vec!["outage".into(), "tokens".into()],
            _ => vec!["meter".into()],
        };
        // As the job worker does: under a review the AI's analysis goes beside it.
        summary.set_analysis(a);
        done.push(StoredAnalysis {
            chat_id: item.chat_id,
            summary,
            sentiments: Vec::new(),
            content_hash: item.content_hash,
        });
    }
    store
        .complete_items(job, "w1", &done, &failed, JobStats::default())
        .await
        .expect("results are written");
    midway
}

async fn life(url: &str) {
    let raw = export(260, 91);
    let first = process(&raw);
    let store = Store::connect(url).await.expect("the store opens");
    let job = store
        .ingest(&request(&first, false, true), &Default::default())
        .await
        .expect("the upload is written")
        .job_id
        .expect("an AI job is queued");
    check_step(&store, "pending upload", 16).await;

    // Reviews on every ninth conversation (some of them in the AI's job), one taken back.
    let reviewed: Vec<String> = summaries(&store)
        .await
        .iter()
        .step_by(9)
        .map(|s| s.chat_id.clone())
        .collect();
    let reviews: Vec<(String, Option<Label>)> = reviewed
        .iter()
        .enumerate()
        .map(|(i, id)| (id.clone(), Some(review(i))))
        .collect();
    let change = store
        .set_reviews(&reviews)
        .await
        .expect("reviews are written");
    assert_eq!(change.changed.len(), reviewed.len());
    let version = store.data_version_now().await.unwrap();
    let again = store
        .set_reviews(&reviews)
        .await
        .expect("the same reviews again");
    assert!(again.changed.is_empty(), "{:?}", again.changed);
    assert_eq!(
        store.data_version_now().await.unwrap(),
        version,
        "the same reviews again leave the data version where it was"
    );
    store
        .set_reviews(&[(reviewed[0].clone(), None)])
        .await
        .expect("a review is taken back");
    let mut kept = reviewed[1..].to_vec();
    check_step(&store, "reviews", 16).await;

    let midway = judge(&store, &job, 150, true)
        .await
        .expect("reviewed midway");
    let judged = summaries(&store).await;
    let count = |status: AnalysisStatus| judged.iter().filter(|s| s.status == status).count();
    assert!(judged.iter().filter(|s| s.analysis.analyzer == AI).count() > 100);
    assert!(count(AnalysisStatus::Failed) > 10 && count(AnalysisStatus::Pending) > 50);
    check_step(&store, "AI results", 24).await;
    let s = judged.iter().find(|s| s.chat_id == midway).unwrap();
    assert_eq!(
        (
            s.analysis.analyzer.as_str(),
            s.analyzer_analysis().analyzer.as_str()
        ),
        ("review", AI),
        "a review made while the AI read the conversation stays, the AI's result beside it"
    );
    kept.retain(|id| *id != midway);
    let under_review = |all: &[Summary]| {
        all.iter()
            .filter(|s| kept.contains(&s.chat_id))
            .map(|s| {
                assert_eq!(s.analysis.analyzer, "review", "{}", s.chat_id);
                s.analyzer_analysis().analyzer.clone()
            })
            .collect::<Vec<_>>()
    };
    let analyzers = under_review(&judged);
    assert_eq!(analyzers.len(), kept.len(), "every review stays in place");
    assert!(
        analyzers.iter().any(|a| a == AI),
        "AI results of reviewed conversations go beside their reviews: {analyzers:?}"
    );

    store.cancel_job(&job).await.expect("cancels");
    let left = summaries(&store).await;
    assert!(left.iter().all(|s| s.status != AnalysisStatus::Pending));
    check_step(&store, "cancelled", 16).await;

    let second = process(&changed(&raw));
    let job = store
        .ingest(&request(&second, true, true), &Default::default())
        .await
        .expect("the re-upload is written")
        .job_id
        .expect("a second AI job is queued");
    check_step(&store, "forced re-upload", 24).await;
    assert_eq!(
        under_review(&summaries(&store).await).len(),
        kept.len(),
        "reviews outlive a forced re-upload that changes their conversations"
    );
    judge(&store, &job, 80, false).await;
    check_step(&store, "AI results on the new content", 16).await;

    // The first export again, not forced: every changed chat gets its old messages back beside
    // the new ones (merged) and moves between rollups again.
    let merged = store
        .ingest(&request(&first, false, false), &Default::default())
        .await
        .expect("the plain re-upload is written");
    assert!(merged.conversations_merged > 20, "{merged:?}");
    check_step(&store, "plain re-upload, merged", 24).await;

    // A store from before the rollups: they are built from its conversations when it opens.
    let rebuilt = {
        store.close().await;
        reset_rollups(url).await;
        Store::connect(url).await.expect("the store opens again")
    };
    check_step(&rebuilt, "rebuilt", 16).await;
}

/// Empties the rollups and marks them unbuilt, as a store written before them would be.
async fn reset_rollups(url: &str) {
    let sql = [
        "DELETE FROM rollups",
        "UPDATE meta SET value = 0 WHERE key = 'rollups_built'",
    ];
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.expect("opens");
        for s in sql {
            sqlx::query(s).execute(&pool).await.expect("resets");
        }
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.expect("opens");
        for s in sql {
            sqlx::query(s).execute(&pool).await.expect("resets");
        }
        pool.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_rollups_give_the_shared_figures() {
    let dir = TempDir::new("store-metrics");
    life(&format!("sqlite://{}", dir.join("s.db").display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_rollups_give_the_shared_figures() {
    let Some(pg) = Postgres::start() else {
        return skip(
            "postgres_rollups_give_the_shared_figures",
            "no PostgreSQL binaries",
        );
    };
    life(&pg.database("rollups")).await;
}

//! The store under stress: a SIGKILL in the middle of a large ingestion, and two server
//! instances sharing one PostgreSQL job queue.

use std::time::Duration;

use powerpulse_e2e::api::{client, count, get_json, upload, wait_job};
use powerpulse_e2e::export;
use powerpulse_e2e::fake_ai::{FakeAi, Kind};
use powerpulse_e2e::postgres::Postgres;
use powerpulse_e2e::server::{Server, ServerOptions};

async fn kill_during_ingestion(opts: ServerOptions, label: &str) {
    let bytes = export(6000, 21);
    let d = powerpulse_shared::process(&bytes, &Default::default()).unwrap();
    let n = d.conversations.len() as u64;
    let m: u64 = d
        .conversations
        .iter()
        .map(|c| c.messages.len() as u64)
        .sum();
    let mut interrupted = 0;
    for delay in [100u64, 250, 500, 800, 1200, 1800] {
        let mut s = Server::start(opts.clone().with("MAX_FILE_SIZE", "104857600"));
        let url = s.url.clone();
        let body = bytes.clone();
        let up = tokio::spawn(async move {
            let form = reqwest::multipart::Form::new().part(
                "file",
                reqwest::multipart::Part::bytes(body).file_name("big.json"),
            );
            // The connection breaks when the server is killed: that is the point.
            client()
                .post(format!("{url}/api/upload-json"))
                .multipart(form)
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        });
        tokio::time::sleep(Duration::from_millis(delay)).await;
        s.kill9();
        let finished = matches!(up.await, Ok(200));
        s.restart();
        let metrics = get_json(&format!("{}/api/metrics", s.url), 200).await;
        let total = metrics["total_conversations"].as_u64().unwrap();
        // Wholly absent or wholly present, never half.
        if total == 0 {
            assert_eq!(metrics["total_messages"], 0, "{label} {delay} ms");
            assert!(!finished, "{label}: a 200 means the upload was committed");
            interrupted += 1;
        } else {
            assert_eq!(
                (total, metrics["total_messages"].as_u64().unwrap()),
                (n, m),
                "{label} {delay} ms: partial upload"
            );
        }
        let msg_rows = count(&s.database_url, "SELECT COUNT(*) FROM messages").await as u64;
        let conv_rows = count(&s.database_url, "SELECT COUNT(*) FROM conversations").await as u64;
        assert_eq!(
            (conv_rows, msg_rows),
            (total, if total == 0 { 0 } else { m }),
            "{label} {delay} ms: rows"
        );
        // A re-upload completes the store.
        let r = upload(&s.url, bytes.clone(), None).await;
        assert_eq!(r.status(), 200);
        let after = get_json(&format!("{}/api/metrics", s.url), 200).await;
        assert_eq!(
            (
                after["total_conversations"].as_u64().unwrap(),
                after["total_messages"].as_u64().unwrap()
            ),
            (n, m)
        );
        drop(s);
        if interrupted >= 2 && delay >= 500 {
            break;
        }
    }
    assert!(
        interrupted > 0,
        "{label}: no kill landed before the commit; the test proves nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_ingestion_leaves_sqlite_consistent() {
    kill_during_ingestion(ServerOptions::default(), "sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_ingestion_leaves_postgres_consistent() {
    let Some(pg) = Postgres::start() else { return };
    // Each run gets a fresh database.
    for i in 0..1 {
        kill_during_ingestion(
            ServerOptions::db(&pg.database(&format!("crash{i}"))),
            "postgres",
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_proxies_on_one_postgres_handle_every_conversation_once() {
    let Some(pg) = Postgres::start() else { return };
    let fake = FakeAi::start(Kind::OpenAi, Duration::from_millis(150)).await;
    let db = pg.database("shared");
    let start = |key: &str, worker: &str| {
        let mut o = ServerOptions::db(&db)
            .with("AI_BATCH_MAX_CONVERSATIONS", "8")
            .with("AI_MAX_CONCURRENCY", "2")
            .with("AI_RPM", "6000")
            .with("WORKER_ID", worker);
        o.env.extend(fake.env(key));
        Server::start(o)
    };
    let a = start("key-instance-a", "a");
    let b = start("key-instance-b", "b");
    let bytes = export(300, 8);
    let up: serde_json::Value = upload(&a.url, bytes, None).await.json().await.unwrap();
    let job_id = up["job"]["id"].as_str().expect("a job").to_owned();
    let total = up["conversations_processed"].as_i64().unwrap();
    // Wake the second instance's worker too (it polls every second anyway).
    let j = wait_job(&b.url, &job_id, Duration::from_secs(120)).await;
    if j["status"] != "done" {
        panic!("{j}\nA:\n{}\nB:\n{}", a.logs(), b.logs());
    }
    assert_eq!(
        (j["done"].as_i64().unwrap(), j["failed"].as_i64().unwrap()),
        (total, 0)
    );
    let calls = fake.calls();
    let by = |k: &str| {
        calls
            .iter()
            .filter(|c| c.key == k)
            .map(|c| c.conversations)
            .sum::<usize>()
    };
    assert!(
        by("key-instance-a") > 0 && by("key-instance-b") > 0,
        "both instances worked: a {} b {}",
        by("key-instance-a"),
        by("key-instance-b")
    );
    // Identical chats (the same greeting) are answered from the cache: sent + cached = all.
    let cached = j["cached"].as_i64().unwrap();
    assert_eq!(
        (by("key-instance-a") + by("key-instance-b")) as i64 + cached,
        total,
        "each conversation sent at most once"
    );
    let twice = count(
        &a.database_url,
        "SELECT COUNT(*) FROM job_items WHERE handled_count <> 1",
    )
    .await;
    assert_eq!(twice, 0, "every item handled exactly once");
    // An instance sees another's writes within the store's VERSION_TTL (100 ms).
    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    let m = get_json(&format!("{}/api/metrics", b.url), 200).await;
    assert_eq!(
        m["analysis"]["by_analyzer"]["openai:gpt-6-luna"]
            .as_i64()
            .unwrap(),
        total
    );
    assert!(fake.bad_requests().is_empty());
}

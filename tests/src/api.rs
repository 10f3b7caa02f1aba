//! Helpers shared by the API test files.

use std::path::Path;
use std::process::Command;

use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::postgres::Postgres;
use crate::server::{binary, ServerOptions};

/// A client with a generous timeout.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(120))
        .build()
        .expect("client")
}

/// Uploads bytes as the multipart field `file`.
pub async fn upload(base: &str, bytes: Vec<u8>, force: Option<&str>) -> reqwest::Response {
    let mut form = Form::new().part(
        "file",
        Part::bytes(bytes)
            .file_name("grouped_chats.json")
            .mime_str("application/json")
            .unwrap(),
    );
    if let Some(f) = force {
        form = form.text("force_reprocess", f.to_owned());
    }
    client()
        .post(format!("{base}/api/upload-json"))
        .multipart(form)
        .send()
        .await
        .expect("upload request")
}

/// Uploads `bytes` and returns the AI job it started and how many conversations it processed.
pub async fn upload_job(base: &str, bytes: Vec<u8>) -> (String, i64) {
    let up: Value = upload(base, bytes, None).await.json().await.unwrap();
    let job = up["job"]["id"].as_str().expect("a job").to_owned();
    (job, up["conversations_processed"].as_i64().unwrap())
}

/// GET and parse JSON, asserting the status.
pub async fn get_json(url: &str, status: u16) -> Value {
    let r = client().get(url).send().await.expect("request");
    let s = r.status().as_u16();
    let text = r.text().await.expect("body");
    assert_eq!(s, status, "GET {url}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("GET {url}: not JSON ({e}): {text}"))
}

/// Runs the CLI and returns stdout.
pub fn cli(args: &[&str]) -> Vec<u8> {
    let out = Command::new(binary())
        .args(args)
        .output()
        .expect("the CLI runs");
    assert!(
        out.status.success(),
        "powerpulse {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `powerpulse metrics FILE --json [filters]` without the time-dependent field.
pub fn cli_metrics(file: &Path, filters: &[&str]) -> Value {
    let mut args = vec!["metrics", file.to_str().unwrap(), "--json"];
    args.extend_from_slice(filters);
    let mut v: Value = serde_json::from_slice(&cli(&args)).expect("JSON");
    v.as_object_mut().unwrap().remove("last_updated");
    v
}

/// Drops `last_updated` (the time the data changed, which the CLI does not know).
pub fn without_last_updated(mut v: Value) -> Value {
    v.as_object_mut().unwrap().remove("last_updated");
    v
}

/// Counts rows of a store directly (SQLite file or PostgreSQL URL), for checks the API does not
/// expose (every job item handled exactly once).
pub async fn count(database_url: &str, sql: &'static str) -> i64 {
    if database_url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(database_url)
            .await
            .expect("open SQLite");
        let n: i64 = sqlx::query_scalar(sql)
            .fetch_one(&pool)
            .await
            .expect("count");
        pool.close().await;
        n
    } else {
        let pool = sqlx::PgPool::connect(database_url)
            .await
            .expect("open PostgreSQL");
        let n: i64 = sqlx::query_scalar(sql)
            .fetch_one(&pool)
            .await
            .expect("count");
        pool.close().await;
        n
    }
}

/// Polls a job until `done`, `failed`, `paused` or `cancelled`, or the timeout.
pub async fn wait_job(base: &str, id: &str, timeout: std::time::Duration) -> Value {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let j = get_json(&format!("{base}/api/jobs/{id}"), 200).await;
        let st = j["status"].as_str().unwrap_or_default().to_owned();
        if matches!(st.as_str(), "done" | "failed" | "paused" | "cancelled") {
            return j;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "job {id} still {st} after {timeout:?}: {j}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// `powerpulse evaluate EXPORT --labels LABELS --json`.
pub fn cli_evaluate(export: &Path, labels: &Path) -> Value {
    let out = cli(&[
        "evaluate",
        export.to_str().unwrap(),
        "--labels",
        labels.to_str().unwrap(),
        "--json",
    ]);
    serde_json::from_slice(&out).expect("evaluate prints JSON")
}

/// Where a check's server keeps its data.
#[derive(Clone, Copy)]
pub enum Backend<'a> {
    /// A fresh SQLite file.
    Sqlite,
    /// A fresh database in a throwaway PostgreSQL cluster.
    Postgres(&'a Postgres),
}

impl Backend<'_> {
    /// Server options with a fresh store named `name`.
    pub fn options(&self, name: &str) -> ServerOptions {
        match self {
            Backend::Sqlite => ServerOptions::default(),
            Backend::Postgres(pg) => ServerOptions::db(&pg.database(name)),
        }
    }
}

/// Each check is its own test on each backend, so one failure does not hide the others; a
/// PostgreSQL check starts its own throwaway cluster.
#[macro_export]
macro_rules! on_both_backends {
    ($($check:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    super::$check($crate::api::Backend::Sqlite).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let Some(pg) = $crate::postgres::Postgres::start() else { return };
                    super::$check($crate::api::Backend::Postgres(&pg)).await;
                }
            )+
        }
    };
}

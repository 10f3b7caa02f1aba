//! The API in-process: the server's own router (`http::app`) over a real SQLite store, driven
//! with `tower::ServiceExt::oneshot` where a socket adds nothing. One test per scenario; the
//! process-level checks (signals, the binary's start-up, two instances) stay in `tests/`.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use powerpulse::config::Config;
use powerpulse::http::app;
use powerpulse_shared::csv_out::ExportType;
use powerpulse_shared::synth::{generate, SynthOptions};
use powerpulse_shared::wire::{AnalyzeRequest, Health, HealthStatus, StoreKind};
use powerpulse_shared::{ConversationInput, Dataset, FilterParams};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// A server's router on a fresh SQLite store; the store and its worker stop with the guard.
struct Api {
    router: Router,
    _dir: TempDir,
    shutdown: CancellationToken,
}

impl Drop for Api {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn api() -> Api {
    let dir = std::env::temp_dir().join(format!(
        "powerpulse-inprocess-{}-{:x}",
        std::process::id(),
        rand::random::<u64>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}", dir.join("store.db").display());
    let vars = [
        ("DATABASE_URL", db.as_str()),
        ("TIMEZONE", "Africa/Nairobi"),
    ];
    let config = Config::from_vars(&|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    })
    .expect("the configuration is valid");
    let shutdown = CancellationToken::new();
    let (state, _worker) = powerpulse::server::state(config, shutdown.clone())
        .await
        .expect("the state builds");
    Api {
        router: app(state),
        _dir: TempDir(dir),
        shutdown,
    }
}

impl Api {
    async fn send(&self, mut req: Request<Body>) -> (StatusCode, Vec<u8>) {
        // As a browser or curl on this machine sends it (other hosts are refused).
        req.headers_mut()
            .insert("host", "127.0.0.1:8000".parse().unwrap());
        let resp = self.router.clone().oneshot(req).await.expect("answers");
        let status = resp.status();
        let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .expect("a body");
        (status, body.to_vec())
    }

    async fn get(&self, uri: &str) -> (StatusCode, Vec<u8>) {
        self.send(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    async fn json(&self, uri: &str, want: StatusCode) -> Value {
        let (status, body) = self.get(uri).await;
        assert_eq!(status, want, "{uri}: {}", String::from_utf8_lossy(&body));
        serde_json::from_slice(&body).expect("JSON")
    }

    /// Uploads an export as the documented multipart form.
    async fn upload(&self, bytes: &[u8]) {
        let boundary = "pp-boundary-5f2c";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"export.json\"\r\nContent-Type: application/json\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let req = Request::post("/api/upload-json")
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(Body::from(body))
            .unwrap();
        let (status, body) = self.send(req).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    }
}

/// The endpoints that take a filter.
const FILTERED: [&str; 5] = [
    "/api/metrics",
    "/api/metrics/daily",
    "/api/metrics/agents",
    "/api/conversations",
    "/api/download",
];

fn export() -> (Vec<u8>, Dataset) {
    let bytes = generate(&SynthOptions {
        conversations: 300,
        seed: 11,
        ..SynthOptions::default()
    });
    let d = powerpulse_shared::process(&bytes, &Default::default()).unwrap();
    (bytes, d)
}

fn without_last_updated(mut v: Value) -> Value {
    v.as_object_mut().unwrap().remove("last_updated");
    v
}

/// The query string of filter parameters.
fn query(p: &FilterParams) -> String {
    let pairs: Vec<String> = serde_json::to_value(p)
        .unwrap()
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k}={}", s.replace('/', "%2F")),
            other => format!("{k}={other}"),
        })
        .collect();
    pairs.join("&")
}

#[tokio::test]
async fn every_endpoint_reads_the_same_filter_parameters() {
    let api = api().await;
    let (bytes, d) = export();
    api.upload(&bytes).await;
    let agent = d.summaries().flat_map(|s| s.agents.clone()).next().unwrap();
    let cases = [
        FilterParams::default(),
        FilterParams {
            start_date: Some("2025-08-03".into()),
            end_date: Some("2025-08-09".into()),
            ..FilterParams::default()
        },
        FilterParams {
            agent: Some(agent),
            min_satisfaction: Some(2),
            max_satisfaction: Some(4),
            tz: Some("UTC".into()),
            ..FilterParams::default()
        },
        FilterParams {
            satisfied_only: Some(true),
            topic: Some("outage".into()),
            ..FilterParams::default()
        },
    ];
    for p in &cases {
        let q = query(p);
        // The server's default time zone stands in where the request names none.
        let f = p.to_filter(Some("Africa/Nairobi")).unwrap();
        let metrics = api.json(&format!("/api/metrics?{q}"), StatusCode::OK).await;
        assert_eq!(
            without_last_updated(metrics),
            without_last_updated(serde_json::to_value(d.metrics(&f)).unwrap()),
            "metrics for {q}"
        );
        let list = api
            .json(
                &format!("/api/conversations?{q}&page_size=100"),
                StatusCode::OK,
            )
            .await;
        assert_eq!(
            list["total"].as_u64().unwrap() as usize,
            d.records(&f).len(),
            "list for {q}"
        );
        let (status, csv) = api
            .get(&format!("/api/download?export_type=conversations&{q}"))
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            csv,
            d.csv(&f, ExportType::Conversations),
            "download for {q}"
        );
        let daily = api
            .json(&format!("/api/metrics/daily?{q}"), StatusCode::OK)
            .await;
        assert_eq!(
            daily["filters"],
            serde_json::to_value(&f).unwrap(),
            "daily for {q}"
        );
    }
}

#[tokio::test]
async fn a_bad_filter_parameter_is_a_422_that_names_it_on_every_endpoint() {
    let api = api().await;
    let bad = [
        ("min_satisfaction=9", "min_satisfaction"),
        ("max_satisfaction=0", "max_satisfaction"),
        ("tz=Mars%2FOlympus", "tz"),
        ("start_date=2025-13-01", "start_date"),
        ("start_date=2025-08-09&end_date=2025-08-01", "start_date"),
        ("satisfied_only=maybe", "satisfied_only"),
    ];
    for e in FILTERED {
        for (q, name) in bad {
            let v = api
                .json(&format!("{e}?{q}"), StatusCode::UNPROCESSABLE_ENTITY)
                .await;
            let detail = v["detail"].as_str().unwrap();
            assert!(detail.contains(name), "{e}?{q}: {detail}");
        }
    }
    let v = api
        .json(
            "/api/download?export_type=pdf",
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("unknown export type"),
        "{v}"
    );
}

#[tokio::test]
async fn health_reads_as_the_shared_type() {
    let api = api().await;
    let (status, body) = api.get("/health").await;
    assert_eq!(status, 200);
    let h: Health = serde_json::from_slice(&body).expect("the shared Health type");
    assert_eq!(
        (h.status, h.store, h.analyzer.as_str(), h.ai, h.ai_model),
        (HealthStatus::Ok, StoreKind::Sqlite, "builtin", false, None)
    );
    assert_eq!(h.definitions, powerpulse_shared::DEFINITIONS_VERSION);
}

#[tokio::test]
async fn analyze_without_a_provider_is_a_503_that_says_so() {
    let api = api().await;
    let (_, d) = export();
    let body = AnalyzeRequest {
        conversations: d.conversations[..3]
            .iter()
            .map(ConversationInput::of)
            .collect(),
        force: false,
    };
    let req = Request::post("/api/analyze")
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(&body).unwrap()))
        .unwrap();
    let (status, body) = api.send(req).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert!(
        v["detail"].as_str().unwrap().contains("not configured"),
        "{v}"
    );
}

#[tokio::test]
async fn unknown_endpoints_are_json_404s() {
    let api = api().await;
    for uri in ["/api/nope", "/api", "/api/metrics/weekly"] {
        let v = api.json(uri, StatusCode::NOT_FOUND).await;
        assert!(
            v["detail"].as_str().unwrap().contains("no such endpoint"),
            "{uri}: {v}"
        );
    }
}

#[tokio::test]
async fn the_openapi_document_lists_the_filter_on_every_filtered_endpoint() {
    let api = api().await;
    let doc = api.json("/api/openapi.json", StatusCode::OK).await;
    for path in FILTERED {
        let names: Vec<&str> = doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("{path} has parameters"))
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        for want in [
            "start_date",
            "end_date",
            "tz",
            "agent",
            "topic",
            "satisfied_only",
            "min_satisfaction",
            "max_satisfaction",
        ] {
            assert!(names.contains(&want), "{path} documents {want}: {names:?}");
        }
    }
}

//! Regression tests for what an attacker or an unlucky operator sent the server (issue 10):
//! each is named after the finding it guards against, against the real server process.

use powerpulse_e2e::api::{client, get_json, upload};
use powerpulse_e2e::export;
use powerpulse_e2e::postgres::Postgres;
use powerpulse_e2e::server::{Server, ServerOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_api_paths_are_json_404s_not_the_app() {
    let s = Server::start(ServerOptions::default());
    for path in ["/api/no-such-endpoint", "/api/v2/metrics", "/api"] {
        let r = client()
            .get(format!("{}{path}", s.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{path}"
        );
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["code"], "not_found", "{path}");
        assert!(
            body["detail"].as_str().unwrap().contains(path),
            "{path}: {body}"
        );
    }
    // The known endpoints and the app itself still answer.
    get_json(&format!("{}/api/metrics", s.url), 200).await;
    let r = client()
        .get(format!("{}/some/app/route", s.url))
        .send()
        .await
        .unwrap();
    assert_ne!(
        r.status(),
        404,
        "the app's own routes fall back to index.html"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_page_numbers_are_refused_not_wrapped() {
    let s = Server::start(ServerOptions::default());
    let r = upload(&s.url, export(30, 4), None).await;
    assert_eq!(r.status(), 200);
    let base = format!("{}/api/conversations", s.url);
    let body = get_json(
        &format!("{base}?page=184467440737095518&page_size=100"),
        422,
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("page"), "{body}");
    get_json(&format!("{base}?page=0"), 422).await;
    // The last allowed page is simply empty.
    let last = get_json(&format!("{base}?page=1000000&page_size=100"), 200).await;
    assert_eq!(last["conversations"].as_array().unwrap().len(), 0, "{last}");
    assert_eq!(last["total"], 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_origins_star_allows_any_origin_instead_of_panicking() {
    let s = Server::start(ServerOptions::default().with("CORS_ORIGINS", "*"));
    let r = client()
        .get(format!("{}/api/metrics", s.url))
        .header("origin", "https://dashboard.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn implausible_dates_do_not_stretch_the_daily_series() {
    let s = Server::start(ServerOptions::default());
    let file = br#"{
      "ancient": [{"MESSAGE_CONTENT": "no power", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "0001-01-01T00:00:00Z"}],
      "future": [{"MESSAGE_CONTENT": "no power", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "9999-12-31T23:59:59Z"}],
      "real": [{"MESSAGE_CONTENT": "no power", "DIRECTION": "to_company", "SOCIAL_CREATE_TIME": "2025-08-12T10:00:00Z"}]
    }"#;
    let r = upload(&s.url, file.to_vec(), None).await;
    assert_eq!(r.status(), 200);
    let daily = get_json(&format!("{}/api/metrics/daily", s.url), 200).await;
    let rows = daily
        .as_array()
        .or_else(|| daily["days"].as_array())
        .unwrap();
    assert_eq!(rows.len(), 1, "{daily}");
    let m = get_json(&format!("{}/api/metrics", s.url), 200).await;
    assert_eq!(m["filtered"]["bad_timestamp"], 2, "{m}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_sites_page_cannot_change_data_on_a_tokenless_local_server() {
    let s = Server::start(ServerOptions::default());
    let form = || {
        reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(export(5, 1))
                .file_name("grouped_chats.json")
                .mime_str("application/json")
                .unwrap(),
        )
    };
    let post = |origin: &str| {
        client()
            .post(format!("{}/api/upload-json", s.url))
            .header("origin", origin)
            .multipart(form())
            .send()
    };
    let r = post("https://evil.example").await.unwrap();
    assert_eq!(r.status(), 403);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "forbidden", "{body}");
    let m = get_json(&format!("{}/api/metrics", s.url), 200).await;
    assert_eq!(m["total_conversations"], 0, "nothing was stored");
    // The server's own pages (same origin) and scripts without an Origin still upload.
    assert_eq!(post(&s.url).await.unwrap().status(), 200);
    let r = upload(&s.url, export(5, 2), None).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebound_dns_name_cannot_read_a_tokenless_local_server() {
    let s = Server::start(ServerOptions::default());
    let r = client()
        .get(format!("{}/api/metrics", s.url))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = client()
        .get(format!("http://localhost:{}/api/metrics", s.port))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "localhost is this machine");
    // With a token, the token is the guard (any name, any origin that has it).
    let t = Server::start(ServerOptions::default().with("API_TOKEN", "s3cret-token"));
    let r = client()
        .get(format!("{}/api/metrics", t.url))
        .header("host", "powerpulse.example")
        .bearer_auth("s3cret-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_carry_security_headers() {
    let s = Server::start(ServerOptions::default());
    for path in ["/", "/api/metrics", "/api/nope"] {
        let r = client()
            .get(format!("{}{path}", s.url))
            .send()
            .await
            .unwrap();
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(
            csp.starts_with("script-src 'self' 'wasm-unsafe-eval'"),
            "{path}: {csp}"
        );
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
    }
}

/// A client that sends an upload's headers and the start of its body, then nothing more.
fn stalled_upload(port: u16) -> std::net::TcpStream {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = format!(
        "POST /api/upload-json HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: 1000000\r\n\r\n--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.json\"\r\n\r\n{{\"chat\": ["
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.flush().unwrap();
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_beyond_the_concurrency_cap_get_429_with_retry_after() {
    let s = Server::start(ServerOptions::default().with("MAX_CONCURRENT_UPLOADS", "1"));
    let slow = stalled_upload(s.port);
    let start = std::time::Instant::now();
    let busy = loop {
        let r = upload(&s.url, export(3, 1), None).await;
        if r.status() == 429 || start.elapsed() > std::time::Duration::from_secs(10) {
            break r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(busy.status(), 429);
    assert_eq!(busy.headers()["retry-after"], "5");
    let body: serde_json::Value = busy.json().await.unwrap();
    assert_eq!(body["code"], "busy");
    // When the slow client goes away, its slot is free again.
    drop(slow);
    let start = std::time::Instant::now();
    loop {
        let r = upload(&s.url, export(3, 1), None).await;
        if r.status() == 200 {
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "the slot came back"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn overlapping_forced_uploads(opts: ServerOptions) {
    let s = Server::start(opts);
    let bytes = export(3000, 8);
    assert_eq!(upload(&s.url, bytes.clone(), None).await.status(), 200);
    let (a, b) = tokio::join!(
        upload(&s.url, bytes.clone(), Some("true")),
        upload(&s.url, bytes.clone(), Some("true"))
    );
    for r in [a, b] {
        let status = r.status();
        let body = r.text().await.unwrap();
        assert_eq!(status, 200, "both overlapping uploads succeed: {body}");
    }
    let m = get_json(&format!("{}/api/metrics", s.url), 200).await;
    let expected = powerpulse_shared::process(&bytes, &Default::default()).unwrap();
    assert_eq!(
        m["total_conversations"],
        expected.conversations.len(),
        "every chat stored once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_forced_uploads_of_the_same_chats_both_succeed_on_sqlite() {
    overlapping_forced_uploads(ServerOptions::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_forced_uploads_of_the_same_chats_both_succeed_on_postgres() {
    let Some(pg) = Postgres::start() else { return };
    overlapping_forced_uploads(ServerOptions::db(&pg.database("overlap"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_request_ends_with_408_after_the_timeout() {
    use std::io::Read;
    let s = Server::start(ServerOptions::default().with("REQUEST_TIMEOUT_SECS", "1"));
    let mut slow = stalled_upload(s.port);
    slow.set_read_timeout(Some(std::time::Duration::from_secs(15)))
        .unwrap();
    let mut answer = [0u8; 64];
    let n = slow.read(&mut answer).unwrap();
    let status = String::from_utf8_lossy(&answer[..n]);
    assert!(status.starts_with("HTTP/1.1 408"), "{status}");
    // The server still answers everyone else, and the slot of the stalled upload is free.
    assert_eq!(upload(&s.url, export(3, 5), None).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_client_cannot_hold_up_shutdown_past_the_grace_period() {
    let mut s = Server::start(
        ServerOptions::default()
            .with("SHUTDOWN_GRACE_SECS", "1")
            .with("REQUEST_TIMEOUT_SECS", "3600"),
    );
    let stuck = stalled_upload(s.port);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // Without the deadline the server would wait for this request for the hour of its timeout.
    let status = s.terminate_within(std::time::Duration::from_secs(60));
    assert!(
        status.is_some(),
        "the server exited after SIGTERM despite the stuck client"
    );
    assert!(
        s.logs().contains("shutdown deadline passed"),
        "{}",
        s.logs()
    );
    drop(stuck);
}

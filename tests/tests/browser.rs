//! The app in headless Chromium, against the real server serving the built app (`scripts/build-app`
//! builds `dist/` first): KPIs equal the CLI's, filters, reload from IndexedDB, offline through
//! the service worker, CSV equal to the CLI's, a bad file that leaves the saved datasets alone,
//! AI analysis through the server, and a screenshot of the dashboard.

use std::path::Path;
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use powerpulse_e2e::api::cli;
use powerpulse_e2e::browser::{self, Browser};
use powerpulse_e2e::fake_ai::{FakeAi, Kind};
use powerpulse_e2e::server::{Server, ServerOptions};
use powerpulse_e2e::{export, workspace, TempDir};
use serde_json::Value;

const KPIS: [&str; 6] = [
    "kpi-conversations",
    "kpi-messages",
    "kpi-csat",
    "kpi-fcr",
    "kpi-response-time",
    "kpi-sentiment",
];

fn app_built() -> bool {
    let ok = workspace().join("dist/index.html").exists() && browser::available();
    if !ok {
        powerpulse_e2e::skip(
            "browser tests",
            "no built app or no Chromium (scripts/setup and scripts/build-app)",
        );
    }
    ok
}

async fn kpis(c: &Client) -> Vec<Option<f64>> {
    let mut out = Vec::new();
    for id in KPIS {
        let v = match c.find(Locator::Css(&format!("[data-testid='{id}']"))).await {
            Ok(e) => e
                .attr("data-value")
                .await
                .ok()
                .flatten()
                .and_then(|s| s.parse().ok()),
            Err(_) => None,
        };
        out.push(v);
    }
    out
}

/// The CLI's figures in the KPI order, rounded as its JSON is.
fn cli_kpis(file: &Path, filters: &[&str]) -> Vec<Option<f64>> {
    let mut args = vec!["metrics", file.to_str().unwrap(), "--json"];
    args.extend_from_slice(filters);
    let m: Value = serde_json::from_slice(&cli(&args)).unwrap();
    vec![
        m["total_conversations"].as_f64(),
        m["total_messages"].as_f64(),
        m["csat_percentage"].as_f64(),
        m["fcr_percentage"].as_f64(),
        m["avg_response_time_minutes"].as_f64(),
        m["avg_sentiment_score"].as_f64(),
    ]
}

fn rounded(v: &[Option<f64>]) -> Vec<Option<f64>> {
    v.iter()
        .enumerate()
        .map(|(i, x)| x.map(|x| powerpulse_shared::round::round(x, if i == 5 { 4 } else { 2 })))
        .collect()
}

async fn wait_for(
    c: &Client,
    what: &str,
    timeout: Duration,
    mut ok: impl FnMut(&[Option<f64>]) -> bool,
) -> Vec<Option<f64>> {
    let start = Instant::now();
    loop {
        let k = kpis(c).await;
        if ok(&k) {
            return k;
        }
        if start.elapsed() > timeout {
            let errors = c.find(Locator::Css("[data-testid='error']")).await.ok();
            let err = match errors {
                Some(e) => e.text().await.unwrap_or_default(),
                None => String::new(),
            };
            panic!("{what}: KPIs {k:?} after {timeout:?} {err}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn choose_file(c: &Client, path: &Path) {
    let input = c
        .find(Locator::Css("[data-testid='file-input']"))
        .await
        .expect("the file input");
    input
        .send_keys(path.to_str().unwrap())
        .await
        .expect("choose the file");
}

/// A generated export on disk, kept while the returned directory lives.
fn export_on_disk(name: &str, conversations: usize, seed: u64) -> (TempDir, std::path::PathBuf) {
    let dir = TempDir::new(name);
    let file = dir.join("grouped_chats.json");
    std::fs::write(&file, export(conversations, seed)).unwrap();
    (dir, file)
}

/// Opens the app, chooses `file` and waits for its KPIs.
async fn load_in_app(c: &Client, url: &str, file: &Path) {
    open_app(c, url).await;
    choose_file(c, file).await;
    wait_for(c, "after loading", Duration::from_secs(60), |k| {
        k[0].is_some()
    })
    .await;
}

/// Opens the app and waits until it can take a file.
async fn open_app(c: &Client, url: &str) {
    c.goto(url).await.unwrap();
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("[data-testid='file-input']"))
        .await
        .unwrap();
}

/// The accessibility problems of the page as it is, in light then dark, labelled with `stage`.
async fn audit(c: &Client, stage: &str, min_text: usize) -> Vec<String> {
    let mut out = Vec::new();
    for dark in [false, true] {
        let scheme = if dark { "dark" } else { "light" };
        for p in browser::accessibility_problems(c, dark, min_text).await {
            out.push(format!("{stage}, {scheme}: {p}"));
        }
    }
    out
}

async fn datasets(c: &Client) -> usize {
    c.find_all(Locator::Css(
        "[data-testid='dataset-select'] option[value]:not([value=''])",
    ))
    .await
    .map(|v| v.len())
    .unwrap_or(0)
}

async fn wait_file(path: &Path, timeout: Duration) -> Vec<u8> {
    let start = Instant::now();
    loop {
        if let Ok(b) = std::fs::read(path) {
            if !b.is_empty() {
                // Let the browser finish writing.
                tokio::time::sleep(Duration::from_millis(300)).await;
                return std::fs::read(path).unwrap();
            }
        }
        assert!(
            start.elapsed() < timeout,
            "{} was not downloaded",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_end_to_end() {
    if !app_built() {
        return;
    }
    let (dir, file) = export_on_disk("browser", 800, 51);
    let mut server = Server::start(ServerOptions::default());
    let b = Browser::start().await;
    let c = &b.client;
    open_app(c, &server.url).await;

    // 1. A generated export through the file input: KPIs equal to the CLI's.
    choose_file(c, &file).await;
    let expected = cli_kpis(&file, &[]);
    let got = wait_for(c, "after loading", Duration::from_secs(60), |k| {
        k[0].is_some()
    })
    .await;
    assert_eq!(
        rounded(&got),
        expected,
        "KPIs equal `powerpulse metrics --json`"
    );
    let load_ms = c
        .find(Locator::Css("[data-testid='timings']"))
        .await
        .unwrap()
        .attr("data-load-ms")
        .await
        .unwrap();
    eprintln!("loaded in {load_ms:?} ms");

    // 2. A filter: the KPIs follow.
    let agent = c
        .find(Locator::Css("[data-testid='filter-agent']"))
        .await
        .unwrap();
    agent.select_by_value("amina.k").await.unwrap();
    let filtered = cli_kpis(&file, &["--agent", "amina.k"]);
    wait_for(c, "after filtering", Duration::from_secs(10), |k| {
        rounded(k) == filtered
    })
    .await;
    c.find(Locator::Css("[data-testid='filter-satisfied']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let satisfied = cli_kpis(&file, &["--agent", "amina.k", "--satisfied-only"]);
    wait_for(c, "satisfied only", Duration::from_secs(10), |k| {
        rounded(k) == satisfied
    })
    .await;

    // 3. CSV in the browser: byte for byte the CLI's export for the same filters.
    c.find(Locator::Css("[data-testid='csv-conversations']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let csv = wait_file(
        &b.downloads.join("powerpulse_conversations.csv"),
        Duration::from_secs(20),
    )
    .await;
    assert!(
        csv == cli(&[
            "export",
            file.to_str().unwrap(),
            "--type",
            "conversations",
            "--agent",
            "amina.k",
            "--satisfied-only"
        ]),
        "CSV differs from the CLI's"
    );
    c.find(Locator::Css("[data-testid='filter-reset']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(c, "after reset", Duration::from_secs(10), |k| {
        rounded(k) == expected
    })
    .await;
    c.find(Locator::Css("[data-testid='csv-messages']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let csv = wait_file(
        &b.downloads.join("powerpulse_messages.csv"),
        Duration::from_secs(20),
    )
    .await;
    assert!(
        csv == cli(&["export", file.to_str().unwrap(), "--type", "messages"]),
        "messages CSV differs"
    );

    // 4. The explorer: a row opens its transcript.
    c.find(Locator::Css("[data-testid='conversation-row']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let t = c
        .wait()
        .at_most(Duration::from_secs(5))
        .for_element(Locator::Css("[data-testid='transcript']"))
        .await
        .unwrap();
    assert!(t.text().await.unwrap().contains("Customer"));
    c.find(Locator::Css("[data-testid='transcript'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    // 5. The screenshot at 1280x900, from the top of the dashboard.
    c.set_window_size(1280, 900).await.unwrap();
    c.execute("window.scrollTo(0, 0);", vec![]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let png = c.screenshot().await.unwrap();
    let artifacts = workspace().join("tests/artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    std::fs::write(artifacts.join("dashboard.png"), png).unwrap();

    // 6. Reload: the dataset is back from IndexedDB without the file.
    c.refresh().await.unwrap();
    wait_for(c, "after reload", Duration::from_secs(30), |k| {
        rounded(k) == expected
    })
    .await;
    assert_eq!(datasets(c).await, 1);
    // The service worker controls the page from now on.
    let start = Instant::now();
    loop {
        let v = c
            .execute("return !!navigator.serviceWorker.controller;", vec![])
            .await
            .unwrap();
        if v == Value::Bool(true) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no service worker controls the page"
        );
        c.refresh().await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // 7. A malformed file: an error that says where, and the saved datasets are untouched.
    let bad = dir.join("broken.json");
    std::fs::write(&bad, b"{\"chat\": [{\"DIRECTION\": \"to_company\",, }]}").unwrap();
    wait_for(c, "before the bad file", Duration::from_secs(30), |k| {
        rounded(k) == expected
    })
    .await;
    choose_file(c, &bad).await;
    let err = c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("[data-testid='error']"))
        .await
        .unwrap();
    let text = err.text().await.unwrap();
    assert!(
        text.contains("byte") && text.contains("broken.json"),
        "{text}"
    );
    assert_eq!(
        datasets(c).await,
        1,
        "the bad file saved nothing and deleted nothing"
    );
    assert_eq!(
        rounded(&kpis(c).await),
        expected,
        "the open dataset stays on screen"
    );

    // 8. Offline: the server is gone; the app and the dataset are still there.
    server.kill9();
    c.refresh().await.unwrap();
    wait_for(c, "offline after reload", Duration::from_secs(30), |k| {
        rounded(k) == expected
    })
    .await;
    assert_eq!(datasets(c).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_is_accessible_in_light_and_dark() {
    if !app_built() {
        return;
    }
    let dir = TempDir::new("a11y");
    let file = dir.join("week.json");
    std::fs::write(&file, export(300, 52)).unwrap();
    let server = Server::start(ServerOptions::default());
    let b = Browser::start().await;
    let c = &b.client;
    open_app(c, &server.url).await;
    let mut problems = audit(c, "empty page", 3).await;
    choose_file(c, &file).await;
    wait_for(c, "after loading", Duration::from_secs(60), |k| {
        k[0].is_some()
    })
    .await;
    problems.extend(audit(c, "dashboard", 200).await);
    c.find(Locator::Css("[data-testid='conversation-row']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(Duration::from_secs(5))
        .for_element(Locator::Css("[data-testid='transcript']"))
        .await
        .unwrap();
    problems.extend(audit(c, "transcript", 200).await);
    assert!(
        problems.is_empty(),
        "{} accessibility problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analyse_with_ai_through_the_server() {
    if !app_built() {
        return;
    }
    let fake = FakeAi::start(Kind::OpenAi, Duration::from_millis(50)).await;
    let mut o = ServerOptions::default().with("AI_RPM", "6000");
    o.env.extend(fake.env("sk-browser-KEY"));
    let server = Server::start(o);
    let (_dir, file) = export_on_disk("browser-ai", 150, 52);
    let b = Browser::start().await;
    let c = &b.client;
    load_in_app(c, &server.url, &file).await;
    let analyzer = c
        .find(Locator::Css("[data-testid='analyzer']"))
        .await
        .unwrap();
    assert_eq!(analyzer.text().await.unwrap(), "built-in analyzer");
    let button = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("[data-testid='ai-analyse']"))
        .await
        .unwrap();
    button.click().await.unwrap();
    let start = Instant::now();
    loop {
        let t = c
            .find(Locator::Css("[data-testid='analyzer']"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if t.contains("openai:gpt-6-luna") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "analyzer label: {t}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(!fake.calls().is_empty());
    assert!(
        fake.calls().iter().all(|call| call.key == "sk-browser-KEY"),
        "the key stays on the server"
    );
    let html = c.source().await.unwrap();
    assert!(!html.contains("sk-browser-KEY"));
    // The AI's figures differ from the built-in ones and survive a reload (cached in IndexedDB).
    let before = kpis(c).await;
    c.refresh().await.unwrap();
    wait_for(c, "after reload", Duration::from_secs(30), |k| {
        k == before.as_slice()
    })
    .await;
    let t = c
        .find(Locator::Css("[data-testid='analyzer']"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(t.contains("openai:gpt-6-luna"), "{t}");
}

async fn page_info(c: &Client) -> (u64, u64) {
    let t = c
        .find(Locator::Css("[data-testid='page-info']"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let n: Vec<u64> = t
        .split(|ch: char| !ch.is_ascii_digit())
        .filter_map(|p| p.parse().ok())
        .collect();
    (n[0], n[1])
}

async fn row_ids(c: &Client) -> Vec<String> {
    let mut ids = Vec::new();
    for r in c
        .find_all(Locator::Css("[data-testid='conversation-row'] button"))
        .await
        .unwrap()
    {
        ids.push(r.text().await.unwrap());
    }
    ids
}

async fn pager_button(c: &Client, id: &str) -> fantoccini::elements::Element {
    c.find(Locator::Css(&format!("[data-testid='{id}']")))
        .await
        .unwrap()
}

/// Clicks a pager button and waits for the page number to become `want`.
async fn go_to(c: &Client, id: &str, want: u64) -> Vec<String> {
    pager_button(c, id).await.click().await.unwrap();
    let start = Instant::now();
    while page_info(c).await.0 != want {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{id} did not reach page {want}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    row_ids(c).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_conversation_list_pages_through_next_previous_and_last() {
    if !app_built() {
        return;
    }
    let (_dir, file) = export_on_disk("pager", 90, 12);
    let total = cli_kpis(&file, &[])[0].unwrap() as usize;
    let server = Server::start(ServerOptions::default());
    let b = Browser::start().await;
    let c = &b.client;
    load_in_app(c, &server.url, &file).await;
    // The app works under the server's content security policy, and that policy lets no
    // injected inline script run.
    let injected = c
        .execute(
            "const s = document.createElement('script'); \
             s.textContent = 'window.__injected = true'; document.head.appendChild(s); \
             return window.__injected === true;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        injected,
        serde_json::Value::Bool(false),
        "an injected script ran"
    );

    let (page, pages) = page_info(c).await;
    assert_eq!(page, 1);
    assert!(
        pages >= 3,
        "{total} conversations should fill 3 pages or more, got {pages}"
    );
    let next = pager_button(c, "page-next").await;
    assert_eq!(
        next.text().await.unwrap(),
        "Next",
        "the button renders as a button"
    );
    assert!(next.is_enabled().await.unwrap());
    assert!(!pager_button(c, "page-previous")
        .await
        .is_enabled()
        .await
        .unwrap());

    let first = row_ids(c).await;
    let second = go_to(c, "page-next", 2).await;
    assert_eq!(second.len(), first.len());
    assert!(
        second.iter().all(|id| !first.contains(id)),
        "page 2 shows other conversations"
    );
    assert_eq!(
        go_to(c, "page-previous", 1).await,
        first,
        "Previous brings page 1 back"
    );

    let mut seen: Vec<String> = first.clone();
    for p in 2..=pages {
        seen.extend(go_to(c, "page-next", p).await);
    }
    assert!(
        !pager_button(c, "page-next")
            .await
            .is_enabled()
            .await
            .unwrap(),
        "Next stops at the last page"
    );
    seen.sort();
    seen.dedup();
    assert_eq!(
        seen.len(),
        total,
        "paging through shows every conversation once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_export_shows_the_clis_figures_and_pages_through() {
    if !app_built() {
        return;
    }
    // A real, pseudonymised care export (eval/kenya-a.json), not our generator's chats.
    let file = workspace().join("eval/kenya-a.json");
    let expected = cli_kpis(&file, &[]);
    let server = Server::start(ServerOptions::default());
    let b = Browser::start().await;
    let c = &b.client;
    load_in_app(c, &server.url, &file).await;
    assert_eq!(
        rounded(&kpis(c).await),
        expected,
        "KPIs equal `powerpulse metrics --json`"
    );
    let (_, pages) = page_info(c).await;
    let mut seen = row_ids(c).await;
    for p in 2..=pages {
        seen.extend(go_to(c, "page-next", p).await);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(
        seen.len() as f64,
        expected[0].unwrap(),
        "every real conversation listed once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hand_worked_oracle_export_shows_its_figures() {
    if !app_built() {
        return;
    }
    // tests/data/oracle: figures worked out from the definitions by a separate script.
    let dir = workspace().join("tests/data/oracle");
    let want: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let m = &want["metrics"];
    let server = Server::start(ServerOptions::default());
    let b = Browser::start().await;
    let c = &b.client;
    load_in_app(c, &server.url, &dir.join("export.json")).await;
    let oracle_kpis = |m: &Value| {
        vec![
            m["total_conversations"].as_f64(),
            m["total_messages"].as_f64(),
            m["csat_percentage"].as_f64(),
            m["fcr_percentage"].as_f64(),
            m["avg_response_time_minutes"].as_f64(),
        ]
    };
    let shows = |what: &'static str, m: Value| {
        let want = oracle_kpis(&m);
        async move {
            wait_for(c, what, Duration::from_secs(10), |k| {
                rounded(k)[..5] == want[..]
            })
            .await;
        }
    };
    shows("all", m.clone()).await;

    // Each filter as a user sets it, the figures the oracle's.
    set_input(c, "filter-tz", "Africa/Nairobi").await;
    set_input(c, "filter-start", "2025-08-13").await;
    set_input(c, "filter-end", "2025-08-13").await;
    shows(
        "2025-08-13 in Nairobi",
        want["metrics_nairobi_2025_08_13"].clone(),
    )
    .await;
    click(c, "filter-reset").await;
    shows("after reset", m.clone()).await;
    select(c, "filter-agent", "amina").await;
    shows("amina", want["metrics_agent_amina"].clone()).await;
    click(c, "filter-reset").await;
    select(c, "filter-topic", "outage").await;
    shows("outages", want["metrics_topic_outage"].clone()).await;
    click(c, "filter-reset").await;
    click(c, "filter-satisfied").await;
    shows("satisfied only", want["metrics_satisfied_only"].clone()).await;
    click(c, "filter-reset").await;

    // The search box: the rows listed are the oracle's.
    set_input(c, "search", "TOKEN").await;
    let found = want["search_token"].as_array().unwrap().len();
    let mut ids = rows_when(c, |ids| ids.len() == found).await;
    ids.sort();
    assert_eq!(Value::from(ids), want["search_token"], "search TOKEN");
    set_input(c, "search", "").await;

    // Sorting by a column: first click descending, second ascending, nulls last both ways.
    for (label, key) in [
        ("Reply gap", "sort_reply_gap_desc"),
        ("Reply gap", "sort_reply_gap_asc"),
        ("Messages", "sort_messages_desc"),
    ] {
        let want_ids: Vec<String> = want[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        c.find(Locator::XPath(&format!(
            "//table[contains(@class,'conversations')]//button[contains(@class,'sort')][starts-with(normalize-space(.),'{label}')]"
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
        let ids = rows_when(c, |ids| ids == want_ids.as_slice()).await;
        assert_eq!(ids, want_ids, "sorted as {key}");
    }
}

/// The listed chat ids once `ready` holds for them, or as they are after 10 s.
async fn rows_when(c: &Client, ready: impl Fn(&[String]) -> bool) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut ids = row_ids(c).await;
    while !ready(&ids) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        ids = row_ids(c).await;
    }
    ids
}

/// Sets an input's value as typing and leaving it would (date and list inputs included).
async fn set_input(c: &Client, id: &str, value: &str) {
    c.execute(
        "const e = document.querySelector(`[data-testid='${arguments[0]}']`); \
         e.value = arguments[1]; \
         e.dispatchEvent(new Event('input', {bubbles: true})); \
         e.dispatchEvent(new Event('change', {bubbles: true}));",
        vec![Value::from(id), Value::from(value)],
    )
    .await
    .unwrap();
}

async fn select(c: &Client, id: &str, value: &str) {
    c.find(Locator::Css(&format!("[data-testid='{id}']")))
        .await
        .unwrap()
        .select_by_value(value)
        .await
        .unwrap();
}

async fn click(c: &Client, id: &str) {
    c.find(Locator::Css(&format!("[data-testid='{id}']")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

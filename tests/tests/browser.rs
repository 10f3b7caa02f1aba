//! The app in headless Chromium, against the real server serving the built app (`scripts/build-app`
//! builds `dist/` first). Every action the README's "The web app" names is walked as a user
//! walks it, and its figures are checked against the independent oracle (`tests/data/oracle/`)
//! or the CLI:
//!
//! | README action | test |
//! |---|---|
//! | choose an export; the progress bar; KPIs equal the CLI's | `dashboard_end_to_end` |
//! | drop an export (a synthetic drag and drop) | `a_dropped_file_opens_and_saved_datasets_switch_and_delete` |
//! | KPI cards with their n and definition on focus; the data-quality panel | `the_hand_worked_oracle_export_shows_its_figures` |
//! | charts: per day with CSAT, reply-gap histogram, sentiment, topics, weekday x hour heatmap | `the_hand_worked_oracle_export_shows_its_figures` |
//! | sort the agent table | `the_hand_worked_oracle_export_shows_its_figures` |
//! | search the list; sort it by each column | `the_hand_worked_oracle_export_shows_its_figures` |
//! | page through it: Next, Previous, to the last page | `the_conversation_list_pages_through_next_previous_and_last`, `a_real_export_shows_the_clis_figures_and_pages_through` |
//! | open a transcript: roles, times, reply gaps, sentiment; close it with Escape | `the_oracles_transcripts_and_downloads_are_its_own` |
//! | download each CSV (conversations, messages, metrics) | `the_oracles_transcripts_and_downloads_are_its_own`, `dashboard_end_to_end` (filtered) |
//! | filters: dates, time zone, agent, topic, satisfied only | `the_hand_worked_oracle_export_shows_its_figures`, `dashboard_end_to_end` |
//! | saved datasets reopen after a reload | `dashboard_end_to_end`, `a_dropped_file_opens_and_saved_datasets_switch_and_delete` |
//! | switch between saved datasets; delete one | `a_dropped_file_opens_and_saved_datasets_switch_and_delete` |
//! | offline through the service worker | `dashboard_end_to_end` |
//! | a bad file: an error that says where, nothing lost | `dashboard_end_to_end` |
//! | "Analyse with AI": the KPIs and rows become the provider's answers | `analyse_with_ai_through_the_server` |
//! | accessible in light and dark | `the_dashboard_is_accessible_in_light_and_dark` |
//! | review a random sample from the keyboard; the figures follow; reviews survive a reload and a re-import | `reviews_by_keyboard_move_the_figures_and_survive_a_reload` |
//! | import a labels file: the agreement panel fills; export the reviews for `powerpulse evaluate` | `a_labels_file_fills_the_agreement_panel_and_exports_back` |
//! | set business hours and see the figures change; compare two weeks (from the menus and from a week's row); every week's and month's figures; download the report | `business_hours_change_the_figures_and_two_weeks_compare` |
//! | click a chart bar or a KPI's misses and get exactly its conversations | `a_chart_bar_opens_exactly_its_conversations` |
//! | choose two overlapping exports: one dataset, the duplicates counted | `two_overlapping_exports_merge_with_the_duplicates_counted` |

use std::path::Path;
use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use powerpulse_e2e::api::cli;
use powerpulse_e2e::browser::{self, Browser};
use powerpulse_e2e::fake_ai::{self, FakeAi, Kind};
use powerpulse_e2e::oracle;
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
            let page = c
                .execute("return document.body.innerText.slice(0, 2000)", vec![])
                .await
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            panic!("{what}: KPIs {k:?} after {timeout:?} {err}\npage: {page}");
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

    // 1. A generated export through the file input: a progress bar while it is read, then KPIs
    //    equal to the CLI's.
    c.execute(
        "window.__progress = []; new MutationObserver(() => { \
           const p = document.querySelector(\"[data-testid='progress']\"); \
           if (p) window.__progress.push(Number(p.value)); \
         }).observe(document.body, {subtree: true, childList: true, attributes: true});",
        vec![],
    )
    .await
    .unwrap();
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
    let progress: Vec<f64> = serde_json::from_value(
        c.execute("return window.__progress;", vec![])
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(!progress.is_empty(), "a progress bar showed while loading");
    assert!(
        progress.windows(2).all(|w| w[0] <= w[1]),
        "the progress only moves forward: {progress:?}"
    );
    assert!(
        c.find(Locator::Css("[data-testid='progress']"))
            .await
            .is_err(),
        "the progress bar is gone once the figures show"
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
    // The oracle's chats are short, so each reaches the fake whole and its answer is known here.
    let file = oracle::file("export.json");
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
    // The KPIs are exactly the fake's answers, conversation by conversation.
    let d =
        powerpulse_shared::process(&std::fs::read(&file).unwrap(), &Default::default()).unwrap();
    let answers: Vec<Value> = d.conversations.iter().map(fake_ai::answer_for).collect();
    let share = |yes: usize| (yes as f64 * 10000.0 / answers.len() as f64).round() / 100.0;
    let csat = share(
        answers
            .iter()
            .filter(|a| a["satisfaction_score"].as_i64() >= Some(4))
            .count(),
    );
    let fcr = share(
        answers
            .iter()
            .filter(|a| a["first_contact_resolution"] == true)
            .count(),
    );
    let built_in = rounded(&cli_kpis(&file, &[]));
    let got = wait_for(c, "the AI's figures", Duration::from_secs(10), |k| {
        rounded(k)[2..4] == [Some(csat), Some(fcr)]
    })
    .await;
    assert_eq!(
        rounded(&got)[..2],
        built_in[..2],
        "the same conversations and messages"
    );
    assert_eq!(
        rounded(&got)[4],
        built_in[4],
        "reply gaps are never the AI's"
    );
    assert_ne!(
        built_in[2..4],
        [Some(csat), Some(fcr)],
        "the fake answers differently from the built-in analyzer"
    );
    // The listed scores and FCR are the fake's, chat by chat.
    let scores = c
        .execute(
            "return Array.from(document.querySelectorAll(\"[data-testid='conversation-row']\")).map(tr => \
               [tr.querySelector('button').textContent, tr.children[4].textContent.trim(), tr.children[5].textContent.trim()]);",
            vec![],
        )
        .await
        .unwrap();
    let scores: Vec<(String, String, String)> = serde_json::from_value(scores).unwrap();
    assert_eq!(scores.len(), answers.len());
    for (chat, score, fcr) in &scores {
        let i = d
            .conversations
            .iter()
            .position(|c| &c.summary.chat_id == chat)
            .unwrap();
        assert_eq!(
            score.split_whitespace().next(),
            Some(answers[i]["satisfaction_score"].to_string().as_str()),
            "{chat}"
        );
        let said = if answers[i]["first_contact_resolution"] == true {
            "yes"
        } else {
            "no"
        };
        assert_eq!(fcr, said, "{chat}");
    }
    // The AI's figures survive a reload (cached in IndexedDB).
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
    let want = oracle::expected();
    let m = &want["metrics"];
    let server = Server::start(ServerOptions::default());
    let b = Browser::start().await;
    let c = &b.client;
    load_in_app(c, &server.url, &oracle::file("export.json")).await;
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

    // The data-quality panel counts what cleaning removed, reason by reason.
    for (reason, n) in want["filtered"].as_object().unwrap() {
        let shown = c
            .find(Locator::Css(&format!("[data-testid='filtered-{reason}']")))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(shown, n.to_string(), "filtered {reason}");
    }
    // Each KPI says what it rests on, and its definition shows on keyboard focus.
    for (id, n, words) in [
        ("kpi-csat", &m["n"]["csat"], "score 4 or 5"),
        (
            "kpi-fcr",
            &m["n"]["fcr"],
            "without the customer coming back",
        ),
    ] {
        let v = c
            .execute(
                "const k = document.querySelector(`[data-testid='${arguments[0]}']`); \
                 const d = k.querySelector('.kpi-definition'); \
                 const hidden = getComputedStyle(d).display; k.focus(); \
                 const shown = getComputedStyle(d).display; k.blur(); \
                 return [hidden, shown, d.textContent, k.querySelector('.kpi-detail').textContent];",
                vec![Value::from(id)],
            )
            .await
            .unwrap();
        let [hidden, shown, definition, detail]: [String; 4] = serde_json::from_value(v).unwrap();
        assert_eq!((hidden.as_str(), shown.as_str()), ("none", "block"), "{id}");
        assert!(definition.contains(words), "{id}: {definition}");
        assert_eq!(detail, format!("n = {n}"), "{id}");
    }
    // The topics chart: the oracle's topics, shares and counts, most common first.
    let topics = c
        .execute(
            "return Array.from(document.querySelectorAll(\"[data-testid='chart-topics'] li\")).map(li => \
               [li.querySelector('.hbar-label').textContent, li.querySelector('.hbar-value').textContent]);",
            vec![],
        )
        .await
        .unwrap();
    let topics: Vec<(String, String)> = serde_json::from_value(topics).unwrap();
    let want_topics: Vec<(String, String)> = m["most_common_topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["topic"].as_str().unwrap().to_owned(),
                format!("{:.1}% · {}", t["percentage"].as_f64().unwrap(), t["count"]),
            )
        })
        .collect();
    assert_eq!(topics, want_topics, "the topics chart");
    // The sentiment chart: customer messages by class, as the CLI counts them.
    let cli_m: Value = serde_json::from_slice(&cli(&[
        "metrics",
        oracle::file("export.json").to_str().unwrap(),
        "--json",
    ]))
    .unwrap();
    let legend = c
        .execute(
            "return Array.from(document.querySelectorAll(\"[data-testid='chart-sentiment'] li\")).map(li => li.textContent);",
            vec![],
        )
        .await
        .unwrap();
    let legend: Vec<String> = serde_json::from_value(legend).unwrap();
    let d = &cli_m["sentiment_distribution"];
    let total: f64 = ["positive", "neutral", "negative"]
        .iter()
        .map(|k| d[k].as_f64().unwrap())
        .sum();
    let want_legend: Vec<String> = ["positive", "neutral", "negative"]
        .iter()
        .map(|k| {
            let n = d[k].as_f64().unwrap();
            format!("{k}: {n} ({:.1}%)", n * 100.0 / total)
        })
        .collect();
    assert_eq!(legend, want_legend, "the sentiment chart");
    assert_eq!(
        histogram(c).await,
        oracle_histogram(&want["histogram"]),
        "the reply-gap histogram"
    );
    assert_eq!(
        heatmap(c).await,
        oracle_heatmap(&want["heatmap_utc"]),
        "the heatmap in UTC"
    );
    assert_eq!(
        agent_rows(c).await,
        oracle_agents(&want["agents"]),
        "the agents table, most conversations first"
    );
    for (column, order) in [
        ("Agent", ["amina", "brian", "felix@care.example"]),
        ("Replies", ["amina", "brian", "felix@care.example"]),
        ("CSAT", ["brian", "amina", "felix@care.example"]),
    ] {
        click_sort(c, "agents", column).await;
        let names: Vec<String> = agent_rows(c).await.into_iter().map(|r| r.0).collect();
        assert_eq!(names, order, "agents sorted by {column}");
    }

    // Each filter as a user sets it, the figures the oracle's.
    set_input(c, "filter-tz", "Africa/Nairobi").await;
    let start = Instant::now();
    while heatmap(c).await != oracle_heatmap(&want["heatmap_nairobi"]) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the heatmap in Nairobi: {:?}",
            heatmap(c).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The daily chart in Nairobi: one bar per local day, quiet days included.
    let want_days: Vec<String> = want["daily_nairobi"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{}: {} conversations, CSAT {:.1}%",
                d["date"].as_str().unwrap(),
                d["total_conversations"],
                d["csat_percentage"].as_f64().unwrap()
            )
        })
        .collect();
    assert_eq!(
        chart_titles(c, "chart-daily").await,
        want_days,
        "the daily chart"
    );
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
    assert_eq!(
        histogram(c).await,
        oracle_histogram(&want["histogram_agent_amina"]),
        "amina's reply gaps"
    );
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

    // Sorting by each column: first click descending, second ascending, nulls last both ways.
    let sentiment = sentiment_order();
    let cases = [
        ("Reply gap", ids_of(&want["sort_reply_gap_desc"])),
        ("Reply gap", ids_of(&want["sort_reply_gap_asc"])),
        ("Messages", ids_of(&want["sort_messages_desc"])),
        ("Messages", ids_of(&want["sort_messages_asc"])),
        ("Started", ids_of(&want["sort_started_desc"])),
        ("Started", ids_of(&want["sort_started_asc"])),
        ("Score", ids_of(&want["sort_score_desc"])),
        ("Score", ids_of(&want["sort_score_asc"])),
        ("Sentiment", sentiment.0),
        ("Sentiment", sentiment.1),
    ];
    for (label, want_ids) in cases {
        click_sort(c, "conversations", label).await;
        let ids = rows_when(c, |ids| ids == want_ids.as_slice()).await;
        assert_eq!(ids, want_ids, "sorted by {label}");
    }
}

fn ids_of(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// The oracle's chats by average sentiment, descending then ascending, by the list's rule (ties
/// in arrival order, reversed when descending, no value last). The values are the CLI's: the
/// oracle leaves sentiment to the VADER reference test.
fn sentiment_order() -> (Vec<String>, Vec<String>) {
    let csv = cli(&[
        "export",
        oracle::file("export.json").to_str().unwrap(),
        "--type",
        "conversations",
    ]);
    let mut r = csv::Reader::from_reader(csv.as_slice());
    let rows: Vec<(String, Option<f64>)> = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            (rec[0].to_owned(), rec[7].parse().ok())
        })
        .collect();
    let order = |desc: bool| {
        let mut have: Vec<(usize, &(String, Option<f64>))> = rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.1.is_some())
            .collect();
        have.sort_by(|a, b| {
            a.1 .1
                .unwrap()
                .total_cmp(&b.1 .1.unwrap())
                .then(a.0.cmp(&b.0))
        });
        if desc {
            have.reverse();
        }
        let mut none: Vec<String> = rows
            .iter()
            .filter(|r| r.1.is_none())
            .map(|r| r.0.clone())
            .collect();
        if desc {
            none.reverse();
        }
        have.into_iter()
            .map(|(_, r)| r.0.clone())
            .chain(none)
            .collect::<Vec<_>>()
    };
    (order(true), order(false))
}

/// Clicks the sort button of `column` in the table of the section `testid`.
async fn click_sort(c: &Client, testid: &str, column: &str) {
    let e = c.find(Locator::XPath(&format!(
        "//section[@data-testid='{testid}']//thead//button[contains(@class,'sort')][starts-with(normalize-space(.),'{column}')]"
    )))
    .await
    .unwrap();
    scroll_to(c, &e).await;
    e.click().await.unwrap();
}

/// The texts of the `<title>`s of a chart's marks.
async fn chart_titles(c: &Client, testid: &str) -> Vec<String> {
    let v = c
        .execute(
            "return Array.from(document.querySelectorAll(`[data-testid='${arguments[0]}'] title`)).map(t => t.textContent);",
            vec![Value::from(testid)],
        )
        .await
        .unwrap();
    serde_json::from_value(v).unwrap()
}

/// The histogram's bars as (label, count), read from what each bar says on hover.
async fn histogram(c: &Client) -> Vec<(String, u64)> {
    chart_titles(c, "chart-histogram")
        .await
        .iter()
        .map(|t| {
            let (label, rest) = t.split_once(": ").unwrap();
            (
                label.to_owned(),
                rest.split(' ').next().unwrap().parse().unwrap(),
            )
        })
        .collect()
}

fn oracle_histogram(v: &Value) -> Vec<(String, u64)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["label"].as_str().unwrap().to_owned(),
                b["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The heatmap's non-empty cells as (weekday from Monday = 0, hour, messages).
async fn heatmap(c: &Client) -> Vec<(u64, u64, u64)> {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let mut cells: Vec<(u64, u64, u64)> = chart_titles(c, "chart-heatmap")
        .await
        .iter()
        .map(|t| {
            // "Tue 09:00 — 2 messages"
            let parts: Vec<&str> = t.split_whitespace().collect();
            let day = DAYS.iter().position(|d| *d == parts[0]).unwrap() as u64;
            let hour = parts[1][..2].parse().unwrap();
            (day, hour, parts[3].parse().unwrap())
        })
        .filter(|cell| cell.2 > 0)
        .collect();
    cells.sort();
    cells
}

fn oracle_heatmap(v: &Value) -> Vec<(u64, u64, u64)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let n = |k: &str| c[k].as_u64().unwrap();
            (n("weekday"), n("hour"), n("count"))
        })
        .collect()
}

/// The agents table's rows as (agent, conversations, replies), in the order shown.
async fn agent_rows(c: &Client) -> Vec<(String, u64, u64)> {
    let v = c
        .execute(
            "return Array.from(document.querySelectorAll(\"[data-testid='agents'] tbody tr\")).map(tr => \
               [tr.querySelector('th').textContent].concat(Array.from(tr.querySelectorAll('td')).slice(0, 2).map(td => td.textContent)));",
            vec![],
        )
        .await
        .unwrap();
    let rows: Vec<Vec<String>> = serde_json::from_value(v).unwrap();
    rows.into_iter()
        .map(|r| {
            (
                r[0].clone(),
                r[1].replace(',', "").parse().unwrap(),
                r[2].replace(',', "").parse().unwrap(),
            )
        })
        .collect()
}

fn oracle_agents(v: &Value) -> Vec<(String, u64, u64)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["agent"].as_str().unwrap().to_owned(),
                a["conversations"].as_u64().unwrap(),
                a["replies"].as_u64().unwrap(),
            )
        })
        .collect()
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

/// Clicks the element `id` once it is scrolled to the middle of the window (the sticky top bar
/// would take a click at the window's top edge).
async fn click(c: &Client, id: &str) {
    let e = c
        .find(Locator::Css(&format!("[data-testid='{id}']")))
        .await
        .unwrap();
    scroll_to(c, &e).await;
    e.click().await.unwrap();
}

/// Sends `keys` to the element that has the focus, as a user typing.
async fn press(c: &Client, keys: &str) {
    c.active_element()
        .await
        .unwrap()
        .send_keys(keys)
        .await
        .unwrap();
}

/// The text of the element `id`, once it is on the page.
async fn text_of(c: &Client, id: &str) -> String {
    c.find(Locator::Css(&format!("[data-testid='{id}']")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Waits until the element `id` reads `want`.
async fn wait_text(c: &Client, id: &str, want: &str) {
    let start = Instant::now();
    loop {
        let got = text_of(c, id).await;
        if got == want {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{id} reads {got:?}, not {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn scroll_to(c: &Client, e: &fantoccini::elements::Element) {
    c.execute(
        "arguments[0].scrollIntoView({block: 'center'});",
        vec![serde_json::to_value(e).unwrap()],
    )
    .await
    .unwrap();
}

/// The open transcript's messages as (role class, who, time, chips).
async fn transcript(c: &Client) -> Vec<(String, String, String, Vec<String>)> {
    let v = c
        .execute(
            "return Array.from(document.querySelectorAll(\"[data-testid='transcript'] li.msg\")).map(li => \
               [li.className, li.querySelector('strong').textContent, li.querySelector('time').textContent, \
                Array.from(li.querySelectorAll('.chip')).map(c => c.textContent)]);",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(v).unwrap()
}

/// What the transcript must show for `chat`: roles, agents and UTC times from the oracle's
/// messages rows, reply gaps from the oracle, sentiment as the CLI scores it.
fn oracle_transcript(want: &Value, chat: &str) -> Vec<(String, String, String, Vec<String>)> {
    let csv = cli(&[
        "export",
        oracle::file("export.json").to_str().unwrap(),
        "--type",
        "messages",
    ]);
    let scored = oracle::csv_rows(&csv, &want["csv_messages"]);
    want["csv_messages"]
        .as_array()
        .unwrap()
        .iter()
        .zip(scored.as_array().unwrap())
        .filter(|(m, _)| m["chat_id"] == chat)
        .map(|(m, scored)| {
            let role = m["role"].as_str().unwrap();
            let who = match role {
                "customer" => "Customer".to_owned(),
                "agent" => format!("Agent {}", m["agent_info"].as_str().unwrap()),
                _ => "Bot".to_owned(),
            };
            let time = m["social_create_time"].as_str().unwrap()[..16].replace('T', " ");
            let mut chips = Vec::new();
            if let Some(g) = m["reply_gap_minutes"].as_f64() {
                chips.push(format!("reply gap {g:.1} min"));
            }
            if let Some(s) = scored["sentiment_score"]
                .as_str()
                .and_then(|s| s.parse::<f64>().ok())
            {
                chips.push(format!("sentiment {s:+.2}"));
            }
            (format!("msg {role}"), who, time, chips)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_oracles_transcripts_and_downloads_are_its_own() {
    if !app_built() {
        return;
    }
    let want = oracle::expected();
    let server = Server::start(ServerOptions::default());
    let b = Browser::start().await;
    let c = &b.client;
    load_in_app(c, &server.url, &oracle::file("export.json")).await;

    // A customer who came back two days later, and a chat two agents answered.
    for chat in ["c03", "c10", "c09"] {
        let row = c
            .find(Locator::XPath(&format!(
                "//tr[@data-testid='conversation-row']//button[normalize-space(.)='{chat}']"
            )))
            .await
            .unwrap();
        scroll_to(c, &row).await;
        row.click().await.unwrap();
        c.wait()
            .at_most(Duration::from_secs(5))
            .for_element(Locator::Css("[data-testid='transcript'] li.msg"))
            .await
            .unwrap();
        let title = c
            .find(Locator::Css("#transcript-title"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(title, format!("Conversation {chat}"));
        assert_eq!(
            transcript(c).await,
            oracle_transcript(&want, chat),
            "the transcript of {chat}"
        );
        // Escape closes it (the Close button has the focus when it opens).
        press(c, "\u{e00c}").await;
        let start = Instant::now();
        while c
            .find(Locator::Css("[data-testid='transcript']"))
            .await
            .is_ok()
        {
            assert!(start.elapsed() < Duration::from_secs(5), "Escape closes");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    // Each download: the oracle's rows, and byte for byte the CLI's file.
    let export = oracle::file("export.json");
    for (kind, rows) in [
        ("conversations", Some("csv_conversations")),
        ("messages", Some("csv_messages")),
        ("metrics", None),
    ] {
        click(c, &format!("csv-{kind}")).await;
        let got = wait_file(
            &b.downloads.join(&format!("powerpulse_{kind}.csv")),
            Duration::from_secs(20),
        )
        .await;
        assert!(
            got == cli(&["export", export.to_str().unwrap(), "--type", kind]),
            "the {kind} CSV differs from the CLI's"
        );
        match rows {
            Some(key) => oracle::assert_matches(
                &format!("downloaded {kind}"),
                &want[key],
                &oracle::csv_rows(&got, &want[key]),
            ),
            None => oracle::assert_matches(
                "downloaded metrics",
                &oracle_metrics_rows(&want["metrics"], &want["filtered"]),
                &metrics_rows(&got),
            ),
        }
    }
}

/// The metrics CSV as `{section: {metric: value}}` (topics' `n` is their count).
fn metrics_rows(csv: &[u8]) -> Value {
    let mut out = serde_json::Map::new();
    for rec in csv::Reader::from_reader(csv).records() {
        let rec = rec.unwrap();
        let value = rec[2].parse::<f64>().map_or(Value::Null, Value::from);
        let section = out
            .entry(rec[0].to_owned())
            .or_insert_with(|| Value::Object(Default::default()));
        section[&rec[1]] = value;
        if &rec[0] == "topic" {
            section[format!("{}_count", &rec[1])] =
                rec[3].parse::<f64>().map_or(Value::Null, Value::from);
        }
    }
    Value::Object(out)
}

/// The oracle's dataset figures in the metrics CSV's shape.
fn oracle_metrics_rows(m: &Value, filtered: &Value) -> Value {
    let rt = &m["response_time"];
    let mut response_time = serde_json::Map::new();
    for kind in ["reply_gap", "turn", "first_response"] {
        for stat in ["mean", "median", "p90"] {
            response_time.insert(format!("{kind}_{stat}"), rt[kind][stat].clone());
        }
    }
    response_time.insert("unanswered_turns".into(), rt["unanswered_turns"].clone());
    let mut topics = serde_json::Map::new();
    for t in m["most_common_topics"].as_array().unwrap() {
        let name = t["topic"].as_str().unwrap();
        topics.insert(name.into(), t["percentage"].clone());
        topics.insert(format!("{name}_count"), t["count"].clone());
    }
    serde_json::json!({
        "kpi": {
            "total_conversations": m["total_conversations"],
            "total_messages": m["total_messages"],
            "csat_percentage": m["csat_percentage"],
            "fcr_percentage": m["fcr_percentage"],
            "avg_response_time_minutes": m["avg_response_time_minutes"],
        },
        "response_time": response_time,
        "topic": topics,
        "filtered": filtered,
    })
}

/// The dataset picker's options as (value, label).
async fn dataset_options(c: &Client) -> Vec<(String, String)> {
    // Read in one script: the list re-renders while datasets are saved.
    let v = c
        .execute(
            "return Array.from(document.querySelectorAll(\"[data-testid='dataset-select'] option[value]:not([value=''])\")).map(o => [o.value, o.textContent]);",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(v).unwrap()
}

/// Drops `bytes` as a file named `name` on the drop zone, as a drag from the desktop would;
/// true when the app took the drop (the browser would otherwise open the file itself).
async fn drop_file(c: &Client, name: &str, bytes: &[u8]) -> bool {
    let v = c
        .execute(
            "const dt = new DataTransfer(); \
             dt.items.add(new File([arguments[0]], arguments[1], {type: 'application/json'})); \
             const zone = document.querySelector('section.dropzone'); \
             zone.dispatchEvent(new DragEvent('dragenter', {bubbles: true, cancelable: true, dataTransfer: dt})); \
             zone.dispatchEvent(new DragEvent('dragover', {bubbles: true, cancelable: true, dataTransfer: dt})); \
             const drop = new DragEvent('drop', {bubbles: true, cancelable: true, dataTransfer: dt}); \
             zone.dispatchEvent(drop); \
             return drop.defaultPrevented;",
            vec![
                Value::from(String::from_utf8(bytes.to_vec()).unwrap()),
                Value::from(name),
            ],
        )
        .await
        .unwrap();
    v == Value::Bool(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_file_opens_and_saved_datasets_switch_and_delete() {
    if !app_built() {
        return;
    }
    let want = oracle::expected();
    let oracle_kpis = rounded(&cli_kpis(&oracle::file("export.json"), &[]));
    assert_eq!(
        oracle_kpis[..5],
        [
            want["metrics"]["total_conversations"].as_f64(),
            want["metrics"]["total_messages"].as_f64(),
            want["metrics"]["csat_percentage"].as_f64(),
            want["metrics"]["fcr_percentage"].as_f64(),
            want["metrics"]["avg_response_time_minutes"].as_f64(),
        ],
        "the CLI agrees with the oracle"
    );
    let (_dir, week) = export_on_disk("datasets", 60, 31);
    let week_kpis = cli_kpis(&week, &[]);
    let server = Server::start(ServerOptions::default());
    let b = Browser::start().await;
    let c = &b.client;
    open_app(c, &server.url).await;

    // A file dragged onto the page opens as one chosen would.
    let bytes = std::fs::read(oracle::file("export.json")).unwrap();
    assert!(
        drop_file(c, "oracle.json", &bytes).await,
        "the app takes the drop"
    );
    wait_for(c, "the dropped file", Duration::from_secs(30), |k| {
        rounded(k) == oracle_kpis
    })
    .await;
    choose_file(c, &week).await;
    wait_for(c, "the second file", Duration::from_secs(30), |k| {
        rounded(k) == week_kpis
    })
    .await;
    let options = dataset_options(c).await;
    assert_eq!(options.len(), 2, "{options:?}");
    let (oracle_id, label) = options
        .iter()
        .find(|(_, l)| l.starts_with("oracle.json"))
        .cloned()
        .unwrap_or_else(|| panic!("the dropped file is saved by name: {options:?}"));
    assert!(label.contains("12 conversations"), "{label}");

    // Switch back and forth between the saved datasets.
    select(c, "dataset-select", &oracle_id).await;
    wait_for(
        c,
        "switched to the dropped file",
        Duration::from_secs(20),
        |k| rounded(k) == oracle_kpis,
    )
    .await;
    let (week_id, _) = options
        .iter()
        .find(|(id, _)| *id != oracle_id)
        .unwrap()
        .clone();
    select(c, "dataset-select", &week_id).await;
    wait_for(c, "switched to the week", Duration::from_secs(20), |k| {
        rounded(k) == week_kpis
    })
    .await;

    // Delete the open one: it closes, the other stays, also after a reload.
    click(c, "delete-dataset").await;
    let start = Instant::now();
    while dataset_options(c).await.len() != 1 || kpis(c).await[0].is_some() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "after delete: {:?}, KPIs {:?}",
            dataset_options(c).await,
            kpis(c).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(dataset_options(c).await[0].0, oracle_id);
    assert!(
        !pager_button(c, "delete-dataset")
            .await
            .is_enabled()
            .await
            .unwrap(),
        "nothing is open to delete"
    );
    c.refresh().await.unwrap();
    open_app(c, &server.url).await;
    let start = Instant::now();
    while dataset_options(c).await.len() != 1 {
        assert!(start.elapsed() < Duration::from_secs(10), "after reload");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        dataset_options(c).await[0].0,
        oracle_id,
        "the deleted one stays deleted"
    );
    select(c, "dataset-select", &oracle_id).await;
    wait_for(c, "the remaining dataset", Duration::from_secs(20), |k| {
        rounded(k) == oracle_kpis
    })
    .await;
}

/// An attribute of the element with `testid`, once it is on the page.
async fn attr_of(c: &Client, testid: &str, attr: &str) -> Option<String> {
    let e = c
        .find(Locator::Css(&format!("[data-testid='{testid}']")))
        .await
        .ok()?;
    e.attr(attr).await.ok().flatten()
}

/// Waits until the element with `testid` has `attr` equal to `want`.
async fn wait_attr(c: &Client, testid: &str, attr: &str, want: &str) {
    let start = Instant::now();
    loop {
        let got = attr_of(c, testid, attr).await;
        if got.as_deref() == Some(want) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{testid} {attr}: {got:?}, not {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The chat id of the open transcript.
async fn open_chat(c: &Client) -> String {
    let title = c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("#transcript-title"))
        .await
        .expect("a transcript opens")
        .text()
        .await
        .unwrap();
    title.trim_start_matches("Conversation ").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviews_by_keyboard_move_the_figures_and_survive_a_reload() {
    if !app_built() {
        return;
    }
    let file = workspace().join("eval/kenya-a.json");
    let server = Server::start(ServerOptions::default());
    let b = Browser::start().await;
    let c = &b.client;
    load_in_app(c, &server.url, &file).await;
    wait_attr(c, "review-counts", "data-reviews", "0").await;
    click(c, "review-sample").await;
    // Five conversations of the random sample, judged with the keyboard only: 2, n, Enter, →.
    let mut reviewed = Vec::new();
    for i in 0..5 {
        let chat = open_chat(c).await;
        assert!(!reviewed.contains(&chat), "the queue moves on: {chat}");
        for key in ["2", "n", "\u{e007}"] {
            press(c, key).await;
        }
        wait_attr(c, "review-satisfaction", "data-value", "2").await;
        wait_attr(c, "review-fcr", "data-value", "false").await;
        wait_text(c, "review-status", "reviewed").await;
        reviewed.push(chat);
        wait_attr(c, "review-counts", "data-reviews", &(i + 1).to_string()).await;
        // On to the next: the arrow key, or the Next button.
        if i % 2 == 0 {
            press(c, "\u{e014}").await;
        } else {
            click(c, "review-next").await;
        }
    }
    press(c, "\u{e00c}").await;

    // The figures are the shared crate's with those five reviews in place.
    let mut d =
        powerpulse_shared::process(&std::fs::read(&file).unwrap(), &Default::default()).unwrap();
    for c in d
        .conversations
        .iter_mut()
        .filter(|c| reviewed.contains(&c.summary.chat_id))
    {
        c.summary
            .set_review(Some(powerpulse_shared::evaluate::Label {
                satisfaction: 2,
                fcr: Some(false),
                topics: Vec::new(),
                customer_sentiment: None,
                language: None,
                note: String::new(),
                sampled: Some(true),
            }));
    }
    let m = d.metrics(&powerpulse_shared::Filter::default());
    let want = (m.core.csat_percentage, m.core.fcr_percentage);
    let figures = |k: &[Option<f64>]| (k[2], k[3]);
    wait_for(
        c,
        "the KPIs follow the reviews",
        Duration::from_secs(20),
        |k| figures(k) == (Some(want.0), Some(want.1)),
    )
    .await;
    wait_attr(c, "review-counts", "data-sampled", "5").await;
    assert!(
        c.find(Locator::Css("[data-testid='agreement-wait']"))
            .await
            .is_ok(),
        "five sampled reviews are too few for figures"
    );

    // Reloaded: the reviews are still in place, and so are the figures.
    c.refresh().await.unwrap();
    wait_for(c, "after reload", Duration::from_secs(30), |k| {
        figures(k) == (Some(want.0), Some(want.1))
    })
    .await;
    wait_attr(c, "review-counts", "data-reviews", "5").await;
    // Found again in the list, opened: the review beside the analyzer's judgement.
    let (_, pages) = page_info(c).await;
    let mut ids = row_ids(c).await;
    let mut page = 1;
    while !ids.iter().any(|id| reviewed.contains(id)) && page < pages {
        page += 1;
        ids = go_to(c, "page-next", page).await;
    }
    let found = ids
        .iter()
        .position(|id| reviewed.contains(id))
        .expect("a reviewed conversation in the list");
    let rows = c
        .find_all(Locator::Css("[data-testid='conversation-row']"))
        .await
        .unwrap();
    assert!(rows[found].text().await.unwrap().contains("review"));
    c.find_all(Locator::Css("[data-testid='conversation-row'] button"))
        .await
        .unwrap()[found]
        .click()
        .await
        .unwrap();
    assert_eq!(open_chat(c).await, ids[found]);
    wait_attr(c, "review-satisfaction", "data-value", "2").await;
    wait_attr(c, "review-fcr", "data-value", "false").await;
    let said = text_of(c, "review-analyzer").await;
    assert!(said.starts_with("builtin said"), "{said}");
    press(c, "\u{e00c}").await;

    // The same export imported again, as a new dataset: its chats get their reviews back.
    choose_file(c, &file).await;
    let start = Instant::now();
    while datasets(c).await < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "a second dataset"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_attr(c, "review-counts", "data-reviews", "5").await;
    wait_for(c, "re-imported", Duration::from_secs(20), |k| {
        figures(k) == (Some(want.0), Some(want.1))
    })
    .await;
}

/// `powerpulse evaluate EXPORT --labels LABELS --json`, its overall figures.
fn cli_evaluation(export: &Path, labels: &Path) -> Value {
    powerpulse_e2e::api::cli_evaluate(export, labels)["overall"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_labels_file_fills_the_agreement_panel_and_exports_back() {
    if !app_built() {
        return;
    }
    let file = workspace().join("eval/kenya-a.json");
    let labels = workspace().join("eval/kenya-a.labels.json");
    let want = cli_evaluation(&file, &labels);
    let server = Server::start(ServerOptions::default());
    let b = Browser::start().await;
    let c = &b.client;
    load_in_app(c, &server.url, &file).await;
    wait_attr(c, "review-counts", "data-reviews", "0").await;
    c.find(Locator::Css("[data-testid='reviews-import']"))
        .await
        .unwrap()
        .send_keys(labels.to_str().unwrap())
        .await
        .unwrap();
    let n = want["n"].as_u64().unwrap().to_string();
    wait_attr(c, "review-counts", "data-sampled", &n).await;
    let panel = |id: &'static str| async move {
        attr_of(c, id, "data-value")
            .await
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("{id} shows a number"))
    };
    let close = |got: f64, want: &Value, what: &str| {
        let want = want.as_f64().unwrap();
        assert!((got - want).abs() < 1e-9, "{what}: panel {got}, CLI {want}");
    };
    let kappa = panel("agreement-kappa").await;
    close(kappa, &want["satisfaction"]["kappa"], "kappa");
    close(
        panel("agreement-fcr").await,
        &want["fcr"]["balanced_accuracy"],
        "FCR",
    );
    close(
        panel("agreement-topics").await,
        &want["topic_hit"],
        "topic hit",
    );
    let csat = panel("estimate-csat").await;
    assert!((0.0..=100.0).contains(&csat));
    assert!((0.0..=100.0).contains(&panel("estimate-fcr").await));
    // Every conversation reviewed: the CSAT card is the labels' CSAT.
    wait_for(c, "CSAT from the reviews", Duration::from_secs(20), |k| {
        k[2].is_some_and(|v| (v - want["csat"]["labelled"].as_f64().unwrap()).abs() < 1e-9)
    })
    .await;

    // Exported, the reviews give `powerpulse evaluate` the panel's figures.
    click(c, "reviews-export").await;
    let exported = b.downloads.join("powerpulse_reviews.json");
    wait_file(&exported, Duration::from_secs(20)).await;
    let again = cli_evaluation(&file, &exported);
    close(
        kappa,
        &again["satisfaction"]["kappa"],
        "kappa from the exported reviews",
    );

    // They are saved with the dataset.
    c.refresh().await.unwrap();
    wait_for(c, "after reload", Duration::from_secs(30), |k| {
        k[0].is_some()
    })
    .await;
    wait_attr(c, "review-counts", "data-sampled", &n).await;
}

/// The shared crate's report of `file` under `params` (UTC days, as the app's default filter).
fn shared_report(
    file: &Path,
    params: &powerpulse_shared::report::ReportParams,
) -> powerpulse_shared::report::Report {
    let d = powerpulse_shared::process(&std::fs::read(file).unwrap(), &Default::default()).unwrap();
    let f = powerpulse_shared::Filter::default();
    let r = d.report(&f, &params.to_options(f.tz).unwrap());
    // As the worker hands it to the page: serialized, so rounded as the API rounds it.
    serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap()
}

fn raw(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn business_hours_change_the_figures_and_two_weeks_compare() {
    if !app_built() {
        return;
    }
    let file = workspace().join("eval/kenya-a.json");
    let server = Server::start(ServerOptions::default());
    let b = Browser::start().await;
    let c = &b.client;
    load_in_app(c, &server.url, &file).await;
    // Around the clock, business time is calendar time.
    let always = shared_report(&file, &Default::default());
    let calendar = raw(always.service.calendar.first_response.median);
    wait_attr(c, "time-calendar-first-response", "data-value", &calendar).await;
    wait_attr(c, "time-business-first-response", "data-value", &calendar).await;

    // Office hours: the business figures move, the calendar ones stay.
    let hours = "Mon-Fri 08:00-17:00, Sat 09:00-13:00";
    set_input(c, "business-hours", hours).await;
    let params = powerpulse_shared::report::ReportParams {
        business_hours: Some(hours.into()),
        ..Default::default()
    };
    let office = shared_report(&file, &params);
    let business = raw(office.service.business.first_response.median);
    assert_ne!(business, calendar);
    wait_attr(c, "time-business-first-response", "data-value", &business).await;
    wait_attr(c, "time-calendar-first-response", "data-value", &calendar).await;
    wait_attr(
        c,
        "sla-first-response",
        "data-value",
        &raw(office.service.first_response.percentage),
    )
    .await;
    assert!(text_of(c, "service-schedule").await.contains(hours));
    // A bad schedule is said, in the API's words.
    set_input(c, "business-hours", "Mon-Fry 08:00-17:00").await;
    wait_text_contains(c, "service-error", "\"Fry\" is not a day").await;
    set_input(c, "business-hours", hours).await;
    wait_attr(c, "time-business-first-response", "data-value", &business).await;

    // Two ISO weeks compared, then a chosen pair.
    select(c, "period", "week").await;
    let cmp = office.comparison.as_ref().unwrap();
    wait_attr(c, "comparison", "data-current", &cmp.current).await;
    wait_attr(c, "comparison", "data-previous", &cmp.previous).await;
    let csat = cmp
        .changes
        .iter()
        .find(|ch| ch.kpi == "csat_percentage")
        .unwrap();
    let delta = c
        .find(Locator::Css(
            "[data-testid='comparison'] tr[data-kpi='csat_percentage']",
        ))
        .await
        .unwrap()
        .attr("data-delta")
        .await
        .unwrap();
    assert_eq!(delta.unwrap_or_default(), raw(csat.delta));
    select(c, "compare-current", &cmp.previous).await;
    wait_attr(c, "comparison", "data-current", &cmp.previous).await;

    // Every week's figures, as the report has them; a week's own button compares it.
    assert_eq!(period_rows(c, &office).await, period_figures(&office));
    compare_from_row(c, &cmp.current).await;
    wait_attr(c, "comparison", "data-current", &cmp.current).await;
    wait_attr(c, "comparison", "data-previous", &cmp.previous).await;

    // The report page downloads, and is the CLI's for the same settings.
    click(c, "report-download").await;
    let page = wait_file(
        &b.downloads.join("powerpulse_report.html"),
        Duration::from_secs(20),
    )
    .await;
    let want = cli(&[
        "report",
        file.to_str().unwrap(),
        "--business-hours",
        hours,
        "--period",
        "week",
        "--compare",
        &cmp.current,
    ]);
    assert_eq!(
        String::from_utf8(page).unwrap(),
        String::from_utf8(want).unwrap()
    );

    // By month, the rows are the months'.
    select(c, "period", "month").await;
    let monthly = shared_report(
        &file,
        &powerpulse_shared::report::ReportParams {
            period: Some("month".into()),
            ..params.clone()
        },
    );
    assert_ne!(monthly.periods.len(), office.periods.len());
    assert_eq!(period_rows(c, &monthly).await, period_figures(&monthly));

    // The settings are kept: after a reload the figures are the office's.
    c.refresh().await.unwrap();
    wait_attr(c, "time-business-first-response", "data-value", &business).await;
}

/// Each period's name, conversations, CSAT and business first-response median, as the page's
/// attributes carry them.
fn period_figures(r: &powerpulse_shared::report::Report) -> Vec<[String; 4]> {
    r.periods
        .iter()
        .map(|p| {
            let csat = (p.core.n.csat > 0).then_some(p.core.csat_percentage);
            [
                p.period.clone(),
                p.core.total_conversations.to_string(),
                raw(csat),
                raw(p.service.business.first_response.median),
            ]
        })
        .collect()
}

/// The period table's rows, once it shows `r`'s periods (or after 20 s).
async fn period_rows(c: &Client, r: &powerpulse_shared::report::Report) -> Vec<[String; 4]> {
    let want: Vec<String> = r.periods.iter().map(|p| p.period.clone()).collect();
    let start = Instant::now();
    loop {
        let mut rows = Vec::new();
        for e in c
            .find_all(Locator::Css("[data-testid='period-row']"))
            .await
            .unwrap()
        {
            let mut cells = Vec::new();
            for a in [
                "data-period",
                "data-conversations",
                "data-csat",
                "data-first-response",
            ] {
                cells.push(e.attr(a).await.unwrap().unwrap_or_default());
            }
            rows.push([
                cells[0].clone(),
                cells[1].clone(),
                cells[2].clone(),
                cells[3].clone(),
            ]);
        }
        let names: Vec<String> = rows.iter().map(|r| r[0].clone()).collect();
        if names == want || start.elapsed() > Duration::from_secs(20) {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Clicks the "Compare" button of the period table's row for `period`.
async fn compare_from_row(c: &Client, period: &str) {
    let e = c
        .find(Locator::Css(&format!(
            "[data-testid='period-row'][data-period='{period}'] [data-testid='period-compare']"
        )))
        .await
        .unwrap();
    scroll_to(c, &e).await;
    e.click().await.unwrap();
}

/// Waits until the element `id` holds `part` in its text.
async fn wait_text_contains(c: &Client, id: &str, part: &str) {
    let start = Instant::now();
    loop {
        if let Ok(e) = c.find(Locator::Css(&format!("[data-testid='{id}']"))).await {
            if e.text().await.unwrap_or_default().contains(part) {
                return;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{id} never says {part:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The chat ids of the evidence panel's rows, once it lists `total` items and (as the panel
/// may still show the figure clicked before) the rows are `want`'s, or after 20 s.
async fn evidence_rows(c: &Client, total: u64, want: &[String]) -> Vec<String> {
    wait_attr(c, "evidence", "data-total", &total.to_string()).await;
    let start = Instant::now();
    loop {
        let mut ids = Vec::new();
        for r in c
            .find_all(Locator::Css("[data-testid='evidence-row']"))
            .await
            .unwrap()
        {
            ids.push(r.attr("data-chat").await.unwrap().unwrap_or_default());
        }
        if ids == want || start.elapsed() > Duration::from_secs(20) {
            return ids;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chart_bar_opens_exactly_its_conversations() {
    if !app_built() {
        return;
    }
    use powerpulse_shared::evidence::{evidence, Evidence};
    let file = workspace().join("eval/kenya-a.json");
    let d =
        powerpulse_shared::process(&std::fs::read(&file).unwrap(), &Default::default()).unwrap();
    let f = powerpulse_shared::Filter::default();
    let opts = powerpulse_shared::report::ReportParams::default()
        .to_options(f.tz)
        .unwrap();
    let want = |what: Evidence| {
        let l = evidence(d.summaries(), &f, &what, &opts);
        let ids: Vec<String> = l.items.iter().map(|i| i.chat_id.clone()).collect();
        (l.total, ids)
    };
    let server = Server::start(ServerOptions::default());
    let b = Browser::start().await;
    let c = &b.client;
    load_in_app(c, &server.url, &file).await;

    // The busiest day's bar.
    let bars = c
        .find_all(Locator::Css("[data-testid='daily-bar']"))
        .await
        .unwrap();
    let mut busiest = (0u64, None);
    for bar in bars {
        let n: u64 = bar
            .attr("data-count")
            .await
            .unwrap()
            .unwrap()
            .parse()
            .unwrap();
        if n > busiest.0 {
            busiest = (n, Some(bar));
        }
    }
    let bar = busiest.1.expect("a day with conversations");
    let date = bar.attr("data-date").await.unwrap().unwrap();
    scroll_to(c, &bar).await;
    bar.click().await.unwrap();
    let (total, ids) = want(Evidence::Day {
        date: date.parse().unwrap(),
    });
    assert_eq!(total, busiest.0, "the bar counts what it lists");
    assert_eq!(evidence_rows(c, total, &ids).await, ids);

    // A bar of the reply-gap histogram: its gaps.
    let gap = c
        .find(Locator::Css("[data-testid='gap-bar'][data-bucket='3']"))
        .await
        .unwrap();
    let count: u64 = gap
        .attr("data-count")
        .await
        .unwrap()
        .unwrap()
        .parse()
        .unwrap();
    scroll_to(c, &gap).await;
    gap.click().await.unwrap();
    let (total, ids) = want(Evidence::GapBucket { bucket: 3 });
    assert_eq!(total, count);
    assert_eq!(evidence_rows(c, total, &ids).await, ids);

    // The busiest heatmap cell: its customer messages, each with the reply after it.
    let grid = powerpulse_shared::metrics::weekday_hour_heatmap(&d.conversations, &f);
    let (weekday, hour) = (0..7)
        .flat_map(|w| (0..24).map(move |h| (w, h)))
        .max_by_key(|&(w, h)| (grid[w][h], std::cmp::Reverse((w, h))))
        .unwrap();
    let cell = c
        .find(Locator::Css(&format!(
            "[data-testid='heat-cell'][data-weekday='{weekday}'][data-hour='{hour}']"
        )))
        .await
        .unwrap();
    assert_eq!(
        cell.attr("data-count").await.unwrap().unwrap(),
        grid[weekday][hour].to_string()
    );
    scroll_to(c, &cell).await;
    cell.click().await.unwrap();
    let l =
        powerpulse_shared::evidence::hour_evidence(&d.conversations, &f, weekday as u8, hour as u8);
    assert_eq!(l.total, grid[weekday][hour]);
    let ids: Vec<String> = l.items.iter().map(|i| i.chat_id.clone()).collect();
    assert_eq!(evidence_rows(c, l.total, &ids).await, ids);

    // The first topic and the first agent row: their conversations.
    for (testid, name, what) in [
        (
            "topic-row",
            "data-topic",
            (|topic| Evidence::Topic { topic }) as fn(String) -> Evidence,
        ),
        ("agent-row", "data-agent", |agent| Evidence::Agent { agent }),
    ] {
        let row = c
            .find(Locator::Css(&format!("[data-testid='{testid}']")))
            .await
            .unwrap();
        let (total, ids) = want(what(row.attr(name).await.unwrap().unwrap()));
        assert_eq!(
            row.attr("data-count").await.unwrap().unwrap(),
            total.to_string(),
            "{testid} counts what it lists"
        );
        let button = row.find(Locator::Css("button")).await.unwrap();
        scroll_to(c, &button).await;
        button.click().await.unwrap();
        assert_eq!(evidence_rows(c, total, &ids).await, ids);
    }

    // The FCR card's misses; one of them opens its transcript.
    click(c, "kpi-fcr-misses").await;
    let (total, ids) = want(Evidence::NotResolved);
    assert!(total > 10);
    assert_eq!(evidence_rows(c, total, &ids).await, ids);
    c.find(Locator::Css("[data-testid='evidence-row'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(open_chat(c).await, ids[0]);
    press(c, "\u{e00c}").await;
    click(c, "evidence-close").await;
    assert!(c
        .find(Locator::Css("[data-testid='evidence']"))
        .await
        .is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_overlapping_exports_merge_with_the_duplicates_counted() {
    if !app_built() {
        return;
    }
    // Two weekly exports of a real page that overlap: the chats in the middle are in both.
    let all: serde_json::Map<String, Value> =
        serde_json::from_slice(&std::fs::read(workspace().join("eval/kenya-a.json")).unwrap())
            .unwrap();
    let chats: Vec<(&String, &Value)> = all.iter().collect();
    let part = |r: std::ops::Range<usize>| {
        let m: serde_json::Map<String, Value> = chats[r]
            .iter()
            .map(|(k, v)| ((*k).clone(), (*v).clone()))
            .collect();
        serde_json::to_vec(&m).unwrap()
    };
    let dir = TempDir::new("merge");
    let (first, second) = (dir.join("week1.json"), dir.join("week2.json"));
    std::fs::write(&first, part(0..90)).unwrap();
    std::fs::write(&second, part(50..140)).unwrap();
    let merged = powerpulse_shared::process_merged(
        &[
            &std::fs::read(&first).unwrap(),
            &std::fs::read(&second).unwrap(),
        ],
        &Default::default(),
    )
    .unwrap();
    let alone = powerpulse_shared::process(
        &std::fs::read(workspace().join("eval/kenya-a.json")).unwrap(),
        &Default::default(),
    )
    .unwrap();
    assert_eq!(merged.conversations.len(), 140);
    assert!(merged.report.filtered.duplicate > alone.report.filtered.duplicate);

    let server = Server::start(ServerOptions::default());
    let b = Browser::start().await;
    let c = &b.client;
    open_app(c, &server.url).await;
    // Both files chosen at once (WebDriver: one path per line).
    c.find(Locator::Css("[data-testid='file-input']"))
        .await
        .unwrap()
        .send_keys(&format!("{}\n{}", first.display(), second.display()))
        .await
        .unwrap();
    wait_for(c, "merged", Duration::from_secs(60), |k| {
        k[0] == Some(140.0)
    })
    .await;
    let m = merged.metrics(&powerpulse_shared::Filter::default());
    let k = kpis(c).await;
    assert_eq!(
        (k[1], k[2]),
        (
            Some(m.core.total_messages as f64),
            Some(m.core.csat_percentage)
        )
    );
    let dups: String = text_of(c, "filtered-duplicate")
        .await
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    assert_eq!(dups, merged.report.filtered.duplicate.to_string());
    assert!(text_of(c, "dataset-select")
        .await
        .contains("week1.json + week2.json"));
}

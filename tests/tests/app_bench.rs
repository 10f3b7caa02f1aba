//! Benchmark (ignored unless asked for; `scripts/bench app`): the app in headless Chromium with
//! a 47 MB export: file chosen to KPIs on screen, reopening from IndexedDB after a reload, a
//! filter change redrawing everything; and the compressed size of the download.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use powerpulse_e2e::browser::Browser;
use powerpulse_e2e::server::{Server, ServerOptions};
use powerpulse_e2e::{export, workspace, TempDir};

/// Waits for the next timing after `previous` (the `data-measured` count) and reads `attr`.
async fn timing(c: &Client, attr_name: &str, previous: Option<String>) -> f64 {
    let start = Instant::now();
    loop {
        let measured = attr(c, "data-measured").await;
        if measured.is_some() && measured != previous {
            if let Some(v) = attr(c, attr_name).await.filter(|v| !v.is_empty()) {
                return v.parse().unwrap();
            }
        }
        assert!(start.elapsed() < Duration::from_secs(120), "no {attr_name}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn attr(c: &Client, attr: &str) -> Option<String> {
    c.find(Locator::Css("[data-testid='timings']"))
        .await
        .ok()?
        .attr(attr)
        .await
        .ok()?
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run by scripts/bench app"]
async fn app_with_a_47_mb_export() {
    let dir = TempDir::new("app-bench");
    let file = dir.join("export.json");
    let bytes = export(18_000, 42);
    std::fs::write(&file, &bytes).unwrap();
    let server = Server::start(ServerOptions::default());
    let b = Browser::start().await;
    let c = &b.client;
    c.goto(&server.url).await.unwrap();
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("[data-testid='file-input']"))
        .await
        .unwrap();
    let mut loads = Vec::new();
    for _ in 0..3 {
        let prev = attr(c, "data-measured").await;
        c.find(Locator::Css("[data-testid='file-input']"))
            .await
            .unwrap()
            .send_keys(file.to_str().unwrap())
            .await
            .unwrap();
        loads.push(timing(c, "data-load-ms", prev).await);
        // Let the save to IndexedDB finish before the next run.
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    let mut opens = Vec::new();
    for _ in 0..3 {
        c.refresh().await.unwrap();
        opens.push(timing(c, "data-open-ms", None).await);
    }
    let mut filters = Vec::new();
    for agent in ["amina.k", "brian.o", "carol.w", "", "grace.a"] {
        let prev = attr(c, "data-measured").await;
        c.find(Locator::Css("[data-testid='filter-agent']"))
            .await
            .unwrap()
            .select_by_value(agent)
            .await
            .unwrap();
        filters.push(timing(c, "data-filter-ms", prev).await);
    }
    for topic in ["tokens", "outage", ""] {
        let prev = attr(c, "data-measured").await;
        c.find(Locator::Css("[data-testid='filter-topic']"))
            .await
            .unwrap()
            .select_by_value(topic)
            .await
            .unwrap();
        filters.push(timing(c, "data-filter-ms", prev).await);
    }
    // A change of schedule or of period redraws everything (the report with it).
    let mut schedules = Vec::new();
    for (id, value) in [
        ("business-hours", "Mon-Fri 08:00-17:00, Sat 09:00-13:00"),
        ("holidays", "2025-08-15"),
        ("period", "day"),
        ("period", "month"),
        ("business-hours", "Mon-Fri 07:00-19:00"),
        ("period", "week"),
    ] {
        let prev = attr(c, "data-measured").await;
        c.execute(
            "const e = document.querySelector(`[data-testid='${arguments[0]}']`); \
             e.value = arguments[1]; e.dispatchEvent(new Event('change', {bubbles: true}));",
            vec![id.into(), value.into()],
        )
        .await
        .unwrap();
        schedules.push(timing(c, "data-filter-ms", prev).await);
    }
    println!("BENCH app: {:.1} MB export", bytes.len() as f64 / 1e6);
    println!(
        "BENCH app: file chosen to KPIs on screen: median {:.0} ms ({loads:?})",
        median(loads.clone())
    );
    println!(
        "BENCH app: reload to reopened KPIs (from navigation): median {:.0} ms ({opens:?})",
        median(opens.clone())
    );
    println!("BENCH app: filter change to everything redrawn: median {:.0} ms, max {:.0} ms ({filters:?})", median(filters.clone()), filters.iter().copied().fold(0.0, f64::max));
    println!("BENCH app: schedule or period change to everything redrawn: median {:.0} ms, max {:.0} ms ({schedules:?})", median(schedules.clone()), schedules.iter().copied().fold(0.0, f64::max));
    let mut gz = 0;
    let mut br = 0;
    for e in std::fs::read_dir(workspace().join("dist"))
        .unwrap()
        .flatten()
    {
        let name = e.file_name().to_string_lossy().into_owned();
        let size = e.metadata().unwrap().len();
        if name.ends_with(".wasm.gz") || name.ends_with(".js.gz") || name.ends_with(".css.gz") {
            gz += size;
        }
        if name.ends_with(".wasm.br") || name.ends_with(".js.br") || name.ends_with(".css.br") {
            br += size;
        }
    }
    println!(
        "BENCH app: download (wasm + JS + CSS): {:.0} KB gzip, {:.0} KB brotli",
        gz as f64 / 1024.0,
        br as f64 / 1024.0
    );
    // For `scripts/bench --check`.
    println!("FIGURE app_load_ms {:.0}", median(loads));
    println!("FIGURE app_reopen_ms {:.0}", median(opens));
    println!("FIGURE app_filter_ms {:.0}", median(filters));
    println!("FIGURE app_schedule_ms {:.0}", median(schedules));
    println!("FIGURE app_gzip_kb {:.0}", gz as f64 / 1024.0);
}

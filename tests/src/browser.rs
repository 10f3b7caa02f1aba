//! Headless Chromium driven through chromedriver (WebDriver) with fantoccini.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use crate::{free_port, TempDir};

/// chromedriver and one browser session; both end on drop.
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    driver: Child,
    /// The browser profile (kept across `restart` to test persistence).
    pub profile: TempDir,
    /// Where downloads land.
    pub downloads: TempDir,
    port: u16,
}

/// Chromium's flags for a closed network, as root.
pub const CHROME_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
];

/// Whether chromedriver and Chromium are installed.
pub fn available() -> bool {
    std::path::Path::new("/usr/bin/chromedriver").exists()
        && std::path::Path::new("/usr/bin/chromium").exists()
}

async fn session(port: u16, profile: &TempDir, downloads: &TempDir) -> Client {
    let mut args: Vec<String> = CHROME_ARGS.iter().map(|s| s.to_string()).collect();
    args.push(format!("--user-data-dir={}", profile.0.display()));
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": args,
            "prefs": {"download.default_directory": downloads.0.display().to_string(), "download.prompt_for_download": false}
        },
        "goog:loggingPrefs": {"browser": "ALL"}
    });
    let caps = caps.as_object().expect("an object").clone();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await;
        match r {
            Ok(c) => return c,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("cannot start a browser session: {e}"),
        }
    }
}

impl Browser {
    /// Starts chromedriver and a browser with a fresh profile.
    pub async fn start() -> Browser {
        let port = free_port();
        let driver = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so that the browser it starts can be ended with it.
            .process_group(0)
            .spawn()
            .expect("chromedriver starts");
        let profile = TempDir::new("profile");
        let downloads = TempDir::new("downloads");
        let client = session(port, &profile, &downloads).await;
        Browser {
            client,
            driver,
            profile,
            downloads,
            port,
        }
    }

    /// Closes the browser and opens a new one on the same profile (IndexedDB, service worker
    /// and cache survive, as after a real browser restart).
    pub async fn restart(&mut self) {
        let _ = self.client.clone().close().await;
        self.client = session(self.port, &self.profile, &self.downloads).await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Killing chromedriver alone leaves Chromium running: end its whole process group.
        // SAFETY: kill(2) with a negative pid signals a process group; no memory is touched.
        unsafe {
            libc::kill(-(self.driver.id() as i32), libc::SIGKILL);
        }
        let _ = self.driver.wait();
    }
}

/// Audits the page on screen for accessibility (`a11y.js`: names, text alternatives, focus order,
/// landmarks, contrast); `dark` applies the stylesheet's dark scheme first, and at least
/// `min_text` text elements must be checked. Empty when clean.
pub async fn accessibility_problems(c: &Client, dark: bool, min_text: usize) -> Vec<String> {
    let v = c
        .execute(include_str!("a11y.js"), vec![json!(dark), json!(min_text)])
        .await
        .expect("the audit runs");
    serde_json::from_value(v).expect("the audit returns a list of problems")
}

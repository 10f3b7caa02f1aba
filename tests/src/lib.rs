//! Fixtures of the end-to-end tests. Each owns a real process or server and tears it down on
//! drop: the `powerpulse` server, a throwaway PostgreSQL cluster, fake Gemini and OpenAI
//! servers that speak the real formats with injected faults, and headless Chromium.

pub mod api;
pub mod browser;
pub mod fake_ai;
pub mod filters;
pub mod in_process;
pub mod oracle;
pub mod postgres;
pub mod server;

use std::net::TcpListener;
use std::path::PathBuf;

/// A test that cannot run here (no PostgreSQL, no Chromium, no built app). In CI (`CI=true`)
/// that is a failure, never a silent pass; elsewhere the test returns early, says so loudly,
/// and is listed in `target/skipped-tests.txt`, which `scripts/test` prints in one line at the end.
pub fn skip(what: &str, why: &str) {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{what} cannot run in CI: {why}"
    );
    eprintln!("\n*** SKIPPED: {what}: {why} ***\n");
    let list = workspace().join("target").join("skipped-tests.txt");
    if let Some(dir) = list.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(list)
    {
        use std::io::Write;
        let _ = writeln!(f, "{what} ({why})");
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The workspace root.
pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// A fresh temporary directory (removed on drop).
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Creates `/tmp/powerpulse-e2e-<name>-<pid>-<n>`.
    pub fn new(name: &str) -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "powerpulse-e2e-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }

    /// A path inside.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A generated export.
pub fn export(conversations: usize, seed: u64) -> Vec<u8> {
    powerpulse_shared::synth::generate(&powerpulse_shared::synth::SynthOptions {
        conversations,
        seed,
        ..Default::default()
    })
}

/// An upload of a processed export as the server's ingest would write it (`ai_analyzer`: the
/// label when an AI provider would judge it, which queues a job).
pub fn ingest_request(
    d: &powerpulse_shared::Dataset,
    force: bool,
    ai_analyzer: Option<&str>,
) -> powerpulse::store::IngestRequest {
    use powerpulse::ingest::{content_hash, new_id};
    powerpulse::store::IngestRequest {
        upload_id: new_id("up"),
        file_name: "gen.json".into(),
        file_hash: new_id("h"),
        bytes: 0,
        report: d.report.clone(),
        conversations: d
            .conversations
            .iter()
            .map(|c| powerpulse::store::IngestConversation {
                content_hash: content_hash(c),
                conversation: c.clone(),
            })
            .collect(),
        force,
        ai_analyzer: ai_analyzer.map(str::to_owned),
    }
}

//! The real `powerpulse` server as a child process.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{free_port, workspace, TempDir};

/// The server binary: `POWERPULSE_BIN`, else `target/debug/powerpulse` of this workspace
/// (`scripts/test` builds it first).
pub fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("POWERPULSE_BIN") {
        return PathBuf::from(p);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"));
    let p = target.join("debug").join("powerpulse");
    assert!(
        p.exists(),
        "{} is missing: run `cargo build -p powerpulse` first (scripts/test does)",
        p.display()
    );
    p
}

/// A running server; killed on drop.
pub struct Server {
    child: Option<Child>,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// The port.
    pub port: u16,
    env: HashMap<String, String>,
    /// The store's URL.
    pub database_url: String,
    /// Where its logs go.
    pub log: PathBuf,
    _dir: Option<TempDir>,
}

/// How to start a server.
#[derive(Clone, Default)]
pub struct ServerOptions {
    /// `DATABASE_URL` (default: a SQLite file in a temp dir).
    pub database_url: Option<String>,
    /// More environment.
    pub env: Vec<(String, String)>,
}

impl ServerOptions {
    /// With a database URL.
    pub fn db(url: &str) -> Self {
        ServerOptions {
            database_url: Some(url.to_owned()),
            env: Vec::new(),
        }
    }

    /// With one more variable.
    pub fn with(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.to_owned(), v.to_owned()));
        self
    }
}

impl Server {
    /// Starts a server and waits for `/health`.
    pub fn start(opts: ServerOptions) -> Server {
        let dir = TempDir::new("server");
        let db = opts
            .database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", dir.join("powerpulse.db").display()));
        let mut env: HashMap<String, String> = HashMap::new();
        env.insert("DATABASE_URL".into(), db.clone());
        env.insert(
            "APP_DIR".into(),
            workspace().join("dist").display().to_string(),
        );
        env.insert("RUST_LOG".into(), "info,sqlx=warn".into());
        for (k, v) in opts.env {
            env.insert(k, v);
        }
        let log = dir.join("server.log");
        let mut s = Server {
            child: None,
            url: String::new(),
            port: 0,
            env,
            database_url: db,
            log,
            _dir: Some(dir),
        };
        s.spawn();
        s
    }

    fn spawn(&mut self) {
        let port = free_port();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let mut cmd = Command::new(binary());
        cmd.arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PORT", port.to_string())
            .env("BIND", "127.0.0.1")
            .current_dir(self.log.parent().expect("log dir"))
            .stdout(Stdio::from(log.try_clone().expect("log")))
            .stderr(Stdio::from(log));
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        self.child = Some(cmd.spawn().expect("the server starts"));
        self.port = port;
        self.url = format!("http://127.0.0.1:{port}");
        self.wait_healthy();
    }

    fn wait_healthy(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "the server exited ({status}) before answering; log:\n{}",
                    self.logs()
                );
            }
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                let ok = std::process::Command::new(binary())
                    .args(["healthcheck", "--url", &self.url])
                    .output()
                    .map(|o| o.status.success())
                    .unwrap_or(false);
                if ok {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the server did not become healthy; log:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The server's log so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Kills the process at once (SIGKILL): no shutdown code runs.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Asks the process to stop (SIGTERM) and waits for it.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut c = self.child.take().expect("running");
        unsafe {
            libc::kill(c.id() as i32, libc::SIGTERM);
        }
        c.wait().expect("the server exits")
    }

    /// Asks the process to stop (SIGTERM) and waits at most `limit` for it; none (and the
    /// process killed) if it was still running then.
    pub fn terminate_within(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let mut c = self.child.take().expect("running");
        unsafe {
            libc::kill(c.id() as i32, libc::SIGTERM);
        }
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(status) = c.try_wait().expect("the server's status") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = c.kill();
        let _ = c.wait();
        None
    }

    /// Starts the server again on the same store (after `kill9` or `terminate`).
    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

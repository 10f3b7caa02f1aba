//! The server's router in this test process (`powerpulse::http::app` on a local socket): for
//! API checks that need no process of their own (no signal, no restart, no environment the
//! binary reads at start-up), so they run without spawning the binary.

use std::collections::HashMap;

use powerpulse::config::Config;
use tokio_util::sync::CancellationToken;

use crate::server::ServerOptions;
use crate::{workspace, TempDir};

/// A server running in this process; stopped on drop.
pub struct InProcess {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    shutdown: CancellationToken,
    _dir: TempDir,
}

impl Drop for InProcess {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl InProcess {
    /// Builds the state from `opts` (as the binary would from its environment) and serves it.
    pub async fn start(opts: ServerOptions) -> InProcess {
        let dir = TempDir::new("in-process");
        let mut vars: HashMap<String, String> = HashMap::new();
        vars.insert(
            "DATABASE_URL".into(),
            opts.database_url
                .clone()
                .unwrap_or_else(|| format!("sqlite://{}", dir.join("powerpulse.db").display())),
        );
        vars.insert(
            "APP_DIR".into(),
            workspace().join("dist").display().to_string(),
        );
        vars.extend(opts.env);
        let config = Config::from_vars(&|name| vars.get(name).cloned())
            .expect("the test's configuration is valid");
        let shutdown = CancellationToken::new();
        let (state, _worker) = powerpulse::server::state(config, shutdown.clone())
            .await
            .expect("the state builds");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a local port");
        let port = listener.local_addr().expect("an address").port();
        let app = powerpulse::http::app(state);
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move { stop.cancelled().await })
                .await;
        });
        InProcess {
            // The server answers only this machine's names without a token (DNS rebinding).
            url: format!("http://127.0.0.1:{port}"),
            shutdown,
            _dir: dir,
        }
    }
}

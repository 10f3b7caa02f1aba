//! A throwaway PostgreSQL cluster (Debian's `postgresql` package: initdb + pg_ctl in a temp dir,
//! on a free port), stopped and deleted on drop.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{free_port, TempDir};

/// A running cluster.
pub struct Postgres {
    dir: TempDir,
    bin: PathBuf,
    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub url: String,
    as_user: Option<&'static str>,
}

fn pg_bin() -> Option<PathBuf> {
    let base = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<PathBuf> = std::fs::read_dir(base)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    versions.sort();
    versions
        .into_iter()
        .rev()
        .map(|v| v.join("bin"))
        .find(|b| b.join("initdb").exists())
}

impl Postgres {
    /// Starts a cluster, or says loudly why it cannot (then the caller skips).
    pub fn start() -> Option<Postgres> {
        let Some(bin) = pg_bin() else {
            crate::skip(
                "PostgreSQL tests",
                "PostgreSQL is not installed (scripts/setup installs it)",
            );
            return None;
        };
        let dir = TempDir::new("pg");
        // initdb refuses to run as root: use the package's postgres user.
        let as_user = (unsafe { libc::geteuid() } == 0).then_some("postgres");
        if let Some(u) = as_user {
            let ok = Command::new("chown")
                .args(["-R", u])
                .arg(&dir.0)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "cannot hand {} to {u}", dir.0.display());
        }
        let run = |program: &Path, args: &[&str]| -> std::process::Output {
            let mut c = match as_user {
                Some(u) => {
                    let mut c = Command::new("runuser");
                    c.args(["-u", u, "--"]).arg(program);
                    c
                }
                None => Command::new(program),
            };
            c.args(args).output().expect("PostgreSQL tools run")
        };
        let data = dir.join("data");
        let out = run(
            &bin.join("initdb"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off",
            dir.0.display()
        );
        let log = dir.join("pg.log");
        let out = run(
            &bin.join("pg_ctl"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &opts,
                "-l",
                log.to_str().unwrap(),
                "-w",
                "start",
            ],
        );
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        Some(Postgres {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            dir,
            bin,
            as_user,
        })
    }

    /// A fresh database in the cluster, as a URL.
    pub fn database(&self, name: &str) -> String {
        let mut c = match self.as_user {
            Some(u) => {
                let mut c = Command::new("runuser");
                c.args(["-u", u, "--"]).arg(self.bin.join("psql"));
                c
            }
            None => Command::new(self.bin.join("psql")),
        };
        let out = c
            .args([&self.url, "-c", &format!("CREATE DATABASE {name}")])
            .output()
            .expect("psql runs");
        assert!(
            out.status.success(),
            "CREATE DATABASE failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let base = self
            .url
            .rsplit_once('/')
            .map_or(self.url.as_str(), |(b, _)| b);
        format!("{base}/{name}")
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let mut c = match self.as_user {
            Some(u) => {
                let mut c = Command::new("runuser");
                c.args(["-u", u, "--"]).arg(self.bin.join("pg_ctl"));
                c
            }
            None => Command::new(self.bin.join("pg_ctl")),
        };
        let _ = c
            .args([
                "-D",
                data.to_str().unwrap_or_default(),
                "-m",
                "immediate",
                "stop",
            ])
            .output();
    }
}

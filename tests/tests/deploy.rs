//! The deployment files stay thin and consistent with what the tests exercise: the image runs
//! `powerpulse serve` as a non-root user with `powerpulse healthcheck` as its health check, and
//! that health check works with the image's environment (BIND=0.0.0.0, PORT).

use std::process::Command;

use powerpulse_e2e::server::{binary, Server, ServerOptions};
use powerpulse_e2e::workspace;

#[test]
fn dockerfile_runs_as_non_root_with_the_builtin_healthcheck() {
    let f = std::fs::read_to_string(workspace().join("Dockerfile")).unwrap();
    let user = f
        .lines()
        .rev()
        .find(|l| l.starts_with("USER "))
        .expect("a USER line");
    assert_ne!(user.trim(), "USER root");
    assert!(f.contains(r#"HEALTHCHECK"#) && f.contains(r#"CMD ["powerpulse", "healthcheck"]"#));
    let runtime = f.rsplit("\nFROM ").next().unwrap();
    assert!(
        !runtime
            .lines()
            .any(|l| l.contains("apt-get install") && l.contains("curl")),
        "the image needs no curl"
    );
    assert!(
        f.contains("scripts/setup") && f.contains("scripts/build-app"),
        "the image builds like CI does"
    );
    assert!(f.matches("FROM ").count() >= 2, "multi-stage");
    let compose = std::fs::read_to_string(workspace().join("docker-compose.yml")).unwrap();
    assert!(compose.contains("image: postgres") && compose.contains("DATABASE_URL: postgres://"));
    assert!(
        compose.contains("API_TOKEN: ${API_TOKEN:?"),
        "compose refuses to start without a token"
    );
    assert!(
        !f.lines()
            .any(|l| l.starts_with("ENV") && l.contains("ALLOW_UNAUTHENTICATED")),
        "the image never turns the token requirement off"
    );
}

#[test]
fn the_images_environment_without_a_token_refuses_to_start() {
    // The image's BIND=0.0.0.0 without API_TOKEN: the server exits before binding anything.
    let out = Command::new(binary())
        .arg("serve")
        .env_clear()
        .env("BIND", "0.0.0.0")
        .env("PORT", powerpulse_e2e::free_port().to_string())
        .env("DATABASE_URL", "sqlite::memory:")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("API_TOKEN") && err.contains("0.0.0.0"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthcheck_works_with_the_images_environment() {
    let s = Server::start(ServerOptions::default());
    let run = |port: u16| {
        Command::new(binary())
            .arg("healthcheck")
            .env_clear()
            .env("BIND", "0.0.0.0")
            .env("PORT", port.to_string())
            .output()
            .unwrap()
    };
    assert!(run(s.port).status.success());
    let closed = powerpulse_e2e::free_port();
    assert_eq!(run(closed).status.code(), Some(1));
}

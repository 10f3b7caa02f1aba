//! The subcommands that need the async runtime: `serve`, `healthcheck`, `analyze`.

use std::io::Write;
use std::time::Duration;

use powerpulse_shared::Dataset;

use crate::ai::prompt::{batch_text, estimate_tokens, ConversationInput, Prepared};
use crate::ai::{AiEngine, ItemOutcome};
use crate::analysis::Analysis;
use crate::config::{AiService, Config, Secret};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts")
}

fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}

/// `powerpulse serve`.
pub fn serve() -> i32 {
    init_logs();
    let config = match Config::from_env().and_then(|c| c.check_exposure().map(|()| c)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("powerpulse: {e}");
            return 2;
        }
    };
    match runtime().block_on(crate::server::serve(config)) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("powerpulse: {e}");
            1
        }
    }
}

/// `powerpulse healthcheck`: for the Docker HEALTHCHECK (the image has no curl).
pub fn healthcheck(url: Option<String>) -> i32 {
    let base = match url {
        Some(u) => u,
        None => match Config::from_env() {
            Ok(c) => {
                let host = if c.addr.ip().is_unspecified() {
                    "127.0.0.1".to_owned()
                } else {
                    c.addr.ip().to_string()
                };
                format!("http://{host}:{}", c.addr.port())
            }
            Err(e) => {
                eprintln!("powerpulse: {e}");
                return 2;
            }
        },
    };
    let url = format!("{}/health", base.trim_end_matches('/'));
    let result = runtime().block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()?;
        client.get(&url).send().await
    });
    match result {
        Ok(r) if r.status().is_success() => {
            println!("healthy: {url}");
            0
        }
        Ok(r) => {
            eprintln!("powerpulse: unhealthy: {url} answered {}", r.status());
            1
        }
        Err(e) => {
            eprintln!("powerpulse: unhealthy: {url}: {}", e.without_url());
            1
        }
    }
}

/// The conversations of a dataset as the AI path sees them.
pub fn inputs(d: &Dataset) -> Vec<ConversationInput> {
    d.conversations.iter().map(ConversationInput::of).collect()
}

/// `powerpulse analyze --check`: whether the configured provider lists the configured model.
pub fn check_model() -> i32 {
    use crate::ai::model_check::ModelCheck;
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("powerpulse: {e}");
            return 2;
        }
    };
    let Some(engine) = AiEngine::new(&config.ai) else {
        eprintln!("powerpulse: no AI provider configured: set AI_SERVICE and its key");
        return 2;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime starts");
    match runtime.block_on(engine.check_model()) {
        ModelCheck::Found => {
            println!("{}: the provider lists this model", engine.label());
            0
        }
        ModelCheck::Missing { message, .. } => {
            eprintln!("powerpulse: {message}");
            1
        }
        ModelCheck::Unchecked { message } => {
            eprintln!("powerpulse: {message}");
            2
        }
        ModelCheck::Pending => 2,
    }
}

/// The AI settings for `powerpulse analyze`: the environment's, or `--service`'s provider with
/// its default model (a dry run needs no key: nothing is sent).
fn analyze_config(dry_run: bool, service: Option<&str>) -> Result<Config, String> {
    let mut config = Config::from_env().map_err(|e| e.to_string())?;
    let Some(s) = service else {
        return Ok(config);
    };
    let (svc, model, url) = match s {
        "gemini" => (
            AiService::Gemini,
            crate::config::DEFAULT_GEMINI_MODEL,
            "https://generativelanguage.googleapis.com",
        ),
        "openai" => (
            AiService::OpenAi,
            crate::config::DEFAULT_OPENAI_MODEL,
            "https://api.openai.com/v1",
        ),
        other => return Err(format!("--service must be gemini or openai, got {other:?}")),
    };
    if config.ai.service != svc {
        config.ai.service = svc;
        config.ai.model = model.to_owned();
        config.ai.base_url = url.to_owned();
    }
    if config.ai.key.is_none() {
        if !dry_run {
            return Err("--service without a key only works with --dry-run".into());
        }
        // Never sent: a dry run only prints.
        config.ai.key = Some(Secret::new("dry-run"));
    }
    Ok(config)
}

/// Prints exactly what would be sent, call by call, and what it would cost in tokens.
fn print_dry_run(engine: &AiEngine, prepared: Vec<Prepared>, tokens: &TokenCounts) {
    let mut out = std::io::stdout().lock();
    let calls = engine.plan(prepared);
    for (i, b) in calls.iter().enumerate() {
        let _ = writeln!(
            out,
            "# batch {} of {}: {} conversations -> POST {}",
            i + 1,
            calls.len(),
            b.len(),
            engine.provider().url()
        );
        let body = engine.provider().request_body(&batch_text(b));
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&body).expect("JSON prints")
        );
    }
    let n = tokens.conversations.max(1) as f64;
    eprintln!(
        "{} conversations in {} calls ({:.1} per call); estimated input {:.0} tokens per conversation, raw transcript {:.0} ({:.0}%)",
        tokens.conversations,
        calls.len(),
        tokens.conversations as f64 / calls.len().max(1) as f64,
        f64::from(tokens.sent) / n,
        f64::from(tokens.raw) / n,
        100.0 * f64::from(tokens.sent) / f64::from(tokens.raw.max(1)),
    );
}

/// What a run sends against what the raw transcripts would cost.
struct TokenCounts {
    conversations: usize,
    sent: u32,
    raw: u32,
}

/// Runs the calls and prints one JSON line per conversation; false when the provider stopped it.
fn run_calls(
    rt: &tokio::runtime::Runtime,
    analysis: &Analysis,
    prepared: Vec<Prepared>,
    tokens: &TokenCounts,
) -> bool {
    let started = std::time::Instant::now();
    let token = tokio_util::sync::CancellationToken::new();
    let runs = rt.block_on(futures::future::join_all(analysis.calls(prepared, &token)));
    let mut out = std::io::stdout().lock();
    let (mut failed, mut s) = (0, crate::ai::AiUsage::default());
    for run in runs {
        s = s.plus(&run.stats);
        let items = match run.outcomes {
            Ok(items) => items,
            Err(e) => {
                eprintln!("powerpulse: stopped: {e:?}");
                return false;
            }
        };
        for (id, o) in items {
            let line = match o {
                ItemOutcome::Done(a) => {
                    serde_json::json!({"id": id, "status": "done", "analysis": a})
                }
                ItemOutcome::Failed(e) => {
                    failed += 1;
                    serde_json::json!({"id": id, "status": "failed", "error": e})
                }
            };
            let _ = writeln!(out, "{line}");
        }
    }
    let n = tokens.conversations.max(1) as f64;
    eprintln!(
        "{} conversations, {} calls ({:.1} conversations per call), {} retries, {} failed, {:.1} s; input tokens {} ({:.0} per conversation; raw transcript {:.0})",
        tokens.conversations,
        s.calls,
        s.conversations_sent as f64 / s.calls.max(1) as f64,
        s.retries,
        failed,
        started.elapsed().as_secs_f64(),
        s.input_tokens,
        s.input_tokens as f64 / n,
        f64::from(tokens.raw) / n,
    );
    true
}

/// `powerpulse analyze FILE [--dry-run]`.
pub fn analyze(d: &Dataset, dry_run: bool, service: Option<&str>) -> i32 {
    let config = match analyze_config(dry_run, service) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("powerpulse: {e}");
            return 2;
        }
    };
    let Some(engine) = AiEngine::new(&config.ai) else {
        eprintln!("powerpulse: no AI provider configured: set AI_SERVICE and its key, or pass --service with --dry-run");
        return 2;
    };
    // No store: the CLI keeps no cache.
    let analysis = Analysis::new(engine, None);
    let inputs = inputs(d);
    let rt = runtime();
    let prepared = match rt.block_on(analysis.lookup(&inputs, true)) {
        Ok(lookup) => lookup.to_send,
        Err(e) => {
            eprintln!("powerpulse: {e}");
            return 1;
        }
    };
    let tokens = TokenCounts {
        conversations: inputs.len(),
        sent: prepared.iter().map(|p| p.tokens).sum(),
        raw: d
            .conversations
            .iter()
            .map(|c| estimate_tokens(&raw_transcript(c)))
            .sum(),
    };
    if dry_run {
        print_dry_run(analysis.engine(), prepared, &tokens);
        return 0;
    }
    init_logs();
    if run_calls(&rt, &analysis, prepared, &tokens) {
        0
    } else {
        1
    }
}

/// The conversation as the export holds it (all fields, bots included): what sending "the whole
/// raw transcript" would cost.
pub fn raw_transcript(c: &powerpulse_shared::Conversation) -> String {
    let msgs: Vec<serde_json::Value> = c
        .messages
        .iter()
        .map(|m| {
            serde_json::json!({
                "FB_CHAT_ID": c.summary.chat_id,
                "MESSAGE_CONTENT": m.text,
                "DIRECTION": m.role.direction(),
                "SOCIAL_CREATE_TIME": m.time(),
                "AGENT_USERNAME": m.agent.as_deref(),
                "AGENT_EMAIL": m.agent.as_deref().map(|a| format!("{a}@example.com")),
                "UNIQUE_POST_ID": m.id,
            })
        })
        .collect();
    serde_json::to_string(&msgs).expect("JSON prints")
}

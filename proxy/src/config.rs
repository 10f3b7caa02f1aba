//! Configuration from the environment (and a `.env` file), as documented in the README.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use powerpulse_shared::report::ReportParams;
use powerpulse_shared::time::{parse_tz, Tz};

/// A secret value (API key, token): never printed, never serialized.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Which analyzer the server uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AiService {
    /// The built-in analyzer only.
    Builtin,
    /// Google Gemini.
    Gemini,
    /// OpenAI.
    OpenAi,
}

impl AiService {
    /// The name used in `AI_SERVICE` and in `/health`.
    pub fn as_str(self) -> &'static str {
        match self {
            AiService::Builtin => "builtin",
            AiService::Gemini => "gemini",
            AiService::OpenAi => "openai",
        }
    }
}

/// AI settings.
#[derive(Debug, Clone)]
pub struct AiConfig {
    /// The provider.
    pub service: AiService,
    /// The provider's key (absent for builtin).
    pub key: Option<Secret>,
    /// The model name.
    pub model: String,
    /// The provider's base URL (overridable for tests and gateways).
    pub base_url: String,
    /// Calls in flight at most.
    pub max_concurrency: usize,
    /// Requests per minute at most.
    pub rpm: u32,
    /// Estimated tokens per minute at most.
    pub tpm: u32,
    /// Retries of a failed call (not counting the first attempt).
    pub max_retries: u32,
    /// Input token budget of one call.
    pub batch_tokens: u32,
    /// Most conversations in one call.
    pub batch_max_conversations: usize,
    /// Timeout of one call, in seconds.
    pub timeout_secs: u64,
    /// Redact phone numbers, emails and long digit runs before sending.
    pub redact: bool,
    /// Price per million input / output tokens (USD), for the cost estimate.
    pub price_in: f64,
    /// Price per million output tokens (USD).
    pub price_out: f64,
    /// When jobs go through the provider's asynchronous Batch API (half price, up to 24 h).
    pub batch_mode: BatchMode,
    /// Under [`BatchMode::Auto`], the fewest conversations a job needs to go by batch.
    pub batch_threshold: usize,
    /// How often a submitted batch is asked for its state.
    pub batch_poll: std::time::Duration,
}

/// Whether AI jobs use the providers' Batch APIs (`AI_BATCH_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchMode {
    /// Never: every call is synchronous.
    Off,
    /// For jobs of at least `AI_BATCH_THRESHOLD` conversations.
    Auto,
    /// For every job.
    Always,
}

impl std::str::FromStr for BatchMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "off" => Ok(BatchMode::Off),
            "auto" => Ok(BatchMode::Auto),
            "always" => Ok(BatchMode::Always),
            other => Err(format!("{other:?} is not one of off, auto, always")),
        }
    }
}

/// Default models: current small, cheap, JSON-capable models (checked 2026-12-01). Gemini: the
/// stable Flash-Lite id of the Gemini API's model page (stable since July 2026, no shutdown
/// date announced). OpenAI: GPT-6 Luna, "for cost-sensitive, high-volume workloads" on OpenAI's
/// models page (gpt-5-mini, the previous default, shuts down on 2026-12-11).
pub const DEFAULT_GEMINI_MODEL: &str = "gemini-3.5-flash-lite";
/// See [`DEFAULT_GEMINI_MODEL`].
pub const DEFAULT_OPENAI_MODEL: &str = "gpt-6-luna";

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL`.
    pub database_url: String,
    /// `BIND` / `PORT`.
    pub addr: SocketAddr,
    /// `MAX_FILE_SIZE` in bytes.
    pub max_file_size: usize,
    /// `AUTORESPONSE_PATTERNS`.
    pub autoresponse_patterns: Option<String>,
    /// `TOPICS_FILE`.
    pub topics_file: Option<PathBuf>,
    /// `TIMEZONE`: the default of the `tz` parameter.
    pub timezone: Tz,
    /// `API_TOKEN`: when set, every `/api` call needs it as a Bearer token.
    pub api_token: Option<Secret>,
    /// `CORS_ORIGINS`: comma-separated origins allowed to call the API (none by default).
    pub cors_origins: Vec<String>,
    /// `APP_DIR`: the built web app (Trunk's `dist/`).
    pub app_dir: PathBuf,
    /// AI settings.
    pub ai: AiConfig,
    /// `WORKER_ID`: names this instance in job claims (default: host, process id and a random
    /// suffix, so replicas that share a host name or a pid never share an identity).
    pub worker_id: String,
    /// `ALLOW_UNAUTHENTICATED`: serve a non-loopback address without `API_TOKEN` (off).
    pub allow_unauthenticated: bool,
    /// `MAX_CONCURRENT_UPLOADS`: uploads read and ingested at once (2); more get a 429.
    pub max_concurrent_uploads: usize,
    /// `REQUEST_TIMEOUT_SECS`: the longest a request may take before a 408 (300).
    pub request_timeout_secs: u64,
    /// `SHUTDOWN_GRACE_SECS`: how long requests in flight may finish after SIGTERM (20).
    pub shutdown_grace_secs: u64,
    /// `SEARCH_COUNT_CAP`: the matches a search's count reads before it reports a lower bound
    /// (50,000; `exact_total=true` asks for every one).
    pub search_count_cap: u64,
    /// `BUSINESS_HOURS`, `HOLIDAYS`, `FIRST_RESPONSE_TARGET`, `REPLY_GAP_TARGET`: the report's
    /// settings where a request gives none.
    pub report_defaults: ReportParams,
}

/// A configuration problem, named with its variable.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// Where settings are read from: the environment, or (in tests) a map.
struct Vars<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Vars<'_> {
    fn var(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn parsed<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, ConfigError> {
        match self.var(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| ConfigError(format!("{name}: invalid value {v:?}"))),
        }
    }
}

/// `pp-<host>-<pid>-<random>`: two replicas of one image (same pid 1, maybe the same host name)
/// still differ.
fn default_worker_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    format!(
        "pp-{host}-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

impl Config {
    /// Reads the configuration from the environment (after loading `.env` if present).
    pub fn from_env() -> Result<Config, ConfigError> {
        let _ = dotenvy::dotenv();
        Config::from_vars(&|name| std::env::var(name).ok())
    }

    /// Reads the configuration from `get` (the variables by name), with the defaults above.
    pub fn from_vars(get: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let v = Vars(get);
        let port: u16 = v.parsed("PORT", 8000)?;
        let addr = match v.var("BIND") {
            Some(b) if b.contains(':') && b.parse::<SocketAddr>().is_ok() => {
                b.parse().expect("checked")
            }
            Some(b) => format!("{b}:{port}")
                .parse()
                .map_err(|_| ConfigError(format!("BIND: invalid address {b:?}")))?,
            None => SocketAddr::from(([127, 0, 0, 1], port)),
        };
        let timezone = match v.var("TIMEZONE") {
            Some(t) => parse_tz(&t).map_err(|e| ConfigError(format!("TIMEZONE: {e}")))?,
            None => Tz::UTC,
        };
        let gemini_key = v.var("GEMINI_API_KEY").map(Secret::new);
        let openai_key = v.var("OPENAI_API_KEY").map(Secret::new);
        let service = match v.var("AI_SERVICE").as_deref() {
            Some("builtin") => AiService::Builtin,
            Some("gemini") => AiService::Gemini,
            Some("openai") => AiService::OpenAi,
            Some(other) => {
                return Err(ConfigError(format!(
                    "AI_SERVICE: {other:?} is not one of builtin, gemini, openai"
                )))
            }
            None if gemini_key.is_some() => AiService::Gemini,
            None if openai_key.is_some() => AiService::OpenAi,
            None => AiService::Builtin,
        };
        let (key, model, base_url) =
            match service {
                AiService::Builtin => (None, String::new(), String::new()),
                AiService::Gemini => (
                    Some(gemini_key.ok_or_else(|| {
                        ConfigError("AI_SERVICE=gemini needs GEMINI_API_KEY".into())
                    })?),
                    v.var("GEMINI_MODEL")
                        .unwrap_or_else(|| DEFAULT_GEMINI_MODEL.into()),
                    v.var("GEMINI_BASE_URL")
                        .unwrap_or_else(|| "https://generativelanguage.googleapis.com".into()),
                ),
                AiService::OpenAi => (
                    Some(openai_key.ok_or_else(|| {
                        ConfigError("AI_SERVICE=openai needs OPENAI_API_KEY".into())
                    })?),
                    v.var("OPENAI_MODEL")
                        .unwrap_or_else(|| DEFAULT_OPENAI_MODEL.into()),
                    v.var("OPENAI_BASE_URL")
                        .unwrap_or_else(|| "https://api.openai.com/v1".into()),
                ),
            };
        // The model's list price; a model PowerPulse does not know costs what the provider's
        // default does until AI_PRICE_*_PER_MTOK say otherwise.
        let default_model = match service {
            AiService::OpenAi => DEFAULT_OPENAI_MODEL,
            _ => DEFAULT_GEMINI_MODEL,
        };
        let (list_in, list_out) = crate::ai::models::list_price(&model)
            .or_else(|| crate::ai::models::list_price(default_model))
            .unwrap_or((0.0, 0.0));
        let ai = AiConfig {
            service,
            key,
            model,
            base_url: base_url.trim_end_matches('/').to_owned(),
            max_concurrency: v.parsed("AI_MAX_CONCURRENCY", 8)?,
            rpm: v.parsed("AI_RPM", 60)?,
            tpm: v.parsed("AI_TPM", 1_000_000)?,
            max_retries: v.parsed("AI_MAX_RETRIES", 2)?,
            batch_tokens: v.parsed("AI_BATCH_TOKENS", 12_000)?,
            batch_max_conversations: v.parsed("AI_BATCH_MAX_CONVERSATIONS", 40)?,
            timeout_secs: v.parsed("AI_TIMEOUT_SECS", 120)?,
            redact: v.parsed("AI_REDACT", true)?,
            price_in: v.parsed("AI_PRICE_IN_PER_MTOK", list_in)?,
            price_out: v.parsed("AI_PRICE_OUT_PER_MTOK", list_out)?,
            batch_mode: v.parsed("AI_BATCH_MODE", BatchMode::Auto)?,
            batch_threshold: v.parsed("AI_BATCH_THRESHOLD", 2000)?,
            batch_poll: std::time::Duration::from_millis(v.parsed("AI_BATCH_POLL_MS", 60_000)?),
        };
        if ai.max_concurrency == 0 || ai.rpm == 0 || ai.batch_max_conversations == 0 {
            return Err(ConfigError(
                "AI_MAX_CONCURRENCY, AI_RPM and AI_BATCH_MAX_CONVERSATIONS must be at least 1"
                    .into(),
            ));
        }
        let report_defaults = ReportParams {
            business_hours: v.var("BUSINESS_HOURS"),
            holidays: v.var("HOLIDAYS"),
            first_response_target: v
                .var("FIRST_RESPONSE_TARGET")
                .map(|_| v.parsed("FIRST_RESPONSE_TARGET", 0.0))
                .transpose()?,
            reply_gap_target: v
                .var("REPLY_GAP_TARGET")
                .map(|_| v.parsed("REPLY_GAP_TARGET", 0.0))
                .transpose()?,
            ..ReportParams::default()
        };
        report_defaults
            .to_options(timezone)
            .map_err(|e| ConfigError(format!("BUSINESS_HOURS / HOLIDAYS / *_TARGET: {e}")))?;
        Ok(Config {
            report_defaults,
            database_url: v
                .var("DATABASE_URL")
                .unwrap_or_else(|| "sqlite://powerpulse.db".into()),
            addr,
            max_file_size: v.parsed("MAX_FILE_SIZE", 52_428_800)?,
            autoresponse_patterns: v.var("AUTORESPONSE_PATTERNS"),
            topics_file: v.var("TOPICS_FILE").map(PathBuf::from),
            timezone,
            api_token: v.var("API_TOKEN").map(Secret::new),
            cors_origins: v
                .var("CORS_ORIGINS")
                .map(|v| {
                    v.split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            app_dir: v
                .var("APP_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("dist")),
            ai,
            worker_id: v.var("WORKER_ID").unwrap_or_else(default_worker_id),
            allow_unauthenticated: v.parsed("ALLOW_UNAUTHENTICATED", false)?,
            max_concurrent_uploads: v.parsed("MAX_CONCURRENT_UPLOADS", 2usize)?.max(1),
            request_timeout_secs: v.parsed("REQUEST_TIMEOUT_SECS", 300u64)?.max(1),
            shutdown_grace_secs: v.parsed("SHUTDOWN_GRACE_SECS", 20u64)?,
            search_count_cap: v
                .parsed("SEARCH_COUNT_CAP", crate::store::COUNT_CAP)?
                .max(1),
        })
    }

    /// Refuses to serve every transcript and the AI key to the network: a non-loopback
    /// address needs `API_TOKEN`, unless `ALLOW_UNAUTHENTICATED=true` says so explicitly.
    pub fn check_exposure(&self) -> Result<(), ConfigError> {
        if self.addr.ip().is_loopback() || self.api_token.is_some() {
            return Ok(());
        }
        if self.allow_unauthenticated {
            tracing::warn!(
                addr = %self.addr,
                "serving a non-loopback address without API_TOKEN (ALLOW_UNAUTHENTICATED=true): anyone who reaches it can read every conversation"
            );
            return Ok(());
        }
        Err(ConfigError(format!(
            "BIND: refusing to listen on {} without API_TOKEN; set API_TOKEN (clients then send \
             Authorization: Bearer <token>), bind 127.0.0.1, or set ALLOW_UNAUTHENTICATED=true",
            self.addr
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_ids_differ_between_processes_of_one_host() {
        let (a, b) = (default_worker_id(), default_worker_id());
        assert_ne!(a, b);
        assert!(a.starts_with("pp-") && a.contains(&std::process::id().to_string()));
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("sk-very-secret");
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        let c = AiConfig {
            service: AiService::OpenAi,
            key: Some(s),
            model: "m".into(),
            base_url: "u".into(),
            max_concurrency: 1,
            rpm: 1,
            tpm: 1,
            max_retries: 0,
            batch_tokens: 1,
            batch_max_conversations: 1,
            timeout_secs: 1,
            redact: true,
            price_in: 0.0,
            price_out: 0.0,
            batch_mode: BatchMode::Off,
            batch_threshold: 1,
            batch_poll: std::time::Duration::from_secs(1),
        };
        assert!(!format!("{c:?}").contains("sk-very-secret"));
    }
}

//! The providers' real HTTP APIs: Gemini `generateContent` and OpenAI Chat Completions with
//! strict structured output. Failures are classified for the retry policy; no error text ever
//! carries the key.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde_json::{json, Value};

use super::models::{gemini_thinking_level, openai_reasoning_effort};
use super::prompt::{output_schema, INSTRUCTIONS};
use crate::config::{AiConfig, AiService, Secret};

/// A successful call.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The JSON text the model produced.
    pub text: String,
    /// Input tokens the provider counted.
    pub input_tokens: u64,
    /// Output tokens the provider counted.
    pub output_tokens: u64,
}

/// Why a call failed, as the retry policy sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum CallError {
    /// Worth retrying after a while: 429 rate limit, 5xx, timeout, connection failure.
    Retryable {
        /// What happened.
        reason: String,
        /// How long the provider asked us to wait.
        retry_after: Option<Duration>,
    },
    /// The quota is exhausted (per day, or billing): retrying now only burns requests.
    Quota {
        /// What happened.
        reason: String,
        /// When to try again, if the provider said.
        retry_after: Option<Duration>,
    },
    /// The answer is not usable (not JSON, truncated): retry with fewer conversations.
    Malformed {
        /// What happened.
        reason: String,
    },
    /// The provider blocked the prompt or the model refused to answer: asking again the same
    /// way gets the same answer, so it is recorded, not retried (a batch of several is split
    /// to find the conversation it is about).
    Refused {
        /// What happened, with the provider's reason.
        reason: String,
    },
    /// A configuration problem (bad key, unknown model, bad request): retrying cannot help.
    Fatal {
        /// What happened.
        reason: String,
    },
}

impl CallError {
    /// A one-line description (stored as the failure reason).
    pub fn reason(&self) -> &str {
        match self {
            CallError::Retryable { reason, .. }
            | CallError::Quota { reason, .. }
            | CallError::Malformed { reason }
            | CallError::Refused { reason }
            | CallError::Fatal { reason } => reason,
        }
    }
}

/// A configured provider.
#[derive(Debug, Clone)]
pub struct Provider {
    service: AiService,
    key: Secret,
    model: String,
    base_url: String,
    http: reqwest::Client,
}

/// The longest wait a provider can ask for: a longer (or absurd: `1e30`, `inf`) delay is read
/// as this, so a hostile or broken answer can neither panic the worker nor park a job forever.
pub const MAX_PROVIDER_DELAY: Duration = Duration::from_secs(24 * 3600);

/// Seconds as a duration, clamped to [`MAX_PROVIDER_DELAY`]; none for negative or NaN.
fn clamped_secs(secs: f64) -> Option<Duration> {
    (secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(MAX_PROVIDER_DELAY.as_secs_f64())))
}

/// The largest answer read from a provider: a batch's JSON is a few hundred kilobytes at most;
/// a broken or hostile endpoint streaming more is cut off instead of filling the memory.
pub const MAX_PROVIDER_BODY: usize = 8 << 20;

/// The largest batch state or results file read (a submitted batch holds at most
/// [`crate::jobs::MAX_REMOTE_CONVERSATIONS`] conversations, a few megabytes of answers).
pub const MAX_BATCH_BODY: usize = 128 << 20;

/// Reads an answer's body up to `max` bytes (a larger one is a malformed answer).
async fn read_bounded(mut resp: reqwest::Response, max: usize) -> Result<String, CallError> {
    let failed = |e: reqwest::Error| CallError::Retryable {
        reason: format!("reading the answer failed: {}", e.without_url()),
        retry_after: None,
    };
    let too_large = || CallError::Malformed {
        reason: format!("the provider's answer is larger than {max} bytes"),
    };
    if resp.content_length().is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(failed)? {
        if body.len() + chunk.len() > max {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// Parses `Retry-After` (seconds or an HTTP date), clamped to [`MAX_PROVIDER_DELAY`].
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return clamped_secs(secs);
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let ms = (when.timestamp_millis() - chrono::Utc::now().timestamp_millis()).max(0);
    clamped_secs(ms as f64 / 1000.0)
}

/// OpenAI's `error.code`s that mean the money or the usage limit is used up: retrying cannot
/// help until someone pays or raises the limit.
const OPENAI_QUOTA_CODES: [&str; 5] = [
    "insufficient_quota",
    "credit_balance_exhausted",
    "organization_spend_limit_exceeded",
    "project_spend_limit_exceeded",
    "organization_usage_limit_exceeded",
];

/// Parses a duration as OpenAI's rate-limit headers write it (`"1s"`, `"6m0s"`, `"12ms"`,
/// `"1h2m3.5s"`), clamped to [`MAX_PROVIDER_DELAY`].
pub fn go_duration(s: &str) -> Option<Duration> {
    let mut total = 0.0;
    let mut rest = s.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let n: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, len) = if rest.starts_with("ms") {
            (0.001, 2)
        } else if rest.starts_with('h') {
            (3600.0, 1)
        } else if rest.starts_with('m') {
            (60.0, 1)
        } else if rest.starts_with('s') {
            (1.0, 1)
        } else {
            return None;
        };
        total += n * unit;
        rest = &rest[len..];
    }
    clamped_secs(total)
}

/// The time from `now` to the next midnight in America/Los_Angeles.
pub fn until_pacific_midnight(now: chrono::DateTime<chrono::Utc>) -> Duration {
    use chrono::TimeZone as _;
    let tz = chrono_tz::America::Los_Angeles;
    let local = now.with_timezone(&tz).date_naive();
    let next = local
        .succ_opt()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|t| tz.from_local_datetime(&t).earliest());
    next.map_or(MAX_PROVIDER_DELAY, |t| {
        (t.with_timezone(&chrono::Utc) - now)
            .to_std()
            .unwrap_or_default()
            .min(MAX_PROVIDER_DELAY)
    })
}

/// Parses a protobuf duration such as `"38.9s"` (Gemini's `RetryInfo.retryDelay`), clamped to
/// [`MAX_PROVIDER_DELAY`].
pub fn proto_duration(s: &str) -> Option<Duration> {
    clamped_secs(s.trim().strip_suffix('s')?.parse().ok()?)
}

impl Provider {
    /// A provider from the AI settings (none for the built-in analyzer).
    pub fn new(cfg: &AiConfig) -> Option<Provider> {
        let key = cfg.key.clone()?;
        if cfg.service == AiService::Builtin {
            return None;
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(cfg.timeout_secs))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .expect("the HTTP client builds");
        Some(Provider {
            service: cfg.service,
            key,
            model: cfg.model.clone(),
            base_url: cfg.base_url.clone(),
            http,
        })
    }

    /// `gemini:<model>` or `openai:<model>`.
    pub fn label(&self) -> String {
        format!("{}:{}", self.service.as_str(), self.model)
    }

    /// The request body for a batch (what `--dry-run` prints).
    pub fn request_body(&self, batch: &str) -> Value {
        match self.service {
            AiService::Gemini => {
                // No temperature: Gemini 3 models are documented to loop or degrade below
                // their default of 1.0 (Gemini 3 prompting guide).
                let mut config = json!({
                    "responseMimeType": "application/json",
                    "responseSchema": output_schema(true)
                });
                if let Some(level) = gemini_thinking_level(&self.model) {
                    config["thinkingConfig"] = json!({"thinkingLevel": level});
                }
                json!({
                    "systemInstruction": {"parts": [{"text": INSTRUCTIONS}]},
                    "contents": [{"role": "user", "parts": [{"text": batch}]}],
                    "generationConfig": config
                })
            }
            _ => {
                let mut body = json!({
                    "model": self.model,
                    "messages": [
                        {"role": "system", "content": INSTRUCTIONS},
                        {"role": "user", "content": batch}
                    ],
                    "response_format": {
                        "type": "json_schema",
                        "json_schema": {"name": "powerpulse_analysis", "strict": true, "schema": output_schema(false)}
                    }
                });
                if let Some(effort) = openai_reasoning_effort(&self.model) {
                    body["reasoning_effort"] = json!(effort);
                }
                body
            }
        }
    }

    /// The endpoint a batch goes to.
    pub fn url(&self) -> String {
        match self.service {
            AiService::Gemini => format!(
                "{}/v1beta/models/{}:generateContent",
                self.base_url, self.model
            ),
            _ => format!("{}/chat/completions", self.base_url),
        }
    }

    /// The model ids the provider lists for this key (Gemini: those that can
    /// `generateContent`, every page; OpenAI: `GET /models`).
    pub async fn list_models(&self) -> Result<Vec<String>, CallError> {
        let mut ids = Vec::new();
        let mut page_token: Option<String> = None;
        // A bounded number of pages: a broken endpoint that always answers a next page token
        // must not keep the check going forever.
        for _ in 0..20 {
            let url = match self.service {
                AiService::Gemini => {
                    let mut url = format!("{}/v1beta/models?pageSize=1000", self.base_url);
                    if let Some(t) = &page_token {
                        url.push_str(&format!("&pageToken={t}"));
                    }
                    url
                }
                _ => format!("{}/models", self.base_url),
            };
            let v = self.send_json(self.http.get(url)).await?;
            match self.service {
                AiService::Gemini => {
                    for m in v["models"].as_array().into_iter().flatten() {
                        let can_generate = m["supportedGenerationMethods"]
                            .as_array()
                            .is_some_and(|ms| ms.iter().any(|x| x == "generateContent"));
                        if let (Some(name), true) = (m["name"].as_str(), can_generate) {
                            ids.push(name.trim_start_matches("models/").to_owned());
                        }
                    }
                    page_token = v["nextPageToken"]
                        .as_str()
                        .filter(|t| {
                            !t.is_empty()
                                && t.chars()
                                    .all(|c| c.is_ascii_alphanumeric() || "-_=".contains(c))
                        })
                        .map(str::to_owned);
                    if page_token.is_none() {
                        break;
                    }
                }
                _ => {
                    ids.extend(
                        v["data"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|m| m["id"].as_str().map(str::to_owned)),
                    );
                    break;
                }
            }
        }
        Ok(ids)
    }

    /// The configured model id.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// `gemini` or `openai`.
    pub fn service_name(&self) -> &'static str {
        self.service.as_str()
    }

    /// Sends one batch.
    pub async fn call(&self, batch: &str) -> Result<Reply, CallError> {
        let v = self
            .send_json(self.http.post(self.url()).json(&self.request_body(batch)))
            .await?;
        self.parse_answer(&v)
    }

    /// Sends `req` with the key, and reads a successful answer as JSON (a failure classified
    /// for the retry policy).
    pub(crate) async fn send_json(&self, req: reqwest::RequestBuilder) -> Result<Value, CallError> {
        let body = self.send_raw(req, MAX_PROVIDER_BODY).await?;
        serde_json::from_str(&body).map_err(|e| CallError::Malformed {
            reason: format!("the provider's answer is not JSON: {e}"),
        })
    }

    /// Sends `req` with the key and reads a successful answer's text, up to `max` bytes.
    pub(crate) async fn send_raw(
        &self,
        req: reqwest::RequestBuilder,
        max: usize,
    ) -> Result<String, CallError> {
        let req = match self.service {
            AiService::Gemini => req.header("x-goog-api-key", self.key.expose()),
            _ => req.bearer_auth(self.key.expose()),
        };
        let resp = req.send().await.map_err(|e| CallError::Retryable {
            // reqwest's text names the URL, never headers: the key cannot leak here.
            reason: if e.is_timeout() {
                "the provider timed out".into()
            } else {
                format!("connection failed: {}", e.without_url())
            },
            retry_after: None,
        })?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = read_bounded(resp, max).await?;
        if !status.is_success() {
            return Err(self.classify_error(status.as_u16(), &headers, &body));
        }
        Ok(body)
    }

    /// The HTTP client (the batch calls build their own requests).
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The provider's base URL.
    pub(crate) fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Which provider.
    pub(crate) fn service(&self) -> AiService {
        self.service
    }

    /// Reads one answer (a `generateContent` or chat completion response body) as a reply.
    pub(crate) fn parse_answer(&self, v: &Value) -> Result<Reply, CallError> {
        match self.service {
            AiService::Gemini => parse_gemini(v),
            _ => parse_openai(v),
        }
    }

    /// Classifies a failed request's status and body (for a batch's failed requests).
    pub(crate) fn classify(&self, status: u16, body: &str) -> CallError {
        self.classify_error(status, &HeaderMap::new(), body)
    }

    fn classify_error(&self, status: u16, headers: &HeaderMap, body: &str) -> CallError {
        let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        let err = &v["error"];
        let message = err["message"]
            .as_str()
            .unwrap_or("")
            .chars()
            .take(300)
            .collect::<String>();
        let reason = format!("HTTP {status} from {}: {message}", self.service.as_str());
        let mut wait = retry_after(headers);
        let mut quota = false;
        match self.service {
            AiService::Gemini => {
                for d in err["details"].as_array().into_iter().flatten() {
                    let ty = d["@type"].as_str().unwrap_or("");
                    if ty.ends_with("RetryInfo") {
                        wait = wait.or_else(|| d["retryDelay"].as_str().and_then(proto_duration));
                    }
                    if ty.ends_with("QuotaFailure") {
                        let per_day = d["violations"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .any(|q| q["quotaId"].as_str().unwrap_or("").contains("PerDay"));
                        quota |= per_day;
                    }
                }
                // Gemini's daily quotas reset at midnight Pacific time (rate limits guide).
                if quota && wait.is_none() {
                    wait = Some(until_pacific_midnight(chrono::Utc::now()));
                }
            }
            _ => {
                // Billing errors carry a specific `code` and the broader `type`
                // insufficient_quota (OpenAI error codes and spend limits guides).
                let code = err["code"].as_str().unwrap_or("");
                quota = err["type"] == "insufficient_quota" || OPENAI_QUOTA_CODES.contains(&code);
                // A per-day request or token limit: waiting seconds cannot help; the headers
                // say when the window resets.
                if status == 429 && !quota && message.contains("per day") {
                    quota = true;
                    wait = wait.or_else(|| {
                        ["x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"]
                            .iter()
                            .filter_map(|h| headers.get(*h)?.to_str().ok().and_then(go_duration))
                            .max()
                    });
                }
            }
        }
        match status {
            429 if quota => CallError::Quota {
                reason,
                retry_after: wait,
            },
            429 | 408 | 500..=599 => CallError::Retryable {
                reason,
                retry_after: wait,
            },
            _ => CallError::Fatal { reason },
        }
    }
}

fn usage(v: &Value, a: &str, b: &str) -> u64 {
    v[a][b].as_u64().unwrap_or(0)
}

/// Gemini's finish reasons for an answer the safety or policy filters stopped.
const GEMINI_BLOCKED: [&str; 6] = [
    "SAFETY",
    "RECITATION",
    "PROHIBITED_CONTENT",
    "BLOCKLIST",
    "SPII",
    "IMAGE_SAFETY",
];

fn parse_gemini(v: &Value) -> Result<Reply, CallError> {
    let cand = &v["candidates"][0];
    if cand.is_null() {
        let why = v["promptFeedback"]["blockReason"].as_str();
        return Err(match why {
            Some(why) => CallError::Refused {
                reason: format!("Gemini blocked the prompt ({why})"),
            },
            None => CallError::Malformed {
                reason: "the answer holds no candidate".into(),
            },
        });
    }
    let finish = cand["finishReason"].as_str().unwrap_or("");
    if finish == "MAX_TOKENS" {
        return Err(CallError::Malformed {
            reason: "the answer was cut off (MAX_TOKENS)".into(),
        });
    }
    if GEMINI_BLOCKED.contains(&finish) {
        return Err(CallError::Refused {
            reason: format!("Gemini blocked the answer ({finish})"),
        });
    }
    if !matches!(finish, "" | "STOP") {
        return Err(CallError::Malformed {
            reason: format!("the model stopped: {finish}"),
        });
    }
    // Thought summaries (parts marked `thought`) are not the answer.
    let text: String = cand["content"]["parts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["thought"] != true)
        .filter_map(|p| p["text"].as_str())
        .collect();
    if text.is_empty() {
        return Err(CallError::Malformed {
            reason: "the answer holds no text".into(),
        });
    }
    Ok(Reply {
        text,
        input_tokens: usage(v, "usageMetadata", "promptTokenCount"),
        // Thinking is billed as output.
        output_tokens: usage(v, "usageMetadata", "candidatesTokenCount")
            + usage(v, "usageMetadata", "thoughtsTokenCount"),
    })
}

fn parse_openai(v: &Value) -> Result<Reply, CallError> {
    let choice = &v["choices"][0];
    match choice["finish_reason"].as_str().unwrap_or("") {
        "length" => {
            return Err(CallError::Malformed {
                reason: "the answer was cut off (length)".into(),
            })
        }
        "content_filter" => {
            return Err(CallError::Refused {
                reason: "OpenAI filtered the answer (content_filter)".into(),
            })
        }
        _ => {}
    }
    if let Some(r) = choice["message"]["refusal"].as_str() {
        return Err(CallError::Refused {
            reason: format!(
                "the model refused: {}",
                r.chars().take(200).collect::<String>()
            ),
        });
    }
    let text = choice["message"]["content"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    if text.is_empty() {
        return Err(CallError::Malformed {
            reason: "the answer holds no content".into(),
        });
    }
    Ok(Reply {
        text,
        input_tokens: usage(v, "usage", "prompt_tokens"),
        // Reasoning tokens are part of completion_tokens (completion_tokens_details breaks them out).
        output_tokens: usage(v, "usage", "completion_tokens"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(proto_duration("38.9s"), Some(Duration::from_millis(38_900)));
        assert_eq!(proto_duration("2s"), Some(Duration::from_secs(2)));
        assert_eq!(proto_duration("soon"), None);
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
    }

    #[test]
    fn absurd_provider_delays_are_clamped_not_a_panic() {
        for v in ["1e30", "inf", "1e400", "86401"] {
            let mut h = HeaderMap::new();
            h.insert(RETRY_AFTER, v.parse().unwrap());
            assert_eq!(
                retry_after(&h),
                Some(MAX_PROVIDER_DELAY),
                "Retry-After: {v}"
            );
            assert_eq!(
                proto_duration(&format!("{v}s")),
                Some(MAX_PROVIDER_DELAY),
                "{v}s"
            );
        }
        for v in ["-1", "NaN"] {
            let mut h = HeaderMap::new();
            h.insert(RETRY_AFTER, v.parse().unwrap());
            assert_eq!(retry_after(&h), None, "Retry-After: {v}");
        }
        let mut h = HeaderMap::new();
        h.insert(
            RETRY_AFTER,
            "Fri, 31 Dec 9999 23:59:59 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), Some(MAX_PROVIDER_DELAY));
    }

    #[test]
    fn openai_reset_headers_and_the_pacific_day() {
        assert_eq!(go_duration("6m0s"), Some(Duration::from_secs(360)));
        assert_eq!(go_duration("12ms"), Some(Duration::from_millis(12)));
        assert_eq!(
            go_duration("1h2m3.5s"),
            Some(Duration::from_millis(3_723_500))
        );
        assert_eq!(go_duration("soon"), None);
        assert_eq!(go_duration(""), None);
        // 2026-12-01 20:00 UTC is 12:00 in Los Angeles (PST, UTC-8): 12 hours to midnight.
        let noon = chrono::DateTime::parse_from_rfc3339("2026-12-01T20:00:00Z").unwrap();
        assert_eq!(
            until_pacific_midnight(noon.with_timezone(&chrono::Utc)),
            Duration::from_secs(12 * 3600)
        );
    }

    #[test]
    fn blocked_prompts_and_thoughts() {
        let blocked = json!({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}});
        assert!(matches!(
            parse_gemini(&blocked),
            Err(CallError::Refused { .. })
        ));
        let safety = json!({"candidates": [{"finishReason": "SAFETY"}]});
        assert!(matches!(
            parse_gemini(&safety),
            Err(CallError::Refused { .. })
        ));
        let thinking = json!({"candidates": [{"content": {"parts": [
                {"text": "hmm", "thought": true}, {"text": "{}"}]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 3, "thoughtsTokenCount": 40}});
        let r = parse_gemini(&thinking).unwrap();
        assert_eq!((r.text.as_str(), r.output_tokens), ("{}", 43));
        let refusal = json!({"choices": [{"message": {"content": null, "refusal": "no"}, "finish_reason": "stop"}]});
        assert!(matches!(
            parse_openai(&refusal),
            Err(CallError::Refused { .. })
        ));
    }

    #[test]
    fn gemini_truncation_is_malformed() {
        let v = json!({"candidates": [{"content": {"parts": [{"text": "{\"res"}]}, "finishReason": "MAX_TOKENS"}]});
        assert!(matches!(parse_gemini(&v), Err(CallError::Malformed { .. })));
        let ok = json!({"candidates": [{"content": {"parts": [{"text": "{}"}]}, "finishReason": "STOP"}],
                        "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 3}});
        assert_eq!(parse_gemini(&ok).unwrap().input_tokens, 10);
    }
}

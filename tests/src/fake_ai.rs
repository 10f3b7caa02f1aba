//! Fake Gemini and OpenAI servers speaking the real request and response formats, with
//! configurable latency and scripted faults (429 with Retry-After or RetryInfo, quota exhausted,
//! 500/503, hangs, malformed JSON, missing or invalid items, truncated answers). They record
//! every call for the assertions: when, how many conversations, which key, how many in flight.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

mod batch;
pub use batch::{BatchOutcome, BatchState, FakeBatch};

/// Which API the fake speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `POST /v1beta/models/{model}:generateContent`.
    Gemini,
    /// `POST /v1/chat/completions`.
    OpenAi,
}

/// What the fake does with one call.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// A correct answer.
    Ok,
    /// 429 asking to wait (Retry-After header for OpenAI, RetryInfo for Gemini).
    RateLimited(Duration),
    /// 429 with the quota exhausted (per-day QuotaFailure; OpenAI `insufficient_quota`).
    QuotaExhausted,
    /// A 5xx.
    ServerError(u16),
    /// No answer for this long (longer than the client's timeout).
    Hang(Duration),
    /// A 200 whose body is not JSON.
    MalformedBody,
    /// A well-formed envelope whose model text is not JSON.
    MalformedModelJson,
    /// The last n items are left out.
    MissingItems(usize),
    /// The first n items have an out-of-range score.
    InvalidItems(usize),
    /// The answer is cut off (MAX_TOKENS / finish_reason length).
    Truncated,
    /// A correct answer followed by 9 MB of JSON whitespace (still valid JSON: only a client
    /// that caps what it reads refuses it).
    HugeAnswer,
    /// 429 for billing: OpenAI `credit_balance_exhausted` (type insufficient_quota); Gemini
    /// answers as for an exhausted quota.
    BillingExhausted,
    /// 429 for a per-day limit, without Retry-After: OpenAI names requests per day and sets
    /// `x-ratelimit-reset-requests: 6m0s`; Gemini's QuotaFailure names a PerDay quota, no RetryInfo.
    DailyLimit,
    /// 200 without an answer: Gemini blocks the prompt (`promptFeedback.blockReason`), OpenAI's
    /// model refuses (`message.refusal`).
    Blocked,
    /// A correct answer that also carries the model's thinking: Gemini adds a thought part
    /// (`"thought": true`) and bills `thoughtsTokenCount`; OpenAI reports reasoning tokens.
    Thinking,
    /// Correct items in reverse order (models do not promise the prompt's order): a client that
    /// applies answers by position stores each on another chat.
    Reordered,
}

/// Model ids the fakes serve (the real ids of 2026-12-01; any other answers 404 as the real
/// services do).
pub const GEMINI_MODELS: [&str; 5] = [
    "gemini-3.5-flash-lite",
    "gemini-3.1-flash-lite",
    "gemini-3.8-flash",
    "gemini-3.6-flash",
    "gemini-3.5-flash",
];
/// See [`GEMINI_MODELS`].
pub const OPENAI_MODELS: [&str; 3] = ["gpt-6-luna", "gpt-6.1-terra", "gpt-5-mini"];

/// The `generationConfig` fields of Gemini's REST reference; any other is refused with 400.
const GEMINI_CONFIG_FIELDS: [&str; 18] = [
    "stopSequences",
    "responseMimeType",
    "responseSchema",
    "responseJsonSchema",
    "responseModalities",
    "candidateCount",
    "maxOutputTokens",
    "temperature",
    "topP",
    "topK",
    "seed",
    "presencePenalty",
    "frequencyPenalty",
    "responseLogprobs",
    "logprobs",
    "speechConfig",
    "thinkingConfig",
    "mediaResolution",
];

/// The OpenAPI subset `responseSchema` accepts; any other keyword is refused with 400.
const GEMINI_SCHEMA_KEYWORDS: [&str; 22] = [
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "default",
    "items",
    "minimum",
    "maximum",
];

/// What the real Gemini refuses in a request body (400), as its messages say it.
fn gemini_refusals(model: &str, body: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let config = &body["generationConfig"];
    for key in config.as_object().into_iter().flatten().map(|(k, _)| k) {
        if !GEMINI_CONFIG_FIELDS.contains(&key.as_str()) {
            problems.push(format!(
                "Invalid JSON payload received. Unknown name \"{key}\" at 'generation_config'"
            ));
        }
    }
    let thinking = &config["thinkingConfig"];
    if thinking["thinkingLevel"].is_string() && thinking["thinkingBudget"].is_number() {
        problems.push("thinkingLevel and thinkingBudget cannot both be set".into());
    }
    if let Some(level) = thinking["thinkingLevel"].as_str() {
        let levels: &[&str] = if model.starts_with("gemini-3.8") {
            &["low", "medium", "high"]
        } else {
            &["minimal", "low", "medium", "high"]
        };
        if !levels.contains(&level) {
            problems.push(format!(
                "thinking level {level} is not supported by {model}"
            ));
        }
    }
    schema_keywords(&config["responseSchema"], "responseSchema", &mut problems);
    problems
}

fn schema_keywords(schema: &Value, at: &str, problems: &mut Vec<String>) {
    let Some(o) = schema.as_object() else { return };
    for (k, v) in o {
        if !GEMINI_SCHEMA_KEYWORDS.contains(&k.as_str()) {
            problems.push(format!("Unknown name \"{k}\" at '{at}'"));
        }
        match k.as_str() {
            "properties" => {
                for (name, p) in v.as_object().into_iter().flatten() {
                    schema_keywords(p, &format!("{at}.properties[{name}]"), problems);
                }
            }
            "items" => schema_keywords(v, &format!("{at}.items"), problems),
            "anyOf" => {
                for (i, p) in v.as_array().into_iter().flatten().enumerate() {
                    schema_keywords(p, &format!("{at}.anyOf[{i}]"), problems);
                }
            }
            _ => {}
        }
    }
}

/// What OpenAI refuses in a Chat Completions body (400): a strict schema must close every
/// object and require every property; reasoning models take no sampling parameters and no
/// `max_tokens`, and only their documented efforts.
fn openai_refusals(body: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let model = body["model"].as_str().unwrap_or_default();
    let reasoning = model.starts_with("gpt-5") || model.starts_with("gpt-6");
    if reasoning {
        for p in [
            "temperature",
            "top_p",
            "logprobs",
            "top_logprobs",
            "max_tokens",
        ] {
            if !body[p].is_null() {
                problems.push(format!(
                    "Unsupported parameter: '{p}' is not supported with this model."
                ));
            }
        }
        if let Some(effort) = body["reasoning_effort"].as_str() {
            let efforts: &[&str] = if model.starts_with("gpt-6") {
                &["none", "low", "medium", "high", "xhigh", "max"]
            } else {
                &["minimal", "low", "medium", "high"]
            };
            if !efforts.contains(&effort) {
                problems.push(format!("Unsupported value: 'reasoning_effort' does not support '{effort}' with this model."));
            }
        }
    } else if !body["reasoning_effort"].is_null() {
        problems.push("Unrecognized request argument supplied: reasoning_effort".into());
    }
    strict_schema(
        &body["response_format"]["json_schema"]["schema"],
        "schema",
        &mut problems,
    );
    problems
}

fn strict_schema(schema: &Value, at: &str, problems: &mut Vec<String>) {
    let Some(o) = schema.as_object() else { return };
    let is_object = match &o.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
        _ => false,
    };
    if is_object {
        if o.get("additionalProperties") != Some(&Value::Bool(false)) {
            problems.push(format!("Invalid schema: In context={at}, 'additionalProperties' is required to be supplied and to be false."));
        }
        let props: Vec<&String> = o
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().collect())
            .unwrap_or_default();
        let required: Vec<&str> = o
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for p in &props {
            if !required.contains(&p.as_str()) {
                problems.push(format!("Invalid schema: In context={at}, 'required' is required to include every key in properties. Missing '{p}'."));
            }
        }
    }
    for key in [
        "allOf",
        "not",
        "if",
        "then",
        "else",
        "dependentRequired",
        "dependentSchemas",
    ] {
        if o.contains_key(key) {
            problems.push(format!(
                "Invalid schema: In context={at}, '{key}' is not permitted."
            ));
        }
    }
    for (name, p) in o
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        strict_schema(p, &format!("{at}.properties.{name}"), problems);
    }
    if let Some(items) = o.get("items") {
        strict_schema(items, &format!("{at}.items"), problems);
    }
    for (i, p) in o
        .get("anyOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        strict_schema(p, &format!("{at}.anyOf[{i}]"), problems);
    }
}

/// One call as the fake saw it.
#[derive(Debug, Clone)]
pub struct Call {
    /// When it arrived.
    pub at: Instant,
    /// Conversations in the batch.
    pub conversations: usize,
    /// The credential sent (x-goog-api-key, or the bearer token).
    pub key: String,
    /// The request body.
    pub body: Value,
    /// What the fake did.
    pub fault: Fault,
}

/// Thinking tokens a [`Fault::Thinking`] answer reports.
pub const THOUGHT_TOKENS: usize = 1000;

struct FakeState {
    kind: Kind,
    latency: Mutex<Duration>,
    script: Mutex<VecDeque<Fault>>,
    default: Mutex<Fault>,
    calls: Mutex<Vec<Call>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    bad_requests: Mutex<Vec<String>>,
    batches: Mutex<Vec<FakeBatch>>,
    batch_log: Mutex<Vec<String>>,
    batch_outcome: Mutex<BatchOutcome>,
    batch_errors: Mutex<std::collections::HashMap<String, String>>,
    hold_batches: std::sync::atomic::AtomicBool,
    files: Mutex<std::collections::HashMap<String, String>>,
}

/// A running fake.
pub struct FakeAi {
    /// The base URL to configure (`GEMINI_BASE_URL` or `OPENAI_BASE_URL`).
    pub base_url: String,
    state: Arc<FakeState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeAi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeAi {
    /// Starts a fake on a free port.
    pub async fn start(kind: Kind, latency: Duration) -> FakeAi {
        let state = Arc::new(FakeState {
            kind,
            latency: Mutex::new(latency),
            script: Mutex::new(VecDeque::new()),
            default: Mutex::new(Fault::Ok),
            calls: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            bad_requests: Mutex::new(Vec::new()),
            batches: Mutex::new(Vec::new()),
            batch_log: Mutex::new(Vec::new()),
            batch_outcome: Mutex::new(BatchOutcome::Succeed),
            batch_errors: Mutex::new(Default::default()),
            hold_batches: Default::default(),
            files: Mutex::new(Default::default()),
        });
        let app = Router::new()
            .route("/v1beta/models/{model_action}", post(gemini))
            .route("/v1/chat/completions", post(openai))
            .route("/v1beta/models", axum::routing::get(gemini_models))
            .route("/v1/models", axum::routing::get(openai_models))
            .merge(batch::routes(kind))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fake serves");
        });
        let base_url = match kind {
            Kind::Gemini => format!("http://{addr}"),
            Kind::OpenAi => format!("http://{addr}/v1"),
        };
        FakeAi {
            base_url,
            state,
            task,
        }
    }

    /// The environment that points a PowerPulse server at this fake.
    pub fn env(&self, key: &str) -> Vec<(String, String)> {
        match self.state.kind {
            Kind::Gemini => vec![
                ("AI_SERVICE".into(), "gemini".into()),
                ("GEMINI_API_KEY".into(), key.into()),
                ("GEMINI_BASE_URL".into(), self.base_url.clone()),
                ("GEMINI_MODEL".into(), "gemini-3.5-flash-lite".into()),
            ],
            Kind::OpenAi => vec![
                ("AI_SERVICE".into(), "openai".into()),
                ("OPENAI_API_KEY".into(), key.into()),
                ("OPENAI_BASE_URL".into(), self.base_url.clone()),
                ("OPENAI_MODEL".into(), "gpt-6-luna".into()),
            ],
        }
    }

    /// Faults for the next calls, in order (then the default).
    pub fn script(&self, faults: impl IntoIterator<Item = Fault>) {
        self.state.script.lock().unwrap().extend(faults);
    }

    /// What every call does once the script is used up.
    pub fn set_default(&self, f: Fault) {
        *self.state.default.lock().unwrap() = f;
    }

    /// Sets the latency of every call.
    pub fn set_latency(&self, d: Duration) {
        *self.state.latency.lock().unwrap() = d;
    }

    /// The calls so far.
    pub fn calls(&self) -> Vec<Call> {
        self.state.calls.lock().unwrap().clone()
    }

    /// Most calls that were in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }

    /// Requests that did not follow the real API's format (should stay empty).
    pub fn bad_requests(&self) -> Vec<String> {
        self.state.bad_requests.lock().unwrap().clone()
    }
}

struct InFlight<'a>(&'a FakeState);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The fake model: a plausible, deterministic analysis of each chat in the batch text, that
/// depends only on that chat's own lines (so a test can work out, per chat, what must be stored).
pub fn answer(batch: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for block in batch.split("### ").filter(|b| !b.trim().is_empty()) {
        let mut lines = block.lines();
        let id = lines.next().unwrap_or_default().trim().to_owned();
        let text = block.to_lowercase();
        let customers = block.lines().filter(|l| l.starts_with("C: ")).count();
        let score = if text.contains("useless") || text.contains("thieves") || text.contains("wezi")
        {
            1
        } else if text.contains("still") || text.contains("bado") {
            2
        } else if text.contains("thank") || text.contains("asante") {
            5
        } else {
            4
        };
        let sentiment: Vec<Value> = block
            .lines()
            .filter(|l| l.starts_with("C: "))
            .map(|l| {
                let l = l.to_lowercase();
                if l.contains("thank") || l.contains("asante") {
                    json!(0.7)
                } else if l.contains("useless") || l.contains("still") || l.contains("no power") {
                    json!(-0.6)
                } else {
                    Value::Null
                }
            })
            .collect();
        debug_assert_eq!(sentiment.len(), customers);
        let topic = if text.contains("token") {
            "tokens"
        } else if text.contains("power") || text.contains("stima") {
            "outage"
        } else {
            "general inquiry"
        };
        out.push(json!({
            "id": id,
            "satisfaction_score": score,
            "satisfaction_confidence": 0.9,
            "first_contact_resolution": if score >= 4 { json!(true) } else { json!(false) },
            "topics": [topic],
            "sentiment": sentiment,
        }));
    }
    out
}

/// The fake's answer for one conversation sent whole (short chats reach the model unsplit):
/// the transcript lines as the prompt writes them, customers `C:` and agents `A:`, bots left out.
pub fn answer_for(c: &powerpulse_shared::Conversation) -> Value {
    use powerpulse_shared::Role;
    let lines: String = c
        .messages
        .iter()
        .filter(|m| m.role != Role::Bot)
        .map(|m| {
            let who = if m.role == Role::Customer { "C" } else { "A" };
            let text = m.text.split_whitespace().collect::<Vec<_>>().join(" ");
            format!("{who}: {text}\n")
        })
        .collect();
    // The id line is the prompt's own short id, which holds none of the words the fake reads.
    answer(&format!("### x\n{lines}")).remove(0)
}

async fn handle(state: Arc<FakeState>, key: String, body: Value, batch: String) -> Response {
    let conversations = batch.matches("### ").count();
    let fault = state
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or_else(|| state.default.lock().unwrap().clone());
    state.calls.lock().unwrap().push(Call {
        at: Instant::now(),
        conversations,
        key,
        body,
        fault: fault.clone(),
    });
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let _guard = InFlight(&state);
    let latency = *state.latency.lock().unwrap();
    tokio::time::sleep(latency).await;
    let gemini = state.kind == Kind::Gemini;
    let error = |status: u16, body: Value| {
        (StatusCode::from_u16(status).unwrap(), Json(body)).into_response()
    };
    let mut items = answer(&batch);
    match &fault {
        Fault::Ok | Fault::HugeAnswer | Fault::Thinking => {}
        Fault::RateLimited(wait) => {
            return if gemini {
                error(
                    429,
                    json!({"error": {"code": 429, "message": "Resource has been exhausted (e.g. check quota).", "status": "RESOURCE_EXHAUSTED",
                    "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": format!("{}s", wait.as_secs_f64())}]}}),
                )
            } else {
                let mut r = error(
                    429,
                    json!({"error": {"message": "Rate limit reached for requests", "type": "requests", "param": null, "code": "rate_limit_exceeded"}}),
                );
                r.headers_mut().insert(
                    "retry-after",
                    format!("{}", wait.as_secs_f64()).parse().unwrap(),
                );
                r
            };
        }
        Fault::BillingExhausted if !gemini => {
            return error(
                429,
                json!({"error": {"message": "Your credit balance is exhausted. Add credits to continue.", "type": "insufficient_quota", "param": null, "code": "credit_balance_exhausted"}}),
            );
        }
        Fault::QuotaExhausted | Fault::BillingExhausted => {
            return if gemini {
                error(
                    429,
                    json!({"error": {"code": 429, "message": "You exceeded your current quota.", "status": "RESOURCE_EXHAUSTED",
                    "details": [
                        {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests", "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]},
                        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "3600s"}
                    ]}}),
                )
            } else {
                error(
                    429,
                    json!({"error": {"message": "You exceeded your current quota, please check your plan and billing details.", "type": "insufficient_quota", "param": null, "code": "insufficient_quota"}}),
                )
            };
        }
        Fault::DailyLimit => {
            return if gemini {
                error(
                    429,
                    json!({"error": {"code": 429, "message": "You exceeded your current quota.", "status": "RESOURCE_EXHAUSTED",
                    "details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_requests", "quotaId": "GenerateRequestsPerDayPerProjectPerModel"}]}]}}),
                )
            } else {
                let mut r = error(
                    429,
                    json!({"error": {"message": "Rate limit reached for gpt-6-luna on requests per day (RPD): Limit 10000, Used 10000, Requested 1.", "type": "requests", "param": null, "code": "rate_limit_exceeded"}}),
                );
                r.headers_mut()
                    .insert("x-ratelimit-reset-requests", "6m0s".parse().unwrap());
                r
            };
        }
        Fault::Blocked => {
            let body = if gemini {
                json!({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
                       "usageMetadata": {"promptTokenCount": 100, "totalTokenCount": 100}})
            } else {
                json!({"id": "chatcmpl-fake", "object": "chat.completion", "model": "gpt-6-luna",
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "refusal": "I can't help with that."}, "finish_reason": "stop"}],
                       "usage": {"prompt_tokens": 100, "completion_tokens": 8, "total_tokens": 108}})
            };
            return Json(body).into_response();
        }
        Fault::ServerError(code) => {
            return if gemini {
                error(
                    *code,
                    json!({"error": {"code": code, "message": "The model is overloaded. Please try again later.", "status": "UNAVAILABLE"}}),
                )
            } else {
                error(
                    *code,
                    json!({"error": {"message": "The server had an error while processing your request.", "type": "server_error", "param": null, "code": null}}),
                )
            };
        }
        Fault::Hang(d) => {
            tokio::time::sleep(*d).await;
        }
        Fault::MalformedBody => return (StatusCode::OK, "{\"candidates\": [ oops").into_response(),
        Fault::MissingItems(n) => {
            let keep = items.len().saturating_sub(*n);
            items.truncate(keep);
        }
        Fault::InvalidItems(n) => {
            for it in items.iter_mut().take(*n) {
                it["satisfaction_score"] = json!(9);
            }
        }
        Fault::Reordered => items.reverse(),
        Fault::MalformedModelJson | Fault::Truncated => {}
    }
    let text = match fault {
        Fault::MalformedModelJson => "Sure! Here is the analysis: results...".to_owned(),
        Fault::Truncated => {
            let full = json!({"results": items}).to_string();
            full[..full.len() / 2].to_owned()
        }
        _ => json!({"results": items}).to_string(),
    };
    let truncated = fault == Fault::Truncated;
    let thoughts = if fault == Fault::Thinking {
        THOUGHT_TOKENS
    } else {
        0
    };
    let body = answer_body(gemini, &batch, &text, truncated, thoughts);
    if fault == Fault::HugeAnswer {
        let padded = format!("{body}{}", " ".repeat(9 << 20));
        return (
            StatusCode::OK,
            [("content-type", "application/json")],
            padded,
        )
            .into_response();
    }
    Json(body).into_response()
}

/// What the real Gemini would refuse in a `generateContent` body (empty: it would take it).
fn gemini_problems(model: &str, body: &Value) -> Vec<String> {
    let mut problems = gemini_refusals(model, body);
    if body["generationConfig"]["responseMimeType"] != "application/json"
        || !body["generationConfig"]["responseSchema"].is_object()
    {
        problems.push("no JSON response config".into());
    }
    if gemini_text(body).is_empty() || !body["systemInstruction"]["parts"][0]["text"].is_string() {
        problems.push("no contents or system instruction".into());
    }
    problems
}

/// The prompt of a `generateContent` body.
fn gemini_text(body: &Value) -> String {
    body["contents"][0]["parts"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// What the real OpenAI would refuse in a chat completion body (the model checked apart).
fn openai_problems(body: &Value) -> Vec<String> {
    let mut problems = openai_refusals(body);
    let rf = &body["response_format"];
    if rf["type"] != "json_schema"
        || rf["json_schema"]["strict"] != true
        || !rf["json_schema"]["schema"].is_object()
    {
        problems.push("no strict json_schema response_format".into());
    }
    if body["model"].as_str().unwrap_or_default().is_empty() {
        problems.push("no model".into());
    }
    if body["messages"][0]["role"] != "system" || openai_text(body).is_empty() {
        problems.push("no system + user messages".into());
    }
    problems
}

/// The prompt of a chat completion body.
fn openai_text(body: &Value) -> String {
    body["messages"][1]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// A successful answer body for the prompt `batch` whose model text is `text`.
fn answer_body(gemini: bool, batch: &str, text: &str, truncated: bool, thoughts: usize) -> Value {
    let prompt_tokens = batch.len() / 4 + 300;
    let out_tokens = text.len() / 4;
    // Thinking: Gemini bills it apart from the answer's tokens; OpenAI counts it inside
    // completion_tokens.
    if gemini {
        let mut parts = vec![json!({"text": text})];
        if thoughts > 0 {
            parts.insert(
                0,
                json!({"text": "Let me weigh each chat first.", "thought": true}),
            );
        }
        json!({
            "candidates": [{"content": {"parts": parts, "role": "model"},
                            "finishReason": if truncated { "MAX_TOKENS" } else { "STOP" }, "index": 0}],
            "usageMetadata": {"promptTokenCount": prompt_tokens, "candidatesTokenCount": out_tokens, "thoughtsTokenCount": thoughts,
                              "totalTokenCount": prompt_tokens + out_tokens + thoughts},
            "modelVersion": "gemini-3.5-flash-lite"
        })
    } else {
        json!({
            "id": "chatcmpl-fake", "object": "chat.completion", "created": 1_764_000_000, "model": "gpt-6-luna",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": null},
                         "finish_reason": if truncated { "length" } else { "stop" }}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": out_tokens + thoughts, "total_tokens": prompt_tokens + out_tokens + thoughts,
                      "completion_tokens_details": {"reasoning_tokens": thoughts}}
        })
    }
}

async fn gemini(
    State(state): State<Arc<FakeState>>,
    Path(model_action): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let key = headers
        .get("x-goog-api-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if let Some(model) = model_action.strip_suffix(":batchGenerateContent") {
        return batch::gemini_create(state, model, &key, body);
    }
    let Some(model) = model_action.strip_suffix(":generateContent") else {
        state
            .bad_requests
            .lock()
            .unwrap()
            .push(format!("path {model_action}"));
        return (StatusCode::NOT_FOUND, Json(json!({"error": {"code": 404, "message": format!("path {model_action}"), "status": "NOT_FOUND"}}))).into_response();
    };
    if !GEMINI_MODELS.contains(&model) {
        return (StatusCode::NOT_FOUND, Json(json!({"error": {"code": 404,
            "message": format!("models/{model} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods."),
            "status": "NOT_FOUND"}}))).into_response();
    }
    let mut problems = gemini_problems(model, &body);
    if key.is_empty() {
        problems.push("no x-goog-api-key".into());
    }
    let text = gemini_text(&body);
    if !problems.is_empty() {
        state.bad_requests.lock().unwrap().push(problems.join("; "));
        return (StatusCode::BAD_REQUEST, Json(json!({"error": {"code": 400, "message": problems.join("; "), "status": "INVALID_ARGUMENT"}}))).into_response();
    }
    handle(state, key, body, text).await
}

async fn openai(
    State(state): State<Arc<FakeState>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let key = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_owned();
    let model = body["model"].as_str().unwrap_or_default();
    if !model.is_empty() && !OPENAI_MODELS.contains(&model) {
        return (StatusCode::NOT_FOUND, Json(json!({"error": {
            "message": format!("The model `{model}` does not exist or you do not have access to it."),
            "type": "invalid_request_error", "param": null, "code": "model_not_found"}}))).into_response();
    }
    let mut problems = openai_problems(&body);
    if key.is_empty() {
        problems.push("no bearer token".to_owned());
    }
    let text = openai_text(&body);
    if !problems.is_empty() {
        state.bad_requests.lock().unwrap().push(problems.join("; "));
        return (
            StatusCode::BAD_REQUEST,
            Json(
                json!({"error": {"message": problems.join("; "), "type": "invalid_request_error"}}),
            ),
        )
            .into_response();
    }
    handle(state, key, body, text).await
}

/// `GET /v1beta/models`: the served models (and an embedding model that cannot
/// `generateContent`), two per page as `pageSize` and `pageToken` page them.
async fn gemini_models(
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    if headers.get("x-goog-api-key").is_none() {
        return (StatusCode::FORBIDDEN, Json(json!({"error": {"code": 403, "message": "Method doesn't allow unregistered callers.", "status": "PERMISSION_DENIED"}}))).into_response();
    }
    let mut all: Vec<Value> = GEMINI_MODELS
        .iter()
        .map(|m| json!({"name": format!("models/{m}"), "supportedGenerationMethods": ["generateContent", "countTokens", "batchGenerateContent"]}))
        .collect();
    all.push(json!({"name": "models/text-embedding-004", "supportedGenerationMethods": ["embedContent"]}));
    let start: usize = q
        .get("pageToken")
        .and_then(|t| t.strip_prefix("p")?.parse().ok())
        .unwrap_or(0);
    let size = q
        .get("pageSize")
        .and_then(|s| s.parse().ok())
        .unwrap_or(50usize)
        .clamp(1, 2);
    let page: Vec<Value> = all.iter().skip(start).take(size).cloned().collect();
    let mut body = json!({"models": page});
    if start + size < all.len() {
        body["nextPageToken"] = json!(format!("p{}", start + size));
    }
    Json(body).into_response()
}

/// `GET /v1/models`: the served models.
async fn openai_models(headers: HeaderMap) -> Response {
    if headers.get("authorization").is_none() {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": {"message": "You didn't provide an API key.", "type": "invalid_request_error", "param": null, "code": null}}))).into_response();
    }
    let data: Vec<Value> = OPENAI_MODELS
        .iter()
        .map(
            |m| json!({"id": m, "object": "model", "created": 1_764_000_000, "owned_by": "openai"}),
        )
        .collect();
    Json(json!({"object": "list", "data": data})).into_response()
}

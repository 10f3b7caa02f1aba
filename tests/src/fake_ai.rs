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

struct FakeState {
    kind: Kind,
    latency: Mutex<Duration>,
    script: Mutex<VecDeque<Fault>>,
    default: Mutex<Fault>,
    calls: Mutex<Vec<Call>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    bad_requests: Mutex<Vec<String>>,
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
        });
        let app = Router::new()
            .route("/v1beta/models/{model_action}", post(gemini))
            .route("/v1/chat/completions", post(openai))
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
                ("GEMINI_MODEL".into(), "gemini-test-flash-lite".into()),
            ],
            Kind::OpenAi => vec![
                ("AI_SERVICE".into(), "openai".into()),
                ("OPENAI_API_KEY".into(), key.into()),
                ("OPENAI_BASE_URL".into(), self.base_url.clone()),
                ("OPENAI_MODEL".into(), "gpt-test-mini".into()),
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
        Fault::Ok => {}
        Fault::HugeAnswer => {}
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
        Fault::QuotaExhausted => {
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
    let prompt_tokens = batch.len() / 4 + 300;
    let out_tokens = text.len() / 4;
    let body = if gemini {
        json!({
            "candidates": [{"content": {"parts": [{"text": text}], "role": "model"},
                            "finishReason": if truncated { "MAX_TOKENS" } else { "STOP" }, "index": 0}],
            "usageMetadata": {"promptTokenCount": prompt_tokens, "candidatesTokenCount": out_tokens, "totalTokenCount": prompt_tokens + out_tokens},
            "modelVersion": "gemini-test-flash-lite"
        })
    } else {
        json!({
            "id": "chatcmpl-fake", "object": "chat.completion", "created": 1_764_000_000, "model": "gpt-test-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": null},
                         "finish_reason": if truncated { "length" } else { "stop" }}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": out_tokens, "total_tokens": prompt_tokens + out_tokens}
        })
    };
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
    let mut problems = Vec::new();
    if !model_action.ends_with(":generateContent") {
        problems.push(format!("path {model_action}"));
    }
    if key.is_empty() {
        problems.push("no x-goog-api-key".into());
    }
    if body["generationConfig"]["responseMimeType"] != "application/json"
        || !body["generationConfig"]["responseSchema"].is_object()
    {
        problems.push("no JSON response config".into());
    }
    let text = body["contents"][0]["parts"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if text.is_empty() || !body["systemInstruction"]["parts"][0]["text"].is_string() {
        problems.push("no contents or system instruction".into());
    }
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
    let mut problems = Vec::new();
    if key.is_empty() {
        problems.push("no bearer token".to_owned());
    }
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
    let text = body["messages"][1]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if body["messages"][0]["role"] != "system" || text.is_empty() {
        problems.push("no system + user messages".into());
    }
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

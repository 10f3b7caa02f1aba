//! The providers' Batch APIs, faked as strictly as their documentation states them: Gemini's
//! `models/{m}:batchGenerateContent` with inline requests, read back as a long-running operation
//! (`batches/{id}`, `metadata.state` `BATCH_STATE_*`, answers in
//! `response.inlinedResponses.inlinedResponses` with each request's `metadata.key`) and cancelled
//! with `:cancel`; OpenAI's `POST /v1/files` (purpose `batch`, JSONL of `custom_id`, `method`,
//! `url`, `body`), `POST /v1/batches` (`completion_window` `24h`), `GET /v1/batches/{id}`,
//! `GET /v1/files/{id}/content` and `POST /v1/batches/{id}/cancel`. Every request inside a batch
//! is checked as the synchronous endpoint checks it; a batch ends when the test releases it.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::{
    answer, answer_body, gemini_problems, gemini_text, openai_problems, openai_text, FakeState,
    Kind, GEMINI_MODELS, OPENAI_MODELS,
};

/// How a released batch ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchOutcome {
    /// Every request answered.
    Succeed,
    /// Every request answered but the first, which fails (a 500 inside the batch).
    FailFirstRequest,
    /// The whole batch fails.
    Fail,
    /// Not done within the window.
    Expire,
}

/// A batch's state at the fake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchState {
    /// Submitted, not released yet.
    Pending,
    /// Answered.
    Succeeded,
    /// Failed as a whole.
    Failed,
    /// Expired.
    Expired,
    /// Cancelled by the client.
    Cancelled,
}

/// A submitted batch as the fake holds it.
#[derive(Debug, Clone)]
pub struct FakeBatch {
    /// Its id (`batches/...` or `batch_...`).
    pub id: String,
    /// Its requests: key and prompt.
    pub requests: Vec<(String, String)>,
    /// Where it is.
    pub state: BatchState,
    /// How it ends once released.
    outcome: BatchOutcome,
}

impl FakeBatch {
    /// Conversations in its prompts.
    pub fn conversations(&self) -> usize {
        self.requests
            .iter()
            .map(|(_, t)| t.matches("### ").count())
            .sum()
    }
}

fn gemini_state(s: BatchState) -> &'static str {
    match s {
        BatchState::Pending => "BATCH_STATE_RUNNING",
        BatchState::Succeeded => "BATCH_STATE_SUCCEEDED",
        BatchState::Failed => "BATCH_STATE_FAILED",
        BatchState::Expired => "BATCH_STATE_EXPIRED",
        BatchState::Cancelled => "BATCH_STATE_CANCELLED",
    }
}

fn openai_state(s: BatchState) -> &'static str {
    match s {
        BatchState::Pending => "in_progress",
        BatchState::Succeeded => "completed",
        BatchState::Failed => "failed",
        BatchState::Expired => "expired",
        BatchState::Cancelled => "cancelled",
    }
}

fn bad(state: &FakeState, status: StatusCode, gemini: bool, message: String) -> Response {
    state.bad_requests.lock().unwrap().push(message.clone());
    let body = if gemini {
        json!({"error": {"code": status.as_u16(), "message": message, "status": "INVALID_ARGUMENT"}})
    } else {
        json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": null}})
    };
    (status, Json(body)).into_response()
}

fn not_found(gemini: bool, what: &str) -> Response {
    let body = if gemini {
        json!({"error": {"code": 404, "message": format!("{what} not found"), "status": "NOT_FOUND"}})
    } else {
        json!({"error": {"message": format!("No such {what}"), "type": "invalid_request_error", "param": null, "code": null}})
    };
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}

/// Keys allowed in each object of Gemini's batch body (the real API refuses unknown names).
fn unknown_fields(v: &Value, allowed: &[&str], at: &str, problems: &mut Vec<String>) {
    for k in v.as_object().into_iter().flatten().map(|(k, _)| k) {
        if !allowed.contains(&k.as_str()) {
            problems.push(format!(
                "Invalid JSON payload received. Unknown name \"{k}\" at '{at}'"
            ));
        }
    }
}

/// `POST /v1beta/models/{model}:batchGenerateContent`.
pub(super) fn gemini_create(
    state: Arc<FakeState>,
    model: &str,
    key: &str,
    body: Value,
) -> Response {
    if key.is_empty() {
        return bad(
            &state,
            StatusCode::FORBIDDEN,
            true,
            "no x-goog-api-key".into(),
        );
    }
    if !GEMINI_MODELS.contains(&model) {
        return not_found(true, &format!("models/{model}"));
    }
    let mut problems = Vec::new();
    let batch = &body["batch"];
    unknown_fields(&body, &["batch"], "", &mut problems);
    unknown_fields(
        batch,
        &[
            "displayName",
            "display_name",
            "inputConfig",
            "input_config",
            "priority",
        ],
        "batch",
        &mut problems,
    );
    let name = batch.get("displayName").or(batch.get("display_name"));
    if name.and_then(Value::as_str).is_none_or(str::is_empty) {
        problems.push("batch.displayName is required".into());
    }
    let input = batch
        .get("inputConfig")
        .or(batch.get("input_config"))
        .unwrap_or(&Value::Null);
    unknown_fields(
        input,
        &["requests", "fileName", "file_name"],
        "batch.input_config",
        &mut problems,
    );
    let items = input["requests"]["requests"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if items.is_empty() {
        problems.push("batch.input_config.requests.requests is empty".into());
    }
    // Inline requests are limited to 20 MB in all.
    if body.to_string().len() >= 20 << 20 {
        problems.push("inline requests exceed 20 MB: use a file".into());
    }
    let mut keys = HashSet::new();
    let mut requests = Vec::new();
    for (i, it) in items.iter().enumerate() {
        unknown_fields(
            it,
            &["request", "metadata"],
            "batch.input_config.requests.requests[]",
            &mut problems,
        );
        let Some(k) = it["metadata"]["key"].as_str() else {
            problems.push(format!("request {i} has no metadata.key"));
            continue;
        };
        if !keys.insert(k.to_owned()) {
            problems.push(format!("duplicate key {k}"));
        }
        for p in gemini_problems(model, &it["request"]) {
            problems.push(format!("request {k}: {p}"));
        }
        requests.push((k.to_owned(), gemini_text(&it["request"])));
    }
    if !problems.is_empty() {
        return bad(&state, StatusCode::BAD_REQUEST, true, problems.join("; "));
    }
    let b = state.add_batch("batches/", requests);
    state
        .batch_log
        .lock()
        .unwrap()
        .push(format!("create {}", b.id));
    Json(gemini_operation(&b, model)).into_response()
}

fn gemini_operation(b: &FakeBatch, model: &str) -> Value {
    let done = b.state != BatchState::Pending;
    let mut op = json!({
        "name": b.id,
        "metadata": {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
            "model": format!("models/{model}"),
            "displayName": "powerpulse",
            "state": gemini_state(b.state),
            "batchStats": {"requestCount": b.requests.len().to_string()}
        },
        "done": done
    });
    match b.state {
        BatchState::Succeeded => {
            let answers: Vec<Value> = b
                .requests
                .iter()
                .enumerate()
                .map(|(i, (key, text))| {
                    if i == 0 && b.outcome == BatchOutcome::FailFirstRequest {
                        json!({"error": {"code": 500, "message": "Internal error encountered."}, "metadata": {"key": key}})
                    } else {
                        let model_text = json!({"results": answer(text)}).to_string();
                        json!({"response": answer_body(true, text, &model_text, false, 0), "metadata": {"key": key}})
                    }
                })
                .collect();
            op["response"] = json!({
                "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput",
                "inlinedResponses": {"inlinedResponses": answers}
            });
        }
        BatchState::Failed => {
            op["error"] = json!({"code": 13, "message": "Batch processing failed."})
        }
        BatchState::Expired => {
            op["error"] = json!({"code": 4, "message": "The batch expired after 48 hours."})
        }
        _ => {}
    }
    op
}

/// `GET /v1beta/batches/{id}`.
pub(super) async fn gemini_get(
    State(state): State<Arc<FakeState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = unauthorized(&state, &headers, true) {
        return refused;
    }
    let name = format!("batches/{id}");
    state.batch_log.lock().unwrap().push(format!("get {name}"));
    match state.batch(&name) {
        Some(b) => Json(gemini_operation(&b, "gemini-3.5-flash-lite")).into_response(),
        None => not_found(true, &name),
    }
}

/// `POST /v1beta/batches/{id}:cancel`.
pub(super) async fn gemini_cancel(
    State(state): State<Arc<FakeState>>,
    Path(id_action): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = unauthorized(&state, &headers, true) {
        return refused;
    }
    let Some(id) = id_action.strip_suffix(":cancel") else {
        return not_found(true, &id_action);
    };
    let name = format!("batches/{id}");
    state
        .batch_log
        .lock()
        .unwrap()
        .push(format!("cancel {name}"));
    if state.cancel_batch(&name) {
        Json(json!({})).into_response()
    } else {
        not_found(true, &name)
    }
}

/// The refusal of a call without the provider's key (OpenAI: a bearer token; Gemini:
/// `x-goog-api-key`), or none when it carries one.
fn unauthorized(state: &FakeState, headers: &HeaderMap, gemini: bool) -> Option<Response> {
    let keyed = if gemini {
        headers.get("x-goog-api-key").is_some()
    } else {
        headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("Bearer ") && v.len() > 7)
    };
    (!keyed).then(|| {
        let (status, message) = if gemini {
            (StatusCode::FORBIDDEN, "no x-goog-api-key")
        } else {
            (StatusCode::UNAUTHORIZED, "You didn't provide an API key.")
        };
        bad(state, status, gemini, message.into())
    })
}

/// `POST /v1/files` (multipart: `purpose`, `file`).
pub(super) async fn openai_upload(
    State(state): State<Arc<FakeState>>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    if let Some(refused) = unauthorized(&state, &headers, false) {
        return refused;
    }
    let (mut purpose, mut file, mut filename) = (None, None, String::new());
    while let Ok(Some(field)) = form.next_field().await {
        match field.name() {
            Some("purpose") => purpose = field.text().await.ok(),
            Some("file") => {
                filename = field.file_name().unwrap_or_default().to_owned();
                file = field.bytes().await.ok();
            }
            Some(other) => {
                let other = other.to_owned();
                return bad(
                    &state,
                    StatusCode::BAD_REQUEST,
                    false,
                    format!("Unrecognized request argument supplied: {other}"),
                );
            }
            None => {}
        }
    }
    if purpose.as_deref() != Some("batch") {
        return bad(
            &state,
            StatusCode::BAD_REQUEST,
            false,
            format!("purpose must be batch, got {purpose:?}"),
        );
    }
    let Some(file) = file else {
        return bad(&state, StatusCode::BAD_REQUEST, false, "no file".into());
    };
    if !filename.ends_with(".jsonl") {
        return bad(
            &state,
            StatusCode::BAD_REQUEST,
            false,
            format!("a batch file must be .jsonl, got {filename:?}"),
        );
    }
    // Batch input files are limited to 200 MB.
    if file.len() > 200 << 20 {
        return bad(
            &state,
            StatusCode::BAD_REQUEST,
            false,
            "the file is larger than 200 MB".into(),
        );
    }
    let text = String::from_utf8_lossy(&file).into_owned();
    let id = state.add_file(text);
    Json(json!({"id": id, "object": "file", "bytes": file.len(), "created_at": 1_764_000_000, "filename": filename, "purpose": "batch"}))
        .into_response()
}

/// The requests of a batch input file, or why the real API would fail the batch.
fn openai_requests(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut keys = HashSet::new();
    let mut requests = Vec::new();
    let mut model = None;
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let v: Value =
            serde_json::from_str(line).map_err(|e| format!("line {}: not JSON: {e}", n + 1))?;
        let key = v["custom_id"]
            .as_str()
            .ok_or(format!("line {}: no custom_id", n + 1))?;
        if !keys.insert(key.to_owned()) {
            return Err(format!("line {}: duplicate custom_id {key}", n + 1));
        }
        if v["method"] != "POST" || v["url"] != "/v1/chat/completions" {
            return Err(format!(
                "line {}: method and url must be POST /v1/chat/completions",
                n + 1
            ));
        }
        let body = &v["body"];
        let m = body["model"].as_str().unwrap_or_default();
        if !OPENAI_MODELS.contains(&m) {
            return Err(format!("line {}: the model `{m}` does not exist", n + 1));
        }
        if model.get_or_insert(m.to_owned()) != m {
            return Err(format!("line {}: a batch file must use one model", n + 1));
        }
        let problems = openai_problems(body);
        if !problems.is_empty() {
            return Err(format!("line {}: {}", n + 1, problems.join("; ")));
        }
        requests.push((key.to_owned(), openai_text(body)));
    }
    if requests.is_empty() {
        return Err("the file holds no request".into());
    }
    // At most 50,000 requests per batch.
    if requests.len() > 50_000 {
        return Err("more than 50,000 requests".into());
    }
    Ok(requests)
}

/// `POST /v1/batches`.
pub(super) async fn openai_create(
    State(state): State<Arc<FakeState>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(refused) = unauthorized(&state, &headers, false) {
        return refused;
    }
    let mut problems = Vec::new();
    for k in body.as_object().into_iter().flatten().map(|(k, _)| k) {
        if ![
            "input_file_id",
            "endpoint",
            "completion_window",
            "metadata",
            "output_expires_after",
        ]
        .contains(&k.as_str())
        {
            problems.push(format!("Unrecognized request argument supplied: {k}"));
        }
    }
    if body["endpoint"] != "/v1/chat/completions" {
        problems.push(format!(
            "endpoint must be /v1/chat/completions here, got {}",
            body["endpoint"]
        ));
    }
    if body["completion_window"] != "24h" {
        problems.push(format!(
            "completion_window must be 24h, got {}",
            body["completion_window"]
        ));
    }
    if !problems.is_empty() {
        return bad(&state, StatusCode::BAD_REQUEST, false, problems.join("; "));
    }
    let Some(text) = body["input_file_id"]
        .as_str()
        .and_then(|id| state.files.lock().unwrap().get(id).cloned())
    else {
        return bad(
            &state,
            StatusCode::BAD_REQUEST,
            false,
            format!("no such input file {}", body["input_file_id"]),
        );
    };
    let b = match openai_requests(&text) {
        Ok(requests) => state.add_batch("batch_", requests),
        Err(why) => {
            // The real API accepts the batch, then fails it in validation.
            state.bad_requests.lock().unwrap().push(why.clone());
            let b = state.add_batch("batch_", Vec::new());
            state.fail_batch(&b.id, &why);
            state.batch(&b.id).unwrap()
        }
    };
    state
        .batch_log
        .lock()
        .unwrap()
        .push(format!("create {}", b.id));
    Json(openai_batch(&state, &b)).into_response()
}

fn openai_batch(state: &FakeState, b: &FakeBatch) -> Value {
    let mut v = json!({
        "id": b.id, "object": "batch", "endpoint": "/v1/chat/completions",
        "input_file_id": "file-in", "completion_window": "24h",
        "status": openai_state(b.state), "output_file_id": null, "error_file_id": null,
        "created_at": 1_764_000_000,
        "request_counts": {"total": b.requests.len(), "completed": 0, "failed": 0}
    });
    if let Some(why) = state.batch_errors.lock().unwrap().get(&b.id) {
        v["errors"] = json!({"object": "list", "data": [{"code": "invalid_request", "message": why, "line": null}]});
    }
    if b.state == BatchState::Succeeded {
        let mut out = String::new();
        let mut errors = String::new();
        for (i, (key, text)) in b.requests.iter().enumerate() {
            if i == 0 && b.outcome == BatchOutcome::FailFirstRequest {
                errors.push_str(&json!({"id": format!("batch_req_{i}"), "custom_id": key,
                    "response": {"status_code": 500, "request_id": "req", "body": {"error": {"message": "The server had an error while processing your request.", "type": "server_error"}}},
                    "error": null}).to_string());
                errors.push('\n');
            } else {
                let model_text = json!({"results": answer(text)}).to_string();
                out.push_str(&json!({"id": format!("batch_req_{i}"), "custom_id": key,
                    "response": {"status_code": 200, "request_id": "req", "body": answer_body(false, text, &model_text, false, 0)},
                    "error": null}).to_string());
                out.push('\n');
            }
        }
        let failed = errors.lines().count();
        v["request_counts"] = json!({"total": b.requests.len(), "completed": b.requests.len() - failed, "failed": failed});
        v["output_file_id"] = json!(state.add_file(out));
        if failed > 0 {
            v["error_file_id"] = json!(state.add_file(errors));
        }
    }
    v
}

/// `GET /v1/batches/{id}`.
pub(super) async fn openai_get(
    State(state): State<Arc<FakeState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = unauthorized(&state, &headers, false) {
        return refused;
    }
    state.batch_log.lock().unwrap().push(format!("get {id}"));
    match state.batch(&id) {
        Some(b) => Json(openai_batch(&state, &b)).into_response(),
        None => not_found(false, "batch"),
    }
}

/// `POST /v1/batches/{id}/cancel`.
pub(super) async fn openai_cancel(
    State(state): State<Arc<FakeState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = unauthorized(&state, &headers, false) {
        return refused;
    }
    state.batch_log.lock().unwrap().push(format!("cancel {id}"));
    if !state.cancel_batch(&id) {
        return not_found(false, "batch");
    }
    let b = state.batch(&id).unwrap();
    let mut v = openai_batch(&state, &b);
    v["status"] = json!("cancelling");
    Json(v).into_response()
}

/// `GET /v1/files/{id}/content`.
pub(super) async fn openai_file(
    State(state): State<Arc<FakeState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = unauthorized(&state, &headers, false) {
        return refused;
    }
    match state.files.lock().unwrap().get(&id) {
        Some(text) => (
            StatusCode::OK,
            [("content-type", "application/octet-stream")],
            text.clone(),
        )
            .into_response(),
        None => not_found(false, "file"),
    }
}

impl FakeState {
    fn add_batch(&self, prefix: &str, requests: Vec<(String, String)>) -> FakeBatch {
        let mut batches = self.batches.lock().unwrap();
        let b = FakeBatch {
            id: format!("{prefix}{}", batches.len() + 1),
            requests,
            state: BatchState::Pending,
            outcome: *self.batch_outcome.lock().unwrap(),
        };
        batches.push(b.clone());
        if !self.hold_batches.load(Ordering::SeqCst) {
            let outcome = b.outcome;
            let last = batches.last_mut().unwrap();
            last.state = end_state(outcome);
        }
        batches.last().unwrap().clone()
    }

    fn batch(&self, id: &str) -> Option<FakeBatch> {
        self.batches
            .lock()
            .unwrap()
            .iter()
            .find(|b| b.id == id)
            .cloned()
    }

    fn cancel_batch(&self, id: &str) -> bool {
        let mut batches = self.batches.lock().unwrap();
        let Some(b) = batches.iter_mut().find(|b| b.id == id) else {
            return false;
        };
        if b.state == BatchState::Pending {
            b.state = BatchState::Cancelled;
        }
        true
    }

    fn fail_batch(&self, id: &str, why: &str) {
        if let Some(b) = self.batches.lock().unwrap().iter_mut().find(|b| b.id == id) {
            b.state = BatchState::Failed;
        }
        self.batch_errors
            .lock()
            .unwrap()
            .insert(id.to_owned(), why.to_owned());
    }

    fn add_file(&self, text: String) -> String {
        let mut files = self.files.lock().unwrap();
        let id = format!("file-{}", files.len() + 1);
        files.insert(id.clone(), text);
        id
    }
}

fn end_state(o: BatchOutcome) -> BatchState {
    match o {
        BatchOutcome::Succeed | BatchOutcome::FailFirstRequest => BatchState::Succeeded,
        BatchOutcome::Fail => BatchState::Failed,
        BatchOutcome::Expire => BatchState::Expired,
    }
}

/// The routes of both providers' Batch APIs.
pub(super) fn routes(kind: Kind) -> axum::Router<Arc<FakeState>> {
    use axum::routing::{get, post};
    match kind {
        Kind::Gemini => {
            axum::Router::new().route("/v1beta/batches/{id}", get(gemini_get).post(gemini_cancel))
        }
        Kind::OpenAi => axum::Router::new()
            .route("/v1/files", post(openai_upload))
            .route("/v1/files/{id}/content", get(openai_file))
            .route("/v1/batches", post(openai_create))
            .route("/v1/batches/{id}", get(openai_get))
            .route("/v1/batches/{id}/cancel", post(openai_cancel)),
    }
}

/// What the tests can see and steer of the fake's batches.
impl super::FakeAi {
    /// The batches submitted so far.
    pub fn batches(&self) -> Vec<FakeBatch> {
        self.state.batches.lock().unwrap().clone()
    }

    /// Every batch call (`create <id>`, `get <id>`, `cancel <id>`), in order.
    pub fn batch_log(&self) -> Vec<String> {
        self.state.batch_log.lock().unwrap().clone()
    }

    /// Holds new batches pending until [`release_batches`](Self::release_batches) (`true`), or
    /// lets them end at once (`false`, the default).
    pub fn hold_batches(&self, hold: bool) {
        self.state.hold_batches.store(hold, Ordering::SeqCst);
    }

    /// Ends every pending batch as its outcome says.
    pub fn release_batches(&self) {
        for b in self.state.batches.lock().unwrap().iter_mut() {
            if b.state == BatchState::Pending {
                b.state = end_state(b.outcome);
            }
        }
    }

    /// How the next batches end.
    pub fn set_batch_outcome(&self, o: BatchOutcome) {
        *self.state.batch_outcome.lock().unwrap() = o;
    }
}

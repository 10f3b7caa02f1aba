//! The providers' asynchronous Batch APIs, at half the price of synchronous calls with results
//! within 24 hours: Gemini's batch mode with inline requests (`models/{m}:batchGenerateContent`,
//! the batch read back as a long-running operation) and OpenAI's `/v1/batches` over an uploaded
//! JSONL file. Each request is one of the prompts a synchronous call would send, under a key.

use serde_json::{json, Value};

use super::provider::{CallError, Provider, Reply, MAX_BATCH_BODY};
use crate::config::AiService;

/// Where a submitted batch is, and its answers once it is done.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchPoll {
    /// Queued or running at the provider.
    Running,
    /// Finished: each request's answer or failure, by key (a request the provider left out
    /// is missing).
    Done(Vec<(String, Result<Reply, CallError>)>),
    /// Ended without results (failed, expired or cancelled at the provider), with why.
    Ended(String),
}

/// The Batch API's price against synchronous calls (both providers: 50 %).
pub const BATCH_PRICE_FACTOR: f64 = 0.5;

/// How long the providers take at most (their 24-hour target), in milliseconds.
pub const BATCH_WINDOW_MS: i64 = 24 * 3600 * 1000;

impl Provider {
    /// Submits `requests` (key, prompt text) as one batch; returns the provider's batch id.
    pub async fn batch_submit(
        &self,
        name: &str,
        requests: &[(String, String)],
    ) -> Result<String, CallError> {
        match self.service() {
            AiService::Gemini => self.gemini_submit(name, requests).await,
            _ => self.openai_submit(requests).await,
        }
    }

    /// Asks where the batch `id` is, with its answers when it is done.
    pub async fn batch_poll(&self, id: &str) -> Result<BatchPoll, CallError> {
        match self.service() {
            AiService::Gemini => self.gemini_poll(id).await,
            _ => self.openai_poll(id).await,
        }
    }

    /// Cancels the batch `id` at the provider.
    pub async fn batch_cancel(&self, id: &str) -> Result<(), CallError> {
        let url = match self.service() {
            AiService::Gemini => format!("{}/v1beta/{id}:cancel", self.base_url()),
            _ => format!("{}/batches/{id}/cancel", self.base_url()),
        };
        self.send_json(self.http().post(url).json(&json!({})))
            .await
            .map(|_| ())
    }

    async fn gemini_submit(
        &self,
        name: &str,
        requests: &[(String, String)],
    ) -> Result<String, CallError> {
        let inlined: Vec<Value> = requests
            .iter()
            .map(
                |(key, text)| json!({"request": self.request_body(text), "metadata": {"key": key}}),
            )
            .collect();
        let body = json!({"batch": {
            "displayName": name,
            "inputConfig": {"requests": {"requests": inlined}}
        }});
        let url = format!(
            "{}/v1beta/models/{}:batchGenerateContent",
            self.base_url(),
            self.model()
        );
        let op = self.send_json(self.http().post(url).json(&body)).await?;
        batch_name(&op)
    }

    async fn gemini_poll(&self, id: &str) -> Result<BatchPoll, CallError> {
        let url = format!("{}/v1beta/{id}", self.base_url());
        let text = self.send_raw(self.http().get(url), MAX_BATCH_BODY).await?;
        let op: Value = serde_json::from_str(&text).map_err(|e| CallError::Malformed {
            reason: format!("the batch's state is not JSON: {e}"),
        })?;
        match gemini_outcome(&op) {
            GeminiOutcome::Succeeded => {
                let items = op["response"]["inlinedResponses"]["inlinedResponses"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                Ok(BatchPoll::Done(
                    items
                        .iter()
                        .filter_map(|it| {
                            let key = it["metadata"]["key"].as_str()?.to_owned();
                            let answer = if it["response"].is_object() {
                                self.parse_answer(&it["response"])
                            } else {
                                Err(request_error(&it["error"]))
                            };
                            Some((key, answer))
                        })
                        .collect(),
                ))
            }
            GeminiOutcome::Ended(state) => Ok(BatchPoll::Ended(ended(&state, &op["error"]))),
            GeminiOutcome::Running => Ok(BatchPoll::Running),
        }
    }

    async fn openai_submit(&self, requests: &[(String, String)]) -> Result<String, CallError> {
        let mut jsonl = String::new();
        for (key, text) in requests {
            let line = json!({
                "custom_id": key,
                "method": "POST",
                "url": "/v1/chat/completions",
                "body": self.request_body(text),
            });
            jsonl.push_str(&line.to_string());
            jsonl.push('\n');
        }
        let part = reqwest::multipart::Part::bytes(jsonl.into_bytes())
            .file_name("powerpulse-batch.jsonl")
            .mime_str("application/jsonl")
            .expect("a valid mime type");
        let form = reqwest::multipart::Form::new()
            .text("purpose", "batch")
            .part("file", part);
        let file = self
            .send_json(
                self.http()
                    .post(format!("{}/files", self.base_url()))
                    .multipart(form),
            )
            .await?;
        let file_id = id_of(&file, "the uploaded file")?;
        let batch = self
            .send_json(
                self.http()
                    .post(format!("{}/batches", self.base_url()))
                    .json(&json!({
                        "input_file_id": file_id,
                        "endpoint": "/v1/chat/completions",
                        "completion_window": "24h",
                    })),
            )
            .await?;
        id_of(&batch, "the batch")
    }

    async fn openai_poll(&self, id: &str) -> Result<BatchPoll, CallError> {
        let b = self
            .send_json(self.http().get(format!("{}/batches/{id}", self.base_url())))
            .await?;
        let status = b["status"].as_str().unwrap_or_default();
        match status {
            "completed" => {
                let mut answers = Vec::new();
                for file in ["output_file_id", "error_file_id"] {
                    if let Some(fid) = b[file].as_str() {
                        let url = format!("{}/files/{fid}/content", self.base_url());
                        let text = self.send_raw(self.http().get(url), MAX_BATCH_BODY).await?;
                        answers.extend(text.lines().filter_map(|l| self.openai_line(l)));
                    }
                }
                Ok(BatchPoll::Done(answers))
            }
            "failed" | "expired" | "cancelled" | "cancelling" => {
                let first = &b["errors"]["data"][0];
                Ok(BatchPoll::Ended(ended(status, first)))
            }
            _ => Ok(BatchPoll::Running),
        }
    }

    /// One line of a batch's output or error file: its key and answer.
    fn openai_line(&self, line: &str) -> Option<(String, Result<Reply, CallError>)> {
        let v: Value = serde_json::from_str(line).ok()?;
        let key = v["custom_id"].as_str()?.to_owned();
        let response = &v["response"];
        let status = response["status_code"].as_u64().unwrap_or(0);
        let answer = if status == 200 {
            self.parse_answer(&response["body"])
        } else if response.is_object() {
            Err(self.classify(status as u16, &response["body"].to_string()))
        } else {
            Err(request_error(&v["error"]))
        };
        Some((key, answer))
    }
}

/// Where Gemini's batch operation is.
#[derive(Debug, PartialEq)]
enum GeminiOutcome {
    Running,
    Succeeded,
    /// Failed, cancelled or expired, with the state's name.
    Ended(String),
}

/// Reads the operation's `metadata.state` (`BATCH_STATE_*`; the SDKs' `JOB_STATE_*` names are
/// read alike), and `done` for a state this code does not know, so a renamed state can never
/// leave a job polling forever.
fn gemini_outcome(op: &Value) -> GeminiOutcome {
    let state = op["metadata"]["state"].as_str().unwrap_or_default();
    let name = state
        .trim_start_matches("BATCH_STATE_")
        .trim_start_matches("JOB_STATE_");
    match name {
        "SUCCEEDED" => GeminiOutcome::Succeeded,
        "FAILED" | "CANCELLED" | "EXPIRED" => GeminiOutcome::Ended(state.to_owned()),
        _ if op["done"] == true && op["response"].is_object() => GeminiOutcome::Succeeded,
        _ if op["done"] == true => GeminiOutcome::Ended(format!("done in state {state:?}")),
        _ => GeminiOutcome::Running,
    }
}

/// The batch's resource name from Gemini's operation (`batches/...`).
fn batch_name(op: &Value) -> Result<String, CallError> {
    op["name"]
        .as_str()
        .filter(|n| n.starts_with("batches/") && !n.contains(['?', '#', ' ']))
        .map(str::to_owned)
        .ok_or(CallError::Malformed {
            reason: "the batch operation names no batch".into(),
        })
}

/// An id from OpenAI's answer, safe to put in a URL path.
fn id_of(v: &Value, what: &str) -> Result<String, CallError> {
    v["id"]
        .as_str()
        .filter(|id| {
            !id.is_empty()
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
        })
        .map(str::to_owned)
        .ok_or(CallError::Malformed {
            reason: format!("the provider's answer names no id for {what}"),
        })
}

/// A failed request inside a batch (retried synchronously by the caller).
fn request_error(e: &Value) -> CallError {
    CallError::Retryable {
        reason: format!(
            "the batch request failed: {}",
            e["message"].as_str().unwrap_or("no reason given")
        ),
        retry_after: None,
    }
}

fn ended(state: &str, error: &Value) -> String {
    match error["message"].as_str() {
        Some(m) => format!("the batch ended {state}: {m}"),
        None => format!("the batch ended {state}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemini_states_and_a_done_operation_in_an_unknown_state() {
        let op = |state: &str, done: bool, response: bool| {
            let mut v = json!({"name": "batches/1", "metadata": {"state": state}, "done": done});
            if response {
                v["response"] = json!({"inlinedResponses": {"inlinedResponses": []}});
            }
            v
        };
        assert_eq!(
            gemini_outcome(&op("BATCH_STATE_PENDING", false, false)),
            GeminiOutcome::Running
        );
        assert_eq!(
            gemini_outcome(&op("BATCH_STATE_RUNNING", false, false)),
            GeminiOutcome::Running
        );
        assert_eq!(
            gemini_outcome(&op("BATCH_STATE_SUCCEEDED", true, true)),
            GeminiOutcome::Succeeded
        );
        assert_eq!(
            gemini_outcome(&op("JOB_STATE_SUCCEEDED", true, true)),
            GeminiOutcome::Succeeded
        );
        assert_eq!(
            gemini_outcome(&op("BATCH_STATE_EXPIRED", true, false)),
            GeminiOutcome::Ended("BATCH_STATE_EXPIRED".into())
        );
        assert_eq!(
            gemini_outcome(&op("SOMETHING_NEW", true, true)),
            GeminiOutcome::Succeeded
        );
        assert!(matches!(
            gemini_outcome(&op("SOMETHING_NEW", true, false)),
            GeminiOutcome::Ended(_)
        ));
        assert_eq!(
            gemini_outcome(&op("SOMETHING_NEW", false, false)),
            GeminiOutcome::Running
        );
    }

    #[test]
    fn ids_that_would_change_the_url_are_refused() {
        assert_eq!(
            batch_name(&json!({"name": "batches/abc-123"})).unwrap(),
            "batches/abc-123"
        );
        assert!(batch_name(&json!({"name": "batches/x?key=1"})).is_err());
        assert!(batch_name(&json!({"name": "models/x"})).is_err());
        assert_eq!(
            id_of(&json!({"id": "batch_abc"}), "b").unwrap(),
            "batch_abc"
        );
        assert!(id_of(&json!({"id": "../files"}), "b").is_err());
        assert!(id_of(&json!({}), "b").is_err());
    }
}

//! The app's one way to the server: JSON over `fetch` (gloo-net, in the page and in the
//! worker alike), with the shared wire types; any answer but a 2xx is a typed error.

use gloo_net::http::{Request, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Why a request to the server gave no answer to use.
#[derive(Debug, Clone, PartialEq)]
pub enum HttpError {
    /// No answer at all (offline, no server behind the page, aborted).
    Unreachable,
    /// The server answered with an error status; `detail` is its message, if it gave one.
    Status {
        /// The HTTP status.
        status: u16,
        /// The `detail` of the server's JSON error body.
        detail: Option<String>,
    },
    /// A 2xx answer that is not the JSON expected.
    Unexpected(String),
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpError::Unreachable => write!(f, "the server cannot be reached (offline?)"),
            HttpError::Status {
                status,
                detail: Some(d),
            } => write!(f, "the server answered {status}: {d}"),
            HttpError::Status { status, .. } => write!(f, "the server answered {status}"),
            HttpError::Unexpected(e) => write!(f, "unexpected answer from the server: {e}"),
        }
    }
}

/// The server's JSON error body (`{"detail": ..., "code": ...}`).
#[derive(serde::Deserialize)]
struct ErrorBody {
    detail: String,
}

async fn read<T: DeserializeOwned>(resp: Response) -> Result<T, HttpError> {
    if !resp.ok() {
        let detail = resp.json::<ErrorBody>().await.ok().map(|b| b.detail);
        return Err(HttpError::Status {
            status: resp.status(),
            detail,
        });
    }
    resp.json()
        .await
        .map_err(|e| HttpError::Unexpected(e.to_string()))
}

/// `GET path` (same origin), read as `T`.
pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, HttpError> {
    let resp = Request::get(path)
        .send()
        .await
        .map_err(|_| HttpError::Unreachable)?;
    read(resp).await
}

/// `POST path` (same origin) with a JSON body, read as `T`; `signal` aborts it.
pub async fn post<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: &B,
    signal: &web_sys::AbortSignal,
) -> Result<T, HttpError> {
    let resp = Request::post(path)
        .abort_signal(Some(signal))
        .json(body)
        .map_err(|e| HttpError::Unexpected(e.to_string()))?
        .send()
        .await
        .map_err(|_| HttpError::Unreachable)?;
    read(resp).await
}

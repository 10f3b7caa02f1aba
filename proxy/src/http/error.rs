//! The API's one error type: each variant has its status; bodies are `{"detail", "code"}`;
//! server-side failures are logged and answered with a generic message.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::store::StoreError;

/// An error answered to an API client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the input cannot be used (bad file, missing field).
    #[error("{detail}")]
    BadRequest {
        /// Machine-readable code.
        code: &'static str,
        /// What is wrong, and where.
        detail: String,
    },
    /// 401: missing or wrong bearer token.
    #[error("missing or invalid API token")]
    Unauthorized,
    /// 403: a request the server will not take from where it came (another site's page).
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such id.
    #[error("{0}")]
    NotFound(String),
    /// 413: the upload is larger than `MAX_FILE_SIZE`.
    #[error("the file is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// 422: a parameter is invalid.
    #[error("{0}")]
    Invalid(String),
    /// 429 with `Retry-After`: the server is at its limit for this kind of request.
    #[error("{detail}")]
    Busy {
        /// What is busy.
        detail: String,
        /// Seconds to wait before trying again.
        retry_after_secs: u64,
    },
    /// 429: too many requests (the AI provider's quota, for `/api/analyze`).
    #[error("{0}")]
    RateLimited(String),
    /// 502: the AI provider failed.
    #[error("{0}")]
    Upstream(String),
    /// 503: not ready (the store does not answer, or no AI provider is configured).
    #[error("{0}")]
    Unavailable(String),
    /// 500: a failure of ours; the detail is logged, not returned.
    #[error("internal error")]
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

#[derive(Serialize, utoipa::ToSchema)]
/// The body of every error response.
pub struct ErrorBody {
    /// What went wrong, for people.
    pub detail: String,
    /// What went wrong, for programs.
    pub code: String,
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "file_too_large"),
            ApiError::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_parameter"),
            ApiError::RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::Busy { .. } => (StatusCode::TOO_MANY_REQUESTS, "busy"),
            ApiError::Upstream(_) => (StatusCode::BAD_GATEWAY, "upstream_error"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "not_ready"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let ApiError::Internal(detail) = &self {
            tracing::error!(error = %detail, "request failed");
        }
        let body = ErrorBody {
            detail: self.to_string(),
            code: code.to_owned(),
        };
        let mut resp = (status, Json(body)).into_response();
        if let ApiError::Busy {
            retry_after_secs, ..
        } = &self
        {
            resp.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(*retry_after_secs),
            );
        }
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                "www-authenticate",
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        resp
    }
}

/// Query-string extractor whose rejections are 422 JSON errors like every other.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(ApiQuery(v)),
            Err(e) => Err(ApiError::Invalid(
                e.body_text()
                    .trim_start_matches("Failed to deserialize query string: ")
                    .to_owned(),
            )),
        }
    }
}

/// The filter of a request's query string (`FilterParams`), in the server's time zone where the
/// request names none; a bad parameter is a 422 that names it.
pub struct ApiFilter(pub powerpulse_shared::Filter);

impl FromRequestParts<super::AppState> for ApiFilter {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &super::AppState,
    ) -> Result<Self, Self::Rejection> {
        let ApiQuery(p) =
            ApiQuery::<powerpulse_shared::FilterParams>::from_request_parts(parts, state).await?;
        p.to_filter(Some(state.config.timezone.name()))
            .map(ApiFilter)
            .map_err(ApiError::Invalid)
    }
}

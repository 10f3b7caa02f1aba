//! `GET /api/conversations` (filtered, sorted, paginated) and `GET /api/conversations/{chat_id}`.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use powerpulse_shared::{ConversationRecord, Filter, FilterParams, MessageRecord};
use serde::{Deserialize, Serialize};

use super::{ApiError, ApiFilter, ApiQuery, AppState};
use crate::store::{ConversationRow, Counting, ListQuery, SortKey, Total};

/// Parameters of the list besides its filter ([`FilterParams`]).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ListParams {
    /// Page, from 1 (default 1).
    pub page: Option<i64>,
    /// Rows per page, 1 to 100 (default 20).
    pub page_size: Option<i64>,
    /// `updated_at` (default), `first_message_time`, `satisfaction_score`, `avg_sentiment`,
    /// `total_messages` or `avg_response_time_minutes`.
    pub sort_by: Option<String>,
    /// `asc` or `desc` (default).
    pub sort_order: Option<String>,
    /// Text search in the messages (case-insensitive).
    pub q: Option<String>,
    /// With `q`: count every match (`total_exact` is then always true). Without it a search
    /// stops counting at `SEARCH_COUNT_CAP` matches (50,000 unless configured).
    pub exact_total: Option<bool>,
}

/// One conversation of the list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConversationItem {
    /// The flat record (same fields as the CSV).
    #[serde(flatten)]
    pub record: ConversationRecord,
    /// Last write, RFC 3339.
    pub updated_at: String,
    /// Why the AI analysis failed (when `analysis_status` is `failed`).
    pub ai_error: Option<String>,
}

impl From<ConversationRow> for ConversationItem {
    fn from(r: ConversationRow) -> Self {
        Self {
            record: r.record,
            updated_at: r.updated_at,
            ai_error: r.ai_error,
        }
    }
}

/// A page of the list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConversationPage {
    /// The rows.
    pub conversations: Vec<ConversationItem>,
    /// Rows matching the filters; a lower bound when `total_exact` is false.
    pub total: u64,
    /// False when a search's count stopped at `SEARCH_COUNT_CAP` matches (ask
    /// `exact_total=true` for the full count).
    pub total_exact: bool,
    /// This page.
    pub page: u64,
    /// Rows per page.
    pub page_size: u64,
    /// Pages in all (0 when nothing matches); a lower bound when `total_exact` is false.
    pub total_pages: u64,
}

/// One conversation with its transcript.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConversationDetail {
    /// The conversation.
    #[serde(flatten)]
    pub conversation: ConversationItem,
    /// Cleaned messages in time order.
    pub messages: Vec<MessageRecord>,
}

/// The last page a client may ask for: with 100 rows a page, 100 million rows, far beyond any
/// store, and small enough that `(page - 1) * page_size` never overflows.
pub const MAX_PAGE: i64 = 1_000_000;

impl ListParams {
    /// The validated list query.
    pub fn to_query(&self, filter: Filter) -> Result<ListQuery, ApiError> {
        let page = self.page.unwrap_or(1);
        if !(1..=MAX_PAGE).contains(&page) {
            return Err(ApiError::Invalid(format!(
                "page must be between 1 and {MAX_PAGE}, got {page}"
            )));
        }
        let page_size = self.page_size.unwrap_or(20);
        if !(1..=100).contains(&page_size) {
            return Err(ApiError::Invalid(format!(
                "page_size must be between 1 and 100, got {page_size}"
            )));
        }
        let sort = match self.sort_by.as_deref() {
            None => SortKey::UpdatedAt,
            Some(s) => SortKey::parse(s).ok_or_else(|| {
                ApiError::Invalid(format!(
                    "sort_by {s:?} is not one of updated_at, first_message_time, satisfaction_score, avg_sentiment, total_messages, avg_response_time_minutes"
                ))
            })?,
        };
        let desc = match self.sort_order.as_deref() {
            None | Some("desc") => true,
            Some("asc") => false,
            Some(o) => {
                return Err(ApiError::Invalid(format!(
                    "sort_order must be asc or desc, got {o:?}"
                )))
            }
        };
        Ok(ListQuery {
            filter,
            q: self.q.clone().filter(|q| !q.trim().is_empty()),
            sort,
            desc,
            page: page as u64,
            page_size: page_size as u64,
        })
    }
}

/// Conversations, filtered, sorted and paginated.
#[utoipa::path(
    get,
    path = "/api/conversations",
    tag = "conversations",
    params(ListParams, FilterParams),
    responses((status = 200, body = ConversationPage), (status = 422, body = super::error::ErrorBody)),
    security((), ("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<ListParams>,
    ApiFilter(filter): ApiFilter,
) -> Result<Response, ApiError> {
    let lq = p.to_query(filter)?;
    let counting = if p.exact_total == Some(true) {
        Counting::Exact
    } else {
        Counting::UpTo(state.config.search_count_cap)
    };
    // Dashboards ask for the same pages again and again; a page only changes with the data.
    let version = state.store.data_version().await?;
    let page_key = format!("page:{lq:?}:{counting:?}");
    if let Some(body) = state.cache.response(&page_key, version) {
        return Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response());
    }
    let page = page(&state, &lq, counting, version).await?;
    let body = Bytes::from(serde_json::to_vec(&page).expect("pages serialize"));
    state.cache.keep(page_key, version, body.clone());
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// One page of the list, read from the store.
async fn page(
    state: &AppState,
    lq: &ListQuery,
    counting: Counting,
    version: i64,
) -> Result<ConversationPage, ApiError> {
    // Counting is the expensive part on a large store; it only changes with the data.
    let key = format!(
        "count:{}:{:?}:{counting:?}",
        serde_json::to_string(&lq.filter).expect("filters serialize"),
        lq.q
    );
    let total = match state
        .cache
        .response(&key, version)
        .and_then(|b| cached_total(&b))
    {
        Some(t) => t,
        None => {
            let t = state
                .store
                .count_conversations(&lq.filter, lq.q.as_deref(), counting)
                .await?;
            let text = format!("{} {}", t.value, t.exact);
            state.cache.keep(key, version, Bytes::from(text));
            t
        }
    };
    let rows = if total.exact && (lq.page - 1) * lq.page_size >= total.value {
        Vec::new()
    } else {
        state.store.list_conversations(lq, total).await?
    };
    Ok(ConversationPage {
        conversations: rows.into_iter().map(ConversationItem::from).collect(),
        total: total.value,
        total_exact: total.exact,
        page: lq.page,
        page_size: lq.page_size,
        total_pages: total.value.div_ceil(lq.page_size),
    })
}

/// A count kept in the response cache as "value exact".
fn cached_total(b: &[u8]) -> Option<Total> {
    let text = std::str::from_utf8(b).ok()?;
    let (value, exact) = text.split_once(' ')?;
    Some(Total {
        value: value.parse().ok()?,
        exact: exact.parse().ok()?,
    })
}

/// One conversation with its cleaned messages (roles, agents, times, sentiment, reply gaps).
#[utoipa::path(
    get,
    path = "/api/conversations/{chat_id}",
    tag = "conversations",
    params(("chat_id" = String, Path, description = "The chat id")),
    responses((status = 200, body = ConversationDetail), (status = 404, body = super::error::ErrorBody)),
    security((), ("bearer" = []))
)]
pub async fn get_one(
    State(state): State<AppState>,
    Path(chat_id): Path<String>,
) -> Result<Json<ConversationDetail>, ApiError> {
    match state.store.get_conversation(&chat_id).await? {
        Some((row, messages)) => Ok(Json(ConversationDetail {
            conversation: row.into(),
            messages,
        })),
        None => Err(ApiError::NotFound(format!(
            "no conversation with chat id {chat_id:?}"
        ))),
    }
}

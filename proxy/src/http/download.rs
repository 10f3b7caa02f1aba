//! `GET /api/download`: CSV exports streamed page by page from the store (a large export never
//! sits whole in memory), byte for byte the CLI's `export`.

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use powerpulse_shared::csv_out::{self, ExportType};
use powerpulse_shared::{Filter, FilterParams};
use serde::Deserialize;

use super::{ApiError, ApiFilter, ApiQuery, AppState};
use crate::store::Store;

/// Rows fetched per page while streaming.
const PAGE: i64 = 2000;

/// Parameters of the download besides its filter ([`FilterParams`]).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DownloadParams {
    /// `conversations` (default), `messages` or `metrics`.
    pub export_type: Option<ExportType>,
}

enum Cursor {
    Conversations(i64),
    Messages((i64, i64)),
    Done,
}

/// Pages of CSV rows after the header, until the store has no more.
fn csv_stream(
    store: Store,
    filter: Filter,
    first: Cursor,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> {
    futures::stream::unfold(
        (store, filter, first),
        |(store, filter, cursor)| async move {
            let page = match cursor {
                Cursor::Done => return None,
                Cursor::Conversations(after) => store
                    .conversation_page(&filter, after, PAGE)
                    .await
                    .map(|rows| {
                        let next = rows
                            .last()
                            .map_or(Cursor::Done, |(ord, _)| Cursor::Conversations(*ord));
                        let bytes = csv_out::encode(
                            rows.iter()
                                .map(|(_, r)| csv_out::conversation_cells(&r.record)),
                        );
                        (
                            bytes,
                            if rows.len() < PAGE as usize {
                                Cursor::Done
                            } else {
                                next
                            },
                        )
                    }),
                Cursor::Messages(after) => {
                    store.message_page(&filter, after, PAGE).await.map(|rows| {
                        let next = rows
                            .last()
                            .map_or(Cursor::Done, |(k, _)| Cursor::Messages(*k));
                        let bytes =
                            csv_out::encode(rows.iter().map(|(_, m)| csv_out::message_cells(m)));
                        (
                            bytes,
                            if rows.len() < PAGE as usize {
                                Cursor::Done
                            } else {
                                next
                            },
                        )
                    })
                }
            };
            match page {
                Ok((bytes, next)) => Some((Ok(Bytes::from(bytes)), (store, filter, next))),
                Err(e) => {
                    // The header is already sent: end the body with an error so the client sees a
                    // broken download rather than a short file that looks complete.
                    tracing::error!(error = %e, "CSV export failed");
                    Some((
                        Err(std::io::Error::other("export failed")),
                        (store, filter, Cursor::Done),
                    ))
                }
            }
        },
    )
}

/// Downloads a CSV export (same filters as the list).
#[utoipa::path(
    get,
    path = "/api/download",
    tag = "download",
    params(DownloadParams, FilterParams),
    responses(
        (status = 200, description = "CSV with a header row; the definitions version in a column", content_type = "text/csv"),
        (status = 422, body = super::error::ErrorBody)
    ),
    security((), ("bearer" = []))
)]
pub async fn download(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<DownloadParams>,
    ApiFilter(filter): ApiFilter,
) -> Result<Response, ApiError> {
    let t = p.export_type.unwrap_or(ExportType::Conversations);
    let header_row = Bytes::from(csv_out::header(t));
    let body = match t {
        ExportType::Metrics => {
            let m = crate::metrics::dataset(&state.store, &filter).await?;
            Body::from(csv_out::metrics_csv(&m))
        }
        ExportType::Conversations | ExportType::Messages => {
            let first = if t == ExportType::Conversations {
                Cursor::Conversations(i64::MIN)
            } else {
                Cursor::Messages((i64::MIN, i64::MIN))
            };
            let head = futures::stream::once(async move { Ok::<_, std::io::Error>(header_row) });
            Body::from_stream(futures::StreamExt::chain(
                head,
                csv_stream(state.store.clone(), filter, first),
            ))
        }
    };
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", t.file_name()),
            ),
        ],
        body,
    )
        .into_response())
}

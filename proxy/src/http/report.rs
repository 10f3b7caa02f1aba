//! `GET /api/report`, `GET /api/evidence`: the shared crate's report over the stored conversations, as JSON or as
//! the self-contained HTML page (`format=html`), the CLI's `powerpulse report` for the same
//! data and parameters.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use powerpulse_shared::evidence::{EvidenceList, EvidenceParams};
use powerpulse_shared::report::{Report, ReportParams};
use powerpulse_shared::report_html::{report_csv, report_html, REPORT_TITLE};
use powerpulse_shared::FilterParams;
use serde::Deserialize;

use super::{ApiError, ApiFilter, ApiQuery, AppState};

/// How the report is given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    /// The report object.
    #[default]
    Json,
    /// One self-contained HTML page (aggregates only), as a download.
    Html,
    /// The figures by period, each row with the schedule and targets, as a download.
    Csv,
}

/// The report's format.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatParams {
    /// `json` (the default), `html` or `csv`.
    pub format: Option<ReportFormat>,
}

/// The report: headline figures, response times in calendar and business time, service
/// levels, the series by period with two periods compared, per agent, Meta's responsiveness.
/// Unset settings come from `BUSINESS_HOURS`, `HOLIDAYS`, `FIRST_RESPONSE_TARGET`,
/// `REPLY_GAP_TARGET`.
#[utoipa::path(
    get,
    path = "/api/report",
    tag = "metrics",
    params(FormatParams, ReportParams, FilterParams),
    responses(
        (status = 200, body = Report, description = "JSON; with format=html one HTML page, with format=csv the figures by period"),
        (status = 422, body = super::error::ErrorBody)
    ),
    security((), ("bearer" = []))
)]
pub async fn report(
    State(state): State<AppState>,
    ApiQuery(format): ApiQuery<FormatParams>,
    ApiQuery(params): ApiQuery<ReportParams>,
    ApiFilter(f): ApiFilter,
) -> Result<Response, ApiError> {
    let params = params.or(&state.config.report_defaults);
    let opts = params.to_options(f.tz).map_err(ApiError::Invalid)?;
    let format = format.format.unwrap_or_default();
    let key = format!(
        "report:{format:?}:{}:{}",
        serde_json::to_string(&f).expect("filters serialize"),
        serde_json::to_string(&params).expect("parameters serialize")
    );
    let compute = async {
        let r = crate::metrics::report_of(&state.store, &f, &opts).await?;
        Ok(match format {
            ReportFormat::Json => serde_json::to_vec(&r).expect("reports serialize"),
            ReportFormat::Html => report_html(&r, REPORT_TITLE).into_bytes(),
            ReportFormat::Csv => report_csv(&r),
        })
    };
    let body = state
        .cache
        .response_or(&state.store, key, || compute)
        .await?;
    Ok(match format {
        ReportFormat::Json => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        ReportFormat::Html => download("text/html; charset=utf-8", "powerpulse_report.html", body),
        ReportFormat::Csv => download("text/csv; charset=utf-8", "powerpulse_report.csv", body),
    })
}

/// A file to save: its type and name in the headers.
fn download(mime: &'static str, file: &'static str, body: axum::body::Bytes) -> Response {
    (
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// The exact conversations (or reply gaps) behind a figure: a day's or a period's bar, the
/// CSAT or FCR misses, a topic, an agent, a histogram bar, the breaches of a target (judged
/// with the report's settings).
#[utoipa::path(
    get,
    path = "/api/evidence",
    tag = "metrics",
    params(EvidenceParams, ReportParams, FilterParams),
    responses((status = 200, body = EvidenceList), (status = 422, body = super::error::ErrorBody)),
    security((), ("bearer" = []))
)]
pub async fn evidence(
    State(state): State<AppState>,
    ApiQuery(what): ApiQuery<EvidenceParams>,
    ApiQuery(params): ApiQuery<ReportParams>,
    ApiFilter(f): ApiFilter,
) -> Result<Response, ApiError> {
    let what = what.to_evidence().map_err(ApiError::Invalid)?;
    let params = params.or(&state.config.report_defaults);
    let opts = params.to_options(f.tz).map_err(ApiError::Invalid)?;
    let list = crate::metrics::evidence_of(&state.store, &f, &what, &opts).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_vec(&list).expect("evidence serializes"),
    )
        .into_response())
}

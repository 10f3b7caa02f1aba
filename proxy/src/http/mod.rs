//! The HTTP interface: the REST API under `/api`, `/health`, the OpenAPI document and `/docs`,
//! and the built web app at `/`.

mod analyze;
mod conversations;
mod download;
pub mod error;
mod health;
mod jobs;
mod metrics;
mod report;
mod reviews;
mod static_files;
mod upload;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use powerpulse_shared::Options;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

use crate::cache::MetricsCache;
use crate::config::Config;
use crate::jobs::Jobs;
use crate::store::Store;
pub use error::{ApiError, ApiFilter, ApiQuery};

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// Settings.
    pub config: Arc<Config>,
    /// Pipeline settings (autoresponse patterns, taxonomy).
    pub options: Arc<Options>,
    /// Metrics snapshot and response cache.
    pub cache: Arc<MetricsCache>,
    /// Background analysis jobs.
    pub jobs: Arc<Jobs>,
    /// The AI analysis service, when a provider is configured.
    pub analysis: Option<Arc<crate::analysis::Analysis>>,
    /// Uploads being read and ingested at once (`MAX_CONCURRENT_UPLOADS`): each holds its
    /// whole file in memory, so more wait their turn with a 429 instead of exhausting it.
    pub uploads: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    /// The AI analyzer's label, when a provider is configured.
    pub fn ai_analyzer(&self) -> Option<String> {
        self.analysis.as_ref().map(|a| a.label())
    }

    /// The analyzer new analyses come from: the AI's label, or the built-in analyzer's.
    pub fn analyzer(&self) -> String {
        self.ai_analyzer()
            .unwrap_or_else(|| powerpulse_shared::BUILTIN.to_owned())
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "PowerPulse API",
        description = "Support metrics from Facebook Messenger exports. Metric definitions v1: see docs/definitions.md.",
        version = "1"
    ),
    components(schemas(error::ErrorBody)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API routes and their OpenAPI document, generated from the handlers' annotations.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(utoipa_axum::routes!(upload::upload_json))
        .routes(utoipa_axum::routes!(metrics::metrics))
        .routes(utoipa_axum::routes!(metrics::daily))
        .routes(utoipa_axum::routes!(metrics::agents))
        .routes(utoipa_axum::routes!(report::report))
        .routes(utoipa_axum::routes!(report::evidence))
        .routes(utoipa_axum::routes!(conversations::list))
        .routes(utoipa_axum::routes!(conversations::get_one))
        .routes(utoipa_axum::routes!(
            reviews::put_review,
            reviews::delete_review
        ))
        .routes(utoipa_axum::routes!(
            reviews::list_reviews,
            reviews::import_reviews
        ))
        .routes(utoipa_axum::routes!(reviews::evaluation))
        .routes(utoipa_axum::routes!(download::download))
        .routes(utoipa_axum::routes!(jobs::get_job, jobs::cancel_job))
        .routes(utoipa_axum::routes!(jobs::progress))
        .routes(utoipa_axum::routes!(analyze::analyze))
        .routes(utoipa_axum::routes!(health::health))
        .split_for_parts()
}

async fn no_such_endpoint(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!(
        "no such endpoint: {} (the API is documented at /docs)",
        uri.path()
    ))
}

/// The whole application: API, health, docs and the web app, with auth, CORS, compression and
/// request logging.
pub fn app(state: AppState) -> Router {
    let (api, doc) = api();
    let api = api
        // An unknown or retired endpoint is a JSON 404, never the app's index.html.
        .route("/api", axum::routing::any(no_such_endpoint))
        .route("/api/{*rest}", axum::routing::any(no_such_endpoint))
        .merge(Router::from(
            SwaggerUi::new("/docs").url("/api/openapi.json", doc),
        ))
        .layer(middleware::from_fn_with_state(state.clone(), require_token))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            same_site_only,
        ));
    let cors = if state.config.cors_origins.is_empty() {
        CorsLayer::new()
    } else {
        // `*` allows any origin (tower-http refuses it inside a list); the API's token is a
        // header, never a cookie, so a page elsewhere still cannot call it without the token.
        let allow = if state.config.cors_origins.iter().any(|o| o == "*") {
            AllowOrigin::any()
        } else {
            AllowOrigin::list(
                state
                    .config
                    .cors_origins
                    .iter()
                    .filter_map(|o| HeaderValue::from_str(o).ok()),
            )
        };
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .max_age(Duration::from_secs(3600))
    };
    // The app's inline loader is allowed by its hash, read once at start-up.
    let index = std::fs::read_to_string(state.config.app_dir.join("index.html")).ok();
    let csp = HeaderValue::from_str(&static_files::content_security_policy(index.as_deref()))
        .expect("the policy is ASCII");
    Router::new()
        .merge(api)
        .fallback_service(static_files::service(&state.config.app_dir))
        .layer(cors)
        // Uploads may be as large as MAX_FILE_SIZE plus the multipart framing; the upload
        // handler enforces the exact limit while reading.
        .layer(axum::extract::DefaultBodyLimit::max(state.config.max_file_size.saturating_add(1 << 20)))
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn(move |req, next| {
            security_headers(csp.clone(), req, next)
        }))
        .layer(
            TraceLayer::new_for_http()
                // The path only: query strings can hold search text, and bodies customers' words.
                .make_span_with(|req: &Request| {
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
                })
                .on_request(())
                .on_response(|res: &Response, latency: Duration, _span: &tracing::Span| {
                    tracing::info!(status = res.status().as_u16(), latency_ms = latency.as_secs_f64() * 1000.0, "response");
                }),
        )
        .with_state(state)
}

/// Headers on every response: no MIME sniffing, no referrer, no framing, and the content
/// security policy of [`static_files::content_security_policy`].
const SECURITY_HEADERS: [(header::HeaderName, &str); 3] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_FRAME_OPTIONS, "DENY"),
];

async fn security_headers(csp: HeaderValue, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    for (name, value) in SECURITY_HEADERS {
        res.headers_mut()
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    res.headers_mut()
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(csp);
    res
}

/// Without `API_TOKEN` the API trusts whoever reaches it, so it makes sure that is this
/// machine's own browser or scripts: the `Host` must be a loopback name or the bound address
/// (a page on the internet whose name resolves to 127.0.0.1, DNS rebinding, is refused), and a
/// state-changing request that names an `Origin` must come from this server's own origin or a
/// configured CORS origin (another site's page cannot post uploads or start AI jobs).
async fn same_site_only(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let config = &state.config;
    if config.api_token.is_some() || !req.uri().path().starts_with("/api") {
        return Ok(next.run(req).await);
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    // ALLOW_UNAUTHENTICATED says the network is trusted, names included.
    if !config.allow_unauthenticated && !host_is_ours(&host, config.addr.ip()) {
        return Err(ApiError::Forbidden(format!(
            "Host {host:?} is not this server's address; without API_TOKEN only local names are served (set API_TOKEN to serve others)"
        )));
    }
    let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
    {
        let same = origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest.trim_end_matches('/') == host);
        let allowed = config.cors_origins.iter().any(|o| o == "*" || o == origin);
        if changes_state && !same && !allowed {
            return Err(ApiError::Forbidden(format!(
                "requests from {origin} may not change data here; without API_TOKEN only this server's own pages may (or list the origin in CORS_ORIGINS)"
            )));
        }
    }
    Ok(next.run(req).await)
}

/// Whether a `Host` header names this server: a loopback name or address, or the bound IP.
fn host_is_ours(host: &str, bound: std::net::IpAddr) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    if name.eq_ignore_ascii_case("localhost") || name.to_ascii_lowercase().ends_with(".localhost") {
        return true;
    }
    name.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback() || ip == bound || bound.is_unspecified())
}

/// With `API_TOKEN` set, every `/api` route needs `Authorization: Bearer <token>`.
async fn require_token(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let Some(token) = &state.config.api_token else {
        return Ok(next.run(req).await);
    };
    if !req.uri().path().starts_with("/api") {
        return Ok(next.run(req).await);
    }
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if constant_time_eq(given.as_bytes(), token.expose().as_bytes()) {
        Ok(next.run(req).await)
    } else {
        Err(ApiError::Unauthorized)
    }
}

/// Compares without an early exit, so timing does not reveal how much of a token was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        diff |= usize::from(a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0));
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_of_this_server() {
        let lo: std::net::IpAddr = "127.0.0.1".parse().unwrap();
        for ok in [
            "127.0.0.1:8000",
            "localhost:8000",
            "localhost",
            "[::1]:8000",
            "127.0.0.2",
            "app.localhost:80",
        ] {
            assert!(host_is_ours(ok, lo), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8000",
            "",
            "10.0.0.5:8000",
            "localhost.evil.example",
        ] {
            assert!(!host_is_ours(bad, lo), "{bad}");
        }
        let lan: std::net::IpAddr = "192.168.1.20".parse().unwrap();
        assert!(host_is_ours("192.168.1.20:8000", lan));
    }

    #[test]
    fn token_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}

//! The built web app: hashed assets cached for a year, `index.html` and the service worker
//! revalidated on every load, and `index.html` for any other path (client-side routes).

use std::path::Path;

use axum::http::{header, HeaderValue, Request};
use axum::response::Response;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

/// Whether a file name carries Trunk's content hash (`name-<hex>.ext`).
fn is_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = name.split('.').next().unwrap_or(name);
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    // Trunk prints a 64-bit hash in hex without leading zeros: up to 16 digits.
    stem.rsplit_once('-').is_some_and(|(_, h)| {
        (12..=16).contains(&h.len()) && h.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// The service serving `dir` (Trunk's `dist/`).
pub fn service(dir: &Path) -> axum::routing::MethodRouter {
    let index = dir.join("index.html");
    let serve = ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(ServeFile::new(index));
    axum::routing::get(move |req: Request<axum::body::Body>| {
        let path = req.uri().path().to_owned();
        let serve = serve.clone();
        async move {
            let mut res: Response = match serve.oneshot(req).await {
                Ok(r) => r.map(axum::body::Body::new),
                Err(never) => match never {},
            };
            let cache = if is_hashed(&path) {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            };
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
            if path.ends_with(".wasm") {
                res.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/wasm"),
                );
            }
            res
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names() {
        assert!(is_hashed("/powerpulse-app-22859af5eddc33e3_bg.wasm"));
        assert!(is_hashed("/main-754167a6fa793979.css"));
        assert!(is_hashed("/powerpulse-app-4cfae44aa020212_bg.wasm"));
        assert!(!is_hashed("/index.html"));
        assert!(!is_hashed("/sw.js"));
        assert!(!is_hashed("/powerpulse-app.js"));
    }
}

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

/// What every page may run: this server's scripts, WebAssembly compiled from them, and the
/// inline scripts of `index.html` (Trunk's loader) by the hash of their text, so an injected
/// script runs nowhere. The rest forbids framing (clickjacking), `<base>` changes, plugins and
/// form posts elsewhere.
pub fn content_security_policy(index_html: Option<&str>) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let mut scripts = String::from("'self' 'wasm-unsafe-eval'");
    let mut rest = index_html.unwrap_or_default();
    while let Some(open) = rest.find("<script") {
        let after = &rest[open..];
        let (Some(tag_end), Some(close)) = (after.find('>'), after.find("</script>")) else {
            break;
        };
        let tag = &after[..tag_end];
        if !tag.contains("src=") && tag_end < close {
            let body = &after[tag_end + 1..close];
            let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(body));
            scripts.push_str(&format!(" 'sha256-{hash}'"));
        }
        rest = &after[close + "</script>".len()..];
    }
    format!(
        "script-src {scripts}; frame-ancestors 'none'; base-uri 'self'; object-src 'none'; form-action 'self'"
    )
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
    fn the_policy_allows_exactly_the_inline_scripts_of_the_page() {
        let html = r#"<head><script type="module">import init from '/app.js';
init();</script><script src="/x.js"></script></head>"#;
        let policy = content_security_policy(Some(html));
        // printf "import init from '/app.js';\ninit();" | openssl sha256 -binary | base64
        assert!(
            policy.starts_with(
                "script-src 'self' 'wasm-unsafe-eval' 'sha256-t0PzGpZeYwj8gYFmlN4A2SDAXNUmuMOwl570PxDZz/I=';"
            ),
            "{policy}"
        );
        assert_eq!(
            policy.matches("'sha256-").count(),
            1,
            "the script with src= has no hash"
        );
        assert!(content_security_policy(None).starts_with("script-src 'self' 'wasm-unsafe-eval';"));
        assert!(policy.contains("frame-ancestors 'none'"));
    }

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

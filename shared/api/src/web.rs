//! The web chat (shipped inside the binary, no CDN) and, locally, deployed previews.

use std::path::{Component, Path, PathBuf};

use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use gantry_domain::MissionId;

use crate::error::ApiError;
use crate::state::AppState;

/// The chat page's policy: no inline scripts, nothing from elsewhere but the upload origin.
pub const PAGE_CSP: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
     connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// `PAGE_CSP`, letting the page also connect to `upload_origin` (where presigned PUTs go). An
/// origin with anything but scheme, host and port characters is left out, never spliced in.
pub fn page_csp(upload_origin: Option<&str>) -> String {
    let plain = |origin: &str| {
        (origin.starts_with("https://") || origin.starts_with("http://"))
            && origin.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'/' | b'-'))
    };
    match upload_origin {
        Some(origin) if plain(origin) => {
            PAGE_CSP.replace("connect-src 'self';", &format!("connect-src 'self' {origin};"))
        }
        _ => PAGE_CSP.to_owned(),
    }
}

/// Previews are generated code served from this origin: the sandbox gives them an opaque
/// origin, so their scripts cannot call the API with the owner's cookie (an opaque origin's
/// fetches carry no credentials, and API responses carry no CORS headers).
pub const PREVIEW_CSP: &str = "sandbox allow-scripts allow-forms allow-modals allow-popups allow-downloads; \
     default-src 'self' data: blob:; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; \
     connect-src 'self'; frame-ancestors 'self'";

struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: &[Asset] = &[
    Asset {
        path: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../web/app.js"),
    },
    Asset { path: "app.css", content_type: "text/css; charset=utf-8", body: include_str!("../web/app.css") },
];

const INDEX: &str = include_str!("../web/index.html");

fn with_headers(body: impl Into<Body>, content_type: &str, csp: &str) -> Response {
    let mut response = Response::new(body.into());
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(content_type) {
        headers.insert(CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(csp) {
        headers.insert(CONTENT_SECURITY_POLICY, v);
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

pub async fn index(State(state): State<AppState>) -> Response {
    with_headers(INDEX, "text/html; charset=utf-8", &page_csp(state.config.upload_origin.as_deref()))
}

pub async fn asset(State(state): State<AppState>, UrlPath(path): UrlPath<String>) -> Response {
    match ASSETS.iter().find(|a| a.path == path) {
        Some(asset) => {
            with_headers(asset.body, asset.content_type, &page_csp(state.config.upload_origin.as_deref()))
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn content_type_for(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or_default() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Resolves a preview path inside its mission's directory; nothing can escape it.
fn preview_file(root: &Path, id: &MissionId, rest: &str) -> Option<PathBuf> {
    let mut path = root.join(id.as_str());
    for component in Path::new(rest).components() {
        match component {
            Component::Normal(part) => path.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if rest.is_empty() || rest.ends_with('/') || path.is_dir() {
        path.push("index.html");
    }
    Some(path)
}

async fn serve_preview(state: &AppState, raw_id: &str, rest: &str) -> Result<Response, ApiError> {
    let root = state.config.preview_root.as_ref().ok_or(ApiError::NotFound)?;
    let id: MissionId = raw_id.parse().map_err(|_| ApiError::NotFound)?;
    let path = preview_file(root, &id, rest).ok_or(ApiError::NotFound)?;
    let bytes = tokio::fs::read(&path).await.map_err(|_| ApiError::NotFound)?;
    let mut response = with_headers(bytes, content_type_for(&path), PREVIEW_CSP);
    // The sandboxed page's own fetches (e.g. `data.json`) come from an opaque origin, so they
    // are cross-origin: preview files are public, so any origin may read them (no credentials).
    response
        .headers_mut()
        .insert(axum::http::header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    Ok(response)
}

pub async fn preview_root(State(state): State<AppState>, UrlPath(id): UrlPath<String>) -> Response {
    // `/preview/{id}` without the slash: relative asset links need the directory form.
    if state.config.preview_root.is_some() && id.parse::<MissionId>().is_ok() {
        return axum::response::Redirect::permanent(&format!("/preview/{id}/")).into_response();
    }
    ApiError::NotFound.into_response()
}

pub async fn preview(
    State(state): State<AppState>,
    UrlPath((id, rest)): UrlPath<(String, String)>,
) -> Response {
    serve_preview(&state, &id, &rest).await.unwrap_or_else(IntoResponse::into_response)
}

pub async fn preview_index(State(state): State<AppState>, UrlPath(id): UrlPath<String>) -> Response {
    serve_preview(&state, &id, "").await.unwrap_or_else(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    use super::page_csp;

    #[test]
    fn the_upload_origin_joins_connect_src_only_when_it_is_a_plain_origin() {
        assert!(page_csp(None).contains("connect-src 'self';"));
        let aws = page_csp(Some("https://artifacts.s3.eu-west-1.amazonaws.com"));
        assert!(aws.contains("connect-src 'self' https://artifacts.s3.eu-west-1.amazonaws.com;"), "{aws}");
        assert!(!aws.contains("unsafe-inline"));
        for hostile in ["https://x.com; script-src *", "javascript:alert(1)", "https://a b", "*"] {
            assert!(page_csp(Some(hostile)).contains("connect-src 'self';"), "{hostile}");
        }
    }
}

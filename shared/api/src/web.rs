//! The web chat (shipped inside the binary, no CDN), and the old preview address redirecting to
//! the preview's own origin (see `preview`).

use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use gantry_domain::MissionId;

use crate::error::ApiError;
use crate::preview::is_plain_origin;
use crate::state::AppState;

/// The chat page's policy: no inline scripts, nothing from elsewhere but the upload origin.
pub const PAGE_CSP: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
     connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// `PAGE_CSP`, letting the page also connect to `upload_origin` (where presigned PUTs go). An
/// origin with anything but scheme, host and port characters is left out, never spliced in.
pub fn page_csp(upload_origin: Option<&str>) -> String {
    match upload_origin {
        Some(origin) if is_plain_origin(origin) => {
            PAGE_CSP.replace("connect-src 'self';", &format!("connect-src 'self' {origin};"))
        }
        _ => PAGE_CSP.to_owned(),
    }
}

/// The page's policy in this installation: `page_csp`, plus the preview origins it may frame.
fn page_policy(state: &AppState) -> String {
    let csp = page_csp(state.config.upload_origin.as_deref());
    match &state.config.preview {
        Some(origins) => format!("{csp}; frame-src {}", origins.frame_source()),
        None => csp,
    }
}

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
    with_headers(INDEX, "text/html; charset=utf-8", &page_policy(&state))
}

pub async fn asset(State(state): State<AppState>, UrlPath(path): UrlPath<String>) -> Response {
    match ASSETS.iter().find(|a| a.path == path) {
        Some(asset) => with_headers(asset.body, asset.content_type, &page_policy(&state)),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `/preview/{id}/…` on Gantry's origin, the address of earlier versions: a redirect to the same
/// path on the preview's own origin.
fn to_own_origin(state: &AppState, raw_id: &str, rest: &str) -> Response {
    let (Some(origins), Ok(id)) = (&state.config.preview, raw_id.parse::<MissionId>()) else {
        return ApiError::NotFound.into_response();
    };
    let mut target = origins.url(&id);
    target.push_str(rest.trim_start_matches('/'));
    axum::response::Redirect::temporary(&target).into_response()
}

pub async fn preview_root(State(state): State<AppState>, UrlPath(id): UrlPath<String>) -> Response {
    to_own_origin(&state, &id, "")
}

pub async fn preview(
    State(state): State<AppState>,
    UrlPath((id, rest)): UrlPath<(String, String)>,
) -> Response {
    to_own_origin(&state, &id, &rest)
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

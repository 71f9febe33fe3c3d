//! Local previews on origins of their own: `http://{mission_id}.localhost:8080/` by default.
//!
//! A preview is generated code. On its own origin it has working storage (localStorage,
//! IndexedDB) of its own, yet it is another site than Gantry: the session cookie is host-only and
//! SameSite=Strict, so it is never sent from there, and on a preview host every path, `/gantry/*`
//! included, is only a file of that preview.

use std::path::{Component, Path, PathBuf};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{
    ACCEPT, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, HOST, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use gantry_domain::MissionId;

use crate::state::AppState;

/// Where previews are served: a URL template with `{id}` as the first label of its host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewOrigins {
    scheme: &'static str,
    /// The host after `{id}`, with its leading dot, lowercase: `.localhost`.
    suffix: String,
    port: Option<u16>,
    /// Origins allowed to show a preview in a frame (the Gantry page's own origins).
    embedders: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a preview URL template looks like http://{{id}}.localhost:8080 or https://{{id}}.preview.example.com: {0}")]
pub struct TemplateError(&'static str);

/// `http://host[:port]` with nothing but scheme, host and port characters: safe inside a CSP.
pub(crate) fn is_plain_origin(origin: &str) -> bool {
    let rest = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
    rest.is_some_and(|rest| {
        !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b':' | b'-'))
    })
}

impl PreviewOrigins {
    /// Parses a template such as `http://{id}.localhost:8080` (a trailing `/` is allowed).
    pub fn parse(template: &str) -> Result<Self, TemplateError> {
        let template = template.trim().trim_end_matches('/');
        let (scheme, rest) = if let Some(rest) = template.strip_prefix("http://") {
            ("http", rest)
        } else if let Some(rest) = template.strip_prefix("https://") {
            ("https", rest)
        } else {
            return Err(TemplateError("the scheme must be http or https"));
        };
        let rest = rest.strip_prefix("{id}.").ok_or(TemplateError("the host must start with {id}."))?;
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) => {
                (host, Some(port.parse::<u16>().map_err(|_| TemplateError("the port is not a number"))?))
            }
            None => (rest, None),
        };
        let valid_host = !host.is_empty()
            && !host.starts_with('.')
            && !host.ends_with('.')
            && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'));
        if !valid_host {
            return Err(TemplateError("the host after {id}. must be a plain domain name"));
        }
        Ok(Self { scheme, suffix: format!(".{}", host.to_ascii_lowercase()), port, embedders: Vec::new() })
    }

    /// The default for a server listening on `port`: `http://{id}.localhost:{port}`.
    pub fn localhost(port: u16) -> Self {
        Self { scheme: "http", suffix: ".localhost".into(), port: Some(port), embedders: Vec::new() }
    }

    /// Lets the page at these origins frame previews; anything but a plain origin is ignored.
    pub fn with_embedders<I: IntoIterator<Item = String>>(mut self, origins: I) -> Self {
        self.embedders.extend(origins.into_iter().filter(|o| is_plain_origin(o)));
        self.embedders.dedup();
        self
    }

    fn port_suffix(&self) -> String {
        self.port.map(|p| format!(":{p}")).unwrap_or_default()
    }

    /// The preview's origin: `http://{id}.localhost:8080`.
    pub fn origin(&self, id: &MissionId) -> String {
        format!("{}://{id}{}{}", self.scheme, self.suffix, self.port_suffix())
    }

    /// The preview's address, with the trailing slash relative links need.
    pub fn url(&self, id: &MissionId) -> String {
        format!("{}/", self.origin(id))
    }

    /// Every preview origin as one CSP source: `http://*.localhost:8080`.
    pub fn frame_source(&self) -> String {
        format!("{}://*{}{}", self.scheme, self.suffix, self.port_suffix())
    }

    /// The mission a request's `Host` names, if it is a preview host. The port is not compared:
    /// a proxy in front may present another one.
    pub fn mission(&self, host: &str) -> Option<MissionId> {
        let host = host.trim().to_ascii_lowercase();
        let name = match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host.as_str(),
        };
        name.trim_end_matches('.').strip_suffix(&self.suffix)?.parse().ok()
    }

    /// The preview's policy: its own origin for everything, inline styles allowed (generated apps
    /// use them), framed only by the Gantry page. No `sandbox`: the app needs its own storage.
    pub fn csp(&self) -> String {
        let ancestors =
            if self.embedders.is_empty() { "'self'".to_owned() } else { self.embedders.join(" ") };
        format!(
            "default-src 'self' data: blob:; script-src 'self'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data: blob:; connect-src 'self'; form-action 'self'; base-uri 'self'; \
             frame-ancestors {ancestors}"
        )
    }
}

pub(crate) fn content_type_for(path: &Path) -> &'static str {
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

/// Resolves a URL path inside a mission's preview directory; nothing can escape it.
pub(crate) fn preview_file(root: &Path, id: &MissionId, url_path: &str) -> Option<PathBuf> {
    let mut path = root.join(id.as_str());
    for component in Path::new(url_path.trim_start_matches('/')).components() {
        match component {
            Component::Normal(part) => path.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if url_path.is_empty() || url_path.ends_with('/') || path.is_dir() {
        path.push("index.html");
    }
    Some(path)
}

/// A single-page app routes in the browser: a page load (`Accept` names `text/html`) of a
/// missing path whose last segment names no file (no extension) gets the app's `index.html`.
/// A script's `fetch` of a missing path, or a missing asset, stays a 404.
fn spa_fallback(root: &Path, id: &MissionId, url_path: &str, wants_page: bool) -> Option<PathBuf> {
    let last = url_path.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
    if !wants_page || last.contains('.') {
        return None;
    }
    preview_file(root, id, "/")
}

fn not_found(csp: &str) -> Response {
    let mut response = (StatusCode::NOT_FOUND, "Not found").into_response();
    if let Ok(v) = HeaderValue::from_str(csp) {
        response.headers_mut().insert(CONTENT_SECURITY_POLICY, v);
    }
    response
}

/// Percent-decodes a URL path; `None` when it is not valid UTF-8 after decoding.
fn decode_path(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

async fn serve(
    origins: &PreviewOrigins,
    root: Option<&Path>,
    id: &MissionId,
    method: &Method,
    url_path: &str,
    wants_page: bool,
) -> Response {
    let csp = origins.csp();
    if !matches!(*method, Method::GET | Method::HEAD) {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let Some(root) = root else { return not_found(&csp) };
    let Some(path) = decode_path(url_path).and_then(|p| preview_file(root, id, &p)) else {
        return not_found(&csp);
    };
    let (path, bytes) = match tokio::fs::read(&path).await {
        Ok(bytes) => (path, bytes),
        Err(_) => match spa_fallback(root, id, url_path, wants_page) {
            Some(index) => match tokio::fs::read(&index).await {
                Ok(bytes) => (index, bytes),
                Err(_) => return not_found(&csp),
            },
            None => return not_found(&csp),
        },
    };
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type_for(&path)));
    if let Ok(v) = HeaderValue::from_str(&csp) {
        headers.insert(CONTENT_SECURITY_POLICY, v);
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// Runs before any route: a request for a preview host gets that preview's files and nothing
/// else; every other request goes on to the Gantry router.
pub(crate) async fn by_host(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(origins) = state.config.preview.as_ref() else { return next.run(request).await };
    let host = request
        .headers()
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| request.uri().host())
        .and_then(|h| origins.mission(h));
    match host {
        Some(id) => {
            let (method, path) = (request.method().clone(), request.uri().path().to_owned());
            let wants_page = request
                .headers()
                .get(ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|accept| accept.contains("text/html"));
            drop(request);
            serve(origins, state.config.preview_root.as_deref(), &id, &method, &path, wants_page).await
        }
        None => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_name_the_preview_origin_and_match_its_hosts() {
        let id = MissionId::generate();
        let local = PreviewOrigins::parse("http://{id}.localhost:8080/").unwrap();
        assert_eq!(local, PreviewOrigins::localhost(8080));
        assert_eq!(local.url(&id), format!("http://{id}.localhost:8080/"));
        assert_eq!(local.frame_source(), "http://*.localhost:8080");
        assert_eq!(local.mission(&format!("{id}.localhost:8080")), Some(id.clone()));
        assert_eq!(local.mission(&format!("{}.LOCALHOST", id.as_str().to_uppercase())), Some(id.clone()));
        for other in ["localhost:8080", "127.0.0.1:8080", "x.localhost:8080", &format!("{id}.evil.test")] {
            assert_eq!(local.mission(other), None, "{other}");
        }

        let public = PreviewOrigins::parse("https://{id}.preview.example.com").unwrap();
        assert_eq!(public.url(&id), format!("https://{id}.preview.example.com/"));
        assert_eq!(public.mission(&format!("{id}.preview.example.com")), Some(id.clone()));
        assert_eq!(public.mission(&format!("{id}.example.com")), None);
    }

    #[test]
    fn malformed_templates_are_refused() {
        for bad in [
            "ftp://{id}.localhost",
            "http://localhost/{id}",
            "http://{id}.localhost:port",
            "http://{id}.",
            "http://{id}.a b",
            "http://{id}.x; script-src *",
        ] {
            assert!(PreviewOrigins::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_preview_policy_grants_storage_but_no_one_else_may_frame_it() {
        let origins = PreviewOrigins::localhost(8080)
            .with_embedders(["http://127.0.0.1:8080".to_owned(), "http://x; script-src *".to_owned()]);
        let csp = origins.csp();
        assert!(!csp.contains("sandbox"), "{csp}");
        assert!(csp.contains("connect-src 'self';"), "{csp}");
        assert!(csp.ends_with("frame-ancestors http://127.0.0.1:8080"), "{csp}");
    }

    #[test]
    fn preview_paths_stay_inside_the_mission_directory() {
        let id = MissionId::generate();
        let root = Path::new("/p");
        assert_eq!(preview_file(root, &id, "/").unwrap(), root.join(id.as_str()).join("index.html"));
        assert_eq!(preview_file(root, &id, "/js/app.js").unwrap(), root.join(id.as_str()).join("js/app.js"));
        assert_eq!(preview_file(root, &id, "/../other/index.html"), None);
        assert_eq!(decode_path("/a%20b.txt").as_deref(), Some("/a b.txt"));
        assert_eq!(decode_path("/%2e%2e/x").and_then(|p| preview_file(root, &id, &p)), None);
    }
}

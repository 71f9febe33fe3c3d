//! A fake Vercel API: `POST /v2/files`, `POST /v13/deployments`, `GET /v13/deployments/{id}`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use sha1::{Digest, Sha1};

use super::{now_secs, record, serve, Log, Recorded};

/// How the fake's deployments end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ready,
    /// `ERROR` with this `errorCode` and `errorMessage`.
    Error(String, String),
    Canceled,
}

#[derive(Debug, Clone)]
pub struct FakeDeployment {
    pub id: String,
    pub name: String,
    pub url: String,
    pub target: Option<String>,
    pub files: Vec<(String, String)>,
    pub ready_state: String,
    polls: u32,
}

struct Inner {
    token: String,
    team_id: Option<String>,
    files: HashMap<String, Vec<u8>>,
    deployments: HashMap<String, FakeDeployment>,
    /// How many reads a deployment stays BUILDING before it ends.
    polls_before_end: u32,
    outcome: Outcome,
    /// The next this many requests are answered 429.
    rate_limited: u32,
}

#[derive(Clone)]
pub struct FakeVercel {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    log: Log,
}

type Shared = (Arc<Mutex<Inner>>, Log);

impl FakeVercel {
    /// A fake accepting `token`; with `team_id`, every request must name that team.
    pub async fn start(token: &str, team_id: Option<&str>) -> std::io::Result<Self> {
        let inner = Arc::new(Mutex::new(Inner {
            token: token.to_owned(),
            team_id: team_id.map(str::to_owned),
            files: HashMap::new(),
            deployments: HashMap::new(),
            polls_before_end: 2,
            outcome: Outcome::Ready,
            rate_limited: 0,
        }));
        let log: Log = Arc::default();
        let shared: Shared = (inner.clone(), log.clone());
        let router = Router::new()
            .route("/v2/files", post(upload))
            .route("/v13/deployments", post(create))
            .route("/v13/deployments/{id}", get(read))
            .with_state(shared)
            .layer(axum::middleware::from_fn_with_state(log.clone(), record));
        let addr = serve(router).await?;
        Ok(Self { url: format!("http://{addr}"), inner, log })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Files Vercel already holds (as if uploaded by an earlier deployment).
    pub fn preload(&self, bytes: &[u8]) {
        self.lock().files.insert(hex::encode(Sha1::digest(bytes)), bytes.to_vec());
    }

    pub fn stored(&self, sha: &str) -> Option<Vec<u8>> {
        self.lock().files.get(sha).cloned()
    }

    pub fn set_outcome(&self, outcome: Outcome) {
        self.lock().outcome = outcome;
    }

    pub fn set_polls_before_end(&self, polls: u32) {
        self.lock().polls_before_end = polls;
    }

    pub fn rate_limit_next(&self, requests: u32) {
        self.lock().rate_limited = requests;
    }

    pub fn deployments(&self) -> Vec<FakeDeployment> {
        self.lock().deployments.values().cloned().collect()
    }
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"error": {"code": code, "message": message}}))).into_response()
}

/// Auth, team and rate limit, as every endpoint checks them.
fn admit(inner: &mut Inner, headers: &HeaderMap, query: Option<&str>) -> Result<(), Response> {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if auth.is_empty() {
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "missing_token",
            "The request is missing an authentication token",
        ));
    }
    if auth != format!("Bearer {}", inner.token) {
        return Err(error(StatusCode::FORBIDDEN, "forbidden", "Not authorized"));
    }
    if let Some(team) = &inner.team_id {
        let named = query.unwrap_or_default().split('&').any(|p| p == format!("teamId={team}"));
        if !named {
            return Err(error(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Not authorized: this token is scoped to a team",
            ));
        }
    }
    if inner.rate_limited > 0 {
        inner.rate_limited -= 1;
        let reset = now_secs() + 1;
        let body = json!({"error": {
            "code": "rate_limited",
            "message": "Rate limit exceeded",
            "limit": {"remaining": 0, "reset": reset, "resetMs": reset * 1000, "total": 100},
        }});
        let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
        let h = response.headers_mut();
        h.insert("x-ratelimit-limit", 100.into());
        h.insert("x-ratelimit-remaining", 0.into());
        h.insert("x-ratelimit-reset", reset.into());
        return Err(response);
    }
    Ok(())
}

fn is_sha1(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

async fn upload(
    State((inner, _)): State<Shared>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = inner.lock().unwrap_or_else(|e| e.into_inner());
    if let Err(r) = admit(&mut inner, &headers, query.as_deref()) {
        return r;
    }
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let Some(digest) = header("x-vercel-digest").or_else(|| header("x-now-digest")) else {
        return error(StatusCode::BAD_REQUEST, "missing_digest", "Missing `x-vercel-digest` header");
    };
    if !is_sha1(&digest) {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_digest",
            "`x-vercel-digest` must be a SHA1 hex digest",
        );
    }
    match header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        Some(length) if length == body.len() => {}
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_content_length",
                "Missing or wrong `Content-Length`",
            )
        }
    }
    if hex::encode(Sha1::digest(&body)) != digest {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_file_digest",
            "The file's SHA1 does not match `x-vercel-digest`",
        );
    }
    inner.files.insert(digest, body.to_vec());
    (StatusCode::OK, Json(json!({}))).into_response()
}

fn deployment_json(d: &FakeDeployment, outcome: &Outcome) -> Value {
    let mut body = json!({
        "id": d.id,
        "name": d.name,
        "url": d.url,
        "readyState": d.ready_state,
        "status": d.ready_state,
        "target": d.target,
        "alias": [],
        "createdAt": now_secs() * 1000,
    });
    if let (Outcome::Error(code, message), "ERROR") = (outcome, d.ready_state.as_str()) {
        body["errorCode"] = json!(code);
        body["errorMessage"] = json!(message);
    }
    body
}

async fn create(
    State((inner, _)): State<Shared>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = inner.lock().unwrap_or_else(|e| e.into_inner());
    if let Err(r) = admit(&mut inner, &headers, query.as_deref()) {
        return r;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "bad_request", "Invalid JSON body");
    };
    let name = body.get("name").and_then(Value::as_str).unwrap_or_default();
    if name.is_empty()
        || name.len() > 100
        || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "Invalid request: `name` must be a valid project name",
        );
    }
    if !body.get("projectSettings").is_some_and(Value::is_object) {
        return error(
            StatusCode::BAD_REQUEST,
            "missing_project_settings",
            "The `projectSettings` object is required for a new project",
        );
    }
    let Some(files) = body.get("files").and_then(Value::as_array).filter(|f| !f.is_empty()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "Invalid request: `files` must be a non-empty array",
        );
    };
    let mut listed = Vec::new();
    let mut missing = Vec::new();
    for f in files {
        let (Some(file), Some(sha), Some(size)) = (
            f.get("file").and_then(Value::as_str),
            f.get("sha").and_then(Value::as_str),
            f.get("size").and_then(Value::as_u64),
        ) else {
            return error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "Invalid request: each file needs `file`, `sha` and `size`",
            );
        };
        if file.starts_with('/') || file.split('/').any(|p| p == ".." || p.is_empty()) || !is_sha1(sha) {
            return error(StatusCode::BAD_REQUEST, "bad_request", "Invalid request: bad file entry");
        }
        match inner.files.get(sha) {
            Some(bytes) if bytes.len() as u64 != size => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    "Invalid request: `size` does not match the uploaded file",
                )
            }
            Some(_) => {}
            None => missing.push(sha.to_owned()),
        }
        listed.push((file.to_owned(), sha.to_owned()));
    }
    if !missing.is_empty() {
        missing.dedup();
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": {"code": "missing_files", "message": "Missing files", "missing": missing}})),
        )
            .into_response();
    }
    let n = inner.deployments.len() + 1;
    let deployment = FakeDeployment {
        id: format!("dpl_fake{n:08}"),
        name: name.to_owned(),
        url: format!("{name}-{n:05x}-fake.vercel.app"),
        target: body.get("target").and_then(Value::as_str).map(str::to_owned),
        files: listed,
        ready_state: "QUEUED".into(),
        polls: 0,
    };
    let answer = deployment_json(&deployment, &inner.outcome);
    inner.deployments.insert(deployment.id.clone(), deployment);
    (StatusCode::OK, Json(answer)).into_response()
}

async fn read(
    State((inner, _)): State<Shared>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let mut inner = inner.lock().unwrap_or_else(|e| e.into_inner());
    if let Err(r) = admit(&mut inner, &headers, query.as_deref()) {
        return r;
    }
    let (polls_before_end, outcome) = (inner.polls_before_end, inner.outcome.clone());
    let Some(d) = inner.deployments.get_mut(&id) else {
        return error(StatusCode::NOT_FOUND, "not_found", "Deployment not found");
    };
    d.polls += 1;
    if d.polls > polls_before_end {
        d.ready_state = match &outcome {
            Outcome::Ready => "READY",
            Outcome::Error(..) => "ERROR",
            Outcome::Canceled => "CANCELED",
        }
        .into();
    } else {
        d.ready_state = "BUILDING".into();
    }
    (StatusCode::OK, Json(deployment_json(d, &outcome))).into_response()
}

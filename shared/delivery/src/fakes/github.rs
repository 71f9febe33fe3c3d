//! A fake GitHub REST API: the repository, git data (blobs, trees, commits, refs) and pull
//! request endpoints the publisher uses, with GitHub's validation of refs and object ids.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use base64::Engine;
use serde_json::{json, Value};
use sha1::{Digest, Sha1};

use super::{now_secs, percent_decode, record, serve, Log, Recorded};

#[derive(Debug, Clone)]
enum Object {
    Blob(Vec<u8>),
    Tree(BTreeMap<String, String>),
    Commit { tree: String, parents: Vec<String>, message: String },
}

#[derive(Debug, Clone)]
pub struct FakeRepo {
    pub owner: String,
    pub name: String,
    pub private: bool,
    pub default_branch: String,
    /// Full ref name → commit sha.
    pub refs: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct FakePull {
    pub number: u64,
    pub repo: (String, String),
    pub head: String,
    pub base: String,
    pub title: String,
    pub body: String,
    pub draft: bool,
}

struct Inner {
    token: String,
    login: String,
    orgs: HashSet<String>,
    repos: HashMap<(String, String), FakeRepo>,
    objects: HashMap<String, Object>,
    pulls: Vec<FakePull>,
    /// The next this many requests are answered 403 with an exhausted rate limit.
    rate_limited: u32,
}

#[derive(Clone)]
pub struct FakeGitHub {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    log: Log,
}

type Shared = Arc<Mutex<Inner>>;

fn git_sha(kind: &str, bytes: &[u8]) -> String {
    let mut h = Sha1::new();
    h.update(format!("{kind} {}\0", bytes.len()).as_bytes());
    h.update(bytes);
    hex::encode(h.finalize())
}

impl FakeGitHub {
    /// A fake where `token` authenticates as user `login`, who belongs to `orgs`.
    pub async fn start(token: &str, login: &str, orgs: &[&str]) -> std::io::Result<Self> {
        let inner = Arc::new(Mutex::new(Inner {
            token: token.to_owned(),
            login: login.to_owned(),
            orgs: orgs.iter().map(|o| o.to_string()).collect(),
            repos: HashMap::new(),
            objects: HashMap::new(),
            pulls: Vec::new(),
            rate_limited: 0,
        }));
        let log: Log = Arc::default();
        let router = Router::new()
            .route("/user", get(user))
            .route("/user/repos", post(create_user_repo))
            .route("/orgs/{org}/repos", post(create_org_repo))
            .route("/repos/{owner}/{repo}", get(read_repo))
            .route("/repos/{owner}/{repo}/git/ref/{*name}", get(read_ref))
            .route("/repos/{owner}/{repo}/git/refs", post(create_ref))
            .route("/repos/{owner}/{repo}/git/refs/{*name}", patch(update_ref))
            .route("/repos/{owner}/{repo}/git/commits/{sha}", get(read_commit))
            .route("/repos/{owner}/{repo}/git/blobs", post(create_blob))
            .route("/repos/{owner}/{repo}/git/trees", post(create_tree))
            .route("/repos/{owner}/{repo}/git/commits", post(create_commit))
            .route("/repos/{owner}/{repo}/pulls", get(list_pulls).post(create_pull))
            .route("/repos/{owner}/{repo}/pulls/{number}", patch(update_pull))
            .fallback(|| async { fail(StatusCode::NOT_FOUND, "Not Found") })
            .with_state(inner.clone())
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

    pub fn repo(&self, owner: &str, name: &str) -> Option<FakeRepo> {
        self.lock().repos.get(&(owner.to_owned(), name.to_owned())).cloned()
    }

    pub fn pulls(&self) -> Vec<FakePull> {
        self.lock().pulls.clone()
    }

    /// The token the fake accepts from now on (as if it were revoked or rotated at GitHub).
    pub fn set_token(&self, token: &str) {
        self.lock().token = token.to_owned();
    }

    pub fn rate_limit_next(&self, requests: u32) {
        self.lock().rate_limited = requests;
    }

    /// The files of `commit`'s tree, path → bytes.
    pub fn files_at(&self, commit: &str) -> BTreeMap<String, Vec<u8>> {
        let inner = self.lock();
        let Some(Object::Commit { tree, .. }) = inner.objects.get(commit) else { return BTreeMap::new() };
        let Some(Object::Tree(entries)) = inner.objects.get(tree) else { return BTreeMap::new() };
        entries
            .iter()
            .filter_map(|(path, sha)| match inner.objects.get(sha) {
                Some(Object::Blob(bytes)) => Some((path.clone(), bytes.clone())),
                _ => None,
            })
            .collect()
    }

    /// The parents of `commit`.
    pub fn parents(&self, commit: &str) -> Vec<String> {
        match self.lock().objects.get(commit) {
            Some(Object::Commit { parents, .. }) => parents.clone(),
            _ => Vec::new(),
        }
    }

    /// Every ref a recorded request asked to create, move or delete, as a full ref name;
    /// requests that move refs by other means (contents API, merges) name the branch they move.
    pub fn refs_written(&self) -> Vec<String> {
        let mut refs = Vec::new();
        for r in self.requests() {
            if r.method == "GET" {
                continue;
            }
            let parts: Vec<&str> = r.path.splitn(6, '/').collect();
            // ["", "repos", owner, repo, rest...]
            let rest = parts.get(4..).map(|p| p.join("/")).unwrap_or_default();
            if rest == "git/refs" {
                refs.push(r.json().get("ref").and_then(Value::as_str).unwrap_or("<none>").to_owned());
            } else if let Some(name) = rest.strip_prefix("git/refs/") {
                refs.push(format!("refs/{}", percent_decode(name)));
            } else if rest.starts_with("contents/") || rest == "merges" || rest.ends_with("/merge") {
                let branch = r
                    .json()
                    .get("branch")
                    .or(r.json().get("base"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                refs.push(format!("refs/heads/{}", branch.unwrap_or_else(|| "<default>".into())));
            }
        }
        refs
    }
}

fn fail(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"message": message, "documentation_url": "https://docs.github.com/rest", "status": status.as_u16().to_string()})))
        .into_response()
}

fn lock(shared: &Shared) -> MutexGuard<'_, Inner> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

/// The value of an `Ok`, or the error response the handler answers with.
macro_rules! or_reply {
    ($result:expr) => {
        match $result {
            Ok(value) => value,
            Err(response) => return response,
        }
    };
}

/// The fake's state, once the request passed auth and the rate limit.
fn admitted<'s>(shared: &'s Shared, headers: &HeaderMap) -> Result<MutexGuard<'s, Inner>, Response> {
    let mut inner = lock(shared);
    admit(&mut inner, headers)?;
    Ok(inner)
}

/// Auth and rate limit, as every endpoint checks them.
fn admit(inner: &mut Inner, headers: &HeaderMap) -> Result<(), Response> {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if auth != format!("Bearer {}", inner.token) && auth != format!("token {}", inner.token) {
        return Err(fail(StatusCode::UNAUTHORIZED, "Bad credentials"));
    }
    if inner.rate_limited > 0 {
        inner.rate_limited -= 1;
        let mut response = fail(StatusCode::FORBIDDEN, "API rate limit exceeded for user.");
        let h = response.headers_mut();
        h.insert("x-ratelimit-limit", 5000.into());
        h.insert("x-ratelimit-remaining", 0.into());
        h.insert("x-ratelimit-reset", (now_secs() + 1).into());
        return Err(response);
    }
    Ok(())
}

fn body_json(body: &Bytes) -> Result<Value, Response> {
    serde_json::from_slice(body).map_err(|_| fail(StatusCode::BAD_REQUEST, "Problems parsing JSON"))
}

fn repo_json(r: &FakeRepo, base: &str) -> Value {
    json!({
        "id": 1, "name": r.name, "full_name": format!("{}/{}", r.owner, r.name),
        "owner": {"login": r.owner}, "private": r.private, "default_branch": r.default_branch,
        "html_url": format!("{base}/{}/{}", r.owner, r.name),
    })
}

const WEB: &str = "https://github.example";

async fn user(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let inner = or_reply!(admitted(&s, &headers));
    Json(json!({"login": inner.login, "id": 1, "type": "User"})).into_response()
}

fn create_repo(inner: &mut Inner, owner: &str, body: &Value) -> Response {
    let name = body.get("name").and_then(Value::as_str).unwrap_or_default();
    if name.is_empty()
        || name.len() > 100
        || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    {
        return fail(StatusCode::UNPROCESSABLE_ENTITY, "Repository creation failed.");
    }
    let key = (owner.to_owned(), name.to_owned());
    if inner.repos.contains_key(&key) {
        return fail(StatusCode::UNPROCESSABLE_ENTITY, "Repository creation failed.");
    }
    let mut repo = FakeRepo {
        owner: owner.to_owned(),
        name: name.to_owned(),
        private: body.get("private").and_then(Value::as_bool).unwrap_or(false),
        default_branch: "main".into(),
        refs: BTreeMap::new(),
    };
    if body.get("auto_init").and_then(Value::as_bool) == Some(true) {
        let readme = format!("# {name}\n").into_bytes();
        let blob = git_sha("blob", &readme);
        inner.objects.insert(blob.clone(), Object::Blob(readme));
        let entries: BTreeMap<String, String> = [("README.md".to_owned(), blob)].into();
        let tree = git_sha("tree", format!("{entries:?}").as_bytes());
        inner.objects.insert(tree.clone(), Object::Tree(entries));
        let commit = git_sha("commit", format!("{tree} Initial commit").as_bytes());
        inner.objects.insert(
            commit.clone(),
            Object::Commit { tree, parents: vec![], message: "Initial commit".into() },
        );
        repo.refs.insert("refs/heads/main".into(), commit);
    }
    let answer = repo_json(&repo, WEB);
    inner.repos.insert(key, repo);
    (StatusCode::CREATED, Json(answer)).into_response()
}

async fn create_user_repo(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let mut inner = or_reply!(admitted(&s, &headers));
    let body = or_reply!(body_json(&body));
    let login = inner.login.clone();
    create_repo(&mut inner, &login, &body)
}

async fn create_org_repo(
    State(s): State<Shared>,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = or_reply!(admitted(&s, &headers));
    if !inner.orgs.contains(&org) {
        return fail(StatusCode::NOT_FOUND, "Not Found");
    }
    let body = or_reply!(body_json(&body));
    create_repo(&mut inner, &org, &body)
}

fn with_repo<'a>(inner: &'a mut Inner, owner: &str, repo: &str) -> Result<&'a mut FakeRepo, Response> {
    inner
        .repos
        .get_mut(&(owner.to_owned(), repo.to_owned()))
        .ok_or_else(|| fail(StatusCode::NOT_FOUND, "Not Found"))
}

async fn read_repo(
    State(s): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut inner = or_reply!(admitted(&s, &headers));
    match with_repo(&mut inner, &owner, &repo) {
        Ok(r) => Json(repo_json(r, WEB)).into_response(),
        Err(r) => r,
    }
}

fn ref_json(name: &str, sha: &str) -> Value {
    json!({"ref": name, "node_id": "REF_fake", "object": {"sha": sha, "type": "commit"}})
}

async fn read_ref(
    State(s): State<Shared>,
    Path((owner, repo, name)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut inner = or_reply!(admitted(&s, &headers));
    let repo = or_reply!(with_repo(&mut inner, &owner, &repo));
    if repo.refs.is_empty() {
        return fail(StatusCode::CONFLICT, "Git Repository is empty.");
    }
    let full = format!("refs/{}", percent_decode(&name));
    match repo.refs.get(&full) {
        Some(sha) => Json(ref_json(&full, sha)).into_response(),
        None => fail(StatusCode::NOT_FOUND, "Not Found"),
    }
}

/// GitHub's rule for ref names: `refs/` and at least two slashes, no `..`, no empty parts.
fn valid_ref(name: &str) -> bool {
    name.starts_with("refs/")
        && name.matches('/').count() >= 2
        && !name.contains("..")
        && !name.split('/').any(|p| p.is_empty() || p.starts_with('.') || p.ends_with(".lock"))
        && !name.contains(['~', '^', ':', '?', '*', '[', '\\', ' '])
}

fn is_ancestor(objects: &HashMap<String, Object>, ancestor: &str, of: &str) -> bool {
    let mut stack = vec![of.to_owned()];
    let mut seen = HashSet::new();
    while let Some(sha) = stack.pop() {
        if sha == ancestor {
            return true;
        }
        if seen.insert(sha.clone()) {
            if let Some(Object::Commit { parents, .. }) = objects.get(&sha) {
                stack.extend(parents.iter().cloned());
            }
        }
    }
    false
}

async fn create_ref(
    State(s): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = or_reply!(admitted(&s, &headers));
    let body = or_reply!(body_json(&body));
    let (Some(name), Some(sha)) =
        (body.get("ref").and_then(Value::as_str), body.get("sha").and_then(Value::as_str))
    else {
        return fail(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid request.\n\n\"ref\", \"sha\" weren't supplied.",
        );
    };
    if !valid_ref(name) {
        return fail(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Reference name is invalid: refs must start with 'refs/' and have at least two slashes",
        );
    }
    if !matches!(inner.objects.get(sha), Some(Object::Commit { .. })) {
        return fail(StatusCode::UNPROCESSABLE_ENTITY, "Object does not exist");
    }
    let repo = or_reply!(with_repo(&mut inner, &owner, &repo));
    if repo.refs.contains_key(name) {
        return fail(StatusCode::UNPROCESSABLE_ENTITY, "Reference already exists");
    }
    repo.refs.insert(name.to_owned(), sha.to_owned());
    (StatusCode::CREATED, Json(ref_json(name, sha))).into_response()
}

async fn update_ref(
    State(s): State<Shared>,
    Path((owner, repo, name)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = or_reply!(admitted(&s, &headers));
    let body = or_reply!(body_json(&body));
    let Some(sha) = body.get("sha").and_then(Value::as_str).map(str::to_owned) else {
        return fail(StatusCode::UNPROCESSABLE_ENTITY, "Invalid request.\n\n\"sha\" wasn't supplied.");
    };
    let force = body.get("force").and_then(Value::as_bool).unwrap_or(false);
    if !matches!(inner.objects.get(&sha), Some(Object::Commit { .. })) {
        return fail(StatusCode::UNPROCESSABLE_ENTITY, "Object does not exist");
    }
    let full = format!("refs/{}", percent_decode(&name));
    let current = match with_repo(&mut inner, &owner, &repo) {
        Ok(r) if full == format!("refs/heads/{}", r.default_branch) => {
            return fail(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Protected branch update failed for refs/heads/main.",
            )
        }
        Ok(r) => r.refs.get(&full).cloned(),
        Err(r) => return r,
    };
    let Some(current) = current else {
        return fail(StatusCode::UNPROCESSABLE_ENTITY, "Reference does not exist");
    };
    if !force && !is_ancestor(&inner.objects, &current, &sha) {
        return fail(StatusCode::UNPROCESSABLE_ENTITY, "Update is not a fast forward");
    }
    if let Ok(r) = with_repo(&mut inner, &owner, &repo) {
        r.refs.insert(full.clone(), sha.clone());
    }
    Json(ref_json(&full, &sha)).into_response()
}

async fn read_commit(
    State(s): State<Shared>,
    Path((owner, repo, sha)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut inner = or_reply!(admitted(&s, &headers));
    or_reply!(with_repo(&mut inner, &owner, &repo));
    match inner.objects.get(&sha) {
        Some(Object::Commit { tree, parents, message }) => Json(json!({
            "sha": sha, "tree": {"sha": tree}, "message": message,
            "parents": parents.iter().map(|p| json!({"sha": p})).collect::<Vec<_>>(),
        }))
        .into_response(),
        _ => fail(StatusCode::NOT_FOUND, "Not Found"),
    }
}

async fn create_blob(
    State(s): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = or_reply!(admitted(&s, &headers));
    or_reply!(with_repo(&mut inner, &owner, &repo));
    let body = or_reply!(body_json(&body));
    let Some(content) = body.get("content").and_then(Value::as_str) else {
        return fail(StatusCode::UNPROCESSABLE_ENTITY, "Invalid request.\n\n\"content\" wasn't supplied.");
    };
    let bytes = match body.get("encoding").and_then(Value::as_str).unwrap_or("utf-8") {
        "utf-8" => content.as_bytes().to_vec(),
        "base64" => match base64::engine::general_purpose::STANDARD.decode(content) {
            Ok(b) => b,
            Err(_) => {
                return fail(StatusCode::UNPROCESSABLE_ENTITY, "Invalid request.\n\nInvalid base64 content.")
            }
        },
        _ => {
            return fail(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid request.\n\nencoding must be utf-8 or base64.",
            )
        }
    };
    let sha = git_sha("blob", &bytes);
    inner.objects.insert(sha.clone(), Object::Blob(bytes));
    (StatusCode::CREATED, Json(json!({"sha": sha}))).into_response()
}

async fn create_tree(
    State(s): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = or_reply!(admitted(&s, &headers));
    or_reply!(with_repo(&mut inner, &owner, &repo));
    let body = or_reply!(body_json(&body));
    let mut entries = match body.get("base_tree").and_then(Value::as_str) {
        None => BTreeMap::new(),
        Some(base) => match inner.objects.get(base) {
            Some(Object::Tree(e)) => e.clone(),
            _ => {
                return fail(StatusCode::UNPROCESSABLE_ENTITY, "Invalid tree info: base_tree does not exist")
            }
        },
    };
    let Some(list) = body.get("tree").and_then(Value::as_array) else {
        return fail(StatusCode::UNPROCESSABLE_ENTITY, "Invalid request.\n\n\"tree\" wasn't supplied.");
    };
    for e in list {
        let path = e.get("path").and_then(Value::as_str).unwrap_or_default();
        let mode = e.get("mode").and_then(Value::as_str).unwrap_or_default();
        let sha = e.get("sha").and_then(Value::as_str).unwrap_or_default();
        let bad_path = path.is_empty()
            || path.starts_with('/')
            || path.split('/').any(|p| p.is_empty() || p == "." || p == ".." || p == ".git");
        if bad_path
            || !["100644", "100755"].contains(&mode)
            || e.get("type").and_then(Value::as_str) != Some("blob")
        {
            return fail(StatusCode::UNPROCESSABLE_ENTITY, "Invalid tree info");
        }
        if !matches!(inner.objects.get(sha), Some(Object::Blob(_))) {
            return fail(StatusCode::UNPROCESSABLE_ENTITY, &format!("tree.sha {sha} is not a valid blob"));
        }
        entries.insert(path.to_owned(), sha.to_owned());
    }
    let sha = git_sha("tree", format!("{entries:?}").as_bytes());
    inner.objects.insert(sha.clone(), Object::Tree(entries));
    (StatusCode::CREATED, Json(json!({"sha": sha}))).into_response()
}

async fn create_commit(
    State(s): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = or_reply!(admitted(&s, &headers));
    or_reply!(with_repo(&mut inner, &owner, &repo));
    let body = or_reply!(body_json(&body));
    let message = body.get("message").and_then(Value::as_str).unwrap_or_default().to_owned();
    let tree = body.get("tree").and_then(Value::as_str).unwrap_or_default().to_owned();
    if message.is_empty() || !matches!(inner.objects.get(&tree), Some(Object::Tree(_))) {
        return fail(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid request: message and an existing tree are required",
        );
    }
    let parents: Vec<String> = body
        .get("parents")
        .and_then(Value::as_array)
        .map(|p| p.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    if parents.iter().any(|p| !matches!(inner.objects.get(p), Some(Object::Commit { .. }))) {
        return fail(StatusCode::UNPROCESSABLE_ENTITY, "Parent SHA does not exist or is not a commit object");
    }
    let sha = git_sha("commit", format!("{tree} {parents:?} {message} {}", inner.objects.len()).as_bytes());
    inner
        .objects
        .insert(sha.clone(), Object::Commit { tree: tree.clone(), parents: parents.clone(), message });
    (StatusCode::CREATED, Json(json!({"sha": sha, "tree": {"sha": tree}, "parents": parents.iter().map(|p| json!({"sha": p})).collect::<Vec<_>>()})))
        .into_response()
}

fn pull_json(p: &FakePull) -> Value {
    json!({
        "number": p.number, "state": "open", "title": p.title, "body": p.body, "draft": p.draft,
        "html_url": format!("{WEB}/{}/{}/pull/{}", p.repo.0, p.repo.1, p.number),
        "head": {"ref": p.head, "label": format!("{}:{}", p.repo.0, p.head)}, "base": {"ref": p.base},
    })
}

async fn list_pulls(
    State(s): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let mut inner = or_reply!(admitted(&s, &headers));
    or_reply!(with_repo(&mut inner, &owner, &repo));
    let recorded =
        Recorded { method: "GET".into(), path: String::new(), query, headers: vec![], body: vec![] };
    let head = recorded.query_param("head");
    let base = recorded.query_param("base");
    let list: Vec<Value> = inner
        .pulls
        .iter()
        .filter(|p| p.repo == (owner.clone(), repo.clone()))
        .filter(|p| head.as_ref().is_none_or(|h| *h == format!("{owner}:{}", p.head)))
        .filter(|p| base.as_ref().is_none_or(|b| *b == p.base))
        .map(pull_json)
        .collect();
    Json(list).into_response()
}

async fn create_pull(
    State(s): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = or_reply!(admitted(&s, &headers));
    let body = or_reply!(body_json(&body));
    let field = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    let (title, head, base) = (field("title"), field("head"), field("base"));
    let head = head.strip_prefix(&format!("{owner}:")).unwrap_or(&head).to_owned();
    let known = match with_repo(&mut inner, &owner, &repo) {
        Ok(r) => {
            r.refs.contains_key(&format!("refs/heads/{head}"))
                && r.refs.contains_key(&format!("refs/heads/{base}"))
        }
        Err(r) => return r,
    };
    if title.is_empty() || !known {
        return fail(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed");
    }
    if inner.pulls.iter().any(|p| p.repo == (owner.clone(), repo.clone()) && p.head == head && p.base == base)
    {
        return fail(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("A pull request already exists for {owner}:{head}."),
        );
    }
    let pull = FakePull {
        number: inner.pulls.len() as u64 + 1,
        repo: (owner, repo),
        head,
        base,
        title,
        body: field("body"),
        draft: body.get("draft").and_then(Value::as_bool).unwrap_or(false),
    };
    let answer = pull_json(&pull);
    inner.pulls.push(pull);
    (StatusCode::CREATED, Json(answer)).into_response()
}

async fn update_pull(
    State(s): State<Shared>,
    Path((owner, repo, number)): Path<(String, String, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = or_reply!(admitted(&s, &headers));
    let body = or_reply!(body_json(&body));
    let Some(pull) =
        inner.pulls.iter_mut().find(|p| p.repo == (owner.clone(), repo.clone()) && p.number == number)
    else {
        return fail(StatusCode::NOT_FOUND, "Not Found");
    };
    if let Some(t) = body.get("title").and_then(Value::as_str) {
        pull.title = t.to_owned();
    }
    if let Some(b) = body.get("body").and_then(Value::as_str) {
        pull.body = b.to_owned();
    }
    Json(pull_json(pull)).into_response()
}

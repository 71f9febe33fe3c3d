//! The GitHub publisher: the manifest's files (and the design image) become one commit on
//! branch `gantry/<mission_id>` of the project's repository, with a pull request against the
//! default branch, all through the REST and git data APIs via octocrab.
//!
//! The only refs this module writes are [`GantryBranch`]es, and a `GantryBranch` can only be
//! made from a `MissionId` (a canonical UUID): no input — project name, file path, a branch
//! name a model made up — can turn a write into one of another ref, the default branch above all.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use base64::Engine;
use serde_json::{json, Value};

use gantry_domain::MissionId;
use gantry_ports::{PortError, PortResult, Publication, PublishRequest, Publisher};

use crate::config::GitHubConfig;

const SERVICE: &str = "GitHub";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const READ_TIMEOUT: Duration = Duration::from_secs(60);
const BACKOFF: Duration = Duration::from_millis(300);
/// How often a freshly created repository is asked for its first commit before giving up.
const NEW_REPO_POLLS: u32 = 5;

/// The one kind of branch the publisher writes: `gantry/<mission_id>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GantryBranch {
    mission: MissionId,
}

impl GantryBranch {
    pub const PREFIX: &'static str = "gantry/";

    pub fn for_mission(mission: &MissionId) -> Self {
        Self { mission: mission.clone() }
    }

    /// `gantry/<mission_id>`.
    pub fn name(&self) -> String {
        format!("{}{}", Self::PREFIX, self.mission)
    }

    /// `refs/heads/gantry/<mission_id>`.
    pub fn full_ref(&self) -> String {
        format!("refs/heads/{}", self.name())
    }

    /// Whether `full_ref` is a ref this publisher may write: `refs/heads/gantry/<mission id>`.
    pub fn is_writable(full_ref: &str) -> bool {
        full_ref
            .strip_prefix("refs/heads/")
            .and_then(|b| b.strip_prefix(Self::PREFIX))
            .is_some_and(|id| id.parse::<MissionId>().is_ok())
    }
}

/// A repository name GitHub accepts, from a project name: letters, digits, `.`, `-`, `_`.
pub fn repo_name(project: &str) -> String {
    let mut name = String::new();
    for c in project.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            name.push(c.to_ascii_lowercase());
        } else if c == '.' || c == '-' {
            name.push(c);
        } else if !name.ends_with('-') {
            name.push('-');
        }
    }
    let mut name = name.trim_matches(|c| c == '-' || c == '.').to_owned();
    while let Some(stripped) = name.strip_suffix(".git") {
        name = stripped.trim_end_matches(['-', '.']).to_owned();
    }
    let name: String = name.chars().take(100).collect();
    let name = name.trim_end_matches(['-', '.']);
    if name.is_empty() {
        "gantry-app".into()
    } else {
        name.to_owned()
    }
}

/// What a call to GitHub came back with, when it was not the answer.
#[derive(Debug)]
enum CallError {
    NotFound,
    /// 409/422: the request was understood and refused.
    Refused(String),
    Port(PortError),
}

impl From<CallError> for PortError {
    fn from(e: CallError) -> Self {
        match e {
            CallError::NotFound => PortError::NotFound,
            CallError::Refused(message) => PortError::Failed(format!("GitHub refused: {message}")),
            CallError::Port(e) => e,
        }
    }
}

#[derive(Clone, Copy)]
enum Verb {
    Get,
    Post,
    Patch,
}

pub struct GitHubPublisher {
    config: GitHubConfig,
    client: octocrab::Octocrab,
}

struct Repo {
    owner: String,
    name: String,
    default_branch: String,
}

impl Repo {
    fn path(&self, rest: &str) -> String {
        format!("/repos/{}/{}{rest}", self.owner, self.name)
    }
}

impl GitHubPublisher {
    pub fn new(config: GitHubConfig) -> Result<Self, PortError> {
        let client = octocrab::Octocrab::builder()
            .base_uri(config.api_url.as_str())
            .map_err(|e| PortError::Invalid(format!("GANTRY_GITHUB_API_URL is not a URL: {e}")))?
            .personal_token(config.token.expose().to_owned())
            .set_connect_timeout(Some(CONNECT_TIMEOUT))
            .set_read_timeout(Some(READ_TIMEOUT))
            .build()
            .map_err(|e| PortError::Failed(format!("cannot build the GitHub client: {e}")))?;
        Ok(Self { config, client })
    }

    /// One call with bounded retries: server and connection errors back off; rate limits wait
    /// for their reset (within `max_rate_limit_wait` in all); 401/403 are configuration errors.
    async fn call(&self, verb: Verb, route: &str, body: Option<&Value>) -> Result<Value, CallError> {
        let mut failures = 0u32;
        let mut rate_waited = Duration::ZERO;
        loop {
            let result: octocrab::Result<Value> = match verb {
                Verb::Get => self.client.get(route, None::<&()>).await,
                Verb::Post => self.client.post(route, body).await,
                Verb::Patch => self.client.patch(route, body).await,
            };
            let error = match result {
                Ok(value) => return Ok(value),
                Err(e) => e,
            };
            let retry_in = match &error {
                octocrab::Error::GitHub { source, .. } => {
                    let status = source.status_code.as_u16();
                    let limited = status == 429
                        || (status == 403
                            && (header(source, "x-ratelimit-remaining").as_deref() == Some("0")
                                || source.message.to_lowercase().contains("rate limit")));
                    if limited {
                        let wait = github_rate_wait(source);
                        if rate_waited + wait > self.config.max_rate_limit_wait {
                            return Err(CallError::Port(PortError::Unavailable {
                                service: SERVICE,
                                message: format!(
                                    "rate limited; the limit resets in {} s, past the {} s this step waits",
                                    wait.as_secs(),
                                    self.config.max_rate_limit_wait.as_secs()
                                ),
                            }));
                        }
                        rate_waited += wait;
                        tracing::warn!(
                            wait_ms = wait.as_millis() as u64,
                            "GitHub rate limit, waiting for its reset"
                        );
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    match status {
                        401 | 403 => {
                            return Err(CallError::Port(PortError::Failed(format!(
                                "GitHub refused the credentials ({status} {}): check GITHUB_TOKEN and its access to {}",
                                source.message, self.config.owner
                            ))))
                        }
                        404 => return Err(CallError::NotFound),
                        409 | 422 => return Err(CallError::Refused(format!("{status} {}", source.message))),
                        s if s >= 500 => Some(format!("{s} {}", source.message)),
                        _ => {
                            return Err(CallError::Port(PortError::Failed(format!(
                                "GitHub answered {status}: {}",
                                source.message
                            ))))
                        }
                    }
                }
                octocrab::Error::Json { .. } | octocrab::Error::Serde { .. } => {
                    return Err(CallError::Port(PortError::Failed(format!(
                        "GitHub's answer is unreadable: {error}"
                    ))))
                }
                // Connection, timeout and transport errors.
                other => Some(other.to_string()),
            };
            failures += 1;
            if failures >= self.config.attempts {
                return Err(CallError::Port(PortError::Unavailable {
                    service: SERVICE,
                    message: retry_in.unwrap_or_default(),
                }));
            }
            tokio::time::sleep(BACKOFF * 2u32.pow(failures - 1)).await;
        }
    }

    async fn get(&self, route: &str) -> Result<Value, CallError> {
        self.call(Verb::Get, route, None).await
    }

    async fn post(&self, route: &str, body: Value) -> Result<Value, CallError> {
        self.call(Verb::Post, route, Some(&body)).await
    }

    /// The project's repository, created (private by default, initialised so it has a
    /// default branch) when it does not exist yet.
    async fn repository(&self, name: &str) -> PortResult<Repo> {
        let owner = &self.config.owner;
        let found = match self.get(&format!("/repos/{owner}/{name}")).await {
            Ok(repo) => repo,
            Err(CallError::NotFound) => {
                let login = self.get("/user").await?;
                let route = if text(&login, "login").eq_ignore_ascii_case(owner) {
                    "/user/repos".to_owned()
                } else {
                    format!("/orgs/{owner}/repos")
                };
                let body = json!({
                    "name": name,
                    "private": self.config.private,
                    "auto_init": true,
                    "description": "An app built by Gantry",
                });
                let created = self.post(&route, body).await?;
                tracing::info!(repo = %text(&created, "full_name"), "GitHub repository created");
                created
            }
            Err(e) => return Err(e.into()),
        };
        let owner = found.pointer("/owner/login").and_then(Value::as_str).unwrap_or(owner).to_owned();
        let default_branch = match text(&found, "default_branch") {
            "" => "main".to_owned(),
            b => b.to_owned(),
        };
        Ok(Repo { owner, name: text(&found, "name").to_owned(), default_branch })
    }

    /// The commit a branch points at; `None` when the branch does not exist.
    async fn branch_head(&self, repo: &Repo, branch: &str) -> PortResult<Option<String>> {
        match self.get(&repo.path(&format!("/git/ref/heads/{branch}"))).await {
            Ok(r) => Ok(r.pointer("/object/sha").and_then(Value::as_str).map(str::to_owned)),
            Err(CallError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The default branch's head; a repository created a moment ago may need a moment.
    async fn default_head(&self, repo: &Repo) -> PortResult<String> {
        for poll in 0..NEW_REPO_POLLS {
            match self.get(&repo.path(&format!("/git/ref/heads/{}", repo.default_branch))).await {
                Ok(r) => {
                    if let Some(sha) = r.pointer("/object/sha").and_then(Value::as_str) {
                        return Ok(sha.to_owned());
                    }
                }
                Err(CallError::NotFound | CallError::Refused(_)) => {}
                Err(e) => return Err(e.into()),
            }
            tokio::time::sleep(BACKOFF * (poll + 1)).await;
        }
        Err(PortError::Failed(format!(
            "{}/{} has no commit on its default branch {}",
            repo.owner, repo.name, repo.default_branch
        )))
    }

    /// Creates the mission's branch at `sha`. Takes only a [`GantryBranch`].
    async fn create_branch(&self, repo: &Repo, branch: &GantryBranch, sha: &str) -> Result<(), CallError> {
        self.post(&repo.path("/git/refs"), json!({"ref": branch.full_ref(), "sha": sha})).await.map(|_| ())
    }

    /// Moves the mission's branch forward to `sha` (never forced). Takes only a [`GantryBranch`].
    async fn move_branch(&self, repo: &Repo, branch: &GantryBranch, sha: &str) -> Result<(), CallError> {
        let route = repo.path(&format!("/git/refs/heads/{}", branch.name()));
        self.call(Verb::Patch, &route, Some(&json!({"sha": sha, "force": false}))).await.map(|_| ())
    }

    async fn pull_request(
        &self,
        repo: &Repo,
        branch: &GantryBranch,
        request: &PublishRequest,
    ) -> PortResult<String> {
        let head = format!("{}:{}", repo.owner, branch.name());
        let route = repo.path(&format!(
            "/pulls?state=open&head={}&base={}",
            query_escape(&head),
            query_escape(&repo.default_branch)
        ));
        let open = self.get(&route).await?;
        if let Some(existing) = open.as_array().and_then(|prs| prs.first()) {
            let number = existing.get("number").and_then(Value::as_u64).unwrap_or(0);
            let updated = self
                .call(
                    Verb::Patch,
                    &repo.path(&format!("/pulls/{number}")),
                    Some(&json!({"title": request.title, "body": request.body})),
                )
                .await?;
            return Ok(text(&updated, "html_url").to_owned());
        }
        let created = self
            .post(
                &repo.path("/pulls"),
                json!({
                    "title": request.title,
                    "head": branch.name(),
                    "base": repo.default_branch,
                    "body": request.body,
                    "draft": self.config.draft,
                    "maintainer_can_modify": false,
                }),
            )
            .await?;
        Ok(text(&created, "html_url").to_owned())
    }
}

#[async_trait]
impl Publisher for GitHubPublisher {
    async fn publish(&self, request: &PublishRequest) -> PortResult<Publication> {
        let branch = GantryBranch::for_mission(&request.mission);
        let repo = self.repository(&repo_name(&request.manifest.project_name)).await?;
        let base = self.default_head(&repo).await?;
        let base_commit = self.get(&repo.path(&format!("/git/commits/{base}"))).await?;
        let base_tree =
            base_commit.pointer("/tree/sha").and_then(Value::as_str).unwrap_or_default().to_owned();
        // A retry finds its branch and adds a commit on top of it.
        let existing = self.branch_head(&repo, &branch.name()).await?;

        let mut files: Vec<(String, &[u8])> =
            request.manifest.files.iter().map(|f| (f.path.clone(), f.content.as_bytes())).collect();
        if let Some((ext, bytes)) = &request.design_image {
            files.push((format!("public/design-reference.{ext}"), bytes.as_slice()));
        }
        let mut entries = Vec::with_capacity(files.len());
        for (path, bytes) in files {
            let blob = self
                .post(
                    &repo.path("/git/blobs"),
                    json!({"content": base64::engine::general_purpose::STANDARD.encode(bytes), "encoding": "base64"}),
                )
                .await?;
            entries.push(json!({"path": path, "mode": "100644", "type": "blob", "sha": text(&blob, "sha")}));
        }
        // The tree is the default branch's plus the manifest: each commit holds exactly this build.
        let tree =
            self.post(&repo.path("/git/trees"), json!({"base_tree": base_tree, "tree": entries})).await?;
        let parent = existing.clone().unwrap_or(base);
        let message = format!("{}\n\nGantry mission {}", request.title, request.mission);
        let commit = self
            .post(
                &repo.path("/git/commits"),
                json!({"message": message, "tree": text(&tree, "sha"), "parents": [parent]}),
            )
            .await?;
        let sha = text(&commit, "sha").to_owned();
        match existing {
            Some(_) => self.move_branch(&repo, &branch, &sha).await?,
            None => match self.create_branch(&repo, &branch, &sha).await {
                Ok(()) => {}
                // Created meanwhile (a concurrent try): move it instead.
                Err(CallError::Refused(_)) => self.move_branch(&repo, &branch, &sha).await?,
                Err(e) => return Err(e.into()),
            },
        }
        let pr_url = self.pull_request(&repo, &branch, request).await?;
        tracing::info!(repo = %format!("{}/{}", repo.owner, repo.name), branch = %branch.name(), "published");
        Ok(Publication {
            repo: format!("{}/{}", repo.owner, repo.name),
            branch: branch.name(),
            commit: sha,
            pr_url: Some(pr_url),
        })
    }
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn header(error: &octocrab::GitHubError, name: &str) -> Option<String> {
    error.headers.as_ref()?.get(name)?.to_str().ok().map(str::to_owned)
}

/// How long until GitHub's rate limit resets: `retry-after`, else `x-ratelimit-reset`.
fn github_rate_wait(error: &octocrab::GitHubError) -> Duration {
    if let Some(secs) = header(error, "retry-after").and_then(|v| v.trim().parse::<u64>().ok()) {
        return Duration::from_secs(secs);
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    match error.rate_limit_reset.or_else(|| header(error, "x-ratelimit-reset").and_then(|v| v.parse().ok())) {
        Some(at) => Duration::from_secs(at.saturating_sub(now)),
        None => Duration::from_secs(60),
    }
}

/// Percent-encodes a query value (owner names and branch names are ASCII, but `:` and `/` matter).
fn query_escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_branch_is_always_under_gantry() {
        let id = MissionId::generate();
        let branch = GantryBranch::for_mission(&id);
        assert_eq!(branch.full_ref(), format!("refs/heads/gantry/{id}"));
        assert!(GantryBranch::is_writable(&branch.full_ref()));
        for other in
            ["refs/heads/main", "refs/heads/gantry/main", "refs/heads/gantry/../main", "refs/tags/gantry/x"]
        {
            assert!(!GantryBranch::is_writable(other), "{other}");
        }
    }

    #[test]
    fn repository_names_are_what_github_accepts() {
        assert_eq!(repo_name("Todo App"), "todo-app");
        assert_eq!(repo_name("../refs/heads/main"), "refs-heads-main");
        assert_eq!(repo_name("app.git"), "app");
        assert_eq!(repo_name("..."), "gantry-app");
    }
}

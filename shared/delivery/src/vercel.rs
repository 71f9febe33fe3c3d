//! The Vercel deployer: the build's output files go to Vercel over its REST API, no CLI.
//!
//! Create the deployment with every file's SHA-1 (`POST /v13/deployments`); Vercel answers
//! `missing_files` with the digests it does not hold; upload exactly those (`POST /v2/files`,
//! `x-vercel-digest`), create again, then poll `GET /v13/deployments/{id}` until it is READY,
//! ERROR or CANCELED, within a bounded wait.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};
use sha1::{Digest, Sha1};

use gantry_ports::{DeployRequest, Deployer, Deployment, PortError, PortResult};

use crate::config::{VercelConfig, VercelTarget};

const SERVICE: &str = "Vercel";
pub const PROVIDER: &str = "vercel";
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const BACKOFF: Duration = Duration::from_millis(300);
/// Rounds of create → upload the missing files → create: one upload should be enough;
/// a second round covers files Vercel evicted between the two calls.
const UPLOAD_ROUNDS: usize = 3;

/// The SHA-1 of `bytes`, lowercase hex: Vercel's file digest.
pub fn file_sha(bytes: &[u8]) -> String {
    hex::encode(Sha1::digest(bytes))
}

/// A Vercel project name: lowercase letters, digits and `-`, at most 100 characters.
pub fn project_name(raw: &str) -> String {
    let mut name = String::new();
    for c in raw.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c);
        } else if !name.ends_with('-') && !name.is_empty() {
            name.push('-');
        }
    }
    let name: String = name.trim_matches('-').chars().take(100).collect();
    let name = name.trim_end_matches('-');
    if name.is_empty() {
        "gantry-app".into()
    } else {
        name.to_owned()
    }
}

pub struct VercelDeployer {
    config: VercelConfig,
    http: reqwest::Client,
}

/// Vercel's error body: `{"error": {"code", "message", …}}`.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error: ApiError,
}

#[derive(Debug, Default, Deserialize)]
struct ApiError {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
    /// With `missing_files`: the digests Vercel does not hold.
    #[serde(default)]
    missing: Vec<String>,
    /// With `rate_limited`: when the window resets (seconds since the epoch).
    #[serde(default)]
    limit: Option<RateLimit>,
}

#[derive(Debug, Deserialize)]
struct RateLimit {
    #[serde(default)]
    reset: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeploymentBody {
    id: String,
    url: String,
    #[serde(default)]
    ready_state: Option<String>,
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    error_message: Option<String>,
}

/// One answer that was neither a rate limit nor a server error.
struct Answer {
    status: StatusCode,
    body: Vec<u8>,
}

impl VercelDeployer {
    pub fn new(config: VercelConfig) -> Result<Self, PortError> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| PortError::Failed(format!("cannot build the Vercel HTTP client: {e}")))?;
        Ok(Self { config, http })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.api_url.trim_end_matches('/'))
    }

    fn query(&self) -> Vec<(&'static str, String)> {
        self.config.team_id.iter().map(|t| ("teamId", t.clone())).collect()
    }

    /// Sends a request with bounded retries: connection errors and 5xx back off, 429 waits for
    /// the window to reset (within `max_rate_limit_wait` in all), 401/403 are configuration errors.
    async fn send(&self, what: &str, build: impl Fn() -> reqwest::RequestBuilder) -> PortResult<Answer> {
        let mut rate_waited = Duration::ZERO;
        let mut failures = 0u32;
        loop {
            let outcome = build().bearer_auth(self.config.token.expose()).send().await;
            let response = match outcome {
                Ok(r) => r,
                Err(e) => {
                    failures += 1;
                    if failures >= self.config.attempts {
                        return Err(PortError::Unavailable {
                            service: SERVICE,
                            message: format!("{what}: {}", without_url(&e)),
                        });
                    }
                    tokio::time::sleep(BACKOFF * 2u32.pow(failures - 1)).await;
                    continue;
                }
            };
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
            if status == StatusCode::TOO_MANY_REQUESTS {
                let wait = rate_limit_wait(&headers, &body);
                if rate_waited + wait > self.config.max_rate_limit_wait {
                    return Err(PortError::Unavailable {
                        service: SERVICE,
                        message: format!(
                            "{what}: rate limited; the limit resets in {} s, past the {} s this step waits",
                            wait.as_secs(),
                            self.config.max_rate_limit_wait.as_secs()
                        ),
                    });
                }
                tracing::warn!(
                    wait_ms = wait.as_millis() as u64,
                    "{what}: Vercel rate limit, waiting for its reset"
                );
                rate_waited += wait;
                tokio::time::sleep(wait).await;
                continue;
            }
            if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                let error = parse_error(&body);
                return Err(PortError::Failed(format!(
                    "Vercel refused the credentials ({} {}: {}): check VERCEL_TOKEN and VERCEL_TEAM_ID",
                    status.as_u16(),
                    error.code,
                    error.message
                )));
            }
            if status.is_server_error() {
                failures += 1;
                if failures >= self.config.attempts {
                    let error = parse_error(&body);
                    return Err(PortError::Unavailable {
                        service: SERVICE,
                        message: format!("{what}: {} {}", status.as_u16(), error.message),
                    });
                }
                tokio::time::sleep(BACKOFF * 2u32.pow(failures - 1)).await;
                continue;
            }
            return Ok(Answer { status, body });
        }
    }

    async fn create(&self, body: &Value) -> PortResult<Result<DeploymentBody, ApiError>> {
        let answer = self
            .send("creating the deployment", || {
                self.http
                    .request(Method::POST, self.url("/v13/deployments"))
                    .query(&self.query())
                    .query(&[("skipAutoDetectionConfirmation", "1")])
                    .json(body)
            })
            .await?;
        if answer.status.is_success() {
            return serde_json::from_slice(&answer.body)
                .map(Ok)
                .map_err(|e| PortError::Failed(format!("Vercel's deployment answer is unreadable: {e}")));
        }
        Ok(Err(parse_error(&answer.body)))
    }

    async fn upload(&self, sha: &str, bytes: &[u8]) -> PortResult<()> {
        let answer = self
            .send("uploading a file", || {
                self.http
                    .request(Method::POST, self.url("/v2/files"))
                    .query(&self.query())
                    .header("content-type", "application/octet-stream")
                    .header("content-length", bytes.len())
                    .header("x-vercel-digest", sha)
                    .body(bytes.to_vec())
            })
            .await?;
        if answer.status.is_success() {
            return Ok(());
        }
        let error = parse_error(&answer.body);
        Err(PortError::Failed(format!(
            "Vercel refused the upload of {sha} ({} {}: {})",
            answer.status.as_u16(),
            error.code,
            error.message
        )))
    }

    async fn get(&self, id: &str) -> PortResult<DeploymentBody> {
        let path = format!("/v13/deployments/{id}");
        let answer = self
            .send("reading the deployment", || {
                self.http.request(Method::GET, self.url(&path)).query(&self.query())
            })
            .await?;
        if !answer.status.is_success() {
            let error = parse_error(&answer.body);
            return Err(PortError::Failed(format!(
                "Vercel cannot read deployment {id} ({} {}: {})",
                answer.status.as_u16(),
                error.code,
                error.message
            )));
        }
        serde_json::from_slice(&answer.body)
            .map_err(|e| PortError::Failed(format!("Vercel's deployment answer is unreadable: {e}")))
    }

    /// Polls until READY, ERROR or CANCELED, at most `wait` in all.
    async fn wait_ready(&self, mut deployment: DeploymentBody) -> PortResult<DeploymentBody> {
        let started = Instant::now();
        loop {
            match deployment.ready_state.as_deref() {
                Some("READY") => return Ok(deployment),
                Some("ERROR") => {
                    return Err(PortError::Failed(format!(
                        "the Vercel deployment {} failed: {}: {}",
                        deployment.id,
                        deployment.error_code.as_deref().unwrap_or("ERROR"),
                        deployment.error_message.as_deref().unwrap_or("no message")
                    )))
                }
                Some("CANCELED") => {
                    return Err(PortError::Failed(format!(
                        "the Vercel deployment {} was canceled",
                        deployment.id
                    )))
                }
                _ => {}
            }
            if started.elapsed() >= self.config.wait {
                return Err(PortError::Failed(format!(
                    "the Vercel deployment {} was not READY after {} s (last state {})",
                    deployment.id,
                    self.config.wait.as_secs(),
                    deployment.ready_state.as_deref().unwrap_or("unknown")
                )));
            }
            tokio::time::sleep(self.config.poll_interval).await;
            deployment = self.get(&deployment.id).await?;
        }
    }
}

#[async_trait]
impl Deployer for VercelDeployer {
    async fn deploy(&self, request: &DeployRequest) -> PortResult<Deployment> {
        if request.files.is_empty() {
            return Err(PortError::Invalid("the build produced no output files to deploy".into()));
        }
        let mut by_sha: HashMap<String, &[u8]> = HashMap::new();
        let files: Vec<Value> = request
            .files
            .iter()
            .map(|f| {
                let sha = file_sha(&f.bytes);
                by_sha.insert(sha.clone(), &f.bytes);
                json!({"file": f.path, "sha": sha, "size": f.bytes.len()})
            })
            .collect();
        let mut body = json!({
            "name": project_name(&request.manifest.project_name),
            "files": files,
            // Already built: Vercel serves the files as they are.
            "projectSettings": {
                "framework": null,
                "buildCommand": null,
                "installCommand": null,
                "devCommand": null,
                "outputDirectory": null,
            },
            "meta": {"gantryMissionId": request.mission.to_string()},
        });
        if self.config.target == VercelTarget::Production {
            body["target"] = json!("production");
        }
        let mut created = None;
        for _ in 0..UPLOAD_ROUNDS {
            match self.create(&body).await? {
                Ok(deployment) => {
                    created = Some(deployment);
                    break;
                }
                Err(error) if error.code == "missing_files" => {
                    for sha in &error.missing {
                        let bytes = by_sha.get(sha).ok_or_else(|| {
                            PortError::Failed(format!(
                                "Vercel asked for a file this deployment does not have ({sha})"
                            ))
                        })?;
                        self.upload(sha, bytes).await?;
                    }
                }
                Err(error) => {
                    return Err(PortError::Failed(format!(
                        "Vercel refused the deployment ({}: {})",
                        error.code, error.message
                    )))
                }
            }
        }
        let created = created.ok_or_else(|| {
            PortError::Failed("Vercel kept reporting missing files after they were uploaded".into())
        })?;
        tracing::info!(deployment_id = %created.id, files = request.files.len(), "Vercel deployment created");
        let ready = self.wait_ready(created).await?;
        Ok(Deployment {
            url: format!("https://{}", ready.url.trim_start_matches("https://")),
            provider: PROVIDER.into(),
            deployment_id: ready.id,
        })
    }
}

fn parse_error(body: &[u8]) -> ApiError {
    serde_json::from_slice::<ErrorBody>(body).map(|b| b.error).unwrap_or_default()
}

/// How long until a 429's window resets: `Retry-After`, else `x-ratelimit-reset`, else the body's
/// `limit.reset` (both seconds since the epoch); one second when none says.
fn rate_limit_wait(headers: &reqwest::header::HeaderMap, body: &[u8]) -> Duration {
    let header = |name: &str| {
        headers.get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok())
    };
    if let Some(secs) = header("retry-after") {
        return Duration::from_secs(secs);
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let reset = header("x-ratelimit-reset").or_else(|| parse_error(body).limit.and_then(|l| l.reset));
    match reset {
        Some(at) => Duration::from_secs(at.saturating_sub(now)),
        None => Duration::from_secs(1),
    }
}

/// A reqwest error's text without its URL (whose query could name the team).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), "");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_sha1_hex() {
        assert_eq!(file_sha(b"hello"), "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d");
    }

    #[test]
    fn project_names_are_what_vercel_accepts() {
        assert_eq!(project_name("Todo App: Spotify style!"), "todo-app-spotify-style");
        assert_eq!(project_name("../../"), "gantry-app");
        assert!(project_name(&"x".repeat(300)).len() <= 100);
    }
}

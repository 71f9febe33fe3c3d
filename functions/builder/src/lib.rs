//! The Fargate builder: the same audit as the local runner, with its inputs and outputs behind
//! presigned URLs. It holds no AWS credentials and needs none.
//!
//! Its contract with the pipeline: GET the job document (`BuildJobDoc`) from
//! `GANTRY_BUILD_JOB_URL`, run the audit under the job's limits (the sandbox's own timeout kill
//! is the dead man's switch), PUT the whole log to `GANTRY_BUILD_LOG_URL` as `text/plain`, for a
//! passed build the output bundle to `GANTRY_BUILD_OUTPUT_URL` as `application/json`, and then
//! the report to `GANTRY_BUILD_REPORT_URL` as `application/json`. A failed audit is a report
//! like any other; only a run that could not produce a report is an error.
//!
//! The output is what the sandbox's safe reader took (`gantry_sandbox::read_build_output`): no
//! symlink or hard link in the work dir is followed, so nothing outside it is ever uploaded.

use std::time::Duration;

use sha2::{Digest, Sha256};

use gantry_aws_shape::BuilderTaskConfig;
use gantry_domain::BuildReport;
use gantry_pipeline::output_bundle;
use gantry_pipeline::steps::BuildJobDoc;
use gantry_ports::{BuildJob, BuildOutcome, BuildRunner};
use gantry_sandbox::LocalBuildRunner;

/// Attempts per HTTP call, and the wait before the second (doubled each time).
const HTTP_ATTEMPTS: u32 = 3;
const HTTP_FIRST_BACKOFF: Duration = Duration::from_millis(500);
const HTTP_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const HTTP_TIMEOUT: Duration = Duration::from_secs(60);
/// How long past the audit's own time limit the whole run may take before it is abandoned
/// (materialising, the sandbox's kill and reaping).
const RUN_GRACE: Duration = Duration::from_secs(30);
pub use gantry_pipeline::steps::{LOG_CONTENT_TYPE, OUTPUT_CONTENT_TYPE, REPORT_CONTENT_TYPE};

#[derive(Debug, thiserror::Error)]
pub enum BuilderError {
    #[error("cannot set up HTTPS: {0}")]
    Http(String),
    #[error("cannot fetch {what}: {message}")]
    Fetch { what: &'static str, message: String },
    #[error("the build job is not a BuildJobDoc: {0}")]
    BadJob(String),
    #[error("the build sandbox could not run the audit: {0}")]
    Sandbox(String),
    #[error("cannot upload the {what}: {message}")]
    Upload { what: &'static str, message: String },
}

/// A small HTTP client with bounded retries, for presigned URLs.
pub struct Transfer {
    client: reqwest::Client,
}

/// Whether a failed call is worth another attempt.
fn transient(status: reqwest::StatusCode) -> bool {
    status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS
}

/// A URL for logs: presigned query strings are credentials, so they are cut off.
fn shown(url: &str) -> &str {
    url.split('?').next().unwrap_or_default()
}

impl Transfer {
    pub fn new() -> Result<Self, BuilderError> {
        let client = reqwest::Client::builder()
            .connect_timeout(HTTP_CONNECT_TIMEOUT)
            .timeout(HTTP_TIMEOUT)
            .build()
            .map_err(|e| BuilderError::Http(e.to_string()))?;
        Ok(Self { client })
    }

    /// GETs `url`; `None` when it answers 404.
    pub async fn get(&self, what: &'static str, url: &str) -> Result<Option<Vec<u8>>, BuilderError> {
        let mut backoff = HTTP_FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            let failure = match self.client.get(url).send().await {
                Ok(response) if response.status() == reqwest::StatusCode::NOT_FOUND => return Ok(None),
                Ok(response) if response.status().is_success() => match response.bytes().await {
                    Ok(bytes) => return Ok(Some(bytes.to_vec())),
                    Err(e) => (true, e.without_url().to_string()),
                },
                Ok(response) => (transient(response.status()), format!("HTTP {}", response.status())),
                Err(e) => (true, e.without_url().to_string()),
            };
            let (retry, message) = failure;
            if !retry || attempt >= HTTP_ATTEMPTS {
                return Err(BuilderError::Fetch { what, message: format!("{message} ({})", shown(url)) });
            }
            tracing::warn!(what, attempt, error = %message, "fetch failed; retrying");
            tokio::time::sleep(backoff).await;
            backoff *= 2;
            attempt += 1;
        }
    }

    pub async fn put(
        &self,
        what: &'static str,
        url: &str,
        body: &[u8],
        content_type: &str,
    ) -> Result<(), BuilderError> {
        let mut backoff = HTTP_FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            let sent = self
                .client
                .put(url)
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(body.to_vec())
                .send()
                .await;
            let (retry, message) = match sent {
                Ok(response) if response.status().is_success() => return Ok(()),
                Ok(response) => (transient(response.status()), format!("HTTP {}", response.status())),
                Err(e) => (true, e.without_url().to_string()),
            };
            if !retry || attempt >= HTTP_ATTEMPTS {
                return Err(BuilderError::Upload { what, message: format!("{message} ({})", shown(url)) });
            }
            tracing::warn!(what, attempt, error = %message, "upload failed; retrying");
            tokio::time::sleep(backoff).await;
            backoff *= 2;
            attempt += 1;
        }
    }
}

/// The report of a run abandoned at the outer deadline (the sandbox should have ended it first).
fn abandoned(job: &BuildJob, elapsed: Duration) -> BuildOutcome {
    let log = format!(
        "the builder abandoned the audit: it was still running {} s after its {} s limit\n",
        RUN_GRACE.as_secs(),
        job.limits.timeout_seconds
    );
    BuildOutcome {
        report: BuildReport {
            passed: false,
            exit_code: None,
            duration_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            timed_out: true,
            oom: false,
            log_tail: log.clone(),
            log_sha256: hex::encode(Sha256::digest(log.as_bytes())),
            isolation: "unknown".into(),
            limits: job.limits,
            features: Vec::new(),
            install: None,
            output: None,
        },
        log: log.into_bytes(),
        output: Vec::new(),
    }
}

/// Runs one build: job in, audit, log and report out. Returns the report it uploaded.
pub async fn run(config: &BuilderTaskConfig, runner: &LocalBuildRunner) -> Result<BuildReport, BuilderError> {
    let transfer = Transfer::new()?;
    let bytes = transfer
        .get("the build job", &config.job_url)
        .await?
        .ok_or_else(|| BuilderError::Fetch { what: "the build job", message: "it does not exist".into() })?;
    let doc: BuildJobDoc = serde_json::from_slice(&bytes).map_err(|e| BuilderError::BadJob(e.to_string()))?;
    let design_image = match &doc.design_image {
        Some(image) => {
            transfer.get("the design image", &image.location).await?.map(|bytes| (image.ext.clone(), bytes))
        }
        None => None,
    };
    let job = BuildJob {
        mission: doc.mission_id,
        attempt: doc.attempt,
        manifest: doc.manifest,
        design_image,
        limits: doc.limits,
    };
    tracing::info!(mission_id = %job.mission, attempt = job.attempt, "build started");
    let started = std::time::Instant::now();
    let deadline = Duration::from_secs(job.limits.timeout_seconds) + RUN_GRACE;
    let outcome = match tokio::time::timeout(deadline, runner.run(&job)).await {
        Ok(result) => result.map_err(|e| BuilderError::Sandbox(e.to_string()))?,
        Err(_) => abandoned(&job, started.elapsed()),
    };
    let report = serde_json::to_vec(&outcome.report)
        .map_err(|e| BuilderError::Upload { what: "report", message: e.to_string() })?;
    transfer.put("log", &config.log_url, &outcome.log, LOG_CONTENT_TYPE).await?;
    if outcome.report.passed {
        let bundle = output_bundle::encode(&outcome.output)
            .map_err(|e| BuilderError::Upload { what: "output", message: e.to_string() })?;
        transfer.put("output", &config.output_url, &bundle, OUTPUT_CONTENT_TYPE).await?;
    }
    transfer.put("report", &config.report_url, &report, REPORT_CONTENT_TYPE).await?;
    tracing::info!(
        mission_id = %job.mission,
        attempt = job.attempt,
        passed = outcome.report.passed,
        duration_ms = outcome.report.duration_ms,
        "build finished; report uploaded"
    );
    Ok(outcome.report)
}

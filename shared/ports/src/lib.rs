//! Ports: one narrow trait per capability. Each adapter implements one; entry points build the
//! adapters once from typed config and hand them to handlers and steps as trait objects.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use gantry_domain::consultation::{Brief, Consultation};
use gantry_domain::mission::{ModelCall, TokenUsage};
use gantry_domain::{BuildReport, GantryManifest, Mission, MissionId, StepRecord, Subject, Turn};

mod update;
pub use update::{update, Change, UpdateError, UPDATE_TRIES};

/// What can go wrong behind a port, in terms a handler can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// A conditional write lost: someone else changed the record first.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("not found")]
    NotFound,
    #[error("invalid input: {0}")]
    Invalid(String),
    /// Transient: worth retrying with backoff.
    #[error("{service} is unavailable: {message}")]
    Unavailable { service: &'static str, message: String },
    #[error("{0}")]
    Failed(String),
}

impl PortError {
    pub fn is_transient(&self) -> bool {
        matches!(self, PortError::Unavailable { .. })
    }
}

pub type PortResult<T> = Result<T, PortError>;

/// A page of missions, newest first.
#[derive(Debug, Clone, Default)]
pub struct MissionPage {
    pub missions: Vec<Mission>,
    pub next_cursor: Option<String>,
}

#[async_trait]
pub trait MissionStore: Send + Sync {
    /// Stores a new mission (version 0) with its first turns, atomically.
    async fn create(&self, mission: &Mission, turns: &[Turn]) -> PortResult<()>;
    async fn get(&self, id: &MissionId) -> PortResult<Option<Mission>>;
    /// Writes `mission` only if the stored version is still `mission.version`, appending
    /// `turns` in the same atomic write; on success `mission.version` is incremented.
    /// A lost race is `PortError::Conflict`.
    async fn save(&self, mission: &mut Mission, turns: &[Turn]) -> PortResult<()>;
    async fn turns(&self, id: &MissionId) -> PortResult<Vec<Turn>>;
    async fn list(&self, owner: &Subject, cursor: Option<&str>, limit: usize) -> PortResult<MissionPage>;
    async fn latest(&self, owner: &Subject) -> PortResult<Option<Mission>>;
    /// The owner's newest mission awaiting input, touched at or after `since`.
    async fn active_consultation(&self, owner: &Subject, since: DateTime<Utc>)
        -> PortResult<Option<Mission>>;
    /// Every mission whose status is in flight (for restart recovery and reconciliation).
    async fn in_flight(&self) -> PortResult<Vec<Mission>>;
    /// Missions awaiting input last touched before `before` (for expiry).
    async fn awaiting_input_before(&self, before: DateTime<Utc>) -> PortResult<Vec<Mission>>;
    /// Final missions last updated before `before` (for retention).
    async fn final_before(&self, before: DateTime<Utc>) -> PortResult<Vec<Mission>>;
    /// Inserts or replaces the step record keyed by (name, attempt).
    async fn record_step(&self, id: &MissionId, step: &StepRecord) -> PortResult<()>;
    async fn steps(&self, id: &MissionId) -> PortResult<Vec<StepRecord>>;
}

/// A long-lived API token (e.g. for Siri). Only its hash is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub name: String,
    /// The subject the token acts as (missions are scoped to it).
    pub subject: String,
    pub token_sha256: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Stores a new token; a live token with the same name is a conflict.
    async fn create_token(&self, token: &ApiToken) -> PortResult<()>;
    async fn find_token(&self, token_sha256: &str) -> PortResult<Option<ApiToken>>;
    /// Returns whether a live token of that name existed.
    async fn revoke_token(&self, name: &str, at: DateTime<Utc>) -> PortResult<bool>;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectMeta {
    pub key: String,
    pub size: u64,
    pub modified: DateTime<Utc>,
}

/// A presigned upload: PUT `body` to `url` with exactly `headers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresignedPut {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub expires_at: DateTime<Utc>,
}

#[async_trait]
pub trait ObjectStore: Send + Sync {
    async fn put(&self, key: &str, bytes: &[u8], content_type: &str) -> PortResult<()>;
    async fn get(&self, key: &str) -> PortResult<Option<Vec<u8>>>;
    async fn delete(&self, key: &str) -> PortResult<()>;
    async fn list(&self, prefix: &str) -> PortResult<Vec<ObjectMeta>>;
    /// A URL a client can PUT `content_length` bytes of `content_type` to, until `expires_at`.
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> PortResult<PresignedPut>;
    /// A URL its holder can GET `key` from until `expires_in` has passed: how the Fargate
    /// builder, which has no AWS permissions, reads its job and the design image.
    async fn presign_get(&self, key: &str, expires_in: Duration) -> PortResult<String> {
        let _ = (key, expires_in);
        Err(PortError::Invalid("this object store does not presign downloads".into()))
    }
    /// A URL its holder can PUT one object of `content_type`, of any length, to until
    /// `expires_in` has passed: how the builder hands back its report and log.
    async fn presign_put_output(
        &self,
        key: &str,
        content_type: &str,
        expires_in: Duration,
    ) -> PortResult<String> {
        let _ = (key, content_type, expires_in);
        Err(PortError::Invalid("this object store does not presign uploads for outputs".into()))
    }
    /// Checks an upload that arrived at this server against the query string of its presigned URL.
    /// Only the local shape receives uploads itself; S3 checks its own signatures.
    fn verify_presigned_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        query: &str,
    ) -> PortResult<()> {
        let _ = (key, content_type, content_length, query);
        Err(PortError::Invalid("this object store does not receive uploads itself".into()))
    }
}

/// The execution of a mission's pipeline, as the orchestrator sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExecutionState {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
    /// The orchestrator has no execution for this mission.
    Missing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    /// Whether this call started it (false: it already existed; nothing new started).
    pub started: bool,
    pub trace_url: Option<String>,
}

#[async_trait]
pub trait Orchestrator: Send + Sync {
    /// Starts the pipeline for the mission's current dispatch (`mission.dispatches`), from the
    /// mission as the caller holds it. Idempotent: the execution is named by the mission id (and,
    /// for the n-th retry, `{mission_id}-{n}`), so a second start of the same dispatch starts
    /// nothing new.
    async fn start(&self, mission: &Mission) -> PortResult<Execution>;
    async fn describe(&self, mission: &MissionId) -> PortResult<ExecutionState>;
    async fn stop(&self, mission: &MissionId, reason: &str) -> PortResult<()>;
}

/// One build: the manifest's files in an empty work dir, then the audit.
#[derive(Debug, Clone)]
pub struct BuildJob {
    pub mission: MissionId,
    pub attempt: u32,
    pub manifest: GantryManifest,
    /// The design image as (extension, bytes), written to `public/design-reference.<ext>`.
    pub design_image: Option<(String, Vec<u8>)>,
    pub limits: gantry_domain::report::BuildLimits,
}

#[derive(Debug, Clone)]
pub struct BuildOutcome {
    pub report: BuildReport,
    /// The whole log (the report holds only its tail).
    pub log: Vec<u8>,
    /// The regular files of the manifest's output dir, read without following any link;
    /// empty unless the audit passed.
    pub output: Vec<OutputFile>,
}

#[async_trait]
pub trait BuildRunner: Send + Sync {
    /// Runs the audit. A failing audit is `Ok` with `report.passed == false`.
    async fn run(&self, job: &BuildJob) -> PortResult<BuildOutcome>;
}

/// The image formats a brain can be shown (those Bedrock and OpenAI-compatible servers accept).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg,
    Gif,
    Webp,
}

impl ImageFormat {
    /// From a stored image's extension (`png`, `jpg`, `jpeg`, `gif`, `webp`).
    pub fn from_extension(ext: &str) -> Option<Self> {
        match ext.to_ascii_lowercase().as_str() {
            "png" => Some(Self::Png),
            "jpg" | "jpeg" => Some(Self::Jpeg),
            "gif" => Some(Self::Gif),
            "webp" => Some(Self::Webp),
            _ => None,
        }
    }

    /// Bedrock's name for it (`ImageBlock.format`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Png => "png",
            Self::Jpeg => "jpeg",
            Self::Gif => "gif",
            Self::Webp => "webp",
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
        }
    }
}

/// The design image of a consultation, as the brain is shown it.
#[derive(Clone, PartialEq, Eq)]
pub struct DesignImage {
    pub format: ImageFormat,
    pub bytes: Vec<u8>,
}

impl DesignImage {
    /// From a stored image's object key (its extension names the format) and bytes.
    pub fn from_key(key: &str, bytes: Vec<u8>) -> Option<Self> {
        let ext = key.rsplit_once('.')?.1;
        Some(Self { format: ImageFormat::from_extension(ext)?, bytes })
    }
}

impl std::fmt::Debug for DesignImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DesignImage({}, {} bytes)", self.format.as_str(), self.bytes.len())
    }
}

/// The brain's answer to one consultation turn.
#[derive(Debug, Clone)]
pub struct ConsultReply {
    pub consultation: Consultation,
    /// The full reply for the chat.
    pub response: String,
    /// A short plain-words reply for voice (≤ 250 chars).
    pub speech: String,
    pub usage: TokenUsage,
    /// Every model call behind the reply (none for the offline brain).
    pub calls: Vec<ModelCall>,
}

#[derive(Debug, Clone)]
pub struct Draft {
    pub manifest: GantryManifest,
    pub model_id: String,
    pub usage: TokenUsage,
    /// Every model call behind the draft, repairs included (none for the offline brain).
    pub calls: Vec<ModelCall>,
    /// What the brain changed and why (for heals).
    pub notes: String,
}

#[async_trait]
pub trait Brain: Send + Sync {
    /// Answers the newest message of a conversation (`conversation` ends with it). `image` is the
    /// consultation's design image, if any.
    async fn consult(
        &self,
        current: Option<&Consultation>,
        conversation: &[Turn],
        image: Option<&DesignImage>,
    ) -> PortResult<ConsultReply>;
    /// Drafts the approved brief; `image` is the design image to match, if any.
    async fn draft(&self, brief: &Brief, image: Option<&DesignImage>) -> PortResult<Draft>;
    /// Redrafts after a failed build.
    async fn heal(&self, brief: &Brief, previous: &GantryManifest, report: &BuildReport)
        -> PortResult<Draft>;
    fn model_id(&self) -> String;
}

/// The most bytes a build's output may hold in all (readers and deployers refuse more).
pub const OUTPUT_MAX_BYTES: u64 = 50 * 1024 * 1024;
/// The most files a build's output may hold.
pub const OUTPUT_MAX_FILES: usize = 2000;

/// One file of a build's output, with its path relative to the output directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

impl OutputFile {
    /// Whether the path may be written under a deploy root: relative, normalised, no `..`,
    /// nothing absolute and no hidden component. Every consumer re-checks this.
    pub fn has_safe_path(&self) -> bool {
        gantry_domain::manifest::normalise_path(&self.path).is_ok_and(|normal| normal == self.path)
            && !self.path.split('/').any(|part| part.starts_with('.'))
    }
}

#[derive(Debug, Clone)]
pub struct DeployRequest {
    pub mission: MissionId,
    pub manifest: GantryManifest,
    /// What the build produced in its output directory: the files to publish.
    pub files: Vec<OutputFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    pub url: String,
    pub provider: String,
    pub deployment_id: String,
}

#[async_trait]
pub trait Deployer: Send + Sync {
    async fn deploy(&self, request: &DeployRequest) -> PortResult<Deployment>;
}

#[derive(Debug, Clone)]
pub struct PublishRequest {
    pub mission: MissionId,
    pub manifest: GantryManifest,
    pub title: String,
    /// PR body (locally: the commit message body), carrying the evidence head hash.
    pub body: String,
    /// The design image as (extension, bytes): committed as `public/design-reference.<ext>`.
    pub design_image: Option<(String, Vec<u8>)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publication {
    pub repo: String,
    pub branch: String,
    pub commit: String,
    pub pr_url: Option<String>,
}

#[async_trait]
pub trait Publisher: Send + Sync {
    /// Commits the manifest's files on branch `gantry/{mission}`; never writes a default branch.
    async fn publish(&self, request: &PublishRequest) -> PortResult<Publication>;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// `ed25519` or `ecdsa-p256-sha256`.
    pub alg: String,
    pub key_id: String,
    /// The public key, base64 of its DER SubjectPublicKeyInfo.
    pub public_key: String,
    /// base64 of the signature bytes (DER for ECDSA).
    pub signature: String,
}

#[async_trait]
pub trait Signer: Send + Sync {
    async fn sign(&self, message: &[u8]) -> PortResult<Signature>;
}

/// The public half of the installation's evidence signing key: what a pack of one of its
/// missions must be signed with. Readers of evidence get this, never the power to sign.
#[async_trait]
pub trait EvidenceKey: Send + Sync {
    async fn public_key(&self) -> PortResult<gantry_domain::evidence::TrustedKey>;
}

#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Counts one event for `key` and says whether it stays within `limit` per `window`;
    /// when it does not, returns how long until it would.
    async fn hit(&self, key: &str, limit: u32, window: Duration) -> PortResult<Result<(), Duration>>;
    /// Whether `key` is already at `limit` in `window`, without counting anything.
    async fn exceeded(&self, key: &str, limit: u32, window: Duration) -> PortResult<Option<Duration>>;
}

pub mod object_keys;

/// A build task still running: an ECS task in AWS, a sandboxed child process locally.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunningBuild {
    /// What the runner calls it (the task ARN in AWS, `{mission}/attempt-{n}` locally).
    pub task_id: String,
    pub mission: MissionId,
    pub attempt: u32,
    pub started_at: DateTime<Utc>,
}

/// Running builds, for cleanup: a build past its deadline is stopped.
#[async_trait]
pub trait BuildTasks: Send + Sync {
    /// Builds still running that started before `before`.
    async fn running_started_before(&self, before: DateTime<Utc>) -> PortResult<Vec<RunningBuild>>;
    /// Stops the build (killing everything it runs); false when it had already ended.
    async fn stop_build(&self, build: &RunningBuild, reason: &str) -> PortResult<bool>;
}

/// What pruning a mission's files removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrunedFiles {
    pub preview: bool,
    pub work_dirs: bool,
}

/// A mission's disposable files: its preview and its build work dirs. Never its evidence.
#[async_trait]
pub trait MissionFiles: Send + Sync {
    /// Removes them; files already gone are not an error (so pruning twice removes nothing).
    async fn prune(&self, mission: &MissionId) -> PortResult<PrunedFiles>;
}

/// Whether an uploaded design image is referred to by a mission (so cleanup keeps it).
#[async_trait]
pub trait AttachedImages: Send + Sync {
    async fn is_attached(&self, image_key: &str) -> PortResult<bool>;
}

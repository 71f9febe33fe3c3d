//! The pipeline's step handlers. The `steps` Lambdas and the local executor call these same
//! functions with the state object of `statemachine/mission.asl.json`.

use std::sync::Arc;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tracing::Instrument;

use gantry_domain::consultation::Brief;
use gantry_domain::evidence::kind as kinds;
use gantry_domain::evidence::sha256_hex;
use gantry_domain::mission::{
    check_budget, within_budget, DeliveryStep, DeploymentRef, ResumePoint, TokenUsage,
};
use gantry_domain::policy::Policy;
use gantry_domain::report::{BuildLimits, Delivery};
use gantry_domain::{
    BuildReport, GantryManifest, Mission, MissionId, MissionStatus, Role, StepName, StepRecord, StepStatus,
};
use gantry_ports::{
    Brain, Change, DeployRequest, Deployer, DesignImage, MissionStore, ObjectStore, OutputFile, PortError,
    PublishRequest, Publisher, UpdateError,
};

use crate::contract::{ErrorName, Outcome};
use crate::evidence_log::EvidenceLog;
use crate::output_bundle;
use crate::state::{BuildJobUrls, Failure, PipelineState};

/// The steps, by the names the state machine's substitutions give their functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Draft,
    Policy,
    PrepareBuild,
    CollectBuild,
    Heal,
    Deploy,
    Publish,
    Evidence,
    Finalize,
}

impl Step {
    pub const ALL: [Step; 9] = [
        Step::Draft,
        Step::Policy,
        Step::PrepareBuild,
        Step::CollectBuild,
        Step::Heal,
        Step::Deploy,
        Step::Publish,
        Step::Evidence,
        Step::Finalize,
    ];

    /// The `${…FunctionArn}` substitution naming this step's function.
    pub fn substitution(self) -> &'static str {
        match self {
            Step::Draft => "DraftFunctionArn",
            Step::Policy => "PolicyFunctionArn",
            Step::PrepareBuild => "PrepareBuildFunctionArn",
            Step::CollectBuild => "CollectBuildFunctionArn",
            Step::Heal => "HealFunctionArn",
            Step::Deploy => "DeployFunctionArn",
            Step::Publish => "PublishFunctionArn",
            Step::Evidence => "EvidenceFunctionArn",
            Step::Finalize => "FinalizeFunctionArn",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Step::Draft => "draft",
            Step::Policy => "policy",
            Step::PrepareBuild => "prepare_build",
            Step::CollectBuild => "collect_build",
            Step::Heal => "heal",
            Step::Deploy => "deploy",
            Step::Publish => "publish",
            Step::Evidence => "evidence",
            Step::Finalize => "finalize",
        }
    }

    pub fn from_name(name: &str) -> Option<Step> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum StepError {
    /// Worth retrying (the state machine's Retry covers `Gantry.Transient`).
    #[error("{0}")]
    Transient(String),
    #[error("{0}")]
    Failed(String),
    /// The mission was cancelled while the step ran.
    #[error("the mission was cancelled")]
    Cancelled,
}

impl StepError {
    /// The error name the state machine sees.
    pub fn error_name(&self) -> ErrorName {
        match self {
            StepError::Transient(_) => ErrorName::Transient,
            StepError::Failed(_) => ErrorName::StepFailed,
            StepError::Cancelled => ErrorName::Cancelled,
        }
    }
}

impl From<PortError> for StepError {
    fn from(e: PortError) -> Self {
        if e.is_transient() {
            StepError::Transient(e.to_string())
        } else {
            StepError::Failed(e.to_string())
        }
    }
}

type StepResult<T> = Result<T, StepError>;

/// What the build task reads: everything it needs, nothing secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildJobDoc {
    pub mission_id: MissionId,
    pub attempt: u32,
    pub manifest: GantryManifest,
    pub limits: BuildLimits,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub design_image: Option<DesignImageRef>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DesignImageRef {
    pub ext: String,
    /// An object key locally; a presigned GET URL for the Fargate task.
    pub location: String,
}

pub fn manifest_key(mission: &MissionId, attempt: u32) -> String {
    gantry_ports::object_keys::manifest(mission, attempt)
}

pub fn build_keys(mission: &MissionId, attempt: u32) -> BuildJobUrls {
    let dir = format!("missions/{mission}/build-{attempt}");
    BuildJobUrls {
        job_url: format!("{dir}/job.json"),
        report_url: format!("{dir}/report.json"),
        log_url: format!("{dir}/log.txt"),
        output_url: format!("{dir}/output.json"),
    }
}

/// How the build runner reaches a build's job, design image, report and log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BuildIo {
    /// By object key: the runner shares this process's object store (the local shape).
    #[default]
    Keys,
    /// By presigned URLs valid for `expires_in`: the Fargate builder has no AWS permissions.
    Presigned { expires_in: std::time::Duration },
}

/// The content types the builder PUTs its outputs with (bound into their presigned URLs).
pub const REPORT_CONTENT_TYPE: &str = "application/json";
pub const LOG_CONTENT_TYPE: &str = "text/plain";
pub use crate::output_bundle::OUTPUT_CONTENT_TYPE;

/// The adapters the steps use, built once by the entry point.
#[derive(Clone)]
pub struct Steps {
    pub store: Arc<dyn MissionStore>,
    pub objects: Arc<dyn ObjectStore>,
    pub brain: Arc<dyn Brain>,
    pub deployer: Arc<dyn Deployer>,
    pub publisher: Arc<dyn Publisher>,
    pub evidence: EvidenceLog,
    pub policy: Arc<Policy>,
    pub build_io: BuildIo,
}

/// The final status a finished run gives a mission.
pub fn final_status(state: &PipelineState) -> (MissionStatus, Option<String>) {
    let failure = state.failure.as_ref();
    match state.outcome {
        Some(Outcome::Success) => (MissionStatus::success_for(state.deploy, state.publish), None),
        Some(Outcome::Blocked) => (MissionStatus::Blocked, Some("blocked by the policy check".into())),
        // The build loop gave up and its last build was stopped at the time limit.
        Some(Outcome::Failed) if failure.is_none() && state.build_timed_out == Some(true) => {
            (MissionStatus::Timeout, Some("the build ran past its time limit".into()))
        }
        _ => match failure.map(|f| (&f.error, f)) {
            Some((ErrorName::Timeout, f)) => (MissionStatus::Timeout, Some(timeout_reason(f))),
            Some((ErrorName::Cancelled, _)) => (MissionStatus::Cancelled, Some("cancelled".into())),
            Some((ErrorName::Interrupted, _)) => (MissionStatus::Failed, Some("interrupted".into())),
            Some((_, f)) => (MissionStatus::Failed, Some(failure_reason(f))),
            None => (MissionStatus::Failed, Some("the build did not pass its audit".into())),
        },
    }
}

fn timeout_reason(f: &Failure) -> String {
    if f.cause.is_empty() {
        "a step ran out of time".into()
    } else {
        format!("a step ran out of time: {}", clip(&f.cause, 300))
    }
}

fn failure_reason(f: &Failure) -> String {
    let cause = clip(&f.cause, 400);
    if cause.is_empty() {
        f.error.to_string()
    } else {
        cause
    }
}

fn clip(text: &str, max: usize) -> String {
    let trimmed = text.trim();
    if trimmed.chars().count() <= max {
        trimmed.to_owned()
    } else {
        format!("{}…", trimmed.chars().take(max).collect::<String>())
    }
}

fn artifact_name(dispatch: u32, name: &str) -> String {
    if dispatch == 0 {
        name.to_owned()
    } else {
        format!("retry-{dispatch}-{name}")
    }
}

impl Steps {
    /// Runs one step on the state object.
    pub async fn run(&self, step: Step, state: PipelineState) -> StepResult<PipelineState> {
        // Inside the caller's `mission` span, which names the mission (locally the executor's,
        // in AWS the steps Lambda's): the step adds only its name.
        let span = tracing::info_span!("step", step = step.name());
        let work = async {
            let result = match step {
                Step::Draft => self.draft(state).await,
                Step::Policy => self.check_policy(state).await,
                Step::PrepareBuild => self.prepare_build(state).await,
                Step::CollectBuild => self.collect_build(state).await,
                Step::Heal => self.heal(state).await,
                Step::Deploy => self.deploy(state).await,
                Step::Publish => self.publish(state).await,
                Step::Evidence => self.seal(state).await,
                Step::Finalize => self.finalize(state).await,
            };
            if let Err(e) = &result {
                tracing::warn!(error = %e, "step failed");
            }
            result
        };
        work.instrument(span).await
    }

    async fn mission(&self, id: &MissionId) -> StepResult<Mission> {
        self.store.get(id).await?.ok_or_else(|| StepError::Failed(format!("mission {id} does not exist")))
    }

    /// Changes the mission through the one writer (`gantry_ports::update`).
    async fn update(
        &self,
        id: &MissionId,
        mut change: impl FnMut(&mut Mission) -> StepResult<()> + Send,
    ) -> StepResult<Mission> {
        gantry_ports::update(self.store.as_ref(), id, &[], |m| {
            change(m)?;
            m.updated_at = Utc::now();
            Ok(Change::Save)
        })
        .await
        .map_err(|e| match e {
            UpdateError::Refused(e) => e,
            UpdateError::NotFound(id) => StepError::Failed(format!("mission {id} does not exist")),
            UpdateError::Contended { .. } => StepError::Transient(e.to_string()),
            UpdateError::Port(e) => e.into(),
        })
    }

    /// Moves the mission to `status` (if it is not there already); a cancelled mission stops the run.
    async fn enter(&self, id: &MissionId, status: MissionStatus) -> StepResult<Mission> {
        self.update(id, |m| {
            if m.status == MissionStatus::Cancelled {
                return Err(StepError::Cancelled);
            }
            if m.status != status {
                m.advance(status, Utc::now()).map_err(|e| StepError::Failed(e.to_string()))?;
            }
            Ok(())
        })
        .await
    }

    async fn step_started(&self, id: &MissionId, name: StepName, attempt: u32) -> StepResult<StepRecord> {
        let record = StepRecord {
            name,
            status: StepStatus::Running,
            attempt,
            started_at: Utc::now(),
            ended_at: None,
            detail: None,
        };
        self.store.record_step(id, &record).await?;
        Ok(record)
    }

    async fn step_ended(
        &self,
        id: &MissionId,
        mut record: StepRecord,
        ok: bool,
        detail: String,
    ) -> StepResult<()> {
        record.status = if ok { StepStatus::Succeeded } else { StepStatus::Failed };
        record.ended_at = Some(Utc::now());
        record.detail = Some(clip(&detail, 500));
        self.store.record_step(id, &record).await?;
        Ok(())
    }

    /// A mission whose token budget is spent makes no more model calls: the step fails with
    /// that reason (and the mission ends FAILED).
    async fn check_budget(&self, mission: &Mission) -> StepResult<()> {
        let Err(spent) = check_budget(&mission.tokens, self.policy.max_tokens_per_mission) else {
            return Ok(());
        };
        let reason = spent.to_string();
        self.update(&mission.id, |m| {
            m.error = Some(reason.clone());
            Ok(())
        })
        .await?;
        Err(StepError::Failed(reason))
    }

    /// Adds a brain's usage to the mission; a call that took it past its budget fails the step.
    async fn spend(&self, id: &MissionId, usage: TokenUsage) -> StepResult<()> {
        let limit = self.policy.max_tokens_per_mission;
        let mission = self
            .update(id, |m| {
                m.tokens.add(usage);
                if let Err(spent) = within_budget(&m.tokens, limit) {
                    m.error = Some(spent.to_string());
                }
                Ok(())
            })
            .await?;
        within_budget(&mission.tokens, limit).map_err(|spent| StepError::Failed(spent.to_string()))
    }

    async fn load_manifest(&self, id: &MissionId, attempt: u32) -> StepResult<GantryManifest> {
        let bytes = self
            .objects
            .get(&manifest_key(id, attempt))
            .await?
            .ok_or_else(|| StepError::Failed(format!("the manifest of attempt {attempt} is missing")))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| StepError::Failed(format!("the stored manifest is unreadable: {e}")))
    }

    /// Stores a manifest version (working copy and write-once evidence artifact) and records it.
    async fn keep_manifest(
        &self,
        state: &PipelineState,
        attempt: u32,
        manifest: &GantryManifest,
        provenance: Value,
    ) -> StepResult<()> {
        let id = &state.mission_id;
        let bytes = serde_json::to_vec_pretty(manifest).map_err(|e| StepError::Failed(e.to_string()))?;
        self.objects.put(&manifest_key(id, attempt), &bytes, "application/json").await?;
        let name = artifact_name(state.dispatch, &format!("manifest-{attempt}.json"));
        let artifact = self.evidence.artifact(id, &name, "application/json", &bytes).await?;
        let mut data = json!({
            "attempt": attempt,
            "project_name": manifest.project_name,
            "stack": manifest.stack,
            "files": manifest.files.len(),
            "audit_command": manifest.audit_command,
            "artifact": artifact.to_value(),
        });
        if let (Some(target), Some(extra)) = (data.as_object_mut(), provenance.as_object()) {
            target.extend(extra.clone());
        }
        self.evidence.append(id, kinds::MANIFEST, data).await?;
        Ok(())
    }

    /// The consent that authorised the run, recorded once per dispatch before anything is drafted.
    async fn record_approval(
        &self,
        state: &PipelineState,
        mission: &Mission,
        design_image: Option<gantry_domain::evidence::ArtifactRef>,
    ) -> StepResult<()> {
        let turns = self.store.turns(&state.mission_id).await?;
        let conversation = serde_json::to_vec(&turns).map_err(|e| StepError::Failed(e.to_string()))?;
        let consent = turns.iter().rev().find(|t| t.role == Role::User);
        let mut data = json!({
                    "subject": mission.owner.as_str(),
                    "dispatch": state.dispatch,
                    "consented_at": consent.map(|t| t.at),
                    "message": consent.map(|t| t.content.clone()),
                    "conversation_turns": turns.len(),
                    "conversation_sha256": sha256_hex(&conversation),
                    "deploy": state.deploy,
                    "publish": state.publish,
                    "direct": mission.consultation.as_ref().is_none_or(|c| c.proposal.is_none()),
        });
        if let Some(image) = design_image {
            data["artifact"] = image.to_value();
        }
        self.evidence.append(&state.mission_id, kinds::CONSULTATION_APPROVED, data).await?;
        Ok(())
    }

    async fn draft(&self, mut state: PipelineState) -> StepResult<PipelineState> {
        let id = state.mission_id.clone();
        let mut mission = self.enter(&id, MissionStatus::Drafting).await?;
        if mission.resume.is_some() {
            // A run from the start makes a new build: an old resume point no longer applies.
            mission = self
                .update(&id, |m| {
                    m.resume = None;
                    Ok(())
                })
                .await?;
        }
        let record = self.step_started(&id, StepName::Draft, 1).await?;
        let mut design_image = None;
        let mut shown_image = None;
        if let Some(image_key) = mission.consultation.as_ref().and_then(|c| c.brief.design_image.clone()) {
            if let Some(bytes) = self.objects.get(&image_key).await? {
                let ext = image_key.rsplit('.').next().unwrap_or("bin");
                let name = artifact_name(state.dispatch, &format!("design-reference.{ext}"));
                design_image =
                    Some(self.evidence.artifact(&id, &name, "application/octet-stream", &bytes).await?);
                shown_image = DesignImage::from_key(&image_key, bytes);
            }
        }
        self.record_approval(&state, &mission, design_image).await?;
        let (manifest, provenance, detail) = match &mission.manifest_key {
            Some(key) => {
                let bytes = self
                    .objects
                    .get(key)
                    .await?
                    .ok_or_else(|| StepError::Failed("the given manifest is missing".into()))?;
                let manifest: GantryManifest = serde_json::from_slice(&bytes).map_err(|e| {
                    StepError::Failed(format!("the given manifest is not a GantryManifest: {e}"))
                })?;
                let detail = format!("using the given manifest ({} files)", manifest.files.len());
                (manifest, json!({"source": "given"}), detail)
            }
            None => {
                let brief = brief_of(&mission);
                let drafted = async {
                    self.check_budget(&mission).await?;
                    let draft = self.brain.draft(&brief, shown_image.as_ref()).await?;
                    self.spend(&id, draft.usage).await?;
                    Ok::<_, StepError>(draft)
                };
                let draft = match drafted.await {
                    Ok(draft) => draft,
                    Err(e) => {
                        self.step_ended(&id, record, false, e.to_string()).await?;
                        return Err(e);
                    }
                };
                let detail = format!("drafted {} files with {}", draft.manifest.files.len(), draft.model_id);
                let provenance = json!({"source": "brain", "model_id": draft.model_id, "usage": draft.usage, "calls": draft.calls, "notes": draft.notes});
                (draft.manifest, provenance, detail)
            }
        };
        self.keep_manifest(&state, 1, &manifest, provenance).await?;
        state.attempt = Some(1);
        state.max_heals = Some(self.policy.max_heals);
        self.step_ended(&id, record, true, detail).await?;
        Ok(state)
    }

    async fn check_policy(&self, mut state: PipelineState) -> StepResult<PipelineState> {
        let id = state.mission_id.clone();
        let attempt = state.attempt();
        self.enter(&id, MissionStatus::Validating).await?;
        let record = self.step_started(&id, StepName::Policy, attempt).await?;
        let manifest = self.load_manifest(&id, attempt).await?;
        let verdict = self.policy.evaluate(&manifest);
        self.evidence
            .append(
                &id,
                kinds::POLICY_VERDICT,
                json!({"attempt": attempt, "allowed": verdict.allowed, "violations": verdict.violations}),
            )
            .await?;
        let detail = if verdict.allowed {
            format!("{} files passed every rule", manifest.files.len())
        } else {
            let listed: Vec<String> = verdict
                .violations
                .iter()
                .take(5)
                .map(|v| match (&v.file, v.line) {
                    (Some(file), Some(line)) => format!("{} at {file}:{line}", v.rule),
                    (Some(file), None) => format!("{} in {file}", v.rule),
                    _ => v.rule.clone(),
                })
                .collect();
            format!("{} violation(s): {}", verdict.violations.len(), listed.join("; "))
        };
        if !verdict.allowed {
            let reason = format!("blocked by policy: {detail}");
            self.update(&id, |m| {
                m.error = Some(reason.clone());
                Ok(())
            })
            .await?;
        }
        state.policy_allowed = Some(verdict.allowed);
        self.step_ended(&id, record, verdict.allowed, detail).await?;
        Ok(state)
    }

    async fn prepare_build(&self, mut state: PipelineState) -> StepResult<PipelineState> {
        let id = state.mission_id.clone();
        let attempt = state.attempt();
        let mission = self.enter(&id, MissionStatus::Building).await?;
        self.update(&id, |m| {
            m.attempts = attempt;
            Ok(())
        })
        .await?;
        self.step_started(&id, StepName::Build, attempt).await?;
        let manifest = self.load_manifest(&id, attempt).await?;
        let design_key = mission.consultation.as_ref().and_then(|c| c.brief.design_image.clone());
        let design_image = match design_key {
            Some(key) => Some(DesignImageRef {
                ext: key.rsplit('.').next().unwrap_or("bin").to_owned(),
                location: self.build_input(&key).await?,
            }),
            None => None,
        };
        let keys = build_keys(&id, attempt);
        let job = BuildJobDoc {
            mission_id: id.clone(),
            attempt,
            manifest,
            limits: self.policy.build,
            design_image,
        };
        let bytes = serde_json::to_vec(&job).map_err(|e| StepError::Failed(e.to_string()))?;
        self.objects.put(&keys.job_url, &bytes, "application/json").await?;
        // Outputs of an earlier try of this attempt must not be mistaken for this one's.
        self.objects.delete(&keys.report_url).await?;
        self.objects.delete(&keys.log_url).await?;
        self.objects.delete(&keys.output_url).await?;
        state.build_job = Some(self.build_locations(keys).await?);
        state.build_passed = None;
        state.build_failure = None;
        Ok(state)
    }

    /// Where the runner reads an input object: its key, or a presigned GET.
    async fn build_input(&self, key: &str) -> StepResult<String> {
        Ok(match self.build_io {
            BuildIo::Keys => key.to_owned(),
            BuildIo::Presigned { expires_in } => self.objects.presign_get(key, expires_in).await?,
        })
    }

    /// The job, report and log locations the runner is handed. Collecting reads by key either way.
    async fn build_locations(&self, keys: BuildJobUrls) -> StepResult<BuildJobUrls> {
        let BuildIo::Presigned { expires_in } = self.build_io else { return Ok(keys) };
        Ok(BuildJobUrls {
            job_url: self.objects.presign_get(&keys.job_url, expires_in).await?,
            report_url: self
                .objects
                .presign_put_output(&keys.report_url, REPORT_CONTENT_TYPE, expires_in)
                .await?,
            log_url: self.objects.presign_put_output(&keys.log_url, LOG_CONTENT_TYPE, expires_in).await?,
            output_url: self
                .objects
                .presign_put_output(&keys.output_url, OUTPUT_CONTENT_TYPE, expires_in)
                .await?,
        })
    }

    /// The output bundle the build task stored for a passed attempt, checked file by file.
    async fn build_output(&self, id: &MissionId, attempt: u32) -> StepResult<Vec<OutputFile>> {
        let bytes = self
            .objects
            .get(&build_keys(id, attempt).output_url)
            .await?
            .ok_or_else(|| StepError::Failed(format!("the output of build {attempt} is missing")))?;
        output_bundle::decode(&bytes).map_err(|e| StepError::Failed(e.to_string()))
    }

    async fn collect_build(&self, mut state: PipelineState) -> StepResult<PipelineState> {
        let id = state.mission_id.clone();
        let attempt = state.attempt();
        let keys = build_keys(&id, attempt);
        let log = self.objects.get(&keys.log_url).await?.unwrap_or_default();
        let report = match self.objects.get(&keys.report_url).await? {
            Some(bytes) => serde_json::from_slice::<BuildReport>(&bytes)
                .map_err(|e| StepError::Failed(format!("the build report is unreadable: {e}")))?,
            None => {
                let cause =
                    state.build_failure.as_ref().map(failure_reason).unwrap_or_else(|| "no report".into());
                let timed_out = state.build_failure.as_ref().is_some_and(|f| f.error == ErrorName::Timeout);
                BuildReport {
                    passed: false,
                    exit_code: None,
                    duration_ms: 0,
                    timed_out,
                    oom: false,
                    log_tail: format!("the build task ended without a report: {cause}"),
                    log_sha256: sha256_hex(&log),
                    isolation: "unknown".into(),
                    limits: self.policy.build,
                    features: Vec::new(),
                }
            }
        };
        let log_name = artifact_name(state.dispatch, &format!("build-{attempt}.log"));
        let log_artifact = self.evidence.artifact(&id, &log_name, "text/plain", &log).await?;
        let mut record = json!({"attempt": attempt, "report": report, "artifact": log_artifact.to_value()});
        if report.passed {
            record["output"] = match self.build_output(&id, attempt).await {
                Ok(files) => json!({"files": output_bundle::listing(&files)}),
                Err(e) => json!({"error": e.to_string()}),
            };
        }
        self.evidence.append(&id, kinds::BUILD_REPORT, record).await?;
        let secs = report.duration_ms as f64 / 1000.0;
        let detail = if report.passed {
            format!("audit passed in {secs:.1} s ({})", report.isolation)
        } else if report.timed_out {
            format!("audit timed out after {secs:.1} s")
        } else if report.oom {
            format!("audit ran out of memory ({} MiB)", report.limits.memory_mb)
        } else if report.exit_code == Some(0) {
            // The audit succeeded, but the sandbox refused what it left (see the log's last line).
            let last = report.log_tail.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default();
            format!("audit exited 0, but its output was not taken: {}", clip(last, 200))
        } else {
            let last = report.log_tail.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default();
            format!(
                "audit failed (exit {}): {}",
                report.exit_code.map_or("signal".into(), |c| c.to_string()),
                clip(last, 200)
            )
        };
        let record = StepRecord {
            name: StepName::Build,
            status: StepStatus::Running,
            attempt,
            started_at: self
                .store
                .steps(&id)
                .await?
                .into_iter()
                .find(|s| s.name == StepName::Build && s.attempt == attempt)
                .map_or_else(Utc::now, |s| s.started_at),
            ended_at: None,
            detail: None,
        };
        self.step_ended(&id, record, report.passed, detail.clone()).await?;
        let features = report.features.clone();
        self.update(&id, |m| {
            m.features = features.clone();
            Ok(())
        })
        .await?;
        let max_heals = state.max_heals.unwrap_or(self.policy.max_heals);
        if !report.passed && attempt > max_heals {
            let reason = format!("the build failed after {attempt} attempt(s): {detail}");
            self.update(&id, |m| {
                m.error = Some(reason.clone());
                Ok(())
            })
            .await?;
        }
        state.build_passed = Some(report.passed);
        state.build_timed_out = Some(report.timed_out);
        Ok(state)
    }

    async fn heal(&self, mut state: PipelineState) -> StepResult<PipelineState> {
        let id = state.mission_id.clone();
        let from = state.attempt();
        let to = from + 1;
        let mission = self.enter(&id, MissionStatus::Healing).await?;
        let record = self.step_started(&id, StepName::Heal, to).await?;
        let previous = self.load_manifest(&id, from).await?;
        let report_bytes = self.objects.get(&build_keys(&id, from).report_url).await?;
        let report = match report_bytes {
            Some(bytes) => {
                serde_json::from_slice::<BuildReport>(&bytes).map_err(|e| StepError::Failed(e.to_string()))?
            }
            None => BuildReport {
                passed: false,
                exit_code: None,
                duration_ms: 0,
                timed_out: false,
                oom: false,
                log_tail: "the build task ended without a report".into(),
                log_sha256: sha256_hex(b""),
                isolation: "unknown".into(),
                limits: self.policy.build,
                features: Vec::new(),
            },
        };
        let healing = async {
            self.check_budget(&mission).await?;
            let healed = self.brain.heal(&brief_of(&mission), &previous, &report).await?;
            self.update(&id, |m| {
                m.heals += 1;
                m.error = None;
                Ok(())
            })
            .await?;
            self.spend(&id, healed.usage).await?;
            Ok::<_, StepError>(healed)
        };
        let healed = match healing.await {
            Ok(healed) => healed,
            Err(e) => {
                self.step_ended(&id, record, false, e.to_string()).await?;
                return Err(e);
            }
        };
        self.evidence
            .append(&id, kinds::HEAL, json!({"from_attempt": from, "to_attempt": to, "notes": healed.notes, "model_id": healed.model_id, "usage": healed.usage, "calls": healed.calls}))
            .await?;
        let provenance = json!({"source": "heal", "model_id": healed.model_id, "usage": healed.usage, "calls": healed.calls, "notes": healed.notes});
        self.keep_manifest(&state, to, &healed.manifest, provenance).await?;
        state.attempt = Some(to);
        self.step_ended(&id, record, true, healed.notes).await?;
        Ok(state)
    }

    async fn deploy(&self, state: PipelineState) -> StepResult<PipelineState> {
        let id = state.mission_id.clone();
        let attempt = state.attempt();
        self.enter(&id, MissionStatus::Deploying).await?;
        let record = self.step_started(&id, StepName::Deploy, attempt).await?;
        let manifest = self.load_manifest(&id, attempt).await?;
        let files = match self.build_output(&id, attempt).await {
            Ok(files) => files,
            Err(e) => {
                self.step_ended(&id, record, false, e.to_string()).await?;
                return Err(e);
            }
        };
        let request = DeployRequest { mission: id.clone(), manifest, files };
        let deployment = match self.deployer.deploy(&request).await {
            Ok(d) => d,
            Err(e) => return Err(self.delivery_failed(&id, record, DeliveryStep::Deploy, attempt, e).await),
        };
        let shown = DeploymentRef {
            provider: deployment.provider.clone(),
            id: deployment.deployment_id.clone(),
            url: deployment.url.clone(),
        };
        self.update(&id, |m| {
            m.url = Some(shown.url.clone());
            m.deployment = Some(shown.clone());
            // A resumed retry starts with attempts reset: the build it delivers is this one.
            m.attempts = m.attempts.max(attempt);
            Ok(())
        })
        .await?;
        self.evidence
            .append(&id, kinds::DEPLOY, serde_json::to_value(&deployment).unwrap_or(Value::Null))
            .await?;
        self.step_ended(&id, record, true, format!("live at {}", deployment.url)).await?;
        Ok(state)
    }

    async fn publish(&self, state: PipelineState) -> StepResult<PipelineState> {
        let id = state.mission_id.clone();
        let attempt = state.attempt();
        let mission = self.enter(&id, MissionStatus::Publishing).await?;
        let record = self.step_started(&id, StepName::Publish, attempt).await?;
        let manifest = self.load_manifest(&id, attempt).await?;
        let head = self.evidence.head(&id).await?;
        let report = match self.objects.get(&build_keys(&id, attempt).report_url).await? {
            Some(bytes) => serde_json::from_slice::<BuildReport>(&bytes).ok(),
            None => None,
        };
        let body = pull_request_body(&mission, report.as_ref(), &head);
        let design_image = match mission.consultation.as_ref().and_then(|c| c.brief.design_image.clone()) {
            Some(key) => self
                .objects
                .get(&key)
                .await?
                .map(|bytes| (key.rsplit('.').next().unwrap_or("bin").to_owned(), bytes)),
            None => None,
        };
        let request = PublishRequest {
            mission: id.clone(),
            manifest,
            title: format!("Gantry: {}", mission.title),
            body,
            design_image,
        };
        let publication = match self.publisher.publish(&request).await {
            Ok(p) => p,
            Err(e) => return Err(self.delivery_failed(&id, record, DeliveryStep::Publish, attempt, e).await),
        };
        let (branch, pr_url) = (publication.branch.clone(), publication.pr_url.clone());
        self.update(&id, |m| {
            m.branch = Some(branch.clone());
            m.repo = Some(publication.repo.clone());
            m.pr_url = pr_url.clone();
            m.attempts = m.attempts.max(attempt);
            Ok(())
        })
        .await?;
        self.evidence
            .append(&id, kinds::PUBLISH, serde_json::to_value(&publication).unwrap_or(Value::Null))
            .await?;
        let detail = match &publication.pr_url {
            Some(url) => format!("pull request {url}"),
            None => format!(
                "committed {} on {}",
                &publication.commit[..publication.commit.len().min(12)],
                publication.branch
            ),
        };
        self.step_ended(&id, record, true, detail).await?;
        Ok(state)
    }

    /// A deploy or publish that failed: the step's record and the mission's error say why, so
    /// the mission ends with that reason; the error goes on to the state machine. A retry
    /// resumes at the failed step.
    async fn delivery_failed(
        &self,
        id: &MissionId,
        record: StepRecord,
        step: DeliveryStep,
        attempt: u32,
        error: PortError,
    ) -> StepError {
        let reason = format!("{} failed: {error}", step.name());
        if let Err(e) = self.step_ended(id, record, false, error.to_string()).await {
            return e;
        }
        if let Err(e) = self
            .update(id, |m| {
                m.error = Some(reason.clone());
                m.resume = Some(ResumePoint { step, attempt });
                Ok(())
            })
            .await
        {
            return e;
        }
        error.into()
    }

    async fn seal(&self, state: PipelineState) -> StepResult<PipelineState> {
        let id = state.mission_id.clone();
        let record = self.step_started(&id, StepName::Evidence, state.attempt()).await?;
        let mission = self.mission(&id).await?;
        let (status, reason) = match mission.status {
            MissionStatus::Cancelled => (MissionStatus::Cancelled, mission.error.clone()),
            _ => final_status(&state),
        };
        let outcomes = mission.feature_outcomes();
        let delivery = Delivery::of(&outcomes);
        self.evidence
            .append(
                &id,
                kinds::MISSION_FINAL,
                json!({
                    "status": status,
                    "reason": reason,
                    "dispatch": state.dispatch,
                    "failure": state.failure,
                    "attempts": mission.attempts,
                    "heals": mission.heals,
                    "url": mission.url,
                    "branch": mission.branch,
                    "pr_url": mission.pr_url,
                    "features": outcomes,
                    "delivery": delivery.summary(),
                }),
            )
            .await?;
        let head = self.evidence.seal(&id, state.dispatch).await?;
        self.update(&id, |m| {
            m.evidence_url = Some(format!("/gantry/missions/{id}/evidence"));
            Ok(())
        })
        .await?;
        self.step_ended(
            &id,
            record,
            true,
            format!("sealed and signed; head {}", &head[..16.min(head.len())]),
        )
        .await?;
        Ok(state)
    }

    async fn finalize(&self, state: PipelineState) -> StepResult<PipelineState> {
        let id = state.mission_id.clone();
        let record = self.step_started(&id, StepName::Finalize, state.attempt()).await?;
        let (status, reason) = final_status(&state);
        let finalized_here = std::sync::atomic::AtomicBool::new(false);
        let mission = self
            .update(&id, |m| {
                finalized_here.store(false, std::sync::atomic::Ordering::Relaxed);
                if m.status.is_final() {
                    return Ok(());
                }
                m.status = match m.status.transition(status) {
                    Ok(next) => next,
                    // A failure path can end a mission from any in-flight status.
                    Err(_) if matches!(status, MissionStatus::Failed | MissionStatus::Timeout) => status,
                    Err(e) => return Err(StepError::Failed(e.to_string())),
                };
                let interrupted = reason.as_deref() == Some("interrupted");
                m.error = if status.is_successful() {
                    None
                } else if status == MissionStatus::Timeout || interrupted {
                    reason.clone()
                } else {
                    m.error.clone().or_else(|| reason.clone())
                };
                if state.evidence_failure.is_some() && m.evidence_url.is_none() {
                    tracing::error!("evidence could not be sealed");
                }
                finalized_here.store(true, std::sync::atomic::Ordering::Relaxed);
                Ok(())
            })
            .await?;
        tracing::info!(status = %mission.status, "mission finished");
        self.step_ended(&id, record, true, format!("{}", mission.status)).await?;
        if finalized_here.load(std::sync::atomic::Ordering::Relaxed) {
            let steps = self.store.steps(&id).await?;
            crate::metrics::emit(&crate::metrics::mission_emf(&mission, &steps));
        }
        Ok(state)
    }
}

/// The pull request's description: what was asked, what was built and checked, where it runs,
/// and how to verify its evidence.
fn pull_request_body(mission: &Mission, report: Option<&BuildReport>, evidence_head: &str) -> String {
    let id = &mission.id;
    let mut body = format!("Built by Gantry for mission `{id}`: {}.\n", mission.title);
    if let Some(consultation) = &mission.consultation {
        if let Some(plan) = &consultation.proposal {
            body.push_str(&format!("\n## Plan\n\n{}\n", plan.trim()));
        }
        if !consultation.features.is_empty() {
            body.push_str("\n## Features\n\n");
            for feature in &consultation.features {
                body.push_str(&format!("- {feature}\n"));
            }
        }
    }
    body.push_str("\n## Audit\n\n");
    match report {
        Some(r) => body.push_str(&format!(
            "{} on attempt {} in {:.1} s ({}), exit code {}; log sha256 `{}`\n",
            if r.passed { "Passed" } else { "Failed" },
            mission.attempts.max(1),
            r.duration_ms as f64 / 1000.0,
            r.isolation,
            r.exit_code.map_or("none".into(), |c| c.to_string()),
            r.log_sha256
        )),
        None => body.push_str("No build report was found.\n"),
    }
    if let Some(url) = &mission.url {
        body.push_str(&format!("\n## Preview\n\n{url}\n"));
    }
    body.push_str(&format!(
        "\n## Evidence\n\nHead hash (sha256, before this pull request was recorded): `{evidence_head}`\n\n\
         Verify the whole chain, every artifact and its signature with:\n\n    gantry verify {id}\n\n\
         or, from an exported pack: `gantry verify --file pack.json --artifacts DIR`\n"
    ));
    if let Some(trace) = &mission.trace_url {
        body.push_str(&format!("\nTrace: {trace}\n"));
    }
    body
}

/// The brief a mission was consented on; a direct build has its title as the only note.
pub fn brief_of(mission: &Mission) -> Brief {
    let mut brief = mission.consultation.as_ref().map(|c| c.brief.clone()).unwrap_or_default();
    if brief.title.is_none() {
        brief.title = Some(mission.title.clone());
    }
    if brief.notes.is_empty() {
        brief.notes.push(mission.title.clone());
    }
    brief
}

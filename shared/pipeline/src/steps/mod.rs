//! The pipeline's step handlers. The `steps` Lambdas and the local executor call these same
//! functions with the state object of `statemachine/mission.asl.json`. Split along the run:
//! [`draft`] (draft, policy, heal), [`build`] (prepare and collect a build), [`deliver`] (deploy,
//! publish) and [`seal`] (evidence, finalize); this module holds the shared plumbing.

mod build;
mod deliver;
mod draft;
mod seal;

pub use build::{build_keys, manifest_key, BuildJobDoc, DesignImageRef};
pub use seal::final_status;

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

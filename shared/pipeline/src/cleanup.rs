//! The cleanup run: gathers candidates through ports, asks the domain's rules
//! (`gantry_domain::cleanup`), acts, and counts every action in a serializable summary.
//!
//! Used by `gantry serve` on an interval, by `gantry cleanup` once, and by the `cleanup` Lambda.
//! A run is idempotent: everything it changes leaves the set of candidates, so a second run right
//! after finds nothing to do. Evidence is out of reach by construction: [`CleanupDeps`] holds no
//! evidence store, and the only object deletion refuses every key but design-image uploads.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use gantry_domain::cleanup::CleanupConfig;
use gantry_domain::cleanup::{self as rules, ExecutionEnd, UPLOADS_PREFIX};
use gantry_domain::{MissionId, StepName, StepRecord, StepStatus};
use gantry_ports::{
    AttachedImages, BuildTasks, Change, ExecutionState, MissionFiles, MissionStore, ObjectStore,
    Orchestrator, PortError, PortResult, UpdateError,
};

/// What a cleanup run may touch. There is deliberately no evidence store here.
#[derive(Clone)]
pub struct CleanupDeps {
    pub store: Arc<dyn MissionStore>,
    pub images: Arc<dyn AttachedImages>,
    /// The artifacts store, where design images are uploaded.
    pub objects: Arc<dyn ObjectStore>,
    pub orchestrator: Arc<dyn Orchestrator>,
    pub builds: Arc<dyn BuildTasks>,
    pub files: Arc<dyn MissionFiles>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CleanupRule {
    ExpireConsultation,
    ReconcileMission,
    StopBuild,
    DeleteUpload,
    PrunePreview,
    PruneWorkDirs,
}

impl CleanupRule {
    pub fn as_str(self) -> &'static str {
        match self {
            CleanupRule::ExpireConsultation => "expire_consultation",
            CleanupRule::ReconcileMission => "reconcile_mission",
            CleanupRule::StopBuild => "stop_build",
            CleanupRule::DeleteUpload => "delete_upload",
            CleanupRule::PrunePreview => "prune_preview",
            CleanupRule::PruneWorkDirs => "prune_work_dirs",
        }
    }
}

/// One thing a run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CleanupAction {
    pub rule: CleanupRule,
    /// Absent only for uploads, which belong to no mission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mission_id: Option<MissionId>,
    /// The object key or build task the action was about, when it was not the mission itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub detail: String,
}

/// What a run did, counted per rule; `gantry cleanup` prints it as JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CleanupSummary {
    pub expired_consultations: u64,
    pub reconciled_missions: u64,
    pub stopped_builds: u64,
    pub deleted_uploads: u64,
    pub pruned_previews: u64,
    pub pruned_work_dirs: u64,
    pub actions: Vec<CleanupAction>,
    /// Rules or items that could not be processed this run (the next run tries again).
    pub errors: Vec<String>,
}

impl CleanupSummary {
    /// How many actions the run took.
    pub fn total(&self) -> u64 {
        self.expired_consultations
            + self.reconciled_missions
            + self.stopped_builds
            + self.deleted_uploads
            + self.pruned_previews
            + self.pruned_work_dirs
    }

    fn record(
        &mut self,
        rule: CleanupRule,
        mission_id: Option<&MissionId>,
        target: Option<String>,
        detail: String,
    ) {
        match mission_id {
            Some(id) => {
                tracing::info!(mission_id = %id, rule = rule.as_str(), target = target.as_deref(), %detail, "cleanup")
            }
            None => tracing::info!(rule = rule.as_str(), target = target.as_deref(), %detail, "cleanup"),
        }
        let counter = match rule {
            CleanupRule::ExpireConsultation => &mut self.expired_consultations,
            CleanupRule::ReconcileMission => &mut self.reconciled_missions,
            CleanupRule::StopBuild => &mut self.stopped_builds,
            CleanupRule::DeleteUpload => &mut self.deleted_uploads,
            CleanupRule::PrunePreview => &mut self.pruned_previews,
            CleanupRule::PruneWorkDirs => &mut self.pruned_work_dirs,
        };
        *counter += 1;
        self.actions.push(CleanupAction { rule, mission_id: mission_id.cloned(), target, detail });
    }

    fn error(&mut self, rule: CleanupRule, mission_id: Option<&MissionId>, error: &PortError) {
        match mission_id {
            Some(id) => {
                tracing::warn!(mission_id = %id, rule = rule.as_str(), %error, "cleanup action failed")
            }
            None => tracing::warn!(rule = rule.as_str(), %error, "cleanup action failed"),
        }
        let about = mission_id.map(|id| format!(" (mission {id})")).unwrap_or_default();
        self.errors.push(format!("{}{about}: {error}", rule.as_str()));
    }
}

/// Runs every rule once, as of `now`. Failures of one item are counted in `errors` and do not
/// stop the others.
pub async fn run_cleanup(deps: &CleanupDeps, config: &CleanupConfig, now: DateTime<Utc>) -> CleanupSummary {
    let mut summary = CleanupSummary::default();
    expire_consultations(deps, config, now, &mut summary).await;
    stop_overdue_builds(deps, config, now, &mut summary).await;
    reconcile_missions(deps, config, now, &mut summary).await;
    delete_abandoned_uploads(deps, config, now, &mut summary).await;
    prune_old_missions(deps, config, now, &mut summary).await;
    if summary.total() == 0 && summary.errors.is_empty() {
        tracing::debug!("cleanup run finished: nothing to do");
    } else {
        tracing::info!(actions = summary.total(), errors = summary.errors.len(), "cleanup run finished");
    }
    summary
}

async fn expire_consultations(
    deps: &CleanupDeps,
    config: &CleanupConfig,
    now: DateTime<Utc>,
    summary: &mut CleanupSummary,
) {
    let rule = CleanupRule::ExpireConsultation;
    let candidates =
        match deps.store.awaiting_input_before(rules::cutoff(now, config.consultation_idle)).await {
            Ok(missions) => missions,
            Err(e) => return summary.error(rule, None, &e),
        };
    for candidate in candidates {
        let id = candidate.id;
        let mut detail = None;
        let result = gantry_ports::update(deps.store.as_ref(), &id, &[], |mission| {
            detail = None;
            if !rules::consultation_has_expired(mission, now, config)
                || rules::expire(mission, now, config).is_err()
            {
                return Ok::<_, PortError>(Change::Keep);
            }
            detail = mission.error.clone();
            Ok(Change::Save)
        })
        .await;
        match result {
            Ok(_) => {
                if let Some(detail) = detail {
                    summary.record(rule, Some(&id), None, detail);
                }
            }
            // Gone, or still changing: left for the next run.
            Err(UpdateError::NotFound(_)) | Err(UpdateError::Contended { .. }) => {}
            Err(UpdateError::Refused(e)) | Err(UpdateError::Port(e)) => summary.error(rule, Some(&id), &e),
        }
    }
}

async fn stop_overdue_builds(
    deps: &CleanupDeps,
    config: &CleanupConfig,
    now: DateTime<Utc>,
    summary: &mut CleanupSummary,
) {
    let rule = CleanupRule::StopBuild;
    let builds = match deps.builds.running_started_before(rules::cutoff(now, config.build_max_age)).await {
        Ok(builds) => builds,
        Err(e) => return summary.error(rule, None, &e),
    };
    let limit = rules::human_duration(config.build_max_age);
    for build in builds.into_iter().filter(|b| rules::build_is_overdue(b.started_at, now, config)) {
        let reason = format!("attempt {} ran past its deadline of {limit}", build.attempt);
        match deps.builds.stop_build(&build, &reason).await {
            Ok(true) => summary.record(rule, Some(&build.mission), Some(build.task_id.clone()), reason),
            Ok(false) => {}
            Err(e) => summary.error(rule, Some(&build.mission), &e),
        }
    }
}

fn execution_end(state: ExecutionState) -> Option<ExecutionEnd> {
    match state {
        ExecutionState::Running => None,
        ExecutionState::Succeeded => Some(ExecutionEnd::Succeeded),
        ExecutionState::Failed => Some(ExecutionEnd::Failed),
        ExecutionState::TimedOut => Some(ExecutionEnd::TimedOut),
        ExecutionState::Aborted => Some(ExecutionEnd::Aborted),
        ExecutionState::Missing => Some(ExecutionEnd::Missing),
    }
}

async fn reconcile_missions(
    deps: &CleanupDeps,
    config: &CleanupConfig,
    now: DateTime<Utc>,
    summary: &mut CleanupSummary,
) {
    let rule = CleanupRule::ReconcileMission;
    let candidates = match deps.store.in_flight().await {
        Ok(missions) => missions,
        Err(e) => return summary.error(rule, None, &e),
    };
    for candidate in candidates {
        let id = candidate.id.clone();
        let end = match deps.orchestrator.describe(&id).await {
            Ok(state) => execution_end(state),
            Err(e) => {
                summary.error(rule, Some(&id), &e);
                continue;
            }
        };
        let Some(end) = end else { continue };
        match reconcile_one(deps, config, now, candidate, end).await {
            Ok(Some(reason)) => summary.record(rule, Some(&id), None, reason),
            Ok(None) => {}
            Err(e) => summary.error(rule, Some(&id), &e),
        }
    }
}

/// Ends one mission per the domain's reconciliation, re-deciding on the fresh record after a lost race.
async fn reconcile_one(
    deps: &CleanupDeps,
    config: &CleanupConfig,
    now: DateTime<Utc>,
    mission: gantry_domain::Mission,
    end: ExecutionEnd,
) -> PortResult<Option<String>> {
    let mut applied = None;
    let result = gantry_ports::update(deps.store.as_ref(), &mission.id, &[], |mission| {
        applied = None;
        let Some(reconciliation) = rules::reconcile(mission, end, now, config) else {
            return Ok::<_, PortError>(Change::Keep);
        };
        let attempt = mission.attempts.max(1);
        if rules::apply_reconciliation(mission, &reconciliation, now).is_err() {
            return Ok(Change::Keep);
        }
        applied = Some((reconciliation, attempt));
        Ok(Change::Save)
    })
    .await;
    let mission = match result {
        Ok(mission) => mission,
        Err(UpdateError::NotFound(_)) | Err(UpdateError::Contended { .. }) => return Ok(None),
        Err(UpdateError::Refused(e)) | Err(UpdateError::Port(e)) => return Err(e),
    };
    let Some((reconciliation, attempt)) = applied else { return Ok(None) };
    let detail = format!("{}: {}", reconciliation.status, reconciliation.reason);
    let step = StepRecord {
        name: StepName::Finalize,
        status: StepStatus::Failed,
        attempt,
        started_at: now,
        ended_at: Some(now),
        detail: Some(format!("reconciled by cleanup: {detail}")),
    };
    deps.store.record_step(&mission.id, &step).await?;
    // The pipeline never reached its finalize step, so its metrics line is written here.
    let steps = deps.store.steps(&mission.id).await?;
    crate::metrics::emit(&crate::metrics::mission_emf(&mission, &steps));
    Ok(Some(detail))
}

/// The one deletion of objects a run can make, refused for anything but an upload.
async fn delete_upload(objects: &dyn ObjectStore, key: &str) -> PortResult<()> {
    if !rules::object_may_be_deleted(key) {
        return Err(PortError::Invalid(format!("cleanup never deletes {key:?}")));
    }
    objects.delete(key).await
}

async fn delete_abandoned_uploads(
    deps: &CleanupDeps,
    config: &CleanupConfig,
    now: DateTime<Utc>,
    summary: &mut CleanupSummary,
) {
    let rule = CleanupRule::DeleteUpload;
    let uploads = match deps.objects.list(UPLOADS_PREFIX).await {
        Ok(uploads) => uploads,
        Err(e) => return summary.error(rule, None, &e),
    };
    let cutoff = rules::cutoff(now, config.upload_grace);
    for upload in uploads.into_iter().filter(|u| u.modified < cutoff && rules::object_may_be_deleted(&u.key))
    {
        let attached = match deps.images.is_attached(&upload.key).await {
            Ok(attached) => attached,
            Err(e) => {
                summary.error(rule, None, &e);
                continue;
            }
        };
        if !rules::upload_is_abandoned(&upload.key, upload.modified, attached, now, config) {
            continue;
        }
        match delete_upload(deps.objects.as_ref(), &upload.key).await {
            Ok(()) => summary.record(
                rule,
                None,
                Some(upload.key.clone()),
                format!(
                    "never attached to a mission; uploaded {}",
                    upload.modified.format("%Y-%m-%d %H:%M UTC")
                ),
            ),
            Err(e) => summary.error(rule, None, &e),
        }
    }
}

async fn prune_old_missions(
    deps: &CleanupDeps,
    config: &CleanupConfig,
    now: DateTime<Utc>,
    summary: &mut CleanupSummary,
) {
    let candidates = match deps.store.final_before(rules::cutoff(now, config.retention)).await {
        Ok(missions) => missions,
        Err(e) => return summary.error(CleanupRule::PrunePreview, None, &e),
    };
    let retention = rules::human_duration(config.retention);
    for mission in candidates.into_iter().filter(|m| rules::past_retention(m, now, config)) {
        match deps.files.prune(&mission.id).await {
            Ok(pruned) => {
                let detail = format!("{} and unchanged for over {retention}", mission.status);
                if pruned.preview {
                    summary.record(CleanupRule::PrunePreview, Some(&mission.id), None, detail.clone());
                }
                if pruned.work_dirs {
                    summary.record(CleanupRule::PruneWorkDirs, Some(&mission.id), None, detail);
                }
            }
            Err(e) => summary.error(CleanupRule::PrunePreview, Some(&mission.id), &e),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;
    use std::time::{Duration, SystemTime};

    use async_trait::async_trait;

    use gantry_domain::consultation::Consultation;
    use gantry_domain::report::BuildLimits;
    use gantry_domain::{GantryManifest, Mission, MissionStatus, Subject};
    use gantry_local::{FsObjectStore, LocalMissionFiles, SqliteStore, TrackedBuildRunner};
    use gantry_ports::{object_keys, BuildJob, BuildRunner, Execution};

    use super::*;

    /// Execution states as a test sets them; a mission it knows nothing of has no execution.
    #[derive(Default)]
    struct Executions(Mutex<HashMap<MissionId, ExecutionState>>);

    impl Executions {
        fn set(&self, id: &MissionId, state: ExecutionState) {
            self.0.lock().unwrap().insert(id.clone(), state);
        }
    }

    #[async_trait]
    impl Orchestrator for Executions {
        async fn start(&self, _mission: &gantry_domain::Mission) -> PortResult<Execution> {
            Ok(Execution { started: false, trace_url: None })
        }
        async fn describe(&self, mission: &MissionId) -> PortResult<ExecutionState> {
            Ok(self.0.lock().unwrap().get(mission).copied().unwrap_or(ExecutionState::Missing))
        }
        async fn stop(&self, _mission: &MissionId, _reason: &str) -> PortResult<()> {
            Ok(())
        }
    }

    struct Harness {
        dir: tempfile::TempDir,
        store: SqliteStore,
        objects: Arc<FsObjectStore>,
        evidence: Arc<FsObjectStore>,
        executions: Arc<Executions>,
        builds: Arc<TrackedBuildRunner>,
        deps: CleanupDeps,
    }

    impl Harness {
        fn new() -> Self {
            Self::with_runner(Arc::new(gantry_sandbox::LocalBuildRunner::new(PathBuf::from("/nonexistent"))))
        }

        fn with_runner(inner: Arc<dyn BuildRunner>) -> Self {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path().canonicalize().unwrap();
            let store = SqliteStore::open(&root.join("gantry.db")).unwrap();
            let objects =
                Arc::new(FsObjectStore::new(root.join("objects"), "http://127.0.0.1:9", b"k".to_vec()));
            let evidence =
                Arc::new(FsObjectStore::new(root.join("evidence"), "http://127.0.0.1:9", b"k".to_vec()));
            let executions = Arc::new(Executions::default());
            let builds = Arc::new(TrackedBuildRunner::new(inner));
            let files = Arc::new(LocalMissionFiles::new(root.join("previews"), root.join("work")).unwrap());
            let deps = CleanupDeps {
                store: Arc::new(store.clone()),
                images: Arc::new(store.clone()),
                objects: objects.clone(),
                orchestrator: executions.clone(),
                builds: builds.clone(),
                files,
            };
            Self { dir, store, objects, evidence, executions, builds, deps }
        }

        fn root(&self) -> PathBuf {
            self.dir.path().canonicalize().unwrap()
        }

        async fn mission(&self, status: MissionStatus, updated: DateTime<Utc>) -> Mission {
            let mut m = Mission::new(
                Subject::new("owner"),
                "a test app",
                status,
                updated - chrono::Duration::minutes(5),
            );
            m.updated_at = updated;
            self.store.create(&m, &[]).await.unwrap();
            m
        }

        async fn status(&self, id: &MissionId) -> Mission {
            self.store.get(id).await.unwrap().unwrap()
        }

        /// A sealed pack and an artifact for the mission, written long ago.
        async fn seal_evidence(&self, id: &MissionId) -> Vec<(String, Vec<u8>)> {
            let items = vec![
                (object_keys::evidence::pack(id, 0), br#"{"records":[]}"#.to_vec()),
                (object_keys::evidence::artifact(id, "manifest-1.json"), b"{}".to_vec()),
                (
                    object_keys::evidence::artifact(id, "design-reference.png"),
                    b"\x89PNG\r\n\x1a\nimage".to_vec(),
                ),
            ];
            for (key, bytes) in &items {
                self.evidence.put(key, bytes, "application/octet-stream").await.unwrap();
                age(&self.evidence.root().join(key), Duration::from_secs(400 * 86_400));
            }
            items
        }

        async fn assert_evidence(&self, items: &[(String, Vec<u8>)]) {
            for (key, bytes) in items {
                assert_eq!(
                    self.evidence.get(key).await.unwrap().as_ref(),
                    Some(bytes),
                    "{key} must survive cleanup"
                );
            }
        }
    }

    fn age(path: &Path, by: Duration) {
        let file = std::fs::File::options().write(true).open(path).unwrap();
        file.set_modified(SystemTime::now() - by).unwrap();
    }

    /// Whether the slow audit's `sleep` is alive anywhere on the machine.
    fn audit_is_running() -> bool {
        std::fs::read_dir("/proc").into_iter().flatten().flatten().any(|entry| {
            std::fs::read(entry.path().join("cmdline"))
                .is_ok_and(|cmd| cmd.windows(7).any(|w| w == b"61.4321"))
        })
    }

    fn days(n: i64) -> chrono::Duration {
        chrono::Duration::days(n)
    }

    fn assert_idle(summary: &CleanupSummary) {
        assert_eq!(summary, &CleanupSummary::default(), "a second run must do nothing");
    }

    #[tokio::test]
    async fn idle_consultations_expire_once() {
        let h = Harness::new();
        let now = Utc::now();
        let config = CleanupConfig::default();
        let idle = h.mission(MissionStatus::AwaitingInput, now - days(2)).await;
        let active = h.mission(MissionStatus::AwaitingInput, now - chrono::Duration::hours(2)).await;
        let done = h.mission(MissionStatus::Success, now - days(2)).await;

        let summary = run_cleanup(&h.deps, &config, now).await;
        assert_eq!(summary.expired_consultations, 1, "{summary:?}");
        assert_eq!(summary.total(), 1);
        assert_eq!(summary.actions[0].mission_id.as_ref(), Some(&idle.id));
        let expired = h.status(&idle.id).await;
        assert_eq!(expired.status, MissionStatus::Expired);
        assert_eq!(expired.error.as_deref(), Some("the consultation expired: no reply for 1 d"));
        assert_eq!(h.status(&active.id).await.status, MissionStatus::AwaitingInput);
        assert_eq!(h.status(&done.id).await.status, MissionStatus::Success);

        assert_idle(&run_cleanup(&h.deps, &config, now).await);
    }

    #[tokio::test]
    async fn the_idle_time_is_configurable() {
        let h = Harness::new();
        let now = Utc::now();
        let m = h.mission(MissionStatus::AwaitingInput, now - chrono::Duration::seconds(120)).await;
        assert_idle(&run_cleanup(&h.deps, &CleanupConfig::default(), now).await);
        let short = CleanupConfig::new(60, 30, 180);
        assert_eq!(run_cleanup(&h.deps, &short, now).await.expired_consultations, 1);
        assert_eq!(h.status(&m.id).await.status, MissionStatus::Expired);
    }

    #[tokio::test]
    async fn missions_whose_execution_ended_are_reconciled() {
        let h = Harness::new();
        let now = Utc::now();
        let config = CleanupConfig::default();
        let failed = h.mission(MissionStatus::Building, now - chrono::Duration::minutes(1)).await;
        let timed_out = h.mission(MissionStatus::Deploying, now - chrono::Duration::minutes(1)).await;
        let running = h.mission(MissionStatus::Building, now - days(1)).await;
        let lost = h.mission(MissionStatus::Drafting, now - chrono::Duration::hours(1)).await;
        let just_queued = h.mission(MissionStatus::Queued, now - chrono::Duration::seconds(5)).await;
        h.executions.set(&failed.id, ExecutionState::Failed);
        h.executions.set(&timed_out.id, ExecutionState::TimedOut);
        h.executions.set(&running.id, ExecutionState::Running);

        let summary = run_cleanup(&h.deps, &config, now).await;
        assert_eq!(summary.reconciled_missions, 3, "{summary:?}");
        assert_eq!(summary.total(), 3);
        let f = h.status(&failed.id).await;
        assert_eq!(
            (f.status, f.error.as_deref()),
            (MissionStatus::Failed, Some("the pipeline failed while BUILDING"))
        );
        let t = h.status(&timed_out.id).await;
        assert_eq!(
            (t.status, t.error.as_deref()),
            (MissionStatus::Timeout, Some("the pipeline timed out while DEPLOYING"))
        );
        let l = h.status(&lost.id).await;
        assert_eq!(l.status, MissionStatus::Failed);
        assert!(l.error.as_deref().unwrap_or_default().contains("no pipeline execution"), "{:?}", l.error);
        assert_eq!(h.status(&running.id).await.status, MissionStatus::Building);
        assert_eq!(h.status(&just_queued.id).await.status, MissionStatus::Queued);
        let steps = h.store.steps(&failed.id).await.unwrap();
        let finalize = steps.iter().find(|s| s.name == StepName::Finalize).unwrap();
        assert_eq!(finalize.status, StepStatus::Failed);
        assert!(finalize.detail.as_deref().unwrap_or_default().starts_with("reconciled by cleanup: FAILED"));

        assert_idle(&run_cleanup(&h.deps, &config, now).await);
    }

    #[tokio::test]
    async fn a_build_past_its_deadline_is_killed() {
        let dir = tempfile::tempdir().unwrap();
        let work_root = dir.path().canonicalize().unwrap().join("work");
        let h = Harness::with_runner(Arc::new(gantry_sandbox::LocalBuildRunner::new(work_root.clone())));
        let mission = h.mission(MissionStatus::Building, Utc::now()).await;
        h.executions.set(&mission.id, ExecutionState::Running);
        let manifest: GantryManifest = serde_json::from_value(serde_json::json!({
            "project_name": "slow", "stack": "static",
            "files": [{"path": "index.html", "content": "<p>slow</p>"}],
            "audit_command": "echo started; sleep 61.4321; echo never"
        }))
        .unwrap();
        let limits = BuildLimits { timeout_seconds: 120, ..BuildLimits::default() };
        let job = BuildJob { mission: mission.id.clone(), attempt: 1, manifest, design_image: None, limits };
        let started = std::time::Instant::now();
        let build = {
            let runner = h.builds.clone();
            tokio::spawn(async move { runner.run(&job).await })
        };
        let far = Utc::now() + days(1);
        while h.builds.running_started_before(far).await.unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // The audit is really running inside the sandbox before its deadline is declared past.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !audit_is_running() {
            assert!(std::time::Instant::now() < deadline, "the audit never started");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        let config = CleanupConfig { build_max_age: Duration::ZERO, ..CleanupConfig::default() };
        let summary = run_cleanup(&h.deps, &config, Utc::now()).await;
        assert_eq!(summary.stopped_builds, 1, "{summary:?}");
        assert_eq!(summary.actions[0].mission_id.as_ref(), Some(&mission.id));
        assert_eq!(summary.actions[0].target, Some(format!("{}/attempt-1", mission.id)));
        let ended = tokio::time::timeout(Duration::from_secs(10), build).await.unwrap().unwrap();
        match ended {
            Err(PortError::Failed(message)) => assert!(message.contains("past its deadline"), "{message}"),
            other => panic!("the build should have been stopped, got {other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(20), "the 60 s audit must not have run to its end");
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while audit_is_running() {
            assert!(std::time::Instant::now() < deadline, "the stopped audit's process is still alive");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        assert_idle(&run_cleanup(&h.deps, &config, Utc::now()).await);
    }

    #[tokio::test]
    async fn only_abandoned_uploads_go_and_evidence_stays() {
        let h = Harness::new();
        let now = Utc::now();
        let config = CleanupConfig::default();
        let png = b"\x89PNG\r\n\x1a\nimage".to_vec();
        let (abandoned, attached, fresh) = (
            "uploads/0123456789abcdef/0001.png",
            "uploads/0123456789abcdef/0002.png",
            "uploads/0123456789abcdef/0003.png",
        );
        for key in [abandoned, attached, fresh] {
            h.objects.put(key, &png, "image/png").await.unwrap();
        }
        for key in [abandoned, attached] {
            age(&h.objects.root().join(key), Duration::from_secs(2 * 86_400));
        }
        let working = "missions/0190c0de-0000-7000-8000-000000000000/manifest-1.json";
        h.objects.put(working, b"{}", "application/json").await.unwrap();
        age(&h.objects.root().join(working), Duration::from_secs(400 * 86_400));

        let mut consultation = Consultation::new();
        consultation.brief.design_image = Some(attached.to_owned());
        let mut mission =
            Mission::new(Subject::new("owner"), "with an image", MissionStatus::AwaitingInput, now);
        mission.consultation = Some(consultation);
        h.store.create(&mission, &[]).await.unwrap();
        let evidence = h.seal_evidence(&mission.id).await;

        let summary = run_cleanup(&h.deps, &config, now).await;
        assert_eq!(summary.deleted_uploads, 1, "{summary:?}");
        assert_eq!(summary.total(), 1);
        assert_eq!(summary.actions[0].target.as_deref(), Some(abandoned));
        assert_eq!(h.objects.get(abandoned).await.unwrap(), None);
        assert_eq!(h.objects.get(attached).await.unwrap(), Some(png.clone()));
        assert_eq!(h.objects.get(fresh).await.unwrap(), Some(png));
        assert!(h.objects.get(working).await.unwrap().is_some(), "only uploads are candidates");
        h.assert_evidence(&evidence).await;

        assert_idle(&run_cleanup(&h.deps, &config, now).await);
    }

    #[tokio::test]
    async fn the_only_deletion_refuses_evidence_keys() {
        let h = Harness::new();
        let key = object_keys::evidence::pack(&MissionId::generate(), 0);
        h.objects.put(&key, b"{}", "application/json").await.unwrap();
        let refused = delete_upload(h.objects.as_ref(), &key).await;
        assert!(matches!(refused, Err(PortError::Invalid(_))), "{refused:?}");
        assert!(h.objects.get(&key).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn old_final_missions_lose_previews_and_work_dirs_but_keep_evidence() {
        let h = Harness::new();
        let now = Utc::now();
        let config = CleanupConfig::default();
        let old = h.mission(MissionStatus::Deployed, now - days(31)).await;
        let recent = h.mission(MissionStatus::Failed, now - days(29)).await;
        let old_running = h.mission(MissionStatus::Building, now - days(31)).await;
        h.executions.set(&old_running.id, ExecutionState::Running);
        let root = h.root();
        for m in [&old, &recent, &old_running] {
            let preview = root.join("previews").join(m.id.as_str());
            std::fs::create_dir_all(&preview).unwrap();
            std::fs::write(preview.join("index.html"), "<p>app</p>").unwrap();
            std::fs::create_dir_all(root.join("work").join(m.id.as_str()).join("attempt-1").join("public"))
                .unwrap();
        }
        let evidence = h.seal_evidence(&old.id).await;

        let summary = run_cleanup(&h.deps, &config, now).await;
        assert_eq!((summary.pruned_previews, summary.pruned_work_dirs), (1, 1), "{summary:?}");
        assert_eq!(summary.total(), 2);
        assert!(summary.actions.iter().all(|a| a.mission_id.as_ref() == Some(&old.id)));
        assert!(!root.join("previews").join(old.id.as_str()).exists());
        assert!(!root.join("work").join(old.id.as_str()).exists());
        for kept in [&recent, &old_running] {
            assert!(root.join("previews").join(kept.id.as_str()).join("index.html").exists());
            assert!(root.join("work").join(kept.id.as_str()).join("attempt-1").exists());
        }
        h.assert_evidence(&evidence).await;
        assert_eq!(h.status(&old.id).await.status, MissionStatus::Deployed, "pruning changes no status");

        assert_idle(&run_cleanup(&h.deps, &config, now).await);
    }

    #[tokio::test]
    async fn the_summary_serializes_with_counts_and_actions() {
        let h = Harness::new();
        let now = Utc::now();
        let m = h.mission(MissionStatus::AwaitingInput, now - days(3)).await;
        let summary = run_cleanup(&h.deps, &CleanupConfig::default(), now).await;
        let json = serde_json::to_value(&summary).unwrap();
        assert_eq!(json["expired_consultations"], 1);
        assert_eq!(json["deleted_uploads"], 0);
        assert_eq!(json["actions"][0]["rule"], "expire_consultation");
        assert_eq!(json["actions"][0]["mission_id"], m.id.as_str());
        assert_eq!(json["errors"], serde_json::json!([]));
    }
}

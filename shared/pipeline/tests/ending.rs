//! How a run ends when it does not end well, through the real `statemachine/mission.asl.json`
//! over the local shape's adapters (SQLite, files, Ed25519, the sandboxed build runner):
//! a build stopped at its time limit ends the mission TIMEOUT, and a mission caught mid-run by a
//! restart is finalized with no step left running.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;

use gantry_domain::consultation::{Brief, Consultation};
use gantry_domain::evidence::{kind, Pack};
use gantry_domain::mission::TokenUsage;
use gantry_domain::policy::Policy;
use gantry_domain::{
    BuildReport, GantryManifest, ManifestFile, Mission, MissionId, MissionStatus, Role, Stack, StepName,
    StepRecord, StepStatus, Subject, Turn,
};
use gantry_local::signer::Ed25519FileSigner;
use gantry_local::{FsObjectStore, LocalDeployer, LocalGitPublisher, SqliteStore};
use gantry_pipeline::steps::BuildIo;
use gantry_pipeline::{verify_mission_evidence, EvidenceLog, LocalOrchestrator, MissionEvidence, Steps};
use gantry_ports::{
    ConsultReply, DesignImage, Draft, EvidenceKey, ExecutionState, MissionStore, Orchestrator, PortError,
    PortResult,
};
use gantry_sandbox::LocalBuildRunner;

const PUBLIC_BASE: &str = "http://127.0.0.1:9";
const TIME_LIMIT_SECS: u64 = 2;

/// An audit that outlives any limit a test sets.
fn slow_page() -> GantryManifest {
    GantryManifest {
        project_name: "slow".into(),
        stack: Stack::Static,
        files: vec![
            ManifestFile {
                path: "index.html".into(),
                content: "<!doctype html><title>slow</title>\n".into(),
            },
            ManifestFile { path: "audit.sh".into(), content: "echo starting\nsleep 60\necho done\n".into() },
        ],
        audit_command: "sh audit.sh".into(),
        run_command: None,
        output_dir: None,
    }
}

/// Drafts the slow page; never asked to heal, since the policy allows no heals.
struct SlowBrain;

#[async_trait]
impl gantry_ports::Brain for SlowBrain {
    async fn consult(
        &self,
        _current: Option<&Consultation>,
        _conversation: &[Turn],
        _image: Option<&DesignImage>,
    ) -> PortResult<ConsultReply> {
        Err(PortError::Failed("these tests never consult".into()))
    }

    async fn draft(&self, _brief: &Brief, _image: Option<&DesignImage>) -> PortResult<Draft> {
        Ok(Draft {
            manifest: slow_page(),
            model_id: "slow-test-brain".into(),
            usage: TokenUsage { input: 1, output: 1, ..Default::default() },
            calls: Vec::new(),
            notes: "a slow audit".into(),
        })
    }

    async fn heal(
        &self,
        _brief: &Brief,
        _previous: &GantryManifest,
        _report: &BuildReport,
    ) -> PortResult<Draft> {
        Err(PortError::Failed("no heals are allowed".into()))
    }

    fn model_id(&self) -> String {
        "slow-test-brain".into()
    }
}

struct Harness {
    _dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    evidence: Arc<FsObjectStore>,
    signer: Arc<Ed25519FileSigner>,
    orchestrator: Arc<LocalOrchestrator>,
}

/// The repository's policy.yaml with a short time limit and no heals.
fn test_policy() -> Policy {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy.yaml");
    let mut policy = Policy::from_yaml(&std::fs::read_to_string(path).unwrap()).unwrap();
    policy.build.memory_mb = 256;
    policy.build.timeout_seconds = TIME_LIMIT_SECS;
    policy.build.max_pids = 64;
    policy.max_heals = 0;
    policy
}

impl Harness {
    fn new() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let root: PathBuf = dir.path().canonicalize().unwrap();
        let secret = b"ending-test-secret-0123456789abc".to_vec();
        let store = Arc::new(SqliteStore::open(&root.join("gantry.db")).unwrap());
        let objects = Arc::new(FsObjectStore::new(root.join("objects"), PUBLIC_BASE, secret.clone()));
        let evidence = Arc::new(FsObjectStore::new(root.join("evidence"), PUBLIC_BASE, secret));
        let signer = Arc::new(Ed25519FileSigner::open_or_create(&root).unwrap());
        let work_root = root.join("work");
        let steps = Steps {
            store: store.clone(),
            objects: objects.clone(),
            brain: Arc::new(SlowBrain),
            deployer: Arc::new(LocalDeployer::new(root.join("previews"), PUBLIC_BASE)),
            publisher: Arc::new(LocalGitPublisher::new(root.join("repos"))),
            evidence: EvidenceLog { objects, evidence: evidence.clone(), signer: signer.clone() },
            policy: Arc::new(test_policy()),
            build_io: BuildIo::Keys,
        };
        let orchestrator =
            LocalOrchestrator::new(steps, Arc::new(LocalBuildRunner::new(work_root))).expect("the ASL loads");
        Harness { _dir: dir, store, evidence, signer, orchestrator }
    }

    async fn mission(&self, status: MissionStatus) -> Mission {
        let now = Utc::now();
        let mission = Mission::new(Subject::new("ending-owner"), "a slow page", status, now);
        let turn = Turn { role: Role::User, content: "build a slow page, go ahead".into(), at: now };
        self.store.create(&mission, &[turn]).await.unwrap();
        mission
    }

    async fn wait(&self, id: &MissionId) -> Mission {
        let ended = tokio::time::timeout(Duration::from_secs(60), self.orchestrator.wait(id))
            .await
            .expect("the execution ends within 60 s");
        assert_eq!(ended, ExecutionState::Succeeded, "the execution itself ends cleanly");
        self.store.get(id).await.unwrap().expect("the mission exists")
    }

    /// The mission's newest pack, verified as `gantry verify` does.
    async fn verified_pack(&self, mission: &Mission) -> Pack {
        let key = EvidenceKey::public_key(self.signer.as_ref()).await.unwrap();
        match verify_mission_evidence(self.evidence.as_ref(), mission, &key).await.unwrap() {
            MissionEvidence::Checked { pack: Some(bytes), verification } => {
                assert!(verification.valid, "{:?}", verification.errors);
                serde_json::from_slice(&bytes).unwrap()
            }
            other => panic!("no sealed pack: {other:?}"),
        }
    }
}

fn last_record<'a>(pack: &'a Pack, wanted: &str) -> &'a serde_json::Value {
    &pack.records.iter().rev().find(|r| r.kind == wanted).expect("a record of that kind").data
}

#[tokio::test]
async fn a_build_past_its_time_limit_with_no_heals_left_ends_timeout() {
    let h = Harness::new();
    let mission = h.mission(MissionStatus::Queued).await;
    assert!(h.orchestrator.start(&mission).await.unwrap().started);

    let mission = h.wait(&mission.id).await;

    assert_eq!(mission.status, MissionStatus::Timeout, "{:?}", mission.error);
    let reason = mission.error.clone().expect("a timed-out mission says why");
    assert!(reason.contains("time limit"), "{reason}");
    let steps = h.store.steps(&mission.id).await.unwrap();
    let build = steps.iter().find(|s| s.name == StepName::Build).expect("a build step");
    assert_eq!(build.status, StepStatus::Failed);
    assert!(build.detail.as_deref().unwrap_or_default().contains("timed out"), "{build:?}");

    let pack = h.verified_pack(&mission).await;
    assert_eq!(last_record(&pack, kind::BUILD_REPORT)["report"]["timed_out"], true);
    assert_eq!(last_record(&pack, kind::MISSION_FINAL)["status"], "TIMEOUT");
}

#[tokio::test]
async fn recovery_closes_the_steps_an_interrupted_mission_left_running() {
    let h = Harness::new();
    let mut mission = h.mission(MissionStatus::Building).await;
    mission.attempts = 1;
    h.store.save(&mut mission, &[]).await.unwrap();
    let started_at = Utc::now() - chrono::Duration::seconds(30);
    let step =
        |name, status, ended_at| StepRecord { name, status, attempt: 1, started_at, ended_at, detail: None };
    h.store
        .record_step(&mission.id, &step(StepName::Draft, StepStatus::Succeeded, Some(started_at)))
        .await
        .unwrap();
    h.store
        .record_step(&mission.id, &step(StepName::Policy, StepStatus::Succeeded, Some(started_at)))
        .await
        .unwrap();
    h.store.record_step(&mission.id, &step(StepName::Build, StepStatus::Running, None)).await.unwrap();

    assert_eq!(h.orchestrator.recover().await.unwrap(), 1);
    let mission = h.wait(&mission.id).await;

    assert_eq!(mission.status, MissionStatus::Failed);
    assert_eq!(mission.error.as_deref(), Some("interrupted"));
    let steps = h.store.steps(&mission.id).await.unwrap();
    let running: Vec<&StepRecord> = steps.iter().filter(|s| s.status == StepStatus::Running).collect();
    assert!(running.is_empty(), "steps left running: {running:?}");
    assert!(steps.iter().all(|s| s.ended_at.is_some()), "{steps:?}");
    let build = steps.iter().find(|s| s.name == StepName::Build).unwrap();
    assert_eq!(build.status, StepStatus::Failed);
    assert!(build.ended_at.unwrap() >= build.started_at);
    assert!(build.detail.as_deref().unwrap_or_default().starts_with("interrupted"), "{build:?}");
    // The steps before the interruption keep what they recorded; the failure path still ran.
    let names: Vec<(StepName, StepStatus)> = steps.iter().map(|s| (s.name, s.status)).collect();
    for done in [(StepName::Draft, StepStatus::Succeeded), (StepName::Evidence, StepStatus::Succeeded)] {
        assert!(names.contains(&done), "{names:?}");
    }
    assert_eq!(last_record(&h.verified_pack(&mission).await, kind::MISSION_FINAL)["status"], "FAILED");
}

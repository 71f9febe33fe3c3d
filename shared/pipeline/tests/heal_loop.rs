//! The heal loop, end to end through the real `statemachine/mission.asl.json`: a failing build
//! is healed and rebuilt at most `max_heals` times, every healed manifest goes through the
//! policy gate again, and each run's evidence pack verifies.
//!
//! Everything is the local shape's real adapters (SQLite, files, Ed25519, the sandboxed build
//! runner, the local deployer and git publisher) in a temp dir; only the brain is scripted.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use serde_json::Value;

use gantry_domain::consultation::{Brief, Consultation};
use gantry_domain::evidence::{self, kind, ArtifactRef, Pack};
use gantry_domain::mission::TokenUsage;
use gantry_domain::policy::Policy;
use gantry_domain::{
    BuildReport, GantryManifest, ManifestFile, Mission, MissionId, MissionStatus, Role, Stack, StepName,
    StepStatus, Subject, Turn,
};
use gantry_local::signer::Ed25519FileSigner;
use gantry_local::{FsObjectStore, LocalDeployer, LocalGitPublisher, SqliteStore};
use gantry_pipeline::steps::BuildIo;
use gantry_pipeline::{EvidenceLog, LocalOrchestrator, Steps};
use gantry_ports::{
    object_keys, BuildJob, BuildOutcome, BuildRunner, ConsultReply, DesignImage, Draft, ExecutionState,
    MissionStore, ObjectStore, Orchestrator, PortError, PortResult,
};
use gantry_sandbox::{LocalBuildRunner, NodeDeps};
use StepName::{Build, Deploy, Draft as DraftStep, Evidence, Finalize, Heal, Policy as PolicyStep, Publish};
use StepStatus::{Failed, Succeeded};

const MAX_HEALS: u32 = 2;
const PUBLIC_BASE: &str = "http://127.0.0.1:9";

/// A static page showing `marker`, whose audit passes only when the page says `audit_wants`.
fn page(marker: &str, audit_wants: &str) -> GantryManifest {
    GantryManifest {
        project_name: "heal-loop".into(),
        stack: Stack::Static,
        files: vec![ManifestFile {
            path: "index.html".into(),
            content: format!("<!doctype html><title>Heal loop</title><h1>{marker}</h1>\n"),
        }],
        audit_command: format!("test -f index.html && grep -q {audit_wants} index.html"),
        run_command: None,
        output_dir: None,
    }
}

fn passing() -> GantryManifest {
    page("fixed", "fixed")
}

fn failing(n: u32) -> GantryManifest {
    page(&format!("broken-{n}"), "fixed")
}

/// A manifest whose build would pass, but which the policy gate must refuse.
fn violating(file: &str, content: &str) -> GantryManifest {
    let mut manifest = passing();
    manifest.files.push(ManifestFile { path: file.into(), content: content.into() });
    manifest
}

/// A brain that drafts one chosen manifest and heals with the next of a script.
struct ScriptedBrain {
    draft: GantryManifest,
    heals: Mutex<VecDeque<GantryManifest>>,
    heal_calls: Mutex<usize>,
    /// The report each heal was given.
    reports: Mutex<Vec<BuildReport>>,
}

impl ScriptedBrain {
    fn new(draft: GantryManifest, heals: Vec<GantryManifest>) -> Arc<Self> {
        Arc::new(Self {
            draft,
            heals: Mutex::new(heals.into()),
            heal_calls: Mutex::new(0),
            reports: Mutex::new(Vec::new()),
        })
    }

    fn heal_calls(&self) -> usize {
        *self.heal_calls.lock().unwrap()
    }

    fn reports(&self) -> Vec<BuildReport> {
        self.reports.lock().unwrap().clone()
    }
}

fn drafted(manifest: GantryManifest, notes: &str) -> Draft {
    Draft {
        manifest,
        model_id: "scripted-test-brain".into(),
        usage: TokenUsage { input: 10, output: 20, calls: 1, ..TokenUsage::default() },
        calls: Vec::new(),
        notes: notes.into(),
    }
}

#[async_trait]
impl gantry_ports::Brain for ScriptedBrain {
    async fn consult(
        &self,
        _current: Option<&Consultation>,
        _conversation: &[Turn],
        _image: Option<&DesignImage>,
    ) -> PortResult<ConsultReply> {
        Err(PortError::Failed("the heal loop test never consults".into()))
    }

    async fn draft(&self, _brief: &Brief, _image: Option<&DesignImage>) -> PortResult<Draft> {
        Ok(drafted(self.draft.clone(), "first draft"))
    }

    async fn heal(
        &self,
        _brief: &Brief,
        _previous: &GantryManifest,
        report: &BuildReport,
    ) -> PortResult<Draft> {
        assert!(!report.passed, "heal is only asked after a failed build or a repairable refusal");
        self.reports.lock().unwrap().push(report.clone());
        let call = {
            let mut calls = self.heal_calls.lock().unwrap();
            *calls += 1;
            *calls
        };
        let next = self.heals.lock().unwrap().pop_front();
        let manifest = next.ok_or_else(|| PortError::Failed("the heal script ran out".into()))?;
        Ok(drafted(manifest, &format!("heal {call}")))
    }

    fn model_id(&self) -> String {
        "scripted-test-brain".into()
    }
}

/// The real sandboxed runner, counting the attempts it was handed.
struct CountingRunner {
    inner: LocalBuildRunner,
    attempts: Mutex<Vec<u32>>,
}

#[async_trait]
impl BuildRunner for CountingRunner {
    async fn run(&self, job: &BuildJob) -> PortResult<BuildOutcome> {
        self.attempts.lock().unwrap().push(job.attempt);
        self.inner.run(job).await
    }
}

struct Harness {
    _dir: tempfile::TempDir,
    root: PathBuf,
    store: Arc<SqliteStore>,
    signer_key_id: String,
    runner: Arc<CountingRunner>,
    brain: Arc<ScriptedBrain>,
    objects: Arc<FsObjectStore>,
    orchestrator: Arc<LocalOrchestrator>,
}

/// The repository's policy.yaml, with the sandbox limits lowered so the test is quick.
fn test_policy() -> Policy {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy.yaml");
    let text = std::fs::read_to_string(&path).expect("policy.yaml");
    let mut policy = Policy::from_yaml(&text).expect("the real policy parses");
    policy.build.memory_mb = 256;
    policy.build.timeout_seconds = 20;
    policy.build.max_pids = 64;
    policy.max_heals = MAX_HEALS;
    policy
}

/// The curated node set tests/run.sh fetched (`GANTRY_NODE_DEPS`, else the default cache).
fn test_node_deps() -> NodeDeps {
    let root = std::env::var_os("GANTRY_NODE_DEPS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/gantry/node-deps")
    });
    NodeDeps::new(root)
}

impl Harness {
    fn new(brain: Arc<ScriptedBrain>) -> Harness {
        Harness::in_dir(tempfile::tempdir().expect("tempdir"), brain)
    }

    fn in_dir(dir: tempfile::TempDir, brain: Arc<ScriptedBrain>) -> Harness {
        Harness::in_dir_with(dir, brain.clone(), brain)
    }

    /// The steps ask `steps_brain`; `brain` is the scripted one the test inspects.
    fn in_dir_with(
        dir: tempfile::TempDir,
        brain: Arc<ScriptedBrain>,
        steps_brain: Arc<dyn gantry_ports::Brain>,
    ) -> Harness {
        let root = dir.path().canonicalize().expect("canonical tempdir");
        let secret = b"heal-loop-test-secret-0123456789".to_vec();
        let store = Arc::new(SqliteStore::open(&root.join("gantry.db")).expect("sqlite"));
        let objects = Arc::new(FsObjectStore::new(root.join("objects"), PUBLIC_BASE, secret.clone()));
        let evidence = Arc::new(FsObjectStore::new(root.join("evidence"), PUBLIC_BASE, secret));
        let signer = Arc::new(Ed25519FileSigner::open_or_create(&root).expect("signing key"));
        let signer_key_id = signer.key_id().to_owned();
        // The runner creates `work/{mission}/attempt-{n}` itself, under this temp dir only.
        let work_root = root.join("work");
        let steps = Steps {
            store: store.clone(),
            objects: objects.clone(),
            brain: steps_brain,
            deployer: Arc::new(LocalDeployer::new(root.join("previews"), PUBLIC_BASE)),
            publisher: Arc::new(LocalGitPublisher::new(root.join("repos"))),
            evidence: EvidenceLog { objects: objects.clone(), evidence, signer },
            policy: Arc::new(test_policy()),
            build_io: BuildIo::Keys,
        };
        let runner = Arc::new(CountingRunner {
            inner: LocalBuildRunner::new(work_root).with_node_deps(test_node_deps()),
            attempts: Mutex::new(Vec::new()),
        });
        let orchestrator = LocalOrchestrator::new(steps, runner.clone()).expect("mission.asl.json loads");
        Harness { _dir: dir, root, store, signer_key_id, runner, brain, objects, orchestrator }
    }

    /// Creates a consented direct-build mission, runs it to the end and returns it.
    async fn run(&self, deploy: bool, publish: bool) -> Mission {
        self.run_with(deploy, publish, None).await
    }

    /// Runs a mission as `run` does; with `given`, drafting takes that manifest as it is.
    async fn run_with(&self, deploy: bool, publish: bool, given: Option<&GantryManifest>) -> Mission {
        let now = Utc::now();
        let mut mission = Mission::new(
            Subject::new("heal-loop-owner"),
            "a page that needs healing",
            MissionStatus::Queued,
            now,
        );
        mission.deploy = deploy;
        mission.publish = publish;
        if let Some(given) = given {
            let key = object_keys::given_manifest(&mission.id);
            let bytes = serde_json::to_vec(given).expect("manifest json");
            self.objects.put(&key, &bytes, "application/json").await.expect("store the given manifest");
            mission.manifest_key = Some(key);
        }
        let turn = Turn { role: Role::User, content: "build a page, go ahead".into(), at: now };
        self.store.create(&mission, &[turn]).await.expect("create mission");
        let execution = self.orchestrator.start(&mission).await.expect("start");
        assert!(execution.started);
        let ended = tokio::time::timeout(Duration::from_secs(120), self.orchestrator.wait(&mission.id))
            .await
            .expect("the mission ends within 120 s");
        assert_eq!(ended, ExecutionState::Succeeded, "the execution itself ends cleanly");
        self.store.get(&mission.id).await.expect("get").expect("the mission exists")
    }

    /// (name, attempt, status) of every step record, in the order the steps started.
    async fn steps(&self, id: &MissionId) -> Vec<(StepName, u32, StepStatus)> {
        let mut steps = self.store.steps(id).await.expect("steps");
        steps.sort_by_key(|s| s.started_at);
        steps.into_iter().map(|s| (s.name, s.attempt, s.status)).collect()
    }

    fn builds(&self) -> Vec<u32> {
        self.runner.attempts.lock().unwrap().clone()
    }

    /// The sealed pack, verified the way `gantry verify` does: chain, artifacts, signature, and
    /// that it was signed by this installation's key.
    fn verified_pack(&self, id: &MissionId) -> Pack {
        let evidence_root = self.root.join("evidence");
        let bytes =
            std::fs::read(evidence_root.join(object_keys::evidence::pack(id, 0))).expect("a sealed pack");
        let read = |a: &ArtifactRef| std::fs::read(evidence_root.join(&a.key)).ok();
        let verification = evidence::verify_json(&bytes, &read);
        assert!(verification.valid, "{:?}", verification.errors);
        let pack: Pack = serde_json::from_slice(&bytes).expect("pack json");
        let signed_by = pack.signature.as_ref().map(|s| s.key_id.clone());
        assert_eq!(signed_by.as_deref(), Some(self.signer_key_id.as_str()));
        pack
    }
}

fn kinds(pack: &Pack) -> Vec<&str> {
    pack.records.iter().map(|r| r.kind.as_str()).collect()
}

fn records<'a>(pack: &'a Pack, wanted: &str) -> Vec<&'a Value> {
    pack.records.iter().filter(|r| r.kind == wanted).map(|r| &r.data).collect()
}

#[tokio::test]
async fn a_failing_draft_healed_once_is_rebuilt_and_ships() {
    let h = Harness::new(ScriptedBrain::new(failing(1), vec![passing()]));

    let mission = h.run(true, true).await;

    assert_eq!(mission.status, MissionStatus::Success, "{:?}", mission.error);
    assert_eq!(mission.error, None);
    assert_eq!((mission.attempts, mission.heals), (2, 1));
    assert_eq!(h.builds(), vec![1, 2]);
    assert_eq!(h.brain.heal_calls(), 1);
    assert_eq!(
        h.steps(&mission.id).await,
        vec![
            (DraftStep, 1, Succeeded),
            (PolicyStep, 1, Succeeded),
            (Build, 1, Failed),
            (Heal, 2, Succeeded),
            (PolicyStep, 2, Succeeded),
            (Build, 2, Succeeded),
            (Deploy, 2, Succeeded),
            (Publish, 2, Succeeded),
            (Evidence, 2, Succeeded),
            (Finalize, 2, Succeeded),
        ]
    );
    // The healed build is what went live.
    let served = h.root.join("previews").join(mission.id.as_str()).join("index.html");
    assert!(std::fs::read_to_string(served).expect("preview").contains("<h1>fixed</h1>"));

    let pack = h.verified_pack(&mission.id);
    assert_eq!(
        kinds(&pack),
        vec![
            kind::CONSULTATION_APPROVED,
            kind::MANIFEST,
            kind::POLICY_VERDICT,
            kind::BUILD_REPORT,
            kind::HEAL,
            kind::MANIFEST,
            kind::POLICY_VERDICT,
            kind::BUILD_REPORT,
            kind::DEPLOY,
            kind::PUBLISH,
            kind::MISSION_FINAL,
        ]
    );
    let reports = records(&pack, kind::BUILD_REPORT);
    assert_eq!(reports[0]["report"]["passed"], false);
    assert_eq!(reports[1]["report"]["passed"], true);
    let names: Vec<&str> = pack.artifacts.iter().map(|a| a.name.as_str()).collect();
    for name in ["manifest-1.json", "manifest-2.json", "build-1.log", "build-2.log"] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    assert_eq!(records(&pack, kind::MISSION_FINAL)[0]["status"], "SUCCESS");
}

#[tokio::test]
async fn a_draft_that_fails_with_deploy_only_ends_deployed_after_the_heal() {
    let h = Harness::new(ScriptedBrain::new(failing(1), vec![passing()]));

    let mission = h.run(true, false).await;

    assert_eq!(mission.status, MissionStatus::Deployed, "{:?}", mission.error);
    assert_eq!(h.builds(), vec![1, 2]);
    let steps = h.steps(&mission.id).await;
    assert!(!steps.iter().any(|s| s.0 == Publish), "{steps:?}");
    assert!(!h.root.join("repos").exists(), "publish was not asked for");
    let pack = h.verified_pack(&mission.id);
    assert!(!kinds(&pack).contains(&kind::PUBLISH));
    assert_eq!(records(&pack, kind::MISSION_FINAL)[0]["status"], "DEPLOYED");
}

#[tokio::test]
async fn when_every_heal_fails_the_mission_fails_after_one_plus_max_heals_builds() {
    let heals = (2..=MAX_HEALS + 1).map(failing).collect();
    let h = Harness::new(ScriptedBrain::new(failing(1), heals));

    let mission = h.run(true, true).await;

    let builds = 1 + MAX_HEALS;
    assert_eq!(mission.status, MissionStatus::Failed);
    let reason = mission.error.clone().expect("a failed mission says why");
    assert!(reason.contains(&format!("failed after {builds} attempt(s)")), "{reason}");
    assert!(reason.contains("audit failed"), "{reason}");
    assert_eq!(h.builds(), (1..=builds).collect::<Vec<_>>());
    assert_eq!(h.brain.heal_calls(), MAX_HEALS as usize);
    assert_eq!((mission.attempts, mission.heals), (builds, MAX_HEALS));

    let mut expected = vec![(DraftStep, 1, Succeeded), (PolicyStep, 1, Succeeded), (Build, 1, Failed)];
    for attempt in 2..=builds {
        expected.extend([
            (Heal, attempt, Succeeded),
            (PolicyStep, attempt, Succeeded),
            (Build, attempt, Failed),
        ]);
    }
    expected.extend([(Evidence, builds, Succeeded), (Finalize, builds, Succeeded)]);
    assert_eq!(h.steps(&mission.id).await, expected);

    let pack = h.verified_pack(&mission.id);
    let reports = records(&pack, kind::BUILD_REPORT);
    let attempts: Vec<u64> = reports.iter().map(|r| r["attempt"].as_u64().unwrap()).collect();
    assert_eq!(attempts, (1..=u64::from(builds)).collect::<Vec<_>>(), "one build report per attempt");
    assert!(reports.iter().all(|r| r["report"]["passed"] == false && r["artifact"]["sha256"].is_string()));
    assert_eq!(records(&pack, kind::HEAL).len(), MAX_HEALS as usize);
    assert_eq!(records(&pack, kind::MANIFEST).len(), builds as usize);
    assert_eq!(records(&pack, kind::POLICY_VERDICT).len(), builds as usize);
    let names: Vec<&str> = pack.artifacts.iter().map(|a| a.name.as_str()).collect();
    for attempt in 1..=builds {
        for name in [format!("manifest-{attempt}.json"), format!("build-{attempt}.log")] {
            assert!(names.contains(&name.as_str()), "{name} missing from {names:?}");
        }
    }
    let last = records(&pack, kind::MISSION_FINAL)[0];
    assert_eq!(last["status"], "FAILED");
    assert_eq!(last["attempts"], builds);
    assert!(!kinds(&pack).contains(&kind::DEPLOY) && !kinds(&pack).contains(&kind::PUBLISH));
    assert!(!h.root.join("previews").join(mission.id.as_str()).exists());
}

#[tokio::test]
async fn a_healed_manifest_that_violates_policy_is_blocked_before_it_is_built() {
    let cases = [
        ("destructive shell", violating("setup.sh", "#!/bin/sh\nrm -rf /\n"), "content.rm_rf_root"),
        (
            "a secret",
            violating("config.js", "export const key = 'AKIAIOSFODNN7EXAMPLE';\n"),
            "secret.aws_access_key_id",
        ),
    ];
    for (what, bad, rule) in cases {
        let h = Harness::new(ScriptedBrain::new(failing(1), vec![bad, passing()]));

        let mission = h.run(true, true).await;

        assert_eq!(mission.status, MissionStatus::Blocked, "{what}: {:?}", mission.error);
        let reason = mission.error.clone().expect("a blocked mission says why");
        assert!(reason.contains("blocked by policy") && reason.contains(rule), "{what}: {reason}");
        assert_eq!(h.builds(), vec![1], "{what}: nothing is built after the violation");
        assert_eq!(h.brain.heal_calls(), 1, "{what}: no heal after the violation");
        assert_eq!(
            h.steps(&mission.id).await,
            vec![
                (DraftStep, 1, Succeeded),
                (PolicyStep, 1, Succeeded),
                (Build, 1, Failed),
                (Heal, 2, Succeeded),
                (PolicyStep, 2, Failed),
                (Evidence, 2, Succeeded),
                (Finalize, 2, Succeeded),
            ],
            "{what}"
        );
        assert!(!h.root.join("work").join(mission.id.as_str()).join("attempt-2").exists(), "{what}");

        let pack = h.verified_pack(&mission.id);
        assert_eq!(
            kinds(&pack),
            vec![
                kind::CONSULTATION_APPROVED,
                kind::MANIFEST,
                kind::POLICY_VERDICT,
                kind::BUILD_REPORT,
                kind::HEAL,
                kind::MANIFEST,
                kind::POLICY_VERDICT,
                kind::MISSION_FINAL,
            ],
            "{what}"
        );
        let verdicts = records(&pack, kind::POLICY_VERDICT);
        assert_eq!(
            (verdicts[0]["allowed"].clone(), verdicts[1]["allowed"].clone()),
            (true.into(), false.into())
        );
        let violations = verdicts[1]["violations"].as_array().expect("violations");
        assert!(violations.iter().any(|v| v["rule"] == rule), "{what}: {violations:?}");
        assert_eq!(records(&pack, kind::MISSION_FINAL)[0]["status"], "BLOCKED", "{what}");
    }
}

/// Every byte under `dir`, read without following links (a link's own target path is not content).
fn contents_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return found };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
        if meta.is_dir() {
            found.extend(contents_under(&path));
        } else if meta.is_file() {
            found.push((path.clone(), std::fs::read(&path).unwrap_or_default()));
        }
    }
    found
}

/// A harness whose draft is made knowing where the data dir's keys are, and the secrets there:
/// the real evidence signing key, and a marker secret beside it.
fn keyed(draft: impl FnOnce(&Path) -> GantryManifest, heals: Vec<GantryManifest>) -> (Harness, Vec<String>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let keys = dir.path().canonicalize().expect("canonical tempdir").join("keys");
    let h = Harness::in_dir(dir, ScriptedBrain::new(draft(&keys), heals));
    std::fs::write(keys.join("server.key"), "TOP-SECRET-KEY").expect("marker secret");
    let pem = std::fs::read_to_string(keys.join("evidence-ed25519.pem")).expect("signing key");
    let body = pem.lines().find(|l| !l.starts_with("-----")).expect("a PEM body").to_owned();
    (h, vec!["TOP-SECRET-KEY".to_owned(), body])
}

/// Neither the preview, nor the evidence, nor any stored object holds a secret.
fn assert_nowhere(h: &Harness, secrets: &[String]) {
    for area in ["previews", "evidence", "objects"] {
        for (path, bytes) in contents_under(&h.root.join(area)) {
            let text = String::from_utf8_lossy(&bytes);
            for secret in secrets {
                assert!(!text.contains(secret.as_str()), "{} holds a secret", path.display());
            }
        }
    }
}

/// A page under `public/` whose audit is the Python script `audit` (the gate allows
/// `python3 audit.py`; what the script does is the point of the test).
fn hostile(audit: String) -> GantryManifest {
    let mut manifest = passing();
    manifest.files = vec![
        ManifestFile {
            path: "public/index.html".into(),
            content: "<!doctype html><title>Hostile</title><h1>fixed</h1>\n".into(),
        },
        ManifestFile { path: "audit.py".into(), content: audit },
    ];
    manifest.audit_command = "python3 audit.py".into();
    manifest.output_dir = Some("public".into());
    manifest
}

#[tokio::test]
async fn an_output_dir_swapped_for_a_link_to_the_keys_is_never_deployed() {
    let swap = |keys: &Path| {
        hostile(format!("import os\nos.rename('public', 'x')\nos.symlink('{}', 'public')\n", keys.display()))
    };
    // The heal's build is the plain page: the mission still ships, without the keys.
    let (h, secrets) = keyed(swap, vec![passing()]);

    let mission = h.run(true, false).await;

    assert_eq!(mission.status, MissionStatus::Deployed, "{:?}", mission.error);
    assert_eq!(h.builds(), vec![1, 2], "the swapped build did not pass");
    let pack = h.verified_pack(&mission.id);
    let reports = records(&pack, kind::BUILD_REPORT);
    assert_eq!(reports[0]["report"]["passed"], false);
    assert!(reports[0]["report"]["log_tail"].as_str().is_some_and(|t| t.contains("output refused")));
    let steps = h.store.steps(&mission.id).await.expect("steps");
    let first = steps.iter().find(|s| s.name == Build && s.attempt == 1).and_then(|s| s.detail.clone());
    assert!(first.is_some_and(|d| d.contains("output was not taken") && d.contains("symlink")), "{steps:?}");
    let preview = h.root.join("previews").join(mission.id.as_str());
    assert!(std::fs::read_to_string(preview.join("index.html")).expect("preview").contains("fixed"));
    assert!(!preview.join("server.key").exists() && !preview.join("evidence-ed25519.pem").exists());
    assert_nowhere(&h, &secrets);
}

#[tokio::test]
async fn links_inside_the_output_are_left_out_of_the_preview_and_the_evidence() {
    let plant = |keys: &Path| {
        hostile(format!(
            "import os, shutil\n\
             os.symlink('{keys}/server.key', 'public/key.txt')\n\
             os.symlink('{keys}', 'public/keys')\n\
             try:\n    os.link('{keys}/server.key', 'public/linked.txt')\nexcept OSError:\n    pass\n\
             shutil.copy('public/index.html', 'public/page.html')\n\
             os.link('public/page.html', 'public/again.html')\n",
            keys = keys.display()
        ))
    };
    let (h, secrets) = keyed(plant, Vec::new());

    let mission = h.run(true, false).await;

    assert_eq!(mission.status, MissionStatus::Deployed, "{:?}", mission.error);
    let preview = h.root.join("previews").join(mission.id.as_str());
    let served: Vec<PathBuf> = contents_under(&preview).into_iter().map(|(path, _)| path).collect();
    assert_eq!(served, [preview.join("index.html")], "links and multiply-linked files stay out");
    let pack = h.verified_pack(&mission.id);
    let listed = &records(&pack, kind::BUILD_REPORT)[0]["output"]["files"];
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["path"], "index.html");
    assert_eq!(
        listed[0]["sha256"],
        evidence::sha256_hex(b"<!doctype html><title>Hostile</title><h1>fixed</h1>\n")
    );
    assert_nowhere(&h, &secrets);
}

/// A node app whose package.json declares `dependencies` (JSON members) and whose audit checks
/// that Gantry gave it a lock (the real build of a node app is the sandbox's and e2e tests' job).
fn node_app(dependencies: &str) -> GantryManifest {
    let package_json = format!(
        "{{\n  \"name\": \"tally\",\n  \"version\": \"0.1.0\",\n  \"scripts\": {{ \"build\": \"vite build\", \"test\": \"vitest run\" }},\n  \
         \"dependencies\": {{ {dependencies} }},\n  \"devDependencies\": {{ \"vite\": \"^8\", \"vitest\": \"^4\" }}\n}}\n"
    );
    GantryManifest {
        project_name: "tally".into(),
        stack: Stack::Node,
        files: vec![
            ManifestFile { path: "package.json".into(), content: package_json },
            ManifestFile { path: "src/main.tsx".into(), content: "console.log('tally');\n".into() },
        ],
        audit_command: "test -f package-lock.json && grep -q react-dom package-lock.json".into(),
        run_command: None,
        output_dir: None,
    }
}

#[tokio::test]
async fn a_dependency_outside_the_set_is_healed_and_the_healed_app_passes_the_gate() {
    let outside = node_app(r#""react": "^19", "react-dom": "^19", "left-pad": "^1.3.0""#);
    let repaired = node_app(r#""react": "^19", "react-dom": "^19""#);
    let h = Harness::new(ScriptedBrain::new(outside, vec![repaired]));

    let mission = h.run(false, false).await;

    assert_eq!(mission.status, MissionStatus::Success, "{:?}", mission.error);
    assert_eq!(mission.error, None);
    assert_eq!(mission.heals, 1);
    assert_eq!(h.builds(), vec![2], "the refused draft was never built");
    assert_eq!(
        h.steps(&mission.id).await,
        vec![
            (DraftStep, 1, Succeeded),
            (PolicyStep, 1, Failed),
            (Heal, 2, Succeeded),
            (PolicyStep, 2, Succeeded),
            (Build, 2, Succeeded),
            (Evidence, 2, Succeeded),
            (Finalize, 2, Succeeded),
        ]
    );
    let refused = mission_step_detail(&h, &mission.id, PolicyStep, 1).await;
    assert!(
        refused.contains("node.outside_set") && refused.ends_with("repairable: a heal follows"),
        "{refused}"
    );
    let healed = mission_step_detail(&h, &mission.id, Heal, 2).await;
    assert!(healed.contains("wrote package-lock.json from the curated node set"), "{healed}");

    // The heal was told what the gate refused, by package.
    let reports = h.brain.reports();
    assert_eq!(reports.len(), 1);
    assert!(reports[0].is_policy_refusal());
    assert!(
        reports[0].log_tail.contains("POLICY [node.outside_set] package.json"),
        "{}",
        reports[0].log_tail
    );
    assert!(reports[0].log_tail.contains("`left-pad`"), "{}", reports[0].log_tail);

    let pack = h.verified_pack(&mission.id);
    assert_eq!(
        kinds(&pack),
        vec![
            kind::CONSULTATION_APPROVED,
            kind::MANIFEST,
            kind::POLICY_VERDICT,
            kind::HEAL,
            kind::MANIFEST,
            kind::POLICY_VERDICT,
            kind::BUILD_REPORT,
            kind::MISSION_FINAL,
        ]
    );
    let verdicts = records(&pack, kind::POLICY_VERDICT);
    assert_eq!(
        (verdicts[0]["allowed"].clone(), verdicts[0]["repairable"].clone()),
        (false.into(), true.into())
    );
    assert_eq!(verdicts[0]["violations"][0]["rule"], "node.outside_set");
    assert_eq!(verdicts[0]["violations"][0]["repairable"], true);
    assert_eq!(verdicts[1]["allowed"], true);
    // The draft had deps outside the set, so no lock was written for it; the healed one got one.
    let manifests = records(&pack, kind::MANIFEST);
    assert!(manifests[0].get("lockfile").is_none());
    assert_eq!(manifests[1]["lockfile"]["written_from_set"], gantry_domain::node::set_id());
    assert_eq!(manifests[1]["files"], 3);
}

#[tokio::test]
async fn a_content_violation_beside_a_repairable_one_is_blocked_without_a_heal() {
    let mut app = node_app(r#""react": "^19", "react-dom": "^19", "left-pad": "^1.3.0""#);
    app.files.push(ManifestFile { path: "scripts/clean.sh".into(), content: "#!/bin/sh\nrm -rf /\n".into() });
    let h = Harness::new(ScriptedBrain::new(app, vec![node_app(r#""react": "^19""#)]));

    let mission = h.run(true, true).await;

    assert_eq!(mission.status, MissionStatus::Blocked, "{:?}", mission.error);
    let reason = mission.error.clone().expect("a blocked mission says why");
    assert!(reason.contains("content.rm_rf_root"), "{reason}");
    assert_eq!(h.brain.heal_calls(), 0);
    assert!(h.builds().is_empty());
    assert_eq!(
        h.steps(&mission.id).await,
        vec![
            (DraftStep, 1, Succeeded),
            (PolicyStep, 1, Failed),
            (Evidence, 1, Succeeded),
            (Finalize, 1, Succeeded)
        ]
    );
    let pack = h.verified_pack(&mission.id);
    assert_eq!(records(&pack, kind::POLICY_VERDICT)[0]["repairable"], false);
    assert_eq!(records(&pack, kind::MISSION_FINAL)[0]["status"], "BLOCKED");
}

#[tokio::test]
async fn repairable_refusals_that_heals_do_not_repair_end_blocked_after_max_heals() {
    let outside = || node_app(r#""react": "^19", "left-pad": "^1.3.0""#);
    let heals = (0..MAX_HEALS).map(|_| outside()).collect();
    let h = Harness::new(ScriptedBrain::new(outside(), heals));

    let mission = h.run(false, false).await;

    assert_eq!(mission.status, MissionStatus::Blocked, "{:?}", mission.error);
    assert_eq!(h.brain.heal_calls(), MAX_HEALS as usize);
    assert!(h.builds().is_empty());
    let reason = mission.error.clone().expect("a blocked mission says why");
    assert!(
        reason.contains("node.outside_set") && reason.ends_with("repairable, but no heals are left"),
        "{reason}"
    );
}

#[tokio::test]
async fn the_offline_brain_repairs_a_dependency_outside_the_set_and_the_repair_passes_the_gate() {
    let given = node_app(r#""react": "^18.2.0", "react-dom": "^19", "moment": "^2.30.0""#);
    let unused = ScriptedBrain::new(passing(), Vec::new());
    let h = Harness::in_dir_with(
        tempfile::tempdir().expect("tempdir"),
        unused,
        Arc::new(gantry_brain::OfflineBrain),
    );

    let mission = h.run_with(false, false, Some(&given)).await;

    assert_eq!(mission.status, MissionStatus::Success, "{:?}", mission.error);
    assert_eq!(h.builds(), vec![2]);
    let healed = mission_step_detail(&h, &mission.id, Heal, 2).await;
    assert!(healed.contains("removed moment") && healed.contains("set react from `^18.2.0`"), "{healed}");
    let pack = h.verified_pack(&mission.id);
    let verdicts = records(&pack, kind::POLICY_VERDICT);
    let rules: Vec<&str> =
        verdicts[0]["violations"].as_array().unwrap().iter().filter_map(|v| v["rule"].as_str()).collect();
    assert_eq!(rules, vec!["node.outside_set", "node.version_unsatisfied"]);
    assert_eq!(verdicts[1]["allowed"], true);
}

async fn mission_step_detail(h: &Harness, id: &MissionId, name: StepName, attempt: u32) -> String {
    let steps = h.store.steps(id).await.expect("steps");
    steps
        .into_iter()
        .find(|s| s.name == name && s.attempt == attempt)
        .and_then(|s| s.detail)
        .unwrap_or_else(|| panic!("no {name:?} step of attempt {attempt} with a detail"))
}

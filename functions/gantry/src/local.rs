//! The embedded shape, assembled from the data dir: every adapter built once, here.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

use gantry_brain::model::config::BrainConfig;
use gantry_brain::OfflineBrain;
use gantry_domain::policy::Policy;
use gantry_local::signer::Ed25519FileSigner;
use gantry_local::{
    FsObjectStore, LocalDeployer, LocalGitPublisher, LocalMissionFiles, MemoryRateLimiter, SqliteStore,
    TrackedBuildRunner,
};
pub use gantry_pipeline::load_policy;
use gantry_pipeline::steps::BuildIo;
use gantry_pipeline::{CleanupDeps, EvidenceLog, LocalOrchestrator, Steps};
use gantry_ports::Brain;
use gantry_sandbox::LocalBuildRunner;

pub struct Local {
    pub data_dir: PathBuf,
    pub store: SqliteStore,
    pub objects: Arc<FsObjectStore>,
    pub evidence: Arc<FsObjectStore>,
    pub policy: Arc<Policy>,
    pub orchestrator: Arc<LocalOrchestrator>,
    /// The builds this process runs, for cleanup's overdue-build rule.
    pub builds: Arc<TrackedBuildRunner>,
    pub limiter: Arc<MemoryRateLimiter>,
    pub brain: Arc<dyn Brain>,
    pub secret: Vec<u8>,
}

/// A random key kept in the data dir (mode 0600), so sessions and upload URLs survive restarts.
fn server_secret(dir: &Path) -> anyhow::Result<Vec<u8>> {
    let path = dir.join("keys").join("server.key");
    if let Ok(bytes) = std::fs::read(&path) {
        if bytes.len() == 32 {
            return Ok(bytes);
        }
    }
    std::fs::create_dir_all(path.parent().unwrap_or(dir))?;
    let mut key = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(&path)?.write_all(&key).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(key.to_vec())
}

impl Local {
    /// Opens the data dir with the offline brain (for commands that draft nothing).
    pub fn open(data_dir: &Path, public_base: &str, policy_path: Option<&Path>) -> anyhow::Result<Self> {
        Self::open_with_brain(data_dir, public_base, policy_path, Arc::new(OfflineBrain))
    }

    /// Opens the data dir with the brain `GANTRY_BRAIN` selects (offline when unset).
    pub async fn open_configured(
        data_dir: &Path,
        public_base: &str,
        policy_path: Option<&Path>,
    ) -> anyhow::Result<Self> {
        let config = BrainConfig::from_lookup(&|name| std::env::var(name).ok())
            .context("cannot configure the brain")?;
        let policy = load_policy(policy_path)?;
        let brain = config.build(&policy, None).await.context("cannot configure the brain")?;
        Self::open_with_brain(data_dir, public_base, policy_path, brain)
    }

    pub fn open_with_brain(
        data_dir: &Path,
        public_base: &str,
        policy_path: Option<&Path>,
        brain: Arc<dyn Brain>,
    ) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create the data dir {}", data_dir.display()))?;
        let data_dir = data_dir.canonicalize()?;
        let secret = server_secret(&data_dir)?;
        let store =
            SqliteStore::open(&data_dir.join("gantry.db")).context("cannot open the mission database")?;
        let objects = Arc::new(FsObjectStore::new(data_dir.join("objects"), public_base, secret.clone()));
        let evidence = Arc::new(FsObjectStore::new(data_dir.join("evidence"), public_base, secret.clone()));
        let policy = Arc::new(load_policy(policy_path)?);
        let signer = Arc::new(
            Ed25519FileSigner::open_or_create(&data_dir).context("cannot open the evidence signing key")?,
        );
        let work_root = data_dir.join("work");
        let steps = Steps {
            store: Arc::new(store.clone()),
            objects: objects.clone(),
            brain: brain.clone(),
            deployer: Arc::new(LocalDeployer::new(work_root.clone(), data_dir.join("previews"), public_base)),
            publisher: Arc::new(LocalGitPublisher::new(data_dir.join("repos"))),
            evidence: EvidenceLog { objects: objects.clone(), evidence: evidence.clone(), signer },
            policy: policy.clone(),
            build_io: BuildIo::Keys,
        };
        let builds = Arc::new(TrackedBuildRunner::new(Arc::new(LocalBuildRunner::new(work_root))));
        let orchestrator = LocalOrchestrator::new(steps, builds.clone())
            .context("cannot load statemachine/mission.asl.json")?;
        Ok(Self {
            data_dir,
            store,
            objects,
            evidence,
            policy,
            orchestrator,
            builds,
            limiter: Arc::new(MemoryRateLimiter::new()),
            brain,
            secret,
        })
    }
}

impl Local {
    /// What a cleanup run may touch here: the artifacts store, never the evidence store.
    pub fn cleanup_deps(&self) -> anyhow::Result<CleanupDeps> {
        let files = LocalMissionFiles::new(self.data_dir.join("previews"), self.data_dir.join("work"))?;
        Ok(CleanupDeps {
            store: Arc::new(self.store.clone()),
            images: Arc::new(self.store.clone()),
            objects: self.objects.clone(),
            orchestrator: self.orchestrator.clone(),
            builds: self.builds.clone(),
            files: Arc::new(files),
        })
    }
}

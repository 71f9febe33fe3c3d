//! The embedded shape, assembled from the data dir: every adapter built once, here.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

use gantry_brain::OfflineBrain;
use gantry_delivery::{DeliveryConfig, GitHubPublisher, VercelDeployer};
use gantry_domain::policy::Policy;
use gantry_local::signer::Ed25519FileSigner;
use gantry_local::{
    FsObjectStore, LocalDeployer, LocalGitPublisher, LocalMissionFiles, MemoryRateLimiter, SqliteStore,
    TrackedBuildRunner,
};
pub use gantry_pipeline::load_policy;
use gantry_pipeline::steps::BuildIo;
use gantry_pipeline::{CleanupDeps, EvidenceLog, LocalOrchestrator, Steps};
use gantry_ports::{Deployer, Publisher};
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
    pub fn open(data_dir: &Path, public_base: &str, policy_path: Option<&Path>) -> anyhow::Result<Self> {
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
        let delivery = DeliveryConfig::from_env().context("the delivery configuration is invalid")?;
        let deployer: Arc<dyn Deployer> = match delivery.vercel {
            Some(config) => {
                tracing::info!(api = %config.api_url, team = ?config.team_id, target = ?config.target, "deploying to Vercel");
                Arc::new(VercelDeployer::new(config)?)
            }
            None => Arc::new(LocalDeployer::new(work_root.clone(), data_dir.join("previews"), public_base)),
        };
        let publisher: Arc<dyn Publisher> = match delivery.github {
            Some(config) => {
                tracing::info!(api = %config.api_url, owner = %config.owner, "publishing to GitHub");
                Arc::new(GitHubPublisher::new(config)?)
            }
            None => Arc::new(LocalGitPublisher::new(data_dir.join("repos"))),
        };
        let steps = Steps {
            store: Arc::new(store.clone()),
            objects: objects.clone(),
            brain: Arc::new(OfflineBrain),
            deployer,
            publisher,
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

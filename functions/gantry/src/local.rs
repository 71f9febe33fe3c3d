//! The embedded shape, assembled from the data dir: every adapter built once, here.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

use gantry_brain::model::config::BrainConfig;
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
use gantry_ports::{Brain, Deployer, Publisher};
use gantry_sandbox::{make_private_dir, make_private_file, LocalBuildRunner, NodeDeps};

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
    /// The evidence signing key: packs of this installation's missions must carry its signature.
    pub signer: Arc<Ed25519FileSigner>,
}

/// A random key kept in the data dir (`keys/` 0700, the file 0600), so sessions and upload URLs
/// survive restarts.
fn server_secret(dir: &Path) -> anyhow::Result<Vec<u8>> {
    let keys = dir.join("keys");
    make_private_dir(&keys).with_context(|| format!("cannot make {} private", keys.display()))?;
    let path = keys.join("server.key");
    if let Ok(bytes) = std::fs::read(&path) {
        if bytes.len() == 32 {
            make_private_file(&path)?;
            return Ok(bytes);
        }
    }
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
        // Private to the server's uid: an audit (as the sandbox user) reaches none of it.
        make_private_dir(data_dir)
            .with_context(|| format!("cannot create the data dir {}", data_dir.display()))?;
        let data_dir = data_dir.canonicalize()?;
        let secret = server_secret(&data_dir)?;
        let db = data_dir.join("gantry.db");
        let store = SqliteStore::open(&db).context("cannot open the mission database")?;
        // SQLite gives its -wal and -shm files the database's own mode.
        for file in [db.clone(), data_dir.join("gantry.db-wal"), data_dir.join("gantry.db-shm")] {
            if file.exists() {
                make_private_file(&file)
                    .with_context(|| format!("cannot make {} private", file.display()))?;
            }
        }
        let objects = Arc::new(FsObjectStore::new(data_dir.join("objects"), public_base, secret.clone()));
        let evidence = Arc::new(FsObjectStore::new(data_dir.join("evidence"), public_base, secret.clone()));
        let policy = Arc::new(load_policy(policy_path)?);
        let signer = Arc::new(
            Ed25519FileSigner::open_or_create(&data_dir).context("cannot open the evidence signing key")?,
        );
        let work_root = data_dir.join("work");
        make_private_dir(&work_root)?;
        let signer_key = data_dir.join(gantry_local::signer::KEY_FILE);
        make_private_file(&signer_key)?;
        let delivery = DeliveryConfig::from_env().context("the delivery configuration is invalid")?;
        let deployer: Arc<dyn Deployer> = match delivery.vercel {
            Some(config) => {
                tracing::info!(api = %config.api_url, team = ?config.team_id, target = ?config.target, "deploying to Vercel");
                Arc::new(VercelDeployer::new(config)?)
            }
            None => Arc::new(LocalDeployer::new(data_dir.join("previews"), public_base)),
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
            brain: brain.clone(),
            deployer,
            publisher,
            evidence: EvidenceLog {
                objects: objects.clone(),
                evidence: evidence.clone(),
                signer: signer.clone(),
            },
            policy: policy.clone(),
            build_io: BuildIo::Keys,
        };
        let runner = LocalBuildRunner::new(work_root).with_node_deps(node_deps(&data_dir));
        let builds = Arc::new(TrackedBuildRunner::new(Arc::new(runner)));
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
            signer,
        })
    }
}

/// Where the curated node dependency set is fetched to and read from: `GANTRY_NODE_DEPS`, else
/// `{data_dir}/deps/node`. Sets are immutable once fetched, so several data dirs may share one.
pub fn node_deps(data_dir: &Path) -> NodeDeps {
    match std::env::var_os("GANTRY_NODE_DEPS") {
        Some(dir) if !dir.is_empty() => NodeDeps::new(PathBuf::from(dir)),
        _ => NodeDeps::new(data_dir.join("deps").join("node")),
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

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).map(|m| m.mode() & 0o777).unwrap_or_default()
    }

    #[test]
    fn the_data_dir_its_keys_database_and_work_root_are_private() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        // An existing data dir from an older version, open to everyone, is tightened too.
        std::fs::create_dir_all(data.join("keys")).unwrap();
        for dir in [&data, &data.join("keys")] {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let local = Local::open(&data, "http://127.0.0.1:1", None).unwrap();
        let data = local.data_dir.clone();
        for dir in ["", "keys", "work"] {
            assert_eq!(mode(&data.join(dir)), 0o700, "{dir:?}");
        }
        for file in ["keys/server.key", gantry_local::signer::KEY_FILE, "gantry.db"] {
            assert_eq!(mode(&data.join(file)), 0o600, "{file}");
        }
    }
}

//! The local deployer: copies the built app's output dir into the data dir, where `gantry serve`
//! serves it at `/preview/{mission_id}/`.

use std::path::{Path, PathBuf};

use async_trait::async_trait;

use gantry_ports::{DeployRequest, Deployer, Deployment, PortError, PortResult};

pub struct LocalDeployer {
    /// Where builds left their work dirs: `{work_root}/{mission}/attempt-{n}`.
    work_root: PathBuf,
    preview_root: PathBuf,
    public_base: String,
}

impl LocalDeployer {
    pub fn new(work_root: PathBuf, preview_root: PathBuf, public_base: impl Into<String>) -> Self {
        Self { work_root, preview_root, public_base: public_base.into() }
    }
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<u64> {
    std::fs::create_dir_all(to)?;
    let mut copied = 0;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let name = entry.file_name();
        // Never publish build plumbing or hidden files (e.g. the sandbox's tmp dir).
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let target = to.join(&name);
        if kind.is_dir() {
            copied += copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)?;
            copied += 1;
        }
    }
    Ok(copied)
}

#[async_trait]
impl Deployer for LocalDeployer {
    async fn deploy(&self, request: &DeployRequest) -> PortResult<Deployment> {
        let mission = request.mission.to_string();
        let mission_dir = self.work_root.join(&mission);
        let output = request.manifest.output_dir().to_owned();
        let preview = self.preview_root.join(&mission);
        let staging = self.preview_root.join(format!(".{mission}.staging"));
        tokio::task::spawn_blocking(move || -> std::io::Result<u64> {
            // The newest attempt's work dir holds the build that passed.
            let mut attempts: Vec<PathBuf> = std::fs::read_dir(&mission_dir)?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("attempt-")))
                .collect();
            attempts.sort_by_key(|p| {
                p.file_name()
                    .and_then(|n| n.to_string_lossy().trim_start_matches("attempt-").parse::<u32>().ok())
                    .unwrap_or(0)
            });
            let built = attempts.pop().ok_or_else(|| std::io::Error::other("no build to deploy"))?;
            let source = built.join(&output);
            if !source.is_dir() {
                return Err(std::io::Error::other(format!("the output dir {output:?} does not exist")));
            }
            let _ = std::fs::remove_dir_all(&staging);
            let copied = copy_tree(&source, &staging)?;
            let _ = std::fs::remove_dir_all(&preview);
            std::fs::rename(&staging, &preview)?;
            Ok(copied)
        })
        .await
        .map_err(|e| PortError::Failed(e.to_string()))?
        .map_err(|e| PortError::Failed(format!("local deploy failed: {e}")))?;
        Ok(Deployment {
            url: format!("{}/preview/{mission}/", self.public_base.trim_end_matches('/')),
            provider: "local".into(),
            deployment_id: mission,
        })
    }
}

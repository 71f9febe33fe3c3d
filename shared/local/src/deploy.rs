//! The local deployer: writes the build's output files (as the pipeline hands them over, never
//! read from the work dir) into the data dir, where `gantry serve` serves them at
//! `/preview/{mission_id}/`.

use std::io;
use std::path::{Path, PathBuf};

use async_trait::async_trait;

use gantry_ports::{DeployRequest, Deployer, Deployment, OutputFile, PortError, PortResult};

pub struct LocalDeployer {
    preview_root: PathBuf,
    public_base: String,
}

impl LocalDeployer {
    pub fn new(preview_root: PathBuf, public_base: impl Into<String>) -> Self {
        Self { preview_root, public_base: public_base.into() }
    }
}

/// Writes every file into a fresh `staging` dir; nothing there existed before, so no write can
/// land on a link.
fn stage(staging: &Path, files: &[OutputFile]) -> io::Result<()> {
    let _ = std::fs::remove_dir_all(staging);
    std::fs::create_dir_all(staging)?;
    for file in files {
        if !file.has_safe_path() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("unsafe output path {:?}", file.path),
            ));
        }
        let path = staging.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        std::io::Write::write_all(&mut options.open(&path)?, &file.bytes)?;
    }
    Ok(())
}

#[async_trait]
impl Deployer for LocalDeployer {
    async fn deploy(&self, request: &DeployRequest) -> PortResult<Deployment> {
        if request.files.is_empty() {
            return Err(PortError::Invalid("the build produced no output to deploy".into()));
        }
        let mission = request.mission.to_string();
        let preview = self.preview_root.join(&mission);
        let staging = self.preview_root.join(format!(".{mission}.staging"));
        let files = request.files.clone();
        tokio::task::spawn_blocking(move || -> io::Result<()> {
            let staged = stage(&staging, &files);
            if let Err(e) = staged {
                let _ = std::fs::remove_dir_all(&staging);
                return Err(e);
            }
            let _ = std::fs::remove_dir_all(&preview);
            std::fs::rename(&staging, &preview)
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

#[cfg(test)]
mod tests {
    use gantry_domain::{GantryManifest, MissionId};

    use super::*;

    fn request(files: &[(&str, &str)]) -> DeployRequest {
        let manifest: GantryManifest = serde_json::from_value(serde_json::json!({
            "project_name": "p", "stack": "static", "files": [], "audit_command": "true"
        }))
        .unwrap();
        DeployRequest {
            mission: MissionId::generate(),
            manifest,
            files: files
                .iter()
                .map(|(path, content)| OutputFile {
                    path: (*path).into(),
                    bytes: content.as_bytes().to_vec(),
                })
                .collect(),
        }
    }

    #[tokio::test]
    async fn the_preview_holds_exactly_the_requested_files() {
        let root = tempfile::tempdir().unwrap();
        let deployer = LocalDeployer::new(root.path().join("previews"), "http://127.0.0.1:1");
        let request = request(&[("index.html", "<h1>hi</h1>"), ("css/app.css", "h1{}")]);
        let deployment = deployer.deploy(&request).await.unwrap();
        let preview = root.path().join("previews").join(request.mission.as_str());
        assert_eq!(std::fs::read_to_string(preview.join("index.html")).unwrap(), "<h1>hi</h1>");
        assert_eq!(std::fs::read_to_string(preview.join("css/app.css")).unwrap(), "h1{}");
        assert_eq!(deployment.url, format!("http://127.0.0.1:1/preview/{}/", request.mission));
    }

    #[tokio::test]
    async fn escaping_or_hidden_paths_are_refused_and_nothing_is_published() {
        let root = tempfile::tempdir().unwrap();
        let deployer = LocalDeployer::new(root.path().join("previews"), "http://127.0.0.1:1");
        for bad in ["../escaped.txt", "/tmp/abs.txt", "a/../../b.txt", ".env", "a//b.txt", "./a.txt"] {
            let request = request(&[("index.html", "ok"), (bad, "x")]);
            assert!(deployer.deploy(&request).await.is_err(), "{bad:?}");
            assert!(!root.path().join("previews").join(request.mission.as_str()).exists(), "{bad:?}");
        }
        assert!(!root.path().join("escaped.txt").exists());
        assert!(deployer.deploy(&request(&[])).await.is_err(), "an empty output deploys nothing");
    }
}

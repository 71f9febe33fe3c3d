//! The local publisher: one bare git repository per project in the data dir. Each mission's files
//! are committed with git's plumbing straight onto `gantry/{mission_id}`; no work tree is checked
//! out and no other ref, the default branch above all, is ever written.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use async_trait::async_trait;
use tokio::process::Command;

use gantry_ports::{PortError, PortResult, Publication, PublishRequest, Publisher};

pub struct LocalGitPublisher {
    repos_root: PathBuf,
}

impl LocalGitPublisher {
    pub fn new(repos_root: PathBuf) -> Self {
        Self { repos_root }
    }

    pub fn repo_path(&self, project: &str) -> PathBuf {
        self.repos_root.join(format!("{project}.git"))
    }
}

/// Runs git with a fixed identity and no user or system config, so results do not depend on the host.
async fn git(repo: &Path, args: &[&str], envs: &[(&str, &str)], stdin: Option<&[u8]>) -> PortResult<String> {
    let mut command = Command::new("git");
    command
        .arg("--git-dir")
        .arg(repo)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Gantry")
        .env("GIT_AUTHOR_EMAIL", "gantry@localhost")
        .env("GIT_COMMITTER_NAME", "Gantry")
        .env("GIT_COMMITTER_EMAIL", "gantry@localhost")
        .envs(envs.iter().copied())
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().map_err(|e| PortError::Failed(format!("cannot run git: {e}")))?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        use tokio::io::AsyncWriteExt;
        pipe.write_all(input).await.map_err(|e| PortError::Failed(e.to_string()))?;
    }
    let output = tokio::time::timeout(std::time::Duration::from_secs(60), child.wait_with_output())
        .await
        .map_err(|_| PortError::Failed(format!("git {} timed out", args.join(" "))))?
        .map_err(|e| PortError::Failed(e.to_string()))?;
    if !output.status.success() {
        return Err(PortError::Failed(format!(
            "git {} failed: {}",
            args.first().copied().unwrap_or_default(),
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

#[async_trait]
impl Publisher for LocalGitPublisher {
    async fn publish(&self, request: &PublishRequest) -> PortResult<Publication> {
        let project = &request.manifest.project_name;
        if project.is_empty() || !project.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(PortError::Invalid(format!("unsafe project name {project:?}")));
        }
        let repo = self.repo_path(project);
        if !repo.join("HEAD").exists() {
            tokio::fs::create_dir_all(&repo).await.map_err(|e| PortError::Failed(e.to_string()))?;
            git(&repo, &["init", "--quiet", "--bare", "--initial-branch=main"], &[], None).await?;
        }
        let branch = format!("gantry/{}", request.mission);
        let index = tempfile_path(&repo, &request.mission.to_string());
        let index_str = index.to_string_lossy().into_owned();
        let env = [("GIT_INDEX_FILE", index_str.as_str())];
        let _ = tokio::fs::remove_file(&index).await;
        for file in &request.manifest.files {
            let blob =
                git(&repo, &["hash-object", "-w", "--stdin"], &[], Some(file.content.as_bytes())).await?;
            let info = format!("100644,{blob},{}", file.path);
            git(&repo, &["update-index", "--add", "--cacheinfo", &info], &env, None).await?;
        }
        let tree = git(&repo, &["write-tree"], &env, None).await;
        let _ = tokio::fs::remove_file(&index).await;
        let tree = tree?;
        let parent =
            git(&repo, &["rev-parse", "--verify", "--quiet", &format!("refs/heads/{branch}")], &[], None)
                .await
                .ok();
        let message = format!("{}\n\n{}", request.title, request.body);
        let mut args = vec!["commit-tree", tree.as_str(), "-m", message.as_str()];
        if let Some(parent) = parent.as_deref().filter(|p| !p.is_empty()) {
            args.extend(["-p", parent]);
        }
        let commit = git(&repo, &args, &[], None).await?;
        git(&repo, &["update-ref", &format!("refs/heads/{branch}"), &commit], &[], None).await?;
        Ok(Publication { repo: repo.to_string_lossy().into_owned(), branch, commit, pr_url: None })
    }
}

fn tempfile_path(repo: &Path, mission: &str) -> PathBuf {
    repo.join(format!("gantry-index-{mission}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gantry_domain::{GantryManifest, ManifestFile, MissionId, Stack};

    fn manifest() -> GantryManifest {
        GantryManifest {
            project_name: "todo-app".into(),
            stack: Stack::Static,
            files: vec![
                ManifestFile { path: "index.html".into(), content: "<h1>hi</h1>".into() },
                ManifestFile { path: "js/app.js".into(), content: "console.log(1)".into() },
            ],
            audit_command: "python3 audit.py".into(),
            run_command: None,
            output_dir: None,
        }
    }

    #[tokio::test]
    async fn commits_exactly_the_manifest_on_the_mission_branch_only() {
        let dir = tempfile::tempdir().unwrap();
        let publisher = LocalGitPublisher::new(dir.path().to_path_buf());
        let mission = MissionId::generate();
        let request = PublishRequest {
            mission: mission.clone(),
            manifest: manifest(),
            title: "Todo".into(),
            body: "head: abc".into(),
        };
        let publication = publisher.publish(&request).await.unwrap();
        assert_eq!(publication.branch, format!("gantry/{mission}"));
        let repo = publisher.repo_path("todo-app");
        let files =
            git(&repo, &["ls-tree", "-r", "--name-only", &publication.branch], &[], None).await.unwrap();
        assert_eq!(files.lines().collect::<Vec<_>>(), ["index.html", "js/app.js"]);
        let refs = git(&repo, &["for-each-ref", "--format=%(refname)"], &[], None).await.unwrap();
        assert_eq!(refs, format!("refs/heads/gantry/{mission}"));
        let message =
            git(&repo, &["log", "-1", "--format=%B", &publication.branch], &[], None).await.unwrap();
        assert!(message.contains("head: abc"));
    }
}

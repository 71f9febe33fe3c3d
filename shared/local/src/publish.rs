//! The local publisher: one bare git repository per app in the data dir, named for the project and
//! the mission (two unrelated "todo" apps never share one; a mission's revisions do). A new
//! repository gets one first commit on `main` (a README), so `git clone` has something to check
//! out; each mission's files are then committed with git's plumbing onto `gantry/{mission_id}`,
//! on top of it. No work tree is checked out, and after that first commit no ref but
//! `gantry/{mission_id}` is ever written, the default branch above all.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use async_trait::async_trait;
use tokio::process::Command;

use gantry_domain::MissionId;
use gantry_ports::{PortError, PortResult, Publication, PublishRequest, Publisher};

pub struct LocalGitPublisher {
    repos_root: PathBuf,
}

impl LocalGitPublisher {
    pub fn new(repos_root: PathBuf) -> Self {
        Self { repos_root }
    }

    /// `{project}-{the last 12 hex digits of the mission id}.git`: the random end of a UUIDv7, as
    /// its first digits are a timestamp two missions of the same minute share.
    pub fn repo_path(&self, project: &str, mission: &MissionId) -> PathBuf {
        let id = mission.as_str();
        let tail = &id[id.len().saturating_sub(12)..];
        self.repos_root.join(format!("{project}-{tail}.git"))
    }
}

const DEFAULT_BRANCH: &str = "refs/heads/main";

fn first_readme(project: &str) -> String {
    format!(
        "# {project}\n\nDelivered by Gantry. Each mission's work is on its own branch, `gantry/<mission id>`:\n\
         review it, then merge it into `main` yourself. Gantry never writes `main` after this first commit.\n"
    )
}

/// A new bare repository with one commit on `main` (HEAD names it), so a clone checks it out.
/// The ref is created only if absent: an existing `main` is never moved.
async fn create_repo(repo: &Path, project: &str) -> PortResult<String> {
    tokio::fs::create_dir_all(repo).await.map_err(|e| PortError::Failed(e.to_string()))?;
    git(repo, &["init", "--quiet", "--bare", "--initial-branch=main"], &[], None).await?;
    let readme =
        git(repo, &["hash-object", "-w", "--stdin"], &[], Some(first_readme(project).as_bytes())).await?;
    let tree =
        git(repo, &["mktree"], &[], Some(format!("100644 blob {readme}\tREADME.md\n").as_bytes())).await?;
    let commit = git(
        repo,
        &["commit-tree", &tree, "-m", &format!("{project}: repository created by Gantry")],
        &[],
        None,
    )
    .await?;
    git(repo, &["update-ref", DEFAULT_BRANCH, &commit, ""], &[], None).await?;
    Ok(commit)
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
        let repo = self.repo_path(project, &request.mission);
        let created =
            if repo.join("HEAD").exists() { None } else { Some(create_repo(&repo, project).await?) };
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
        let branch_ref = format!("refs/heads/{branch}");
        // A revision goes on top of the branch; a first delivery on top of the first commit.
        let previous = git(&repo, &["rev-parse", "--verify", "--quiet", &branch_ref], &[], None)
            .await
            .ok()
            .filter(|p| !p.is_empty());
        let base = match (&previous, created) {
            (Some(head), _) => Some(head.clone()),
            (None, Some(first)) => Some(first),
            (None, None) => git(&repo, &["rev-parse", "--verify", "--quiet", DEFAULT_BRANCH], &[], None)
                .await
                .ok()
                .filter(|p| !p.is_empty()),
        };
        let message = format!("{}\n\n{}", request.title, request.body);
        let mut args = vec!["commit-tree", tree.as_str(), "-m", message.as_str()];
        if let Some(parent) = base.as_deref() {
            args.extend(["-p", parent]);
        }
        let commit = git(&repo, &args, &[], None).await?;
        // Compare-and-swap: the branch moves only from the head this commit was built on.
        let expected = previous.unwrap_or_default();
        git(&repo, &["update-ref", &branch_ref, &commit, &expected], &[], None).await?;
        Ok(Publication { repo: repo.to_string_lossy().into_owned(), branch, commit, pr_url: None })
    }
}

fn tempfile_path(repo: &Path, mission: &str) -> PathBuf {
    repo.join(format!("gantry-index-{mission}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gantry_domain::{GantryManifest, ManifestFile, Stack};

    fn manifest(project: &str) -> GantryManifest {
        GantryManifest {
            project_name: project.into(),
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

    fn request(mission: &MissionId, project: &str) -> PublishRequest {
        PublishRequest {
            mission: mission.clone(),
            manifest: manifest(project),
            title: "Todo".into(),
            body: "head: abc".into(),
            design_image: None,
        }
    }

    async fn refs(repo: &Path) -> Vec<(String, String)> {
        let listing =
            git(repo, &["for-each-ref", "--format=%(refname) %(objectname)"], &[], None).await.unwrap();
        listing
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(name, object)| (name.to_owned(), object.to_owned()))
            .collect()
    }

    #[tokio::test]
    async fn commits_exactly_the_manifest_on_the_mission_branch_on_top_of_main() {
        let dir = tempfile::tempdir().unwrap();
        let publisher = LocalGitPublisher::new(dir.path().to_path_buf());
        let mission = MissionId::generate();
        let publication = publisher.publish(&request(&mission, "todo-app")).await.unwrap();
        assert_eq!(publication.branch, format!("gantry/{mission}"));
        let repo = publisher.repo_path("todo-app", &mission);
        assert_eq!(publication.repo, repo.to_string_lossy());
        let files =
            git(&repo, &["ls-tree", "-r", "--name-only", &publication.branch], &[], None).await.unwrap();
        assert_eq!(files.lines().collect::<Vec<_>>(), ["index.html", "js/app.js"]);
        assert_eq!(git(&repo, &["symbolic-ref", "HEAD"], &[], None).await.unwrap(), DEFAULT_BRANCH);
        let main = git(&repo, &["rev-parse", "main"], &[], None).await.unwrap();
        let parent =
            git(&repo, &["rev-parse", &format!("{}^", publication.branch)], &[], None).await.unwrap();
        assert_eq!(parent, main, "the delivery sits on top of the first commit");
        let message =
            git(&repo, &["log", "-1", "--format=%B", &publication.branch], &[], None).await.unwrap();
        assert!(message.contains("head: abc"));
    }

    #[tokio::test]
    async fn after_the_first_commit_only_the_mission_branch_is_ever_written() {
        let dir = tempfile::tempdir().unwrap();
        let publisher = LocalGitPublisher::new(dir.path().to_path_buf());
        let mission = MissionId::generate();
        let first = publisher.publish(&request(&mission, "todo-app")).await.unwrap();
        let repo = publisher.repo_path("todo-app", &mission);
        let main = git(&repo, &["rev-parse", "main"], &[], None).await.unwrap();
        assert_eq!(
            refs(&repo).await,
            [
                (format!("refs/heads/{}", first.branch), first.commit.clone()),
                (DEFAULT_BRANCH.to_owned(), main.clone())
            ]
        );
        // A revision of the same mission: same repository, a new commit on the same branch.
        let mut revision = request(&mission, "todo-app");
        revision.manifest.files[0].content = "<h1>hello</h1>".into();
        let second = publisher.publish(&revision).await.unwrap();
        assert_eq!(second.repo, first.repo);
        let parent = git(&repo, &["rev-parse", &format!("{}^", second.branch)], &[], None).await.unwrap();
        assert_eq!(parent, first.commit);
        assert_eq!(
            refs(&repo).await,
            [(format!("refs/heads/{}", second.branch), second.commit), (DEFAULT_BRANCH.to_owned(), main)]
        );
    }

    #[tokio::test]
    async fn two_apps_of_the_same_kind_get_two_repositories() {
        let dir = tempfile::tempdir().unwrap();
        let publisher = LocalGitPublisher::new(dir.path().to_path_buf());
        let (a, b) = (MissionId::generate(), MissionId::generate());
        let first = publisher.publish(&request(&a, "todo-app")).await.unwrap();
        let second = publisher.publish(&request(&b, "todo-app")).await.unwrap();
        assert_ne!(first.repo, second.repo);
        for (publication, mission) in [(&first, &a), (&second, &b)] {
            let branches = refs(Path::new(&publication.repo)).await;
            assert_eq!(branches.len(), 2, "{branches:?}");
            assert_eq!(branches[0].0, format!("refs/heads/gantry/{mission}"));
            assert_eq!(branches[1].0, DEFAULT_BRANCH);
        }
    }

    #[tokio::test]
    async fn a_clone_checks_out_main_and_the_delivery_branch() {
        let dir = tempfile::tempdir().unwrap();
        let publisher = LocalGitPublisher::new(dir.path().join("repos"));
        let mission = MissionId::generate();
        let publication = publisher.publish(&request(&mission, "notes")).await.unwrap();
        let clone = |target: &Path, branch: Option<&str>| {
            let mut command = std::process::Command::new("git");
            command
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .arg("clone")
                .arg("--quiet");
            if let Some(branch) = branch {
                command.args(["--branch", branch]);
            }
            let status = command.arg(&publication.repo).arg(target).status().unwrap();
            assert!(status.success());
        };
        let plain = dir.path().join("plain");
        clone(&plain, None);
        assert!(std::fs::read_to_string(plain.join("README.md")).unwrap().contains("gantry/<mission id>"));
        let delivered = dir.path().join("delivered");
        clone(&delivered, Some(&publication.branch));
        assert_eq!(std::fs::read_to_string(delivered.join("js/app.js")).unwrap(), "console.log(1)");
        assert_eq!(std::fs::read_to_string(delivered.join("index.html")).unwrap(), "<h1>hi</h1>");
    }
}

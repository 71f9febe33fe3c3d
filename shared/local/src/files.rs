//! A mission's disposable files in the data dir: its preview (`previews/{mission}`) and its
//! build work dirs (`work/{mission}/attempt-n`). Evidence lives elsewhere and is out of reach:
//! this adapter only ever removes `{root}/{mission id}` under the two roots it was given.

use std::io;
use std::path::{Path, PathBuf};

use async_trait::async_trait;

use gantry_domain::MissionId;
use gantry_ports::{MissionFiles, PortError, PortResult, PrunedFiles};

pub struct LocalMissionFiles {
    preview_root: PathBuf,
    work_root: PathBuf,
}

impl LocalMissionFiles {
    /// Both roots must be absolute and at least two levels deep (never `/` or `/tmp` itself).
    pub fn new(preview_root: PathBuf, work_root: PathBuf) -> PortResult<Self> {
        for root in [&preview_root, &work_root] {
            if !root.is_absolute() || root.components().count() < 3 {
                return Err(PortError::Invalid(format!("{} is not a data-dir folder", root.display())));
            }
        }
        Ok(Self { preview_root, work_root })
    }
}

/// Removes `path` (a dir tree, or a stray file or link, never followed); false if it was absent.
fn remove(path: &Path) -> io::Result<bool> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path).map(|()| true),
        Ok(_) => std::fs::remove_file(path).map(|()| true),
    }
}

#[async_trait]
impl MissionFiles for LocalMissionFiles {
    async fn prune(&self, mission: &MissionId) -> PortResult<PrunedFiles> {
        // A MissionId is a canonical UUID, so joining it cannot leave the root.
        let preview = self.preview_root.join(mission.as_str());
        let staging = self.preview_root.join(format!(".{mission}.staging"));
        let work = self.work_root.join(mission.as_str());
        tokio::task::spawn_blocking(move || -> io::Result<PrunedFiles> {
            let preview_removed = remove(&preview)?;
            let staging_removed = remove(&staging)?;
            Ok(PrunedFiles { preview: preview_removed || staging_removed, work_dirs: remove(&work)? })
        })
        .await
        .map_err(|e| PortError::Failed(e.to_string()))?
        .map_err(|e| PortError::Unavailable { service: "filesystem", message: e.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shallow_or_relative_roots_are_refused() {
        for root in ["/", "/tmp", "relative/previews"] {
            assert!(
                LocalMissionFiles::new(PathBuf::from(root), PathBuf::from("/data/dir/work")).is_err(),
                "{root}"
            );
        }
    }

    #[tokio::test]
    async fn pruning_removes_only_that_missions_files_once() {
        let dir = tempfile::tempdir().unwrap();
        let (previews, work) = (dir.path().join("previews"), dir.path().join("work"));
        let (gone, kept) = (MissionId::generate(), MissionId::generate());
        for id in [&gone, &kept] {
            std::fs::create_dir_all(previews.join(id.as_str())).unwrap();
            std::fs::write(previews.join(id.as_str()).join("index.html"), "x").unwrap();
            std::fs::create_dir_all(work.join(id.as_str()).join("attempt-1")).unwrap();
        }
        let files = LocalMissionFiles::new(previews.clone(), work.clone()).unwrap();
        assert_eq!(files.prune(&gone).await.unwrap(), PrunedFiles { preview: true, work_dirs: true });
        assert!(!previews.join(gone.as_str()).exists() && !work.join(gone.as_str()).exists());
        assert!(previews.join(kept.as_str()).join("index.html").exists());
        assert!(work.join(kept.as_str()).join("attempt-1").exists());
        assert_eq!(files.prune(&gone).await.unwrap(), PrunedFiles::default());
    }
}

//! The local build sandbox: a manifest's files in an empty work dir, then its audit in a
//! bounded child process (memory, pids, time), with a scrubbed environment, no network and,
//! where bubblewrap works, nothing of the host visible but the system's programs.
//!
//! Layers, strongest available first: bubblewrap (namespaces), a cgroup v2 per run (else a
//! memory supervisor and rlimits), and, when the server is root, an unprivileged uid.
//! `BuildReport::isolation` names the layers a run actually got.

mod audit;
mod bwrap;
mod cgroup;
mod error;
mod log;
mod materialise;
mod options;
mod process;
mod results;
mod supervisor;

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use gantry_domain::report::RESULTS_FILE;
use gantry_domain::MissionId;
use gantry_ports::{BuildJob, BuildOutcome, BuildRunner, PortError, PortResult};

pub use audit::{bwrap_usable, run_audit, TMP_DIR_NAME};
pub use error::SandboxError;
pub use log::{LOG_CAP_BYTES, LOG_TAIL_BYTES};
pub use materialise::{materialise, DESIGN_REFERENCE_STEM, WORK_DIR_MARKER};
pub use options::{Isolation, SandboxOptions, SandboxUser};
pub use results::{read_results, with_results, ResultsError, MAX_RESULTS_BYTES};

/// Where attempt `attempt` of `mission` builds: `{work_root}/{mission}/attempt-{attempt}`.
/// Kept after the build, since the local deployer copies the output from there.
pub fn work_dir(work_root: &Path, mission: &MissionId, attempt: u32) -> PathBuf {
    work_root.join(mission.as_str()).join(format!("attempt-{attempt}"))
}

/// Builds jobs on this machine, one child process per audit.
#[derive(Debug, Clone)]
pub struct LocalBuildRunner {
    work_root: PathBuf,
    options: SandboxOptions,
}

impl LocalBuildRunner {
    pub fn new(work_root: PathBuf) -> Self {
        Self { work_root, options: SandboxOptions::default() }
    }

    pub fn with_options(mut self, options: SandboxOptions) -> Self {
        self.options = options;
        self
    }

    pub fn work_root(&self) -> &Path {
        &self.work_root
    }
}

#[async_trait]
impl BuildRunner for LocalBuildRunner {
    async fn run(&self, job: &BuildJob) -> PortResult<BuildOutcome> {
        let dir = work_dir(&self.work_root, &job.mission, job.attempt);
        let (target, manifest, image) = (dir.clone(), job.manifest.clone(), job.design_image.clone());
        tokio::task::spawn_blocking(move || {
            let image = image.as_ref().map(|(ext, bytes)| (ext.as_str(), bytes.as_slice()));
            materialise(&target, &manifest, image)
        })
        .await
        .map_err(|e| PortError::Failed(format!("materialising the work dir panicked: {e}")))??;
        // Only the audit may write the results: a copy shipped in the manifest goes first.
        match std::fs::remove_file(dir.join(RESULTS_FILE)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(PortError::Failed(format!("a shipped {RESULTS_FILE} could not be removed: {e}")))
            }
            _ => {}
        }

        let outcome = run_audit(&dir, &job.manifest.audit_command, job.limits, &self.options)
            .await
            .map_err(|e| PortError::Failed(format!("the build sandbox could not start: {e}")))?;
        tokio::task::spawn_blocking(move || with_results(outcome, &dir))
            .await
            .map_err(|e| PortError::Failed(format!("reading the feature results panicked: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_dirs_are_per_mission_and_attempt() {
        let mission = MissionId::generate();
        let dir = work_dir(Path::new("/data/work"), &mission, 2);
        assert_eq!(dir, PathBuf::from(format!("/data/work/{mission}/attempt-2")));
    }
}

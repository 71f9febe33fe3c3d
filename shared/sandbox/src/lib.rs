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
mod deps;
mod error;
mod log;
mod materialise;
mod options;
mod output;
mod private;
mod process;
mod results;
mod supervisor;

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use gantry_domain::report::{InstallSummary, OutputSummary, RESULTS_FILE};
use gantry_domain::{MissionId, Stack};
use gantry_ports::{BuildJob, BuildOutcome, BuildRunner, PortError, PortResult};

pub use audit::{bwrap_usable, run_audit, TMP_DIR_NAME};
pub use deps::{link_node_modules, remove_tree, DepsError, FetchReport, NodeDeps, DEPS_MOUNT};
pub use error::SandboxError;
pub use log::{LOG_CAP_BYTES, LOG_TAIL_BYTES};
pub use materialise::{materialise, DESIGN_REFERENCE_STEM, WORK_DIR_MARKER};
pub use options::{Isolation, SandboxOptions, SandboxUser};
pub use output::{
    read_build_output, read_work_file, BuildOutput, OutputError, SkipReason, Skipped, OUTPUT_MAX_BYTES,
    OUTPUT_MAX_FILES,
};
pub use private::{make_private_dir, make_private_file};
pub use results::{read_results, with_results, ResultsError, MAX_RESULTS_BYTES};

/// Where attempt `attempt` of `mission` builds: `{work_root}/{mission}/attempt-{attempt}`.
/// Kept after the build for inspection; nothing reads it back except through
/// [`read_build_output`], which follows no link.
pub fn work_dir(work_root: &Path, mission: &MissionId, attempt: u32) -> PathBuf {
    work_root.join(mission.as_str()).join(format!("attempt-{attempt}"))
}

/// Builds jobs on this machine, one child process per audit.
#[derive(Debug, Clone)]
pub struct LocalBuildRunner {
    work_root: PathBuf,
    options: SandboxOptions,
    node_deps: Option<NodeDeps>,
}

impl LocalBuildRunner {
    pub fn new(work_root: PathBuf) -> Self {
        Self { work_root, options: SandboxOptions::default(), node_deps: None }
    }

    /// Where node builds find the curated dependency set (see [`NodeDeps`]).
    pub fn with_node_deps(mut self, deps: NodeDeps) -> Self {
        self.node_deps = Some(deps);
        self
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

        let (options, install) = match job.manifest.stack {
            Stack::Node => self.prepare_node(&dir).await?,
            _ => (self.options.clone(), None),
        };
        let mut outcome = run_audit(&dir, &job.manifest.audit_command, job.limits, &options)
            .await
            .map_err(|e| PortError::Failed(format!("the build sandbox could not start: {e}")))?;
        if let Some(install) = install {
            append_note(
                &mut outcome,
                &format!(
                    "node: installed from the curated set {} ({} top-level entries, read-only, nothing downloaded) in {} ms",
                    install.set, install.packages, install.duration_ms
                ),
            );
            outcome.report.install = Some(install);
        }
        let outcome = tokio::task::spawn_blocking({
            let dir = dir.clone();
            move || with_results(outcome, &dir)
        })
        .await
        .map_err(|e| PortError::Failed(format!("reading the feature results panicked: {e}")))?;
        if !outcome.report.passed {
            return Ok(outcome);
        }
        let output_dir = job.manifest.output_dir().to_owned();
        let read = tokio::task::spawn_blocking(move || read_build_output(&dir, &output_dir))
            .await
            .map_err(|e| PortError::Failed(format!("reading the build's output panicked: {e}")))?;
        Ok(with_output(outcome, job.manifest.output_dir(), read))
    }
}

/// How long a node build waits for a fetch of the set that is under way (the first serve's).
const FETCH_PATIENCE: std::time::Duration = std::time::Duration::from_secs(300);

impl LocalBuildRunner {
    /// A node build's install: the curated set linked into the work dir and mounted read-only.
    /// Nothing is downloaded; a set that is not fetched here (nor being fetched) fails the build
    /// before it starts.
    async fn prepare_node(&self, dir: &Path) -> PortResult<(SandboxOptions, Option<InstallSummary>)> {
        let deps = self.node_deps.as_ref().ok_or_else(|| {
            PortError::Failed("node builds need the curated dependency set, and this runner has none".into())
        })?;
        let set = deps.require_within(FETCH_PATIENCE).await.map_err(|e| PortError::Failed(e.to_string()))?;
        let started = std::time::Instant::now();
        let linked = tokio::task::spawn_blocking({
            let (dir, set) = (dir.to_path_buf(), set.clone());
            move || link_node_modules(&dir, &set)
        })
        .await
        .map_err(|e| PortError::Failed(format!("linking the node set panicked: {e}")))?
        .map_err(|e| PortError::Failed(e.to_string()))?;
        let install = InstallSummary {
            set: deps.id().to_owned(),
            packages: linked,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        };
        Ok((self.options.clone().with_deps(set), Some(install)))
    }
}

/// Adds a sandbox line to a finished run's log and keeps the report's tail and hash in step.
fn append_note(outcome: &mut BuildOutcome, note: &str) {
    outcome.log.extend_from_slice(format!("\n[gantry sandbox] {note}\n").as_bytes());
    outcome.report.log_tail = log::tail_text(&outcome.log);
    outcome.report.log_sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&outcome.log));
}

/// Attaches what the safe reader found to a passed build. Skipped entries are noted in the log;
/// an output that cannot be taken safely (a symlinked output dir, past the bounds) fails the
/// build, since nothing of it may be deployed.
fn with_output(
    mut outcome: BuildOutcome,
    output_dir: &str,
    read: Result<Option<BuildOutput>, OutputError>,
) -> BuildOutcome {
    let note = match read {
        Ok(Some(output)) => {
            let note = output.skipped_summary();
            outcome.report.output = Some(OutputSummary {
                dir: output_dir.to_owned(),
                files: output.files.len(),
                bytes: output.files.iter().map(|f| f.bytes.len() as u64).sum(),
            });
            outcome.output = output.files;
            note
        }
        Ok(None) => Some(format!("the output dir {output_dir:?} does not exist; there is nothing to deploy")),
        Err(error) => {
            outcome.report.passed = false;
            Some(format!("output refused: {error}"))
        }
    };
    if let Some(note) = note {
        append_note(&mut outcome, &note);
    }
    outcome
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

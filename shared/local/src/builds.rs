//! Running builds, seen from the outside: a wrapper around any build runner that knows which
//! builds are running since when, and can stop one (for cleanup's overdue-build rule).
//!
//! Stopping drops the wrapped run's future. For the sandboxed runner that drop kills the audit's
//! whole process group, so a stopped build leaves nothing running; the run then answers with an
//! error naming the reason, which the pipeline records like any build task that ended without a
//! report. The sandbox's own time limit still applies; this catches a build that outlives it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::oneshot;

use gantry_ports::{BuildJob, BuildOutcome, BuildRunner, BuildTasks, PortError, PortResult, RunningBuild};

struct Tracked {
    build: RunningBuild,
    run: u64,
    stop: oneshot::Sender<String>,
}

type Registry = Arc<Mutex<HashMap<String, Tracked>>>;

/// A [`BuildRunner`] that is also the [`BuildTasks`] view of its own running builds.
pub struct TrackedBuildRunner {
    inner: Arc<dyn BuildRunner>,
    running: Registry,
    next_run: AtomicU64,
}

fn lock(registry: &Registry) -> MutexGuard<'_, HashMap<String, Tracked>> {
    registry.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Removes a run's entry when its future ends or is dropped, unless a newer run took the name.
struct Deregister {
    registry: Registry,
    task_id: String,
    run: u64,
}

impl Drop for Deregister {
    fn drop(&mut self) {
        let mut running = lock(&self.registry);
        if running.get(&self.task_id).is_some_and(|t| t.run == self.run) {
            running.remove(&self.task_id);
        }
    }
}

impl TrackedBuildRunner {
    pub fn new(inner: Arc<dyn BuildRunner>) -> Self {
        Self { inner, running: Arc::new(Mutex::new(HashMap::new())), next_run: AtomicU64::new(0) }
    }

    fn register(&self, job: &BuildJob, started_at: DateTime<Utc>) -> (Deregister, oneshot::Receiver<String>) {
        let task_id = format!("{}/attempt-{}", job.mission, job.attempt);
        let run = self.next_run.fetch_add(1, Ordering::Relaxed);
        let (stop, stopped) = oneshot::channel();
        let build = RunningBuild {
            task_id: task_id.clone(),
            mission: job.mission.clone(),
            attempt: job.attempt,
            started_at,
        };
        lock(&self.running).insert(task_id.clone(), Tracked { build, run, stop });
        (Deregister { registry: self.running.clone(), task_id, run }, stopped)
    }
}

#[async_trait]
impl BuildRunner for TrackedBuildRunner {
    async fn run(&self, job: &BuildJob) -> PortResult<BuildOutcome> {
        let (_registered, stopped) = self.register(job, Utc::now());
        tokio::select! {
            outcome = self.inner.run(job) => outcome,
            Ok(reason) = stopped => {
                tracing::warn!(mission_id = %job.mission, attempt = job.attempt, %reason, "build stopped");
                Err(PortError::Failed(format!("the build was stopped: {reason}")))
            }
        }
    }
}

#[async_trait]
impl BuildTasks for TrackedBuildRunner {
    async fn running_started_before(&self, before: DateTime<Utc>) -> PortResult<Vec<RunningBuild>> {
        let mut builds: Vec<RunningBuild> = lock(&self.running)
            .values()
            .filter(|t| t.build.started_at < before)
            .map(|t| t.build.clone())
            .collect();
        builds.sort_by(|a, b| a.task_id.cmp(&b.task_id));
        Ok(builds)
    }

    async fn stop_build(&self, build: &RunningBuild, reason: &str) -> PortResult<bool> {
        let tracked = {
            let mut running = lock(&self.running);
            match running.get(&build.task_id) {
                Some(t) if t.build.started_at == build.started_at => running.remove(&build.task_id),
                _ => None,
            }
        };
        Ok(match tracked {
            Some(tracked) => tracked.stop.send(reason.to_owned()).is_ok(),
            None => false,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use gantry_domain::report::BuildLimits;
    use gantry_domain::{BuildReport, GantryManifest, MissionId};

    use super::*;

    /// A runner whose builds never end on their own.
    struct Forever;

    #[async_trait]
    impl BuildRunner for Forever {
        async fn run(&self, _job: &BuildJob) -> PortResult<BuildOutcome> {
            std::future::pending().await
        }
    }

    struct Quick;

    #[async_trait]
    impl BuildRunner for Quick {
        async fn run(&self, _job: &BuildJob) -> PortResult<BuildOutcome> {
            let report = BuildReport {
                passed: true,
                exit_code: Some(0),
                duration_ms: 1,
                timed_out: false,
                oom: false,
                log_tail: String::new(),
                log_sha256: String::new(),
                isolation: "test".into(),
                limits: BuildLimits::default(),
                features: Vec::new(),
                install: None,
                output: None,
            };
            Ok(BuildOutcome { report, log: Vec::new(), output: Vec::new() })
        }
    }

    fn job() -> BuildJob {
        let manifest: GantryManifest = serde_json::from_value(serde_json::json!({
            "project_name": "p", "stack": "static", "files": [], "audit_command": "true"
        }))
        .unwrap();
        BuildJob {
            mission: MissionId::generate(),
            attempt: 1,
            manifest,
            design_image: None,
            limits: BuildLimits::default(),
        }
    }

    #[tokio::test]
    async fn a_stopped_build_ends_with_the_reason_and_is_no_longer_listed() {
        let runner = Arc::new(TrackedBuildRunner::new(Arc::new(Forever)));
        let job = job();
        let running = {
            let runner = runner.clone();
            let job = job.clone();
            tokio::spawn(async move { runner.run(&job).await })
        };
        let later = Utc::now() + chrono::Duration::seconds(5);
        let mut listed = Vec::new();
        for _ in 0..100 {
            listed = runner.running_started_before(later).await.unwrap();
            if !listed.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].mission, job.mission);
        assert_eq!(listed[0].task_id, format!("{}/attempt-1", job.mission));
        assert!(runner.running_started_before(listed[0].started_at).await.unwrap().is_empty());

        assert!(runner.stop_build(&listed[0], "past its deadline").await.unwrap());
        let ended = tokio::time::timeout(Duration::from_secs(5), running).await.unwrap().unwrap();
        match ended {
            Err(PortError::Failed(message)) => assert!(message.contains("past its deadline"), "{message}"),
            other => panic!("expected a stopped build, got {other:?}"),
        }
        assert!(runner.running_started_before(later).await.unwrap().is_empty());
        assert!(!runner.stop_build(&listed[0], "again").await.unwrap(), "stopping twice stops nothing");
    }

    #[tokio::test]
    async fn finished_builds_leave_the_registry() {
        let runner = TrackedBuildRunner::new(Arc::new(Quick));
        assert!(runner.run(&job()).await.unwrap().report.passed);
        let later = Utc::now() + chrono::Duration::seconds(5);
        assert!(runner.running_started_before(later).await.unwrap().is_empty());
    }
}

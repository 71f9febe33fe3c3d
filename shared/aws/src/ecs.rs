//! What cleanup needs from ECS (the `BuildTasks` port): the build tasks still running in the
//! build cluster, and a way to stop those that outlived their deadline.
//!
//! Step Functions starts and waits for every build task itself (`ecs:runTask.sync`); the
//! builder's own dead man's switch ends a healthy one. A task that is still running long after
//! that (a hung container, an execution stopped mid-build) is what these methods find and stop.

use async_trait::async_trait;
use aws_sdk_ecs::types::{DesiredStatus, Task};
use chrono::{DateTime, Utc};

use gantry_domain::MissionId;
use gantry_ports::{BuildTasks, PortResult, RunningBuild};

use crate::error::port_error;

const SERVICE: &str = "ECS";
/// DescribeTasks takes at most 100 tasks per call.
const DESCRIBE_BATCH: usize = 100;
/// StopTask's reason is at most 255 characters.
const MAX_REASON_CHARS: usize = 255;
/// The container override that tells a task which build it runs (see the ASL's Build state).
const JOB_URL_VAR: &str = "GANTRY_BUILD_JOB_URL";

/// One running build task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildTask {
    pub task_arn: String,
    /// When the task was created (ECS sets it at RunTask; it is the age that matters, since a
    /// task stuck in PENDING never gets a `startedAt`).
    pub created_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub last_status: Option<String>,
    /// The job location the task was given (`GANTRY_BUILD_JOB_URL`).
    pub job_url: Option<String>,
}

impl BuildTask {
    /// The task's age reference: `startedAt`, else `createdAt`.
    pub fn since(&self) -> Option<DateTime<Utc>> {
        self.started_at.or(self.created_at)
    }

    /// The mission and attempt the task builds, read from its job location, whose key is
    /// `missions/{mission}/build-{attempt}/job.json` (a presigned URL keeps the key in its path).
    pub fn build(&self) -> Option<(MissionId, u32)> {
        let url = self.job_url.as_deref()?;
        let path = url.split('?').next()?;
        let mut parts = path.rsplit('/');
        let (_job, build, mission) = (parts.next()?, parts.next()?, parts.next()?);
        (parts.next()? == "missions").then_some(())?;
        let attempt = build.strip_prefix("build-")?.parse().ok()?;
        Some((mission.parse().ok()?, attempt))
    }
}

/// The tasks that began before `deadline`. A task with no timestamp at all is left alone:
/// its age is unknown, and stopping a fresh build would fail a healthy mission.
pub fn started_before(tasks: &[BuildTask], deadline: DateTime<Utc>) -> Vec<BuildTask> {
    tasks.iter().filter(|t| t.since().is_some_and(|since| since < deadline)).cloned().collect()
}

fn timestamp(value: Option<&aws_sdk_ecs::primitives::DateTime>) -> Option<DateTime<Utc>> {
    value.and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
}

fn build_task(task: &Task) -> Option<BuildTask> {
    Some(BuildTask {
        task_arn: task.task_arn()?.to_owned(),
        created_at: timestamp(task.created_at()),
        started_at: timestamp(task.started_at()),
        last_status: task.last_status().map(str::to_owned),
        job_url: task
            .overrides()
            .map(|o| o.container_overrides())
            .unwrap_or_default()
            .iter()
            .flat_map(|c| c.environment())
            .find(|e| e.name() == Some(JOB_URL_VAR))
            .and_then(|e| e.value())
            .map(str::to_owned),
    })
}

/// The build cluster's tasks.
pub struct EcsBuildTasks {
    client: aws_sdk_ecs::Client,
    cluster: String,
}

impl EcsBuildTasks {
    pub fn new(client: aws_sdk_ecs::Client, cluster: impl Into<String>) -> Self {
        Self { client, cluster: cluster.into() }
    }

    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    /// Every task of the cluster whose desired status is RUNNING (pending ones included).
    pub async fn running(&self) -> PortResult<Vec<BuildTask>> {
        let mut arns = Vec::new();
        let mut next_token = None;
        loop {
            let page = self
                .client
                .list_tasks()
                .cluster(&self.cluster)
                .desired_status(DesiredStatus::Running)
                .set_next_token(next_token)
                .send()
                .await
                .map_err(|e| port_error(SERVICE, e))?;
            arns.extend(page.task_arns().iter().cloned());
            next_token = page.next_token().map(str::to_owned);
            if next_token.is_none() {
                break;
            }
        }
        let mut tasks = Vec::with_capacity(arns.len());
        for batch in arns.chunks(DESCRIBE_BATCH) {
            let described = self
                .client
                .describe_tasks()
                .cluster(&self.cluster)
                .set_tasks(Some(batch.to_vec()))
                .send()
                .await
                .map_err(|e| port_error(SERVICE, e))?;
            tasks.extend(described.tasks().iter().filter_map(build_task));
        }
        Ok(tasks)
    }

    /// Stops a task; returns whether it was still running when asked.
    pub async fn stop(&self, task_arn: &str, reason: &str) -> PortResult<bool> {
        let output = self
            .client
            .stop_task()
            .cluster(&self.cluster)
            .task(task_arn)
            .reason(reason.chars().take(MAX_REASON_CHARS).collect::<String>())
            .send()
            .await
            .map_err(|e| port_error(SERVICE, e))?;
        let was_running = output.task().and_then(|t| t.last_status()) != Some("STOPPED");
        tracing::warn!(task = task_arn, reason, was_running, "stopped a build task past its deadline");
        Ok(was_running)
    }

    /// Stops every running task that began before `deadline`; returns the stopped tasks' ARNs.
    /// One task that cannot be stopped does not keep the others running: the first error is
    /// returned after all were tried.
    pub async fn stop_started_before(
        &self,
        deadline: DateTime<Utc>,
        reason: &str,
    ) -> PortResult<Vec<String>> {
        let overdue = started_before(&self.running().await?, deadline);
        let mut stopped = Vec::with_capacity(overdue.len());
        let mut first_error = None;
        for task in overdue {
            match self.stop(&task.task_arn, reason).await {
                Ok(_) => stopped.push(task.task_arn),
                Err(e) => {
                    tracing::error!(task = %task.task_arn, error = %e, "could not stop a build task");
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(stopped),
        }
    }
}

#[async_trait]
impl BuildTasks for EcsBuildTasks {
    /// Tasks whose job location names no mission are not Gantry builds and are left alone.
    async fn running_started_before(&self, before: DateTime<Utc>) -> PortResult<Vec<RunningBuild>> {
        let overdue = started_before(&self.running().await?, before);
        Ok(overdue
            .into_iter()
            .filter_map(|task| {
                let since = task.since()?;
                let Some((mission, attempt)) = task.build() else {
                    tracing::warn!(task = %task.task_arn, "a task in the build cluster names no build; left alone");
                    return None;
                };
                Some(RunningBuild { task_id: task.task_arn, mission, attempt, started_at: since })
            })
            .collect())
    }

    async fn stop_build(&self, build: &RunningBuild, reason: &str) -> PortResult<bool> {
        self.stop(&build.task_id, reason).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(arn: &str, created: Option<i64>, started: Option<i64>) -> BuildTask {
        BuildTask {
            task_arn: arn.into(),
            created_at: created.and_then(|s| DateTime::from_timestamp(s, 0)),
            started_at: started.and_then(|s| DateTime::from_timestamp(s, 0)),
            last_status: Some("RUNNING".into()),
            job_url: None,
        }
    }

    #[test]
    fn a_task_names_its_build_by_its_job_location() {
        let mission = MissionId::generate();
        let mut build = task("t", Some(1), None);
        build.job_url = Some(format!(
            "https://artifacts.s3.eu-west-1.amazonaws.com/missions/{mission}/build-3/job.json?X-Amz-Signature=abc"
        ));
        assert_eq!(build.build(), Some((mission.clone(), 3)));
        build.job_url = Some(format!("missions/{mission}/build-1/job.json"));
        assert_eq!(build.build(), Some((mission.clone(), 1)), "a bare key, as the local shape passes");
        build.job_url = Some(format!("http://127.0.0.1:9/missions/{mission}/build-x/job.json"));
        assert_eq!(build.build(), None);
        build.job_url = Some("http://127.0.0.1:9/missions/not-an-id/build-1/job.json".into());
        assert_eq!(build.build(), None);
    }

    #[test]
    fn only_tasks_older_than_the_deadline_are_overdue() {
        let deadline = DateTime::from_timestamp(1_000, 0).unwrap_or_default();
        let tasks = [
            task("old-started", Some(100), Some(200)),
            task("old-pending", Some(300), None),
            task("young", Some(900), Some(1_100)),
            task("at-deadline", None, Some(1_000)),
            task("unknown-age", None, None),
        ];
        let overdue: Vec<String> = started_before(&tasks, deadline).into_iter().map(|t| t.task_arn).collect();
        assert_eq!(overdue, ["old-started", "old-pending"]);
    }
}

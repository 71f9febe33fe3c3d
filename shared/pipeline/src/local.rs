//! The local shape's orchestrator: `statemachine/mission.asl.json` run in-process by the ASL
//! executor. Lambda tasks map to the step handlers, the ECS build task to the local build runner.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::{json, Value};
use tokio::sync::watch;
use tracing::Instrument;

use gantry_asl::{StateMachine, TaskFailure, TaskInvoker};
use gantry_domain::{Mission, MissionId};
use gantry_ports::{
    BuildJob, BuildRunner, Execution, ExecutionState, MissionStore, ObjectStore, Orchestrator, PortError,
    PortResult,
};

use crate::contract::ErrorName;
use crate::dispatch::{execution_name, initial_input};
use crate::output_bundle::{self, OUTPUT_CONTENT_TYPE};
use crate::state::{Failure, PipelineState};
use crate::steps::{BuildJobDoc, Step, Steps, LOG_CONTENT_TYPE, REPORT_CONTENT_TYPE};

/// The pipeline definition, compiled in so the binary needs no file beside it.
pub const MISSION_ASL: &str = include_str!("../../../statemachine/mission.asl.json");

const LAMBDA_INVOKE: &str = "arn:aws:states:::lambda:invoke";
const ECS_RUN_TASK_SYNC: &str = "arn:aws:states:::ecs:runTask.sync";
const LOCAL_FUNCTION_PREFIX: &str = "local:";

/// Substitutions that point every Task of the definition at this process.
pub fn local_substitutions() -> HashMap<String, String> {
    let mut map: HashMap<String, String> = Step::ALL
        .into_iter()
        .map(|s| (s.substitution().to_owned(), format!("{LOCAL_FUNCTION_PREFIX}{}", s.name())))
        .collect();
    for name in
        ["BuildClusterArn", "BuildTaskDefinitionArn", "BuildSubnetA", "BuildSubnetB", "BuildSecurityGroupId"]
    {
        map.insert(name.to_owned(), "local".to_owned());
    }
    map
}

struct Invoker {
    steps: Steps,
    runner: Arc<dyn BuildRunner>,
    objects: Arc<dyn ObjectStore>,
}

fn failure(error: ErrorName, cause: impl Into<String>) -> TaskFailure {
    TaskFailure { error: error.to_string(), cause: cause.into() }
}

fn env_value(parameters: &Value, name: &str) -> Option<String> {
    parameters["Overrides"]["ContainerOverrides"]
        .as_array()?
        .iter()
        .flat_map(|c| c["Environment"].as_array().cloned().unwrap_or_default())
        .find(|e| e["Name"] == name)
        .and_then(|e| e["Value"].as_str().map(str::to_owned))
}

impl Invoker {
    async fn lambda(&self, parameters: Value) -> Result<Value, TaskFailure> {
        let function = parameters["FunctionName"].as_str().unwrap_or_default();
        let step = function
            .strip_prefix(LOCAL_FUNCTION_PREFIX)
            .and_then(Step::from_name)
            .ok_or_else(|| failure(ErrorName::UnknownFunction, format!("no local step for {function:?}")))?;
        let state: PipelineState = serde_json::from_value(parameters["Payload"].clone())
            .map_err(|e| failure(ErrorName::BadState, e.to_string()))?;
        match self.steps.run(step, state).await {
            Ok(next) => Ok(json!({"StatusCode": 200, "Payload": next})),
            Err(e) => Err(failure(e.error_name(), e.to_string())),
        }
    }

    /// The local stand-in for the Fargate builder: the same job document in; log, output
    /// bundle (of a passed build) and report out, the report last.
    async fn build(&self, parameters: Value) -> Result<Value, TaskFailure> {
        let (job_key, report_key, log_key, output_key) = match (
            env_value(&parameters, "GANTRY_BUILD_JOB_URL"),
            env_value(&parameters, "GANTRY_BUILD_REPORT_URL"),
            env_value(&parameters, "GANTRY_BUILD_LOG_URL"),
            env_value(&parameters, "GANTRY_BUILD_OUTPUT_URL"),
        ) {
            (Some(j), Some(r), Some(l), Some(o)) => (j, r, l, o),
            _ => {
                return Err(failure(
                    ErrorName::BadBuildTask,
                    "the build task is missing its job, report, log or output location",
                ))
            }
        };
        let port = |e: PortError| failure(ErrorName::BuildTaskFailed, e.to_string());
        let bytes = self
            .objects
            .get(&job_key)
            .await
            .map_err(port)?
            .ok_or_else(|| failure(ErrorName::BuildTaskFailed, "the build job is missing"))?;
        let job: BuildJobDoc =
            serde_json::from_slice(&bytes).map_err(|e| failure(ErrorName::BuildTaskFailed, e.to_string()))?;
        let design_image = match &job.design_image {
            Some(image) => {
                self.objects.get(&image.location).await.map_err(port)?.map(|bytes| (image.ext.clone(), bytes))
            }
            None => None,
        };
        let outcome = self
            .runner
            .run(&BuildJob {
                mission: job.mission_id,
                attempt: job.attempt,
                manifest: job.manifest,
                design_image,
                limits: job.limits,
            })
            .await
            .map_err(port)?;
        let report = serde_json::to_vec(&outcome.report)
            .map_err(|e| failure(ErrorName::BuildTaskFailed, e.to_string()))?;
        self.objects.put(&log_key, &outcome.log, LOG_CONTENT_TYPE).await.map_err(port)?;
        if outcome.report.passed {
            let bundle = output_bundle::encode(&outcome.output)
                .map_err(|e| failure(ErrorName::BuildTaskFailed, e.to_string()))?;
            self.objects.put(&output_key, &bundle, OUTPUT_CONTENT_TYPE).await.map_err(port)?;
        }
        self.objects.put(&report_key, &report, REPORT_CONTENT_TYPE).await.map_err(port)?;
        Ok(json!({"LastStatus": "STOPPED", "Containers": [{"ExitCode": 0}]}))
    }
}

#[async_trait]
impl TaskInvoker for Invoker {
    async fn invoke(&self, _state: &str, resource: &str, parameters: Value) -> Result<Value, TaskFailure> {
        match resource {
            LAMBDA_INVOKE => self.lambda(parameters).await,
            ECS_RUN_TASK_SYNC => self.build(parameters).await,
            other => Err(failure(ErrorName::UnknownResource, format!("no local handler for {other}"))),
        }
    }
}

struct Run {
    mission: MissionId,
    dispatch: u32,
    handle: tokio::task::JoinHandle<()>,
    done: watch::Receiver<Option<ExecutionState>>,
}

/// Runs missions in this process, one tokio task each.
pub struct LocalOrchestrator {
    machine: Arc<StateMachine>,
    invoker: Arc<Invoker>,
    store: Arc<dyn MissionStore>,
    runs: Mutex<HashMap<String, Run>>,
}

impl LocalOrchestrator {
    pub fn new(steps: Steps, runner: Arc<dyn BuildRunner>) -> Result<Arc<Self>, gantry_asl::LoadError> {
        let machine = StateMachine::load(MISSION_ASL, &local_substitutions())?;
        let store = steps.store.clone();
        let objects = steps.objects.clone();
        Ok(Arc::new(Self {
            machine: Arc::new(machine),
            invoker: Arc::new(Invoker { steps, runner, objects }),
            store,
            runs: Mutex::new(HashMap::new()),
        }))
    }

    fn runs(&self) -> std::sync::MutexGuard<'_, HashMap<String, Run>> {
        self.runs.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Spawns the definition from `start_at` (its StartAt when `None`), unless an execution of
    /// that name exists: check and insert happen under one lock, so a name runs at most once.
    fn spawn(
        &self,
        name: String,
        mission: MissionId,
        dispatch: u32,
        input: Value,
        start_at: Option<&'static str>,
    ) -> bool {
        let mut runs = self.runs();
        if runs.contains_key(&name) {
            return false;
        }
        let (tx, rx) = watch::channel(None);
        let machine = self.machine.clone();
        let invoker = self.invoker.clone();
        // A root span: the pipeline's lines name the mission once, whoever started it.
        let span = tracing::info_span!(parent: None, "mission", mission_id = %mission);
        let handle = tokio::spawn(
            async move {
                tracing::info!(dispatch, from = start_at.unwrap_or("the start"), "execution started");
                let result = match start_at {
                    Some(state) => machine.run_from(state, input, invoker.as_ref()).await,
                    None => machine.run(input, invoker.as_ref()).await,
                };
                let state = match result {
                    Ok(_) => ExecutionState::Succeeded,
                    Err(e) => {
                        tracing::error!(error = %e.error, cause = %e.cause, "execution failed");
                        ExecutionState::Failed
                    }
                };
                let _ = tx.send(Some(state));
            }
            .instrument(span),
        );
        runs.insert(name, Run { mission, dispatch, handle, done: rx });
        true
    }

    /// Waits until the mission's newest execution ends.
    pub async fn wait(&self, mission: &MissionId) -> ExecutionState {
        let receiver = {
            let runs = self.runs();
            runs.values().filter(|r| &r.mission == mission).max_by_key(|r| r.dispatch).map(|r| r.done.clone())
        };
        let Some(mut receiver) = receiver else { return ExecutionState::Missing };
        loop {
            if let Some(state) = *receiver.borrow_and_update() {
                return state;
            }
            if receiver.changed().await.is_err() {
                return ExecutionState::Aborted;
            }
        }
    }

    /// After a restart: QUEUED missions start again; missions caught mid-run are finalized as
    /// FAILED with reason "interrupted" (their evidence sealed), so none stays in flight forever.
    pub async fn recover(&self) -> PortResult<usize> {
        let missions = self.store.in_flight().await?;
        let count = missions.len();
        for mission in missions {
            let name = execution_name(&mission.id, mission.dispatches);
            if self.runs().contains_key(&name) {
                continue;
            }
            if mission.status == gantry_domain::MissionStatus::Queued {
                tracing::info!(mission_id = %mission.id, "resuming a queued mission");
                self.start(&mission).await?;
            } else {
                tracing::warn!(mission_id = %mission.id, status = %mission.status, "finalizing an interrupted mission");
                self.close_open_steps(&mission.id).await?;
                let mut state = PipelineState::new(
                    mission.id.clone(),
                    mission.deploy,
                    mission.publish,
                    mission.dispatches,
                );
                state.attempt = Some(mission.attempts.max(1));
                state.failure = Some(Failure {
                    error: ErrorName::Interrupted,
                    cause: format!(
                        "interrupted: the server stopped while the mission was {}",
                        mission.status
                    ),
                });
                let input = serde_json::to_value(&state).map_err(|e| PortError::Failed(e.to_string()))?;
                self.spawn(name, mission.id.clone(), mission.dispatches, input, Some("RecordFailure"));
            }
        }
        Ok(count)
    }

    /// Ends every step the stopped process left running as failed ("interrupted"), at the
    /// time of recovery: no step of an interrupted mission stays running forever.
    async fn close_open_steps(&self, mission: &MissionId) -> PortResult<()> {
        let now = chrono::Utc::now();
        for mut step in self.store.steps(mission).await? {
            if step.status != gantry_domain::StepStatus::Running {
                continue;
            }
            step.status = gantry_domain::StepStatus::Failed;
            step.ended_at = Some(now.max(step.started_at));
            step.detail = Some(format!("interrupted: the server stopped during {}", step.name.as_str()));
            self.store.record_step(mission, &step).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl Orchestrator for LocalOrchestrator {
    async fn start(&self, mission: &Mission) -> PortResult<Execution> {
        let name = execution_name(&mission.id, mission.dispatches);
        if self.runs().contains_key(&name) {
            return Ok(Execution { started: false, trace_url: None });
        }
        let input = initial_input(mission)?;
        let started = self.spawn(name, mission.id.clone(), mission.dispatches, input, None);
        Ok(Execution { started, trace_url: None })
    }

    async fn describe(&self, mission: &MissionId) -> PortResult<ExecutionState> {
        let runs = self.runs();
        let newest = runs.values().filter(|r| &r.mission == mission).max_by_key(|r| r.dispatch);
        Ok(match newest {
            None => ExecutionState::Missing,
            Some(run) => match *run.done.borrow() {
                Some(state) => state,
                None if run.handle.is_finished() => ExecutionState::Aborted,
                None => ExecutionState::Running,
            },
        })
    }

    /// Aborts the running execution (dropping it kills its build's process group), then seals
    /// the evidence and finalizes through the definition's failure path.
    async fn stop(&self, mission: &MissionId, reason: &str) -> PortResult<()> {
        let stopped = {
            let mut runs = self.runs();
            let newest = runs
                .iter()
                .filter(|(_, r)| &r.mission == mission && !r.handle.is_finished())
                .max_by_key(|(_, r)| r.dispatch)
                .map(|(name, _)| name.clone());
            newest.and_then(|name| runs.remove(&name).map(|run| (name, run)))
        };
        let Some((name, run)) = stopped else { return Ok(()) };
        run.handle.abort();
        let record = self.store.get(mission).await?.ok_or(PortError::NotFound)?;
        let mut state = PipelineState::new(mission.clone(), record.deploy, record.publish, run.dispatch);
        state.attempt = Some(record.attempts.max(1));
        state.failure = Some(Failure { error: ErrorName::Cancelled, cause: reason.to_owned() });
        let input = serde_json::to_value(&state).map_err(|e| PortError::Failed(e.to_string()))?;
        self.spawn(name, mission.clone(), run.dispatch, input, Some("RecordFailure"));
        Ok(())
    }
}

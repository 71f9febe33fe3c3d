//! The AWS shape's orchestrator: one Step Functions Standard execution per mission dispatch,
//! running `statemachine/mission.asl.json` as deployed by the template.
//!
//! Executions are named by [`execution_name`], so a second start of the same dispatch starts
//! nothing new. Step Functions treats a repeated `StartExecution` with the same name *and the
//! same input* of a running execution as the original call and answers success; each start
//! therefore carries its own request id in the input, so a repeat is always
//! `ExecutionAlreadyExists` and reported as `started: false`.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_sfn::types::ExecutionStatus;
use serde_json::Value;

use gantry_domain::{Mission, MissionId};
use gantry_pipeline::dispatch::{execution_name, initial_input};
use gantry_ports::{Execution, ExecutionState, MissionStore, Orchestrator, PortError, PortResult};

use crate::error::port_error;

const SERVICE: &str = "Step Functions";
/// The input field holding the id of the `StartExecution` call (carried through untouched).
pub const START_REQUEST_FIELD: &str = "start_request_id";
/// The error a stopped execution reports, as the local shape names a cancellation.
/// StopExecution accepts a cause of at most 32 768 characters; a reason needs far fewer.
const MAX_CAUSE_CHARS: usize = 1000;

pub struct StepFunctionsOrchestrator {
    client: aws_sdk_sfn::Client,
    state_machine_arn: String,
    /// The mission's deploy/publish choices and current dispatch live in the store.
    store: Arc<dyn MissionStore>,
}

impl StepFunctionsOrchestrator {
    pub fn new(
        client: aws_sdk_sfn::Client,
        state_machine_arn: impl Into<String>,
        store: Arc<dyn MissionStore>,
    ) -> Self {
        Self { client, state_machine_arn: state_machine_arn.into(), store }
    }

    pub fn execution_arn(&self, name: &str) -> String {
        execution_arn(&self.state_machine_arn, name)
    }

    /// The Step Functions console page of an execution, in the execution's own region.
    pub fn trace_url(execution_arn: &str) -> String {
        let region = execution_arn.split(':').nth(3).unwrap_or_default();
        format!(
            "https://{region}.console.aws.amazon.com/states/home?region={region}#/v2/executions/details/{execution_arn}"
        )
    }

    /// The ARN of the mission's newest execution, or `None` when the mission does not exist.
    async fn newest_execution(&self, mission: &MissionId) -> PortResult<Option<String>> {
        let record = self.store.get(mission).await?;
        Ok(record.map(|m| self.execution_arn(&execution_name(mission, m.dispatches))))
    }
}

/// `arn:…:stateMachine:{machine}` → `arn:…:execution:{machine}:{name}`.
pub fn execution_arn(state_machine_arn: &str, name: &str) -> String {
    format!("{}:{name}", state_machine_arn.replacen(":stateMachine:", ":execution:", 1))
}

fn status_of(status: &ExecutionStatus) -> ExecutionState {
    match status {
        ExecutionStatus::Succeeded => ExecutionState::Succeeded,
        ExecutionStatus::Failed => ExecutionState::Failed,
        ExecutionStatus::TimedOut => ExecutionState::TimedOut,
        ExecutionStatus::Aborted => ExecutionState::Aborted,
        // Running, pending a redrive, or a status newer than this SDK: still in someone's hands,
        // so nothing may finalize the mission behind its back.
        _ => ExecutionState::Running,
    }
}

fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

#[async_trait]
impl Orchestrator for StepFunctionsOrchestrator {
    async fn start(&self, mission: &Mission) -> PortResult<Execution> {
        let name = execution_name(&mission.id, mission.dispatches);
        let mut input = initial_input(mission)?;
        if let Value::Object(fields) = &mut input {
            fields.insert(START_REQUEST_FIELD.into(), Value::String(uuid::Uuid::now_v7().to_string()));
        }
        let result = self
            .client
            .start_execution()
            .state_machine_arn(&self.state_machine_arn)
            .name(&name)
            .input(input.to_string())
            .send()
            .await;
        match result {
            Ok(output) => {
                tracing::info!(mission_id = %mission.id, dispatch = mission.dispatches, execution = output.execution_arn(), "execution started");
                Ok(Execution { started: true, trace_url: Some(Self::trace_url(output.execution_arn())) })
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_execution_already_exists()) => {
                tracing::info!(mission_id = %mission.id, dispatch = mission.dispatches, "execution already exists; nothing started");
                Ok(Execution { started: false, trace_url: Some(Self::trace_url(&self.execution_arn(&name))) })
            }
            Err(e) => Err(port_error(SERVICE, e)),
        }
    }

    async fn describe(&self, mission: &MissionId) -> PortResult<ExecutionState> {
        let Some(arn) = self.newest_execution(mission).await? else { return Ok(ExecutionState::Missing) };
        match self.client.describe_execution().execution_arn(&arn).send().await {
            Ok(output) => Ok(status_of(output.status())),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_execution_does_not_exist()) => {
                Ok(ExecutionState::Missing)
            }
            Err(e) => Err(port_error(SERVICE, e)),
        }
    }

    /// Stops the newest execution. Step Functions runs no state after a stop: the caller (the
    /// cancel route) records the mission's final status itself.
    async fn stop(&self, mission: &MissionId, reason: &str) -> PortResult<()> {
        let Some(arn) = self.newest_execution(mission).await? else { return Err(PortError::NotFound) };
        let result = self
            .client
            .stop_execution()
            .execution_arn(&arn)
            .error(gantry_pipeline::ErrorName::Cancelled.as_str())
            .cause(clip(reason, MAX_CAUSE_CHARS))
            .send()
            .await;
        match result {
            Ok(_) => {
                tracing::info!(mission_id = %mission, execution = %arn, "execution stopped");
                Ok(())
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_execution_does_not_exist()) => Ok(()),
            Err(e) => Err(port_error(SERVICE, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_links_name_the_execution_and_its_region() {
        let arn = "arn:aws:states:eu-west-1:123456789012:execution:gantry-mission:m-1";
        assert_eq!(
            StepFunctionsOrchestrator::trace_url(arn),
            "https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/arn:aws:states:eu-west-1:123456789012:execution:gantry-mission:m-1"
        );
    }

    #[test]
    fn execution_arns_follow_the_state_machine_arn() {
        assert_eq!(
            execution_arn("arn:aws:states:us-east-1:123456789012:stateMachine:gantry-mission", "m-1-2"),
            "arn:aws:states:us-east-1:123456789012:execution:gantry-mission:m-1-2"
        );
    }

    #[test]
    fn statuses_map_to_execution_states() {
        assert_eq!(status_of(&ExecutionStatus::Running), ExecutionState::Running);
        assert_eq!(status_of(&ExecutionStatus::PendingRedrive), ExecutionState::Running);
        assert_eq!(status_of(&ExecutionStatus::Succeeded), ExecutionState::Succeeded);
        assert_eq!(status_of(&ExecutionStatus::Failed), ExecutionState::Failed);
        assert_eq!(status_of(&ExecutionStatus::TimedOut), ExecutionState::TimedOut);
        assert_eq!(status_of(&ExecutionStatus::Aborted), ExecutionState::Aborted);
    }
}

//! One pipeline step as a Lambda handler: the state object in, the state object out, and a
//! failure whose `errorType` is the error name the state machine's Retry and Catch match.

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;

use gantry_pipeline::{ErrorName, PipelineState, Step, StepError, Steps};

/// A failed step, as Step Functions sees it.
#[derive(Debug)]
pub struct StepFailure {
    pub error_type: String,
    pub message: String,
}

impl From<StepError> for StepFailure {
    fn from(e: StepError) -> Self {
        Self { error_type: e.error_name().to_string(), message: e.to_string() }
    }
}

impl From<StepFailure> for Diagnostic {
    fn from(failure: StepFailure) -> Self {
        Diagnostic { error_type: failure.error_type, error_message: failure.message }
    }
}

/// Runs `step` on the event's state object.
pub async fn handle(steps: &Steps, step: Step, event: LambdaEvent<Value>) -> Result<Value, StepFailure> {
    let state: PipelineState = serde_json::from_value(event.payload)
        .map_err(|e| StepFailure { error_type: ErrorName::BadState.to_string(), message: e.to_string() })?;
    let span = tracing::info_span!("mission", mission_id = %state.mission_id);
    let next = tracing::Instrument::instrument(steps.run(step, state), span).await?;
    serde_json::to_value(next)
        .map_err(|e| StepFailure { error_type: ErrorName::BadState.to_string(), message: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_errors_keep_their_state_machine_names() {
        let cases = [
            (StepError::Transient("throttled".into()), "Gantry.Transient"),
            (StepError::Failed("no manifest".into()), "Gantry.StepFailed"),
            (StepError::Cancelled, "Gantry.Cancelled"),
        ];
        for (error, name) in cases {
            let message = error.to_string();
            let diagnostic = Diagnostic::from(StepFailure::from(error));
            assert_eq!(diagnostic.error_type, name);
            assert_eq!(diagnostic.error_message, message);
        }
    }
}

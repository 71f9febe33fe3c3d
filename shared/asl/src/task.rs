//! The one thing the executor cannot do itself: carry out a Task state's resource.

use async_trait::async_trait;
use serde_json::Value;

use crate::error::TaskFailure;

/// Carries out Task states. The executor hands over the state's name, its `Resource` as written
/// (after substitutions) and its effective parameters; the invoker answers with what the AWS
/// integration would answer. For `arn:aws:states:::lambda:invoke` that is
/// `{"Payload": <the function's return value>, …}`, so `"OutputPath": "$.Payload"` works the same
/// in both shapes.
///
/// A failure's `error` is what Retry and Catch match on: use the names AWS would report
/// (`Lambda.ServiceException`, a function's own error type such as `Gantry.Transient`, …).
/// A timed-out invocation is dropped mid-flight, so an invoker must tolerate cancellation.
#[async_trait]
pub trait TaskInvoker: Send + Sync {
    async fn invoke(&self, state: &str, resource: &str, parameters: Value) -> Result<Value, TaskFailure>;
}

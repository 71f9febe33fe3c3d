//! A hook for tracing executions as they go, state by state.

use std::time::Duration;

use serde_json::Value;

use crate::error::{ExecutionFailure, TaskFailure};

/// Told what an execution does, in order: `entered`, then any `retrying`, then either `exited`
/// (after `caught` when a Catch handled an error) or `failed`. Calls are synchronous and on the
/// execution's path, so they should be quick. Every method defaults to doing nothing.
pub trait Observer: Send + Sync {
    fn entered(&self, _state: &str, _input: &Value) {}

    /// `retry` counts the state's retries so far (1 for the first); `delay` is the wait before it.
    fn retrying(&self, _state: &str, _failure: &TaskFailure, _retry: u32, _delay: Duration) {}

    fn caught(&self, _state: &str, _failure: &TaskFailure, _next: &str) {}

    fn exited(&self, _state: &str, _output: &Value) {}

    fn failed(&self, _state: &str, _failure: &ExecutionFailure) {}
}

/// The observer used when none is given.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopObserver;

impl Observer for NoopObserver {}

//! The state machine: a loaded definition and the loop that runs it.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::definition::{
    self, ChoiceState, Definition, Fail, Io, Pass, ResultPath, Select, State, Task, Text, Then,
};
use crate::error::{errors, ExecutionFailure, LoadError, TaskFailure};
use crate::observer::{NoopObserver, Observer};
use crate::task::TaskInvoker;

/// A cap on one retry wait, so a large backoff cannot overflow a `Duration`.
const MAX_RETRY_DELAY_SECONDS: f64 = 365.0 * 24.0 * 3600.0;

/// A validated definition, ready to run any number of times (concurrently too: it is immutable).
#[derive(Debug, Clone)]
pub struct StateMachine {
    definition: Definition,
}

/// How to run one execution. The defaults suit production; tests shrink retry waits with
/// [`RunOptions::retry_delay_scale`] or run under tokio's paused clock.
#[derive(Clone)]
pub struct RunOptions {
    execution_name: String,
    observer: Arc<dyn Observer>,
    retry_delay_scale: f64,
    max_transitions: u32,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            execution_name: "local".to_string(),
            observer: Arc::new(NoopObserver),
            retry_delay_scale: 1.0,
            max_transitions: 10_000,
        }
    }
}

impl fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunOptions")
            .field("execution_name", &self.execution_name)
            .field("retry_delay_scale", &self.retry_delay_scale)
            .field("max_transitions", &self.max_transitions)
            .finish_non_exhaustive()
    }
}

impl RunOptions {
    pub fn new() -> Self {
        Self::default()
    }

    /// `$$.Execution.Name` (and `$$.Execution.Id`, as `local:{name}`); use the mission id.
    pub fn execution_name(mut self, name: impl Into<String>) -> Self {
        self.execution_name = name.into();
        self
    }

    pub fn observer(mut self, observer: Arc<dyn Observer>) -> Self {
        self.observer = observer;
        self
    }

    /// Multiplies every retry wait (0 retries at once). Task timeouts are not scaled: they bound
    /// real work.
    pub fn retry_delay_scale(mut self, scale: f64) -> Self {
        self.retry_delay_scale = scale.max(0.0);
        self
    }

    /// Fails the execution with `States.Runtime` after this many state entries, so a loop whose
    /// exit condition never comes true cannot run forever.
    pub fn max_transitions(mut self, limit: u32) -> Self {
        self.max_transitions = limit;
        self
    }
}

/// Where a state hands over to, and with what.
struct Leave {
    next: Option<String>,
    output: Value,
}

impl Leave {
    fn then(then: &Then, output: Value) -> Self {
        match then {
            Then::Next(next) => Leave { next: Some(next.clone()), output },
            Then::End => Leave { next: None, output },
        }
    }
}

impl StateMachine {
    /// Substitutes `${Name}` placeholders from `substitutions`, parses and validates the
    /// definition. Everything the executor would trip over later is reported here instead.
    pub fn load(definition_json: &str, substitutions: &HashMap<String, String>) -> Result<Self, LoadError> {
        Ok(Self { definition: definition::load(definition_json, substitutions)? })
    }

    pub fn start_at(&self) -> &str {
        &self.definition.start_at
    }

    pub fn has_state(&self, name: &str) -> bool {
        self.definition.states.contains_key(name)
    }

    /// The state names, sorted.
    pub fn state_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.definition.states.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// Runs from `StartAt` to a Succeed or End state (the output) or to an unhandled error.
    pub async fn run(&self, input: Value, invoker: &dyn TaskInvoker) -> Result<Value, ExecutionFailure> {
        self.run_with(&self.definition.start_at, input, invoker, &RunOptions::default()).await
    }

    /// Runs from the named state instead of `StartAt`, e.g. to finalize a mission whose execution
    /// was interrupted.
    pub async fn run_from(
        &self,
        state: &str,
        input: Value,
        invoker: &dyn TaskInvoker,
    ) -> Result<Value, ExecutionFailure> {
        self.run_with(state, input, invoker, &RunOptions::default()).await
    }

    pub async fn run_with(
        &self,
        state: &str,
        input: Value,
        invoker: &dyn TaskInvoker,
        options: &RunOptions,
    ) -> Result<Value, ExecutionFailure> {
        let name = &options.execution_name;
        let mut context = json!({
            "Execution": {"Id": format!("local:{name}"), "Name": name, "Input": input.clone()},
            "StateMachine": {"Id": "local", "Name": "local"},
            "State": {"Name": "", "RetryCount": 0},
        });
        let current = Mutex::new(String::new());
        let walk = self.walk(state, input, invoker, options, &mut context, &current);
        let Some(limit) = self.definition.timeout else {
            return walk.await;
        };
        match tokio::time::timeout(limit, walk).await {
            Ok(outcome) => outcome,
            Err(_) => {
                let state = current.lock().map(|s| s.clone()).unwrap_or_default();
                let failure = ExecutionFailure {
                    error: errors::TIMEOUT.to_string(),
                    cause: format!("the execution did not finish within {} s", limit.as_secs()),
                    state,
                };
                options.observer.failed(&failure.state, &failure);
                Err(failure)
            }
        }
    }

    async fn walk(
        &self,
        start: &str,
        mut data: Value,
        invoker: &dyn TaskInvoker,
        options: &RunOptions,
        context: &mut Value,
        current: &Mutex<String>,
    ) -> Result<Value, ExecutionFailure> {
        let mut name = start.to_string();
        let mut entered = 0u32;
        loop {
            let Some(state) = self.definition.states.get(&name) else {
                return Err(ExecutionFailure {
                    error: errors::RUNTIME.to_string(),
                    cause: format!("there is no state named {name:?}"),
                    state: String::new(),
                });
            };
            entered += 1;
            let outcome = if entered > options.max_transitions {
                Err(TaskFailure::runtime(format!(
                    "the execution entered {} states without ending",
                    options.max_transitions
                )))
            } else {
                if let Ok(mut current) = current.lock() {
                    current.clone_from(&name);
                }
                context["State"] = json!({"Name": name, "RetryCount": 0});
                options.observer.entered(&name, &data);
                tracing::debug!(state = %name, "entered state");
                match state {
                    State::Task(task) => run_task(&name, task, data, invoker, options, context).await,
                    State::Pass(pass) => run_pass(pass, data, context),
                    State::Choice(choice) => run_choice(choice, data, context),
                    State::Succeed(io) => run_succeed(io, data, context),
                    State::Fail(fail) => Err(run_fail(fail, &data, context)),
                }
            };
            match outcome {
                Ok(Leave { next, output }) => {
                    options.observer.exited(&name, &output);
                    match next {
                        Some(next) => {
                            name = next;
                            data = output;
                        }
                        None => return Ok(output),
                    }
                }
                Err(failure) => {
                    tracing::warn!(state = %name, error = %failure.error, cause = %failure.cause, "execution failed");
                    let failure =
                        ExecutionFailure { error: failure.error, cause: failure.cause, state: name };
                    options.observer.failed(&failure.state, &failure);
                    return Err(failure);
                }
            }
        }
    }
}

/// InputPath / OutputPath.
fn select(select: &Select, data: &Value, context: &Value, field: &str) -> Result<Value, TaskFailure> {
    match select {
        Select::Nothing => Ok(json!({})),
        Select::Path(path) => path.select(data, context).cloned().ok_or_else(|| {
            TaskFailure::runtime(format!("the {field} {path} selects nothing from the state's data"))
        }),
    }
}

/// ResultPath: where the result goes in the state's raw input (not the InputPath-filtered one).
fn place(result_path: &ResultPath, raw: Value, result: Value) -> Result<Value, TaskFailure> {
    match result_path {
        ResultPath::Discard => Ok(raw),
        ResultPath::Path(path) => path.set(raw, result).map_err(TaskFailure::runtime),
    }
}

fn delay(seconds: f64, scale: f64) -> Duration {
    Duration::try_from_secs_f64((seconds * scale).min(MAX_RETRY_DELAY_SECONDS)).unwrap_or(Duration::ZERO)
}

/// InputPath → Parameters → invoke (bounded by TimeoutSeconds, retried per Retry) →
/// ResultSelector → ResultPath → OutputPath; an error no retrier absorbs goes to the first
/// matching Catch. Data errors (`States.Runtime`) are neither retried nor caught by wildcards.
async fn run_task(
    name: &str,
    task: &Task,
    raw: Value,
    invoker: &dyn TaskInvoker,
    options: &RunOptions,
    context: &mut Value,
) -> Result<Leave, TaskFailure> {
    let input = select(&task.io.input, &raw, context, "InputPath")?;
    let mut attempts = vec![0u32; task.retry.len()];
    let mut retries = 0u32;
    loop {
        // Rendered per attempt so `$$.State.RetryCount` tells the task which attempt it is.
        let parameters = match &task.parameters {
            Some(template) => template.render(&input, context)?,
            None => input.clone(),
        };
        let call = invoker.invoke(name, &task.resource, parameters);
        let outcome = match task.timeout {
            Some(limit) => tokio::time::timeout(limit, call).await.unwrap_or_else(|_| {
                Err(TaskFailure::new(
                    errors::TIMEOUT,
                    format!("the task did not finish within {} s", limit.as_secs()),
                ))
            }),
            None => call.await,
        };
        let failure = match outcome {
            Ok(result) => {
                let result = match &task.result_selector {
                    Some(template) => template.render(&result, context)?,
                    None => result,
                };
                let combined = place(&task.result_path, raw, result)?;
                let output = select(&task.io.output, &combined, context, "OutputPath")?;
                return Ok(Leave::then(&task.then, output));
            }
            Err(failure) => failure,
        };
        if let Some(i) = task.retry.iter().position(|r| r.matches(&failure.error)) {
            if attempts[i] < task.retry[i].max_attempts {
                let wait = delay(task.retry[i].delay_seconds(attempts[i]), options.retry_delay_scale);
                attempts[i] += 1;
                retries += 1;
                tracing::info!(state = name, error = %failure.error, retry = retries, ?wait, "retrying task");
                options.observer.retrying(name, &failure, retries, wait);
                tokio::time::sleep(wait).await;
                context["State"]["RetryCount"] = json!(retries);
                continue;
            }
        }
        let Some(catcher) = task.catch.iter().find(|c| c.matches(&failure.error)) else {
            return Err(failure);
        };
        tracing::info!(state = name, error = %failure.error, next = %catcher.next, "caught task error");
        options.observer.caught(name, &failure, &catcher.next);
        let error_output = json!({"Error": failure.error, "Cause": failure.cause});
        let output = place(&catcher.result_path, raw, error_output)?;
        return Ok(Leave { next: Some(catcher.next.clone()), output });
    }
}

fn run_pass(pass: &Pass, raw: Value, context: &Value) -> Result<Leave, TaskFailure> {
    let input = select(&pass.io.input, &raw, context, "InputPath")?;
    let result = match (&pass.result, &pass.parameters) {
        (Some(result), _) => result.clone(),
        (None, Some(template)) => template.render(&input, context)?,
        (None, None) => input,
    };
    let combined = place(&pass.result_path, raw, result)?;
    let output = select(&pass.io.output, &combined, context, "OutputPath")?;
    Ok(Leave::then(&pass.then, output))
}

fn run_choice(choice: &ChoiceState, raw: Value, context: &Value) -> Result<Leave, TaskFailure> {
    let input = select(&choice.io.input, &raw, context, "InputPath")?;
    let mut next = None;
    for rule in &choice.choices {
        if rule.rule.holds(&input, context)? {
            next = Some(rule.next.clone());
            break;
        }
    }
    let next = next.or_else(|| choice.default.clone()).ok_or_else(|| {
        TaskFailure::new(errors::NO_CHOICE_MATCHED, "no choice rule matched and there is no Default")
    })?;
    let output = select(&choice.io.output, &input, context, "OutputPath")?;
    Ok(Leave { next: Some(next), output })
}

fn run_succeed(io: &Io, raw: Value, context: &Value) -> Result<Leave, TaskFailure> {
    let input = select(&io.input, &raw, context, "InputPath")?;
    let output = select(&io.output, &input, context, "OutputPath")?;
    Ok(Leave { next: None, output })
}

/// The Fail state's error; a missing `Error` or `Cause` is reported as empty, as Step Functions does.
fn run_fail(fail: &Fail, raw: &Value, context: &Value) -> TaskFailure {
    let text = |text: &Option<Text>, field: &str| -> Result<String, TaskFailure> {
        match text {
            None => Ok(String::new()),
            Some(Text::Literal(s)) => Ok(s.clone()),
            Some(Text::Path(path)) => match path.select(raw, context) {
                Some(Value::String(s)) => Ok(s.clone()),
                _ => Err(TaskFailure::runtime(format!("the {field} {path} does not select a string"))),
            },
        }
    };
    match (text(&fail.error, "ErrorPath"), text(&fail.cause, "CausePath")) {
        (Ok(error), Ok(cause)) => TaskFailure { error, cause },
        (Err(failure), _) | (_, Err(failure)) => failure,
    }
}

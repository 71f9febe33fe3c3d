//! What can go wrong: loading a definition (`LoadError`), one state's work (`TaskFailure`) and a whole
//! execution (`ExecutionFailure`).

/// Why a definition was refused. Every variant names where the problem is, so a bad edit to
/// `mission.asl.json` is found at start-up instead of halfway through a mission.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    #[error("the definition is not valid JSON: {0}")]
    Json(String),
    /// `${Name}` placeholders that the substitution map does not cover, sorted.
    #[error("no substitution was given for {}", names(.0))]
    MissingSubstitutions(Vec<String>),
    /// The definition breaks the States Language (or refers to something that does not exist).
    #[error("{}: {message}", location(.state, .field))]
    Invalid { state: Option<String>, field: String, message: String },
    /// Valid States Language that this executor does not run; refused at load rather than
    /// misread at run time.
    #[error("{}: {feature} is not supported by the local executor", location(.state, .field))]
    Unsupported { state: Option<String>, field: String, feature: String },
}

impl LoadError {
    /// The state the error is about (`None` for the top level of the definition).
    pub fn state(&self) -> Option<&str> {
        match self {
            LoadError::Invalid { state, .. } | LoadError::Unsupported { state, .. } => state.as_deref(),
            LoadError::Json(_) | LoadError::MissingSubstitutions(_) => None,
        }
    }

    /// The field the error is about, e.g. `Retry[0].MaxAttempts` (empty for the state as a whole).
    pub fn field(&self) -> Option<&str> {
        match self {
            LoadError::Invalid { field, .. } | LoadError::Unsupported { field, .. } => Some(field),
            LoadError::Json(_) | LoadError::MissingSubstitutions(_) => None,
        }
    }
}

fn names(names: &[String]) -> String {
    names.iter().map(|n| format!("${{{n}}}")).collect::<Vec<_>>().join(", ")
}

fn location(state: &Option<String>, field: &str) -> String {
    match (state, field.is_empty()) {
        (Some(state), true) => format!("state {state:?}"),
        (Some(state), false) => format!("state {state:?}, field {field}"),
        (None, true) => "the definition".to_string(),
        (None, false) => format!("field {field}"),
    }
}

/// An error raised inside a state: by a task invoker, by a timeout, or by the executor itself
/// (`States.Runtime` for a path that selects nothing, and so on). Retry and Catch match on `error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}: {cause}")]
pub struct TaskFailure {
    pub error: String,
    pub cause: String,
}

impl TaskFailure {
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        Self { error: error.into(), cause: cause.into() }
    }

    pub(crate) fn runtime(cause: impl Into<String>) -> Self {
        Self::new(errors::RUNTIME, cause)
    }

    pub(crate) fn intrinsic(cause: impl Into<String>) -> Self {
        Self::new(errors::INTRINSIC_FAILURE, cause)
    }
}

/// How an execution ended when it did not succeed: the error that no Catch handled, or a Fail state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("execution failed in state {state:?}: {error}: {cause}")]
pub struct ExecutionFailure {
    pub error: String,
    pub cause: String,
    /// The state the execution was in when it failed (empty when the whole execution timed out
    /// between states or the start state did not exist).
    pub state: String,
}

/// The reserved error names (`States.*`) that the executor raises or matches specially.
pub mod errors {
    /// Matches every error except `States.Runtime`.
    pub const ALL: &str = "States.ALL";
    /// Matches every error except `States.Timeout` and `States.Runtime`.
    pub const TASK_FAILED: &str = "States.TaskFailed";
    pub const TIMEOUT: &str = "States.Timeout";
    /// A path selected nothing, a result could not be placed, and the like. Never retried and
    /// never caught by a wildcard: it means the definition and the data disagree.
    pub const RUNTIME: &str = "States.Runtime";
    pub const NO_CHOICE_MATCHED: &str = "States.NoChoiceMatched";
    pub const INTRINSIC_FAILURE: &str = "States.IntrinsicFailure";

    /// Whether an `ErrorEquals` entry matches an error name.
    pub fn matches(pattern: &str, error: &str) -> bool {
        match pattern {
            ALL => error != RUNTIME,
            TASK_FAILED => error != RUNTIME && error != TIMEOUT,
            exact => exact == error,
        }
    }
}

/// A problem found while compiling one field (a path, template or intrinsic), before the state and
/// field names are attached to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Problem {
    Invalid(String),
    Unsupported(String),
}

#[cfg(test)]
mod tests {
    use super::errors::*;
    use super::*;

    #[test]
    fn wildcards_leave_runtime_errors_alone() {
        assert!(matches(ALL, "Lambda.ServiceException"));
        assert!(matches(ALL, TIMEOUT));
        assert!(!matches(ALL, RUNTIME));
        assert!(matches(TASK_FAILED, "Gantry.Transient"));
        assert!(!matches(TASK_FAILED, TIMEOUT));
        assert!(!matches(TASK_FAILED, RUNTIME));
        assert!(matches("Gantry.Transient", "Gantry.Transient"));
        assert!(!matches("Gantry.Transient", "Gantry.Other"));
    }

    #[test]
    fn load_errors_name_state_and_field() {
        let e = LoadError::Unsupported {
            state: Some("Fan".into()),
            field: "Type".into(),
            feature: "Map states".into(),
        };
        assert_eq!(
            e.to_string(),
            "state \"Fan\", field Type: Map states is not supported by the local executor"
        );
        let e = LoadError::Invalid { state: None, field: "StartAt".into(), message: "is missing".into() };
        assert_eq!(e.to_string(), "field StartAt: is missing");
        let e = LoadError::MissingSubstitutions(vec!["A".into(), "B".into()]);
        assert_eq!(e.to_string(), "no substitution was given for ${A}, ${B}");
    }
}

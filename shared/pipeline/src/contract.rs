//! The typed contract between `statemachine/mission.asl.json` and the step handlers: the outcomes
//! its Pass states write to `$.outcome`, and the error names its Retry and Catch clauses match.
//! The local executor, the Step Functions path and the steps Lambda all speak it through these
//! enums; nothing compares their strings by hand.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What a run ended with, as the definition's `Succeeded`, `Blocked`, `BuildFailed` and
/// `RecordFailure` states write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Outcome {
    Success,
    Blocked,
    Failed,
}

/// An error name a failed state carries (`$.failure.Error`): Gantry's own, or the States runtime's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorName {
    /// Worth retrying: the definition's Retry clauses match it.
    Transient,
    StepFailed,
    Cancelled,
    /// The process running the mission stopped (restart recovery).
    Interrupted,
    BadState,
    UnknownFunction,
    UnknownResource,
    BadBuildTask,
    BuildTaskFailed,
    FinalizeFailed,
    /// `States.Timeout`: a state ran past its `TimeoutSeconds`.
    Timeout,
    /// Any other name (e.g. `States.TaskFailed`, `Lambda.ServiceException`), kept as given.
    Other(String),
}

impl ErrorName {
    const NAMED: [ErrorName; 11] = [
        ErrorName::Transient,
        ErrorName::StepFailed,
        ErrorName::Cancelled,
        ErrorName::Interrupted,
        ErrorName::BadState,
        ErrorName::UnknownFunction,
        ErrorName::UnknownResource,
        ErrorName::BadBuildTask,
        ErrorName::BuildTaskFailed,
        ErrorName::FinalizeFailed,
        ErrorName::Timeout,
    ];

    pub fn as_str(&self) -> &str {
        match self {
            ErrorName::Transient => "Gantry.Transient",
            ErrorName::StepFailed => "Gantry.StepFailed",
            ErrorName::Cancelled => "Gantry.Cancelled",
            ErrorName::Interrupted => "Gantry.Interrupted",
            ErrorName::BadState => "Gantry.BadState",
            ErrorName::UnknownFunction => "Gantry.UnknownFunction",
            ErrorName::UnknownResource => "Gantry.UnknownResource",
            ErrorName::BadBuildTask => "Gantry.BadBuildTask",
            ErrorName::BuildTaskFailed => "Gantry.BuildTaskFailed",
            ErrorName::FinalizeFailed => "Gantry.FinalizeFailed",
            ErrorName::Timeout => "States.Timeout",
            ErrorName::Other(name) => name,
        }
    }

    pub fn parse(name: &str) -> ErrorName {
        Self::NAMED
            .into_iter()
            .find(|known| known.as_str() == name)
            .unwrap_or_else(|| ErrorName::Other(name.to_owned()))
    }
}

impl fmt::Display for ErrorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Default for ErrorName {
    fn default() -> Self {
        ErrorName::Other(String::new())
    }
}

impl Serialize for ErrorName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(ErrorName::parse(&String::deserialize(deserializer)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ASL: &str = include_str!("../../../statemachine/mission.asl.json");

    #[test]
    fn error_names_round_trip_and_unknown_ones_are_kept() {
        for name in ErrorName::NAMED {
            assert_eq!(ErrorName::parse(name.as_str()), name);
            let json = serde_json::to_string(&name).unwrap();
            assert_eq!(serde_json::from_str::<ErrorName>(&json).unwrap(), name);
        }
        assert_eq!(ErrorName::parse("States.TaskFailed"), ErrorName::Other("States.TaskFailed".into()));
        assert_eq!(ErrorName::parse("States.TaskFailed").as_str(), "States.TaskFailed");
    }

    #[test]
    fn the_definition_writes_only_outcomes_this_contract_knows() {
        let definition: serde_json::Value = serde_json::from_str(ASL).unwrap();
        let states = definition["States"].as_object().unwrap();
        let written: Vec<&serde_json::Value> =
            states.values().filter(|s| s["ResultPath"] == "$.outcome").map(|s| &s["Result"]).collect();
        assert!(written.len() >= 3, "{written:?}");
        for result in written {
            serde_json::from_value::<Outcome>(result.clone())
                .unwrap_or_else(|e| panic!("the definition writes {result} to $.outcome: {e}"));
        }
    }

    #[test]
    fn the_definition_matches_only_error_names_this_contract_knows() {
        let text = ASL;
        for name in regex_names(text) {
            assert!(
                !matches!(ErrorName::parse(&name), ErrorName::Other(_)) || name.starts_with("States."),
                "the definition names {name}, which the contract does not know"
            );
        }
    }

    /// Every `"Gantry.…"` and `"States.…"` string in the definition.
    fn regex_names(text: &str) -> Vec<String> {
        text.split('"')
            .filter(|s| (s.starts_with("Gantry.") || s.starts_with("States.")) && !s.contains(' '))
            .map(str::to_owned)
            .collect()
    }
}

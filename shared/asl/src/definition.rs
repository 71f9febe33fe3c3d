//! Loading a definition: `${Name}` substitutions, parsing into typed states, and the checks that
//! make a bad definition fail at start-up rather than in the middle of a mission.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::time::Duration;

use serde_json::{Map, Value};

use crate::choice::Choice;
use crate::error::{errors, LoadError, Problem};
use crate::path::Path;
use crate::template::Template;

/// Step Functions' limit on state names.
const MAX_STATE_NAME: usize = 80;
/// Step Functions' ceiling for `TimeoutSeconds`.
const MAX_TIMEOUT_SECONDS: u64 = 99_999_999;

/// Fields that are valid States Language but that this executor does not implement.
const NOT_IMPLEMENTED_FIELDS: &[&str] = &[
    "HeartbeatSeconds",
    "HeartbeatSecondsPath",
    "TimeoutSecondsPath",
    "Credentials",
    "Assign",
    "Arguments",
    "Output",
    "ItemsPath",
    "ItemSelector",
    "ItemProcessor",
    "Iterator",
    "ItemReader",
    "ItemBatcher",
    "ResultWriter",
    "MaxConcurrency",
    "MaxConcurrencyPath",
    "ToleratedFailurePercentage",
    "ToleratedFailurePercentagePath",
    "ToleratedFailureCount",
    "ToleratedFailureCountPath",
    "Branches",
    "Seconds",
    "SecondsPath",
    "Timestamp",
    "TimestampPath",
    "Label",
];

#[derive(Debug, Clone)]
pub(crate) struct Definition {
    pub(crate) start_at: String,
    pub(crate) timeout: Option<Duration>,
    pub(crate) states: HashMap<String, State>,
}

#[derive(Debug, Clone)]
pub(crate) enum State {
    Task(Task),
    Pass(Pass),
    Choice(ChoiceState),
    Succeed(Io),
    Fail(Fail),
}

/// `InputPath` and `OutputPath`: both default to `$`.
#[derive(Debug, Clone)]
pub(crate) struct Io {
    pub(crate) input: Select,
    pub(crate) output: Select,
}

#[derive(Debug, Clone)]
pub(crate) enum Select {
    Path(Path),
    /// `null`: the state sees (or passes on) an empty object.
    Nothing,
}

#[derive(Debug, Clone)]
pub(crate) enum ResultPath {
    Path(Path),
    /// `null`: the result is dropped and the state's input passes through.
    Discard,
}

#[derive(Debug, Clone)]
pub(crate) enum Then {
    Next(String),
    End,
}

#[derive(Debug, Clone)]
pub(crate) struct Task {
    pub(crate) io: Io,
    pub(crate) resource: String,
    pub(crate) parameters: Option<Template>,
    pub(crate) result_selector: Option<Template>,
    pub(crate) result_path: ResultPath,
    pub(crate) timeout: Option<Duration>,
    pub(crate) retry: Vec<Retrier>,
    pub(crate) catch: Vec<Catcher>,
    pub(crate) then: Then,
}

#[derive(Debug, Clone)]
pub(crate) struct Retrier {
    pub(crate) errors: Vec<String>,
    pub(crate) interval_seconds: f64,
    pub(crate) max_attempts: u32,
    pub(crate) backoff_rate: f64,
    pub(crate) max_delay_seconds: Option<f64>,
}

#[derive(Debug, Clone)]
pub(crate) struct Catcher {
    pub(crate) errors: Vec<String>,
    pub(crate) result_path: ResultPath,
    pub(crate) next: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Pass {
    pub(crate) io: Io,
    pub(crate) parameters: Option<Template>,
    pub(crate) result: Option<Value>,
    pub(crate) result_path: ResultPath,
    pub(crate) then: Then,
}

#[derive(Debug, Clone)]
pub(crate) struct ChoiceState {
    pub(crate) io: Io,
    pub(crate) choices: Vec<Choice>,
    pub(crate) default: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Fail {
    pub(crate) error: Option<Text>,
    pub(crate) cause: Option<Text>,
}

#[derive(Debug, Clone)]
pub(crate) enum Text {
    Literal(String),
    Path(Path),
}

impl Retrier {
    pub(crate) fn matches(&self, error: &str) -> bool {
        self.errors.iter().any(|pattern| errors::matches(pattern, error))
    }

    /// The wait before retry number `retry` (0-based): `IntervalSeconds × BackoffRate^retry`,
    /// capped by `MaxDelaySeconds`.
    pub(crate) fn delay_seconds(&self, retry: u32) -> f64 {
        let exponent = i32::try_from(retry).unwrap_or(i32::MAX);
        let delay = self.interval_seconds * self.backoff_rate.powi(exponent);
        match self.max_delay_seconds {
            Some(max) => delay.min(max),
            None => delay,
        }
    }
}

impl Catcher {
    pub(crate) fn matches(&self, error: &str) -> bool {
        self.errors.iter().any(|pattern| errors::matches(pattern, error))
    }
}

pub(crate) fn load(
    definition_json: &str,
    substitutions: &HashMap<String, String>,
) -> Result<Definition, LoadError> {
    let mut root: Value =
        serde_json::from_str(definition_json).map_err(|e| LoadError::Json(e.to_string()))?;
    let mut missing = BTreeSet::new();
    substitute(&mut root, substitutions, &mut missing);
    if !missing.is_empty() {
        return Err(LoadError::MissingSubstitutions(missing.into_iter().collect()));
    }
    let top = At { state: None };
    let Value::Object(root) = root else {
        return Err(top.invalid("", "the definition must be a JSON object"));
    };
    top.check_fields(
        &root,
        "",
        &["StartAt", "States", "Comment", "Version", "TimeoutSeconds", "QueryLanguage"],
    )?;
    top.check_query_language(&root)?;
    if let Some(version) = root.get("Version") {
        if version.as_str() != Some("1.0") {
            return Err(top.invalid("Version", "must be \"1.0\""));
        }
    }
    let start_at = top.required_str(&root, "StartAt")?.to_string();
    let timeout = top.seconds(root.get("TimeoutSeconds"), "TimeoutSeconds")?;
    let states_json = match root.get("States") {
        Some(Value::Object(states)) if !states.is_empty() => states,
        _ => return Err(top.invalid("States", "must be a non-empty object of states")),
    };
    let mut states = HashMap::with_capacity(states_json.len());
    for (name, value) in states_json {
        if name.is_empty() || name.chars().count() > MAX_STATE_NAME {
            return Err(
                top.invalid("States", format!("the state name {name:?} must have 1 to 80 characters"))
            );
        }
        states.insert(name.clone(), parse_state(name, value)?);
    }
    let definition = Definition { start_at, timeout, states };
    check_transitions(&definition)?;
    Ok(definition)
}

/// Replaces `${Name}` (Name of letters, digits and `_`) in every string value. Text that merely
/// looks similar is left alone; names with no substitution are collected so all are reported at once.
fn substitute(value: &mut Value, substitutions: &HashMap<String, String>, missing: &mut BTreeSet<String>) {
    match value {
        Value::String(text) if text.contains("${") => {
            let mut out = String::with_capacity(text.len());
            let mut rest = text.as_str();
            while let Some(start) = rest.find("${") {
                out.push_str(&rest[..start]);
                let after = &rest[start + 2..];
                let name_len =
                    after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
                if name_len > 0 && after[name_len..].starts_with('}') {
                    let name = &after[..name_len];
                    match substitutions.get(name) {
                        Some(replacement) => out.push_str(replacement),
                        None => {
                            missing.insert(name.to_string());
                        }
                    }
                    rest = &after[name_len + 1..];
                } else {
                    out.push_str("${");
                    rest = after;
                }
            }
            out.push_str(rest);
            *text = out;
        }
        Value::Array(items) => items.iter_mut().for_each(|v| substitute(v, substitutions, missing)),
        Value::Object(map) => map.values_mut().for_each(|v| substitute(v, substitutions, missing)),
        _ => {}
    }
}

fn parse_state(name: &str, value: &Value) -> Result<State, LoadError> {
    let at = At { state: Some(name) };
    let Value::Object(obj) = value else {
        return Err(at.invalid("", "a state must be an object"));
    };
    let kind = at.required_str(obj, "Type")?;
    let allowed: &[&str] = match kind {
        "Task" => &[
            "Type",
            "Comment",
            "QueryLanguage",
            "InputPath",
            "OutputPath",
            "Resource",
            "Parameters",
            "ResultSelector",
            "ResultPath",
            "TimeoutSeconds",
            "Retry",
            "Catch",
            "Next",
            "End",
        ],
        "Pass" => &[
            "Type",
            "Comment",
            "QueryLanguage",
            "InputPath",
            "OutputPath",
            "Parameters",
            "Result",
            "ResultPath",
            "Next",
            "End",
        ],
        "Choice" => &["Type", "Comment", "QueryLanguage", "InputPath", "OutputPath", "Choices", "Default"],
        "Succeed" => &["Type", "Comment", "QueryLanguage", "InputPath", "OutputPath"],
        "Fail" => &["Type", "Comment", "QueryLanguage", "Error", "ErrorPath", "Cause", "CausePath"],
        "Map" | "Parallel" | "Wait" => return Err(at.unsupported("Type", format!("{kind} states"))),
        other => return Err(at.invalid("Type", format!("{other:?} is not a state type"))),
    };
    at.check_fields(obj, "", allowed)?;
    at.check_query_language(obj)?;
    Ok(match kind {
        "Task" => State::Task(Task {
            io: at.io(obj)?,
            resource: at.required_str(obj, "Resource")?.to_string(),
            parameters: at.template(obj, "Parameters")?,
            result_selector: at.template(obj, "ResultSelector")?,
            result_path: at.result_path(obj.get("ResultPath"), "ResultPath")?,
            timeout: at.seconds(obj.get("TimeoutSeconds"), "TimeoutSeconds")?,
            retry: at.retriers(obj)?,
            catch: at.catchers(obj)?,
            then: at.then(obj)?,
        }),
        "Pass" => State::Pass(Pass {
            io: at.io(obj)?,
            parameters: at.template(obj, "Parameters")?,
            result: obj.get("Result").cloned(),
            result_path: at.result_path(obj.get("ResultPath"), "ResultPath")?,
            then: at.then(obj)?,
        }),
        "Choice" => {
            let Some(Value::Array(rules)) =
                obj.get("Choices").filter(|c| c.as_array().is_some_and(|a| !a.is_empty()))
            else {
                return Err(at.invalid("Choices", "must be a non-empty array of rules"));
            };
            let choices = rules
                .iter()
                .enumerate()
                .map(|(i, rule)| {
                    Choice::parse(rule).map_err(|(field, problem)| {
                        let field = if field.is_empty() {
                            format!("Choices[{i}]")
                        } else {
                            format!("Choices[{i}].{field}")
                        };
                        at.problem(field, problem)
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let default = at.optional_str(obj, "Default")?.map(str::to_string);
            State::Choice(ChoiceState { io: at.io(obj)?, choices, default })
        }
        "Succeed" => State::Succeed(at.io(obj)?),
        _ => State::Fail(Fail {
            error: at.text(obj, "Error", "ErrorPath")?,
            cause: at.text(obj, "Cause", "CausePath")?,
        }),
    })
}

/// Every transition names a state, and every state can be reached from `StartAt`: Step Functions
/// rejects both, so the local executor must too or the two shapes would drift apart.
fn check_transitions(definition: &Definition) -> Result<(), LoadError> {
    let top = At { state: None };
    if !definition.states.contains_key(&definition.start_at) {
        return Err(top.invalid("StartAt", format!("names no state: {:?}", definition.start_at)));
    }
    let mut names: Vec<&String> = definition.states.keys().collect();
    names.sort();
    for name in &names {
        for (field, target) in transitions(&definition.states[name.as_str()]) {
            if !definition.states.contains_key(target) {
                return Err(At { state: Some(name) }.invalid(field, format!("names no state: {target:?}")));
            }
        }
    }
    let mut reached = BTreeSet::from([definition.start_at.as_str()]);
    let mut queue = VecDeque::from([definition.start_at.as_str()]);
    while let Some(name) = queue.pop_front() {
        for (_, target) in definition.states.get(name).map(transitions).unwrap_or_default() {
            if reached.insert(target) {
                queue.push_back(target);
            }
        }
    }
    match names.into_iter().find(|n| !reached.contains(n.as_str())) {
        Some(name) => Err(At { state: Some(name) }.invalid("", "cannot be reached from StartAt")),
        None => Ok(()),
    }
}

/// The states a state can hand over to, each with the field that names it.
pub(crate) fn transitions(state: &State) -> Vec<(String, &str)> {
    let mut out = Vec::new();
    match state {
        State::Task(task) => {
            if let Then::Next(next) = &task.then {
                out.push(("Next".to_string(), next.as_str()));
            }
            for (i, catcher) in task.catch.iter().enumerate() {
                out.push((format!("Catch[{i}].Next"), catcher.next.as_str()));
            }
        }
        State::Pass(pass) => {
            if let Then::Next(next) = &pass.then {
                out.push(("Next".to_string(), next.as_str()));
            }
        }
        State::Choice(choice) => {
            for (i, rule) in choice.choices.iter().enumerate() {
                out.push((format!("Choices[{i}].Next"), rule.next.as_str()));
            }
            if let Some(default) = &choice.default {
                out.push(("Default".to_string(), default.as_str()));
            }
        }
        State::Succeed(_) | State::Fail(_) => {}
    }
    out
}

/// Where a load error is: the state (if any) the fields belong to.
struct At<'a> {
    state: Option<&'a str>,
}

impl At<'_> {
    fn invalid(&self, field: impl Into<String>, message: impl Into<String>) -> LoadError {
        LoadError::Invalid {
            state: self.state.map(str::to_string),
            field: field.into(),
            message: message.into(),
        }
    }

    fn unsupported(&self, field: impl Into<String>, feature: impl Into<String>) -> LoadError {
        LoadError::Unsupported {
            state: self.state.map(str::to_string),
            field: field.into(),
            feature: feature.into(),
        }
    }

    fn problem(&self, field: String, problem: Problem) -> LoadError {
        match problem {
            Problem::Invalid(message) => self.invalid(field, message),
            Problem::Unsupported(feature) => self.unsupported(field, feature),
        }
    }

    fn check_fields(
        &self,
        obj: &Map<String, Value>,
        prefix: &str,
        allowed: &[&str],
    ) -> Result<(), LoadError> {
        for key in obj.keys() {
            if allowed.contains(&key.as_str()) {
                continue;
            }
            let field = format!("{prefix}{key}");
            return Err(if NOT_IMPLEMENTED_FIELDS.contains(&key.as_str()) {
                self.unsupported(field, format!("the {key} field"))
            } else {
                self.invalid(field, "is not a field here")
            });
        }
        Ok(())
    }

    fn check_query_language(&self, obj: &Map<String, Value>) -> Result<(), LoadError> {
        match obj.get("QueryLanguage") {
            None => Ok(()),
            Some(Value::String(language)) if language == "JSONPath" => Ok(()),
            Some(Value::String(language)) if language == "JSONata" => {
                Err(self.unsupported("QueryLanguage", "JSONata"))
            }
            Some(_) => Err(self.invalid("QueryLanguage", "must be \"JSONPath\" or \"JSONata\"")),
        }
    }

    fn optional_str<'v>(&self, obj: &'v Map<String, Value>, key: &str) -> Result<Option<&'v str>, LoadError> {
        match obj.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.invalid(key, "must be a string")),
        }
    }

    fn required_str<'v>(&self, obj: &'v Map<String, Value>, key: &str) -> Result<&'v str, LoadError> {
        self.optional_str(obj, key)?.ok_or_else(|| self.invalid(key, "is missing"))
    }

    fn whole(
        &self,
        value: Option<&Value>,
        field: &str,
        min: u64,
        max: u64,
    ) -> Result<Option<u64>, LoadError> {
        match value {
            None => Ok(None),
            Some(v) => match v.as_u64() {
                Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
                _ => Err(self.invalid(field, format!("must be a whole number from {min} to {max}"))),
            },
        }
    }

    fn seconds(&self, value: Option<&Value>, field: &str) -> Result<Option<Duration>, LoadError> {
        Ok(self.whole(value, field, 1, MAX_TIMEOUT_SECONDS)?.map(Duration::from_secs))
    }

    fn path(&self, text: &str, field: &str) -> Result<Path, LoadError> {
        Path::parse(text).map_err(|p| self.problem(field.to_string(), p))
    }

    fn select(&self, value: Option<&Value>, field: &str) -> Result<Select, LoadError> {
        match value {
            None => Ok(Select::Path(self.path("$", field)?)),
            Some(Value::Null) => Ok(Select::Nothing),
            Some(Value::String(text)) => Ok(Select::Path(self.path(text, field)?)),
            Some(_) => Err(self.invalid(field, "must be a path or null")),
        }
    }

    fn io(&self, obj: &Map<String, Value>) -> Result<Io, LoadError> {
        Ok(Io {
            input: self.select(obj.get("InputPath"), "InputPath")?,
            output: self.select(obj.get("OutputPath"), "OutputPath")?,
        })
    }

    fn result_path(&self, value: Option<&Value>, field: &str) -> Result<ResultPath, LoadError> {
        let path = match value {
            None => self.path("$", field)?,
            Some(Value::Null) => return Ok(ResultPath::Discard),
            Some(Value::String(text)) => self.path(text, field)?,
            Some(_) => return Err(self.invalid(field, "must be a path or null")),
        };
        if path.is_context() {
            return Err(self.invalid(field, "cannot write into the context object"));
        }
        Ok(ResultPath::Path(path))
    }

    fn template(&self, obj: &Map<String, Value>, key: &str) -> Result<Option<Template>, LoadError> {
        obj.get(key)
            .map(|value| {
                Template::compile(value).map_err(|(inner, problem)| {
                    let field = match inner.as_str() {
                        "" => key.to_string(),
                        i if i.starts_with('[') => format!("{key}{i}"),
                        i => format!("{key}.{i}"),
                    };
                    self.problem(field, problem)
                })
            })
            .transpose()
    }

    fn then(&self, obj: &Map<String, Value>) -> Result<Then, LoadError> {
        match (obj.get("Next"), obj.get("End")) {
            (Some(Value::String(next)), None) => Ok(Then::Next(next.clone())),
            (None, Some(Value::Bool(true))) => Ok(Then::End),
            (Some(_), Some(_)) => Err(self.invalid("Next", "a state has Next or End, not both")),
            (Some(_), None) => Err(self.invalid("Next", "must be a state name")),
            (None, Some(_)) => Err(self.invalid("End", "must be true")),
            (None, None) => Err(self.invalid("Next", "a state needs Next or End: true")),
        }
    }

    fn text(&self, obj: &Map<String, Value>, literal: &str, path: &str) -> Result<Option<Text>, LoadError> {
        match (self.optional_str(obj, literal)?, self.optional_str(obj, path)?) {
            (Some(_), Some(_)) => {
                Err(self.invalid(path, format!("a Fail state has {literal} or {path}, not both")))
            }
            (Some(text), None) => Ok(Some(Text::Literal(text.to_string()))),
            (None, Some(text)) => Ok(Some(Text::Path(self.path(text, path)?))),
            (None, None) => Ok(None),
        }
    }

    fn list<'v>(&self, obj: &'v Map<String, Value>, key: &str) -> Result<&'v [Value], LoadError> {
        match obj.get(key) {
            None => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err(self.invalid(key, "must be an array")),
        }
    }

    /// `ErrorEquals`: non-empty, and `States.ALL` only alone and only in the last entry, because
    /// anything after a wildcard could never be reached.
    fn error_equals(
        &self,
        item: &Map<String, Value>,
        prefix: &str,
        last: bool,
    ) -> Result<Vec<String>, LoadError> {
        let field = format!("{prefix}ErrorEquals");
        let names = match item.get("ErrorEquals") {
            Some(Value::Array(names)) if !names.is_empty() => names
                .iter()
                .map(|n| n.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| self.invalid(&field, "must hold error names"))?,
            _ => return Err(self.invalid(&field, "must be a non-empty array of error names")),
        };
        if names.iter().any(|n| n == errors::ALL) && (names.len() > 1 || !last) {
            return Err(self.invalid(&field, "States.ALL must appear alone and in the last entry"));
        }
        Ok(names)
    }

    fn retriers(&self, obj: &Map<String, Value>) -> Result<Vec<Retrier>, LoadError> {
        let items = self.list(obj, "Retry")?;
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let prefix = format!("Retry[{i}].");
            let Value::Object(item) = item else {
                return Err(self.invalid(format!("Retry[{i}]"), "must be an object"));
            };
            let allowed = [
                "ErrorEquals",
                "IntervalSeconds",
                "MaxAttempts",
                "BackoffRate",
                "MaxDelaySeconds",
                "JitterStrategy",
                "Comment",
            ];
            self.check_fields(item, &prefix, &allowed)?;
            match item.get("JitterStrategy") {
                None => {}
                Some(Value::String(s)) if s == "NONE" => {}
                Some(Value::String(s)) if s == "FULL" => {
                    return Err(self.unsupported(format!("{prefix}JitterStrategy"), "FULL jitter"))
                }
                Some(_) => {
                    return Err(
                        self.invalid(format!("{prefix}JitterStrategy"), "must be \"FULL\" or \"NONE\"")
                    )
                }
            }
            let backoff_rate = match item.get("BackoffRate") {
                None => 2.0,
                Some(v) => match v.as_f64() {
                    Some(rate) if rate >= 1.0 && rate.is_finite() => rate,
                    _ => {
                        return Err(
                            self.invalid(format!("{prefix}BackoffRate"), "must be a number of at least 1.0")
                        )
                    }
                },
            };
            let whole = |key: &str, min: u64| {
                self.whole(item.get(key), &format!("{prefix}{key}"), min, MAX_TIMEOUT_SECONDS)
            };
            let max_attempts = whole("MaxAttempts", 0)?.unwrap_or(3);
            out.push(Retrier {
                errors: self.error_equals(item, &prefix, i + 1 == items.len())?,
                interval_seconds: whole("IntervalSeconds", 1)?.unwrap_or(1) as f64,
                max_attempts: u32::try_from(max_attempts).unwrap_or(u32::MAX),
                backoff_rate,
                max_delay_seconds: whole("MaxDelaySeconds", 1)?.map(|s| s as f64),
            });
        }
        Ok(out)
    }

    fn catchers(&self, obj: &Map<String, Value>) -> Result<Vec<Catcher>, LoadError> {
        let items = self.list(obj, "Catch")?;
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let prefix = format!("Catch[{i}].");
            let Value::Object(item) = item else {
                return Err(self.invalid(format!("Catch[{i}]"), "must be an object"));
            };
            self.check_fields(item, &prefix, &["ErrorEquals", "Next", "ResultPath", "Comment"])?;
            let next = match item.get("Next") {
                Some(Value::String(next)) => next.clone(),
                _ => return Err(self.invalid(format!("{prefix}Next"), "must be a state name")),
            };
            out.push(Catcher {
                errors: self.error_equals(item, &prefix, i + 1 == items.len())?,
                result_path: self.result_path(item.get("ResultPath"), &format!("{prefix}ResultPath"))?,
                next,
            });
        }
        Ok(out)
    }
}

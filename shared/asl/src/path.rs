//! The JSONPath subset the executor evaluates: `$`, `$.a.b`, `$['a b']`, `$.a[0]`, and `$$…` for the
//! context object. Anything richer (wildcards, filters, slices, `..`) is refused at load, because
//! such paths select lists where the pipeline expects one value.

use std::fmt;

use serde_json::{Map, Value};

use crate::error::Problem;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Path {
    text: String,
    context: bool,
    steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Index(usize),
}

impl Path {
    pub(crate) fn parse(text: &str) -> Result<Self, Problem> {
        let (context, rest) = match text.strip_prefix("$$") {
            Some(rest) => (true, rest),
            None => match text.strip_prefix('$') {
                Some(rest) => (false, rest),
                None => return Err(Problem::Invalid(format!("the path {text:?} does not start with $"))),
            },
        };
        let invalid = |why: &str| Problem::Invalid(format!("the path {text:?} {why}"));
        let unsupported = |what: &str| Problem::Unsupported(format!("{what} (in the path {text:?})"));
        let chars: Vec<char> = rest.chars().collect();
        let mut steps = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '.' => {
                    i += 1;
                    if chars.get(i) == Some(&'.') {
                        return Err(unsupported("recursive descent `..`"));
                    }
                    let start = i;
                    while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                        i += 1;
                    }
                    let name: String = chars[start..i].iter().collect();
                    if name.is_empty() {
                        return Err(invalid("has an empty field name"));
                    }
                    if name.contains(['*', '?', '@', '(', ')']) {
                        return Err(unsupported("wildcards, filters and functions"));
                    }
                    steps.push(Step::Field(name));
                }
                '[' => {
                    i += 1;
                    match chars.get(i).copied() {
                        Some(quote @ ('\'' | '"')) => {
                            let start = i + 1;
                            let Some(len) = chars[start..].iter().position(|&c| c == quote) else {
                                return Err(invalid("has an unterminated quoted name"));
                            };
                            steps.push(Step::Field(chars[start..start + len].iter().collect()));
                            i = start + len + 1;
                        }
                        Some(c) if c.is_ascii_digit() => {
                            let start = i;
                            while i < chars.len() && chars[i].is_ascii_digit() {
                                i += 1;
                            }
                            let digits: String = chars[start..i].iter().collect();
                            let index =
                                digits.parse().map_err(|_| invalid("has an index that is too large"))?;
                            steps.push(Step::Index(index));
                        }
                        _ => return Err(unsupported("subscripts other than [n] and ['name']")),
                    }
                    if chars.get(i) != Some(&']') {
                        return Err(unsupported("subscripts other than [n] and ['name']"));
                    }
                    i += 1;
                }
                c => return Err(invalid(&format!("has an unexpected {c:?}"))),
            }
        }
        Ok(Self { text: text.to_string(), context, steps })
    }

    /// Whether the path reads the context object (`$$…`) rather than the state's data.
    pub(crate) fn is_context(&self) -> bool {
        self.context
    }

    /// The value the path points at, or `None` when it selects nothing.
    pub(crate) fn select<'v>(&self, data: &'v Value, context: &'v Value) -> Option<&'v Value> {
        let mut current = if self.context { context } else { data };
        for step in &self.steps {
            current = match step {
                Step::Field(name) => current.as_object()?.get(name)?,
                Step::Index(index) => current.as_array()?.get(*index)?,
            };
        }
        Some(current)
    }

    /// `target` with `value` placed where the path points, creating missing objects on the way
    /// (a ResultPath). Indexes must already exist: there is no sensible filler for a gap.
    pub(crate) fn set(&self, mut target: Value, value: Value) -> Result<Value, String> {
        let Some((last, init)) = self.steps.split_last() else {
            return Ok(value);
        };
        let cannot = |why: &str| format!("cannot place the result at {}: {why}", self.text);
        let mut current = &mut target;
        for step in init {
            current = match (step, current) {
                (Step::Field(name), Value::Object(map)) => {
                    map.entry(name.clone()).or_insert_with(|| Value::Object(Map::new()))
                }
                (Step::Index(index), Value::Array(items)) => {
                    let len = items.len();
                    items.get_mut(*index).ok_or_else(|| cannot(&format!("index {index} of {len} items")))?
                }
                (step, other) => return Err(cannot(&format!("{} is not {}", kind(other), step.container()))),
            };
        }
        match (last, current) {
            (Step::Field(name), Value::Object(map)) => {
                map.insert(name.clone(), value);
            }
            (Step::Index(index), Value::Array(items)) => {
                let len = items.len();
                let slot =
                    items.get_mut(*index).ok_or_else(|| cannot(&format!("index {index} of {len} items")))?;
                *slot = value;
            }
            (step, other) => return Err(cannot(&format!("{} is not {}", kind(other), step.container()))),
        }
        Ok(target)
    }
}

impl Step {
    fn container(&self) -> &'static str {
        match self {
            Step::Field(_) => "an object",
            Step::Index(_) => "an array",
        }
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn path(text: &str) -> Path {
        Path::parse(text).unwrap()
    }

    #[test]
    fn selects_fields_indexes_and_quoted_names() {
        let data = json!({"a": {"b": [10, {"c d": true}]}});
        let ctx = json!({"Execution": {"Name": "m-1"}});
        assert_eq!(path("$").select(&data, &ctx), Some(&data));
        assert_eq!(path("$.a.b[0]").select(&data, &ctx), Some(&json!(10)));
        assert_eq!(path("$.a.b[1]['c d']").select(&data, &ctx), Some(&json!(true)));
        assert_eq!(path("$['a'][\"b\"][0]").select(&data, &ctx), Some(&json!(10)));
        assert_eq!(path("$$.Execution.Name").select(&data, &ctx), Some(&json!("m-1")));
    }

    #[test]
    fn selects_nothing_when_the_data_lacks_the_step() {
        let data = json!({"a": {"b": [10]}, "s": "text"});
        let ctx = json!({});
        assert_eq!(path("$.missing").select(&data, &ctx), None);
        assert_eq!(path("$.a.b[1]").select(&data, &ctx), None);
        assert_eq!(path("$.s.x").select(&data, &ctx), None);
        assert_eq!(path("$.a[0]").select(&data, &ctx), None);
    }

    #[test]
    fn refuses_what_it_cannot_evaluate() {
        for text in ["$..a", "$.a[*]", "$.a[?(@.x)]", "$.a[1:2]", "$.*", "$.a[-1]", "$.a.length()"] {
            assert!(matches!(Path::parse(text), Err(Problem::Unsupported(_))), "{text}");
        }
        for text in ["a.b", "", "$.", "$.a.", "$a", "$['a"] {
            assert!(matches!(Path::parse(text), Err(Problem::Invalid(_))), "{text}");
        }
    }

    #[test]
    fn set_replaces_the_root_or_creates_nested_objects() {
        assert_eq!(path("$").set(json!({"a": 1}), json!(2)).unwrap(), json!(2));
        assert_eq!(path("$.x.y").set(json!({"a": 1}), json!(2)).unwrap(), json!({"a": 1, "x": {"y": 2}}));
        assert_eq!(path("$.a").set(json!({"a": 1}), json!(2)).unwrap(), json!({"a": 2}));
        assert_eq!(path("$.l[1]").set(json!({"l": [0, 0]}), json!(2)).unwrap(), json!({"l": [0, 2]}));
    }

    #[test]
    fn set_refuses_to_overwrite_a_non_object_or_invent_an_index() {
        assert!(path("$.a.b").set(json!({"a": "text"}), json!(1)).is_err());
        assert!(path("$.a").set(json!("text"), json!(1)).is_err());
        assert!(path("$.l[5]").set(json!({"l": [0]}), json!(1)).is_err());
        assert!(path("$.l[0].x").set(json!({"l": []}), json!(1)).is_err());
    }
}

//! Payload templates: `Parameters` and `ResultSelector`. A key ending in `.$` takes its value from a
//! path or an intrinsic call; everything else is copied as written, at any depth of objects and
//! arrays.

use serde_json::{Map, Value};

use crate::error::{Problem, TaskFailure};
use crate::intrinsic::Call;
use crate::path::Path;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Template {
    Literal(Value),
    Path { field: String, path: Path },
    Intrinsic(Call),
    Object(Vec<(String, Template)>),
    Array(Vec<Template>),
}

impl Template {
    /// Compiles `value`; an error carries the dotted field inside the template where it was found.
    pub(crate) fn compile(value: &Value) -> Result<Self, (String, Problem)> {
        match value {
            Value::Object(map) => {
                let mut fields = Vec::with_capacity(map.len());
                for (key, value) in map {
                    let Some(name) = key.strip_suffix(".$") else {
                        let inner = Self::compile(value).map_err(|(at, p)| (join(key, &at), p))?;
                        fields.push((key.clone(), inner));
                        continue;
                    };
                    let fail = |p: Problem| (key.clone(), p);
                    let Value::String(expr) = value else {
                        return Err(fail(Problem::Invalid(
                            "a `.$` field needs a path or call as a string".into(),
                        )));
                    };
                    let inner = if expr.starts_with('$') {
                        Template::Path { field: key.clone(), path: Path::parse(expr).map_err(fail)? }
                    } else if expr.starts_with("States.") {
                        Template::Intrinsic(Call::parse(expr).map_err(fail)?)
                    } else {
                        return Err(fail(Problem::Invalid(format!(
                            "{expr:?} is neither a path nor an intrinsic function"
                        ))));
                    };
                    fields.push((name.to_string(), inner));
                }
                Ok(Template::Object(fields))
            }
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| Self::compile(item).map_err(|(at, p)| (join(&format!("[{i}]"), &at), p)))
                .collect::<Result<Vec<_>, _>>()
                .map(Template::Array),
            other => Ok(Template::Literal(other.clone())),
        }
    }

    pub(crate) fn render(&self, data: &Value, context: &Value) -> Result<Value, TaskFailure> {
        match self {
            Template::Literal(value) => Ok(value.clone()),
            Template::Path { field, path } => path.select(data, context).cloned().ok_or_else(|| {
                TaskFailure::runtime(format!(
                    "the JSONPath {path} specified for the field {field} could not be found in the input"
                ))
            }),
            Template::Intrinsic(call) => call.eval(data, context),
            Template::Object(fields) => {
                let mut out = Map::with_capacity(fields.len());
                for (name, template) in fields {
                    out.insert(name.clone(), template.render(data, context)?);
                }
                Ok(Value::Object(out))
            }
            Template::Array(items) => {
                items.iter().map(|t| t.render(data, context)).collect::<Result<Vec<_>, _>>().map(Value::Array)
            }
        }
    }
}

fn join(outer: &str, inner: &str) -> String {
    match (outer.is_empty(), inner.is_empty() || inner.starts_with('[')) {
        (true, _) => inner.to_string(),
        (false, true) => format!("{outer}{inner}"),
        (false, false) => format!("{outer}.{inner}"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn render(template: Value, data: Value) -> Result<Value, TaskFailure> {
        Template::compile(&template).unwrap().render(&data, &json!({"Execution": {"Name": "m-1"}}))
    }

    #[test]
    fn dollar_keys_select_and_lose_their_suffix_at_any_depth() {
        let template = json!({
            "FunctionName": "arn:fn",
            "Payload.$": "$",
            "Nested": {"list": [{"Name": "A", "Value.$": "$.job.url"}, 7], "name.$": "$$.Execution.Name"},
            "sum.$": "States.MathAdd($.n, 1)"
        });
        let data = json!({"job": {"url": "http://127.0.0.1/j"}, "n": 1});
        assert_eq!(
            render(template, data.clone()).unwrap(),
            json!({
                "FunctionName": "arn:fn",
                "Payload": data,
                "Nested": {"list": [{"Name": "A", "Value": "http://127.0.0.1/j"}, 7], "name": "m-1"},
                "sum": 2
            })
        );
    }

    #[test]
    fn a_path_that_selects_nothing_is_a_runtime_error() {
        let failure = render(json!({"x.$": "$.missing"}), json!({})).unwrap_err();
        assert_eq!(failure.error, "States.Runtime");
        assert!(failure.cause.contains("x.$"), "{}", failure.cause);
    }

    #[test]
    fn compile_errors_name_the_nested_field() {
        let err = Template::compile(&json!({"a": {"list": [{"v.$": 3}]}})).unwrap_err();
        assert_eq!(err.0, "a.list[0].v.$");
        let err = Template::compile(&json!({"v.$": "plain text"})).unwrap_err();
        assert!(matches!(err, (f, Problem::Invalid(_)) if f == "v.$"));
        let err = Template::compile(&json!({"v.$": "$..deep"})).unwrap_err();
        assert!(matches!(err.1, Problem::Unsupported(_)));
    }
}

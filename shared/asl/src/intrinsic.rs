//! The intrinsic functions a `.$` field may call. Only the few a pipeline reaches for are
//! implemented; every other `States.*` function is refused at load by name.

use serde_json::Value;

use crate::error::{Problem, TaskFailure};
use crate::path::Path;

/// Intrinsics that Step Functions has and this executor does not.
const NOT_IMPLEMENTED: &[&str] = &[
    "States.ArrayPartition",
    "States.ArrayContains",
    "States.ArrayRange",
    "States.ArrayGetItem",
    "States.ArrayLength",
    "States.ArrayUnique",
    "States.Base64Encode",
    "States.Base64Decode",
    "States.Hash",
    "States.JsonMerge",
    "States.MathRandom",
    "States.StringSplit",
    "States.UUID",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Func {
    Format,
    StringToJson,
    JsonToString,
    Array,
    MathAdd,
}

impl Func {
    fn from_name(name: &str) -> Result<Self, Problem> {
        Ok(match name {
            "States.Format" => Func::Format,
            "States.StringToJson" => Func::StringToJson,
            "States.JsonToString" => Func::JsonToString,
            "States.Array" => Func::Array,
            "States.MathAdd" => Func::MathAdd,
            other if NOT_IMPLEMENTED.contains(&other) => {
                return Err(Problem::Unsupported(format!("the intrinsic function {other}")))
            }
            other => return Err(Problem::Invalid(format!("{other:?} is not an intrinsic function"))),
        })
    }

    fn name(self) -> &'static str {
        match self {
            Func::Format => "States.Format",
            Func::StringToJson => "States.StringToJson",
            Func::JsonToString => "States.JsonToString",
            Func::Array => "States.Array",
            Func::MathAdd => "States.MathAdd",
        }
    }

    fn arity_ok(self, count: usize) -> bool {
        match self {
            Func::Format => count >= 1,
            Func::StringToJson | Func::JsonToString => count == 1,
            Func::Array => true,
            Func::MathAdd => count == 2,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Call {
    func: Func,
    args: Vec<Arg>,
}

#[derive(Debug, Clone, PartialEq)]
enum Arg {
    /// A quoted string as written, backslash escapes kept: `States.Format` needs to tell `\{` from `{`.
    Str(String),
    Literal(Value),
    Path(Path),
    Call(Call),
}

impl Call {
    pub(crate) fn parse(text: &str) -> Result<Self, Problem> {
        let mut parser = Parser { text, pos: 0 };
        let call = parser.call()?;
        parser.skip_spaces();
        if parser.pos != text.len() {
            return Err(Problem::Invalid(format!("unexpected text after the call in {text:?}")));
        }
        Ok(call)
    }

    pub(crate) fn eval(&self, data: &Value, context: &Value) -> Result<Value, TaskFailure> {
        let name = self.func.name();
        match self.func {
            Func::Format => {
                let template = match &self.args[0] {
                    Arg::Str(raw) => raw.clone(),
                    other => match other.eval(data, context)? {
                        Value::String(s) => s,
                        _ => {
                            return Err(TaskFailure::intrinsic(format!(
                                "{name}: the template is not a string"
                            )))
                        }
                    },
                };
                let values =
                    self.args[1..].iter().map(|a| a.eval(data, context)).collect::<Result<Vec<_>, _>>()?;
                format(&template, &values)
                    .map(Value::String)
                    .map_err(|why| TaskFailure::intrinsic(format!("{name}: {why}")))
            }
            Func::StringToJson => match self.args[0].eval(data, context)? {
                Value::String(s) => serde_json::from_str(&s)
                    .map_err(|e| TaskFailure::intrinsic(format!("{name}: the string is not JSON: {e}"))),
                _ => Err(TaskFailure::intrinsic(format!("{name}: the argument is not a string"))),
            },
            Func::JsonToString => Ok(Value::String(self.args[0].eval(data, context)?.to_string())),
            Func::Array => self
                .args
                .iter()
                .map(|a| a.eval(data, context))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            Func::MathAdd => {
                let a = self.args[0].eval(data, context)?;
                let b = self.args[1].eval(data, context)?;
                match (a.as_i64(), b.as_i64()) {
                    (Some(a), Some(b)) => a
                        .checked_add(b)
                        .map(Value::from)
                        .ok_or_else(|| TaskFailure::intrinsic(format!("{name}: the sum overflows"))),
                    _ => Err(TaskFailure::intrinsic(format!("{name}: both arguments must be integers"))),
                }
            }
        }
    }
}

impl Arg {
    fn eval(&self, data: &Value, context: &Value) -> Result<Value, TaskFailure> {
        match self {
            Arg::Str(raw) => Ok(Value::String(unescape(raw))),
            Arg::Literal(value) => Ok(value.clone()),
            Arg::Path(path) => path.select(data, context).cloned().ok_or_else(|| {
                TaskFailure::runtime(format!("the JSONPath {path} in an intrinsic function selects nothing"))
            }),
            Arg::Call(call) => call.eval(data, context),
        }
    }
}

fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

fn placeholders(raw: &str) -> usize {
    let mut count = 0;
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '{' if chars.peek() == Some(&'}') => {
                chars.next();
                count += 1;
            }
            _ => {}
        }
    }
    count
}

fn format(raw: &str, values: &[Value]) -> Result<String, String> {
    if placeholders(raw) != values.len() {
        return Err(format!("{} placeholders but {} values", placeholders(raw), values.len()));
    }
    let mut values = values.iter();
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            '{' if chars.peek() == Some(&'}') => {
                chars.next();
                match values.next() {
                    Some(Value::String(s)) => out.push_str(s),
                    Some(v @ (Value::Number(_) | Value::Bool(_) | Value::Null)) => {
                        out.push_str(&v.to_string())
                    }
                    Some(_) => return Err("objects and arrays cannot be formatted".to_string()),
                    None => return Err("too few values".to_string()),
                }
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    fn invalid(&self, why: &str) -> Problem {
        Problem::Invalid(format!("{why} at offset {} of {:?}", self.pos, self.text))
    }

    fn call(&mut self) -> Result<Call, Problem> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == '.') {
            self.bump();
        }
        let func = Func::from_name(&self.text[start..self.pos])?;
        if self.bump() != Some('(') {
            return Err(self.invalid("expected `(`"));
        }
        let mut args = Vec::new();
        self.skip_spaces();
        if self.peek() == Some(')') {
            self.bump();
        } else {
            loop {
                args.push(self.arg()?);
                self.skip_spaces();
                match self.bump() {
                    Some(',') => self.skip_spaces(),
                    Some(')') => break,
                    _ => return Err(self.invalid("expected `,` or `)`")),
                }
            }
        }
        if !func.arity_ok(args.len()) {
            return Err(Problem::Invalid(format!("{} does not take {} arguments", func.name(), args.len())));
        }
        if func == Func::Format {
            match &args[0] {
                Arg::Str(raw) if placeholders(raw) != args.len() - 1 => {
                    return Err(Problem::Invalid(format!(
                        "States.Format has {} placeholders but {} values",
                        placeholders(raw),
                        args.len() - 1
                    )))
                }
                Arg::Literal(_) | Arg::Call(_) => {
                    return Err(Problem::Invalid("the States.Format template must be a string".to_string()))
                }
                _ => {}
            }
        }
        Ok(Call { func, args })
    }

    fn arg(&mut self) -> Result<Arg, Problem> {
        match self.peek() {
            Some('\'') => {
                self.bump();
                let start = self.pos;
                loop {
                    match self.bump() {
                        Some('\\') => {
                            self.bump();
                        }
                        Some('\'') => break,
                        Some(_) => {}
                        None => return Err(self.invalid("unterminated string")),
                    }
                }
                Ok(Arg::Str(self.text[start..self.pos - 1].to_string()))
            }
            Some('$') => {
                let start = self.pos;
                let mut depth = 0usize;
                while let Some(c) = self.peek() {
                    match c {
                        '[' => depth += 1,
                        ']' => depth = depth.saturating_sub(1),
                        ',' | ')' if depth == 0 => break,
                        _ => {}
                    }
                    self.bump();
                }
                Ok(Arg::Path(Path::parse(self.text[start..self.pos].trim_end())?))
            }
            Some(_) if self.text[self.pos..].starts_with("States.") => Ok(Arg::Call(self.call()?)),
            Some(_) => {
                let start = self.pos;
                while self.peek().is_some_and(|c| c != ',' && c != ')' && !c.is_whitespace()) {
                    self.bump();
                }
                match serde_json::from_str::<Value>(&self.text[start..self.pos]) {
                    Ok(v @ (Value::Number(_) | Value::Bool(_) | Value::Null)) => Ok(Arg::Literal(v)),
                    _ => Err(self.invalid("expected a string, number, boolean, null, path or call")),
                }
            }
            None => Err(self.invalid("expected an argument")),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn eval(text: &str, data: Value) -> Result<Value, TaskFailure> {
        Call::parse(text).unwrap().eval(&data, &json!({"Execution": {"Name": "m-1"}}))
    }

    #[test]
    fn format_fills_placeholders_and_keeps_escaped_braces() {
        let data = json!({"n": 3, "who": "Ada", "ok": true});
        assert_eq!(
            eval("States.Format('{} built {} times', $.who, $.n)", data.clone()).unwrap(),
            "Ada built 3 times"
        );
        assert_eq!(eval(r"States.Format('\{literal\} {}', $.ok)", data.clone()).unwrap(), "{literal} true");
        assert_eq!(eval(r"States.Format('it\'s {}', $$.Execution.Name)", data).unwrap(), "it's m-1");
    }

    #[test]
    fn format_refuses_objects_and_miscounted_placeholders() {
        assert_eq!(
            eval("States.Format('{}', $.o)", json!({"o": {}})).unwrap_err().error,
            "States.IntrinsicFailure"
        );
        assert!(matches!(Call::parse("States.Format('{} {}', 1)"), Err(Problem::Invalid(_))));
        assert!(Call::parse("States.Format('{} {}', 1, 2)").is_ok());
    }

    #[test]
    fn json_round_trips_arrays_and_sums() {
        assert_eq!(eval("States.StringToJson($.s)", json!({"s": "{\"a\":[1]}"})).unwrap(), json!({"a": [1]}));
        assert_eq!(eval("States.JsonToString($.o)", json!({"o": {"a": 1}})).unwrap(), "{\"a\":1}");
        assert_eq!(
            eval("States.Array(1, 'two', $.x, null)", json!({"x": [3]})).unwrap(),
            json!([1, "two", [3], null])
        );
        assert_eq!(eval("States.MathAdd($.attempt, 1)", json!({"attempt": 2})).unwrap(), json!(3));
        assert_eq!(eval("States.MathAdd(States.MathAdd(1, 2), -5)", json!({})).unwrap(), json!(-2));
    }

    #[test]
    fn bad_arguments_fail_at_run_time() {
        assert_eq!(
            eval("States.StringToJson($.s)", json!({"s": "{"})).unwrap_err().error,
            "States.IntrinsicFailure"
        );
        assert_eq!(
            eval("States.MathAdd($.a, 1)", json!({"a": "x"})).unwrap_err().error,
            "States.IntrinsicFailure"
        );
        assert_eq!(eval("States.JsonToString($.missing)", json!({})).unwrap_err().error, "States.Runtime");
    }

    #[test]
    fn unknown_and_unimplemented_functions_are_told_apart() {
        assert!(matches!(Call::parse("States.UUID()"), Err(Problem::Unsupported(_))));
        assert!(matches!(Call::parse("States.Hash($.a, 'SHA-256')"), Err(Problem::Unsupported(_))));
        assert!(matches!(Call::parse("States.Frobnicate(1)"), Err(Problem::Invalid(_))));
        assert!(matches!(Call::parse("States.MathAdd(1)"), Err(Problem::Invalid(_))));
        assert!(matches!(Call::parse("States.Array(1) trailing"), Err(Problem::Invalid(_))));
        assert!(matches!(Call::parse("States.Array('open)"), Err(Problem::Invalid(_))));
        assert!(matches!(Call::parse("States.Array($..x)"), Err(Problem::Unsupported(_))));
    }
}

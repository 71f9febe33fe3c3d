//! Choice rules: comparisons of one variable against a literal or another path, type tests, and
//! And/Or/Not. A variable that selects nothing is a runtime error except under `IsPresent`, the one
//! test meant for absent data.

use std::cmp::Ordering;

use serde_json::Value;

use crate::error::{Problem, TaskFailure};
use crate::path::Path;

/// Operators Step Functions has and this executor does not evaluate.
const NOT_IMPLEMENTED: &[&str] = &[
    "StringMatches",
    "IsTimestamp",
    "TimestampEquals",
    "TimestampEqualsPath",
    "TimestampLessThan",
    "TimestampLessThanPath",
    "TimestampLessThanEquals",
    "TimestampLessThanEqualsPath",
    "TimestampGreaterThan",
    "TimestampGreaterThanPath",
    "TimestampGreaterThanEquals",
    "TimestampGreaterThanEqualsPath",
    "Condition",
    "Assign",
    "Output",
];

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Rule {
    And(Vec<Rule>),
    Or(Vec<Rule>),
    Not(Box<Rule>),
    Test { variable: Path, test: Test },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Test {
    IsPresent(bool),
    Is(TypeTest, bool),
    Compare(Comparison, Operand),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypeTest {
    Null,
    Boolean,
    String,
    Numeric,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Comparison {
    kind: Kind,
    relation: Relation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    String,
    Numeric,
    Boolean,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relation {
    Equals,
    LessThan,
    LessThanEquals,
    GreaterThan,
    GreaterThanEquals,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operand {
    Literal(Value),
    Path(Path),
}

/// A top-level rule and the state it leads to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Choice {
    pub(crate) rule: Rule,
    pub(crate) next: String,
}

impl Choice {
    /// Parses one entry of `Choices`; errors carry the field inside the entry where they were found.
    pub(crate) fn parse(value: &Value) -> Result<Self, (String, Problem)> {
        let (rule, next) = parse_rule(value, true)?;
        let next =
            next.ok_or_else(|| ("Next".to_string(), Problem::Invalid("a choice rule needs Next".into())))?;
        Ok(Self { rule, next })
    }
}

fn operator(name: &str) -> Option<(Comparison, bool)> {
    let (base, by_path) = match name.strip_suffix("Path") {
        Some(base) => (base, true),
        None => (name, false),
    };
    let (kind, relation) = match base {
        "BooleanEquals" => {
            return Some((Comparison { kind: Kind::Boolean, relation: Relation::Equals }, by_path))
        }
        _ if base.starts_with("String") => (Kind::String, &base["String".len()..]),
        _ if base.starts_with("Numeric") => (Kind::Numeric, &base["Numeric".len()..]),
        _ => return None,
    };
    let relation = match relation {
        "Equals" => Relation::Equals,
        "LessThan" => Relation::LessThan,
        "LessThanEquals" => Relation::LessThanEquals,
        "GreaterThan" => Relation::GreaterThan,
        "GreaterThanEquals" => Relation::GreaterThanEquals,
        _ => return None,
    };
    Some((Comparison { kind, relation }, by_path))
}

fn type_test(name: &str) -> Option<Option<TypeTest>> {
    Some(match name {
        "IsPresent" => None,
        "IsNull" => Some(TypeTest::Null),
        "IsBoolean" => Some(TypeTest::Boolean),
        "IsString" => Some(TypeTest::String),
        "IsNumeric" => Some(TypeTest::Numeric),
        _ => return None,
    })
}

type Parsed = Result<(Rule, Option<String>), (String, Problem)>;

fn parse_rule(value: &Value, top: bool) -> Parsed {
    let invalid = |field: &str, why: &str| (field.to_string(), Problem::Invalid(why.to_string()));
    let Value::Object(map) = value else {
        return Err(invalid("", "a choice rule must be an object"));
    };
    let mut next = None;
    let mut variable = None;
    let mut body: Option<(&str, &Value)> = None;
    for (key, value) in map {
        match key.as_str() {
            "Comment" => {}
            "Next" if top => {
                next = Some(value.as_str().ok_or_else(|| invalid(key, "must be a state name"))?.to_string())
            }
            "Next" => return Err(invalid(key, "only top-level choice rules have Next")),
            "Variable" => {
                let text = value.as_str().ok_or_else(|| invalid(key, "must be a path"))?;
                variable = Some(Path::parse(text).map_err(|p| (key.clone(), p))?);
            }
            name if name == "And"
                || name == "Or"
                || name == "Not"
                || operator(name).is_some()
                || type_test(name).is_some() =>
            {
                if let Some((first, _)) = body {
                    return Err(invalid(
                        key,
                        &format!("a rule has one operator, and this one also has {first}"),
                    ));
                }
                body = Some((key, value));
            }
            name if NOT_IMPLEMENTED.contains(&name) => {
                return Err((key.clone(), Problem::Unsupported(format!("the {name} operator"))))
            }
            name => {
                return Err(invalid(key, &format!("{name:?} is not a comparison operator or rule field")))
            }
        }
    }
    let Some((op, operand)) = body else {
        return Err(invalid("", "a choice rule needs a comparison operator, And, Or or Not"));
    };
    let nested = |v: &Value, at: String| -> Result<Rule, (String, Problem)> {
        parse_rule(v, false).map(|(rule, _)| rule).map_err(|(inner, p)| (join(&at, &inner), p))
    };
    let rule = match op {
        "And" | "Or" => {
            if variable.is_some() {
                return Err(invalid("Variable", &format!("{op} rules have no Variable")));
            }
            let items = operand
                .as_array()
                .filter(|a| !a.is_empty())
                .ok_or_else(|| invalid(op, "must be a non-empty array of rules"))?;
            let rules = items
                .iter()
                .enumerate()
                .map(|(i, item)| nested(item, format!("{op}[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            if op == "And" {
                Rule::And(rules)
            } else {
                Rule::Or(rules)
            }
        }
        "Not" => {
            if variable.is_some() {
                return Err(invalid("Variable", "Not rules have no Variable"));
            }
            Rule::Not(Box::new(nested(operand, "Not".to_string())?))
        }
        name => {
            let variable =
                variable.ok_or_else(|| invalid("Variable", &format!("{name} needs a Variable")))?;
            Rule::Test { variable, test: parse_test(name, operand)? }
        }
    };
    Ok((rule, next))
}

fn parse_test(name: &str, operand: &Value) -> Result<Test, (String, Problem)> {
    let invalid = |why: String| (name.to_string(), Problem::Invalid(why));
    if let Some(test) = type_test(name) {
        let want = operand.as_bool().ok_or_else(|| invalid(format!("{name} takes true or false")))?;
        return Ok(match test {
            None => Test::IsPresent(want),
            Some(t) => Test::Is(t, want),
        });
    }
    let Some((comparison, by_path)) = operator(name) else {
        return Err(invalid(format!("{name:?} is not a comparison operator")));
    };
    if by_path {
        let text = operand.as_str().ok_or_else(|| invalid(format!("{name} takes a path")))?;
        let path = Path::parse(text).map_err(|p| (name.to_string(), p))?;
        return Ok(Test::Compare(comparison, Operand::Path(path)));
    }
    let fits = match comparison.kind {
        Kind::String => operand.is_string(),
        Kind::Numeric => operand.is_number(),
        Kind::Boolean => operand.is_boolean(),
    };
    if !fits {
        return Err(invalid(format!("{name} cannot compare with {operand}")));
    }
    Ok(Test::Compare(comparison, Operand::Literal(operand.clone())))
}

fn join(outer: &str, inner: &str) -> String {
    if inner.is_empty() {
        outer.to_string()
    } else {
        format!("{outer}.{inner}")
    }
}

impl Rule {
    pub(crate) fn holds(&self, data: &Value, context: &Value) -> Result<bool, TaskFailure> {
        match self {
            Rule::And(rules) => {
                for rule in rules {
                    if !rule.holds(data, context)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Rule::Or(rules) => {
                for rule in rules {
                    if rule.holds(data, context)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Rule::Not(rule) => Ok(!rule.holds(data, context)?),
            Rule::Test { variable, test } => {
                let value = variable.select(data, context);
                if let Test::IsPresent(want) = test {
                    return Ok(value.is_some() == *want);
                }
                let value = value.ok_or_else(|| {
                    TaskFailure::runtime(format!("the choice rule's Variable {variable} selects nothing"))
                })?;
                match test {
                    Test::IsPresent(_) => Ok(true),
                    Test::Is(kind, want) => Ok(kind.matches(value) == *want),
                    Test::Compare(comparison, operand) => {
                        let other = match operand {
                            Operand::Literal(v) => v,
                            Operand::Path(path) => path.select(data, context).ok_or_else(|| {
                                TaskFailure::runtime(format!("the choice rule's path {path} selects nothing"))
                            })?,
                        };
                        Ok(comparison.holds(value, other))
                    }
                }
            }
        }
    }
}

impl TypeTest {
    fn matches(self, value: &Value) -> bool {
        match self {
            TypeTest::Null => value.is_null(),
            TypeTest::Boolean => value.is_boolean(),
            TypeTest::String => value.is_string(),
            TypeTest::Numeric => value.is_number(),
        }
    }
}

impl Comparison {
    /// Values of the wrong type never match: a rule about numbers says nothing about a string.
    fn holds(self, value: &Value, other: &Value) -> bool {
        let ordering = match self.kind {
            Kind::String => match (value.as_str(), other.as_str()) {
                (Some(a), Some(b)) => Some(a.cmp(b)),
                _ => None,
            },
            Kind::Numeric => compare_numbers(value, other),
            Kind::Boolean => match (value.as_bool(), other.as_bool()) {
                (Some(a), Some(b)) => Some(a.cmp(&b)),
                _ => None,
            },
        };
        let Some(ordering) = ordering else { return false };
        match self.relation {
            Relation::Equals => ordering == Ordering::Equal,
            Relation::LessThan => ordering == Ordering::Less,
            Relation::LessThanEquals => ordering != Ordering::Greater,
            Relation::GreaterThan => ordering == Ordering::Greater,
            Relation::GreaterThanEquals => ordering != Ordering::Less,
        }
    }
}

fn compare_numbers(a: &Value, b: &Value) -> Option<Ordering> {
    if let (Some(a), Some(b)) = (a.as_i64(), b.as_i64()) {
        return Some(a.cmp(&b));
    }
    a.as_f64()?.partial_cmp(&b.as_f64()?)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn holds(rule: Value, data: Value) -> Result<bool, TaskFailure> {
        let mut rule = rule;
        rule["Next"] = json!("X");
        Choice::parse(&rule).unwrap().rule.holds(&data, &json!({}))
    }

    #[test]
    fn string_comparisons() {
        let data = json!({"s": "b", "t": "b"});
        assert!(holds(json!({"Variable": "$.s", "StringEquals": "b"}), data.clone()).unwrap());
        assert!(!holds(json!({"Variable": "$.s", "StringEquals": "a"}), data.clone()).unwrap());
        assert!(holds(json!({"Variable": "$.s", "StringGreaterThan": "a"}), data.clone()).unwrap());
        assert!(!holds(json!({"Variable": "$.s", "StringLessThan": "a"}), data.clone()).unwrap());
        assert!(holds(json!({"Variable": "$.s", "StringEqualsPath": "$.t"}), data).unwrap());
    }

    #[test]
    fn numeric_comparisons_and_their_path_forms() {
        let data = json!({"attempt": 2, "max": 3, "f": 2.5});
        let cases = [
            ("NumericEquals", json!(2), true),
            ("NumericEquals", json!(2.0), true),
            ("NumericEquals", json!(3), false),
            ("NumericLessThan", json!(3), true),
            ("NumericLessThan", json!(2), false),
            ("NumericLessThanEquals", json!(2), true),
            ("NumericLessThanEquals", json!(1), false),
            ("NumericGreaterThan", json!(1), true),
            ("NumericGreaterThan", json!(2), false),
            ("NumericGreaterThanEquals", json!(2), true),
            ("NumericGreaterThanEquals", json!(2.5), false),
        ];
        for (op, operand, expected) in cases {
            let rule = json!({"Variable": "$.attempt", op: operand});
            assert_eq!(holds(rule, data.clone()).unwrap(), expected, "{op} {operand}");
        }
        let by_path = [
            ("NumericEqualsPath", "$.max", false),
            ("NumericLessThanPath", "$.max", true),
            ("NumericLessThanEqualsPath", "$.max", true),
            ("NumericGreaterThanPath", "$.f", false),
            ("NumericGreaterThanEqualsPath", "$.attempt", true),
        ];
        for (op, path, expected) in by_path {
            let rule = json!({"Variable": "$.attempt", op: path});
            assert_eq!(holds(rule, data.clone()).unwrap(), expected, "{op} {path}");
        }
    }

    #[test]
    fn mismatched_types_never_match() {
        let data = json!({"n": "2", "b": "true"});
        assert!(!holds(json!({"Variable": "$.n", "NumericEquals": 2}), data.clone()).unwrap());
        assert!(!holds(json!({"Variable": "$.b", "BooleanEquals": true}), data).unwrap());
    }

    #[test]
    fn boolean_and_type_tests() {
        let data = json!({"yes": true, "nothing": null, "n": 1, "s": "x"});
        assert!(holds(json!({"Variable": "$.yes", "BooleanEquals": true}), data.clone()).unwrap());
        assert!(!holds(json!({"Variable": "$.yes", "BooleanEquals": false}), data.clone()).unwrap());
        assert!(holds(json!({"Variable": "$.yes", "BooleanEqualsPath": "$.yes"}), data.clone()).unwrap());
        assert!(holds(json!({"Variable": "$.nothing", "IsNull": true}), data.clone()).unwrap());
        assert!(!holds(json!({"Variable": "$.n", "IsNull": true}), data.clone()).unwrap());
        assert!(holds(json!({"Variable": "$.yes", "IsBoolean": true}), data.clone()).unwrap());
        assert!(holds(json!({"Variable": "$.s", "IsBoolean": false}), data.clone()).unwrap());
        assert!(holds(json!({"Variable": "$.s", "IsString": true}), data.clone()).unwrap());
        assert!(holds(json!({"Variable": "$.n", "IsNumeric": true}), data.clone()).unwrap());
        assert!(!holds(json!({"Variable": "$.s", "IsNumeric": true}), data).unwrap());
    }

    #[test]
    fn is_present_tolerates_absence_and_other_tests_do_not() {
        let data = json!({"a": 1});
        assert!(holds(json!({"Variable": "$.a", "IsPresent": true}), data.clone()).unwrap());
        assert!(holds(json!({"Variable": "$.b", "IsPresent": false}), data.clone()).unwrap());
        assert!(!holds(json!({"Variable": "$.b", "IsPresent": true}), data.clone()).unwrap());
        let failure = holds(json!({"Variable": "$.b", "IsNull": true}), data.clone()).unwrap_err();
        assert_eq!(failure.error, "States.Runtime");
        let failure = holds(json!({"Variable": "$.a", "NumericEqualsPath": "$.b"}), data).unwrap_err();
        assert_eq!(failure.error, "States.Runtime");
    }

    #[test]
    fn and_or_not_combine() {
        let data = json!({"a": 1, "b": true});
        let a_is_1 = json!({"Variable": "$.a", "NumericEquals": 1});
        let b_false = json!({"Variable": "$.b", "BooleanEquals": false});
        assert!(!holds(json!({"And": [a_is_1, b_false]}), data.clone()).unwrap());
        assert!(holds(json!({"Or": [a_is_1, b_false]}), data.clone()).unwrap());
        assert!(holds(json!({"Not": b_false}), data.clone()).unwrap());
        assert!(!holds(json!({"Not": {"Or": [a_is_1, b_false]}}), data).unwrap());
    }

    #[test]
    fn malformed_rules_are_refused_with_their_field() {
        let parse = |v: Value| Choice::parse(&v).unwrap_err();
        let (field, problem) = parse(json!({"Variable": "$.a", "NumericWobbles": 1, "Next": "X"}));
        assert_eq!(field, "NumericWobbles");
        assert!(matches!(problem, Problem::Invalid(_)));
        let (field, problem) = parse(json!({"Variable": "$.a", "StringMatches": "a*", "Next": "X"}));
        assert_eq!(field, "StringMatches");
        assert!(matches!(problem, Problem::Unsupported(_)));
        let (field, _) = parse(json!({"And": [{"Variable": "$.a", "TimestampEquals": "x"}], "Next": "X"}));
        assert_eq!(field, "And[0].TimestampEquals");
        let (field, _) = parse(json!({"Variable": "$.a", "NumericEquals": "1", "Next": "X"}));
        assert_eq!(field, "NumericEquals");
        let (field, _) = parse(json!({"Variable": "$.a", "NumericEquals": 1}));
        assert_eq!(field, "Next");
        let (field, _) = parse(json!({"And": [], "Next": "X"}));
        assert_eq!(field, "And");
        let (field, _) = parse(json!({"Not": {"Variable": "$.a", "IsNull": true, "Next": "Y"}, "Next": "X"}));
        assert_eq!(field, "Not.Next");
        let (field, _) = parse(json!({"NumericEquals": 1, "Next": "X"}));
        assert_eq!(field, "Variable");
        let (field, _) = parse(json!({"Variable": "$.a", "IsNull": true, "IsPresent": true, "Next": "X"}));
        assert!(field == "IsPresent" || field == "IsNull");
    }
}

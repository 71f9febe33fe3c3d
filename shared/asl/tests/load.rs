//! Load-time checks: each rule has a definition that breaks it and the clean baseline that passes.

mod support;

use std::collections::HashMap;

use gantry_asl::{LoadError, StateMachine};
use serde_json::{json, Value};
use support::{Fake, Reply};

fn load(definition: &Value) -> Result<StateMachine, LoadError> {
    StateMachine::load(&definition.to_string(), &HashMap::new())
}

/// A small machine touching every supported state type; each test breaks one thing in it.
fn baseline() -> Value {
    json!({
        "Comment": "baseline",
        "StartAt": "Work",
        "States": {
            "Work": {
                "Type": "Task", "Resource": "fn:work", "TimeoutSeconds": 30,
                "Parameters": {"id.$": "$.id"},
                "Retry": [{"ErrorEquals": ["Transient"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 2.0}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "Broken"}],
                "Next": "Check"
            },
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.ok", "BooleanEquals": true, "Next": "Done"}],
                "Default": "Broken"
            },
            "Broken": {"Type": "Fail", "Error": "Gantry.Broken"},
            "Done": {"Type": "Pass", "Result": "ok", "ResultPath": "$.outcome", "Next": "End"},
            "End": {"Type": "Succeed"}
        }
    })
}

/// The baseline with `edit` applied; asserts the baseline itself loads, so the failure is the edit's.
fn broken(edit: impl FnOnce(&mut Value)) -> LoadError {
    let mut definition = baseline();
    load(&definition).expect("the baseline loads");
    edit(&mut definition);
    load(&definition).expect_err("the edited definition is refused")
}

fn invalid_at(err: &LoadError, state: Option<&str>, field: &str) {
    assert!(matches!(err, LoadError::Invalid { .. }), "expected Invalid, got {err:?}");
    assert_eq!((err.state(), err.field()), (state, Some(field)), "{err}");
}

fn unsupported_at(err: &LoadError, state: Option<&str>, field: &str) {
    assert!(matches!(err, LoadError::Unsupported { .. }), "expected Unsupported, got {err:?}");
    assert_eq!((err.state(), err.field()), (state, Some(field)), "{err}");
}

#[test]
fn the_baseline_loads_and_lists_its_states() {
    let sm = load(&baseline()).unwrap();
    assert_eq!(sm.start_at(), "Work");
    assert_eq!(sm.state_names(), vec!["Broken", "Check", "Done", "End", "Work"]);
    assert!(sm.has_state("Check"));
    assert!(!sm.has_state("Nope"));
}

#[test]
fn malformed_json_is_refused() {
    assert!(matches!(StateMachine::load("{\"StartAt\": ", &HashMap::new()), Err(LoadError::Json(_))));
    invalid_at(&load(&json!([1])).err().unwrap(), None, "");
}

// --- substitutions --------------------------------------------------------------------------------

#[tokio::test]
async fn substitutions_replace_placeholders_in_string_values() {
    let definition = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:${Region}:${Fn}", "Parameters": {"FunctionName": "${Fn}", "literal": "$ {Fn} ${ not-a-name }"}, "End": true}
    }});
    let subs = HashMap::from([
        ("Region".to_string(), "local".to_string()),
        ("Fn".to_string(), "${Region}".to_string()),
    ]);
    let sm = StateMachine::load(&definition.to_string(), &subs).unwrap();
    let fake = Fake::new(|_, p, _| Reply::Value(p.clone()));
    let out = sm.run(json!({}), &fake).await.unwrap();
    assert_eq!(fake.calls()[0].resource, "arn:local:${Region}", "replacements are not substituted again");
    assert_eq!(out, json!({"FunctionName": "${Region}", "literal": "$ {Fn} ${ not-a-name }"}));
}

#[test]
fn missing_substitutions_are_all_named() {
    let definition = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "${Zeta}", "Parameters": {"a": ["${Alpha}", "${Known}"]}, "End": true}
    }});
    let subs = HashMap::from([("Known".to_string(), "k".to_string())]);
    let err = StateMachine::load(&definition.to_string(), &subs).unwrap_err();
    assert_eq!(err, LoadError::MissingSubstitutions(vec!["Alpha".into(), "Zeta".into()]));
    assert!(err.to_string().contains("${Alpha}"));
    let subs = HashMap::from(
        [("Known", "k"), ("Alpha", "a"), ("Zeta", "z")].map(|(k, v)| (k.to_string(), v.to_string())),
    );
    assert!(StateMachine::load(&definition.to_string(), &subs).is_ok());
}

// --- structure and transitions --------------------------------------------------------------------

#[test]
fn start_at_must_name_a_state() {
    invalid_at(&broken(|d| d["StartAt"] = json!("Nope")), None, "StartAt");
    invalid_at(&broken(|d| _ = d.as_object_mut().unwrap().remove("StartAt")), None, "StartAt");
}

#[test]
fn every_transition_must_name_a_state() {
    invalid_at(&broken(|d| d["States"]["Work"]["Next"] = json!("Nope")), Some("Work"), "Next");
    invalid_at(
        &broken(|d| d["States"]["Work"]["Catch"][0]["Next"] = json!("Nope")),
        Some("Work"),
        "Catch[0].Next",
    );
    invalid_at(&broken(|d| d["States"]["Check"]["Default"] = json!("Nope")), Some("Check"), "Default");
    invalid_at(
        &broken(|d| d["States"]["Check"]["Choices"][0]["Next"] = json!("Nope")),
        Some("Check"),
        "Choices[0].Next",
    );
}

#[test]
fn every_state_must_be_reachable() {
    let err = broken(|d| d["States"]["Orphan"] = json!({"Type": "Succeed"}));
    invalid_at(&err, Some("Orphan"), "");
}

#[test]
fn a_state_has_next_or_end_but_not_both() {
    invalid_at(&broken(|d| d["States"]["Done"]["End"] = json!(true)), Some("Done"), "Next");
    invalid_at(
        &broken(|d| _ = d["States"]["Done"].as_object_mut().unwrap().remove("Next")),
        Some("Done"),
        "Next",
    );
    let err = broken(|d| {
        let done = d["States"]["Done"].as_object_mut().unwrap();
        done.remove("Next");
        done.insert("End".into(), json!(false));
    });
    invalid_at(&err, Some("Done"), "End");
}

#[test]
fn unknown_types_and_fields_are_refused() {
    invalid_at(&broken(|d| d["States"]["Done"]["Type"] = json!("Pas")), Some("Done"), "Type");
    invalid_at(&broken(|d| d["States"]["Done"]["Nxt"] = json!("End")), Some("Done"), "Nxt");
    invalid_at(&broken(|d| d["States"]["Done"]["Resource"] = json!("fn:x")), Some("Done"), "Resource");
    invalid_at(&broken(|d| d["Extra"] = json!(1)), None, "Extra");
    invalid_at(
        &broken(|d| d["States"]["Work"]["Retry"][0]["Interval"] = json!(1)),
        Some("Work"),
        "Retry[0].Interval",
    );
}

#[test]
fn state_names_are_at_most_80_characters() {
    let long = "x".repeat(81);
    let err = broken(|d| {
        d["States"][long.as_str()] = json!({"Type": "Succeed"});
        d["States"]["Done"]["Next"] = json!(long);
    });
    invalid_at(&err, None, "States");
}

#[test]
fn a_fail_state_takes_error_or_error_path_not_both() {
    invalid_at(&broken(|d| d["States"]["Broken"]["ErrorPath"] = json!("$.e")), Some("Broken"), "ErrorPath");
}

#[test]
fn a_choice_state_needs_rules() {
    invalid_at(&broken(|d| d["States"]["Check"]["Choices"] = json!([])), Some("Check"), "Choices");
}

// --- Retry and Catch ------------------------------------------------------------------------------

#[test]
fn states_all_must_be_alone_and_last() {
    let err = broken(|d| d["States"]["Work"]["Catch"][0]["ErrorEquals"] = json!(["States.ALL", "Other"]));
    invalid_at(&err, Some("Work"), "Catch[0].ErrorEquals");
    let err = broken(|d| {
        let catch = d["States"]["Work"]["Catch"].as_array_mut().unwrap();
        catch.push(json!({"ErrorEquals": ["Late"], "Next": "Broken"}));
    });
    invalid_at(&err, Some("Work"), "Catch[0].ErrorEquals");
    let err = broken(|d| {
        let retry = d["States"]["Work"]["Retry"].as_array_mut().unwrap();
        retry.insert(0, json!({"ErrorEquals": ["States.ALL"]}));
    });
    invalid_at(&err, Some("Work"), "Retry[0].ErrorEquals");
    invalid_at(
        &broken(|d| d["States"]["Work"]["Retry"][0]["ErrorEquals"] = json!([])),
        Some("Work"),
        "Retry[0].ErrorEquals",
    );
}

#[test]
fn retry_numbers_must_be_in_range() {
    let field = |f: &str| format!("Retry[0].{f}");
    invalid_at(
        &broken(|d| d["States"]["Work"]["Retry"][0]["MaxAttempts"] = json!(-1)),
        Some("Work"),
        &field("MaxAttempts"),
    );
    invalid_at(
        &broken(|d| d["States"]["Work"]["Retry"][0]["MaxAttempts"] = json!(1.5)),
        Some("Work"),
        &field("MaxAttempts"),
    );
    invalid_at(
        &broken(|d| d["States"]["Work"]["Retry"][0]["IntervalSeconds"] = json!(0)),
        Some("Work"),
        &field("IntervalSeconds"),
    );
    invalid_at(
        &broken(|d| d["States"]["Work"]["Retry"][0]["BackoffRate"] = json!(0.5)),
        Some("Work"),
        &field("BackoffRate"),
    );
    invalid_at(
        &broken(|d| d["States"]["Work"]["Retry"][0]["MaxDelaySeconds"] = json!(0)),
        Some("Work"),
        &field("MaxDelaySeconds"),
    );
    invalid_at(&broken(|d| d["States"]["Work"]["TimeoutSeconds"] = json!(0)), Some("Work"), "TimeoutSeconds");
    let mut zero = baseline();
    zero["States"]["Work"]["Retry"][0]["MaxAttempts"] = json!(0);
    assert!(load(&zero).is_ok(), "MaxAttempts 0 means no retry, and is valid");
}

// --- paths and templates --------------------------------------------------------------------------

#[test]
fn paths_are_checked_at_load() {
    invalid_at(&broken(|d| d["States"]["Work"]["InputPath"] = json!("job")), Some("Work"), "InputPath");
    unsupported_at(
        &broken(|d| d["States"]["Work"]["OutputPath"] = json!("$..id")),
        Some("Work"),
        "OutputPath",
    );
    invalid_at(
        &broken(|d| d["States"]["Work"]["ResultPath"] = json!("$$.Execution.Name")),
        Some("Work"),
        "ResultPath",
    );
    invalid_at(
        &broken(|d| d["States"]["Check"]["Choices"][0]["Variable"] = json!("ok")),
        Some("Check"),
        "Choices[0].Variable",
    );
    let mut ok = baseline();
    ok["States"]["Work"]["InputPath"] = json!("$['id']");
    ok["States"]["Work"]["ResultPath"] = json!("$.a.b[0]");
    ok["States"]["Work"]["OutputPath"] = Value::Null;
    assert!(load(&ok).is_ok());
}

#[test]
fn dollar_fields_need_a_path_or_intrinsic() {
    let err = broken(|d| d["States"]["Work"]["Parameters"] = json!({"nested": [{"v.$": "plain"}]}));
    invalid_at(&err, Some("Work"), "Parameters.nested[0].v.$");
    let err = broken(|d| d["States"]["Work"]["ResultSelector"] = json!({"v.$": 3}));
    invalid_at(&err, Some("Work"), "ResultSelector.v.$");
}

// --- unsupported features -------------------------------------------------------------------------

#[test]
fn unsupported_state_types_are_named() {
    for kind in ["Map", "Parallel", "Wait"] {
        let err = broken(|d| d["States"]["Done"] = json!({"Type": kind, "Next": "End"}));
        unsupported_at(&err, Some("Done"), "Type");
        assert!(err.to_string().contains(kind), "{err}");
    }
}

#[test]
fn unsupported_fields_are_named() {
    unsupported_at(
        &broken(|d| d["States"]["Work"]["HeartbeatSeconds"] = json!(10)),
        Some("Work"),
        "HeartbeatSeconds",
    );
    unsupported_at(
        &broken(|d| d["States"]["Work"]["ItemsPath"] = json!("$.items")),
        Some("Work"),
        "ItemsPath",
    );
    unsupported_at(&broken(|d| d["States"]["Work"]["Credentials"] = json!({})), Some("Work"), "Credentials");
    unsupported_at(&broken(|d| d["States"]["Done"]["Assign"] = json!({"x": 1})), Some("Done"), "Assign");
    unsupported_at(
        &broken(|d| d["States"]["Work"]["Catch"][0]["Output"] = json!({})),
        Some("Work"),
        "Catch[0].Output",
    );
    let err = broken(|d| d["States"]["Work"]["Retry"][0]["JitterStrategy"] = json!("FULL"));
    unsupported_at(&err, Some("Work"), "Retry[0].JitterStrategy");
    let mut none = baseline();
    none["States"]["Work"]["Retry"][0]["JitterStrategy"] = json!("NONE");
    assert!(load(&none).is_ok());
}

#[test]
fn jsonata_is_refused_and_jsonpath_accepted() {
    unsupported_at(&broken(|d| d["QueryLanguage"] = json!("JSONata")), None, "QueryLanguage");
    unsupported_at(
        &broken(|d| d["States"]["Done"]["QueryLanguage"] = json!("JSONata")),
        Some("Done"),
        "QueryLanguage",
    );
    let mut explicit = baseline();
    explicit["QueryLanguage"] = json!("JSONPath");
    explicit["Version"] = json!("1.0");
    assert!(load(&explicit).is_ok());
}

#[test]
fn choice_operators_unknown_or_unsupported_are_told_apart() {
    let err = broken(|d| {
        d["States"]["Check"]["Choices"][0] =
            json!({"Variable": "$.ok", "BooleanEqualz": true, "Next": "Done"})
    });
    invalid_at(&err, Some("Check"), "Choices[0].BooleanEqualz");
    let err = broken(|d| {
        d["States"]["Check"]["Choices"][0] =
            json!({"Variable": "$.t", "TimestampEquals": "2024-01-01T00:00:00Z", "Next": "Done"})
    });
    unsupported_at(&err, Some("Check"), "Choices[0].TimestampEquals");
    let err = broken(|d| {
        d["States"]["Check"]["Choices"][0] =
            json!({"Not": {"Variable": "$.s", "StringMatches": "a*"}, "Next": "Done"})
    });
    unsupported_at(&err, Some("Check"), "Choices[0].Not.StringMatches");
}

#[test]
fn intrinsics_unknown_or_unsupported_are_told_apart() {
    let err = broken(|d| d["States"]["Work"]["Parameters"]["u.$"] = json!("States.UUID()"));
    unsupported_at(&err, Some("Work"), "Parameters.u.$");
    let err = broken(|d| d["States"]["Work"]["Parameters"]["u.$"] = json!("States.Nope($.id)"));
    invalid_at(&err, Some("Work"), "Parameters.u.$");
    let mut ok = baseline();
    ok["States"]["Work"]["Parameters"]["u.$"] = json!("States.Format('{}-{}', $.id, $$.Execution.Name)");
    assert!(load(&ok).is_ok());
}

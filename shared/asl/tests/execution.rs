//! The executor against the States Language's rules, one behaviour per test, through the public API.

mod support;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use gantry_asl::{ExecutionFailure, Observer, RunOptions, StateMachine, TaskFailure};
use serde_json::{json, Value};
use support::{fail, Fake, Reply};

fn machine(definition: Value) -> StateMachine {
    StateMachine::load(&definition.to_string(), &HashMap::new()).unwrap()
}

/// One Task state `T` with the given extra fields, ending the execution.
fn one_task(fields: Value) -> StateMachine {
    let mut task = json!({"Type": "Task", "Resource": "fn:t", "End": true});
    task.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
    machine(json!({"StartAt": "T", "States": {"T": task}}))
}

fn echo() -> Fake {
    Fake::new(|_, params, _| Reply::Value(params.clone()))
}

// --- data flow ------------------------------------------------------------------------------------

#[tokio::test]
async fn paths_apply_in_order_input_parameters_selector_result_output() {
    let sm = one_task(json!({
        "InputPath": "$.job",
        "Parameters": {"id.$": "$.id", "fixed": "x"},
        "ResultSelector": {"code.$": "$.raw.code"},
        "ResultPath": "$.job.result",
        "OutputPath": "$.job"
    }));
    let fake = Fake::new(|_, _, _| Reply::Value(json!({"raw": {"code": 7}, "noise": true})));
    let out = sm.run(json!({"job": {"id": "j1"}, "other": 1}), &fake).await.unwrap();
    assert_eq!(fake.calls()[0].parameters, json!({"id": "j1", "fixed": "x"}));
    assert_eq!(fake.calls()[0].resource, "fn:t");
    assert_eq!(out, json!({"id": "j1", "result": {"code": 7}}));
}

#[tokio::test]
async fn without_paths_the_result_replaces_the_input() {
    let sm = one_task(json!({}));
    let fake = Fake::new(|_, _, _| Reply::Value(json!({"new": true})));
    assert_eq!(sm.run(json!({"old": true}), &fake).await.unwrap(), json!({"new": true}));
    assert_eq!(fake.calls()[0].parameters, json!({"old": true}));
}

#[tokio::test]
async fn result_path_null_discards_the_result() {
    let sm = one_task(json!({"ResultPath": null}));
    let fake = Fake::new(|_, _, _| Reply::Value(json!({"ignored": true})));
    assert_eq!(sm.run(json!({"kept": 1}), &fake).await.unwrap(), json!({"kept": 1}));
}

#[tokio::test]
async fn result_path_applies_to_the_raw_input_and_creates_nested_objects() {
    let sm = one_task(json!({"InputPath": "$.a", "ResultPath": "$.x.y.z"}));
    let fake = Fake::new(|_, _, _| Reply::Value(json!(5)));
    let out = sm.run(json!({"a": {"b": 1}, "c": 2}), &fake).await.unwrap();
    assert_eq!(fake.calls()[0].parameters, json!({"b": 1}));
    assert_eq!(out, json!({"a": {"b": 1}, "c": 2, "x": {"y": {"z": 5}}}));
}

#[tokio::test]
async fn a_result_path_through_a_non_object_is_a_runtime_error() {
    let sm = one_task(json!({"ResultPath": "$.s.inner"}));
    let failure = sm.run(json!({"s": "text"}), &echo()).await.unwrap_err();
    assert_eq!(failure.error, "States.Runtime");
    assert_eq!(failure.state, "T");
}

#[tokio::test]
async fn null_input_and_output_paths_mean_empty_objects() {
    let sm = one_task(json!({"InputPath": null, "ResultPath": "$.r"}));
    let fake = Fake::new(|_, _, _| Reply::Value(json!(1)));
    assert_eq!(sm.run(json!({"a": 1}), &fake).await.unwrap(), json!({"a": 1, "r": 1}));
    assert_eq!(fake.calls()[0].parameters, json!({}));

    let sm = one_task(json!({"OutputPath": null}));
    assert_eq!(sm.run(json!({"a": 1}), &echo()).await.unwrap(), json!({}));
}

#[tokio::test]
async fn array_indexes_select_elements() {
    let sm = one_task(json!({"Parameters": {"first.$": "$.items[0].name", "second.$": "$.items[1]"}}));
    let out = sm.run(json!({"items": [{"name": "a"}, "b"]}), &echo()).await.unwrap();
    assert_eq!(out, json!({"first": "a", "second": "b"}));
}

#[tokio::test]
async fn parameters_reach_the_context_object_and_intrinsics() {
    let sm = one_task(json!({"Parameters": {
        "name.$": "$$.Execution.Name",
        "input.$": "$$.Execution.Input.mission_id",
        "state.$": "$$.State.Name",
        "label.$": "States.Format('mission {} try {}', $.mission_id, States.MathAdd($.attempt, 1))",
        "list": [{"v.$": "$.attempt"}]
    }}));
    let options = RunOptions::new().execution_name("m-42");
    let out = sm.run_with("T", json!({"mission_id": "m-42", "attempt": 1}), &echo(), &options).await.unwrap();
    assert_eq!(
        out,
        json!({"name": "m-42", "input": "m-42", "state": "T", "label": "mission m-42 try 2", "list": [{"v": 1}]})
    );
}

#[tokio::test]
async fn a_path_that_selects_nothing_fails_and_is_not_caught_by_wildcards() {
    let sm = machine(json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "fn:t", "Parameters": {"x.$": "$.missing"}, "End": true,
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}]},
        "Caught": {"Type": "Succeed"}
    }}));
    let fake = echo();
    let failure = sm.run(json!({}), &fake).await.unwrap_err();
    assert_eq!(failure.error, "States.Runtime");
    assert!(failure.cause.contains("$.missing"), "{}", failure.cause);
    assert!(fake.calls().is_empty(), "the task must not run with a broken payload");
    // Clean case: the same machine with the field present runs the task.
    assert_eq!(sm.run(json!({"missing": 1}), &fake).await.unwrap(), json!({"x": 1}));
}

#[tokio::test]
async fn an_input_path_that_selects_nothing_is_a_runtime_error() {
    let sm = one_task(json!({"InputPath": "$.nope"}));
    assert_eq!(sm.run(json!({}), &echo()).await.unwrap_err().error, "States.Runtime");
    assert_eq!(sm.run(json!({"nope": 1}), &echo()).await.unwrap(), json!(1));
}

// --- Retry ----------------------------------------------------------------------------------------

fn retrying(retry: Value) -> StateMachine {
    one_task(json!({"Retry": retry}))
}

fn fail_times(times: usize, error: &'static str) -> Fake {
    Fake::new(move |_, _, n| if n < times { fail(error, "boom") } else { Reply::Value(json!("ok")) })
}

#[tokio::test(start_paused = true)]
async fn retry_repeats_until_max_attempts_then_fails() {
    let sm = retrying(json!([{"ErrorEquals": ["E"], "MaxAttempts": 2}]));
    let fake = fail_times(2, "E");
    assert_eq!(sm.run(json!({}), &fake).await.unwrap(), json!("ok"));
    assert_eq!(fake.count("T"), 3);

    let fake = fail_times(3, "E");
    let failure = sm.run(json!({}), &fake).await.unwrap_err();
    assert_eq!(fake.count("T"), 3);
    assert_eq!(failure, ExecutionFailure { error: "E".into(), cause: "boom".into(), state: "T".into() });
}

#[tokio::test(start_paused = true)]
async fn max_attempts_zero_never_retries() {
    let sm = retrying(json!([{"ErrorEquals": ["E"], "MaxAttempts": 0}]));
    let fake = fail_times(1, "E");
    assert!(sm.run(json!({}), &fake).await.is_err());
    assert_eq!(fake.count("T"), 1);
}

#[tokio::test(start_paused = true)]
async fn retry_ignores_errors_it_does_not_name() {
    let sm = retrying(json!([{"ErrorEquals": ["E"], "MaxAttempts": 3}]));
    let fake = fail_times(1, "Other");
    assert_eq!(sm.run(json!({}), &fake).await.unwrap_err().error, "Other");
    assert_eq!(fake.count("T"), 1);
}

#[tokio::test(start_paused = true)]
async fn retry_waits_grow_by_the_backoff_rate() {
    let sm =
        retrying(json!([{"ErrorEquals": ["E"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2}]));
    let fake = fail_times(3, "E");
    sm.run(json!({}), &fake).await.unwrap();
    let at: Vec<_> = fake.calls().iter().map(|c| c.at).collect();
    let gaps: Vec<u64> = at.windows(2).map(|w| (w[1] - w[0]).as_secs()).collect();
    assert_eq!(gaps, vec![2, 4, 8]);
}

#[tokio::test(start_paused = true)]
async fn retry_defaults_are_one_second_three_attempts_rate_two() {
    let sm = retrying(json!([{"ErrorEquals": ["E"]}]));
    let fake = fail_times(10, "E");
    assert!(sm.run(json!({}), &fake).await.is_err());
    let at: Vec<_> = fake.calls().iter().map(|c| c.at).collect();
    let gaps: Vec<u64> = at.windows(2).map(|w| (w[1] - w[0]).as_secs()).collect();
    assert_eq!(gaps, vec![1, 2, 4]);
}

#[tokio::test(start_paused = true)]
async fn max_delay_caps_the_wait() {
    let sm = retrying(
        json!([{"ErrorEquals": ["E"], "IntervalSeconds": 2, "MaxAttempts": 4, "BackoffRate": 3, "MaxDelaySeconds": 7}]),
    );
    let fake = fail_times(4, "E");
    sm.run(json!({}), &fake).await.unwrap();
    let at: Vec<_> = fake.calls().iter().map(|c| c.at).collect();
    let gaps: Vec<u64> = at.windows(2).map(|w| (w[1] - w[0]).as_secs()).collect();
    assert_eq!(gaps, vec![2, 6, 7, 7]);
}

#[tokio::test(start_paused = true)]
async fn only_the_first_matching_retrier_counts() {
    // Once the specific retrier is spent, the wildcard after it does not take over.
    let sm = retrying(json!([
        {"ErrorEquals": ["E"], "MaxAttempts": 1},
        {"ErrorEquals": ["States.ALL"], "MaxAttempts": 5}
    ]));
    let fake = fail_times(5, "E");
    assert!(sm.run(json!({}), &fake).await.is_err());
    assert_eq!(fake.count("T"), 2);
    let fake = fail_times(5, "Other");
    assert_eq!(sm.run(json!({}), &fake).await.unwrap(), json!("ok"));
    assert_eq!(fake.count("T"), 6);
}

#[tokio::test(start_paused = true)]
async fn task_failed_matches_task_errors_but_not_timeouts() {
    let sm = one_task(
        json!({"TimeoutSeconds": 1, "Retry": [{"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 1}]}),
    );
    let fake = fail_times(1, "Lambda.ServiceException");
    assert_eq!(sm.run(json!({}), &fake).await.unwrap(), json!("ok"));
    assert_eq!(fake.count("T"), 2);

    let fake = Fake::new(|_, _, n| if n == 0 { Reply::Hang } else { Reply::Value(json!("ok")) });
    assert_eq!(sm.run(json!({}), &fake).await.unwrap_err().error, "States.Timeout");
    assert_eq!(fake.count("T"), 1);
}

#[tokio::test(start_paused = true)]
async fn a_timeout_can_be_retried_by_name() {
    let sm = one_task(
        json!({"TimeoutSeconds": 1, "Retry": [{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 1}]}),
    );
    let fake = Fake::new(|_, _, n| if n == 0 { Reply::Hang } else { Reply::Value(json!("ok")) });
    assert_eq!(sm.run(json!({}), &fake).await.unwrap(), json!("ok"));
    assert_eq!(fake.count("T"), 2);
}

#[tokio::test]
async fn retry_delay_scale_shrinks_real_waits() {
    let sm = retrying(json!([{"ErrorEquals": ["E"], "IntervalSeconds": 30, "MaxAttempts": 2}]));
    let fake = fail_times(2, "E");
    let started = std::time::Instant::now();
    let options = RunOptions::new().retry_delay_scale(0.0);
    sm.run_with("T", json!({}), &fake, &options).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(fake.count("T"), 3);
}

#[tokio::test(start_paused = true)]
async fn the_retry_count_is_visible_in_the_context() {
    let sm =
        one_task(json!({"Parameters": {"n.$": "$$.State.RetryCount"}, "Retry": [{"ErrorEquals": ["E"]}]}));
    let fake = fail_times(2, "E");
    sm.run(json!({}), &fake).await.unwrap();
    let seen: Vec<Value> = fake.calls().into_iter().map(|c| c.parameters["n"].clone()).collect();
    assert_eq!(seen, vec![json!(0), json!(1), json!(2)]);
}

// --- Catch ----------------------------------------------------------------------------------------

/// Catchers for error names that never occur keep A and B reachable whatever `catch` routes to.
fn catching(catch: Value) -> StateMachine {
    let mut all = vec![
        json!({"ErrorEquals": ["Never.A"], "Next": "A"}),
        json!({"ErrorEquals": ["Never.B"], "Next": "B"}),
    ];
    all.extend(catch.as_array().unwrap().iter().cloned());
    machine(json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "fn:t", "Catch": all, "Next": "Done"},
        "Done": {"Type": "Succeed"},
        "A": {"Type": "Pass", "Result": "A", "ResultPath": "$.route", "End": true},
        "B": {"Type": "Pass", "Result": "B", "ResultPath": "$.route", "End": true}
    }}))
}

#[tokio::test]
async fn catch_routes_to_the_first_matching_catcher_with_the_error_at_its_result_path() {
    let sm = catching(json!([
        {"ErrorEquals": ["E1"], "ResultPath": "$.failure", "Next": "A"},
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "B"}
    ]));
    let out = sm.run(json!({"keep": 1}), &Fake::new(|_, _, _| fail("E1", "first"))).await.unwrap();
    assert_eq!(out, json!({"keep": 1, "failure": {"Error": "E1", "Cause": "first"}, "route": "A"}));
    let out = sm.run(json!({"keep": 1}), &Fake::new(|_, _, _| fail("E2", "second"))).await.unwrap();
    assert_eq!(out, json!({"keep": 1, "failure": {"Error": "E2", "Cause": "second"}, "route": "B"}));
}

#[tokio::test]
async fn a_catch_without_result_path_replaces_the_input_with_the_error() {
    let sm = catching(json!([{"ErrorEquals": ["E"], "Next": "Done"}]));
    let out = sm.run(json!({"keep": 1}), &Fake::new(|_, _, _| fail("E", "c"))).await.unwrap();
    assert_eq!(out, json!({"Error": "E", "Cause": "c"}));
}

#[tokio::test]
async fn a_catch_with_null_result_path_keeps_the_input() {
    let sm = catching(json!([{"ErrorEquals": ["E"], "ResultPath": null, "Next": "Done"}]));
    let out = sm.run(json!({"keep": 1}), &Fake::new(|_, _, _| fail("E", "c"))).await.unwrap();
    assert_eq!(out, json!({"keep": 1}));
}

#[tokio::test]
async fn an_uncaught_error_fails_the_execution_in_its_state() {
    let sm = catching(json!([{"ErrorEquals": ["E"], "Next": "A"}]));
    let failure = sm.run(json!({}), &Fake::new(|_, _, _| fail("Other", "why"))).await.unwrap_err();
    assert_eq!(failure, ExecutionFailure { error: "Other".into(), cause: "why".into(), state: "T".into() });
}

#[tokio::test(start_paused = true)]
async fn retries_come_before_the_catch() {
    let sm = machine(json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "fn:t", "Next": "Done",
              "Retry": [{"ErrorEquals": ["E"], "MaxAttempts": 2}],
              "Catch": [{"ErrorEquals": ["E"], "ResultPath": "$.f", "Next": "Done"}]},
        "Done": {"Type": "Succeed"}
    }}));
    let fake = fail_times(9, "E");
    let out = sm.run(json!({}), &fake).await.unwrap();
    assert_eq!(fake.count("T"), 3);
    assert_eq!(out["f"]["Error"], "E");
}

// --- timeouts -------------------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn a_task_past_its_timeout_is_dropped_and_fails_with_states_timeout() {
    let sm = machine(json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "fn:t", "TimeoutSeconds": 5, "Next": "Done",
              "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.f", "Next": "Done"}]},
        "Done": {"Type": "Succeed"}
    }}));
    let fake = Fake::new(|_, _, _| Reply::Hang);
    let started = tokio::time::Instant::now();
    let out = sm.run(json!({}), &fake).await.unwrap();
    assert_eq!(started.elapsed(), Duration::from_secs(5));
    assert_eq!(out["f"]["Error"], "States.Timeout");
    assert_eq!(fake.abandoned.load(Ordering::SeqCst), 1, "the invoke future must be dropped");
}

#[tokio::test(start_paused = true)]
async fn a_task_within_its_timeout_succeeds() {
    let sm = one_task(json!({"TimeoutSeconds": 5}));
    let fake = echo();
    assert_eq!(sm.run(json!({"a": 1}), &fake).await.unwrap(), json!({"a": 1}));
    assert_eq!(fake.abandoned.load(Ordering::SeqCst), 0);
}

#[tokio::test(start_paused = true)]
async fn the_machine_timeout_bounds_the_whole_execution() {
    let sm = machine(json!({"StartAt": "T", "TimeoutSeconds": 10, "States": {
        "T": {"Type": "Task", "Resource": "fn:t", "End": true}
    }}));
    let failure = sm.run(json!({}), &Fake::new(|_, _, _| Reply::Hang)).await.unwrap_err();
    assert_eq!(failure.error, "States.Timeout");
    assert_eq!(failure.state, "T");
}

// --- Choice, Pass, Succeed, Fail ------------------------------------------------------------------

fn chooser() -> StateMachine {
    machine(json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [
            {"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"},
            {"And": [{"Variable": "$.n", "NumericGreaterThanEquals": 0},
                     {"Not": {"Variable": "$.tag", "StringEquals": "skip"}}], "Next": "Small"}
        ], "Default": "Other"},
        "Big": {"Type": "Pass", "Result": "big", "End": true},
        "Small": {"Type": "Pass", "Result": "small", "End": true},
        "Other": {"Type": "Pass", "Result": "other", "End": true}
    }}))
}

#[tokio::test]
async fn choice_takes_the_first_rule_that_holds_else_the_default() {
    let sm = chooser();
    let fake = echo();
    assert_eq!(sm.run(json!({"n": 11, "tag": "skip"}), &fake).await.unwrap(), "big");
    assert_eq!(sm.run(json!({"n": 3, "tag": "go"}), &fake).await.unwrap(), "small");
    assert_eq!(sm.run(json!({"n": 3, "tag": "skip"}), &fake).await.unwrap(), "other");
    assert_eq!(sm.run(json!({"n": -1, "tag": "go"}), &fake).await.unwrap(), "other");
}

#[tokio::test]
async fn choice_without_a_match_or_default_fails_with_no_choice_matched() {
    let sm = machine(json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.ok", "BooleanEquals": true, "Next": "Yes"}]},
        "Yes": {"Type": "Succeed"}
    }}));
    let failure = sm.run(json!({"ok": false}), &echo()).await.unwrap_err();
    assert_eq!(failure.error, "States.NoChoiceMatched");
    assert_eq!(failure.state, "C");
    assert_eq!(sm.run(json!({"ok": true}), &echo()).await.unwrap(), json!({"ok": true}));
}

#[tokio::test]
async fn choice_on_a_missing_variable_is_a_runtime_error() {
    let failure = chooser().run(json!({"tag": "go"}), &echo()).await.unwrap_err();
    assert_eq!(failure.error, "States.Runtime");
}

#[tokio::test]
async fn choice_applies_input_and_output_paths() {
    let sm = machine(json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "InputPath": "$.inner", "OutputPath": "$.v",
              "Choices": [{"Variable": "$.flag", "IsPresent": true, "Next": "End"}], "Default": "End"},
        "End": {"Type": "Succeed"}
    }}));
    assert_eq!(sm.run(json!({"inner": {"flag": 1, "v": 9}}), &echo()).await.unwrap(), json!(9));
}

#[tokio::test]
async fn pass_uses_result_else_parameters_else_its_input() {
    let with_result = machine(json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Result": {"r": 1}, "Parameters": {"ignored": 1}, "ResultPath": "$.out", "End": true}
    }}));
    assert_eq!(with_result.run(json!({"a": 1}), &echo()).await.unwrap(), json!({"a": 1, "out": {"r": 1}}));
    let with_parameters = machine(json!({"StartAt": "P", "States": {
        "P": {"Type": "Pass", "Parameters": {"copy.$": "$.a"}, "End": true}
    }}));
    assert_eq!(with_parameters.run(json!({"a": 1}), &echo()).await.unwrap(), json!({"copy": 1}));
    let plain = machine(json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}));
    assert_eq!(plain.run(json!({"a": 1}), &echo()).await.unwrap(), json!({"a": 1}));
}

#[tokio::test]
async fn succeed_filters_with_its_paths() {
    let sm = machine(
        json!({"StartAt": "S", "States": {"S": {"Type": "Succeed", "InputPath": "$.a", "OutputPath": "$.b"}}}),
    );
    assert_eq!(sm.run(json!({"a": {"b": 2}}), &echo()).await.unwrap(), json!(2));
}

#[tokio::test]
async fn fail_reports_its_error_and_cause() {
    let sm = machine(
        json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Gantry.X", "Cause": "because"}}}),
    );
    let failure = sm.run(json!({}), &echo()).await.unwrap_err();
    assert_eq!(
        failure,
        ExecutionFailure { error: "Gantry.X".into(), cause: "because".into(), state: "F".into() }
    );

    let sm = machine(
        json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "ErrorPath": "$.e", "CausePath": "$.c"}}}),
    );
    let failure = sm.run(json!({"e": "E", "c": "C"}), &echo()).await.unwrap_err();
    assert_eq!((failure.error.as_str(), failure.cause.as_str()), ("E", "C"));
    let failure = sm.run(json!({"e": 1, "c": "C"}), &echo()).await.unwrap_err();
    assert_eq!(failure.error, "States.Runtime");
}

// --- starting points, loops, observation ----------------------------------------------------------

fn chain() -> StateMachine {
    machine(json!({"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": "fn:a", "ResultPath": "$.a", "Next": "B"},
        "B": {"Type": "Task", "Resource": "fn:b", "ResultPath": "$.b", "End": true}
    }}))
}

#[tokio::test]
async fn run_from_starts_at_the_named_state() {
    let fake = Fake::new(|state, _, _| Reply::Value(json!(state)));
    assert_eq!(chain().run_from("B", json!({}), &fake).await.unwrap(), json!({"b": "B"}));
    assert_eq!(fake.states(), vec!["B"]);
    let fake = Fake::new(|state, _, _| Reply::Value(json!(state)));
    assert_eq!(chain().run(json!({}), &fake).await.unwrap(), json!({"a": "A", "b": "B"}));
    assert_eq!(fake.states(), vec!["A", "B"]);
}

#[tokio::test]
async fn run_from_an_unknown_state_fails_without_running_anything() {
    let fake = echo();
    let failure = chain().run_from("Nope", json!({}), &fake).await.unwrap_err();
    assert_eq!(failure.error, "States.Runtime");
    assert!(fake.calls().is_empty());
}

#[tokio::test]
async fn an_endless_loop_is_stopped_by_the_transition_limit() {
    let sm = machine(json!({"StartAt": "Loop", "States": {
        "Loop": {"Type": "Choice", "Choices": [{"Variable": "$.stop", "BooleanEquals": true, "Next": "Out"}], "Default": "Loop"},
        "Out": {"Type": "Succeed"}
    }}));
    let options = RunOptions::new().max_transitions(50);
    let failure = sm.run_with("Loop", json!({"stop": false}), &echo(), &options).await.unwrap_err();
    assert_eq!(failure.error, "States.Runtime");
    assert!(sm.run_with("Loop", json!({"stop": true}), &echo(), &options).await.is_ok());
}

#[derive(Default)]
struct Log(Mutex<Vec<String>>);

impl Observer for Log {
    fn entered(&self, state: &str, _: &Value) {
        self.0.lock().unwrap().push(format!("enter {state}"));
    }
    fn retrying(&self, state: &str, failure: &TaskFailure, retry: u32, delay: Duration) {
        self.0.lock().unwrap().push(format!("retry {state} {} #{retry} {}s", failure.error, delay.as_secs()));
    }
    fn caught(&self, state: &str, failure: &TaskFailure, next: &str) {
        self.0.lock().unwrap().push(format!("caught {state} {} -> {next}", failure.error));
    }
    fn exited(&self, state: &str, _: &Value) {
        self.0.lock().unwrap().push(format!("exit {state}"));
    }
    fn failed(&self, state: &str, failure: &gantry_asl::ExecutionFailure) {
        self.0.lock().unwrap().push(format!("failed {state} {}", failure.error));
    }
}

#[tokio::test(start_paused = true)]
async fn the_observer_sees_every_step_in_order() {
    let sm = machine(json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "fn:t", "Next": "F",
              "Retry": [{"ErrorEquals": ["E"], "MaxAttempts": 1, "IntervalSeconds": 3}],
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F"}]},
        "F": {"Type": "Fail", "Error": "Final"}
    }}));
    let log = Arc::new(Log::default());
    let options = RunOptions::new().observer(log.clone());
    let fake = Fake::new(|_, _, _| fail("E", "x"));
    sm.run_with("T", json!({}), &fake, &options).await.unwrap_err();
    assert_eq!(
        *log.0.lock().unwrap(),
        vec!["enter T", "retry T E #1 3s", "caught T E -> F", "exit T", "enter F", "failed F Final"]
    );
}

#[test]
fn executions_can_be_spawned_on_a_multithreaded_runtime() {
    fn assert_send<T: Send>(_: &T) {}
    let sm = chain();
    let fake = echo();
    let run = sm.run(json!({}), &fake);
    assert_send(&run);
}

//! The Step Functions orchestrator against moto's server, with the state machine created from
//! the real `statemachine/mission.asl.json`.
//!
//! What moto 5 does with the definition's tasks when its interpreter is on
//! (`stepfunctions.execute_state_machine`):
//! - `arn:aws:states:::lambda:invoke` calls moto's own Lambda `Invoke`. Its Docker-backed Lambda
//!   cannot run here; with `lambda.use_docker = false` moto's "simple" Lambda answers every
//!   invoke, whatever the function, with the next result queued through
//!   `/moto-api/static/lambda-simple/response` (or echoes the payload when none is queued). It
//!   never runs the `steps` binary and cannot return a function error, so Retry on
//!   `Gantry.Transient` and the Catch paths are not exercised here (gantry-asl's tests cover them).
//! - `arn:aws:states:::ecs:runTask.sync` never reaches ECS: moto 5.2.5 stubs out the step that
//!   turns the ASL's PascalCase parameters (`Cluster`, `TaskDefinition`, …) into the API's
//!   camelCase ones, so the task fails at once with `States.Runtime` (cause `'Cluster'`), before
//!   any RunTask call. The Build state's Catch then hands the failure to CollectBuild in
//!   `$.build_failure`, exactly as when a Fargate task cannot start in AWS. The RunTask request
//!   itself is checked in `tests/ecs_request.rs` instead.

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use chrono::Utc;
use serde_json::{json, Value};

use gantry_aws::StepFunctionsOrchestrator;
use gantry_domain::{Mission, MissionStatus, Subject};
use gantry_local::SqliteStore;
use gantry_ports::{ExecutionState, MissionStore, Orchestrator};

const DEFINITION: &str = include_str!("../../../statemachine/mission.asl.json");
const ACCOUNT: &str = "123456789012";
const ROLE: &str = "arn:aws:iam::123456789012:role/gantry-state-machine";

fn function_arn(substitution: &str) -> String {
    format!("arn:aws:lambda:{}:{ACCOUNT}:function:gantry-{substitution}", support::REGION)
}

/// The template's substitutions; resource ids as given (they need exist only for the interpreter).
fn definition(cluster: &str, task_definition: &str, subnet: &str, security_group: &str) -> String {
    let mut subs: HashMap<String, String> = gantry_pipeline::Step::ALL
        .iter()
        .map(|s| (s.substitution().to_owned(), function_arn(s.substitution())))
        .collect();
    subs.insert("BuildClusterArn".into(), cluster.into());
    subs.insert("BuildTaskDefinitionArn".into(), task_definition.into());
    subs.insert("BuildSubnetA".into(), subnet.into());
    subs.insert("BuildSubnetB".into(), subnet.into());
    subs.insert("BuildSecurityGroupId".into(), security_group.into());
    let mut text = DEFINITION.to_owned();
    for (name, value) in subs {
        text = text.replace(&format!("${{{name}}}"), &value);
    }
    assert!(!text.contains("${"), "every substitution is given");
    text
}

async fn create_state_machine(config: &SdkConfig, definition: String) -> String {
    let client = aws_sdk_sfn::Client::new(config);
    let output = client
        .create_state_machine()
        .name(support::unique("gantry-mission"))
        .definition(definition)
        .role_arn(ROLE)
        .send()
        .await
        .expect("create the state machine");
    output.state_machine_arn().to_owned()
}

async fn queued_mission(store: &SqliteStore) -> Mission {
    let mut mission = Mission::new(Subject::new("owner"), "a todo app", MissionStatus::Queued, Utc::now());
    mission.deploy = false;
    mission.publish = false;
    store.create(&mission, &[]).await.expect("store the mission");
    mission
}

async fn executions(config: &SdkConfig, state_machine: &str) -> Vec<aws_sdk_sfn::types::ExecutionListItem> {
    aws_sdk_sfn::Client::new(config)
        .list_executions()
        .state_machine_arn(state_machine)
        .send()
        .await
        .expect("list executions")
        .executions()
        .to_vec()
}

#[tokio::test]
async fn starts_are_idempotent_and_describe_and_stop_follow_the_newest_dispatch() {
    let moto = support::moto();
    let config = moto.sdk_config();
    let machine = create_state_machine(&config, definition("cluster", "task", "subnet-1", "sg-1")).await;
    let store = Arc::new(SqliteStore::open_in_memory().expect("sqlite"));
    let orchestrator =
        StepFunctionsOrchestrator::new(aws_sdk_sfn::Client::new(&config), &machine, store.clone());
    let mut mission = queued_mission(&store).await;

    assert_eq!(orchestrator.describe(&mission.id).await, Ok(ExecutionState::Missing), "never started");

    let first = orchestrator.start(&mission).await.expect("start");
    assert!(first.started);
    let execution_arn = orchestrator.execution_arn(mission.id.as_str());
    assert_eq!(
        first.trace_url.as_deref(),
        Some(
            format!(
                "https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/{execution_arn}"
            )
            .as_str()
        )
    );
    let again = orchestrator.start(&mission).await.expect("second start");
    assert!(!again.started, "a second start of the same dispatch starts nothing");
    assert_eq!(again.trace_url, first.trace_url);
    let listed = executions(&config, &machine).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].name(), mission.id.as_str());
    assert_eq!(listed[0].execution_arn(), execution_arn);

    let input: Value = serde_json::from_str(
        aws_sdk_sfn::Client::new(&config)
            .describe_execution()
            .execution_arn(&execution_arn)
            .send()
            .await
            .expect("describe")
            .input()
            .expect("an input"),
    )
    .expect("JSON input");
    assert_eq!(input["mission_id"], json!(mission.id.as_str()));
    assert_eq!(
        (input["deploy"].clone(), input["publish"].clone(), input["dispatch"].clone()),
        (json!(false), json!(false), json!(0))
    );

    assert_eq!(orchestrator.describe(&mission.id).await, Ok(ExecutionState::Running));
    orchestrator.stop(&mission.id, "cancelled by the owner").await.expect("stop");
    assert_eq!(orchestrator.describe(&mission.id).await, Ok(ExecutionState::Aborted));

    // A retry is a new dispatch, a new execution name; describe follows it.
    mission.dispatches = 1;
    store.save(&mut mission, &[]).await.expect("save the retried mission");
    let retry = orchestrator.start(&mission).await.expect("start the retry");
    assert!(retry.started);
    assert!(retry.trace_url.as_deref().is_some_and(|url| url.ends_with(&format!("{}-1", mission.id))));
    assert_eq!(orchestrator.describe(&mission.id).await, Ok(ExecutionState::Running));
    assert_eq!(executions(&config, &machine).await.len(), 2);
}

/// Queues what moto's simple Lambda answers, in order, for every invoke of this account.
async fn queue_lambda_results(moto: &support::Moto, results: &[Value]) {
    let results: Vec<String> = results.iter().map(Value::to_string).collect();
    let response = reqwest::Client::new()
        .post(format!("{}/moto-api/static/lambda-simple/response", moto.endpoint()))
        .json(&json!({"account_id": ACCOUNT, "region": support::REGION, "results": results}))
        .send()
        .await
        .expect("reach moto's API");
    assert!(response.status().is_success(), "{}", response.status());
}

#[tokio::test]
async fn the_real_definition_runs_to_done_in_moto() {
    // A moto of its own: the interpreter and simple Lambda are server-wide settings.
    let moto = support::Moto::start();
    moto.enable_state_machine_execution().await;
    let response = reqwest::Client::new()
        .post(format!("{}/moto-api/config", moto.endpoint()))
        .json(&json!({"lambda": {"use_docker": false}}))
        .send()
        .await
        .expect("reach moto's config API");
    assert!(response.status().is_success());
    let config = moto.sdk_config();
    let cluster = "arn:aws:ecs:us-east-1:123456789012:cluster/gantry-builds";
    let machine = create_state_machine(
        &config,
        definition(
            cluster,
            "arn:aws:ecs:us-east-1:123456789012:task-definition/gantry-builder:1",
            "subnet-1",
            "sg-1",
        ),
    )
    .await;
    let store = Arc::new(SqliteStore::open_in_memory().expect("sqlite"));
    let orchestrator =
        StepFunctionsOrchestrator::new(aws_sdk_sfn::Client::new(&config), &machine, store.clone());
    let mission = queued_mission(&store).await;

    // What each Lambda step would return, in the order the definition calls them.
    let base = json!({"mission_id": mission.id.as_str(), "deploy": false, "publish": false, "dispatch": 0});
    let with = |fields: Value| {
        let mut state = base.clone();
        for (k, v) in fields.as_object().cloned().unwrap_or_default() {
            state[k] = v;
        }
        state
    };
    let build_job = json!({
        "job_url": "http://127.0.0.1:9/missions/m/build-1/job.json",
        "report_url": "http://127.0.0.1:9/missions/m/build-1/report.json",
        "log_url": "http://127.0.0.1:9/missions/m/build-1/log.txt",
        "output_url": "http://127.0.0.1:9/missions/m/build-1/output.json"
    });
    let drafted = with(json!({"attempt": 1, "max_heals": 1}));
    let checked = with(json!({"attempt": 1, "max_heals": 1, "policy_allowed": true}));
    let prepared =
        with(json!({"attempt": 1, "max_heals": 1, "policy_allowed": true, "build_job": build_job}));
    let collected = with(
        json!({"attempt": 1, "max_heals": 1, "policy_allowed": true, "build_job": build_job, "build_passed": true}),
    );
    let sealed = with(
        json!({"attempt": 1, "max_heals": 1, "policy_allowed": true, "build_job": build_job, "build_passed": true, "outcome": "SUCCESS"}),
    );
    queue_lambda_results(&moto, &[drafted, checked, prepared, collected, sealed.clone(), sealed.clone()])
        .await;

    let started = orchestrator.start(&mission).await.expect("start");
    assert!(started.started);
    let deadline = Instant::now() + Duration::from_secs(90);
    let state = loop {
        let state = orchestrator.describe(&mission.id).await.expect("describe");
        if state != ExecutionState::Running || Instant::now() > deadline {
            break state;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let sfn = aws_sdk_sfn::Client::new(&config);
    let execution_arn = orchestrator.execution_arn(mission.id.as_str());
    let history = sfn.get_execution_history().execution_arn(&execution_arn).send().await.expect("history");
    let entered: Vec<String> = history
        .events()
        .iter()
        .filter_map(|e| e.state_entered_event_details().map(|d| d.name().to_owned()))
        .collect();
    assert_eq!(state, ExecutionState::Succeeded, "entered {entered:?}; events {:?}", history.events());
    assert_eq!(
        entered,
        [
            "Resume",
            "Draft",
            "Policy",
            "PolicyGate",
            "PrepareBuild",
            "Build",
            "CollectBuild",
            "BuildPassed",
            "DeployWanted",
            "PublishWanted",
            "Succeeded",
            "Evidence",
            "Finalize",
            "Done"
        ]
    );
    let failures: Vec<(String, String)> = history
        .events()
        .iter()
        .filter_map(|e| e.task_failed_event_details())
        .map(|d| (d.error().unwrap_or_default().to_owned(), d.cause().unwrap_or_default().to_owned()))
        .collect();
    assert_eq!(
        failures,
        [("States.Runtime".to_owned(), "'Cluster'".to_owned())],
        "only the Build task fails"
    );

    // Build's Catch put the failure in $.build_failure, and CollectBuild got it in its Payload.
    let scheduled: Vec<Value> = history
        .events()
        .iter()
        .filter_map(|e| e.task_scheduled_event_details())
        .filter_map(|d| serde_json::from_str(d.parameters()).ok())
        .collect();
    let collect = scheduled
        .iter()
        .find(|p| p["FunctionName"] == json!(function_arn("CollectBuildFunctionArn")))
        .expect("CollectBuild was invoked");
    assert_eq!(collect["Payload"]["build_failure"]["Error"], json!("States.Runtime"));
    assert_eq!(collect["Payload"]["build_job"], build_job, "the state reached Build unchanged");

    let described = sfn.describe_execution().execution_arn(&execution_arn).send().await.expect("describe");
    let output: Value = serde_json::from_str(described.output().expect("an output")).expect("JSON output");
    assert_eq!(output, sealed, "Finalize's Payload is the execution's output");
}

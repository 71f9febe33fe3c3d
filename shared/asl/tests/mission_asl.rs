//! The real `statemachine/mission.asl.json`, run by the local executor against a fake that plays
//! the step handlers by the contract: each Lambda step gets the whole state object as `Payload`
//! and returns it updated; the Build task's result is discarded.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use gantry_asl::{LoadError, StateMachine};
use serde_json::{json, Value};
use support::{fail, Fake, Reply};

const DEFINITION: &str = include_str!("../../../statemachine/mission.asl.json");

const SUBSTITUTIONS: [&str; 13] = [
    "DraftFunctionArn",
    "PolicyFunctionArn",
    "PrepareBuildFunctionArn",
    "CollectBuildFunctionArn",
    "HealFunctionArn",
    "DeployFunctionArn",
    "PublishFunctionArn",
    "EvidenceFunctionArn",
    "FinalizeFunctionArn",
    "BuildClusterArn",
    "BuildTaskDefinitionArn",
    "BuildSubnetA",
    "BuildSubnetB",
];

const LAMBDA: &str = "arn:aws:states:::lambda:invoke";

fn substitutions() -> HashMap<String, String> {
    let mut subs: HashMap<String, String> =
        SUBSTITUTIONS.iter().map(|name| (name.to_string(), format!("dummy:{name}"))).collect();
    subs.insert("BuildSecurityGroupId".into(), "dummy:BuildSecurityGroupId".into());
    subs
}

fn mission() -> StateMachine {
    StateMachine::load(DEFINITION, &substitutions()).expect("mission.asl.json loads")
}

fn input(deploy: bool, publish: bool) -> Value {
    json!({"mission_id": "m-1", "deploy": deploy, "publish": publish})
}

type Special = dyn Fn(&str, usize) -> Option<Reply> + Send + Sync;

/// How the fake step handlers behave in one scenario.
struct Scenario {
    max_heals: u64,
    /// Verdict of the n-th Policy call (the last one repeats).
    policy: Vec<bool>,
    /// Outcome of the n-th build, as CollectBuild reports it (the last one repeats).
    builds: Vec<bool>,
    /// Whether Policy's refusals are repairable; when false, Policy leaves `policy_repairable`
    /// out, as a handler from before the field did.
    repairable: bool,
    /// Takes over a call before the default handler: (state, n-th call of that state).
    special: Box<Special>,
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            max_heals: 3,
            policy: vec![true],
            builds: vec![true],
            repairable: false,
            special: Box::new(|_, _| None),
        }
    }
}

fn nth<T: Copy>(list: &[T], n: usize) -> T {
    list[n.min(list.len() - 1)]
}

fn handlers(scenario: Scenario) -> Fake {
    Fake::new(move |state, params, n| {
        if let Some(reply) = (scenario.special)(state, n) {
            return reply;
        }
        if state == "Build" {
            return Reply::Value(json!({"Tasks": [{"LastStatus": "STOPPED"}]}));
        }
        let mut s = params["Payload"].clone();
        match state {
            "Draft" => {
                s["attempt"] = json!(1);
                s["max_heals"] = json!(scenario.max_heals);
            }
            "Policy" => {
                let allowed = nth(&scenario.policy, n);
                s["policy_allowed"] = json!(allowed);
                if scenario.repairable {
                    s["policy_repairable"] = json!(!allowed);
                }
            }
            "PrepareBuild" => {
                let attempt = &s["attempt"];
                s["build_job"] = json!({
                    "job_url": format!("http://127.0.0.1/job/{attempt}"),
                    "report_url": format!("http://127.0.0.1/report/{attempt}"),
                    "log_url": format!("http://127.0.0.1/log/{attempt}"),
                    "output_url": format!("http://127.0.0.1/output/{attempt}"),
                });
            }
            "CollectBuild" => {
                let passed = s.get("build_failure").is_none() && nth(&scenario.builds, n);
                s["build_passed"] = json!(passed);
                s.as_object_mut().unwrap().remove("build_failure");
            }
            "Heal" => s["attempt"] = json!(s["attempt"].as_u64().unwrap() + 1),
            "Deploy" => s["url"] = json!("http://127.0.0.1/preview/m-1/"),
            "Publish" => s["pr_url"] = json!("http://127.0.0.1/pr/1"),
            "Evidence" => s["evidence_sealed"] = json!(true),
            "Finalize" => s["finalized"] = json!(true),
            other => panic!("unexpected task state {other}"),
        }
        Reply::Value(json!({"ExecutedVersion": "$LATEST", "StatusCode": 200, "Payload": s}))
    })
}

fn payload_of(fake: &Fake, state: &str) -> Value {
    fake.calls().into_iter().rev().find(|c| c.state == state).unwrap().parameters["Payload"].clone()
}

#[test]
fn every_substitution_is_required_and_named() {
    let LoadError::MissingSubstitutions(names) = StateMachine::load(DEFINITION, &HashMap::new()).unwrap_err()
    else {
        panic!("expected missing substitutions");
    };
    let mut expected: Vec<&str> = SUBSTITUTIONS.to_vec();
    expected.push("BuildSecurityGroupId");
    expected.sort_unstable();
    assert_eq!(names, expected);
}

#[test]
fn lambda_steps_follow_the_contract() {
    let definition: Value = serde_json::from_str(DEFINITION).unwrap();
    let transient = json!([
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
        "Gantry.Transient"
    ]);
    let expected = [
        ("Draft", 300, "RecordFailure", "$.failure"),
        ("Policy", 120, "RecordFailure", "$.failure"),
        ("PrepareBuild", 120, "RecordFailure", "$.failure"),
        ("CollectBuild", 120, "RecordFailure", "$.failure"),
        ("Heal", 300, "RecordFailure", "$.failure"),
        ("Deploy", 120, "RecordFailure", "$.failure"),
        ("Publish", 120, "RecordFailure", "$.failure"),
        ("Evidence", 120, "Finalize", "$.evidence_failure"),
        ("Finalize", 120, "FinalizeFailed", "$.finalize_failure"),
    ];
    let lambdas: Vec<&String> = definition["States"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, s)| s["Resource"] == LAMBDA)
        .map(|(name, _)| name)
        .collect();
    assert_eq!(lambdas.len(), expected.len());
    for (name, timeout, catch_next, catch_path) in expected {
        let s = &definition["States"][name];
        assert_eq!(s["Resource"], LAMBDA, "{name}");
        let function = format!("${{{name}FunctionArn}}");
        assert_eq!(s["Parameters"], json!({"FunctionName": function, "Payload.$": "$"}), "{name}");
        assert_eq!(s["OutputPath"], "$.Payload", "{name}");
        assert_eq!(s["TimeoutSeconds"], timeout, "{name}");
        assert_eq!(
            s["Retry"],
            json!([{"ErrorEquals": transient, "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2}]),
            "{name}"
        );
        assert_eq!(
            s["Catch"],
            json!([{"ErrorEquals": ["States.ALL"], "ResultPath": catch_path, "Next": catch_next}]),
            "{name}"
        );
    }
}

// (a)
#[tokio::test]
async fn happy_path_runs_every_step_and_succeeds() {
    let fake = handlers(Scenario::default());
    let out = mission().run(input(true, true), &fake).await.unwrap();
    assert_eq!(
        fake.states(),
        [
            "Draft",
            "Policy",
            "PrepareBuild",
            "Build",
            "CollectBuild",
            "Deploy",
            "Publish",
            "Evidence",
            "Finalize"
        ]
    );
    assert_eq!(out["outcome"], "SUCCESS");
    assert_eq!(out["finalized"], true);
    assert_eq!(out["url"], "http://127.0.0.1/preview/m-1/");
    assert_eq!(out["pr_url"], "http://127.0.0.1/pr/1");
    assert_eq!(out["mission_id"], "m-1");

    let draft = &fake.calls()[0];
    assert_eq!(draft.resource, LAMBDA);
    assert_eq!(
        draft.parameters,
        json!({"FunctionName": "dummy:DraftFunctionArn", "Payload": input(true, true)})
    );
    assert_eq!(payload_of(&fake, "Finalize")["outcome"], "SUCCESS");
}

#[tokio::test]
async fn the_build_task_gets_its_network_and_presigned_urls() {
    let fake = handlers(Scenario::default());
    mission().run(input(false, false), &fake).await.unwrap();
    let build = fake.calls().into_iter().find(|c| c.state == "Build").unwrap();
    assert_eq!(build.resource, "arn:aws:states:::ecs:runTask.sync");
    assert_eq!(
        build.parameters,
        json!({
            "Cluster": "dummy:BuildClusterArn",
            "TaskDefinition": "dummy:BuildTaskDefinitionArn",
            "LaunchType": "FARGATE",
            "NetworkConfiguration": {"AwsvpcConfiguration": {
                "Subnets": ["dummy:BuildSubnetA", "dummy:BuildSubnetB"],
                "SecurityGroups": ["dummy:BuildSecurityGroupId"],
                "AssignPublicIp": "ENABLED"
            }},
            "Overrides": {"ContainerOverrides": [{"Name": "builder", "Environment": [
                {"Name": "GANTRY_BUILD_JOB_URL", "Value": "http://127.0.0.1/job/1"},
                {"Name": "GANTRY_BUILD_REPORT_URL", "Value": "http://127.0.0.1/report/1"},
                {"Name": "GANTRY_BUILD_LOG_URL", "Value": "http://127.0.0.1/log/1"},
                {"Name": "GANTRY_BUILD_OUTPUT_URL", "Value": "http://127.0.0.1/output/1"}
            ]}]}
        })
    );
    // ResultPath null: the ECS answer does not replace the state object.
    let collected = payload_of(&fake, "CollectBuild");
    assert!(collected.get("Tasks").is_none());
    assert_eq!(collected["build_job"]["job_url"], "http://127.0.0.1/job/1");
}

// (b)
#[tokio::test]
async fn a_policy_violation_blocks_without_building() {
    let fake = handlers(Scenario { policy: vec![false], ..Scenario::default() });
    let out = mission().run(input(true, true), &fake).await.unwrap();
    assert_eq!(fake.states(), ["Draft", "Policy", "Evidence", "Finalize"]);
    assert_eq!(out["outcome"], "BLOCKED");
}

// (c)
#[tokio::test]
async fn failed_builds_are_healed_and_each_heal_is_checked_by_policy() {
    let fake = handlers(Scenario { max_heals: 3, builds: vec![false, false, true], ..Scenario::default() });
    let out = mission().run(input(false, false), &fake).await.unwrap();
    let states = fake.states();
    assert_eq!(fake.count("Heal"), 2);
    assert_eq!(fake.count("Build"), 3);
    for (i, state) in states.iter().enumerate() {
        if state == "Heal" {
            assert_eq!(states[i + 1], "Policy", "{states:?}");
        }
    }
    assert_eq!(out["outcome"], "SUCCESS");
    assert_eq!(out["attempt"], 3);
    let last_build = fake.calls().into_iter().rev().find(|c| c.state == "Build").unwrap();
    let environment = &last_build.parameters["Overrides"]["ContainerOverrides"][0]["Environment"];
    assert_eq!(environment[0]["Value"], "http://127.0.0.1/job/3", "each build gets its own job");
}

// (d)
#[tokio::test]
async fn a_build_that_never_passes_gets_exactly_one_plus_max_heals_tries() {
    for max_heals in [0u64, 1, 3] {
        let fake = handlers(Scenario { max_heals, builds: vec![false], ..Scenario::default() });
        let out = mission().run(input(true, true), &fake).await.unwrap();
        assert_eq!(fake.count("Build") as u64, 1 + max_heals, "max_heals {max_heals}");
        assert_eq!(fake.count("Heal") as u64, max_heals);
        assert_eq!(fake.count("Deploy"), 0);
        assert_eq!(out["outcome"], "FAILED");
        assert_eq!(fake.states()[fake.states().len() - 2..], ["Evidence", "Finalize"]);
    }
}

// (e)
#[tokio::test]
async fn a_healed_manifest_that_policy_refuses_is_blocked() {
    let fake = handlers(Scenario { policy: vec![true, false], builds: vec![false], ..Scenario::default() });
    let out = mission().run(input(true, true), &fake).await.unwrap();
    assert_eq!(
        fake.states(),
        [
            "Draft",
            "Policy",
            "PrepareBuild",
            "Build",
            "CollectBuild",
            "Heal",
            "Policy",
            "Evidence",
            "Finalize"
        ]
    );
    assert_eq!(out["outcome"], "BLOCKED");
}

// (e2)
#[tokio::test]
async fn a_repairable_refusal_is_healed_and_gated_again_before_any_build() {
    let fake = handlers(Scenario { policy: vec![false, true], repairable: true, ..Scenario::default() });
    let out = mission().run(input(false, false), &fake).await.unwrap();
    assert_eq!(
        fake.states(),
        [
            "Draft",
            "Policy",
            "Heal",
            "Policy",
            "PrepareBuild",
            "Build",
            "CollectBuild",
            "Evidence",
            "Finalize"
        ]
    );
    assert_eq!(out["outcome"], "SUCCESS");
    assert_eq!(out["attempt"], 2);
}

// (e3)
#[tokio::test]
async fn repairable_refusals_share_the_heal_budget_then_block() {
    for max_heals in [0u64, 2] {
        let fake =
            handlers(Scenario { max_heals, policy: vec![false], repairable: true, ..Scenario::default() });
        let out = mission().run(input(true, true), &fake).await.unwrap();
        assert_eq!(fake.count("Heal") as u64, max_heals, "max_heals {max_heals}");
        assert_eq!(fake.count("Policy") as u64, 1 + max_heals);
        assert_eq!(fake.count("Build"), 0);
        assert_eq!(out["outcome"], "BLOCKED");
    }
}

// (f)
#[tokio::test]
async fn a_step_error_is_recorded_and_the_mission_still_finalizes() {
    let special = |state: &str, _| (state == "PrepareBuild").then(|| fail("Gantry.Storage", "disk full"));
    let fake = handlers(Scenario { special: Box::new(special), ..Scenario::default() });
    let out = mission().run(input(true, true), &fake).await.unwrap();
    assert_eq!(fake.states(), ["Draft", "Policy", "PrepareBuild", "Evidence", "Finalize"]);
    let failure = json!({"Error": "Gantry.Storage", "Cause": "disk full"});
    assert_eq!(payload_of(&fake, "Evidence")["failure"], failure);
    assert_eq!(payload_of(&fake, "Finalize")["outcome"], "FAILED");
    assert_eq!(out["failure"], failure);
    assert_eq!(out["outcome"], "FAILED");
}

// (g)
#[tokio::test(start_paused = true)]
async fn transient_errors_are_retried_with_backoff() {
    let special =
        |state: &str, n| (state == "Draft" && n < 2).then(|| fail("Lambda.ServiceException", "503"));
    let fake = handlers(Scenario { special: Box::new(special), ..Scenario::default() });
    let out = mission().run(input(false, false), &fake).await.unwrap();
    assert_eq!(fake.count("Draft"), 3);
    assert_eq!(out["outcome"], "SUCCESS");
    let at: Vec<_> = fake.calls().iter().filter(|c| c.state == "Draft").map(|c| c.at).collect();
    assert_eq!((at[1] - at[0], at[2] - at[1]), (Duration::from_secs(2), Duration::from_secs(4)));
}

#[tokio::test(start_paused = true)]
async fn transient_errors_past_the_retries_are_recorded_as_failures() {
    let special = |state: &str, _| (state == "Deploy").then(|| fail("Gantry.Transient", "vercel 502"));
    let fake = handlers(Scenario { special: Box::new(special), ..Scenario::default() });
    let out = mission().run(input(true, true), &fake).await.unwrap();
    assert_eq!(fake.count("Deploy"), 4);
    assert_eq!(fake.count("Publish"), 0);
    assert_eq!(out["failure"]["Error"], "Gantry.Transient");
    assert_eq!(out["outcome"], "FAILED");
}

// (h)
#[tokio::test]
async fn deploy_and_publish_run_only_when_asked() {
    for (deploy, publish) in [(false, false), (true, false), (false, true)] {
        let fake = handlers(Scenario::default());
        let out = mission().run(input(deploy, publish), &fake).await.unwrap();
        assert_eq!(fake.count("Deploy"), usize::from(deploy), "deploy {deploy}");
        assert_eq!(fake.count("Publish"), usize::from(publish), "publish {publish}");
        assert_eq!(out["outcome"], "SUCCESS");
    }
}

// (i)
#[tokio::test(start_paused = true)]
async fn a_build_timeout_still_reaches_collect_build() {
    let special = |state: &str, _| (state == "Build").then_some(Reply::Hang);
    let fake = handlers(Scenario { max_heals: 0, special: Box::new(special), ..Scenario::default() });
    let started = tokio::time::Instant::now();
    let out = mission().run(input(true, true), &fake).await.unwrap();
    assert_eq!(started.elapsed(), Duration::from_secs(420));
    assert_eq!(payload_of(&fake, "CollectBuild")["build_failure"]["Error"], "States.Timeout");
    assert_eq!(fake.count("Build"), 1, "a timeout is not an ECS error and is not retried");
    assert_eq!(out["outcome"], "FAILED");
    assert_eq!(fake.abandoned.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn ecs_errors_are_retried_twice_five_seconds_apart() {
    let special =
        |state: &str, n| (state == "Build" && n < 2).then(|| fail("ECS.AmazonECSException", "capacity"));
    let fake = handlers(Scenario { special: Box::new(special), ..Scenario::default() });
    let out = mission().run(input(false, false), &fake).await.unwrap();
    assert_eq!(fake.count("Build"), 3);
    let at: Vec<_> = fake.calls().iter().filter(|c| c.state == "Build").map(|c| c.at).collect();
    assert_eq!(at[1] - at[0], Duration::from_secs(5));
    assert_eq!(out["outcome"], "SUCCESS");

    let always = |state: &str, _| (state == "Build").then(|| fail("ECS.AmazonECSException", "capacity"));
    let fake = handlers(Scenario { max_heals: 0, special: Box::new(always), ..Scenario::default() });
    mission().run(input(false, false), &fake).await.unwrap();
    assert_eq!(fake.count("Build"), 3);
    assert_eq!(payload_of(&fake, "CollectBuild")["build_failure"]["Error"], "ECS.AmazonECSException");
}

// (j)
#[tokio::test]
async fn run_from_record_failure_runs_evidence_and_finalize() {
    let fake = handlers(Scenario::default());
    let state = json!({"mission_id": "m-1", "deploy": true, "publish": true,
                       "failure": {"Error": "Gantry.Interrupted", "Cause": "the server restarted"}});
    let out = mission().run_from("RecordFailure", state, &fake).await.unwrap();
    assert_eq!(fake.states(), ["Evidence", "Finalize"]);
    assert_eq!(out["outcome"], "FAILED");
    assert_eq!(out["failure"]["Error"], "Gantry.Interrupted");
}

#[tokio::test]
async fn an_evidence_failure_still_finalizes() {
    let special = |state: &str, _| (state == "Evidence").then(|| fail("Gantry.Signing", "no key"));
    let fake = handlers(Scenario { special: Box::new(special), ..Scenario::default() });
    let out = mission().run(input(false, false), &fake).await.unwrap();
    assert_eq!(fake.count("Finalize"), 1);
    assert_eq!(payload_of(&fake, "Finalize")["evidence_failure"]["Error"], "Gantry.Signing");
    assert_eq!(out["outcome"], "SUCCESS");
}

#[tokio::test]
async fn a_finalize_failure_fails_the_execution() {
    let special = |state: &str, _| (state == "Finalize").then(|| fail("Gantry.Store", "table gone"));
    let fake = handlers(Scenario { special: Box::new(special), ..Scenario::default() });
    let failure = mission().run(input(false, false), &fake).await.unwrap_err();
    assert_eq!(failure.error, "Gantry.FinalizeFailed");
    assert_eq!(failure.state, "FinalizeFailed");
}

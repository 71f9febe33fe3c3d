//! The Build state's RunTask request, as Step Functions would send it: the real
//! `statemachine/mission.asl.json`, its Parameters rendered by gantry-asl's path and template
//! evaluation with a sample state, must be exactly the request the template's task definition
//! expects (the `builder` container, the three presigned-URL variables, Fargate on awsvpc).

mod support;

use std::collections::HashMap;
use std::sync::Mutex;

use gantry_asl::{async_trait, StateMachine, TaskFailure, TaskInvoker};
use serde_json::{json, Value};

const DEFINITION: &str = include_str!("../../../statemachine/mission.asl.json");
const ECS_RUN_TASK_SYNC: &str = "arn:aws:states:::ecs:runTask.sync";
const CLUSTER: &str = "arn:aws:ecs:us-east-1:123456789012:cluster/gantry-builds";
const TASK_DEFINITION: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/gantry-builder:7";

fn substitutions() -> HashMap<String, String> {
    let mut map: HashMap<String, String> = [
        "DraftFunctionArn",
        "PolicyFunctionArn",
        "PrepareBuildFunctionArn",
        "CollectBuildFunctionArn",
        "HealFunctionArn",
        "DeployFunctionArn",
        "PublishFunctionArn",
        "EvidenceFunctionArn",
        "FinalizeFunctionArn",
    ]
    .into_iter()
    .map(|name| (name.to_owned(), format!("arn:aws:lambda:us-east-1:123456789012:function:{name}")))
    .collect();
    map.insert("BuildClusterArn".into(), CLUSTER.into());
    map.insert("BuildTaskDefinitionArn".into(), TASK_DEFINITION.into());
    map.insert("BuildSubnetA".into(), "subnet-aaaa".into());
    map.insert("BuildSubnetB".into(), "subnet-bbbb".into());
    map.insert("BuildSecurityGroupId".into(), "sg-cccc".into());
    map
}

/// Records each Task's rendered parameters; every Lambda step fails, which ends the run quickly
/// through the definition's own Catch paths.
#[derive(Default)]
struct Recorder {
    calls: Mutex<Vec<(String, String, Value)>>,
}

#[async_trait]
impl TaskInvoker for Recorder {
    async fn invoke(&self, state: &str, resource: &str, parameters: Value) -> Result<Value, TaskFailure> {
        self.calls.lock().expect("recorder lock").push((state.into(), resource.into(), parameters));
        if resource == ECS_RUN_TASK_SYNC {
            return Ok(json!({"LastStatus": "STOPPED"}));
        }
        Err(TaskFailure::new("Gantry.StepFailed", "recorded"))
    }
}

fn sample_state() -> Value {
    json!({
        "mission_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        "deploy": true,
        "publish": false,
        "dispatch": 0,
        "attempt": 2,
        "max_heals": 3,
        "policy_allowed": true,
        "build_job": {
            "job_url": "https://artifacts.s3.amazonaws.com/missions/m/build-2/job.json?X-Amz-Signature=j",
            "report_url": "https://artifacts.s3.amazonaws.com/missions/m/build-2/report.json?X-Amz-Signature=r",
            "log_url": "https://artifacts.s3.amazonaws.com/missions/m/build-2/log.txt?X-Amz-Signature=l",
            "output_url": "https://artifacts.s3.amazonaws.com/missions/m/build-2/output.json?X-Amz-Signature=o"
        }
    })
}

async fn build_request() -> Value {
    let machine = StateMachine::load(DEFINITION, &substitutions()).expect("mission.asl.json loads");
    let recorder = Recorder::default();
    // The run ends in FinalizeFailed, since every Lambda step fails; only the request matters.
    let _ = machine.run_from("Build", sample_state(), &recorder).await;
    let calls = recorder.calls.into_inner().expect("recorder lock");
    let (state, resource, parameters) = calls.first().cloned().expect("the Build state ran a task");
    assert_eq!((state.as_str(), resource.as_str()), ("Build", ECS_RUN_TASK_SYNC));
    parameters
}

#[tokio::test]
async fn the_build_state_renders_exactly_the_run_task_request() {
    let state = sample_state();
    let expected = json!({
        "Cluster": CLUSTER,
        "TaskDefinition": TASK_DEFINITION,
        "LaunchType": "FARGATE",
        "NetworkConfiguration": {
            "AwsvpcConfiguration": {
                "Subnets": ["subnet-aaaa", "subnet-bbbb"],
                "SecurityGroups": ["sg-cccc"],
                "AssignPublicIp": "ENABLED"
            }
        },
        "Overrides": {
            "ContainerOverrides": [{
                "Name": "builder",
                "Environment": [
                    {"Name": "GANTRY_BUILD_JOB_URL", "Value": state["build_job"]["job_url"]},
                    {"Name": "GANTRY_BUILD_REPORT_URL", "Value": state["build_job"]["report_url"]},
                    {"Name": "GANTRY_BUILD_LOG_URL", "Value": state["build_job"]["log_url"]},
                    {"Name": "GANTRY_BUILD_OUTPUT_URL", "Value": state["build_job"]["output_url"]}
                ]
            }]
        }
    });
    assert_eq!(build_request().await, expected);
}

#[tokio::test]
async fn the_request_fits_the_templates_task_definition() {
    let request = build_request().await;
    let task = support::resource_properties("BuildTaskDefinition");
    let containers: Vec<&str> = task["ContainerDefinitions"]
        .as_sequence()
        .expect("ContainerDefinitions")
        .iter()
        .filter_map(|c| c["Name"].as_str())
        .collect();
    let overridden =
        request["Overrides"]["ContainerOverrides"][0]["Name"].as_str().expect("a container name");
    assert_eq!(containers, [overridden], "the override must name the task definition's only container");
    assert_eq!(task["NetworkMode"].as_str(), Some("awsvpc"));
    assert!(request["NetworkConfiguration"]["AwsvpcConfiguration"].is_object());
    let compatibilities: Vec<&str> = task["RequiresCompatibilities"]
        .as_sequence()
        .expect("RequiresCompatibilities")
        .iter()
        .filter_map(|c| c.as_str())
        .collect();
    assert!(
        compatibilities.contains(&request["LaunchType"].as_str().expect("LaunchType")),
        "{compatibilities:?}"
    );
    // The task definition itself must not pin the per-task variables: they come from the override.
    let pinned: Vec<&str> = task["ContainerDefinitions"][0]["Environment"]
        .as_sequence()
        .map(|vars| vars.iter().filter_map(|v| v["Name"].as_str()).collect())
        .unwrap_or_default();
    assert!(!pinned.iter().any(|name| name.starts_with("GANTRY_BUILD_")), "{pinned:?}");
}

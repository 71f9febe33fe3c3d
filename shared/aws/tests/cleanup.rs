//! The cleanup run over the AWS adapters against moto: DynamoDB missions expire and reconcile
//! with their Step Functions executions, an abandoned upload leaves the artifacts bucket, the
//! evidence bucket is untouched, an ECS build task can be stopped, and a second run does nothing.
//!
//! moto cannot backdate S3 objects, so the run is told it is two days later: every upload is then
//! older than the one-day grace. moto's ECS tasks have no timestamps at all, so the overdue-build
//! rule leaves them alone (as it must a task of unknown age); the stop itself is exercised directly.
//! The AWS shape has no preview dirs or work dirs (Vercel and Fargate keep none here), so that
//! port is a stand-in; whether an upload is attached is the DynamoDB store's answer.

mod support;

use std::sync::Arc;

use async_trait::async_trait;
use aws_config::SdkConfig;
use chrono::{Duration, Utc};

use gantry_aws::ecs::EcsBuildTasks;
use gantry_aws::{DynamoStore, S3ObjectStore, StepFunctionsOrchestrator};
use gantry_domain::consultation::Consultation;
use gantry_domain::{Mission, MissionId, MissionStatus, Subject};
use gantry_pipeline::{run_cleanup, CleanupConfig, CleanupDeps, CleanupSummary};
use gantry_ports::{
    object_keys, MissionFiles, MissionStore, ObjectStore, Orchestrator, PortResult, PrunedFiles, RunningBuild,
};

const ROLE: &str = "arn:aws:iam::123456789012:role/gantry-state-machine";
/// Executions of this definition stay RUNNING in moto (its interpreter is off in this binary).
const WAITING: &str = r#"{"StartAt":"Wait","States":{"Wait":{"Type":"Wait","Seconds":3600,"End":true}}}"#;

/// The upload the consultation awaiting input refers to.
const ATTACHED: &str = "uploads/0123456789abcdef/0002.png";

/// The AWS shape keeps no preview or work dirs.
struct NoFiles;

#[async_trait]
impl MissionFiles for NoFiles {
    async fn prune(&self, _mission: &MissionId) -> PortResult<PrunedFiles> {
        Ok(PrunedFiles::default())
    }
}

async fn state_machine(config: &SdkConfig) -> String {
    aws_sdk_sfn::Client::new(config)
        .create_state_machine()
        .name(support::unique("gantry-cleanup"))
        .definition(WAITING)
        .role_arn(ROLE)
        .send()
        .await
        .expect("create the state machine")
        .state_machine_arn()
        .to_owned()
}

/// The first `<{tag}>` of moto's default VPC answer to an EC2 query `action` (the crate has no
/// EC2 client; moto routes by the credential scope and does not check the signature).
async fn default_vpc_id(action: &str, tag: &str) -> String {
    let scope = format!("Credential={}/20260101/{}/ec2/aws4_request", support::ACCESS_KEY, support::REGION);
    let body = reqwest::Client::new()
        .post(support::moto().endpoint())
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", format!("AWS4-HMAC-SHA256 {scope}, SignedHeaders=host, Signature=0"))
        .body(format!("Action={action}&Version=2016-11-15"))
        .send()
        .await
        .expect("reach moto's EC2")
        .text()
        .await
        .expect("an EC2 answer");
    let open = format!("<{tag}>");
    let start = body.find(&open).map(|i| i + open.len()).expect("an id in the answer");
    body[start..].split('<').next().expect("the id").to_owned()
}

/// A running build task in `cluster`, as the Build state starts one for `mission`'s attempt 1.
async fn run_build_task(config: &SdkConfig, cluster: &str, mission: &MissionId) -> String {
    use aws_sdk_ecs::types::{
        AwsVpcConfiguration, Compatibility, ContainerDefinition, ContainerOverride, KeyValuePair, LaunchType,
        NetworkConfiguration, NetworkMode, TaskOverride,
    };
    let ecs = aws_sdk_ecs::Client::new(config);
    ecs.create_cluster().cluster_name(cluster).send().await.expect("create the cluster");
    let definition = ecs
        .register_task_definition()
        .family(support::unique("gantry-builder"))
        .requires_compatibilities(Compatibility::Fargate)
        .network_mode(NetworkMode::Awsvpc)
        .cpu("256")
        .memory("512")
        .container_definitions(
            ContainerDefinition::builder()
                .name("builder")
                .image("gantry-builder")
                .cpu(256)
                .memory(512)
                .build(),
        )
        .send()
        .await
        .expect("register the task definition");
    let definition_arn = definition.task_definition().and_then(|d| d.task_definition_arn()).expect("an ARN");
    let job_url = format!(
        "https://artifacts.s3.us-east-1.amazonaws.com/missions/{mission}/build-1/job.json?X-Amz-Signature=abc"
    );
    let run = ecs
        .run_task()
        .cluster(cluster)
        .task_definition(definition_arn)
        .launch_type(LaunchType::Fargate)
        .network_configuration(
            NetworkConfiguration::builder()
                .awsvpc_configuration(
                    AwsVpcConfiguration::builder()
                        .subnets(default_vpc_id("DescribeSubnets", "subnetId").await)
                        .security_groups(default_vpc_id("DescribeSecurityGroups", "groupId").await)
                        .build()
                        .expect("awsvpc"),
                )
                .build(),
        )
        .overrides(
            TaskOverride::builder()
                .container_overrides(
                    ContainerOverride::builder()
                        .name("builder")
                        .environment(
                            KeyValuePair::builder().name("GANTRY_BUILD_JOB_URL").value(job_url).build(),
                        )
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("run the build task");
    run.tasks().first().and_then(|t| t.task_arn()).expect("a task").to_owned()
}

fn mission(status: MissionStatus, updated: chrono::DateTime<Utc>) -> Mission {
    let mut m = Mission::new(Subject::new("owner"), "a todo app", status, updated - Duration::minutes(5));
    m.updated_at = updated;
    m
}

#[tokio::test]
async fn cleanup_over_dynamodb_s3_step_functions_and_ecs_is_complete_and_idempotent() {
    let config = support::moto().sdk_config();
    let (table, artifacts, evidence_bucket, cluster) = (
        support::unique("gantry-missions"),
        support::unique("gantry-artifacts"),
        support::unique("gantry-evidence"),
        support::unique("gantry-builds"),
    );
    support::create_mission_table(&config, &table).await;
    support::create_artifact_bucket(&config, &artifacts).await;
    support::create_evidence_bucket(&config, &evidence_bucket).await;
    let store = Arc::new(DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), table));
    let objects = Arc::new(S3ObjectStore::new(aws_sdk_s3::Client::new(&config), artifacts));
    let evidence = S3ObjectStore::new(aws_sdk_s3::Client::new(&config), evidence_bucket);
    let orchestrator = Arc::new(StepFunctionsOrchestrator::new(
        aws_sdk_sfn::Client::new(&config),
        state_machine(&config).await,
        store.clone(),
    ));

    let real_now = Utc::now();
    let now = real_now + Duration::days(2);
    let idle = mission(MissionStatus::AwaitingInput, real_now);
    let mut active = mission(MissionStatus::AwaitingInput, now - Duration::hours(1));
    let mut with_image = Consultation::new();
    with_image.brief.design_image = Some(ATTACHED.to_owned());
    active.consultation = Some(with_image);
    let aborted = mission(MissionStatus::Building, real_now);
    let lost = mission(MissionStatus::Validating, real_now);
    let building = mission(MissionStatus::Building, real_now);
    for m in [&idle, &active, &aborted, &lost, &building] {
        store.create(m, &[]).await.expect("store a mission");
    }
    for m in [&aborted, &building] {
        assert!(orchestrator.start(m).await.expect("start an execution").started);
    }
    orchestrator.stop(&aborted.id, "stopped behind the store's back").await.expect("stop the execution");
    let task = run_build_task(&config, &cluster, &building.id).await;

    let png = b"\x89PNG\r\n\x1a\nimage".to_vec();
    let (abandoned, attached) = ("uploads/0123456789abcdef/0001.png", ATTACHED);
    for key in [abandoned, attached] {
        objects.put(key, &png, "image/png").await.expect("upload");
    }
    let working = format!("missions/{}/manifest-1.json", building.id);
    objects.put(&working, b"{}", "application/json").await.expect("a working object");
    let sealed = [
        (object_keys::evidence::pack(&building.id, 0), br#"{"records":[]}"#.to_vec()),
        (object_keys::evidence::artifact(&building.id, "design-reference.png"), png.clone()),
    ];
    for (key, bytes) in &sealed {
        evidence.put(key, bytes, "application/octet-stream").await.expect("seal evidence");
    }

    let deps = CleanupDeps {
        store: store.clone(),
        images: store.clone(),
        objects: objects.clone(),
        orchestrator: orchestrator.clone(),
        builds: Arc::new(EcsBuildTasks::new(aws_sdk_ecs::Client::new(&config), cluster.clone())),
        files: Arc::new(NoFiles),
    };
    let cleanup = CleanupConfig::default();
    let summary = run_cleanup(&deps, &cleanup, now).await;
    assert_eq!(summary.errors, Vec::<String>::new());
    assert_eq!(summary.expired_consultations, 1, "{summary:#?}");
    assert_eq!(summary.reconciled_missions, 2, "{summary:#?}");
    // moto's tasks carry no createdAt/startedAt, and a task of unknown age is never stopped
    // (stopping a fresh build would fail a healthy mission): the stop itself is checked below.
    assert_eq!(summary.stopped_builds, 0, "{summary:#?}");
    assert_eq!(summary.deleted_uploads, 1, "{summary:#?}");
    assert_eq!(summary.total(), 4);

    let status = |id: MissionId| {
        let store = store.clone();
        async move { store.get(&id).await.expect("get").expect("exists") }
    };
    assert_eq!(status(idle.id.clone()).await.status, MissionStatus::Expired);
    assert_eq!(status(active.id.clone()).await.status, MissionStatus::AwaitingInput);
    let a = status(aborted.id.clone()).await;
    assert_eq!(
        (a.status, a.error.as_deref()),
        (MissionStatus::Failed, Some("the pipeline was aborted while BUILDING"))
    );
    let l = status(lost.id.clone()).await;
    assert_eq!(l.status, MissionStatus::Failed);
    assert!(l.error.as_deref().unwrap_or_default().contains("no pipeline execution"), "{:?}", l.error);
    assert_eq!(status(building.id.clone()).await.status, MissionStatus::Building, "its execution still runs");
    let overdue = RunningBuild {
        task_id: task.clone(),
        mission: building.id.clone(),
        attempt: 1,
        started_at: real_now,
    };
    // moto answers StopTask with lastStatus STOPPED at once (ECS would still say RUNNING), so
    // only the effect is asserted: the task no longer runs.
    deps.builds.stop_build(&overdue, "ran past its deadline").await.expect("stop the task");
    let running = aws_sdk_ecs::Client::new(&config)
        .list_tasks()
        .cluster(&cluster)
        .desired_status(aws_sdk_ecs::types::DesiredStatus::Running)
        .send()
        .await
        .expect("list tasks");
    assert!(!running.task_arns().contains(&task), "the stopped task still runs");

    assert_eq!(objects.get(abandoned).await.expect("get"), None);
    assert_eq!(objects.get(attached).await.expect("get"), Some(png));
    assert!(objects.get(&working).await.expect("get").is_some(), "only uploads are candidates");
    for (key, bytes) in &sealed {
        assert_eq!(evidence.get(key).await.expect("get").as_ref(), Some(bytes), "{key} must survive");
    }

    let again = run_cleanup(&deps, &cleanup, now).await;
    assert_eq!(again, CleanupSummary::default(), "a second run must do nothing");
}

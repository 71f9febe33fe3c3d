//! Ten concurrent "proceed" requests through the real router over DynamoDB and Step Functions
//! (moto) start exactly one execution: consent is a conditional write, and the execution is
//! named by the mission id.

#[path = "../../../shared/aws/tests/support/mod.rs"]
mod support;

use std::path::PathBuf;

use serde_json::{json, Value};

use gantry_aws_shape::config::Resources;
use gantry_aws_shape::ApiLambdaConfig;

const PASSWORD: &str = "a password for the race";
const ROLE: &str = "arn:aws:iam::123456789012:role/gantry-state-machine";
/// Executions of this definition stay RUNNING (moto's interpreter is off in this binary).
const WAITING: &str = r#"{"StartAt":"Wait","States":{"Wait":{"Type":"Wait","Seconds":3600,"End":true}}}"#;

async fn post(client: &reqwest::Client, url: &str, token: Option<&str>, body: Value) -> (u16, Value) {
    let mut request = client.post(url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("reach the router");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn ten_concurrent_proceeds_over_dynamodb_start_one_execution() {
    let config = support::moto().sdk_config();
    let resources = Resources {
        table: support::unique("missions"),
        artifact_bucket: support::unique("artifacts"),
        evidence_bucket: support::unique("evidence"),
    };
    support::create_mission_table(&config, &resources.table).await;
    support::create_artifact_bucket(&config, &resources.artifact_bucket).await;
    support::create_evidence_bucket(&config, &resources.evidence_bucket).await;
    let sfn = aws_sdk_sfn::Client::new(&config);
    let machine = sfn
        .create_state_machine()
        .name(support::unique("gantry"))
        .definition(WAITING)
        .role_arn(ROLE)
        .send()
        .await
        .expect("create the state machine");
    let api = ApiLambdaConfig {
        resources,
        state_machine_arn: machine.state_machine_arn().to_owned(),
        // Never used: this test reads no evidence.
        signing_key_id: "alias/gantry-evidence".into(),
        secret_arn: None,
        public_url: None,
        policy: Some(PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../policy.yaml"))),
    };
    let hash = gantry_api::auth::hash_password(PASSWORD).expect("hash");
    let state = gantry_aws_shape::wiring::api_state_with(&config, &api, hash, vec![7; 32]).expect("wire");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("listen");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, gantry_api::router(state)).await });

    let client = reqwest::Client::new();
    let (code, auth) =
        post(&client, &format!("{base}/gantry/auth"), None, json!({"password": PASSWORD})).await;
    assert_eq!(code, 200, "{auth}");
    let token = auth["token"].as_str().expect("a token").to_owned();
    let consult = format!("{base}/gantry/consult");
    let (code, first) =
        post(&client, &consult, Some(&token), json!({"message": "a kanban board for my team"})).await;
    assert_eq!(
        (code, first["consultation"]["status"].as_str()),
        (200, Some("NEEDS_CONFIRMATION")),
        "{first}"
    );
    let id = first["mission_id"].as_str().expect("an id").to_owned();

    let racers = (0..10).map(|_| {
        let (client, consult, token, id) = (client.clone(), consult.clone(), token.clone(), id.clone());
        tokio::spawn(async move {
            post(&client, &consult, Some(&token), json!({"message": "go ahead", "mission_id": id})).await.0
        })
    });
    let mut codes = Vec::new();
    for racer in racers.collect::<Vec<_>>() {
        codes.push(racer.await.expect("a racer"));
    }
    assert_eq!(codes.iter().filter(|c| **c == 202).count(), 1, "{codes:?}");
    assert!(codes.iter().all(|c| *c == 202 || *c == 200 || *c == 409), "{codes:?}");

    let executions = sfn
        .list_executions()
        .state_machine_arn(machine.state_machine_arn())
        .send()
        .await
        .expect("list executions");
    let names: Vec<&str> = executions.executions().iter().map(|e| e.name()).collect();
    assert_eq!(names, [id.as_str()]);
}

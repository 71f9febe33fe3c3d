//! The model brain over Bedrock Converse, through the AWS SDK, against a local fake that
//! checks the SigV4 header and the Converse request shape and answers as Bedrock does.

mod support;

use std::sync::Arc;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_sdk_bedrockruntime::config::Credentials;
use chrono::Utc;
use serde_json::Value;

use gantry_brain::model::bedrock::BedrockTransport;
use gantry_brain::model::transport::OutputMode;
use gantry_brain::model::{ModelBrain, ModelSettings};
use gantry_domain::policy::Policy;
use gantry_domain::{Role, Turn};
use gantry_ports::{Brain, DesignImage, ImageFormat, PortError};

use support::{answer, chores_brief, consultation, page_manifest, Fake, Flavour, Scripted, PNG};

const MODEL: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";

async fn brain(mode: OutputMode) -> (Fake, ModelBrain) {
    let fake = Fake::start(Flavour::Bedrock, None).await;
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDFAKEFAKEFAKE", "fake-secret", None, None, "test"))
        .endpoint_url(&fake.url)
        .load()
        .await;
    let settings = ModelSettings {
        mode,
        backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(50),
        call_timeout: Duration::from_secs(10),
        ..ModelSettings::default()
    };
    let transport = BedrockTransport::new(&sdk, MODEL);
    (fake, ModelBrain::new(Arc::new(transport), &Policy::default_policy().unwrap(), settings))
}

#[tokio::test]
async fn a_draft_uses_native_json_schema_output_a_cache_point_and_the_image_block() {
    let (fake, brain) = brain(OutputMode::Native).await;
    fake.script([Scripted::Answer {
        value: page_manifest("fixed"),
        input: 900,
        output: 2000,
        cache_read: 3000,
    }]);
    let image = DesignImage { format: ImageFormat::Png, bytes: PNG.to_vec() };
    let draft = brain.draft(&chores_brief(), Some(&image)).await.unwrap();

    assert_eq!(draft.model_id, MODEL);
    assert_eq!(draft.manifest.project_name, "chores");
    assert_eq!((draft.usage.input, draft.usage.output, draft.usage.cache_read), (900, 2000, 3000));
    assert_eq!(draft.calls[0].stop_reason, "end_turn");
    // Sonnet 4.5 prices from the built-in table are not applied here: these settings have none.
    assert_eq!(draft.usage.cost_usd, 0.0);

    let sent = &fake.requests()[0];
    assert_eq!(sent.path, "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse");
    let format = &sent.body["outputConfig"]["textFormat"];
    assert_eq!(format["type"], "json_schema");
    let schema: Value =
        serde_json::from_str(format["structure"]["jsonSchema"]["schema"].as_str().unwrap()).unwrap();
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(format["structure"]["jsonSchema"]["name"], "gantry_manifest");
    assert!(sent.body.get("toolConfig").is_none());
    let system = sent.body["system"].as_array().unwrap();
    assert!(system[0]["text"].as_str().unwrap().contains("policy gate"));
    assert_eq!(system[1]["cachePoint"]["type"], "default");
    let content = sent.body["messages"][0]["content"].as_array().unwrap();
    assert_eq!(sent.body["messages"][0]["role"], "user");
    assert_eq!(content[0]["image"]["format"], "png");
    use base64::Engine as _;
    assert_eq!(content[0]["image"]["source"]["bytes"], base64::engine::general_purpose::STANDARD.encode(PNG));
    assert!(sent.body["inferenceConfig"]["maxTokens"].as_u64().unwrap() >= 1000);
}

#[tokio::test]
async fn a_model_without_structured_output_falls_back_to_a_strict_forced_tool() {
    let (fake, brain) = brain(OutputMode::Native).await;
    fake.script([
        Scripted::RejectNative {
            message: "This model doesn't support the outputConfig.textFormat field. Remove it and try again."
                .into(),
        },
        answer(consultation("proposal", "A chores page. Build it?", &["list chores"])),
    ]);
    let turn = Turn { role: Role::User, content: "a chores page".into(), at: Utc::now() };
    let reply = brain.consult(None, &[turn], None).await.unwrap();
    assert!(reply.consultation.awaits_confirmation());
    assert_eq!(brain.mode(), OutputMode::Tool);
    assert_eq!(reply.calls.len(), 1);
    assert_eq!(reply.calls[0].stop_reason, "tool_use");

    let requests = fake.requests();
    let tool = &requests[1].body["toolConfig"];
    assert!(requests[1].body.get("outputConfig").is_none());
    assert_eq!(tool["tools"][0]["toolSpec"]["name"], "consultation_turn");
    assert_eq!(tool["tools"][0]["toolSpec"]["strict"], true);
    assert_eq!(tool["tools"][0]["toolSpec"]["inputSchema"]["json"]["type"], "object");
    assert_eq!(tool["tools"][1]["cachePoint"]["type"], "default");
    assert_eq!(tool["toolChoice"]["tool"]["name"], "consultation_turn");
}

#[tokio::test]
async fn throttling_and_model_errors_are_retried_with_backoff() {
    let (fake, brain) = brain(OutputMode::Tool).await;
    fake.script([
        Scripted::Error {
            status: 429,
            kind: "ThrottlingException",
            message: "Too many requests, please wait before trying again.".into(),
            retry_after: None,
        },
        Scripted::Error {
            status: 424,
            kind: "ModelErrorException",
            message: "The model failed to process the request".into(),
            retry_after: None,
        },
        answer(page_manifest("fixed")),
    ]);
    brain.draft(&chores_brief(), None).await.unwrap();
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn a_validation_error_that_is_not_about_the_output_mode_fails_without_retrying() {
    let (fake, brain) = brain(OutputMode::Native).await;
    fake.script([Scripted::Error {
        status: 400,
        kind: "ValidationException",
        message: "The provided model identifier is invalid.".into(),
        retry_after: None,
    }]);
    let error = brain.draft(&chores_brief(), None).await.unwrap_err();
    assert!(
        matches!(&error, PortError::Failed(m) if m.contains("ValidationException") && m.contains("identifier")),
        "{error:?}"
    );
    assert_eq!(fake.requests().len(), 1);
    assert_eq!(brain.mode(), OutputMode::Native);
}

#[tokio::test]
async fn a_truncated_tool_use_is_repaired_once() {
    let (fake, brain) = brain(OutputMode::Native).await;
    fake.script([Scripted::Truncated("{\"notes\":\"".into()), answer(page_manifest("fixed"))]);
    let draft = brain.draft(&chores_brief(), None).await.unwrap();
    assert_eq!(
        draft.calls.iter().map(|c| c.stop_reason.as_str()).collect::<Vec<_>>(),
        ["max_tokens", "end_turn"]
    );
    let repair = fake.requests()[1].body["messages"][0]["content"].to_string();
    assert!(repair.contains("cut short (stop reason `max_tokens`)"), "{repair}");
}

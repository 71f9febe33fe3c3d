//! The model brain over an OpenAI-compatible server (a local fake speaking the real wire format).

mod support;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::{json, Value};

use gantry_brain::model::openai::OpenAiTransport;
use gantry_brain::model::transport::OutputMode;
use gantry_brain::model::{ModelBrain, ModelSettings, Prices};
use gantry_domain::consultation::ConsultationStatus;
use gantry_domain::policy::Policy;
use gantry_domain::{Role, Turn};
use gantry_ports::{Brain, DesignImage, ImageFormat, PortError};

use support::{answer, chores_brief, consultation, page_manifest, Fake, Flavour, Scripted, PNG};

const KEY: &str = "sk-test-0123456789abcdef0123456789abcdef";

fn settings(mode: OutputMode) -> ModelSettings {
    ModelSettings {
        mode,
        backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(50),
        call_timeout: Duration::from_secs(10),
        prices: Prices { input: 2.0, output: 10.0, cache_read: 0.5, cache_write: 0.0 },
        ..ModelSettings::default()
    }
}

async fn brain(mode: OutputMode) -> (Fake, ModelBrain) {
    let fake = Fake::start(Flavour::OpenAi, Some(KEY)).await;
    let transport =
        OpenAiTransport::new(&fake.url, "qwen2.5-coder", Some(KEY.into()), Duration::from_secs(10)).unwrap();
    let brain = ModelBrain::new(Arc::new(transport), &Policy::default_policy().unwrap(), settings(mode));
    (fake, brain)
}

fn user(text: &str) -> Turn {
    Turn { role: Role::User, content: text.into(), at: Utc::now() }
}

#[tokio::test]
async fn a_consultation_turn_sends_the_image_in_the_user_turn_with_native_output() {
    let (fake, brain) = brain(OutputMode::Native).await;
    fake.script([Scripted::Answer {
        value: consultation("proposal", "A chores page. Shall I build it?", &["list chores"]),
        input: 1200,
        output: 300,
        cache_read: 800,
    }]);
    let image = DesignImage { format: ImageFormat::Png, bytes: PNG.to_vec() };
    let reply = brain.consult(None, &[user("a chores page like this")], Some(&image)).await.unwrap();

    assert_eq!(reply.consultation.status, ConsultationStatus::NeedsConfirmation);
    assert_eq!(reply.consultation.features, vec!["list chores"]);
    assert_eq!(
        (reply.usage.input, reply.usage.output, reply.usage.cache_read, reply.usage.calls),
        (1200, 300, 800, 1)
    );
    let expected_cost = (1200.0 * 2.0 + 300.0 * 10.0 + 800.0 * 0.5) / 1e6;
    assert!((reply.usage.cost_usd - expected_cost).abs() < 1e-12);
    assert_eq!(reply.calls[0].stop_reason, "stop");

    let sent = &fake.requests()[0];
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(sent.headers["authorization"], format!("Bearer {KEY}").as_str());
    assert_eq!(sent.body["model"], "qwen2.5-coder");
    assert_eq!(sent.body["response_format"]["type"], "json_schema");
    assert_eq!(sent.body["response_format"]["json_schema"]["strict"], true);
    assert!(sent.body.get("tools").is_none());
    let messages = sent.body["messages"].as_array().unwrap();
    assert_eq!(messages[0]["role"], "system");
    assert!(
        !messages[0]["content"].as_str().unwrap().contains("chores page"),
        "user text stays out of the system prompt"
    );
    let parts = messages[1]["content"].as_array().unwrap();
    assert_eq!(messages[1]["role"], "user");
    let url = parts.iter().find_map(|p| p.pointer("/image_url/url")).and_then(Value::as_str).unwrap();
    use base64::Engine as _;
    assert_eq!(
        url,
        format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(PNG))
    );
}

#[tokio::test]
async fn a_server_without_json_schema_output_gets_a_forced_tool_call_from_then_on() {
    let (fake, brain) = brain(OutputMode::Native).await;
    fake.script([
        Scripted::RejectNative {
            message: "response_format json_schema is not supported by this server".into(),
        },
        answer(page_manifest("fixed")),
        answer(page_manifest("fixed")),
    ]);
    let draft = brain.draft(&chores_brief(), None).await.unwrap();
    assert_eq!(draft.manifest.files[0].path, "index.html");
    assert_eq!(brain.mode(), OutputMode::Tool);
    brain.draft(&chores_brief(), None).await.unwrap();

    let requests = fake.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests[0].body.get("response_format").is_some());
    for later in &requests[1..] {
        assert!(later.body.get("response_format").is_none());
        assert_eq!(
            later.body["tool_choice"],
            json!({"type": "function", "function": {"name": "gantry_manifest"}})
        );
        assert_eq!(later.body["tools"][0]["function"]["strict"], true);
    }
}

#[tokio::test]
async fn a_throttled_call_waits_and_is_retried() {
    let (fake, brain) = brain(OutputMode::Tool).await;
    fake.script([
        Scripted::Error {
            status: 429,
            kind: "rate_limit_exceeded",
            message: "Rate limit reached".into(),
            retry_after: Some(0),
        },
        Scripted::Error {
            status: 503,
            kind: "server_error",
            message: "overloaded".into(),
            retry_after: None,
        },
        answer(page_manifest("fixed")),
    ]);
    let draft = brain.draft(&chores_brief(), None).await.unwrap();
    assert_eq!(draft.calls.len(), 1, "failed calls are not charged");
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn retries_are_bounded_and_end_as_a_transient_error() {
    let (fake, brain) = brain(OutputMode::Tool).await;
    let throttled = Scripted::Error {
        status: 429,
        kind: "rate_limit_exceeded",
        message: "slow down".into(),
        retry_after: None,
    };
    fake.script(std::iter::repeat_n(throttled, 10));
    let error = brain.draft(&chores_brief(), None).await.unwrap_err();
    assert!(matches!(error, PortError::Unavailable { .. }), "{error:?}");
    assert_eq!(fake.requests().len(), 1 + ModelSettings::default().max_retries as usize);
}

#[tokio::test]
async fn malformed_output_is_sent_back_once_with_its_error_and_then_used() {
    let (fake, brain) = brain(OutputMode::Native).await;
    let mut traversal = page_manifest("fixed");
    traversal["files"][0]["path"] = json!("../index.html");
    fake.script([answer(traversal), answer(page_manifest("fixed"))]);
    let draft = brain.draft(&chores_brief(), None).await.unwrap();
    assert_eq!(draft.calls.len(), 2);
    assert_eq!(draft.usage.calls, 2);

    let requests = fake.requests();
    let repair = requests[1].body["messages"].as_array().unwrap().last().unwrap().to_string();
    assert!(repair.contains("path.traversal"), "the repair names the problem: {repair}");
    let first = requests[0].body["messages"].as_array().unwrap().len();
    assert_eq!(
        requests[1].body["messages"].as_array().unwrap().len(),
        first,
        "the repair rides in the user turn"
    );
}

#[tokio::test]
async fn output_that_stays_unusable_fails_cleanly_after_the_repair_limit() {
    let (fake, brain) = brain(OutputMode::Native).await;
    fake.script([
        Scripted::Text("Sure! Here is your app: <html>".into()),
        Scripted::Truncated("{\"notes\": \"half".into()),
        Scripted::Text("still not json".into()),
    ]);
    let error = brain.draft(&chores_brief(), None).await.unwrap_err();
    let PortError::Failed(message) = error else { panic!("expected a clean failure, got {error:?}") };
    assert!(message.contains("no usable answer after 2 repair(s)"), "{message}");
    assert_eq!(fake.requests().len(), 3);
    let second = fake.requests()[2].body["messages"].to_string();
    assert!(second.contains("cut short (stop reason `length`)"), "{second}");
}

#[tokio::test]
async fn a_wrong_api_key_is_refused_without_retrying_or_echoing_it() {
    let fake = Fake::start(Flavour::OpenAi, Some(KEY)).await;
    let transport =
        OpenAiTransport::new(&fake.url, "m", Some("sk-wrong".into()), Duration::from_secs(5)).unwrap();
    let brain = ModelBrain::new(
        Arc::new(transport),
        &Policy::default_policy().unwrap(),
        settings(OutputMode::Native),
    );
    let error = brain.draft(&chores_brief(), None).await.unwrap_err();
    assert!(
        matches!(&error, PortError::Failed(m) if m.contains("401") && !m.contains("sk-wrong")),
        "{error:?}"
    );
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn the_configured_openai_brain_reaches_gantry_openai_base_url() {
    use gantry_brain::model::config::{BrainConfig, BRAIN, OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_MODEL};

    let fake = Fake::start(Flavour::OpenAi, Some(KEY)).await;
    let vars = [
        (BRAIN, "openai"),
        (OPENAI_BASE_URL, fake.url.as_str()),
        (OPENAI_MODEL, "llama3.2"),
        (OPENAI_API_KEY, KEY),
    ];
    let config =
        BrainConfig::from_lookup(&|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string()))
            .unwrap();
    assert!(!format!("{config:?}").contains(KEY));
    let brain = config.build(&Policy::default_policy().unwrap(), None).await.unwrap();

    fake.script([answer(consultation("question", "What should it be called?", &[]))]);
    let reply = brain.consult(None, &[user("a chores page")], None).await.unwrap();
    assert_eq!(reply.consultation.question.as_deref(), Some("What should it be called?"));
    assert_eq!(reply.usage.cost_usd, 0.0, "a local model costs nothing unless prices are configured");
    let sent = &fake.requests()[0];
    assert_eq!(sent.body["model"], "llama3.2");
    assert_eq!(sent.headers["authorization"], format!("Bearer {KEY}").as_str());
}

//! The production start-up path: `GANTRY_BRAIN=bedrock` read from the environment, the SDK's
//! configuration chain loaded as `gantry serve` loads it, and the SDK reaching a local fake
//! through `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`. One test in its own process, since it sets the
//! process environment.

mod support;

use chrono::Utc;

use gantry_brain::model::config::BrainConfig;
use gantry_domain::policy::Policy;
use gantry_domain::{Role, Turn};

use support::{answer, consultation, Fake, Flavour};

#[tokio::test]
async fn the_configured_bedrock_brain_reaches_the_endpoint_the_sdk_is_pointed_at() {
    let fake = Fake::start(Flavour::Bedrock, None).await;
    let vars = [
        ("GANTRY_BRAIN", "bedrock"),
        ("GANTRY_BEDROCK_MODEL_ID", "anthropic.claude-haiku-4-5-20251001-v1:0"),
        ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", fake.url.as_str()),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "AKIDFAKEFAKEFAKE"),
        ("AWS_SECRET_ACCESS_KEY", "fake-secret"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    for (name, value) in vars {
        std::env::set_var(name, value);
    }
    let config = BrainConfig::from_lookup(&|name| std::env::var(name).ok()).unwrap();
    let brain = config.build(&Policy::default_policy().unwrap(), None).await.unwrap();
    assert_eq!(brain.model_id(), "anthropic.claude-haiku-4-5-20251001-v1:0");

    fake.script([answer(consultation("question", "What should it be called?", &[]))]);
    let turn = Turn { role: Role::User, content: "a chores page".into(), at: Utc::now() };
    let reply = brain.consult(None, &[turn], None).await.unwrap();
    assert_eq!(reply.consultation.question.as_deref(), Some("What should it be called?"));
    // Haiku 4.5 from the built-in price table: 1000 in at $1, 500 out at $5 per million.
    assert!((reply.usage.cost_usd - 0.0035).abs() < 1e-9, "{}", reply.usage.cost_usd);

    let sent = &fake.requests()[0];
    assert_eq!(sent.path, "/model/anthropic.claude-haiku-4-5-20251001-v1%3A0/converse");
    let auth = sent.headers["authorization"].to_str().unwrap();
    assert!(auth.contains("/eu-west-1/bedrock/aws4_request"), "signed for the region and service: {auth}");
    assert!(sent.body.get("outputConfig").is_some(), "Claude 4.5 starts with native output");
}

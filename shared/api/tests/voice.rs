//! The voice path as Siri uses it (`POST /gantry/voice`): a long-lived token, follow-ups that
//! continue the consultation without its id, answers short and plain enough to be spoken, and
//! "what's the status?".

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use chrono::Utc;
use serde_json::{json, Value};

use gantry_api::auth::generate_api_token;
use gantry_ports::{ApiToken, TokenStore};

use common::{app_in, Reply, TestApp};

/// A long-lived token acting as `subject`, stored as `gantry token create --name <name>` stores it.
async fn api_token(app: &TestApp, name: &str, subject: &str) -> String {
    let (token, digest) = generate_api_token();
    let record = ApiToken {
        name: name.into(),
        subject: subject.into(),
        token_sha256: digest,
        created_at: Utc::now(),
        revoked_at: None,
    };
    app.store.create_token(&record).await.unwrap();
    token
}

async fn voice(app: &TestApp, token: &str, message: &str) -> Reply {
    app.call("POST", "/gantry/voice", Some(token), Some(json!({ "message": message }))).await
}

fn mission_id(reply: &Reply) -> String {
    match reply.body["mission_id"].as_str() {
        Some(id) => id.to_owned(),
        None => panic!("no mission_id in {:?}", reply.body),
    }
}

fn turns(reply: &Reply) -> Option<usize> {
    reply.body["conversation"].as_array().map(Vec::len)
}

fn started(app: &TestApp) -> Vec<String> {
    app.orchestrator.started.lock().unwrap().clone()
}

/// What Siri reads aloud: at most 250 characters of plain words, no markdown, markup or links.
fn assert_speakable(body: &Value, context: &str) {
    let speech = body["speech"].as_str().unwrap_or_else(|| panic!("no speech for {context}: {body:?}"));
    assert!(!speech.trim().is_empty(), "empty speech for {context}");
    let length = speech.chars().count();
    assert!(length <= 250, "{length} characters of speech for {context}: {speech}");
    for marker in ["http", "www.", "://", "*", "`", "#", "[", "]", "<", ">", "_", "\n"] {
        assert!(!speech.contains(marker), "{marker:?} in the speech for {context}: {speech}");
    }
    let plain = |c: char| c.is_alphanumeric() || c == ' ' || ".,!?'-:;…".contains(c);
    assert!(speech.chars().all(plain), "the speech for {context} is not plain words: {speech}");
}

#[tokio::test]
async fn a_long_lived_token_authenticates_voice_until_it_is_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_in(dir.path(), |_| {});
    let siri = api_token(&app, "siri", "owner").await;

    let anonymous = app.call("POST", "/gantry/voice", None, Some(json!({"message": "a todo app"}))).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let (unknown, _) = generate_api_token();
    let forged = voice(&app, &unknown, "a todo app").await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    assert_eq!(forged.body["error"]["code"], "unauthorized");

    let accepted = voice(&app, &siri, "a todo app").await;
    assert_eq!(accepted.status, StatusCode::OK, "{:?}", accepted.body);
    assert_speakable(&accepted.body, "the first voice message");
    let id = mission_id(&accepted);

    // The token acts as the owner: the password login sees the mission it started.
    let session = app.login().await;
    let listed = app.call("GET", "/gantry/missions", Some(&session), None).await;
    assert_eq!(listed.body["missions"][0]["mission_id"], id.as_str(), "{:?}", listed.body);

    assert!(app.store.revoke_token("siri", Utc::now()).await.unwrap());
    let revoked = voice(&app, &siri, "yes, proceed").await;
    assert_eq!(revoked.status, StatusCode::UNAUTHORIZED, "{:?}", revoked.body);
    assert_eq!(revoked.body["error"]["code"], "unauthorized");
    assert!(revoked.body["error"]["speech"].as_str().is_some_and(|s| !s.is_empty()));
    let status = app.call("GET", &format!("/gantry/status/{id}"), Some(&siri), None).await;
    assert_eq!(status.status, StatusCode::UNAUTHORIZED);
    assert!(started(&app).is_empty(), "a revoked token dispatched a build");

    // Revoking the token leaves the owner's own sign-in alone.
    let own = app.call("GET", &format!("/gantry/status/{id}"), Some(&session), None).await;
    assert_eq!(own.status, StatusCode::OK);
}

#[tokio::test]
async fn a_follow_up_without_an_id_continues_and_dispatches_the_same_mission() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_in(dir.path(), |_| {});
    let siri = api_token(&app, "siri", "owner").await;

    let first = voice(&app, &siri, "a todo app").await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    assert_eq!(first.body["status"], "AWAITING_INPUT");
    assert_eq!(first.body["consultation"]["status"], "NEEDS_CONFIRMATION");
    let id = mission_id(&first);

    let feedback = voice(&app, &siri, "add categories").await;
    assert_eq!(feedback.status, StatusCode::OK, "{:?}", feedback.body);
    assert_eq!(mission_id(&feedback), id, "feedback started a new mission");
    assert!(feedback.body["consultation"]["features"].to_string().contains("categor"), "{:?}", feedback.body);

    // Someone else's "proceed" never reaches the owner's consultation.
    let stranger = api_token(&app, "stranger", "someone-else").await;
    let foreign = voice(&app, &stranger, "yes, proceed").await;
    assert_eq!(foreign.status, StatusCode::OK, "{:?}", foreign.body);
    assert_ne!(mission_id(&foreign), id);
    assert!(started(&app).is_empty());

    let consent = voice(&app, &siri, "yes, proceed").await;
    assert_eq!(consent.status, StatusCode::ACCEPTED, "{:?}", consent.body);
    assert_eq!(mission_id(&consent), id);
    assert_eq!(consent.body["status"], "QUEUED");
    assert_eq!(consent.body["consultation"]["status"], "READY_TO_BUILD");
    assert_speakable(&consent.body, "the dispatch");
    assert_eq!(started(&app), vec![id.clone()]);

    let conversation = app.call("GET", &format!("/gantry/consultation/{id}"), Some(&siri), None).await;
    assert_eq!(turns(&conversation), Some(6), "{:?}", conversation.body);

    // A dispatched mission is not a consultation to continue: the next message starts afresh.
    let next = voice(&app, &siri, "a blog about gardening").await;
    assert_eq!(next.status, StatusCode::OK, "{:?}", next.body);
    assert_ne!(mission_id(&next), id);
    assert_eq!(started(&app), vec![id]);
}

#[tokio::test]
async fn after_the_continuation_window_a_message_starts_a_new_mission() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_in(dir.path(), |c| c.voice_continuation = Duration::from_secs(1));
    let siri = api_token(&app, "siri", "owner").await;

    let first = voice(&app, &siri, "a notes app").await;
    assert_eq!(first.body["consultation"]["status"], "NEEDS_CONFIRMATION", "{:?}", first.body);
    let old = mission_id(&first);

    // Within the window the follow-up still belongs to it.
    let within = voice(&app, &siri, "add tags").await;
    assert_eq!(mission_id(&within), old);

    tokio::time::sleep(Duration::from_millis(1600)).await;
    let late = voice(&app, &siri, "yes, proceed").await;
    assert_eq!(late.status, StatusCode::OK, "{:?}", late.body);
    let new = mission_id(&late);
    assert_ne!(new, old, "a stale consultation was continued");
    assert_eq!(late.body["status"], "AWAITING_INPUT");
    assert!(started(&app).is_empty(), "a late 'proceed' dispatched the stale proposal");

    let stale = app.call("GET", &format!("/gantry/status/{old}"), Some(&siri), None).await;
    assert_eq!(stale.body["status"], "AWAITING_INPUT");
    let listed = app.call("GET", "/gantry/missions", Some(&siri), None).await;
    assert_eq!(listed.body["missions"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn speech_stays_short_and_plain_for_long_and_marked_up_input() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_in(dir.path(), |_| {});
    let siri = api_token(&app, "siri", "owner").await;

    let rambling = "I have lots of ideas and I am not sure where to start, ".repeat(12);
    let rambling = format!("hello, {rambling}");
    let gallery = "with a big gallery of my landscape photographs ".repeat(30);
    let gallery = format!("a portfolio site {gallery}");
    let messages = [
        rambling.as_str(),
        "**Build me** a `todo` app with _categories_, # tags, [docs](https://docs.example.com/x), due dates, \
         priorities, reminders, search, filters, sorting, export, import, drag and drop, charts, a calendar, \
         comments and markdown",
        "add subtasks, a dark mode, keyboard shortcuts, an offline mode, a print view and <b>bold</b> labels",
        "make it look like https://www.example.com and www.another-example.org, but like Spotify",
        "a blog called \"\u{1f680} **Rocket** Notes\" about https://rocket.example.com with comments",
        gallery.as_str(),
        "not yet",
        "yes, proceed",
    ];
    for message in messages {
        let reply = voice(&app, &siri, message).await;
        assert!(reply.status.is_success(), "{message:?}: {:?}", reply.body);
        assert_speakable(&reply.body, message);
    }
    let status = voice(&app, &siri, "what's the status?").await;
    assert_speakable(&status.body, "the status answer");
}

#[tokio::test]
async fn a_status_question_answers_about_the_latest_mission() {
    let dir = tempfile::tempdir().unwrap();
    let app = app_in(dir.path(), |_| {});
    let siri = api_token(&app, "siri", "owner").await;

    let nothing = voice(&app, &siri, "what's the status?").await;
    assert_eq!(nothing.status, StatusCode::OK, "{:?}", nothing.body);
    assert!(nothing.body["status"].is_null());
    let speech = nothing.body["speech"].as_str().unwrap_or_default();
    assert!(speech.contains("no missions"), "{speech}");
    let listed = app.call("GET", "/gantry/missions", Some(&siri), None).await;
    let count = listed.body["missions"].as_array().map(Vec::len);
    assert_eq!(count, Some(0), "a status question created a mission");

    let todo = mission_id(&voice(&app, &siri, "a todo app").await);
    assert_eq!(voice(&app, &siri, "yes, proceed").await.status, StatusCode::ACCEPTED);
    let queued = voice(&app, &siri, "what's the status?").await;
    assert_eq!(queued.status, StatusCode::OK, "{:?}", queued.body);
    assert_eq!(mission_id(&queued), todo);
    assert_eq!(queued.body["status"], "QUEUED");
    assert!(queued.body["speech"].as_str().is_some_and(|s| s.contains("queued")), "{:?}", queued.body);
    assert_speakable(&queued.body, "the queued status");

    // A newer mission, started in the web chat, is the one asked about next.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let session = app.login().await;
    let blog = mission_id(&app.consult(&session, json!({"message": "a blog about gardening"})).await);
    let waiting = voice(&app, &siri, "is it done yet?").await;
    assert_eq!(mission_id(&waiting), blog, "{:?}", waiting.body);
    assert_eq!(waiting.body["status"], "AWAITING_INPUT");
    assert!(waiting.body["speech"].as_str().is_some_and(|s| s.contains("waiting for your answer")));
    assert!(waiting.body.get("consultation").is_none(), "a status question was treated as a turn");
    let conversation = app.call("GET", &format!("/gantry/consultation/{blog}"), Some(&siri), None).await;
    assert_eq!(turns(&conversation), Some(2));

    // Describing an app that mentions a status is a turn, not a status question.
    let described = voice(&app, &siri, "build me a status page").await;
    assert_eq!(described.status, StatusCode::OK, "{:?}", described.body);
    assert!(described.body["consultation"].is_object(), "{:?}", described.body);
    assert_eq!(mission_id(&described), blog, "it continues the consultation awaiting input");
    let conversation = app.call("GET", &format!("/gantry/consultation/{blog}"), Some(&siri), None).await;
    assert_eq!(turns(&conversation), Some(4));
    assert_eq!(started(&app), vec![todo]);
}

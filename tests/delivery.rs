//! End-to-end delivery: `gantry serve` configured for Vercel and GitHub, both pointed at the
//! local fakes, takes a consultation to a live deployment and a pull request.

mod support;

use std::time::Duration;

use serde_json::{json, Value};

use gantry_delivery::fakes::vercel::Outcome;
use gantry_delivery::fakes::{FakeGitHub, FakeVercel};
use gantry_delivery::vercel::file_sha;
use gantry_delivery::GantryBranch;
use support::Server;

const VERCEL_TOKEN: &str = "vercel-e2e-token";
const GITHUB_TOKEN: &str = "ghp_e2e_token";

async fn consented_mission(server: &Server, token: &str, extra: Value) -> String {
    let mut body = json!({"message": "I need a todo app with categories, Spotify style"});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let (code, first) = server.post("/gantry/consult", Some(token), body).await;
    assert_eq!(code, 200, "{first}");
    let id = first["mission_id"].as_str().unwrap().to_owned();
    let (code, consent) = server
        .post("/gantry/consult", Some(token), json!({"message": "yes, build it", "mission_id": id}))
        .await;
    assert_eq!(code, 202, "{consent}");
    id
}

fn delivery_env<'a>(vercel: &'a FakeVercel, github: &'a FakeGitHub) -> Vec<(&'static str, &'a str)> {
    vec![
        ("VERCEL_TOKEN", VERCEL_TOKEN),
        ("GANTRY_VERCEL_API_URL", vercel.url.as_str()),
        ("GITHUB_TOKEN", GITHUB_TOKEN),
        ("GANTRY_GITHUB_OWNER", "gantry-bot"),
        ("GANTRY_GITHUB_API_URL", github.url.as_str()),
    ]
}

/// `gantry serve` in a fresh data dir, delivering to the two fakes, and a signed-in token.
async fn serve_with(vercel: &FakeVercel, github: &FakeGitHub) -> (tempfile::TempDir, Server, String) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(dir.path(), &delivery_env(vercel, github)).await;
    let token = server.login().await;
    (dir, server, token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mission_goes_live_on_vercel_and_opens_a_pull_request_on_github() {
    let vercel = FakeVercel::start(VERCEL_TOKEN, None).await.unwrap();
    vercel.set_polls_before_end(1);
    let github = FakeGitHub::start(GITHUB_TOKEN, "gantry-bot", &[]).await.unwrap();
    let (_dir, server, token) = serve_with(&vercel, &github).await;

    let id = consented_mission(&server, &token, json!({})).await;
    let status = server.wait_final(&token, &id, Duration::from_secs(120)).await;
    assert_eq!(status["status"], "SUCCESS", "{status:#}");

    // Status: the fake's deployment and pull request.
    let deployment = &vercel.deployments()[0];
    let url = format!("https://{}", deployment.url);
    assert_eq!(status["url"], url.as_str());
    assert_eq!(status["deployment"], json!({"provider": "vercel", "id": deployment.id, "url": url}));
    let pulls = github.pulls();
    assert_eq!(pulls.len(), 1);
    let pr_url = format!("https://github.example/gantry-bot/{}/pull/1", pulls[0].repo.1);
    assert_eq!(status["pr_url"], pr_url.as_str());
    assert_eq!(status["branch"], format!("gantry/{id}"));

    // Vercel received the build's output with matching digests; GitHub wrote only the mission's branch.
    for upload in vercel.requests().iter().filter(|r| r.path == "/v2/files") {
        assert_eq!(upload.header("x-vercel-digest").unwrap(), file_sha(&upload.body));
    }
    for written in github.refs_written() {
        assert!(GantryBranch::is_writable(&written), "{written}");
    }
    // The pull request carries the preview, the evidence head and how to verify it.
    assert!(pulls[0].body.contains(&url), "{}", pulls[0].body);
    assert!(pulls[0].body.contains(&format!("gantry verify {id}")), "{}", pulls[0].body);

    // Evidence: both deliveries recorded, verified, and no token anywhere in it.
    let (code, pack) = server.get(&format!("/gantry/missions/{id}/evidence"), Some(&token)).await;
    assert_eq!(code, 200);
    assert_eq!(pack["verification"]["valid"], true, "{pack:#}");
    let text = pack.to_string();
    assert!(text.contains(&url) && text.contains(&pr_url), "{text}");
    assert!(!text.contains(VERCEL_TOKEN) && !text.contains(GITHUB_TOKEN));

    // The web page shows the live URL and the pull request link from the status answer.
    let app = server
        .client
        .get(format!("{}/assets/app.js", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(app.contains("view.url") && app.contains("view.pr_url"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_only_mission_reaches_pr_opened() {
    let vercel = FakeVercel::start(VERCEL_TOKEN, None).await.unwrap();
    let github = FakeGitHub::start(GITHUB_TOKEN, "gantry-bot", &[]).await.unwrap();
    let (_dir, server, token) = serve_with(&vercel, &github).await;

    let id = consented_mission(&server, &token, json!({"deploy": false})).await;
    let status = server.wait_final(&token, &id, Duration::from_secs(120)).await;
    assert_eq!(status["status"], "PR_OPENED", "{status:#}");
    assert!(status["pr_url"].as_str().unwrap().starts_with("https://github.example/gantry-bot/"));
    assert!(vercel.requests().is_empty(), "no deploy was asked for");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_deploy_fails_the_mission_with_its_reason() {
    let vercel = FakeVercel::start("a-different-token", None).await.unwrap();
    let github = FakeGitHub::start(GITHUB_TOKEN, "gantry-bot", &[]).await.unwrap();
    let (_dir, server, token) = serve_with(&vercel, &github).await;

    let id = consented_mission(&server, &token, json!({})).await;
    let status = server.wait_final(&token, &id, Duration::from_secs(120)).await;
    assert_eq!(status["status"], "FAILED", "{status:#}");
    let error = status["error"].as_str().unwrap_or_default();
    assert!(error.contains("deploy failed") && error.contains("VERCEL_TOKEN"), "{error}");
    assert!(status.get("url").is_none() && status.get("pr_url").is_none(), "{status:#}");
    assert!(github.requests().is_empty(), "nothing is published after a failed deploy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_a_failed_deployment_resumes_at_deploy_and_duplicates_nothing() {
    let vercel = FakeVercel::start(VERCEL_TOKEN, None).await.unwrap();
    vercel.set_polls_before_end(0);
    vercel.set_outcome(Outcome::Error("BUILD_FAILED".into(), "the output was rejected".into()));
    let github = FakeGitHub::start(GITHUB_TOKEN, "gantry-bot", &[]).await.unwrap();
    let (_dir, server, token) = serve_with(&vercel, &github).await;

    let id = consented_mission(&server, &token, json!({})).await;
    let failed = server.wait_final(&token, &id, Duration::from_secs(120)).await;
    assert_eq!(failed["status"], "FAILED", "{failed:#}");
    let error = failed["error"].as_str().unwrap_or_default();
    assert!(error.contains("deploy failed") && error.contains("BUILD_FAILED"), "{error}");

    vercel.set_outcome(Outcome::Ready);
    let (code, retried) = server.post(&format!("/gantry/missions/{id}/retry"), Some(&token), json!({})).await;
    assert_eq!(code, 202, "{retried}");
    let status = server.wait_final(&token, &id, Duration::from_secs(120)).await;
    assert_eq!(status["status"], "SUCCESS", "{status:#}");
    assert_eq!(status["deployment"]["provider"], "vercel");
    assert_eq!(github.pulls().len(), 1);

    // The retry started at deploy: one build in the evidence, no second draft.
    let (_, pack) = server.get(&format!("/gantry/missions/{id}/evidence"), Some(&token)).await;
    let kinds: Vec<&str> =
        pack["records"].as_array().unwrap().iter().filter_map(|r| r["kind"].as_str()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "build.report").count(), 1, "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == "manifest").count(), 1, "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| **k == "deploy").count(), 1, "{kinds:?}");
    assert_eq!(vercel.deployments().len(), 2, "the failed deployment and the retried one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_a_failed_publish_resumes_at_publish_without_deploying_again() {
    let vercel = FakeVercel::start(VERCEL_TOKEN, None).await.unwrap();
    vercel.set_polls_before_end(0);
    let github = FakeGitHub::start(GITHUB_TOKEN, "gantry-bot", &[]).await.unwrap();
    github.set_token("revoked");
    let (_dir, server, token) = serve_with(&vercel, &github).await;

    let id = consented_mission(&server, &token, json!({})).await;
    let failed = server.wait_final(&token, &id, Duration::from_secs(120)).await;
    assert_eq!(failed["status"], "FAILED", "{failed:#}");
    let error = failed["error"].as_str().unwrap_or_default();
    assert!(error.contains("publish failed") && error.contains("GITHUB_TOKEN"), "{error}");
    assert!(failed.get("pr_url").is_none(), "{failed:#}");

    github.set_token(GITHUB_TOKEN);
    let (code, retried) = server.post(&format!("/gantry/missions/{id}/retry"), Some(&token), json!({})).await;
    assert_eq!(code, 202, "{retried}");
    let status = server.wait_final(&token, &id, Duration::from_secs(120)).await;
    assert_eq!(status["status"], "SUCCESS", "{status:#}");
    assert_eq!(vercel.deployments().len(), 1, "the deployment that succeeded is not repeated");
    assert_eq!(github.pulls().len(), 1);
    assert_eq!(status["url"], format!("https://{}", vercel.deployments()[0].url));
    assert_eq!(
        status["pr_url"],
        format!("https://github.example/gantry-bot/{}/pull/1", github.pulls()[0].repo.1)
    );
}

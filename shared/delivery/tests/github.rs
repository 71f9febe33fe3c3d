//! The GitHub publisher against the local fake GitHub API.

use std::time::Duration;

use gantry_delivery::fakes::FakeGitHub;
use gantry_delivery::{GantryBranch, GitHubConfig, GitHubPublisher, Secret};
use gantry_domain::{GantryManifest, MissionId};
use gantry_ports::{PortError, PublishRequest, Publisher};
use proptest::prelude::*;

const TOKEN: &str = "ghp_test_token";

fn publisher(fake: &FakeGitHub, owner: &str) -> GitHubPublisher {
    let mut config = GitHubConfig::new(Secret::new(TOKEN), owner, fake.url.clone());
    config.max_rate_limit_wait = Duration::from_secs(5);
    GitHubPublisher::new(config).unwrap()
}

fn manifest(project: &str, files: &[(&str, &str)]) -> GantryManifest {
    let files: Vec<serde_json::Value> =
        files.iter().map(|(p, c)| serde_json::json!({"path": p, "content": c})).collect();
    serde_json::from_value(serde_json::json!({
        "project_name": project, "stack": "static", "files": files, "audit_command": "true",
    }))
    .unwrap()
}

fn request(mission: &MissionId, manifest: GantryManifest) -> PublishRequest {
    PublishRequest {
        mission: mission.clone(),
        manifest,
        title: "Gantry: Todo".into(),
        body: "## Evidence\n\nHead hash: `abc123`\n\n    gantry verify x\n".into(),
        design_image: Some(("png".into(), vec![0x89, b'P', b'N', b'G', 1, 2, 3])),
    }
}

/// Every write the fake received touched only `refs/heads/gantry/<a mission id>`.
fn assert_only_gantry_refs_written(fake: &FakeGitHub) {
    for written in fake.refs_written() {
        assert!(GantryBranch::is_writable(&written), "a write touched {written}");
    }
}

#[tokio::test]
async fn a_publish_creates_the_repository_a_commit_the_branch_and_a_pull_request() {
    let fake = FakeGitHub::start(TOKEN, "gantry-bot", &[]).await.unwrap();
    let mission = MissionId::generate();
    let publisher = publisher(&fake, "gantry-bot");
    let manifest = manifest("Todo App", &[("index.html", "<h1>todo</h1>"), ("js/app.js", "let x = 1;")]);

    let publication = publisher.publish(&request(&mission, manifest)).await.unwrap();

    let repo = fake.repo("gantry-bot", "todo-app").expect("the repository was created");
    assert!(repo.private, "private by default");
    assert_eq!(publication.repo, "gantry-bot/todo-app");
    assert_eq!(publication.branch, format!("gantry/{mission}"));
    assert_eq!(repo.refs.get(&format!("refs/heads/gantry/{mission}")), Some(&publication.commit));
    let main = repo.refs.get("refs/heads/main").unwrap().clone();
    assert_eq!(fake.parents(&publication.commit), vec![main], "the commit sits on the default branch's head");
    let files = fake.files_at(&publication.commit);
    assert_eq!(files.get("index.html").map(Vec::as_slice), Some(&b"<h1>todo</h1>"[..]));
    assert_eq!(files.get("js/app.js").map(Vec::as_slice), Some(&b"let x = 1;"[..]));
    assert_eq!(
        files.get("public/design-reference.png").map(Vec::as_slice),
        Some(&[0x89, b'P', b'N', b'G', 1, 2, 3][..]),
        "the design image travels in the commit"
    );
    let pulls = fake.pulls();
    assert_eq!(pulls.len(), 1);
    assert_eq!((pulls[0].head.as_str(), pulls[0].base.as_str()), (publication.branch.as_str(), "main"));
    assert!(pulls[0].body.contains("gantry verify"));
    assert_eq!(publication.pr_url.as_deref(), Some("https://github.example/gantry-bot/todo-app/pull/1"));
    let requests = fake.requests();
    assert!(requests.iter().any(|r| r.method == "POST"
        && r.path == "/user/repos"
        && r.json()["auto_init"] == true
        && r.json()["private"] == true));
    for r in &requests {
        assert_eq!(r.header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
        assert!(!String::from_utf8_lossy(&r.body).contains(TOKEN));
    }
    assert_only_gantry_refs_written(&fake);
}

#[tokio::test]
async fn a_retry_adds_a_commit_to_the_same_branch_and_pull_request() {
    let fake = FakeGitHub::start(TOKEN, "gantry-bot", &["acme"]).await.unwrap();
    let mission = MissionId::generate();
    let publisher = publisher(&fake, "acme");
    let first =
        publisher.publish(&request(&mission, manifest("todo", &[("index.html", "v1")]))).await.unwrap();
    let second =
        publisher.publish(&request(&mission, manifest("todo", &[("index.html", "v2")]))).await.unwrap();

    assert!(fake.requests().iter().any(|r| r.path == "/orgs/acme/repos"), "an organisation's repository");
    assert_eq!(first.branch, second.branch);
    assert_eq!(first.pr_url, second.pr_url);
    assert_eq!(fake.pulls().len(), 1, "no second pull request");
    assert_eq!(fake.parents(&second.commit), vec![first.commit.clone()], "a commit on top of the first");
    assert_eq!(fake.files_at(&second.commit).get("index.html").map(Vec::as_slice), Some(&b"v2"[..]));
    let repo = fake.repo("acme", "todo").unwrap();
    assert_eq!(repo.refs.len(), 2, "main and the mission's branch: {:?}", repo.refs);
    assert!(fake
        .requests()
        .iter()
        .any(|r| r.method == "PATCH" && r.path.ends_with(&format!("git/refs/heads/gantry/{mission}"))));
    assert_only_gantry_refs_written(&fake);
}

#[tokio::test]
async fn bad_credentials_are_a_configuration_error_and_rate_limits_are_waited_out() {
    let fake = FakeGitHub::start("another-token", "gantry-bot", &[]).await.unwrap();
    let mission = MissionId::generate();
    let error = publisher(&fake, "gantry-bot")
        .publish(&request(&mission, manifest("todo", &[("a", "b")])))
        .await
        .unwrap_err();
    let PortError::Failed(message) = &error else { panic!("{error:?}") };
    assert!(message.contains("401") && message.contains("GITHUB_TOKEN"), "{message}");
    assert!(!message.contains(TOKEN));

    let fake = FakeGitHub::start(TOKEN, "gantry-bot", &[]).await.unwrap();
    fake.rate_limit_next(2);
    publisher(&fake, "gantry-bot")
        .publish(&request(&mission, manifest("todo", &[("a", "b")])))
        .await
        .unwrap();
    assert_eq!(fake.pulls().len(), 1);

    let fake = FakeGitHub::start(TOKEN, "gantry-bot", &[]).await.unwrap();
    fake.rate_limit_next(100);
    let mut config = GitHubConfig::new(Secret::new(TOKEN), "gantry-bot", fake.url.clone());
    config.max_rate_limit_wait = Duration::ZERO;
    let error = GitHubPublisher::new(config)
        .unwrap()
        .publish(&request(&mission, manifest("todo", &[("a", "b")])))
        .await
        .unwrap_err();
    assert!(error.is_transient(), "{error:?}");
}

#[tokio::test]
async fn the_fake_refuses_what_github_refuses() {
    let fake = FakeGitHub::start(TOKEN, "gantry-bot", &[]).await.unwrap();
    let mission = MissionId::generate();
    publisher(&fake, "gantry-bot")
        .publish(&request(&mission, manifest("todo", &[("a", "b")])))
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let main = fake.repo("gantry-bot", "todo").unwrap().refs["refs/heads/main"].clone();
    // An unknown sha, a ref without two slashes, the protected default branch, a commit of no tree.
    let unknown = "0".repeat(40);
    let refused = [
        (reqwest::Method::POST, "git/refs", serde_json::json!({"ref": "refs/heads/x", "sha": unknown})),
        (reqwest::Method::POST, "git/refs", serde_json::json!({"ref": "heads/x", "sha": main})),
        (reqwest::Method::PATCH, "git/refs/heads/main", serde_json::json!({"sha": main, "force": true})),
        (
            reqwest::Method::POST,
            "git/commits",
            serde_json::json!({"message": "m", "tree": unknown, "parents": []}),
        ),
    ];
    for (method, path, body) in refused {
        let url = format!("{}/repos/gantry-bot/todo/{path}", fake.url);
        let answer = client.request(method.clone(), url).bearer_auth(TOKEN).json(&body).send().await.unwrap();
        assert_eq!(answer.status().as_u16(), 422, "{method} {path} {body}");
    }
    // And no credentials.
    let anonymous = client.get(format!("{}/user", fake.url)).send().await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    // The assertion over recorded writes sees the refs those requests named.
    let written = fake.refs_written();
    assert!(
        written.contains(&"refs/heads/main".to_owned()) && written.contains(&"heads/x".to_owned()),
        "{written:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Whatever the project name, the file paths or a branch name a model made up (carried in
    /// the title and body), the publisher writes no ref but `refs/heads/gantry/<mission id>`.
    #[test]
    fn no_input_makes_the_publisher_write_another_ref(
        project in "[ -~]{0,40}",
        branch in prop_oneof![Just("main".to_owned()), Just("refs/heads/main".to_owned()), Just("../main".to_owned()), "[a-z/._-]{1,20}"],
        path in "[a-z]{1,8}(/[a-z]{1,8}){0,2}\\.html",
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let fake = FakeGitHub::start(TOKEN, "gantry-bot", &[]).await.unwrap();
            let mission = MissionId::generate();
            let mut request = request(&mission, manifest(&project, &[(path.as_str(), "x"), ("index.html", "y")]));
            request.title = format!("Gantry: push to {branch}");
            request.body = format!("Please merge into {branch} and force-push refs/heads/{branch}");
            let publication = publisher(&fake, "gantry-bot").publish(&request).await.unwrap();
            prop_assert_eq!(publication.branch, format!("gantry/{mission}"));
            let written = fake.refs_written();
            prop_assert!(!written.is_empty());
            for r in written {
                prop_assert_eq!(r, format!("refs/heads/gantry/{mission}"));
            }
            Ok(())
        })?;
    }

    #[test]
    fn every_gantry_branch_is_a_writable_ref_under_gantry(bytes in any::<[u8; 16]>()) {
        let id: MissionId = uuid_text(bytes).parse().unwrap();
        let branch = GantryBranch::for_mission(&id);
        prop_assert!(branch.full_ref().starts_with("refs/heads/gantry/"));
        prop_assert!(GantryBranch::is_writable(&branch.full_ref()));
        prop_assert_eq!(branch.full_ref().matches('/').count(), 3);
    }
}

/// A canonical hyphenated UUID from 16 bytes.
fn uuid_text(b: [u8; 16]) -> String {
    let h = hex::encode(b);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

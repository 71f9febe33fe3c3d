//! The Vercel deployer against the local fake Vercel API.

use std::time::Duration;

use gantry_delivery::fakes::vercel::{FakeVercel, Outcome};
use gantry_delivery::vercel::file_sha;
use gantry_delivery::{Secret, VercelConfig, VercelDeployer, VercelTarget};
use gantry_domain::{GantryManifest, MissionId};
use gantry_ports::{DeployRequest, Deployer, OutputFile, PortError};

const TOKEN: &str = "vercel-test-token";

fn config(fake: &FakeVercel) -> VercelConfig {
    let mut config = VercelConfig::new(Secret::new(TOKEN), fake.url.clone());
    config.poll_interval = Duration::from_millis(10);
    config.wait = Duration::from_secs(10);
    config.max_rate_limit_wait = Duration::from_secs(5);
    config
}

fn request() -> DeployRequest {
    let manifest: GantryManifest = serde_json::from_value(serde_json::json!({
        "project_name": "Todo App",
        "stack": "static",
        "files": [{"path": "index.html", "content": "<h1>todo</h1>"}],
        "audit_command": "true",
    }))
    .unwrap();
    DeployRequest {
        mission: MissionId::generate(),
        manifest,
        files: vec![
            OutputFile { path: "index.html".into(), bytes: b"<h1>todo</h1>".to_vec() },
            OutputFile { path: "js/app.js".into(), bytes: b"console.log('todo')".to_vec() },
            OutputFile { path: "logo.png".into(), bytes: vec![0x89, b'P', b'N', b'G', 0, 1, 2, 255] },
        ],
    }
}

#[tokio::test]
async fn a_deployment_uploads_what_is_missing_and_waits_until_ready() {
    let fake = FakeVercel::start(TOKEN, Some("team_abc")).await.unwrap();
    // Vercel already holds one of the files: only the other two are uploaded.
    fake.preload(b"<h1>todo</h1>");
    let mut config = config(&fake);
    config.team_id = Some("team_abc".into());
    let deployer = VercelDeployer::new(config).unwrap();
    let request = request();

    let deployment = deployer.deploy(&request).await.unwrap();

    let created = fake.deployments();
    assert_eq!(created.len(), 1);
    assert_eq!(deployment.provider, "vercel");
    assert_eq!(deployment.deployment_id, created[0].id);
    assert_eq!(deployment.url, format!("https://{}", created[0].url));
    assert_eq!(created[0].name, "todo-app");
    assert_eq!(created[0].target, None, "preview by default");
    let requests = fake.requests();
    for r in &requests {
        assert_eq!(
            r.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str()),
            "{} {}",
            r.method,
            r.path
        );
        assert_eq!(r.query_param("teamId").as_deref(), Some("team_abc"), "{} {}", r.method, r.path);
    }
    let uploads: Vec<_> = requests.iter().filter(|r| r.path == "/v2/files").collect();
    assert_eq!(uploads.len(), 2, "only the missing files are uploaded");
    for upload in &uploads {
        let digest = upload.header("x-vercel-digest").unwrap();
        assert_eq!(digest, file_sha(&upload.body), "the digest is the SHA-1 of the uploaded bytes");
        assert_eq!(upload.header("content-length").unwrap(), upload.body.len().to_string());
        assert!(request.files.iter().any(|f| f.bytes == upload.body && f.path != "index.html"));
    }
    let creates: Vec<_> = requests.iter().filter(|r| r.path == "/v13/deployments").collect();
    assert_eq!(creates.len(), 2, "created, told what is missing, created again");
    let body = creates[1].json();
    let files = body["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    for (entry, file) in files.iter().zip(&request.files) {
        assert_eq!(entry["file"], file.path.as_str());
        assert_eq!(entry["sha"], file_sha(&file.bytes).as_str());
        assert_eq!(entry["size"], file.bytes.len());
    }
    assert!(body["projectSettings"].is_object());
    assert!(requests
        .iter()
        .any(|r| r.method == "GET" && r.path == format!("/v13/deployments/{}", created[0].id)));
    // The token is only ever in the Authorization header.
    for r in &requests {
        assert!(!String::from_utf8_lossy(&r.body).contains(TOKEN));
        assert!(!r.query.clone().unwrap_or_default().contains(TOKEN));
    }
}

#[tokio::test]
async fn production_is_only_targeted_when_asked() {
    let fake = FakeVercel::start(TOKEN, None).await.unwrap();
    let mut config = config(&fake);
    config.target = VercelTarget::Production;
    VercelDeployer::new(config).unwrap().deploy(&request()).await.unwrap();
    assert_eq!(fake.deployments()[0].target.as_deref(), Some("production"));
}

#[tokio::test]
async fn a_refused_token_is_a_configuration_error() {
    let fake = FakeVercel::start("another-token", None).await.unwrap();
    let error = VercelDeployer::new(config(&fake)).unwrap().deploy(&request()).await.unwrap_err();
    let PortError::Failed(message) = &error else { panic!("{error:?}") };
    assert!(message.contains("403") && message.contains("VERCEL_TOKEN"), "{message}");
    assert!(!message.contains(TOKEN));
    assert_eq!(fake.requests().len(), 1, "a refused token is not retried");

    let fake = FakeVercel::start(TOKEN, Some("team_abc")).await.unwrap();
    let error = VercelDeployer::new(config(&fake)).unwrap().deploy(&request()).await.unwrap_err();
    assert!(error.to_string().contains("VERCEL_TEAM_ID"), "{error}");
}

#[tokio::test]
async fn a_failed_build_reports_its_error_code_and_message() {
    let fake = FakeVercel::start(TOKEN, None).await.unwrap();
    fake.set_outcome(Outcome::Error("BUILD_FAILED".into(), "Command \"npm run build\" exited with 1".into()));
    let error = VercelDeployer::new(config(&fake)).unwrap().deploy(&request()).await.unwrap_err();
    let message = error.to_string();
    assert!(message.contains("BUILD_FAILED") && message.contains("exited with 1"), "{message}");

    fake.set_outcome(Outcome::Canceled);
    let error = VercelDeployer::new(config(&fake)).unwrap().deploy(&request()).await.unwrap_err();
    assert!(error.to_string().contains("canceled"), "{error}");
}

#[tokio::test]
async fn the_wait_for_ready_is_bounded() {
    let fake = FakeVercel::start(TOKEN, None).await.unwrap();
    fake.set_polls_before_end(u32::MAX);
    let mut config = config(&fake);
    config.wait = Duration::from_millis(100);
    let error = VercelDeployer::new(config).unwrap().deploy(&request()).await.unwrap_err();
    assert!(error.to_string().contains("not READY"), "{error}");
}

#[tokio::test]
async fn a_rate_limit_is_waited_out_within_its_bound() {
    let fake = FakeVercel::start(TOKEN, None).await.unwrap();
    fake.rate_limit_next(2);
    VercelDeployer::new(config(&fake)).unwrap().deploy(&request()).await.unwrap();
    let limited = fake.requests().iter().filter(|r| r.path == "/v13/deployments").count();
    assert!(limited >= 3, "the limited requests were repeated after the reset ({limited})");

    // A limit longer than the step may wait is a transient failure, not a hang.
    let fake = FakeVercel::start(TOKEN, None).await.unwrap();
    fake.rate_limit_next(100);
    let mut config = config(&fake);
    config.max_rate_limit_wait = Duration::ZERO;
    let error = VercelDeployer::new(config).unwrap().deploy(&request()).await.unwrap_err();
    assert!(error.is_transient(), "{error:?}");
    assert!(error.to_string().contains("rate limited"), "{error}");
}

#[tokio::test]
async fn the_fake_refuses_malformed_uploads() {
    let fake = FakeVercel::start(TOKEN, None).await.unwrap();
    let client = reqwest::Client::new();
    let send = |digest: &str, auth: bool| {
        let mut r =
            client.post(format!("{}/v2/files", fake.url)).header("x-vercel-digest", digest).body("abc");
        if auth {
            r = r.bearer_auth(TOKEN);
        }
        r.send()
    };
    assert_eq!(send(&file_sha(b"abc"), false).await.unwrap().status(), 401);
    assert_eq!(send(&file_sha(b"abd"), true).await.unwrap().status(), 400);
    assert_eq!(send(&file_sha(b"abc"), true).await.unwrap().status(), 200);
    assert_eq!(fake.stored(&file_sha(b"abc")).as_deref(), Some(&b"abc"[..]));
}

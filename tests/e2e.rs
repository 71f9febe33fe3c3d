//! End-to-end: the `gantry` binary and its HTTP API, driven as a person would.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use support::{gantry, git, Server};

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[tokio::test]
async fn a_consultation_becomes_a_live_preview_a_branch_and_verified_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let token = server.login().await;

    let (code, first) = server
        .post(
            "/gantry/consult",
            Some(&token),
            json!({"message": "I need a todo app with categories, Spotify style"}),
        )
        .await;
    assert_eq!(code, 200, "{first}");
    assert_eq!(first["consultation"]["status"], "NEEDS_CONFIRMATION", "{first}");
    let id = first["mission_id"].as_str().unwrap().to_owned();

    let (code, consent) = server
        .post("/gantry/consult", Some(&token), json!({"message": "yes, build it", "mission_id": id}))
        .await;
    assert_eq!(code, 202, "{consent}");
    assert_eq!(consent["status"], "QUEUED");

    let status = server.wait_final(&token, &id, Duration::from_secs(120)).await;
    assert_eq!(status["status"], "SUCCESS", "{status:#}");
    let names: Vec<&str> =
        status["steps"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    for step in ["draft", "policy", "build", "deploy", "publish", "evidence", "finalize"] {
        assert!(names.contains(&step), "{step} missing from {names:?}");
    }

    // The preview serves the app.
    let url = status["url"].as_str().unwrap();
    assert!(url.starts_with(&server.base) && url.ends_with(&format!("/preview/{id}/")), "{url}");
    let page = server.client.get(url).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let csp = page.headers().get("content-security-policy").unwrap().to_str().unwrap().to_owned();
    assert!(csp.contains("sandbox"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(html.to_lowercase().contains("<title>"), "{html}");

    // The branch holds exactly the manifest's files, and the default branch was never written.
    let branch = status["branch"].as_str().unwrap();
    assert_eq!(branch, format!("gantry/{id}"));
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(
            dir.path().join(format!("objects/missions/{id}/manifest-{}.json", status["attempts"])),
        )
        .unwrap(),
    )
    .unwrap();
    let mut expected: Vec<String> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect();
    expected.sort();
    let repo = std::fs::read_dir(dir.path().join("repos")).unwrap().next().unwrap().unwrap().path();
    let mut files: Vec<String> =
        git(&repo, &["ls-tree", "-r", "--name-only", branch]).lines().map(str::to_owned).collect();
    files.sort();
    assert_eq!(files, expected);
    assert_eq!(git(&repo, &["for-each-ref", "--format=%(refname)"]), format!("refs/heads/{branch}"));
    let message = git(&repo, &["log", "-1", "--format=%B", branch]);
    assert!(message.contains("gantry verify"), "{message}");

    // The evidence verifies, over HTTP and with the CLI.
    let (code, pack) = server.get(&format!("/gantry/missions/{id}/evidence"), Some(&token)).await;
    assert_eq!(code, 200);
    assert_eq!(pack["verification"]["valid"], true, "{:#}", pack["verification"]);
    let kinds: Vec<&str> =
        pack["records"].as_array().unwrap().iter().map(|r| r["kind"].as_str().unwrap()).collect();
    for kind in [
        "consultation.approved",
        "manifest",
        "policy.verdict",
        "build.report",
        "deploy",
        "publish",
        "mission.final",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    let verify = gantry(dir.path(), &["verify", &id]);
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));

    // A copy of the pack verifies on its own with its artifacts; one flipped byte inside a
    // record (the consenting message) is caught and the record named.
    let pack_path = dir.path().join("evidence").join(format!("evidence/{id}/pack.json"));
    let artifacts_dir = dir.path().join("evidence");
    let artifacts_arg = artifacts_dir.to_string_lossy().into_owned();
    let copy = dir.path().join("pack-copy.json");
    std::fs::copy(&pack_path, &copy).unwrap();
    let copy_arg = copy.to_string_lossy().into_owned();
    let intact = gantry(dir.path(), &["verify", "--file", &copy_arg, "--artifacts", &artifacts_arg]);
    assert!(intact.status.success(), "{}", String::from_utf8_lossy(&intact.stdout));
    let mut bytes = std::fs::read(&copy).unwrap();
    let at = bytes.windows(13).position(|w| w == b"yes, build it").expect("the consent is in the pack");
    bytes[at + 12] ^= 0x20;
    std::fs::write(&copy, &bytes).unwrap();
    let forged = gantry(dir.path(), &["verify", "--file", &copy_arg, "--artifacts", &artifacts_arg]);
    assert_eq!(forged.status.code(), Some(1));
    let said = String::from_utf8_lossy(&forged.stdout);
    assert!(said.starts_with("INVALID") && said.contains("consultation.approved"), "{said}");

    // One flipped byte in a stored artifact is caught and named.
    let artifact = pack["artifacts"][0]["key"].as_str().unwrap().to_owned();
    let name = pack["artifacts"][0]["name"].as_str().unwrap().to_owned();
    let path = dir.path().join("evidence").join(&artifact);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[0] ^= 0x01;
    std::fs::write(&path, bytes).unwrap();
    let broken = gantry(dir.path(), &["verify", &id]);
    assert_eq!(broken.status.code(), Some(1));
    let said = String::from_utf8_lossy(&broken.stdout);
    assert!(said.contains(&name), "{said}");
}

#[tokio::test]
async fn gantry_build_with_a_manifest_runs_to_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let output = gantry(
        dir.path(),
        &["build", "a hello page", "--manifest", &fixture("clean-manifest.json"), "--no-publish", "--json"],
    );
    let status: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    assert!(output.status.success(), "{status:#} {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(status["status"], "DEPLOYED");
    let id = status["mission_id"].as_str().unwrap();
    let served = dir.path().join("previews").join(id).join("index.html");
    assert!(std::fs::read_to_string(served).unwrap().contains("Hello from Gantry"));
    assert!(!dir.path().join("repos").exists(), "--no-publish must not publish");
}

#[tokio::test]
async fn a_blocked_mission_exits_non_zero_with_verifiable_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let output =
        gantry(dir.path(), &["build", "a page", "--manifest", &fixture("violating-manifest.json"), "--json"]);
    assert_eq!(output.status.code(), Some(1));
    let status: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(status["status"], "BLOCKED", "{status:#}");
    assert!(status["error"].as_str().unwrap().contains("policy"), "{status:#}");
    let id = status["mission_id"].as_str().unwrap();
    let verify = gantry(dir.path(), &["verify", id]);
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
}

#[test]
fn policy_check_reports_json_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let clean = gantry(dir.path(), &["policy", "check", &fixture("clean-manifest.json")]);
    assert_eq!(clean.status.code(), Some(0), "{}", String::from_utf8_lossy(&clean.stdout));
    let report: Value = serde_json::from_slice(&clean.stdout).unwrap();
    assert_eq!(report["allowed"], true);

    let bad = gantry(dir.path(), &["policy", "check", &fixture("violating-manifest.json")]);
    assert_eq!(bad.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert_eq!(report["allowed"], false);
    let violation = &report["violations"][0];
    assert!(
        violation["rule"].as_str().is_some() && violation["file"] == "setup.sh" && violation["line"] == 2,
        "{report:#}"
    );

    let missing = gantry(dir.path(), &["policy", "check", "/nonexistent/manifest.json"]);
    assert_eq!(missing.status.code(), Some(2));
}

/// Every step of a finished mission has ended: none is left `running` with no end time.
fn assert_no_step_left_running(status: &Value) {
    for step in status["steps"].as_array().unwrap() {
        assert_ne!(step["status"], "running", "{status:#}");
        assert!(step["ended_at"].is_string(), "{status:#}");
    }
}

#[tokio::test]
async fn a_mission_killed_mid_build_reaches_a_final_status_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    // A slow audit keeps the mission in BUILDING; then the process running it is killed with SIGKILL.
    let mut child = Command::new(support::gantry_bin())
        .args(["build", "a slow page", "--manifest", &fixture("slow-manifest.json"), "--json"])
        .env("GANTRY_DATA_DIR", dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let id = loop {
        assert!(Instant::now() < deadline, "the mission never reached BUILDING");
        let list = gantry(dir.path(), &["missions"]);
        let text = String::from_utf8_lossy(&list.stdout).into_owned();
        if let Some(line) = text.lines().find(|l| l.contains("BUILDING")) {
            break line.split_whitespace().next().unwrap().to_owned();
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    child.kill().unwrap();
    child.wait().unwrap();

    let server = Server::start(dir.path()).await;
    let token = server.login().await;
    let status = server.wait_final(&token, &id, Duration::from_secs(60)).await;
    assert_eq!(status["status"], "FAILED", "{status:#}");
    assert_eq!(status["error"], "interrupted");
    assert_no_step_left_running(&status);
    let build = status["steps"].as_array().unwrap().iter().find(|s| s["name"] == "build").unwrap();
    assert_eq!(build["status"], "failed", "{status:#}");
    let verify = gantry(dir.path(), &["verify", &id]);
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
}

#[tokio::test]
async fn gantry_serve_killed_mid_mission_leaves_nothing_in_flight_after_restart() {
    let finals = ["DEPLOYED", "PR_OPENED", "SUCCESS", "BLOCKED", "FAILED", "TIMEOUT", "CANCELLED", "EXPIRED"];
    // SIGKILL the server right after it dispatched the build; a fast machine may finish the
    // mission first, so the kill is tried again until it lands while the mission is in flight.
    for round in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let mut server = Server::start(dir.path()).await;
        let token = server.login().await;
        let (_, first) = server
            .post(
                "/gantry/consult",
                Some(&token),
                json!({"message": "a kanban board for my team, Notion style"}),
            )
            .await;
        let id = first["mission_id"].as_str().unwrap().to_owned();
        let (code, consent) = server
            .post("/gantry/consult", Some(&token), json!({"message": "go ahead", "mission_id": id}))
            .await;
        assert_eq!(code, 202, "{consent}");
        server.kill();

        let seen = gantry(dir.path(), &["status", &id, "--json"]);
        let at_kill: Value = serde_json::from_slice(&seen.stdout).unwrap();
        let status_at_kill = at_kill["status"].as_str().unwrap().to_owned();
        if finals.contains(&status_at_kill.as_str()) {
            eprintln!("round {round}: the mission ended before the kill ({status_at_kill}); again");
            continue;
        }

        let server = Server::start(dir.path()).await;
        let token = server.login().await;
        let status = server.wait_final(&token, &id, Duration::from_secs(120)).await;
        let name = status["status"].as_str().unwrap();
        assert!(finals.contains(&name), "{status_at_kill} before the kill, still {status:#} after restart");
        assert!(
            name == "SUCCESS" || (name == "FAILED" && status["error"] == "interrupted"),
            "{status_at_kill} before the kill: {status:#}"
        );
        assert_no_step_left_running(&status);
        let verify = gantry(dir.path(), &["verify", &id]);
        assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
        return;
    }
    panic!("in five rounds the kill never landed while the mission was in flight");
}

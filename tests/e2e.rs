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

    // The preview serves the app on an origin of its own.
    let url = status["url"].as_str().unwrap();
    assert_eq!(url, server.preview_url(&id));
    let page = server.preview_client(&id).get(url).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let csp = page.headers().get("content-security-policy").unwrap().to_str().unwrap().to_owned();
    assert!(!csp.contains("sandbox") && csp.contains("connect-src 'self'"), "{csp}");
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
    assert_eq!(
        git(&repo, &["for-each-ref", "--format=%(refname)"]),
        format!("refs/heads/{branch}\nrefs/heads/main")
    );
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
async fn a_manifest_needs_no_prompt_and_names_the_mission() {
    let dir = tempfile::tempdir().unwrap();
    let output = gantry(
        dir.path(),
        &["build", "--manifest", &fixture("clean-manifest.json"), "--no-publish", "--no-deploy", "--json"],
    );
    let status: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    assert!(output.status.success(), "{status:#} {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(status["status"], "SUCCESS", "{status:#}");
    assert_eq!(status["title"], "hello-static", "{status:#}");
    let nothing = gantry(dir.path(), &["build"]);
    assert!(!nothing.status.success());
    assert!(String::from_utf8_lossy(&nothing.stderr).contains("<PROMPT>"), "clap names what is missing");
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

/// A built app from the clean fixture, then a server on the same data dir.
async fn served_fixture(dir: &Path, publish: bool) -> (Server, String, String) {
    let fixture_path = fixture("clean-manifest.json");
    let mut args = vec!["build", "a hello page", "--manifest", &fixture_path];
    if !publish {
        args.push("--no-publish");
    }
    let output = gantry(dir, &args);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    // No server ran: no invented link, a way to open it instead, and no metrics line on a terminal.
    let preview = stdout.lines().find(|l| l.starts_with("preview")).expect("a preview line");
    assert!(preview.contains("gantry serve") && !preview.contains("http"), "{stdout}");
    assert!(!stdout.contains("_aws") && !String::from_utf8_lossy(&output.stderr).contains("_aws"));
    let id = stdout
        .lines()
        .find_map(|l| l.strip_prefix("mission"))
        .map(|rest| rest.trim().to_owned())
        .expect("a mission line");
    let server = Server::start(dir).await;
    let token = server.login().await;
    (server, id, token)
}

#[tokio::test]
async fn a_preview_has_its_own_origin_and_no_way_into_gantry() {
    let dir = tempfile::tempdir().unwrap();
    let (server, id, token) = served_fixture(dir.path(), false).await;

    // The session cookie is host-only and same-site only.
    let login = server
        .client
        .post(format!("{}/gantry/auth", server.base))
        .json(&json!({"password": support::PASSWORD}))
        .send()
        .await
        .unwrap();
    let cookie = login.headers().get("set-cookie").unwrap().to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");
    let session = cookie.split(';').next().unwrap().to_owned();

    // The status names the preview's own origin, which serves the app.
    let (code, status) = server.get(&format!("/gantry/status/{id}"), Some(&token)).await;
    assert_eq!(code, 200);
    let url = server.preview_url(&id);
    assert_eq!(status["url"], url.as_str());
    let previews = server.preview_client(&id);
    let page = previews.get(&url).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.headers().get("set-cookie").is_none());
    assert!(page.text().await.unwrap().contains("Hello from Gantry"));

    // On the preview host, Gantry's API does not exist, with the session or without.
    for path in [format!("/gantry/status/{id}"), "/gantry/missions".to_owned(), "/".to_owned() + "health"] {
        let answer = previews
            .get(format!("{}{}", url.trim_end_matches('/'), path))
            .header("cookie", &session)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 404, "{path}");
        assert!(answer.headers().get("set-cookie").is_none());
        assert!(!answer.text().await.unwrap().contains(&id), "{path}");
    }
    let login_there = previews
        .post(format!("{url}gantry/auth"))
        .json(&json!({"password": support::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_ne!(login_there.status().as_u16(), 200);
    assert!(login_there.headers().get("set-cookie").is_none(), "no session is ever set for a preview host");

    // The old address redirects to the new origin; the page may frame previews.
    let no_redirects =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let old = no_redirects.get(format!("{}/preview/{id}/index.html", server.base)).send().await.unwrap();
    assert_eq!(old.status().as_u16(), 307);
    assert_eq!(old.headers()["location"], format!("{url}index.html").as_str());
    let index = server.client.get(format!("{}/", server.base)).send().await.unwrap();
    let csp = index.headers()["content-security-policy"].to_str().unwrap().to_owned();
    let port = server.base.rsplit(':').next().unwrap();
    assert!(csp.contains(&format!("frame-src http://*.localhost:{port}")), "{csp}");
}

#[tokio::test]
async fn the_delivery_is_a_repository_to_clone_and_a_zip_to_download() {
    let dir = tempfile::tempdir().unwrap();
    let (server, id, token) = served_fixture(dir.path(), true).await;
    let (code, status) = server.get(&format!("/gantry/status/{id}"), Some(&token)).await;
    assert_eq!(code, 200);
    let repo = status["repo"].as_str().expect("the repository's path is reported").to_owned();
    assert!(repo.starts_with(&dir.path().canonicalize().unwrap().to_string_lossy().into_owned()), "{repo}");
    let clone = status["git"]["clone"].as_str().unwrap().to_owned();
    assert!(clone.starts_with("git clone --branch gantry/") && clone.contains(&repo), "{clone}");
    assert!(status["git"]["push"].as_str().unwrap().contains("push"), "{status:#}");

    // The hint runs as printed (its words need no quoting here) and checks the app out.
    let words: Vec<&str> = clone.split_whitespace().collect();
    let cloned = Command::new(words[0]).args(&words[1..]).current_dir(dir.path()).output().unwrap();
    assert!(cloned.status.success(), "{}", String::from_utf8_lossy(&cloned.stderr));
    let checkout = dir.path().join(words.last().unwrap());
    assert!(std::fs::read_to_string(checkout.join("index.html")).unwrap().contains("Hello from Gantry"));
    // A plain clone works too: HEAD names a `main` that exists.
    let plain = Command::new("git")
        .args(["clone", "--quiet", &repo, "plain"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(plain.status.success(), "{}", String::from_utf8_lossy(&plain.stderr));
    assert!(dir.path().join("plain/README.md").exists());

    // `gantry status` says where it is and how to get it.
    let said = gantry(dir.path(), &["status", &id]);
    let text = String::from_utf8_lossy(&said.stdout);
    assert!(text.contains(&repo) && text.contains("git clone --branch"), "{text}");

    // The files, for the code view, and the zip download.
    let (code, files) = server.get(&format!("/gantry/missions/{id}/files"), Some(&token)).await;
    assert_eq!(code, 200, "{files}");
    let paths: Vec<&str> =
        files["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert!(paths.contains(&"index.html"), "{paths:?}");
    let zip = server
        .client
        .get(format!("{}/gantry/missions/{id}/download", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(zip.status().as_u16(), 200);
    assert_eq!(zip.headers()["content-type"], "application/zip");
    assert!(zip.headers()["content-disposition"].to_str().unwrap().starts_with("attachment; filename="));
    assert!(zip.bytes().await.unwrap().starts_with(b"PK\x03\x04"));
    let (code, _) = server.get(&format!("/gantry/missions/{id}/download"), None).await;
    assert_eq!(code, 401);
}

/// The fixture React + Vite + TypeScript app as a GantryManifest of the node stack.
fn react_fixture_manifest() -> Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/react-app");
    let mut files = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let relative = path.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
                files.push(json!({"path": relative, "content": std::fs::read_to_string(&path).unwrap()}));
            }
        }
    }
    json!({"project_name": "tally", "stack": "node", "files": files,
           "audit_command": "npm run build && npm test", "output_dir": "dist"})
}

#[tokio::test]
async fn a_node_app_is_built_offline_tested_and_its_built_output_deployed() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("tally.json");
    std::fs::write(&manifest, react_fixture_manifest().to_string()).unwrap();
    let data = dir.path().join("data");
    let output = gantry(
        &data,
        &["build", "a tally", "--manifest", manifest.to_str().unwrap(), "--no-publish", "--json"],
    );
    let status: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    assert!(output.status.success(), "{status:#} {}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(status["status"], "DEPLOYED", "{status:#}");
    let id = status["mission_id"].as_str().unwrap();

    // The preview is Vite's output, not the source: a built index.html and a bundle.
    let preview = data.join("previews").join(id);
    let index = std::fs::read_to_string(preview.join("index.html")).unwrap();
    assert!(index.contains("/assets/index-") && !index.contains("/src/main.tsx"), "{index}");
    let assets: Vec<String> = std::fs::read_dir(preview.join("assets"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(assets.iter().any(|a| a.ends_with(".js")), "{assets:?}");
    assert!(!preview.join("src").exists() && !preview.join("node_modules").exists());

    // The evidence lists every output file with its sha256, and the pack verifies.
    let pack = std::fs::read_to_string(data.join("evidence/evidence").join(id).join("pack.json")).unwrap();
    assert!(pack.contains("index.html") && pack.contains("\"sha256\""), "{pack}");
    let verify = gantry(&data, &["verify", id]);
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
}

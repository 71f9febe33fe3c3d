//! Cleanup as an operator meets it: `gantry cleanup` once (JSON summary, idempotent), and the
//! background run inside `gantry serve`, both configured by environment variables.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use support::{gantry_bin, Server};

fn cleanup(data_dir: &std::path::Path, idle_secs: &str) -> Value {
    let output = Command::new(gantry_bin())
        .arg("cleanup")
        .env("GANTRY_DATA_DIR", data_dir)
        .env("GANTRY_CONSULTATION_IDLE_SECS", idle_secs)
        .env_remove("GANTRY_POLICY")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

async fn start_consultation(server: &Server, token: &str) -> String {
    let (code, reply) = server.post("/gantry/consult", Some(token), json!({"message": "a todo app"})).await;
    assert_eq!(code, 200, "{reply}");
    reply["mission_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn gantry_cleanup_expires_an_idle_consultation_once_and_says_so_in_json() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path()).await;
    let token = server.login().await;
    let id = start_consultation(&server, &token).await;
    server.kill();

    let untouched = cleanup(dir.path(), "86400");
    assert_eq!(untouched["expired_consultations"], 0, "{untouched:#}");

    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let first = cleanup(dir.path(), "1");
    assert_eq!(first["expired_consultations"], 1, "{first:#}");
    assert_eq!(first["actions"][0]["rule"], "expire_consultation");
    assert_eq!(first["actions"][0]["mission_id"], id.as_str());
    assert_eq!(first["errors"], json!([]));

    let second = cleanup(dir.path(), "1");
    for count in [
        "expired_consultations",
        "reconciled_missions",
        "stopped_builds",
        "deleted_uploads",
        "pruned_previews",
        "pruned_work_dirs",
    ] {
        assert_eq!(second[count], 0, "{count} in {second:#}");
    }
    assert_eq!(second["actions"], json!([]));

    let status = Command::new(gantry_bin())
        .args(["status", &id, "--json"])
        .env("GANTRY_DATA_DIR", dir.path())
        .output()
        .unwrap();
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["status"], "EXPIRED");
}

#[tokio::test]
async fn gantry_serve_runs_cleanup_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("GANTRY_CLEANUP_INTERVAL_SECS", "1"), ("GANTRY_CONSULTATION_IDLE_SECS", "1")];
    let server = Server::start_with(dir.path(), &env).await;
    let token = server.login().await;
    let id = start_consultation(&server, &token).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, status) = server.get(&format!("/gantry/status/{id}"), Some(&token)).await;
        if status["status"] == "EXPIRED" {
            assert!(status["error"].as_str().unwrap_or_default().contains("expired"), "{status:#}");
            break;
        }
        assert!(Instant::now() < deadline, "the consultation never expired: {status:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

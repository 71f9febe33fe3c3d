//! Operational visibility, as an operator sees it: JSON logs at debug level in which every line of
//! a mission's work carries its id, one metrics line per finished mission, and no secret anywhere.

mod support;

use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use support::{gantry_bin, Server, PASSWORD};

/// Marks of a presigned URL's signature, ours (`signature=`) and S3's.
const SIGNATURE_MARKS: [&str; 4] = ["signature=", "sig=", "X-Amz-Signature", "X-Amz-Credential"];

fn data_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The mission id a log line carries: in the event's fields, its spans, or (for the EMF metrics
/// line) at the top level.
fn mission_ids(line: &Value) -> Vec<String> {
    let mut ids = Vec::new();
    let mut take = |v: &Value| {
        if let Some(id) = v["mission_id"].as_str() {
            ids.push(id.to_owned());
        }
    };
    take(line);
    take(&line["fields"]);
    take(&line["span"]);
    for span in line["spans"].as_array().into_iter().flatten() {
        take(span);
    }
    ids
}

fn in_mission_span(line: &Value) -> bool {
    line["spans"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|s| matches!(s["name"].as_str(), Some("mission" | "step")))
}

#[test]
fn every_log_line_of_a_build_carries_its_mission_id() {
    let dir = data_dir();
    let output = Command::new(gantry_bin())
        .args(["build", "a todo app with categories", "--no-publish", "--json"])
        .env("GANTRY_DATA_DIR", dir.path().join("data"))
        .env("GANTRY_LOG", "debug")
        .env("GANTRY_LOG_FORMAT", "json")
        .env("GANTRY_PASSWORD", PASSWORD)
        .env_remove("GANTRY_POLICY")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let status: Value = serde_json::from_str(&stdout).expect("stdout is the status object alone");
    assert_eq!(status["status"], "DEPLOYED", "{status:#}");
    let id = status["mission_id"].as_str().unwrap();

    let lines = json_lines(&stderr);
    assert!(lines.len() >= 10, "expected the debug log of a whole mission, got {}", lines.len());
    for line in &lines {
        let ids = mission_ids(line);
        assert_eq!(ids.len(), 1, "a line must name its mission exactly once: {line}");
        assert!(ids.iter().all(|i| i == id), "a line with another mission's id: {line}");
    }
    let finished =
        lines.iter().find(|l| l["fields"]["message"] == "mission finished").expect("a closing line");
    assert_eq!(
        finished["spans"].as_array().and_then(|s| s.last()).map(|s| &s["step"]),
        Some(&json!("finalize"))
    );

    let metrics: Vec<&Value> = lines.iter().filter(|l| l.get("_aws").is_some()).collect();
    assert_eq!(metrics.len(), 1, "one metrics line per finished mission");
    let emf = metrics[0];
    assert_eq!(emf["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Gantry");
    assert_eq!(emf["Outcome"], "DEPLOYED");
    assert_eq!(emf["Attempts"], status["attempts"]);
    assert!(emf["BuildMs"].is_u64() && emf["MissionDurationMs"].is_u64(), "{emf}");
    assert!(!stderr.contains(PASSWORD));
}

#[tokio::test]
async fn serve_logs_never_hold_the_password_a_token_or_an_upload_signature() {
    let dir = data_dir();
    let mut server =
        Server::start_with(dir.path(), &[("GANTRY_LOG", "debug"), ("GANTRY_LOG_FORMAT", "json")]).await;
    let token = server.login().await;

    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    let (code, upload) = server
        .post(
            "/gantry/uploads",
            Some(&token),
            json!({"content_type": "image/png", "content_length": png.len()}),
        )
        .await;
    assert_eq!(code, 200, "{upload}");
    let upload_url = upload["upload_url"].as_str().unwrap().to_owned();
    let signature = upload_url.split("signature=").nth(1).expect("a signed upload URL").to_owned();
    let put =
        server.client.put(&upload_url).header("content-type", "image/png").body(png).send().await.unwrap();
    assert_eq!(put.status().as_u16(), 200);

    let (code, first) = server
        .post(
            "/gantry/consult",
            Some(&token),
            json!({"message": "I need a todo app with categories, Spotify style", "image_key": upload["image_key"]}),
        )
        .await;
    assert_eq!(code, 200, "{first}");
    let id = first["mission_id"].as_str().unwrap().to_owned();
    let (code, consent) = server
        .post("/gantry/consult", Some(&token), json!({"message": "yes, build it", "mission_id": id}))
        .await;
    assert_eq!(code, 202, "{consent}");
    let status = server.wait_final(&token, &id, Duration::from_secs(120)).await;
    assert_eq!(status["status"], "SUCCESS", "{status:#}");
    let (code, _) = server.get("/gantry/metrics", Some(&token)).await;
    assert_eq!(code, 200);
    let port = server.base.rsplit(':').next().unwrap().to_owned();
    server.kill();

    let log = std::fs::read_to_string(dir.path().join(format!("serve-{port}.log"))).unwrap();
    for secret in [PASSWORD, token.as_str(), signature.as_str()] {
        assert!(!log.contains(secret), "a secret reached the log");
    }
    for mark in SIGNATURE_MARKS {
        assert!(!log.contains(mark), "an upload signature ({mark}) reached the log");
    }
    let lines = json_lines(&log);
    assert!(lines.iter().any(|l| l["spans"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|s| s["uri"].as_str().is_some_and(|u| u.starts_with("/gantry/uploads/")))));
    let mission_lines: Vec<&Value> = lines.iter().filter(|l| in_mission_span(l)).collect();
    assert!(mission_lines.len() >= 10, "the pipeline logged only {} lines", mission_lines.len());
    for line in mission_lines {
        let ids = mission_ids(line);
        assert!(!ids.is_empty() && ids.iter().all(|i| *i == id), "{line}");
    }
    let consult_lines: Vec<&Value> = lines
        .iter()
        .filter(|l| l["fields"]["mission_id"].as_str().is_some() && !in_mission_span(l))
        .collect();
    assert!(!consult_lines.is_empty(), "the consultation's own lines name the mission");
    assert!(consult_lines.iter().all(|l| l["fields"]["mission_id"] == id.as_str()));
}

//! The `builder` binary against a local HTTP server standing in for the presigned S3 URLs:
//! it GETs its job, runs the audit in the sandbox, PUTs the log, the output bundle of a passed
//! build and then the report, and exits 0 whenever it uploaded a report; without a reachable job
//! it exits non-zero. An audit that links its output to files outside the work dir uploads none
//! of them.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use gantry_aws_shape::BuilderTaskConfig;

#[derive(Default)]
struct Bucket {
    objects: Mutex<HashMap<String, (String, Vec<u8>)>>,
    /// The order of uploads, to check the report comes last.
    puts: Mutex<Vec<String>>,
}

async fn get_object(
    State(bucket): State<Arc<Bucket>>,
    Path(key): Path<String>,
) -> Result<Vec<u8>, StatusCode> {
    let objects = bucket.objects.lock().map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    objects.get(&key).map(|(_, body)| body.clone()).ok_or(StatusCode::NOT_FOUND)
}

async fn put_object(
    State(bucket): State<Arc<Bucket>>,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let content_type =
        headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    if let (Ok(mut objects), Ok(mut puts)) = (bucket.objects.lock(), bucket.puts.lock()) {
        objects.insert(key.clone(), (content_type, body.to_vec()));
        puts.push(key);
        StatusCode::OK
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

async fn serve(bucket: Arc<Bucket>) -> SocketAddr {
    let app = Router::new().route("/{*key}", get(get_object).put(put_object)).with_state(bucket);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

fn job(audit_command: &str) -> Value {
    job_with(
        audit_command,
        json!([{"path": "index.html", "content": "<!doctype html><title>hi</title>"}]),
        None,
    )
}

fn job_with(audit_command: &str, files: Value, output_dir: Option<&str>) -> Value {
    json!({
        "mission_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        "attempt": 1,
        "manifest": {
            "project_name": "hello",
            "stack": "static",
            "files": files,
            "audit_command": audit_command,
            "output_dir": output_dir
        },
        "limits": {"memory_mb": 512, "timeout_seconds": 60, "max_pids": 256}
    })
}

/// Runs the binary with the three URLs under `base` and a work root of the test's own.
async fn run_builder(base: &str) -> (Output, tempfile::TempDir) {
    let work = tempfile::tempdir().expect("a work root of this test's own");
    let binary = env!("CARGO_BIN_EXE_builder");
    let (job_url, report_url, log_url, output_url) = (
        format!("{base}/missions/m/build-1/job.json?X-Amz-Signature=j"),
        format!("{base}/missions/m/build-1/report.json?X-Amz-Signature=r"),
        format!("{base}/missions/m/build-1/log.txt?X-Amz-Signature=l"),
        format!("{base}/missions/m/build-1/output.json?X-Amz-Signature=o"),
    );
    let root = work.path().join("work");
    let output = tokio::task::spawn_blocking(move || {
        Command::new(binary)
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("GANTRY_BUILD_JOB_URL", job_url)
            .env("GANTRY_BUILD_REPORT_URL", report_url)
            .env("GANTRY_BUILD_LOG_URL", log_url)
            .env("GANTRY_BUILD_OUTPUT_URL", output_url)
            .env("GANTRY_BUILD_WORK_ROOT", root)
            .output()
            .expect("run the builder")
    })
    .await
    .expect("join");
    (output, work)
}

async fn build(audit_command: &str) -> (Output, Arc<Bucket>) {
    build_job(job(audit_command)).await
}

async fn build_job(job: Value) -> (Output, Arc<Bucket>) {
    let bucket = Arc::new(Bucket::default());
    let body = serde_json::to_vec(&job).expect("job JSON");
    bucket
        .objects
        .lock()
        .expect("bucket")
        .insert("missions/m/build-1/job.json".into(), ("application/json".into(), body));
    let addr = serve(bucket.clone()).await;
    let (output, _work) = run_builder(&format!("http://{addr}")).await;
    (output, bucket)
}

fn uploaded(bucket: &Bucket) -> (Value, String, String, Vec<String>) {
    let objects = bucket.objects.lock().expect("bucket");
    let (report_type, report) = objects.get("missions/m/build-1/report.json").cloned().expect("a report");
    let (log_type, log) = objects.get("missions/m/build-1/log.txt").cloned().expect("a log");
    assert_eq!((report_type.as_str(), log_type.as_str()), ("application/json", "text/plain"));
    let puts = bucket.puts.lock().expect("bucket").clone();
    (
        serde_json::from_slice(&report).expect("report JSON"),
        String::from_utf8_lossy(&log).into_owned(),
        report_type,
        puts,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_passing_audit_uploads_its_log_then_its_report_and_exits_zero() {
    let (output, bucket) = build("test -f index.html && echo audit-ok").await;
    assert!(output.status.success(), "{output:?}");
    let (report, log, _, puts) = uploaded(&bucket);
    assert_eq!(report["passed"], json!(true), "{report}");
    assert_eq!(report["exit_code"], json!(0));
    assert!(log.contains("audit-ok"), "{log}");
    assert_eq!(
        puts,
        ["missions/m/build-1/log.txt", "missions/m/build-1/output.json", "missions/m/build-1/report.json"]
    );
    let files = output_files(&bucket);
    assert_eq!(files, [("index.html".to_owned(), b"<!doctype html><title>hi</title>".to_vec())]);
}

/// The uploaded output bundle, decoded the way the deploy step decodes it.
fn output_files(bucket: &Bucket) -> Vec<(String, Vec<u8>)> {
    let objects = bucket.objects.lock().expect("bucket");
    let (content_type, bundle) =
        objects.get("missions/m/build-1/output.json").cloned().expect("an output bundle");
    assert_eq!(content_type, "application/json");
    gantry_pipeline::output_bundle::decode(&bundle)
        .expect("a valid bundle")
        .into_iter()
        .map(|f| (f.path, f.bytes))
        .collect()
}

/// Every uploaded byte, to check a secret appears in none of it.
fn everything_uploaded(bucket: &Bucket) -> String {
    let objects = bucket.objects.lock().expect("bucket");
    objects.values().map(|(_, body)| String::from_utf8_lossy(body).into_owned()).collect()
}

/// A secret dir outside the builder's work root, like a host's keys.
fn secret_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("secret dir");
    std::fs::write(dir.path().join("server.key"), "TOP-SECRET-KEY").expect("secret");
    dir
}

fn page_under_public() -> Value {
    json!([
        {"path": "public/index.html", "content": "<h1>hi</h1>"},
        {"path": "audit.py", "content": ""}
    ])
}

#[tokio::test(flavor = "multi_thread")]
async fn an_output_dir_swapped_for_a_symlink_uploads_no_output_and_no_secret() {
    let secret = secret_dir();
    let mut files = page_under_public();
    files[1]["content"] =
        format!("import os\nos.rename('public', 'x')\nos.symlink('{}', 'public')\n", secret.path().display())
            .into();
    let (output, bucket) = build_job(job_with("python3 audit.py", files, Some("public"))).await;

    assert!(output.status.success(), "{output:?}");
    let (report, log, _, puts) = uploaded(&bucket);
    assert_eq!(report["passed"], json!(false), "{report}");
    assert!(log.contains("output refused"), "{log}");
    assert!(!puts.iter().any(|key| key.ends_with("output.json")), "{puts:?}");
    assert!(!everything_uploaded(&bucket).contains("TOP-SECRET-KEY"));
}

#[tokio::test(flavor = "multi_thread")]
async fn symlinked_and_hard_linked_files_are_not_uploaded() {
    let secret = secret_dir();
    let key = secret.path().join("server.key");
    let mut files = page_under_public();
    files[1]["content"] = format!(
        "import os, shutil\n\
         os.symlink('{key}', 'public/key.txt')\n\
         os.symlink('{dir}', 'public/keys')\n\
         try:\n    os.link('{key}', 'public/linked.txt')\nexcept OSError:\n    pass\n\
         shutil.copy('public/index.html', 'public/page.html')\n\
         os.link('public/page.html', 'public/again.html')\n",
        key = key.display(),
        dir = secret.path().display()
    )
    .into();
    let (output, bucket) = build_job(job_with("python3 audit.py", files, Some("public"))).await;

    assert!(output.status.success(), "{output:?}");
    let (report, _, _, _) = uploaded(&bucket);
    assert_eq!(report["passed"], json!(true), "{report}");
    let names: Vec<String> = output_files(&bucket).into_iter().map(|(path, _)| path).collect();
    assert_eq!(names, ["index.html"]);
    assert!(!everything_uploaded(&bucket).contains("TOP-SECRET-KEY"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_audit_is_a_report_too_and_exits_zero() {
    let (output, bucket) = build("echo the-audit-broke; exit 3").await;
    assert!(output.status.success(), "a failed audit is data, not a crash: {output:?}");
    let (report, log, _, _) = uploaded(&bucket);
    assert_eq!(report["passed"], json!(false), "{report}");
    assert_eq!(report["exit_code"], json!(3));
    assert!(report["log_tail"].as_str().is_some_and(|t| t.contains("the-audit-broke")), "{report}");
    assert!(log.contains("the-audit-broke"));
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_reachable_job_it_exits_non_zero() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address");
    let (output, _work) = run_builder(&format!("http://{closed}")).await;
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot fetch the build job"), "{stderr}");
    assert!(!stderr.contains("X-Amz-Signature"), "presigned credentials stay out of the log: {stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_job_exits_non_zero_and_uploads_nothing() {
    let bucket = Arc::new(Bucket::default());
    let addr = serve(bucket.clone()).await;
    let (output, _work) = run_builder(&format!("http://{addr}")).await;
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(bucket.puts.lock().expect("bucket").is_empty());
}

#[test]
fn the_state_machine_passes_exactly_the_variables_the_builder_requires() {
    let definition: Value =
        serde_json::from_str(include_str!("../../../statemachine/mission.asl.json")).expect("ASL JSON");
    let overrides = &definition["States"]["Build"]["Parameters"]["Overrides"]["ContainerOverrides"][0];
    let names: Vec<&str> = overrides["Environment"]
        .as_array()
        .expect("Environment")
        .iter()
        .filter_map(|e| e["Name"].as_str())
        .collect();
    assert_eq!(names, BuilderTaskConfig::REQUIRED);
}

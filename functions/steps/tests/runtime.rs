//! The `steps` binary through a local Lambda Runtime API: a step's failure reaches Lambda as an
//! error whose `errorType` is the name the state machine's Retry and Catch match.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::{mpsc, Mutex};

struct Runtime {
    events: Mutex<mpsc::Receiver<(String, Value)>>,
    /// (request id, "response" or "error", body)
    answers: mpsc::Sender<(String, &'static str, Value)>,
}

async fn next(State(runtime): State<Arc<Runtime>>) -> Response {
    let Some((id, event)) = runtime.events.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let mut headers = HeaderMap::new();
    let deadline = (chrono::Utc::now().timestamp_millis() + 60_000).to_string();
    for (name, value) in [
        ("lambda-runtime-aws-request-id", id.as_str()),
        ("lambda-runtime-deadline-ms", deadline.as_str()),
        ("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:123456789012:function:finalize"),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
    (headers, axum::Json(event)).into_response()
}

async fn answer(runtime: &Runtime, id: String, kind: &'static str, body: String) -> StatusCode {
    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    let _ = runtime.answers.send((id, kind, value)).await;
    StatusCode::ACCEPTED
}

struct Binary(Child);

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn step_failures_carry_their_state_machine_error_names() {
    let (event_tx, event_rx) = mpsc::channel(4);
    let (answer_tx, mut answers) = mpsc::channel(4);
    let runtime = Arc::new(Runtime { events: Mutex::new(event_rx), answers: answer_tx });
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(|State(r): State<Arc<Runtime>>, Path(id): Path<String>, body: String| async move {
                answer(&r, id, "response", body).await
            }),
        )
        .route(
            "/2018-06-01/runtime/invocation/{id}/error",
            post(|State(r): State<Arc<Runtime>>, Path(id): Path<String>, body: String| async move {
                answer(&r, id, "error", body).await
            }),
        )
        .with_state(runtime);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    // Nothing listens here, so every AWS call fails to connect: a transient failure.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address");
    let child = Command::new(env!("CARGO_BIN_EXE_steps"))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "finalize")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_ENDPOINT_URL", format!("http://{closed}"))
        .env("GANTRY_STEP", "finalize")
        .env("GANTRY_TABLE", "missions")
        .env("GANTRY_ARTIFACT_BUCKET", "artifacts")
        .env("GANTRY_EVIDENCE_BUCKET", "evidence")
        .env("GANTRY_SIGNING_KEY_ID", "alias/gantry-evidence")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the steps binary");
    let _binary = Binary(child);

    let mut invoke = async |id: &str, event: Value| {
        event_tx.send((id.to_owned(), event)).await.expect("queue the event");
        let answer =
            tokio::time::timeout(Duration::from_secs(90), answers.recv()).await.expect("an answer in time");
        let (answered, kind, body) = answer.expect("the runtime API is open");
        assert_eq!(answered, id);
        (kind, body)
    };

    let (kind, body) = invoke("not-a-state", json!({"hello": "world"})).await;
    assert_eq!(kind, "error", "{body}");
    assert_eq!(body["errorType"], json!("Gantry.BadState"), "{body}");

    let state = json!({
        "mission_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        "deploy": false,
        "publish": false,
        "outcome": "SUCCESS"
    });
    let (kind, body) = invoke("unreachable-store", state).await;
    assert_eq!(kind, "error", "{body}");
    assert_eq!(body["errorType"], json!("Gantry.Transient"), "retried by the state machine: {body}");
}

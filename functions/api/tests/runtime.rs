//! The `api` binary as Lambda runs it: a local Lambda Runtime API (`invocation/next`,
//! `invocation/{id}/response`, `/error`) hands it API Gateway HTTP API v2 events, and its
//! adapters talk to moto (DynamoDB, S3, Secrets Manager), configured only through the
//! environment the template sets.

#[path = "../../../shared/aws/tests/support/mod.rs"]
mod support;

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

const PASSWORD: &str = "correct horse battery staple";
const WAIT: Duration = Duration::from_secs(60);

/// What the binary sent back for one invocation.
#[derive(Debug)]
enum Answer {
    Response(String, Value),
    Error(String, Value),
    InitError(Value),
}

struct Runtime {
    events: Mutex<mpsc::Receiver<(String, Value)>>,
    answers: mpsc::Sender<Answer>,
}

async fn next(State(runtime): State<Arc<Runtime>>) -> Response {
    let Some((id, event)) = runtime.events.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let mut headers = HeaderMap::new();
    let deadline = chrono::Utc::now().timestamp_millis() + 30_000;
    for (name, value) in [
        ("lambda-runtime-aws-request-id", id.clone()),
        ("lambda-runtime-deadline-ms", deadline.to_string()),
        ("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:123456789012:function:api".into()),
        ("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000;Sampled=0".into()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    (headers, axum::Json(event)).into_response()
}

async fn respond(State(runtime): State<Arc<Runtime>>, Path(id): Path<String>, body: String) -> StatusCode {
    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    let _ = runtime.answers.send(Answer::Response(id, value)).await;
    StatusCode::ACCEPTED
}

async fn error(State(runtime): State<Arc<Runtime>>, Path(id): Path<String>, body: String) -> StatusCode {
    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    let _ = runtime.answers.send(Answer::Error(id, value)).await;
    StatusCode::ACCEPTED
}

async fn init_error(State(runtime): State<Arc<Runtime>>, body: String) -> StatusCode {
    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    let _ = runtime.answers.send(Answer::InitError(value)).await;
    StatusCode::ACCEPTED
}

/// The fake Runtime API: returns its address, the event sender and the answer receiver.
async fn runtime_api() -> (std::net::SocketAddr, mpsc::Sender<(String, Value)>, mpsc::Receiver<Answer>) {
    let (event_tx, event_rx) = mpsc::channel(8);
    let (answer_tx, answer_rx) = mpsc::channel(8);
    let runtime = Arc::new(Runtime { events: Mutex::new(event_rx), answers: answer_tx });
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(respond))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(runtime);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, event_tx, answer_rx)
}

/// An API Gateway HTTP API (payload format 2.0) request on the `$default` stage.
fn http_event(method: &str, path: &str, headers: Value, body: Option<Value>) -> Value {
    let mut all_headers = json!({
        "host": "abc123.execute-api.us-east-1.amazonaws.com",
        "user-agent": "gantry-test",
        "x-forwarded-proto": "https"
    });
    if let (Some(all), Some(extra)) = (all_headers.as_object_mut(), headers.as_object()) {
        all.extend(extra.clone());
    }
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "gantry-test"
            },
            "requestId": "request-1",
            "routeKey": "$default",
            "stage": "$default",
            "time": "01/Dec/2026:19:00:00 +0000",
            "timeEpoch": 1_796_151_600_000_i64
        },
        "body": body.map(|b| b.to_string()),
        "isBase64Encoded": false
    })
}

/// The answer's status and JSON body.
fn http_answer(answer: &Value) -> (u64, Value) {
    let status = answer["statusCode"].as_u64().expect("a statusCode");
    let text = answer["body"].as_str().unwrap_or_default();
    let text = if answer["isBase64Encoded"] == json!(true) {
        use base64::Engine as _;
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(text).expect("base64 body"))
            .expect("UTF-8 body")
    } else {
        text.to_owned()
    };
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

struct Binary(Child);

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn invoke(
    events: &mpsc::Sender<(String, Value)>,
    answers: &mut mpsc::Receiver<Answer>,
    id: &str,
    event: Value,
) -> (u64, Value) {
    events.send((id.to_owned(), event)).await.expect("queue the event");
    let answer = tokio::time::timeout(WAIT, answers.recv()).await.expect("the binary answers in time");
    match answer {
        Some(Answer::Response(answered, value)) => {
            assert_eq!(answered, id);
            http_answer(&value)
        }
        Some(Answer::Error(answered, value)) => panic!("invocation {answered} failed: {value}"),
        Some(Answer::InitError(value)) => panic!("the binary could not start: {value}"),
        None => panic!("the runtime API closed"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_binary_answers_http_api_events_through_the_runtime_api() {
    let moto = support::moto();
    let config = moto.sdk_config();
    let (table, artifacts, evidence) =
        (support::unique("missions"), support::unique("artifacts"), support::unique("evidence"));
    support::create_mission_table(&config, &table).await;
    support::create_artifact_bucket(&config, &artifacts).await;
    support::create_evidence_bucket(&config, &evidence).await;
    let hash = gantry_api::auth::hash_password(PASSWORD).expect("hash the password");
    let secret = aws_sdk_secretsmanager::Client::new(&config)
        .create_secret()
        .name(support::unique("gantry"))
        .secret_string(json!({"password_hash": hash, "token_key": "k".repeat(48)}).to_string())
        .send()
        .await
        .expect("create the secret");
    let secret_arn = secret.arn().expect("secret ARN").to_owned();

    let (runtime, events, mut answers) = runtime_api().await;
    let child = Command::new(env!("CARGO_BIN_EXE_api"))
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("AWS_LAMBDA_RUNTIME_API", runtime.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "api")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", support::REGION)
        .env("AWS_ACCESS_KEY_ID", support::ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", support::SECRET_KEY)
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .env("GANTRY_TABLE", &table)
        .env("GANTRY_ARTIFACT_BUCKET", &artifacts)
        .env("GANTRY_EVIDENCE_BUCKET", &evidence)
        .env("GANTRY_STATE_MACHINE_ARN", "arn:aws:states:us-east-1:123456789012:stateMachine:gantry-mission")
        .env("GANTRY_SECRET_ARN", &secret_arn)
        .env("GANTRY_SIGNING_KEY_ID", "alias/gantry-evidence")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the api binary");
    let _binary = Binary(child);

    let (status, health) =
        invoke(&events, &mut answers, "health", http_event("GET", "/health", json!({}), None)).await;
    assert_eq!(status, 200, "{health}");
    assert_eq!((health["status"].clone(), health["mode"].clone()), (json!("ok"), json!("aws")));

    let (status, refused) =
        invoke(&events, &mut answers, "anonymous", http_event("GET", "/gantry/missions", json!({}), None))
            .await;
    assert_eq!(status, 401, "{refused}");

    let login = http_event(
        "POST",
        "/gantry/auth",
        json!({"content-type": "application/json"}),
        Some(json!({"password": PASSWORD})),
    );
    let (status, session) = invoke(&events, &mut answers, "login", login).await;
    assert_eq!(status, 200, "{session}");
    let token = session["token"].as_str().expect("a session token");

    let listing =
        http_event("GET", "/gantry/missions", json!({"authorization": format!("Bearer {token}")}), None);
    let (status, missions) = invoke(&events, &mut answers, "missions", listing).await;
    assert_eq!(status, 200, "{missions}");
    assert_eq!(missions["missions"], json!([]), "a fresh table has no missions");

    let wrong = http_event(
        "POST",
        "/gantry/auth",
        json!({"content-type": "application/json"}),
        Some(json!({"password": "not it"})),
    );
    let (status, _) = invoke(&events, &mut answers, "wrong-password", wrong).await;
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_variable_stops_the_binary_naming_every_missing_one() {
    let (runtime, _events, mut answers) = runtime_api().await;
    let child = Command::new(env!("CARGO_BIN_EXE_api"))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", runtime.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "api")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("GANTRY_TABLE", "t")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the api binary");
    let output = tokio::task::spawn_blocking(move || child.wait_with_output()).await.expect("join");
    let output = output.expect("the binary exits");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for name in [
        "GANTRY_ARTIFACT_BUCKET",
        "GANTRY_EVIDENCE_BUCKET",
        "GANTRY_STATE_MACHINE_ARN",
        "GANTRY_SECRET_ARN",
        "GANTRY_SIGNING_KEY_ID",
    ] {
        assert!(stderr.contains(name), "{name} in {stderr}");
    }
    assert!(answers.try_recv().is_err(), "nothing was invoked");
}

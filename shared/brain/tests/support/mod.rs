//! Local fake model servers speaking the real wire formats, scripted and recording every
//! request: OpenAI chat completions (`POST /v1/chat/completions`) and Bedrock Converse
//! (`POST /model/{modelId}/converse`, SigV4-signed, errors named by `x-amzn-ErrorType`).
//! Malformed requests are refused the way the providers refuse them.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};

use gantry_domain::consultation::Brief;

/// One scripted answer. `Answer` is shaped for whichever mode the request used (text for
/// native structured output, a tool call for the forced tool).
#[derive(Debug, Clone)]
pub enum Scripted {
    Answer {
        value: Value,
        input: u64,
        output: u64,
        cache_read: u64,
    },
    /// A text answer that is not JSON.
    Text(String),
    /// An answer cut off at the token limit.
    Truncated(String),
    /// An error: status, error type (Bedrock's `x-amzn-ErrorType`, OpenAI's `error.type`),
    /// message, and a `Retry-After` in seconds.
    Error {
        status: u16,
        kind: &'static str,
        message: String,
        retry_after: Option<u64>,
    },
    /// Refuses native structured output as the providers do; a tool-mode request gets `then`.
    RejectNative {
        message: String,
    },
}

pub fn answer(value: Value) -> Scripted {
    Scripted::Answer { value, input: 1000, output: 500, cache_read: 0 }
}

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Flavour {
    OpenAi,
    Bedrock,
}

#[derive(Clone)]
struct Shared {
    flavour: Flavour,
    script: Arc<Mutex<VecDeque<Scripted>>>,
    requests: Arc<Mutex<Vec<Recorded>>>,
    api_key: Option<String>,
}

pub struct Fake {
    pub url: String,
    shared: Shared,
}

impl Fake {
    pub async fn start(flavour: Flavour, api_key: Option<&str>) -> Fake {
        let shared = Shared {
            flavour,
            script: Arc::default(),
            requests: Arc::default(),
            api_key: api_key.map(str::to_owned),
        };
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        let url = match flavour {
            Flavour::OpenAi => format!("http://{addr}/v1"),
            Flavour::Bedrock => format!("http://{addr}"),
        };
        Fake { url, shared }
    }

    pub fn script(&self, answers: impl IntoIterator<Item = Scripted>) {
        self.shared.script.lock().unwrap().extend(answers);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    pub fn left(&self) -> usize {
        self.shared.script.lock().unwrap().len()
    }
}

fn openai_error(status: u16, kind: &str, message: &str, retry_after: Option<u64>) -> Box<Response> {
    let mut headers = HeaderMap::new();
    if let Some(secs) = retry_after {
        headers.insert("retry-after", secs.to_string().parse().unwrap());
    }
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": kind}});
    Box::new((StatusCode::from_u16(status).unwrap(), headers, axum::Json(body)).into_response())
}

fn bedrock_error(status: u16, kind: &str, message: &str) -> Box<Response> {
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-amzn-errortype",
        format!("{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/").parse().unwrap(),
    );
    headers.insert("x-amzn-requestid", "00000000-0000-0000-0000-000000000000".parse().unwrap());
    Box::new(
        (StatusCode::from_u16(status).unwrap(), headers, axum::Json(json!({"message": message})))
            .into_response(),
    )
}

/// What the request asked for, or why it is malformed.
fn check_openai(
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &Value,
    key: Option<&str>,
) -> Result<bool, Box<Response>> {
    if method != Method::POST || path != "/v1/chat/completions" {
        return Err(openai_error(404, "not_found", "unknown route", None));
    }
    if let Some(key) = key {
        let sent = headers.get("authorization").and_then(|v| v.to_str().ok());
        if sent != Some(&format!("Bearer {key}")) {
            return Err(openai_error(401, "invalid_api_key", "Incorrect API key provided", None));
        }
    }
    let bad = |m: &str| Err(openai_error(400, "invalid_request_error", m, None));
    if body.get("model").and_then(Value::as_str).is_none_or(str::is_empty) {
        return bad("you must provide a model parameter");
    }
    let Some(messages) = body.get("messages").and_then(Value::as_array).filter(|m| !m.is_empty()) else {
        return bad("messages must be a non-empty array");
    };
    for m in messages {
        let role = m.get("role").and_then(Value::as_str).unwrap_or_default();
        if !["system", "user", "assistant"].contains(&role) || m.get("content").is_none() {
            return bad("each message needs a role and content");
        }
        if let Some(parts) = m.get("content").and_then(Value::as_array) {
            for part in parts {
                match part.get("type").and_then(Value::as_str) {
                    Some("text") if part.get("text").is_some_and(Value::is_string) => {}
                    Some("image_url")
                        if role == "user"
                            && part
                                .pointer("/image_url/url")
                                .and_then(Value::as_str)
                                .is_some_and(|u| u.starts_with("data:image/")) => {}
                    _ => return bad("invalid content part"),
                }
            }
        }
    }
    let native = body.pointer("/response_format/type").and_then(Value::as_str) == Some("json_schema");
    let tool = body.get("tools").is_some();
    match (native, tool) {
        (true, false) if body.pointer("/response_format/json_schema/schema/type").is_some() => Ok(true),
        (false, true) => {
            let name = body.pointer("/tools/0/function/name").and_then(Value::as_str);
            let forced = body.pointer("/tool_choice/function/name").and_then(Value::as_str);
            if name.is_none() || name != forced || body.pointer("/tools/0/function/parameters/type").is_none()
            {
                return bad("tool_choice must name a declared function with parameters");
            }
            Ok(false)
        }
        _ => bad("expected exactly one of response_format json_schema or tools"),
    }
}

fn check_bedrock(
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &Value,
) -> Result<bool, Box<Response>> {
    let bad = |m: &str| Err(bedrock_error(400, "ValidationException", m));
    let model = path.strip_prefix("/model/").and_then(|rest| rest.strip_suffix("/converse"));
    if method != Method::POST || model.is_none_or(str::is_empty) {
        return Err(bedrock_error(404, "UnknownOperationException", "unknown operation"));
    }
    let signed = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("AWS4-HMAC-SHA256 Credential="));
    if !signed || headers.get("x-amz-date").is_none() {
        return Err(bedrock_error(403, "AccessDeniedException", "missing SigV4 authentication"));
    }
    let Some(messages) = body.get("messages").and_then(Value::as_array).filter(|m| !m.is_empty()) else {
        return bad("messages must not be empty");
    };
    let mut expected = "user";
    for m in messages {
        if m.get("role").and_then(Value::as_str) != Some(expected) {
            return bad("A conversation must alternate between user and assistant roles, starting with user");
        }
        for block in m.get("content").and_then(Value::as_array).into_iter().flatten() {
            if let Some(image) = block.get("image") {
                let format_ok = image
                    .get("format")
                    .and_then(Value::as_str)
                    .is_some_and(|f| ["png", "jpeg", "gif", "webp"].contains(&f));
                let bytes_ok =
                    image.pointer("/source/bytes").and_then(Value::as_str).is_some_and(|b| !b.is_empty());
                if expected != "user" || !format_ok || !bytes_ok {
                    return bad("invalid image block");
                }
            } else if block.get("text").is_none() {
                return bad("unsupported content block");
            }
        }
        expected = if expected == "user" { "assistant" } else { "user" };
    }
    if expected != "assistant" {
        return bad("the last message must be from the user");
    }
    if body.pointer("/inferenceConfig/maxTokens").and_then(Value::as_u64).is_none() {
        return bad("inferenceConfig.maxTokens is required by this fake");
    }
    let native = body.pointer("/outputConfig/textFormat").is_some();
    let tool = body.get("toolConfig").is_some();
    match (native, tool) {
        (true, false) => {
            let format = body.pointer("/outputConfig/textFormat").unwrap();
            let schema = format.pointer("/structure/jsonSchema/schema").and_then(Value::as_str);
            if format.get("type").and_then(Value::as_str) != Some("json_schema")
                || schema.and_then(|s| serde_json::from_str::<Value>(s).ok()).is_none()
            {
                return bad("outputConfig.textFormat needs type json_schema and a JSON schema string");
            }
            Ok(true)
        }
        (false, true) => {
            let spec = body.pointer("/toolConfig/tools/0/toolSpec");
            let name = spec.and_then(|s| s.get("name")).and_then(Value::as_str);
            let forced = body.pointer("/toolConfig/toolChoice/tool/name").and_then(Value::as_str);
            if name.is_none()
                || name != forced
                || spec.and_then(|s| s.pointer("/inputSchema/json/type")).is_none()
            {
                return bad("toolChoice.tool must name a declared tool with an inputSchema");
            }
            Ok(false)
        }
        _ => bad("expected exactly one of outputConfig or toolConfig"),
    }
}

async fn handle(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return match shared.flavour {
            Flavour::OpenAi => *openai_error(400, "invalid_request_error", "the body is not JSON", None),
            Flavour::Bedrock => *bedrock_error(400, "SerializationException", "the body is not JSON"),
        };
    };
    shared.requests.lock().unwrap().push(Recorded {
        method: method.to_string(),
        path: path.clone(),
        headers: headers.clone(),
        body: body.clone(),
    });
    let native = match shared.flavour {
        Flavour::OpenAi => check_openai(&method, &path, &headers, &body, shared.api_key.as_deref()),
        Flavour::Bedrock => check_bedrock(&method, &path, &headers, &body),
    };
    let native = match native {
        Ok(native) => native,
        Err(refusal) => return *refusal,
    };
    let next = shared.script.lock().unwrap().pop_front();
    let Some(next) = next else {
        return match shared.flavour {
            Flavour::OpenAi => *openai_error(500, "server_error", "the fake's script ran out", None),
            Flavour::Bedrock => *bedrock_error(500, "InternalServerException", "the fake's script ran out"),
        };
    };
    let tool_name = match shared.flavour {
        Flavour::OpenAi => body.pointer("/tools/0/function/name"),
        Flavour::Bedrock => body.pointer("/toolConfig/tools/0/toolSpec/name"),
    }
    .and_then(Value::as_str)
    .unwrap_or("answer")
    .to_owned();
    match (shared.flavour, next) {
        (Flavour::OpenAi, Scripted::RejectNative { message }) if native => {
            *openai_error(400, "invalid_request_error", &message, None)
        }
        (Flavour::Bedrock, Scripted::RejectNative { message }) if native => {
            *bedrock_error(400, "ValidationException", &message)
        }
        (_, Scripted::RejectNative { .. }) => panic!("RejectNative scripted for a tool-mode request"),
        (Flavour::OpenAi, Scripted::Error { status, kind, message, retry_after }) => {
            *openai_error(status, kind, &message, retry_after)
        }
        (Flavour::Bedrock, Scripted::Error { status, kind, message, .. }) => {
            *bedrock_error(status, kind, &message)
        }
        (Flavour::OpenAi, scripted) => {
            let (message, finish, usage) = match scripted {
                Scripted::Answer { value, input, output, cache_read } if native => (
                    json!({"role": "assistant", "content": value.to_string()}),
                    "stop",
                    (input, output, cache_read),
                ),
                Scripted::Answer { value, input, output, cache_read } => (
                    json!({"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": tool_name, "arguments": value.to_string()}}]}),
                    "tool_calls",
                    (input, output, cache_read),
                ),
                Scripted::Text(text) => (json!({"role": "assistant", "content": text}), "stop", (100, 50, 0)),
                Scripted::Truncated(text) => {
                    (json!({"role": "assistant", "content": text}), "length", (100, 50, 0))
                }
                _ => unreachable!(),
            };
            let body = json!({
                "id": "chatcmpl-fake", "object": "chat.completion", "created": 1_800_000_000u64,
                "model": body["model"],
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": {"prompt_tokens": usage.0 + usage.2, "completion_tokens": usage.1,
                          "total_tokens": usage.0 + usage.1 + usage.2,
                          "prompt_tokens_details": {"cached_tokens": usage.2}}
            });
            (StatusCode::OK, axum::Json(body)).into_response()
        }
        (Flavour::Bedrock, scripted) => {
            let (content, stop, usage) = match scripted {
                Scripted::Answer { value, input, output, cache_read } if native => {
                    (json!([{"text": value.to_string()}]), "end_turn", (input, output, cache_read))
                }
                Scripted::Answer { value, input, output, cache_read } => (
                    json!([{"toolUse": {"toolUseId": "tooluse_fake1", "name": tool_name, "input": value}}]),
                    "tool_use",
                    (input, output, cache_read),
                ),
                Scripted::Text(text) => (json!([{"text": text}]), "end_turn", (100, 50, 0)),
                Scripted::Truncated(text) => (json!([{"text": text}]), "max_tokens", (100, 50, 0)),
                _ => unreachable!(),
            };
            let body = json!({
                "output": {"message": {"role": "assistant", "content": content}},
                "stopReason": stop,
                "usage": {"inputTokens": usage.0, "outputTokens": usage.1, "totalTokens": usage.0 + usage.1 + usage.2,
                          "cacheReadInputTokens": usage.2, "cacheWriteInputTokens": 0},
                "metrics": {"latencyMs": 42}
            });
            (StatusCode::OK, [("content-type", "application/json")], body.to_string()).into_response()
        }
    }
}

/// A 1×1 PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00,
    0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05,
    0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42,
    0x60, 0x82,
];

/// A consultation answer.
pub fn consultation(status: &str, reply: &str, features: &[&str]) -> Value {
    json!({
        "status": status, "reply": reply, "speech": reply,
        "question": if status == "question" { reply } else { "" },
        "title": "Chores", "features": features, "stack": "static", "theme": "",
        "design_target": "", "confidence": 0.8
    })
}

/// A static page whose audit passes only when the page says `fixed`.
pub fn page_manifest(marker: &str) -> Value {
    json!({
        "notes": format!("a page saying {marker}"),
        "project_name": "chores",
        "stack": "static",
        "files": [{"path": "index.html", "content": format!("<!doctype html><title>Chores</title><h1>{marker}</h1>\n")}],
        "audit_command": "test -f index.html && grep -q fixed index.html",
        "run_command": "",
        "output_dir": ""
    })
}

/// The brief both model brains' draft tests send: a chores page.
pub fn chores_brief() -> Brief {
    Brief {
        title: Some("Chores".into()),
        features: vec!["list chores".into()],
        notes: vec!["a chores page".into()],
        ..Brief::default()
    }
}
